/* runtime/linux_handler.h — running a Linux container's process: a child cloned into new mount,
 * PID, UTS, IPC, network (unless --network host) and cgroup namespaces, whose root is an overlay of
 * the image's unpacked rootfs (shared, read-only) and the container's own upper directory, with
 * Docker's /proc, /sys, /dev, masked and read-only paths, /etc/hostname, /etc/hosts and
 * /etc/resolv.conf, bind mounts, the user, capabilities and seccomp filter it asked for, exec'ing
 * the container's command as PID 1. */
#ifndef WB_RUNTIME_LINUX_HANDLER_H
#define WB_RUNTIME_LINUX_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/error.h"
#include "oci/layers.h"
#include "runtime/container.h"
#include "runtime/linux_security.h"

/* Docker's PATH for a container whose image sets none. */
#define WB_LINUX_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* One --ulimit NAME=SOFT[:HARD] (Docker's names: core, cpu, data, fsize, locks, memlock,
 * msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack; -1 is unlimited). */
typedef struct wb_ulimit {
    int resource; /* RLIMIT_* */
    long long soft, hard;
} wb_ulimit;
/* Parse "nofile=1024:2048" (HARD defaults to SOFT); fails with Docker's message. */
int wb_ulimit_parse(const char *spec, wb_ulimit *out, char name[16], wb_error *err);
/* The RLIMIT_* of a Docker ulimit name, or -1. */
int wb_ulimit_resource(const char *name);

typedef struct wb_linux_job {
    char *const *argv; /* argv[0]: a path in the container, or a name looked up in its PATH */
    size_t argc;
    char *const *env; /* "K=V", complete (PATH, HOSTNAME, HOME and TERM already added) */
    size_t nenv;
    const wb_lowers *lowers; /* the image's files, the overlay's lower directories (none: an
                              * empty root) */
    const char *dir;         /* the container's directory: upper, work, rootfs, etc/ files */
    const char *workdir;     /* NULL: "/" */
    const char *user;        /* -u USER[:GROUP] (names or numbers); NULL: root */
    const char *hostname;    /* set in the new UTS namespace */
    const wb_mount *mounts;  /* bind mounts, targets resolved inside the root */
    size_t nmounts;
    bool read_only_root;      /* --read-only */
    bool host_network;        /* --network host: no network namespace of its own */
    int netns_fd;             /* >= 0: join this network namespace (a network's, made by
                               * runtime/network.c) instead of a new empty one */
    const char *hosts_extra;  /* /etc/hosts lines for the container's own addresses (NULL:
                               * its name on 127.0.1.1) */
    const char *resolv;       /* /etc/resolv.conf text (NULL: the host's, loopback servers
                               * dropped) */
    bool tty;                 /* stdio is a pty: it becomes the controlling terminal, and
                               * /dev/console is bound to it */
    wb_caps caps;             /* the capability set (wb_caps_compute) */
    bool no_new_privileges;   /* --security-opt no-new-privileges */
    bool seccomp;             /* Docker's default seccomp profile */
    bool privileged;          /* --privileged: all capabilities, host devices, no masking */
    const wb_ulimit *ulimits; /* --ulimit, set before the command runs */
    size_t nulimits;
    char *const *tmpfs; /* --tmpfs PATH[:OPTIONS] (Docker's default options: rw,noexec,nosuid) */
    size_t ntmpfs;
    long long shm_size;  /* --shm-size bytes of /dev/shm; 0: Docker's 64 MiB */
    bool init;           /* --init: a small init of ours is PID 1, the command its child */
    const gid_t *groups; /* with exact_groups: the supplementary groups, exactly (a bundle's
                          * user.additionalGids); else from the user's /etc/group entries */
    size_t ngroups;
    bool exact_groups;
    char *const *masked; /* more paths to mask and to make read-only than Docker's (a bundle's */
    size_t nmasked;      /* linux.maskedPaths and readonlyPaths) */
    char *const *readonly;
    size_t nreadonly;
    bool no_cgroup_ns; /* stay in the caller's cgroup namespace (a bundle without one) */
    bool console;      /* runc's --console-socket: once in its root, the process makes a pty of
                        * the container's devpts its stdio and controlling terminal, and sends
                        * the master over console_fd (a connected unix socket), as runc does */
    int console_fd;
    bool two_phase; /* as runc's create/start (a bundle): after the first go byte the process
                     * sets itself up (root, mounts, console), writes one byte on ready_fd, and
                     * waits for a second byte on go_fd before it execs its command (EOF: it
                     * exits); a setup failure is reported before ready_fd closes */
    int ready_fd;
    bool join_namespaces; /* a bundle's namespaces given by path (another container's, a pod's):
                           * join_pid/ipc/uts are descriptors of them, -1 for a new one */
    int join_pid, join_ipc, join_uts;
    const char *root_dir; /* an OCI bundle's root.path: bound (recursively) as the root instead
                           * of an overlay of lowers, and the bundle's own mounts give /etc's
                           * files (nothing is written in dir/etc); NULL: a wasmbox container */
    /* a bundle's hooks that run inside the container, called in its process with kind
     * "createContainer" (its mounts made, before pivot_root: paths are the host's) and
     * "startContainer" (after start, just before its command is exec'ed: paths are the
     * container's); < 0 fails create or start with err. NULL: none. */
    int (*in_container_hook)(const void *ctx, const char *kind, wb_error *err);
    const void *hook_ctx;
    /* a compiled filter installed instead of the default profile (an OCI bundle's
     * linux.seccomp, runtime/oci_seccomp.h); NULL: none */
    const struct wb_seccomp_prog *seccomp_filter;
} wb_linux_job;

/* The calling process's network namespace starts with its loopback down: up, as every
 * runtime brings it (a Linux container's, a bundle's new namespace). */
void wb_linux_loopback_up(void);

/* Write the container's /etc/hostname, /etc/hosts and /etc/resolv.conf into job->dir/ (bind-
 * mounted over the image's at start), as Docker does: with --network host the host's hosts and
 * resolv.conf; otherwise localhost entries plus the hostname, and the host's resolv.conf without
 * loopback name servers (Docker's fallbacks 8.8.8.8 and 8.8.4.4 when none is left). */
int wb_linux_write_etc(const wb_linux_job *job, wb_error *err);

/* Clone the container's process. It waits until one byte arrives on go_fd (the caller has put it in
 * its cgroup and recorded it running; EOF without a byte: it exits), sets up its root and
 * execs the command. Until exec it reports a failure as one line "<exit code> <message>" on
 * report_fd (close-on-exec: EOF without a line means the command is running): 127 for a command
 * that does not exist (Docker's `exec: "x": executable file not found in $PATH`), 126 for one
 * that cannot run, 125 for anything else. stdio are its 0, 1, 2. The caller must be
 * single-threaded (the child keeps using malloc). */
int wb_linux_spawn(const wb_linux_job *job, const int stdio[3], int go_fd, int report_fd,
                   pid_t *pid, wb_error *err);

/* `exec`: a process that joins a running container's namespaces and cgroup and runs argv there,
 * as the container's user unless `user` says otherwise, with the container's capabilities,
 * seccomp filter and ulimits (the fields of `job` as for its start; argv, env, user and workdir
 * are the exec's own). `target` is the container's PID 1 as the host sees it, `cgroup_id` the
 * container's ID (its cgroup, if it has one). The process is this one's child (the caller waits
 * for it); until exec it reports failures on report_fd as wb_linux_spawn does (126 for a command
 * that cannot run, 127 for one not found). Never holds a descriptor of the host's in the
 * container, and is not dumpable while it still runs wasmbox's code (CVE-2019-5736: the
 * container cannot open its /proc/PID/exe). */
int wb_linux_exec_spawn(const wb_linux_job *job, pid_t target, const char *cgroup_id,
                        const int stdio[3], int report_fd, pid_t *pid, wb_error *err);

/* After the child ended or exec'ed: the failure it reported on report_fd (read end), if any:
 * returns true with *exit_code and msg filled. */
bool wb_linux_read_report(int report_fd, int *exit_code, char *msg, size_t size);

#endif
