#!/usr/bin/env bash
# Tests of the static core's own pieces that need musl (src/core/): built with musl-gcc as the
# core is. Usage: BUILD=build bash tests/core/run.sh   (prints "core-malloc: P passed, F failed")
set -uo pipefail
BUILD=${BUILD:-build}
if ! command -v musl-gcc >/dev/null; then
    echo "core-malloc: skipped: musl-gcc is not installed (the core is then linked with glibc)"
    echo "core-malloc: 0 passed, 0 failed, 1 skipped"
    exit 0
fi
mkdir -p "$BUILD/tests"
musl-gcc -std=gnu17 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -static -pthread \
    -o "$BUILD/tests/core-malloc" tests/core/test_malloc.c src/core/malloc.c || {
    echo "core-malloc: 0 passed, 1 failed (build)"
    exit 1
}
"$BUILD/tests/core-malloc"
