#include <iostream>
#include <memory>

#include "commands.h"
#include "twotower/serve/export_writer.h"

namespace twotower::cli {

namespace {
struct ExportArgs {
  std::filesystem::path run;
  std::filesystem::path out;
};
}  // namespace

void add_export_command(CLI::App& app) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "export", "A trained run -> a versioned serving export OUT/vNNNNNN (vectors, ids, titles, seen items, towers)");
  cmd->add_option("--run", args->run, "run folder: config.yaml, checkpoints/best.pt")->required();
  cmd->add_option("--out", args->out, "export parent folder; the next version vNNNNNN is written under it")
      ->required();
  cmd->callback([args] { std::cout << write_export(args->run, args->out).dir.string() << '\n'; });
}

}  // namespace twotower::cli
