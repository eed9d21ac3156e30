#include "server_process.h"

#include "common/subprocess.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fstream>

#include <iostream>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>

#ifndef CTXSTORE_BINARY
#error "CTXSTORE_BINARY must name the ctxstore executable (tests/CMakeLists.txt)"
#endif

namespace ctxstore::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kReadyPrefix = "ready: listening on 127.0.0.1:";

void MakePipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
}

// CTXSTORE_BINARY args...
std::vector<std::string> BinaryArgv(const std::vector<std::string>& args) {
  std::vector<std::string> argv{CTXSTORE_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace

// --- TempDir -----------------------------------------------------------------

TempDir::TempDir() {
  std::string tmpl = "/tmp/ctxstore-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

uint16_t UnusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error(std::string("cannot find an unused port: ") + std::strerror(errno));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// --- RunCli ------------------------------------------------------------------

std::string RandomBytes(size_t len, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(len, '\0');
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t v = rng();
    std::memcpy(out.data() + i, &v, 8);
  }
  for (; i < len; ++i) out[i] = static_cast<char>(rng());
  return out;
}

CliResult RunCli(const std::vector<std::string>& args, const std::string& stdin_data,
                 int timeout_ms) {
  Result<CommandResult> r = RunCommand(BinaryArgv(args), timeout_ms, stdin_data);
  if (!r.ok()) throw std::runtime_error("cannot run the CLI: " + r.status().ToString());
  return CliResult{r->exit_code, std::move(r->out), std::move(r->err)};
}

std::string Describe(const CliResult& r) {
  return "exit " + std::to_string(r.exit_code) + ", stdout: " + r.out + ", stderr: " + r.err;
}

// --- ServerProcess -----------------------------------------------------------

ServerProcess::ServerProcess(ServerOptions options) : options_(std::move(options)) {
  if (options_.data_dir.empty()) {
    owned_dir_ = std::make_unique<TempDir>();
    data_dir_ = owned_dir_->path();
  } else {
    data_dir_ = options_.data_dir;
  }
}

ServerProcess::~ServerProcess() {
  if (running()) {
    // A clean stop is part of every test, also one that leaves the server
    // to the destructor: a server that failed on the way out (a sanitizer
    // report exits with its own code) fails the test.
    int code = Stop();
    EXPECT_EQ(code, 0) << "server did not stop cleanly; log:\n" << log();
  }
  JoinDrain();
}

std::string ServerProcess::log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

void ServerProcess::DrainLoop(int fd) {
  char buf[16 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    std::lock_guard<std::mutex> lock(mu_);
    if (n <= 0) {
      drain_eof_ = true;
      cv_.notify_all();
      break;
    }
    log_.append(buf, static_cast<size_t>(n));
    cv_.notify_all();
  }
  ::close(fd);
}

void ServerProcess::JoinDrain() {
  if (drain_.joinable()) drain_.join();
}

::testing::AssertionResult ServerProcess::Start() {
  if (running()) return ::testing::AssertionFailure() << "server already running";
  JoinDrain();
  std::vector<std::string> args = {"serve",         "--data-dir",  data_dir_,
                                   "--listen",      "127.0.0.1:0", "--memory",
                                   options_.memory, "--disk",      options_.disk};
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  int fds[2];
  MakePipe(fds);
  {
    std::lock_guard<std::mutex> lock(mu_);
    drain_eof_ = false;
    log_start_ = log_.size();
  }
  std::vector<std::string> argv = BinaryArgv(args);
  if (!options_.binary.empty()) {
    argv = {options_.binary};
    argv.insert(argv.end(), options_.binary_args.begin(), options_.binary_args.end());
    argv.insert(argv.end(), args.begin(), args.end());
  }
  Result<pid_t> pid = SpawnProcess(argv, -1, fds[1], fds[1]);
  if (!pid.ok()) throw std::runtime_error("cannot start the server: " + pid.status().ToString());
  pid_ = *pid;
  ::close(fds[1]);
  drain_ = std::thread([this, fd = fds[0]] { DrainLoop(fd); });

  // Waits for a whole ready line: the port's digits may arrive in two reads.
  std::unique_lock<std::mutex> lock(mu_);
  auto parse_port = [this]() -> int {
    size_t at = log_.find(kReadyPrefix, log_start_);
    if (at == std::string::npos) return 0;
    size_t begin = at + kReadyPrefix.size();
    size_t end = begin;
    while (end < log_.size() && std::isdigit(static_cast<unsigned char>(log_[end]))) ++end;
    if (end == begin || end == log_.size()) return 0;  // digits may still be arriving
    return std::atoi(log_.substr(begin, end - begin).c_str());
  };
  int port = 0;
  bool done = cv_.wait_for(lock, std::chrono::milliseconds(options_.ready_timeout_ms), [&] {
    port = parse_port();
    return port != 0 || drain_eof_;
  });
  std::string output = log_.substr(log_start_);
  lock.unlock();
  if (port > 0 && port <= 65535) {
    port_ = static_cast<uint16_t>(port);
    return ::testing::AssertionSuccess();
  }
  std::string why =
      !done ? "no ready line within " + std::to_string(options_.ready_timeout_ms) + " ms"
            : "server exited before it was ready";
  KillAndReap();
  return ::testing::AssertionFailure() << why << "; its output:\n" << output;
}

int ServerProcess::Reap(int timeout_ms) {
  int code = WaitForExit(pid_, timeout_ms);
  if (code != -2) pid_ = -1;
  return code;
}

int ServerProcess::Stop() {
  if (!running()) return -1;
  ::kill(pid_, SIGTERM);
  int code = Reap(30000);
  if (code == -2) {
    ::kill(pid_, SIGKILL);
    code = Reap(30000);
  }
  JoinDrain();
  port_ = 0;
  return code;
}

int ServerProcess::KillAndReap() {
  ::kill(pid_, SIGKILL);
  int code = Reap(30000);
  JoinDrain();
  port_ = 0;
  return code;
}

int ServerProcess::AwaitExit(int timeout_ms) {
  if (!running()) return -1;
  int code = Reap(timeout_ms);
  if (code == -2) {
    KillAndReap();
    return -2;
  }
  JoinDrain();
  port_ = 0;
  return code;
}

void ServerProcess::Kill9() {
  if (!running()) return;
  int code = KillAndReap();
  // Anything else means the server had already exited by itself: it crashed,
  // or a sanitizer stopped it (ThreadSanitizer exits with 66), and the test
  // must not pass just because it meant to kill it anyway.
  EXPECT_EQ(code, 128 + SIGKILL) << "server exited by itself before SIGKILL; log:\n" << log();
}

::testing::AssertionResult ServerProcess::Restart() {
  int code = Stop();
  if (code != 0) {
    return ::testing::AssertionFailure() << "server exited with " << code << " on SIGTERM; log:\n"
                                         << log();
  }
  return Start();
}

CliResult ServerProcess::Cli(std::vector<std::string> args, const std::string& stdin_data) const {
  std::vector<std::string> full;
  if (!args.empty()) full.push_back(args[0]);
  full.push_back("--server");
  full.push_back(address());
  full.push_back("--data-dir");
  full.push_back(data_dir_);
  if (args.size() > 1) full.insert(full.end(), args.begin() + 1, args.end());
  return RunCli(full, stdin_data);
}

std::string ServerProcess::admin_token() const {
  std::ifstream file(data_dir_ + "/admin.token");
  std::string token;
  std::getline(file, token);
  return token;
}

void StopAndReport(ServerProcess& server) {
  if (server.running()) {
    EXPECT_EQ(server.Stop(), 0);
  }
  if (::testing::Test::HasFailure()) {
    std::cerr << "--- server log ---\n" << server.log() << "---\n";
  }
}

}  // namespace ctxstore::testing
