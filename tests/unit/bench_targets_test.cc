// ComputeTargets (src/bench/targets.cc) on a known results file
// (tests/data/bench_results.json): every target's measured figure and
// verdict, worked out by hand from the file. The file holds decoys that a
// wrong row choice would pick: a row with errors, other connection counts
// and value sizes, a replay row at another capacity.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "bench/report.h"

#ifndef CTXSTORE_TEST_DATA_DIR
#error "CTXSTORE_TEST_DATA_DIR must name tests/data (tests/CMakeLists.txt)"
#endif

namespace ctxstore::bench {
namespace {

using json = nlohmann::json;

json LoadResults() {
  std::ifstream in(std::string(CTXSTORE_TEST_DATA_DIR) + "/bench_results.json");
  EXPECT_TRUE(in.good()) << "tests/data/bench_results.json is missing";
  return json::parse(in, nullptr, /*allow_exceptions=*/false);
}

struct Expected {
  std::string name;
  std::optional<double> measured;  // nullopt: not measured (null)
  bool met;
  double target;
  std::string comparison;
};

void ExpectTargets(const json& targets, const std::vector<Expected>& expected) {
  ASSERT_TRUE(targets.is_array());
  ASSERT_EQ(targets.size(), expected.size()) << targets.dump(1);
  for (size_t i = 0; i < expected.size(); ++i) {
    const json& t = targets[i];
    const Expected& e = expected[i];
    SCOPED_TRACE(e.name);
    EXPECT_EQ(t.value("name", ""), e.name);
    EXPECT_EQ(t.value("comparison", ""), e.comparison);
    EXPECT_DOUBLE_EQ(t.value("target", -1.0), e.target);
    EXPECT_EQ(t.value("met", !e.met), e.met) << t.dump();
    if (e.measured) {
      ASSERT_TRUE(t["measured"].is_number()) << t.dump();
      EXPECT_NEAR(t["measured"].get<double>(), *e.measured, 1e-9) << t.dump();
    } else {
      EXPECT_TRUE(t["measured"].is_null()) << t.dump();
    }
  }
}

const char kGetTcp[] = "GET 4 MiB, 4 connections / loopback TCP, 4 streams";
const char kGetRedis[] = "GET 4 MiB, 4 connections / redis GET";
const char kPutTcp[] = "PUT 4 MiB, 4 connections / loopback TCP, 4 streams";
const char kPutRedis[] = "PUT 4 MiB, 4 connections / redis SET";
const char kFlashGet[] = "GET 4 MiB from flash only / fio O_DIRECT sequential read";
const char kSyncPut[] = "sustained sync PUT 4 MiB / fio O_DIRECT sequential write";
const char kMatch[] = "MATCH_PREFIX of 64 keys p50 / redis PING p50";
const char kIndex[] = "index memory per object, less the key";
const char kRestart[] = "restart with 1M objects (slower of clean and kill -9)";
const char kReplayDiff[] = "trace replay hit rate vs offline simulation (largest |difference|)";
const char kConversation[] = "best policy / LRU hit rate at 6,000 blocks, conversation";
const char kSynthetic[] = "best policy / LRU hit rate at 6,000 blocks, synthetic";

TEST(BenchTargets, KnownResultsFile) {
  const json results = LoadResults();
  ASSERT_TRUE(results.is_object());
  const json targets = ComputeTargets(results);
  ExpectTargets(targets, {
                             {kGetTcp, 9.0 / 10.0, true, 0.85, ">="},
                             {kGetRedis, 9.0 / 6.0, true, 1.4, ">="},
                             {kPutTcp, 7.0 / 10.0, false, 0.8, ">="},
                             {kPutRedis, std::nullopt, false, 1.1, ">="},  // no redis PUT row
                             {kFlashGet, 1.8 / 2.0, true, 0.8, ">="},
                             {kSyncPut, 0.6 / 1.0, false, 0.7, ">="},
                             {kMatch, 25.0 / 20.0, true, 1.5, "<="},
                             {kIndex, 96.0, true, 128, "<="},  // the last (largest) scale row
                             {kRestart, 6.0, false, 5, "<="},  // kill -9's 6 s, not clean's 2.5
                             {kReplayDiff, 0.008, true, 0.01, "<="},  // |-0.008|
                             {kConversation, 0.52 / 0.40, true, 1.25, ">="},
                             {kSynthetic, 0.55 / 0.50, false, 1.25, ">="},
                         });
  EXPECT_EQ(targets[7].value("detail", ""), "at 1000000 objects");
  EXPECT_EQ(targets[10].value("detail", ""),
            "replayed prefix; best: s3fifo at 52.0%, LRU 40.0%, Belady 60.0%, best/Belady 0.87");
}

// With whole-trace simulations, the policy targets are judged on them and
// the replayed rows are not used for them.
TEST(BenchTargets, WholeTraceSimulationsDecideThePolicyTargets) {
  json results = LoadResults();
  ASSERT_TRUE(results.is_object());
  results["replay"]["whole_trace_sim"] =
      json::array({{{"results", json::array({
                                    {{"trace", "conversation.jsonl"},
                                     {"policy", "lru"},
                                     {"capacity_blocks", 6000},
                                     {"hit_rate", 0.30}},
                                    {{"trace", "conversation.jsonl"},
                                     {"policy", "s3fifo"},
                                     {"capacity_blocks", 6000},
                                     {"hit_rate", 0.45}},
                                    {{"trace", "conversation.jsonl"},
                                     {"policy", "lru-ghost"},
                                     {"capacity_blocks", 100},
                                     {"hit_rate", 0.99}},
                                    {{"trace", "conversation.jsonl"},
                                     {"policy", "belady"},
                                     {"capacity_blocks", 6000},
                                     {"hit_rate", 0.50}},
                                })}}});
  const json targets = ComputeTargets(results);
  ASSERT_EQ(targets.size(), 12u);
  EXPECT_NEAR(targets[10]["measured"].get<double>(), 0.45 / 0.30, 1e-9) << targets[10].dump();
  EXPECT_TRUE(targets[10]["met"].get<bool>());
  EXPECT_EQ(targets[10].value("detail", ""),
            "whole trace, offline; best: s3fifo at 45.0%, LRU 30.0%, Belady 50.0%, "
            "best/Belady 0.90");
  // The synthetic trace was not simulated whole: not measured.
  EXPECT_TRUE(targets[11]["measured"].is_null()) << targets[11].dump();
  EXPECT_FALSE(targets[11]["met"].get<bool>());
  EXPECT_EQ(targets[11].value("detail", ""), "6,000 blocks not simulated in this run");
}

// An empty run measures nothing and meets nothing.
TEST(BenchTargets, NothingMeasuredMeetsNothing) {
  const json targets = ComputeTargets(json::object());
  ASSERT_EQ(targets.size(), 12u);
  for (const json& t : targets) {
    EXPECT_TRUE(t["measured"].is_null()) << t.dump();
    EXPECT_FALSE(t["met"].get<bool>()) << t.dump();
  }
  EXPECT_EQ(targets[7].value("detail", ""), "not measured");
}

}  // namespace
}  // namespace ctxstore::bench
