/* runtime/linux_security_internal.h — shared by linux_security.c (capabilities, the order of the
 * steps), linux_seccomp.c (Docker's default profile, libseccomp) and oci_seccomp.c (a bundle's
 * own profile, compiled with the same libseccomp); not for other modules. */
#ifndef WB_RUNTIME_LINUX_SECURITY_INTERNAL_H
#define WB_RUNTIME_LINUX_SECURITY_INTERNAL_H

#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>

#include "runtime/linux_security.h"

/* The functions of libseccomp wasmbox uses, resolved by dlopen/dlsym. */
#define WB_LIBSECCOMP_FUNCS(X)                                                                     \
    X(seccomp_init)                                                                                \
    X(seccomp_release)                                                                             \
    X(seccomp_arch_add)                                                                            \
    X(seccomp_attr_set)                                                                            \
    X(seccomp_rule_add_array)                                                                      \
    X(seccomp_syscall_resolve_name)                                                                \
    X(seccomp_syscall_resolve_name_arch)                                                           \
    X(seccomp_export_bpf)                                                                          \
    X(seccomp_load)

#define WB_SECCOMP_MEMBER(name) __typeof__(&name) name;
typedef struct wb_libseccomp {
    WB_LIBSECCOMP_FUNCS(WB_SECCOMP_MEMBER)
} wb_libseccomp;

/* Loads libseccomp once per process (dlopen under pthread_once); < 0 with err naming the Debian
 * package when it is missing. */
int wb__libseccomp_load(wb_error *err);
/* The table of the loaded libseccomp (loading it on the first call, so only outside a container's
 * root); NULL with err filled as wb__libseccomp_load fills it. Read-only, process-wide. */
const wb_libseccomp *wb__libseccomp_get(wb_error *err);
/* True once wb__libseccomp_load succeeded in this process or in the parent it was forked from. */
bool wb__libseccomp_loaded(void);
/* Installs the default profile for a process that will hold caps, with the already loaded
 * libseccomp (fails if it is not loaded). Does not touch no_new_privs. */
int wb__seccomp_install_loaded(wb_caps caps, wb_error *err);
/* Before entering the container's root: the filter for caps compiled to BPF (from the cache in
 * /run/wasmbox/seccomp, else by libseccomp, then cached), which wb__seccomp_install_loaded then
 * installs with seccomp(2), without libseccomp. */
int wb__seccomp_prepare(wb_caps caps, wb_error *err);
bool wb__seccomp_prepared(wb_caps caps);

/* What the profile holds for a process with caps (no libseccomp needed): syscall names given
 * an action, and how many of those come with a condition on an argument. For tests. */
void wb__seccomp_profile_counts(wb_caps caps, size_t *names, size_t *conditional);

#endif
