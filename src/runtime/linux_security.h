/* runtime/linux_security.h — what a Linux container's process may do once it runs: its user and
 * groups, the capability sets Docker grants (changed by --cap-add, --cap-drop, --privileged),
 * no_new_privs, and a seccomp filter equal in effect to Docker's default profile (or one compiled
 * from an OCI bundle's own profile, runtime/oci_seccomp.h). libcap and libseccomp are loaded on
 * first use (dlopen), so only Linux containers pay for them. */
#ifndef WB_RUNTIME_LINUX_SECURITY_H
#define WB_RUNTIME_LINUX_SECURITY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

/* Capabilities as a mask: bit n is capability n (CAP_CHOWN 0, ... CAP_CHECKPOINT_RESTORE 40). */
typedef uint64_t wb_caps;

struct wb_seccomp_prog; /* runtime/oci_seccomp.h */

/* Docker's default set: CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW, SETGID, SETUID,
 * SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE. */
wb_caps wb_caps_default(void);
/* --privileged: every capability the running kernel knows (/proc/sys/kernel/cap_last_cap) that
 * wasmbox itself holds in its bounding set. Where the engine lacks one (this VM has no
 * CAP_SYS_RESOURCE), granting it would fail at capset; recent moby (oci/caps: the capabilities
 * of its own environment) and podman do the same. */
wb_caps wb_caps_all(void);
/* One --cap-add/--cap-drop value: "NET_ADMIN", "CAP_NET_ADMIN", "net_admin" or "ALL" (Docker
 * accepts each spelling; "ALL" gives wb_caps_all()). A name unknown to us or to the running kernel
 * fails with moby's text (oci/caps): `unknown capability: "CAP_FOO"` (upper-cased, prefixed). */
int wb_caps_parse(const char *name, wb_caps *mask, wb_error *err);
/* The set Docker computes (moby's TweakCapabilities) from the defaults, --cap-add and --cap-drop:
 * --privileged gives wb_caps_all() whatever the lists say; add ALL keeps everything but what is
 * dropped (even with drop ALL); drop ALL keeps only what is added; otherwise defaults minus drops
 * plus adds. The drop list is checked before the add list, as moby does. */
int wb_caps_compute(char *const *add, size_t nadd, char *const *drop, size_t ndrop, bool privileged,
                    wb_caps *out, wb_error *err);
/* "CAP_CHOWN" for bit 0, NULL past the known names. */
const char *wb_caps_name(unsigned bit);

typedef struct wb_linux_security {
    uid_t uid;
    gid_t gid;
    const gid_t *groups; /* supplementary groups */
    size_t ngroups;
    wb_caps caps;           /* the bounding set; also permitted and effective for uid 0. A
                             * non-root uid gets empty permitted and effective sets (Docker,
                             * moby#36587; file capabilities still apply at exec).
                             * Inheritable and ambient stay empty (Docker >= 20.10.14,
                             * CVE-2022-24769; podman, CVE-2022-27649). */
    bool no_new_privileges; /* --security-opt no-new-privileges */
    bool seccomp;           /* the default profile (false: seccomp=unconfined, or --privileged) */
    /* a compiled filter (an OCI bundle's own profile, runtime/oci_seccomp.h) installed instead
     * of the default profile, at the same step; NULL: none. Borrowed. */
    const struct wb_seccomp_prog *filter;
} wb_linux_security;

/* Before the container's process enters its root (before clone, or at least before pivot_root):
 * loads libcap and, if s->seccomp without s->filter, libseccomp (dlopen), and checks that wasmbox
 * holds every capability of s->caps. dlopen after pivot_root would search the image's file system,
 * so a hostile image could supply the library and run code as the runtime: apply never loads one. A
 * missing library fails naming its Debian package (libcap2, libseccomp2). Process-wide and
 * idempotent; a forked child inherits what was loaded. */
int wb_linux_security_prepare(const wb_linux_security *s, wb_error *err);

/* In the container's process, after its mounts and pivot_root and just before execve: sets
 * no_new_privs, the bounding set, the groups, gid and uid (keeping capabilities across the uid
 * change), the capability sets and the seccomp filter, in the order that keeps each step permitted
 * (as runc: the filter goes in first, while CAP_SYS_ADMIN is still held, unless no_new_privs is
 * set, in which case it goes in last). Fails (without loading anything) unless
 * wb_linux_security_prepare succeeded for the same needs in this process or its parent. On
 * failure nothing is exec'ed: the caller reports err and exits. */
int wb_linux_security_apply(const wb_linux_security *s, wb_error *err);

/* The seccomp filter alone (for tests): installs the default profile, given the capabilities the
 * process will hold (Docker's profile allows some syscalls only with a capability, e.g. the
 * syscalls of CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_SYS_MODULE ...). Loads libseccomp if needed, so
 * call it only outside a container's root. Does not set no_new_privs: needs CAP_SYS_ADMIN, or
 * no_new_privs set before. */
int wb_linux_seccomp_install(wb_caps caps, wb_error *err);

#endif
