// Redis glob patterns (KEYS, SCAN MATCH, CONFIG GET), as Redis's
// stringmatchlen (redis 7.0) matches them:
//   *        any run of bytes, also none
//   ?        any one byte
//   [abc]    one of the listed bytes; [^abc] none of them; [a-z] a range
//            (its ends in either order); \x in a class is a literal x; a
//            class left open at the end of the pattern ends there
//   \x       a literal x (a '\' at the very end is a literal '\')
// Anything else matches itself. nocase folds ASCII letters (CONFIG GET).
//
// Why not Redis's recursion: it backtracks, and a pattern such as "*a*a*a..b"
// from a client could make it work exponentially long (Redis added a cutoff
// for that). Here one pass with the classic two-pointer algorithm: on a
// mismatch, go back only to the latest '*' and let it take one byte more.
// Every token but '*' matches exactly one byte, which makes the latest '*'
// the only one worth retrying. Work is at most O(pattern x text) steps, and
// O(pattern + text) for most patterns. Pure: no allocation, no state.
#pragma once

#include <string_view>

namespace ctxstore::protocol {

bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase = false);

}  // namespace ctxstore::protocol
