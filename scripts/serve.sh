#!/usr/bin/env bash
# Quick start: set up, build, and run the store with embedded defaults
# (data in ./data, 127.0.0.1:7070, 1 GiB DRAM, 4 GiB flash).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
exec build/ctxstore serve "$@"
