// The DRAM tier's bookkeeping over the arena: which entries hold a block (an
// entry keeps its block by page number, Entry::dram()), and one LRU list per
// priority level of the clean ones, from which eviction chooses (the lowest
// level first). Unwritten (dirty) entries are on no list: they are never
// evicted before they reach flash.
//
// Not thread-safe: the engine's mutex guards it.
#pragma once

#include <cstdint>
#include <functional>

#include "engine/dram/arena.h"
#include "engine/index/entry.h"
#include "engine/types.h"

namespace ctxstore::engine {

class DramTier {
 public:
  DramTier(Arena* arena, EngineStats* stats) : arena_(arena), stats_(stats) {}

  // Gives e the block (e holds a reference to it from then on), or drops
  // e's block (and takes it off its list) when block is null.
  void Set(Entry& e, const ArenaBlock* block);
  // A resident, clean entry goes to the front of list `level`.
  void AddToLru(Entry& e, uint8_t level);
  void RemoveFromLru(Entry& e) { lru_[e.lru_level].Remove(&e); }
  // The least recently used entry that can_evict accepts, the lowest level
  // first; those passed over move to the front, so that each is passed
  // over once per search. Null when there is none.
  Entry* Victim(const std::function<bool(const Entry&)>& can_evict);

 private:
  Arena* const arena_;
  EngineStats* const stats_;
  EntryList lru_[kPriorityLevels];  // front = most recently used
};

}  // namespace ctxstore::engine
