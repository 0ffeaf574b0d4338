#!/usr/bin/env bash
# Runs every Canvass test on a fresh Debian 12 machine: installs what is missing
# (toolchains/setup.sh), builds the native and the wasm targets warnings-as-errors, runs each
# target's suites through CTest, and checks formatting. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
log_dir="$root/build/test-logs"

./toolchains/setup.sh
mkdir -p "$log_dir"

step() { printf '\n== %s\n' "$*"; }

step "formatting (clang-format, .clang-format)"
mapfile -t sources < <(git ls-files '*.cpp' '*.h' 2>/dev/null || true)
if [ ${#sources[@]} -gt 0 ]; then
  if ! clang-format --dry-run --Werror "${sources[@]}" 2>"$log_dir/format.log"; then
    head -n 40 "$log_dir/format.log"
    echo "formatting: run 'clang-format -i' on the files above" >&2
    exit 1
  fi
  echo "formatting: ${#sources[@]} files clean"
fi

total_passed=0
total_failed=0
run_target() {  # preset
  local preset=$1
  step "build ($preset)"
  cmake --preset "$preset" -DCANVASS_WERROR=ON >"$log_dir/configure-$preset.log" 2>&1 || {
    cat "$log_dir/configure-$preset.log"; exit 1; }
  # With pipefail a pipeline fails with its last failing command; the filter never fails (a
  # group ending in `|| true`), so the status is the build's or ctest's own. (`pipe || true`
  # followed by PIPESTATUS read the status of `true` whenever the pipe failed: failures passed.)
  local build_status=0
  cmake --build --preset "$preset" 2>&1 | tee "$log_dir/build-$preset.log" |
    { grep -E 'error|warning|FAILED' || true; } || build_status=$?
  [ "$build_status" -eq 0 ] || { echo "build ($preset) failed; see $log_dir/build-$preset.log" >&2; exit 1; }
  step "tests ($preset)"
  local status=0
  ctest --preset "$preset" -V 2>&1 | tee "$log_dir/ctest-$preset.log" |
    { grep -E '^[0-9]+: (Passed|Failed)|^[0-9]+: # (pass|fail)|^[0-9]+: not ok|tests passed|tests failed|Test +#' || true; } ||
    status=$?
  # Catch2's compact reporter ends with "Passed all N test cases with M assertions."; node's
  # test runner (TAP) with "# pass N".
  local cases node_cases
  cases=$(grep -Eo 'Passed all [0-9]+ test cases' "$log_dir/ctest-$preset.log" | awk '{n += $3} END {print n + 0}')
  node_cases=$(grep -Eo '# pass [0-9]+' "$log_dir/ctest-$preset.log" | awk '{n += $3} END {print n + 0}')
  echo "$preset: ${cases:-0} unit test cases, ${node_cases:-0} integration tests passed"
  cases=$((cases + node_cases))
  if [ "$status" -ne 0 ]; then
    grep -B2 -A20 -E 'FAILED|failed' "$log_dir/ctest-$preset.log" | head -n 80 || true  # head may close the pipe early: never fatal
    total_failed=$((total_failed + 1))
  fi
  total_passed=$((total_passed + ${cases:-0}))
}

# The browser tests' tooling (playwright-core) from the lockfile in tests/browser, first: the
# native target's CTest runs the HTML report in chromium (browser_report_html), the wasm target's
# the widget (browser_e2e) against the native server built here.
step "npm ci (tests/browser)"
npm ci --prefix tests/browser --no-audit --no-fund >"$log_dir/npm-ci.log" 2>&1 || {
  cat "$log_dir/npm-ci.log"; exit 1; }
run_target native
run_target wasm

# Sanitizers: the native unit tests and the server integration tests again, built with ASan and
# UBSan (preset asan, build/asan). CTest points the integration tests at that build's binaries
# (CANVASS_BIN_DIR), so every server and CLI they start is sanitized; a report fails its test.
# The Debian package (native/package/): built from the native build with the wasm build's web site,
# then checked (tests/package: contents, systemd-analyze verify, the packaged layout serving).
run_package() {
  step "package (cpack -G DEB into build/package) and its tests"
  rm -rf build/package
  if ! (cd build/native && cpack -G DEB -B "$root/build/package") >"$log_dir/package.log" 2>&1; then
    tail -n 40 "$log_dir/package.log"
    echo "package: cpack failed; see $log_dir/package.log" >&2
    total_failed=$((total_failed + 1))
    return
  fi
  ls build/package/*.deb
  local status=0
  node --test tests/package/ 2>&1 | tee "$log_dir/package-test.log" |
    { grep -E '^# (pass|fail)|^not ok' || true; } || status=$?
  local n
  n=$(grep -Eo '^# pass [0-9]+' "$log_dir/package-test.log" | awk '{n += $3} END {print n + 0}')
  total_passed=$((total_passed + n))
  if [ "$status" -ne 0 ]; then
    grep -A30 '^not ok' "$log_dir/package-test.log" | head -n 60 || true
    total_failed=$((total_failed + 1))
  fi
}

run_sanitized() {
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    run_target asan
}

# Fuzzing: each tests/fuzz target for a short time (CANVASS_FUZZ_SECONDS, default 20) from the
# committed seeds; a crash, leak, sanitizer report or broken property fails the step.
run_fuzz() {
  local seconds=${CANVASS_FUZZ_SECONDS:-20}
  step "fuzz (tests/fuzz/run.sh $seconds)"
  if ! tests/fuzz/run.sh "$seconds" 2>&1 | tee "$log_dir/fuzz.log"; then
    echo "fuzz: FAILED; see $log_dir/fuzz.log and build/fuzz/work/" >&2
    total_failed=$((total_failed + 1))
  fi
}

run_package
run_sanitized
run_fuzz

echo
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
