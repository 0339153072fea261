#!/usr/bin/env bash
# Container start-up figures: `run --rm` of a local hello image end to end (median), `run -d`
# (median; returns once the workload runs), and 1,000 `run --rm` in a row (containers/s).
# The hello image is a Wasm artifact (tests/e2e/fixtures/mkartifact.py) in a scratch store.
# Usage: BUILD=build bash bench/containers.sh   (COUNT=1000 to change the loop)
set -euo pipefail
BUILD=${BUILD:-build}
WB=$(cd "$(dirname "$BUILD/wasmbox")" && pwd)/wasmbox
COUNT=${COUNT:-1000}
T=$(mktemp -d)
export WASMBOX_ROOT=$T/root
trap '"$WB" ps -aq | xargs -r "$WB" rm -f >/dev/null 2>&1; rm -rf "$T"' EXIT
command -v hyperfine >/dev/null || { echo "containers: hyperfine is not installed" >&2; exit 1; }
clang --target=wasm32-wasi --sysroot=/usr -O2 -o "$T/hello.wasm" examples/hello/hello.c
python3 tests/e2e/fixtures/mkartifact.py "$WASMBOX_ROOT" "$T/hello.wasm" docker.io/library/hello:latest >/dev/null
"$WB" run --rm hello >/dev/null

hyperfine -N --warmup 20 --runs 300 --export-json "$T/rm.json" "$WB run --rm hello" >/dev/null
hyperfine -N --warmup 5 --runs 100 --export-json "$T/d.json" "$WB run -d hello" >/dev/null
start=$(date +%s.%N)
for _ in $(seq "$COUNT"); do "$WB" run --rm hello >/dev/null; done
end=$(date +%s.%N)
python3 - "$T/rm.json" "$T/d.json" "$start" "$end" "$COUNT" <<'PY'
import json, sys
rm = json.load(open(sys.argv[1]))["results"][0]
d = json.load(open(sys.argv[2]))["results"][0]
secs = float(sys.argv[4]) - float(sys.argv[3])
n = int(sys.argv[5])
print(f"run --rm hello: median {rm['median']*1e3:.2f} ms (mean {rm['mean']*1e3:.2f} ms)")
print(f"run -d hello:   median {d['median']*1e3:.2f} ms (mean {d['mean']*1e3:.2f} ms)")
print(f"{n} x run --rm in a row: {secs:.2f} s, {n/secs:.0f} containers/s")
PY
