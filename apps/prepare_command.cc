#include <iostream>
#include <memory>

#include "commands.h"
#include "twotower/data/extend.h"
#include "twotower/data/prepare.h"
#include "twotower/data/dataset.h"

namespace twotower::cli {
namespace {

struct PrepareArgs {
  std::string reviews, meta, out, extend;
  std::string format = "auto", meta_format = "auto", split, duplicates = "keep";
  double train_fraction = 0.8, valid_fraction = 0.1;
  std::string valid_from, test_from;
  int64_t kcore = 0, min_user = 0, min_item = 0, sample_users = 0;
  uint64_t sample_seed = 0;
  bool skip_bad_lines = false, overwrite = false, reviewed_items_only = false, quiet = false;
};

// --extend without --split: the base folder's method.
std::string base_split_method(const std::string& base) {
  if (base.empty()) return "loo";
  const auto splits = read_json_file(std::filesystem::path(base) / "splits.json");
  return splits.value("method", "leave_last_out") == "time" ? "time" : "loo";
}

void run_prepare(const PrepareArgs& a) {
  PrepareOptions o;
  o.reviews = a.reviews;
  o.meta = a.meta;
  o.out = a.out;
  o.format = parse_review_format(a.format);
  o.meta_format = parse_meta_format(a.meta_format);
  o.split.method = parse_split_method(a.split.empty() ? base_split_method(a.extend) : a.split);
  o.split.train_fraction = a.train_fraction;
  o.split.valid_fraction = a.valid_fraction;
  if (!a.valid_from.empty()) o.split.valid_from = parse_cutoff(a.valid_from, "--valid-from");
  if (!a.test_from.empty()) o.split.test_from = parse_cutoff(a.test_from, "--test-from");
  o.duplicates = parse_duplicate_policy(a.duplicates);
  o.min_user_interactions = a.min_user > 0 ? a.min_user : a.kcore;
  o.min_item_interactions = a.min_item > 0 ? a.min_item : a.kcore;
  o.sample_users = a.sample_users;
  o.sample_seed = a.sample_seed;
  o.skip_bad_lines = a.skip_bad_lines;
  o.overwrite = a.overwrite;
  o.reviewed_items_only = a.reviewed_items_only;
  o.progress = !a.quiet;
  if (a.extend.empty()) {
    PrepareResult result = prepare(o);
    if (!a.quiet) std::cout << result.summary << std::endl;
    return;
  }
  PrepareResult result = extend_prepared(a.extend, o);
  if (a.quiet) return;
  const auto& e = result.stats["extend"];
  std::cout << result.summary << "\nextended " << a.extend << ": " << e["new_users"] << " new users, "
            << e["new_items"] << " new items, " << e["new_interactions"] << " new interactions" << std::endl;
}

}  // namespace

void add_prepare_command(CLI::App& app) {
  auto args = std::make_shared<PrepareArgs>();
  CLI::App* cmd = app.add_subcommand(
      "prepare",
      "Amazon reviews (+ item metadata) -> a prepared data set folder: interactions_mapped.parquet, "
      "uid2idx.json, iid2idx.json, splits.json, items.parquet, features.json, stats.json");
  cmd->add_option("--reviews", args->reviews,
                  "review file, .gz or plain: Amazon 2014/2018/2023 JSON lines, ratings CSV "
                  "(item,user,rating,timestamp) or RecBole .inter")
      ->required();
  cmd->add_option("--meta", args->meta, "item metadata, .gz or plain: Amazon JSON lines, 2014 Python literals or RecBole .item");
  cmd->add_option("--out", args->out, "output folder (written under a temporary name, then renamed)")->required();
  cmd->add_option("--format", args->format, "review format: auto, amazon2014, amazon2018, amazon2023, csv, recbole")
      ->capture_default_str();
  cmd->add_option("--meta-format", args->meta_format, "metadata format: auto, amazon2014, amazon2018, amazon2023, recbole")
      ->capture_default_str();
  cmd->add_option("--split", args->split,
                  "loo (per-user leave-last-out, the default) or time (global cutoffs); with --extend the "
                  "base folder's method unless given");
  cmd->add_option("--extend", args->extend,
                  "a prepared folder to continue: its users and items keep their indices, the new ones of "
                  "--reviews (and --meta, the catalogue now) are appended, the split is recomputed over all "
                  "interactions (docs/continued_training.md)");
  cmd->add_option("--train-fraction", args->train_fraction, "time split: share of interactions before the valid cutoff")
      ->capture_default_str();
  cmd->add_option("--valid-fraction", args->valid_fraction, "time split: share between the cutoffs")->capture_default_str();
  cmd->add_option("--valid-from", args->valid_from, "time split: valid from this date (YYYY-MM-DD UTC or seconds)");
  cmd->add_option("--test-from", args->test_from, "time split: test from this date (YYYY-MM-DD UTC or seconds)");
  cmd->add_option("--duplicates", args->duplicates, "repeated (user, item) pairs: keep (all), first or last")
      ->capture_default_str();
  cmd->add_option("--kcore", args->kcore, "keep the k-core: every user and item with >= K interactions (0: off)");
  cmd->add_option("--min-user-interactions", args->min_user, "k-core threshold for users (overrides --kcore)");
  cmd->add_option("--min-item-interactions", args->min_item, "k-core threshold for items (overrides --kcore)");
  cmd->add_option("--sample-users", args->sample_users,
                  "keep N users drawn uniformly (seeded), with all their interactions, before the k-core (0: all)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--sample-seed", args->sample_seed, "seed of --sample-users' draw")->capture_default_str();
  cmd->add_flag("--reviewed-items-only", args->reviewed_items_only, "drop metadata items that have no interaction");
  cmd->add_flag("--skip-bad-lines", args->skip_bad_lines, "count bad lines (summary shows the first few) instead of stopping");
  cmd->add_flag("--overwrite", args->overwrite, "replace an existing output folder");
  cmd->add_flag("-q,--quiet", args->quiet, "no progress and no summary");
  cmd->callback([args] { run_prepare(*args); });
}

}  // namespace twotower::cli
