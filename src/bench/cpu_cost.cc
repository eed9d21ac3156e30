#include "bench/cpu_cost.h"

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include "bench/loadgen.h"
#include "common/hash.h"

namespace ctxstore::bench {
namespace {

double Seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

double UsageSeconds(int who) {
  rusage ru{};
  if (getrusage(who, &ru) != 0) return 0;
  return Seconds(ru.ru_utime) + Seconds(ru.ru_stime);
}

double ThreadCpuSeconds() {
  timespec ts{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

Result<uint64_t> ParseProcStatCpuTicks(const std::string& stat_text) {
  // "PID (comm) state ppid ...": comm may hold ") ", so the last ')' ends it.
  const size_t paren = stat_text.rfind(')');
  if (paren == std::string::npos) return Status::Corrupt("proc stat: no ')'");
  std::istringstream in(stat_text.substr(paren + 1));
  // Fields 3 (state) to 13 precede utime (14) and stime (15).
  std::string field;
  for (int i = 3; i <= 13; ++i) {
    if (!(in >> field)) return Status::Corrupt("proc stat: too few fields");
  }
  uint64_t utime = 0, stime = 0;
  if (!(in >> utime >> stime)) return Status::Corrupt("proc stat: no utime/stime");
  return utime + stime;
}

Result<double> ProcessCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return Status::NotFound("no /proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Result<uint64_t> ticks = ParseProcStatCpuTicks(text);
  if (!ticks.ok()) return ticks.status();
  const long hz = sysconf(_SC_CLK_TCK);
  return static_cast<double>(*ticks) / static_cast<double>(hz > 0 ? hz : 100);
}

double SelfCpuSeconds() {
  return UsageSeconds(RUSAGE_SELF);
}
double ChildrenCpuSeconds() {
  return UsageSeconds(RUSAGE_CHILDREN);
}

CpuMeter::CpuMeter(pid_t server_pid) : server_pid_(server_pid) {
  if (server_pid_ > 0) {
    Result<double> s = ProcessCpuSeconds(server_pid_);
    if (s.ok()) server_s_ = *s;
  }
  self_s_ = SelfCpuSeconds();
  children_s_ = ChildrenCpuSeconds();
}

CellCpu CpuMeter::Stop() const {
  CellCpu c;
  if (server_s_ >= 0) {
    Result<double> s = ProcessCpuSeconds(server_pid_);
    if (s.ok()) c.server_s = *s - server_s_;
  }
  c.self_s = SelfCpuSeconds() - self_s_;
  c.children_s = ChildrenCpuSeconds() - children_s_;
  return c;
}

double CpuSecondsPerGb(double cpu_s, double bytes) {
  return bytes > 0 ? cpu_s / (bytes / 1e9) : 0;
}

void AddCpuCost(nlohmann::json& row, const CellCpu& cpu, double bytes, bool client_is_child) {
  if (cpu.server_s >= 0) {
    row["server_cpu_s"] = cpu.server_s;
    row["server_cpu_s_per_gb"] = CpuSecondsPerGb(cpu.server_s, bytes);
  }
  const double client_s = client_is_child ? cpu.children_s : cpu.self_s;
  row["client_cpu_s"] = client_s;
  row["client_cpu_s_per_gb"] = CpuSecondsPerGb(client_s, bytes);
}

double Xxh3SecondsPerGb(uint64_t total_bytes) {
  constexpr size_t kValueBytes = 4 << 20;
  std::vector<uint8_t> value(kValueBytes);
  FillValue(value.data(), value.size(), 5);
  const uint64_t values = std::max<uint64_t>(1, total_bytes / kValueBytes);
  uint64_t sink = 0;
  // This thread's CPU alone, to the nanosecond (getrusage's split into user
  // and system time is sampled at ticks, too coarse for a short loop).
  const double t0 = ThreadCpuSeconds();
  for (uint64_t i = 0; i < values; ++i) sink ^= Xxh3(value.data(), value.size());
  // The hashes escape here, so the compiler cannot drop the loop.
  asm volatile("" : : "r"(sink) : "memory");
  const double s = ThreadCpuSeconds() - t0;
  return CpuSecondsPerGb(s, static_cast<double>(values * kValueBytes));
}

nlohmann::json PutCpuBound(const nlohmann::json& limits, unsigned cores) {
  if (!limits.is_object() || !limits.contains("xxh3_cpu_s_per_gb") || cores == 0) return nullptr;
  const double xxh3 = limits["xxh3_cpu_s_per_gb"].get<double>();
  nlohmann::json cheapest;
  for (const nlohmann::json& c : limits.value("tcp_configs", nlohmann::json::array())) {
    const double cost = c.value("cpu_s_per_gb", 0.0);
    if (cost <= 0) continue;
    if (cheapest.is_null() || cost < cheapest["cpu_s_per_gb"].get<double>()) cheapest = c;
  }
  if (cheapest.is_null() || xxh3 <= 0) return nullptr;
  const double loopback = cheapest["cpu_s_per_gb"].get<double>();
  const double per_gb = loopback + 2 * xxh3;
  return {{"gbps", static_cast<double>(cores) / per_gb},
          {"cores", cores},
          {"cpu_s_per_gb", per_gb},
          {"loopback_cpu_s_per_gb", loopback},
          {"loopback_tool", cheapest.value("tool", "")},
          {"loopback_streams", cheapest.value("streams", 0)},
          {"xxh3_cpu_s_per_gb", xxh3}};
}

}  // namespace ctxstore::bench
