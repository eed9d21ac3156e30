#include "bench/redis_tool.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <vector>

#include "bench/cpu_cost.h"
#include "bench/loadgen.h"
#include "bench/resp_client.h"
#include "bench/tool_output.h"

namespace ctxstore::bench {
using json = nlohmann::json;

namespace {

constexpr int kToolRounds = 3;

// redis-benchmark's name for key n under -r: "key:__rand_int__" with the
// placeholder replaced by n in 12 digits.
std::string ToolKey(uint64_t n) {
  char key[32];
  std::snprintf(key, sizeof(key), "key:%012llu", static_cast<unsigned long long>(n));
  return key;
}

}  // namespace

Status PreloadToolKeys(uint16_t port, uint64_t size, uint64_t keys) {
  auto client = RespClient::Connect(port);
  if (!client.ok()) return client.status();
  CTX_RETURN_IF_ERROR((*client)->FlushAll());
  std::vector<char> value(size);
  FillValue(value.data(), value.size(), 11);
  const uint64_t batch = std::clamp<uint64_t>((8ull << 20) / size, 1, 256);
  std::vector<std::string> names;
  for (uint64_t first = 0; first < keys; first += batch) {
    names.clear();
    for (uint64_t k = first; k < std::min(keys, first + batch); ++k) names.push_back(ToolKey(k));
    CTX_RETURN_IF_ERROR((*client)->SetBatch(names, value.data(), value.size()));
  }
  for (uint64_t k = 0; k < keys; ++k) {
    auto got = (*client)->Get(ToolKey(k), value.data(), value.size());
    if (!got.ok()) return got.status();
  }
  return Status::Ok();
}

Result<RedisBenchmarkRow> RunRedisBenchmark(const std::string& exe, uint16_t port,
                                            const std::vector<std::string>& args) {
  std::vector<std::string> argv = {exe, "-h", "127.0.0.1", "-p", std::to_string(port), "--csv"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto run = RunCommand(argv, 600000);
  if (!run.ok()) return run.status();
  if (run->exit_code != 0) {
    return Status::Internal("redis-benchmark exited " + std::to_string(run->exit_code) + ": " +
                            run->err.substr(0, run->err.find('\n')));
  }
  auto rows = ParseRedisBenchmarkCsv(run->out);
  if (!rows.ok()) return rows.status();
  return rows->front();
}

Result<RedisBenchmarkRow> RunTool(const std::string& exe, uint16_t port, const char* test,
                                  uint64_t size, uint32_t conns, uint64_t requests, uint64_t keys,
                                  uint32_t pipeline) {
  return RunRedisBenchmark(
      exe, port,
      {"-t", test, "-d", std::to_string(size), "-c", std::to_string(conns), "-n",
       std::to_string(requests), "-r", std::to_string(keys), "-P", std::to_string(pipeline)});
}

namespace {

// One cell: a warm-up run, then kToolRounds measured runs.
json Cell(BenchContext& ctx, const std::string& exe, uint16_t port, pid_t server_pid,
          const std::string& system, const char* op, uint64_t size, uint32_t conns, uint64_t keys) {
  json row = {{"system", system},
              {"op", op},
              {"value_bytes", size},
              {"connections", conns},
              {"keys", keys}};
  const char* test = std::string(op) == "put" ? "set" : "get";
  const uint64_t requests = std::max<uint64_t>({RoundBytes(ctx) / size, 4ull * conns, 16});
  ctx.progress->Step(system + " " + (std::string(op) == "put" ? "SET " : "GET ") + SizeLabel(size) +
                     " x" + std::to_string(conns));
  // A smoke run checks the form only (its targets never count): one round,
  // no warm-up, so that the test suite's run stays short.
  const int rounds = ctx.options.smoke ? 1 : kToolRounds;
  if (!ctx.options.smoke) {
    auto warm =
        RunTool(exe, port, test, size, conns, std::max<uint64_t>(requests / 4, 2ull * conns), keys);
    if (!warm.ok()) {
      row["error"] = warm.status().ToString();
      ctx.progress->Warn(warm.status().ToString());
      return row;
    }
  }
  std::vector<double> gbps, ops, p50, p99;
  const CpuMeter meter(server_pid);
  for (int r = 0; r < rounds; ++r) {
    auto res = RunTool(exe, port, test, size, conns, requests, keys);
    if (!res.ok()) {
      row["error"] = res.status().ToString();
      ctx.progress->Warn(res.status().ToString());
      return row;
    }
    ops.push_back(res->requests_per_s);
    gbps.push_back(res->requests_per_s * static_cast<double>(size) / 1e9);
    p50.push_back(res->p50_ms * 1000);
    p99.push_back(res->p99_ms * 1000);
  }
  row.update({{"rounds_gbps", gbps},
              {"gbps", Median(gbps)},
              {"ops_per_s", Median(ops)},
              {"p50_us", Median(p50)},
              {"p99_us", Median(p99)},
              {"ops", requests * static_cast<uint64_t>(rounds)},
              {"errors", 0}});
  AddCpuCost(row, meter.Stop(), static_cast<double>(requests * size) * rounds,
             /*client_is_child=*/true);
  char line[96];
  std::snprintf(line, sizeof(line), "%.2f GB/s, p50 %.0f us", Median(gbps), Median(p50));
  ctx.progress->Result(line);
  return row;
}

}  // namespace

json RedisBenchmarkRows(BenchContext& ctx, const std::string& exe, uint16_t port, pid_t server_pid,
                        const std::string& system, bool with_get) {
  json rows = json::array();
  for (uint64_t size : ctx.value_sizes) {
    const uint32_t max_conns = *std::max_element(ctx.connections.begin(), ctx.connections.end());
    const uint64_t keys = KeyCount(ctx, size, max_conns);
    ctx.progress->Step(system + ": preload " + std::to_string(keys) + " keys of " +
                       SizeLabel(size));
    if (Status st = PreloadToolKeys(port, size, keys); !st.ok()) {
      ctx.progress->Warn(st.ToString());
      for (const char* op : {"put", "get"}) {
        for (uint32_t conns : ctx.connections) {
          rows.push_back({{"system", system},
                          {"op", op},
                          {"value_bytes", size},
                          {"connections", conns},
                          {"error", "preload: " + st.ToString()}});
        }
        if (!with_get) break;
      }
      continue;
    }
    for (uint32_t conns : ctx.connections) {
      rows.push_back(Cell(ctx, exe, port, server_pid, system, "put", size, conns, keys));
      if (with_get) {
        rows.push_back(Cell(ctx, exe, port, server_pid, system, "get", size, conns, keys));
      }
    }
  }
  return rows;
}

json CrossCheckRows(const json& own_rows, const json& tool_rows) {
  json out = json::array();
  auto usable = [](const json& r) {
    return !r.contains("error") && r.value("errors", uint64_t{1}) == 0 && r.contains("gbps");
  };
  for (const json& tool : tool_rows) {
    if (!usable(tool)) continue;
    for (const json& own : own_rows) {
      if (!usable(own) || own.value("op", "") != tool.value("op", "") ||
          own.value("value_bytes", uint64_t{0}) != tool.value("value_bytes", uint64_t{0}) ||
          own.value("connections", 0u) != tool.value("connections", 0u)) {
        continue;
      }
      const double tool_gbps = tool["gbps"].get<double>(), own_gbps = own["gbps"].get<double>();
      const CrossCheck c = CrossCheckFigures(tool_gbps, own_gbps);
      out.push_back({{"op", tool["op"]},
                     {"value_bytes", tool["value_bytes"]},
                     {"connections", tool["connections"]},
                     {"tool_gbps", tool_gbps},
                     {"own_gbps", own_gbps},
                     {"own_driver", own.value("driver", "threads")},
                     {"ratio", c.ratio},
                     {"valid", c.valid},
                     {"reference_gbps", std::max(tool_gbps, own_gbps)}});
    }
  }
  return out;
}

Result<RedisServer> StartRedisServer(BenchContext& ctx, const std::string& exe,
                                     const std::string& name,
                                     const std::vector<std::string>& args) {
  auto port = FreePort();
  if (!port.ok()) return port.status();
  const std::string dir = ctx.ScratchDir(name);
  std::vector<std::string> argv = {exe,      "--port",    std::to_string(*port),
                                   "--bind", "127.0.0.1", "--protected-mode",
                                   "no",     "--dir",     dir};
  argv.insert(argv.end(), args.begin(), args.end());
  auto process = ChildProcess::Start(argv, dir + "/redis.log");
  if (!process.ok()) return process.status();
  if (Status st = WaitForPort(*port, process->get(), 10000); !st.ok()) {
    (*process)->Stop(SIGKILL, 1000);
    return st;
  }
  return RedisServer{*port, std::move(*process)};
}

json RunRedisDurable(BenchContext& ctx, const std::string& server_exe,
                     const std::string& benchmark_exe) {
  const std::vector<std::string> args = {"--appendonly", "yes",    "--appendfsync",
                                         "everysec",     "--save", ""};
  Result<RedisServer> server = StartRedisServer(ctx, server_exe, "redis-aof", args);
  if (!server.ok()) return {{"error", server.status().ToString()}};
  json out = {{"server_args", args}};
  out["rows"] = RedisBenchmarkRows(ctx, benchmark_exe, server->port, server->process->pid(),
                                   "redis-aof", /*with_get=*/false);
  server->process->Stop(SIGTERM, 30000);
  return out;
}

}  // namespace ctxstore::bench
