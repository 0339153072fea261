#!/usr/bin/env bash
# Pull speed: a 50 MB wasi/wasm image (a module layer and five 10 MB layers) from Debian's
# docker-registry on 127.0.0.1, `wasmbox pull` into an empty store against `skopeo copy` into an
# OCI directory, measured side by side with hyperfine (each run starts from nothing).
# The target: wasmbox takes at most 1.5x skopeo's time.
# Usage: BUILD=build bash bench/pull.sh
set -euo pipefail
BUILD=${BUILD:-build}
WASMBOX=$(cd "$(dirname "${WASMBOX:-$BUILD/wasmbox}")" && pwd)/$(basename "${WASMBOX:-wasmbox}")
RUNS=${BENCH_RUNS:-10}
OUT=$BUILD/bench/pull
mkdir -p "$OUT"
for tool in hyperfine skopeo docker-registry clang; do
    command -v "$tool" >/dev/null || { echo "pull: $tool is not installed" >&2; exit 1; }
done
[ -x "$WASMBOX" ] || { echo "pull: $WASMBOX not built (run make)" >&2; exit 1; }
source tests/e2e/registry_lib.sh

T=$(mktemp -d)
REG=
trap 'stop_pid "$REG"; rm -rf "$T"' EXIT
clang --target=wasm32-wasi --sysroot=/usr -O2 -o "$T/hello.wasm" examples/hello/hello.c
python3 tests/e2e/fixtures/mkoci.py "$T/oci" "$T/hello.wasm" --filler 10x5 >/dev/null
P=$(free_port)
REG=$(start_registry "$T/reg" "$P")
R=127.0.0.1:$P
skopeo --insecure-policy copy --dest-tls-verify=false "oci:$T/oci:latest" "docker://$R/bench:1" >/dev/null
size=$(du -sb "$T/oci/blobs" | cut -f1)

# both must work before they are timed
WASMBOX_ROOT=$T/root "$WASMBOX" pull -q "$R/bench:1" >/dev/null
WASMBOX_ROOT=$T/root "$WASMBOX" run --rm "$R/bench:1" >/dev/null
skopeo --insecure-policy copy -q --src-tls-verify=false "docker://$R/bench:1" "oci:$T/copy:x"

hyperfine --warmup 1 --runs "$RUNS" --export-json "$OUT/pull.json" \
    --prepare "rm -rf '$T/root' '$T/copy'" \
    -n wasmbox "WASMBOX_ROOT='$T/root' '$WASMBOX' pull -q '$R/bench:1'" \
    -n skopeo "skopeo --insecure-policy copy -q --src-tls-verify=false 'docker://$R/bench:1' 'oci:$T/copy:x'" \
    >/dev/null

python3 - "$OUT/pull.json" "$size" <<'PY'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
mb = int(sys.argv[2]) / 1e6
w, s = res["wasmbox"], res["skopeo"]
print(f"{'':10}{'median ms':>10}{'mean ms':>10}{'MB/s':>8}")
for name, r in (("wasmbox", w), ("skopeo", s)):
    print(f"{name:10}{r['median']*1e3:10.1f}{r['mean']*1e3:10.1f}{mb/r['median']:8.0f}")
ratio = w["median"] / s["median"]
print(f"pull: {mb:.1f} MB image, wasmbox {w['median']*1e3:.0f} ms vs skopeo copy {s['median']*1e3:.0f} ms "
      f"(median): {ratio:.2f}x ({'within' if ratio <= 1.5 else 'OVER'} the 1.5x target)")
PY
