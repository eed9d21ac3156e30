#include "engine/flush/flush_queue.h"

#include <chrono>

#include "common/check.h"

namespace ctxstore::engine {

void FlushQueue::Push(FlushItem item) {
  if (item.kind == FlushItem::Kind::kBarrier) {
    item.seq = next_seq_;
    barrier_seqs_.push_back(item.seq);
  }
  const bool waited = static_cast<bool>(item.on_durable);
  Count(item, +1);
  items_.push_back(std::move(item));
  ++changes_since_checkpoint;
  ++queued_since_heap_trim;
  // A flusher that is gathering a batch sleeps on until a write is needed
  // now: no wake-up (a futex call and a context switch) per small record.
  if (!flusher_gathering || waited || queued_bytes >= kGatherBytes) work_cv.Signal();
}

void FlushQueue::Count(const FlushItem& item, int sign) {
  const uint64_t waited = item.on_durable ? 1 : 0;
  if (sign > 0) {
    queued_bytes += item.value_len;
    queued_waited += waited;
  } else {
    CTX_CHECK(queued_bytes >= item.value_len && queued_waited >= waited);
    queued_bytes -= item.value_len;
    queued_waited -= waited;
  }
}

void FlushQueue::PushBarrier(DurableCallback on_durable) {
  FlushItem item;
  item.kind = FlushItem::Kind::kBarrier;
  item.on_durable = std::move(on_durable);
  item.lost_writes_at_enqueue = lost_writes;
  Push(std::move(item));
}

void FlushQueue::AddCounters(EngineStats* stats) const {
  stats->io_errors += write_io_errors;
  stats->writes_coalesced = writes_coalesced;
  stats->write_retries = write_retries;
  stats->sealed_records = sealed_records;
  stats->flush_batches = flush_batches;
  stats->writes_during_sync = writes_during_sync;
  stats->syncs_failed_after_write = syncs_failed_after_write;
}

void FlushQueue::PushRetry(FlushItem item) {
  item.retry = true;
  ++write_retries;
  ++retries_queued;
  Count(item, +1);
  items_.push_back(std::move(item));
}

void FlushQueue::WaitWhileCommitsPaused(Mutex* mu) {
  if (!flusher_thread_) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (commits_paused && !stopping) {
    if (!resume_cv.WaitUntil(mu, deadline)) break;
  }
}

std::vector<FlushItem> FlushQueue::TakeBatch(const CurrentSeqFn& current_seq) {
  std::vector<FlushItem> batch;
  uint64_t bytes = 0;
  while (!items_.empty() && batch.size() < kMaxBatchItems && bytes < kMaxBatchBytes) {
    FlushItem& front = items_.front();
    Count(front, -1);
    if (front.retry) --retries_queued;
    if (front.kind == FlushItem::Kind::kBarrier) {
      CTX_CHECK(!barrier_seqs_.empty() && barrier_seqs_.front() == front.seq);
      barrier_seqs_.pop_front();
    }
    if (Superseded(front, current_seq)) {
      ++writes_coalesced;
      items_.pop_front();  // frees its DRAM block, if nothing else holds it
      continue;
    }
    bytes += front.value_len;
    batch.push_back(std::move(front));
    items_.pop_front();
  }
  return batch;
}

// A queued version that a newer PUT or a DELETE of its key has replaced
// need not reach flash: nobody waits for it, and no reader can get it. But
// a FLUSH promises that every write before it is durable: a version stays
// if a queued barrier lies between it and the version that replaced it.
// (A deleted key's tombstone seq is not known here: then any later barrier
// keeps it.) Tombstones, carried copies and sync writes are always written.
bool FlushQueue::Superseded(const FlushItem& item, const CurrentSeqFn& current_seq) const {
  if (item.kind != FlushItem::Kind::kPut || item.carry || item.on_durable) return false;
  const std::optional<uint64_t> current = current_seq(item.key);
  if (current == item.seq) return false;  // still the current version
  const uint64_t replaced_by = current.value_or(UINT64_MAX);
  for (uint64_t barrier : barrier_seqs_) {
    if (barrier > item.seq && barrier <= replaced_by) return false;
  }
  return true;
}

}  // namespace ctxstore::engine
