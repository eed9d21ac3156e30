// SplitInlineArgs: Redis's sdssplitargs rules (quoting, escapes, unbalanced
// quotes), into caller-owned buffers.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "protocol/resp_inline.h"

namespace ctxstore::protocol {
namespace {

// The arguments, or {"<unbalanced>"} / {"<too many>"}.
std::vector<std::string> Split(std::string_view line, size_t max_args = 64) {
  std::string out(line.size(), '\0');
  std::vector<RespArg> args(max_args);
  InlineSplit r = SplitInlineArgs(line, out, args);
  if (r.error == InlineSplitError::kUnbalanced) return {"<unbalanced>"};
  if (r.error == InlineSplitError::kTooManyArgs) return {"<too many>"};
  EXPECT_LE(r.out_bytes, line.size());
  std::vector<std::string> v;
  for (uint32_t i = 0; i < r.argc; ++i) v.push_back(out.substr(args[i].offset, args[i].length));
  return v;
}

using V = std::vector<std::string>;

TEST(RespInlineTest, Blanks) {
  EXPECT_EQ(Split("SET k v"), (V{"SET", "k", "v"}));
  EXPECT_EQ(Split("  a \t b\r\n"), (V{"a", "b"}));
  EXPECT_EQ(Split(""), V{});
  EXPECT_EQ(Split(" \t\v\f "), V{});
  // \v and \f separate arguments only where blanks are skipped, as in Redis.
  EXPECT_EQ(Split("a\vb \fc"), (V{"a\vb", "c"}));
}

TEST(RespInlineTest, DoubleQuotes) {
  EXPECT_EQ(Split("\"a b\" c"), (V{"a b", "c"}));
  EXPECT_EQ(Split("\"\""), V{""});
  EXPECT_EQ(Split(R"("\x41\x7a\n\r\t\b\a\\\"\q")"), V{std::string("Az\n\r\t\b\a\\\"q")});
  EXPECT_EQ(Split(R"("\xZZ\x4")"), V{"xZZx4"});
  EXPECT_EQ(Split(R"("\x00")"), V{std::string(1, '\0')});
  EXPECT_EQ(Split("a\"b c\""), V{"ab c"});  // a quote may open inside an argument
  EXPECT_EQ(Split("\"a\"\tb"), (V{"a", "b"}));
}

TEST(RespInlineTest, SingleQuotes) {
  EXPECT_EQ(Split(R"('it\'s')"), V{"it's"});
  EXPECT_EQ(Split(R"('a\nb\\c')"), V{R"(a\nb\\c)"});  // no other escapes
  EXPECT_EQ(Split(R"('a\\')"), V{"<unbalanced>"});    // \' is a quote, not the end
  EXPECT_EQ(Split("'a \"b' c"), (V{"a \"b", "c"}));
}

TEST(RespInlineTest, Unbalanced) {
  EXPECT_EQ(Split("\"abc"), V{"<unbalanced>"});
  EXPECT_EQ(Split("'abc"), V{"<unbalanced>"});
  EXPECT_EQ(Split("\"a\"b"), V{"<unbalanced>"});  // a closing quote needs a blank after it
  EXPECT_EQ(Split("'a'b"), V{"<unbalanced>"});
  EXPECT_EQ(Split("\"abc\\"), V{"<unbalanced>"});
  EXPECT_EQ(Split("x \"a\\\""), V{"<unbalanced>"});
}

TEST(RespInlineTest, LineEndsAtNul) {
  EXPECT_EQ(Split(std::string_view("a\0b c", 5)), V{"a"});
  EXPECT_EQ(Split(std::string_view("\"a\0b\"", 5)), V{"<unbalanced>"});
}

TEST(RespInlineTest, TooManyArgs) {
  EXPECT_EQ(Split("a b c", 3), (V{"a", "b", "c"}));
  EXPECT_EQ(Split("a b c d", 3), V{"<too many>"});
  EXPECT_EQ(Split("a b c   ", 3), (V{"a", "b", "c"}));
}

}  // namespace
}  // namespace ctxstore::protocol
