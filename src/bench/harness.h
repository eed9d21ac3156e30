// `ctxstore bench run`: the benchmark harness (issue 4, docs/benchmarks.md).
// It starts what it measures (its own ctxstore servers, redis-server, fio,
// iperf3), runs every section in one process so that the baselines share the
// run's conditions, and writes DIR/results.json, DIR/results.md and PNG
// charts. Each section is a function of the BenchContext returning its part
// of results.json; a section that cannot run (a missing tool) records why
// under "skipped" instead of failing the run.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/process.h"
#include "bench/progress.h"
#include "ctxstore/status.h"

namespace ctxstore::bench {

struct HarnessOptions {
  std::string out_dir;
  bool quick = false;        // a short version of the same suite
  bool smoke = false;        // tiny sizes, for the test suite: checks form, not speed
  std::string work_dir;      // scratch data (servers' data dirs, fio files); default OUT/work
  std::string ctxstore_exe;  // the ctxstore binary to run as a server (default: this one)
  std::string trace_dir;     // Mooncake traces; "" = skip the replay section
  std::string command_line;  // as typed, for the report
  std::vector<std::string> sections;  // "" = all (AllSections in harness.cc)
};

// What every section gets.
struct BenchContext {
  HarnessOptions options;
  Progress* progress = nullptr;

  // Sizes of this run (set from quick/smoke by the harness).
  std::vector<uint64_t> value_sizes;     // data path value sizes
  std::vector<uint32_t> connections;     // data path concurrency levels
  uint64_t cell_duration_ms = 1500;      // one (system, op, size, conns) measurement
  uint64_t cell_max_bytes = 8ull << 30;  // cap on bytes moved by one measurement
  uint64_t data_set_bytes = 1ull << 30;  // distinct bytes a GET measurement reads from
  uint64_t scale_max_objects = 1000000;  // scale section: largest object count
  uint64_t replay_max_requests = 0;      // 0 = whole traces

  // A fresh empty folder under work_dir for one server or tool.
  std::string ScratchDir(const std::string& name) const;
};

// A ctxstore server started by the harness (the real binary), on a free
// loopback port; stopped cleanly (SIGTERM) when destroyed.
struct StoreServer {
  std::unique_ptr<ChildProcess> process;
  uint16_t port = 0;
  std::string data_dir;
  std::string log_path;
  std::string token;        // the admin token the server wrote to its data dir
  std::string tls_ca_file;  // set by callers whose server listens with TLS
  std::string unix_path;    // set by callers whose server also listens with --unix
};

// Starts `ctxstore serve --data-dir DATA --listen 127.0.0.1:PORT
// --log-level warn ARGS...` and waits until it accepts connections. An empty
// data_dir means a fresh ScratchDir(name). args typically set --memory and
// --disk.
Result<StoreServer> StartStoreServer(const BenchContext& ctx, const std::string& name,
                                     const std::vector<std::string>& args,
                                     std::string data_dir = "");

// The smallest fio queue depth the limits section tries (4 MiB requests,
// this many in flight; it also tries 32 and 64, at 1 and 4 jobs, and the
// flash limits are the best). The flash section runs this many connections.
inline constexpr uint32_t kFioIoDepth = 8;

// Waits until the server's DRAM tier is faulted in (STATS
// dram_populated_bytes reaches its capacity), so that a measurement does not
// share the CPU with the start-up population: what a long-running server
// does not pay. The scale section measures restarts and does not wait.
Status WaitUntilWarm(const StoreServer& server, uint64_t timeout_ms = 120000);

// Sections. Each returns a JSON object (see docs/benchmarks.md).
nlohmann::json RunLimits(BenchContext& ctx);    // memcpy, loopback TCP, fio
nlohmann::json RunDataPath(BenchContext& ctx);  // ctxstore PUT/GET grid
nlohmann::json RunRedis(BenchContext& ctx);     // redis SET/GET grid, PING/EXISTS latency
nlohmann::json RunResp(BenchContext& ctx);      // ctxstore's Redis front end vs redis-server
nlohmann::json RunFsStore(BenchContext& ctx);   // file-per-object store, with/without fsync
nlohmann::json RunFlash(BenchContext& ctx);     // flash-only GET, sustained sync PUT
nlohmann::json RunTls(BenchContext& ctx);       // PUT/GET over TLS vs plaintext
nlohmann::json RunSmallOps(BenchContext& ctx);  // EXISTS / MATCH_PREFIX of 64 keys
nlohmann::json RunShm(BenchContext& ctx);       // shared-memory GET/PUT vs memcpy
nlohmann::json RunPython(BenchContext& ctx);    // the Python package vs the C++ client
nlohmann::json RunGrowth(BenchContext& ctx);    // throughput vs value size and connections
nlohmann::json RunScale(BenchContext& ctx);     // index memory per object, restart time
nlohmann::json RunReplay(BenchContext& ctx);    // Mooncake traces online vs offline

// Helpers of RunHarness that `compare` (bench/compare.h) shares, so that
// both measure with the same sizes and describe the machine alike.
// Sets the sizes of the run from options.quick and options.smoke.
void ConfigureSizes(BenchContext& ctx);
// hostname, kernel, cpu (model name), cores, memory, work_dir.
nlohmann::json MachineInfo(const HarnessOptions& o);
// "2026-11-28T13:04:03Z".
std::string UtcNow();
// Deletes the folders in the work folder (servers' data, fio's file, the
// file store); the logs stay.
void RemoveScratch(const std::string& work_dir);

// Runs the selected sections and writes the outputs. Returns an error only
// when nothing could be written.
Status RunHarness(const HarnessOptions& options);

}  // namespace ctxstore::bench
