#!/usr/bin/env bash
# End-to-end tests of Docker's --format directives (issue #12 items 4, 6 and 8): `table` and
# `table TEMPLATE` (a header row of Docker's column titles, aligned rows), `json` (one object per
# line with Docker's field names; for inspect, the array on one line) and bare templates, for ps,
# images / image ls, stats, inspect, image inspect, container inspect, version and buildx ls;
# `buildx build` (--load, --push) and `buildx version`; `inspect` of an unknown name.
# Usage: BUILD=build bash tests/e2e/format.sh   (prints "e2e-format: P passed, F failed")
set -uo pipefail
BUILD=${BUILD:-build}
WB=$(cd "$(dirname "$BUILD/wasmbox")" && pwd)/wasmbox
T=$(mktemp -d)
export WASMBOX_ROOT=$T/root
cleanup() {
    "$WB" ps -aq 2>/dev/null | xargs -r "$WB" rm -f >/dev/null 2>&1
    rm -rf "$T"
}
trap cleanup EXIT
passed=0
failed=0

expect() { # NAME WANT_EXIT WANT_STDOUT WANT_STDERR_SUBSTRING -- CMD...
    local name=$1 want_rc=$2 want_out=$3 want_err=$4
    shift 5
    local out err rc
    out=$("$@" 2>"$T/err")
    rc=$?
    err=$(cat "$T/err")
    if [ "$rc" != "$want_rc" ] || [ "$out" != "$want_out" ] ||
        { [ -n "$want_err" ] && [[ "$err" != *"$want_err"* ]]; }; then
        failed=$((failed + 1))
        echo "FAIL $name: exit $rc (want $want_rc)"
        echo "  stdout: $(printf %q "$out") (want $(printf %q "$want_out"))"
        echo "  stderr: $err"
    else
        passed=$((passed + 1))
    fi
}
check() { # NAME CMD... (passes when CMD succeeds)
    local name=$1
    shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL $name"; fi
}
# json_lines FILE N KEYS PYEXPR: FILE has N lines, each a JSON object with exactly the keys KEYS
# (space-separated); PYEXPR (over `rows`, the parsed lines) must hold
json_lines() {
    python3 - "$@" <<'EOF'
import json, sys
path, n, keys, expr = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4]
lines = open(path).read().splitlines()
rows = [json.loads(l) for l in lines]
ok = len(lines) == n and all(isinstance(r, dict) and sorted(r) == sorted(keys) for r in rows)
ok = ok and all(list(r) == sorted(r) for r in rows)  # Docker's field order: sorted
if not ok or not eval(expr):
    print("  got:", lines, file=sys.stderr)
    sys.exit(1)
EOF
}
# the header row of a table, its cells split where two or more spaces are
header() { head -1 "$1" | sed -E 's/ {2,}/|/g; s/ +$//'; }

clang --target=wasm32-wasi --sysroot=/usr -O2 -o "$T/hello.wasm" tests/e2e/fixtures/hello.c
python3 tests/e2e/fixtures/mkartifact.py "$WASMBOX_ROOT" "$T/hello.wasm" docker.io/library/hello:latest >/dev/null

PS_KEYS="Command CreatedAt ID Image Labels LocalVolumes Mounts Names Networks Ports RunningFor Size State Status"
IMAGE_KEYS="Containers CreatedAt CreatedSince Digest ID Repository SharedSize Size Tag UniqueSize VirtualSize"
STATS_KEYS="BlockIO CPUPerc Container ID MemPerc MemUsage Name NetIO PIDs"

# ---- images / image ls ----
"$WB" images --format json >"$T/images.json"
check images-json json_lines "$T/images.json" 1 "$IMAGE_KEYS" \
    "rows[0]['Repository'] == 'hello' and rows[0]['Tag'] == 'latest' and len(rows[0]['ID']) == 12 and rows[0]['CreatedAt'].endswith(' +0000 UTC')"
"$WB" image ls --format json >"$T/imagels.json"
check image-ls-json json_lines "$T/imagels.json" 1 "$IMAGE_KEYS" "rows[0]['Repository'] == 'hello'"
ID=$("$WB" images -q)
expect images-table-template 0 "IMAGE ID       REPOSITORY
$ID   hello" "" -- "$WB" images --format 'table {{.ID}}\t{{.Repository}}'
expect images-table-titles 0 "REPOSITORY|TAG|DIGEST|CREATED|CREATED AT|SIZE|CONTAINERS|SHARED SIZE|UNIQUE SIZE" "" -- \
    bash -c "'$WB' images --format 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.CreatedSince}}\t{{.CreatedAt}}\t{{.Size}}\t{{.Containers}}\t{{.SharedSize}}\t{{.UniqueSize}}' >'$T/h' && sed -E 's/ {2,}/|/g; s/ +\$//' '$T/h' | head -1"
expect images-table-is-default 0 "$("$WB" images)" "" -- "$WB" images --format table
expect images-table-digests 0 "REPOSITORY|TAG|DIGEST" "" -- \
    bash -c "'$WB' images --digests --format 'table {{.Repository}}\t{{.Tag}}' | sed -E 's/ {2,}/|/g; s/ +\$//' | head -1"
expect images-template 0 "hello:latest" "" -- "$WB" images --format '{{.Repository}}:{{.Tag}}'
expect images-table-json-func 0 "TAG
\"latest\"" "" -- "$WB" images --format 'table {{json .Tag}}'
expect images-bad-template 1 "" "template" -- "$WB" images --format '{{.Tag'

# ---- ps ----
"$WB" run --name c1 --label b=2 --label a=1 hello >/dev/null
"$WB" ps -a --format json >"$T/ps.json"
check ps-json json_lines "$T/ps.json" 1 "$PS_KEYS" \
    "rows[0]['Names'] == 'c1' and rows[0]['Labels'] == 'a=1,b=2' and rows[0]['Command'] == '\"hello\"' and rows[0]['State'] == 'exited' and rows[0]['Image'] == 'hello' and rows[0]['CreatedAt'].endswith(' +0000 UTC') and rows[0]['RunningFor'].endswith(' ago')"
expect ps-json-none 0 "" "" -- "$WB" ps --format json
CID=$("$WB" ps -aq)
expect ps-table-template 0 "CONTAINER ID   NAMES
$CID   c1" "" -- "$WB" ps -a --format 'table {{.ID}}\t{{.Names}}'
"$WB" ps -a --format 'table {{.Names}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.CreatedAt}}\t{{.Status}}\t{{.State}}\t{{.Ports}}\t{{.Labels}}\t{{.Mounts}}\t{{.Networks}}\t{{.LocalVolumes}}\t{{.Size}}' >"$T/pst"
expect ps-table-titles 0 "NAMES|IMAGE|COMMAND|CREATED|CREATED AT|STATUS|STATE|PORTS|LABELS|MOUNTS|NETWORKS|LOCAL VOLUMES|SIZE" "" -- header "$T/pst"
expect ps-table-empty 0 "CONTAINER ID   NAMES" "" -- "$WB" ps --format 'table {{.ID}}\t{{.Names}}'
expect ps-table-is-default 0 "$("$WB" ps -a)" "" -- "$WB" ps -a --format table
expect ps-default-header 0 "CONTAINER ID|IMAGE|COMMAND|CREATED|STATUS|PORTS|NAMES" "" -- bash -c "'$WB' ps -a >'$T/psd'; sed -E 's/ {2,}/|/g; s/ +\$//' '$T/psd' | head -1"
expect ps-template 0 "c1 exited" "" -- "$WB" ps -a --format '{{.Names}} {{.State}}'
expect ps-table-upper 0 "NAMES
C1" "" -- "$WB" ps -a --format 'table {{upper .Names}}'
expect ps-quiet-wins 0 "$CID" "" -- "$WB" ps -aq --format json

# ---- stats ----
id=$("$WB" run -d --name spin hello --spin)
for _ in $(seq 100); do [ "$("$WB" inspect --format '{{.State.Status}}' spin)" = running ] && break; sleep 0.05; done
"$WB" stats --no-stream --format json >"$T/stats.json"
check stats-json json_lines "$T/stats.json" 1 "$STATS_KEYS" \
    "rows[0]['Name'] == 'spin' and rows[0]['ID'] == '${id:0:12}' and rows[0]['CPUPerc'].endswith('%')"
"$WB" stats --no-stream --format 'table {{.Container}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}\t{{.ID}}' spin >"$T/statst"
expect stats-table-titles 0 "CONTAINER|NAME|CPU %|MEM USAGE / LIMIT|MEM %|NET I/O|BLOCK I/O|PIDS|CONTAINER ID" "" -- header "$T/statst"
expect stats-container-as-named 0 "spin" "" -- bash -c "sed -n 2p '$T/statst' | cut -d' ' -f1"
"$WB" stats --no-stream >"$T/statsd"
expect stats-default-header 0 "CONTAINER ID|NAME|CPU %|MEM USAGE / LIMIT|MEM %|NET I/O|BLOCK I/O|PIDS" "" -- header "$T/statsd"
expect stats-template 0 "spin" "" -- "$WB" stats --no-stream --format '{{.Name}}'
"$WB" rm -f spin >/dev/null

# ---- inspect, image inspect, container inspect ----
"$WB" inspect --format json c1 hello >"$T/insp.json"
check inspect-json python3 -c "
import json, sys
lines = open('$T/insp.json').read().splitlines()
d = json.loads(lines[0])
sys.exit(not (len(lines) == 1 and len(d) == 2 and d[0]['Name'] == '/c1' and d[1]['RepoTags'] == ['hello:latest']))"
check inspect-json-same-docs python3 -c "
import json, subprocess, sys
a = json.loads(open('$T/insp.json').read())
b = json.loads(subprocess.run(['$WB', 'inspect', 'c1', 'hello'], capture_output=True, text=True).stdout)
for x in (a, b): x[0].pop('State', None)
sys.exit(a != b)"
"$WB" image inspect --format json hello >"$T/iinsp.json"
check image-inspect-json python3 -c "
import json, sys
lines = open('$T/iinsp.json').read().splitlines()
sys.exit(not (len(lines) == 1 and json.loads(lines[0])[0]['Os'] == 'wasi'))"
"$WB" container inspect --format json c1 >"$T/cinsp.json"
check container-inspect-json python3 -c "
import json, sys
lines = open('$T/cinsp.json').read().splitlines()
sys.exit(not (len(lines) == 1 and json.loads(lines[0])[0]['Name'] == '/c1'))"
expect container-inspect-image 1 "[]" "No such container: hello" -- "$WB" container inspect hello
expect inspect-template-each 0 "exited
<no value>" "" -- "$WB" inspect --format '{{.State.Status}}' c1 hello
expect image-inspect-template 0 "wasi/wasm" "" -- "$WB" image inspect --format '{{.Os}}/{{.Architecture}}' hello
# control structures (Go's text/template): range over arrays and maps (in key order), else, if,
# with, trim markers; an unclosed block names what is missing
expect template-range-array 0 "[hello:latest]" "" -- "$WB" image inspect --format '{{range .RepoTags}}[{{.}}]{{end}}' hello
expect template-range-map 0 "amd64;linux;map[Name:wasmbox];$("$WB" version | cut -d" " -f3);" "" -- "$WB" version --format '{{range .Client}}{{.}};{{end}}'
expect template-range-else 0 "none" "" -- "$WB" image inspect --format '{{range .RepoDigests}}d{{else}}none{{end}}' hello
expect template-if 0 "yes no" "" -- "$WB" image inspect --format '{{if .RepoTags}}yes{{else}}no{{end}} {{if .RepoDigests}}yes{{else}}no{{end}}' hello
expect template-with 0 "wasm|" "" -- "$WB" image inspect --format '{{with .Architecture}}{{.}}{{end}}|{{with .RepoDigests}}x{{end}}' hello
expect template-trim 0 "a|b" "" -- "$WB" image inspect --format 'a  {{- "|" -}}   b' hello
expect template-unclosed 1 "" "missing {{end}}" -- "$WB" image inspect --format '{{range .RepoTags}}x' hello
# item 8: neither a container nor an image
expect inspect-no-such-object 1 "[]" "Error: No such object: nothing" -- "$WB" inspect nothing
expect inspect-no-such-object-json 1 "[]" "Error: No such object: nothing" -- "$WB" inspect --format json nothing
expect inspect-type-image 1 "[]" "Error: No such image: nothing" -- "$WB" inspect --type image nothing
expect inspect-type-container 1 "[]" "Error: No such container: nothing" -- "$WB" inspect --type container nothing
expect inspect-mixed 1 "/c1" "Error: No such object: nothing" -- "$WB" inspect --format '{{.Name}}' c1 nothing

# ---- version ----
"$WB" version --format json >"$T/version.json"
check version-json python3 -c "
import json, sys
lines = open('$T/version.json').read().splitlines()
v = json.loads(lines[0])
sys.exit(not (len(lines) == 1 and v['Client']['Version'] and v['Client']['Os'] == 'linux'))"
expect version-template 0 "wasmbox version $("$WB" version --format '{{.Client.Version}}')" "" -- "$WB" version

# ---- buildx (item 6) ----
mkdir -p "$T/ctx"
cp "$T/hello.wasm" "$T/ctx/hello.wasm"
printf 'FROM scratch\nCOPY hello.wasm /hello.wasm\nENTRYPOINT ["/hello.wasm"]\n' >"$T/ctx/Dockerfile"
expect buildx-build 0 "hello from wasm" "" -- bash -c "'$WB' buildx build --platform wasi/wasm --load -q -t bx '$T/ctx' >/dev/null && '$WB' run --rm bx"
expect buildx-build-output 0 "Successfully tagged bx2:latest" "" -- bash -c "'$WB' buildx build --platform wasi/wasm -t bx2 '$T/ctx' | tail -1"
expect buildx-build-push-needs-tag 125 "" "--push needs a tag" -- "$WB" buildx build --push "$T/ctx"
# --push runs the push of each tag after the build: here to a registry that is not there
expect buildx-build-push 1 "" "127.0.0.1:9" -- bash -c "'$WB' buildx build --platform wasi/wasm -q --push -t 127.0.0.1:9/bx:1 '$T/ctx' >/dev/null"
check buildx-build-push-built bash -c "'$WB' image inspect 127.0.0.1:9/bx:1 >/dev/null"
expect build-no-push-flag 125 "" "unknown flag: --push" -- "$WB" build --push -t x "$T/ctx"
"$WB" buildx ls >"$T/bxls"
expect buildx-ls-header 0 "NAME/NODE|DRIVER/ENDPOINT|STATUS|BUILDKIT|PLATFORMS" "" -- header "$T/bxls"
check buildx-ls-default bash -c "grep -q '^default\*' '$T/bxls' && grep -q 'running .*wasi/wasm, linux/amd64\$' '$T/bxls'"
expect buildx-ls-template 0 "default*
 \\_ default" "" -- "$WB" buildx ls --format '{{.Name}}'
check buildx-version bash -c "'$WB' buildx version | grep -Eq '^github.com/[^ ]*buildx v[0-9.]+ .*wasmbox'"

echo "e2e-format: $passed passed, $failed failed"
[ "$failed" = 0 ]
