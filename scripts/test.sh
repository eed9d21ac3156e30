#!/usr/bin/env bash
# Set up, build (Release, warnings as errors) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh -DCTXSTORE_WERROR=ON
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
