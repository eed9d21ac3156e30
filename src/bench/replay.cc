// Section 7, "Trace replay": the Mooncake traces replayed against a running
// server, for every eviction policy and several capacities, beside the
// offline simulation of the same policy (bench/cache_sim.h), Belady's
// optimum and the unlimited cache. One client connection sends one request
// at a time, as the simulator assumes (docs/simulator.md): MATCH_PREFIX over
// the request's block keys, BATCH_GET of the matched blocks, then a chained
// put-if-absent BATCH_PUT of the rest (the server handles its items one
// after another, parent = the previous key, as the simulator does). A
// PolicySim runs in lockstep to count the requests whose match differs.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/cache_sim.h"
#include "bench/harness.h"
#include "bench/loadgen.h"
#include "bench/replay_sim.h"
#include "bench/trace.h"
#include "common/units.h"
#include "ctxstore/client.h"
#include "engine/policy.h"

namespace ctxstore::bench {
namespace {

// The model whose KV cache sizes the blocks: Llama-3.1-8B in bf16 keeps, per
// token, K and V for 32 layers x 8 KV heads x 128 dims x 2 bytes.
constexpr const char* kModel = "Llama-3.1-8B (bf16, 32 layers, 8 KV heads, head dim 128)";
constexpr uint64_t kBytesPerToken = 2 * 32 * 8 * 128 * 2;  // 131072
// Scaled down so that the replay fits this machine: 64 MiB blocks become 64 KiB.
constexpr uint64_t kScaleDivisor = 1024;
constexpr uint64_t kBytesPerBlock = kBytesPerToken * kBlockTokens / kScaleDivisor;
// Requests replayed online per trace when the run does not say: every missed
// block crosses TCP and goes to flash (~25k blocks, 1.6 GB, per 1,000
// requests), so the whole traces (410k blocks) at every policy and capacity
// would take an hour on 2 cores; 2,000 take ~2.5 minutes. The whole traces
// are simulated offline beside them (whole_trace_sim).
constexpr uint64_t kDefaultMaxRequestsFull = 2000;
constexpr uint64_t kDefaultMaxRequestsQuick = 1000;

using Clock = std::chrono::steady_clock;

std::vector<std::string> TraceFiles(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".jsonl") {
      out.push_back(entry.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string SizeArg(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%lluMiB", static_cast<unsigned long long>(bytes / kMiB + 1));
  return buf;
}

// The server's counters that the replay reports as deltas.
struct ServerCounters {
  uint64_t hits_dram = 0, hits_flash = 0, evictions_dram = 0, reclaimed_objects = 0;
};

ServerCounters ReadCounters(Client& client) {
  ServerCounters c;
  auto stats = client.StatsJson();
  if (!stats.ok()) return c;
  nlohmann::json j = nlohmann::json::parse(*stats, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return c;
  c.hits_dram = j.value("hits_dram", uint64_t{0});
  c.hits_flash = j.value("hits_flash", uint64_t{0});
  c.evictions_dram = j.value("evictions_dram", uint64_t{0});
  c.reclaimed_objects = j.value("reclaimed_objects", uint64_t{0});
  return c;
}

struct Online {
  uint64_t requests = 0, blocks = 0, hits = 0, input_tokens = 0, tokens_avoided = 0;
  uint64_t bytes_get = 0, bytes_put = 0, puts = 0, errors = 0;
  uint64_t mismatched_requests = 0;
  int64_t first_mismatch = -1;  // request index, -1 when every match agreed
  std::vector<double> lookup_load_us, hit_lookup_load_us;
  ServerCounters delta;
  double seconds = 0;  // the requests
  double start_s = 0;  // server start and namespace set-up
  double stop_s = 0;   // kill and removal of the data
};

// One request: match, read the hits, put the rest. Adds to `o`.
Status ReplayRequest(Client& client, const TraceRequest& req, std::span<const uint64_t> ids,
                     std::span<const uint8_t> value, uint32_t max_batch_keys, Online& o,
                     std::vector<std::string>& keys) {
  keys.clear();
  for (uint64_t id : ids) {
    char buf[24];
    std::snprintf(buf, sizeof(buf), "%llu", static_cast<unsigned long long>(id));
    keys.emplace_back(buf);
  }
  const Clock::time_point t0 = Clock::now();
  auto matched = client.MatchPrefix(keys);
  if (!matched.ok()) return matched.status();
  const uint32_t m = *matched;
  if (m > 0) {
    auto got = client.BatchGet(std::span(keys.data(), m));
    if (!got.ok()) return got.status();
    for (const GetItem& g : *got) {
      if (g.code == StatusCode::kOk) {
        o.bytes_get += g.value.size();
      } else {
        ++o.errors;  // a matched block must be readable: nothing else ran in between
      }
    }
  }
  const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
  o.lookup_load_us.push_back(us);
  if (m > 0) o.hit_lookup_load_us.push_back(us);

  std::vector<PutItem> items;
  for (size_t start = m; start < keys.size(); start += max_batch_keys) {
    const size_t end = std::min(keys.size(), start + max_batch_keys);
    items.clear();
    for (size_t i = start; i < end; ++i) items.push_back({keys[i], value});
    PutOptions opts;
    opts.chain = true;
    if (start > 0) opts.parent = keys[start - 1];
    auto codes = client.BatchPut(items, opts);
    if (!codes.ok()) return codes.status();
    for (StatusCode c : *codes) {
      if (c == StatusCode::kOk) {
        ++o.puts;
        o.bytes_put += value.size();
      } else if (c != StatusCode::kExists) {
        ++o.errors;
      }
    }
  }
  ++o.requests;
  o.blocks += ids.size();
  o.hits += m;
  o.input_tokens += req.input_length;
  o.tokens_avoided += std::min<uint64_t>(m * kBlockTokens, req.input_length);
  return Status::Ok();
}

// The whole trace against a fresh server running `policy`, with a namespace
// that holds exactly capacity_blocks blocks.
Result<Online> ReplayOnline(const BenchContext& ctx, const Trace& trace, const std::string& policy,
                            uint64_t capacity_blocks) {
  // The quota counts value bytes: capacity_blocks equal values fill it.
  const uint64_t quota_bytes = capacity_blocks * kBytesPerBlock;
  // DRAM holds every live block plus room for blocks not yet written (when
  // puts outrun the flusher, some live blocks still leave DRAM: hits_flash).
  // Flash holds every block the trace could write, so FIFO reclaim, which
  // would drop blocks that left DRAM, never runs (reclaimed_objects).
  const uint64_t memory_bytes = quota_bytes + quota_bytes / 4 + 384 * kMiB;
  const uint64_t disk_bytes = trace.blocks.size() * (kBytesPerBlock + 4 * kKiB) + 1 * kGiB;
  const std::vector<std::string> args = {"--memory",          SizeArg(memory_bytes), "--disk",
                                         SizeArg(disk_bytes), "--eviction-policy",   policy};
  const Clock::time_point t_start = Clock::now();
  auto started = StartStoreServer(ctx, "replay", args);
  if (!started.ok()) return started.status();
  StoreServer server = std::move(*started);

  ClientOptions co;
  co.port = server.port;
  co.token = server.token;
  co.client_name = "bench-replay";
  auto admin = Client::Connect(co);
  if (!admin.ok()) return admin.status();
  NamespaceSpec spec;
  spec.quota_bytes = quota_bytes;
  CTX_RETURN_IF_ERROR((*admin)->CreateNamespace("replay", spec));
  co.namespace_name = "replay";
  auto client = Client::Connect(co);
  if (!client.ok()) return client.status();
  const uint32_t max_batch_keys = std::max<uint32_t>(1, (*client)->server_info().max_batch_keys);

  Online o;
  o.start_s = std::chrono::duration<double>(Clock::now() - t_start).count();
  o.lookup_load_us.reserve(trace.requests.size());
  const std::vector<uint8_t> value(kBytesPerBlock, 0x5a);
  PolicySim sim(engine::NewEvictionPolicy(policy), capacity_blocks, /*reads_hits=*/true);
  std::vector<std::string> keys;
  const ServerCounters before = ReadCounters(**client);
  const Clock::time_point t0 = Clock::now();
  for (size_t n = 0; n < trace.requests.size(); ++n) {
    const TraceRequest& req = trace.requests[n];
    const uint64_t hits_before = o.hits;
    CTX_RETURN_IF_ERROR(
        ReplayRequest(**client, req, trace.BlocksOf(req), value, max_batch_keys, o, keys));
    if (sim.Request(trace.BlocksOf(req)) != o.hits - hits_before) {
      if (o.mismatched_requests++ == 0) o.first_mismatch = static_cast<int64_t>(n);
    }
  }
  o.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const ServerCounters after = ReadCounters(**client);
  o.delta = {after.hits_dram - before.hits_dram, after.hits_flash - before.hits_flash,
             after.evictions_dram - before.evictions_dram,
             after.reclaimed_objects - before.reclaimed_objects};
  const Clock::time_point t_stop = Clock::now();
  client->reset();
  admin->reset();
  // The data (every block written) is of no further use: no clean stop
  // (it would write what is pending and a checkpoint), and free the disk.
  server.process->Stop(SIGKILL, 5000);
  std::error_code ec;
  std::filesystem::remove_all(server.data_dir, ec);
  o.stop_s = std::chrono::duration<double>(Clock::now() - t_stop).count();
  return o;
}

nlohmann::json RowOf(const SimResult& sim, const SimResult& belady, const SimResult& infinite,
                     const Online& o) {
  const double rate = o.blocks == 0 ? 0 : static_cast<double>(o.hits) / o.blocks;
  const double diff = std::abs(rate - sim.hit_rate());
  std::vector<double> all = o.lookup_load_us, hit = o.hit_lookup_load_us;
  return {{"trace", sim.trace},
          {"policy", sim.policy},
          {"capacity_blocks", sim.capacity_blocks},
          {"requests", o.requests},
          {"blocks", o.blocks},
          {"hits", o.hits},
          {"hit_rate", rate},
          {"sim_hits", sim.hits},
          {"sim_hit_rate", sim.hit_rate()},
          {"diff", diff},
          {"matches_sim", diff <= 0.01},
          {"mismatched_requests", o.mismatched_requests},
          {"first_mismatch_request", o.first_mismatch},
          {"belady_hit_rate", belady.hit_rate()},
          {"infinite_hit_rate", infinite.hit_rate()},
          {"tokens_avoided", o.tokens_avoided},
          {"input_tokens", o.input_tokens},
          {"sim_tokens_avoided", sim.tokens_avoided},
          {"bytes_get", o.bytes_get},
          {"bytes_put", o.bytes_put},
          {"hits_dram", o.delta.hits_dram},
          {"hits_flash", o.delta.hits_flash},
          {"bytes_dram", o.delta.hits_dram * kBytesPerBlock},
          {"bytes_flash", o.delta.hits_flash * kBytesPerBlock},
          {"evictions_dram", o.delta.evictions_dram},
          {"reclaimed_objects", o.delta.reclaimed_objects},
          {"errors", o.errors},
          {"seconds", o.seconds},
          {"server_start_s", o.start_s},
          {"server_stop_s", o.stop_s},
          {"lookup_load_p50_us", Percentile(all, 50)},
          {"lookup_load_p99_us", Percentile(all, 99)},
          {"hit_lookup_load_p50_us", Percentile(hit, 50)},
          {"hit_lookup_load_p99_us", Percentile(hit, 99)}};
}

// What a run replays: every policy at these capacities, on the first
// max_requests requests of each trace (0 = all).
struct ReplayPlan {
  std::vector<std::string> policies = engine::EvictionPolicyNames();
  std::vector<uint64_t> capacities;
  uint64_t max_requests = 0;
};

ReplayPlan PlanFor(const BenchContext& ctx) {
  ReplayPlan plan;
  plan.max_requests = ctx.replay_max_requests;
  if (ctx.options.smoke) {
    plan.capacities = {10, 50};  // the sample trace's 590 blocks: evictions at both
  } else if (ctx.options.quick) {
    plan.capacities = {3000, 6000};
    if (plan.max_requests == 0) plan.max_requests = kDefaultMaxRequestsQuick;
  } else {
    plan.capacities = {1000, 3000, 6000, 12000};
    if (plan.max_requests == 0) plan.max_requests = kDefaultMaxRequestsFull;
  }
  return plan;
}

// One (trace, policy, capacity): the offline simulation and the online
// replay side by side, as one row (or a row with its error).
nlohmann::json ReplayCell(BenchContext& ctx, const Trace& trace, const std::string& policy,
                          uint64_t capacity, const SimResult& belady, const SimResult& infinite) {
  char what[160];
  std::snprintf(what, sizeof(what), "%s, %s, %llu blocks", trace.name.c_str(), policy.c_str(),
                static_cast<unsigned long long>(capacity));
  if (ctx.progress) ctx.progress->Step(what);
  auto sim = SimulatePolicy(trace, policy, capacity, /*reads_hits=*/true);
  auto online =
      sim.ok() ? ReplayOnline(ctx, trace, policy, capacity) : Result<Online>(sim.status());
  if (!online.ok()) {
    if (ctx.progress) ctx.progress->Warn(std::string(what) + ": " + online.status().ToString());
    return {{"trace", trace.name},
            {"policy", policy},
            {"capacity_blocks", capacity},
            {"error", online.status().ToString()}};
  }
  nlohmann::json row = RowOf(*sim, belady, infinite, *online);
  if (ctx.progress) {
    char line[200];
    std::snprintf(line, sizeof(line), "hit rate %.2f%% online, %.2f%% simulated%s (%.1f s)",
                  100 * row["hit_rate"].get<double>(), 100 * row["sim_hit_rate"].get<double>(),
                  row["matches_sim"].get<bool>() ? "" : "  MISMATCH", online->seconds);
    ctx.progress->Result(line);
  }
  return row;
}

// Every cell of one trace file into out["rows"] (and out["whole_trace_sim"]
// when only a prefix is replayed); a trace that cannot be read is an error.
Status ReplayTraceFile(BenchContext& ctx, const std::string& file, const ReplayPlan& plan,
                       nlohmann::json* out) {
  auto trace = LoadTrace(file, plan.max_requests);
  if (!trace.ok()) return trace.status();
  // Only a prefix is replayed online: the whole trace offline as well.
  if (plan.max_requests > 0 && trace->requests.size() == plan.max_requests) {
    (*out)["whole_trace_sim"].push_back(SimulateWholeTrace(file, plan.capacities, plan.policies));
  }
  const SimResult infinite = SimulateInfinite(*trace);
  for (uint64_t capacity : plan.capacities) {
    const SimResult belady = SimulateBelady(*trace, capacity);
    for (const std::string& policy : plan.policies) {
      (*out)["rows"].push_back(ReplayCell(ctx, *trace, policy, capacity, belady, infinite));
    }
  }
  return Status::Ok();
}

}  // namespace

nlohmann::json RunReplay(BenchContext& ctx) {
  const ReplayPlan plan = PlanFor(ctx);
  nlohmann::json out = {{"model", kModel},
                        {"bytes_per_token", kBytesPerToken},
                        {"block_tokens", kBlockTokens},
                        {"scale", 1.0 / kScaleDivisor},
                        {"bytes_per_block", kBytesPerBlock},
                        {"max_requests", plan.max_requests},
                        {"policies", plan.policies},
                        {"capacities_blocks", plan.capacities},
                        {"rows", nlohmann::json::array()},
                        {"whole_trace_sim", nlohmann::json::array()}};
  if (ctx.options.trace_dir.empty()) {
    out["skipped"] = "no trace folder given";
    return out;
  }
  const std::vector<std::string> files = TraceFiles(ctx.options.trace_dir);
  if (files.empty()) {
    out["skipped"] = "no *.jsonl trace in " + ctx.options.trace_dir;
    return out;
  }
  nlohmann::json errors = nlohmann::json::array();
  for (const std::string& file : files) {
    if (Status st = ReplayTraceFile(ctx, file, plan, &out); !st.ok()) {
      errors.push_back(st.ToString());
      if (ctx.progress) ctx.progress->Warn(st.ToString());
    }
  }
  if (!errors.empty()) out["errors"] = errors;
  return out;
}

}  // namespace ctxstore::bench
