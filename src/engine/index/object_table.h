// The objects the engine holds: the index (namespace + key -> entry) and
// everything linked to an entry: its namespace's counters and eviction
// policy, the DRAM LRU lists, groups, parent-child links and the expiry
// heap. Every change to where an object is (DRAM, flash, dirty or clean)
// and every removal goes through here, so that links and counters stay in
// step; quota eviction, DRAM eviction and TTL expiry too. A removal that
// must survive a restart queues a tombstone.
//
// Not thread-safe: the engine's mutex guards it.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/env.h"
#include "common/mutex.h"
#include "engine/context/catalog.h"
#include "engine/context/lease_table.h"
#include "engine/dram/arena.h"
#include "engine/dram/dram_tier.h"
#include "engine/flash/checkpoint.h"
#include "engine/flush/flush_queue.h"
#include "engine/flush/flusher.h"
#include "engine/index/entry.h"
#include "engine/index/index.h"
#include "engine/index/meta_interner.h"
#include "engine/types.h"

namespace ctxstore::engine {

class ObjectTable {
 public:
  ObjectTable(Arena* arena, Catalog* catalog, LeaseTable* leases, FlushQueue* queue, Env* env,
              EngineStats* stats);
  ~ObjectTable();  // returns the entries' DRAM blocks to the arena

  uint64_t NowMs() const { return env_->WallClockMs(); }
  size_t size() const { return index_.size(); }
  uint64_t memory_bytes() const { return index_.memory_bytes(); }

  // Takes the entries recovery found (flash only, not yet linked) and links
  // them, oldest first, so that eviction order starts out as write order.
  void Install(Index index);

  // Lookups. Visible: present and not expired (a lease holds off expiry).
  Entry* Find(std::string_view index_key);
  Entry* FindVisible(std::string_view index_key);
  bool Expired(const Entry& e) const;
  bool Leased(const Entry& e) const { return leases_->Holds(e, NowMs()); }

  // A committed version of index_key in namespace ns becomes current, dirty
  // and in DRAM (block): a new entry, or the old one replaced in place
  // (readers holding the old block keep it; children stay linked). It
  // expires after ttl_ms (Namespace::ExpiryOf) or, with keep_ttl, when the
  // version it replaces would have (Namespace::KeptExpiry). An old version
  // past its expiry (expired, or held visible only by a lease) has none to
  // keep: ttl_ms applies.
  Entry& Put(std::string_view index_key, const Namespace& ns, const ArenaBlock& block,
             uint64_t value_len, uint64_t value_xxh3, uint64_t ttl_ms, bool keep_ttl, MetaRef meta);
  // A new version of e that differs only in its expiry (0 = never; the
  // caller capped it): the same value, DRAM block, checksum, metadata and
  // creation time, with the next seq. e must be in DRAM. It becomes dirty
  // (off the LRU) until the record the caller queues for it (FlushItem::
  // ForPut) is durable, and loses its flash location: the old record names
  // the old seq and expiry (a sealed one's AAD the old seq too). Its links
  // (namespace counters, policy, group, parent, children) stay, its leases
  // hold the new version, and its old expiry_ item goes stale (its seq).
  void SetExpiry(Entry& e, uint64_t expires_ms);
  void Erase(Entry& e);
  // Erase, and a tombstone so that no older version of the key comes back
  // at recovery.
  void EraseDurably(Entry& e, DurableCallback on_durable = nullptr);
  void QueueTombstone(std::string_view index_key, DurableCallback on_durable);

  // DRAM tier.
  void SetDram(Entry& e, const ArenaBlock* block) { dram_.Set(e, block); }  // null: drop it
  void AddToLru(Entry& e);
  // A lookup: tells the namespace's policy.
  void Accessed(Entry& e);
  // A read: Accessed, and a resident entry moves to the front of its
  // namespace's current DRAM level.
  void Touch(Entry& e);
  // A DRAM block of bytes, evicting clean objects as needed (the least
  // recently used of the lowest level first; leased objects and DRAM pins
  // stay). When only unwritten data is left, waits up to wait_ms for the
  // flusher to make some clean (mu, the engine's mutex, released
  // meanwhile). Null when there is no room.
  std::shared_ptr<ArenaBlock> Allocate(uint64_t bytes, uint64_t wait_ms, Mutex* mu) REQUIRES(mu);
  // Not durable: off the LRU (eviction would drop the only readable copy).
  void MarkDirty(Entry& e);

  // Flash tier.
  void SetFlash(Entry& e, uint64_t segment_id, uint64_t offset);
  void ClearFlash(Entry& e);
  // The objects whose record is in the segment (entries never move; one
  // may be erased without disturbing the others).
  std::vector<Entry*> EntriesOnSegment(uint64_t segment_id);
  // The flusher's questions (FlusherHost).
  std::optional<uint64_t> CurrentSeq(std::string_view index_key);
  void MarkDurable(const FlushItem& item);
  FlusherHost::Retry PrepareRetry(FlushItem& item, bool closing);
  void AddToCheckpoint(Checkpoint* checkpoint) const;

  // Context.
  // Evicts objects of ns (policy order; never pinned, leased or keep)
  // until incoming more bytes fit its quota.
  Status MakeRoom(Namespace& ns, uint64_t incoming, const Entry* keep);
  // Removes what expired by now (maintenance) and ends lapsed leases.
  void SweepExpired(uint64_t now);
  // RELEASE of a lease (LeaseTable::Release).
  Status ReleaseLease(uint32_t ns, uint64_t lease_id);
  uint64_t DeleteGroup(uint32_t ns, std::string_view group);  // the number deleted
  void EraseNamespace(uint32_t ns);
  // What a new pin of name would cover now: the key (kNotFound when absent)
  // or the group's members.
  Result<std::vector<std::string>> PinMembers(uint32_t ns, std::string_view name, bool group);
  ObjectInfo Info(const Entry& e) const;
  ListPage List(uint32_t ns, const ListOptions& opts);

 private:
  struct ExpiryItem {
    uint64_t expires_ms;
    uint64_t seq;
    std::string index_key;
    bool operator>(const ExpiryItem& o) const { return expires_ms > o.expires_ms; }
  };
  // Links an entry into its namespace, policy, group, parent; the reverse
  // (orphan_children: its children lose their parent).
  void Attach(Entry& e);
  void Detach(Entry& e, bool orphan_children);
  void Unlink(Entry& e);  // off the LRU, out of DRAM and flash, not dirty
  // Evicts one clean object from DRAM; false when there is none.
  bool EvictFromDram();
  void RebuildExpiry();
  LeaseTable::FindEntry FindLeased();
  LeaseTable::Released Released();

  Arena* const arena_;
  Catalog* const catalog_;
  LeaseTable* const leases_;
  FlushQueue* const queue_;
  Env* const env_;
  EngineStats* const stats_;
  Index index_;
  DramTier dram_;  // which entries hold DRAM, and their LRU lists
  // IndexKey(ns, group) -> members.
  std::unordered_map<std::string, std::unordered_set<Entry*>, KeyHash, std::equal_to<>> groups_;
  // Children linked to a present parent, by parent (an orphan has none).
  std::unordered_map<Entry*, std::vector<Entry*>> children_;
  std::priority_queue<ExpiryItem, std::vector<ExpiryItem>, std::greater<>> expiry_;
  uint64_t ttl_objects_ = 0;  // entries with an expiry (bounds expiry_'s stale items)
};

}  // namespace ctxstore::engine
