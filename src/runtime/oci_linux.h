/* runtime/oci_linux.h — a Linux bundle's process as runtime/linux_handler.c runs it (issue #17):
 * the wb_linux_job that an OCI bundle's config.json describes.
 *
 * What is taken from the spec: process.args/env/cwd, user.uid/gid/additionalGids (exactly
 * those groups, as runc), capabilities.bounding (names as runc takes them), rlimits,
 * noNewPrivileges, root.path (bound as it is, read-only when root.readonly), hostname (none: the
 * host's, as a new UTS namespace copies it), linux.maskedPaths and readonlyPaths (beside
 * Docker's, which are always applied), a cgroup namespace only when listed, the network namespace
 * (a path: joined; an entry without one: a new namespace with lo up; no entry: the host's), bind
 * mounts of files and directories (ro honoured), tmpfs mounts other than /dev and /dev/shm (their
 * flag words and key=value options). linux_handler makes /proc, /sys, /dev (with pts, shm, mqueue),
 * the cgroup mount and the masked and read-only paths itself, as Docker's defaults describe them,
 * so the spec's entries for those are not read (a bind on /dev/shm, Podman's shared one, included:
 * the container gets its own); linux.seccomp is compiled as runc compiles it
 * (runtime/oci_seccomp.h) and installed instead of Docker's default profile, absent none. PID,
 * IPC and UTS namespaces given by path are joined
 * (another container's: Podman's `--pid/--ipc/--uts container:X`, a pod's). Refused with a
 * message: a user namespace, joining an existing mount namespace, an unknown capability or
 * rlimit name. */
#ifndef WB_RUNTIME_OCI_LINUX_H
#define WB_RUNTIME_OCI_LINUX_H

#include "base/error.h"
#include "runtime/linux_handler.h"
#include "runtime/oci_seccomp.h"
#include "runtime/oci_spec.h"

typedef struct wb_oci_linux {
    wb_linux_job job; /* borrows from the specs and from the fields below */
    /* owned */
    wb_mount *mounts;
    char **tmpfs;
    size_t ntmpfs;
    wb_ulimit *ulimits;
    gid_t *groups;
    char **masked, **readonly;
    wb_seccomp_prog *seccomp; /* linux.seccomp compiled (NULL: none); job.seccomp_filter */
    char user[32];
    char hostname[256];
} wb_oci_linux;

/* The job for process `proc` (the container's own: proc == s) of bundle `s`; dir is the
 * container's state directory (its root's mount point is made there, inside the container's
 * mount namespace). The specs must outlive out. *out is zeroed first (free it either way).
 * Compiles s's linux.seccomp with libseccomp (loaded here): call it outside the container's
 * root. An `exec` (proc != s) gets the same filter as the container's process, as in runc. */
int wb_oci_linux_prepare(const wb_oci_spec *s, const wb_oci_spec *proc, const char *dir,
                         wb_oci_linux *out, wb_error *err);
void wb_oci_linux_free(wb_oci_linux *l);

#endif
