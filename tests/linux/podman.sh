# shellcheck shell=bash
# The reference container runtime, podman 4.3 + runc, for tests that run the same image and
# command with wasmbox and with podman side by side (issue #13, "Done when" 1). Source it:
#
#   . tests/linux/podman.sh
#   podman_load_image busybox:latest "$(scripts/test-images.sh busybox)"
#   podman_ref run --rm busybox id            # any podman command, on a private store
#   wasmbox run --rm "${PODMAN_REF_ULIMITS[@]}" busybox id   # the same limits for our side
#   podman_ref_cleanup                        # (also run on EXIT if podman_ref_trap was called)
#
# podman_ref is `podman` with everything private under $PODMAN_REF_DIR (a temp dir made on first
# use): store, run root, libpod tmp dir (events log, locks). It is exactly:
#
#   podman --root D/root --runroot D/run --tmpdir D/tmp --storage-driver overlay \
#          --cgroup-manager=cgroupfs --events-backend=file --runtime runc \
#          run --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 ARGS...
#
# with the --ulimit pair added to `run` and `create` only (their values computed on this machine,
# see below). The network is podman's default (CNI bridge `cni-podman0`, 10.88.0.0/16 — the
# network config in /etc/cni/net.d is the host's, not private), which is what Docker's default
# bridge network corresponds to.
#
# Quirks of this machine (Debian 12, kernel 6.18, podman 4.3.1, runc 1.1.5, conmon 2.1.6):
# - ulimits. Without --ulimit, `podman run --rm busybox true` exits 126: "runc create failed:
#   ... error setting rlimits for ready process: error setting rlimit type 7: operation not
#   permitted" (7 = RLIMIT_NOFILE). Podman writes nofile=1048576 into the OCI config, and nproc=
#   1048576 as soon as any --ulimit is given (32768, its own limit, when none is), but root here
#   lacks CAP_SYS_RESOURCE (CapEff 000001fffeffffff: bit 24 clear), so no hard limit can be
#   raised: the host's are nofile 20000 and nproc 96367, and podman (and conmon) run with nproc
#   hard 32768 (= kernel.pid_max; seen in /proc/PID/limits). So --ulimit nofile=20000:20000
#   alone fails with type 6 (NPROC), and so does nproc=96367. Working values: nofile <= `ulimit
#   -Hn`, nproc <= min(`ulimit -Hu`, pid_max), both given. PODMAN_REF_ULIMITS holds them; pass
#   the same flags to wasmbox when comparing `ulimit -a`.
# - cgroup v1 (a tmpfs at /sys/fs/cgroup with one hierarchy per controller): --cgroup-manager=
#   cgroupfs (no systemd here); containers go to /libpod_parent/libpod-ID in each hierarchy; the
#   container does not get a cgroup namespace by default on v1 (as with Docker).
# - storage: the kernel's overlay driver works (no fuse-overlayfs needed); vfs works too
#   (PODMAN_REF_STORAGE=vfs) but copies every layer per container.
# - events: --events-backend=file (no journald); the log goes to D/tmp/events/events.log.
#
# Reference outputs, observed 2026-12-07 (busybox image of scripts/test-images.sh, busybox-static
# 1:1.35.0-4+deb12u1+b1, imported with CMD ["sh"], Docker's PATH and the test-image label). The
# full outputs are in tests/linux/reference/podman-*.txt (each: "$ podman_ref ARGS", the output
# with the store's path written D, "exit: CODE"); regenerate them with
# tests/linux/reference/podman-reference.sh.
#
# podman_ref run --rm busybox true                        -> exit 0 (without the --ulimit flags:
#                                                            exit 126, podman-no-ulimit.txt)
# podman_ref run --rm busybox id                          -> uid=0(root) gid=0(root) groups=10(wheel)
#   (podman adds the groups naming root in the image's /etc/group, not gid 0 itself; Docker's
#   busybox is known to print groups=0(root),10(wheel): check, and name the difference in the
#   comparison test)
# podman_ref run --rm -u user busybox id                  -> uid=1000(user) gid=1000(user)
#                                                            groups=10(wheel),100(users),1000(user)
# podman_ref run --rm -u 1000:100 busybox id              -> uid=1000(user) gid=100(users) groups=100(users)
#   (an explicit group: no supplementary groups from /etc/group)
# podman_ref run --rm busybox hostname                    -> the 12-hex short container ID
# podman_ref run --rm busybox cat /proc/self/status       -> CapInh 0000000000000000,
#   CapPrm = CapEff = CapBnd 00000000800405fb, CapAmb 0000000000000000, NoNewPrivs 0, Seccomp 2,
#   Seccomp_filters 1, Groups: 10. 800405fb = chown dac_override fowner fsetid kill setgid
#   setuid setpcap net_bind_service sys_chroot setfcap: podman 4's default set; Docker's also has
#   mknod, net_raw, audit_write (00000000a80425fb) -- podman dropped those three.
# podman_ref run --rm busybox mount                       -> in this order:
#   overlay / (rw,relatime,lowerdir=..,upperdir=..,workdir=..,uuid=on,fsync=volatile)
#   proc /proc (rw,nosuid,nodev,noexec,relatime)
#   tmpfs /dev (rw,nosuid,noexec,size=65536k,mode=755)
#   sysfs /sys (ro,nosuid,nodev,noexec,relatime)
#   devpts /dev/pts (rw,nosuid,noexec,relatime,gid=5,mode=620,ptmxmode=666)
#   mqueue /dev/mqueue (rw,nosuid,nodev,noexec,relatime)
#   /dev/vda binds on /etc/resolv.conf, /etc/hosts, /run/.containerenv, /etc/hostname (rw)
#   shm /dev/shm tmpfs (rw,nosuid,nodev,noexec,relatime,size=64000k)
#   tmpfs /sys/fs/cgroup (rw,nosuid,nodev,noexec,relatime,mode=755), then one cgroup mount per v1
#     hierarchy (cpu cpuacct cpuset memory devices freezer blkio pids name=systemd), each
#     ro,nosuid,nodev,noexec,relatime -- the host's paths, no cgroup namespace
#   read-only: proc on /proc/bus, /proc/fs, /proc/irq, /proc/sys (ro,nosuid,nodev,noexec,relatime)
#   masked: tmpfs ro on /proc/acpi, /sys/firmware, /sys/dev/block (directories); the /dev
#     tmpfs's null bound on /proc/keys, /proc/timer_list (shown as "tmpfs ... size=65536k").
#   Docker's other masked/ro paths (/proc/kcore, /proc/sysrq-trigger, /proc/asound,
#   /proc/latency_stats, /proc/timer_stats, /proc/sched_debug, /proc/scsi, /sys/fs/selinux) do
#   not exist on this kernel, so runc skips them: compare the list, not a fixed one.
# podman_ref run --rm busybox ls -l /dev                  -> fd full mqueue null ptmx(->pts/ptmx)
#   pts random shm stderr stdin stdout tty urandom zero (no console without -t, no core)
# podman_ref run --rm busybox sh -c 'ulimit -a'           -> open files 20000, max user
#   processes 32768 (the --ulimit values); core 0, stack 8192 kB, locked memory 8192 kB,
#   pending signals 96367, message queues 819200: the host's soft limits.
# podman_ref run --rm busybox env                         -> PATH=(Docker's), TERM=xterm,
#   container=podman, HOME=/root, HOSTNAME=<short id>. Docker sets neither TERM (without -t) nor
#   container=.
# podman_ref run --rm busybox ps                          -> "PID USER COMMAND / 1 root ps"
# podman_ref run --rm -m 8m busybox sh -c 'head -c 64m /dev/zero | tail'
#                                                         -> "Killed", exit 137 (busybox tail
#   keeps the newline-free input in memory; the OOM killer kills tail, sh exits 128+9)
# podman_ref run --name oom-pid1 -m 8m busybox tail /dev/zero -> exit 137 (PID 1 killed), but
#   `inspect` says OOMKilled=false: podman 4.3 with runc on cgroup v1 misses the OOM event
#   (Docker reports true; wasmbox must report true, per the issue).
# podman_ref run --rm -m 8m busybox sh -c 'cat /proc/self/cgroup; cat .../memory.limit_in_bytes
#   .../memory.memsw.limit_in_bytes' -> /libpod_parent/libpod-ID in every hierarchy, 8388608,
#   16777216 (memory-swap = 2 x memory by default; this machine has no swap anyway).

PODMAN_REF_STORAGE=${PODMAN_REF_STORAGE:-overlay}
PODMAN_REF_DIR=${PODMAN_REF_DIR:-}
PODMAN_REF_ULIMITS=()

# The nofile/nproc hard limits podman can hand to runc here (see "ulimits" above).
podman_ref_ulimits() {
    local nofile nproc pidmax
    nofile=$(ulimit -Hn)
    nproc=$(ulimit -Hu)
    pidmax=$(cat /proc/sys/kernel/pid_max)
    [ "$nofile" = unlimited ] && nofile=1048576
    [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pidmax" ] && nproc=$pidmax
    PODMAN_REF_ULIMITS=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")
}

podman_ref_init() {
    [ -n "$PODMAN_REF_DIR" ] && [ -d "$PODMAN_REF_DIR/root" ] && [ ${#PODMAN_REF_ULIMITS[@]} -gt 0 ] && return 0
    command -v podman >/dev/null || { echo "podman_ref: podman is not installed (scripts/deps.sh)" >&2; return 1; }
    if [ -z "$PODMAN_REF_DIR" ]; then
        PODMAN_REF_DIR=$(mktemp -d /tmp/podman-ref.XXXXXX)
    fi
    mkdir -p "$PODMAN_REF_DIR"/{root,run,tmp}
    [ ${#PODMAN_REF_ULIMITS[@]} -gt 0 ] || podman_ref_ulimits
}

# podman_ref ARGS...: podman on the private store; `run`/`create` get the --ulimit flags.
# The first call must not be in a $(...) subshell (the store it makes would be lost): call
# podman_ref_init, podman_ref_trap or podman_load_image first.
podman_ref() {
    if [ -z "$PODMAN_REF_DIR" ] || [ ! -d "$PODMAN_REF_DIR/root" ] || [ ${#PODMAN_REF_ULIMITS[@]} -eq 0 ]; then
        if [ "$BASH_SUBSHELL" -gt 0 ]; then
            echo "podman_ref: call podman_ref_init before using podman_ref in a subshell" >&2
            return 1
        fi
        podman_ref_init || return 1
    fi
    local global=(--root "$PODMAN_REF_DIR/root" --runroot "$PODMAN_REF_DIR/run"
        --tmpdir "$PODMAN_REF_DIR/tmp" --storage-driver "$PODMAN_REF_STORAGE"
        --cgroup-manager=cgroupfs --events-backend=file --runtime runc)
    case ${1:-} in
    run | create)
        local sub=$1
        shift
        podman "${global[@]}" "$sub" "${PODMAN_REF_ULIMITS[@]}" "$@"
        ;;
    container)
        if [ "${2:-}" = run ] || [ "${2:-}" = create ]; then
            local sub=$2
            shift 2
            podman "${global[@]}" container "$sub" "${PODMAN_REF_ULIMITS[@]}" "$@"
        else
            podman "${global[@]}" "$@"
        fi
        ;;
    *) podman "${global[@]}" "$@" ;;
    esac
}

# podman_load_image NAME TAR [CHANGE...]: imports a rootfs tarball of scripts/test-images.sh as
# NAME (e.g. busybox:latest). Without CHANGEs, the ones `scripts/test-images.sh load` gives the
# wasmbox image (CMD, ENV PATH, the label naming the tarball), so both sides run the same config.
# Skipped when NAME already carries that label.
podman_load_image() {
    local name=$1 tar=$2 kind have c args=()
    shift 2
    podman_ref_init || return 1
    [ -f "$tar" ] || { echo "podman_load_image: no such file: $tar" >&2; return 1; }
    if [ $# -eq 0 ]; then
        case $(basename "$tar") in
        busybox-*) kind=busybox ;;
        debian-*) kind=debian ;;
        *) kind= ;;
        esac
        if [ -n "$kind" ]; then
            local script
            script=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/test-images.sh
            while IFS= read -r c; do args+=(-c "$c"); done < <("$script" changes "$kind" "$tar")
        fi
    else
        for c in "$@"; do args+=(-c "$c"); done
    fi
    have=$(podman_ref image inspect --format '{{index .Config.Labels "org.wasmbox.test-image"}}' "$name" 2>/dev/null || true)
    [ -n "$have" ] && [ "$have" = "$(basename "$tar" .tar)" ] && return 0
    podman_ref import -q "${args[@]}" "$tar" "$name" >/dev/null
}

# Removes every container and the private store (unmounting what podman left mounted).
podman_ref_cleanup() {
    [ -n "$PODMAN_REF_DIR" ] && [ -d "$PODMAN_REF_DIR" ] || return 0
    podman_ref rm -a -f -t 0 >/dev/null 2>&1 || true
    local m
    while read -r m; do
        if [ -n "$m" ]; then umount -l "$m" 2>/dev/null || true; fi
    done < <(awk -v d="$(realpath "$PODMAN_REF_DIR")/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
    rm -rf --one-file-system "$PODMAN_REF_DIR"
    PODMAN_REF_DIR=
}

# Arranges podman_ref_cleanup on EXIT (chaining an EXIT trap already set).
podman_ref_trap() {
    local prev
    podman_ref_init || return 1
    prev=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
    # shellcheck disable=SC2064
    trap "podman_ref_cleanup; ${prev:-:}" EXIT
}
