#include "cli.h"

#include <algorithm>
#include <exception>
#include <iostream>
#include <memory>
#include <new>

#include "commands.h"
#include "twotower/common/error.h"
#include "twotower/common/memory.h"

namespace twotower::cli {
namespace {

std::unique_ptr<CLI::App> make_app(const CliContext& context) {
  auto app = std::make_unique<CLI::App>("twotower: two-tower retrieval recommenders on Amazon product data");
  app->require_subcommand(1);
  app->set_version_flag("--version", "twotower 0.1.0");
  add_prepare_command(*app);
  add_generate_command(*app);
  add_embed_command(*app);
  add_train_command(*app, context);
  add_evaluate_command(*app);
  add_serve_command(*app);
  add_bench_command(*app);
  add_export_command(*app);
  add_recommend_command(*app);
  add_similar_command(*app);
  add_forget_command(*app);
  return app;
}

}  // namespace

int run_cli(int argc, char** argv, const CliContext& context) {
  std::unique_ptr<CLI::App> app = make_app(context);
  try {
    app->parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app->exit(e);
  } catch (const Error& e) {
    std::cerr << "twotower: error: " << e.what() << '\n';
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "twotower: error: out of memory: an allocation failed (" << memory_limits_summary()
              << "); raise the limit, or use a smaller data set or batch\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "twotower: internal error: " << e.what() << '\n';
    return 2;
  }
  return 0;
}

void run_cli_or_throw(const std::vector<std::string>& args, const CliContext& context) {
  std::unique_ptr<CLI::App> app = make_app(context);
  // CLI11 takes the arguments last first.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app->parse(reversed);
  } catch (const CLI::ParseError& e) {
    std::string command;
    for (const std::string& arg : args) command += (command.empty() ? "" : " ") + arg;
    fail("twotower ", command, ": ", e.what());
  }
}

}  // namespace twotower::cli
