#include "train/model_flops.h"

namespace twotower {
namespace {

// Multiply-adds of the hidden layers and the output layer of one tower's MLP.
double mlp_macs(int64_t in, const std::vector<int64_t>& hidden, int64_t out, bool output_layer) {
  double macs = 0;
  for (int64_t h : hidden) {
    macs += static_cast<double>(in) * static_cast<double>(h);
    in = h;
  }
  if (output_layer) macs += static_cast<double>(in) * static_cast<double>(out);
  return macs;
}

}  // namespace

PairFlops pair_flops(const ModelConfig& m, int64_t text_dim) {
  const int64_t d = m.embedding_dim;
  int64_t item_inputs = (m.use_item_id ? 1 : 0) + (m.use_category ? 1 : 0) + (m.use_brand ? 1 : 0) + (m.use_text ? 1 : 0);
  double macs = mlp_macs(d, m.user_mlp_hidden, d, m.output_layer) +
                mlp_macs(item_inputs * d, m.item_mlp_hidden, d, m.output_layer);
  if (m.use_text) macs += static_cast<double>(text_dim) * static_cast<double>(d);
  PairFlops f;
  f.forward = 2 * macs;
  f.training = 3 * f.forward;
  return f;
}

}  // namespace twotower

namespace twotower {
namespace {

// Weights and biases of one tower's MLP.
int64_t mlp_parameters(int64_t in, const std::vector<int64_t>& hidden, int64_t out, bool output_layer) {
  int64_t n = 0;
  for (int64_t h : hidden) {
    n += in * h + h;
    in = h;
  }
  if (output_layer) n += in * out + out;
  return n;
}

}  // namespace

int64_t parameter_count(const ModelConfig& m, int64_t num_users, int64_t num_items, int64_t num_categories,
                        int64_t num_brands, int64_t text_dim) {
  const int64_t d = m.embedding_dim;
  int64_t item_inputs = (m.use_item_id ? 1 : 0) + (m.use_category ? 1 : 0) + (m.use_brand ? 1 : 0) + (m.use_text ? 1 : 0);
  int64_t n = num_users * d + mlp_parameters(d, m.user_mlp_hidden, d, m.output_layer);
  if (m.use_item_id) n += num_items * d;
  if (m.use_category) n += num_categories * d;
  if (m.use_brand) n += num_brands * d;
  if (m.use_text) n += text_dim * d + d;
  return n + mlp_parameters(item_inputs * d, m.item_mlp_hidden, d, m.output_layer);
}

}  // namespace twotower
