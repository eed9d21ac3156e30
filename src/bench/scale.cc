// Section 6, "Scale": the server's index memory per object and its restart
// time, from 100k to 10M small objects (10M in a full run only). Index memory is the growth of the
// server's anonymous RSS (its heap; the DRAM arena is a memfd and not
// counted) while N objects are loaded. Restart time is from spawning the
// server until it accepts connections and serves the last key written, once
// after SIGKILL (no checkpoint: recovery scans the segments) and once after
// a clean stop (SIGTERM writes a checkpoint).
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/harness.h"
#include "common/units.h"
#include "ctxstore/client.h"

namespace ctxstore::bench {
namespace {

constexpr uint64_t kValueBytes = 64;
constexpr uint64_t kKeyBytes = 22;  // "scale/" + 16 hex digits
constexpr uint64_t kBatchItems = 512;
constexpr uint32_t kLoadThreads = 4;
constexpr int kVerifyKeys = 16;
constexpr uint64_t kWarmupFirst = 1ull << 40;  // keys of the warm-up objects
// Every record takes one 4 KiB block in the arena and on flash.
constexpr uint64_t kRecordBytes = 4096;
constexpr int kCleanStopTimeoutMs = 600000;

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string ScaleKey(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "scale/%016llx", static_cast<unsigned long long>(i));
  return buf;
}

// The value of object i: its index in the first bytes, so that a read
// proves it is the right object.
std::string ScaleValue(uint64_t i) {
  std::string v(kValueBytes, 'v');
  std::memcpy(v.data(), &i, sizeof(i));
  return v;
}

Result<std::unique_ptr<Client>> ConnectTo(const StoreServer& server) {
  ClientOptions o;
  o.port = server.port;
  o.token = server.token;
  o.client_name = "bench-scale";
  return Client::Connect(o);
}

// Loads objects [first, first + n) in batches from several threads; the
// first error.
Status LoadObjects(Client& client, uint64_t first, uint64_t n) {
  std::atomic<uint64_t> next_batch{0};
  std::atomic<bool> failed{false};
  Status first_error;
  std::mutex mu;
  auto worker = [&] {
    std::vector<std::string> keys, values;
    std::vector<PutItem> items;
    for (;;) {
      if (failed.load()) return;
      const uint64_t begin = next_batch.fetch_add(1) * kBatchItems;
      if (begin >= n) return;
      const uint64_t end = std::min(n, begin + kBatchItems);
      keys.clear();
      values.clear();
      items.clear();
      for (uint64_t i = first + begin; i < first + end; ++i) {
        keys.push_back(ScaleKey(i));
        values.push_back(ScaleValue(i));
      }
      for (size_t j = 0; j < keys.size(); ++j) {
        items.push_back({keys[j], std::span(reinterpret_cast<const uint8_t*>(values[j].data()),
                                            values[j].size())});
      }
      auto r = client.BatchPut(items);
      Status st = r.status();
      if (r.ok()) {
        for (StatusCode c : *r) {
          if (c != StatusCode::kOk && c != StatusCode::kExists) {
            st = Status(c, "BatchPut item failed");
            break;
          }
        }
      }
      if (!st.ok()) {
        std::lock_guard lock(mu);
        if (!failed.exchange(true)) first_error = st;
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < kLoadThreads; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  return first_error;
}

// Reads the last key and kVerifyKeys random ones; the number that fail.
uint64_t VerifyKeys(Client& client, uint64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> picks = {n - 1};
  for (int i = 0; i < kVerifyKeys; ++i) picks.push_back(rng() % n);
  uint64_t failures = 0;
  for (uint64_t i : picks) {
    auto v = client.Get(ScaleKey(i));
    if (!v.ok() || *v != ScaleValue(i)) ++failures;
  }
  return failures;
}

// The server's resident anonymous memory once it has settled: the store
// returns the heap that a burst of writes used within about a second of the
// burst (its flusher trims the heap when idle), so wait until two readings
// 500 ms apart agree within 256 KiB, for up to 5 s.
Result<uint64_t> SettledRssAnon(pid_t pid) {
  constexpr auto kInterval = std::chrono::milliseconds(500);
  constexpr int kMaxReadings = 10;
  constexpr uint64_t kStableBytes = 256 * 1024;
  std::this_thread::sleep_for(kInterval);
  auto last = RssAnonBytes(pid);
  for (int i = 1; i < kMaxReadings && last.ok(); ++i) {
    std::this_thread::sleep_for(kInterval);
    auto now = RssAnonBytes(pid);
    if (!now.ok()) return now;
    const uint64_t diff = *now > *last ? *now - *last : *last - *now;
    last = now;
    if (diff <= kStableBytes) break;
  }
  return last;
}

struct Restart {
  double seconds = 0;
  double recovery_ms = 0;
  bool from_checkpoint = false;
  uint64_t recovered_objects = 0;
  uint64_t errors = 0;
  uint64_t rss_anon = 0;  // once settled, after the reads
};

// Starts the server on `data_dir` and waits until the last key reads back;
// the time from spawn to that read, and what the server says of its recovery.
Result<Restart> TimedRestart(const BenchContext& ctx, const std::vector<std::string>& args,
                             const std::string& data_dir, uint64_t n, StoreServer* server) {
  Restart out;
  const Clock::time_point t0 = Clock::now();
  auto started = StartStoreServer(ctx, "scale", args, data_dir);
  if (!started.ok()) return started.status();
  *server = std::move(*started);
  auto client = ConnectTo(*server);
  if (!client.ok()) return client.status();
  auto last = (*client)->Get(ScaleKey(n - 1));
  out.seconds = SecondsSince(t0);
  if (!last.ok())
    return Status(last.status().code(), "last key after restart: " + last.status().ToString());
  out.errors = VerifyKeys(**client, n, n);
  auto stats = (*client)->StatsJson();
  if (stats.ok()) {
    nlohmann::json j = nlohmann::json::parse(*stats, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) {
      out.recovery_ms = j.value("recovery_ms", 0.0);
      out.from_checkpoint = j.value("recovered_from_checkpoint", false);
      out.recovered_objects = j.value("recovered_objects", uint64_t{0});
    }
  }
  auto rss = SettledRssAnon(server->process->pid());
  if (rss.ok()) out.rss_anon = *rss;
  return out;
}

// The server's options for n objects (recorded in the row): DRAM takes a
// 4 KiB page per object (flash far less: the disk is sized generously).
// DRAM may be smaller than the data (objects then stay on flash only, which
// the index does not see).
std::vector<std::string> ScaleServerArgs(uint64_t n, nlohmann::json& row) {
  // Small records share 4 KiB blocks on flash (about 190 B per object), so
  // 32 GiB holds 10M of them many times over; --disk is a cap, not an
  // allocation.
  const uint64_t disk_bytes = std::clamp<uint64_t>(2 * n * kRecordBytes, 1 * kGiB, 32 * kGiB);
  const uint64_t memory_bytes =
      std::clamp<uint64_t>(n * kRecordBytes + 64 * kMiB, 256 * kMiB, 2 * kGiB);
  char mem_arg[32], disk_arg[32];
  std::snprintf(mem_arg, sizeof(mem_arg), "%lluMiB",
                static_cast<unsigned long long>(memory_bytes / kMiB));
  std::snprintf(disk_arg, sizeof(disk_arg), "%lluMiB",
                static_cast<unsigned long long>(disk_bytes / kMiB));
  row["memory"] = mem_arg;
  row["disk"] = disk_arg;
  // No periodic checkpoint: after SIGKILL recovery scans every segment, the
  // worst case.
  return {"--memory", mem_arg, "--disk", disk_arg, "--checkpoint-interval", "24h"};
}

// Loads objects [0, n) into the running server through `client` and
// measures the growth of its anonymous memory per object, over a baseline
// taken after warm-up.
Status MeasureIndexMemory(Client& client, const StoreServer& server, uint64_t n,
                          nlohmann::json& row) {
  // Warm up every loading connection (their buffers belong to the
  // baseline) with objects outside [0, n).
  CTX_RETURN_IF_ERROR(LoadObjects(client, kWarmupFirst, 4 * kLoadThreads * kBatchItems));
  CTX_RETURN_IF_ERROR(client.Flush());
  auto before = SettledRssAnon(server.process->pid());
  if (!before.ok()) return before.status();
  const Clock::time_point t0 = Clock::now();
  CTX_RETURN_IF_ERROR(LoadObjects(client, 0, n));
  row["load_s"] = SecondsSince(t0);
  CTX_RETURN_IF_ERROR(client.Flush());
  row["flush_s"] = SecondsSince(t0);
  auto after = SettledRssAnon(server.process->pid());
  if (!after.ok()) return after.status();
  const double per_object =
      static_cast<double>(static_cast<int64_t>(*after) - static_cast<int64_t>(*before)) / n;
  row["rss_anon_before"] = *before;
  row["rss_anon_after"] = *after;
  row["index_bytes_per_object"] = per_object;
  row["index_bytes_per_object_minus_key"] = per_object - static_cast<double>(kKeyBytes);
  row["errors"] = VerifyKeys(client, n, 1);
  return Status::Ok();
}

// Kills the loaded server (everything is on flash and synced; no
// checkpoint has been written) and restarts it: a full segment scan. Then
// stops it cleanly (a checkpoint) and restarts it from the checkpoint.
// rss_empty is the anonymous memory of the empty store.
Status MeasureRestarts(const BenchContext& ctx, const std::vector<std::string>& args,
                       const std::string& data_dir, uint64_t n, uint64_t rss_empty,
                       StoreServer& server, nlohmann::json& row) {
  server.process->Stop(SIGKILL, 1000);
  server = StoreServer{};
  auto kill9 = TimedRestart(ctx, args, data_dir, n, &server);
  if (!kill9.ok()) return kill9.status();
  row["restart_kill9_s"] = kill9->seconds;
  row["recovery_ms_kill9"] = kill9->recovery_ms;
  row["from_checkpoint_kill9"] = kill9->from_checkpoint;
  row["recovered_objects_kill9"] = kill9->recovered_objects;

  // SIGTERM writes the checkpoint before the server exits: at 10M objects
  // that took longer than ChildProcess's default 30 s on the 2-core VM, and a
  // stop cut short by SIGKILL would make the "clean" restart a second full
  // scan. The stop's own time is recorded.
  const Clock::time_point t_stop = Clock::now();
  row["clean_stop_exit"] = server.process->Stop(SIGTERM, kCleanStopTimeoutMs);
  row["clean_stop_s"] = SecondsSince(t_stop);
  server = StoreServer{};
  auto clean = TimedRestart(ctx, args, data_dir, n, &server);
  if (!clean.ok()) return clean.status();
  row["restart_clean_s"] = clean->seconds;
  row["recovery_ms_clean"] = clean->recovery_ms;
  row["from_checkpoint_clean"] = clean->from_checkpoint;
  row["recovered_objects_clean"] = clean->recovered_objects;
  // The index as rebuilt from the checkpoint, without what the write path
  // left in the heap: per recovered object (the warm-up objects included),
  // over the empty store.
  row["rss_anon_after_restart"] = clean->rss_anon;
  if (clean->recovered_objects > 0) {
    row["index_bytes_per_object_restart"] =
        (static_cast<double>(clean->rss_anon) - static_cast<double>(rss_empty)) /
        static_cast<double>(clean->recovered_objects);
  }
  row["errors"] = row["errors"].get<uint64_t>() + kill9->errors + clean->errors;
  return Status::Ok();
}

// One object count: load, measure, kill -9 and restart, stop cleanly and
// restart. Fills `row`; returns the first error.
Status MeasureCount(BenchContext& ctx, uint64_t n, nlohmann::json& row) {
  const std::vector<std::string> args = ScaleServerArgs(n, row);
  const std::string data_dir = ctx.ScratchDir("scale");
  // The start of an empty store: the fixed part of every restart (the DRAM
  // arena is mapped and populated before the index is read).
  const Clock::time_point t_empty = Clock::now();
  auto started = StartStoreServer(ctx, "scale", args, data_dir);
  if (!started.ok()) return started.status();
  row["empty_start_s"] = SecondsSince(t_empty);
  StoreServer server = std::move(*started);
  uint64_t rss_empty = 0;
  {
    auto client = ConnectTo(server);
    if (!client.ok()) return client.status();
    auto empty = SettledRssAnon(server.process->pid());
    if (!empty.ok()) return empty.status();
    rss_empty = *empty;
    row["rss_anon_empty"] = rss_empty;
    CTX_RETURN_IF_ERROR(MeasureIndexMemory(**client, server, n, row));
  }
  CTX_RETURN_IF_ERROR(MeasureRestarts(ctx, args, data_dir, n, rss_empty, server, row));
  // Its data is deleted next: no checkpoint to wait for.
  server.process->Stop(SIGKILL, 1000);
  // Up to 8 GiB of segments: free the disk for the next sections.
  std::error_code ec;
  std::filesystem::remove_all(data_dir, ec);
  return Status::Ok();
}

}  // namespace

nlohmann::json RunScale(BenchContext& ctx) {
  std::vector<uint64_t> counts;
  if (ctx.options.smoke) {
    counts = {2000, 5000};
  } else if (ctx.options.quick) {
    counts = {100000, 300000};
  } else {
    // 10M objects took 6 to 8 min of a full run on the shared 2-core VM
    // (loading them 273-302 s, then a clean stop and two restarts of
    // 26-50 s each; docs/benchmarks.md): 250k and 500k make way for it.
    counts = {100000, 1000000, 10000000};
  }
  if (ctx.scale_max_objects > 0) {
    std::erase_if(counts, [&](uint64_t n) { return n > ctx.scale_max_objects; });
    if (counts.empty()) counts.push_back(ctx.scale_max_objects);
  }
  nlohmann::json out = {{"value_bytes", kValueBytes},
                        {"key_bytes", kKeyBytes},
                        {"load_threads", kLoadThreads},
                        {"batch_items", kBatchItems},
                        {"rows", nlohmann::json::array()}};
  for (uint64_t n : counts) {
    char what[64];
    std::snprintf(what, sizeof(what), "%llu objects", static_cast<unsigned long long>(n));
    if (ctx.progress) ctx.progress->Step(what);
    nlohmann::json row = {{"objects", n}, {"errors", 0}};
    Status st = MeasureCount(ctx, n, row);
    if (!st.ok()) {
      row["error"] = st.ToString();
      if (ctx.progress) ctx.progress->Warn(std::string(what) + ": " + st.ToString());
    } else if (ctx.progress) {
      char line[160];
      std::snprintf(line, sizeof(line),
                    "%.1f B/object (%.1f without the key), restart %.2f s clean, %.2f s after "
                    "kill -9",
                    row["index_bytes_per_object"].get<double>(),
                    row["index_bytes_per_object_minus_key"].get<double>(),
                    row["restart_clean_s"].get<double>(), row["restart_kill9_s"].get<double>());
      ctx.progress->Result(line);
    }
    out["rows"].push_back(std::move(row));
  }
  return out;
}

}  // namespace ctxstore::bench
