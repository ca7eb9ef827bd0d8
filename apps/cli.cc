#include "cli.h"

#include <memory>

#include "app_runner.h"
#include "commands.h"
#include "twotower/common/error.h"

namespace twotower::cli {
namespace {

std::string joined(const std::vector<std::string>& args) {
  std::string text;
  for (const std::string& arg : args) text += (text.empty() ? "" : " ") + arg;
  return text;
}

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
  return run_app(*app, argc, argv);
}

void run_cli_or_throw(const std::vector<std::string>& args, const CliContext& context) {
  std::unique_ptr<CLI::App> app = make_app(context);
  // CLI11 takes the arguments last first.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app->parse(reversed);
  } catch (const CLI::ParseError& e) {
    fail("twotower ", joined(args), ": ", e.what());
  } catch (const ChildExit& e) {
    fail("twotower ", joined(args), ": ended with exit code ", e.code);
  }
}

}  // namespace twotower::cli
