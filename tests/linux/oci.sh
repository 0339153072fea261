#!/usr/bin/env bash
# The runc-compatible CLI (issue #17, first part): `wasmbox-runc` (a link to wasmbox) on OCI
# bundles holding Wasm modules, driven directly (create/start/state/kill/delete/exec, runc's
# state JSON, --log JSON errors) and by Podman 4.3 through conmon (`podman --runtime`).
# Needs root; the Podman part needs podman (scripts/deps.sh) and skips without it.
# Usage: BUILD=build bash tests/linux/oci.sh   (prints "linux-oci: P passed, F failed")
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${BUILD:-build}" && pwd)
passed=0
failed=0
if [ "$(id -u)" != 0 ]; then
    echo "linux-oci: skipped: needs root"
    echo "linux-oci: 0 passed, 0 failed, 1 skipped"
    exit 0
fi
T=$(mktemp -d)
# the node's store root (and its native-code cache, ROOT/native) is this test's, not the host's
export WASMBOX_ROOT=$T/root
ln -s "$BUILD/wasmbox" "$T/wasmbox-runc"
R=("$T/wasmbox-runc" --root "$T/state")
cleanup() {
    for id in $(ls "$T/state" 2>/dev/null); do "${R[@]}" delete --force "$id" >/dev/null 2>&1; done
    [ "${PODMAN_UP:-0}" = 1 ] && podman_ref_cleanup
    rm -rf "$T"
}
trap cleanup EXIT
# shellcheck source=tests/linux/harness.sh
. "$TOP/tests/linux/harness.sh"
status() { "${R[@]}" state "$1" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])'; }

# a bundle: the hello module, a module that exits 3, the http-hello server and http-fetch
mkdir -p "$T/b/rootfs/data"
cp "$BUILD/examples/hello/hello.wasm" "$BUILD/examples/http-hello/http-hello.wasm" \
    "$BUILD/examples/http-hello/http-fetch.wasm" "$T/b/rootfs/"
printf '(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))) (func (export "_start") i32.const 3 call 0))' >"$T/exit3.wat"
wat2wasm "$T/exit3.wat" -o "$T/b/rootfs/exit3.wasm"
echo "from a bind mount" >"$T/data.txt"
bundle() { # ARGS_JSON [EXTRA_JSON]: write config.json
    cat >"$T/b/config.json" <<EOF
{"ociVersion": "1.0.2",
 "process": {"args": $1, "env": ["PATH=/bin", "WHO=oci"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
 "root": {"path": "rootfs"}, "hostname": "wb",
 "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/data", "type": "bind", "source": "$T", "options": ["rbind", "ro"]}],
 "linux": {"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "mount"}]}${2:-}}
EOF
}

bundle '["/hello.wasm"]'
# create's stdio is the workload's: into a file, or $(...) would wait for the workload
create() { "${R[@]}" create --bundle "$T/b" "$@" >"$T/out.$1" 2>&1; }
expect create 0 "" "" -- create c1 --pid-file "$T/pid"
expect pid-file 0 "yes" "" -- bash -c "[ -d /proc/\$(cat '$T/pid') ] && echo yes"
expect state-created 0 "created" "" -- status c1
expect state-json 0 "c1 $T/b" "" -- bash -c "'$T/wasmbox-runc' --root '$T/state' state c1 | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[\"id\"], d[\"bundle\"])'"
expect start 0 "" "" -- "${R[@]}" start c1
check start-output wait_for 5 grep -q "Hello from WebAssembly!" "$T/out.c1"
check stopped wait_for 5 bash -c "[ \"\$('$T/wasmbox-runc' --root '$T/state' state c1 | grep -c '\"stopped\"')\" = 1 ]"
expect delete 0 "" "" -- "${R[@]}" delete c1
expect state-gone 1 "" "container does not exist" -- "${R[@]}" state c1
expect delete-force-gone 0 "" "" -- "${R[@]}" delete --force c1
expect run 0 "Hello from WebAssembly!" "" -- "${R[@]}" run --bundle "$T/b" c2
expect run-removes 1 "" "container does not exist" -- "${R[@]}" state c2
# the exit status is the workload's (the caller waits for it: here, bash)
bundle '["/exit3.wasm"]'
expect exit-code-child 3 "" "" -- bash -c "'$T/wasmbox-runc' --root '$T/state' run --bundle '$T/b' c4"
"${R[@]}" delete --force c4 >/dev/null 2>&1
# a server: kill, exec of another module in its network namespace, delete --force
bundle '["/http-hello.wasm", "8080"]'
expect create-server 0 "" "" -- create s1
expect start-server 0 "" "" -- "${R[@]}" start s1
check running wait_for 5 bash -c "[ \"\$('$T/wasmbox-runc' --root '$T/state' state s1 | grep -c '\"running\"')\" = 1 ]"
printf '{"args": ["/http-fetch.wasm", "127.0.0.1", "8080", "/"], "env": ["PATH=/bin"], "cwd": "/"}' >"$T/proc.json"
check exec-in-netns wait_for 5 bash -c "'$T/wasmbox-runc' --root '$T/state' exec --process '$T/proc.json' s1 | grep -q 'Hello from wasmbox'"
# pause/resume: the cgroup's freezer (made at create: wasmbox-runc/<id> without a cgroupsPath)
FRZ=/sys/fs/cgroup/freezer/wasmbox-runc/s1
if [ -d /sys/fs/cgroup/freezer ]; then
    expect pause 0 "" "" -- "${R[@]}" pause s1
    expect state-paused 0 "paused" "" -- status s1
    check paused-frozen grep -qx FROZEN "$FRZ/freezer.state"
    check paused-workload-in-cgroup grep -qx "$(cat "$T/pid.s1" 2>/dev/null || "${R[@]}" state s1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')" "$FRZ/cgroup.procs"
    expect resume 0 "" "" -- "${R[@]}" resume s1
    expect state-resumed 0 "running" "" -- status s1
    check resumed-serves wait_for 5 bash -c "'$T/wasmbox-runc' --root '$T/state' exec --process '$T/proc.json' s1 | grep -q 'Hello from wasmbox'"
fi
printf '{"args": ["/nope.wasm"], "cwd": "/"}' >"$T/proc2.json"
expect exec-missing 127 "" 'exec: "/nope.wasm": stat /nope.wasm: no such file or directory' -- \
    "${R[@]}" exec --process "$T/proc2.json" s1
expect ps 0 "1" "" -- bash -c "'$T/wasmbox-runc' --root '$T/state' ps --format json s1 | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'"
expect delete-running 1 "" "that is not stopped" -- "${R[@]}" delete s1
expect kill-term 0 "" "" -- "${R[@]}" kill s1 15
check killed wait_for 5 bash -c "[ \"\$('$T/wasmbox-runc' --root '$T/state' state s1 | grep -c '\"stopped\"')\" = 1 ]"
expect kill-stopped 1 "" "container not running" -- "${R[@]}" kill s1 KILL
expect pause-stopped 1 "" "container not running" -- "${R[@]}" pause s1
expect delete-stopped 0 "" "" -- "${R[@]}" delete s1
[ -d /sys/fs/cgroup/freezer ] && check delete-removes-cgroup [ ! -d "$FRZ" ]
# linux.cgroupsPath and linux.resources: the cgroup where the spec says, with its limits
bundle '["/http-hello.wasm", "8080"]'
python3 - "$T/b/config.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["linux"]["cgroupsPath"] = "/wbtest-oci/r1"
d["linux"]["resources"] = {"memory": {"limit": 67108864}, "pids": {"limit": 42},
                           "cpu": {"quota": 50000, "period": 100000, "shares": 512}}
json.dump(d, open(sys.argv[1], "w"))
PY
if [ -d /sys/fs/cgroup/memory ] && [ -d /sys/fs/cgroup/pids ]; then
    CPU=/sys/fs/cgroup/cpu
    [ -d "$CPU" ] || CPU=/sys/fs/cgroup/cpu,cpuacct
    expect create-limits 0 "" "" -- create r1
    check limit-memory grep -qx 67108864 /sys/fs/cgroup/memory/wbtest-oci/r1/memory.limit_in_bytes
    check limit-pids grep -qx 42 /sys/fs/cgroup/pids/wbtest-oci/r1/pids.max
    check limit-cpu-quota grep -qx 50000 $CPU/wbtest-oci/r1/cpu.cfs_quota_us
    check limit-cpu-shares grep -qx 512 $CPU/wbtest-oci/r1/cpu.shares
    # update: flags, and -r - with linux.resources JSON (Docker's `docker update` path); each
    # merged into what the container had
    expect update-memory 0 "" "" -- "${R[@]}" update --memory 100003840 r1
    check updated-memory grep -qx 100003840 /sys/fs/cgroup/memory/wbtest-oci/r1/memory.limit_in_bytes
    check update-kept-pids grep -qx 42 /sys/fs/cgroup/pids/wbtest-oci/r1/pids.max
    expect update-json 0 "" "" -- bash -c "echo '{\"pids\": {\"limit\": 50}}' | '$T/wasmbox-runc' --root '$T/state' update -r - r1"
    check updated-pids grep -qx 50 /sys/fs/cgroup/pids/wbtest-oci/r1/pids.max
    check update-kept-memory grep -qx 100003840 /sys/fs/cgroup/memory/wbtest-oci/r1/memory.limit_in_bytes
    expect update-bad-value 1 "" "" -- "${R[@]}" update --memory lots r1
    expect delete-limits 0 "" "" -- "${R[@]}" delete --force r1
    check delete-removes-spec-cgroup [ ! -d /sys/fs/cgroup/memory/wbtest-oci/r1 ]
    rmdir /sys/fs/cgroup/*/wbtest-oci 2>/dev/null
fi
python3 - "$T/b/config.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["linux"]["cgroupsPath"] = "/wbtest-oci/../escape"
json.dump(d, open(sys.argv[1], "w"))
PY
expect cgroup-path-refused 1 "" "" -- create r2
check cgroup-path-refused-says grep -q "invalid cgroup path: .wbtest-oci/../escape" "$T/out.r2"
create s2 && "${R[@]}" start s2
expect delete-force-running 0 "" "" -- "${R[@]}" delete --force s2
# errors: --log gets runc's JSON lines
expect unknown-id 1 "" "container does not exist" -- "${R[@]}" --log "$T/log.json" --log-format json kill nosuch 9
expect log-json 0 "error container does not exist" "" -- python3 -c "import json; d=json.loads(open('$T/log.json').read().splitlines()[-1]); print(d['level'], d['msg'])"
expect bad-id 1 "" "invalid container id" -- "${R[@]}" create --bundle "$T/b" 'a/b'
bundle '["/hello.wasm"]'
create dup
expect duplicate 1 "" "container with id exists: dup" -- "${R[@]}" create --bundle "$T/b" dup
"${R[@]}" delete --force dup >/dev/null
echo '{"process": {"args": []}, "root": {"path": "rootfs"}}' >"$T/b/config.json"
expect bad-config 1 "" "process.args must be a non-empty array of strings" -- "${R[@]}" create --bundle "$T/b" l2
expect version 0 "wasmbox-runc version" "" -- bash -c "'$T/wasmbox-runc' --version | head -n 1 | cut -d' ' -f1,2"

# ---- the tier: native code from the node's cache ($WASMBOX_ROOT/native here; docs/native.md) ----
tier() { "${R[@]}" state "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("annotations", {}).get("io.wasmbox.engine", "-"))'; }
run_to_end() { # ID: create, start, wait until it stopped; its output in $T/out.ID
    create "$1" && "${R[@]}" start "$1" &&
        wait_for 10 bash -c "'$T/wasmbox-runc' --root '$T/state' state $1 | grep -q '\"stopped\"'"
}
bundle '["/hello.wasm"]'
run_to_end t1
expect tier-interp-no-cache 0 "interp" "" -- tier t1
check no-cache-made-by-auto test ! -e "$T/root/native"
"${R[@]}" delete t1
expect compile-into-node-cache 0 "" "" -- "$BUILD/wasmbox" compile -q "$T/b/rootfs/hello.wasm"
run_to_end t2
expect tier-native-from-cache 0 "native" "" -- tier t2
check native-output grep -q "Hello from WebAssembly!" "$T/out.t2"
"${R[@]}" delete t2
bundle '["/hello.wasm"]' ', "annotations": {"io.wasmbox.engine": "interp"}'
run_to_end t3
expect tier-annotation-interp 0 "interp" "" -- tier t3
"${R[@]}" delete t3
bundle '["/hello.wasm"]'
WASMBOX_ENGINE=interp run_to_end t4
expect tier-env-interp 0 "interp" "" -- tier t4
"${R[@]}" delete t4
bundle '["/hello.wasm"]' ', "annotations": {"io.wasmbox.engine": "turbo"}'
expect tier-bad-annotation 1 "" 'annotation io.wasmbox.engine: invalid value "turbo" (auto, interp or native)' -- "${R[@]}" create --bundle "$T/b" t5
expect tier-bad-annotation-nothing-left 1 "" "container does not exist" -- "${R[@]}" state t5
# under auto a module with nothing cached runs interpreted and is compiled in the background
bundle '["/exit3.wasm"]'
n_before=$(ls "$T/root/native" | grep -c '\.wbn$')
run_to_end t6
expect tier-auto-first-interp 0 "interp" "" -- tier t6
"${R[@]}" delete t6
check background-compile wait_for 60 bash -c "[ \$(ls '$T/root/native' | grep -c '\\.wbn\$') -gt $n_before ]"
run_to_end t7
expect tier-auto-then-native 0 "native" "" -- tier t7
"${R[@]}" delete t7

# ---- Linux bundles: busybox's files as the root, side by side with runc (the reference) ----
"$TOP/scripts/test-images.sh" load busybox "$BUILD/wasmbox" >/dev/null || fail "load the busybox image"
mkdir -p "$T/lb/rootfs"
"$BUILD/wasmbox" create --name bbx busybox >/dev/null && "$BUILD/wasmbox" export bbx | tar -x -C "$T/lb/rootfs"
"$BUILD/wasmbox" rm bbx >/dev/null
# what a process sees of its spec; exits 3
PROBE='echo "id: $(id)"; echo "pwd: $(pwd)"; echo "host: $(hostname)"; echo "who: $WHO"
grep -E "^(CapBnd|CapEff|NoNewPrivs|Seccomp):" /proc/self/status; echo "nofile: $(ulimit -n) $(ulimit -Hn)"
touch /x 2>/dev/null && echo "root: rw" || echo "root: ro"; echo "data: $(cat /data/data.txt)"
echo hi >/scratch/f && echo "scratch: $(cat /scratch/f)"; echo "kcore: $(head -c1 /proc/kcore 2>/dev/null | wc -c)"
echo "dev-block: $(ls /sys/dev/block 2>/dev/null | wc -l)"; echo "pid1: $(tr "\0" " " </proc/1/cmdline)"
echo "links: $(ip -o link 2>/dev/null | wc -l)"; exit 3'
lbundle() { # USER_JSON ARGS_JSON
    python3 - "$T/lb/config.json" "$1" "$2" "$T" <<'PY'
import json, sys
path, user, args, t = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
caps = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID"]
json.dump({"ociVersion": "1.0.2",
  "process": {"terminal": False, "user": user, "args": args, "cwd": "/tmp",
              "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "WHO=linux"],
              "capabilities": {k: caps for k in ("bounding", "effective", "permitted")},
              "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1000, "soft": 900}],
              "noNewPrivileges": True},
  "root": {"path": "rootfs", "readonly": True}, "hostname": "wbhost",
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
             {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
             {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
             {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
             {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
             {"destination": "/data", "type": "bind", "source": t, "options": ["rbind", "ro"]},
             {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "size=1m"]}],
  "linux": {"namespaces": [{"type": t_} for t_ in ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": ["/proc/kcore", "/sys/dev/block"], "readonlyPaths": ["/proc/sys"]}},
  open(path, "w"), indent=1)
PY
}
lbundle '{"uid": 0, "gid": 0, "additionalGids": [10]}' "$(python3 -c 'import json,sys; print(json.dumps(["sh", "-c", sys.argv[1]]))' "$PROBE")"
expect linux-run 3 "" "" -- bash -c "'$T/wasmbox-runc' --root '$T/state' run --bundle '$T/lb' lr1 >'$T/lr1.out' 2>&1"
check linux-run-identity grep -qx "id: uid=0(root) gid=0(root) groups=10(wheel)" "$T/lr1.out"
check linux-run-cwd grep -qx "pwd: /tmp" "$T/lr1.out"
check linux-run-hostname grep -qx "host: wbhost" "$T/lr1.out"
check linux-run-env grep -qx "who: linux" "$T/lr1.out"
check linux-run-caps grep -qx "CapBnd:	00000000000004e1" "$T/lr1.out"
check linux-run-no-new-privs grep -qx "NoNewPrivs:	1" "$T/lr1.out"
check linux-run-rlimit grep -qx "nofile: 900 1000" "$T/lr1.out"
check linux-run-root-ro grep -qx "root: ro" "$T/lr1.out"
check linux-run-bind-ro grep -qx "data: from a bind mount" "$T/lr1.out"
check linux-run-tmpfs grep -qx "scratch: hi" "$T/lr1.out"
check linux-run-masked grep -qx "kcore: 0" "$T/lr1.out"
check linux-run-masked-spec grep -qx "dev-block: 0" "$T/lr1.out"
check linux-run-pid1 grep -q "^pid1: sh -c" "$T/lr1.out"
check linux-run-own-netns grep -qx "links: 1" "$T/lr1.out"
if command -v runc >/dev/null; then # the same bundle under runc: the same lines
    runc --root "$T/runc-state" run --bundle "$T/lb" rr1 >"$T/rr1.out" 2>&1
    expect linux-run-same-as-runc 0 "" "" -- diff "$T/rr1.out" "$T/lr1.out"
fi
lbundle '{"uid": 1000, "gid": 100, "additionalGids": [10]}' '["id"]'
expect linux-run-user 0 "uid=1000(user) gid=100(users) groups=10(wheel)" "" -- "${R[@]}" run --bundle "$T/lb" lr2
# the lifecycle: create (the process waits), start, exec, kill, delete
lbundle '{"uid": 0, "gid": 0}' '["sh", "-c", "echo started; exec sleep 60"]'
lcreate() { "${R[@]}" create --bundle "$T/lb" "$1" >"$T/out.$1" 2>&1; }
expect linux-create 0 "" "" -- lcreate lc1
expect linux-created 0 "created" "" -- status lc1
check linux-not-started-yet bash -c "! grep -q started '$T/out.lc1'"
expect linux-state-kind 0 "linux" "" -- python3 -c "import json; print(json.load(open('$T/state/lc1/state.json'))['kind'])"
expect linux-start 0 "" "" -- "${R[@]}" start lc1
expect linux-running 0 "running" "" -- status lc1
check linux-started-output wait_for 5 grep -q started "$T/out.lc1"
printf '{"args": ["sh", "-c", "echo exec in $(hostname); ps -o pid,args | grep -c [s]leep"], "env": ["PATH=/bin"], "cwd": "/", "user": {"uid": 0, "gid": 0}}' >"$T/lproc.json"
expect linux-exec 0 "exec in wbhost
1" "" -- "${R[@]}" exec --process "$T/lproc.json" lc1
printf '{"args": ["nosuch"], "env": ["PATH=/bin"], "cwd": "/"}' >"$T/lproc2.json"
expect linux-exec-missing 125 "" 'exec: "nosuch": executable file not found in $PATH' -- "${R[@]}" exec --process "$T/lproc2.json" lc1
expect linux-kill 0 "" "" -- "${R[@]}" kill lc1 KILL
check linux-stopped wait_for 5 bash -c "[ \"\$('$T/wasmbox-runc' --root '$T/state' state lc1 | grep -c '\"stopped\"')\" = 1 ]"
expect linux-delete 0 "" "" -- "${R[@]}" delete lc1
check linux-nothing-left bash -c "[ ! -e '$T/state/lc1' ] && [ ! -e /sys/fs/cgroup/memory/wasmbox-runc/lc1 ]"
# a command that cannot be exec'ed (its interpreter is missing): start says so (create has set
# the process up; it execs at start)
printf '#!/no/such/shell\n' >"$T/lb/rootfs/bad.sh"
chmod +x "$T/lb/rootfs/bad.sh"
lbundle '{"uid": 0, "gid": 0}' '["/bad.sh"]'
expect linux-bad-exec-create 0 "" "" -- lcreate lc2
expect linux-bad-exec-start 1 "" 'exec: "/bad.sh": No such file or directory' -- "${R[@]}" start lc2
"${R[@]}" delete --force lc2 >/dev/null 2>&1
# a command that does not exist: create fails, as runc's does (it looks the command up before
# it is ready), and nothing is left
lbundle '{"uid": 0, "gid": 0}' '["nosuch-command"]'
expect linux-missing-command-create 1 "" 'exec: "nosuch-command": executable file not found in $PATH' -- "${R[@]}" create --bundle "$T/lb" lc3
expect linux-missing-command-nothing-left 1 "" "container does not exist" -- "${R[@]}" state lc3
if command -v runc >/dev/null; then
    expect linux-missing-command-runc 1 "" 'nosuch-command\": executable file not found in $PATH' -- runc --root "$T/runc-state" create --bundle "$T/lb" rr3
fi
lbundle '{"uid": 0, "gid": 0}' '["true"]'
python3 - "$T/lb/config.json" "$T" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["mounts"].append({"destination": "/gone", "type": "bind", "source": sys.argv[2] + "/no-such-dir", "options": ["rbind"]})
json.dump(d, open(sys.argv[1], "w"))
PY
expect linux-setup-fails-at-create 1 "" "bind source path \`$T/no-such-dir\`" -- "${R[@]}" create --bundle "$T/lb" lc4
expect linux-setup-fails-nothing-left 1 "" "container does not exist" -- "${R[@]}" state lc4
check linux-setup-fails-no-process bash -c "! pgrep -f '[w]asmbox.*lc4' >/dev/null"
lbundle '{"uid": 0, "gid": 0}' '["true"]'
python3 - "$T/lb/config.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["process"]["terminal"] = True; json.dump(d, open(sys.argv[1], "w"))
PY
expect linux-terminal-needs-console 1 "" "cannot allocate tty if runc will detach without setting console socket" -- "${R[@]}" create --bundle "$T/lb" lc5
lbundle '{"uid": 0, "gid": 0}' '["true"]'
python3 - "$T/lb/config.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["linux"]["namespaces"].append({"type": "user"}); json.dump(d, open(sys.argv[1], "w"))
PY
# hooks: the state on stdin (prestart, poststart, poststop), a failing and a slow one
lbundle '{"uid": 0, "gid": 0}' '["sleep", "30"]'
python3 - "$T/lb/config.json" "$T" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); t = sys.argv[2]
hook = lambda name: {"path": "/bin/sh", "args": ["sh", "-c", "cat >" + t + "/hook." + name + "; echo >>" + t + "/hook." + name + "; echo $X >>" + t + "/hook." + name], "env": ["X=env-" + name]}
d["hooks"] = {"prestart": [hook("prestart")], "poststart": [hook("poststart")], "poststop": [hook("poststop")]}
json.dump(d, open(sys.argv[1], "w"))
PY
hookstate() { python3 -c "import json,sys; d=json.loads(open(sys.argv[1]).readline()); print(d['id'], d['status'], d['pid'] > 0, d['bundle'])" "$T/hook.$1"; }
expect hooks-create 0 "" "" -- lcreate lh1
expect hooks-prestart-state 0 "lh1 created True $T/lb" "" -- hookstate prestart
check hooks-prestart-env grep -qx env-prestart "$T/hook.prestart"
check hooks-no-poststart-yet test ! -e "$T/hook.poststart"
expect hooks-start 0 "" "" -- "${R[@]}" start lh1
expect hooks-poststart-state 0 "lh1 running True $T/lb" "" -- hookstate poststart
expect hooks-delete 0 "" "" -- "${R[@]}" delete --force lh1
expect hooks-poststop-state 0 "lh1 stopped True $T/lb" "" -- hookstate poststop
python3 - "$T/lb/config.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["hooks"] = {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "echo no network; exit 3"]}]}
json.dump(d, open(sys.argv[1], "w"))
PY
expect hooks-failing 1 "" "error running prestart hook #0: exit status 3, stdout: no network, stderr: " -- "${R[@]}" create --bundle "$T/lb" lh2
expect hooks-failing-nothing-left 1 "" "container does not exist" -- "${R[@]}" state lh2
check hooks-failing-no-process bash -c "! pgrep -f '[w]asmbox.*lh2' >/dev/null"
python3 - "$T/lb/config.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["hooks"] = {"createRuntime": [{"path": "/bin/sleep", "args": ["sleep", "10"], "timeout": 1}]}
json.dump(d, open(sys.argv[1], "w"))
PY
expect hooks-timeout 1 "" "error running createRuntime hook #0: timeout after 1 seconds" -- "${R[@]}" create --bundle "$T/lb" lh3
# in-container hooks: createContainer in the container's process before pivot_root (its path
# and what it writes are the host's), startContainer just before the command (its path is the
# container's: busybox's sh, writing into the container's /scratch, which the command prints);
# the state each gets is compared with runc's
lbundle '{"uid": 0, "gid": 0}' '["sh", "-c", "cat /scratch/sc.state"]'
python3 - "$T/lb/config.json" "$T" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); t = sys.argv[2]
d["hooks"] = {"createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "cat >" + t + "/cc.state; test -d " + t]}],
              "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "cat >/scratch/sc.state"]}]}
json.dump(d, open(sys.argv[1], "w"))
PY
icstate() { python3 -c "import json,sys; d=json.loads(sys.stdin.readline()); print(d['id'], d['status'], d['pid'], d['bundle'])"; }
"${R[@]}" run --bundle "$T/lb" lh4 >"$T/sc.ours" 2>&1
expect hooks-start-container-state 0 "lh4 created 1 $T/lb" "" -- icstate <"$T/sc.ours"
expect hooks-create-container-state 0 "lh4 creating 1 $T/lb" "" -- icstate <"$T/cc.state"
if command -v runc >/dev/null; then
    rm -f "$T/cc.state"
    runc --root "$T/runc-state" run --bundle "$T/lb" lh4 >"$T/sc.runc" 2>&1
    expect hooks-start-container-runc 0 "lh4 created 1 $T/lb" "" -- icstate <"$T/sc.runc"
    expect hooks-create-container-runc 0 "lh4 creating 1 $T/lb" "" -- icstate <"$T/cc.state"
fi
python3 - "$T/lb/config.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["hooks"] = {"startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "echo no gpu; exit 4"]}]}
json.dump(d, open(sys.argv[1], "w"))
PY
expect hooks-start-container-fails 1 "" "error running startContainer hook #0: exit status 4, stdout: no gpu" -- "${R[@]}" run --bundle "$T/lb" lh5
lbundle '{"uid": 0, "gid": 0}' '["true"]'
python3 - "$T/lb/config.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["linux"]["namespaces"].append({"type": "user"}); json.dump(d, open(sys.argv[1], "w"))
PY
expect linux-user-ns-refused 1 "" "user namespaces are not supported by wasmbox yet" -- "${R[@]}" create --bundle "$T/lb" lc3
expect linux-refused-nothing-left 1 "" "container does not exist" -- "${R[@]}" state lc3

# ---- linux.seccomp: the bundle's own profile, compiled as runc compiles it ----
sbundle() { # ARGS_JSON SECCOMP_JSON [NO_NEW_PRIVS=true]: lbundle's bundle with that profile
    lbundle '{"uid": 0, "gid": 0}' "$1"
    python3 - "$T/lb/config.json" "$2" "${3:-true}" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["linux"]["seccomp"] = json.loads(sys.argv[2])
d["process"]["noNewPrivileges"] = sys.argv[3] == "true"; json.dump(d, open(sys.argv[1], "w"))
PY
}
# the same bundle under both runtimes: the same output and exit code (NAME WANT_EXIT); stdout
# and stderr apart, as runc copies each through a pipe of its own (their order varies)
same_as_runc() {
    expect "$1" "$2" "" "" -- bash -c "'$T/wasmbox-runc' --root '$T/state' run --bundle '$T/lb' $1 >'$T/$1.wb' 2>'$T/$1.wb.err'"
    if command -v runc >/dev/null; then
        runc --root "$T/runc-state" run --bundle "$T/lb" "$1" >"$T/$1.runc" 2>"$T/$1.runc.err"
        expect "$1-same-as-runc" 0 "" "" -- diff "$T/$1.runc" "$T/$1.wb"
        expect "$1-stderr-same-as-runc" 0 "" "" -- diff "$T/$1.runc.err" "$T/$1.wb.err"
    fi
}
shargs() { python3 -c 'import json,sys; print(json.dumps(["sh", "-c", sys.argv[1]]))' "$1"; }
DENY_MKDIR='{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
sbundle "$(shargs 'mkdir /scratch/x; echo "mkdir $?"; grep ^Seccomp: /proc/self/status; exit 5')" "$DENY_MKDIR"
same_as_runc sc-deny-mkdir 5
check sc-deny-mkdir-says grep -qx "mkdir: can't create directory '/scratch/x': Operation not permitted" "$T/sc-deny-mkdir.wb.err"
# an allow-list (default ERRNO(EPERM)): what is not listed fails with EPERM (mkdir, 83), what is
# numbered above every listed syscall with ENOSYS (fallocate, 285: runc's -ENOSYS stub)
ALLOW="read write open close stat fstat lstat poll lseek mmap mprotect munmap brk rt_sigaction rt_sigprocmask
rt_sigreturn ioctl pread64 access pipe select sched_yield madvise dup dup2 nanosleep getpid clone fork vfork
execve exit wait4 kill uname fcntl getcwd chdir readlink getuid getgid geteuid getegid setpgid getppid getpgrp
getgroups sigaltstack fstatfs prctl arch_prctl gettid futex getdents64 set_tid_address exit_group epoll_wait
epoll_ctl tgkill waitid openat newfstatat set_robust_list epoll_pwait"
ALLOW_LIST=$(python3 -c 'import json,sys; print(json.dumps({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "syscalls": [{"names": sys.argv[1].split(), "action": "SCMP_ACT_ALLOW"}]}))' "$ALLOW")
sbundle "$(shargs 'fallocate -l 4096 /scratch/f; echo "fallocate $?"; mkdir /scratch/d; echo "mkdir $?"; exit 4')" "$ALLOW_LIST"
same_as_runc sc-allow-list 4
check sc-allow-list-enosys grep -qx "fallocate: fallocate '/scratch/f': Function not implemented" "$T/sc-allow-list.wb.err"
check sc-allow-list-eperm grep -qx "mkdir: can't create directory '/scratch/d': Operation not permitted" "$T/sc-allow-list.wb.err"
# conditions on arguments (personality(PER_LINUX32) only; chmod to a mode without group and other
# bits: MASKED_EQ), a name libseccomp does not know (skipped); without no_new_privs, so the filter
# goes in before the user is set
ARGS_RULES='{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
 {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
 {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 63, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
 {"names": ["wb_no_such_syscall"], "action": "SCMP_ACT_KILL"}]}'
sbundle "$(shargs 'linux32 uname -m; linux64 uname -m; touch /scratch/f; chmod 600 /scratch/f; echo "chmod-600 $?"; chmod 644 /scratch/f; echo "chmod-644 $?"')" "$ARGS_RULES" false
same_as_runc sc-args 0
expect sc-args-hits 0 "x86_64
chmod-600 1
chmod-644 0" "" -- cat "$T/sc-args.wb"
expect sc-args-hits-say 0 "linux32: personality(0x8): Permission denied
chmod: /scratch/f: Operation not permitted" "" -- cat "$T/sc-args.wb.err"
# a bad action: refused at create, naming it, and nothing left
sbundle '["true"]' '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}, {"names": ["kill"], "action": "SCMP_ACT_FOO"}]}'
expect sc-bad-action 1 "" 'config.json: linux.seccomp.syscalls[1].action: unknown action "SCMP_ACT_FOO"' -- "${R[@]}" create --bundle "$T/lb" sc1
expect sc-bad-action-nothing-left 1 "" "container does not exist" -- "${R[@]}" state sc1
check sc-bad-action-no-process bash -c "! pgrep -f '[w]asmbox.*sc1' >/dev/null"
# exec: the process gets the container's filter
sbundle '["sleep", "60"]' "$DENY_MKDIR"
EXEC_PROBE='{"args": ["sh", "-c", "mkdir /scratch/e; echo \"mkdir $?\"; grep ^Seccomp: /proc/self/status"], "env": ["PATH=/bin"], "cwd": "/", "user": {"uid": 0, "gid": 0}}'
echo "$EXEC_PROBE" >"$T/scproc.json"
lcreate sc2 && "${R[@]}" start sc2
expect sc-exec-inherits 0 "mkdir 1
Seccomp:	2" "mkdir: can't create directory '/scratch/e': Operation not permitted" -- "${R[@]}" exec --process "$T/scproc.json" sc2
"${R[@]}" delete --force sc2 >/dev/null 2>&1
if command -v runc >/dev/null; then
    runc --root "$T/runc-state" create --bundle "$T/lb" rsc2 </dev/null >/dev/null 2>&1 &&
        runc --root "$T/runc-state" start rsc2 &&
        runc --root "$T/runc-state" exec --process "$T/scproc.json" rsc2 >"$T/rsc2.out" 2>"$T/rsc2.err"
    "${R[@]}" create --bundle "$T/lb" sc3 </dev/null >/dev/null 2>&1 && "${R[@]}" start sc3 &&
        "${R[@]}" exec --process "$T/scproc.json" sc3 >"$T/sc3.out" 2>"$T/sc3.err"
    expect sc-exec-same-as-runc 0 "" "" -- diff "$T/rsc2.out" "$T/sc3.out"
    expect sc-exec-stderr-same-as-runc 0 "" "" -- diff "$T/rsc2.err" "$T/sc3.err"
    runc --root "$T/runc-state" delete --force rsc2 >/dev/null 2>&1
    "${R[@]}" delete --force sc3 >/dev/null 2>&1
fi

# ---- Podman 4.3 through conmon ----
if command -v podman >/dev/null; then
    # shellcheck source=tests/linux/podman.sh
    . "$TOP/tests/linux/podman.sh"
    cd "$T" || exit 1
    podman_ref_init
    PODMAN_UP=1
    tar -C "$T/b/rootfs" -cf "$T/img.tar" hello.wasm exit3.wasm http-hello.wasm
    podman_ref import "$T/img.tar" localhost/wb/wasm:1 >/dev/null 2>&1
    expect podman-run 0 "Hello from WebAssembly!" "" -- \
        podman_ref run --rm --network none --runtime "$T/wasmbox-runc" localhost/wb/wasm:1 /hello.wasm
    expect podman-exit-code 3 "" "" -- \
        podman_ref run --rm --network none --runtime "$T/wasmbox-runc" localhost/wb/wasm:1 /exit3.wasm
    # a Wasm container on a terminal (conmon's console socket; the pty is the host's)
    ptty_wasm() {
        podman_ref run --rm -t --network none --runtime "$T/wasmbox-runc" localhost/wb/wasm:1 "$1" | tr -d '\r'
        return "${PIPESTATUS[0]}"
    }
    expect podman-run-tty 0 "Hello from WebAssembly!" "" -- ptty_wasm /hello.wasm
    expect podman-run-tty-exit 3 "" "" -- ptty_wasm /exit3.wasm
    podman_ref run -d --name pw1 --runtime "$T/wasmbox-runc" localhost/wb/wasm:1 /hello.wasm >/dev/null
    logs_say_hello() { podman_ref logs pw1 2>/dev/null | grep -q 'Hello from WebAssembly'; }
    check podman-logs wait_for 10 logs_say_hello
    expect podman-rm 0 "pw1" "" -- podman_ref rm pw1
    podman_ref run -d --name pw2 --runtime "$T/wasmbox-runc" localhost/wb/wasm:1 /http-hello.wasm 8080 >/dev/null
    expect podman-stop 0 "pw2" "" -- podman_ref stop -t 1 pw2
    expect podman-stopped-status 0 "exited" "" -- podman_ref inspect --format '{{.State.Status}}' pw2
    podman_ref rm -f pw2 >/dev/null 2>&1
    # a Linux image through wasmbox-runc: what the process sees, as under runc (podman's default)
    podman_load_image busybox:latest "$("$TOP/scripts/test-images.sh" busybox)" >/dev/null 2>&1
    PPROBE='id; hostname | wc -c; head -2 /etc/hosts; grep -E "^(CapBnd|CapEff|NoNewPrivs|Seccomp):" /proc/self/status; ulimit -n; ip -o addr | wc -l; ls /dev | tr "\n" " "; exit 7'
    podman_ref run --rm busybox sh -c "$PPROBE" >"$T/prunc.out" 2>&1
    prun() { podman_ref run --rm --runtime "$T/wasmbox-runc" busybox sh -c "$PPROBE" >"$T/pwb.out" 2>&1; }
    expect podman-linux-run 7 "" "" -- prun
    expect podman-linux-same-as-runc 0 "" "" -- diff "$T/prunc.out" "$T/pwb.out"
    # -t: conmon's console socket gets the pty's master (made in the container's devpts)
    TPROBE='tty; [ -t 0 ] && echo stdin-tty; ls -la /dev/console | cut -c1-10; exit 5'
    podman_ref run --rm -t busybox sh -c "$TPROBE" >"$T/trunc.out" 2>&1
    trun() { podman_ref run --rm -t --runtime "$T/wasmbox-runc" busybox sh -c "$TPROBE" >"$T/twb.out" 2>&1; }
    expect podman-linux-tty 5 "" "" -- trun
    expect podman-linux-tty-same-as-runc 0 "" "" -- diff "$T/trunc.out" "$T/twb.out"
    check podman-linux-tty-is-pts grep -q "^/dev/pts/" "$T/twb.out"
    check podman-linux-groups grep -qx "uid=0(root) gid=0(root) groups=10(wheel)" "$T/pwb.out"
    podman_ref run -d --name pl1 --runtime "$T/wasmbox-runc" busybox sleep 60 >/dev/null
    expect podman-linux-exec 0 "in pl1" "" -- podman_ref exec pl1 sh -c 'echo in pl1'
    ptty() { podman_ref exec -t pl1 sh -c 'tty; [ -t 1 ] && echo out-tty' | tr -d '\r'; }
    expect podman-linux-exec-tty 0 "/dev/pts/0
out-tty" "" -- ptty
    # another container's PID, IPC and UTS namespaces, joined by path
    PL1_HOST=$(podman_ref exec pl1 hostname)
    pshare() { podman_ref run --rm --runtime "$T/wasmbox-runc" --pid container:pl1 --ipc container:pl1 \
        --uts container:pl1 busybox sh -c 'ps -o args | grep -c "^[s]leep 60"; hostname'; }
    expect podman-linux-shared-ns 0 "1
$PL1_HOST" "" -- pshare
    expect podman-linux-stop 0 "pl1" "" -- podman_ref stop -t 1 pl1
    expect podman-linux-stopped 0 "exited" "" -- podman_ref inspect --format '{{.State.Status}}' pl1
    podman_ref rm -f pl1 >/dev/null 2>&1
    cd "$TOP" || exit 1
else
    echo "linux-oci: podman part skipped: podman is not installed"
fi

# ---- Docker 20.10 (dockerd --add-runtime, through containerd 1.6's runc shim) ----
if command -v dockerd >/dev/null && command -v containerd >/dev/null && [ -x /usr/bin/docker ]; then
    D=$T/docker
    mkdir -p "$D"
    printf 'version = 2\nroot = "%s/root"\nstate = "%s/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "%s/c.sock"\n[ttrpc]\n  address = "%s/c.sock.ttrpc"\n' \
        "$D" "$D" "$D" "$D" >"$D/c.toml"
    had_key=0
    [ -e /etc/docker/key.json ] && had_key=1
    containerd --config "$D/c.toml" >"$D/containerd.log" 2>&1 &
    DK_C=$!
    wait_for 10 test -S "$D/c.sock"
    dockerd --data-root "$D/data" --exec-root "$D/x" -H "unix://$D/d.sock" --containerd "$D/c.sock" \
        --storage-driver overlay2 --iptables=false --ip-masq=false --bridge=none \
        --pidfile "$D/d.pid" --add-runtime "wasmbox=$T/wasmbox-runc" >"$D/dockerd.log" 2>&1 &
    DK_D=$!
    dk() { DOCKER_HOST="unix://$D/d.sock" /usr/bin/docker "$@"; }
    dk_up() { dk version >/dev/null 2>&1; }
    if wait_for 30 dk_up; then
        tar -C "$T/b/rootfs" -cf "$T/dimg.tar" hello.wasm exit3.wasm http-hello.wasm
        dk import "$T/dimg.tar" wb/wasm:1 >/dev/null
        expect docker-run 0 "Hello from WebAssembly!" "" -- dk run --rm --network none --runtime wasmbox wb/wasm:1 /hello.wasm
        expect docker-exit-code 3 "" "" -- dk run --rm --network none --runtime wasmbox wb/wasm:1 /exit3.wasm
        dk run -d --name d1 --network none --runtime wasmbox wb/wasm:1 /hello.wasm >/dev/null
        d1_exited() { [ "$(dk inspect --format '{{.State.Status}}' d1 2>/dev/null)" = exited ]; }
        check docker-run-d wait_for 10 d1_exited
        expect docker-logs 0 "Hello from WebAssembly!" "" -- dk logs d1
        expect docker-rm 0 "d1" "" -- dk rm d1
        dk run -d --name d2 --network none --runtime wasmbox wb/wasm:1 /http-hello.wasm 8080 >/dev/null
        expect docker-stop 0 "d2" "" -- dk stop -t 1 d2
        expect docker-stopped 0 "exited 143" "" -- dk inspect --format '{{.State.Status}} {{.State.ExitCode}}' d2
        expect docker-rm-2 0 "d2" "" -- dk rm d2
        # Linux images too, and a user network (its prestart hook, libnetwork-setkey, sets it up)
        "$BUILD/wasmbox" save busybox -o "$T/dbb.tar" && dk load -i "$T/dbb.tar" >/dev/null
        expect docker-linux-run 6 "hi from busybox" "" -- dk run --rm --network none --runtime wasmbox busybox sh -c 'echo hi from busybox; exit 6'
        # a missing command: Docker's 127 and its "OCI runtime create failed" line, as with runc
        dk run --rm --network none busybox nosuch-command >/dev/null 2>"$T/dmiss.runc"
        expect docker-missing-command-runc-reference 0 "127" "" -- bash -c "dk() { DOCKER_HOST='unix://$D/d.sock' /usr/bin/docker \"\$@\"; }; dk run --rm --network none busybox nosuch-command >/dev/null 2>&1; echo \$?"
        expect docker-missing-command 127 "" 'OCI runtime create failed' -- dk run --rm --network none --runtime wasmbox busybox nosuch-command
        check docker-missing-command-message grep -q 'exec: "nosuch-command": executable file not found in $PATH' "$T/err"
        # --security-opt seccomp=FILE: Docker turns its profile into the spec's linux.seccomp
        printf '%s' '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
          {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]}' >"$T/dk-seccomp.json"
        DSC='mkdir /tmp/x; echo "mkdir $?"; linux32 true; linux64 uname -m; grep ^Seccomp: /proc/self/status; exit 3'
        # (stdout and stderr apart: the client interleaves the two streams as they come)
        dk run --rm --network none --security-opt "seccomp=$T/dk-seccomp.json" busybox sh -c "$DSC" >"$T/dsc.runc" 2>"$T/dsc.runc.err"
        dsc_wb() { dk run --rm --network none --runtime wasmbox --security-opt "seccomp=$T/dk-seccomp.json" busybox sh -c "$DSC" >"$T/dsc.wb" 2>"$T/dsc.wb.err"; }
        expect docker-linux-seccomp 3 "" "" -- dsc_wb
        expect docker-linux-seccomp-same-as-runc 0 "" "" -- diff "$T/dsc.runc" "$T/dsc.wb"
        expect docker-linux-seccomp-stderr-same-as-runc 0 "" "" -- diff "$T/dsc.runc.err" "$T/dsc.wb.err"
        check docker-linux-seccomp-denies grep -qx "mkdir 1" "$T/dsc.wb"
        dk network create wbn1 >/dev/null
        expect docker-linux-network 0 "eth0" "" -- dk run --rm --network wbn1 --runtime wasmbox busybox sh -c "ip -o -4 addr show eth0 | cut -d' ' -f2"
        dk run -d --name dw --network wbn1 --runtime wasmbox wb/wasm:1 /http-hello.wasm 8080 >/dev/null
        DW_IP=$(dk inspect --format '{{.NetworkSettings.Networks.wbn1.IPAddress}}' dw)
        dw_fetch() { dk run --rm --network wbn1 --runtime wasmbox busybox wget -qO- "http://$DW_IP:8080/" 2>/dev/null | grep -q 'Hello from wasmbox'; }
        check docker-linux-to-wasm-on-network wait_for 10 dw_fetch
        dk rm -f dw >/dev/null 2>&1
        dk network rm wbn1 >/dev/null 2>&1
    else
        fail "dockerd did not start"
        tail -n 5 "$D/dockerd.log"
    fi
    kill "$DK_D" 2>/dev/null
    wait "$DK_D" 2>/dev/null
    kill "$DK_C" 2>/dev/null
    wait "$DK_C" 2>/dev/null
    grep -o "$D/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
    [ "$had_key" = 0 ] && rm -f /etc/docker/key.json
else
    echo "linux-oci: Docker part skipped: dockerd, containerd or /usr/bin/docker is not installed"
fi

echo "linux-oci: $passed passed, $failed failed"
[ "$failed" = 0 ]
