// Which keys an injected fault may have damaged. The FaultDevice reports
// each fault before it changes the base device; this observer finds the
// records the fault touches by scanning the bytes for record headers (the
// engine's own parser), and taints their keys in the model:
//   - a misdirected write: the records it should have written (they are
//     not where the engine will look) and the records it overwrote;
//   - a lost write: the records it should have written;
//   - bit rot: the record the flipped bit sits in (a read answers CORRUPT,
//     or recovery skips it, so the key may come back older or deleted);
//   - a corrupted read during recovery: the record the flipped byte sits
//     in (the scan skips it, so the key may come back older, or a deleted
//     one may come back). A corrupted read at run time needs no taint: the
//     GET that did it answers CORRUPT, and the simulator sees that.
// A tainted key is checked less strictly (model.h); every other key keeps
// the full promise.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "crash_sim/model.h"
#include "engine/flash/device.h"
#include "testing/fault_plan.h"

namespace ctxstore::engine::crash_sim {

// The user keys (of the default namespace) of the records whose header
// parses in bytes, which hold a file's content from file offset `at`, and
// that overlap [from, to). A segment's first block (its header) is skipped.
std::vector<std::string> RecordKeysOverlapping(std::span<const uint8_t> bytes, uint64_t at,
                                               uint64_t from, uint64_t to);

class TaintTracker : public FaultObserver {
 public:
  TaintTracker(Device* base, Model* model) : base_(base), model_(model) {}

  // While the engine recovers, corrupted reads change what it recovers.
  void set_recovering(bool recovering) { recovering_ = recovering; }
  void OnFault(const FaultEvent& event) override;
  uint64_t keys_tainted() const { return keys_tainted_; }

 private:
  void TaintRecordsInFile(const std::string& path, uint64_t from, uint64_t to);
  void Taint(const std::vector<std::string>& keys);

  Device* const base_;  // the device under the FaultDevice: what is really there
  Model* const model_;
  bool recovering_ = false;
  uint64_t keys_tainted_ = 0;
};

}  // namespace ctxstore::engine::crash_sim
