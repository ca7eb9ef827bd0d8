#include "twotower/train/new_item_ranks.h"

#include <algorithm>

#include "twotower/model/embedding_export.h"

namespace twotower {
namespace {

constexpr int64_t kRowsPerChunk = 1024;
constexpr int64_t kTopK = 10;

torch::Tensor as_tensor(Matrix& m) { return torch::from_blob(m.data.data(), {m.rows, m.cols}, torch::kFloat); }

// Ranks of each (users[k], items[k]) among all rows of `item_vectors`. [U, D], [I, D] float32.
std::vector<int64_t> ranks(const torch::Tensor& user_vectors, const torch::Tensor& item_vectors,
                           const std::vector<int64_t>& users, const std::vector<int64_t>& items) {
  std::vector<int64_t> out;
  torch::NoGradGuard no_grad;
  for (size_t begin = 0; begin < users.size(); begin += kRowsPerChunk) {
    const size_t end = std::min(users.size(), begin + kRowsPerChunk);
    const auto n = static_cast<int64_t>(end - begin);
    torch::Tensor u = torch::from_blob(const_cast<int64_t*>(users.data() + begin), {n}, torch::kLong);
    torch::Tensor i = torch::from_blob(const_cast<int64_t*>(items.data() + begin), {n}, torch::kLong);
    torch::Tensor scores = user_vectors.index_select(0, u).mm(item_vectors.t());  // [n, I]
    torch::Tensor target = scores.gather(1, i.unsqueeze(1));                       // [n, 1]
    torch::Tensor rank = (scores > target).sum(1).contiguous();                    // [n] int64
    out.insert(out.end(), rank.data_ptr<int64_t>(), rank.data_ptr<int64_t>() + n);
  }
  return out;
}

nlohmann::json summary(std::vector<int64_t> rank, int64_t num_items) {
  nlohmann::json s = {{"targets", rank.size()}, {"recall@10", nullptr}, {"median_rank", nullptr},
                      {"mean_rank_percentile", nullptr}};
  if (rank.empty()) return s;
  const auto n = static_cast<double>(rank.size());
  double hits = 0, percentile = 0;
  for (int64_t r : rank) {
    hits += r < kTopK;
    percentile += static_cast<double>(r) / static_cast<double>(num_items);
  }
  std::nth_element(rank.begin(), rank.begin() + static_cast<std::ptrdiff_t>(rank.size() / 2), rank.end());
  s["recall@10"] = hits / n;
  s["median_rank"] = rank[rank.size() / 2];
  s["mean_rank_percentile"] = percentile / n;
  return s;
}

}  // namespace

nlohmann::json new_item_ranks(TwoTowerModel& model, const Dataset& data, const Config& config, int64_t first_new_item,
                              const torch::Device& device) {
  const Split split = parse_split(config.data.valid_split);
  std::vector<int64_t> new_users, new_items, old_users, old_items;
  const Interactions& in = data.interactions;
  for (size_t r = 0; r < in.size(); ++r) {
    if (in.split[r] != split) continue;
    if (in.item[r] >= first_new_item) {
      new_users.push_back(in.user[r]);
      new_items.push_back(in.item[r]);
    } else if (static_cast<int64_t>(old_users.size()) < kMaxOldTargets) {
      old_users.push_back(in.user[r]);
      old_items.push_back(in.item[r]);
    }
  }
  const ModelConfig& m = config.model;
  nlohmann::json out = {{"split", config.data.valid_split},
                        {"inputs", m.use_category || m.use_brand || m.use_text
                                       ? "content features: a new item's vector is its features' vector"
                                       : "ids only: every new item has the same vector"}};
  Matrix users = embed_all_users(model, device);
  Matrix items = embed_all_items(model, device);
  const torch::Tensor u = as_tensor(users), i = as_tensor(items);
  out["new"] = summary(ranks(u, i, new_users, new_items), data.num_items());
  out["old"] = summary(ranks(u, i, old_users, old_items), data.num_items());
  return out;
}

}  // namespace twotower
