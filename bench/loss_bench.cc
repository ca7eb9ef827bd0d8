// The in-batch sampled softmax of the best configuration (batch 4096, 128-d, log-Q, accidental
// hits masked), forward and backward: the scores' GEMMs plus the fused CPU loss, beside the same
// GEMMs plus the loss composed of tensor operations. Prints the command and the machine.
//
//   build/bench/loss_bench                       # batch 1024 and 4096, 2 threads
//   build/bench/loss_bench --benchmark_filter=4096
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <string>

#include "bench_context.h"
#include "twotower/train/loss.h"

namespace twotower {
namespace {

template <bool kFused>
void BM_InBatchSoftmax(benchmark::State& state) {
  const int64_t b = state.range(0), d = 128;
  torch::set_num_threads(2);
  torch::manual_seed(0);
  torch::Tensor users = torch::nn::functional::normalize(torch::randn({b, d}), {});
  torch::Tensor items = torch::nn::functional::normalize(torch::randn({b, d}), {});
  torch::Tensor ids = torch::randint(0, 16859, {b}, torch::kLong);
  torch::Tensor log_q = torch::log(torch::rand({b}) / 1000 + 1e-6);
  users.requires_grad_(true);
  items.requires_grad_(true);
  for (auto _ : state) {
    torch::Tensor scores = torch::matmul(users, items.t());
    torch::Tensor loss = kFused ? sampled_softmax_loss(scores, ids, ids, log_q, 0.05, true)
                                : sampled_softmax_loss_composed(scores, ids, ids, log_q, 0.05, true);
    loss.backward();
    benchmark::DoNotOptimize(users.grad().data_ptr<float>());
    users.mutable_grad().zero_();
    items.mutable_grad().zero_();
  }
  state.counters["positives/s"] = benchmark::Counter(static_cast<double>(b), benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK_TEMPLATE(BM_InBatchSoftmax, true)->Name("fused")->Arg(1024)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_InBatchSoftmax, false)->Name("composed")->Arg(1024)->Arg(4096)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace twotower

int main(int argc, char** argv) { return twotower::benchmark_main(argc, argv); }
