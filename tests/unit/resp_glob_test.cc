// GlobMatch: Redis's stringmatchlen cases, a cross-check against a direct
// (backtracking) port of Redis's rules on short inputs, and pathological
// patterns over 64 KiB in bounded time.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>
#include <string_view>

#include "protocol/resp_glob.h"

namespace ctxstore::protocol {
namespace {

// Redis's recursive rules, written plainly (exponential: short inputs only).
bool Reference(std::string_view p, std::string_view s) {
  if (p.empty()) return s.empty();
  if (p[0] == '*') {
    for (size_t i = 0; i <= s.size(); ++i) {
      if (Reference(p.substr(1), s.substr(i))) return true;
    }
    return false;
  }
  if (s.empty()) return false;
  size_t used = 1;
  bool ok = false;
  if (p[0] == '?') {
    ok = true;
  } else if (p[0] == '[') {
    size_t i = 1;
    const bool negate = i < p.size() && p[i] == '^';
    if (negate) ++i;
    for (; i < p.size() && p[i] != ']'; ++i) {
      if (p[i] == '\\' && i + 1 < p.size()) {
        ok |= p[++i] == s[0];
      } else if (i + 2 < p.size() && p[i + 1] == '-') {
        int lo = static_cast<signed char>(p[i]), hi = static_cast<signed char>(p[i + 2]);
        if (lo > hi) std::swap(lo, hi);
        const int c = static_cast<signed char>(s[0]);
        ok |= c >= lo && c <= hi;
        i += 2;
      } else {
        ok |= p[i] == s[0];
      }
    }
    if (negate) ok = !ok;
    used = i < p.size() ? i + 1 : p.size();
  } else if (p[0] == '\\' && p.size() >= 2) {
    ok = p[1] == s[0];
    used = 2;
  } else {
    ok = p[0] == s[0];
  }
  return ok && Reference(p.substr(used), s.substr(1));
}

TEST(RespGlobTest, RedisCases) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("", ""));
  EXPECT_FALSE(GlobMatch("", "a"));
  EXPECT_TRUE(GlobMatch("h?llo", "hello"));
  EXPECT_FALSE(GlobMatch("h?llo", "hllo"));
  EXPECT_TRUE(GlobMatch("h*llo", "heeeello"));
  EXPECT_TRUE(GlobMatch("h*llo", "hllo"));
  EXPECT_TRUE(GlobMatch("h[ae]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[ae]llo", "hillo"));
  EXPECT_TRUE(GlobMatch("h[^e]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[^e]llo", "hello"));
  EXPECT_TRUE(GlobMatch("h[a-b]llo", "hbllo"));
  EXPECT_TRUE(GlobMatch("h[b-a]llo", "hallo"));  // a range's ends in either order
  EXPECT_FALSE(GlobMatch("h[a-b]llo", "hcllo"));
  EXPECT_TRUE(GlobMatch("\\*", "*"));
  EXPECT_FALSE(GlobMatch("\\*", "a"));
  EXPECT_TRUE(GlobMatch("a\\", "a\\"));  // a '\' at the end is literal
  EXPECT_TRUE(GlobMatch("[\\]]", "]"));
  EXPECT_FALSE(GlobMatch("[a-]", "-"));  // Redis reads "a-]" as a range, then an open class
  EXPECT_TRUE(GlobMatch("[-a]", "-"));
  EXPECT_TRUE(GlobMatch("x[a", "xa"));  // an open class ends with the pattern
  EXPECT_FALSE(GlobMatch("x[a", "xb"));
  EXPECT_FALSE(GlobMatch("[", "["));
  EXPECT_TRUE(GlobMatch("[^", "q"));
  EXPECT_TRUE(GlobMatch("user:*:name", "user:42:name"));
  EXPECT_FALSE(GlobMatch("user:*:name", "user:42:names"));
  EXPECT_TRUE(GlobMatch("a**b*", "ab"));
  EXPECT_TRUE(GlobMatch(std::string_view("a\0*", 3), std::string_view("a\0zz", 4)));
}

TEST(RespGlobTest, NoCase) {
  EXPECT_TRUE(GlobMatch("MaxMemory*", "maxmemory-policy", true));
  EXPECT_FALSE(GlobMatch("MaxMemory*", "maxmemory-policy", false));
  EXPECT_TRUE(GlobMatch("[A-C]x", "bX", true));
}

TEST(RespGlobTest, MatchesTheReferenceOnShortInputs) {
  std::mt19937 rng(19);
  const std::string pattern_bytes = "ab*?[]^-\\";
  const std::string text_bytes = "ab-]\\*";
  for (int i = 0; i < 200000; ++i) {
    std::string p(rng() % 9, ' ');
    for (char& c : p) c = pattern_bytes[rng() % pattern_bytes.size()];
    std::string s(rng() % 8, ' ');
    for (char& c : s) c = text_bytes[rng() % text_bytes.size()];
    ASSERT_EQ(GlobMatch(p, s), Reference(p, s)) << "pattern '" << p << "' text '" << s << "'";
  }
}

TEST(RespGlobTest, PathologicalPatternsInBoundedTime) {
  std::string stars;
  while (stars.size() <= (64u << 10)) stars += "*a";
  const std::string text(70000, 'a');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(GlobMatch(stars + "b", text));
  EXPECT_TRUE(GlobMatch(stars.substr(0, 2 * 30000), text));
  EXPECT_FALSE(GlobMatch(stars, std::string(30000, 'a')));  // more a's wanted than given
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  EXPECT_LT(ms, 2000) << "recursion would take longer than the universe";
}

}  // namespace
}  // namespace ctxstore::protocol
