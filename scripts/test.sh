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
if [ -d build/python/videoprism ]; then  # the same through the Python package
  PYTHONPATH=build/python PYTHONDONTWRITEBYTECODE=1 VP_SHARED_DIR=../shared /usr/bin/python3 -m pytest -q -s \
    -p no:cacheprovider tests/python/test_golden.py -k forward | grep -oE '\[parity.*|[0-9]+ (passed|failed).*'
fi
cd build
ctest --output-on-failure -j 1 "$@"
