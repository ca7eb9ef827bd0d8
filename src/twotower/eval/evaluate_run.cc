#include "twotower/eval/evaluate_run.h"

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <iostream>

#include "twotower/common/error.h"
#include "twotower/common/log.h"
#include "twotower/data/npy.h"
#include "twotower/eval/baselines.h"
#include "twotower/eval/report.h"

namespace fs = std::filesystem;

namespace twotower {
namespace {

MatrixView view_of(const Matrix& m) { return {m.data.data(), m.rows, m.cols}; }

Matrix load_matrix(const fs::path& path, const char* what, int64_t rows) {
  if (!fs::exists(path)) fail(path.string(), ": ", what, " not found");
  Matrix m = read_npy(path);
  if (m.rows != rows) {
    fail(path.string(), ": ", what, ": got ", m.rows, " rows, expected ", rows, " (one per ",
         std::string(what).find("user") != std::string::npos ? "user" : "item", " of the data set)");
  }
  return m;
}

}  // namespace

fs::path data_path_from_run(const fs::path& run_dir) {
  const fs::path config = run_dir / "config.yaml";
  if (!fs::exists(config)) fail(config.string(), ": not found (a run folder holds the config it was trained with)");
  YAML::Node root;
  try {
    root = YAML::LoadFile(config.string());
  } catch (const YAML::Exception& e) {
    fail(config.string(), ":", e.mark.line + 1, ": ", e.msg);
  }
  YAML::Node value = root["data"] ? root["data"]["data_path"] : YAML::Node();
  if (!value || !value.IsScalar() || value.as<std::string>().empty()) {
    fail(input_error(config.string(), value ? value.Mark().line + 1 : 1, "data.data_path",
                     value ? "a non-string value" : "nothing", "the prepared data folder"));
  }
  fs::path path = value.as<std::string>();
  if (path.is_absolute() || fs::exists(path)) return path;
  if (fs::exists(run_dir / path)) return run_dir / path;
  fail(input_error(config.string(), value.Mark().line + 1, "data.data_path", "\"" + path.string() + "\"",
                   "a folder that exists (looked in the working directory and in " + run_dir.string() + ")"));
}

nlohmann::json run_evaluate(const EvaluateOptions& o) {
  const bool model = !o.baselines_only;
  fs::path data_dir = o.data_dir;
  if (data_dir.empty()) {
    if (o.run_dir.empty()) fail("evaluate: give --run DIR or --data DIR");
    data_dir = data_path_from_run(o.run_dir);
  }
  fs::path user_emb = o.user_emb, item_emb = o.item_emb;
  if (model) {
    if (user_emb.empty() && !o.run_dir.empty()) user_emb = o.run_dir / "user_embeddings.npy";
    if (item_emb.empty() && !o.run_dir.empty()) item_emb = o.run_dir / "item_embeddings.npy";
    if (user_emb.empty() || item_emb.empty()) {
      fail("evaluate: the model's embeddings are needed: give --run DIR, or --user-emb and --item-emb "
           "(or --baselines-only)");
    }
  }
  fs::path output = o.output;
  if (output.empty()) {
    const std::string name = str_cat(model ? "metrics_" : "metrics_baselines_", split_name(o.split), ".json");
    output = (!o.run_dir.empty() ? o.run_dir : model ? user_emb.parent_path() : data_dir) / name;
  }

  log_info("evaluate: loading ", data_dir.string());
  Dataset data = load_dataset(data_dir, ItemText::kSkip);
  EvalData eval = make_eval_data(data, o.split);
  log_info("evaluate: ", split_name(o.split), " split: ", eval.users_with_targets, " users with targets of ",
           eval.num_users, ", ", eval.num_items, " items");

  EvalOptions eo;
  eo.ks = o.ks;
  eo.chunk_users = o.chunk_users;
  eo.num_threads = o.threads;
  eo.progress = o.progress;

  Matrix users, items, vectors;
  const MatrixView* vectors_view = nullptr;
  MatrixView vectors_storage;
  std::string vectors_source;
  if (model) {
    users = load_matrix(user_emb, "user embeddings", eval.num_users);
    items = load_matrix(item_emb, "item embeddings", eval.num_items);
  }
  if (!o.item_vectors.empty()) {
    vectors = load_matrix(o.item_vectors, "item vectors", eval.num_items);
    vectors_storage = view_of(vectors);
    vectors_source = o.item_vectors.string();
  } else if (model) {
    vectors_storage = view_of(items);
    vectors_source = item_emb.string() + " (item embeddings)";
  }
  if (vectors_storage.data != nullptr) vectors_view = &vectors_storage;

  nlohmann::json report;
  if (model) {
    DotProductScorer scorer(view_of(users), view_of(items));
    report = evaluate_all(eval, scorer, eo, vectors_view, vectors_source);
    report["embeddings"] = {{"users", user_emb.string()}, {"items", item_emb.string()}, {"dim", users.cols}};
  } else {
    report["split"] = split_name(o.split);
    report["k"] = o.ks;
  }
  report["data"] = data_dir.string();
  if (o.baselines || o.baselines_only) {
    PopularityScorer popularity(eval);
    report["baselines"]["popularity"] = evaluate_all(eval, popularity, eo, vectors_view, vectors_source);
    const auto start = std::chrono::steady_clock::now();
    ItemKnnScorer knn(eval, o.knn_neighbours);
    const double fit = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    nlohmann::json k = evaluate_all(eval, knn, eo, vectors_view, vectors_source);
    k["neighbours"] = o.knn_neighbours;
    k["fit_seconds"] = fit;
    report["baselines"]["itemknn"] = k;
    report["baselines"]["fit_on"] = o.split == Split::kTest ? "train+valid" : "train";
  }
  write_json_file(report, output);
  std::cout << format_table(report) << std::flush;
  log_info("evaluate: wrote ", output.string());
  return report;
}

}  // namespace twotower
