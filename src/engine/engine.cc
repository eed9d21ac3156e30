#include "engine/engine.h"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <future>

#include "common/check.h"
#include "common/clock.h"
#include "common/hash.h"
#include "common/heap.h"
#include "common/units.h"

namespace ctxstore::engine {

Status CheckKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyBytes)
    return Status::Invalid("keys are 1 to " + std::to_string(kMaxKeyBytes) + " bytes");
  return Status::Ok();
}

Engine::Engine(const EngineOptions& options)
    : options_(options),
      env_(options.env != nullptr ? options.env : Env::Default()),
      leases_(
          {.max_leases = options.max_leases, .max_leased_objects = options.max_leased_objects}) {}

Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  std::unique_ptr<Engine> engine(new Engine(options));
  EngineOptions& o = engine->options_;
  if (o.memory_bytes < 4 * Arena::kPageSize) return Status::Invalid("memory size too small");
  if (o.disk_bytes < 4 * kMiB) return Status::Invalid("disk size must be at least 4 MiB");
  if (o.segment_bytes == 0) {
    o.segment_bytes = std::clamp<uint64_t>(o.disk_bytes / 16, 1 * kMiB, 256 * kMiB);
  }
  // Index entries hold record offsets and value lengths in 32 bits.
  o.segment_bytes = RoundUpToBlock(std::min<uint64_t>(o.segment_bytes, 1 * kGiB));
  // A value must fit in DRAM (it is received there) and leave room on flash.
  uint64_t value_cap = std::min({o.memory_bytes, o.disk_bytes / 2, uint64_t{UINT32_MAX}});
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
  ReturnFreeHeapToOs();  // the checkpoint and segment buffers recovery read
  FlusherOptions fo;
  fo.device = engine->device_;
  fo.data_dir = o.data_dir;
  fo.segment_bytes = o.segment_bytes;
  fo.sync_interval_ms = o.sync_interval_ms;
  fo.checkpoint_interval_ms = o.checkpoint_interval_ms;
  fo.env = engine->env_;
  FlusherHost* host = engine.get();  // private base: converted here, in a member
  engine->flusher_ = std::make_unique<Flusher>(&engine->mu_, &engine->queue_, host, fo);
  engine->flusher_->Start(o.flusher_thread);
  return engine;
}

Status Engine::Recover() {
  Recovery recovery(device_, options_.data_dir, env_);
  CTX_RETURN_IF_ERROR(recovery.OpenStore());
  store_id_ = recovery.store_id();
  CTX_RETURN_IF_ERROR(LoadCatalog());
  MutexLock lock(&mu_);
  auto state = recovery.Replay([this](uint32_t ns)
                                   REQUIRES(mu_) { return FindNamespaceLocked(ns) != nullptr; },
                               &meta_interner_);
  if (!state.ok()) return state.status();
  InstallRecoveredLocked(std::move(*state));
  return Status::Ok();
}

void Engine::InstallRecoveredLocked(RecoveredState state) {
  index_ = std::move(state.index);
  segments_ = std::move(state.segments);
  flash_bytes_ = state.flash_bytes;
  next_segment_id_ = state.next_segment_id;
  queue_.set_next_seq(state.next_seq);
  if (state.needs_checkpoint) queue_.changes_since_checkpoint = 1;
  stats_.flash_objects = index_.size();  // every recovered object is on flash only
  stats_.recovered_objects = index_.size();
  stats_.recovered_from_checkpoint = state.from_checkpoint;
  stats_.corrupt_records_skipped = state.corrupt_records_skipped;
  stats_.torn_records_skipped = state.torn_records_skipped;
  stats_.recovery_ms = state.recovery_ms;
  // Oldest first, so that the eviction order starts out as write order.
  std::vector<Entry*> entries;
  entries.reserve(index_.size());
  for (auto&& [key, e] : index_) entries.push_back(&e);
  std::sort(entries.begin(), entries.end(), [](Entry* a, Entry* b) { return a->seq < b->seq; });
  for (Entry* e : entries) AttachLocked(*e);
}

Engine::~Engine() {
  Status st = Close();
  if (!st.ok()) spdlog::error("engine close: {}", st.ToString());
  flusher_.reset();
  // Entries hold their DRAM blocks by DramRef: return them before the arena goes.
  MutexLock lock(&mu_);
  for (auto&& [key, e] : index_) SetDramLocked(e, nullptr);
}

Status Engine::Close() {
  MutexLock close_lock(&close_mu_);  // one Close at a time stops the flusher
  // Open failed before starting it, or an earlier Close stopped it.
  if (flusher_ == nullptr || flusher_stopped_) return Status::Ok();
  {
    MutexLock lock(&mu_);
    closed_ = true;
    queue_.stopping = true;
    queue_.work_cv.SignalAll();
  }
  // It drains the queue, syncs and checkpoints.
  if (options_.flusher_thread) {
    flusher_->Join();
  } else {
    while (!flusher_->finished()) flusher_->RunOnce();
  }
  flusher_stopped_ = true;
  MutexLock lock(&mu_);
  if (queue_.lost_writes > 0) {
    return Status::IoError(std::to_string(queue_.lost_writes) +
                           " records could not be written before closing");
  }
  return Status::Ok();
}

uint64_t Engine::NowMs() const {
  return env_->WallClockMs();
}

bool Engine::ExpiredLocked(const Entry& e) const {
  // A lease holds off expiry until it ends.
  return e.expires_ms != 0 && e.expires_ms <= NowMs() && !LeasedLocked(e);
}

void Engine::SetDramLocked(Entry& e, const ArenaBlock* block) {
  if (DramRef old = e.dram()) {
    --stats_.dram_objects;
    lru_[e.lru_level].Remove(&e);
    arena_->Release(old);
    e.dram_page_plus_one = 0;
  }
  if (block != nullptr) {
    DramRef ref = arena_->Adopt(*block);
    CTX_CHECK(ref.pages == Arena::PagesFor(e.value_len()));
    e.dram_page_plus_one = ref.page + 1;
    ++stats_.dram_objects;
  }
}

void Engine::AddToLruLocked(Entry& e) {
  if (e.on_lru || !e.dram() || e.dirty) return;
  Namespace* ns = FindNamespaceLocked(e.namespace_id);
  e.lru_level = ns ? ns->config.priority : kDefaultPriority;
  lru_[e.lru_level].PushFront(&e);
}

void Engine::SetFlashLocked(Entry& e, uint64_t segment_id, uint64_t offset) {
  CTX_CHECK(segment_id != 0 && segment_id <= UINT32_MAX && offset <= UINT32_MAX);
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
  DetachLocked(e, /*orphan_children=*/true);
  leases_.Forget(e);
  lru_[e.lru_level].Remove(&e);
  SetDramLocked(e, nullptr);
  ClearFlashLocked(e);
  if (e.dirty) --stats_.dirty_objects;
  index_.erase(it);
}

std::shared_ptr<ArenaBlock> Engine::AllocateLocked(uint64_t bytes, bool wait) {
  // Without a flusher thread nothing would clean DRAM while this waits.
  wait = wait && options_.flusher_thread;
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.space_wait_ms);
  while (true) {
    if (auto block = arena_->Allocate(bytes)) return block;
    // Evict the least recently used clean object of the lowest priority
    // level; its flash copy stays readable. Leased objects and DRAM pins stay
    // (moved to the front, so each is passed over once per round).
    Entry* victim = nullptr;
    for (EntryList& list : lru_) {
      for (uint64_t seen = 0, n = list.size(); seen < n && list.back(); ++seen) {
        Entry* e = list.back();
        if (!LeasedLocked(*e) && !PinStateLocked(*e).dram) {
          victim = e;
          break;
        }
        list.Touch(e);
      }
      if (victim) break;
    }
    if (victim) {
      ++stats_.evictions_dram;
      if (victim->segment_id == 0) {
        // Not on flash (its segment was reclaimed or failed): eviction drops it.
        EraseLocked(index_.find(victim->index_key().view()));
      } else {
        SetDramLocked(*victim, nullptr);
      }
      continue;
    }
    // Only unwritten (or in-use) data left: wait for the flusher to clean some.
    if (!wait || std::chrono::steady_clock::now() >= deadline) return nullptr;
    // Written data becomes evictable once synced: ask the flusher to sync now.
    ++queue_.space_waiters;
    queue_.work_cv.Signal();
    queue_.space_cv.WaitUntil(
        &mu_, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(5)));
    --queue_.space_waiters;
  }
}

namespace {

bool HasModelFingerprint(std::string_view meta) {
  if (meta.empty() || meta.front() != '{') return false;
  nlohmann::json j = nlohmann::json::parse(meta, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  auto it = j.find("model_fingerprint");
  return it != j.end() && it->is_string() && !it->get_ref<const std::string&>().empty();
}

}  // namespace

Result<PutReservation> Engine::BeginPut(std::string_view key, uint64_t value_len,
                                        const WriteOptions& opts) {
  CTX_RETURN_IF_ERROR(CheckKey(key));
  if (value_len > options_.max_value_bytes) {
    return Status::TooLarge("value of " + std::to_string(value_len) +
                            " bytes exceeds the limit of " +
                            std::to_string(options_.max_value_bytes));
  }
  if (opts.group.size() > kMaxGroupBytes) {
    return Status::TooLarge("group name over " + std::to_string(kMaxGroupBytes) + " bytes");
  }
  if (opts.parent.size() > kMaxParentBytes) {
    return Status::TooLarge("parent key over " + std::to_string(kMaxParentBytes) + " bytes");
  }
  if (opts.meta.size() > kMaxMetaBytes) {
    return Status::TooLarge("metadata of " + std::to_string(opts.meta.size()) +
                            " bytes exceeds the limit of " + std::to_string(kMaxMetaBytes));
  }
  IndexKey ikey(opts.namespace_id, key);
  MutexLock lock(&mu_);
  if (closed_) return Status::Unavailable("engine closed");
  Namespace* ns = FindNamespaceLocked(opts.namespace_id);
  if (ns == nullptr) return Status::NotFound("namespace does not exist");
  if (ns->config.require_model_fingerprint && !HasModelFingerprint(opts.meta)) {
    return Status::Invalid("namespace '" + ns->name +
                           "' accepts only PUTs whose metadata is a JSON object with a "
                           "\"model_fingerprint\" string");
  }
  if (auto seal_key = SealKeyLocked(*ns); !seal_key.ok()) return seal_key.status();
  if (ns->config.quota_bytes != 0 && value_len > ns->config.quota_bytes) {
    return Status::TooLarge("value of " + FormatSize(value_len) + " exceeds the quota of " +
                            FormatSize(ns->config.quota_bytes) + " of namespace '" + ns->name +
                            "'");
  }
  if (!opts.overwrite) {
    auto it = index_.find(ikey.view());
    if (it != index_.end() && !ExpiredLocked(it->second)) return Status::Exists();
  }
  auto block = AllocateLocked(value_len, /*wait=*/true);
  if (!block) {
    return Status::NoSpace("DRAM tier full of data not yet written to flash, pinned or leased (" +
                           FormatSize(arena_->used_bytes()) + " in use)");
  }
  PutReservation r;
  r.key_ = ikey.str();
  r.value_len_ = value_len;
  r.opts_ = opts;
  r.block_ = std::move(block);
  return r;
}

Status Engine::CommitPut(PutReservation r, DurableCallback on_durable) {
  CTX_CHECK(r.block_ && r.block_->size() >= r.value_len_);
  // Zero the tail of the last page: it goes to flash with the value.
  std::memset(r.block_->data() + r.value_len_, 0, r.block_->size() - r.value_len_);
  FlushItem item;
  item.kind = FlushItem::Kind::kPut;
  item.value_len = r.value_len_;
  item.value_xxh3 = r.has_value_xxh3_ ? r.value_xxh3_ : Xxh3(r.block_->data(), r.value_len_);
  CTX_DCHECK(item.value_xxh3 == Xxh3(r.block_->data(), r.value_len_));
  if (r.opts_.expected_xxh3 && *r.opts_.expected_xxh3 != item.value_xxh3) {
    return Status::Corrupt(
        "the value does not match the checksum sent with it (damaged in transit?); nothing was "
        "stored");
  }
  item.block = r.block_;
  if (r.opts_.sync) item.on_durable = std::move(on_durable);
  MetaRef meta;
  {
    ObjectMeta m{std::move(r.opts_.group), std::move(r.opts_.parent), std::move(r.opts_.writer),
                 std::move(r.opts_.meta)};
    if (m.writer.size() > kMaxWriterBytes) m.writer.resize(kMaxWriterBytes);
    meta = meta_interner_.Make(std::move(m));
  }
  item.ext = EncodeRecordExt(meta.get());

  MutexLock lock(&mu_);
  WaitWhileCommitsPausedLocked();
  if (closed_) return Status::Unavailable("engine closed");
  Namespace* ns = FindNamespaceLocked(r.opts_.namespace_id);
  if (ns == nullptr) return Status::NotFound("namespace does not exist");
  auto seal_key = SealKeyLocked(*ns);
  if (!seal_key.ok()) return seal_key.status();
  item.seal_key = std::move(*seal_key);
  auto it = index_.find(r.key_);
  const bool replacing = it != index_.end();
  if (replacing && !r.opts_.overwrite && !ExpiredLocked(it->second)) {
    return Status::Exists();  // lost the race
  }
  uint64_t old_len = replacing ? it->second.value_len() : 0;
  CTX_RETURN_IF_ERROR(MakeRoomLocked(*ns, r.value_len_ > old_len ? r.value_len_ - old_len : 0,
                                     replacing ? &it->second : nullptr));
  if (!replacing) it = index_.try_emplace(r.key_).first;
  Entry& e = it->second;
  if (replacing) {
    // Replace in place: readers holding the old block keep it alive, and
    // children of the key stay linked to it.
    DetachLocked(e, /*orphan_children=*/false);
    leases_.Forget(e);  // leases name the old version's seq
    lru_[e.lru_level].Remove(&e);
    SetDramLocked(e, nullptr);
    ClearFlashLocked(e);
    if (e.dirty) --stats_.dirty_objects;
    e.Reset();
  }
  e.seq = queue_.TakeSeq();
  e.namespace_id = ns->id;
  e.set_value_len(item.value_len);
  e.value_xxh3 = item.value_xxh3;
  e.created_ms = NowMs();
  e.expires_ms = ComputeExpiryLocked(*ns, r.opts_.ttl_ms, e.created_ms);
  e.meta = std::move(meta);
  SetDramLocked(e, r.block_.get());
  e.dirty = true;
  AttachLocked(e);
  ++stats_.dirty_objects;
  ++stats_.puts;
  item.created_ms = e.created_ms;
  item.expires_ms = e.expires_ms;
  item.key = std::move(r.key_);
  item.seq = e.seq;
  queue_.Push(std::move(item));
  return Status::Ok();
}

Status Engine::Put(std::string_view key, std::span<const uint8_t> value, const WriteOptions& opts) {
  auto r = BeginPut(key, value.size(), opts);
  if (!r.ok()) return r.status();
  if (!value.empty()) std::memcpy(r->buffer().data(), value.data(), value.size());
  if (!opts.sync) return CommitPut(std::move(*r), nullptr);
  return WaitDurable(
      [&](DurableCallback on_durable) { return CommitPut(std::move(*r), std::move(on_durable)); });
}

Result<std::shared_ptr<const EncryptionKey>> Engine::SealKeyLocked(const Namespace& ns) const {
  if (ns.config.encryption_key.empty()) return std::shared_ptr<const EncryptionKey>();
  auto key = options_.keyring ? options_.keyring->FindByName(ns.config.encryption_key) : nullptr;
  if (key == nullptr) {
    // Never fall back to writing in the clear.
    return Status::KeyUnavailable("namespace '" + ns.name + "' is encrypted with key '" +
                                  ns.config.encryption_key + "', which is not loaded");
  }
  return key;
}

Engine::FlashRead Engine::PrepareFlashReadLocked(const Entry& e,
                                                 std::shared_ptr<Segment> segment) const {
  FlashRead read;
  read.segment = std::move(segment);
  read.record_offset = e.record_offset;
  read.header.key_len = e.key_len;
  read.header.ext_len = static_cast<uint32_t>(RecordExtLen(e.meta.get()));
  read.header.value_len = e.value_len();
  if (e.sealed) {
    read.header.flags = kRecordFlagSealed;
    read.aad = RecordAad(e.namespace_id, e.seq, e.user_key(), EncodeRecordExt(e.meta.get()));
  }
  return read;
}

Status Engine::ReadFlashValue(const FlashRead& read, uint8_t* dst, bool* retried) const {
  auto once = [&] {
    return read.segment->ReadValue(read.record_offset, read.header, dst, options_.keyring.get(),
                                   read.aad);
  };
  Status st = once();
  *retried = st.code() == StatusCode::kIoError;
  if (*retried) st = once();
  return st;
}

Result<ValueRef> Engine::Get(uint32_t ns, std::string_view user_key, bool never_block) {
  CTX_RETURN_IF_ERROR(CheckKey(user_key));
  IndexKey ikey(ns, user_key);
  std::string_view key = ikey.view();
  MutexLock lock(&mu_);
  if (closed_) return Status::Unavailable("engine closed");
  auto it = index_.find(key);
  if (it == index_.end() || ExpiredLocked(it->second)) {
    ++stats_.misses;
    return Status::NotFound();
  }
  Entry& e = it->second;
  if (never_block && !e.dram()) return Status::Busy("only on flash");
  if (Namespace* n = FindNamespaceLocked(e.namespace_id)) n->policy->Access(&e);
  if (e.dram()) {
    if (e.on_lru) {
      lru_[e.lru_level].Remove(&e);
      AddToLruLocked(e);  // at the front of its namespace's current level
    }
    ++stats_.hits_dram;
    return ValueRef{arena_->Pin(e.dram()), arena_->data(e.dram()), e.value_len(), e.value_xxh3,
                    e.meta};
  }
  // Flash only: read into a fresh arena block (or a heap buffer when DRAM is
  // full of unwritten data), verify, then promote into DRAM.
  CTX_CHECK(e.segment_id != 0);
  auto seg_it = segments_.find(e.segment_id);
  if (seg_it == segments_.end()) {
    EraseLocked(it);
    ++stats_.misses;
    return Status::NotFound();
  }
  const FlashRead read = PrepareFlashReadLocked(e, seg_it->second);
  const std::shared_ptr<Segment>& segment = read.segment;
  const uint64_t seq = e.seq, len = e.value_len(), xxh3 = e.value_xxh3;
  MetaRef meta = e.meta;
  std::shared_ptr<ArenaBlock> block = AllocateLocked(len, /*wait=*/false);
  mu_.Unlock();

  std::shared_ptr<AlignedBuffer> heap;
  uint8_t* dst = nullptr;
  if (block) {
    dst = block->data();
  } else {
    heap = std::make_shared<AlignedBuffer>(len);
    dst = heap->data;
  }
  bool retried = false;
  Status st = ReadFlashValue(read, dst, &retried);
  if (st.ok() && Xxh3(dst, len) != xxh3)
    st = Status::Corrupt("checksum mismatch in " + segment->path());

  mu_.Lock();
  if (retried) ++stats_.flash_read_retries;
  auto again = index_.find(key);
  bool same = again != index_.end() && again->second.seq == seq;
  if (!st.ok()) {
    // Never serve these bytes. Corrupt: the object is gone, and a tombstone
    // keeps an older version of the key from coming back at recovery. An
    // I/O error may be transient: the object stays, the read fails.
    if (st.code() == StatusCode::kCorrupt) {
      ++stats_.corrupt_reads;
      spdlog::error("dropping '{}' after a failed flash read: {}", user_key, st.ToString());
      if (same) {
        EraseLocked(again);
        EnqueueTombstoneLocked(key, nullptr);
      }
    } else if (st.code() == StatusCode::kIoError) {
      ++stats_.io_errors;
      spdlog::error("flash read of '{}' failed: {}", user_key, st.ToString());
      MarkSegmentBadLocked(segment->id());
    } else {
      // Its key is not loaded (or the read failed in memory): the object
      // stays, for when it is.
      if (st.code() == StatusCode::kKeyUnavailable) ++stats_.key_unavailable_reads;
      spdlog::warn("flash read of '{}' failed: {}", user_key, st.ToString());
    }
    return st;
  }
  ++stats_.hits_flash;
  if (block) {
    if (same && !again->second.dram()) {
      SetDramLocked(again->second, block.get());
      AddToLruLocked(again->second);
    }
    return ValueRef{block, block->data(), len, xxh3, meta};
  }
  return ValueRef{heap, heap->data, len, xxh3, meta};
}

Result<uint64_t> Engine::Exists(uint32_t ns, std::string_view key) {
  CTX_RETURN_IF_ERROR(CheckKey(key));
  IndexKey ikey(ns, key);
  MutexLock lock(&mu_);
  if (closed_) return Status::Unavailable("engine closed");
  auto it = index_.find(ikey.view());
  if (it == index_.end() || ExpiredLocked(it->second)) return Status::NotFound();
  return it->second.value_len();
}

Result<MatchResult> Engine::MatchPrefix(uint32_t ns, std::span<const std::string_view> keys,
                                        uint64_t lease_ms) {
  if (lease_ms > options_.max_lease_ms) {
    return Status::Invalid("lease of " + std::to_string(lease_ms) + " ms exceeds the maximum of " +
                           std::to_string(options_.max_lease_ms) + " ms");
  }
  MutexLock lock(&mu_);
  if (closed_) return Status::Unavailable("engine closed");
  Namespace* n = FindNamespaceLocked(ns);
  MatchResult result;
  if (n == nullptr) return result;
  std::vector<Entry*> matched;
  for (std::string_view key : keys) {
    if (!CheckKey(key).ok()) break;
    auto it = index_.find(IndexKey(ns, key).view());
    if (it == index_.end() || ExpiredLocked(it->second)) break;
    n->policy->Access(&it->second);
    matched.push_back(&it->second);
  }
  result.matched = static_cast<uint32_t>(matched.size());
  if (lease_ms == 0 || matched.empty()) return result;
  auto lease_id =
      leases_.Take(ns, n->name, n->config.max_leased_objects, matched, lease_ms, NowMs());
  if (!lease_id.ok()) return lease_id.status();
  result.lease_id = *lease_id;
  return result;
}

Status Engine::Delete(uint32_t ns, std::string_view user_key, bool sync,
                      DurableCallback on_durable) {
  CTX_RETURN_IF_ERROR(CheckKey(user_key));
  IndexKey ikey(ns, user_key);
  std::string_view key = ikey.view();
  MutexLock lock(&mu_);
  WaitWhileCommitsPausedLocked();
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
  item.seq = queue_.TakeSeq();
  item.created_ms = NowMs();
  item.on_durable = std::move(on_durable);
  queue_.Push(std::move(item));
}

Status Engine::Delete(uint32_t ns, std::string_view key, bool sync) {
  if (!sync) return Delete(ns, key, false, nullptr);
  return WaitDurable([&](DurableCallback on_durable) {
    return Delete(ns, key, true, std::move(on_durable));  // runs it only on success
  });
}

void Engine::Flush(DurableCallback on_durable) {
  FlushItem item;
  item.kind = FlushItem::Kind::kBarrier;
  item.on_durable = std::move(on_durable);
  MutexLock lock(&mu_);
  if (closed_) {
    mu_.Unlock();
    item.on_durable(Status::Unavailable("engine closed"));
    return;
  }
  item.lost_writes_at_enqueue = queue_.lost_writes;
  queue_.Push(std::move(item));
}

Status Engine::Flush() {
  return WaitDurable([&](DurableCallback on_durable) {
    Flush(std::move(on_durable));
    return Status::Ok();
  });
}

Status Engine::WaitDurable(const std::function<Status(DurableCallback)>& start) {
  auto done = std::make_shared<std::promise<Status>>();
  std::future<Status> result = done->get_future();
  CTX_RETURN_IF_ERROR(start([done](Status st) { done->set_value(std::move(st)); }));
  if (!options_.flusher_thread) {
    while (result.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      flusher_->RunOnce();
    }
  }
  return result.get();
}

void Engine::WaitWhileCommitsPausedLocked() {
  // Bounded, so that a checkpoint can delay writers but never stall them;
  // not at all without a flusher thread (nothing would resume them).
  if (!options_.flusher_thread) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (queue_.commits_paused && !closed_) {
    if (!queue_.resume_cv.WaitUntil(&mu_, deadline)) break;
  }
}

Status Engine::WriteCheckpointNow() {
  CTX_RETURN_IF_ERROR(Flush());
  MutexLock lock(&mu_);
  if (queue_.stopping) return Status::Unavailable("engine closed");
  const uint64_t generation = queue_.checkpoint_generation;
  queue_.checkpoint_requested = true;
  queue_.work_cv.SignalAll();
  while (queue_.checkpoint_generation == generation) {
    if (options_.flusher_thread) {
      queue_.checkpoint_cv.Wait(&mu_);
    } else {
      mu_.Unlock();
      flusher_->RunOnce();
      mu_.Lock();
    }
  }
  return queue_.checkpoint_result;
}

EngineStats Engine::Stats() const {
  MutexLock lock(&mu_);
  EngineStats s = stats_;
  s.objects = index_.size();
  s.dram_bytes = arena_->used_bytes();
  s.dram_capacity_bytes = arena_->capacity_bytes();
  s.dram_populated_bytes = arena_->populated_bytes();
  s.index_bytes = index_.memory_bytes();
  s.flash_bytes = flash_bytes_;
  s.flash_capacity_bytes = options_.disk_bytes;
  s.flash_segments = segments_.size();
  s.leases = leases_.leases();
  s.pin_rules = key_pins_.size() + group_pins_.size();
  s.namespaces = namespaces_.size();
  s.io_errors += queue_.write_io_errors;
  s.writes_coalesced = queue_.writes_coalesced;
  s.write_retries = queue_.write_retries;
  s.sealed_records = queue_.sealed_records;
  return s;
}

}  // namespace ctxstore::engine
