#include "twotower/train/loss.h"

#include <torch/torch.h>

#include <limits>
#include <unordered_map>
#include <vector>

#include "twotower/common/error.h"

namespace twotower {

at::Tensor bce_loss(const at::Tensor& scores, const at::Tensor& labels, const at::Tensor& scale) {
  if (scores.numel() == 0) return torch::zeros({}, scores.options());
  return torch::binary_cross_entropy_with_logits(scores * scale, labels);
}

at::Tensor bce_loss(const at::Tensor& scores, const at::Tensor& labels, double scale) {
  return bce_loss(scores, labels, torch::full({}, scale, scores.options()));
}

at::Tensor bpr_loss(const at::Tensor& positive, const at::Tensor& negative, const at::Tensor& scale) {
  const int64_t b = positive.numel();
  if (b == 0 || negative.numel() == 0) return torch::zeros({}, positive.options());
  if (negative.numel() % b != 0) fail("bpr loss: got ", negative.numel(), " negatives for ", b, " positives");
  torch::Tensor diff = positive.repeat({negative.numel() / b}) - negative;
  return torch::nn::functional::softplus(-scale * diff).mean();
}

namespace {

// Flat indices (r * C + j) of the accidental hits: column j holds row r's item and j != r.
torch::Tensor accidental_hits(const torch::Tensor& rows, const torch::Tensor& cols) {
  const int64_t b = rows.numel(), c = cols.numel();
  const int64_t* row = rows.data_ptr<int64_t>();
  const int64_t* col = cols.data_ptr<int64_t>();
  std::unordered_map<int64_t, std::vector<int64_t>> columns_of;
  columns_of.reserve(static_cast<size_t>(c));
  for (int64_t j = 0; j < c; ++j) columns_of[col[j]].push_back(j);
  std::vector<int64_t> flat;
  for (int64_t r = 0; r < b; ++r) {
    const auto& same = columns_of[row[r]];
    if (same.size() < 2 && (same.empty() || same[0] == r)) continue;
    for (int64_t j : same) {
      if (j != r) flat.push_back(r * c + j);
    }
  }
  return torch::tensor(flat, torch::kLong);
}

// The CPU loss as one autograd node over one [B, C] buffer: the forward turns the buffer into
// exp(l_bc - max_b) in place and keeps it with each row's sum, the backward scales it in place
// into softmax - one-hot, the gradient of the scores. The composed loss makes about eight
// [B, C] temporaries (64 MB each at B = C = 4096), each one page faults on every step.
class FusedSampledSoftmax : public torch::autograd::Function<FusedSampledSoftmax> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& scores,
                               const torch::Tensor& row_items, const torch::Tensor& column_items,
                               const torch::Tensor& log_q, double temperature, bool mask_hits) {
    torch::NoGradGuard no_grad;
    const int64_t b = scores.size(0);
    // l = s / T - log q, in one pass when there is a correction (log_q empty: none).
    torch::Tensor buffer = log_q.numel() > 0 ? torch::add(-log_q.unsqueeze(0), scores, 1.0 / temperature)
                                             : scores.mul(1.0 / temperature);
    if (mask_hits) {
      torch::Tensor hits = accidental_hits(row_items.contiguous(), column_items.contiguous());
      if (hits.numel() > 0) buffer.view(-1).index_fill_(0, hits, -std::numeric_limits<float>::infinity());
    }
    torch::Tensor positive = buffer.slice(1, 0, b).diagonal().clone();  // l_bb
    torch::Tensor max = std::get<0>(buffer.max(1, true));                // [B, 1], finite: l_bb is never masked
    buffer.sub_(max).exp_();
    torch::Tensor sum = buffer.sum(1, true);                             // [B, 1]
    ctx->saved_data["buffer"] = buffer;
    ctx->saved_data["sum"] = sum;
    ctx->saved_data["inv_t"] = 1.0 / temperature;
    return (max.squeeze(1) + sum.squeeze(1).log() - positive).mean();
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    torch::Tensor grad = ctx->saved_data["buffer"].toTensor();
    torch::Tensor sum = ctx->saved_data["sum"].toTensor();
    ctx->saved_data.erase("buffer");  // scaled in place below: a second backward would read garbage
    const int64_t b = grad.size(0);
    const double g = grad_outputs[0].item<double>() * ctx->saved_data["inv_t"].toDouble() / static_cast<double>(b);
    grad.mul_(sum.reciprocal().mul_(g));  // g * softmax
    grad.slice(1, 0, b).diagonal().sub_(g);
    return {grad, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

// The full softmax of users @ items^T as one node: the forward computes the loss and both
// gradients in blocks of rows (scores, softmax, softmax - one-hot, the two products), the
// backward scales them by the output's gradient.
class ChunkedFullSoftmax : public torch::autograd::Function<ChunkedFullSoftmax> {
 public:
  // Logits up to this bound are exponentiated as they are: exp(80) = 5.5e34, and a sum of up to
  // 1e3 such terms per million items stays below float's 3.4e38.
  static constexpr double kMaxUnshiftedLogit = 80.0;

  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& users,
                               const torch::Tensor& items, const torch::Tensor& targets, double temperature) {
    torch::NoGradGuard no_grad;
    constexpr int64_t kRows = 64;
    const int64_t b = users.size(0);
    const double inv_t = 1.0 / temperature, scale = inv_t / static_cast<double>(b);
    // |logit| <= max ||u|| max ||v|| / T (1 / T for the towers' unit vectors): below the bound
    // no row maximum is subtracted, which saves two passes over each block.
    const double bound = inv_t * torch::linalg_vector_norm(users, 2, {1}).max().item<double>() *
                         torch::linalg_vector_norm(items, 2, {1}).max().item<double>();
    const bool unshifted = bound <= kMaxUnshiftedLogit;
    const torch::Tensor scaled_users = users * inv_t;
    torch::Tensor grad_users = torch::empty_like(users), grad_items = torch::zeros_like(items);
    const torch::Tensor items_t = items.t();
    double total = 0;
    for (int64_t r = 0; r < b; r += kRows) {
      const int64_t e = std::min(b, r + kRows);
      const torch::Tensor u = users.slice(0, r, e), t = targets.slice(0, r, e);
      const torch::Tensor target_items = items.index_select(0, t);
      torch::Tensor block = torch::mm(scaled_users.slice(0, r, e), items_t);  // [c, I] logits
      const torch::Tensor positive = (scaled_users.slice(0, r, e) * target_items).sum(1, true);
      torch::Tensor shift = torch::zeros_like(positive);
      if (!unshifted) {
        shift = std::get<0>(block.max(1, true));
        block.sub_(shift);
      }
      block.exp_();
      const torch::Tensor sum = block.sum(1, true);
      total += (shift + sum.log() - positive).sum().item<double>();
      // d loss / d logits = softmax / B - onehot(target) / B; the softmax's 1 / sum is applied to
      // the [c, D] products, not to the block.
      const torch::Tensor row_factor = sum.reciprocal().mul_(scale);  // [c, 1]
      grad_users.slice(0, r, e).copy_(torch::mm(block, items).mul_(row_factor).sub_(target_items, scale));
      grad_items.addmm_(block.t(), u * row_factor);
      grad_items.index_add_(0, t, u, -scale);
    }
    ctx->saved_data["grad_users"] = grad_users;
    ctx->saved_data["grad_items"] = grad_items;
    return torch::tensor(total / static_cast<double>(b), users.options());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const torch::Tensor g = grad_outputs[0];
    return {ctx->saved_data["grad_users"].toTensor() * g, ctx->saved_data["grad_items"].toTensor() * g,
            torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

at::Tensor sampled_softmax_loss(const at::Tensor& scores, const at::Tensor& row_items, const at::Tensor& column_items,
                                const at::Tensor& log_q, double temperature, bool mask_hits) {
  const int64_t b = scores.size(0), c = scores.size(1);
  if (b == 0) return torch::zeros({}, scores.options());
  if (c < b || row_items.numel() != b || column_items.numel() != c || (log_q.defined() && log_q.numel() != c)) {
    fail("sampled softmax: got scores [", b, ", ", c, "], ", row_items.numel(), " row items, ", column_items.numel(),
         " column items, expected [B, C >= B], B and C");
  }
  if (scores.device().is_cpu() && scores.scalar_type() == torch::kFloat) {
    return FusedSampledSoftmax::apply(scores, row_items.to(torch::kLong), column_items.to(torch::kLong),
                                      log_q.defined() ? log_q.to(torch::kFloat) : torch::empty({0}), temperature,
                                      mask_hits);
  }
  return sampled_softmax_loss_composed(scores, row_items, column_items, log_q, temperature, mask_hits);
}

at::Tensor sampled_softmax_loss_composed(const at::Tensor& scores, const at::Tensor& row_items,
                                         const at::Tensor& column_items, const at::Tensor& log_q, double temperature,
                                         bool mask_hits) {
  const int64_t b = scores.size(0);
  if (b == 0) return torch::zeros({}, scores.options());
  torch::Tensor logits = scores / temperature;
  if (log_q.defined()) logits = logits - log_q.unsqueeze(0);
  if (mask_hits) {
    torch::Tensor same = row_items.unsqueeze(1) == column_items.unsqueeze(0);  // [B, C]
    same.slice(1, 0, b).fill_diagonal_(false);
    logits = logits.masked_fill(same, -std::numeric_limits<float>::infinity());
  }
  torch::Tensor target = torch::arange(b, torch::TensorOptions(torch::kLong).device(scores.device()));
  return torch::nn::functional::cross_entropy(logits, target);
}

at::Tensor full_softmax_loss_of(const at::Tensor& users, const at::Tensor& items, const at::Tensor& targets,
                                double temperature) {
  if (users.size(0) == 0) return torch::zeros({}, users.options());
  if (users.device().is_cpu() && users.scalar_type() == torch::kFloat && items.scalar_type() == torch::kFloat) {
    return ChunkedFullSoftmax::apply(users.contiguous(), items.contiguous(), targets.to(torch::kLong), temperature);
  }
  return torch::nn::functional::cross_entropy(torch::mm(users, items.t()) / temperature, targets);
}

}  // namespace twotower
