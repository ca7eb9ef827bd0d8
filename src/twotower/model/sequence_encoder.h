// The attention pooling of a user's history (model.user_history_pooling: attention), after
// SASRec (Kang and McAuley, "Self-Attentive Sequential Recommendation", ICDM 2018): the items'
// id embeddings, oldest first, after a learned start token, plus learned positions, through
// model.attention_blocks pre-norm blocks of causal multi-head self-attention and a feed-forward
// layer (Linear, ReLU, Linear, width embedding_dim), then a layer norm. The output at position p
// pools the start token and the history's first p items, so one pass over a history gives the
// user vector of every prefix (training) and position `length` the vector of the whole history
// (serving). Position 0, the start token alone, is the vector of an empty history (a new user).
//
// Checkpoint keys, under user_tower.sequence: start [1, D], positions [N + 1, D] (N =
// model.user_history), blocks.K.{attention_norm,qkv,out,feed_forward_norm,hidden,output}.*,
// final_norm.*.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include "twotower/config/config.h"
#include "twotower/model/linear.h"

namespace twotower {

/// One pre-norm block: x + Attention(LN(x)), then x + FeedForward(LN(x)), dropout on the
/// attention weights (scaled_dot_product_attention's) and counter-based dropout
/// (model/counter_dropout.h) on both residual branches and the feed-forward's hidden layer.
struct AttentionBlockImpl : torch::nn::Module {
  AttentionBlockImpl(int64_t dim, int64_t heads, double dropout, const MatmulOptions& matmul);
  /// [S, T, D] -> [S, T, D]; position t attends to positions <= t only.
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::LayerNorm attention_norm{nullptr};
  Linear qkv{nullptr};  // D -> 3D: queries, keys, values
  Linear out{nullptr};
  torch::nn::LayerNorm feed_forward_norm{nullptr};
  Linear hidden{nullptr};
  Linear output{nullptr};
  int64_t heads;
  double dropout;
};
TORCH_MODULE(AttentionBlock);

struct SequenceEncoderImpl : torch::nn::Module {
  /// Reads embedding_dim, user_history (the longest history, N), attention_blocks,
  /// attention_heads, attention_dropout and embedding_init_std (start token and positions).
  SequenceEncoderImpl(const ModelConfig& config, const MatmulOptions& matmul = {});

  /// @param items  [S, L] item embeddings of S histories, oldest first, L <= N; rows past a
  ///               history's end may hold anything (no earlier position reads them)
  /// @return       [S, L + 1, D]: position p pools the start token and the first p items
  torch::Tensor prefixes(const torch::Tensor& items);

  torch::Tensor start;
  torch::Tensor positions;
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm final_norm{nullptr};
  int64_t max_length;
  double dropout;
};
TORCH_MODULE(SequenceEncoder);

}  // namespace twotower
