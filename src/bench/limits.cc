// Limits of this machine, the yardsticks the data path is judged against:
// single-thread memcpy bandwidth, loopback TCP bandwidth over 1..N streams,
// and O_DIRECT sequential disk bandwidth where the data folder lives.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/harness.h"
#include "bench/loadgen.h"
#include "engine/security/encryption.h"

namespace ctxstore::bench {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string Gbps(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f GB/s", v);
  return buf;
}

// Copies a buffer several times larger than the last-level cache, so that
// the figure is DRAM bandwidth, not cache bandwidth. Bytes copied per second.
double MemcpyGbps(const BenchContext& ctx) {
  const long llc = sysconf(_SC_LEVEL3_CACHE_SIZE);
  uint64_t bytes =
      std::clamp<uint64_t>(llc > 0 ? 4 * static_cast<uint64_t>(llc) : 0, 256ull << 20, 1ull << 30);
  int runs = ctx.options.quick ? 3 : 7;
  if (ctx.options.smoke) {
    bytes = 16ull << 20;
    runs = 2;
  }
  // Filled (so touched) before timing: page faults are not memcpy.
  std::vector<char> src(bytes, 1), dst(bytes, 2);
  for (uint64_t i = 0; i < bytes; i += 4096) src[i] = static_cast<char>(i >> 12);
  std::vector<double> gbps;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = Clock::now();
    std::memcpy(dst.data(), src.data(), bytes);
    // The copy's result escapes here, so the compiler cannot drop it.
    asm volatile("" : : "r"(dst.data()) : "memory");
    gbps.push_back(static_cast<double>(bytes) / SecondsSince(t0) / 1e9);
  }
  return Median(gbps);
}

// AES-256-GCM on one thread, as the flusher seals and a flash read opens a
// 4 MiB value (OpenSSL, AES-NI where the CPU has it): plaintext bytes per
// second, sealing and opening.
std::pair<double, double> AesGcmGbps(const BenchContext& ctx) {
  constexpr uint64_t kValueBytes = 4ull << 20;
  const int values = ctx.options.smoke ? 4 : 64;  // 256 MiB a run
  const int runs = ctx.options.smoke ? 2 : (ctx.options.quick ? 3 : 7);
  engine::EncryptionKey key;
  key.name = "bench";
  for (size_t i = 0; i < key.bytes.size(); ++i) key.bytes[i] = static_cast<uint8_t>(i * 29 + 3);
  key.id = engine::EncryptionKeyId(key.bytes);
  std::vector<uint8_t> plain(kValueBytes), sealed(kValueBytes), opened(kValueBytes);
  FillValue(plain.data(), plain.size(), 11);
  const std::string aad = engine::RecordAad(1, 2, "bench/key", "");
  engine::SealInfo info;
  std::vector<double> seal_gbps, open_gbps;
  for (int r = 0; r < runs; ++r) {
    auto t0 = Clock::now();
    for (int i = 0; i < values; ++i) {
      if (!engine::SealValue(key, aad, plain.data(), sealed.data(), kValueBytes, &info).ok()) {
        return {0, 0};
      }
    }
    seal_gbps.push_back(static_cast<double>(kValueBytes) * values / SecondsSince(t0) / 1e9);
    t0 = Clock::now();
    for (int i = 0; i < values; ++i) {
      if (!engine::OpenValue(key, aad, info, sealed.data(), opened.data(), kValueBytes).ok()) {
        return {0, 0};
      }
    }
    open_gbps.push_back(static_cast<double>(kValueBytes) * values / SecondsSince(t0) / 1e9);
  }
  return {Median(seal_gbps), Median(open_gbps)};
}

// N sender and N receiver threads over loopback, 1 MiB writes; bytes
// received in the window after a short warm-up.
Result<double> SocketBlasterGbps(uint32_t streams, uint64_t duration_ms) {
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
  if (connected) std::this_thread::sleep_for(std::chrono::milliseconds(duration_ms));
  const double gbps = static_cast<double>(received.load() - start_bytes) / SecondsSince(t0) / 1e9;
  stop = true;
  // Shutting the sockets down wakes threads blocked in send/recv.
  for (int fd : senders) shutdown(fd, SHUT_RDWR);
  for (int fd : receivers) shutdown(fd, SHUT_RDWR);
  for (auto& t : threads) t.join();
  for (int fd : senders) close(fd);
  for (int fd : receivers) close(fd);
  if (!connected) return Status::Internal("loopback connect failed");
  return gbps;
}

// One iperf3 client run against a server on `port`; sum_received rate.
Result<double> Iperf3Gbps(const std::string& exe, uint16_t port, uint32_t streams,
                          uint64_t duration_ms) {
  const uint64_t seconds = std::max<uint64_t>(1, (duration_ms + 500) / 1000);
  auto run = RunCommand({exe, "-c", "127.0.0.1", "-p", std::to_string(port), "-P",
                         std::to_string(streams), "-t", std::to_string(seconds), "-J"},
                        static_cast<int>(seconds * 1000 + 20000));
  if (!run.ok()) return run.status();
  const json out = json::parse(run->out, nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded()) return Status::Internal("iperf3: unparsable output");
  if (out.contains("error")) return Status::Internal("iperf3: " + out["error"].dump());
  const json* bps = nullptr;
  if (out.contains("end") && out["end"].contains("sum_received")) {
    bps = &out["end"]["sum_received"]["bits_per_second"];
  }
  if (run->exit_code != 0 || bps == nullptr || !bps->is_number()) {
    return Status::Internal("iperf3 exited " + std::to_string(run->exit_code));
  }
  return bps->get<double>() / 8 / 1e9;
}

void MeasureTcp(BenchContext& ctx, json& out, json& skipped) {
  uint64_t duration_ms = ctx.options.quick ? 1000 : 3000;
  if (ctx.options.smoke) duration_ms = 200;
  // iperf3 runs in whole seconds; too coarse for a smoke run.
  const std::string iperf = ctx.options.smoke ? "" : FindExecutable("iperf3");
  std::unique_ptr<ChildProcess> server;
  uint16_t port = 0;
  if (!iperf.empty()) {
    auto free_port = FreePort();
    if (free_port.ok()) {
      port = *free_port;
      const std::string log = ctx.ScratchDir("iperf3") + "/iperf3.log";
      auto started = ChildProcess::Start({iperf, "-s", "-p", std::to_string(port)}, log);
      if (started.ok() && WaitForPort(port, started->get(), 10000).ok()) {
        server = std::move(*started);
      }
    }
    if (!server) skipped.push_back("iperf3 server did not start; used the socket blaster");
  }
  out["tcp_tool"] = server ? "iperf3" : "socket";
  out["tcp"] = json::array();
  std::vector<uint32_t> streams = ctx.connections;
  if (streams.empty()) streams = {1, 4, 16};
  for (uint32_t n : streams) {
    ctx.progress->Step("loopback TCP, " + std::to_string(n) + " streams");
    Result<double> gbps =
        server ? Iperf3Gbps(iperf, port, n, duration_ms) : SocketBlasterGbps(n, duration_ms);
    if (!gbps.ok()) {
      skipped.push_back("tcp " + std::to_string(n) + " streams: " + gbps.status().ToString());
      ctx.progress->Warn(gbps.status().ToString());
      continue;
    }
    out["tcp"].push_back({{"streams", n}, {"gbps", *gbps}});
    ctx.progress->Result(Gbps(*gbps));
  }
  if (server) server->Stop(SIGTERM, 5000);
}

// One fio job; bw_bytes of the `rw` direction, or why not.
Result<double> FioGbps(const std::string& exe, const std::string& file, uint64_t file_bytes,
                       const std::string& rw, const std::string& engine, int runtime_s) {
  auto run = RunCommand(
      {exe, "--name=ctxstore-" + rw, "--filename=" + file, "--size=" + std::to_string(file_bytes),
       "--bs=4M", "--iodepth=" + std::to_string(kFioIoDepth), "--rw=" + rw, "--direct=1",
       "--ioengine=" + engine, "--runtime=" + std::to_string(runtime_s), "--output-format=json"},
      (runtime_s + 60) * 1000);
  if (!run.ok()) return run.status();
  // fio may print warnings before the JSON document.
  const size_t brace = run->out.find('{');
  const json out = brace == std::string::npos
                       ? json()
                       : json::parse(run->out.substr(brace), nullptr, /*allow_exceptions=*/false);
  const std::string dir = rw == "write" ? "write" : "read";
  if (run->exit_code != 0 || out.is_discarded() || !out.contains("jobs") || out["jobs"].empty()) {
    std::string why = run->err.substr(0, run->err.find('\n'));
    return Status::IoError("fio " + engine + " exited " + std::to_string(run->exit_code) + ": " +
                           why);
  }
  const json& job = out["jobs"][0];
  if (job.value("error", 0) != 0) {
    return Status::IoError("fio " + engine + " error " + std::to_string(job.value("error", 0)));
  }
  return job[dir].value("bw_bytes", 0.0) / 1e9;
}

void MeasureDisk(BenchContext& ctx, json& out, json& skipped) {
  const std::string fio = FindExecutable("fio");
  if (fio.empty()) {
    skipped.push_back("disk: fio is not installed");
    ctx.progress->Warn("fio is not installed; disk bandwidth skipped");
    return;
  }
  uint64_t file_bytes = ctx.options.quick ? 512ull << 20 : 2ull << 30;
  int runtime_s = ctx.options.quick ? 10 : 30;
  if (ctx.options.smoke) {
    file_bytes = 32ull << 20;
    runtime_s = 5;
  }
  const std::string file = ctx.ScratchDir("fio") + "/fio.dat";
  ctx.progress->Step("O_DIRECT sequential write/read (fio)");
  // Containers and older kernels may refuse io_uring; fall back in order.
  for (const char* engine : {"io_uring", "libaio", "psync"}) {
    Result<double> write = FioGbps(fio, file, file_bytes, "write", engine, runtime_s);
    Result<double> read =
        write.ok() ? FioGbps(fio, file, file_bytes, "read", engine, runtime_s) : write.status();
    if (!read.ok()) {
      skipped.push_back("disk " + std::string(engine) + ": " + read.status().ToString());
      ctx.progress->Warn(read.status().ToString());
      continue;
    }
    out["disk"] = {{"tool", "fio"},          {"ioengine", engine},     {"path", file},
                   {"block_bytes", 4194304}, {"iodepth", kFioIoDepth}, {"file_bytes", file_bytes},
                   {"read_gbps", *read},     {"write_gbps", *write}};
    ctx.progress->Result(std::string(engine) + ": write " + Gbps(*write) + ", read " + Gbps(*read));
    break;
  }
  std::error_code ec;
  std::filesystem::remove(file, ec);
}

}  // namespace

nlohmann::json RunLimits(BenchContext& ctx) {
  json out = json::object();
  json skipped = json::array();
  try {
    ctx.progress->Step("single-thread memcpy");
    out["memcpy_gbps"] = MemcpyGbps(ctx);
    ctx.progress->Result(Gbps(out["memcpy_gbps"].get<double>()));
    ctx.progress->Step("single-thread AES-256-GCM seal and open");
    auto [seal_gbps, open_gbps] = AesGcmGbps(ctx);
    out["aes_gcm_seal_gbps"] = seal_gbps;
    out["aes_gcm_open_gbps"] = open_gbps;
    ctx.progress->Result(Gbps(seal_gbps) + " / " + Gbps(open_gbps));
    MeasureTcp(ctx, out, skipped);
    MeasureDisk(ctx, out, skipped);
  } catch (const std::exception& e) {  // bad_alloc, a thread that cannot start
    out["error"] = e.what();
  }
  out["skipped"] = skipped;
  return out;
}

}  // namespace ctxstore::bench
