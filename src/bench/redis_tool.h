// redis-benchmark (Debian's redis-tools) as the reference figure for Redis:
// the same value sizes and connection counts as the harness's own driver,
// one request in flight per connection (-P 1), the median of three rounds
// after an untimed warm-up run. Keys as the harness's own cells use them:
// `-r N` over N = KeyCount keys, every one written and read before the
// first cell of its size, so that SETs overwrite held keys and GETs hit. On
// one key (redis-benchmark's default) Redis reuses one hot allocation and
// was up to 4x faster at 1-4 MiB than on the pattern ctxstore is measured
// on (docs/benchmarks.md). Its rows are cross-checked against the
// harness's own client where both measured the same cell
// (bench/tool_output.h: the harness's figure more than 15% below the tool's
// makes the baseline invalid; the higher of the two is the reference).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/harness.h"
#include "bench/process.h"
#include "bench/tool_output.h"

namespace ctxstore::bench {

// Keys a Redis measurement touches, for both drivers: about the run's data
// set (1 GiB in a full run) of value_bytes values, at least one per worker.
inline uint64_t KeyCount(const BenchContext& ctx, uint64_t value_bytes, uint64_t workers) {
  return std::max<uint64_t>(workers, ctx.data_set_bytes / value_bytes);
}

// Bytes one redis-benchmark round moves: enough for a stable figure (a
// second or more at a few GB/s in a full run), small in a smoke run.
inline uint64_t RoundBytes(const BenchContext& ctx) {
  if (ctx.options.smoke) return 8ull << 20;
  return ctx.options.quick ? 512ull << 20 : 2ull << 30;
}

// FLUSHALL, then every key redis-benchmark's -r `keys` names
// ("key:%012u") written once with `size` bytes and read once: the measured
// SETs overwrite keys the server holds and every GET hits a value already
// sent from once. Any server speaking RESP at `port` (redis-server, or
// ctxstore's Redis front end without auth).
Status PreloadToolKeys(uint16_t port, uint64_t size, uint64_t keys);

// One redis-benchmark run against 127.0.0.1:port with --csv and `args`
// (options, then an optional command of its own), its first CSV row.
Result<RedisBenchmarkRow> RunRedisBenchmark(const std::string& exe, uint16_t port,
                                            const std::vector<std::string>& args);
// `-t test -d size -c conns -n requests -r keys -P pipeline`.
Result<RedisBenchmarkRow> RunTool(const std::string& exe, uint16_t port, const char* test,
                                  uint64_t size, uint32_t conns, uint64_t requests, uint64_t keys,
                                  uint32_t pipeline = 1);

// Rows {"system": system, "op": "put"|"get", "value_bytes", "connections",
// "keys", "gbps", "rounds_gbps", "ops_per_s", "p50_us", "p99_us", "ops",
// "errors"}
// (or "error") for every size x connection count of the run, measured on
// the redis-server at `port`. with_get = false measures SET only. Each row
// also has the CPU per GB of the measured rounds (bench/cpu_cost.h): the
// server's (redis-server, pid server_pid) and redis-benchmark's.
nlohmann::json RedisBenchmarkRows(BenchContext& ctx, const std::string& exe, uint16_t port,
                                  pid_t server_pid, const std::string& system, bool with_get);

// A redis-server on a free loopback port, its folder ctx's scratch folder
// `name` (its log there too), started with `args` after the port, address
// and folder, and answering.
struct RedisServer {
  uint16_t port = 0;
  std::unique_ptr<ChildProcess> process;
};
Result<RedisServer> StartRedisServer(BenchContext& ctx, const std::string& exe,
                                     const std::string& name, const std::vector<std::string>& args);
// How the redis and growth sections run it: persistence off, one I/O
// thread, no memory limit.
inline const std::vector<std::string> kRedisCacheArgs = {"--save",       "",  "--appendonly", "no",
                                                         "--io-threads", "1", "--maxmemory",  "0"};

// For every cell that both `own_rows` and `tool_rows` measured without
// error: {"op", "value_bytes", "connections", "tool_gbps", "own_gbps",
// "ratio", "valid", "reference_gbps" (the higher of the two)}.
nlohmann::json CrossCheckRows(const nlohmann::json& own_rows, const nlohmann::json& tool_rows);

// Redis with appendonly yes, appendfsync everysec (its durable setting), SET
// through redis-benchmark: the durable comparison for PUT. {"server_args",
// "rows"} or {"error"} / {"skipped"}.
nlohmann::json RunRedisDurable(BenchContext& ctx, const std::string& server_exe,
                               const std::string& benchmark_exe);

}  // namespace ctxstore::bench
