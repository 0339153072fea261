#!/usr/bin/env bash
# The lunatic application runtime (io.containerd.lunatic.v1, issue #19 step 4): an app in C built
# here for wasm32-wasi against lunatic 0.13's host ABI (tests/apps/lunatic/app.c), run with
# `run --runtime=io.containerd.lunatic.v1`: 1,000 spawned processes messaging back, a TCP echo
# server with a process per connection (the stream sent in a message), links (a signal, or the
# linked process killed), receive timeouts and tag filtering, kill and exists; a plain WASI
# command as the first process; a module importing what is not provided; Compose's `runtime:`.
# Needs root and clang for wasm32-wasi; skips with a message otherwise.
# Usage: BUILD=build bash tests/linux/lunatic.sh   (prints "lunatic: P passed, F failed")
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
WB=$(cd "$(dirname "$BUILD/wasmbox")" && pwd)/wasmbox
passed=0
failed=0
T=$(mktemp -d)
WASI_CC=(clang --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Wextra -Werror -Wl,--strip-debug)
if [ "$(id -u)" != 0 ] || ! "${WASI_CC[@]}" -o "$T/app.wasm" "$TOP/tests/apps/lunatic/app.c" 2>/dev/null; then
    echo "lunatic: skipped: needs root and clang for wasm32-wasi (scripts/deps.sh)"
    echo "lunatic: 0 passed, 0 failed, 1 skipped"
    rm -rf "$T"
    exit 0
fi
export WASMBOX_ROOT=$T/root WASMBOX_PRECOMPILE=0
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
mkdir -p "$T/img"
cp "$T/app.wasm" "$T/img/"
printf 'FROM scratch\nCOPY app.wasm /app.wasm\nENTRYPOINT ["/app.wasm"]\n' >"$T/img/Dockerfile"
"$WB" build -q --platform wasi/wasm -t lunatic-app "$T/img" >/dev/null || fail "build lunatic-app"
RUN=("$WB" run --rm --network none --runtime=io.containerd.lunatic.v1)

expect spawn-1000 0 "received 1000 messages, sum 499500" "" -- "${RUN[@]}" -e LUNATIC_MODE=spawn lunatic-app
expect link-signal 0 "receive 1 tag 42" "lunatic: process 2: wasm trap: unreachable" -- "${RUN[@]}" -e LUNATIC_MODE=link lunatic-app
expect link-kills 134 "" "the process was killed" -- "${RUN[@]}" -e LUNATIC_MODE=link-die lunatic-app
expect receive-timeout 0 $'empty: 9027\nother tag: 9027\nits tag: 0 9' "" -- "${RUN[@]}" -e LUNATIC_MODE=timeout lunatic-app
expect kill-exists 0 $'before: 1\nafter: 0' "" -- "${RUN[@]}" -e LUNATIC_MODE=kill lunatic-app
expect timers 0 "timer: 0 cancel: 1 again: 0 after cancel: 9027" "" -- "${RUN[@]}" -e LUNATIC_MODE=timer lunatic-app
expect short-name 0 "received 1000 messages, sum 499500" "" -- "$WB" run --rm --network none --runtime=lunatic -e LUNATIC_MODE=spawn lunatic-app

# a TCP echo server: a process per connection, on the host's loopback (--network host)
P=$(free_port)
expect echo-run 0 "" "" -- bash -c "'$WB' run -d --name echo --network host --runtime=lunatic -e LUNATIC_MODE=echo -e LUNATIC_PORT=$P lunatic-app >/dev/null"
listening() { "$WB" logs echo 2>/dev/null | grep -q listening; }
check echo-listening wait_for 20 listening
echo_once() { # TEXT
    python3 -c "import socket,sys; s=socket.create_connection(('127.0.0.1',$P),timeout=5); s.sendall(sys.argv[1].encode()); print(s.recv(100).decode())" "$1"
}
expect echo-1 0 "hello lunatic" "" -- echo_once "hello lunatic"
expect echo-2 0 "again" "" -- echo_once "again"
expect echo-concurrent 0 "20" "" -- bash -c "for i in \$(seq 20); do python3 -c \"import socket; s=socket.create_connection(('127.0.0.1',$P),timeout=5); s.sendall(b'x\$i'); print(s.recv(10).decode())\" & done | sort -u | wc -l"
expect echo-stop 0 "echo" "" -- "$WB" stop -t 2 echo
"$WB" rm -f echo >/dev/null 2>&1

# a WASI command is a lunatic app with one process; imports lunatic does not provide are refused
mkdir -p "$T/cmd"
printf '(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))) (func (export "_start") i32.const 5 call 0))' >"$T/cmd.wat"
wat2wasm "$T/cmd.wat" -o "$T/cmd/app.wasm" && printf 'FROM scratch\nCOPY app.wasm /app.wasm\nENTRYPOINT ["/app.wasm"]\n' >"$T/cmd/Dockerfile"
"$WB" build -q --platform wasi/wasm -t lunatic-cmd "$T/cmd" >/dev/null || fail "build lunatic-cmd"
expect plain-command-exit 5 "" "" -- "${RUN[@]}" lunatic-cmd
mkdir -p "$T/imp"
printf '(module (import "lunatic::distributed" "node_id" (func (result i64))) (func (export "_start")))' >"$T/imp.wat"
wat2wasm "$T/imp.wat" -o "$T/imp/app.wasm" && printf 'FROM scratch\nCOPY app.wasm /app.wasm\nENTRYPOINT ["/app.wasm"]\n' >"$T/imp/Dockerfile"
"$WB" build -q --platform wasi/wasm -t lunatic-imp "$T/imp" >/dev/null || fail "build lunatic-imp"
expect unsupported-import 125 "" 'lunatic: the module imports `lunatic::distributed`.`node_id`, which is not provided' -- "${RUN[@]}" lunatic-imp

# ---- Compose: runtime: maps to the same code ----
mkdir -p "$T/compose"
cat >"$T/compose/compose.yaml" <<YAML
services:
  app:
    image: lunatic-app
    runtime: io.containerd.lunatic.v1
    network_mode: none
    environment:
      LUNATIC_MODE: timeout
YAML
expect compose-run 0 $'empty: 9027\nother tag: 9027\nits tag: 0 9' "" -- bash -c "cd '$T/compose' && '$WB' compose -p lunt run --rm app 2>/dev/null"
"$WB" compose -p lunt down >/dev/null 2>&1 || true

echo "lunatic: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
