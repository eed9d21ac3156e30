#!/usr/bin/env bash
# Configures and builds ctxstore in build/ (Release by default).
# Usage: [BUILD_TYPE=...] [BUILD_DIR=...] scripts/build.sh [extra cmake -D options]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build_dir="${BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" "$@" >/dev/null
cmake --build "$build_dir"
# The Python package, for /usr/bin/python3 (python/CMakeLists.txt): installed
# from the Release build only; the sanitizer builds leave it out.
if [[ "$build_dir" == build ]] && grep -q '^CTXSTORE_BUILD_PYTHON:BOOL=ON' "$build_dir/CMakeCache.txt"; then
  cmake --install "$build_dir" --component python >/dev/null
fi
