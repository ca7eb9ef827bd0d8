#include "twotower/config/best_metric.h"

#include <array>
#include <cstdint>
#include <string_view>

#include "twotower/common/text.h"

namespace twotower {
namespace {

constexpr std::array<std::string_view, 3> kLossNames{"val_loss", "train_loss", "last"};

}  // namespace

bool is_loss_best_metric(const std::string& name) {
  for (std::string_view n : kLossNames) {
    if (name == n) return true;
  }
  return false;
}

bool is_ranking_best_metric(const std::string& name) {
  const size_t at = name.find('@');
  if (at == std::string::npos) return false;
  const std::string_view metric = std::string_view(name).substr(0, at);
  int64_t k = 0;
  return (metric == "recall" || metric == "ndcg") && parse_int64(std::string_view(name).substr(at + 1), &k) && k >= 1;
}

std::string loss_best_metrics_text() {
  std::string text;
  for (std::string_view n : kLossNames) text += (text.empty() ? "" : ", ") + std::string(n);
  return text;
}

}  // namespace twotower
