// The towers' matrix products at the reference configuration's shapes (a 2,048-row batch: text
// projection 768 -> 128, the item tower's 512 -> 256 -> 128 -> 128), each as the forward
// product, the input gradient and the weight gradient, through torch::mm (MKL in the CPU wheel),
// through model/linear.h's matmul_into (oneDNN, fp32) and through matmul_into_bf16 (oneDNN on
// bf16 copies, the casts of both operands counted). Reports GFLOP/s per product.
//
//   build/bench/matmul_bench                         # 2 threads
//   build/bench/matmul_bench --benchmark_filter=onednn_bf16
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "bench_context.h"
#include "twotower/model/linear.h"

namespace twotower {
namespace {

enum Product { kForward, kInputGrad, kWeightGrad };

enum Backend { kTorchMm, kOneDnnFp32, kOneDnnBf16 };

// range(0): rows of the batch, range(1): in features, range(2): out features, range(3): Product.
template <Backend kBackend>
void BM_Matmul(benchmark::State& state) {
  const int64_t n = state.range(0), in = state.range(1), out = state.range(2);
  const auto product = static_cast<Product>(state.range(3));
  torch::set_num_threads(2);
  torch::manual_seed(0);
  torch::Tensor x = torch::randn({n, in}), w = torch::randn({out, in}), g = torch::randn({n, out});
  // forward: x @ w^T -> [n, out]; input gradient: g @ w -> [n, in]; weight gradient: g^T @ x -> [out, in]
  torch::Tensor a = product == kForward ? x : product == kInputGrad ? g : g.t();
  torch::Tensor b = product == kForward ? w.t() : product == kInputGrad ? w : x;
  torch::Tensor result = torch::empty({a.size(0), b.size(1)});
  for (auto _ : state) {
    if (kBackend == kTorchMm) {
      torch::mm_out(result, a, b);
    } else if (kBackend == kOneDnnFp32) {
      matmul_into(a, b, result, 0.0f, CpuMatmul::kOneDnn);
    } else {
      matmul_into_bf16(a, a.to(torch::kBFloat16), b, b.to(torch::kBFloat16), result, 0.0f);
    }
    benchmark::DoNotOptimize(result.data_ptr<float>());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(n * in * out) / 1e9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void Shapes(benchmark::internal::Benchmark* b) {
  for (int64_t product : {kForward, kInputGrad, kWeightGrad}) {
    for (auto [in, out] : {std::pair<int64_t, int64_t>{768, 128}, {512, 256}, {256, 128}, {128, 128}}) {
      b->Args({2048, in, out, product});
    }
  }
  b->ArgNames({"rows", "in", "out", "product"});
}

BENCHMARK_TEMPLATE(BM_Matmul, kTorchMm)->Name("torch_mm")->Apply(Shapes)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Matmul, kOneDnnFp32)->Name("onednn")->Apply(Shapes)->UseRealTime();
BENCHMARK_TEMPLATE(BM_Matmul, kOneDnnBf16)->Name("onednn_bf16")->Apply(Shapes)->UseRealTime();

}  // namespace
}  // namespace twotower

int main(int argc, char** argv) { return twotower::benchmark_main(argc, argv); }
