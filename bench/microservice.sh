#!/usr/bin/env bash
# The microservice demo under load (issue #16, "Done when" 5): `ab` against GET /orders with 5
# rows in the table, 8 connections (keep-alive), for DURATION seconds, for
#   - the Wasm order service of the compose project (examples/microservice, `compose up -d
#     --build` in a fresh store), and
#   - the same service built natively (server/'s order_demo_service-native) and run as a Linux
#     container (FROM debian:bookworm) on the project's network, published on 8081, reading the
#     same MariaDB;
# alternating ROUNDS times; prints requests/s, p99 latency and the server process's CPU time per
# request of each round, their means, and the ratio (goal: Wasm >= 70 % of native); then, for
# context, one run of each against GET / (the HTTP path alone, no database).
# Usage: BUILD=build bash bench/microservice.sh   (DURATION=10 ROUNDS=2 CONNECTIONS=8;
#        needs root, ab (apache2-utils), the mirror or a warm apt cache for the images)
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${BUILD:-build}" && pwd)
WB=$BUILD/wasmbox
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-2}
CONNECTIONS=${CONNECTIONS:-8}
[ "$(id -u)" = 0 ] || { echo "microservice: needs root" >&2; exit 1; }
command -v ab >/dev/null || { echo "microservice: ab is not installed (apache2-utils)" >&2; exit 1; }
T=$(mktemp -d)
export WASMBOX_ROOT=$T/root
APP=$T/microservice
PROXY_PID=
cleanup() {
    if [ -d "$APP" ]; then (cd "$APP" && "$WB" compose down -v -t 1 >/dev/null 2>&1) || true; fi
    "$WB" ps -aq 2>/dev/null | xargs -r "$WB" rm -f >/dev/null 2>&1 || true
    "$WB" network prune -f >/dev/null 2>&1 || true
    "$WB" volume prune -f >/dev/null 2>&1 || true
    if [ -n "$PROXY_PID" ]; then kill "$PROXY_PID" 2>/dev/null || true; fi
    rm -rf "$T"
}
trap cleanup EXIT
log() { echo "microservice: $*" >&2; }
wait_for() { # SECONDS CMD...
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# ---- the project, as tests/linux/microservice.sh makes it ----
"$TOP/scripts/test-images.sh" load debian "$WB" >/dev/null
python3 "$TOP/scripts/apt-cache-proxy.py" --port-file "$T/proxy.port" 2>"$T/proxy.log" &
PROXY_PID=$!
wait_for 10 test -s "$T/proxy.port"
PROXY=http://127.0.0.1:$(cat "$T/proxy.port")
mkdir -p "$APP"
cp -a "$TOP/examples/microservice/." "$APP/"
rm -rf "$APP/server/build"
{
    echo "services:"
    for s in client:nginx server:. db:db; do
        printf '  %s:\n    build:\n      context: %s\n      args:\n        http_proxy: %s\n' "${s%:*}" "${s#*:}" "$PROXY"
        # ENGINE=native|interp|auto: the order service's Wasm tier (docs/native.md)
        if [ "${s%:*}" = server ] && [ -n "${ENGINE:-}" ]; then
            printf '    x-wasmbox-engine: %s\n' "$ENGINE"
        fi
    done
} >"$APP/compose.override.yaml"
cd "$APP"
log "compose up -d --build"
"$WB" compose --progress quiet up -d --build >"$T/up.log" 2>&1 || { cat "$T/up.log"; exit 1; }
wait_for 90 "$WB" exec microservice-db-1 mariadb --protocol=tcp -h 127.0.0.1 -uroot -pwhalehello -e 'SELECT 1'

# ---- the native build as a Linux container on the project's network ----
log "building the native server"
make --no-print-directory -s -C "$APP/server" OUT="$T/native" "$T/native/order_demo_service-native"
mkdir -p "$T/nimg"
cp "$T/native/order_demo_service-native" "$T/nimg/"
printf 'FROM debian:bookworm\nCOPY order_demo_service-native /order_demo_service-native\nEXPOSE 8080\nENTRYPOINT ["/order_demo_service-native"]\n' \
    >"$T/nimg/Dockerfile"
"$WB" build -q -t demo-microservice-native "$T/nimg" >/dev/null
"$WB" run -d --name native --network microservice_default -p 8081:8080 \
    -e DATABASE_URL=mysql://root:whalehello@db:3306/mysql demo-microservice-native >/dev/null

wait_for 30 curl -sf http://127.0.0.1:8080/
wait_for 30 curl -sf http://127.0.0.1:8081/
curl -sf http://127.0.0.1:8080/init >/dev/null
curl -sf http://127.0.0.1:8080/create_orders -X POST -d @"$APP/orders.json" >/dev/null
rows=$(curl -sf http://127.0.0.1:8081/orders | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
[ "$rows" = 5 ] || { log "expected 5 rows, the native server sees $rows"; exit 1; }
[ "$(curl -sf http://127.0.0.1:8080/orders)" = "$(curl -sf http://127.0.0.1:8081/orders)" ] ||
    { log "the two servers answer /orders differently"; exit 1; }

# The server processes' CPU time (user + system, all threads) in clock ticks: CPU per request is
# steadier than requests/s on a shared machine.
WASM_PID=$("$WB" inspect --format '{{.State.Pid}}' microservice-server-1)
NATIVE_PID=$("$WB" inspect --format '{{.State.Pid}}' native)
# which tier runs the order service (ENGINE unset: auto, native code compiled when `build` made
# the image; docs/native.md)
TIER=$("$WB" inspect --format '{{.State.WasmEngine}}' microservice-server-1)
log "the Wasm service runs on the $TIER tier"
TICK_US=$((1000000 / $(getconf CLK_TCK)))
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# one run: "REQUESTS_PER_S P99_MS FAILED CPU_US_PER_REQUEST"
load() { # PORT SECONDS PID [PATH]
    local c0 c1
    c0=$(cpu_ticks "$3")
    ab -q -k -c "$CONNECTIONS" -t "$2" -n 1000000 -e "$T/pct.csv" "http://127.0.0.1:$1${4:-/orders}" >"$T/ab.out" 2>&1 ||
        { cat "$T/ab.out" >&2; return 1; }
    c1=$(cpu_ticks "$3")
    local rps p99 bad count
    rps=$(awk '/^Requests per second:/ { print $4 }' "$T/ab.out")
    p99=$(awk -F, '$1 == "99" { print $2 }' "$T/pct.csv")
    bad=$(awk '/^Failed requests:/ { f = $3 } /^Non-2xx responses:/ { n = $3 } END { print f + n }' "$T/ab.out")
    count=$(awk '/^Complete requests:/ { print $3 }' "$T/ab.out")
    echo "$rps $p99 $bad $(((c1 - c0) * TICK_US / (count > 0 ? count : 1)))"
}
log "warm-up"
load 8080 2 "$WASM_PID" >/dev/null
load 8081 2 "$NATIVE_PID" >/dev/null
: >"$T/results"
for ((r = 1; r <= ROUNDS; r++)); do
    for side in wasm:8080:$WASM_PID native:8081:$NATIVE_PID; do
        IFS=: read -r name port pid <<<"$side"
        read -r rps p99 bad cpu < <(load "$port" "$DURATION" "$pid")
        printf '%-6s round %d: %9.1f requests/s  p99 %6.2f ms  %4d us CPU/request  (%d failed)\n' \
            "$name" "$r" "$rps" "$p99" "$cpu" "$bad"
        echo "$name $rps $p99 $bad $cpu" >>"$T/results"
    done
done
# context: the HTTP path alone (GET /, no database), one run each
read -r w_rps w_p99 _ w_cpu < <(load 8080 "$DURATION" "$WASM_PID" /)
read -r n_rps n_p99 _ n_cpu < <(load 8081 "$DURATION" "$NATIVE_PID" /)
python3 - "$T/results" "$CONNECTIONS" "$DURATION" "$w_rps $w_p99 $w_cpu $n_rps $n_p99 $n_cpu" "$TIER" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
def mean(side, col):
    v = [float(r[col]) for r in rows if r[0] == side]
    return sum(v) / len(v)
w, n = mean("wasm", 1), mean("native", 1)
print(f"GET /orders (5 rows), {sys.argv[2]} connections, {sys.argv[3]} s, ab -k; means of the rounds:")
print(f"  {'Wasm service (' + sys.argv[5] + ' tier):':35}{w:9.1f} requests/s  p99 {mean('wasm', 2):6.2f} ms"
      f"  {mean('wasm', 4):4.0f} us CPU/request")
print(f"  native build (Linux container):    {n:9.1f} requests/s  p99 {mean('native', 2):6.2f} ms"
      f"  {mean('native', 4):4.0f} us CPU/request")
print(f"  Wasm / native: {100 * w / n:.0f} % of the requests/s (goal: >= 70 %)")
wr, wp, wc, nr, np_, nc = (float(x) for x in sys.argv[4].split())
print(f"GET / (no database), one run: Wasm {wr:.1f} requests/s p99 {wp:.2f} ms {wc:.0f} us CPU/request;"
      f" native {nr:.1f} requests/s p99 {np_:.2f} ms {nc:.0f} us CPU/request ({100 * wr / nr:.0f} %)")
PY
