// The Redis protocol's requests (RESP2 and RESP3 send the same ones): a
// resumable parser for the Redis front end. Pure: no I/O, no locks, no
// shared state; one parser per connection, used by one thread at a time.
//
// A request is a multibulk, "*N\r\n" then N times "$len\r\n<len bytes>\r\n",
// or an inline line ("PING\r\n", split by SplitInlineArgs). The caller keeps
// the bytes of the current command received so far in a window that starts
// at the command's first byte and calls Next() after every read. Next()
// resumes where it stopped, so a command that spans many reads is scanned
// once (O(new bytes)), and reports one event per call:
//
//   kArgc      argc() is known, before any argument's bytes: the caller can
//              look the command up and check its arity and the client's
//              rights before it reads, reserves or buffers anything.
//   kArg       argument arg_index() is whole in the window: arg(i).
//   kLargeArg  argument arg_index() of large_length() bytes starts at
//              offset(); the caller moves it (to a store reservation, or
//              drops it), then calls LargeArgTaken(). Reported for bulks of
//              at least large_arg_bytes (32 KiB, Redis's PROTO_MBULK_BIG_ARG)
//              and for any bulk that would push the command's buffered bytes
//              past max_buffered_bytes: so the window never holds more than
//              max_buffered_bytes of payload, plus the count lines (at most
//              max_args of them, each under 24 bytes), plus one line.
//   kEnd       the command is whole (argc() arguments reported); bytes() is
//              its length in the window. Call Reset() before the next one.
//   kEmpty     "*0", "*-1" or a blank inline line: nothing to run; bytes()
//              consumed. Reset() too.
//   kError     protocol error: error() is the Redis text, e.g. "Protocol
//              error: invalid bulk length"; the caller answers "-ERR " + it
//              and closes. The parser stays failed until Reset().
//   kNeedMore  read more bytes; the window must keep every byte it had.
//
// Limits (RespLimits) are checked as soon as the count that breaks them is
// parsed, before anything is reserved, with Redis 7.0's error texts: a
// "*N" over max_args or INT_MAX, a "$len" under 0 or over max_bulk_bytes, a
// count line or an inline line longer than max_line_bytes (64 KiB, Redis's
// PROTO_INLINE_MAX_SIZE) and, before authentication, Redis's fixed 10
// arguments and 16384-byte bulks. Stricter than Redis in one place: a bulk
// not followed by "\r\n" is "Protocol error: expected CRLF after bulk
// string" (Redis skips two bytes unchecked; a silent desync is worse).
// Like Redis, the byte after the '\r' of a count line is not checked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/frame.h"
#include "protocol/resp_inline.h"

namespace ctxstore::protocol {

struct RespLimits {
  uint64_t max_bulk_bytes = 256ull << 20;  // proto-max-bulk-len := Limits::max_value_bytes
  uint32_t max_args = 2 * 1024 + 16;       // an MSET of max_batch_keys pairs, and options
  size_t max_line_bytes = 64 << 10;        // an inline line, a "*N" or "$len" line
  size_t max_buffered_bytes = 1 << 20;     // one command's payload kept in the window
  uint64_t large_arg_bytes = 32 << 10;     // bulks from this size on are kLargeArg
  uint32_t unauth_max_args = 10;           // Redis 7.0's limits before authentication
  uint64_t unauth_max_bulk_bytes = 16384;
};

// The RESP limits that match the native protocol's limits.
RespLimits RespLimitsFor(const Limits& limits);

enum class RespEvent : uint8_t { kNeedMore, kArgc, kArg, kLargeArg, kEnd, kEmpty, kError };
std::string_view RespEventName(RespEvent e);

class RespRequestParser {
 public:
  // Reserves the argument table (max_args entries) once; Next() never
  // allocates, but for the inline buffer (max_line_bytes), reserved at the
  // first inline command.
  explicit RespRequestParser(const RespLimits& limits);

  // Before authentication the unauthenticated limits apply (the default).
  void set_authenticated(bool yes) { authenticated_ = yes; }
  bool authenticated() const { return authenticated_; }

  // window: the current command's bytes received so far, from its first
  // byte. After kLargeArg the taken bytes are no longer in it.
  RespEvent Next(std::span<const uint8_t> window);
  // After kLargeArg: the caller took the argument's bytes out of the stream,
  // n of them from the window at offset() (and the rest from the socket).
  // The parser now expects "\r\n" at offset() of the next window.
  void LargeArgTaken(size_t n_from_window);
  // After kEnd, kEmpty or kError: the next command starts at the window's
  // next byte (the caller drops bytes() of them).
  void Reset();

  uint32_t argc() const { return argc_; }
  uint32_t arg_index() const { return arg_index_; }
  // For inline commands the offsets are into inline_bytes().
  const RespArg& arg(uint32_t i) const { return args_[i]; }
  // Argument i's bytes (not for large ones): from the window, or from the
  // inline buffer.
  std::string_view ArgText(std::span<const uint8_t> window, uint32_t i) const;
  uint64_t large_length() const { return args_[arg_index_].length; }
  size_t offset() const { return args_[arg_index_].offset; }
  size_t bytes() const { return pos_; }
  std::string_view error() const { return error_; }
  bool inline_command() const { return inline_; }
  std::string_view inline_bytes() const { return {inline_buf_.data(), inline_bytes_}; }
  const RespLimits& limits() const { return limits_; }

 private:
  enum class State : uint8_t {
    kStart,
    kArgcLine,    // "*N\r\n"
    kBulkLine,    // "$len\r\n"
    kBulkBody,    // a small bulk's bytes and "\r\n"
    kLargeArg,    // kLargeArg reported: waiting for LargeArgTaken()
    kBulkCrlf,    // the "\r\n" after a taken large argument
    kInlineArgs,  // an inline command split: reporting its arguments
    kEnd,         // all arguments reported: kEnd next
    kDone,        // kEnd, kEmpty or kError reported: waiting for Reset()
  };
  // Finds the '\r' of the line that starts at pos_ (resuming at scan_): its
  // offset, or npos with *event set (kNeedMore or kError).
  size_t FindLineEnd(std::span<const uint8_t> w, std::string_view too_big, RespEvent* event);
  RespEvent ArgcLine(std::span<const uint8_t> w);
  RespEvent BulkLine(std::span<const uint8_t> w);
  RespEvent BulkBody(std::span<const uint8_t> w);
  RespEvent BulkCrlf(std::span<const uint8_t> w);
  RespEvent InlineLine(std::span<const uint8_t> w);
  RespEvent AfterArg(RespEvent event);
  RespEvent Fail(std::string_view text);

  RespLimits limits_;
  bool authenticated_ = false;
  State state_ = State::kStart;
  bool inline_ = false;
  size_t pos_ = 0;   // the next byte to parse, from the command's start
  size_t scan_ = 0;  // where the search for the current line's end resumes
  uint32_t argc_ = 0;
  uint32_t arg_index_ = 0;  // the argument being parsed or last reported
  uint32_t parsed_ = 0;     // arguments reported so far
  uint64_t buffered_bytes_ = 0;
  std::vector<RespArg> args_;
  std::string inline_buf_;
  size_t inline_bytes_ = 0;
  RespEvent done_event_ = RespEvent::kEnd;  // what kDone repeats
  std::string error_;
};

}  // namespace ctxstore::protocol
