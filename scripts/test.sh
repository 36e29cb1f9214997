#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every test.
# Needs ../shared (golden fixtures and assets) beside the checkout.
#   bash scripts/test.sh [--isa avx2] [ctest arguments...]
# --isa avx2 runs the suite as an AVX2-only CPU computes it (scripts/isa-cap.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
isa=native
if [ "${1:-}" = "--isa" ]; then
  isa=${2:?"test.sh: --isa expects avx2 or native"}
  shift 2
fi
bash scripts/setup.sh
bash scripts/build.sh
# shellcheck source=isa-cap.sh
source scripts/isa-cap.sh "$isa"
echo "test.sh: CPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); ISA: $isa" \
  "(ATEN_CPU_CAPABILITY=${ATEN_CPU_CAPABILITY:-auto} ONEDNN_MAX_CPU_ISA=${ONEDNN_MAX_CPU_ISA:-auto} OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-auto})"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
# Parity first, with its achieved errors printed (ctest hides passing output).
build/videoprism_tests --gtest_filter='Golden*' | grep -E '^\[parity|PASSED|FAILED'
if [ -d build/python/videoprism ]; then  # the same through the Python package
  PYTHONPATH=build/python PYTHONDONTWRITEBYTECODE=1 VP_SHARED_DIR=../shared /usr/bin/python3 -m pytest -q -s \
    -p no:cacheprovider tests/python/test_golden.py -k forward | grep -oE '\[parity.*|[0-9]+ (passed|failed).*'
fi
cd build
ctest --output-on-failure -j 1 "$@"
cd ..
# The sanitizer (ASan+UBSan) build, its tests and a short run of every fuzz
# target (docs/fuzzing.md): a second, clang build into build-asan/.
# SANITIZE=0 skips it.
if [ "${SANITIZE:-1}" = 1 ]; then
  bash scripts/sanitize.sh
fi
