#include "twotower/train/data_parallel.h"

#include <torch/csrc/utils/tensor_flatten.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <numeric>

#include "twotower/common/error.h"

namespace twotower {
namespace {

constexpr int64_t kBucketBytes = 25 << 20;  // DDP's default bucket size

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Every rank's `local`, which holds counts[rank] entries along `dim`, in rank order. Gloo and
// NCCL gather equal shapes, so each rank's entries travel padded to the largest count.
std::vector<torch::Tensor> all_gather_uneven(c10d::ProcessGroup& group, const torch::Tensor& local,
                                             const std::vector<int64_t>& counts, int64_t dim) {
  std::vector<int64_t> shape = local.sizes().vec();
  shape[static_cast<size_t>(dim)] = *std::max_element(counts.begin(), counts.end());
  torch::Tensor padded = torch::zeros(shape, local.options());
  padded.narrow(dim, 0, local.size(dim)).copy_(local);
  std::vector<std::vector<torch::Tensor>> out(1);
  for (size_t r = 0; r < counts.size(); ++r) out[0].push_back(torch::empty_like(padded));
  std::vector<torch::Tensor> in{padded};
  group.allgather(out, in)->wait();
  std::vector<torch::Tensor> parts;
  for (size_t r = 0; r < counts.size(); ++r) parts.push_back(out[0][r].narrow(dim, 0, counts[r]));
  return parts;
}

// The autograd node of gather_rows: forward all-gathers the ranks' rows, backward sums the
// output's gradient over the ranks and keeps this rank's rows.
struct GatherRows : torch::autograd::Function<GatherRows> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& local, DataParallel* dp,
                               c10d::ProcessGroup* group, const std::vector<int64_t>& counts) {
    const auto start = Clock::now();
    std::vector<torch::Tensor> parts = all_gather_uneven(*group, local.detach(), counts, 0);
    const int64_t longest = *std::max_element(counts.begin(), counts.end());
    dp->count_gather(longest * local.size(1) * local.element_size() * static_cast<int64_t>(counts.size() - 1),
                     seconds_since(start));
    const auto rank = static_cast<size_t>(group->getRank());
    const int64_t offset = std::accumulate(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(rank), int64_t{0});
    ctx->saved_data["offset"] = offset;
    ctx->saved_data["rows"] = counts[rank];
    ctx->saved_data["dp"] = reinterpret_cast<int64_t>(dp);
    ctx->saved_data["group"] = reinterpret_cast<int64_t>(group);
    return torch::cat(parts);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto* dp = reinterpret_cast<DataParallel*>(ctx->saved_data["dp"].toInt());
    auto* group = reinterpret_cast<c10d::ProcessGroup*>(ctx->saved_data["group"].toInt());
    std::vector<torch::Tensor> summed{grads[0].contiguous()};
    const auto start = Clock::now();
    group->allreduce(summed)->wait();
    dp->count_gather(summed[0].numel() * summed[0].element_size(), seconds_since(start));
    const int64_t offset = ctx->saved_data["offset"].toInt();
    torch::Tensor mine = summed[0].slice(0, offset, offset + ctx->saved_data["rows"].toInt());
    return {mine, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

// A table's gradient as a sparse tensor to reduce: its own, or an empty one of its shape.
torch::Tensor sparse_grad_of(const torch::Tensor& table) {
  const torch::Tensor& g = table.grad();
  if (!g.defined()) {
    return torch::sparse_coo_tensor(torch::empty({1, 0}, torch::kLong).to(table.device()),
                                    torch::empty({0, table.size(1)}, table.options()), table.sizes());
  }
  if (!g.is_sparse()) fail("data-parallel training: got a dense gradient for an id table, expected a sparse one");
  return g.coalesce();
}

}  // namespace

RowRange local_rows(int64_t m, int rank, int world_size) {
  if (world_size < 1 || rank < 0 || rank >= world_size) {
    fail("data-parallel rows: got rank ", rank, " of ", world_size, ", expected 0 <= rank < world size");
  }
  return {m * rank / world_size, m * (rank + 1) / world_size};
}

ProcessGroupPtr share_group(c10::intrusive_ptr<c10d::ProcessGroup> group) {
  if (!group) return nullptr;
  c10d::ProcessGroup* raw = group.get();
  return ProcessGroupPtr(raw, [owner = std::move(group)](c10d::ProcessGroup*) {});
}

DataParallel::DataParallel(const ProcessGroupPtr& group, const torch::Device& device)
    : group_(group ? c10::intrusive_ptr<c10d::ProcessGroup>::reclaim_copy(group.get()) : nullptr) {
  if (group_) {
    rank_ = group_->getRank();
    world_size_ = group_->getSize();
  }
  const char* exchange = std::getenv("TWOTOWER_SPARSE_EXCHANGE");
  const std::string forced = exchange ? exchange : "";
  if (!forced.empty() && forced != "allgather" && forced != "allreduce") {
    fail("TWOTOWER_SPARSE_EXCHANGE: got \"", forced, "\", expected allgather or allreduce");
  }
  gather_sparse_ = forced.empty() ? !device.is_cpu() : forced == "allgather";
}

std::string DataParallel::describe() const {
  return str_cat("rank ", rank_, " of ", world_size_, group_ ? " (" + group_->getBackendName() + ")" : "");
}

void DataParallel::broadcast(std::vector<torch::Tensor> tensors) {
  if (!active()) return;
  const auto start = Clock::now();
  group_->broadcast(tensors)->wait();
  stats_.seconds += seconds_since(start);
}

void DataParallel::broadcast_parameters(const std::vector<torch::Tensor>& parameters) {
  if (!active()) return;
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& p : parameters) broadcast({p.detach()});
}

double DataParallel::sum(double value) {
  if (!active()) return value;
  std::vector<torch::Tensor> t{torch::tensor({value}, torch::kDouble)};
  int64_t ignored = 0;
  all_reduce(t, ignored);
  return t[0].item<double>();
}

bool DataParallel::rank_zero_says(bool value) {
  if (!active()) return value;
  torch::Tensor flag = torch::tensor({value ? 1 : 0}, torch::kInt);
  broadcast({flag});
  return flag.item<int>() != 0;
}

uint64_t DataParallel::rank_seed(uint64_t seed, int64_t epoch) const {
  // splitmix64's finalizer over (seed, rank, epoch): nearby inputs give unrelated seeds.
  uint64_t z = seed ^ (static_cast<uint64_t>(rank_) << 32) ^ static_cast<uint64_t>(epoch) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

torch::Tensor DataParallel::gather_rows(const torch::Tensor& local, const std::vector<int64_t>& counts) {
  if (static_cast<int>(counts.size()) != world_size_ || counts[static_cast<size_t>(rank_)] != local.size(0)) {
    fail("gather_rows: got ", local.size(0), " local rows and ", counts.size(), " counts, expected ", world_size_,
         " counts with this rank's equal to its rows");
  }
  if (!active()) return local;
  return GatherRows::apply(local, this, group_.get(), counts);
}

void DataParallel::count_gather(int64_t bytes, double seconds) {
  stats_.gather_bytes += bytes;
  stats_.seconds += seconds;
}

void DataParallel::all_reduce(std::vector<torch::Tensor>& tensors, int64_t& byte_counter) {
  const auto start = Clock::now();
  group_->allreduce(tensors)->wait();
  stats_.seconds += seconds_since(start);
  for (const torch::Tensor& t : tensors) byte_counter += t.numel() * t.element_size();
}

void DataParallel::reduce_gradients(const std::vector<torch::Tensor>& dense, const std::vector<torch::Tensor>& tables,
                                    bool dense_tables, double& loss) {
  if (!active()) return;
  torch::NoGradGuard no_grad;
  ++stats_.steps;
  // Dense: flattened into buckets of the parameters' order, the loss riding in the first.
  std::vector<torch::Tensor> grads;
  for (const torch::Tensor& p : dense) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.grad());
  }
  size_t first = 0;
  bool loss_sent = false;
  while (first < grads.size() || !loss_sent) {
    size_t last = first;
    int64_t bytes = 0;
    while (last < grads.size() && (last == first || bytes + grads[last].nbytes() <= kBucketBytes)) {
      bytes += static_cast<int64_t>(grads[last++].nbytes());
    }
    std::vector<torch::Tensor> bucket(grads.begin() + static_cast<std::ptrdiff_t>(first),
                                      grads.begin() + static_cast<std::ptrdiff_t>(last));
    if (!loss_sent) bucket.push_back(torch::tensor({static_cast<float>(loss)}, dense.empty() ? torch::TensorOptions() : dense[0].options()));
    std::vector<torch::Tensor> flat{torch::utils::flatten_dense_tensors(bucket)};
    all_reduce(flat, stats_.dense_bytes);
    std::vector<torch::Tensor> parts = torch::utils::unflatten_dense_tensors(flat[0], bucket);
    for (size_t i = 0; i + first < last; ++i) grads[first + i].copy_(parts[i]);
    if (!loss_sent) loss = parts.back().item<double>();
    loss_sent = true;
    first = last;
  }
  // Sparse: each rank's touched rows go to every rank, which sums them.
  for (const torch::Tensor& table : tables) {
    torch::Tensor g = sparse_grad_of(table);
    stats_.sparse_bytes += static_cast<int64_t>(g._indices().nbytes() + g._values().nbytes());
    const auto start = Clock::now();
    torch::Tensor summed = gather_sparse_ ? sum_sparse_by_gathering(g) : sum_sparse_by_gloo(g);
    stats_.seconds += seconds_since(start);
    table.mutable_grad() = dense_tables ? summed.to_dense() : summed;
  }
}

torch::Tensor DataParallel::sum_sparse_by_gloo(const torch::Tensor& grad) {
  std::vector<torch::Tensor> g{grad};
  c10::intrusive_ptr<c10d::Work> work = group_->allreduce(g);
  work->wait();
  return work->result().empty() ? g[0] : work->result()[0];
}

torch::Tensor DataParallel::sum_sparse_by_gathering(const torch::Tensor& grad) {
  // The rows' counts first, then indices and values.
  const torch::Tensor indices = grad._indices(), values = grad._values();
  std::vector<int64_t> n;
  for (const torch::Tensor& c : all_gather_uneven(*group_, torch::full({1}, indices.size(1), indices.options()),
                                                  std::vector<int64_t>(static_cast<size_t>(world_size_), 1), 0)) {
    n.push_back(c.item<int64_t>());
  }
  std::vector<torch::Tensor> parts_indices = all_gather_uneven(*group_, indices, n, 1);
  std::vector<torch::Tensor> parts_values = all_gather_uneven(*group_, values, n, 0);
  return torch::sparse_coo_tensor(torch::cat(parts_indices, 1), torch::cat(parts_values), grad.sizes()).coalesce();
}

}  // namespace twotower
