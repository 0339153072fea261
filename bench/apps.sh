#!/usr/bin/env bash
# The application runtimes' per-request cost (issue #19): a hello worker (tests/apps/wws/worker.c,
# a fresh instance per request: one of the worker's pooled instances, restored after each run)
# served by `wasmbox run --runtime=io.containerd.wws.v1`, Spin's hello through WAGI, the Spin 1.x
# ABI and Spin 2's wasi:http (tests/apps/spin/, `--runtime=io.containerd.spin.v2`), slight's (tests/apps/slight/,
# `--runtime=io.containerd.slight.v1`), beside examples/http-hello (one long-lived Wasm instance, which
# closes every connection) and the floor: bench/tools/http_floor.c, a native C server with a fixed
# answer, run in the wws container's network namespace. All three are reached at their container
# address, in the same run. Prints `wrk` requests/s at concurrency 1 and 8, the mean latency at
# concurrency 1 (end to end), the server's CPU time per request (user + system of its process over
# the c=1 run), and the handlers' own cost without the network (bench/tools/app_handler.c: the
# app's HTTP handler called in a loop, interpreted).
#
#   BUILD=build bash bench/apps.sh       (from the repo root; needs root, wrk, gcc, clang for wasm32-wasi)
#   WWS_SECONDS=5                        seconds per wrk run
#   WASMBOX_SNAPSHOT=track|copy|cow      how the pooled instances' memory is restored (default: auto)
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
floor_pid=
cleanup() {
	[ -n "$floor_pid" ] && kill "$floor_pid" 2>/dev/null
	"$wb" rm -f wws-bench hello-bench spin-bench slight-bench >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT
cd "$root"
mkdir -p "$T/app" "$T/hello" "$T/spin" "$T/slight"
clang --target=wasm32-wasi --sysroot=/usr -O2 -Wl,--strip-debug -o "$T/slight/app.wasm" tests/apps/slight/app.c
printf 'specversion = "0.2"\n[[capability]]\nresource = "http"\nname = "api"\n' >"$T/slight/slightfile.toml"
printf 'FROM scratch\nCOPY . /\n' >"$T/slight/Dockerfile"
"$wb" build -q --platform wasi/wasm -t slight-bench "$T/slight" >/dev/null
clang --target=wasm32-wasi --sysroot=/usr -O2 -Wl,--strip-debug -o "$T/app/index.wasm" tests/apps/wws/worker.c
clang --target=wasm32-wasi --sysroot=/usr -O2 -Wl,--strip-debug -o "$T/spin/wagi.wasm" tests/apps/spin/wagi.c
clang --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor -Wl,--strip-debug \
	-o "$T/spin/spin1.wasm" tests/apps/spin/spin1.c
clang --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor -Wl,--strip-debug \
	-o "$T/spin/spin2.wasm" tests/apps/spin/spin2.c
cat >"$T/spin/spin.toml" <<'TOML'
spin_manifest_version = 2
[application]
name = "bench"
[[trigger.http]]
route = "/wagi/..."
component = "wagi"
executor = { type = "wagi" }
[[trigger.http]]
route = "/spin1/..."
component = "spin1"
[component.wagi]
source = "wagi.wasm"
[[trigger.http]]
route = "/spin2/..."
component = "spin2"
[component.spin1]
source = "spin1.wasm"
[component.spin2]
source = "spin2.wasm"
TOML
printf 'FROM scratch\nCOPY . /\n' >"$T/spin/Dockerfile"
"$wb" build -q --platform wasi/wasm -t spin-bench "$T/spin" >/dev/null
gcc -O2 -o "$T/http_floor" bench/tools/http_floor.c -lpthread
gcc -O2 -std=gnu17 -D_GNU_SOURCE -Isrc -o "$T/app_handler" bench/tools/app_handler.c \
	"$build/libwasmbox.a" -ljansson -ldl -lpthread -lm
printf 'FROM scratch\nCOPY index.wasm /index.wasm\n' >"$T/app/Dockerfile"
"$wb" build -q --platform wasi/wasm -t wws-bench "$T/app" >/dev/null
cp "$build/examples/http-hello/http-hello.wasm" "$T/hello/"
printf 'FROM scratch\nCOPY http-hello.wasm /http-hello.wasm\nENTRYPOINT ["/http-hello.wasm", "8080"]\n' >"$T/hello/Dockerfile"
"$wb" build -q --platform wasi/wasm -t hello-bench "$T/hello" >/dev/null
"$wb" run -d --name wws-bench --runtime=io.containerd.wws.v1 wws-bench >/dev/null
"$wb" run -d --name hello-bench hello-bench >/dev/null
"$wb" run -d --name spin-bench --runtime=io.containerd.spin.v2 spin-bench >/dev/null
"$wb" run -d --name slight-bench --runtime=io.containerd.slight.v1 slight-bench >/dev/null
ip_of() { "$wb" inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1"; }
pid_of() { "$wb" inspect -f '{{.State.Pid}}' "$1"; }
wu="http://$(ip_of wws-bench):3000/" hu="http://$(ip_of hello-bench):8080/"
fu="http://$(ip_of wws-bench):3001/"
su="http://$(ip_of spin-bench):80"
lu="http://$(ip_of slight-bench):3000"
nsenter --net="/proc/$(pid_of wws-bench)/ns/net" "$T/http_floor" 3001 &
floor_pid=$!
for u in "$wu" "$hu" "$fu" "$su/spin1/hello" "$su/spin2/hello" "$lu/hello"; do
	for _ in $(seq 100); do curl -sf -o /dev/null "$u" && break; sleep 0.05; done
done
curl -sf "$wu" | grep -q . || die "the wws app does not answer"
cpu_ticks() { # PID: user + system clock ticks of the process (all its threads)
	awk '{print $14 + $15}' "/proc/$1/stat"
}
row() { # LABEL URL PID
	local c1 c8 lat t0 t1 n
	t0=$(cpu_ticks "$3")
	c1=$(wrk -t1 -c1 -d"${secs}s" --latency "$2")
	t1=$(cpu_ticks "$3")
	n=$(awk '/requests in/ {print $1}' <<<"$c1")
	c8=$(wrk -t2 -c8 -d"${secs}s" "$2")
	lat=$(awk '/^    Latency/ {print $2; exit}' <<<"$c1")
	printf '%-38s %10s %10s %14s %12s\n' "$1" "$(awk '/^Requests\/sec/ {print int($2)}' <<<"$c1")" \
		"$(awk '/^Requests\/sec/ {print int($2)}' <<<"$c8")" "$lat" \
		"$(awk -v t="$((t1 - t0))" -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.0fus", t * 1e6 / hz / n}')"
}
printf '%-38s %10s %10s %14s %12s\n' "server" "req/s c=1" "req/s c=8" "latency c=1" "CPU/request"
row "wws hello (instance per request)" "$wu" "$(pid_of wws-bench)"
row "Spin 1.x hello (instance per request)" "$su/spin1/hello" "$(pid_of spin-bench)"
row "Spin WAGI hello (instance per request)" "$su/wagi/fresh" "$(pid_of spin-bench)"
row "Spin 2 wasi:http hello (per request)" "$su/spin2/hello" "$(pid_of spin-bench)"
row "slight hello (instance per request)" "$lu/hello" "$(pid_of slight-bench)"
row "http-hello (one instance, closes)" "$hu" "$(pid_of hello-bench)"
row "native C server (floor, keep-alive)" "$fu" "$floor_pid"
mkdir -p "$T/rootfs"
cp "$T/app/index.wasm" "$T/rootfs/"
read -r wall cpu < <("$T/app_handler" wws "$T/rootfs" / 20000)
echo "wws handler without the network (20,000 requests): ${wall}us per request (${cpu}us CPU)"
read -r wall cpu < <("$T/app_handler" spin "$T/spin" /spin1/hello 20000)
echo "Spin 1.x handler without the network (20,000 requests): ${wall}us per request (${cpu}us CPU)"
read -r wall cpu < <("$T/app_handler" spin "$T/spin" /wagi/fresh 20000)
echo "Spin WAGI handler without the network (20,000 requests): ${wall}us per request (${cpu}us CPU)"
read -r wall cpu < <("$T/app_handler" spin "$T/spin" /spin2/hello 20000)
echo "Spin 2 wasi:http handler without the network (20,000 requests): ${wall}us per request (${cpu}us CPU)"
