#!/usr/bin/env bash
# The slight application runtime (io.containerd.slight.v1, issue #19 step 3): an app in C built here
# for wasm32-wasi against slight's wit-bindgen 0.2 ABI (tests/apps/slight/app.c), in an image with
# /slightfile.toml and /app.wasm, run with `run -d --runtime=io.containerd.slight.v1 -p PORT:3000`:
# the router the app builds (GET/PUT/POST/DELETE, :params), each request on a fresh instance
# calling the handler's export, headers and bodies both ways, keyvalue.filesystem across requests
# and restarts, configs.envvars, messaging.filesystem, failing handlers; an app that serves nothing (its exit code), a
# store counted across runs; apps that must not start; Compose's `runtime:`.
# Needs root, nft and clang for wasm32-wasi; skips with a message otherwise.
# Usage: BUILD=build bash tests/linux/slight.sh   (prints "slight: P passed, F failed")
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
WB=$(cd "$(dirname "$BUILD/wasmbox")" && pwd)/wasmbox
passed=0
failed=0
T=$(mktemp -d)
WASI_CC=(clang --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Wextra -Werror -Wl,--strip-debug)
if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null || ! command -v curl >/dev/null ||
    ! "${WASI_CC[@]}" -o "$T/app.wasm" "$TOP/tests/apps/slight/app.c" 2>/dev/null; then
    echo "slight: skipped: needs root, nft, curl and clang for wasm32-wasi (scripts/deps.sh)"
    echo "slight: 0 passed, 0 failed, 1 skipped"
    rm -rf "$T"
    exit 0
fi
export WASMBOX_ROOT=$T/root WASMBOX_PRECOMPILE=0
cleanup() {
    "$WB" ps -aq 2>/dev/null | xargs -r "$WB" rm -f >/dev/null 2>&1
    "$WB" network prune -f >/dev/null 2>&1
    rm -rf "$T"
}
trap cleanup EXIT
# shellcheck source=tests/linux/harness.sh
. "$TOP/tests/linux/harness.sh"
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
get() { curl -s -m 10 "$@"; }
code() { curl -s -m 10 -o /dev/null -w '%{http_code}' "$@"; }
image() { # TAG SLIGHTFILE-TEXT
    local d=$T/img-$1
    mkdir -p "$d"
    cp "$T/app.wasm" "$d/"
    printf '%s\n' "$2" >"$d/slightfile.toml"
    printf 'FROM scratch\nCOPY . /\n' >"$d/Dockerfile"
    "$WB" build -q --platform wasi/wasm -t "$1" "$d" >/dev/null || fail "build $1"
}
image slight-app 'specversion = "0.2"

[[capability]]
resource = "http"
name = "my-rest-api"

[[capability]]
resource = "keyvalue.filesystem"
name = "my-store"

[[capability]]
resource = "configs.envvars"
name = "my-configs"

[[capability]]
resource = "messaging.filesystem"
name = "my-queue"'
P=$(free_port)
U=http://127.0.0.1:$P
expect run-detached 0 "" "" -- bash -c "'$WB' run -d --name app --runtime=io.containerd.slight.v1 -e GREETING=hi -p $P:3000 slight-app >/dev/null"
check server-up wait_for 20 curl -sf -o /dev/null "$U/hello"
expect hello 0 "Hello from slight (method 0, /hello?x=1, x-test yes)" "" -- get -H 'X-Test: yes' "$U/hello?x=1"
expect answer-header 0 "text/plain" "" -- bash -c "curl -s -m 10 -o /dev/null -w '%{content_type}' $U/hello"
expect post-body 0 "201 a body" "" -- bash -c "curl -s -m 10 -w '%{http_code} ' -o $T/post -d 'a body' $U/echo; cat $T/post"
expect wrong-method 0 "404" "" -- code -X POST "$U/hello"
expect no-route 0 "404" "" -- code "$U/nowhere"
expect kv-missing 0 "404 error 0: color" "" -- bash -c "curl -s -m 10 -w '%{http_code} ' -o $T/kv $U/kv/color; cat $T/kv"
expect kv-put 0 "set color ok" "" -- get -X PUT -d blue "$U/kv/color"
expect kv-get 0 "blue" "" -- get "$U/kv/color"
expect kv-put-2 0 "set size ok" "" -- get -X PUT -d 9 "$U/kv/size"
expect kv-keys 0 "color,size" "" -- get "$U/keys"
expect kv-delete 0 "deleted" "" -- get -X DELETE "$U/kv/size"
expect kv-keys-after 0 "color" "" -- get "$U/keys"
expect config 0 "hi" "" -- get "$U/config/GREETING"
expect config-missing 0 "error 0: no environment variable \`NOPE\`" "" -- get "$U/config/NOPE"
# messaging: a queue per topic, each message received once, in order; receive waits for one
expect publish-1 0 "published" "" -- get -d one "$U/publish/news"
expect publish-2 0 "published" "" -- get -d two "$U/publish/news"
expect receive-1 0 "one" "" -- get "$U/receive/news"
expect receive-2 0 "two" "" -- get "$U/receive/news"
expect receive-waits 0 "later" "" -- bash -c "curl -s -m 15 $U/receive/waiting >$T/recv & sleep 1; curl -s -m 5 -d later $U/publish/waiting >/dev/null; wait; cat $T/recv"
expect fresh-1 0 "runs=1" "" -- get "$U/fresh"
expect fresh-2 0 "runs=1" "" -- get "$U/fresh"
expect trap-500 0 "500" "" -- code "$U/trap"
expect error-500 0 "500" "" -- code "$U/fail"
expect missing-export-500 0 "500" "" -- code "$U/missing"
expect fresh-after-trap 0 "runs=1" "" -- get "$U/fresh"
expect concurrent 0 "40 runs=1" "" -- bash -c \
    "seq 40 | xargs -P 8 -I{} curl -s -m 20 $U/fresh -o $T/fresh.{}; echo \$(ls $T/fresh.* | wc -l) \$(for f in $T/fresh.*; do cat \$f; echo; done | sort -u)"
sleep 0.3
"$WB" logs app >"$T/out.log" 2>"$T/err.log"
check logs-app-output grep -q "app: serve started" "$T/out.log"
check logs-routes grep -q 'PUT /kv/:key => handle-kv-put' "$T/out.log"
check logs-trap grep -q 'slight: handler `handle-trap`: .*unreachable' "$T/err.log"
check logs-missing grep -q 'slight: handler `handle-missing`: /app.wasm exports no `handle-missing`' "$T/err.log"
expect restart 0 "app" "" -- "$WB" restart -t 5 app
check server-up-again wait_for 20 curl -sf -o /dev/null "$U/hello"
expect kv-after-restart 0 "blue" "" -- get "$U/kv/color"
expect stop 0 "app" "" -- "$WB" stop -t 5 app
expect stopped-exit-code 0 "0" "" -- "$WB" inspect --format '{{.State.ExitCode}}' app

# ---- apps that serve nothing: their exit code; a store across runs ----
expect no-server-exit-code 7 "app: nothing to serve" "" -- "$WB" run --rm --runtime=slight -e SLIGHT_MODE=exit slight-app
expect kv-run-1 0 "app: start 1" "" -- "$WB" run --name kv1 --runtime=slight -e SLIGHT_MODE=kv slight-app
expect kv-run-2 0 "app: start 2" "" -- "$WB" start -a kv1

# ---- apps that must not start ----
image slight-redis 'specversion = "0.2"
[[capability]]
resource = "keyvalue.redis"
name = "r"'
expect unsupported-capability 125 "" 'slight: capability `keyvalue.redis` (`r`) is not supported' -- "$WB" run --rm --runtime=slight slight-redis
image slight-version 'specversion = "9"'
expect bad-specversion 125 "" '`specversion` must be "0.1" or "0.2"' -- "$WB" run --rm --runtime=slight slight-version
image slight-no-http 'specversion = "0.2"
[[capability]]
resource = "keyvalue.filesystem"
name = "my-store"'
expect serve-without-http 0 "app: serve failed" "slight: server::serve: /slightfile.toml has no \`http\` capability" -- "$WB" run --rm --runtime=slight slight-no-http
mkdir -p "$T/none" && cp "$T/app.wasm" "$T/none/" && printf 'FROM scratch\nCOPY . /\n' >"$T/none/Dockerfile"
"$WB" build -q --platform wasi/wasm -t slight-none "$T/none" >/dev/null || fail "build slight-none"
expect no-slightfile 125 "" 'slight: no /slightfile.toml in the container' -- "$WB" run --rm --runtime=slight slight-none
mkdir -p "$T/imp" && printf '(module (import "blob" "blob::open" (func (param i32 i32 i32))) (func (export "_start")))' >"$T/imp.wat"
wat2wasm "$T/imp.wat" -o "$T/imp/app.wasm" && printf 'specversion = "0.2"\n' >"$T/imp/slightfile.toml" && printf 'FROM scratch\nCOPY . /\n' >"$T/imp/Dockerfile"
"$WB" build -q --platform wasi/wasm -t slight-imp "$T/imp" >/dev/null || fail "build slight-imp"
expect unsupported-import 125 "" 'slight: /app.wasm imports `blob`.`blob::open`, which is not provided' -- "$WB" run --rm --runtime=slight slight-imp

# ---- Compose: runtime: maps to the same code ----
P2=$(free_port)
mkdir -p "$T/compose"
cat >"$T/compose/compose.yaml" <<YAML
services:
  web:
    image: slight-app
    runtime: io.containerd.slight.v1
    environment:
      GREETING: compose
    ports:
      - "$P2:3000"
YAML
expect compose-up 0 "" "" -- bash -c "cd '$T/compose' && '$WB' compose -p slightt up -d >/dev/null 2>&1"
check compose-serving wait_for 20 curl -sf -o /dev/null "http://127.0.0.1:$P2/hello"
expect compose-config 0 "compose" "" -- get "http://127.0.0.1:$P2/config/GREETING"
expect compose-down 0 "" "" -- bash -c "cd '$T/compose' && '$WB' compose -p slightt down >/dev/null 2>&1"

echo "slight: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
