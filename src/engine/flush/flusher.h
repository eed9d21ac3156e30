// The flusher: drains the FlushQueue to flash in commit order. It writes
// batches through a SegmentWriter, fdatasyncs when someone waits (a sync
// write, a FLUSH, a PUT waiting for DRAM) and at least every
// sync_interval_ms, rolls to a new segment when one is full, writes records
// that failed again after a backoff, and writes an index checkpoint every
// checkpoint_interval_ms and on Close.
//
// Writing and syncing overlap by one batch: the sync that makes batch N
// durable runs on the Syncer while batch N+1 is written, and the flusher
// waits for it once that write is done. Records count as durable, and their
// waiters are answered (in order), only when a sync that began after they
// were written has succeeded; a failed sync gives up on everything written
// to the segment since its last good one, batch N+1 included.
//
// Its work is a step function, RunOnce(): one unit of work (a batch, a
// sync, a checkpoint) and whether there was any. A thread (Start) is only a
// driver that waits for work and steps; with no thread the caller steps it,
// so a simulation can interleave it with the engine's calls one step at a
// time. Every time it reads comes from the Env.
//
// What it needs of the index and the segment list it asks the engine
// through FlusherHost.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/env.h"
#include "common/mutex.h"
#include "ctxstore/status.h"
#include "engine/flash/checkpoint.h"
#include "engine/flash/device.h"
#include "engine/flash/segment.h"
#include "engine/flash/segment_writer.h"
#include "engine/flush/flush_queue.h"
#include "engine/flush/syncer.h"
#include "engine/index/entry.h"

namespace ctxstore::engine {

// The engine's side of the flusher. The Locked calls are made with the
// engine's mutex held.
class FlusherHost {
 public:
  virtual ~FlusherHost() = default;

  // The seq of the index's current version of index_key; none when absent.
  virtual std::optional<uint64_t> CurrentSeqLocked(std::string_view index_key) = 0;
  // item's record is synced: its entry is durable (clean, on flash).
  virtual void MarkDurableLocked(const FlushItem& item) = 0;
  enum class Retry { kDrop, kLost, kWriteAgain };
  // item's record did not become durable. kWriteAgain when it still matters
  // (a put's value is then pinned into item.block again); while closing,
  // kLost for what must be given up.
  virtual Retry PrepareRetryLocked(FlushItem& item, bool closing) = 0;
  // Expired objects, lapsed leases and pins; every ~100 ms.
  virtual void SweepExpiredLocked() = 0;
  // The index's durable entries for a checkpoint (and the store id and
  // the replay position when no segment is active).
  virtual void SnapshotLocked(Checkpoint* checkpoint) = 0;
  // Bytes just appended to a segment.
  virtual void AppendedLocked(uint64_t bytes) = 0;
  // A new segment with room for a record of record_len bytes (reclaiming
  // old ones as the flash budget needs). Called without the mutex.
  virtual Result<std::shared_ptr<Segment>> NewSegment(uint64_t record_len) = 0;
  // Whether a failed read marked the segment bad. Called without the mutex.
  virtual bool SegmentIsBad(uint64_t segment_id) = 0;
};

struct FlusherOptions {
  Device* device = nullptr;
  std::string data_dir;  // where the checkpoint goes
  uint64_t segment_bytes = 0;
  uint64_t sync_interval_ms = 1000;
  uint64_t checkpoint_interval_ms = 60'000;
  // With a thread: how long the flusher waits for more when it finds only
  // a few records nobody waits on (under FlushQueue::kGatherBytes), so that
  // one write carries many. 0: write at once.
  uint64_t gather_us = 1000;
  Env* env = nullptr;
};

class Flusher {
 public:
  // mu is the engine's mutex, which guards queue.
  Flusher(Mutex* mu, FlushQueue* queue, FlusherHost* host, const FlusherOptions& options);
  ~Flusher();  // joins the thread; the engine has stopped it (queue->stopping)
  Flusher(const Flusher&) = delete;
  Flusher& operator=(const Flusher&) = delete;

  // Starts the schedules (sync, checkpoint) from now, and with thread, a
  // thread that runs the flusher until queue->stopping and finished().
  void Start(bool thread) EXCLUDES(mu_);
  // One unit of work; false when there was none to do now. Without a
  // thread, the caller's way to run the flusher.
  bool RunOnce() EXCLUDES(mu_);
  // Without a thread: one step for a caller that waits on the flusher (a
  // sync write, a FLUSH). When there is none it may take yet (a backoff
  // after a failed write), lets the time pass that the thread would have
  // waited, through the Env: a manual clock then moves, instead of the
  // caller spinning on a clock that never does.
  void RunOnceForWaiter() EXCLUDES(mu_);
  // Stopping, and everything is written, synced and checkpointed.
  bool finished() const EXCLUDES(mu_);
  // Asks for a checkpoint now and waits for it (steps the flusher itself
  // when it has no thread); kUnavailable once stopping.
  Status WriteCheckpointNow() EXCLUDES(mu_);
  void Join();

 private:
  void ThreadMain() EXCLUDES(mu_);
  bool HasWorkLocked(uint64_t now_ms) const REQUIRES(mu_);
  void WaitForWorkLocked() REQUIRES(mu_);
  // Waits up to options_.gather_us while GatherDoneLocked is false.
  void GatherLocked() REQUIRES(mu_);
  bool GatherDoneLocked() const REQUIRES(mu_);
  bool RunOnceLocked() REQUIRES(mu_);
  void RunOnceForWaiterLocked() REQUIRES(mu_);
  bool WriteQueuedLocked(uint64_t now_ms, bool checkpoint_due) REQUIRES(mu_);
  // False on a device failure.
  bool WriteAndCompleteBatch(std::vector<FlushItem>& batch) EXCLUDES(mu_);
  Status AppendBatch(std::vector<FlushItem>& batch) EXCLUDES(mu_);
  // What the last Append wrote: not durable until the next sync.
  void AddUnsyncedLocked(std::vector<FlushItem>& batch, size_t from, size_t to, uint64_t bytes)
      REQUIRES(mu_);
  Status RollSegment(uint64_t record_len) EXCLUDES(mu_);
  // Makes everything written so far durable: waits for the sync in flight,
  // then syncs what was written since it began.
  Status SyncActive() EXCLUDES(mu_);
  // Begins a sync of the active segment covering every record written so
  // far; waiters are answered when it ends (at once when nothing is
  // unsynced). None may be in flight.
  void BeginSync(std::vector<FlushItem> waiters) EXCLUDES(mu_);
  // Waits for the sync in flight, if any: on success its records become
  // durable, on failure the segment is abandoned; either way its waiters
  // are answered. Its result (Ok when none was in flight).
  Status FinishSync() EXCLUDES(mu_);
  // A failed write or sync is fatal for the segment: it is never written
  // again, and nothing in it since its last good sync is trusted. Those
  // records are written again, to a new segment. Waits for a sync in flight
  // first (it may make older records durable).
  void AbandonActive(const Status& why) EXCLUDES(mu_);
  // With no sync in flight; the waiters of the records given up on are
  // added to *failed (to be answered with why, outside the mutex).
  void AbandonActiveLocked(const Status& why, std::vector<FlushItem>* failed) REQUIRES(mu_);
  void RetryLocked(FlushItem item) REQUIRES(mu_);
  // After a batch was written (status: how): drops its hold on the values
  // and re-queues what was not written. Returns its waiters.
  std::vector<FlushItem> ReleaseBatch(std::vector<FlushItem>& batch, const Status& status)
      EXCLUDES(mu_);
  // What a barrier's answer depends on besides the sync: whether a write
  // queued before it was still waiting to be written again, and how many
  // were given up on. Taken when its sync begins: a retry written after
  // that is not covered by it.
  struct RetryView {
    bool behind = false;
    uint64_t lost_writes = 0;
  };
  RetryView RetryViewLocked() const REQUIRES(mu_);
  // Answers waiters with status; a barrier also fails when view says a
  // write before it is still being retried or was given up on.
  void AnswerWaiters(std::vector<FlushItem>& waiters, const Status& status, const RetryView& view);
  // The same, with the view now.
  void AnswerWaiters(std::vector<FlushItem>& waiters, const Status& status) EXCLUDES(mu_);
  void CheckpointLocked() REQUIRES(mu_);
  Status WriteCheckpointLocked() REQUIRES(mu_);
  void FinishCheckpointRequestLocked(const Status& st) REQUIRES(mu_);
  void TrimHeapLocked(uint64_t now_ms) REQUIRES(mu_);
  void ResumeCommitsLocked() REQUIRES(mu_);

  Mutex* const mu_;
  FlushQueue* const queue_ PT_GUARDED_BY(mu_);
  FlusherHost* const host_;
  const FlusherOptions options_;
  Env* const env_;
  SegmentWriter writer_;
  Syncer syncer_;
  bool finished_ GUARDED_BY(mu_) = false;

  // Touched only by whoever runs the flusher (its thread, or the caller
  // of RunOnce), so no lock: the segment appended to, the records appended
  // to it since the last sync began (no value or callback), and those the
  // sync in flight covers with the waiters it answers.
  std::shared_ptr<Segment> active_;
  std::vector<FlushItem> unsynced_;
  std::vector<FlushItem> syncing_;
  std::vector<FlushItem> syncing_waiters_;
  RetryView syncing_view_;
  bool wrote_during_sync_ = false;  // a batch was written while the sync in flight ran
  uint64_t backoff_ms_ = 0;         // after a failed batch: 50 ms doubling to 2 s
  uint64_t backoff_until_ms_ = 0;   // no batch before this (Env::MonotonicMs)
  uint64_t last_sync_ms_ = 0;
  uint64_t last_checkpoint_ms_ = 0;
  uint64_t last_sweep_ms_ = 0;
  uint64_t last_heap_trim_ms_ = 0;
  bool threaded_ = false;  // Start(true)
  std::thread thread_;
};

}  // namespace ctxstore::engine
