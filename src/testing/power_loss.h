// What a power loss keeps of a file: everything up to its size at its last
// successful sync survives; what was written after that (the unsynced tail)
// may be lost whole, survive as a torn prefix, or survive block by block in
// any order (the page cache writes back in no particular order). Applied
// through the Device interface only, so that it works on the POSIX device
// and on the in-memory one alike.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "ctxstore/status.h"
#include "engine/flash/device.h"

namespace ctxstore::engine {

enum class CrashTail {
  kDrop,        // the unsynced tail is lost
  kTornPrefix,  // a prefix of whole 512-byte sectors survives; its last sector may be garbage
  kScattered,   // each 4 KiB block of the tail survives or not on its own; a lost block
                // before a surviving one reads as zeros
  kAny,         // one of the three, drawn per file
};

const char* CrashTailName(CrashTail tail);

// What ApplyPowerLoss did to one file, for the simulator's coverage counts.
struct PowerLossOutcome {
  uint64_t tail_bytes = 0;  // unsynced bytes before the loss
  uint64_t kept_bytes = 0;  // of those, what the file still holds
  bool garbage = false;     // a torn prefix ends in a garbage sector
};

// Applies a power loss to the file at path on base, whose first
// synced_size bytes were synced; draws from rng. A missing file is left
// alone (it was removed).
Result<PowerLossOutcome> ApplyPowerLoss(Device* base, const std::string& path, uint64_t synced_size,
                                        CrashTail tail, std::mt19937_64& rng);

}  // namespace ctxstore::engine
