// Client::Impl: opening connections (HELLO), the connection pool and the
// request/reply exchange every call goes through; and the checks the calls
// share (client_impl.h).
#include "client/client_impl.h"

#include <sys/uio.h>

#include <array>
#include <mutex>
#include <utility>

#include "client/reply.h"
#include "client/socket.h"
#include "protocol/frame.h"
#include "protocol/messages.h"

namespace ctxstore {
namespace client {

Status CheckKeys(std::span<const std::string> keys, uint32_t max_keys) {
  if (keys.size() > max_keys) {
    return Status::TooLarge("batch of " + std::to_string(keys.size()) +
                            " keys exceeds the server's limit of " + std::to_string(max_keys));
  }
  for (const std::string& k : keys) CTX_RETURN_IF_ERROR(protocol::ValidateKey(k));
  return Status::Ok();
}

Status CheckGroup(std::string_view group) {
  if (group.empty()) return Status::Invalid("empty group name");
  if (group.size() > kMaxGroupBytes) {
    return Status::TooLarge("group name of " + std::to_string(group.size()) +
                            " bytes exceeds the limit of " + std::to_string(kMaxGroupBytes));
  }
  return Status::Ok();
}

}  // namespace client

namespace {

// HELLO reply: fixed fields plus a key-encoded version string.
constexpr uint64_t kMaxHelloBodyBytes = 2 + 8 + 4 + 8 + 2 + 65535;

}  // namespace

Result<std::unique_ptr<PooledConnection>> Client::Impl::Open(ServerInfo* info_out) {
  auto socket = options.unix_path.empty()
                    ? Socket::Connect(options.host, options.port, options.connect_timeout_ms,
                                      options.io_timeout_ms, tls)
                    : Socket::ConnectUnix(options.unix_path, options.connect_timeout_ms,
                                          options.io_timeout_ms);
  if (!socket.ok()) return socket.status();
  auto conn = std::make_unique<PooledConnection>();
  conn->socket = std::move(*socket);

  protocol::HelloRequest hello;
  hello.client_name = options.client_name.substr(0, kMaxKeyBytes);
  // Empty fields are left off the wire (servers from before namespaces
  // reject trailing bytes).
  hello.namespace_name = options.namespace_name;
  hello.token = options.token;
  std::string body = protocol::EncodeHelloRequest(hello);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  // Not pooled until HELLO succeeds; the borrowed connection is released by hand below.
  Borrowed borrowed(this, std::move(conn));
  auto reply = CallOn(borrowed, Opcode::kHello, 0, iov, kMaxHelloBodyBytes);
  std::unique_ptr<PooledConnection> opened = borrowed.Release();
  if (!reply.ok()) {
    if (reply.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("no such namespace: " + options.namespace_name);
    }

    return reply.status();
  }
  auto info = client::DecodeHelloInfo(*reply);
  if (!info.ok()) return info.status();
  if (info_out != nullptr) *info_out = std::move(*info);
  return opened;
}

Result<std::unique_ptr<PooledConnection>> Client::Impl::Borrow() {
  {
    std::lock_guard<std::mutex> lock(mu);
    if (const pid_t pid = ::getpid(); pid != owner_pid) {
      // A fork: the pooled sockets are shared with the parent, and requests
      // of both processes would interleave on them. The child closes its
      // copies (the parent's stay open) and opens connections of its own.
      idle.clear();
      owner_pid = pid;
    }
    while (!idle.empty()) {
      std::unique_ptr<PooledConnection> conn = std::move(idle.back());
      idle.pop_back();
      // The server may have closed it (idle timeout, restart); a request
      // sent on it would fail for no reason of its own.
      if (!conn->socket->IsStale()) return conn;
    }
  }
  return Open(nullptr);
}

void Client::Impl::Return(std::unique_ptr<PooledConnection> conn) {
  std::lock_guard<std::mutex> lock(mu);
  if (idle.size() < options.max_idle_connections) idle.push_back(std::move(conn));
}

Status Client::Impl::SendRequest(Borrowed& borrowed, Opcode op, uint16_t flags,
                                 std::span<iovec> iov, uint64_t* request_id, int pass_fd) {
  FrameHeader h;
  h.opcode = op;
  h.flags = flags;
  h.request_id = borrowed.conn().next_request_id++;
  h.body_len = 0;
  for (size_t i = 1; i < iov.size(); ++i) h.body_len += iov[i].iov_len;
  protocol::HeaderBytes header = protocol::EncodeHeader(h);
  iov[0] = Iov(header.data(), header.size());
  *request_id = h.request_id;
  return borrowed.socket().SendAll(iov, pass_fd);
}

Result<FrameHeader> Client::Impl::RecvReplyHeader(Borrowed& borrowed, Opcode op,
                                                  uint64_t request_id) {
  protocol::HeaderBytes bytes;
  CTX_RETURN_IF_ERROR(borrowed.socket().RecvExact(bytes.data(), bytes.size()));
  return client::DecodeReplyHeader(bytes, op, request_id);
}

Status Client::Impl::ReadError(Borrowed& borrowed, const FrameHeader& h) {
  if (h.body_len > client::kMaxErrorBodyBytes) {
    // Not worth reading; the connection is dropped with the rest unread.
    return client::DecodeErrorReply(h, std::nullopt);
  }
  std::string message(h.body_len, '\0');
  CTX_RETURN_IF_ERROR(borrowed.socket().RecvExact(message.data(), message.size()));
  if (client::ReusableAfterError(h)) borrowed.MarkClean();
  return client::DecodeErrorReply(h, message);
}

Result<FrameHeader> Client::Impl::Exchange(Borrowed& borrowed, Opcode op, uint16_t flags,
                                           std::span<iovec> iov, int pass_fd) {
  uint64_t request_id = 0;
  CTX_RETURN_IF_ERROR(SendRequest(borrowed, op, flags, iov, &request_id, pass_fd));
  auto header = RecvReplyHeader(borrowed, op, request_id);
  if (!header.ok()) return header.status();
  if (header->status != StatusCode::kOk) return ReadError(borrowed, *header);
  return header;
}

Result<std::string> Client::Impl::CallOn(Borrowed& borrowed, Opcode op, uint16_t flags,
                                         std::span<iovec> iov, uint64_t max_body) {
  auto header = Exchange(borrowed, op, flags, iov);
  if (!header.ok()) return header.status();
  if (header->body_len > max_body) {
    return ProtocolError(std::string(protocol::OpcodeName(op)) + " reply of " +
                         std::to_string(header->body_len) + " bytes, at most " +
                         std::to_string(max_body) + " expected");
  }
  std::string body(header->body_len, '\0');
  CTX_RETURN_IF_ERROR(borrowed.socket().RecvExact(body.data(), body.size()));
  borrowed.MarkClean();
  return body;
}

Result<std::string> Client::Impl::Call(Opcode op, uint16_t flags, std::span<iovec> iov,
                                       uint64_t max_body) {
  auto conn = Borrow();
  if (!conn.ok()) return conn.status();
  Borrowed borrowed(this, std::move(*conn));
  return CallOn(borrowed, op, flags, iov, max_body);
}

Result<std::string> Client::Impl::KeyListCall(Opcode op, std::span<const std::string> keys,
                                              uint64_t max_body) {
  std::string body = protocol::EncodeKeyList(keys);
  std::array<iovec, 2> iov{iovec{}, Iov(body.data(), body.size())};
  return Call(op, 0, iov, max_body);
}

}  // namespace ctxstore
