#!/usr/bin/env bash
# The SIMD benchmark: bench/src/vector.c (vectorisable loops) built natively (gcc -O2), to wasm32
# as usual, and to wasm32 with -msimd128. Checks that the three checksums agree, times them with
# hyperfine and prints the speed-up of the simd128 module over the scalar one under wasmbox, and
# both against native. bench/run.sh (`make bench`) runs it too, unless BENCH_FILTER leaves
# `vector` out.
#
#   BUILD=build bash bench/simd.sh
#   WASMBOX=path, BENCH_RUNS=3, BENCH_WARMUP=1   as for bench/run.sh
#   BENCH_SIMD_N=3000                            rounds of the kernel
set -euo pipefail

die() {
	echo "bench/simd: $*" >&2
	exit 1
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-build}
wasmbox=${WASMBOX:-$build/wasmbox}
runs=${BENCH_RUNS:-3}
warmup=${BENCH_WARMUP:-1}
n=${BENCH_SIMD_N:-3000}
name=vector

case $build in /*) ;; *) build=$PWD/$build ;; esac
case $wasmbox in
*/*) case $wasmbox in /*) ;; *) wasmbox=$PWD/$wasmbox ;; esac ;;
*) wasmbox=$(command -v "$wasmbox") || die "\`${WASMBOX}\` not found in PATH" ;;
esac
cd "$root"

[[ -x $wasmbox ]] || die "wasmbox binary \`$wasmbox\` does not exist: build it with \`make\` first"
command -v hyperfine >/dev/null || die "hyperfine not installed (apt-get install -y hyperfine)"
[[ $n =~ ^[0-9]+$ ]] || die "BENCH_SIMD_N must be a non-negative integer, got \`$n\`"

make --no-print-directory -s -f bench/Makefile BUILD="$build" || die "building the benchmark programs failed"

native=$build/bench/native/$name
scalar=$build/bench/$name.wasm
simd=$build/bench/$name.simd128.wasm
echo "bench: $name (n=$n): native, wasm, wasm -msimd128" >&2

native_out=$("$native" "$n") || die "$name: native run failed"
scalar_out=$("$wasmbox" run --invoke bench_run "$scalar" "$n") || die "$name: wasm run failed"
simd_out=$("$wasmbox" run --invoke bench_run "$simd" "$n") || die "$name: wasm simd128 run failed"
if [[ $native_out != "$scalar_out" || $native_out != "$simd_out" ]]; then
	die "CHECKSUM MISMATCH in $name (n=$n): native $native_out, wasm $scalar_out, simd128 $simd_out"
fi

results_dir=$build/bench/results
mkdir -p "$results_dir"
hyperfine -N --style none --warmup "$warmup" --runs "$runs" \
	--export-json "$results_dir/$name-simd.json" \
	-n native "$(printf '%q %q' "$native" "$n")" \
	-n wasm "$(printf '%q run --invoke bench_run %q %q' "$wasmbox" "$scalar" "$n")" \
	-n simd128 "$(printf '%q run --invoke bench_run %q %q' "$wasmbox" "$simd" "$n")" >&2 ||
	die "hyperfine failed"

python3 - "$results_dir/$name-simd.json" "$name" "$n" <<'PY'
import json, sys

path, name, n = sys.argv[1:]
with open(path) as f:
    t = {r["command"]: r["median"] for r in json.load(f)["results"]}
native, wasm, simd = t["native"], t["wasm"], t["simd128"]
print(f"SIMD kernel {name} (n={n}): native {native:.3f} s, "
      f"wasm {wasm:.3f} s ({wasm / native:.2f}× native), "
      f"wasm -msimd128 {simd:.3f} s ({simd / native:.2f}× native)")
print(f"simd128 speed-up: {wasm / simd:.2f}× over scalar wasm")
PY
