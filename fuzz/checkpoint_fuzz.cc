// A training checkpoint (LibTorch's zip archive) read by load_checkpoint into a small model, with
// the optimizers' state when the first input byte is odd; the rest of the input is the file. No
// checksum sidecar is written, as for a file a user brings: our own files are refused on a CRC
// mismatch before LibTorch reads them (npy_fuzz covers the sidecar), so what is fuzzed here is
// what LibTorch's reader and ours make of hostile bytes: an Error naming the file, never a crash.
// LibTorch is the wheel's library, not instrumented: coverage guides the search through our code.
// TWOTOWER_FUZZ_WRITE_SEED=PATH writes a valid checkpoint of the same model there and exits (the
// seed corpus: fuzz/corpus/checkpoint_fuzz).
#include <cstdlib>
#include <filesystem>

#include "fuzz_input.h"
#include "twotower/common/error.h"
#include "twotower/train/checkpoint.h"

namespace {

using namespace twotower;

ModelConfig model_config() {
  ModelConfig c;
  c.embedding_dim = 4;
  c.user_mlp_hidden = c.item_mlp_hidden = {8};
  c.dropout = 0;
  return c;
}

const ModelSizes kSizes{3, 5, 2, 2, 6};

struct Loaded {
  TwoTowerModel model{model_config(), kSizes};
  torch::optim::Adam dense{model->parameters(), torch::optim::AdamOptions(0.01)};
  RowWiseOptimizer rows{{model->named_parameters()["user_tower.embedding.weight"]}, RowWiseOptions{}};
};

void write_seed(const char* path) {
  Loaded s;
  TrainState state;
  state.epoch = 2;
  state.step = 10;
  state.best_epoch = 1;
  state.config_yaml = "model: {}\n";
  state.history_json = "[]";
  state.sampler_state = "1 2";
  capture_rng_state(state);
  save_checkpoint(path, s.model, s.dense, state, &s.rows);
  std::filesystem::remove(std::string(path) + ".crc32");
  std::exit(0);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  torch::set_num_threads(1);
  if (const char* seed = std::getenv("TWOTOWER_FUZZ_WRITE_SEED")) write_seed(seed);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto path = fuzz::input_file(data + 1, size - 1, "c.pt");
  static Loaded loaded;
  try {
    if (data[0] & 1) {
      load_checkpoint(path, loaded.model, &loaded.dense, &loaded.rows);
    } else {
      load_checkpoint(path, loaded.model, nullptr);
    }
  } catch (const Error&) {
  }
  return 0;
}
