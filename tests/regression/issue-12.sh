#!/usr/bin/env bash
# Regression tests of issue #12 (defects found trying the seed's workflow as a new user), the
# items fixed in the runtime and WASI layers:
#   1. read-only volumes and --read-only: every WASI write path fails with EROFS, in both memory
#      modes, through a module file's --dir HOST::GUEST:ro and a container's -v HOST:GUEST:ro; the
#      host tree is unchanged afterwards
#   2. WORKDIR and -w: "/" is the image's root, the working directory only the cwd ($PWD)
#   3. a foreground run killed with kill -9 is found and recorded as exited with a real time
#   8. the image's ExposedPorts in the container's Config; "Using default tag" before "Unable to
#      find image"
# (items 4-7 have their own suites: tests/e2e/format.sh, help.sh, layers.sh)
# Usage: BUILD=build bash tests/regression/issue-12.sh   (prints "issue-12: P passed, F failed")
set -uo pipefail
BUILD=${BUILD:-build}
WB=$(cd "$(dirname "$BUILD/wasmbox")" && pwd)/wasmbox
SRC=$(cd "$(dirname "$0")" && pwd)/issue-12
T=$(mktemp -d)
export WASMBOX_ROOT=$T/root
cleanup() {
    "$WB" ps -aq 2>/dev/null | xargs -r "$WB" rm -f >/dev/null 2>&1
    rm -rf "$T"
}
trap cleanup EXIT
passed=0
failed=0

expect() { # NAME WANT_EXIT WANT_STDOUT WANT_STDERR_SUBSTRING -- CMD...
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
check() { # NAME CMD... (passes when CMD succeeds)
    local name=$1
    shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $name"; fi
}
wait_for() { # SECONDS CMD...: poll until CMD succeeds
    local deadline=$((SECONDS + $1))
    shift
    while ! "$@" 2>/dev/null; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.05
    done
}
# the guest's report: every line "ok NAME" and a last line "done 0"; failures are shown
guest_report() { # NAME FILE
    local name=$1 file=$2 n
    n=$(grep -c '^ok ' "$file")
    if grep -v '^ok ' "$file" | grep -qvx 'done 0' || ! grep -qx 'done 0' "$file" || [ "$n" -lt 40 ]; then
        failed=$((failed + 1))
        echo "FAIL $name ($n checks passed):"
        grep -v '^ok ' "$file" | sed 's/^/  /'
    else
        passed=$((passed + 1))
    fi
}
# a fingerprint of a tree: paths, types, modes, sizes, mtimes and contents
fingerprint() { (cd "$1" && find . -printf '%p %y %m %s %T@\n' | sort && find . -type f -exec md5sum {} + | sort); }

for g in readonly probe; do
    if ! clang --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Werror -o "$T/$g.wasm" "$SRC/$g.c"; then
        echo "FAIL build $g.wasm"
        echo "issue-12: $passed passed, 1 failed"
        exit 1
    fi
done

# ---- 1. read-only ----
make_tree() { # DIR: the read-only tree the guest expects, and a writable one beside it
    rm -rf "$1"
    mkdir -p "$1/ro/dir" "$1/ro/empty" "$1/rw"
    printf 'keep\n' >"$1/ro/k.txt"
    printf 'f\n' >"$1/ro/dir/f.txt"
    printf 'w\n' >"$1/rw/w.txt"
    touch -d '2020-01-01' "$1/ro/k.txt" "$1/ro/dir/f.txt" "$1/ro/dir" "$1/ro/empty" "$1/ro"
}
for mode in guarded bounds-checked; do
    flag=()
    [ $mode = bounds-checked ] && flag=(--bounds-checks)
    make_tree "$T/ft"
    before=$(fingerprint "$T/ft/ro")
    "$WB" run "${flag[@]}" --dir "$T/ft/ro::/ro:ro" --dir "$T/ft/rw::/rw" "$T/readonly.wasm" /ro /rw >"$T/report" 2>&1
    guest_report "ro-dir-$mode" "$T/report"
    check "ro-dir-$mode-host-unchanged" test "$before" = "$(fingerprint "$T/ft/ro")"
    check "ro-dir-$mode-rw-untouched" test "$(ls "$T/ft/rw")" = w.txt
done
# the mode suffix parses as -v's does; a guest named "ro" is not a mode
make_tree "$T/ft"
expect dir-guest-named-ro 0 "dir empty k.txt" "" -- "$WB" run --dir "$T/ft/ro::ro" "$T/probe.wasm" ls /ro
expect dir-rw-suffix 0 "" "" -- "$WB" run --dir "$T/ft/rw::/rw:rw" "$T/probe.wasm" write /rw/n.txt x
check dir-rw-suffix-wrote test "$(cat "$T/ft/rw/n.txt")" = x

# a container's -v HOST:GUEST:ro (an image with a root filesystem: the guest at /bin)
mkdir -p "$T/ctx/bin" "$T/ctx/app/data"
cp "$T/readonly.wasm" "$T/probe.wasm" "$T/ctx/bin/"
printf 'in app\n' >"$T/ctx/app/data/a.txt"
printf 'FROM scratch\nCOPY bin /bin\nCOPY app /app\nWORKDIR /app\nEXPOSE 8080 9090/udp\nENTRYPOINT ["/bin/probe.wasm"]\n' >"$T/ctx/Dockerfile"
"$WB" build -q --platform wasi/wasm -t probeimg "$T/ctx" >/dev/null || echo "# build of probeimg failed"
make_tree "$T/ct"
before=$(fingerprint "$T/ct/ro")
"$WB" run --rm -v "$T/ct/ro:/ro:ro" -v "$T/ct/rw:/rw" --entrypoint /bin/readonly.wasm probeimg /ro /rw >"$T/report" 2>&1
guest_report ro-volume "$T/report"
check ro-volume-host-unchanged test "$before" = "$(fingerprint "$T/ct/ro")"
check ro-volume-rw-untouched test "$(ls "$T/ct/rw")" = w.txt
"$WB" create --name rocheck -v "$T/ct/ro:/ro:ro" --read-only probeimg >/dev/null
expect ro-volume-inspect 0 '[{"Destination":"/ro","Mode":"ro","RW":false}]' "" -- bash -c "'$WB' inspect --format '{{json .Mounts}}' rocheck | python3 -c 'import json,sys; print(json.dumps([{k: m[k] for k in (\"Destination\", \"Mode\", \"RW\")} for m in json.load(sys.stdin)], separators=(\",\", \":\")))'"
expect read-only-inspect 0 "true" "" -- "$WB" inspect --format '{{.HostConfig.ReadonlyRootfs}}' rocheck
"$WB" rm rocheck >/dev/null
# --read-only: the root is read-only, volumes keep their own mode
mkdir -p "$T/ctx2/bin" "$T/ctx2/dir" "$T/ctx2/empty"
cp "$T/readonly.wasm" "$T/ctx2/bin/"
printf 'keep\n' >"$T/ctx2/k.txt"
printf 'f\n' >"$T/ctx2/dir/f.txt"
printf 'FROM scratch\nCOPY . /\nENTRYPOINT ["/bin/readonly.wasm"]\n' >"$T/ctx2/Dockerfile"
"$WB" build -q --platform wasi/wasm -t roroot "$T/ctx2" >/dev/null || echo "# build of roroot failed"
make_tree "$T/ct2"
"$WB" run --name rorun --read-only -v "$T/ct2/rw:/rw" roroot / /rw >"$T/report" 2>&1
guest_report read-only-root "$T/report"
cid=$("$WB" inspect --format '{{.Id}}' rorun)
check read-only-root-upper-empty test -z "$(ls -A "$WASMBOX_ROOT/containers/$cid/upper" 2>/dev/null)"
"$WB" rm rorun >/dev/null
# the same image without --read-only can write its root (the flag is what makes it read-only)
expect writable-root 0 "" "" -- "$WB" run --rm --entrypoint /bin/probe.wasm probeimg write /new.txt x

# ---- 2. WORKDIR and -w ----
expect workdir-root-is-image-root 0 "app bin" "" -- "$WB" run --rm probeimg ls /
expect workdir-bin-visible 0 "probe.wasm readonly.wasm" "" -- "$WB" run --rm probeimg ls /bin
expect workdir-pwd 0 "PWD=/app" "" -- "$WB" run --rm probeimg env PWD
expect workdir-relative 0 "in app" "" -- "$WB" run --rm probeimg cd-pwd cat data/a.txt
expect workdir-getcwd 0 "/app" "" -- "$WB" run --rm probeimg cd-pwd cwd
"$WB" run --name wd probeimg write /newfile x >/dev/null
cid=$("$WB" inspect --format '{{.Id}}' wd)
check workdir-write-lands-at-root test -f "$WASMBOX_ROOT/containers/$cid/upper/newfile"
check workdir-write-not-in-app test ! -e "$WASMBOX_ROOT/containers/$cid/upper/app/newfile"
"$WB" rm wd >/dev/null
expect w-flag-root 0 "app bin" "" -- "$WB" run --rm -w /bin probeimg ls /
expect w-flag-pwd 0 "PWD=/bin" "" -- "$WB" run --rm -w /bin probeimg env PWD
expect w-flag-relative 0 "probe.wasm readonly.wasm" "" -- "$WB" run --rm -w /bin probeimg cd-pwd ls .
expect w-flag-created 0 "" "" -- "$WB" run --rm -w /made/here probeimg cd-pwd ls .
expect w-flag-relative-refused 125 "" "the working directory 'bin' is invalid, it needs to be an absolute path" -- \
    "$WB" run --rm -w bin probeimg ls /
expect w-user-pwd-kept 0 "PWD=/x" "" -- "$WB" run --rm -w /bin -e PWD=/x probeimg env PWD
expect no-workdir-no-pwd 0 "PWD unset" "" -- "$WB" run --rm -w / probeimg env PWD

# ---- 3. a foreground run killed with kill -9 ----
"$WB" run --name fg probeimg spin >/dev/null 2>&1 &
fgpid=$!
fg_running() { [ "$("$WB" inspect --format '{{.State.Status}}' fg 2>/dev/null)" = running ]; }
check fg-running wait_for 5 fg_running
t0=$(date +%s)
kill -9 "$fgpid"
wait "$fgpid" 2>/dev/null
check fg-ps-exited bash -c "'$WB' ps -a --filter name=fg | grep -Eq 'Exited \(137\) (Less than a second|[0-9] seconds?) ago +fg$' || { '$WB' ps -a --filter name=fg; false; }"
expect fg-inspect-status 0 "exited false 137" "" -- "$WB" inspect --format '{{.State.Status}} {{.State.Running}} {{.State.ExitCode}}' fg
expect fg-error 0 "the container's process vanished without recording its exit (killed or crashed)" "" -- \
    "$WB" inspect --format '{{.State.Error}}' fg
fin=$("$WB" inspect --format '{{.State.FinishedAt}}' fg)
check fg-finished-real-time bash -c "t=\$(date -d '$fin' +%s) && [ \$t -ge $t0 ] && [ \$t -le \$(date +%s) ]"
# recorded on disk by whoever found it: the time stays as it was found
sleep 1.1
expect fg-finished-stable 0 "$fin" "" -- "$WB" inspect --format '{{.State.FinishedAt}}' fg
check fg-record-on-disk grep -q '"FinishedAt": *"'"$fin"'"' "$WASMBOX_ROOT/containers/$("$WB" inspect --format '{{.Id}}' fg)/container.json"
expect fg-rm 0 "fg" "" -- "$WB" rm fg

# ---- 8. smaller ones ----
"$WB" create --name ports probeimg >/dev/null
expect exposed-ports 0 '{"8080/tcp":{},"9090/udp":{}}' "" -- "$WB" inspect --format '{{json .Config.ExposedPorts}}' ports
"$WB" rm ports >/dev/null
# "Using default tag: latest" comes before "Unable to find image" (nothing listens on port 1)
"$WB" run --rm 127.0.0.1:1/nothere >/dev/null 2>"$T/pull.err"
check default-tag-first bash -c "grep -n . '$T/pull.err' | head -n 2 | tr '\n' ' ' | grep -Eq '^1:Using default tag: latest 2:Unable to find image .127\.0\.0\.1:1/nothere:latest. locally'"

# the README's first commands, as written there: build in build/examples/hello, then run
expect readme-build 0 "" "" -- bash -c "cd '$BUILD/examples/hello' && '$WB' build -q --platform wasi/wasm -t hello-world . >/dev/null"
expect readme-run 0 "Hello from WebAssembly!" "" -- bash -c "'$WB' run --rm --runtime=io.containerd.wasmedge.v1 --platform=wasi/wasm hello-world | head -n 1"
# (the same configuration as the build under test: SAN=1 for build-san, else its objects relink)
SAN_FLAG=0
[ "$(basename "$BUILD")" = build-san ] && SAN_FLAG=1
expect make-install 0 "ok" "" -- bash -c "make -s install SAN=$SAN_FLAG BUILD='$BUILD' PREFIX='$T/prefix' >/dev/null && '$T/prefix/bin/wasmbox' version >/dev/null && test -x '$T/prefix/bin/wasmbox-full' && echo ok"

echo "issue-12: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
