// Section "growth" (issue 17, part 5): ctxstore PUT and GET throughput
// against value size (4 KiB to 64 MiB, 4 connections) and against
// connections (1 to 64, 1 MiB values), with redis-benchmark's SET and GET at
// the same points where it can move them, for the growth charts. The cells
// are the datapath section's (store_cells.h), so that both sections measure
// alike.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ctxstore::bench {

// The points a run measures.
struct GrowthPlan {
  std::vector<uint64_t> value_sizes;  // the value-size sweep...
  uint32_t size_sweep_connections = 4;  // ...at this many connections
  std::vector<uint32_t> connections;    // the connection sweep...
  uint64_t connection_sweep_value_bytes = 1ull << 20;  // ...at this value size
  // redis-benchmark measures values up to this size only (see kRedisLargeValues).
  uint64_t redis_max_value_bytes = 4ull << 20;
};

// Every size and connection count in a full or quick run (a quick run's
// cells are shorter); a few small ones in a smoke run.
GrowthPlan MakeGrowthPlan(bool smoke);

// Why the larger values have no Redis point, as measured on the 2-core VM.
inline constexpr const char* kRedisLargeValues =
    "redis-benchmark 7.0 moves 16 MiB values at about 0.06 GB/s and 64 MiB values at about "
    "0.04 GB/s on the 2-core VM (SET, 4 connections, 32 requests: 11 s and 62 s; GET alike), "
    "so one round of the run's bytes would take minutes: no Redis point above 4 MiB";

}  // namespace ctxstore::bench
