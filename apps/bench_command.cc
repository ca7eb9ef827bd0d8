#include <string>
#include <vector>

#include "app_runner.h"
#include "commands.h"
#include "twotower/common/child_process.h"
#include "twotower/common/error.h"
#include "twotower_build_paths.h"

namespace twotower::cli {

void add_bench_command(CLI::App& app) {
  CLI::App* bench = app.add_subcommand(
      "bench", "Benchmarks: `bench train` beside the PyTorch reference, `bench serve` beside faiss-cpu (see `bench --help`)");
  // Everything after `bench`, --help included, goes to the benchmark program unparsed.
  bench->prefix_command();
  bench->set_help_flag();
  bench->callback([bench] {
    std::vector<std::string> argv{TWOTOWER_BENCH_PROGRAM};
    if (argv[0].empty()) fail("bench: this build has no benchmark program, expected one built with TWOTOWER_BUILD_BENCH=ON");
    for (const std::string& arg : bench->remaining()) argv.push_back(arg);
    const int code = run_child_process(argv, {}, "bench");
    if (code != 0) throw ChildExit{code};
  });
}

}  // namespace twotower::cli
