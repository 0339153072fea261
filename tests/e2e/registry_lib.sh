# Helpers for the registry tests and bench/pull.sh (sourced): real peers on 127.0.0.1 only.
# Debian's docker-registry (CNCF distribution 2.8) with a config in a temp directory, plain,
# with htpasswd Basic auth, or with Bearer tokens from tests/e2e/registry_peer.py.

REG_PEER=${REG_PEER:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/registry_peer.py}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_http URL: until something answers (at most ~10 s)
wait_http() {
    local i
    for i in $(seq 1 100); do
        curl -sk -o /dev/null --max-time 1 "$1" && return 0
        sleep 0.1
    done
    echo "registry_lib: nothing answers at $1" >&2
    return 1
}

# start_registry DIR PORT [none|htpasswd HTPASSWD|token REALM CERT|tls CERT KEY]
# Starts docker-registry with its storage in DIR/data; echoes its pid.
start_registry() {
    local dir=$1 port=$2 mode=${3:-none}
    mkdir -p "$dir/data"
    {
        echo "version: 0.1"
        echo "log: {level: error, accesslog: {disabled: true}}"
        echo "storage:"
        echo "  filesystem: {rootdirectory: $dir/data}"
        echo "  delete: {enabled: true}"
        echo "  maintenance: {uploadpurging: {enabled: false}}"
        echo "http:"
        echo "  addr: 127.0.0.1:$port"
        echo "  secret: wasmbox-test-secret"
        [ "$mode" = tls ] && echo "  tls: {certificate: $4, key: $5}"
        case $mode in
        htpasswd)
            echo "auth:"
            echo "  htpasswd: {realm: wasmbox-test, path: $4}"
            ;;
        token)
            echo "auth:"
            echo "  token: {realm: \"$4\", service: wasmbox-test-registry, issuer: wasmbox-test-issuer, rootcertbundle: $5}"
            ;;
        esac
    } >"$dir/config.yml"
    docker-registry serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 &
    local pid=$!
    local scheme=http
    [ "$mode" = tls ] && scheme=https
    wait_http "$scheme://127.0.0.1:$port/v2/" || { kill "$pid" 2>/dev/null; return 1; }
    echo "$pid"
}

# start_peer LOGFILE ARGS...: registry_peer.py in the background; echoes its pid
start_peer() {
    local log=$1
    shift
    python3 "$REG_PEER" "$@" >>"$log" 2>&1 &
    echo $!
}

# stop_pid PID: end a process we started, and wait for it
stop_pid() {
    [ -n "${1:-}" ] || return 0
    kill "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}

# the registry's file for a blob
registry_blob_file() { # DIR DIGEST
    local hex=${2#sha256:}
    echo "$1/data/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
}
