// An Env whose clocks move only when the test moves them, so that TTLs,
// intervals and backoffs are deterministic. Either clock can follow the real
// one instead (a test that fakes the wall clock but waits for background
// work in real time). SleepForMs moves the manual clocks instead of
// sleeping. Its randomness (store ids, lease ids, nonces) is a stream seeded
// by random_seed, so a run repeats bit for bit. Threads start as in
// Env::Default(). Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <random>

#include "common/env.h"

namespace ctxstore {

class ManualEnv : public Env {
 public:
  explicit ManualEnv(uint64_t wall_ms = 1'700'000'000'000, uint64_t monotonic_ms = 1'000'000,
                     uint64_t random_seed = 1)
      : wall_ms_(wall_ms), monotonic_ms_(monotonic_ms), rng_(random_seed) {}

  uint64_t MonotonicMs() override {
    return real_monotonic_ ? Env::Default()->MonotonicMs() : monotonic_ms_.load();
  }
  uint64_t WallClockMs() override { return wall_ms_.load(); }
  void SleepForMs(uint64_t ms) override {
    if (real_monotonic_) return Env::Default()->SleepForMs(ms);
    AdvanceMs(ms);
  }
  void FillRandom(std::span<uint8_t> out) override {
    std::lock_guard lock(rng_mu_);
    for (size_t i = 0; i < out.size(); i += 8) {
      const uint64_t r = rng_();
      std::memcpy(out.data() + i, &r, std::min<size_t>(8, out.size() - i));
    }
  }

  void SetWallClockMs(uint64_t ms) { wall_ms_.store(ms); }
  // Moves both manual clocks.
  void AdvanceMs(uint64_t ms) {
    wall_ms_.fetch_add(ms);
    monotonic_ms_.fetch_add(ms);
  }
  // The monotonic clock follows the real one from now on.
  void UseRealMonotonicClock() { real_monotonic_ = true; }

 private:
  std::atomic<uint64_t> wall_ms_;
  std::atomic<uint64_t> monotonic_ms_;
  std::atomic<bool> real_monotonic_{false};
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
};

}  // namespace ctxstore
