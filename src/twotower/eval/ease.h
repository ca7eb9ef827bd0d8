// EASE (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019): a linear
// item-item model with a closed form, fit on the binary user x item history matrix X of an
// EvalData (train for valid, train + valid for test, as the other baselines):
//   G = X^T X,  P = (G + lambda I)^-1,  B = I - P diag(1 / diag(P)),
// that is B[i, j] = -P[i, j] / P[j, j] for i != j and B[j, j] = 0; score(u, .) = X_u B
// (EaseScorer in baselines.h). B is dense: I^2 float32 (Games, 16,859 items: 1.14 GB).
//
// Precision. G + lambda I is factorised by Cholesky and inverted (LibTorch's LAPACK); its
// eigenvalues lie in [lambda, lambda + rho(G)] and rho(G) <= max_i sum_j G[i, j], so
// cond <= 1 + max row sum / lambda. The inverse's relative error is of order cond * eps; float32
// (eps 6e-8) is used while that bound is at most kEaseFloat32MaxCondition (error below about 1e-3
// of B's scale, well under the gaps that order a user's items), float64 above it. float32 halves
// the memory and runs LAPACK about twice as fast; G's entries are counts, exact in either type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "twotower/eval/evaluator.h"

namespace twotower {

/// The default catalogue limit: B alone is 20,000^2 x 4 bytes = 1.6 GB and the fit peaks near
/// twice that (float32): a few GB, well inside the memory of a small machine.
constexpr int64_t kEaseDefaultMaxItems = 20000;
/// The largest condition-number bound at which the fit stays in float32 (see above).
constexpr double kEaseFloat32MaxCondition = 1e4;

/// The lambda grid searched on validation when none is given.
const std::vector<double>& ease_default_lambdas();

/// What one fit did, for the report.
struct EaseFit {
  double lambda = 0.0;
  double condition_bound = 0.0;  // 1 + max row sum of G / lambda
  std::string dtype;             // "float32" or "float64": the factorisation's type
  double seconds = 0.0;          // Gram matrix, factorisation and B
};

/// B for `data`'s history: [I, I] float32, row-major, B[i, i] = 0. Distinct (user, item) pairs
/// count once (X is binary). Throws when lambda is not > 0 or the factorisation fails.
/// `fit` (may be null) receives what the fit did.
std::vector<float> ease_weights(const EvalData& data, double lambda, EaseFit* fit = nullptr);

/// The reason EASE is not fit for a catalogue of `num_items` items above `max_items`, naming
/// both and the memory B would take; nullopt when it fits.
std::optional<std::string> ease_skip_reason(int64_t num_items, int64_t max_items);

/// One lambda of the search.
struct EaseTrial {
  EaseFit fit;
  double value = 0.0;  // the selection metric on the validation split
};

struct EaseSelection {
  double lambda = 0.0;  // the grid value with the highest metric (the first of equals)
  std::vector<EaseTrial> trials;  // in grid order
};

/// Fits EASE on `valid`'s history (the train split) for each lambda of `lambdas`, ranks the
/// validation users with the evaluator, and returns the lambda with the highest `metric`
/// ("<name>@K" of ranking_metric_names(), e.g. "ndcg@10"). `options` gives the chunking and
/// threads (its cutoffs are replaced by K). Throws on an empty grid, a lambda not > 0, a data
/// set whose split is not valid or has no user with a target, or a metric that is not "<name>@K".
EaseSelection select_ease_lambda(const EvalData& valid, const std::vector<double>& lambdas,
                                 const std::string& metric, const EvalOptions& options);

}  // namespace twotower
