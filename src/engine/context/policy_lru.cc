// "lru", "lru-ghost" and "lru-doorkeeper": one LRU list behind an orphan
// list. The last two only differ from lru in where a new object enters the
// list, and in how they remember a sighting.
#include <string_view>

#include "engine/context/policy_internal.h"

namespace ctxstore::engine::policy_internal {
namespace {

// How a policy tells a first sighting from a key seen recently.
enum class Admission {
  kAll,         // lru: no admission, every object enters hot
  kGhost,       // lru-ghost: an exact ghost list of about 2 x the objects
  kDoorkeeper,  // lru-doorkeeper: Bloom filters over 5-10 x the objects
};

// lru-doorkeeper's window, in sightings (cold inserts and evictions) per
// linked object: a key is remembered for 5 to 10 times the namespace's object
// count, at 2 x 5 x 10 bits, about 13 bytes per object. On prompt-cache
// traces a prefix comes back after many times the cache's size in other
// traffic (in the Mooncake conversation trace a median of 12,000 block
// references, twice a 6,000-block cache), which lru-ghost's 2 x forgets. The
// hit rate there rises up to about 5 x and is flat beyond
// (docs/simulator.md).
constexpr uint64_t kDoorkeeperWindowPerObject = 5;

class LruPolicy final : public EvictionPolicy {
 public:
  explicit LruPolicy(Admission admission) : admission_(admission) {}

  std::string_view name() const override {
    switch (admission_) {
      case Admission::kGhost:
        return "lru-ghost";
      case Admission::kDoorkeeper:
        return "lru-doorkeeper";
      default:
        return "lru";
    }
  }

  void Insert(PolicyNode* n) override {
    Remove(n);
    n->freq = 0;
    if (n->orphan) {
      orphans_.PushHead(n);
    } else if (admission_ == Admission::kAll || SeenRecently(n->key_hash)) {
      lru_.PushHead(n);
    } else {
      // A first sighting goes next in line, so that a flood of one-shot keys
      // only ever displaces its own kind; remembering it lets the second
      // sighting in hot even when the first left without being evicted
      // (overwritten or deleted).
      lru_.PushTail(n);
      Remember(n->key_hash);
    }
  }

  void Access(PolicyNode* n) override {
    NodeList* list = ListOf(n);
    if (list == nullptr) return;
    list->Unlink(n);
    list->PushHead(n);  // orphans stay orphans, least recently used first
  }

  void Remove(PolicyNode* n) override {
    if (NodeList* list = ListOf(n)) list->Unlink(n);
  }

  void Orphan(PolicyNode* n) override {
    n->orphan = true;  // an unlinked node goes to the orphans when inserted
    if (n->queue != kMainQueue) return;
    lru_.Unlink(n);
    orphans_.PushHead(n);
  }

  PolicyNode* Victim(const Evictable& evictable) override {
    PolicyNode* victim = FirstEvictable(orphans_, evictable);
    if (victim == nullptr) victim = FirstEvictable(lru_, evictable);
    if (victim != nullptr && admission_ != Admission::kAll) Remember(victim->key_hash);
    return victim;
  }

  uint64_t size() const override { return orphans_.size() + lru_.size(); }
  uint64_t bytes() const override { return orphans_.bytes() + lru_.bytes(); }

 private:
  NodeList* ListOf(PolicyNode* n) {
    switch (n->queue) {
      case kOrphanQueue:
        return &orphans_;
      case kMainQueue:
        return &lru_;
      default:
        return nullptr;
    }
  }

  // Seen recently (evicted, or inserted cold): evidence of reuse. The ghost
  // entry is used up by the admission; the filter cannot forget one key,
  // which changes little since an admitted key is remembered again when it
  // is evicted.
  bool SeenRecently(uint64_t key_hash) {
    if (admission_ == Admission::kDoorkeeper) return doorkeeper_.Contains(key_hash);
    if (!ghost_.Contains(key_hash)) return false;
    ghost_.Erase(key_hash);
    return true;
  }

  void Remember(uint64_t key_hash) {
    if (admission_ == Admission::kDoorkeeper) {
      doorkeeper_.Add(key_hash, kDoorkeeperWindowPerObject * size());
    } else {
      ghost_.Add(key_hash, GhostCapacity());
    }
  }

  // Every cold insert takes a ghost entry while its object is still linked,
  // so twice the linked count leaves room for about as many evicted keys as
  // there are linked objects.
  uint64_t GhostCapacity() const { return 2 * size(); }

  const Admission admission_;
  NodeList orphans_{kOrphanQueue};
  NodeList lru_{kMainQueue};
  GhostList ghost_;            // lru-ghost only
  SightingFilter doorkeeper_;  // lru-doorkeeper only
};

}  // namespace

std::unique_ptr<EvictionPolicy> NewLruPolicy() {
  return std::make_unique<LruPolicy>(Admission::kAll);
}

std::unique_ptr<EvictionPolicy> NewLruGhostPolicy() {
  return std::make_unique<LruPolicy>(Admission::kGhost);
}

std::unique_ptr<EvictionPolicy> NewLruDoorkeeperPolicy() {
  return std::make_unique<LruPolicy>(Admission::kDoorkeeper);
}

}  // namespace ctxstore::engine::policy_internal
