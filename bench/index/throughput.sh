#!/usr/bin/env bash
# End-to-end library throughput: `videoprism index` over a folder of real clips
# (decode, resize, batch across files, forward, one SQLite commit per file)
# against `videoprism bench`'s bare forward at the same model, shape, dtype and
# threads, in one run. Prints the CPU, one JSON line per measurement and the
# ratio (docs/performance.md, "Whole libraries").
#
#   bash bench/index/throughput.sh [--model P] [--dtype D] [--threads N] [--files N]
#                                  [--batch N] [--frames N] [--size N] [--clip FILE] [--isa native|avx2]
#
# The folder holds --files copies of --clip (default: the shared demo clip),
# one window each; the checkpoint is random weights (`videoprism init`).
set -euo pipefail
cd "$(dirname "$0")/../.."
cli=${VIDEOPRISM_CLI:-build/videoprism}
model=videoprism_lvt_public_v1_base dtype=auto threads=2 files=8 batch=1 frames=16 size=288 isa=native
clip=../shared/assets/water_bottle_drumming.mp4
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2 ;; --dtype) dtype=$2 ;; --threads) threads=$2 ;; --files) files=$2 ;;
    --batch) batch=$2 ;; --frames) frames=$2 ;; --size) size=$2 ;; --clip) clip=$2 ;; --isa) isa=$2 ;;
    *) echo "throughput.sh: unknown argument '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
  shift 2
done
[ -x "$cli" ] || { echo "throughput.sh: $cli not built (bash scripts/build.sh, or set VIDEOPRISM_CLI)" >&2; exit 1; }
[ -f "$clip" ] || { echo "throughput.sh: --clip $clip: no such file" >&2; exit 1; }
[[ "$files" =~ ^[1-9][0-9]*$ ]] || { echo "throughput.sh: --files expected a positive integer, got '$files'" >&2; exit 2; }
# shellcheck source=../../scripts/isa-cap.sh
source scripts/isa-cap.sh "$isa"

work=$(mktemp -d /tmp/vp-index-throughput.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/videos"
for i in $(seq 1 "$files"); do cp "$clip" "$work/videos/clip_$i.${clip##*.}"; done
"$cli" init --model "$model" --seed 1 --out "$work/model.npz" >/dev/null

echo "throughput: CPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); ISA $isa;" \
  "$("$cli" doctor --json --gemm 64 | /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print("isa", j["isa"], "openblas", j["openblas_core"], "dtype auto", j["dtype_auto"])')"
bench=$("$cli" bench --model "$model" --dtype "$dtype" --threads "$threads" --frames "$frames" --size "$size" \
  --batch "$batch" --warmup 1 --iterations 3 | grep '"bench":"forward"' | tail -1)
echo "$bench"
rss_kb=$( { /usr/bin/time -f '%M' "$cli" index --checkpoint "$work/model.npz" --db "$work/db" --dtype "$dtype" \
  --threads "$threads" --frames "$frames" --size "$size" --batch "$batch" --json "$work/videos" >"$work/index.json"; } 2>&1 | tail -1)
index=$(cat "$work/index.json")
echo "$index"
BENCH="$bench" INDEX="$index" RSS_KB="$rss_kb" FILES="$files" /usr/bin/python3 - <<'EOF'
import json, os
b, i = json.loads(os.environ["BENCH"]), json.loads(os.environ["INDEX"])
if i["clips"] != int(os.environ["FILES"]):
    raise SystemExit(f"throughput: index embedded {i['clips']} clips, expected {os.environ['FILES']}")
row = {"bench": "index_throughput", "model": b["model"], "dtype": b["dtype"], "threads": b["threads"],
       "frames": b["frames"], "size": b["size"], "batch": b["batch"], "files": i["clips"],
       "bench_clips_per_second": b["clips_per_second"], "index_clips_per_second": i["clips_per_second"],
       "ratio": i["clips_per_second"] / b["clips_per_second"],
       "index_model_seconds": i["model_seconds"], "index_wait_decode_seconds": i["wait_decode_seconds"],
       "index_embed_seconds": i["embed_seconds"], "index_total_seconds": i["seconds"],
       "bench_peak_rss_mb": b["peak_rss_mb"], "index_peak_rss_mb": int(os.environ["RSS_KB"]) / 1024}
print(json.dumps(row))
print(f"throughput: index {row['index_clips_per_second']:.3f} clips/s vs bench {row['bench_clips_per_second']:.3f}"
      f" clips/s = {row['ratio']:.3f} ({b['dtype']}, {b['threads']} threads, batch {b['batch']}; the model waited"
      f" {row['index_wait_decode_seconds']:.2f} s for decoding)")
EOF
