#!/usr/bin/env bash
# The compiler tier's two levels on the real-world programs (bench/realworld.sh builds them):
# compile time of the quick tier (-O0, what `build`/`pull` wait for on a module of 128 KiB of
# code or more) and of the default level (-O2, made in the background after it), one variant
# (interruptible, as containers run), wall time on this machine; then each program's run time
# natively, with the quick tier's code, the default level's and the interpreter, and the ratios
# to native. Prints one table.
#
#   BUILD=build bash bench/tiers.sh       (after `make bench-realworld` or bench/realworld.sh)
#   BENCH_FILTER=sqlite,zstd             some programs only
#   BENCH_RUNS=3                         runs per measurement (the table shows the median)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
runs=${BENCH_RUNS:-3}
filter=${BENCH_FILTER:-sqlite,lua,zstd,bzip2}
rw=$build/bench/realworld
full=$build/wasmbox-full
[ -x "$full" ] || { echo "tiers: no $full (make first)" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
declare -A arg=([sqlite]=100000 [lua]=2 [zstd]=2 [bzip2]=2)

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
wall() { # CMD...: the median wall time of $runs runs, seconds
    for _ in $(seq "$runs"); do
        /usr/bin/time -f %e -o "$T/t" "$@" >/dev/null 2>&1 || { echo "tiers: failed: $*" >&2; exit 1; }
        cat "$T/t"
    done | median
}

printf '%-8s %8s %14s %14s %8s %8s %8s %8s\n' program "KiB" "quick compile" "O2 compile" native \
    quick O2 interp
cd "$root"
for name in ${filter//,/ }; do
    wasm=$rw/$name.wasm native=$rw/native/$name
    [ -f "$wasm" ] && [ -x "$native" ] || { echo "tiers: SKIP $name: not built (bench/realworld.sh)"; continue; }
    n=${arg[$name]}
    kib=$(($(stat -c %s "$wasm") / 1024))
    for level in 0 2; do
        cq=$(wall bash -c "rm -rf '$T/c$level' && '$full' compile -q -O$level --interruptible --cache-dir '$T/c$level' '$wasm'")
        eval "c$level=$cq"
        # both variants in a root for the run (a module file runs the plain one)
        rm -rf "$T/r$level" && mkdir -p "$T/r$level"
        "$full" --root "$T/r$level" compile -q -O$level "$wasm"
    done
    tn=$(wall "$native" "$n")
    t0=$(wall "$build/wasmbox" --root "$T/r0" run --engine native "$wasm" "$n")
    t2=$(wall "$build/wasmbox" --root "$T/r2" run --engine native "$wasm" "$n")
    ti=$(wall "$build/wasmbox" run --engine interp "$wasm" "$n")
    mb=$(awk -v k="$kib" 'BEGIN {print k / 1024}')
    printf '%-8s %8d %6.2fs %4.1fs/MB %6.2fs %4.1fs/MB %7.2fs %4.2fs %3.1fx %4.2fs %3.1fx %4.2fs %3.1fx\n' \
        "$name" "$kib" "$c0" "$(awk -v t="$c0" -v m="$mb" 'BEGIN {print t / m}')" \
        "$c2" "$(awk -v t="$c2" -v m="$mb" 'BEGIN {print t / m}')" "$tn" \
        "$t0" "$(awk -v a="$t0" -v b="$tn" 'BEGIN {print a / b}')" \
        "$t2" "$(awk -v a="$t2" -v b="$tn" 'BEGIN {print a / b}')" \
        "$ti" "$(awk -v a="$ti" -v b="$tn" 'BEGIN {print a / b}')"
done
