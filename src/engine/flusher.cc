// The flusher thread: writes committed objects to flash in commit order,
// syncs when someone waits (and at least every sync_interval_ms), rolls and
// reclaims segments, and writes index checkpoints.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "common/check.h"
#include "common/clock.h"
#include "common/heap.h"
#include "engine/checkpoint.h"
#include "engine/engine.h"

namespace ctxstore::engine {
namespace {

constexpr size_t kMaxBatchItems = 256;
constexpr uint64_t kMaxBatchBytes = 64ull << 20;
constexpr size_t kMaxIovecsPerWrite = 512;

constexpr uint64_t kMaxPooledSealBytes = 64ull << 20;

uint16_t RecordFlags(const FlushItem& item) {
  if (item.kind == FlushItem::Kind::kTombstone) return kRecordFlagTombstone;
  return item.seal_key ? kRecordFlagSealed : 0;
}

}  // namespace

void Engine::Enqueue(FlushItem item) {
  if (item.kind == FlushItem::Kind::kBarrier) {
    item.seq = next_seq_;
    queued_barrier_seqs_.push_back(item.seq);
  }
  queue_.push_back(std::move(item));
  ++changes_since_checkpoint_;
  ++queued_since_heap_trim_;
  flush_cv_.notify_one();
}

void Engine::FlusherLoop() {
  std::unique_lock lock(mu_);
  uint64_t backoff_ms = 0;
  while (true) {
    flush_cv_.wait_for(lock, std::chrono::milliseconds(50), [this] {
      return stop_flusher_ || checkpoint_requested_ || !queue_.empty() ||
             (space_waiters_ > 0 && !unsynced_.empty());
    });
    uint64_t now = MonotonicMs();
    if (now - last_maintain_ms_ >= 100) {
      last_maintain_ms_ = now;
      MaintainLocked();
    }
    bool checkpoint_due =
        checkpoint_requested_ ||
        (changes_since_checkpoint_ > 0 &&
         (stop_flusher_ || now - last_checkpoint_ms_ >= options_.checkpoint_interval_ms));
    // A checkpoint needs a moment with nothing queued or unsynced: hold new
    // commits (briefly, see WaitWhileCommitsPausedLocked) while draining.
    commits_paused_ = checkpoint_due;
    if (!queue_.empty()) {
      std::vector<FlushItem> batch;
      uint64_t bytes = 0;
      while (!queue_.empty() && batch.size() < kMaxBatchItems && bytes < kMaxBatchBytes) {
        FlushItem& front = queue_.front();
        if (front.retry) --retries_queued_;
        if (front.kind == FlushItem::Kind::kBarrier) {
          CTX_CHECK(!queued_barrier_seqs_.empty() && queued_barrier_seqs_.front() == front.seq);
          queued_barrier_seqs_.pop_front();
        }
        if (SupersededLocked(front)) {
          ++stats_.writes_coalesced;
          queue_.pop_front();  // frees its DRAM block, if nothing else holds it
          continue;
        }
        bytes += front.value_len;
        batch.push_back(std::move(front));
        queue_.pop_front();
      }
      lock.unlock();
      bool ok = WriteBatch(batch);
      lock.lock();
      if (ok) {
        backoff_ms = 0;
        continue;
      }
      // The device failed: no checkpoint now, and give it time before the
      // re-queued records are tried on a new segment.
      if (checkpoint_due) {
        last_checkpoint_ms_ = now;
        FinishCheckpointRequestLocked(Status::IoError("flash writes are failing"));
      }
      commits_paused_ = false;
      resume_cv_.notify_all();
      backoff_ms = std::clamp<uint64_t>(backoff_ms * 2, 50, 2000);
      flush_cv_.wait_for(lock, std::chrono::milliseconds(backoff_ms),
                         [this] { return stop_flusher_; });
      continue;
    }
    if (!unsynced_.empty() && (checkpoint_due || stop_flusher_ || space_waiters_ > 0 ||
                               now - last_sync_ms_ >= options_.sync_interval_ms)) {
      lock.unlock();
      (void)SyncActive();  // failures are handled and logged inside
      lock.lock();
      continue;
    }
    if (checkpoint_due) {
      Status st = WriteCheckpointLocked(lock);
      if (!st.ok()) spdlog::warn("checkpoint not written: {}", st.ToString());
      last_checkpoint_ms_ = MonotonicMs();  // do not retry in a tight loop
      FinishCheckpointRequestLocked(st);
      queued_since_heap_trim_ += kHeapTrimAfterItems;  // its snapshot was one entry per object
    }
    if (queue_.empty() && queued_since_heap_trim_ > 0 &&
        (queued_since_heap_trim_ >= kHeapTrimAfterItems ||
         now - last_heap_trim_ms_ >= kHeapTrimIntervalMs)) {
      // Writes have drained (their items, keys and block handles were freed).
      queued_since_heap_trim_ = 0;
      last_heap_trim_ms_ = now;
      lock.unlock();
      ReturnFreeHeapToOs();
      lock.lock();
    }
    if (stop_flusher_ && queue_.empty()) break;
  }
  commits_paused_ = false;
  resume_cv_.notify_all();
  FinishCheckpointRequestLocked(Status::Unavailable("engine closed"));
}

// A queued version that a newer PUT or a DELETE of its key has replaced
// need not reach flash: nobody waits for it, and no reader can get it. But
// a FLUSH promises that every write before it is durable: a version stays
// if a queued barrier lies between it and the version that replaced it.
// (A deleted key's tombstone seq is not known here: then any later barrier
// keeps it.) Tombstones, carried copies and sync writes are always written.
bool Engine::SupersededLocked(const FlushItem& item) const {
  if (item.kind != FlushItem::Kind::kPut || item.carry || item.on_durable) return false;
  auto it = index_.find(item.key);
  if (it != index_.end() && it->second.seq == item.seq) return false;  // current
  const uint64_t replaced_by = it == index_.end() ? UINT64_MAX : it->second.seq;
  for (uint64_t barrier : queued_barrier_seqs_) {
    if (barrier > item.seq && barrier <= replaced_by) return false;
  }
  return true;
}

void Engine::FinishCheckpointRequestLocked(const Status& st) {
  if (!checkpoint_requested_) return;
  checkpoint_requested_ = false;
  checkpoint_result_ = st;
  ++checkpoint_generation_;
  checkpoint_cv_.notify_all();
}

void Engine::WaitWhileCommitsPausedLocked(std::unique_lock<std::mutex>& lock) {
  // Bounded, so that a checkpoint can delay writers but never stall them.
  resume_cv_.wait_for(lock, std::chrono::seconds(2),
                      [this] { return !commits_paused_ || closed_; });
}

bool Engine::WriteBatch(std::vector<FlushItem>& batch) {
  bool need_sync = MonotonicMs() - last_sync_ms_ >= options_.sync_interval_ms;
  {
    std::unique_lock lock(mu_);
    need_sync |= space_waiters_ > 0;  // synced data is evictable
  }
  for (const FlushItem& item : batch) need_sync |= static_cast<bool>(item.on_durable);
  Status st = AppendBatch(batch);
  if (st.ok() && need_sync) st = SyncActive();
  if (!st.ok()) spdlog::error("flash write failed: {}", st.ToString());
  CompleteBatch(batch, st);
  return st.ok();
}

// Lays the batch out as records in the active segment and writes it with
// as few writes as the iovec limit allows. Packed records are copied into a
// staging buffer back to back (64-byte aligned); a large record's head is
// staged on a block boundary and its value written straight from the arena.
// Every write is a whole number of blocks, zero-padded (O_DIRECT, and no
// block is ever written twice).
Status Engine::AppendBatch(std::vector<FlushItem>& batch) {
  // Sized as if every record took whole blocks (format 2): packing into a
  // shared block never needs more.
  uint64_t staging_bytes = 0;
  for (const FlushItem& item : batch) {
    if (item.kind != FlushItem::Kind::kBarrier) {
      staging_bytes +=
          RoundUpToBlock(ComputeLayout(RecordHeadBytes(item.key.size() - kIndexKeyPrefix,
                                                       item.ext.size(), RecordFlags(item)),
                                       item.value_len)
                             .head_len());
    }
  }
  if (staging_bytes == 0) return Status::Ok();
  AlignedBuffer staging(staging_bytes);
  uint64_t staging_used = 0;  // end of the staged bytes
  uint64_t run_start = 0;     // staged bytes from here on are not in iov yet
  std::vector<iovec> iov;
  uint64_t iov_bytes = 0;
  std::vector<FlushItem*> pending;  // items whose bytes are in iov
  // Ciphertexts of sealed large records, written from here (the arena
  // keeps the plaintext); freed once written.
  std::vector<std::unique_ptr<AlignedBuffer>> sealed_values;

  // Pads the staged run to a block boundary with zeros and adds it to iov.
  auto close_run = [&] {
    const uint64_t padded = RoundUpToBlock(staging_used);
    CTX_CHECK(padded <= staging.size);
    std::memset(staging.data + staging_used, 0, padded - staging_used);
    staging_used = padded;
    if (staging_used > run_start) {
      iov.push_back({staging.data + run_start, staging_used - run_start});
      iov_bytes += staging_used - run_start;
    }
    run_start = staging_used;
  };
  auto write_pending = [&]() -> Status {
    close_run();
    if (iov.empty()) return Status::Ok();
    Status st = active_->Append(iov, iov_bytes);
    if (!st.ok()) {
      AbandonActive(st);
      return st;
    }
    std::unique_lock lock(mu_);
    flash_bytes_ += iov_bytes;
    for (FlushItem* p : pending) stats_.sealed_records += p->seal_key ? 1 : 0;
    lock.unlock();
    // On flash but not yet synced: the next SyncActive (a waiter in this
    // batch, a roll, the interval) must fdatasync them before they count.
    for (FlushItem* p : pending) {
      p->appended = true;
      FlushItem meta = *p;  // what MarkDurableLocked / RetryLocked need: no value, no waiter
      meta.block.reset();   // (a carried value stays: it has no other home)
      meta.on_durable = nullptr;
      unsynced_.push_back(std::move(meta));
    }
    iov.clear();
    iov_bytes = 0;
    pending.clear();
    uint64_t pooled = 0;
    for (const auto& b : seal_buffers_) pooled += b->size;
    for (auto& b : sealed_values) {
      if (pooled + b->size > kMaxPooledSealBytes) break;
      pooled += b->size;
      seal_buffers_.push_back(std::move(b));
    }
    sealed_values.clear();
    return Status::Ok();
  };

  for (FlushItem& item : batch) {
    if (item.kind == FlushItem::Kind::kBarrier) continue;
    std::string_view user_key = IndexKeyUserKey(item.key);
    const uint16_t flags = RecordFlags(item);
    RecordLayout layout =
        ComputeLayout(RecordHeadBytes(user_key.size(), item.ext.size(), flags), item.value_len);
    uint64_t end = active_ ? active_->end_offset() + iov_bytes + (staging_used - run_start) : 0;
    bool segment_has_records = end > kSegmentHeaderBytes;
    const bool active_is_bad =
        active_ && active_->id() == last_bad_segment_id_.load(std::memory_order_acquire);
    if (!active_ || active_is_bad ||
        (segment_has_records && RoundUpToBlock(end + layout.record_len) > options_.segment_bytes)) {
      CTX_RETURN_IF_ERROR(write_pending());
      CTX_RETURN_IF_ERROR(RollSegment(RoundUpToBlock(layout.record_len)));
    }
    if (!layout.packed) close_run();  // a large record and its value start on a block
    RecordHeader h = MakeRecordHeader(flags, item.seq, item.created_ms, item.expires_ms,
                                      IndexKeyNamespace(item.key), user_key, item.ext,
                                      item.value_len, item.value_xxh3);
    CTX_CHECK(staging_used % kRecordAlignment == 0);
    std::span<uint8_t> head(staging.data + staging_used, layout.head_len());
    item.segment_id = active_->id();
    item.record_offset = active_->end_offset() + iov_bytes + (staging_used - run_start);
    staging_used += layout.head_len();
    CTX_CHECK(staging_used <= staging.size);
    std::span<const uint8_t> packed_value;
    if (layout.packed && item.value_len > 0) packed_value = {item.value_data(), item.value_len};
    EncodeRecordHead(h, user_key, item.ext, packed_value, head);
    // What the record stores as its value (tombstones have none).
    const uint8_t* value_out = item.value_len > 0 ? item.value_data() : nullptr;
    if (flags & kRecordFlagSealed) {
      // Packed: sealed into the staged record. Large: into a buffer of its
      // own, whole blocks with a zero tail like an arena block.
      uint8_t* sealed = head.data() + layout.value_offset;
      if (!layout.packed) {
        const uint64_t need = RoundUpToBlock(item.value_len);
        auto fits = std::find_if(seal_buffers_.begin(), seal_buffers_.end(),
                                 [need](const auto& b) { return b->size >= need; });
        if (fits != seal_buffers_.end()) {
          sealed_values.push_back(std::move(*fits));
          seal_buffers_.erase(fits);
        } else {
          sealed_values.push_back(std::make_unique<AlignedBuffer>(need));
        }
        sealed = sealed_values.back()->data;
        std::memset(sealed + item.value_len, 0, RoundUpToBlock(item.value_len) - item.value_len);
      }
      SealInfo info;
      Status st = SealValue(*item.seal_key,
                            RecordAad(IndexKeyNamespace(item.key), item.seq, user_key, item.ext),
                            value_out, sealed, item.value_len, &info);
      if (!st.ok()) return st;
      RecordSeal seal{};
      seal.key_id = info.key_id;
      std::memcpy(seal.nonce, info.nonce.data(), sizeof(seal.nonce));
      std::memcpy(seal.tag, info.tag.data(), sizeof(seal.tag));
      FinishRecordSeal(&seal, sealed, item.value_len);
      std::memcpy(head.data() + layout.value_offset - kRecordSealBytes, &seal, sizeof(seal));
      value_out = sealed;
    }
    if (!layout.packed) {
      close_run();  // adds no padding: the head is whole blocks
      // Straight from the arena (or the sealed copy): page-aligned, tail zeroed.
      CTX_CHECK(flags & kRecordFlagSealed ||
                item.value_capacity() >= RoundUpToBlock(item.value_len));
      iov.push_back({const_cast<uint8_t*>(value_out), RoundUpToBlock(item.value_len)});
      iov_bytes += RoundUpToBlock(item.value_len);
    }
    pending.push_back(&item);
    if (iov.size() >= kMaxIovecsPerWrite) CTX_RETURN_IF_ERROR(write_pending());
  }
  return write_pending();
}

Status Engine::SyncActive() {
  if (!active_ || unsynced_.empty()) return Status::Ok();
  Status st = active_->Sync();
  if (!st.ok()) {
    AbandonActive(st);
    return st;
  }
  std::unique_lock lock(mu_);
  if (active_->id() == last_bad_segment_id_.load(std::memory_order_acquire)) {
    // A read failed on this segment after these records were written to it
    // (marking it bad found them not yet on flash): they are not
    // acknowledged on a segment given up on, but written again elsewhere.
    st =
        Status::IoError("segment " + active_->path() +
                        " was marked bad by a failed read; its unsynced records are written again");
    AbandonActiveLocked(st);
    return st;
  }
  for (const FlushItem& item : unsynced_) MarkDurableLocked(item);
  unsynced_.clear();
  // After a burst (hundreds of thousands of small records between two
  // syncs) the list would keep megabytes of capacity for good.
  if (unsynced_.capacity() > kMaxIdleUnsyncedCapacity) std::vector<FlushItem>().swap(unsynced_);
  last_sync_ms_ = MonotonicMs();
  space_cv_.notify_all();
  return Status::Ok();
}

void Engine::MarkDurableLocked(const FlushItem& item) {
  if (item.kind != FlushItem::Kind::kPut) return;
  auto it = index_.find(item.key);
  if (it == index_.end() || it->second.seq != item.seq) return;  // superseded or deleted
  Entry& e = it->second;
  if (item.carry) {
    e.sealed = item.seal_key != nullptr;
    SetFlashLocked(e, item.segment_id, item.record_offset);  // off the retiring segment
    if (e.dirty && e.dram()) {  // carried out of a bad segment: evictable again
      e.dirty = false;
      --stats_.dirty_objects;
      AddToLruLocked(e);
    }
    return;
  }
  CTX_CHECK(e.dirty && e.dram());
  e.sealed = item.seal_key != nullptr;
  SetFlashLocked(e, item.segment_id, item.record_offset);
  e.dirty = false;
  --stats_.dirty_objects;
  AddToLruLocked(e);  // durable now: evictable
}

// A failed write or sync is fatal for the segment: it is never written again,
// and nothing in it since its last good sync is trusted. Those records are
// written again, to a new segment.
void Engine::AbandonActive(const Status& why) {
  std::unique_lock lock(mu_);
  AbandonActiveLocked(why);
}

void Engine::AbandonActiveLocked(const Status& why) {
  spdlog::error("segment {} abandoned: {}", active_ ? active_->path() : "?", why.ToString());
  ++stats_.io_errors;
  for (FlushItem& item : unsynced_) RetryLocked(std::move(item));
  unsynced_.clear();
  active_.reset();
}

// Puts a record that did not become durable back in the queue, if it still
// matters. Dirty objects stay in DRAM, so the value is there to write again.
void Engine::RetryLocked(FlushItem item) {
  item.on_durable = nullptr;
  item.block.reset();
  item.appended = false;
  auto it = index_.find(item.key);
  if (item.kind == FlushItem::Kind::kPut && item.carry) {
    if (it == index_.end() || it->second.seq != item.seq) return;  // superseded or deleted
    // Closing: the old segment stays (its barrier fails), so nothing is lost.
    if (stop_flusher_) return;
  } else if (item.kind == FlushItem::Kind::kPut) {
    if (it == index_.end() || it->second.seq != item.seq) return;  // superseded or deleted
    Entry& e = it->second;
    CTX_CHECK(e.dirty && e.dram());
    if (stop_flusher_) {
      // Closing: give up. The object stays readable until shutdown only.
      ++lost_writes_;
      e.dirty = false;
      --stats_.dirty_objects;
      AddToLruLocked(e);
      return;
    }
    item.block = arena_->Pin(e.dram());
  } else if (item.kind == FlushItem::Kind::kTombstone) {
    if (it != index_.end() && it->second.seq > item.seq) return;  // put again since
    if (stop_flusher_) {
      ++lost_writes_;
      return;
    }
  } else {
    return;
  }
  item.retry = true;
  ++stats_.write_retries;
  ++retries_queued_;
  queue_.push_back(std::move(item));
}

Status Engine::RollSegment(uint64_t record_len) {
  CTX_RETURN_IF_ERROR(SyncActive());
  active_.reset();
  uint64_t need = std::max(options_.segment_bytes, kSegmentHeaderBytes + record_len);
  std::unique_lock lock(mu_);
  while (flash_bytes_ + need > options_.disk_bytes && ReclaimOldestLocked(lock)) {
  }
  if (flash_bytes_ + need > options_.disk_bytes) {
    return Status::NoSpace("a record of " + std::to_string(record_len) +
                           " bytes exceeds the flash size");
  }
  if (next_segment_id_ > UINT32_MAX) {
    // Index entries name segments in 32 bits: 4 billion segments written.
    return Status::NoSpace("segment ids exhausted");
  }
  uint64_t id = next_segment_id_++;
  lock.unlock();
  auto seg = Segment::Create(device_, options_.data_dir, id, store_id_);
  if (!seg.ok()) {
    lock.lock();
    ++stats_.io_errors;
    return seg.status();
  }
  lock.lock();
  segments_[id] = *seg;
  flash_bytes_ += kSegmentHeaderBytes;
  active_ = *seg;
  return Status::Ok();
}

bool Engine::ReclaimOldestLocked(std::unique_lock<std::mutex>& lock) {
  auto oldest = segments_.begin();
  while (oldest != segments_.end() && retiring_.contains(oldest->first)) ++oldest;
  if (oldest == segments_.end()) return false;
  std::shared_ptr<Segment> seg = oldest->second;
  const uint64_t id = oldest->first;
  std::vector<std::string> pinned;
  for (auto it = index_.begin(); it != index_.end();) {
    auto next = std::next(it);
    Entry& e = it->second;
    if (e.segment_id == id) {
      if (PinStateLocked(e).pinned) {
        pinned.push_back(e.index_key().str());
      } else {
        ClearFlashLocked(e);
        if (!e.dram()) {
          EraseLocked(it);
          ++stats_.reclaimed_objects;
        }
      }
    }
    it = next;
  }
  // Pinned objects are never dropped: they are written again, and their
  // segment stays (readable, but off the flash budget) until those copies
  // are durable, so a crash in between finds them in the old file.
  bool carried = false;
  for (const std::string& key : pinned) {
    auto it = index_.find(key);
    if (it != index_.end() && it->second.segment_id == id) {
      carried |= CarryForwardLocked(it->second, lock);
    }
  }
  flash_bytes_ -= std::min(flash_bytes_, seg->end_offset());
  ++stats_.reclaimed_segments;
  if (carried) {
    retiring_.insert(id);
    FlushItem barrier;
    barrier.kind = FlushItem::Kind::kBarrier;
    barrier.lost_writes_at_enqueue = lost_writes_;
    barrier.on_durable = [this, id](Status st) { FinishRetiring(id, st); };
    Enqueue(std::move(barrier));
    return true;
  }
  segments_.erase(id);
  lock.unlock();
  Status st = device_->Remove(seg->path());  // open readers keep the file until they finish
  if (!st.ok()) spdlog::warn("reclaiming {}: {}", seg->path(), st.ToString());
  lock.lock();
  return true;
}

void Engine::MarkSegmentBadLocked(uint64_t segment_id, std::unique_lock<std::mutex>& lock) {
  if (!segments_.contains(segment_id)) return;
  last_bad_segment_id_.store(segment_id, std::memory_order_release);
  std::vector<std::string> resident, dropped;
  for (auto it = index_.begin(); it != index_.end(); ++it) {
    Entry& e = it->second;
    if (e.segment_id != segment_id) continue;
    (e.dram() ? resident : dropped).push_back(e.index_key().str());
  }
  ++stats_.bad_segments;
  spdlog::error(
      "segment {} is bad after an I/O error: {} objects in DRAM are written again, {} "
      "objects only on it are dropped",
      segment_id, resident.size(), dropped.size());
  for (const std::string& key : dropped) {
    auto it = index_.find(key);
    if (it == index_.end() || it->second.segment_id != segment_id) continue;
    EraseLocked(it);
    EnqueueTombstoneLocked(key, nullptr);
    ++stats_.bad_segment_objects;
  }
  for (const std::string& key : resident) {
    auto it = index_.find(key);
    if (it == index_.end() || it->second.segment_id != segment_id) continue;
    // Copied from DRAM (no read of the bad segment); the entry's flash
    // copy is gone until the new one is durable, so it is dirty meanwhile:
    // off the LRU, or eviction would drop the only readable copy.
    ClearFlashLocked(it->second);
    const uint64_t seq = it->second.seq;
    if (!CarryForwardLocked(it->second, lock)) continue;
    it = index_.find(key);
    if (it == index_.end() || it->second.seq != seq || it->second.dirty) continue;
    it->second.dirty = true;
    ++stats_.dirty_objects;
    lru_[it->second.lru_level].Remove(&it->second);
  }
}

void Engine::FinishRetiring(uint64_t segment_id, const Status& carried) {
  std::unique_lock lock(mu_);
  auto it = segments_.find(segment_id);
  if (it == segments_.end()) return;
  if (!carried.ok()) {
    // Kept (still retiring, off the budget) until a restart scans it again.
    spdlog::warn("keeping {}: the pinned objects carried out of it are not durable ({})",
                 it->second->path(), carried.ToString());
    return;
  }
  std::shared_ptr<Segment> seg = it->second;
  segments_.erase(it);
  retiring_.erase(segment_id);
  lock.unlock();
  Status st = device_->Remove(seg->path());
  if (!st.ok()) spdlog::warn("reclaiming {}: {}", seg->path(), st.ToString());
}

void Engine::CompleteBatch(std::vector<FlushItem>& batch, const Status& status) {
  std::unique_lock lock(mu_);
  for (FlushItem& item : batch) {
    // Drop the batch's reference to the value now, before space_cv_ wakes
    // allocators, so that evicting the entry frees its memory.
    item.block.reset();
    // Records appended before a failure are retried by AbandonActive (or were
    // synced by a segment roll); the rest are retried here.
    if (!status.ok() && !item.appended && item.kind != FlushItem::Kind::kBarrier) {
      FlushItem copy = item;
      RetryLocked(std::move(copy));
    }
  }
  bool behind = retries_queued_ > 0;
  uint64_t lost_now = lost_writes_;
  space_cv_.notify_all();
  lock.unlock();
  for (FlushItem& item : batch) {
    if (!item.on_durable) continue;
    Status st = status;
    if (st.ok() && item.kind == FlushItem::Kind::kBarrier &&
        (behind || lost_now != item.lost_writes_at_enqueue)) {
      st = Status::IoError("earlier writes have not reached flash (the device failed; retrying)");
    }
    item.on_durable(st);
  }
}

Status Engine::WriteCheckpointLocked(std::unique_lock<std::mutex>& lock) {
  // Only a fully written and synced state is a consistent snapshot.
  auto resume = [this] {
    commits_paused_ = false;
    resume_cv_.notify_all();
  };
  if (!queue_.empty() || !unsynced_.empty()) {
    resume();
    return Status::Busy("writes in flight");
  }
  Checkpoint cp;
  cp.store_id = store_id_;
  cp.next_seq = next_seq_;
  cp.replay_segment_id = active_ ? active_->id() : next_segment_id_;
  cp.replay_offset = active_ ? active_->end_offset() : kSegmentHeaderBytes;
  cp.entries.reserve(stats_.flash_objects);
  for (const auto& [key, e] : index_) {
    if (e.segment_id == 0 || e.dirty) continue;
    cp.entries.push_back({e.index_key().str(), EncodeRecordExt(e.meta.get()), e.seq, e.segment_id,
                          e.record_offset, e.value_len(), e.value_xxh3, e.created_ms, e.expires_ms,
                          e.sealed ? kRecordFlagSealed : uint16_t{0}});
  }
  changes_since_checkpoint_ = 0;
  resume();  // the snapshot is taken; writers may go on while it is written out
  lock.unlock();
  Status st = WriteCheckpoint(device_, options_.data_dir + "/" + kCheckpointFileName, cp);
  lock.lock();
  if (!st.ok()) {
    ++changes_since_checkpoint_;
    return st;
  }
  spdlog::debug("checkpoint written: {} objects", cp.entries.size());
  return Status::Ok();
}

Status Engine::WriteCheckpointNow() {
  CTX_RETURN_IF_ERROR(Flush());
  std::unique_lock lock(mu_);
  if (stop_flusher_) return Status::Unavailable("engine closed");
  uint64_t generation = checkpoint_generation_;
  checkpoint_requested_ = true;
  flush_cv_.notify_all();
  checkpoint_cv_.wait(lock, [&] { return checkpoint_generation_ != generation; });
  return checkpoint_result_;
}

}  // namespace ctxstore::engine
