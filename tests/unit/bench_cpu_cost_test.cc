// The CPU-cost helpers of the harness (src/bench/cpu_cost.h): /proc/PID/stat
// parsing on known lines, a real process's CPU read through /proc, and the
// PUT burst's CPU bound worked out by hand.
#include "bench/cpu_cost.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>

namespace ctxstore::bench {
namespace {

using json = nlohmann::json;

TEST(BenchCpuCost, ProcStatUtimePlusStime) {
  // A kernel 6.1 line, trimmed after field 20: utime 1234, stime 56.
  EXPECT_EQ(*ParseProcStatCpuTicks("4242 (ctxstore) S 1 4242 4242 0 -1 4194560 100 0 0 0 "
                                   "1234 56 0 0 20 0 9"),
            1290u);
  // The command name may hold spaces and ')': the last ')' ends it.
  EXPECT_EQ(*ParseProcStatCpuTicks("7 (a) b (c)) R 1 7 7 0 -1 0 0 0 0 0 10 5 0 0 20 0 1"), 15u);
  EXPECT_FALSE(ParseProcStatCpuTicks("").ok());
  EXPECT_FALSE(ParseProcStatCpuTicks("4242 (x) S 1 2 3").ok());
}

// This process's CPU read through /proc grows when it burns CPU, and agrees
// with getrusage within a tick or two.
TEST(BenchCpuCost, OwnProcessThroughProc) {
  auto before = ProcessCpuSeconds(getpid());
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  const double self_before = SelfCpuSeconds();
  volatile uint64_t x = 0;
  const auto t0 = std::chrono::steady_clock::now();
  while (SelfCpuSeconds() - self_before < 0.2 &&
         std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30)) {
    for (int i = 0; i < 100000; ++i) x = x + static_cast<uint64_t>(i);
  }
  auto after = ProcessCpuSeconds(getpid());
  ASSERT_TRUE(after.ok());
  EXPECT_GT(*after - *before, 0.1);
  EXPECT_NEAR(*after - *before, SelfCpuSeconds() - self_before, 0.05);
  EXPECT_FALSE(ProcessCpuSeconds(-5).ok());
}

TEST(BenchCpuCost, MeterAndPerGb) {
  const CpuMeter meter(getpid());
  const CellCpu cpu = meter.Stop();
  EXPECT_GE(cpu.server_s, 0);
  EXPECT_GE(cpu.self_s, 0);
  EXPECT_DOUBLE_EQ(CpuSecondsPerGb(0.5, 2e9), 0.25);
  EXPECT_DOUBLE_EQ(CpuSecondsPerGb(0.5, 0), 0);
  json row;
  AddCpuCost(row, CellCpu{0.3, 0.2, 0.7}, 1e9, /*client_is_child=*/true);
  EXPECT_DOUBLE_EQ(row["server_cpu_s_per_gb"].get<double>(), 0.3);
  EXPECT_DOUBLE_EQ(row["client_cpu_s_per_gb"].get<double>(), 0.7);  // the tool's, not ours
  json no_server;
  AddCpuCost(no_server, CellCpu{-1, 0.2, 0.7}, 2e9, /*client_is_child=*/false);
  EXPECT_FALSE(no_server.contains("server_cpu_s"));
  EXPECT_DOUBLE_EQ(no_server["client_cpu_s_per_gb"].get<double>(), 0.1);
}

TEST(BenchCpuCost, PutCpuBoundFromTheCheapestLoopback) {
  const json limits = {{"xxh3_cpu_s_per_gb", 0.05},
                       {"tcp_configs",
                        {{{"tool", "socket"}, {"streams", 1}, {"gbps", 3.0}, {"cpu_s_per_gb", 0.4}},
                         {{"tool", "iperf3"}, {"streams", 4}, {"gbps", 6.4}, {"cpu_s_per_gb", 0.3}},
                         {{"tool", "iperf3"}, {"streams", 2}, {"gbps", 6.0}}}}};  // no cost: skipped
  const json bound = PutCpuBound(limits, 2);
  ASSERT_TRUE(bound.is_object());
  EXPECT_DOUBLE_EQ(bound["cpu_s_per_gb"].get<double>(), 0.4);  // 0.3 + 2 x 0.05
  EXPECT_DOUBLE_EQ(bound["gbps"].get<double>(), 5.0);          // 2 cores / 0.4
  EXPECT_EQ(bound["loopback_tool"], "iperf3");
  EXPECT_EQ(bound["loopback_streams"], 4);
  EXPECT_TRUE(PutCpuBound(json::object(), 2).is_null());
  EXPECT_TRUE(PutCpuBound({{"xxh3_cpu_s_per_gb", 0.05}}, 2).is_null());
}

TEST(BenchCpuCost, Xxh3CostIsPositive) {
  const double s = Xxh3SecondsPerGb(64ull << 20);
  EXPECT_GT(s, 0);
  EXPECT_LT(s, 10);  // XXH3 runs at GB/s, not MB/s
}

}  // namespace
}  // namespace ctxstore::bench
