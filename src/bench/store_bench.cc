// The ctxstore sections of the harness: the PUT/GET grid over TCP, the
// flash tier (GETs of objects only on flash, sustained sync PUTs) and small
// operations (EXISTS, MATCH_PREFIX of 64 keys). Every measurement goes
// through the real server binary and the C++ client, one client (so one
// connection) per worker. Each section measures its cells (store_cells.h)
// on one server.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench/cpu_cost.h"
#include "bench/harness.h"
#include "bench/loadgen.h"
#include "bench/round_trip.h"
#include "bench/store_cells.h"
#include "bench/store_load.h"
#include "ctxstore/client.h"

namespace ctxstore::bench {

nlohmann::json RunDataPath(BenchContext& ctx) {
  nlohmann::json out = {{"rows", nlohmann::json::array()}};
  std::vector<std::string> args = DataPathServerArgs(ctx);
  Result<StoreServer> server = StartWarmServer(ctx, "datapath", args);
  if (!server.ok()) {
    out["error"] = server.status().ToString();
    return out;
  }
  out["server_args"] = args;
  auto clients = Connect(*server, DataPathClients(ctx));
  if (!clients.ok()) {
    out["error"] = clients.status().ToString();
    return out;
  }
  // Each cell with the CPU its server and this process spent per GB
  // (cpu_cost.h); a PUT's includes writing it to flash behind the reply.
  const pid_t server_pid = server->process->pid();
  auto cost_row = [&](const char* op, uint64_t size, uint32_t conns, const LoadResult& r,
                      const CpuMeter& meter) {
    nlohmann::json row = Row("ctxstore", op, size, conns, r);
    AddCpuCost(row, meter.Stop(), static_cast<double>(r.bytes), /*client_is_child=*/false);
    out["rows"].push_back(std::move(row));
    Report(ctx, r);
  };
  for (uint64_t size : ctx.value_sizes) {
    for (uint32_t conns : ctx.connections) {
      ctx.progress->Step("ctxstore PUT " + SizeLabel(size) + " x" + std::to_string(conns));
      // The last cell's writes to flash, before the meter starts.
      if (Status s = (*clients)[0]->Flush(); !s.ok()) ctx.progress->Warn(s.ToString());
      const CpuMeter meter(server_pid);
      cost_row("put", size, conns, DataPathPut(ctx, *clients, size, conns), meter);
    }
    Result<uint64_t> count = DataPathLoadGetSet(ctx, *clients, size);
    if (!count.ok()) {
      ctx.progress->Warn(count.status().ToString());
      continue;
    }
    for (uint32_t conns : ctx.connections) {
      ctx.progress->Step("ctxstore GET " + SizeLabel(size) + " x" + std::to_string(conns));
      const CpuMeter meter(server_pid);
      cost_row("get", size, conns, DataPathGet(ctx, *clients, size, *count, conns), meter);
    }
  }
  return out;
}

namespace {

// Where the flash GETs were served from (the STATS counters' growth over
// the pass) and, as proof that a pass measured what it says, how many
// records were sealed: every one, or none.
void AddFlashGetCounters(const Result<std::string>& stats_before,
                         const Result<std::string>& stats_after, nlohmann::json& out) {
  if (!stats_before.ok() || !stats_after.ok()) return;
  auto b = nlohmann::json::parse(*stats_before, nullptr, false);
  auto a = nlohmann::json::parse(*stats_after, nullptr, false);
  auto delta = [&](const char* field) -> int64_t {
    auto find = [&](const nlohmann::json& j) -> int64_t {
      if (j.contains(field)) return j[field].get<int64_t>();
      if (j.contains("engine") && j["engine"].contains(field))
        return j["engine"][field].get<int64_t>();
      return 0;
    };
    return find(a) - find(b);
  };
  out["flash_get"]["hits_flash"] = delta("hits_flash");
  out["flash_get"]["hits_dram"] = delta("hits_dram");
  out["sealed_records"] = a.value("sealed_records", uint64_t{0});
}

// One flash pass on one server: sustained sync PUTs, then GETs of objects
// only on flash. sealed: the namespace is encrypted (a fresh key), so every
// record is sealed on its way to flash and opened on its way back.
nlohmann::json FlashPass(BenchContext& ctx, bool sealed) {
  Result<FlashServer> flash = OpenFlashServer(ctx, sealed);
  if (!flash.ok()) return {{"error", flash.status().ToString()}};
  const uint32_t conns = FlashConnections(ctx);
  const std::string label = " x" + std::to_string(conns) + (sealed ? " (sealed)" : "");
  nlohmann::json out;
  out["server_args"] = flash->args;

  ctx.progress->Step("sustained sync PUT 4 MiB" + label);
  LoadResult put = FlashSyncPut(ctx, *flash);
  out["sync_put"] = Row("ctxstore", "sync_put", kFlashValueBytes, conns, put);
  Report(ctx, put);

  ctx.progress->Step("load " + std::to_string(flash->data_set_bytes / kFlashValueBytes) +
                     " x 4 MiB for flash GETs" + (sealed ? " (sealed)" : ""));
  Result<uint64_t> count = FlashLoadGetSet(*flash);
  if (!count.ok()) {
    out["error"] = count.status().ToString();
    return out;
  }
  Client& first = *flash->clients[0];
  auto stats_before = first.StatsJson();
  ctx.progress->Step("GET 4 MiB from flash" + label);
  LoadResult get = FlashGet(ctx, *flash, *count);
  out["flash_get"] = Row("ctxstore", "flash_get", kFlashValueBytes, conns, get);
  AddFlashGetCounters(stats_before, first.StatsJson(), out);
  Report(ctx, get);
  out["dram_bytes"] = flash->dram_bytes;
  out["data_set_bytes"] = flash->data_set_bytes;
  return out;
}

// PUT 4 MiB x4 once DRAM is full of data bound for flash (store_cells.h).
nlohmann::json SteadyPass(BenchContext& ctx) {
  ctx.progress->Step("PUT 4 MiB x" + std::to_string(kSteadyConnections) +
                     ", data larger than DRAM (steady state)");
  Result<SteadyPut> steady = FlashSteadyPut(ctx);
  if (!steady.ok()) {
    ctx.progress->Warn(steady.status().ToString());
    return {{"error", steady.status().ToString()}};
  }
  nlohmann::json row =
      Row("ctxstore", "steady_put", kFlashValueBytes, kSteadyConnections, steady->result);
  row["server_args"] = steady->args;
  row["dram_bytes"] = steady->dram_bytes;
  row["warmup_bytes"] = steady->warmup_bytes;
  row["written_bytes"] = steady->written_bytes;
  Report(ctx, steady->result);
  return row;
}

// The machine's floor for the small ops over transport (bench/round_trip.h).
nlohmann::json BareRoundTripRow(BenchContext& ctx, const std::string& transport) {
  ctx.progress->Step("bare socket round trip over " + transport);
  LoadResult r = MeasureBareRoundTrip(ctx, /*over_unix=*/transport == "unix");
  nlohmann::json row = {{"op", "bare_round_trip"}, {"keys", 0}, {"transport", transport}};
  row.update(ToJson(r));
  char line[160];
  std::snprintf(line, sizeof(line), "bare round trip over %s: p50 %.1f us, p99 %.1f us",
                transport.c_str(), r.p50_us, r.p99_us);
  ctx.progress->Result(line);
  return row;
}

}  // namespace

nlohmann::json RunFlash(BenchContext& ctx) {
  nlohmann::json out = FlashPass(ctx, /*sealed=*/false);
  if (out.contains("error")) return out;
  out["steady_put"] = SteadyPass(ctx);
  // The same passes with encryption at rest, and their ratio to the above.
  nlohmann::json sealed = FlashPass(ctx, /*sealed=*/true);
  for (const char* k : {"sync_put", "flash_get"}) {
    if (!sealed.contains(k) || !out.contains(k)) continue;
    const double clear = out[k].value("gbps", 0.0);
    if (clear > 0) sealed[k]["ratio_to_clear"] = sealed[k].value("gbps", 0.0) / clear;
  }
  out["sealed"] = std::move(sealed);
  return out;
}

// Every small op over TCP loopback, then over the same server's Unix socket.
nlohmann::json RunSmallOps(BenchContext& ctx) {
  nlohmann::json out = {{"keys", kSmallOpKeys}, {"rows", nlohmann::json::array()}};
  const std::string unix_path = SocketPathFor(ctx, "small");
  std::vector<std::string> args = SmallOpsServerArgs();
  args.insert(args.end(), {"--unix", unix_path});
  Result<StoreServer> server = StartWarmServer(ctx, "small", args);
  if (!server.ok()) return {{"error", server.status().ToString()}};
  server->unix_path = unix_path;
  std::vector<std::string> keys;  // loaded through the first connection
  for (const char* transport : {"tcp", "unix"}) {
    auto clients = Connect(*server, 1, /*over_unix=*/std::string(transport) == "unix");
    if (!clients.ok()) return {{"error", clients.status().ToString()}};
    Client& c = *(*clients)[0];
    if (keys.empty()) {
      Result<std::vector<std::string>> loaded = LoadSmallOpChain(c);
      if (!loaded.ok()) return {{"error", loaded.status().ToString()}};
      keys = std::move(*loaded);
    }
    out["rows"].push_back(BareRoundTripRow(ctx, transport));
    for (const SmallOpInfo& op : SmallOpList()) {
      ctx.progress->Step(std::string(op.name) + " of " + std::to_string(op.keys) + " keys over " +
                         transport);
      LoadResult r = MeasureSmallOp(ctx, op, c, keys);
      nlohmann::json row = {{"op", op.name}, {"keys", op.keys}, {"transport", transport}};
      row.update(ToJson(r));
      char line[160];
      std::snprintf(line, sizeof(line), "%s over %s: p50 %.1f us, p99 %.1f us (%llu ops)",
                    op.name, transport, r.p50_us, r.p99_us,
                    static_cast<unsigned long long>(r.ops));
      ctx.progress->Result(line);
      out["rows"].push_back(row);
    }
  }
  return out;
}

}  // namespace ctxstore::bench
