// `twotower evaluate`: load a run's embeddings (or given files) and the prepared data, score the
// model and the baselines on one split, write metrics_<split>.json and print the table.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include <string>

#include <nlohmann/json.hpp>

#include "twotower/data/dataset.h"
#include "twotower/eval/ease.h"

namespace twotower {

struct EvaluateOptions {
  std::filesystem::path run_dir;       // config.yaml (data.data_path), user/item_embeddings.npy
  std::filesystem::path data_dir;      // a prepared folder; overrides the run's data.data_path
  std::filesystem::path user_emb;      // [U, D] float32 .npy; default run_dir/user_embeddings.npy
  std::filesystem::path item_emb;      // [I, D] float32 .npy; default run_dir/item_embeddings.npy
  std::filesystem::path item_vectors;  // [I, D'] .npy for diversity; default: the item embeddings
  std::filesystem::path output;        // default: run_dir (or the embeddings' folder, or data_dir)
                                       //   / metrics_<split>.json
  Split split = Split::kTest;          // valid | test
  std::vector<int64_t> ks{5, 10, 20, 50};
  bool baselines_only = false;         // score only popularity and item-kNN
  bool baselines = true;               // also score the baselines beside the model
  int64_t chunk_users = 1024;          // users scored at once, >= 1
  int64_t knn_neighbours = 100;        // item-kNN neighbours per item, >= 1
  bool ease = true;                    // EASE beside the other baselines (eval/ease.h)
  std::vector<double> ease_lambdas;    // each > 0; empty: ease_default_lambdas(); one value: no search
  std::string ease_metric = "ndcg@10";  // picks lambda on the valid split (EASE fit on train)
  int64_t ease_max_items = kEaseDefaultMaxItems;  // larger catalogues skip EASE with a message (memory I^2 x 4 B)
  int threads = 0;                     // ranking threads, 0 = all cores
  bool progress = true;
};

/// data.data_path of `run_dir`/config.yaml (read by the config loader): a relative path is taken
/// from the working directory when it exists there, else from `run_dir`. Throws naming the config
/// file and the key when it is missing or the folder does not exist.
std::filesystem::path data_path_from_run(const std::filesystem::path& run_dir);

/// Runs the evaluation, writes the JSON file, prints the table on stdout; returns the report.
/// The data folder is `data_dir`, else data.data_path of run_dir/config.yaml as load_config
/// reads it (a relative path from the working directory when it exists there, else from
/// run_dir). Throws on a missing or invalid config.yaml (the loader's message), a data folder
/// that does not exist, or an embedding file whose rows do not match the data set.
nlohmann::json run_evaluate(const EvaluateOptions& options);

}  // namespace twotower
