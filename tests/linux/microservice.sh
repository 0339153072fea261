#!/usr/bin/env bash
# The seed's multi-service demo re-made in C (issue #16), end to end, from a clean store:
# `compose up -d --build` in a copy of examples/microservice builds the Wasm order service, the
# MariaDB image and the nginx image (all from the debian:bookworm test image) and starts the
# three; the original's test calls return exactly the bodies in
# ../shared/testdata/microservice/expected/; headless Chromium adds and deletes orders through
# the page (tests/linux/microservice_browser.py, which saves a screenshot); `compose restart db`
# under a running service (the pool reconnects); `kill -9` of the Wasm process (unless-stopped
# brings it back); Ctrl+C on a foreground `compose up` under a real pseudo-terminal; and
# `compose down -v` leaving nothing behind.
#
# The image builds' `apt-get` goes through scripts/apt-cache-proxy.py (as the `http_proxy`
# build arg, from a compose.override.yaml written into the copy), which keeps the packages under
# $WASMBOX_TEST_CACHE/apt: a warm cache downloads only the mirror's InRelease.
#
# Needs root, aardvark-dns and nft (scripts/deps.sh), Debian's mirror (deb.debian.org) for
# apt-get, chromium, and the host ports 8080 and 8090 free (the demo publishes them); skips with
# a message without root, the network tools or the mirror.
# Usage: BUILD=build bash tests/linux/microservice.sh   (prints "linux-microservice: P passed, F failed")
#   MICROSERVICE_SCREENSHOT=FILE  where the browser test saves its screenshot (default: scratch)
#   SHARED=DIR                    the shared checkout (default ../shared beside the repository)
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${BUILD:-build}" && pwd)
WB=$BUILD/wasmbox
SHARED=$(cd "${SHARED:-$TOP/../shared}" 2>/dev/null && pwd) || SHARED=$TOP/../shared
DATA=$SHARED/testdata/microservice
passed=0
failed=0
skip() {
    echo "linux-microservice: skipped: $*"
    echo "linux-microservice: 0 passed, 0 failed, 1 skipped"
    exit 0
}
if [ "$(id -u)" != 0 ] || [ ! -x /usr/lib/podman/aardvark-dns ] || ! command -v nft >/dev/null; then
    skip "needs root, aardvark-dns and nft (scripts/deps.sh)"
fi
if ! timeout 5 bash -c 'exec 3<>/dev/tcp/deb.debian.org/80' 2>/dev/null; then
    skip "deb.debian.org:80 is not reachable (the images' apt-get needs it)"
fi
[ -d "$DATA/expected" ] || skip "$DATA/expected not found (the shared test data)"

START=$SECONDS
T=$(mktemp -d)
export WASMBOX_ROOT=$T/root
APP=$T/microservice # the directory's name is the project's: microservice-server-1, ...
PROXY_PID=
cleanup() {
    if [ -d "$APP" ]; then (cd "$APP" && "$WB" compose down -v -t 1 >/dev/null 2>&1); fi
    "$WB" ps -aq 2>/dev/null | xargs -r "$WB" rm -f >/dev/null 2>&1
    "$WB" network prune -f >/dev/null 2>&1
    "$WB" volume prune -f >/dev/null 2>&1
    if [ -n "$PROXY_PID" ]; then kill "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null; fi
    rm -rf "$T"
}
trap cleanup EXIT
# shellcheck source=tests/linux/harness.sh
. "$TOP/tests/linux/harness.sh"
export WB

port_busy() { ss -Hltn "sport = :$1" | grep -q .; }
for p in 8080 8090; do
    if port_busy "$p"; then
        fail "host port $p is in use (the demo publishes 8080 and 8090): $(ss -Hltnp "sport = :$p" | head -n 1)"
        echo "linux-microservice: $passed passed, $failed failed"
        exit 1
    fi
done

"$TOP/scripts/test-images.sh" load debian "$WB" >/dev/null || fail "load debian:bookworm into the store"
python3 "$TOP/scripts/apt-cache-proxy.py" --port-file "$T/proxy.port" 2>"$T/proxy.log" &
PROXY_PID=$!
wait_for 10 test -s "$T/proxy.port" || fail "apt-cache-proxy did not start: $(cat "$T/proxy.log")"
PROXY=http://127.0.0.1:$(cat "$T/proxy.port")

# ---- a copy of the example, with the proxy for apt in an override file ----
mkdir -p "$APP"
cp -a "$TOP/examples/microservice/." "$APP/"
rm -rf "$APP/server/build" "$APP/screenshot.png"
# (each context restated: wasmbox's merge lost a short `build: DIR` under a `build:` mapping
# without `context` in the override -- it took `.` -- so the override says it again)
cat >"$APP/compose.override.yaml" <<EOF
# written by tests/linux/microservice.sh: apt-get in the image builds through the package cache
services:
  client:
    build:
      context: nginx
      args:
        http_proxy: $PROXY
  server:
    build:
      context: .
      args:
        http_proxy: $PROXY
  db:
    build:
      context: db
      args:
        http_proxy: $PROXY
EOF
cd "$APP" || exit 1

# ---- compose up -d --build from a clean store ----
t0=$SECONDS
"$WB" compose up -d --build >"$T/up.out" 2>"$T/up.err"
rc=$?
BUILD_TIME=$((SECONDS - t0))
if [ "$rc" = 0 ]; then pass; else
    fail "compose up -d --build: exit $rc"
    tail -n 30 "$T/up.err" "$T/up.out"
fi
for c in client server db; do
    check "up: microservice-$c-1 started" grep -q "Container microservice-$c-1  Started" "$T/up.err"
done
expect image-server-wasm 0 "wasi/wasm" "" -- "$WB" image inspect --format '{{.Os}}/{{.Architecture}}' demo-microservice
expect image-server-entrypoint 0 '["/order_demo_service.wasm"]' "" -- \
    "$WB" image inspect --format '{{json .Config.Entrypoint}}' demo-microservice
expect image-db 0 "linux/amd64" "" -- "$WB" image inspect --format '{{.Os}}/{{.Architecture}}' mariadb:10.9
expect image-nginx 0 "linux/amd64" "" -- "$WB" image inspect --format '{{.Os}}/{{.Architecture}}' nginx:alpine
expect ps-running 0 $'microservice-client-1 running\nmicroservice-db-1 running\nmicroservice-server-1 running' "" -- \
    "$WB" compose ps -a --format '{{.Name}} {{.State}}'
expect volume-named 0 "microservice_db-data" "" -- "$WB" volume ls --format '{{.Name}}'

# ---- wait for the database (over TCP: the first start's temporary server has no network) ----
db_ready() {
    "$WB" exec microservice-db-1 mariadb --protocol=tcp -h 127.0.0.1 -uroot -pwhalehello -N \
        -e 'SELECT 1' 2>/dev/null | grep -qx 1
}
t0=$SECONDS
check "db ready within 90 s" wait_for 90 db_ready
DB_WAIT=$((SECONDS - t0))
check "db: root@'%' uses mysql_native_password" bash -c "'$WB' exec microservice-db-1 mariadb -uroot \
    -pwhalehello -N -e \"SELECT plugin FROM mysql.user WHERE user='root' AND host='%'\" | grep -qx mysql_native_password"
check "server answers GET / within 30 s" wait_for 30 curl -sf --max-time 2 -o /dev/null http://127.0.0.1:8080/

# the browser test's checks (its "ok"/"FAIL" lines and its count line) into ours
browser_counts() { # OUTPUT_FILE
    local line
    sed 's/^/  /' "$1" | grep -v '^  ok '
    line=$(grep -E '^browser: [0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
    if [ -n "$line" ]; then
        passed=$((passed + $(sed -E 's/browser: ([0-9]+) passed.*/\1/' <<<"$line")))
        failed=$((failed + $(sed -E 's/.* ([0-9]+) failed/\1/' <<<"$line")))
    else
        fail "browser test: no result line"
    fi
}

# ---- the page on the fresh database: it calls /init itself, as the original's does ----
python3 "$TOP/tests/linux/microservice_browser.py" --fresh http://127.0.0.1:8090/ http://127.0.0.1:8080 \
    >"$T/browser-fresh.out" 2>&1
browser_counts "$T/browser-fresh.out"

# ---- the original's test calls, byte for byte ----
call() { # N NAME CURL_ARGS...: the body into $T/bodies/N-NAME.body, compared with expected/
    local n=$1 name=$2 code
    shift 2
    code=$(curl -sS --max-time 10 -o "$T/bodies/$n-$name.body" -w '%{http_code}' "$@" 2>"$T/curl.err")
    if [ "$code" = 200 ] && cmp -s "$T/bodies/$n-$name.body" "$DATA/expected/$n-$name.body"; then pass; else
        fail "call $n $name: HTTP $code $(cat "$T/curl.err")"
        echo "  got:  $(head -c 300 "$T/bodies/$n-$name.body" 2>/dev/null)"
        echo "  want: $(head -c 300 "$DATA/expected/$n-$name.body")"
    fi
}
mkdir -p "$T/bodies"
call 1 init http://localhost:8080/init
call 2 create_orders http://localhost:8080/create_orders -X POST -d @"$DATA/orders.json"
call 3 orders http://localhost:8080/orders
call 4 update_order http://localhost:8080/update_order -X POST -d @"$DATA/update_order.json"
call 5 delete_order "http://localhost:8080/delete_order?id=2"
call 6 orders http://localhost:8080/orders
expect client-served 0 "" "" -- bash -c "curl -s --max-time 5 http://127.0.0.1:8090/js/app.js | cmp - '$APP/client/js/app.js'"

# ---- the page in headless Chromium ----
SHOT=${MICROSERVICE_SCREENSHOT:-$T/screenshot.png}
python3 "$TOP/tests/linux/microservice_browser.py" http://127.0.0.1:8090/ http://127.0.0.1:8080 "$SHOT" \
    >"$T/browser.out" 2>&1
browser_counts "$T/browser.out"
ORDERS=$(curl -s --max-time 5 http://127.0.0.1:8080/orders)

# ---- compose restart db while the service runs: the next requests succeed (pool reconnect) ----
server_pid() { "$WB" inspect --format '{{.State.Pid}}' microservice-server-1; }
pid_before=$(server_pid)
expect restart-db 0 "" "Container microservice-db-1  Started" -- "$WB" compose restart db
orders_back() { [ "$(curl -s --max-time 3 http://127.0.0.1:8080/orders)" = "$ORDERS" ]; }
t0=$SECONDS
check "after restart db: /orders answers the same within 30 s (the data is in the volume)" wait_for 30 orders_back
RECONNECT=$((SECONDS - t0))
# shellcheck disable=SC2016 # the script gets the orders as $0
check "after restart db: further requests succeed" bash -c 'for i in 1 2 3 4 5; do
    [ "$(curl -s --max-time 3 http://127.0.0.1:8080/orders)" = "$0" ] || exit 1; done' "$ORDERS"
check "after restart db: the Wasm process is the same (reconnected, not restarted)" \
    [ "$(server_pid)" = "$pid_before" ]

# ---- kill -9 of the Wasm process: unless-stopped brings it back ----
pid=$(server_pid)
check "server has a PID" [ "${pid:-0}" -gt 0 ]
kill -9 "$pid" 2>/dev/null
new_pid() { local p; p=$(server_pid) && [ "$p" -gt 0 ] && [ "$p" != "$pid" ]; }
check "after kill -9: restarted with a new PID within 10 s" wait_for 10 new_pid
check "after kill -9: /orders answers the same within 30 s" wait_for 30 orders_back
expect "after kill -9: RestartCount 1" 0 "1 running" "" -- \
    "$WB" inspect --format '{{.RestartCount}} {{.State.Status}}' microservice-server-1

# ---- compose down (the volume stays); a foreground up under a pty, Ctrl+C ----
expect down 0 "" "" -- bash -c "'$WB' compose down >/dev/null 2>&1; '$WB' ps -aq"
python3 "$TOP/tests/linux/pty_ctrlc.py" "ready for connections" -1 -- "$WB" compose up >"$T/ctrlc.out"
read -r rc took < <(head -n 1 "$T/ctrlc.out" | sed 's/rc=//; s/first=//')
check "foreground up: Ctrl+C exits 0 (rc $rc)" [ "$rc" = 0 ]
check "foreground up: stopped within the grace period + 1 s (${took}s)" \
    python3 -c "import sys; sys.exit(0 if 0 <= $took <= 11.0 else 1)"
check "foreground up: the three attached" grep -q "Attaching to microservice-client-1, microservice-db-1, microservice-server-1" "$T/ctrlc.out"
check "foreground up: Gracefully stopping" grep -q "Gracefully stopping... (press Ctrl+C again to force)" "$T/ctrlc.out"
check "foreground up: the data survived down/up" grep -q "Database files already initialized" "$T/ctrlc.out"
expect "after Ctrl+C: nothing running" 0 "" "" -- "$WB" ps -q
sleep 1 # unless-stopped must not bring the server back after a user's stop
expect "after Ctrl+C: still nothing running" 0 "" "" -- "$WB" ps -q

# ---- compose down -v leaves nothing ----
expect "down -v" 0 "" "Volume microservice_db-data  Removed" -- "$WB" compose down -v
expect "down -v: no container" 0 "" "" -- "$WB" ps -aq
expect "down -v: no volume" 0 "" "" -- "$WB" volume ls -q
expect "down -v: no network" 0 "" "" -- bash -c "'$WB' network ls --format '{{.Name}}' | grep microservice || true"
expect "down -v: no namespace" 0 "" "" -- bash -c "ls '$WASMBOX_ROOT/netns' 2>/dev/null"
check "nothing listens on 8080/8090 any more" bash -c '! curl -s --max-time 2 -o /dev/null http://127.0.0.1:8080/ &&
    ! curl -s --max-time 2 -o /dev/null http://127.0.0.1:8090/'

kill "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null
PROXY_PID=
echo "linux-microservice: images built and started in ${BUILD_TIME}s, db ready after ${DB_WAIT}s," \
    "service back ${RECONNECT}s after restart db, $(tail -n 1 "$T/proxy.log" | sed 's/^apt-cache-proxy: //'), total $((SECONDS - START))s"
echo "linux-microservice: $passed passed, $failed failed"
[ "$failed" = 0 ]
