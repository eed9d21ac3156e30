// The arithmetic of `ctxstore-bench compare` (bench/compare.h): what one
// side's rounds of a cell come to, and the verdict on a candidate against
// its baseline. Pure functions, unit-tested (tests/unit/bench_compare_test.cc).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ctxstore::bench {

// One binary's rounds of one cell: the throughput of each round (GB/s or
// op/s) and its latency percentiles.
struct SideRounds {
  std::vector<double> throughput;
  std::vector<double> p50_us;
  std::vector<double> p99_us;
};

// What they come to: the median of each, and the spread (min, max) of the
// throughput. All 0 when there are no rounds.
struct SideSummary {
  size_t rounds = 0;
  double median = 0;
  double min = 0;
  double max = 0;
  double p50_us = 0;
  double p99_us = 0;
};
SideSummary Summarize(const SideRounds& rounds);

// The candidate against the baseline, on throughput (higher is better).
struct Verdict {
  bool valid = false;  // false: a side has no rounds or a zero median
  double ratio = 0;    // candidate median / baseline median
  double change_pct = 0;
  // The candidate's median is below the baseline's by more than the
  // threshold (above it, for better).
  bool worse = false;
  bool better = false;
  // The two min-max spreads overlap: the difference of the medians is no
  // larger than what the rounds of one binary already vary by.
  bool within_noise = false;
  // "worse", "worse, within noise", "better", "better, within noise",
  // "within noise", "within threshold" (the spreads apart, the medians
  // closer than the threshold) or "error".
  std::string label;
};
Verdict Judge(const SideSummary& baseline, const SideSummary& candidate, double max_regression_pct);

}  // namespace ctxstore::bench
