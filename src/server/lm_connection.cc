// The lm:// connection: a 186-byte header, then the command. PUT values go
// from the socket straight into their arena block; a GET's reply header and
// value go out in one gather write (LMCache's client reads the 36-byte
// header with one recv). A malformed header ends the connection: the
// protocol has no way to answer a PUT, so framing cannot be trusted after.
#include "server/lm_connection.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <functional>
#include <memory>

#include "protocol/lm_message.h"
#include "server/flash_get.h"
#include "server/stream_io.h"
#include "server/stream.h"
#include "server/watchdog.h"
#include "service/context_ops.h"
#include "service/key_ops.h"
#include "service/put_ops.h"
#include "service/session.h"

namespace ctxstore::server {
namespace {

using asio::awaitable;
using asio::use_awaitable;
using protocol::LmCommand;

// LIST answers at most this many keys (the reference server has no bound;
// each LIST page costs a pass over the index under the engine's lock).
constexpr size_t kMaxListKeys = 10'000;

}  // namespace

// (Outside the anonymous namespace: StartWithWatchdog is its friend.)

class LmConnection : public std::enable_shared_from_this<LmConnection> {
 public:
  LmConnection(Stream::Socket socket, std::string peer, const ConnectionContext& ctx)
      : stream_(std::move(socket), nullptr, false),
        ctx_(ctx),
        session_(*ctx.service, std::move(peer)),
        watchdog_(stream_.get_executor(), *ctx.options) {}

  void Start() {
    // A write token's rights in the listener's namespace, without a token.
    service::Principal p;
    p.role = engine::TokenRole::kWrite;
    p.namespace_id = ctx_.lm_namespace_id;
    session_.Start(ctx_.lm_namespace_id, std::move(p), 0, "lm://" + session_.peer());
    StartWithWatchdog(shared_from_this(), stream_.get_executor(), watchdog_,
                      ctx_.service->counters());
  }

 private:
  template <typename Conn>
  friend void StartWithWatchdog(const std::shared_ptr<Conn>&, asio::any_io_executor, Watchdog&,
                                service::Counters&);
  awaitable<void> Run();
  awaitable<bool> ServeOne();
  awaitable<void> Put(const protocol::LmRequest& r);
  awaitable<void> Get(const protocol::LmRequest& r);
  awaitable<void> List();
  // A reply without a payload (length 0, no metadata).
  awaitable<void> Reply(int32_t code);
  void Close() {
    stream_.Close();
    watchdog_.Stop();
  }

  Stream stream_;
  ConnectionContext ctx_;
  service::Session session_;
  Watchdog watchdog_;
};

awaitable<void> LmConnection::Run() {
  try {
    while (co_await ServeOne()) {
    }
  } catch (const std::exception& e) {
    spdlog::debug("lm connection closed: {}", e.what());
  }
  Close();
  ctx_.service->counters().connections--;
}

awaitable<bool> LmConnection::ServeOne() {
  watchdog_.Disarm();  // idle for as long as the client likes
  protocol::LmRequestBytes head;
  // Once a request has begun, it must arrive whole within the frame timeout.
  size_t got = co_await stream_.async_read_some(asio::buffer(head), use_awaitable);
  watchdog_.Arm(/*in_frame=*/true, /*authenticated=*/true);
  if (got < head.size()) {
    co_await asio::async_read(stream_, asio::buffer(head.data() + got, head.size() - got),
                              TransferAll(), use_awaitable);
  }
  ctx_.service->counters().requests++;
  auto r = protocol::DecodeLmRequest(head, ctx_.service->limits().max_value_bytes);
  if (!r.ok()) {
    ctx_.service->counters().protocol_errors++;
    spdlog::info("lm://{}: {}; closing", session_.peer(), r.status().message());
    co_return false;
  }
  switch (r->command) {
    case LmCommand::kPut:
      co_await Put(*r);
      break;
    case LmCommand::kGet:
      co_await Get(*r);
      break;
    case LmCommand::kExist: {
      const bool present = service::Exists(*ctx_.service, session_, r->key).ok();
      co_await Reply(present ? protocol::kLmSuccess : protocol::kLmFail);
      break;
    }
    case LmCommand::kList:
      co_await List();
      break;
    case LmCommand::kHealth:
      co_await Reply(protocol::kLmSuccess);
      break;
  }
  co_return true;
}

awaitable<void> LmConnection::Put(const protocol::LmRequest& r) {
  // Chunks are named by their content: a second PUT of a key replaces it,
  // as the reference server's dict does.
  engine::WriteOptions opts = service::WriteOptionsFor(session_, protocol::kFlagOverwrite, {});
  opts.meta = protocol::EncodeLmMeta(r.meta);
  auto hold = ctx_.service->inflight().Reserve(r.length);
  auto put = hold.ok() ? service::BeginPut(*ctx_.service, r.key, r.length, opts)
                       : Result<engine::PutReservation>(hold.status());
  if (!put.ok()) {
    // No reply in lm://: the client learns of a refused PUT by its GET's miss.
    spdlog::debug("lm://{}: PUT {} refused: {}", session_.peer(), r.key, put.status().ToString());
    co_await Discard(stream_, r.length);
    co_return;
  }
  const uint64_t xxh3 = co_await ReceiveHashed(stream_, put->buffer(), 0);
  put->set_value_xxh3(xxh3);
  Status st = service::CommitPut(*ctx_.service, std::move(*put), nullptr);
  if (!st.ok()) spdlog::debug("lm://{}: PUT {}: {}", session_.peer(), r.key, st.ToString());
}

awaitable<void> LmConnection::Get(const protocol::LmRequest& r) {
  auto value = co_await GetValueOffLoop(ctx_, session_, r.key);
  if (!value.ok()) {
    co_await Reply(protocol::kLmFail);
    co_return;
  }
  const protocol::LmShape meta =
      protocol::DecodeLmMeta(value->meta ? std::string_view(value->meta->meta) : "");
  const protocol::LmReplyBytes head =
      protocol::EncodeLmReply(protocol::kLmSuccess, static_cast<uint32_t>(value->size), meta);
  std::array<asio::const_buffer, 2> parts = {asio::buffer(head),
                                             asio::buffer(value->data, value->size)};
  co_await asio::async_write(stream_, parts, TransferAll(), use_awaitable);
}

awaitable<void> LmConnection::List() {
  std::string keys;
  size_t listed = 0;
  ListOptions list;
  list.limit = kMaxListLimit;
  for (;;) {
    auto page = service::List(*ctx_.service, session_, list);
    if (!page.ok()) {
      co_await Reply(protocol::kLmFail);
      co_return;
    }
    for (const ObjectInfo& o : page->items) {
      if (!keys.empty()) keys += '\n';
      keys += o.key;
    }
    listed += page->items.size();
    if (page->next_cursor.empty() || listed >= kMaxListKeys) break;
    list.cursor = page->next_cursor;
  }
  const protocol::LmReplyBytes head =
      protocol::EncodeLmReply(protocol::kLmSuccess, static_cast<uint32_t>(keys.size()), {});
  std::array<asio::const_buffer, 2> parts = {asio::buffer(head), asio::buffer(keys)};
  co_await asio::async_write(stream_, parts, TransferAll(), use_awaitable);
}

awaitable<void> LmConnection::Reply(int32_t code) {
  const protocol::LmShape none;
  const protocol::LmReplyBytes head = protocol::EncodeLmReply(code, 0, none);
  co_await asio::async_write(stream_, asio::buffer(head), TransferAll(), use_awaitable);
}

void StartLmConnection(asio::generic::stream_protocol::socket socket, std::string peer,
                       const ConnectionContext& ctx) {
  std::make_shared<LmConnection>(std::move(socket), std::move(peer), ctx)->Start();
}

}  // namespace ctxstore::server
