#include "common/pipelined_hash.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "common/check.h"
#include "common/hash.h"
#include "common/thread_name.h"

namespace ctxstore {
namespace {

// Waits a little on the core, then gives it away: on a machine with fewer
// cores than busy threads, the thread waited for may need this one's core.
void Backoff(uint32_t* spins) {
  if (++*spins < 4096) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
  } else {
    std::this_thread::yield();
  }
}

}  // namespace

uint64_t CopyAndHash(std::span<uint8_t> dst, std::span<const uint8_t> src) {
  CTX_CHECK(dst.size() == src.size());
  Xxh3Stream hash;
  for (uint64_t done = 0; done < dst.size();) {
    const uint64_t n = std::min<uint64_t>(256 << 10, dst.size() - done);
    std::memcpy(dst.data() + done, src.data() + done, n);
    hash.Update(dst.data() + done, n);
    done += n;
  }
  return hash.Digest();
}

PipelinedHasher::PipelinedHasher() {
  helper_ = std::thread([this] {
    SetThreadName("ctxstore-hash");
    Work();
  });
}

PipelinedHasher::~PipelinedHasher() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
    job_cv_.SignalAll();
  }
  helper_.join();
}

uint64_t PipelinedHasher::CopyAndHash(std::span<uint8_t> dst, std::span<const uint8_t> src) {
  CTX_CHECK(dst.size() == src.size());
  if (dst.size() < kMinPipelinedBytes || busy_.exchange(true, std::memory_order_acquire)) {
    return ctxstore::CopyAndHash(dst, src);
  }
  copied_.store(0, std::memory_order_relaxed);
  hashed_.store(false, std::memory_order_relaxed);
  {
    MutexLock lock(&mu_);  // orders the two stores above before the helper's loads
    job_data_ = dst.data();
    job_len_ = dst.size();
    job_cv_.Signal();
  }
  for (uint64_t done = 0; done < dst.size();) {
    const uint64_t n = std::min(kPieceBytes, dst.size() - done);
    std::memcpy(dst.data() + done, src.data() + done, n);
    done += n;
    copied_.store(done, std::memory_order_release);
  }
  // The helper reads dst until hashed_: dst must not be handed on before.
  for (uint32_t spins = 0; !hashed_.load(std::memory_order_acquire);) Backoff(&spins);
  const uint64_t result = result_;
  pipelined_.fetch_add(1, std::memory_order_relaxed);
  busy_.store(false, std::memory_order_release);
  return result;
}

void PipelinedHasher::Work() {
  for (;;) {
    const uint8_t* data = nullptr;
    uint64_t len = 0;
    {
      MutexLock lock(&mu_);
      while (job_data_ == nullptr && !stop_) job_cv_.Wait(&mu_);
      if (stop_) return;
      data = std::exchange(job_data_, nullptr);
      len = job_len_;
    }
    result_ = HashBehind(data, len);
    hashed_.store(true, std::memory_order_release);
  }
}

uint64_t PipelinedHasher::HashBehind(const uint8_t* data, uint64_t len) {
  Xxh3Stream hash;
  uint32_t spins = 0;
  for (uint64_t hashed = 0; hashed < len;) {
    const uint64_t ready = copied_.load(std::memory_order_acquire);
    if (ready == hashed) {
      Backoff(&spins);
      continue;
    }
    spins = 0;
    hash.Update(data + hashed, ready - hashed);
    hashed = ready;
  }
  return hash.Digest();
}

}  // namespace ctxstore
