#include "twotower/train/run_writer.h"

#include <algorithm>
#include <set>

#include "twotower/common/checksum.h"
#include "twotower/common/error.h"
#include "twotower/common/log.h"
#include "twotower/data/dataset.h"
#include "twotower/train/history_plot.h"

namespace fs = std::filesystem;

namespace twotower {
namespace {

// Renames `from` to `to`, and `from`'s checksum sidecar with it (or removes `to`'s stale one).
void move_with_checksum(const fs::path& from, const fs::path& to) {
  if (fs::exists(checksum_path(from))) {
    fs::rename(checksum_path(from), checksum_path(to));
  } else {
    fs::remove(checksum_path(to));
  }
  fs::rename(from, to);
}

}  // namespace

RunWriter::RunWriter(const Config& config, bool resume, bool writes)
    : best_metric_(config.training.best_metric),
      loss_(to_string(config.training.loss)),
      writes_(writes),
      dir_(config.training.output_dir),
      last_(dir_ / "checkpoints" / "last.pt"),
      best_(dir_ / "checkpoints" / "best.pt"),
      previous_(dir_ / "checkpoints" / "previous.pt") {
  if (!writes_) {
    if (resume && !fs::exists(last_)) fail("--resume: ", last_.string(), " does not exist");
    return;
  }
  fs::create_directories(dir_ / "checkpoints");
  set_log_file(dir_ / "train.log");
  try {
    if (!resume && fs::exists(last_)) {
      log_warn(dir_.string(), " holds checkpoints of an earlier run: starting over (use --resume to continue it)");
    }
    if (resume && !fs::exists(last_)) fail("--resume: ", last_.string(), " does not exist");
  } catch (...) {
    set_log_file({});
    throw;
  }
}

void RunWriter::write_config(const Config& config) const {
  if (writes_) save_config(config, dir_ / "config.yaml");
}

RunWriter::~RunWriter() {
  if (writes_) set_log_file({});
}

void RunWriter::write_epoch(TwoTowerModel& model, const Optimizers& optimizers, const TrainState& state, bool best,
                            const nlohmann::json& history) {
  if (!writes_) return;
  // The new checkpoint is complete before the old one moves: a failed write (a full disk) leaves
  // last.pt as it was; then last.pt becomes previous.pt and the new one last.pt.
  const fs::path next = dir_ / "checkpoints" / "next.pt";
  save_checkpoint(next, model, *optimizers.dense, state, optimizers.rows.get());
  if (fs::exists(last_)) move_with_checksum(last_, previous_);
  move_with_checksum(next, last_);
  // best.pt holds the model without the optimizers' moments: the end of the run reads it back for
  // the weights only, and reading a whole checkpoint would hold the moments once more.
  if (best) save_model_checkpoint(best_, model, state);
  write_json_file({{"best_metric", best_metric_},
                   {"best_epoch", state.best_epoch},
                   {"clamped_user_ids", model->clamped_user_ids()},
                   {"clamped_item_ids", model->clamped_item_ids()},
                   {"epochs", history}},
                  dir_ / "history.json");
}

void RunWriter::write_plot(const nlohmann::json& history, std::vector<std::string> metric_names) const {
  if (!writes_) return;
  // Metrics of resumed epochs that this invocation did not compute are drawn too.
  static const std::set<std::string> kFixed{"epoch", "train_loss", "val_loss", "learning_rate",
                                            "seconds", "pairs_per_s", "steps", "device_peak_mib"};
  for (const auto& record : history) {
    for (const auto& [key, value] : record.items()) {
      if (!kFixed.count(key) && std::find(metric_names.begin(), metric_names.end(), key) == metric_names.end()) {
        metric_names.push_back(key);
      }
    }
  }
  plot_history(history, metric_names, dir_ / "training_history.png", loss_);
}

}  // namespace twotower
