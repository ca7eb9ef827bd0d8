// training_history.png: losses and each tracked metric per epoch, drawn by gnuplot.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace twotower {

/// Draws train_loss and val_loss (top panel) and every other numeric key named in `metrics`
/// (bottom panel) against "epoch" from `epochs` (an array of objects) into `png`. Keeps the
/// data (.dat) and script (.gp) beside the image so the plot can be redrawn. Returns false, with
/// a warning logged, when gnuplot is missing or fails (training goes on without the plot).
/// @param train_loss  the configured training.loss (e.g. "softmax") for the labels; "" when unknown
bool plot_history(const nlohmann::json& epochs, const std::vector<std::string>& metrics,
                  const std::filesystem::path& png, const std::string& train_loss = "");

/// The gnuplot script plot_history runs: `dat` holds the columns epoch, train_loss, val_loss, then
/// `metrics` in order. The train loss (training.loss) is read on the left axis and the validation
/// loss (BCE of the positive pairs only) on the right one: they are different quantities. Text is
/// drawn as is (no enhanced-text markup), so "ndcg@10" and "recall_10" keep their `@` and `_`.
/// Without `val_loss` (no epoch has one: a run that trains on its validation split) the loss
/// panel holds the train loss alone.
std::string history_plot_script(size_t epochs, const std::vector<std::string>& metrics,
                                const std::filesystem::path& dat, const std::filesystem::path& png,
                                const std::string& train_loss, bool val_loss = true);

}  // namespace twotower
