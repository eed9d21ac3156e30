// The storage engine: an index of immutable objects over a DRAM tier (one
// arena) and a flash tier (append-only segments), with write-behind,
// durability on demand, LRU eviction from DRAM, FIFO reclaim of flash, and
// recovery from a checkpoint plus a scan. Knows nothing of sockets.
//
// Write path: BeginPut reserves an arena block (evicting clean objects if
// needed); the caller fills it (the server receives straight into it);
// CommitPut makes the object visible and queues it for the flusher thread,
// which writes records with O_DIRECT from the arena and fdatasyncs when a
// sync PUT or FLUSH waits (and at least every sync_interval_ms).
//
// Read path: a DRAM hit hands out a reference to the arena block; a
// flash-only object is read with O_DIRECT into a new arena block (promoting
// it), checked against its XXH3, and only then handed out.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ctxstore/status.h"
#include "engine/arena.h"
#include "engine/device.h"
#include "engine/entry.h"
#include "engine/segment.h"

namespace ctxstore::engine {

struct EngineOptions {
  std::string data_dir = "data";
  uint64_t memory_bytes = 1ull << 30;  // DRAM arena
  uint64_t disk_bytes = 4ull << 30;    // flash budget over all segments
  uint64_t segment_bytes = 0;          // 0: disk_bytes / 16, within [1 MiB, 256 MiB]
  uint64_t max_value_bytes = 256ull << 20;
  uint64_t sync_interval_ms = 1000;  // bound on how long written data stays unsynced
  uint64_t checkpoint_interval_ms = 60'000;
  uint64_t space_wait_ms = 5'000;  // how long a PUT waits for DRAM to drain to flash
  Device* device = nullptr;        // nullptr: the POSIX device
};

struct WriteOptions {
  bool sync = false;       // acknowledge only once on flash and fdatasync'ed
  bool overwrite = false;  // replace instead of answering kExists
};

struct EngineStats {
  uint64_t objects = 0;
  uint64_t dram_objects = 0;
  uint64_t dram_bytes = 0;  // arena bytes in use
  uint64_t dram_capacity_bytes = 0;
  uint64_t dirty_objects = 0;  // in DRAM, not yet written to flash
  uint64_t flash_objects = 0;
  uint64_t flash_bytes = 0;  // bytes of all segment files
  uint64_t flash_capacity_bytes = 0;
  uint64_t flash_segments = 0;
  uint64_t hits_dram = 0;
  uint64_t hits_flash = 0;
  uint64_t misses = 0;
  uint64_t puts = 0;
  uint64_t deletes = 0;
  uint64_t evictions_dram = 0;
  uint64_t reclaimed_segments = 0;
  uint64_t reclaimed_objects = 0;        // lost from flash by reclaim while not in DRAM
  uint64_t corrupt_records_skipped = 0;  // found by recovery
  uint64_t torn_records_skipped = 0;     // found by recovery
  uint64_t corrupt_reads = 0;            // checksum failures on GET from flash
  uint64_t io_errors = 0;
  uint64_t write_retries = 0;  // records written again after their segment failed
  uint64_t recovered_objects = 0;
  uint64_t recovery_ms = 0;
  bool recovered_from_checkpoint = false;
};

// The bytes of a value, kept alive (and unevictable from under the holder)
// for as long as this is held.
struct ValueRef {
  std::shared_ptr<const void> owner;
  const uint8_t* data = nullptr;
  uint64_t size = 0;
  uint64_t xxh3 = 0;
  std::span<const uint8_t> bytes() const { return {data, size}; }
};

// An arena block reserved for a value that is being received.
class PutReservation {
 public:
  PutReservation() = default;
  std::span<uint8_t> buffer() const { return {block_ ? block_->data() : nullptr, value_len_}; }
  uint64_t value_len() const { return value_len_; }

 private:
  friend class Engine;
  std::string key_;
  uint64_t value_len_ = 0;
  WriteOptions opts_;
  std::shared_ptr<ArenaBlock> block_;
};

// Called once a sync write or a flush is durable (or failed), on the
// flusher thread: it must not block.
using DurableCallback = std::function<void(Status)>;

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Writes out everything, syncs, checkpoints the index and stops the
  // flusher. Later calls fail with kUnavailable. Idempotent.
  Status Close();

  // kExists early when the key is present and !overwrite (the caller then
  // discards the value); kTooLarge over max_value_bytes; kNoSpace when DRAM
  // holds only unwritten data for longer than space_wait_ms.
  Result<PutReservation> BeginPut(std::string_view key, uint64_t value_len,
                                  const WriteOptions& opts);
  // Makes the filled reservation visible. For a sync write, on_durable runs
  // once the record is synced (or failed); otherwise it is never called.
  Status CommitPut(PutReservation reservation, DurableCallback on_durable);
  // BeginPut + copy + CommitPut, waiting for durability when opts.sync.
  Status Put(std::string_view key, std::span<const uint8_t> value, const WriteOptions& opts);

  Result<ValueRef> Get(std::string_view key);
  Result<uint64_t> Exists(std::string_view key);  // the value length
  // Number of leading keys present.
  uint32_t MatchPrefix(std::span<const std::string_view> keys);

  Status Delete(std::string_view key, bool sync, DurableCallback on_durable);
  Status Delete(std::string_view key, bool sync);  // waits when sync

  // on_durable runs once everything committed before is synced.
  void Flush(DurableCallback on_durable);
  Status Flush();  // waits
  // Writes an index checkpoint now (after a flush). For tests and operators.
  Status WriteCheckpointNow();

  EngineStats Stats() const;
  const EngineOptions& options() const { return options_; }

 private:
  explicit Engine(const EngineOptions& options);
  Status Recover();
  // Makes *it a flash-only entry for a record found at recovery.
  void InstallFlashOnlyLocked(Index::iterator it, uint64_t seq, uint64_t value_len,
                              uint64_t value_xxh3, uint64_t created_ms, uint64_t expires_ms,
                              uint64_t segment_id, uint64_t offset);
  void ApplyRecovered(const std::string& key, const RecordHeader& h, uint64_t segment_id,
                      uint64_t offset);

  // DRAM tier (mu_ held).
  std::shared_ptr<ArenaBlock> AllocateLocked(uint64_t bytes, std::unique_lock<std::mutex>& lock,
                                             bool wait);
  void EraseLocked(Index::iterator it);
  void SetDramLocked(Entry& e, std::shared_ptr<ArenaBlock> block);
  void SetFlashLocked(Entry& e, uint64_t segment_id, uint64_t offset);
  void ClearFlashLocked(Entry& e);
  bool ExpiredLocked(const Entry& e) const;

  // Flusher thread (flusher.cc).
  void FlusherLoop();
  void Enqueue(FlushItem item);
  void EnqueueTombstoneLocked(std::string_view key, DurableCallback on_durable);
  bool WriteBatch(std::vector<FlushItem>& batch);  // false on a device failure
  void RetryLocked(FlushItem item);
  void MarkDurableLocked(const FlushItem& item);
  void WaitWhileCommitsPausedLocked(std::unique_lock<std::mutex>& lock);
  Status AppendBatch(std::vector<FlushItem>& batch);
  Status RollSegment(uint64_t record_len);
  void ReclaimOldestLocked(std::unique_lock<std::mutex>& lock);
  Status SyncActive();
  void AbandonActive(const Status& why);
  void CompleteBatch(std::vector<FlushItem>& batch, const Status& status);
  Status WriteCheckpointLocked(std::unique_lock<std::mutex>& lock);
  void FinishCheckpointRequestLocked(const Status& st);

  EngineOptions options_;
  std::unique_ptr<Device> owned_device_;
  Device* device_ = nullptr;
  std::unique_ptr<Arena> arena_;
  uint64_t store_id_ = 0;

  std::mutex close_mu_;
  mutable std::mutex mu_;  // guards everything below
  Index index_;
  EntryList lru_;  // resident, clean entries; front = most recent
  std::map<uint64_t, std::shared_ptr<Segment>> segments_;
  uint64_t next_seq_ = 1;
  uint64_t next_segment_id_ = 1;
  uint64_t flash_bytes_ = 0;
  bool closed_ = false;
  EngineStats stats_;
  std::condition_variable space_cv_;  // DRAM may have become evictable

  // Flusher state (queue under mu_; active segment only touched by the flusher).
  std::deque<FlushItem> queue_;
  std::condition_variable flush_cv_;
  bool stop_flusher_ = false;
  std::shared_ptr<Segment> active_;
  // Records appended to active_ since its last sync (no value or callback).
  std::vector<FlushItem> unsynced_;
  std::unordered_map<std::string, uint64_t> recovery_tombstones_;  // key -> seq, during Recover()
  uint64_t retries_queued_ = 0;  // re-queued records not yet written again
  uint64_t space_waiters_ = 0;   // puts waiting for DRAM: sync without delay
  bool commits_paused_ = false;  // the flusher drains the queue for a checkpoint
  std::condition_variable resume_cv_;
  uint64_t last_sync_ms_ = 0;
  uint64_t last_checkpoint_ms_ = 0;
  uint64_t changes_since_checkpoint_ = 0;
  uint64_t lost_writes_ = 0;           // records given up on (failures while closing)
  bool checkpoint_requested_ = false;  // WriteCheckpointNow waits on checkpoint_cv_
  uint64_t checkpoint_generation_ = 0;
  Status checkpoint_result_;
  std::condition_variable checkpoint_cv_;
  std::thread flusher_;
};

}  // namespace ctxstore::engine
