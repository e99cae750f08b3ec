#!/usr/bin/env bash
# Runs the test suites and prints one closing line "N passed, N failed"
# (N counting suites); exits non-zero if any suite failed.
#
# Usage: scripts/test.sh [unit|fuzz|interop|e2e ...]   (default: all)
#
# Every suite runs against the ASan+UBSan build, so memory errors found by real
# clients fail the run. PODTERM_BIN overrides the binary the interop and e2e
# suites start.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=$(nproc)
asan=${ASAN_BUILD:-build-asan}
fuzz=${FUZZ_BUILD:-build-fuzz}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/lsan.supp}
export PODTERM_BIN=${PODTERM_BIN:-$root/$asan/podterm}
mkdir -p tests/out

passed=0
failed=0
failed_names=()

run_suite() {
    local name=$1
    shift
    echo "=== suite: $name"
    local t0=$SECONDS
    if "$@"; then
        passed=$((passed + 1))
        echo "=== suite: $name passed ($((SECONDS - t0)) s)"
    else
        failed=$((failed + 1))
        failed_names+=("$name")
        echo "=== suite: $name FAILED ($((SECONDS - t0)) s)"
    fi
}

build_gcc() {
    # The release-like build must be warning-free under gcc (warnings are errors).
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc >/dev/null &&
        cmake --build build -j "$jobs"
}

build_asan() {
    cmake -S . -B "$asan" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
        -DPODTERM_SANITIZE=ON >/dev/null &&
        cmake --build "$asan" -j "$jobs"
}

suite_unit() {
    ctest --test-dir "$asan" --output-on-failure -j "$jobs"
}

suite_fuzz() {
    # Every libFuzzer target briefly, from its committed seeds (FUZZ_SECONDS
    # each, default 7: about two minutes in all); a crash, leak or timeout
    # fails the suite. `make fuzz` runs the long campaign.
    cmake -S . -B "$fuzz" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
        -DPODTERM_SANITIZE=ON -DPODTERM_FUZZ=ON -DPODTERM_TESTS=OFF >/dev/null &&
        cmake --build "$fuzz" -j "$jobs" || return 1
    FUZZ_BUILD=$fuzz FUZZ_SECONDS=${FUZZ_SECONDS:-7} FUZZ_KEEP=0 tests/fuzz/run.sh
}

suite_interop() {
    [ -d tests/interop ] || return 0
    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/interop
}

suite_gateway() {
    # Gateway mode against an upstream podterm serving TLS (tests/gateway/conftest.py).
    [ -d tests/gateway ] || return 0
    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/gateway
}

suite_e2e() {
    [ -d tests/e2e ] && ls tests/e2e/*.test.mjs >/dev/null 2>&1 || return 0
    node --test --test-concurrency=1 tests/e2e/
}

suite_bench_smoke() {
    # bench/run.sh at CI size against the ASan build (bench tools built there too):
    # every load generator mode, both client engines; byte counts, CRC-32s,
    # statuses and close codes are checked, timings are not. About 10 s.
    PODTERM_BIN=$root/$asan/podterm BENCH_TOOLS=$root/$asan bench/run.sh --smoke
}

suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(unit fuzz interop gateway e2e bench_smoke)

run_suite build-gcc build_gcc
run_suite build-asan build_asan
if [ "$failed" -eq 0 ]; then
    for s in "${suites[@]}"; do
        run_suite "$s" "suite_$s"
    done
fi

echo
[ ${#failed_names[@]} -gt 0 ] && echo "failed suites: ${failed_names[*]}"
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
