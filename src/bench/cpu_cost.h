// CPU cost per byte (issue 17, part 4): on a 2-core machine efficiency is
// throughput, so each cell of the data path, each redis-benchmark cell and
// each loopback tool run records the CPU seconds its server and its client
// spent per GB moved. A server's (or any other process's) CPU comes from
// /proc/PID/stat (utime + stime, every thread); the harness's own from
// getrusage(RUSAGE_SELF); the tools it ran to completion (redis-benchmark,
// iperf3 clients) from getrusage(RUSAGE_CHILDREN), which counts the
// children it has waited for.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "ctxstore/status.h"

namespace ctxstore::bench {

// utime + stime of /proc/PID/stat, in clock ticks (fields 14 and 15,
// counted after the ')' that ends the command name, which may itself hold
// spaces and parentheses).
Result<uint64_t> ParseProcStatCpuTicks(const std::string& stat_text);

// CPU seconds (user + system, every thread) of a running process.
Result<double> ProcessCpuSeconds(pid_t pid);
// Of this process, and of the children it has waited for.
double SelfCpuSeconds();
double ChildrenCpuSeconds();

// The CPU one measurement cost: the server's (when a server pid was given),
// this process's, and the waited-for children's.
struct CellCpu {
  double server_s = -1;  // < 0: no server, or its /proc could not be read
  double self_s = 0;
  double children_s = 0;
};

// Reads the three at construction; Stop() returns what each spent since.
class CpuMeter {
 public:
  explicit CpuMeter(pid_t server_pid = -1);
  CellCpu Stop() const;

 private:
  pid_t server_pid_;
  double server_s_ = -1;
  double self_s_ = 0;
  double children_s_ = 0;
};

// Seconds per GB (10^9 bytes); 0 when nothing moved.
double CpuSecondsPerGb(double cpu_s, double bytes);

// Adds {"server_cpu_s", "server_cpu_s_per_gb", "client_cpu_s",
// "client_cpu_s_per_gb"} to row, the client being this process (own client)
// or its waited-for children (a tool it ran), as client_is_child says.
void AddCpuCost(nlohmann::json& row, const CellCpu& cpu, double bytes, bool client_is_child);

// XXH3-64 on one thread over 4 MiB buffers (as the client hashes a value
// before sending it and the server while receiving it): CPU seconds per GB.
double Xxh3SecondsPerGb(uint64_t total_bytes);

// The bound the CPU puts on a PUT burst: `cores` / (CPU-s per GB that a PUT
// cannot avoid: the loopback's copies, both ends, the cheapest of
// limits.tcp_configs' cpu_s_per_gb, plus one XXH3 pass on each side, the
// client's before sending and the server's while receiving). {"gbps",
// "cores", "cpu_s_per_gb", "loopback_cpu_s_per_gb", "loopback_tool",
// "loopback_streams", "xxh3_cpu_s_per_gb"}, or null when limits lacks a
// figure.
nlohmann::json PutCpuBound(const nlohmann::json& limits, unsigned cores);

}  // namespace ctxstore::bench
