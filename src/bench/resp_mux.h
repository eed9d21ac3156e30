// The harness's second Redis driver: one thread drives every connection,
// each with one request in flight, over non-blocking sockets and epoll,
// the way redis-benchmark drives them (its event loop, -P 1).
//
// Why a second driver: redis-server runs commands on one thread. RunLoad
// (bench/loadgen.h) gives each connection a thread of its own; on a 2-core
// machine, four or sixteen of them take turns on the core redis-server
// needs, and the harness measured SET and GET of 1-4 MiB at x4 and x16
// below redis-benchmark's figure for the same cells (docs/benchmarks.md,
// "A full run of afa31a3"). One thread multiplexing the connections leaves
// the server its core. At one connection the blocking driver is the
// stronger (one recv per reply, no epoll_wait), so the harness runs both
// and keeps the better per cell (bench/redis_bench.cc).
//
// A SET sends the RESP header and then the caller's value (writev, no
// copy); a GET parses the `$len` line and reads the body straight into
// the caller's buffer, as bench/resp_client.h does.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "bench/loadgen.h"
#include "ctxstore/status.h"

namespace ctxstore::bench {

enum class RespMuxOp { kSet, kGet };

struct RespMuxSpec {
  uint16_t port = 0;  // redis-server on 127.0.0.1
  RespMuxOp op = RespMuxOp::kSet;
  uint64_t value_bytes = 0;
  // The key of connection `conn`'s `iteration`th operation, written into buf.
  std::function<std::string_view(uint32_t conn, uint64_t iteration, std::array<char, 48>& buf)> key;
  // One buffer of value_bytes per connection: what a SET sends, where a
  // GET's value lands.
  std::vector<char*> values;
};

// Opens load.workers connections and runs load's rounds over them, as
// RunLoad does: each connection issues one operation at a time until the
// round's time or operation count is spent. An error reply counts as an
// error and the connection goes on; a connection that breaks (closed,
// malformed reply, no reply in 120 s) counts one error and stops. Fails
// only when a connection cannot be opened or spec is inconsistent.
Result<LoadResult> RunRespMux(const LoadSpec& load, const RespMuxSpec& spec);

}  // namespace ctxstore::bench
