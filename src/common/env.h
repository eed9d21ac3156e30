// The engine's view of its environment, after LevelDB's Env: the clocks it
// reads, how it waits, the randomness it draws (store ids, lease ids, the
// nonces of sealed records) and the background threads it starts. The real
// one is Env::Default(); tests substitute clocks that move only when told
// and a seeded random stream (testing/manual_env.h), and a simulation can
// run the engine with no background thread at all
// (EngineOptions::flusher_thread) and step its work itself, so that a seed
// reproduces a run bit for bit.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <thread>

namespace ctxstore {

class Env {
 public:
  virtual ~Env() = default;

  // Milliseconds since an arbitrary start that never goes back: intervals
  // and schedules (sync, checkpoint, maintenance, backoff).
  virtual uint64_t MonotonicMs() = 0;
  // Milliseconds since the Unix epoch: timestamps in records, TTLs, pins
  // and leases.
  virtual uint64_t WallClockMs() = 0;
  // Runs fn on a new thread named name (at most 15 characters: top -H, perf).
  virtual std::thread StartThread(std::string name, std::function<void()> fn);
  // Lets ms of time pass on the caller's thread: a real sleep, or a manual
  // clock moved forward. For a caller that steps the engine's background
  // work itself and finds none it may do yet (a backoff).
  virtual void SleepForMs(uint64_t ms);
  // Unpredictable bytes: the kernel's CSPRNG (getrandom), fit for AES-GCM
  // nonces; a test's Env may return a seeded stream instead.
  virtual void FillRandom(std::span<uint8_t> out);
  uint64_t RandomU64();

  // The process's real clocks and threads. Never destroyed.
  static Env* Default();
};

}  // namespace ctxstore
