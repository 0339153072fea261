#!/usr/bin/env bash
# Networks, the rest of issue #14: `network connect`/`disconnect` of running and stopped
# containers, `--network container:`, `--internal`, UDP (between containers by name and from the
# host through -p, the server a Wasm module), `--add-host`/`--dns`/`--dns-search`, and 50
# containers started at once on one network (distinct addresses, names that resolve, nothing
# left after `rm -f`: no veth, no rule, no DNS entry, no address).
# Needs root, aardvark-dns, nft and clang for wasm32-wasi (scripts/deps.sh); skips otherwise.
# Usage: BUILD=build bash tests/linux/network-modes.sh   (prints "linux-network-modes: P passed, F failed")
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
WB=$(cd "$(dirname "$BUILD/wasmbox")" && pwd)/wasmbox
passed=0
failed=0
if [ "$(id -u)" != 0 ] || [ ! -x /usr/lib/podman/aardvark-dns ] || ! command -v nft >/dev/null; then
    echo "linux-network-modes: skipped: needs root, aardvark-dns and nft (scripts/deps.sh)"
    echo "linux-network-modes: 0 passed, 0 failed, 1 skipped"
    exit 0
fi
T=$(mktemp -d)
export WASMBOX_ROOT=$T/root
HOST_SERVER=
cleanup() {
    [ -n "$HOST_SERVER" ] && kill "$HOST_SERVER" 2>/dev/null
    "$WB" ps -aq 2>/dev/null | xargs -r "$WB" rm -f >/dev/null 2>&1
    "$WB" network prune -f >/dev/null 2>&1
    rm -rf "$T"
}
trap cleanup EXIT
# shellcheck source=tests/linux/harness.sh
. "$TOP/tests/linux/harness.sh"
free_port() {
    python3 -c 'import socket,sys; s=socket.socket(type=socket.SOCK_DGRAM if sys.argv[1:] else socket.SOCK_STREAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' "$@"
}
ip_on() { # CONTAINER NETWORK
    "$WB" inspect --format '{{json .NetworkSettings.Networks}}' "$1" |
        python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]]['IPAddress'])" "$2"
}
udp_ask() { # HOST PORT MESSAGE: one datagram, the answer printed
    python3 - "$@" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
for _ in range(10):
    s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
    try:
        print(s.recvfrom(2048)[0].decode())
        sys.exit(0)
    except socket.timeout:
        pass
sys.exit(1)
EOF
}

"$TOP/scripts/test-images.sh" load busybox "$WB" >/dev/null || fail "load busybox into wasmbox"
HOSTIP=$(hostname -I | awk '{print $1}')
mkdir -p "$T/www" "$T/host"
echo "page from srv" >"$T/www/index.html"
echo "page from the host" >"$T/host/index.html"
HP=$(free_port)
python3 -m http.server -b 0.0.0.0 -d "$T/host" "$HP" >/dev/null 2>&1 &
HOST_SERVER=$!
"$WB" network create wbm-a >/dev/null || fail "create wbm-a"
"$WB" network create wbm-b >/dev/null || fail "create wbm-b"
"$WB" network create --internal wbm-int >/dev/null || fail "create wbm-int"
wait_for 5 curl -sf -o /dev/null "http://127.0.0.1:$HP/" || fail "the host's test server did not start"

# ---- connect and disconnect a running container ----
"$WB" run -d --name srv --network wbm-a -v "$T/www:/www:ro" busybox httpd -f -p 80 -h /www >/dev/null
"$WB" run -d --name cli --network wbm-b busybox sleep 300 >/dev/null
SRVIP=$(ip_on srv wbm-a)
expect not-yet-connected 1 "" "bad address" -- "$WB" exec cli wget -q -O- http://srv/
expect connect 0 "" "" -- "$WB" network connect --alias cli-alias wbm-a cli
expect connect-interfaces 0 $'eth0\neth1\nlo' "" -- bash -c "'$WB' exec cli ls /sys/class/net | sort"
expect connect-by-name 0 "page from srv" "" -- "$WB" exec cli wget -q -O- http://srv/
expect connect-alias-resolves 0 "" "" -- bash -c "'$WB' exec srv ping -c1 -W2 cli-alias >/dev/null"
expect connect-inspect 0 "wbm-a wbm-b" "" -- bash -c "'$WB' inspect --format '{{json .NetworkSettings.Networks}}' cli |
    python3 -c 'import json,sys; print(*sorted(json.load(sys.stdin)))'"
expect connect-twice 1 "" "endpoint with name cli already exists in network wbm-a" -- "$WB" network connect wbm-a cli
expect connect-no-network 1 "" "No such network: nosuch" -- "$WB" network connect nosuch cli
expect disconnect 0 "" "" -- "$WB" network disconnect wbm-a cli
expect disconnect-interfaces 0 $'eth0\nlo' "" -- bash -c "'$WB' exec cli ls /sys/class/net | sort"
check disconnect-unreachable bash -c "! '$WB' exec cli sh -c 'timeout 3 wget -q -O- http://$SRVIP/; exit \$?' >/dev/null 2>&1"
expect disconnect-again 1 "" "is not connected to network wbm-a" -- "$WB" network disconnect wbm-a cli
CLIID=$("$WB" inspect --format '{{.Id}}' cli)
AID=$("$WB" network inspect --format '{{.Id}}' wbm-a)
check disconnect-address-released bash -c "! grep -rlq '$CLIID' '$WASMBOX_ROOT/networks/$AID/ips'"
check disconnect-dns-entry-gone bash -c "! grep -q '$CLIID' '$WASMBOX_ROOT/networks/.aardvark/wbm-a'"

# ---- connect a stopped container: recorded now, attached when it starts ----
"$WB" run -d --name later --network wbm-b busybox sleep 300 >/dev/null
"$WB" stop -t 0 later >/dev/null
expect connect-stopped 0 "" "" -- "$WB" network connect wbm-a later
"$WB" start later >/dev/null
expect connect-stopped-started 0 "page from srv" "" -- "$WB" exec later wget -q -O- http://srv/

# ---- --network container: ----
expect container-shares-namespace 0 "page from srv" "" -- "$WB" run --rm --network container:srv busybox wget -q -O- http://127.0.0.1/
expect container-same-address 0 "$SRVIP" "" -- bash -c "'$WB' run --rm --network container:srv busybox ip -o -4 addr show eth0 | awk '{print \$4}' | cut -d/ -f1"
"$WB" stop -t 0 later >/dev/null
expect container-not-running 125 "" "cannot join network of a non running container" -- "$WB" run --rm --network container:later busybox true
expect container-no-such 125 "" "No such container: nosuch" -- "$WB" run --rm --network container:nosuch busybox true
expect container-no-publish 125 "" "conflicting options: port publishing and the network mode" -- \
    "$WB" run --rm --network container:srv -p 8080:80 busybox true

# ---- --internal: names and the subnet, no way out ----
"$WB" run -d --name intsrv --network wbm-int -v "$T/www:/www:ro" busybox httpd -f -p 80 -h /www >/dev/null
expect internal-by-name 0 "page from srv" "" -- "$WB" run --rm --network wbm-int busybox wget -q -O- http://intsrv/
expect outside-reachable-normally 0 "page from the host" "" -- "$WB" run --rm --network wbm-a busybox wget -q -O- "http://$HOSTIP:$HP/"
check internal-no-way-out bash -c "! '$WB' run --rm --network wbm-int busybox sh -c 'timeout 3 wget -q -O- http://$HOSTIP:$HP/; exit \$?' >/dev/null 2>&1"
expect internal-no-default-route 0 "" "" -- bash -c "'$WB' run --rm --network wbm-int busybox ip route | grep -c default | grep -qx 0"

# ---- UDP: a Wasm echo server, from a container by name and from the host through -p ----
if clang --target=wasm32-wasi --sysroot=/usr -O2 -o "$T/udp-echo.wasm" "$TOP/tests/linux/udp-echo.c" 2>"$T/cc.err"; then
    mkdir -p "$T/udp"
    cp "$T/udp-echo.wasm" "$T/udp/"
    printf 'FROM scratch\nCOPY udp-echo.wasm /udp-echo.wasm\nEXPOSE 5353/udp\nENTRYPOINT ["/udp-echo.wasm", "5353"]\n' >"$T/udp/Dockerfile"
    "$WB" build -q --platform wasi/wasm -t udp-echo "$T/udp" >/dev/null || fail "build the udp-echo image"
    UP=$(free_port udp)
    "$WB" run -d --name echo --network wbm-a -p "$UP:5353/udp" udp-echo >/dev/null
    wait_for 5 bash -c "'$WB' logs echo | grep -q listening" || fail "udp-echo did not start"
    expect udp-host-loopback 0 "echo: hello" "" -- udp_ask 127.0.0.1 "$UP" hello
    expect udp-host-address 0 "echo: there" "" -- udp_ask "$HOSTIP" "$UP" there
    # Wasm to Wasm by name over UDP: the client resolves "echo" through the engine's resolver
    expect udp-wasm-to-wasm-by-name 0 "echo: by name" "" -- "$WB" run --rm --network wbm-a --entrypoint /udp-echo.wasm udp-echo --send echo 5353 "by name"
    expect udp-ps-ports 0 "0.0.0.0:$UP->5353/udp" "" -- "$WB" ps --filter name=echo --format '{{.Ports}}'
else
    fail "clang cannot build tests/linux/udp-echo.c for wasm32-wasi: $(head -1 "$T/cc.err")"
fi

# ---- a Wasm client resolving names through the engine (examples/http-hello/http-fetch.c):
# the container's hosts and resolv.conf, as a Linux container on the same network ----
mkdir -p "$T/hf"
cp "$BUILD/examples/http-hello/http-fetch.wasm" "$T/hf/" || fail "no http-fetch.wasm in $BUILD/examples/http-hello"
printf 'FROM scratch\nCOPY http-fetch.wasm /http-fetch.wasm\nENTRYPOINT ["/http-fetch.wasm"]\n' >"$T/hf/Dockerfile"
"$WB" build -q --platform wasi/wasm -t hf "$T/hf" >/dev/null || fail "build the http-fetch image"
GW_A=$(ip_on srv wbm-a | sed 's/\.[0-9]*$/.1/')
expect wasm-to-linux-by-name 0 "page from srv" "" -- "$WB" run --rm --network wbm-a hf srv 80 /index.html
expect wasm-by-alias 0 "page from srv" "" -- bash -c "'$WB' network connect --alias www-alias wbm-a later 2>/dev/null; '$WB' start later >/dev/null; '$WB' run --rm --network wbm-a -v '$T/www:/www:ro' --name aliased --network-alias site busybox true >/dev/null; '$WB' run --rm --network wbm-a hf srv 80 /index.html"
expect wasm-add-host 0 "page from srv" "" -- "$WB" run --rm --network wbm-a --add-host other.test:"$SRVIP" hf other.test 80 /index.html
expect wasm-no-names-on-default-bridge 1 "" "cannot resolve srv" -- "$WB" run --rm hf srv 80 /index.html
expect wasm-dns-server-env 0 "page from srv" "" -- "$WB" run --rm --network wbm-a -e "DNS_SERVER=$GW_A:53" hf srv 80 /index.html
expect wasm-dns-server-env-dead 1 "" "cannot resolve srv" -- "$WB" run --rm --network wbm-a -e DNS_SERVER=127.0.0.1:9 hf srv 80 /index.html
# the same answers as a Linux container's resolver on that network (busybox nslookup)
expect wasm-same-answer-as-linux 0 "$("$WB" run --rm --network wbm-a busybox nslookup srv 2>/dev/null | awk '/^Address/ && NR > 2 {print $NF}')" "" -- \
    "$WB" run --rm --network wbm-a hf --resolve srv
expect wasm-hosts-file-answer 0 "127.0.0.1" "" -- bash -c "'$WB' run --rm --network wbm-a hf --resolve localhost | grep -x 127.0.0.1"
expect wasm-add-host-answer 0 "10.9.8.7" "" -- "$WB" run --rm --network wbm-a --add-host db.test:10.9.8.7 hf --resolve db.test
expect wasm-host-network-host-view 0 "page from the host" "" -- "$WB" run --rm --network host hf localhost "$HP" /index.html

# ---- hairpin: a published port through the host's address, from containers ----
HPORT=$(free_port)
"$WB" run -d --name pubsrv --network wbm-a -p "$HPORT:80" -v "$T/www:/www:ro" busybox httpd -f -p 80 -h /www >/dev/null
wait_for 5 curl -sf -o /dev/null "http://127.0.0.1:$HPORT/" || fail "pubsrv did not start"
expect hairpin-same-network 0 "page from srv" "" -- "$WB" run --rm --network wbm-a busybox wget -q -O- "http://$HOSTIP:$HPORT/"
expect hairpin-other-network 0 "page from srv" "" -- "$WB" run --rm --network wbm-b busybox wget -q -O- "http://$HOSTIP:$HPORT/"
expect hairpin-default-bridge 0 "page from srv" "" -- "$WB" run --rm busybox wget -q -O- "http://$HOSTIP:$HPORT/"

# ---- /etc/hosts and resolv.conf flags ----
expect add-host 0 "1.2.3.4	foo.example" "" -- bash -c "'$WB' run --rm --add-host foo.example:1.2.3.4 busybox cat /etc/hosts | grep foo"
expect add-host-gateway 0 "$(ip_on srv wbm-a | sed 's/\.[0-9]*$/.1/')	gw" "" -- bash -c "'$WB' run --rm --network wbm-a --add-host gw:host-gateway busybox cat /etc/hosts | grep -w gw"
expect dns-flags 0 $'search example.org\nnameserver 10.1.2.3\noptions ndots:3' "" -- \
    "$WB" run --rm --dns 10.1.2.3 --dns-search example.org --dns-option ndots:3 busybox cat /etc/resolv.conf
expect dns-user-network-first 0 "nameserver $(ip_on srv wbm-a | sed 's/\.[0-9]*$/.1/')" "" -- \
    bash -c "'$WB' run --rm --network wbm-a --dns 10.1.2.3 busybox cat /etc/resolv.conf | head -1"
expect dns-bad 125 "" "10.1.2 is not an ip address" -- "$WB" run --rm --dns 10.1.2 busybox true
expect add-host-bad 125 "" "bad format for add-host" -- "$WB" run --rm --add-host nocolon busybox true

# ---- 50 containers at once on one network ----
"$WB" network create wbm-fifty >/dev/null || fail "create wbm-fifty"
pids=()
for i in $(seq 50); do
    "$WB" run -d --name "f$i" --network wbm-fifty -p 80 busybox sleep 300 >"$T/f$i.out" 2>&1 &
    pids+=($!)
done
wait "${pids[@]}" # (not a bare wait: the host's test server runs in the background too)
started=$(for i in $(seq 50); do [ -s "$T/f$i.out" ] && grep -qx '[0-9a-f]\{64\}' "$T/f$i.out" && echo "$i"; done | wc -l)
expect fifty-started 0 50 "" -- echo "$started"
for i in $(seq 50); do # a start that failed says why
    grep -qx '[0-9a-f]\{64\}' "$T/f$i.out" || { echo "  f$i: $(cat "$T/f$i.out")"; "$WB" inspect --format 'f'"$i"' {{.State.Status}} {{.State.Error}}' "f$i"; }
done
for i in $(seq 50); do ip_on "f$i" wbm-fifty; done >"$T/ips"
expect fifty-distinct-addresses 0 50 "" -- bash -c "sort -u '$T/ips' | grep -c ."
# every container resolves the next one's name to its address (and the first all of them)
for i in $(seq 50); do
    n=$((i % 50 + 1))
    "$WB" exec "f$i" nslookup "f$n" 2>/dev/null | awk '/^Address/ {a=$NF} END {print a}' >"$T/r$i" &
    pids+=($!)
done
wait "${pids[@]}"
ok=0
for i in $(seq 50); do
    n=$((i % 50 + 1))
    [ "$(cat "$T/r$i")" = "$(sed -n "${n}p" "$T/ips")" ] && ok=$((ok + 1))
done
expect fifty-resolve-the-next 0 50 "" -- echo "$ok"
expect fifty-first-resolves-all 0 50 "" -- "$WB" exec f1 sh -c 'n=0; for i in $(seq 50); do ping -c1 -W2 f$i >/dev/null 2>&1 && n=$((n+1)); done; echo $n'
NETID=$("$WB" network inspect --format '{{.Id}}' wbm-fifty)
BR=$("$WB" network inspect --format '{{json .Options}}' wbm-fifty | python3 -c 'import json,sys; print(json.load(sys.stdin)["com.docker.network.bridge.name"])')
PORTS=$(for i in $(seq 50); do "$WB" port "f$i" 80 | sed 's/.*://'; done | sort -u | grep -c .)
expect fifty-published 0 50 "" -- echo "$PORTS"
for i in $(seq 50); do "$WB" port "f$i" 80 | sed 's/.*://'; done >"$T/fifty-ports"
for i in $(seq 50); do "$WB" inspect --format '{{.Id}}' "f$i"; done >"$T/fifty-ids"
"$WB" rm -f $(for i in $(seq 50); do echo "f$i"; done) >/dev/null
check fifty-no-address-left [ -z "$(ls -A "$WASMBOX_ROOT/networks/$NETID/ips")" ]
check fifty-no-dns-entry-left [ ! -e "$WASMBOX_ROOT/networks/.aardvark/wbm-fifty" ]
check fifty-no-netns-left bash -c "! ls '$WASMBOX_ROOT/netns' 2>/dev/null | grep -qxFf '$T/fifty-ids'"
check fifty-no-veth-left wait_for 10 bash -c "! ip -o link show type veth | grep -q 'master $BR '"
check fifty-no-port-rule-left bash -c "nft list map ip wasmbox ports_any 2>/dev/null >'$T/map'; while read -r p; do grep -q \" \$p : \" '$T/map' && exit 1; done <'$T/fifty-ports'; exit 0"

echo "linux-network-modes: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
