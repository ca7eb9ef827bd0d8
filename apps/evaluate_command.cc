#include <memory>
#include <string>

#include "commands.h"
#include "twotower/eval/evaluate_run.h"

namespace twotower::cli {

void add_evaluate_command(CLI::App& app) {
  auto options = std::make_shared<EvaluateOptions>();
  auto split = std::make_shared<std::string>("test");
  CLI::App* cmd = app.add_subcommand(
      "evaluate", "Full-ranking metrics of a run's embeddings (and popularity / item-kNN / EASE baselines) on a split");
  cmd->add_option("--run", options->run_dir, "run folder: config.yaml (data.data_path), user/item_embeddings.npy");
  cmd->add_option("--data", options->data_dir, "prepared data folder (instead of the run's data.data_path)");
  cmd->add_option("--user-emb", options->user_emb, "user embeddings [U, D] float32 .npy");
  cmd->add_option("--item-emb", options->item_emb, "item embeddings [I, D] float32 .npy");
  cmd->add_option("--item-vectors", options->item_vectors,
                  "item vectors for diversity@K, e.g. text embeddings (default: the item embeddings)");
  cmd->add_option("--split", *split, "split to evaluate")->check(CLI::IsMember({"valid", "test"}))->capture_default_str();
  cmd->add_option("--k", options->ks, "cutoffs, comma-separated")->delimiter(',')->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--out", options->output, "output JSON (default: RUN/metrics_<split>.json)");
  cmd->add_flag("--baselines-only", options->baselines_only, "score only the baselines (popularity, item-kNN, EASE)");
  cmd->add_flag("!--no-baselines", options->baselines, "skip the baselines");
  cmd->add_option("--chunk-users", options->chunk_users, "users scored at once (memory: chunk x items x 4 bytes)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--knn-neighbours", options->knn_neighbours, "item-kNN neighbours per item")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("!--no-ease", options->ease, "skip the EASE baseline");
  cmd->add_option("--ease-lambdas", options->ease_lambdas,
                  "EASE lambdas, comma-separated; the best on the valid split (fit on train) is used, one value "
                  "is used as given (default: 10,50,200,500,1000,3000)")
      ->delimiter(',')->check(CLI::PositiveNumber);
  cmd->add_option("--ease-metric", options->ease_metric, "metric that picks EASE's lambda on the valid split")
      ->capture_default_str();
  cmd->add_option("--ease-max-items", options->ease_max_items,
                  "skip EASE above this many items (memory: items^2 x 4 bytes, the fit about twice that)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--threads", options->threads, "ranking threads (0 = all cores)")->capture_default_str();
  cmd->callback([options, split] {
    options->split = parse_split(*split);
    run_evaluate(*options);
  });
}

}  // namespace twotower::cli
