// Charts of a harness run, drawn by gnuplot (Debian's gnuplot-nox) from
// data files written beside them, so a chart can be redrawn or restyled
// without running the benchmark again.
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "bench/loadgen.h"
#include "bench/process.h"
#include "bench/report.h"

namespace ctxstore::bench {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

struct Chart {
  std::string name;  // file stem
  std::string title, xlabel, ylabel;
  bool logx = false;
  // column 1 is x; one series per further column.
  std::vector<std::string> series;
  ChartPoints points;
};

// Writes NAME.dat and NAME.gp and runs gnuplot; "" on success, else why not.
std::string Draw(const Chart& c, const std::string& gnuplot, const fs::path& dir) {
  std::ofstream dat(dir / (c.name + ".dat"));
  dat << "# x";
  for (const std::string& s : c.series) dat << " \"" << s << "\"";
  dat << "\n";
  for (const auto& [x, ys] : c.points) {
    dat << x;
    for (const std::string& s : c.series) {
      auto it = ys.find(s);
      dat << " " << (it == ys.end() ? std::string("NaN") : std::to_string(it->second));
    }
    dat << "\n";
  }
  dat.close();
  std::ofstream gp(dir / (c.name + ".gp"));
  gp << "set terminal pngcairo size 900,560 noenhanced\nset output '" << c.name << ".png'\n"
     << "set title '" << c.title << "'\nset xlabel '" << c.xlabel << "'\nset ylabel '" << c.ylabel
     << "'\nset grid\nset key outside right\nset datafile missing 'NaN'\n"
     << (c.logx ? "set logscale x 2\n" : "") << "plot ";
  for (size_t i = 0; i < c.series.size(); ++i) {
    gp << (i ? ", " : "") << "'" << c.name << ".dat' using 1:" << i + 2
       << " with linespoints lw 2 title '" << c.series[i] << "'";
  }
  gp << "\n";
  gp.close();
  auto run = RunCommand(
      {"/bin/sh", "-c", "cd '" + dir.string() + "' && '" + gnuplot + "' '" + c.name + ".gp'"},
      60000);
  if (!run.ok()) return run.status().ToString();
  if (run->exit_code != 0) return "gnuplot failed on " + c.name + ".gp: " + run->err;
  return "";
}

// GB/s against value size at `conns` connections, one line per system.
Chart DataPathChart(const json& r, const std::string& op, uint32_t conns) {
  Chart c{"datapath_" + op, op + " throughput, " + std::to_string(conns) + " connections",
          "value size (KiB)", "GB/s"};
  c.logx = true;
  std::set<std::string> systems;
  for (const char* section : {"datapath", "redis", "fs"}) {
    if (!r.contains(section) || !r[section].contains("rows")) continue;
    for (const json& row : r[section]["rows"]) {
      if (row.value("op", "") != op || row.value("connections", 0u) != conns) continue;
      std::string system = row.value("system", "");
      // The file store runs in the harness's process: no network on its path.
      if (system.rfind("fs", 0) == 0) system += " (local, no network)";
      systems.insert(system);
      c.points[row.value("value_bytes", 0.0) / 1024][system] = row.value("gbps", 0.0);
    }
  }
  c.series.assign(systems.begin(), systems.end());
  if (r.contains("limits") && r["limits"].contains("tcp")) {
    for (const json& t : r["limits"]["tcp"]) {
      if (t.value("streams", 0u) != conns) continue;
      c.series.push_back("loopback TCP");
      for (auto& [x, ys] : c.points) ys["loopback TCP"] = t.value("gbps", 0.0);
    }
  }
  return c;
}

// Throughput against the growth section's sweep, one line per system and
// operation.
Chart GrowthChart(const json& growth, const std::string& sweep) {
  const bool by_size = sweep == "value_size";
  Chart c{"growth_" + sweep, "", by_size ? "value size (KiB)" : "connections", "GB/s"};
  c.title = by_size ? "throughput vs value size, " +
                          std::to_string(growth.value("size_sweep_connections", 0u)) +
                          " connections"
                    : "throughput vs connections, " +
                          SizeLabel(growth.value("connection_sweep_value_bytes", uint64_t{0})) +
                          " values";
  c.logx = true;
  c.points = GrowthChartPoints(growth, sweep);
  std::set<std::string> series;
  for (const auto& [x, ys] : c.points) {
    for (const auto& [name, y] : ys) series.insert(name);
  }
  c.series.assign(series.begin(), series.end());
  return c;
}

// Hit rate against capacity for one trace, one line per policy plus Belady:
// the whole trace simulated offline when only a prefix was replayed online
// (the online replay equals the simulation; the targets check that), else
// the online replay.
Chart ReplayChart(const json& replay, const std::string& trace) {
  std::string stem = trace.substr(0, trace.find('.'));
  Chart c{"replay_" + stem, "hit rate on " + trace, "capacity (blocks of 512 tokens)", "hit rate"};
  std::set<std::string> policies;
  auto add = [&](double capacity, const std::string& policy, double rate) {
    if (policy == "infinite") return;
    if (policy != "belady") policies.insert(policy);
    c.points[capacity][policy] = rate;
  };
  bool whole = false;
  for (const json& t : replay.value("whole_trace_sim", json::array())) {
    if (t.value("trace", "") != trace) continue;
    whole = true;
    for (const json& r : t.value("results", json::array())) {
      add(r.value("capacity_blocks", 0.0), r.value("policy", ""), r.value("hit_rate", 0.0));
    }
  }
  if (whole) {
    c.title += " (whole trace, offline)";
  } else {
    for (const json& row : replay.value("rows", json::array())) {
      if (row.value("trace", "") != trace) continue;
      add(row.value("capacity_blocks", 0.0), row.value("policy", ""), row.value("hit_rate", 0.0));
      add(row.value("capacity_blocks", 0.0), "belady", row.value("belady_hit_rate", 0.0));
    }
  }
  c.series.assign(policies.begin(), policies.end());
  c.series.push_back("belady");
  return c;
}

}  // namespace

ChartPoints GrowthChartPoints(const json& growth, const std::string& sweep) {
  ChartPoints points;
  const bool by_size = sweep == "value_size";
  const uint32_t conns = growth.value("size_sweep_connections", 0u);
  const uint64_t value_bytes = growth.value("connection_sweep_value_bytes", uint64_t{0});
  for (const json& row : growth.value("rows", json::array())) {
    if (row.contains("error") || row.value("errors", uint64_t{1}) != 0 || !row.contains("gbps")) {
      continue;
    }
    const std::string system = row.value("system", ""), op = row.value("op", "");
    const uint64_t size = row.value("value_bytes", uint64_t{0});
    const uint32_t c = row.value("connections", 0u);
    if (by_size ? c != conns : size != value_bytes) continue;
    const std::string verb = op == "get" ? "GET" : system == "ctxstore" ? "PUT" : "SET";
    const double x = by_size ? static_cast<double>(size) / 1024 : c;
    points[x][system + " " + verb] = row["gbps"].get<double>();
  }
  return points;
}

std::vector<std::string> WriteCharts(const json& results, const std::string& out_dir,
                                     std::vector<std::string>* warnings) {
  std::vector<std::string> written;
  std::string gnuplot = FindExecutable("gnuplot");
  if (gnuplot.empty()) {
    warnings->push_back("gnuplot is not installed: no charts (apt install gnuplot-nox)");
    return written;
  }
  std::vector<Chart> charts;
  uint32_t conns = 1;
  for (uint32_t c : results["meta"].value("connections", std::vector<uint32_t>{1})) {
    if (c <= 4) conns = c;  // the targets' concurrency, or the nearest below
  }
  for (const char* op : {"get", "put"}) {
    Chart c = DataPathChart(results, op, conns);
    if (!c.points.empty()) charts.push_back(std::move(c));
  }
  if (results.contains("growth") && results["growth"].contains("rows")) {
    for (const char* sweep : {"value_size", "connections"}) {
      Chart c = GrowthChart(results["growth"], sweep);
      if (!c.points.empty()) charts.push_back(std::move(c));
    }
  }
  if (results.contains("replay") && results["replay"].contains("rows")) {
    std::set<std::string> traces;
    for (const json& row : results["replay"]["rows"]) traces.insert(row.value("trace", ""));
    for (const std::string& t : traces) charts.push_back(ReplayChart(results["replay"], t));
  }
  for (const Chart& c : charts) {
    std::string err = Draw(c, gnuplot, out_dir);
    if (err.empty()) {
      written.push_back(c.name + ".png");
    } else {
      warnings->push_back(err);
    }
  }
  return written;
}

}  // namespace ctxstore::bench
