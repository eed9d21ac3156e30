// RespConnection: the commands on keys, each one or a few calls of the
// service (service/key_ops.h, put_ops.h, context_ops.h) in the session's
// namespace, with Redis's replies (see resp_connection_impl.h and
// docs/compatibility.md). A key the store cannot hold (empty, over 512
// bytes) reads as absent, as a key no one wrote would.
#include <cstring>
#include <string>
#include <vector>

#include "common/clock.h"
#include "server/flash_get.h"
#include "server/resp_connection_impl.h"
#include "service/context_ops.h"
#include "service/key_ops.h"
#include "service/put_ops.h"

namespace ctxstore::server {
namespace {

using asio::awaitable;
using protocol::ParseRedisInt;
using protocol::SetOptions;

// A read of a key that is not there, or that no one could have written.
bool Absent(const Status& st) {
  return st.code() == StatusCode::kNotFound || st.code() == StatusCode::kInvalid;
}

}  // namespace

engine::WriteOptions RespConnection::BaseWriteOptions() const {
  // SET overwrites, unlike the native PUT (put-if-absent).
  return service::WriteOptionsFor(*session_, protocol::kFlagOverwrite, {});
}

void RespConnection::AppendValue(engine::ValueRef value) {
  Writer().BulkHeader(value.size);
  out_.AppendValue(std::move(value));
  out_.text()->append("\r\n");
}

Status RespConnection::StoreValue(uint32_t key_arg, uint32_t value_arg, engine::WriteOptions opts) {
  const service::Service& service = *ctx_.service;
  if (LargeValue* large = LargeAt(value_arg)) {
    // Received before the options that follow it were known.
    if (!large->status.ok()) return large->status;
    engine::PutConditions c;
    c.ttl_ms = opts.ttl_ms;
    c.overwrite = opts.overwrite;
    c.only_if_present = opts.only_if_present;
    c.keep_ttl = opts.keep_ttl;
    large->put.Amend(c);
    Status st = service::CommitPut(service, std::move(large->put), nullptr);
    large->hold = service::InflightHold();
    return st;
  }
  const std::string_view value = Arg(value_arg);
  auto put = service::BeginPut(service, Arg(key_arg), value.size(), opts);
  if (!put.ok()) return put.status();
  if (!value.empty()) std::memcpy(put->buffer().data(), value.data(), value.size());
  return service::CommitPut(service, std::move(*put), nullptr);
}

awaitable<void> RespConnection::CmdGet(bool and_delete) {
  auto value = co_await GetValueOffLoop(ctx_, session(), Arg(1));
  if (!value.ok()) {
    if (Absent(value.status())) {
      Writer().Null();
    } else {
      ReplyStatus(value.status());
    }
    co_return;
  }
  // GETDEL answers the value it removed; one that someone else removed
  // first was not this GETDEL's.
  if (and_delete && !service::Delete(*ctx_.service, session(), Arg(1), false, nullptr).ok()) {
    Writer().Null();
    co_return;
  }
  AppendValue(std::move(*value));
}

awaitable<void> RespConnection::CmdMget() {
  Writer().Array(argc() - 1);
  for (uint32_t i = 1; i < argc(); ++i) {
    auto value = co_await GetValueOffLoop(ctx_, session(), Arg(i));
    if (value.ok()) {
      AppendValue(std::move(*value));
    } else {
      Writer().Null();  // MGET has no errors per key
    }
    if (out_.full()) co_await Flush();
  }
}

awaitable<void> RespConnection::CmdSet() {
  auto options = protocol::ParseSetOptions(std::span(args_).subspan(3));
  if (!options.ok()) {
    ReplyError(options.status().message());
    co_return;
  }
  auto expiry = protocol::ExpiryOf(*options, WallClockMs(), "set");
  if (!expiry.ok()) {
    ReplyError(expiry.status().message());
    co_return;
  }
  std::optional<engine::ValueRef> old;
  if (options->get) {
    auto v = co_await GetValueOffLoop(ctx_, session(), Arg(1));
    if (v.ok()) old = std::move(*v);
  }
  using Condition = SetOptions::Condition;
  engine::WriteOptions w = BaseWriteOptions();
  w.overwrite = options->condition != Condition::kIfAbsent;
  w.only_if_present = options->condition == Condition::kIfPresent;
  w.keep_ttl = options->keep_ttl;
  w.ttl_ms = expiry->ttl_ms;
  Status st;
  if (expiry->already_expired) {
    // EXAT/PXAT in the past: the key is gone at once (as Redis expires it
    // on its next access), whatever the conditions allow.
    const bool present = service::Exists(*ctx_.service, session(), Arg(1)).ok();
    if (present && !w.overwrite) {
      st = Status::Exists();
    } else if (!present && w.only_if_present) {
      st = Status::NotFound();
    } else if (present) {
      st = service::Delete(*ctx_.service, session(), Arg(1), false, nullptr);
      if (st.code() == StatusCode::kNotFound) st = Status::Ok();
    }
  } else {
    st = StoreValue(1, 2, std::move(w));
  }
  // NX on a present key, XX on an absent one: not set, and no error.
  const bool not_set = st.code() == StatusCode::kExists || st.code() == StatusCode::kNotFound;
  if (!st.ok() && !not_set) {
    ReplyStatus(st);
  } else if (options->get) {
    if (old) {
      AppendValue(std::move(*old));
    } else {
      Writer().Null();
    }
  } else if (not_set) {
    Writer().Null();
  } else {
    Writer().Simple("OK");
  }
}

void RespConnection::CmdSetex(bool millis) {
  const std::string_view name = millis ? "psetex" : "setex";
  auto t = ParseRedisInt(Arg(2));
  if (!t) {
    ReplyError(protocol::kNotIntegerText);
    return;
  }
  SetOptions o;
  o.expire = millis ? SetOptions::Expire::kMillis : SetOptions::Expire::kSeconds;
  o.expire_value = *t;
  auto expiry = protocol::ExpiryOf(o, WallClockMs(), name);
  if (!expiry.ok()) {
    ReplyError(expiry.status().message());
    return;
  }
  engine::WriteOptions w = BaseWriteOptions();
  w.ttl_ms = expiry->ttl_ms;
  ReplyStatus(StoreValue(1, 3, std::move(w)));
}

void RespConnection::CmdMset() {
  if (argc() % 2 == 0) {
    ReplyError(protocol::WrongArityText("mset"));
    return;
  }
  // Not atomic as Redis's: each pair is stored in turn; the first failure
  // is the reply (the pairs before it are stored).
  Status first = Status::Ok();
  for (uint32_t i = 1; i + 1 < argc(); i += 2) {
    Status st = StoreValue(i, i + 1, BaseWriteOptions());
    if (!st.ok() && first.ok()) first = std::move(st);
  }
  ReplyStatus(first);
}

void RespConnection::CmdExists() {
  int64_t n = 0;
  for (uint32_t i = 1; i < argc(); ++i) {
    if (service::Exists(*ctx_.service, session(), Arg(i)).ok()) ++n;
  }
  Writer().Integer(n);
}

void RespConnection::CmdDel() {
  int64_t n = 0;
  for (uint32_t i = 1; i < argc(); ++i) {
    if (service::Delete(*ctx_.service, session(), Arg(i), false, nullptr).ok()) ++n;
  }
  Writer().Integer(n);
}

void RespConnection::CmdTypeOrStrlen(bool strlen) {
  auto length = service::Exists(*ctx_.service, session(), Arg(1));
  if (strlen) {
    Writer().Integer(length.ok() ? static_cast<int64_t>(*length) : 0);
  } else {
    Writer().Simple(length.ok() ? "string" : "none");
  }
}

void RespConnection::CmdTtl(bool millis) {
  auto info = service::Stat(*ctx_.service, session(), Arg(1));
  if (!info.ok()) {
    Writer().Integer(-2);
    return;
  }
  if (info->expires_ms == 0) {
    Writer().Integer(-1);
    return;
  }
  const uint64_t now_ms = WallClockMs();
  const uint64_t left_ms = info->expires_ms > now_ms ? info->expires_ms - now_ms : 0;
  Writer().Integer(static_cast<int64_t>(millis ? left_ms : (left_ms + 500) / 1000));
}

void RespConnection::CmdMatchPrefix() {
  // CTX.MATCHPREFIX [LEASE ms] key [key ...]
  uint32_t first = 1;
  protocol::MatchPrefixRequest request;
  if (argc() >= 4 && protocol::EqualsNoCase(Arg(1), "lease")) {
    auto ms = ParseRedisInt(Arg(2));
    if (!ms || *ms <= 0) {
      ReplyError(protocol::kNotIntegerText);
      return;
    }
    request.lease_ms = static_cast<uint64_t>(*ms);
    first = 3;
  }
  if (argc() - first > ctx_.service->limits().max_batch_keys) {
    ReplyError("too many keys: at most " + std::to_string(ctx_.service->limits().max_batch_keys));
    return;
  }
  request.keys.assign(args_.begin() + first, args_.end());
  auto m = service::MatchPrefix(*ctx_.service, session(), request);
  if (!m.ok()) {
    ReplyStatus(m.status());
  } else if (request.lease_ms == 0) {
    Writer().Integer(m->matched);
  } else {
    Writer().Array(2);
    Writer().Integer(m->matched);
    Writer().Integer(static_cast<int64_t>(m->lease_id));
  }
}

void RespConnection::CmdRelease() {
  auto id = ParseRedisInt(Arg(1));
  if (!id || *id <= 0) {
    ReplyError(protocol::kNotIntegerText);
    return;
  }
  Status st = service::Release(*ctx_.service, session(), static_cast<uint64_t>(*id));
  if (st.code() == StatusCode::kNotFound) {
    ReplyError("no such lease (unknown, ended, or taken in another namespace)");
  } else {
    ReplyStatus(st);
  }
}

void RespConnection::CmdStat() {
  auto info = service::Stat(*ctx_.service, session(), Arg(1));
  if (!info.ok()) {
    if (Absent(info.status())) {
      Writer().Null();
    } else {
      ReplyStatus(info.status());
    }
    return;
  }
  protocol::RespWriter w = Writer();
  const auto number = [&](std::string_view name, uint64_t v) {
    w.Bulk(name);
    w.Integer(static_cast<int64_t>(v));
  };
  const auto text = [&](std::string_view name, std::string_view v) {
    w.Bulk(name);
    w.Bulk(v);
  };
  w.Map(11);
  number("value_len", info->value_len);
  number("created_ms", info->created_ms);
  number("expires_ms", info->expires_ms);
  number("in_dram", info->in_dram);
  number("on_flash", info->on_flash);
  number("durable", info->durable);
  number("pinned", info->pinned);
  number("leases", info->leases);
  text("group", info->group);
  text("parent", info->parent);
  text("writer", info->writer);
}

void RespConnection::RunKeyCommand(protocol::RespCommand command) {
  using C = protocol::RespCommand;
  switch (command) {
    case C::kSetex:
      return CmdSetex(/*millis=*/false);
    case C::kPsetex:
      return CmdSetex(/*millis=*/true);
    case C::kMset:
      return CmdMset();
    case C::kExists:
      return CmdExists();
    case C::kDel:
    case C::kUnlink:
      return CmdDel();
    case C::kType:
      return CmdTypeOrStrlen(/*strlen=*/false);
    case C::kStrlen:
      return CmdTypeOrStrlen(/*strlen=*/true);
    case C::kTtl:
      return CmdTtl(/*millis=*/false);
    case C::kPttl:
      return CmdTtl(/*millis=*/true);
    case C::kCtxMatchPrefix:
      return CmdMatchPrefix();
    case C::kCtxRelease:
      return CmdRelease();
    case C::kCtxStat:
      return CmdStat();
    default:
      RunKeyspaceCommand(command);
  }
}

}  // namespace ctxstore::server
