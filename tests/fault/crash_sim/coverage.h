// What the crash simulation exercised, summed over seeds, so that a
// workload that stopped reaching the interesting paths shows (and fails:
// Check asserts each one was reached).
#pragma once

#include <cstdint>
#include <string>

namespace ctxstore::engine::crash_sim {

struct Coverage {
  uint64_t seeds = 0;
  // Power cuts, and where they fell.
  uint64_t crash_points = 0;
  uint64_t crash_between_ops = 0;  // between two client operations
  uint64_t crash_at_write = 0;
  uint64_t crash_at_sync = 0;  // a segment's writes done, its fdatasync not
  uint64_t crash_at_create = 0;
  uint64_t crash_at_rename = 0;
  uint64_t crash_at_remove = 0;
  uint64_t crash_at_sync_dir = 0;
  uint64_t crash_in_segment = 0;     // an operation on a segment file
  uint64_t crash_in_checkpoint = 0;  // writing CHECKPOINT
  uint64_t crash_in_catalog = 0;     // rewriting CATALOG
  uint64_t crash_in_close = 0;       // during a clean shutdown
  uint64_t clean_closes = 0;         // rounds that ended in a clean shutdown instead
  uint64_t torn_tails = 0;           // files whose unsynced tail partly survived
  uint64_t dropped_tails = 0;        // files whose unsynced tail was lost
  // The engine's paths.
  uint64_t flash_hits = 0;
  uint64_t evictions = 0;
  uint64_t torn_records = 0;     // skipped by recovery
  uint64_t corrupt_records = 0;  // skipped by recovery
  uint64_t checkpoint_recoveries = 0;
  uint64_t recovered_objects = 0;
  uint64_t sealed_records = 0;
  uint64_t no_space_puts = 0;  // DRAM full of unwritten data
  uint64_t reclaimed_segments = 0;  // flash reclaim (seeds with a small flash)
  uint64_t pinned_lost = 0;         // pinned objects flash reclaim could not carry
  // The context calls and the clients.
  uint64_t ttl_puts = 0;
  uint64_t expiry_changes = 0;  // acknowledged SetExpiry calls
  uint64_t expired_seen = 0;  // reads that found a key expired
  uint64_t leases = 0;        // MATCH_PREFIX calls that took a lease
  uint64_t pins = 0;
  uint64_t group_deletes = 0;
  uint64_t open_puts = 0;       // puts begun by a client and committed steps later
  uint64_t put_races = 0;       // put-if-absent that another client's put beat (EXISTS)
  uint64_t reclaimed_seen = 0;  // unpinned keys found gone by flash reclaim, at run time
  // What was promised, and checked.
  uint64_t durable_acks = 0;     // sync callbacks, FLUSHes and checkpoints that said ok
  uint64_t keys_checked = 0;     // key outcomes checked after a recovery
  uint64_t catalog_changes = 0;    // acknowledged
  uint64_t namespace_changes = 0;  // acknowledged creates, sets and deletes of namespaces
  uint64_t scratch_puts = 0;       // objects put into the scratch namespaces
  uint64_t quota_evictions = 0;    // of those, seen evicted by their namespace's quota
  uint64_t namespace_deletes_with_objects = 0;  // acknowledged, with live objects
  uint64_t scratch_objects_checked = 0;         // after a recovery
  // Injected faults and what they cost.
  uint64_t corrupt_reads_injected = 0;
  uint64_t corrupt_answers = 0;  // GETs that answered CORRUPT (a fault detected)
  uint64_t misdirected_writes = 0;
  uint64_t lost_writes = 0;
  uint64_t bit_rot = 0;       // bits flipped at rest in synced data
  uint64_t failed_syncs = 0;  // of files and folders, reported as EIO
  uint64_t writes_during_sync = 0;        // batches written while a sync ran
  uint64_t syncs_failed_after_write = 0;  // failed syncs that a batch was written during
  uint64_t torn_writes = 0;   // reported as EIO
  uint64_t write_errors = 0;  // writes failed whole with EIO
  uint64_t no_space_writes = 0;  // writes failed with ENOSPC
  uint64_t failed_answers = 0;  // FLUSHes, checkpoints, catalog changes failed by those
  uint64_t failed_closes = 0;   // closes that gave up on records after those
  uint64_t names_undone = 0;    // creates, renames, removes undone by a cut (no SyncDir yet)
  uint64_t keys_tainted = 0;
  uint64_t lost_to_faults = 0;  // objects lost, or older, because of an injected fault
  uint64_t lost_to_reclaim = 0;  // unpinned objects absent after a recovery (flash reclaim)
  uint64_t expired_gone = 0;     // expired objects absent after a recovery
  uint64_t crash_losses = 0;    // must stay 0 (each is also a test failure)

  void Add(const Coverage& o);
  std::string Summary(uint64_t elapsed_ms) const;
  // Fails the test for each path that a run of this size should have reached.
  void Check() const;
};

}  // namespace ctxstore::engine::crash_sim
