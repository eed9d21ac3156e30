// The leases one session took with MATCH_PREFIX, each with the monotonic
// time by which it has ended anyway. They count against the session's
// limit (max_leases_per_connection) and are released when the session
// ends or moves to another namespace, whatever the reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "engine/engine.h"

namespace ctxstore::service {

class LeaseSet {
 public:
  LeaseSet(engine::Engine* engine, uint32_t max_leases) : engine_(engine), max_(max_leases) {}

  // Whether one more lease fits. Leases the client let run out still
  // occupy slots until pruned here; the engine is told too, in case its
  // clock runs behind ours. ns: the namespace they were taken in.
  bool HasSlot(uint32_t ns);
  void Add(uint64_t lease_id, uint64_t end_monotonic_ms) { ends_[lease_id] = end_monotonic_ms; }
  // RELEASE: forgotten whatever the engine says (NOT_FOUND means it ended).
  void Forget(uint64_t lease_id) { ends_.erase(lease_id); }
  void ReleaseAll(uint32_t ns);
  size_t size() const { return ends_.size(); }

 private:
  engine::Engine* engine_;
  uint32_t max_;
  std::unordered_map<uint64_t, uint64_t> ends_;  // lease id -> monotonic end
};

}  // namespace ctxstore::service
