#include "twotower/model/linear.h"

#include <ATen/Context.h>

#include <cmath>

namespace at::native {
// oneDNN's matmul on dense (contiguous or transposed) tensors: result = beta * result + alpha *
// mat1 @ mat2. Exported by libtorch_cpu (TORCH_API) but declared in ATen/native/mkldnn/Matmul.h,
// which the wheel does not ship; this is that declaration (torch 2.13.0, pinned in
// requirements.txt).
TORCH_API void mkldnn_matmul(const at::Tensor& mat1, const at::Tensor& mat2, const at::Tensor& result, float beta,
                             float alpha);
}  // namespace at::native

namespace twotower {
namespace {

constexpr int64_t kRound = 64;  // oneDNN's share of the rows and of the inner dimension

// out = beta * out + a @ b through torch.
void torch_matmul_into(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& out, float beta) {
  if (beta == 0.0f) {
    torch::Tensor result = out;  // mm_out takes a non-const handle; it shares out's storage
    torch::mm_out(result, a, b);
  } else {
    out.addmm_(a, b);
  }
}

// A product's operand: the fp32 tensor and, under bf16, its bf16 copy (same shape and strides;
// undefined in fp32). product_into picks matmul_into_bf16 when the copy is there.
struct Operand {
  torch::Tensor full, half;
  Operand t() const { return {full.t(), half.defined() ? half.t() : torch::Tensor()}; }
};

Operand operand(const torch::Tensor& t, bool bf16) {
  return {t, bf16 ? t.to(torch::kBFloat16) : torch::Tensor()};
}

void product_into(const Operand& a, const Operand& b, const torch::Tensor& out, float beta) {
  if (a.half.defined()) {
    matmul_into_bf16(a.full, a.half, b.full, b.half, out, beta);
  } else {
    matmul_into(a.full, b.full, out, beta);
  }
}

// Saved as {full, half} pairs; an undefined half comes back undefined.
Operand saved_operand(const torch::autograd::variable_list& saved, size_t i) {
  return {saved[2 * i], saved[2 * i + 1]};
}

class LinearFunction : public torch::autograd::Function<LinearFunction> {
 public:
  // bf16: the products read bf16 copies of x, W and the gradient (matmul_into_bf16); x's copy
  // is saved for the weight gradient beside x itself (torch's fp32 share of the rows needs it).
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias, bool bf16) {
    const int64_t n = x.size(0), out_features = weight.size(0);
    // A new buffer (for one row, expand().contiguous() would return the bias itself).
    torch::Tensor y = torch::empty({n, out_features}, x.options());
    y.copy_(bias.expand({n, out_features}));
    const Operand in = operand(x, bf16), w = operand(weight, bf16);
    product_into(in, w.t(), y, 1.0f);
    ctx->save_for_backward({in.full, in.half, w.full, w.half});
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const Operand x = saved_operand(saved, 0), weight = saved_operand(saved, 1);
    const bool need_products = ctx->needs_input_grad(0) || ctx->needs_input_grad(1);
    const Operand grad = operand(grad_outputs[0].contiguous(), need_products && x.half.defined());
    torch::Tensor grad_x, grad_weight, grad_bias;
    if (ctx->needs_input_grad(0)) {  // [N, out] @ [out, in]
      grad_x = torch::empty_like(x.full, torch::MemoryFormat::Contiguous);
      product_into(grad, weight, grad_x, 0.0f);
    }
    if (ctx->needs_input_grad(1)) {  // [out, N] @ [N, in]
      grad_weight = torch::empty_like(weight.full, torch::MemoryFormat::Contiguous);
      product_into(grad.t(), x, grad_weight, 0.0f);
    }
    if (ctx->needs_input_grad(2)) grad_bias = grad.full.sum(0);
    return {grad_x, grad_weight, grad_bias, torch::Tensor()};
  }
};

// a @ b, differentiable in both; every product through matmul_into (matmul_into_bf16 with bf16).
class MatmulFunction : public torch::autograd::Function<MatmulFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& a, const torch::Tensor& b,
                               bool bf16) {
    torch::Tensor out = torch::empty({a.size(0), b.size(1)}, a.options());
    const Operand left = operand(a, bf16), right = operand(b, bf16);
    product_into(left, right, out, 0.0f);
    ctx->save_for_backward({left.full, left.half, right.full, right.half});
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const Operand a = saved_operand(saved, 0), b = saved_operand(saved, 1);
    const Operand grad = operand(grad_outputs[0].contiguous(), a.half.defined());
    torch::Tensor grad_a, grad_b;
    if (ctx->needs_input_grad(0)) {  // [M, N] @ [N, K]
      grad_a = torch::empty({a.full.size(0), a.full.size(1)}, a.full.options());
      product_into(grad, b.t(), grad_a, 0.0f);
    }
    if (ctx->needs_input_grad(1)) {  // [K, M] @ [M, N]
      grad_b = torch::empty({b.full.size(0), b.full.size(1)}, b.full.options());
      product_into(a.t(), grad, grad_b, 0.0f);
    }
    return {grad_a, grad_b, torch::Tensor()};
  }
};

}  // namespace

MatmulOptions matmul_options(const TrainingConfig& training) {
  return {training.cpu_matmul, training.matmul_precision};
}

bool onednn_available() {
  // LibTorch built with oneDNN, and its product usable here: at::native::mkldnn_matmul refuses
  // CPUs without AVX512 (BW, VL, DQ) or AVX-NE-CONVERT in fp32 too, by throwing.
  static const bool available = [] {
    if (!at::hasMKLDNN()) return false;
    try {
      torch::Tensor a = torch::ones({kRound, kRound});
      torch::Tensor out = torch::empty({kRound, kRound});
      at::native::mkldnn_matmul(a, a, out, 0.0f, 1.0f);
      return out[0][0].item<float>() == static_cast<float>(kRound);
    } catch (const c10::Error&) {
      return false;
    }
  }();
  return available;
}

bool onednn_bf16_available() {
  // oneDNN's bf16 product needs AVX512-BF16 / AVX-NE-CONVERT or AMX; LibTorch says so by throwing.
  static const bool available = [] {
    if (!onednn_available()) return false;
    try {
      torch::Tensor a = torch::ones({kRound, kRound}, torch::kBFloat16);
      torch::Tensor out = torch::empty({kRound, kRound}, torch::kBFloat16);
      at::native::mkldnn_matmul(a, a, out, 0.0f, 1.0f);
      return out[0][0].item<float>() == static_cast<float>(kRound);
    } catch (const c10::Error&) {
      return false;
    }
  }();
  return available;
}

bool onednn_takes(const torch::Tensor& a, CpuMatmul kind) {
  return kind == CpuMatmul::kOneDnn && a.device().is_cpu() && a.scalar_type() == torch::kFloat && onednn_available();
}

namespace {

// out = beta * out + a @ b with oneDNN's share, rows [0, m1) over the inner [0, k1) (multiples of
// 64), done by onednn(m1, k1, top) into top = out's first m1 rows, and the rest by torch in fp32.
template <typename OneDnnShare>
void split_product(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& out, float beta, bool onednn,
                   OneDnnShare onednn_share) {
  const int64_t m = a.size(0), k = a.size(1);
  const int64_t m1 = m / kRound * kRound, k1 = k / kRound * kRound;
  if (!onednn || m1 == 0 || k1 == 0) {
    torch_matmul_into(a, b, out, beta);
    return;
  }
  torch::Tensor top = out.narrow(0, 0, m1);
  onednn_share(m1, k1, top);
  if (k1 < k) top.addmm_(a.narrow(0, 0, m1).narrow(1, k1, k - k1), b.narrow(0, k1, k - k1));
  if (m1 < m) torch_matmul_into(a.narrow(0, m1, m - m1), b, out.narrow(0, m1, m - m1), beta);
}

}  // namespace

void matmul_into(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& out, float beta,
                 CpuMatmul kind) {
  split_product(a, b, out, beta, onednn_takes(a, kind), [&](int64_t m1, int64_t k1, const torch::Tensor& top) {
    at::native::mkldnn_matmul(a.narrow(0, 0, m1).narrow(1, 0, k1), b.narrow(0, 0, k1), top, beta, 1.0f);
  });
}

void matmul_into_bf16(const torch::Tensor& a, const torch::Tensor& a16, const torch::Tensor& b,
                      const torch::Tensor& b16, const torch::Tensor& out, float beta) {
  const bool onednn = onednn_takes(a, CpuMatmul::kOneDnn);
  split_product(a, b, out, beta, onednn, [&](int64_t m1, int64_t k1, const torch::Tensor& top) {
    // oneDNN's bf16 product writes bf16; it is added to the fp32 result.
    torch::Tensor product = torch::empty({m1, b.size(1)}, a16.options());
    at::native::mkldnn_matmul(a16.narrow(0, 0, m1).narrow(1, 0, k1), b16.narrow(0, 0, k1), product, 0.0f, 1.0f);
    if (beta == 0.0f) {
      top.copy_(product);
    } else {
      top.add_(product);
    }
  });
}

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                     const MatmulOptions& options) {
  if (x.dim() != 2 || !onednn_takes(x, options.backend) || weight.scalar_type() != torch::kFloat) {
    return torch::nn::functional::linear(x, weight, bias);
  }
  return LinearFunction::apply(x, weight, bias, options.precision == MatmulPrecision::kBf16);
}

torch::Tensor matmul_2d(const torch::Tensor& a, const torch::Tensor& b, const MatmulOptions& options) {
  if (a.dim() != 2 || b.dim() != 2 || !onednn_takes(a, options.backend) || b.scalar_type() != torch::kFloat ||
      !b.device().is_cpu()) {
    return torch::mm(a, b);
  }
  return MatmulFunction::apply(a, b, options.precision == MatmulPrecision::kBf16);
}

LinearImpl::LinearImpl(int64_t in_features, int64_t out_features, const MatmulOptions& options)
    : in_features(in_features), out_features(out_features), options(options) {
  reset();
}

void LinearImpl::reset() {
  weight = register_parameter("weight", torch::empty({out_features, in_features}));
  bias = register_parameter("bias", torch::empty({out_features}));
  // torch::nn::LinearImpl::reset_parameters, so a seed gives the same weights.
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
  torch::nn::init::uniform_(bias, -bound, bound);
}

void LinearImpl::pretty_print(std::ostream& stream) const {
  stream << "twotower::Linear(in_features=" << in_features << ", out_features=" << out_features << ")";
}

torch::Tensor LinearImpl::forward(const torch::Tensor& x) { return linear(x, weight, bias, options); }

}  // namespace twotower
