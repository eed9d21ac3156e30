#!/usr/bin/env bash
# Runs the Python package's tests against the build tree BUILD_DIR (its
# python/ folder and its ctxstore binary), with Debian's /usr/bin/python3.
# pytest's exit 5 (no tests collected) is a failure, not a pass.
# Usage: tests/python/run_pytest.sh BUILD_DIR [pytest arguments]
set -uo pipefail
build_dir="$(cd "$1" && pwd)"
shift
cd "$(dirname "$0")"
env PYTHONPATH="$build_dir/python" CTXSTORE_PYTHONPATH="$build_dir/python" PYTHONNOUSERSITE=1 \
  PYTHONDONTWRITEBYTECODE=1 CTXSTORE_BINARY="$build_dir/ctxstore" \
  /usr/bin/python3 -m pytest -c pytest.ini "$@" .
rc=$?
if ((rc == 5)); then
  echo "run_pytest.sh: pytest collected no tests" >&2
  exit 1
fi
exit $rc
