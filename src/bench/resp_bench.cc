// Section "resp": ctxstore's Redis front end (serve --redis-listen) against
// redis-server in the same run, both driven by redis-benchmark with the same
// arguments, the two servers alternating round by round (warm-up of each,
// then redis, ctxstore, redis, ctxstore, ...), the median of the rounds:
//   - SET/GET 1 MiB and 4 MiB, 4 connections, -P 1, -r over a preloaded
//     key space (bench/redis_tool.h's cells);
//   - SET/GET 4 KiB, 16 connections, -P 16;
//   - PING p50 on one connection;
//   - CTX.MATCHPREFIX of 64 stored keys p50 on ctxstore against
//     redis-server's PING p50 (redis has no such command);
//   - then, on ctxstore alone, lm:// GET 4 MiB x4 against the native
//     protocol's GET 4 MiB x4 ("lm", bench/resp_lm.h).
// Rows {"cell", "op", "value_bytes", "connections", "pipeline", "redis",
// "ctxstore", "ratio", "ratio_of"}: ratio is ctxstore/redis of ops_per_s
// for throughput cells, of p50_us for latency cells.
#include <csignal>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "bench/harness.h"
#include "bench/loadgen.h"
#include "bench/redis_tool.h"
#include "bench/resp_client.h"
#include "bench/resp_lm.h"

namespace ctxstore::bench {
namespace {

using json = nlohmann::json;

constexpr uint64_t kMiB = 1ull << 20;
constexpr int kRedis = 0, kStore = 1;
const char* const kSystem[] = {"redis", "ctxstore"};

int Rounds(const BenchContext& ctx) {
  return ctx.options.smoke ? 1 : 3;
}

std::string SizeArg(uint64_t bytes) {
  return std::to_string(bytes / kMiB + 1) + "MiB";
}

struct Servers {
  std::string tool;  // redis-benchmark
  uint16_t port[2] = {0, 0};
};

// One redis-benchmark run on server `which`; `warm` = the untimed warm-up.
using ToolRun = std::function<Result<RedisBenchmarkRow>(int which, bool warm)>;

json Figures(const std::vector<RedisBenchmarkRow>& rounds, uint64_t value_bytes) {
  std::vector<double> ops, gbps, p50, p99, avg;
  for (const RedisBenchmarkRow& r : rounds) {
    ops.push_back(r.requests_per_s);
    avg.push_back(r.avg_ms * 1000);
    gbps.push_back(r.requests_per_s * static_cast<double>(value_bytes) / 1e9);
    p50.push_back(r.p50_ms * 1000);
    p99.push_back(r.p99_ms * 1000);
  }
  return {{"ops_per_s", Median(ops)}, {"gbps", Median(gbps)},  {"p50_us", Median(p50)},
          {"p99_us", Median(p99)},    {"avg_us", Median(avg)}, {"rounds", rounds.size()},
          {"rounds_ops_per_s", ops},  {"rounds_p50_us", p50},  {"test", rounds.front().test}};
}

// Warm-up of each server (not in a smoke run), then the rounds, ABAB.
Result<std::pair<json, json>> Alternate(const BenchContext& ctx, const ToolRun& run,
                                        uint64_t value_bytes) {
  if (!ctx.options.smoke) {
    for (int which : {kRedis, kStore}) {
      auto warm = run(which, true);
      if (!warm.ok())
        return Status(warm.status().code(),
                      std::string(kSystem[which]) + ": " + warm.status().message());
    }
  }
  std::vector<RedisBenchmarkRow> rounds[2];
  for (int r = 0; r < Rounds(ctx); ++r) {
    for (int which : {kRedis, kStore}) {
      auto res = run(which, false);
      if (!res.ok())
        return Status(res.status().code(),
                      std::string(kSystem[which]) + ": " + res.status().message());
      rounds[which].push_back(*res);
    }
  }
  return std::make_pair(Figures(rounds[kRedis], value_bytes), Figures(rounds[kStore], value_bytes));
}

json MeasureCell(BenchContext& ctx, json row, const ToolRun& run, const char* ratio_of) {
  const uint64_t size = row.value("value_bytes", uint64_t{0});
  ctx.progress->Step("resp " + row.value("cell", std::string()));
  auto figures = Alternate(ctx, run, size);
  if (!figures.ok()) {
    ctx.progress->Warn(figures.status().ToString());
    row["error"] = figures.status().ToString();
    return row;
  }
  const json& redis = figures->first;
  const json& store = figures->second;
  const double a = store[ratio_of].get<double>(), b = redis[ratio_of].get<double>();
  row["redis"] = redis;
  row["ctxstore"] = store;
  row["ratio_of"] = ratio_of;
  row["ratio"] = b > 0 ? json(a / b) : json(nullptr);
  char line[160];
  if (std::string(ratio_of) == "ops_per_s") {
    std::snprintf(line, sizeof(line), "redis %.0f ops/s, ctxstore %.0f ops/s (%.2fx)", b, a,
                  b > 0 ? a / b : 0.0);
  } else {
    std::snprintf(line, sizeof(line), "p50 redis %.0f us, ctxstore %.0f us (%.2fx)", b, a,
                  b > 0 ? a / b : 0.0);
  }
  ctx.progress->Result(line);
  return row;
}

json CellRow(const std::string& cell, const char* op, uint64_t size, uint32_t conns,
             uint32_t pipeline) {
  return {{"cell", cell},
          {"op", op},
          {"value_bytes", size},
          {"connections", conns},
          {"pipeline", pipeline}};
}

// SET and GET of `size` values over a key space preloaded on both servers.
void ThroughputCells(BenchContext& ctx, const Servers& s, uint64_t size, uint32_t conns,
                     uint32_t pipeline, json& rows) {
  const uint64_t keys = KeyCount(ctx, size, conns);
  char label[64];
  std::snprintf(label, sizeof(label), "%s x%u P%u", SizeLabel(size).c_str(), conns, pipeline);
  Status loaded = Status::Ok();
  for (int which : {kRedis, kStore}) {
    ctx.progress->Step(std::string("resp: preload ") + kSystem[which] + " " + std::to_string(keys) +
                       " keys of " + SizeLabel(size));
    if (loaded.ok()) loaded = PreloadToolKeys(s.port[which], size, keys);
  }
  const uint64_t requests =
      std::max<uint64_t>({RoundBytes(ctx) / size, 4ull * conns * pipeline, 16});
  for (const char* op : {"set", "get"}) {
    std::string cell = op == std::string("set") ? "SET " : "GET ";
    cell.append(label);
    json row = CellRow(cell, op, size, conns, pipeline);
    row["keys"] = keys;
    row["requests"] = requests;
    if (!loaded.ok()) {
      row["error"] = "preload: " + loaded.ToString();
      rows.push_back(row);
      continue;
    }
    ToolRun run = [&](int which, bool warm) {
      const uint64_t n =
          warm ? std::max<uint64_t>(requests / 4, 2ull * conns * pipeline) : requests;
      return RunTool(s.tool, s.port[which], op, size, conns, n, keys, pipeline);
    };
    rows.push_back(MeasureCell(ctx, row, run, "ops_per_s"));
  }
}

uint64_t LatencyRequests(const BenchContext& ctx) {
  if (ctx.options.smoke) return 2000;
  return ctx.options.quick ? 20000 : 100000;
}

// PING on both; CTX.MATCHPREFIX of 64 stored keys on ctxstore against PING
// on redis-server.
void LatencyCells(BenchContext& ctx, const Servers& s, json& rows) {
  const uint64_t n = LatencyRequests(ctx);
  auto args = [&](bool warm, std::vector<std::string> command) {
    std::vector<std::string> a = {"-c", "1", "-n", std::to_string(warm ? n / 4 : n)};
    a.insert(a.end(), command.begin(), command.end());
    return a;
  };
  ToolRun ping = [&](int which, bool warm) {
    return RunRedisBenchmark(s.tool, s.port[which], args(warm, {"PING"}));
  };
  rows.push_back(MeasureCell(ctx, CellRow("PING x1", "ping", 0, 1, 1), ping, "p50_us"));

  std::vector<std::string> match = {"CTX.MATCHPREFIX"};
  for (int k = 0; k < 64; ++k) {
    char key[16];
    std::snprintf(key, sizeof(key), "k%d", k);
    match.emplace_back(key);
  }
  json row = CellRow("CTX.MATCHPREFIX 64 keys x1 / redis PING", "matchprefix", 4096, 1, 1);
  row["redis_op"] = "ping";
  auto client = RespClient::Connect(s.port[kStore]);
  Status st = client.status();
  std::vector<char> value(4096);
  FillValue(value.data(), value.size(), 7);
  for (size_t k = 1; st.ok() && k < match.size(); ++k) {
    st = (*client)->Set(match[k], value.data(), value.size());
  }
  if (!st.ok()) {
    row["error"] = "setting the 64 keys: " + st.ToString();
    rows.push_back(row);
    return;
  }
  ToolRun run = [&](int which, bool warm) {
    return RunRedisBenchmark(
        s.tool, s.port[which],
        args(warm, which == kStore ? match : std::vector<std::string>{"PING"}));
  };
  rows.push_back(MeasureCell(ctx, row, run, "p50_us"));
}

}  // namespace

nlohmann::json RunResp(BenchContext& ctx) {
  Servers s;
  s.tool = FindExecutable("redis-benchmark");
  const std::string redis_exe = FindExecutable("redis-server");
  if (redis_exe.empty() || s.tool.empty()) {
    ctx.progress->Warn("redis-server or redis-benchmark is not installed; resp section skipped");
    return {{"skipped", {"redis-server or redis-benchmark is not installed"}}};
  }
  Result<RedisServer> redis = StartRedisServer(ctx, redis_exe, "resp-redis", kRedisCacheArgs);
  if (!redis.ok()) return {{"error", "redis-server: " + redis.status().ToString()}};
  auto port = FreePort();
  auto lm_port = FreePort();
  if (!port.ok() || !lm_port.ok()) {
    redis->process->Stop(SIGTERM, 10000);
    return {{"error", (!port.ok() ? port.status() : lm_port.status()).ToString()}};
  }
  const uint64_t memory = 2 * ctx.data_set_bytes + 256 * kMiB;
  const std::vector<std::string> args = {"--no-auth",
                                         "--redis-listen",
                                         "127.0.0.1:" + std::to_string(*port),
                                         "--lm-listen",
                                         "127.0.0.1:" + std::to_string(*lm_port),
                                         "--memory",
                                         SizeArg(memory),
                                         "--disk",
                                         SizeArg(4 * memory)};
  Result<StoreServer> store = StartStoreServer(ctx, "resp-ctxstore", args);
  if (!store.ok()) {
    redis->process->Stop(SIGTERM, 10000);
    return {{"error", "ctxstore: " + store.status().ToString()}};
  }
  s.port[kRedis] = redis->port;
  s.port[kStore] = *port;
  json out = {{"server_args", args}, {"redis_args", kRedisCacheArgs}, {"rounds", Rounds(ctx)}};
  if (Status st = WaitUntilWarm(*store); !st.ok()) ctx.progress->Warn(st.ToString());
  if (Status st = WaitForPort(*port, store->process.get(), 30000); !st.ok()) {
    out["error"] = "ctxstore's Redis front end: " + st.ToString();
  } else {
    json rows = json::array();
    try {
      for (uint64_t size : {1 * kMiB, 4 * kMiB}) ThroughputCells(ctx, s, size, 4, 1, rows);
      ThroughputCells(ctx, s, 4096, 16, 16, rows);
      LatencyCells(ctx, s, rows);
      // Frees the 4 KiB key space before the lm:// cell's values.
      auto client = RespClient::Connect(*port);
      Status flushed = client.ok() ? (*client)->FlushAll() : client.status();
      out["lm"] = flushed.ok() ? LmGetCell(ctx, *store, *lm_port)
                               : json{{"error", "FLUSHALL: " + flushed.ToString()}};
    } catch (const std::exception& e) {  // bad_alloc of a value buffer
      out["error"] = e.what();
    }
    out["rows"] = rows;
  }
  store->process->Stop(SIGTERM, 30000);
  redis->process->Stop(SIGTERM, 10000);
  return out;
}

}  // namespace ctxstore::bench
