#!/usr/bin/env bash
# Reruns the hostile inputs of issue 14 against a build and prints a Markdown
# table: the input, the command, its exit code, whether a signal killed it,
# and the first line of its error. Inputs that used to crash, hang or answer
# wrongly must now exit 1 with one line naming the file, key or argument;
# damaged caches and odd file names must now succeed (exit 0).
# Usage: scripts/hostile-inputs.sh [BUILD_DIR]   (default: build)
# Exit status: 0 when every row has its expected outcome, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
VP="$(cd "$BUILD" && pwd)/videoprism"
SHARED=${VP_SHARED_DIR:-$(cd ../shared && pwd)}
[ -x "$VP" ] || { echo "hostile-inputs: no $VP (build first)" >&2; exit 2; }
PY=/usr/bin/python3
W=$(mktemp -d /tmp/vp-hostile-XXXXXX)
trap 'rm -rf "$W"' EXIT
export VIDEOPRISM_KEEP_OMP_WAIT=1

# ---- fixtures ---------------------------------------------------------------
"$VP" init --config "$SHARED/golden/clip_tiny/case.json" --seed 1 --out "$W/tiny.npz" >/dev/null
mkdir -p "$W/videos" "$W/odd" "$W/audio"
cp "$SHARED/assets/water_bottle_drumming.mp4" "$W/videos/a.mp4"
cp "$SHARED/assets/water_bottle_drumming.mp4" "$W/videos/b.mp4"
ODD=$(printf '%s/odd/caf\xe9-\xff.mp4' "$W")
cp "$W/videos/a.mp4" "$ODD"
TOK="$SHARED/assets/test_spm.model"
$PY - "$W" <<'PYEOF'
import json, struct, sys, wave, zipfile, zlib
w = sys.argv[1]

def npy(descr, shape, data=b""):
    shape_text = "()" if not shape else "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_text)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + data

def npz(path, members, method=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", method) as z:
        for name, blob in members.items():
            z.writestr(name + ".npy", blob)

# A 0-d array at a detection key; a 1-D patch kernel.
npz(f"{w}/scalar.npz", {"params/patch_projection/linear/kernel": npy("<f4", (), b"\0\0\x80\x3f")})
npz(f"{w}/onedim.npz", {"params/patch_projection/linear/kernel": npy("<f4", (6,), b"\0" * 24)})
# T = 0 inputs.
npz(f"{w}/t0.npz", {"inputs": npy("<f4", (2, 0, 24, 24, 3))})
# A deflate bomb: 64 KB of deflated zeros whose zip directory declares 1.2 GB.
raw = npy("|u1", (1200000000,))
comp = zlib.compressobj(9, zlib.DEFLATED, -15)
body = comp.compress(raw) + comp.compress(b"\0" * (64 << 20)) + comp.flush()
name = b"inputs.npy"
local = struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, 8, 0, 0, 0, len(body), 1200000000 + len(raw), len(name), 0) + name
central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 20, 20, 0, 8, 0, 0, 0, len(body), 1200000000 + len(raw),
                      len(name), 0, 0, 0, 0, 0, 0) + name
end = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 1, 1, len(central), len(local) + len(body), 0)
open(f"{w}/bomb.npz", "wb").write(local + body + central + end)
# An honest deflated array of 64 MB zeros (for the overridable cap).
npz(f"{w}/zeros.npz", {"inputs": npy("|u1", (64 << 20,), b"\0" * (64 << 20))}, zipfile.ZIP_DEFLATED)
# A .npy that declares 4 TB and holds 16 bytes.
open(f"{w}/huge.npy", "wb").write(npy("<f4", (1000000000, 1000), b"\0" * 16))
# Audio-only files named like videos.
for i in range(60):
    with wave.open(f"{w}/audio/a{i:02d}.mp4", "wb") as f:
        f.setnchannels(1); f.setsampwidth(2); f.setframerate(8000); f.writeframes(b"\0" * 1600)
open(f"{w}/audio.txt", "w").write("".join(f"{w}/audio/a{i:02d}.mp4\n" for i in range(60)) + f"{w}/videos/a.mp4\n")
PYEOF
$PY - "$W" "$SHARED/golden/clip_tiny/case.json" <<'PYEOF'
import json, sys
w, case = sys.argv[1], json.load(open(sys.argv[2]))
config = case.get("config", case)
for key, value in (("model_dim", 4294967344), ("vocabulary_size", 2**32 + 1000)):
    bad = dict(config); bad[key] = value
    json.dump(bad, open(f"{w}/{key}.json", "w"))
json.dump({"video": f"{w}/videos/a.mp4", "caption": "a bottle"}, open(f"{w}/m.jsonl", "w"))
json.dump({"model_config": sys.argv[2], "tokenizer": "x", "data": f"{w}/m.jsonl", "num_frames": 4,
           "image_size": 24, "batch_size": 1, "steps": 1, "scale_jitter": 1e9}, open(f"{w}/jitter.json", "w"))
PYEOF
# A NaN checkpoint: the tiny one with its patch bias set to NaN.
$PY - "$W" <<'PYEOF'
import struct, sys, zipfile
w = sys.argv[1]
src, dst = zipfile.ZipFile(f"{w}/tiny.npz"), zipfile.ZipFile(f"{w}/nan.npz", "w")
for info in src.infolist():
    data = src.read(info)
    if info.filename.endswith("patch_projection/linear/bias.npy"):
        start = len(data) - (len(data) - 10 - struct.unpack("<H", data[8:10])[0])
        data = data[:start] + b"\x00\x00\xc0\x7f" * ((len(data) - start) // 4)
    dst.writestr(info.filename, data)
dst.close()
PYEOF
ARGS="--checkpoint $W/tiny.npz --frames 4 --size 24"
"$VP" index $ARGS --tokenizer "$TOK" --db "$W/db" "$W/videos" >/dev/null 2>&1
for d in vec_trunc vec_garbage meta_json meta_frames pages; do cp -r "$W/db" "$W/$d"; done
$PY - "$W" <<'PYEOF'
import os, sqlite3, sys
w = sys.argv[1]
v = f"{w}/vec_trunc/vectors.faiss"; os.truncate(v, os.path.getsize(v) // 2)
v = f"{w}/vec_garbage/vectors.faiss"; open(v, "wb").write(os.urandom(os.path.getsize(v)))
for d, key, value in (("meta_json", "model_config", "{oops"), ("meta_frames", "frames", "four")):
    c = sqlite3.connect(f"{w}/{d}/index.sqlite"); c.execute("UPDATE meta SET value=? WHERE key=?", (value, key)); c.commit(); c.close()
p = f"{w}/pages/index.sqlite"; size = os.path.getsize(p)
with open(p, "r+b") as f: f.seek(4096); f.write(b"\xab" * (size - 4096))
PYEOF
"$VP" index $ARGS --tokenizer "$TOK" --db "$W/odd_db" "$W/odd" >/dev/null 2>&1

# ---- the table ----------------------------------------------------------------
ok=0; bad=0
echo "| # | hostile input | command | expected | exit | signal | first line of the error (or result) |"
echo "|---|---|---|---|---|---|---|"
n=0
row() {  # row EXPECTED "input" "command line" [env...]
  local expected=$1 input=$2 command=$3
  n=$((n + 1))
  local out status signal=no first
  out=$(bash -c "$command" 2>&1 </dev/null); status=$?
  if [ $status -gt 128 ]; then signal="yes ($((status - 128)))"; fi
  first=$(printf '%s\n' "$out" | grep -m1 '^videoprism: ' || printf '%s\n' "$out" | tail -n 1)
  first=${first//$W/\$W}; first=${first//|/\\|}; first=$(printf '%s' "$first" | cut -c1-220 | tr -d '\n' | LC_ALL=C tr -c '[:print:]' '?')
  local shown=${command//$W/\$W}; shown=${shown//$VP/videoprism}; shown=${shown//$TOK/test_spm.model}
  shown=$(printf '%s' "${shown//|/\\|}" | tr -d '\n' | LC_ALL=C tr -c '[:print:]' '?' | cut -c1-110)
  if [ "$status" = "$expected" ] && [ "$signal" = no ]; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
  echo "| $n | $input | \`$shown\` | $expected | $status | $signal | $first |"
}
row 1 "0-d array at a detection key" "'$VP' info '$W/scalar.npz'"
row 1 "0-d array at a detection key" "'$VP' embed --checkpoint '$W/scalar.npz' --out '$W/o.npz' '$W/videos/a.mp4'"
row 1 "0-d array at a detection key" "'$VP' index --checkpoint '$W/scalar.npz' --db '$W/x' '$W/videos'"
row 1 "1-D patch_projection kernel" "'$VP' info '$W/onedim.npz'"
row 1 "inputs [2,0,24,24,3] (T = 0)" "'$VP' forward --checkpoint '$W/tiny.npz' --inputs '$W/t0.npz' --out '$W/o.npz'"
row 1 "bench --frames 0" "'$VP' bench --frames 0 --dtype f32"
row 1 "bench --iterations 0" "'$VP' bench --iterations 0 --dtype f32"
row 1 "60 audio-only files, then a video; ulimit -n 64" "set -o pipefail; ulimit -n 64; '$VP' index $ARGS --db '$W/fd' --list '$W/audio.txt' --json 2>/dev/null | tail -n 1"
row 1 "deflate bomb: 64 KB declaring 1.2 GB" "'$VP' forward --checkpoint '$W/tiny.npz' --inputs '$W/bomb.npz' --out '$W/o.npz'"
row 1 "64 MB of deflated zeros, cap 1M" "VIDEOPRISM_NPZ_MAX_BYTES=1M '$VP' forward --checkpoint '$W/tiny.npz' --inputs '$W/zeros.npz' --out '$W/o.npz'"
row 1 "tokenize --max-length 2000000000" "'$VP' tokenize --tokenizer '$TOK' --max-length 2000000000 hello"
row 1 "frames --threads 5000" "'$VP' frames '$W/videos/a.mp4' --threads 5000 --out '$W/f.npy'"
row 1 "embed --threads 5000" "'$VP' embed $ARGS --threads 5000 --out '$W/o.npz' '$W/videos/a.mp4'"
row 1 "embed --frames 0" "'$VP' embed --checkpoint '$W/tiny.npz' --frames 0 --out '$W/o.npz' '$W/videos/a.mp4'"
row 1 "embed --size -1" "'$VP' embed --checkpoint '$W/tiny.npz' --size -1 --out '$W/o.npz' '$W/videos/a.mp4'"
row 1 "classify --frames 0" "'$VP' classify --checkpoint '$W/tiny.npz' --tokenizer '$TOK' --labels a,b --frames 0 '$W/videos/a.mp4'"
row 1 "index --size 0" "'$VP' index --checkpoint '$W/tiny.npz' --size 0 --db '$W/x' '$W/videos'"
row 1 "config model_dim 4294967344" "'$VP' init --config '$W/model_dim.json' --out '$W/o.npz'"
row 1 "config vocabulary_size 2^32+1000" "'$VP' init --config '$W/vocabulary_size.json' --out '$W/o.npz'"
row 1 "training config scale_jitter 1e9" "'$VP' train stage1 --config '$W/jitter.json' --out '$W/run'"
row 1 "classify --temperature 0" "'$VP' classify $ARGS --tokenizer '$TOK' --labels a,b --temperature 0 '$W/videos/a.mp4'"
row 1 "index --vector-index bogus" "'$VP' index $ARGS --vector-index bogus --db '$W/db' '$W/videos'"
row 0 "search after --vector-index bogus" "'$VP' search --db '$W/db' 'a bottle' -k 1 --json"
row 1 "NaN weights: embed" "'$VP' embed --checkpoint '$W/nan.npz' --frames 4 --size 24 --out '$W/o.npz' '$W/videos/a.mp4'"
row 1 "NaN weights: index" "'$VP' index --checkpoint '$W/nan.npz' --frames 4 --size 24 --db '$W/nan_db' '$W/videos' --json"
row 0 "truncated vectors.faiss: index repairs it" "'$VP' index $ARGS --db '$W/vec_trunc' '$W/videos' --json"
row 0 "garbage vectors.faiss: search repairs it" "'$VP' search --db '$W/vec_garbage' 'a bottle' -k 1 --json"
row 1 "meta model_config '{oops'" "'$VP' search --db '$W/meta_json' 'a bottle'"
row 1 "meta frames 'four'" "'$VP' search --db '$W/meta_frames' --like '$W/videos/a.mp4'"
row 1 "index.sqlite pages overwritten" "'$VP' search --db '$W/pages' 'a bottle'"
row 0 "non-UTF-8 name: search --json" "'$VP' search --db '$W/odd_db' 'a bottle' --json | $PY -c 'import json,sys; print(json.load(sys.stdin)[0][\"path_hex\"])'"
row 0 "non-UTF-8 name: classify --json" "'$VP' classify $ARGS --tokenizer '$TOK' --labels a,b --json '$ODD' '$W/videos/a.mp4' | $PY -c 'import json,sys; print(len([json.loads(l) for l in sys.stdin]), \"lines\")'"
row 0 "non-UTF-8 name: frames" "'$VP' frames '$ODD' --frames 4 --size 24 --out '$W/f.npy' | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"video\"][\"path_hex\"])'"
row 0 "non-UTF-8 name: embed --out .jsonl" "'$VP' embed $ARGS --out '$W/o.jsonl' '$ODD' '$W/videos/a.mp4' >/dev/null && $PY -c 'import json,sys; print(len([json.loads(l) for l in open(sys.argv[1])]), \"lines\")' '$W/o.jsonl'"
echo
echo "$ok of $((ok + bad)) rows as expected (CPU: $(lscpu | grep 'Model name' | sed 's/Model name: *//'))"
[ "$bad" = 0 ]
