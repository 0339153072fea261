/* The seccomp filter of Linux containers: our own table of Docker's default profile, installed with
 * libseccomp (dlopen'ed on first use).
 *
 * The profile followed: moby's profiles/seccomp/default.json at commit 00f3d189e420 (moby master
 * after the name_to_handle_at change of June 2023, moby#45766/#45837, and before the kernel
 * 6.5-6.7 additions of Feb 2024, moby#47341): default action ERRNO(EPERM) ("defaultErrnoRet": 1);
 * 349 syscalls always allowed; socket unless AF_VSOCK (moby#44562, backported to 20.10 and 23.0);
 * five personality values; process_vm_readv/writev and ptrace from kernel 4.8; clone without
 * namespace flags and clone3 answering ENOSYS unless CAP_SYS_ADMIN; the syscalls that come with
 * CAP_SYS_ADMIN, CAP_SYS_BOOT, CAP_SYS_CHROOT, CAP_SYS_MODULE, CAP_SYS_PACCT, CAP_SYS_PTRACE,
 * CAP_SYS_RAWIO, CAP_SYS_TIME, CAP_SYS_TTY_CONFIG, CAP_SYS_NICE, CAP_SYSLOG, CAP_BPF,
 * CAP_PERFMON and CAP_DAC_READ_SEARCH. (An earlier version, commit 0ec744f43b52, still had
 * name_to_handle_at only with CAP_SYS_ADMIN and no AF_VSOCK, CAP_BPF, CAP_PERFMON,
 * clock_settime64 or set_mempolicy_home_node rules.) The table below is written by topic rather
 * than alphabetically; the names are the same (checked by a script against the JSON, and counted by
 * tests/unit/test_linux_security.c).
 *
 * Only amd64 is written out: native x86_64 plus its sub-architectures x86 (32-bit) and x32, as
 * moby's archMap; the arch-only rules are those that include "amd64" (arch_prctl, modify_ldt).
 * As Docker, a name the installed libseccomp does not know is skipped, capability rules follow
 * the bounding set, and the filter does not set no_new_privs (SCMP_FLTATR_CTL_NNP off).
 *
 * Process-wide state (documented exception to "no mutable globals"): the libseccomp table is
 * filled once, under pthread_once, and is read-only afterwards. */
#include <dlfcn.h>
#include <errno.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/fsutil.h"

#include "base/dynlib.h"
#include "runtime/linux_security_internal.h"

static wb_libseccomp seccomp_fns;
static char seccomp_why[WB_ERROR_MSG_MAX];
static bool seccomp_ok;
static pthread_once_t seccomp_once = PTHREAD_ONCE_INIT;

static void load_libseccomp(void) {
    if (!wb_dynlib_loadable()) {
        snprintf(seccomp_why, sizeof seccomp_why,
                 "internal error: Linux containers need libseccomp, which the static wasmbox "
                 "cannot load (this command should have been handed to wasmbox-full)");
        return;
    }
    void *h = dlopen("libseccomp.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(seccomp_why, sizeof seccomp_why,
                 "cannot load libseccomp.so.2: %s (install the Debian package libseccomp2)",
                 dlerror());
        return;
    }
#define WB_SECCOMP_RESOLVE(name)                                                                   \
    if (!seccomp_why[0] && !(seccomp_fns.name = (__typeof__(&name))dlsym(h, #name)))               \
        snprintf(seccomp_why, sizeof seccomp_why, "libseccomp.so.2 lacks %s", #name);
    WB_LIBSECCOMP_FUNCS(WB_SECCOMP_RESOLVE)
#undef WB_SECCOMP_RESOLVE
    seccomp_ok = !seccomp_why[0];
}

int wb__libseccomp_load(wb_error *err) {
    pthread_once(&seccomp_once, load_libseccomp);
    if (!seccomp_ok) return wb_error_set(err, ENOENT, "%s", seccomp_why);
    return 0;
}

bool wb__libseccomp_loaded(void) {
    return seccomp_ok;
}

const wb_libseccomp *wb__libseccomp_get(wb_error *err) {
    return wb__libseccomp_load(err) < 0 ? NULL : &seccomp_fns;
}

/* ---- the profile ---- */

#define CAP(n) ((wb_caps)1 << (n))

/* clone's namespace flags: CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET
 * (Docker's 2114060288) */
#define NAMESPACE_FLAGS                                                                            \
    ((uint64_t)(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |      \
                CLONE_NEWPID | CLONE_NEWNET))

_Static_assert(NAMESPACE_FLAGS == 2114060288u, "Docker's mask of clone's namespace flags");

typedef struct profile_rule {
    const char *names; /* separated by spaces */
    bool enosys;       /* ERRNO(ENOSYS) instead of ALLOW */
    wb_caps needs;     /* only with every one of these in the bounding set */
    wb_caps unless;    /* not with any of these */
    bool from_4_8;     /* only from kernel 4.8 (ptrace is safe with seccomp from there) */
    bool has_cmp;
    struct scmp_arg_cmp cmp; /* the one condition on an argument, if has_cmp */
} profile_rule;

#define ARG_EQ(i, v)         .has_cmp = true, .cmp = {(i), SCMP_CMP_EQ, (v), 0}
#define ARG_NE(i, v)         .has_cmp = true, .cmp = {(i), SCMP_CMP_NE, (v), 0}
#define ARG_MASK_EQ(i, m, v) .has_cmp = true, .cmp = {(i), SCMP_CMP_MASKED_EQ, (m), (v)}

static const profile_rule profile[] = {
    /* allowed to every container */
    {.names = /* files and directories */
     "access faccessat faccessat2 chdir fchdir getcwd chmod fchmod fchmodat chown chown32 fchown "
     "fchown32 fchownat lchown lchown32 creat open openat openat2 close close_range dup dup2 dup3 "
     "link linkat symlink symlinkat unlink unlinkat rename renameat renameat2 mkdir mkdirat rmdir "
     "mknod mknodat readlink readlinkat umask truncate truncate64 ftruncate ftruncate64 fallocate "
     "utime utimes utimensat utimensat_time64 futimesat name_to_handle_at getdents getdents64 "
     "flock fcntl fcntl64 "
     /* file status and extended attributes */
     "stat stat64 lstat lstat64 fstat fstat64 fstatat64 newfstatat statx statfs statfs64 fstatfs "
     "fstatfs64 getxattr lgetxattr fgetxattr setxattr lsetxattr fsetxattr listxattr llistxattr "
     "flistxattr removexattr lremovexattr fremovexattr "
     /* reading and writing */
     "read readv pread64 preadv preadv2 write writev pwrite64 pwritev pwritev2 lseek _llseek "
     "sendfile sendfile64 splice tee vmsplice copy_file_range readahead fadvise64 fadvise64_64 "
     "fsync fdatasync sync syncfs sync_file_range ioctl pipe pipe2 "
     /* waiting for events */
     "select _newselect pselect6 pselect6_time64 poll ppoll ppoll_time64 epoll_create "
     "epoll_create1 epoll_ctl epoll_ctl_old epoll_wait epoll_wait_old epoll_pwait epoll_pwait2 "
     "eventfd eventfd2 signalfd signalfd4 timerfd_create timerfd_gettime timerfd_gettime64 "
     "timerfd_settime timerfd_settime64 inotify_init inotify_init1 inotify_add_watch "
     "inotify_rm_watch fanotify_mark "
     /* asynchronous I/O */
     "io_setup io_destroy io_submit io_cancel io_getevents io_pgetevents io_pgetevents_time64 "
     "io_uring_setup io_uring_enter io_uring_register "
     /* memory */
     "brk mmap mmap2 munmap mremap mprotect madvise mincore msync mlock mlock2 mlockall munlock "
     "munlockall remap_file_pages membarrier memfd_create memfd_secret pkey_alloc pkey_free "
     "pkey_mprotect process_mrelease "
     /* processes and threads (clone and clone3: below) */
     "fork vfork execve execveat exit exit_group wait4 waitid waitpid kill tkill tgkill "
     "pidfd_open pidfd_send_signal getpid getppid gettid getpgid setpgid getpgrp getsid setsid "
     "prctl seccomp set_tid_address set_robust_list get_robust_list rseq restart_syscall "
     "get_thread_area set_thread_area capget capset getpriority setpriority ioprio_get ioprio_set "
     "getrlimit setrlimit ugetrlimit prlimit64 getrusage times landlock_create_ruleset "
     "landlock_add_rule landlock_restrict_self "
     /* scheduling */
     "sched_yield sched_getaffinity sched_setaffinity sched_getattr sched_setattr sched_getparam "
     "sched_setparam sched_getscheduler sched_setscheduler sched_get_priority_max "
     "sched_get_priority_min sched_rr_get_interval sched_rr_get_interval_time64 getcpu "
     /* signals and timers */
     "rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend "
     "rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sigaltstack sigprocmask sigreturn "
     "pause alarm getitimer setitimer timer_create timer_delete timer_getoverrun timer_gettime "
     "timer_gettime64 timer_settime timer_settime64 "
     /* user and group IDs */
     "getuid getuid32 geteuid geteuid32 getgid getgid32 getegid getegid32 getresuid getresuid32 "
     "getresgid getresgid32 getgroups getgroups32 setuid setuid32 setgid setgid32 setreuid "
     "setreuid32 setregid setregid32 setresuid setresuid32 setresgid setresgid32 setfsuid "
     "setfsuid32 setfsgid setfsgid32 setgroups setgroups32 "
     /* clocks (setting one needs CAP_SYS_TIME, below; adjtimex without changes only reads) */
     "time gettimeofday clock_gettime clock_gettime64 clock_getres clock_getres_time64 "
     "clock_nanosleep clock_nanosleep_time64 nanosleep adjtimex clock_adjtime clock_adjtime64 "
     "futex futex_time64 futex_waitv "
     /* sockets (socket itself: below) */
     "socketpair socketcall bind connect listen accept accept4 getsockname getpeername "
     "getsockopt setsockopt shutdown send sendto sendmsg sendmmsg recv recvfrom recvmsg recvmmsg "
     "recvmmsg_time64 "
     /* System V IPC and POSIX message queues (in the container's IPC namespace) */
     "ipc shmget shmat shmdt shmctl semget semop semtimedop semtimedop_time64 semctl msgget "
     "msgsnd msgrcv msgctl mq_open mq_unlink mq_timedsend mq_timedsend_time64 mq_timedreceive "
     "mq_timedreceive_time64 mq_notify mq_getsetattr "
     /* the system */
     "uname sysinfo getrandom"},
    /* from kernel 4.8, where seccomp can no longer be bypassed with ptrace */
    {.names = "ptrace process_vm_readv process_vm_writev", .from_4_8 = true},
    /* every socket family but AF_VSOCK (which reaches the host's VMs); socketcall cannot be
     * checked (its arguments are behind a pointer), as in Docker */
    {.names = "socket", ARG_NE(0, 40)},
    /* personality: querying (0xffffffff) and the execution domains of Linux */
    {.names = "personality", ARG_EQ(0, 0x0)},        /* PER_LINUX */
    {.names = "personality", ARG_EQ(0, 0x8)},        /* PER_LINUX32 */
    {.names = "personality", ARG_EQ(0, 0x20000)},    /* UNAME26 */
    {.names = "personality", ARG_EQ(0, 0x20008)},    /* UNAME26 | PER_LINUX32 */
    {.names = "personality", ARG_EQ(0, 0xffffffff)}, /* query */
    /* amd64 only */
    {.names = "arch_prctl modify_ldt"},
    /* clone without namespace flags, and clone3 (whose flags are behind a pointer) answering
     * ENOSYS so that the C library falls back to clone; both free with CAP_SYS_ADMIN */
    {.names = "clone", .unless = CAP(CAP_SYS_ADMIN), ARG_MASK_EQ(0, NAMESPACE_FLAGS, 0)},
    {.names = "clone3", .unless = CAP(CAP_SYS_ADMIN), .enosys = true},
    /* with a capability: the syscalls it stands for */
    {.names = "open_by_handle_at", .needs = CAP(CAP_DAC_READ_SEARCH)},
    {.names = "bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount "
              "mount_setattr move_mount open_tree perf_event_open quotactl quotactl_fd "
              "setdomainname sethostname setns syslog umount umount2 unshare",
     .needs = CAP(CAP_SYS_ADMIN)},
    {.names = "reboot", .needs = CAP(CAP_SYS_BOOT)},
    {.names = "chroot", .needs = CAP(CAP_SYS_CHROOT)},
    {.names = "delete_module init_module finit_module", .needs = CAP(CAP_SYS_MODULE)},
    {.names = "acct", .needs = CAP(CAP_SYS_PACCT)},
    {.names = "kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace",
     .needs = CAP(CAP_SYS_PTRACE)},
    {.names = "iopl ioperm", .needs = CAP(CAP_SYS_RAWIO)},
    {.names = "settimeofday stime clock_settime clock_settime64", .needs = CAP(CAP_SYS_TIME)},
    {.names = "vhangup", .needs = CAP(CAP_SYS_TTY_CONFIG)},
    {.names = "get_mempolicy mbind set_mempolicy set_mempolicy_home_node",
     .needs = CAP(CAP_SYS_NICE)},
    {.names = "syslog", .needs = CAP(CAP_SYSLOG)},
    {.names = "bpf", .needs = CAP(CAP_BPF)},
    {.names = "perf_event_open", .needs = CAP(CAP_PERFMON)},
};

static bool kernel_at_least(int major, int minor) {
    struct utsname u;
    int ma = 0, mi = 0;
    if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &ma, &mi) != 2) return true;
    return ma > major || (ma == major && mi >= minor);
}

static bool rule_applies(const profile_rule *r, wb_caps caps, bool from_4_8) {
    if ((caps & r->needs) != r->needs || (caps & r->unless)) return false;
    return !r->from_4_8 || from_4_8;
}

/* Calls fn for each name of r (a copy, NUL-terminated); stops at fn's first error. */
static int each_name(const profile_rule *r, int (*fn)(const char *name, void *ctx), void *ctx) {
    const char *p = r->names;
    while (*p) {
        size_t n = strcspn(p, " ");
        char name[64];
        if (n > 0 && n < sizeof name) {
            memcpy(name, p, n);
            name[n] = 0;
            int rc = fn(name, ctx);
            if (rc < 0) return rc;
        }
        p += n;
        while (*p == ' ') p++;
    }
    return 0;
}

static int count_name(const char *name, void *ctx) {
    (void)name;
    (*(size_t *)ctx)++;
    return 0;
}

void wb__seccomp_profile_counts(wb_caps caps, size_t *names, size_t *conditional) {
    bool from_4_8 = kernel_at_least(4, 8);
    *names = *conditional = 0;
    for (size_t i = 0; i < sizeof profile / sizeof profile[0]; i++) {
        if (!rule_applies(&profile[i], caps, from_4_8)) continue;
        size_t n = 0;
        each_name(&profile[i], count_name, &n);
        *names += n;
        if (profile[i].has_cmp) *conditional += n;
    }
}

typedef struct add_ctx {
    const wb_libseccomp *sc;
    scmp_filter_ctx filter;
    const profile_rule *rule;
    wb_error *err;
} add_ctx;

static int add_name(const char *name, void *p) {
    add_ctx *c = p;
    int nr = c->sc->seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) return 0; /* newer than this libseccomp: skipped, as Docker does */
    const profile_rule *r = c->rule;
    uint32_t action = r->enosys ? SCMP_ACT_ERRNO(ENOSYS) : SCMP_ACT_ALLOW;
    int rc = c->sc->seccomp_rule_add_array(c->filter, action, nr, r->has_cmp ? 1 : 0,
                                           r->has_cmp ? &r->cmp : NULL);
    if (rc < 0)
        return wb_error_set(c->err, -rc, "seccomp: add the rule for %s: %s", name, strerror(-rc));
    return 0;
}

/* The profile for caps as a libseccomp filter (the caller releases it). */
static scmp_filter_ctx build_filter(wb_caps caps, wb_error *err) {
#if !defined(__x86_64__)
    (void)caps;
    wb_error_set(err, ENOSYS, "seccomp: the default profile is written for amd64 only");
    return NULL;
#else
    if (!seccomp_ok) {
        wb_error_set(err, EINVAL,
                     "internal error: libseccomp was not loaded before entering the "
                     "container's root (wb_linux_security_prepare)");
        return NULL;
    }
    const wb_libseccomp *sc = &seccomp_fns;
    scmp_filter_ctx filter = sc->seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (!filter) {
        wb_error_set(err, ENOMEM, "seccomp: seccomp_init failed");
        return NULL;
    }
    int rc = sc->seccomp_attr_set(filter, SCMP_FLTATR_CTL_NNP, 0);
    if (rc < 0) {
        wb_error_set(err, -rc, "seccomp: leave no_new_privs alone: %s", strerror(-rc));
        goto fail;
    }
    static const uint32_t arches[] = {SCMP_ARCH_X86, SCMP_ARCH_X32};
    for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++) {
        rc = sc->seccomp_arch_add(filter, arches[i]);
        if (rc < 0 && rc != -EEXIST) {
            wb_error_set(err, -rc, "seccomp: add the x86/x32 architectures: %s", strerror(-rc));
            goto fail;
        }
    }
    bool from_4_8 = kernel_at_least(4, 8);
    add_ctx c = {.sc = sc, .filter = filter, .err = err};
    for (size_t i = 0; i < sizeof profile / sizeof profile[0]; i++) {
        if (!rule_applies(&profile[i], caps, from_4_8)) continue;
        c.rule = &profile[i];
        if (each_name(&profile[i], add_name, &c) < 0) goto fail;
    }
    return filter;
fail:
    sc->seccomp_release(filter);
    return NULL;
#endif
}

/* ---- the compiled filter, cached ----
 * Building the filter with libseccomp costs about 12 ms of CPU here (resolving ~400 names and
 * generating the program), more than the rest of a container's start. The program it generates
 * depends only on the profile, the capabilities, the kernel (rules for >= 4.8) and libseccomp,
 * so it is kept as raw BPF in SECCOMP_CACHE_DIR (root's tmpfs, 0700) under a name made of those,
 * and installed with seccomp(2) directly: a cached start loads no libseccomp at all.
 * Process-wide state (documented exception): the program prepared for the next container
 * process, inherited by the forked child. */
#define SECCOMP_CACHE_DIR  "/run/wasmbox/seccomp"
#define SECCOMP_PROFILE_ID "moby-00f3d189-r1" /* change with the profile table */
#define SECCOMP_MAX_INSNS  4096               /* BPF_MAXINSNS */

static struct sock_filter prepared_bpf[SECCOMP_MAX_INSNS];
static unsigned short prepared_len;
static wb_caps prepared_caps;
static bool prepared;

/* The cache file's name for caps on this kernel and libseccomp (its size and mtime). */
static void cache_path(wb_caps caps, char *buf, size_t size) {
    struct utsname u;
    struct stat st;
    memset(&st, 0, sizeof st);
    if (uname(&u) != 0) snprintf(u.release, sizeof u.release, "unknown");
    if (stat("/usr/lib/x86_64-linux-gnu/libseccomp.so.2", &st) != 0)
        stat("/lib/x86_64-linux-gnu/libseccomp.so.2", &st);
    /* FNV-1a over everything the program depends on */
    char key[512];
    snprintf(key, sizeof key, "%s|%016llx|%s|%lld|%lld", SECCOMP_PROFILE_ID,
             (unsigned long long)caps, u.release, (long long)st.st_size, (long long)st.st_mtime);
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = key; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    snprintf(buf, size, "%s/%016llx-%016llx.bpf", SECCOMP_CACHE_DIR, (unsigned long long)caps,
             (unsigned long long)h);
}

static bool read_cached(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = read(fd, prepared_bpf, sizeof prepared_bpf);
    close(fd);
    if (n <= 0 || n % (ssize_t)sizeof prepared_bpf[0] != 0) return false;
    prepared_len = (unsigned short)(n / (ssize_t)sizeof prepared_bpf[0]);
    return true;
}

static void write_cached(const char *path) {
    if (mkdir("/run/wasmbox", 0700) != 0 && errno != EEXIST) return;
    if (mkdir(SECCOMP_CACHE_DIR, 0700) != 0 && errno != EEXIST) return;
    wb_write_file_atomic(path, prepared_bpf, prepared_len * sizeof prepared_bpf[0], 0600, false,
                         NULL);
}

int wb__seccomp_prepare(wb_caps caps, wb_error *err) {
    if (prepared && prepared_caps == caps) return 0;
    char path[256];
    cache_path(caps, path, sizeof path);
    if (read_cached(path)) {
        prepared = true;
        prepared_caps = caps;
        return 0;
    }
    if (wb__libseccomp_load(err) < 0) return -1;
    scmp_filter_ctx filter = build_filter(caps, err);
    if (!filter) return -1;
    int fd = (int)syscall(SYS_memfd_create, "seccomp", MFD_CLOEXEC);
    int rc = fd < 0 ? wb_error_sys(err, "memfd_create") : 0;
    if (rc == 0 && (rc = seccomp_fns.seccomp_export_bpf(filter, fd)) < 0)
        wb_error_set(err, -rc, "seccomp: export the filter: %s", strerror(-rc));
    seccomp_fns.seccomp_release(filter);
    if (rc == 0) {
        ssize_t n = pread(fd, prepared_bpf, sizeof prepared_bpf, 0);
        if (n <= 0 || n % (ssize_t)sizeof prepared_bpf[0] != 0)
            rc = wb_error_set(err, EIO, "seccomp: the exported filter is %zd bytes", n);
        else
            prepared_len = (unsigned short)(n / (ssize_t)sizeof prepared_bpf[0]);
    }
    if (fd >= 0) close(fd);
    if (rc < 0) return -1;
    prepared = true;
    prepared_caps = caps;
    write_cached(path);
    return 0;
}

bool wb__seccomp_prepared(wb_caps caps) {
    return prepared && prepared_caps == caps;
}

int wb__seccomp_install_loaded(wb_caps caps, wb_error *err) {
    if (wb__seccomp_prepared(caps)) {
        struct sock_fprog prog = {.len = prepared_len, .filter = prepared_bpf};
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
            return wb_error_sys(err, "seccomp: load the filter");
        return 0;
    }
    scmp_filter_ctx filter = build_filter(caps, err);
    if (!filter) return -1;
    int rc = seccomp_fns.seccomp_load(filter);
    if (rc < 0) wb_error_set(err, -rc, "seccomp: load the filter: %s", strerror(-rc));
    seccomp_fns.seccomp_release(filter);
    return rc < 0 ? -1 : 0;
}

int wb_linux_seccomp_install(wb_caps caps, wb_error *err) {
    if (wb__libseccomp_load(err) < 0) return -1;
    return wb__seccomp_install_loaded(caps, err);
}
