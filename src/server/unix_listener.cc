#include "server/unix_listener.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ctxstore::server {
namespace {

std::string ErrnoText(int err) {
  return std::strerror(err);
}

// Whether something accepts connections on path (a live server).
bool SomeoneListens(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  const bool live = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0 ||
                    errno == EAGAIN;  // a full backlog is a live server too
  ::close(fd);
  return live;
}

// A socket file nobody listens on is what a killed server leaves behind:
// removed. Anything else at path is an error.
Status ClearStaleSocket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Status::Unavailable("cannot use " + path + ": " + ErrnoText(errno));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return Status::Unavailable("cannot listen on " + path + ": a file that is not a socket is there");
  }
  if (SomeoneListens(path)) {
    return Status::Unavailable("cannot listen on " + path + ": another server is listening there");
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Status::Unavailable("cannot remove the stale socket " + path + ": " + ErrnoText(errno));
  }
  return Status::Ok();
}

}  // namespace

Result<UnixSocketFile> ListenUnix(asio::local::stream_protocol::acceptor& acceptor,
                                  const std::string& path, uint32_t mode) {
  if (path.empty() || path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return Status::Invalid("a Unix socket path is 1 to " +
                           std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes: " + path);
  }
  if (mode > 0777) return Status::Invalid("Unix socket mode " + std::to_string(mode) + " is not 0..0777");
  CTX_RETURN_IF_ERROR(ClearStaleSocket(path));
  try {
    asio::local::stream_protocol::endpoint endpoint(path);
    acceptor.open(endpoint.protocol());
    acceptor.bind(endpoint);
  } catch (const std::exception& e) {
    return Status::Unavailable("cannot listen on " + path + ": " + e.what());
  }
  UnixSocketFile file{path};
  struct stat st {};
  // The mode before listen(): no client can connect through a wider one.
  if (::chmod(path.c_str(), mode) != 0 || ::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    acceptor.close();
    ::unlink(path.c_str());
    return Status::Unavailable("cannot set the mode of " + path + ": " + ErrnoText(err));
  }
  file.device = st.st_dev;
  file.inode = st.st_ino;
  try {
    acceptor.listen(asio::socket_base::max_listen_connections);
  } catch (const std::exception& e) {
    acceptor.close();
    RemoveUnixSocketFile(file);
    return Status::Unavailable("cannot listen on " + path + ": " + e.what());
  }
  return file;
}

void RemoveUnixSocketFile(const UnixSocketFile& file) {
  if (file.path.empty()) return;
  struct stat st {};
  if (::lstat(file.path.c_str(), &st) == 0 && st.st_dev == file.device &&
      st.st_ino == file.inode) {
    ::unlink(file.path.c_str());
  }
}

std::string UnixPeerName(int fd) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return "unix";
  return "unix pid=" + std::to_string(cred.pid) + " uid=" + std::to_string(cred.uid) +
         " gid=" + std::to_string(cred.gid);
}

}  // namespace ctxstore::server
