// The resp section's targets (bench/report.h RespTargets): ctxstore's Redis
// front end against redis-server, both measured by redis-benchmark with the
// same arguments in the same run (bench/resp_bench.cc).
#include <algorithm>
#include <cmath>
#include <string>

#include "bench/report.h"

namespace ctxstore::bench {
namespace {

using json = nlohmann::json;

constexpr int kMinRounds = 3;

struct RespTarget {
  const char* cell;  // the row's "cell"
  const char* name;
  double target;
  const char* comparison;
};

// SET/GET 1 MiB and 4 MiB x4 at least redis-server's throughput; 4 KiB x16
// P16 at least 0.7x; PING p50 at most 1.2x; MATCHPREFIX of 64 keys p50 at
// most 1.5x redis-server's PING p50.
constexpr RespTarget kTargets[] = {
    {"SET 1 MiB x4 P1", "RESP SET 1 MiB, 4 connections / redis-server SET", 1.0, ">="},
    {"GET 1 MiB x4 P1", "RESP GET 1 MiB, 4 connections / redis-server GET", 1.0, ">="},
    {"SET 4 MiB x4 P1", "RESP SET 4 MiB, 4 connections / redis-server SET", 1.0, ">="},
    {"GET 4 MiB x4 P1", "RESP GET 4 MiB, 4 connections / redis-server GET", 1.0, ">="},
    {"SET 4 KiB x16 P16", "RESP SET 4 KiB, 16 connections, P16 / redis-server SET", 0.7, ">="},
    {"GET 4 KiB x16 P16", "RESP GET 4 KiB, 16 connections, P16 / redis-server GET", 0.7, ">="},
    {"PING x1", "RESP PING p50, 1 connection / redis-server PING p50", 1.2, "<="},
    {"CTX.MATCHPREFIX 64 keys x1 / redis PING",
     "RESP CTX.MATCHPREFIX of 64 keys p50 / redis-server PING p50", 1.5, "<="},
};

const json* FindRow(const json& resp, const std::string& cell) {
  if (!resp.is_object() || !resp.contains("rows")) return nullptr;
  for (const json& row : resp["rows"]) {
    if (row.value("cell", "") == cell) return &row;
  }
  return nullptr;
}

json TargetOf(const RespTarget& t, const json* row) {
  const bool throughput = std::string(t.comparison) == ">=";
  json out = {{"name", t.name},
              {"target", t.target},
              {"comparison", t.comparison},
              {"unit", "x"},
              {"detail", throughput ? "ops/s over ops/s (redis-benchmark, same run)"
                                    : "µs over µs (redis-benchmark, same run)"}};
  if (row == nullptr || row->contains("error") || !(*row)["ratio"].is_number() ||
      !std::isfinite((*row)["ratio"].get<double>())) {
    out["measured"] = nullptr;
    out["met"] = false;
    out["verdict"] = "not measured";
    return out;
  }
  const double measured = (*row)["ratio"].get<double>();
  const bool reached = throughput ? measured >= t.target : measured <= t.target;
  const int rounds =
      std::min((*row)["redis"].value("rounds", 0), (*row)["ctxstore"].value("rounds", 0));
  out["measured"] = measured;
  out["met"] = reached && rounds >= kMinRounds;
  out["verdict"] = rounds < kMinRounds ? "fewer than 3 rounds" : reached ? "met" : "unmet";
  return out;
}

}  // namespace

json RespTargets(const json& results) {
  json targets = json::array();
  const json resp = results.contains("resp") ? results["resp"] : json::object();
  for (const RespTarget& t : kTargets) targets.push_back(TargetOf(t, FindRow(resp, t.cell)));
  const RespTarget lm = {"", "lm:// GET 4 MiB, 4 connections / native GET, same server", 0.85,
                         ">="};
  json lm_row = resp.contains("lm") ? resp["lm"] : json::object();
  if (lm_row.contains("native")) {  // TargetOf reads the rounds under "redis" and "ctxstore"
    lm_row["redis"] = lm_row["native"];
    lm_row["ctxstore"] = lm_row["lm"];
  }
  json lm_target = TargetOf(lm, lm_row.contains("ratio") ? &lm_row : nullptr);
  lm_target["detail"] = "ops/s over ops/s (4 threads, blocking sockets; native GetInto)";
  targets.push_back(lm_target);
  return targets;
}

}  // namespace ctxstore::bench
