#!/usr/bin/env bash
# End-to-end tests of containers without a daemon: run -d, ps, logs (-f), stop, kill, rm, wait,
# start, restart, create, inspect, restart policies, name races, a killed monitor, 100 containers.
# Usage: BUILD=build bash tests/e2e/containers.sh   (prints "e2e-containers: P passed, F failed")
set -uo pipefail
BUILD=${BUILD:-build}
WB=$(cd "$(dirname "$BUILD/wasmbox")" && pwd)/wasmbox
T=$(mktemp -d)
export WASMBOX_ROOT=$T/root
cleanup() {
    "$WB" ps -aq 2>/dev/null | xargs -r "$WB" rm -f >/dev/null 2>&1
    rm -rf "$T"
}
trap cleanup EXIT
passed=0
failed=0

expect() { # NAME WANT_EXIT WANT_STDOUT WANT_STDERR_SUBSTRING -- CMD...
    local name=$1 want_rc=$2 want_out=$3 want_err=$4
    shift 5
    local out err rc
    out=$("$@" 2>"$T/err")
    rc=$?
    err=$(cat "$T/err")
    if [ "$rc" != "$want_rc" ] || [ "$out" != "$want_out" ] ||
        { [ -n "$want_err" ] && [[ "$err" != *"$want_err"* ]]; }; then
        failed=$((failed + 1))
        echo "FAIL $name: exit $rc (want $want_rc)"
        echo "  stdout: $(printf %q "$out") (want $(printf %q "$want_out"))"
        echo "  stderr: $err"
    else
        passed=$((passed + 1))
    fi
}
check() { # NAME CMD... (passes when CMD succeeds)
    local name=$1
    shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $name"; fi
}
state() { "$WB" inspect --format "{{.State.$2}}" "$1"; }
wait_for() { # SECONDS CMD...: poll until CMD succeeds
    local deadline=$((SECONDS + $1))
    shift
    while ! "$@" 2>/dev/null; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.05
    done
}

clang --target=wasm32-wasi --sysroot=/usr -O2 -o "$T/hello.wasm" tests/e2e/fixtures/hello.c
python3 tests/e2e/fixtures/mkartifact.py "$WASMBOX_ROOT" "$T/hello.wasm" docker.io/library/hello:latest >/dev/null

# run -d prints a 64-hex ID and returns at once; the container runs on
id=$("$WB" run -d --name spin hello --spin)
check run-d-id bash -c "[[ '$id' =~ ^[0-9a-f]{64}$ ]]"
check run-d-running wait_for 5 test "$(state spin Status)" = running
check ps-lists bash -c "'$WB' ps | grep -Eq '^${id:0:12} +hello +\"hello --spin\" +.* ago +Up .* spin$'"
check ps-quiet bash -c "'$WB' ps -q | grep -qx '${id:0:12}'"
check ps-filter-status bash -c "'$WB' ps -a --filter status=running -q | grep -qx '${id:0:12}'"
check ps-filter-name bash -c "'$WB' ps -a --filter name=spi -q | grep -qx '${id:0:12}'"
expect ps-format 0 "spin running" "" -- "$WB" ps --format '{{.Names}} {{.State}}'
expect rm-running 1 "" "You cannot remove a running container $id" -- "$WB" rm spin
expect stop 0 "spin" "" -- "$WB" stop -t 5 spin
expect stop-exit-code 0 "143" "" -- state spin ExitCode
expect wait-exited 0 "143" "" -- "$WB" wait spin
check ps-hides-exited bash -c "! '$WB' ps -q | grep -q '${id:0:12}'"
check ps-a-shows-exited bash -c "'$WB' ps -a | grep -Eq 'Exited \(143\) .* ago +spin$'"

# start, restart, kill
expect start 0 "spin" "" -- "$WB" start spin
check start-running wait_for 5 test "$(state spin Status)" = running
expect kill-term 0 "spin" "" -- "$WB" kill -s TERM spin
expect wait-killed 0 "143" "" -- "$WB" wait spin
expect restart 0 "spin" "" -- "$WB" restart -t 1 spin
check restart-running wait_for 5 test "$(state spin Status)" = running
expect exec-wasm 127 "" 'exec: "sh": stat /sh: no such file or directory' -- "$WB" exec spin sh
expect kill 0 "spin" "" -- "$WB" kill spin
expect wait-kill9 0 "137" "" -- "$WB" wait spin
expect kill-not-running 1 "" "is not running" -- "$WB" kill spin
expect rm 0 "spin" "" -- "$WB" rm spin
expect rm-gone 1 "" "No such container: spin" -- "$WB" rm spin
check rm-no-dir bash -c "[ ! -d '$WASMBOX_ROOT/containers/$id' ]"

# exit codes through wait, logs
id=$("$WB" run -d --name three hello --exit 3)
expect wait-code 0 "3" "" -- "$WB" wait three
expect logs 0 "hello from wasm" "" -- "$WB" logs three
id=$("$WB" run -d --name lines hello a b c d)
"$WB" wait lines >/dev/null
expect logs-tail 0 $'arg 3: c\narg 4: d' "" -- "$WB" logs --tail 2 lines
check logs-timestamps bash -c "'$WB' logs -t lines | head -1 | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z hello from wasm$'"
expect logs-stderr 0 "hello from wasm" "to stderr" -- bash -c "'$WB' run -d --name errs hello --stderr >/dev/null; '$WB' wait errs >/dev/null; '$WB' logs errs"
expect foreground-logged 0 "hello from wasm" "" -- bash -c "'$WB' run --name fg hello >/dev/null; '$WB' logs fg"

# a foreground run records itself as running (one write, pid = the CLI), stop ends it with 143
"$WB" run --rm --name fgspin hello --spin >/dev/null 2>&1 &
fgpid=$!
check fg-running wait_for 5 bash -c "test \"\$('$WB' inspect --format '{{.State.Status}}' fgspin)\" = running"
check fg-pid test "$(state fgspin Pid)" = "$fgpid"
check fg-ps-up bash -c "'$WB' ps --filter name=fgspin | grep -Eq ' Up .* fgspin$'"
"$WB" stop -t 1 fgspin >/dev/null
wait $fgpid
check fg-stop-143 test $? = 143
check fg-rm-gone bash -c "! '$WB' inspect fgspin >/dev/null 2>&1"

# Ctrl+C on a foreground run stops the container and exits 130
"$WB" run --name sigint hello --spin >/dev/null 2>&1 &
intpid=$!
wait_for 5 bash -c "test \"\$('$WB' inspect --format '{{.State.Status}}' sigint)\" = running"
# (a background job inherits SIGINT ignored until the run installs its handler, just after the
# record says running: a signal that early is lost, so it is sent again until the run ends)
for _ in $(seq 50); do
    kill -INT $intpid 2>/dev/null || break
    sleep 0.1
done
wait $intpid
check sigint-130 test $? = 130
expect sigint-state 0 "exited 130" "" -- "$WB" inspect --format '{{.State.Status}} {{.State.ExitCode}}' sigint

# stdin reaches the module only with -i; -t gives it a pty (CRLF, stderr merged, isatty)
expect stdin-without-i 0 "hello from wasm" "" -- bash -c "echo abc | '$WB' run --rm hello --cat"
expect stdin-with-i 0 $'hello from wasm\nabc' "" -- bash -c "echo abc | '$WB' run --rm -i hello --cat"
expect isatty-without-t 0 $'hello from wasm\nisatty 0 1 2: 0 0 0' "" -- bash -c "'$WB' run --rm hello --isatty </dev/null | cat"
expect tty-isatty 0 $'hello from wasm\r\nisatty 0 1 2: 1 1 1\r' "" -- bash -c "'$WB' run --rm -t hello --isatty | cat"
expect tty-merges-stderr 0 $'hello from wasm\r\nto stderr\r' "" -- bash -c "'$WB' run --rm -t hello --stderr 2>/dev/null"
expect tty-input 0 $'hello from wasm\nabc\ndef' "" -- bash -c "printf 'abc\ndef' | '$WB' run --rm -i -t hello --cat | tr -d '\r'"

# a --rm container's directory is kept as a spare for the next container only when it holds
# nothing but an empty rootfs; nothing of one container reaches another
"$WB" run --rm hello >/dev/null
spare=$WASMBOX_ROOT/containers/.spare/0
check spare-parked bash -c "[ -d '$spare/rootfs' ] && [ -z \"\$(ls -A '$spare/rootfs')\" ]"
expect spare-write 0 "hello from wasm" "" -- "$WB" run --rm hello --write /secret s3cret
check spare-written-not-kept bash -c "[ -z \"\$(find '$WASMBOX_ROOT/containers' -name secret)\" ]"
expect spare-fresh-root 0 $'hello from wasm\nend' "" -- "$WB" run --rm hello --ls /
echo junk >"$spare/rootfs/junk" # a spare that is not clean is not used
expect spare-junk-unseen 0 $'hello from wasm\nend' "" -- "$WB" run --rm hello --ls /
check spare-junk-gone bash -c "[ -z \"\$(find '$WASMBOX_ROOT/containers' -name junk)\" ]"
check spare-name-unlinked bash -c "[ \"\$(stat -c %h '$spare/.name')\" = 1 ] && [ -z \"\$(find '$WASMBOX_ROOT/containers/names' -samefile '$spare/.name')\" ]"
# a spare whose .name a name still links to (a removal killed half-way) is not reused: the
# name's file keeps the ID it had
"$WB" run --rm hello >/dev/null
ln "$spare/.name" "$WASMBOX_ROOT/containers/names/stale"
old=$(cat "$spare/.name")
expect spare-linked-run 0 "hello from wasm" "" -- "$WB" run --rm hello
expect spare-linked-kept 0 "$old" "" -- cat "$WASMBOX_ROOT/containers/names/stale"
rm -f "$WASMBOX_ROOT/containers/names/stale"
check spare-not-listed bash -c "[ \"\$('$WB' ps -aq | wc -l)\" = \"\$(ls '$WASMBOX_ROOT/containers' | grep -cE '^[0-9a-f]{64}$')\" ]"

# the static core runs containers by itself and hands pulls to wasmbox-full beside it; copied
# alone, it says what it misses
if readelf -l "$WB" | grep -q INTERP; then
    echo "(a dynamic build: the static core's tests do not apply)"
else
    mkdir -p "$T/alone"
    cp "$WB" "$T/alone/wasmbox"
    expect core-alone-runs 0 "hello from wasm" "" -- "$T/alone/wasmbox" run --rm hello
    expect core-alone-pull 125 "" "pull needs $T/alone/wasmbox-full" -- "$T/alone/wasmbox" pull localhost:1/x
    expect core-alone-run-missing 125 "" "pulling needs $T/alone/wasmbox-full" -- "$T/alone/wasmbox" run --rm localhost:1/nothing
    expect core-hands-pull 1 "Using default tag: latest" "cannot reach the registry at localhost:1" -- "$WB" pull localhost:1/x
fi
"$WB" run -d -t --name dtty hello --stderr >/dev/null
"$WB" wait dtty >/dev/null
expect tty-detached-logs 0 $'hello from wasm\r\nto stderr\r' "" -- bash -c "'$WB' logs dtty 2>/dev/null"

# labels and the label filter
"$WB" run -d --name lab -l tier=web -l solo hello >/dev/null
"$WB" wait lab >/dev/null
expect label-filter 0 "lab" "" -- "$WB" ps -a --filter label=tier=web --format '{{.Names}}'
expect label-filter-key 0 "lab" "" -- "$WB" ps -a --filter label=solo --format '{{.Names}}'
expect label-filter-none 0 "" "" -- "$WB" ps -a --filter label=tier=db --format '{{.Names}}'
expect label-inspect 0 '{"solo":"","tier":"web"}' "" -- "$WB" inspect --format '{{json .Config.Labels}}' lab

# logs --since
expect logs-since-past 0 "hello from wasm" "" -- "$WB" logs --since 1h lab
expect logs-since-future 0 "" "" -- "$WB" logs --since 2099-01-01T00:00:00Z lab

# unless-stopped restarts a failing workload until stopped
"$WB" run -d --name unless --restart unless-stopped hello --exit 1 >/dev/null
check unless-stopped-restarts wait_for 10 bash -c "test \"\$('$WB' inspect --format '{{.RestartCount}}' unless)\" -ge 2"
"$WB" stop unless >/dev/null
n=$("$WB" inspect --format '{{.RestartCount}}' unless)
sleep 0.5
expect unless-stopped-stays 0 "exited $n" "" -- "$WB" inspect --format '{{.State.Status}} {{.RestartCount}}' unless

# --cpus: a CPU quota on the workload's cgroup (cgroup v1 cpu controller)
if [ -d /sys/fs/cgroup/cpu ] && [ "$(id -u)" = 0 ]; then
    cid=$("$WB" run -d --name cpus --cpus 0.5 hello --spin)
    cg=/sys/fs/cgroup/cpu/wasmbox/$cid
    check cpus-quota wait_for 5 bash -c "test \"\$(cat $cg/cpu.cfs_quota_us)\" = 50000"
    check cpus-member bash -c "grep -qx \"\$('$WB' inspect --format '{{.State.Pid}}' cpus)\" $cg/tasks"
    expect cpus-inspect 0 "500000000" "" -- "$WB" inspect --format '{{.HostConfig.NanoCpus}}' cpus
    "$WB" rm -f cpus >/dev/null
    check cpus-cgroup-gone wait_for 5 test ! -d "$cg"
else
    echo "skip cpus: no cgroup v1 cpu controller here"
fi

# logs -f follows a live container until it ends
"$WB" run -d --name follow hello --spin >/dev/null
"$WB" logs -f follow >"$T/follow.out" 2>&1 &
follower=$!
sleep 0.3
check logs-f-alive kill -0 $follower
"$WB" stop -t 1 follow >/dev/null
check logs-f-ends wait_for 5 bash -c "! kill -0 $follower"
check logs-f-output grep -qx "hello from wasm" "$T/follow.out"

# create + start -a
cid=$("$WB" create --name made hello x)
expect create-state 0 "created" "" -- state made Status
check ps-created bash -c "'$WB' ps -a | grep -Eq ' Created +made$'"
expect start-attach 0 $'hello from wasm\narg 1: x' "" -- "$WB" start -a made
expect start-attach-code 5 "hello from wasm" "" -- bash -c "'$WB' create --name made5 hello --exit 5 >/dev/null; '$WB' start -a made5"

# restart policies
"$WB" run -d --name flaky --restart on-failure:2 hello --exit 1 >/dev/null
restarts() { "$WB" inspect --format '{{.RestartCount}}' "$1"; }
check on-failure-restarts wait_for 15 bash -c "[ \"\$('$WB' inspect --format '{{.RestartCount}} {{.State.Status}}' flaky)\" = '2 exited' ]"
expect on-failure-count 0 "2" "" -- restarts flaky
"$WB" run -d --name fine --restart on-failure:2 hello >/dev/null
"$WB" wait fine >/dev/null
expect on-failure-success 0 "0" "" -- restarts fine
"$WB" run -d --name forever --restart always hello >/dev/null
check always-restarts wait_for 10 bash -c "[ \$('$WB' inspect --format '{{.RestartCount}}' forever) -ge 2 ]"
"$WB" stop -t 1 forever >/dev/null
sleep 0.5
n=$(restarts forever)
sleep 0.5
check stop-ends-always test "$(restarts forever)" = "$n" -a "$(state forever Status)" = exited
expect restart-rm-conflict 125 "" "Conflicting options: --restart and --rm" -- "$WB" run --rm --restart always hello

# names: a second --name fails; racing runs: exactly one wins
expect name-conflict 125 "" "Conflict. The container name \"/three\" is already in use by container" -- "$WB" run --name three hello
for i in $(seq 8); do ("$WB" run -d --name race hello >/dev/null 2>&1; echo $? >"$T/race.$i") & done
wait
check name-race bash -c "[ \$(cat '$T'/race.* | grep -cx 0) -eq 1 ]"
# generated names never run out: 400 unnamed containers all get distinct names (regression: only
# 225 names existed and the digit retry was never reserved, so the 220th-odd create failed)
for i in $(seq 400); do "$WB" create hello >>"$T/names.ids" 2>>"$T/names.err" || echo x >>"$T/names.fail"; done
check generated-names-all-created test ! -e "$T/names.fail" -a "$(wc -l <"$T/names.ids")" -eq 400
xargs "$WB" inspect --format '{{.Name}}' <"$T/names.ids" >"$T/names.txt"
check generated-names-distinct test "$(sort -u "$T/names.txt" | wc -l)" -eq 400
check generated-names-shape bash -c "! grep -Evx '/([a-z]+_[a-z]+[0-9]?|[0-9a-f]{12})' '$T/names.txt'"
xargs "$WB" rm <"$T/names.ids" >/dev/null

# a monitor killed with -9: the container shows as exited, its workload is gone, state readable
"$WB" run -d --name orphan hello --spin >/dev/null
check orphan-running wait_for 5 test "$(state orphan Status)" = running
mon=$(state orphan MonitorPid)
wl=$(state orphan Pid)
kill -9 "$mon"
orphan_exited() { [ "$(state orphan Status)" = exited ]; }
check monitor-dead-status wait_for 5 orphan_exited
check monitor-dead-error bash -c "'$WB' inspect --format '{{.State.Error}}' orphan | grep -q 'vanished without recording its exit'"
check workload-gone wait_for 5 bash -c "! kill -0 $wl"
check ps-after-monitor-death bash -c "'$WB' ps -a | grep -Eq 'Exited \(137\) .* orphan$'"
expect rm-after-monitor-death 0 "orphan" "" -- "$WB" rm orphan

# an image with a root filesystem (built): the container's files persist across restarts
mkdir -p "$T/ctx"
cp "$T/hello.wasm" "$T/ctx/hello.wasm"
printf 'FROM scratch\nCOPY hello.wasm /bin/hello.wasm\nENTRYPOINT ["/bin/hello.wasm"]\n' >"$T/ctx/Dockerfile"
"$WB" build -q --platform wasi/wasm -t fsimg "$T/ctx" >/dev/null
expect rootfs-run 0 $'hello from wasm\narg 1: x' "" -- "$WB" run --rm fsimg x
"$WB" run -d --name fsloop --restart on-failure:2 fsimg --exit 1 >/dev/null
check rootfs-restarts wait_for 15 bash -c "[ \"\$('$WB' inspect --format '{{.RestartCount}} {{.State.Status}}' fsloop)\" = '2 exited' ]"
expect rootfs-restart-logs 0 "3" "" -- bash -c "'$WB' logs fsloop | grep -c 'hello from wasm'"
# the image's files (its layers as root, else its flattened rootfs) are never written by a container
IMGFILES=$WASMBOX_ROOT/images/layers
[ "$(id -u)" = 0 ] || IMGFILES=$WASMBOX_ROOT/images/rootfs
check rootfs-image-files-there [ -n "$(find "$IMGFILES" -path '*/bin/hello.wasm')" ]
check rootfs-image-unchanged bash -c "[ -z \"\$(find '$IMGFILES' -newer '$T/ctx/Dockerfile' -type f ! -path '*/bin/hello.wasm')\" ]"
# the container's own files survive a restart (its overlay mounted again over the same layer)
"$WB" create --name fsr fsimg --read /note.txt >/dev/null
printf kept >"$T/note.txt"
"$WB" cp "$T/note.txt" fsr:/note.txt
expect rootfs-keeps-files 0 $'hello from wasm\nkept' "" -- "$WB" start -a fsr
expect rootfs-keeps-files-restarted 0 $'hello from wasm\nkept' "" -- "$WB" start -a fsr

# inspect shape, --memory
check inspect-shape bash -c "'$WB' inspect three | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; sys.exit(0 if all(k in d for k in (\"Id\",\"Name\",\"Created\",\"State\",\"RestartCount\",\"Config\",\"HostConfig\",\"Platform\",\"Image\")) and all(k in d[\"State\"] for k in (\"Status\",\"Running\",\"ExitCode\",\"Pid\",\"StartedAt\",\"FinishedAt\",\"OOMKilled\")) and d[\"Name\"]==\"/three\" else 1)'"
expect memory-flag 0 "67108864" "" -- bash -c "'$WB' create --name capped --memory 64m hello >/dev/null; '$WB' inspect --format '{{.HostConfig.Memory}}' capped"
expect stats 0 "" "" -- bash -c "'$WB' stats --no-stream >/dev/null"

# container prune removes stopped containers only
"$WB" run -d --name keepme hello --spin >/dev/null
"$WB" run --name pruneme hello >/dev/null
"$WB" container prune -f >/dev/null
check prune-removes bash -c "! '$WB' inspect pruneme >/dev/null 2>&1"
expect prune-keeps-running 0 "running" "" -- "$WB" inspect --format '{{.State.Status}}' keepme
expect prune-none-exited 0 "" "" -- "$WB" ps -aq --filter status=exited
"$WB" rm -f keepme >/dev/null

# 100 detached containers at once, then rm -f on all: no process, no state, no open file left
"$WB" ps -aq | xargs -r "$WB" rm -f >/dev/null
for i in $(seq 100); do "$WB" run -d hello --spin >/dev/null 2>>"$T/many.err" & done
wait
check hundred-started test "$("$WB" ps -q | wc -l)" -eq 100
pids=$("$WB" ps -q | xargs "$WB" inspect --format '{{.State.MonitorPid}} {{.State.Pid}}')
"$WB" ps -aq | xargs -r "$WB" rm -f >/dev/null
check hundred-no-state bash -c "[ -z \"\$(ls '$WASMBOX_ROOT/containers' | grep -v '^names$')\" ] && [ -z \"\$(ls '$WASMBOX_ROOT/containers/names')\" ]"
none_alive() { for p in $pids; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
check hundred-no-process wait_for 10 none_alive  # exited monitors are reaped by init
check hundred-no-open-file bash -c "! ls -l /proc/[0-9]*/fd 2>/dev/null | grep -q -- '$WASMBOX_ROOT/containers/'"

echo "e2e-containers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
