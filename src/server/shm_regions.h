// The memory one Unix-socket connection shares with the server
// (SHM_REGISTER): memfds the client created and passed over the socket,
// each mapped once and named by a region id that only this connection can
// use. SHM_GET and SHM_PUT copy between a region and the store; every copy
// goes through Find, which refuses any byte outside the region.
//
// Why a client can neither crash the server nor make it write outside what
// it registered (docs/security.md, "Shared memory"):
//   - only a memfd on tmpfs is accepted (F_GET_SEALS works on shmem and
//     hugetlbfs files only; hugetlbfs is refused: it can SIGBUS when its
//     page pool runs out), sealed with F_SEAL_SHRINK (the file can then
//     never become shorter than what is mapped, so no access past its end
//     and no SIGBUS) and writable (no F_SEAL_WRITE / F_SEAL_FUTURE_WRITE);
//   - at least as large as the length declared, which is what is mapped;
//   - the client unmapping, closing or punching holes in its own copy does
//     not touch the server's mapping (a hole reads as zeros and is refilled
//     on write: shmem never faults there).
// Not thread-safe: the connection's coroutine owns it.
#pragma once

#include <cstdint>
#include <map>
#include <span>

#include "common/unique_fd.h"
#include "ctxstore/status.h"
#include "protocol/shm_bodies.h"
#include "service/counters.h"

namespace ctxstore::server {

class ShmRegions {
 public:
  static constexpr uint32_t kMaxRegionsPerConnection = 64;

  // counters: shm_regions and shm_mapped_bytes (all connections together,
  // bounded by max_mapped_bytes), shm_refused.
  ShmRegions(service::Counters* counters, uint64_t max_mapped_bytes)
      : counters_(counters), max_mapped_bytes_(max_mapped_bytes) {}
  ~ShmRegions();  // unmaps every region
  ShmRegions(const ShmRegions&) = delete;
  ShmRegions& operator=(const ShmRegions&) = delete;

  // Checks fd (above), maps its first `length` bytes and returns the new
  // region's id; the fd is closed either way (the mapping keeps the memory).
  // kInvalid naming the check that failed; kNoSpace past the limits.
  Result<uint32_t> Register(UniqueFd fd, uint64_t length);
  // kNotFound for an id this connection does not have.
  Status Unregister(uint32_t region_id);
  // The bytes range names: kNotFound for an unknown region, kInvalid for a
  // range that does not lie inside it (overflow-safe).
  Result<std::span<uint8_t>> Find(const protocol::ShmRange& range) const;

  size_t size() const { return regions_.size(); }

 private:
  struct Region {
    uint8_t* base = nullptr;
    uint64_t length = 0;
  };
  Status Refuse(Status why);
  void Unmap(const Region& region);

  service::Counters* counters_;
  uint64_t max_mapped_bytes_;
  std::map<uint32_t, Region> regions_;
  uint32_t next_id_ = 1;
};

}  // namespace ctxstore::server
