// Closed-loop load generator shared by every system the harness measures
// (ctxstore, redis, the filesystem store): N worker threads, each issuing
// one operation at a time, with per-operation latency recorded, so that the
// systems are compared with exactly the same driver.
#pragma once

#include <chrono>
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

// For drivers that are not a thread per worker (bench/resp_mux.h): the
// rounds of spec, each run by `round` with the round's share of the time
// and operations and the iteration its workers start from, summed up as
// RunLoad sums its own.
using RoundFn = std::function<LoadResult(const LoadSpec& round_spec, uint64_t first_iteration)>;
LoadResult RunRounds(const LoadSpec& spec, const RoundFn& round);

// One worker's operations in a round.
struct OpTally {
  // Bound on latency samples kept: beyond it every other sample is dropped
  // (uniformly thinning), so memory stays bounded on long runs.
  static constexpr size_t kMaxSamplesPerWorker = 1 << 20;

  uint64_t ops = 0;
  uint64_t bytes = 0;
  uint64_t errors = 0;
  std::string first_error;
  std::vector<double> latencies_us;
  uint64_t sample_stride = 1;

  // Counts the worker's `iteration`th operation, and keeps its latency when
  // the iteration falls on the sampling stride.
  void Record(const Result<uint64_t>& moved, uint64_t iteration, double latency_us);
};

// A round's result from its workers' tallies; it lasted from start until
// the last worker ended (ends[w]).
LoadResult SumRound(const std::vector<OpTally>& tallies,
                    std::chrono::steady_clock::time_point start,
                    const std::vector<std::chrono::steady_clock::time_point>& ends);

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
