// results.json as markdown and gnuplot charts.
#include "bench/report.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "bench/loadgen.h"

namespace ctxstore::bench {
namespace {

using json = nlohmann::json;

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

std::string Num(const json& j, const char* field, const char* format = "%.2f") {
  if (!j.is_object() || !j.contains(field) || !j[field].is_number()) return "–";
  return Fmt(format, j[field].get<double>());
}

void Targets(std::ostringstream& md, const json& r) {
  md << "## Targets\n\n| what | measured | target | met |\n| --- | ---: | ---: | :---: |\n";
  for (const json& t : r.value("targets", json::array())) {
    std::string measured = t["measured"].is_number()
                               ? Fmt("%.3g", t["measured"].get<double>()) + t.value("unit", "")
                               : "not measured";
    md << "| " << t.value("name", "") << " (" << t.value("detail", "") << ") | " << measured
       << " | " << t.value("comparison", "") << " " << Fmt("%g", t.value("target", 0.0))
       << t.value("unit", "") << " | " << (t.value("met", false) ? "yes" : "**no**");
    const std::string verdict = t.value("verdict", "");
    if (verdict != "met" && verdict != "unmet" && !verdict.empty()) md << " (" << verdict << ")";
    md << " |\n";
  }
  md << "\n";
}

void Limits(std::ostringstream& md, const json& l) {
  if (!l.is_object()) return;
  md << "## Limits of this machine\n\n| limit | GB/s |\n| --- | ---: |\n";
  md << "| memcpy, one thread | " << Num(l, "memcpy_gbps") << " |\n";
  md << "| memcpy, " << l.value("memcpy_threads", 0) << " threads | "
     << Num(l, "memcpy_all_cores_gbps") << " |\n";
  md << "| AES-256-GCM seal / open, 4 MiB, one thread | " << Num(l, "aes_gcm_seal_gbps") << " / "
     << Num(l, "aes_gcm_open_gbps") << " |\n";
  md << "| **loopback TCP limit** (best below) | " << Num(l, "loopback_limit_gbps") << " |\n";
  for (const json& t : l.value("tcp_configs", json::array())) {
    md << "| loopback TCP, " << t.value("streams", 0) << " stream(s), "
       << (t.value("tool", "") == "iperf3" ? "iperf3 process pairs, -l 1M" : "socket blaster")
       << " | " << Num(t, "gbps") << " |\n";
  }
  if (l.contains("disk")) {
    const json& d = l["disk"];
    md << "| **flash read limit** (fio O_DIRECT 4 MiB, best below) | " << Num(d, "read_gbps")
       << " |\n| **flash write limit** (fio O_DIRECT 4 MiB, best below) | " << Num(d, "write_gbps")
       << " |\n";
    md << "| **flash durable write limit** (the same with fdatasync, best below) | "
       << Num(d, "durable_write_gbps") << " |\n";
  }
  for (const json& d : l.value("disk_configs", json::array())) {
    md << "| fio " << d.value("ioengine", "") << " sequential " << d.value("rw", "") << ", QD "
       << d.value("iodepth", 0) << ", " << d.value("numjobs", 0) << " job(s)";
    if (d.value("fdatasync", 0) > 0) {
      md << ", fdatasync every " << d.value("fdatasync", 0) << " (sync mean "
         << Num(d, "sync_mean_us", "%.0f") << " µs)";
    }
    md << " | " << Num(d, "gbps") << " |\n";
  }
  md << "\n";
}

// redis-benchmark's figures, the cross-check against the harness's own
// client, and the durable (AOF everysec) SETs.
void RedisTool(std::ostringstream& md, const json& r) {
  if (!r.is_object() || !r.contains("tool_rows")) return;
  std::map<std::tuple<std::string, uint64_t, uint32_t>, std::pair<json, json>> cells;
  for (const json& row : r["tool_rows"]) {
    cells[{row.value("op", ""), row.value("value_bytes", uint64_t{0}),
           row.value("connections", 0u)}]
        .first = row;
  }
  for (const json& c : r.value("cross_check", json::array())) {
    cells[{c.value("op", ""), c.value("value_bytes", uint64_t{0}), c.value("connections", 0u)}]
        .second = c;
  }
  std::map<std::pair<uint64_t, uint32_t>, json> aof;
  for (const json& row : r.value("aof", json::object()).value("rows", json::array())) {
    aof[{row.value("value_bytes", uint64_t{0}), row.value("connections", 0u)}] = row;
  }
  md << "## Redis baseline (redis-benchmark -P 1 -r KEYS over preloaded keys, median of 3 "
        "rounds; harness client cross-check)"
        "\n\n| op | value | conns | keys | redis-benchmark GB/s | p50 µs | harness GB/s | harness "
        "driver | harness / tool | valid | AOF everysec SET GB/s |\n| --- | ---: | ---: | ---: | "
        "---: | ---: | ---: | --- | ---: | :---: | ---: |\n";
  for (auto& [key, pair] : cells) {
    auto& [op, size, conns] = key;
    const json& tool = pair.first;
    const json& check = pair.second;
    const json durable = op == "put" && aof.count({size, conns}) ? aof[{size, conns}] : json();
    md << "| " << op << " | " << SizeLabel(size) << " | " << conns << " | "
       << Num(tool, "keys", "%.0f") << " | " << Num(tool, "gbps") << " | "
       << Num(tool, "p50_us", "%.0f") << " | " << Num(check, "own_gbps") << " | "
       << (check.is_object() ? check.value("own_driver", "–") : "–") << " | "
       << Num(check, "ratio", "%.2fx") << " | "
       << (check.is_object() ? (check.value("valid", false) ? "yes" : "**no**") : "–") << " | "
       << Num(durable, "gbps") << " |\n";
  }
  md << "\n";
}

// One table for ctxstore, redis and the filesystem store side by side,
// with ctxstore's ratio to each.
void DataPath(std::ostringstream& md, const json& r) {
  std::map<std::tuple<std::string, uint64_t, uint32_t>, std::map<std::string, json>> cells;
  std::set<std::string> systems;
  for (const char* section : {"datapath", "redis", "fs"}) {
    if (!r.contains(section) || !r[section].contains("rows")) continue;
    for (const json& row : r[section]["rows"]) {
      cells[{row.value("op", ""), row.value("value_bytes", uint64_t{0}),
             row.value("connections", 0u)}][row.value("system", "")] = row;
      systems.insert(row.value("system", ""));
    }
  }
  if (cells.empty()) return;
  systems.erase("ctxstore");
  md << "## Data path (GB/s; ctxstore p50/p99 in µs; ratio = ctxstore / other)\n\n";
  md << "| op | value | conns | ctxstore | p50 | p99 |";
  for (const std::string& s : systems) md << " " << s << " | ratio |";
  md << "\n| --- | ---: | ---: | ---: | ---: | ---: |";
  for (size_t i = 0; i < systems.size(); ++i) md << " ---: | ---: |";
  md << "\n";
  for (auto& [key, by_system] : cells) {
    auto& [op, size, conns] = key;
    json ours = by_system.count("ctxstore") ? by_system["ctxstore"] : json::object();
    md << "| " << op << " | " << SizeLabel(size) << " | " << conns << " | " << Num(ours, "gbps")
       << " | " << Num(ours, "p50_us", "%.0f") << " | " << Num(ours, "p99_us", "%.0f") << " |";
    for (const std::string& s : systems) {
      json other = by_system.count(s) ? by_system[s] : json::object();
      std::string ratio = "–";
      if (ours.contains("gbps") && other.contains("gbps") && other["gbps"].get<double>() > 0) {
        ratio = Fmt("%.2fx", ours["gbps"].get<double>() / other["gbps"].get<double>());
      }
      md << " " << Num(other, "gbps") << " | " << ratio << " |";
    }
    md << "\n";
  }
  md << "\n";
}

void Flash(std::ostringstream& md, const json& f) {
  if (!f.is_object() || !f.contains("flash_get")) return;
  md << "## Flash tier (4 MiB values)\n\n| measurement | GB/s | p50 µs | p99 µs | sealed / clear "
        "|\n| --- | ---: | ---: | ---: | ---: |\n";
  const json sealed = f.value("sealed", json::object());
  // steady_put: non-sync PUTs once DRAM is full of data bound for flash.
  for (const char* k : {"flash_get", "sync_put", "steady_put"}) {
    if (!f.contains(k) || f[k].contains("error")) continue;
    md << "| " << k << ", " << f[k].value("connections", 0) << " connections | "
       << Num(f[k], "gbps") << " | " << Num(f[k], "p50_us", "%.0f") << " | "
       << Num(f[k], "p99_us", "%.0f") << " | |\n";
    if (!sealed.contains(k)) continue;
    md << "| " << k << ", sealed (AES-256-GCM) | " << Num(sealed[k], "gbps") << " | "
       << Num(sealed[k], "p50_us", "%.0f") << " | " << Num(sealed[k], "p99_us", "%.0f") << " | "
       << Num(sealed[k], "ratio_to_clear", "%.2fx") << " |\n";
  }
  md << "\n";
}

void Tls(std::ostringstream& md, const json& t) {
  if (!t.is_object() || t.value("rows", json::array()).empty()) return;
  md << "## TLS (GB/s; ratio = TLS / plaintext, same run)\n\n"
        "| op | value | conns | plaintext | TLS | ratio | TLS p50 µs | TLS p99 µs |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  std::map<std::tuple<std::string, uint64_t, uint32_t>, json> plain;
  for (const json& row : t["rows"]) {
    if (row.value("system", "") == "ctxstore") {
      plain[{row.value("op", ""), row.value("value_bytes", uint64_t{0}),
             row.value("connections", 0u)}] = row;
    }
  }
  for (const json& row : t["rows"]) {
    if (row.value("system", "") != "ctxstore+tls") continue;
    const std::string op = row.value("op", "");
    const uint64_t size = row.value("value_bytes", uint64_t{0});
    const uint32_t conns = row.value("connections", 0u);
    md << "| " << op << " | " << SizeLabel(size) << " | " << conns << " | "
       << Num(plain[{op, size, conns}], "gbps") << " | " << Num(row, "gbps") << " | "
       << Num(row, "ratio_to_plaintext", "%.2fx") << " | " << Num(row, "p50_us", "%.0f") << " | "
       << Num(row, "p99_us", "%.0f") << " |\n";
  }
  md << "\n";
}

void SmallOps(std::ostringstream& md, const json& r) {
  md << "## Small operations, one connection (µs)\n\n| op | over | keys | p50 | p99 |\n"
        "| --- | --- | ---: | ---: | ---: |\n";
  for (const char* section : {"small", "redis"}) {
    if (!r.contains(section)) continue;
    const char* list = std::string(section) == "small" ? "rows" : "latency";
    for (const json& row : r[section].value(list, json::array())) {
      md << "| " << (std::string(section) == "redis" ? "redis " : "") << row.value("op", "")
         << " | " << row.value("transport", "tcp") << " | " << row.value("keys", 1) << " | "
         << Num(row, "p50_us", "%.1f") << " | "
         << Num(row, "p99_us", "%.1f") << " |\n";
    }
  }
  md << "\n";
}

void Shm(std::ostringstream& md, const json& s) {
  if (!s.is_object() || !s.contains("rows")) return;
  md << "## Shared memory (" << (s.value("value_bytes", uint64_t{0}) >> 20)
     << " MiB values over `serve --unix`; memcpy, one thread: " << Num(s, "memcpy_gbps")
     << " GB/s)\n\n| op | clients | GB/s | / memcpy | p50 µs | p99 µs |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: |\n";
  for (const json& row : s["rows"]) {
    md << "| " << row.value("op", "") << " | " << row.value("clients", 0) << " | "
       << Num(row, "gbps") << " | " << Num(row, "ratio_to_memcpy", "%.2fx") << " | "
       << Num(row, "p50_us", "%.0f") << " | " << Num(row, "p99_us", "%.0f") << " |\n";
  }
  md << "\n";
}

void Python(std::ostringstream& md, const json& s) {
  if (!s.is_object() || !s.contains("rows")) return;
  md << "## Python package and C++ client, same server\n\n| cell | client | GB/s | p50 µs | "
        "p99 µs |\n| --- | --- | ---: | ---: | ---: |\n";
  for (const json& row : s["rows"]) {
    md << "| " << row.value("cell", "") << " | " << row.value("client", "") << " | "
       << Num(row, "gbps") << " | " << Num(row, "p50_us", "%.1f") << " | "
       << Num(row, "p99_us", "%.1f") << " |\n";
  }
  md << "\n";
}

void Scale(std::ostringstream& md, const json& s) {
  if (!s.is_object() || !s.contains("rows")) return;
  md << "## Scale (" << s.value("value_bytes", 0) << " B values, " << s.value("key_bytes", 0)
     << " B keys)\n\n| objects | index B/object | less key | load s | clean stop s | restart clean "
        "s "
        "| restart kill -9 s |\n"
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const json& row : s["rows"]) {
    md << "| " << row.value("objects", 0) << " | " << Num(row, "index_bytes_per_object", "%.0f")
       << " | " << Num(row, "index_bytes_per_object_minus_key", "%.0f") << " | "
       << Num(row, "load_s", "%.1f") << " | " << Num(row, "clean_stop_s", "%.1f") << " | "
       << Num(row, "restart_clean_s", "%.2f") << " | " << Num(row, "restart_kill9_s", "%.2f")
       << " |\n";
  }
  md << "\n";
}

// One line per point of the growth sweeps: GB/s (p50 / p99 µs) of ctxstore
// and redis-benchmark side by side.
void Growth(std::ostringstream& md, const json& g) {
  if (!g.is_object() || !g.contains("rows")) return;
  std::map<std::pair<uint64_t, uint32_t>, std::map<std::string, const json*>> cells;
  for (const json& row : g["rows"]) {
    if (row.contains("error")) continue;
    cells[{row.value("value_bytes", uint64_t{0}), row.value("connections", 0u)}]
         [row.value("system", "") + " " + row.value("op", "")] = &row;
  }
  md << "## Growth (GB/s, p50 / p99 µs)\n\n| value | connections | ctxstore PUT | ctxstore GET | "
        "redis-benchmark SET | redis-benchmark GET |\n| ---: | ---: | ---: | ---: | ---: | ---: "
        "|\n";
  for (const auto& [at, by] : cells) {
    md << "| " << SizeLabel(at.first) << " | " << at.second;
    for (const char* k :
         {"ctxstore put", "ctxstore get", "redis-benchmark put", "redis-benchmark get"}) {
      auto it = by.find(k);
      md << " | ";
      if (it == by.end()) {
        md << "–";
      } else {
        md << Num(*it->second, "gbps") << " (" << Num(*it->second, "p50_us", "%.0f") << " / "
           << Num(*it->second, "p99_us", "%.0f") << ")";
      }
    }
    md << " |\n";
  }
  if (g.contains("redis_large_values")) {
    md << "\n" << g["redis_large_values"].get<std::string>() << "\n";
  }
  md << "\n";
}

void Replay(std::ostringstream& md, const json& s) {
  if (!s.is_object() || !s.contains("rows")) return;
  md << "## Trace replay (" << s.value("model", "") << ", " << s.value("bytes_per_block", 0)
     << " B per block)\n\n| trace | policy | blocks cap | hit rate | sim | Belady | infinite | "
        "tokens avoided | lookup+load p50/p99 µs |\n| --- | --- | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: |\n";
  for (const json& row : s["rows"]) {
    md << "| " << row.value("trace", "") << " | " << row.value("policy", "") << " | "
       << row.value("capacity_blocks", 0) << " | " << Num(row, "hit_rate", "%.4f") << " | "
       << Num(row, "sim_hit_rate", "%.4f") << " | " << Num(row, "belady_hit_rate", "%.4f") << " | "
       << Num(row, "infinite_hit_rate", "%.4f") << " | " << row.value("tokens_avoided", 0) << " | "
       << Num(row, "lookup_load_p50_us", "%.0f") << " / " << Num(row, "lookup_load_p99_us", "%.0f")
       << " |\n";
  }
  md << "\n";
}

// One row of the cost table: GB/s and CPU seconds per GB of each side.
void CostRow(std::ostringstream& md, const std::string& what, const json& row) {
  const double server = row.value("server_cpu_s_per_gb", 0.0);
  const double client = row.value("client_cpu_s_per_gb", 0.0);
  md << "| " << what << " | " << Num(row, "gbps") << " | " << Num(row, "server_cpu_s_per_gb")
     << " | " << Num(row, "client_cpu_s_per_gb") << " | " << Fmt("%.2f", server + client) << " |\n";
}

// CPU seconds per GB (issue 17, part 4) of ctxstore and redis at 64 KiB and
// 4 MiB on 4 connections, beside the loopback floor, XXH3 and the PUT
// burst's CPU bound.
void CpuCost(std::ostringstream& md, const json& r) {
  const json& limits = r.value("limits", json::object());
  md << "## CPU cost per GB moved (CPU-s/GB; server from /proc, client: the harness or "
        "redis-benchmark)\n\n| cell | GB/s | server | client | both |\n| --- | ---: | ---: | "
        "---: | ---: |\n";
  auto cells = [&](const json& rows, const std::string& system) {
    for (const json& row : rows) {
      const uint64_t size = row.value("value_bytes", uint64_t{0});
      if (row.value("connections", 0u) != 4 || !row.contains("client_cpu_s_per_gb") ||
          (size != 64u << 10 && size != 4u << 20)) {
        continue;
      }
      CostRow(md, system + " " + row.value("op", "") + " " + SizeLabel(size) + " x4", row);
    }
  };
  cells(r.value("datapath", json::object()).value("rows", json::array()), "ctxstore");
  cells(r.value("redis", json::object()).value("tool_rows", json::array()),
        "redis (redis-benchmark)");
  for (const json& t : limits.value("tcp_configs", json::array())) {
    md << "| loopback, " << t.value("tool", "") << ", " << t.value("streams", 0)
       << " stream(s), both ends | " << Num(t, "gbps") << " | | | " << Num(t, "cpu_s_per_gb")
       << " |\n";
  }
  md << "| XXH3-64, one pass, one thread | | | | " << Num(limits, "xxh3_cpu_s_per_gb", "%.3f")
     << " |\n";
  const json bound = limits.value("put_cpu_bound", json());
  if (bound.is_object()) {
    md << "| **PUT CPU bound**: " << bound.value("cores", 0) << " cores / ("
       << Num(bound, "loopback_cpu_s_per_gb") << " loopback + 2 x "
       << Num(bound, "xxh3_cpu_s_per_gb", "%.3f") << " XXH3) | " << Num(bound, "gbps") << " | | | "
       << Num(bound, "cpu_s_per_gb") << " |\n";
  }
  md << "\n";
}

// The resp section: the same redis-benchmark runs against redis-server and
// ctxstore's Redis front end, alternating, medians.
void RespFrontEnd(std::ostringstream& md, const json& r) {
  if (!r.is_object() || !r.contains("rows")) return;
  md << "## Redis protocol front end (redis-benchmark on redis-server and ctxstore "
        "--redis-listen, alternating rounds, median of "
     << r.value("rounds", 0)
     << ")\n\n| cell | redis ops/s | redis GB/s | redis p50 µs | ctxstore ops/s | ctxstore GB/s "
        "| ctxstore p50 µs | ctxstore / redis |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | "
        "---: |\n";
  for (const json& row : r["rows"]) {
    const json redis = row.value("redis", json()), store = row.value("ctxstore", json());
    md << "| " << row.value("cell", "") << " | ";
    if (row.contains("error")) {
      md << "error: " << row["error"].get<std::string>() << " | | | | | | |\n";
      continue;
    }
    // redis-benchmark's p50 comes in coarse steps: the mean beside it.
    auto p50 = [](const json& f) {
      return Num(f, "p50_us", "%.0f") + " (avg " + Num(f, "avg_us", "%.0f") + ")";
    };
    md << Num(redis, "ops_per_s", "%.0f") << " | " << Num(redis, "gbps") << " | " << p50(redis)
       << " | " << Num(store, "ops_per_s", "%.0f") << " | " << Num(store, "gbps") << " | "
       << p50(store) << " | "
       << Num(row, "ratio", "%.2fx") << " (" << row.value("ratio_of", "") << ") |\n";
  }
  const json lm = r.value("lm", json());
  if (lm.is_object() && lm.contains("ratio")) {
    const json native = lm.value("native", json()), over_lm = lm.value("lm", json());
    md << "\nlm:// GET 4 MiB x4 (" << Num(lm, "keys", "%.0f") << " keys, same server): "
       << Num(over_lm, "gbps") << " GB/s, p50 " << Num(over_lm, "p50_us", "%.0f")
       << " µs; native GET (GetInto, XXH3 verified) " << Num(native, "gbps") << " GB/s, p50 "
       << Num(native, "p50_us", "%.0f") << " µs; lm:// / native " << Num(lm, "ratio", "%.2fx")
       << "\n";
  } else if (lm.is_object() && lm.contains("error")) {
    md << "\nlm:// GET 4 MiB x4 failed: " << lm["error"].get<std::string>() << "\n";
  }
  md << "\n";
}

}  // namespace

std::string FormatMarkdown(const json& r) {
  std::ostringstream md;
  const json& meta = r.value("meta", json::object());
  const json& m = meta.value("machine", json::object());
  md << "# ctxstore benchmark (" << meta.value("mode", "") << ")\n\n"
     << "- date: " << meta.value("date", "") << "\n- machine: " << m.value("cpu", "") << ", "
     << m.value("cores", 0) << " cores, " << m.value("memory", "") << ", " << m.value("kernel", "")
     << "\n- command: `" << meta.value("command", "")
     << "`\n- elapsed: " << Num(meta, "elapsed_s", "%.0f") << " s\n\n";
  Targets(md, r);
  Limits(md, r.value("limits", json()));
  DataPath(md, r);
  RedisTool(md, r.value("redis", json()));
  RespFrontEnd(md, r.value("resp", json()));
  CpuCost(md, r);
  Flash(md, r.value("flash", json()));
  Tls(md, r.value("tls", json()));
  SmallOps(md, r);
  Shm(md, r.value("shm", json()));
  Python(md, r.value("python", json()));
  Growth(md, r.value("growth", json()));
  Scale(md, r.value("scale", json()));
  Replay(md, r.value("replay", json()));
  for (const char* section : {"limits", "datapath", "redis", "resp", "fs", "flash", "tls", "small",
                              "shm", "python", "growth", "scale", "replay"}) {
    if (r.contains(section) && r[section].contains("error")) {
      md << "- " << section << " failed: " << r[section]["error"].get<std::string>() << "\n";
    }
    if (r.contains(section) && r[section].contains("skipped")) {
      md << "- " << section << " skipped: " << r[section]["skipped"].dump() << "\n";
    }
  }
  return md.str();
}

}  // namespace ctxstore::bench
