#!/usr/bin/env bash
# Installs every build and run dependency of videoprism.cpp from Debian 12 packages.
# Idempotent: installs only what is missing. Needs root (or sudo).
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git
  libtorch-dev libgloo-dev libopenblas0-pthread
  libzip-dev zlib1g-dev
  nlohmann-json3-dev libcli11-dev libutf8proc-dev
  libsentencepiece-dev
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev
  libfaiss-dev libsqlite3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  dataset-fashion-mnist gnuplot-nox
  ffmpeg ccache
  clang libclang-rt-14-dev
  python3-dev pybind11-dev python3-pybind11 python3-numpy python3-pytest
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
