// Context semantics of the engine: how objects are tied to their namespace,
// group, parent and eviction policy; TTL; leases; quota eviction; and the
// background maintenance that removes what expired. Namespaces and pins
// (the durable catalog) are in catalog.cc; listing in listing.cc.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/check.h"
#include "common/clock.h"
#include "common/hash.h"
#include "common/units.h"
#include "engine/engine.h"

namespace ctxstore::engine {

Engine::Namespace* Engine::FindNamespaceLocked(uint32_t id) {
  auto it = namespaces_.find(id);
  return it == namespaces_.end() ? nullptr : &it->second;
}

Engine::Namespace* Engine::FindNamespaceLocked(std::string_view name) {
  for (auto& [id, ns] : namespaces_) {
    if (ns.name == name) return &ns;
  }
  return nullptr;
}

uint64_t Engine::ComputeExpiryLocked(const Namespace& ns, uint64_t ttl_ms, uint64_t now_ms) const {
  if (ttl_ms == 0) ttl_ms = ns.config.default_ttl_ms;
  if (ns.config.max_ttl_ms != 0 && (ttl_ms == 0 || ttl_ms > ns.config.max_ttl_ms)) {
    ttl_ms = ns.config.max_ttl_ms;
  }
  return ttl_ms == 0 ? 0 : SaturatingAdd(now_ms, ttl_ms);
}

LeaseTable::FindEntry Engine::FindLeasedLocked() {
  return [this](std::string_view key, uint64_t seq) REQUIRES(mu_) -> Entry* {
    auto it = index_.find(key);
    return it == index_.end() || it->second.seq != seq ? nullptr : &it->second;
  };
}

LeaseTable::Released Engine::ReleasedLocked() {
  // Expired while leased: maintenance looks again only at the lease's
  // original end; now that it is invisible, let it go at the next pass.
  return [this](Entry& e) REQUIRES(mu_) {
    if (ExpiredLocked(e)) expiry_.push({NowMs(), e.seq, e.index_key().str()});
  };
}

Engine::PinState Engine::PinStateLocked(const Entry& e) const {
  PinState state;
  const uint64_t now = NowMs();
  bool forever = false;
  // An object may be pinned by its key and by its group: it stays pinned
  // until the last of them lapses.
  auto apply = [&](const PinRule& rule) {
    if (rule.expires_ms != 0 && rule.expires_ms <= now) return;  // lapsed
    state.pinned = true;
    state.dram |= rule.dram;
    if (rule.expires_ms == 0) forever = true;
    state.expires_ms = std::max(state.expires_ms, rule.expires_ms);
  };
  if (auto it = key_pins_.find(e.index_key().view()); it != key_pins_.end()) apply(it->second);
  if (e.meta && !e.meta->group.empty() && !group_pins_.empty()) {
    auto it = group_pins_.find(IndexKey(e.namespace_id, e.meta->group).view());
    if (it != group_pins_.end()) apply(it->second);
  }
  if (forever) state.expires_ms = 0;
  return state;
}

void Engine::AttachLocked(Entry& e) {
  Namespace* ns = FindNamespaceLocked(e.namespace_id);
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
    auto it = index_.find(IndexKey(e.namespace_id, e.meta->parent).view());
    if (it != index_.end() && &it->second != &e) {
      children_[&it->second].push_back(&e);
    } else {
      // Its prefix is already broken: no lookup can reach it.
      ns->policy->Orphan(&e);
    }
  }
}

void Engine::DetachLocked(Entry& e, bool orphan_children) {
  // Recovery erases entries it has not attached yet: nothing to undo.
  if (!e.attached) return;
  e.attached = false;
  if (e.expires_ms != 0) --ttl_objects_;  // its expiry_ item goes stale
  Namespace* ns = FindNamespaceLocked(e.namespace_id);
  if (ns != nullptr) {
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
    auto p = index_.find(IndexKey(e.namespace_id, e.meta->parent).view());
    auto c = p == index_.end() ? children_.end() : children_.find(&p->second);
    if (c != children_.end()) {
      std::erase(c->second, &e);
      if (c->second.empty()) children_.erase(c);
    }
  }
  if (orphan_children) {
    auto c = children_.find(&e);
    if (c != children_.end()) {
      for (Entry* child : c->second) {
        if (Namespace* cns = FindNamespaceLocked(child->namespace_id)) cns->policy->Orphan(child);
      }
      children_.erase(c);
    }
  }
}

Status Engine::MakeRoomLocked(Namespace& ns, uint64_t incoming, const Entry* keep) {
  if (ns.config.quota_bytes == 0) return Status::Ok();
  auto evictable = [&](PolicyNode* n) REQUIRES(mu_) {
    const Entry* e = static_cast<const Entry*>(n);
    return e != keep && !LeasedLocked(*e) && !PinStateLocked(*e).pinned;
  };
  while (ns.bytes + incoming > ns.config.quota_bytes) {
    PolicyNode* node = ns.policy->Victim(evictable);
    if (node == nullptr) {
      return Status::NoSpace("no space: pinned: namespace '" + ns.name + "' holds " +
                             FormatSize(ns.bytes) + " of its " + FormatSize(ns.config.quota_bytes) +
                             " quota in pinned or leased objects");
    }
    std::string key = static_cast<Entry*>(node)->index_key().str();
    EraseLocked(index_.find(key));
    EnqueueTombstoneLocked(key, nullptr);
    ++ns.evictions;
    ++stats_.evictions_quota;
  }
  return Status::Ok();
}

void Engine::MaintainLocked() {
  uint64_t now = NowMs();
  // Expired objects: invisible already; now their space is reclaimed. No
  // tombstone is needed: the record carries its expiry.
  while (!expiry_.empty() && expiry_.top().expires_ms <= now) {
    ExpiryItem item = expiry_.top();
    expiry_.pop();
    auto it = index_.find(item.index_key);
    if (it == index_.end() || it->second.seq != item.seq) continue;
    Entry& e = it->second;
    if (LeasedLocked(e)) {
      // Look again when the lease ends.
      expiry_.push({leases_.HoldOn(e).until_ms, e.seq, item.index_key});
      continue;
    }
    if (e.dirty) {
      expiry_.push({now + 1000, e.seq, item.index_key});  // not written yet: later
      continue;
    }
    EraseLocked(it);
    ++stats_.expired_objects;
  }
  leases_.EndExpired(now, FindLeasedLocked(), ReleasedLocked());
  // Overwrites and deletes leave stale items in expiry_: rebuild it when
  // they outnumber the live ones, so it stays proportional to the objects.
  if (expiry_.size() > 2 * ttl_objects_ + 1024) {
    std::vector<ExpiryItem> live;
    live.reserve(ttl_objects_);
    for (const auto& [key, e] : index_) {
      if (e.expires_ms != 0 && e.attached)
        live.push_back({e.expires_ms, e.seq, e.index_key().str()});
    }
    expiry_ = decltype(expiry_)(std::greater<>(), std::move(live));
  }
  // Lapsed pins are dropped from memory; the catalog still lists them until
  // its next write, and they are ignored when it is read.
  std::erase_if(key_pins_, [now](const auto& kv) {
    return kv.second.expires_ms && kv.second.expires_ms <= now;
  });
  std::erase_if(group_pins_, [now](const auto& kv) {
    return kv.second.expires_ms && kv.second.expires_ms <= now;
  });
}

Status Engine::ReleaseLease(uint32_t ns, uint64_t lease_id) {
  MutexLock lock(&mu_);
  return leases_.Release(ns, lease_id, NowMs(), FindLeasedLocked(), ReleasedLocked());
}

bool Engine::CarryForwardLocked(Entry& e) {
  const std::string key = e.index_key().str();
  const uint64_t seq = e.seq, len = e.value_len(), xxh3 = e.value_xxh3;
  // A private copy of the value: the flusher cannot wait for DRAM (it is
  // what frees it), and the entry stays clean and readable meanwhile.
  auto value = std::make_shared<AlignedBuffer>(len);
  std::memset(value->data, 0, value->size);
  Status st = Status::Ok();
  if (e.dram()) {
    std::memcpy(value->data, arena_->data(e.dram()), len);
  } else {
    auto seg_it = segments_.find(e.segment_id);
    if (seg_it == segments_.end()) return false;
    const FlashRead read = PrepareFlashReadLocked(e, seg_it->second);
    mu_.Unlock();
    bool retried = false;
    st = ReadFlashValue(read, value->data, &retried);
    if (st.ok() && Xxh3(value->data, len) != xxh3) st = Status::Corrupt("checksum mismatch");
    mu_.Lock();
    if (retried) ++stats_.flash_read_retries;
  }
  auto it = index_.find(key);
  if (it == index_.end() || it->second.seq != seq) return false;  // changed meanwhile
  Entry& entry = it->second;
  // The copy is sealed with the key its namespace names now; never written
  // in the clear when that key is not loaded.
  std::shared_ptr<const EncryptionKey> seal_key;
  if (st.ok()) {
    const Namespace* ns = FindNamespaceLocked(entry.namespace_id);
    Result<std::shared_ptr<const EncryptionKey>> k = Status::NotFound("namespace deleted");
    if (ns != nullptr) k = SealKeyLocked(*ns);
    if (k.ok())
      seal_key = std::move(*k);
    else
      st = k.status();
  }
  if (!st.ok()) {
    ++stats_.pinned_lost;
    spdlog::error("pinned object '{}' lost in flash reclaim: {}", IndexKeyUserKey(key),
                  st.ToString());
    EraseLocked(it);
    EnqueueTombstoneLocked(key, nullptr);
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
  item.value_xxh3 = xxh3;
  item.created_ms = entry.created_ms;
  item.expires_ms = entry.expires_ms;
  item.ext = EncodeRecordExt(entry.meta.get());
  queue_.Push(std::move(item));
  return true;
}

Result<uint64_t> Engine::DeleteGroup(uint32_t ns, std::string_view group) {
  if (group.empty() || group.size() > kMaxGroupBytes) {
    return Status::Invalid("group must be 1 to 512 bytes");
  }
  MutexLock lock(&mu_);
  WaitWhileCommitsPausedLocked();
  if (closed_) return Status::Unavailable("engine closed");
  auto g = groups_.find(IndexKey(ns, group).str());
  if (g == groups_.end()) return uint64_t{0};
  std::vector<std::string> keys;
  for (Entry* e : g->second) keys.push_back(e->index_key().str());
  uint64_t deleted = 0;
  for (const std::string& key : keys) {
    auto it = index_.find(key);
    if (it == index_.end()) continue;
    if (!ExpiredLocked(it->second)) ++deleted;
    EraseLocked(it);
    EnqueueTombstoneLocked(key, nullptr);
    ++stats_.deletes;
  }
  return deleted;
}

}  // namespace ctxstore::engine
