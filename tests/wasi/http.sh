#!/usr/bin/env bash
# WASI sockets end to end: the http-hello example served by the real `wasmbox run` over loopback
# (WasmEdge socket API with --net, V1 and V2 forms; preview1 on a --tcplisten listener), its Wasm
# client http-fetch (names through sock_getaddrinfo: the host's view, and a module's DNS_SERVER
# against tests/wasi/dns_server.py), and tests/wasi/sock-poll.c, which checks poll_oneoff and
# every socket function from inside a guest. All traffic stays on loopback.
# Usage: BUILD=build bash tests/wasi/http.sh     (prints "wasi-http: P passed, F failed")
set -uo pipefail
BUILD=${BUILD:-build}
WB=$BUILD/wasmbox
OUT=$BUILD/examples/http-hello
T=$(mktemp -d)
passed=0
failed=0
skipped=0
server_pid=
dns_pid=

cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    [ -n "$dns_pid" ] && kill "$dns_pid" 2>/dev/null && wait "$dns_pid" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

pass() { passed=$((passed + 1)); }
fail() {
    failed=$((failed + 1))
    echo "FAIL $*"
}
finish() {
    local extra=
    [ "$skipped" -gt 0 ] && extra=", $skipped skipped"
    echo "wasi-http: $passed passed, $failed failed$extra"
    [ "$failed" -eq 0 ]
    exit
}

# ---- build ----
if ! make --no-print-directory -s -C examples/http-hello OUT="$(realpath -m "$OUT")" >"$T/build.log" 2>&1; then
    if ! echo 'int main(void){return 0;}' | clang --target=wasm32-wasi --sysroot=/usr -x c -o "$T/probe.wasm" - 2>/dev/null; then
        echo "wasi-http: skipped: clang cannot build wasm32-wasi programs (wasi-libc, libclang-rt-*-dev-wasm32)"
        skipped=1
        finish
    fi
    cat "$T/build.log"
    fail "build examples/http-hello"
    finish
fi
mkdir -p "$BUILD/tests/wasi"
for forms in v2 v1; do
    flags=
    [ "$forms" = v1 ] && flags=-DSOCK_POLL_V1
    if ! clang --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Wextra -Werror $flags \
        -o "$BUILD/tests/wasi/sock-poll-$forms.wasm" tests/wasi/sock-poll.c; then
        fail "build tests/wasi/sock-poll.c ($forms)"
        finish
    fi
done

# ---- helpers ----

# A loopback port nothing listens on (best effort: the server start is retried on a clash).
read -r EPHEMERAL_LOW _ </proc/sys/net/ipv4/ip_local_port_range
[ "${EPHEMERAL_LOW:-0}" -gt 11000 ] || EPHEMERAL_LOW=32768
free_port() {
    local p
    while :; do
        # below the kernel's ephemeral range: a port there can be taken by any outgoing
        # connection (a pooled database connection) between this check and the bind
        p=$((10000 + RANDOM % (EPHEMERAL_LOW - 10000)))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
}

# wait_accepting PORT LOG: until a connection to PORT succeeds (10 s), or the server died.
wait_accepting() {
    local port=$1 i
    for i in $(seq 100); do
        if ! kill -0 "$server_pid" 2>/dev/null; then return 1; fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}

# start NAME CMD...: starts the server in the background (output in $T/NAME.log), sets server_pid
start() {
    local name=$1
    shift
    "$@" >"$T/$name.log" 2>&1 &
    server_pid=$!
}

stop() {
    local name=$1
    if [ -z "$server_pid" ]; then return; fi
    if kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid"
        wait "$server_pid" 2>/dev/null
        pass
    else
        wait "$server_pid" 2>/dev/null
        fail "$name: the server exited before it was stopped:"
        sed 's/^/    /' "$T/$name.log"
    fi
    server_pid=
}

# check_server NAME PORT: the HTTP checks against a running server
check_server() {
    local name=$1 port=$2 body code
    body=$(curl -s --max-time 10 "http://127.0.0.1:$port/")
    if [ "$body" = "Hello from wasmbox!" ]; then pass; else fail "$name: GET / gave $(printf %q "$body")"; fi
    code=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 10 "http://127.0.0.1:$port/missing")
    if [ "$code" = 404 ]; then pass; else fail "$name: GET /missing gave status $code (want 404)"; fi
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST -d x "http://127.0.0.1:$port/")
    if [ "$code" = 405 ]; then pass; else fail "$name: POST / gave status $code (want 405)"; fi
    # a request that arrives in pieces (partial reads), and a client that leaves mid-request
    local resp
    resp=$(
        exec 3<>"/dev/tcp/127.0.0.1/$port"
        printf 'GET / HTTP/1.1\r\n' >&3
        sleep 0.2
        printf 'Host: x\r\n' >&3
        sleep 0.2
        printf '\r\n' >&3
        timeout 10 cat <&3
    )
    if [[ "$resp" == "HTTP/1.1 200 OK"*"Hello from wasmbox!"* ]]; then pass; else
        fail "$name: request in three pieces gave $(printf %q "$resp")"; fi
    (
        exec 3<>"/dev/tcp/127.0.0.1/$port"
        printf 'GET / HT' >&3
    ) 2>/dev/null
    if "$OUT/http-get" 127.0.0.1 "$port" / 200 "Hello from wasmbox!"$'\n' >"$T/many" 2>&1; then pass; else
        fail "$name: after an abandoned request, 200 sequential requests: $(cat "$T/many")"; fi
}

# ---- A: WasmEdge socket API (V1 forms), --net, the port as an argument ----
for attempt in 1 2 3; do
    port=$(free_port)
    start wasmedge-v1 "$WB" run --net "$OUT/http-hello.wasm" "$port"
    if wait_accepting "$port"; then break; fi
    wait "$server_pid" 2>/dev/null
    server_pid=
done
if [ -n "$server_pid" ]; then
    pass
    check_server wasmedge-v1 "$port"
    if grep -q "listening on port $port" "$T/wasmedge-v1.log"; then pass; else
        fail "wasmedge-v1: sock_getlocaladdr (V1) port: $(cat "$T/wasmedge-v1.log")"; fi
    stop wasmedge-v1
else
    fail "wasmedge-v1: the server did not accept on port $port:"
    sed 's/^/    /' "$T/wasmedge-v1.log"
fi

# ---- A2: V2 forms, port 0 chosen by the kernel and announced through sock_getlocaladdr (V2) ----
start wasmedge-v2 "$WB" run --net "$OUT/http-hello-v2.wasm" 0
port=
for i in $(seq 100); do
    port=$(sed -n 's/.*listening on port \([0-9][0-9]*\).*/\1/p' "$T/wasmedge-v2.log")
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -n "$port" ] && wait_accepting "$port"; then
    pass
    check_server wasmedge-v2 "$port"
    stop wasmedge-v2
else
    fail "wasmedge-v2: no port announced:"
    sed 's/^/    /' "$T/wasmedge-v2.log"
    stop wasmedge-v2
fi

# ---- A without --net: sock_open is refused with EACCES, and the program says so ----
port=$(free_port)
"$WB" run "$OUT/http-hello.wasm" "$port" >"$T/nonet.out" 2>"$T/nonet.err"
rc=$?
if [ "$rc" -ne 0 ] && grep -q "sock_open failed: Permission denied (errno 2)" "$T/nonet.err" &&
    grep -q -- "--net" "$T/nonet.err"; then pass; else
    fail "no --net: exit $rc, stderr $(cat "$T/nonet.err")"; fi
# and nothing was listening meanwhile
if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then pass; else fail "no --net: port $port open"; fi

# ---- B: preview1 on a preopened --tcplisten listener ----
for attempt in 1 2 3; do
    port=$(free_port)
    start preview1 "$WB" run --tcplisten "127.0.0.1:$port" "$OUT/http-hello-p1.wasm"
    if wait_accepting "$port"; then break; fi
    wait "$server_pid" 2>/dev/null
    server_pid=
done
if [ -n "$server_pid" ]; then
    pass
    check_server preview1 "$port"
    stop preview1
else
    fail "preview1: the server did not accept on port $port:"
    sed 's/^/    /' "$T/preview1.log"
fi
# B with no listener: a clear error, not a hang
if timeout 10 "$WB" run "$OUT/http-hello-p1.wasm" >"$T/nolisten.out" 2>"$T/nolisten.err"; then
    fail "preview1 without --tcplisten exited 0"
elif grep -q "tcplisten" "$T/nolisten.err"; then pass; else
    fail "preview1 without --tcplisten: $(cat "$T/nolisten.err")"; fi

# ---- C: http-fetch, a Wasm client: names through sock_getaddrinfo ----
FETCH=$OUT/http-fetch.wasm
start fetch-server "$WB" run --net "$OUT/http-hello-v2.wasm" 0
port=
for i in $(seq 100); do
    port=$(sed -n 's/.*listening on port \([0-9][0-9]*\).*/\1/p' "$T/fetch-server.log")
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -n "$port" ] && wait_accepting "$port"; then
    # fetch NAME CMD...: runs CMD (stdout $T/NAME.out, stderr $T/NAME.err), sets rc
    fetch() {
        local name=$1
        shift
        timeout 30 "$@" >"$T/$name.out" 2>"$T/$name.err"
        rc=$?
    }
    fetch f-localhost "$WB" run --net "$FETCH" localhost "$port" /
    if [ "$rc" -eq 0 ] && [ "$(cat "$T/f-localhost.out")" = "Hello from wasmbox!" ]; then pass; else
        fail "http-fetch localhost: exit $rc, out $(cat "$T/f-localhost.out"), err $(cat "$T/f-localhost.err")"; fi
    fetch f-404 "$WB" run --net "$FETCH" 127.0.0.1 "$port" /missing
    if [ "$rc" -eq 1 ] && grep -q "status 404" "$T/f-404.err"; then pass; else
        fail "http-fetch /missing: exit $rc, err $(cat "$T/f-404.err")"; fi
    fetch f-nonet "$WB" run "$FETCH" localhost "$port" /
    if [ "$rc" -eq 1 ] && grep -q "cannot resolve localhost: no network access" "$T/f-nonet.err"; then pass; else
        fail "http-fetch without --net: exit $rc, err $(cat "$T/f-nonet.err")"; fi
    # DNS_SERVER in the module's environment: the engine asks that server
    python3 tests/wasi/dns_server.py "$T/dns.port" web.test=127.0.0.1 2>"$T/dns.log" &
    dns_pid=$!
    for i in $(seq 50); do [ -s "$T/dns.port" ] && break; sleep 0.1; done
    dport=$(cat "$T/dns.port" 2>/dev/null)
    if [ -n "$dport" ]; then
        fetch f-dns "$WB" run --net -e "DNS_SERVER=127.0.0.1:$dport" "$FETCH" web.test "$port" /
        if [ "$rc" -eq 0 ] && [ "$(cat "$T/f-dns.out")" = "Hello from wasmbox!" ] &&
            grep -q "query web.test A" "$T/dns.log"; then pass; else
            fail "http-fetch web.test with DNS_SERVER: exit $rc, err $(cat "$T/f-dns.err"), server log $(cat "$T/dns.log")"; fi
        fetch f-nx "$WB" run --net -e "DNS_SERVER=127.0.0.1:$dport" "$FETCH" nosuch.test "$port" /
        if [ "$rc" -eq 1 ] && grep -q "cannot resolve nosuch.test: name does not exist (EAI_NONAME)" "$T/f-nx.err"; then pass; else
            fail "http-fetch nosuch.test: exit $rc, err $(cat "$T/f-nx.err")"; fi
        kill "$dns_pid" 2>/dev/null
        wait "$dns_pid" 2>/dev/null
        dns_pid=
        # the server gone (the port refuses): EAI_AGAIN at once
        fetch f-again "$WB" run --net -e "DNS_SERVER=127.0.0.1:$dport" "$FETCH" web.test "$port" /
        if [ "$rc" -eq 1 ] && grep -q "EAI_AGAIN" "$T/f-again.err"; then pass; else
            fail "http-fetch with no DNS server: exit $rc, err $(cat "$T/f-again.err")"; fi
    else
        fail "tests/wasi/dns_server.py did not start: $(cat "$T/dns.log")"
    fi
    fetch f-bad "$WB" run --net -e DNS_SERVER=not-an-address "$FETCH" web.test "$port" /
    if [ "$rc" -eq 1 ] && grep -q "EAI_FAIL" "$T/f-bad.err"; then pass; else
        fail "http-fetch with a malformed DNS_SERVER: exit $rc, err $(cat "$T/f-bad.err")"; fi
    stop fetch-server
else
    fail "fetch-server: no port announced:"
    sed 's/^/    /' "$T/fetch-server.log"
    stop fetch-server
fi

# ---- sock-poll: poll_oneoff and the socket functions, from inside a guest ----
# run_counts NAME CMD...: adds the "P passed, F failed" of the guest's last line
run_counts() {
    local name=$1 line p f rc
    shift
    printf 'ping\n' | "$@" >"$T/$name.out" 2>&1
    rc=$?
    line=$(grep -E '^sock-poll: [0-9]+ passed, [0-9]+ failed' "$T/$name.out" | tail -n 1)
    if [ -z "$line" ]; then
        fail "$name: no result line (exit $rc)"
        sed 's/^/    /' "$T/$name.out" | tail -n 20
        return
    fi
    p=$(sed 's/.*: \([0-9]*\) passed.*/\1/' <<<"$line")
    f=$(sed 's/.* \([0-9]*\) failed.*/\1/' <<<"$line")
    passed=$((passed + p))
    failed=$((failed + f))
    grep '^not ok' "$T/$name.out" | sed "s/^/FAIL $name: /"
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then fail "$name: exit $rc"; fi
}
run_counts sock-poll-v2 timeout 60 "$WB" run --net "$BUILD/tests/wasi/sock-poll-v2.wasm"
run_counts sock-poll-v1 timeout 60 "$WB" run --net "$BUILD/tests/wasi/sock-poll-v1.wasm"
run_counts sock-poll-nonet timeout 60 "$WB" run "$BUILD/tests/wasi/sock-poll-v2.wasm" nonet

finish
