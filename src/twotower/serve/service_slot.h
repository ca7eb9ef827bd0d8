// The service a server answers with, replaced whole by a reload. A request takes its own reference
// (get) and finishes on that service even when a reload swaps in the next one meanwhile; the old
// service is destroyed when its last request lets go of it.
#pragma once

#include <memory>
#include <mutex>

#include "twotower/serve/recommend_service.h"

namespace twotower {

/// Thread-safe: get and swap may be called from any number of threads at once.
class ServiceSlot {
 public:
  /// Throws Error when `service` is null.
  explicit ServiceSlot(std::shared_ptr<RecommendService> service);

  std::shared_ptr<RecommendService> get() const;
  /// Installs `next` (throws Error when null) and returns the service it replaces.
  std::shared_ptr<RecommendService> swap(std::shared_ptr<RecommendService> next);

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<RecommendService> service_;
};

}  // namespace twotower
