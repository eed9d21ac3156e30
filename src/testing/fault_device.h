// A Device that wraps another and injects faults, for deterministic tests:
//   - power loss: Crash() now, or CrashAtOp(n) at the n-th mutating
//     operation from now (a write, sync, create, rename, remove, directory
//     sync; that operation lands or not, seeded, and fails). Afterwards
//     every operation fails with EIO, and each file keeps what a power loss
//     keeps of it (power_loss.h: the synced part; of the unsynced tail
//     nothing, a torn prefix, or scattered blocks, seeded).
//   - random faults (fault_plan.h): corrupted reads, misdirected and lost
//     writes, bit rot (reported to a FaultObserver), failed syncs, torn
//     and failed writes (reported to the caller as EIO) and writes that
//     find the device full (ENOSPC).
//   - a slow device: HoldWrites() makes every write wait until ReleaseWrites().
//   - scripted failures: the next N writes / syncs / reads of files whose
//     path contains a substring fail with EIO or ENOSPC, or a write is torn
//     (only a prefix reaches the file, then EIO).
// Everything goes through the base Device, so the base may be the POSIX
// device or the in-memory one (mem_device.h). Files are append-mostly in
// this engine, so "unsynced data" is tracked as the range of each file above
// its size at the last successful Sync(). Names (create, rename, remove) are
// durable only after a successful SyncDir of their directory: a power cut
// undoes the pending ones, or the newest of them (name_journal.h). Every
// operation is logged into a digest (device_log.h).
// Thread-safe; with one thread, a seed repeats bit for bit.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "engine/flash/device.h"
#include "testing/device_log.h"
#include "testing/fault_plan.h"
#include "testing/name_journal.h"
#include "testing/power_loss.h"

namespace ctxstore::engine {

enum class FaultKind {
  kIoError,    // the operation fails with EIO, nothing written
  kNoSpace,    // the operation fails with ENOSPC, nothing written
  kTornWrite,  // a write: a prefix of the data (multiple of 512 bytes) lands, then EIO
};

enum class FaultOp { kWrite, kSync, kRead, kOpenCreate };

// Where a CrashAtOp power loss fell.
struct CrashPoint {
  uint64_t op_index = 0;  // among the device's mutating operations, from 1
  DeviceOp op = DeviceOp::kWrite;
  std::string path;
  bool landed = false;  // the operation took effect before the power went
};

// Counts of what the device injected.
struct FaultCounts {
  uint64_t corrupt_reads = 0;
  uint64_t misdirected_writes = 0;
  uint64_t torn_tails = 0;     // files whose unsynced tail kept some bytes at a crash
  uint64_t dropped_tails = 0;  // files whose unsynced tail was lost whole
  uint64_t names_undone = 0;   // creates, renames and removes a crash undid (no SyncDir yet)
  uint64_t lost_writes = 0;
  uint64_t bit_rot = 0;
  uint64_t failed_syncs = 0;  // random ones (files and directories)
  uint64_t torn_writes = 0;   // random ones
  uint64_t write_errors = 0;  // random writes failed whole with EIO
  uint64_t no_space = 0;      // random writes failed whole with ENOSPC
};

class FaultDevice : public Device {
 public:
  // base must outlive this device.
  FaultDevice(Device* base, uint64_t seed);
  ~FaultDevice() override;

  // Scripted faults: the next `count` operations of kind op on files whose
  // path contains path_substring ("" = any) fail as `kind`.
  void InjectFault(FaultOp op, FaultKind kind, const std::string& path_substring, int count = 1);
  void ClearFaults();

  // Random faults from now on; observer (may be null) hears of each.
  void SetFaultPlan(FaultPlan plan, FaultObserver* observer);

  // Writes wait (blocked in WriteV) from HoldWrites() until ReleaseWrites().
  void HoldWrites();
  void ReleaseWrites();
  int writes_waiting() const;  // blocked by HoldWrites() right now

  // Simulates power loss now: afterwards every operation fails with EIO,
  // and every file keeps what tail says of its unsynced part.
  void Crash(CrashTail tail);
  // kTornPrefix with keep_torn_prefix, else kDrop.
  void Crash(bool keep_torn_prefix) {
    Crash(keep_torn_prefix ? CrashTail::kTornPrefix : CrashTail::kDrop);
  }
  // Power loss at the n-th (n >= 1) mutating operation from now.
  void CrashAtOp(uint64_t n, CrashTail tail);
  bool crashed() const;
  std::optional<CrashPoint> crash_point() const;  // set when CrashAtOp fired

  // Counters for assertions.
  uint64_t writes() const;
  uint64_t syncs() const;
  uint64_t injected_faults() const;  // scripted ones
  uint64_t mutating_ops() const;
  FaultCounts fault_counts() const;
  const DeviceLog& log() const { return log_; }  // read it while the device is idle

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
  // Returns the fault to inject for this op on path, consuming one count.
  bool TakeFault(FaultOp op, const std::string& path, FaultKind* kind);
  // Counts a mutating operation; true when the power goes out at it. Then
  // *lands says whether it takes effect first; the caller does it (or not)
  // and calls CrashLocked.
  bool AtCrashPointLocked(DeviceOp op, const std::string& path, bool* lands);
  void CrashLocked(CrashTail tail);
  Status OpenLocked(const std::string& path, const OpenOptions& opts, std::unique_ptr<File>* file);
  // The random faults (random_faults.cc): whether this operation is hit,
  // by a silent fault or by a failing one.
  bool DrawFaultLocked(uint64_t one_in, const std::string& path);
  bool DrawFailLocked(uint64_t one_in, const std::string& path);
  void CorruptReadLocked(const std::string& path, uint64_t offset, std::span<uint8_t> bytes);
  Status MisdirectLocked(const std::string& path, uint64_t offset, std::span<const iovec> buffers);
  Status LoseWriteLocked(const std::string& path, uint64_t offset, std::span<const iovec> buffers);
  // After a successful sync: maybe a bit of some eligible file rots.
  void MaybeRotLocked(const std::string& synced_path);
  // Zeros from the end of path's file up to end (blocks a write allocated
  // but did not fill).
  Status ZeroExtendLocked(const std::string& path, uint64_t end);
  // Writes through the base with a buffered open (any alignment).
  Status WriteBaseLocked(const std::string& path, uint64_t offset, std::span<const iovec> buffers);
  uint64_t BaseSizeLocked(const std::string& path);

  Device* base_;
  mutable std::mutex mu_;
  std::mt19937_64 rng_;       // torn writes, power loss
  std::mt19937_64 plan_rng_;  // random faults and crash points
  std::vector<Rule> rules_;
  TrackedFiles files_;  // ordered: crashes draw in path order
  NameJournal names_;   // name changes not yet made durable by SyncDir
  bool crashed_ = false;
  bool hold_writes_ = false;
  int writes_waiting_ = 0;
  std::condition_variable writes_released_;
  uint64_t writes_ = 0, syncs_ = 0, injected_ = 0;
  uint64_t mutating_ops_ = 0;
  uint64_t crash_at_op_ = 0;  // 0: none armed
  CrashTail crash_at_tail_ = CrashTail::kDrop;
  std::optional<CrashPoint> crash_point_;
  FaultPlan plan_;
  FaultObserver* observer_ = nullptr;
  FaultCounts counts_;
  DeviceLog log_;
};

}  // namespace ctxstore::engine
