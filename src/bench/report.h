// Turning the harness's results.json into verdicts and documents: the
// targets of issue 4 (one entry per condition of its targets table), a
// markdown report and gnuplot charts.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ctxstore::bench {

// [{"name", "measured", "target", "comparison" (">=" or "<="), "unit",
//   "met", "verdict", "detail"}]. A figure this run did not measure gives
// measured null and met false. met needs a full run, rows of at least three
// rounds and a valid baseline; verdict says which failed ("met", "unmet",
// "not measured", "baseline invalid: ...", "... fewer than 3 rounds",
// "not measured at full size (quick run)").
nlohmann::json ComputeTargets(const nlohmann::json& results);
// The resp section's part of them (bench/targets_resp.cc), which
// ComputeTargets appends: ctxstore's Redis front end / redis-server.
nlohmann::json RespTargets(const nlohmann::json& results);

// The whole report as markdown (meta, targets, limits, data path with
// ratios, flash, small operations, scale, replay).
std::string FormatMarkdown(const nlohmann::json& results);

// The growth section's chart data: x -> series -> GB/s. sweep
// "value_size": x is the value size in KiB, from the rows at the sweep's
// connection count; "connections": x is the connection count, from the rows
// at the sweep's value size. Series "ctxstore PUT", "ctxstore GET",
// "redis-benchmark SET", "redis-benchmark GET"; rows with errors are left out.
using ChartPoints = std::map<double, std::map<std::string, double>>;
ChartPoints GrowthChartPoints(const nlohmann::json& growth, const std::string& sweep);

// Writes OUT/*.png with gnuplot (data and scripts beside them). Returns the
// file names written; a missing gnuplot or a failed plot is a warning.
std::vector<std::string> WriteCharts(const nlohmann::json& results, const std::string& out_dir,
                                     std::vector<std::string>* warnings);

}  // namespace ctxstore::bench
