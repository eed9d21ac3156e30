// Closed-loop load generator shared by every system the harness measures
// (ctxstore, redis, the filesystem store): N worker threads, each issuing
// one operation at a time, with per-operation latency recorded, so that the
// systems are compared with exactly the same driver.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ctxstore/status.h"

namespace ctxstore::bench {

// The median of values (copied); 0 when empty.
double Median(std::vector<double> values);

struct LoadResult {
  uint64_t ops = 0;
  uint64_t bytes = 0;  // value bytes moved (as reported by the operations)
  uint64_t errors = 0;
  std::string first_error;  // "" when none
  double seconds = 0;
  double p50_us = 0;
  double p99_us = 0;

  // Per round (LoadSpec::rounds); gbps() and ops_per_s() are their medians.
  std::vector<double> round_gbps;
  std::vector<double> round_ops_per_s;
  std::vector<double> latencies_us;  // of one round, while it is summed up

  double gbps() const {
    if (!round_gbps.empty()) return Median(round_gbps);
    return seconds > 0 ? static_cast<double>(bytes) / seconds / 1e9 : 0;
  }
  double ops_per_s() const {
    if (!round_ops_per_s.empty()) return Median(round_ops_per_s);
    return seconds > 0 ? static_cast<double>(ops) / seconds : 0;
  }
};

struct LoadSpec {
  uint32_t workers = 1;
  uint64_t duration_ms = 1000;  // stop after this long...
  uint64_t max_ops = 0;         // ...or after this many operations in all (0 = no limit)
  uint64_t min_ops = 1;         // but never before each worker has done this many
  // The time (and max_ops) is split into this many rounds, run one after
  // the other; throughput is the median of the rounds', so that one stall
  // of a noisy machine does not decide a figure. Latency percentiles are
  // over every operation of every round.
  uint32_t rounds = 3;
};

// One operation of worker `worker` (0..workers-1), its `iteration`th. Returns
// the value bytes it moved; an error counts in LoadResult::errors and the
// worker goes on.
using LoadOp = std::function<Result<uint64_t>(uint32_t worker, uint64_t iteration)>;

// Runs the load and returns throughput and latency percentiles. Each worker
// is a thread; workers start together.
LoadResult RunLoad(const LoadSpec& spec, const LoadOp& op);

// Percentile p (0..100) of samples (sorted in place), in the samples' unit.
double Percentile(std::vector<double>& samples, double p);

// Fills a value with non-repeating bytes from `seed`, so that nothing on the
// path (compression, deduplication) can shortcut the copy.
void FillValue(void* data, size_t len, uint64_t seed);

// "64 KiB", "4 MiB", "512 B".
std::string SizeLabel(uint64_t bytes);

// "1.23 GB/s, 456 op/s, p50 78 us, p99 90 us" for the progress display.
std::string Summary(const LoadResult& r);

// {"ops", "bytes", "errors", "seconds", "gbps", "ops_per_s", "p50_us", "p99_us"
//  [, "first_error"]}.
nlohmann::json ToJson(const LoadResult& r);

}  // namespace ctxstore::bench
