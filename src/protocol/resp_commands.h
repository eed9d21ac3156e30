// The Redis front end's commands (docs/compatibility.md): one table with
// each command's name, arity, who may send it and which of its arguments
// are values, and the pure parsing of their arguments (integers as Redis
// reads them, SET's options). No I/O: the server's RespConnection runs
// them over the service.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ctxstore/status.h"
#include "protocol/frame.h"

namespace ctxstore::protocol {

enum class RespCommand : uint8_t {
  kAuth,
  kHello,
  kPing,
  kQuit,
  kEcho,
  kReset,
  kSelect,
  kClient,
  kCommand,
  kConfig,
  kDbsize,
  kGet,
  kSet,
  kSetex,
  kPsetex,
  kGetdel,
  kMget,
  kMset,
  kExists,
  kDel,
  kUnlink,
  kType,
  kStrlen,
  kTtl,
  kPttl,
  kScan,
  kKeys,
  kFlushdb,
  kInfo,
  kCtxMatchPrefix,
  kCtxRelease,
  kCtxStat,
  kCtxPin,
  kCtxUnpin,
  kExpire,
  kPexpire,
  kExpireat,
  kPexpireat,
  kPersist,
  kExpiretime,
  kPexpiretime,
};

// Where a command's value arguments are (received straight into the store
// when large).
enum class RespValues : uint8_t {
  kNone,
  kThird,   // SET key value ...: argument 2
  kFourth,  // SETEX key seconds value: argument 3
  kPairs,   // MSET key value [key value ...]: arguments 2, 4, ...
};

struct RespCommandSpec {
  RespCommand command;
  std::string_view name;  // lower case, as Redis names commands in its errors
  int32_t arity;          // Redis's convention: n exactly, -n at least n (the name counts)
  bool before_auth;       // may be sent before AUTH: AUTH, HELLO, PING, QUIT
  // The native op whose role the command needs (a read token may GET, not
  // SET); nullopt: any authenticated session.
  std::optional<Opcode> op;
  RespValues values;
};

// Case-insensitive; null for a command the front end does not know.
const RespCommandSpec* FindRespCommand(std::string_view name);
std::span<const RespCommandSpec> RespCommands();

bool ArityOk(const RespCommandSpec& spec, uint32_t argc);
// Whether argument i (0 is the name) of an argc-argument command is a value.
bool IsValueArg(RespValues values, uint32_t i, uint32_t argc);
// The key argument of value argument i (SETEX key seconds value: 1).
uint32_t KeyArgOf(RespValues values, uint32_t i);

// Redis's texts (without "-ERR "): "unknown command 'x', with args
// beginning with: 'a' 'b' " and "wrong number of arguments for 'get'
// command". args: the command's arguments after its name (shown cut, as
// Redis cuts them).
std::string UnknownCommandText(std::string_view name, std::span<const std::string_view> args);
std::string WrongArityText(std::string_view name);
inline constexpr std::string_view kSyntaxErrorText = "syntax error";
inline constexpr std::string_view kNotIntegerText = "value is not an integer or out of range";

// ASCII case-insensitive equality (command names, options).
bool EqualsNoCase(std::string_view a, std::string_view b);

// A decimal integer as Redis's string2ll reads it: optional '-', no '+',
// no spaces, no leading zeros, within int64.
std::optional<int64_t> ParseRedisInt(std::string_view s);

// SET's options: [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL].
struct SetOptions {
  enum class Condition : uint8_t { kAlways, kIfAbsent, kIfPresent } condition = Condition::kAlways;
  bool get = false;  // reply with the value replaced
  bool keep_ttl = false;
  enum class Expire : uint8_t {
    kNone,
    kSeconds,
    kMillis,
    kAtSeconds,
    kAtMillis
  } expire = Expire::kNone;
  int64_t expire_value = 0;
};

// args: the options after key and value. kInvalid with Redis's text.
Result<SetOptions> ParseSetOptions(std::span<const std::string_view> args);

// EXPIRE's conditions (Redis 7.0): [NX | XX | GT | LT].
struct ExpireCondition {
  bool nx = false;  // only when the key has no expiry
  bool xx = false;  // only when it has one
  bool gt = false;  // only when the new one is later (no expiry counts as never)
  bool lt = false;  // only when the new one is sooner
};
// args: the options after key and time. kInvalid with Redis's text.
Result<ExpireCondition> ParseExpireCondition(std::span<const std::string_view> args);
// Whether EXPIRE with these conditions sets new_ms over current_ms (both
// absolute; current 0: no expiry).
bool ExpireAllowed(const ExpireCondition& c, uint64_t current_ms, uint64_t new_ms);

// What an expiry comes to at now_ms (wall clock, ms since the epoch).
struct Expiry {
  uint64_t ttl_ms = 0;           // 0: none given (the namespace default applies)
  bool already_expired = false;  // EXAT/PXAT in the past: the key goes at once
};
// command: "set", "setex" or "psetex", for the error text ("invalid expire
// time in 'set' command" for a value <= 0 or one that overflows).
Result<Expiry> ExpiryOf(const SetOptions& options, uint64_t now_ms, std::string_view command);

}  // namespace ctxstore::protocol
