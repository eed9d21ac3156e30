// "s3fifo": S3-FIFO (Yang et al., SOSP'23) behind an orphan list.
//
// Most objects of a prompt cache are read once (a unique suffix) while a few
// (shared system prompts, few-shot prefixes) are read again and again. The
// small FIFO lets the one-shot objects leave after a short probation without
// ever displacing the main FIFO, where the reused ones live.
#include <cstdint>
#include <string_view>

#include "engine/context/policy_internal.h"

namespace ctxstore::engine::policy_internal {
namespace {

// Saturating, as in the paper: two bits of evidence are enough, and a hot
// object then leaves within three passes of main once it goes cold.
constexpr uint8_t kMaxFreq = 3;
// The small FIFO's target share of the bytes, in percent.
constexpr uint64_t kSmallSharePercent = 10;

class S3FifoPolicy final : public EvictionPolicy {
 public:
  std::string_view name() const override { return "s3fifo"; }

  void Insert(PolicyNode* n) override {
    Remove(n);
    n->freq = 0;
    if (n->orphan) {
      orphans_.PushHead(n);
    } else if (ghost_.Contains(n->key_hash)) {
      // It left small unread but came back: it is reused, only on a longer
      // period than small covers.
      ghost_.Erase(n->key_hash);
      main_.PushHead(n);
    } else {
      small_.PushHead(n);
    }
  }

  // No list moves on a hit: FIFOs keep reads cheap (and lock-friendly).
  void Access(PolicyNode* n) override {
    if (n->queue != kUnlinked && n->freq < kMaxFreq) n->freq++;
  }

  void Remove(PolicyNode* n) override {
    if (NodeList* list = ListOf(n)) list->Unlink(n);
  }

  void Orphan(PolicyNode* n) override {
    n->orphan = true;  // an unlinked node goes to the orphans when inserted
    NodeList* list = ListOf(n);
    if (list == nullptr || list == &orphans_) return;
    list->Unlink(n);
    orphans_.PushHead(n);
  }

  PolicyNode* Victim(const Evictable& evictable) override;

  uint64_t size() const override { return orphans_.size() + small_.size() + main_.size(); }
  uint64_t bytes() const override { return orphans_.bytes() + small_.bytes() + main_.bytes(); }

 private:
  NodeList* ListOf(PolicyNode* n) {
    switch (n->queue) {
      case kOrphanQueue:
        return &orphans_;
      case kMainQueue:
        return &main_;
      case kSmallQueue:
        return &small_;
      default:
        return nullptr;
    }
  }

  // Whether small holds more than its share (orphans are not counted: they
  // are transient and leave first anyway). Objects of zero bytes are
  // counted instead when no object has any bytes, so that small still
  // drains.
  bool SmallOverTarget() const {
    uint64_t total_bytes = small_.bytes() + main_.bytes();
    if (total_bytes == 0) {
      return small_.size() * 100 > (small_.size() + main_.size()) * kSmallSharePercent;
    }
    return small_.bytes() * 100 > total_bytes * kSmallSharePercent;
  }

  PolicyNode* FallbackVictim(const Evictable& evictable);

  // As many entries as linked objects, the paper's ghost size.
  uint64_t GhostCapacity() const { return size(); }

  PolicyNode* EvictFromSmall(PolicyNode* n) {
    ghost_.Add(n->key_hash, GhostCapacity());
    return n;
  }

  NodeList orphans_{kOrphanQueue};
  NodeList small_{kSmallQueue};
  NodeList main_{kMainQueue};
  GhostList ghost_;  // keys evicted from small
};

PolicyNode* S3FifoPolicy::Victim(const Evictable& evictable) {
  if (PolicyNode* n = FirstEvictable(orphans_, evictable)) return n;

  // The paper's loop, bounded so that each node is asked about at most twice
  // per call: small is walked at most once (every step there evicts or moves
  // its tail to main), main once around (one step for each node it held on
  // entry; promotions all come first, since small only shrinks). When that is
  // not enough (nodes refused, or main full of reads) a scan without moves
  // settles it.
  uint64_t main_steps = main_.size();
  for (;;) {
    if (!small_.empty() && (main_.empty() || SmallOverTarget())) {
      PolicyNode* n = small_.tail();
      if (n->freq == 0 && evictable(n)) return EvictFromSmall(n);
      // Read while on probation, or refused (pinned or leased, that is in
      // use, as good as a read): it earned a place in main.
      small_.Unlink(n);
      n->freq = 0;
      main_.PushHead(n);
    } else if (main_steps > 0) {
      main_steps--;
      PolicyNode* n = main_.tail();
      if (n->freq == 0 && evictable(n)) return n;
      if (n->freq > 0) n->freq--;
      main_.Unlink(n);
      main_.PushHead(n);
    } else {
      break;
    }
  }
  return FallbackVictim(evictable);
}

// The first evictable node with no reads left, main before small (the loop
// only gets here with small under its share), each from its tail; failing
// that the first evictable node at all. Asks about each node at most once and
// moves nothing.
PolicyNode* S3FifoPolicy::FallbackVictim(const Evictable& evictable) {
  PolicyNode* read_victim = nullptr;
  for (const NodeList* list : {&main_, &small_}) {
    for (PolicyNode* n = list->tail(); n != nullptr; n = n->prev) {
      if (n->freq > 0 && read_victim != nullptr) continue;
      if (!evictable(n)) continue;
      if (n->freq == 0) return n->queue == kSmallQueue ? EvictFromSmall(n) : n;
      read_victim = n;
    }
  }
  if (read_victim != nullptr && read_victim->queue == kSmallQueue) {
    return EvictFromSmall(read_victim);
  }
  return read_victim;
}

}  // namespace

std::unique_ptr<EvictionPolicy> NewS3FifoPolicy() {
  return std::make_unique<S3FifoPolicy>();
}

}  // namespace ctxstore::engine::policy_internal
