// The ctxstore sections of the harness: the PUT/GET grid over TCP, the
// flash tier (GETs of objects only on flash, sustained sync PUTs) and small
// operations (EXISTS, MATCH_PREFIX of 64 keys). Every measurement goes
// through the real server binary and the C++ client, one client (so one
// connection) per worker.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench/harness.h"
#include "bench/loadgen.h"
#include "bench/store_load.h"
#include "ctxstore/client.h"
#include "engine/encryption.h"

namespace ctxstore::bench {
namespace {

uint32_t MaxOf(const std::vector<uint32_t>& v) {
  uint32_t m = 1;
  for (uint32_t x : v) m = std::max(m, x);
  return m;
}

}  // namespace

nlohmann::json RunDataPath(BenchContext& ctx) {
  nlohmann::json out = {{"rows", nlohmann::json::array()}};
  // DRAM for the GET data set plus one PUT cell's burst: every PUT is also
  // written to flash behind the reply, and a burst larger than DRAM would
  // measure the disk (the flash section does that on purpose).
  uint64_t memory_bytes = ctx.data_set_bytes * 2 + ctx.cell_max_bytes + (256ull << 20);
  // Flash for the data sets and one cell's overwrites; reclaim drops the
  // oldest segments beyond that, which the data path does not read.
  std::vector<std::string> args = {"--memory", std::to_string(memory_bytes), "--disk",
                                   std::to_string(memory_bytes + (1ull << 30))};
  Result<StoreServer> server = StartStoreServer(ctx, "datapath", args);
  if (server.ok()) {
    Status warm = WaitUntilWarm(*server);
    if (!warm.ok()) server = warm;
  }
  if (!server.ok()) {
    out["error"] = server.status().ToString();
    return out;
  }
  out["server_args"] = args;
  auto clients = Connect(*server, MaxOf(ctx.connections));
  if (!clients.ok()) {
    out["error"] = clients.status().ToString();
    return out;
  }
  for (uint64_t size : ctx.value_sizes) {
    for (uint32_t conns : ctx.connections) {
      ctx.progress->Step("ctxstore PUT " + SizeLabel(size) + " x" + std::to_string(conns));
      // Each cell starts with nothing left to write to flash from the last one.
      if (Status s = (*clients)[0]->Flush(); !s.ok()) ctx.progress->Warn(s.ToString());
      LoadResult r = MeasurePut(ctx, *clients, "put", size, conns, false, ctx.cell_duration_ms);
      out["rows"].push_back(Row("ctxstore", "put", size, conns, r));
      Report(ctx, r);
    }
    // One data set per size, read by every concurrency level.
    uint64_t count = std::max<uint64_t>(MaxOf(ctx.connections), ctx.data_set_bytes / size);
    Status s = Preload(*clients, "get", size, count);
    // GETs measured without the preload's flash writes going on behind them.
    if (s.ok()) s = (*clients)[0]->Flush();
    if (!s.ok()) {
      ctx.progress->Warn(s.ToString());
      continue;
    }
    for (uint32_t conns : ctx.connections) {
      ctx.progress->Step("ctxstore GET " + SizeLabel(size) + " x" + std::to_string(conns));
      LoadResult r = MeasureGet(*clients, "get", size, count, conns, ctx.cell_duration_ms,
                                ctx.cell_max_bytes / size);
      out["rows"].push_back(Row("ctxstore", "get", size, conns, r));
      Report(ctx, r);
    }
  }
  return out;
}

// The server of a flash pass, with args recorded. sealed: it loads a fresh
// key, kept beside the data (for a benchmark only: keys belong on another
// disk).
Result<StoreServer> StartFlashServer(BenchContext& ctx, const std::string& name, bool sealed,
                                     std::vector<std::string>& args) {
  if (sealed) {
    const std::string key_file = ctx.ScratchDir(name + "-key") + "/bench.key";
    CTX_RETURN_IF_ERROR(engine::CreateKeyFile(key_file));
    args.insert(args.end(), {"--encryption-key", "bench=" + key_file});
  }
  Result<StoreServer> server = StartStoreServer(ctx, name, args);
  if (!server.ok()) return server.status();
  CTX_RETURN_IF_ERROR(WaitUntilWarm(*server));
  return server;
}

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

// One flash pass: sustained sync PUTs, then GETs of objects only on flash.
// sealed: the namespace is encrypted (a fresh key), so every record is
// sealed on its way to flash and opened on its way back.
nlohmann::json FlashPass(BenchContext& ctx, bool sealed) {
  // A DRAM tier far smaller than the data set, so that GETs come from flash.
  constexpr uint64_t kSize = 4ull << 20;
  const uint64_t dram_bytes = std::max<uint64_t>(64ull << 20, ctx.data_set_bytes / 16);
  const uint64_t flash_set_bytes = ctx.data_set_bytes * 2;
  // As many requests in flight as fio's baseline (smoke runs stay small).
  const uint32_t conns = ctx.options.smoke ? 2 : kFioIoDepth;
  const std::string name = sealed ? "flash-sealed" : "flash";
  nlohmann::json out;
  std::vector<std::string> args = {"--memory", std::to_string(dram_bytes), "--disk",
                                   std::to_string(flash_set_bytes + ctx.cell_max_bytes)};
  Result<StoreServer> server = StartFlashServer(ctx, name, sealed, args);
  if (!server.ok()) return {{"error", server.status().ToString()}};
  out["server_args"] = args;
  auto clients = Connect(*server, conns);
  if (!clients.ok()) return {{"error", clients.status().ToString()}};
  if (sealed) {
    NamespaceSpec spec;
    spec.encryption_key = "bench";
    Status st = (*clients)[0]->SetNamespace("default", spec);
    if (!st.ok()) return {{"error", st.ToString()}};
  }
  const std::string label = sealed ? " (sealed)" : "";

  ctx.progress->Step("sustained sync PUT 4 MiB x" + std::to_string(conns) + label);
  uint64_t sync_duration_ms = ctx.cell_duration_ms * 2;
  LoadResult put = MeasurePut(ctx, *clients, "sync", kSize, conns, true, sync_duration_ms);
  out["sync_put"] = Row("ctxstore", "sync_put", kSize, conns, put);
  Report(ctx, put);

  const uint64_t count = flash_set_bytes / kSize;
  ctx.progress->Step("load " + std::to_string(count) + " x 4 MiB for flash GETs" + label);
  Status s = Preload(*clients, "flash", kSize, count);
  if (s.ok()) s = (*clients)[0]->Flush();
  if (!s.ok()) {
    out["error"] = s.ToString();
    return out;
  }
  auto stats_before = (*clients)[0]->StatsJson();
  ctx.progress->Step("GET 4 MiB from flash x" + std::to_string(conns) + label);
  LoadResult get = MeasureGet(*clients, "flash", kSize, count, conns, ctx.cell_duration_ms * 2,
                              count);  // each object read about once: no DRAM re-hits
  out["flash_get"] = Row("ctxstore", "flash_get", kSize, conns, get);
  AddFlashGetCounters(stats_before, (*clients)[0]->StatsJson(), out);
  Report(ctx, get);
  out["dram_bytes"] = dram_bytes;
  out["data_set_bytes"] = flash_set_bytes;
  return out;
}

nlohmann::json RunFlash(BenchContext& ctx) {
  nlohmann::json out = FlashPass(ctx, /*sealed=*/false);
  if (out.contains("error")) return out;
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

nlohmann::json RunSmallOps(BenchContext& ctx) {
  constexpr uint32_t kKeys = 64;
  constexpr uint64_t kValueBytes = 4096;
  nlohmann::json out = {{"keys", kKeys}, {"rows", nlohmann::json::array()}};
  Result<StoreServer> server = StartStoreServer(ctx, "small", {"--memory", "256MiB"});
  if (!server.ok()) return {{"error", server.status().ToString()}};
  if (Status warm = WaitUntilWarm(*server); !warm.ok()) return {{"error", warm.ToString()}};
  auto clients = Connect(*server, 1);
  if (!clients.ok()) return {{"error", clients.status().ToString()}};
  Client& c = *(*clients)[0];
  std::vector<std::string> keys;
  std::vector<uint8_t> value = MakeValue(kValueBytes, 7);
  for (uint32_t i = 0; i < kKeys; ++i) {
    keys.push_back(Key("chain", kValueBytes, i));
    PutOptions o;
    if (i > 0) o.parent = keys[i - 1];
    if (Status s = c.Put(keys.back(), std::span<const uint8_t>(value), o); !s.ok()) {
      return {{"error", s.ToString()}};
    }
  }
  LoadSpec spec{1, ctx.cell_duration_ms, 0, 1};
  struct Op {
    const char* name;
    uint32_t keys;
    LoadOp fn;
  };
  std::vector<Op> ops = {
      {"exists", 1,
       [&](uint32_t, uint64_t) -> Result<uint64_t> {
         Result<uint64_t> r = c.Exists(keys[0]);
         return r.ok() ? Result<uint64_t>(0) : Result<uint64_t>(r.status());
       }},
      {"batch_exists", kKeys,
       [&](uint32_t, uint64_t) -> Result<uint64_t> {
         auto r = c.BatchExists(keys);
         return r.ok() ? Result<uint64_t>(0) : Result<uint64_t>(r.status());
       }},
      {"match_prefix", kKeys,
       [&](uint32_t, uint64_t) -> Result<uint64_t> {
         Result<uint32_t> r = c.MatchPrefix(keys);
         if (!r.ok()) return r.status();
         if (*r != kKeys) return Status::Internal("matched " + std::to_string(*r));
         return 0;
       }},
      {"match_prefix_lease", kKeys,
       [&](uint32_t, uint64_t) -> Result<uint64_t> {
         Result<MatchResult> r = c.MatchPrefixLease(keys, 10000);
         if (!r.ok()) return r.status();
         if (Status s = c.ReleaseLease(r->lease_id); !s.ok()) return s;
         return 0;
       }},
  };
  for (Op& op : ops) {
    ctx.progress->Step(std::string(op.name) + " of " + std::to_string(op.keys) + " keys");
    LoadResult r = RunLoad(spec, op.fn);
    nlohmann::json row = {{"op", op.name}, {"keys", op.keys}};
    row.update(ToJson(r));
    char line[160];
    std::snprintf(line, sizeof(line), "%s: p50 %.1f us, p99 %.1f us (%llu ops)", op.name, r.p50_us,
                  r.p99_us, static_cast<unsigned long long>(r.ops));
    ctx.progress->Result(line);
    out["rows"].push_back(row);
  }
  return out;
}

}  // namespace ctxstore::bench
