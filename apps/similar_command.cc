#include <iomanip>
#include <iostream>
#include <memory>

#include "commands.h"
#include "serve_options.h"

namespace twotower::cli {
namespace {

struct SimilarArgs {
  ExportFlags export_flags;
  std::string item;
  int64_t k = kDefaultK;
};

void run_similar(const SimilarArgs& a) {
  const std::unique_ptr<Recommender> service = load_recommender(a.export_flags);
  const std::vector<Recommendation> found = service->similar(a.item, a.k);
  std::cout << "rank\titem_id\tscore\ttitle\n";
  for (size_t r = 0; r < found.size(); ++r) {
    std::cout << r + 1 << '\t' << found[r].item_id << '\t' << std::fixed << std::setprecision(4) << found[r].score
              << '\t' << found[r].title << '\n';
  }
}

}  // namespace

void add_similar_command(CLI::App& app) {
  auto args = std::make_shared<SimilarArgs>();
  CLI::App* cmd = app.add_subcommand("similar", "The k items nearest an item of an export (inner product)");
  add_export_flags(cmd, args->export_flags);
  cmd->add_option("--item", args->item, "item id")->required();
  cmd->add_option("--k", args->k, "neighbours")->capture_default_str();
  cmd->callback([args] { run_similar(*args); });
}

}  // namespace twotower::cli
