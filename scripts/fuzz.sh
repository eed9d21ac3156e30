#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang with AddressSanitizer and
# UndefinedBehaviorSanitizer) in build-fuzz/ and runs each one for a bounded
# time, on its committed seeds (fuzz/corpus/<target>, read only) and on the
# corpus it grew in earlier runs, kept in a cache outside the repository
# ($CTXSTORE_FUZZ_CACHE, default ${XDG_CACHE_HOME:-~/.cache}/ctxstore-fuzz/
# <target>): every run starts where the last one stopped. Prints each
# target's executions and executions per second, and fails on any crash,
# leak, timeout or sanitizer report (saying how to reproduce it), and when a
# target ran fewer executions than its floor (a target that got slow, or
# stopped running, is a failure too).
#
# Usage: scripts/fuzz.sh [--long | --minimize] [target...]
#   (default)   each target for its time (kSeconds below, about 4 minutes in
#               all; CTXSTORE_FUZZ_SECONDS=N gives every target N seconds).
#   --long      each target until it has run CTXSTORE_FUZZ_RUNS inputs
#               (default 10^7), one after another; prints the executions and
#               seconds of each (docs/security.md, "Fuzzing", records them).
#   --minimize  merges each target's cached corpus into fuzz/corpus/<target>
#               (libFuzzer -merge=1): only inputs that add coverage are added,
#               named by their SHA-1; the seeds already there keep their
#               names. Commit the result.
# BUILD_DIR (default build-fuzz). Crash inputs go to $BUILD_DIR/fuzz-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

mode=run
case "${1:-}" in
  --long) mode=long; shift ;;
  --minimize) mode=minimize; shift ;;
esac

# Per target: seconds per CI run, the floor of executions per second (about
# a quarter of what a loaded 2-core machine measured: docs/security.md), and
# the longest input (-max_len: the recovery inputs hold whole segment files).
declare -A kSeconds=([frame_fuzzer]=40 [record_fuzzer]=30 [recovery_fuzzer]=50
  [service_fuzzer]=50 [reply_fuzzer]=30 [catalog_fuzzer]=40 [resp_fuzzer]=30 [lm_fuzzer]=15)
declare -A kFloorPerSecond=([frame_fuzzer]=4000 [record_fuzzer]=30000 [recovery_fuzzer]=35
  [service_fuzzer]=35 [reply_fuzzer]=30000 [catalog_fuzzer]=700 [resp_fuzzer]=4000
  [lm_fuzzer]=20000)
declare -A kMaxLen=([frame_fuzzer]=8192 [record_fuzzer]=8192 [recovery_fuzzer]=131072
  [service_fuzzer]=32768 [reply_fuzzer]=8192 [catalog_fuzzer]=8192 [resp_fuzzer]=16384
  [lm_fuzzer]=512)

build_dir="${BUILD_DIR:-build-fuzz}"
cache="${CTXSTORE_FUZZ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ctxstore-fuzz}"
runs="${CTXSTORE_FUZZ_RUNS:-10000000}"
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(frame_fuzzer record_fuzzer recovery_fuzzer service_fuzzer reply_fuzzer catalog_fuzzer
    resp_fuzzer lm_fuzzer)
fi
for target in "${targets[@]}"; do
  if [[ -z "${kSeconds[$target]:-}" ]]; then
    echo "fuzz: unknown target $target (one of: ${!kSeconds[*]})" >&2
    exit 2
  fi
done

# RelWithDebInfo without -DNDEBUG at -O1: the engine's asserts stay on.
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DCTXSTORE_FUZZ=ON -DCTXSTORE_BUILD_TESTS=OFF -DCTXSTORE_BUILD_PYTHON=OFF \
  -DCTXSTORE_SANITIZE=address,undefined >/dev/null
cmake --build "$build_dir" --target "${targets[@]}"

artifacts="$build_dir/fuzz-artifacts"
mkdir -p "$artifacts"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

if [[ "$mode" == minimize ]]; then
  for target in "${targets[@]}"; do
    mkdir -p "$cache/$target"
    before="$(ls fuzz/corpus/"$target" | wc -l)"
    "$build_dir/fuzz/$target" -merge=1 -max_len="${kMaxLen[$target]}" -rss_limit_mb=4096 \
      fuzz/corpus/"$target" "$cache/$target" >"$build_dir/fuzz-$target-merge.log" 2>&1 || {
      echo "!! $target: merge failed; see $build_dir/fuzz-$target-merge.log" >&2
      exit 1
    }
    after="$(ls fuzz/corpus/"$target" | wc -l)"
    echo "== $target: $before -> $after seeds ($(du -sh fuzz/corpus/"$target" | cut -f1))" >&2
  done
  exit 0
fi

failed=()
summary=()
for target in "${targets[@]}"; do
  mkdir -p "$cache/$target"
  log="$build_dir/fuzz-$target.log"
  if [[ "$mode" == long ]]; then
    limit=(-runs="$runs")
    echo "== $target: $runs runs (log: $log)" >&2
  else
    seconds="${CTXSTORE_FUZZ_SECONDS:-${kSeconds[$target]}}"
    limit=(-max_total_time="$seconds")
    echo "== $target: ${seconds}s (log: $log)" >&2
  fi
  # -timeout: one input that runs for seconds is a hang worth a report.
  start="$(date +%s.%N)"
  status=0
  "$build_dir/fuzz/$target" "${limit[@]}" -max_len="${kMaxLen[$target]}" -timeout=25 \
    -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$artifacts/$target-" \
    "$cache/$target" fuzz/corpus/"$target" >"$log" 2>&1 || status=$?
  elapsed="$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
  if ((status != 0)); then
    failed+=("$target")
    grep -E 'ERROR|SUMMARY|fuzz check failed|runtime error|Assertion' "$log" | head -20 >&2 || true
    crash="$(grep -oE "Test unit written to \S+" "$log" | tail -1 | awk '{print $NF}')"
    echo "!! $target failed; whole report in $log" >&2
    if [[ -n "$crash" ]]; then
      echo "!! reproduce with: $build_dir/fuzz/$target $crash" >&2
    fi
    continue
  fi
  execs="$(grep -oE '^stat::number_of_executed_units: [0-9]+' "$log" | awk '{print $2}')"
  execs="${execs:-0}"
  corpus="$(ls "$cache/$target" | wc -l)"
  per_second="$(awk -v n="$execs" -v s="$elapsed" 'BEGIN { printf "%d", (s > 0 ? n / s : 0) }')"
  line="$(printf '%-16s %10d execs %8.1f s %8d execs/s  corpus %d' "$target" "$execs" \
    "$elapsed" "$per_second" "$corpus")"
  if [[ "$mode" == run ]]; then
    floor=$((kFloorPerSecond[$target] * seconds))
    line+="  (floor $floor)"
    if ((execs < floor)); then
      failed+=("$target")
      line+="  BELOW THE FLOOR"
    fi
  fi
  echo "   $line" >&2
  summary+=("$line")
done

echo "== fuzz: executions per target" >&2
for line in "${summary[@]}"; do echo "   $line" >&2; done
if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets ran without a finding (corpora cached in $cache)" >&2
