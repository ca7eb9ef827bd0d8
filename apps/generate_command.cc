#include <iostream>
#include <memory>

#include "commands.h"
#include "twotower/data/generator.h"

namespace twotower::cli {
namespace {

struct GenerateArgs {
  std::string out, format = "amazon2018";
  GeneratorOptions options;
  bool plain = false;
};

void run_generate(GenerateArgs a) {
  a.options.format = parse_review_format(a.format);
  a.options.gzip = !a.plain;
  GeneratedFiles files = generate_dataset(a.options, a.out);
  std::cout << "generated " << files.reviews_written << " reviews (" << files.bytes_written << " bytes): "
            << files.reviews.string() << "\n  metadata " << files.meta.string() << "\n  clusters "
            << files.clusters.string() << std::endl;
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto args = std::make_shared<GenerateArgs>();
  GeneratorOptions& o = args->options;
  CLI::App* cmd = app.add_subcommand(
      "generate", "Write a synthetic Amazon-format data set (reviews + metadata) with planted user/item clusters");
  cmd->add_option("--out", args->out, "output folder")->required();
  cmd->add_option("--format", args->format, "amazon2018, amazon2023, csv or recbole")->capture_default_str();
  cmd->add_option("--users", o.users, "number of users")->capture_default_str();
  cmd->add_option("--items", o.items, "number of items (about 10% get no review)")->capture_default_str();
  cmd->add_option("--reviews", o.reviews, "number of reviews (at least 3 per user)")->capture_default_str();
  cmd->add_option("--clusters", o.clusters, "planted clusters: user/item n is in cluster n % clusters")
      ->capture_default_str();
  cmd->add_option("--in-cluster", o.in_cluster, "share of reviews inside the user's cluster")->capture_default_str();
  cmd->add_option("--review-words", o.review_words, "words of review text per review")->capture_default_str();
  cmd->add_option("--seed", o.seed, "random seed")->capture_default_str();
  cmd->add_flag("--plain", args->plain, "write plain files instead of .gz");
  cmd->callback([args] { run_generate(*args); });
}

}  // namespace twotower::cli
