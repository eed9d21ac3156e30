// The random faults a FaultDevice injects besides power loss, and how it
// reports them. Both kinds damage data without an error: the engine finds
// out only through its checksums.
//   - a corrupted read: the bytes a read returns have one bit flipped (the
//     file itself is intact; reading again gives the right bytes);
//   - a misdirected write: the write reports success, but its bytes land
//     at another block-aligned offset of the same file or of another
//     eligible file (overwriting what was there), while the intended place
//     keeps its old bytes (zeros where the file had none).
// Every decision is drawn from the device's seeded stream, in the order of
// the operations, so a single-threaded run repeats bit for bit.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace ctxstore::engine {

struct FaultPlan {
  // One eligible read in this many is corrupted; 0: none.
  uint64_t corrupt_read_one_in = 0;
  // One eligible write in this many is misdirected; 0: none.
  uint64_t misdirect_write_one_in = 0;
  // The files these faults may touch (read, write, or land in), by path;
  // null: every file.
  std::function<bool(const std::string& path)> eligible;
};

enum class FaultEventKind {
  kCorruptRead,      // offset: the byte whose bit flipped (length 1)
  kMisdirectedFrom,  // the intended range; data: the bytes that did not land there
  kMisdirectedTo,    // the range the bytes landed on, before they overwrite it
};

struct FaultEvent {
  FaultEventKind kind;
  std::string path;
  uint64_t offset = 0;
  uint64_t length = 0;
  std::span<const uint8_t> data;
};

// Told of each random fault as it is injected, before it changes anything
// on the base device, so that the base still holds what the fault is about
// to destroy. Called with the FaultDevice's lock held: it may read the base
// device, never the FaultDevice.
class FaultObserver {
 public:
  virtual ~FaultObserver() = default;
  virtual void OnFault(const FaultEvent& event) = 0;
};

}  // namespace ctxstore::engine
