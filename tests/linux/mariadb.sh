#!/usr/bin/env bash
# Issue #13, "Done when" 2: a MariaDB image built by our `build` from the debian:bookworm test
# image with `RUN apt-get install mariadb-server`, run as a Linux container with --network host;
# the host reaches its TCP port (the server's handshake) and `exec` runs `mariadb -e 'select 1'`
# inside it. Needs root and Debian's mirror (deb.debian.org) for apt-get; skips with a message
# without them. About a minute (the packages are downloaded each time).
# Usage: BUILD=build bash tests/linux/mariadb.sh   (prints "linux-mariadb: P passed, F failed")
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
WB=$(cd "$(dirname "$BUILD/wasmbox")" && pwd)/wasmbox
T=$(mktemp -d)
export WASMBOX_ROOT=$T/root
passed=0
failed=0
trap '"$WB" rm -f mdb >/dev/null 2>&1; rm -rf "$T"' EXIT
if [ "$(id -u)" != 0 ]; then
    echo "linux-mariadb: skipped: needs root"
    echo "linux-mariadb: 0 passed, 0 failed, 1 skipped"
    exit 0
fi
if ! timeout 5 bash -c 'exec 3<>/dev/tcp/deb.debian.org/80' 2>/dev/null; then
    echo "linux-mariadb: skipped: deb.debian.org:80 is not reachable (apt-get needs it)"
    echo "linux-mariadb: 0 passed, 0 failed, 1 skipped"
    exit 0
fi
check() { # NAME CMD...
    local name=$1
    shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $name"; fi
}

"$TOP/scripts/test-images.sh" load debian "$WB" >/dev/null || check load-debian false
PORT=$((10000 + RANDOM % 20000)) # below the kernel's ephemeral ports (32768-)
mkdir -p "$T/ctx"
cat >"$T/ctx/Dockerfile" <<EOF
FROM debian:bookworm
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
        mariadb-server mariadb-client && rm -rf /var/lib/apt/lists/*
RUN mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
CMD ["mariadbd", "--user=mysql", "--port=$PORT", "--bind-address=127.0.0.1", "--skip-name-resolve"]
EOF
check build bash -c "'$WB' build -q -t mdb '$T/ctx' >/dev/null"
check datadir-owner bash -c "[ \"\$('$WB' run --rm mdb stat -c %U /var/lib/mysql)\" = mysql ]"
check run-d bash -c "'$WB' run -d --name mdb --network host mdb >/dev/null"
ready() { "$WB" exec mdb mariadb -uroot -e 'select 1' >/dev/null 2>&1; }
deadline=$((SECONDS + 60))
until ready || [ $SECONDS -ge $deadline ]; do sleep 0.3; done
check exec-select-1 bash -c "[ \"\$('$WB' exec mdb mariadb -uroot -N -e 'select 1')\" = 1 ]"
# from the host: the server answers on its port (its first packet: the handshake, protocol 10,
# or, as root@localhost is the only account, error 1130 "... is not allowed to connect to this
# MariaDB server")
check host-handshake python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
data = s.recv(1024)
sys.exit(0 if len(data) > 5 and data[4] in (10, 0xff) and b"MariaDB" in data else 1)
' "$PORT"
check stop bash -c "'$WB' stop mdb >/dev/null && [ \"\$('$WB' inspect --format '{{.State.Status}}' mdb)\" = exited ]"
echo "linux-mariadb: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
