// A RecommendService for the HTTP tests: a fixed four-item catalogue, one known user, a version
// name in every title (so a response shows which service answered it), and hooks that throw or
// block on request.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "twotower/serve/recommend_service.h"

namespace twotower::testing {

/// Opened once: every wait returns from then on.
class Gate {
 public:
  void open();
  void wait();
  bool is_open();

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
};

/// Items a, b, c, d with scores 0.5, 0.25, 0.125, 0.0625 (titles "Alpha@<version>", ...); the
/// known user "u1" has seen "a". Users "boom" and "boom-int" throw a std::runtime_error and an
/// int; user "slow" opens `entered` and waits for `release`.
class FakeService : public RecommendService {
 public:
  static constexpr int64_t kMaxK = 20;

  explicit FakeService(std::string version);

  RecommendResult recommend(const RecommendRequest& request) const override;
  std::vector<Recommendation> similar(const std::string& item_id, int64_t k) const override;
  int64_t add_items(const std::vector<NewItem>& items) override;
  ExportInfo info() const override;
  int64_t max_k() const override { return kMaxK; }

  mutable Gate entered;
  mutable Gate release;

 private:
  struct Item {
    std::string title;
    float score;
  };
  // The catalogue best first, without the ids in `skip`, cut to k.
  std::vector<Recommendation> ranked(const std::vector<std::string>& skip, int64_t k) const;

  std::string version_;
  mutable std::mutex mutex_;
  std::map<std::string, Item> items_;
};

}  // namespace twotower::testing
