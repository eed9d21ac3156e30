// Fuzzes the RESP codec (src/protocol/resp_*): the request parser, the
// inline splitter and the glob matcher.
//
// Input: one selector byte, then:
//   kRequest: a byte of options (bit 0: authenticated; the rest pick the
//     chunk sizes), then a byte stream fed to the parser as a connection
//     would (large arguments taken out of the stream). Parsed whole and in
//     chunks, the events must be the same; arguments lie inside the window,
//     counts and lengths within the (small, so reachable) limits, the window
//     stays bounded; each command, encoded again as a canonical multibulk,
//     parses back to the same arguments.
//   kInline: the bytes are split as an inline line (nothing out of bounds),
//     and, cut at 0xff bytes into arguments, quoted canonically and split
//     again, give back those arguments.
//   kGlob: a pattern length byte, then pattern and text (at most 64 bytes
//     each): GlobMatch must agree with a plain backtracking port of Redis's
//     rules.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "protocol/frame.h"
#include "protocol/resp_glob.h"
#include "protocol/resp_inline.h"
#include "protocol/resp_request.h"

namespace ctxstore::protocol {
namespace {

enum Selector : uint8_t { kRequest = 0, kInline = 1, kGlob = 2, kSelectorCount = 3 };

RespLimits SmallLimits() {
  RespLimits l;
  l.max_bulk_bytes = 4096;
  l.max_args = 16;
  l.max_line_bytes = 256;
  l.max_buffered_bytes = 512;
  l.large_arg_bytes = 128;
  l.unauth_max_args = 4;
  l.unauth_max_bulk_bytes = 64;
  return l;
}

struct Command {
  std::vector<std::string> args;
  bool operator==(const Command&) const = default;
};

struct Run {
  std::vector<std::string> events;  // what happened, in order
  std::vector<Command> commands;    // the whole commands, large arguments included
  bool operator==(const Run&) const = default;
};

std::string Encode(const std::vector<std::string>& args) {
  std::string out = "*";
  out += std::to_string(args.size());
  out += "\r\n";
  for (const std::string& a : args) {
    out += "$";
    out += std::to_string(a.size());
    out += "\r\n";
    out += a;
    out += "\r\n";
  }
  return out;
}

// Feeds src to a parser, `chunk(i)` bytes at the i-th read, as a connection.
template <typename Chunk>
Run Drive(std::string_view src, bool authenticated, Chunk chunk) {
  const RespLimits limits = SmallLimits();
  const uint32_t max_args = authenticated ? limits.max_args : limits.unauth_max_args;
  const uint64_t max_bulk = authenticated ? limits.max_bulk_bytes : limits.unauth_max_bulk_bytes;
  // A command never spans more of the window than the payload cap, its count
  // lines (under 24 bytes each) and one line.
  const size_t max_span =
      limits.max_buffered_bytes + 24 * (max_args + 1) + limits.max_line_bytes + 2;
  RespRequestParser parser(limits);
  parser.set_authenticated(authenticated);
  Run run;
  Command current;
  std::string in;
  size_t pos = 0;
  for (size_t reads = 0;;) {
    const RespEvent ev = parser.Next(AsBytes(in));
    // The reads are not events: their number depends on the chunks.
    if (ev != RespEvent::kNeedMore) run.events.push_back(std::string(RespEventName(ev)));
    switch (ev) {
      case RespEvent::kNeedMore: {
        if (pos == src.size()) return run;
        const size_t n = std::min(chunk(reads++), src.size() - pos);
        in.append(src.substr(pos, n));
        pos += n;
        break;
      }
      case RespEvent::kArgc:
        FUZZ_CHECK(parser.argc() > 0 && parser.argc() <= limits.max_args);
        if (!parser.inline_command()) FUZZ_CHECK(parser.argc() <= max_args);
        current.args.clear();
        break;
      case RespEvent::kArg: {
        const RespArg& a = parser.arg(parser.arg_index());
        FUZZ_CHECK(parser.arg_index() == current.args.size() && parser.arg_index() < parser.argc());
        FUZZ_CHECK(!a.large);
        if (parser.inline_command()) {  // copied already: never large, however long
          FUZZ_CHECK(a.offset + a.length <= parser.inline_bytes().size());
        } else {
          FUZZ_CHECK(a.length < limits.large_arg_bytes);
          FUZZ_CHECK(a.offset + a.length <= in.size() && a.length <= max_bulk);
          FUZZ_CHECK(a.offset + a.length <= max_span);
        }
        current.args.emplace_back(parser.ArgText(AsBytes(in), parser.arg_index()));
        run.events.back() += current.args.back();
        break;
      }
      case RespEvent::kLargeArg: {
        FUZZ_CHECK(!parser.inline_command() && parser.arg_index() == current.args.size());
        const size_t off = parser.offset();
        const uint64_t len = parser.large_length();
        FUZZ_CHECK(off <= in.size() && off <= max_span && len <= max_bulk);
        const size_t here = static_cast<size_t>(std::min<uint64_t>(in.size() - off, len));
        if (src.size() - pos < len - here) return run;  // the stream ends inside it
        std::string bytes = in.substr(off, here);
        bytes.append(src.substr(pos, len - here));
        pos += len - here;
        in.erase(off, here);
        parser.LargeArgTaken(here);
        current.args.push_back(std::move(bytes));
        run.events.back() += std::to_string(len);
        break;
      }
      case RespEvent::kEnd:
        FUZZ_CHECK(current.args.size() == parser.argc());
        run.commands.push_back(current);
        [[fallthrough]];
      case RespEvent::kEmpty:
        FUZZ_CHECK(parser.bytes() <= in.size() && parser.bytes() <= max_span);
        in.erase(0, parser.bytes());
        parser.Reset();
        break;
      case RespEvent::kError:
        FUZZ_CHECK(!parser.error().empty());
        run.events.back() += parser.error();
        return run;
    }
  }
}

void CheckRequest(std::string_view bytes) {
  if (bytes.empty()) return;
  const bool authenticated = (bytes[0] & 1) != 0;
  const uint8_t seed = static_cast<uint8_t>(bytes[0]) >> 1;
  const std::string_view src = bytes.substr(1);
  const Run whole = Drive(src, authenticated, [&](size_t) { return src.size(); });
  const Run chunked =
      Drive(src, authenticated, [&](size_t i) { return 1 + (seed * 7 + i * 13) % (seed + 1); });
  FUZZ_CHECK(whole == chunked);
  // Inline arguments are held only by the line limit (as in Redis), so the
  // multibulk encoding is parsed as an authenticated client's.
  for (const Command& c : whole.commands) {
    const Run again = Drive(Encode(c.args), true, [](size_t) { return size_t{4096}; });
    FUZZ_CHECK(again.commands.size() == 1 && again.commands[0] == c);
  }
}

// Every byte as \xHH: a canonical quoting any byte string survives.
std::string Quote(std::string_view arg) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : arg) {
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  out += "\"";
  return out;
}

void CheckInline(std::string_view bytes) {
  std::vector<RespArg> args(64);
  std::string out(bytes.size(), '\0');
  const InlineSplit raw = SplitInlineArgs(bytes, out, args);
  FUZZ_CHECK(raw.out_bytes <= bytes.size() && raw.argc <= args.size());
  for (uint32_t i = 0; i < raw.argc; ++i) {
    FUZZ_CHECK(args[i].offset + args[i].length <= raw.out_bytes);
  }
  std::vector<std::string> want;
  std::string line;
  size_t start = 0;
  for (size_t i = 0; i <= bytes.size() && want.size() < args.size(); ++i) {
    if (i == bytes.size() || static_cast<uint8_t>(bytes[i]) == 0xff) {
      want.emplace_back(bytes.substr(start, i - start));
      line += (line.empty() ? "" : " ") + Quote(want.back());
      start = i + 1;
    }
  }
  std::string quoted_out(line.size(), '\0');
  const InlineSplit split = SplitInlineArgs(line, quoted_out, args);
  FUZZ_CHECK(split.error == InlineSplitError::kNone && split.argc == want.size());
  for (uint32_t i = 0; i < split.argc; ++i) {
    FUZZ_CHECK(quoted_out.substr(args[i].offset, args[i].length) == want[i]);
  }
}

// Redis's rules, recursive, memoized over (pattern, text) positions: a
// dynamic program of at most 65 x 65 cells.
struct ReferenceGlob {
  std::string_view p, s;
  int8_t memo[65][65];

  ReferenceGlob(std::string_view pattern, std::string_view text) : p(pattern), s(text) {
    std::memset(memo, -1, sizeof(memo));
  }

  bool Match(size_t pi, size_t si) {
    int8_t& m = memo[pi][si];
    if (m < 0) m = Step(pi, si) ? 1 : 0;
    return m == 1;
  }

  bool Step(size_t pi, size_t si) {
    if (pi == p.size()) return si == s.size();
    if (p[pi] == '*') {
      for (size_t i = si; i <= s.size(); ++i) {
        if (Match(pi + 1, i)) return true;
      }
      return false;
    }
    if (si == s.size()) return false;
    size_t next = pi + 1;
    bool ok = false;
    const char c = s[si];
    if (p[pi] == '?') {
      ok = true;
    } else if (p[pi] == '[') {
      size_t i = pi + 1;
      const bool negate = i < p.size() && p[i] == '^';
      if (negate) ++i;
      for (; i < p.size() && p[i] != ']'; ++i) {
        if (p[i] == '\\' && i + 1 < p.size()) {
          ok |= p[++i] == c;
        } else if (i + 2 < p.size() && p[i + 1] == '-') {
          int lo = static_cast<signed char>(p[i]);
          int hi = static_cast<signed char>(p[i + 2]);
          if (lo > hi) std::swap(lo, hi);
          ok |= static_cast<signed char>(c) >= lo && static_cast<signed char>(c) <= hi;
          i += 2;
        } else {
          ok |= p[i] == c;
        }
      }
      if (negate) ok = !ok;
      next = i < p.size() ? i + 1 : p.size();
    } else if (p[pi] == '\\' && pi + 1 < p.size()) {
      ok = p[pi + 1] == c;
      next = pi + 2;
    } else {
      ok = p[pi] == c;
    }
    return ok && Match(next, si + 1);
  }
};

void CheckGlob(std::string_view bytes) {
  if (bytes.empty()) return;
  const size_t pattern_len =
      std::min<size_t>(static_cast<uint8_t>(bytes[0]) % 65, bytes.size() - 1);
  const std::string_view pattern = bytes.substr(1, pattern_len);
  const std::string_view text = bytes.substr(1 + pattern_len, 64);
  ReferenceGlob reference(pattern, text);
  FUZZ_CHECK(GlobMatch(pattern, text) == reference.Match(0, 0));
}

}  // namespace
}  // namespace ctxstore::protocol

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctxstore::protocol;
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % kSelectorCount) {
    case kRequest:
      CheckRequest(rest);
      break;
    case kInline:
      CheckInline(rest);
      break;
    case kGlob:
      CheckGlob(rest);
      break;
  }
  return 0;
}
