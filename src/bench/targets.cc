// Issue 4's targets table, evaluated on one run's results.json. Every
// figure is a ratio (or a bound) within the run, so that noise common to
// the whole run cancels out.
#include <cmath>
#include <optional>
#include <string>

#include "bench/report.h"

namespace ctxstore::bench {
namespace {

using json = nlohmann::json;
constexpr uint64_t k4MiB = 4ull << 20;

std::optional<double> Number(const json& j, const char* field) {
  if (!j.is_object() || !j.contains(field) || !j[field].is_number()) return std::nullopt;
  return j[field].get<double>();
}

// The data path row of system/op at value_bytes and connections.
std::optional<double> RowGbps(const json& section, const std::string& system, const std::string& op,
                              uint64_t value_bytes, uint32_t connections) {
  if (!section.is_object() || !section.contains("rows")) return std::nullopt;
  for (const json& r : section["rows"]) {
    if (r.value("system", "") == system && r.value("op", "") == op &&
        r.value("value_bytes", uint64_t{0}) == value_bytes &&
        r.value("connections", uint32_t{0}) == connections && r.value("errors", uint64_t{1}) == 0) {
      return Number(r, "gbps");
    }
  }
  return std::nullopt;
}

std::optional<double> TcpGbps(const json& limits, uint32_t streams) {
  if (!limits.is_object() || !limits.contains("tcp")) return std::nullopt;
  for (const json& t : limits["tcp"]) {
    if (t.value("streams", 0u) == streams) return Number(t, "gbps");
  }
  return std::nullopt;
}

std::optional<double> Ratio(std::optional<double> a, std::optional<double> b) {
  if (!a || !b || *b <= 0) return std::nullopt;
  return *a / *b;
}

json Target(const std::string& name, std::optional<double> measured, double target,
            const std::string& comparison, const std::string& unit, const std::string& detail) {
  json t = {{"name", name},
            {"target", target},
            {"comparison", comparison},
            {"unit", unit},
            {"detail", detail}};
  if (measured && std::isfinite(*measured)) {
    t["measured"] = *measured;
    t["met"] = comparison == ">=" ? *measured >= target : *measured <= target;
  } else {
    t["measured"] = nullptr;
    t["met"] = false;
  }
  return t;
}

const json& Section(const json& results, const char* name) {
  static const json kEmpty = json::object();
  return results.contains(name) ? results[name] : kEmpty;
}

// GET and PUT of 4 MiB at 4 connections against loopback TCP and redis.
void AddDataPathTargets(const json& results, json* targets) {
  const json& limits = Section(results, "limits");
  const json& datapath = Section(results, "datapath");
  const json& redis = Section(results, "redis");
  auto get4 = RowGbps(datapath, "ctxstore", "get", k4MiB, 4);
  auto put4 = RowGbps(datapath, "ctxstore", "put", k4MiB, 4);
  auto tcp4 = TcpGbps(limits, 4);
  targets->push_back(Target("GET 4 MiB, 4 connections / loopback TCP, 4 streams", Ratio(get4, tcp4),
                            0.85, ">=", "x", "GB/s over GB/s"));
  targets->push_back(Target("GET 4 MiB, 4 connections / redis GET",
                            Ratio(get4, RowGbps(redis, "redis", "get", k4MiB, 4)), 1.4, ">=", "x",
                            "GB/s over GB/s, same driver"));
  targets->push_back(Target("PUT 4 MiB, 4 connections / loopback TCP, 4 streams", Ratio(put4, tcp4),
                            0.8, ">=", "x", "GB/s over GB/s"));
  targets->push_back(Target("PUT 4 MiB, 4 connections / redis SET",
                            Ratio(put4, RowGbps(redis, "redis", "put", k4MiB, 4)), 1.1, ">=", "x",
                            "GB/s over GB/s, same driver"));
}

// Flash-only GET and sustained sync PUT against fio on the same disk.
void AddFlashTargets(const json& results, json* targets) {
  const json& limits = Section(results, "limits");
  const json& flash = Section(results, "flash");
  std::optional<double> disk_read, disk_write;
  if (limits.contains("disk")) {
    disk_read = Number(limits["disk"], "read_gbps");
    disk_write = Number(limits["disk"], "write_gbps");
  }
  std::optional<double> flash_get, sync_put;
  if (flash.contains("flash_get")) flash_get = Number(flash["flash_get"], "gbps");
  if (flash.contains("sync_put")) sync_put = Number(flash["sync_put"], "gbps");
  targets->push_back(Target("GET 4 MiB from flash only / fio O_DIRECT sequential read",
                            Ratio(flash_get, disk_read), 0.8, ">=", "x", "GB/s over GB/s"));
  targets->push_back(Target("sustained sync PUT 4 MiB / fio O_DIRECT sequential write",
                            Ratio(sync_put, disk_write), 0.7, ">=", "x", "GB/s over GB/s"));
}

// MATCH_PREFIX of 64 keys against a redis PING, both p50 on one connection.
void AddSmallOpsTarget(const json& results, json* targets) {
  const json& redis = Section(results, "redis");
  std::optional<double> match_p50, ping_p50;
  if (results.contains("small") && results["small"].contains("rows")) {
    for (const json& r : results["small"]["rows"]) {
      if (r.value("op", "") == "match_prefix") match_p50 = Number(r, "p50_us");
    }
  }
  if (redis.contains("latency")) {
    for (const json& r : redis["latency"]) {
      if (r.value("op", "") == "ping") ping_p50 = Number(r, "p50_us");
    }
  }
  targets->push_back(Target("MATCH_PREFIX of 64 keys p50 / redis PING p50",
                            Ratio(match_p50, ping_p50), 1.5, "<=", "x", "µs over µs"));
}

// Index memory and restart time at the largest object count measured.
void AddScaleTargets(const json& results, json* targets) {
  std::optional<double> index_bytes, restart_s;
  std::string scale_detail = "not measured";
  if (results.contains("scale") && results["scale"].contains("rows") &&
      !results["scale"]["rows"].empty()) {
    const json& last = results["scale"]["rows"].back();
    index_bytes = Number(last, "index_bytes_per_object_minus_key");
    auto clean = Number(last, "restart_clean_s");
    auto kill9 = Number(last, "restart_kill9_s");
    if (clean && kill9)
      restart_s = std::max(*clean, *kill9);
    else
      restart_s = clean ? clean : kill9;
    scale_detail = "at " + std::to_string(last.value("objects", uint64_t{0})) + " objects";
  }
  targets->push_back(
      Target("index memory per object, less the key", index_bytes, 128, "<=", "B", scale_detail));
  targets->push_back(Target("restart with 1M objects (slower of clean and kill -9)", restart_s, 5,
                            "<=", "s", scale_detail));
}

// Per trace, at 6,000 blocks: LRU's hit rate, the best policy and its rate,
// and Belady's. Judged on the whole traces (whole_trace_sim) when only a
// prefix was replayed online, else on the replayed prefix's simulation.
struct BestPolicies {
  json by_trace = json::object();  // trace -> {lru, best, policy, belady}
  std::string basis = "replayed prefix";

  void Consider(const std::string& trace, const std::string& policy, double rate,
                std::optional<double> belady) {
    json& b = by_trace[trace];
    if (policy == "belady") {
      b["belady"] = rate;
      return;
    }
    if (belady) b["belady"] = *belady;
    if (policy == "lru") b["lru"] = rate;
    if (!b.contains("best") || rate > b["best"].get<double>()) {
      b["best"] = rate;
      b["policy"] = policy;
    }
  }
};

BestPolicies FindBestPolicies(const json& replay) {
  BestPolicies best;
  const json& whole = replay.value("whole_trace_sim", json::array());
  if (!whole.empty()) best.basis = "whole trace, offline";
  if (whole.empty()) {
    for (const json& r : replay.value("rows", json::array())) {
      if (r.value("capacity_blocks", uint64_t{0}) != 6000 || !Number(r, "sim_hit_rate")) continue;
      best.Consider(r.value("trace", ""), r.value("policy", ""), *Number(r, "sim_hit_rate"),
                    Number(r, "belady_hit_rate"));
    }
  }
  for (const json& t : whole) {
    for (const json& r : t.value("results", json::array())) {
      if (r.value("capacity_blocks", uint64_t{0}) != 6000 || !Number(r, "hit_rate")) continue;
      best.Consider(r.value("trace", ""), r.value("policy", ""), *Number(r, "hit_rate"),
                    std::nullopt);
    }
  }
  return best;
}

// The best policy against LRU on the trace whose name contains `trace`.
json PolicyTarget(const BestPolicies& best, const char* trace) {
  std::optional<double> ratio;
  std::string detail = "6,000 blocks not simulated in this run";
  for (auto& [name, b] : best.by_trace.items()) {
    if (name.find(trace) == std::string::npos || !b.contains("lru") || !b.contains("best")) {
      continue;
    }
    const double best_rate = b["best"].get<double>(), lru = b["lru"].get<double>();
    const double belady = b.value("belady", 0.0);
    ratio = Ratio(best_rate, lru);
    char buf[200];
    std::snprintf(buf, sizeof(buf),
                  "%s; best: %s at %.1f%%, LRU %.1f%%, Belady %.1f%%, best/Belady %.2f",
                  best.basis.c_str(), b["policy"].get<std::string>().c_str(), 100 * best_rate,
                  100 * lru, 100 * belady, belady > 0 ? best_rate / belady : 0);
    detail = buf;
  }
  return Target(std::string("best policy / LRU hit rate at 6,000 blocks, ") + trace, ratio, 1.25,
                ">=", "x", detail);
}

// The online hit rate equals the offline simulation; the best policy beats
// LRU at 6,000 blocks on each trace.
void AddReplayTargets(const json& results, json* targets) {
  std::optional<double> worst_diff;
  BestPolicies best;
  if (results.contains("replay")) {
    const json& replay = results["replay"];
    for (const json& r : replay.value("rows", json::array())) {
      auto diff = Number(r, "diff");
      if (diff) worst_diff = std::max(worst_diff.value_or(0), std::fabs(*diff));
    }
    best = FindBestPolicies(replay);
  }
  targets->push_back(Target("trace replay hit rate vs offline simulation (largest |difference|)",
                            worst_diff, 0.01, "<=", "", "hit rate, absolute"));
  for (const char* trace : {"conversation", "synthetic"}) {
    targets->push_back(PolicyTarget(best, trace));
  }
}

}  // namespace

json ComputeTargets(const json& results) {
  json targets = json::array();
  AddDataPathTargets(results, &targets);
  AddFlashTargets(results, &targets);
  AddSmallOpsTarget(results, &targets);
  AddScaleTargets(results, &targets);
  AddReplayTargets(results, &targets);
  return targets;
}

}  // namespace ctxstore::bench
