#include "twotower/eval/evaluate_run.h"

#include <chrono>
#include <iostream>
#include <string>

#include "twotower/common/error.h"
#include "twotower/common/log.h"
#include "twotower/config/config.h"
#include "twotower/data/npy.h"
#include "twotower/eval/baselines.h"
#include "twotower/eval/ease.h"
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


// The files one evaluation reads and writes, the defaults of EvaluateOptions filled in.
struct EvaluatePaths {
  fs::path data_dir;
  fs::path user_emb;  // empty with baselines_only
  fs::path item_emb;  // empty with baselines_only
  fs::path output;
};

EvaluatePaths resolve_paths(const EvaluateOptions& o) {
  const bool model = !o.baselines_only;
  EvaluatePaths p{o.data_dir, o.user_emb, o.item_emb, o.output};
  if (p.data_dir.empty()) {
    if (o.run_dir.empty()) fail("evaluate: give --run DIR or --data DIR");
    p.data_dir = data_path_from_run(o.run_dir);
  }
  if (model) {
    if (p.user_emb.empty() && !o.run_dir.empty()) p.user_emb = o.run_dir / "user_embeddings.npy";
    if (p.item_emb.empty() && !o.run_dir.empty()) p.item_emb = o.run_dir / "item_embeddings.npy";
    if (p.user_emb.empty() || p.item_emb.empty()) {
      fail("evaluate: the model's embeddings are needed: give --run DIR, or --user-emb and --item-emb "
           "(or --baselines-only)");
    }
  }
  if (p.output.empty()) {
    const std::string name = str_cat(model ? "metrics_" : "metrics_baselines_", split_name(o.split), ".json");
    p.output = (!o.run_dir.empty() ? o.run_dir : model ? p.user_emb.parent_path() : p.data_dir) / name;
  }
  return p;
}

// The matrices one evaluation scores with, loaded and checked against the data.
struct EvaluateInputs {
  Matrix users, items;    // the model's [U, D] and [I, D]; empty with baselines_only
  Matrix vectors;         // --item-vectors [I, D'], when given
  MatrixView diversity;   // what diversity@K reads: `vectors`, else `items`; null data if neither
  std::string diversity_source;

  const MatrixView* diversity_view() const { return diversity.data != nullptr ? &diversity : nullptr; }
};

void load_inputs(const EvaluateOptions& o, const EvaluatePaths& p, const EvalData& eval, EvaluateInputs& in) {
  const bool model = !o.baselines_only;
  if (model) {
    in.users = load_matrix(p.user_emb, "user embeddings", eval.num_users);
    in.items = load_matrix(p.item_emb, "item embeddings", eval.num_items);
  }
  if (!o.item_vectors.empty()) {
    in.vectors = load_matrix(o.item_vectors, "item vectors", eval.num_items);
    in.diversity = view_of(in.vectors);
    in.diversity_source = o.item_vectors.string();
  } else if (model) {
    in.diversity = view_of(in.items);
    in.diversity_source = p.item_emb.string() + " (item embeddings)";
  }
}

nlohmann::json ease_trial_json(const EaseFit& fit) {
  return {{"lambda", fit.lambda}, {"fit_seconds", fit.seconds}, {"dtype", fit.dtype},
          {"condition_bound", fit.condition_bound}};
}

// out["ease"]: lambda chosen on the valid split (fit on train), then EASE fit on the same history
// as the other baselines; out["ease_skipped"] with the reason for a catalogue over the limit.
void add_ease(const EvaluateOptions& o, const Dataset& data, const EvalData& eval, const EvalOptions& eo,
              const EvaluateInputs& in, nlohmann::json& out) {
  if (auto reason = ease_skip_reason(eval.num_items, o.ease_max_items)) {
    log_info("evaluate: ", *reason);
    out["ease_skipped"] = *reason;
    return;
  }
  const std::vector<double>& grid = o.ease_lambdas.empty() ? ease_default_lambdas() : o.ease_lambdas;
  double lambda = grid.front();
  nlohmann::json selection = {{"metric", o.ease_metric}, {"fit_on", "train"}, {"split", "valid"}};
  if (grid.size() > 1) {
    const EaseSelection chosen = select_ease_lambda(make_eval_data(data, Split::kValid), grid, o.ease_metric, eo);
    lambda = chosen.lambda;
    for (const EaseTrial& t : chosen.trials) {
      nlohmann::json j = ease_trial_json(t.fit);
      j[o.ease_metric] = t.value;
      selection["trials"].push_back(j);
    }
  } else {
    selection = {{"lambda_given", lambda}};
  }
  EaseFit fit;
  EaseScorer ease(eval, ease_weights(eval, lambda, &fit), o.threads);
  log_info("evaluate: EASE lambda ", lambda, " fit in ", fit.seconds, " s (", fit.dtype, ")");
  nlohmann::json e = evaluate_all(eval, ease, eo, in.diversity_view(), in.diversity_source);
  e["lambda"] = lambda;
  e["fit"] = ease_trial_json(fit);
  e["selection"] = selection;
  out["ease"] = e;
}

// report["baselines"]: popularity, item-kNN and EASE, fit on the same history as the model.
nlohmann::json evaluate_baselines(const EvaluateOptions& o, const Dataset& data, const EvalData& eval,
                                  const EvalOptions& eo, const EvaluateInputs& in) {
  nlohmann::json out;
  PopularityScorer popularity(eval);
  out["popularity"] = evaluate_all(eval, popularity, eo, in.diversity_view(), in.diversity_source);
  const auto start = std::chrono::steady_clock::now();
  ItemKnnScorer knn(eval, o.knn_neighbours);
  const double fit = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nlohmann::json k = evaluate_all(eval, knn, eo, in.diversity_view(), in.diversity_source);
  k["neighbours"] = o.knn_neighbours;
  k["fit_seconds"] = fit;
  out["itemknn"] = k;
  if (o.ease) {
    try {  // as evaluate_all does for a metric group: the reason in the report, the rest still out
      add_ease(o, data, eval, eo, in, out);
    } catch (const Error& e) {
      log_warn("evaluate: EASE: ", e.what());
      out["ease_skipped"] = str_cat("EASE failed: ", e.what());
    }
  }
  out["fit_on"] = o.split == Split::kTest ? "train+valid" : "train";
  return out;
}

}  // namespace

fs::path data_path_from_run(const fs::path& run_dir) {
  const fs::path config = run_dir / "config.yaml";
  if (!fs::exists(config)) fail(config.string(), ": not found (a run folder holds the config it was trained with)");
  const fs::path path = load_config(config).data.data_path;
  if (path.is_absolute() || fs::exists(path)) return path;
  if (fs::exists(run_dir / path)) return run_dir / path;
  fail(input_error(config.string(), 0, "data.data_path", str_cat("\"", path.string(), "\""),
                   str_cat("a folder that exists (looked in the working directory and in ", run_dir.string(), ")")));
}

nlohmann::json run_evaluate(const EvaluateOptions& o) {
  const EvaluatePaths paths = resolve_paths(o);
  log_info("evaluate: loading ", paths.data_dir.string());
  Dataset data = load_dataset(paths.data_dir, ItemText::kSkip);
  EvalData eval = make_eval_data(data, o.split);
  log_info("evaluate: ", split_name(o.split), " split: ", eval.users_with_targets, " users with targets of ",
           eval.num_users, ", ", eval.num_items, " items");

  EvalOptions eo;
  eo.ks = o.ks;
  eo.chunk_users = o.chunk_users;
  eo.num_threads = o.threads;
  eo.progress = o.progress;
  EvaluateInputs in;
  load_inputs(o, paths, eval, in);

  nlohmann::json report;
  if (!o.baselines_only) {
    DotProductScorer scorer(view_of(in.users), view_of(in.items));
    report = evaluate_all(eval, scorer, eo, in.diversity_view(), in.diversity_source);
    report["embeddings"] = {
        {"users", paths.user_emb.string()}, {"items", paths.item_emb.string()}, {"dim", in.users.cols}};
  } else {
    report["split"] = split_name(o.split);
    report["k"] = o.ks;
  }
  report["data"] = paths.data_dir.string();
  if (o.baselines || o.baselines_only) report["baselines"] = evaluate_baselines(o, data, eval, eo, in);
  write_json_file(report, paths.output);
  std::cout << format_table(report) << std::flush;
  log_info("evaluate: wrote ", paths.output.string());
  return report;
}

}  // namespace twotower
