#!/usr/bin/env bash
# Installs ctxstore's build and test dependencies from Debian packages.
# Idempotent: installs only what is missing, so a second run is a no-op.
set -euo pipefail

PACKAGES=(
  g++ cmake ninja-build pkg-config
  libasio-dev liburing-dev libxxhash-dev libcli11-dev libspdlog-dev libfmt-dev
  nlohmann-json3-dev libtomlplusplus-dev libgtest-dev libssl-dev openssl
  libhiredis-dev redis-server redis-tools fio iperf3 gnuplot-nox
  clang libclang-rt-14-dev python3
  python3-dev pybind11-dev python3-numpy python3-pytest python3-pytest-asyncio python3-torch python3-redis
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
