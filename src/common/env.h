// The engine's view of its environment, after LevelDB's Env: the clocks it
// reads and the background threads it starts. The real one is Env::Default();
// tests substitute clocks that move only when told (testing/manual_env.h),
// and a simulation can run the engine with no background thread at all
// (EngineOptions::flusher_thread) and step its work itself.
#pragma once

#include <cstdint>
#include <functional>
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

  // The process's real clocks and threads. Never destroyed.
  static Env* Default();
};

}  // namespace ctxstore
