// A torch.distributed process group as the trainer's options and the CLI hold it, without
// LibTorch's headers: ProcessGroup.hpp brings in most of ATen (about 25 s of compiling per file
// that includes it), and these options are named in every subcommand.
#pragma once

#include <memory>

namespace c10d {
class ProcessGroup;
}  // namespace c10d

namespace twotower {

/// Shared ownership of a c10d process group; null: one process. Made from LibTorch's own pointer
/// by share_group (train/data_parallel.h), which keeps the group alive as long as any copy lives.
using ProcessGroupPtr = std::shared_ptr<c10d::ProcessGroup>;

}  // namespace twotower
