#!/usr/bin/env bash
# Kubernetes' path to wasmbox (issue #17): containerd 1.6's CRI plugin, enabled in a containerd
# started here with a config in a temporary directory, with a runtime handler `wasmbox`
# (runtime_type io.containerd.wasmbox.v1, what a RuntimeClass names), driven by our small CRI
# client (tests/shim/cri_client.c: gRPC over the plugin's socket) as the kubelet drives it:
# RunPodSandbox with the handler (the pod's pause container runs through our shim), then Wasm and
# Linux containers in the pod (CreateContainer, StartContainer, ContainerStatus, the CRI log
# files, ExecSync), StopContainer, StopPodSandbox, RemovePodSandbox, and nothing left behind. The
# pod uses the node's network (no CNI plugins are installed here).
# Needs root, containerd/ctr and libcurl (scripts/deps.sh); skips with a message otherwise.
# Usage: BUILD=build bash tests/linux/cri.sh   (prints "linux-cri: P passed, F failed")
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${BUILD:-build}" && pwd)
CC=${CC:-gcc}
passed=0
failed=0
have_curl_h() { [ -f /usr/include/x86_64-linux-gnu/curl/curl.h ] || [ -f /usr/include/curl/curl.h ]; }
if [ "$(id -u)" != 0 ] || ! command -v containerd >/dev/null || ! command -v ctr >/dev/null ||
    ! have_curl_h; then
    echo "linux-cri: skipped: needs root, containerd, ctr and libcurl (scripts/deps.sh)"
    echo "linux-cri: 0 passed, 0 failed, 1 skipped"
    exit 0
fi
T=$(mktemp -d)
export WASMBOX_ROOT=$T/wbroot
CPID=
cleanup() {
    [ -n "$CPID" ] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null
    pkill -f "containerd-shim-wasmbox-v1 .*-address $T/c.sock" 2>/dev/null
    grep -o "$T/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
# shellcheck source=tests/linux/harness.sh
. "$TOP/tests/linux/harness.sh"

flags=(-std=gnu17 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter -I"$TOP/src")
if [ "${SAN:-0}" = 1 ]; then
    flags+=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
fi
"$CC" "${flags[@]}" -o "$T/cri-client" "$TOP/tests/shim/cri_client.c" "$TOP/src/shim/pb.c" \
    "$TOP"/src/base/*.c -lcurl -ljansson -ldl -lpthread || {
    echo "linux-cri: the CRI client did not build"
    echo "linux-cri: 0 passed, 1 failed"
    exit 1
}
CRI=("$T/cri-client" "$T/c.sock")

# the images, in containerd's k8s.io namespace (the CRI plugin's): a pause image (busybox
# sleeping, as registry.k8s.io/pause would), a Wasm image with hello, an exit-3 module and the
# http-hello server
mkdir -p "$T/bin" "$T/logs" "$T/pause" "$T/img" "$T/cni/bin" "$T/cni/conf"
ln -s "$BUILD/wasmbox" "$T/bin/containerd-shim-wasmbox-v1"
"$TOP/scripts/test-images.sh" load busybox "$BUILD/wasmbox" >/dev/null 2>&1 || fail "load busybox"
printf 'FROM busybox\nCMD ["sleep", "2147483647"]\n' >"$T/pause/Dockerfile"
"$BUILD/wasmbox" build -q -t localhost/wb/pause:1 "$T/pause" >/dev/null || fail "build the pause image"
cp "$BUILD/examples/hello/hello.wasm" "$BUILD/examples/http-hello/http-hello.wasm" "$T/img/"
printf '(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))) (func (export "_start") i32.const 3 call 0))' >"$T/exit3.wat"
wat2wasm "$T/exit3.wat" -o "$T/img/exit3.wasm"
printf 'FROM scratch\nCOPY . /\nENTRYPOINT ["/hello.wasm"]\n' >"$T/img/Dockerfile"
"$BUILD/wasmbox" build -q --platform wasi/wasm -t localhost/wb/wasm:1 "$T/img" >/dev/null || fail "build the Wasm image"
"$BUILD/wasmbox" save localhost/wb/pause:1 -o "$T/pause.tar" || fail "save the pause image"
"$BUILD/wasmbox" save localhost/wb/wasm:1 -o "$T/wasm.tar" || fail "save the Wasm image"

cat >"$T/c.toml" <<EOF
version = 2
root = "$T/root"
state = "$T/state"
[grpc]
  address = "$T/c.sock"
[ttrpc]
  address = "$T/c.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/wb/pause:1"
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$T/cni/bin"
    conf_dir = "$T/cni/conf"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "wasmbox"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.wasmbox]
    runtime_type = "io.containerd.wasmbox.v1"
EOF
PATH=$T/bin:$PATH containerd --config "$T/c.toml" >"$T/containerd.log" 2>&1 &
CPID=$!
wait_for 10 test -S "$T/c.sock" || fail "containerd did not start"
C=(ctr -a "$T/c.sock" -n k8s.io)
"${C[@]}" image import "$T/pause.tar" >/dev/null 2>&1 || fail "ctr image import pause"
"${C[@]}" image import --all-platforms "$T/wasm.tar" >/dev/null 2>&1 || fail "ctr image import wasm"

expect version 0 "containerd $(containerd --version | awk '{print $3}') v1" "" -- "${CRI[@]}" version
expect unknown-handler 2 "" 'no runtime for "nope" is configured' -- "${CRI[@]}" runp pod0 nope "$T/logs"

# the pod: its pause container through our shim, one shim process for the whole pod
POD=$("${CRI[@]}" runp pod1 wasmbox "$T/logs" 2>"$T/err") || fail "runp: $(cat "$T/err")"
expect pod-ready 0 "READY" "" -- "${CRI[@]}" podstatus "$POD"
shim_servers() { # the pod's shim servers (a Wasm task's workload is a child of its server)
    for p in $(pgrep -f "containerd-shim-wasmbox-v1 .*-address $T/c.sock"); do
        pp=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
        grep -q "containerd-shim-wasmbox-v1" "/proc/$pp/cmdline" 2>/dev/null || echo "$p"
    done | wc -l
}
expect pod-pause-sleeps 0 "1" "" -- bash -c "pgrep -x sleep -a | grep -c 'sleep 2147483647'"

# a Wasm container that prints and exits; its output in the CRI log file
create() { "${CRI[@]}" create "$POD" "$@"; }
H=$(create hello "$T/logs" localhost/wb/wasm:1) || fail "create hello"
expect hello-created 0 "CREATED 0 -" "" -- "${CRI[@]}" status "$H"
expect hello-start 0 "" "" -- "${CRI[@]}" start "$H"
exited() { "${CRI[@]}" status "$1" | grep -q '^EXITED'; }
check hello-exits wait_for 10 exited "$H"
expect hello-status 0 "EXITED 0 Completed" "" -- "${CRI[@]}" status "$H"
check hello-log grep -q ' stdout F Hello from WebAssembly!$' "$T/logs/hello.log"
E=$(create exit3 "$T/logs" localhost/wb/wasm:1 /exit3.wasm) || fail "create exit3"
"${CRI[@]}" start "$E" || fail "start exit3"
check exit3-exits wait_for 10 exited "$E"
expect exit3-status 0 "EXITED 3 Error" "" -- "${CRI[@]}" status "$E"

# a Wasm server in the pod (the node's network), reached from the host; ExecSync of another of
# the image's modules in it
PORT=$((20000 + RANDOM % 8000))
S=$(create srv "$T/logs" localhost/wb/wasm:1 /http-hello.wasm "$PORT") || fail "create srv"
"${CRI[@]}" start "$S" || fail "start srv"
expect srv-running 0 "RUNNING 0 -" "" -- "${CRI[@]}" status "$S"
serves() { curl -sf "http://127.0.0.1:$PORT/" | grep -q 'Hello from wasmbox'; }
check srv-serves wait_for 10 serves
expect srv-exec 0 "Hello from WebAssembly!" "" -- "${CRI[@]}" exec "$S" /hello.wasm
expect srv-exec-status 3 "" "" -- "${CRI[@]}" exec "$S" /exit3.wasm

# a Linux container in the same pod: it shares the pod's PID namespace (the pause process is its
# PID 1); ExecSync in it
B=$(create bb "$T/logs" localhost/wb/pause:1 sh -c 'echo from busybox; exec sleep 1000') || fail "create bb"
"${CRI[@]}" start "$B" || fail "start bb"
expect bb-running 0 "RUNNING 0 -" "" -- "${CRI[@]}" status "$B"
check bb-log wait_for 5 grep -q ' stdout F from busybox$' "$T/logs/bb.log"
expect bb-exec-pid-ns 0 "1 sleep 2147483647" "" -- "${CRI[@]}" exec "$B" sh -c 'ps -o pid,args | awk "\$1 == 1 { print \$1, \$2, \$3 }"'
expect bb-exec-status 7 "" "" -- "${CRI[@]}" exec "$B" sh -c 'exit 7'
expect one-shim-per-pod 0 "1" "" -- shim_servers

# stop the server (SIGTERM, then SIGKILL after 2 s), remove it; then the pod
expect srv-stop 0 "" "" -- "${CRI[@]}" stop "$S" 2
check srv-exited exited "$S"
expect srv-rm 0 "" "" -- "${CRI[@]}" rm "$S"
expect srv-gone 2 "" "not found" -- "${CRI[@]}" status "$S"
expect pod-stop 0 "" "" -- "${CRI[@]}" stopp "$POD"
expect pod-notready 0 "NOTREADY" "" -- "${CRI[@]}" podstatus "$POD"
expect bb-exited-with-pod 0 "EXITED" "" -- bash -c "'$T/cri-client' '$T/c.sock' status $B | cut -d' ' -f1"
expect pod-rm 0 "" "" -- "${CRI[@]}" rmp "$POD"

# nothing left: shim processes, task state, mounts, cgroups
no_live_shim() { # zombies aside (this VM's PID 1 does not reap the servers it adopts)
    for p in $(pgrep -f "containerd-shim-wasmbox-v1 .*-address $T/c.sock"); do
        grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null || return 1
    done
}
check no-shim-left wait_for 5 no_live_shim
expect no-task-state 1 "" "" -- bash -c "ls /run/wasmbox-shim/k8s.io 2>/dev/null | grep -e '$POD' -e '$H' -e '$S' -e '$B'"
expect no-mounts 1 "0" "" -- grep -c -e "$T/" -e "$POD" /proc/mounts
expect no-cgroups 0 "0" "" -- bash -c "ls -d /sys/fs/cgroup/*/k8s.io/{$POD,$H,$S,$B} 2>/dev/null | wc -l"
expect no-task-left 0 "" "" -- bash -c "ctr -a '$T/c.sock' -n k8s.io task ls -q"

echo "linux-cri: $passed passed, $failed failed"
[ "$failed" = 0 ]
