#!/usr/bin/env bash
# Installs every build and run dependency of videoprism.cpp from Debian 12 packages.
# Idempotent: installs only what is missing. Needs root (or sudo).
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git
  libtorch-dev libgloo-dev libopenblas0-pthread libdnnl-dev
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
  # videoprism serve: the HTTP server; its browser test (headless Chromium, puppeteer-core from npm)
  libcpp-httplib-dev chromium nodejs
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm: Debian's package, unless the installed nodejs already brings its own npm
# (NodeSource's nodejs provides and conflicts with Debian's npm).
command -v npm >/dev/null 2>&1 || missing+=(npm)

# The browser test's npm packages (tests/browser), installed from its lock file.
npm_ci() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
  if [ -f "$dir/package-lock.json" ] && [ ! -d "$dir/node_modules" ]; then
    echo "setup: npm ci in tests/browser"
    (cd "$dir" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
  fi
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PKGS[@]} packages present"
  npm_ci
  exit 0
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
npm_ci
