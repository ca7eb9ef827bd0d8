#include "twotower/model/counter_dropout.h"

#include <ATen/Parallel.h>

#include <limits>

namespace twotower {
namespace {

// SplitMix64's finalizer (Steele, Lea and Flood 2014) of seed + i * golden ratio: a counter-based
// generator whose consecutive outputs pass BigCrush.
inline uint64_t mix(uint64_t seed, uint64_t i) {
  uint64_t z = seed + (i + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// out_i = in_i * scale where element i is kept, else 0.
void apply_mask(const float* in, float* out, int64_t n, uint64_t seed, uint64_t threshold, float scale) {
  at::parallel_for(0, n, 16384, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      out[i] = mix(seed, static_cast<uint64_t>(i)) >= threshold ? in[i] * scale : 0.0f;
    }
  });
}

// out_i = in_i * scale where element i is kept and in_i > 0, else 0.
void apply_relu_mask(const float* in, float* out, int64_t n, uint64_t seed, uint64_t threshold, float scale) {
  at::parallel_for(0, n, 16384, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      out[i] = in[i] > 0.0f && mix(seed, static_cast<uint64_t>(i)) >= threshold ? in[i] * scale : 0.0f;
    }
  });
}

uint64_t threshold_of(double p) {
  // p * 2^64, computed in long double so that p close to 1 does not overflow.
  long double t = static_cast<long double>(p) * 18446744073709551616.0L;
  return t >= 18446744073709551615.0L ? std::numeric_limits<uint64_t>::max() : static_cast<uint64_t>(t);
}

class CounterDropoutFunction : public torch::autograd::Function<CounterDropoutFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, double p,
                               int64_t seed) {
    torch::Tensor in = x.contiguous();
    torch::Tensor out = torch::empty_like(in);
    const float scale = static_cast<float>(1.0 / (1.0 - p));
    apply_mask(in.data_ptr<float>(), out.data_ptr<float>(), in.numel(), static_cast<uint64_t>(seed), threshold_of(p),
               scale);
    ctx->saved_data["p"] = p;
    ctx->saved_data["seed"] = seed;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const double p = ctx->saved_data["p"].toDouble();
    const auto seed = static_cast<uint64_t>(ctx->saved_data["seed"].toInt());
    torch::Tensor grad = grad_outputs[0].contiguous();
    torch::Tensor out = torch::empty_like(grad);
    apply_mask(grad.data_ptr<float>(), out.data_ptr<float>(), grad.numel(), seed, threshold_of(p),
               static_cast<float>(1.0 / (1.0 - p)));
    return {out, torch::Tensor(), torch::Tensor()};
  }
};

class ReluCounterDropoutFunction : public torch::autograd::Function<ReluCounterDropoutFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, double p,
                               int64_t seed) {
    torch::Tensor in = x.contiguous();
    torch::Tensor out = torch::empty_like(in);
    const float scale = static_cast<float>(1.0 / (1.0 - p));
    apply_relu_mask(in.data_ptr<float>(), out.data_ptr<float>(), in.numel(), static_cast<uint64_t>(seed),
                    threshold_of(p), scale);
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
    at::parallel_for(0, grad.numel(), 16384, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) r[i] = o[i] > 0.0f ? g[i] * scale : 0.0f;
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

torch::Tensor ReluDropoutImpl::forward(const torch::Tensor& x) {
  if (!is_training() || p <= 0) return torch::relu(x);
  return relu_counter_dropout(x, p, static_cast<uint64_t>(draw_seed()));
}

torch::Tensor counter_dropout(const torch::Tensor& x, double p, uint64_t seed) {
  if (p <= 0) return x;
  if (!x.device().is_cpu() || x.scalar_type() != torch::kFloat) return torch::dropout(x, p, true);
  return CounterDropoutFunction::apply(x, p, static_cast<int64_t>(seed));
}

torch::Tensor CounterDropoutImpl::forward(const torch::Tensor& x) {
  if (!is_training() || p <= 0) return x;
  return counter_dropout(x, p, static_cast<uint64_t>(draw_seed()));
}

}  // namespace twotower
