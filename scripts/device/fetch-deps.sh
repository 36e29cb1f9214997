#!/usr/bin/env bash
# Runs HERE, on Debian 12 with apt: gathers under .device/ (ignored by git;
# carry it to the GPU machine) what scripts/device/build.sh needs there, where
# there is no network and no apt:
#   .device/debs/          the Debian packages the VIDEOPRISM_MINIMAL build needs
#                          (libzip, nlohmann_json, CLI11, and pkg-config in case
#                          the image has none), extracted there with dpkg -x;
#   .device/debs-runtime/  libzip4's own run-time dependencies, a fallback used
#                          only if the image lacks one of them;
#   .device/shared/        golden fixtures and assets (the GPU machine has no ../shared).
# Needs root (or sudo) only if the apt lists must be refreshed.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${SHARED:-../shared}
DEV=.device

BUILD_DEBS=(libzip4 libzip-dev nlohmann-json3-dev libcli11-dev pkgconf pkgconf-bin libpkgconf3)
# libzip4 (1.7.3) depends on libbz2-1.0, libssl3 and zlib1g (and libc6).
RUNTIME_DEBS=(libbz2-1.0 libssl3 zlib1g)

download() {  # download DIR PKG...: the candidate .deb of each package into DIR
  local dir=$1; shift
  rm -rf "$dir"; mkdir -p "$dir"
  # apt-get download as root warns that it runs unsandboxed; harmless.
  if ! (cd "$dir" && apt-get download -q "$@" 2>/dev/null); then
    echo "fetch-deps: refreshing the apt lists"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    (cd "$dir" && apt-get download -q "$@")
  fi
}

download "$DEV/debs" "${BUILD_DEBS[@]}"
download "$DEV/debs-runtime" "${RUNTIME_DEBS[@]}"

rm -rf "$DEV/shared"; mkdir -p "$DEV/shared"
cp -a "$SHARED/golden" "$SHARED/assets" "$DEV/shared/"

ls -l "$DEV/debs" "$DEV/debs-runtime"
du -sh "$DEV/debs" "$DEV/debs-runtime" "$DEV/shared"
total_kb=$(du -sk "$DEV" | cut -f1)
echo "fetch-deps: .device is $((total_kb / 1024)) MiB ($total_kb KiB)"
if [ "$total_kb" -gt $((40 * 1024)) ]; then
  echo "fetch-deps: .device is over 40 MiB" >&2
  exit 1
fi
