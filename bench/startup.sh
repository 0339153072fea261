#!/usr/bin/env bash
# Start-up cost of a WASI hello world (printf), end to end as a process: `wasmbox run hello.wasm`
# against the same C source built natively, measured side by side with hyperfine; and the peak RSS
# of each. Usage: BUILD=build bash bench/startup.sh
set -euo pipefail
BUILD=${BUILD:-build}
WASMBOX=${WASMBOX:-$BUILD/wasmbox}
RUNS=${BENCH_RUNS:-500}
OUT=$BUILD/bench/startup
mkdir -p "$OUT"
command -v hyperfine >/dev/null || { echo "startup: hyperfine is not installed" >&2; exit 1; }
[ -x "$WASMBOX" ] || { echo "startup: $WASMBOX not built (run make)" >&2; exit 1; }

src=examples/hello/hello.c
gcc -O2 -o "$OUT/hello-native" "$src"
clang --target=wasm32-wasi --sysroot=/usr -O2 -o "$OUT/hello.wasm" "$src"
want=$("$OUT/hello-native")
got=$("$WASMBOX" run "$OUT/hello.wasm")
[ "$want" = "$got" ] || { echo "startup: outputs differ: native '$want', wasm '$got'" >&2; exit 1; }

hyperfine -N --warmup 50 --runs "$RUNS" --export-json "$OUT/startup.json" \
    -n native "$OUT/hello-native" -n wasmbox "$WASMBOX run $OUT/hello.wasm" >/dev/null

rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1; }
python3 - "$OUT/startup.json" "$(rss "$OUT/hello-native")" "$(rss "$WASMBOX" run "$OUT/hello.wasm")" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
n, w = res["native"], res["wasmbox"]
print(f"{'':10}{'median ms':>10}{'mean ms':>10}{'peak RSS':>10}")
print(f"{'native':10}{n['median']*1e3:10.2f}{n['mean']*1e3:10.2f}{int(sys.argv[2])/1024:8.1f}MB")
print(f"{'wasmbox':10}{w['median']*1e3:10.2f}{w['mean']*1e3:10.2f}{int(sys.argv[3])/1024:8.1f}MB")
print(f"startup: {w['median']/n['median']:.2f}x native (median), peak RSS {int(sys.argv[3])/1024:.1f} MB")
PY
