// Connection lifecycle, timeouts, framing and dispatch: each request's
// header is checked against the limits before its body is read, the service
// admits it (HELLO first, the token's role), and the op table says how its
// body moves. Replies and body reading are in connection_io.cc, the ops
// that carry values in connection_values.cc (see connection_impl.h).
#include "server/connection.h"

#include <spdlog/spdlog.h>

#include <functional>
#include <memory>
#include <string>

#include "server/connection_impl.h"

namespace ctxstore::server {
namespace {

using asio::awaitable;
using asio::use_awaitable;
using protocol::Opcode;
using service::BodyKind;

}  // namespace

Connection::Connection(Stream::Socket socket, std::string peer, const ConnectionContext& ctx)
    : stream_(std::move(socket), ctx.tls, ctx.unix_socket),
      ctx_(ctx),
      session_(*ctx.service, std::move(peer)),
      regions_(&ctx.service->counters(), ctx.options->shm_max_bytes),
      watchdog_(stream_.get_executor(), *ctx.options) {}

void Connection::Start() {
  StartWithWatchdog(shared_from_this(), stream_.get_executor(), watchdog_,
                    ctx_.service->counters());
}

awaitable<void> Connection::Run() {
  try {
    // The handshake counts as a frame: a peer that stalls in it is closed
    // by the watchdog after --frame-timeout (at most --hello-timeout, as
    // everything before a HELLO succeeds). A plaintext client on a TLS
    // listener fails here, before any request is read.
    SetDeadline(true);
    co_await stream_.Handshake();
    while (co_await ServeOne()) {
    }
  } catch (const std::exception& e) {
    spdlog::debug("connection closed: {}", e.what());
  }
  // Leases must not outlive the connection, whatever ended it (the
  // session's destructor also ends them, for a server that stops with this
  // coroutine suspended).
  session_.EndLeases();
  Close();
  ctx_.service->counters().connections--;
}

void Connection::Close() {
  closed_ = true;
  stream_.Close();
  watchdog_.Stop();
}

awaitable<bool> Connection::ServeOne() {
  SetDeadline(false);
  protocol::HeaderBytes raw;
  co_await ReadExact(std::span<uint8_t>(raw));
  SetDeadline(true);
  ctx_.service->counters().requests++;
  if (stream_.fd_overflow()) {
    // More descriptors than SHM_REGISTERs can take: a client that floods
    // the server with them is cut off, and the descriptors closed.
    co_await ReplyError(Status::Invalid("too many file descriptors passed on this connection"));
    co_return false;
  }
  protocol::DecodedHeader d = protocol::DecodeHeader(raw);
  req_ = d.header;
  if (d.error != protocol::HeaderError::kNone) co_return co_await RefuseHeader(d);
  if (Status st = protocol::CheckBodyLength(req_, limits()); !st.ok()) {
    co_await ReplyError(st);  // the body is not read: framing is lost
    co_return false;
  }
  if ((req_.flags & ~protocol::kKnownFlags) != 0) {
    co_await Drain(req_.body_len);
    co_await ReplyError(Status::Invalid("unknown flags"));
    co_return true;
  }
  if (Status access = ctx_.service->Admit(session_, req_.opcode); !access.ok()) {
    // A revoked token ends the connection; a refused op only the request.
    if (session_.closing()) {
      co_await ReplyError(access);
      co_return false;
    }
    co_await Drain(req_.body_len);
    co_await ReplyError(access);
    co_return true;
  }
  const service::OpSpec& op = *service::FindOp(req_.opcode);  // a known opcode
  switch (op.body) {
    case BodyKind::kSmall:
      co_return co_await ServeSmallBody(op);
    case BodyKind::kPutValue:
      co_return co_await HandlePut();
    case BodyKind::kPutValues:
      co_return co_await HandleBatchPut();
    case BodyKind::kGetValue:
      co_return co_await HandleGet();
    case BodyKind::kGetValues:
      co_return co_await HandleBatchGet();
    case BodyKind::kShm:
      co_return co_await HandleShm();
  }
  co_return false;
}

awaitable<bool> Connection::RefuseHeader(const protocol::DecodedHeader& d) {
  switch (d.error) {
    case protocol::HeaderError::kBadMagic:
      req_.request_id = 0;  // nothing in the frame can be trusted
      req_.opcode = static_cast<Opcode>(0);
      co_await ReplyError(Status::Unsupported("bad magic: not a ctxstore protocol frame"));
      co_return false;
    case protocol::HeaderError::kBadVersion:
      co_await ReplyError(Status::Unsupported("protocol version " + std::to_string(req_.version) +
                                              " not supported (server speaks " +
                                              std::to_string(protocol::kVersion) + ")"));
      co_return false;
    case protocol::HeaderError::kUnknownOpcode:
      // Its body is skipped when it is no larger than any known op's.
      if (req_.body_len > limits().max_small_body_bytes) {
        co_await ReplyError(Status::Unsupported("unknown opcode " + std::to_string(d.raw_opcode)));
        co_return false;
      }
      co_await Drain(req_.body_len);
      co_await ReplyError(Status::Unsupported("unknown opcode " + std::to_string(d.raw_opcode)));
      co_return true;
    case protocol::HeaderError::kNone:
      break;
  }
  co_return true;
}

awaitable<bool> Connection::ServeSmallBody(const service::OpSpec& op) {
  std::string body = co_await ReadBody();
  DurableHook durable(stream_.get_executor());
  service::NativeRequest request;
  request.flags = req_.flags;
  request.body = body;
  request.durable = &durable;
  service::NativeReply reply = op.handler(*ctx_.service, session_, request);
  // Sync DELETE and FLUSH: answered once durable (or failed).
  if (reply.status.ok() && durable.waiter() != nullptr) {
    reply.status = co_await durable.waiter()->Wait();
  }
  co_await ReplyStatus(reply.status, reply.body);
  co_return !session_.closing();
}

void StartConnection(asio::generic::stream_protocol::socket socket, std::string peer,
                     const ConnectionContext& ctx) {
  std::make_shared<Connection>(std::move(socket), std::move(peer), ctx)->Start();
}

}  // namespace ctxstore::server
