#include "service/stats.h"

namespace ctxstore::service {

std::vector<protocol::StatsField> Stats(const Service& service) {
  const engine::EngineStats s = service.engine().Stats();
  const Counters& c = service.counters();
  return {
      {"objects", s.objects},
      {"dram_objects", s.dram_objects},
      {"dram_bytes", s.dram_bytes},
      {"dram_capacity_bytes", s.dram_capacity_bytes},
      {"dram_populated_bytes", s.dram_populated_bytes},
      {"index_bytes", s.index_bytes},
      {"dirty_objects", s.dirty_objects},
      {"flash_objects", s.flash_objects},
      {"flash_bytes", s.flash_bytes},
      {"flash_capacity_bytes", s.flash_capacity_bytes},
      {"flash_segments", s.flash_segments},
      {"hits_dram", s.hits_dram},
      {"hits_flash", s.hits_flash},
      {"misses", s.misses},
      {"puts", s.puts},
      {"deletes", s.deletes},
      {"evictions_dram", s.evictions_dram},
      {"reclaimed_segments", s.reclaimed_segments},
      {"reclaimed_objects", s.reclaimed_objects},
      {"corrupt_records_skipped", s.corrupt_records_skipped},
      {"torn_records_skipped", s.torn_records_skipped},
      {"corrupt_reads", s.corrupt_reads},
      {"io_errors", s.io_errors},
      {"key_unavailable_reads", s.key_unavailable_reads},
      {"flash_read_retries", s.flash_read_retries},
      {"sealed_records", s.sealed_records},
      {"write_retries", s.write_retries},
      {"writes_coalesced", s.writes_coalesced},
      {"flush_batches", s.flush_batches},
      {"writes_during_sync", s.writes_during_sync},
      {"syncs_failed_after_write", s.syncs_failed_after_write},
      {"recovered_objects", s.recovered_objects},
      {"recovery_ms", s.recovery_ms},
      {"recovered_from_checkpoint", s.recovered_from_checkpoint ? 1u : 0u, /*is_bool=*/true},
      {"expired_objects", s.expired_objects},
      {"evictions_quota", s.evictions_quota},
      {"pinned_lost", s.pinned_lost},
      {"bad_segments", s.bad_segments},
      {"bad_segment_objects", s.bad_segment_objects},
      {"leases", s.leases},
      {"pin_rules", s.pin_rules},
      {"namespaces", s.namespaces},
      {"connections", c.connections.load()},
      {"connections_total", c.connections_total.load()},
      {"requests", c.requests.load()},
      {"protocol_errors", c.protocol_errors.load()},
      {"timeouts", c.timeouts.load()},
      {"auth_failures", c.auth_failures.load()},
      {"access_denied", c.access_denied.load()},
      {"inflight_bytes", c.inflight_bytes.load()},
      {"inflight_refused", c.inflight_refused.load()},
      {"connections_refused", c.connections_refused.load()},
  };
}

}  // namespace ctxstore::service
