// The client side of a simulated run: one step at a time, chosen by the
// seeded stream, against an engine without a flusher thread. A step is a
// client operation (in its asynchronous form where it has one, so that
// writes stay in flight and unacknowledged: BeginPut/CommitPut with a
// callback, Delete with a callback, Flush with a callback), a few steps of
// the flusher, or a move of the clock. Every operation's result is checked
// against the model at once (reads return the current value byte for byte,
// put-if-absent finds what is present, MATCH_PREFIX counts what is
// present), and every acknowledgement is recorded in the model.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "crash_sim/coverage.h"
#include "crash_sim/model.h"
#include "crash_sim/run_log.h"
#include "engine/engine.h"
#include "testing/fault_device.h"
#include "testing/manual_env.h"

namespace ctxstore::engine::crash_sim {

class Workload {
 public:
  Workload(uint64_t seed, std::mt19937_64* rng, Model* model, RunLog* log, Coverage* coverage)
      : seed_(seed), rng_(rng), model_(model), log_(log), coverage_(coverage) {}

  // The current round's engine, device and clock. The engine's callbacks
  // reach this workload, so it must outlive every engine attached.
  void Attach(Engine* engine, FaultDevice* device, ManualEnv* env) {
    engine_ = engine;
    device_ = device;
    env_ = env;
  }
  void Step();

 private:
  void PutNew();
  void Overwrite();
  void PutIfAbsentOnPresent();
  void DeletePresent();
  void DeleteAbsent();
  void Read();
  void MatchPrefix();
  void FlushAsync();
  void FlushAndWait();
  void Checkpoint();
  void ChangeCatalog();
  void StepFlusher();
  void AdvanceClock();

  void Put(const std::string& key, bool overwrite);
  // Records the acknowledgement of one sync write.
  DurableCallback SyncAck(const std::string& key, uint64_t index);
  // Records that everything committed before index is durable.
  void AllDurableBefore(uint64_t index, const Status& st, const char* what);
  // A failure the simulated crash explains, or a test failure.
  void ExpectOkUnlessCrashed(const Status& st, const std::string& what);
  uint64_t RandomLen();
  // A present key (empty when none), or an absent one: deleted, or new.
  std::string PickKey(bool present);
  std::string AnyKey();

  const uint64_t seed_;
  std::mt19937_64* const rng_;
  Model* const model_;
  RunLog* const log_;
  Coverage* const coverage_;
  Engine* engine_ = nullptr;
  FaultDevice* device_ = nullptr;
  ManualEnv* env_ = nullptr;
  uint64_t next_key_ = 0;
  uint64_t next_version_ = 1;
};

}  // namespace ctxstore::engine::crash_sim
