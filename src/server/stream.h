// A connection's byte stream: a TCP or Unix-domain socket (held as a
// generic stream socket), or TLS over TCP. It has the
// AsyncReadStream / AsyncWriteStream shape, so asio::async_read and
// asio::async_write work on it unchanged; each call goes to the socket or to
// the TLS stream, decided at run time (one branch, no virtual call).
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <memory>
#include <optional>
#include <utility>

namespace ctxstore::server {

class Stream {
 public:
  using Socket = asio::generic::stream_protocol::socket;
  using executor_type = Socket::executor_type;

  // tls: null for plaintext.
  Stream(Socket socket, asio::ssl::context* tls) : socket_(std::move(socket)) {
    if (tls != nullptr) tls_.emplace(socket_, *tls);
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  executor_type get_executor() { return socket_.get_executor(); }
  Socket& socket() { return socket_; }
  bool is_tls() const { return tls_.has_value(); }

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
  Socket socket_;
  // Over socket_ by reference: the socket stays the one that is closed.
  std::optional<asio::ssl::stream<Socket&>> tls_;
};

}  // namespace ctxstore::server
