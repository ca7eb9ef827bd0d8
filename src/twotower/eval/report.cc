#include "twotower/eval/report.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <vector>

#include "twotower/common/error.h"
#include "twotower/eval/metrics.h"

namespace twotower {
namespace {

constexpr const char* kRegressionNames[] = {"mse", "rmse", "mae", "r2", "mape", "smape"};

nlohmann::json segment_json(const SegmentMetrics& s) {
  nlohmann::json j = {{"users", s.users}};
  for (const auto& [key, value] : s.values) j[key] = value;
  return j;
}

// Regression block: fills out["mse"...] and out["regression"], or records why not.
void add_regression(const EvalData& data, const Scorer& scorer, nlohmann::json& out) {
  for (const char* name : kRegressionNames) out[name] = nullptr;
  nlohmann::json info = {{"applicable", false}, {"fit_split", "train"},
                         {"fit_pairs", data.fit_ratings.size()}, {"eval_pairs", data.eval_ratings.size()}};
  std::string reason;
  if (!data.data_has_ratings) {
    reason = "not applicable: the data set has no ratings";
  } else if (data.eval_ratings.empty()) {
    reason = str_cat("not applicable: no rated interactions in the ", split_name(data.split), " split");
  } else if (data.fit_ratings.empty()) {
    reason = "not applicable: no rated interactions in the train split to fit rating = a * score + b";
  }
  if (!reason.empty()) {
    info["reason"] = reason;
    for (const char* name : kRegressionNames) out["unavailable"][name] = reason;
    out["regression"] = info;
    return;
  }
  try {
    std::vector<float> fit_scores(data.fit_ratings.size()), eval_scores(data.eval_ratings.size());
    scorer.score_pairs(data.fit_users, data.fit_items, fit_scores.data());
    scorer.score_pairs(data.eval_users, data.eval_items, eval_scores.data());
    std::vector<double> x(fit_scores.begin(), fit_scores.end());
    LinearMap map = fit_linear_map(x, data.fit_ratings);
    std::vector<double> predicted(eval_scores.size());
    for (size_t i = 0; i < eval_scores.size(); ++i) predicted[i] = map.a * eval_scores[i] + map.b;
    info["applicable"] = true;
    info["map"] = "predicted rating = a * score + b, least squares on the train split's rated pairs";
    info["a"] = map.a;
    info["b"] = map.b;
    using Fn = double (*)(std::span<const double>, std::span<const double>);
    const Fn fns[] = {mse, rmse, mae, r2, mape, smape};
    for (size_t m = 0; m < std::size(kRegressionNames); ++m) {
      try {
        out[kRegressionNames[m]] = fns[m](data.eval_ratings, predicted);
      } catch (const std::exception& e) {
        out["unavailable"][kRegressionNames[m]] = e.what();
      }
    }
  } catch (const std::exception& e) {
    info["reason"] = e.what();
    for (const char* name : kRegressionNames) out["unavailable"][name] = e.what();
  }
  out["regression"] = info;
}

std::string cell(const nlohmann::json& v) {
  if (!v.is_number()) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", v.get<double>());
  return buf;
}

}  // namespace

nlohmann::json evaluate_all(const EvalData& data, const Scorer& scorer, const EvalOptions& options,
                            const MatrixView* item_vectors, const std::string& vectors_source) {
  nlohmann::json out;
  out["model"] = scorer.name();
  out["split"] = split_name(data.split);
  out["k"] = options.ks;
  out["unavailable"] = nlohmann::json::object();
  out["protocol"] = str_cat(
      "full ranking over ", data.num_items, " items; excluded: each user's ",
      data.split == Split::kTest ? "train+valid" : "train",
      " items; ties ranked against the held-out item; users without targets skipped");
  try {
    RankingMetrics r = evaluate_ranking(data, scorer, options, item_vectors);
    for (int64_t K : options.ks) {
      for (const std::string& name : ranking_metric_names()) {
        const std::string key = str_cat(name, "@", K);
        auto it = r.all.values.find(key);
        out[key] = it != r.all.values.end() ? nlohmann::json(it->second) : nlohmann::json(nullptr);
        if (it != r.all.values.end()) continue;
        out["unavailable"][key] =
            r.all.users == 0 ? str_cat("no user has a target in the ", split_name(data.split), " split")
            : name == "diversity" && item_vectors == nullptr
                ? "no item vectors (text or item embeddings) were given"
                : "no evaluated user had a list long enough to measure";
      }
    }
    out["segments"] = {{"warm_users", segment_json(r.warm_users)},
                       {"cold_users", segment_json(r.cold_users)},
                       {"cold_items", segment_json(r.cold_items)}};
    out["counts"] = {{"users", r.users_total},
                     {"items", data.num_items},
                     {"users_evaluated", r.all.users},
                     {"users_without_targets", r.users_without_targets},
                     {"cold_users_evaluated", r.cold_users.users},
                     {"targets", r.targets},
                     {"cold_item_targets", r.cold_item_targets},
                     {"targets_already_seen", data.targets_already_seen},
                     {"interactions_in_split", data.eval_interactions}};
    if (item_vectors != nullptr) out["diversity_vectors"] = vectors_source;
    out["seconds"] = {{"total", r.seconds}, {"scoring", r.score_seconds}, {"ranking", r.rank_seconds}};
  } catch (const std::exception& e) {
    for (int64_t K : options.ks) {
      for (const std::string& name : ranking_metric_names()) {
        const std::string key = str_cat(name, "@", K);
        out[key] = nullptr;
        out["unavailable"][key] = e.what();
      }
    }
  }
  add_regression(data, scorer, out);
  return out;
}

std::string format_table(const nlohmann::json& report) {
  std::vector<std::pair<std::string, const nlohmann::json*>> columns;
  if (report.contains("model")) columns.emplace_back(report["model"].get<std::string>(), &report);
  if (report.contains("baselines")) {
    const nlohmann::json& baselines = report["baselines"];
    constexpr const char* kFirst[] = {"popularity", "itemknn", "ease"};
    for (const char* name : kFirst) {
      if (baselines.contains(name)) columns.emplace_back(name, &baselines[name]);
    }
    for (const auto& [name, value] : baselines.items()) {
      if (value.is_object() && std::find(std::begin(kFirst), std::end(kFirst), name) == std::end(kFirst)) {
        columns.emplace_back(name, &value);
      }
    }
  }
  std::vector<std::string> rows;
  for (const auto& K : report.value("k", nlohmann::json::array())) {
    for (const std::string& name : ranking_metric_names()) rows.push_back(str_cat(name, "@", K.get<int64_t>()));
  }
  for (const char* name : kRegressionNames) rows.emplace_back(name);

  std::string table;
  auto line = [&](const std::string& first, const std::vector<std::string>& rest) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%-14s", first.c_str());
    table += buf;
    for (const auto& c : rest) {
      std::snprintf(buf, sizeof buf, " %12s", c.c_str());
      table += buf;
    }
    table += '\n';
  };
  std::vector<std::string> header;
  for (const auto& [name, _] : columns) header.push_back(name);
  line(str_cat("[", report.value("split", ""), "]"), header);
  for (const auto& row : rows) {
    std::vector<std::string> cells;
    for (const auto& [_, col] : columns) cells.push_back(col->contains(row) ? cell((*col)[row]) : "n/a");
    line(row, cells);
  }
  if (report.contains("counts")) {
    const auto& c = report["counts"];
    table += str_cat("users evaluated ", c.value("users_evaluated", 0), " of ", c.value("users", 0),
                     " (", c.value("users_without_targets", 0), " without targets, ",
                     c.value("cold_users_evaluated", 0), " cold); items ", c.value("items", 0), "\n");
  }
  if (report.contains("baselines")) {
    const nlohmann::json& b = report["baselines"];
    if (b.contains("ease_skipped")) table += b["ease_skipped"].get<std::string>() + "\n";
    if (b.contains("ease") && b["ease"].contains("lambda")) {
      const nlohmann::json& sel = b["ease"].value("selection", nlohmann::json::object());
      table += str_cat("ease: lambda ", b["ease"]["lambda"].get<double>(),
                       sel.contains("trials") ? str_cat(", the best ", sel.value("metric", ""), " on valid of ",
                                                        sel["trials"].size(), " values")
                                              : std::string(", as given"),
                       "\n");
    }
  }
  // One line per distinct reason, naming the metrics it covers, over every column.
  std::vector<std::pair<std::string, std::vector<std::string>>> reasons;
  for (const auto& [name, col] : columns) {
    const nlohmann::json unavailable = col->value("unavailable", nlohmann::json::object());
    for (const auto& [key, reason] : unavailable.items()) {
      const std::string text = reason.get<std::string>();
      auto it = std::find_if(reasons.begin(), reasons.end(), [&](const auto& r) { return r.first == text; });
      if (it == reasons.end()) it = reasons.insert(reasons.end(), {text, {}});
      if (std::find(it->second.begin(), it->second.end(), key) == it->second.end()) it->second.push_back(key);
    }
  }
  for (const auto& [reason, keys] : reasons) {
    std::string names;
    for (const auto& k : keys) names += (names.empty() ? "" : ", ") + k;
    table += str_cat("n/a (", names, "): ", reason, "\n");
  }
  return table;
}

}  // namespace twotower
