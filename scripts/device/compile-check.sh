#!/usr/bin/env bash
# Runs HERE, without a GPU: compiles what only the CUDA build compiles, so a
# typo does not cost a device session its build.
#   - src/cuda/*.cu with nvcc for sm_90 (needs a CUDA toolkit: CUDA_HOME,
#     default /usr/local/cuda; skipped with a note if there is none);
#   - every C++ source with CUDA-only code (src/cuda/*.cc, the layers and CLI
#     files under VIDEOPRISM_HAVE_CUDA, tests/test_cuda.cc), syntax only, with
#     VIDEOPRISM_HAVE_CUDA defined, against Debian's libtorch headers (which
#     ship ATen/cuda and c10/cuda) and the toolkit's headers.
# Debian's libtorch is 1.13 and the GPU machine's 2.x: an API that differs
# between them can still fail there; this catches the rest.
# Exit status: 1 if anything failed to compile.
set -uo pipefail
cd "$(dirname "$0")/../.."
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
NVCC=$CUDA_HOME/bin/nvcc
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# Debian's c10/cuda headers include a CMake-generated file they do not ship.
mkdir -p "$TMP/include/c10/cuda/impl"
echo '#pragma once' > "$TMP/include/c10/cuda/impl/cuda_cmake_macros.h"
status=0

if [ -x "$NVCC" ]; then
  for f in src/cuda/*.cu; do
    if "$NVCC" -std=c++17 -arch=sm_90 --expt-relaxed-constexpr -I src -c "$f" -o "$TMP/$(basename "$f").o"; then
      echo "ok   $f (nvcc)"
    else
      echo "FAIL $f (nvcc)"; status=1
    fi
  done
else
  echo "note: no nvcc at $NVCC; .cu files not checked"
fi

INC=(-I src -I include -I cli -I tests -I /usr/include/torch/csrc/api/include -I "$CUDA_HOME/include" -I "$TMP/include")
DEFS=(-DVIDEOPRISM_HAVE_CUDA=1 -DVP_SHARED_DIR='"../shared"' -DVP_CLI_PATH='"videoprism"'
      -DVP_DEFAULT_TOKENIZER='"test_spm.model"')
for f in src/cuda/*.cc $(grep -l VIDEOPRISM_HAVE_CUDA src/*/*.cc cli/*.cc tests/*.cc | grep -v '^src/cuda/'); do
  if g++ -std=c++17 -fsyntax-only "${DEFS[@]}" "${INC[@]}" "$f"; then
    echo "ok   $f (g++ -fsyntax-only)"
  else
    echo "FAIL $f (g++ -fsyntax-only)"; status=1
  fi
done
exit $status
