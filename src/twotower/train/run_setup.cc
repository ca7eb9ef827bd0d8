#include "twotower/train/run_setup.h"

#include "twotower/common/error.h"
#include "twotower/common/log.h"
#include "twotower/data/model_inputs.h"
#include "twotower/data/text_embeddings.h"
#include "twotower/model/input_tensors.h"
#include "twotower/model/linear.h"

namespace fs = std::filesystem;

namespace twotower {
namespace {

// The [num_items, width] text matrix: the configured .npy or .parquet, or zeros of width emb_dim.
torch::Tensor load_text(const Config& config, const std::vector<std::string>& item_ids) {
  const std::string& path = config.data.text_embeddings;
  const auto num_items = static_cast<int64_t>(item_ids.size());
  // No file: the reference's zero text, as a broadcast view of one zero row (no memory per item).
  if (path.empty()) return torch::zeros({1, config.data.emb_dim}).expand({num_items, config.data.emb_dim});
  Matrix m = read_text_embeddings(path, config.data.text_embeddings_column, item_ids);
  if (m.cols != config.data.emb_dim) {
    fail("data.emb_dim: got ", config.data.emb_dim, ", expected the width of ", path, " (", m.cols, ")");
  }
  return torch::from_blob(m.data.data(), {m.rows, m.cols}, torch::kFloat).clone();
}

ItemFeatureTable item_features(const Config& config, const Dataset& data) {
  ItemFeatureTable features;
  features.category = long_tensor({data.items.category_idx.begin(), data.items.category_idx.end()});
  if (config.model.pool_categories) features.category = padded_tensor(category_paths(data.items, data.num_items()));
  features.brand = long_tensor({data.items.brand_idx.begin(), data.items.brand_idx.end()});
  if (config.model.use_text) features.text = load_text(config, data.item_ids);
  return features;
}

// Checks the bf16 option against the device and this CPU's oneDNN.
void check_matmul_precision(const TrainingConfig& t, const torch::Device& device) {
  if (t.matmul_precision != MatmulPrecision::kBf16) return;
  if (!device.is_cpu()) {
    log_warn("training.matmul_precision: bf16 applies to the CPU's oneDNN products; on ", device.str(),
             " the layers run in fp32");
  } else if (t.cpu_matmul != CpuMatmul::kOneDnn || !onednn_bf16_available()) {
    fail("training.matmul_precision: got bf16, expected fp32 here: bf16 products need training.cpu_matmul: onednn",
         " and a CPU whose oneDNN multiplies bf16 (AVX512-BF16, AVX-NE-CONVERT or AMX)",
         onednn_bf16_available() ? "" : "; this one does not");
  }
}

// Keys that may change between a run and its resumption without breaking exactness.
std::string comparable_yaml(Config c, const Config& now) {
  c = resolved_paths(c);
  c.training.num_epochs = now.training.num_epochs;
  c.training.early_stopping_patience = now.training.early_stopping_patience;
  c.training.output_dir = now.training.output_dir;
  c.training.threads = now.training.threads;
  c.training.prefetch = now.training.prefetch;
  return config_to_yaml(c);
}

}  // namespace

Config resolved_paths(Config c) {
  c.data.data_path = fs::absolute(c.data.data_path).lexically_normal().string();
  if (!c.data.text_embeddings.empty()) {
    c.data.text_embeddings = fs::absolute(c.data.text_embeddings).lexically_normal().string();
  }
  if (!c.training.init_from.empty()) c.training.init_from = fs::absolute(c.training.init_from).lexically_normal().string();
  return c;
}

torch::Device setup_device(const TrainingConfig& t, int cuda_index) {
  if (t.threads > 0) torch::set_num_threads(static_cast<int>(t.threads));
  const bool cuda = torch::cuda::is_available();
  if (t.device == DeviceKind::kCuda && !cuda) {
    fail("training.device: got cuda, expected auto or cpu (no CUDA device is available to LibTorch)");
  }
  const torch::Device device =
      t.device == DeviceKind::kCpu || !cuda ? torch::Device(torch::kCPU)
                                                                : torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(cuda_index));
  check_matmul_precision(t, device);
  if (t.cuda_graph && !device.is_cuda()) {
    fail("training.cuda_graph: got true on ", device.str(), ", expected a CUDA device (training.device cuda, or auto on a GPU host)");
  }
  log_info("train: output ", t.output_dir, ", device ", device.str(), ", ", torch::get_num_threads(), " threads",
           device.is_cpu() ? str_cat(", matrix products by ", onednn_available() ? to_string(t.cpu_matmul) : "torch",
                                     " in ", to_string(t.matmul_precision))
                           : std::string());
  return device;
}

TwoTowerModel build_model(const Config& config, const Dataset& data, const std::vector<int64_t>& train_rows,
                          const torch::Device& device) {
  ModelSizes sizes;
  sizes.num_users = data.num_users();
  sizes.num_items = data.num_items();
  sizes.num_categories = static_cast<int64_t>(data.items.category_vocab.size());
  sizes.num_brands = static_cast<int64_t>(data.items.brand_vocab.size());
  sizes.text_dim = config.data.emb_dim;

  torch::manual_seed(config.data.seed);
  TwoTowerModel model(config.model, sizes, matmul_options(config.training));
  model->set_item_features(item_features(config, data));
  if (config.model.user_history > 0) {
    model->set_user_history(
        padded_tensor(recent_items(data.interactions, train_rows, sizes.num_users, config.model.user_history)));
  }
  if (config.training.learn_logit_scale) model->add_logit_scale(config.training.logit_scale);
  model->move_to(device);
  return model;
}

TrainState resume_run(const fs::path& last, const fs::path& previous, const Config& config, TwoTowerModel& model,
                      Optimizers& optimizers, NegativeSampler& sampler, nlohmann::json& history) {
  TrainState state;
  fs::path used = last;
  try {
    state = load_checkpoint(last, model, optimizers.dense.get(), optimizers.rows.get());
  } catch (const Error& e) {
    if (!fs::exists(previous)) throw;
    log_warn("--resume: ", e.what(), "; resuming from the previous checkpoint ", previous.string(), " instead of ",
             last.string());
    used = previous;
    state = load_checkpoint(previous, model, optimizers.dense.get(), optimizers.rows.get());
  }
  Config saved = parse_config(state.config_yaml, used.string() + " (config)");
  if (comparable_yaml(saved, config) != comparable_yaml(config, config)) {
    log_warn("--resume: the configuration differs from the checkpoint's beyond num_epochs, "
             "early_stopping_patience, output_dir and threads; the continuation is not an exact one");
  }
  state.config_yaml = config_to_yaml(config);
  history = nlohmann::json::parse(state.history_json);
  sampler.set_state(state.sampler_state);
  restore_rng_state(state);
  log_info("resumed from ", used.string(), " after epoch ", state.epoch, " (step ", state.step, ")");
  return state;
}

}  // namespace twotower
