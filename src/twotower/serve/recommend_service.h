// What a recommendation front end (the `recommend` and `similar` commands, the HTTP service, the
// Python module) asks of a loaded model export. The HTTP layer depends on this interface alone, so
// it is tested against a small fake; serve/recommender.h implements it over an export folder.
// Whatever user tower the trainer has embeds a history at request time: front ends pass ids and
// histories, never vectors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "twotower/common/error.h"

namespace twotower {

/// A request names an id the export does not know (an item, or a user where a user is required).
/// Front ends answer it with "not found" (HTTP 404); other twotower::Error are bad requests (400).
class NotFoundError : public Error {
 public:
  using Error::Error;
};

struct Recommendation {
  std::string item_id;  // the item's original id (iid2idx.json key)
  std::string title;    // "" when the catalogue has none
  float score = 0;      // inner product of the user (or item) vector and the item vector
};

/// Where the query vector of a recommendation came from.
enum class QuerySource {
  kKnownUser,    // the stored vector of a user the export knows
  kHistory,      // the user tower on the given item history
  kColdUser,     // the user tower on an empty history: training's vector for users without one
  kPopularity,   // no model vector exists for this request: the most popular items
};
const char* to_string(QuerySource source);

/// Every request's k: kDefaultK when it names none (capped at the service's max_k), and
/// 1 <= k <= max_k always. The HTTP front end, the CLI and the Python module take both from here.
constexpr int64_t kDefaultK = 10;
/// kDefaultK, or max_k when that is smaller.
int64_t default_k(int64_t max_k);
/// Whether 1 <= k <= max_k.
bool k_in_range(int64_t k, int64_t max_k);
/// That range in words, for messages: "an integer in [1, MAX_K]".
std::string k_range_text(int64_t max_k);

struct RecommendRequest {
  std::string user_id;                      // a known user; empty to use `history`
  std::vector<std::string> history;         // item ids, oldest first (used when user_id is empty)
  int64_t k = kDefaultK;                    // 1 <= k <= RecommendService::max_k()
  bool exclude_seen = true;                 // leave out the user's known items / the history (the
                                            // default of every front end)
  std::vector<std::string> exclude;         // further item ids to leave out
};

struct RecommendResult {
  std::vector<Recommendation> items;  // best first, at most k
  QuerySource source = QuerySource::kKnownUser;
};

/// A new catalogue item for add_items: its metadata, embedded by the item tower.
struct NewItem {
  std::string item_id;                  // must not exist yet
  std::string title;
  std::string category;                 // a known category name, or "" (unknown)
  std::string brand;                    // a known brand, or "" (unknown)
  std::vector<float> text_embedding;    // [text_dim] or empty (zeros), when the model reads text
};

/// What an export is: for /health and /metrics.
struct ExportInfo {
  std::string version;      // the export folder's version name (e.g. "v000003")
  std::string path;         // the folder it was loaded from
  int64_t num_users = 0;
  int64_t num_items = 0;    // items in the index, added ones included
  int64_t dim = 0;          // vector width
  std::string index_kind;   // "exact" or "hnsw"
};

/// Thread-safe: any number of threads may call the const methods at once; add_items excludes
/// them for its duration.
class RecommendService {
 public:
  virtual ~RecommendService() = default;

  /// Top-k items for a known user, a history or a cold user (see QuerySource). Throws
  /// NotFoundError for an unknown user_id or history item, Error for a bad k.
  virtual RecommendResult recommend(const RecommendRequest& request) const = 0;
  /// The k items whose vectors have the largest inner product with `item_id`'s, itself excluded.
  /// Throws NotFoundError for an unknown item.
  virtual std::vector<Recommendation> similar(const std::string& item_id, int64_t k) const = 0;
  /// Embeds new items through the item tower and adds them to the index; returns how many were
  /// added. Throws Error naming the first bad item (duplicate id, unknown field) and adds none then.
  virtual int64_t add_items(const std::vector<NewItem>& items) = 0;

  virtual ExportInfo info() const = 0;
  /// The largest k a request may ask for.
  virtual int64_t max_k() const = 0;
};

}  // namespace twotower
