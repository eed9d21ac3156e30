// Copy and hash on two cores: the caller copies a large value piece by
// piece while a helper thread hashes (XXH3-64) the pieces already copied,
// right behind it. A value's copy + hash then takes about as long as the
// copy alone instead of their sum. The hash is always of the destination
// (the bytes that will be stored), never of the source, which another
// process may be changing.
//
// One helper serves one copy at a time: a copy that finds it taken, or a
// value too small to be worth the hand-off, copies and hashes on the
// caller's thread alone. Under load, when every core is busy anyway, the
// cost is one atomic exchange per copy.
//
// Thread safety: CopyAndHash may be called from any number of threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <thread>

#include "common/mutex.h"

namespace ctxstore {

// Copies src into dst (same size) a piece at a time, hashing each piece
// right after it is copied, while it is in cache; returns XXH3-64 of dst.
uint64_t CopyAndHash(std::span<uint8_t> dst, std::span<const uint8_t> src);

class PipelinedHasher {
 public:
  // Values smaller than this are copied and hashed by the caller alone.
  static constexpr uint64_t kMinPipelinedBytes = 1 << 20;
  // The copy hands the helper pieces of this size.
  static constexpr uint64_t kPieceBytes = 64 << 10;

  PipelinedHasher();
  ~PipelinedHasher();
  PipelinedHasher(const PipelinedHasher&) = delete;
  PipelinedHasher& operator=(const PipelinedHasher&) = delete;

  // As ctxstore::CopyAndHash, with the hashing on the helper when it is free.
  uint64_t CopyAndHash(std::span<uint8_t> dst, std::span<const uint8_t> src);

  // Copies the helper hashed (for tests).
  uint64_t pipelined_copies() const { return pipelined_.load(std::memory_order_relaxed); }

 private:
  void Work();
  uint64_t HashBehind(const uint8_t* data, uint64_t len);

  Mutex mu_;
  CondVar job_cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  // The job, handed over under mu_ and then advanced without it.
  const uint8_t* job_data_ GUARDED_BY(mu_) = nullptr;
  uint64_t job_len_ GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> copied_{0};  // bytes of the job's destination written so far
  std::atomic<bool> hashed_{false};  // the helper is done with the job; result_ is set
  uint64_t result_ = 0;              // written by the helper before hashed_
  std::atomic<bool> busy_{false};    // a copy owns the helper
  std::atomic<uint64_t> pipelined_{0};
  // Last: started once every member above exists.
  std::thread helper_;
};

}  // namespace ctxstore
