#include "twotower/eval/tensor_ranking.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "twotower/common/error.h"

namespace twotower {
namespace {

// 1 / log2(i + 2) summed over i < n.
double ideal_dcg(int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += 1.0 / std::log2(static_cast<double>(i) + 2.0);
  return sum;
}

torch::Tensor on(const torch::Device& device, const std::vector<int64_t>& values) {
  return torch::tensor(values, torch::kLong).to(device);
}

// One chunk of evaluated users, as flat host lists: row r of the chunk is user rows[r].
struct Chunk {
  std::vector<int64_t> rows;
  std::vector<int64_t> history;                       // r * num_items + item
  std::vector<int64_t> target_row, target_item;       // one entry per (row, target)
  std::vector<double> target_count;                   // |T(u)| of the target's user
};

// The next users of `evaluated` from `next` (advanced past them) holding at most `limit` targets
// together (at least one user).
Chunk make_chunk(const EvalData& data, const std::vector<int64_t>& evaluated, size_t& next, int64_t limit) {
  Chunk c;
  int64_t targets = 0;
  while (next < evaluated.size()) {
    const int64_t u = evaluated[next];
    const auto t = data.targets(u);
    if (!c.rows.empty() && targets + static_cast<int64_t>(t.size()) > limit) break;
    const auto r = static_cast<int64_t>(c.rows.size());
    c.rows.push_back(u);
    for (int64_t item : data.history(u)) c.history.push_back(r * data.num_items + item);
    for (int64_t item : t) {
      c.target_row.push_back(r);
      c.target_item.push_back(item);
      c.target_count.push_back(static_cast<double>(t.size()));
    }
    targets += static_cast<int64_t>(t.size());
    ++next;
  }
  return c;
}

// Each target's 0-based position in its user's order (the header's formula).
torch::Tensor target_positions(const Chunk& c, const torch::Tensor& users, const torch::Tensor& items, int64_t n,
                               torch::Tensor& nan_count) {
  const torch::Device device = users.device();
  torch::Tensor scores = users.index_select(0, on(device, c.rows)).matmul(items.t()).contiguous();  // [c, n]
  if (!c.history.empty()) scores.view(-1).index_fill_(0, on(device, c.history), -std::numeric_limits<float>::infinity());
  nan_count += torch::isnan(scores).sum();  // the evaluator reads no score of the history either
  const auto rows = static_cast<int64_t>(c.rows.size());
  const torch::Tensor tr = on(device, c.target_row), ti = on(device, c.target_item);
  const torch::Tensor is_target =
      torch::zeros({rows * n}, torch::TensorOptions(torch::kBool).device(device)).index_fill_(0, tr * n + ti, true).view({rows, n});
  const torch::Tensor row_scores = scores.index_select(0, tr);                       // [m, n]
  const torch::Tensor own = scores.view(-1).index_select(0, tr * n + ti).unsqueeze(1);  // [m, 1]
  const torch::Tensor row_targets = is_target.index_select(0, tr);
  const torch::Tensor tied = row_scores == own;
  const torch::Tensor lower = torch::arange(n, torch::TensorOptions(torch::kLong).device(device)).unsqueeze(0) < ti.unsqueeze(1);
  return (row_scores > own).sum(1) + tied.logical_and(row_targets.logical_not()).sum(1) +
         tied.logical_and(row_targets).logical_and(lower).sum(1);
}

}  // namespace

std::map<std::string, double> tensor_ranking_metrics(const EvalData& data, const torch::Tensor& users,
                                                     const torch::Tensor& items, const std::vector<int64_t>& ks,
                                                     int64_t chunk_targets) {
  if (users.dim() != 2 || items.dim() != 2 || users.size(0) != data.num_users || items.size(0) != data.num_items ||
      users.size(1) != items.size(1)) {
    fail("tensor ranking: got users ", users.sizes(), " and items ", items.sizes(), ", expected [", data.num_users,
         ", D] and [", data.num_items, ", D]");
  }
  if (chunk_targets < 1) fail("tensor ranking: got chunk_targets ", chunk_targets, ", expected >= 1");
  for (int64_t k : ks) {
    if (k < 1) fail("tensor ranking: got K = ", k, ", expected >= 1");
  }
  std::vector<int64_t> evaluated;
  for (int64_t u = 0; u < data.num_users; ++u) {
    if (!data.targets(u).empty()) evaluated.push_back(u);
  }
  const torch::Device device = users.device();
  const auto doubles = torch::TensorOptions(torch::kDouble).device(device);
  std::vector<torch::Tensor> recall(ks.size()), ndcg(ks.size());
  for (size_t j = 0; j < ks.size(); ++j) {
    recall[j] = torch::zeros({}, doubles);
    ndcg[j] = torch::zeros({}, doubles);
  }
  torch::Tensor nan_count = torch::zeros({}, torch::TensorOptions(torch::kLong).device(device));
  for (size_t next = 0; next < evaluated.size();) {
    const Chunk c = make_chunk(data, evaluated, next, chunk_targets);
    const torch::Tensor pos = target_positions(c, users, items, data.num_items, nan_count).to(torch::kDouble);
    const torch::Tensor count = torch::tensor(c.target_count, torch::kDouble).to(device);
    for (size_t j = 0; j < ks.size(); ++j) {
      std::vector<double> ideal;
      for (double t : c.target_count) ideal.push_back(ideal_dcg(std::min<int64_t>(ks[j], static_cast<int64_t>(t))));
      const torch::Tensor hit = (pos < static_cast<double>(ks[j])).to(torch::kDouble);
      recall[j] += (hit / count).sum();
      ndcg[j] += (hit / torch::log2(pos + 2.0) / torch::tensor(ideal, torch::kDouble).to(device)).sum();
    }
  }
  if (nan_count.item<int64_t>() > 0) fail("tensor ranking: got ", nan_count.item<int64_t>(), " NaN scores, expected none");
  std::map<std::string, double> out;
  const auto users_with_targets = static_cast<double>(evaluated.size());
  for (size_t j = 0; j < ks.size(); ++j) {
    const std::string k = std::to_string(ks[j]);
    out["recall@" + k] = evaluated.empty() ? 0.0 : recall[j].item<double>() / users_with_targets;
    out["ndcg@" + k] = evaluated.empty() ? 0.0 : ndcg[j].item<double>() / users_with_targets;
  }
  return out;
}

}  // namespace twotower
