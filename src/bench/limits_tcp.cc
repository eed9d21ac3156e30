// Loopback TCP bandwidth: the highest of a socket blaster in this process
// (one sender and one receiver thread per stream, 1 MiB writes) and iperf3
// run as one client/server process pair per stream with 1 MiB writes
// (Debian's iperf3 3.12 runs every stream of one process on one thread, so
// one process with -P N measures one core, not the machine).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/cpu_cost.h"
#include "bench/limits_parts.h"
#include "bench/tool_output.h"

namespace ctxstore::bench {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

// A loopback run: GB/s and the CPU both ends spent per GB.
struct TcpRun {
  double gbps = 0;
  double cpu_s_per_gb = 0;
};

// N sender and N receiver threads over loopback, 1 MiB writes; bytes
// received in the window after a short warm-up, and this process's CPU
// over that window (both ends are its threads).
Result<TcpRun> SocketBlaster(uint32_t streams, uint64_t duration_ms) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0) return Status::Internal("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listener, static_cast<int>(streams)) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(listener);
    return Status::Internal(std::string("loopback listen failed: ") + std::strerror(errno));
  }
  std::vector<int> senders, receivers;
  for (uint32_t i = 0; i < streams; ++i) {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      if (s >= 0) close(s);
      break;
    }
    senders.push_back(s);
    const int r = accept(listener, nullptr, nullptr);
    if (r < 0) break;
    receivers.push_back(r);
  }
  close(listener);
  const bool connected = receivers.size() == streams && senders.size() == streams;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> received{0};
  std::vector<std::thread> threads;
  constexpr size_t kChunkBytes = 1 << 20;
  if (connected) {
    for (uint32_t i = 0; i < streams; ++i) {
      threads.emplace_back([&, fd = senders[i]] {
        std::vector<char> buf(kChunkBytes, 'x');
        while (!stop.load(std::memory_order_relaxed)) {
          if (send(fd, buf.data(), buf.size(), MSG_NOSIGNAL) <= 0) break;
        }
      });
      threads.emplace_back([&, fd = receivers[i]] {
        std::vector<char> buf(kChunkBytes);
        while (true) {
          const ssize_t n = recv(fd, buf.data(), buf.size(), 0);
          if (n <= 0) break;
          received.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(duration_ms / 10));
  }
  const uint64_t start_bytes = received.load();
  const auto t0 = Clock::now();
  const CpuMeter cpu;
  if (connected) std::this_thread::sleep_for(std::chrono::milliseconds(duration_ms));
  const double moved = static_cast<double>(received.load() - start_bytes);
  const double cpu_s = cpu.Stop().self_s;
  const double gbps = moved / SecondsSince(t0) / 1e9;
  stop = true;
  // Shutting the sockets down wakes threads blocked in send/recv.
  for (int fd : senders) shutdown(fd, SHUT_RDWR);
  for (int fd : receivers) shutdown(fd, SHUT_RDWR);
  for (auto& t : threads) t.join();
  for (int fd : senders) close(fd);
  for (int fd : receivers) close(fd);
  if (!connected) return Status::Internal("loopback connect failed");
  return TcpRun{gbps, CpuSecondsPerGb(cpu_s, moved)};
}

// `streams` iperf3 server processes and as many clients, one stream each,
// 1 MiB writes, run together: the sum of what the receivers counted, and
// the CPU of every server (/proc) and client (waited-for children) per GB
// (bytes: GB/s times the -t seconds).
Result<TcpRun> Iperf3Pairs(BenchContext& ctx, const std::string& exe, uint32_t streams,
                           uint64_t seconds) {
  std::vector<std::unique_ptr<ChildProcess>> servers;
  std::vector<uint16_t> ports;
  const std::string dir = ctx.ScratchDir("iperf3");
  for (uint32_t i = 0; i < streams; ++i) {
    auto port = FreePort();
    if (!port.ok()) return port.status();
    auto server = ChildProcess::Start({exe, "-s", "-p", std::to_string(*port)},
                                      dir + "/server" + std::to_string(i) + ".log");
    if (!server.ok()) return server.status();
    CTX_RETURN_IF_ERROR(WaitForPort(*port, server->get(), 10000));
    servers.push_back(std::move(*server));
    ports.push_back(*port);
  }
  std::vector<Result<double>> results(streams, Status::Internal("not run"));
  double servers_cpu_s = 0;
  for (auto& server : servers) {
    Result<double> s = ProcessCpuSeconds(server->pid());
    servers_cpu_s -= s.ok() ? *s : 0;
  }
  const CpuMeter clients_cpu;
  std::vector<std::thread> clients;
  for (uint32_t i = 0; i < streams; ++i) {
    clients.emplace_back([&, i] {
      auto run = RunCommand({exe, "-c", "127.0.0.1", "-p", std::to_string(ports[i]), "-P", "1",
                             "-l", "1M", "-t", std::to_string(seconds), "-J"},
                            static_cast<int>(seconds * 1000 + 30000));
      results[i] = run.ok() ? ParseIperf3Gbps(run->out) : Result<double>(run.status());
    });
  }
  for (std::thread& t : clients) t.join();
  const double cpu_s = clients_cpu.Stop().children_s;
  for (auto& server : servers) {
    Result<double> s = ProcessCpuSeconds(server->pid());
    servers_cpu_s += s.ok() ? *s : 0;
    server->Stop(SIGTERM, 5000);
  }
  double sum = 0;
  for (const Result<double>& r : results) {
    if (!r.ok()) return r.status();
    sum += *r;
  }
  const double bytes = sum * 1e9 * static_cast<double>(seconds);
  return TcpRun{sum, CpuSecondsPerGb(cpu_s + servers_cpu_s, bytes)};
}

}  // namespace

std::string GbpsLabel(double gbps) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f GB/s", gbps);
  return buf;
}

void MeasureTcp(BenchContext& ctx, json& out, json& skipped) {
  uint64_t duration_ms = ctx.options.quick ? 1000 : 2000;
  if (ctx.options.smoke) duration_ms = 200;
  // iperf3 runs in whole seconds; too coarse for a smoke run.
  const std::string iperf = ctx.options.smoke ? "" : FindExecutable("iperf3");
  if (iperf.empty() && !ctx.options.smoke) skipped.push_back("iperf3 is not installed");
  const std::vector<uint32_t> stream_counts =
      ctx.options.smoke ? std::vector<uint32_t>{1, 2} : std::vector<uint32_t>{1, 2, 4, 16};
  out["tcp_configs"] = json::array();
  out["tcp"] = json::array();
  double limit = 0;
  for (uint32_t n : stream_counts) {
    json best;
    auto consider = [&](const char* tool, const Result<TcpRun>& run) {
      if (!run.ok()) {
        skipped.push_back(std::string("tcp ") + tool + " " + std::to_string(n) +
                          " streams: " + run.status().ToString());
        ctx.progress->Warn(run.status().ToString());
        return;
      }
      const double gbps = run->gbps;
      out["tcp_configs"].push_back(
          {{"tool", tool}, {"streams", n}, {"gbps", gbps}, {"cpu_s_per_gb", run->cpu_s_per_gb}});
      char cost[48];
      std::snprintf(cost, sizeof(cost), ", %.2f CPU-s/GB", run->cpu_s_per_gb);
      ctx.progress->Result(std::string(tool) + ": " + GbpsLabel(gbps) + cost);
      if (best.is_null() || gbps > best["gbps"].get<double>()) {
        best = {{"streams", n}, {"gbps", gbps}, {"tool", tool}};
      }
    };
    ctx.progress->Step("loopback TCP, " + std::to_string(n) + " streams (socket blaster)");
    consider("socket", SocketBlaster(n, duration_ms));
    if (!iperf.empty()) {
      ctx.progress->Step("loopback TCP, " + std::to_string(n) + " iperf3 process pairs");
      consider("iperf3", Iperf3Pairs(ctx, iperf, n, std::max<uint64_t>(1, duration_ms / 1000)));
    }
    if (best.is_null()) continue;
    out["tcp"].push_back(best);
    limit = std::max(limit, best["gbps"].get<double>());
  }
  if (limit > 0) out["loopback_limit_gbps"] = limit;
}

}  // namespace ctxstore::bench
