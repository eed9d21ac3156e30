// What the public tools the harness runs print (iperf3 -J, fio
// --output-format=json, redis-benchmark --csv), parsed into figures, and the
// cross-check rule between a tool's figure and the harness's own driver.
// Pure functions, so that the parsing is tested on known outputs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ctxstore/status.h"

namespace ctxstore::bench {

// iperf3 -J: end.sum_received.bits_per_second as GB/s (10^9 bytes/s).
Result<double> ParseIperf3Gbps(const std::string& json_text);

// fio --output-format=json (--group_reporting, so jobs[0] is the sum of the
// jobs): bw_bytes of `direction` ("read" or "write") as GB/s. fio may print
// warnings before the JSON document; they are skipped.
Result<double> ParseFioGbps(const std::string& text, const std::string& direction);

// The same run with its syncs (--fdatasync=N): jobs[0].sync.lat_ns, whose N
// is the number of fdatasync calls (0, with zero latencies, when the run
// did not sync).
struct FioFigures {
  double gbps = 0;
  uint64_t syncs = 0;
  double sync_mean_us = 0;
  double sync_p99_us = 0;
};
Result<FioFigures> ParseFioFigures(const std::string& text, const std::string& direction);

// One line of redis-benchmark --csv.
struct RedisBenchmarkRow {
  std::string test;  // "SET", "GET"
  double requests_per_s = 0;
  double avg_ms = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

// redis-benchmark --csv (Redis 7: a header line naming the columns, then one
// quoted line per test). Columns are found by name, so that their order
// does not matter; a missing rps or p50 column is an error.
Result<std::vector<RedisBenchmarkRow>> ParseRedisBenchmarkCsv(const std::string& text);

// Two drivers measuring the same case: the harness's own baseline is valid
// unless it is more than `tolerance` (a fraction) below the tool's:
// own/tool >= 1 - tolerance. A harness that is weaker says more about its
// driver than about the server; a harness that is faster is a stronger
// baseline, and the targets use the higher of the two figures.
inline constexpr double kCrossCheckTolerance = 0.15;
struct CrossCheck {
  bool valid = false;
  double ratio = 0;  // own / tool; 0 when the tool's figure is not positive
};
CrossCheck CrossCheckFigures(double tool_figure, double own_figure,
                             double tolerance = kCrossCheckTolerance);

}  // namespace ctxstore::bench
