// What the engine has committed and the flusher has not yet written, in
// commit order, and the signals the two exchange about it. The engine queues
// (a put, a tombstone, a barrier for FLUSH) in the same critical section that
// changes the index, so that the flash log's order is the index's; the
// flusher (flusher.h) drains it.
//
// Not thread-safe by itself: the engine's mutex guards it (the engine
// declares it GUARDED_BY its mutex, the flusher PT_GUARDED_BY the same one).
// The condition variables are waited on with that mutex.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "common/mutex.h"
#include "ctxstore/status.h"
#include "engine/index/entry.h"

namespace ctxstore::engine {

class FlushQueue {
 public:
  // A batch the flusher writes at once: at most this many items and about
  // this many value bytes.
  static constexpr size_t kMaxBatchItems = 256;
  static constexpr uint64_t kMaxBatchBytes = 64ull << 20;
  // While the flusher gathers a batch (flusher_gathering), a push wakes it
  // only when it needs a write at once (a waiter for durability) or when
  // this many value bytes are queued.
  static constexpr uint64_t kGatherBytes = 1ull << 20;

  // flusher_thread: a thread runs the flusher (else the caller steps it).
  explicit FlushQueue(bool flusher_thread = true) : flusher_thread_(flusher_thread) {}

  // Sequence numbers order every put and tombstone; a barrier covers
  // exactly the writes with a lower one.
  uint64_t next_seq() const { return next_seq_; }
  uint64_t TakeSeq() { return next_seq_++; }
  void set_next_seq(uint64_t seq) { next_seq_ = seq; }  // at recovery

  // Queues item (a barrier gets next_seq()) and wakes the flusher.
  void Push(FlushItem item);
  // Queues a barrier: on_durable runs once every write queued before it is
  // durable, or with kIoError when one of them failed or was given up.
  void PushBarrier(DurableCallback on_durable);
  // Puts back, at the end, a record that did not become durable.
  void PushRetry(FlushItem item);
  bool empty() const { return items_.empty(); }

  // The index's current version of a key: its seq, or none when absent.
  using CurrentSeqFn = std::function<std::optional<uint64_t>(std::string_view index_key)>;
  // Takes the next batch off the front, in order. A queued version that a
  // newer put or a delete replaced before it was written is dropped (and
  // counted in writes_coalesced), unless a barrier queued between the two
  // promised it durable.
  std::vector<FlushItem> TakeBatch(const CurrentSeqFn& current_seq);

  // Signals between the engine and the flusher.
  CondVar work_cv;        // the flusher may have work
  CondVar space_cv;       // DRAM may have become evictable (synced, or a batch done)
  CondVar resume_cv;      // commits may go on (commits_paused cleared)
  CondVar checkpoint_cv;  // a requested checkpoint finished

  bool stopping = false;  // Close: drain, sync, checkpoint, then stop
  // A checkpoint needs a moment with nothing queued or unsynced: while the
  // flusher drains for one, commits wait (WaitWhileCommitsPaused).
  bool commits_paused = false;
  // At most 2 s, so that a checkpoint can delay writers but never stall
  // them; not at all without a flusher thread (nothing would resume them).
  // mu is the mutex that guards this queue.
  void WaitWhileCommitsPaused(Mutex* mu) REQUIRES(mu);
  uint64_t space_waiters = 0;  // puts waiting for DRAM: sync without delay
  // Value bytes queued, and queued items someone waits on (a sync write, a
  // barrier): what the flusher's gathering waits for.
  uint64_t queued_bytes = 0;
  uint64_t queued_waited = 0;
  bool flusher_gathering = false;  // the flusher waits for a larger batch
  uint64_t lost_writes = 0;        // records given up on (failures while closing)
  uint64_t retries_queued = 0;     // re-queued records not yet written again
  uint64_t changes_since_checkpoint = 0;
  // Items queued since the flusher last returned free heap to the OS.
  uint64_t queued_since_heap_trim = 0;
  // WriteCheckpointNow: a request, and the result of the last one.
  bool checkpoint_requested = false;
  uint64_t checkpoint_generation = 0;
  Status checkpoint_result;

  // The flusher's counters (AddCounters reports them).
  void AddCounters(EngineStats* stats) const;
  uint64_t writes_coalesced = 0;          // queued versions never written
  uint64_t write_retries = 0;             // records written again after their segment failed
  uint64_t sealed_records = 0;            // records written sealed (encrypted)
  uint64_t write_io_errors = 0;           // failed writes and syncs (segments abandoned)
  uint64_t flush_batches = 0;             // batches written (or tried)
  uint64_t writes_during_sync = 0;        // batches written while a sync ran
  uint64_t syncs_failed_after_write = 0;  // failed syncs that a batch was written during

 private:
  bool Superseded(const FlushItem& item, const CurrentSeqFn& current_seq) const;
  // Adds (sign +1) or removes (-1) item from queued_bytes and queued_waited.
  void Count(const FlushItem& item, int sign);

  const bool flusher_thread_;
  std::deque<FlushItem> items_;
  uint64_t next_seq_ = 1;
  // next_seq_ when each queued barrier was queued, oldest first.
  std::deque<uint64_t> barrier_seqs_;
};

}  // namespace ctxstore::engine
