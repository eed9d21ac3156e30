#include "fault_control_server.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <sstream>
#include <vector>

#include "fault_control.h"

namespace ctxstore::testing {
namespace {

std::optional<engine::CrashTail> ParseTail(const std::string& name) {
  for (auto tail : {engine::CrashTail::kDrop, engine::CrashTail::kTornPrefix,
                    engine::CrashTail::kScattered, engine::CrashTail::kAny}) {
    if (name == engine::CrashTailName(tail)) return tail;
  }
  return std::nullopt;
}

std::string Describe(const engine::CutReport& r) {
  std::ostringstream out;
  out << "files_rolled_back=" << r.files_rolled_back << " unsynced_bytes=" << r.unsynced_bytes
      << " kept_bytes=" << r.kept_bytes << " names_undone=" << r.names_undone
      << " at_op=" << r.at_op;
  return out.str();
}

// Ends the process as a power cut does: no destructor, no flush, no
// checkpoint, and no sanitizer's exit-time check either (ThreadSanitizer
// runs one in _exit). The line tells the test's log where the cut fell.
[[noreturn]] void ExitAfterCut(const Result<engine::CutReport>& report) {
  if (!report.ok()) {
    std::fprintf(stderr, "power cut failed: %s\n", report.status().ToString().c_str());
    ::_exit(3);
  }
  std::fprintf(stderr, "power cut%s%s: %s\n", report->at.empty() ? "" : " at ", report->at.c_str(),
               Describe(*report).c_str());
  ::kill(::getpid(), SIGKILL);
  ::_exit(kPowerCutExitCode);  // not reached
}

void WriteLine(int fd, const std::string& line) {
  const std::string out = line + "\n";
  (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
}

}  // namespace

FaultControlServer::FaultControlServer(engine::PowerCutDevice* device, std::string socket_path)
    : device_(device), socket_path_(std::move(socket_path)) {}

FaultControlServer::~FaultControlServer() {
  Stop();
}

Status FaultControlServer::Start() {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof(addr.sun_path)) {
    return Status::Invalid("--fault-control path too long: " + socket_path_);
  }
  std::memcpy(addr.sun_path, socket_path_.data(), socket_path_.size());
  ::unlink(socket_path_.c_str());
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    return Status::IoError("fault control socket " + socket_path_ + ": " + std::strerror(errno));
  }
  thread_ = std::thread([this] { AcceptLoop(); });
  return Status::Ok();
}

void FaultControlServer::Stop() {
  if (listen_fd_ < 0) return;
  ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
  listen_fd_ = -1;
  ::unlink(socket_path_.c_str());
}

void FaultControlServer::AcceptLoop() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // shut down
    }
    Serve(fd);
    ::close(fd);
  }
}

void FaultControlServer::Serve(int fd) {
  std::string line;
  char c;
  while (line.size() < 1024) {
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') break;
    line.push_back(c);
  }
  WriteLine(fd, Execute(line, fd));
}

std::string FaultControlServer::Execute(const std::string& line, int fd) {
  std::istringstream in(line);
  std::string verb;
  in >> verb;
  std::vector<std::string> args;
  for (std::string word; in >> word;) args.push_back(word);
  try {
    if (verb == "cut" && args.size() == 2) {
      auto tail = ParseTail(args[1]);
      if (!tail) return "error: unknown tail " + args[1];
      auto report = device_->CutPower(*tail, std::stoull(args[0]));
      WriteLine(fd,
                report.ok() ? "ok " + Describe(*report) : "error " + report.status().ToString());
      ExitAfterCut(report);
    }
    if (verb == "cut-after" && args.size() == 3) {
      auto tail = ParseTail(args[2]);
      if (!tail) return "error: unknown tail " + args[2];
      device_->CutPowerAtOp(std::stoull(args[0]), *tail, std::stoull(args[1]), ExitAfterCut);
      return "ok armed";
    }
    if (verb == "fail" && (args.size() == 2 || args.size() == 3)) {
      static const std::vector<std::string> kOps = {"write", "sync", "read", "create"};
      auto op = std::find(kOps.begin(), kOps.end(), args[0]);
      if (op == kOps.end() || (args[1] != "nospace" && args[1] != "eio")) {
        return "error: fail OP FAULT [SUBSTRING]";
      }
      device_->AddFault(
          static_cast<engine::DiskOp>(op - kOps.begin()),
          args[1] == "nospace" ? engine::DiskFault::kNoSpace : engine::DiskFault::kIoError,
          args.size() == 3 ? args[2] : "");
      return "ok";
    }
    if (verb == "clear" && args.empty()) {
      device_->ClearFaults();
      return "ok";
    }
    if (verb == "stats" && args.empty()) {
      const engine::PowerCutCounts c = device_->counts();
      std::ostringstream out;
      out << "ok mutating_ops=" << c.mutating_ops << " syncs=" << c.syncs
          << " dir_syncs=" << c.dir_syncs << " injected_faults=" << c.injected_faults
          << " unsynced_bytes=" << c.unsynced_bytes << " pending_names=" << c.pending_names;
      return out.str();
    }
  } catch (const std::exception& e) {
    return std::string("error: bad number in '") + line + "': " + e.what();
  }
  return "error: unknown command '" + line + "'";
}

}  // namespace ctxstore::testing
