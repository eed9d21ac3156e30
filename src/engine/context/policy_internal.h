// Building blocks shared by the eviction policies (policy_lru.cc,
// policy_s3fifo.cc, policy_sightings.cc). Not part of the engine's interface: include policy.h.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "engine/context/policy.h"

namespace ctxstore::engine::policy_internal {

using Evictable = std::function<bool(PolicyNode*)>;

// Values of PolicyNode::queue. 0 means "not linked", which is what makes
// Remove() of an unlinked node a no-op.
inline constexpr uint8_t kUnlinked = 0;
inline constexpr uint8_t kOrphanQueue = 1;
inline constexpr uint8_t kMainQueue = 2;   // the LRU list, or S3-FIFO's main FIFO
inline constexpr uint8_t kSmallQueue = 3;  // S3-FIFO's small FIFO

// An intrusive doubly linked list of nodes with its count and byte total.
// Head is the newest (most recently used) end, tail the next one considered
// for eviction. A node's bytes must not change while it is linked: the total
// is kept by adding on link and subtracting on unlink.
class NodeList {
 public:
  explicit NodeList(uint8_t queue) : queue_(queue) {}
  NodeList(const NodeList&) = delete;
  NodeList& operator=(const NodeList&) = delete;

  void PushHead(PolicyNode* n);
  void PushTail(PolicyNode* n);
  // n must be on this list; it leaves with queue = kUnlinked.
  void Unlink(PolicyNode* n);

  PolicyNode* head() const { return head_; }
  PolicyNode* tail() const { return tail_; }
  uint64_t size() const { return size_; }
  uint64_t bytes() const { return bytes_; }
  bool empty() const { return size_ == 0; }

 private:
  void Link(PolicyNode* n);

  const uint8_t queue_;
  PolicyNode* head_ = nullptr;
  PolicyNode* tail_ = nullptr;
  uint64_t size_ = 0;
  uint64_t bytes_ = 0;
};

// The first node from the tail that `evictable` accepts, or nullptr. Asks
// about each node at most once and moves nothing.
PolicyNode* FirstEvictable(const NodeList& list, const Evictable& evictable);

// Key hashes of recently evicted (or, for lru-ghost, recently cold-inserted)
// objects: a bounded FIFO, so that a key seen long ago stops counting as
// seen. Memory is O(capacity) whatever the traffic: the FIFO holds at most
// `capacity` entries (the capacity passed to the latest Add) and the index
// holds at most one entry per FIFO entry.
class GhostList {
 public:
  static constexpr uint64_t kMinCapacity = 1024;

  bool Contains(uint64_t key_hash) const { return latest_.count(key_hash) != 0; }
  // Remembers key_hash as the newest entry, then forgets the oldest entries
  // beyond capacity (at least kMinCapacity).
  void Add(uint64_t key_hash, uint64_t capacity);
  // Forgets key_hash (the key was admitted on the strength of it).
  void Erase(uint64_t key_hash) { latest_.erase(key_hash); }

 private:
  struct Entry {
    uint64_t key_hash;
    uint64_t seq;
  };
  // Oldest first. A key added twice, or erased, leaves stale entries behind;
  // `seq` tells them apart from the live one so that popping a stale entry
  // does not forget a newer sighting.
  std::deque<Entry> fifo_;
  std::unordered_map<uint64_t, uint64_t> latest_;  // key_hash -> seq of its live entry
  uint64_t next_seq_ = 0;
};

// Key hashes sighted recently, approximately, in fixed memory per key
// remembered: two Bloom filters, the current one taking new keys while the
// previous one still answers. When the current one has taken `window` keys
// (the window passed to the Add that started it) it becomes the previous one
// and the old previous one is dropped, so a key is remembered for at least
// `window` and at most 2 x window additions. No false negatives within that;
// about 1% false positives per filter (kBitsPerKey, kProbes).
class SightingFilter {
 public:
  static constexpr uint64_t kMinWindow = 1024;
  static constexpr uint64_t kBitsPerKey = 10;
  static constexpr int kProbes = 4;

  bool Contains(uint64_t key_hash) const {
    return current_.Test(key_hash) || previous_.Test(key_hash);
  }
  // Remembers key_hash; window is clamped to at least kMinWindow.
  void Add(uint64_t key_hash, uint64_t window);
  // Bytes held by both filters.
  uint64_t memory_bytes() const {
    return (current_.words.size() + previous_.words.size()) * sizeof(uint64_t);
  }

 private:
  struct Filter {
    std::vector<uint64_t> words;  // empty: holds nothing
    uint64_t keys = 0;            // keys added
    uint64_t capacity = 0;        // keys it takes before it is retired

    bool Test(uint64_t key_hash) const;
    void Set(uint64_t key_hash);
  };

  Filter current_;
  Filter previous_;
};

std::unique_ptr<EvictionPolicy> NewLruPolicy();
std::unique_ptr<EvictionPolicy> NewLruDoorkeeperPolicy();
std::unique_ptr<EvictionPolicy> NewLruGhostPolicy();
std::unique_ptr<EvictionPolicy> NewS3FifoPolicy();

}  // namespace ctxstore::engine::policy_internal
