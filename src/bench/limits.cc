// Limits of this machine, the yardsticks the data path is judged against:
// memcpy bandwidth on one thread and on every core, AES-GCM on one thread,
// loopback TCP (limits_tcp.cc) and O_DIRECT sequential flash bandwidth where
// the data folder lives (limits_disk.cc). Every configuration tried is kept
// in results.json; a limit is the best of them.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/cpu_cost.h"
#include "bench/harness.h"
#include "bench/limits_parts.h"
#include "bench/loadgen.h"
#include "engine/security/encryption.h"

namespace ctxstore::bench {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

std::string Gbps(double v) { return GbpsLabel(v); }

// AES-256-GCM on one thread, as the flusher seals and a flash read opens a
// 4 MiB value (OpenSSL, AES-NI where the CPU has it): plaintext bytes per
// second, sealing and opening.
std::pair<double, double> AesGcmGbps(const BenchContext& ctx) {
  constexpr uint64_t kValueBytes = 4ull << 20;
  const int values = ctx.options.smoke ? 4 : 64;  // 256 MiB a run
  const int runs = ctx.options.smoke ? 2 : (ctx.options.quick ? 3 : 7);
  engine::EncryptionKey key;
  key.name = "bench";
  for (size_t i = 0; i < key.bytes.size(); ++i) key.bytes[i] = static_cast<uint8_t>(i * 29 + 3);
  key.id = engine::EncryptionKeyId(key.bytes);
  std::vector<uint8_t> plain(kValueBytes), sealed(kValueBytes), opened(kValueBytes);
  FillValue(plain.data(), plain.size(), 11);
  const std::string aad = engine::RecordAad(1, 2, "bench/key", "");
  engine::SealInfo info;
  std::vector<double> seal_gbps, open_gbps;
  for (int r = 0; r < runs; ++r) {
    auto t0 = Clock::now();
    for (int i = 0; i < values; ++i) {
      if (!engine::SealValue(key, aad, plain.data(), sealed.data(), kValueBytes, &info).ok()) {
        return {0, 0};
      }
    }
    seal_gbps.push_back(static_cast<double>(kValueBytes) * values / SecondsSince(t0) / 1e9);
    t0 = Clock::now();
    for (int i = 0; i < values; ++i) {
      if (!engine::OpenValue(key, aad, info, sealed.data(), opened.data(), kValueBytes).ok()) {
        return {0, 0};
      }
    }
    open_gbps.push_back(static_cast<double>(kValueBytes) * values / SecondsSince(t0) / 1e9);
  }
  return {Median(seal_gbps), Median(open_gbps)};
}

}  // namespace

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

nlohmann::json RunLimits(BenchContext& ctx) {
  json out = json::object();
  json skipped = json::array();
  try {
    ctx.progress->Step("memcpy, one thread");
    out["memcpy_gbps"] = MemcpyGbps(ctx, 1);
    ctx.progress->Result(Gbps(out["memcpy_gbps"].get<double>()));
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    ctx.progress->Step("memcpy, " + std::to_string(cores) + " threads");
    out["memcpy_all_cores_gbps"] = MemcpyGbps(ctx, cores);
    out["memcpy_threads"] = cores;
    ctx.progress->Result(Gbps(out["memcpy_all_cores_gbps"].get<double>()));
    ctx.progress->Step("single-thread AES-256-GCM seal and open");
    auto [seal_gbps, open_gbps] = AesGcmGbps(ctx);
    out["aes_gcm_seal_gbps"] = seal_gbps;
    out["aes_gcm_open_gbps"] = open_gbps;
    ctx.progress->Result(Gbps(seal_gbps) + " / " + Gbps(open_gbps));
    MeasureTcp(ctx, out, skipped);
    ctx.progress->Step("XXH3-64, one thread, CPU per GB");
    out["xxh3_cpu_s_per_gb"] = Xxh3SecondsPerGb(ctx.options.smoke ? 256ull << 20 : 2ull << 30);
    ctx.progress->Result(std::to_string(out["xxh3_cpu_s_per_gb"].get<double>()) + " CPU-s/GB");
    // What 2 cores can PUT at most, whatever the store does (cpu_cost.h).
    out["put_cpu_bound"] = PutCpuBound(out, cores);
    if (out["put_cpu_bound"].is_object()) {
      out["put_cpu_bound_gbps"] = out["put_cpu_bound"]["gbps"];
      ctx.progress->Result("PUT CPU bound: " + Gbps(out["put_cpu_bound_gbps"].get<double>()));
    }
    MeasureDisk(ctx, out, skipped);
  } catch (const std::exception& e) {  // bad_alloc, a thread that cannot start
    out["error"] = e.what();
  }
  out["skipped"] = skipped;
  return out;
}

// Copies a buffer several times larger than the last-level cache, so that
// the figure is DRAM bandwidth, not cache bandwidth, on `threads` threads
// at once (each its own slice). Bytes copied per second.
double MemcpyGbps(const BenchContext& ctx, unsigned threads) {
  const long llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
  uint64_t bytes =
      std::clamp<uint64_t>(llc > 0 ? 4 * static_cast<uint64_t>(llc) : 0, 256ull << 20, 1ull << 30);
  int runs = ctx.options.quick ? 3 : 7;
  if (ctx.options.smoke) {
    bytes = 16ull << 20;
    runs = 2;
  }
  // Filled (so touched) before timing: page faults are not memcpy.
  std::vector<char> src(bytes, 1), dst(bytes, 2);
  for (uint64_t i = 0; i < bytes; i += 4096) src[i] = static_cast<char>(i >> 12);
  const uint64_t slice = bytes / threads;
  std::vector<double> gbps;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = Clock::now();
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) {
      pool.emplace_back([&, t] { std::memcpy(&dst[t * slice], &src[t * slice], slice); });
    }
    std::memcpy(dst.data(), src.data(), slice);
    for (std::thread& t : pool) t.join();
    // The copy's result escapes here, so the compiler cannot drop it.
    asm volatile("" : : "r"(dst.data()) : "memory");
    gbps.push_back(static_cast<double>(slice * threads) / SecondsSince(t0) / 1e9);
  }
  return Median(gbps);
}

}  // namespace ctxstore::bench
