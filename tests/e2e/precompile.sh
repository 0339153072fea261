#!/usr/bin/env bash
# Compiling on arrival (issue #18, docs/native.md): `build`, `pull`, `load` and `import` of a
# Wasm image compile its module into ROOT/native (the variant containers run), so the first run
# is native (`inspect` says which tier ran: State.WasmEngine); a progress line on a terminal and
# nothing when piped; a module the compiler refused gets one warning line and the command still
# succeeds; WASMBOX_PRECOMPILE=0 turns it off; a Linux image is left alone.
# (run-all.sh sets WASMBOX_PRECOMPILE=0 for the other suites, which build many images in fresh
# store roots; this suite turns it on.)
# Usage: BUILD=build bash tests/e2e/precompile.sh   (prints "precompile: P passed, F failed")
set -uo pipefail
BUILD=${BUILD:-build}
WB=$(cd "$(dirname "$BUILD/wasmbox")" && pwd)/wasmbox
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/registry_lib.sh"
T=$(mktemp -d)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
passed=0
failed=0
export WASMBOX_PRECOMPILE=1
export HOME=$T/home
mkdir -p "$HOME"
fresh_root() { export WASMBOX_ROOT=$T/root-$1; }

if [ ! -x "$(dirname "$WB")/wasmbox-full" ]; then
    echo "precompile: skipped: no $(dirname "$WB")/wasmbox-full (the compiler) beside wasmbox"
    echo "precompile: 0 passed, 0 failed, 1 skipped"
    exit 0
fi

expect() { # NAME WANT_EXIT WANT_STDOUT_SUBSTRING WANT_STDERR_SUBSTRING -- CMD...
    local name=$1 want_rc=$2 want_out=$3 want_err=$4
    shift 5
    local out err rc
    out=$("$@" 2>"$T/err")
    rc=$?
    err=$(cat "$T/err")
    if [ "$rc" != "$want_rc" ] || { [ -n "$want_out" ] && [[ "$out" != *"$want_out"* ]]; } ||
        { [ -n "$want_err" ] && [[ "$err" != *"$want_err"* ]]; }; then
        failed=$((failed + 1))
        echo "FAIL $name: exit $rc (want $want_rc)"
        echo "  stdout: $(head -c 1500 <<<"$out")"
        echo "  stderr: $(head -c 1500 <<<"$err")"
        [ -n "$want_out" ] && echo "  want stdout containing: $want_out"
        [ -n "$want_err" ] && echo "  want stderr containing: $want_err"
    else
        passed=$((passed + 1))
    fi
}
check() { # NAME CONDITION...
    local name=$1
    shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $name"; fi
}
cached() { ls "$WASMBOX_ROOT/native/"*.wbn 2>/dev/null | grep -c .; }
tier() { "$WB" inspect --format '{{.State.WasmEngine}} {{.HostConfig.WasmEngine}}' "$1"; }

clang --target=wasm32-wasi --sysroot=/usr -O2 -o "$T/hello.wasm" "$HERE/fixtures/hello.c" ||
    { echo "precompile: cannot build the fixture"; echo "precompile: 0 passed, 1 failed"; exit 1; }
mkdir -p "$T/ctx"
cp "$T/hello.wasm" "$T/ctx/hello.wasm"
printf 'FROM scratch\nCOPY hello.wasm /hello.wasm\nENTRYPOINT ["/hello.wasm"]\n' >"$T/ctx/Dockerfile"

# ---- build: compiled before it returns, quietly when piped; the first run is native ----
fresh_root build
"$WB" build --platform wasi/wasm -t hello "$T/ctx" >"$T/build.out" 2>"$T/build.err"
check build-ok [ $? -eq 0 ]
check build-stdout-as-before grep -qx 'Successfully tagged hello:latest' "$T/build.out"
check build-piped-no-progress [ ! -s "$T/build.err" ]
check build-compiled [ "$(cached)" = 1 ]
expect first-run-output 0 "hello" "" -- "$WB" run --name c1 hello
expect first-run-native 0 "native auto" "" -- tier c1
expect interp-asked 0 "interp interp" "" -- bash -c "'$WB' run --engine interp --name c2 hello >/dev/null && '$WB' inspect --format '{{.State.WasmEngine}} {{.HostConfig.WasmEngine}}' c2"
expect created-not-started 0 " auto" "" -- bash -c "'$WB' create --name c3 hello >/dev/null && '$WB' inspect --format '{{.State.WasmEngine}} {{.HostConfig.WasmEngine}}' c3"
# the tier of the latest start: the cache gone, the next start is interpreted
rm -rf "$WASMBOX_ROOT/native"
expect restart-interp 0 "interp auto" "" -- bash -c "'$WB' start -a c1 >/dev/null && '$WB' inspect --format '{{.State.WasmEngine}} {{.HostConfig.WasmEngine}}' c1"
expect rebuild-compiles-again 0 "" "" -- "$WB" build -q --platform wasi/wasm -t hello "$T/ctx"
check rebuild-cached [ "$(cached)" = 1 ]

# ---- on a terminal: a progress line that ends with the time taken ----
fresh_root tty
if command -v script >/dev/null; then
    script -qec "'$WB' build --platform wasi/wasm -t hello '$T/ctx'" /dev/null >"$T/tty.out" 2>&1
    check tty-build-ok [ $? -eq 0 ]
    check tty-progress grep -q 'hello:latest: compiling to native code [0-9.]*s' "$T/tty.out"
    check tty-done grep -q 'hello:latest: compiled to native code in [0-9.]*s' "$T/tty.out"
    # -q: no progress
    fresh_root ttyq
    script -qec "'$WB' build -q --platform wasi/wasm -t hello '$T/ctx'" /dev/null >"$T/ttyq.out" 2>&1
    check tty-quiet-no-progress bash -c "! grep -q 'native code' '$T/ttyq.out'"
    check tty-quiet-compiled [ "$(cached)" = 1 ]
fi

# ---- the quick tier (docs/native.md): a module with at least WASMBOX_QUICK_TIER_BYTES of code
# (128 KiB by default; 0 here, so the fixture counts) is compiled at -O0 before build returns,
# and at the default level in the background, whose file replaces the quick one; a run of quick
# code starts that upgrade when none is running; `compile` replaces quick code ----
level() { # the level of the one cache file (its header: 1 + the level at byte 104)
    local f
    f=$(ls "$WASMBOX_ROOT/native/"*.wbn 2>/dev/null | head -1)
    [ -n "$f" ] && echo $(($(od -An -tu4 -j104 -N4 "$f") - 1))
}
level_becomes() { # LEVEL: within 60 s
    for _ in $(seq 600); do [ "$(level)" = "$1" ] && return 0; sleep 0.1; done
    return 1
}
fresh_root quick
if command -v script >/dev/null; then
    WASMBOX_QUICK_TIER_BYTES=0 script -qec "'$WB' build --platform wasi/wasm -t hello '$T/ctx'" /dev/null >"$T/quick.out" 2>&1
    check quick-build-ok [ $? -eq 0 ]
    check quick-progress grep -q 'hello:latest: compiling to native code (quick tier) [0-9.]*s' "$T/quick.out"
    check quick-done grep -q 'hello:latest: compiled to native code in [0-9.]*s (quick tier; optimising in the background)' "$T/quick.out"
    check quick-upgraded level_becomes 2
    check quick-one-file [ "$(cached)" = 1 ]
    expect quick-then-run 0 "native auto" "" -- bash -c "'$WB' run --name q1 hello >/dev/null && '$WB' inspect --format '{{.State.WasmEngine}} {{.HostConfig.WasmEngine}}' q1"
fi
# quick code in the cache (as a pull leaves it when the upgrade was killed): a run uses it and
# starts the upgrade
fresh_root quickrun
WASMBOX_PRECOMPILE=0 "$WB" build -q --platform wasi/wasm -t hello "$T/ctx" >/dev/null
"$(dirname "$WB")/wasmbox-full" compile -q -O0 --interruptible --cache-dir "$WASMBOX_ROOT/native" "$T/hello.wasm"
check quickrun-level-0 [ "$(level)" = 0 ]
expect quickrun-runs-native 0 "native" "" -- bash -c "'$WB' run --name q2 hello >/dev/null && '$WB' inspect --format '{{.State.WasmEngine}}' q2"
check quickrun-upgraded level_becomes 2
# `compile` at the default level replaces quick code; -O0 over it changes nothing
fresh_root quickcompile
"$(dirname "$WB")/wasmbox-full" compile -q -O0 --interruptible --cache-dir "$WASMBOX_ROOT/native" "$T/hello.wasm"
expect compile-replaces-quick 0 "" "" -- "$(dirname "$WB")/wasmbox-full" compile -q --interruptible --cache-dir "$WASMBOX_ROOT/native" "$T/hello.wasm"
check compile-replaced [ "$(level)" = 2 ]
"$(dirname "$WB")/wasmbox-full" compile -q -O0 --interruptible --cache-dir "$WASMBOX_ROOT/native" "$T/hello.wasm"
check compile-no-downgrade [ "$(level)" = 2 ]

# ---- load and import ----
fresh_root build
"$WB" save hello -o "$T/hello.tar" || echo "FAIL save"
fresh_root load
expect load 0 "Loaded image: hello:latest" "" -- "$WB" load -i "$T/hello.tar"
check load-compiled [ "$(cached)" = 1 ]
fresh_root import
tar -C "$T/ctx" -cf "$T/rootfs.tar" hello.wasm
expect import 0 "sha256:" "" -- "$WB" import -c 'ENTRYPOINT ["/hello.wasm"]' "$T/rootfs.tar" imp
check import-compiled [ "$(cached)" = 1 ]
expect import-run-native 0 "native" "" -- bash -c "'$WB' run --name i1 imp >/dev/null && '$WB' inspect --format '{{.State.WasmEngine}}' i1"

# ---- a Linux image is left alone; WASMBOX_PRECOMPILE=0 turns it off ----
fresh_root linux
printf '#!/bin/sh\necho hi\n' >"$T/hi.sh"
chmod +x "$T/hi.sh"
tar -C "$T" -cf "$T/linux.tar" hi.sh
expect import-linux 0 "sha256:" "" -- "$WB" import --platform linux/amd64 "$T/linux.tar" lin
check linux-not-compiled [ "$(cached)" = 0 ]
fresh_root off
expect build-off 0 "" "" -- env WASMBOX_PRECOMPILE=0 "$WB" build -q --platform wasi/wasm -t hello "$T/ctx"
check off-not-compiled [ "$(cached)" = 0 ]

# ---- a module the compiler refused before: one warning, the command succeeds ----
fresh_root fail
"$WB" build -q --platform wasi/wasm -t hello "$T/ctx" >/dev/null
wbn=$(ls "$WASMBOX_ROOT/native/"*.wbn)
rm -f "$wbn"
echo "the compiler said no (test)" >"$wbn.fail"
expect refused-warns 0 "Successfully tagged" "WARNING: hello:latest: its module could not be compiled to native code (it runs interpreted): the compiler said no (test)" -- \
    "$WB" build --no-cache --platform wasi/wasm -t hello "$T/ctx"
expect refused-runs-interp 0 "interp" "" -- bash -c "'$WB' run --name f1 hello >/dev/null && '$WB' inspect --format '{{.State.WasmEngine}}' f1"

# ---- pull from a registry (Debian's docker-registry on 127.0.0.1) ----
if command -v docker-registry >/dev/null; then
    P=$(free_port)
    if REG=$(start_registry "$T/reg" "$P"); then
        PIDS+=("$REG")
        fresh_root build
        "$WB" tag hello "127.0.0.1:$P/hello:1"
        "$WB" push -q "127.0.0.1:$P/hello:1" >/dev/null || echo "FAIL push"
        fresh_root pull
        expect pull 0 "127.0.0.1:$P/hello:1" "" -- "$WB" pull "127.0.0.1:$P/hello:1"
        check pull-compiled [ "$(cached)" = 1 ]
        check pull-piped-quiet [ ! -s "$T/err" ]
    else
        failed=$((failed + 1))
        echo "FAIL registry: docker-registry did not start"
    fi
else
    echo "precompile: pull not checked: docker-registry is not installed (scripts/deps.sh)"
fi

echo "precompile: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
