#include "twotower/eval/metrics.h"

#include <algorithm>
#include <cmath>

#include "twotower/common/error.h"

namespace twotower {
namespace {

void check_k(int64_t k) {
  if (k < 1) fail("metric cutoff K: got ", k, ", expected K >= 1");
}

bool contains(std::span<const int64_t> sorted, int64_t x) {
  return std::binary_search(sorted.begin(), sorted.end(), x);
}

int64_t cut(std::span<const int64_t> ranked, int64_t k) {
  return std::min<int64_t>(k, static_cast<int64_t>(ranked.size()));
}

void check_pairs(const char* name, std::span<const double> y, std::span<const double> p) {
  if (y.size() != p.size()) {
    fail(name, ": got ", y.size(), " targets and ", p.size(), " predictions, expected equal lengths");
  }
  if (y.empty()) fail(name, ": got no (target, prediction) pairs, expected at least one");
}

}  // namespace

int64_t hits_at_k(std::span<const int64_t> ranked, std::span<const int64_t> targets, int64_t k) {
  check_k(k);
  int64_t hits = 0;
  for (int64_t i = 0, n = cut(ranked, k); i < n; ++i) hits += contains(targets, ranked[i]);
  return hits;
}

double precision_at_k(std::span<const int64_t> ranked, std::span<const int64_t> targets, int64_t k) {
  int64_t hits = hits_at_k(ranked, targets, k);
  return targets.empty() ? 0.0 : static_cast<double>(hits) / static_cast<double>(k);
}

double recall_at_k(std::span<const int64_t> ranked, std::span<const int64_t> targets, int64_t k) {
  int64_t hits = hits_at_k(ranked, targets, k);
  return targets.empty() ? 0.0 : static_cast<double>(hits) / static_cast<double>(targets.size());
}

double f1_at_k(std::span<const int64_t> ranked, std::span<const int64_t> targets, int64_t k) {
  double p = precision_at_k(ranked, targets, k);
  double r = recall_at_k(ranked, targets, k);
  return p + r > 0.0 ? 2.0 * p * r / (p + r) : 0.0;
}

double ndcg_at_k(std::span<const int64_t> ranked, std::span<const int64_t> targets, int64_t k) {
  check_k(k);
  if (targets.empty()) return 0.0;
  double dcg = 0.0;
  for (int64_t i = 0, n = cut(ranked, k); i < n; ++i) {
    if (contains(targets, ranked[i])) dcg += 1.0 / std::log2(static_cast<double>(i) + 2.0);
  }
  double idcg = 0.0;
  for (int64_t i = 0, n = std::min<int64_t>(k, static_cast<int64_t>(targets.size())); i < n; ++i) {
    idcg += 1.0 / std::log2(static_cast<double>(i) + 2.0);
  }
  return dcg / idcg;
}

double hit_rate_at_k(std::span<const int64_t> ranked, std::span<const int64_t> targets, int64_t k) {
  return hits_at_k(ranked, targets, k) > 0 ? 1.0 : 0.0;
}

double mrr_at_k(std::span<const int64_t> ranked, std::span<const int64_t> targets, int64_t k) {
  check_k(k);
  for (int64_t i = 0, n = cut(ranked, k); i < n; ++i) {
    if (contains(targets, ranked[i])) return 1.0 / (static_cast<double>(i) + 1.0);
  }
  return 0.0;
}

double coverage(const std::vector<std::vector<int64_t>>& lists, int64_t num_items) {
  if (num_items <= 0) return 0.0;
  std::vector<char> seen(static_cast<size_t>(num_items), 0);
  int64_t distinct = 0;
  for (const auto& list : lists) {
    for (int64_t item : list) {
      if (item < 0 || item >= num_items) {
        fail("coverage: item id ", item, " outside the catalogue [0, ", num_items, ")");
      }
      if (!seen[static_cast<size_t>(item)]) {
        seen[static_cast<size_t>(item)] = 1;
        ++distinct;
      }
    }
  }
  return static_cast<double>(distinct) / static_cast<double>(num_items);
}

double intra_list_diversity(std::span<const int64_t> items, const float* unit_vectors, int64_t dim) {
  const auto n = static_cast<int64_t>(items.size());
  if (n < 2) return 0.0;
  // Per-dimension sums of u and of u*u in float (a few dozen unit components each): both loops
  // run along d and vectorise; the totals are summed in double.
  std::vector<float> sum(static_cast<size_t>(2 * dim), 0.0f);
  float* s = sum.data();
  float* sq = sum.data() + dim;
  for (int64_t item : items) {
    const float* v = unit_vectors + item * dim;
    for (int64_t d = 0; d < dim; ++d) {
      s[d] += v[d];
      sq[d] += v[d] * v[d];
    }
  }
  double total = 0.0, self = 0.0;  // |sum_i u_i|^2 and sum_i |u_i|^2
  for (int64_t d = 0; d < dim; ++d) {
    total += static_cast<double>(s[d]) * s[d];
    self += sq[d];
  }
  const double mean_cos = (total - self) / (static_cast<double>(n) * static_cast<double>(n - 1));
  return 1.0 - mean_cos;
}

double novelty(std::span<const int64_t> items, std::span<const int64_t> item_degree, int64_t num_users) {
  if (num_users < 0) fail("novelty: got ", num_users, " users, expected >= 0");
  if (items.empty()) return 0.0;
  double total = 0.0;
  const double denom = static_cast<double>(num_users) + 1.0;
  for (int64_t item : items) {
    if (item < 0 || item >= static_cast<int64_t>(item_degree.size())) {
      fail("novelty: item id ", item, " outside the catalogue [0, ", item_degree.size(), ")");
    }
    double p = (static_cast<double>(item_degree[static_cast<size_t>(item)]) + 1.0) / denom;
    total += -std::log2(p);
  }
  return total / static_cast<double>(items.size());
}

double mse(std::span<const double> y, std::span<const double> p) {
  check_pairs("mse", y, p);
  double total = 0.0;
  for (size_t i = 0; i < y.size(); ++i) total += (y[i] - p[i]) * (y[i] - p[i]);
  return total / static_cast<double>(y.size());
}

double rmse(std::span<const double> y, std::span<const double> p) { return std::sqrt(mse(y, p)); }

double mae(std::span<const double> y, std::span<const double> p) {
  check_pairs("mae", y, p);
  double total = 0.0;
  for (size_t i = 0; i < y.size(); ++i) total += std::abs(y[i] - p[i]);
  return total / static_cast<double>(y.size());
}

double r2(std::span<const double> y, std::span<const double> p) {
  check_pairs("r2", y, p);
  double mean = 0.0;
  for (double v : y) mean += v;
  mean /= static_cast<double>(y.size());
  double ss_res = 0.0, ss_tot = 0.0;
  for (size_t i = 0; i < y.size(); ++i) {
    ss_res += (y[i] - p[i]) * (y[i] - p[i]);
    ss_tot += (y[i] - mean) * (y[i] - mean);
  }
  return 1.0 - ss_res / (ss_tot + kRegressionEps);
}

double mape(std::span<const double> y, std::span<const double> p) {
  check_pairs("mape", y, p);
  double total = 0.0;
  for (size_t i = 0; i < y.size(); ++i) total += std::abs(y[i] - p[i]) / (std::abs(y[i]) + kRegressionEps);
  return 100.0 * total / static_cast<double>(y.size());
}

double smape(std::span<const double> y, std::span<const double> p) {
  check_pairs("smape", y, p);
  double total = 0.0;
  for (size_t i = 0; i < y.size(); ++i) {
    total += 2.0 * std::abs(y[i] - p[i]) / (std::abs(y[i]) + std::abs(p[i]) + kRegressionEps);
  }
  return 100.0 * total / static_cast<double>(y.size());
}

LinearMap fit_linear_map(std::span<const double> x, std::span<const double> y) {
  check_pairs("linear map from score to rating", x, y);
  const auto n = static_cast<double>(x.size());
  double mx = 0.0, my = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  double cov = 0.0, var = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    cov += (x[i] - mx) * (y[i] - my);
    var += (x[i] - mx) * (x[i] - mx);
  }
  LinearMap m;
  m.a = var > 0.0 ? cov / var : 0.0;
  m.b = my - m.a * mx;
  return m;
}

}  // namespace twotower
