// The flags `recommend` and `similar` share: the export to load and the index to search it with.
#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <memory>
#include <string>

#include "twotower/serve/recommender.h"

namespace twotower::cli {

struct ExportFlags {
  std::filesystem::path export_dir;
  std::string index = "exact";
  RecommenderOptions options;
};

/// Adds --export (required), --index, --hnsw-m, --ef-search to `cmd`, bound to `flags`.
inline void add_export_flags(CLI::App* cmd, ExportFlags& flags) {
  cmd->add_option("--export", flags.export_dir, "export folder (a version, or the parent: its latest version)")
      ->required();
  cmd->add_option("--index", flags.index, "exact or hnsw")->capture_default_str();
  cmd->add_option("--hnsw-m", flags.options.index.hnsw_m, "HNSW neighbours per node")->capture_default_str();
  cmd->add_option("--ef-search", flags.options.index.hnsw_ef_search, "HNSW search candidate list")
      ->capture_default_str();
}

/// The recommender of `flags` (the --index value parsed here, named in its error).
inline std::unique_ptr<Recommender> load_recommender(ExportFlags flags) {
  flags.options.index.kind = parse_index_kind(flags.index, "--index");
  return std::make_unique<Recommender>(flags.export_dir, flags.options);
}

}  // namespace twotower::cli
