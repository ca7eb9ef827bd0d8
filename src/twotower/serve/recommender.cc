#include "twotower/serve/recommender.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <numeric>
#include <unordered_set>

#include "twotower/common/error.h"
#include "twotower/common/log.h"
#include "twotower/data/npy.h"
#include "twotower/serve/export/export_catalogue.h"
#include "twotower/serve/export/export_layout.h"
#include "twotower/serve/serving_model.h"

namespace fs = std::filesystem;

namespace twotower {
namespace {

constexpr int64_t kRecallK = 10;
constexpr float kZeroNorm = 1e-6f;  // a cold vector below this norm ranks nothing: popularity then

// Reads a [rows, dim] .npy and checks its shape against the manifest.
std::vector<float> read_vectors(const fs::path& path, int64_t rows, int64_t dim) {
  Matrix m = read_npy(path);
  if (m.rows != rows || m.cols != dim) {
    fail(path.string(), ": got [", m.rows, ", ", m.cols, "], expected [", rows, ", ", dim, "] (", kManifestFile, ")");
  }
  return std::move(m.data);
}

float norm_of(const std::vector<float>& v) {
  float s = 0;
  for (float x : v) s += x * x;
  return std::sqrt(s);
}

}  // namespace

Recommender::Recommender(const fs::path& path, const RecommenderOptions& options) : options_(options) {
  if (options.max_k < 1) fail("recommender: max_k: got ", options.max_k, ", expected >= 1");
  dir_ = resolve_export_dir(path);
  version_ = dir_.filename().string();
  const nlohmann::json manifest = read_manifest(dir_);
  if (options.verify_checksums) verify_export_files(dir_, manifest);
  dim_ = manifest_int(manifest, "dim", 1);
  catalogue_ = std::make_unique<ExportCatalogue>(read_export_catalogue(dir_));
  const auto num_items = static_cast<int64_t>(catalogue_->item_ids.size());
  const auto num_users = static_cast<int64_t>(catalogue_->user_ids.size());
  const std::vector<float> item_vectors = read_vectors(dir_ / kItemEmbeddingsFile, num_items, dim_);
  user_vectors_ = read_vectors(dir_ / kUserEmbeddingsFile, num_users, dim_);
  model_ = std::make_unique<ServingModel>(dir_, manifest);
  if (manifest_bool(manifest, "cold_user_vector", false)) {
    cold_vector_ = model_->cold_user_vector();
    if (norm_of(cold_vector_) < kZeroNorm) cold_vector_.clear();
  }
  by_popularity_.resize(static_cast<size_t>(num_items));
  std::iota(by_popularity_.begin(), by_popularity_.end(), 0);
  std::stable_sort(by_popularity_.begin(), by_popularity_.end(), [&](int64_t a, int64_t b) {
    return catalogue_->popularity[static_cast<size_t>(a)] > catalogue_->popularity[static_cast<size_t>(b)];
  });
  make_index(manifest, item_vectors);
  log_info("recommender: ", dir_.string(), ": ", num_users, " users, ", num_items, " items, dim ", dim_, ", ",
           to_string(options.index.kind), " index, cold users: ",
           cold_vector_.empty() ? "popularity" : "the user tower's cold vector");
}

Recommender::~Recommender() = default;

void Recommender::make_index(const nlohmann::json& manifest, const std::vector<float>& item_vectors) {
  const auto start = std::chrono::steady_clock::now();
  const bool stored = options_.index.kind == IndexKind::kHnsw && manifest.contains("hnsw");
  if (stored) {
    index_ = TopKIndex::load_hnsw((dir_ / kHnswFile).string(), dim_, options_.index.hnsw_ef_search);
    if (index_->size() * dim_ != static_cast<int64_t>(item_vectors.size())) {
      fail((dir_ / kHnswFile).string(), ": got ", index_->size(), " vectors, expected one per item (",
           static_cast<int64_t>(item_vectors.size()) / dim_, ")");
    }
  } else {
    index_ = std::make_unique<TopKIndex>(item_vectors, dim_, options_.index);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (options_.index.kind != IndexKind::kHnsw) return;
  const std::vector<float> queries = spread_rows(user_vectors_, dim_, options_.recall_queries);
  recall_at_10_ = index_->recall_at(queries, kRecallK);
  const IndexOptions& o = index_->options();
  log_info("index: hnsw (M ", o.hnsw_m, ", efConstruction ", o.hnsw_ef_construction, ", efSearch ", o.hnsw_ef_search,
           ") over ", index_->size(), " items ", stored ? "read from the export" : "built", " in ", seconds,
           " s; recall@10 against exact ", recall_at_10_, " on ",
           static_cast<int64_t>(queries.size()) / dim_, " known users' vectors");
}

void Recommender::check_k(int64_t k) const {
  if (!k_in_range(k, options_.max_k)) fail("k: got ", k, ", expected ", k_range_text(options_.max_k));
}

int64_t Recommender::item_or_throw(const std::string& item_id, const char* what) const {
  const int64_t i = catalogue_->find_item(item_id);
  if (i < 0) throw NotFoundError(str_cat(what, " \"", item_id, "\": not in the export (", version_, ")"));
  return i;
}

QuerySource Recommender::query_for(const RecommendRequest& request, std::vector<float>& query,
                                   std::vector<int64_t>& exclude) const {
  if (!request.user_id.empty()) {
    const int64_t u = catalogue_->find_user(request.user_id);
    if (u < 0) throw NotFoundError(str_cat("user \"", request.user_id, "\": not in the export (", version_, ")"));
    query.assign(user_vectors_.begin() + u * dim_, user_vectors_.begin() + (u + 1) * dim_);
    if (request.exclude_seen) {
      const std::span<const int64_t> seen = catalogue_->seen(u);
      exclude.insert(exclude.end(), seen.begin(), seen.end());
    }
    return QuerySource::kKnownUser;
  }
  std::vector<int64_t> history, pooled;
  for (const std::string& id : request.history) history.push_back(item_or_throw(id, "history item"));
  if (request.exclude_seen) exclude.insert(exclude.end(), history.begin(), history.end());
  // Items added at serve time have no id embedding in the user tower.
  for (int64_t i : history) {
    if (i < model_->num_items()) pooled.push_back(i);
  }
  if (!pooled.empty() && model_->history_length() > 0) {
    query = model_->history_vector(pooled);
    return QuerySource::kHistory;
  }
  if (cold_vector_.empty()) return QuerySource::kPopularity;
  query = cold_vector_;
  return QuerySource::kColdUser;
}

RecommendResult Recommender::recommend(const RecommendRequest& request) const {
  check_k(request.k);
  std::shared_lock lock(mutex_);
  std::vector<float> query;
  std::vector<int64_t> exclude;
  for (const std::string& id : request.exclude) {
    const int64_t i = catalogue_->find_item(id);
    if (i >= 0) exclude.push_back(i);
  }
  RecommendResult result;
  result.source = query_for(request, query, exclude);
  result.items = result.source == QuerySource::kPopularity ? popular(request.k, exclude)
                                                           : named(index_->search(query, request.k, exclude));
  return result;
}

std::vector<Recommendation> Recommender::similar(const std::string& item_id, int64_t k) const {
  check_k(k);
  std::shared_lock lock(mutex_);
  const int64_t i = item_or_throw(item_id, "item");
  const std::vector<int64_t> self{i};
  return named(index_->search(index_->vector(i), k, self));
}

std::vector<Recommendation> Recommender::popular(int64_t k, const std::vector<int64_t>& exclude) const {
  const std::unordered_set<int64_t> excluded(exclude.begin(), exclude.end());
  std::vector<Recommendation> out;
  for (int64_t i : by_popularity_) {
    if (static_cast<int64_t>(out.size()) == k) break;
    if (excluded.contains(i)) continue;
    const auto u = static_cast<size_t>(i);
    out.push_back({catalogue_->item_ids[u], catalogue_->titles[u], static_cast<float>(catalogue_->popularity[u])});
  }
  return out;
}

std::vector<Recommendation> Recommender::named(const std::vector<ScoredItem>& found) const {
  std::vector<Recommendation> out;
  out.reserve(found.size());
  for (const ScoredItem& f : found) {
    const auto u = static_cast<size_t>(f.item);
    out.push_back({catalogue_->item_ids[u], catalogue_->titles[u], f.score});
  }
  return out;
}

int64_t Recommender::add_items(const std::vector<NewItem>& items) {
  std::unique_lock lock(mutex_);
  std::vector<int64_t> categories, brands;
  std::vector<float> text;
  std::unordered_set<std::string> batch;
  for (size_t n = 0; n < items.size(); ++n) {
    const NewItem& item = items[n];
    const std::string where = str_cat("new item ", n, " (\"", item.item_id, "\")");
    if (item.item_id.empty()) fail(where, ": field \"item_id\": got \"\", expected a non-empty id");
    if (catalogue_->find_item(item.item_id) >= 0 || !batch.insert(item.item_id).second) {
      fail(where, ": field \"item_id\": got an id the export already has, expected a new one");
    }
    const auto category = catalogue_->category_index.find(item.category);
    if (!item.category.empty() && category == catalogue_->category_index.end()) {
      fail(where, ": field \"category\": got \"", item.category, "\", expected a category of the export or \"\"");
    }
    const auto brand = catalogue_->brand_index.find(item.brand);
    if (!item.brand.empty() && brand == catalogue_->brand_index.end()) {
      fail(where, ": field \"brand\": got \"", item.brand, "\", expected a brand of the export or \"\"");
    }
    categories.push_back(item.category.empty() ? 0 : category->second);
    brands.push_back(item.brand.empty() ? 0 : brand->second);
    if (!model_->uses_text()) continue;
    const auto width = static_cast<int64_t>(item.text_embedding.size());
    if (width != 0 && width != model_->text_dim()) {
      fail(where, ": field \"text_embedding\": got ", width, " values, expected ", model_->text_dim(), " or none");
    }
    if (width == 0) text.insert(text.end(), static_cast<size_t>(model_->text_dim()), 0.0f);
    text.insert(text.end(), item.text_embedding.begin(), item.text_embedding.end());
  }
  const std::vector<float> vectors = model_->new_item_vectors(categories, brands, text);
  index_->add(vectors);
  for (const NewItem& item : items) {
    by_popularity_.push_back(static_cast<int64_t>(catalogue_->item_ids.size()));
    catalogue_->add_item(item.item_id, item.title);
  }
  return static_cast<int64_t>(items.size());
}

ExportInfo Recommender::info() const {
  std::shared_lock lock(mutex_);
  ExportInfo info;
  info.version = version_;
  info.path = dir_.string();
  info.num_users = static_cast<int64_t>(catalogue_->user_ids.size());
  info.num_items = index_->size();
  info.dim = dim_;
  info.index_kind = to_string(options_.index.kind);
  return info;
}

}  // namespace twotower
