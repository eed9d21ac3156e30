// Section "growth" (bench/growth.h): throughput against value size and
// against connections, ctxstore through the datapath cells and Redis
// through redis-benchmark (bench/redis_tool.h), each on a server of its own.
#include "bench/growth.h"

#include <algorithm>
#include <csignal>
#include <string>
#include <vector>

#include "bench/harness.h"
#include "bench/redis_tool.h"
#include "bench/store_cells.h"
#include "bench/store_load.h"

namespace ctxstore::bench {
namespace {

using json = nlohmann::json;

// The run's context with one sweep's sizes and connection counts, so that
// the datapath cells and redis-benchmark's rows measure exactly those.
BenchContext SweepContext(const BenchContext& ctx, std::vector<uint64_t> sizes,
                          std::vector<uint32_t> connections) {
  BenchContext sweep = ctx;
  sweep.value_sizes = std::move(sizes);
  sweep.connections = std::move(connections);
  return sweep;
}

// The connection sweep less the point the value-size sweep measured
// already (its value size at its connection count).
std::vector<uint32_t> OtherConnections(const GrowthPlan& plan) {
  std::vector<uint32_t> out;
  for (uint32_t c : plan.connections) {
    if (c != plan.size_sweep_connections) out.push_back(c);
  }
  return out;
}

// PUTs, then GETs of a loaded data set, of every size at every connection
// count of `sweep`, on one client per connection of the largest count.
void MeasureStoreSweep(BenchContext& sweep, const StoreServer& server, json& rows) {
  if (sweep.connections.empty()) return;
  auto clients = Connect(server, DataPathClients(sweep));
  if (!clients.ok()) {
    rows.push_back({{"system", "ctxstore"}, {"error", clients.status().ToString()}});
    return;
  }
  for (uint64_t size : sweep.value_sizes) {
    for (uint32_t conns : sweep.connections) {
      sweep.progress->Step("growth: ctxstore PUT " + SizeLabel(size) + " x" +
                           std::to_string(conns));
      LoadResult r = DataPathPut(sweep, *clients, size, conns);
      rows.push_back(Row("ctxstore", "put", size, conns, r));
      Report(sweep, r);
    }
    Result<uint64_t> count = DataPathLoadGetSet(sweep, *clients, size);
    if (!count.ok()) {
      sweep.progress->Warn(count.status().ToString());
      continue;
    }
    for (uint32_t conns : sweep.connections) {
      sweep.progress->Step("growth: ctxstore GET " + SizeLabel(size) + " x" +
                           std::to_string(conns));
      LoadResult r = DataPathGet(sweep, *clients, size, *count, conns);
      rows.push_back(Row("ctxstore", "get", size, conns, r));
      Report(sweep, r);
    }
  }
}

// Both sweeps on one datapath-sized server (DRAM for one data set and one
// PUT cell's burst, as in the datapath section).
void MeasureStore(BenchContext& ctx, const GrowthPlan& plan, json& out) {
  const std::vector<std::string> args = DataPathServerArgs(ctx);
  out["server_args"] = args;
  Result<StoreServer> server = StartWarmServer(ctx, "growth", args);
  if (!server.ok()) {
    out["error"] = server.status().ToString();
    return;
  }
  BenchContext by_size = SweepContext(ctx, plan.value_sizes, {plan.size_sweep_connections});
  MeasureStoreSweep(by_size, *server, out["rows"]);
  BenchContext by_conns =
      SweepContext(ctx, {plan.connection_sweep_value_bytes}, OtherConnections(plan));
  MeasureStoreSweep(by_conns, *server, out["rows"]);
}

// redis-benchmark SET and GET at the same points, values up to
// plan.redis_max_value_bytes, on a redis-server with persistence off (the
// redis section's settings).
void MeasureRedis(BenchContext& ctx, const GrowthPlan& plan, json& out) {
  const std::string server_exe = FindExecutable("redis-server");
  const std::string tool = FindExecutable("redis-benchmark");
  if (server_exe.empty() || tool.empty()) {
    out["redis_skipped"] = "redis-server or redis-benchmark is not installed";
    ctx.progress->Warn("growth: no Redis baseline (redis-server or redis-benchmark missing)");
    return;
  }
  Result<RedisServer> server = StartRedisServer(ctx, server_exe, "growth-redis", kRedisCacheArgs);
  if (!server.ok()) {
    out["redis_error"] = server.status().ToString();
    return;
  }
  std::vector<uint64_t> sizes;
  for (uint64_t s : plan.value_sizes) {
    if (s <= plan.redis_max_value_bytes) sizes.push_back(s);
  }
  if (sizes.size() < plan.value_sizes.size()) out["redis_large_values"] = kRedisLargeValues;
  BenchContext by_size = SweepContext(ctx, sizes, {plan.size_sweep_connections});
  BenchContext by_conns =
      SweepContext(ctx, {plan.connection_sweep_value_bytes}, OtherConnections(plan));
  // Rounds of a quick run's bytes (512 MiB) in a full run too: a 2 GiB round
  // of 4 KiB values is half a million requests, over 20 s at Redis's rate on
  // two cores, and the sweeps have 12 cells of two operations each.
  if (!ctx.options.smoke) by_size.options.quick = by_conns.options.quick = true;
  out["redis_round_bytes"] = ctx.options.smoke ? "8 MiB" : "512 MiB";
  for (BenchContext* sweep : {&by_size, &by_conns}) {
    if (sweep->value_sizes.empty() || sweep->connections.empty()) continue;
    for (json& row : RedisBenchmarkRows(*sweep, tool, server->port, server->process->pid(),
                                        "redis-benchmark", /*with_get=*/true)) {
      out["rows"].push_back(std::move(row));
    }
  }
  server->process->Stop(SIGTERM, 10000);
}

}  // namespace

GrowthPlan MakeGrowthPlan(bool smoke) {
  GrowthPlan plan;
  if (smoke) {
    plan.value_sizes = {4 << 10, 64 << 10, 1 << 20};
    plan.connections = {1, 2, 4};
    return plan;
  }
  // A quick run measures the same points in shorter cells (its context's).
  for (uint64_t s = 4 << 10; s <= (64ull << 20); s *= 4) plan.value_sizes.push_back(s);
  for (uint32_t c = 1; c <= 64; c *= 2) plan.connections.push_back(c);
  return plan;
}

nlohmann::json RunGrowth(BenchContext& ctx) {
  const GrowthPlan plan = MakeGrowthPlan(ctx.options.smoke);
  json out = {{"value_sizes", plan.value_sizes},
              {"size_sweep_connections", plan.size_sweep_connections},
              {"connections", plan.connections},
              {"connection_sweep_value_bytes", plan.connection_sweep_value_bytes},
              {"redis_max_value_bytes", plan.redis_max_value_bytes},
              {"rows", json::array()}};
  MeasureStore(ctx, plan, out);
  MeasureRedis(ctx, plan, out);
  return out;
}

}  // namespace ctxstore::bench
