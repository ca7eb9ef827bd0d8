#include "twotower/eval/evaluator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

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

// Per-user values, in this order for each K.
constexpr const char* kUserMetricNames[] = {"precision", "recall", "f1", "ndcg", "hit_rate", "mrr",
                                            "diversity", "novelty"};
constexpr int kUserMetrics = 8;
constexpr int kTargetMetrics = 6;  // the first six depend on the targets; cold-item segment

struct Accumulator {
  std::vector<double> sum;
  std::vector<int64_t> count;
  int64_t users = 0;

  explicit Accumulator(size_t n) : sum(n, 0.0), count(n, 0) {}
  void add(const double* values, size_t n) {
    ++users;
    for (size_t i = 0; i < n; ++i) {
      if (std::isnan(values[i])) continue;  // not defined for this user (diversity of a 1-list)
      sum[i] += values[i];
      ++count[i];
    }
  }
  SegmentMetrics finish(const std::vector<int64_t>& ks, int per_k) const {
    SegmentMetrics m;
    m.users = users;
    for (size_t k = 0; k < ks.size(); ++k) {
      for (int v = 0; v < per_k; ++v) {
        size_t idx = k * static_cast<size_t>(per_k) + static_cast<size_t>(v);
        if (count[idx] == 0) continue;
        m.values[str_cat(kUserMetricNames[v], "@", ks[k])] = sum[idx] / static_cast<double>(count[idx]);
      }
    }
    return m;
  }
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

RankingMetrics evaluate_ranking(const EvalData& data, const Scorer& scorer, const EvalOptions& options,
                                const MatrixView* item_vectors) {
  const auto start = std::chrono::steady_clock::now();
  check_options(options);
  if (scorer.num_items() != data.num_items || scorer.num_users() != data.num_users) {
    fail("evaluation: scorer \"", scorer.name(), "\" covers ", scorer.num_users(), " users x ",
         scorer.num_items(), " items, expected the data's ", data.num_users, " x ", data.num_items);
  }
  std::vector<float> unit;
  int64_t dim = 0;
  if (item_vectors != nullptr) {
    if (item_vectors->rows != data.num_items || item_vectors->cols <= 0) {
      fail("evaluation: item vectors for diversity: got [", item_vectors->rows, ", ", item_vectors->cols,
           "], expected [", data.num_items, ", D > 0]");
    }
    unit = unit_rows(*item_vectors);
    dim = item_vectors->cols;
  }

  const std::vector<int64_t>& ks = options.ks;
  const int64_t kmax = *std::max_element(ks.begin(), ks.end());
  const size_t n_k = ks.size();
  const size_t per_user = n_k * kUserMetrics, per_user_cold = n_k * kTargetMetrics;

  RankingMetrics result;
  result.ks = ks;
  result.users_total = data.num_users;
  std::vector<int64_t> users;
  for (int64_t u = 0; u < data.num_users; ++u) {
    if (!data.targets(u).empty()) users.push_back(u);
  }
  result.users_without_targets = data.num_users - static_cast<int64_t>(users.size());

  Accumulator all(per_user), warm(per_user), cold(per_user), cold_items(per_user_cold);
  // Smallest list position at which each item was recommended to anyone (kmax = never).
  std::vector<int64_t> first_position(static_cast<size_t>(data.num_items), kmax);

  const int64_t chunk = std::min<int64_t>(options.chunk_users, std::max<int64_t>(1, static_cast<int64_t>(users.size())));
  std::vector<float> scores(static_cast<size_t>(chunk * data.num_items));  // [chunk, I]
  const int threads = resolve_threads(options.num_threads, "evaluation");
  std::optional<Progress> progress;
  if (options.progress) progress.emplace(str_cat("evaluate ", scorer.name()), static_cast<int64_t>(users.size()), "users");

  for (size_t first = 0; first < users.size(); first += static_cast<size_t>(chunk)) {
    const size_t n = std::min(users.size() - first, static_cast<size_t>(chunk));
    std::span<const int64_t> chunk_users(users.data() + first, n);
    const auto score_start = std::chrono::steady_clock::now();
    scorer.score_users(chunk_users, scores.data());
    result.score_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - score_start).count();

    std::vector<double> values(n * per_user), cold_values(n * per_user_cold, NAN);
    std::vector<std::vector<int64_t>> lists(n);
    auto work = [&](size_t lo, size_t hi) {
      std::vector<int64_t> cold_targets;
      for (size_t r = lo; r < hi; ++r) {
        const int64_t u = chunk_users[r];
        auto targets = data.targets(u);
        lists[r] = ranked_list(scores.data() + static_cast<int64_t>(r) * data.num_items, data.num_items,
                               data.history(u), targets, kmax);
        const std::vector<int64_t>& list = lists[r];
        cold_targets.clear();
        for (int64_t t : targets) {
          if (data.item_degree[static_cast<size_t>(t)] == 0) cold_targets.push_back(t);
        }
        for (size_t k = 0; k < n_k; ++k) {
          const int64_t K = ks[k];
          std::span<const int64_t> top(list.data(), std::min<size_t>(list.size(), static_cast<size_t>(K)));
          double* v = values.data() + r * per_user + k * kUserMetrics;
          v[0] = precision_at_k(list, targets, K);
          v[1] = recall_at_k(list, targets, K);
          v[2] = f1_at_k(list, targets, K);
          v[3] = ndcg_at_k(list, targets, K);
          v[4] = hit_rate_at_k(list, targets, K);
          v[5] = mrr_at_k(list, targets, K);
          v[6] = unit.empty() || top.size() < 2 ? NAN : intra_list_diversity(top, unit.data(), dim);
          v[7] = top.empty() ? NAN : novelty(top, data.item_degree, data.num_users);
          if (!cold_targets.empty()) {
            double* c = cold_values.data() + r * per_user_cold + k * kTargetMetrics;
            c[0] = precision_at_k(list, cold_targets, K);
            c[1] = recall_at_k(list, cold_targets, K);
            c[2] = f1_at_k(list, cold_targets, K);
            c[3] = ndcg_at_k(list, cold_targets, K);
            c[4] = hit_rate_at_k(list, cold_targets, K);
            c[5] = mrr_at_k(list, cold_targets, K);
          }
        }
      }
    };
    parallel_for(static_cast<int64_t>(n), threads, [&](int64_t lo, int64_t hi) {
      work(static_cast<size_t>(lo), static_cast<size_t>(hi));
    });

    // Sums in user order, so results do not depend on the thread count.
    for (size_t r = 0; r < n; ++r) {
      const int64_t u = chunk_users[r];
      const double* v = values.data() + r * per_user;
      all.add(v, per_user);
      (data.history(u).empty() ? cold : warm).add(v, per_user);
      const double* c = cold_values.data() + r * per_user_cold;
      if (!std::isnan(c[0])) cold_items.add(c, per_user_cold);
      for (size_t p = 0; p < lists[r].size(); ++p) {
        int64_t& best = first_position[static_cast<size_t>(lists[r][p])];
        best = std::min(best, static_cast<int64_t>(p));
      }
      auto targets = data.targets(u);
      result.targets += static_cast<int64_t>(targets.size());
      for (int64_t t : targets) result.cold_item_targets += data.item_degree[static_cast<size_t>(t)] == 0;
    }
    if (progress) progress->add(static_cast<int64_t>(n));
  }
  if (progress) progress->finish();

  result.all = all.finish(ks, kUserMetrics);
  result.warm_users = warm.finish(ks, kUserMetrics);
  result.cold_users = cold.finish(ks, kUserMetrics);
  result.cold_items = cold_items.finish(ks, kTargetMetrics);
  // Coverage@K = |items recommended at a position < K to anyone| / I (metrics.h: coverage).
  for (int64_t K : ks) {
    int64_t covered = 0;
    for (int64_t p : first_position) covered += p < K;
    result.all.values[str_cat("coverage@", K)] =
        data.num_items > 0 ? static_cast<double>(covered) / static_cast<double>(data.num_items) : 0.0;
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.rank_seconds = result.seconds - result.score_seconds;
  return result;
}

RankingMetrics evaluate_embeddings(const EvalData& data, MatrixView user_emb, MatrixView item_emb,
                                   const EvalOptions& options) {
  DotProductScorer scorer(user_emb, item_emb);
  return evaluate_ranking(data, scorer, options, &item_emb);
}

}  // namespace twotower
