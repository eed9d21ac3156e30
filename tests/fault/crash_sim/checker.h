// After a recovery: every key of the model against what the engine serves.
//   - a value that is served is byte for byte one that was put for the key
//     (always, whatever was injected);
//   - it is the newest durable one or a later one, and a key whose newest
//     durable mutation is a put is present: a crash loses nothing that was
//     acknowledged and brings nothing older back (a crash loss: a test
//     failure);
//   - a key that an injected fault damaged may be absent, CORRUPT or older:
//     counted as lost to injected faults, not as a failure;
//   - an expired object is never served, and may be absent; with flash
//     reclaim on, an unpinned object may be absent (reclaimed), a pinned
//     one must be there;
//   - the engine holds no object the model does not (the object count; an
//     expired one not yet swept may still count);
//   - the flash accounting: the engine's flash bytes and segment count are
//     those of the segment files on the device;
//   - the catalog holds an acknowledged namespace setting, or a later one.
// What came back becomes every key's durable starting point (Model::Rebase).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "crash_sim/coverage.h"
#include "crash_sim/model.h"
#include "crash_sim/run_log.h"
#include "engine/engine.h"
#include "testing/fault_device.h"

namespace ctxstore::engine::crash_sim {

class Checker {
 public:
  Checker(uint64_t seed, Model* model, RunLog* log, Coverage* coverage)
      : seed_(seed), model_(model), log_(log), coverage_(coverage) {}

  // What each key came back as (a version, or none), for Model::Rebase.
  using Recovered = std::map<std::string, std::optional<uint64_t>>;
  Recovered Check(Engine& engine, FaultDevice& device, uint64_t now_ms);
  // The engine's flash bytes and segments against the files in data_dir
  // on base (the device under the FaultDevice).
  void CheckFlash(Engine& engine, Device& base, const std::string& data_dir);
  // The catalog: the namespace setting the workload changes, and the
  // encryption key it must keep.
  void CheckCatalog(Engine& engine, const std::string& encryption_key);

 private:
  // What a read of key returned: a version, none, or (false) a failure.
  bool Read(Engine& engine, FaultDevice& device, const std::string& key,
            std::optional<uint64_t>* seen, bool* fault_detected);

  const uint64_t seed_;
  Model* const model_;
  RunLog* const log_;
  Coverage* const coverage_;
};

}  // namespace ctxstore::engine::crash_sim
