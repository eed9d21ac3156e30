// Connection: writing replies with gather writes, and reading request
// bodies (whole, skipped, or a PUT prefix piece by piece as its parser asks).
#include <algorithm>
#include <array>
#include <string>

#include "server/connection_impl.h"

namespace ctxstore::server {
namespace {

using asio::awaitable;
using asio::use_awaitable;

constexpr size_t kDrainChunkBytes = 64 * 1024;

}  // namespace

// ---- replies ----

awaitable<void> Connection::SendReply(StatusCode code, std::span<asio::const_buffer> parts) {
  protocol::FrameHeader h;
  h.opcode = req_.opcode;
  h.request_id = req_.request_id;
  h.status = code;
  h.body_len = 0;
  for (const auto& b : parts.subspan(1)) h.body_len += b.size();
  protocol::HeaderBytes head = protocol::EncodeHeader(h);
  parts[0] = asio::buffer(head);
  co_await asio::async_write(stream_, parts, TransferAll(), use_awaitable);
}

awaitable<void> Connection::ReplyOk(std::string_view body) {
  std::array<asio::const_buffer, 2> parts;
  parts[1] = asio::buffer(body.data(), body.size());
  co_await SendReply(StatusCode::kOk, parts);
}

awaitable<void> Connection::ReplyStatus(const Status& st, std::string_view ok_body) {
  if (st.ok())
    co_await ReplyOk(ok_body);
  else
    co_await ReplyError(st);
}

awaitable<void> Connection::ReplyError(const Status& st) {
  if (st.code() != StatusCode::kNotFound && st.code() != StatusCode::kExists) {
    ctx_.service->counters().protocol_errors++;
  }
  const std::string& m = st.message();
  std::array<asio::const_buffer, 2> parts;
  parts[1] = asio::buffer(m.data(), m.size());
  co_await SendReply(st.code(), parts);
}

// ---- reading ----

awaitable<void> Connection::ReadExact(std::span<uint8_t> dst) {
  dst = dst.subspan(read_ahead_.Take(dst));
  if (dst.empty()) co_return;
  if (dst.size() >= ReadAhead::kCapacityBytes) {
    co_await asio::async_read(stream_, asio::buffer(dst.data(), dst.size()), TransferAll(),
                              use_awaitable);
    co_return;
  }
  // A small read: whatever has arrived, up to the buffer's size.
  std::span<uint8_t> space = read_ahead_.Space();
  const size_t got = co_await asio::async_read(stream_, asio::buffer(space.data(), space.size()),
                                               asio::transfer_at_least(dst.size()), use_awaitable);
  read_ahead_.Filled(got);
  CTX_CHECK(read_ahead_.Take(dst) == dst.size());
}

awaitable<void> Connection::Drain(uint64_t bytes) {
  bytes -= read_ahead_.Skip(bytes);
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
  co_await ReadExact(std::span(reinterpret_cast<uint8_t*>(body.data()), body.size()));
  co_return body;
}

template <typename Parser>
awaitable<Result<protocol::ParseStep>> Connection::ReadPrefix(Parser& parser) {
  for (;;) {
    auto step = parser.Next();
    if (!step.ok() || *step != protocol::ParseStep::kRead) co_return step;
    co_await ReadExact(parser.Space());
  }
}

template awaitable<Result<protocol::ParseStep>> Connection::ReadPrefix(
    protocol::PutPrefixParser& parser);
template awaitable<Result<protocol::ParseStep>> Connection::ReadPrefix(
    protocol::BatchPutParser& parser);

}  // namespace ctxstore::server
