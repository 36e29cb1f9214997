#!/usr/bin/env bash
# Output fingerprint of a build, for refactors that must not change results:
# the golden parity figures, and the SHA-256 of every checkpoint a fixed-seed
# `demo --quick` writes (stage 1, stage 2 and its two ablations, align), plus
# its probe / zero-shot / retrieval numbers. Two builds whose fingerprints are
# equal computed byte-identical weights.
#   bash scripts/fingerprint.sh BUILD_DIR OUT_DIR   (prints the fingerprint)
set -euo pipefail
build=${1:?"fingerprint.sh: give the build folder (with videoprism and videoprism_tests)"}
out=${2:?"fingerprint.sh: give an output folder (the demo's files go there)"}
shared=${VP_SHARED_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/shared}
[ -x "$build/videoprism" ] || { echo "fingerprint.sh: $build/videoprism: expected the CLI binary, not found" >&2; exit 2; }
mkdir -p "$out"
export OMP_NUM_THREADS=1
echo "# golden parity"
"$build/videoprism_tests" --gtest_filter='Golden*' | grep -E '^\[parity' | sed 's/ *([0-9]* ms)//'
echo "# demo --quick --threads 1"
"$build/videoprism" demo --quick --threads 1 --tokenizer "$shared/assets/test_spm.model" --out "$out/demo" \
  > "$out/demo.log" 2>&1 || { echo "fingerprint.sh: demo failed, see $out/demo.log" >&2; exit 1; }
(cd "$out/demo" && find runs -name '*.npz' | sort | xargs sha256sum)
/usr/bin/python3 - "$out/demo/results.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
def walk(x, path):
    if isinstance(x, dict):
        for k in sorted(x):
            if any(w in k for w in ("seconds", "wall", "time", "gflops", "clips_per_s")):
                continue  # timings differ between runs
            walk(x[k], path + "/" + k)
    elif isinstance(x, list):
        for i, v in enumerate(x):
            walk(v, path + "/" + str(i))
    elif isinstance(x, float):
        print(f"{path} {x!r}")
    else:
        print(f"{path} {json.dumps(x)}")
walk(r, "results")
EOF
