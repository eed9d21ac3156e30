// "lru" and "lru-ghost": one LRU list behind an orphan list. lru-ghost only
// differs in where a new object enters the list.
#include <string_view>

#include "engine/policy_internal.h"

namespace ctxstore::engine::policy_internal {
namespace {

class LruPolicy final : public EvictionPolicy {
 public:
  explicit LruPolicy(bool admit_on_second_sighting)
      : admit_on_second_sighting_(admit_on_second_sighting) {}

  std::string_view name() const override { return admit_on_second_sighting_ ? "lru-ghost" : "lru"; }

  void Insert(PolicyNode* n) override {
    Remove(n);
    n->freq = 0;
    if (n->orphan) {
      orphans_.PushHead(n);
    } else if (!admit_on_second_sighting_) {
      lru_.PushHead(n);
    } else if (ghost_.Contains(n->key_hash)) {
      // Seen recently (evicted, or inserted cold): evidence of reuse.
      ghost_.Erase(n->key_hash);
      lru_.PushHead(n);
    } else {
      // A first sighting goes next in line, so that a flood of one-shot keys
      // only ever displaces its own kind; remembering it lets the second
      // sighting in hot even when the first left without being evicted
      // (overwritten or deleted).
      lru_.PushTail(n);
      ghost_.Add(n->key_hash, GhostCapacity());
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
    if (victim != nullptr && admit_on_second_sighting_) {
      ghost_.Add(victim->key_hash, GhostCapacity());
    }
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

  // Every cold insert takes a ghost entry while its object is still linked,
  // so twice the linked count leaves room for about as many evicted keys as
  // there are linked objects.
  uint64_t GhostCapacity() const { return 2 * size(); }

  const bool admit_on_second_sighting_;
  NodeList orphans_{kOrphanQueue};
  NodeList lru_{kMainQueue};
  GhostList ghost_;  // lru-ghost only
};

}  // namespace

std::unique_ptr<EvictionPolicy> NewLruPolicy() {
  return std::make_unique<LruPolicy>(false);
}

std::unique_ptr<EvictionPolicy> NewLruGhostPolicy() {
  return std::make_unique<LruPolicy>(true);
}

}  // namespace ctxstore::engine::policy_internal
