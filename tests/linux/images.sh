#!/usr/bin/env bash
# Smoke test of the Linux test images (issue #13): scripts/test-images.sh builds (or finds in its
# cache) the busybox and debian:bookworm rootfs tarballs, the busybox one byte for byte
# reproducible; both are imported into a temporary wasmbox store as linux/amd64 images (a second
# load is a no-op) and into the reference runtime's private store (tests/linux/podman.sh), with
# the same layer, where `true` runs in each. The first run takes ~2 min (debootstrap); later
# runs, seconds. Needs root, podman and runc (scripts/deps.sh).
# Usage: BUILD=build bash tests/linux/images.sh   (prints "linux-images: P passed, F failed")
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
WB=$(cd "$(dirname "$BUILD/wasmbox")" 2>/dev/null && pwd)/wasmbox
IMAGES=$TOP/scripts/test-images.sh
T=$(mktemp -d)
export WASMBOX_ROOT=$T/root
passed=0
failed=0
# shellcheck source=tests/linux/podman.sh
. "$TOP/tests/linux/podman.sh"
trap 'podman_ref_cleanup; rm -rf "$T"' EXIT

expect() { # NAME WANT_EXIT WANT_STDOUT -- CMD...
    local name=$1 want_rc=$2 want_out=$3
    shift 4
    local out rc
    out=$("$@" 2>"$T/err")
    rc=$?
    if [ "$rc" != "$want_rc" ] || [ "$out" != "$want_out" ]; then
        failed=$((failed + 1))
        echo "FAIL $name: exit $rc (want $want_rc)"
        echo "  stdout: $(printf %q "$out") (want $(printf %q "$want_out"))"
        sed 's/^/  stderr: /' "$T/err" | head -n 20
    else
        passed=$((passed + 1))
    fi
}
check() { # NAME CMD... : passes when CMD succeeds
    local name=$1
    shift
    if "$@" >"$T/check.out" 2>&1; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL $name"
        sed 's/^/  /' "$T/check.out" | head -n 20
    fi
}
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
section() { echo "-- $1 (at ${SECONDS}s)"; }

section "tarballs"
declare -A TAR
for img in busybox debian; do
    if TAR[$img]=$("$IMAGES" "$img" 2>"$T/build-$img.err") && [ -f "${TAR[$img]}" ]; then
        passed=$((passed + 1))
    else
        fail "build-$img"
        sed 's/^/  /' "$T/build-$img.err" | tail -n 20
        echo "linux-images: $passed passed, $failed failed"
        exit 1
    fi
done
start=$(date +%s%N)
"$IMAGES" busybox >/dev/null && "$IMAGES" debian >/dev/null
ms=$((($(date +%s%N) - start) / 1000000))
check "cached-lookup-fast (${ms} ms)" test "$ms" -lt 5000
check "busybox-tar-name" bash -c "[[ '$(basename "${TAR[busybox]}")' == busybox-*.tar ]]"
check "debian-tar-name" bash -c "[[ '$(basename "${TAR[debian]}")' == debian-bookworm-*.tar ]]"
check "debian-packages-listed" grep -q '^dpkg	' "${TAR[debian]%.tar}.packages"
# the busybox recipe is reproducible: a build in an empty cache gives the same bytes
expect "busybox-reproducible" 0 "$(sha256sum <"${TAR[busybox]}")" -- \
    bash -c "sha256sum <\"\$(WASMBOX_TEST_CACHE='$T/cache' '$IMAGES' busybox)\""
for img in busybox debian; do
    expect "$img-no-device-nodes" 0 "" -- bash -c "tar tvf '${TAR[$img]}' | grep -E '^[cbp]' || true"
done
# owners: root, but /home/user in busybox; in debian, root with the groups Debian gives
# (shadow, staff, mail)
expect "busybox-owners" 0 "1000/1000 home/user/" -- bash -c \
    "tar --numeric-owner -tvf '${TAR[busybox]}' | awk '\$2 != \"0/0\" { print \$2, \$6 }'"
expect "debian-owned-by-root" 0 "" -- bash -c \
    "tar --numeric-owner -tvf '${TAR[debian]}' | awk '\$2 !~ /^0\\// { print }'"
check "busybox-has-sh" bash -c "tar tvf '${TAR[busybox]}' | grep -q '^l.* bin/sh -> /bin/busybox\$'"
check "busybox-user-1000" bash -c "tar xOf '${TAR[busybox]}' etc/passwd | grep -q '^user:x:1000:1000:'"
check "busybox-supplementary-groups" bash -c "tar xOf '${TAR[busybox]}' etc/group | grep -q '^users:x:100:user\$'"
check "debian-apt-lists-empty" bash -c "! tar tf '${TAR[debian]}' | grep -q '^var/lib/apt/lists/[^p]'"

section "wasmbox import"
declare -A REF=([busybox]=busybox:latest [debian]=debian:bookworm)
declare -A CMD=([busybox]='["sh"]' [debian]='["bash"]')
for img in busybox debian; do
    check "load-$img" "$IMAGES" load "$img" "$WB"
    expect "$img-platform" 0 linux/amd64 -- "$WB" image inspect --format '{{.Os}}/{{.Architecture}}' "${REF[$img]}"
    expect "$img-cmd" 0 "${CMD[$img]}" -- "$WB" image inspect --format '{{json .Config.Cmd}}' "${REF[$img]}"
    expect "$img-layer-is-tarball" 0 "sha256:$(sha256sum <"${TAR[$img]}" | cut -d' ' -f1)" -- \
        "$WB" image inspect --format '{{index .RootFS.Layers 0}}' "${REF[$img]}"
    id=$("$WB" image inspect --format '{{.Id}}' "${REF[$img]}" 2>/dev/null)
    check "reload-$img" "$IMAGES" load "$img" "$WB"
    expect "reload-$img-same-id" 0 "$id" -- "$WB" image inspect --format '{{.Id}}' "${REF[$img]}"
done
expect "images-lists-both" 0 "busybox:latest
debian:bookworm" -- bash -c "'$WB' images --format '{{.Repository}}:{{.Tag}}' | sort"

section "layers on disk (each unpacked once, shared)"
# as root every tar layer is unpacked once, on its own, under images/layers/<diff_id hex>, and
# stacked by overlayfs: a child image shares its base's directory; no flattened rootfs is made
mkdir -p "$T/child"
echo child >"$T/child/note.txt"
printf 'FROM busybox\nCOPY note.txt /note.txt\n' >"$T/child/Dockerfile"
"$WB" build -q -t child:1 "$T/child" >/dev/null 2>&1
layer_hex() { "$WB" image inspect --format "{{index .RootFS.Layers $2}}" "$1" | sed 's/^sha256://'; }
BASE=$(layer_hex busybox:latest 0)
TOP=$(layer_hex child:1 1)
expect "child-shares-base-layer" 0 "$BASE" -- layer_hex child:1 0
expect "run-base" 0 "" -- "$WB" run --rm busybox:latest true
expect "run-child" 0 "child" -- "$WB" run --rm child:1 cat /note.txt
L=$WASMBOX_ROOT/images/layers
check "base-layer-unpacked-once" [ -d "$L/$BASE" ] && [ "$(ls "$L" | grep -c "^$BASE\$")" = 1 ]
check "child-layer-alone" bash -c "[ \"\$(find '$L/$TOP' -mindepth 1 -printf '%P\n' | sort | tr '\n' ' ')\" = 'note.txt ' ]"
check "no-flattened-rootfs" bash -c "[ -z \"\$(ls -A '$WASMBOX_ROOT/images/rootfs' 2>/dev/null)\" ]"
"$WB" rmi child:1 >/dev/null
check "rmi-removes-its-layer" [ ! -e "$L/$TOP" ]
check "rmi-keeps-shared-layer" [ -d "$L/$BASE" ]
expect "base-still-runs" 0 "" -- "$WB" run --rm busybox:latest true

section "podman (reference runtime)"
if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
    fail "podman-installed (run scripts/deps.sh)"
else
    podman_ref_init
    for img in busybox debian; do
        check "podman-load-$img" podman_load_image "${REF[$img]}" "${TAR[$img]}"
        expect "podman-$img-same-layer" 0 "$("$WB" image inspect --format '{{index .RootFS.Layers 0}}' "${REF[$img]}")" -- \
            podman_ref image inspect --format '{{index .RootFS.Layers 0}}' "${REF[$img]}"
        expect "podman-$img-true" 0 "" -- podman_ref run --rm "${REF[$img]}" true
    done
    expect "podman-debian-version" 0 12 -- podman_ref run --rm debian:bookworm sh -c 'cut -d. -f1 /etc/debian_version'
    expect "podman-busybox-user" 0 "uid=1000(user) gid=1000(user) groups=10(wheel),100(users),1000(user)" -- \
        podman_ref run --rm -u user busybox id
fi

echo "linux-images: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
