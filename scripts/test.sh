#!/usr/bin/env bash
# Set up, build (Release, warnings as errors) and run the whole test suite;
# then build again with AddressSanitizer and UndefinedBehaviorSanitizer
# (asserts on) and run the whole suite once more.
# CTXSTORE_SANITIZERS=0 skips the sanitizer pass (a quicker local run).
# Extra arguments go to both ctest runs (e.g. -R EngineTest).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="$(nproc)"
scripts/build.sh -DCTXSTORE_WERROR=ON
ctest --test-dir build --output-on-failure -j "$jobs" "$@"

if [[ "${CTXSTORE_SANITIZERS:-1}" != 0 ]]; then
  echo "== the same suite under AddressSanitizer + UndefinedBehaviorSanitizer" >&2
  # -O1 keeps the sanitized tests fast enough; RelWithDebInfo without
  # -DNDEBUG keeps assert() on. Warnings are errors in the first build only:
  # g++ 12 reports a false -Wmismatched-new-delete in asio's coroutine frames
  # when it instruments them.
  BUILD_TYPE=RelWithDebInfo BUILD_DIR=build-asan scripts/build.sh -DCTXSTORE_WERROR=OFF \
    -DCTXSTORE_SANITIZE=address,undefined -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" "$@"
fi
