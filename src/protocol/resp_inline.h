// Inline commands of the Redis protocol ("PING", "SET k 'a b'\r\n"): the
// line splitter. Pure and allocation-free: the caller owns the output
// buffers, so a connection sizes them once.
//
// The rules are those of Redis's sdssplitargs (redis 7.0), written from its
// description:
//   - arguments are separated by blanks (space, \t, \n, \r, \v, \f);
//   - "..." takes the escapes \n \r \t \b \a \xHH (two hex digits) and \<c>
//     for any other c (so \\ and \"); a '\' with no hex after "\x" gives 'x';
//   - '...' takes only \' (any other backslash is kept as is);
//   - a quote may start in the middle of an argument (a"b c" is `ab c`);
//   - a closing quote must be followed by a blank or the end of the line,
//     and every quote must be closed: otherwise the line is unbalanced;
//   - the line ends at its first NUL byte (Redis splits a C string).
// Unescaped arguments are never longer than the line, so an output buffer of
// line.size() bytes always suffices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace ctxstore::protocol {

// One argument of a command: where its bytes are (relative to the command's
// first byte in the input window, or to the inline output buffer) and how
// many. `large` arguments were reported as kLargeArg and taken out of the
// window by the caller: their offset is where they began, not where bytes are.
struct RespArg {
  size_t offset = 0;
  uint64_t length = 0;
  bool large = false;
};

enum class InlineSplitError : uint8_t {
  kNone,
  kUnbalanced,   // Redis: "Protocol error: unbalanced quotes in request"
  kTooManyArgs,  // more arguments than `args` has room for (ours; Redis has no such limit)
};

struct InlineSplit {
  InlineSplitError error = InlineSplitError::kNone;
  uint32_t argc = 0;     // arguments written to args[0, argc)
  size_t out_bytes = 0;  // bytes written to out[0, out_bytes)
};

// Splits `line` (without its "\r\n") into arguments. Their unescaped bytes go
// to `out` one after another; args[i] gives each one's offset into `out`.
// `out` must hold at least line.size() bytes. An empty or blank line gives
// argc 0 (Redis ignores it).
InlineSplit SplitInlineArgs(std::string_view line, std::span<char> out, std::span<RespArg> args);

}  // namespace ctxstore::protocol
