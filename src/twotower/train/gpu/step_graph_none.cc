// The step graph in a build against a LibTorch without CUDA (the CPU wheel): there is no graph to
// capture, and training.cuda_graph is refused (run_setup checks the device first).
#include "twotower/common/error.h"
#include "twotower/train/gpu/step_graph.h"

namespace twotower {

std::unique_ptr<StepGraph> make_step_graph(const std::vector<torch::Tensor>&, Optimizers&, const TrainingConfig&,
                                           const torch::Device& device, StepGraph::LossOf) {
  fail("training.cuda_graph: got true on ", device.str(),
       ", expected a build against a CUDA LibTorch (TWOTOWER_PYTHON naming a CUDA torch) and a CUDA device");
}

}  // namespace twotower
