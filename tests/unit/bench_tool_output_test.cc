// The parsing of the public tools' outputs (src/bench/tool_output.cc) on
// outputs of the versions Debian ships (iperf3 3.12, fio 3.33, redis 7.0),
// and the cross-check rule between a tool's figure and the harness's own.
#include "bench/tool_output.h"

#include <gtest/gtest.h>

#include <string>

namespace ctxstore::bench {
namespace {

TEST(BenchToolOutput, Iperf3SumReceived) {
  // sum_sent differs from sum_received: the receiver's figure is the one.
  const std::string out = R"({"start":{},"end":{"sum_sent":{"bits_per_second":9.6e10},
      "sum_received":{"bits_per_second":5.6e10}}})";
  auto gbps = ParseIperf3Gbps(out);
  ASSERT_TRUE(gbps.ok()) << gbps.status().ToString();
  EXPECT_DOUBLE_EQ(*gbps, 7.0);
}

TEST(BenchToolOutput, Iperf3ErrorsAreErrors) {
  EXPECT_FALSE(ParseIperf3Gbps(R"({"error":"unable to connect to server"})").ok());
  EXPECT_FALSE(ParseIperf3Gbps("iperf3: error").ok());
  EXPECT_FALSE(ParseIperf3Gbps(R"({"end":{}})").ok());
}

TEST(BenchToolOutput, FioGroupReportedJobAfterWarnings) {
  const std::string out =
      "fio: io_uring: setup failed, falling back\n"
      R"({"fio version":"fio-3.33","jobs":[{"jobname":"w","error":0,
          "read":{"bw_bytes":0},"write":{"bw_bytes":2460000000}}]})";
  auto write = ParseFioGbps(out, "write");
  ASSERT_TRUE(write.ok()) << write.status().ToString();
  EXPECT_DOUBLE_EQ(*write, 2.46);
  auto read = ParseFioGbps(out, "read");
  ASSERT_TRUE(read.ok());
  EXPECT_DOUBLE_EQ(*read, 0.0);
}

TEST(BenchToolOutput, FioFailuresAreErrors) {
  EXPECT_FALSE(ParseFioGbps("fio: file not found\n", "read").ok());
  EXPECT_FALSE(ParseFioGbps(R"({"jobs":[]})", "read").ok());
  EXPECT_FALSE(ParseFioGbps(R"({"jobs":[{"error":5,"read":{"bw_bytes":1}}]})", "read").ok());
  EXPECT_FALSE(ParseFioGbps(R"({"jobs":[{"error":0,"write":{"bw_bytes":1}}]})", "read").ok());
}

// --fdatasync=N: the syncs are in jobs[0].sync.lat_ns (as fio 3.33 prints
// them, percentiles trimmed); a run without syncs has N = 0.
TEST(BenchToolOutput, FioSyncFigures) {
  const std::string out =
      R"({"jobs":[{"jobname":"w","error":0,"read":{"bw_bytes":0},
          "write":{"bw_bytes":824628630},
          "sync":{"total_ios":0,"lat_ns":{"min":1818986,"max":44742854,
            "mean":3698044.5,"N":197,
            "percentile":{"50.000000":2277376,"99.000000":18219008}}}}]})";
  auto f = ParseFioFigures(out, "write");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_DOUBLE_EQ(f->gbps, 0.82462863);
  EXPECT_EQ(f->syncs, 197u);
  EXPECT_DOUBLE_EQ(f->sync_mean_us, 3698.0445);
  EXPECT_DOUBLE_EQ(f->sync_p99_us, 18219.008);
  const std::string no_sync =
      R"({"jobs":[{"error":0,"write":{"bw_bytes":2000000000},
          "sync":{"total_ios":0,"lat_ns":{"min":0,"max":0,"mean":0.0,"N":0}}}]})";
  auto g = ParseFioFigures(no_sync, "write");
  ASSERT_TRUE(g.ok());
  EXPECT_DOUBLE_EQ(g->gbps, 2.0);
  EXPECT_EQ(g->syncs, 0u);
  EXPECT_DOUBLE_EQ(g->sync_mean_us, 0.0);
  EXPECT_FALSE(ParseFioFigures(R"({"jobs":[{"error":0,"sync":{}}]})", "write").ok());
}

TEST(BenchToolOutput, RedisBenchmarkCsv) {
  // As redis-benchmark 7.0 prints it with --csv, progress line included.
  const std::string out =
      "SET: rps=0.0 (overall: 0.0) avg_msec=-nan\r"
      "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\","
      "\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n"
      "\"SET\",\"7220.22\",\"0.430\",\"0.056\",\"0.183\",\"1.119\",\"4.119\",\"33.631\"\n"
      "\"GET\",\"11834.32\",\"0.160\",\"0.048\",\"0.143\",\"0.279\",\"0.391\",\"1.615\"\n";
  auto rows = ParseRedisBenchmarkCsv(out);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].test, "SET");
  EXPECT_DOUBLE_EQ((*rows)[0].requests_per_s, 7220.22);
  EXPECT_DOUBLE_EQ((*rows)[0].avg_ms, 0.430);
  EXPECT_DOUBLE_EQ((*rows)[0].p50_ms, 0.183);
  EXPECT_DOUBLE_EQ((*rows)[0].p99_ms, 4.119);
  EXPECT_EQ((*rows)[1].test, "GET");
  EXPECT_DOUBLE_EQ((*rows)[1].p50_ms, 0.143);
}

TEST(BenchToolOutput, RedisBenchmarkColumnsFoundByName) {
  const std::string out =
      "\"p50_latency_ms\",\"test\",\"rps\"\n"
      "\"0.5\",\"GET\",\"100\"\n";
  auto rows = ParseRedisBenchmarkCsv(out);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ((*rows)[0].test, "0.5");  // the test name is the first column
  EXPECT_DOUBLE_EQ((*rows)[0].requests_per_s, 100);
  EXPECT_DOUBLE_EQ((*rows)[0].p50_ms, 0.5);
}

TEST(BenchToolOutput, RedisBenchmarkFailuresAreErrors) {
  // -q output, an error, a header with no line, a line with no number.
  EXPECT_FALSE(ParseRedisBenchmarkCsv("SET: 15267.18 requests per second, p50=0.151 msec\n").ok());
  EXPECT_FALSE(ParseRedisBenchmarkCsv("Could not connect to Redis at 127.0.0.1:1\n").ok());
  EXPECT_FALSE(ParseRedisBenchmarkCsv("\"test\",\"rps\",\"p50_latency_ms\"\n").ok());
  EXPECT_FALSE(
      ParseRedisBenchmarkCsv("\"test\",\"rps\",\"p50_latency_ms\"\n\"SET\",\"x\",\"0.1\"\n").ok());
}

// Invalid only when the harness is the weaker driver by more than 15%: a
// faster harness is a stronger baseline.
TEST(BenchToolOutput, CrossCheckFailsOnlyAWeakerHarness) {
  EXPECT_TRUE(CrossCheckFigures(2.0, 2.0).valid);
  EXPECT_TRUE(CrossCheckFigures(2.0, 1.71).valid);   // 0.855
  EXPECT_TRUE(CrossCheckFigures(2.0, 2.29).valid);   // 1.145
  EXPECT_FALSE(CrossCheckFigures(2.0, 1.69).valid);  // 0.845
  EXPECT_TRUE(CrossCheckFigures(2.0, 2.31).valid);   // 1.155: the harness is stronger
  EXPECT_TRUE(CrossCheckFigures(1.93, 3.56).valid);  // GET 4 MiB x4 of the last full run
  // The issue's case: the harness's client at a tenth of redis-benchmark.
  const CrossCheck c = CrossCheckFigures(1.23, 0.27);
  EXPECT_FALSE(c.valid);
  EXPECT_NEAR(c.ratio, 0.27 / 1.23, 1e-12);
  EXPECT_FALSE(CrossCheckFigures(0, 1).valid);  // no tool figure: nothing to trust
}

}  // namespace
}  // namespace ctxstore::bench
