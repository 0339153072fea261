#!/usr/bin/env bash
# Compose (issue #15) end to end: the seed's hello file, a mixed Wasm + Linux project whose
# services reach each other by name (Linux → Wasm, Wasm → Linux, host → Wasm through -p),
# healthchecks and depends_on conditions, recreation only of what changed, stop/start/restart,
# run, --abort-on-container-exit/--exit-code-from, profiles, config errors, Ctrl+C under a real
# pseudo-terminal (graceful within the grace period, forced by a second Ctrl+C), and `down`
# leaving no container, network, volume or namespace behind.
# Needs root, aardvark-dns and nft (scripts/deps.sh); skips with a message otherwise.
# Usage: BUILD=build bash tests/linux/compose.sh   (prints "linux-compose: P passed, F failed")
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${BUILD:-build}" && pwd)
WB=$BUILD/wasmbox
passed=0
failed=0
if [ "$(id -u)" != 0 ] || [ ! -x /usr/lib/podman/aardvark-dns ] || ! command -v nft >/dev/null; then
    echo "linux-compose: skipped: needs root, aardvark-dns and nft (scripts/deps.sh)"
    echo "linux-compose: 0 passed, 0 failed, 1 skipped"
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
# the state of a container: Status and ExitCode
state() { "$WB" inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$1" 2>/dev/null; }
started_ns() { date -d "$("$WB" inspect --format '{{.State.StartedAt}}' "$1")" +%s%N; }
finished_ns() { date -d "$("$WB" inspect --format '{{.State.FinishedAt}}' "$1")" +%s%N; }
export WB
export -f started_ns finished_ns state

"$TOP/scripts/test-images.sh" load busybox "$WB" >/dev/null || fail "load busybox into wasmbox"
# Wasm images: the README's hello under the seed's name, the http-hello server, http-fetch
mkdir -p "$T/hello" "$T/hh" "$T/hf"
cp "$BUILD/examples/hello/hello.wasm" "$BUILD/examples/hello/Dockerfile" "$T/hello/"
"$WB" build -q --platform wasi/wasm -t secondstate/rust-example-hello "$T/hello" >/dev/null ||
    fail "build the hello image"
cp "$BUILD/examples/http-hello/http-hello.wasm" "$T/hh/"
printf 'FROM scratch\nCOPY http-hello.wasm /http-hello.wasm\nEXPOSE 8080\nENTRYPOINT ["/http-hello.wasm"]\n' >"$T/hh/Dockerfile"
"$WB" build -q --platform wasi/wasm -t hh "$T/hh" >/dev/null || fail "build the http-hello image"
cp "$BUILD/examples/http-hello/http-fetch.wasm" "$T/hf/"
printf 'FROM scratch\nCOPY http-fetch.wasm /http-fetch.wasm\nENTRYPOINT ["/http-fetch.wasm"]\n' >"$T/hf/Dockerfile"
"$WB" build -q --platform wasi/wasm -t hf "$T/hf" >/dev/null || fail "build the http-fetch image"

# ---- the seed's hello file, unchanged ----
mkdir -p "$T/seed"
cat >"$T/seed/compose.yaml" <<'EOF'
services:
  app:
    image: secondstate/rust-example-hello
    platform: wasi/wasm
    runtime: io.containerd.wasmedge.v1
EOF
cd "$T/seed" || exit 1
expect seed-up 0 $'Attaching to seed-app-1\nseed-app-1  | Hello from WebAssembly!\nseed-app-1 exited with code 0' "" -- \
    "$WB" compose up
expect seed-ps 0 "seed-app-1 app exited 0" "" -- \
    "$WB" compose ps -a --format '{{.Name}} {{.Service}} {{.State}} {{.ExitCode}}'
expect seed-ls 0 "seed exited(1) $T/seed/compose.yaml" "" -- \
    bash -c "'$WB' compose ls -a | awk 'NR > 1 { print \$1, \$2, \$3 }'"
expect seed-down 0 "" "Network seed_default  Removed" -- "$WB" compose down
expect seed-nothing-left 0 "" "" -- bash -c "'$WB' ps -aq; '$WB' network ls --format '{{.Name}}' | grep seed_ || true"
# the same file as the seed writes it with `docker compose`: `up` as the last word of a pipe
expect seed-exit-code-from 0 $'seed-app-1  | Hello from WebAssembly!\nseed-app-1 exited with code 0\nAborting on container exit...' "" -- \
    bash -c "'$WB' compose up --exit-code-from app | tail -n 3"
"$WB" compose down >/dev/null 2>&1
cd "$T" || exit 1

# ---- the Wasm tier per service (x-wasmbox-engine; docs/native.md) ----
mkdir -p "$T/eng"
cat >"$T/eng/compose.yaml" <<'EOF'
services:
  app:
    image: secondstate/rust-example-hello
    platform: wasi/wasm
    x-wasmbox-engine: native
EOF
cd "$T/eng" || exit 1
expect engine-native-up 0 $'eng-app-1  | Hello from WebAssembly!' "" -- \
    bash -c "'$WB' compose up | grep Hello"
expect engine-native-recorded 0 "native" "" -- "$WB" inspect -f '{{.HostConfig.WasmEngine}}' eng-app-1
expect engine-native-cached 0 "yes" "" -- \
    bash -c "ls '${WASMBOX_NATIVE_CACHE:-$WASMBOX_ROOT/native}'/*.wbn >/dev/null 2>&1 && echo yes"
expect engine-native-ran 0 "native" "" -- "$WB" inspect -f '{{.State.WasmEngine}}' eng-app-1
"$WB" compose down >/dev/null 2>&1
sed -i 's/x-wasmbox-engine: native/x-wasmbox-engine: fast/' compose.yaml
expect engine-invalid 1 "" 'service "app": x-wasmbox-engine: invalid value "fast" (auto, interp or native)' -- \
    "$WB" compose up
"$WB" compose down >/dev/null 2>&1
cd "$T" || exit 1

# ---- a Wasm service built from its context (the seed's `build: {context: .}`) ----
mkdir -p "$T/bld"
cp "$BUILD/examples/hello/hello.wasm" "$T/bld/"
printf 'FROM scratch\nCOPY hello.wasm /hello.wasm\nENTRYPOINT ["/hello.wasm"]\n' >"$T/bld/Dockerfile"
cat >"$T/bld/compose.yaml" <<'EOF'
services:
  server:
    platform: wasi/wasm
    build:
      context: .
    runtime: io.containerd.wasmedge.v1
    restart: "no"
EOF
cd "$T/bld" || exit 1
expect build-up 0 "bld-server-1  | Hello from WebAssembly!" "" -- bash -c "'$WB' compose up | grep Hello"
expect build-image-named 0 "wasi/wasm" "" -- "$WB" image inspect --format '{{.Os}}/{{.Architecture}}' bld-server
built_id=$("$WB" image inspect --format '{{.Id}}' bld-server)
expect build-again-cached 0 "$built_id" "" -- bash -c "'$WB' compose build >/dev/null && '$WB' image inspect --format '{{.Id}}' bld-server"
expect build-down-rmi 0 "" "" -- bash -c "'$WB' compose down --rmi local >/dev/null 2>&1; '$WB' images -q bld-server"
cd "$T" || exit 1

# ---- a Wasm and Linux project ----
PORT=$(free_port)
mkdir -p "$T/mix/www"
echo "page from web" >"$T/mix/www/index.html"
cat >"$T/mix/compose.yaml" <<EOF
name: mix
services:
  server:
    image: hh
    platform: wasi/wasm
    runtime: io.containerd.wasmedge.v1
    ports: ["$PORT:8080"]
    environment:
      GREETING: \${GREETING:-hello}
    restart: unless-stopped
  web:
    image: busybox
    command: httpd -f -p 80 -h /www
    init: true
    volumes: ["./www:/www:ro", "data:/data"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://localhost/"]
      interval: 1s
  client:
    image: busybox
    command: sh -c 'until wget -q -O - http://server:8080/; do sleep 0.1; done; wget -q -O - http://web/; exec sleep 1000'
    init: true
    depends_on:
      server:
        condition: service_started
      web:
        condition: service_healthy
  fetch:
    image: hf
    platform: wasi/wasm
    command: ["web", "80", "/index.html"]
    depends_on: [web]
volumes:
  data:
EOF
cd "$T/mix" || exit 1
expect mix-config-services 0 $'server\nweb\nclient\nfetch' "" -- "$WB" compose config --services
expect mix-up 0 "" "Container mix-client-1  Started" -- "$WB" compose up -d
expect mix-host-to-wasm 0 "Hello from wasmbox!" "" -- bash -c "curl -s --max-time 5 http://127.0.0.1:$PORT/ | head -n 1"
check mix-client-logs wait_for 10 bash -c "'$WB' compose logs client | grep -q 'mix-client-1  | page from web'"
expect mix-linux-to-wasm 0 "mix-client-1  | Hello from wasmbox!" "" -- bash -c "'$WB' compose logs client | head -n 1"
check mix-wasm-to-linux wait_for 10 bash -c "'$WB' compose logs fetch | grep -q 'page from web'"
expect mix-ps 0 $'mix-client-1 running\nmix-fetch-1 exited\nmix-server-1 running\nmix-web-1 running' "" -- \
    "$WB" compose ps -a --format '{{.Name}} {{.State}}'
expect mix-ps-healthy 0 "Up" "" -- bash -c "'$WB' compose ps web --format '{{.Status}}' | grep -o '^Up' "
check mix-ps-health-recorded bash -c "'$WB' compose ps web --format '{{.Status}}' | grep -q '(healthy)'"
expect mix-port 0 "0.0.0.0:$PORT" "" -- "$WB" compose port server 8080
expect mix-exec 0 "page from web" "" -- "$WB" compose exec -T web cat /www/index.html
expect mix-labels 0 "mix server 1" "" -- "$WB" inspect --format \
    '{{index .Config.Labels "com.docker.compose.project"}} {{index .Config.Labels "com.docker.compose.service"}} {{index .Config.Labels "com.docker.compose.container-number"}}' mix-server-1
expect mix-network 0 "mix_default" "" -- bash -c "'$WB' network ls --format '{{.Name}}' | grep mix_"
expect mix-volume 0 "mix_data" "" -- "$WB" volume ls --format '{{.Name}}'
# a second up changes nothing; a changed variable recreates that service only
ids_before=$("$WB" compose ps -aq | sort)
expect mix-up-again 0 "" "Container mix-server-1  Running" -- "$WB" compose up -d
expect mix-up-again-same-ids 0 "$ids_before" "" -- bash -c "'$WB' compose ps -aq | sort"
web_id=$("$WB" inspect --format '{{.Id}}' mix-web-1)
server_id=$("$WB" inspect --format '{{.Id}}' mix-server-1)
expect mix-recreate-changed 0 "" "Container mix-server-1  Recreated" -- env GREETING=bonjour "$WB" compose up -d
check mix-recreated-server bash -c "[ \"\$('$WB' inspect --format '{{.Id}}' mix-server-1)\" != '$server_id' ]"
expect mix-web-kept 0 "$web_id" "" -- "$WB" inspect --format '{{.Id}}' mix-web-1
expect mix-env-applied 0 "GREETING=bonjour" "" -- bash -c "'$WB' inspect --format '{{json .Config.Env}}' mix-server-1 | grep -o 'GREETING=bonjour'"
expect mix-stop 0 "" "Container mix-server-1  Stopped" -- "$WB" compose stop
expect mix-stopped 0 "" "" -- "$WB" compose ps -q
expect mix-start 0 "" "Container mix-server-1  Started" -- "$WB" compose start
check mix-started wait_for 10 bash -c "curl -s --max-time 2 http://127.0.0.1:$PORT/ | grep -q Hello"
expect mix-restart 0 "" "Container mix-web-1  Started" -- "$WB" compose restart web
expect mix-kill 0 "" "Container mix-client-1  Killed" -- "$WB" compose kill client
check mix-killed wait_for 5 bash -c '[ "$(state mix-client-1)" = "exited 137" ]'
expect mix-run-rm 0 "one-off" "" -- "$WB" compose run --rm -T client echo one-off
expect mix-run-exit-code 3 "" "" -- "$WB" compose run --rm -T client sh -c 'exit 3'
expect mix-run-removed 0 "" "" -- bash -c "'$WB' ps -a --format '{{.Names}}' | grep run || true"
expect mix-down 0 "" "Network mix_default  Removed" -- "$WB" compose down -v
expect mix-down-containers 0 "" "" -- "$WB" ps -aq
expect mix-down-network 0 "" "" -- bash -c "'$WB' network ls --format '{{.Name}}' | grep mix_ || true"
expect mix-down-volume 0 "" "" -- "$WB" volume ls -q
expect mix-down-netns 0 "" "" -- bash -c "ls '$WASMBOX_ROOT/netns' 2>/dev/null"
cd "$T" || exit 1

# ---- depends_on conditions ----
mkdir -p "$T/deps"
cat >"$T/deps/compose.yaml" <<'EOF'
services:
  db:
    image: busybox
    init: true
    command: sh -c 'sleep 2; touch /tmp/ready; exec sleep 1000'
    healthcheck:
      test: test -f /tmp/ready
      interval: 500ms
      retries: 20
  migrate:
    image: busybox
    command: sh -c 'sleep 1; echo migrated'
  app:
    image: busybox
    init: true
    command: sleep 1000
    depends_on:
      db:
        condition: service_healthy
      migrate:
        condition: service_completed_successfully
EOF
cd "$T/deps" || exit 1
expect deps-up 0 "" "Container deps-db-1  Healthy" -- "$WB" compose up -d
check deps-app-after-healthy bash -c "[ \$(started_ns deps-app-1) -ge \$((\$(started_ns deps-db-1) + 2000000000)) ]"
check deps-app-after-migrate bash -c "[ \$(started_ns deps-app-1) -ge \$(finished_ns deps-migrate-1) ]"
expect deps-health-log 0 "healthy 0" "" -- "$WB" inspect --format '{{.State.Health.Status}} {{.State.Health.FailingStreak}}' deps-db-1
"$WB" compose down -t 1 >/dev/null 2>&1
cat >"$T/deps/compose.yaml" <<'EOF'
services:
  migrate:
    image: busybox
    command: sh -c 'exit 3'
  sick:
    image: busybox
    init: true
    command: sleep 1000
    healthcheck:
      test: ["CMD", "false"]
      interval: 200ms
      retries: 2
  app:
    image: busybox
    command: "true"
    depends_on:
      migrate:
        condition: service_completed_successfully
  app2:
    image: busybox
    command: "true"
    depends_on:
      sick:
        condition: service_healthy
EOF
expect deps-failed-job 1 "" "service \"migrate\" didn't complete successfully: exit 3" -- "$WB" compose up -d app
expect deps-app-not-started 0 "created 0" "" -- state deps-app-1
expect deps-unhealthy 1 "" "dependency failed to start: container deps-sick-1 is unhealthy" -- "$WB" compose up -d app2
"$WB" compose down -t 1 >/dev/null 2>&1
cd "$T" || exit 1

# a Wasm service's healthcheck: CMD naming a module of its image, run in its sandbox (exec)
mkdir -p "$T/hw"
cp "$BUILD/examples/http-hello/http-hello.wasm" "$BUILD/examples/http-hello/http-fetch.wasm" "$T/hw/"
printf 'FROM scratch\nCOPY http-hello.wasm http-fetch.wasm /\nENTRYPOINT ["/http-hello.wasm"]\n' >"$T/hw/Dockerfile"
"$WB" build -q --platform wasi/wasm -t hw "$T/hw" >/dev/null || fail "build the hw image"
cat >"$T/hw/compose.yaml" <<'EOF'
services:
  api:
    image: hw
    platform: wasi/wasm
    healthcheck:
      test: ["CMD", "/http-fetch.wasm", "localhost", "8080", "/"]
      interval: 500ms
  shell:
    image: hw
    platform: wasi/wasm
    healthcheck:
      test: echo no shell here
      interval: 200ms
      retries: 2
  client:
    image: busybox
    command: "true"
    depends_on:
      api:
        condition: service_healthy
  client2:
    image: busybox
    command: "true"
    depends_on:
      shell:
        condition: service_healthy
EOF
cd "$T/hw" || exit 1
expect wasm-health-up 0 "" "Container hw-api-1  Healthy" -- "$WB" compose up -d client
expect wasm-health-status 0 "healthy" "" -- "$WB" inspect --format '{{.State.Health.Status}}' hw-api-1
expect wasm-exec 0 "Hello from wasmbox!" "" -- "$WB" compose exec -T api /http-fetch.wasm localhost 8080 /
expect wasm-exec-missing 127 "" 'exec: "sh": stat /sh: no such file or directory' -- "$WB" compose exec -T api sh
expect wasm-health-shell 1 "" "dependency failed to start: container hw-shell-1 is unhealthy" -- "$WB" compose up -d client2
expect wasm-health-shell-log 0 '"ExitCode":127' "" -- bash -c "'$WB' inspect --format '{{json .State.Health.Log}}' hw-shell-1 | grep -o '\"ExitCode\":127' | head -n 1"
"$WB" compose down >/dev/null 2>&1
cd "$T" || exit 1

# ---- attached: abort on exit, exit code from a service ----
mkdir -p "$T/abort"
cat >"$T/abort/compose.yaml" <<'EOF'
services:
  job:
    image: busybox
    command: sh -c 'echo working; sleep 0.5; exit 7'
  srv:
    image: hh
    platform: wasi/wasm
EOF
cd "$T/abort" || exit 1
expect abort-exit-code-from 7 "" "" -- bash -c "'$WB' compose up --exit-code-from job >'$T/abort.out'"
check abort-message grep -q "Aborting on container exit..." "$T/abort.out"
check abort-job-line grep -q "abort-job-1  | working" "$T/abort.out"
expect abort-nothing-running 0 "" "" -- "$WB" compose ps -q
expect abort-detach-incompatible 1 "" "--abort-on-container-exit and --detach are incompatible" -- \
    "$WB" compose up -d --abort-on-container-exit
"$WB" compose down >/dev/null 2>&1
cd "$T" || exit 1

# ---- secrets and configs (file, content, environment) ----
mkdir -p "$T/sec"
echo "s3cret" >"$T/sec/pw.txt"
cat >"$T/sec/compose.yaml" <<'EOF'
services:
  app:
    image: busybox
    command: sh -c 'cat /run/secrets/db_pw /run/secrets/api; echo; cat /app.conf; echo; cat /etc/other.conf'
    secrets: [db_pw, api]
    configs:
      - app.conf
      - source: other
        target: /etc/other.conf
secrets:
  db_pw:
    file: ./pw.txt
  api:
    environment: API_KEY
configs:
  app.conf:
    content: "conf content"
  other:
    content: "other content"
EOF
cd "$T/sec" || exit 1
expect secrets-configs 0 $'sec-app-1  | s3cret\nsec-app-1  | k3y\nsec-app-1  | conf content\nsec-app-1  | other content' "" -- \
    bash -c "API_KEY=k3y '$WB' compose up | grep 'sec-app-1  |'"
expect secrets-read-only 0 "1" "" -- bash -c "API_KEY=k3y '$WB' compose run --rm -T app sh -c 'echo x > /run/secrets/db_pw 2>/dev/null; echo \$?' 2>/dev/null"
printf 'services:\n  bad:\n    image: busybox\n    secrets:\n      - source: s\n        target: ../../../../../../tmp/wb-escaped-%s\nsecrets:\n  s:\n    environment: API_KEY\n' "$$" >"$T/sec/escape.yaml"
expect secrets-stay-inside 1 "" "the file name must be one path component" -- \
    env API_KEY=k3y "$WB" compose -f escape.yaml create
expect secrets-nothing-outside 1 "" "" -- test -e "/tmp/wb-escaped-$$"
expect secrets-down-removes 0 "" "" -- bash -c "API_KEY=k3y '$WB' compose down >/dev/null 2>&1; test ! -e '$WASMBOX_ROOT/compose/sec'"
cd "$T" || exit 1

# ---- profiles, files and errors ----
mkdir -p "$T/prof"
cat >"$T/prof/compose.yaml" <<'EOF'
services:
  app:
    image: hh
    platform: wasi/wasm
  debug:
    image: busybox
    profiles: [debug]
EOF
cd "$T/prof" || exit 1
expect profiles-off 0 "app" "" -- "$WB" compose config --services
expect profiles-flag 0 $'app\ndebug' "" -- "$WB" compose --profile debug config --services
expect profiles-env 0 $'app\ndebug' "" -- env COMPOSE_PROFILES=debug "$WB" compose config --services
expect compose-file-env 0 "server" "" -- env COMPOSE_FILE="$T/bld/compose.yaml" "$WB" compose config --services
printf 'services:\n  app:\n    image: hh\n    ports:\n      - "80a"\n' >"$T/prof/bad.yaml"
expect error-names-line 1 "" "bad.yaml:5: services.app.ports[0]: invalid port \"80a\"" -- \
    "$WB" compose -f bad.yaml config
expect error-unknown-service 1 "" "no such service: nosuch" -- "$WB" compose up -d nosuch
expect error-no-file 1 "" "no configuration file provided: not found" -- \
    "$WB" compose --project-directory / config
cd "$T" || exit 1

# ---- Ctrl+C under a pseudo-terminal ----
mkdir -p "$T/ctrlc/www"
cat >"$T/ctrlc/compose.yaml" <<'EOF'
services:
  server:
    image: hh
    platform: wasi/wasm
    runtime: io.containerd.wasmedge.v1
    restart: unless-stopped
  web:
    image: busybox
    init: true
    command: httpd -f -p 80 -h /www
    volumes: ["./www:/www"]
    restart: unless-stopped
    stop_grace_period: 3s
  stubborn:
    image: busybox
    init: true
    command: sh -c 'trap "" TERM; while :; do sleep 1; done'
    restart: always
    stop_grace_period: 3s
EOF
cd "$T/ctrlc" || exit 1
python3 "$TOP/tests/linux/pty_ctrlc.py" "Attaching to" -1 -- "$WB" compose up >"$T/ctrlc1.out"
read -r rc1 took1 < <(head -n 1 "$T/ctrlc1.out" | sed 's/rc=//; s/first=//')
check "ctrlc-graceful-exit-0 (rc $rc1)" [ "$rc1" = 0 ]
check "ctrlc-within-grace+1s (${took1}s)" python3 -c "import sys; sys.exit(0 if $took1 <= 4.0 else 1)"
check ctrlc-message grep -q "Gracefully stopping... (press Ctrl+C again to force)" "$T/ctrlc1.out"
expect ctrlc-none-running 0 "" "" -- "$WB" compose ps -q
sleep 1 # the restart policies must not bring anything back
expect ctrlc-still-none-running 0 "" "" -- "$WB" compose ps -q
sed -i 's/stop_grace_period: 3s/stop_grace_period: 30s/' "$T/ctrlc/compose.yaml"
python3 "$TOP/tests/linux/pty_ctrlc.py" "Attaching to" 1 -- "$WB" compose up >"$T/ctrlc2.out"
read -r rc2 took2 < <(head -n 1 "$T/ctrlc2.out" | sed 's/rc=//; s/first=//')
check "ctrlc-forced-exit-130 (rc $rc2)" [ "$rc2" = 130 ]
check "ctrlc-forced-within-1s-of-second (${took2}s after the first)" python3 -c "import sys; sys.exit(0 if $took2 <= 2.0 else 1)"
expect ctrlc-forced-none-running 0 "" "" -- "$WB" compose ps -q
expect ctrlc-down 0 "" "" -- bash -c "'$WB' compose down >/dev/null 2>&1; '$WB' ps -aq"
cd "$T" || exit 1

echo "linux-compose: $passed passed, $failed failed"
[ "$failed" = 0 ]
