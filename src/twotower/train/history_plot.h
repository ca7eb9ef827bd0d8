// training_history.png: losses and each tracked metric per epoch, drawn by gnuplot.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace twotower {

/// Draws train_loss and val_loss (top panel) and every other numeric key named in `metrics`
/// (bottom panel) against "epoch" from `epochs` (an array of objects) into `png`. Keeps the
/// data (.dat) and script (.gp) beside the image so the plot can be redrawn. Returns false, with
/// a warning logged, when gnuplot is missing or fails (training goes on without the plot).
bool plot_history(const nlohmann::json& epochs, const std::vector<std::string>& metrics,
                  const std::filesystem::path& png);

}  // namespace twotower
