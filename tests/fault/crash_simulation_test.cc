// The deterministic crash simulation (crash_sim/simulator.h): seeded
// workloads against an engine stepped on one thread over an in-memory
// device, with power cuts at device operations (names durable only after a
// directory sync), corrupted reads, misdirected and lost writes, bit rot,
// failed syncs, torn and failed writes (EIO), full-device writes (ENOSPC),
// checked after every recovery against a model of what was acknowledged
// (scratch namespaces and their objects too). docs/testing.md describes
// what it models.
//
// CTXSTORE_CRASH_SEED=<n> runs only seed n, printing its trace (every
// operation, acknowledgement, power cut and recovered key) and the engine's
// log. CTXSTORE_CRASH_SEEDS=<n> sets how many seeds run (default: enough
// for 1,000 power cuts; fewer under ThreadSanitizer).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "crash_sim/simulator.h"

namespace ctxstore::engine::crash_sim {
namespace {

#if defined(__SANITIZE_THREAD__)  // gcc
constexpr bool kThreadSanitizer = true;
#elif defined(__has_feature)  // clang
constexpr bool kThreadSanitizer = __has_feature(thread_sanitizer);
#else
constexpr bool kThreadSanitizer = false;
#endif

// About 4.2 power cuts per seed: 300 seeds make about 1,250 (a run is the
// same in every build: Release took about 20 s of CPU on a quiet
// development machine, ASan + UBSan about 35 s, before the workload and
// the faults were widened, which cost no more CPU when both were measured
// side by side; see docs/testing.md). ThreadSanitizer is slower still
// (about 0.5 s a seed): its pass runs a sample that keeps it near a minute.
constexpr uint64_t kDefaultSeeds = kThreadSanitizer ? 120 : 300;
constexpr uint64_t kSeedsForMinCrashPoints = 300;
constexpr uint64_t kMinCrashPoints = 1000;

uint64_t EnvOr(const char* name, uint64_t fallback, bool* set = nullptr) {
  const char* v = std::getenv(name);
  const bool given = v != nullptr && *v != '\0';
  if (set != nullptr) *set = given;
  return given ? std::strtoull(v, nullptr, 10) : fallback;
}

uint64_t ElapsedMs(std::chrono::steady_clock::time_point since) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now() - since)
                                   .count());
}

std::string RerunLine(uint64_t seed) {
  return fmt::format("seed {} (rerun with CTXSTORE_CRASH_SEED={})", seed, seed);
}

TEST(CrashSimulationTest, AcknowledgedDataSurvivesCrashesAndFaultsNeverServeWrongBytes) {
  bool single = false;
  const uint64_t only = EnvOr("CTXSTORE_CRASH_SEED", 0, &single);
  const uint64_t count = single ? 1 : EnvOr("CTXSTORE_CRASH_SEEDS", kDefaultSeeds);
  spdlog::set_level(single ? spdlog::level::info : spdlog::level::off);
  const auto started = std::chrono::steady_clock::now();
  std::vector<uint64_t> failed;
  Coverage total;
  for (uint64_t i = 0; i < count && failed.size() < 3; ++i) {
    const uint64_t seed = single ? only : i + 1;
    SCOPED_TRACE(RerunLine(seed));
    if (single) std::printf("seed %ju:\n", static_cast<uintmax_t>(seed));
    Simulator sim(seed, /*verbose=*/single);
    sim.Run();
    total.Add(sim.coverage());
    if (single)
      std::printf("seed %ju: digest %016jx\n", static_cast<uintmax_t>(seed),
                  static_cast<uintmax_t>(sim.digest()));
    if (sim.failed()) {
      failed.push_back(seed);
      std::printf("FAILED: %s\n", RerunLine(seed).c_str());
    }
  }
  spdlog::set_level(spdlog::level::info);
  std::string list;
  for (uint64_t s : failed) list += fmt::format(" {}", s);
  EXPECT_TRUE(failed.empty()) << "failing seeds:" << list
                              << " (rerun one with CTXSTORE_CRASH_SEED=<seed>)";
  std::printf("%s", total.Summary(ElapsedMs(started)).c_str());
  if (count >= 20 && failed.empty()) total.Check();
  if (!single && count >= kSeedsForMinCrashPoints) {
    EXPECT_GE(total.crash_points, kMinCrashPoints);
  }
}

TEST(CrashSimulationTest, ASeedRepeatsBitForBit) {
  spdlog::set_level(spdlog::level::off);
  // A crash-only seed, a sealed one with random faults, and one with both.
  for (uint64_t seed : {3, 5, 7}) {
    SCOPED_TRACE(RerunLine(seed));
    Simulator first(seed, false);
    first.Run();
    // The second run's heap and mappings sit elsewhere: nothing may depend
    // on where objects happen to live (pointer-keyed maps, say).
    std::vector<std::vector<uint8_t>> ballast;
    for (size_t i = 1; i <= 32; ++i) ballast.emplace_back(i * 37 * 1024 + i, uint8_t{1});
    Simulator second(seed, false);
    second.Run();
    EXPECT_FALSE(first.failed());
    EXPECT_EQ(first.digest(), second.digest())
        << "operations, results, acknowledgements, device operations or recovered state differ";
    EXPECT_EQ(first.coverage().Summary(0), second.coverage().Summary(0));
  }
  Simulator other(4, false);
  other.Run();
  Simulator three(3, false);
  three.Run();
  EXPECT_NE(other.digest(), three.digest()) << "the digest covers what a seed changes";
  spdlog::set_level(spdlog::level::info);
}

// Seeds that once failed, run on every pass whatever the seed count.
TEST(CrashSimulationTest, RegressionSeeds) {
  spdlog::set_level(spdlog::level::off);
  // 562: two puts of an empty value are the same bytes; the checker took
  // the older one for the value read back (a checker bug, not the engine's).
  // 208: a reclaimed segment's removal was not synced; a cut undid it and
  // a key whose delete was acknowledged came back older (fixed:
  // SegmentSet::RemoveDurably syncs the folder).
  // 6: a key pinned after reclaim had dropped its flash copy (it lived on
  // in DRAM), then overwritten, and the power cut before the overwrite was
  // durable: nothing of it was on flash, as documented; the checker took
  // the overwrite since the pin for protection (a checker bug).
  for (uint64_t seed : {562, 208, 6}) {
    SCOPED_TRACE(RerunLine(seed));
    Simulator sim(seed, false);
    sim.Run();
    EXPECT_FALSE(sim.failed());
  }
  spdlog::set_level(spdlog::level::info);
}

}  // namespace
}  // namespace ctxstore::engine::crash_sim
