#include "server/stream.h"

#include <sys/socket.h>

#include <array>
#include <cstring>

namespace ctxstore::server {

ssize_t Stream::RecvWithFds(asio::mutable_buffer buffer) {
  iovec iov{buffer.data(), buffer.size()};
  // Room for kMaxReceivedFds descriptors in one message; more is MSG_CTRUNC.
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * kMaxReceivedFds)> control;
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  const ssize_t n =
      ::recvmsg(socket_.native_handle(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (n < 0) return n;
  if ((msg.msg_flags & MSG_CTRUNC) != 0) fd_overflow_ = true;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      UniqueFd owned(fd);  // closed here unless kept
      if (fds_.size() >= kMaxReceivedFds) {
        fd_overflow_ = true;
      } else {
        fds_.push_back(std::move(owned));
      }
    }
  }
  return n;
}

}  // namespace ctxstore::server
