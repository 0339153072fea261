/* runtime/cgroup on the host's cgroup file system (v1 or v2, whichever it has; on a hybrid v1 host
 * also the v2 code under /sys/fs/cgroup/unified, which has no memory/pids/cpu controllers but the
 * core files: procs, freeze, kill, cpu.stat). Needs root. Each case runs its body in a child and
 * destroys the cgroup afterwards whatever the body did, so a failure leaves nothing behind. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "runtime/cgroup.h"

#define HYBRID_UNIFIED "/sys/fs/cgroup/unified"
#define MIB            (1024 * 1024)

#define ASSERT_OK(call, err)                                                                       \
    do {                                                                                           \
        if ((call) < 0) wb_test_fail(__FILE__, __LINE__, "%s: %s", #call, (err).msg);              \
    } while (0)

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void need_cgroups(void) {
    if (geteuid() != 0) SKIP("the cgroup tests need root");
    if (wb_cgroup_version() == 0) SKIP("no cgroup file system under /sys/fs/cgroup");
}

/* ---- reading the files back ---- */

static void read_str(const char *dir, const char *file, char *buf, size_t size) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) wb_test_fail(__FILE__, __LINE__, "open %s: %s", path, strerror(errno));
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0) wb_test_fail(__FILE__, __LINE__, "read %s: %s", path, strerror(errno));
    buf[n] = '\0';
    while (n > 0 && buf[n - 1] == '\n') buf[--n] = '\0';
}

static long long read_ll(const char *dir, const char *file) {
    char buf[256];
    read_str(dir, file, buf, sizeof buf);
    return strtoll(buf, NULL, 10);
}

static bool exists(const char *dir, const char *file) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return access(path, F_OK) == 0;
}

static uint64_t mem_total(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    unsigned long long kb = 0;
    if (f) {
        if (fscanf(f, "MemTotal: %llu kB", &kb) != 1) kb = 0;
        fclose(f);
    }
    return (uint64_t)kb * 1024;
}

/* ---- running a body with its cleanup ---- */

typedef void (*cg_body)(const char *id, const char *v2_root);

/* Run body(id) in a child (v2_root: the unified mount for the wb__ entry points, NULL for the
 * host's cgroups), then destroy the cgroup `id` from here, even after a failure or a hang. */
static void run_with_cleanup(const char *what, const char *v2_root, cg_body body) {
    char id[64];
    snprintf(id, sizeof id, "wbtest-%d-%s", (int)getpid(), what);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        body(id, v2_root);
        _exit(0);
    }
    int status = 0;
    bool hung = false;
    for (int64_t start = now_ms(); waitpid(pid, &status, WNOHANG) != pid; sleep_ms(10)) {
        if (now_ms() - start > 40000) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            hung = true;
            break;
        }
    }
    wb_error err = {0};
    wb_cgroup *cg = NULL;
    int rc = v2_root ? wb__cgroup_open_v2(v2_root, id, &cg, &err) : wb_cgroup_open(id, &cg, &err);
    if (rc == 0) {
        rc = wb_cgroup_destroy(cg, &err);
        wb_cgroup_free(cg);
        if (rc < 0) wb_test_fail(__FILE__, __LINE__, "cleanup of %s: %s", id, err.msg);
    } else if (err.code != ENOENT) {
        wb_test_fail(__FILE__, __LINE__, "cleanup: open %s: %s", id, err.msg);
    }
    if (hung) wb_test_fail(__FILE__, __LINE__, "the body hung (40 s)");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        wb_test_fail(__FILE__, __LINE__, "the body failed (status 0x%x)", status);
}

static wb_cgroup *create(const char *id, const char *v2_root, const wb_cgroup_limits *l) {
    wb_error err = {0};
    wb_cgroup *cg = NULL;
    if (v2_root)
        ASSERT_OK(wb__cgroup_create_v2(v2_root, id, l, &cg, &err), err);
    else
        ASSERT_OK(wb_cgroup_create(id, l, &cg, &err), err);
    return cg;
}

static int version_of(const char *v2_root) {
    return v2_root ? 2 : wb_cgroup_version();
}

/* ---- children in the cgroup ---- */

enum child_mode { CHILD_SLEEP, CHILD_SPIN, CHILD_ALLOC };

struct shared {
    volatile uint64_t counter;
    volatile int stop;
};

static struct shared *shared_new(void) {
    void *p = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    ASSERT_TRUE(p != MAP_FAILED);
    return p;
}

/* Fork a child, move it into cg, then let it run `mode` (it dies with its parent). */
static pid_t spawn_in(wb_cgroup *cg, enum child_mode mode, struct shared *sh) {
    int go[2];
    ASSERT_EQ(pipe(go), 0);
    pid_t parent = getpid();
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(1);
        close(go[1]);
        char c;
        if (read(go[0], &c, 1) != 1) _exit(2);
        if (mode == CHILD_SPIN) {
            int64_t end = now_ms() + 20000;
            while (!sh->stop) {
                sh->counter++;
                if ((sh->counter & 0xfffff) == 0 && now_ms() > end) break;
            }
            _exit(0);
        }
        if (mode == CHILD_ALLOC) {
            for (int i = 0; i < 64; i++) {
                char *m = malloc(MIB);
                if (!m) _exit(3);
                memset(m, i + 1, MIB);
            }
            _exit(0);
        }
        for (;;) pause();
    }
    close(go[0]);
    wb_error err = {0};
    ASSERT_OK(wb_cgroup_add(cg, pid, &err), err);
    ASSERT_EQ(write(go[1], "x", 1), 1);
    close(go[1]);
    return pid;
}

static void wait_killed(pid_t pid) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status));
    ASSERT_EQ(WTERMSIG(status), SIGKILL);
}

/* ---- cases ---- */

TEST(cgroup_cpu_weight_as_runc) {
    ASSERT_EQ(wb__cgroup_cpu_weight(0), 100);
    ASSERT_EQ(wb__cgroup_cpu_weight(2), 1);
    ASSERT_EQ(wb__cgroup_cpu_weight(512), 20);
    ASSERT_EQ(wb__cgroup_cpu_weight(1024), 39);
    ASSERT_EQ(wb__cgroup_cpu_weight(262144), 10000);
    ASSERT_EQ(wb__cgroup_cpu_weight(1), 1);
    ASSERT_EQ(wb__cgroup_cpu_weight(1 << 30), 10000);
}

TEST(cgroup_v1_layout_from_mountinfo) {
    /* combined cpu,cpuacct (the usual systemd layout), an escaped space, optional fields, a
     * second mount of the memory hierarchy (ignored), cgroup2 and name=systemd (not ours) */
    static const char mountinfo[] =
        "25 1 0:22 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n"
        "30 25 0:26 / /sys/fs/cgroup ro shared:9 - tmpfs tmpfs ro,mode=755\n"
        "31 30 0:27 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
        "32 30 0:28 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw,xattr,name=systemd\n"
        "35 30 0:31 / /sys/fs/cgroup/cpu,cpuacct rw shared:14 - cgroup cgroup rw,cpu,cpuacct\n"
        "36 30 0:32 / /sys/fs/cgroup/mem\\040ory rw shared:15 - cgroup cgroup rw,memory\n"
        "37 30 0:33 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
        "38 30 0:34 / /sys/fs/cgroup/freezer rw shared:17 master:3 - cgroup cgroup rw,freezer\n"
        "90 1 0:32 / /mnt/again rw - cgroup cgroup rw,memory\n";
    wb_error err = {0};
    wb_cgroup *cg = NULL;
    ASSERT_OK(wb__cgroup_v1_layout(mountinfo, "abc", &cg, &err), err);
    ASSERT_STR_EQ(wb_cgroup_path(cg, "cpu"), "/sys/fs/cgroup/cpu,cpuacct/wasmbox/abc");
    ASSERT_STR_EQ(wb_cgroup_path(cg, "cpuacct"), "/sys/fs/cgroup/cpu,cpuacct/wasmbox/abc");
    ASSERT_STR_EQ(wb_cgroup_path(cg, "memory"), "/sys/fs/cgroup/mem ory/wasmbox/abc");
    ASSERT_STR_EQ(wb_cgroup_path(cg, "pids"), "/sys/fs/cgroup/pids/wasmbox/abc");
    ASSERT_STR_EQ(wb_cgroup_path(cg, "freezer"), "/sys/fs/cgroup/freezer/wasmbox/abc");
    ASSERT_TRUE(wb_cgroup_path(cg, "blkio") == NULL);
    ASSERT_TRUE(wb_cgroup_path(cg, "systemd") == NULL);
    wb_cgroup_free(cg);
    ASSERT_EQ(wb__cgroup_v1_layout("31 30 0:27 / /x rw - cgroup2 cgroup2 rw\n", "abc", &cg, &err),
              -1);
    ASSERT_TRUE(cg == NULL);
}

TEST(cgroup_version_detected) {
    int v = wb_cgroup_version();
    if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
        ASSERT_EQ(v, 2);
    else if (access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0)
        ASSERT_EQ(v, 1);
    else if (v == 0)
        SKIP("no cgroup file system under /sys/fs/cgroup");
}

TEST(cgroup_bad_ids_and_limits) {
    wb_error err = {0};
    wb_cgroup *cg = NULL;
    ASSERT_EQ(wb_cgroup_create("../escape", NULL, &cg, &err), -1);
    ASSERT_EQ(err.code, EINVAL);
    ASSERT_EQ(wb_cgroup_create("", NULL, &cg, &err), -1);
    ASSERT_EQ(wb_cgroup_open("a/b", &cg, &err), -1);
    ASSERT_EQ(err.code, EINVAL);
    ASSERT_TRUE(cg == NULL);
    /* checked before anything is created */
    wb_cgroup_limits swap_only = {.memory_swap = 10 * MIB};
    ASSERT_EQ(wb_cgroup_create("wbtest-invalid", &swap_only, &cg, &err), -1);
    ASSERT_EQ(err.code, EINVAL);
    wb_cgroup_limits swap_small = {.memory = 20 * MIB, .memory_swap = 10 * MIB};
    ASSERT_EQ(wb_cgroup_create("wbtest-invalid", &swap_small, &cg, &err), -1);
    ASSERT_EQ(err.code, EINVAL);
}

TEST(cgroup_open_missing) {
    need_cgroups();
    char id[64];
    snprintf(id, sizeof id, "wbtest-%d-none", (int)getpid());
    wb_error err = {0};
    wb_cgroup *cg = NULL;
    ASSERT_EQ(wb_cgroup_open(id, &cg, &err), -1);
    ASSERT_EQ(err.code, ENOENT);
}

static void body_limits(const char *id, const char *v2_root) {
    wb_cgroup_limits l = {
        .memory = 64 * MIB, .nano_cpus = 1500000000, .cpu_shares = 512, .pids_limit = 100};
    wb_cgroup *cg = create(id, v2_root, &l);
    char buf[256];
    if (version_of(v2_root) == 1) {
        const char *mem = wb_cgroup_path(cg, "memory"), *cpu = wb_cgroup_path(cg, "cpu");
        const char *pids = wb_cgroup_path(cg, "pids");
        ASSERT_TRUE(mem && cpu && pids && wb_cgroup_path(cg, "cpuacct"));
        ASSERT_STR_CONTAINS(mem, "/wasmbox/");
        ASSERT_EQ(read_ll(mem, "memory.limit_in_bytes"), 64 * MIB);
        if (exists(mem, "memory.memsw.limit_in_bytes")) /* Docker's default: twice --memory */
            ASSERT_EQ(read_ll(mem, "memory.memsw.limit_in_bytes"), 128 * MIB);
        ASSERT_EQ(read_ll(cpu, "cpu.cfs_period_us"), 100000);
        ASSERT_EQ(read_ll(cpu, "cpu.cfs_quota_us"), 150000);
        ASSERT_EQ(read_ll(cpu, "cpu.shares"), 512);
        ASSERT_EQ(read_ll(pids, "pids.max"), 100);
    } else {
        const char *dir = wb_cgroup_path(cg, NULL);
        ASSERT_EQ(read_ll(dir, "memory.max"), 64 * MIB);
        if (exists(dir, "memory.swap.max")) ASSERT_EQ(read_ll(dir, "memory.swap.max"), 64 * MIB);
        read_str(dir, "cpu.max", buf, sizeof buf);
        ASSERT_STR_EQ(buf, "150000 100000");
        ASSERT_EQ(read_ll(dir, "cpu.weight"), 20);
        ASSERT_EQ(read_ll(dir, "pids.max"), 100);
    }
    char first[1100];
    snprintf(first, sizeof first, "%s", wb_cgroup_path(cg, "memory"));
    wb_cgroup_free(cg);

    /* a leftover is reused, its old limits replaced (defaults included) */
    wb_cgroup_limits again = {.memory = 32 * MIB, .memory_swap = -1};
    cg = create(id, v2_root, &again);
    ASSERT_STR_EQ(wb_cgroup_path(cg, "memory"), first);
    if (version_of(v2_root) == 1) {
        const char *mem = wb_cgroup_path(cg, "memory"), *cpu = wb_cgroup_path(cg, "cpu");
        ASSERT_EQ(read_ll(mem, "memory.limit_in_bytes"), 32 * MIB);
        if (exists(mem, "memory.memsw.limit_in_bytes"))
            ASSERT_TRUE(read_ll(mem, "memory.memsw.limit_in_bytes") > (1LL << 60));
        ASSERT_EQ(read_ll(cpu, "cpu.cfs_quota_us"), -1);
        ASSERT_EQ(read_ll(cpu, "cpu.shares"), 1024);
        read_str(wb_cgroup_path(cg, "pids"), "pids.max", buf, sizeof buf);
        ASSERT_STR_EQ(buf, "max");
    } else {
        const char *dir = wb_cgroup_path(cg, NULL);
        ASSERT_EQ(read_ll(dir, "memory.max"), 32 * MIB);
        if (exists(dir, "memory.swap.max")) {
            read_str(dir, "memory.swap.max", buf, sizeof buf);
            ASSERT_STR_EQ(buf, "max");
        }
        read_str(dir, "cpu.max", buf, sizeof buf);
        ASSERT_STR_EQ(buf, "max 100000");
        ASSERT_EQ(read_ll(dir, "cpu.weight"), 100);
    }
    wb_cgroup_free(cg);

    /* the kernel refuses a quota below 1 ms: the error names the value and the file, and the
     * empty cgroup is removed */
    wb_cgroup_limits tiny = {.nano_cpus = 1000000};
    wb_error err = {0};
    ASSERT_EQ(wb_cgroup_create(id, &tiny, &cg, &err), -1);
    ASSERT_EQ(err.code, EINVAL);
    ASSERT_STR_CONTAINS(err.msg, "write 100 ");
    ASSERT_STR_CONTAINS(err.msg, version_of(v2_root) == 1 ? "/cpu.cfs_quota_us: " : "/cpu.max: ");
    ASSERT_STR_CONTAINS(err.msg, id);
    ASSERT_EQ(wb_cgroup_open(id, &cg, &err), -1);
    ASSERT_EQ(err.code, ENOENT);
}

TEST(cgroup_limits_written_and_reused) {
    need_cgroups();
    run_with_cleanup("limits", NULL, body_limits);
}

static void body_add(const char *id, const char *v2_root) {
    wb_cgroup *cg = create(id, v2_root, NULL);
    pid_t pid = spawn_in(cg, CHILD_SLEEP, NULL);
    wb_error err = {0};
    pid_t *pids = NULL;
    size_t n = 0;
    ASSERT_OK(wb_cgroup_pids(cg, &pids, &n, &err), err);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(pids[0], pid);
    free(pids);
    /* in every hierarchy (v1) */
    char want[32], buf[4096];
    snprintf(want, sizeof want, "%d", (int)pid);
    static const char *const names[] = {"memory", "pids", "cpu", "cpuacct", "freezer", "blkio"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *dir = wb_cgroup_path(cg, names[i]);
        if (!dir) continue;
        read_str(dir, "cgroup.procs", buf, sizeof buf);
        ASSERT_STR_EQ(buf, want);
    }
    snprintf(buf, sizeof buf, "/proc/%d", (int)pid);
    char self_cg[4096];
    read_str(buf, "cgroup", self_cg, sizeof self_cg);
    snprintf(buf, sizeof buf, "/wasmbox/%s", id);
    ASSERT_STR_CONTAINS(self_cg, buf);

    kill(pid, SIGKILL);
    wait_killed(pid);
    ASSERT_OK(wb_cgroup_pids(cg, &pids, &n, &err), err);
    ASSERT_EQ(n, 0);
    free(pids);
    ASSERT_OK(wb_cgroup_destroy(cg, &err), err);
    wb_cgroup_free(cg);
}

TEST(cgroup_add_and_pids) {
    need_cgroups();
    run_with_cleanup("add", NULL, body_add);
}

static void body_oom(const char *id, const char *v2_root) {
    /* memory+swap = memory: swap cannot absorb the excess */
    wb_cgroup_limits l = {.memory = 8 * MIB, .memory_swap = 8 * MIB};
    wb_cgroup *cg = create(id, v2_root, &l);
    pid_t pid = spawn_in(cg, CHILD_ALLOC, NULL);
    wait_killed(pid);
    wb_error err = {0};
    wb_cgroup_stats st;
    ASSERT_OK(wb_cgroup_stats_read(cg, &st, &err), err);
    ASSERT_GE(st.oom_kills, 1);
    ASSERT_EQ(st.memory_limit, 8 * MIB);
    wb_cgroup_free(cg);
}

TEST(cgroup_memory_limit_oom_kills) {
    need_cgroups();
    run_with_cleanup("oom", NULL, body_oom);
}

/* freeze, see the spinning child stop, thaw, see it go on */
static void check_freeze(wb_cgroup *cg, struct shared *sh, int version) {
    for (int64_t end = now_ms() + 5000; sh->counter == 0 && now_ms() < end;) sleep_ms(5);
    ASSERT_TRUE(sh->counter > 0);
    wb_error err = {0};
    char buf[256];
    ASSERT_OK(wb_cgroup_freeze(cg, true, &err), err);
    if (version == 1) {
        read_str(wb_cgroup_path(cg, "freezer"), "freezer.state", buf, sizeof buf);
        ASSERT_STR_EQ(buf, "FROZEN");
    } else {
        read_str(wb_cgroup_path(cg, NULL), "cgroup.events", buf, sizeof buf);
        ASSERT_STR_CONTAINS(buf, "frozen 1");
    }
    uint64_t c1 = sh->counter;
    sleep_ms(150);
    ASSERT_U64_EQ(sh->counter, c1);
    ASSERT_OK(wb_cgroup_freeze(cg, false, &err), err);
    if (version == 1) {
        read_str(wb_cgroup_path(cg, "freezer"), "freezer.state", buf, sizeof buf);
        ASSERT_STR_EQ(buf, "THAWED");
    }
    for (int64_t end = now_ms() + 5000; sh->counter == c1 && now_ms() < end;) sleep_ms(5);
    ASSERT_TRUE(sh->counter > c1);
}

static void body_freeze(const char *id, const char *v2_root) {
    wb_cgroup_limits l = {.nano_cpus = 500000000}; /* half a CPU: the spinner stays modest */
    wb_cgroup *cg = create(id, v2_root, v2_root ? NULL : &l);
    struct shared *sh = shared_new();
    pid_t pid = spawn_in(cg, CHILD_SPIN, sh);
    check_freeze(cg, sh, version_of(v2_root));
    sh->stop = 1;
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    wb_cgroup_free(cg);
}

TEST(cgroup_freeze_and_thaw) {
    need_cgroups();
    run_with_cleanup("freeze", NULL, body_freeze);
}

static void body_stats(const char *id, const char *v2_root) {
    wb_cgroup_limits l = {.memory = 64 * MIB, .nano_cpus = 500000000, .pids_limit = 50};
    wb_cgroup *cg = create(id, v2_root, &l);
    struct shared *sh = shared_new();
    pid_t pid = spawn_in(cg, CHILD_SPIN, sh);
    wb_error err = {0};
    wb_cgroup_stats s0, s1;
    ASSERT_OK(wb_cgroup_stats_read(cg, &s0, &err), err);
    int64_t t0 = now_ms();
    sleep_ms(400);
    ASSERT_OK(wb_cgroup_stats_read(cg, &s1, &err), err);
    int64_t elapsed_ns = (now_ms() - t0) * 1000000;
    ASSERT_TRUE(s1.cpu_usage_ns > s0.cpu_usage_ns);
    /* half a CPU: well below the wall time (a burst of one period allowed) */
    ASSERT_LT((int64_t)(s1.cpu_usage_ns - s0.cpu_usage_ns), elapsed_ns * 8 / 10);
    ASSERT_GE((int64_t)(s1.cpu_usage_ns - s0.cpu_usage_ns), 10000000);
    ASSERT_EQ(s1.pids, 1);
    ASSERT_EQ(s1.pids_limit, 50);
    ASSERT_EQ(s1.memory_limit, 64 * MIB);
    ASSERT_TRUE(s1.memory_usage > 0 && s1.memory_usage < 64 * MIB);
    ASSERT_EQ(s1.oom_kills, 0);
    sh->stop = 1;
    waitpid(pid, NULL, 0);
    wb_cgroup_free(cg);

    /* unlimited: the host's memory, no pids limit */
    cg = create(id, v2_root, NULL);
    ASSERT_OK(wb_cgroup_stats_read(cg, &s1, &err), err);
    ASSERT_U64_EQ(s1.memory_limit, mem_total());
    ASSERT_EQ(s1.pids_limit, 0);
    ASSERT_EQ(s1.pids, 0);
    wb_cgroup_free(cg);
}

TEST(cgroup_stats_plausible) {
    need_cgroups();
    run_with_cleanup("stats", NULL, body_stats);
}

static void body_destroy(const char *id, const char *v2_root) {
    wb_cgroup *cg = create(id, v2_root, NULL);
    pid_t a = spawn_in(cg, CHILD_SLEEP, NULL), b = spawn_in(cg, CHILD_SLEEP, NULL);
    wb_error err = {0};
    pid_t c = -1;
    const char *freezer = wb_cgroup_path(cg, "freezer");
    if (version_of(v2_root) == 1 && freezer) {
        /* a process in only one of the v1 hierarchies is found too */
        pid_t parent = getpid();
        c = fork();
        ASSERT_TRUE(c >= 0);
        if (c == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) _exit(1);
            for (;;) pause();
        }
        char path[1200], val[32];
        snprintf(path, sizeof path, "%s/cgroup.procs", freezer);
        snprintf(val, sizeof val, "%d", (int)c);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, val, strlen(val)), (long long)strlen(val));
        close(fd);
    }
    ASSERT_OK(wb_cgroup_freeze(cg, true, &err), err); /* frozen, too */
    static const char *const names[] = {"memory", "pids", "cpu", "cpuacct", "freezer", "blkio"};
    char dirs[6][1100];
    size_t ndirs = 0;
    for (size_t i = 0; i < 6; i++) {
        const char *d = wb_cgroup_path(cg, names[i]);
        if (d) snprintf(dirs[ndirs++], sizeof dirs[0], "%s", d);
    }
    ASSERT_TRUE(ndirs > 0);
    ASSERT_OK(wb_cgroup_destroy(cg, &err), err);
    wb_cgroup_free(cg);
    for (size_t i = 0; i < ndirs; i++) {
        errno = 0;
        if (access(dirs[i], F_OK) == 0 || errno != ENOENT)
            wb_test_fail(__FILE__, __LINE__, "%s still exists", dirs[i]);
    }
    wait_killed(a);
    wait_killed(b);
    if (c > 0) wait_killed(c);
    cg = NULL;
    int rc = v2_root ? wb__cgroup_open_v2(v2_root, id, &cg, &err) : wb_cgroup_open(id, &cg, &err);
    ASSERT_EQ(rc, -1);
    ASSERT_EQ(err.code, ENOENT);
}

TEST(cgroup_destroy_kills_and_removes) {
    need_cgroups();
    run_with_cleanup("destroy", NULL, body_destroy);
}

/* ---- v2 code on a hybrid host's unified hierarchy ---- */

static void need_hybrid_unified(void) {
    if (geteuid() != 0) SKIP("the cgroup tests need root");
    if (wb_cgroup_version() == 2) SKIP("a v2 host: the cases above ran on v2");
    if (access(HYBRID_UNIFIED "/cgroup.controllers", F_OK) != 0)
        SKIP("no cgroup2 mount at " HYBRID_UNIFIED);
}

static void body_v2_core(const char *id, const char *v2_root) {
    /* no memory controller on this hierarchy: a memory limit is refused by name */
    wb_cgroup_limits mem = {.memory = 16 * MIB};
    wb_cgroup *cg = NULL;
    wb_error err = {0};
    ASSERT_EQ(wb__cgroup_create_v2(v2_root, id, &mem, &cg, &err), -1);
    ASSERT_EQ(err.code, ENOTSUP);
    ASSERT_STR_CONTAINS(err.msg, "memory");

    cg = create(id, v2_root, NULL);
    ASSERT_STR_EQ(wb_cgroup_path(cg, "memory"), wb_cgroup_path(cg, NULL));
    ASSERT_STR_CONTAINS(wb_cgroup_path(cg, NULL), HYBRID_UNIFIED "/wasmbox/");
    struct shared *sh = shared_new();
    pid_t spinner = spawn_in(cg, CHILD_SPIN, sh);
    pid_t sleeper = spawn_in(cg, CHILD_SLEEP, NULL);
    pid_t *pids = NULL;
    size_t n = 0;
    ASSERT_OK(wb_cgroup_pids(cg, &pids, &n, &err), err);
    ASSERT_EQ(n, 2);
    ASSERT_EQ(pids[0], spinner < sleeper ? spinner : sleeper);
    free(pids);
    check_freeze(cg, sh, 2);
    wb_cgroup_stats st;
    ASSERT_OK(wb_cgroup_stats_read(cg, &st, &err), err);
    ASSERT_TRUE(st.cpu_usage_ns > 0);
    ASSERT_EQ(st.pids, 2);
    ASSERT_U64_EQ(st.memory_limit, mem_total());
    /* destroy with both alive (and the cgroup frozen) */
    ASSERT_OK(wb_cgroup_freeze(cg, true, &err), err);
    char dir[1100];
    snprintf(dir, sizeof dir, "%s", wb_cgroup_path(cg, NULL));
    ASSERT_OK(wb_cgroup_destroy(cg, &err), err);
    wb_cgroup_free(cg);
    ASSERT_TRUE(access(dir, F_OK) != 0);
    wait_killed(spinner);
    wait_killed(sleeper);
}

TEST(cgroup_v2_core_on_hybrid_unified) {
    need_hybrid_unified();
    run_with_cleanup("v2core", HYBRID_UNIFIED, body_v2_core);
}
