#!/usr/bin/env bash
# Container start-up figures: `run --rm` of a local hello image end to end (median); `run -d`
# (median; returns once the container's state says running and its workload may start), measured
# twice: on an idle machine (50 ms pause between runs, so the previous container has finished) and
# back to back (each run competes with the previous container's workload and monitor for the two
# cores); and 1,000 `run --rm` in a row (containers/s), spawned by hyperfine and from a shell loop,
# each beside the same for /bin/true: the floor of process creation on this machine.
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

hyperfine -N --warmup 20 --runs "$COUNT" --export-json "$T/rm.json" "$WB run --rm hello" >/dev/null
hyperfine -N --warmup 20 --runs "$COUNT" --export-json "$T/true.json" /bin/true >/dev/null
hyperfine -N --warmup 5 --runs 100 --prepare "sleep 0.05" --export-json "$T/d.json" "$WB run -d hello" >/dev/null
"$WB" ps -aq | xargs -r "$WB" rm -f >/dev/null
hyperfine -N --warmup 5 --runs 100 --export-json "$T/d2.json" "$WB run -d hello" >/dev/null
"$WB" ps -aq | xargs -r "$WB" rm -f >/dev/null
start=$(date +%s.%N)
for _ in $(seq "$COUNT"); do "$WB" run --rm hello >/dev/null; done
mid=$(date +%s.%N)
for _ in $(seq "$COUNT"); do /bin/true >/dev/null; done
end=$(date +%s.%N)
python3 - "$T/rm.json" "$T/d.json" "$T/d2.json" "$start" "$mid" "$end" "$COUNT" "$T/true.json" <<'PY'
import json, sys
rm, d, d2 = (json.load(open(f))["results"][0] for f in sys.argv[1:4])
start, mid, end = (float(x) for x in sys.argv[4:7])
n = int(sys.argv[7])
print(f"run --rm hello:             median {rm['median']*1e3:.2f} ms (mean {rm['mean']*1e3:.2f} ms)")
print(f"run -d hello, idle machine: median {d['median']*1e3:.2f} ms (mean {d['mean']*1e3:.2f} ms)")
print(f"run -d hello, back to back: median {d2['median']*1e3:.2f} ms (mean {d2['mean']*1e3:.2f} ms)")
tr = json.load(open(sys.argv[8]))["results"][0]
rate = lambda r: len(r["times"]) / sum(r["times"])
print(f"{n} x run --rm in a row, spawned by hyperfine: {rate(rm):.0f} containers/s "
      f"(floor: {n} x /bin/true spawned the same way {rate(tr):.0f}/s)")
print(f"{n} x run --rm in a row from a shell loop: {mid-start:.2f} s, {n/(mid-start):.0f} containers/s "
      f"(floor: {n} x /bin/true in the same loop {end-mid:.2f} s, {n/(end-mid):.0f}/s)")
PY
