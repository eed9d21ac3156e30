#include "client/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>

namespace ctxstore::client {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string ErrnoText(int err) {
  return std::strerror(err);
}

// "host:port", with brackets around an IPv6 literal.
std::string FormatPeer(const std::string& host, uint16_t port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

int RemainingMs(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return static_cast<int>(std::clamp<int64_t>(left.count(), 0, INT_MAX));
}

// Poll timeouts are ints; a uint32 option above INT_MAX means "practically
// forever", not a negative (infinite) wait.
int PollTimeoutMs(uint32_t ms) {
  return static_cast<int>(std::min<uint32_t>(ms, INT_MAX));
}

// One non-blocking connect attempt to one resolved address. Returns the fd,
// or -1 with *err set (ETIMEDOUT when the deadline passed).
int ConnectOne(const addrinfo* ai, SteadyClock::time_point deadline, int* err) {
  int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) {
    *err = errno;
    return -1;
  }
  int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
  if (rc != 0 && errno != EINPROGRESS && errno != EINTR) {
    *err = errno;
    ::close(fd);
    return -1;
  }
  if (rc != 0) {
    pollfd p{fd, POLLOUT, 0};
    for (;;) {
      int n = ::poll(&p, 1, RemainingMs(deadline));
      if (n > 0) break;
      if (n == 0) {
        *err = ETIMEDOUT;
        ::close(fd);
        return -1;
      }
      if (errno != EINTR) {
        *err = errno;
        ::close(fd);
        return -1;
      }
    }
    int so_error = 0;
    socklen_t len = sizeof(so_error);
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) so_error = errno;
    if (so_error != 0) {
      *err = so_error;
      ::close(fd);
      return -1;
    }
  }
  return fd;
}

}  // namespace

Result<std::unique_ptr<Socket>> Socket::Connect(const std::string& host, uint16_t port,
                                                uint32_t connect_timeout_ms, uint32_t io_timeout_ms,
                                                const TlsContext& tls) {
  const std::string peer = FormatPeer(host, port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  int gai = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (gai == EAI_ADDRFAMILY || gai == EAI_NONAME) {
    // AI_ADDRCONFIG hides loopback-only families on hosts without a
    // configured address (containers); retry without it before giving up.
    hints.ai_flags = AI_NUMERICSERV;
    gai = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  }
  if (gai != 0) {
    std::string why = gai == EAI_SYSTEM ? ErrnoText(errno) : ::gai_strerror(gai);
    return Status::Unavailable("cannot resolve " + host + ": " + why);
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(res, &::freeaddrinfo);

  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(connect_timeout_ms);
  int last_err = ECONNREFUSED;
  for (const addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int err = 0;
    int fd = ConnectOne(ai, deadline, &err);
    if (fd < 0) {
      last_err = err;
      if (err == ETIMEDOUT) break;  // the deadline covers all addresses together
      continue;
    }
    // Requests are written whole in one sendmsg; Nagle would only delay them.
    int one = 1;
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::unique_ptr<Socket> socket(new Socket(fd, peer, io_timeout_ms));
    if (tls) {
      CTX_RETURN_IF_ERROR(socket->StartTls(tls.get(), host));
    } else {
      CTX_RETURN_IF_ERROR(socket->UseBlockingIo());
    }
    return socket;
  }
  if (last_err == ECONNREFUSED) return Status::Unavailable("connection refused to " + peer);
  if (last_err == ETIMEDOUT) {
    return Status::Unavailable("connect to " + peer + " timed out after " +
                               std::to_string(connect_timeout_ms) + " ms");
  }
  return Status::Unavailable("cannot connect to " + peer + ": " + ErrnoText(last_err));
}

Socket::~Socket() {
  Close();
}

void Socket::Close() {
  if (ssl_ != nullptr) {
    SSL_free(ssl_);  // no close_notify: the connection is dropped either way
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

Status Socket::Fail(const std::string& what) {
  Close();
  return Status::Unavailable(what + " (" + peer_ + ")");
}

Status Socket::UseBlockingIo() {
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags < 0 || ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return Fail(std::string("cannot make the socket blocking: ") + ErrnoText(errno));
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(io_timeout_ms_ / 1000);
  tv.tv_usec = static_cast<suseconds_t>(io_timeout_ms_ % 1000) * 1000;
  if (::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
      ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) {
    return Fail(std::string("cannot set the socket's timeouts: ") + ErrnoText(errno));
  }
  blocking_ = true;
  return Status::Ok();
}

Status Socket::OnWouldBlock(short events, const char* what) {
  if (blocking_) {
    return Fail(std::string(what) + " timed out after " + std::to_string(io_timeout_ms_) + " ms");
  }
  return Wait(events, what);
}

Status Socket::Wait(short events, const char* what) {
  pollfd p{fd_, events, 0};
  for (;;) {
    int n = ::poll(&p, 1, PollTimeoutMs(io_timeout_ms_));
    if (n > 0) return Status::Ok();  // errors and hang-ups surface in the next send/recv
    if (n == 0) {
      return Fail(std::string(what) + " timed out after " + std::to_string(io_timeout_ms_) + " ms");
    }
    if (errno != EINTR) return Fail(std::string("poll failed: ") + ErrnoText(errno));
  }
}

Status Socket::SendAll(std::span<iovec> iov, int pass_fd) {
  if (fd_ < 0) return Status::Unavailable("connection is closed (" + peer_ + ")");
  if (ssl_ != nullptr && pass_fd >= 0) return Status::Invalid("descriptors cannot travel over TLS");
  if (ssl_ != nullptr) {
    // Small pieces (frame header, key, options) are gathered into one TLS
    // record; large ones are written from the caller's memory.
    constexpr size_t kGatherBytes = 16 * 1024;
    std::string gathered;
    for (iovec& v : iov) {
      if (v.iov_len < kGatherBytes && gathered.size() + v.iov_len <= kGatherBytes) {
        gathered.append(static_cast<const char*>(v.iov_base), v.iov_len);
      } else {
        if (!gathered.empty()) CTX_RETURN_IF_ERROR(TlsWrite(gathered.data(), gathered.size()));
        gathered.clear();
        if (v.iov_len < kGatherBytes) {
          gathered.append(static_cast<const char*>(v.iov_base), v.iov_len);
        } else {
          CTX_RETURN_IF_ERROR(TlsWrite(v.iov_base, v.iov_len));
        }
      }
      v.iov_len = 0;
    }
    if (!gathered.empty()) CTX_RETURN_IF_ERROR(TlsWrite(gathered.data(), gathered.size()));
    return Status::Ok();
  }
  size_t first = 0;
  while (first < iov.size() && iov[first].iov_len == 0) ++first;
  while (first < iov.size()) {
    msghdr msg{};
    msg.msg_iov = iov.data() + first;
    msg.msg_iovlen = std::min<size_t>(iov.size() - first, IOV_MAX);
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    if (pass_fd >= 0) {
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
    }
    // MSG_NOSIGNAL: a dead peer yields EPIPE here instead of killing the process.
    ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        CTX_RETURN_IF_ERROR(OnWouldBlock(POLLOUT, "send"));
        continue;
      }
      if (errno == EPIPE || errno == ECONNRESET) return Fail("server closed the connection");
      return Fail(std::string("send failed: ") + ErrnoText(errno));
    }
    pass_fd = -1;  // sent with the first bytes
    // Consume n bytes from the front of the array.
    size_t left = static_cast<size_t>(n);
    while (first < iov.size() && left >= iov[first].iov_len) {
      left -= iov[first].iov_len;
      iov[first].iov_len = 0;
      ++first;
    }
    if (left > 0) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
    while (first < iov.size() && iov[first].iov_len == 0) ++first;
  }
  return Status::Ok();
}

Status Socket::RecvExact(void* buf, size_t len) {
  if (fd_ < 0) return Status::Unavailable("connection is closed (" + peer_ + ")");
  if (ssl_ != nullptr) return TlsRead(buf, len);
  auto* p = static_cast<char*>(buf);
  while (len > 0) {
    // MSG_WAITALL: on a blocking socket, one call for the whole part.
    ssize_t n = ::recv(fd_, p, len, blocking_ ? MSG_WAITALL : 0);
    if (n > 0) {
      p += n;
      len -= static_cast<size_t>(n);
      continue;
    }
    if (n == 0) return Fail("server closed the connection");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      CTX_RETURN_IF_ERROR(OnWouldBlock(POLLIN, "receive"));
      continue;
    }
    if (errno == ECONNRESET) return Fail("server closed the connection");
    return Fail(std::string("receive failed: ") + ErrnoText(errno));
  }
  return Status::Ok();
}

Status Socket::Discard(uint64_t len) {
  char chunk[64 * 1024];
  while (len > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, sizeof(chunk)));
    CTX_RETURN_IF_ERROR(RecvExact(chunk, n));
    len -= n;
  }
  return Status::Ok();
}

bool Socket::IsStale() const {
  if (fd_ < 0) return true;
  if (ssl_ != nullptr && SSL_pending(ssl_) > 0) return true;
  pollfd p{fd_, POLLIN | POLLRDHUP, 0};
  int n = ::poll(&p, 1, 0);
  // Between requests nothing may arrive: readable means EOF, reset or junk.
  return n != 0;
}

Status Socket::StartTls(SSL_CTX* ctx, const std::string& host) {
  ssl_ = SSL_new(ctx);
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) {
    return Fail("cannot start TLS: " + TlsErrorText());
  }
  // The certificate must name the host: an IP address as an IP SAN, a DNS
  // name as a DNS SAN (which also goes out as SNI).
  in6_addr ip6;
  in_addr ip4;
  const bool is_ip = ::inet_pton(AF_INET, host.c_str(), &ip4) == 1 ||
                     ::inet_pton(AF_INET6, host.c_str(), &ip6) == 1;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
  const bool named = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1
                           : (SSL_set_tlsext_host_name(ssl_, host.c_str()) == 1 &&
                              SSL_set1_host(ssl_, host.c_str()) == 1);
  if (!named) return Fail("cannot set the TLS peer name " + host + ": " + TlsErrorText());
  for (;;) {
    ERR_clear_error();
    errno = 0;
    int ret = SSL_connect(ssl_);
    if (ret == 1) return Status::Ok();
    CTX_RETURN_IF_ERROR(TlsRetry(ret, "TLS handshake"));
  }
}

Status Socket::TlsRetry(int ret, const char* what) {
  switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ:
      return Wait(POLLIN, what);
    case SSL_ERROR_WANT_WRITE:
      return Wait(POLLOUT, what);
    case SSL_ERROR_ZERO_RETURN:
      return Fail("server closed the connection");
    case SSL_ERROR_SYSCALL:
      // The peer went away (EOF leaves errno at 0), or the socket failed.
      return Fail(std::string(what) + " failed: " +
                  (errno == 0 ? std::string("server closed the connection") : ErrnoText(errno)));
    default: {
      std::string detail = TlsErrorText();
      long verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK)
        detail += " (" + std::string(X509_verify_cert_error_string(verify)) + ")";
      return Fail(std::string(what) + " failed: " + detail);
    }
  }
}

Status Socket::TlsWrite(const void* data, size_t len) {
  // OpenSSL writes with write(2), which raises SIGPIPE on a closed
  // connection; the plaintext path uses MSG_NOSIGNAL. Block it in this
  // thread while writing, and swallow one that became pending.
  sigset_t pipe_only, old;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  Status st = TlsWriteBlockingSigpipe(data, len);
  if (!sigismember(&old, SIGPIPE)) {
    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE)) {
      const timespec zero{0, 0};
      sigtimedwait(&pipe_only, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
  return st;
}

Status Socket::TlsWriteBlockingSigpipe(const void* data, size_t len) {
  const auto* p = static_cast<const char*>(data);
  while (len > 0) {
    size_t n = 0;
    ERR_clear_error();
    errno = 0;
    int ret = SSL_write_ex(ssl_, p, len, &n);
    if (ret == 1) {
      p += n;
      len -= n;
      continue;
    }
    CTX_RETURN_IF_ERROR(TlsRetry(ret, "send"));
  }
  return Status::Ok();
}

Status Socket::TlsRead(void* buf, size_t len) {
  auto* p = static_cast<char*>(buf);
  while (len > 0) {
    size_t n = 0;
    ERR_clear_error();
    errno = 0;
    int ret = SSL_read_ex(ssl_, p, len, &n);
    if (ret == 1) {
      p += n;
      len -= n;
      continue;
    }
    CTX_RETURN_IF_ERROR(TlsRetry(ret, "receive"));
  }
  return Status::Ok();
}

}  // namespace ctxstore::client
