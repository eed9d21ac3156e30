#include "bench/compare_stats.h"

#include <algorithm>

#include "bench/loadgen.h"

namespace ctxstore::bench {

SideSummary Summarize(const SideRounds& rounds) {
  SideSummary s;
  s.rounds = rounds.throughput.size();
  if (s.rounds == 0) return s;
  s.median = Median(rounds.throughput);
  auto [lo, hi] = std::minmax_element(rounds.throughput.begin(), rounds.throughput.end());
  s.min = *lo;
  s.max = *hi;
  s.p50_us = Median(rounds.p50_us);
  s.p99_us = Median(rounds.p99_us);
  return s;
}

Verdict Judge(const SideSummary& baseline, const SideSummary& candidate,
              double max_regression_pct) {
  Verdict v;
  if (baseline.rounds == 0 || candidate.rounds == 0 || baseline.median <= 0) {
    v.label = "error";
    return v;
  }
  v.valid = true;
  v.ratio = candidate.median / baseline.median;
  v.change_pct = (v.ratio - 1) * 100;
  const double threshold = max_regression_pct / 100;
  v.worse = v.ratio < 1 - threshold;
  v.better = v.ratio > 1 + threshold;
  v.within_noise = candidate.min <= baseline.max && baseline.min <= candidate.max;
  if (v.worse || v.better) {
    v.label = v.worse ? "worse" : "better";
    if (v.within_noise) v.label += ", within noise";
  } else {
    v.label = v.within_noise ? "within noise" : "within threshold";
  }
  return v;
}

}  // namespace ctxstore::bench
