#!/usr/bin/env bash
# The wws application runtime (io.containerd.wws.v1, issue #19 step 1): an app of C workers built
# here for wasm32-wasi (tests/apps/wws/), put in an image with `wasmbox build` (FROM scratch, the
# folder at "/"), run with `run -d --runtime=io.containerd.wws.v1 -p PORT:3000`: static, dynamic
# and tail routes and their priority, public/ files, kv across requests, folders, vars, base64
# answers, an interpreted worker through an external runtime of /.wws.toml, a .js worker with no
# runtime, failing workers, `logs`; then apps that must not start (malformed TOML, a module that
# is not Wasm, an import wasmbox does not provide) and Compose's `runtime:`.
# Needs root, nft and clang for wasm32-wasi; skips with a message otherwise.
# Usage: BUILD=build bash tests/linux/wws.sh   (prints "wws: P passed, F failed")
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
WB=$(cd "$(dirname "$BUILD/wasmbox")" && pwd)/wasmbox
passed=0
failed=0
T=$(mktemp -d)
WASI_CC=(clang --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Wextra -Werror -Wl,--strip-debug)
if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null || ! command -v curl >/dev/null ||
    ! "${WASI_CC[@]}" -o "$T/probe.wasm" "$TOP/tests/apps/wws/http_import.c" 2>/dev/null; then
    echo "wws: skipped: needs root, nft, curl and clang for wasm32-wasi (scripts/deps.sh)"
    echo "wws: 0 passed, 0 failed, 1 skipped"
    rm -rf "$T"
    exit 0
fi
export WASMBOX_ROOT=$T/root
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

# ---- the app ----
A=$T/app
mkdir -p "$A/users" "$A/t" "$A/files" "$A/_data" "$A/public/users" "$A/public/docs" "$A/py" \
    "$A/.wws/runtimes/test/interp/1.0"
"${WASI_CC[@]}" -o "$T/worker.wasm" "$TOP/tests/apps/wws/worker.c" || fail "build worker.wasm"
"${WASI_CC[@]}" -o "$A/.wws/runtimes/test/interp/1.0/interp.wasm" "$TOP/tests/apps/wws/interp.c" ||
    fail "build interp.wasm"
worker() { # FILE [MODE [MORE TOML]]
    cp "$T/worker.wasm" "$A/$1.wasm"
    if [ -n "${2:-}" ]; then printf '[vars]\nMODE = "%s"\n%s' "$2" "${3:-}" >"$A/$1.toml"; fi
}
worker index
worker echo echo
worker users/admin
worker "users/[id]" params
worker "t/[id]" params
worker "t/[...rest]" params
worker counter counter $'[data.kv]\nnamespace = "visits"\n'
worker counter2 counter $'[data.kv]\nnamespace = "visits"\n'
worker other-counter counter $'[data.kv]\nnamespace = "other"\n'
worker files/read file $'\n[[folders]]\nfrom = "./_data"\nto = "/data"\n'
worker vars vars $'GREETING = "hello"\nFROM_ENV = "$WWS_TEST_VALUE"\nUNSET = "$WWS_NOT_SET"\n'
worker b64 b64
worker trap trap
worker badjson badjson
worker loop loop
worker fresh fresh $'\n[[folders]]\nfrom = "./_data"\nto = "/data"\n'
worker _ignored
echo "from the folder" >"$A/_data/message.txt"
echo "a static file" >"$A/public/users/file.txt"
echo "<p>docs</p>" >"$A/public/docs/index.html"
echo "root file" >"$A/public/hello.txt"
echo 'print("hi")' >"$A/py/index.py"
echo 'addEventListener("fetch", () => {})' >"$A/hello.js"
printf '# wrapped\n{source}# end\n' >"$A/.wws/runtimes/test/interp/1.0/wrapper.txt"
echo "poly" >"$A/.wws/runtimes/test/interp/1.0/poly.py"
cat >"$A/.wws.toml" <<'TOML'
version = 1

[[repositories]]
name = "test"
url = "https://example.invalid/index.toml"

[[repositories.runtimes]]
name = "interp"
version = "1.0"
extensions = ["py"]
args = ["--", "/src/index.py"]

[repositories.runtimes.binary]
filename = "interp.wasm"

[repositories.runtimes.wrapper]
filename = "wrapper.txt"

[repositories.runtimes.polyfill]
filename = "poly.py"
TOML
printf 'FROM scratch\nCOPY . /\nENTRYPOINT ["."]\n' >"$A/Dockerfile"
expect build 0 "" "" -- bash -c "'$WB' build -q --platform wasi/wasm -t wws-app '$A' >/dev/null"

P=$(free_port)
expect run-detached 0 "" "" -- bash -c "'$WB' run -d --name app --runtime=io.containerd.wws.v1 -e WWS_TEST_VALUE=from-env -p $P:3000 wws-app >/dev/null"
check server-up wait_for 20 curl -sf -o /dev/null "http://127.0.0.1:$P/"
U=http://127.0.0.1:$P
get() { curl -s -m 10 "$@"; }
code() { curl -s -m 10 -o /dev/null -w '%{http_code}' "$@"; }

expect index 0 "Hello from wws!" "" -- get "$U/"
expect index-type 0 "text/plain" "" -- bash -c "curl -s -m 10 -o /dev/null -w '%{content_type}' $U/"
expect custom-header 0 "hello" "" -- bash -c "curl -s -m 10 -D - -o /dev/null $U/ | tr -d '\r' | sed -n 's/^x-wws-test: //Ip'"
expect echo-method 0 "POST" "" -- bash -c "curl -s -m 10 -X POST -d 'the body' $U/echo | jq -r .method"
expect echo-body 0 "the body" "" -- bash -c "curl -s -m 10 -d 'the body' $U/echo | jq -r .body"
expect echo-url 0 "http://127.0.0.1:$P/echo?x=1" "" -- bash -c "curl -s -m 10 '$U/echo?x=1' | jq -r .url"
expect echo-header 0 "yes" "" -- bash -c "curl -s -m 10 -H 'X-Test: yes' $U/echo | jq -r '.headers[\"x-test\"]'"
expect echo-params-empty 0 "{}" "" -- bash -c "curl -s -m 10 $U/echo | jq -c .params"
expect echo-kv-empty 0 "{}" "" -- bash -c "curl -s -m 10 $U/echo | jq -c .kv"
expect echo-chunked 0 "chunked body" "" -- bash -c "printf 'chunked body' | curl -s -m 10 -H 'Transfer-Encoding: chunked' --data-binary @- $U/echo | jq -r .body"
# routes: static > dynamic > tail, public/ files before dynamic routes
expect static-route 0 "Hello from wws!" "" -- get "$U/users/admin"
expect dynamic-route 0 '{"id":"42"}' "" -- get "$U/users/42"
expect dynamic-decoded 0 '{"id":"a b"}' "" -- get "$U/users/a%20b"
expect dynamic-before-tail 0 '{"id":"x"}' "" -- get "$U/t/x"
expect tail-route 0 '{"rest":"x/y/z"}' "" -- get "$U/t/x/y/z"
expect tail-needs-a-segment 0 "404" "" -- code "$U/t"
expect public-before-dynamic 0 "a static file" "" -- get "$U/users/file.txt"
expect public-root 0 "root file" "" -- get "$U/hello.txt"
expect public-index 0 "<p>docs</p>" "" -- get "$U/docs"
expect not-found 0 "404" "" -- code "$U/nothing/here"
expect ignored-underscore 0 "404" "" -- code "$U/_ignored"
expect ignored-wws 0 "404" "" -- code "$U/.wws/runtimes/test/interp/1.0/interp"
expect no-escape 0 "404" "" -- code --path-as-is "$U/../../etc/passwd"
# the kv store: one map per namespace, shared by the workers that name it
expect kv-1 0 "count=1" "" -- get "$U/counter"
expect kv-2 0 "count=2" "" -- get "$U/counter"
expect kv-shared 0 "count=3" "" -- get "$U/counter2"
expect kv-other-namespace 0 "count=1" "" -- get "$U/other-counter"
expect kv-3 0 "count=4" "" -- get "$U/counter"
# folders, vars, base64
expect folders 0 "from the folder" "" -- get "$U/files/read"
expect vars 0 "GREETING=hello FROM_ENV=from-env" "" -- bash -c "curl -s -m 10 $U/vars | cut -d' ' -f1,2"
expect base64 0 "hello binary" "" -- get "$U/b64"
expect base64-status 0 "201" "" -- code "$U/b64"
# an interpreted worker: the runtime's module, its args, /src with the wrapper and polyfill
expect external-runtime 0 $'argc=2 src=# wrapped\nprint("hi")\n# end' "" -- \
    bash -c "curl -s -m 10 $U/py | sed -e 's/ file=[a-z.]*//g'"
expect external-runtime-src 0 "file=index.py file=poly.py " "" -- \
    bash -c "curl -s -m 10 $U/py | grep -o 'file=[a-z.]*' | sort | tr '\n' ' '"
# every request runs as on a fresh instance (instances are reused: apps/instance_pool.h): the
# static, the grown memory, the open file and the closed preopens of one are gone for the next
fresh=$(get "$U/fresh")
expect fresh-1 0 "1" "" -- bash -c "echo '$fresh' | grep -c '^runs=1 pages=[0-9][0-9]* file=ok grown=yes$'"
expect fresh-2 0 "$fresh" "" -- get "$U/fresh"
expect fresh-after-trap 0 "500 $fresh" "" -- bash -c \
    "curl -s -m 10 -o /dev/null -w '%{http_code} ' $U/trap; curl -s -m 10 $U/fresh"
expect fresh-concurrent 0 "40 $fresh" "" -- bash -c \
    "seq 40 | xargs -P 8 -I{} curl -s -m 20 $U/fresh -o $T/fresh.{}; echo \$(ls $T/fresh.* | wc -l) \$(for f in $T/fresh.*; do cat \$f; echo; done | sort -u)"
# failures: 500, a line in the container's log
expect js-without-runtime 0 "500" "" -- code "$U/hello"
expect js-message 0 "1" "" -- bash -c "curl -s -m 10 $U/hello | grep -c 'needs a JavaScript runtime'"
expect trap-500 0 "500" "" -- code "$U/trap"
expect badjson-500 0 "500" "" -- code "$U/badjson"
expect keep-alive 0 "Hello from wws!Hello from wws!" "" -- bash -c "curl -s -m 10 $U/ $U/ 2>&1"
expect too-large 0 "413" "" -- bash -c "head -c 17000000 /dev/zero | curl -s -m 20 -o /dev/null -w '%{http_code}' -H 'Expect:' --data-binary @- $U/echo"
expect bad-request 0 "400" "" -- bash -c "printf 'NOT A REQUEST\r\n\r\n' | timeout 5 python3 -c 'import socket,sys; s=socket.create_connection((\"127.0.0.1\",$P)); s.sendall(sys.stdin.buffer.read()); print(s.recv(100).split()[1].decode())'"
sleep 0.3
"$WB" logs app >"$T/out.log" 2>"$T/err.log"
check logs-serving grep -q "wws: serving" "$T/out.log"
check logs-routes grep -q '/users/\[id\] => /users/\[id\].wasm' "$T/out.log"
check logs-js-startup grep -q 'worker `/hello.js` needs a JavaScript runtime' "$T/err.log"
check logs-trap grep -q 'Error running worker `/trap.wasm` at route /trap: .*unreachable' "$T/err.log"
check logs-badjson grep -q 'Error running worker `/badjson.wasm` at route /badjson: the worker.s output is not a JSON object' "$T/err.log"
# a request that never ends does not hold the stop up: it is interrupted (500), the app exits 0
curl -s -m 30 -o /dev/null -w '%{http_code}' "$U/loop" >"$T/loop.code" &
LOOP=$!
sleep 1
expect stop 0 "app" "" -- "$WB" stop -t 5 app
expect stopped-exit-code 0 "0" "" -- "$WB" inspect --format '{{.State.ExitCode}}' app
wait $LOOP
expect endless-request-interrupted 0 "500" "" -- cat "$T/loop.code"

# ---- apps that must not start: the error names the framework and the file ----
bad_app() { # NAME FILE-TO-ADD...
    local d=$T/bad-$1
    mkdir -p "$d"
    cp "$T/worker.wasm" "$d/index.wasm"
    printf 'FROM scratch\nCOPY . /\n' >"$d/Dockerfile"
}
bad_app toml
printf '[vars]\nMODE = "echo"\n[vars]\n' >"$T/bad-toml/index.toml"
"$WB" build -q --platform wasi/wasm -t wws-bad-toml "$T/bad-toml" >/dev/null || fail "build wws-bad-toml"
expect bad-toml 125 "" 'wws: worker configuration `/index.toml`: line 3: table `vars` is defined twice' -- \
    "$WB" run --rm --runtime=io.containerd.wws.v1 wws-bad-toml
# a folder that is a symlink out of the app (to the host's /etc): resolved inside the container's
# root, where there is no /etc, so the app does not start (it once preopened the host's /etc)
bad_app escape
printf '[[folders]]\nfrom = "./_esc"\nto = "/data"\n' >"$T/bad-escape/index.toml"
ln -s /etc "$T/bad-escape/_esc"
"$WB" build -q --platform wasi/wasm -t wws-bad-escape "$T/bad-escape" >/dev/null || fail "build wws-bad-escape"
expect folder-symlink-stays-inside 125 "" 'folders[0].from `./_esc` is not a directory of the container' -- \
    timeout 30 "$WB" run --rm --runtime=io.containerd.wws.v1 wws-bad-escape
bad_app wasm
printf 'not wasm' >"$T/bad-wasm/broken.wasm"
"$WB" build -q --platform wasi/wasm -t wws-bad-wasm "$T/bad-wasm" >/dev/null || fail "build wws-bad-wasm"
expect bad-wasm 126 "" 'wws: worker `/broken.wasm`: not a valid WebAssembly module' -- \
    "$WB" run --rm --runtime=io.containerd.wws.v1 wws-bad-wasm
bad_app import
"${WASI_CC[@]}" -o "$T/bad-import/outbound.wasm" "$TOP/tests/apps/wws/http_import.c"
"$WB" build -q --platform wasi/wasm -t wws-bad-import "$T/bad-import" >/dev/null || fail "build wws-bad-import"
expect bad-import 126 "" 'wws: worker `/outbound.wasm` imports `http`.`send-http-request` (wws'"'"'s outbound HTTP' -- \
    "$WB" run --rm --runtime=io.containerd.wws.v1 wws-bad-import
bad_app project
printf 'version = 1\n[[repositories]\n' >"$T/bad-project/.wws.toml"
"$WB" build -q --platform wasi/wasm -t wws-bad-project "$T/bad-project" >/dev/null || fail "build wws-bad-project"
expect bad-project 125 "" 'wws: `/.wws.toml`: line 2: expected `]]`' -- \
    "$WB" run --rm --runtime=io.containerd.wws.v1 wws-bad-project
expect runtime-short-name 0 "io.containerd.wws.v1" "" -- bash -c "'$WB' create --name short --runtime wws wws-app >/dev/null && '$WB' inspect --format '{{.HostConfig.Runtime}}' short"

# ---- Compose: runtime: maps to the same code ----
P2=$(free_port)
mkdir -p "$T/compose"
cat >"$T/compose/compose.yaml" <<YAML
services:
  web:
    image: wws-app
    runtime: io.containerd.wws.v1
    ports:
      - "$P2:3000"
YAML
expect compose-up 0 "" "" -- bash -c "cd '$T/compose' && '$WB' compose -p wwst up -d >/dev/null 2>&1"
check compose-serving wait_for 20 curl -sf -o /dev/null "http://127.0.0.1:$P2/"
expect compose-route 0 '{"id":"7"}' "" -- get "http://127.0.0.1:$P2/users/7"
expect compose-down 0 "" "" -- bash -c "cd '$T/compose' && '$WB' compose -p wwst down >/dev/null 2>&1"

echo "wws: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
