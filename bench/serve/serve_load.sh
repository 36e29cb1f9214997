#!/usr/bin/env bash
# The `videoprism serve` load benchmark (not a test): a synthetic index of
# FILES x WINDOWS (default 1000 x 10 = 10,000) random unit vectors recorded
# with a randomly initialized VideoPrism-LvT-B (real-size text tower), the
# server on a free loopback port, then serve_load.py: CLIENTS concurrent
# clients per scenario, each bounded by REQUESTS and DURATION. Prints the CPU.
#   bash bench/serve/serve_load.sh [WORK_DIR]     (default: build/serve-bench)
# Environment: CLIENTS=8 DURATION=10 (seconds per scenario) REQUESTS=2000 FILES=1000 WINDOWS=10 THREADS=0 MODEL_THREADS=0
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${1:-build/serve-bench}
CLI=build/videoprism
SYNTH=build/serve_bench_index
SHARED=${VP_SHARED_DIR:-../shared}
[ -x "$CLI" ] && [ -x "$SYNTH" ] || { echo "build first: cmake --build build --target videoprism_cli serve_bench_index"; exit 1; }
mkdir -p "$WORK"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores visible)"
if [ ! -f "$WORK/lvt_base_random.npz" ]; then
  "$CLI" init --model videoprism_lvt_public_v1_base --seed 0 --out "$WORK/lvt_base_random.npz" >/dev/null
fi
DB="$WORK/db-${FILES:-1000}x${WINDOWS:-10}"
if [ ! -f "$DB/vectors.faiss" ]; then
  rm -rf "$DB"
  "$SYNTH" --checkpoint "$WORK/lvt_base_random.npz" --tokenizer "$SHARED/assets/test_spm.model" \
    --clip "$SHARED/assets/water_bottle_drumming.mp4" --out "$DB" --files "${FILES:-1000}" --windows "${WINDOWS:-10}"
fi
rm -rf "$WORK/cache"
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$CLI" serve --db "$DB" --host 127.0.0.1 --port "$PORT" --cache-dir "$WORK/cache" \
  --threads "${THREADS:-0}" --model-threads "${MODEL_THREADS:-0}" > "$WORK/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  if /usr/bin/python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/api/health', timeout=1)" 2>/dev/null; then
    break
  fi
  kill -0 $SERVER 2>/dev/null || { cat "$WORK/serve.log"; exit 1; }
  sleep 0.5
done
/usr/bin/python3 bench/serve/serve_load.py --port "$PORT" --pid "$SERVER" --clients "${CLIENTS:-8}" \
  --seconds "${DURATION:-10}" --requests "${REQUESTS:-2000}"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p')"
