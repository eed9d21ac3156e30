// Read leases (MATCH_PREFIX with a lease time): which objects each
// outstanding lease holds, how many leases hold each object and until when,
// and the limits on both, store-wide and per namespace. A leased object is
// neither evicted nor expired until its last lease ends (an explicit delete
// still removes it).
//
// A lease names its objects by index key and seq, not by entry, so that a
// deleted or overwritten object is simply no longer held. Lease ids are
// random, so that one client cannot guess another's.
//
// Not thread-safe: the engine's mutex guards it.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ctxstore/status.h"
#include "engine/index/entry.h"

namespace ctxstore::engine {

class LeaseTable {
 public:
  // (The engine checks a lease's length, EngineOptions::max_lease_ms,
  // before it looks anything up.)
  struct Limits {
    uint64_t max_leases = 100'000;          // outstanding, over all clients
    uint64_t max_leased_objects = 262'144;  // held by all leases together
  };
  // Lease ids come from a stream seeded with id_seed (the engine passes
  // Env::RandomU64(): a seeded test Env makes them reproducible).
  explicit LeaseTable(const Limits& limits, uint64_t id_seed = std::random_device{}())
      : limits_(limits), id_rng_(id_seed) {}

  // Leases entries (of namespace ns) for lease_ms from now_ms; the lease id.
  // kBusy past the store's limits or ns_max_leased_objects (0 = none; ns_name
  // says whose in the message).
  Result<uint64_t> Take(uint32_t ns, std::string_view ns_name, uint64_t ns_max_leased_objects,
                        std::span<Entry* const> entries, uint64_t lease_ms, uint64_t now_ms);

  // Finds the entry of a leased object if it is still the version leased.
  using FindEntry = std::function<Entry*(std::string_view index_key, uint64_t seq)>;
  // Called for each object a lease that ends still held, once the lease no
  // longer counts: it may have expired meanwhile.
  using Released = std::function<void(Entry& entry)>;
  // RELEASE: kNotFound unless the lease was taken in ns and had not ended by now_ms
  // (a lease that ended is dropped all the same).
  Status Release(uint32_t ns, uint64_t lease_id, uint64_t now_ms, const FindEntry& find,
                 const Released& released);
  // Ends every lease whose time is up (maintenance).
  void EndExpired(uint64_t now_ms, const FindEntry& find, const Released& released);

  // Whether a lease still holds e at now_ms.
  bool Holds(const Entry& e, uint64_t now_ms) const;
  struct Hold {
    uint32_t leases = 0;    // outstanding leases on the object
    uint64_t until_ms = 0;  // the latest lease's end
  };
  // The leases on e; e.leased must be set.
  const Hold& HoldOn(const Entry& e) const;
  // e goes, or gets a new version: no lease holds it any more.
  void Forget(Entry& e);
  // e got a new seq for the same object (ObjectTable::SetExpiry: the same
  // value, a new expiry): the leases that held it as old_seq hold it still.
  // A walk over the leases' objects (at most Limits::max_leased_objects),
  // made only for a leased e.
  void Renumber(const Entry& e, uint64_t old_seq);

  uint64_t leases() const { return leases_.size(); }
  uint64_t leased_objects() const { return leased_objects_; }

 private:
  struct Lease {
    uint32_t namespace_id = 0;
    uint64_t expires_ms = 0;
    std::vector<std::pair<std::string, uint64_t>> objects;  // index key, seq
  };
  using LeaseMap = std::unordered_map<uint64_t, Lease>;
  void End(LeaseMap::iterator it, const FindEntry& find, const Released& released);

  const Limits limits_;
  LeaseMap leases_;
  // Objects under leases (Entry::leased): their leases and the latest end.
  std::unordered_map<const Entry*, Hold> holds_;
  uint64_t leased_objects_ = 0;  // object references held by leases
  std::unordered_map<uint32_t, uint64_t> leased_objects_by_namespace_;
  std::mt19937_64 id_rng_;
};

}  // namespace ctxstore::engine
