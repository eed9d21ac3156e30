// Private to the server: the Connection class behind StartConnection. Its
// members are defined in three files:
//   connection.cc     lifecycle, timeouts, dispatch and the core key ops
//                     (HELLO, PUT, GET, EXISTS, DELETE, BATCH_*, MATCH_PREFIX,
//                     FLUSH, STATS)
//   connection_io.cc  reading request bodies and writing replies
//   context_ops.cc    leases and the context ops (RELEASE, STAT, LIST, PIN,
//                     UNPIN, DELETE_GROUP) and namespace admin (NS_*)
//   token_ops.cc      access checks, auditing and token admin (TOKEN_*)
// g++ 12 rule for every coroutine here: no braced initializer lists inside
// co_await arguments (build a named object first).
#pragma once

#include <asio.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/engine.h"
#include "protocol/frame.h"
#include "protocol/messages.h"
#include "server/audit_log.h"
#include "server/auth.h"
#include "server/connection.h"
#include "server/stream.h"

namespace ctxstore::server {

// Completion condition for asio::async_read/async_write: asio's default
// (transfer_all) caps every read_some/write_some at 64 KiB, so a 4 MiB value
// took 64 system calls and as many reactor round trips. This one lets each
// call move as much as the kernel takes.
struct TransferAll {
  size_t operator()(const std::error_code& ec, size_t /*transferred*/) const {
    return ec ? 0 : kMaxBytesPerCall;
  }
  static constexpr size_t kMaxBytesPerCall = size_t{1} << 30;
};

// Turns a DurableCallback (run on the flusher thread) into something a
// coroutine can wait for on its own executor.
class DurableWaiter : public std::enable_shared_from_this<DurableWaiter> {
 public:
  explicit DurableWaiter(const asio::any_io_executor& ex) : timer_(ex) {}
  engine::DurableCallback Callback() {
    return [self = shared_from_this()](Status st) {
      asio::post(self->timer_.get_executor(), [self, st = std::move(st)]() mutable {
        self->status_ = std::move(st);
        self->done_ = true;
        self->timer_.cancel();
      });
    };
  }
  asio::awaitable<Status> Wait() {
    while (!done_) {
      timer_.expires_at(asio::steady_timer::time_point::max());
      asio::error_code ec;
      co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return status_;
  }

 private:
  asio::steady_timer timer_;
  bool done_ = false;
  Status status_;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::ip::tcp::socket socket, const ConnectionContext& ctx)
      : stream_(std::move(socket), ctx.tls), ctx_(ctx), watchdog_(stream_.get_executor()) {}
  // Also reached when the server stops with this connection's coroutine
  // suspended (its frame is destroyed, not resumed): leases must not outlive
  // the connection either way.
  ~Connection() { ReleaseLeases(); }

  void Start();

 private:
  // ---- lifecycle (connection.cc) ----

  asio::awaitable<void> Run();
  void Close();
  // Closes connections that sit idle, or take too long to send a frame.
  asio::awaitable<void> Watchdog();
  void SetDeadline(bool in_frame);
  // Reads and answers one request; false when the connection must close.
  asio::awaitable<bool> ServeOne();

  // ---- replies (connection_io.cc) ----

  asio::awaitable<void> Reply(StatusCode code, std::vector<asio::const_buffer> body_parts);
  asio::awaitable<void> ReplyOk(std::string_view body = {});
  // OK with the body, or the error.
  asio::awaitable<void> ReplyStatus(const Status& st, std::string_view ok_body = {});
  asio::awaitable<void> ReplyError(const Status& st);

  // ---- reading (connection_io.cc) ----

  asio::awaitable<void> Drain(uint64_t bytes);
  // Reads a whole small body (its length was checked against the limits).
  asio::awaitable<std::string> ReadBody();
  // Reads a u16-length key from a streamed body; "remaining" counts down.
  asio::awaitable<Result<std::string>> ReadKey(uint64_t* remaining);
  // Reads a u64 from a streamed body; kInvalid (nothing read) when fewer
  // than 8 bytes are left.
  asio::awaitable<Result<uint64_t>> ReadU64(uint64_t* remaining);
  // Appends n more bytes of a streamed body to *buf; false (nothing read)
  // when fewer than n are left.
  asio::awaitable<bool> ReadMore(std::string* buf, size_t n, uint64_t* remaining);
  // Reads a put-options block from a streamed body. The block's size is
  // known only field by field, so each length is checked against its limit
  // before the bytes it covers are read: never more than
  // kMaxPutOptionsBytes, and never into the value.
  asio::awaitable<Result<protocol::PutOptionsBlock>> ReadPutOptions(uint64_t* remaining);
  // Receives a value of value_len bytes into the arena and commits it; the
  // bytes are drained when the engine refuses the put.
  asio::awaitable<Status> ReceiveValue(const std::string& key, uint64_t value_len,
                                       const engine::WriteOptions& opts,
                                       std::vector<std::shared_ptr<DurableWaiter>>* waiters);

  bool Ext() const { return (req_.flags & protocol::kFlagExt) != 0; }

  // Options every write of this request shares: flags, the connection's
  // namespace and its client as the writer.
  engine::WriteOptions WriteOpts() const;
  static void ApplyPutOptions(const protocol::PutOptionsBlock& b, engine::WriteOptions* o);

  // ---- leases (context_ops.cc) ----

  // Leases taken by this connection's MATCH_PREFIX, with the monotonic time
  // by which each has ended anyway. They count against
  // max_leases_per_connection and are released when the connection ends.
  bool HasLeaseSlot();
  void ReleaseLeases();

  // ---- core key ops (connection.cc) ----

  asio::awaitable<bool> HandleHello();
  asio::awaitable<bool> HandlePut();
  asio::awaitable<bool> HandleGet();
  // engine->Get, with a read that must wait for flash moved to the flash
  // reader pool (the connections sharing this thread go on meanwhile).
  asio::awaitable<Result<engine::ValueRef>> GetValue(std::string_view key);
  asio::awaitable<bool> HandleExists();
  asio::awaitable<bool> HandleDelete();
  asio::awaitable<bool> HandleBatchPut();
  asio::awaitable<bool> HandleBatchGet();
  asio::awaitable<bool> HandleBatchExists();
  asio::awaitable<bool> HandleMatchPrefix();
  asio::awaitable<bool> HandleFlush();
  asio::awaitable<bool> HandleStats();

  // ---- context ops (context_ops.cc) ----

  asio::awaitable<bool> HandleRelease();
  asio::awaitable<bool> HandleStat();
  asio::awaitable<bool> HandleList();
  asio::awaitable<bool> HandlePin();
  asio::awaitable<bool> HandleUnpin();
  asio::awaitable<bool> HandleDeleteGroup();

  // Namespace administration is not bound to the connection's namespace.

  asio::awaitable<bool> HandleNsCreate();
  asio::awaitable<bool> HandleNsSet();
  asio::awaitable<bool> HandleNsList();
  asio::awaitable<bool> HandleNsDelete();

  // ---- access and token admin (token_ops.cc) ----

  // Whether the connection's token, still valid, permits the request's op.
  // Rechecks the token only when the engine's access epoch moved.
  Status CheckAccess();
  // An audit line with the connection's peer and token id added.
  void Audit(std::string_view event, nlohmann::json fields);
  asio::awaitable<bool> HandleTokenCreate();
  asio::awaitable<bool> HandleTokenList();
  asio::awaitable<bool> HandleTokenRevoke();

  Stream stream_;
  ConnectionContext ctx_;
  asio::steady_timer watchdog_;
  protocol::FrameHeader req_;
  bool hello_done_ = false;
  bool closed_ = false;
  bool in_frame_ = false;
  uint64_t deadline_ms_ = 0;
  // Set by HELLO.
  uint32_t ns_id_ = engine::kDefaultNamespaceId;
  std::string client_name_;
  std::string writer_;
  std::string peer_;     // "ip:port", for audit lines
  Principal principal_;  // set by HELLO; with authentication off, everything
  uint64_t access_epoch_ = 0;
  bool token_revoked_ = false;
  std::unordered_map<uint64_t, uint64_t> leases_;  // lease id -> monotonic end
};

}  // namespace ctxstore::server
