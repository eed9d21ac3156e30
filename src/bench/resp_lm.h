// The resp section's lm:// cell (bench/resp_lm.cc): GET of 4 MiB values on
// 4 connections over LMCache's lm:// protocol (serve --lm-listen) against
// the native protocol's GET of the same size on the same server.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "bench/harness.h"

namespace ctxstore::bench {

// {"cell", "op": "lm_get", "value_bytes", "connections", "keys", "native":
// {ops_per_s, gbps, p50_us, p99_us, rounds, errors}, "lm": {...}, "ratio"
// (lm / native ops/s)} or with "error". The lm:// driver: one thread and one
// blocking socket per connection, 186-byte requests (EncodeLmRequest), its
// values PUT over lm:// first; the native one: a Client per thread,
// GetInto. The two alternate per round.
nlohmann::json LmGetCell(BenchContext& ctx, const StoreServer& server, uint16_t lm_port);

}  // namespace ctxstore::bench
