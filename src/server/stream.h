// A connection's byte stream: a TCP or Unix-domain socket (held as a
// generic stream socket), or TLS over TCP. It has the
// AsyncReadStream / AsyncWriteStream shape, so asio::async_read and
// asio::async_write work on it unchanged; each call goes to the socket or to
// the TLS stream, decided at run time (one branch, no virtual call).
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <deque>
#include <memory>
#include <optional>
#include <utility>

#include "common/unique_fd.h"

namespace ctxstore::server {

class Stream {
 public:
  using Socket = asio::generic::stream_protocol::socket;
  using executor_type = Socket::executor_type;

  // Descriptors a Unix peer may have in flight at once (SHM_REGISTER's
  // memfds); one more is a protocol error.
  static constexpr size_t kMaxReceivedFds = 4;

  // tls: null for plaintext. unix_socket: a Unix-domain socket, whose reads
  // also collect the descriptors the peer passes (SCM_RIGHTS).
  Stream(Socket socket, asio::ssl::context* tls, bool unix_socket)
      : socket_(std::move(socket)), unix_(unix_socket) {
    if (tls != nullptr) tls_.emplace(socket_, *tls);
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  executor_type get_executor() { return socket_.get_executor(); }
  Socket& socket() { return socket_; }
  bool is_tls() const { return tls_.has_value(); }
  bool is_unix() const { return unix_; }

  // The oldest descriptor received and not yet taken (invalid: none).
  UniqueFd TakeFd() {
    if (fds_.empty()) return UniqueFd();
    UniqueFd fd = std::move(fds_.front());
    fds_.pop_front();
    return fd;
  }
  // Set when the peer passed more descriptors than kMaxReceivedFds, or the
  // kernel had to drop some (MSG_CTRUNC): the connection must close.
  bool fd_overflow() const { return fd_overflow_; }

  // The server side of the TLS handshake (nothing to do for plaintext).
  asio::awaitable<void> Handshake() {
    if (tls_) co_await tls_->async_handshake(asio::ssl::stream_base::server, asio::use_awaitable);
  }

  template <typename Buffers, typename Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(asio::error_code, size_t)>(
        [this](auto handler, const Buffers& b) {
          if (tls_)
            tls_->async_read_some(b, std::move(handler));
          else if (unix_)
            ReadUnix(*asio::buffer_sequence_begin(b), std::move(handler));
          else
            socket_.async_read_some(b, std::move(handler));
        },
        token, buffers);
  }

  template <typename Buffers, typename Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(asio::error_code, size_t)>(
        [this](auto handler, const Buffers& b) {
          if (tls_)
            tls_->async_write_some(b, std::move(handler));
          else
            socket_.async_write_some(b, std::move(handler));
        },
        token, buffers);
  }

  // Closes the socket at once (no TLS close_notify: the peer is either done
  // or misbehaving, and waiting for it would let it hold the connection).
  void Close() {
    asio::error_code ec;
    socket_.shutdown(asio::socket_base::shutdown_both, ec);
    socket_.close(ec);
  }

 private:
  // async_read_some on a Unix socket: recvmsg, keeping passed descriptors.
  struct UnixReadOp;
  template <typename Handler>
  void ReadUnix(asio::mutable_buffer buffer, Handler&& handler);
  // One non-blocking recvmsg into buffer; -1 with errno as recvmsg sets it.
  ssize_t RecvWithFds(asio::mutable_buffer buffer);

  Socket socket_;
  bool unix_ = false;
  std::deque<UniqueFd> fds_;
  bool fd_overflow_ = false;
  // Over socket_ by reference: the socket stays the one that is closed.
  std::optional<asio::ssl::stream<Socket&>> tls_;
};

// The read of a Unix connection as an asio operation: try recvmsg; when
// nothing has arrived, wait until the socket is readable and try again. A
// result available at once is delivered through a post, as asio's own
// reads deliver theirs (a handler is never called inside its initiation).
struct Stream::UnixReadOp {
  Stream* stream;
  asio::mutable_buffer buffer;
  enum { kStart, kWaited, kPosted } state = kStart;
  asio::error_code result;
  size_t n = 0;

  template <typename Self>
  void operator()(Self& self, asio::error_code ec = {}) {
    if (state == kPosted) return self.complete(result, n);
    if (state == kWaited && ec) return self.complete(ec, 0);
    const bool at_once = state == kStart;
    for (;;) {
      const ssize_t got = stream->RecvWithFds(buffer);
      if (got >= 0) {
        n = static_cast<size_t>(got);
        if (got == 0 && buffer.size() > 0) result = asio::error::eof;
        break;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        state = kWaited;
        stream->socket_.async_wait(asio::socket_base::wait_read, std::move(self));
        return;
      }
      result = asio::error_code(errno, asio::error::get_system_category());
      break;
    }
    if (!at_once) return self.complete(result, n);
    state = kPosted;
    asio::post(stream->socket_.get_executor(), std::move(self));
  }
};

template <typename Handler>
void Stream::ReadUnix(asio::mutable_buffer buffer, Handler&& handler) {
  asio::async_compose<Handler, void(asio::error_code, size_t)>(UnixReadOp{this, buffer}, handler,
                                                               socket_);
}

}  // namespace ctxstore::server
