#include "server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iostream>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#ifndef CTXSTORE_BINARY
#error "CTXSTORE_BINARY must name the ctxstore executable (tests/CMakeLists.txt)"
#endif

namespace ctxstore::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kReadyPrefix = "ready: listening on 127.0.0.1:";

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

void MakePipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
}

// fork + exec of CTXSTORE_BINARY with the given descriptors as 0, 1 and 2
// (-1: /dev/null for stdin). Everything the child needs is prepared before
// fork: after it, only async-signal-safe calls are allowed.
pid_t Spawn(const std::vector<std::string>& args, int stdin_fd, int stdout_fd, int stderr_fd,
            bool die_with_parent) {
  std::vector<std::string> argv_strings;
  argv_strings.push_back(CTXSTORE_BINARY);
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid > 0) return pid;

  // Child.
  if (die_with_parent) {
    // A crashed test must not leave servers behind.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
  }
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &dfl, nullptr);  // the test process ignores it; exec keeps that
  if (stdin_fd < 0) stdin_fd = ::open("/dev/null", O_RDONLY);
  if (::dup2(stdin_fd, 0) < 0 || ::dup2(stdout_fd, 1) < 0 || ::dup2(stderr_fd, 2) < 0) {
    ::_exit(127);
  }
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

void IgnoreSigpipe() {
  // Writing a CLI's stdin after it exited must fail with EPIPE, not kill the test.
  static const bool once = [] {
    ::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)once;
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

CliResult RunCli(const std::vector<std::string>& args, const std::string& stdin_data,
                 int timeout_ms) {
  IgnoreSigpipe();
  int in[2], out[2], err[2];
  MakePipe(in);
  MakePipe(out);
  MakePipe(err);
  pid_t pid = Spawn(args, in[0], out[1], err[1], /*die_with_parent=*/true);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  ::fcntl(in[1], F_SETFL, O_NONBLOCK);

  CliResult result;
  size_t written = 0;
  int in_fd = in[1];
  if (stdin_data.empty()) {
    ::close(in_fd);
    in_fd = -1;
  }
  int out_fd = out[0], err_fd = err[0];
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  bool timed_out = false;
  char buf[64 * 1024];
  // One poll loop for all three pipes: a child that fills stdout while we
  // still feed its stdin must not deadlock.
  while (in_fd >= 0 || out_fd >= 0 || err_fd >= 0) {
    pollfd fds[3];
    int n = 0;
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    if (out_fd >= 0) fds[n++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) fds[n++] = {err_fd, POLLIN, 0};
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    int rc = ::poll(fds, n, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) continue;
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      int fd = fds[i].fd;
      if (fd == in_fd) {
        ssize_t w = ::write(fd, stdin_data.data() + written, stdin_data.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == stdin_data.size()) {
          ::close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      ssize_t r = ::read(fd, buf, sizeof(buf));
      if (r > 0) {
        (fd == out_fd ? result.out : result.err).append(buf, static_cast<size_t>(r));
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(fd);
        (fd == out_fd ? out_fd : err_fd) = -1;
      }
    }
  }
  for (int fd : {in_fd, out_fd, err_fd}) {
    if (fd >= 0) ::close(fd);
  }
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = ExitCodeOf(status);
  return result;
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
  if (running()) Stop();
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
  pid_ = Spawn(args, -1, fds[1], fds[1], /*die_with_parent=*/true);
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
  Kill9();
  return ::testing::AssertionFailure() << why << "; its output:\n" << output;
}

int ServerProcess::Reap(int timeout_ms) {
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return ExitCodeOf(status);
    }
    if (r < 0 && errno != EINTR) {
      pid_ = -1;
      return -1;
    }
    if (SteadyClock::now() >= deadline) return -2;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
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

void ServerProcess::Kill9() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  Reap(30000);
  JoinDrain();
  port_ = 0;
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
  if (args.size() > 1) full.insert(full.end(), args.begin() + 1, args.end());
  return RunCli(full, stdin_data);
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
