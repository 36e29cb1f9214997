#!/usr/bin/env bash
# Runs on the GPU machine after scripts/device/build.sh (issue 8's checks):
#   1. golden parity on CUDA: float32 max error <= 1e-4, bf16 cosine >= 0.999
#      (bf16 also with --fused-residual);
#   2. `videoprism bench --device cuda`: the fused attention against float64
#      (forward and backward), the fused model path against the plain one, then
#      inference timings next to the GEMM ceilings;
#   3. the per-op time of a batch-16 bf16 forward (bench --breakdown);
#   4. training throughput of stage 1 and stage 2 at VideoPrism-B shapes, and
#      where a step goes (bench --train ... --breakdown).
# Logs go to $OUT (or /tmp/vp-out). Exit status: 1 if a check failed.
set -uo pipefail
cd "$(dirname "$0")/../.."
source build-cuda/env.sh
VP=build-cuda/videoprism
S=.device/shared
OUT=${OUT:-/tmp/vp-out}
mkdir -p "$OUT/parity"
nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.max.sm,driver_version --format=csv,noheader
status=0

echo "== golden parity on CUDA =="
for case in encoder_tiny clip_tiny classifier_tiny; do
  # bf16-fused: bf16 with RunOptions::fused_residual (forward --fused-residual).
  for variant in f32 bf16 bf16-fused; do
    dtype=${variant%%-*}
    extra=""; [ $variant = bf16-fused ] && extra="--fused-residual"
    out="$OUT/parity/$case-$variant.npz"
    if ! $VP forward --device cuda --dtype $dtype $extra --config $S/golden/$case/case.json \
        --checkpoint $S/golden/$case/params.npz --inputs $S/golden/$case/io.npz --out "$out" >/dev/null; then
      echo "FAIL forward $case $variant"; status=1; continue
    fi
    if [ $dtype = f32 ]; then gate="--tolerance 1e-4"; else gate="--min-cosine 0.999"; fi
    if $VP compare "$out" $S/golden/$case/io.npz $gate > "$OUT/parity/$case-$variant.jsonl"; then r=pass; else r=FAIL; status=1; fi
    python3 - "$OUT/parity/$case-$variant.jsonl" "$case" "$variant" "$r" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
rows = [r for r in rows if "max_abs_error" in r or "cosine" in r]
num = lambda x: float("nan") if x is None else x  # JSON null: NaN
err = max((num(r.get("max_abs_error", 0)) for r in rows), default=float("nan"))
cos = min((num(r.get("cosine", 1)) for r in rows), default=float("nan"))
bad = [r.get("name", r.get("array", "?")) for r in rows if r.get("pass") is False or r.get("max_abs_error", 0) is None]
if bad: print("  failing arrays:", bad)
print(f"{sys.argv[4]} {sys.argv[2]} {sys.argv[3]}: {len(rows)} arrays, max abs error {err:.3g}, min cosine {cos:.6f}")
PY
  done
done

echo "== inference benchmark =="
timeout 420 $VP bench --device cuda 2>&1 | tee "$OUT/bench.log" | grep -v '^{"check":"fused_attention"' || status=1
grep '^{"check":"fused_attention"' "$OUT/bench.log" | python3 -c '
import json,sys
for l in sys.stdin:
    r=json.loads(l); b=r["backward_rel_error"]
    print(("pass" if r["passed"] else "FAIL"), r["case"], "fwd %.2e" % r["forward_rel_error"], ("bwd %.2e" % b) if b is not None else "")'

echo "== where the time goes (bench --breakdown, batch 16, bf16) =="
timeout 120 $VP bench --breakdown --device cuda --batch 16 2>&1 | tee "$OUT/breakdown.log" | grep -v '^{' || status=1

echo "== training benchmark =="
for stage in stage1 stage2; do
  timeout 240 $VP bench --train $stage --breakdown --device cuda --dtype bf16 2>&1 | tee "$OUT/train-$stage.log" | grep -v "^{\"bench\":\"breakdown\"" || status=1
done
exit $status
