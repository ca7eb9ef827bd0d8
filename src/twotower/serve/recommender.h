// RecommendService over an export folder (`twotower export`): the stored vectors of known users,
// the user tower for histories and cold users, the item tower for new items, a top-K index.
//
// Query vector of recommend():
//   user_id known          -> its stored vector (train + valid history pooled)    kKnownUser
//   user_id empty, history -> the user tower on a zero id embedding plus the mean
//                             of the history's last model.user_history items       kHistory
//                             (items added at serve time have no id embedding and
//                             are not pooled; a model with user_history 0 reads no
//                             history: the request is then a cold one)
//   neither                -> the cold-user vector, the user tower on a zero id
//                             and no history, when training made that input a
//                             trained one (model.user_id_dropout > 0: users
//                             dropped to a zero id, unseen users zeroed)           kColdUser
//                             otherwise the most popular items of train + valid,
//                             score = their interaction count                     kPopularity
// exclude_seen leaves out a known user's train + valid items or the given history; ids in
// `exclude` that the export does not know are ignored (they cannot be recommended anyway).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "twotower/serve/recommend_service.h"
#include "twotower/serve/index/topk_index.h"

namespace twotower {

struct ExportCatalogue;
class ServingModel;

struct RecommenderOptions {
  IndexOptions index;               // exact by default; hnsw reads the export's stored graph
                                    // when it has one (its M and efConstruction, this efSearch)
  int64_t max_k = 1000;             // the largest k a request may ask for, >= 1
  bool verify_checksums = true;     // check every file against manifest.json's CRC-32 at load
  int64_t recall_queries = 200;     // known users' vectors that measure HNSW recall@10 at load
};

/// Thread safety as RecommendService: a std::shared_mutex, shared by recommend/similar/info,
/// exclusive in add_items.
class Recommender : public RecommendService {
 public:
  /// Loads `path`: a version folder, or an export parent (its latest complete version). Throws
  /// naming the file on a missing or changed file, a bad manifest, or weights that do not fit.
  explicit Recommender(const std::filesystem::path& path, const RecommenderOptions& options = {});
  ~Recommender() override;

  RecommendResult recommend(const RecommendRequest& request) const override;
  std::vector<Recommendation> similar(const std::string& item_id, int64_t k) const override;
  /// Category and brand are names of the export's vocabularies ("" = unknown); text_embedding has
  /// text_dim values when the model reads text (empty: zeros) and is ignored otherwise.
  int64_t add_items(const std::vector<NewItem>& items) override;
  ExportInfo info() const override;
  int64_t max_k() const override { return options_.max_k; }

  /// HNSW's recall@10 against exact, measured at load on known users' vectors (1 for exact).
  double index_recall_at_10() const { return recall_at_10_; }
  /// True when the export has a trained cold-user vector (else cold requests get popularity).
  bool has_cold_user_vector() const { return !cold_vector_.empty(); }

 private:
  // The index of options_.index: HNSW read from the export when it stores a graph, else built;
  // HNSW's recall@10 measured and logged.
  void make_index(const nlohmann::json& manifest, const std::vector<float>& item_vectors);
  // Checks k against [1, max_k]; throws Error naming the value.
  void check_k(int64_t k) const;
  // The query vector and its source for a request; fills `exclude` (item indices).
  QuerySource query_for(const RecommendRequest& request, std::vector<float>& query,
                        std::vector<int64_t>& exclude) const;
  std::vector<Recommendation> popular(int64_t k, const std::vector<int64_t>& exclude) const;
  std::vector<Recommendation> named(const std::vector<ScoredItem>& found) const;
  // Index of `item_id`; throws NotFoundError naming it.
  int64_t item_or_throw(const std::string& item_id, const char* what) const;

  RecommenderOptions options_;
  std::filesystem::path dir_;
  std::string version_;
  int64_t dim_ = 0;
  mutable std::shared_mutex mutex_;
  std::unique_ptr<ExportCatalogue> catalogue_;
  std::unique_ptr<ServingModel> model_;
  std::vector<float> user_vectors_;  // [num_users, dim]
  std::vector<float> cold_vector_;   // [dim], empty when the model has none
  std::vector<int64_t> by_popularity_;  // item indices, most popular first (ties: lower index)
  std::unique_ptr<TopKIndex> index_;
  double recall_at_10_ = 1.0;
};

}  // namespace twotower
