#include "crash_sim/coverage.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace ctxstore::engine::crash_sim {
namespace {

// Every counter once, with its name and whether every run of 20 seeds or
// more must reach it (the default runs reach each many times; a workload
// change that loses one shows as a failure).
struct Counter {
  const char* name;
  uint64_t Coverage::*field;
  bool must_reach;
};

constexpr Counter kCounters[] = {
    {"seeds", &Coverage::seeds, false},
    {"crash_points", &Coverage::crash_points, true},
    {"crash_between_ops", &Coverage::crash_between_ops, true},
    {"crash_at_write", &Coverage::crash_at_write, true},
    {"crash_at_sync", &Coverage::crash_at_sync, true},
    {"crash_at_create", &Coverage::crash_at_create, true},
    {"crash_at_rename", &Coverage::crash_at_rename, true},
    {"crash_at_remove", &Coverage::crash_at_remove, false},
    {"crash_at_sync_dir", &Coverage::crash_at_sync_dir, true},
    {"crash_in_segment", &Coverage::crash_in_segment, true},
    {"crash_in_checkpoint", &Coverage::crash_in_checkpoint, true},
    {"crash_in_catalog", &Coverage::crash_in_catalog, true},
    {"crash_in_close", &Coverage::crash_in_close, true},
    {"clean_closes", &Coverage::clean_closes, false},
    {"torn_tails", &Coverage::torn_tails, true},
    {"dropped_tails", &Coverage::dropped_tails, true},
    {"names_undone", &Coverage::names_undone, true},
    {"flash_hits", &Coverage::flash_hits, true},
    {"evictions", &Coverage::evictions, true},
    {"torn_records", &Coverage::torn_records, true},
    {"corrupt_records", &Coverage::corrupt_records, false},
    {"checkpoint_recoveries", &Coverage::checkpoint_recoveries, true},
    {"recovered_objects", &Coverage::recovered_objects, true},
    {"sealed_records", &Coverage::sealed_records, true},
    {"no_space_puts", &Coverage::no_space_puts, false},
    {"reclaimed_segments", &Coverage::reclaimed_segments, true},
    {"pinned_lost", &Coverage::pinned_lost, false},
    {"ttl_puts", &Coverage::ttl_puts, true},
    {"expiry_changes", &Coverage::expiry_changes, true},
    {"expired_seen", &Coverage::expired_seen, true},
    {"leases", &Coverage::leases, true},
    {"pins", &Coverage::pins, true},
    {"group_deletes", &Coverage::group_deletes, true},
    {"open_puts", &Coverage::open_puts, true},
    {"put_races", &Coverage::put_races, false},
    {"reclaimed_seen", &Coverage::reclaimed_seen, true},
    {"durable_acks", &Coverage::durable_acks, true},
    {"keys_checked", &Coverage::keys_checked, true},
    {"catalog_changes", &Coverage::catalog_changes, true},
    {"namespace_changes", &Coverage::namespace_changes, true},
    {"scratch_puts", &Coverage::scratch_puts, true},
    {"quota_evictions", &Coverage::quota_evictions, true},
    {"namespace_deletes_with_objects", &Coverage::namespace_deletes_with_objects, true},
    {"scratch_objects_checked", &Coverage::scratch_objects_checked, true},
    {"corrupt_reads_injected", &Coverage::corrupt_reads_injected, true},
    {"corrupt_answers", &Coverage::corrupt_answers, true},
    {"misdirected_writes", &Coverage::misdirected_writes, true},
    {"lost_writes", &Coverage::lost_writes, true},
    {"bit_rot", &Coverage::bit_rot, true},
    {"failed_syncs", &Coverage::failed_syncs, true},
    {"writes_during_sync", &Coverage::writes_during_sync, true},
    {"syncs_failed_after_write", &Coverage::syncs_failed_after_write, true},
    {"torn_writes", &Coverage::torn_writes, true},
    {"write_errors", &Coverage::write_errors, true},
    {"no_space_writes", &Coverage::no_space_writes, true},
    {"failed_answers", &Coverage::failed_answers, true},
    {"failed_closes", &Coverage::failed_closes, false},
    {"keys_tainted", &Coverage::keys_tainted, true},
    {"lost_to_faults", &Coverage::lost_to_faults, false},
    {"lost_to_reclaim", &Coverage::lost_to_reclaim, true},
    {"expired_gone", &Coverage::expired_gone, true},
    {"crash_losses", &Coverage::crash_losses, false},
};

}  // namespace

void Coverage::Add(const Coverage& o) {
  for (const Counter& c : kCounters) this->*c.field += o.*c.field;
}

std::string Coverage::Summary(uint64_t elapsed_ms) const {
  std::string out = fmt::format("crash simulation: {} ms;", elapsed_ms);
  for (const Counter& c : kCounters) out += fmt::format(" {} {},", c.name, this->*c.field);
  out.back() = '\n';
  return out;
}

void Coverage::Check() const {
  for (const Counter& c : kCounters) {
    if (c.must_reach) {
      EXPECT_GT(this->*c.field, 0u) << c.name << ": the workload no longer reaches this path";
    }
  }
  EXPECT_EQ(crash_losses, 0u) << "acknowledged objects lost or older after a crash";
}

}  // namespace ctxstore::engine::crash_sim
