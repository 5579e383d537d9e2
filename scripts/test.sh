#!/usr/bin/env bash
# Runs the whole test suite. Every test binary runs even when an earlier one fails (--no-fail-fast);
# the run closes with one summary line over all of them ("N passed, N failed, N skipped in B test
# binaries"), the binaries that failed, and any process the run left behind (a dev server, an
# `ordo worker`, …), which fails the run too. Exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Every process the tests start inherits this mark, so what outlives the run is told apart from
# other people's servers and workers on the same machine.
export ORDO_TEST_RUN="$$-$RANDOM$RANDOM"
mark="ORDO_TEST_RUN=$ORDO_TEST_RUN"
cargo test --workspace --all-targets --no-fail-fast "$@" -- --test-threads=2 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
unset ORDO_TEST_RUN

# One binary's block runs from its "Running …" line to its "test result:" line; a binary that
# crashed has no result line.
awk -v elapsed=$((SECONDS - started)) '
    function finish() {
        if (name == "") return
        binaries++
        if (!reported) failed_bins = failed_bins sep name " (" source ", crashed before reporting)"
        else if (!ok) failed_bins = failed_bins sep name " (" source ")"
        if (!reported || !ok) sep = ", "
        name = ""
    }
    /^ +Running / {
        finish()
        source = $2 == "unittests" ? $2 " " $3 : $2
        name = $NF; sub(/^\(.*\//, "", name); sub(/-[0-9a-f]+\)$/, "", name)
        reported = 0; ok = 0
        next
    }
    /^test result:/ && name != "" {
        reported = 1; ok = $3 == "ok."
        for (i = 1; i < NF; i++) {
            if ($(i+1) ~ /^passed/) p += $i
            if ($(i+1) ~ /^failed/) f += $i
            if ($(i+1) ~ /^ignored/) s += $i
        }
    }
    END {
        finish()
        printf "\n%d passed, %d failed, %d skipped in %d test binaries (%dm %02ds)\n", p, f, s, binaries, elapsed / 60, elapsed % 60
        if (failed_bins != "") print "failed binaries: " failed_bins
        if (binaries == 0) print "no test binary ran (see the build output above)"
    }' "$log"

# Processes carrying this run's mark. Those the tests tie to their own lifetime die with the test
# process, a moment after it exits; give them that moment.
leftovers() {
    local environ pid
    for environ in /proc/[0-9]*/environ; do
        pid=${environ#/proc/}
        pid=${pid%/environ}
        grep -qzxF "$mark" "$environ" 2>/dev/null && echo "$pid"
    done
}
for _ in 1 2 3 4 5; do
    left=$(leftovers)
    [ -z "$left" ] && break
    sleep 1
done
if [ -n "$left" ]; then
    echo "processes this run left behind (now killed):"
    for pid in $left; do
        ps -o pid=,args= -p "$pid" | cut -c1-200
        kill -KILL "$pid" 2>/dev/null
    done
    status=1
fi
exit "$status"
