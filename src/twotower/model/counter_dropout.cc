#include "twotower/model/counter_dropout.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "twotower/common/target_clones.h"

namespace twotower {
namespace {

// Chris Wellons' lowbias32 integer hash (a bijection on 32 bits, bias 0.17), applied twice with
// the seed's halves mixed in: a keyed counter-based generator over the element index. 32-bit
// multiplies vectorize (8 lanes with AVX2), where SplitMix64's 64-bit ones do not.
inline uint32_t lowbias32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

// Hash of element i (below 2^32) under the key (k0, k1).
inline uint32_t mix(uint32_t i, uint32_t k0, uint32_t k1) { return lowbias32(lowbias32(i ^ k0) ^ k1); }

// Calls body(i, hash of element i) for i in [begin, end). The seed's low half keys the first
// round, its high half plus the index's high half (0 below 2^32 elements) the second, so the
// inner loop runs on 32-bit lanes.
template <typename Body>
inline void for_each_hash(int64_t begin, int64_t end, uint64_t seed, Body body) {
  while (begin < end) {
    const int64_t stop = std::min<int64_t>(end, (begin | int64_t{0xFFFFFFFF}) + 1);
    const auto k0 = static_cast<uint32_t>(seed);
    const auto k1 = static_cast<uint32_t>(seed >> 32) + static_cast<uint32_t>(begin >> 32) * 0x9E3779B9U;
    const auto first = static_cast<uint32_t>(begin), count = static_cast<uint32_t>(stop - begin);
    for (uint32_t j = 0; j < count; ++j) body(begin + j, mix(first + j, k0, k1));
    begin = stop;
  }
}

// v where keep, else +0.0, as a bit mask: no branch and no multiply by 0 (0 * inf is NaN), so
// the loops below vectorize.
inline float select(float v, bool keep) {
  return std::bit_cast<float>(std::bit_cast<uint32_t>(v) & (0u - static_cast<uint32_t>(keep)));
}

// out_i = in_i * scale where element i is kept, else 0; i in [begin, end).
TWOTOWER_CLONES void mask_range(const float* in, float* out, int64_t begin, int64_t end, uint64_t seed,
                                uint32_t threshold, float scale) {
  for_each_hash(begin, end, seed, [&](int64_t i, uint32_t h) { out[i] = select(in[i] * scale, h >= threshold); });
}

// The same, also 0 where in_i <= 0 (ReLU first).
TWOTOWER_CLONES void relu_mask_range(const float* in, float* out, int64_t begin, int64_t end, uint64_t seed,
                                     uint32_t threshold, float scale) {
  for_each_hash(begin, end, seed, [&](int64_t i, uint32_t h) {
    const float v = in[i];
    out[i] = select(v * scale, (v > 0.0f) & (h >= threshold));
  });
}

// grad_i * scale where the fused op's output is positive, else 0.
TWOTOWER_CLONES void pass_positive_range(const float* out, const float* grad, float* result, int64_t begin,
                                         int64_t end, float scale) {
  for (int64_t i = begin; i < end; ++i) {
    result[i] = select(grad[i] * scale, out[i] > 0.0f);
  }
}

constexpr int64_t kGrain = 16384;  // elements per parallel task

void apply_mask(const float* in, float* out, int64_t n, uint64_t seed, uint32_t threshold, float scale) {
  at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
    mask_range(in, out, begin, end, seed, threshold, scale);
  });
}

void apply_relu_mask(const float* in, float* out, int64_t n, uint64_t seed, uint32_t threshold, float scale) {
  at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
    relu_mask_range(in, out, begin, end, seed, threshold, scale);
  });
}

uint32_t threshold_of(double p) {
  // p * 2^32 rounded, so the drop rate is p within 2^-33; p close to 1 does not overflow.
  double t = std::round(p * 4294967296.0);
  return t >= 4294967295.0 ? std::numeric_limits<uint32_t>::max() : static_cast<uint32_t>(t);
}

using MaskKernel = void (*)(const float*, float*, int64_t, uint64_t, uint32_t, float);

// A new tensor: `kernel` applied to x with the mask of (p, seed) and the scale 1 / (1 - p).
torch::Tensor masked(const torch::Tensor& x, double p, uint64_t seed, MaskKernel kernel) {
  torch::Tensor in = x.contiguous();
  torch::Tensor out = torch::empty_like(in);
  kernel(in.data_ptr<float>(), out.data_ptr<float>(), in.numel(), seed, threshold_of(p),
         static_cast<float>(1.0 / (1.0 - p)));
  return out;
}

class CounterDropoutFunction : public torch::autograd::Function<CounterDropoutFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, double p,
                               int64_t seed) {
    torch::Tensor out = masked(x, p, static_cast<uint64_t>(seed), apply_mask);
    ctx->saved_data["p"] = p;
    ctx->saved_data["seed"] = seed;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const double p = ctx->saved_data["p"].toDouble();
    const auto seed = static_cast<uint64_t>(ctx->saved_data["seed"].toInt());
    return {masked(grad_outputs[0], p, seed, apply_mask), torch::Tensor(), torch::Tensor()};
  }
};

class ReluCounterDropoutFunction : public torch::autograd::Function<ReluCounterDropoutFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, double p,
                               int64_t seed) {
    torch::Tensor out = masked(x, p, static_cast<uint64_t>(seed), apply_relu_mask);
    ctx->saved_data["p"] = p;
    ctx->save_for_backward({out});
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const float scale = static_cast<float>(1.0 / (1.0 - ctx->saved_data["p"].toDouble()));
    torch::Tensor out = ctx->get_saved_variables()[0];
    torch::Tensor grad = grad_outputs[0].contiguous();
    torch::Tensor result = torch::empty_like(grad);
    const float* o = out.data_ptr<float>();
    const float* g = grad.data_ptr<float>();
    float* r = result.data_ptr<float>();
    at::parallel_for(0, grad.numel(), kGrain, [&](int64_t begin, int64_t end) {
      pass_positive_range(o, g, r, begin, end, scale);
    });
    return {result, torch::Tensor(), torch::Tensor()};
  }
};

int64_t draw_seed() {
  // One draw from torch's default generator per call: reproducible and checkpointed with it.
  return torch::randint(std::numeric_limits<int64_t>::max(), {1}, torch::kLong).item<int64_t>();
}

}  // namespace

torch::Tensor relu_counter_dropout(const torch::Tensor& x, double p, uint64_t seed) {
  if (p <= 0) return torch::relu(x);
  if (!x.device().is_cpu() || x.scalar_type() != torch::kFloat) return torch::dropout(torch::relu(x), p, true);
  return ReluCounterDropoutFunction::apply(x, p, static_cast<int64_t>(seed));
}

torch::Tensor relu_counter_dropout(const torch::Tensor& x, double p) {
  if (p <= 0) return torch::relu(x);
  // Off the CPU torch's dropout draws from the device's generator: no seed from the host's, whose
  // stream (the epochs' permutations) then does not depend on how the steps ran (a replayed
  // CUDA graph draws none).
  if (!x.device().is_cpu()) return torch::dropout(torch::relu(x), p, true);
  return relu_counter_dropout(x, p, static_cast<uint64_t>(draw_seed()));
}

torch::Tensor ReluDropoutImpl::forward(const torch::Tensor& x) {
  if (!is_training() || p <= 0) return torch::relu(x);
  return relu_counter_dropout(x, p);
}

torch::Tensor counter_dropout(const torch::Tensor& x, double p, uint64_t seed) {
  if (p <= 0) return x;
  if (!x.device().is_cpu() || x.scalar_type() != torch::kFloat) return torch::dropout(x, p, true);
  return CounterDropoutFunction::apply(x, p, static_cast<int64_t>(seed));
}

torch::Tensor counter_dropout(const torch::Tensor& x, double p) {
  if (p <= 0) return x;
  if (!x.device().is_cpu()) return torch::dropout(x, p, true);  // as relu_counter_dropout
  return counter_dropout(x, p, static_cast<uint64_t>(draw_seed()));
}

torch::Tensor CounterDropoutImpl::forward(const torch::Tensor& x) {
  if (!is_training() || p <= 0) return x;
  return counter_dropout(x, p);
}

}  // namespace twotower
