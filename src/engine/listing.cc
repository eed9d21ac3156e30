// STAT and LIST: what the engine knows about objects, for inspection.
#include <algorithm>

#include "engine/engine.h"

namespace ctxstore::engine {
namespace {

ObjectInfo MakeInfo(std::string_view user_key, const Entry& e) {
  ObjectInfo info;
  info.key = std::string(user_key);
  info.namespace_id = e.namespace_id;
  info.value_len = e.value_len();
  info.value_xxh3 = e.value_xxh3;
  info.created_ms = e.created_ms;
  info.expires_ms = e.expires_ms;
  info.in_dram = static_cast<bool>(e.dram());
  info.on_flash = e.segment_id != 0;
  info.durable = info.on_flash && !e.dirty;
  info.sealed = info.on_flash && e.sealed;
  if (e.meta) {
    info.group = e.meta->group;
    info.parent = e.meta->parent;
    info.writer = e.meta->writer;
    info.meta = e.meta->meta;
  }
  return info;
}

}  // namespace

Result<ObjectInfo> Engine::Stat(uint32_t ns, std::string_view key) {
  CTX_RETURN_IF_ERROR(CheckKey(key));
  IndexKey ikey(ns, key);
  std::unique_lock lock(mu_);
  if (closed_) return Status::Unavailable("engine closed");
  auto it = index_.find(ikey.view());
  if (it == index_.end() || ExpiredLocked(it->second)) return Status::NotFound();
  return InfoLocked(it->second);
}

ObjectInfo Engine::InfoLocked(const Entry& e) const {
  ObjectInfo info = MakeInfo(e.user_key(), e);
  PinState pin = PinStateLocked(e);
  info.pinned = pin.pinned;
  info.pin_dram = pin.dram;
  info.pin_expires_ms = pin.expires_ms;
  if (LeasedLocked(e)) {
    const LeaseHold& hold = lease_holds_.at(&e);
    info.leases = hold.leases;
    info.lease_expires_ms = hold.until_ms;
  }
  info.orphan = e.orphan;
  return info;
}

Result<ListPage> Engine::List(uint32_t ns, const ListOptions& opts) {
  if (opts.limit == 0 || opts.limit > kMaxListLimit) {
    return Status::Invalid("list limit must be 1 to " + std::to_string(kMaxListLimit));
  }
  std::unique_lock lock(mu_);
  if (closed_) return Status::Unavailable("engine closed");
  // Candidates: the group's members, or every object of the namespace. A
  // scan, then a partial sort: LIST is for inspection, not the data path.
  std::vector<const Entry*> found;
  auto consider = [&](const Entry& e) {
    if (e.namespace_id != ns || ExpiredLocked(e)) return;
    std::string_view key = e.user_key();
    if (!key.starts_with(opts.prefix)) return;
    if (!opts.cursor.empty() && key <= opts.cursor) return;
    if (!opts.group.empty() && (!e.meta || e.meta->group != opts.group)) return;
    found.push_back(&e);
  };
  if (!opts.group.empty()) {
    auto g = groups_.find(IndexKey(ns, opts.group).view());
    if (g != groups_.end()) {
      for (const Entry* e : g->second) consider(*e);
    }
  } else {
    for (const auto& [ikey, e] : index_) consider(e);
  }
  auto by_key = [](const Entry* a, const Entry* b) { return a->user_key() < b->user_key(); };
  size_t take = std::min<size_t>(found.size(), opts.limit);
  std::partial_sort(found.begin(), found.begin() + take, found.end(), by_key);
  ListPage page;
  for (size_t i = 0; i < take; ++i) page.items.push_back(InfoLocked(*found[i]));
  if (found.size() > take) page.next_cursor = page.items.back().key;
  return page;
}

}  // namespace ctxstore::engine
