/* Capabilities (Docker's sets and rules) and the container process's last steps: capability
 * sets, no_new_privs and the seccomp filter, read back from /proc/self/status and tried with
 * syscalls the profile forbids or allows. The runner runs each case in its own child, so the
 * cases that change their ids, capabilities or filter affect no other. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "runtime/linux_security.h"
#include "runtime/linux_security_internal.h"

#define BIT(n)                   ((wb_caps)1 << (n))
#define DOCKER_CAPS              0xa80425fbULL /* Docker's 14 (CapEff of `docker run ... grep Cap`) */
#define WB_AF_VSOCK              40
#define WB_KEYCTL_GET_KEYRING_ID 0

/* The value of one "Name:\tvalue" line of /proc/self/status (or of text), into out. */
static const char *status_field(const char *text, const char *name, char *out, size_t size) {
    size_t n = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, name, n) == 0 && p[n] == ':') {
            p += n + 1;
            while (*p == '\t' || *p == ' ') p++;
            size_t len = strcspn(p, "\n");
            while (len > 0 && p[len - 1] == ' ') len--;
            if (len >= size) len = size - 1;
            memcpy(out, p, len);
            out[len] = 0;
            return out;
        }
    }
    return NULL;
}

static void read_fd_all(int fd, char *buf, size_t size) {
    size_t len = 0;
    ssize_t n;
    while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0) len += (size_t)n;
    buf[len] = 0;
}

static void read_status(char *buf, size_t size) {
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    ASSERT_TRUE(fd >= 0);
    read_fd_all(fd, buf, size);
    close(fd);
}

static uint64_t hex_field(const char *text, const char *name) {
    char v[64];
    if (!status_field(text, name, v, sizeof v))
        wb_test_fail(__FILE__, __LINE__, "no %s line in the status", name);
    return strtoull(v, NULL, 16);
}

static int int_field(const char *text, const char *name) {
    char v[64];
    if (!status_field(text, name, v, sizeof v))
        wb_test_fail(__FILE__, __LINE__, "no %s line in the status", name);
    return atoi(v);
}

/* root with CAP_SYS_ADMIN (to load a filter without no_new_privs) and libcap/libseccomp */
static void need_root(const wb_linux_security *s) {
    if (geteuid() != 0) SKIP("needs root (setuid, capability sets, seccomp without no_new_privs)");
    if (!(wb_caps_all() & BIT(CAP_SYS_ADMIN))) SKIP("needs CAP_SYS_ADMIN in the bounding set");
    wb_error err;
    if (wb_linux_security_prepare(s, &err) < 0) {
        if (err.code == ENOENT) SKIP(err.msg);
        wb_test_fail(__FILE__, __LINE__, "prepare: %s", err.msg);
    }
}

static void apply_or_fail(const wb_linux_security *s) {
    wb_error err;
    if (wb_linux_security_apply(s, &err) < 0)
        wb_test_fail(__FILE__, __LINE__, "apply: %s", err.msg);
}

/* errno of a syscall that must fail, or 0 if it succeeded */
static int fails_with(long rc) {
    return rc < 0 ? errno : 0;
}

static void *thread_main(void *arg) {
    return arg;
}

/* ---- capability sets and Docker's rules ---- */

TEST(caps_default_is_dockers) {
    ASSERT_U64_EQ(wb_caps_default(), DOCKER_CAPS);
    ASSERT_STR_EQ(wb_caps_name(0), "CAP_CHOWN");
    ASSERT_STR_EQ(wb_caps_name(CAP_SYS_ADMIN), "CAP_SYS_ADMIN");
    ASSERT_STR_EQ(wb_caps_name(40), "CAP_CHECKPOINT_RESTORE");
    ASSERT_TRUE(wb_caps_name(41) == NULL);
}

TEST(caps_all_is_our_bounding_set) {
    char st[8192];
    read_status(st, sizeof st);
    ASSERT_U64_EQ(wb_caps_all(), hex_field(st, "CapBnd"));
}

TEST(caps_parse_spellings) {
    const char *spellings[] = {"NET_ADMIN", "CAP_NET_ADMIN", "net_admin", "cap_Net_Admin"};
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        wb_caps m = 0;
        wb_error err;
        ASSERT_EQ(wb_caps_parse(spellings[i], &m, &err), 0);
        ASSERT_U64_EQ(m, BIT(CAP_NET_ADMIN));
    }
    wb_caps m = 0;
    ASSERT_EQ(wb_caps_parse("all", &m, NULL), 0);
    ASSERT_U64_EQ(m, wb_caps_all());
}

TEST(caps_parse_unknown_has_mobys_message) {
    wb_caps m;
    wb_error err;
    ASSERT_EQ(wb_caps_parse("FOO", &m, &err), -1);
    ASSERT_STR_EQ(err.msg, "unknown capability: \"CAP_FOO\"");
    ASSERT_EQ(wb_caps_parse("cap_foo", &m, &err), -1);
    ASSERT_STR_EQ(err.msg, "unknown capability: \"CAP_FOO\"");
    ASSERT_EQ(wb_caps_parse("CAP_ALL", &m, &err), -1);
    ASSERT_STR_EQ(err.msg, "unknown capability: \"CAP_ALL\"");
}

TEST(caps_compute_dockers_rules) {
    wb_caps c;
    wb_error err;
    ASSERT_EQ(wb_caps_compute(NULL, 0, NULL, 0, false, &c, &err), 0);
    ASSERT_U64_EQ(c, DOCKER_CAPS);

    char *add[] = {"NET_ADMIN", "cap_sys_admin"};
    ASSERT_EQ(wb_caps_compute(add, 2, NULL, 0, false, &c, &err), 0);
    ASSERT_U64_EQ(c, DOCKER_CAPS | BIT(CAP_NET_ADMIN) | BIT(CAP_SYS_ADMIN));

    char *drop[] = {"chown", "CAP_MKNOD"};
    ASSERT_EQ(wb_caps_compute(NULL, 0, drop, 2, false, &c, &err), 0);
    ASSERT_U64_EQ(c, DOCKER_CAPS & ~(BIT(CAP_CHOWN) | BIT(CAP_MKNOD)));

    /* drop ALL, then add: only what is added */
    char *all[] = {"ALL"};
    char *bind[] = {"NET_BIND_SERVICE"};
    ASSERT_EQ(wb_caps_compute(bind, 1, all, 1, false, &c, &err), 0);
    ASSERT_U64_EQ(c, BIT(CAP_NET_BIND_SERVICE));
    ASSERT_EQ(wb_caps_compute(NULL, 0, all, 1, false, &c, &err), 0);
    ASSERT_U64_EQ(c, 0);

    /* add ALL: everything but what is dropped; a dropped ALL then removes nothing (moby) */
    char *mknod[] = {"mknod"};
    ASSERT_EQ(wb_caps_compute(all, 1, mknod, 1, false, &c, &err), 0);
    ASSERT_U64_EQ(c, wb_caps_all() & ~BIT(CAP_MKNOD));
    ASSERT_EQ(wb_caps_compute(all, 1, all, 1, false, &c, &err), 0);
    ASSERT_U64_EQ(c, wb_caps_all());

    /* --privileged: everything, the lists unread */
    char *bad[] = {"FOO"};
    ASSERT_EQ(wb_caps_compute(bad, 1, NULL, 0, true, &c, &err), 0);
    ASSERT_U64_EQ(c, wb_caps_all());

    /* the drop list is checked first */
    char *bad2[] = {"BAR"};
    ASSERT_EQ(wb_caps_compute(bad, 1, bad2, 1, false, &c, &err), -1);
    ASSERT_STR_EQ(err.msg, "unknown capability: \"CAP_BAR\"");
    ASSERT_EQ(wb_caps_compute(bad, 1, NULL, 0, false, &c, &err), -1);
    ASSERT_STR_EQ(err.msg, "unknown capability: \"CAP_FOO\"");
}

/* ---- the profile's table (no libseccomp needed) ---- */

TEST(seccomp_profile_counts_match_dockers_json) {
    /* moby default.json (00f3d189): 349 names always allowed; ptrace, process_vm_readv/writev
     * from 4.8; socket (1 condition); personality (5); arch_prctl, modify_ldt; clone (1
     * condition) and clone3 (ENOSYS) without CAP_SYS_ADMIN; chroot with CAP_SYS_CHROOT */
    size_t names, cond;
    wb__seccomp_profile_counts(wb_caps_default(), &names, &cond);
    ASSERT_EQ(names, 349 + 3 + 1 + 5 + 2 + 2 + 1);
    ASSERT_EQ(cond, 1 + 5 + 1);
    /* CAP_SYS_ADMIN: its 23 names instead of the clone/clone3 rules */
    wb__seccomp_profile_counts(wb_caps_default() | BIT(CAP_SYS_ADMIN), &names, &cond);
    ASSERT_EQ(names, 349 + 3 + 1 + 5 + 2 + 23 + 1);
    ASSERT_EQ(cond, 1 + 5);
    /* every capability: the 14 capability rules hold 50 names */
    wb__seccomp_profile_counts(BIT(41) - 1, &names, &cond);
    ASSERT_EQ(names, 349 + 3 + 1 + 5 + 2 + 50);
}

/* ---- the process, as root ---- */

TEST(apply_without_prepare_refuses) {
    wb_linux_security s = {.caps = DOCKER_CAPS, .seccomp = true};
    wb_error err;
    ASSERT_EQ(wb_linux_security_apply(&s, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "wb_linux_security_prepare");
}

TEST(apply_root_default_sets_and_filter) {
    wb_linux_security s = {.uid = 0, .gid = 0, .caps = DOCKER_CAPS, .seccomp = true};
    need_root(&s);
    apply_or_fail(&s);
    char st[8192];
    read_status(st, sizeof st);
    ASSERT_U64_EQ(hex_field(st, "CapEff"), DOCKER_CAPS);
    ASSERT_U64_EQ(hex_field(st, "CapPrm"), DOCKER_CAPS);
    ASSERT_U64_EQ(hex_field(st, "CapBnd"), DOCKER_CAPS);
    ASSERT_U64_EQ(hex_field(st, "CapInh"), 0);
    ASSERT_U64_EQ(hex_field(st, "CapAmb"), 0);
    ASSERT_EQ(int_field(st, "NoNewPrivs"), 0);
    ASSERT_EQ(int_field(st, "Seccomp"), 2);
    ASSERT_EQ(int_field(st, "Seccomp_filters"), 1);

    /* forbidden: EPERM */
    ASSERT_EQ(fails_with(syscall(SYS_keyctl, WB_KEYCTL_GET_KEYRING_ID, -1, 0)), EPERM);
    ASSERT_EQ(fails_with(mount("none", "/nonexistent-wb-test", "tmpfs", 0, NULL)), EPERM);
    ASSERT_EQ(fails_with(unshare(CLONE_NEWUSER)), EPERM);
    ASSERT_EQ(fails_with(unshare(CLONE_NEWNS)), EPERM);
    ASSERT_EQ(fails_with(personality(0x0040000 /* ADDR_NO_RANDOMIZE */)), EPERM);
    ASSERT_EQ(fails_with(socket(WB_AF_VSOCK, SOCK_STREAM, 0)), EPERM);
    /* ptrace is allowed (kernel >= 4.8): the kernel answers ESRCH for a process not traced */
    ASSERT_EQ(fails_with(syscall(SYS_ptrace, 12 /* PTRACE_GETREGS */, getpid(), 0, 0)), ESRCH);
    ASSERT_EQ(fails_with(syscall(SYS_reboot, 0, 0, 0, NULL)), EPERM);
    ASSERT_EQ(fails_with(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)), EPERM);
    /* clone3: ENOSYS, so that the C library falls back to clone */
    ASSERT_EQ(fails_with(syscall(SYS_clone3, NULL, 0)), ENOSYS);

    /* allowed */
    ASSERT_EQ(syscall(SYS_getpid), getpid());
    ASSERT_EQ(write(2, "", 0), 0);
    ASSERT_EQ(personality(0xffffffff) >= 0, 1);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT_TRUE(fd >= 0);
    close(fd);
    ASSERT_EQ(fails_with(chroot("/")), 0); /* CAP_SYS_CHROOT is one of Docker's */
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, thread_main, NULL), 0);
    ASSERT_EQ(pthread_join(t, NULL), 0);
    pid_t pid = fork();
    if (pid == 0) _exit(7);
    ASSERT_TRUE(pid > 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_EQ(WEXITSTATUS(status), 7);
}

TEST(apply_root_sys_admin_frees_namespaces) {
    wb_linux_security s = {.caps = DOCKER_CAPS | BIT(CAP_SYS_ADMIN), .seccomp = true};
    need_root(&s);
    apply_or_fail(&s);
    char st[8192];
    read_status(st, sizeof st);
    ASSERT_U64_EQ(hex_field(st, "CapEff"), DOCKER_CAPS | BIT(CAP_SYS_ADMIN));
    ASSERT_EQ(int_field(st, "Seccomp"), 2);
    /* the filter lets them through; the kernel answers */
    ASSERT_EQ(fails_with(mount("none", "/nonexistent-wb-test", "tmpfs", 0, NULL)), ENOENT);
    ASSERT_EQ(fails_with(unshare(CLONE_NEWUTS)), 0);
    ASSERT_EQ(fails_with(syscall(SYS_clone3, NULL, 0)), EINVAL);
    /* still not: keyctl, and reboot without CAP_SYS_BOOT */
    ASSERT_EQ(fails_with(syscall(SYS_keyctl, WB_KEYCTL_GET_KEYRING_ID, -1, 0)), EPERM);
    ASSERT_EQ(fails_with(syscall(SYS_reboot, 0, 0, 0, NULL)), EPERM);
}

TEST(apply_non_root_no_new_privs) {
    static const gid_t groups[] = {100, 1000};
    wb_linux_security s = {.uid = 1000,
                           .gid = 1000,
                           .groups = groups,
                           .ngroups = 2,
                           .caps = DOCKER_CAPS,
                           .no_new_privileges = true,
                           .seccomp = true};
    need_root(&s);
    apply_or_fail(&s);
    char st[8192];
    read_status(st, sizeof st);
    char v[64];
    ASSERT_STR_EQ(status_field(st, "Uid", v, sizeof v), "1000\t1000\t1000\t1000");
    ASSERT_STR_EQ(status_field(st, "Gid", v, sizeof v), "1000\t1000\t1000\t1000");
    ASSERT_STR_EQ(status_field(st, "Groups", v, sizeof v), "100 1000");
    ASSERT_U64_EQ(hex_field(st, "CapEff"), 0);
    ASSERT_U64_EQ(hex_field(st, "CapPrm"), 0);
    ASSERT_U64_EQ(hex_field(st, "CapInh"), 0);
    ASSERT_U64_EQ(hex_field(st, "CapBnd"), DOCKER_CAPS);
    ASSERT_EQ(int_field(st, "NoNewPrivs"), 1);
    ASSERT_EQ(int_field(st, "Seccomp"), 2);
    ASSERT_EQ(fails_with(syscall(SYS_keyctl, WB_KEYCTL_GET_KEYRING_ID, -1, 0)), EPERM);
}

TEST(apply_unconfined_has_no_filter) {
    wb_linux_security s = {.caps = DOCKER_CAPS, .seccomp = false};
    need_root(&s);
    apply_or_fail(&s);
    char st[8192];
    read_status(st, sizeof st);
    ASSERT_EQ(int_field(st, "Seccomp"), 0);
    ASSERT_U64_EQ(hex_field(st, "CapEff"), DOCKER_CAPS);
}

#if defined(__x86_64__)
/* a syscall of the i386 ABI from this 64-bit process (the kernel's IA32 emulation) */
static long int80(long nr, long a, long b, long c) {
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    return ret;
}
#endif

TEST(seccomp_covers_x86_and_x32) {
#if !defined(__x86_64__)
    SKIP("amd64 only");
#else
    wb_linux_security s = {.caps = DOCKER_CAPS, .seccomp = true};
    need_root(&s);
    wb_error err;
    if (wb_linux_seccomp_install(DOCKER_CAPS, &err) < 0)
        wb_test_fail(__FILE__, __LINE__, "install: %s", err.msg);
    /* i386: getpid 20 allowed; keyctl 288 and unshare 310 refused (without the x86 arch in the
     * filter, either would kill the process) */
    if (int80(20, 0, 0, 0) == -ENOSYS) SKIP("the kernel has no IA32 emulation");
    ASSERT_EQ(int80(20, 0, 0, 0), getpid());
    ASSERT_EQ(int80(288, WB_KEYCTL_GET_KEYRING_ID, -1, 0), -EPERM);
    ASSERT_EQ(int80(310, CLONE_NEWUSER, 0, 0), -EPERM);
    /* x32 (bit 30): keyctl 250 refused by the filter; getpid 39 passes it (ENOSYS where the
     * kernel has no x32 ABI, as here) */
    ASSERT_EQ(fails_with(syscall(0x40000000 | 250, WB_KEYCTL_GET_KEYRING_ID, -1, 0)), EPERM);
    long pid = syscall(0x40000000 | 39);
    ASSERT_TRUE(pid == getpid() || (pid < 0 && errno == ENOSYS));
#endif
}

/* What the exec'ed command sees (`cat /proc/self/status` in the container), for root and for
 * uid 1000: Docker's CapEff a80425fb / 0. */
static void exec_status(const wb_linux_security *s, char *out, size_t size) {
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        wb_error err;
        if (wb_linux_security_apply(s, &err) < 0) {
            dprintf(p[1], "apply: %s\n", err.msg);
            _exit(1);
        }
        dup2(p[1], 1);
        execl("/bin/cat", "cat", "/proc/self/status", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    read_fd_all(p[0], out, size);
    close(p[0]);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        wb_test_fail(__FILE__, __LINE__, "cat /proc/self/status: status %d: %s", status, out);
}

TEST(exec_sees_dockers_sets) {
    if (access("/bin/cat", X_OK) != 0) SKIP("no /bin/cat");
    wb_linux_security root = {.caps = DOCKER_CAPS, .seccomp = true};
    need_root(&root);
    char st[8192];
    exec_status(&root, st, sizeof st);
    ASSERT_U64_EQ(hex_field(st, "CapEff"), DOCKER_CAPS);
    ASSERT_U64_EQ(hex_field(st, "CapPrm"), DOCKER_CAPS);
    ASSERT_U64_EQ(hex_field(st, "CapBnd"), DOCKER_CAPS);
    ASSERT_U64_EQ(hex_field(st, "CapInh"), 0);
    ASSERT_EQ(int_field(st, "NoNewPrivs"), 0);
    ASSERT_EQ(int_field(st, "Seccomp"), 2);

    wb_linux_security user = {.uid = 1000, .gid = 1000, .caps = DOCKER_CAPS, .seccomp = true};
    exec_status(&user, st, sizeof st);
    ASSERT_U64_EQ(hex_field(st, "CapEff"), 0);
    ASSERT_U64_EQ(hex_field(st, "CapPrm"), 0);
    ASSERT_U64_EQ(hex_field(st, "CapBnd"), DOCKER_CAPS);
    ASSERT_U64_EQ(hex_field(st, "CapInh"), 0);
    ASSERT_EQ(int_field(st, "Seccomp"), 2);
}
