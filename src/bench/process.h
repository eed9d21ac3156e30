// Child processes for the benchmark harness: the ctxstore server, redis,
// fio and iperf3 run as real programs beside the harness, never in-process,
// so that every system is measured the way a user would run it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/subprocess.h"  // RunCommand, for the tools the harness runs
#include "ctxstore/status.h"

namespace ctxstore::bench {

// A long-running program (a server). Its stdout and stderr go to log_path.
// The destructor stops it (SIGTERM, then SIGKILL after 30 s).
class ChildProcess {
 public:
  static Result<std::unique_ptr<ChildProcess>> Start(const std::vector<std::string>& argv,
                                                     const std::string& log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // True when the process has exited on its own (it is then reaped).
  bool Exited();
  // Sends `signal`, waits up to timeout_ms, then SIGKILL. Returns the exit
  // code, 128 + signal when killed by one, -1 when it was not running.
  int Stop(int signal, int timeout_ms = 30000);

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
};

// The full path of `name` on PATH, or "" when it is not installed.
std::string FindExecutable(const std::string& name);

// A loopback TCP port with nothing listening on it (bound once, released).
Result<uint16_t> FreePort();

// Polls until a TCP connect to 127.0.0.1:port succeeds, the child exits, or
// timeout_ms passes.
Status WaitForPort(uint16_t port, ChildProcess* child, int timeout_ms);

// Bytes of anonymous resident memory of a process (RssAnon in
// /proc/PID/status): its heap, not file or shared (memfd) pages.
Result<uint64_t> RssAnonBytes(pid_t pid);

}  // namespace ctxstore::bench
