#!/usr/bin/env bash
# Configures and builds ctxstore in build/ (Release by default).
# Usage: [BUILD_TYPE=...] [BUILD_DIR=...] scripts/build.sh [extra cmake -D options]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build_dir="${BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" "$@" >/dev/null
cmake --build "$build_dir"
