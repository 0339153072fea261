#!/usr/bin/env bash
# End-to-end tests of Dockerfile RUN (issue #13): shell, exec and heredoc forms, SHELL, ENV/ARG
# visibility, WORKDIR and USER, RUN's layers (whiteouts, opaque directories, owners, no layer for a
# RUN that changes nothing, valid diff_ids), the step cache, a failing RUN, --network=none, COPY
# --chown with names, FROM --platform=$BUILDPLATFORM with the automatic platform args, and the
# seed's pattern: a Debian build stage, then FROM scratch + COPY --link --from + a Wasm entrypoint
# built with --platform wasi/wasm. Bases: the test images of scripts/test-images.sh (busybox,
# debian:bookworm). Needs root (RUN runs Linux containers).
# Usage: BUILD=build bash tests/e2e/build_run.sh   (prints "build-run: P passed, F failed")
set -uo pipefail
BUILD=${BUILD:-build}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
WB=${WB:-$BUILD/wasmbox}
WB=$(cd "$(dirname "$WB")" && pwd)/$(basename "$WB")
if [ "$(id -u)" != 0 ]; then
    echo "build-run: skipped: RUN needs root (its build containers are Linux containers)"
    echo "build-run: 0 passed, 0 failed"
    exit 0
fi
for tool in jq tar gzip sha256sum; do
    if ! command -v $tool >/dev/null; then
        echo "build-run: $tool is missing (scripts/deps.sh installs it)"
        echo "build-run: 0 passed, 1 failed"
        exit 1
    fi
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
R=$T/root
passed=0
failed=0
HELLO=$TOP/$BUILD/examples/hello/hello.wasm
[ -f "$HELLO" ] || HELLO=$BUILD/examples/hello/hello.wasm

ok() { passed=$((passed + 1)); }
bad() {
    failed=$((failed + 1))
    echo "FAIL $1"
    [ -n "${2:-}" ] && echo "  $2"
    return 0
}
check() { # check NAME CONDITION-COMMAND...
    local name=$1
    shift
    if "$@"; then ok; else bad "$name" "$*"; fi
}
wbuild() { "$WB" --root "$R" build "$@" >"$T/out" 2>"$T/err"; }
# build_ok NAME ARGS... : a build that must succeed (image ID in $T/iid)
build_ok() {
    local name=$1
    shift
    if wbuild --iidfile "$T/iid" "$@"; then ok; else
        bad "$name" "exit $?; stderr: $(head -c 800 "$T/err"); stdout tail: $(tail -n 5 "$T/out")"
        echo none >"$T/iid"
    fi
}
iid() { cat "$T/iid"; }
blob() { echo "$R/images/blobs/sha256/${1#sha256:}"; }
cfgq() { jq -r "$2" "$(blob "$1")" 2>/dev/null; }
manifest_of() {
    jq -r --arg c "$1" '.manifests[] | select(.annotations["io.wasmbox.image.config"] == $c) | .digest' \
        "$R/images/index.json" | head -n 1
}
layers_of() { jq -r '.layers[].digest' "$(blob "$(manifest_of "$1")")" 2>/dev/null; }
last_layer() { layers_of "$1" | tail -n 1; }
listing() { tar -tvzf "$(blob "$1")" | awk '{print $1, $2, $6 ($7 ? " " $7 " " $8 : "")}'; }
contains() { grep -qF -- "$2" <<<"$1"; }
wrun() { "$WB" --root "$R" run --rm "$@" 2>&1; }
diffids_valid() { # every layer's uncompressed digest is the config's diff_id, in order
    local id=$1 i=0 l
    [ "$(layers_of "$id" | wc -l)" = "$(cfgq "$id" '.rootfs.diff_ids | length')" ] || return 1
    for l in $(layers_of "$id"); do
        [ "sha256:$(gzip -dc <"$(blob "$l")" | sha256sum | cut -c1-64)" = \
            "$(cfgq "$id" ".rootfs.diff_ids[$i]")" ] || return 1
        i=$((i + 1))
    done
}

for img in busybox debian; do
    if ! WASMBOX_ROOT=$R bash "$TOP/scripts/test-images.sh" load $img "$WB" >"$T/load" 2>&1; then
        echo "build-run: cannot make the $img test image: $(tail -n 3 "$T/load")"
        echo "build-run: 0 passed, 1 failed"
        exit 1
    fi
done
BASE_LAYERS=$("$WB" --root "$R" image inspect --format '{{len .RootFS.Layers}}' busybox)

# ---------------------------------------------------------------- forms, env, WORKDIR, USER
C=$T/forms
mkdir -p "$C"
cat >"$C/Dockerfile" <<'DOCKERFILE'
FROM busybox
ARG A1=from-arg
ENV E1=from-env
RUN echo "a1=$A1 e1=$E1" > /env.txt
RUN ["/bin/sh", "-c", "echo exec-form > /exec.txt"]
WORKDIR /work
RUN pwd > /pwd.txt && touch here
USER 1000
RUN id -u > /tmp/uid.txt
USER root
RUN true
RUN <<EOF
echo "heredoc $((6 * 7))" > /heredoc.txt
echo line2 >> /heredoc.txt
EOF
RUN <<EOT sh -e
cat > /fed.txt
EOT
RUN <<-EOT cat > /tabs.txt
	tab-stripped
	EOT
DOCKERFILE
build_ok forms-build -t forms "$C"
ID=$(iid)
check forms-running-shown grep -q "^ ---> Running in " "$T/out"
check forms-env-arg [ "$(wrun forms cat /env.txt)" = "a1=from-arg e1=from-env" ]
check forms-exec [ "$(wrun forms cat /exec.txt)" = "exec-form" ]
check forms-workdir [ "$(wrun forms cat /pwd.txt)" = "/work" ]
check forms-workdir-file [ "$(wrun forms ls /work)" = "here" ]
check forms-user [ "$(wrun forms cat /tmp/uid.txt)" = "1000" ]
check forms-heredoc [ "$(wrun forms cat /heredoc.txt)" = "$(printf 'heredoc 42\nline2')" ]
check forms-heredoc-shell-stdin [ "$(wrun forms cat /fed.txt)" = "" ]
check forms-heredoc-chomp [ "$(wrun forms cat /tabs.txt)" = "tab-stripped" ]
check forms-arg-not-in-env bash -c "! jq -e '.config.Env[] | select(startswith(\"A1=\"))' \"\$1\" >/dev/null" _ "$(blob "$ID")"
# layers: one per RUN that changed something (RUN true and the uid-only RUN's /tmp file do count)
NRUN_LAYERS=$((BASE_LAYERS + 8)) # 7 RUNs that write + WORKDIR's directory; RUN true none
check forms-layer-count [ "$(layers_of "$ID" | wc -l)" = "$NRUN_LAYERS" ]
check forms-empty-run-history [ "$(cfgq "$ID" '[.history[] | select(.created_by == "RUN true")][0].empty_layer')" = true ]
check forms-diffids diffids_valid "$ID"
# the build-arg changes the RUN that reads it (and nothing before)
build_ok forms-buildarg --build-arg A1=override -t forms2 "$C"
check forms-buildarg-value [ "$(wrun forms2 cat /env.txt)" = "a1=override e1=from-env" ]
check forms-no-tmp-left bash -c "[ -z \"\$(ls -A \"\$1/images/buildcache/tmp\" 2>/dev/null)\" ]" _ "$R"

# ---------------------------------------------------------------- whiteouts and opaque dirs
C=$T/wh
mkdir -p "$C"
cat >"$C/Dockerfile" <<'EOF'
FROM busybox
RUN mkdir -p /d/sub && touch /d/sub/f /d/g /d/keep && echo x > /own && chown 1000:100 /own && chmod 4755 /own
RUN rm /d/g && rm -rf /d/sub && mkdir /d/sub && touch /d/sub/new && rm /bin/vi
EOF
build_ok wh-build -t wh "$C"
ID=$(iid)
L=$(listing "$(last_layer "$ID")")
check wh-whiteout-file contains "$L" "d/.wh.g"
check wh-whiteout-bin contains "$L" "bin/.wh.vi"
check wh-opaque contains "$L" "d/sub/.wh..wh..opq"
check wh-new-file contains "$L" "d/sub/new"
PREV=$(layers_of "$ID" | tail -n 2 | head -n 1)
check wh-owner-setuid bash -c "tar -tvzf \"\$1\" | grep -q '^-rwsr-xr-x 1000/100 .* own\$'" _ "$(blob "$PREV")"
check wh-image-gone [ "$(wrun wh sh -c 'ls /d; ls /d/sub; ls /bin/vi 2>&1 >/dev/null | wc -l')" = "$(printf 'keep\nsub\nnew\n1')" ]
check wh-diffids diffids_valid "$ID"

# ---------------------------------------------------------------- the step cache
wbuild --iidfile "$T/iid2" -t wh "$T/wh"
check cache-reused [ "$(cat "$T/iid2")" = "$ID" ]
check cache-all-cached [ "$(grep -c ' ---> Using cache' "$T/out")" = 2 ]
check cache-not-run bash -c "! grep -q 'Running in' \"\$1\"" _ "$T/out"
wbuild --no-cache --iidfile "$T/iid2" -t wh "$T/wh"
check cache-no-cache-reruns [ "$(grep -c 'Running in' "$T/out")" = 2 ]
check cache-no-cache-no-hits bash -c "! grep -q 'Using cache' \"\$1\"" _ "$T/out"
# a cached RUN, then a new RUN that sees its files (the root rebuilt from the cached layer)
printf 'RUN test -u /own && stat -c %%u:%%g /own > /owner.txt && ls /d/sub > /sub.txt\n' >>"$T/wh/Dockerfile"
build_ok cache-then-run -t wh3 "$T/wh"
check cache-then-run-hits [ "$(grep -c ' ---> Using cache' "$T/out")" = 2 ]
check cache-then-run-owner [ "$(wrun wh3 cat /owner.txt)" = "1000:100" ]
check cache-then-run-sub [ "$(wrun wh3 cat /sub.txt)" = "new" ]

# ---------------------------------------------------------------- a failing RUN
C=$T/fail
mkdir -p "$C"
printf 'FROM busybox\nENV A=1\nRUN echo before; false\nRUN echo never\n' >"$C/Dockerfile"
before=$(jq '.manifests | length' "$R/images/index.json")
wbuild -t failing "$C"
rc=$?
check fail-exit [ "$rc" = 1 ]
check fail-message grep -qF 'Error: Dockerfile:3: RUN echo before; false: process "/bin/sh -c echo before; false" did not complete successfully: exit code: 1' "$T/err"
check fail-output-shown grep -q '^before$' "$T/out"
check fail-nothing-registered [ "$(jq '.manifests | length' "$R/images/index.json")" = "$before" ]
check fail-no-tag bash -c "! \"\$1\" --root \"\$2\" image inspect failing >/dev/null 2>&1" _ "$WB" "$R"
check fail-no-tmp-left bash -c "[ -z \"\$(ls -A \"\$1/images/buildcache/tmp\" 2>/dev/null)\" ]" _ "$R"
printf 'FROM busybox\nRUN ["/nonexistent"]\n' >"$C/Dockerfile"
wbuild "$C"
rc=$?
check fail-notfound [ "$rc" = 1 ] && check fail-notfound-message grep -qF 'Dockerfile:2: RUN ["/nonexistent"]:' "$T/err"
printf 'FROM busybox\nRUN echo loud\n' >"$C/Dockerfile"
"$WB" --root "$R" build -q --no-cache "$C" >"$T/out" 2>"$T/err"
check fail-quiet-build bash -c "[ \"\$(wc -l <\"\$1\")\" = 1 ] && grep -q '^sha256:' \"\$1\"" _ "$T/out"
printf 'FROM busybox\nRUN --network=bridge true\n' >"$C/Dockerfile"
wbuild "$C"
check fail-network-mode grep -qF 'Dockerfile:2: RUN --network=bridge: unsupported network mode' "$T/err"

# ---------------------------------------------------------------- the network
C=$T/net
mkdir -p "$C"
cat >"$C/Dockerfile" <<'EOF'
FROM busybox
RUN --network=none ls /sys/class/net > /none.txt
RUN ls /sys/class/net > /default.txt
RUN --network=host ls /sys/class/net > /host.txt
EOF
build_ok net-build -t net "$C"
HOSTNETS=$(ls /sys/class/net | sort)
check net-none [ "$(wrun net cat /none.txt)" = "lo" ]
check net-default-host [ "$(wrun net cat /default.txt | sort)" = "$HOSTNETS" ]
check net-host [ "$(wrun net cat /host.txt | sort)" = "$HOSTNETS" ]

# ---------------------------------------------------------------- Debian: COPY --chown, SHELL, apt
C=$T/deb
mkdir -p "$C"
echo data >"$C/f.txt"
cat >"$C/Dockerfile" <<'DOCKERFILE'
FROM debian:bookworm
RUN useradd -m -u 1234 app && groupadd -g 2345 grp
COPY --chown=app:grp f.txt /home/app/f.txt
COPY --link --chown=4321 f.txt /num.txt
USER app
RUN echo mine >> /home/app/f.txt && stat -c '%u:%g' /home/app/f.txt /num.txt > /home/app/owners.txt
USER root
SHELL ["/bin/bash", "-c"]
RUN [[ -n $BASH_VERSION ]] && echo bash > /shell.txt
RUN <<EOF
#!/usr/bin/perl
open(my $f, '>', '/perl.txt'); print $f "perl " . (6 * 7) . "\n";
EOF
DOCKERFILE
build_ok deb-build -t deb "$C"
ID=$(iid)
found=0
for l in $(layers_of "$ID"); do
    tar -tvzf "$(blob "$l")" | grep -q '1234/2345 .* home/app/f.txt$' && found=1
done
check deb-chown-layer [ "$found" = 1 ]
check deb-chown-in-run [ "$(wrun deb cat /home/app/owners.txt)" = "$(printf '1234:2345\n4321:4321')" ]
check deb-chown-written [ "$(wrun deb cat /home/app/f.txt)" = "$(printf 'data\nmine')" ]
check deb-shell [ "$(wrun deb cat /shell.txt)" = "bash" ]
check deb-shebang-heredoc [ "$(wrun deb cat /perl.txt)" = "perl 42" ]
check deb-diffids diffids_valid "$ID"
printf 'FROM debian:bookworm\nCOPY --chown=nosuch f.txt /x\n' >"$C/Dockerfile.bad"
wbuild -f "$C/Dockerfile.bad" "$C"
check deb-chown-unknown grep -qF "Dockerfile.bad:2: COPY --chown=nosuch: unable to convert uid/gid chown string to host mapping: can't find uid for user nosuch" "$T/err"

# apt through the host's network, when the mirror is reachable
if timeout 5 bash -c 'exec 3<>/dev/tcp/deb.debian.org/80' 2>/dev/null; then
    printf 'FROM debian:bookworm\nRUN apt-get update -qq && apt-get install -y -qq --no-install-recommends netbase >/dev/null && rm -rf /var/lib/apt/lists/*\n' >"$C/Dockerfile.apt"
    build_ok apt-build -f "$C/Dockerfile.apt" -t apt "$C"
    check apt-installed [ "$(wrun apt sh -c 'dpkg-query -W -f "\${Status}" netbase')" = "install ok installed" ]
else
    echo "build-run: note: deb.debian.org:80 is not reachable from this host; the apt-get case is skipped"
fi

# ---------------------------------------------------------------- the seed's pattern
C=$T/seed
mkdir -p "$C"
cp "$HELLO" "$C/hello.wasm"
cat >"$C/Dockerfile" <<'EOF'
FROM --platform=$BUILDPLATFORM debian:bookworm AS build
ARG BUILDPLATFORM
ARG TARGETPLATFORM
ARG TARGETARCH
ARG TARGETOS
COPY hello.wasm /src/
RUN echo "build=$BUILDPLATFORM target=$TARGETPLATFORM os=$TARGETOS arch=$TARGETARCH" > /platforms.txt \
    && cp /src/hello.wasm /out.wasm
FROM scratch
COPY --link --from=build /out.wasm /x.wasm
ENTRYPOINT ["/x.wasm"]
EOF
build_ok seed-build --platform wasi/wasm -t seed "$C"
ID=$(iid)
HOSTARCH=$(uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')
check seed-platform [ "$(cfgq "$ID" '.os + "/" + .architecture')" = "wasi/wasm" ]
check seed-one-layer [ "$(layers_of "$ID" | wc -l)" = 1 ]
check seed-runs [ "$("$WB" --root "$R" run --rm seed 2>&1)" = "Hello from WebAssembly!" ]
wbuild --platform wasi/wasm --target build -t seedstage "$C"
check seed-stage-host-platform [ "$("$WB" --root "$R" image inspect --format '{{.Os}}/{{.Architecture}}' seedstage)" = "linux/$HOSTARCH" ]
check seed-args [ "$(wrun seedstage cat /platforms.txt)" = "build=linux/$HOSTARCH target=wasi/wasm os=wasi arch=wasm" ]
# without --platform=$BUILDPLATFORM the Debian stage would be asked for wasi/wasm
sed 's/^FROM --platform=\$BUILDPLATFORM /FROM /' "$C/Dockerfile" >"$C/Dockerfile.noplat"
wbuild --platform wasi/wasm -f "$C/Dockerfile.noplat" "$C"
check seed-needs-buildplatform grep -qF "does not match the specified platform: wanted wasi/wasm" "$T/err"

echo "build-run: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
