#include "twotower/serve/export/export_model.h"

#include "twotower/common/error.h"
#include "twotower/config/config.h"
#include "twotower/model/linear.h"
#include "twotower/serve/export/export_layout.h"

namespace twotower {

TwoTowerModel load_export_model(const std::filesystem::path& dir, const nlohmann::json& manifest, TrainState* state) {
  const Config config = load_config(dir / kConfigFile);
  ModelSizes sizes;
  sizes.num_users = manifest_int(manifest, "num_users", 0);
  sizes.num_items = manifest_int(manifest, "num_items", 1);
  sizes.num_categories = manifest_int(manifest, "num_categories", 1);
  sizes.num_brands = manifest_int(manifest, "num_brands", 1);
  sizes.text_dim = manifest_int(manifest, "text_dim", 0);
  MatmulOptions matmul = matmul_options(config.training);
  // Serving computes single rows: fp32 always (bf16 was a training speed option).
  matmul.precision = MatmulPrecision::kFp32;
  TwoTowerModel model(config.model, sizes, matmul);
  if (config.training.learn_logit_scale) model->add_logit_scale(config.training.logit_scale);
  const TrainState loaded = load_checkpoint(dir / kModelFile, model, nullptr);
  if (state) *state = loaded;
  return model;
}

}  // namespace twotower
