# Sourced by tests/run-all.sh and tests/run-native.sh: run_suite and the totals it keeps.
total_pass=0
total_fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# run_suite LABEL CMD... : runs CMD, shows its output, adds the counts of its last
# "P passed, F failed" line; a suite that crashes or prints no counts is one failure.
run_suite() {
    local label=$1
    shift
    echo "== $label"
    "$@" 2>&1 | tee "$log" | tail -n 40
    local rc=${PIPESTATUS[0]}
    local line
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        echo "$label: no result line (exit $rc): counted as 1 failure"
        total_fail=$((total_fail + 1))
        return
    fi
    local p f
    p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')
    f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "$label: exited $rc with no failures counted: counted as 1 failure"
        total_fail=$((total_fail + 1))
    fi
}
