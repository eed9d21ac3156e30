// compare.json as markdown (bench/compare.h): what was compared, then one
// row per cell. Everything is read from the JSON, so that compare.md can
// never say something compare.json does not.
#include <cstdio>
#include <sstream>

#include "bench/compare.h"

namespace ctxstore::bench {
namespace {

using json = nlohmann::json;

// j[key], or null when j has no such field (the const operator[] of a
// missing key is undefined): compare.md is written from a partial
// compare.json too.
const json& At(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

// Throughput: GB/s with two decimals, op/s whole.
std::string Throughput(const json& cell, const json& v) {
  if (!v.is_number()) return "–";
  return Fmt(cell.value("unit", "") == "op/s" ? "%.0f" : "%.2f", v.get<double>());
}

// Latency: one decimal under 100 µs (small operations), whole above.
std::string Micros(const json& v) {
  if (!v.is_number() || v.get<double>() <= 0) return "–";
  return Fmt(v.get<double>() < 100 ? "%.1f" : "%.0f", v.get<double>());
}

std::string Spread(const json& cell, const json& side) {
  if (side.value("rounds", 0) == 0) return "–";
  return Throughput(cell, At(side, "min")) + "–" + Throughput(cell, At(side, "max"));
}

std::string RatioText(const json& ratio) {
  return ratio.is_number() ? Fmt("%.3f", ratio.get<double>()) + "x" : "–";
}

std::string VerdictCell(const json& cell) {
  const std::string v = cell.value("verdict", "");
  if (!cell.value("worse", false)) return v;
  std::string bold = "**";  // what a reader looks for first
  bold += v;
  bold += "**";
  return bold;
}

// "`PATH` sha256 0123abcd…, version V, Release build of SOURCE at COMMIT (dirty)".
std::string Identity(const json& id) {
  std::string s = "`";
  s += id.value("resolved_path", id.value("path", ""));
  s += "`";
  const std::string sha = id.value("sha256", "");
  if (!sha.empty()) s += ", sha256 " + sha.substr(0, 16) + "…";
  if (id.contains("modified")) s += ", built " + id.value("modified", "");
  if (At(id, "version").is_string()) s += ", version " + At(id, "version").get<std::string>();
  const json& b = At(id, "build");
  if (b.is_object()) {
    s += ", " + b.value("build_type", "") + " build of `" + b.value("source_dir", "") + "`";
    if (b.contains("source_commit")) {
      s += " at " + b.value("source_commit", "").substr(0, 12) + " (" +
           b.value("source_branch", "") + (b.value("source_dirty", false) ? ", dirty" : "") + ")";
    }
  }
  return s;
}

std::string SummaryLine(const json& c) {
  const json& s = At(c, "summary");
  const double pct = At(c, "meta").value("max_regression_pct", 0.0);
  std::string line =
      std::to_string(s.value("cells", 0)) + " cells: " + std::to_string(s.value("worse", 0)) +
      " worse than -" + Fmt("%g", pct) + "% (" + std::to_string(s.value("worse_outside_noise", 0)) +
      " outside the noise), " + std::to_string(s.value("better", 0)) + " better than +" +
      Fmt("%g", pct) + "%, " + std::to_string(s.value("errors", 0)) + " without a figure";
  if (At(s, "lowest_ratio").is_object()) {
    const json& low = At(s, "lowest_ratio");
    line += "; lowest ratio " + Fmt("%.3f", low.value("ratio", 0.0)) + "x (" +
            low.value("section", "") + " " + low.value("cell", "") + ")";
  }
  return line + ".";
}

}  // namespace

std::string FormatCompareTable(const json& c) {
  std::ostringstream md;
  md << "| section | cell | unit | baseline | min–max | candidate | min–max | ratio | p50 µs A → B "
        "| p99 µs A → B | verdict |\n";
  md << "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n";
  for (const json& cell : c.value("cells", json::array())) {
    const json& a = At(cell, "baseline");
    const json& b = At(cell, "candidate");
    md << "| " << cell.value("section", "") << " | " << cell.value("cell", "") << " | "
       << cell.value("unit", "") << " | " << Throughput(cell, At(a, "median")) << " | "
       << Spread(cell, a) << " | " << Throughput(cell, At(b, "median")) << " | " << Spread(cell, b)
       << " | " << RatioText(At(cell, "ratio")) << " | " << Micros(At(a, "p50_us")) << " → "
       << Micros(At(b, "p50_us")) << " | " << Micros(At(a, "p99_us")) << " → "
       << Micros(At(b, "p99_us")) << " | " << VerdictCell(cell) << " |\n";
  }
  md << "\n" << SummaryLine(c) << "\n";
  return md.str();
}

std::string FormatCompareMarkdown(const json& c) {
  const json& m = At(c, "meta");
  const json& machine = At(m, "machine");
  std::ostringstream md;
  md << "# ctxstore-bench compare\n\n";
  md << "- date: " << m.value("date", "") << "\n";
  md << "- machine: " << machine.value("cpu", "") << ", " << machine.value("cores", 0) << " cores, "
     << machine.value("memory", "") << ", " << machine.value("kernel", "") << "\n";
  md << "- command: `" << m.value("command", "") << "`\n";
  md << "- mode: " << m.value("mode", "") << "; rounds: " << m.value("rounds_done", 0) << " of "
     << m.value("rounds", 0) << ", " << m.value("order", "")
     << "; each run on a fresh server and data folder\n";
  md << "- baseline (A): " << Identity(At(c, "baseline")) << "\n";
  md << "- candidate (B): " << Identity(At(c, "candidate")) << "\n";
  if (c.value("identical_binaries", false)) md << "- the two binaries are identical\n";
  md << "- elapsed: " << Fmt("%.0f", m.value("elapsed_s", 0.0)) << " s\n\n";
  md << "Each figure is the median of a binary's rounds (GB/s or op/s; p50 and p99 are the "
        "medians of the rounds' percentiles); min–max is the spread of its rounds; ratio = "
        "B / A. **worse**: B's median is below A's by more than "
     << Fmt("%g", m.value("max_regression_pct", 0.0))
     << "%; \"within noise\": the two spreads overlap.\n\n";
  md << FormatCompareTable(c);
  return md.str();
}

}  // namespace ctxstore::bench
