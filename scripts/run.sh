#!/usr/bin/env bash
# The main job: installs what is missing, builds, then runs VideoPrism end to
# end: parity with the official implementation on the golden fixtures, a tiny
# video-text checkpoint written by the project, and the speed benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
VP=build/videoprism
SHARED=../shared
OUT=${OUT:-run}
mkdir -p "$OUT"

echo "== parity with the official Flax implementation (golden fixtures, float32) =="
for case in encoder_tiny clip_tiny classifier_tiny; do
  $VP forward --config $SHARED/golden/$case/case.json --checkpoint $SHARED/golden/$case/params.npz \
    --inputs $SHARED/golden/$case/io.npz --out "$OUT/$case.npz" >/dev/null
  echo "-- $case"
  $VP compare "$OUT/$case.npz" $SHARED/golden/$case/io.npz --tolerance 1e-4
done

echo "== a tiny video-text checkpoint written by the project =="
$VP init --config $SHARED/golden/clip_tiny/case.json --seed 7 --out "$OUT/tiny_lvt.npz"
$VP info "$OUT/tiny_lvt.npz" --no-arrays

echo "== speed: VideoPrism-B, 16x288x288, batch 1, random weights =="
$VP bench --threads "$(nproc)"
