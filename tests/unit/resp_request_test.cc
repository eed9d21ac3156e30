// RespRequestParser: events are the same however the input is split; every
// limit with Redis 7.0's exact error text; large arguments; the CRLF check.
#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/frame.h"
#include "protocol/resp_request.h"

namespace ctxstore::protocol {
namespace {

// Appended piece by piece: g++ 12 at -O3 misreads "$" + to_string(..) + ..
// (a false -Wrestrict, and warnings are errors).
void AppendBulk(std::string* out, std::string_view s) {
  out->push_back('$');
  out->append(std::to_string(s.size()));
  out->append("\r\n");
  out->append(s);
  out->append("\r\n");
}

std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

std::string Bulk(std::string_view s) {
  std::string out;
  AppendBulk(&out, s);
  return out;
}

std::string Command(const std::vector<std::string>& args) {
  std::string out = "*";
  out.append(std::to_string(args.size()));
  out.append("\r\n");
  for (const std::string& a : args) AppendBulk(&out, a);
  return out;
}

// A connection in miniature: receives `src` in pieces of `first` bytes, then
// `then` bytes, keeps the current command in `in`, takes large arguments out
// of the stream as the server does, and logs every event.
std::vector<std::string> Drive(std::string_view src, size_t first, size_t then,
                               const RespLimits& limits = {}, bool authenticated = true) {
  RespRequestParser parser(limits);
  parser.set_authenticated(authenticated);
  std::vector<std::string> log;
  std::string in;
  size_t pos = 0;
  size_t chunk = first;
  for (;;) {
    const RespEvent ev = parser.Next(AsBytes(in));
    switch (ev) {
      case RespEvent::kNeedMore: {
        if (pos == src.size()) return log;
        const size_t n = std::min(chunk, src.size() - pos);
        in.append(src.substr(pos, n));
        pos += n;
        chunk = then;
        break;
      }
      case RespEvent::kArgc:
        log.push_back(Cat({"argc ", std::to_string(parser.argc())}));
        break;
      case RespEvent::kArg: {
        std::string line = "arg ";
        line += std::to_string(parser.arg_index());
        line += ' ';
        line += parser.ArgText(AsBytes(in), parser.arg_index());
        log.push_back(line);
      } break;
      case RespEvent::kLargeArg: {
        const size_t off = parser.offset();
        const uint64_t len = parser.large_length();
        const size_t here = std::min<size_t>(in.size() - off, len);
        const uint64_t rest = len - here;
        if (src.size() - pos < rest) {
          log.push_back("eof in large arg");
          return log;
        }
        std::string line = "large ";
        line += std::to_string(parser.arg_index());
        line += ' ';
        line += std::to_string(len);
        line += ' ';
        line += here > 0 ? in[off] : src[pos];  // the argument's first byte
        log.push_back(line);
        pos += rest;
        in.erase(off, here);
        parser.LargeArgTaken(here);
        break;
      }
      case RespEvent::kEnd:
      case RespEvent::kEmpty:
        log.push_back(Cat({RespEventName(ev), " ", std::to_string(parser.bytes())}));
        in.erase(0, parser.bytes());
        parser.Reset();
        break;
      case RespEvent::kError:
        log.push_back(Cat({"error ", parser.error()}));
        return log;
    }
  }
}

std::vector<std::string> Whole(std::string_view src, const RespLimits& limits = {},
                               bool authenticated = true) {
  return Drive(src, src.size() + 1, 1, limits, authenticated);
}

std::string LastOf(const std::vector<std::string>& log) {
  return log.empty() ? "" : log.back();
}

std::string Pipeline() {
  std::string big(40000, 'v');
  const std::string binary("a\r\nb\0c\r\n\0\r", 10);
  return Cat({Command({"SET", "k", "hello"}), Command({"GET", "k"}),
              Command({"MSET", "a", big, "b", binary}), "PING\r\n", "  \r\n", "*0\r\n",
              Command({"HELLO", "3"}), "*-1\r\n", "set 'x y' \"a\\x41\\n\"\n", Command({"", "e"})});
}

TEST(RespRequestTest, PipelineEvents) {
  auto log = Whole(Pipeline());
  const std::vector<std::string> want_head = {
      "argc 3",  "arg 0 SET", "arg 1 k", "arg 2 hello", "end 31",  "argc 2",         "arg 0 GET",
      "arg 1 k", "end 20",    "argc 5",  "arg 0 MSET",  "arg 1 a", "large 2 40000 v"};
  ASSERT_GE(log.size(), want_head.size());
  EXPECT_EQ(std::vector<std::string>(log.begin(), log.begin() + want_head.size()), want_head);
  EXPECT_EQ(log[13], "arg 3 b");
  EXPECT_EQ(log[14], Cat({"arg 4 ", std::string_view("a\r\nb\0c\r\n\0\r", 10)}));
  EXPECT_EQ(log[16], "argc 1");  // PING, inline
  EXPECT_EQ(log[17], "arg 0 PING");
  EXPECT_EQ(log[18], "end 6");
  EXPECT_EQ(log[19], "empty 4");  // a blank inline line
  EXPECT_EQ(log[20], "empty 4");  // *0
  EXPECT_EQ(log[24], "end 22");
  EXPECT_EQ(log[25], "empty 5");  // *-1
  EXPECT_EQ(log[27], "arg 0 set");
  EXPECT_EQ(log[28], "arg 1 x y");
  EXPECT_EQ(log[29], "arg 2 aA\n");
  EXPECT_EQ(log[32], "arg 0 ");
  EXPECT_EQ(log.size(), 35u);
}

TEST(RespRequestTest, EverySplitGivesTheSameEvents) {
  const std::string src = Pipeline();
  const auto whole = Whole(src);
  for (size_t cut = 1; cut < src.size(); ++cut) {
    ASSERT_EQ(Drive(src, cut, src.size()), whole) << "split at " << cut;
  }
  EXPECT_EQ(Drive(src, 1, 1), whole);
  EXPECT_EQ(Drive(src, 7, 13), whole);
}

TEST(RespRequestTest, MultibulkCountErrors) {
  EXPECT_EQ(LastOf(Whole("*abc\r\n")), "error Protocol error: invalid multibulk length");
  EXPECT_EQ(LastOf(Whole("*2147483648\r\n")), "error Protocol error: invalid multibulk length");
  EXPECT_EQ(LastOf(Whole("*01\r\n")), "error Protocol error: invalid multibulk length");
  EXPECT_EQ(LastOf(Whole("*+1\r\n")), "error Protocol error: invalid multibulk length");
  EXPECT_EQ(LastOf(Whole("*\r\n")), "error Protocol error: invalid multibulk length");
  RespLimits limits;
  limits.max_args = 4;
  EXPECT_EQ(LastOf(Whole("*5\r\n", limits)), "error Protocol error: invalid multibulk length");
  EXPECT_EQ(Whole("*4\r\n", limits), std::vector<std::string>{"argc 4"});
  EXPECT_EQ(LastOf(Whole(Cat({"*", std::string(70000, '1')}))),
            "error Protocol error: too big mbulk count string");
  EXPECT_EQ(LastOf(Whole(Cat({"*", std::string(65536, '1'), "\r\n"}))),
            "error Protocol error: too big mbulk count string");
}

TEST(RespRequestTest, BulkErrors) {
  EXPECT_EQ(LastOf(Whole("*1\r\n$-1\r\n")), "error Protocol error: invalid bulk length");
  EXPECT_EQ(LastOf(Whole("*1\r\n$x\r\n")), "error Protocol error: invalid bulk length");
  EXPECT_EQ(LastOf(Whole("*1\r\n$268435457\r\n")), "error Protocol error: invalid bulk length");
  EXPECT_EQ(LastOf(Whole("*1\r\n$268435456\r\n")), "eof in large arg");
  EXPECT_EQ(LastOf(Whole("*1\r\n+3\r\n")), "error Protocol error: expected '$', got '+'");
  EXPECT_EQ(LastOf(Whole("*1\r\n\r\n")), "error Protocol error: expected '$', got ' '");
  EXPECT_EQ(LastOf(Whole(std::string("*1\r\n\0\r\n", 7))),
            "error Protocol error: expected '$', got '");
  EXPECT_EQ(LastOf(Whole(Cat({"*1\r\n$", std::string(70000, '1')}))),
            "error Protocol error: too big bulk count string");
}

TEST(RespRequestTest, UnauthenticatedLimits) {
  EXPECT_EQ(LastOf(Whole("*11\r\n", {}, false)),
            "error Protocol error: unauthenticated multibulk length");
  EXPECT_EQ(Whole("*10\r\n", {}, false), std::vector<std::string>{"argc 10"});
  EXPECT_EQ(Whole("*11\r\n", {}, true), std::vector<std::string>{"argc 11"});
  EXPECT_EQ(LastOf(Whole("*1\r\n$16385\r\n", {}, false)),
            "error Protocol error: unauthenticated bulk length");
  const std::string ok = Cat({"*1\r\n", Bulk(std::string(16384, 'x'))});
  EXPECT_EQ(LastOf(Whole(ok, {}, false)), Cat({"end ", std::to_string(ok.size())}));
  // An invalid length is reported as such, authenticated or not.
  EXPECT_EQ(LastOf(Whole("*1\r\n$-5\r\n", {}, false)), "error Protocol error: invalid bulk length");
}

TEST(RespRequestTest, LargeArgThreshold) {
  for (size_t len : {size_t{32767}, size_t{32768}, size_t{32769}}) {
    const std::string src = Command({"SET", "k", std::string(len, 'z'), "EX", "10"});
    auto log = Whole(src);
    ASSERT_EQ(log.size(), 7u) << len;
    if (len < 32768) {
      EXPECT_EQ(log[3], Cat({"arg 2 ", std::string(len, 'z')}));
    } else {
      EXPECT_EQ(log[3], Cat({"large 2 ", std::to_string(len), " z"}));
    }
    EXPECT_EQ(log[4], "arg 3 EX");
    EXPECT_EQ(log[5], "arg 4 10");
    EXPECT_EQ(log[6].substr(0, 4), "end ");
    for (size_t cut : {size_t{10}, size_t{30}, size_t{30000}, src.size() - 3}) {
      EXPECT_EQ(Drive(src, cut, 4096), log) << len << " split at " << cut;
    }
  }
}

TEST(RespRequestTest, BufferedBytesCapMakesArgsLarge) {
  RespLimits limits;
  limits.max_buffered_bytes = 10;
  auto log = Whole(Command({"abcdef", "ghijk", "x"}), limits);
  EXPECT_EQ(log, (std::vector<std::string>{"argc 3", "arg 0 abcdef", "large 1 5 g", "arg 2 x",
                                           "end 29"}));
}

TEST(RespRequestTest, CrlfAfterBulkIsChecked) {
  EXPECT_EQ(LastOf(Whole("*1\r\n$3\r\nabcX\r\n")),
            "error Protocol error: expected CRLF after bulk string");
  EXPECT_EQ(LastOf(Whole("*1\r\n$3\r\nabc\rX")),
            "error Protocol error: expected CRLF after bulk string");
  const std::string big(40000, 'q');
  EXPECT_EQ(LastOf(Whole(Cat({"*1\r\n$40000\r\n", big, "\n\r"}))),
            "error Protocol error: expected CRLF after bulk string");
}

TEST(RespRequestTest, InlineErrors) {
  EXPECT_EQ(LastOf(Whole("SET \"a b\n")), "error Protocol error: unbalanced quotes in request");
  EXPECT_EQ(LastOf(Whole(std::string(65537, 'a'))), "error Protocol error: too big inline request");
  EXPECT_EQ(LastOf(Whole(Cat({std::string(65537, 'a'), "\n"}))),
            "error Protocol error: too big inline request");
  EXPECT_EQ(LastOf(Whole(Cat({std::string(65536, 'a'), "\n"}))), "end 65537");
  RespLimits limits;
  limits.max_args = 3;
  EXPECT_EQ(LastOf(Whole("a b c d\n", limits)),
            "error Protocol error: too many arguments in inline request");
  // Before authentication inline commands are held only by the line limit, as in Redis.
  EXPECT_EQ(LastOf(Whole("a b c d e f g h i j k l\r\n", {}, false)), "end 25");
}

TEST(RespRequestTest, ResetAfterErrorStartsAfresh) {
  RespRequestParser parser(RespLimits{});
  EXPECT_EQ(parser.Next(AsBytes("*x\r\n")), RespEvent::kError);
  EXPECT_EQ(parser.Next(AsBytes("*x\r\n")), RespEvent::kError);  // stays failed
  parser.Reset();
  EXPECT_TRUE(parser.error().empty());
  EXPECT_EQ(parser.Next(AsBytes("PING\r\n")), RespEvent::kArgc);
  EXPECT_TRUE(parser.inline_command());
}

TEST(RespRequestTest, LimitsFromNativeLimits) {
  Limits native;
  RespLimits r = RespLimitsFor(native);
  EXPECT_EQ(r.max_bulk_bytes, native.max_value_bytes);
  EXPECT_EQ(r.max_args, 2 * native.max_batch_keys + 16);
  EXPECT_EQ(r.max_buffered_bytes, native.max_small_body_bytes);
  EXPECT_EQ(r.large_arg_bytes, 32u * 1024);
  EXPECT_EQ(r.max_line_bytes, 64u * 1024);
}

}  // namespace
}  // namespace ctxstore::protocol
