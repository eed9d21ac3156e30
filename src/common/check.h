// Invariant checks, after TigerBeetle's assertions: a broken invariant on
// the data path (a record about to be written that does not parse back, an
// allocator handing out the same bytes twice) stops the process at once
// rather than let it write or serve wrong bytes.
//
//   CTX_CHECK(cond)   on in every build, Release included. For O(1) checks;
//                     the cost of all of them together is measured by the
//                     benchmark (docs/benchmarks.md) and stays under 2%.
//   CTX_DCHECK(cond)  only in builds without NDEBUG (the sanitizer passes,
//                     the fuzzers): for checks that cost as much as the work
//                     they check, such as hashing a value a second time.
//
// A failed check prints file, line and the condition, then aborts. There
// is no bare assert() in src/.
#pragma once

namespace ctxstore::internal {

[[noreturn]] void CheckFailed(const char* file, int line, const char* condition) noexcept;

}  // namespace ctxstore::internal

#define CTX_CHECK(cond)                                             \
  do {                                                              \
    if (__builtin_expect(!(cond), 0)) {                             \
      ::ctxstore::internal::CheckFailed(__FILE__, __LINE__, #cond); \
    }                                                               \
  } while (0)

#ifdef NDEBUG
// Not evaluated, but still compiled, so that it cannot rot.
#define CTX_DCHECK(cond)   \
  do {                     \
    (void)sizeof(!(cond)); \
  } while (0)
#else
#define CTX_DCHECK(cond) CTX_CHECK(cond)
#endif
