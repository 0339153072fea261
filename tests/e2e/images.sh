#!/usr/bin/env bash
# End-to-end tests of images and `run IMAGE`: image ls/inspect/tag/rm/prune, run with Docker's
# flags, runtimes, platforms, exit codes, container records.
# Usage: BUILD=build bash tests/e2e/images.sh   (prints "e2e-images: P passed, F failed")
set -uo pipefail
BUILD=${BUILD:-build}
WB=$(cd "$(dirname "$BUILD/wasmbox")" && pwd)/wasmbox
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
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
check() { # NAME CONDITION...
    local name=$1
    shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $name"; fi
}

clang --target=wasm32-wasi --sysroot=/usr -O2 -o "$T/hello.wasm" tests/e2e/fixtures/hello.c
python3 tests/e2e/fixtures/mkartifact.py "$WASMBOX_ROOT" "$T/hello.wasm" docker.io/library/hello-art:latest >/dev/null

expect empty-before 0 "" "" -- "$WB" images -q --filter dangling=true
expect ls-quiet 0 "$("$WB" images -q)" "" -- "$WB" image ls -q
check ls-table bash -c "'$WB' images | head -1 | grep -Eq '^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$'"
check ls-row bash -c "'$WB' images | grep -Eq '^hello-art +latest +[0-9a-f]{12} +'"
expect run-artifact 0 $'hello from wasm\narg 1: x' "" -- "$WB" run --rm hello-art x
expect run-exit-code 3 "hello from wasm" "" -- "$WB" run --rm hello-art --exit 3
expect run-env 0 $'hello from wasm\nA=1' "" -- "$WB" run --rm hello-art --env A
expect run-env-override 0 $'hello from wasm\nA=2' "" -- "$WB" run --rm -e A=2 hello-art --env A
printf '# comment\nB=from file\n' >"$T/envfile"
expect run-env-file 0 $'hello from wasm\nB=from file' "" -- "$WB" run --rm --env-file "$T/envfile" hello-art --env B
mkdir -p "$T/vol" && printf 'volume data' >"$T/vol/f"
expect run-volume 0 $'hello from wasm\nvolume data' "" -- "$WB" run --rm -v "$T/vol:/data:ro" hello-art --read /data/f
for rt in io.containerd.wasmedge.v1 io.containerd.wasmtime.v1 io.containerd.wasmer.v1 wasmedge wasmtime wasmer; do
    expect "runtime-$rt" 0 "hello from wasm" "" -- "$WB" run --rm --runtime="$rt" --platform=wasi/wasm hello-art
done
expect runtime-unknown 125 "" "Unknown runtime specified io.containerd.foo.v1" -- "$WB" run --rm --runtime=io.containerd.foo.v1 hello-art
expect runtime-lunatic-command 0 "hello from wasm" "" -- "$WB" run --rm --runtime=io.containerd.lunatic.v1 hello-art
expect runtime-slight-no-slightfile 125 "" "slight: no /slightfile.toml in the container" -- "$WB" run --rm --runtime=io.containerd.slight.v1 hello-art
expect runtime-spin-no-manifest 125 "" "spin: no /spin.toml in the container" -- "$WB" run --rm --runtime=io.containerd.spin.v2 hello-art
expect platform-mismatch 125 "" "image with reference hello-art was found but does not match the specified platform: wanted linux/amd64, actual: wasi/wasm" -- "$WB" run --rm --platform=linux/amd64 hello-art
expect missing-image 125 "" "No such image: nothere:latest" -- "$WB" run --rm --pull never nothere
expect missing-image-pull 125 "" "cannot reach the registry at 127.0.0.1:1" -- "$WB" run --rm 127.0.0.1:1/nothere
expect bad-volume 125 "" "includes invalid characters for a local volume name" -- "$WB" run --rm -v 'da ta:/data' hello-art
expect named-volume-write 0 "hello from wasm" "" -- "$WB" run --rm -v wdata:/data hello-art --write /data/f kept
expect named-volume-read 0 $'hello from wasm\nkept' "" -- "$WB" run --rm -v wdata:/data:ro hello-art --read /data/f
expect bind-file-wasm 125 "" "is not a directory (Wasm modules see directories only)" -- "$WB" run --rm -v /etc/hostname:/h hello-art
expect file-only-flag 125 "" "--invoke applies to a module file" -- "$WB" run --invoke f hello-art

# containers and names
expect named-run 0 "hello from wasm" "" -- "$WB" run --name first hello-art
expect name-conflict 125 "" "Conflict. The container name \"/first\" is already in use by container" -- "$WB" run --name first hello-art
check container-record bash -c "python3 -c \"import json,glob,sys; d=[json.load(open(f)) for f in glob.glob('$WASMBOX_ROOT/containers/*/container.json')]; c=[x for x in d if x['Name']=='/first'][0]; sys.exit(0 if c['State']['Status']=='exited' and c['State']['ExitCode']==0 and c['HostConfig']['Runtime']=='io.containerd.wasmedge.v1' else 1)\""
check rm-removed bash -c "[ \$(ls '$WASMBOX_ROOT/containers' | grep -vc names) -eq 1 ]"

# inspect
expect inspect-platform 0 "wasi/wasm" "" -- "$WB" image inspect --format '{{.Os}}/{{.Architecture}}' hello-art
expect inspect-config 0 '{"Env":["A=1"]}' "" -- "$WB" inspect --format '{{json .Config}}' hello-art
check inspect-shape bash -c "'$WB' image inspect hello-art | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; sys.exit(0 if all(k in d for k in (\"Id\",\"RepoTags\",\"RepoDigests\",\"Created\",\"Architecture\",\"Os\",\"Size\",\"Config\",\"RootFS\")) and d[\"RepoTags\"]==[\"hello-art:latest\"] else 1)'"
check inspect-grep bash -c "'$WB' image inspect hello-art | grep -A 3 Architecture | grep -q '\"Os\": \"wasi\"'"
expect inspect-missing 1 "[]" "Error: No such image: nothere" -- "$WB" image inspect nothere

# tag and rm
expect tag 0 "" "" -- "$WB" tag hello-art localhost:5000/team/app:v2
check tag-listed bash -c "'$WB' images | grep -Eq '^localhost:5000/team/app +v2 '"
expect rmi-untag 0 "Untagged: localhost:5000/team/app:v2" "" -- "$WB" rmi localhost:5000/team/app:v2
expect rmi-in-use 1 "" "container" -- "$WB" rmi hello-art
id=$("$WB" images -q hello-art)
expect rmi-force 0 $'Untagged: hello-art:latest\nDeleted: sha256:'"$(python3 -c "import json;print([m['annotations']['io.wasmbox.image.config'] for m in json.load(open('$WASMBOX_ROOT/images/index.json'))['manifests']][0][7:])")" "" -- "$WB" rmi -f hello-art
check blobs-collected bash -c "[ \$(ls '$WASMBOX_ROOT/images/blobs/sha256' | wc -l) -eq 0 ]"
expect rmi-gone 1 "" "No such image: $id" -- "$WB" rmi "$id"
expect bad-reference 1 "" "invalid reference format" -- "$WB" tag x "UPPER/Case:1"
# an image pulled by an index digest records that digest, not its manifest's: name@digest finds it
idx_digest=sha256:$(printf 'an index' | sha256sum | cut -d' ' -f1)
python3 tests/e2e/fixtures/mkartifact.py "$WASMBOX_ROOT" "$T/hello.wasm" docker.io/library/bydigest:latest "docker.io/library/bydigest@$idx_digest" >/dev/null
expect run-by-repo-digest 0 "hello from wasm" "" -- "$WB" run --rm "bydigest@$idx_digest"
check digests-column bash -c "'$WB' images --digests | grep -Eq '^bydigest +latest +$idx_digest '"
expect root-flag 0 "" "" -- "$WB" --root "$T/other" images -q
check root-flag-used test -d "$T/other/images/blobs/sha256"

echo "e2e-images: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
