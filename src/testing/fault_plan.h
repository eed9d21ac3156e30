// The random faults a FaultDevice injects besides power loss, and how it
// reports them. Four kinds damage data without an error: the engine finds
// out only through its checksums.
//   - a corrupted read: the bytes a read returns have one bit flipped (the
//     file itself is intact; reading again gives the right bytes);
//   - a misdirected write: the write reports success, but its bytes land
//     at another block-aligned offset of the same file or of another
//     eligible file (overwriting what was there), while the intended place
//     keeps its old bytes (zeros where the file had none);
//   - a lost write: the write reports success, but its bytes never reach
//     the media (the place keeps its old bytes; zeros where it had none);
//   - bit rot: after a successful sync, one bit of what some eligible file
//     holds synced flips at rest (found by a later read or recovery).
// Four kinds report an error, and the engine must not acknowledge what they
// touched:
//   - a failed sync (a file's Sync or a SyncDir): EIO, and what it was to
//     make durable was made durable or not (drawn);
//   - a torn write: a prefix of whole 512-byte sectors lands, then EIO;
//   - a failed write: EIO, nothing lands;
//   - a full device: a write fails with ENOSPC, nothing lands.
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
  // One eligible write in this many is lost; 0: none.
  uint64_t lost_write_one_in = 0;
  // After one successful Sync of an eligible file in this many, a bit of
  // an eligible file's synced bytes flips, at or after bit_rot_from_bytes.
  uint64_t bit_rot_one_in = 0;
  uint64_t bit_rot_from_bytes = 0;
  // The files the silent faults above may touch (read, write, land in,
  // rot), by path; null: every file.
  std::function<bool(const std::string& path)> eligible;

  // One Sync or SyncDir in this many fails; 0: none.
  uint64_t failed_sync_one_in = 0;
  // One write in this many is torn; 0: none.
  uint64_t torn_write_one_in = 0;
  // One write in this many fails whole with EIO / with ENOSPC; 0: none.
  uint64_t write_error_one_in = 0;
  uint64_t no_space_one_in = 0;
  // The files (and directories) the failing kinds may hit; null: every one.
  std::function<bool(const std::string& path)> fails_eligible;
};

enum class FaultEventKind {
  kCorruptRead,      // offset: the byte whose bit flipped (length 1)
  kMisdirectedFrom,  // the intended range; data: the bytes that did not land there
  kMisdirectedTo,    // the range the bytes landed on, before they overwrite it
  kLostWrite,        // the range that was not written; data: the bytes that were lost
  kBitRot,           // offset: the byte whose bit flips (length 1), before it does
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
