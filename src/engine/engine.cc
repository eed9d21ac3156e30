#include "engine/engine.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>
#include <future>

#include "common/check.h"
#include "common/clock.h"
#include "common/hash.h"
#include "common/heap.h"
#include "common/units.h"
#include "engine/flash/recovery.h"
#include "engine/write_checks.h"

namespace ctxstore::engine {

Engine::Engine(const EngineOptions& options, std::unique_ptr<Arena> arena)
    : options_(options),
      env_(options.env != nullptr ? options.env : Env::Default()),
      owned_device_(options.device != nullptr ? nullptr : NewPosixDevice()),
      device_(options.device != nullptr ? options.device : owned_device_.get()),
      arena_(std::move(arena)),
      catalog_(device_, options.data_dir, options.eviction_policy, options.keyring),
      leases_({options.max_leases, options.max_leased_objects}, env_->RandomU64()),
      queue_(options.flusher_thread),
      objects_(arena_.get(), &catalog_, &leases_, &queue_, env_, &stats_),
      segments_(device_,
                {.data_dir = options.data_dir,
                 .disk_bytes = options.disk_bytes,
                 .segment_bytes = options.segment_bytes,
                 .keyring = options.keyring},
                arena_.get(), &objects_, &catalog_, &queue_, &stats_),
      flash_host_(&mu_, &objects_, &catalog_, &segments_, env_) {}

Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  EngineOptions o = options;
  CTX_RETURN_IF_ERROR(Normalize(&o));
  auto arena = Arena::Create(o.memory_bytes, o.populate_dram);
  if (!arena.ok()) return arena.status();
  std::unique_ptr<Engine> engine(new Engine(o, std::move(*arena)));
  CTX_RETURN_IF_ERROR(engine->Recover());
  ReturnFreeHeapToOs();  // the checkpoint and segment buffers recovery read
  engine->StartFlusher();
  return engine;
}

Status Engine::Recover() {
  Recovery recovery(device_, options_.data_dir, env_);
  CTX_RETURN_IF_ERROR(recovery.OpenStore());
  MutexLock lock(&mu_);
  CTX_RETURN_IF_ERROR(catalog_.Load(NowMs()));
  auto state = recovery.Replay(
      [this](uint32_t ns) REQUIRES(mu_) { return catalog_.Find(ns) != nullptr; }, &interner_);
  if (!state.ok()) return state.status();
  segments_.Install(std::move(state->segments), state->flash_bytes, state->next_segment_id,
                    recovery.store_id());
  queue_.set_next_seq(state->next_seq);
  if (state->needs_checkpoint) queue_.changes_since_checkpoint = 1;
  stats_.flash_objects = stats_.recovered_objects = state->index.size();
  stats_.recovered_from_checkpoint = state->from_checkpoint;
  stats_.corrupt_records_skipped = state->corrupt_records_skipped;
  stats_.torn_records_skipped = state->torn_records_skipped;
  stats_.recovery_ms = state->recovery_ms;
  objects_.Install(std::move(state->index));
  return Status::Ok();
}

void Engine::StartFlusher() {
  FlusherOptions fo{.device = device_, .data_dir = options_.data_dir, .env = env_};
  fo.segment_bytes = options_.segment_bytes;
  fo.sync_interval_ms = options_.sync_interval_ms;
  fo.checkpoint_interval_ms = options_.checkpoint_interval_ms;
  fo.gather_us = options_.flush_gather_us;
  flusher_ = std::make_unique<Flusher>(&mu_, &queue_, &flash_host_, fo);
  flusher_->Start(options_.flusher_thread);
}

Engine::~Engine() {
  Status st = Close();
  if (!st.ok()) spdlog::error("engine close: {}", st.ToString());
}

Status Engine::Close() {
  MutexLock close_lock(&close_mu_);
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

Result<PutReservation> Engine::BeginPut(std::string_view key, uint64_t value_len,
                                        const WriteOptions& opts) {
  CTX_RETURN_IF_ERROR(CheckWrite(key, value_len, opts, options_.max_value_bytes));
  IndexKey ikey(opts.namespace_id, key);
  MutexLock lock(&mu_);
  if (closed_) return Status::Unavailable("engine closed");
  const Namespace* ns = catalog_.Find(opts.namespace_id);
  if (ns == nullptr) return Status::NotFound("namespace does not exist");
  CTX_RETURN_IF_ERROR(CheckWriteInto(catalog_, *ns, opts, value_len));
  const bool present = objects_.FindVisible(ikey.view()) != nullptr;
  if (present && !opts.replaces()) return Status::Exists();
  if (!present && opts.only_if_present) {
    return Status::NotFound("no such key to replace (only if present)");
  }
  auto block = objects_.Allocate(value_len, SpaceWaitMs(), &mu_);
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
  const uint64_t xxh3 = r.has_value_xxh3_ ? r.value_xxh3_ : Xxh3(r.block_->data(), r.value_len_);
  CTX_DCHECK(xxh3 == Xxh3(r.block_->data(), r.value_len_));
  if (r.opts_.expected_xxh3 && *r.opts_.expected_xxh3 != xxh3) {
    return Status::Corrupt(
        "the value does not match the checksum sent with it (damaged in transit?); nothing was "
        "stored");
  }
  ObjectMeta m{std::move(r.opts_.group), std::move(r.opts_.parent), std::move(r.opts_.writer),
               std::move(r.opts_.meta)};
  if (m.writer.size() > kMaxWriterBytes) m.writer.resize(kMaxWriterBytes);
  MetaRef meta = interner_.Make(std::move(m));
  std::string attrs = EncodeRecordAttrs(meta.get());
  MutexLock lock(&mu_);
  queue_.WaitWhileCommitsPaused(&mu_);
  if (closed_) return Status::Unavailable("engine closed");
  Namespace* ns = catalog_.Find(r.opts_.namespace_id);
  if (ns == nullptr) return Status::NotFound("namespace does not exist");
  auto seal_key = catalog_.SealKey(*ns);
  if (!seal_key.ok()) return seal_key.status();
  // Again under the lock: another write or a delete may have come since
  // BeginPut (and the caller may have amended the conditions).
  Entry* old = objects_.Find(r.key_);
  const bool present = old != nullptr && !objects_.Expired(*old);
  if (present && !r.opts_.replaces()) return Status::Exists();  // lost the race
  if (!present && r.opts_.only_if_present) {
    return Status::NotFound(
        "no such key to replace (only if present): deleted or expired before the commit; nothing "
        "was stored");
  }
  const uint64_t old_len = old != nullptr ? old->value_len() : 0;
  CTX_RETURN_IF_ERROR(
      objects_.MakeRoom(*ns, r.value_len_ > old_len ? r.value_len_ - old_len : 0, old));
  const Entry& e = objects_.Put(r.key_, *ns, *r.block_, r.value_len_, xxh3, r.opts_.ttl_ms,
                                r.opts_.keep_ttl, std::move(meta));
  queue_.Push(FlushItem::ForPut(e, std::move(r.key_), std::move(attrs), std::move(r.block_),
                                std::move(*seal_key),
                                r.opts_.sync ? std::move(on_durable) : nullptr));
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

Result<ValueRef> Engine::Get(uint32_t ns, std::string_view user_key, bool never_block) {
  CTX_RETURN_IF_ERROR(CheckKey(user_key));
  IndexKey ikey(ns, user_key);
  MutexLock lock(&mu_);
  if (closed_) return Status::Unavailable("engine closed");
  Entry* e = objects_.FindVisible(ikey.view());
  if (e == nullptr) {
    ++stats_.misses;
    return Status::NotFound();
  }
  if (never_block && !e->dram()) return Status::Busy("only on flash");
  objects_.Touch(*e);
  if (!e->dram()) return segments_.Read(*e, &mu_);
  ++stats_.hits_dram;
  return ValueRef{arena_->Share(e->dram()), arena_->data(e->dram()), e->value_len(), e->value_xxh3,
                  e->meta};
}

Result<uint64_t> Engine::Exists(uint32_t ns, std::string_view key) {
  CTX_RETURN_IF_ERROR(CheckKey(key));
  IndexKey ikey(ns, key);
  MutexLock lock(&mu_);
  if (closed_) return Status::Unavailable("engine closed");
  const Entry* e = objects_.FindVisible(ikey.view());
  if (e == nullptr) return Status::NotFound();
  return e->value_len();
}

Result<MatchResult> Engine::MatchPrefix(uint32_t ns, std::span<const std::string_view> keys,
                                        uint64_t lease_ms) {
  if (lease_ms > options_.max_lease_ms) {
    return Status::Invalid("lease of " + std::to_string(lease_ms) + " ms exceeds the maximum of " +
                           std::to_string(options_.max_lease_ms) + " ms");
  }
  MutexLock lock(&mu_);
  if (closed_) return Status::Unavailable("engine closed");
  const Namespace* n = catalog_.Find(ns);
  MatchResult result;
  if (n == nullptr) return result;
  std::vector<Entry*> matched;
  for (std::string_view key : keys) {
    if (!CheckKey(key).ok()) break;
    Entry* e = objects_.FindVisible(IndexKey(ns, key).view());
    if (e == nullptr) break;
    objects_.Accessed(*e);
    matched.push_back(e);
  }
  result.matched = static_cast<uint32_t>(matched.size());
  if (lease_ms == 0 || matched.empty()) return result;
  auto lease_id =
      leases_.Take(ns, n->name, n->config.max_leased_objects, matched, lease_ms, NowMs());
  if (!lease_id.ok()) return lease_id.status();
  result.lease_id = *lease_id;
  return result;
}

Status Engine::ReleaseLease(uint32_t ns, uint64_t lease_id) {
  MutexLock lock(&mu_);
  return objects_.ReleaseLease(ns, lease_id);
}

Status Engine::Delete(uint32_t ns, std::string_view user_key, bool sync,
                      DurableCallback on_durable) {
  CTX_RETURN_IF_ERROR(CheckKey(user_key));
  IndexKey ikey(ns, user_key);
  MutexLock lock(&mu_);
  queue_.WaitWhileCommitsPaused(&mu_);
  if (closed_) return Status::Unavailable("engine closed");
  Entry* e = objects_.Find(ikey.view());
  if (e == nullptr) return Status::NotFound();
  // An expired object is already invisible: it is removed, but reported absent.
  const bool was_live = !objects_.Expired(*e);
  objects_.EraseDurably(*e, sync && was_live ? std::move(on_durable) : nullptr);
  ++stats_.deletes;
  return was_live ? Status::Ok() : Status::NotFound();
}

Status Engine::Delete(uint32_t ns, std::string_view key, bool sync) {
  if (!sync) return Delete(ns, key, false, nullptr);
  return WaitDurable([&](DurableCallback on_durable) {
    return Delete(ns, key, true, std::move(on_durable));  // runs it only on success
  });
}

Result<uint64_t> Engine::DeleteGroup(uint32_t ns, std::string_view group) {
  if (group.empty() || group.size() > kMaxGroupBytes) {
    return Status::Invalid("group must be 1 to 512 bytes");
  }
  MutexLock lock(&mu_);
  queue_.WaitWhileCommitsPaused(&mu_);
  if (closed_) return Status::Unavailable("engine closed");
  return objects_.DeleteGroup(ns, group);
}

Result<ObjectInfo> Engine::Stat(uint32_t ns, std::string_view key) {
  CTX_RETURN_IF_ERROR(CheckKey(key));
  IndexKey ikey(ns, key);
  MutexLock lock(&mu_);
  if (closed_) return Status::Unavailable("engine closed");
  const Entry* e = objects_.FindVisible(ikey.view());
  if (e == nullptr) return Status::NotFound();
  return objects_.Info(*e);
}

Result<ListPage> Engine::List(uint32_t ns, const ListOptions& opts) {
  if (opts.limit == 0 || opts.limit > kMaxListLimit) {
    return Status::Invalid("list limit must be 1 to " + std::to_string(kMaxListLimit));
  }
  MutexLock lock(&mu_);
  if (closed_) return Status::Unavailable("engine closed");
  return objects_.List(ns, opts);
}

Result<uint64_t> Engine::Pin(uint32_t ns, std::string_view name, const PinOptions& opts) {
  if (name.empty() || name.size() > 512) return Status::Invalid("pin names are 1 to 512 bytes");
  const std::string ikey = IndexKey(ns, name).str();
  std::vector<std::string> members;
  {
    MutexLock catalog_lock(&catalog_mu_);
    MutexLock lock(&mu_);
    if (closed_) return Status::Unavailable("engine closed");
    const Namespace* n = catalog_.Find(ns);
    if (n == nullptr) return Status::NotFound("namespace does not exist");
    const uint64_t now = NowMs();
    CTX_RETURN_IF_ERROR(catalog_.CheckPinLimits(*n, ikey, opts.group, now, options_.max_pins));
    auto found = objects_.PinMembers(ns, name, opts.group);
    if (!found.ok()) return found.status();
    members = std::move(*found);
    const PinRule rule{opts.ttl_ms == 0 ? 0 : SaturatingAdd(now, opts.ttl_ms), opts.dram};
    CTX_RETURN_IF_ERROR(catalog_.AddPin(ikey, opts.group, rule, &mu_));
  }
  if (opts.dram) CTX_RETURN_IF_ERROR(LoadIntoDram(ns, members));
  return static_cast<uint64_t>(members.size());
}

Status Engine::LoadIntoDram(uint32_t ns, const std::vector<std::string>& keys) {
  // Load what is only on flash into DRAM; the pin keeps it there.
  for (const std::string& key : keys) {
    auto ref = Get(ns, key);
    if (!ref.ok() && ref.status().code() != StatusCode::kNotFound) return ref.status();
    MutexLock lock(&mu_);
    const Entry* e = objects_.Find(IndexKey(ns, key).view());
    if (e != nullptr && !e->dram()) {
      return Status::NoSpace(
          "no space: pinned: DRAM is full of pinned, leased or unwritten data; '" + key +
          "' is pinned on flash only");
    }
  }
  return Status::Ok();
}

Status Engine::Unpin(uint32_t ns, std::string_view name, bool group) {
  if (name.empty() || name.size() > 512) return Status::Invalid("pin names are 1 to 512 bytes");
  const std::string ikey = IndexKey(ns, name).str();
  return ChangeCatalog([&]() REQUIRES(mu_) -> Status {
    auto lapsed = catalog_.RemovePin(ikey, group, NowMs(), &mu_);
    if (!lapsed.ok()) return lapsed.status();
    return *lapsed ? Status::NotFound("no such pin (it lapsed)") : Status::Ok();
  });
}

void Engine::Flush(DurableCallback on_durable) {
  {
    MutexLock lock(&mu_);
    if (!closed_) return queue_.PushBarrier(std::move(on_durable));
  }
  on_durable(Status::Unavailable("engine closed"));
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
      flusher_->RunOnceForWaiter();
    }
  }
  return result.get();
}

Status Engine::WriteCheckpointNow() {
  CTX_RETURN_IF_ERROR(Flush());
  return flusher_->WriteCheckpointNow();
}

EngineStats Engine::Stats() const {
  MutexLock lock(&mu_);
  EngineStats s = stats_;
  s.objects = objects_.size();
  s.dram_bytes = arena_->used_bytes();
  s.dram_capacity_bytes = arena_->capacity_bytes();
  s.dram_populated_bytes = arena_->populated_bytes();
  s.index_bytes = objects_.memory_bytes();
  s.flash_bytes = segments_.flash_bytes();
  s.flash_capacity_bytes = options_.disk_bytes;
  s.flash_segments = segments_.count();
  s.leases = leases_.leases();
  s.pin_rules = catalog_.pin_rules();
  s.namespaces = catalog_.namespace_count();
  queue_.AddCounters(&s);
  return s;
}

}  // namespace ctxstore::engine
