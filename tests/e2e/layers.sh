#!/usr/bin/env bash
# End-to-end tests of the layer checks (issue 12, item 7): images whose config's diff_id lies,
# gzip bombs (a 2 MB layer holding a 2 GiB file of zeros), a header declaring 20 GiB, too many
# entries, and whiteouts written as directories — pushed to Debian's docker-registry on
# 127.0.0.1 with skopeo, then pulled, run, loaded, imported and built FROM. Each refusal must be
# one clear line naming the layer, exit non-zero, and leave a consistent store: no image
# registered, no half-unpacked rootfs, `images` working, a later good pull working.
# Fixtures come from tests/e2e/layers_tool.py; caps are lowered with WASMBOX_MAX_LAYER_SIZE and
# WASMBOX_MAX_LAYER_ENTRIES so that nothing big is ever written.
# Usage: BUILD=build bash tests/e2e/layers.sh   (prints "layers: P passed, F failed")
set -uo pipefail
# when layers are unpacked is checked here (at the first run); compiling on arrival would unpack a
# pulled image's layers at pull to reach its module (tests/e2e/precompile.sh covers that)
export WASMBOX_PRECOMPILE=0
BUILD=${BUILD:-build}
WB=$(cd "$(dirname "$BUILD/wasmbox")" && pwd)/wasmbox
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/registry_lib.sh"
TOOL=(python3 "$HERE/layers_tool.py")
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

for tool in docker-registry skopeo python3 curl clang; do
    if ! command -v "$tool" >/dev/null; then
        echo "layers: skipped: $tool is not installed (scripts/deps.sh installs it)"
        echo "layers: 0 passed, 0 failed, 1 skipped"
        exit 0
    fi
done

export HOME=$T/home
mkdir -p "$HOME"
unset REGISTRY_AUTH_FILE DOCKER_CONFIG XDG_CONFIG_HOME WASMBOX_MAX_LAYER_SIZE WASMBOX_MAX_LAYER_ENTRIES
export WASMBOX_ROOT=$T/root

expect() { # NAME WANT_EXIT WANT_STDOUT_SUBSTRING WANT_STDERR_SUBSTRING -- CMD...
    [ -n "${LAYERS_VERBOSE:-}" ] && echo "== $1" >&2
    local name=$1 want_rc=$2 want_out=$3 want_err=$4
    shift 5
    local out err rc
    out=$("$@" 2>"$T/err")
    rc=$?
    err=$(cat "$T/err")
    [ -n "${LAYERS_VERBOSE:-}" ] && [ -n "$err" ] && echo "$err" | grep -i error >&2
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
no_image() { ! "$WB" images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep -q -- "$1"; }
# the store is consistent: every blob has its digest, index.json parses, `images` works, and no
# rootfs is half there (no scratch directory; none but those of the images named)
store_sound() {
    local root=$WASMBOX_ROOT f
    for f in "$root"/images/blobs/sha256/*; do
        [ -e "$f" ] || continue
        [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$(basename "$f")" ] || { echo "bad blob $f"; return 1; }
    done
    [ ! -e "$root/images/index.json" ] || python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$root/images/index.json" || return 1
    "$WB" images >/dev/null || return 1
    ! ls -A "$root/images/rootfs" "$root/images/layers" 2>/dev/null | grep -q '^\.tmp'
}
# unpacked image files present: layer directories (as root, by diff_id hex) or flattened root
# filesystems (by config hex)
rootfs_count() { ls -A "$WASMBOX_ROOT/images/layers" "$WASMBOX_ROOT/images/rootfs" 2>/dev/null | grep -v '^\.tmp' | grep -c '^[0-9a-f]\{64\}$'; }
# how much the store holds on disk, in MiB
store_mib() { du -sm "$WASMBOX_ROOT" | cut -f1; }

# ---- fixtures ----
clang --target=wasm32-wasi --sysroot=/usr -O2 -o "$T/hello.wasm" "$HERE/fixtures/hello.c"
for kind in good liar bomb zeros huge many whiteout; do
    "${TOOL[@]}" layout "$kind" "$T/oci-$kind" "$T/hello.wasm" >"$T/config-$kind" || { echo "layers: cannot make $kind"; exit 1; }
done
SK=(skopeo --insecure-policy)
P=$(free_port)
REG=$(start_registry "$T/reg" "$P") || { echo "layers: cannot start docker-registry"; echo "layers: 0 passed, 1 failed"; exit 1; }
PIDS+=("$REG")
R=127.0.0.1:$P
for kind in good liar bomb zeros huge many whiteout; do
    "${SK[@]}" copy -q --dest-tls-verify=false "oci:$T/oci-$kind:1" "docker://$R/$kind:1" >/dev/null 2>&1 ||
        { echo "layers: skopeo cannot push $kind"; exit 1; }
done
BOMB_GZ=$(ls -S "$T/oci-bomb/blobs/sha256" | head -1)
check bomb-is-small [ "$(stat -c %s "$T/oci-bomb/blobs/sha256/$BOMB_GZ")" -lt 4000000 ]

# ==== pull ====
expect pull-good 0 "Downloaded newer image" "" -- "$WB" pull "$R/good:1"
expect run-good 0 "hello from wasm" "" -- "$WB" run --rm "$R/good:1"

expect pull-liar 1 "" "does not match the image config's diff_id" -- "$WB" pull "$R/liar:1"
check pull-liar-names-layer grep -q 'layer sha256:[0-9a-f]\{64\}: uncompressed content sha256:[0-9a-f]\{64\} does not match the image config' "$T/err"
check pull-liar-one-line [ "$(wc -l <"$T/err")" -eq 1 ]
check pull-liar-not-registered no_image "$R/liar"
check pull-liar-store-sound store_sound

export WASMBOX_MAX_LAYER_SIZE=1G
expect pull-bomb 1 "" "WASMBOX_MAX_LAYER_SIZE" -- "$WB" pull "$R/bomb:1"
check pull-bomb-says-limit grep -q 'layer sha256:[0-9a-f]\{64\}: .*zeros.bin.*2 GiB.*1 GiB uncompressed (the limit; set WASMBOX_MAX_LAYER_SIZE' "$T/err"
check pull-bomb-not-registered no_image "$R/bomb"
check pull-bomb-wrote-little [ "$(store_mib)" -lt 64 ]
check pull-bomb-store-sound store_sound
unset WASMBOX_MAX_LAYER_SIZE

expect pull-huge-default-cap 1 "" "past 16 GiB uncompressed (the limit" -- "$WB" pull "$R/huge:1"
check pull-huge-names-entry grep -q 'huge.bin' "$T/err"
check pull-huge-not-registered no_image "$R/huge"

WASMBOX_MAX_LAYER_ENTRIES=1000 expect pull-many-capped 1 "" "more than 1000 entries (the limit; set WASMBOX_MAX_LAYER_ENTRIES" -- "$WB" pull "$R/many:1"
check pull-many-not-registered no_image "$R/many"
expect pull-many-default 0 "Downloaded newer image" "" -- "$WB" pull "$R/many:1"

WASMBOX_MAX_LAYER_SIZE=lots expect bad-setting 1 "" 'WASMBOX_MAX_LAYER_SIZE="lots"' -- "$WB" pull "$R/zeros:1"

# ==== run: pulls what is missing, and unpacks at first run ====
expect run-liar 125 "" "does not match the image config's diff_id" -- "$WB" run --rm "$R/liar:1"
check run-liar-not-registered no_image "$R/liar"
WASMBOX_MAX_LAYER_SIZE=1G expect run-bomb 125 "" "WASMBOX_MAX_LAYER_SIZE" -- "$WB" run --rm "$R/bomb:1"
check run-bomb-store-sound store_sound

# the 64 MiB layer pulls under the default cap; a run with a lower cap refuses to unpack it
expect pull-zeros 0 "Downloaded newer image" "" -- "$WB" pull "$R/zeros:1"
before=$(rootfs_count)
WASMBOX_MAX_LAYER_SIZE=16M expect run-zeros-capped 125 "" "(the limit; set WASMBOX_MAX_LAYER_SIZE" -- "$WB" run --rm "$R/zeros:1"
check run-zeros-capped-no-rootfs [ "$(rootfs_count)" = "$before" ]
check run-zeros-capped-store-sound store_sound
expect run-zeros 0 "hello from wasm" "" -- "$WB" run --rm "$R/zeros:1"
check run-zeros-rootfs [ "$(rootfs_count)" -gt "$before" ]
check zeros-take-no-disk [ "$(store_mib)" -lt 48 ]

# ==== whiteouts written as directories ====
expect run-whiteout 0 "hello from wasm" "" -- "$WB" run --rm "$R/whiteout:1"
# the image's files as a container sees them (layers stacked, or flattened without root)
WHC=$("$WB" create "$R/whiteout:1")
WH=$T/whiteout-view
mkdir -p "$WH" && "$WB" export "$WHC" | tar -x -C "$WH"
"$WB" rm "$WHC" >/dev/null
check whiteout-rootfs [ -e "$WH/hello.wasm" ]
check whiteout-victim-gone [ ! -e "$WH/victim" ]
check whiteout-dir-not-left [ ! -e "$WH/.wh.victim" ]
check whiteout-nested-gone [ ! -e "$WH/d/x" ] && [ -e "$WH/d/y" ]
check whiteout-nested-dir-not-left [ ! -e "$WH/d/.wh.x" ]
check opaque-dir-applied [ ! -e "$WH/o/old" ] && [ -e "$WH/o/new" ]
check opaque-dir-not-left [ ! -e "$WH/o/.wh..wh..opq" ]

# ==== load ====
tar -C "$T/oci-liar" -cf "$T/liar.tar" .
expect load-liar 1 "" "does not match the image config's diff_id" -- "$WB" load -i "$T/liar.tar"
check load-liar-not-registered no_image "layers-liar"
tar -C "$T/oci-bomb" -cf "$T/bomb.tar" .
WASMBOX_MAX_LAYER_SIZE=1G expect load-bomb 1 "" "(the limit; set WASMBOX_MAX_LAYER_SIZE" -- "$WB" load -i "$T/bomb.tar"
check load-bomb-not-registered no_image "layers-bomb"
check load-store-sound store_sound
"${SK[@]}" copy -q "oci:$T/oci-liar:1" "docker-archive:$T/liar-docker.tar:localhost/liar-docker:1" >/dev/null 2>&1
expect load-liar-docker-archive 1 "" "diff_id" -- "$WB" load -i "$T/liar-docker.tar"
tar -C "$T/oci-good" -cf "$T/good.tar" .
expect load-good 0 "Loaded image" "" -- "$WB" load -i "$T/good.tar"

# ==== import ====
"${TOOL[@]}" gz-layer bomb "$T/bomb-layer.tar.gz"
WASMBOX_MAX_LAYER_SIZE=1G expect import-bomb 1 "" "WASMBOX_MAX_LAYER_SIZE" -- "$WB" import "$T/bomb-layer.tar.gz" bomb:imported
check import-bomb-not-registered no_image "bomb:imported"
"${TOOL[@]}" gz-layer many "$T/many-layer.tar.gz"
WASMBOX_MAX_LAYER_ENTRIES=1000 expect import-many 1 "" "WASMBOX_MAX_LAYER_ENTRIES" -- "$WB" import "$T/many-layer.tar.gz" many:imported
check import-store-sound store_sound

# ==== build FROM ====
mkdir -p "$T/ctx"
echo data >"$T/ctx/data.txt"
printf 'FROM %s\nCOPY data.txt /data.txt\n' "$R/liar:1" >"$T/ctx/Dockerfile.liar"
expect build-from-liar 1 "" "does not match the image config's diff_id" -- "$WB" build --platform wasi/wasm -f "$T/ctx/Dockerfile.liar" -t built-liar "$T/ctx"
check build-from-liar-not-registered no_image "built-liar"
printf 'FROM %s\nCOPY data.txt /data.txt\n' "$R/zeros:1" >"$T/ctx/Dockerfile.zeros"
WASMBOX_MAX_LAYER_SIZE=16M expect build-from-zeros-capped 1 "" "(the limit; set WASMBOX_MAX_LAYER_SIZE" -- "$WB" build --platform wasi/wasm -f "$T/ctx/Dockerfile.zeros" -t built-zeros "$T/ctx"
check build-from-zeros-capped-not-registered no_image "built-zeros"
expect build-from-zeros 0 "Successfully tagged" "" -- "$WB" build --platform wasi/wasm -f "$T/ctx/Dockerfile.zeros" -t built-zeros "$T/ctx"
expect run-built-zeros 0 "hello from wasm" "" -- "$WB" run --rm built-zeros

# ==== afterwards: the store is whole and a good pull works ====
check final-store-sound store_sound
expect images-works 0 "REPOSITORY" "" -- "$WB" images
"$WB" rmi "$R/good:1" >/dev/null 2>&1
expect pull-good-again 0 "Downloaded newer image" "" -- "$WB" pull "$R/good:1"
expect run-good-again 0 "hello from wasm" "" -- "$WB" run --rm "$R/good:1"

echo "layers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
