// A Device that wraps another and injects faults, for deterministic tests:
//   - Crash(): every later operation fails with EIO (the process "died"), and
//     each file loses what was written since its last Sync(), optionally
//     keeping a torn prefix of that unsynced tail (seeded, reproducible).
//   - a slow device: HoldWrites() makes every write wait until ReleaseWrites().
//   - scripted failures: the next N writes / syncs / reads of files whose
//     path contains a substring fail with EIO or ENOSPC, or a write is torn
//     (only a prefix reaches the file, then EIO).
// Files are append-mostly in this engine, so "unsynced data" is tracked as
// the range of each file above its size at the last successful Sync().
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "engine/flash/device.h"

namespace ctxstore::engine {

enum class FaultKind {
  kIoError,    // the operation fails with EIO, nothing written
  kNoSpace,    // the operation fails with ENOSPC, nothing written
  kTornWrite,  // a write: a prefix of the data (multiple of 512 bytes) lands, then EIO
};

enum class FaultOp { kWrite, kSync, kRead, kOpenCreate };

class FaultDevice : public Device {
 public:
  // base must outlive this device.
  FaultDevice(Device* base, uint64_t seed);
  ~FaultDevice() override;

  // Scripted faults: the next `count` operations of kind op on files whose
  // path contains path_substring ("" = any) fail as `kind`.
  void InjectFault(FaultOp op, FaultKind kind, const std::string& path_substring, int count = 1);
  void ClearFaults();

  // Writes wait (blocked in WriteV) from HoldWrites() until ReleaseWrites().
  void HoldWrites();
  void ReleaseWrites();
  int writes_waiting() const;  // blocked by HoldWrites() right now

  // Simulates power loss: afterwards every operation fails with EIO. Unsynced
  // tails are truncated away; with keep_torn_prefix a seeded random prefix
  // (multiple of 512 bytes) of each unsynced tail survives instead, and its
  // last 512-byte block may be garbage.
  void Crash(bool keep_torn_prefix);
  bool crashed() const;

  // Counters for assertions.
  uint64_t writes() const;
  uint64_t syncs() const;
  uint64_t injected_faults() const;

  // Device
  Result<std::unique_ptr<File>> Open(const std::string& path, const OpenOptions& opts) override;
  Status Remove(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status CreateDir(const std::string& path) override;
  Status SyncDir(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& path) override;
  bool FileExists(const std::string& path) override;

 private:
  friend class FaultFile;
  struct Rule {
    FaultOp op;
    FaultKind kind;
    std::string path_substring;
    int remaining;
  };
  struct FileState {
    uint64_t synced_size = 0;  // file size at the last successful Sync()
    bool dirty = false;
  };
  // Returns the fault to inject for this op on path, consuming one count.
  bool TakeFault(FaultOp op, const std::string& path, FaultKind* kind);

  Device* base_;
  mutable std::mutex mu_;
  std::mt19937_64 rng_;
  std::vector<Rule> rules_;
  std::map<std::string, FileState> files_;
  bool crashed_ = false;
  bool hold_writes_ = false;
  int writes_waiting_ = 0;
  std::condition_variable writes_released_;
  uint64_t writes_ = 0, syncs_ = 0, injected_ = 0;
};

}  // namespace ctxstore::engine
