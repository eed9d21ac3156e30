// Load helpers shared by the ctxstore sections of the harness.
#include "bench/store_load.h"

#include <algorithm>
#include <cstdio>

namespace ctxstore::bench {

std::string Key(const char* prefix, uint64_t size, uint64_t i) {
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%s/%llu/%08llu", prefix, static_cast<unsigned long long>(size),
                static_cast<unsigned long long>(i));
  return buf;
}

std::vector<uint8_t> MakeValue(uint64_t bytes, uint64_t seed) {
  std::vector<uint8_t> v(bytes);
  FillValue(v.data(), v.size(), seed);
  return v;
}

Result<std::vector<std::unique_ptr<Client>>> Connect(const StoreServer& server, uint32_t n,
                                                     bool over_unix) {
  if (over_unix && server.unix_path.empty()) return Status::Invalid("the server has no Unix socket");
  std::vector<std::unique_ptr<Client>> clients;
  for (uint32_t i = 0; i < n; ++i) {
    ClientOptions o;
    o.port = server.port;
    if (over_unix) o.unix_path = server.unix_path;
    o.tls_ca_file = server.tls_ca_file;
    o.token = server.token;
    o.client_name = "ctxstore-bench";
    o.max_idle_connections = 1;
    Result<std::unique_ptr<Client>> c = Client::Connect(o);
    if (!c.ok()) return c.status();
    clients.push_back(std::move(*c));
  }
  return clients;
}

nlohmann::json Row(const std::string& system, const std::string& op, uint64_t value_bytes,
                   uint32_t connections, const LoadResult& r) {
  nlohmann::json row = {
      {"system", system}, {"op", op}, {"value_bytes", value_bytes}, {"connections", connections}};
  row.update(ToJson(r));
  return row;
}

void Report(BenchContext& ctx, const LoadResult& r) {
  ctx.progress->Result(Summary(r));
}

// PUTs (overwrite) of `size`-byte values, cycling over a bounded key set.
LoadResult MeasurePut(const BenchContext& ctx, std::vector<std::unique_ptr<Client>>& clients,
                      const char* prefix, uint64_t size, uint32_t conns, bool sync,
                      uint64_t duration_ms) {
  std::vector<std::vector<uint8_t>> values;
  for (uint32_t w = 0; w < conns; ++w) values.push_back(MakeValue(size, w + 1));
  const uint64_t keys_per_worker = std::max<uint64_t>(1, ctx.data_set_bytes / size / conns);
  PutOptions opts;
  opts.overwrite = true;
  opts.sync = sync;
  LoadSpec spec{conns, duration_ms, ctx.cell_max_bytes / size, 1};
  return RunLoad(spec, [&](uint32_t w, uint64_t i) -> Result<uint64_t> {
    std::string key = Key(prefix, size, w * keys_per_worker + i % keys_per_worker);
    Status s = clients[w]->Put(key, std::span<const uint8_t>(values[w]), opts);
    if (!s.ok()) return s;
    return size;
  });
}

// Stores `count` objects of `size` bytes under prefix, spread over the clients.
Status Preload(std::vector<std::unique_ptr<Client>>& clients, const char* prefix, uint64_t size,
               uint64_t count) {
  const uint32_t n = static_cast<uint32_t>(clients.size());
  LoadSpec spec{n, 3600 * 1000, count, (count + n - 1) / n, /*rounds=*/1};
  std::vector<std::vector<uint8_t>> values;
  for (uint32_t w = 0; w < n; ++w) values.push_back(MakeValue(size, 100 + w));
  PutOptions opts;
  opts.overwrite = true;
  LoadResult r = RunLoad(spec, [&](uint32_t w, uint64_t i) -> Result<uint64_t> {
    uint64_t index = i * n + w;
    if (index >= count) return 0;
    Status s = clients[w]->Put(Key(prefix, size, index), std::span<const uint8_t>(values[w]), opts);
    if (!s.ok()) return s;
    return size;
  });
  if (r.errors > 0) return Status::IoError("preload failed: " + r.first_error);
  return Status::Ok();
}

// GETs of `count` preloaded objects, each worker walking them from its own
// starting point.
LoadResult MeasureGet(std::vector<std::unique_ptr<Client>>& clients, const char* prefix,
                      uint64_t size, uint64_t count, uint32_t conns, uint64_t duration_ms,
                      uint64_t max_ops) {
  std::vector<std::vector<uint8_t>> buffers(conns, std::vector<uint8_t>(size));
  LoadSpec spec{conns, duration_ms, max_ops, 1};
  return RunLoad(spec, [&](uint32_t w, uint64_t i) -> Result<uint64_t> {
    uint64_t index = (i * 7919 + w * (count / conns + 1)) % count;  // 7919: a prime stride
    Result<size_t> n = clients[w]->GetInto(Key(prefix, size, index), buffers[w]);
    if (!n.ok()) return n.status();
    if (*n != size) return Status::Corrupt("short value");
    return size;
  });
}

}  // namespace ctxstore::bench
