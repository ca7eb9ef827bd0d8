#include "http_test_service.h"

#include <algorithm>
#include <stdexcept>

namespace twotower::testing {

void Gate::open() {
  {
    std::lock_guard lock(mutex_);
    open_ = true;
  }
  changed_.notify_all();
}

void Gate::wait() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return open_; });
}

bool Gate::is_open() {
  std::lock_guard lock(mutex_);
  return open_;
}

FakeService::FakeService(std::string version) : version_(std::move(version)) {
  items_ = {{"a", {"Alpha@" + version_, 0.5f}},
            {"b", {"Beta@" + version_, 0.25f}},
            {"c", {"Gamma@" + version_, 0.125f}},
            {"d", {"Delta@" + version_, 0.0625f}}};
}

std::vector<Recommendation> FakeService::ranked(const std::vector<std::string>& skip, int64_t k) const {
  std::lock_guard lock(mutex_);
  std::vector<Recommendation> out;
  for (const auto& [id, item] : items_) {
    if (std::find(skip.begin(), skip.end(), id) == skip.end()) out.push_back({id, item.title, item.score});
  }
  std::sort(out.begin(), out.end(), [](const Recommendation& x, const Recommendation& y) { return x.score > y.score; });
  if (static_cast<int64_t>(out.size()) > k) out.resize(static_cast<size_t>(k));
  return out;
}

RecommendResult FakeService::recommend(const RecommendRequest& request) const {
  if (request.k < 1 || request.k > kMaxK) fail("fake: k ", request.k, " out of range");
  if (request.user_id == "boom") throw std::runtime_error("fake failure");
  if (request.user_id == "boom-int") throw 42;
  std::vector<std::string> skip = request.exclude;
  RecommendResult result;
  if (request.user_id == "slow") {
    entered.open();
    release.wait();
  } else if (request.user_id == "u1") {
    if (request.exclude_seen) skip.push_back("a");
  } else if (!request.user_id.empty()) {
    throw NotFoundError("unknown user id \"" + request.user_id + "\"");
  } else {
    for (const std::string& id : request.history) {
      std::lock_guard lock(mutex_);
      if (!items_.count(id)) throw NotFoundError("unknown item id \"" + id + "\" in the history");
    }
    if (request.exclude_seen) skip.insert(skip.end(), request.history.begin(), request.history.end());
    result.source = request.history.empty() ? QuerySource::kColdUser : QuerySource::kHistory;
  }
  result.items = ranked(skip, request.k);
  return result;
}

std::vector<Recommendation> FakeService::similar(const std::string& item_id, int64_t k) const {
  {
    std::lock_guard lock(mutex_);
    if (!items_.count(item_id)) throw NotFoundError("unknown item id \"" + item_id + "\"");
  }
  return ranked({item_id}, k);
}

int64_t FakeService::add_items(const std::vector<NewItem>& items) {
  std::lock_guard lock(mutex_);
  for (const NewItem& item : items) {
    if (items_.count(item.item_id)) fail("item \"", item.item_id, "\" exists already");
  }
  for (const NewItem& item : items) items_[item.item_id] = {item.title, 0.0f};
  return static_cast<int64_t>(items.size());
}

ExportInfo FakeService::info() const {
  std::lock_guard lock(mutex_);
  return {version_, "/exports/" + version_, 1, static_cast<int64_t>(items_.size()), 4, "exact"};
}

}  // namespace twotower::testing
