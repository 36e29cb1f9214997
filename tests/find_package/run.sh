#!/usr/bin/env bash
# Installs the build's dev component into a scratch prefix, builds the outside
# project beside this script against it with find_package(videoprism), and
# runs it on a golden fixture.
#   bash tests/find_package/run.sh BUILD_DIR SHARED_DIR SCRATCH_DIR
set -euo pipefail
build=$(cd "$1" && pwd) shared=$(cd "$2" && pwd) scratch=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$scratch" && mkdir -p "$scratch"
cmake --install "$build" --component dev --prefix "$scratch/prefix" > "$scratch/install.log"
cmake -S "$here" -B "$scratch/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$scratch/prefix" \
  > "$scratch/configure.log" 2>&1 || { cat "$scratch/configure.log"; exit 1; }
cmake --build "$scratch/build" -j 2 > "$scratch/build.log" 2>&1 || { tail -40 "$scratch/build.log"; exit 1; }
"$scratch/build/consumer" "$shared/golden/encoder_tiny"
"$scratch/build/consumer" "$shared/golden/clip_tiny"
