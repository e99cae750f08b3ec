#!/usr/bin/env bash
# Runs the test suites and prints one closing line "N passed, N failed"
# (N counting suites); exits non-zero if any suite failed.
#
# Usage: scripts/test.sh [unit|fuzz|interop|gateway|admission|hostile|e2e|bench_smoke|faults|
#                        deploy|coverage ...]   (default: all; the socket suites and e2e side by side,
#                        e2e as e2e_rest and e2e_waits)
#
# Every suite runs against the ASan+UBSan build, so memory errors found by real
# clients fail the run. PODTERM_BIN overrides the binary the interop and e2e
# suites start.
#
# Coverage: the same build is instrumented for clang source-based coverage
# (PODTERM_COVERAGE=OFF turns it off). Every process writes its own profile at
# exit into $ASAN_BUILD/profiles; after a full run the "coverage" step merges
# them, prints per-folder line and branch coverage of src/ and fails when the
# total falls below tests/coverage-floor.txt. `scripts/test.sh coverage` alone
# reports on the profiles of the last run.
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
coverage=${PODTERM_COVERAGE:-ON}
profiles=$root/$asan/profiles
# %p: one file per process, so concurrent servers never share one; %m: the
# binary's signature, so the unit tests' and podterm's profiles stay apart.
[ "$coverage" = ON ] && export LLVM_PROFILE_FILE=$profiles/%p-%m.profraw

passed=0
failed=0
failed_names=()

# Count one suite's result (exit status rc, seconds taken) and say it.
suite_result() {
    local name=$1 rc=$2 secs=$3
    if [ "$rc" = 0 ]; then
        passed=$((passed + 1))
        echo "=== suite: $name passed ($secs s)"
    else
        failed=$((failed + 1))
        failed_names+=("$name")
        echo "=== suite: $name FAILED ($secs s)"
    fi
}

run_suite() {
    local name=$1
    shift
    echo "=== suite: $name"
    local t0=$SECONDS
    "$@"
    suite_result "$name" $? $((SECONDS - t0))
}

build_gcc() {
    # The release-like build must be warning-free under gcc (warnings are
    # errors): podterm itself, which is what ships (the tests, fuzz targets
    # and tools are built warning-free by clang in the ASan build below).
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc >/dev/null &&
        cmake --build build -j "$jobs" --target podterm
}

build_asan() {
    cmake -S . -B "$asan" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
        -DPODTERM_SANITIZE=ON -DPODTERM_COVERAGE="$coverage" >/dev/null &&
        cmake --build "$asan" -j "$jobs"
}

suite_unit() {
    ctest --test-dir "$asan" --output-on-failure -j "$jobs"
}

suite_fuzz() {
    # Every libFuzzer target briefly, from its committed seeds (FUZZ_SECONDS
    # each, default 1: every seed, then mutation for what is left of the
    # second; one target per core); a crash, leak or timeout fails the
    # suite. `make fuzz` runs the long campaign.
    cmake -S . -B "$fuzz" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
        -DPODTERM_SANITIZE=ON -DPODTERM_FUZZ=ON -DPODTERM_TESTS=OFF >/dev/null &&
        cmake --build "$fuzz" -j "$jobs" || return 1
    FUZZ_BUILD=$fuzz FUZZ_SECONDS=${FUZZ_SECONDS:-1} FUZZ_KEEP=0 FUZZ_JOBS=$jobs tests/fuzz/run.sh
}

suite_interop() {
    [ -d tests/interop ] || return 0
    PODTERM_TEST_LOGS=$root/tests/out/interop /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/interop
}

suite_gateway() {
    # Gateway mode against an upstream podterm serving TLS (tests/gateway/conftest.py).
    [ -d tests/gateway ] || return 0
    PODTERM_TEST_LOGS=$root/tests/out/gateway /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/gateway
}

suite_admission() {
    # Authorization (RBAC, ExecPolicy) and the audit log, local and gateway
    # mode, with real kubectl (tests/admission/conftest.py).
    [ -d tests/admission ] || return 0
    PODTERM_TEST_LOGS=$root/tests/out/admission /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/admission
}

suite_deploy() {
    # Offline checks of deploy/ (tests/deploy/): manifests, Helm chart renderings, Containerfile.
    [ -d tests/deploy ] || return 0
    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/deploy
}

suite_faults() {
    # Fault injection (tests/faults/): every N-th allocation failure of a scripted
    # session ends cleanly (the sweep prints the N it chose), and descriptor
    # exhaustion is refused cleanly and recovered from.
    [ -d tests/faults ] || return 0
    PODTERM_FAULTS_BIN=$root/$asan/podterm-faults /usr/bin/python3 tests/faults/alloc_sweep.py &&
        /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/faults
}

suite_hostile() {
    # Hostile peers over real sockets against local, TLS and gateway fronts
    # (tests/hostile/conftest.py); HOSTILE_SEED replays another random seed.
    [ -d tests/hostile ] || return 0
    PODTERM_TEST_LOGS=$root/tests/out/hostile /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/hostile
}

# The browser tests that mostly wait (a rules review that never answers holds
# the picker back 5 s, on purpose): in a full run they run apart from the
# rest, after interop, where their waits cost nothing.
E2E_WAITS=(tests/e2e/authz.test.mjs)

suite_e2e() {
    [ -d tests/e2e ] && ls tests/e2e/*.test.mjs >/dev/null 2>&1 || return 0
    node --test --test-concurrency=1 tests/e2e/
}

suite_e2e_rest() {
    local f files=()
    for f in tests/e2e/*.test.mjs; do
        [[ " ${E2E_WAITS[*]} " == *" $f "* ]] || files+=("$f")
    done
    node --test --test-concurrency=1 "${files[@]}"
}

suite_e2e_waits() {
    node --test --test-concurrency=1 "${E2E_WAITS[@]}"
}

suite_bench_smoke() {
    # bench/run.sh at CI size against the ASan build (bench tools built there too):
    # every load generator mode, both client engines; byte counts, CRC-32s,
    # statuses and close codes are checked, timings are not. About 10 s.
    PODTERM_BIN=$root/$asan/podterm BENCH_TOOLS=$root/$asan bench/run.sh --smoke
}

suite_coverage() {
    # Merge the profiles every process of the suites wrote; report src/ only,
    # over podterm, the unit tests (which link parts the server may not) and
    # the fault-injection build.
    [ "$coverage" = ON ] || { echo "coverage: PODTERM_COVERAGE=OFF, nothing measured"; return 1; }
    local raw=("$profiles"/*.profraw)
    [ -e "${raw[0]}" ] || { echo "coverage: no profiles in $profiles (run the suites first)"; return 1; }
    local data=$root/$asan/coverage.profdata list=$root/$asan/profiles.txt objects=() t
    printf '%s\n' "${raw[@]}" >"$list" # a file: thousands of names may not fit one command line
    # A process killed while writing its profile (SIGKILL on purpose, or a
    # sanitizer abort that fails its suite anyway) leaves a corrupt file:
    # llvm-profdata names it and merges the rest.
    llvm-profdata-14 merge -sparse --failure-mode=all -f "$list" -o "$data" || return 1
    # The fault-injection build (tests/faults/) reaches the out-of-memory
    # paths no client can: its profiles count for the same sources.
    for t in "$asan"/test_* "$asan"/podterm-faults; do
        [ -x "$t" ] && objects+=(-object "$t")
    done
    echo "coverage: ${#raw[@]} profiles merged into $data"
    llvm-cov-14 export -summary-only -instr-profile "$data" "$asan/podterm" "${objects[@]}" \
        "$root/src" | /usr/bin/python3 scripts/coverage_report.py tests/coverage-floor.txt
}

# Suites side by side (a full run only): each of the socket suites keeps a
# core busy for about two thirds of its time (it waits on timers, lws's
# close handshakes and its clients), and the browser suite a little more
# than one (Chromium), so the three groups share a 2-core machine. They are
# balanced to end together (each about 560 s in a fresh-clone run on 2
# cores): whatever runs after the others have ended runs on a machine with
# a core to spare. Each writes
# to its own log; all are printed, one after the other, when all are done,
# and each counts as a suite of its own. Arguments: groups of suites, the
# suites of one group one after the other ("gateway hostile").
run_side_by_side() {
    local dir=tests/out/suite-logs group s pids=()
    mkdir -p "$dir"
    for group in "$@"; do
        (
            for s in $group; do
                t0=$SECONDS
                "suite_$s" >"$dir/$s.log" 2>&1
                echo "$? $((SECONDS - t0))" >"$dir/$s.rc"
            done
        ) &
        pids+=($!)
    done
    wait "${pids[@]}"
    for group in "$@"; do
        for s in $group; do
            local rc=1 secs=?
            echo "=== suite: $s (side by side: $*)"
            cat "$dir/$s.log"
            [ -f "$dir/$s.rc" ] && read -r rc secs <"$dir/$s.rc"
            suite_result "$s" "$rc" "$secs"
        done
    done
    rm -f "$dir"/*.rc
}

suites=("$@")
# A run of any suite starts a fresh measurement; "coverage" alone reads the last one.
if [ "$coverage" = ON ] && [ "${suites[*]}" != coverage ]; then
    rm -rf "$profiles"
    mkdir -p "$profiles"
fi

run_suite build-gcc build_gcc
run_suite build-asan build_asan
if [ "$failed" -eq 0 ] && [ $# -eq 0 ]; then
    # The full run: every suite, the fault injection (tests/faults/) and the
    # deploy/ checks (tests/deploy/) included, then the coverage step.
    run_suite unit suite_unit
    run_suite fuzz suite_fuzz
    run_side_by_side "interop e2e_waits" "gateway hostile admission faults deploy" "e2e_rest"
    run_suite bench_smoke suite_bench_smoke
    [ "$coverage" = ON ] && run_suite coverage suite_coverage
elif [ "$failed" -eq 0 ]; then
    for s in "${suites[@]}"; do
        run_suite "$s" "suite_$s"
    done
fi

echo
[ ${#failed_names[@]} -gt 0 ] && echo "failed suites: ${failed_names[*]}"
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
