// The cells of the ctxstore sections (store_cells.h). What each cell
// measures is described in docs/benchmarks.md.
#include "bench/store_cells.h"

#include <unistd.h>

#include <algorithm>

#include "bench/store_load.h"
#include "engine/security/encryption.h"

namespace ctxstore::bench {

Result<StoreServer> StartWarmServer(const BenchContext& ctx, const std::string& name,
                                    const std::vector<std::string>& args) {
  Result<StoreServer> server = StartStoreServer(ctx, name, args);
  if (!server.ok()) return server.status();
  CTX_RETURN_IF_ERROR(WaitUntilWarm(*server));
  return server;
}

std::vector<std::string> DataPathServerArgs(const BenchContext& ctx) {
  // DRAM for the GET data set plus one PUT cell's burst: every PUT is also
  // written to flash behind the reply, and a burst larger than DRAM would
  // measure the disk (the flash section does that on purpose).
  uint64_t memory_bytes = ctx.data_set_bytes * 2 + ctx.cell_max_bytes + (256ull << 20);
  // Flash for the data sets and one cell's overwrites; reclaim drops the
  // oldest segments beyond that, which the data path does not read.
  return {"--memory", std::to_string(memory_bytes), "--disk",
          std::to_string(memory_bytes + (1ull << 30))};
}

uint32_t DataPathClients(const BenchContext& ctx) {
  uint32_t m = 1;
  for (uint32_t x : ctx.connections) m = std::max(m, x);
  return m;
}

LoadResult DataPathPut(BenchContext& ctx, Clients& clients, uint64_t size, uint32_t conns) {
  // Each cell starts with nothing left to write to flash from the last one.
  if (Status s = clients[0]->Flush(); !s.ok()) ctx.progress->Warn(s.ToString());
  return MeasurePut(ctx, clients, "put", size, conns, false, ctx.cell_duration_ms);
}

Result<uint64_t> DataPathLoadGetSet(const BenchContext& ctx, Clients& clients, uint64_t size) {
  // One data set per size, read by every concurrency level.
  uint64_t count = std::max<uint64_t>(DataPathClients(ctx), ctx.data_set_bytes / size);
  CTX_RETURN_IF_ERROR(Preload(clients, "get", size, count));
  // GETs measured without the preload's flash writes going on behind them.
  CTX_RETURN_IF_ERROR(clients[0]->Flush());
  return count;
}

LoadResult DataPathGet(const BenchContext& ctx, Clients& clients, uint64_t size, uint64_t count,
                       uint32_t conns) {
  return MeasureGet(clients, "get", size, count, conns, ctx.cell_duration_ms,
                    ctx.cell_max_bytes / size);
}

uint32_t FlashConnections(const BenchContext& ctx) {
  // As many requests in flight as fio's baseline (smoke runs stay small).
  return ctx.options.smoke ? 2 : kFioIoDepth;
}

Result<FlashServer> OpenFlashServer(BenchContext& ctx, bool sealed) {
  FlashServer flash;
  // A DRAM tier far smaller than the data set, so that GETs come from flash.
  flash.dram_bytes = std::max<uint64_t>(64ull << 20, ctx.data_set_bytes / 16);
  flash.data_set_bytes = ctx.data_set_bytes * 2;
  const std::string name = sealed ? "flash-sealed" : "flash";
  flash.args = {"--memory", std::to_string(flash.dram_bytes), "--disk",
                std::to_string(flash.data_set_bytes + ctx.cell_max_bytes)};
  if (sealed) {
    // A fresh key, kept beside the data (for a benchmark only: keys belong
    // on another disk).
    const std::string key_file = ctx.ScratchDir(name + "-key") + "/bench.key";
    CTX_RETURN_IF_ERROR(engine::CreateKeyFile(key_file));
    flash.args.insert(flash.args.end(), {"--encryption-key", "bench=" + key_file});
  }
  Result<StoreServer> server = StartWarmServer(ctx, name, flash.args);
  if (!server.ok()) return server.status();
  flash.server = std::move(*server);
  auto clients = Connect(flash.server, FlashConnections(ctx));
  if (!clients.ok()) return clients.status();
  flash.clients = std::move(*clients);
  if (sealed) {
    NamespaceSpec spec;
    spec.encryption_key = "bench";
    CTX_RETURN_IF_ERROR(flash.clients[0]->SetNamespace("default", spec));
  }
  return flash;
}

LoadResult FlashSyncPut(const BenchContext& ctx, FlashServer& flash) {
  return MeasurePut(ctx, flash.clients, "sync", kFlashValueBytes, FlashConnections(ctx), true,
                    ctx.cell_duration_ms * 2);
}

Result<uint64_t> FlashLoadGetSet(FlashServer& flash) {
  const uint64_t count = flash.data_set_bytes / kFlashValueBytes;
  CTX_RETURN_IF_ERROR(Preload(flash.clients, "flash", kFlashValueBytes, count));
  CTX_RETURN_IF_ERROR(flash.clients[0]->Flush());
  return count;
}

LoadResult FlashGet(const BenchContext& ctx, FlashServer& flash, uint64_t count) {
  return MeasureGet(flash.clients, "flash", kFlashValueBytes, count, FlashConnections(ctx),
                    ctx.cell_duration_ms * 2,
                    count);  // each object read about once: no DRAM re-hits
}

Result<SteadyPut> FlashSteadyPut(BenchContext& ctx) {
  SteadyPut steady;
  steady.dram_bytes = ctx.options.smoke ? 32ull << 20 : 256ull << 20;
  // Overwrites of a key set four times DRAM, so that most PUTs evict.
  const uint64_t key_set_bytes = 4 * steady.dram_bytes;
  steady.args = {"--memory", std::to_string(steady.dram_bytes), "--disk",
                 std::to_string(2 * key_set_bytes + ctx.cell_max_bytes)};
  Result<StoreServer> server = StartWarmServer(ctx, "steady", steady.args);
  if (!server.ok()) return server.status();
  const uint32_t conns = kSteadyConnections;
  auto clients = Connect(*server, conns);
  if (!clients.ok()) return clients.status();
  std::vector<std::vector<uint8_t>> values;
  for (uint32_t w = 0; w < conns; ++w) values.push_back(MakeValue(kFlashValueBytes, w + 1));
  const uint64_t keys_per_worker = key_set_bytes / kFlashValueBytes / conns;
  const uint64_t ops_per_worker = (steady.dram_bytes / kFlashValueBytes + conns - 1) / conns;
  uint64_t base = 0;  // the measurement goes on with the keys after the warm-up's
  auto put = [&](uint32_t w, uint64_t i) -> Result<uint64_t> {
    const uint64_t index = w * keys_per_worker + (base + i) % keys_per_worker;
    PutOptions opts;
    opts.overwrite = true;
    Status s = (*clients)[w]->Put(Key("steady", kFlashValueBytes, index),
                                  std::span<const uint8_t>(values[w]), opts);
    if (!s.ok()) return s;
    return kFlashValueBytes;
  };
  LoadResult warmup =
      RunLoad({conns, 3600 * 1000, ops_per_worker * conns, ops_per_worker, 1}, put);
  if (warmup.errors > 0) return Status::IoError("steady warm-up: " + warmup.first_error);
  base = ops_per_worker;
  // Three rounds, each at least a third of --memory, so that the measured
  // part alone writes at least --memory.
  constexpr uint32_t kRounds = 3;
  steady.result = RunLoad(
      {conns, ctx.cell_duration_ms * 2, 0, (ops_per_worker + kRounds - 1) / kRounds, kRounds}, put);
  steady.warmup_bytes = warmup.bytes;
  steady.written_bytes = warmup.bytes + steady.result.bytes;
  return steady;
}

const std::vector<SmallOpInfo>& SmallOpList() {
  static const std::vector<SmallOpInfo> kOps = {{"exists", 1},
                                                {"batch_exists", kSmallOpKeys},
                                                {"match_prefix", kSmallOpKeys},
                                                {"match_prefix_lease", kSmallOpKeys}};
  return kOps;
}

std::vector<std::string> SmallOpsServerArgs() {
  return {"--memory", "256MiB"};
}

std::string SocketPathFor(const BenchContext& ctx, const std::string& name) {
  constexpr size_t kMaxSocketPathBytes = 100;  // sun_path holds 107
  std::string path = ctx.options.work_dir + "/" + name + ".sock";
  if (path.size() > kMaxSocketPathBytes) {
    path = "/tmp/ctxstore-bench-" + std::to_string(::getpid()) + "-" + name + ".sock";
  }
  return path;
}

Result<std::vector<std::string>> LoadSmallOpChain(Client& c) {
  constexpr uint64_t kValueBytes = 4096;
  std::vector<std::string> keys;
  std::vector<uint8_t> value = MakeValue(kValueBytes, 7);
  for (uint32_t i = 0; i < kSmallOpKeys; ++i) {
    keys.push_back(Key("chain", kValueBytes, i));
    PutOptions o;
    if (i > 0) o.parent = keys[i - 1];
    CTX_RETURN_IF_ERROR(c.Put(keys.back(), std::span<const uint8_t>(value), o));
  }
  return keys;
}

namespace {

// The named small op's request (0 bytes moved), chosen once, outside the
// measured loop.
LoadOp SmallOpFn(const std::string& name, Client& c, const std::vector<std::string>& keys) {
  if (name == "exists") {
    return [&c, &keys](uint32_t, uint64_t) -> Result<uint64_t> {
      Result<uint64_t> r = c.Exists(keys[0]);
      return r.ok() ? Result<uint64_t>(0) : Result<uint64_t>(r.status());
    };
  }
  if (name == "batch_exists") {
    return [&c, &keys](uint32_t, uint64_t) -> Result<uint64_t> {
      auto r = c.BatchExists(keys);
      return r.ok() ? Result<uint64_t>(0) : Result<uint64_t>(r.status());
    };
  }
  if (name == "match_prefix") {
    return [&c, &keys](uint32_t, uint64_t) -> Result<uint64_t> {
      Result<uint32_t> r = c.MatchPrefix(keys);
      if (!r.ok()) return r.status();
      if (*r != keys.size()) return Status::Internal("matched " + std::to_string(*r));
      return 0;
    };
  }
  return [&c, &keys](uint32_t, uint64_t) -> Result<uint64_t> {  // match_prefix_lease
    Result<MatchResult> r = c.MatchPrefixLease(keys, 10000);
    if (!r.ok()) return r.status();
    if (Status s = c.ReleaseLease(r->lease_id); !s.ok()) return s;
    return 0;
  };
}

}  // namespace

LoadResult MeasureSmallOp(const BenchContext& ctx, const SmallOpInfo& op, Client& c,
                          const std::vector<std::string>& keys) {
  LoadSpec spec{1, ctx.cell_duration_ms, 0, 1};
  return RunLoad(spec, SmallOpFn(op.name, c, keys));
}

}  // namespace ctxstore::bench
