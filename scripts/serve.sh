#!/usr/bin/env bash
# Quick start: set up, build, and run the store with `ctxstore serve`'s
# defaults (`build/ctxstore serve --help` lists them); arguments are passed
# on to serve.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
exec build/ctxstore serve "$@"
