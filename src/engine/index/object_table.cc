#include "engine/index/object_table.h"

#include <algorithm>
#include <chrono>

#include "common/check.h"
#include "common/hash.h"
#include "common/units.h"

namespace ctxstore::engine {

ObjectTable::ObjectTable(Arena* arena, Catalog* catalog, LeaseTable* leases, FlushQueue* queue,
                         Env* env, EngineStats* stats)
    : arena_(arena),
      catalog_(catalog),
      leases_(leases),
      queue_(queue),
      env_(env),
      stats_(stats),
      dram_(arena, stats) {}

ObjectTable::~ObjectTable() {
  // Entries hold their DRAM blocks by DramRef: return them before the arena goes.
  for (auto&& [key, e] : index_) SetDram(e, nullptr);
}

void ObjectTable::Install(Index index) {
  index_ = std::move(index);
  // By (seq, entry) pairs: through the pointers, each comparison misses the cache.
  std::vector<std::pair<uint64_t, Entry*>> entries;
  entries.reserve(index_.size());
  for (auto&& [key, e] : index_) entries.emplace_back(e.seq, &e);
  std::sort(entries.begin(), entries.end());
  for (auto [seq, e] : entries) Attach(*e);
}

Entry* ObjectTable::Find(std::string_view index_key) {
  auto it = index_.find(index_key);
  return it == index_.end() ? nullptr : &it->second;
}

Entry* ObjectTable::FindVisible(std::string_view index_key) {
  Entry* e = Find(index_key);
  return e == nullptr || Expired(*e) ? nullptr : e;
}

bool ObjectTable::Expired(const Entry& e) const {
  // A lease holds off expiry until it ends.
  return e.expires_ms != 0 && e.expires_ms <= NowMs() && !Leased(e);
}

Entry& ObjectTable::Put(std::string_view index_key, const Namespace& ns, const ArenaBlock& block,
                        uint64_t value_len, uint64_t value_xxh3, uint64_t ttl_ms, bool keep_ttl,
                        MetaRef meta) {
  auto [it, inserted] = index_.try_emplace(index_key);
  Entry& e = it->second;
  const uint64_t now = NowMs();
  // Worked out before Reset forgets the old version's expiry. The record
  // queued for this version (FlushItem::ForPut) carries the same expiry, so
  // recovery restores it.
  const bool keep = keep_ttl && !inserted && (e.expires_ms == 0 || e.expires_ms > now);
  const uint64_t expires_ms = keep ? ns.KeptExpiry(e.expires_ms, now) : ns.ExpiryOf(ttl_ms, now);
  if (!inserted) {
    // Replace in place: readers holding the old block keep it alive, and
    // children of the key stay linked to it.
    Detach(e, /*orphan_children=*/false);
    leases_->Forget(e);  // leases name the old version's seq
    Unlink(e);
    e.Reset();
  }
  e.seq = queue_->TakeSeq();
  e.namespace_id = ns.id;
  e.set_value_len(value_len);
  e.value_xxh3 = value_xxh3;
  e.created_ms = now;
  e.expires_ms = expires_ms;
  e.meta = std::move(meta);
  SetDram(e, &block);
  e.dirty = true;
  Attach(e);
  ++stats_->dirty_objects;
  ++stats_->puts;
  return e;
}

void ObjectTable::SetExpiry(Entry& e, uint64_t expires_ms) {
  CTX_CHECK(e.dram() && e.attached);
  const uint64_t old_seq = e.seq;
  ClearFlash(e);
  e.sealed = false;  // set again with the new record's location (MarkDurable)
  MarkDirty(e);
  e.seq = queue_->TakeSeq();
  leases_->Renumber(e, old_seq);
  if (e.expires_ms != 0) --ttl_objects_;
  e.expires_ms = expires_ms;
  if (e.expires_ms != 0) {
    ++ttl_objects_;
    expiry_.push({e.expires_ms, e.seq, e.index_key().str()});
  }
}

void ObjectTable::Unlink(Entry& e) {
  SetDram(e, nullptr);  // off its LRU list too
  ClearFlash(e);
  if (e.dirty) --stats_->dirty_objects;
}

void ObjectTable::Erase(Entry& e) {
  auto it = index_.find(e.index_key().view());
  CTX_CHECK(it != index_.end() && &it->second == &e);
  Detach(e, /*orphan_children=*/true);
  leases_->Forget(e);
  Unlink(e);
  index_.erase(it);
}

void ObjectTable::EraseDurably(Entry& e, DurableCallback on_durable) {
  const std::string key = e.index_key().str();
  Erase(e);
  QueueTombstone(key, std::move(on_durable));
}

void ObjectTable::QueueTombstone(std::string_view index_key, DurableCallback on_durable) {
  FlushItem item;
  item.kind = FlushItem::Kind::kTombstone;
  item.key = std::string(index_key);
  item.value_xxh3 = Xxh3(nullptr, 0);  // of its empty value
  item.seq = queue_->TakeSeq();
  item.created_ms = NowMs();
  item.on_durable = std::move(on_durable);
  queue_->Push(std::move(item));
}

void ObjectTable::AddToLru(Entry& e) {
  const Namespace* ns = catalog_->Find(e.namespace_id);
  dram_.AddToLru(e, ns ? ns->config.priority : kDefaultPriority);
}

void ObjectTable::Accessed(Entry& e) {
  if (Namespace* ns = catalog_->Find(e.namespace_id)) ns->policy->Access(&e);
}

void ObjectTable::Touch(Entry& e) {
  Accessed(e);
  if (e.dram() && e.on_lru) {
    dram_.RemoveFromLru(e);
    AddToLru(e);  // at the front of its namespace's current level
  }
}

std::shared_ptr<ArenaBlock> ObjectTable::Allocate(uint64_t bytes, uint64_t wait_ms, Mutex* mu) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (true) {
    if (auto block = arena_->Allocate(bytes)) return block;
    if (EvictFromDram()) continue;
    // Only unwritten (or in-use) data left: wait for the flusher to clean some.
    if (wait_ms == 0 || std::chrono::steady_clock::now() >= deadline) return nullptr;
    // Written data becomes evictable once synced: ask the flusher to sync now.
    ++queue_->space_waiters;
    queue_->work_cv.Signal();
    queue_->space_cv.WaitUntil(
        mu, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(5)));
    --queue_->space_waiters;
  }
}

bool ObjectTable::EvictFromDram() {
  // Its flash copy stays readable. Leased objects and DRAM pins stay.
  const uint64_t now = NowMs();
  Entry* victim = dram_.Victim([&](const Entry& e) {
    return !leases_->Holds(e, now) && !catalog_->PinStateOf(e, now).dram;
  });
  if (victim == nullptr) return false;
  ++stats_->evictions_dram;
  if (victim->segment_id == 0) {
    Erase(*victim);  // not on flash (its segment was reclaimed or failed): eviction drops it
  } else {
    SetDram(*victim, nullptr);
  }
  return true;
}

void ObjectTable::MarkDirty(Entry& e) {
  if (e.dirty) return;
  e.dirty = true;
  ++stats_->dirty_objects;
  dram_.RemoveFromLru(e);
}

void ObjectTable::SetFlash(Entry& e, uint64_t segment_id, uint64_t offset) {
  CTX_CHECK(segment_id != 0 && segment_id <= UINT32_MAX && offset <= UINT32_MAX);
  if (e.segment_id == 0) ++stats_->flash_objects;
  e.segment_id = static_cast<uint32_t>(segment_id);
  e.record_offset = static_cast<uint32_t>(offset);
}

void ObjectTable::ClearFlash(Entry& e) {
  if (e.segment_id != 0) --stats_->flash_objects;
  e.segment_id = 0;
  e.record_offset = 0;
}

std::vector<Entry*> ObjectTable::EntriesOnSegment(uint64_t segment_id) {
  std::vector<Entry*> out;
  for (auto&& [key, e] : index_) {
    if (e.segment_id == segment_id) out.push_back(&e);
  }
  return out;
}

std::optional<uint64_t> ObjectTable::CurrentSeq(std::string_view index_key) {
  const Entry* e = Find(index_key);
  if (e == nullptr) return std::nullopt;
  return e->seq;
}

void ObjectTable::MarkDurable(const FlushItem& item) {
  if (item.kind != FlushItem::Kind::kPut) return;
  Entry* e = Find(item.key);
  if (e == nullptr || e->seq != item.seq) return;  // superseded or deleted
  if (item.carry) {
    e->sealed = item.seal_key != nullptr;
    SetFlash(*e, item.segment_id, item.record_offset);  // off the retiring segment
    if (e->dirty && e->dram()) {  // carried out of a bad segment: evictable again
      e->dirty = false;
      --stats_->dirty_objects;
      AddToLru(*e);
    }
    return;
  }
  CTX_CHECK(e->dirty && e->dram());
  e->sealed = item.seal_key != nullptr;
  SetFlash(*e, item.segment_id, item.record_offset);
  e->dirty = false;
  --stats_->dirty_objects;
  AddToLru(*e);  // durable now: evictable
}

FlusherHost::Retry ObjectTable::PrepareRetry(FlushItem& item, bool closing) {
  using Retry = FlusherHost::Retry;
  Entry* e = Find(item.key);
  const bool current = e != nullptr && e->seq == item.seq;
  if (item.kind == FlushItem::Kind::kPut && item.carry) {
    if (!current) return Retry::kDrop;  // superseded or deleted
    // Closing: the old segment stays (its barrier fails), so nothing is lost.
    return closing ? Retry::kDrop : Retry::kWriteAgain;
  }
  if (item.kind == FlushItem::Kind::kPut) {
    if (!current) return Retry::kDrop;  // superseded or deleted
    CTX_CHECK(e->dirty && e->dram());
    if (closing) {
      // Give up. The object stays readable until shutdown only.
      e->dirty = false;
      --stats_->dirty_objects;
      AddToLru(*e);
      return Retry::kLost;
    }
    item.block = arena_->Share(e->dram());
    return Retry::kWriteAgain;
  }
  if (item.kind == FlushItem::Kind::kTombstone) {
    if (e != nullptr && e->seq > item.seq) return Retry::kDrop;  // put again since
    return closing ? Retry::kLost : Retry::kWriteAgain;
  }
  return Retry::kDrop;
}

void ObjectTable::AddToCheckpoint(Checkpoint* cp) const {
  cp->entries.reserve(stats_->flash_objects);
  for (const auto& [key, e] : index_) {
    if (e.segment_id == 0 || e.dirty) continue;
    cp->entries.push_back({e.index_key().str(), EncodeRecordAttrs(e.meta.get()), e.seq,
                           e.segment_id, e.record_offset, e.value_len(), e.value_xxh3, e.created_ms,
                           e.expires_ms, e.sealed ? kRecordFlagSealed : uint16_t{0}});
  }
}

void ObjectTable::Attach(Entry& e) {
  Namespace* ns = catalog_->Find(e.namespace_id);
  CTX_CHECK(ns != nullptr);
  ++ns->objects;
  ns->bytes += e.value_len();
  e.attached = true;
  // The user key alone (policies are per namespace): the offline simulator
  // computes the same hash from a block's key, so that hash-based policies
  // (Bloom filters) make the same mistakes online and offline.
  e.key_hash = PolicyKeyHash(e.user_key());
  ns->policy->Insert(&e);
  if (e.expires_ms != 0) {
    ++ttl_objects_;
    expiry_.push({e.expires_ms, e.seq, e.index_key().str()});
  }
  if (!e.meta) return;
  if (!e.meta->group.empty()) {
    groups_[IndexKey(e.namespace_id, e.meta->group).str()].insert(&e);
  }
  if (!e.meta->parent.empty()) {
    Entry* parent = Find(IndexKey(e.namespace_id, e.meta->parent).view());
    if (parent != nullptr && parent != &e) {
      children_[parent].push_back(&e);
    } else {
      // Its prefix is already broken: no lookup can reach it.
      ns->policy->Orphan(&e);
    }
  }
}

void ObjectTable::Detach(Entry& e, bool orphan_children) {
  if (!e.attached) return;
  e.attached = false;
  if (e.expires_ms != 0) --ttl_objects_;  // its expiry_ item goes stale
  if (Namespace* ns = catalog_->Find(e.namespace_id)) {
    --ns->objects;
    ns->bytes -= std::min<uint64_t>(ns->bytes, e.value_len());
    ns->policy->Remove(&e);
  }
  if (e.meta && !e.meta->group.empty()) {
    auto g = groups_.find(IndexKey(e.namespace_id, e.meta->group).view());
    if (g != groups_.end()) {
      g->second.erase(&e);
      if (g->second.empty()) groups_.erase(g);
    }
  }
  // Linked to its parent only if the parent was present when it was
  // attached and has not been replaced since (that orphaned it): the parent
  // entry's child list tells.
  if (e.meta && !e.meta->parent.empty() && !e.orphan) {
    Entry* parent = Find(IndexKey(e.namespace_id, e.meta->parent).view());
    auto c = parent == nullptr ? children_.end() : children_.find(parent);
    if (c != children_.end()) {
      std::erase(c->second, &e);
      if (c->second.empty()) children_.erase(c);
    }
  }
  if (!orphan_children) return;
  auto c = children_.find(&e);
  if (c == children_.end()) return;
  for (Entry* child : c->second) {
    if (Namespace* cns = catalog_->Find(child->namespace_id)) cns->policy->Orphan(child);
  }
  children_.erase(c);
}

Status ObjectTable::MakeRoom(Namespace& ns, uint64_t incoming, const Entry* keep) {
  if (ns.config.quota_bytes == 0) return Status::Ok();
  const uint64_t now = NowMs();
  auto evictable = [&](PolicyNode* n) {
    const Entry* e = static_cast<const Entry*>(n);
    return e != keep && !leases_->Holds(*e, now) && !catalog_->PinStateOf(*e, now).pinned;
  };
  while (ns.bytes + incoming > ns.config.quota_bytes) {
    PolicyNode* node = ns.policy->Victim(evictable);
    if (node == nullptr) {
      return Status::NoSpace("no space: pinned: namespace '" + ns.name + "' holds " +
                             FormatSize(ns.bytes) + " of its " + FormatSize(ns.config.quota_bytes) +
                             " quota in pinned or leased objects");
    }
    EraseDurably(*static_cast<Entry*>(node));
    ++ns.evictions;
    ++stats_->evictions_quota;
  }
  return Status::Ok();
}

void ObjectTable::SweepExpired(uint64_t now) {
  // Expired objects: invisible already; now their space is reclaimed. No
  // tombstone is needed: the record carries its expiry.
  while (!expiry_.empty() && expiry_.top().expires_ms <= now) {
    ExpiryItem item = expiry_.top();
    expiry_.pop();
    Entry* e = Find(item.index_key);
    if (e == nullptr || e->seq != item.seq) continue;
    if (leases_->Holds(*e, now)) {
      // Look again when the lease ends.
      expiry_.push({leases_->HoldOn(*e).until_ms, e->seq, item.index_key});
      continue;
    }
    if (e->dirty) {
      expiry_.push({now + 1000, e->seq, item.index_key});  // not written yet: later
      continue;
    }
    Erase(*e);
    ++stats_->expired_objects;
  }
  leases_->EndExpired(now, FindLeased(), Released());
  // Overwrites and deletes leave stale items in expiry_: rebuild it when
  // they outnumber the live ones, so it stays proportional to the objects.
  if (expiry_.size() > 2 * ttl_objects_ + 1024) RebuildExpiry();
}

void ObjectTable::RebuildExpiry() {
  std::vector<ExpiryItem> live;
  live.reserve(ttl_objects_);
  for (const auto& [key, e] : index_) {
    if (e.expires_ms != 0 && e.attached) live.push_back({e.expires_ms, e.seq, e.index_key().str()});
  }
  expiry_ = decltype(expiry_)(std::greater<>(), std::move(live));
}

LeaseTable::FindEntry ObjectTable::FindLeased() {
  return [this](std::string_view key, uint64_t seq) -> Entry* {
    Entry* e = Find(key);
    return e == nullptr || e->seq != seq ? nullptr : e;
  };
}

LeaseTable::Released ObjectTable::Released() {
  // Expired while leased: maintenance looks again only at the lease's
  // original end; now that it is invisible, let it go at the next pass.
  return [this](Entry& e) {
    if (Expired(e)) expiry_.push({NowMs(), e.seq, e.index_key().str()});
  };
}

Status ObjectTable::ReleaseLease(uint32_t ns, uint64_t lease_id) {
  return leases_->Release(ns, lease_id, NowMs(), FindLeased(), Released());
}

uint64_t ObjectTable::DeleteGroup(uint32_t ns, std::string_view group) {
  auto g = groups_.find(IndexKey(ns, group).view());
  if (g == groups_.end()) return 0;
  std::vector<std::string> keys;
  for (Entry* e : g->second) keys.push_back(e->index_key().str());
  // The set is ordered by address: in key order, the tombstones (and their
  // seqs) do not depend on where the entries happen to live.
  std::sort(keys.begin(), keys.end());
  uint64_t deleted = 0;
  for (const std::string& key : keys) {
    Entry* e = Find(key);
    if (e == nullptr) continue;
    if (!Expired(*e)) ++deleted;
    EraseDurably(*e);
    ++stats_->deletes;
  }
  return deleted;
}

void ObjectTable::EraseNamespace(uint32_t ns) {
  for (auto it = index_.begin(); it != index_.end();) {
    auto next = std::next(it);
    if (it->second.namespace_id == ns) Erase(it->second);
    it = next;
  }
}

}  // namespace ctxstore::engine
