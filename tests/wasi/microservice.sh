#!/usr/bin/env bash
# The demo's order service (examples/microservice/server) against a real MariaDB: the Wasm build
# run by `wasmbox run --net` and the native build, each through the original's test calls
# (replies compared byte for byte with ../shared/testdata/microservice/expected), the other
# routes, HTTP framing (test/http_checks.py: keep-alive, pipelining, partial reads, refusals,
# CORS), a bad JSON body, `/orders` without its table, an auth switch (a user IDENTIFIED VIA
# unix_socket OR mysql_native_password, which MariaDB serves with an AuthSwitchRequest over TCP),
# a wrong password, and a database restart under a warm pool. A scripted server
# (test/fake_mariadb.py) covers what MariaDB 10.11 never sends this client: result sets framed
# by EOF packets, an auth switch with a new seed, NO_BACKSLASH_ESCAPES, replies a few bytes at a
# time, a plugin the client lacks. test/selftest.c checks SHA-1, the JSON parser and the f32
# rule (natively and as Wasm); test/f32_exact.py checks that rule against exact arithmetic.
# MariaDB runs from a temporary data dir on a loopback port, root's password set with
# mysql_native_password (no --skip-grant-tables). Skips without mariadbd (Debian's
# mariadb-server, installed by scripts/deps.sh).
# Usage: BUILD=build bash tests/wasi/microservice.sh   (prints "microservice: P passed, F failed")
set -uo pipefail
BUILD=${BUILD:-build}
SHARED=${SHARED:-../shared}
WB=$BUILD/wasmbox
SRC=examples/microservice/server
OUT=$BUILD/examples/microservice
DATA=$SHARED/testdata/microservice
T=$(mktemp -d)
passed=0
failed=0
skipped=0
db_pid=
fake_pid=
servers=() # PIDs of the order services started here

cleanup() {
    local p
    for p in "${servers[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null && wait "$fake_pid" 2>/dev/null
    [ -n "$db_pid" ] && kill "$db_pid" 2>/dev/null && wait "$db_pid" 2>/dev/null
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
    echo "microservice: $passed passed, $failed failed$extra"
    [ "$failed" -eq 0 ]
    exit
}
skip_all() {
    echo "microservice: skipped: $*"
    skipped=1
    finish
}
# add_counts LOG: adds the "P passed, F failed" of a helper's last line; a helper that printed
# no counts is one failure
add_counts() {
    local line p f
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
    if [ -z "$line" ]; then
        fail "$2: no result line:"
        sed 's/^/    /' "$1" | tail -n 20
        return
    fi
    p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')
    f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')
    passed=$((passed + p))
    failed=$((failed + f))
    [ "$f" -gt 0 ] && grep -E '^(FAIL|not ok|#)' "$1" | head -n 20 | sed "s/^/    $2: /"
}
# one_check LOG LABEL: a helper's whole run as one check (its counts are values, not checks)
one_check() {
    if grep -qE '^[a-z0-9 ]+: [0-9]+ passed, 0 failed' "$1"; then pass; else
        fail "$2:"
        tail -n 12 "$1" | sed 's/^/    /'
    fi
}

# ---- prerequisites and builds ----
for tool in mariadbd mariadb-install-db mariadb; do
    command -v "$tool" >/dev/null || skip_all "$tool not found (Debian's mariadb-server; scripts/deps.sh installs it)"
done
[ -d "$DATA/expected" ] || skip_all "$DATA/expected not found (SHARED=$SHARED)"
[ -x "$WB" ] || {
    fail "$WB not built (make BUILD=$BUILD)"
    finish
}
if ! make --no-print-directory -s -C "$SRC" OUT="$(realpath -m "$OUT")" >"$T/build.log" 2>&1; then
    if ! echo 'int main(void){return 0;}' | clang --target=wasm32-wasi --sysroot=/usr -x c -o "$T/probe.wasm" - 2>/dev/null; then
        skip_all "clang cannot build wasm32-wasi programs (wasi-libc, libclang-rt-*-dev-wasm32)"
    fi
    cat "$T/build.log"
    fail "build $SRC"
    finish
fi
pass
UNITS=("$SRC"/test/selftest.c "$SRC"/json.c "$SRC"/f32.c "$SRC"/mysql.c "$SRC"/sha1.c "$SRC"/net.c "$SRC"/base.c)
if cc -std=gnu17 -O2 -Wall -Wextra -Werror -o "$T/selftest" "${UNITS[@]}" -lm &&
    clang --target=wasm32-wasi --sysroot=/usr -std=gnu17 -O2 -Wall -Wextra -Werror \
        -o "$T/selftest.wasm" "${UNITS[@]}"; then
    pass
    "$T/selftest" >"$T/st.log" 2>&1
    add_counts "$T/st.log" "selftest (native)"
    "$WB" run "$T/selftest.wasm" >"$T/st.log" 2>&1
    add_counts "$T/st.log" "selftest (Wasm)"
    "$T/selftest" compare 200000 >"$T/st.log" 2>&1
    add_counts "$T/st.log" "fast f32 paths (native)"
    "$WB" run "$T/selftest.wasm" compare 5000 >"$T/st.log" 2>&1
    add_counts "$T/st.log" "fast f32 paths (Wasm)"
    python3 "$SRC/test/f32_exact.py" 4000 "$T/selftest" >"$T/st.log" 2>&1
    one_check "$T/st.log" "f32 rule against exact arithmetic, 4525 values (native)"
    python3 "$SRC/test/f32_exact.py" 1000 "$WB" run "$T/selftest.wasm" >"$T/st.log" 2>&1
    one_check "$T/st.log" "f32 rule against exact arithmetic, 1525 values (Wasm)"
else
    fail "build $SRC/test/selftest.c"
fi

# ---- helpers ----

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

# wait_port PORT PID: until PORT accepts (20 s) while PID lives
wait_port() {
    local i
    for i in $(seq 200); do
        kill -0 "$2" 2>/dev/null || return 1
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

DB_PORT=$(free_port)
SOCK=$T/db.sock
SQL=(mariadb --no-defaults -S "$SOCK" -uroot)
as_user=()
[ "$(id -u)" -eq 0 ] && as_user=(--user=root)

start_db() {
    mariadbd --no-defaults --datadir="$T/db" --socket="$SOCK" --port="$DB_PORT" \
        --bind-address=127.0.0.1 --skip-name-resolve --pid-file="$T/db.pid" \
        --log-error="$T/db.err" "${as_user[@]}" >>"$T/db.out" 2>&1 &
    db_pid=$!
    local i
    for i in $(seq 300); do
        kill -0 "$db_pid" 2>/dev/null || break
        "${SQL[@]}" -e 'SELECT 1' >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "mariadbd did not start:"
    tail -n 20 "$T/db.err"
    return 1
}

stop_db() {
    kill "$db_pid" && wait "$db_pid" 2>/dev/null
    db_pid=
}

# start_server NAME KIND PORT URL: the order service (KIND wasm or native), PID in servers[]
start_server() {
    local name=$1 kind=$2 port=$3 url=$4
    if [ "$kind" = wasm ]; then
        "$WB" run --net -e "DATABASE_URL=$url" -e "PORT=$port" "$OUT/order_demo_service.wasm" \
            >"$T/$name.log" 2>&1 &
    else
        DATABASE_URL=$url PORT=$port "$OUT/order_demo_service-native" >"$T/$name.log" 2>&1 &
    fi
    local pid=$!
    servers+=("$pid")
    if wait_port "$port" "$pid"; then
        pass
    else
        fail "$name: the server did not start:"
        sed 's/^/    /' "$T/$name.log"
    fi
}

# call URL [CURL ARGS...]: sets code (the status) and the body in $T/body
call() {
    local url=$1
    shift
    code=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 20 "$@" "$url")
}

# expect LABEL CODE BODY-FILE: the last call's status and body, byte for byte
expect() {
    if [ "$code" = "$2" ] && cmp -s "$T/body" "$3"; then
        pass
    else
        fail "$1: status $code (want $2), body $(head -c 300 "$T/body" | od -c | head -n 3 | tr -s ' ')"
        diff <(cat "$T/body"; echo) <(cat "$3"; echo) | head -n 5 | sed 's/^/    /'
    fi
}

# expect_status LABEL CODE [GREP-PATTERN]: the status, and a pattern the body must hold
expect_status() {
    if [ "$code" = "$2" ] && { [ -z "${3:-}" ] || grep -q -- "$3" "$T/body"; }; then
        pass
    else
        fail "$1: status $code (want $2${3:+, body with \`$3\`}): $(head -c 300 "$T/body")"
    fi
}

# expect_log LABEL NAME PATTERN: the server's log holds PATTERN
expect_log() {
    if grep -q -- "$3" "$T/$2.log"; then pass; else
        fail "$1: \`$3\` not in the log:"
        sed 's/^/    /' "$T/$2.log" | tail -n 10
    fi
}

# ---- MariaDB ----
if ! mariadb-install-db --no-defaults --datadir="$T/db" --auth-root-authentication-method=normal \
    --skip-test-db "${as_user[@]}" >"$T/install.log" 2>&1; then
    cat "$T/install.log"
    fail "mariadb-install-db"
    finish
fi
start_db || {
    fail "start mariadbd"
    finish
}
# as the compose file's database: root from anywhere with mysql_native_password; and a user
# that MariaDB authenticates with an auth switch over TCP (unix_socket fails there, then
# mysql_native_password is asked for with an AuthSwitchRequest)
if "${SQL[@]}" -e "DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1';
    CREATE USER 'root'@'%' IDENTIFIED BY 'whalehello';
    GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;
    CREATE USER 'switcher'@'%' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('switchpw');
    GRANT ALL ON *.* TO 'switcher'@'%';" &&
    [ "$("${SQL[@]}" -N -e "SELECT plugin FROM mysql.user WHERE user='root' AND host='%'")" = mysql_native_password ]; then
    pass
else
    fail "create the users (root@'%' with mysql_native_password)"
    finish
fi
URL="mysql://root:whalehello@127.0.0.1:$DB_PORT/mysql"
ROOT_TEXT="The valid endpoints are /init /create_order /create_orders /update_order /orders /delete_order"
printf '%s' "$ROOT_TEXT" >"$T/root.body"
printf '[]' >"$T/empty.body"

# ---- the two builds through the same checks ----

# run_checks NAME PORT
run_checks() {
    local name=$1 port=$2 u=http://127.0.0.1:$2
    # the original's test calls, byte for byte
    call "$u/init"
    expect "$name: GET /init" 200 "$DATA/expected/1-init.body"
    call "$u/create_orders" -X POST --data-binary @"$DATA/orders.json"
    expect "$name: POST /create_orders" 200 "$DATA/expected/2-create_orders.body"
    call "$u/orders"
    expect "$name: GET /orders" 200 "$DATA/expected/3-orders.body"
    call "$u/update_order" -X POST --data-binary @"$DATA/update_order.json"
    expect "$name: POST /update_order" 200 "$DATA/expected/4-update_order.body"
    call "$u/delete_order?id=2"
    expect "$name: GET /delete_order?id=2" 200 "$DATA/expected/5-delete_order.body"
    call "$u/orders"
    expect "$name: GET /orders at the end" 200 "$DATA/expected/6-orders.body"

    # the other routes
    call "$u/"
    expect "$name: GET /" 200 "$T/root.body"
    printf 'echo \000 this\r\n' >"$T/echo.in"
    call "$u/echo" -X POST --data-binary @"$T/echo.in"
    expect "$name: POST /echo" 200 "$T/echo.in"
    call "$u/nothing"
    expect_status "$name: GET /nothing" 404
    call "$u/create_order"
    expect_status "$name: GET /create_order (POST only)" 404
    call "$u/orders" -X OPTIONS -D "$T/head"
    if [ "$code" = 200 ] && [ ! -s "$T/body" ] &&
        grep -qi '^Access-Control-Allow-Origin: \*' "$T/head" &&
        grep -qi '^Access-Control-Allow-Methods: GET, POST, OPTIONS' "$T/head" &&
        grep -qi '^Access-Control-Allow-Headers: api,Keep-Alive,User-Agent,Content-Type' "$T/head"; then
        pass
    else
        fail "$name: OPTIONS /orders: $code $(tr '\r\n' '  ' <"$T/head")"
    fi

    # HTTP framing, CORS on every database route, a bad body on a kept connection
    python3 "$SRC/test/http_checks.py" "$port" >"$T/http.log" 2>&1
    add_counts "$T/http.log" "$name"

    # keep-alive with curl: two requests, one connection
    curl -sv --max-time 20 -o /dev/null -o "$T/body" "$u/" "$u/orders" 2>"$T/curl.err"
    if [ "$(grep -c '^\* Connected to' "$T/curl.err")" = 1 ] && grep -qi 're-using existing connection' "$T/curl.err" &&
        cmp -s "$T/body" "$DATA/expected/6-orders.body"; then
        pass
    else
        fail "$name: two requests on one connection (curl):"
        grep '^\*' "$T/curl.err" | head -n 8 | sed 's/^/    /'
    fi

    # bad bodies: 400 and the server goes on
    call "$u/create_order" -X POST --data-binary '{"order_id": 1'
    expect_status "$name: a cut JSON body" 400 "invalid request body"
    call "$u/create_orders" -X POST --data-binary '[{"order_id":1,"product_id":2}]'
    expect_status "$name: an order without its fields" 400 "missing field"
    call "$u/update_order" -X POST --data-binary '{"order_id":"3"}'
    expect_status "$name: a string for order_id" 400 "invalid type"
    call "$u/orders"
    expect "$name: /orders after the bad bodies" 200 "$DATA/expected/6-orders.body"

    # strings that need escaping, both ways: SQL quoting and JSON escapes
    local address='it'"'"'s a \"quote\", a \\ backslash\n a tab\t, a NUL \u0000, ü, \u001f'
    local want='it'"'"'s a \"quote\", a \\ backslash\n a tab\t, a NUL \u0000, ü, \u001f'
    call "$u/create_order" -X POST --data-binary "{\"order_id\":77,\"product_id\":1,\"quantity\":1,\"amount\":0.1,\"shipping\":1234567.1,\"tax\":1e-7,\"shipping_address\":\"$address\"}"
    expect_status "$name: create_order with quotes, backslashes, NUL" 200 '{"status":true}'
    call "$u/orders"
    if grep -qF "{\"order_id\":77,\"product_id\":1,\"quantity\":1,\"amount\":0.1,\"shipping\":1234567.1,\"tax\":1e-7,\"shipping_address\":\"$want\"}" "$T/body"; then
        pass
    else
        fail "$name: the escaped order did not come back as sent: $(head -c 600 "$T/body")"
    fi
    call "$u/delete_order?id=77"
    call "$u/delete_order?id=%37%37&other=1"
    call "$u/orders"
    expect "$name: delete_order with an encoded id" 200 "$DATA/expected/6-orders.body"
    call "$u/delete_order"
    expect_status "$name: delete_order without id (NULL: nothing)" 200 '{"status":true}'

    # /orders fails without its table (the web page then calls /init)
    "${SQL[@]}" -e 'DROP TABLE mysql.orders'
    call "$u/orders"
    expect_status "$name: /orders without the table" 500 "doesn't exist"
    call "$u/init"
    call "$u/orders"
    expect "$name: /orders after /init" 200 "$T/empty.body"
    call "$u/create_orders" -X POST --data-binary @"$DATA/orders.json"
    call "$u/orders"
    expect "$name: the five orders again" 200 "$DATA/expected/3-orders.body"
}

WASM_PORT=$(free_port)
start_server wasm wasm "$WASM_PORT" "$URL"
run_checks wasm "$WASM_PORT"
NATIVE_PORT=$(free_port)
start_server native native "$NATIVE_PORT" "$URL"
run_checks native "$NATIVE_PORT"
expect_log "wasm: the first connection" wasm "connected to the database at 127.0.0.1:$DB_PORT"

# a pooled connection the server kills: the next statement goes out on it (it rested under a
# second, so it is not checked), meets the closed connection and is sent again on a new one
for name in wasm native; do
    port=$WASM_PORT
    [ "$name" = native ] && port=$NATIVE_PORT
    call "http://127.0.0.1:$port/orders"
    id=$(grep -o 'connection [0-9]*)' "$T/$name.log" | tail -n 1 | grep -o '[0-9]*')
    "${SQL[@]}" -e "KILL $id"
    call "http://127.0.0.1:$port/orders"
    expect "$name: /orders after its connection was killed" 200 "$DATA/expected/3-orders.body"
    new_id=$(grep -o 'connection [0-9]*)' "$T/$name.log" | tail -n 1 | grep -o '[0-9]*')
    if [ -n "$id" ] && [ "$new_id" != "$id" ]; then pass; else
        fail "$name: no new connection after KILL $id"
    fi
done

# ---- auth switch, wrong password (both builds) ----
for kind in wasm native; do
    port=$(free_port)
    start_server "switch-$kind" "$kind" "$port" "mysql://switcher:switchpw@127.0.0.1:$DB_PORT/mysql"
    call "http://127.0.0.1:$port/orders"
    expect "$kind: /orders as a user authenticated through an auth switch" 200 "$DATA/expected/3-orders.body"
    expect_log "$kind: MariaDB switched the plugin" "switch-$kind" "switched authentication to mysql_native_password"

    port=$(free_port)
    start_server "badpw-$kind" "$kind" "$port" "mysql://root:wrong@127.0.0.1:$DB_PORT/mysql"
    call "http://127.0.0.1:$port/orders"
    expect_status "$kind: a wrong password: 503 with the server's message" 503 "Access denied for user 'root'"
    expect_log "$kind: the ERR packet logged" "badpw-$kind" "ERROR 1045 (28000): Access denied"
    call "http://127.0.0.1:$port/"
    expect "$kind: serving on after the refused login" 200 "$T/root.body"
    call "http://127.0.0.1:$port/init"
    expect_status "$kind: and refusing again, cleanly" 503 "Access denied"
done

# ---- a database restart under warm pools ----
stop_db
call "http://127.0.0.1:$WASM_PORT/orders"
expect_status "wasm: /orders while the database is down" 503 "database error"
call "http://127.0.0.1:$NATIVE_PORT/"
expect "native: serving while the database is down" 200 "$T/root.body"
if start_db; then
    pass
    for name in wasm native; do
        port=$WASM_PORT
        [ "$name" = native ] && port=$NATIVE_PORT
        call "http://127.0.0.1:$port/orders"
        expect "$name: /orders right after the restart" 200 "$DATA/expected/3-orders.body"
        call "http://127.0.0.1:$port/delete_order?id=5"
        expect_status "$name: a statement after the restart" 200 '{"status":true}'
        call "http://127.0.0.1:$port/create_order" -X POST --data-binary '{"order_id":5,"product_id":24,"quantity":1,"amount":46.0,"shipping":10.0,"tax":2.0,"shipping_address":"No.10 Jalan Besar"}'
    done
    if [ "$(grep -c 'connected to the database' "$T/native.log")" -ge 2 ]; then pass; else
        fail "native: no new connection logged after the restart"
    fi
else
    fail "restart mariadbd"
fi

# ---- a scripted server: EOF-framed results, auth switch with a new seed, escapes ----
# start_fake ARGS...: fake_mariadb.py on a free port (in $fake_port), its log in $T/fake.sql
start_fake() {
    [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null && wait "$fake_pid" 2>/dev/null
    : >"$T/fake.sql"
    python3 "$SRC/test/fake_mariadb.py" --log "$T/fake.sql" "$@" >"$T/fake.out" 2>&1 &
    fake_pid=$!
    local i
    fake_port=
    for i in $(seq 100); do
        fake_port=$(awk '/^port /{print $2}' "$T/fake.out")
        [ -n "$fake_port" ] && return 0
        sleep 0.1
    done
    fail "fake_mariadb.py did not start: $(cat "$T/fake.out")"
    return 1
}
FAKE_ORDERS='[{"order_id":1,"product_id":12,"quantity":2,"amount":56.0,"shipping":15.0,"tax":2.0,"shipping_address":"Mataderos 2312"},{"order_id":2,"product_id":15,"quantity":3,"amount":1234567.1,"shipping":0.1,"tax":16.0,"shipping_address":"it'"'"'s \"q\""}]'
printf '%s' "$FAKE_ORDERS" >"$T/fake.body"
QUOTED_BODY='{"order_id":1,"product_id":2,"quantity":3,"amount":2.5,"shipping":0,"tax":1,"shipping_address":"it'"'"'s \\ \"x\""}'
# the INSERT of QUOTED_BODY as it must reach the server: quoted with backslashes, and quoted
# for NO_BACKSLASH_ESCAPES (only the quote doubled)
SQL_ESCAPED="VALUES (1, 2, 3, 2.5, 0.0, 1.0, 'it\\'s \\\\ \\\"x\\\"')"
SQL_DOUBLED="VALUES (1, 2, 3, 2.5, 0.0, 1.0, 'it''s \\ \"x\"')"
# the INSERT of QUOTED_BODY as it must reach the server: quoted with backslashes, and quoted
# for NO_BACKSLASH_ESCAPES (only the quote doubled)
SQL_ESCAPED="VALUES (1, 2, 3, 2.5, 0.0, 1.0, 'it\\'s \\\\ \\\"x\\\"')"
SQL_DOUBLED="VALUES (1, 2, 3, 2.5, 0.0, 1.0, 'it''s \\ \"x\"')"
# the INSERT of QUOTED_BODY as it must reach the server: quoted with backslashes, and quoted
# for NO_BACKSLASH_ESCAPES (only the quote doubled)
SQL_ESCAPED="VALUES (1, 2, 3, 2.5, 0.0, 1.0, 'it\\'s \\\\ \\\"x\\\"')"
SQL_DOUBLED="VALUES (1, 2, 3, 2.5, 0.0, 1.0, 'it''s \\ \"x\"')"
for kind in wasm native; do
    if start_fake --switch native --dribble; then
        port=$(free_port)
        start_server "fake-$kind" "$kind" "$port" "mysql://root:fakepw@127.0.0.1:$fake_port/mysql"
        call "http://127.0.0.1:$port/orders"
        expect "$kind: fake server: EOF-framed rows after an auth switch, a byte at a time" 200 "$T/fake.body"
        call "http://127.0.0.1:$port/create_order" -X POST --data-binary "$QUOTED_BODY"
        expect_status "$kind: fake server: an INSERT" 200 '{"status":true}'
        if grep -qF "$SQL_ESCAPED" "$T/fake.sql"; then pass; else
            fail "$kind: fake server: the INSERT as sent: $(tail -n 1 "$T/fake.sql")"
        fi
    fi
    if start_fake --no-backslash-escapes; then
        port=$(free_port)
        start_server "fake-nbe-$kind" "$kind" "$port" "mysql://root:fakepw@127.0.0.1:$fake_port/mysql"
        call "http://127.0.0.1:$port/create_order" -X POST --data-binary "$QUOTED_BODY"
        if [ "$code" = 200 ] && grep -qF "$SQL_DOUBLED" "$T/fake.sql"; then pass; else
            fail "$kind: fake server: quoting under NO_BACKSLASH_ESCAPES: $code $(tail -n 1 "$T/fake.sql")"
        fi
    fi
    if start_fake --switch ed25519; then
        port=$(free_port)
        start_server "fake-ed-$kind" "$kind" "$port" "mysql://root:fakepw@127.0.0.1:$fake_port/mysql"
        call "http://127.0.0.1:$port/orders"
        expect_status "$kind: fake server: a switch to a plugin the client lacks" 503 "client_ed25519"
    fi
done

finish
