// ObjectTable's queries (object_table.h): what a pin would cover, an
// object's info, a LIST page. Apart from object_table.cc only to keep that
// file within the size limit.
#include "engine/index/object_table.h"

#include <algorithm>
#include <string>
#include <vector>

namespace ctxstore::engine {

Result<std::vector<std::string>> ObjectTable::PinMembers(uint32_t ns, std::string_view name,
                                                         bool group) {
  std::vector<std::string> members;
  if (group) {
    if (auto g = groups_.find(IndexKey(ns, name).view()); g != groups_.end()) {
      for (Entry* e : g->second) {
        if (!Expired(*e)) members.emplace_back(e->user_key());
      }
    }
    std::sort(members.begin(), members.end());  // not in address order (DeleteGroup)
    return members;
  }
  if (FindVisible(IndexKey(ns, name).view()) == nullptr) return Status::NotFound();
  members.emplace_back(name);
  return members;
}

ObjectInfo ObjectTable::Info(const Entry& e) const {
  ObjectInfo info;
  info.key = std::string(e.user_key());
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
  const PinState pin = catalog_->PinStateOf(e, NowMs());
  info.pinned = pin.pinned;
  info.pin_dram = pin.dram;
  info.pin_expires_ms = pin.expires_ms;
  if (Leased(e)) {
    const LeaseTable::Hold& hold = leases_->HoldOn(e);
    info.leases = hold.leases;
    info.lease_expires_ms = hold.until_ms;
  }
  info.orphan = e.orphan;
  return info;
}

ListPage ObjectTable::List(uint32_t ns, const ListOptions& opts) {
  // Candidates: the group's members, or every object of the namespace. A
  // scan, then a partial sort: LIST is for inspection, not the data path.
  std::vector<const Entry*> found;
  auto consider = [&](const Entry& e) {
    if (e.namespace_id != ns || Expired(e)) return;
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
  const size_t take = std::min<size_t>(found.size(), opts.limit);
  std::partial_sort(found.begin(), found.begin() + take, found.end(), by_key);
  ListPage page;
  for (size_t i = 0; i < take; ++i) page.items.push_back(Info(*found[i]));
  if (found.size() > take) page.next_cursor = page.items.back().key;
  return page;
}

}  // namespace ctxstore::engine
