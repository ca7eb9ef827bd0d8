#include "twotower/serve/export_model.h"

#include "twotower/common/error.h"
#include "twotower/config/config.h"
#include "twotower/model/linear.h"
#include "twotower/serve/export_layout.h"

namespace twotower {
namespace {

int64_t manifest_int(const nlohmann::json& manifest, const char* key) {
  const nlohmann::json v = manifest.value(key, nlohmann::json());
  if (!v.is_number_integer()) fail(kManifestFile, ": field \"", key, "\": got ", v.dump(), ", expected an integer");
  return v.get<int64_t>();
}

}  // namespace

TwoTowerModel load_export_model(const std::filesystem::path& dir, const nlohmann::json& manifest, TrainState* state) {
  const Config config = load_config(dir / kConfigFile);
  ModelSizes sizes;
  sizes.num_users = manifest_int(manifest, "num_users");
  sizes.num_items = manifest_int(manifest, "num_items");
  sizes.num_categories = manifest_int(manifest, "num_categories");
  sizes.num_brands = manifest_int(manifest, "num_brands");
  sizes.text_dim = manifest_int(manifest, "text_dim");
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
