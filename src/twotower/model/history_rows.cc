#include "twotower/model/history_rows.h"

namespace twotower {

torch::Tensor history_rows_by_selection(torch::nn::Embedding table, const torch::Tensor& history) {
  const torch::Tensor keep = history >= 0;
  const torch::Tensor rows = table->forward(history.masked_select(keep));
  return torch::zeros({history.size(0), history.size(1), rows.size(1)}, rows.options()).index_put({keep}, rows);
}

torch::Tensor history_rows_by_mask(torch::nn::Embedding table, const torch::Tensor& history) {
  const torch::Tensor rows = table->forward(history.clamp_min(0));
  return torch::where((history >= 0).unsqueeze(-1), rows, 0.0);
}

torch::Tensor history_rows(torch::nn::Embedding table, const torch::Tensor& history) {
  const bool by_mask = !history.device().is_cpu() && !table->options.sparse();
  return by_mask ? history_rows_by_mask(table, history) : history_rows_by_selection(table, history);
}

}  // namespace twotower
