#include "twotower/data/extend.h"

#include <algorithm>
#include <chrono>

#include "twotower/common/error.h"
#include "twotower/data/id_map.h"
#include "twotower/data/item_features.h"
#include "twotower/data/prepare_stats.h"

namespace fs = std::filesystem;

namespace twotower {
namespace {

void check_extend_options(const fs::path& base, const PrepareOptions& o) {
  if (!fs::exists(base / "uid2idx.json")) {
    fail("--extend: got ", base.string(), ", expected a prepared folder (no uid2idx.json there)");
  }
  if (o.min_user_interactions > 1 || o.min_item_interactions > 1) {
    fail("--kcore: got ", std::max(o.min_user_interactions, o.min_item_interactions),
         ", expected 0 with --extend (a filter would remove users or items that old checkpoints index)");
  }
  if (o.duplicates != DuplicatePolicy::kKeepAll) {
    fail("--duplicates: got ", duplicate_policy_name(o.duplicates), ", expected keep with --extend");
  }
  std::error_code ec;
  if (fs::exists(o.out) && fs::equivalent(o.out, base, ec)) {
    fail("--out: got ", o.out.string(), ", the --extend folder itself; expected a new folder (the base stays "
         "as the data of the runs trained on it)");
  }
}

/// The index in `map` of each id of `read` (interned: new ids are appended to `map`).
std::vector<int64_t> remap(const IdMap& read, IdMap& map) {
  std::vector<int64_t> index(read.size());
  for (size_t i = 0; i < read.size(); ++i) index[i] = map.intern(read.id(static_cast<int32_t>(i)));
  return index;
}

IdMap map_of(const std::vector<std::string>& ids) {
  IdMap map;
  for (const auto& id : ids) map.intern(id);
  return map;
}

/// Appends `rows` to `in` with their users and items renumbered (split left to be recomputed).
void append_rows(const Interactions& rows, const std::vector<int64_t>& user_of, const std::vector<int64_t>& item_of,
                 Interactions& in) {
  in.reserve(in.size() + rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    in.user.push_back(user_of[static_cast<size_t>(rows.user[r])]);
    in.item.push_back(item_of[static_cast<size_t>(rows.item[r])]);
    in.rating.push_back(rows.rating[r]);
    in.timestamp.push_back(rows.timestamp[r]);
  }
}

/// An item of the base that had metadata must still be in the catalogue `meta`.
void check_catalogue(const Metadata& meta, const Dataset& data, const fs::path& base, const fs::path& meta_path) {
  const ItemFeatures& f = data.items;
  for (size_t i = 0; i < data.item_ids.size(); ++i) {
    const bool had_metadata = !f.title[i].empty() || !f.brand[i].empty() || !f.categories[i].empty() ||
                              !f.description[i].empty();
    if (!had_metadata || meta.index.find(data.item_ids[i]) >= 0) continue;
    fail(meta_path.string(), ": item \"", data.item_ids[i], "\" (item_idx ", i, " of ", (base / "iid2idx.json").string(),
         "): got no record, expected one for every item of the base folder that had metadata (items are never "
         "removed: the runs trained on the base index them)");
  }
}

int64_t items_with_interactions(const Dataset& data) {
  std::vector<uint8_t> seen(data.item_ids.size(), 0);
  for (int64_t i : data.interactions.item) seen[static_cast<size_t>(i)] = 1;
  return std::count(seen.begin(), seen.end(), 1);
}

bool timestamps_are_times(const Interactions& in) {
  constexpr int64_t kPlausibleTime = 100000000;  // as prepare: anything before 1973 is a position
  return in.size() > 0 && *std::max_element(in.timestamp.begin(), in.timestamp.end()) >= kPlausibleTime;
}

/// Copies base/embed_cache (twotower embed's vectors by text) into the new folder `dir`.
void copy_embed_cache(const fs::path& base, const fs::path& dir) {
  const fs::path cache = base / "embed_cache";
  if (!fs::is_directory(cache)) return;
  fs::copy(cache, dir / "embed_cache", fs::copy_options::recursive);
}

}  // namespace

PrepareResult extend_prepared(const fs::path& base, const PrepareOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  check_prepare_options(o);
  check_extend_options(base, o);
  Dataset data = load_dataset(base, ItemText::kLoad);
  const int64_t old_users = data.num_users(), old_items = data.num_items();
  const auto old_rows = static_cast<int64_t>(data.interactions.size());
  nlohmann::json input;
  Metadata meta;
  if (!o.meta.empty()) {
    meta = read_prepare_meta(o, input);
    check_catalogue(meta, data, base, o.meta);
  }
  ReviewTable table = read_reviews(o.reviews, {o.format, o.skip_bad_lines, o.progress});
  input.update(review_input(o, table));

  IdMap users = map_of(data.user_ids), items = map_of(data.item_ids);
  const std::vector<int64_t> user_of = remap(table.users, users), item_of = remap(table.items, items);
  append_rows(table.rows, user_of, item_of, data.interactions);
  data.user_ids = users.ids();
  std::vector<std::string> new_items;
  for (auto i = static_cast<int32_t>(old_items); i < static_cast<int32_t>(items.size()); ++i) {
    new_items.emplace_back(items.id(i));
  }
  const CatalogueCounts added = append_items(new_items, o.meta.empty() ? nullptr : &meta, o.reviewed_items_only, data);

  data.splits = split_interactions(data.interactions, data.num_users(), o.split);
  data.splits["id_order"] = "the base folder's users and items keep their indices; new users and items follow in "
                            "order of first appearance in the new review file, new catalogue-only items after them";
  data.splits["extended_from"] = fs::absolute(base).lexically_normal().string();
  data.stats = dataset_stats(data, items_with_interactions(data), timestamps_are_times(data.interactions));
  data.stats["input"] = input;
  data.stats["raw"] = {{"interactions", table.rows.size()}, {"users", table.users.size()},
                       {"items", table.items.size()}, {"repeated_pairs", data.stats["repeated_pairs"]}};
  data.stats["filters"] = {{"duplicates", duplicate_policy_name(o.duplicates)}, {"removed_duplicates", 0},
                           {"removed_by_kcore", 0}};
  data.stats["split_method"] = data.splits["method"];
  data.stats["extend"] = {{"base", data.splits["extended_from"]},
                          {"old_users", old_users},
                          {"old_items", old_items},
                          {"old_interactions", old_rows},
                          {"new_users", data.num_users() - old_users},
                          {"new_items", data.num_items() - old_items},
                          {"new_items_reviewed", added.reviewed},
                          {"new_items_catalogue_only", added.catalogue_only},
                          {"new_interactions", static_cast<int64_t>(data.interactions.size()) - old_rows}};
  write_prepared_folder(data, o.out, o.overwrite, [&](const fs::path& dir) { copy_embed_cache(base, dir); });
  PrepareResult result;
  result.stats = std::move(data.stats);
  result.stats["seconds"] = {{"total", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}};
  result.summary = format_summary(result.stats, o.out.string());
  return result;
}

}  // namespace twotower
