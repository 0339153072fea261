#!/usr/bin/env bash
# End-to-end tests of pull, push, login and logout against real peers on 127.0.0.1: Debian's
# docker-registry (plain, htpasswd Basic auth, Bearer tokens from tests/e2e/registry_peer.py),
# skopeo both ways, run and build pulling what is missing, and the robustness cases (altered,
# truncated and overlong blobs, a registry dying mid-pull, kill -9 of pull, concurrent pulls,
# an 8 MiB+ manifest, a manifest whose media type lies).
# Usage: BUILD=build bash tests/e2e/registry.sh   (prints "registry: P passed, F failed")
set -uo pipefail
BUILD=${BUILD:-build}
WB=$(cd "$(dirname "$BUILD/wasmbox")" && pwd)/wasmbox
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/registry_lib.sh"
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
skipped=0

for tool in docker-registry skopeo htpasswd openssl python3 curl; do
    if ! command -v "$tool" >/dev/null; then
        echo "registry: skipped: $tool is not installed (scripts/deps.sh installs it)"
        echo "registry: 0 passed, 0 failed, 1 skipped"
        exit 0
    fi
done

# Isolation: our store, credentials and Docker's config all live in $T.
export HOME=$T/home
mkdir -p "$HOME"
unset REGISTRY_AUTH_FILE DOCKER_CONFIG XDG_CONFIG_HOME
export WASMBOX_ROOT=$T/root
fresh_root() { export WASMBOX_ROOT=$T/root-$1; }

expect() { # NAME WANT_EXIT WANT_STDOUT_SUBSTRING WANT_STDERR_SUBSTRING -- CMD...
    local name=$1 want_rc=$2 want_out=$3 want_err=$4
    shift 5
    local out err rc
    out=$("$@" 2>"$T/err")
    rc=$?
    err=$(cat "$T/err")
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
has() { grep -q -- "$2" "$1"; }
no_image() { ! "$WB" images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep -q -- "$1"; }
# every blob in the store has the digest its name says, and no stray file is left
store_sound() {
    local root=${1:-$WASMBOX_ROOT} f
    [ -d "$root/images/blobs/sha256" ] || return 0
    for f in "$root"/images/blobs/sha256/*; do
        [ -e "$f" ] || continue
        [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$(basename "$f")" ] || { echo "bad blob $f"; return 1; }
    done
    [ ! -e "$root/images/index.json" ] || python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$root/images/index.json"
}

# ---- fixtures ----
clang --target=wasm32-wasi --sysroot=/usr -O2 -o "$T/hello.wasm" "$HERE/fixtures/hello.c"
mkdir -p "$T/ctx"
cp "$T/hello.wasm" "$T/ctx/hello.wasm"
printf 'FROM scratch\nCOPY hello.wasm /hello.wasm\nENTRYPOINT ["/hello.wasm"]\n' >"$T/ctx/Dockerfile"
python3 "$HERE/fixtures/mkoci.py" "$T/oci-rootfs" "$T/hello.wasm" >/dev/null
python3 "$HERE/fixtures/mkoci.py" "$T/oci-index" "$T/hello.wasm" --index >/dev/null
# three 4 MB layers: slow enough through the relay to be cut in the middle
python3 "$HERE/fixtures/mkoci.py" "$T/oci-big" "$T/hello.wasm" --filler 4x3 >/dev/null
python3 "$HERE/fixtures/mkoci.py" "$T/oci-pad" "$T/hello.wasm" --pad 3900000 >/dev/null
SK=(skopeo --insecure-policy)

P=$(free_port)
REG=$(start_registry "$T/reg" "$P") || { echo "registry: cannot start docker-registry"; echo "registry: 0 passed, 1 failed"; exit 1; }
PIDS+=("$REG")
R=127.0.0.1:$P

# ==== push → skopeo → empty store → pull → run ====
expect build 0 "Successfully tagged $R/hello:1" "" -- "$WB" build --platform wasi/wasm -t "$R/hello:1" "$T/ctx"
"$WB" push "$R/hello:1" >"$T/push.out" 2>&1
check push-ok [ $? -eq 0 ]
check push-refers has "$T/push.out" "^The push refers to repository \[$R/hello\]$"
check push-preparing grep -Eq '^[0-9a-f]{12}: Preparing$' "$T/push.out"
check push-pushed grep -Eq '^[0-9a-f]{12}: Pushed$' "$T/push.out"
check push-digest grep -Eq '^1: digest: sha256:[0-9a-f]{64} size: [0-9]+$' "$T/push.out"
"$WB" push "$R/hello:1" >"$T/push2.out" 2>&1
check push-again-skips has "$T/push2.out" "Layer already exists"
expect push-quiet 0 "sha256:" "" -- "$WB" push -q "$R/hello:1"
check push-quiet-only-digest bash -c "[ \"\$('$WB' push -q '$R/hello:1')\" = \"\$('$WB' image inspect --format '{{index .RepoDigests 0}}' '$R/hello:1' | cut -d@ -f2)\" ]"
expect skopeo-inspect-ours 0 '"Os": "wasi"' "" -- "${SK[@]}" inspect --tls-verify=false "docker://$R/hello:1"
expect skopeo-inspect-arch 0 '"Architecture": "wasm"' "" -- "${SK[@]}" inspect --tls-verify=false "docker://$R/hello:1"
expect skopeo-copies-ours 0 "" "" -- "${SK[@]}" copy --src-tls-verify=false "docker://$R/hello:1" "oci:$T/skopeo-copy:x"
fresh_root empty1
expect pull-lines 0 "$R/hello:1" "" -- "$WB" pull "$R/hello:1"
"$WB" pull "$R/hello:1" >"$T/pull-again.out" 2>&1
check pull-up-to-date has "$T/pull-again.out" "Status: Image is up to date for $R/hello:1"
expect run-pulled 0 "hello from wasm" "" -- "$WB" run --rm "$R/hello:1"
expect inspect-pulled 0 "wasi/wasm" "" -- "$WB" image inspect --format '{{.Os}}/{{.Architecture}}' "$R/hello:1"
expect repo-digest 0 "$R/hello@sha256:" "" -- "$WB" image inspect --format '{{json .RepoDigests}}' "$R/hello:1"
check store-after-pull store_sound

# pull output, non-terminal: one line per step; quiet: only the name
fresh_root lines
"$WB" pull "$R/hello:1" >"$T/lines.out" 2>&1
check lines-pulling-from has "$T/lines.out" "^1: Pulling from hello$"
check lines-fs-layer grep -Eq '^[0-9a-f]{12}: Pulling fs layer$' "$T/lines.out"
check lines-verifying grep -Eq '^[0-9a-f]{12}: Verifying Checksum$' "$T/lines.out"
check lines-complete grep -Eq '^[0-9a-f]{12}: Pull complete$' "$T/lines.out"
check lines-digest grep -Eq '^Digest: sha256:[0-9a-f]{64}$' "$T/lines.out"
check lines-status has "$T/lines.out" "^Status: Downloaded newer image for $R/hello:1$"
check lines-no-escapes bash -c "! grep -q \$'\\033' '$T/lines.out'"
fresh_root quiet
expect pull-quiet 0 "" "" -- "$WB" pull -q "$R/hello:1"
check pull-quiet-one-line bash -c "[ \"\$(WASMBOX_ROOT=$T/root-quiet2 '$WB' pull -q '$R/hello:1')\" = '$R/hello:1' ]"
# on a terminal: a line per layer redrawn in place, with a bar
fresh_root tty
"${SK[@]}" copy --dest-tls-verify=false "oci:$T/oci-big:latest" "docker://$R/big:1" >/dev/null 2>&1
TERM=xterm script -qec "'$WB' pull '$R/big:1'" /dev/null >"$T/tty.out" 2>&1
check tty-bar grep -aq 'Downloading \[=*>' "$T/tty.out"
check tty-cursor-up grep -aq $'\033\\[[0-9]*A' "$T/tty.out"
check tty-complete grep -aq 'Pull complete' "$T/tty.out"
check tty-pulled bash -c "'$WB' images | grep -q '$R/big'"

# images pushed by skopeo (from an oci-archive we saved, and an OCI layout) pull and run
fresh_root saver
"$WB" --root "$T/root-empty1" save --format oci-archive -o "$T/saved.tar" "$R/hello:1" 2>"$T/save.err"
expect skopeo-push-our-archive 0 "" "" -- "${SK[@]}" copy --dest-tls-verify=false "oci-archive:$T/saved.tar" "docker://$R/fromarchive:1"
expect pull-skopeo-archive 0 "" "" -- "$WB" pull "$R/fromarchive:1"
expect run-skopeo-archive 0 "hello from wasm" "" -- "$WB" run --rm "$R/fromarchive:1"
expect skopeo-push-layout 0 "" "" -- "${SK[@]}" copy --dest-tls-verify=false "oci:$T/oci-rootfs:latest" "docker://$R/fromskopeo:2"
expect pull-skopeo-layout 0 "" "" -- "$WB" pull "$R/fromskopeo:2"
expect run-skopeo-layout 0 "GREETING=from the registry" "" -- "$WB" run --rm "$R/fromskopeo:2" --env GREETING

# an index: wasi/wasm by default, a platform on request, attestations skipped
expect skopeo-push-index 0 "" "" -- "${SK[@]}" copy --all --dest-tls-verify=false "oci:$T/oci-index:latest" "docker://$R/multi:1"
fresh_root index
expect pull-index-default 0 "" "" -- "$WB" pull "$R/multi:1"
expect index-picked-wasm 0 "wasi/wasm" "" -- "$WB" image inspect --format '{{.Os}}/{{.Architecture}}' "$R/multi:1"
expect run-index 0 "hello from wasm" "" -- "$WB" run --rm "$R/multi:1"
fresh_root index2
expect pull-index-linux 0 "" "" -- "$WB" pull --platform linux/amd64 "$R/multi:1"
expect index-picked-linux 0 "linux/amd64" "" -- "$WB" image inspect --format '{{.Os}}/{{.Architecture}}' "$R/multi:1"
expect pull-index-missing-platform 1 "" "no matching manifest for linux/arm64 in the manifest list entries (present: wasi/wasm, linux/amd64)" -- "$WB" pull --platform linux/arm64 "$R/multi:1"
expect pull-single-wrong-platform 1 "" "image with reference $R/hello:1 was found but does not match the specified platform: wanted linux/arm64, actual: wasi/wasm" -- "$WB" pull --platform linux/arm64 "$R/hello:1"
expect pull-single-right-platform 0 "" "" -- "$WB" pull -q --platform wasi/wasm "$R/hello:1"
index_digest=$("${SK[@]}" inspect --raw --tls-verify=false "docker://$R/multi:1" | sha256sum | cut -d' ' -f1)
fresh_root bydigest
expect pull-by-digest 0 "$R/multi@sha256:$index_digest" "" -- "$WB" pull "$R/multi@sha256:$index_digest"

# a manifest just under 4 MiB is accepted
expect skopeo-push-padded 0 "" "" -- "${SK[@]}" copy --dest-tls-verify=false "oci:$T/oci-pad:latest" "docker://$R/padded:1"
expect pull-3.9MB-manifest 0 "" "" -- "$WB" pull -q "$R/padded:1"

# run and build pull what is missing; --pull
fresh_root runpull
expect run-pulls-missing 0 "hello from wasm" "Unable to find image '$R/hello:1' locally" -- "$WB" run --rm "$R/hello:1"
check run-pull-progress-on-stderr has "$T/err" "Status: Downloaded newer image for $R/hello:1"
expect run-pull-always 0 "hello from wasm" "Status: Image is up to date" -- "$WB" run --rm --pull always "$R/hello:1"
# run -d that pulls: the monitor keeps none of the CLI's descriptors (the shared gc.lock taken for
# the pull would otherwise keep `image prune` from collecting blobs while the container lives)
fresh_root rundpull
cid=$("$WB" run -d "$R/hello:1" --spin 2>"$T/err")
mon=$("$WB" inspect --format '{{.State.MonitorPid}}' "$cid" 2>/dev/null)
check run-d-pulled-running test -n "$mon" -a "$mon" != 0
check run-d-monitor-no-gc-lock bash -c "! ls -l /proc/$mon/fd | grep -q 'gc.lock'"
check run-d-monitor-no-socket bash -c "! ls -l /proc/$mon/fd | grep -q 'socket:'"
"$WB" rm -f "$cid" >/dev/null
fresh_root runnever
expect run-pull-never 125 "" "No such image: $R/hello:1" -- "$WB" run --rm --pull never "$R/hello:1"
expect run-pull-bad 125 "" "invalid pull option: 'sometimes'" -- "$WB" run --rm --pull sometimes "$R/hello:1"
expect run-pull-unreachable 125 "" "cannot reach the registry at 127.0.0.1:1" -- "$WB" run --rm 127.0.0.1:1/nothing:1
fresh_root buildpull
mkdir -p "$T/ctx2"
printf 'FROM %s\nENV BUILT=yes\n' "$R/hello:1" >"$T/ctx2/Dockerfile"
expect build-from-pulls 0 "Successfully tagged" "" -- "$WB" build --platform wasi/wasm -t derived "$T/ctx2"
expect run-derived 0 "BUILT=yes" "" -- "$WB" run --rm derived --env BUILT

# errors a user can act on
DEAD=$(free_port)
expect err-unreachable 1 "" "cannot reach the registry at 127.0.0.1:$DEAD" -- "$WB" pull "127.0.0.1:$DEAD/x:1"
expect err-no-such-repo 1 "" "manifest for $R/nosuchrepo:1 not found: manifest unknown" -- "$WB" pull "$R/nosuchrepo:1"
expect err-name-unknown 1 "" "repository $R/nosuchrepo not found: name unknown" -- "$WB" pull -a "$R/nosuchrepo"
expect err-manifest-unknown 1 "" "manifest for $R/hello:nosuchtag not found: manifest unknown" -- "$WB" pull "$R/hello:nosuchtag"
expect err-push-not-local 1 "" "An image does not exist locally with the tag: $R/notlocal:1" -- "$WB" push "$R/notlocal:1"
expect err-bad-reference 1 "" "invalid reference format" -- "$WB" pull "Hello"

# cross-repository mount, chunked upload, tags
fresh_root empty1
expect tag-for-mount 0 "" "" -- "$WB" tag "$R/hello:1" "$R/team/copy:1"
expect push-mounts 0 "Mounted from hello" "" -- "$WB" push "$R/team/copy:1"
python3 "$HERE/fixtures/mkartifact.py" "$WASMBOX_ROOT" "$BUILD/examples/hello/hello.wasm" "$R/chunked:1" >/dev/null 2>&1 ||
    python3 "$HERE/fixtures/mkartifact.py" "$WASMBOX_ROOT" "$T/hello.wasm" "$R/chunked:1" >/dev/null
expect push-chunked 0 "Pushed" "" -- env WASMBOX_PUSH_CHUNK_SIZE=4096 "$WB" push "$R/chunked:1"
expect skopeo-reads-chunked 0 "" "" -- "${SK[@]}" copy --src-tls-verify=false "docker://$R/chunked:1" "oci:$T/chunked-copy:x"
check chunked-layer-intact bash -c "cd '$T/chunked-copy/blobs/sha256' && for f in *; do [ \"\$(sha256sum \$f | cut -c1-64)\" = \$f ] || exit 1; done"
expect tag-second 0 "" "" -- "$WB" tag "$R/hello:1" "$R/hello:2"
expect push-second-tag 0 "" "" -- "$WB" push "$R/hello:2"
fresh_root alltags
expect pull-all-tags 0 "$R/hello" "" -- "$WB" pull -a "$R/hello"
check all-tags-present bash -c "[ \$('$WB' images --format '{{.Repository}}:{{.Tag}}' | grep -c '^$R/hello:') -eq 2 ]"

# ==== TLS: registries off the loopback use HTTPS; --tls-verify=false / --insecure-registry ====
# "127.1" reaches 127.0.0.1 but is not a loopback name to wasmbox (nor to Docker): it gets HTTPS
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tls.key" -out "$T/tls.crt" -days 2 \
    -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
PS=$(free_port)
REGS=$(start_registry "$T/regs" "$PS" tls "$T/tls.crt" "$T/tls.key") && PIDS+=("$REGS")
"${SK[@]}" copy --dest-tls-verify=false "oci:$T/oci-rootfs:latest" "docker://127.0.0.1:$PS/secure:1" >/dev/null 2>&1
fresh_root tls
expect tls-untrusted-refused 1 "" "cannot reach the registry at 127.1:$PS: SSL certificate problem" -- "$WB" pull "127.1:$PS/secure:1"
check tls-hint has "$T/err" "needs --tls-verify=false or --insecure-registry"
expect tls-verify-false 0 "" "" -- "$WB" pull -q --tls-verify=false "127.1:$PS/secure:1"
fresh_root tls2
expect tls-insecure-registry 0 "" "" -- "$WB" pull -q --insecure-registry "127.1:$PS" "127.1:$PS/secure:1"
expect tls-run 0 "hello from wasm" "" -- "$WB" run --rm "127.1:$PS/secure:1"
fresh_root tls3
expect insecure-falls-back-to-http 0 "" "" -- "$WB" pull -q --tls-verify=false "127.1:$P/hello:1"
expect https-to-plain-refused 1 "" "127.1:$P" -- "$WB" pull -q "127.1:$P/hello:1"

# ==== Basic auth (htpasswd) ====
htpasswd -Bbc "$T/htpasswd" alice s3cret >/dev/null 2>&1
PB=$(free_port)
REGB=$(start_registry "$T/regb" "$PB" htpasswd "$T/htpasswd") && PIDS+=("$REGB")
RB=127.0.0.1:$PB
fresh_root empty1
"$WB" tag "$R/hello:1" "$RB/private:1"
expect basic-push-refused 1 "" "wasmbox login $RB" -- "$WB" push "$RB/private:1"
expect basic-login-wrong 1 "" "unauthorized: incorrect username or password" -- \
    bash -c "echo wrong | '$WB' login -u alice --password-stdin '$RB'"
check basic-wrong-not-stored bash -c "[ ! -e '$HOME/.config/wasmbox/auth.json' ]"
expect basic-login 0 "Login Succeeded" "" -- bash -c "echo s3cret | '$WB' login -u alice --password-stdin '$RB'"
check auth-file-mode bash -c "[ \$(stat -c %a '$HOME/.config/wasmbox/auth.json') = 600 ]"
check auth-file-layout python3 -c "import json,base64,sys; d=json.load(open('$HOME/.config/wasmbox/auth.json')); sys.exit(0 if base64.b64decode(d['auths']['$RB']['auth'])==b'alice:s3cret' else 1)"
expect basic-push-after-login 0 "digest: sha256:" "" -- "$WB" push "$RB/private:1"
expect skopeo-reads-our-auth-file 0 '"Os": "wasi"' "" -- env REGISTRY_AUTH_FILE="$HOME/.config/wasmbox/auth.json" "${SK[@]}" inspect --tls-verify=false "docker://$RB/private:1"
fresh_root basicpull
expect basic-pull-after-login 0 "" "" -- "$WB" pull "$RB/private:1"
expect basic-logout 0 "Removing login credentials for $RB" "" -- "$WB" logout "$RB"
expect basic-logout-again 0 "Not logged in to $RB" "" -- "$WB" logout "$RB"
expect basic-push-after-logout 1 "" "unauthorized" -- "$WB" push "$RB/private:1"
expect basic-pull-after-logout 1 "" "wasmbox login $RB" -- "$WB" pull "$RB/private:1"
# Docker's config.json is read when we have nothing
mkdir -p "$HOME/.docker"
printf '{"auths": {"http://%s": {"auth": "%s"}}}\n' "$RB" "$(printf alice:s3cret | base64)" >"$HOME/.docker/config.json"
expect docker-config-fallback 0 "digest: sha256:" "" -- "$WB" push "$RB/private:1"
rm -f "$HOME/.docker/config.json"
# $REGISTRY_AUTH_FILE wins
expect auth-file-env-login 0 "Login Succeeded" "" -- env REGISTRY_AUTH_FILE="$T/other-auth.json" "$WB" login -u alice -p s3cret "$RB"
check auth-file-env-written bash -c "[ -s '$T/other-auth.json' ] && [ \$(stat -c %a '$T/other-auth.json') = 600 ]"
expect auth-file-env-used 0 "digest: sha256:" "" -- env REGISTRY_AUTH_FILE="$T/other-auth.json" "$WB" push "$RB/private:1"

# ==== Bearer tokens ====
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/token.key" -out "$T/token.crt" -days 2 \
    -subj "/CN=wasmbox-test-token" >/dev/null 2>&1
echo "bob:t0ken-pass" >"$T/token-users"
TP=$(free_port)
TOK=$(start_peer "$T/peer.log" token "$TP" "$T/token.key" "$T/token.crt" wasmbox-test-issuer "$T/token-users" "$T/token.log")
PIDS+=("$TOK")
wait_http "http://127.0.0.1:$TP/token"
PT=$(free_port)
REGT=$(start_registry "$T/regt" "$PT" token "http://127.0.0.1:$TP/token" "$T/token.crt") && PIDS+=("$REGT")
RT=127.0.0.1:$PT
fresh_root empty1
"$WB" tag "$R/hello:1" "$RT/tokens/app:1"
expect bearer-push-refused 1 "" "wasmbox login $RT" -- "$WB" push "$RT/tokens/app:1"
expect bearer-login-wrong 1 "" "incorrect username or password" -- "$WB" login -u bob -p nope "$RT"
expect bearer-login 0 "Login Succeeded" "" -- "$WB" login -u bob -p t0ken-pass "$RT"
expect bearer-push 0 "digest: sha256:" "" -- "$WB" push "$RT/tokens/app:1"
check bearer-scope-asked grep -q '"repository:tokens/app:pull,push"' "$T/token.log"
check bearer-service-sent grep -q '"service": "wasmbox-test-registry"' "$T/token.log"
expect bearer-logout 0 "Removing login credentials for $RT" "" -- "$WB" logout "$RT"
fresh_root bearerpull
expect bearer-anonymous-pull 0 "" "" -- "$WB" pull "$RT/tokens/app:1"
expect bearer-anonymous-run 0 "hello from wasm" "" -- "$WB" run --rm "$RT/tokens/app:1"
expect bearer-push-after-logout 1 "" "wasmbox login $RT" -- "$WB" push "$RT/tokens/app:1"
expect skopeo-bearer 0 "" "" -- "${SK[@]}" inspect --tls-verify=false --creds bob:t0ken-pass "docker://$RT/tokens/app:1"

# ==== robustness ====
# an altered blob (same size) is a digest mismatch; nothing is committed or registered
"${SK[@]}" copy --dest-tls-verify=false "oci:$T/oci-big:latest" "docker://$R/victim:1" >/dev/null 2>&1
"${SK[@]}" copy --dest-tls-verify=false "oci:$T/oci-rootfs:latest" "docker://$R/altered:1" >/dev/null 2>&1
layer=$("${SK[@]}" inspect --raw --tls-verify=false "docker://$R/altered:1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"])')
blobfile=$(registry_blob_file "$T/reg" "$layer")
cp "$blobfile" "$T/blob.orig"
python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[len(b)//2]^=0xff; open(p,'wb').write(b)" "$blobfile"
fresh_root mismatch
expect digest-mismatch 1 "" "digest mismatch: expected $layer" -- "$WB" pull "$R/altered:1"
check mismatch-no-image no_image "$R/altered"
check mismatch-no-blob bash -c "[ ! -e '$WASMBOX_ROOT/images/blobs/sha256/${layer#sha256:}' ]"
check mismatch-store-sound store_sound
# truncated on disk: the registry sends fewer bytes than declared
head -c 1000 "$T/blob.orig" >"$blobfile"
expect truncated-blob 1 "" "is truncated: got 1000 bytes" -- "$WB" pull "$R/altered:1"
check truncated-no-image no_image "$R/altered"
# longer on disk: refused from the Content-Length, before reading
{ cat "$T/blob.orig"; head -c 5000 /dev/urandom; } >"$blobfile"
expect overlong-blob 1 "" "is longer than its declared" -- "$WB" pull "$R/altered:1"
check overlong-no-image no_image "$R/altered"
cp "$T/blob.orig" "$blobfile"
expect restored-blob-pulls 0 "" "" -- "$WB" pull -q "$R/altered:1"
check restored-store-sound store_sound

# the hostile peer: a stream past its size without Content-Length is cut at size+1; a short
# stream; an 8 MiB+ manifest; a media type that lies; manifests and layers in one document
HP=$(free_port)
HOST=$(start_peer "$T/peer.log" hostile "$HP" "$T/hostile.log")
PIDS+=("$HOST")
wait_http "http://127.0.0.1:$HP/v2/"
H=127.0.0.1:$HP
fresh_root hostile
expect hostile-ok 0 "" "" -- "$WB" pull -q "$H/ok:1"
expect hostile-long 1 "" "is longer than its declared 100 bytes" -- "$WB" pull "$H/long:1"
sleep 0.5
check hostile-long-cut-early python3 -c "import json,sys; s=[json.loads(l)['sent'] for l in open('$T/hostile.log')]; sys.exit(0 if s and max(s) < 16*1024*1024 else 1)"
expect hostile-short 1 "" "sha256:" -- "$WB" pull "$H/short:1"
expect hostile-huge-manifest 1 "" "larger than the 4194304-byte limit" -- "$WB" pull "$H/huge:1"
expect hostile-media-type-lies 1 "" "does not match its content type" -- "$WB" pull "$H/liar:1"
expect hostile-both 1 "" "both \`manifests\` and \`layers\`" -- "$WB" pull "$H/both:1"
check hostile-nothing-registered bash -c "[ \$('$WB' images -q | wc -l) -eq 1 ]"
check hostile-store-sound store_sound

# a registry that dies mid-pull (it and the slow relay in front of it); a retry completes
SP=$(free_port)
SLOW=$(start_peer "$T/peer.log" proxy "$SP" "$P" 1000000)
PIDS+=("$SLOW")
wait_http "http://127.0.0.1:$SP/v2/"
fresh_root dies
"$WB" pull "127.0.0.1:$SP/victim:1" >"$T/dies.out" 2>&1 &
pullpid=$!
sleep 1.5
stop_pid "$REG"
stop_pid "$SLOW"
wait "$pullpid"
check dies-pull-fails [ $? -ne 0 ]
check dies-message grep -Eq "Error: pull 127.0.0.1:$SP/victim:1: .*127.0.0.1:$SP" "$T/dies.out"
check dies-no-image no_image victim
check dies-store-sound store_sound
REG=$(start_registry "$T/reg" "$P") && PIDS+=("$REG")
SLOW=$(start_peer "$T/peer.log" proxy "$SP" "$P" 1000000)
PIDS+=("$SLOW")
wait_http "http://127.0.0.1:$SP/v2/"
expect dies-retry 0 "Already exists" "" -- "$WB" pull "127.0.0.1:$SP/victim:1"
check dies-retry-image bash -c "'$WB' images | grep -q victim"
check dies-retry-sound store_sound

# kill -9 at random moments: never a partial image; a later pull completes reusing blobs
fresh_root killed
kill_ok=1
for delay in 0.05 0.3 0.8 1.5 2.5 4; do
    "$WB" pull "127.0.0.1:$SP/victim:1" >/dev/null 2>&1 &
    pullpid=$!
    sleep "$delay"
    kill -9 "$pullpid" 2>/dev/null
    wait "$pullpid" 2>/dev/null
    if "$WB" images --format '{{.Repository}}' | grep -q victim; then
        # only a pull that finished may have registered it: then it is whole
        "$WB" run --rm --entrypoint /app.wasm "127.0.0.1:$SP/victim:1" >/dev/null 2>&1 || kill_ok=0
    fi
    store_sound >/dev/null || kill_ok=0
done
check kill9-consistent [ "$kill_ok" = 1 ]
"$WB" pull "127.0.0.1:$SP/victim:1" >"$T/killed.out" 2>&1
check kill9-final-pull [ $? -eq 0 ]
check kill9-reused-blobs has "$T/killed.out" "Already exists"
expect kill9-runs 0 "hello from wasm" "" -- "$WB" run --rm "127.0.0.1:$SP/victim:1"

# two concurrent pulls of the same image into one store
fresh_root concurrent
"$WB" pull "$R/victim:1" >"$T/c1.out" 2>&1 &
c1=$!
"$WB" pull "$R/victim:1" >"$T/c2.out" 2>&1 &
c2=$!
wait "$c1"
r1=$?
wait "$c2"
r2=$?
check concurrent-both-succeed [ "$r1" = 0 ] && [ "$r2" = 0 ]
check concurrent-one-image bash -c "[ \$('$WB' images --format '{{.Repository}}:{{.Tag}}' | grep -c victim) -eq 1 ]"
check concurrent-store-sound store_sound
expect concurrent-runs 0 "hello from wasm" "" -- "$WB" run --rm "$R/victim:1"

echo "registry: $passed passed, $failed failed${skipped:+, $skipped skipped}"
[ "$failed" -eq 0 ]
