#include "twotower/train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "twotower/common/atomic_file.h"
#include "twotower/common/checksum.h"
#include "twotower/common/error.h"

namespace fs = std::filesystem;

namespace twotower {
namespace {

torch::Tensor string_tensor(const std::string& s) {
  torch::Tensor t = torch::empty({static_cast<int64_t>(s.size())}, torch::kUInt8);
  if (!s.empty()) std::memcpy(t.data_ptr<uint8_t>(), s.data(), s.size());
  return t;
}

std::string tensor_string(const torch::Tensor& t) {
  torch::Tensor c = t.to(torch::kCPU).contiguous();
  return std::string(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()), static_cast<size_t>(c.numel()));
}

torch::Tensor int_tensor(int64_t v) { return torch::tensor({v}, torch::kLong); }
torch::Tensor real_tensor(double v) { return torch::tensor({v}, torch::kDouble); }

int64_t read_int(torch::serialize::InputArchive& in, const char* key) {
  torch::Tensor t;
  in.read(key, t);
  return t.to(torch::kCPU).item<int64_t>();
}

double read_real(torch::serialize::InputArchive& in, const char* key) {
  torch::Tensor t;
  in.read(key, t);
  return t.to(torch::kCPU).item<double>();
}

std::string read_string(torch::serialize::InputArchive& in, const char* key) {
  torch::Tensor t;
  in.read(key, t);
  return tensor_string(t);
}

// The shape and type of every parameter and buffer of a model, by name.
struct TensorLayout {
  std::string name;
  std::vector<int64_t> shape;
  c10::ScalarType type;
};

std::vector<TensorLayout> tensor_layout(TwoTowerModel& model) {
  std::vector<TensorLayout> out;
  for (const auto& p : model->named_parameters()) {
    out.push_back({p.key(), p.value().sizes().vec(), p.value().scalar_type()});
  }
  for (const auto& b : model->named_buffers()) out.push_back({b.key(), b.value().sizes().vec(), b.value().scalar_type()});
  return out;
}

// LibTorch's Module::load takes each stored tensor as it is, whatever its shape: a checkpoint of
// another model or data set would resize the towers. Refuses the first tensor that differs.
void check_layout(const fs::path& path, const std::vector<TensorLayout>& expected, TwoTowerModel& model) {
  const std::vector<TensorLayout> got = tensor_layout(model);
  for (size_t i = 0; i < expected.size(); ++i) {
    if (got[i].shape != expected[i].shape || got[i].type != expected[i].type) {
      fail(path.string(), ": tensor \"", expected[i].name, "\": got ", c10::IntArrayRef(got[i].shape), " ",
           c10::toString(got[i].type), ", expected ", c10::IntArrayRef(expected[i].shape), " ",
           c10::toString(expected[i].type), " (a checkpoint of another model or data set)");
    }
  }
}

// Counters a resume trusts: none negative, the best epoch one of those run. Throws naming the file.
void check_counters(const fs::path& path, const TrainState& s) {
  const bool ok = s.epoch >= 0 && s.step >= 0 && s.scheduler_step >= 0 && s.best_epoch >= 0 &&
                  s.best_epoch <= s.epoch && s.epochs_without_improvement >= 0 && s.epochs_without_improvement <= s.epoch;
  if (!ok) {
    fail(path.string(), ": counters got epoch ", s.epoch, ", step ", s.step, ", scheduler_step ", s.scheduler_step,
         ", best_epoch ", s.best_epoch, ", epochs_without_improvement ", s.epochs_without_improvement,
         ", expected none negative and best_epoch, epochs_without_improvement <= epoch");
  }
}

}  // namespace

void capture_rng_state(TrainState& state) {
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    state.cpu_rng_state = gen.get_state();
  }
  if (torch::cuda::is_available()) {
    auto gen = at::globalContext().defaultGenerator(c10::DeviceType::CUDA);
    std::lock_guard<std::mutex> lock(gen.mutex());
    state.cuda_rng_state = gen.get_state();
  }
}

void restore_rng_state(const TrainState& state) {
  if (state.cpu_rng_state.defined()) {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state.cpu_rng_state);
  }
  if (state.cuda_rng_state.defined() && state.cuda_rng_state.numel() > 0 && torch::cuda::is_available()) {
    auto gen = at::globalContext().defaultGenerator(c10::DeviceType::CUDA);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state.cuda_rng_state);
  }
}

namespace {

// Writes the archive to `file` through our own stream: LibTorch's file writer, when a write fails
// (a full disk), throws from its destructor and ends the process. Here a failed write is recorded,
// LibTorch is told every byte went out, and the error is thrown once it has finished.
void save_archive(torch::serialize::OutputArchive& archive, const fs::path& file) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(file.c_str(), "wb"), &std::fclose);
  if (!out) fail(file.string(), ": cannot open for writing: ", std::strerror(errno));
  int error = 0;
  archive.save_to([&](const void* data, size_t size) -> size_t {
    if (error == 0 && size > 0 && std::fwrite(data, 1, size, out.get()) != size) error = errno;
    return size;
  });
  if (error == 0 && std::fflush(out.get()) != 0) error = errno;
  if (error != 0) fail(file.string(), ": cannot write the checkpoint: ", std::strerror(error));
}

void write_checkpoint(const fs::path& path, TwoTowerModel& model, torch::optim::Optimizer* optimizer,
                      const TrainState& state, const RowWiseOptimizer* embedding_optimizer) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive model_archive;
  model->save(model_archive);
  archive.write("model", model_archive);
  if (optimizer != nullptr) {
    torch::serialize::OutputArchive optimizer_archive;
    optimizer->save(optimizer_archive);
    archive.write("optimizer", optimizer_archive);
  }
  if (embedding_optimizer != nullptr) {
    torch::serialize::OutputArchive rows_archive;
    embedding_optimizer->save(rows_archive);
    archive.write("embedding_optimizer", rows_archive);
  }
  archive.write("epoch", int_tensor(state.epoch));
  archive.write("step", int_tensor(state.step));
  archive.write("scheduler_step", int_tensor(state.scheduler_step));
  archive.write("best_epoch", int_tensor(state.best_epoch));
  archive.write("best_value", real_tensor(state.best_value));
  archive.write("epochs_without_improvement", int_tensor(state.epochs_without_improvement));
  archive.write("config_yaml", string_tensor(state.config_yaml));
  archive.write("history_json", string_tensor(state.history_json));
  archive.write("sampler_state", string_tensor(state.sampler_state));
  archive.write("cpu_rng_state", state.cpu_rng_state.defined() ? state.cpu_rng_state : string_tensor(""));
  archive.write("cuda_rng_state", state.cuda_rng_state.defined() ? state.cuda_rng_state.cpu() : string_tensor(""));
  write_checksummed_file(path, [&](const fs::path& tmp) { save_archive(archive, tmp); });
}

}  // namespace

void save_checkpoint(const fs::path& path, TwoTowerModel& model, torch::optim::Optimizer& optimizer,
                     const TrainState& state, const RowWiseOptimizer* embedding_optimizer) {
  write_checkpoint(path, model, &optimizer, state, embedding_optimizer);
}

void save_model_checkpoint(const fs::path& path, TwoTowerModel& model, const TrainState& state) {
  write_checkpoint(path, model, nullptr, state, nullptr);
}

TrainState load_checkpoint(const fs::path& path, TwoTowerModel& model, torch::optim::Optimizer* optimizer,
                           RowWiseOptimizer* embedding_optimizer) {
  if (!fs::exists(path)) fail(path.string(), ": no such checkpoint");
  verify_checksum(path);
  torch::Device device = model->parameters().front().device();
  TrainState state;
  const std::vector<TensorLayout> layout = tensor_layout(model);
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string(), device);
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    model->load(model_archive);
    check_layout(path, layout, model);
    if (optimizer != nullptr) {
      torch::serialize::InputArchive optimizer_archive;
      archive.read("optimizer", optimizer_archive);
      optimizer->load(optimizer_archive);
    }
    if (embedding_optimizer != nullptr) {
      torch::serialize::InputArchive rows_archive;
      archive.read("embedding_optimizer", rows_archive);
      embedding_optimizer->load(rows_archive);
    }
    state.epoch = read_int(archive, "epoch");
    state.step = read_int(archive, "step");
    state.scheduler_step = read_int(archive, "scheduler_step");
    state.best_epoch = read_int(archive, "best_epoch");
    state.best_value = read_real(archive, "best_value");
    state.epochs_without_improvement = read_int(archive, "epochs_without_improvement");
    state.config_yaml = read_string(archive, "config_yaml");
    state.history_json = read_string(archive, "history_json");
    state.sampler_state = read_string(archive, "sampler_state");
    archive.read("cpu_rng_state", state.cpu_rng_state);
    archive.read("cuda_rng_state", state.cuda_rng_state);
    state.cpu_rng_state = state.cpu_rng_state.cpu();
    state.cuda_rng_state = state.cuda_rng_state.cpu();
    // A generator state of the wrong size or type is refused here, not at the resume's first draw.
    if (state.cpu_rng_state.numel() > 0) at::make_generator<at::CPUGeneratorImpl>().set_state(state.cpu_rng_state);
  } catch (const Error&) {
    throw;
  } catch (const c10::Error& e) {
    fail(path.string(), ": cannot read the checkpoint into this model (", e.what_without_backtrace(), ")");
  } catch (const std::exception& e) {
    // LibTorch's archive reader also throws its own types for a damaged file (torch::jit::ErrorReport
    // for a mangled type name, found by checkpoint_fuzz).
    fail(path.string(), ": cannot read the checkpoint (", e.what(), ")");
  }
  check_counters(path, state);
  return state;
}

}  // namespace twotower
