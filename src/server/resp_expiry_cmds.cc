// RespConnection: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with Redis 7.0's
// NX/XX/GT/LT), PERSIST, EXPIRETIME and PEXPIRETIME. A new expiry is a new
// version of the object (engine SetExpiry: the same bytes written again,
// so that a restart recovers it), capped by the namespace's max TTL; an
// object only on flash is brought back on the reader pool.
#include <limits>
#include <string>

#include "common/clock.h"
#include "server/flash_get.h"
#include "server/resp_connection_impl.h"
#include "service/context_ops.h"
#include "service/key_ops.h"

namespace ctxstore::server {
namespace {

constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();

// Argument `time` of EXPIRE and its kin as absolute ms, or Redis's error.
Result<int64_t> ExpireAt(std::string_view time, bool millis, bool absolute, uint64_t now_ms,
                         std::string_view command) {
  auto t = protocol::ParseRedisInt(time);
  if (!t) return Status::Invalid(std::string(protocol::kNotIntegerText));
  const Status invalid =
      Status::Invalid("invalid expire time in '" + std::string(command) + "' command");
  int64_t ms = *t;
  if (!millis) {
    if (ms > kMaxInt64 / 1000 || ms < std::numeric_limits<int64_t>::min() / 1000) return invalid;
    ms *= 1000;
  }
  if (absolute) return ms;
  if (ms > kMaxInt64 - static_cast<int64_t>(now_ms)) return invalid;
  return ms + static_cast<int64_t>(now_ms);
}

}  // namespace

asio::awaitable<void> RespConnection::CmdExpire(bool millis, bool absolute) {
  const std::string_view name = command_->name;
  const uint64_t now_ms = WallClockMs();
  auto when = ExpireAt(Arg(2), millis, absolute, now_ms, name);
  if (!when.ok()) co_return ReplyError(when.status().message());
  auto condition = protocol::ParseExpireCondition(std::span(args_).subspan(3));
  if (!condition.ok()) co_return ReplyError(condition.status().message());
  auto info = service::Stat(*ctx_.service, session(), Arg(1));
  if (!info.ok()) co_return Writer().Integer(0);
  const uint64_t new_ms = *when > 0 ? static_cast<uint64_t>(*when) : 1;
  if (!protocol::ExpireAllowed(*condition, info->expires_ms, new_ms)) {
    co_return Writer().Integer(0);
  }
  Status st;
  if (new_ms <= now_ms) {
    // A time already past deletes the key, as Redis does.
    st = service::Delete(*ctx_.service, session(), Arg(1), /*sync=*/false, nullptr);
  } else {
    st = co_await SetExpiryOffLoop(ctx_, session(), Arg(1), new_ms);
  }
  if (st.ok() || st.code() == StatusCode::kNotFound) {
    Writer().Integer(st.ok() ? 1 : 0);
  } else {
    ReplyStatus(st);
  }
}

asio::awaitable<void> RespConnection::CmdPersist() {
  auto info = service::Stat(*ctx_.service, session(), Arg(1));
  if (!info.ok() || info->expires_ms == 0) co_return Writer().Integer(0);
  Status st = co_await SetExpiryOffLoop(ctx_, session(), Arg(1), 0);
  if (st.ok() || st.code() == StatusCode::kNotFound) {
    Writer().Integer(st.ok() ? 1 : 0);
  } else {
    ReplyStatus(st);
  }
}

void RespConnection::CmdExpireTime(bool millis) {
  auto info = service::Stat(*ctx_.service, session(), Arg(1));
  if (!info.ok()) return Writer().Integer(-2);
  if (info->expires_ms == 0) return Writer().Integer(-1);
  const uint64_t at = millis ? info->expires_ms : (info->expires_ms + 500) / 1000;
  Writer().Integer(static_cast<int64_t>(at));
}

}  // namespace ctxstore::server
