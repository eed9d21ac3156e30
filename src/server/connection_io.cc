// Connection: reading request bodies (whole, or streamed key by key and
// value by value into the arena) and writing replies with gather writes.
#include "server/connection_impl.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "common/hash.h"
#include "protocol/messages.h"

namespace ctxstore::server {
namespace {

using asio::awaitable;
using asio::use_awaitable;
using protocol::FrameHeader;

constexpr size_t kDrainChunkBytes = 64 * 1024;

}  // namespace

// ---- replies ----

awaitable<void> Connection::Reply(StatusCode code, std::vector<asio::const_buffer> body_parts) {
  FrameHeader h;
  h.opcode = req_.opcode;
  h.request_id = req_.request_id;
  h.status = code;
  h.body_len = 0;
  for (const auto& b : body_parts) h.body_len += b.size();
  protocol::HeaderBytes head = protocol::EncodeHeader(h);
  body_parts.insert(body_parts.begin(), asio::buffer(head));
  co_await asio::async_write(stream_, body_parts, TransferAll(), use_awaitable);
}

awaitable<void> Connection::ReplyOk(std::string_view body) {
  // (A named vector: g++ 12 miscompiles braced lists in co_await arguments.)
  std::vector<asio::const_buffer> parts{asio::buffer(body.data(), body.size())};
  co_await Reply(StatusCode::kOk, std::move(parts));
}

awaitable<void> Connection::ReplyStatus(const Status& st, std::string_view ok_body) {
  if (st.ok())
    co_await ReplyOk(ok_body);
  else
    co_await ReplyError(st);
}

awaitable<void> Connection::ReplyError(const Status& st) {
  if (st.code() != StatusCode::kNotFound && st.code() != StatusCode::kExists) {
    ctx_.counters->protocol_errors++;
  }
  const std::string& m = st.message();
  std::vector<asio::const_buffer> parts{asio::buffer(m.data(), m.size())};
  co_await Reply(st.code(), std::move(parts));
}

// ---- reading ----

awaitable<void> Connection::Drain(uint64_t bytes) {
  // Discarded bytes: one scratch buffer per worker thread is enough.
  thread_local std::array<char, kDrainChunkBytes> buf;
  while (bytes > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(bytes, sizeof(buf)));
    co_await asio::async_read(stream_, asio::buffer(buf.data(), n), TransferAll(), use_awaitable);
    bytes -= n;
  }
}

awaitable<std::string> Connection::ReadBody() {
  std::string body(req_.body_len, '\0');
  if (!body.empty())
    co_await asio::async_read(stream_, asio::buffer(body), TransferAll(), use_awaitable);
  co_return body;
}

awaitable<Result<std::string>> Connection::ReadKey(uint64_t* remaining) {
  if (*remaining < 2) co_return Status::Invalid("body too short for a key");
  uint16_t key_len = 0;
  co_await asio::async_read(stream_, asio::buffer(&key_len, 2), TransferAll(), use_awaitable);
  *remaining -= 2;
  if (key_len == 0 || key_len > kMaxKeyBytes || key_len > *remaining) {
    co_return Status::Invalid("bad key length " + std::to_string(key_len));
  }
  std::string key(key_len, '\0');
  co_await asio::async_read(stream_, asio::buffer(key), TransferAll(), use_awaitable);
  *remaining -= key_len;
  co_return key;
}

awaitable<Result<uint64_t>> Connection::ReadU64(uint64_t* remaining) {
  if (*remaining < 8) co_return Status::Invalid("body too short");
  uint64_t v = 0;
  co_await asio::async_read(stream_, asio::buffer(&v, 8), TransferAll(), use_awaitable);
  *remaining -= 8;
  co_return v;
}

awaitable<bool> Connection::ReadMore(std::string* buf, size_t n, uint64_t* remaining) {
  if (n > *remaining) co_return false;
  size_t old = buf->size();
  buf->resize(old + n);
  if (n > 0)
    co_await asio::async_read(stream_, asio::buffer(buf->data() + old, n), TransferAll(),
                              use_awaitable);
  *remaining -= n;
  co_return true;
}

awaitable<Result<protocol::PutOptionsBlock>> Connection::ReadPutOptions(uint64_t* remaining) {
  struct Field {
    const char* name;
    size_t max;
  };
  // u64 ttl_ms and u8 put_flags, then three u16-length strings.
  static constexpr Field kFields[] = {
      {"group", kMaxGroupBytes}, {"parent", kMaxKeyBytes}, {"meta", kMaxMetaBytes}};
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

awaitable<Status> Connection::ReceiveValue(const std::string& key, uint64_t value_len,
                                           const engine::WriteOptions& opts,
                                           std::vector<std::shared_ptr<DurableWaiter>>* waiters) {
  // Reserve the value's bytes against the server's in-flight budget
  // before its DRAM block: the budget is what a slow sender can hold.
  // A value larger than the whole budget still goes through when nothing
  // else is in flight.
  std::atomic<uint64_t>& inflight = ctx_.counters->inflight_bytes;
  uint64_t before = inflight.load();
  bool refused = false;
  do {
    refused = before > 0 && before + value_len > ctx_.options->max_inflight_bytes;
  } while (!refused && !inflight.compare_exchange_weak(before, before + value_len));
  if (refused) {
    ctx_.counters->inflight_refused++;
    co_await Drain(value_len);
    co_return Status::Busy("too many value bytes in flight on the server (" +
                           std::to_string(ctx_.options->max_inflight_bytes) +
                           "-byte budget); retry");
  }
  struct InflightRelease {
    std::atomic<uint64_t>* counter;
    uint64_t bytes;
    ~InflightRelease() { counter->fetch_sub(bytes); }
  } release{&inflight, value_len};
  auto r = ctx_.engine->BeginPut(key, value_len, opts);
  if (!r.ok()) {
    co_await Drain(value_len);
    co_return r.status();
  }
  // Large values are received and hashed a piece at a time, each piece while
  // it is still in the core's cache: hashing 4 MiB after the fact reads it
  // back from L3 or DRAM at about half the speed.
  constexpr uint64_t kHashPieceBytes = 256 << 10;
  std::span<uint8_t> dst = r->buffer();
  if (dst.size() > kHashPieceBytes) {
    Xxh3Stream hash;
    for (uint64_t done = 0; done < dst.size();) {
      const uint64_t n = std::min<uint64_t>(kHashPieceBytes, dst.size() - done);
      co_await asio::async_read(stream_, asio::buffer(dst.data() + done, n), TransferAll(),
                                use_awaitable);
      hash.Update(dst.data() + done, n);
      done += n;
    }
    r->set_value_xxh3(hash.Digest());
  } else if (!dst.empty()) {
    co_await asio::async_read(stream_, asio::buffer(dst.data(), dst.size()), TransferAll(),
                              use_awaitable);
  }
  std::shared_ptr<DurableWaiter> waiter;
  if (opts.sync) waiter = std::make_shared<DurableWaiter>(stream_.get_executor());
  Status st = ctx_.engine->CommitPut(std::move(*r), waiter ? waiter->Callback() : nullptr);
  if (st.ok() && waiter) waiters->push_back(std::move(waiter));
  co_return st;
}

engine::WriteOptions Connection::WriteOpts() const {
  engine::WriteOptions o;
  o.sync = (req_.flags & protocol::kFlagSync) != 0;
  o.overwrite = (req_.flags & protocol::kFlagOverwrite) != 0;
  o.namespace_id = ns_id_;
  o.writer = writer_;
  return o;
}

void Connection::ApplyPutOptions(const protocol::PutOptionsBlock& b, engine::WriteOptions* o) {
  o->ttl_ms = b.ttl_ms;
  o->group = b.group;
  o->parent = b.parent;
  o->meta = b.meta;
}

}  // namespace ctxstore::server
