#!/usr/bin/env bash
# Runs the whole test suite. Builds every test target once (`cargo test --workspace --all-targets
# --no-run`), then runs each test binary from its package's directory, as cargo would, but under a
# time limit of its own (ORDO_TEST_BINARY_LIMIT, 20 minutes by default): a test that hangs fails its
# binary ("timed out") instead of holding the whole run until CI gives up. Every binary runs even
# when an earlier one fails; the run closes with one summary line over all of them ("N passed, N
# failed, N skipped in B test binaries"), the binaries that failed, and any process the run left
# behind (a dev server, an `ordo worker`, …), which fails the run too. Exits non-zero when anything
# failed. Arguments are passed to every test binary (a name filter, `--nocapture`, …).
set -uo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
limit=${ORDO_TEST_BINARY_LIMIT:-20m}
log=$(mktemp)
binaries=$(mktemp)
trap 'rm -f "$log" "$binaries"' EXIT

# Every process the tests start inherits this mark, so what outlives the run is told apart from
# other people's servers and workers on the same machine.
export ORDO_TEST_RUN="$$-$RANDOM$RANDOM"
mark="ORDO_TEST_RUN=$ORDO_TEST_RUN"

# One line per test binary: executable, package directory, package name, and what cargo would call
# it ("unittests src/lib.rs", "tests/api.rs").
cargo test --workspace --all-targets --no-run --message-format=json-render-diagnostics \
    | jq -r 'select(.reason == "compiler-artifact" and .profile.test and .executable != null)
             | (.manifest_path | rtrimstr("/Cargo.toml")) as $dir
             | (.package_id | split("#")) as $id
             | [.executable, $dir,
                (if ($id[1] | contains("@")) then ($id[1] | split("@")[0]) else ($id[0] | split("/")[-1]) end),
                (if .target.kind[0] == "test" then "" else "unittests " end) + (.target.src_path | ltrimstr($dir + "/"))]
             | @tsv' \
    > "$binaries"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
    echo "the test targets did not build (see above)"
    exit "$status"
fi

run_binaries() {
    local exe dir package source code failed=0
    while IFS=$'\t' read -r exe dir package source; do
        echo "     Running $source (${exe#"$PWD"/})"
        (cd "$dir" && CARGO_MANIFEST_DIR="$dir" CARGO_PKG_NAME="$package" \
            timeout --kill-after=30s "$limit" "$exe" --test-threads=2 "$@" </dev/null)
        code=$?
        # 124: stopped by `timeout`; 137: SIGKILL, from `timeout` when the stop was ignored, or another.
        if [ "$code" -eq 124 ]; then
            echo "timed out: ${exe##*/} ran longer than $limit and was stopped (its tests still running are named above)"
        elif [ "$code" -eq 137 ]; then
            echo "killed: ${exe##*/} got SIGKILL (after $limit if it ignored the stop; else out of memory or by hand)"
        fi
        [ "$code" -ne 0 ] && failed=1
    done < "$binaries"
    return "$failed"
}
run_binaries "$@" 2>&1 | tee "$log"
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
