// Row-wise optimizers for embedding tables: only the rows a batch touches are read and written
// (the parameter rows and their optimizer state), so a step costs O(rows touched * D) whatever
// the table size. The dense optimizer (torch's Adam over every element) costs O(table) per step.
//
// Each table's gradient is a sparse COO tensor (an Embedding with sparse = true gives one, with
// one row per looked-up id, duplicates included); coalesce_grads sums the duplicates.
//   lazy Adam (rows r with a gradient, t = steps taken including this one, g += wd * w first):
//     m_r = b1 m_r + (1 - b1) g_r;  v_r = b2 v_r + (1 - b2) g_r^2
//     w_r -= lr / (1 - b1^t) * m_r / (sqrt(v_r) / sqrt(1 - b2^t) + eps)
//   AdaGrad:  s_r += g_r^2;  w_r -= lr * g_r / (sqrt(s_r) + eps)
// For one step from zero state this equals torch's dense Adam / Adagrad on the touched rows;
// untouched rows (and their moments) stay as they are. t is one counter for all tables.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "twotower/config/config.h"

namespace at {
class Tensor;
}
namespace torch::serialize {
class InputArchive;
class OutputArchive;
}  // namespace torch::serialize

namespace twotower {

struct RowWiseOptions {
  EmbeddingOptimizerKind kind = EmbeddingOptimizerKind::kLazyAdam;  // lazy_adam or adagrad
  double learning_rate = 1e-3;  // > 0
  double weight_decay = 0;      // >= 0, L2 added to the touched rows' gradient (as torch's Adam)
  double beta1 = 0.9, beta2 = 0.999, adam_eps = 1e-8;  // torch's Adam defaults
  double adagrad_eps = 1e-10;                          // torch's Adagrad default
  /// The update by LibTorch tensor operations (index_select / index_copy_ of the touched rows)
  /// instead of the CPU kernel: always for tables off the CPU (a GPU); on the CPU for tests,
  /// which check both give the same rows.
  bool tensor_ops = false;
};

class RowWiseOptimizer {
 public:
  /// @param tables  [rows, D] float32 leaf parameters, each updated in place
  RowWiseOptimizer(const std::vector<at::Tensor>& tables, const RowWiseOptions& options);
  ~RowWiseOptimizer();
  RowWiseOptimizer(const RowWiseOptimizer&) = delete;
  RowWiseOptimizer& operator=(const RowWiseOptimizer&) = delete;

  /// Replaces each table's gradient by its coalesced form (sorted unique rows, duplicates summed)
  /// and returns the sum of squares of all of them (for clipping by the global norm).
  double coalesce_grads();
  /// Multiplies every table's gradient by `factor` (after coalesce_grads).
  void scale_grads(double factor);
  /// One update of the rows that have a gradient; tables without a gradient are skipped.
  void step();
  /// Drops the tables' gradients.
  void zero_grad();

  void set_learning_rate(double learning_rate);
  double learning_rate() const;
  int64_t steps() const;

  /// The step count and per-row state, under this archive's keys.
  void save(torch::serialize::OutputArchive& archive) const;
  /// Reads what save wrote; throws when the kind or table shapes differ.
  void load(torch::serialize::InputArchive& archive);
  /// Continues `old` on grown tables (train/init_from.h): takes its step count and its per-row
  /// state for the leading rows of each table; the rows beyond old's keep zero state. Throws
  /// when the kind, the table count or a width differs, or a table has fewer rows than old's.
  void continue_from(const RowWiseOptimizer& old);
  /// Zeroes the per-row state of `rows` (int64 indices) of `table`, one of the tables given at
  /// construction (the same tensor); a table it does not hold is left alone.
  void zero_rows(const at::Tensor& table, const at::Tensor& rows);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace twotower
