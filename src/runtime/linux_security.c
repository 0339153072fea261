/* Capabilities (Docker's sets and rules) and the last steps of a Linux container's process before
 * execve: no_new_privs, bounding set, groups and ids, capability sets, seccomp filter
 * (linux_seccomp.c), in runc's order.
 *
 * Process-wide state (documented exception to "no mutable globals"): the libcap table is filled
 * once, under pthread_once, and is read-only afterwards. */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "base/dynlib.h"
#include "runtime/linux_security.h"
#include "runtime/linux_security_internal.h"
#include "runtime/oci_seccomp.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT           47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

/* ---- libcap, loaded on first use ---- */

#define WB_LIBCAP_FUNCS(X)                                                                         \
    X(cap_init)                                                                                    \
    X(cap_free)                                                                                    \
    X(cap_set_flag)                                                                                \
    X(cap_set_proc)

#define WB_LIBCAP_MEMBER(name) __typeof__(&name) name;
typedef struct wb_libcap {
    WB_LIBCAP_FUNCS(WB_LIBCAP_MEMBER)
} wb_libcap;

static wb_libcap cap_fns;
static char cap_why[WB_ERROR_MSG_MAX];
static bool cap_ok;
static pthread_once_t cap_once = PTHREAD_ONCE_INIT;

static void load_libcap(void) {
    if (!wb_dynlib_loadable()) {
        snprintf(cap_why, sizeof cap_why,
                 "internal error: Linux containers need libcap, which the static wasmbox cannot "
                 "load (this command should have been handed to wasmbox-full)");
        return;
    }
    void *h = dlopen("libcap.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(cap_why, sizeof cap_why,
                 "cannot load libcap.so.2: %s (install the Debian package libcap2)", dlerror());
        return;
    }
#define WB_LIBCAP_RESOLVE(name)                                                                    \
    if (!cap_why[0] && !(cap_fns.name = (__typeof__(&name))dlsym(h, #name)))                       \
        snprintf(cap_why, sizeof cap_why, "libcap.so.2 lacks %s", #name);
    WB_LIBCAP_FUNCS(WB_LIBCAP_RESOLVE)
#undef WB_LIBCAP_RESOLVE
    cap_ok = !cap_why[0];
}

/* ---- capability sets ---- */

#define BIT(n) ((wb_caps)1 << (n))

/* the kernel's names, by number (linux/capability.h); wb_caps_parse also asks the kernel */
static const char *const cap_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
#define NCAP_NAMES (sizeof cap_names / sizeof cap_names[0])

const char *wb_caps_name(unsigned bit) {
    return bit < NCAP_NAMES ? cap_names[bit] : NULL;
}

wb_caps wb_caps_default(void) {
    return BIT(CAP_CHOWN) | BIT(CAP_DAC_OVERRIDE) | BIT(CAP_FSETID) | BIT(CAP_FOWNER) |
           BIT(CAP_MKNOD) | BIT(CAP_NET_RAW) | BIT(CAP_SETGID) | BIT(CAP_SETUID) |
           BIT(CAP_SETFCAP) | BIT(CAP_SETPCAP) | BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_SYS_CHROOT) |
           BIT(CAP_KILL) | BIT(CAP_AUDIT_WRITE);
}

/* The kernel's last capability, as /proc/sys/kernel/cap_last_cap says, asked with
 * PR_CAPBSET_READ (EINVAL past the last one) so that it works without /proc, in the container's
 * root. in_bounding: the capabilities of our own bounding set. */
static unsigned kernel_caps(wb_caps *in_bounding) {
    unsigned n = 0;
    wb_caps held = 0;
    for (; n < 64; n++) {
        int r = prctl(PR_CAPBSET_READ, (unsigned long)n, 0, 0, 0);
        if (r < 0) break;
        if (r == 1) held |= BIT(n);
    }
    if (in_bounding) *in_bounding = held;
    return n; /* how many the kernel knows */
}

static wb_caps known_mask(void) {
    unsigned n = kernel_caps(NULL);
    return n >= 64 ? ~(wb_caps)0 : BIT(n) - 1;
}

wb_caps wb_caps_all(void) {
    wb_caps held;
    kernel_caps(&held);
    return held;
}

/* Normalizes as moby does (upper case, "CAP_" prefix unless "ALL"); *all for "ALL". */
static int parse_one(const char *name, wb_caps *mask, bool *all, wb_error *err) {
    char up[96];
    size_t i = 0;
    const char *prefix = "";
    if (strncasecmp(name, "CAP_", 4) != 0 && strcasecmp(name, "ALL") != 0) prefix = "CAP_";
    i = (size_t)snprintf(up, sizeof up, "%s", prefix);
    for (const char *p = name; *p && i + 1 < sizeof up; p++)
        up[i++] = (char)toupper((unsigned char)*p);
    up[i] = 0;
    *all = false;
    *mask = 0;
    if (strcmp(up, "ALL") == 0) {
        *all = true;
        *mask = wb_caps_all();
        return 0;
    }
    unsigned known = kernel_caps(NULL);
    for (unsigned b = 0; b < NCAP_NAMES && b < known; b++) {
        if (strcmp(cap_names[b], up) == 0) {
            *mask = BIT(b);
            return 0;
        }
    }
    return wb_error_set(err, EINVAL, "unknown capability: \"%s\"", up);
}

int wb_caps_parse(const char *name, wb_caps *mask, wb_error *err) {
    bool all;
    return parse_one(name, mask, &all, err);
}

static int parse_list(char *const *names, size_t n, wb_caps *mask, bool *all, wb_error *err) {
    *mask = 0;
    *all = false;
    for (size_t i = 0; i < n; i++) {
        wb_caps m;
        bool a;
        if (parse_one(names[i], &m, &a, err) < 0) return -1;
        if (a)
            *all = true;
        else
            *mask |= m;
    }
    return 0;
}

int wb_caps_compute(char *const *add, size_t nadd, char *const *drop, size_t ndrop, bool privileged,
                    wb_caps *out, wb_error *err) {
    if (privileged) {
        *out = wb_caps_all();
        return 0;
    }
    if (nadd == 0 && ndrop == 0) {
        *out = wb_caps_default();
        return 0;
    }
    wb_caps dropped, added;
    bool drop_all, add_all;
    if (parse_list(drop, ndrop, &dropped, &drop_all, err) < 0) return -1;
    if (parse_list(add, nadd, &added, &add_all, err) < 0) return -1;
    if (add_all)
        *out = wb_caps_all() & ~dropped; /* a dropped "ALL" removes nothing here, as in moby */
    else if (drop_all)
        *out = added;
    else
        *out = (wb_caps_default() & ~dropped) | added;
    return 0;
}

/* ---- the process ---- */

static int check_available(wb_caps caps, wb_error *err) {
    wb_caps missing = caps & ~wb_caps_all();
    if (!missing) return 0;
    unsigned b = 0;
    while (!(missing & BIT(b))) b++;
    const char *name = wb_caps_name(b);
    return wb_error_set(err, EPERM,
                        "capability %s is not available: wasmbox itself does not hold it in its "
                        "bounding set",
                        name ? name : "(unnamed)");
}

int wb_linux_security_prepare(const wb_linux_security *s, wb_error *err) {
    pthread_once(&cap_once, load_libcap);
    if (!cap_ok) return wb_error_set(err, ENOENT, "%s", cap_why);
    if (s->seccomp && !s->filter && wb__seccomp_prepare(s->caps & known_mask(), err) < 0) return -1;
    return check_available(s->caps, err);
}

static int set_cap_sets(wb_caps eff_prm, wb_error *err) {
    const wb_libcap *lc = &cap_fns;
    cap_t c = lc->cap_init(); /* all three sets empty */
    if (!c) return wb_error_sys(err, "cap_init");
    cap_value_t values[64];
    int n = 0;
    for (unsigned b = 0; b < 64; b++)
        if (eff_prm & BIT(b)) values[n++] = (cap_value_t)b;
    int rc = 0;
    if (n > 0 && (lc->cap_set_flag(c, CAP_PERMITTED, n, values, CAP_SET) != 0 ||
                  lc->cap_set_flag(c, CAP_EFFECTIVE, n, values, CAP_SET) != 0))
        rc = wb_error_sys(err, "cap_set_flag");
    if (rc == 0 && lc->cap_set_proc(c) != 0)
        rc = wb_error_sys(err, "set the capabilities (permitted and effective %#llx)",
                          (unsigned long long)eff_prm);
    lc->cap_free(c);
    return rc;
}

/* The filter: a compiled one (a bundle's), else the default profile if asked for. */
static int install_seccomp(const wb_linux_security *s, wb_caps caps, wb_error *err) {
    if (s->filter) return wb_seccomp_prog_install(s->filter, err);
    if (s->seccomp) return wb__seccomp_install_loaded(caps, err);
    return 0;
}

int wb_linux_security_apply(const wb_linux_security *s, wb_error *err) {
    /* loading a library here would read it from the container's root */
    bool default_profile = s->seccomp && !s->filter;
    if (!cap_ok || (default_profile && !wb__seccomp_prepared(s->caps & known_mask()) &&
                    !wb__libseccomp_loaded()))
        return wb_error_set(err, EINVAL,
                            "internal error: libcap/libseccomp were not loaded before entering the "
                            "container's root (wb_linux_security_prepare)");
    wb_caps caps = s->caps & known_mask();
    if (check_available(caps, err) < 0) return -1;

    /* 1. no_new_privs first: with it, the filter may go in last, without CAP_SYS_ADMIN */
    if (s->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return wb_error_sys(err, "set no_new_privs");
    /* 2. without it, loading a filter needs CAP_SYS_ADMIN, which we still hold (the profile
     * allows every syscall of the steps below) */
    if (!s->no_new_privileges && install_seccomp(s, caps, err) < 0) return -1;
    /* 3. the bounding set, while CAP_SETPCAP is effective */
    unsigned known = kernel_caps(NULL);
    for (unsigned b = 0; b < known; b++) {
        if (caps & BIT(b)) continue;
        if (prctl(PR_CAPBSET_READ, (unsigned long)b, 0, 0, 0) == 1 &&
            prctl(PR_CAPBSET_DROP, (unsigned long)b, 0, 0, 0) != 0)
            return wb_error_sys(err, "drop %s from the bounding set", wb_caps_name(b));
    }
    /* 4. groups and ids, keeping the permitted set across a change to a non-zero uid */
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return wb_error_sys(err, "set keep-capabilities");
    if (setgroups(s->ngroups, s->ngroups ? s->groups : NULL) != 0)
        return wb_error_sys(err, "setgroups (%zu groups)", s->ngroups);
    if (setresgid(s->gid, s->gid, s->gid) != 0)
        return wb_error_sys(err, "setgid %u", (unsigned)s->gid);
    if (setresuid(s->uid, s->uid, s->uid) != 0)
        return wb_error_sys(err, "setuid %u", (unsigned)s->uid);
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0)
        return wb_error_sys(err, "clear keep-capabilities");
    /* 5. permitted and effective: caps for root, none for another user (Docker; the kernel would
     * clear them at exec anyway); inheritable and ambient empty */
    if (set_cap_sets(s->uid == 0 ? caps : 0, err) < 0) return -1;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        return wb_error_sys(err, "clear the ambient capabilities");
    /* 6. with no_new_privs, the filter last, as late as possible before execve */
    if (s->no_new_privileges && install_seccomp(s, caps, err) < 0) return -1;
    return 0;
}
