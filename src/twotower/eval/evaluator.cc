#include "twotower/eval/evaluator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <span>
#include <vector>

#include "twotower/common/error.h"
#include "twotower/common/parallel_for.h"
#include "twotower/common/progress.h"
#include "twotower/eval/metrics.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace twotower {
namespace {

struct Candidate {
  float score;
  bool target;
  int64_t item;
};

// The protocol's order: higher score first; at equal score non-targets before targets; then
// the lower item id.
bool ranks_before(const Candidate& a, const Candidate& b) {
  if (a.score != b.score) return a.score > b.score;
  if (a.target != b.target) return !a.target;
  return a.item < b.item;
}

// True when one of the 16 values at `p` may enter the list: is NaN, or > threshold, or (unless
// `strict`) == threshold.
inline bool any_candidate(const float* p, float threshold, bool strict) {
#ifdef __SSE2__
  const __m128 t = _mm_set1_ps(threshold);
  const __m128 a = _mm_loadu_ps(p), b = _mm_loadu_ps(p + 4), c = _mm_loadu_ps(p + 8), d = _mm_loadu_ps(p + 12);
  const __m128 m = strict ? _mm_or_ps(_mm_or_ps(_mm_cmpnle_ps(a, t), _mm_cmpnle_ps(b, t)),
                                      _mm_or_ps(_mm_cmpnle_ps(c, t), _mm_cmpnle_ps(d, t)))
                          : _mm_or_ps(_mm_or_ps(_mm_cmpnlt_ps(a, t), _mm_cmpnlt_ps(b, t)),
                                      _mm_or_ps(_mm_cmpnlt_ps(c, t), _mm_cmpnlt_ps(d, t)));
  return _mm_movemask_ps(m) != 0;
#else
  bool any = false;
  for (int i = 0; i < 16; ++i) any |= strict ? !(p[i] <= threshold) : !(p[i] < threshold);
  return any;
#endif
}

[[noreturn]] void nan_score(int64_t item) {
  fail("scorer returned NaN for item ", item, ": a NaN score cannot be ranked");
}

// One user's metrics at one cutoff K, one field per metric (metrics.h gives each formula). NaN
// marks a value not defined for this user, which the means leave out: diversity without item
// vectors or of a list shorter than 2, novelty of an empty list, and in the cold-item segment
// the two list metrics (they do not depend on the targets).
struct UserMetrics {
  double precision = NAN, recall = NAN, f1 = NAN, ndcg = NAN, hit_rate = NAN, mrr = NAN;
  double diversity = NAN, novelty = NAN;
};

struct NamedMetric {
  const char* name;            // reported as "<name>@K"
  double UserMetrics::*value;  // null for coverage, which is counted over all lists at once
};

// Every per-cutoff metric, in report order.
constexpr NamedMetric kRankingMetrics[] = {
    {"recall", &UserMetrics::recall},       {"ndcg", &UserMetrics::ndcg},
    {"precision", &UserMetrics::precision}, {"f1", &UserMetrics::f1},
    {"hit_rate", &UserMetrics::hit_rate},   {"mrr", &UserMetrics::mrr},
    {"coverage", nullptr},                  {"diversity", &UserMetrics::diversity},
    {"novelty", &UserMetrics::novelty},
};

// The metrics of `list` that depend on `targets`, at cutoff K; diversity and novelty stay NaN.
UserMetrics target_metrics(std::span<const int64_t> list, std::span<const int64_t> targets, int64_t K) {
  UserMetrics m;
  m.precision = precision_at_k(list, targets, K);
  m.recall = recall_at_k(list, targets, K);
  m.f1 = f1_at_k(list, targets, K);
  m.ndcg = ndcg_at_k(list, targets, K);
  m.hit_rate = hit_rate_at_k(list, targets, K);
  m.mrr = mrr_at_k(list, targets, K);
  return m;
}

// Per-cutoff sums of every metric over a group of users; NaN values are not counted.
class Accumulator {
 public:
  explicit Accumulator(size_t n_k) : sum_(n_k * std::size(kRankingMetrics), 0.0), count_(sum_.size(), 0) {}

  /// One user's metrics, one entry per cutoff.
  void add(std::span<const UserMetrics> per_k) {
    ++users_;
    size_t idx = 0;
    for (const UserMetrics& m : per_k) {
      for (const NamedMetric& metric : kRankingMetrics) {
        const double v = metric.value != nullptr ? m.*metric.value : NAN;
        if (!std::isnan(v)) {
          sum_[idx] += v;
          ++count_[idx];
        }
        ++idx;
      }
    }
  }

  /// The means, keyed "<name>@K"; a metric no user defined is left out.
  SegmentMetrics finish(const std::vector<int64_t>& ks) const {
    SegmentMetrics out;
    out.users = users_;
    size_t idx = 0;
    for (int64_t K : ks) {
      for (const NamedMetric& metric : kRankingMetrics) {
        if (count_[idx] > 0) out.values[str_cat(metric.name, "@", K)] = sum_[idx] / static_cast<double>(count_[idx]);
        ++idx;
      }
    }
    return out;
  }

 private:
  std::vector<double> sum_;     // [|ks|, metrics]; coverage's entries stay unused
  std::vector<int64_t> count_;  // [|ks|, metrics]
  int64_t users_ = 0;
};

void check_options(const EvalOptions& o) {
  if (o.ks.empty()) fail("evaluation: field \"k\": got an empty list, expected cutoffs >= 1");
  for (int64_t k : o.ks) {
    if (k < 1) fail("evaluation: field \"k\": got ", k, ", expected cutoffs >= 1");
  }
  if (o.chunk_users < 1) fail("evaluation: field \"chunk_users\": got ", o.chunk_users, ", expected >= 1");
  if (o.num_threads < 0) fail("evaluation: field \"num_threads\": got ", o.num_threads, ", expected >= 0");
}

// L2-normalised copy of the item vectors (zero rows stay zero).
std::vector<float> unit_rows(const MatrixView& v) {
  std::vector<float> out(static_cast<size_t>(v.rows * v.cols));
  for (int64_t r = 0; r < v.rows; ++r) {
    const float* src = v.row(r);
    double norm = 0.0;
    for (int64_t d = 0; d < v.cols; ++d) norm += static_cast<double>(src[d]) * src[d];
    norm = std::sqrt(norm);
    float* dst = out.data() + r * v.cols;
    for (int64_t d = 0; d < v.cols; ++d) dst[d] = norm > 0.0 ? static_cast<float>(src[d] / norm) : 0.0f;
  }
  return out;
}

}  // namespace

const std::vector<std::string>& ranking_metric_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const NamedMetric& metric : kRankingMetrics) out.emplace_back(metric.name);
    return out;
  }();
  return names;
}

double RankingMetrics::value(const std::string& name) const {
  auto it = all.values.find(name);
  if (it != all.values.end()) return it->second;
  std::string known;
  for (const auto& [key, v] : all.values) known += (known.empty() ? "" : ", ") + key;
  fail("evaluation: metric \"", name, "\" was not computed; computed: ", known);
}

std::vector<int64_t> ranked_list(const float* scores, int64_t num_items, std::span<const int64_t> excluded,
                                 std::span<const int64_t> targets, int64_t k) {
  if (k <= 0) return {};
  std::vector<Candidate> heap;  // heap.front() is the candidate ranked last
  heap.reserve(static_cast<size_t>(std::min(k, num_items)));
  auto is_target = [&](int64_t j) { return std::binary_search(targets.begin(), targets.end(), j); };
  auto visit = [&](int64_t j) {
    const float s = scores[j];
    if (static_cast<int64_t>(heap.size()) < k) {
      if (std::isnan(s)) nan_score(j);
      heap.push_back({s, is_target(j), j});
      std::push_heap(heap.begin(), heap.end(), ranks_before);
      return;
    }
    if (s < heap.front().score) return;  // the common case; false for NaN
    if (std::isnan(s)) nan_score(j);
    Candidate c{s, is_target(j), j};
    if (!ranks_before(c, heap.front())) return;
    std::pop_heap(heap.begin(), heap.end(), ranks_before);
    heap.back() = c;
    std::push_heap(heap.begin(), heap.end(), ranks_before);
  };
  // Visit the items between consecutive excluded ids (`excluded` is sorted). Once the heap is
  // full, blocks of 16 scores that cannot enter are skipped with one vector test; NaN passes
  // the test and reaches visit(), which reports it.
  constexpr int64_t kBlock = 16;
  auto scan = [&](int64_t lo, int64_t hi) {
    int64_t j = lo;
    while (j < hi && static_cast<int64_t>(heap.size()) < k) visit(j++);
    for (; j + kBlock <= hi; j += kBlock) {
      // Items come in increasing id, so an item tied with a non-target at the end of the list
      // ranks after it (a non-target by id, a target by the tie rule): only a higher score
      // enters. A target at the end loses ties to any non-target.
      const Candidate& last = heap.front();
      if (!any_candidate(scores + j, last.score, !last.target)) continue;
      for (int64_t t = 0; t < kBlock; ++t) {
        const float s = scores[j + t];
        if (!(s < heap.front().score)) visit(j + t);  // NaN included
      }
    }
    for (; j < hi; ++j) visit(j);
  };
  int64_t begin = 0;
  for (size_t e = 0; e <= excluded.size(); ++e) {
    const int64_t end = e < excluded.size() ? excluded[e] : num_items;
    if (end > begin) scan(begin, end);
    begin = std::max(begin, end + 1);
  }
  std::sort_heap(heap.begin(), heap.end(), ranks_before);
  std::vector<int64_t> list(heap.size());
  for (size_t i = 0; i < heap.size(); ++i) list[i] = heap[i].item;
  return list;
}

namespace {

void check_inputs(const EvalData& data, const Scorer& scorer, const EvalOptions& options,
                  const MatrixView* item_vectors) {
  check_options(options);
  if (scorer.num_items() != data.num_items || scorer.num_users() != data.num_users) {
    fail("evaluation: scorer \"", scorer.name(), "\" covers ", scorer.num_users(), " users x ",
         scorer.num_items(), " items, expected the data's ", data.num_users, " x ", data.num_items);
  }
  if (item_vectors != nullptr && (item_vectors->rows != data.num_items || item_vectors->cols <= 0)) {
    fail("evaluation: item vectors for diversity: got [", item_vectors->rows, ", ", item_vectors->cols,
         "], expected [", data.num_items, ", D > 0]");
  }
}

// What ranking every chunk reads.
struct RankingInputs {
  const EvalData& data;
  const std::vector<int64_t>& ks;
  int64_t kmax;             // the longest cutoff: every list holds up to kmax items
  std::vector<float> unit;  // [I, dim] L2-normalised item vectors; empty without them
  int64_t dim;
};

// What ranking one chunk of users gives, row r for the chunk's user r.
struct ChunkRanking {
  std::vector<std::vector<int64_t>> lists;  // [n] the top-kmax lists
  std::vector<UserMetrics> metrics;         // [n, |ks|] on all targets
  std::vector<UserMetrics> cold_metrics;    // [n, |ks|] on the cold targets, where has_cold
  std::vector<char> has_cold;               // [n] the user has a target without history
};

// Ranks user u from `scores` ([I] float32) into row r of `out`.
void rank_user(const RankingInputs& in, int64_t u, const float* scores, size_t r, ChunkRanking& out,
               std::vector<int64_t>& cold_targets) {
  const EvalData& data = in.data;
  const auto targets = data.targets(u);
  out.lists[r] = ranked_list(scores, data.num_items, data.history(u), targets, in.kmax);
  const std::vector<int64_t>& list = out.lists[r];
  cold_targets.clear();
  for (int64_t t : targets) {
    if (data.item_degree[static_cast<size_t>(t)] == 0) cold_targets.push_back(t);
  }
  out.has_cold[r] = !cold_targets.empty();
  const size_t n_k = in.ks.size();
  for (size_t k = 0; k < n_k; ++k) {
    const int64_t K = in.ks[k];
    std::span<const int64_t> top(list.data(), std::min<size_t>(list.size(), static_cast<size_t>(K)));
    UserMetrics& m = out.metrics[r * n_k + k];
    m = target_metrics(list, targets, K);
    m.diversity = in.unit.empty() || top.size() < 2 ? NAN : intra_list_diversity(top, in.unit.data(), in.dim);
    m.novelty = top.empty() ? NAN : novelty(top, data.item_degree, data.num_users);
    if (out.has_cold[r]) out.cold_metrics[r * n_k + k] = target_metrics(list, cold_targets, K);
  }
}

// Lists and per-user metrics for `users`, whose scores are `scores` ([n, I] float32), on
// `threads` threads.
ChunkRanking rank_chunk(const RankingInputs& in, std::span<const int64_t> users, const float* scores, int threads) {
  const size_t n = users.size(), n_k = in.ks.size();
  ChunkRanking out{std::vector<std::vector<int64_t>>(n), std::vector<UserMetrics>(n * n_k),
                   std::vector<UserMetrics>(n * n_k), std::vector<char>(n, 0)};
  parallel_for(static_cast<int64_t>(n), threads, [&](int64_t lo, int64_t hi) {
    std::vector<int64_t> cold_targets;
    for (int64_t r = lo; r < hi; ++r) {
      rank_user(in, users[static_cast<size_t>(r)], scores + r * in.data.num_items, static_cast<size_t>(r), out,
                cold_targets);
    }
  });
  return out;
}

// The sums over every chunk, kept in user order so that results do not depend on the threads.
class RankingSums {
 public:
  explicit RankingSums(const RankingInputs& in)
      : in_(in), all_(in.ks.size()), warm_(in.ks.size()), cold_(in.ks.size()), cold_items_(in.ks.size()),
        first_position_(static_cast<size_t>(in.data.num_items), in.kmax) {}

  void add(std::span<const int64_t> users, const ChunkRanking& chunk) {
    const size_t n_k = in_.ks.size();
    for (size_t r = 0; r < users.size(); ++r) {
      const int64_t u = users[r];
      std::span<const UserMetrics> metrics(chunk.metrics.data() + r * n_k, n_k);
      all_.add(metrics);
      (in_.data.history(u).empty() ? cold_ : warm_).add(metrics);
      if (chunk.has_cold[r]) cold_items_.add({chunk.cold_metrics.data() + r * n_k, n_k});
      const std::vector<int64_t>& list = chunk.lists[r];
      for (size_t p = 0; p < list.size(); ++p) {
        int64_t& best = first_position_[static_cast<size_t>(list[p])];
        best = std::min(best, static_cast<int64_t>(p));
      }
      const auto targets = in_.data.targets(u);
      targets_ += static_cast<int64_t>(targets.size());
      for (int64_t t : targets) cold_item_targets_ += in_.data.item_degree[static_cast<size_t>(t)] == 0;
    }
  }

  /// The means into `result`, with coverage@K beside the others in result.all.
  void finish(RankingMetrics& result) const {
    result.all = all_.finish(in_.ks);
    result.warm_users = warm_.finish(in_.ks);
    result.cold_users = cold_.finish(in_.ks);
    result.cold_items = cold_items_.finish(in_.ks);
    result.targets = targets_;
    result.cold_item_targets = cold_item_targets_;
    // Coverage@K = |items recommended at a position < K to anyone| / I (metrics.h: coverage).
    const int64_t num_items = in_.data.num_items;
    for (int64_t K : in_.ks) {
      int64_t covered = 0;
      for (int64_t p : first_position_) covered += p < K;
      result.all.values[str_cat("coverage@", K)] =
          num_items > 0 ? static_cast<double>(covered) / static_cast<double>(num_items) : 0.0;
    }
  }

 private:
  const RankingInputs& in_;
  Accumulator all_, warm_, cold_, cold_items_;
  std::vector<int64_t> first_position_;  // [I] smallest list position of each item (kmax = never)
  int64_t targets_ = 0;
  int64_t cold_item_targets_ = 0;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

RankingMetrics evaluate_ranking(const EvalData& data, const Scorer& scorer, const EvalOptions& options,
                                const MatrixView* item_vectors) {
  const auto start = std::chrono::steady_clock::now();
  check_inputs(data, scorer, options, item_vectors);
  const RankingInputs in{data, options.ks, *std::max_element(options.ks.begin(), options.ks.end()),
                         item_vectors != nullptr ? unit_rows(*item_vectors) : std::vector<float>{},
                         item_vectors != nullptr ? item_vectors->cols : 0};
  std::vector<int64_t> users;
  for (int64_t u = 0; u < data.num_users; ++u) {
    if (!data.targets(u).empty()) users.push_back(u);
  }

  RankingMetrics result;
  result.ks = options.ks;
  result.users_total = data.num_users;
  result.users_without_targets = data.num_users - static_cast<int64_t>(users.size());
  const auto n_users = static_cast<int64_t>(users.size());
  const int64_t chunk = std::min<int64_t>(options.chunk_users, std::max<int64_t>(1, n_users));
  std::vector<float> scores(static_cast<size_t>(chunk * data.num_items));  // [chunk, I]
  const int threads = resolve_threads(options.num_threads, "evaluation");
  std::optional<Progress> progress;
  if (options.progress) progress.emplace(str_cat("evaluate ", scorer.name()), n_users, "users");

  RankingSums sums(in);
  for (int64_t first = 0; first < n_users; first += chunk) {
    std::span<const int64_t> chunk_users(users.data() + first, static_cast<size_t>(std::min(n_users - first, chunk)));
    const auto score_start = std::chrono::steady_clock::now();
    scorer.score_users(chunk_users, scores.data());
    result.score_seconds += seconds_since(score_start);
    sums.add(chunk_users, rank_chunk(in, chunk_users, scores.data(), threads));
    if (progress) progress->add(static_cast<int64_t>(chunk_users.size()));
  }
  if (progress) progress->finish();
  sums.finish(result);
  result.seconds = seconds_since(start);
  result.rank_seconds = result.seconds - result.score_seconds;
  return result;
}

RankingMetrics evaluate_embeddings(const EvalData& data, MatrixView user_emb, MatrixView item_emb,
                                   const EvalOptions& options) {
  DotProductScorer scorer(user_emb, item_emb);
  return evaluate_ranking(data, scorer, options, &item_emb);
}

}  // namespace twotower
