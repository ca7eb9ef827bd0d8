// `twotower export`: a trained run folder -> a self-contained, versioned serving export
// (serve/export/export_layout.h lists its files). The export needs nothing of the run or the prepared
// data afterwards: vectors, ids, titles, seen items, popularity, vocabularies and both towers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "twotower/serve/index/topk_index.h"

namespace twotower {

struct ExportOptions {
  bool hnsw = false;   // also build the item vectors' HNSW graph and store it (item_index_hnsw.faiss)
  IndexOptions index;  // its M, efConstruction, and the efSearch its recall is measured at
};

struct ExportSummary {
  std::filesystem::path dir;  // the version folder written, OUT/vNNNNNN
  std::string version;        // "vNNNNNN"
  int64_t num_users = 0;
  int64_t num_items = 0;
  int64_t dim = 0;
};

/// Reads `run_dir` (config.yaml, checkpoints/best.pt or else checkpoints/last.pt, and the prepared
/// data of data.data_path), recomputes the user and item vectors from that checkpoint on the CPU as
/// `twotower train` exports them (users pool their train + valid history), and writes the next
/// free version under `out_parent` (created when missing) through a temporary folder and a rename.
/// With options.hnsw the graph is built here (a service then reads it instead of building it) and
/// its recall@10 against exact on up to 1,000 known users' vectors goes into the manifest and
/// the log. Throws naming the missing file or the bad value; a failed export leaves no version
/// folder.
ExportSummary write_export(const std::filesystem::path& run_dir, const std::filesystem::path& out_parent,
                           const ExportOptions& options = {});

}  // namespace twotower
