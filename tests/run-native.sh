#!/usr/bin/env bash
# The end-to-end suites again with compiled code (issue #18: "every existing e2e suite passes
# with --engine native as well"): every `run`/`create`/Compose service without an --engine of its
# own runs native code (WASMBOX_ENGINE=native), compiled into one cache the suites share
# (WASMBOX_NATIVE_CACHE), so each distinct module is compiled once. `make check-native`; ends with
# one line "N passed, N failed". Suites that never run a Wasm module (help, format, layers,
# podman's images) and those that already run both tiers (spec, wasi-testsuite) are left out.
set -uo pipefail
BUILD=${BUILD:-build}
SHARED=${SHARED:-../shared}
# shellcheck source=tests/run_suite.sh
. "$(dirname "$0")/run_suite.sh"
cache=$(mktemp -d)
trap 'rm -f "$log"; rm -rf "$cache"' EXIT
export WASMBOX_ENGINE=native WASMBOX_NATIVE_CACHE=$cache WASMBOX_PRECOMPILE=0

run_suite "CLI end-to-end, compiled" env BUILD="$BUILD" bash tests/e2e/cli.sh
run_suite "images and run IMAGE, compiled" env BUILD="$BUILD" bash tests/e2e/images.sh
run_suite "containers, compiled" env BUILD="$BUILD" bash tests/e2e/containers.sh
run_suite "build, compiled" env BUILD="$BUILD" bash tests/e2e/build.sh
run_suite "save, load, import, compiled" env BUILD="$BUILD" SHARED="$SHARED" bash tests/e2e/archive.sh
run_suite "registries, compiled" env BUILD="$BUILD" bash tests/e2e/registry.sh
run_suite "WASI sandbox, compiled" env BUILD="$BUILD" bash tests/wasi/sandbox.sh
run_suite "WASI sockets and HTTP, compiled" env BUILD="$BUILD" bash tests/wasi/http.sh
run_suite "order service + MariaDB, compiled" env BUILD="$BUILD" SHARED="$SHARED" bash tests/wasi/microservice.sh
run_suite "cp and export, compiled" env BUILD="$BUILD" bash tests/linux/cp.sh
run_suite "networks: Wasm names, compiled" env BUILD="$BUILD" bash tests/linux/network-modes.sh
run_suite "Compose, compiled" env BUILD="$BUILD" bash tests/linux/compose.sh
run_suite "wws app runtime, compiled" env BUILD="$BUILD" bash tests/linux/wws.sh
run_suite "Spin app runtime, compiled" env BUILD="$BUILD" bash tests/linux/spin.sh
run_suite "slight app runtime, compiled" env BUILD="$BUILD" bash tests/linux/slight.sh
run_suite "lunatic runtime, compiled" env BUILD="$BUILD" bash tests/linux/lunatic.sh
run_suite "runc-compatible runtime, compiled" env BUILD="$BUILD" bash tests/linux/oci.sh

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
