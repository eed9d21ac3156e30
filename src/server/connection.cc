#include "server/connection.h"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "protocol/messages.h"
#include "protocol/wire.h"

namespace ctxstore::server {
namespace {

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using protocol::FrameHeader;
using protocol::Opcode;

constexpr const char* kServerVersion = "ctxstore 0.1.0";
constexpr size_t kDrainChunkBytes = 64 * 1024;

protocol::ObjectInfoWire ToWire(const engine::ObjectInfo& info) {
  protocol::ObjectInfoWire w;
  w.key = info.key;
  w.namespace_id = info.namespace_id;
  w.value_len = info.value_len;
  w.value_xxh3 = info.value_xxh3;
  w.created_ms = info.created_ms;
  w.expires_ms = info.expires_ms;
  auto bit = [](bool on, uint8_t b) { return on ? b : uint8_t{0}; };
  w.state = bit(info.in_dram, protocol::kObjectStateInDram) |
            bit(info.on_flash, protocol::kObjectStateOnFlash) |
            bit(info.durable, protocol::kObjectStateDurable) |
            bit(info.pinned, protocol::kObjectStatePinned) |
            bit(info.pin_dram, protocol::kObjectStatePinDram) |
            bit(info.orphan, protocol::kObjectStateOrphan);
  w.pin_expires_ms = info.pin_expires_ms;
  w.leases = info.leases;
  w.lease_expires_ms = info.lease_expires_ms;
  w.group = info.meta.group;
  w.parent = info.meta.parent;
  w.writer = info.meta.writer;
  w.meta = info.meta.meta;
  return w;
}

// NS_CREATE / NS_SET body: a JSON object with "name" and any of the config
// fields. Everything is checked before anything is applied, so that a bad
// NS_SET changes nothing.
struct NamespaceRequest {
  std::string name;
  nlohmann::json fields;
};

Result<NamespaceRequest> ParseNamespaceRequest(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Invalid("body is not a JSON object");
  NamespaceRequest req;
  for (const auto& [field, value] : j.items()) {
    if (field == "name") {
      if (!value.is_string()) return Status::Invalid("\"name\" must be a string");
      req.name = value.get<std::string>();
    } else if (field == "quota_bytes" || field == "default_ttl_ms" || field == "max_ttl_ms" ||
               field == "priority") {
      // is_number_unsigned: no negatives, no fractions.
      if (!value.is_number_unsigned()) {
        return Status::Invalid("\"" + field + "\" must be a non-negative integer");
      }
      if (field == "priority" && value.get<uint64_t>() >= engine::kPriorityLevels) {
        return Status::Invalid("\"priority\" must be 0.." +
                               std::to_string(engine::kPriorityLevels - 1));
      }
    } else {
      return Status::Invalid("unknown field \"" + field + "\"");
    }
  }
  if (!j.contains("name")) return Status::Invalid("missing \"name\"");
  req.fields = std::move(j);
  return req;
}

// Overrides the fields present in a parsed request.
void ApplyNamespaceFields(const nlohmann::json& j, engine::NamespaceConfig* c) {
  if (j.contains("quota_bytes")) c->quota_bytes = j["quota_bytes"].get<uint64_t>();
  if (j.contains("default_ttl_ms")) c->default_ttl_ms = j["default_ttl_ms"].get<uint64_t>();
  if (j.contains("max_ttl_ms")) c->max_ttl_ms = j["max_ttl_ms"].get<uint64_t>();
  if (j.contains("priority")) c->priority = static_cast<uint8_t>(j["priority"].get<uint64_t>());
}

nlohmann::json NamespaceJson(const engine::NamespaceInfo& ns) {
  return {
      {"id", ns.id},
      {"name", ns.name},
      {"quota_bytes", ns.config.quota_bytes},
      {"default_ttl_ms", ns.config.default_ttl_ms},
      {"max_ttl_ms", ns.config.max_ttl_ms},
      {"priority", ns.config.priority},
      {"objects", ns.objects},
      {"bytes", ns.bytes},
      {"evictions", ns.evictions},
  };
}

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
  awaitable<Status> Wait() {
    while (!done_) {
      timer_.expires_at(asio::steady_timer::time_point::max());
      asio::error_code ec;
      co_await timer_.async_wait(asio::redirect_error(use_awaitable, ec));
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
  Connection(tcp::socket socket, const ConnectionContext& ctx)
      : socket_(std::move(socket)), ctx_(ctx), watchdog_(socket_.get_executor()) {}
  // Also reached when the server stops with this connection's coroutine
  // suspended (its frame is destroyed, not resumed): leases must not outlive
  // the connection either way.
  ~Connection() { ReleaseLeases(); }

  void Start() {
    auto self = shared_from_this();
    ctx_.counters->connections++;
    ctx_.counters->connections_total++;
    asio::co_spawn(
        socket_.get_executor(), [self]() -> awaitable<void> { co_await self->Run(); },
        asio::detached);
    asio::co_spawn(
        socket_.get_executor(), [self]() -> awaitable<void> { co_await self->Watchdog(); },
        asio::detached);
  }

 private:
  awaitable<void> Run() {
    try {
      while (co_await ServeOne()) {
      }
    } catch (const std::exception& e) {
      spdlog::debug("connection closed: {}", e.what());
    }
    ReleaseLeases();
    Close();
    ctx_.counters->connections--;
  }

  void Close() {
    closed_ = true;
    asio::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    watchdog_.cancel();
  }

  // Closes connections that sit idle, or take too long to send a frame.
  awaitable<void> Watchdog() {
    uint64_t tick_ms = std::max<uint64_t>(
        10, std::min(ctx_.options->idle_timeout_ms, ctx_.options->frame_timeout_ms) / 4);
    while (!closed_) {
      watchdog_.expires_after(std::chrono::milliseconds(std::min<uint64_t>(tick_ms, 1000)));
      asio::error_code ec;
      co_await watchdog_.async_wait(asio::redirect_error(use_awaitable, ec));
      if (closed_) break;
      if (MonotonicMs() >= deadline_ms_) {
        spdlog::info("closing connection: {} timeout", in_frame_ ? "frame" : "idle");
        ctx_.counters->timeouts++;
        Close();
      }
    }
  }

  void SetDeadline(bool in_frame) {
    in_frame_ = in_frame;
    deadline_ms_ =
        MonotonicMs() + (in_frame ? ctx_.options->frame_timeout_ms : ctx_.options->idle_timeout_ms);
  }

  // Reads and answers one request; false when the connection must close.
  awaitable<bool> ServeOne() {
    SetDeadline(false);
    protocol::HeaderBytes raw;
    co_await asio::async_read(socket_, asio::buffer(raw), use_awaitable);
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
          co_await ReplyError(
              Status::Unsupported("unknown opcode " + std::to_string(d.raw_opcode)));
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
    }
    co_return false;
  }

  // ---- replies ----

  awaitable<void> Reply(StatusCode code, std::vector<asio::const_buffer> body_parts) {
    FrameHeader h;
    h.opcode = req_.opcode;
    h.request_id = req_.request_id;
    h.status = code;
    h.body_len = 0;
    for (const auto& b : body_parts) h.body_len += b.size();
    protocol::HeaderBytes head = protocol::EncodeHeader(h);
    body_parts.insert(body_parts.begin(), asio::buffer(head));
    co_await asio::async_write(socket_, body_parts, use_awaitable);
  }
  awaitable<void> ReplyOk(std::string_view body = {}) {
    // (A named vector: g++ 12 miscompiles braced lists in co_await arguments.)
    std::vector<asio::const_buffer> parts{asio::buffer(body.data(), body.size())};
    co_await Reply(StatusCode::kOk, std::move(parts));
  }
  // OK with the body, or the error.
  awaitable<void> ReplyStatus(const Status& st, std::string_view ok_body = {}) {
    if (st.ok())
      co_await ReplyOk(ok_body);
    else
      co_await ReplyError(st);
  }
  awaitable<void> ReplyError(const Status& st) {
    if (st.code() != StatusCode::kNotFound && st.code() != StatusCode::kExists) {
      ctx_.counters->protocol_errors++;
    }
    const std::string& m = st.message();
    std::vector<asio::const_buffer> parts{asio::buffer(m.data(), m.size())};
    co_await Reply(st.code(), std::move(parts));
  }

  // ---- reading ----

  awaitable<void> Drain(uint64_t bytes) {
    // Discarded bytes: one scratch buffer per worker thread is enough.
    thread_local std::array<char, kDrainChunkBytes> buf;
    while (bytes > 0) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(bytes, sizeof(buf)));
      co_await asio::async_read(socket_, asio::buffer(buf.data(), n), use_awaitable);
      bytes -= n;
    }
  }
  // Reads a whole small body (its length was checked against the limits).
  awaitable<std::string> ReadBody() {
    std::string body(req_.body_len, '\0');
    if (!body.empty()) co_await asio::async_read(socket_, asio::buffer(body), use_awaitable);
    co_return body;
  }
  // Reads a u16-length key from a streamed body; "remaining" counts down.
  awaitable<Result<std::string>> ReadKey(uint64_t* remaining) {
    if (*remaining < 2) co_return Status::Invalid("body too short for a key");
    uint16_t key_len = 0;
    co_await asio::async_read(socket_, asio::buffer(&key_len, 2), use_awaitable);
    *remaining -= 2;
    if (key_len == 0 || key_len > protocol::kMaxKeyBytes || key_len > *remaining) {
      co_return Status::Invalid("bad key length " + std::to_string(key_len));
    }
    std::string key(key_len, '\0');
    co_await asio::async_read(socket_, asio::buffer(key), use_awaitable);
    *remaining -= key_len;
    co_return key;
  }
  // Appends n more bytes of a streamed body to *buf; false (nothing read)
  // when fewer than n are left.
  awaitable<bool> ReadMore(std::string* buf, size_t n, uint64_t* remaining) {
    if (n > *remaining) co_return false;
    size_t old = buf->size();
    buf->resize(old + n);
    if (n > 0)
      co_await asio::async_read(socket_, asio::buffer(buf->data() + old, n), use_awaitable);
    *remaining -= n;
    co_return true;
  }
  // Reads a put-options block from a streamed body. The block's size is
  // known only field by field, so each length is checked against its limit
  // before the bytes it covers are read: never more than
  // kMaxPutOptionsBytes, and never into the value.
  awaitable<Result<protocol::PutOptionsBlock>> ReadPutOptions(uint64_t* remaining) {
    struct Field {
      const char* name;
      size_t max;
    };
    // u64 ttl_ms and u8 put_flags, then three u16-length strings.
    static constexpr Field kFields[] = {{"group", protocol::kMaxGroupBytes},
                                        {"parent", protocol::kMaxKeyBytes},
                                        {"meta", protocol::kMaxMetaBytes}};
    constexpr size_t kFixed = 8 + 1;
    std::string block;
    block.reserve(protocol::kMaxPutOptionsBytes);
    if (!co_await ReadMore(&block, kFixed + 2, remaining)) {
      co_return Status::Invalid("body too short for put options");
    }
    for (size_t i = 0; i < std::size(kFields); ++i) {
      uint16_t len = 0;
      std::memcpy(&len, block.data() + block.size() - 2, 2);
      if (len > kFields[i].max) {
        co_return Status::TooLarge(std::string(kFields[i].name) + " of " + std::to_string(len) +
                                   " bytes exceeds the limit of " + std::to_string(kFields[i].max));
      }
      // The field, then the next field's length (none after the last).
      size_t next = len + (i + 1 < std::size(kFields) ? 2 : 0);
      if (!co_await ReadMore(&block, next, remaining)) {
        co_return Status::Invalid("body too short for put options");
      }
    }
    size_t consumed = 0;
    co_return protocol::DecodePutOptions(block, &consumed);
  }
  // Receives a value of value_len bytes into the arena and commits it; the
  // bytes are drained when the engine refuses the put.
  awaitable<Status> ReceiveValue(const std::string& key, uint64_t value_len,
                                 const engine::WriteOptions& opts,
                                 std::vector<std::shared_ptr<DurableWaiter>>* waiters) {
    auto r = ctx_.engine->BeginPut(key, value_len, opts);
    if (!r.ok()) {
      co_await Drain(value_len);
      co_return r.status();
    }
    std::span<uint8_t> dst = r->buffer();
    if (!dst.empty())
      co_await asio::async_read(socket_, asio::buffer(dst.data(), dst.size()), use_awaitable);
    std::shared_ptr<DurableWaiter> waiter;
    if (opts.sync) waiter = std::make_shared<DurableWaiter>(socket_.get_executor());
    Status st = ctx_.engine->CommitPut(std::move(*r), waiter ? waiter->Callback() : nullptr);
    if (st.ok() && waiter) waiters->push_back(std::move(waiter));
    co_return st;
  }

  bool Ext() const { return (req_.flags & protocol::kFlagExt) != 0; }

  // Options every write of this request shares: flags, the connection's
  // namespace and its client as the writer.
  engine::WriteOptions WriteOpts() const {
    engine::WriteOptions o;
    o.sync = (req_.flags & protocol::kFlagSync) != 0;
    o.overwrite = (req_.flags & protocol::kFlagOverwrite) != 0;
    o.namespace_id = ns_id_;
    o.writer = writer_;
    return o;
  }
  static void ApplyPutOptions(const protocol::PutOptionsBlock& b, engine::WriteOptions* o) {
    o->ttl_ms = b.ttl_ms;
    o->group = b.group;
    o->parent = b.parent;
    o->meta = b.meta;
  }

  // ---- leases ----

  // Leases taken by this connection's MATCH_PREFIX, with the monotonic time
  // by which each has ended anyway. They count against
  // max_leases_per_connection and are released when the connection ends.
  bool HasLeaseSlot() {
    if (leases_.size() < ctx_.limits.max_leases_per_connection) return true;
    // Leases the client let run out still occupy slots until pruned. The
    // engine is told too, in case its clock runs behind ours.
    uint64_t now = MonotonicMs();
    for (auto it = leases_.begin(); it != leases_.end();) {
      if (it->second > now) {
        ++it;
        continue;
      }
      (void)ctx_.engine->ReleaseLease(it->first);
      it = leases_.erase(it);
    }
    return leases_.size() < ctx_.limits.max_leases_per_connection;
  }
  void ReleaseLeases() {
    // Results ignored: a lease that already ended answers NOT_FOUND.
    for (const auto& [id, deadline] : leases_) (void)ctx_.engine->ReleaseLease(id);
    leases_.clear();
  }

  // ---- ops ----

  awaitable<bool> HandleHello() {
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
    std::string_view ns_name = hello->namespace_name;
    if (ns_name.empty()) ns_name = engine::kDefaultNamespaceName;
    auto ns = ctx_.engine->ResolveNamespace(ns_name);
    if (!ns.ok()) {
      // The connection stays as it was (before HELLO: unusable until one works).
      Status st = ns.status();
      if (st.code() == StatusCode::kNotFound) {
        st = Status::NotFound("namespace '" + std::string(ns_name) + "' does not exist");
      }
      co_await ReplyError(st);
      co_return true;
    }
    hello_done_ = true;
    ns_id_ = *ns;
    client_name_ = hello->client_name;
    // Provenance is a bounded field in the engine; a long client name is
    // cut rather than failing every write of the connection.
    writer_ = client_name_.substr(0, engine::kMaxWriterBytes);
    protocol::HelloReply reply;
    reply.max_value_bytes = ctx_.limits.max_value_bytes;
    reply.max_batch_keys = ctx_.limits.max_batch_keys;
    reply.max_batch_bytes = ctx_.limits.max_batch_bytes;
    reply.server_version = kServerVersion;
    co_await ReplyOk(protocol::EncodeHelloReply(reply));
    co_return true;
  }

  awaitable<bool> HandlePut() {
    uint64_t remaining = req_.body_len;
    auto key = co_await ReadKey(&remaining);
    if (!key.ok()) {
      co_await Drain(remaining);
      co_await ReplyError(key.status());
      co_return true;
    }
    engine::WriteOptions opts = WriteOpts();
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

  awaitable<bool> HandleGet() {
    std::string body = co_await ReadBody();
    auto key = protocol::DecodeKey(body);
    if (!key.ok()) {
      co_await ReplyError(key.status());
      co_return true;
    }
    auto value = ctx_.engine->Get(ns_id_, *key);
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

  awaitable<bool> HandleExists() {
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

  awaitable<bool> HandleDelete() {
    std::string body = co_await ReadBody();
    auto key = protocol::DecodeKey(body);
    if (!key.ok()) {
      co_await ReplyError(key.status());
      co_return true;
    }
    bool sync = (req_.flags & protocol::kFlagSync) != 0;
    std::shared_ptr<DurableWaiter> waiter;
    if (sync) waiter = std::make_shared<DurableWaiter>(socket_.get_executor());
    Status st = ctx_.engine->Delete(ns_id_, *key, sync, waiter ? waiter->Callback() : nullptr);
    if (st.ok() && waiter) st = co_await waiter->Wait();
    if (st.ok())
      co_await ReplyOk();
    else
      co_await ReplyError(st);
    co_return true;
  }

  awaitable<bool> HandleBatchPut() {
    uint64_t remaining = req_.body_len;
    if (remaining < protocol::kBatchPutCountSize) {
      co_await Drain(remaining);
      co_await ReplyError(Status::Invalid("BATCH_PUT body too short"));
      co_return true;
    }
    uint32_t count = 0;
    co_await asio::async_read(socket_, asio::buffer(&count, 4), use_awaitable);
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
      bool framed = key.ok() && remaining >= 8;
      if (framed) {
        co_await asio::async_read(socket_, asio::buffer(&value_len, 8), use_awaitable);
        remaining -= 8;
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

  awaitable<bool> HandleBatchGet() {
    std::string body = co_await ReadBody();
    auto keys = protocol::DecodeKeyList(body, ctx_.limits.max_batch_keys);
    if (!keys.ok()) {
      co_await ReplyError(keys.status());
      co_return true;
    }
    std::vector<engine::ValueRef> values(keys->size());
    std::string item_heads;
    item_heads.reserve(4 + keys->size() * protocol::kBatchGetItemHeaderSize);
    protocol::ByteWriter(&item_heads).Put(static_cast<uint32_t>(keys->size()));
    uint64_t total = 0;
    for (size_t i = 0; i < keys->size(); ++i) {
      // Sizes first: a value past the reply budget is never read from flash.
      auto len = ctx_.engine->Exists(ns_id_, (*keys)[i]);
      StatusCode code = len.status().code();
      if (len.ok() && total + *len > ctx_.limits.max_batch_bytes) code = StatusCode::kTooLarge;
      if (code == StatusCode::kOk) {
        auto v = ctx_.engine->Get(ns_id_, (*keys)[i]);
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

  awaitable<bool> HandleBatchExists() {
    std::string body = co_await ReadBody();
    auto keys = protocol::DecodeKeyList(body, ctx_.limits.max_batch_keys);
    if (!keys.ok()) {
      co_await ReplyError(keys.status());
      co_return true;
    }
    std::string reply;
    protocol::ByteWriter w(&reply);
    w.Put(static_cast<uint32_t>(keys->size()));
    for (std::string_view k : *keys)
      w.Put(static_cast<uint8_t>(ctx_.engine->Exists(ns_id_, k).ok() ? 1 : 0));
    co_await ReplyOk(reply);
    co_return true;
  }

  awaitable<bool> HandleMatchPrefix() {
    std::string body = co_await ReadBody();
    std::string_view list = body;
    uint64_t lease_ms = 0;
    if (Ext()) {
      protocol::ByteReader r(list);
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
    protocol::ByteWriter w(&reply);
    w.Put(m->matched);
    if (Ext()) w.Put(m->lease_id);
    co_await ReplyOk(reply);
    co_return true;
  }

  awaitable<bool> HandleRelease() {
    std::string body = co_await ReadBody();
    auto id = protocol::DecodeU64(body);
    if (!id.ok()) {
      co_await ReplyError(id.status());
      co_return true;
    }
    // Forgotten here whatever the engine says: NOT_FOUND means it ended.
    leases_.erase(*id);
    co_await ReplyStatus(ctx_.engine->ReleaseLease(*id));
    co_return true;
  }

  awaitable<bool> HandleStat() {
    std::string body = co_await ReadBody();
    auto key = protocol::DecodeKey(body);
    if (!key.ok()) {
      co_await ReplyError(key.status());
      co_return true;
    }
    auto info = ctx_.engine->Stat(ns_id_, *key);
    if (!info.ok()) {
      co_await ReplyError(info.status());
      co_return true;
    }
    std::string reply;
    protocol::EncodeObjectInfo(ToWire(*info), &reply);
    co_await ReplyOk(reply);
    co_return true;
  }

  awaitable<bool> HandleList() {
    std::string body = co_await ReadBody();
    auto req = protocol::DecodeListRequest(body);
    if (!req.ok()) {
      co_await ReplyError(req.status());
      co_return true;
    }
    if (req->limit == 0 || req->limit > engine::kMaxListLimit) {
      co_await ReplyError(
          Status::Invalid("LIST limit must be 1.." + std::to_string(engine::kMaxListLimit)));
      co_return true;
    }
    engine::ListOptions opts;
    opts.prefix = std::move(req->prefix);
    opts.group = std::move(req->group);
    opts.cursor = std::move(req->cursor);
    opts.limit = req->limit;
    auto page = ctx_.engine->List(ns_id_, opts);
    if (!page.ok()) {
      co_await ReplyError(page.status());
      co_return true;
    }
    protocol::ListReply reply;
    reply.items.reserve(page->items.size());
    for (const engine::ObjectInfo& info : page->items) reply.items.push_back(ToWire(info));
    reply.next_cursor = std::move(page->next_cursor);
    co_await ReplyOk(protocol::EncodeListReply(reply));
    co_return true;
  }

  awaitable<bool> HandlePin() {
    std::string body = co_await ReadBody();
    auto req = protocol::DecodePinRequest(body);
    if (!req.ok()) {
      co_await ReplyError(req.status());
      co_return true;
    }
    engine::PinOptions opts;
    opts.group = req->by_group;
    opts.ttl_ms = req->ttl_ms;
    opts.dram = req->dram;
    auto pinned = ctx_.engine->Pin(ns_id_, req->name, opts);
    if (!pinned.ok()) {
      co_await ReplyError(pinned.status());
      co_return true;
    }
    co_await ReplyOk(protocol::EncodeU64(*pinned));
    co_return true;
  }

  awaitable<bool> HandleUnpin() {
    std::string body = co_await ReadBody();
    auto req = protocol::DecodeUnpinRequest(body);
    if (!req.ok()) {
      co_await ReplyError(req.status());
      co_return true;
    }
    co_await ReplyStatus(ctx_.engine->Unpin(ns_id_, req->name, req->by_group));
    co_return true;
  }

  awaitable<bool> HandleDeleteGroup() {
    std::string body = co_await ReadBody();
    auto group = protocol::DecodeString(body);
    if (!group.ok()) {
      co_await ReplyError(group.status());
      co_return true;
    }
    if (group->empty() || group->size() > protocol::kMaxGroupBytes) {
      co_await ReplyError(Status::Invalid("group must be 1.." +
                                          std::to_string(protocol::kMaxGroupBytes) + " bytes"));
      co_return true;
    }
    auto deleted = ctx_.engine->DeleteGroup(ns_id_, *group);
    if (!deleted.ok()) {
      co_await ReplyError(deleted.status());
      co_return true;
    }
    co_await ReplyOk(protocol::EncodeU64(*deleted));
    co_return true;
  }

  // Namespace administration is not bound to the connection's namespace.

  awaitable<bool> HandleNsCreate() {
    std::string body = co_await ReadBody();
    auto req = ParseNamespaceRequest(body);
    if (!req.ok()) {
      co_await ReplyError(req.status());
      co_return true;
    }
    engine::NamespaceConfig config;
    ApplyNamespaceFields(req->fields, &config);
    co_await ReplyStatus(ctx_.engine->CreateNamespace(req->name, config).status());
    co_return true;
  }

  awaitable<bool> HandleNsSet() {
    std::string body = co_await ReadBody();
    auto req = ParseNamespaceRequest(body);
    if (!req.ok()) {
      co_await ReplyError(req.status());
      co_return true;
    }
    // Fields left out of the request keep their current values.
    auto current = ctx_.engine->GetNamespace(req->name);
    if (!current.ok()) {
      co_await ReplyError(current.status());
      co_return true;
    }
    engine::NamespaceConfig config = current->config;
    ApplyNamespaceFields(req->fields, &config);
    co_await ReplyStatus(ctx_.engine->SetNamespace(req->name, config));
    co_return true;
  }

  awaitable<bool> HandleNsList() {
    co_await Drain(req_.body_len);
    nlohmann::json list = nlohmann::json::array();
    for (const engine::NamespaceInfo& ns : ctx_.engine->ListNamespaces()) {
      list.push_back(NamespaceJson(ns));
    }
    co_await ReplyOk(list.dump());
    co_return true;
  }

  awaitable<bool> HandleNsDelete() {
    std::string body = co_await ReadBody();
    auto name = protocol::DecodeString(body);
    if (!name.ok()) {
      co_await ReplyError(name.status());
      co_return true;
    }
    co_await ReplyStatus(ctx_.engine->DeleteNamespace(*name));
    co_return true;
  }

  awaitable<bool> HandleFlush() {
    co_await Drain(req_.body_len);
    auto waiter = std::make_shared<DurableWaiter>(socket_.get_executor());
    ctx_.engine->Flush(waiter->Callback());
    Status st = co_await waiter->Wait();
    if (st.ok())
      co_await ReplyOk();
    else
      co_await ReplyError(st);
    co_return true;
  }

  awaitable<bool> HandleStats() {
    co_await Drain(req_.body_len);
    engine::EngineStats s = ctx_.engine->Stats();
    nlohmann::json j = {
        {"objects", s.objects},
        {"dram_objects", s.dram_objects},
        {"dram_bytes", s.dram_bytes},
        {"dram_capacity_bytes", s.dram_capacity_bytes},
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
        {"write_retries", s.write_retries},
        {"recovered_objects", s.recovered_objects},
        {"recovery_ms", s.recovery_ms},
        {"recovered_from_checkpoint", s.recovered_from_checkpoint},
        {"expired_objects", s.expired_objects},
        {"evictions_quota", s.evictions_quota},
        {"pinned_lost", s.pinned_lost},
        {"leases", s.leases},
        {"pin_rules", s.pin_rules},
        {"namespaces", s.namespaces},
        {"connections", ctx_.counters->connections.load()},
        {"connections_total", ctx_.counters->connections_total.load()},
        {"requests", ctx_.counters->requests.load()},
        {"protocol_errors", ctx_.counters->protocol_errors.load()},
        {"timeouts", ctx_.counters->timeouts.load()},
    };
    co_await ReplyOk(j.dump());
    co_return true;
  }

  tcp::socket socket_;
  ConnectionContext ctx_;
  asio::steady_timer watchdog_;
  FrameHeader req_;
  bool hello_done_ = false;
  bool closed_ = false;
  bool in_frame_ = false;
  uint64_t deadline_ms_ = 0;
  // Set by HELLO.
  uint32_t ns_id_ = engine::kDefaultNamespaceId;
  std::string client_name_;
  std::string writer_;
  std::unordered_map<uint64_t, uint64_t> leases_;  // lease id -> monotonic end
};

}  // namespace

void StartConnection(asio::ip::tcp::socket socket, const ConnectionContext& ctx) {
  std::make_shared<Connection>(std::move(socket), ctx)->Start();
}

}  // namespace ctxstore::server
