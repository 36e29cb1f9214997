#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every test.
# Needs ../shared (golden fixtures and assets) beside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
# Parity first, with its achieved errors printed (ctest hides passing output).
build/videoprism_tests --gtest_filter='Golden*' | grep -E '^\[parity|PASSED|FAILED'
cd build
ctest --output-on-failure -j 1 "$@"
cd ..
# The sanitizer (ASan+UBSan) build, its tests and a short run of every fuzz
# target (docs/fuzzing.md); SANITIZE=0 skips it.
if [ "${SANITIZE:-1}" != 0 ]; then
  bash scripts/sanitize.sh
fi
