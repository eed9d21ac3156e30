// The arithmetic of `ctxstore-bench compare` (bench/compare_stats.h): each
// side's median and spread, and when a candidate is called worse, better or
// within noise. The command itself runs in tests/integration.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "bench/compare.h"
#include "bench/compare_stats.h"

namespace ctxstore::bench {
namespace {

SideSummary Side(std::vector<double> throughput) {
  SideRounds r;
  r.throughput = throughput;
  r.p50_us.assign(throughput.size(), 10);
  r.p99_us.assign(throughput.size(), 20);
  return Summarize(r);
}

TEST(BenchCompareStats, SummaryIsMedianAndMinMax) {
  SideRounds r{{3.0, 1.0, 2.0, 10.0}, {5, 7, 6, 100}, {50, 70, 60, 900}};
  SideSummary s = Summarize(r);
  EXPECT_EQ(s.rounds, 4u);
  EXPECT_DOUBLE_EQ(s.median, 2.5);  // an even count: the mean of the middle two
  EXPECT_DOUBLE_EQ(s.min, 1.0);
  EXPECT_DOUBLE_EQ(s.max, 10.0);
  EXPECT_DOUBLE_EQ(s.p50_us, 6.5);
  EXPECT_DOUBLE_EQ(s.p99_us, 65);
  EXPECT_EQ(Summarize(SideRounds{}).rounds, 0u);
}

TEST(BenchCompareStats, WorseOnlyBeyondTheThreshold) {
  // 1.5% slower: within a 2% threshold; 3% slower: worse. Tight spreads
  // that do not overlap.
  Verdict within = Judge(Side({1.00, 1.001, 0.999}), Side({0.985, 0.986, 0.984}), 2);
  EXPECT_TRUE(within.valid);
  EXPECT_FALSE(within.worse);
  EXPECT_FALSE(within.within_noise);
  EXPECT_EQ(within.label, "within threshold");
  EXPECT_NEAR(within.ratio, 0.985, 1e-9);
  EXPECT_NEAR(within.change_pct, -1.5, 1e-9);

  Verdict worse = Judge(Side({1.00, 1.001, 0.999}), Side({0.97, 0.971, 0.969}), 2);
  EXPECT_TRUE(worse.worse);
  EXPECT_FALSE(worse.better);
  EXPECT_EQ(worse.label, "worse");
}

TEST(BenchCompareStats, OverlappingSpreadsAreWithinNoise) {
  // 5% slower at the median, but the candidate's best round beats the
  // baseline's worst: still flagged worse, and said to be within noise.
  Verdict v = Judge(Side({0.90, 1.00, 1.10}), Side({0.85, 0.95, 1.05}), 2);
  EXPECT_TRUE(v.worse);
  EXPECT_TRUE(v.within_noise);
  EXPECT_EQ(v.label, "worse, within noise");

  Verdict same = Judge(Side({0.90, 1.00, 1.10}), Side({0.95, 1.01, 1.2}), 2);
  EXPECT_FALSE(same.worse);
  EXPECT_FALSE(same.better);
  EXPECT_EQ(same.label, "within noise");
}

TEST(BenchCompareStats, BetterIsTheMirrorOfWorse) {
  Verdict v = Judge(Side({1.0, 1.0}), Side({1.1, 1.1}), 2);
  EXPECT_TRUE(v.better);
  EXPECT_FALSE(v.worse);
  EXPECT_EQ(v.label, "better");
  // A threshold of 0: any drop of the median is worse.
  EXPECT_TRUE(Judge(Side({1.0}), Side({0.9999}), 0).worse);
}

TEST(BenchCompareStats, NoRoundsIsAnError) {
  Verdict v = Judge(Side({}), Side({1.0}), 2);
  EXPECT_FALSE(v.valid);
  EXPECT_FALSE(v.worse);
  EXPECT_EQ(v.label, "error");
  EXPECT_EQ(Judge(Side({1.0}), Side({}), 2).label, "error");
  EXPECT_EQ(Judge(Side({0.0}), Side({1.0}), 2).label, "error");
}

TEST(BenchCompareStats, DefaultRoundsAreEven) {
  // Even, so that each binary goes first in as many rounds as the other.
  for (bool quick : {false, true}) {
    for (bool smoke : {false, true}) {
      EXPECT_EQ(DefaultCompareRounds(quick, smoke) % 2, 0u) << quick << smoke;
    }
  }
}

TEST(BenchCompareReport, MarkdownMarksWorseCells) {
  nlohmann::json cell = {
      {"section", "datapath"},
      {"cell", "put 4 MiB x4"},
      {"unit", "GB/s"},
      {"baseline", {{"rounds", 2}, {"median", 3.0}, {"min", 2.9}, {"max", 3.1}}},
      {"candidate", {{"rounds", 2}, {"median", 2.0}, {"min", 1.9}, {"max", 2.1}}},
      {"ratio", 2.0 / 3.0},
      {"worse", true},
      {"verdict", "worse"}};
  nlohmann::json compare = {
      {"meta", {{"max_regression_pct", 2.0}, {"machine", nlohmann::json::object()}}},
      {"baseline", {{"path", "a"}, {"version", nullptr}, {"build", nullptr}}},
      {"candidate", {{"path", "b"}, {"version", nullptr}, {"build", nullptr}}},
      {"summary", {{"cells", 1}, {"worse", 1}, {"lowest_ratio", nullptr}}},
      {"cells", {cell}}};
  const std::string md = FormatCompareMarkdown(compare);
  EXPECT_NE(md.find("| datapath | put 4 MiB x4 | GB/s | 3.00 | 2.90–3.10 | 2.00 | 1.90–2.10 | "
                    "0.667x |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("**worse**"), std::string::npos) << md;
  EXPECT_NE(md.find("1 cells: 1 worse than -2%"), std::string::npos) << md;
}

}  // namespace
}  // namespace ctxstore::bench
