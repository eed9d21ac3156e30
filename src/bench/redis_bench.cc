// The redis baseline: redis-server (persistence off) driven with the same
// value sizes and concurrency as ctxstore by two drivers, the better kept
// per cell: the load generator's thread per connection through the
// harness's own client (bench/resp_client.h: no copy of a value on either
// side), and one thread multiplexing the connections (bench/resp_mux.h),
// as redis-benchmark does; the small-command latencies (PING, EXISTS) the small-operation
// targets use, through hiredis; and redis-benchmark's own figures for the
// same cells (bench/redis_tool.h), against which the harness's are
// cross-checked.
#include <hiredis/hiredis.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench/harness.h"
#include "bench/loadgen.h"
#include "bench/redis_tool.h"
#include "bench/resp_client.h"
#include "bench/resp_mux.h"

namespace ctxstore::bench {
namespace {

using json = nlohmann::json;

struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;
using Conn = std::unique_ptr<redisContext, ContextFree>;

Result<Conn> Connect(uint16_t port) {
  Conn c(redisConnectWithTimeout("127.0.0.1", port, timeval{5, 0}));
  if (!c || c->err) {
    return Status::Unavailable(std::string("redis connect: ") + (c ? c->errstr : "out of memory"));
  }
  redisSetTimeout(c.get(), timeval{120, 0});  // a 32 MiB reply under load can take a while
  return c;
}

Reply Command(redisContext* c, const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  void* r = redisvCommand(c, format, ap);
  va_end(ap);
  return Reply(static_cast<redisReply*>(r));
}

// A failed command as a Status: the connection's error or the reply's.
Status Failure(redisContext* c, const redisReply* r, const char* what) {
  if (r == nullptr) return Status::Unavailable(std::string(what) + ": " + c->errstr);
  if (r->type == REDIS_REPLY_ERROR) return Status::Internal(std::string(what) + ": " + r->str);
  return Status::Internal(std::string(what) + ": unexpected reply type " + std::to_string(r->type));
}

// The name of preloaded key k ("g:K"), written into buf.
std::string_view PreloadedKey(uint64_t k, std::array<char, 32>& buf) {
  const int len =
      std::snprintf(buf.data(), buf.size(), "g:%llu", static_cast<unsigned long long>(k));
  return std::string_view(buf.data(), static_cast<size_t>(len));
}

// A cell measured by both drivers.
struct DriverResults {
  Result<LoadResult> threads = Status::Internal("not run");     // RunLoad, a thread each
  Result<LoadResult> one_thread = Status::Internal("not run");  // RunRespMux

  // Whether the one-thread driver's figure is the one to keep: it ran
  // without errors and moved more, or the other failed.
  bool one_thread_better() const {
    auto clean = [](const Result<LoadResult>& r) { return r.ok() && r->errors == 0; };
    if (!clean(one_thread)) return false;
    return !clean(threads) || one_thread->gbps() > threads->gbps();
  }
  const Result<LoadResult>& best() const { return one_thread_better() ? one_thread : threads; }
};

class RedisBench {
 public:
  RedisBench(BenchContext& ctx, uint16_t port) : ctx_(ctx), port_(port) {}

  Status Init() {
    auto c = Connect(port_);
    if (!c.ok()) return c.status();
    control_ = std::move(*c);
    Reply info = Command(control_.get(), "INFO server");
    if (!info || info->type != REDIS_REPLY_STRING)
      return Failure(control_.get(), info.get(), "INFO");
    const std::string text(info->str, info->len);
    const size_t at = text.find("redis_version:");
    version_ = at == std::string::npos ? "?" : text.substr(at + 14, text.find('\r', at) - at - 14);
    return Status::Ok();
  }
  std::string server() const { return "redis " + version_; }

  Status Flush() {
    Reply r = Command(control_.get(), "FLUSHALL");
    return r && r->type == REDIS_REPLY_STATUS ? Status::Ok()
                                              : Failure(control_.get(), r.get(), "FLUSHALL");
  }

  // One RespClient per worker (bench/resp_client.h), opened before the clock starts.
  Result<std::vector<std::unique_ptr<RespClient>>> DataConnections(uint32_t n) {
    std::vector<std::unique_ptr<RespClient>> conns;
    for (uint32_t i = 0; i < n; ++i) {
      auto c = RespClient::Connect(port_);
      if (!c.ok()) return c.status();
      conns.push_back(std::move(*c));
    }
    return conns;
  }

  // SET of distinct keys, cycling per worker so the resident set stays
  // bounded. Every key is written twice before the clock starts, so that
  // the measured SETs overwrite values the server holds into memory its
  // allocator has already used for a value: the same warm start as
  // ctxstore's pre-faulted arena (WaitUntilWarm). On the CI VM a page's
  // first access by the kernel is several times slower than the next
  // (docs/benchmarks.md, "Page faults the guest cannot see"); with one
  // pass, the first of three rounds of SET 4 MiB x4 ran at a quarter of the
  // third.
  Result<DriverResults> Set(uint64_t size, uint32_t workers) {
    CTX_RETURN_IF_ERROR(Flush());
    auto conns = DataConnections(workers);
    if (!conns.ok()) return conns.status();
    std::vector<std::vector<char>> values(workers, std::vector<char>(size));
    for (uint32_t w = 0; w < workers; ++w) FillValue(values[w].data(), values[w].size(), w + 1);
    const uint64_t slots = std::max<uint64_t>(1, KeyCount(ctx_, size, workers) / workers);
    auto set = [&](uint32_t w, uint64_t i) -> Result<uint64_t> {
      char key[48];
      const int len = std::snprintf(key, sizeof(key), "s:%u:%llu", w,
                                    static_cast<unsigned long long>(i % slots));
      CTX_RETURN_IF_ERROR((*conns)[w]->Set(std::string_view(key, static_cast<size_t>(len)),
                                           values[w].data(), size));
      return size;
    };
    for (uint64_t i = 0; i < 2 * slots; ++i) {
      for (uint32_t w = 0; w < workers; ++w) {
        auto warm = set(w, i);
        if (!warm.ok()) return warm.status();
      }
    }
    DriverResults out;
    out.threads = RunLoad(Spec(size, workers), set);
    RespMuxSpec mux{.port = port_, .op = RespMuxOp::kSet, .value_bytes = size};
    mux.key = [slots](uint32_t w, uint64_t i, std::array<char, 48>& buf) {
      const int len = std::snprintf(buf.data(), buf.size(), "s:%u:%llu", w,
                                    static_cast<unsigned long long>(i % slots));
      return std::string_view(buf.data(), static_cast<size_t>(len));
    };
    for (std::vector<char>& v : values) mux.values.push_back(v.data());
    out.one_thread = RunRespMux(Spec(size, workers), mux);
    return out;
  }

  // Stores `count` keys g:0.. of `size` bytes, pipelined in batches of
  // bounded bytes (hiredis buffers a whole batch).
  Status Preload(uint64_t size, uint64_t count) {
    CTX_RETURN_IF_ERROR(Flush());
    std::vector<char> value(size);
    FillValue(value.data(), value.size(), 7);
    const uint64_t batch = std::clamp<uint64_t>((64ull << 20) / size, 1, 256);
    for (uint64_t first = 0; first < count; first += batch) {
      const uint64_t n = std::min(batch, count - first);
      for (uint64_t k = first; k < first + n; ++k) {
        std::array<char, 32> buf;
        const std::string_view key = PreloadedKey(k, buf);
        const char* argv[] = {"SET", key.data(), value.data()};
        const size_t argv_len[] = {3, key.size(), size};
        redisAppendCommandArgv(control_.get(), 3, argv, argv_len);
      }
      for (uint64_t k = 0; k < n; ++k) {
        void* raw = nullptr;
        if (redisGetReply(control_.get(), &raw) != REDIS_OK) {
          return Failure(control_.get(), nullptr, "preload SET");
        }
        Reply r(static_cast<redisReply*>(raw));
        if (r->type != REDIS_REPLY_STATUS) return Failure(control_.get(), r.get(), "preload SET");
      }
    }
    return Status::Ok();
  }

  // GET round-robin over the preloaded keys, each read into a buffer of the
  // value's size and its length checked. Every key is read once before the
  // clock starts (as ctxstore's GET cells read a data set already sent from
  // once by the arena's population): the first send of a value written by
  // recv ran at a fifth of the later ones (GET 4 MiB x1, rounds of 0.52,
  // 0.57 and 2.68 GB/s without it).
  Result<DriverResults> Get(uint64_t size, uint32_t workers, uint64_t count) {
    auto conns = DataConnections(workers);
    if (!conns.ok()) return conns.status();
    std::vector<std::vector<char>> bufs(workers, std::vector<char>(size));
    for (uint64_t k = 0; k < count; ++k) {
      std::array<char, 32> buf;
      auto got = (*conns)[k % workers]->Get(PreloadedKey(k, buf), bufs[k % workers].data(), size);
      if (!got.ok()) return got.status();
    }
    DriverResults out;
    out.threads = RunLoad(Spec(size, workers), [&](uint32_t w, uint64_t i) -> Result<uint64_t> {
      std::array<char, 32> buf;
      auto got =
          (*conns)[w]->Get(PreloadedKey((w + i * workers) % count, buf), bufs[w].data(), size);
      if (!got.ok()) return got.status();
      if (*got != size) return Status::Corrupt("GET returned " + std::to_string(*got) + " bytes");
      return size;
    });
    RespMuxSpec mux{.port = port_, .op = RespMuxOp::kGet, .value_bytes = size};
    mux.key = [workers, count](uint32_t w, uint64_t i, std::array<char, 48>& buf) {
      const int len = std::snprintf(buf.data(), buf.size(), "g:%llu",
                                    static_cast<unsigned long long>((w + i * workers) % count));
      return std::string_view(buf.data(), static_cast<size_t>(len));
    };
    for (std::vector<char>& b : bufs) mux.values.push_back(b.data());
    out.one_thread = RunRespMux(Spec(size, workers), mux);
    return out;
  }

  // PING, EXISTS of one key and EXISTS of 64 keys on one connection.
  Result<json> Latency() {
    CTX_RETURN_IF_ERROR(Flush());
    std::vector<std::string> keys(64);
    std::vector<const char*> argv = {"EXISTS"};
    std::vector<size_t> argv_len = {6};
    for (size_t k = 0; k < keys.size(); ++k) {
      char key[32];
      std::snprintf(key, sizeof(key), "lat:%zu", k);
      keys[k] = key;
      Reply r = Command(control_.get(), "SET %s v", key);
      if (!r || r->type != REDIS_REPLY_STATUS) return Failure(control_.get(), r.get(), "SET");
      argv.push_back(keys[k].c_str());
      argv_len.push_back(keys[k].size());
    }
    uint64_t duration_ms = ctx_.options.quick ? 500 : 2000;
    if (ctx_.options.smoke) duration_ms = 100;
    redisContext* c = control_.get();
    json out = json::array();
    auto measure = [&](const char* op, auto issue) {
      ctx_.progress->Step(std::string("redis ") + op + " latency");
      const LoadResult res = RunLoad({.workers = 1, .duration_ms = duration_ms}, issue);
      json row = {{"op", op}};
      row.update(ToJson(res));
      out.push_back(row);
      char line[96];
      std::snprintf(line, sizeof(line), "p50 %.1f us, p99 %.1f us", res.p50_us, res.p99_us);
      ctx_.progress->Result(line);
    };
    auto expect = [c](Reply r, int type, long long integer, const char* what) -> Result<uint64_t> {
      if (!r || r->type != type || (type == REDIS_REPLY_INTEGER && r->integer != integer)) {
        return Failure(c, r.get(), what);
      }
      return uint64_t{0};
    };
    measure("ping", [&](uint32_t, uint64_t) {
      return expect(Command(c, "PING"), REDIS_REPLY_STATUS, 0, "PING");
    });
    measure("exists", [&](uint32_t, uint64_t) {
      return expect(Command(c, "EXISTS lat:0"), REDIS_REPLY_INTEGER, 1, "EXISTS");
    });
    measure("exists64", [&](uint32_t, uint64_t) {
      void* r = redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), argv_len.data());
      return expect(Reply(static_cast<redisReply*>(r)), REDIS_REPLY_INTEGER, 64, "EXISTS x64");
    });
    return out;
  }

 private:
  LoadSpec Spec(uint64_t size, uint32_t workers) const {
    return {.workers = workers,
            .duration_ms = ctx_.cell_duration_ms,
            .max_ops = std::max<uint64_t>(1, ctx_.cell_max_bytes / size)};
  }

  BenchContext& ctx_;
  uint16_t port_;
  Conn control_;
  std::string version_;
};

// The cell's row: the better driver's figures, and both drivers' in "drivers".
json Row(const char* op, uint64_t size, uint32_t conns, const Result<DriverResults>& res) {
  json row = {{"system", "redis"}, {"op", op}, {"value_bytes", size}, {"connections", conns}};
  if (!res.ok()) {
    row["error"] = res.status().ToString();
    return row;
  }
  auto figures = [](const Result<LoadResult>& r) -> json {
    if (!r.ok()) return {{"error", r.status().ToString()}};
    return {
        {"gbps", r->gbps()}, {"p50_us", r->p50_us}, {"p99_us", r->p99_us}, {"errors", r->errors}};
  };
  row["drivers"] = {{"threads", figures(res->threads)}, {"one_thread", figures(res->one_thread)}};
  const Result<LoadResult>& best = res->best();
  row["driver"] = res->one_thread_better() ? "one_thread" : "threads";
  if (best.ok()) {
    row.update(ToJson(*best));
  } else {
    row["error"] = best.status().ToString();
  }
  return row;
}

json Measure(BenchContext& ctx, RedisBench& bench) {
  json rows = json::array();
  const uint32_t max_conns = *std::max_element(ctx.connections.begin(), ctx.connections.end());
  auto report = [&](const Result<DriverResults>& res) {
    const Result<LoadResult>& best = res.ok() ? res->best() : Result<LoadResult>(res.status());
    if (best.ok()) {
      ctx.progress->Result(Summary(*best) +
                           (res->one_thread_better() ? " (one thread)" : " (thread each)"));
    } else {
      ctx.progress->Warn(best.status().ToString());
    }
  };
  for (uint64_t size : ctx.value_sizes) {
    for (uint32_t conns : ctx.connections) {
      ctx.progress->Step("redis SET " + SizeLabel(size) + " x" + std::to_string(conns));
      Result<DriverResults> res = bench.Set(size, conns);
      report(res);
      rows.push_back(Row("put", size, conns, res));
    }
    const uint64_t count = KeyCount(ctx, size, max_conns);
    const Status loaded = bench.Preload(size, count);
    for (uint32_t conns : ctx.connections) {
      ctx.progress->Step("redis GET " + SizeLabel(size) + " x" + std::to_string(conns));
      Result<DriverResults> res = loaded.ok() ? bench.Get(size, conns, count) : loaded;
      report(res);
      rows.push_back(Row("get", size, conns, res));
    }
  }
  return rows;
}

// redis-benchmark on the same server ("tool_rows"), the cross-check of the
// harness's rows against it, and the durable (AOF) server's SET ("aof").
void MeasureWithTool(BenchContext& ctx, uint16_t port, pid_t server_pid, json& out) {
  const std::string tool = FindExecutable("redis-benchmark");
  if (tool.empty()) {
    out["tool_skipped"] = "redis-benchmark is not installed";
    ctx.progress->Warn("redis-benchmark is not installed; no reference figure for redis");
    return;
  }
  out["tool_rows"] =
      RedisBenchmarkRows(ctx, tool, port, server_pid, "redis-benchmark", /*with_get=*/true);
  out["cross_check"] = CrossCheckRows(out["rows"], out["tool_rows"]);
  for (const json& c : out["cross_check"]) {
    if (c.value("valid", false)) continue;
    char line[160];
    std::snprintf(line, sizeof(line), "%s %s x%u: harness %.2f GB/s vs redis-benchmark %.2f GB/s",
                  c.value("op", "").c_str(), SizeLabel(c.value("value_bytes", uint64_t{0})).c_str(),
                  c.value("connections", 0u), c.value("own_gbps", 0.0), c.value("tool_gbps", 0.0));
    ctx.progress->Warn(std::string("redis baseline invalid: ") + line);
  }
  out["aof"] = RunRedisDurable(ctx, FindExecutable("redis-server"), tool);
}

}  // namespace

nlohmann::json RunRedis(BenchContext& ctx) {
  json out = json::object();
  if (ctx.value_sizes.empty() || ctx.connections.empty()) {
    return {{"skipped", {"no value sizes or connection counts"}}};
  }
  const std::string exe = FindExecutable("redis-server");
  if (exe.empty()) {
    ctx.progress->Warn("redis-server is not installed; redis baseline skipped");
    return {{"skipped", {"redis-server is not installed"}}};
  }
  Result<RedisServer> server = StartRedisServer(ctx, exe, "redis", kRedisCacheArgs);
  if (!server.ok()) return {{"error", server.status().ToString()}};
  try {
    RedisBench bench(ctx, server->port);
    Status st = bench.Init();
    if (st.ok()) {
      out["server"] = bench.server();
      out["rows"] = Measure(ctx, bench);
      auto latency = bench.Latency();
      if (latency.ok()) {
        out["latency"] = *latency;
      } else {
        out["error"] = latency.status().ToString();
      }
      st = bench.Flush();  // frees the server's memory before it stops
      if (st.ok()) MeasureWithTool(ctx, server->port, server->process->pid(), out);
    }
    if (!st.ok()) out["error"] = st.ToString();
  } catch (const std::exception& e) {  // bad_alloc of a value buffer
    out["error"] = e.what();
  }
  server->process->Stop(SIGTERM, 10000);
  return out;
}

}  // namespace ctxstore::bench
