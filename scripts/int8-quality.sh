#!/usr/bin/env bash
# The int8 quality study of docs/int8.md: how far `--dtype int8` moves the
# outputs from float32.
#
#   bash scripts/int8-quality.sh [OUT_DIR] [DEMO_DIR]
#
# 1. VideoPrism-B and LvT-B with random weights (`videoprism init`) on the
#    real clip (../shared/assets) at 16x288x288: cosine of every output, int8
#    against float32 (`videoprism compare`).
# 2. With DEMO_DIR (the --out of a `videoprism demo` run): its trained
#    (aligned stage-2, else stage-1) model's zero-shot accuracy and text-video retrieval on its held-out
#    corpus, float32 and int8 (`videoprism eval`).
# Threads: THREADS (default 2). Prints JSON lines; writes them to OUT_DIR too.
set -euo pipefail
cd "$(dirname "$0")/.."
VP=${VP:-build/videoprism}
OUT=${1:-int8-quality}
DEMO=${2:-}
THREADS=${THREADS:-2}
SHARED=${SHARED:-../shared}
mkdir -p "$OUT"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), ISA cap: ${ONEDNN_MAX_CPU_ISA:-none}" |
  tee "$OUT/cpu.txt"

# The clip as the model's `inputs` [1, 16, 288, 288, 3].
"$VP" frames "$SHARED/assets/water_bottle_drumming.mp4" --frames 16 --size 288 --out "$OUT/clip.npy" >/dev/null
/usr/bin/python3 - "$OUT" <<'EOF'
import sys, numpy as np
out = sys.argv[1]
clip = np.load(f"{out}/clip.npy").astype(np.float32)
clip = clip.reshape((-1,) + clip.shape[-4:])[:1]  # [1, T, S, S, 3]
np.savez(f"{out}/inputs.npz", inputs=clip)
EOF

for preset in videoprism_public_v1_base videoprism_lvt_public_v1_base; do
  [ -f "$OUT/$preset.npz" ] || "$VP" init --model "$preset" --seed 0 --out "$OUT/$preset.npz" >/dev/null
  for dtype in f32 int8; do
    "$VP" forward --model "$preset" --checkpoint "$OUT/$preset.npz" --inputs "$OUT/inputs.npz" \
      --out "$OUT/$preset.$dtype.npz" --dtype "$dtype" --threads "$THREADS" >/dev/null
  done
  echo "# $preset (random weights), int8 vs f32 on the clip"
  "$VP" compare "$OUT/$preset.int8.npz" "$OUT/$preset.f32.npz" | sed "s/^{/{\"model\":\"$preset\",/" |
    tee -a "$OUT/cosines.jsonl"
done

if [ -n "$DEMO" ]; then
  # The aligned stage-2 model (the demo's zero-shot head), else stage 1's.
  ckpt=$(ls "$DEMO"/runs/align/model.npz "$DEMO"/runs/stage1/model.npz 2>/dev/null | head -1 || true)
  [ -n "$ckpt" ] || { echo "int8-quality: no $DEMO/runs/align/model.npz or runs/stage1/model.npz" >&2; exit 2; }
  echo "trained model: $ckpt"
  tokenizer=${TOKENIZER:-$SHARED/assets/test_spm.model}
  for dtype in f32 int8; do
    for task in class direction; do
      "$VP" eval zeroshot --checkpoint "$ckpt" --tokenizer "$tokenizer" --data "$DEMO/corpus/eval_test.jsonl" \
        --task "$task" --templates simple --dtype "$dtype" --threads "$THREADS" --out "$OUT/zeroshot.$task.$dtype.json" \
        >/dev/null
      echo "{\"dtype\":\"$dtype\",\"task\":\"$task\",\"zeroshot\":$(cat "$OUT/zeroshot.$task.$dtype.json")}" |
        tee -a "$OUT/trained.jsonl"
    done
    "$VP" eval retrieval --checkpoint "$ckpt" --tokenizer "$tokenizer" --data "$DEMO/corpus/retrieval.jsonl" \
      --dtype "$dtype" --threads "$THREADS" --out "$OUT/retrieval.$dtype.json" >/dev/null
    echo "{\"dtype\":\"$dtype\",\"retrieval\":$(cat "$OUT/retrieval.$dtype.json")}" | tee -a "$OUT/trained.jsonl"
  done
fi
