#include "twotower/data/splits.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "twotower/common/error.h"
#include "twotower/common/text.h"
#include "twotower/data/user_rows.h"

namespace twotower {
namespace {

nlohmann::json split_counts(const Interactions& in) {
  int64_t counts[3] = {0, 0, 0};
  for (Split s : in.split) ++counts[static_cast<int>(s)];
  return {{"train", counts[0]}, {"valid", counts[1]}, {"test", counts[2]}};
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

SplitMethod parse_split_method(const std::string& name) {
  if (name == "loo" || name == "leave-last-out" || name == "leave_last_out") return SplitMethod::kLeaveLastOut;
  if (name == "time") return SplitMethod::kTime;
  fail("--split: got \"", name, "\", expected loo (per-user leave-last-out) or time (global cutoffs)");
}

int64_t parse_cutoff(const std::string& text, const std::string& flag) {
  int64_t seconds = 0;
  if (parse_int64(text, &seconds)) return seconds;
  int y = 0, m = 0, d = 0, hh = 0, mm = 0, ss = 0;
  char tail = 0;
  int n = std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d", &y, &m, &d, &tail, &hh, &mm, &ss);
  bool date_only = n == 3 && text.size() == 10;
  bool date_time = n == 7 && (tail == 'T' || tail == ' ');
  if ((!date_only && !date_time) || m < 1 || m > 12 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60) {
    fail(flag, ": got \"", text, "\", expected a date YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS (UTC) or seconds since 1970");
  }
  return days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)) * 86400 + hh * 3600 + mm * 60 + ss;
}

std::string format_utc(int64_t seconds) {
  auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json leave_last_out(Interactions& in, int64_t num_users) {
  in.split.assign(in.size(), Split::kTrain);
  UserRows g = group_by_user(in, num_users);
  int64_t users_by_length[3] = {0, 0, 0};  // users with 1, 2, >= 3 interactions
  for (size_t u = 0; u < static_cast<size_t>(num_users); ++u) {
    int64_t begin = g.offsets[u], n = g.offsets[u + 1] - begin;
    if (n == 0) continue;
    ++users_by_length[std::min<int64_t>(n, 3) - 1];
    if (n >= 2) in.split[g.rows[static_cast<size_t>(begin + n - 1)]] = Split::kTest;
    if (n >= 3) in.split[g.rows[static_cast<size_t>(begin + n - 2)]] = Split::kValid;
  }
  return {{"method", "leave_last_out"},
          {"order", "per user by timestamp, ties by position in the review file"},
          {"rule", "last = test, second to last = valid, rest = train; 2 interactions: train + test; "
                   "1 interaction: train only"},
          {"users", {{"one_interaction", users_by_length[0]},
                     {"two_interactions", users_by_length[1]},
                     {"three_or_more", users_by_length[2]}}},
          {"counts", split_counts(in)}};
}

nlohmann::json time_split(Interactions& in, const SplitOptions& o) {
  nlohmann::json out = {{"method", "time"}};
  int64_t valid_from = 0, test_from = 0;
  if (o.valid_from || o.test_from) {
    if (!o.valid_from || !o.test_from) fail("--valid-from and --test-from must be given together");
    valid_from = *o.valid_from;
    test_from = *o.test_from;
    if (test_from < valid_from) {
      fail("--test-from: got ", format_utc(test_from), ", expected a time at or after --valid-from (",
           format_utc(valid_from), ")");
    }
    out["cutoffs_from"] = "dates";
  } else {
    if (!(o.train_fraction > 0 && o.valid_fraction > 0 && o.train_fraction + o.valid_fraction < 1)) {
      fail("--train-fraction/--valid-fraction: got ", o.train_fraction, " and ", o.valid_fraction,
           ", expected two fractions in (0, 1) whose sum is below 1 (test gets the rest)");
    }
    std::vector<int64_t> sorted = in.timestamp;
    std::sort(sorted.begin(), sorted.end());
    auto n = static_cast<double>(sorted.size());
    auto rank = [&](double f) { return std::min(sorted.size() - 1, static_cast<size_t>(f * n)); };
    valid_from = sorted[rank(o.train_fraction)];
    test_from = sorted[rank(o.train_fraction + o.valid_fraction)];
    out["cutoffs_from"] = "fractions";
    out["fractions"] = {{"train", o.train_fraction}, {"valid", o.valid_fraction},
                        {"test", 1 - o.train_fraction - o.valid_fraction}};
  }
  in.split.resize(in.size());
  for (size_t r = 0; r < in.size(); ++r) {
    int64_t t = in.timestamp[r];
    in.split[r] = t < valid_from ? Split::kTrain : t < test_from ? Split::kValid : Split::kTest;
  }
  out["rule"] = "train: timestamp < valid_from; valid: valid_from <= timestamp < test_from; test: timestamp >= test_from";
  out["valid_from"] = valid_from;
  out["test_from"] = test_from;
  out["valid_from_utc"] = format_utc(valid_from);
  out["test_from_utc"] = format_utc(test_from);
  out["counts"] = split_counts(in);
  return out;
}

nlohmann::json split_interactions(Interactions& in, int64_t num_users, const SplitOptions& options) {
  nlohmann::json s = options.method == SplitMethod::kLeaveLastOut ? leave_last_out(in, num_users)
                                                                  : time_split(in, options);
  const auto& c = s["counts"];
  for (const char* part : {"train", "valid", "test"}) {
    if (c[part].get<int64_t>() > 0) continue;
    std::string name = std::string(part) == "valid" ? "validation" : part;
    if (options.method == SplitMethod::kLeaveLastOut) {
      fail("the leave-last-out split leaves ", name, " empty: no user has ", part == std::string("valid") ? 3 : 2,
           " or more interactions (", in.size(), " interactions); use --split time or less filtering");
    }
    fail("the time split leaves ", name, " empty (cutoffs ", s["valid_from_utc"].get<std::string>(), " and ",
         s["test_from_utc"].get<std::string>(), " over ", in.size(),
         " interactions); choose other fractions or dates, or use --split loo");
  }
  return s;
}

}  // namespace twotower
