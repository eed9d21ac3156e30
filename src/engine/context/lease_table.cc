#include "engine/context/lease_table.h"

#include <algorithm>

#include "common/check.h"
#include "common/clock.h"

namespace ctxstore::engine {

Result<uint64_t> LeaseTable::Take(uint32_t ns, std::string_view ns_name,
                                  uint64_t ns_max_leased_objects, std::span<Entry* const> entries,
                                  uint64_t lease_ms, uint64_t now_ms) {
  if (leases_.size() >= limits_.max_leases ||
      leased_objects_ + entries.size() > limits_.max_leased_objects) {
    return Status::Busy("too many outstanding leases (" + std::to_string(leases_.size()) +
                        " holding " + std::to_string(leased_objects_) + " objects)");
  }
  auto by_ns = leased_objects_by_namespace_.find(ns);
  const uint64_t ns_leased = by_ns == leased_objects_by_namespace_.end() ? 0 : by_ns->second;
  if (ns_max_leased_objects != 0 && ns_leased + entries.size() > ns_max_leased_objects) {
    return Status::Busy("namespace '" + std::string(ns_name) + "' has leases on " +
                        std::to_string(ns_leased) + " objects (its max_leased_objects is " +
                        std::to_string(ns_max_leased_objects) + ")");
  }
  Lease lease;
  lease.namespace_id = ns;
  lease.expires_ms = SaturatingAdd(now_ms, lease_ms);
  for (Entry* e : entries) {
    Hold& hold = holds_[e];
    e->leased = true;
    ++hold.leases;
    hold.until_ms = std::max(hold.until_ms, lease.expires_ms);
    lease.objects.emplace_back(e->index_key().str(), e->seq);
  }
  uint64_t id = 0;
  while (id == 0 || leases_.contains(id)) id = id_rng_();
  leased_objects_ += lease.objects.size();
  leased_objects_by_namespace_[ns] += lease.objects.size();
  leases_.emplace(id, std::move(lease));
  return id;
}

Status LeaseTable::Release(uint32_t ns, uint64_t lease_id, uint64_t now_ms, const FindEntry& find,
                           const Released& released) {
  auto it = leases_.find(lease_id);
  // Another namespace's lease is not this client's to release, nor to know of.
  if (it == leases_.end() || it->second.namespace_id != ns) {
    return Status::NotFound("no such lease (released or ended)");
  }
  // A lease that ended is not released (maintenance may not have dropped it yet).
  const bool ended = it->second.expires_ms <= now_ms;
  End(it, find, released);
  if (ended) return Status::NotFound("no such lease (released or ended)");
  return Status::Ok();
}

void LeaseTable::EndExpired(uint64_t now_ms, const FindEntry& find, const Released& released) {
  for (auto it = leases_.begin(); it != leases_.end();) {
    auto next = std::next(it);
    if (it->second.expires_ms <= now_ms) End(it, find, released);
    it = next;
  }
}

void LeaseTable::End(LeaseMap::iterator it, const FindEntry& find, const Released& released) {
  for (const auto& [key, seq] : it->second.objects) {
    Entry* e = find(key, seq);
    if (e == nullptr || !e->leased) continue;
    if (--holds_.at(e).leases == 0) Forget(*e);
    released(*e);
  }
  const uint64_t held = it->second.objects.size();
  leased_objects_ -= std::min(leased_objects_, held);
  auto ns = leased_objects_by_namespace_.find(it->second.namespace_id);
  CTX_CHECK(ns != leased_objects_by_namespace_.end() && ns->second >= held);
  ns->second -= held;
  if (ns->second == 0) leased_objects_by_namespace_.erase(ns);
  leases_.erase(it);
}

bool LeaseTable::Holds(const Entry& e, uint64_t now_ms) const {
  if (!e.leased) return false;
  return HoldOn(e).until_ms > now_ms;
}

const LeaseTable::Hold& LeaseTable::HoldOn(const Entry& e) const {
  auto it = holds_.find(&e);
  CTX_CHECK(it != holds_.end());
  return it->second;
}

void LeaseTable::Renumber(const Entry& e, uint64_t old_seq) {
  if (!e.leased) return;
  const std::string key = e.index_key().str();
  // One (key, seq) per hold: a lease that matched the key twice counts twice.
  uint32_t left = HoldOn(e).leases;
  for (auto it = leases_.begin(); it != leases_.end() && left > 0; ++it) {
    for (auto& [object_key, seq] : it->second.objects) {
      if (seq != old_seq || object_key != key) continue;
      seq = e.seq;
      --left;
    }
  }
}

void LeaseTable::Forget(Entry& e) {
  if (!e.leased) return;
  holds_.erase(&e);
  e.leased = false;
}

}  // namespace ctxstore::engine
