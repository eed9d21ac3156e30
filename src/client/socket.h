// A small blocking connection over POSIX sockets (TCP, TLS over TCP, or a
// Unix-domain socket), with timeouts.
// Every failure is Status::Unavailable: to the caller the server is simply
// not reachable (refused, reset, closed or too slow).
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include "client/tls.h"
#include "ctxstore/status.h"

typedef struct ssl_st SSL;

namespace ctxstore::client {

class Socket {
 public:
  // Resolves host, connects within connect_timeout_ms (each address tried in
  // turn) and sets TCP_NODELAY. io_timeout_ms bounds every wait for progress
  // in SendAll / RecvExact: a peer that stalls that long fails the call.
  // With tls, the TLS handshake follows (within io_timeout_ms), and the
  // server's certificate must name host (an IP address or a DNS name).
  static Result<std::unique_ptr<Socket>> Connect(const std::string& host, uint16_t port,
                                                 uint32_t connect_timeout_ms,
                                                 uint32_t io_timeout_ms,
                                                 const TlsContext& tls = nullptr);
  // Connects to a Unix-domain socket at path (a server on this machine).
  // A backlog that stays full until connect_timeout_ms fails the call.
  static Result<std::unique_ptr<Socket>> ConnectUnix(const std::string& path,
                                                     uint32_t connect_timeout_ms,
                                                     uint32_t io_timeout_ms);
  ~Socket();
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // Sends every byte of iov with as few syscalls as the kernel allows
  // (sendmsg, i.e. writev that cannot raise SIGPIPE). The iovec entries are
  // advanced in place as bytes go out, so the caller's array is consumed.
  // pass_fd >= 0 (Unix sockets only): that descriptor travels with the
  // first byte sent (SCM_RIGHTS).
  Status SendAll(std::span<iovec> iov, int pass_fd = -1);
  // Receives exactly len bytes into buf.
  Status RecvExact(void* buf, size_t len);
  // Reads and discards len bytes, in bounded chunks (never allocates len).
  Status Discard(uint64_t len);

  // True when the peer has closed or sent unsolicited bytes: an idle pooled
  // connection in that state must not be reused. Never blocks.
  bool IsStale() const;

  void Close();
  bool is_open() const { return fd_ >= 0; }
  // "host:port" or "unix:///path", for messages.
  const std::string& peer() const { return peer_; }

 private:
  Socket(int fd, std::string peer, uint32_t io_timeout_ms)
      : fd_(fd), peer_(std::move(peer)), io_timeout_ms_(io_timeout_ms) {}
  // Plain (non-TLS) sockets, once connected: blocking I/O with the
  // timeout as SO_RCVTIMEO/SO_SNDTIMEO. A reply is then one recv per
  // part (MSG_WAITALL), not a recv that finds nothing, a poll and a recv
  // again: two system calls fewer per reply, and a large body in one call.
  // TLS sockets stay non-blocking (OpenSSL's retries wait in Wait).
  Status UseBlockingIo();
  // Waits until fd_ is ready for events; Unavailable on timeout or error.
  Status Wait(short events, const char* what);
  // EAGAIN from a call: on a blocking socket its timeout passed; on a
  // non-blocking one, wait for readiness (`events`).
  Status OnWouldBlock(short events, const char* what);
  Status Fail(const std::string& what);
  Status StartTls(SSL_CTX* ctx, const std::string& host);
  // One SSL_write/SSL_read until done, waiting on the socket as OpenSSL asks.
  Status TlsWrite(const void* data, size_t len);
  Status TlsWriteBlockingSigpipe(const void* data, size_t len);
  Status TlsRead(void* buf, size_t len);
  // Waits for what the last SSL call wanted; kOk to retry it, else the failure.
  Status TlsRetry(int ret, const char* what);

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  std::string peer_;
  uint32_t io_timeout_ms_ = 0;
  bool blocking_ = false;  // UseBlockingIo() was called
};

}  // namespace ctxstore::client
