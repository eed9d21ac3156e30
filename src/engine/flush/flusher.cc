#include "engine/flush/flusher.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/check.h"
#include "common/heap.h"

namespace ctxstore::engine {
namespace {

constexpr uint64_t kWaitForWorkMs = 50;
constexpr uint64_t kSweepIntervalMs = 100;
constexpr uint64_t kMinBackoffMs = 50;
constexpr uint64_t kMaxBackoffMs = 2000;
// After a burst (hundreds of thousands of small records between two syncs)
// the unsynced list would keep megabytes of capacity for good.
constexpr size_t kMaxIdleUnsyncedCapacity = 4096;
// The flusher returns free heap to the OS when its queue is empty, after
// this many items were queued or this long after it last did.
constexpr uint64_t kHeapTrimAfterItems = 64 * 1024;
constexpr uint64_t kHeapTrimIntervalMs = 1000;

}  // namespace

Flusher::Flusher(Mutex* mu, FlushQueue* queue, FlusherHost* host, const FlusherOptions& options)
    : mu_(mu),
      queue_(queue),
      host_(host),
      options_(options),
      env_(options.env != nullptr ? options.env : Env::Default()),
      writer_(options.segment_bytes, env_),
      syncer_(env_) {}

Flusher::~Flusher() {
  Join();
}

void Flusher::Start(bool thread) {
  last_sync_ms_ = last_checkpoint_ms_ = env_->MonotonicMs();
  threaded_ = thread;
  syncer_.Start(thread);
  if (thread) thread_ = env_->StartThread("ctx-flusher", [this] { ThreadMain(); });
}

void Flusher::Join() {
  if (thread_.joinable()) thread_.join();
}

bool Flusher::finished() const {
  MutexLock lock(mu_);
  return finished_;
}

Status Flusher::WriteCheckpointNow() {
  MutexLock lock(mu_);
  if (queue_->stopping) return Status::Unavailable("engine closed");
  const uint64_t generation = queue_->checkpoint_generation;
  queue_->checkpoint_requested = true;
  queue_->work_cv.SignalAll();
  while (queue_->checkpoint_generation == generation) {
    if (threaded_) {
      queue_->checkpoint_cv.Wait(mu_);
    } else {
      RunOnceForWaiterLocked();
    }
  }
  return queue_->checkpoint_result;
}

bool Flusher::RunOnce() {
  MutexLock lock(mu_);
  return RunOnceLocked();
}

void Flusher::RunOnceForWaiter() {
  MutexLock lock(mu_);
  RunOnceForWaiterLocked();
}

void Flusher::RunOnceForWaiterLocked() {
  if (RunOnceLocked()) return;
  const uint64_t now = env_->MonotonicMs();
  const uint64_t wait_ms = now < backoff_until_ms_ ? backoff_until_ms_ - now : kWaitForWorkMs;
  mu_->Unlock();
  env_->SleepForMs(wait_ms);
  mu_->Lock();
}

void Flusher::ThreadMain() {
  MutexLock lock(mu_);
  while (!finished_) {
    WaitForWorkLocked();
    GatherLocked();
    RunOnceLocked();
  }
}

// Measured on the CI VM with 64 KiB PUTs on 4 connections: writing each
// record as it came cost, per PUT, a futex wake of this thread, an
// io_uring_enter and a wake-up of the io_uring worker, each a context
// switch through the hypervisor; a batch of a millisecond's records pays
// them once.
void Flusher::GatherLocked() {
  if (options_.gather_us == 0 || queue_->empty() || GatherDoneLocked()) return;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::microseconds(options_.gather_us);
  queue_->flusher_gathering = true;
  while (!GatherDoneLocked()) {
    if (!queue_->work_cv.WaitUntil(mu_, deadline)) break;
  }
  queue_->flusher_gathering = false;
}

// Whether a write (or other work) is needed now rather than a larger batch.
bool Flusher::GatherDoneLocked() const {
  return queue_->stopping || queue_->checkpoint_requested || queue_->commits_paused ||
         queue_->space_waiters > 0 || queue_->queued_waited > 0 ||
         queue_->queued_bytes >= FlushQueue::kGatherBytes || syncer_.busy();
}

bool Flusher::HasWorkLocked(uint64_t now_ms) const {
  if (queue_->stopping) return true;
  if (now_ms < backoff_until_ms_) return false;  // only stopping ends a backoff early
  return queue_->checkpoint_requested || !queue_->empty() || syncer_.busy() ||
         (queue_->space_waiters > 0 && !unsynced_.empty());
}

void Flusher::WaitForWorkLocked() {
  // At most kWaitForWorkMs: the schedules (maintenance, sync and checkpoint
  // intervals) are checked at least that often.
  const uint64_t now = env_->MonotonicMs();
  uint64_t wait_ms = kWaitForWorkMs;
  if (now < backoff_until_ms_) wait_ms = backoff_until_ms_ - now;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (!HasWorkLocked(env_->MonotonicMs())) {
    if (!queue_->work_cv.WaitUntil(mu_, deadline)) break;
  }
}

bool Flusher::RunOnceLocked() {
  if (finished_) return false;
  const uint64_t now = env_->MonotonicMs();
  if (!queue_->stopping && now < backoff_until_ms_) return false;
  if (now - last_sweep_ms_ >= kSweepIntervalMs) {
    last_sweep_ms_ = now;
    host_->SweepExpiredLocked();
  }
  // A close that gave up on records (the device failing) writes no
  // checkpoint: its snapshot would leave out each key whose newest version
  // was given up, and recovery, trusting the checkpoint for everything
  // before its replay position, would lose the older durable version too.
  const bool gave_up = queue_->stopping && queue_->lost_writes > 0;
  const bool checkpoint_due =
      !gave_up &&
      (queue_->checkpoint_requested ||
       (queue_->changes_since_checkpoint > 0 &&
        (queue_->stopping || now - last_checkpoint_ms_ >= options_.checkpoint_interval_ms)));
  // A checkpoint needs a moment with nothing queued or unsynced: hold new
  // commits (briefly: the engine waits at most 2 s) while draining.
  queue_->commits_paused = checkpoint_due;
  if (!queue_->empty()) return WriteQueuedLocked(now, checkpoint_due);
  if (syncer_.busy()) {
    mu_->Unlock();
    (void)FinishSync();  // failures are handled and logged inside
    mu_->Lock();
    return true;
  }
  if (!unsynced_.empty() && (checkpoint_due || queue_->stopping || queue_->space_waiters > 0 ||
                             now - last_sync_ms_ >= options_.sync_interval_ms)) {
    mu_->Unlock();
    (void)SyncActive();  // failures are handled and logged inside
    mu_->Lock();
    return true;
  }
  if (checkpoint_due) CheckpointLocked();
  TrimHeapLocked(now);
  if (queue_->stopping && queue_->empty()) {
    finished_ = true;
    ResumeCommitsLocked();
    FinishCheckpointRequestLocked(Status::Unavailable("engine closed"));
  }
  return checkpoint_due;
}

bool Flusher::WriteQueuedLocked(uint64_t now_ms, bool checkpoint_due) {
  std::vector<FlushItem> batch = queue_->TakeBatch(
      [this](std::string_view key) REQUIRES(mu_) { return host_->CurrentSeqLocked(key); });
  mu_->Unlock();
  const bool ok = WriteAndCompleteBatch(batch);
  mu_->Lock();
  if (ok) {
    backoff_ms_ = 0;
    return true;
  }
  // The device failed: no checkpoint now, and give it time before the
  // re-queued records are tried on a new segment.
  if (checkpoint_due) {
    last_checkpoint_ms_ = now_ms;
    FinishCheckpointRequestLocked(Status::IoError("flash writes are failing"));
  }
  ResumeCommitsLocked();
  backoff_ms_ = std::clamp<uint64_t>(backoff_ms_ * 2, kMinBackoffMs, kMaxBackoffMs);
  backoff_until_ms_ = env_->MonotonicMs() + backoff_ms_;
  return true;
}

bool Flusher::WriteAndCompleteBatch(std::vector<FlushItem>& batch) {
  bool need_sync = env_->MonotonicMs() - last_sync_ms_ >= options_.sync_interval_ms;
  {
    MutexLock lock(mu_);
    need_sync |= queue_->space_waiters > 0;  // synced data is evictable
  }
  for (const FlushItem& item : batch) need_sync |= static_cast<bool>(item.on_durable);
  // The write overlaps the sync of the batch before; then that sync ends
  // (a failure there gives up on this batch's records too).
  const bool during_sync = syncer_.busy();
  Status st = AppendBatch(batch);
  {
    MutexLock lock(mu_);
    ++queue_->flush_batches;
    if (during_sync) ++queue_->writes_during_sync;
  }
  wrote_during_sync_ |= during_sync;
  if (!st.ok()) spdlog::error("flash write failed: {}", st.ToString());
  const Status synced = FinishSync();
  if (st.ok()) st = synced;
  std::vector<FlushItem> waiters = ReleaseBatch(batch, st);
  if (st.ok() && need_sync) {
    BeginSync(std::move(waiters));
  } else {
    AnswerWaiters(waiters, st);  // none unless st failed: a waiter makes need_sync
  }
  return st.ok();
}

Status Flusher::AppendBatch(std::vector<FlushItem>& batch) {
  size_t next = 0;
  while (true) {
    while (next < batch.size() && batch[next].kind == FlushItem::Kind::kBarrier) ++next;
    if (next == batch.size()) return Status::Ok();
    // A new segment when there is none, when a read found this one bad, or
    // when the next record does not fit.
    if (!active_ || host_->SegmentIsBad(active_->id()) || !writer_.Fits(*active_, batch[next])) {
      CTX_RETURN_IF_ERROR(RollSegment(RoundUpToBlock(SegmentWriter::RecordBytes(batch[next]))));
    }
    const uint64_t start = active_->end_offset();
    Segment& segment = *active_;
    SegmentWriter::Outcome out = writer_.Append(segment, std::span(batch).subspan(next),
                                                [&] { return host_->SegmentIsBad(segment.id()); });
    {
      MutexLock lock(mu_);
      AddUnsyncedLocked(batch, next, next + out.consumed, segment.end_offset() - start);
    }
    if (out.write_failed) AbandonActive(out.status);
    if (!out.status.ok()) return out.status;
    next += out.consumed;
  }
}

void Flusher::AddUnsyncedLocked(std::vector<FlushItem>& batch, size_t from, size_t to,
                                uint64_t bytes) {
  host_->AppendedLocked(bytes);
  for (size_t i = from; i < to; ++i) {
    FlushItem& item = batch[i];
    if (!item.appended) continue;
    queue_->sealed_records += item.seal_key ? 1 : 0;
    // On flash but not yet synced: the next SyncActive (a waiter in this
    // batch, a roll, the interval) must fdatasync it before it counts.
    FlushItem meta = item;  // what MarkDurable / a retry need: no value, no waiter
    meta.block.reset();     // (a carried value stays: it has no other home)
    meta.on_durable = nullptr;
    unsynced_.push_back(std::move(meta));
  }
}

Status Flusher::RollSegment(uint64_t record_len) {
  CTX_RETURN_IF_ERROR(SyncActive());
  active_.reset();
  auto segment = host_->NewSegment(record_len);
  if (!segment.ok()) return segment.status();
  active_ = std::move(*segment);
  return Status::Ok();
}

Status Flusher::SyncActive() {
  CTX_RETURN_IF_ERROR(FinishSync());
  if (!active_ || unsynced_.empty()) return Status::Ok();
  BeginSync({});
  return FinishSync();
}

void Flusher::BeginSync(std::vector<FlushItem> waiters) {
  CTX_CHECK(!syncer_.busy());
  if (!active_ || unsynced_.empty()) {  // all written is already durable
    AnswerWaiters(waiters, Status::Ok());
    return;
  }
  syncing_ = std::move(unsynced_);
  unsynced_ = {};
  syncing_waiters_ = std::move(waiters);
  {
    MutexLock lock(mu_);
    syncing_view_ = RetryViewLocked();
  }
  last_sync_ms_ = env_->MonotonicMs();  // what was written before now gets synced
  syncer_.Begin(active_);
}

Status Flusher::FinishSync() {
  if (!syncer_.busy()) return Status::Ok();
  Status st = syncer_.Wait();
  const bool wrote_during_sync = wrote_during_sync_;
  wrote_during_sync_ = false;
  std::vector<FlushItem> waiters = std::move(syncing_waiters_);
  syncing_waiters_ = {};
  {
    MutexLock lock(mu_);
    if (st.ok() && host_->SegmentIsBad(active_->id())) {
      // A read failed on this segment after these records were written to
      // it (marking it bad found them not yet on flash): they are not
      // acknowledged on a segment given up on, but written again elsewhere.
      st = Status::IoError("segment " + active_->path() +
                           " was marked bad by a failed read; its unsynced records are written "
                           "again");
    }
    if (st.ok()) {
      for (const FlushItem& item : syncing_) host_->MarkDurableLocked(item);
      syncing_.clear();
      if (syncing_.capacity() > kMaxIdleUnsyncedCapacity) std::vector<FlushItem>().swap(syncing_);
      queue_->space_cv.SignalAll();
    } else {
      queue_->syncs_failed_after_write += wrote_during_sync ? 1 : 0;
      AbandonActiveLocked(st, &waiters);
    }
  }
  AnswerWaiters(waiters, st, syncing_view_);
  return st;
}

void Flusher::AbandonActive(const Status& why) {
  // The sync in flight covers records written before this failure: if it
  // succeeds they are durable. If it fails it abandons the segment itself.
  (void)FinishSync();
  std::vector<FlushItem> failed;
  {
    MutexLock lock(mu_);
    if (active_) AbandonActiveLocked(why, &failed);
  }
  AnswerWaiters(failed, why);
}

void Flusher::AbandonActiveLocked(const Status& why, std::vector<FlushItem>* failed) {
  CTX_CHECK(!syncer_.busy());
  spdlog::error("segment {} abandoned: {}", active_ ? active_->path() : "?", why.ToString());
  ++queue_->write_io_errors;
  // Oldest first, so that retries keep the log's order.
  for (FlushItem& item : syncing_) RetryLocked(std::move(item));
  for (FlushItem& item : unsynced_) RetryLocked(std::move(item));
  syncing_.clear();
  unsynced_.clear();
  for (FlushItem& waiter : syncing_waiters_) failed->push_back(std::move(waiter));
  syncing_waiters_.clear();
  active_.reset();
}

// Puts a record that did not become durable back in the queue, if it still
// matters. Dirty objects stay in DRAM, so the value is there to write again.
void Flusher::RetryLocked(FlushItem item) {
  item.on_durable = nullptr;
  item.block.reset();
  item.appended = false;
  switch (host_->PrepareRetryLocked(item, queue_->stopping)) {
    case FlusherHost::Retry::kDrop:
      return;
    case FlusherHost::Retry::kLost:
      ++queue_->lost_writes;
      return;
    case FlusherHost::Retry::kWriteAgain:
      queue_->PushRetry(std::move(item));
      return;
  }
}

std::vector<FlushItem> Flusher::ReleaseBatch(std::vector<FlushItem>& batch, const Status& status) {
  std::vector<FlushItem> waiters;
  MutexLock lock(mu_);
  for (FlushItem& item : batch) {
    // Drop the batch's reference to the value now, before space_cv wakes
    // allocators, so that evicting the entry frees its memory.
    item.block.reset();
    // Records appended before a failure are retried by AbandonActive (or
    // were synced by a segment roll); the rest are retried here.
    if (!status.ok() && !item.appended && item.kind != FlushItem::Kind::kBarrier) {
      FlushItem copy = item;
      RetryLocked(std::move(copy));
    }
    if (item.on_durable) waiters.push_back(std::move(item));
  }
  queue_->space_cv.SignalAll();
  return waiters;
}

Flusher::RetryView Flusher::RetryViewLocked() const {
  return RetryView{.behind = queue_->retries_queued > 0, .lost_writes = queue_->lost_writes};
}

void Flusher::AnswerWaiters(std::vector<FlushItem>& waiters, const Status& status) {
  if (waiters.empty()) return;
  RetryView view;
  {
    MutexLock lock(mu_);
    view = RetryViewLocked();
  }
  AnswerWaiters(waiters, status, view);
}

void Flusher::AnswerWaiters(std::vector<FlushItem>& waiters, const Status& status,
                            const RetryView& view) {
  for (FlushItem& item : waiters) {
    Status st = status;
    if (st.ok() && item.kind == FlushItem::Kind::kBarrier &&
        (view.behind || view.lost_writes != item.lost_writes_at_enqueue)) {
      st = Status::IoError("earlier writes have not reached flash (the device failed; retrying)");
    }
    item.on_durable(st);
  }
  waiters.clear();
}

void Flusher::CheckpointLocked() {
  Status st = WriteCheckpointLocked();
  if (!st.ok()) spdlog::warn("checkpoint not written: {}", st.ToString());
  last_checkpoint_ms_ = env_->MonotonicMs();  // do not retry in a tight loop
  FinishCheckpointRequestLocked(st);
  queue_->queued_since_heap_trim += kHeapTrimAfterItems;  // its snapshot was one entry per object
}

Status Flusher::WriteCheckpointLocked() {
  // Only a fully written and synced state is a consistent snapshot.
  if (!queue_->empty() || !unsynced_.empty() || syncer_.busy()) {
    ResumeCommitsLocked();
    return Status::Busy("writes in flight");
  }
  Checkpoint cp;
  host_->SnapshotLocked(&cp);
  cp.next_seq = queue_->next_seq();
  cp.created_ms = env_->WallClockMs();
  if (active_) {
    cp.replay_segment_id = active_->id();
    cp.replay_offset = active_->end_offset();
  }
  queue_->changes_since_checkpoint = 0;
  ResumeCommitsLocked();  // the snapshot is taken; writers may go on while it is written out
  mu_->Unlock();
  Status st = WriteCheckpoint(options_.device, options_.data_dir + "/" + kCheckpointFileName, cp);
  mu_->Lock();
  if (!st.ok()) {
    ++queue_->changes_since_checkpoint;
    return st;
  }
  spdlog::debug("checkpoint written: {} objects", cp.entries.size());
  return Status::Ok();
}

void Flusher::FinishCheckpointRequestLocked(const Status& st) {
  if (!queue_->checkpoint_requested) return;
  queue_->checkpoint_requested = false;
  queue_->checkpoint_result = st;
  ++queue_->checkpoint_generation;
  queue_->checkpoint_cv.SignalAll();
}

void Flusher::TrimHeapLocked(uint64_t now_ms) {
  if (!queue_->empty() || queue_->queued_since_heap_trim == 0) return;
  if (queue_->queued_since_heap_trim < kHeapTrimAfterItems &&
      now_ms - last_heap_trim_ms_ < kHeapTrimIntervalMs) {
    return;
  }
  // Writes have drained (their items, keys and block handles were freed).
  queue_->queued_since_heap_trim = 0;
  last_heap_trim_ms_ = now_ms;
  mu_->Unlock();
  ReturnFreeHeapToOs();
  mu_->Lock();
}

void Flusher::ResumeCommitsLocked() {
  queue_->commits_paused = false;
  queue_->resume_cv.SignalAll();
}

}  // namespace ctxstore::engine
