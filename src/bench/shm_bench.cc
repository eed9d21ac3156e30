// The shm section: GET and PUT of 4 MiB values through the shared-memory
// path (a client's registered memfd, `serve --unix`), at 1 and 4 clients,
// against single-thread memcpy measured in the same section: the server's
// one copy per value is the whole cost the path should add.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench/harness.h"
#include "bench/limits_parts.h"
#include "bench/loadgen.h"
#include "bench/store_cells.h"
#include "bench/store_load.h"
#include "ctxstore/shared_memory.h"

namespace ctxstore::bench {
namespace {

constexpr uint32_t kGetKeys = 16;           // the GET data set, in DRAM
constexpr uint32_t kPutKeysPerClient = 4;   // overwritten in turn

// One client and its registered memory: a source slot for PUTs, then a
// destination slot for GETs.
struct ShmClient {
  std::unique_ptr<Client> client;
  std::shared_ptr<SharedMemory> memory;
  std::span<uint8_t> src, dst;
};

Result<std::vector<ShmClient>> ConnectShm(const StoreServer& server, uint32_t n,
                                          uint64_t value_bytes) {
  auto clients = Connect(server, n, /*over_unix=*/true);
  if (!clients.ok()) return clients.status();
  std::vector<ShmClient> out;
  const std::vector<uint8_t> value = MakeValue(value_bytes, 21);
  for (auto& c : *clients) {
    auto memory = SharedMemory::Create(2 * value_bytes);
    if (!memory.ok()) return memory.status();
    CTX_RETURN_IF_ERROR(c->Register(*memory));
    ShmClient s{std::move(c), std::move(*memory), {}, {}};
    s.src = s.memory->bytes().subspan(0, value_bytes);
    s.dst = s.memory->bytes().subspan(value_bytes, value_bytes);
    std::copy(value.begin(), value.end(), s.src.begin());
    out.push_back(std::move(s));
  }
  return out;
}

std::string GetKey(uint64_t i) { return "shm-get-" + std::to_string(i % kGetKeys); }

nlohmann::json Row(const char* op, uint32_t clients, uint64_t value_bytes, const LoadResult& r,
                   double memcpy_gbps) {
  nlohmann::json row = {{"op", op}, {"clients", clients}, {"value_bytes", value_bytes}};
  row.update(ToJson(r));
  if (memcpy_gbps > 0) row["ratio_to_memcpy"] = r.gbps() / memcpy_gbps;
  return row;
}

// PUT then GET at `n` clients; appends their rows.
Status MeasureAt(BenchContext& ctx, const StoreServer& server, uint32_t n, uint64_t value_bytes,
                 double memcpy_gbps, nlohmann::json* rows) {
  auto clients = ConnectShm(server, n, value_bytes);
  if (!clients.ok()) return clients.status();
  std::vector<ShmClient>& cs = *clients;
  PutOptions overwrite;
  overwrite.overwrite = true;
  ctx.progress->Step("shared-memory PUT " + std::to_string(value_bytes >> 20) + " MiB x" +
                     std::to_string(n));
  LoadSpec spec{n, ctx.cell_duration_ms, 0, 1};
  LoadResult put = RunLoad(spec, [&](uint32_t w, uint64_t it) -> Result<uint64_t> {
    const std::string key = "shm-put-" + std::to_string(w) + "-" +
                            std::to_string(it % kPutKeysPerClient);
    CTX_RETURN_IF_ERROR(cs[w].client->Put(key, cs[w].src, overwrite));
    return value_bytes;
  });
  Report(ctx, put);
  rows->push_back(Row("put", n, value_bytes, put, memcpy_gbps));
  CTX_RETURN_IF_ERROR(cs[0].client->Flush());  // the flusher done before GETs are timed

  for (uint64_t i = 0; i < kGetKeys; ++i) {
    CTX_RETURN_IF_ERROR(cs[0].client->Put(GetKey(i), cs[0].src, overwrite));
  }
  CTX_RETURN_IF_ERROR(cs[0].client->Flush());
  ctx.progress->Step("shared-memory GET " + std::to_string(value_bytes >> 20) + " MiB x" +
                     std::to_string(n));
  LoadResult get = RunLoad(spec, [&](uint32_t w, uint64_t it) -> Result<uint64_t> {
    auto got = cs[w].client->GetInto(GetKey(w * 5 + it), cs[w].dst);
    if (!got.ok()) return got.status();
    return *got;
  });
  Report(ctx, get);
  rows->push_back(Row("get", n, value_bytes, get, memcpy_gbps));
  return Status::Ok();
}

}  // namespace

nlohmann::json RunShm(BenchContext& ctx) {
  const uint64_t value_bytes = ctx.options.smoke ? (1ull << 20) : (4ull << 20);
  nlohmann::json out = {{"value_bytes", value_bytes}, {"rows", nlohmann::json::array()}};
  ctx.progress->Step("memcpy, one thread (the reference)");
  const double memcpy_gbps = MemcpyGbps(ctx, 1);
  out["memcpy_gbps"] = memcpy_gbps;
  ctx.progress->Result(GbpsLabel(memcpy_gbps));
  const std::string unix_path = SocketPathFor(ctx, "shm");
  // DRAM for the GET set and four clients' PUT keys, and for the versions
  // of those keys waiting for the flusher (at a quarter of this, PUTs at 4
  // clients waited for space: docs/benchmarks.md, "Shared memory").
  const uint64_t memory_bytes =
      4 * ((kGetKeys + 4 * kPutKeysPerClient) * value_bytes * 2 + (64 << 20));
  Result<StoreServer> server = StartWarmServer(
      ctx, "shm", {"--memory", std::to_string(memory_bytes), "--disk",
                   std::to_string(4 * memory_bytes), "--unix", unix_path});
  if (!server.ok()) return {{"error", server.status().ToString()}};
  server->unix_path = unix_path;
  for (uint32_t n : {1u, 4u}) {
    Status st = MeasureAt(ctx, *server, n, value_bytes, memcpy_gbps, &out["rows"]);
    if (!st.ok()) return {{"error", st.ToString()}};
  }
  return out;
}

}  // namespace ctxstore::bench
