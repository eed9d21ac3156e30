#include "bench/tool_output.h"

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

namespace ctxstore::bench {
namespace {

using json = nlohmann::json;

// Splits one CSV line of double-quoted fields ("a","b") into its fields.
std::vector<std::string> CsvFields(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      fields.push_back(field);
      field.clear();
    } else if (c != '\r') {
      field += c;
    }
  }
  fields.push_back(field);
  return fields;
}

// The number in field `column`, or NaN when absent or not a number.
double Field(const std::vector<std::string>& fields, int column) {
  if (column < 0 || static_cast<size_t>(column) >= fields.size()) return std::nan("");
  const char* begin = fields[static_cast<size_t>(column)].c_str();
  char* end = nullptr;
  const double v = std::strtod(begin, &end);
  return end == begin ? std::nan("") : v;
}

}  // namespace

Result<double> ParseIperf3Gbps(const std::string& json_text) {
  const json out = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded()) return Status::Corrupt("iperf3: unparsable output");
  if (out.contains("error")) return Status::Internal("iperf3: " + out["error"].dump());
  if (!out.contains("end") || !out["end"].contains("sum_received") ||
      !out["end"]["sum_received"].contains("bits_per_second") ||
      !out["end"]["sum_received"]["bits_per_second"].is_number()) {
    return Status::Corrupt("iperf3: no end.sum_received.bits_per_second");
  }
  return out["end"]["sum_received"]["bits_per_second"].get<double>() / 8 / 1e9;
}

Result<FioFigures> ParseFioFigures(const std::string& text, const std::string& direction) {
  const size_t brace = text.find('{');
  if (brace == std::string::npos) return Status::Corrupt("fio: no JSON document");
  const json out = json::parse(text.substr(brace), nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded() || !out.contains("jobs") || !out["jobs"].is_array() ||
      out["jobs"].empty()) {
    return Status::Corrupt("fio: no jobs in the output");
  }
  const json& job = out["jobs"][0];
  if (job.value("error", 0) != 0) {
    return Status::IoError("fio: job error " + std::to_string(job.value("error", 0)));
  }
  if (!job.contains(direction) || !job[direction].contains("bw_bytes") ||
      !job[direction]["bw_bytes"].is_number()) {
    return Status::Corrupt("fio: no " + direction + ".bw_bytes");
  }
  FioFigures f;
  f.gbps = job[direction]["bw_bytes"].get<double>() / 1e9;
  if (job.contains("sync") && job["sync"].contains("lat_ns")) {
    const json& lat = job["sync"]["lat_ns"];
    f.syncs = lat.value("N", uint64_t{0});
    if (f.syncs > 0) {
      f.sync_mean_us = lat.value("mean", 0.0) / 1e3;
      if (lat.contains("percentile") && lat["percentile"].contains("99.000000")) {
        f.sync_p99_us = lat["percentile"]["99.000000"].get<double>() / 1e3;
      }
    }
  }
  return f;
}

Result<double> ParseFioGbps(const std::string& text, const std::string& direction) {
  Result<FioFigures> f = ParseFioFigures(text, direction);
  if (!f.ok()) return f.status();
  return f->gbps;
}

Result<std::vector<RedisBenchmarkRow>> ParseRedisBenchmarkCsv(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  int rps = -1, avg = -1, p50 = -1, p99 = -1;
  bool header = false;
  std::vector<RedisBenchmarkRow> rows;
  while (std::getline(in, line)) {
    // Progress lines end in '\r' and are overwritten on a terminal: what
    // follows the last one is the line.
    while (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t cr = line.rfind('\r');
    if (cr != std::string::npos) line.erase(0, cr + 1);
    if (line.empty() || line[0] != '"') continue;  // progress lines, blank lines
    const std::vector<std::string> fields = CsvFields(line);
    if (!header) {
      for (size_t i = 0; i < fields.size(); ++i) {
        const int c = static_cast<int>(i);
        if (fields[i] == "rps") rps = c;
        if (fields[i] == "avg_latency_ms") avg = c;
        if (fields[i] == "p50_latency_ms") p50 = c;
        if (fields[i] == "p99_latency_ms") p99 = c;
      }
      if (rps < 0 || p50 < 0) return Status::Corrupt("redis-benchmark: no rps/p50 columns");
      header = true;
      continue;
    }
    RedisBenchmarkRow row;
    row.test = fields[0];
    row.requests_per_s = Field(fields, rps);
    row.avg_ms = Field(fields, avg);
    row.p50_ms = Field(fields, p50);
    row.p99_ms = Field(fields, p99);
    if (!std::isfinite(row.requests_per_s) || !std::isfinite(row.p50_ms)) {
      return Status::Corrupt("redis-benchmark: bad line: " + line);
    }
    rows.push_back(row);
  }
  if (!header) return Status::Corrupt("redis-benchmark: no CSV header");
  if (rows.empty()) return Status::Corrupt("redis-benchmark: no result line");
  return rows;
}

CrossCheck CrossCheckFigures(double tool_figure, double own_figure, double tolerance) {
  CrossCheck c;
  if (!(tool_figure > 0) || !std::isfinite(own_figure)) return c;
  c.ratio = own_figure / tool_figure;
  c.valid = c.ratio >= 1 - tolerance;
  return c;
}

}  // namespace ctxstore::bench
