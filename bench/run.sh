#!/usr/bin/env bash
# Runs the benchmark suite: each program in bench/src/ built natively (gcc -O2) and to wasm
# (clang, freestanding), timed side by side with hyperfine: native, the interpreter (`wasmbox run
# --engine interp --invoke`) and the compiler tier (`wasmbox compile`, then `--engine native`).
# Fails if a wasm checksum differs from the native one. Prints a table, the SIMD kernel's lines
# (bench/simd.sh: the same loops built with and without -msimd128; not in the geomean) and a final
# line `geomean: X.XX× native`.
#
#   BUILD=build bash bench/run.sh       (what `make bench` runs, from the repo root)
#   WASMBOX=path        engine binary to measure (default $BUILD/wasmbox)
#   BENCH_FILTER=list   comma-separated program names or globs, e.g. `fib,s*`
#   BENCH_RUNS=3        timed runs per command (the table shows their median)
#   BENCH_WARMUP=1      untimed runs per command before those (BENCH_WARMUP=0 BENCH_RUNS=1
#                       for a quick pass)
set -euo pipefail

die() {
	echo "bench: $*" >&2
	exit 1
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-build}
wasmbox=${WASMBOX:-$build/wasmbox}
filter=${BENCH_FILTER:-}
runs=${BENCH_RUNS:-3}
warmup=${BENCH_WARMUP:-1}

# Paths given relative to the caller's directory stay valid after the cd below.
case $build in /*) ;; *) build=$PWD/$build ;; esac
case $wasmbox in
*/*) case $wasmbox in /*) ;; *) wasmbox=$PWD/$wasmbox ;; esac ;;
*) wasmbox=$(command -v "$wasmbox") || die "\`${WASMBOX}\` not found in PATH" ;;
esac
cd "$root"

# name and n: n is chosen so one native run takes roughly 0.2-0.4 s on the reference machine
# (2-core AMD EPYC, gcc 12).
programs=(
	"fib 41"
	"hashmap 10000000"
	"sieve 64"
	"nbody 5000000"
	"matmul 800"
	"sort 1200000"
	"vm 800000"
	"lz 150"
	"sha256 1000"
)

[[ -x $wasmbox ]] || die "wasmbox binary \`$wasmbox\` does not exist (or is not executable): build it with \`make\` first, or point WASMBOX= at one"
command -v hyperfine >/dev/null || die "hyperfine not installed (apt-get install -y hyperfine)"
command -v python3 >/dev/null || die "python3 not installed"
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, got \`$runs\`"
[[ $warmup =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be a non-negative integer, got \`$warmup\`"

# wanted NAME: BENCH_FILTER is empty or one of its patterns matches NAME
wanted() {
	[[ -z $filter ]] && return 0
	local pattern patterns
	IFS=',' read -ra patterns <<<"$filter"
	for pattern in "${patterns[@]}"; do
		# shellcheck disable=SC2053 # the pattern is a glob on purpose
		[[ $1 == $pattern ]] && return 0
	done
	return 1
}

selected=()
for entry in "${programs[@]}"; do
	if wanted "${entry%% *}"; then selected+=("$entry"); fi
done
simd_kernel=vector # bench/simd.sh
((${#selected[@]} > 0)) || wanted $simd_kernel || die "BENCH_FILTER=\`$filter\` matches no program (have: $(printf '%s ' "${programs[@]%% *}" $simd_kernel))"

make --no-print-directory -s -f bench/Makefile BUILD="$build" || die "building the benchmark programs failed"

results_dir=$build/bench/results
mkdir -p "$results_dir"
names=()
# The compiler tier: each module compiled ahead of time into a cache of its own store root, run
# with --engine native; the interpreter's column runs with --engine interp.
bench_root=$build/bench/root
rm -rf "$bench_root"
mkdir -p "$bench_root"
export WASMBOX_ROOT=$bench_root
for entry in "${selected[@]}"; do
	name=${entry%% *}
	n=${entry#* }
	native=$build/bench/native/$name
	wasm=$build/bench/$name.wasm
	echo "bench: $name (n=$n)" >&2

	# One untimed run of each to compare checksums before spending time on measurements.
	native_out=$("$native" "$n") || die "$name: native run failed (exit $?)"
	wasm_out=$("$wasmbox" run --engine interp --invoke bench_run "$wasm" "$n") ||
		die "$name: \`$wasmbox run --invoke bench_run $wasm $n\` failed (exit $?)"
	if [[ $native_out != "$wasm_out" ]]; then
		echo "bench: CHECKSUM MISMATCH in $name (n=$n)" >&2
		echo "bench:   native:  $native_out" >&2
		echo "bench:   wasmbox: $wasm_out" >&2
		exit 1
	fi

	# compile time and size of the native code (the variant run uses: not interruptible)
	compiled=$("$wasmbox" compile "$wasm" 2>&1 | grep -v '(interruptible)') ||
		die "$name: \`wasmbox compile\` failed: $compiled"
	secs=$(sed -n 's/.*: \([0-9.]*\) s, [0-9]* KiB of native code -> .*/\1/p' <<<"$compiled")
	kib=$(sed -n 's/.* \([0-9][0-9]*\) KiB of native code -> .*/\1/p' <<<"$compiled")
	echo "$name ${secs:-?} ${kib:-?}" >"$results_dir/$name.compile"
	native_tier_out=$("$wasmbox" run --engine native --invoke bench_run "$wasm" "$n") ||
		die "$name: \`$wasmbox run --engine native ...\` failed (exit $?)"
	[[ $native_out == "$native_tier_out" ]] || die "CHECKSUM MISMATCH in $name with --engine native: $native_tier_out, native $native_out"

	# -N runs without a shell, so command lines are split by hyperfine; quote the paths.
	hyperfine -N --style none --warmup "$warmup" --runs "$runs" \
		--export-json "$results_dir/$name.json" \
		-n native "$(printf '%q %q' "$native" "$n")" \
		-n wasmbox "$(printf '%q run --engine interp --invoke bench_run %q %q' "$wasmbox" "$wasm" "$n")" \
		-n wasmbox-native "$(printf '%q run --engine native --invoke bench_run %q %q' "$wasmbox" "$wasm" "$n")" ||
		die "$name: hyperfine failed"
	names+=("$name")
done

simd_report=
if wanted $simd_kernel; then
	simd_report=$(BUILD=$build WASMBOX=$wasmbox BENCH_RUNS=$runs BENCH_WARMUP=$warmup bash bench/simd.sh) ||
		die "the SIMD benchmark (bench/simd.sh) failed"
fi

SIMD_REPORT=$simd_report python3 - "$results_dir" "${names[@]}" <<'PY'
import json, math, os, sys

results_dir, names = sys.argv[1], sys.argv[2:]
rows = []
for name in names:
    with open(f"{results_dir}/{name}.json") as f:
        by_command = {r["command"]: r["median"] for r in json.load(f)["results"]}
    native, wasm, tier = by_command["native"], by_command["wasmbox"], by_command["wasmbox-native"]
    with open(f"{results_dir}/{name}.compile") as f:
        _, csecs, ckib = f.read().split()
    rows.append((name, native, wasm, wasm / native, tier, tier / native, csecs, ckib))

if rows:
    print(f"{'NAME':<10} {'native s':>10} {'interp s':>10} {'ratio':>8}   {'compiled s':>10} {'ratio':>8}"
          f" {'compile s':>10} {'KiB':>6}")
for name, native, wasm, ratio, tier, tratio, csecs, ckib in rows:
    print(f"{name:<10} {native:>10.3f} {wasm:>10.3f} {ratio:>7.2f}×   {tier:>10.3f} {tratio:>7.2f}×"
          f" {csecs:>10} {ckib:>6}")
if os.environ.get("SIMD_REPORT"):
    print(os.environ["SIMD_REPORT"])
if rows:
    geomean = math.exp(sum(math.log(r[3]) for r in rows) / len(rows))
    tier_geomean = math.exp(sum(math.log(r[5]) for r in rows) / len(rows))
    print(f"compiler tier: geomean {tier_geomean:.2f}× native, worst {max(r[5] for r in rows):.2f}×"
          f" ({max(rows, key=lambda r: r[5])[0]})")
    print(f"geomean: {geomean:.2f}× native")
PY
