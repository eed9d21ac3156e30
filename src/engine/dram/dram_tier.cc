#include "engine/dram/dram_tier.h"

#include "common/check.h"

namespace ctxstore::engine {

void DramTier::Set(Entry& e, const ArenaBlock* block) {
  if (DramRef old = e.dram()) {
    --stats_->dram_objects;
    lru_[e.lru_level].Remove(&e);
    arena_->Release(old);
    e.dram_page_plus_one = 0;
  }
  if (block != nullptr) {
    DramRef ref = arena_->Adopt(*block);
    CTX_CHECK(ref.pages == Arena::PagesFor(e.value_len()));
    e.dram_page_plus_one = ref.page + 1;
    ++stats_->dram_objects;
  }
}

void DramTier::AddToLru(Entry& e, uint8_t level) {
  if (e.on_lru || !e.dram() || e.dirty) return;
  CTX_CHECK(level < kPriorityLevels);
  e.lru_level = level;
  lru_[level].PushFront(&e);
}

Entry* DramTier::Victim(const std::function<bool(const Entry&)>& can_evict) {
  for (EntryList& list : lru_) {
    for (uint64_t seen = 0, n = list.size(); seen < n && list.back(); ++seen) {
      Entry* e = list.back();
      if (can_evict(*e)) return e;
      list.Touch(e);
    }
  }
  return nullptr;
}

}  // namespace ctxstore::engine
