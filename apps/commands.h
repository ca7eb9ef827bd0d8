// Each subcommand registers its flags on the CLI and binds them to one run function of the
// library. One file per subcommand (apps/<name>_command.cc).
#pragma once

#include <CLI/CLI.hpp>

#include "cli.h"

namespace twotower::cli {

void add_prepare_command(CLI::App& app);
void add_generate_command(CLI::App& app);
void add_embed_command(CLI::App& app);
void add_train_command(CLI::App& app, const CliContext& context);
void add_evaluate_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_export_command(CLI::App& app);
void add_recommend_command(CLI::App& app);
void add_similar_command(CLI::App& app);
void add_forget_command(CLI::App& app);

}  // namespace twotower::cli
