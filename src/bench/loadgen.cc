#include "bench/loadgen.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <thread>

namespace ctxstore::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

}  // namespace

void OpTally::Record(const Result<uint64_t>& moved, uint64_t iteration, double latency_us) {
  if (moved.ok()) {
    ops++;
    bytes += *moved;
  } else {
    errors++;
    if (first_error.empty()) first_error = moved.status().ToString();
  }
  if (iteration % sample_stride != 0) return;
  latencies_us.push_back(latency_us);
  if (latencies_us.size() >= kMaxSamplesPerWorker) {
    // Keep every other sample and halve the rate from now on.
    size_t kept = 0;
    for (size_t k = 0; k < latencies_us.size(); k += 2) latencies_us[kept++] = latencies_us[k];
    latencies_us.resize(kept);
    sample_stride *= 2;
  }
}

double Percentile(std::vector<double>& samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  double rank = p / 100.0 * static_cast<double>(samples.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(rank));
  size_t hi = std::min(lo + 1, samples.size() - 1);
  double frac = rank - static_cast<double>(lo);
  return samples[lo] + (samples[hi] - samples[lo]) * frac;
}

double Median(std::vector<double> values) {
  return Percentile(values, 50);
}

LoadResult SumRound(const std::vector<OpTally>& tallies, SteadyClock::time_point start,
                    const std::vector<SteadyClock::time_point>& ends) {
  LoadResult r;
  SteadyClock::time_point end = start;
  std::vector<double> all;
  for (size_t w = 0; w < tallies.size(); ++w) {
    const OpTally& t = tallies[w];
    r.ops += t.ops;
    r.bytes += t.bytes;
    r.errors += t.errors;
    if (r.first_error.empty()) r.first_error = t.first_error;
    all.insert(all.end(), t.latencies_us.begin(), t.latencies_us.end());
    end = std::max(end, ends[w]);
  }
  r.seconds = std::chrono::duration<double>(end - start).count();
  r.p50_us = Percentile(all, 50);
  r.p99_us = Percentile(all, 99);
  r.latencies_us = std::move(all);
  return r;
}

namespace {

// One round: every worker from iteration `first` on.
LoadResult RunRound(const LoadSpec& spec, const LoadOp& op, uint64_t first) {
  const uint32_t workers = std::max<uint32_t>(1, spec.workers);
  std::vector<OpTally> tallies(workers);
  std::atomic<uint32_t> ready{0};
  std::atomic<bool> go{false};
  std::atomic<uint64_t> issued{0};
  SteadyClock::time_point start;
  std::vector<SteadyClock::time_point> ends(workers);
  const auto duration = std::chrono::milliseconds(spec.duration_ms);

  auto body = [&](uint32_t w) {
    OpTally& t = tallies[w];
    ready.fetch_add(1);
    while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
    for (uint64_t i = 0;; ++i) {
      if (i >= spec.min_ops) {
        if (SteadyClock::now() - start >= duration) break;
        if (spec.max_ops != 0 && issued.fetch_add(1) >= spec.max_ops) break;
      } else if (spec.max_ops != 0) {
        issued.fetch_add(1);
      }
      auto t0 = SteadyClock::now();
      Result<uint64_t> moved = op(w, first + i);
      auto t1 = SteadyClock::now();
      t.Record(moved, i, std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    ends[w] = SteadyClock::now();
  };

  std::vector<std::thread> threads;
  threads.reserve(workers);
  for (uint32_t w = 0; w < workers; ++w) threads.emplace_back(body, w);
  while (ready.load() < workers) std::this_thread::yield();
  start = SteadyClock::now();
  go.store(true, std::memory_order_release);
  for (std::thread& t : threads) t.join();

  return SumRound(tallies, start, ends);
}

}  // namespace

LoadResult RunRounds(const LoadSpec& spec, const RoundFn& round) {
  const uint32_t rounds = std::max<uint32_t>(1, spec.rounds);
  LoadSpec round_spec = spec;
  round_spec.duration_ms = std::max<uint64_t>(1, spec.duration_ms / rounds);
  round_spec.max_ops = spec.max_ops == 0 ? 0 : std::max<uint64_t>(1, spec.max_ops / rounds);
  LoadResult total;
  std::vector<double> all;
  uint64_t first = 0;
  for (uint32_t k = 0; k < rounds; ++k) {
    LoadResult r = round(round_spec, first);
    first += r.ops + r.errors;  // later rounds go on where this one stopped
    total.ops += r.ops;
    total.bytes += r.bytes;
    total.errors += r.errors;
    total.seconds += r.seconds;
    if (total.first_error.empty()) total.first_error = r.first_error;
    total.round_gbps.push_back(r.gbps());
    total.round_ops_per_s.push_back(r.ops_per_s());
    all.insert(all.end(), r.latencies_us.begin(), r.latencies_us.end());
  }
  total.p50_us = Percentile(all, 50);
  total.p99_us = Percentile(all, 99);
  return total;
}

LoadResult RunLoad(const LoadSpec& spec, const LoadOp& op) {
  return RunRounds(spec, [&](const LoadSpec& round_spec, uint64_t first) {
    return RunRound(round_spec, op, first);
  });
}

void FillValue(void* data, size_t len, uint64_t seed) {
  auto* p = static_cast<uint8_t*>(data);
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < len; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    p[i] = static_cast<uint8_t>(x);
  }
}

std::string SizeLabel(uint64_t bytes) {
  char buf[32];
  const auto n = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) {
    std::snprintf(buf, sizeof(buf), "%llu MiB", n(bytes >> 20));
  } else if (bytes >= 1024 && bytes % 1024 == 0) {
    std::snprintf(buf, sizeof(buf), "%llu KiB", n(bytes >> 10));
  } else {
    std::snprintf(buf, sizeof(buf), "%llu B", n(bytes));
  }
  return buf;
}

std::string Summary(const LoadResult& r) {
  char buf[200];
  std::snprintf(buf, sizeof(buf), "%.2f GB/s, %.0f op/s, p50 %.0f us, p99 %.0f us", r.gbps(),
                r.ops_per_s(), r.p50_us, r.p99_us);
  std::string out = buf;
  if (r.errors > 0) out += ", " + std::to_string(r.errors) + " errors, first: " + r.first_error;
  return out;
}

nlohmann::json ToJson(const LoadResult& r) {
  nlohmann::json j = {{"rounds_gbps", r.round_gbps}, {"ops", r.ops},         {"bytes", r.bytes},
                      {"errors", r.errors},          {"seconds", r.seconds}, {"gbps", r.gbps()},
                      {"ops_per_s", r.ops_per_s()},  {"p50_us", r.p50_us},   {"p99_us", r.p99_us}};
  if (!r.first_error.empty()) j["first_error"] = r.first_error;
  return j;
}

}  // namespace ctxstore::bench
