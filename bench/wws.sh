#!/usr/bin/env bash
# wws per-request cost (issue #19): a hello worker (tests/apps/wws/worker.c, one fresh instance per
# request) served by `wasmbox run --runtime=io.containerd.wws.v1`, beside examples/http-hello (one
# long-lived instance answering every request) run as a container on the same machine. Prints
# `wrk` requests/s at concurrency 1 and 8 and the mean latency at concurrency 1 (the per-request
# cost end to end).
#
#   BUILD=build bash bench/wws.sh        (from the repo root; needs root, wrk, clang for wasm32-wasi)
#   WWS_SECONDS=5                        seconds per wrk run
set -euo pipefail
die() {
	echo "bench-wws: $*" >&2
	exit 1
}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
wb=$build/wasmbox
secs=${WWS_SECONDS:-5}
[ -x "$wb" ] || die "no engine at $wb (build it first: make)"
command -v wrk >/dev/null || die "wrk not installed (apt-get install -y wrk)"
T=$(mktemp -d)
export WASMBOX_ROOT=$T/root WASMBOX_PRECOMPILE=0
cleanup() {
	"$wb" rm -f wws-bench hello-bench >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT
cd "$root"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
mkdir -p "$T/app" "$T/hello"
clang --target=wasm32-wasi --sysroot=/usr -O2 -Wl,--strip-debug -o "$T/app/index.wasm" tests/apps/wws/worker.c
printf 'FROM scratch\nCOPY index.wasm /index.wasm\n' >"$T/app/Dockerfile"
"$wb" build -q --platform wasi/wasm -t wws-bench "$T/app" >/dev/null
cp "$build/examples/http-hello/http-hello.wasm" "$T/hello/"
printf 'FROM scratch\nCOPY http-hello.wasm /http-hello.wasm\nENTRYPOINT ["/http-hello.wasm", "8080"]\n' >"$T/hello/Dockerfile"
"$wb" build -q --platform wasi/wasm -t hello-bench "$T/hello" >/dev/null
wp=$(free_port)
hp=$(free_port)
"$wb" run -d --name wws-bench --runtime=io.containerd.wws.v1 -p "127.0.0.1:$wp:3000" wws-bench >/dev/null
"$wb" run -d --name hello-bench -p "127.0.0.1:$hp:8080" hello-bench >/dev/null
for p in "$wp" "$hp"; do
	for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$p/" && break; sleep 0.05; done
done
curl -sf "http://127.0.0.1:$wp/" | grep -q . || die "the wws app does not answer"
row() { # LABEL PORT
	local c1 c8 lat
	c1=$(wrk -t1 -c1 -d"${secs}s" --latency "http://127.0.0.1:$2/")
	c8=$(wrk -t2 -c8 -d"${secs}s" "http://127.0.0.1:$2/")
	lat=$(awk '/^    Latency/ {print $2; exit}' <<<"$c1")
	printf '%-34s %10s %10s %14s\n' "$1" "$(awk '/^Requests\/sec/ {print int($2)}' <<<"$c1")" \
		"$(awk '/^Requests\/sec/ {print int($2)}' <<<"$c8")" "$lat"
}
printf '%-34s %10s %10s %14s\n' "server" "req/s c=1" "req/s c=8" "latency c=1"
row "wws hello (instance per request)" "$wp"
row "http-hello (one instance)" "$hp"
