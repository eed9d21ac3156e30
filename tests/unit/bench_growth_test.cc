// The growth section's plan (bench/growth.h) and its chart data
// (GrowthChartPoints, bench/report.h) on hand-made rows with decoys: a row
// with errors, a row at another connection count or value size.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "bench/growth.h"
#include "bench/report.h"

namespace ctxstore::bench {
namespace {

using json = nlohmann::json;

TEST(BenchGrowth, FullPlanCoversTheIssuesPoints) {
  const GrowthPlan plan = MakeGrowthPlan(/*smoke=*/false);
  EXPECT_EQ(plan.value_sizes,
            (std::vector<uint64_t>{4ull << 10, 16ull << 10, 64ull << 10, 256ull << 10, 1ull << 20,
                                   4ull << 20, 16ull << 20, 64ull << 20}));
  EXPECT_EQ(plan.connections, (std::vector<uint32_t>{1, 2, 4, 8, 16, 32, 64}));
  EXPECT_EQ(plan.size_sweep_connections, 4u);
  EXPECT_EQ(plan.connection_sweep_value_bytes, 1ull << 20);
  EXPECT_EQ(plan.redis_max_value_bytes, 4ull << 20);
}

TEST(BenchGrowth, SmokePlanIsSmallAndSharesItsCrossingPoint) {
  const GrowthPlan plan = MakeGrowthPlan(/*smoke=*/true);
  ASSERT_FALSE(plan.value_sizes.empty());
  EXPECT_LE(plan.value_sizes.back(), plan.redis_max_value_bytes);
  // The two sweeps cross at (connection_sweep_value_bytes, size_sweep_connections).
  EXPECT_NE(std::find(plan.value_sizes.begin(), plan.value_sizes.end(),
                      plan.connection_sweep_value_bytes),
            plan.value_sizes.end());
  EXPECT_NE(std::find(plan.connections.begin(), plan.connections.end(),
                      plan.size_sweep_connections),
            plan.connections.end());
}

json GrowthRow(const char* system, const char* op, uint64_t value_bytes, uint32_t connections,
               double gbps, uint64_t errors = 0) {
  return {{"system", system},   {"op", op},   {"value_bytes", value_bytes},
          {"connections", connections}, {"gbps", gbps}, {"errors", errors}};
}

json GrowthSection() {
  return {{"size_sweep_connections", 4},
          {"connection_sweep_value_bytes", 1 << 20},
          {"rows", json::array({
                       GrowthRow("ctxstore", "put", 4096, 4, 0.1),
                       GrowthRow("ctxstore", "get", 4096, 4, 0.2),
                       GrowthRow("ctxstore", "put", 1 << 20, 4, 0.9),
                       GrowthRow("ctxstore", "put", 1 << 20, 16, 1.6),
                       GrowthRow("ctxstore", "put", 64 << 10, 16, 7.0),  // in neither sweep
                       GrowthRow("redis-benchmark", "put", 4096, 4, 0.3),
                       GrowthRow("redis-benchmark", "get", 1 << 20, 16, 0.5),
                       GrowthRow("redis-benchmark", "get", 4096, 4, 9.0, 1),  // errors
                       {{"system", "ctxstore"}, {"error", "connect failed"}},
                   })}};
}

TEST(BenchGrowth, ValueSizeChartTakesTheRowsAtItsConnectionCount) {
  const ChartPoints p = GrowthChartPoints(GrowthSection(), "value_size");
  ASSERT_EQ(p.size(), 2u);  // 4 KiB and 1024 KiB
  EXPECT_EQ(p.at(4.0), (std::map<std::string, double>{
                           {"ctxstore PUT", 0.1}, {"ctxstore GET", 0.2},
                           {"redis-benchmark SET", 0.3}}));
  EXPECT_EQ(p.at(1024.0), (std::map<std::string, double>{{"ctxstore PUT", 0.9}}));
}

TEST(BenchGrowth, ConnectionChartTakesTheRowsAtItsValueSize) {
  const ChartPoints p = GrowthChartPoints(GrowthSection(), "connections");
  ASSERT_EQ(p.size(), 2u);  // 4 and 16 connections
  EXPECT_EQ(p.at(4.0), (std::map<std::string, double>{{"ctxstore PUT", 0.9}}));
  EXPECT_EQ(p.at(16.0), (std::map<std::string, double>{{"ctxstore PUT", 1.6},
                                                       {"redis-benchmark GET", 0.5}}));
}

TEST(BenchGrowth, NoRowsNoPoints) {
  EXPECT_TRUE(GrowthChartPoints(json::object(), "value_size").empty());
}

}  // namespace
}  // namespace ctxstore::bench
