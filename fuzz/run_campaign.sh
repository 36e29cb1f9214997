#!/usr/bin/env bash
# A longer fuzzing campaign over the targets built by scripts/sanitize.sh:
# each target runs SECONDS (default 300) on its seeds plus what earlier runs
# found, PARALLEL targets at a time (default 1), and a Markdown table row per
# target is printed (executions, seconds, findings). Crashing inputs go to
# build-asan/fuzz-artifacts/.
# Usage: fuzz/run_campaign.sh [TARGET...]
set -uo pipefail
cd "$(dirname "$0")/.."
build=build-asan
SECONDS_PER=${SECONDS_PER:-300}
PARALLEL=${PARALLEL:-1}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_npz fuzz_model_config fuzz_train_config fuzz_manifest fuzz_canonicalize
                                     fuzz_text fuzz_video fuzz_index_meta fuzz_index_vectors)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The fuzzers' scratch files (fuzz/fuzz_util.h) on tmpfs when there is one:
# the index writes fsync, which a disk makes the bottleneck.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi
corpus=$build/fuzz-corpus work=$build/fuzz-work artifacts=$build/fuzz-artifacts logs=$build/campaign-logs
mkdir -p "$work" "$artifacts" "$logs"
[ -d "$corpus" ] || bash fuzz/make_seeds.sh "$build" "$corpus"
declare -A max_len=([fuzz_npz]=16384 [fuzz_video]=32768 [fuzz_index_meta]=65536 [fuzz_index_vectors]=16384)
run_one() {
  local f=$1
  mkdir -p "$work/$f" "$corpus/$f"
  local t0=$(date +%s)
  # -fork keeps fuzzing after a finding (each crash saved once).
  "$build/fuzz/$f" "$work/$f" "$corpus/$f" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -max_total_time="$SECONDS_PER" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -max_len="${max_len[$f]:-4096}" -artifact_prefix="$artifacts/$f-" </dev/null >"$logs/$f.log" 2>&1
  local t1=$(date +%s)
  local execs=$(grep -oE 'exec/s: [0-9]+|#[0-9]+' "$logs/$f.log" | grep -oE '^#[0-9]+' | tail -1 | tr -d '#')
  local crashes=$(grep -ocE 'crash-|timeout-|oom-|leak-' <<<"$(ls "$artifacts" | grep "^$f-")")
  echo "| $f | ${execs:-?} | $((t1 - t0)) | $crashes |"
}
echo "| target | executions | seconds | findings saved |"
echo "|---|---|---|---|"
running=0
for f in "${targets[@]}"; do
  run_one "$f" &
  running=$((running + 1))
  if [ "$running" -ge "$PARALLEL" ]; then wait -n; running=$((running - 1)); fi
done
wait
