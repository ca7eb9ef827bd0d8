// One optimizer step over the reference model's id tables on Games (users [50,546, 128], items
// [16,859, 128]: 8.63M parameters) with a batch's gradient (1,024 users and 2,048 items looked up,
// the reference config's batch with one negative), beside a copy of the same bytes:
//   torch_adam     torch::optim::Adam over dense gradients (the gradient made dense each step,
//                  as an Embedding without sparse = true makes it: zeros, then the rows added)
//   fused_dense    FusedAdam (ATen's fused kernel) over the same dense gradients
//   fused_sparse   FusedAdam over sparse gradients: coalesce, then dense Adam's every-row pass
//                  (train/optim/sparse_grad_adam.h); the default on the CPU
//   lazy_adam      the row-wise lazy Adam (touched rows only; not dense Adam's result)
//   scale          multiplying the parameter and both moments in place by a constant (3 x 34.5 MB
//                  read and written): the memory-bandwidth floor of any dense Adam, which must
//                  read and write them all
// Prints the command and the machine; GB/s counts the bytes of w, m and v read and written.
//
//   build/bench/adam_bench
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <memory>
#include <vector>

#include "bench_context.h"
#include "twotower/train/optim/fused_adam.h"
#include "twotower/train/optim/sparse_optimizer.h"

namespace twotower {
namespace {

enum class Variant { kTorchAdam, kFusedDense, kFusedSparse, kLazy };

struct Tables {
  Tables() {
    torch::set_num_threads(2);
    torch::manual_seed(0);
    tables = {torch::randn({50546, 128}).requires_grad_(true), torch::randn({16859, 128}).requires_grad_(true)};
    rows = {torch::randint(0, 50546, {1024}, torch::kLong), torch::randint(0, 16859, {2048}, torch::kLong)};
  }
  int64_t numel() const { return tables[0].numel() + tables[1].numel(); }
  // One step's gradient: the looked-up rows' values, sparse (uncoalesced) or made dense.
  void set_grads(bool sparse) {
    for (size_t k = 0; k < tables.size(); ++k) {
      torch::Tensor values = torch::randn({rows[k].numel(), 128});
      torch::Tensor& g = tables[k].mutable_grad();
      if (sparse) {
        g = torch::sparse_coo_tensor(rows[k].unsqueeze(0), values, tables[k].sizes());
      } else {
        g = torch::zeros_like(tables[k]).index_add_(0, rows[k], values);
      }
    }
  }
  std::vector<torch::Tensor> tables, rows;
};

void set_counters(benchmark::State& state, int64_t numel) {
  state.counters["params/s"] = benchmark::Counter(static_cast<double>(numel), benchmark::Counter::kIsIterationInvariantRate);
  // w, m and v, each read and written once.
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(numel) * 4 * 6 / 1e9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

template <Variant kVariant>
void BM_AdamStep(benchmark::State& state) {
  Tables t;
  const auto options = torch::optim::AdamOptions(1e-3).weight_decay(1e-5);
  std::unique_ptr<torch::optim::Optimizer> dense;
  std::unique_ptr<RowWiseOptimizer> lazy;
  if (kVariant == Variant::kTorchAdam) dense = std::make_unique<torch::optim::Adam>(t.tables, options);
  if (kVariant == Variant::kFusedDense || kVariant == Variant::kFusedSparse) dense = std::make_unique<FusedAdam>(t.tables, options);
  if (kVariant == Variant::kLazy) lazy = std::make_unique<RowWiseOptimizer>(t.tables, RowWiseOptions{});
  for (auto _ : state) {
    state.PauseTiming();
    t.set_grads(kVariant == Variant::kFusedSparse || kVariant == Variant::kLazy);
    state.ResumeTiming();
    if (dense) dense->step();
    if (lazy) lazy->step();
    benchmark::DoNotOptimize(t.tables[0].data_ptr<float>());
  }
  set_counters(state, t.numel());
}

void BM_Scale(benchmark::State& state) {
  Tables t;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> tensors;
  for (const auto& w : t.tables) {
    for (int k = 0; k < 3; ++k) tensors.push_back(torch::randn_like(w));
  }
  for (auto _ : state) {
    for (auto& x : tensors) x.mul_(0.999f);
    benchmark::DoNotOptimize(tensors[0].data_ptr<float>());
  }
  set_counters(state, t.numel());
}

BENCHMARK_TEMPLATE(BM_AdamStep, Variant::kTorchAdam)->Name("torch_adam")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_AdamStep, Variant::kFusedDense)->Name("fused_dense")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_AdamStep, Variant::kFusedSparse)->Name("fused_sparse")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_AdamStep, Variant::kLazy)->Name("lazy_adam")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Scale)->Name("scale")->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace twotower

int main(int argc, char** argv) { return twotower::benchmark_main(argc, argv); }
