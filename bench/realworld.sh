#!/usr/bin/env bash
# Real-world C programs, each built natively (gcc -O2) and to wasm32-wasi (clang -O2, wasi-libc)
# from the same third-party sources, run side by side: native binary vs the interpreter, `wasmbox
# run --engine interp NAME.wasm N`.
# The sources are fetched at bench time into a cache outside the checkout (never committed):
#
#   sqlite  SQLite's amalgamation, as npm's better-sqlite3 ships it (deps/sqlite3)
#   lua     Debian's lua5.4 source package (the interpreter running bench/realworld/bench.lua)
#   zstd    Debian's libzstd source package (compress + decompress, levels 1, 3, 9)
#   bzip2   Debian's bzip2 source package (compress + decompress, 900k blocks)
#
# A program whose sources cannot be fetched is skipped with a line saying why. Each program prints
# a checksum of its results; the runner fails if the wasm output differs from the native one.
# Prints a table (median wall-clock seconds, their ratio, and the ratio of CPU times) and a final
# line `geomean: X.XX× native`.
#
#   BUILD=build bash bench/realworld.sh     (what `make bench-realworld` runs, from the repo root)
#   WASMBOX=path          engine binary to measure (default $BUILD/wasmbox)
#   BENCH_FILTER=list     comma-separated program names or globs, e.g. `sqlite,lua`
#   BENCH_RUNS=3          timed runs per command (the table shows their median)
#   BENCH_WARMUP=1        untimed runs per command before those
#   WASMBOX_BENCH_CACHE   the source cache (default ${XDG_CACHE_HOME:-~/.cache}/wasmbox-bench)
set -euo pipefail

die() {
	echo "realworld: $*" >&2
	exit 1
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-build}
wasmbox=${WASMBOX:-$build/wasmbox}
filter=${BENCH_FILTER:-}
runs=${BENCH_RUNS:-3}
warmup=${BENCH_WARMUP:-1}
cache=${WASMBOX_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wasmbox-bench}

case $build in /*) ;; *) build=$PWD/$build ;; esac
case $wasmbox in
*/*) case $wasmbox in /*) ;; *) wasmbox=$PWD/$wasmbox ;; esac ;;
*) wasmbox=$(command -v "$wasmbox") || die "\`${WASMBOX}\` not found in PATH" ;;
esac
case $cache in /*) ;; *) cache=$PWD/$cache ;; esac
cd "$root"

# name, n, where the sources come from (npm:PACKAGE@VERSION or deb:SOURCE=VERSION), and the
# directory the package unpacks to under $cache/src. n is chosen so one native run takes about
# 0.3-0.5 s on the reference machine (2-core AMD EPYC, gcc 12).
programs=(
	"sqlite 100000 npm:better-sqlite3@12.11.1 better-sqlite3-12.11.1/package/deps/sqlite3"
	"lua 2 deb:lua5.4=5.4.4-3+deb12u1 lua-5.4.4"
	"zstd 2 deb:libzstd=1.5.4+dfsg2-5 zstd-1.5.4"
	"bzip2 2 deb:bzip2=1.0.8-5 bzip2-1.0.8"
)

[[ -x $wasmbox ]] || die "wasmbox binary \`$wasmbox\` does not exist (or is not executable): build it with \`make\` first, or point WASMBOX= at one"
command -v hyperfine >/dev/null || die "hyperfine not installed (apt-get install -y hyperfine)"
command -v python3 >/dev/null || die "python3 not installed"
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, got \`$runs\`"
[[ $warmup =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be a non-negative integer, got \`$warmup\`"

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

# fetch_npm PACKAGE@VERSION DIR: `npm pack` the tarball and unpack it into $cache/src/DIR's top.
fetch_npm() {
	local spec=$1 top=${2%%/*} tmp
	tmp=$(mktemp -d "$cache/dl/npm.XXXXXX")
	(cd "$tmp" && npm pack --silent "$spec" >/dev/null 2>&1) || {
		rm -rf "$tmp"
		return 1
	}
	mkdir -p "$cache/src/$top.part"
	tar xzf "$tmp"/*.tgz -C "$cache/src/$top.part" && mv "$cache/src/$top.part" "$cache/src/$top"
	local rc=$?
	rm -rf "$tmp" "$cache/src/$top.part"
	return $rc
}

# fetch_deb SOURCE=VERSION DIR: `apt-get source --download-only` through a private sources list
# (deb-src of the system's Debian release; the system's apt configuration is not touched), then
# unpack the upstream tarball into $cache/src/DIR. A version no longer on the mirror falls back
# to the current one of the same source package.
fetch_deb() {
	local spec=$1 dir=$2 pkg=${1%%=*} codename apt tmp orig
	codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
	[[ -n $codename ]] && command -v apt-get >/dev/null || return 1
	apt=(apt-get -q -o "Dir::Etc::SourceList=$cache/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$cache/apt/lists" -o "Dir::Cache=$cache/apt/cache")
	if [[ ! -f $cache/apt/lists/.updated ]]; then
		mkdir -p "$cache/apt/lists/partial" "$cache/apt/cache"
		echo "deb-src http://deb.debian.org/debian $codename main" >"$cache/apt/sources.list"
		"${apt[@]}" update >/dev/null 2>&1 || return 1
		touch "$cache/apt/lists/.updated"
	fi
	tmp=$(mktemp -d "$cache/dl/deb.XXXXXX")
	(cd "$tmp" && { "${apt[@]}" source --download-only "$spec" >/dev/null 2>&1 ||
		"${apt[@]}" source --download-only "$pkg" >/dev/null 2>&1; }) || {
		rm -rf "$tmp"
		return 1
	}
	orig=$(ls "$tmp"/*.orig.tar.* 2>/dev/null | grep -v '\.asc$' | head -n 1)
	[[ -n $orig ]] || {
		rm -rf "$tmp"
		return 1
	}
	mkdir -p "$cache/src/$dir.part"
	tar xf "$orig" -C "$cache/src/$dir.part" --strip-components=1 && mv "$cache/src/$dir.part" "$cache/src/$dir"
	local rc=$?
	rm -rf "$tmp" "$cache/src/$dir.part"
	return $rc
}

mkdir -p "$cache/dl" "$cache/src"
selected=() targets=() make_vars=()
for entry in "${programs[@]}"; do
	read -r name n origin dir <<<"$entry"
	wanted "$name" || continue
	src=$cache/src/$dir
	if [[ ! -d $src ]]; then
		echo "realworld: fetching $name sources ($origin) into $cache/src" >&2
		case $origin in
		npm:*) fetch_npm "${origin#npm:}" "$dir" || true ;;
		deb:*) fetch_deb "${origin#deb:}" "$dir" || true ;;
		esac
	fi
	if [[ ! -d $src ]]; then
		echo "realworld: SKIP $name: cannot fetch its sources ($origin; no registry access?)"
		continue
	fi
	selected+=("$name $n")
	targets+=("$build/bench/realworld/native/$name" "$build/bench/realworld/$name.wasm")
	make_vars+=("$(echo "$name" | tr a-z A-Z)_SRC=$src")
done
((${#selected[@]} > 0)) || die "no program to run (BENCH_FILTER=\`$filter\`, or no sources)"

echo "realworld: building ${#selected[@]} programs (the first build of sqlite takes about a minute)" >&2
make --no-print-directory -s -j"$(nproc)" -f bench/realworld/Makefile BUILD="$build" "${make_vars[@]}" \
	"${targets[@]}" || die "building the programs failed"

results_dir=$build/bench/realworld/results
mkdir -p "$results_dir"
# The interpreter is measured: --engine interp where the binary has tiers (`auto` would run native
# code compiled into the store's cache), and a store root of our own, with no such cache.
engine=()
if "$wasmbox" run --help 2>&1 | grep -q -- '--engine'; then engine=(--engine interp); fi
export WASMBOX_ROOT=$build/bench/realworld/root
mkdir -p "$WASMBOX_ROOT"
names=()
for entry in "${selected[@]}"; do
	name=${entry%% *}
	n=${entry#* }
	native=$build/bench/realworld/native/$name
	wasm=$build/bench/realworld/$name.wasm
	echo "realworld: $name (n=$n)" >&2

	native_out=$("$native" "$n") || die "$name: native run failed (exit $?)"
	wasm_out=$("$wasmbox" run "${engine[@]}" "$wasm" "$n") ||
		die "$name: \`$wasmbox run ${engine[*]} $wasm $n\` failed (exit $?)"
	if [[ $native_out != "$wasm_out" ]]; then
		echo "realworld: OUTPUT MISMATCH in $name (n=$n)" >&2
		echo "realworld:   native:  $native_out" >&2
		echo "realworld:   wasmbox: $wasm_out" >&2
		exit 1
	fi
	echo "realworld:   ${native_out##*$'\n'}" >&2

	hyperfine -N --style none --warmup "$warmup" --runs "$runs" \
		--export-json "$results_dir/$name.json" \
		-n native "$(printf '%q %q' "$native" "$n")" \
		-n wasmbox "$(printf '%q run %s %q %q' "$wasmbox" "${engine[*]}" "$wasm" "$n")" >/dev/null ||
		die "$name: hyperfine failed"
	names+=("$name")
done

python3 - "$results_dir" "${names[@]}" <<'PY'
import json, math, sys

results_dir, names = sys.argv[1], sys.argv[2:]
rows = []
for name in names:
    with open(f"{results_dir}/{name}.json") as f:
        by_command = {r["command"]: r for r in json.load(f)["results"]}
    native, wasm = by_command["native"], by_command["wasmbox"]
    cpu = lambda r: r["user"] + r["system"]
    rows.append((name, native["median"], wasm["median"], wasm["median"] / native["median"],
                 cpu(wasm) / cpu(native)))

# The ratio of CPU times (user + system, means) beside the one of wall-clock medians: on a
# machine shared with other work, the wall clock of a run also counts the time it waited.
print(f"{'NAME':<10} {'native s':>10} {'wasmbox s':>10} {'ratio':>8} {'cpu ratio':>10}")
for name, native, wasm, ratio, cpu_ratio in rows:
    print(f"{name:<10} {native:>10.3f} {wasm:>10.3f} {ratio:>7.2f}× {cpu_ratio:>9.2f}×")
geomean = lambda k: math.exp(sum(math.log(r[k]) for r in rows) / len(rows))
print(f"geomean (cpu time): {geomean(4):.2f}× native")
print(f"geomean: {geomean(3):.2f}× native")
PY
