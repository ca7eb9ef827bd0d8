// Data-parallel training over a c10d process group (PyTorch's distributed engine: Gloo on the CPU,
// NCCL on GPUs). The group is created by torch.distributed in Python (init_process_group under
// torchrun) and handed to the trainer through the Python module; every collective below goes
// through the abstract c10d::ProcessGroup interface (docs/distributed.md says why).
//
// The scheme, for W ranks and a global batch of m positives (training.batch_size, as in one
// process): every rank knows the global batch's ids (the epoch's permutation is rank 0's,
// broadcast) and runs the towers on its own rows only (local_rows); the in-batch softmax's item
// vectors are gathered (gather_rows, whose backward sums each rank's gradient of them); each
// rank's loss is its rows' share of the global mean, so the summed gradients are the one-process
// gradient of the global batch. Dense gradients are all-reduced in buckets; the id tables'
// gradients are sparse (the touched rows only) and reduced sparsely. All replicas then take the
// same optimizer step.
//
// With one process (a default-constructed DataParallel) every member is a no-op that leaves the
// tensors as they are, and the single-process trainer's arithmetic is unchanged.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include "twotower/train/process_group.h"

namespace twotower {

/// The rows [begin, end) of a global batch that one rank computes.
struct RowRange {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
};

/// Rank `rank`'s rows of a batch of m: [m * rank / W, m * (rank + 1) / W). The W ranges are
/// disjoint, cover [0, m) and differ in size by at most one.
RowRange local_rows(int64_t m, int rank, int world_size);

/// `group` as the trainer's options hold it (null stays null); the result keeps it alive.
ProcessGroupPtr share_group(c10::intrusive_ptr<c10d::ProcessGroup> group);

/// Bytes and seconds spent in collectives since the last reset (the benchmark's figures).
struct CommunicationStats {
  int64_t dense_bytes = 0;    // all-reduced dense gradients (and the loss)
  int64_t sparse_bytes = 0;   // this rank's sparse table gradients (indices + values) sent
  int64_t gather_bytes = 0;   // gathered item vectors and their gradients' all-reduce
  int64_t steps = 0;
  double seconds = 0;         // wall time inside collectives (waiting included)
};

class DataParallel {
 public:
  /// One process: rank 0 of 1, no communication.
  DataParallel() = default;
  /// The ranks of `group` (null: one process), training on `device`. Collectives time out as the
  /// group was configured (init_process_group's timeout). The tables' sparse gradients are summed
  /// by Gloo's sparse all-reduce on the CPU, and by all-gathering each rank's rows on a GPU (NCCL
  /// has no sparse all-reduce); TWOTOWER_SPARSE_EXCHANGE=allgather|allreduce forces one (a
  /// diagnostic: both give the same sums).
  DataParallel(const ProcessGroupPtr& group, const torch::Device& device);

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  bool active() const { return world_size_ > 1; }
  /// Rank 0 validates and writes the run's files.
  bool is_root() const { return rank_ == 0; }
  /// "rank 1 of 4 (gloo)".
  std::string describe() const;

  /// This rank's rows of a global batch of m.
  RowRange local_rows(int64_t m) const { return twotower::local_rows(m, rank_, world_size_); }

  /// Rank 0's values of `tensors` (CPU or the group's device) on every rank, in place.
  void broadcast(std::vector<torch::Tensor> tensors);
  /// Copies rank 0's parameters to every rank (the replicas start identical, as DDP's do).
  void broadcast_parameters(const std::vector<torch::Tensor>& parameters);
  /// The sum of `value` over the ranks.
  double sum(double value);
  /// Rank 0's `value` on every rank (e.g. its early-stop decision).
  bool rank_zero_says(bool value);
  /// A seed for this rank's own random stream in `epoch`, from the run's seed (distinct per rank
  /// and epoch, the same on a rerun).
  uint64_t rank_seed(uint64_t seed, int64_t epoch) const;

  /// Every rank's rows, in rank order: rank r contributes `local` [counts[r], D]; returns
  /// [sum(counts), D]. Differentiable: the gradient of `local` is the sum over ranks of the
  /// gradient of its rows in the output (an all-reduce in the backward pass).
  torch::Tensor gather_rows(const torch::Tensor& local, const std::vector<int64_t>& counts);

  /// After backward: sums every rank's gradients. `dense` are all-reduced in buckets of at most
  /// 25 MB (an undefined gradient counts as zeros); `tables` must carry sparse gradients (or
  /// none) and are reduced sparsely; with `dense_tables` each table's summed gradient is then
  /// made dense (for torch's dense optimizers). `loss` is summed with the first bucket.
  void reduce_gradients(const std::vector<torch::Tensor>& dense, const std::vector<torch::Tensor>& tables,
                        bool dense_tables, double& loss);

  const CommunicationStats& stats() const { return stats_; }
  void reset_stats() { stats_ = CommunicationStats(); }
  /// Adds the gather backward's traffic (called from gather_rows's autograd node).
  void count_gather(int64_t bytes, double seconds);

 private:
  void all_reduce(std::vector<torch::Tensor>& tensors, int64_t& byte_counter);
  torch::Tensor sum_sparse_by_gloo(const torch::Tensor& grad);
  torch::Tensor sum_sparse_by_gathering(const torch::Tensor& grad);

  c10::intrusive_ptr<c10d::ProcessGroup> group_;
  int rank_ = 0;
  int world_size_ = 1;
  bool gather_sparse_ = false;
  CommunicationStats stats_;
};

}  // namespace twotower
