#include "bench/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace ctxstore::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

Status Errno(const std::string& what) {
  return Status::IoError(what + ": " + std::strerror(errno));
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

// fork + exec with the given descriptors as 0, 1, 2. argv is prepared before
// fork: the child only makes async-signal-safe calls. The child dies with the
// harness so that an interrupted run leaves no servers behind.
Result<pid_t> Spawn(const std::vector<std::string>& args, int out_fd, int err_fd) {
  if (args.empty()) return Status::Invalid("empty command");
  std::vector<std::string> strings = args;
  std::vector<char*> argv;
  for (std::string& s : strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return Errno("fork");
  if (pid > 0) return pid;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &dfl, nullptr);
  int in_fd = ::open("/dev/null", O_RDONLY);
  if (in_fd < 0 || ::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) {
    ::_exit(127);
  }
  ::execvp(argv[0], argv.data());
  ::_exit(127);
}

// waitpid with a deadline; -2 on timeout.
int Reap(pid_t pid, int timeout_ms) {
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return ExitCodeOf(status);
    if (r < 0 && errno != EINTR) return -1;
    if (SteadyClock::now() >= deadline) return -2;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

Result<std::unique_ptr<ChildProcess>> ChildProcess::Start(const std::vector<std::string>& argv,
                                                          const std::string& log_path) {
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return Errno("open " + log_path);
  Result<pid_t> pid = Spawn(argv, log_fd, log_fd);
  ::close(log_fd);
  if (!pid.ok()) return pid.status();
  return std::unique_ptr<ChildProcess>(new ChildProcess(*pid));
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) Stop(SIGTERM);
}

bool ChildProcess::Exited() {
  if (pid_ <= 0) return true;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return true;
  }
  return false;
}

int ChildProcess::Stop(int signal, int timeout_ms) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, signal);
  int code = Reap(pid_, timeout_ms);
  if (code == -2) {
    ::kill(pid_, SIGKILL);
    code = Reap(pid_, 30000);
  }
  pid_ = -1;
  return code;
}

Result<CommandResult> RunCommand(const std::vector<std::string>& argv, int timeout_ms) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return Errno("pipe2");
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return Errno("pipe2");
  }
  Result<pid_t> pid = Spawn(argv, out[1], err[1]);
  ::close(out[1]);
  ::close(err[1]);
  if (!pid.ok()) {
    ::close(out[0]);
    ::close(err[0]);
    return pid.status();
  }
  CommandResult result;
  int fds_open[2] = {out[0], err[0]};
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  bool timed_out = false;
  char buf[64 * 1024];
  while (fds_open[0] >= 0 || fds_open[1] >= 0) {
    pollfd fds[2];
    int n = 0;
    for (int fd : fds_open) {
      if (fd >= 0) fds[n++] = {fd, POLLIN, 0};
    }
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    int rc = ::poll(fds, n, static_cast<int>(left.count()));
    if (rc <= 0) continue;
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      const bool is_out = fds[i].fd == fds_open[0];
      ssize_t r = ::read(fds[i].fd, buf, sizeof(buf));
      if (r > 0) {
        (is_out ? result.out : result.err).append(buf, static_cast<size_t>(r));
      } else if (r == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds_open[is_out ? 0 : 1] = -1;
      }
    }
  }
  for (int fd : fds_open) {
    if (fd >= 0) ::close(fd);
  }
  if (timed_out) ::kill(*pid, SIGKILL);
  int code = Reap(*pid, timed_out ? 30000 : timeout_ms + 30000);
  result.exit_code = code;
  return result;
}

std::string FindExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string full = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(full.c_str(), X_OK) == 0) return full;
  }
  // Debian puts some servers in sbin, which a user's PATH may lack.
  for (const char* d : {"/usr/sbin/", "/sbin/"}) {
    std::string full = d + name;
    if (::access(full.c_str(), X_OK) == 0) return full;
  }
  return "";
}

Result<uint16_t> FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    Status s = Errno("bind");
    ::close(fd);
    return s;
  }
  ::close(fd);
  return static_cast<uint16_t>(ntohs(addr.sin_port));
}

Status WaitForPort(uint16_t port, ChildProcess* child, int timeout_ms) {
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  while (SteadyClock::now() < deadline) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Errno("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::close(fd);
    if (rc == 0) return Status::Ok();
    if (child != nullptr && child->Exited()) {
      return Status::Unavailable("the process exited before listening on port " +
                                 std::to_string(port));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return Status::Unavailable("nothing listens on port " + std::to_string(port) + " after " +
                             std::to_string(timeout_ms) + " ms");
}

Result<uint64_t> RssAnonBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  if (!in) return Status::NotFound("no process " + std::to_string(pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("RssAnon:", 0) == 0) {
      return std::stoull(line.substr(8)) * 1024;  // "RssAnon:   1234 kB"
    }
  }
  return Status::NotFound("no RssAnon in /proc/" + std::to_string(pid) + "/status");
}

}  // namespace ctxstore::bench
