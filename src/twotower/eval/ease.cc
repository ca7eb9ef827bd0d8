#include "twotower/eval/ease.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "twotower/common/error.h"
#include "twotower/common/log.h"
#include "twotower/common/text.h"
#include "twotower/eval/baselines.h"

namespace twotower {
namespace {

// max_i sum_j G[i, j] = max_i sum_{u : i in history(u)} |history(u)|: bounds G's largest eigenvalue.
double max_gram_row_sum(const EvalData& data) {
  std::vector<double> row_sum(static_cast<size_t>(data.num_items), 0.0);
  for (int64_t u = 0; u < data.num_users; ++u) {
    const auto h = data.history(u);
    for (int64_t i : h) row_sum[static_cast<size_t>(i)] += static_cast<double>(h.size());
  }
  return row_sum.empty() ? 0.0 : *std::max_element(row_sum.begin(), row_sum.end());
}

// G + lambda I ([I, I] of type T): G[i, j] = users whose history holds both i and j.
template <typename T>
at::Tensor regularised_gram(const EvalData& data, double lambda, at::ScalarType type) {
  const int64_t n = data.num_items;
  at::Tensor g = at::zeros({n, n}, at::TensorOptions().dtype(type));
  T* p = g.data_ptr<T>();
  for (int64_t u = 0; u < data.num_users; ++u) {
    const auto h = data.history(u);
    for (int64_t i : h) {
      T* row = p + i * n;
      for (int64_t j : h) row[j] += T(1);
    }
  }
  g.diagonal().add_(lambda);
  return g;
}

void check_lambda(double lambda) {
  if (!(lambda > 0.0) || !std::isfinite(lambda)) fail("EASE: lambda: got ", lambda, ", expected a finite number > 0");
}

// K of "<name>@K", with an error naming the value got.
int64_t metric_cutoff(const std::string& metric) {
  const size_t at = metric.find('@');
  int64_t k = 0;
  if (at == 0 || at == std::string::npos || !parse_int64(std::string_view(metric).substr(at + 1), &k) || k < 1) {
    fail("EASE: selection metric: got \"", metric, "\", expected <name>@K with K >= 1, e.g. ndcg@10");
  }
  return k;
}

}  // namespace

const std::vector<double>& ease_default_lambdas() {
  static const std::vector<double> lambdas{10, 50, 200, 500, 1000, 3000};
  return lambdas;
}

std::vector<float> ease_weights(const EvalData& data, double lambda, EaseFit* fit) {
  check_lambda(lambda);
  const auto start = std::chrono::steady_clock::now();
  const int64_t n = data.num_items;
  const double bound = 1.0 + max_gram_row_sum(data) / lambda;
  const bool single = bound <= kEaseFloat32MaxCondition;
  std::vector<float> weights;  // B, row-major; allocated once G and its factor are freed
  if (n > 0) {
    at::Tensor p;  // P = (G + lambda I)^-1; G and its factor are freed as soon as they are used
    {
      at::Tensor g = single ? regularised_gram<float>(data, lambda, at::kFloat)
                            : regularised_gram<double>(data, lambda, at::kDouble);
      auto [factor, info] = at::linalg_cholesky_ex(g);
      g = at::Tensor();
      if (const int bad = info.item<int>(); bad != 0) {
        fail("EASE: Cholesky factorisation of G + lambda I failed at column ", bad, " of ", n, " (lambda ", lambda,
             ", ", single ? "float32" : "float64", "), expected a positive definite matrix");
      }
      p = at::cholesky_inverse(factor);
    }
    // B[i, j] = P[i, j] / -P[j, j]: column j scaled, written straight into `weights`.
    const at::Tensor scale = p.diagonal().neg().unsqueeze(0);
    weights.resize(static_cast<size_t>(n * n));
    at::Tensor b = at::from_blob(weights.data(), {n, n}, at::TensorOptions().dtype(at::kFloat));
    b.copy_(p.div_(scale));
    b.diagonal().zero_();
  }
  if (fit != nullptr) {
    *fit = {lambda, bound, single ? "float32" : "float64",
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
  }
  return weights;
}

std::optional<std::string> ease_skip_reason(int64_t num_items, int64_t max_items) {
  if (num_items <= max_items) return std::nullopt;
  const double gb = static_cast<double>(num_items) * static_cast<double>(num_items) * 4.0 / 1e9;
  char size[32];
  std::snprintf(size, sizeof size, "%.2g", gb);
  return str_cat("EASE skipped: the catalogue has ", num_items, " items, above the limit of ", max_items,
                 " (--ease-max-items); its item x item weights would take ", num_items, "^2 x 4 bytes = ", size,
                 " GB and the fit about twice that");
}

EaseSelection select_ease_lambda(const EvalData& valid, const std::vector<double>& lambdas,
                                 const std::string& metric, const EvalOptions& options) {
  if (valid.split != Split::kValid) fail("EASE: lambda selection: got the ", split_name(valid.split), " split, expected valid");
  if (lambdas.empty()) fail("EASE: lambda grid: got no values, expected at least one lambda > 0");
  for (double lambda : lambdas) check_lambda(lambda);
  if (valid.users_with_targets == 0) {
    fail("EASE: lambda selection: the valid split has no user with a target, expected at least one "
         "(give one lambda to skip the search)");
  }
  EvalOptions eo = options;
  eo.ks = {metric_cutoff(metric)};
  eo.progress = false;
  EaseSelection out;
  for (double lambda : lambdas) {
    EaseTrial trial;
    EaseScorer scorer(valid, ease_weights(valid, lambda, &trial.fit), eo.num_threads);
    trial.value = evaluate_ranking(valid, scorer, eo).value(metric);
    log_info("EASE: lambda ", lambda, ": valid ", metric, " ", trial.value, " (fit ", trial.fit.seconds, " s, ",
             trial.fit.dtype, ")");
    out.trials.push_back(trial);
  }
  const auto best = std::max_element(out.trials.begin(), out.trials.end(),
                                      [](const EaseTrial& a, const EaseTrial& b) { return a.value < b.value; });
  out.lambda = best->fit.lambda;
  return out;
}

}  // namespace twotower
