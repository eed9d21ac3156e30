// Load helpers shared by the ctxstore sections of the harness (store_bench.cc,
// tls_bench.cc): clients of a harness server, and closed-loop PUT and GET
// measurements over them, one client (one connection) per worker.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/harness.h"
#include "bench/loadgen.h"
#include "ctxstore/client.h"

namespace ctxstore::bench {

// "prefix/size/index", the keys every section uses.
std::string Key(const char* prefix, uint64_t size, uint64_t i);
std::vector<uint8_t> MakeValue(uint64_t bytes, uint64_t seed);

// n clients with the server's admin token (over TLS when the server has a
// tls_ca_file).
// over_unix: through the server's Unix socket (server.unix_path) instead of TCP.
Result<std::vector<std::unique_ptr<Client>>> Connect(const StoreServer& server, uint32_t n,
                                                     bool over_unix = false);

nlohmann::json Row(const std::string& system, const std::string& op, uint64_t value_bytes,
                   uint32_t connections, const LoadResult& r);
void Report(BenchContext& ctx, const LoadResult& r);

// PUTs (overwrite) of `size`-byte values, cycling over a bounded key set.
LoadResult MeasurePut(const BenchContext& ctx, std::vector<std::unique_ptr<Client>>& clients,
                      const char* prefix, uint64_t size, uint32_t conns, bool sync,
                      uint64_t duration_ms);
// Stores `count` objects of `size` bytes under prefix, spread over the clients.
Status Preload(std::vector<std::unique_ptr<Client>>& clients, const char* prefix, uint64_t size,
               uint64_t count);
// GETs of `count` preloaded objects, each worker walking them from its own
// starting point.
LoadResult MeasureGet(std::vector<std::unique_ptr<Client>>& clients, const char* prefix,
                      uint64_t size, uint64_t count, uint32_t conns, uint64_t duration_ms,
                      uint64_t max_ops);

}  // namespace ctxstore::bench
