// The measurements ("cells") of the ctxstore sections, each a function of a
// server and its clients. `run` (store_bench.cc) measures every cell of a
// section on one server; `compare` (compare_cells.cc) measures each cell on a
// fresh server per binary and round. Both call these functions, so that a
// compare measures exactly the loads, sizes and connection counts that `run`
// reports.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/harness.h"
#include "bench/loadgen.h"
#include "ctxstore/client.h"

namespace ctxstore::bench {

using Clients = std::vector<std::unique_ptr<Client>>;

// StartStoreServer, then WaitUntilWarm.
Result<StoreServer> StartWarmServer(const BenchContext& ctx, const std::string& name,
                                    const std::vector<std::string>& args);

// --- datapath: PUT and GET of ctx.value_sizes at ctx.connections ---

// --memory and --disk of the datapath server.
std::vector<std::string> DataPathServerArgs(const BenchContext& ctx);
// How many clients the datapath server gets: the largest connection count.
uint32_t DataPathClients(const BenchContext& ctx);
// Flushes what earlier cells left, then PUTs (overwrites) of `size` bytes.
LoadResult DataPathPut(BenchContext& ctx, Clients& clients, uint64_t size, uint32_t conns);
// Loads the GET data set of `size` and flushes it; returns its object count.
Result<uint64_t> DataPathLoadGetSet(const BenchContext& ctx, Clients& clients, uint64_t size);
// GETs of the set DataPathLoadGetSet loaded.
LoadResult DataPathGet(const BenchContext& ctx, Clients& clients, uint64_t size, uint64_t count,
                       uint32_t conns);

// --- flash: sync PUTs and GETs of objects only on flash, 4 MiB each ---

inline constexpr uint64_t kFlashValueBytes = 4ull << 20;

// A flash pass's server (a DRAM tier far smaller than the data set) with its
// clients; sealed: its default namespace encrypts with a fresh key.
struct FlashServer {
  StoreServer server;
  Clients clients;
  std::vector<std::string> args;  // the server's options, for the report
  uint64_t dram_bytes = 0;
  uint64_t data_set_bytes = 0;  // of the GETs
};
Result<FlashServer> OpenFlashServer(BenchContext& ctx, bool sealed);
// As many connections as fio's queue depth (2 in a smoke run).
uint32_t FlashConnections(const BenchContext& ctx);
// Sustained sync PUTs, each acknowledged after fdatasync.
LoadResult FlashSyncPut(const BenchContext& ctx, FlashServer& flash);
// Loads the GET data set and flushes it; returns its object count.
Result<uint64_t> FlashLoadGetSet(FlashServer& flash);
// GETs of that set, each object read about once (no DRAM re-hits).
LoadResult FlashGet(const BenchContext& ctx, FlashServer& flash, uint64_t count);

// --- flash: PUT 4 MiB x4 with data larger than DRAM (steady state) ---

inline constexpr uint32_t kSteadyConnections = 4;

// Non-sync PUTs on a server whose DRAM tier (--memory, 256 MiB; 32 MiB in a
// smoke run) is far smaller than the data written: the first --memory worth
// is written unmeasured, so that DRAM is full of data that must reach flash
// before it can be evicted, then at least as much again is measured. What a
// PUT gets once the store runs at the durable write rate.
struct SteadyPut {
  LoadResult result;
  std::vector<std::string> args;  // the server's options
  uint64_t dram_bytes = 0;
  uint64_t warmup_bytes = 0;   // written before the measurement
  uint64_t written_bytes = 0;  // in all, warm-up included
};
Result<SteadyPut> FlashSteadyPut(BenchContext& ctx);

// --- small: one-connection operations over a chain of 64 keys ---

inline constexpr uint32_t kSmallOpKeys = 64;

struct SmallOpInfo {
  const char* name;  // exists, batch_exists, match_prefix, match_prefix_lease
  uint32_t keys;     // keys per request
};
const std::vector<SmallOpInfo>& SmallOpList();
std::vector<std::string> SmallOpsServerArgs();
// Where a section's server (`name`) puts its Unix socket: in the work
// folder, or under /tmp when that path would be too long for a socket.
std::string SocketPathFor(const BenchContext& ctx, const std::string& name);
// Stores the chain (each key with the previous one as its parent); returns its keys.
Result<std::vector<std::string>> LoadSmallOpChain(Client& c);
// The op's load on one connection; keys must outlive it.
LoadResult MeasureSmallOp(const BenchContext& ctx, const SmallOpInfo& op, Client& c,
                          const std::vector<std::string>& keys);

}  // namespace ctxstore::bench
