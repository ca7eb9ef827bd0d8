#include "twotower/train/optim/sparse_optimizer.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cmath>

#include "twotower/common/error.h"
#include "twotower/train/optim/adam_row.h"

namespace twotower {

constexpr int64_t kRowsPerTask = 64;  // rows per parallel_for chunk

// The same updates by tensor operations on the touched rows (unique after coalescing), on any
// device.
void step_rows_by_tensor_ops(torch::Tensor& w, torch::Tensor& first, torch::Tensor& second, const torch::Tensor& rows,
                             const torch::Tensor& grad, bool adam, const AdamRow& a, float lr) {
  torch::Tensor wr = w.index_select(0, rows);
  torch::Tensor g = grad + a.wd * wr;
  torch::Tensor m = first.index_select(0, rows);
  if (adam) {
    m = m * a.b1 + (1 - a.b1) * g;
    torch::Tensor v = second.index_select(0, rows) * a.b2 + (1 - a.b2) * g * g;
    wr = wr - a.step_size * m / (v.sqrt() / a.sqrt_bc2 + a.eps);
    second.index_copy_(0, rows, v);
  } else {
    m = m + g * g;
    wr = wr - lr * g / (m.sqrt() + a.eps);
  }
  first.index_copy_(0, rows, m);
  w.index_copy_(0, rows, wr);
}

struct RowWiseOptimizer::State {
  RowWiseOptions options;
  std::vector<torch::Tensor> tables;  // [rows, D] float32
  std::vector<torch::Tensor> first;   // Adam m / AdaGrad sum, [rows, D]
  std::vector<torch::Tensor> second;  // Adam v, [rows, D]; undefined for AdaGrad
  int64_t steps = 0;
};

RowWiseOptimizer::RowWiseOptimizer(const std::vector<torch::Tensor>& tables, const RowWiseOptions& options)
    : state_(std::make_unique<State>()) {
  if (options.kind == EmbeddingOptimizerKind::kDense) fail("RowWiseOptimizer: got the dense kind, expected lazy_adam or adagrad");
  state_->options = options;
  for (const auto& t : tables) {
    if (t.dim() != 2 || t.scalar_type() != torch::kFloat || !t.is_contiguous()) {
      fail("RowWiseOptimizer: expected contiguous [rows, D] float32 tables");
    }
    state_->tables.push_back(t);
    state_->first.push_back(torch::zeros_like(t));
    state_->second.push_back(options.kind == EmbeddingOptimizerKind::kLazyAdam ? torch::zeros_like(t) : torch::Tensor());
  }
}

RowWiseOptimizer::~RowWiseOptimizer() = default;

double RowWiseOptimizer::coalesce_grads() {
  double squares = 0;
  for (auto& t : state_->tables) {
    torch::Tensor& g = t.mutable_grad();
    if (!g.defined()) continue;
    if (!g.is_sparse()) g = g.to_sparse();
    g = g.coalesce();
    squares += g._values().pow(2).sum().item<double>();
  }
  return squares;
}

void RowWiseOptimizer::scale_grads(double factor) {
  for (auto& t : state_->tables) {
    const torch::Tensor& g = t.grad();
    if (!g.defined()) continue;
    if (!g.is_sparse() || !g.is_coalesced()) fail("RowWiseOptimizer::scale_grads: call coalesce_grads first");
    g._values().mul_(factor);
  }
}

void RowWiseOptimizer::step() {
  State& s = *state_;
  const RowWiseOptions& o = s.options;
  ++s.steps;
  const bool adam = o.kind == EmbeddingOptimizerKind::kLazyAdam;
  const AdamRow a =
      AdamRow::at_step(o.learning_rate, o.beta1, o.beta2, o.weight_decay, adam ? o.adam_eps : o.adagrad_eps, s.steps);
  const float lr = static_cast<float>(o.learning_rate), wd = a.wd, eps = a.eps;
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < s.tables.size(); ++k) {
    torch::Tensor& w = s.tables[k];
    torch::Tensor g = w.grad();
    if (!g.defined()) continue;
    if (!g.is_sparse() || !g.is_coalesced()) g = (g.is_sparse() ? g : g.to_sparse()).coalesce();
    torch::Tensor rows = g._indices().select(0, 0).contiguous();
    torch::Tensor values = g._values().contiguous();
    if (o.tensor_ops || !w.device().is_cpu()) {
      step_rows_by_tensor_ops(w, s.first[k], s.second[k], rows, values, adam, a, lr);
      continue;
    }
    const int64_t n = rows.numel(), d = w.size(1);
    const int64_t* row = rows.data_ptr<int64_t>();
    const float* grad = values.data_ptr<float>();
    float* wp = w.data_ptr<float>();
    float* m = s.first[k].data_ptr<float>();
    float* v = adam ? s.second[k].data_ptr<float>() : nullptr;
    at::parallel_for(0, n, kRowsPerTask, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const int64_t off = row[r] * d;
        const float* gr = grad + r * d;
        float* wr = wp + off;
        float* mr = m + off;
        if (adam) {
          adam_row(wr, mr, v + off, gr, d, a);
        } else {
          for (int64_t j = 0; j < d; ++j) {
            float gj = gr[j] + wd * wr[j];
            mr[j] += gj * gj;
            wr[j] -= lr * gj / (std::sqrt(mr[j]) + eps);
          }
        }
      }
    });
  }
}

void RowWiseOptimizer::zero_grad() {
  for (auto& t : state_->tables) t.mutable_grad().reset();
}

void RowWiseOptimizer::set_learning_rate(double learning_rate) { state_->options.learning_rate = learning_rate; }
double RowWiseOptimizer::learning_rate() const { return state_->options.learning_rate; }
int64_t RowWiseOptimizer::steps() const { return state_->steps; }

void RowWiseOptimizer::save(torch::serialize::OutputArchive& archive) const {
  const State& s = *state_;
  archive.write("kind", torch::tensor({static_cast<int64_t>(s.options.kind)}, torch::kLong));
  archive.write("steps", torch::tensor({s.steps}, torch::kLong));
  for (size_t k = 0; k < s.tables.size(); ++k) {
    archive.write("first_" + std::to_string(k), s.first[k]);
    if (s.second[k].defined()) archive.write("second_" + std::to_string(k), s.second[k]);
  }
}

void RowWiseOptimizer::load(torch::serialize::InputArchive& archive) {
  State& s = *state_;
  torch::Tensor kind, steps;
  archive.read("kind", kind);
  archive.read("steps", steps);
  if (kind.item<int64_t>() != static_cast<int64_t>(s.options.kind)) {
    fail("embedding optimizer state: got kind ", to_string(static_cast<EmbeddingOptimizerKind>(kind.item<int64_t>())),
         ", expected ", to_string(s.options.kind));
  }
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < s.tables.size(); ++k) {
    torch::Tensor t;
    archive.read("first_" + std::to_string(k), t);
    if (!t.sizes().equals(s.first[k].sizes())) fail("embedding optimizer state: table ", k, " has another shape");
    s.first[k].copy_(t);
    if (s.second[k].defined()) {
      archive.read("second_" + std::to_string(k), t);
      s.second[k].copy_(t);
    }
  }
  s.steps = steps.item<int64_t>();
}

void RowWiseOptimizer::continue_from(const RowWiseOptimizer& old) {
  State& s = *state_;
  const State& o = *old.state_;
  if (o.options.kind != s.options.kind) {
    fail("embedding optimizer state: got kind ", to_string(o.options.kind), ", expected ", to_string(s.options.kind));
  }
  if (o.tables.size() != s.tables.size()) {
    fail("embedding optimizer state: got ", o.tables.size(), " tables, expected ", s.tables.size());
  }
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < s.tables.size(); ++k) {
    const int64_t rows = o.first[k].size(0);
    if (o.first[k].size(1) != s.first[k].size(1) || rows > s.first[k].size(0)) {
      fail("embedding optimizer state: table ", k, ": got [", rows, ", ", o.first[k].size(1), "], expected at most [",
           s.first[k].size(0), ", ", s.first[k].size(1), "]");
    }
    s.first[k].narrow(0, 0, rows).copy_(o.first[k]);
    if (s.second[k].defined()) s.second[k].narrow(0, 0, rows).copy_(o.second[k]);
  }
  s.steps = o.steps;
}

void RowWiseOptimizer::zero_rows(const torch::Tensor& table, const torch::Tensor& rows) {
  State& s = *state_;
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < s.tables.size(); ++k) {
    if (!s.tables[k].is_same(table)) continue;
    const torch::Tensor at = rows.to(s.first[k].device());
    s.first[k].index_fill_(0, at, 0.0);
    if (s.second[k].defined()) s.second[k].index_fill_(0, at, 0.0);
  }
}

}  // namespace twotower
