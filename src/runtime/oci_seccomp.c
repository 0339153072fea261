/* A bundle's own seccomp profile compiled to BPF (see oci_seccomp.h): the JSON is read and checked
 * first (no library needed for a refusal), then the filter is built with libseccomp as runc
 * builds it, exported, and runc's -ENOSYS stub put in front of it. */
#include "runtime/oci_seccomp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/alloc.h"
#include "runtime/linux_security_internal.h"

#define PREFIX "config.json: linux.seccomp"

#ifndef SECCOMP_FILTER_FLAG_LOG
#define SECCOMP_FILTER_FLAG_LOG (1UL << 1)
#endif
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif

/* ---- the profile, read and checked ---- */

typedef struct parsed_rule {
    size_t index;        /* in syscalls[] */
    const json_t *names; /* array of non-empty strings, or NULL */
    uint32_t action;
    unsigned nargs;
    bool split; /* two conditions on one argument: one rule each (runc's "old behavior") */
    struct scmp_arg_cmp args[WB_OCI_SECCOMP_MAX_ARGS];
} parsed_rule;

typedef struct parsed {
    uint32_t def_action;
    bool def_allows; /* ALLOW, LOG or TRACE: no -ENOSYS stub (runc's isAllowAction) */
    uint32_t arches[WB_OCI_SECCOMP_MAX_ARCHES];   /* SCMP_ARCH_* tokens, without repeats */
    size_t arch_index[WB_OCI_SECCOMP_MAX_ARCHES]; /* where each is in architectures[] */
    size_t narches;
    unsigned flags;
    parsed_rule *rules; /* owned */
    size_t nrules;
} parsed;

/* err = PREFIX + "." + path + text (path already formatted by the caller). */
__attribute__((format(printf, 3, 4))) static int bad(wb_error *err, const char *path,
                                                     const char *fmt, ...) {
    char text[WB_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return wb_error_set(err, EINVAL, PREFIX "%s%s%s", path[0] ? "." : "", path, text);
}

static const struct {
    const char *name;
    uint32_t action;
    bool with_errno; /* the low 16 bits are errnoRet (EPERM without one, as runc) */
    bool allows;
} actions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, false, false}, /* runc: KILL is KILL_THREAD */
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false, false},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false, false},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false, false},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true, false},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true, true},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false, true},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, false, true},
};

static const struct {
    const char *name;
    enum scmp_compare op;
} operators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

/* runc's list (libcontainer/seccomp/config.go), plus RISCV64, which libseccomp 2.5 knows */
static const struct {
    const char *name;
    uint32_t token;
} arch_names[] = {
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
#ifdef SCMP_ARCH_RISCV64
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
#endif
};

static const char *arch_name(uint32_t token) {
    for (size_t k = 0; k < sizeof arch_names / sizeof arch_names[0]; k++)
        if (arch_names[k].token == token) return arch_names[k].name;
    return "?";
}

static const struct {
    const char *name;
    unsigned flag;
    bool probe; /* newer than seccomp(2) itself: ask the kernel */
} flag_names[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC, false},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG, true},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW, true},
};

/* An unsigned integer up to max (errnoRet: 16 bits, as SCMP_ACT_ERRNO keeps). */
static bool get_uint(const json_t *v, uint64_t max, uint64_t *out) {
    if (!json_is_integer(v) || json_integer_value(v) < 0) return false;
    uint64_t u = (uint64_t)json_integer_value(v);
    if (u > max) return false;
    *out = u;
    return true;
}

/* The action `v` names (path: where it is; errno_v: the errnoRet beside it, or NULL). */
static int parse_action(const json_t *v, const json_t *errno_v, const char *path,
                        const char *errno_path, uint32_t *action, bool *allows, wb_error *err) {
    const char *s = json_string_value(v);
    if (!s) return bad(err, path, " is not a string");
    if (!strcmp(s, "SCMP_ACT_NOTIFY"))
        return bad(err, path,
                   ": SCMP_ACT_NOTIFY is not supported by wasmbox (no seccomp agent: "
                   "linux.seccomp.listenerPath)");
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        if (strcmp(s, actions[i].name) != 0) continue;
        *action = actions[i].action;
        if (allows) *allows = actions[i].allows;
        if (actions[i].with_errno) {
            uint64_t code = EPERM;
            if (errno_v && !json_is_null(errno_v) && !get_uint(errno_v, 0xffff, &code))
                return bad(err, errno_path, " is not an integer from 0 to 65535");
            *action |= (uint32_t)code;
        }
        return 0;
    }
    return bad(err, path, ": unknown action \"%.128s\"", s);
}

static int parse_flags(const json_t *flags, parsed *p, wb_error *err) {
    if (!flags || json_is_null(flags)) return 0;
    if (!json_is_array(flags)) return bad(err, "flags", " is not an array");
    size_t i;
    json_t *v;
    json_array_foreach(flags, i, v) {
        char path[64];
        snprintf(path, sizeof path, "flags[%zu]", i);
        const char *s = json_string_value(v);
        if (!s) return bad(err, path, " is not a string");
        size_t k = 0;
        while (k < sizeof flag_names / sizeof flag_names[0] && strcmp(s, flag_names[k].name)) k++;
        if (k == sizeof flag_names / sizeof flag_names[0])
            return bad(err, path, ": unknown flag \"%.128s\"", s);
        /* a flag the kernel knows fails on the NULL program (EFAULT), an unknown one EINVAL */
        if (flag_names[k].probe &&
            syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag_names[k].flag, NULL) != 0 &&
            errno == EINVAL)
            return bad(err, path, ": %s is not supported by this kernel", s);
        p->flags |= flag_names[k].flag;
    }
    return 0;
}

static int parse_arches(const json_t *arches, parsed *p, wb_error *err) {
    if (!arches || json_is_null(arches)) return 0;
    if (!json_is_array(arches)) return bad(err, "architectures", " is not an array");
    if (json_array_size(arches) > WB_OCI_SECCOMP_MAX_ARCHES)
        return bad(err, "architectures", " has %zu entries, more than %d", json_array_size(arches),
                   WB_OCI_SECCOMP_MAX_ARCHES);
    size_t i;
    json_t *v;
    json_array_foreach(arches, i, v) {
        char path[64];
        snprintf(path, sizeof path, "architectures[%zu]", i);
        const char *s = json_string_value(v);
        if (!s) return bad(err, path, " is not a string");
        size_t k = 0;
        while (k < sizeof arch_names / sizeof arch_names[0] && strcmp(s, arch_names[k].name)) k++;
        if (k == sizeof arch_names / sizeof arch_names[0])
            return bad(err, path, ": unknown architecture \"%.128s\"", s);
        bool seen = false;
        for (size_t j = 0; j < p->narches; j++) seen |= p->arches[j] == arch_names[k].token;
        if (seen) continue;
        p->arch_index[p->narches] = i;
        p->arches[p->narches++] = arch_names[k].token;
    }
    return 0;
}

static int parse_args(const json_t *args, const char *rpath, parsed_rule *r, wb_error *err) {
    char path[96];
    snprintf(path, sizeof path, "%s.args", rpath);
    if (!args || json_is_null(args)) return 0;
    if (!json_is_array(args)) return bad(err, path, " is not an array");
    if (json_array_size(args) > WB_OCI_SECCOMP_MAX_ARGS)
        return bad(err, path, " has %zu entries, more than %d", json_array_size(args),
                   WB_OCI_SECCOMP_MAX_ARGS);
    unsigned per_index[WB_OCI_SECCOMP_MAX_ARGS] = {0};
    size_t i;
    json_t *v;
    json_array_foreach(args, i, v) {
        snprintf(path, sizeof path, "%s.args[%zu]", rpath, i);
        if (!json_is_object(v)) return bad(err, path, " is not an object");
        struct scmp_arg_cmp *c = &r->args[r->nargs];
        char field[128];
        uint64_t u = 0;
        const json_t *f = json_object_get(v, "index");
        snprintf(field, sizeof field, "%s.index", path);
        if (!json_is_integer(f)) return bad(err, field, " is not an integer");
        if (!get_uint(f, WB_OCI_SECCOMP_MAX_ARGS - 1, &u))
            return bad(err, field, ": %lld is not a syscall argument (0 to 5)",
                       (long long)json_integer_value(f));
        c->arg = (unsigned)u;
        if (++per_index[c->arg] > 1) r->split = true;
        static const char *const values[] = {"value", "valueTwo"};
        scmp_datum_t *datum[] = {&c->datum_a, &c->datum_b};
        for (int k = 0; k < 2; k++) { /* absent: 0, as Go's zero value */
            f = json_object_get(v, values[k]);
            u = 0;
            snprintf(field, sizeof field, "%s.%s", path, values[k]);
            if (f && !json_is_null(f) && !get_uint(f, UINT64_MAX, &u))
                return bad(err, field, " is not an unsigned integer");
            *datum[k] = u;
        }
        snprintf(field, sizeof field, "%s.op", path);
        const char *op = json_string_value(json_object_get(v, "op"));
        if (!op) return bad(err, field, " is not a string");
        size_t k = 0;
        while (k < sizeof operators / sizeof operators[0] && strcmp(op, operators[k].name)) k++;
        if (k == sizeof operators / sizeof operators[0])
            return bad(err, field, ": unknown operator \"%.128s\"", op);
        c->op = operators[k].op;
        r->nargs++;
    }
    return 0;
}

static int parse_rule(const json_t *v, size_t index, parsed_rule *r, wb_error *err) {
    char path[64], field[96], field2[96];
    snprintf(path, sizeof path, "syscalls[%zu]", index);
    if (!json_is_object(v)) return bad(err, path, " is not an object");
    memset(r, 0, sizeof *r);
    r->index = index;
    const json_t *names = json_object_get(v, "names");
    snprintf(field, sizeof field, "%s.names", path);
    if (names && !json_is_null(names)) {
        if (!json_is_array(names)) return bad(err, field, " is not an array");
        if (json_array_size(names) > WB_OCI_SECCOMP_MAX_NAMES)
            return bad(err, field, " has %zu entries, more than %d", json_array_size(names),
                       WB_OCI_SECCOMP_MAX_NAMES);
        size_t i;
        json_t *n;
        json_array_foreach(names, i, n) {
            const char *s = json_string_value(n);
            if (!s || !s[0]) { /* runc: "empty string is not a valid syscall" */
                snprintf(field, sizeof field, "%s.names[%zu]", path, i);
                return bad(err, field, " is not a syscall name");
            }
        }
        r->names = names;
    }
    snprintf(field, sizeof field, "%s.action", path);
    snprintf(field2, sizeof field2, "%s.errnoRet", path);
    if (parse_action(json_object_get(v, "action"), json_object_get(v, "errnoRet"), field, field2,
                     &r->action, NULL, err) < 0)
        return -1;
    return parse_args(json_object_get(v, "args"), path, r, err);
}

/* 0 with *enabled false: no defaultAction and no syscalls, which runc takes as no filter. */
static int parse(const json_t *sc, parsed *p, bool *enabled, wb_error *err) {
    memset(p, 0, sizeof *p);
    *enabled = false;
    if (!json_is_object(sc)) return wb_error_set(err, EINVAL, PREFIX " is not an object");
    const json_t *def = json_object_get(sc, "defaultAction");
    const json_t *syscalls = json_object_get(sc, "syscalls");
    if (syscalls && !json_is_null(syscalls) && !json_is_array(syscalls))
        return bad(err, "syscalls", " is not an array");
    if (json_array_size(syscalls) > WB_OCI_SECCOMP_MAX_SYSCALLS)
        return bad(err, "syscalls", " has %zu entries, more than %d", json_array_size(syscalls),
                   WB_OCI_SECCOMP_MAX_SYSCALLS);
    const char *def_s = json_string_value(def);
    if ((!def || json_is_null(def) || (def_s && !def_s[0])) && json_array_size(syscalls) == 0)
        return 0;
    const json_t *listener = json_object_get(sc, "listenerPath");
    if (json_string_value(listener) && json_string_value(listener)[0])
        return bad(err, "listenerPath",
                   ": seccomp notification (SCMP_ACT_NOTIFY, a seccomp agent) is not supported "
                   "by wasmbox");
    if (parse_action(def, json_object_get(sc, "defaultErrnoRet"), "defaultAction",
                     "defaultErrnoRet", &p->def_action, &p->def_allows, err) < 0 ||
        parse_arches(json_object_get(sc, "architectures"), p, err) < 0 ||
        parse_flags(json_object_get(sc, "flags"), p, err) < 0)
        return -1;
    p->rules = wb_calloc(json_array_size(syscalls) + 1, sizeof *p->rules);
    size_t i;
    json_t *v;
    json_array_foreach(syscalls, i, v) {
        if (parse_rule(v, i, &p->rules[p->nrules], err) < 0) return -1;
        p->nrules++;
    }
    *enabled = true;
    return 0;
}

/* ---- the filter, built with libseccomp ---- */

static int add_rules(const wb_libseccomp *sc, scmp_filter_ctx f, const parsed *p, size_t *added,
                     wb_error *err) {
    *added = 0;
    for (size_t i = 0; i < p->nrules; i++) {
        const parsed_rule *r = &p->rules[i];
        if (r->action == p->def_action) continue; /* redundant: runc skips it silently */
        size_t k;
        json_t *n;
        json_array_foreach(r->names, k, n) {
            const char *name = json_string_value(n);
            int nr = sc->seccomp_syscall_resolve_name(name);
            if (nr == __NR_SCMP_ERROR) continue; /* unknown to this libseccomp: skipped */
            /* one rule with every condition (all must hold), or, when two conditions concern
             * the same argument, one rule for each (any may hold) */
            unsigned nrules = r->split ? r->nargs : 1;
            for (unsigned j = 0; j < nrules; j++) {
                unsigned ncond = r->split ? 1 : r->nargs;
                const struct scmp_arg_cmp *cond = r->split ? &r->args[j] : r->args;
                int rc = sc->seccomp_rule_add_array(f, r->action, nr, ncond, ncond ? cond : NULL);
                if (rc < 0)
                    return wb_error_set(err, -rc, PREFIX ".syscalls[%zu]: add the rule for %s: %s",
                                        r->index, name, strerror(-rc));
                (*added)++;
            }
        }
    }
    return 0;
}

/* The filter as libseccomp exports it, into *insns (allocated; *len instructions). */
static int export_bpf(const wb_libseccomp *sc, scmp_filter_ctx f, struct sock_filter **insns,
                      size_t *len, wb_error *err) {
    int fd = (int)syscall(SYS_memfd_create, "wasmbox-seccomp", MFD_CLOEXEC);
    if (fd < 0) return wb_error_sys(err, "seccomp: memfd_create");
    int rc = sc->seccomp_export_bpf(f, fd);
    struct stat st;
    if (rc < 0)
        rc = wb_error_set(err, -rc, "seccomp: export the filter: %s", strerror(-rc));
    else if (fstat(fd, &st) != 0)
        rc = wb_error_sys(err, "seccomp: stat the exported filter");
    else if (st.st_size <= 0 || st.st_size % (off_t)sizeof **insns != 0 ||
             st.st_size / (off_t)sizeof **insns > WB_OCI_SECCOMP_MAX_INSNS)
        rc = wb_error_set(err, E2BIG,
                          PREFIX ": the compiled filter is %lld bytes (at most %d instructions "
                                 "of %zu bytes fit the kernel)",
                          (long long)st.st_size, WB_OCI_SECCOMP_MAX_INSNS, sizeof **insns);
    if (rc == 0) {
        size_t n = (size_t)st.st_size;
        *insns = wb_malloc(n);
        size_t got = 0;
        while (got < n) {
            ssize_t r = pread(fd, (char *)*insns + got, n - got, (off_t)got);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                rc = r < 0 ? wb_error_sys(err, "seccomp: read the exported filter")
                           : wb_error_set(err, EIO, "seccomp: the exported filter is short");
                free(*insns);
                *insns = NULL;
                break;
            }
            got += (size_t)r;
        }
        *len = n / sizeof **insns;
    }
    close(fd);
    return rc;
}

/* ---- runc's -ENOSYS stub (libcontainer/seccomp/patchbpf) ----
 * Unless the default action allows, a syscall numbered above every syscall the profile names (on
 * the architecture it is made on) gets ENOSYS instead of the default action, so that a C library
 * probing a syscall newer than the profile falls back to an older one. x86_64 and x32 share one
 * AUDIT_ARCH value and are told apart by bit 30 of the number; on s390 and s390x, syscall 0 is
 * what an unknown multiplexed syscall becomes. The stub runs first and otherwise jumps to the
 * filter; runc lays it out in Go map order, we in the order of `architectures`. */

#define X32_SYSCALL_BIT 0x40000000u

typedef struct stub_arch {
    uint32_t audit;               /* the AUDIT_ARCH_* seccomp_data.arch holds */
    uint32_t max_main, max_x32;   /* the largest syscall named (x32: bit 30 included) */
    bool has_main, has_x32, s390; /* x32: only with audit AUDIT_ARCH_X86_64 */
} stub_arch;

static uint32_t largest_named(const wb_libseccomp *sc, const parsed *p, uint32_t token) {
    int largest = 0;
    for (size_t i = 0; i < p->nrules; i++) {
        size_t k;
        json_t *n;
        json_array_foreach(p->rules[i].names, k, n) {
            int nr = sc->seccomp_syscall_resolve_name_arch(token, json_string_value(n));
            if (nr != __NR_SCMP_ERROR && nr > largest) largest = nr;
        }
    }
    return (uint32_t)largest;
}

/* The stub being written: instructions, and where the next one goes. */
typedef struct stub_asm {
    struct sock_filter *s;
    size_t pc;
} stub_asm;

static void emit_stmt(stub_asm *as, uint16_t code, uint32_t k) {
    as->s[as->pc++] = (struct sock_filter)BPF_STMT(code, k);
}

/* A conditional jump (BPF_JEQ, BPF_JGT, BPF_JSET against k) to the instruction at jt when true,
 * at jf when false: both ahead, within 256 (make_stub keeps the whole stub shorter). */
static void emit_jump(stub_asm *as, uint16_t op, uint32_t k, size_t jt, size_t jf) {
    size_t next = as->pc + 1;
    as->s[as->pc++] = (struct sock_filter)BPF_JUMP(BPF_JMP | op | BPF_K, k, (uint8_t)(jt - next),
                                                   (uint8_t)(jf - next));
}

static size_t stub_section_len(const stub_arch *a) {
    size_t n = 1 + (a->s390 ? 1 : 0); /* load the number; s390's syscall 0 */
    if (a->audit == AUDIT_ARCH_X86_64) return n + (a->has_main && a->has_x32 ? 4 : 3);
    return n + 2;
}

/* The stub for p (*len 0: none needed), allocated into *out. */
static int make_stub(const wb_libseccomp *sc, const parsed *p, struct sock_filter **out,
                     size_t *len, wb_error *err) {
    *out = NULL;
    *len = 0;
    if (p->def_allows) return 0;
    stub_arch arch[WB_OCI_SECCOMP_MAX_ARCHES];
    size_t narch = 0;
    for (size_t i = 0; i < p->narches; i++) {
        uint32_t token = p->arches[i];
        uint32_t largest = largest_named(sc, p, token);
        if (largest == 0) continue; /* none of its syscalls named: nothing to compare with */
        uint32_t audit = token == SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : token;
        size_t k = 0;
        while (k < narch && arch[k].audit != audit) k++;
        if (k == narch) arch[narch++] = (stub_arch){.audit = audit};
        if (token == SCMP_ARCH_X32) {
            arch[k].has_x32 = true;
            arch[k].max_x32 = largest;
        } else {
            arch[k].has_main = true;
            arch[k].max_main = largest;
        }
        arch[k].s390 |= token == SCMP_ARCH_S390 || token == SCMP_ARCH_S390X;
    }
    if (narch == 0) return 0;
    /* layout: load arch; one jeq per architecture; ja filter; the sections; ret ENOSYS; then
     * the filter */
    size_t start[WB_OCI_SECCOMP_MAX_ARCHES];
    size_t pc = 1 + narch + 1;
    for (size_t k = 0; k < narch; k++) {
        start[k] = pc;
        pc += stub_section_len(&arch[k]);
    }
    size_t enosys = pc, filter = pc + 1;
    if (enosys > 255) /* cannot happen with at most 32 architectures; jt/jf are 8 bits */
        return wb_error_set(err, E2BIG, "seccomp: the -ENOSYS stub is too long");
    stub_asm as = {wb_calloc(filter, sizeof *as.s), 0};
    emit_stmt(&as, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    for (size_t k = 0; k < narch; k++) emit_jump(&as, BPF_JEQ, arch[k].audit, start[k], as.pc + 1);
    emit_stmt(&as, BPF_JMP | BPF_JA, (uint32_t)(filter - as.pc - 1));
    for (size_t k = 0; k < narch; k++) {
        const stub_arch *a = &arch[k];
        emit_stmt(&as, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
        if (a->s390) emit_jump(&as, BPF_JEQ, 0, enosys, as.pc + 1);
        size_t ja = start[k] + stub_section_len(a) - 1; /* the section's last: to the filter */
        if (a->audit == AUDIT_ARCH_X86_64 && a->has_main && a->has_x32) {
            /* bit 30 set: the x32 comparison; else the x86_64 one */
            emit_jump(&as, BPF_JSET, X32_SYSCALL_BIT, as.pc + 2, as.pc + 1);
            emit_jump(&as, BPF_JGT, a->max_main, enosys, ja);
            emit_jump(&as, BPF_JGT, a->max_x32, enosys, ja);
        } else if (a->audit == AUDIT_ARCH_X86_64) {
            /* only one of the two ABIs named: the other one goes to the filter as it is */
            if (a->has_main)
                emit_jump(&as, BPF_JSET, X32_SYSCALL_BIT, ja, as.pc + 1);
            else
                emit_jump(&as, BPF_JSET, X32_SYSCALL_BIT, as.pc + 1, ja);
            emit_jump(&as, BPF_JGT, a->has_main ? a->max_main : a->max_x32, enosys, ja);
        } else {
            emit_jump(&as, BPF_JGT, a->max_main, enosys, ja);
        }
        emit_stmt(&as, BPF_JMP | BPF_JA, (uint32_t)(filter - as.pc - 1));
    }
    emit_stmt(&as, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
    *out = as.s;
    *len = as.pc;
    return 0;
}

/* ---- the interface ---- */

static int build(const wb_libseccomp *sc, const parsed *p, wb_seccomp_prog *out, wb_error *err) {
    scmp_filter_ctx f = sc->seccomp_init(p->def_action);
    if (!f)
        return wb_error_set(err, EINVAL,
                            PREFIX ".defaultAction: libseccomp refuses the action %#x (an "
                                   "errno above 4095, or an action this kernel lacks)",
                            (unsigned)p->def_action);
    struct sock_filter *bpf = NULL, *stub = NULL;
    size_t nbpf = 0, nstub = 0, added = 0;
    int rc = sc->seccomp_attr_set(f, SCMP_FLTATR_CTL_NNP, 0); /* no_new_privs is ours to set */
    if (rc < 0) {
        wb_error_set(err, -rc, "seccomp: leave no_new_privs alone: %s", strerror(-rc));
        goto out;
    }
    for (size_t i = 0; i < p->narches; i++) {
        rc = sc->seccomp_arch_add(f, p->arches[i]);
        if (rc == -EEXIST) rc = 0; /* the native one, there already */
        if (rc < 0) {
            wb_error_set(err, -rc, PREFIX ".architectures[%zu]: libseccomp cannot add %s: %s",
                         p->arch_index[i], arch_name(p->arches[i]), strerror(-rc));
            goto out;
        }
    }
    if ((rc = add_rules(sc, f, p, &added, err)) < 0) goto out;
    /* a binary tree of syscalls rather than a chain, as runc asks for long profiles; after the
     * rules, as libseccomp 2.5.4 misbehaves with it and no rule */
    if (added > 32) (void)sc->seccomp_attr_set(f, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if ((rc = export_bpf(sc, f, &bpf, &nbpf, err)) < 0 ||
        (rc = make_stub(sc, p, &stub, &nstub, err)) < 0)
        goto out;
    if (nstub + nbpf > WB_OCI_SECCOMP_MAX_INSNS) {
        rc = wb_error_set(err, E2BIG,
                          PREFIX ": the compiled filter has %zu instructions, more than the "
                                 "kernel's %d",
                          nstub + nbpf, WB_OCI_SECCOMP_MAX_INSNS);
        goto out;
    }
    out->insns = wb_calloc(nstub + nbpf, sizeof *out->insns);
    if (nstub) memcpy(out->insns, stub, nstub * sizeof *stub);
    memcpy(out->insns + nstub, bpf, nbpf * sizeof *bpf);
    out->len = (unsigned short)(nstub + nbpf);
    out->flags = p->flags;
    rc = 0;
out:
    free(bpf);
    free(stub);
    sc->seccomp_release(f);
    return rc < 0 ? -1 : 0;
}

int wb_oci_seccomp_compile(const json_t *seccomp, wb_seccomp_prog *out, wb_error *err) {
    memset(out, 0, sizeof *out);
    parsed p;
    bool enabled;
    int rc = parse(seccomp, &p, &enabled, err);
    if (rc == 0 && enabled) {
        const wb_libseccomp *sc = wb__libseccomp_get(err);
        rc = sc ? build(sc, &p, out, err) : -1;
    }
    free(p.rules);
    return rc;
}

void wb_seccomp_prog_release(wb_seccomp_prog *p) {
    free(p->insns);
    memset(p, 0, sizeof *p);
}

int wb_seccomp_prog_install(const wb_seccomp_prog *p, wb_error *err) {
    if (!p->insns || p->len == 0) return 0;
    struct sock_fprog prog = {.len = p->len, .filter = p->insns};
    /* with TSYNC a positive return is the thread that could not be synchronized */
    long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->flags, &prog);
    if (rc > 0)
        return wb_error_set(err, ESRCH,
                            "seccomp: load the bundle's filter: thread %ld could "
                            "not be synchronized",
                            rc);
    if (rc != 0) return wb_error_sys(err, "seccomp: load the bundle's filter");
    return 0;
}
