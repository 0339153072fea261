#!/usr/bin/env bash
# The shim's protobuf (src/shim/pb.c) against Debian's protobuf-c as a test oracle: generates C from
# tests/shim/proto with protoc-c into $BUILD/shim-oracle (never committed), builds
# tests/shim/oracle.c with it and runs it. Last line: "shim-oracle: P passed, F failed".
#   BUILD=build bash tests/shim/oracle.sh      (SAN=1 adds ASan+UBSan)
# protobuf-c is a test-only dependency (scripts/deps.sh): without it the suite is skipped.
set -uo pipefail
BUILD=${BUILD:-build}
CC=${CC:-gcc}
cd "$(dirname "$0")/../.."

if ! command -v protoc-c >/dev/null 2>&1 || [ ! -f /usr/include/protobuf-c/protobuf-c.h ]; then
    echo "shim-oracle: skipped: protoc-c or protobuf-c.h missing" \
        "(apt-get install protobuf-c-compiler libprotobuf-c-dev)"
    echo "shim-oracle: 0 passed, 0 failed, 1 skipped"
    exit 0
fi

out=$BUILD/shim-oracle
rm -rf "$out/gen"
mkdir -p "$out/gen"
mapfile -t protos < <(cd tests/shim/proto && find . -name '*.proto' | sed 's|^\./||' | sort)
if ! protoc-c --c_out="$out/gen" -I tests/shim/proto "${protos[@]}"; then
    echo "shim-oracle: protoc-c failed"
    echo "shim-oracle: 0 passed, 1 failed"
    exit 1
fi
mapfile -t gen < <(find "$out/gen" -name '*.pb-c.c' | sort)
flags=(-std=gnu17 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter
       -Isrc -I"$out/gen")
if [ "${SAN:-0}" = 1 ]; then
    flags+=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
fi
if ! "$CC" "${flags[@]}" -o "$out/oracle" tests/shim/oracle.c "${gen[@]}" src/shim/pb.c \
    src/shim/messages.c src/base/*.c -lprotobuf-c -ljansson -ldl -lpthread; then
    echo "shim-oracle: build failed"
    echo "shim-oracle: 0 passed, 1 failed"
    exit 1
fi
"$out/oracle"
