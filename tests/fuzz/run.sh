#!/usr/bin/env bash
# Runs the libFuzzer targets, FUZZ_JOBS at a time, and prints, per target
# in the order given: executions, executions per second, coverage (cov: edges,
# ft: features, from libFuzzer's final stats) and crashes. Exits non-zero if
# any target crashed, leaked, timed out or could not run.
#
# Usage: tests/fuzz/run.sh [TARGET...]          (default: every fuzz_* built)
# Environment:
#   FUZZ_BUILD    build directory with the targets (default build-fuzz)
#   FUZZ_SECONDS  seconds per target (default 600: a campaign)
#   FUZZ_MAX_LEN  -max_len (default 4096)
#   FUZZ_JOBS     targets run at once (default 1; each is one process and
#                 one core)
#   FUZZ_KEEP     1: keep the grown corpus in tests/out/fuzz-corpus/<target>
#                 between runs (default 1; 0 starts from the seeds each time)
#
# Seeds come from tests/fuzz/corpus/<target>/, a dictionary from
# tests/fuzz/<target>.dict when there is one. Crashing inputs are saved to
# tests/out/fuzz-crashes/<target>/, each run's log to tests/out/fuzz-logs/.
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${FUZZ_BUILD:-build-fuzz}
seconds=${FUZZ_SECONDS:-600}
max_len=${FUZZ_MAX_LEN:-4096}
keep=${FUZZ_KEEP:-1}
jobs=${FUZZ_JOBS:-1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# the fuzz targets' own suppressions (libfyaml's leaks; see the file), after
# any the caller gave, so that they win
export LSAN_OPTIONS=${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$PWD/tests/fuzz/lsan.supp

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for t in "$build"/fuzz_*; do
        [ -x "$t" ] && [ -f "$t" ] && targets+=("$(basename "$t")")
    done
fi
[ ${#targets[@]} -gt 0 ] || { echo "fuzz: no targets in $build" >&2; exit 1; }

mkdir -p tests/out/fuzz-logs
rows=$(mktemp -d)
trap 'rm -rf "$rows"' EXIT

# One target: its row (and, when it failed, the report's lines that matter)
# into $rows/<target>; the file's first word says ok or FAILED.
fuzz_one() {
    local name=$1
    local bin=$build/$name
    local seeds=tests/fuzz/corpus/$name
    local work=tests/out/fuzz-corpus/$name
    local crashes=tests/out/fuzz-crashes/$name
    local log=tests/out/fuzz-logs/$name.log
    [ "$keep" = 1 ] || rm -rf "$work"
    mkdir -p "$work" "$crashes"
    local args=(-max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048
        -print_final_stats=1 -artifact_prefix="$crashes/")
    [ -f "tests/fuzz/$name.dict" ] && args+=(-dict="tests/fuzz/$name.dict")
    local dirs=("$work")
    [ -d "$seeds" ] && dirs+=("$seeds")
    local before after rc new execs rate cov ft result
    before=$(find "$crashes" -type f | wc -l)
    # stdin from /dev/null: loaders may be pointed at /proc/self/fd/0 by an input
    # (in a subshell whose stderr is dropped: bash's own "Aborted" line for a
    # target killed by a signal would only repeat what the report says)
    ("$bin" "${args[@]}" "${dirs[@]}" </dev/null >"$log" 2>&1) 2>/dev/null
    rc=$?
    after=$(find "$crashes" -type f | wc -l)
    new=$((after - before))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    # the last status line ("#N DONE cov: X ft: Y ..." or the last before a crash)
    cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
    ft=$(grep -Eo 'ft: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
    result=ok
    if [ "$rc" -ne 0 ] || [ "$new" -gt 0 ]; then
        result="FAILED (exit $rc, log $log)"
    fi
    {
        printf '%-22s %12s %9s %7s %7s %8s  %s\n' "$name" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
            "${ft:-?}" "$new" "$result"
        if [ "$result" != ok ]; then
            # the report, and the frames in podterm's own code
            grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix)| #[0-9]+ .*/(src|tests/fuzz)/' "$log" |
                head -n 8 | sed 's/^/    /'
        fi
    } >"$rows/$name"
}

printf '%-22s %12s %9s %7s %7s %8s  %s\n' target execs exec/s cov ft crashes result
for name in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
        wait -n
    done
    fuzz_one "$name" &
done
wait
failed=0
for name in "${targets[@]}"; do
    if [ -s "$rows/$name" ]; then
        cat "$rows/$name"
    else
        printf '%-22s  FAILED (no result)\n' "$name"
    fi
    read -r _ _ _ _ _ _ result _ <"$rows/$name" 2>/dev/null || result=FAILED
    [ "$result" = ok ] || failed=$((failed + 1))
done
[ "$failed" -eq 0 ]
