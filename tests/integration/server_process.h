// Test harness: runs the real ctxstore binary (CTXSTORE_BINARY) as a server
// process or as a one-shot CLI command.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ctxstore::testing {

// A fresh directory under /tmp, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A local port with nothing listening on it (bound once, then released).
uint16_t UnusedPort();

struct CliResult {
  int exit_code = -1;  // 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

// Runs `CTXSTORE_BINARY args...` with stdin_data on its stdin and collects
// stdout and stderr. A run past timeout_ms is killed (exit_code 128 + 9).
// len pseudo-random bytes, the same for the same seed: values to store and
// compare byte for byte.
std::string RandomBytes(size_t len, uint64_t seed);

CliResult RunCli(const std::vector<std::string>& args, const std::string& stdin_data = {},
                 int timeout_ms = 60000);

// "exit N, stdout: ..., stderr: ...": for assertion messages.
std::string Describe(const CliResult& r);

struct ServerOptions {
  // The server binary and the arguments it takes before "serve"; empty:
  // CTXSTORE_BINARY (a test build, such as tests/durability's
  // ctxstore-powercut, names itself here).
  std::string binary;
  std::vector<std::string> binary_args;
  std::string data_dir;  // empty: a TempDir owned by the ServerProcess
  std::string memory = "64MiB";
  std::string disk = "256MiB";
  std::vector<std::string> extra_args;
  int ready_timeout_ms = 20000;
};

// `CTXSTORE_BINARY serve --data-dir DIR --listen 127.0.0.1:0 --memory M
// --disk D [extra]`. Its stdout and stderr are drained on a background thread
// into log(), so the server never blocks on a full pipe; Start() returns once
// the "ready: listening on 127.0.0.1:PORT" line has appeared.
class ServerProcess {
 public:
  explicit ServerProcess(ServerOptions options = {});
  ~ServerProcess();  // stops a running server; fails the test unless it exits 0
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  ::testing::AssertionResult Start();
  // SIGTERM, then waits (SIGKILL after 30 s). Returns the exit code, 128 +
  // signal when killed by one, or -1 when it was not running.
  int Stop();
  // SIGKILL and reap: a crash, for recovery tests. Fails the test when the
  // server had already exited by itself (crashed, or stopped by a sanitizer).
  void Kill9();
  // Waits for a server that ends by itself (a test server after a power
  // cut) and reaps it: its exit code, -2 when it is still running after
  // timeout_ms (then it is killed), -1 when it was not running.
  int AwaitExit(int timeout_ms);
  // Stop() then Start() on the same data directory (the port changes).
  ::testing::AssertionResult Restart();

  bool running() const { return pid_ > 0; }
  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& data_dir() const { return data_dir_; }
  // The admin token the server wrote to DATA_DIR/admin.token on its first
  // start ("" when there is none, e.g. with --no-auth).
  std::string admin_token() const;
  // Everything the server has written to stdout and stderr so far, across restarts.
  std::string log() const;

  // RunCli with `--server 127.0.0.1:PORT --data-dir DATA_DIR` inserted after
  // the subcommand (args[0]): the CLI authenticates with the admin token it
  // finds there, unless args give --token.
  CliResult Cli(std::vector<std::string> args, const std::string& stdin_data = {}) const;

 private:
  int Reap(int timeout_ms);  // waitpid with a deadline; -2 on timeout
  int KillAndReap();         // SIGKILL, reap; the exit code
  void DrainLoop(int fd);
  void JoinDrain();

  ServerOptions options_;
  std::unique_ptr<TempDir> owned_dir_;
  std::string data_dir_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;

  std::thread drain_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string log_;         // guarded by mu_
  bool drain_eof_ = false;  // guarded by mu_
  size_t log_start_ = 0;    // where the current run's output begins in log_
};

// For a fixture's TearDown: a clean stop (flush, checkpoint, exit 0) is part
// of every test, and a failed test prints the server's log.
void StopAndReport(ServerProcess& server);

}  // namespace ctxstore::testing
