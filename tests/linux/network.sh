#!/usr/bin/env bash
# Networks (issue #14): user-defined bridges (our own netlink + nftables driver) and aardvark-dns,
# Linux and Wasm containers on them, names that resolve (Linux side), -p from the host on
# 127.0.0.1 and on the host's address, the default bridge, isolation between networks, `ps`
# PORTS, `port`, and teardown that leaves no namespace, address, veth, bridge or rule behind
# (also after the monitor was killed with -9).
# Needs root, aardvark-dns and nftables (scripts/deps.sh); skips with a message otherwise.
# Usage: BUILD=build bash tests/linux/network.sh   (prints "linux-network: P passed, F failed")
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
WB=$(cd "$(dirname "$BUILD/wasmbox")" && pwd)/wasmbox
passed=0
failed=0
if [ "$(id -u)" != 0 ] || [ ! -x /usr/lib/podman/aardvark-dns ] || ! command -v nft >/dev/null; then
    echo "linux-network: skipped: needs root, aardvark-dns and nft (scripts/deps.sh)"
    echo "linux-network: 0 passed, 0 failed, 1 skipped"
    exit 0
fi
T=$(mktemp -d)
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

"$TOP/scripts/test-images.sh" load busybox "$WB" >/dev/null || fail "load busybox into wasmbox"
# the Wasm server: examples/http-hello (WasmEdge sockets) as an image
mkdir -p "$T/hh"
cp "$BUILD/examples/http-hello/http-hello.wasm" "$T/hh/"
printf 'FROM scratch\nCOPY http-hello.wasm /http-hello.wasm\nEXPOSE 8080\nENTRYPOINT ["/http-hello.wasm"]\n' >"$T/hh/Dockerfile"
"$WB" build -q --platform wasi/wasm -t hh "$T/hh" >/dev/null || fail "build the http-hello image"
HOSTIP=$(hostname -I | awk '{print $1}')

# ---- records ----
expect create 0 "" "" -- bash -c "'$WB' network create wbt-a >/dev/null"
expect create-dup 1 "" "network with name wbt-a already exists" -- "$WB" network create wbt-a
expect create-bad-subnet 1 "" "invalid subnet" -- "$WB" network create --subnet 10.0.0.0/33 wbt-x
expect create-b 0 "" "" -- bash -c "'$WB' network create --subnet 10.213.7.0/24 wbt-b >/dev/null"
expect create-overlap 1 "" "Pool overlaps" -- "$WB" network create --subnet 10.213.0.0/16 wbt-c
expect ls-names 0 $'bridge\nhost\nnone\nwbt-a\nwbt-b' "" -- bash -c "'$WB' network ls --format '{{.Name}}' | sort"
expect inspect-subnet 0 '[{"Subnet":"10.213.7.0/24","Gateway":"10.213.7.1"}] bridge' "" -- \
    "$WB" network inspect --format '{{json .IPAM.Config}} {{.Driver}}' wbt-b
expect unknown-network 125 "" "network nosuch not found" -- "$WB" run --rm --network nosuch busybox true
expect rm-predefined 1 "" "pre-defined network" -- "$WB" network rm bridge
expect rm-unknown 1 "" "No such network: nosuch" -- "$WB" network rm nosuch
expect publish-checked-before-pull 125 "" "invalid containerPort: 80a" -- "$WB" run --rm -p 80a no-such-image true

# ---- Linux to Linux by name ----
mkdir -p "$T/www"
echo "page from web" >"$T/www/index.html"
"$WB" run -d --name web --network wbt-a -v "$T/www:/www:ro" busybox httpd -f -p 80 -h /www >/dev/null
expect linux-to-linux-by-name 0 "page from web" "" -- \
    "$WB" run --rm --network wbt-a busybox sh -c 'for i in 1 2 3 4 5; do wget -qO- http://web/ && exit 0; sleep 0.2; done; exit 1'
expect linux-by-short-id 0 "page from web" "" -- \
    "$WB" run --rm --network wbt-a busybox wget -qO- "http://$("$WB" ps -q -f name=web 2>/dev/null || "$WB" inspect --format '{{.Id}}' web | cut -c1-12)/"
ip_on() { # CONTAINER NETWORK
    "$WB" inspect --format '{{json .NetworkSettings.Networks}}' "$1" |
        python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]]['IPAddress'])" "$2"
}
WEBIP=$(ip_on web wbt-a)
expect own-address-in-hosts 0 "$WEBIP	$("$WB" inspect --format '{{.Config.Hostname}}' web)" "" -- \
    bash -c "'$WB' exec web cat /etc/hosts | grep '^$WEBIP'"
expect only-lo-and-eth0 0 $'eth0\nlo' "" -- bash -c "'$WB' exec web ls /sys/class/net | sort"
expect network-inspect-lists-it 0 "web $WEBIP/16" "" -- bash -c "'$WB' network inspect --format '{{json .Containers}}' wbt-a |
    python3 -c 'import json,sys; c=list(json.load(sys.stdin).values()); print(c[0][\"Name\"], c[0][\"IPv4Address\"])'"
expect rm-in-use 1 "" "has active endpoints" -- "$WB" network rm wbt-a

# ---- a Wasm server: -p from the host, and by name from a Linux container ----
P=$(free_port)
"$WB" run -d --name hh --network wbt-a -p "$P:8080" hh >/dev/null
expect host-to-wasm-loopback 0 "Hello from wasmbox!" "" -- \
    bash -c "for i in \$(seq 50); do curl -s -m 2 http://127.0.0.1:$P/ && exit 0; sleep 0.1; done; exit 1"
expect host-to-wasm-host-address 0 "Hello from wasmbox!" "" -- curl -s -m 2 "http://$HOSTIP:$P/"
expect linux-to-wasm-by-name 0 "Hello from wasmbox!" "" -- "$WB" run --rm --network wbt-a busybox wget -qO- http://hh:8080/
expect ps-ports 0 "0.0.0.0:$P->8080/tcp" "" -- "$WB" ps --filter name=hh --format '{{.Ports}}'
expect port-all 0 "8080/tcp -> 0.0.0.0:$P" "" -- "$WB" port hh
expect port-one 0 "0.0.0.0:$P" "" -- "$WB" port hh 8080
expect port-unpublished 1 "" "No public port '9/tcp' published for hh" -- "$WB" port hh 9
expect publish-bad 125 "" "invalid containerPort: 80a" -- "$WB" run --rm -p 8080:80a busybox true

# ---- the default bridge: -p alone joins it; no names there (as Docker's) ----
P2=$(free_port)
"$WB" run -d --name onbridge -p "$P2:80" -v "$T/www:/www:ro" busybox httpd -f -p 80 -h /www >/dev/null
expect default-bridge-mode 0 "bridge" "" -- "$WB" inspect --format '{{.HostConfig.NetworkMode}}' onbridge
expect host-to-linux 0 "page from web" "" -- \
    bash -c "for i in \$(seq 50); do curl -s -m 2 http://127.0.0.1:$P2/ && exit 0; sleep 0.1; done; exit 1"
# (busybox's wget -T crashes on a timeout, on the host too: `timeout` instead)
expect bridge-no-names 1 "" "bad address" -- "$WB" run --rm --network bridge busybox wget -q -O- http://onbridge/
BRIP=$("$WB" inspect --format '{{.NetworkSettings.IPAddress}}' onbridge)
expect bridge-by-address 0 "page from web" "" -- "$WB" run --rm --network bridge busybox wget -qO- "http://$BRIP/"

# ---- isolation: another network cannot reach it ----
expect isolated-by-name 1 "" "bad address" -- "$WB" run --rm --network wbt-b busybox wget -q -O- http://web/
# (timeout must not be PID 1, which ignores its SIGTERM: sh stays PID 1)
check isolated-by-address bash -c "! '$WB' run --rm --network wbt-b busybox sh -c 'timeout 3 wget -q -O- http://$WEBIP/; exit \$?' >/dev/null 2>&1"
expect none-only-lo 0 "lo" "" -- "$WB" run --rm --network none busybox ls /sys/class/net

# ---- teardown: nothing left behind, a killed monitor's leftovers reclaimed by rm ----
"$WB" run -d --name victim --network wbt-b busybox sleep 100 >/dev/null
MON=$("$WB" inspect --format '{{.State.Pid}}' victim)
VPID=$(ps -o ppid= -p "$MON" | tr -d ' ')
kill -9 "$VPID" "$MON" 2>/dev/null
sleep 0.3
# this run's bridges (other runs may have theirs)
BRIDGES=$(for n in wbt-a wbt-b; do "$WB" network inspect --format '{{json .Options}}' $n |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["com.docker.network.bridge.name"])'; done)
BRX=$(echo $BRIDGES | sed 's/ /\\|/g')
"$WB" rm -f web hh onbridge victim >/dev/null 2>&1
check no-netns-left [ -z "$(ls -A "$WASMBOX_ROOT/netns" 2>/dev/null)" ]
check no-address-left [ -z "$(find "$WASMBOX_ROOT/networks" -path '*/ips/*' -type f)" ]
# (a veth goes with its namespace, which the kernel destroys off the caller's path: moments)
check no-veth-left wait_for 5 bash -c "! ip -o link show type veth | grep -q 'master \\($BRX\\) '"
check no-port-rule-left bash -c "! nft list ruleset 2>/dev/null | grep -q -- ' $P : '"
expect rm-now 0 "" "" -- bash -c "'$WB' network rm wbt-a wbt-b >/dev/null"
# a bridge lives as long as its network (as Docker's); prune takes the unused default's too
"$WB" network prune -f >/dev/null
check no-bridge-left bash -c "! ip -o link show | grep -q ': \\($BRX\\):'"

echo "linux-network: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
