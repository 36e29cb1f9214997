#!/usr/bin/env bash
# The main job: installs what is missing, builds, then shows the whole system
# working on this machine with no network:
#   1. parity with the official implementation on the golden fixtures;
#   2. `videoprism demo`: a synthetic Fashion-MNIST video world, stage-1 and
#      stage-2 pre-training (plus the --no-shuffle and --no-global ablations),
#      the zero-shot head, frozen-backbone evaluation with controls, and text
#      search over the test videos; report in demo-out/report.md (~17 min on 2 cores).
# Extra arguments go to `videoprism demo` (e.g. --quick for a 2-minute smoke run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
# The Python package (docs/python.md): after this, `python3 -c "import videoprism"`
# works in a new shell (package under /usr/local/lib/videoprism/python, a .pth
# file in Debian's dist-packages).
if [ -f build/python/videoprism/__init__.py ]; then
  if cmake --install build --component python >/dev/null; then
    echo "== python: installed; try  python3 -c \"import videoprism as vp; print(vp.__version__)\" =="
  else
    echo "== python: cmake --install build --component python failed (needs root); use PYTHONPATH=build/python ==" >&2
  fi
fi
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

echo "== videoprism demo: pre-train, evaluate and search a small VideoPrism =="
$VP demo --out demo-out --tokenizer $SHARED/assets/test_spm.model "$@"
echo "report: demo-out/report.md"
