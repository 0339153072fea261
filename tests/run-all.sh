#!/usr/bin/env bash
# Runs every test suite and ends with one line "N passed, N failed" (the README's test command,
# through `make check`). Each suite prints its own "NAME: P passed, F failed[, S skipped]" line.
set -uo pipefail
BUILD=${BUILD:-build}
SHARED=${SHARED:-../shared}
# shellcheck source=tests/run_suite.sh
. "$(dirname "$0")/run_suite.sh"
# The suites build, load, import and pull many Wasm images, each in a fresh store root; compiling
# every one on arrival would add minutes. tests/e2e/precompile.sh turns it on and checks it.
export WASMBOX_PRECOMPILE=${WASMBOX_PRECOMPILE:-0}

spec_files() { # every spec file, converted by `make` into $BUILD/spec
    local d
    for d in "$BUILD"/spec/*/; do
        d=${d%/}
        echo "$d/$(basename "$d").json"
    done
}

run_suite "unit tests" "$BUILD/unit-tests"
mapfile -t WAST < <(ls "$BUILD"/wast/*/*.json)
run_suite "engine tests (tests/wast), interpreter" "$BUILD/wasmbox-spectest" "${WAST[@]}"
run_suite "engine tests (tests/wast), compiled" "$BUILD/wasmbox-spectest" --engine native "${WAST[@]}"
run_suite "engine tests (tests/wast), compiled, bounds-checked" "$BUILD/wasmbox-spectest" --engine native --bounds-checks "${WAST[@]}"
run_suite "core allocator (musl)" env BUILD="$BUILD" bash tests/core/run.sh
if [ -d "$SHARED/testsuite/wasm-spec/wast" ]; then
    mapfile -t SPEC < <(spec_files)
    run_suite "spec suite (guarded memories)" "$BUILD/wasmbox-spectest" "${SPEC[@]}"
    run_suite "spec suite (bounds-checked memories)" "$BUILD/wasmbox-spectest" --bounds-checks "${SPEC[@]}"
    # the compiler tier (docs/native.md)
    run_suite "spec suite, compiled (guarded memories)" "$BUILD/wasmbox-spectest" --engine native "${SPEC[@]}"
    run_suite "spec suite, compiled (bounds-checked memories)" "$BUILD/wasmbox-spectest" --engine native --bounds-checks "${SPEC[@]}"
    run_suite "spec suite, compiled (interruptible)" "$BUILD/wasmbox-spectest" --engine native --interruptible "${SPEC[@]}"
    # large modules are compiled in partitions, one per CPU, whose objects are joined: force it
    run_suite "spec suite, compiled in 3 partitions" env WASMBOX_COMPILE_PARTITIONS=3 \
        "$BUILD/wasmbox-spectest" --engine native "${SPEC[@]}"
    # the quick tier's code (-O0, what build and pull wait for on large modules), partitioned as a
    # large module is, in both memory modes
    run_suite "spec suite, quick tier (-O0, 3 partitions)" env WASMBOX_COMPILE_PARTITIONS=3 \
        "$BUILD/wasmbox-spectest" --engine native -O 0 "${SPEC[@]}"
    run_suite "spec suite, quick tier (-O0), bounds-checked" \
        "$BUILD/wasmbox-spectest" --engine native -O 0 --bounds-checks "${SPEC[@]}"
else
    echo "== spec suite: skipped: $SHARED/testsuite/wasm-spec not found"
fi
run_suite "CLI end-to-end" env BUILD="$BUILD" bash tests/e2e/cli.sh
run_suite "--format directives and buildx" env BUILD="$BUILD" bash tests/e2e/format.sh
run_suite "help and flag errors" env BUILD="$BUILD" bash tests/e2e/help.sh
run_suite "images and run IMAGE" env BUILD="$BUILD" bash tests/e2e/images.sh
run_suite "containers" env BUILD="$BUILD" bash tests/e2e/containers.sh
run_suite "build" env BUILD="$BUILD" bash tests/e2e/build.sh
run_suite "build RUN (Linux build containers)" env BUILD="$BUILD" bash tests/e2e/build_run.sh
run_suite "save, load, import (archives)" env BUILD="$BUILD" SHARED="$SHARED" bash tests/e2e/archive.sh
run_suite "registries (pull, push, login)" env BUILD="$BUILD" bash tests/e2e/registry.sh
run_suite "compiled on arrival (build, pull, load, import)" env BUILD="$BUILD" bash tests/e2e/precompile.sh
run_suite "layers (diff_ids, caps, whiteouts)" env BUILD="$BUILD" bash tests/e2e/layers.sh
run_suite "wasi-testsuite" env BUILD="$BUILD" SHARED="$SHARED" python3 tests/wasi/testsuite.py
run_suite "wasi-testsuite, compiled" env BUILD="$BUILD" SHARED="$SHARED" ENGINE=native RUST_OPT=0 \
    python3 tests/wasi/testsuite.py
run_suite "WASI sandbox" env BUILD="$BUILD" bash tests/wasi/sandbox.sh
run_suite "WASI sockets and HTTP" env BUILD="$BUILD" bash tests/wasi/http.sh
run_suite "order service + MariaDB (Wasm and native)" env BUILD="$BUILD" SHARED="$SHARED" bash tests/wasi/microservice.sh
run_suite "shim protobuf oracle (protobuf-c)" env BUILD="$BUILD" bash tests/shim/oracle.sh
run_suite "regressions of issue #12" env BUILD="$BUILD" bash tests/regression/issue-12.sh
run_suite "Linux test images" env BUILD="$BUILD" bash tests/linux/images.sh
run_suite "Linux containers (beside podman + runc)" env BUILD="$BUILD" bash tests/linux/containers.sh
run_suite "cp and export (Linux and Wasm containers)" env BUILD="$BUILD" bash tests/linux/cp.sh
run_suite "networks (bridges, aardvark-dns, -p)" env BUILD="$BUILD" bash tests/linux/network.sh
run_suite "networks: connect, container:, internal, UDP, Wasm names, 50 at once" env BUILD="$BUILD" bash tests/linux/network-modes.sh
run_suite "MariaDB in a Linux container (built with RUN apt-get)" env BUILD="$BUILD" bash tests/linux/mariadb.sh
run_suite "Compose (Wasm and Linux services, depends_on, Ctrl+C)" env BUILD="$BUILD" bash tests/linux/compose.sh
run_suite "wws app runtime (io.containerd.wws.v1: routes, kv, folders, vars)" env BUILD="$BUILD" bash tests/linux/wws.sh
run_suite "Spin app runtime (io.containerd.spin.v2: WAGI, Spin 1.x ABI, variables, kv, files)" env BUILD="$BUILD" bash tests/linux/spin.sh
run_suite "slight app runtime (io.containerd.slight.v1: router, keyvalue, configs)" env BUILD="$BUILD" bash tests/linux/slight.sh
run_suite "lunatic runtime (io.containerd.lunatic.v1: processes, messages, links, TCP)" env BUILD="$BUILD" bash tests/linux/lunatic.sh
run_suite "runc-compatible runtime (wasmbox-runc, Podman)" env BUILD="$BUILD" bash tests/linux/oci.sh
run_suite "containerd shim v2 (containerd 1.6)" env BUILD="$BUILD" bash tests/linux/shim.sh
run_suite "Kubernetes CRI through the shim (containerd 1.6's CRI plugin)" env BUILD="$BUILD" bash tests/linux/cri.sh
run_suite "microservice demo (Wasm + MariaDB + nginx, compose, browser)" env BUILD="$BUILD" SHARED="$SHARED" bash tests/linux/microservice.sh

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
