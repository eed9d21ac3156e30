// Eviction and admission policies: the order in which objects of one
// namespace leave the store when the namespace is over its quota.
//
// A policy only orders nodes; the engine decides what may go (pinned and
// leased objects may not; an object not yet on flash may, and its pending
// write is followed by a tombstone) and does the removing. The same classes drive the offline
// simulator of the benchmark, so that a replay against the server and a simulation agree.
//
// Rules common to every policy:
//  - orphans (objects whose parent chunk is gone, so that no prefix lookup
//    can reach them any more) go before everything else;
//  - Victim() never returns a node that `evictable` refuses; refused nodes
//    stay in the policy (a policy may treat the refusal as a use);
//  - the caller calls Remove() on the victim before erasing it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ctxstore::engine {

// Intrusive per-object policy state: the base of the engine's Entry (and of
// the simulator's objects), which get back to themselves with a static_cast.
// Owned by the embedding object; a policy links and unlinks it. 27 bytes of
// data: an embedder's small fields fill the rest of its 32.
struct PolicyNode {
  PolicyNode* prev = nullptr;
  PolicyNode* next = nullptr;
  uint32_t key_hash = 0;  // identity for ghost lists (PolicyKeyHash of the key)
  uint32_t bytes = 0;     // charged size
  uint8_t queue = 0;      // policy-private: which list the node is on (0 = none)
  uint8_t freq = 0;       // policy-private: evidence of reuse
  bool orphan = false;    // set through EvictionPolicy::Orphan
};

// The policies' key identity: 32 bits of the key's XXH3 (the engine and the
// offline simulator must compute the same).
uint32_t PolicyKeyHash(std::string_view key);

class EvictionPolicy {
 public:
  virtual ~EvictionPolicy() = default;
  virtual std::string_view name() const = 0;

  // A new object (or a new version of a key) was stored.
  virtual void Insert(PolicyNode* n) = 0;
  // The object was read (GET hit, or matched by MATCH_PREFIX).
  virtual void Access(PolicyNode* n) = 0;
  // The object leaves for any reason; the node is unlinked. No-op when the
  // node is not linked.
  virtual void Remove(PolicyNode* n) = 0;
  // Its parent is gone: it goes before every non-orphan.
  virtual void Orphan(PolicyNode* n) = 0;
  // The next object to evict, or nullptr when no linked node is evictable.
  // Does not unlink the victim (the caller Remove()s it), but a policy with
  // a ghost list remembers the victim's key_hash as evicted.
  virtual PolicyNode* Victim(const std::function<bool(PolicyNode*)>& evictable) = 0;

  virtual uint64_t size() const = 0;   // linked nodes
  virtual uint64_t bytes() const = 0;  // sum of linked nodes' bytes
};

// Names accepted by NewEvictionPolicy, for config and help text.
inline constexpr std::string_view kPolicyNames = "lru, s3fifo, lru-ghost, lru-doorkeeper";

// "lru": least recently used first.
// "s3fifo": S3-FIFO (Yang et al., SOSP'23): new objects enter a small FIFO
//   (10% of the bytes); those read again while there move to the main FIFO,
//   the rest leave early and are remembered in a ghost list; a key found in
//   the ghost list enters main directly. Main is a FIFO with reinsertion of
//   objects read since they were last considered.
// "lru-ghost": LRU with admission on second sighting: an object whose key
//   was not seen recently (ghost list) is inserted at the cold end, so it is
//   the next to go unless read before that; a key seen again enters at the
//   hot end.
// "lru-doorkeeper": lru-ghost with a longer memory in fixed space: sightings
//   (cold inserts, evictions) are remembered by two rotating Bloom filters
//   for 5 to 10 times the linked object count, so that a prefix that comes
//   back after much other traffic is still admitted hot. The best of these
//   on the Mooncake traces (docs/simulator.md).
// nullptr for an unknown name.
std::unique_ptr<EvictionPolicy> NewEvictionPolicy(std::string_view name);

// kPolicyNames as a list.
std::vector<std::string> EvictionPolicyNames();

}  // namespace ctxstore::engine
