#!/usr/bin/env bash
# What Compose costs (issue #15, "Done when" 5), measured in this run on this machine:
#  1. `compose up -d` of a 3-service project (2 Wasm services, 1 Linux service, local images)
#     beside making the same network and containers one by one with `network create` and
#     three `run -d` (hyperfine medians; everything is removed between runs, not timed);
#  2. `compose down` of that project (median; target <= 1 s).
# Usage: BUILD=build bash bench/compose.sh   (RUNS=20; needs root, hyperfine)
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
WB=$(cd "$(dirname "$BUILD/wasmbox")" && pwd)/wasmbox
RUNS=${RUNS:-20}
T=$(mktemp -d)
export WASMBOX_ROOT=$T/root
cleanup() {
    "$WB" ps -aq 2>/dev/null | xargs -r "$WB" rm -f >/dev/null 2>&1 || true
    "$WB" network prune -f >/dev/null 2>&1 || true
    rm -rf "$T"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] || { echo "compose: needs root" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "compose: hyperfine is not installed" >&2; exit 1; }
make --no-print-directory -s -C "$TOP/examples/http-hello" OUT="$(cd "$BUILD" && pwd)/examples/http-hello"
mkdir -p "$T/hh" "$T/p"
cp "$BUILD/examples/http-hello/http-hello.wasm" "$T/hh/"
printf 'FROM scratch\nCOPY http-hello.wasm /http-hello.wasm\nEXPOSE 8080\nENTRYPOINT ["/http-hello.wasm"]\n' >"$T/hh/Dockerfile"
"$WB" build -q --platform wasi/wasm -t hh "$T/hh" >/dev/null
"$TOP/scripts/test-images.sh" load busybox "$WB" >/dev/null
cat >"$T/p/compose.yaml" <<'YAML'
services:
  api:
    image: hh
    platform: wasi/wasm
  worker:
    image: hh
    platform: wasi/wasm
  cache:
    image: busybox
    init: true
    command: sleep 1000
YAML
C="$WB compose --project-directory $T/p -p bc --progress quiet"
ONE_BY_ONE="sh -c '$WB network create bc_default >/dev/null && $WB run -d --name bc-api-1 --network bc_default hh >/dev/null && $WB run -d --name bc-worker-1 --network bc_default hh >/dev/null && $WB run -d --name bc-cache-1 --network bc_default --init busybox sleep 1000 >/dev/null'"
CLEAN="sh -c '$WB rm -f bc-api-1 bc-worker-1 bc-cache-1 >/dev/null 2>&1; $WB network rm bc_default >/dev/null 2>&1; true'"
# warm: the images' files, the default bridge's table
$C up -d >/dev/null 2>&1 && $C down >/dev/null 2>&1
hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$T/up.json" \
    --prepare "$CLEAN" -n "network create + 3 x run -d" "$ONE_BY_ONE" \
    --prepare "$CLEAN" -n "compose up -d" "$C up -d" \
    --prepare "sh -c '$C up -d >/dev/null 2>&1'" -n "compose down" "$C down" >/dev/null
$C down >/dev/null 2>&1 || true
python3 - "$T/up.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
for x in r:
    print(f"{x['command']:<30} median {x['median']*1e3:7.1f} ms  (mean {x['mean']*1e3:.1f})")
base, up, down = (x["median"] for x in r)
print(f"compose up -d / one by one: {up/base:.2f}x (target: <= 1.2x); "
      f"compose down: {down*1e3:.0f} ms (target: <= 1000 ms)")
PY
