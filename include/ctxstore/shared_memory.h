// Memory a client shares with a ctxstore server on the same machine, for
// the shared-memory path (docs/protocol.md, "Shared memory"): a memfd the
// client allocates and maps; the server maps it too once a Client sends it
// over a Unix socket (Client::Register). GetInto, BatchGetInto and Put on
// bytes inside registered memory then move no value bytes over the socket:
// the server copies between its DRAM tier and this memory, once.
//
// The memfd is sealed against shrinking and growing before anyone else sees
// it, so the server can never be made to fault on it; the store's own DRAM
// is never mapped into a client.
//
// Thread-safety: bytes() may be used from any thread; what the bytes hold
// is the caller's to synchronize (a GetInto writes them from the server).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "ctxstore/status.h"

namespace ctxstore {

class SharedMemory {
 public:
  // A new memfd of `bytes` (at least 1), zero-filled, mapped read/write.
  // kNoSpace when the system refuses the memory.
  static Result<std::shared_ptr<SharedMemory>> Create(size_t bytes);
  ~SharedMemory();  // unmaps and closes; a server's mapping outlives it until unregistered
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;

  std::span<uint8_t> bytes() const { return {base_, size_}; }
  int fd() const { return fd_; }
  // Unique in the process, never reused: how connections remember it.
  uint64_t id() const { return id_; }
  // Whether [data, data + len) lies inside bytes().
  bool Contains(const void* data, size_t len) const;

 private:
  SharedMemory(int fd, uint8_t* base, size_t size, uint64_t id)
      : fd_(fd), base_(base), size_(size), id_(id) {}
  int fd_;
  uint8_t* base_;
  size_t size_;
  uint64_t id_;
};

}  // namespace ctxstore
