#!/usr/bin/env bash
# The real-browser test of `videoprism serve` (ctest: ServeBrowser).
#   run.sh VIDEOPRISM_CLI SHARED_DIR OUT_DIR
# Makes a tiny random model, FFV1 .mkv clips (browsers cannot play them: the
# preview path) plus the shared real .mp4 clip, indexes them, serves the index
# on a free loopback port and drives headless Chromium through the page with
# serve_test.mjs. Exit 77 (skipped) when Chromium, node or the npm packages
# (scripts/setup.sh installs them) are missing. Screenshot: OUT_DIR/serve.png.
set -euo pipefail
CLI=$1
SHARED=$2
OUT=$3
HERE=$(cd "$(dirname "$0")" && pwd)

CHROME=${CHROME:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROME" ]; then echo "SKIP: no chromium (bash scripts/setup.sh installs it)"; exit 77; fi
if ! command -v node >/dev/null; then echo "SKIP: no node (bash scripts/setup.sh installs it)"; exit 77; fi
if [ ! -d "$HERE/node_modules/puppeteer-core" ]; then
  echo "SKIP: tests/browser/node_modules is missing (bash scripts/setup.sh runs npm ci there)"; exit 77
fi

rm -rf "$OUT"
mkdir -p "$OUT/videos"
"$CLI" init --config "$SHARED/golden/clip_tiny/case.json" --seed 1 --out "$OUT/tiny.npz" >/dev/null
i=0
for source in "testsrc2=s=96x64:r=12:d=8" "smptebars=s=96x64:r=12:d=8" "mandelbrot=s=96x64:r=12" \
              "rgbtestsrc=s=96x64:r=12:d=8" "color=c=orange:s=96x64:r=12:d=8"; do
  ffmpeg -nostdin -loglevel error -f lavfi -i "$source" -t 8 -c:v ffv1 "$OUT/videos/clip$i.mkv"
  i=$((i + 1))
done
cp "$SHARED/assets/water_bottle_drumming.mp4" "$OUT/videos/"
"$CLI" index --checkpoint "$OUT/tiny.npz" --tokenizer "$SHARED/assets/test_spm.model" --frames 4 --size 24 \
  --windows 2 --db "$OUT/db" "$OUT/videos" >/dev/null

QUERY="a colorful test pattern"
"$CLI" search --db "$OUT/db" "$QUERY" -k 24 --json > "$OUT/expected.json"

PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$CLI" serve --db "$OUT/db" --port "$PORT" --cache-dir "$OUT/cache" > "$OUT/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  if /usr/bin/python3 - "$PORT" <<'PY' 2>/dev/null; then break; fi
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/api/health", timeout=1).read()
PY
  if ! kill -0 $SERVER 2>/dev/null; then cat "$OUT/serve.log"; echo "FAIL: the server exited"; exit 1; fi
  sleep 0.2
done

CHROME="$CHROME" node "$HERE/serve_test.mjs" "http://127.0.0.1:$PORT/" "$QUERY" "$OUT/expected.json" "$OUT/serve.png"
