#include "common/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

namespace ctxstore {
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

void ClosePipe(int fds[2]) {
  for (int i = 0; i < 2; ++i) {
    if (fds[i] >= 0) ::close(fds[i]);
    fds[i] = -1;
  }
}

}  // namespace

Result<pid_t> SpawnProcess(const std::vector<std::string>& args, int stdin_fd, int stdout_fd,
                           int stderr_fd) {
  if (args.empty()) return Status::Invalid("empty command");
  // Prepared before fork: after it, the child makes only async-signal-safe calls.
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
  ::sigaction(SIGPIPE, &dfl, nullptr);  // exec keeps an ignored SIGPIPE
  if (stdin_fd < 0) stdin_fd = ::open("/dev/null", O_RDONLY);
  if (stdin_fd < 0 || ::dup2(stdin_fd, 0) < 0 || ::dup2(stdout_fd, 1) < 0 ||
      ::dup2(stderr_fd, 2) < 0) {
    ::_exit(127);
  }
  ::execvp(argv[0], argv.data());
  ::_exit(127);
}

int WaitForExit(pid_t pid, int timeout_ms) {
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

namespace {

// The parent's ends of a child's three pipes (-1 once closed).
struct ChildPipes {
  int in_fd = -1;
  int out_fd = -1;
  int err_fd = -1;
};

// Feeds stdin_data to the child and collects its output until it closes
// both outputs or the deadline passes (then false). One poll loop for all
// three pipes: a child that fills stdout while it is still being fed stdin
// must not deadlock. Closes every pipe it finishes with.
bool Exchange(ChildPipes& p, const std::string& stdin_data, SteadyClock::time_point deadline,
              CommandResult* result) {
  size_t written = 0;
  char buf[64 * 1024];
  while (p.in_fd >= 0 || p.out_fd >= 0 || p.err_fd >= 0) {
    pollfd fds[3];
    int n = 0;
    if (p.in_fd >= 0) fds[n++] = {p.in_fd, POLLOUT, 0};
    if (p.out_fd >= 0) fds[n++] = {p.out_fd, POLLIN, 0};
    if (p.err_fd >= 0) fds[n++] = {p.err_fd, POLLIN, 0};
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) return false;
    if (::poll(fds, n, static_cast<int>(left.count())) <= 0) continue;
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      int fd = fds[i].fd;
      if (fd == p.in_fd) {
        ssize_t w = ::write(fd, stdin_data.data() + written, stdin_data.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == stdin_data.size()) {
          ::close(p.in_fd);
          p.in_fd = -1;
        }
        continue;
      }
      ssize_t r = ::read(fd, buf, sizeof(buf));
      if (r > 0) {
        (fd == p.out_fd ? result->out : result->err).append(buf, static_cast<size_t>(r));
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(fd);
        (fd == p.out_fd ? p.out_fd : p.err_fd) = -1;
      }
    }
  }
  return true;
}

}  // namespace

Result<CommandResult> RunCommand(const std::vector<std::string>& argv, int timeout_ms,
                                 const std::string& stdin_data) {
  if (!stdin_data.empty()) ::signal(SIGPIPE, SIG_IGN);
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    Status s = Errno("pipe2");
    ClosePipe(in);
    ClosePipe(out);
    ClosePipe(err);
    return s;
  }
  Result<pid_t> pid = SpawnProcess(argv, in[0], out[1], err[1]);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (!pid.ok()) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    return pid.status();
  }
  ChildPipes pipes{in[1], out[0], err[0]};
  if (stdin_data.empty()) {
    ::close(pipes.in_fd);
    pipes.in_fd = -1;
  } else {
    ::fcntl(pipes.in_fd, F_SETFL, O_NONBLOCK);
  }
  CommandResult result;
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  const bool timed_out = !Exchange(pipes, stdin_data, deadline, &result);
  for (int fd : {pipes.in_fd, pipes.out_fd, pipes.err_fd}) {
    if (fd >= 0) ::close(fd);
  }
  if (timed_out) ::kill(*pid, SIGKILL);
  int code = WaitForExit(*pid, timed_out ? 30000 : timeout_ms + 30000);
  if (code == -2) {
    ::kill(*pid, SIGKILL);
    code = WaitForExit(*pid, 30000);
  }
  result.exit_code = code;
  return result;
}

std::string BesideThisExecutable(const std::string& program) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? program : (self.parent_path() / program).string();
}

}  // namespace ctxstore
