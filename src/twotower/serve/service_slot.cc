#include "twotower/serve/service_slot.h"

#include <utility>

namespace twotower {

ServiceSlot::ServiceSlot(std::shared_ptr<RecommendService> service) {
  if (!service) fail("ServiceSlot: got a null service, expected a loaded one");
  service_ = std::move(service);
}

std::shared_ptr<RecommendService> ServiceSlot::get() const {
  std::lock_guard lock(mutex_);
  return service_;
}

std::shared_ptr<RecommendService> ServiceSlot::swap(std::shared_ptr<RecommendService> next) {
  if (!next) fail("ServiceSlot::swap: got a null service, expected a loaded one");
  std::lock_guard lock(mutex_);
  std::swap(service_, next);
  return next;
}

}  // namespace twotower
