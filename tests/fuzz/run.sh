#!/usr/bin/env bash
# Builds the libFuzzer targets (CMake preset `fuzz`: clang, ASan + UBSan, build/fuzz) and runs
# each for SECONDS (default 30), starting from the committed seeds in tests/fuzz/corpus/<target>.
# Exits non-zero if any target crashes, leaks, trips a sanitizer or breaks a property; the input
# is kept in build/fuzz/work/<target>/ (see tests/fuzz/README.md for reproducing it).
#   tests/fuzz/run.sh [SECONDS]          all targets
#   FUZZ_TARGETS="fuzz_api" tests/fuzz/run.sh 60
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-30}
work=build/fuzz/work
mkdir -p "$work"

targets=(${FUZZ_TARGETS:-fuzz_record fuzz_signed_record fuzz_batch fuzz_messages fuzz_survey
  fuzz_json_line fuzz_surveyjs fuzz_api})

started=$(date +%s)
if ! cmake --preset fuzz >"$work/configure.log" 2>&1; then
  cat "$work/configure.log"
  echo "fuzz: configure failed (clang and libclang-rt-14-dev are needed: toolchains/setup.sh)" >&2
  exit 1
fi
if ! cmake --build --preset fuzz >"$work/build.log" 2>&1; then
  grep -E 'error|FAILED' "$work/build.log" | head -n 40
  echo "fuzz: build failed; see $work/build.log" >&2
  exit 1
fi
echo "fuzz: built ${#targets[@]} targets in $(($(date +%s) - started)) s"

# Sanitizer reports must stop the run; UBSan prints where.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
total_runs=0
for t in "${targets[@]}"; do
  dir="$work/$t"
  rm -rf "$dir/artifacts"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  status=0
  # New inputs go to the first (scratch) corpus dir, never into the committed seeds.
  "build/fuzz/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
    "$dir/corpus" "tests/fuzz/corpus/$t" >"$dir/log" 2>&1 || status=$?
  runs=$(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$dir/log" | awk '{print $2}' | tail -n1)
  cov=$(grep -Eo 'cov: [0-9]+' "$dir/log" | tail -n1 | awk '{print $2}')
  total_runs=$((total_runs + ${runs:-0}))
  artifacts=$(find "$dir/artifacts" -type f | head -n 3)
  if [ "$status" -ne 0 ] || [ -n "$artifacts" ]; then
    failed+=("$t")
    echo "fuzz $t: FAILED (exit $status) after ${runs:-?} runs"
    grep -E -A25 'ERROR: |runtime error|fuzz property failed|deadly signal|Sanitizer' "$dir/log" |
      head -n 60 || tail -n 40 "$dir/log"
    for a in $artifacts; do
      echo "  input: $a  (reproduce: build/fuzz/fuzz/$t $a)"
    done
  else
    echo "fuzz $t: ok, ${runs:-0} runs in ${seconds} s, coverage ${cov:-?} edges"
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} of ${#targets[@]} targets failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets ok, $total_runs runs, $(($(date +%s) - started)) s in all"
