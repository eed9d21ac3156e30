// The parts of the limits section (limits.cc), one file each: loopback TCP
// (limits_tcp.cc) and the flash (limits_disk.cc). Each adds its figures and
// every configuration it tried to `out`, and why a part did not run to
// `skipped`.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>

#include "bench/harness.h"

namespace ctxstore::bench {

// out["tcp_configs"]: every {tool, streams, gbps} tried; out["tcp"]: the best
// per stream count; out["loopback_limit_gbps"]: the best of all.
void MeasureTcp(BenchContext& ctx, nlohmann::json& out, nlohmann::json& skipped);

// out["disk_configs"]: every {tool, ioengine, rw, iodepth, numjobs,
// fdatasync, gbps[, syncs, sync_mean_us, sync_p99_us]} tried; out["disk"]:
// the best read, write and durable write (with fdatasync) and their
// configurations.
void MeasureDisk(BenchContext& ctx, nlohmann::json& out, nlohmann::json& skipped);

// memcpy bandwidth, DRAM to DRAM (a buffer several times the last-level
// cache), on `threads` threads at once: bytes copied per second / 1e9.
double MemcpyGbps(const BenchContext& ctx, unsigned threads);

// "1.23 GB/s".
std::string GbpsLabel(double gbps);

// Seconds from t0 to now, on the steady clock every part times with.
double SecondsSince(std::chrono::steady_clock::time_point t0);

}  // namespace ctxstore::bench
