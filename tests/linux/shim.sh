#!/usr/bin/env bash
# The containerd shim v2 (issue #17): containerd 1.6 (Debian's, started here with a config in a
# temporary directory) runs Wasm images through wasmbox as containerd-shim-wasmedge-v1 and
# containerd-shim-wasmbox-v1 (links to the wasmbox binary): `ctr run --rm` output and exit
# status, `run -d`, `task ls/ps/exec/kill/delete`, events (Docker-style exits), and nothing left
# behind (no shim process, socket or state). With no link installed, containerd's own message is
# the seed's troubleshooting text.
# Needs root and containerd/ctr (scripts/deps.sh); skips with a message otherwise.
# Usage: BUILD=build bash tests/linux/shim.sh   (prints "linux-shim: P passed, F failed")
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${BUILD:-build}" && pwd)
passed=0
failed=0
if [ "$(id -u)" != 0 ] || ! command -v containerd >/dev/null || ! command -v ctr >/dev/null; then
    echo "linux-shim: skipped: needs root, containerd and ctr (scripts/deps.sh)"
    echo "linux-shim: 0 passed, 0 failed, 1 skipped"
    exit 0
fi
T=$(mktemp -d)
export WASMBOX_ROOT=$T/wbroot
CPID=
cleanup() {
    [ -n "$CPID" ] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null
    pkill -f "containerd-shim-(wasm|spin|wws|slight|lunatic).*-namespace wbt" 2>/dev/null
    grep -o "$T/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
# shellcheck source=tests/linux/harness.sh
. "$TOP/tests/linux/harness.sh"

mkdir -p "$T/bin" "$T/nobin"
for rt in wasmbox-v1 wasmedge-v1 spin-v2 wws-v1 slight-v1 lunatic-v1; do ln -s "$BUILD/wasmbox" "$T/bin/containerd-shim-$rt"; done
printf 'version = 2\nroot = "%s/root"\nstate = "%s/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "%s/c.sock"\n[ttrpc]\n  address = "%s/c.sock.ttrpc"\n' \
    "$T" "$T" "$T" "$T" >"$T/c.toml"
PATH=$T/bin:$PATH containerd --config "$T/c.toml" >"$T/containerd.log" 2>&1 &
CPID=$!
C=(ctr -a "$T/c.sock" -n wbt)
wait_for 10 test -S "$T/c.sock" || fail "containerd did not start"

# images: hello, a module exiting 3, and the http-hello server with the http-fetch client
mkdir -p "$T/img"
cp "$BUILD/examples/hello/hello.wasm" "$BUILD/examples/http-hello/http-hello.wasm" \
    "$BUILD/examples/http-hello/http-fetch.wasm" "$T/img/"
printf '(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))) (func (export "_start") i32.const 3 call 0))' >"$T/exit3.wat"
wat2wasm "$T/exit3.wat" -o "$T/img/exit3.wasm"
printf 'FROM scratch\nCOPY . /\nENTRYPOINT ["/hello.wasm"]\n' >"$T/img/Dockerfile"
"$BUILD/wasmbox" build -q --platform wasi/wasm -t wb/wasm:1 "$T/img" >/dev/null || fail "build the image"
"$BUILD/wasmbox" save wb/wasm:1 -o "$T/wasm.tar" || fail "save the image"
"${C[@]}" image import --all-platforms "$T/wasm.tar" >/dev/null 2>&1 || fail "ctr image import"
IMG=docker.io/wb/wasm:1
RUN=("${C[@]}" run --platform wasi/wasm)

expect run-rm 0 "Hello from WebAssembly!" "" -- "${RUN[@]}" --rm --runtime io.containerd.wasmedge.v1 "$IMG" t1
expect run-rm-wasmbox 0 "Hello from WebAssembly!" "" -- "${RUN[@]}" --rm --runtime io.containerd.wasmbox.v1 "$IMG" t2
expect exit-status 3 "" "" -- "${RUN[@]}" --rm --runtime io.containerd.wasmedge.v1 "$IMG" t3 /exit3.wasm
# the server's module compiled into the node's cache ($WASMBOX_ROOT/native, which the shim reads)
expect compile-node-cache 0 "" "" -- "$BUILD/wasmbox" compile -q "$T/img/http-hello.wasm"
expect run-d 0 "" "" -- bash -c "ctr -a '$T/c.sock' -n wbt run --platform wasi/wasm -d --runtime io.containerd.wasmedge.v1 $IMG srv /http-hello.wasm 8080 >/dev/null"
task_running() { "${C[@]}" task ls | awk '$1 == "srv" { print $3 }' | grep -qx RUNNING; }
check task-ls-running wait_for 5 task_running
check task-tier-native wait_for 5 grep -qx native /run/wasmbox-shim/wbt/srv/tier
expect task-ps 0 "1" "" -- bash -c "ctr -a '$T/c.sock' -n wbt task ps srv | tail -n +2 | wc -l"
fetch() { "${C[@]}" task exec --exec-id f$RANDOM srv /http-fetch.wasm 127.0.0.1 8080 / 2>/dev/null | grep -q 'Hello from wasmbox'; }
check task-exec-in-netns wait_for 5 fetch
# Pause/Resume: the task's cgroup frozen (at containerd's cgroupsPath /wbt/srv), the events sent
"${C[@]}" events >"$T/pause-events" 2>&1 &
PEV=$!
sleep 0.3
expect task-pause 0 "" "" -- "${C[@]}" task pause srv
task_paused() { "${C[@]}" task ls | awk '$1 == "srv" { print $3 }' | grep -qx PAUSED; }
check task-ls-paused task_paused
if [ -d /sys/fs/cgroup/freezer ]; then
    check task-cgroup-frozen grep -qx FROZEN /sys/fs/cgroup/freezer/wbt/srv/freezer.state
fi
expect task-resume 0 "" "" -- "${C[@]}" task resume srv
check task-ls-running-again task_running
check task-serves-after-resume wait_for 5 fetch
sleep 0.3
kill $PEV 2>/dev/null
# Stats (ctr task metrics) from the task's cgroup (ctr 1.6 has no `task update`: Update is
# wasmbox-runc's update, tested in oci.sh)
"${C[@]}" task metrics srv >"$T/metrics" 2>&1
check metrics-pids awk '$1 == "pids.current" && $2 >= 1 { ok = 1 } END { exit !ok }' "$T/metrics"
check metrics-memory awk '$1 == "memory.usage_in_bytes" && $2 > 0 { ok = 1 } END { exit !ok }' "$T/metrics"
check metrics-cpu awk '$1 == "cpuacct.usage" && $2 > 0 { ok = 1 } END { exit !ok }' "$T/metrics"
check events-paused grep -q "/tasks/paused" "$T/pause-events"
check events-resumed grep -q "/tasks/resumed" "$T/pause-events"
expect kill 0 "" "" -- "${C[@]}" task kill -s SIGKILL srv
task_stopped() { "${C[@]}" task ls | awk '$1 == "srv" { print $3 }' | grep -qx STOPPED; }
check task-ls-stopped wait_for 5 task_stopped
expect task-delete 0 "" "" -- bash -c "ctr -a '$T/c.sock' -n wbt task delete srv >/dev/null"
expect container-rm 0 "" "" -- "${C[@]}" container rm srv
# events: a /tasks/exit for each task (what Docker listens to instead of Wait)
"${C[@]}" events >"$T/events" 2>&1 &
EV=$!
sleep 0.3
"${RUN[@]}" --rm --runtime io.containerd.wasmedge.v1 "$IMG" t4 >/dev/null
sleep 0.3
kill $EV 2>/dev/null
check events-exit grep -q "/tasks/exit" "$T/events"
check events-start grep -q "/tasks/start" "$T/events"
check events-delete grep -q "/tasks/delete" "$T/events"
# a Linux image through the same shim (the static core hands the process to wasmbox-full)
"$TOP/scripts/test-images.sh" load busybox "$BUILD/wasmbox" >/dev/null || fail "load busybox"
"$BUILD/wasmbox" save busybox -o "$T/busybox.tar" || fail "save busybox"
"${C[@]}" image import "$T/busybox.tar" >/dev/null 2>&1 || fail "ctr image import busybox"
BB=docker.io/library/busybox:latest
LRUN=("${C[@]}" run --runtime io.containerd.wasmbox.v1)
expect linux-run-rm 4 "hi from busybox
uid=0(root) gid=0(root)" "" -- "${LRUN[@]}" --rm "$BB" lx1 sh -c 'echo hi from busybox; id | cut -d" " -f1,2; exit 4'
expect linux-run-d 0 "" "" -- bash -c "ctr -a '$T/c.sock' -n wbt run --runtime io.containerd.wasmbox.v1 -d $BB lx2 sleep 60 >/dev/null"
lx_running() { "${C[@]}" task ls | awk '$1 == "lx2" { print $3 }' | grep -qx RUNNING; }
check linux-task-running wait_for 5 lx_running
expect linux-task-exec 0 "in lx2 1" "" -- "${C[@]}" task exec --exec-id e1 lx2 sh -c 'echo in lx2 $(ps -o args | grep -c "^[s]leep 60")'
expect linux-task-kill 0 "" "" -- "${C[@]}" task kill -s SIGKILL lx2
lx_stopped() { "${C[@]}" task ls | awk '$1 == "lx2" { print $3 }' | grep -qx STOPPED; }
check linux-task-stopped wait_for 5 lx_stopped
expect linux-task-delete 0 "" "" -- bash -c "ctr -a '$T/c.sock' -n wbt task delete lx2 >/dev/null"
expect linux-container-rm 0 "" "" -- "${C[@]}" container rm lx2
# terminals: `ctr run -t` and `ctr task exec -t` under a 33x101 pty of script(1), compared with
# what containerd's own runc shim shows for the same (the size comes by ResizePty)
tty_ctr() { # CTR-ARGS as one string: what the terminal showed, then "rc=N" (\r dropped, and
    # the "^@" the terminal echoes for a NUL byte ctr writes at some point, with runc's shim too)
    script -qec "stty rows 33 cols 101; ctr -a '$T/c.sock' -n wbt $1; echo rc=\$?" /dev/null |
        tr -d '\r' | sed 's/\^@//g'
}
if command -v script >/dev/null && command -v containerd-shim-runc-v2 >/dev/null; then
    TTY_SH="sh -c 'sleep 0.3; tty; stty size; exit 5'"
    want=$(tty_ctr "run -t --rm $BB tr0 $TTY_SH")
    expect tty-linux-runc-reference 0 "1" "" -- bash -c "grep -c '^rc=5' <<<'$want'"
    expect tty-linux 0 "$want" "" -- tty_ctr "run -t --rm --runtime io.containerd.wasmbox.v1 $BB tr1 $TTY_SH"
    check tty-linux-size grep -q '^33 101$' <<<"$want"
    # typed input reaches the shell through the relay; its exit code is the task's
    typed() { (sleep 1; printf 'echo typed-$((1+2))\r'; sleep 0.5; printf 'exit 6\r'; sleep 0.5) | tty_ctr "run -t --rm $1 $BB $2 sh"; }
    typed "" tr2 >"$T/typed.runc"
    typed "--runtime io.containerd.wasmbox.v1" tr3 >"$T/typed.ours"
    check tty-typed-runc grep -q '^typed-3$' "$T/typed.runc"
    check tty-typed grep -q '^typed-3$' "$T/typed.ours"
    check tty-typed-exit grep -q '^rc=6$' "$T/typed.ours"
    # a Wasm task on a terminal (the host's devpts), and exec -t into Linux and Wasm tasks
    expect tty-wasm 0 "$(printf 'Hello from WebAssembly!\nrc=0')" "" -- tty_ctr "run -t --rm --platform wasi/wasm --runtime io.containerd.wasmbox.v1 $IMG tw1"
    expect tty-exec-linux-d 0 "" "" -- bash -c "ctr -a '$T/c.sock' -n wbt run -d --runtime io.containerd.wasmbox.v1 $BB tl1 sleep 60 >/dev/null"
    expect tty-exec-linux 0 "$(printf '/dev/pts/0\nrc=4')" "" -- tty_ctr "task exec -t --exec-id e1 tl1 sh -c 'tty; exit 4'"
    expect tty-exec-wasm-d 0 "" "" -- bash -c "ctr -a '$T/c.sock' -n wbt run -d --platform wasi/wasm --runtime io.containerd.wasmbox.v1 $IMG tw2 /http-hello.wasm 8089 >/dev/null"
    expect tty-exec-wasm 0 "$(printf 'Hello from WebAssembly!\nrc=0')" "" -- tty_ctr "task exec -t --exec-id e2 tw2 /hello.wasm"
    expect tty-exec-wasm-status 0 "rc=3" "" -- tty_ctr "task exec -t --exec-id e3 tw2 /exit3.wasm"
    for id in tl1 tw2; do
        "${C[@]}" task kill -s SIGKILL "$id" >/dev/null 2>&1
        gone() { "${C[@]}" task ls | awk -v id="$1" '$1 == id { print $3 }' | grep -qx STOPPED; }
        check "tty-$id-stopped" wait_for 5 gone "$id"
        expect "tty-$id-delete" 0 "" "" -- bash -c "ctr -a '$T/c.sock' -n wbt task delete $id >/dev/null; ctr -a '$T/c.sock' -n wbt container rm $id"
    done
    expect tty-no-console-sockets 1 "" "" -- bash -c "ls -a /run/wasmbox-shim/wbt | grep console"
else
    echo "linux-shim: terminals skipped: no script(1) or containerd-shim-runc-v2"
fi
# binary:// loggers (ctr --log-uri): the task's stdout and stderr reach the logger's fds 3 and 4
cat >"$T/logger.sh" <<'LOGGER'
#!/bin/sh
out=$2
exec 5>&- # ready (closed before the readers start: they must not hold it)
cat <&3 >"$out.out" &
cat <&4 >"$out.err" &
wait
echo "$CONTAINER_ID $CONTAINER_NAMESPACE $1" >"$out.env"
LOGGER
chmod +x "$T/logger.sh"
expect logger-wasm 0 "" "" -- "${RUN[@]}" -d --runtime io.containerd.wasmedge.v1 --log-uri "binary://$T/logger.sh?out=$T/lg1" "$IMG" lg1
check logger-wasm-ended wait_for 10 test -s "$T/lg1.env"
check logger-wasm-stdout grep -q "Hello from WebAssembly!" "$T/lg1.out"
expect logger-env 0 "lg1 wbt out" "" -- cat "$T/lg1.env"
"${C[@]}" task delete lg1 >/dev/null 2>&1
"${C[@]}" container rm lg1 >/dev/null 2>&1
expect logger-linux 0 "" "" -- "${LRUN[@]}" -d --log-uri "binary://$T/logger.sh?out=$T/lg2" "$BB" lg2 sh -c 'echo to-out; echo to-err >&2'
check logger-linux-ended wait_for 10 test -s "$T/lg2.env"
expect logger-linux-stdout 0 "to-out" "" -- cat "$T/lg2.out"
expect logger-linux-stderr 0 "to-err" "" -- cat "$T/lg2.err"
"${C[@]}" task delete lg2 >/dev/null 2>&1
"${C[@]}" container rm lg2 >/dev/null 2>&1
expect logger-missing 1 "" "binary:// logger" -- "${RUN[@]}" -d --runtime io.containerd.wasmedge.v1 --log-uri "binary://$T/no-such-logger" "$IMG" lg3
"${C[@]}" container rm lg3 >/dev/null 2>&1
# OOM: a task past its memory limit is killed by the kernel's OOM killer; /tasks/oom is published
if [ -f /sys/fs/cgroup/memory/memory.oom_control ]; then
    "${C[@]}" events >"$T/oom-events" 2>&1 &
    OEV=$!
    sleep 1 # subscribed (a loaded machine takes longer than the other event tests allow)
    expect linux-oom-killed 137 "" "" -- "${LRUN[@]}" --rm --memory-limit 16777216 "$BB" oom1 \
        sh -c 'x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo survived'
    sleep 1
    kill $OEV 2>/dev/null
    check linux-oom-event grep -q "/tasks/oom" "$T/oom-events"
    check linux-oom-event-before-exit python3 -c "
import sys
lines = [l for l in open('$T/oom-events') if 'oom1' in l or '/tasks/oom' in l]
topics = [t for l in lines for t in ('/tasks/oom', '/tasks/exit') if t in l]
sys.exit(0 if topics and topics[0] == '/tasks/oom' else 1)"
    # a task that stays within its limit: no event
    "${C[@]}" events >"$T/oom-events2" 2>&1 &
    OEV=$!
    sleep 0.3
    expect linux-no-oom 0 "" "" -- "${LRUN[@]}" --rm --memory-limit 16777216 "$BB" oom2 true
    sleep 0.3
    kill $OEV 2>/dev/null
    check linux-no-oom-event bash -c "! grep -q /tasks/oom '$T/oom-events2'"
fi
# the application runtimes through their shims (containerd-shim-spin-v2, -wws-v1): the app at
# the image's root served in the task's network namespace (a new one: reached with nsenter)
WASI_CC=(clang --target=wasm32-wasi --sysroot=/usr -O2 -Wl,--strip-debug)
if "${WASI_CC[@]}" -o "$T/wagi.wasm" "$TOP/tests/apps/spin/wagi.c" 2>/dev/null; then
    mkdir -p "$T/spinapp" "$T/wwsapp" "$T/slightapp" "$T/lunaticapp"
    "${WASI_CC[@]}" -o "$T/lunaticapp/app.wasm" "$TOP/tests/apps/lunatic/app.c" || fail "build the lunatic app"
    printf 'FROM scratch\nCOPY . /\nENTRYPOINT ["/app.wasm"]\n' >"$T/lunaticapp/Dockerfile"
    "${WASI_CC[@]}" -o "$T/slightapp/app.wasm" "$TOP/tests/apps/slight/app.c" || fail "build the slight app"
    printf 'specversion = "0.2"\n[[capability]]\nresource = "http"\nname = "api"\n[[capability]]\nresource = "keyvalue.filesystem"\nname = "my-store"\n' >"$T/slightapp/slightfile.toml"
    printf 'FROM scratch\nCOPY . /\nENTRYPOINT ["/"]\n' >"$T/slightapp/Dockerfile"
    cp "$T/wagi.wasm" "$T/spinapp/"
    "${WASI_CC[@]}" -mexec-model=reactor -o "$T/spinapp/spin2.wasm" "$TOP/tests/apps/spin/spin2.c" || fail "build the Spin 2 component"
    printf 'spin_manifest_version = 2\n[application]\nname = "shim-app"\n[[trigger.http]]\nroute = "/spin2/..."\ncomponent = "s2"\n[[trigger.http]]\nroute = "/..."\ncomponent = "cgi"\nexecutor = { type = "wagi" }\n[component.cgi]\nsource = "wagi.wasm"\nenvironment = { MODE = "shim" }\n[component.s2]\nsource = "spin2.wasm"\n' >"$T/spinapp/spin.toml"
    printf 'FROM scratch\nCOPY . /\nENTRYPOINT ["/"]\n' >"$T/spinapp/Dockerfile"
    "${WASI_CC[@]}" -o "$T/wwsapp/index.wasm" "$TOP/tests/apps/wws/worker.c" || fail "build the wws worker"
    printf 'FROM scratch\nCOPY . /\nENTRYPOINT ["/"]\n' >"$T/wwsapp/Dockerfile"
    for app in spinapp wwsapp slightapp lunaticapp; do
        "$BUILD/wasmbox" build -q --platform wasi/wasm -t "wb/$app:1" "$T/$app" >/dev/null || fail "build $app"
        "$BUILD/wasmbox" save "wb/$app:1" -o "$T/$app.tar" || fail "save $app"
        "${C[@]}" image import --all-platforms "$T/$app.tar" >/dev/null 2>&1 || fail "import $app"
    done
    task_pid() { "${C[@]}" task ls | awk -v id="$1" '$1 == id { print $2 }'; }
    in_task() { # ID URL: curl in the task's network namespace
        local pid
        pid=$(task_pid "$1")
        [ -n "$pid" ] && nsenter --net="/proc/$pid/ns/net" curl -s -m 5 "$2"
    }
    serves() { in_task "$1" "$2" >/dev/null; }
    run_d() { "${C[@]}" run -d --platform wasi/wasm "$@" >/dev/null; }
    expect spin-shim-run 0 "" "" -- run_d --runtime io.containerd.spin.v2 docker.io/wb/spinapp:1 spin1 /
    check spin-shim-serves wait_for 10 serves spin1 http://127.0.0.1:80/x/env
    in_task_grep() { in_task "$1" "$2" | grep "$3"; }
    expect spin-shim-answer 0 "MODE=shim" "" -- in_task_grep spin1 http://127.0.0.1:80/x/env ^MODE
    expect spin2-shim-answer 0 "Hello from Spin 2 (GET /spin2/hello)" "" -- in_task spin1 http://127.0.0.1:80/spin2/hello
    expect wws-shim-run 0 "" "" -- run_d --runtime io.containerd.wws.v1 docker.io/wb/wwsapp:1 wws1 /
    check wws-shim-serves wait_for 10 serves wws1 http://127.0.0.1:3000/
    expect wws-shim-answer 0 "Hello from wws!" "" -- in_task wws1 http://127.0.0.1:3000/
    expect lunatic-shim-run 0 "received 1000 messages, sum 499500" "" -- "${RUN[@]}" --rm --env LUNATIC_MODE=spawn --runtime io.containerd.lunatic.v1 docker.io/wb/lunaticapp:1 lun1
    expect slight-shim-run 0 "" "" -- run_d --runtime io.containerd.slight.v1 docker.io/wb/slightapp:1 slight1 /
    check slight-shim-serves wait_for 10 serves slight1 http://127.0.0.1:3000/fresh
    expect slight-shim-answer 0 "runs=1" "" -- in_task slight1 http://127.0.0.1:3000/fresh
    for id in spin1 wws1 slight1; do
        expect "$id-kill" 0 "" "" -- "${C[@]}" task kill -s SIGTERM "$id"
        stopped() { "${C[@]}" task ls | awk -v id="$1" '$1 == id { print $3 }' | grep -qx STOPPED; }
        check "$id-stopped" wait_for 10 stopped "$id"
        expect "$id-delete" 0 "" "" -- bash -c "ctr -a '$T/c.sock' -n wbt task delete $id >/dev/null; ctr -a '$T/c.sock' -n wbt container rm $id"
    done
else
    echo "linux-shim: the application runtimes' part skipped: no clang for wasm32-wasi"
fi
expect shim-install 0 "containerd-shim-lunatic-v1 containerd-shim-slight-v1 containerd-shim-spin-v2 containerd-shim-wasmbox-v1 containerd-shim-wasmedge-v1 containerd-shim-wasmer-v1 containerd-shim-wasmtime-v1 containerd-shim-wws-v1 wasmbox-runc" "" -- \
    bash -c "'$BUILD/wasmbox' shim install --prefix '$T/inst' >/dev/null && ls '$T/inst' | tr '\n' ' ' | sed 's/ \$//'"
# nothing left: shim servers (live ones), sockets of ours, task state
no_live_shim() { # zombies aside (this VM's PID 1 does not reap the servers it adopts)
    for p in $(pgrep -f 'containerd-shim-(wasm|spin|wws|slight|lunatic).*-namespace wbt'); do
        grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null || return 1
    done
}
check no-shim-left wait_for 5 no_live_shim
expect no-task-state 0 "" "" -- bash -c "ls /run/wasmbox-shim/wbt 2>/dev/null"
expect no-task-left 0 "" "" -- bash -c "ctr -a '$T/c.sock' -n wbt task ls -q"
# the seed's troubleshooting message when the shim is not installed
expect not-installed 1 "" 'binary not installed "containerd-shim-wasmtime-v1"' -- \
    "${RUN[@]}" --rm --runtime io.containerd.wasmtime.v1 "$IMG" t5

echo "linux-shim: $passed passed, $failed failed"
[ "$failed" = 0 ]
