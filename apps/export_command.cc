#include <iostream>
#include <memory>

#include "commands.h"
#include "twotower/serve/export/export_writer.h"

namespace twotower::cli {

namespace {
struct ExportArgs {
  std::filesystem::path run;
  std::filesystem::path out;
  ExportOptions options;
};
}  // namespace

void add_export_command(CLI::App& app) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "export", "A trained run -> a versioned serving export OUT/vNNNNNN (vectors, ids, titles, seen items, towers)");
  cmd->add_option("--run", args->run, "run folder: config.yaml, checkpoints/best.pt")->required();
  cmd->add_option("--out", args->out, "export parent folder; the next version vNNNNNN is written under it")
      ->required();
  IndexOptions& index = args->options.index;
  cmd->add_flag("--hnsw", args->options.hnsw, "also build and store the items' HNSW graph (recall logged)");
  cmd->add_option("--hnsw-m", index.hnsw_m, "HNSW neighbours per node")->capture_default_str();
  cmd->add_option("--ef-construction", index.hnsw_ef_construction, "HNSW build candidate list")
      ->capture_default_str();
  cmd->add_option("--ef-search", index.hnsw_ef_search, "efSearch the recall is measured at")->capture_default_str();
  cmd->callback([args] { std::cout << write_export(args->run, args->out, args->options).dir.string() << '\n'; });
}

}  // namespace twotower::cli
