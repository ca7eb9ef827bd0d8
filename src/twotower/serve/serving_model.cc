#include "twotower/serve/serving_model.h"

#include <torch/torch.h>

#include <cstring>

#include "twotower/common/error.h"
#include "twotower/model/two_tower.h"
#include "twotower/serve/export/export_model.h"

namespace twotower {

struct ServingModel::Impl {
  TwoTowerModel model{nullptr};
};

namespace {

std::vector<float> to_vector(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kCPU, torch::kFloat).contiguous();
  std::vector<float> out(static_cast<size_t>(c.numel()));
  std::memcpy(out.data(), c.data_ptr<float>(), out.size() * sizeof(float));
  return out;
}

}  // namespace

ServingModel::ServingModel(const std::filesystem::path& dir, const nlohmann::json& manifest)
    : impl_(std::make_unique<Impl>()) {
  impl_->model = load_export_model(dir, manifest);
  impl_->model->eval();
  history_length_ = impl_->model->config().user_history;
  uses_text_ = impl_->model->config().use_text;
  text_dim_ = impl_->model->sizes().text_dim;
  num_items_ = impl_->model->sizes().num_items;
}

ServingModel::~ServingModel() = default;

std::vector<float> ServingModel::history_vector(std::span<const int64_t> history) const {
  torch::NoGradGuard no_grad;
  const auto n = static_cast<int64_t>(history.size());
  const int64_t keep = history_length_ > 0 ? std::min(n, history_length_) : 0;
  std::vector<int64_t> row(history.end() - keep, history.end());
  if (row.empty()) row.push_back(-1);
  const torch::Tensor ids = torch::tensor(row, torch::kLong).unsqueeze(0);  // [1, N]
  return to_vector(impl_->model->new_user_embeddings(ids)[0]);
}

std::vector<float> ServingModel::cold_user_vector() const { return history_vector({}); }

std::vector<float> ServingModel::new_item_vectors(std::span<const int64_t> categories,
                                                  std::span<const int64_t> brands,
                                                  std::span<const float> text) const {
  torch::NoGradGuard no_grad;
  const auto n = static_cast<int64_t>(categories.size());
  if (n == 0) return {};
  const torch::Tensor cat = torch::tensor(std::vector<int64_t>(categories.begin(), categories.end()), torch::kLong);
  const torch::Tensor brand = torch::tensor(std::vector<int64_t>(brands.begin(), brands.end()), torch::kLong);
  torch::Tensor txt;
  if (uses_text_) {
    if (static_cast<int64_t>(text.size()) != n * text_dim_) {
      fail("new items: got ", text.size(), " text values, expected ", n, " x ", text_dim_);
    }
    txt = torch::from_blob(const_cast<float*>(text.data()), {n, text_dim_}, torch::kFloat).clone();
  }
  return to_vector(impl_->model->new_item_embeddings(cat, brand, txt));
}

}  // namespace twotower
