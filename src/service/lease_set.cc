#include "service/lease_set.h"

#include "common/clock.h"

namespace ctxstore::service {

bool LeaseSet::HasSlot(uint32_t ns) {
  if (ends_.size() < max_) return true;
  const uint64_t now_ms = MonotonicMs();
  for (auto it = ends_.begin(); it != ends_.end();) {
    if (it->second > now_ms) {
      ++it;
      continue;
    }
    (void)engine_->ReleaseLease(ns, it->first);
    it = ends_.erase(it);
  }
  return ends_.size() < max_;
}

void LeaseSet::ReleaseAll(uint32_t ns) {
  // Results ignored: a lease that already ended answers NOT_FOUND.
  for (const auto& [id, end_ms] : ends_) (void)engine_->ReleaseLease(ns, id);
  ends_.clear();
}

}  // namespace ctxstore::service
