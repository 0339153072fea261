#!/usr/bin/env bash
# Regenerates tests/linux/reference/podman-*.txt: what the reference runtime (podman 4.3 + runc,
# tests/linux/podman.sh) prints on this machine for the commands of issue #13's "Done when" 1,
# run in the busybox test image. Each file: "$ COMMAND" (the podman_ref arguments), the output
# (stdout and stderr; the private store's path written D), "exit: CODE". Run as root: bash tests/linux/reference/podman-reference.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
# shellcheck source=tests/linux/podman.sh
. "$top/tests/linux/podman.sh"
podman_ref_trap
podman_load_image busybox:latest "$("$top/scripts/test-images.sh" busybox)" || exit 1

# ref NAME ARGS...: podman_ref ARGS > podman-NAME.txt
ref() {
    local name=$1 out rc
    shift
    out=$here/podman-$name.txt
    {
        printf '$ podman_ref'
        printf ' %q' "$@"
        printf '\n'
    } >"$out"
    podman_ref "$@" >"$out.raw" 2>&1
    rc=$?
    # the private store's temp path varies from run to run: D, as in podman-setup.txt
    sed "s|$PODMAN_REF_DIR|D|g" "$out.raw" >>"$out"
    rm -f "$out.raw"
    echo "exit: $rc" >>"$out"
    echo "podman-$name.txt: exit $rc"
}

{
    echo "# podman_ref = podman $(podman --version | awk '{print $3}'), runc $(runc --version | awk 'NR==1{print $3}'), conmon $(conmon --version | awk 'NR==1{print $3}')"
    echo "# global flags: --root D/root --runroot D/run --tmpdir D/tmp --storage-driver $PODMAN_REF_STORAGE --cgroup-manager=cgroupfs --events-backend=file --runtime runc"
    echo "# run/create flags: ${PODMAN_REF_ULIMITS[*]}"
    echo "# kernel $(uname -r), cgroup $(stat -fc %T /sys/fs/cgroup | sed 's/tmpfs/v1/; s/cgroup2fs/v2/')"
    echo "# host: ulimit -Hn $(ulimit -Hn), ulimit -Hu $(ulimit -Hu), pid_max $(cat /proc/sys/kernel/pid_max), $(grep CapEff /proc/self/status | tr '\t' ' ')"
    echo "# image: $(basename "$("$top/scripts/test-images.sh" busybox)")"
} >"$here/podman-setup.txt"

# Without the ulimits: what fails, for the record.
{
    echo '$ podman <global flags> run --rm busybox true   # no --ulimit'
    podman --root "$PODMAN_REF_DIR/root" --runroot "$PODMAN_REF_DIR/run" --tmpdir "$PODMAN_REF_DIR/tmp" \
        --storage-driver "$PODMAN_REF_STORAGE" --cgroup-manager=cgroupfs --events-backend=file \
        --runtime runc run --rm busybox true 2>&1
    echo "exit: $?"
} >"$here/podman-no-ulimit.txt"

ref true run --rm busybox true
ref id run --rm busybox id
ref id-user run --rm -u user busybox id
ref id-1000-100 run --rm -u 1000:100 busybox id
ref hostname run --rm busybox hostname
ref status run --rm busybox cat /proc/self/status
ref mount run --rm busybox mount
ref ls-dev run --rm busybox ls -l /dev
ref ulimit run --rm busybox sh -c 'ulimit -a'
ref env run --rm busybox env
ref ps run --rm busybox ps
ref oom-pipe run --rm -m 8m busybox sh -c 'head -c 64m /dev/zero | tail'
ref oom-pid1 run --name oom-pid1 -m 8m busybox tail /dev/zero
ref oom-pid1-inspect inspect --format 'ExitCode={{.State.ExitCode}} OOMKilled={{.State.OOMKilled}}' oom-pid1
podman_ref rm -f oom-pid1 >/dev/null
ref cgroup-memory run --rm -m 8m busybox sh -c 'cat /proc/self/cgroup; cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes'
