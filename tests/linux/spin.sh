#!/usr/bin/env bash
# The Spin application runtime (io.containerd.spin.v2, issue #19 step 2): apps of C components
# built here for wasm32-wasi (tests/apps/spin/: a WAGI command, and a Spin 1.x and a Spin 2 core
# module written against the ABI by hand), in images with /spin.toml (manifest v2, and v1 with a
# base), run with `run -d --runtime=io.containerd.spin.v2 -p PORT:80`: WAGI's CGI variables, argv,
# status and redirects; the Spin 1.x ABI's request, headers, body, spin-config variables (defaults,
# SPIN_VARIABLE_*), the default key-value store across requests and restarts; Spin 2's wasi:http
# (fields, bodies through streams, outbound requests) with fermyon:spin variables and key-value
# (the same store); files (a directory and patterns); a fresh instance per request; failing
# components; SPIN_HTTP_LISTEN_ADDR; apps that must not start; Compose's `runtime:`.
# Needs root, nft and clang for wasm32-wasi; skips with a message otherwise.
# Usage: BUILD=build bash tests/linux/spin.sh   (prints "spin: P passed, F failed")
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
WB=$(cd "$(dirname "$BUILD/wasmbox")" && pwd)/wasmbox
passed=0
failed=0
T=$(mktemp -d)
WASI_CC=(clang --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Wextra -Werror -Wl,--strip-debug)
if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null || ! command -v curl >/dev/null ||
    ! "${WASI_CC[@]}" -o "$T/wagi.wasm" "$TOP/tests/apps/spin/wagi.c" 2>/dev/null; then
    echo "spin: skipped: needs root, nft, curl and clang for wasm32-wasi (scripts/deps.sh)"
    echo "spin: 0 passed, 0 failed, 1 skipped"
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
get() { curl -s -m 10 "$@"; }
code() { curl -s -m 10 -o /dev/null -w '%{http_code}' "$@"; }

# ---- a v2 app: WAGI and Spin 1.x components ----
A=$T/app
mkdir -p "$A/assets/deep" "$A/static"
cp "$T/wagi.wasm" "$A/wagi.wasm"
"${WASI_CC[@]}" -mexec-model=reactor -o "$A/spin1.wasm" "$TOP/tests/apps/spin/spin1.c" || fail "build spin1.wasm"
"${WASI_CC[@]}" -mexec-model=reactor -o "$A/spin2.wasm" "$TOP/tests/apps/spin/spin2.c" || fail "build spin2.wasm"
echo "an asset" >"$A/assets/a.txt"
echo "a deep asset" >"$A/assets/deep/b.txt"
echo "a static text" >"$A/static/s.txt"
echo "not matched" >"$A/static/s.html"
cat >"$A/spin.toml" <<'TOML'
spin_manifest_version = 2

[application]
name = "spin-test"

[variables]
greeting = { default = "Hello" }
who = { required = true }

[[trigger.http]]
route = "/wagi/..."
component = "wagi"
executor = { type = "wagi", argv = "${SCRIPT_NAME} -v ${ARGS}" }

[[trigger.http]]
route = "/spin1/..."
component = "spin1"

[[trigger.http]]
route = "/spin2/..."
component = "spin2"

[[trigger.http]]
route = "/exact"
component = "wagi-exact"
executor = { type = "wagi" }

[component.wagi]
source = "wagi.wasm"
files = [ { source = "assets", destination = "/assets" }, "static/*.txt" ]
environment = { MODE = "cgi" }

[component.wagi-exact]
source = "wagi.wasm"

[component.spin1]
source = "spin1.wasm"
key_value_stores = ["default"]
allowed_outbound_hosts = ["http://127.0.0.1:8081", "https://127.0.0.1:8443"]

[component.spin1.variables]
message = "{{ greeting }}, {{ who }}!"

[component.spin2]
source = "spin2.wasm"
key_value_stores = ["default"]
allowed_outbound_hosts = ["http://127.0.0.1:8081", "https://127.0.0.1:8443"]

[component.spin2.variables]
message = "{{ greeting }}, {{ who }}!"
TOML
printf 'FROM scratch\nCOPY . /\n' >"$A/Dockerfile"
"$WB" build -q --platform wasi/wasm -t spin-app "$A" >/dev/null || fail "build spin-app"
P=$(free_port)
U=http://127.0.0.1:$P
expect run-detached 0 "" "" -- bash -c "'$WB' run -d --name app --runtime=io.containerd.spin.v2 -e SPIN_VARIABLE_WHO=world -p $P:80 spin-app >/dev/null"
check server-up wait_for 20 curl -sf -o /dev/null "$U/spin1/hello"

# WAGI: argv from the template, the CGI variables, the component's environment
expect wagi-argv 0 $'argv[0]=/wagi\nargv[1]=-v\nargv[2]=a=1\nargv[3]=b c' "" -- bash -c "curl -s -m 10 '$U/wagi/env?a=1&b%20c' | grep '^argv'"
expect wagi-method 0 "REQUEST_METHOD=GET" "" -- bash -c "curl -s -m 10 $U/wagi/env | grep REQUEST_METHOD"
expect wagi-script-name 0 "SCRIPT_NAME=/wagi" "" -- bash -c "curl -s -m 10 $U/wagi/env | grep SCRIPT_NAME"
expect wagi-path-info 0 "PATH_INFO=/env" "" -- bash -c "curl -s -m 10 $U/wagi/env | grep ^PATH_INFO"
expect wagi-query 0 "QUERY_STRING=x=1" "" -- bash -c "curl -s -m 10 '$U/wagi/env?x=1' | grep QUERY_STRING"
expect wagi-matched-route 0 "X_MATCHED_ROUTE=/wagi/..." "" -- bash -c "curl -s -m 10 $U/wagi/env | grep X_MATCHED_ROUTE"
expect wagi-full-url 0 "X_FULL_URL=http://127.0.0.1:$P/wagi/env?q" "" -- bash -c "curl -s -m 10 '$U/wagi/env?q' | grep X_FULL_URL"
expect wagi-server 0 "SERVER_NAME=127.0.0.1 SERVER_PORT=$P" "" -- bash -c "curl -s -m 10 $U/wagi/env | grep -E '^SERVER_(NAME|PORT)' | tr '\n' ' ' | sed 's/ \$//'"
expect wagi-header 0 "HTTP_X_TEST=yes" "" -- bash -c "curl -s -m 10 -H 'X-Test: yes' $U/wagi/env | grep HTTP_X_TEST"
expect wagi-environment 0 "MODE=cgi" "" -- bash -c "curl -s -m 10 $U/wagi/env | grep ^MODE"
expect wagi-own-header 0 "yes" "" -- bash -c "curl -s -m 10 -D - -o /dev/null $U/wagi/env | tr -d '\r' | sed -n 's/^x-wagi: //Ip'"
expect wagi-status 0 "201 the body" "" -- bash -c "curl -s -m 10 -w '%{http_code} ' -o $T/echo -d 'the body' $U/wagi/echo; cat $T/echo"
expect wagi-redirect 0 "302 /wagi/env" "" -- bash -c "curl -s -m 10 -o /dev/null -w '%{http_code} %{redirect_url}' $U/wagi/redirect | sed 's|http://[^/]*||'"
expect wagi-noheaders-500 0 "500" "" -- code "$U/wagi/noheaders"
expect wagi-exit-500 0 "500" "" -- code "$U/wagi/fail"
expect wagi-exact-route 0 "SCRIPT_NAME=/exact" "" -- bash -c "curl -s -m 10 $U/exact | grep SCRIPT_NAME"
expect wagi-exact-no-below 0 "404" "" -- code "$U/exact/below"
expect wagi-exact-default-argv 0 "argv[0]=/exact" "" -- bash -c "curl -s -m 10 $U/exact | grep '^argv'"
# files: a directory at its destination, a pattern at "/"
expect files-dir 0 "an asset" "" -- get "$U/wagi/file?/assets/a.txt"
expect files-dir-deep 0 "a deep asset" "" -- get "$U/wagi/file?/assets/deep/b.txt"
expect files-pattern 0 "a static text" "" -- get "$U/wagi/file?/static/s.txt"
expect files-pattern-unmatched 0 "cannot open /static/s.html" "" -- get "$U/wagi/file?/static/s.html"
expect files-not-spin-toml 0 "cannot open /spin.toml" "" -- get "$U/wagi/file?/spin.toml"
# Spin 1.x: the request, Spin's headers, the body, status and headers of the answer
expect spin1-hello 0 "Hello from Spin 1 (GET /spin1/hello?x=1)" "" -- get "$U/spin1/hello?x=1"
expect spin1-answer-header 0 "spin1" "" -- bash -c "curl -s -m 10 -D - -o /dev/null $U/spin1/hello | tr -d '\r' | sed -n 's/^x-spin-test: //Ip'"
expect spin1-headers 0 "path-info=/headers matched=/spin1/... full-url=http://127.0.0.1:$P/spin1/headers x-test=yes" "" -- get -H 'X-Test: yes' "$U/spin1/headers"
expect spin1-post 0 "201 POST a body" "" -- bash -c "curl -s -m 10 -w '%{http_code} ' -o $T/post -d 'a body' $U/spin1/echo; cat $T/post"
expect spin1-put 0 "PUT x" "" -- get -X PUT -d x "$U/spin1/echo"
expect spin1-not-found 0 "404" "" -- code "$U/spin1/nothing"
expect no-route 0 "404" "" -- code "$U/nowhere"
# variables: a default and SPIN_VARIABLE_WHO, through spin-config
expect spin1-config 0 "Hello, world!" "" -- get "$U/spin1/config"
expect spin1-config-unknown 0 "error 1: no variable named \`nope\` in this component" "" -- get "$U/spin1/nokey"
# key-value: the default store, across requests
expect kv-missing 0 "error no-such-key" "" -- get "$U/spin1/kv?get=color"
expect kv-set 0 "set ok" "" -- get "$U/spin1/kv?set=color=blue"
expect kv-get 0 "value blue" "" -- get "$U/spin1/kv?get=color"
expect kv-exists 0 "exists yes" "" -- get "$U/spin1/kv?has=color"
expect kv-set-2 0 "set ok" "" -- get "$U/spin1/kv?set=size=9"
expect kv-keys 0 "color,size" "" -- get "$U/spin1/kv-keys"
expect kv-delete 0 "delete ok" "" -- get "$U/spin1/kv?del=size"
expect kv-deleted 0 "exists no" "" -- get "$U/spin1/kv?has=size"
expect kv-other-store 0 "access-denied" "" -- get "$U/spin1/kv-other"
# outbound HTTP (wasi-outbound-http): a server in the container's network namespace (its
# loopback), reached when allowed_outbound_hosts has it, refused when not
mkdir -p "$T/www" && printf 'from outside' >"$T/www/data.txt"
cat >"$T/www.py" <<'PY'
# http.server's files, and POST answered with "posted BODY x-from=HEADER"
import http.server


class Handler(http.server.SimpleHTTPRequestHandler):
    def do_POST(self):
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if not size:
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
        else:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
        out = b"posted " + body + b" x-from=" + self.headers.get("x-from", "").encode()
        self.send_response(200)
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


http.server.ThreadingHTTPServer(("127.0.0.1", 8081), Handler).serve_forever()
PY
APID=$("$WB" inspect -f '{{.State.Pid}}' app)
(cd "$T/www" && exec nsenter --net="/proc/$APID/ns/net" python3 "$T/www.py" >/dev/null 2>&1) &
WWW=$!
check outbound-server-up wait_for 10 nsenter --net="/proc/$APID/ns/net" curl -sf -o /dev/null http://127.0.0.1:8081/data.txt
expect outbound-allowed 0 "status 200 body from outside" "" -- get "$U/spin1/outbound?http://127.0.0.1:8081/data.txt"
expect outbound-404 0 "status 404" "" -- bash -c "curl -s -m 10 '$U/spin1/outbound?http://127.0.0.1:8081/nothere' | head -c 10"
expect outbound-refused 0 "error 1" "" -- get "$U/spin1/outbound?http://127.0.0.1:8082/data.txt"
expect outbound-bad-url 0 "error 2" "" -- get "$U/spin1/outbound?not-a-url"
expect outbound-https 0 "error 3" "" -- get "$U/spin1/outbound?https://127.0.0.1:8443/"
# outbound HTTPS (libcurl; wasmbox-full runs apps with published ports, so `app` and `app-tls`
# have it): a TLS server with a CA of ours, on 127.0.0.1:8443 in each app's network namespace
# (free there, and in allowed_outbound_hosts already); trusted by an app started with
# SSL_CERT_FILE naming the CA (the runtime keeps the CLI's environment), a TLS error (Spin 1.x
# error 3, with the certificate problem in the log) for `app`, started without it
mkdir -p "$T/tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=wasmbox test CA" \
    -keyout "$T/tls/ca-key.pem" -out "$T/tls/ca.pem" 2>/dev/null || fail "make the test CA"
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$T/tls/key.pem" \
    -out "$T/tls/server.csr" 2>/dev/null || fail "make the server's key"
printf 'subjectAltName=IP:127.0.0.1\n' >"$T/tls/san.cnf"
openssl x509 -req -days 1 -in "$T/tls/server.csr" -CA "$T/tls/ca.pem" -CAkey "$T/tls/ca-key.pem" \
    -CAcreateserial -extfile "$T/tls/san.cnf" -out "$T/tls/cert.pem" 2>/dev/null || fail "sign the server's certificate"
cat >"$T/tls.py" <<'PY'
# the files of argv[2] over TLS on 127.0.0.1:8443, with cert.pem and key.pem from argv[1]
import functools
import http.server
import ssl
import sys

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1] + "/cert.pem", sys.argv[1] + "/key.pem")
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[2])
server = http.server.ThreadingHTTPServer(("127.0.0.1", 8443), handler)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
PY
P_TLS=$(free_port)
U_TLS=http://127.0.0.1:$P_TLS
expect run-tls-app 0 "" "" -- bash -c "SSL_CERT_FILE='$T/tls/ca.pem' '$WB' run -d --name app-tls --runtime=io.containerd.spin.v2 -e SPIN_VARIABLE_WHO=world -p $P_TLS:80 spin-app >/dev/null"
check tls-app-up wait_for 20 curl -sf -o /dev/null "$U_TLS/spin1/hello"
TLS_PID=$("$WB" inspect -f '{{.State.Pid}}' app-tls)
check tls-app-environment grep -qz "^SSL_CERT_FILE=$T/tls/ca.pem\$" "/proc/$TLS_PID/environ"
(exec nsenter --net="/proc/$TLS_PID/ns/net" python3 "$T/tls.py" "$T/tls" "$T/www" >/dev/null 2>&1) &
TLS_WWW=$!
(exec nsenter --net="/proc/$APID/ns/net" python3 "$T/tls.py" "$T/tls" "$T/www" >/dev/null 2>&1) &
TLS_WWW_APP=$!
check tls-server-up wait_for 10 nsenter --net="/proc/$TLS_PID/ns/net" curl -sf --cacert "$T/tls/ca.pem" -o /dev/null https://127.0.0.1:8443/data.txt
check tls-server-up-app wait_for 10 nsenter --net="/proc/$APID/ns/net" curl -sf --cacert "$T/tls/ca.pem" -o /dev/null https://127.0.0.1:8443/data.txt
expect outbound-https-trusted 0 "status 200 body from outside" "" -- get "$U_TLS/spin1/outbound?https://127.0.0.1:8443/data.txt"
expect outbound-https-spin2 0 "status 200 body from outside" "" -- get "$U_TLS/spin2/outbound?https://127.0.0.1:8443/data.txt"
expect outbound-https-404 0 "status 404" "" -- bash -c "curl -s -m 10 '$U_TLS/spin1/outbound?https://127.0.0.1:8443/nothere' | head -c 10"
expect outbound-https-untrusted 0 "error 3" "" -- get "$U/spin1/outbound?https://127.0.0.1:8443/data.txt"
expect outbound-https-spin2-untrusted 0 "error 13" "" -- get "$U/spin2/outbound?https://127.0.0.1:8443/data.txt"
check logs-outbound-https-untrusted bash -c "'$WB' logs app 2>&1 | grep -q 'outbound request to https://127.0.0.1:8443/data.txt: TLS with 127.0.0.1:8443: SSL certificate problem'"
kill $TLS_WWW $TLS_WWW_APP 2>/dev/null
wait $TLS_WWW $TLS_WWW_APP 2>/dev/null
"$WB" rm -f app-tls >/dev/null 2>&1
# Spin 2 (tests/apps/spin/spin2.c: wasi:http@0.2.0 and fermyon:spin@2.0.0 with the canonical
# ABI lowered by hand): the request, its headers and body, fields, status, variables, the default
# store shared with spin1, outbound HTTP through wasi:http/outgoing-handler, failing handlers
expect spin2-hello 0 "Hello from Spin 2 (GET /spin2/hello?x=1)" "" -- get "$U/spin2/hello?x=1"
expect spin2-hello-delete 0 "Hello from Spin 2 (DELETE /spin2/hello)" "" -- get -X DELETE "$U/spin2/hello"
expect spin2-hello-other-method 0 "Hello from Spin 2 (PURGE /spin2/hello)" "" -- get -X PURGE "$U/spin2/hello"
expect spin2-answer-header 0 "spin2" "" -- bash -c "curl -s -m 10 -D - -o /dev/null $U/spin2/hello | tr -d '\r' | sed -n 's/^x-spin-test: //Ip'"
expect spin2-content-type 0 "text/plain" "" -- bash -c "curl -s -m 10 -D - -o /dev/null $U/spin2/hello | tr -d '\r' | sed -n 's/^content-type: //Ip'"
expect spin2-headers 0 "x-test=yes has-nope=0 path-info=/headers matched=/spin2/... full-url=http://127.0.0.1:$P/spin2/headers" "" -- get -H 'X-Test: yes' "$U/spin2/headers"
expect spin2-headers-has 0 "x-test=(none) has-nope=1 path-info=/headers matched=/spin2/... full-url=http://127.0.0.1:$P/spin2/headers?q" "" -- get -H 'Nope: 1' "$U/spin2/headers?q"
expect spin2-headers-multi 0 "x-test=a,b has-nope=0 path-info=/headers matched=/spin2/... full-url=http://127.0.0.1:$P/spin2/headers" "" -- get -H 'X-Test: a' -H 'X-Test: b' "$U/spin2/headers"
expect spin2-authority 0 "scheme=HTTP authority=127.0.0.1:$P" "" -- get "$U/spin2/authority"
expect spin2-post 0 "201 POST a body" "" -- bash -c "curl -s -m 10 -w '%{http_code} ' -o $T/post2 -d 'a body' $U/spin2/echo; cat $T/post2"
expect spin2-put 0 "PUT x" "" -- get -X PUT -d x "$U/spin2/echo"
expect spin2-post-empty 0 "POST " "" -- get -X POST "$U/spin2/echo"
head -c 200000 /dev/urandom >"$T/big"
BIG_SUM=$(sha256sum <"$T/big" | cut -d' ' -f1)
expect spin2-echo-200k 0 "201 200005 POST $BIG_SUM" "" -- bash -c "curl -s -m 30 -o $T/big.out -w '%{http_code}' --data-binary @$T/big $U/spin2/echo; echo \" \$(wc -c <$T/big.out) \$(head -c 4 $T/big.out) \$(tail -c +6 $T/big.out | sha256sum | cut -d' ' -f1)\""
expect spin2-immutable 0 "immutable error 2" "" -- get "$U/spin2/immutable"
expect spin2-entries 0 "a=1;b=2;a=3;" "" -- get "$U/spin2/entries"
expect spin2-entries-headers 0 "a: 1 b: 2 a: 3 text/plain" "" -- bash -c "curl -s -m 10 -D - -o /dev/null $U/spin2/entries | tr -d '\r' | sed -n 's/^\([ab]\): /\1: /Ip; s/^content-type: //Ip' | tr '\n' ' ' | sed 's/ \$//'"
expect spin2-fields 0 "orig=a=1;b=2; clone=b=2;x-y=z; bad-name=0 req-delete=2 req-append=2 req-clone=1 resp-has-ct=1 resp-append=2" "" -- get "$U/spin2/fields"
expect spin2-status 0 "418 status 418" "" -- bash -c "curl -s -m 10 -w '%{http_code} ' -o $T/st2 '$U/spin2/status?418'; cat $T/st2"
expect spin2-status-invalid 0 "200 rejected 99" "" -- bash -c "curl -s -m 10 -w '%{http_code} ' -o $T/st2 '$U/spin2/status?99'; cat $T/st2"
expect spin2-stream 0 "200 2000 line 2000" "" -- bash -c "curl -s -m 10 -w '%{http_code}' -o $T/stream2 $U/spin2/stream; echo \" \$(wc -l <$T/stream2) \$(tail -n 1 $T/stream2)\""
expect spin2-not-found 0 "404 not found" "" -- bash -c "curl -s -m 10 -w '%{http_code} ' -o $T/nf2 $U/spin2/nothing; cat $T/nf2"
# variables (fermyon:spin/variables): a value, undefined (1, naming it), an invalid name (0)
expect spin2-config 0 "Hello, world!" "" -- get "$U/spin2/config"
expect spin2-config-undefined 0 "error 1 (names nope)" "" -- bash -c "curl -s -m 10 $U/spin2/nokey | sed 's/^error 1 .*nope.*/error 1 (names nope)/'"
expect spin2-config-invalid-name 0 "error 0" "" -- get "$U/spin2/badname"
# key-value (fermyon:spin/key-value): the default store, the same as spin1's
expect spin2-kv-from-spin1 0 "value blue" "" -- get "$U/spin2/kv?get=color"
expect spin2-kv-missing 0 "none" "" -- get "$U/spin2/kv?get=shape"
expect spin2-kv-set 0 "set ok" "" -- get "$U/spin2/kv?set=shape=round"
expect spin2-kv-get 0 "value round" "" -- get "$U/spin2/kv?get=shape"
expect spin2-kv-to-spin1 0 "value round" "" -- get "$U/spin1/kv?get=shape"
expect spin2-kv-exists 0 "exists yes" "" -- get "$U/spin2/kv?has=shape"
expect spin2-kv-keys 0 "color,shape" "" -- get "$U/spin2/kv-keys"
expect spin2-kv-set-by-spin1 0 "set ok" "" -- get "$U/spin1/kv?set=shape=square"
expect spin2-kv-get-from-spin1 0 "value square" "" -- get "$U/spin2/kv?get=shape"
expect spin2-kv-delete 0 "delete ok" "" -- get "$U/spin2/kv?del=shape"
expect spin2-kv-deleted 0 "exists no" "" -- get "$U/spin2/kv?has=shape"
expect spin2-kv-deleted-for-spin1 0 "error no-such-key" "" -- get "$U/spin1/kv?get=shape"
expect spin2-kv-other-store 0 "error 2" "" -- get "$U/spin2/kv-other"
# outbound HTTP (wasi:http/outgoing-handler): allowed, a 404, refused by allowed_outbound_hosts
# (HTTP-request-denied, case 15), and a POST whose body the server echoes
expect spin2-outbound-allowed 0 "status 200 body from outside" "" -- get "$U/spin2/outbound?http://127.0.0.1:8081/data.txt"
expect spin2-outbound-404 0 "status 404" "" -- bash -c "curl -s -m 10 '$U/spin2/outbound?http://127.0.0.1:8081/nothere' | head -c 10"
expect spin2-outbound-refused 0 "error 15" "" -- get "$U/spin2/outbound?http://127.0.0.1:8082/data.txt"
expect spin2-outbound-post 0 "status 200 body posted ping x-from=spin2" "" -- get "$U/spin2/outbound-post?http://127.0.0.1:8081/echo"
# a fresh instance per request; a trap, no response set, and an error response are 500s
expect spin2-fresh 0 "runs=1" "" -- get "$U/spin2/fresh"
expect spin2-fresh-again 0 "runs=1" "" -- get "$U/spin2/fresh"
expect spin2-trap-500 0 "500" "" -- code "$U/spin2/trap"
expect spin2-noset-500 0 "500" "" -- code "$U/spin2/noset"
expect spin2-error-500 0 "500" "" -- code "$U/spin2/error"
expect spin2-fresh-after-trap 0 "runs=1" "" -- get "$U/spin2/fresh"
# what one request may hold is bounded (256 MiB of fields and bodies): a 500, then fresh again
expect spin2-hog-500 0 "500" "" -- code "$U/spin2/hog"
expect spin2-fresh-after-hog 0 "runs=1" "" -- get "$U/spin2/fresh"
kill $WWW 2>/dev/null; wait $WWW 2>/dev/null
# a fresh instance per request, also after a trap and with 8 at once
expect spin1-fresh 0 "runs=1" "" -- get "$U/spin1/fresh"
expect spin1-fresh-again 0 "runs=1" "" -- get "$U/spin1/fresh"
expect spin1-trap-500 0 "500" "" -- code "$U/spin1/trap"
expect spin1-fresh-after-trap 0 "runs=1" "" -- get "$U/spin1/fresh"
expect wagi-fresh 0 "runs=1" "" -- get "$U/wagi/fresh"
expect concurrent 0 "40 runs=1" "" -- bash -c \
    "seq 40 | xargs -P 8 -I{} curl -s -m 20 $U/spin1/fresh -o $T/fresh.{}; echo \$(ls $T/fresh.* | wc -l) \$(for f in $T/fresh.*; do cat \$f; echo; done | sort -u)"
sleep 0.3
"$WB" logs app >"$T/out.log" 2>"$T/err.log"
check logs-serving grep -q "spin: serving spin-test" "$T/out.log"
check logs-routes grep -q '/spin1/... => spin1 (spin)' "$T/out.log"
check logs-trap grep -q 'spin: component `spin1` (route /spin1/...): .*unreachable' "$T/err.log"
check logs-spin2-route grep -q '/spin2/... => spin2' "$T/out.log"
check logs-spin2-trap grep -q 'spin: component `spin2` (route /spin2/...): .*unreachable' "$T/err.log"
check logs-spin2-hog grep -q 'wasi:http: the request holds more than 256 MiB of fields and bodies' "$T/err.log"
check logs-noheaders grep -q 'exactly one of `location` or `content-type`' "$T/err.log"
check logs-outbound-refused grep -q 'outbound request to http://127.0.0.1:8082/data.txt refused: not in its allowed_outbound_hosts' "$T/err.log"
check logs-outbound-https grep -q 'outbound request to https://127.0.0.1:8443/: connect to 127.0.0.1:8443: Connection refused' "$T/err.log"
# the default store outlives the container's process
expect restart 0 "app" "" -- "$WB" restart -t 5 app
check server-up-again wait_for 20 curl -sf -o /dev/null "$U/spin1/hello"
expect kv-after-restart 0 "value blue" "" -- get "$U/spin1/kv?get=color"
expect stop 0 "app" "" -- "$WB" stop -t 5 app
expect stopped-exit-code 0 "0" "" -- "$WB" inspect --format '{{.State.ExitCode}}' app

# ---- compiled components (--engine native): pooled instances of native code restored alike ----
P4=$(free_port)
N=http://127.0.0.1:$P4
expect native-run 0 "" "" -- bash -c "'$WB' run -d --name nat --engine native --runtime=spin -e SPIN_VARIABLE_WHO=native -p $P4:80 spin-app >/dev/null"
check native-up wait_for 120 curl -sf -o /dev/null "$N/spin1/hello"
expect native-tier 0 "native" "" -- "$WB" inspect -f '{{.State.WasmEngine}}' nat
expect native-config 0 "Hello, native!" "" -- get "$N/spin1/config"
expect native-fresh 0 "runs=1 runs=1" "" -- bash -c "echo \$(curl -s -m 10 $N/spin1/fresh) \$(curl -s -m 10 $N/spin1/fresh)"
expect native-trap-500 0 "500" "" -- code "$N/spin1/trap"
expect native-fresh-after-trap 0 "runs=1" "" -- get "$N/spin1/fresh"
expect native-spin2 0 "Hello from Spin 2 (GET /spin2/hello) runs=1 runs=1" "" -- bash -c "echo \$(curl -s -m 10 $N/spin2/hello) \$(curl -s -m 10 $N/spin2/fresh) \$(curl -s -m 10 $N/spin2/fresh)"
expect native-wagi-fresh 0 "runs=1 runs=1" "" -- bash -c "echo \$(curl -s -m 10 $N/wagi/fresh) \$(curl -s -m 10 $N/wagi/fresh)"
"$WB" rm -f nat >/dev/null 2>&1

# ---- the runtime's own files stay in the container's root, and --read-only writes none ----
S=$T/symlinked
mkdir -p "$S/static" "$T/outside"
cp "$A/spin1.wasm" "$A/spin2.wasm" "$A/wagi.wasm" "$A/spin.toml" "$S/"
cp -r "$A/static" "$A/assets" "$S/"
ln -s "$T/outside" "$S/.spin" # an image whose /.spin points at a host directory
printf 'FROM scratch\nCOPY . /\n' >"$S/Dockerfile"
"$WB" build -q --platform wasi/wasm -t spin-symlinked "$S" >/dev/null || fail "build spin-symlinked"
P5=$(free_port)
expect symlink-run 0 "" "" -- bash -c "'$WB' run -d --name sym -e SPIN_VARIABLE_WHO=x --runtime=spin -p $P5:80 spin-symlinked >/dev/null"
check symlink-up wait_for 20 curl -sf -o /dev/null "http://127.0.0.1:$P5/spin1/hello"
expect symlink-kv 0 "set ok" "" -- get "http://127.0.0.1:$P5/spin1/kv?set=k=v"
expect symlink-files 0 "a static text" "" -- get "http://127.0.0.1:$P5/wagi/file?/static/s.txt"
expect symlink-nothing-outside 0 "" "" -- ls -A "$T/outside"
"$WB" rm -f sym >/dev/null 2>&1
P6=$(free_port)
expect read-only-run 0 "" "" -- bash -c "'$WB' run -d --name ro --read-only -e SPIN_VARIABLE_WHO=x --runtime=spin -p $P6:80 spin-app >/dev/null"
check read-only-up wait_for 20 curl -sf -o /dev/null "http://127.0.0.1:$P6/spin1/hello"
expect read-only-kv 0 "set ok value v" "" -- bash -c "echo \$(curl -s -m 10 'http://127.0.0.1:$P6/spin1/kv?set=k=v') \$(curl -s -m 10 'http://127.0.0.1:$P6/spin1/kv?get=k')"
"$WB" logs ro >/dev/null 2>"$T/ro.log"
check read-only-logged grep -q "read-only: the key-value store \`default\` is kept in memory only" "$T/ro.log"
"$WB" rm -f ro >/dev/null 2>&1

# ---- a v1 app with a base path; SPIN_HTTP_LISTEN_ADDR ----
V=$T/v1
mkdir -p "$V"
cp "$T/wagi.wasm" "$V/"
cat >"$V/spin.toml" <<'TOML'
spin_manifest_version = "1"
name = "v1-app"
version = "1.0.0"
trigger = { type = "http", base = "/base" }

[[component]]
id = "cgi"
source = "wagi.wasm"
environment = { MODE = "v1" }
[component.trigger]
route = "/cgi/..."
executor = { type = "wagi" }
TOML
printf 'FROM scratch\nCOPY . /\n' >"$V/Dockerfile"
"$WB" build -q --platform wasi/wasm -t spin-v1 "$V" >/dev/null || fail "build spin-v1"
P3=$(free_port)
expect v1-run 0 "" "" -- bash -c "'$WB' run -d --name v1 --runtime=spin -e SPIN_HTTP_LISTEN_ADDR=0.0.0.0:3000 -p $P3:3000 spin-v1 >/dev/null"
check v1-up wait_for 20 curl -sf -o /dev/null "http://127.0.0.1:$P3/base/cgi/env"
expect v1-route 0 "X_MATCHED_ROUTE=/base/cgi/... MODE=v1" "" -- bash -c "curl -s -m 10 http://127.0.0.1:$P3/base/cgi/env | grep -E '^(X_MATCHED_ROUTE|MODE)' | tr '\n' ' ' | sed 's/ \$//'"
expect v1-outside-base 0 "404" "" -- code "http://127.0.0.1:$P3/cgi/env"
"$WB" rm -f v1 >/dev/null 2>&1

# ---- apps that must not start: the error names Spin and what is wrong ----
expect required-variable 125 "" 'spin: variable `who` is required and has no value (give it with -e SPIN_VARIABLE_WHO=...)' -- \
    "$WB" run --rm --runtime=io.containerd.spin.v2 spin-app
mkdir -p "$T/extra" # modules the bad apps below add
bad_app() { # NAME: a copy of the v2 app with its own spin.toml (stdin)
    local d=$T/bad-$1
    mkdir -p "$d"
    cp "$A/wagi.wasm" "$A/spin1.wasm" "$d/"
    cp -r "$T/extra/." "$d/"
    cat >"$d/spin.toml"
    printf 'FROM scratch\nCOPY . /\n' >"$d/Dockerfile"
    "$WB" build -q --platform wasi/wasm -t "spin-bad-$1" "$d" >/dev/null || fail "build spin-bad-$1"
}
bad_app redis <<'TOML'
spin_manifest_version = 2
[application]
name = "x"
[[trigger.redis]]
channel = "c"
component = "c"
[component.c]
source = "wagi.wasm"
TOML
expect redis-trigger 125 "" 'the `redis` trigger is not supported' -- "$WB" run --rm --runtime=spin spin-bad-redis
bad_app no-export <<'TOML'
spin_manifest_version = 2
[application]
name = "x"
[[trigger.http]]
route = "/..."
component = "c"
[component.c]
source = "wagi.wasm"
TOML
expect spin-executor-needs-export 125 "" 'spin: component `c` (route /...) exports neither `wasi:http/incoming-handler@0.2.0#handle` (Spin 2/3) nor `handle-http-request` (Spin 1.x)' -- "$WB" run --rm --runtime=spin spin-bad-no-export
# a real component (JS, Python, .NET Spin apps are): refused, saying the component model is not
# supported; a Spin 2 module importing an interface wasmbox lacks: refused, naming it
printf '\0asm\x0d\0\x01\0' >"$T/extra/component.wasm"
cat >"$T/sqlite2.c" <<'C'
__attribute__((import_module("fermyon:spin/sqlite@2.0.0"), import_name("[static]connection.open")))
void sqlite_open(const char *name, unsigned len, void *ret);
static int ret[4];
__attribute__((export_name("wasi:http/incoming-handler@0.2.0#handle"))) void handle(int req, int out) {
    (void)req;
    (void)out;
    sqlite_open("default", 7, ret);
}
C
"${WASI_CC[@]}" -mexec-model=reactor -o "$T/extra/sqlite2.wasm" "$T/sqlite2.c" || fail "build sqlite2.wasm"
bad_app component <<'TOML'
spin_manifest_version = 2
[application]
name = "x"
[[trigger.http]]
route = "/..."
component = "c"
[component.c]
source = "component.wasm"
TOML
expect spin-component-refused 126 "" 'a WebAssembly component, not a core module (the component model is not supported yet' -- "$WB" run --rm --runtime=spin spin-bad-component
bad_app sqlite2 <<'TOML'
spin_manifest_version = 2
[application]
name = "x"
[[trigger.http]]
route = "/..."
component = "c"
[component.c]
source = "sqlite2.wasm"
TOML
expect spin2-import-refused 125 "" 'spin: component `c` imports `fermyon:spin/sqlite@2.0.0`.`[static]connection.open`, which is not supported yet' -- "$WB" run --rm --runtime=spin spin-bad-sqlite2
bad_app missing-source <<'TOML'
spin_manifest_version = 2
[application]
name = "x"
[[trigger.http]]
route = "/..."
component = "c"
executor = { type = "wagi" }
[component.c]
source = "nothere.wasm"
TOML
expect missing-source 125 "" 'spin: component `c`: source `nothere.wasm`' -- "$WB" run --rm --runtime=spin spin-bad-missing-source
bad_app bad-toml <<'TOML'
spin_manifest_version = 2
[application
TOML
expect bad-toml 125 "" 'line 2' -- "$WB" run --rm --runtime=spin spin-bad-bad-toml
bad_app kv-store <<'TOML'
spin_manifest_version = 2
[application]
name = "x"
[[trigger.http]]
route = "/..."
component = "c"
[component.c]
source = "spin1.wasm"
key_value_stores = ["mine"]
TOML
expect undefined-kv-store 125 "" 'spin: component `c`: key-value store `mine` is not defined' -- "$WB" run --rm --runtime=spin spin-bad-kv-store
mkdir -p "$T/no-manifest" && cp "$A/wagi.wasm" "$T/no-manifest/" && printf 'FROM scratch\nCOPY . /\n' >"$T/no-manifest/Dockerfile"
"$WB" build -q --platform wasi/wasm -t spin-none "$T/no-manifest" >/dev/null || fail "build spin-none"
expect no-manifest 125 "" 'spin: no /spin.toml in the container' -- "$WB" run --rm --runtime=spin spin-none
expect bad-listen-addr 125 "" 'spin: SPIN_HTTP_LISTEN_ADDR `nonsense` is not HOST:PORT' -- \
    "$WB" run --rm --runtime=spin -e SPIN_HTTP_LISTEN_ADDR=nonsense -e SPIN_VARIABLE_WHO=x spin-app
expect runtime-short-name 0 "io.containerd.spin.v2" "" -- bash -c "'$WB' create --name short --runtime spin spin-app >/dev/null && '$WB' inspect --format '{{.HostConfig.Runtime}}' short"

# ---- Compose: runtime: maps to the same code ----
P2=$(free_port)
mkdir -p "$T/compose"
cat >"$T/compose/compose.yaml" <<YAML
services:
  web:
    image: spin-app
    runtime: io.containerd.spin.v2
    environment:
      SPIN_VARIABLE_WHO: compose
    ports:
      - "$P2:80"
YAML
expect compose-up 0 "" "" -- bash -c "cd '$T/compose' && '$WB' compose -p spint up -d >/dev/null 2>&1"
check compose-serving wait_for 20 curl -sf -o /dev/null "http://127.0.0.1:$P2/spin1/hello"
expect compose-config 0 "Hello, compose!" "" -- get "http://127.0.0.1:$P2/spin1/config"
expect compose-down 0 "" "" -- bash -c "cd '$T/compose' && '$WB' compose -p spint down >/dev/null 2>&1"

# ---- an app as `spin registry push` stores it (an OCI artifact: the locked app as config, raw
# modules and files as layers), pushed to a real docker-registry, pulled and run; no --runtime:
# the artifact names Spin ----
if command -v docker-registry >/dev/null; then
    # shellcheck source=tests/e2e/registry_lib.sh
    . "$TOP/tests/e2e/registry_lib.sh"
    RP=$(free_port)
    REGPID=$(start_registry "$T/reg" "$RP") || fail "start docker-registry"
    echo "a file from a layer" >"$T/asset.txt"
    push() { python3 "$TOP/tests/apps/spin/push_artifact.py" "127.0.0.1:$RP" "$@" "$A/wagi.wasm" "$A/spin1.wasm" "$T/asset.txt"; }
    DG=$(push spinoci:1) || fail "push the artifact"
    expect oci-pull 0 "" "" -- bash -c "'$WB' pull -q 127.0.0.1:$RP/spinoci:1 >/dev/null"
    expect oci-digest-kept 0 "$DG" "" -- bash -c "'$WB' image inspect --format '{{index .RepoDigests 0}}' 127.0.0.1:$RP/spinoci:1 | sed 's/.*@//'"
    expect oci-platform 0 "wasi/wasm" "" -- "$WB" image inspect --format '{{.Os}}/{{.Architecture}}' "127.0.0.1:$RP/spinoci:1"
    OP=$(free_port)
    OU=http://127.0.0.1:$OP
    expect oci-run 0 "" "" -- bash -c "'$WB' run -d --name ociapp -e SPIN_VARIABLE_WHO=oci -p $OP:80 127.0.0.1:$RP/spinoci:1 >/dev/null"
    check oci-serving wait_for 20 curl -sf -o /dev/null "$OU/spin1/hello"
    expect oci-runtime 0 "io.containerd.spin.v2" "" -- "$WB" inspect --format '{{.HostConfig.Runtime}}' ociapp
    expect oci-spin1 0 "Hello from Spin 1 (GET /spin1/hello)" "" -- get "$OU/spin1/hello"
    expect oci-variables 0 "Hello, oci!" "" -- get "$OU/spin1/config"
    expect oci-kv-set 0 "set ok" "" -- get "$OU/spin1/kv?set=k=v"
    expect oci-kv-get 0 "value v" "" -- get "$OU/spin1/kv?get=k"
    expect oci-wagi-env 0 "MODE=oci" "" -- bash -c "curl -s -m 10 $OU/wagi/env | grep ^MODE"
    expect oci-wagi-argv 0 "argv[1]=-v" "" -- bash -c "curl -s -m 10 $OU/wagi/env | grep '^argv\[1\]'"
    expect oci-file-layer 0 "a file from a layer" "" -- get "$OU/wagi/file?/assets/a.txt"
    expect oci-file-empty 0 "" "" -- get "$OU/wagi/file?/assets/empty.txt"
    expect oci-file-inline 0 "inline content" "" -- get "$OU/wagi/file?/small.txt"
    expect oci-no-locked-app-file 0 "cannot open /spin.json" "" -- get "$OU/wagi/file?/spin.json"
    "$WB" rm -f ociapp >/dev/null 2>&1
    # newer Spin's layout: the locked app as a layer, a plain image config (os wasip1)
    SPIN_NEW_LAYOUT=1 push spinoci:new >/dev/null || fail "push the new layout"
    expect oci-new-pull 0 "" "" -- bash -c "'$WB' pull -q --platform wasi/wasm 127.0.0.1:$RP/spinoci:new >/dev/null"
    NP=$(free_port)
    expect oci-new-run 0 "" "" -- bash -c "'$WB' run -d --name ociapp2 -e SPIN_VARIABLE_WHO=new -p $NP:80 127.0.0.1:$RP/spinoci:new >/dev/null"
    check oci-new-serving wait_for 20 curl -sf -o /dev/null "http://127.0.0.1:$NP/spin1/hello"
    expect oci-new-variables 0 "Hello, new!" "" -- get "http://127.0.0.1:$NP/spin1/config"
    expect oci-new-file 0 "a file from a layer" "" -- get "http://127.0.0.1:$NP/wagi/file?/assets/a.txt"
    "$WB" rm -f ociapp2 >/dev/null 2>&1
    # Spin's archive assembly (many files, or SPIN_OCI_ARCHIVE_LAYERS): a component's files in
    # one tar.gz layer, the locked app naming each file by its own digest
    SPIN_ARCHIVE=1 push spinoci:archive >/dev/null || fail "push the archive layout"
    expect oci-archive-pull 0 "" "" -- bash -c "'$WB' pull -q 127.0.0.1:$RP/spinoci:archive >/dev/null"
    AP=$(free_port)
    AU=http://127.0.0.1:$AP
    expect oci-archive-run 0 "" "" -- bash -c "'$WB' run -d --name ociapp3 -e SPIN_VARIABLE_WHO=archive -p $AP:80 127.0.0.1:$RP/spinoci:archive >/dev/null"
    check oci-archive-serving wait_for 20 curl -sf -o /dev/null "$AU/spin1/hello"
    expect oci-archive-file 0 "a file from a layer" "" -- get "$AU/wagi/file?/assets/a.txt"
    expect oci-archive-deep 0 "a file only in the archive" "" -- bash -c "curl -s -m 10 '$AU/wagi/file?/assets/deep/b.txt' | head -c 26"
    expect oci-archive-empty 0 "" "" -- get "$AU/wagi/file?/assets/empty.txt"
    expect oci-archive-inline 0 "inline content" "" -- get "$AU/wagi/file?/small.txt"
    expect oci-archive-config 0 "Hello, archive!" "" -- get "$AU/spin1/config"
    "$WB" rm -f ociapp3 >/dev/null 2>&1
    # an archive layer that is not a tar.gz: refused at run naming the layer, nothing half-made
    SPIN_CORRUPT_ARCHIVE=1 push spinoci:corrupt >/dev/null || fail "push the corrupt artifact"
    "$WB" pull -q "127.0.0.1:$RP/spinoci:corrupt" >/dev/null 2>&1 || fail "pull the corrupt artifact"
    expect oci-corrupt-archive 125 "" "Spin app layer 4 (an archive of files)" -- \
        "$WB" run --rm "127.0.0.1:$RP/spinoci:corrupt"
    expect oci-corrupt-nothing-left 0 "" "" -- find "$WASMBOX_ROOT" -name '.tmp.*'
    # an artifact with a layer type wasmbox does not take: refused at run, naming it
    SPIN_BAD_LAYER=1 push spinoci:bad >/dev/null || fail "push the bad artifact"
    "$WB" pull -q "127.0.0.1:$RP/spinoci:bad" >/dev/null 2>&1 || fail "pull the bad artifact"
    expect oci-bad-layer 125 "" "application/vnd.example.unknown.v1, which wasmbox does not support" -- \
        "$WB" run --rm "127.0.0.1:$RP/spinoci:bad"
    kill "$REGPID" 2>/dev/null
else
    echo "spin: the OCI artifact part skipped: no docker-registry (scripts/deps.sh)"
fi

echo "spin: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
