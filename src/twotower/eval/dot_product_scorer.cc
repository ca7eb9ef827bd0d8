// The one evaluation source that includes ATen: scoring a chunk is a single GEMM.
#include <ATen/ATen.h>

#include <vector>

#include "twotower/common/error.h"
#include "twotower/eval/scorer.h"

namespace twotower {
namespace {

// ATen reads but never writes these buffers; from_blob only takes a mutable pointer.
at::Tensor view_of(const float* data, int64_t rows, int64_t cols) {
  return at::from_blob(const_cast<float*>(data), {rows, cols}, at::TensorOptions().dtype(at::kFloat));
}

void check_ids(const char* what, std::span<const int64_t> ids, int64_t limit) {
  for (int64_t id : ids) {
    if (id < 0 || id >= limit) fail("dot-product scorer: ", what, " id ", id, " outside [0, ", limit, ")");
  }
}

}  // namespace

DotProductScorer::DotProductScorer(MatrixView user_emb, MatrixView item_emb, std::string name)
    : users_(user_emb), items_(item_emb), name_(std::move(name)) {
  if (users_.cols != items_.cols || users_.cols <= 0) {
    fail("dot-product scorer: got user embeddings [", users_.rows, ", ", users_.cols,
         "] and item embeddings [", items_.rows, ", ", items_.cols,
         "], expected the same width D > 0");
  }
  if ((users_.rows > 0 && users_.data == nullptr) || (items_.rows > 0 && items_.data == nullptr)) {
    fail("dot-product scorer: got a null embedding matrix, expected data");
  }
}

void DotProductScorer::score_users(std::span<const int64_t> users, float* out) const {
  check_ids("user", users, users_.rows);
  const auto n = static_cast<int64_t>(users.size());
  const int64_t d = users_.cols;
  if (n == 0 || items_.rows == 0) return;
  std::vector<float> gathered(static_cast<size_t>(n * d));  // [n, D]
  for (int64_t r = 0; r < n; ++r) {
    std::copy_n(users_.row(users[static_cast<size_t>(r)]), d, gathered.data() + r * d);
  }
  at::Tensor u = view_of(gathered.data(), n, d);            // [n, D]
  at::Tensor items = view_of(items_.data, items_.rows, d);  // [I, D]
  at::Tensor result = at::from_blob(out, {n, items_.rows}, at::TensorOptions().dtype(at::kFloat));
  at::mm_out(result, u, items.t());                         // [n, I]
}

void DotProductScorer::score_pairs(std::span<const int64_t> users, std::span<const int64_t> items,
                                   float* out) const {
  if (users.size() != items.size()) {
    fail("dot-product scorer: got ", users.size(), " users and ", items.size(), " items, expected pairs");
  }
  check_ids("user", users, users_.rows);
  check_ids("item", items, items_.rows);
  const int64_t d = users_.cols;
  for (size_t i = 0; i < users.size(); ++i) {
    const float* u = users_.row(users[i]);
    const float* v = items_.row(items[i]);
    float s = 0.0f;
    for (int64_t k = 0; k < d; ++k) s += u[k] * v[k];
    out[i] = s;
  }
}

}  // namespace twotower
