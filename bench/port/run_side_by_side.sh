#!/usr/bin/env bash
# Our `videoprism bench` and the PyTorch port (github.com/Skovorp/torch_videoprism,
# eager, on Debian's python3-torch) on the same shapes, threads, dtype (float32)
# and environment, in one run; prints a table and JSON lines with the ratio.
#
#   bash bench/port/run_side_by_side.sh [--isa native|avx2] [--threads 2]
#        [--frames 16] [--size 288] [--runs 3] [--rounds 1] [--model B|L]
#        [--blas-core auto|keep] [--omp-wait passive|default] [--f32-gemm onednn|openblas]
#
# --isa avx2       both run as on an AVX2-only CPU (scripts/isa-cap.sh: oneDNN,
#                  ATen, OpenBLAS Haswell kernels, and our own dispatch).
# --blas-core auto (default) when OPENBLAS_CORETYPE is unset, set it for both to
#                  the core type of this CPU: SkylakeX with AVX-512, Haswell with
#                  AVX2 only or under --isa avx2 (Debian's OpenBLAS 0.3.21 takes
#                  CPUs newer than it knows for a Pentium 4, "Prescott").
#                  keep: leave it as it is (our CLI still picks one for itself;
#                  the port gets what OpenBLAS detects).
# --f32-gemm       our float32 projection and attention GEMMs: onednn (default,
#                  packed weights and fused epilogues) or openblas (libtorch's
#                  BLAS, the same GEMMs the port calls).
# --omp-wait passive (default) OMP_WAIT_POLICY=PASSIVE for both, as our CLI sets
#                  for itself: OpenMP threads that spin after each parallel
#                  region fight OpenBLAS's threads (and, on a shared machine,
#                  everyone else) for the cores. default: libgomp's default for
#                  both (VIDEOPRISM_KEEP_OMP_WAIT=1 for ours).
#
# Variables: VIDEOPRISM_BIN (default build/videoprism of this checkout),
# VIDEOPRISM_GOLDEN_DIR (default ../shared/golden: a parity check of the port first),
# TORCH_VIDEOPRISM_DIR (default bench/port/torch_videoprism, git-ignored: the
# port is never part of this repository). python3-torch is installed with apt
# when missing (needs root or sudo).
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${VIDEOPRISM_BIN:-$root/build/videoprism}"
port="${TORCH_VIDEOPRISM_DIR:-$root/bench/port/torch_videoprism}"
isa=native threads=2 frames=16 size=288 runs=3 rounds=1 model=B blas_core=auto omp_wait=passive f32_gemm=onednn

die() { echo "run_side_by_side: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  if [ "$1" = -h ] || [ "$1" = --help ]; then
    sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"
    exit 0
  fi
  [ $# -ge 2 ] || die "$1 expects a value"
  case "$1" in
    --isa) isa=$2 ;;
    --threads) threads=$2 ;;
    --frames) frames=$2 ;;
    --size) size=$2 ;;
    --runs) runs=$2 ;;
    --rounds) rounds=$2 ;;
    --model) model=$2 ;;
    --blas-core) blas_core=$2 ;;
    --omp-wait) omp_wait=$2 ;;
    --f32-gemm) f32_gemm=$2 ;;
    *) die "unknown option '$1' (expected --isa, --threads, --frames, --size, --runs, --rounds, --model, --blas-core, --omp-wait, --f32-gemm)" ;;
  esac
  shift 2
done
case "$isa" in native | avx2) ;; *) die "--isa: expected native or avx2, got '$isa'" ;; esac
case "$model" in B | L) ;; *) die "--model: expected B or L, got '$model'" ;; esac
case "$blas_core" in auto | keep) ;; *) die "--blas-core: expected auto or keep, got '$blas_core'" ;; esac
case "$omp_wait" in passive | default) ;; *) die "--omp-wait: expected passive or default, got '$omp_wait'" ;; esac
case "$f32_gemm" in onednn | openblas) ;; *) die "--f32-gemm: expected onednn or openblas, got '$f32_gemm'" ;; esac
for pair in "threads:$threads" "frames:$frames" "size:$size" "runs:$runs" "rounds:$rounds"; do
  [[ "${pair#*:}" =~ ^[1-9][0-9]*$ ]] || die "--${pair%%:*}: expected a positive integer, got '${pair#*:}'"
done
[ $((size % 18)) -eq 0 ] || die "--size: expected a multiple of the patch size 18, got $size"

[ -x "$bin" ] || die "our binary '$bin' is missing: build it (bash scripts/build.sh) or set VIDEOPRISM_BIN"
[ -f "$port/torch_videoprism/model.py" ] ||
  die "the port is not at '$port' (torch_videoprism/model.py missing): git clone https://github.com/Skovorp/torch_videoprism bench/port/torch_videoprism, or set TORCH_VIDEOPRISM_DIR"

# Debian's PyTorch for the port (big, so not in scripts/setup.sh's list).
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "run_side_by_side: installing python3-torch" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends python3-torch
fi

# One environment for both sides.
# shellcheck source=../../scripts/isa-cap.sh
source "$root/scripts/isa-cap.sh" "$isa"  # avx2: sets OPENBLAS_CORETYPE=Haswell too
if [ "$blas_core" = auto ] && [ -z "${OPENBLAS_CORETYPE:-}" ]; then
  if grep -qw avx512f /proc/cpuinfo; then
    export OPENBLAS_CORETYPE=SkylakeX
  elif grep -qw avx2 /proc/cpuinfo; then
    export OPENBLAS_CORETYPE=Haswell
  fi
fi
if [ "$omp_wait" = passive ]; then
  export OMP_WAIT_POLICY=PASSIVE
else
  unset OMP_WAIT_POLICY
  export VIDEOPRISM_KEEP_OMP_WAIT=1
fi
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"

echo "run_side_by_side: CPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); ISA $isa;" \
  "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)}; OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-(libgomp default)};" \
  "threads $threads; ours: $bin; port: $port" >&2
# The port computes what the official code does: its own Flax converter loads a
# golden case (../shared/golden, where present) and its output is compared
# (our suite holds ours to the same fixtures: GoldenParity tests).
golden="${VIDEOPRISM_GOLDEN_DIR:-$root/../shared/golden}/encoder_tiny"
if [ -f "$golden/params.npz" ]; then
  /usr/bin/python3 "$root/bench/port/side_by_side.py" --port "$port" --bin "$bin" --parity "$golden" ||
    echo "run_side_by_side: the parity check on $golden failed (above); timings follow anyway" >&2
fi
exec /usr/bin/python3 "$root/bench/port/side_by_side.py" --bin "$bin" --port "$port" --isa "$isa" \
  --model "$model" --threads "$threads" --frames "$frames" --size "$size" --runs "$runs" --rounds "$rounds" \
  --f32-gemm "$f32_gemm"
