#!/usr/bin/env bash
# End-to-end tests of `wasmbox build`: the issue's flow, Dockerfile instructions, .dockerignore,
# globs, --chmod, ADD of archives, build args, --target, the step cache, the context sandbox, RUN
# in a Wasm stage refused (tests/e2e/build_run.sh runs RUN), bad Dockerfiles, and kill -9
# durability. Images are checked in the store's blobs
# (config, manifest and layers with jq, tar, gzip and sha256sum).
# Usage: BUILD=build bash tests/e2e/build.sh   (prints "build: P passed, F failed")
set -uo pipefail
BUILD=${BUILD:-build}
WB=${WB:-$BUILD/wasmbox}
WB=$(cd "$(dirname "$WB")" && pwd)/$(basename "$WB")
if ! command -v jq >/dev/null; then
    echo "build: jq is missing (scripts/deps.sh installs it)"
    echo "build: 0 passed, 1 failed"
    exit 1
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
R=$T/root
passed=0
failed=0
HELLO=$(cd "$(dirname "$0")/../.." && pwd)/$BUILD/examples/hello/hello.wasm
[ -f "$HELLO" ] || HELLO=$BUILD/examples/hello/hello.wasm

ok() { passed=$((passed + 1)); }
bad() {
    failed=$((failed + 1))
    echo "FAIL $1"
    [ -n "${2:-}" ] && echo "  $2"
    return 0
}

# build NAME ARGS... : runs `wasmbox --root R build ARGS`, stdout in $T/out, stderr in $T/err
wbuild() { "$WB" --root "$R" build "$@" >"$T/out" 2>"$T/err"; }

# expect_build NAME WANT_EXIT STDERR_SUBSTRING ARGS... : a build that fails (or not) with a message
expect_build() {
    local name=$1 want=$2 msg=$3
    shift 3
    wbuild "$@"
    local rc=$?
    if [ "$rc" != "$want" ] || { [ -n "$msg" ] && ! grep -qF -- "$msg" "$T/err"; }; then
        bad "$name" "exit $rc (want $want); stderr: $(head -c 600 "$T/err"); stdout tail: $(tail -n 3 "$T/out")"
    else
        ok
    fi
}

check() { # check NAME CONDITION-COMMAND...
    local name=$1
    shift
    if "$@"; then ok; else bad "$name" "$*"; fi
}

blob() { echo "$R/images/blobs/sha256/${1#sha256:}"; }
# the image ID printed by -q, or by "Successfully built" (full ID via --iidfile)
iid() { cat "$T/iid"; }
config() { jq -S . "$(blob "$1")"; }
cfgq() { jq -r "$2" "$(blob "$1")"; } # cfgq ID JQ-EXPR
manifest_of() {                       # manifest digest of the image ID
    jq -r --arg c "$1" '.manifests[] | select(.annotations["io.wasmbox.image.config"] == $c) | .digest' \
        "$R/images/index.json" | head -n 1
}
layers_of() { jq -r '.layers[].digest' "$(blob "$(manifest_of "$1")")"; }
last_layer() { layers_of "$1" | tail -n 1; }
listing() { tar -tvzf "$(blob "$1")" | awk '{print $1, $2, $6 ($7 ? " " $7 " " $8 : "")}'; }
contains() { grep -qF -- "$2" <<<"$1"; }

# ---------------------------------------------------------------- the issue's flow
C=$T/hello
mkdir -p "$C"
cp "$HELLO" "$C/hello_world.wasm"
cat >"$C/Dockerfile" <<'EOF'
# syntax=docker/dockerfile:1
FROM scratch AS build
COPY hello_world.wasm /build/hello_world.wasm
FROM scratch
COPY --from=build /build/hello_world.wasm /hello_world.wasm
ENTRYPOINT [ "/hello_world.wasm" ]
EOF
expect_build flow 0 "" --platform wasi/wasm -t hello-world --iidfile "$T/iid" "$C"
ID=$(iid)
check flow-steps grep -qx 'Step 1/5 : FROM scratch AS build' "$T/out"
check flow-step5 grep -qx 'Step 5/5 : ENTRYPOINT \[ "/hello_world.wasm" \]' "$T/out"
check flow-built grep -qx "Successfully built ${ID:7:12}" "$T/out"
check flow-tagged grep -qx "Successfully tagged hello-world:latest" "$T/out"
check flow-os [ "$(cfgq "$ID" '.os + "/" + .architecture')" = "wasi/wasm" ]
check flow-entrypoint [ "$(cfgq "$ID" '.config.Entrypoint | join(",")')" = "/hello_world.wasm" ]
check flow-one-layer [ "$(layers_of "$ID" | wc -l)" = 1 ]
check flow-diffids [ "$(cfgq "$ID" '.rootfs.diff_ids | length')" = 1 ]
L=$(last_layer "$ID")
check flow-layer-content contains "$(listing "$L")" "-rwxr-xr-x 0/0 hello_world.wasm"
check flow-layer-digest [ "sha256:$(sha256sum <"$(blob "$L")" | cut -c1-64)" = "$L" ]
check flow-diffid [ "sha256:$(gzip -dc <"$(blob "$L")" | sha256sum | cut -c1-64)" = "$(cfgq "$ID" '.rootfs.diff_ids[0]')" ]
check flow-module cmp -s <(tar -xzOf "$(blob "$L")" hello_world.wasm) "$HELLO"
check flow-index jq -e --arg c "$ID" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "docker.io/library/hello-world:latest") | select(.annotations["io.wasmbox.image.config"] == $c)' "$R/images/index.json" >/dev/null
check flow-history [ "$(cfgq "$ID" '[.history[] | select(.empty_layer != true)] | length')" = 1 ]
for rt in io.containerd.wasmedge.v1 io.containerd.wasmtime.v1 io.containerd.wasmer.v1; do
    out=$("$WB" --root "$R" run --runtime=$rt --platform=wasi/wasm hello-world 2>&1)
    check "flow-run-$rt" contains "$out" "Hello"
done
# skopeo reads and copies it (digests verified on the way)
if command -v skopeo >/dev/null; then
    check flow-skopeo skopeo copy -q "oci:$R/images:docker.io/library/hello-world:latest" "dir:$T/sk"
    rm -rf "$T/sk"
fi

# ---------------------------------------------------------------- the cache
expect_build cache-rebuild 0 "" --platform wasi/wasm -t hello-world --iidfile "$T/iid" "$C"
check cache-same-id [ "$(iid)" = "$ID" ]
check cache-hits [ "$(grep -c -- ' ---> Using cache' "$T/out")" = 3 ]
expect_build cache-no-cache 0 "" --no-cache --platform wasi/wasm -t hello-world2 --iidfile "$T/iid" "$C"
check cache-no-cache-misses [ "$(grep -c -- 'Using cache' "$T/out")" = 0 ]
check cache-no-cache-new-id [ "$(iid)" != "$ID" ]
NOCACHE_ID=$(iid) # a --no-cache build refreshes the cache: later builds reuse its steps
check cache-same-layer [ "$(last_layer "$(iid)")" = "$L" ]
echo "changed" >>"$C/hello_world.wasm"
expect_build cache-changed 0 "" --platform wasi/wasm --iidfile "$T/iid" "$C"
check cache-changed-miss [ "$(grep -c -- 'Using cache' "$T/out")" = 0 ]
check cache-changed-id [ "$(iid)" != "$ID" ]
cp "$HELLO" "$C/hello_world.wasm"
expect_build cache-back 0 "" --platform wasi/wasm --iidfile "$T/iid" "$C"
check cache-back-id [ "$(iid)" = "$NOCACHE_ID" ]
chmod 0600 "$C/hello_world.wasm"
expect_build cache-mode 0 "" --platform wasi/wasm --iidfile "$T/iid" "$C"
check cache-mode-miss [ "$(iid)" != "$NOCACHE_ID" ]
chmod 0755 "$C/hello_world.wasm"
# -q: only the ID
expect_build quiet 0 "" -q --platform wasi/wasm "$C"
check quiet-output [ "$(cat "$T/out")" = "$NOCACHE_ID" ]
# default platform: the host's linux platform, even for a Wasm entrypoint
expect_build default-platform 0 "" --iidfile "$T/iid" "$C"
check default-platform-linux [ "$(cfgq "$(iid)" .os)" = linux ]
check default-platform-arch [ -n "$(cfgq "$(iid)" .architecture)" ]

# ---------------------------------------------------------------- instructions and config
C=$T/full
mkdir -p "$C/src/sub" "$C/docs"
cp "$HELLO" "$C/src/app.wasm"
cp "$HELLO" "$C/src/tool.wasm"
echo data >"$C/src/sub/data.txt"
echo readme >"$C/docs/README.md"
ln -s app.wasm "$C/src/current.wasm"
cat >"$C/Dockerfile" <<'EOF'
ARG BASE=scratch
FROM ${BASE}
ARG VERSION=1.0
ENV APP_HOME=/srv/app GREETING="hello world"
WORKDIR $APP_HOME
COPY src/*.wasm ./bin/
COPY --chmod=0700 src/sub data/
COPY src/current.wasm /links/
LABEL org.opencontainers.image.version=$VERSION maintainer="someone"
EXPOSE 8080 9000-9001/udp
USER 1000:1000
VOLUME /data
STOPSIGNAL SIGINT
ENTRYPOINT ["bin/app.wasm"]
CMD ["--port", "8080"]
EOF
expect_build full 0 "" --platform wasi/wasm --build-arg VERSION=2.5 --build-arg UNUSED=1 -t full:v1 --iidfile "$T/iid" "$C"
ID=$(iid)
check full-env [ "$(cfgq "$ID" '.config.Env | join(";")')" = "APP_HOME=/srv/app;GREETING=hello world" ]
check full-workdir [ "$(cfgq "$ID" .config.WorkingDir)" = /srv/app ]
check full-label [ "$(cfgq "$ID" '.config.Labels["org.opencontainers.image.version"]')" = 2.5 ]
check full-label2 [ "$(cfgq "$ID" .config.Labels.maintainer)" = someone ]
check full-ports [ "$(cfgq "$ID" '.config.ExposedPorts | keys | join(",")')" = "8080/tcp,9000/udp,9001/udp" ]
check full-user [ "$(cfgq "$ID" .config.User)" = 1000:1000 ]
check full-volumes [ "$(cfgq "$ID" '.config.Volumes | keys | join(",")')" = /data ]
check full-stopsignal [ "$(cfgq "$ID" .config.StopSignal)" = SIGINT ]
check full-entrypoint [ "$(cfgq "$ID" '.config.Entrypoint | join(" ")')" = bin/app.wasm ]
check full-cmd [ "$(cfgq "$ID" '.config.Cmd | join(" ")')" = "--port 8080" ]
check full-unused-arg grep -q 'One or more build-args \[UNUSED\] were not consumed' "$T/err"
check full-layers [ "$(layers_of "$ID" | wc -l)" = 4 ] # WORKDIR + 3 COPY
check full-history [ "$(cfgq "$ID" '.history | length')" = 12 ]
LS=$(for l in $(layers_of "$ID"); do listing "$l"; done)
check full-workdir-layer contains "$LS" "drwxr-xr-x 0/0 srv/app/"
check full-glob contains "$LS" "srv/app/bin/app.wasm"
check full-glob2 contains "$LS" "srv/app/bin/tool.wasm"
check full-glob-link-followed contains "$LS" "-rwxr-xr-x 0/0 srv/app/bin/current.wasm"
check full-chmod-file contains "$LS" "-rwx------ 0/0 srv/app/data/data.txt"
check full-chmod-dir contains "$LS" "drwx------ 0/0 srv/app/data/"
check full-symlink-followed contains "$LS" "-rwxr-xr-x 0/0 links/current.wasm"
check full-parents contains "$LS" "drwxr-xr-x 0/0 links/"
# FROM a local image, ENTRYPOINT resets the inherited CMD, shell form warns
cat >"$C/Dockerfile.child" <<'EOF'
FROM full:v1
ENTRYPOINT /srv/app/bin/tool.wasm
COPY docs/README.md .
EOF
expect_build child 0 "warning: ENTRYPOINT in shell form runs [\"/bin/sh\",\"-c\",\"/srv/app/bin/tool.wasm\"]" --platform wasi/wasm -f "$C/Dockerfile.child" --iidfile "$T/iid" "$C"
CH=$(iid)
check child-layers [ "$(layers_of "$CH" | wc -l)" = 5 ]
check child-cmd-reset [ "$(cfgq "$CH" .config.Cmd)" = null ]
check child-env [ "$(cfgq "$CH" '.config.Env[0]')" = APP_HOME=/srv/app ]
check child-relative-dest contains "$(listing "$(last_layer "$CH")")" "srv/app/README.md"
# the directories above a copied file are in its layer as the image has them (as a layer made
# from an overlay's upper directory holds them, BuildKit's): stacked by overlayfs, a layer without
# them would show them as its unpacker made them
check child-parent-dirs contains "$(listing "$(last_layer "$CH")")" "drwxr-xr-x 0/0 srv/app/"
expect_build child-platform-mismatch 1 "image with reference full:v1 was found but does not match the specified platform: wanted linux/amd64, actual: wasi/wasm" --platform linux/amd64 -f "$C/Dockerfile.child" "$C"
# a missing FROM image is pulled; from a registry that is not there (loopback, nothing listens)
printf 'FROM 127.0.0.1:1/nosuchimage:1\n' >"$T/Dockerfile.missing"
expect_build from-missing 1 "Dockerfile.missing:1: FROM: cannot reach the registry at 127.0.0.1:1" -f "$T/Dockerfile.missing" "$C"
# FROM an image only: the same image
printf 'FROM full:v1\n' >"$T/Dockerfile.same"
expect_build from-only 0 "" -f "$T/Dockerfile.same" -t same:1 --iidfile "$T/iid" "$C"
check from-only-id [ "$(iid)" = "$ID" ]

# COPY --from an image, ONBUILD triggers, HEALTHCHECK, SHELL, predefined and global ARGs
cat >"$C/Dockerfile.more" <<'EOF'
ARG BASE
FROM $BASE AS parent
ONBUILD COPY docs/README.md /from-trigger/
HEALTHCHECK --interval=30s --retries=3 CMD ["/srv/app/bin/tool.wasm", "--health"]
SHELL ["/custom/sh", "-e"]
MAINTAINER someone@example.com
FROM scratch
ARG TARGETARCH
COPY --from=full:v1 /srv/app/bin/app.wasm /app.wasm
LABEL arch=$TARGETARCH
CMD ["/app.wasm"]
EOF
expect_build more-parent 0 "" --platform wasi/wasm --build-arg BASE=full:v1 --target parent -t parent:1 --iidfile "$T/iid" -f "$C/Dockerfile.more" "$C"
P=$(iid)
check more-onbuild [ "$(cfgq "$P" '.config.OnBuild[0]')" = "COPY docs/README.md /from-trigger/" ]
check more-health [ "$(cfgq "$P" '.config.Healthcheck | [.Test[0], .Test[1], (.Interval|tostring), (.Retries|tostring)] | join(" ")')" = "CMD /srv/app/bin/tool.wasm 30000000000 3" ]
check more-shell [ "$(cfgq "$P" '.config.Shell | join(" ")')" = "/custom/sh -e" ]
check more-author [ "$(cfgq "$P" .author)" = someone@example.com ]
check more-no-new-layers [ "$(layers_of "$P" | wc -l)" = 4 ]
expect_build more-final 0 "" --platform wasi/wasm --build-arg BASE=full:v1 --iidfile "$T/iid" -f "$C/Dockerfile.more" "$C"
check more-copy-from-image [ "$(listing "$(last_layer "$(iid)")")" = "-rwxr-xr-x 0/0 app.wasm" ]
check more-targetarch [ "$(cfgq "$(iid)" .config.Labels.arch)" = wasm ]
printf 'FROM parent:1\nENV CHILD=1\n' >"$C/Dockerfile.onbuild"
expect_build onbuild-child 0 "" --platform wasi/wasm --iidfile "$T/iid" -f "$C/Dockerfile.onbuild" "$C"
check onbuild-ran grep -q "# Executing 1 build trigger" "$T/out"
check onbuild-layer contains "$(listing "$(last_layer "$(iid)")")" "from-trigger/README.md"
check onbuild-not-inherited [ "$(cfgq "$(iid)" .config.OnBuild)" = null ]

# ---------------------------------------------------------------- .dockerignore, globs, --target
C=$T/ign
mkdir -p "$C/app/node_modules/m" "$C/app/logs"
echo a >"$C/app/main.wasm"
echo m >"$C/app/node_modules/m/x.js"
echo l >"$C/app/logs/1.log"
echo k >"$C/app/logs/keep.log"
echo s >"$C/secret.key"
printf '# ignore\n**/node_modules\napp/logs\n!app/logs/keep.log\n*.key\n' >"$C/.dockerignore"
cat >"$C/Dockerfile" <<'EOF'
FROM scratch AS base
COPY . /ctx/
FROM base AS other
COPY secret.key /
EOF
expect_build ignore 0 "" --target base --iidfile "$T/iid" "$C"
LS=$(listing "$(last_layer "$(iid)")")
check ignore-kept contains "$LS" "ctx/app/main.wasm"
check ignore-exception contains "$LS" "ctx/app/logs/keep.log"
check ignore-dockerfile contains "$LS" "ctx/Dockerfile"
check ignore-excluded bash -c "! grep -qE 'node_modules|1.log|secret.key' <<<\"\$1\"" _ "$LS"
check ignore-target-steps grep -q 'Step 2/2 : COPY . /ctx/' "$T/out"
expect_build ignore-named 1 "Dockerfile:4: COPY failed: file not found in build context or excluded by .dockerignore: stat secret.key: file does not exist" "$C"
expect_build target-missing 1 "failed to reach build target nope in Dockerfile" --target nope "$C"
printf 'FROM scratch\nCOPY app/*.wasm app/logs/keep.log /x\n' >"$C/Dockerfile.multi"
expect_build multi-needs-dir 1 "When using COPY with more than one source file, the destination must be a directory and end with a /" -f "$C/Dockerfile.multi" "$C"
printf 'FROM scratch\nCOPY app/*.none /x/\n' >"$C/Dockerfile.nomatch"
expect_build glob-nomatch 1 "Dockerfile.nomatch:2: COPY: no source files match \"app/*.none\"" -f "$C/Dockerfile.nomatch" "$C"
printf 'FROM scratch\nCOPY **/*.wasm /all/\n' >"$C/Dockerfile.dstar"
expect_build glob-doublestar 0 "" -f "$C/Dockerfile.dstar" --iidfile "$T/iid" "$C"
check glob-doublestar-content contains "$(listing "$(last_layer "$(iid)")")" "all/main.wasm"
# Dockerfile from stdin, no context
out=$(printf 'FROM scratch\nLABEL a=b\n' | "$WB" --root "$R" build -q - 2>&1)
check stdin-dockerfile contains "$out" "sha256:"

# ---------------------------------------------------------------- ADD
C=$T/add
mkdir -p "$C/pkg/lib"
echo one >"$C/pkg/lib/one.txt"
ln -s lib/one.txt "$C/pkg/link"
tar -C "$C/pkg" -czf "$C/bundle.tar.gz" .
tar -C "$C/pkg" -cf "$C/plain.tar" lib
echo note >"$C/note.txt"
cat >"$C/Dockerfile" <<'EOF'
FROM scratch
ADD bundle.tar.gz /opt/
ADD plain.tar /plain
ADD note.txt /etc/note.txt
EOF
expect_build add 0 "" --iidfile "$T/iid" "$C"
LS=$(for l in $(layers_of "$(iid)"); do listing "$l"; done)
check add-extracted contains "$LS" "opt/lib/one.txt"
check add-symlink contains "$LS" "opt/link -> lib/one.txt"
check add-plain contains "$LS" "plain/lib/one.txt"
check add-file contains "$LS" "etc/note.txt"
check add-no-archive bash -c "! grep -q 'bundle.tar.gz' <<<\"\$1\"" _ "$LS"
printf 'FROM scratch\nADD https://example.com/x.tar.gz /x/\n' >"$C/Dockerfile.url"
expect_build add-url 1 "Dockerfile.url:2: ADD https://example.com/x.tar.gz: sources from a URL are not supported" -f "$C/Dockerfile.url" "$C"
python3 - "$C/evil.tar" <<'EOF'
import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w")
i = tarfile.TarInfo("../../escape.txt"); i.size = 1; t.addfile(i, io.BytesIO(b"x"))
t.close()
EOF
printf 'FROM scratch\nADD evil.tar /x/\n' >"$C/Dockerfile.evil"
expect_build add-evil 1 "leads outside" -f "$C/Dockerfile.evil" "$C"
check add-evil-nothing-written [ ! -e "$T/escape.txt" ] && [ ! -e "$R/escape.txt" ]

# ---------------------------------------------------------------- the context is a sandbox
C=$T/sandbox
mkdir -p "$C/in" "$T/outside"
echo secret >"$T/outside/secret.txt"
ln -s ../../outside/secret.txt "$C/in/up-link"
ln -s "$T/outside/secret.txt" "$C/in/abs-link"
ln -s ../../outside "$C/dir-link"
echo ok >"$C/in/ok.txt"
for case in "COPY ../outside/secret.txt /x|forbidden path outside the build context: ../outside/secret.txt" \
    "COPY in/../../outside/secret.txt /x|forbidden path outside the build context" \
    "COPY in/up-link /x|the symlink leads outside the build context" \
    "COPY in/abs-link /x|the symlink leads outside the build context" \
    "COPY dir-link/secret.txt /x|the symlink leads outside the build context" \
    "COPY $T/outside/secret.txt /x|file not found in build context"; do
    printf 'FROM scratch\n%s\n' "${case%%|*}" >"$C/Dockerfile"
    expect_build "sandbox: ${case%%|*}" 1 "${case#*|}" "$C"
    check "sandbox-line: ${case%%|*}" grep -q "Error: Dockerfile:2: COPY" "$T/err"
done
# a symlink inside a copied directory is copied as a symlink (its target is not read)
printf 'FROM scratch\nCOPY in /in/\n' >"$C/Dockerfile"
expect_build sandbox-dir-links 0 "" --iidfile "$T/iid" "$C"
LS=$(listing "$(last_layer "$(iid)")")
check sandbox-link-kept contains "$LS" "in/abs-link -> $T/outside/secret.txt"
check sandbox-no-secret bash -c "! tar -xzOf \"\$1\" 2>/dev/null | grep -q secret" _ "$(blob "$(last_layer "$(iid)")")"

# ---------------------------------------------------------------- bad Dockerfiles
C=$T/bad
mkdir -p "$C"
bad_df() { # NAME DOCKERFILE-TEXT EXPECTED-MESSAGE
    printf '%b' "$2" >"$C/Dockerfile"
    expect_build "$1" 1 "$3" "$C"
}
bad_df run 'FROM --platform=wasi/wasm scratch\nENV A=1\n\nRUN echo hi\n' "Error: Dockerfile:4: RUN: this stage's platform is wasi/wasm"
bad_df unknown 'FROM scratch\nCOPY a b\nFRM x\n' "Dockerfile:3: unknown instruction: FRM"
bad_df json 'FROM scratch\nENTRYPOINT ["/a.wasm",]\n' "Dockerfile:2: ENTRYPOINT: invalid JSON array"
bad_df json-type 'FROM scratch\nCMD ["a", 1]\n' "Dockerfile:2: CMD: invalid JSON array: element 2 is not a string"
bad_df heredoc 'FROM scratch\nCOPY <<EOF /x\nhi\nEOF\n' "Dockerfile:2: COPY: heredocs"
bad_df no-from 'ENV A=1\nFROM scratch\n' "Dockerfile:1: ENV before the first FROM"
bad_df empty '# nothing\n' "the Dockerfile cannot be empty"
bad_df scratch-only 'FROM scratch\n' "No image was generated. Is your Dockerfile empty?"
bad_df bad-flag 'FROM scratch\nCOPY --form=x a b\n' "Dockerfile:2: unknown flag for COPY: --form"
bad_df bad-chmod 'FROM scratch\nCOPY --chmod=999 Dockerfile /\n' "Dockerfile:2: COPY: invalid --chmod=999"
bad_df bad-chown 'FROM scratch\nCOPY --chown=nosuch Dockerfile /\n' "Dockerfile:2: COPY --chown=nosuch: unable to convert uid/gid chown string to host mapping: can't find uid for user nosuch"
bad_df bad-subst 'FROM scratch\nENV A="${B:?B must be set}"\n' "Dockerfile:2: ENV: B: B must be set"
bad_df bad-expose 'FROM scratch\nEXPOSE 99999\n' "Dockerfile:2: EXPOSE: invalid port \"99999\""
bad_df bad-stage 'FROM scratch\nCOPY --from=later /x /y\nFROM scratch AS later\n' "Dockerfile:2: COPY --from=later: stage later comes at or after this one"
bad_df bad-escape '# escape=x\nFROM scratch\n' "Dockerfile:1: invalid escape"
expect_build missing-dockerfile 1 "Cannot locate specified Dockerfile: nope.Dockerfile" -f nope.Dockerfile "$C"
expect_build bad-tag 125 'invalid argument "UPPER" for "-t, --tag" flag: invalid reference format' -t UPPER "$C"
expect_build bad-platform 1 "invalid platform" --platform "wasi/" "$C"
expect_build no-context 125 '"wasmbox build" requires exactly 1 argument' 
check no-image-from-failures [ "$(jq '[.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == null)] | length' "$R/images/index.json")" -ge 0 ]

# ---------------------------------------------------------------- kill -9 durability
C=$T/big
mkdir -p "$C/a" "$C/b" "$C/c"
for d in a b c; do
    for i in 1 2 3 4 5 6; do head -c 3000000 /dev/urandom >"$C/$d/f$i.bin"; done
done
cat >"$C/Dockerfile" <<'EOF'
FROM scratch
COPY a /a/
COPY b /b/
COPY c /c/
ENV DONE=1
EOF
DR=$T/kill-root
killed=0
for delay in 0.05 0.3 0.8 1.2 1.6 2.0 2.5 0.5 1.0 1.8; do
    # --no-cache: every run redoes (and re-caches) each step, so the kills land all over it
    "$WB" --root "$DR" build --no-cache -t big:latest "$C" >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
    wait "$pid" 2>/dev/null
done
echo "kill -9: $killed builds killed; $(find "$DR/images/buildcache" -maxdepth 1 -type f | wc -l) cached steps survived"
check kill-some-killed [ "$killed" -ge 6 ]
# whatever got killed where: the index is valid JSON and names only complete images
store_consistent() {
    local root=$1 m c l
    [ ! -e "$root/images/index.json" ] && return 0
    jq -e '.manifests | type == "array"' "$root/images/index.json" >/dev/null || return 1
    for m in $(jq -r '.manifests[].digest' "$root/images/index.json"); do
        [ -f "$root/images/blobs/sha256/${m#sha256:}" ] || return 1
        c=$(jq -r .config.digest "$root/images/blobs/sha256/${m#sha256:}")
        [ -f "$root/images/blobs/sha256/${c#sha256:}" ] || return 1
        for l in $(jq -r '.layers[].digest' "$root/images/blobs/sha256/${m#sha256:}"); do
            [ -f "$root/images/blobs/sha256/${l#sha256:}" ] || return 1
        done
    done
    # every blob holds what its name says
    for f in "$root"/images/blobs/sha256/*; do
        [ -e "$f" ] || continue
        [ "$(sha256sum <"$f" | cut -c1-64)" = "$(basename "$f")" ] || return 1
    done
    return 0
}
check kill-store-consistent store_consistent "$DR"
"$WB" --root "$DR" build -t big:latest --iidfile "$T/iid" "$C" >"$T/out" 2>"$T/err"
check kill-then-build [ $? = 0 ]
check kill-store-consistent-after store_consistent "$DR"
R=$DR
check kill-image-layers [ "$(layers_of "$(iid)" | wc -l)" = 3 ]
ok_diff=1
i=0
for l in $(layers_of "$(iid)"); do
    [ "sha256:$(gzip -dc <"$(blob "$l")" | sha256sum | cut -c1-64)" = "$(cfgq "$(iid)" ".rootfs.diff_ids[$i]")" ] || ok_diff=0
    i=$((i + 1))
done
check kill-image-diffids [ "$ok_diff" = 1 ]
check kill-index-tag jq -e '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "docker.io/library/big:latest")' "$DR/images/index.json" >/dev/null
check kill-no-tmp-left bash -c "[ -z \"\$(ls -A \"\$1/images/buildcache/tmp\" 2>/dev/null)\" ]" _ "$DR"
"$WB" --root "$DR" build -t big:latest --iidfile "$T/iid2" "$C" >"$T/out" 2>"$T/err"
check kill-rebuild-cached [ "$(cat "$T/iid2")" = "$(iid)" ] && [ "$(grep -c 'Using cache' "$T/out")" = 4 ]

echo "build: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
