#include "twotower/model/embedding_export.h"

#include <algorithm>
#include <cstring>

#include "twotower/data/model_inputs.h"
#include "twotower/model/input_tensors.h"

namespace twotower {
namespace {

constexpr int64_t kEmbedChunk = 8192;  // rows per forward when embedding the whole vocabulary

// Each chunk is copied straight into the result: the matrix exists once, not as chunks, their
// concatenation and a copy (three times the memory at a large catalogue).
Matrix embed_all(TwoTowerModel& model, int64_t n, bool users, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  Matrix m;
  m.rows = n;
  for (int64_t s = 0; s < n; s += kEmbedChunk) {
    torch::Tensor ids = torch::arange(s, std::min(n, s + kEmbedChunk), torch::TensorOptions(torch::kLong).device(device));
    torch::Tensor part = (users ? model->user_embeddings(ids) : model->item_embeddings(ids)).to(torch::kCPU).contiguous();
    if (s == 0) {
      m.cols = part.size(1);
      m.data.resize(static_cast<size_t>(n * m.cols));
    }
    std::memcpy(m.data.data() + s * m.cols, part.data_ptr<float>(), static_cast<size_t>(part.numel()) * sizeof(float));
  }
  if (was_training) model->train();
  return m;
}

}  // namespace

Matrix embed_all_users(TwoTowerModel& model, const torch::Device& device) {
  return embed_all(model, model->sizes().num_users, true, device);
}

Matrix embed_all_items(TwoTowerModel& model, const torch::Device& device) {
  return embed_all(model, model->sizes().num_items, false, device);
}

void export_embeddings(TwoTowerModel& model, const Dataset& data, const Config& config, const torch::Device& device,
                       const std::filesystem::path& out) {
  if (config.model.user_history > 0) {
    PaddedTable recent = recent_items(data.interactions, rows_in_splits(data.interactions, {"train", "valid"}),
                                      model->sizes().num_users, config.model.user_history);
    model->set_user_history(padded_tensor(recent));
  }
  write_npy(embed_all_users(model, device), out / "user_embeddings.npy");
  write_npy(embed_all_items(model, device), out / "item_embeddings.npy");
}

}  // namespace twotower
