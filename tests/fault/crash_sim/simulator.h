// One seed of the deterministic crash simulation. Single-threaded: an
// engine without its flusher thread, on the in-memory device under a
// FaultDevice, with a manual clock and a seeded Env; the workload
// (workload.h) interleaves client operations, flusher steps and clock moves.
//
// A run is a few crash rounds and a clean restart. Each round opens the
// engine (recovering what the last one left), checks what came back
// (checker.h), runs a workload during which the power goes out: at a
// device operation counted from a random step (inside a flusher batch,
// between a write and its sync, inside a checkpoint or catalog rewrite,
// during a clean shutdown) or between two client operations. Seeds with
// random faults also get a mix of corrupted reads, misdirected and lost
// writes, bit rot, failed syncs, torn and failed writes (EIO) and writes
// that find the device full (ENOSPC) (fault_plan.h); the damage
// of the silent ones TaintTracker attributes to keys. The last
// round closes cleanly, and a restart without faults must come back from
// the checkpoint with exactly what the last check saw.
//
// Everything it does is a function of the seed: the digest of the run (its
// log of operations, results, acknowledgements, device operations and
// recovered state) is the same every time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "crash_sim/checker.h"
#include "crash_sim/coverage.h"
#include "crash_sim/model.h"
#include "crash_sim/namespaces.h"
#include "crash_sim/run_log.h"
#include "crash_sim/taint.h"
#include "crash_sim/workload.h"
#include "engine/engine.h"
#include "testing/fault_device.h"
#include "testing/manual_env.h"
#include "testing/mem_device.h"

namespace ctxstore::engine::crash_sim {

class Simulator {
 public:
  static constexpr int kCrashRounds = 5;

  Simulator(uint64_t seed, bool verbose);
  void Run();

  bool failed() const;
  uint64_t digest() const { return log_.digest(); }
  const Coverage& coverage() const { return coverage_; }

 private:
  void SetUpOptions();
  // Opens the engine over device (a recovery); null (and a test failure)
  // when it does not open.
  std::unique_ptr<Engine> Open(FaultDevice* device);
  // Recovery, check, workload, power cut: one round.
  void CrashRound(int round);
  void RunWorkload(Engine& engine, FaultDevice& device);
  void ArmCrash(FaultDevice& device);
  // The round's end when no cut came during the workload: a cut now, or a
  // clean shutdown with the armed cut still pending.
  void EndRound(Engine& engine, FaultDevice& device);
  void CheckRecovered(Engine& engine, FaultDevice& device);
  void CountCrash(const FaultDevice& device, bool in_close);
  void FinalRounds();
  // The seed's random faults; with_errors adds the kinds that report an
  // error (not while the engine opens).
  FaultPlan Plan(bool with_errors) const;

  const uint64_t seed_;
  const int failures_at_start_;
  std::mt19937_64 rng_;
  MemDevice mem_;
  ManualEnv env_;
  EngineOptions options_;
  std::string encryption_key_;  // the default namespace's ("" on seeds without)
  bool random_faults_ = false;
  uint64_t fault_mix_ = 0;  // bit i: fault kind i is on (Plan)
  RunLog log_;
  Coverage coverage_;
  Model model_;
  NamespaceModel namespaces_;
  TaintTracker taint_;
  Workload workload_;
  Checker checker_;
};

}  // namespace ctxstore::engine::crash_sim
