// The two towers of an export at serve time, behind a torch-free interface: a history through
// the user tower, the cold user's vector, new items' metadata through the item tower.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

namespace twotower {

/// Thread safety: the const methods may run on any number of threads at once (eval mode, no
/// gradients, no state changes).
class ServingModel {
 public:
  /// Builds the model of `dir`/config.yaml at the manifest's sizes and reads `dir`/model.pt into
  /// it. Throws naming the file when the weights do not match the config.
  ServingModel(const std::filesystem::path& dir, const nlohmann::json& manifest);
  ~ServingModel();
  ServingModel(const ServingModel&) = delete;
  ServingModel& operator=(const ServingModel&) = delete;

  /// How many of a history's latest items the user tower pools (model.user_history; 0: none).
  int64_t history_length() const { return history_length_; }
  /// True when the model reads item text (new items then carry a [text_dim] vector).
  bool uses_text() const { return uses_text_; }
  int64_t text_dim() const { return text_dim_; }
  int64_t num_items() const { return num_items_; }

  /// The user tower on `history` (item indices of the model's vocabulary, oldest first; the last
  /// history_length() are pooled) with a zero id embedding: [dim] float32, unit norm or zero.
  std::vector<float> history_vector(std::span<const int64_t> history) const;
  /// The user tower on a zero id embedding and an empty history: [dim] float32.
  std::vector<float> cold_user_vector() const;
  /// The item tower on new items' features: [n, dim] float32 row-major.
  /// @param categories  [n] category indices (0 = unknown)
  /// @param brands      [n] brand indices (0 = unknown)
  /// @param text        [n * text_dim] float32 when uses_text(), else empty
  std::vector<float> new_item_vectors(std::span<const int64_t> categories, std::span<const int64_t> brands,
                                      std::span<const float> text) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int64_t history_length_ = 0;
  bool uses_text_ = false;
  int64_t text_dim_ = 0;
  int64_t num_items_ = 0;
};

}  // namespace twotower
