#!/usr/bin/env bash
# Set up, build (Release, warnings as errors) and run the whole test suite;
# then build again with AddressSanitizer and UndefinedBehaviorSanitizer
# (asserts on) and run the whole suite once more; then a third time under
# ThreadSanitizer (the engine's flusher and reader threads, the server's
# workers and pools, the client's connection pool; the integration tests'
# server and CLI processes run under it too).
# Right after the first pass, Clang checks the engine's lock annotations
# (-Wthread-safety). Last, the libFuzzer targets run for a bounded time each
# (scripts/fuzz.sh).
# CTXSTORE_SANITIZERS=0 skips both sanitizer passes (a quicker local run);
# CTXSTORE_ASAN=0 or CTXSTORE_TSAN=0 skips one of them; CTXSTORE_THREAD_SAFETY=0
# skips the Clang check; CTXSTORE_FUZZ=0 skips fuzzing.
# Extra arguments go to every ctest run (e.g. -R EngineTest).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="$(nproc)"

# Each phase's wall time, printed at the end, pass or fail: CI must stay
# well inside 60 minutes on 2 cores, and this says where the time goes.
phase_names=() phase_seconds=() phase_name="Release: build" phase_start=$SECONDS
phase() {
  phase_names+=("$phase_name") phase_seconds+=($((SECONDS - phase_start)))
  phase_name="$1" phase_start=$SECONDS
}
report_phases() {
  phase ""
  echo "== time per phase (total ${SECONDS} s):" >&2
  for i in "${!phase_names[@]}"; do
    printf '  %5d s  %s\n' "${phase_seconds[$i]}" "${phase_names[$i]}" >&2
  done
}
trap report_phases EXIT

scripts/build.sh -DCTXSTORE_WERROR=ON
phase "Release: tests"
ctest --test-dir build --output-on-failure -j "$jobs" "$@"
# The Python tests are one ctest entry; a build that lost it must not pass.
if ! ctest --test-dir build -N -L python | grep -q 'Total Tests: 1'; then
  echo "the Python tests (PythonTests) are not registered in build/" >&2
  exit 1
fi

if [[ "${CTXSTORE_THREAD_SAFETY:-1}" != 0 ]]; then
  phase "Clang -Wthread-safety: build of the engine"
  echo "== the engine's lock annotations under Clang's -Wthread-safety" >&2
  # Only the annotated library is built (a few minutes on 2 cores); a
  # violation of its lock discipline is a compile error.
  cmake -S . -B build-clang -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ \
    -DCTXSTORE_WERROR=ON -DCTXSTORE_THREAD_SAFETY=ON -DCTXSTORE_BUILD_TESTS=OFF \
    -DCTXSTORE_BUILD_PYTHON=OFF >/dev/null
  cmake --build build-clang --target ctxstore_engine
fi

sanitizers="${CTXSTORE_SANITIZERS:-1}"
if [[ "$sanitizers" != 0 && "${CTXSTORE_ASAN:-1}" != 0 ]]; then
  phase "ASan+UBSan: build"
  echo "== the same suite under AddressSanitizer + UndefinedBehaviorSanitizer" >&2
  # -O1 keeps the sanitized tests fast enough; RelWithDebInfo without
  # -DNDEBUG keeps assert() on; -g1 (line tables: what a report's stack
  # needs) builds faster than full debug information. The benchmark harness
  # and its tests are left out (CTXSTORE_BUILD_BENCH=OFF): a measuring tool,
  # tested in the Release pass, and a sixth of the build. Warnings are errors
  # in the first build only: g++ 12 reports a false
  # -Wmismatched-new-delete in asio's coroutine frames when it instruments
  # them.
  BUILD_TYPE=RelWithDebInfo BUILD_DIR=build-asan scripts/build.sh -DCTXSTORE_WERROR=OFF \
    -DCTXSTORE_BUILD_BENCH=OFF -DCTXSTORE_BUILD_PYTHON=OFF -DCTXSTORE_SANITIZE=address,undefined \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1"
  phase "ASan+UBSan: tests"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" "$@"
fi

if [[ "$sanitizers" != 0 && "${CTXSTORE_TSAN:-1}" != 0 ]]; then
  phase "TSan: build"
  echo "== the same suite under ThreadSanitizer" >&2
  # Same build flags as the ASan pass, for the same reasons. No
  # suppressions: every report so far was a real race or was fixed at its
  # cause.
  BUILD_TYPE=RelWithDebInfo BUILD_DIR=build-tsan scripts/build.sh -DCTXSTORE_WERROR=OFF \
    -DCTXSTORE_BUILD_BENCH=OFF -DCTXSTORE_BUILD_PYTHON=OFF -DCTXSTORE_SANITIZE=thread -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1"
  # The first race stops the process that has it (exit code 66), which
  # fails its test: a test binary directly, a server through its harness
  # (ServerProcess checks how the server exited), a CLI run through its
  # exit code. Reports go to files, one per process, so that none is lost
  # in a child's captured output; any report fails the pass.
  phase "TSan: tests"
  reports="$PWD/build-tsan/tsan-reports"
  rm -rf "$reports"
  mkdir -p "$reports"
  tsan_failed=0
  # The power-cut suite (ctest -L durability) runs in the Release and ASan
  # passes only: it asks what reaches the disk, not whether threads race,
  # and the serve code it drives runs here under the integration tests.
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$reports/report" \
    ctest --test-dir build-tsan --output-on-failure -j "$jobs" -LE durability "$@" || tsan_failed=1
  if compgen -G "$reports/report*" >/dev/null; then
    echo "== ThreadSanitizer reports:" >&2
    cat "$reports"/report* >&2
    tsan_failed=1
  fi
  if ((tsan_failed)); then exit 1; fi
fi

if [[ "${CTXSTORE_FUZZ:-1}" != 0 ]]; then
  phase "fuzzing: build and run"
  echo "== fuzzing: each target for its time (scripts/fuzz.sh)" >&2
  scripts/fuzz.sh
fi
