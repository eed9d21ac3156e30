// Live counters of a store's front ends and its service, shared by every
// session and shown by STATS (docs/protocol.md lists them). Front ends count
// connections and framing; the service counts what it refuses.
#pragma once

#include <atomic>
#include <cstdint>

namespace ctxstore::service {

struct Counters {
  std::atomic<uint64_t> connections{0};
  std::atomic<uint64_t> connections_total{0};
  std::atomic<uint64_t> connections_refused{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> protocol_errors{0};
  std::atomic<uint64_t> timeouts{0};
  std::atomic<uint64_t> auth_failures{0};     // HELLOs with a bad token
  std::atomic<uint64_t> access_denied{0};     // requests outside the token's role or namespace
  std::atomic<uint64_t> inflight_bytes{0};    // reserved by PUTs still receiving their values
  std::atomic<uint64_t> inflight_refused{0};  // PUTs answered BUSY for the budget
  // Shared memory (Unix-socket clients, server/shm_regions.h).
  std::atomic<uint64_t> shm_regions{0};       // registered now
  std::atomic<uint64_t> shm_mapped_bytes{0};  // of those regions
  std::atomic<uint64_t> shm_refused{0};       // registrations refused (a check or a limit)
  std::atomic<uint64_t> shm_gets{0};          // values copied into shared memory
  std::atomic<uint64_t> shm_puts{0};          // values copied from it
};

}  // namespace ctxstore::service
