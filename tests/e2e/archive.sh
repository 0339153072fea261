#!/usr/bin/env bash
# End-to-end tests of `save`, `load`, `import` and `image export-wasm`: the three save formats
# validated against the OCI JSON schemas and read by skopeo; archives written by skopeo (and by
# docker before 25) loaded and run; load → save → load keeps the image ID; hostile archives
# refused with nothing written outside the store; `kill -9` during load and import, then a retry.
# Fixtures are generated here (tests/e2e/archive_tool.py); nothing binary is committed.
# Usage: BUILD=build SHARED=../shared bash tests/e2e/archive.sh   (prints "archive: P passed, F failed")
set -uo pipefail
BUILD=${BUILD:-build}
SHARED=${SHARED:-../shared}
WB=$(cd "$(dirname "$BUILD/wasmbox")" && pwd)/wasmbox
PY=$(python3 -c 'import sys; print(sys.executable)') # the interpreter itself: no shim per call
TOOL="$PY $(cd "$(dirname "$0")" && pwd)/archive_tool.py"
SCHEMAS=$SHARED/specs/oci-image-spec/schema
T=$(mktemp -d)
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
export WASMBOX_ROOT=$T/root
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
section() { echo "-- $1 (at ${SECONDS}s)"; }
image_id() { "$WB" image inspect --format '{{.Id}}' "$1" 2>/dev/null; }

HELLO=$T/hello.wasm
GREETING="Hello from WebAssembly!"
clang --target=wasm32-wasi --sysroot=/usr -O2 -o "$HELLO" examples/hello/hello.c || {
    echo "archive: cannot build examples/hello/hello.c"
    echo "archive: 0 passed, 1 failed"
    exit 1
}
mkdir -p "$T/outside" && printf 'intact' >"$T/outside/victim"

# ---- load an OCI layout archive assembled by hand ----
section load
ID=$($TOOL layout "$T/lay" "$HELLO" --name docker.io/library/hello:latest)
$TOOL tar "$T/lay" "$T/hello-oci.tar"
expect load-oci 0 "Loaded image: hello:latest" "" -- "$WB" load -i "$T/hello-oci.tar"
expect loaded-id 0 "$ID" "" -- image_id hello
expect loaded-platform 0 "wasi/wasm" "" -- "$WB" image inspect --format '{{.Os}}/{{.Architecture}}' hello
expect run-loaded 0 "$GREETING" "" -- "$WB" run --rm hello
expect export-wasm 0 "" "" -- "$WB" image export-wasm hello -o "$T/exported.wasm"
check export-wasm-same cmp "$HELLO" "$T/exported.wasm"
expect run-exported 0 "$GREETING x" "" -- "$WB" run "$T/exported.wasm" x
expect export-wasm-stdout 0 "" "" -- bash -c "'$WB' image export-wasm hello > '$T/exported2.wasm'"
check export-wasm-stdout-same cmp "$HELLO" "$T/exported2.wasm"
expect export-wasm-missing 1 "" "Error: No such image: nothere" -- "$WB" image export-wasm nothere -o "$T/x.wasm"
check export-wasm-missing-no-file test ! -e "$T/x.wasm"
expect load-stdin 0 "Loaded image: hello:latest" "" -- bash -c "'$WB' load < '$T/hello-oci.tar'"
gzip -c "$T/hello-oci.tar" >"$T/hello-oci.tar.gz"
expect load-gzip 0 "Loaded image: hello:latest" "" -- "$WB" load -i "$T/hello-oci.tar.gz"
expect load-quiet 0 "" "" -- "$WB" load -q -i "$T/hello-oci.tar"
expect load-missing-file 1 "" "Error:" -- "$WB" load -i "$T/nothere.tar"
expect load-not-archive 1 "" "Error:" -- "$WB" load -i "$HELLO"

# names: a bare ref.name tag is not a name; a full one is
ID2=$($TOOL layout "$T/lay-ref" "$HELLO" --ref latest)
$TOOL tar "$T/lay-ref" "$T/ref-tag.tar"
expect load-untagged 0 "Loaded image ID: $ID2" "" -- "$WB" load -i "$T/ref-tag.tar"
rm -rf "$T/lay-ref" && $TOOL layout "$T/lay-ref" "$HELLO" --ref example.com/team/app:v2 >/dev/null
$TOOL tar "$T/lay-ref" "$T/ref-full.tar"
expect load-ref-name 0 "Loaded image: example.com/team/app:v2" "" -- "$WB" load -i "$T/ref-full.tar"

# a multi-platform index: the wasi/wasm manifest is picked, attestations and absent platforms
# are passed over
IDM=$($TOOL layout "$T/multi" "$HELLO" --name docker.io/library/multi:latest --nested)
$TOOL tar "$T/multi" "$T/multi.tar"
expect load-multi-platform 0 "Loaded image: multi:latest" "" -- "$WB" load -i "$T/multi.tar"
expect multi-platform-id 0 "$IDM" "" -- image_id multi
expect run-multi-platform 0 "$GREETING" "" -- "$WB" run --rm multi

# ---- save: three formats, OCI schemas, skopeo, round trips ----
section save
for fmt in docker-archive oci-archive oci-dir; do
    out=$T/saved-$fmt
    expect "save-$fmt" 0 "" "" -- "$WB" save --format "$fmt" -o "$out" hello
    check "schema-$fmt" $TOOL validate "$out" "$SCHEMAS"
    case $fmt in
    oci-dir) transport=oci:$out ;;
    *) transport=$fmt:$out ;;
    esac
    expect "skopeo-inspect-$fmt" 0 "wasi/wasm" "" -- \
        skopeo inspect --format '{{.Os}}/{{.Architecture}}' "$transport"
    if [ "$fmt" = oci-dir ]; then
        $TOOL tar "$out" "$out.tar"
        out=$out.tar
    fi
    expect "roundtrip-load-$fmt" 0 "Loaded image: hello:latest" "" -- \
        env WASMBOX_ROOT="$T/rt-$fmt" "$WB" load -i "$out"
    expect "roundtrip-id-$fmt" 0 "$ID" "" -- env WASMBOX_ROOT="$T/rt-$fmt" "$WB" image inspect --format '{{.Id}}' hello
    expect "roundtrip-run-$fmt" 0 "$GREETING" "" -- env WASMBOX_ROOT="$T/rt-$fmt" "$WB" run --rm hello
    # and once more: save from the round-tripped store, load into a third
    expect "roundtrip2-save-$fmt" 0 "" "" -- \
        env WASMBOX_ROOT="$T/rt-$fmt" "$WB" save --format oci-archive -o "$T/rt2-$fmt.tar" hello
    expect "roundtrip2-load-$fmt" 0 "Loaded image: hello:latest" "" -- \
        env WASMBOX_ROOT="$T/rt2-$fmt" "$WB" load -i "$T/rt2-$fmt.tar"
    expect "roundtrip2-id-$fmt" 0 "$ID" "" -- env WASMBOX_ROOT="$T/rt2-$fmt" "$WB" image inspect --format '{{.Id}}' hello
done
check save-default-is-docker-archive bash -c "tar tf '$T/saved-docker-archive' | grep -qx manifest.json"
check save-docker-has-repositories bash -c "tar xOf '$T/saved-docker-archive' repositories | grep -q '\"hello\"'"
check save-oci-ref-name bash -c "tar xOf '$T/saved-oci-archive' index.json | grep -q '\"org.opencontainers.image.ref.name\":\"latest\"'"
expect save-stdout 0 "" "" -- bash -c "'$WB' save hello > '$T/saved-stdout.tar'"
check save-stdout-same cmp "$T/saved-docker-archive" "$T/saved-stdout.tar"
expect save-by-id 0 "" "" -- "$WB" save --format oci-archive -o "$T/by-id.tar" "${ID#sha256:}"
expect load-by-id-untagged 0 "Loaded image ID: $ID" "" -- env WASMBOX_ROOT="$T/by-id" "$WB" load -i "$T/by-id.tar"
expect save-two 0 "" "" -- "$WB" save -o "$T/two.tar" hello example.com/team/app:v2
expect load-two 0 $'Loaded image: hello:latest\nLoaded image: example.com/team/app:v2' "" -- \
    env WASMBOX_ROOT="$T/two" "$WB" load -i "$T/two.tar"
printf 'old contents' >"$T/keep.tar"
expect save-missing 1 "" "Error: No such image: nothere" -- "$WB" save -o "$T/keep.tar" nothere
check save-failure-keeps-file bash -c "[ \"\$(cat '$T/keep.tar')\" = 'old contents' ]"
check save-failure-no-temp bash -c "! ls -a '$T' | grep -q 'keep.tar.tmp'"
expect save-no-args 1 "" '"wasmbox save" requires at least 1 argument' -- "$WB" save
expect save-bad-format 1 "" "unknown format" -- "$WB" save --format zip -o "$T/z" hello
mkdir -p "$T/full-dir" && touch "$T/full-dir/x"
expect save-oci-dir-not-empty 1 "" "not empty" -- "$WB" save --format oci-dir -o "$T/full-dir" hello

# ---- archives written by skopeo and by docker before 25 ----
section skopeo
expect skopeo-copy-oci 0 "" "" -- skopeo copy -q "oci:$T/lay" "oci-archive:$T/sk-oci.tar:skopeo/hello:1"
expect skopeo-copy-docker 0 "" "" -- skopeo copy -q "oci:$T/lay" "docker-archive:$T/sk-docker.tar:skopeo/hello:2"
expect load-skopeo-oci 0 "Loaded image: skopeo/hello:1" "" -- "$WB" load -i "$T/sk-oci.tar"
expect load-skopeo-docker 0 "Loaded image: skopeo/hello:2" "" -- "$WB" load -i "$T/sk-docker.tar"
expect run-skopeo-oci 0 "$GREETING" "" -- "$WB" run --rm skopeo/hello:1
expect run-skopeo-docker 0 "$GREETING" "" -- "$WB" run --rm skopeo/hello:2
expect skopeo-id 0 "$ID" "" -- image_id skopeo/hello:2
$TOOL docker-old "$T/old.tar" "$HELLO" old:1
expect load-docker-old 0 "Loaded image: old:1" "" -- "$WB" load -i "$T/old.tar"
expect run-docker-old 0 "$GREETING" "" -- "$WB" run --rm old:1
expect docker-archive-deterministic 0 "Loaded image: old:1" "" -- env WASMBOX_ROOT="$T/old2" "$WB" load -i "$T/old.tar"
check docker-archive-same-manifest bash -c "[ -z \"\$(comm -23 <(ls '$T/old2/images/blobs/sha256') <(ls '$WASMBOX_ROOT/images/blobs/sha256'))\" ]"

# ---- Wasm artifacts (CNCF layout: the module is the layer) ----
section artifacts
$TOOL layout "$T/art" "$HELLO" --name docker.io/library/art:latest --artifact >/dev/null
$TOOL tar "$T/art" "$T/art.tar"
expect load-artifact 0 "Loaded image: art:latest" "" -- "$WB" load -i "$T/art.tar"
expect export-artifact 0 "" "" -- "$WB" image export-wasm art -o "$T/art.wasm"
check export-artifact-same cmp "$HELLO" "$T/art.wasm"
expect save-artifact-docker 1 "" "use --format oci-archive" -- "$WB" save -o "$T/art-d.tar" art
check save-artifact-docker-no-file test ! -e "$T/art-d.tar"
expect save-artifact-oci 0 "" "" -- "$WB" save --format oci-archive -o "$T/art-o.tar" art
check schema-artifact $TOOL validate "$T/art-o.tar" "$SCHEMAS"

# ---- import ----
section import
mkdir -p "$T/rootfs/etc" && cp "$HELLO" "$T/rootfs/hello.wasm" && printf 'x' >"$T/rootfs/etc/conf"
tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
out=$("$WB" import --change 'ENTRYPOINT ["/hello.wasm"]' --change 'ENV GREETING=hi' -m "from the tests" \
    "$T/rootfs.tar" imp:1 2>"$T/err")
check import-prints-id bash -c "[[ '$out' =~ ^sha256:[0-9a-f]{64}$ ]]"
expect import-id 0 "$out" "" -- image_id imp:1
expect import-run 0 "$GREETING a" "" -- "$WB" run --rm imp:1 a
expect import-platform 0 "wasi/wasm" "" -- "$WB" image inspect --format '{{.Os}}/{{.Architecture}}' imp:1
expect import-env 0 '["GREETING=hi"]' "" -- "$WB" image inspect --format '{{json .Config.Env}}' imp:1
check import-message bash -c "'$WB' save --format oci-dir -o '$T/imp-dir' imp:1 && grep -rq 'from the tests' '$T/imp-dir/blobs'"
check import-diff-id bash -c "grep -rq \"\$(sha256sum '$T/rootfs.tar' | cut -c1-64)\" '$T/imp-dir/blobs'"
expect import-stdin-gzip 0 "" "" -- bash -c "gzip -c '$T/rootfs.tar' | '$WB' import -c 'CMD [\"/hello.wasm\", \"b\"]' - imp:2 >/dev/null"
expect import-stdin-run 0 "$GREETING b" "" -- "$WB" run --rm imp:2
expect import-platform-flag 0 "linux/amd64" "" -- bash -c \
    "'$WB' import --platform linux/amd64 '$T/rootfs.tar' imp:3 >/dev/null && '$WB' image inspect --format '{{.Os}}/{{.Architecture}}' imp:3"
expect import-untagged 0 "" "" -- bash -c "'$WB' import '$T/rootfs.tar' | grep -Eq '^sha256:[0-9a-f]{64}$'"
expect import-bad-change 1 "" "Error: RUN is not a valid change command" -- "$WB" import -c 'RUN x' "$T/rootfs.tar"
expect import-missing 1 "" "Error:" -- "$WB" import "$T/nothere.tar"
expect import-not-tar 1 "" "Error:" -- "$WB" import "$HELLO"
expect import-bad-name 1 "" "invalid reference format" -- "$WB" import "$T/rootfs.tar" 'Bad:Name'
for kind in whiteout dotdot absolute symlink-escape hardlink-outside device; do
    $TOOL hostile "$kind" "$T/imp-$kind.tar" "$HELLO" "$T/outside"
done
expect import-whiteout 1 "" "whiteout" -- "$WB" import "$T/imp-whiteout.tar" bad:1
expect import-dotdot 1 "" "leaves the destination" -- "$WB" import "$T/imp-dotdot.tar" bad:1
expect import-absolute 1 "" "absolute" -- "$WB" import "$T/imp-absolute.tar" bad:1
expect import-symlink-escape 1 "" "symbolic link" -- "$WB" import "$T/imp-symlink-escape.tar" bad:1
expect import-hardlink-outside 1 "" "hard link" -- "$WB" import "$T/imp-hardlink-outside.tar" bad:1
expect import-device 1 "" "device" -- "$WB" import "$T/imp-device.tar" bad:1
( cd "$T/rootfs" && tar -cf "$T/dup.tar" hello.wasm hello.wasm )
expect import-duplicate 1 "" "duplicate" -- "$WB" import "$T/dup.tar" bad:1
expect import-nothing-registered 1 "[]" "No such image" -- "$WB" image inspect bad:1

# ---- hostile archives for load ----
section hostile
snapshot() { sha256sum "$WASMBOX_ROOT/images/index.json" | cut -c1-64; }
before=$(snapshot)
hostile_load() { # KIND EXPECTED_STDERR
    local kind=$1 want=$2
    $TOOL hostile "$kind" "$T/h-$kind.tar" "$HELLO" "$T/outside"
    expect "hostile-$kind" 1 "" "$want" -- "$WB" load -i "$T/h-$kind.tar"
    check "hostile-$kind-outside-intact" bash -c "[ \"\$(ls -A '$T/outside')\" = victim ] && [ \"\$(cat '$T/outside/victim')\" = intact ] && [ \"\$(stat -c %h '$T/outside/victim')\" = 1 ]"
    check "hostile-$kind-store-unchanged" bash -c "[ \"\$(sha256sum '$WASMBOX_ROOT/images/index.json' | cut -c1-64)\" = '$before' ]"
    check "hostile-$kind-no-scratch-left" bash -c "[ -z \"\$(ls -A '$WASMBOX_ROOT/tmp')\" ]"
}
hostile_load dotdot "leaves the destination"
hostile_load absolute "absolute path"
hostile_load symlink-escape "symbolic link"
hostile_load symlink-escape-relative "symbolic link"
hostile_load hardlink-outside "outside the archive"
hostile_load hardlink-dotdot "outside the archive"
hostile_load whiteout "whiteout entries are not allowed"
hostile_load opaque "whiteout entries are not allowed"
hostile_load device "device nodes are not allowed"
hostile_load duplicate "duplicate entry"
hostile_load bomb "limit"
hostile_load bad-digest "digest mismatch"
hostile_load bad-size "but its descriptor says"
hostile_load missing-blob "missing from the archive"
hostile_load bad-diffid "does not match the config's diff_id"
hostile_load bad-config-name "does not match its digest"
check hostile-no-victim-image bash -c "! '$WB' image inspect victim >/dev/null 2>&1"
check hostile-cwd-clean bash -c "[ ! -e evil ] && [ ! -e '$T/evil' ]"

# a real gzip bomb:
section bomb 4 entries of 32 MiB of zeros in ~130 kB, against a 64 MiB cap
"$PY" - "$T/gzbomb.tar.gz" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz") as t:
    for i in range(4):
        info = tarfile.TarInfo("blobs/sha256/%064d" % i)
        info.size = 32 << 20
        t.addfile(info, io.BytesIO(bytes(32 << 20)))
EOF
check gzip-bomb-small test "$(stat -c %s "$T/gzbomb.tar.gz")" -lt 1000000
expect gzip-bomb-load 1 "" "limit" -- env WASMBOX_ARCHIVE_MAX_BYTES=67108864 "$WB" load -i "$T/gzbomb.tar.gz"
expect gzip-bomb-import 1 "" "limit" -- env WASMBOX_ARCHIVE_MAX_BYTES=67108864 "$WB" import "$T/gzbomb.tar.gz" bomb:1
check gzip-bomb-no-scratch-left bash -c "[ -z \"\$(ls -A '$WASMBOX_ROOT/tmp')\" ]"
check store-consistent $TOOL check-store "$WASMBOX_ROOT"

# ---- kill -9 during load and import, then a retry ----
section kill
$TOOL layout "$T/big" "$HELLO" --name docker.io/library/big:latest --pad $((32 << 20)) >/dev/null
$TOOL tar "$T/big" "$T/big.tar"
mkdir -p "$T/bigfs" && cp "$HELLO" "$T/bigfs/hello.wasm" && head -c $((12 << 20)) /dev/urandom >"$T/bigfs/pad"
tar -C "$T/bigfs" -cf "$T/bigfs.tar" .
now_ms() { date +%s%3N; }
t0=$(now_ms)
WASMBOX_ROOT=$T/k-time "$WB" load -q -i "$T/big.tar"
load_ms=$(($(now_ms) - t0 + 1))
t0=$(now_ms)
WASMBOX_ROOT=$T/k-time "$WB" import "$T/bigfs.tar" >/dev/null
import_ms=$(($(now_ms) - t0 + 1))
kill_test() { # WHAT ITERATION DURATION_MS CMD...
    local what=$1 i=$2 ms=$3
    shift 3
    local root=$T/k-$what-$i
    export WASMBOX_ROOT=$root
    "$@" >/dev/null 2>&1 &
    local pid=$!
    local delay=$((ms * i / 6)) # from the start to the end of a whole run
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    [ $? -eq 137 ] && interrupted=$((interrupted + 1))
    mkdir -p "$root/images"
    check "kill-$what-$i-consistent" $TOOL check-store "$root"
    check "kill-$what-$i-retry" "$@"
    check "kill-$what-$i-consistent-after-retry" $TOOL check-store "$root"
    check "kill-$what-$i-scratch-cleaned" bash -c "[ -z \"\$(ls -A '$root/tmp' 2>/dev/null)\" ]"
    export WASMBOX_ROOT=$T/root
}
interrupted=0
for i in 0 1 2 3 4 5; do
    kill_test load "$i" "$load_ms" "$WB" load -q -i "$T/big.tar"
    check "kill-load-$i-registered" bash -c "WASMBOX_ROOT='$T/k-load-$i' '$WB' image inspect big >/dev/null"
    kill_test import "$i" "$import_ms" "$WB" import -c 'ENTRYPOINT ["/hello.wasm"]' "$T/bigfs.tar" big:imp
    check "kill-import-$i-registered" bash -c "WASMBOX_ROOT='$T/k-import-$i' '$WB' run --rm big:imp | grep -q Hello"
done
echo "(kill -9: $interrupted of 12 runs killed before they finished; a whole load takes ${load_ms} ms, an import ${import_ms} ms)"

echo "archive: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
