// Connection: the ops that carry values. PUT and BATCH_PUT values go from
// the socket straight into the arena block the service reserved for them;
// GET and BATCH_GET replies are one gather write from the arena. The
// service decides everything else (put_ops.h, key_ops.h).
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/hash.h"
#include "protocol/messages.h"
#include "protocol/read_ops.h"
#include "server/connection_impl.h"
#include "server/flash_get.h"
#include "service/key_ops.h"
#include "service/put_ops.h"

namespace ctxstore::server {
namespace {

using asio::awaitable;
using asio::use_awaitable;
using protocol::ParseStep;

// Large values are received and hashed a piece at a time, each piece while
// it is still in the core's cache: hashing 4 MiB after the fact reads it
// back from L3 or DRAM at about half the speed.
constexpr uint64_t kHashPieceBytes = 256 << 10;

}  // namespace

awaitable<bool> Connection::HandlePut() {
  protocol::PutPrefixParser parser(req_.flags, req_.body_len);
  auto step = co_await ReadPrefix(parser);
  if (!step.ok()) {
    co_await Drain(parser.remaining());
    co_await ReplyError(step.status());
    co_return true;
  }
  engine::WriteOptions opts = service::WriteOptionsFor(session_, req_.flags, parser.options());
  opts.expected_xxh3 = parser.xxh3();
  // The value is the rest of the body.
  Waiters waiters;
  Status st = co_await ReceiveValue(parser.key(), parser.remaining(), opts, &waiters);
  for (auto& w : waiters) st = co_await w->Wait();
  co_await ReplyStatus(st);
  co_return true;
}

awaitable<bool> Connection::HandleBatchPut() {
  protocol::BatchPutParser parser(req_.flags, req_.body_len, limits().max_batch_keys);
  std::vector<StatusCode> codes;
  Waiters waiters;
  engine::WriteOptions opts;
  for (;;) {
    auto step = co_await ReadPrefix(parser);
    if (!step.ok()) {
      // Items before the bad one have been applied.
      if (!parser.fatal()) co_await Drain(parser.remaining());
      co_await ReplyError(step.status());
      co_return !parser.fatal();  // fatal: the rest of the body is not read
    }
    if (*step == ParseStep::kDone) break;
    const protocol::BatchPutItem& item = parser.item();
    if (parser.index() == 0) {
      opts = service::WriteOptionsFor(session_, req_.flags, parser.options());
      codes.reserve(parser.count());
    }
    opts.expected_xxh3 = item.xxh3;
    Status st = co_await ReceiveValue(item.key, item.value_len, opts, &waiters);
    codes.push_back(st.code());
    service::LinkNextItem(parser.options(), item.key, &opts);
  }
  // Sync waiters complete in commit order; map failures back onto items.
  if ((req_.flags & protocol::kFlagSync) != 0) {
    size_t w = 0;
    for (StatusCode& code : codes) {
      if (code != StatusCode::kOk) continue;
      Status st = co_await waiters[w++]->Wait();
      code = st.code();
    }
  }
  std::string reply = protocol::EncodeStatusList(codes);
  co_await ReplyOk(reply);
  co_return true;
}

awaitable<Status> Connection::ReceiveValue(std::string_view key, uint64_t value_len,
                                           const engine::WriteOptions& opts, Waiters* waiters) {
  // The value's bytes count against the server's in-flight budget before
  // its DRAM block is reserved, until it is committed or skipped.
  auto hold = ctx_.service->inflight().Reserve(value_len);
  if (!hold.ok()) {
    co_await Drain(value_len);
    co_return hold.status();
  }
  auto r = service::BeginPut(*ctx_.service, key, value_len, opts);
  if (!r.ok()) {
    co_await Drain(value_len);
    co_return r.status();
  }
  std::span<uint8_t> dst = r->buffer();
  if (dst.size() > kHashPieceBytes) {
    Xxh3Stream hash;
    for (uint64_t done = 0; done < dst.size();) {
      const uint64_t n = std::min<uint64_t>(kHashPieceBytes, dst.size() - done);
      co_await ReadExact(dst.subspan(done, n));
      hash.Update(dst.data() + done, n);
      done += n;
    }
    r->set_value_xxh3(hash.Digest());
  } else if (!dst.empty()) {
    co_await ReadExact(dst);
  }
  std::shared_ptr<DurableWaiter> waiter;
  if (opts.sync) waiter = std::make_shared<DurableWaiter>(stream_.get_executor());
  Status st =
      service::CommitPut(*ctx_.service, std::move(*r), waiter ? waiter->Callback() : nullptr);
  if (st.ok() && waiter) waiters->push_back(std::move(waiter));
  co_return st;
}

awaitable<Result<engine::ValueRef>> Connection::GetValue(std::string_view key) {
  return GetValueOffLoop(ctx_, session_, key);
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
  // Header, head (checksum, metadata length), metadata and value in one
  // gather write, straight from the arena; value keeps the metadata alive.
  const bool ext = Ext();
  std::string_view meta;
  if (ext && value->meta) meta = value->meta->meta;
  protocol::GetReplyHead head;
  head.xxh3 = value->xxh3;
  head.meta_len = static_cast<uint16_t>(meta.size());  // <= kMaxMetaBytes
  const protocol::GetReplyHeadBytes head_bytes = protocol::EncodeGetReplyHead(head, ext);
  std::array<asio::const_buffer, 4> parts;
  parts[1] = asio::buffer(head_bytes.data(), protocol::GetReplyHeadSize(ext));
  parts[2] = asio::buffer(meta.data(), meta.size());
  parts[3] = asio::buffer(value->data, value->size);
  co_await SendReply(StatusCode::kOk, parts);
  co_return true;
}

awaitable<bool> Connection::HandleBatchGet() {
  std::string body = co_await ReadBody();
  auto keys = protocol::DecodeKeyList(body, limits().max_batch_keys);
  if (!keys.ok()) {
    co_await ReplyError(keys.status());
    co_return true;
  }
  const size_t n = keys->size();
  std::vector<engine::ValueRef> values(n);
  std::string heads;
  heads.reserve(protocol::kCountSize + n * protocol::kBatchGetItemHeaderSize);
  protocol::AppendCount(&heads, static_cast<uint32_t>(n));
  service::BatchGetBudget budget(limits().max_batch_bytes);
  for (size_t i = 0; i < n; ++i) {
    // Sizes first: a value past the reply budget is never read from flash.
    StatusCode code = budget.Before(service::Exists(*ctx_.service, session_, (*keys)[i]));
    if (code == StatusCode::kOk) {
      auto v = co_await GetValue((*keys)[i]);
      code = budget.Take(v);
      if (code == StatusCode::kOk) values[i] = std::move(*v);
    }
    protocol::AppendBatchGetItemHeader(&heads, code, values[i].size, values[i].xxh3);
  }
  std::vector<asio::const_buffer> parts;
  parts.reserve(2 + 2 * n);
  parts.emplace_back();  // the frame header
  parts.push_back(asio::buffer(heads.data(), protocol::kCountSize));
  for (size_t i = 0; i < n; ++i) {
    parts.push_back(
        asio::buffer(heads.data() + protocol::kCountSize + i * protocol::kBatchGetItemHeaderSize,
                     protocol::kBatchGetItemHeaderSize));
    if (values[i].size > 0) parts.push_back(asio::buffer(values[i].data, values[i].size));
  }
  co_await SendReply(StatusCode::kOk, parts);
  co_return true;
}

}  // namespace ctxstore::server
