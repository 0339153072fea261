#!/usr/bin/env bash
# HTTP benchmark: the http-hello example (examples/http-hello) served natively and by
# `wasmbox run` (WasmEdge socket API with --net; preview1 on a --tcplisten listener), each hit
# with sequential requests over loopback, one connection per request (the server closes it).
# Prints requests/s for each server and its RSS after warm-up and after each round of requests;
# fails if a request fails or a server's RSS keeps growing between rounds.
#
#   BUILD=build bash bench/http.sh      (from the repo root)
#   WASMBOX=path         engine binary (default $BUILD/wasmbox)
#   HTTP_REQUESTS=10000  sequential requests per round (the http-get client in the example)
#   HTTP_ROUNDS=2        rounds per server (RSS is read after each)
#   HTTP_WRK_SECONDS=5   also run `wrk -t1 -c1` this long when wrk is installed (0: don't)
set -euo pipefail

die() {
	echo "bench-http: $*" >&2
	exit 1
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-build}
wasmbox=${WASMBOX:-$build/wasmbox}
requests=${HTTP_REQUESTS:-10000}
rounds=${HTTP_ROUNDS:-2}
wrk_seconds=${HTTP_WRK_SECONDS:-5}
case $build in /*) ;; *) build=$PWD/$build ;; esac
case $wasmbox in /*) ;; *) wasmbox=$PWD/$wasmbox ;; esac
cd "$root"
[ -x "$wasmbox" ] || die "no engine at $wasmbox (build it first: make)"
out=$build/examples/http-hello
make --no-print-directory -s -C examples/http-hello OUT="$out" || die "cannot build examples/http-hello"
have_wrk=0
if [ "$wrk_seconds" != 0 ] && command -v wrk >/dev/null; then have_wrk=1; fi

T=$(mktemp -d)
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
	rm -rf "$T"
}
trap cleanup EXIT

free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# bench_server LABEL PORT CMD...: one row of the table
bench_server() {
	local label=$1 port=$2
	shift 2
	"$@" >"$T/server.log" 2>&1 &
	server_pid=$!
	local i
	for i in $(seq 100); do
		kill -0 "$server_pid" 2>/dev/null || die "$label: the server exited: $(cat "$T/server.log")"
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
		sleep 0.1
	done
	"$out/http-get" 127.0.0.1 "$port" / 500 "Hello from wasmbox!"$'\n' >/dev/null ||
		die "$label: warm-up requests failed"
	local rss=() rates=() r line
	rss+=("$(rss_kib "$server_pid")")
	for r in $(seq "$rounds"); do
		line=$("$out/http-get" 127.0.0.1 "$port" / "$requests" "Hello from wasmbox!"$'\n') ||
			die "$label: requests failed: $line"
		rates+=("$(sed -n 's/.* \([0-9][0-9]*\) requests\/s$/\1/p' <<<"$line")")
		rss+=("$(rss_kib "$server_pid")")
	done
	local wrk_rate=-
	if [ "$have_wrk" = 1 ]; then
		wrk_rate=$(wrk -t1 -c1 -d"${wrk_seconds}s" "http://127.0.0.1:$port/" |
			awk '/^Requests\/sec:/ {printf "%.0f", $2}')
		rss+=("$(rss_kib "$server_pid")")
	fi
	kill "$server_pid"
	wait "$server_pid" 2>/dev/null || true
	server_pid=
	# stable: after the first round, RSS may not grow by more than 1 MiB per round
	local verdict=stable n=${#rss[@]}
	if [ "$n" -gt 2 ] && [ $((rss[n - 1] - rss[1])) -gt $((1024 * (n - 2))) ]; then
		verdict=GROWING
		grew=1
	fi
	printf '%-32s %-14s %8s  %s KiB (%s)\n' "$label" "${rates[*]}" "$wrk_rate" "${rss[*]}" "$verdict"
}

grew=0
printf '%-32s %-14s %8s  %s\n' "server" "req/s (rounds)" "wrk -c1" \
	"RSS: warm, after each round$([ "$have_wrk" = 1 ] && echo ", after wrk")"
port=$(free_port)
bench_server "native (POSIX sockets)" "$port" "$out/http-hello-native" "$port"
port=$(free_port)
bench_server "wasmbox --net (WasmEdge V1)" "$port" "$wasmbox" run --engine interp --net "$out/http-hello.wasm" "$port"
port=$(free_port)
bench_server "wasmbox --net (WasmEdge V2)" "$port" "$wasmbox" run --net "$out/http-hello-v2.wasm" "$port"
# the compiler tier: compiled ahead of time into a store root of the benchmark's own
native_root=$(mktemp -d)
WASMBOX_ROOT=$native_root "$wasmbox" compile -q "$out/http-hello.wasm" || die "wasmbox compile failed"
port=$(free_port)
WASMBOX_ROOT=$native_root bench_server "wasmbox --net, compiled" "$port" "$wasmbox" run --engine native \
	--net "$out/http-hello.wasm" "$port"
rm -rf "$native_root"
port=$(free_port)
bench_server "wasmbox --tcplisten (preview1)" "$port" "$wasmbox" run --tcplisten "127.0.0.1:$port" \
	"$out/http-hello-p1.wasm"
echo "($requests sequential requests per round, one connection each; wrk: 1 connection, ${wrk_seconds}s)"
[ "$grew" = 0 ] || die "a server's RSS kept growing"
