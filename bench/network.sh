#!/usr/bin/env bash
# What a network costs (issue #14, "Done when" 3), all measured in this run on this machine:
#  1. `run -d` of the http-hello Wasm image with --network none, on the default bridge, and on a
#     user network with -p 8080 (hyperfine medians; the container is removed between runs, not
#     timed), beside podman 4.3 + runc's `run -d -p` of a Linux image (tests/linux/podman.sh);
#  2. examples/http-hello's requests/s served with --network host and through -p on a user
#     network (sequential requests, one connection each, examples' http-get client).
# Usage: BUILD=build bash bench/network.sh   (RUNS=30, HTTP_REQUESTS=5000; needs root, hyperfine)
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
WB=$(cd "$(dirname "$BUILD/wasmbox")" && pwd)/wasmbox
RUNS=${RUNS:-30}
REQUESTS=${HTTP_REQUESTS:-5000}
T=$(mktemp -d)
export WASMBOX_ROOT=$T/root
HAVE_PODMAN=0
cleanup() {
    "$WB" ps -aq 2>/dev/null | xargs -r "$WB" rm -f >/dev/null 2>&1 || true
    "$WB" network prune -f >/dev/null 2>&1 || true
    if [ "$HAVE_PODMAN" = 1 ]; then
        podman_ref rm -f bn >/dev/null 2>&1 || true
        podman_ref_cleanup
    fi
    rm -rf "$T"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] || { echo "network: needs root" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "network: hyperfine is not installed" >&2; exit 1; }
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
make --no-print-directory -s -C "$TOP/examples/http-hello" OUT="$(cd "$BUILD" && pwd)/examples/http-hello"
HH=$(cd "$BUILD/examples/http-hello" && pwd)
mkdir -p "$T/hh"
cp "$HH/http-hello.wasm" "$T/hh/"
printf 'FROM scratch\nCOPY http-hello.wasm /http-hello.wasm\nEXPOSE 8080\nENTRYPOINT ["/http-hello.wasm"]\n' >"$T/hh/Dockerfile"
"$WB" build -q --platform wasi/wasm -t hh "$T/hh" >/dev/null
"$WB" network create benchnet >/dev/null
TAR=$("$TOP/scripts/test-images.sh" busybox)
"$TOP/scripts/test-images.sh" load busybox "$WB" >/dev/null
# the bridges exist before timing starts (made once per network, as Docker's)
"$WB" run --rm --network benchnet busybox true
"$WB" run --rm busybox true

P=$(free_port)
cmds=(--prepare "sh -c '$WB rm -f bn >/dev/null 2>&1; true'" -n "wasmbox run -d, --network none" "$WB run -d --name bn --network none hh"
    --prepare "sh -c '$WB rm -f bn >/dev/null 2>&1; true'" -n "wasmbox run -d, default bridge" "$WB run -d --name bn hh"
    --prepare "sh -c '$WB rm -f bn >/dev/null 2>&1; true'" -n "wasmbox run -d, user network + -p" "$WB run -d --name bn --network benchnet -p $P:8080 hh")
if command -v podman >/dev/null; then
    # shellcheck source=tests/linux/podman.sh
    . "$TOP/tests/linux/podman.sh"
    cd "$T" # conmon writes a file "oom" into podman's working directory
    podman_ref_init
    podman_load_image busybox:latest "$TAR"
    HAVE_PODMAN=1
    PD="podman --root $PODMAN_REF_DIR/root --runroot $PODMAN_REF_DIR/run --tmpdir $PODMAN_REF_DIR/tmp"
    PD="$PD --storage-driver $PODMAN_REF_STORAGE --cgroup-manager=cgroupfs --events-backend=file --runtime runc"
    U="${PODMAN_REF_ULIMITS[*]}"
    podman_ref run --rm busybox true >/dev/null
    P2=$(free_port)
    cmds+=(--prepare "sh -c '$PD rm -f bn >/dev/null 2>&1; true'" -n "podman run -d, network none (Linux image)" "$PD run -d $U --name bn --network none busybox sleep 1000"
        --prepare "sh -c '$PD rm -f bn >/dev/null 2>&1; true'" -n "podman run -d -p (Linux image)" "$PD run -d $U --name bn -p $P2:80 busybox sleep 1000")
fi
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$T/run.json" "${cmds[@]}" >/dev/null
"$WB" rm -f bn >/dev/null
python3 - "$T/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
for x in r:
    print(f"{x['command']:<45} median {x['median']*1e3:6.1f} ms  (mean {x['mean']*1e3:.1f})")
none, dflt, user = (x["median"] for x in r[:3])
print(f"a user network + -p adds {1e3*(user-none):.1f} ms to run -d (target: <= 25 ms); "
      f"the default bridge adds {1e3*(dflt-none):.1f} ms")
if len(r) == 5:
    print(f"podman's -p adds {1e3*(r[4]['median']-r[3]['median']):.1f} ms to its own run -d")
PY

# ---- http-hello through -p vs --network host ----
HP=$(free_port)
"$WB" run -d --name hh-host --network host hh "$HP" >/dev/null
PP=$(free_port)
"$WB" run -d --name hh-pub --network benchnet -p "$PP:8080" hh >/dev/null
for port in "$HP" "$PP"; do
    for _ in $(seq 100); do "$HH/http-get" 127.0.0.1 "$port" / >/dev/null 2>&1 && break; sleep 0.05; done
done
"$HH/http-get" 127.0.0.1 "$HP" / 500 >/dev/null # warm-up
"$HH/http-get" 127.0.0.1 "$PP" / 500 >/dev/null
host=$("$HH/http-get" 127.0.0.1 "$HP" / "$REQUESTS")
pub=$("$HH/http-get" 127.0.0.1 "$PP" / "$REQUESTS")
echo "http-hello --network host: $host"
echo "http-hello -p on a network: $pub"
python3 - "$host" "$pub" <<'PY'
import re, sys
rate = lambda s: float(re.search(r"([0-9.]+) requests/s", s).group(1))
h, p = rate(sys.argv[1]), rate(sys.argv[2])
print(f"through -p: {100*p/h:.0f} % of --network host's requests/s (target: >= 80 %)")
PY
