// How an engine is set up (Engine::Open): sizes, intervals, limits, and the
// environment it runs in (device, clocks and threads, keys).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/env.h"
#include "ctxstore/status.h"
#include "engine/flash/device.h"
#include "engine/security/encryption.h"

namespace ctxstore::engine {

struct EngineOptions {
  std::string data_dir = "data";
  uint64_t memory_bytes = 1ull << 30;  // DRAM arena
  uint64_t disk_bytes = 4ull << 30;    // flash budget over all segments
  uint64_t segment_bytes = 0;          // 0: disk_bytes / 16, within [1 MiB, 256 MiB]; at most 1 GiB
  uint64_t max_value_bytes = 256ull << 20;
  uint64_t sync_interval_ms = 1000;  // bound on how long written data stays unsynced
  uint64_t checkpoint_interval_ms = 60'000;
  // How long the flusher thread waits to gather a larger batch when it
  // finds only a few records that nobody waits on (FlusherOptions).
  uint64_t flush_gather_us = 1000;
  uint64_t space_wait_ms = 5'000;       // how long a PUT waits for DRAM to drain to flash
  std::string eviction_policy = "lru";  // per namespace, within its quota (policy.h)
  uint64_t max_lease_ms = 60'000;
  uint64_t max_leases = 100'000;          // outstanding over all clients
  uint64_t max_leased_objects = 262'144;  // objects held by all leases together
  uint64_t max_pins = 100'000;            // pin rules (keys and groups)
  Device* device = nullptr;               // nullptr: the POSIX device
  // Clocks and background threads; nullptr: Env::Default(). Tests
  // substitute clocks they control (testing/manual_env.h).
  Env* env = nullptr;
  // false: no flusher thread; the caller runs the flusher with
  // Engine::RunFlusherOnce() (a deterministic simulation). The waiting
  // calls (a sync Put or Delete, Flush(), WriteCheckpointNow, Close) then
  // run it themselves until what they wait for is done, and a PUT that
  // finds DRAM full of unwritten data fails at once instead of waiting.
  bool flusher_thread = true;
  // false: the DRAM arena's pages are faulted in on first use rather than
  // by a background thread (arena.h): for fuzzers that open an engine per
  // input.
  bool populate_dram = true;
  // Keys that namespaces may name for encryption at rest (encryption.h);
  // null: none loaded.
  std::shared_ptr<const Keyring> keyring;
};

// Fills in what follows from the other options (segment_bytes) and lowers
// max_value_bytes to what DRAM and flash can hold; kInvalid for sizes too
// small to run with. Engine::Open does this first.
Status Normalize(EngineOptions* options);

}  // namespace ctxstore::engine
