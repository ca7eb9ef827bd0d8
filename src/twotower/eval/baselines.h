// Baselines scored by the same evaluator as the model, fit on the same history (every
// interaction before the evaluated split), so every model figure is read against them.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "twotower/eval/eval_data.h"
#include "twotower/eval/scorer.h"

namespace twotower {

/// score(u, i) = number of history interactions of item i (the same for every user).
class PopularityScorer : public Scorer {
 public:
  /// Keeps a reference to `data`, which must outlive the scorer.
  explicit PopularityScorer(const EvalData& data);

  std::string name() const override { return "popularity"; }
  int64_t num_users() const override { return data_.num_users; }
  int64_t num_items() const override { return data_.num_items; }
  void score_users(std::span<const int64_t> users, float* out) const override;
  void score_pairs(std::span<const int64_t> users, std::span<const int64_t> items,
                   float* out) const override;

 private:
  const EvalData& data_;
};

/// Item-based k-nearest neighbours (as RecBole's ItemKNN): with R the binary user x item
/// history matrix, sim(i, j) = |U_i ∩ U_j| / sqrt(|U_i| |U_j|) (cosine of R's columns);
/// each item j keeps its `neighbours` most similar items i != j (ties to the lower index),
/// W[i, j] = sim(i, j) for those and 0 otherwise; score(u, j) = sum_{i in history(u)} W[i, j].
class ItemKnnScorer : public Scorer {
 public:
  /// Keeps a reference to `data`. Throws when neighbours < 1.
  ItemKnnScorer(const EvalData& data, int64_t neighbours = 100);

  std::string name() const override { return "itemknn"; }
  int64_t num_users() const override { return data_.num_users; }
  int64_t num_items() const override { return data_.num_items; }
  void score_users(std::span<const int64_t> users, float* out) const override;
  void score_pairs(std::span<const int64_t> users, std::span<const int64_t> items,
                   float* out) const override;

  /// Row i of W: the items j that keep i as a neighbour, with W[i, j], sorted by j.
  std::span<const std::pair<int64_t, float>> neighbours_of(int64_t item) const {
    return {edges_.data() + offsets_[item], edges_.data() + offsets_[item + 1]};
  }

 private:
  const EvalData& data_;
  std::vector<int64_t> offsets_;                 // [I + 1]
  std::vector<std::pair<int64_t, float>> edges_;  // (j, W[i, j]) grouped by i
};

/// EASE (Steck 2019) scored from its item-item weights B, which ease.h fits:
/// score(u, j) = sum_{i in history(u)} B[i, j], the row X_u B of the binary history matrix X.
class EaseScorer : public Scorer {
 public:
  /// Keeps a reference to `data` and takes `weights` (B, [I, I] float32, row-major).
  /// Throws unless weights.size() == I * I. `num_threads` scores users in parallel (0 = all cores).
  EaseScorer(const EvalData& data, std::vector<float> weights, int num_threads = 0);

  std::string name() const override { return "ease"; }
  int64_t num_users() const override { return data_.num_users; }
  int64_t num_items() const override { return data_.num_items; }
  void score_users(std::span<const int64_t> users, float* out) const override;
  void score_pairs(std::span<const int64_t> users, std::span<const int64_t> items,
                   float* out) const override;

  /// B[i, j] at weights()[i * I + j].
  const std::vector<float>& weights() const { return weights_; }

 private:
  const EvalData& data_;
  std::vector<float> weights_;  // [I, I]
  int num_threads_;
};

}  // namespace twotower
