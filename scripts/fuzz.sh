#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang with AddressSanitizer and
# UndefinedBehaviorSanitizer) in build-fuzz/ and runs each one for a bounded
# time on a copy of its seed corpus (fuzz/corpus/<target>). Fails on any
# crash, leak, timeout or sanitizer report, and says how to reproduce it.
# Usage: [CTXSTORE_FUZZ_SECONDS=60] [BUILD_DIR=build-fuzz] scripts/fuzz.sh [target...]
# Crash inputs go to $BUILD_DIR/fuzz-artifacts/, the grown corpora to
# $BUILD_DIR/fuzz-corpus/ (both outside the repository).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

build_dir="${BUILD_DIR:-build-fuzz}"
seconds="${CTXSTORE_FUZZ_SECONDS:-60}"
targets=("$@")
if ((${#targets[@]} == 0)); then targets=(frame_fuzzer record_fuzzer recovery_fuzzer); fi

# RelWithDebInfo without -DNDEBUG at -O1: the engine's asserts stay on.
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DCTXSTORE_FUZZ=ON -DCTXSTORE_BUILD_TESTS=OFF -DCTXSTORE_SANITIZE=address,undefined >/dev/null
cmake --build "$build_dir" --target "${targets[@]}"

artifacts="$build_dir/fuzz-artifacts"
mkdir -p "$artifacts"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

failed=()
for target in "${targets[@]}"; do
  corpus="$build_dir/fuzz-corpus/$target"
  rm -rf "$corpus"
  mkdir -p "$corpus"
  cp fuzz/corpus/"$target"/* "$corpus"/
  log="$build_dir/fuzz-$target.log"
  echo "== $target: ${seconds}s (log: $log)" >&2
  # -max_len: the recovery seeds are whole segment files (up to ~80 KiB).
  # -timeout: one input that runs for seconds is a hang worth a report.
  if "$build_dir/fuzz/$target" -max_total_time="$seconds" -max_len=131072 -timeout=25 \
    -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$artifacts/$target-" \
    "$corpus" >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units' "$log" >&2 || true
  else
    failed+=("$target")
    grep -E 'ERROR|SUMMARY|fuzz check failed|runtime error|Assertion' "$log" | head -20 >&2 || true
    crash="$(grep -oE "Test unit written to \S+" "$log" | tail -1 | awk '{print $NF}')"
    echo "!! $target failed; whole report in $log" >&2
    if [[ -n "$crash" ]]; then
      echo "!! reproduce with: $build_dir/fuzz/$target $crash" >&2
    fi
  fi
done

if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets ran ${seconds}s each without a finding" >&2
