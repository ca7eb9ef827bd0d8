#include "twotower/data/prepare_stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "twotower/data/filters.h"
#include "twotower/data/splits.h"

namespace twotower {
namespace {

constexpr size_t kMaxHistogramValues = 50;

nlohmann::json distribution(std::vector<int64_t> counts) {
  counts.erase(std::remove(counts.begin(), counts.end(), 0), counts.end());
  if (counts.empty()) return nullptr;
  std::sort(counts.begin(), counts.end());
  double sum = 0;
  for (int64_t c : counts) sum += static_cast<double>(c);
  size_t n = counts.size();
  double median = n % 2 ? static_cast<double>(counts[n / 2])
                        : (static_cast<double>(counts[n / 2 - 1]) + static_cast<double>(counts[n / 2])) / 2;
  return {{"min", counts.front()}, {"median", median}, {"mean", sum / static_cast<double>(n)}, {"max", counts.back()}};
}

std::string number_key(float v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", static_cast<double>(v));
  return buf;
}

std::string with_commas(int64_t v) {
  std::string s = std::to_string(v < 0 ? -v : v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return v < 0 ? "-" + s : s;
}

std::string percent(double f) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", 100 * f);
  return buf;
}

}  // namespace

nlohmann::json dataset_stats(const Dataset& data, int64_t items_with_interactions, bool timestamps_are_times,
                             int64_t repeated_pairs) {
  const Interactions& in = data.interactions;
  nlohmann::json s;
  auto n = static_cast<int64_t>(in.size());
  s["interactions"] = n;
  s["users"] = data.num_users();
  s["items"] = data.num_items();
  s["items_with_interactions"] = items_with_interactions;
  s["catalogue_only_items"] = data.num_items() - items_with_interactions;
  double cells = static_cast<double>(data.num_users()) * static_cast<double>(items_with_interactions);
  s["sparsity"] = cells > 0 ? 1.0 - static_cast<double>(n) / cells : 0.0;
  std::vector<int64_t> per_user(static_cast<size_t>(data.num_users())), per_item(static_cast<size_t>(data.num_items()));
  for (size_t r = 0; r < in.size(); ++r) {
    ++per_user[static_cast<size_t>(in.user[r])];
    ++per_item[static_cast<size_t>(in.item[r])];
  }
  s["interactions_per_user"] = distribution(std::move(per_user));
  s["interactions_per_item"] = distribution(std::move(per_item));
  s["repeated_pairs"] = repeated_pairs >= 0 ? repeated_pairs : count_repeated_pairs(in, data.num_users());

  std::map<float, int64_t> histogram;
  int64_t rated = 0;
  double rating_sum = 0;
  for (float r : in.rating) {
    if (std::isnan(r)) continue;
    ++rated;
    rating_sum += r;
    if (histogram.size() < kMaxHistogramValues || histogram.count(r)) ++histogram[r];
  }
  if (rated == 0) {
    s["ratings"] = nullptr;
  } else {
    nlohmann::json h = nlohmann::json::object();
    for (const auto& [value, count] : histogram) h[number_key(value)] = count;
    s["ratings"] = {{"rated", rated}, {"mean", rating_sum / static_cast<double>(rated)}, {"histogram", h},
                    {"histogram_complete", histogram.size() < kMaxHistogramValues}};
  }
  if (n > 0) {
    auto [lo, hi] = std::minmax_element(in.timestamp.begin(), in.timestamp.end());
    nlohmann::json t = {{"min", *lo}, {"max", *hi}, {"are_times", timestamps_are_times}};
    if (timestamps_are_times) {
      t["min_utc"] = format_utc(*lo);
      t["max_utc"] = format_utc(*hi);
    }
    s["timestamps"] = t;
  }
  int64_t split_counts[3] = {0, 0, 0};
  for (Split x : in.split) ++split_counts[static_cast<int>(x)];
  s["splits"] = {{"train", split_counts[0]}, {"valid", split_counts[1]}, {"test", split_counts[2]}};

  const ItemFeatures& f = data.items;
  auto coverage = [&](size_t begin, size_t end) {
    int64_t title = 0, brand = 0, category = 0, description = 0;
    for (size_t i = begin; i < end; ++i) {
      title += !f.title[i].empty();
      brand += f.brand_idx[i] != 0;
      category += f.category_idx[i] != 0;
      description += !f.description[i].empty();
    }
    double d = end > begin ? static_cast<double>(end - begin) : 1.0;
    return nlohmann::json{{"title", static_cast<double>(title) / d}, {"brand", static_cast<double>(brand) / d},
                          {"category", static_cast<double>(category) / d},
                          {"description", static_cast<double>(description) / d}};
  };
  s["metadata_coverage"] = {{"all_items", coverage(0, f.title.size())},
                            {"items_with_interactions", coverage(0, static_cast<size_t>(items_with_interactions))}};
  s["vocabularies"] = {{"categories", f.category_vocab.size()}, {"brands", f.brand_vocab.size()}};
  return s;
}

std::string format_summary(const nlohmann::json& s, const std::string& out_dir) {
  std::ostringstream o;
  const auto& in = s["input"];
  o << "prepared " << out_dir << "\n";
  o << "  reviews   " << in["reviews"].get<std::string>() << " (" << in["format"].get<std::string>() << ", "
    << with_commas(in["lines"].get<int64_t>()) << " lines";
  if (in["bad_lines"].get<int64_t>() > 0) o << ", " << with_commas(in["bad_lines"].get<int64_t>()) << " bad lines skipped";
  o << ")\n";
  if (in.contains("meta")) {
    o << "  metadata  " << in["meta"].get<std::string>() << " (" << with_commas(in["meta_lines"].get<int64_t>())
      << " lines, " << with_commas(in["meta_duplicate_ids"].get<int64_t>()) << " repeated ids";
    if (in["meta_bad_lines"].get<int64_t>() > 0) o << ", " << with_commas(in["meta_bad_lines"].get<int64_t>()) << " bad lines skipped";
    o << ")\n";
  }
  o << "  interactions " << with_commas(s["interactions"].get<int64_t>()) << ", users "
    << with_commas(s["users"].get<int64_t>()) << ", items " << with_commas(s["items_with_interactions"].get<int64_t>())
    << " with interactions";
  if (s["catalogue_only_items"].get<int64_t>() > 0) {
    o << " + " << with_commas(s["catalogue_only_items"].get<int64_t>()) << " catalogue only";
  }
  o << "\n  sparsity " << percent(s["sparsity"].get<double>()) << ", repeated (user, item) pairs "
    << with_commas(s["raw"]["repeated_pairs"].get<int64_t>()) << " in the input, "
    << with_commas(s["repeated_pairs"].get<int64_t>()) << " kept\n";
  const auto& f = s["filters"];
  if (f["removed_duplicates"].get<int64_t>() > 0 || f["removed_by_kcore"].get<int64_t>() > 0) {
    o << "  removed " << with_commas(f["removed_duplicates"].get<int64_t>()) << " duplicates, "
      << with_commas(f["removed_by_kcore"].get<int64_t>()) << " rows by k-core\n";
  }
  const auto& sp = s["splits"];
  o << "  split " << s["split_method"].get<std::string>() << ": train " << with_commas(sp["train"].get<int64_t>())
    << ", valid " << with_commas(sp["valid"].get<int64_t>()) << ", test " << with_commas(sp["test"].get<int64_t>()) << "\n";
  if (s.contains("timestamps") && s["timestamps"]["are_times"].get<bool>()) {
    o << "  time " << s["timestamps"]["min_utc"].get<std::string>() << " .. "
      << s["timestamps"]["max_utc"].get<std::string>() << "\n";
  }
  const auto& c = s["metadata_coverage"]["all_items"];
  o << "  metadata coverage: title " << percent(c["title"].get<double>()) << ", brand "
    << percent(c["brand"].get<double>()) << ", category " << percent(c["category"].get<double>())
    << ", description " << percent(c["description"].get<double>()) << "\n";
  for (const char* key : {"bad_line_examples", "meta_bad_line_examples"}) {
    if (!in.contains(key)) continue;
    for (const auto& e : in[key]) o << "  bad line: " << e.get<std::string>() << "\n";
  }
  o << "  " << s["seconds"]["total"].get<double>() << " s";
  return o.str();
}

}  // namespace twotower
