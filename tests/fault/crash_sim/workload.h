// The client side of a simulated run: one step at a time, chosen by the
// seeded stream, against an engine without a flusher thread. A step is a
// client operation (in its asynchronous form where it has one, so that
// writes stay in flight and unacknowledged: BeginPut/CommitPut with a
// callback, Delete with a callback, Flush with a callback), a few steps of
// the flusher, or a move of the clock. Every operation's result is checked
// against the model at once (reads return the current value byte for byte,
// put-if-absent finds what is present, MATCH_PREFIX counts what is
// present, DeleteGroup deletes what the group holds), and every
// acknowledgement is recorded in the model.
//
// Puts carry TTLs and groups, expiries change (SetExpiry); MATCH_PREFIX
// takes leases; keys are pinned;
// scratch namespaces are created, changed (their quota), filled past their
// quota and deleted (workload_scratch.cc).
// Several clients write at once: a put may be begun by one client (its
// reservation held, its value filled) and committed steps later, after
// other clients' operations on the same keys (workload_clients.cc).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "crash_sim/coverage.h"
#include "crash_sim/model.h"
#include "crash_sim/namespaces.h"
#include "crash_sim/run_log.h"
#include "engine/engine.h"
#include "testing/fault_device.h"
#include "testing/manual_env.h"

namespace ctxstore::engine::crash_sim {

// Pinned keys hold small values: flash reclaim carries pinned objects
// forward, and they must fit in the small flash of the seeds that reclaim.
inline constexpr uint64_t kMaxPinnedValueBytes = 64 * 1024;

// Whether the device has reported an injected failure (a failed sync, a
// torn or failed write, a full device) since it was created: a call that
// promises durability (a FLUSH, a checkpoint, a catalog change, a pin, a
// close) may then fail without a power cut, and promises nothing.
inline bool ErrorsInjected(const FaultDevice& device) {
  const FaultCounts c = device.fault_counts();
  return c.failed_syncs + c.torn_writes + c.write_errors + c.no_space > 0;
}

class Workload {
 public:
  Workload(uint64_t seed, std::mt19937_64* rng, Model* model, NamespaceModel* namespaces,
           RunLog* log, Coverage* coverage)
      : seed_(seed),
        rng_(rng),
        model_(model),
        namespaces_(namespaces),
        log_(log),
        coverage_(coverage) {}

  // The current round's engine, device and clock. The engine's callbacks
  // reach this workload, so it must outlive every engine attached.
  void Attach(Engine* engine, FaultDevice* device, ManualEnv* env) {
    engine_ = engine;
    device_ = device;
    env_ = env;
  }
  void Step();
  // Puts begun and not committed hold DRAM: dropped before the engine
  // closes or goes.
  void DropOpenPuts() { open_puts_.clear(); }

 private:
  // What a put writes: drawn when it begins.
  struct PutPlan {
    std::string key;
    bool overwrite = false;
    bool sync = false;
    uint64_t version = 0;
    uint64_t len = 0;
    uint64_t ttl_ms = 0;
    std::string group;
  };
  struct OpenPut {
    PutPlan plan;
    PutReservation reservation;
  };

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
  // workload_clients.cc: pins, groups, expiry changes, and the puts of
  // other clients.
  void PinKey();
  void DeleteGroup();
  void ChangeExpiry();
  // workload_scratch.cc: the scratch namespaces and their objects.
  std::string ScratchName();
  void ChangeNamespaces();
  void PutScratch();
  void ReadScratch();
  void BeginOpenPut();
  void CommitOpenPut();

  PutPlan DrawPut(const std::string& key, bool overwrite);
  // BeginPut; false (and the outcome recorded) when it did not begin.
  bool Begin(const PutPlan& p, PutReservation* r);
  // CommitPut of a filled reservation, recorded in the model.
  void Commit(const PutPlan& p, PutReservation r);
  void Put(const std::string& key, bool overwrite);
  // Records the acknowledgement of one sync write.
  DurableCallback SyncAck(const std::string& key, uint64_t index);
  // Records that everything committed before index is durable.
  void AllDurableBefore(uint64_t index, const Status& st, const char* what);
  // A failure a power cut or an injected error explains, or a test failure.
  void ExpectOkUnlessCrashed(const Status& st, const std::string& what);
  // The engine found key absent where the model has it visible: flash
  // reclaim dropped it (allowed for an unpinned key), or a test failure.
  void GoneFromEngine(const std::string& key, const char* what);
  uint64_t NowMs() const { return env_->WallClockMs(); }
  uint64_t RandomLen();
  // A present key (empty when none), or an absent one: deleted, or new.
  std::string PickKey(bool present);
  std::string AnyKey();

  const uint64_t seed_;
  std::mt19937_64* const rng_;
  Model* const model_;
  NamespaceModel* const namespaces_;
  RunLog* const log_;
  Coverage* const coverage_;
  Engine* engine_ = nullptr;
  FaultDevice* device_ = nullptr;
  ManualEnv* env_ = nullptr;
  uint64_t next_key_ = 0;
  uint64_t next_version_ = 1;
  std::vector<OpenPut> open_puts_;
};

}  // namespace ctxstore::engine::crash_sim
