/* A bundle's own seccomp profile (runtime/oci_seccomp.h): the refusals with the JSON path and the
 * bad value; profiles compiled with libseccomp; and compiled filters installed in a forked child
 * (no_new_privs set there first) and tried: errnoRet, conditions on arguments (all of them, or
 * any when two concern one argument), unknown names skipped, runc's -ENOSYS stub. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#include "runtime/linux_security.h"
#include "runtime/oci_seccomp.h"

static int compile_text(const char *text, wb_seccomp_prog *p, wb_error *err) {
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    if (!doc) wb_test_fail(__FILE__, __LINE__, "bad JSON in the test: %s", jerr.text);
    int rc = wb_oci_seccomp_compile(doc, p, err);
    json_decref(doc);
    return rc;
}

/* text must be refused with exactly `want` (no libseccomp needed: the JSON is checked first) */
static void refused(const char *text, const char *want) {
    wb_seccomp_prog p;
    wb_error err = {0};
    int rc = compile_text(text, &p, &err);
    ASSERT_EQ(rc, -1);
    ASSERT_STR_EQ(err.msg, want);
    ASSERT_TRUE(p.insns == NULL);
    wb_seccomp_prog_release(&p);
}

/* compiled, or the test skipped where libseccomp cannot be loaded */
static void compiled(const char *text, wb_seccomp_prog *p) {
    wb_error err = {0};
    if (compile_text(text, p, &err) < 0) {
        if (err.code == ENOENT) SKIP(err.msg);
        wb_test_fail(__FILE__, __LINE__, "compile: %s", err.msg);
    }
    ASSERT_TRUE(p->insns != NULL);
    ASSERT_TRUE(p->len > 0);
}

TEST(oci_seccomp_refuses_with_the_path) {
    refused("[]", "config.json: linux.seccomp is not an object");
    refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
            " {\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ERRNO\"},"
            " {\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_KILL\"},"
            " {\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_FOO\"}]}",
            "config.json: linux.seccomp.syscalls[2].action: unknown action \"SCMP_ACT_FOO\"");
    refused("{\"defaultAction\": \"SCMP_ACT_NOPE\"}",
            "config.json: linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\"");
    refused("{\"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\"}]}",
            "config.json: linux.seccomp.defaultAction is not a string");
    refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"kill\"],"
            " \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 1, \"op\":"
            " \"SCMP_CMP_EQ\"}, {\"index\": 1, \"value\": 2, \"op\": \"SCMP_CMP_XX\"}]}]}",
            "config.json: linux.seccomp.syscalls[0].args[1].op: unknown operator "
            "\"SCMP_CMP_XX\"");
    refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\","
            " \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_VAX\"]}",
            "config.json: linux.seccomp.architectures[1]: unknown architecture "
            "\"SCMP_ARCH_VAX\"");
    refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"kill\"],"
            " \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 6, \"value\": 1, \"op\":"
            " \"SCMP_CMP_EQ\"}]}]}",
            "config.json: linux.seccomp.syscalls[0].args[0].index: 6 is not a syscall argument "
            "(0 to 5)");
    refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"kill\"],"
            " \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": -1, \"op\":"
            " \"SCMP_CMP_EQ\"}]}]}",
            "config.json: linux.seccomp.syscalls[0].args[0].index: -1 is not a syscall argument "
            "(0 to 5)");
    refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"kill\"],"
            " \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": -3, \"op\":"
            " \"SCMP_CMP_EQ\"}]}]}",
            "config.json: linux.seccomp.syscalls[0].args[0].value is not an unsigned integer");
    refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"kill\"],"
            " \"action\": \"SCMP_ACT_ERRNO\", \"args\": ["
            " {\"index\": 0, \"op\": \"SCMP_CMP_EQ\"}, {\"index\": 1, \"op\": \"SCMP_CMP_EQ\"},"
            " {\"index\": 2, \"op\": \"SCMP_CMP_EQ\"}, {\"index\": 3, \"op\": \"SCMP_CMP_EQ\"},"
            " {\"index\": 4, \"op\": \"SCMP_CMP_EQ\"}, {\"index\": 5, \"op\": \"SCMP_CMP_EQ\"},"
            " {\"index\": 0, \"op\": \"SCMP_CMP_EQ\"}]}]}",
            "config.json: linux.seccomp.syscalls[0].args has 7 entries, more than 6");
    refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\"],"
            " \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 70000}]}",
            "config.json: linux.seccomp.syscalls[0].errnoRet is not an integer from 0 to 65535");
    refused("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": \"EPERM\"}",
            "config.json: linux.seccomp.defaultErrnoRet is not an integer from 0 to 65535");
    refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"\"],"
            " \"action\": \"SCMP_ACT_ERRNO\"}]}",
            "config.json: linux.seccomp.syscalls[0].names[0] is not a syscall name");
    refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"SECCOMP_FILTER_FLAG_NOPE\"]}",
            "config.json: linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_NOPE\"");
    refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": 3}",
            "config.json: linux.seccomp.syscalls is not an array");
}

TEST(oci_seccomp_refuses_notify) {
    refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\"],"
            " \"action\": \"SCMP_ACT_NOTIFY\"}]}",
            "config.json: linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY is not supported by "
            "wasmbox (no seccomp agent: linux.seccomp.listenerPath)");
    refused("{\"defaultAction\": \"SCMP_ACT_NOTIFY\"}",
            "config.json: linux.seccomp.defaultAction: SCMP_ACT_NOTIFY is not supported by "
            "wasmbox (no seccomp agent: linux.seccomp.listenerPath)");
    refused("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/run/agent.sock\"}",
            "config.json: linux.seccomp.listenerPath: seccomp notification (SCMP_ACT_NOTIFY, a "
            "seccomp agent) is not supported by wasmbox");
}

TEST(oci_seccomp_bounds_sizes) {
    /* more than 4096 entries: refused before anything is built */
    json_t *sc = json_pack("{s:s}", "defaultAction", "SCMP_ACT_ALLOW");
    json_t *list = json_array();
    for (int i = 0; i < WB_OCI_SECCOMP_MAX_SYSCALLS + 1; i++)
        json_array_append_new(list, json_object());
    json_object_set_new(sc, "syscalls", list);
    wb_seccomp_prog p;
    wb_error err = {0};
    ASSERT_EQ(wb_oci_seccomp_compile(sc, &p, &err), -1);
    ASSERT_STR_EQ(err.msg, "config.json: linux.seccomp.syscalls has 4097 entries, more than 4096");
    json_decref(sc);
}

TEST(oci_seccomp_empty_profile_is_no_filter) {
    /* runc: no defaultAction and no syscalls, no seccomp at all */
    const char *texts[] = {"{}", "{\"defaultAction\": \"\"}", "{\"syscalls\": []}",
                           "{\"architectures\": [\"SCMP_ARCH_X86_64\"]}"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        wb_seccomp_prog p;
        wb_error err = {0};
        ASSERT_EQ(compile_text(texts[i], &p, &err), 0);
        ASSERT_TRUE(p.insns == NULL);
        ASSERT_EQ(p.len, 0);
        wb_seccomp_prog_release(&p);
    }
}

TEST(oci_seccomp_compiles_a_profile) {
    wb_seccomp_prog p;
    /* unknown names skipped, a rule equal to the default one skipped (libseccomp refuses those),
     * flags kept for seccomp(2) */
    compiled("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1,"
             " \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\","
             "  \"SCMP_ARCH_X86_64\"],"
             " \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\", \"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"],"
             " \"syscalls\": ["
             "  {\"names\": [\"read\", \"write\", \"wb_no_such_syscall\", \"exit_group\"],"
             "   \"action\": \"SCMP_ACT_ALLOW\"},"
             "  {\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\"},"
             "  {\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ALLOW\","
             "   \"args\": [{\"index\": 0, \"value\": 40, \"op\": \"SCMP_CMP_NE\"}]},"
             "  {\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0,"
             "   \"value\": 2114060288, \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\"}]},"
             "  {\"names\": [\"clone3\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38},"
             "  {\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_KILL_PROCESS\"},"
             "  {\"names\": [\"kexec_load\"], \"action\": \"SCMP_ACT_TRAP\"},"
             "  {\"names\": [\"acct\"], \"action\": \"SCMP_ACT_LOG\"},"
             "  {\"names\": [\"reboot\"], \"action\": \"SCMP_ACT_TRACE\", \"errnoRet\": 5}]}",
             &p);
    ASSERT_EQ(p.flags, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW);
#if defined(__x86_64__)
    /* runc's -ENOSYS stub first: the architecture; x86_64 (and x32, bit 30) and x86 compared
     * with the largest syscall named (clone3, 435; on x32 kexec_load, 528); else the filter */
    ASSERT_TRUE(p.len > 13);
    ASSERT_EQ(p.insns[0].code, BPF_LD | BPF_W | BPF_ABS);
    ASSERT_EQ(p.insns[0].k, 4);
    ASSERT_EQ(p.insns[1].code, BPF_JMP | BPF_JEQ | BPF_K);
    ASSERT_U64_EQ(p.insns[1].k, AUDIT_ARCH_X86_64);
    ASSERT_EQ(p.insns[1].jt, 2);
    ASSERT_U64_EQ(p.insns[2].k, AUDIT_ARCH_I386);
    ASSERT_EQ(p.insns[2].jt, 6);
    ASSERT_EQ(p.insns[3].code, BPF_JMP | BPF_JA);
    ASSERT_EQ(p.insns[3].k, 9);
    ASSERT_EQ(p.insns[4].code, BPF_LD | BPF_W | BPF_ABS);
    ASSERT_EQ(p.insns[4].k, 0);
    ASSERT_EQ(p.insns[5].code, BPF_JMP | BPF_JSET | BPF_K);
    ASSERT_U64_EQ(p.insns[6].k, 435);
    ASSERT_EQ(p.insns[6].jt, 5);
    ASSERT_U64_EQ(p.insns[7].k, 528 | 0x40000000); /* x32's own kexec_load */
    ASSERT_EQ(p.insns[7].jt, 4);
    ASSERT_U64_EQ(p.insns[10].k, 435);
    ASSERT_EQ(p.insns[12].code, BPF_RET | BPF_K);
    ASSERT_U64_EQ(p.insns[12].k, SECCOMP_RET_ERRNO | ENOSYS);
#endif
    wb_seccomp_prog_release(&p);
    ASSERT_TRUE(p.insns == NULL);
    /* an allowing default: no stub (no ENOSYS answer anywhere) */
    compiled("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86_64\"],"
             " \"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\"}]}",
             &p);
    ASSERT_EQ(p.flags, 0);
    for (unsigned i = 0; i < p.len; i++)
        ASSERT_TRUE(p.insns[i].code != (BPF_RET | BPF_K) ||
                    p.insns[i].k != (SECCOMP_RET_ERRNO | ENOSYS));
    wb_seccomp_prog_release(&p);
}

/* ---- installed in a forked child ---- */

/* Runs check() in a child that sets no_new_privs, installs p and exits with what check returns
 * (0: all good, else the number of the failed step); returns that exit status. */
static int in_child(const wb_seccomp_prog *p, int (*check)(void)) {
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        wb_error err;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(100);
        if (wb_seccomp_prog_install(p, &err) < 0) _exit(101);
        int code = check();
        syscall(SYS_exit_group, code); /* nothing else: the filter may deny it */
        _exit(code);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status))
        wb_test_fail(__FILE__, __LINE__, "the child died of signal %d", WTERMSIG(status));
    return WEXITSTATUS(status);
}

/* -1 with errno e, as the filter answers */
static bool fails_with(long rc, int e) {
    return rc == -1 && errno == e;
}

static int check_errno_and_args(void) {
    if (!fails_with(syscall(SYS_mkdirat, AT_FDCWD, "/tmp/wb-seccomp-never", 0700), 38)) return 1;
#ifdef SYS_mkdir
    if (!fails_with(syscall(SYS_mkdir, "/tmp/wb-seccomp-never", 0700), 38)) return 2;
#endif
    if (syscall(SYS_getpid) <= 0) return 3;
    if (!fails_with(syscall(SYS_personality, 0x1234), EACCES)) return 4; /* arg0 == 0x1234 */
    if (syscall(SYS_personality, 0xffffffffUL) < 0) return 5;            /* another value */
    return 0;
}

TEST(oci_seccomp_filter_denies_with_errno_ret) {
    wb_seccomp_prog p;
    compiled("{\"defaultAction\": \"SCMP_ACT_ALLOW\","
             " \"syscalls\": ["
             "  {\"names\": [\"mkdir\", \"wb_no_such_syscall\", \"mkdirat\"],"
             "   \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38},"
             "  {\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ALLOW\"},"
             "  {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13,"
             "   \"args\": [{\"index\": 0, \"value\": 4660, \"op\": \"SCMP_CMP_EQ\"}]}]}",
             &p);
    ASSERT_EQ(in_child(&p, check_errno_and_args), 0);
    wb_seccomp_prog_release(&p);
}

static int check_and_or(void) {
    /* getpriority: both conditions (which == PRIO_PROCESS and who == 4242) */
    if (!fails_with(syscall(SYS_getpriority, PRIO_PROCESS, 4242), EACCES)) return 1;
    if (syscall(SYS_getpriority, PRIO_PROCESS, 0) < 0) return 2;
    if (fails_with(syscall(SYS_getpriority, PRIO_PGRP, 4242), EACCES)) return 3;
    /* personality: arg0 == 5 or arg0 == 7 (two conditions on one argument) */
    if (!fails_with(syscall(SYS_personality, 5), 99)) return 4;
    if (!fails_with(syscall(SYS_personality, 7), 99)) return 5;
    if (syscall(SYS_personality, 0xffffffffUL) < 0) return 6;
    /* the default errnoRet of SCMP_ACT_ERRNO: EPERM */
    if (!fails_with(syscall(SYS_getppid), EPERM)) return 7;
    return 0;
}

TEST(oci_seccomp_filter_conditions_and_or) {
    wb_seccomp_prog p;
    compiled("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"SECCOMP_FILTER_FLAG_TSYNC\"],"
             " \"syscalls\": ["
             "  {\"names\": [\"getpriority\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13,"
             "   \"args\": [{\"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"},"
             "              {\"index\": 1, \"value\": 4242, \"op\": \"SCMP_CMP_EQ\"}]},"
             "  {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 99,"
             "   \"args\": [{\"index\": 0, \"value\": 5, \"op\": \"SCMP_CMP_EQ\"},"
             "              {\"index\": 0, \"value\": 7, \"op\": \"SCMP_CMP_EQ\"}]},"
             "  {\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\"}]}",
             &p);
    ASSERT_EQ(in_child(&p, check_and_or), 0);
    wb_seccomp_prog_release(&p);
}

#if defined(__x86_64__)
static int check_enosys_stub(void) {
    if (syscall(SYS_getpid) <= 0) return 1;                /* allowed */
    if (!fails_with(syscall(SYS_getuid), EPERM)) return 2; /* 102: the default */
    if (!fails_with(syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY), ENOSYS)) return 3; /* 257 */
    if (!fails_with(syscall(434, 1, 0), ENOSYS)) return 4; /* pidfd_open */
    return 0;
}
#endif

TEST(oci_seccomp_filter_enosys_above_the_profile) {
#if !defined(__x86_64__)
    SKIP("the syscall numbers below are amd64's");
#else
    /* an allow-list whose largest syscall is exit_group (231): runc's stub answers ENOSYS above
     * it, the default action (EPERM) below */
    wb_seccomp_prog p;
    compiled("{\"defaultAction\": \"SCMP_ACT_ERRNO\","
             " \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"],"
             " \"syscalls\": [{\"names\": [\"getpid\", \"exit\", \"exit_group\"],"
             "   \"action\": \"SCMP_ACT_ALLOW\"}]}",
             &p);
    ASSERT_EQ(in_child(&p, check_enosys_stub), 0);
    wb_seccomp_prog_release(&p);
#endif
}

/* ---- through wb_linux_security_apply, in place of Docker's default profile ---- */

/* "Seccomp_filters:" of /proc/self/status, or -1 */
static int filters_installed(void) {
    char buf[8192];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    const char *p = strstr(buf, "\nSeccomp_filters:");
    return p ? atoi(p + strlen("\nSeccomp_filters:")) : -1;
}

static int check_applied(void) {
    if (!fails_with(syscall(SYS_mkdirat, AT_FDCWD, "/tmp/wb-seccomp-never", 0700), 38)) return 1;
    /* Docker's profile would refuse this one (EPERM); the bundle's allows it */
    if (fails_with(syscall(SYS_personality, 0x0040000 /* ADDR_NO_RANDOMIZE */), EPERM)) return 2;
    int n = filters_installed();
    if (n != 1 && n != -1) return 3; /* the bundle's filter only */
    return 0;
}

TEST(oci_seccomp_apply_installs_it_instead_of_the_default) {
    if (geteuid() != 0) SKIP("needs root (wb_linux_security_apply changes ids and capabilities)");
    wb_seccomp_prog p;
    compiled("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdirat\"],"
             " \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38}]}",
             &p);
    for (int nnp = 0; nnp < 2; nnp++) { /* the filter first, or last with no_new_privs */
        wb_linux_security s = {
            .caps = wb_caps_default(), .no_new_privileges = nnp, .seccomp = true, .filter = &p};
        wb_error err;
        if (wb_linux_security_prepare(&s, &err) < 0) {
            if (err.code == ENOENT) SKIP(err.msg);
            wb_test_fail(__FILE__, __LINE__, "prepare: %s", err.msg);
        }
        pid_t pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
            if (wb_linux_security_apply(&s, &err) < 0) _exit(100);
            _exit(check_applied());
        }
        int status = 0;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status));
        if (WEXITSTATUS(status) != 0)
            wb_test_fail(__FILE__, __LINE__, "no_new_privs %d: check %d failed", nnp,
                         WEXITSTATUS(status));
    }
    wb_seccomp_prog_release(&p);
}
