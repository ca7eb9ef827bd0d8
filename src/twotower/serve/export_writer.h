// `twotower export`: a trained run folder -> a self-contained, versioned serving export
// (serve/export_layout.h lists its files). The export needs nothing of the run or the prepared
// data afterwards: vectors, ids, titles, seen items, popularity, vocabularies and both towers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace twotower {

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
/// Throws naming the missing file or the bad value; a failed export leaves no version folder.
ExportSummary write_export(const std::filesystem::path& run_dir, const std::filesystem::path& out_parent);

}  // namespace twotower
