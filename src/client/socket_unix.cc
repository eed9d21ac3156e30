// Socket::ConnectUnix: the client's end of a Unix-domain socket (a server
// on the same machine, `serve --unix PATH`). Reads, writes and timeouts are
// the TCP socket's own (socket.cc); only connecting differs.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "client/socket.h"

namespace ctxstore::client {

Result<std::unique_ptr<Socket>> Socket::ConnectUnix(const std::string& path,
                                                    uint32_t connect_timeout_ms,
                                                    uint32_t io_timeout_ms) {
  const std::string peer = "unix://" + path;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return Status::Invalid("Unix socket path of " + std::to_string(path.size()) +
                           " bytes: it must be 1 to " + std::to_string(sizeof(addr.sun_path) - 1));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(connect_timeout_ms);
  for (;;) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Status::Unavailable("cannot open a Unix socket: " + std::string(strerror(errno)));
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) {
      std::unique_ptr<Socket> socket(new Socket(fd, peer, io_timeout_ms));
      CTX_RETURN_IF_ERROR(socket->UseBlockingIo());
      return socket;
    }
    const int err = errno;
    ::close(fd);
    // A non-blocking connect to a Unix socket completes at once or fails;
    // EAGAIN means the listener's backlog is full for now.
    if ((err == EAGAIN || err == EINTR) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    if (err == EAGAIN) {
      return Status::Unavailable("connect to " + peer + " timed out after " +
                                 std::to_string(connect_timeout_ms) + " ms (backlog full)");
    }
    if (err == ENOENT) {
      return Status::Unavailable("no socket at " + path +
                                 " (is a server running with --unix " + path + "?)");
    }
    if (err == ECONNREFUSED) return Status::Unavailable("connection refused to " + peer);
    return Status::Unavailable("cannot connect to " + peer + ": " + strerror(err));
  }
}

}  // namespace ctxstore::client
