// Connection: the shared-memory ops, on Unix-socket connections only
// (docs/protocol.md, "Shared memory"). SHM_GET finds the value exactly as
// GET does (the flash reader pool included) and copies it into the
// client's registered memory; SHM_PUT takes PUT's steps (in-flight budget,
// reservation, commit, durable wait) with a copy from that memory in place
// of the socket read. No value byte crosses the socket; the arena is never
// mapped into a client, so a client reads exactly what GET would send it.
#include <algorithm>
#include <cstring>
#include <string>

#include "protocol/shm_bodies.h"
#include "server/connection_impl.h"
#include "service/put_ops.h"

namespace ctxstore::server {
namespace {

using asio::awaitable;

}  // namespace

awaitable<bool> Connection::HandleShm() {
  std::string body = co_await ReadBody();
  if (!stream_.is_unix()) {
    co_await ReplyError(
        Status::Invalid("shared memory needs a Unix-socket connection (serve --unix PATH)"));
    co_return true;
  }
  switch (req_.opcode) {
    case protocol::Opcode::kShmRegister: {
      // No ?: with temporaries in a co_await's arguments: g++ 12 evaluates
      // the arm not taken too, and destroys temporaries it never built
      // (a bad variant access, then a heap corruption, in testing).
      Result<std::string> reply = ShmRegister(body);
      if (reply.ok()) {
        co_await ReplyOk(*reply);
      } else {
        co_await ReplyError(reply.status());
      }
      co_return true;
    }
    case protocol::Opcode::kShmUnregister: {
      auto id = protocol::DecodeRegionId(body);
      Status st = id.status();
      if (st.ok()) st = regions_.Unregister(*id);
      co_await ReplyStatus(st);
      co_return true;
    }
    case protocol::Opcode::kShmGet:
      co_await ShmGet(body);
      co_return true;
    default:
      co_await ShmPut(body);
      co_return true;
  }
}

Result<std::string> Connection::ShmRegister(std::string_view body) {
  auto length = protocol::DecodeShmRegister(body);
  if (!length.ok()) return length.status();
  UniqueFd fd = stream_.TakeFd();
  if (!fd.valid()) {
    ctx_.service->counters().shm_refused++;
    return Status::Invalid("SHM_REGISTER needs a memfd passed with its frame (SCM_RIGHTS)");
  }
  auto id = regions_.Register(std::move(fd), *length);
  nlohmann::json fields = {{"bytes", *length}};
  if (!id.ok()) {
    fields["reason"] = id.status().message();
    ctx_.service->Audit(session_, "shm_refused", std::move(fields));
    return id.status();
  }
  fields["region"] = *id;
  ctx_.service->Audit(session_, "shm_register", std::move(fields));
  return protocol::EncodeRegionId(*id);
}

awaitable<void> Connection::ShmGet(std::string_view body) {
  auto req = protocol::DecodeShmGet(body);
  if (!req.ok()) co_return co_await ReplyError(req.status());
  auto dst = regions_.Find(req->range);
  if (!dst.ok()) co_return co_await ReplyError(dst.status());
  auto value = co_await GetValue(req->key);
  if (!value.ok()) co_return co_await ReplyError(value.status());
  if (value->size > dst->size()) {
    co_return co_await ReplyError(
        Status::TooLarge("value of " + std::to_string(value->size) + " bytes does not fit in " +
                         std::to_string(dst->size()) + " bytes of shared memory"));
  }
  if (value->size > 0) std::memcpy(dst->data(), value->data, value->size);
  ctx_.service->counters().shm_gets++;
  co_await ReplyOk(protocol::EncodeShmGetReply({value->size, value->xxh3}));
}

awaitable<void> Connection::ShmPut(std::string_view body) {
  if ((req_.flags & protocol::kFlagChecksum) != 0) {
    co_return co_await ReplyError(
        Status::Invalid("SHM_PUT takes no checksum: its bytes do not travel"));
  }
  auto req = protocol::DecodeShmPut(body, Ext());
  if (!req.ok()) co_return co_await ReplyError(req.status());
  auto src = regions_.Find(req->range);
  if (!src.ok()) co_return co_await ReplyError(src.status());
  const engine::WriteOptions opts = service::WriteOptionsFor(session_, req_.flags, req->options);
  auto hold = ctx_.service->inflight().Reserve(src->size());
  if (!hold.ok()) co_return co_await ReplyError(hold.status());
  auto put = service::BeginPut(*ctx_.service, req->key, src->size(), opts);
  if (!put.ok()) co_return co_await ReplyError(put.status());
  // The hash is of the arena's copy, not of the client's memory, so a
  // client that changes its buffer during the copy stores a torn value of
  // its own, never one whose checksum disagrees with its bytes. Copy and
  // hash run on two cores when the server's hash helper is free.
  put->set_value_xxh3(ctx_.shm_hasher->CopyAndHash(put->buffer(), *src));
  std::shared_ptr<DurableWaiter> waiter;
  if (opts.sync) waiter = std::make_shared<DurableWaiter>(stream_.get_executor());
  Status st =
      service::CommitPut(*ctx_.service, std::move(*put), waiter ? waiter->Callback() : nullptr);
  if (st.ok() && waiter) st = co_await waiter->Wait();
  if (st.ok()) ctx_.service->counters().shm_puts++;
  co_await ReplyStatus(st);
}

}  // namespace ctxstore::server
