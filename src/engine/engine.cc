#include "engine/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstring>
#include <future>

#include "common/clock.h"
#include "common/hash.h"
#include "common/units.h"

namespace ctxstore::engine {

Engine::Engine(const EngineOptions& options) : options_(options) {}

Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  std::unique_ptr<Engine> engine(new Engine(options));
  EngineOptions& o = engine->options_;
  if (o.memory_bytes < 4 * Arena::kPageSize) return Status::Invalid("memory size too small");
  if (o.disk_bytes < 4 * kMiB) return Status::Invalid("disk size must be at least 4 MiB");
  if (o.segment_bytes == 0) {
    o.segment_bytes = std::clamp<uint64_t>(o.disk_bytes / 16, 1 * kMiB, 256 * kMiB);
  }
  o.segment_bytes = RoundUpToBlock(o.segment_bytes);
  // A value must fit in DRAM (it is received there) and leave room on flash.
  uint64_t value_cap = std::min(o.memory_bytes, o.disk_bytes / 2);
  if (o.max_value_bytes > value_cap) {
    spdlog::warn("max value lowered from {} to {} to fit the DRAM and flash sizes",
                 FormatSize(o.max_value_bytes), FormatSize(value_cap));
    o.max_value_bytes = value_cap;
  }
  if (o.device == nullptr) {
    engine->owned_device_ = NewPosixDevice();
    engine->device_ = engine->owned_device_.get();
  } else {
    engine->device_ = o.device;
  }
  auto arena = Arena::Create(o.memory_bytes);
  if (!arena.ok()) return arena.status();
  engine->arena_ = std::move(*arena);
  CTX_RETURN_IF_ERROR(engine->Recover());
  engine->last_sync_ms_ = engine->last_checkpoint_ms_ = MonotonicMs();
  engine->flusher_ = std::thread([e = engine.get()] { e->FlusherLoop(); });
  return engine;
}

Engine::~Engine() {
  Status st = Close();
  if (!st.ok()) spdlog::error("engine close: {}", st.ToString());
}

Status Engine::Close() {
  std::lock_guard close_lock(close_mu_);  // one Close at a time joins the flusher
  {
    std::unique_lock lock(mu_);
    if (closed_ && !flusher_.joinable()) return Status::Ok();
    closed_ = true;
    stop_flusher_ = true;
    flush_cv_.notify_all();
  }
  if (flusher_.joinable()) flusher_.join();  // drains the queue, syncs, checkpoints
  std::unique_lock lock(mu_);
  if (lost_writes_ > 0) {
    return Status::IoError(std::to_string(lost_writes_) +
                           " records could not be written before closing");
  }
  return Status::Ok();
}

bool Engine::ExpiredLocked(const Entry& e) const {
  return e.expires_ms != 0 && e.expires_ms <= WallClockMs();
}

void Engine::SetDramLocked(Entry& e, std::shared_ptr<ArenaBlock> block) {
  if (!e.dram && block) ++stats_.dram_objects;
  if (e.dram && !block) --stats_.dram_objects;
  e.dram = std::move(block);
  if (!e.dram) lru_.Remove(&e);
}

void Engine::SetFlashLocked(Entry& e, uint64_t segment_id, uint64_t offset) {
  if (e.segment_id == 0) ++stats_.flash_objects;
  e.segment_id = segment_id;
  e.record_offset = offset;
}

void Engine::ClearFlashLocked(Entry& e) {
  if (e.segment_id != 0) --stats_.flash_objects;
  e.segment_id = 0;
  e.record_offset = 0;
}

void Engine::EraseLocked(Index::iterator it) {
  Entry& e = it->second;
  lru_.Remove(&e);
  SetDramLocked(e, nullptr);
  ClearFlashLocked(e);
  if (e.dirty) --stats_.dirty_objects;
  index_.erase(it);
}

std::shared_ptr<ArenaBlock> Engine::AllocateLocked(uint64_t bytes,
                                                   std::unique_lock<std::mutex>& lock, bool wait) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.space_wait_ms);
  while (true) {
    if (auto block = arena_->Allocate(bytes)) return block;
    // Evict the least recently used clean object; its flash copy stays readable.
    if (Entry* victim = lru_.back()) {
      ++stats_.evictions_dram;
      if (victim->segment_id == 0) {
        // Not on flash (its segment was reclaimed or failed): eviction drops it.
        EraseLocked(index_.find(*victim->key));
      } else {
        SetDramLocked(*victim, nullptr);
      }
      continue;
    }
    // Only unwritten (or in-use) data left: wait for the flusher to clean some.
    if (!wait || std::chrono::steady_clock::now() >= deadline) return nullptr;
    // Written data becomes evictable once synced: ask the flusher to sync now.
    ++space_waiters_;
    flush_cv_.notify_one();
    space_cv_.wait_until(
        lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(5)));
    --space_waiters_;
  }
}

Result<PutReservation> Engine::BeginPut(std::string_view key, uint64_t value_len,
                                        const WriteOptions& opts) {
  if (key.empty() || key.size() > 512) return Status::Invalid("key must be 1 to 512 bytes");
  if (value_len > options_.max_value_bytes) {
    return Status::TooLarge("value of " + std::to_string(value_len) +
                            " bytes exceeds the limit of " +
                            std::to_string(options_.max_value_bytes));
  }
  std::unique_lock lock(mu_);
  if (closed_) return Status::Unavailable("engine closed");
  if (!opts.overwrite) {
    auto it = index_.find(key);
    if (it != index_.end() && !ExpiredLocked(it->second)) return Status::Exists();
  }
  auto block = AllocateLocked(value_len, lock, /*wait=*/true);
  if (!block) {
    return Status::NoSpace("DRAM tier full of data not yet written to flash (" +
                           FormatSize(arena_->used_bytes()) + " in use)");
  }
  PutReservation r;
  r.key_ = std::string(key);
  r.value_len_ = value_len;
  r.opts_ = opts;
  r.block_ = std::move(block);
  return r;
}

Status Engine::CommitPut(PutReservation r, DurableCallback on_durable) {
  assert(r.block_ && r.block_->size() >= r.value_len_);
  // Zero the tail of the last page: it goes to flash with the value.
  std::memset(r.block_->data() + r.value_len_, 0, r.block_->size() - r.value_len_);
  FlushItem item;
  item.kind = FlushItem::Kind::kPut;
  item.value_len = r.value_len_;
  item.value_xxh3 = Xxh3(r.block_->data(), r.value_len_);
  item.created_ms = WallClockMs();
  item.block = r.block_;
  if (r.opts_.sync) item.on_durable = std::move(on_durable);

  std::unique_lock lock(mu_);
  WaitWhileCommitsPausedLocked(lock);
  if (closed_) return Status::Unavailable("engine closed");
  auto [it, inserted] = index_.try_emplace(r.key_);
  Entry& e = it->second;
  if (!inserted) {
    if (!r.opts_.overwrite && !ExpiredLocked(e)) return Status::Exists();  // lost the race
    // Replace in place: readers holding the old block keep it alive.
    lru_.Remove(&e);
    SetDramLocked(e, nullptr);
    ClearFlashLocked(e);
    if (e.dirty) --stats_.dirty_objects;
    e = Entry{};
  }
  e.key = &it->first;
  e.seq = next_seq_++;
  e.value_len = item.value_len;
  e.value_xxh3 = item.value_xxh3;
  e.created_ms = item.created_ms;
  SetDramLocked(e, std::move(r.block_));
  e.dirty = true;
  ++stats_.dirty_objects;
  ++stats_.puts;
  item.key = std::move(r.key_);
  item.seq = e.seq;
  Enqueue(std::move(item));
  return Status::Ok();
}

Status Engine::Put(std::string_view key, std::span<const uint8_t> value, const WriteOptions& opts) {
  auto r = BeginPut(key, value.size(), opts);
  if (!r.ok()) return r.status();
  if (!value.empty()) std::memcpy(r->buffer().data(), value.data(), value.size());
  if (!opts.sync) return CommitPut(std::move(*r), nullptr);
  std::promise<Status> done;
  auto fut = done.get_future();
  CTX_RETURN_IF_ERROR(
      CommitPut(std::move(*r), [&done](Status st) { done.set_value(std::move(st)); }));
  return fut.get();
}

Result<ValueRef> Engine::Get(std::string_view key) {
  std::unique_lock lock(mu_);
  if (closed_) return Status::Unavailable("engine closed");
  auto it = index_.find(key);
  if (it == index_.end() || ExpiredLocked(it->second)) {
    ++stats_.misses;
    return Status::NotFound();
  }
  Entry& e = it->second;
  if (e.dram) {
    if (e.on_lru) lru_.Touch(&e);
    ++stats_.hits_dram;
    return ValueRef{e.dram, e.dram->data(), e.value_len, e.value_xxh3};
  }
  // Flash only: read into a fresh arena block (or a heap buffer when DRAM is
  // full of unwritten data), verify, then promote into DRAM.
  assert(e.segment_id != 0);
  auto seg_it = segments_.find(e.segment_id);
  if (seg_it == segments_.end()) {
    EraseLocked(it);
    ++stats_.misses;
    return Status::NotFound();
  }
  std::shared_ptr<Segment> segment = seg_it->second;
  const uint64_t seq = e.seq, offset = e.record_offset, len = e.value_len, xxh3 = e.value_xxh3;
  RecordHeader h{};
  h.key_len = static_cast<uint16_t>(key.size());
  h.value_len = len;
  std::shared_ptr<ArenaBlock> block = AllocateLocked(len, lock, /*wait=*/false);
  lock.unlock();

  std::shared_ptr<AlignedBuffer> heap;
  uint8_t* dst = nullptr;
  if (block) {
    dst = block->data();
  } else {
    heap = std::make_shared<AlignedBuffer>(len);
    dst = heap->data;
  }
  Status st = segment->ReadValue(offset, h, dst);
  if (st.ok() && Xxh3(dst, len) != xxh3)
    st = Status::Corrupt("checksum mismatch in " + segment->path());

  lock.lock();
  auto again = index_.find(key);
  bool same = again != index_.end() && again->second.seq == seq;
  if (!st.ok()) {
    // Never serve these bytes. Corrupt: the object is gone, and a tombstone
    // keeps an older version of the key from coming back at recovery. An
    // I/O error may be transient: the object stays, the read fails.
    if (st.code() == StatusCode::kCorrupt) {
      ++stats_.corrupt_reads;
      spdlog::error("dropping '{}' after a failed flash read: {}", key, st.ToString());
      if (same) {
        EraseLocked(again);
        EnqueueTombstoneLocked(key, nullptr);
      }
    } else {
      ++stats_.io_errors;
      spdlog::error("flash read of '{}' failed: {}", key, st.ToString());
    }
    return st;
  }
  ++stats_.hits_flash;
  if (block) {
    if (same && !again->second.dram) {
      SetDramLocked(again->second, block);
      if (!again->second.dirty) lru_.PushFront(&again->second);
    }
    return ValueRef{block, block->data(), len, xxh3};
  }
  return ValueRef{heap, heap->data, len, xxh3};
}

Result<uint64_t> Engine::Exists(std::string_view key) {
  std::unique_lock lock(mu_);
  if (closed_) return Status::Unavailable("engine closed");
  auto it = index_.find(key);
  if (it == index_.end() || ExpiredLocked(it->second)) return Status::NotFound();
  return it->second.value_len;
}

uint32_t Engine::MatchPrefix(std::span<const std::string_view> keys) {
  std::unique_lock lock(mu_);
  uint32_t n = 0;
  for (std::string_view key : keys) {
    auto it = index_.find(key);
    if (it == index_.end() || ExpiredLocked(it->second)) break;
    ++n;
  }
  return n;
}

Status Engine::Delete(std::string_view key, bool sync, DurableCallback on_durable) {
  std::unique_lock lock(mu_);
  WaitWhileCommitsPausedLocked(lock);
  if (closed_) return Status::Unavailable("engine closed");
  auto it = index_.find(key);
  if (it == index_.end()) return Status::NotFound();
  // An expired object is already invisible: it is removed, but reported absent.
  bool was_live = !ExpiredLocked(it->second);
  EraseLocked(it);
  ++stats_.deletes;
  EnqueueTombstoneLocked(key, sync && was_live ? std::move(on_durable) : nullptr);
  return was_live ? Status::Ok() : Status::NotFound();
}

void Engine::EnqueueTombstoneLocked(std::string_view key, DurableCallback on_durable) {
  FlushItem item;
  item.kind = FlushItem::Kind::kTombstone;
  item.key = std::string(key);
  item.value_xxh3 = Xxh3(nullptr, 0);  // of its empty value
  item.seq = next_seq_++;
  item.created_ms = WallClockMs();
  item.on_durable = std::move(on_durable);
  Enqueue(std::move(item));
}

Status Engine::Delete(std::string_view key, bool sync) {
  if (!sync) return Delete(key, false, nullptr);
  std::promise<Status> done;
  auto fut = done.get_future();
  Status st = Delete(key, true, [&done](Status s) { done.set_value(std::move(s)); });
  if (!st.ok()) return st;  // the callback runs only on success
  return fut.get();
}

void Engine::Flush(DurableCallback on_durable) {
  FlushItem item;
  item.kind = FlushItem::Kind::kBarrier;
  item.on_durable = std::move(on_durable);
  std::unique_lock lock(mu_);
  if (closed_) {
    lock.unlock();
    item.on_durable(Status::Unavailable("engine closed"));
    return;
  }
  item.lost_writes_at_enqueue = lost_writes_;
  Enqueue(std::move(item));
}

Status Engine::Flush() {
  std::promise<Status> done;
  auto fut = done.get_future();
  Flush([&done](Status st) { done.set_value(std::move(st)); });
  return fut.get();
}

EngineStats Engine::Stats() const {
  std::unique_lock lock(mu_);
  EngineStats s = stats_;
  s.objects = index_.size();
  s.dram_bytes = arena_->used_bytes();
  s.dram_capacity_bytes = arena_->capacity_bytes();
  s.flash_bytes = flash_bytes_;
  s.flash_capacity_bytes = options_.disk_bytes;
  s.flash_segments = segments_.size();
  return s;
}

}  // namespace ctxstore::engine
