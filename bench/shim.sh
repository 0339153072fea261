#!/usr/bin/env bash
# What the containerd shim costs (issue #17, "Done when" 4), measured in this run on this machine:
#  1. `ctr run --rm` of a hello Wasm image through wasmbox's shim beside `ctr run --rm` of busybox
#     `true` through containerd's own runc shim (hyperfine medians, side by side; target <= 0.5x);
#  2. N (default 100) `ctr run -d` of a Wasm server at once: how many reach RUNNING, shim
#     processes per task, and the RSS of each shim server (target <= 2 MB).
# Usage: BUILD=build bash bench/shim.sh   (RUNS=20, N=100; needs root, containerd, hyperfine)
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${BUILD:-build}" && pwd)
RUNS=${RUNS:-20}
N=${N:-100}
T=$(mktemp -d)
export WASMBOX_ROOT=$T/wbroot
CPID=
cleanup() {
    [ -n "$CPID" ] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null || true
    pkill -f "containerd-shim-.*-namespace wbb" 2>/dev/null || true
    grep -o "$T/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] || { echo "shim: needs root" >&2; exit 1; }
mkdir -p "$T/bin" "$T/img"
ln -s "$BUILD/wasmbox" "$T/bin/containerd-shim-wasmedge-v1"
printf 'version = 2\nroot = "%s/root"\nstate = "%s/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "%s/c.sock"\n[ttrpc]\n  address = "%s/c.sock.ttrpc"\n' \
    "$T" "$T" "$T" "$T" >"$T/c.toml"
PATH=$T/bin:$PATH containerd --config "$T/c.toml" >"$T/containerd.log" 2>&1 &
CPID=$!
for _ in $(seq 100); do [ -S "$T/c.sock" ] && break; sleep 0.1; done
C="ctr -a $T/c.sock -n wbb"
cp "$BUILD/examples/hello/hello.wasm" "$BUILD/examples/http-hello/http-hello.wasm" "$T/img/"
printf 'FROM scratch\nCOPY . /\nENTRYPOINT ["/hello.wasm"]\n' >"$T/img/Dockerfile"
"$BUILD/wasmbox" build -q --platform wasi/wasm -t wb/wasm:1 "$T/img" >/dev/null
"$BUILD/wasmbox" save wb/wasm:1 -o "$T/wasm.tar"
"$TOP/scripts/test-images.sh" load busybox "$BUILD/wasmbox" >/dev/null
"$BUILD/wasmbox" save busybox -o "$T/busybox.tar"
$C image import --all-platforms "$T/wasm.tar" >/dev/null
$C image import "$T/busybox.tar" >/dev/null
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$T/run.json" \
    -n "ctr run --rm, runc shim, busybox true" "$C run --rm docker.io/library/busybox:latest b1 true" \
    -n "ctr run --rm, wasmbox shim, hello.wasm" "$C run --rm --platform wasi/wasm --runtime io.containerd.wasmedge.v1 docker.io/wb/wasm:1 w1" >/dev/null
python3 - "$T/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
for x in r:
    print(f"{x['command']:<42} median {x['median']*1e3:7.1f} ms  (mean {x['mean']*1e3:.1f})")
print(f"wasmbox shim / runc shim: {r[1]['median']/r[0]['median']:.2f}x (target: <= 0.5x)")
PY
start=$(date +%s%N)
jobs_pids=()
for i in $(seq "$N"); do
    $C run -d --platform wasi/wasm --runtime io.containerd.wasmedge.v1 docker.io/wb/wasm:1 "s$i" /http-hello.wasm 8080 >"$T/run.$i" 2>&1 &
    jobs_pids+=($!)
done
wait "${jobs_pids[@]}" || true # (a bare wait would wait for containerd too)
running=$($C task ls | awk '$3 == "RUNNING"' | wc -l)
ms=$((($(date +%s%N) - start) / 1000000))
failures=$(cat "$T"/run.* 2>/dev/null | grep -i -m 3 'error' || true)
[ -n "$failures" ] && echo "some runs failed, e.g.: $failures"
pids=$(pgrep -f 'containerd-shim-wasmedge-v1 .*-namespace wbb' || true)
live=0
rss_total=0
rss_max=0
for p in $pids; do
    grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null && continue
    # a workload is a fork of its shim server (same command line): count the servers only
    pp=$(awk '/^PPid/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
    grep -q 'containerd-shim-wasmedge-v1' "/proc/$pp/cmdline" 2>/dev/null && continue
    r=$(awk '/^VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
    live=$((live + 1))
    rss_total=$((rss_total + r))
    [ "$r" -gt "$rss_max" ] && rss_max=$r
done
echo "$N x ctr run -d at once: $running RUNNING in $ms ms ($(python3 -c "print(f'{$N*1000/$ms:.0f}')") tasks/s); $live shim processes; RSS per shim: mean $((rss_total / (live > 0 ? live : 1))) KiB, max $rss_max KiB (target <= 2048 KiB)"
for i in $(seq "$N"); do $C task kill -s SIGKILL "s$i" >/dev/null 2>&1 || true; done
sleep 1
for i in $(seq "$N"); do
    $C task delete "s$i" >/dev/null 2>&1 || true
    $C container rm "s$i" >/dev/null 2>&1 || true
done
