// Private to the server: the Connection class behind StartConnection. It
// keeps only what is about bytes and time: framing, deadlines, streaming
// values in and out of the arena, and waiting for durability. Everything
// else (HELLO, access checks, the ops themselves) is the service's, found
// through service/op_table.h. Its members are defined in three files:
//   connection.cc         lifecycle, timeouts, framing and dispatch
//   connection_io.cc      reading bodies and prefixes, writing replies
//   connection_values.cc  the ops that carry values: PUT, BATCH_PUT, GET,
//                         BATCH_GET
// g++ 12 rules for every coroutine here: no braced initializer lists inside
// co_await arguments (build a named object first), no init-captures in
// lambdas written inside coroutines.
#pragma once

#include <asio.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "protocol/frame.h"
#include "protocol/put_body.h"
#include "server/connection.h"
#include "server/durable_waiter.h"
#include "server/read_ahead.h"
#include "server/shm_regions.h"
#include "server/stream.h"
#include "server/stream_io.h"
#include "server/watchdog.h"
#include "service/op_table.h"
#include "service/session.h"

namespace ctxstore::server {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Stream::Socket socket, std::string peer, const ConnectionContext& ctx);

  void Start();

 private:
  template <typename Conn>
  friend void StartWithWatchdog(const std::shared_ptr<Conn>&, asio::any_io_executor, Watchdog&,
                                service::Counters&);
  using Waiters = std::vector<std::shared_ptr<DurableWaiter>>;

  // ---- lifecycle and framing (connection.cc) ----

  asio::awaitable<void> Run();
  void Close();
  void SetDeadline(bool in_frame) { watchdog_.Arm(in_frame, session_.authenticated()); }
  // Reads and answers one request; false when the connection must close.
  asio::awaitable<bool> ServeOne();
  // Answers a header that did not decode; false when framing is lost.
  asio::awaitable<bool> RefuseHeader(const protocol::DecodedHeader& d);
  // An op whose request and reply are small bodies: the service answers it.
  asio::awaitable<bool> ServeSmallBody(const service::OpSpec& op);

  // ---- replies and reading (connection_io.cc) ----

  // parts[0] is left free for the frame header.
  asio::awaitable<void> SendReply(StatusCode code, std::span<asio::const_buffer> parts);
  asio::awaitable<void> ReplyOk(std::string_view body = {});
  // OK with the body, or the error.
  asio::awaitable<void> ReplyStatus(const Status& st, std::string_view ok_body = {});
  asio::awaitable<void> ReplyError(const Status& st);
  // Every read of the request stream goes through these two, so that the
  // read-ahead's bytes come first (server/read_ahead.h).
  asio::awaitable<void> ReadExact(std::span<uint8_t> dst);
  asio::awaitable<void> Drain(uint64_t bytes);
  // Reads a whole small body (its length was checked against the limits).
  asio::awaitable<std::string> ReadBody();
  // Feeds a PUT or BATCH_PUT parser the bytes it asks for, until it has
  // parsed a prefix or an item, or failed.
  template <typename Parser>
  asio::awaitable<Result<protocol::ParseStep>> ReadPrefix(Parser& parser);

  // ---- the ops that carry values (connection_values.cc) ----

  asio::awaitable<bool> HandlePut();
  asio::awaitable<bool> HandleBatchPut();
  asio::awaitable<bool> HandleGet();
  asio::awaitable<bool> HandleBatchGet();
  // Receives a value of value_len bytes into the arena and commits it; the
  // bytes are drained when the service refuses the put. A sync put's waiter
  // is added to *waiters.
  asio::awaitable<Status> ReceiveValue(std::string_view key, uint64_t value_len,
                                       const engine::WriteOptions& opts, Waiters* waiters);
  // The service's GET, with a read that must wait for flash moved to the
  // flash reader pool (the connections sharing this thread go on meanwhile).
  asio::awaitable<Result<engine::ValueRef>> GetValue(std::string_view key);

  // ---- shared memory, Unix connections only (connection_shm.cc) ----

  asio::awaitable<bool> HandleShm();
  // The new region's id (the reply body), or why not.
  Result<std::string> ShmRegister(std::string_view body);
  asio::awaitable<void> ShmGet(std::string_view body);
  asio::awaitable<void> ShmPut(std::string_view body);

  bool Ext() const { return (req_.flags & protocol::kFlagExt) != 0; }
  const protocol::Limits& limits() const { return ctx_.service->limits(); }

  Stream stream_;
  ReadAhead read_ahead_;
  ConnectionContext ctx_;
  service::Session session_;
  ShmRegions regions_;  // empty on TCP connections
  Watchdog watchdog_;  // closes connections that sit idle, or take too long to send a frame
  protocol::FrameHeader req_;
  bool closed_ = false;
};

}  // namespace ctxstore::server
