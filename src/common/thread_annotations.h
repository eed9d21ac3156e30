// Clang thread-safety annotations (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html):
// lock discipline written where the data is declared, checked at compile
// time by a Clang build with -Wthread-safety (scripts/test.sh runs one).
// Other compilers see nothing.
//
//   int hits_ GUARDED_BY(mu_);             read or written only with mu_ held
//   void EvictLocked() REQUIRES(mu_);      called only with mu_ held
//   void Close() EXCLUDES(mu_);            takes mu_ itself
//
// The engine's components are plain classes that the engine declares
// GUARDED_BY its one mutex; a component that must drop the mutex for I/O
// takes it as a parameter, REQUIRES(mu), as LevelDB's VersionSet does.
#pragma once

#if defined(__clang__)
#define CTX_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define CTX_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) CTX_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY CTX_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) CTX_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) CTX_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) CTX_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) CTX_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) CTX_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define EXCLUDES(...) CTX_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRED_BEFORE(...) CTX_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) CTX_THREAD_ANNOTATION(assert_capability(x))
#define RETURN_CAPABILITY(x) CTX_THREAD_ANNOTATION(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS CTX_THREAD_ANNOTATION(no_thread_safety_analysis)
