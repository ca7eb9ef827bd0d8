// What the evaluator ranks with: anything that scores every catalogue item for a user.
// The model only encodes; scoring lives here (dot products of its embeddings), beside the
// baselines that are read against it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace twotower {

/// A non-owning view of a row-major float32 matrix, rows x cols.
struct MatrixView {
  const float* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;

  const float* row(int64_t r) const { return data + r * cols; }
};

class Scorer {
 public:
  virtual ~Scorer() = default;
  /// Short name for reports ("two-tower", "popularity", "itemknn").
  virtual std::string name() const = 0;
  virtual int64_t num_users() const = 0;
  virtual int64_t num_items() const = 0;
  /// Scores every item for each user in `users`: `out` is [users.size(), num_items()] float32,
  /// row-major. Higher is better.
  virtual void score_users(std::span<const int64_t> users, float* out) const = 0;
  /// Scores the pairs (users[i], items[i]) into out[i] (the same scale as score_users).
  virtual void score_pairs(std::span<const int64_t> users, std::span<const int64_t> items,
                           float* out) const = 0;
};

/// score(u, i) = <user_emb[u], item_emb[i]>. Scoring a chunk is one float32 matrix product:
/// a blocked AVX2/FMA kernel over a packed copy of the item matrix (I x D floats more memory)
/// where the CPU has it, LibTorch's at::mm otherwise. The views must outlive the scorer.
class DotProductScorer : public Scorer {
 public:
  /// @param user_emb     [U, D] float32
  /// @param item_emb     [I, D] float32; throws unless both have the same D > 0
  /// @param num_threads  threads for the product; 0 = hardware concurrency
  DotProductScorer(MatrixView user_emb, MatrixView item_emb, std::string name = "two-tower",
                   int num_threads = 0);

  std::string name() const override { return name_; }
  int64_t num_users() const override { return users_.rows; }
  int64_t num_items() const override { return items_.rows; }
  void score_users(std::span<const int64_t> users, float* out) const override;
  void score_pairs(std::span<const int64_t> users, std::span<const int64_t> items,
                   float* out) const override;
  /// Scores every item for each row of `queries` ([n, D] float32, any vectors, not only the user
  /// matrix's): `out` is [n, num_items()] float32, row-major. Throws unless queries.cols == D.
  /// The serving index's exact search (one query per call).
  void score_queries(MatrixView queries, float* out) const;

 private:
  // Scores `n` rows at `rows` ([ceil(n / 6) * 6, D], zero padded; one row needs no padding) into out [n, I].
  void score_rows(const float* rows, int64_t n, float* out) const;

  MatrixView users_;
  MatrixView items_;
  std::string name_;
  int num_threads_;
  bool use_kernel_ = false;
  std::vector<float> packed_;  // item panels [ceil(I / 16), D, 16] for the kernel
};

}  // namespace twotower
