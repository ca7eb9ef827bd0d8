#include "twotower/data/prepare.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "twotower/common/error.h"
#include "twotower/common/log.h"
#include "twotower/data/dataset.h"
#include "twotower/data/item_features.h"
#include "twotower/data/meta_reader.h"
#include "twotower/data/prepare_stats.h"
#include "twotower/data/review_reader.h"

namespace fs = std::filesystem;

namespace twotower {
namespace {

double since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double round3(double x) { return std::round(x * 1000) / 1000; }

constexpr const char* kTmpInfix = ".tmp-";  // ".NAME.tmp-PID": a folder being written
constexpr const char* kOldSuffix = ".old-";  // "NAME.old-PID": the folder it replaces, moved aside

/// The process id that ends `name` after `prefix`, or 0 when `name` is not `prefix` + digits.
pid_t pid_after(const std::string& name, const std::string& prefix) {
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return 0;
  pid_t pid = 0;
  for (size_t i = prefix.size(); i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9' || pid > 100000000) return 0;
    pid = pid * 10 + (name[i] - '0');
  }
  return pid;
}

/// What a killed `prepare` (or `forget`) of `out` (an absolute path) left beside it, from a
/// process no longer running: its temporary folder is removed, and a folder it had moved aside is
/// put back when `out` is missing (killed between the two renames), else removed.
void remove_stale_temporaries(const fs::path& out) {
  const std::string name = out.filename().string();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(out.parent_path(), ec)) {
    const std::string entry_name = entry.path().filename().string();
    const pid_t tmp_pid = pid_after(entry_name, "." + name + kTmpInfix);
    const pid_t old_pid = pid_after(entry_name, name + kOldSuffix);
    const pid_t pid = tmp_pid ? tmp_pid : old_pid;
    if (pid == 0 || pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH) continue;
    if (old_pid && !fs::exists(out)) {
      log_warn(entry.path().string(), ": put back as ", out.string(), " (a run replacing it was killed)");
      fs::rename(entry.path(), out, ec);
    } else {
      fs::remove_all(entry.path(), ec);
    }
  }
}

/// Removes a temporary folder on scope exit unless it was committed.
class TempFolder {
 public:
  explicit TempFolder(fs::path path) : path_(std::move(path)) {
    std::error_code ec;
    fs::remove_all(path_, ec);
    if (!fs::create_directories(path_, ec) || ec) fail(path_.string(), ": cannot create the output folder: ", ec.message());
  }
  ~TempFolder() {
    if (committed_) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  const fs::path& path() const { return path_; }

  /// Renames the folder to `target`, replacing an existing `target` only when `overwrite`: by an
  /// atomic exchange where the file system has one (a kill at any point leaves the old folder or
  /// the new one whole), else by moving the old one aside first (remove_stale_temporaries puts it
  /// back after a kill between the two renames).
  void commit(const fs::path& target, bool overwrite) {
    std::error_code ec;
    if (fs::exists(target)) {
      if (!overwrite) fail(target.string(), ": already exists; pass --overwrite to replace it");
      if (::renameat2(AT_FDCWD, path_.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
        committed_ = true;
        fs::remove_all(path_, ec);  // the old folder, now under the temporary name
        return;
      }
      fs::path old = target;
      old += str_cat(kOldSuffix, getpid());
      fs::rename(target, old, ec);
      if (ec) fail(target.string(), ": cannot move the existing folder aside: ", ec.message());
      fs::rename(path_, target, ec);
      if (ec) {
        fs::rename(old, target);
        fail(target.string(), ": cannot rename the new folder into place: ", ec.message());
      }
      fs::remove_all(old, ec);
    } else {
      fs::rename(path_, target, ec);
      if (ec) fail(target.string(), ": cannot rename the new folder into place: ", ec.message());
    }
    committed_ = true;
  }

 private:
  fs::path path_;
  bool committed_ = false;
};

std::vector<std::string> ids_in_order(const IdMap& map, const std::vector<int32_t>* order) {
  std::vector<std::string> ids;
  if (!order) return map.ids();
  ids.reserve(order->size());
  for (int32_t old : *order) ids.emplace_back(map.id(old));
  return ids;
}

}  // namespace

void check_prepare_options(const PrepareOptions& o) {
  if (o.reviews.empty()) fail("--reviews: got nothing, expected a review file");
  if (o.out.empty()) fail("--out: got nothing, expected an output folder");
  if (!fs::exists(o.reviews)) fail(o.reviews.string(), ": no such file");
  if (!o.meta.empty() && !fs::exists(o.meta)) fail(o.meta.string(), ": no such file");
  if (fs::exists(o.out) && !o.overwrite) fail(o.out.string(), ": already exists; pass --overwrite to replace it");
  if (fs::exists(o.out) && !fs::is_directory(o.out)) fail(o.out.string(), ": exists and is not a folder");
  constexpr int64_t kMaxThreshold = int64_t{1} << 31;
  for (int64_t t : {o.min_user_interactions, o.min_item_interactions}) {
    if (t < 0 || t >= kMaxThreshold) fail("k-core threshold: got ", t, ", expected a count in [0, 2^31)");
  }
  // Check split options before the long read.
  if (o.split.method == SplitMethod::kTime && !o.split.valid_from && !o.split.test_from &&
      !(o.split.train_fraction > 0 && o.split.valid_fraction > 0 && o.split.train_fraction + o.split.valid_fraction < 1)) {
    fail("--train-fraction/--valid-fraction: got ", o.split.train_fraction, " and ", o.split.valid_fraction,
         ", expected two fractions in (0, 1) whose sum is below 1 (test gets the rest)");
  }
}

namespace {

/// What the duplicate and k-core filters did: the "filters" stats, and when any row went, the
/// old user and item index of each new one (the interactions are renumbered in place).
struct Filtered {
  nlohmann::json stats;
  bool any = false;
  std::vector<int32_t> user_order, item_order;
};

Filtered filter_interactions(const PrepareOptions& o, Interactions& in, int64_t num_users, int64_t num_items) {
  Filtered f;
  std::vector<uint8_t> keep = duplicate_mask(in, num_users, o.duplicates);
  int64_t removed_duplicates = static_cast<int64_t>(in.size()) - std::count(keep.begin(), keep.end(), 1);
  int64_t kept_before_kcore = static_cast<int64_t>(in.size()) - removed_duplicates;
  if (o.sample_users > 0) {  // before the k-core, so a sampled user's rows are all there is to filter
    f.stats["sample_users"] = sample_users_mask(in, num_users, o.sample_users, o.sample_seed, keep);
    f.stats["sample_seed"] = o.sample_seed;
    const int64_t sampled = std::count(keep.begin(), keep.end(), 1);
    f.stats["removed_by_sampling"] = kept_before_kcore - sampled;
    kept_before_kcore = sampled;
  }
  int rounds = 0;
  if (o.min_user_interactions > 1 || o.min_item_interactions > 1) {
    rounds = kcore_mask(in, num_users, num_items, o.min_user_interactions, o.min_item_interactions, keep);
  }
  int64_t kept = std::count(keep.begin(), keep.end(), 1);
  f.stats.update({{"duplicates", duplicate_policy_name(o.duplicates)},
             {"removed_duplicates", removed_duplicates},
             {"min_user_interactions", o.min_user_interactions},
             {"min_item_interactions", o.min_item_interactions},
             {"kcore_rounds", rounds},
             {"removed_by_kcore", kept_before_kcore - kept}});
  f.any = kept < static_cast<int64_t>(in.size());
  if (f.any) {
    if (kept == 0) {
      fail("no interactions are left after filtering (", in.size(), " read; k-core ", o.min_user_interactions,
           "/", o.min_item_interactions, ", duplicates ", duplicate_policy_name(o.duplicates),
           "); lower --kcore / --min-user-interactions / --min-item-interactions");
    }
    compact(in, keep, num_users, num_items, f.user_order, f.item_order);
  }
  return f;
}

/// False when the timestamps are positions rather than times: a RecBole file without a
/// timestamp column, or one holding positions (0, 1, 2, ...) as the Games release does; anything
/// before 1973 is taken as a position, so the summary does not print 1970 dates.
bool timestamps_are_times(const ReviewTable& table, const Interactions& in, SplitMethod method) {
  constexpr int64_t kPlausibleTime = 100000000;
  bool times = table.has_timestamps &&
               (in.size() == 0 || *std::max_element(in.timestamp.begin(), in.timestamp.end()) >= kPlausibleTime);
  if (method == SplitMethod::kTime && !times) {
    log_warn("the timestamps look like positions, not times (all before 1973): a global time split over them "
             "is an order split; --split loo is the customary choice");
  }
  return times;
}

/// Fills data.items from the metadata file when there is one (recording what was read in
/// `input`), else with empty features.
CatalogueCounts add_items(const PrepareOptions& o, const std::vector<std::string>& reviewed_items, Dataset& data,
                          nlohmann::json& input) {
  if (o.meta.empty()) return build_items(reviewed_items, nullptr, o.reviewed_items_only, data);
  Metadata meta = read_prepare_meta(o, input);
  return build_items(reviewed_items, &meta, o.reviewed_items_only, data);
}

}  // namespace

Metadata read_prepare_meta(const PrepareOptions& o, nlohmann::json& input) {
  Metadata meta = read_metadata(o.meta, {o.meta_format, o.skip_bad_lines});
  input["meta"] = o.meta.string();
  input["meta_format"] = meta_format_name(meta.format);
  input["meta_lines"] = meta.lines;
  input["meta_duplicate_ids"] = meta.duplicates;
  input["meta_bad_lines"] = meta.bad.count();
  input["meta_invalid_utf8_lines"] = meta.invalid_utf8_lines;
  if (!meta.bad.examples().empty()) input["meta_bad_line_examples"] = meta.bad.examples();
  return meta;
}

nlohmann::json review_input(const PrepareOptions& o, const ReviewTable& table) {
  nlohmann::json input = {{"reviews", o.reviews.string()},
                          {"format", review_format_name(table.format)},
                          {"bytes", table.file_bytes},
                          {"lines", table.lines},
                          {"bad_lines", table.bad.count()},
                          {"invalid_utf8_lines", table.invalid_utf8_lines}};
  if (!table.bad.examples().empty()) input["bad_line_examples"] = table.bad.examples();
  return input;
}

void write_prepared_folder(const Dataset& data, const fs::path& target, bool overwrite,
                           const std::function<void(const fs::path&)>& add_files) {
  fs::path out = fs::absolute(target).lexically_normal();
  if (out.filename().empty()) out = out.parent_path();
  fs::create_directories(out.parent_path());
  remove_stale_temporaries(out);
  TempFolder tmp(out.parent_path() / str_cat(".", out.filename().string(), kTmpInfix, getpid()));
  save_dataset(data, tmp.path());
  if (add_files) add_files(tmp.path());
  tmp.commit(out, overwrite);
}

PrepareResult prepare(const PrepareOptions& o) {
  auto start = std::chrono::steady_clock::now();
  check_prepare_options(o);

  ReviewTable table = read_reviews(o.reviews, {o.format, o.skip_bad_lines, o.progress});
  double read_seconds = since(start);
  nlohmann::json input = review_input(o, table);

  Dataset data;
  Interactions& in = data.interactions;
  in = std::move(table.rows);
  auto num_users = static_cast<int64_t>(table.users.size()), num_items = static_cast<int64_t>(table.items.size());
  int64_t raw_repeats = count_repeated_pairs(in, num_users);
  nlohmann::json raw = {{"interactions", in.size()}, {"users", num_users}, {"items", num_items},
                        {"repeated_pairs", raw_repeats}};
  Filtered filtered = filter_interactions(o, in, num_users, num_items);
  data.user_ids = ids_in_order(table.users, filtered.any ? &filtered.user_order : nullptr);
  std::vector<std::string> reviewed_items = ids_in_order(table.items, filtered.any ? &filtered.item_order : nullptr);
  table.users = IdMap();
  table.items = IdMap();

  bool times = timestamps_are_times(table, in, o.split.method);
  data.splits = split_interactions(in, data.num_users(), o.split);
  data.splits["id_order"] = "users and items numbered in order of first appearance in the review file (after "
                            "filtering); catalogue-only items follow in metadata file order";
  CatalogueCounts catalogue = add_items(o, reviewed_items, data, input);

  data.stats = dataset_stats(data, catalogue.reviewed, times, filtered.any ? -1 : raw_repeats);
  data.stats["input"] = input;
  data.stats["raw"] = raw;
  data.stats["filters"] = filtered.stats;
  data.stats["split_method"] = data.splits["method"];
  data.stats["items_with_metadata"] = catalogue.reviewed_with_meta;
  data.stats["seconds"] = {{"read_reviews", round3(read_seconds)}, {"total", round3(since(start))}};
  write_prepared_folder(data, o.out, o.overwrite);
  PrepareResult result;
  result.stats = std::move(data.stats);
  result.stats["seconds"]["total"] = round3(since(start));
  result.summary = format_summary(result.stats, o.out.string());
  return result;
}

}  // namespace twotower
