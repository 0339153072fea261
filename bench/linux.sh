#!/usr/bin/env bash
# Linux container start-up and exec, wasmbox beside podman 4.3 + runc (the reference runtime,
# tests/linux/podman.sh) on the same busybox image, same machine, same run (issue #13: run --rm
# <= 30 ms and exec <= 10 ms median): `run --rm busybox true` and `exec C true` into a running
# container, hyperfine medians, and the ratios podman/wasmbox.
# Usage: BUILD=build bash bench/linux.sh   (RUNS=50 to change the count; needs root and podman)
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
WB=$(cd "$(dirname "$BUILD/wasmbox")" && pwd)/wasmbox
RUNS=${RUNS:-50}
T=$(mktemp -d)
export WASMBOX_ROOT=$T/root
# shellcheck source=tests/linux/podman.sh
. "$TOP/tests/linux/podman.sh"
cd "$T" # conmon writes a file "oom" into podman's working directory
trap '"$WB" rm -f bench >/dev/null 2>&1; podman_ref rm -f bench >/dev/null 2>&1; podman_ref_cleanup; rm -rf "$T"' EXIT
command -v hyperfine >/dev/null || { echo "linux: hyperfine is not installed" >&2; exit 1; }
TAR=$("$TOP/scripts/test-images.sh" busybox)
"$TOP/scripts/test-images.sh" load busybox "$WB" >/dev/null
podman_ref_init
podman_load_image busybox:latest "$TAR"
"$WB" run --rm busybox true
podman_ref run --rm busybox true
P="podman --root $PODMAN_REF_DIR/root --runroot $PODMAN_REF_DIR/run --tmpdir $PODMAN_REF_DIR/tmp"
P="$P --storage-driver $PODMAN_REF_STORAGE --cgroup-manager=cgroupfs --events-backend=file --runtime runc"
U="${PODMAN_REF_ULIMITS[*]}"
hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$T/run.json" \
    "$WB run --rm busybox true" "$P run --rm $U busybox true" >/dev/null
"$WB" run -d --name bench busybox sleep 100000 >/dev/null
podman_ref run -d --name bench busybox sleep 100000 >/dev/null
hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$T/exec.json" \
    "$WB exec bench true" "$P exec bench true" >/dev/null
python3 - "$T/run.json" "$T/exec.json" <<'PY'
import json, sys
for what, f in (("run --rm busybox true", sys.argv[1]), ("exec C true          ", sys.argv[2])):
    ours, ref = json.load(open(f))["results"]
    print(f"{what}: wasmbox median {ours['median']*1e3:.1f} ms (mean {ours['mean']*1e3:.1f}), "
          f"podman+runc median {ref['median']*1e3:.1f} ms (mean {ref['mean']*1e3:.1f}): "
          f"podman/wasmbox {ref['median']/ours['median']:.1f}x")
PY
