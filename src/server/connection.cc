#include "server/connection.h"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstring>
#include <string>
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

  engine::WriteOptions WriteOpts() const {
    return {(req_.flags & protocol::kFlagSync) != 0, (req_.flags & protocol::kFlagOverwrite) != 0};
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
    hello_done_ = true;
    client_name_ = hello->client_name;
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
    std::vector<std::shared_ptr<DurableWaiter>> waiters;
    Status st = co_await ReceiveValue(*key, remaining, WriteOpts(), &waiters);
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
    auto value = ctx_.engine->Get(*key);
    if (!value.ok()) {
      co_await ReplyError(value.status());
      co_return true;
    }
    uint64_t xxh3 = value->xxh3;
    // Header, checksum and value in one gather write, straight from the arena.
    std::vector<asio::const_buffer> parts{asio::buffer(&xxh3, sizeof(xxh3)),
                                          asio::buffer(value->data, value->size)};
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
    auto len = ctx_.engine->Exists(*key);
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
    Status st = ctx_.engine->Delete(*key, sync, waiter ? waiter->Callback() : nullptr);
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
    std::vector<StatusCode> codes;
    codes.reserve(count);
    std::vector<std::shared_ptr<DurableWaiter>> waiters;
    engine::WriteOptions opts = WriteOpts();
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
      auto len = ctx_.engine->Exists((*keys)[i]);
      StatusCode code = len.status().code();
      if (len.ok() && total + *len > ctx_.limits.max_batch_bytes) code = StatusCode::kTooLarge;
      if (code == StatusCode::kOk) {
        auto v = ctx_.engine->Get((*keys)[i]);
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
      w.Put(static_cast<uint8_t>(ctx_.engine->Exists(k).ok() ? 1 : 0));
    co_await ReplyOk(reply);
    co_return true;
  }

  awaitable<bool> HandleMatchPrefix() {
    std::string body = co_await ReadBody();
    auto keys = protocol::DecodeKeyList(body, ctx_.limits.max_batch_keys);
    if (!keys.ok()) {
      co_await ReplyError(keys.status());
      co_return true;
    }
    uint32_t matched = ctx_.engine->MatchPrefix(*keys);
    co_await ReplyOk(std::string_view(reinterpret_cast<const char*>(&matched), sizeof(matched)));
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
  std::string client_name_;
};

}  // namespace

void StartConnection(asio::ip::tcp::socket socket, const ConnectionContext& ctx) {
  std::make_shared<Connection>(std::move(socket), ctx)->Start();
}

}  // namespace ctxstore::server
