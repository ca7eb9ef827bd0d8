// Train / validation / test splits of prepared interactions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "twotower/data/dataset.h"

namespace twotower {

enum class SplitMethod { kLeaveLastOut, kTime };

/// "loo" / "leave-last-out" or "time"; throws listing the choices.
SplitMethod parse_split_method(const std::string& name);

struct SplitOptions {
  SplitMethod method = SplitMethod::kLeaveLastOut;
  // Time split by fractions of interactions (train, valid; test is the rest), used when no
  // cutoff is given. Allowed: each in (0, 1), train + valid < 1.
  double train_fraction = 0.8;
  double valid_fraction = 0.1;
  // Time split by cutoffs in seconds: valid from `valid_from`, test from `test_from`.
  std::optional<int64_t> valid_from, test_from;
};

/// Per user, interactions ordered by (timestamp, row index): the last is test, the one before
/// it valid, the rest train. A user with 2 interactions gets train + test (no valid), a user
/// with 1 only train, so every evaluated user has at least one training interaction.
/// Fills in.split; returns the description written to splits.json.
nlohmann::json leave_last_out(Interactions& in, int64_t num_users);

/// Global time cutoffs: train t < valid_from <= valid t < test_from <= test t. From fractions,
/// valid_from is the timestamp at rank floor(train_fraction * n) of all timestamps sorted and
/// test_from the one at floor((train_fraction + valid_fraction) * n), so ties at a cutoff fall
/// on the later side and never straddle it. Fills in.split; returns the splits.json description.
nlohmann::json time_split(Interactions& in, const SplitOptions& options);

/// Runs the method of `options`, then checks that validation and test are non-empty and throws
/// one sentence naming the remedy otherwise.
nlohmann::json split_interactions(Interactions& in, int64_t num_users, const SplitOptions& options);

/// "2014-01-31" (UTC midnight), "2014-01-31T12:00:00" (UTC) or integer seconds since epoch.
int64_t parse_cutoff(const std::string& text, const std::string& flag);
/// Seconds since epoch as "YYYY-MM-DDTHH:MM:SSZ".
std::string format_utc(int64_t seconds);

}  // namespace twotower
