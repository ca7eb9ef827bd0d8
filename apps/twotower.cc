// twotower: train and serve two-tower retrieval recommenders on Amazon product data.
#include <csignal>
#include <exception>
#include <iostream>

#include "commands.h"
#include "twotower/common/error.h"

int main(int argc, char** argv) {
  // A write past the file-size limit (a full quota, `ulimit -f`) fails with EFBIG and is reported
  // naming the file, instead of the signal ending the process without a word.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"twotower: two-tower retrieval recommenders on Amazon product data"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "twotower 0.1.0");
  twotower::cli::add_prepare_command(app);
  twotower::cli::add_generate_command(app);
  twotower::cli::add_embed_command(app);
  twotower::cli::add_train_command(app);
  twotower::cli::add_evaluate_command(app);
  twotower::cli::add_serve_command(app);
  twotower::cli::add_bench_command(app);
  twotower::cli::add_export_command(app);
  twotower::cli::add_recommend_command(app);
  twotower::cli::add_similar_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const twotower::Error& e) {
    std::cerr << "twotower: error: " << e.what() << '\n';
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "twotower: internal error: " << e.what() << '\n';
    return 2;
  }
  return 0;
}
