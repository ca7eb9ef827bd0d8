#include "twotower/model/sequence_encoder.h"

#include "twotower/common/error.h"
#include "twotower/model/counter_dropout.h"

namespace twotower {
namespace {

// A [S, T, D] tensor through a Linear as [S * T, D] rows (twotower::linear multiplies 2-D inputs).
torch::Tensor rows_through(Linear& layer, const torch::Tensor& x) {
  return layer->forward(x.reshape({-1, x.size(-1)})).view({x.size(0), x.size(1), -1});
}

}  // namespace

AttentionBlockImpl::AttentionBlockImpl(int64_t dim, int64_t heads, double dropout, const MatmulOptions& matmul)
    : attention_norm(register_module("attention_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})))),
      qkv(register_module("qkv", Linear(dim, 3 * dim, matmul))),
      out(register_module("out", Linear(dim, dim, matmul))),
      feed_forward_norm(register_module("feed_forward_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})))),
      hidden(register_module("hidden", Linear(dim, dim, matmul))),
      output(register_module("output", Linear(dim, dim, matmul))),
      heads(heads),
      dropout(dropout) {}

torch::Tensor AttentionBlockImpl::forward(const torch::Tensor& x) {
  const int64_t s = x.size(0), t = x.size(1), d = x.size(2);
  const double p = is_training() ? dropout : 0.0;
  // [S, T, 3, H, d/H] -> three [S, H, T, d/H]
  torch::Tensor qkv_rows = rows_through(qkv, attention_norm(x)).view({s, t, 3, heads, d / heads}).permute({2, 0, 3, 1, 4});
  torch::Tensor a = at::scaled_dot_product_attention(qkv_rows[0], qkv_rows[1], qkv_rows[2], {}, p, /*is_causal=*/true);
  a = a.transpose(1, 2).reshape({s, t, d});
  torch::Tensor y = x + counter_dropout(rows_through(out, a), p);
  torch::Tensor h = rows_through(output, relu_counter_dropout(rows_through(hidden, feed_forward_norm(y)), p));
  return y + counter_dropout(h, p);
}

SequenceEncoderImpl::SequenceEncoderImpl(const ModelConfig& c, const MatmulOptions& matmul)
    : max_length(c.user_history), dropout(c.attention_dropout) {
  const int64_t d = c.embedding_dim;
  if (c.attention_heads < 1 || d % c.attention_heads != 0) {
    fail("model.attention_heads: got ", c.attention_heads, ", expected a divisor of embedding_dim (", d, ")");
  }
  if (c.user_history < 1) fail("model.user_history: got ", c.user_history, ", expected >= 1 with attention pooling");
  start = register_parameter("start", torch::randn({1, d}) * c.embedding_init_std);
  positions = register_parameter("positions", torch::randn({c.user_history + 1, d}) * c.embedding_init_std);
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int64_t k = 0; k < c.attention_blocks; ++k) {
    blocks->push_back(AttentionBlock(d, c.attention_heads, c.attention_dropout, matmul));
  }
  final_norm = register_module("final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
}

torch::Tensor SequenceEncoderImpl::prefixes(const torch::Tensor& items) {
  if (items.dim() != 3 || items.size(1) > max_length || items.size(2) != start.size(1)) {
    fail("attention pooling: got histories of shape ", items.sizes(), ", expected [S, L <= ", max_length, ", ",
         start.size(1), "]");
  }
  const int64_t s = items.size(0), l = items.size(1);
  torch::Tensor x = torch::cat({start.unsqueeze(0).expand({s, 1, start.size(1)}), items}, 1) +
                    positions.slice(0, 0, l + 1).unsqueeze(0);
  const double p = is_training() ? dropout : 0.0;
  x = counter_dropout(x, p);
  for (const auto& block : *blocks) x = block->as<AttentionBlock>()->forward(x);
  return final_norm(x);
}

}  // namespace twotower
