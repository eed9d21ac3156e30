// Connection lifecycle, timeouts, request dispatch and the core key ops
// (HELLO, PUT, GET, EXISTS, DELETE, BATCH_*, MATCH_PREFIX, FLUSH, STATS).
// Body reading and replies are in connection_io.cc; leases, context ops and
// namespace admin in context_ops.cc (see connection_impl.h).
#include "server/connection.h"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/byte_io.h"
#include "common/clock.h"
#include "protocol/messages.h"
#include "server/connection_impl.h"

namespace ctxstore::server {
namespace {

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using protocol::Opcode;

constexpr const char* kServerVersion = "ctxstore 0.1.0";

}  // namespace

void Connection::Start() {
  auto self = shared_from_this();
  asio::error_code ec;
  auto remote = stream_.socket().remote_endpoint(ec);
  if (!ec) peer_ = remote.address().to_string() + ":" + std::to_string(remote.port());
  ctx_.counters->connections++;
  ctx_.counters->connections_total++;
  asio::co_spawn(
      stream_.get_executor(), [self]() -> awaitable<void> { co_await self->Run(); },
      asio::detached);
  asio::co_spawn(
      stream_.get_executor(), [self]() -> awaitable<void> { co_await self->Watchdog(); },
      asio::detached);
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
  ReleaseLeases();
  Close();
  ctx_.counters->connections--;
}

void Connection::Close() {
  closed_ = true;
  stream_.Close();
  watchdog_.cancel();
}

awaitable<void> Connection::Watchdog() {
  uint64_t tick_ms = std::max<uint64_t>(
      10, std::min({ctx_.options->idle_timeout_ms, ctx_.options->frame_timeout_ms,
                    ctx_.options->hello_timeout_ms}) /
              4);
  while (!closed_) {
    watchdog_.expires_after(std::chrono::milliseconds(std::min<uint64_t>(tick_ms, 1000)));
    asio::error_code ec;
    co_await watchdog_.async_wait(asio::redirect_error(use_awaitable, ec));
    if (closed_) break;
    if (MonotonicMs() >= deadline_ms_) {
      spdlog::info("closing connection: {} timeout",
                   !hello_done_ ? "hello" : (in_frame_ ? "frame" : "idle"));
      ctx_.counters->timeouts++;
      Close();
    }
  }
}

void Connection::SetDeadline(bool in_frame) {
  in_frame_ = in_frame;
  uint64_t timeout_ms = in_frame ? ctx_.options->frame_timeout_ms : ctx_.options->idle_timeout_ms;
  if (!hello_done_) timeout_ms = std::min(timeout_ms, ctx_.options->hello_timeout_ms);
  deadline_ms_ = MonotonicMs() + timeout_ms;
}

awaitable<bool> Connection::ServeOne() {
  SetDeadline(false);
  protocol::HeaderBytes raw;
  co_await asio::async_read(stream_, asio::buffer(raw), TransferAll(), use_awaitable);
  SetDeadline(true);
  ctx_.counters->requests++;
  protocol::DecodedHeader d = protocol::DecodeHeader(raw);
  req_ = d.header;
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
      if (req_.body_len > ctx_.limits.max_small_body_bytes) {
        co_await ReplyError(Status::Unsupported("unknown opcode " + std::to_string(d.raw_opcode)));
        co_return false;
      }
      co_await Drain(req_.body_len);
      co_await ReplyError(Status::Unsupported("unknown opcode " + std::to_string(d.raw_opcode)));
      co_return true;
    case protocol::HeaderError::kNone:
      break;
  }
  if (Status st = protocol::CheckBodyLength(req_, ctx_.limits); !st.ok()) {
    co_await ReplyError(st);  // the body is not read: framing is lost
    co_return false;
  }
  if ((req_.flags & ~protocol::kKnownFlags) != 0) {
    co_await Drain(req_.body_len);
    co_await ReplyError(Status::Invalid("unknown flags"));
    co_return true;
  }
  if (!hello_done_ && req_.opcode != Opcode::kHello) {
    co_await Drain(req_.body_len);
    co_await ReplyError(Status::Invalid("HELLO must be the first request"));
    co_return true;
  }
  if (Status access = CheckAccess(); !access.ok()) {
    // A revoked token ends the connection; a refused op only the request.
    if (token_revoked_) {
      co_await ReplyError(access);
      co_return false;
    }
    co_await Drain(req_.body_len);
    co_await ReplyError(access);
    co_return true;
  }
  switch (req_.opcode) {
    case Opcode::kHello:
      co_return co_await HandleHello();
    case Opcode::kPut:
      co_return co_await HandlePut();
    case Opcode::kGet:
      co_return co_await HandleGet();
    case Opcode::kExists:
      co_return co_await HandleExists();
    case Opcode::kDelete:
      co_return co_await HandleDelete();
    case Opcode::kBatchPut:
      co_return co_await HandleBatchPut();
    case Opcode::kBatchGet:
      co_return co_await HandleBatchGet();
    case Opcode::kBatchExists:
      co_return co_await HandleBatchExists();
    case Opcode::kMatchPrefix:
      co_return co_await HandleMatchPrefix();
    case Opcode::kFlush:
      co_return co_await HandleFlush();
    case Opcode::kStats:
      co_return co_await HandleStats();
    case Opcode::kRelease:
      co_return co_await HandleRelease();
    case Opcode::kStat:
      co_return co_await HandleStat();
    case Opcode::kList:
      co_return co_await HandleList();
    case Opcode::kPin:
      co_return co_await HandlePin();
    case Opcode::kUnpin:
      co_return co_await HandleUnpin();
    case Opcode::kDeleteGroup:
      co_return co_await HandleDeleteGroup();
    case Opcode::kNsCreate:
      co_return co_await HandleNsCreate();
    case Opcode::kNsSet:
      co_return co_await HandleNsSet();
    case Opcode::kNsList:
      co_return co_await HandleNsList();
    case Opcode::kNsDelete:
      co_return co_await HandleNsDelete();
    case Opcode::kTokenCreate:
      co_return co_await HandleTokenCreate();
    case Opcode::kTokenList:
      co_return co_await HandleTokenList();
    case Opcode::kTokenRevoke:
      co_return co_await HandleTokenRevoke();
  }
  co_return false;
}

// ---- core key ops ----

awaitable<bool> Connection::HandleHello() {
  std::string body = co_await ReadBody();
  auto hello = protocol::DecodeHelloRequest(body);
  if (!hello.ok()) {
    co_await ReplyError(hello.status());
    co_return true;
  }
  if (hello->version != protocol::kVersion) {
    co_await ReplyError(Status::Unsupported("protocol version " + std::to_string(hello->version) +
                                            " not supported"));
    co_return false;
  }
  // Read before the token is checked: a revocation that lands after the
  // check moves the epoch past this value, and the next request sees it.
  const uint64_t epoch = ctx_.engine->access_epoch();
  Principal principal;  // authentication off: everything, everywhere
  if (ctx_.options->auth) {
    auto authenticated = Authenticate(*ctx_.engine, hello->token);
    if (!authenticated.ok()) {
      ctx_.counters->auth_failures++;
      nlohmann::json fields = {{"reason", authenticated.status().message()},
                               {"client", hello->client_name.substr(0, kMaxWriterBytes)}};
      Audit("auth_failure", std::move(fields));
      // Closing makes every guess cost a new connection.
      co_await ReplyError(authenticated.status());
      co_return false;
    }
    principal = *authenticated;
  }
  // No namespace named: the token's own, or "default" for an admin token.
  std::string_view ns_name = hello->namespace_name;
  Result<uint32_t> ns = principal.namespace_id;
  if (!ns_name.empty() || principal.namespace_id == engine::kAllNamespaces) {
    if (ns_name.empty()) ns_name = engine::kDefaultNamespaceName;
    ns = ctx_.engine->ResolveNamespace(ns_name);
    // A token of another namespace gets the same answer whether this one
    // exists or not.
    if ((ns.ok() && !principal.InNamespace(*ns)) ||
        (!ns.ok() && principal.namespace_id != engine::kAllNamespaces)) {
      ctx_.counters->access_denied++;
      nlohmann::json fields = {{"op", "HELLO"}, {"namespace", std::string(ns_name)}};
      Audit("denied", std::move(fields));
      co_await ReplyError(
          Status(StatusCode::kUnauthorized,
                 "the token is not valid in namespace '" + std::string(ns_name) + "'"));
      co_return true;
    }
  }
  if (!ns.ok()) {
    // The connection stays as it was (before HELLO: unusable until one works).
    Status st = ns.status();
    if (st.code() == StatusCode::kNotFound) {
      st = Status::NotFound("namespace '" + std::string(ns_name) + "' does not exist");
    }
    co_await ReplyError(st);
    co_return true;
  }
  // Leases belong to a namespace: a HELLO into another one ends them here,
  // while ns_id_ still names theirs, rather than leave them to run out.
  if (hello_done_ && *ns != ns_id_) ReleaseLeases();
  hello_done_ = true;
  ns_id_ = *ns;
  principal_ = std::move(principal);
  access_epoch_ = epoch;
  client_name_ = hello->client_name;
  // Provenance: the token that wrote an object, when there are tokens.
  // Without, the client's name, cut to the engine's bound rather than
  // failing every write of the connection.
  writer_ =
      principal_.token_id.empty() ? client_name_.substr(0, kMaxWriterBytes) : principal_.token_id;
  protocol::HelloReply reply;
  reply.max_value_bytes = ctx_.limits.max_value_bytes;
  reply.max_batch_keys = ctx_.limits.max_batch_keys;
  reply.max_batch_bytes = ctx_.limits.max_batch_bytes;
  reply.server_version = kServerVersion;
  co_await ReplyOk(protocol::EncodeHelloReply(reply));
  co_return true;
}

awaitable<bool> Connection::HandlePut() {
  uint64_t remaining = req_.body_len;
  auto key = co_await ReadKey(&remaining);
  if (!key.ok()) {
    co_await Drain(remaining);
    co_await ReplyError(key.status());
    co_return true;
  }
  engine::WriteOptions opts = WriteOpts();
  if ((req_.flags & protocol::kFlagChecksum) != 0) {
    auto xxh3 = co_await ReadU64(&remaining);
    if (!xxh3.ok()) {
      co_await Drain(remaining);
      co_await ReplyError(Status::Invalid("PUT body too short for its checksum"));
      co_return true;
    }
    opts.expected_xxh3 = *xxh3;
  }
  if (Ext()) {
    auto block = co_await ReadPutOptions(&remaining);
    if (!block.ok()) {
      co_await Drain(remaining);
      co_await ReplyError(block.status());
      co_return true;
    }
    ApplyPutOptions(*block, &opts);  // kPutFlagChain means nothing for one PUT
  }
  // The value is the rest of the body.
  std::vector<std::shared_ptr<DurableWaiter>> waiters;
  Status st = co_await ReceiveValue(*key, remaining, opts, &waiters);
  for (auto& w : waiters) st = co_await w->Wait();
  if (st.ok())
    co_await ReplyOk();
  else
    co_await ReplyError(st);
  co_return true;
}

namespace {

// Starts a GET on the flash reader pool; the pool thread posts the
// coroutine's completion handler back to its own executor, where it is
// called and destroyed (it owns coroutine frames allocated there). A named
// type rather than a lambda inside the coroutine: g++ 12 mishandles
// init-captures of lambdas written in coroutines.
struct StartFlashGet {
  engine::Engine* engine;
  uint32_t ns;
  std::shared_ptr<const std::string> key;
  std::shared_ptr<std::optional<Result<engine::ValueRef>>> result;
  BlockingPool* pool;

  template <typename Handler>
  void operator()(Handler handler) const {
    auto held = std::make_shared<Handler>(std::move(handler));
    pool->Post([engine = engine, ns = ns, key = key, result = result, held]() mutable {
      result->emplace(engine->Get(ns, *key));
      auto home = asio::get_associated_executor(*held);
      asio::post(home, [h = std::move(held)] { std::move (*h)(); });
    });
  }
};

}  // namespace

awaitable<Result<engine::ValueRef>> Connection::GetValue(std::string_view key) {
  auto value = ctx_.engine->Get(ns_id_, key, /*never_block=*/true);
  if (value.status().code() != StatusCode::kBusy) co_return value;
  if (ctx_.flash_readers == nullptr) co_return ctx_.engine->Get(ns_id_, key);  // blocks this thread
  auto result = std::make_shared<std::optional<Result<engine::ValueRef>>>();
  StartFlashGet start{ctx_.engine, ns_id_, std::make_shared<const std::string>(key), result,
                      ctx_.flash_readers};
  co_await asio::async_initiate<decltype(use_awaitable), void()>(start, use_awaitable);
  co_return std::move(**result);
}

awaitable<bool> Connection::HandleGet() {
  std::string body = co_await ReadBody();
  auto key = protocol::DecodeKey(body);
  if (!key.ok()) {
    co_await ReplyError(key.status());
    co_return true;
  }
  auto value = co_await GetValue(*key);
  if (!value.ok()) {
    co_await ReplyError(value.status());
    co_return true;
  }
  uint64_t xxh3 = value->xxh3;
  // Header, checksum (and metadata) and value in one gather write,
  // straight from the arena. value keeps the metadata alive too.
  std::vector<asio::const_buffer> parts;
  parts.push_back(asio::buffer(&xxh3, sizeof(xxh3)));
  uint16_t meta_len = 0;
  if (Ext()) {
    std::string_view meta;
    if (value->meta) meta = value->meta->meta;
    meta_len = static_cast<uint16_t>(meta.size());  // <= kMaxMetaBytes
    parts.push_back(asio::buffer(&meta_len, sizeof(meta_len)));
    parts.push_back(asio::buffer(meta.data(), meta.size()));
  }
  parts.push_back(asio::buffer(value->data, value->size));
  co_await Reply(StatusCode::kOk, std::move(parts));
  co_return true;
}

awaitable<bool> Connection::HandleExists() {
  std::string body = co_await ReadBody();
  auto key = protocol::DecodeKey(body);
  if (!key.ok()) {
    co_await ReplyError(key.status());
    co_return true;
  }
  auto len = ctx_.engine->Exists(ns_id_, *key);
  if (!len.ok()) {
    co_await ReplyError(len.status());
    co_return true;
  }
  uint64_t v = *len;
  co_await ReplyOk(std::string_view(reinterpret_cast<const char*>(&v), sizeof(v)));
  co_return true;
}

awaitable<bool> Connection::HandleDelete() {
  std::string body = co_await ReadBody();
  auto key = protocol::DecodeKey(body);
  if (!key.ok()) {
    co_await ReplyError(key.status());
    co_return true;
  }
  bool sync = (req_.flags & protocol::kFlagSync) != 0;
  std::shared_ptr<DurableWaiter> waiter;
  if (sync) waiter = std::make_shared<DurableWaiter>(stream_.get_executor());
  Status st = ctx_.engine->Delete(ns_id_, *key, sync, waiter ? waiter->Callback() : nullptr);
  if (st.ok()) {
    nlohmann::json fields = {{"namespace_id", ns_id_}, {"key", std::string(*key)}};
    Audit("delete", std::move(fields));
  }
  if (st.ok() && waiter) st = co_await waiter->Wait();
  if (st.ok())
    co_await ReplyOk();
  else
    co_await ReplyError(st);
  co_return true;
}

awaitable<bool> Connection::HandleBatchPut() {
  uint64_t remaining = req_.body_len;
  if (remaining < protocol::kBatchPutCountSize) {
    co_await Drain(remaining);
    co_await ReplyError(Status::Invalid("BATCH_PUT body too short"));
    co_return true;
  }
  uint32_t count = 0;
  co_await asio::async_read(stream_, asio::buffer(&count, 4), TransferAll(), use_awaitable);
  remaining -= 4;
  if (count > ctx_.limits.max_batch_keys) {
    co_await ReplyError(Status::TooLarge("batch of " + std::to_string(count) + " items exceeds " +
                                         std::to_string(ctx_.limits.max_batch_keys)));
    co_return false;  // the rest of the body is not read
  }
  engine::WriteOptions opts = WriteOpts();
  bool chain = false;
  if (Ext()) {
    // One block for every item.
    auto block = co_await ReadPutOptions(&remaining);
    if (!block.ok()) {
      co_await Drain(remaining);
      co_await ReplyError(block.status());
      co_return true;
    }
    ApplyPutOptions(*block, &opts);
    chain = (block->put_flags & protocol::kPutFlagChain) != 0;
  }
  std::vector<StatusCode> codes;
  codes.reserve(count);
  std::vector<std::shared_ptr<DurableWaiter>> waiters;
  for (uint32_t i = 0; i < count; ++i) {
    auto key = co_await ReadKey(&remaining);
    uint64_t value_len = 0;
    bool framed = key.ok();
    if (framed) {
      auto len = co_await ReadU64(&remaining);
      framed = len.ok();
      if (framed) value_len = *len;
    }
    if (framed && (req_.flags & protocol::kFlagChecksum) != 0) {
      auto xxh3 = co_await ReadU64(&remaining);
      framed = xxh3.ok();
      if (framed) opts.expected_xxh3 = *xxh3;
    }
    if (!framed || value_len > remaining) {
      co_await Drain(remaining);
      co_await ReplyError(Status::Invalid("malformed BATCH_PUT item " + std::to_string(i)));
      co_return true;
    }
    Status st = co_await ReceiveValue(*key, value_len, opts, &waiters);
    remaining -= value_len;
    codes.push_back(st.code());
    // A chain links each item to the one before even when that one was
    // refused (EXISTS, say): the links describe the prefix, not the writes.
    if (chain) opts.parent = std::move(*key);
  }
  if (remaining != 0) {
    co_await Drain(remaining);
    co_await ReplyError(Status::Invalid("trailing bytes after BATCH_PUT items"));
    co_return true;
  }
  // Sync waiters complete in commit order; map failures back onto items.
  size_t w = 0;
  for (StatusCode& code : codes) {
    if (code != StatusCode::kOk || !opts.sync) continue;
    Status st = co_await waiters[w++]->Wait();
    code = st.code();
  }
  std::string reply = protocol::EncodeStatusList(codes);
  co_await ReplyOk(reply);
  co_return true;
}

awaitable<bool> Connection::HandleBatchGet() {
  std::string body = co_await ReadBody();
  auto keys = protocol::DecodeKeyList(body, ctx_.limits.max_batch_keys);
  if (!keys.ok()) {
    co_await ReplyError(keys.status());
    co_return true;
  }
  std::vector<engine::ValueRef> values(keys->size());
  std::string item_heads;
  item_heads.reserve(4 + keys->size() * protocol::kBatchGetItemHeaderSize);
  ByteWriter(&item_heads).Put(static_cast<uint32_t>(keys->size()));
  uint64_t total = 0;
  for (size_t i = 0; i < keys->size(); ++i) {
    // Sizes first: a value past the reply budget is never read from flash.
    auto len = ctx_.engine->Exists(ns_id_, (*keys)[i]);
    StatusCode code = len.status().code();
    if (len.ok() && total + *len > ctx_.limits.max_batch_bytes) code = StatusCode::kTooLarge;
    if (code == StatusCode::kOk) {
      auto v = co_await GetValue((*keys)[i]);
      code = v.status().code();
      if (v.ok() && total + v->size > ctx_.limits.max_batch_bytes) code = StatusCode::kTooLarge;
      if (code == StatusCode::kOk) {
        values[i] = std::move(*v);
        total += values[i].size;
      }
    }
    item_heads += protocol::EncodeBatchGetItemHeader(code, values[i].size, values[i].xxh3);
  }
  std::vector<asio::const_buffer> parts;
  parts.reserve(1 + 2 * keys->size());
  parts.push_back(asio::buffer(item_heads.data(), 4));
  for (size_t i = 0; i < keys->size(); ++i) {
    parts.push_back(asio::buffer(item_heads.data() + 4 + i * protocol::kBatchGetItemHeaderSize,
                                 protocol::kBatchGetItemHeaderSize));
    if (values[i].size > 0) parts.push_back(asio::buffer(values[i].data, values[i].size));
  }
  co_await Reply(StatusCode::kOk, std::move(parts));
  co_return true;
}

awaitable<bool> Connection::HandleBatchExists() {
  std::string body = co_await ReadBody();
  auto keys = protocol::DecodeKeyList(body, ctx_.limits.max_batch_keys);
  if (!keys.ok()) {
    co_await ReplyError(keys.status());
    co_return true;
  }
  std::string reply;
  ByteWriter w(&reply);
  w.Put(static_cast<uint32_t>(keys->size()));
  for (std::string_view k : *keys)
    w.Put(static_cast<uint8_t>(ctx_.engine->Exists(ns_id_, k).ok() ? 1 : 0));
  co_await ReplyOk(reply);
  co_return true;
}

awaitable<bool> Connection::HandleMatchPrefix() {
  std::string body = co_await ReadBody();
  std::string_view list = body;
  uint64_t lease_ms = 0;
  if (Ext()) {
    ByteReader r(list);
    lease_ms = r.Get<uint64_t>();
    if (!r.ok()) {
      co_await ReplyError(Status::Invalid("MATCH_PREFIX body too short for a lease time"));
      co_return true;
    }
    list.remove_prefix(sizeof(lease_ms));
  }
  auto keys = protocol::DecodeKeyList(list, ctx_.limits.max_batch_keys);
  if (!keys.ok()) {
    co_await ReplyError(keys.status());
    co_return true;
  }
  if (lease_ms > 0 && !HasLeaseSlot()) {
    co_await ReplyError(Status::Busy("too many leases on this connection"));
    co_return true;
  }
  auto m = ctx_.engine->MatchPrefix(ns_id_, *keys, lease_ms);
  if (!m.ok()) {
    co_await ReplyError(m.status());
    co_return true;
  }
  if (m->lease_id != 0) leases_[m->lease_id] = MonotonicMs() + lease_ms;
  std::string reply;
  ByteWriter w(&reply);
  w.Put(m->matched);
  if (Ext()) w.Put(m->lease_id);
  co_await ReplyOk(reply);
  co_return true;
}

awaitable<bool> Connection::HandleFlush() {
  co_await Drain(req_.body_len);
  auto waiter = std::make_shared<DurableWaiter>(stream_.get_executor());
  ctx_.engine->Flush(waiter->Callback());
  Status st = co_await waiter->Wait();
  if (st.ok())
    co_await ReplyOk();
  else
    co_await ReplyError(st);
  co_return true;
}

awaitable<bool> Connection::HandleStats() {
  co_await Drain(req_.body_len);
  engine::EngineStats s = ctx_.engine->Stats();
  nlohmann::json j = {
      {"objects", s.objects},
      {"dram_objects", s.dram_objects},
      {"dram_bytes", s.dram_bytes},
      {"dram_capacity_bytes", s.dram_capacity_bytes},
      {"dram_populated_bytes", s.dram_populated_bytes},
      {"index_bytes", s.index_bytes},
      {"dirty_objects", s.dirty_objects},
      {"flash_objects", s.flash_objects},
      {"flash_bytes", s.flash_bytes},
      {"flash_capacity_bytes", s.flash_capacity_bytes},
      {"flash_segments", s.flash_segments},
      {"hits_dram", s.hits_dram},
      {"hits_flash", s.hits_flash},
      {"misses", s.misses},
      {"puts", s.puts},
      {"deletes", s.deletes},
      {"evictions_dram", s.evictions_dram},
      {"reclaimed_segments", s.reclaimed_segments},
      {"reclaimed_objects", s.reclaimed_objects},
      {"corrupt_records_skipped", s.corrupt_records_skipped},
      {"torn_records_skipped", s.torn_records_skipped},
      {"corrupt_reads", s.corrupt_reads},
      {"io_errors", s.io_errors},
      {"key_unavailable_reads", s.key_unavailable_reads},
      {"flash_read_retries", s.flash_read_retries},
      {"sealed_records", s.sealed_records},
      {"write_retries", s.write_retries},
      {"writes_coalesced", s.writes_coalesced},
      {"recovered_objects", s.recovered_objects},
      {"recovery_ms", s.recovery_ms},
      {"recovered_from_checkpoint", s.recovered_from_checkpoint},
      {"expired_objects", s.expired_objects},
      {"evictions_quota", s.evictions_quota},
      {"pinned_lost", s.pinned_lost},
      {"bad_segments", s.bad_segments},
      {"bad_segment_objects", s.bad_segment_objects},
      {"leases", s.leases},
      {"pin_rules", s.pin_rules},
      {"namespaces", s.namespaces},
      {"connections", ctx_.counters->connections.load()},
      {"connections_total", ctx_.counters->connections_total.load()},
      {"requests", ctx_.counters->requests.load()},
      {"protocol_errors", ctx_.counters->protocol_errors.load()},
      {"timeouts", ctx_.counters->timeouts.load()},
      {"auth_failures", ctx_.counters->auth_failures.load()},
      {"access_denied", ctx_.counters->access_denied.load()},
      {"inflight_bytes", ctx_.counters->inflight_bytes.load()},
      {"inflight_refused", ctx_.counters->inflight_refused.load()},
      {"connections_refused", ctx_.counters->connections_refused.load()},
  };
  co_await ReplyOk(j.dump());
  co_return true;
}

void StartConnection(asio::ip::tcp::socket socket, const ConnectionContext& ctx) {
  std::make_shared<Connection>(std::move(socket), ctx)->Start();
}

}  // namespace ctxstore::server
