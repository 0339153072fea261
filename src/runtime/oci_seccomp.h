/* runtime/oci_seccomp.h — an OCI bundle's own seccomp profile (config.json's linux.seccomp)
 * compiled to a classic BPF program as runc compiles it with libseccomp, in the runtime's process
 * before the container's process enters its root; linux_security.c then installs the program with
 * seccomp(2) alone (no library is loaded inside the container).
 *
 * Honoured as runc does: defaultAction and defaultErrnoRet, architectures, syscalls[] (names,
 * action, errnoRet, args with index, value, valueTwo, op), flags (TSYNC, LOG, SPEC_ALLOW: passed
 * to seccomp(2)); ERRNO and TRACE without errnoRet answer EPERM; a name the installed libseccomp
 * does not know is skipped, as is a rule whose action is the default one; conditions on the same
 * argument in one rule are separate rules (any matches), otherwise one rule (all must match);
 * unless the default action allows (ALLOW, LOG, TRACE), runc's -ENOSYS stub goes in front, so
 * that a syscall newer than any the profile names (per architecture) fails with ENOSYS. Refused:
 * SCMP_ACT_NOTIFY and listenerPath (no seccomp agent). A profile with neither defaultAction nor
 * syscalls means no filter, as in runc. */
#ifndef WB_RUNTIME_OCI_SECCOMP_H
#define WB_RUNTIME_OCI_SECCOMP_H

#include <jansson.h>
#include <linux/filter.h>

#include "base/error.h"

/* Limits on what config.json may ask for (checked before anything is allocated for it). */
#define WB_OCI_SECCOMP_MAX_SYSCALLS 4096 /* entries of syscalls[] */
#define WB_OCI_SECCOMP_MAX_NAMES    4096 /* names of one entry */
#define WB_OCI_SECCOMP_MAX_ARCHES   32   /* entries of architectures[] */
#define WB_OCI_SECCOMP_MAX_ARGS     6    /* args of one entry (a syscall has 6 arguments) */
#define WB_OCI_SECCOMP_MAX_INSNS    4096 /* the kernel's BPF_MAXINSNS */

typedef struct wb_seccomp_prog {
    struct sock_filter *insns; /* owned; NULL: no filter */
    unsigned short len;
    unsigned flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
} wb_seccomp_prog;

/* Compiles `seccomp` (the linux.seccomp object of config.json) with libseccomp (loaded here, so
 * call it before the container's process enters its root). *out is zeroed first; on success it
 * holds the program (insns NULL when the profile asks for no filter); release it with
 * wb_seccomp_prog_release either way. Errors name the JSON path and the bad value
 * (`config.json: linux.seccomp.syscalls[2].action: unknown action "SCMP_ACT_FOO"`). */
int wb_oci_seccomp_compile(const json_t *seccomp, wb_seccomp_prog *out, wb_error *err);
void wb_seccomp_prog_release(wb_seccomp_prog *p);

/* Installs p on the calling thread with seccomp(SECCOMP_SET_MODE_FILTER, p->flags): needs
 * no_new_privs or CAP_SYS_ADMIN. No library is used: safe inside the container's root. */
int wb_seccomp_prog_install(const wb_seccomp_prog *p, wb_error *err);

#endif
