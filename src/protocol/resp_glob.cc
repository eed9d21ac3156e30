#include "protocol/resp_glob.h"

#include <cstddef>
#include <utility>

namespace ctxstore::protocol {
namespace {

// Redis compares bytes as (signed, on x86) chars: the same here, so that a
// range such as [\x01-\xff] means what it means to Redis.
int Byte(char c, bool nocase) {
  if (nocase && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return static_cast<signed char>(c);
}

// A class starting at pattern[p] == '['. Returns whether c matches it, and
// sets *next to the index after the class.
bool MatchClass(std::string_view pattern, size_t p, char c, bool nocase, size_t* next) {
  const size_t m = pattern.size();
  const int ch = Byte(c, nocase);
  ++p;
  const bool negate = p < m && pattern[p] == '^';
  if (negate) ++p;
  bool match = false;
  while (p < m && pattern[p] != ']') {
    if (pattern[p] == '\\' && p + 1 < m) {
      ++p;  // Redis compares an escaped byte exactly, even with nocase
      if (pattern[p] == c) match = true;
    } else if (p + 2 < m && pattern[p + 1] == '-') {
      int lo = Byte(pattern[p], nocase);
      int hi = Byte(pattern[p + 2], nocase);
      if (lo > hi) std::swap(lo, hi);
      if (ch >= lo && ch <= hi) match = true;
      p += 2;
    } else if (Byte(pattern[p], nocase) == ch) {
      match = true;
    }
    ++p;
  }
  *next = p < m ? p + 1 : m;  // past the ']', or the end of an open class
  return negate ? !match : match;
}

// One non-'*' token at pattern[p] against byte c.
bool MatchOne(std::string_view pattern, size_t p, char c, bool nocase, size_t* next) {
  switch (pattern[p]) {
    case '?':
      *next = p + 1;
      return true;
    case '[':
      return MatchClass(pattern, p, c, nocase, next);
    case '\\':
      if (p + 1 < pattern.size()) ++p;
      [[fallthrough]];
    default:
      *next = p + 1;
      return Byte(pattern[p], nocase) == Byte(c, nocase);
  }
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase) {
  constexpr size_t kNoStar = static_cast<size_t>(-1);
  size_t p = 0;
  size_t t = 0;
  size_t star_p = kNoStar;  // the token after the latest '*'
  size_t star_t = 0;        // where the text stood when that '*' took nothing
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      while (p < pattern.size() && pattern[p] == '*') ++p;
      if (p == pattern.size()) return true;
      star_p = p;
      star_t = t;
      continue;
    }
    size_t next = 0;
    if (p < pattern.size() && MatchOne(pattern, p, text[t], nocase, &next)) {
      p = next;
      ++t;
      continue;
    }
    if (star_p == kNoStar) return false;
    p = star_p;  // the latest '*' takes one byte more
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace ctxstore::protocol
