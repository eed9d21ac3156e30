#include "protocol/resp_request.h"

#include <climits>
#include <cstring>

#include "common/check.h"

namespace ctxstore::protocol {
namespace {

constexpr size_t kNpos = static_cast<size_t>(-1);

// Redis's string2ll: an optional '-', then digits without leading zeros ("0"
// alone is fine), at most 20 characters, within a long long. No '+', no
// blanks: "$ 5" and "$05" are invalid lengths in Redis too.
bool ParseCount(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  if (s == "0") {
    *out = 0;
    return true;
  }
  size_t i = 0;
  const bool negative = s[0] == '-';
  if (negative) i = 1;
  if (i >= s.size() || s[i] < '1' || s[i] > '9') return false;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(s[i] - '0');
    if (v > (UINT64_MAX - digit) / 10) return false;
    v = v * 10 + digit;
  }
  if (negative) {
    if (v > static_cast<uint64_t>(LLONG_MAX) + 1) return false;
    *out = static_cast<int64_t>(0 - v);
  } else {
    if (v > static_cast<uint64_t>(LLONG_MAX)) return false;
    *out = static_cast<int64_t>(v);
  }
  return true;
}

std::string_view Text(std::span<const uint8_t> w, size_t begin, size_t end) {
  return {reinterpret_cast<const char*>(w.data()) + begin, end - begin};
}

}  // namespace

RespLimits RespLimitsFor(const Limits& limits) {
  RespLimits r;
  r.max_bulk_bytes = limits.max_value_bytes;
  r.max_args = 2 * limits.max_batch_keys + 16;
  r.max_buffered_bytes = limits.max_small_body_bytes;
  return r;
}

std::string_view RespEventName(RespEvent e) {
  switch (e) {
    case RespEvent::kNeedMore:
      return "need_more";
    case RespEvent::kArgc:
      return "argc";
    case RespEvent::kArg:
      return "arg";
    case RespEvent::kLargeArg:
      return "large_arg";
    case RespEvent::kEnd:
      return "end";
    case RespEvent::kEmpty:
      return "empty";
    case RespEvent::kError:
      return "error";
  }
  return "unknown";
}

RespRequestParser::RespRequestParser(const RespLimits& limits) : limits_(limits) {
  args_.resize(limits_.max_args);
  error_.reserve(64);  // every error text fits: the parser allocates nothing per command
}

void RespRequestParser::Reset() {
  state_ = State::kStart;
  inline_ = false;
  pos_ = 0;
  scan_ = 0;
  argc_ = 0;
  arg_index_ = 0;
  parsed_ = 0;
  buffered_bytes_ = 0;
  inline_bytes_ = 0;
  error_.clear();
}

std::string_view RespRequestParser::ArgText(std::span<const uint8_t> window, uint32_t i) const {
  const RespArg& a = args_[i];
  if (inline_) return inline_bytes().substr(a.offset, a.length);
  return Text(window, a.offset, a.offset + a.length);
}

RespEvent RespRequestParser::Fail(std::string_view text) {
  if (text.data() != error_.data()) error_.assign(text);  // BulkLine builds it in place
  state_ = State::kDone;
  done_event_ = RespEvent::kError;
  return RespEvent::kError;
}

RespEvent RespRequestParser::Next(std::span<const uint8_t> w) {
  switch (state_) {
    case State::kStart:
      if (w.empty()) return RespEvent::kNeedMore;
      if (w[0] != '*') {
        inline_ = true;
        return InlineLine(w);
      }
      state_ = State::kArgcLine;
      return ArgcLine(w);
    case State::kArgcLine:
      return ArgcLine(w);
    case State::kBulkLine:
      return BulkLine(w);
    case State::kBulkBody:
      return BulkBody(w);
    case State::kLargeArg:
      return RespEvent::kLargeArg;  // LargeArgTaken() first
    case State::kBulkCrlf:
      return BulkCrlf(w);
    case State::kInlineArgs:
      if (parsed_ < argc_) {
        arg_index_ = parsed_++;
        return RespEvent::kArg;
      }
      state_ = State::kEnd;
      [[fallthrough]];
    case State::kEnd:
      state_ = State::kDone;
      done_event_ = RespEvent::kEnd;
      return RespEvent::kEnd;
    case State::kDone:
      return done_event_;
  }
  return RespEvent::kNeedMore;
}

size_t RespRequestParser::FindLineEnd(std::span<const uint8_t> w, std::string_view too_big,
                                      RespEvent* event) {
  // The line's length decides, not how much happens to be buffered (as in
  // Redis), so that a command parses the same however it was split.
  if (scan_ < pos_) scan_ = pos_;
  const void* cr =
      scan_ < w.size() ? std::memchr(w.data() + scan_, '\r', w.size() - scan_) : nullptr;
  if (cr == nullptr) {
    scan_ = w.size();
    *event = w.size() - pos_ > limits_.max_line_bytes ? Fail(too_big) : RespEvent::kNeedMore;
    return kNpos;
  }
  const size_t at = static_cast<size_t>(static_cast<const uint8_t*>(cr) - w.data());
  scan_ = at;  // found again at once if the byte after it has not come yet
  if (at - pos_ > limits_.max_line_bytes) {
    *event = Fail(too_big);
    return kNpos;
  }
  if (at + 1 >= w.size()) {
    *event = RespEvent::kNeedMore;
    return kNpos;
  }
  return at;
}

RespEvent RespRequestParser::ArgcLine(std::span<const uint8_t> w) {
  RespEvent event{};
  const size_t cr = FindLineEnd(w, "Protocol error: too big mbulk count string", &event);
  if (cr == kNpos) return event;
  int64_t n = 0;
  if (!ParseCount(Text(w, pos_ + 1, cr), &n) || n > INT_MAX) {
    return Fail("Protocol error: invalid multibulk length");
  }
  if (!authenticated_ && n > static_cast<int64_t>(limits_.unauth_max_args)) {
    return Fail("Protocol error: unauthenticated multibulk length");
  }
  if (n > static_cast<int64_t>(limits_.max_args)) {
    return Fail("Protocol error: invalid multibulk length");
  }
  pos_ = cr + 2;
  if (n <= 0) {  // "*0", "*-1": Redis ignores them
    state_ = State::kDone;
    done_event_ = RespEvent::kEmpty;
    return RespEvent::kEmpty;
  }
  argc_ = static_cast<uint32_t>(n);
  state_ = State::kBulkLine;
  return RespEvent::kArgc;
}

RespEvent RespRequestParser::BulkLine(std::span<const uint8_t> w) {
  RespEvent event{};
  const size_t cr = FindLineEnd(w, "Protocol error: too big bulk count string", &event);
  if (cr == kNpos) return event;
  if (w[pos_] != '$') {
    // Redis formats the byte with %c into a C string (a NUL ends the text) and
    // turns CR and LF into spaces.
    error_.assign("Protocol error: expected '$', got '");
    const char got = static_cast<char>(w[pos_]);
    if (got == 0) return Fail(error_);
    error_.push_back(got == '\r' || got == '\n' ? ' ' : got);
    error_.push_back('\'');
    return Fail(error_);
  }
  int64_t len = 0;
  if (!ParseCount(Text(w, pos_ + 1, cr), &len) || len < 0 ||
      static_cast<uint64_t>(len) > limits_.max_bulk_bytes) {
    return Fail("Protocol error: invalid bulk length");
  }
  const uint64_t length = static_cast<uint64_t>(len);
  if (!authenticated_ && length > limits_.unauth_max_bulk_bytes) {
    return Fail("Protocol error: unauthenticated bulk length");
  }
  pos_ = cr + 2;
  arg_index_ = parsed_;
  const bool large =
      length >= limits_.large_arg_bytes || buffered_bytes_ + length > limits_.max_buffered_bytes;
  args_[arg_index_] = RespArg{pos_, length, large};
  if (large) {
    state_ = State::kLargeArg;
    return RespEvent::kLargeArg;
  }
  state_ = State::kBulkBody;
  return BulkBody(w);
}

RespEvent RespRequestParser::BulkBody(std::span<const uint8_t> w) {
  const uint64_t length = args_[arg_index_].length;
  if (w.size() < pos_ || w.size() - pos_ < length + 2) return RespEvent::kNeedMore;
  const size_t end = pos_ + static_cast<size_t>(length);
  if (w[end] != '\r' || w[end + 1] != '\n') {
    return Fail("Protocol error: expected CRLF after bulk string");
  }
  buffered_bytes_ += length;
  pos_ = end + 2;
  return AfterArg(RespEvent::kArg);
}

void RespRequestParser::LargeArgTaken(size_t n_from_window) {
  CTX_CHECK(state_ == State::kLargeArg);
  CTX_CHECK(n_from_window <= args_[arg_index_].length);
  // The bytes are gone from the window: the CRLF is at pos_ now.
  state_ = State::kBulkCrlf;
}

RespEvent RespRequestParser::BulkCrlf(std::span<const uint8_t> w) {
  if (w.size() < pos_ + 2) return RespEvent::kNeedMore;
  if (w[pos_] != '\r' || w[pos_ + 1] != '\n') {
    return Fail("Protocol error: expected CRLF after bulk string");
  }
  pos_ += 2;
  AfterArg(RespEvent::kArg);  // already reported, as kLargeArg
  return Next(w);
}

RespEvent RespRequestParser::AfterArg(RespEvent event) {
  ++parsed_;
  scan_ = pos_;
  state_ = parsed_ < argc_ ? State::kBulkLine : State::kEnd;
  return event;
}

RespEvent RespRequestParser::InlineLine(std::span<const uint8_t> w) {
  if (scan_ >= w.size()) return RespEvent::kNeedMore;
  const void* lf = std::memchr(w.data() + scan_, '\n', w.size() - scan_);
  if (lf == nullptr) {
    scan_ = w.size();
    if (w.size() > limits_.max_line_bytes) return Fail("Protocol error: too big inline request");
    return RespEvent::kNeedMore;
  }
  const size_t at = static_cast<size_t>(static_cast<const uint8_t*>(lf) - w.data());
  if (at > limits_.max_line_bytes) return Fail("Protocol error: too big inline request");
  size_t end = at;
  if (end > 0 && w[end - 1] == '\r') --end;
  if (inline_buf_.size() < limits_.max_line_bytes) inline_buf_.resize(limits_.max_line_bytes);
  const InlineSplit split =
      SplitInlineArgs(Text(w, 0, end), std::span<char>(inline_buf_), std::span<RespArg>(args_));
  pos_ = at + 1;
  if (split.error == InlineSplitError::kUnbalanced) {
    return Fail("Protocol error: unbalanced quotes in request");
  }
  if (split.error == InlineSplitError::kTooManyArgs) {
    return Fail("Protocol error: too many arguments in inline request");
  }
  inline_bytes_ = split.out_bytes;
  if (split.argc == 0) {
    state_ = State::kDone;
    done_event_ = RespEvent::kEmpty;
    return RespEvent::kEmpty;
  }
  argc_ = split.argc;
  state_ = State::kInlineArgs;
  return RespEvent::kArgc;
}

}  // namespace ctxstore::protocol
