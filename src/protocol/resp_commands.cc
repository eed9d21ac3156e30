#include "protocol/resp_commands.h"

#include <array>
#include <cctype>
#include <limits>

namespace ctxstore::protocol {
namespace {

constexpr std::optional<Opcode> kNoOp = std::nullopt;
using C = RespCommand;
using V = RespValues;

// Arity as Redis 7.0.15's command table has it (src/commands.def).
constexpr std::array<RespCommandSpec, 42> kCommands = {{
    {C::kAuth, "auth", -2, true, kNoOp, V::kNone},
    {C::kHello, "hello", -1, true, kNoOp, V::kNone},
    {C::kPing, "ping", -1, true, kNoOp, V::kNone},
    {C::kQuit, "quit", -1, true, kNoOp, V::kNone},
    {C::kEcho, "echo", 2, false, kNoOp, V::kNone},
    {C::kReset, "reset", 1, false, kNoOp, V::kNone},
    {C::kSelect, "select", 2, false, kNoOp, V::kNone},
    {C::kClient, "client", -2, false, kNoOp, V::kNone},
    {C::kCommand, "command", -1, false, kNoOp, V::kNone},
    {C::kConfig, "config", -2, false, kNoOp, V::kNone},
    {C::kDbsize, "dbsize", 1, false, Opcode::kExists, V::kNone},
    {C::kGet, "get", 2, false, Opcode::kGet, V::kNone},
    {C::kSet, "set", -3, false, Opcode::kPut, V::kThird},
    {C::kSetex, "setex", 4, false, Opcode::kPut, V::kFourth},
    {C::kPsetex, "psetex", 4, false, Opcode::kPut, V::kFourth},
    {C::kGetdel, "getdel", 2, false, Opcode::kDelete, V::kNone},
    {C::kMget, "mget", -2, false, Opcode::kGet, V::kNone},
    {C::kMset, "mset", -3, false, Opcode::kPut, V::kPairs},
    {C::kExists, "exists", -2, false, Opcode::kExists, V::kNone},
    {C::kDel, "del", -2, false, Opcode::kDelete, V::kNone},
    {C::kUnlink, "unlink", -2, false, Opcode::kDelete, V::kNone},
    {C::kType, "type", 2, false, Opcode::kExists, V::kNone},
    {C::kStrlen, "strlen", 2, false, Opcode::kExists, V::kNone},
    {C::kTtl, "ttl", 2, false, Opcode::kStat, V::kNone},
    {C::kPttl, "pttl", 2, false, Opcode::kStat, V::kNone},
    {C::kScan, "scan", -2, false, Opcode::kList, V::kNone},
    {C::kKeys, "keys", 2, false, Opcode::kList, V::kNone},
    // Every object of the namespace goes: an admin token's (the native
    // op with that power is NS_DELETE).
    {C::kFlushdb, "flushdb", -1, false, Opcode::kNsDelete, V::kNone},
    {C::kFlushdb, "flushall", -1, false, Opcode::kNsDelete, V::kNone},
    {C::kInfo, "info", -1, false, kNoOp, V::kNone},
    {C::kCtxMatchPrefix, "ctx.matchprefix", -2, false, Opcode::kMatchPrefix, V::kNone},
    {C::kCtxRelease, "ctx.release", 2, false, Opcode::kRelease, V::kNone},
    {C::kCtxStat, "ctx.stat", 2, false, Opcode::kStat, V::kNone},
    {C::kCtxPin, "ctx.pin", -2, false, Opcode::kPin, V::kNone},
    {C::kCtxUnpin, "ctx.unpin", -2, false, Opcode::kUnpin, V::kNone},
    // A new expiry is a new version of the object: a write.
    {C::kExpire, "expire", -3, false, Opcode::kPut, V::kNone},
    {C::kPexpire, "pexpire", -3, false, Opcode::kPut, V::kNone},
    {C::kExpireat, "expireat", -3, false, Opcode::kPut, V::kNone},
    {C::kPexpireat, "pexpireat", -3, false, Opcode::kPut, V::kNone},
    {C::kPersist, "persist", 2, false, Opcode::kPut, V::kNone},
    {C::kExpiretime, "expiretime", 2, false, Opcode::kStat, V::kNone},
    {C::kPexpiretime, "pexpiretime", 2, false, Opcode::kStat, V::kNone},
}};

bool EqualsLower(std::string_view s, std::string_view lower) {
  return EqualsNoCase(s, lower);
}

SetOptions::Expire ExpireKind(std::string_view a) {
  using Expire = SetOptions::Expire;
  if (EqualsLower(a, "ex")) return Expire::kSeconds;
  if (EqualsLower(a, "px")) return Expire::kMillis;
  if (EqualsLower(a, "exat")) return Expire::kAtSeconds;
  if (EqualsLower(a, "pxat")) return Expire::kAtMillis;
  return Expire::kNone;
}

// Redis cuts what it echoes in an error at 128 bytes (%.128s).
std::string_view Cut128(std::string_view s) {
  return s.substr(0, 128);
}

}  // namespace

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

const RespCommandSpec* FindRespCommand(std::string_view name) {
  for (const RespCommandSpec& spec : kCommands) {
    if (EqualsLower(name, spec.name)) return &spec;
  }
  return nullptr;
}

std::span<const RespCommandSpec> RespCommands() {
  return kCommands;
}

bool ArityOk(const RespCommandSpec& spec, uint32_t argc) {
  if (spec.arity >= 0) return argc == static_cast<uint32_t>(spec.arity);
  return argc >= static_cast<uint32_t>(-spec.arity);
}

bool IsValueArg(RespValues values, uint32_t i, uint32_t argc) {
  switch (values) {
    case RespValues::kNone:
      return false;
    case RespValues::kThird:
      return i == 2;
    case RespValues::kFourth:
      return i == 3;
    case RespValues::kPairs:
      return i >= 2 && i % 2 == 0 && argc % 2 == 1;
  }
  return false;
}

uint32_t KeyArgOf(RespValues values, uint32_t i) {
  return values == RespValues::kPairs ? i - 1 : 1;
}

std::string UnknownCommandText(std::string_view name, std::span<const std::string_view> args) {
  // As Redis 7.0's processCommand: each argument quoted, until 128 bytes.
  std::string listed;
  for (std::string_view a : args) {
    if (listed.size() >= 128) break;
    const size_t room = 128 - listed.size();  // "%.*s" with 128 - the length so far
    listed += '\'';
    listed += a.substr(0, room);
    listed += "' ";
  }
  return "unknown command '" + std::string(Cut128(name)) + "', with args beginning with: " + listed;
}

std::string WrongArityText(std::string_view name) {
  return "wrong number of arguments for '" + std::string(name) + "' command";
}

std::optional<int64_t> ParseRedisInt(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  if (s == "0") return 0;
  size_t i = 0;
  const bool negative = s[0] == '-';
  if (negative) i = 1;
  if (i >= s.size() || s[i] < '1' || s[i] > '9') return std::nullopt;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(s[i] - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  const uint64_t max_positive = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (!negative) {
    if (v > max_positive) return std::nullopt;
    return static_cast<int64_t>(v);
  }
  if (v > max_positive + 1) return std::nullopt;
  return v == max_positive + 1 ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(v);
}

Result<SetOptions> ParseSetOptions(std::span<const std::string_view> args) {
  using Expire = SetOptions::Expire;
  SetOptions o;
  std::string_view expire_text;  // read once every option is known, as Redis does
  const auto syntax = [] { return Status::Invalid(std::string(kSyntaxErrorText)); };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    const bool has_next = i + 1 < args.size();
    if (EqualsLower(a, "nx") && o.condition != SetOptions::Condition::kIfPresent) {
      o.condition = SetOptions::Condition::kIfAbsent;
    } else if (EqualsLower(a, "xx") && o.condition != SetOptions::Condition::kIfAbsent) {
      o.condition = SetOptions::Condition::kIfPresent;
    } else if (EqualsLower(a, "get")) {
      o.get = true;
    } else if (EqualsLower(a, "keepttl") && o.expire == Expire::kNone) {
      o.keep_ttl = true;
    } else if (const Expire kind = ExpireKind(a); kind != Expire::kNone && has_next &&
                                                  !o.keep_ttl &&
                                                  (o.expire == Expire::kNone || o.expire == kind)) {
      // As Redis: the same option again replaces the value, another one
      // is a syntax error.
      o.expire = kind;
      expire_text = args[++i];
    } else {
      return syntax();
    }
  }
  if (o.expire != Expire::kNone) {
    auto v = ParseRedisInt(expire_text);
    if (!v) return Status::Invalid(std::string(kNotIntegerText));
    o.expire_value = *v;
  }
  return o;
}

Result<ExpireCondition> ParseExpireCondition(std::span<const std::string_view> args) {
  ExpireCondition c;
  for (std::string_view a : args) {
    if (EqualsLower(a, "nx")) {
      c.nx = true;
    } else if (EqualsLower(a, "xx")) {
      c.xx = true;
    } else if (EqualsLower(a, "gt")) {
      c.gt = true;
    } else if (EqualsLower(a, "lt")) {
      c.lt = true;
    } else {
      return Status::Invalid("Unsupported option " + std::string(a.substr(0, 128)));
    }
  }
  if (c.nx && (c.xx || c.gt || c.lt)) {
    return Status::Invalid("NX and XX, GT or LT options at the same time are not compatible");
  }
  if (c.gt && c.lt) {
    return Status::Invalid("GT and LT options at the same time are not compatible");
  }
  return c;
}

bool ExpireAllowed(const ExpireCondition& c, uint64_t current_ms, uint64_t new_ms) {
  if (c.nx && current_ms != 0) return false;
  if (c.xx && current_ms == 0) return false;
  if (c.gt && (current_ms == 0 || new_ms <= current_ms)) return false;
  if (c.lt && current_ms != 0 && new_ms >= current_ms) return false;
  return true;
}

Result<Expiry> ExpiryOf(const SetOptions& options, uint64_t now_ms, std::string_view command) {
  using Expire = SetOptions::Expire;
  Expiry e;
  if (options.expire == Expire::kNone) return e;
  const int64_t v = options.expire_value;
  const bool seconds = options.expire == Expire::kSeconds || options.expire == Expire::kAtSeconds;
  const int64_t max = std::numeric_limits<int64_t>::max() / (seconds ? 1000 : 1);
  if (v <= 0 || v > max) {
    return Status::Invalid("invalid expire time in '" + std::string(command) + "' command");
  }
  const uint64_t ms = static_cast<uint64_t>(v) * (seconds ? 1000 : 1);
  if (options.expire == Expire::kSeconds || options.expire == Expire::kMillis) {
    // Redis adds the time now and refuses what overflows.
    if (ms > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - now_ms) {
      return Status::Invalid("invalid expire time in '" + std::string(command) + "' command");
    }
    e.ttl_ms = ms;
  } else if (ms <= now_ms) {
    e.already_expired = true;
  } else {
    e.ttl_ms = ms - now_ms;
  }
  return e;
}

}  // namespace ctxstore::protocol
