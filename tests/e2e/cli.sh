#!/usr/bin/env bash
# End-to-end tests of the wasmbox CLI: output format, exit codes and error messages.
# Usage: BUILD=build bash tests/e2e/cli.sh   (prints "e2e-cli: P passed, F failed")
set -uo pipefail
BUILD=${BUILD:-build}
WB=$BUILD/wasmbox
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export WASMBOX_ROOT=$T/root
# the compiled runs below use a cache of their own: with ROOT/native there, every `auto` run
# would start a background compile (still running when $T goes)
NC=(env "WASMBOX_NATIVE_CACHE=$T/native")
passed=0
failed=0

# expect NAME WANT_EXIT WANT_STDOUT WANT_STDERR_SUBSTRING -- CMD...
expect() {
    local name=$1 want_rc=$2 want_out=$3 want_err=$4
    shift 5
    local out err rc
    out=$("$@" 2>"$T/err")
    rc=$?
    err=$(cat "$T/err")
    if [ "$rc" != "$want_rc" ] || [ "$out" != "$want_out" ] ||
        { [ -n "$want_err" ] && [[ "$err" != *"$want_err"* ]]; }; then
        failed=$((failed + 1))
        echo "FAIL $name: exit $rc (want $want_rc)"
        echo "  stdout: $(printf %q "$out") (want $(printf %q "$want_out"))"
        echo "  stderr: $err"
    else
        passed=$((passed + 1))
    fi
}

wat2wasm --debug-names -o "$T/values.wasm" tests/e2e/fixtures/values.wat
V=$T/values.wasm
FIB=$BUILD/examples/fib/fib.wasm

expect example-fib 0 "2880067194370816120" "" -- "$WB" run --invoke fib "$FIB" 90
expect example-golden 0 "1.618033988749895" "" -- "$WB" run --invoke golden "$FIB" 40
expect example-rec 0 "6765" "" -- "$WB" run --invoke fib_rec "$FIB" 20
expect i32-neg 0 "-5" "" -- "$WB" run --invoke i32 "$V" -5
expect i32-unsigned-in 0 "-1" "" -- "$WB" run --invoke i32 "$V" 4294967295
expect i64-min 0 "-9223372036854775808" "" -- "$WB" run --invoke i64 "$V" -9223372036854775808
expect f32-shortest 0 "0.1" "" -- "$WB" run --invoke tenth32 "$V"
expect f64-shortest 0 "0.3333333333333333" "" -- "$WB" run --invoke third "$V"
expect f64-arg 0 "2.5" "" -- "$WB" run --invoke f64 "$V" 2.5
expect f32-arg 0 "1e+30" "" -- "$WB" run --invoke f32 "$V" 1e30
expect nan 0 "nan" "" -- "$WB" run --invoke nan32 "$V"
expect neg-nan 0 "-nan" "" -- "$WB" run --invoke negnan64 "$V"
expect nan-payload32 0 "nan:0x200001" "" -- "$WB" run --invoke nanpay32 "$V"
expect nan-payload64 0 "-nan:0x4000000000001" "" -- "$WB" run --invoke nanpay64 "$V"
expect inf 0 "-inf" "" -- "$WB" run --invoke inf "$V"
expect multi-value 0 $'-1\n1\n1.5' "" -- "$WB" run --invoke multi "$V"
expect no-results 0 "" "" -- "$WB" run --invoke none "$V"
expect trap-div 134 "" "Error: wasm trap: integer divide by zero" -- "$WB" run --invoke div "$V" 1 0
expect trap-backtrace 134 "" $'Error: wasm trap: unreachable\nwasm backtrace:\n   0: check\n   1: fib_checked' -- \
    "$WB" run --engine interp --invoke fib_checked "$FIB" 93
# compiled: the trap names the function it happened in (check is inlined into fib_checked: its
# frame is gone; the trap call ends the code, whose return address is past it)
expect trap-backtrace-native 134 "" $'Error: wasm trap: unreachable\nwasm backtrace:\n   0: fib_checked' -- \
    "${NC[@]}" "$WB" run --engine native --invoke fib_checked "$FIB" 93
expect trap-stack 134 "" "call stack exhausted" -- "$WB" run --invoke recurse "$V"
# compiled, from the static core too (musl's main-thread stack bounds): a trap, not a SIGSEGV
expect trap-stack-native 134 "" $'Error: wasm trap: call stack exhausted\nwasm backtrace:\n   0: deep' -- \
    "${NC[@]}" "$WB" run --engine native --invoke recurse "$V"
expect trap-oob 134 "" "out of bounds memory access" -- "$WB" run --invoke load "$V" 65533
expect oob-checked 134 "" "out of bounds memory access" -- "$WB" run --bounds-checks --invoke load "$V" 65533
expect in-bounds 0 "0" "" -- "$WB" run --invoke load "$V" 65532
expect fuel 134 "" "all fuel consumed" -- "$WB" run --fuel 1000 --invoke spin "$V"
expect missing-export 125 "" "no exported function \`nope\`" -- "$WB" run --invoke nope "$V"
expect wrong-arg-count 125 "" "takes 2 arguments, 1 given" -- "$WB" run --invoke div "$V" 1
expect bad-arg 125 "" "\`x1\` is not a valid i32" -- "$WB" run --invoke i32 "$V" x1
expect missing-file 125 "" "read \`$T/nope.wasm\`: No such file or directory" -- "$WB" run --invoke f "$T/nope.wasm"
printf 'not wasm' >"$T/bad.wasm"
expect bad-magic 125 "" "magic header not detected" -- "$WB" run --invoke f "$T/bad.wasm"
printf '\0asm\1\0\0\0\1\5\1\140\0' >"$T/trunc.wasm"
expect truncated 125 "" "not a valid WebAssembly module" -- "$WB" run --invoke f "$T/trunc.wasm"
printf '(module (func (export "f") (result i32) (i64.const 1)))' >"$T/invalid.wat"
wat2wasm --no-check -o "$T/invalid.wasm" "$T/invalid.wat"
expect invalid 125 "" "type mismatch" -- "$WB" run --invoke f "$T/invalid.wasm"

# WASI commands (skipped only if clang cannot build wasm32-wasi, which deps.sh installs)
if clang --target=wasm32-wasi --sysroot=/usr -O2 -o "$T/hello.wasm" tests/e2e/fixtures/hello.c 2>"$T/cc.err"; then
    H=$T/hello.wasm
    expect wasi-hello 0 "hello from wasm" "" -- "$WB" run "$H"
    expect wasi-args 0 $'hello from wasm\narg 1: a b\narg 2: c' "" -- "$WB" run "$H" "a b" c
    expect wasi-exit-code 7 "hello from wasm" "" -- "$WB" run "$H" --exit 7
    expect wasi-env 0 $'hello from wasm\nGREETING=hi there' "" -- "$WB" run --env "GREETING=hi there" "$H" --env GREETING
    expect wasi-env-inherit 0 $'hello from wasm\nHOME=/nowhere' "" -- env HOME=/nowhere "$WB" run --env HOME "$H" --env HOME
    expect wasi-env-unset 0 $'hello from wasm\nHOME=(unset)' "" -- "$WB" run "$H" --env HOME
    expect wasi-stdin 0 $'hello from wasm\npiped in' "" -- sh -c "printf 'piped in' | '$WB' run '$H' --cat"
    expect wasi-stderr 0 "hello from wasm" "to stderr" -- "$WB" run "$H" --stderr
    mkdir -p "$T/data" && printf 'file contents' >"$T/data/f.txt"
    expect wasi-dir 0 $'hello from wasm\nfile contents' "" -- "$WB" run --dir "$T/data::/d" "$H" --read /d/f.txt
    expect wasi-no-dir 2 "hello from wasm" "/d/f.txt" -- "$WB" run "$H" --read /d/f.txt
    expect wasi-timeout 134 "hello from wasm" "wasm trap: interrupted" -- "$WB" run --timeout 200ms "$H" --spin
    expect wasi-closed-stdout 0 "" "" -- sh -c "'$WB' run '$H' a b c | head -c 0"
else
    echo "FAIL wasi: clang cannot build wasm32-wasi: $(cat "$T/cc.err")"
    failed=$((failed + 1))
fi
printf '(module (import "wasi_unstable" "fd_write" (func (param i32 i32 i32 i32) (result i32))))' >"$T/p0.wat"
wat2wasm -o "$T/p0.wasm" "$T/p0.wat"
expect wasi-preview0 125 "" "WASI preview0 (wasi_unstable) is not supported" -- "$WB" run "$T/p0.wasm"
printf '(module (import "wasi_ephemeral_nn" "load" (func (param i32 i32 i32 i32 i32) (result i32))))' >"$T/nn.wat"
wat2wasm -o "$T/nn.wasm" "$T/nn.wat"
expect unknown-import-hint 125 "" "wasi-nn, a WasmEdge plugin that wasmbox does not provide" -- "$WB" run "$T/nn.wasm"
printf '(module (import "wasi_snapshot_preview1" "fd_frobnicate" (func)))' >"$T/frob.wat"
wat2wasm -o "$T/frob.wasm" "$T/frob.wat"
expect unknown-wasi-function 125 "" "\`wasi_snapshot_preview1\`.\`fd_frobnicate\` is not a WASI function" -- "$WB" run "$T/frob.wasm"
printf '(module (import "wasi_snapshot_preview1" "fd_write" (func (param i64))))' >"$T/badsig.wat"
wat2wasm -o "$T/badsig.wasm" "$T/badsig.wat"
expect wasi-bad-signature 125 "" "incompatible import type" -- "$WB" run "$T/badsig.wasm"
# --preload: link another module's exports under a name
printf '(module (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))' >"$T/lib.wat"
printf '(module (import "math" "add" (func $add (param i32 i32) (result i32)))
  (func (export "twice") (param i32) (result i32) (call $add (local.get 0) (local.get 0))))' >"$T/app.wat"
wat2wasm -o "$T/lib.wasm" "$T/lib.wat" && wat2wasm -o "$T/app.wasm" "$T/app.wat"
expect preload 0 "42" "" -- "$WB" run --preload "math=$T/lib.wasm" --invoke twice "$T/app.wasm" 21
expect preload-missing 125 "" "unknown import: \`math\`.\`add\` is not defined" -- "$WB" run --invoke twice "$T/app.wasm" 21
expect preload-bad-spec 125 "" "expected NAME=FILE.wasm" -- "$WB" run --preload "$T/lib.wasm" --invoke twice "$T/app.wasm" 21
expect max-memory-bad 125 "" "invalid argument for --max-memory" -- "$WB" run --max-memory lots --invoke i32 "$V" 1
expect timeout-bad 125 "" "invalid argument for --timeout" -- "$WB" run --timeout soon --invoke i32 "$V" 1
expect unknown-flag 125 "" "unknown flag: --frobnicate" -- "$WB" run --frobnicate "$V"
expect no-args 125 "" "requires at least 1 argument" -- "$WB" run
expect unknown-command 125 "" "'frob' is not a wasmbox command" -- "$WB" frob
expect version 0 "wasmbox version 0.1.0" "" -- "$WB" --version

echo "e2e-cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
