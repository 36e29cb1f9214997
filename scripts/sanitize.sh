#!/usr/bin/env bash
# The sanitizer and fuzzing pass of CI (docs/fuzzing.md): one clang build with
# AddressSanitizer + UndefinedBehaviorSanitizer (fatal reports) and libFuzzer,
# into build-asan/. Runs the sanitized tests on the tiny fixtures, the
# tokenizer's tests in their own non-ASan process, then every fuzz target for
# a short bounded time on its seed corpus. Exit status non-zero on any
# sanitizer report, failed test or fuzzer finding.
#
#   FUZZ_SECONDS   seconds per fuzz target (default 15; 0 skips fuzzing)
#   JOBS           build parallelism (default: nproc)
#   SAN_TESTS      gtest filter of the sanitized tests (default: all of videoprism_san_tests)
# Extra arguments go to cmake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-15}
build=build-asan
start=$(date +%s)

gomp=$(g++ -print-file-name=libgomp.so)
# Release-like code at -O1 with line tables: fast enough for the parity
# tests, symbolized reports. OpenMP: GCC's libgomp, the runtime libtorch
# uses (clang's default libomp would put a second OpenMP runtime in the process).
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" \
  -DVIDEOPRISM_SANITIZE=address,undefined -DVIDEOPRISM_FUZZ=ON -DVIDEOPRISM_BENCH=OFF \
  -DOpenMP_CXX_FLAGS=-fopenmp=libgomp -DOpenMP_C_FLAGS=-fopenmp=libgomp \
  -DOpenMP_CXX_LIB_NAMES=gomp -DOpenMP_C_LIB_NAMES=gomp "-DOpenMP_gomp_LIBRARY=$gomp" "$@" >/dev/null
fuzzers=(fuzz_npz fuzz_model_config fuzz_train_config fuzz_manifest fuzz_canonicalize fuzz_text
         fuzz_video fuzz_index_meta fuzz_index_vectors)
cmake --build "$build" -j "$JOBS" --target videoprism_san_tests videoprism_tokenizer_tests make_index_seed "${fuzzers[@]}"
built=$(date +%s)
echo "sanitize: build took $((built - start)) s"

export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
# Leak checking is off: libtorch and FFmpeg keep process-lifetime allocations
# (registries, codec tables) that LeakSanitizer would report at exit.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The fuzzers' scratch files (fuzz/fuzz_util.h) on tmpfs when there is one:
# the index writes fsync, which a disk makes the bottleneck.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi
logs=$build/sanitize-logs
rm -rf "$logs" && mkdir -p "$logs"

# Sanitized tests on the tiny fixtures (fuzz/CMakeLists.txt: golden parity
# through the library and the CLI, .npz, model errors, presets, video, the
# fuzz regressions). No SentencePiece here: the ASan runtime refuses the
# tokenizer module's RTLD_DEEPBIND, so the tokenizer runs below, without ASan.
SAN_TESTS=${SAN_TESTS:-*}
status=0
"$build/fuzz/videoprism_san_tests" --gtest_filter="$SAN_TESTS" >"$logs/tests.log" 2>&1 || status=1
# The tokenizer (SentencePiece module, canonicalization) in a non-ASan, UBSan
# process; TokenizeCli runs the CLI, which the main suite covers.
"$build/fuzz/videoprism_tokenizer_tests" --gtest_filter='-TokenizeCli*' >"$logs/tokenizer_tests.log" 2>&1 || status=1
for log in tests tokenizer_tests; do
  grep -E '^\[  (PASSED|FAILED) |^\[==========\] [0-9]+ tests? from' "$logs/$log.log" | tail -2 | sed "s/^/sanitize: $log: /"
done
reports=$(cat "$logs"/*.log | grep -cE 'ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer' || true)
echo "sanitize: sanitizer reports in the tests: $reports"
[ "$status" -eq 0 ] && [ "$reports" -eq 0 ] || { tail -40 "$logs"/*.log; echo "sanitize: tests FAILED"; exit 1; }
tested=$(date +%s)
echo "sanitize: tests took $((tested - built)) s"

[ "$FUZZ_SECONDS" -gt 0 ] || exit 0
corpus=$build/fuzz-corpus       # seeds, regenerated each run
work=$build/fuzz-work           # what the fuzzers add (kept between runs)
artifacts=$build/fuzz-artifacts # crashing inputs
rm -rf "$corpus" && mkdir -p "$work" "$artifacts"
bash fuzz/make_seeds.sh "$build" "$corpus"
declare -A max_len=([fuzz_npz]=16384 [fuzz_video]=32768 [fuzz_index_meta]=65536 [fuzz_index_vectors]=16384)
failed=()
for f in "${fuzzers[@]}"; do
  mkdir -p "$work/$f" "$corpus/$f"
  if "$build/fuzz/$f" "$work/$f" "$corpus/$f" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
       -malloc_limit_mb=1024 -max_len="${max_len[$f]:-4096}" -artifact_prefix="$artifacts/$f-" -print_final_stats=1 \
       </dev/null >"$logs/$f.log" 2>&1; then
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$logs/$f.log" | grep -oE '[0-9]+$' || echo "?")
    echo "sanitize: $f: $runs executions in ${FUZZ_SECONDS} s, no finding"
  else
    failed+=("$f")
    echo "sanitize: $f: FINDING (log $logs/$f.log, inputs $artifacts/$f-*)"
    grep -E 'ERROR|runtime error|terminate|==[0-9]+==' "$logs/$f.log" | head -5 || true
  fi
done
echo "sanitize: fuzzing took $(($(date +%s) - tested)) s; total $(($(date +%s) - start)) s"
[ ${#failed[@]} -eq 0 ] || { echo "sanitize: fuzz findings in ${failed[*]}"; exit 1; }
