#include "fault_control.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

namespace ctxstore::testing {

Result<std::string> SendFaultCommand(const std::string& socket_path, const std::string& command) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    return Status::Invalid("socket path too long: " + socket_path);
  }
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IoError(std::string("socket: ") + std::strerror(errno));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::Unavailable("connect " + socket_path + ": " + std::strerror(err));
  }
  const std::string line = command + "\n";
  if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    const int err = errno;
    ::close(fd);
    return Status::IoError(std::string("send: ") + std::strerror(err));
  }
  std::string answer;
  char buf[512];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    answer.append(buf, static_cast<size_t>(n));
    if (answer.find('\n') != std::string::npos) break;
  }
  ::close(fd);
  if (const size_t nl = answer.find('\n'); nl != std::string::npos) answer.resize(nl);
  if (answer.empty()) return Status::Unavailable("no answer to '" + command + "'");
  return answer;
}

std::map<std::string, uint64_t> ParseCounts(const std::string& answer) {
  std::map<std::string, uint64_t> out;
  std::istringstream in(answer);
  std::string word;
  while (in >> word) {
    const size_t eq = word.find('=');
    if (eq == std::string::npos) continue;
    out[word.substr(0, eq)] = std::stoull(word.substr(eq + 1));
  }
  return out;
}

}  // namespace ctxstore::testing
