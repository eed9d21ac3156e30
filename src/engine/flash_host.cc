// The engine's side of the flusher (FlusherHost) and of the flash tier's
// segment list: marking records durable, deciding what a failed write
// writes again, rolling to a new segment, reclaiming the oldest, giving up
// on a bad one.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/check.h"
#include "engine/engine.h"

namespace ctxstore::engine {

std::optional<uint64_t> Engine::CurrentSeqLocked(std::string_view index_key) {
  auto it = index_.find(index_key);
  if (it == index_.end()) return std::nullopt;
  return it->second.seq;
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

FlusherHost::Retry Engine::PrepareRetryLocked(FlushItem& item, bool closing) {
  auto it = index_.find(item.key);
  if (item.kind == FlushItem::Kind::kPut && item.carry) {
    if (it == index_.end() || it->second.seq != item.seq) return Retry::kDrop;  // superseded
    // Closing: the old segment stays (its barrier fails), so nothing is lost.
    return closing ? Retry::kDrop : Retry::kWriteAgain;
  }
  if (item.kind == FlushItem::Kind::kPut) {
    if (it == index_.end() || it->second.seq != item.seq) return Retry::kDrop;  // superseded
    Entry& e = it->second;
    CTX_CHECK(e.dirty && e.dram());
    if (closing) {
      // Give up. The object stays readable until shutdown only.
      e.dirty = false;
      --stats_.dirty_objects;
      AddToLruLocked(e);
      return Retry::kLost;
    }
    item.block = arena_->Pin(e.dram());
    return Retry::kWriteAgain;
  }
  if (item.kind == FlushItem::Kind::kTombstone) {
    if (it != index_.end() && it->second.seq > item.seq) return Retry::kDrop;  // put again since
    return closing ? Retry::kLost : Retry::kWriteAgain;
  }
  return Retry::kDrop;
}

void Engine::SnapshotLocked(Checkpoint* cp) {
  cp->store_id = store_id_;
  cp->replay_segment_id = next_segment_id_;
  cp->replay_offset = kSegmentHeaderBytes;
  cp->entries.reserve(stats_.flash_objects);
  for (const auto& [key, e] : index_) {
    if (e.segment_id == 0 || e.dirty) continue;
    cp->entries.push_back({e.index_key().str(), EncodeRecordExt(e.meta.get()), e.seq, e.segment_id,
                           e.record_offset, e.value_len(), e.value_xxh3, e.created_ms, e.expires_ms,
                           e.sealed ? kRecordFlagSealed : uint16_t{0}});
  }
}

void Engine::AppendedLocked(uint64_t bytes) {
  flash_bytes_ += bytes;
}

bool Engine::SegmentIsBad(uint64_t segment_id) {
  return segment_id == last_bad_segment_id_.load(std::memory_order_acquire);
}

Result<std::shared_ptr<Segment>> Engine::NewSegment(uint64_t record_len) {
  uint64_t need = std::max(options_.segment_bytes, kSegmentHeaderBytes + record_len);
  MutexLock lock(&mu_);
  while (flash_bytes_ + need > options_.disk_bytes && ReclaimOldestLocked()) {
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
  mu_.Unlock();
  auto seg = Segment::Create(device_, options_.data_dir, id, store_id_);
  mu_.Lock();
  if (!seg.ok()) {
    ++stats_.io_errors;
    return seg.status();
  }
  segments_[id] = *seg;
  flash_bytes_ += kSegmentHeaderBytes;
  return *seg;
}

bool Engine::ReclaimOldestLocked() {
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
      carried |= CarryForwardLocked(it->second);
    }
  }
  flash_bytes_ -= std::min(flash_bytes_, seg->end_offset());
  ++stats_.reclaimed_segments;
  if (carried) {
    retiring_.insert(id);
    FlushItem barrier;
    barrier.kind = FlushItem::Kind::kBarrier;
    barrier.lost_writes_at_enqueue = queue_.lost_writes;
    barrier.on_durable = [this, id](Status st) { FinishRetiring(id, st); };
    queue_.Push(std::move(barrier));
    return true;
  }
  segments_.erase(id);
  mu_.Unlock();
  Status st = device_->Remove(seg->path());  // open readers keep the file until they finish
  if (!st.ok()) spdlog::warn("reclaiming {}: {}", seg->path(), st.ToString());
  mu_.Lock();
  return true;
}

void Engine::MarkSegmentBadLocked(uint64_t segment_id) {
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
    if (!CarryForwardLocked(it->second)) continue;
    it = index_.find(key);
    if (it == index_.end() || it->second.seq != seq || it->second.dirty) continue;
    it->second.dirty = true;
    ++stats_.dirty_objects;
    lru_[it->second.lru_level].Remove(&it->second);
  }
}

void Engine::FinishRetiring(uint64_t segment_id, const Status& carried) {
  MutexLock lock(&mu_);
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
  mu_.Unlock();
  Status st = device_->Remove(seg->path());
  if (!st.ok()) spdlog::warn("reclaiming {}: {}", seg->path(), st.ToString());
  mu_.Lock();
}

}  // namespace ctxstore::engine
