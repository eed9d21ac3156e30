#include "engine/flash/segment_set.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "common/check.h"
#include "engine/flash/flash_read.h"

namespace ctxstore::engine {

SegmentSet::SegmentSet(Device* device, const Options& options, Arena* arena, ObjectTable* objects,
                       Catalog* catalog, FlushQueue* queue, EngineStats* stats)
    : device_(device),
      options_(options),
      arena_(arena),
      objects_(objects),
      catalog_(catalog),
      queue_(queue),
      stats_(stats) {}

void SegmentSet::Install(std::map<uint64_t, std::shared_ptr<Segment>> segments,
                         uint64_t flash_bytes, uint64_t next_id, uint64_t store_id) {
  segments_ = std::move(segments);
  flash_bytes_ = flash_bytes;
  next_id_ = next_id;
  store_id_ = store_id;
}

std::shared_ptr<Segment> SegmentSet::Find(uint64_t id) const {
  auto it = segments_.find(id);
  return it == segments_.end() ? nullptr : it->second;
}

Result<std::shared_ptr<Segment>> SegmentSet::Create(uint64_t record_len, Mutex* mu) {
  const uint64_t need = std::max(options_.segment_bytes, kSegmentHeaderBytes + record_len);
  while (flash_bytes_ + need > options_.disk_bytes && ReclaimOldest(mu)) {
  }
  if (flash_bytes_ + need > options_.disk_bytes) {
    return Status::NoSpace("a record of " + std::to_string(record_len) +
                           " bytes exceeds the flash size");
  }
  if (next_id_ > kMaxSegmentId) {
    // Index entries name segments in 32 bits: 4 billion segments written.
    return Status::NoSpace("segment ids exhausted");
  }
  const uint64_t id = next_id_++;
  const uint64_t now = objects_->NowMs();
  mu->Unlock();
  auto segment = Segment::Create(device_, options_.data_dir, id, store_id_, now);
  mu->Lock();
  if (!segment.ok()) {
    ++stats_->io_errors;
    return segment.status();
  }
  segments_[id] = *segment;
  flash_bytes_ += kSegmentHeaderBytes;
  return *segment;
}

bool SegmentSet::ReclaimOldest(Mutex* mu) {
  auto oldest = segments_.begin();
  while (oldest != segments_.end() && retiring_.contains(oldest->first)) ++oldest;
  if (oldest == segments_.end()) return false;
  std::shared_ptr<Segment> segment = oldest->second;
  const uint64_t id = oldest->first;
  // Pinned objects are never dropped: they are written again, and their
  // segment stays (readable, but off the flash budget) until those copies
  // are durable, so a crash in between finds them in the old file.
  bool carried = false;
  for (const std::string& key : ReleaseObjects(id)) {
    Entry* e = objects_->Find(key);
    if (e != nullptr && e->segment_id == id) carried |= CarryForward(*e, mu);
  }
  flash_bytes_ -= std::min(flash_bytes_, segment->end_offset());
  ++stats_->reclaimed_segments;
  if (carried) {
    retiring_.insert(id);
    queue_->PushBarrier([this, id, mu](Status st) { FinishRetiring(id, st, mu); });
    return true;
  }
  segments_.erase(id);
  mu->Unlock();
  Status st = RemoveDurably(segment->path());  // open readers keep the file until they finish
  if (!st.ok()) spdlog::warn("reclaiming {}: {}", segment->path(), st.ToString());
  mu->Lock();
  return true;
}

Status SegmentSet::RemoveDurably(const std::string& path) {
  // The remove is synced before anything relies on the objects being gone:
  // a power cut that undid it would bring reclaimed objects back, after a
  // delete of one answered NOT_FOUND (and wrote no tombstone), say.
  CTX_RETURN_IF_ERROR(device_->Remove(path));
  return device_->SyncDir(options_.data_dir);
}

std::vector<std::string> SegmentSet::ReleaseObjects(uint64_t id) {
  const uint64_t now = objects_->NowMs();
  std::vector<std::string> pinned;
  for (Entry* e : objects_->EntriesOnSegment(id)) {
    if (catalog_->PinStateOf(*e, now).pinned) {
      pinned.push_back(e->index_key().str());
      continue;
    }
    objects_->ClearFlash(*e);
    if (!e->dram()) {
      objects_->Erase(*e);
      ++stats_->reclaimed_objects;
    }
  }
  return pinned;
}

bool SegmentSet::CarryForward(Entry& e, Mutex* mu) {
  const std::string key = e.index_key().str();
  const uint64_t seq = e.seq, len = e.value_len();
  // A private copy of the value: the flusher cannot wait for DRAM (it is
  // what frees it), and the entry stays clean and readable meanwhile.
  auto value = std::make_shared<AlignedBuffer>(len);
  std::memset(value->data, 0, value->size);
  Status st = Status::Ok();
  if (e.dram()) {
    std::memcpy(value->data, arena_->data(e.dram()), len);
  } else {
    std::shared_ptr<Segment> segment = Find(e.segment_id);
    if (segment == nullptr) return false;
    const FlashRead read = FlashRead::Of(e, std::move(segment));
    mu->Unlock();
    bool retried = false;
    st = read.ReadInto(value->data, options_.keyring.get(), &retried);
    mu->Lock();
    if (retried) ++stats_->flash_read_retries;
  }
  Entry* entry = objects_->Find(key);
  if (entry == nullptr || entry->seq != seq) return false;  // changed meanwhile
  // The copy is sealed with the key its namespace names now; never written
  // in the clear when that key is not loaded.
  std::shared_ptr<const EncryptionKey> seal_key;
  if (st.ok()) {
    const Namespace* ns = catalog_->Find(entry->namespace_id);
    Result<std::shared_ptr<const EncryptionKey>> k = Status::NotFound("namespace deleted");
    if (ns != nullptr) k = catalog_->SealKey(*ns);
    if (k.ok()) {
      seal_key = std::move(*k);
    } else {
      st = k.status();
    }
  }
  if (!st.ok()) {
    ++stats_->pinned_lost;
    spdlog::error("pinned object '{}' lost in flash reclaim: {}", IndexKeyUserKey(key),
                  st.ToString());
    objects_->EraseDurably(*entry);
    return false;
  }
  FlushItem item;
  item.kind = FlushItem::Kind::kPut;
  item.carry = true;
  item.carried_value = std::move(value);
  item.seal_key = std::move(seal_key);
  item.key = key;
  item.seq = seq;
  item.value_len = len;
  item.value_xxh3 = entry->value_xxh3;
  item.created_ms = entry->created_ms;
  item.expires_ms = entry->expires_ms;
  item.attrs = EncodeRecordAttrs(entry->meta.get());
  queue_->Push(std::move(item));
  return true;
}

Result<ValueRef> SegmentSet::Read(Entry& e, Mutex* mu) {
  CTX_CHECK(e.segment_id != 0);
  std::shared_ptr<Segment> segment = Find(e.segment_id);
  if (segment == nullptr) {
    objects_->Erase(e);
    ++stats_->misses;
    return Status::NotFound();
  }
  const FlashRead read = FlashRead::Of(e, segment);
  const std::string key = e.index_key().str();
  const uint64_t seq = e.seq, len = e.value_len(), xxh3 = e.value_xxh3;
  MetaRef meta = e.meta;
  std::shared_ptr<ArenaBlock> block = objects_->Allocate(len, /*wait_ms=*/0, mu);
  mu->Unlock();
  // Zero the tail of the last page, as CommitPut does: a packed or sealed
  // value fills only len bytes, and a promoted block may be written to flash
  // again, tail and all (Engine::SetExpiry rewrites it as a new version).
  if (block) std::memset(block->data() + len, 0, block->size() - len);
  std::shared_ptr<AlignedBuffer> heap;
  if (!block) heap = std::make_shared<AlignedBuffer>(len);
  bool retried = false;
  Status st = read.ReadInto(block ? block->data() : heap->data, options_.keyring.get(), &retried);
  mu->Lock();
  if (retried) ++stats_->flash_read_retries;
  Entry* again = objects_->Find(key);
  if (again != nullptr && again->seq != seq) again = nullptr;  // replaced or gone meanwhile
  if (!st.ok()) {
    ReadFailed(st, IndexKeyUserKey(key), again, segment->id(), mu);
    return st;
  }
  ++stats_->hits_flash;
  if (!block) return ValueRef{heap, heap->data, len, xxh3, meta};
  if (again != nullptr && !again->dram()) {
    objects_->SetDram(*again, block.get());
    objects_->AddToLru(*again);
  }
  return ValueRef{block, block->data(), len, xxh3, meta};
}

void SegmentSet::ReadFailed(const Status& st, std::string_view user_key, Entry* entry,
                            uint64_t segment_id, Mutex* mu) {
  // Never serve these bytes. Corrupt: the object is gone, and a tombstone
  // keeps an older version of the key from coming back at recovery. An
  // I/O error may be transient: the object stays, the read fails.
  if (st.code() == StatusCode::kCorrupt) {
    ++stats_->corrupt_reads;
    spdlog::error("dropping '{}' after a failed flash read: {}", user_key, st.ToString());
    if (entry != nullptr) objects_->EraseDurably(*entry);
  } else if (st.code() == StatusCode::kIoError) {
    ++stats_->io_errors;
    spdlog::error("flash read of '{}' failed: {}", user_key, st.ToString());
    MarkBad(segment_id, mu);
  } else {
    // Its key is not loaded (or the read failed in memory): the object
    // stays, for when it is.
    if (st.code() == StatusCode::kKeyUnavailable) ++stats_->key_unavailable_reads;
    spdlog::warn("flash read of '{}' failed: {}", user_key, st.ToString());
  }
}

void SegmentSet::MarkBad(uint64_t id, Mutex* mu) {
  if (!segments_.contains(id)) return;
  last_bad_id_.store(id, std::memory_order_release);
  std::vector<std::string> resident, dropped;
  for (Entry* e : objects_->EntriesOnSegment(id)) {
    (e->dram() ? resident : dropped).push_back(e->index_key().str());
  }
  ++stats_->bad_segments;
  spdlog::error(
      "segment {} is bad after an I/O error: {} objects in DRAM are written again, {} "
      "objects only on it are dropped",
      id, resident.size(), dropped.size());
  for (const std::string& key : dropped) {
    Entry* e = objects_->Find(key);
    if (e == nullptr || e->segment_id != id) continue;
    objects_->EraseDurably(*e);
    ++stats_->bad_segment_objects;
  }
  for (const std::string& key : resident) {
    Entry* e = objects_->Find(key);
    if (e == nullptr || e->segment_id != id) continue;
    // Copied from DRAM (no read of the bad segment); the entry's flash
    // copy is gone until the new one is durable, so it is dirty meanwhile.
    objects_->ClearFlash(*e);
    const uint64_t seq = e->seq;
    if (!CarryForward(*e, mu)) continue;
    e = objects_->Find(key);
    if (e != nullptr && e->seq == seq) objects_->MarkDirty(*e);
  }
}

void SegmentSet::FinishRetiring(uint64_t id, const Status& carried, Mutex* mu) {
  std::shared_ptr<Segment> segment;
  {
    MutexLock lock(mu);
    auto it = segments_.find(id);
    if (it == segments_.end()) return;
    if (!carried.ok()) {
      // Kept (still retiring, off the budget) until a restart scans it again.
      spdlog::warn("keeping {}: the pinned objects carried out of it are not durable ({})",
                   it->second->path(), carried.ToString());
      return;
    }
    segment = it->second;
    segments_.erase(it);
    retiring_.erase(id);
  }
  Status st = RemoveDurably(segment->path());
  if (!st.ok()) spdlog::warn("reclaiming {}: {}", segment->path(), st.ToString());
}

}  // namespace ctxstore::engine
