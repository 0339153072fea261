#!/usr/bin/env bash
# Quick start on a fresh Debian 12 machine (as root): install what is missing, build wasmbox, and run
# a WebAssembly workload (a function of examples/fib).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
make -j"$(nproc)" all
echo
echo "\$ build/wasmbox run build/examples/hello/hello.wasm from wasmbox"
build/wasmbox run build/examples/hello/hello.wasm from wasmbox
echo "\$ build/wasmbox run --invoke fib build/examples/fib/fib.wasm 90"
build/wasmbox run --invoke fib build/examples/fib/fib.wasm 90
echo "\$ build/wasmbox run --invoke golden build/examples/fib/fib.wasm 40"
build/wasmbox run --invoke golden build/examples/fib/fib.wasm 40
