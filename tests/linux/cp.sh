#!/usr/bin/env bash
# `cp` and `export` (issue #13): files and directories copied out of and into running and stopped
# Linux containers and a Wasm container by Docker's rules (file/dir, `dir/.`, `-` as a tar, -a
# owners), every container path resolved inside the container's root: a symlink a container
# plants (`/tmp/x -> /etc`) leads to its own /etc, never the host's. export: the image's files and
# the container's changes as a tar.
# Needs root (overlay mounts); skips with a message otherwise.
# Usage: BUILD=build bash tests/linux/cp.sh   (prints "linux-cp: P passed, F failed")
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
WB=$(cd "$(dirname "$BUILD/wasmbox")" && pwd)/wasmbox
T=$(mktemp -d)
export WASMBOX_ROOT=$T/root
passed=0
failed=0
if [ "$(id -u)" != 0 ]; then
    echo "linux-cp: skipped: needs root"
    echo "linux-cp: 0 passed, 0 failed, 1 skipped"
    exit 0
fi
cleanup() {
    "$WB" ps -aq 2>/dev/null | xargs -r "$WB" rm -f >/dev/null 2>&1
    rm -rf "$T"
}
trap cleanup EXIT

# shellcheck source=tests/linux/harness.sh
. "$TOP/tests/linux/harness.sh"

"$TOP/scripts/test-images.sh" load busybox "$WB" >/dev/null || {
    fail "load the busybox test image"
    echo "linux-cp: $passed passed, $failed failed"
    exit 1
}
cd "$T" || exit 1
H=$T/host
mkdir -p "$H/dir/sub" "$T/out"
echo host-file >"$H/file.txt"
echo deep >"$H/dir/sub/deep"
chown 1234:5678 "$H/dir/sub/deep"
# the host's own files the container's symlinks must never reach
shadow_sum=$(md5sum /etc/passwd)

# ---- out of a running Linux container ----
"$WB" run -d --name run1 busybox sleep 300 >/dev/null
"$WB" exec run1 sh -c 'echo in-container >/tmp/f; mkdir -p /tmp/d/s; echo y >/tmp/d/s/y;
    chown 42:43 /tmp/d/s/y; ln -s /etc /tmp/x; echo guest-passwd >/etc/guestfile'
expect out-file 0 "in-container" "" -- sh -c "'$WB' cp run1:/tmp/f '$T/out/f' && cat '$T/out/f'"
expect out-file-relative 0 "in-container" "" -- sh -c "'$WB' cp run1:tmp/f '$T/out/f2' && cat '$T/out/f2'"
expect out-file-into-dir 0 "in-container" "" -- sh -c "'$WB' cp run1:/tmp/f '$T/out/' && cat '$T/out/f'"
expect out-dir-new 0 "$(printf 'd\nd/s\nd/s/y')" "" -- sh -c "'$WB' cp run1:/tmp/d '$T/out/d' && cd '$T/out' && find d | sort"
expect out-dir-into-existing 0 "$(printf 'e/d\ne/d/s\ne/d/s/y')" "" -- sh -c "mkdir '$T/out/e' && '$WB' cp run1:/tmp/d '$T/out/e' && cd '$T/out' && find e/d | sort"
expect out-dir-contents 0 "$(printf 'c\nc/s\nc/s/y')" "" -- sh -c "mkdir '$T/out/c' && '$WB' cp run1:/tmp/d/. '$T/out/c' && cd '$T/out' && find c | sort"
expect out-owner-default 0 "0:0" "" -- stat -c %u:%g "$T/out/d/s/y"
expect out-archive-owner 0 "42:43" "" -- sh -c "'$WB' cp -a run1:/tmp/d '$T/out/da' && stat -c %u:%g '$T/out/da/s/y'"
expect out-tar-stdout 0 "$(printf 'd/\nd/s/\nd/s/y')" "" -- sh -c "'$WB' cp run1:/tmp/d - | tar -t | sort"
expect out-tar-keeps-owner 0 "42/43" "" -- sh -c "'$WB' cp run1:/tmp/d - | tar -tv | awk '/s\\/y/{print \$2}'"
expect out-missing 1 "" "Error: No such container:path: run1:/nope" -- "$WB" cp run1:/nope "$T/out/n"
expect out-no-container 1 "" "No such container: nosuch" -- "$WB" cp nosuch:/etc "$T/out/n"
expect out-dir-to-file 1 "" "cannot copy directory" -- "$WB" cp run1:/tmp/d "$T/out/f"
expect out-file-to-missing-dir 1 "" "no such directory" -- "$WB" cp run1:/tmp/f "$T/out/missing/"
# the symlink /tmp/x -> /etc is followed inside the container
expect out-through-symlink 0 "guest-passwd" "" -- sh -c "'$WB' cp run1:/tmp/x/guestfile '$T/out/g' && cat '$T/out/g'"
expect out-symlink-itself 0 "/etc" "" -- sh -c "'$WB' cp run1:/tmp/x '$T/out/xl' && readlink '$T/out/xl'"
expect out-follow-link 0 "guest-passwd" "" -- sh -c "'$WB' cp -L run1:/tmp/x '$T/out/xf' && cat '$T/out/xf/guestfile'"
expect out-passwd-is-containers 0 "root:x:0:0:root:/root:/bin/sh" "" -- sh -c "'$WB' cp run1:/tmp/x/passwd '$T/out/pw' && head -1 '$T/out/pw'"
expect both-local 1 "" "must specify at least one container source" -- "$WB" cp a b
expect both-containers 1 "" "copying between containers is not supported" -- "$WB" cp run1:/a run1:/b

# ---- into a running Linux container ----
expect in-file 0 "host-file" "" -- sh -c "'$WB' cp '$H/file.txt' run1:/tmp/ && '$WB' exec run1 cat /tmp/file.txt"
expect in-file-rename 0 "host-file" "" -- sh -c "'$WB' cp '$H/file.txt' run1:/tmp/renamed && '$WB' exec run1 cat /tmp/renamed"
expect in-dir 0 "deep 0:0" "" -- sh -c "'$WB' cp '$H/dir' run1:/tmp/ && '$WB' exec run1 sh -c 'echo \$(cat /tmp/dir/sub/deep) \$(stat -c %u:%g /tmp/dir/sub/deep)'"
expect in-dir-archive 0 "1234:5678" "" -- sh -c "'$WB' cp -a '$H/dir' run1:/tmp/dira && '$WB' exec run1 stat -c %u:%g /tmp/dira/sub/deep"
expect in-dir-contents 0 "deep" "" -- sh -c "'$WB' exec run1 mkdir /tmp/dc && '$WB' cp '$H/dir/.' run1:/tmp/dc && '$WB' exec run1 cat /tmp/dc/sub/deep"
expect in-tar-stdin 0 "deep" "" -- sh -c "'$WB' exec run1 mkdir /tmp/tarin && tar -C '$H' -cf - dir | '$WB' cp - run1:/tmp/tarin && '$WB' exec run1 cat /tmp/tarin/dir/sub/deep"
expect in-tar-missing 1 "" "Could not find the file /srv in container run1" -- sh -c "tar -C '$H' -cf - dir | '$WB' cp - run1:/srv"
expect in-tar-not-dir 1 "" 'destination "run1:/tmp/f" must be a directory' -- sh -c "tar -C '$H' -cf - dir | '$WB' cp - run1:/tmp/f"
expect in-missing-parent 1 "" "Could not find the file /nope in container run1" -- "$WB" cp "$H/file.txt" run1:/nope/x
expect in-file-over-dir 1 "" "cannot overwrite" -- sh -c "'$WB' exec run1 mkdir -p /tmp/isdir/file.txt && '$WB' cp '$H/file.txt' run1:/tmp/isdir/"
# a symlink planted by the container: written into the container's /etc, never the host's
expect in-through-symlink 0 "host-file" "" -- sh -c "'$WB' cp '$H/file.txt' run1:/tmp/x/ && '$WB' exec run1 cat /etc/file.txt"
check in-not-on-host test ! -e /etc/file.txt
"$WB" exec run1 sh -c 'ln -s /etc/passwd /tmp/pwlink; ln -s ../../../../../etc /tmp/up'
expect in-dotdot-symlink 0 "host-file" "" -- sh -c "'$WB' cp '$H/file.txt' run1:/tmp/up/dotdot.txt && '$WB' exec run1 cat /etc/dotdot.txt"
check in-dotdot-not-on-host test ! -e /etc/dotdot.txt
"$WB" cp "$H/file.txt" run1:/tmp/pwlink >/dev/null 2>&1
check host-passwd-untouched test "$(md5sum /etc/passwd)" = "$shadow_sum"
# a tar that would write through the container's symlink is refused
mkdir -p "$T/evil/x" && echo evil >"$T/evil/x/evil.txt"
expect in-tar-over-symlink 1 "" "cannot overwrite a non-directory with a directory" -- sh -c "tar -C '$T/evil' -cf - x | '$WB' cp - run1:/tmp"
expect in-tar-through-symlink 1 "" "is a symbolic link (refusing to follow it)" -- sh -c "tar -C '$T/evil' -cf - x/evil.txt | '$WB' cp - run1:/tmp"
check in-tar-through-symlink-nothing test ! -e /etc/evil.txt

# ---- a stopped Linux container ----
"$WB" stop -t 0 run1 >/dev/null
expect stopped-out-file 0 "in-container" "" -- sh -c "'$WB' cp run1:/tmp/f '$T/out/sf' && cat '$T/out/sf'"
expect stopped-out-tar 0 "$(printf 'd/\nd/s/\nd/s/y')" "" -- sh -c "'$WB' cp run1:/tmp/d - | tar -t | sort"
expect stopped-out-symlink 0 "guest-passwd" "" -- sh -c "'$WB' cp run1:/tmp/x/guestfile '$T/out/sg' && cat '$T/out/sg'"
expect stopped-in-file 0 "" "" -- "$WB" cp "$H/file.txt" run1:/root/stopped.txt
expect stopped-in-symlink 0 "" "" -- "$WB" cp "$H/file.txt" run1:/tmp/x/stopped.txt
check stopped-in-not-on-host test ! -e /etc/stopped.txt
expect stopped-in-diff 0 "$(printf 'A /etc/stopped.txt\nA /root/stopped.txt')" "" -- sh -c "'$WB' diff run1 | grep stopped"
"$WB" start run1 >/dev/null
expect stopped-in-seen-after-start 0 "host-file" "" -- "$WB" exec run1 cat /root/stopped.txt

# ---- export ----
"$WB" create --name fresh busybox true >/dev/null
"$WB" export fresh >"$T/fresh.tar"
check export-image-files sh -c "tar -tf '$T/fresh.tar' | grep -qx 'bin/busybox'"
"$WB" stop -t 0 run1 >/dev/null
"$WB" export run1 >"$T/run1.tar"
check export-has-changes sh -c "tar -tf '$T/run1.tar' | grep -qx 'tmp/d/s/y' && tar -tf '$T/run1.tar' | grep -qx 'root/stopped.txt'"
check export-has-image-files sh -c "tar -tf '$T/run1.tar' | grep -qx 'bin/busybox'"
expect export-content 0 "in-container" "" -- tar -xOf "$T/run1.tar" tmp/f
expect export-output-file 0 "" "" -- "$WB" export -o "$T/o.tar" run1
check export-output-same cmp <(tar -tf "$T/o.tar" | sort) <(tar -tf "$T/run1.tar" | sort)
check export-no-temp-left sh -c "! ls '$T' | grep -q 'o.tar.tmp'"
check export-terminal sh -c "script -qec '$WB export run1' /dev/null | grep -q 'Error: cowardly refusing to save to a terminal. Use the -o flag or redirect'"
expect export-no-container 1 "" "No such container: nosuch" -- "$WB" export nosuch
# a running container's export: its files, not its mounts' contents
"$WB" start run1 >/dev/null
check export-running sh -c "'$WB' export run1 | tar -t | grep -qx 'tmp/f' && ! '$WB' export run1 | tar -t | grep -q '^proc/.'"

# ---- a Wasm container (FROM scratch + COPY hello.wasm) ----
if command -v clang >/dev/null; then
    mkdir -p "$T/ctx"
    clang --target=wasm32-wasi --sysroot=/usr -O2 -o "$T/ctx/hello.wasm" "$TOP/tests/e2e/fixtures/hello.c"
    printf 'FROM scratch\nCOPY hello.wasm /bin/hello.wasm\nENTRYPOINT ["/bin/hello.wasm"]\n' >"$T/ctx/Dockerfile"
    "$WB" build -q --platform wasi/wasm -t cpwasm "$T/ctx" >/dev/null
    "$WB" create --name w1 cpwasm >/dev/null
    check wasm-out-module sh -c "'$WB' cp w1:/bin/hello.wasm '$T/out/m.wasm' && cmp '$T/out/m.wasm' '$T/ctx/hello.wasm'"
    expect wasm-in-stopped 0 "" "" -- "$WB" cp "$H/file.txt" w1:/data.txt
    check wasm-export sh -c "'$WB' export w1 | tar -t | sort | tr '\n' ' ' | grep -q 'bin/hello.wasm data.txt'"
    "$WB" run -d --name w2 cpwasm --spin >/dev/null
    expect wasm-in-running 0 "host-file" "" -- sh -c "'$WB' cp '$H/file.txt' w2:/tmp.txt && '$WB' cp w2:/tmp.txt -| tar -xO"
    # right after `run -d` returns, the container's root is mounted: a cp lands in it (CI once
    # saw it written under the overlay's mount point before the workload had mounted it)
    right_after_run() {
        for i in 1 2 3 4 5 6 7 8 9 10; do
            "$WB" run -d --name "wr$i" cpwasm --spin >/dev/null || return 1
            "$WB" cp "$H/file.txt" "wr$i:/early.txt" || return 1
            "$WB" cp "wr$i:/early.txt" - | tar -xO | grep -qx host-file || return 1
            "$WB" rm -f "wr$i" >/dev/null
        done
    }
    check wasm-in-right-after-run right_after_run
    check wasm-out-running sh -c "'$WB' cp w2:/bin/hello.wasm - | tar -t | grep -qx hello.wasm"
else
    echo "linux-cp: Wasm checks skipped: no clang"
fi

# Docker refuses to write where the container could not: a read-only root, a read-only volume
mkdir -p "$T/rovol"
echo hi >"$T/hi.txt"
"$WB" create --name roc --read-only -v "$T/rovol:/data:ro" busybox sleep 100 >/dev/null
expect cp-readonly-root 1 "" "container rootfs is marked read-only" -- "$WB" cp "$T/hi.txt" roc:/hi.txt
expect cp-readonly-volume 1 "" "mounted volume is marked read-only" -- "$WB" cp "$T/hi.txt" roc:/data/hi.txt
check cp-readonly-volume-untouched test -z "$(ls -A "$T/rovol")"
"$WB" rm -f roc >/dev/null

echo "linux-cp: $passed passed, $failed failed"
[ "$failed" = 0 ]
