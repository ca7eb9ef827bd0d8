#include "twotower/data/forget.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "twotower/common/error.h"
#include "twotower/common/format.h"
#include "twotower/data/dataset.h"
#include "twotower/data/prepare.h"

namespace fs = std::filesystem;

namespace twotower {
namespace {

// The indices of `user_ids` among `known` (index -> raw id, as map_file holds them), ascending and
// distinct; throws naming every unknown id.
std::vector<int64_t> resolve_users(const std::vector<std::string>& known, const std::vector<std::string>& user_ids,
                                   const fs::path& map_file) {
  if (user_ids.empty()) fail("forget: got no user id, expected at least one");
  std::unordered_map<std::string, int64_t> index;
  for (size_t u = 0; u < known.size(); ++u) index.emplace(known[u], static_cast<int64_t>(u));
  std::set<int64_t> found;
  std::vector<std::string> unknown;
  for (const std::string& id : user_ids) {
    const auto it = index.find(id);
    if (it == index.end()) {
      unknown.push_back(id);
    } else {
      found.insert(it->second);
    }
  }
  if (!unknown.empty()) {
    std::string list;
    for (size_t i = 0; i < unknown.size() && i < 5; ++i) list += (i ? ", \"" : "\"") + unknown[i] + "\"";
    fail(map_file.string(), ": got ", unknown.size(), " user id(s) not in the map (", list,
         unknown.size() > 5 ? ", ..." : "", "), expected ids of the prepared data set (nothing was changed)");
  }
  return {found.begin(), found.end()};
}

// Removes the rows of `forgotten` users from `in`; returns how many were removed.
int64_t remove_interactions(Interactions& in, const std::vector<bool>& forgotten) {
  Interactions kept;
  kept.reserve(in.size());
  for (size_t r = 0; r < in.size(); ++r) {
    if (forgotten[static_cast<size_t>(in.user[r])]) continue;
    kept.user.push_back(in.user[r]);
    kept.item.push_back(in.item[r]);
    kept.rating.push_back(in.rating[r]);
    kept.timestamp.push_back(in.timestamp[r]);
    kept.split.push_back(in.split[r]);
  }
  const auto removed = static_cast<int64_t>(in.size() - kept.size());
  in = std::move(kept);
  return removed;
}

void update_counts(Dataset& data) {
  int64_t counts[3] = {0, 0, 0};
  for (Split s : data.interactions.split) ++counts[static_cast<int>(s)];
  if (data.splits.is_object()) {
    data.splits["counts"] = {{"train", counts[0]}, {"valid", counts[1]}, {"test", counts[2]}};
  }
  if (data.stats.is_object()) data.stats["interactions"] = static_cast<int64_t>(data.interactions.size());
}

}  // namespace

std::string forgotten_user_id(int64_t user_idx) { return str_cat("<forgotten>#", user_idx); }

std::vector<int64_t> resolve_forget_users(const fs::path& data_dir, const std::vector<std::string>& user_ids) {
  return resolve_users(read_id_map(data_dir / "uid2idx.json"), user_ids, data_dir / "uid2idx.json");
}

std::vector<int64_t> read_forgotten_users(const fs::path& data_dir) {
  const fs::path file = data_dir / kForgottenFile;
  if (!fs::exists(file)) return {};
  const nlohmann::json record = read_json_file(file);
  std::vector<int64_t> users;
  try {
    for (const auto& entry : record.at("users")) users.push_back(entry.at("user_idx").get<int64_t>());
  } catch (const nlohmann::json::exception& e) {
    fail(file.string(), ": got ", e.what(), ", expected {\"users\": [{\"user_idx\": N, \"forgotten_at\": \"...\"}, ...]}");
  }
  std::sort(users.begin(), users.end());
  return users;
}

ForgetResult forget_users_in_data(const fs::path& data_dir, const std::vector<std::string>& user_ids) {
  Dataset data = load_dataset(data_dir);
  ForgetResult result;
  result.users = resolve_users(data.user_ids, user_ids, data_dir / "uid2idx.json");
  std::vector<bool> forgotten(data.user_ids.size(), false);
  for (int64_t u : result.users) forgotten[static_cast<size_t>(u)] = true;
  result.interactions_removed = remove_interactions(data.interactions, forgotten);
  for (int64_t u : result.users) data.user_ids[static_cast<size_t>(u)] = forgotten_user_id(u);
  update_counts(data);

  nlohmann::json record = fs::exists(data_dir / kForgottenFile) ? read_json_file(data_dir / kForgottenFile)
                                                                 : nlohmann::json{{"users", nlohmann::json::array()}};
  const std::string now = utc_now();
  for (int64_t u : result.users) record["users"].push_back({{"user_idx", u}, {"forgotten_at", now}});
  record["note"] = "users removed by twotower forget: no interactions, their raw id replaced, their index kept";
  data.stats["forgotten_users"] = record["users"].size();

  // Everything else in the folder (text embeddings, the embed cache) travels with it unchanged.
  write_prepared_folder(data, data_dir, /*overwrite=*/true, [&](const fs::path& tmp) {
    for (const auto& entry : fs::directory_iterator(data_dir)) {
      const fs::path target = tmp / entry.path().filename();
      if (!fs::exists(target)) fs::copy(entry.path(), target, fs::copy_options::recursive);
    }
    write_json_file(record, tmp / kForgottenFile);
  });
  return result;
}

}  // namespace twotower
