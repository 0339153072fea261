/* runtime/cgroup.c — a container's control group on cgroup v1 (a directory per controller
 * hierarchy, found in /proc/self/mountinfo) or v2 (one directory in the unified hierarchy).
 * Plain libc and system calls only: the static musl core links it too. */
#include "runtime/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fsutil.h"

#define CG_ROOT       "/sys/fs/cgroup"
#define CG_PARENT     "wasmbox"
#define CG_PATH_MAX   1024
#define CG_PERIOD_US  100000 /* CFS period for --cpus, as Docker */
#define CG_WAIT_MS    5000   /* how long freeze and destroy wait for the kernel */
#define CG_TEXT_MAX   (4u << 20)
#define CG_MOUNTS_MAX (16u << 20)

/* v1 controllers we use, in the order in which a process joins them */
enum cg_ctrl { CG_MEMORY, CG_PIDS, CG_CPU, CG_CPUACCT, CG_FREEZER, CG_BLKIO, CG_NCTRL };
static const char *const cg_v1_names[CG_NCTRL] = {"memory",  "pids",    "cpu",
                                                  "cpuacct", "freezer", "blkio"};

/* v2 controllers we enable, as named in cgroup.controllers */
enum { CG_V2_MEMORY = 1, CG_V2_PIDS = 2, CG_V2_CPU = 4, CG_V2_IO = 8 };
static const struct {
    const char *name;
    unsigned bit;
} cg_v2_ctrls[] = {
    {"memory", CG_V2_MEMORY}, {"pids", CG_V2_PIDS}, {"cpu", CG_V2_CPU}, {"io", CG_V2_IO}};

struct wb_cgroup {
    int version;
    /* v1: the container's directory in each controller's hierarchy, "" when that controller is
     * not mounted; controllers mounted together ("cpu,cpuacct") have equal strings. v2: dir[0]
     * is the one directory. */
    char dir[CG_NCTRL][CG_PATH_MAX];
    unsigned v2_ctrls; /* v2: the controllers enabled for it (CG_V2_*) */
};

/* ---- files ---- */

/* Read a whole cgroup or proc file (their st_size is 0, so read to the end), at most `max`
 * bytes; the caller frees *out, which is NUL-terminated. errno is kept on failure. */
static int read_text(const char *path, size_t max, char **out, wb_error *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return wb_error_sys(err, "read %s", path);
    size_t cap = 4096, len = 0;
    char *buf = wb_malloc(cap);
    for (;;) {
        if (len + 1 >= cap) {
            if (cap >= max) {
                free(buf);
                close(fd);
                errno = EFBIG;
                return wb_error_sys(err, "read %s", path);
            }
            cap *= 2;
            buf = wb_realloc(buf, cap);
        }
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int saved = errno;
            free(buf);
            close(fd);
            errno = saved;
            return wb_error_sys(err, "read %s", path);
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    *out = buf;
    return 0;
}

static int file_path(char *buf, size_t size, const char *dir, const char *file, wb_error *err) {
    return wb_path_join(buf, size, err, "%s/%s", dir, file);
}

static bool file_exists(const char *dir, const char *file) {
    char path[CG_PATH_MAX + 64];
    if (file_path(path, sizeof path, dir, file, NULL) < 0) return false;
    return access(path, F_OK) == 0;
}

/* Write `value` to dir/file; the error names both ("write 8388608 to /sys/…: Invalid argument"). */
static int cg_write(const char *dir, const char *file, const char *value, wb_error *err) {
    char path[CG_PATH_MAX + 64];
    if (file_path(path, sizeof path, dir, file, err) < 0) return -1;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return wb_error_sys(err, "write %s to %s", value, path);
    size_t len = strlen(value);
    ssize_t n;
    do n = write(fd, value, len);
    while (n < 0 && errno == EINTR);
    int saved = n < 0 ? errno : EIO;
    close(fd);
    if (n != (ssize_t)len) {
        errno = saved;
        return wb_error_sys(err, "write %s to %s", value, path);
    }
    return 0;
}

static int cg_write_i64(const char *dir, const char *file, int64_t v, wb_error *err) {
    char val[32];
    snprintf(val, sizeof val, "%" PRId64, v);
    return cg_write(dir, file, val, err);
}

static int cg_read(const char *dir, const char *file, char **out, wb_error *err) {
    char path[CG_PATH_MAX + 64];
    if (file_path(path, sizeof path, dir, file, err) < 0) return -1;
    return read_text(path, CG_TEXT_MAX, out, err);
}

/* A file holding one number ("max" reads as UINT64_MAX). */
static int cg_read_u64(const char *dir, const char *file, uint64_t *v, wb_error *err) {
    char *text = NULL;
    if (cg_read(dir, file, &text, err) < 0) return -1;
    char *end;
    errno = 0;
    if (strncmp(text, "max", 3) == 0) {
        *v = UINT64_MAX;
    } else {
        *v = strtoull(text, &end, 10);
        if (errno || end == text) {
            free(text);
            return wb_error_set(err, EINVAL, "read %s/%s: not a number", dir, file);
        }
    }
    free(text);
    return 0;
}

/* The value of "key N" at the start of a line of a flat-keyed file (memory.stat, cpu.stat,
 * memory.events, memory.oom_control). */
static bool keyed_u64(const char *text, const char *key, uint64_t *v) {
    size_t klen = strlen(key);
    for (const char *line = text; *line;) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
            *v = strtoull(line + klen + 1, NULL, 10);
            return true;
        }
        const char *eol = strchr(line, '\n');
        if (!eol) break;
        line = eol + 1;
    }
    return false;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ids become path components: refuse anything that could leave the wasmbox directory */
static int check_id(const char *id, wb_error *err) {
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > 128 || id[0] == '.')
        return wb_error_set(err, EINVAL, "invalid container id for a cgroup: `%.140s`",
                            id ? id : "");
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return wb_error_set(err, EINVAL, "invalid container id for a cgroup: `%s`", id);
    }
    return 0;
}

/* ---- v1 mounts ---- */

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void unescape_octal(char *s) {
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 3;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

/* The mount point of each v1 controller's hierarchy ("" when not mounted), from the text of a
 * mountinfo file (modified in place): the super options of a "cgroup" mount list its
 * controllers, so combined mounts ("cpu,cpuacct") and their symlinks need no guessing. The first
 * mount of a hierarchy wins. */
static void v1_parse_mounts(char *text, char mnt[CG_NCTRL][CG_PATH_MAX]) {
    for (int i = 0; i < CG_NCTRL; i++) mnt[i][0] = '\0';
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *sep = strstr(line, " - ");
        if (!sep) continue;
        *sep = '\0';
        char *after = sep + 3, *s2 = NULL;
        char *fstype = strtok_r(after, " ", &s2);
        char *source = fstype ? strtok_r(NULL, " ", &s2) : NULL;
        char *opts = source ? strtok_r(NULL, " ", &s2) : NULL;
        if (!opts || strcmp(fstype, "cgroup") != 0) continue;
        /* before " - ": id parent major:minor root mountpoint options [optional fields] */
        char *s1 = NULL, *point = strtok_r(line, " ", &s1);
        for (int f = 1; f < 5 && point; f++) point = strtok_r(NULL, " ", &s1);
        if (!point) continue;
        unescape_octal(point);
        char *s3 = NULL;
        for (char *o = strtok_r(opts, ",", &s3); o; o = strtok_r(NULL, ",", &s3)) {
            for (int i = 0; i < CG_NCTRL; i++) {
                if (strcmp(o, cg_v1_names[i]) != 0 || mnt[i][0]) continue;
                if (wb_path_join(mnt[i], CG_PATH_MAX, NULL, "%s", point) < 0) mnt[i][0] = '\0';
            }
        }
    }
}

static int v1_mounts(char mnt[CG_NCTRL][CG_PATH_MAX], wb_error *err) {
    char *text = NULL;
    if (read_text("/proc/self/mountinfo", CG_MOUNTS_MAX, &text, err) < 0) return -1;
    v1_parse_mounts(text, mnt);
    free(text);
    return 0;
}

/* distinct directories: the first controller that has this one */
static bool v1_first_of_dir(const wb_cgroup *cg, int i) {
    if (!cg->dir[i][0]) return false;
    for (int j = 0; j < i; j++)
        if (strcmp(cg->dir[j], cg->dir[i]) == 0) return false;
    return true;
}

/* the unified hierarchy's root when the host is v2, else NULL (v1) */
static const char *host_v2_root(void) {
    return access(CG_ROOT "/cgroup.controllers", F_OK) == 0 ? CG_ROOT : NULL;
}

int wb_cgroup_version(void) {
    if (host_v2_root()) return 2;
    char mnt[CG_NCTRL][CG_PATH_MAX];
    if (v1_mounts(mnt, NULL) < 0) return 0;
    for (int i = 0; i < CG_NCTRL; i++)
        if (mnt[i][0]) return 1;
    return 0;
}

/* ---- limits ---- */

int64_t wb__cgroup_cpu_weight(int64_t shares) {
    if (shares <= 0) return 100; /* the kernel's default, as cpu.shares 1024 on v1 */
    if (shares < 2) shares = 2;  /* the range the v1 kernel clamps cpu.shares to */
    if (shares > 262144) shares = 262144;
    return 1 + ((shares - 2) * 9999) / 262142; /* runc's conversion */
}

/* The memory+swap total Docker would set: -1 for unlimited. */
static int memsw_total(const wb_cgroup_limits *l, int64_t *total, wb_error *err) {
    if (l->memory < 0 || l->memory_swap < -1 || l->nano_cpus < 0 || l->cpu_shares < 0 ||
        l->pids_limit < -1)
        return wb_error_set(err, EINVAL, "invalid cgroup limits (negative value)");
    if (l->memory == 0) {
        if (l->memory_swap > 0)
            return wb_error_set(err, EINVAL,
                                "a memory+swap limit needs a memory limit (--memory-swap without "
                                "--memory)");
        *total = -1;
    } else if (l->memory_swap == 0) {
        *total = l->memory > INT64_MAX / 2 ? -1 : 2 * l->memory;
    } else if (l->memory_swap == -1) {
        *total = -1;
    } else {
        if (l->memory_swap < l->memory)
            return wb_error_set(err, EINVAL,
                                "the memory+swap limit (%" PRId64
                                ") is smaller than the memory limit (%" PRId64 ")",
                                l->memory_swap, l->memory);
        *total = l->memory_swap;
    }
    return 0;
}

static int v1_missing(const char *flag, const char *ctrl, wb_error *err) {
    return wb_error_set(err, ENOTSUP, "%s: the %s cgroup controller is not mounted", flag, ctrl);
}

/* Every limit is written, defaults included, so that a reused cgroup loses its old ones. */
static int v1_apply(wb_cgroup *cg, const wb_cgroup_limits *l, wb_error *err) {
    int64_t total;
    if (memsw_total(l, &total, err) < 0) return -1;
    const char *mem = cg->dir[CG_MEMORY], *cpu = cg->dir[CG_CPU], *pids = cg->dir[CG_PIDS];
    if (l->memory > 0 && !mem[0]) return v1_missing("--memory", "memory", err);
    if ((l->nano_cpus > 0 || l->cpu_shares > 0) && !cpu[0])
        return v1_missing(l->nano_cpus > 0 ? "--cpus" : "--cpu-shares", "cpu", err);
    if (l->pids_limit > 0 && !pids[0]) return v1_missing("--pids-limit", "pids", err);
    if (mem[0]) {
        /* memsw must never be below limit_in_bytes: lift it, set the limit, then set it. Without
         * swap accounting there is no memsw file and --memory-swap has no effect (Docker warns). */
        bool memsw = file_exists(mem, "memory.memsw.limit_in_bytes");
        if (memsw && cg_write(mem, "memory.memsw.limit_in_bytes", "-1", err) < 0) return -1;
        if (cg_write_i64(mem, "memory.limit_in_bytes", l->memory > 0 ? l->memory : -1, err) < 0)
            return -1;
        if (memsw && total != -1 &&
            cg_write_i64(mem, "memory.memsw.limit_in_bytes", total, err) < 0)
            return -1;
    }
    if (cpu[0]) {
        if (cg_write_i64(cpu, "cpu.cfs_period_us", CG_PERIOD_US, err) < 0 ||
            cg_write_i64(cpu, "cpu.cfs_quota_us",
                         l->nano_cpus > 0 ? l->nano_cpus / (1000000000 / CG_PERIOD_US) : -1,
                         err) < 0 ||
            cg_write_i64(cpu, "cpu.shares", l->cpu_shares > 0 ? l->cpu_shares : 1024, err) < 0)
            return -1;
    }
    if (pids[0]) {
        if (l->pids_limit > 0 ? cg_write_i64(pids, "pids.max", l->pids_limit, err) < 0
                              : cg_write(pids, "pids.max", "max", err) < 0)
            return -1;
    }
    return 0;
}

static int v2_apply(wb_cgroup *cg, const wb_cgroup_limits *l, wb_error *err) {
    int64_t total;
    if (memsw_total(l, &total, err) < 0) return -1;
    const char *dir = cg->dir[0];
    const char *flag = l->memory > 0       ? "--memory"
                       : l->nano_cpus > 0  ? "--cpus"
                       : l->cpu_shares > 0 ? "--cpu-shares"
                                           : "--pids-limit";
    unsigned need = (l->memory > 0 ? CG_V2_MEMORY : 0u) |
                    (l->nano_cpus > 0 || l->cpu_shares > 0 ? CG_V2_CPU : 0u) |
                    (l->pids_limit > 0 ? CG_V2_PIDS : 0u);
    if (need & ~cg->v2_ctrls) {
        for (size_t i = 0; i < sizeof cg_v2_ctrls / sizeof cg_v2_ctrls[0]; i++)
            if (need & ~cg->v2_ctrls & cg_v2_ctrls[i].bit) flag = cg_v2_ctrls[i].name;
        return wb_error_set(err, ENOTSUP,
                            "the %s cgroup controller is not available in %s/cgroup.controllers",
                            flag, dir);
    }
    char val[64];
    if (cg->v2_ctrls & CG_V2_MEMORY) {
        if (l->memory > 0 ? cg_write_i64(dir, "memory.max", l->memory, err) < 0
                          : cg_write(dir, "memory.max", "max", err) < 0)
            return -1;
        /* absent without swap accounting: --memory-swap then has no effect, as with Docker */
        if (file_exists(dir, "memory.swap.max")) {
            if (total == -1 ? cg_write(dir, "memory.swap.max", "max", err) < 0
                            : cg_write_i64(dir, "memory.swap.max", total - l->memory, err) < 0)
                return -1;
        }
    }
    if (cg->v2_ctrls & CG_V2_CPU) {
        if (l->nano_cpus > 0)
            snprintf(val, sizeof val, "%" PRId64 " %d", l->nano_cpus / (1000000000 / CG_PERIOD_US),
                     CG_PERIOD_US);
        else
            snprintf(val, sizeof val, "max %d", CG_PERIOD_US);
        if (cg_write(dir, "cpu.max", val, err) < 0 ||
            cg_write_i64(dir, "cpu.weight", wb__cgroup_cpu_weight(l->cpu_shares), err) < 0)
            return -1;
    }
    if (cg->v2_ctrls & CG_V2_PIDS) {
        if (l->pids_limit > 0 ? cg_write_i64(dir, "pids.max", l->pids_limit, err) < 0
                              : cg_write(dir, "pids.max", "max", err) < 0)
            return -1;
    }
    return 0;
}

/* ---- create, open ---- */

static int make_dir(const char *path, wb_error *err) {
    if (mkdir(path, 0755) == 0 || errno == EEXIST) return 0;
    if (errno == ENOENT) return wb_mkdir_p(path, 0755, err);
    return wb_error_sys(err, "mkdir %s", path);
}

/* best effort, for a create that failed half-way (a leftover with processes stays) */
static void remove_dirs(wb_cgroup *cg) {
    for (int i = 0; i < CG_NCTRL; i++)
        if (v1_first_of_dir(cg, i)) rmdir(cg->dir[i]);
}

/* rel: the cgroup's path under each hierarchy's root ("wasmbox/<id>", or a spec's path) */
static int v1_init(wb_cgroup *cg, const char *mountinfo, const char *rel, bool create,
                   wb_error *err) {
    char mnt[CG_NCTRL][CG_PATH_MAX];
    if (mountinfo) {
        char *text = wb_strdup(mountinfo);
        v1_parse_mounts(text, mnt);
        free(text);
    } else if (v1_mounts(mnt, err) < 0) {
        return -1;
    }
    bool any = false;
    for (int i = 0; i < CG_NCTRL; i++) {
        if (!mnt[i][0]) continue;
        if (wb_path_join(cg->dir[i], CG_PATH_MAX, err, "%s/%s", mnt[i], rel) < 0) return -1;
        if (create) {
            if (!mountinfo && make_dir(cg->dir[i], err) < 0) return -1;
        } else if (access(cg->dir[i], F_OK) != 0) {
            cg->dir[i][0] = '\0';
            continue;
        }
        any = true;
    }
    if (!any && create) return wb_error_set(err, ENOTSUP, "no cgroup file system is mounted");
    if (!any) return wb_error_set(err, ENOENT, "no cgroup %s", rel);
    return 0;
}

/* The controllers (of those we use) listed in dir/cgroup.controllers or cgroup.subtree_control. */
static int v2_list(const char *dir, const char *file, unsigned *set, wb_error *err) {
    char *text = NULL;
    if (cg_read(dir, file, &text, err) < 0) return -1;
    *set = 0;
    char *save = NULL;
    for (char *w = strtok_r(text, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
        for (size_t i = 0; i < sizeof cg_v2_ctrls / sizeof cg_v2_ctrls[0]; i++)
            if (strcmp(w, cg_v2_ctrls[i].name) == 0) *set |= cg_v2_ctrls[i].bit;
    free(text);
    return 0;
}

/* Enable `want` for dir's children. A controller the kernel refuses (e.g. cpu while real-time
 * tasks sit in the root) is dropped, and is an error only when a limit needs it. */
static int v2_enable(const char *dir, unsigned want, unsigned need, unsigned *got, wb_error *err) {
    unsigned have;
    if (v2_list(dir, "cgroup.subtree_control", &have, err) < 0) return -1;
    *got = have & want;
    for (size_t i = 0; i < sizeof cg_v2_ctrls / sizeof cg_v2_ctrls[0]; i++) {
        unsigned bit = cg_v2_ctrls[i].bit;
        if (!(want & bit) || (have & bit)) continue;
        char val[16];
        snprintf(val, sizeof val, "+%s", cg_v2_ctrls[i].name);
        wb_error tmp;
        if (cg_write(dir, "cgroup.subtree_control", val, &tmp) == 0) {
            *got |= bit;
        } else if (need & bit) {
            if (err) *err = tmp;
            return -1;
        }
    }
    return 0;
}

static unsigned v2_needed(const wb_cgroup_limits *l) {
    return (l->memory > 0 ? CG_V2_MEMORY : 0u) |
           (l->nano_cpus > 0 || l->cpu_shares > 0 ? CG_V2_CPU : 0u) |
           (l->pids_limit > 0 ? CG_V2_PIDS : 0u);
}

static int v2_init(wb_cgroup *cg, const char *root, const char *rel, const wb_cgroup_limits *l,
                   wb_error *err) {
    if (wb_path_join(cg->dir[0], CG_PATH_MAX, err, "%s/%s", root, rel) < 0) return -1;
    if (l) {
        /* each directory down from the root enables the controllers for the next */
        unsigned avail, got, need = v2_needed(l);
        if (v2_list(root, "cgroup.controllers", &avail, err) < 0) return -1;
        char dir[CG_PATH_MAX];
        if (wb_path_join(dir, sizeof dir, err, "%s", root) < 0) return -1;
        got = avail;
        for (const char *p = rel; *p;) {
            const char *slash = strchr(p, '/');
            size_t n = slash ? (size_t)(slash - p) : strlen(p);
            if (v2_enable(dir, got, need, &got, err) < 0) return -1;
            size_t len = strlen(dir);
            if (len + 1 + n >= sizeof dir)
                return wb_error_set(err, ENAMETOOLONG, "cgroup path too long: %s", rel);
            dir[len] = '/';
            memcpy(dir + len + 1, p, n);
            dir[len + 1 + n] = '\0';
            if (make_dir(dir, err) < 0) return -1;
            p += n + (slash ? 1 : 0);
        }
    } else if (access(cg->dir[0], F_OK) != 0) {
        return wb_error_sys(err, "no cgroup %s: %s", rel, cg->dir[0]);
    }
    return v2_list(cg->dir[0], "cgroup.controllers", &cg->v2_ctrls, err);
}

/* v2_root NULL: v1 (from /proc/self/mountinfo, or the text `mountinfo` for the tests, then
 * nothing is created); l NULL: open an existing one. */
static int create_or_open_at(const char *v2_root, const char *mountinfo, const char *rel,
                             const wb_cgroup_limits *l, wb_cgroup **out, wb_error *err) {
    *out = NULL;
    int64_t total;
    if (l && memsw_total(l, &total, err) < 0) return -1;
    wb_cgroup *cg = wb_calloc(1, sizeof *cg);
    cg->version = v2_root ? 2 : 1;
    int rc =
        v2_root ? v2_init(cg, v2_root, rel, l, err) : v1_init(cg, mountinfo, rel, l != NULL, err);
    if (mountinfo && rc == 0) {
        *out = cg;
        return 0;
    }
    if (rc == 0 && l) rc = v2_root ? v2_apply(cg, l, err) : v1_apply(cg, l, err);
    if (rc < 0) {
        if (l && !mountinfo) remove_dirs(cg);
        free(cg);
        return -1;
    }
    *out = cg;
    return 0;
}

/* A container's: wasmbox/<id>. */
static int create_or_open(const char *v2_root, const char *mountinfo, const char *id,
                          const wb_cgroup_limits *l, wb_cgroup **out, wb_error *err) {
    char rel[CG_PATH_MAX];
    *out = NULL;
    if (check_id(id, err) < 0) return -1;
    if (wb_path_join(rel, sizeof rel, err, CG_PARENT "/%s", id) < 0) return -1;
    return create_or_open_at(v2_root, mountinfo, rel, l, out, err);
}

/* A spec's cgroupsPath: "/a/b" or "a/b" (relative to each hierarchy's root), each component as
 * container IDs are checked (no "..", nothing but [A-Za-z0-9_.-]); normalised into rel. */
static int spec_path(const char *path, char rel[CG_PATH_MAX], wb_error *err) {
    while (*path == '/') path++;
    size_t n = strlen(path);
    while (n && path[n - 1] == '/') n--;
    if (n == 0 || n >= CG_PATH_MAX)
        return wb_error_set(err, EINVAL, "invalid cgroup path: `%.200s`", path);
    memcpy(rel, path, n);
    rel[n] = '\0';
    char copy[CG_PATH_MAX], *save = NULL;
    memcpy(copy, rel, n + 1);
    for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
        if (check_id(c, NULL) < 0)
            return wb_error_set(err, EINVAL, "invalid cgroup path: `%s`", rel);
    if (strstr(rel, "//")) return wb_error_set(err, EINVAL, "invalid cgroup path: `%s`", rel);
    return 0;
}

int wb_cgroup_create_path(const char *path, const wb_cgroup_limits *l, wb_cgroup **out,
                          wb_error *err) {
    static const wb_cgroup_limits none = {0};
    char rel[CG_PATH_MAX];
    *out = NULL;
    if (spec_path(path, rel, err) < 0) return -1;
    return create_or_open_at(host_v2_root(), NULL, rel, l ? l : &none, out, err);
}

int wb_cgroup_open_path(const char *path, wb_cgroup **out, wb_error *err) {
    char rel[CG_PATH_MAX];
    *out = NULL;
    if (spec_path(path, rel, err) < 0) return -1;
    return create_or_open_at(host_v2_root(), NULL, rel, NULL, out, err);
}

int wb_cgroup_create(const char *container_id, const wb_cgroup_limits *l, wb_cgroup **out,
                     wb_error *err) {
    static const wb_cgroup_limits none = {0};
    return create_or_open(host_v2_root(), NULL, container_id, l ? l : &none, out, err);
}

int wb_cgroup_open(const char *container_id, wb_cgroup **out, wb_error *err) {
    return create_or_open(host_v2_root(), NULL, container_id, NULL, out, err);
}

int wb__cgroup_create_v2(const char *root, const char *container_id, const wb_cgroup_limits *l,
                         wb_cgroup **out, wb_error *err) {
    static const wb_cgroup_limits none = {0};
    return create_or_open(root, NULL, container_id, l ? l : &none, out, err);
}

int wb__cgroup_open_v2(const char *root, const char *container_id, wb_cgroup **out, wb_error *err) {
    return create_or_open(root, NULL, container_id, NULL, out, err);
}

int wb__cgroup_v1_layout(const char *mountinfo, const char *container_id, wb_cgroup **out,
                         wb_error *err) {
    static const wb_cgroup_limits none = {0};
    return create_or_open(NULL, mountinfo, container_id, &none, out, err);
}

void wb_cgroup_free(wb_cgroup *cg) {
    free(cg);
}

const char *wb_cgroup_path(const wb_cgroup *cg, const char *controller) {
    if (cg->version == 2) return cg->dir[0];
    for (int i = 0; i < CG_NCTRL; i++)
        if (controller && strcmp(controller, cg_v1_names[i]) == 0)
            return cg->dir[i][0] ? cg->dir[i] : NULL;
    return NULL;
}

int wb_cgroup_oom_fd(wb_cgroup *cg, wb_error *err) {
    const char *mem = cg->version == 1 ? wb_cgroup_path(cg, "memory") : NULL;
    if (!mem)
        return wb_error_set(err, ENOTSUP, "OOM notifications need cgroup v1's memory controller");
    char path[4200];
    if (wb_path_join(path, sizeof path, err, "%s/memory.oom_control", mem) < 0) return -1;
    int ctl = open(path, O_RDONLY | O_CLOEXEC);
    if (ctl < 0) return wb_error_sys(err, "open %s", path);
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    char line[64];
    int n = snprintf(line, sizeof line, "%d %d", efd, ctl);
    int rc = -1;
    if (efd < 0) {
        wb_error_sys(err, "eventfd");
    } else if (wb_path_join(path, sizeof path, err, "%s/cgroup.event_control", mem) == 0) {
        int w = open(path, O_WRONLY | O_CLOEXEC);
        if (w < 0 || write(w, line, (size_t)n) != n)
            wb_error_sys(err, "register for OOM events in %s", path);
        else
            rc = efd;
        if (w >= 0) close(w);
    }
    close(ctl); /* the registration keeps what it needs */
    if (rc < 0 && efd >= 0) close(efd);
    return rc;
}

/* ---- processes ---- */

int wb_cgroup_add(wb_cgroup *cg, pid_t pid, wb_error *err) {
    char val[24];
    snprintf(val, sizeof val, "%d", (int)pid);
    for (int i = 0; i < CG_NCTRL; i++)
        if ((cg->version == 2 ? i == 0 : v1_first_of_dir(cg, i)) &&
            cg_write(cg->dir[i], "cgroup.procs", val, err) < 0)
            return -1;
    return 0;
}

/* the directory whose cgroup.procs lists the processes (every v1 hierarchy has them all) */
static const char *procs_dir(const wb_cgroup *cg) {
    for (int i = 0; i < CG_NCTRL; i++)
        if (cg->dir[i][0]) return cg->dir[i];
    return cg->dir[0];
}

static int cmp_pid(const void *a, const void *b) {
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

int wb_cgroup_pids(wb_cgroup *cg, pid_t **pids, size_t *n, wb_error *err) {
    *pids = NULL;
    *n = 0;
    char *text = NULL;
    if (cg_read(procs_dir(cg), "cgroup.procs", &text, err) < 0) return -1;
    size_t count = 0, cap = 0;
    pid_t *list = NULL;
    for (char *p = text; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        p = end;
        if (v <= 0) continue; /* 0: a process outside our pid namespace */
        WB_VEC_RESERVE(list, cap, count + 1);
        list[count++] = (pid_t)v;
    }
    free(text);
    /* cgroup.procs is neither sorted nor free of duplicates */
    if (count) qsort(list, count, sizeof *list, cmp_pid);
    size_t k = 0;
    for (size_t i = 0; i < count; i++)
        if (k == 0 || list[k - 1] != list[i]) list[k++] = list[i];
    *pids = list;
    *n = k;
    return 0;
}

/* ---- freezer ---- */

static int v1_freeze(wb_cgroup *cg, bool frozen, wb_error *err) {
    const char *dir = cg->dir[CG_FREEZER];
    if (!dir[0]) return v1_missing("pause", "freezer", err);
    const char *want = frozen ? "FROZEN" : "THAWED";
    int64_t deadline = now_ms() + CG_WAIT_MS;
    for (int round = 0;; round++) {
        /* rewriting FROZEN catches tasks that forked into it while it was freezing, as runc */
        if ((round % 10) == 0 && cg_write(dir, "freezer.state", want, err) < 0) return -1;
        char *state = NULL;
        if (cg_read(dir, "freezer.state", &state, err) < 0) return -1;
        bool done = strncmp(state, want, strlen(want)) == 0;
        free(state);
        if (done) return 0;
        if (now_ms() > deadline) {
            if (frozen) cg_write(dir, "freezer.state", "THAWED", NULL);
            return wb_error_set(err, ETIMEDOUT, "%s/freezer.state did not reach %s in %d ms", dir,
                                want, CG_WAIT_MS);
        }
        sleep_ms(round < 10 ? 1 : 10);
    }
}

static int v2_freeze(wb_cgroup *cg, bool frozen, wb_error *err) {
    const char *dir = cg->dir[0];
    if (cg_write(dir, "cgroup.freeze", frozen ? "1" : "0", err) < 0) return -1;
    int64_t deadline = now_ms() + CG_WAIT_MS;
    for (int round = 0;; round++) {
        char *events = NULL;
        uint64_t v = 0;
        if (cg_read(dir, "cgroup.events", &events, err) < 0) return -1;
        bool known = keyed_u64(events, "frozen", &v);
        free(events);
        if (!known) return wb_error_set(err, ENOTSUP, "%s/cgroup.events has no `frozen`", dir);
        if ((v != 0) == frozen) return 0;
        if (now_ms() > deadline) {
            if (frozen) cg_write(dir, "cgroup.freeze", "0", NULL);
            return wb_error_set(err, ETIMEDOUT, "%s/cgroup.events did not show frozen %d in %d ms",
                                dir, frozen, CG_WAIT_MS);
        }
        sleep_ms(round < 10 ? 1 : 10);
    }
}

int wb_cgroup_freeze(wb_cgroup *cg, bool frozen, wb_error *err) {
    return cg->version == 2 ? v2_freeze(cg, frozen, err) : v1_freeze(cg, frozen, err);
}

bool wb_cgroup_frozen(wb_cgroup *cg) {
    char *text = NULL;
    bool frozen = false;
    if (cg->version == 2) {
        uint64_t v = 0;
        if (cg_read(cg->dir[0], "cgroup.events", &text, NULL) == 0)
            frozen = keyed_u64(text, "frozen", &v) && v != 0;
    } else if (cg->dir[CG_FREEZER][0] &&
               cg_read(cg->dir[CG_FREEZER], "freezer.state", &text, NULL) == 0) {
        frozen = strncmp(text, "FROZEN", 6) == 0;
    }
    free(text);
    return frozen;
}

/* ---- statistics ---- */

/* Sum the bytes read and written over every device: v1 blkio lines "8:0 Read 4096", v2 io.stat
 * lines "8:0 rbytes=4096 wbytes=0 ...". */
static void sum_io(const char *text, int version, uint64_t *rd, uint64_t *wr) {
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        char buf[512];
        if (len >= sizeof buf) len = sizeof buf - 1;
        memcpy(buf, line, len);
        buf[len] = '\0';
        char *save = NULL, *dev = strtok_r(buf, " ", &save);
        if (dev && strchr(dev, ':')) {
            if (version == 1) {
                char *op = strtok_r(NULL, " ", &save), *num = strtok_r(NULL, " ", &save);
                if (op && num && strcmp(op, "Read") == 0) *rd += strtoull(num, NULL, 10);
                if (op && num && strcmp(op, "Write") == 0) *wr += strtoull(num, NULL, 10);
            } else {
                for (char *kv = strtok_r(NULL, " ", &save); kv; kv = strtok_r(NULL, " ", &save)) {
                    if (strncmp(kv, "rbytes=", 7) == 0) *rd += strtoull(kv + 7, NULL, 10);
                    if (strncmp(kv, "wbytes=", 7) == 0) *wr += strtoull(kv + 7, NULL, 10);
                }
            }
        }
        line = eol ? eol + 1 : NULL;
    }
}

static uint64_t host_memory(void) {
    struct sysinfo si;
    if (sysinfo(&si) != 0) return 0;
    return (uint64_t)si.totalram * (si.mem_unit ? si.mem_unit : 1);
}

/* usage minus inactive file pages, as the Docker CLI's calculateMemUsageUnixNoCache */
static int memory_usage(const char *dir, const char *usage_file, const char *inactive_key,
                        uint64_t *out, wb_error *err) {
    uint64_t usage, inactive = 0;
    char *stat = NULL;
    if (cg_read_u64(dir, usage_file, &usage, err) < 0 ||
        cg_read(dir, "memory.stat", &stat, err) < 0)
        return -1;
    *out = keyed_u64(stat, inactive_key, &inactive) && inactive < usage ? usage - inactive : usage;
    free(stat);
    return 0;
}

static int v1_stats(wb_cgroup *cg, wb_cgroup_stats *st, wb_error *err) {
    const char *mem = cg->dir[CG_MEMORY];
    if (mem[0]) {
        if (memory_usage(mem, "memory.usage_in_bytes", "total_inactive_file", &st->memory_usage,
                         err) < 0 ||
            cg_read_u64(mem, "memory.limit_in_bytes", &st->memory_limit, err) < 0)
            return -1;
        char *oom = NULL;
        /* "oom_kill N" since Linux 4.13; before it only the count of hits of the limit */
        if (!(cg_read(mem, "memory.oom_control", &oom, NULL) == 0 &&
              keyed_u64(oom, "oom_kill", &st->oom_kills)) &&
            cg_read_u64(mem, "memory.failcnt", &st->oom_kills, err) < 0) {
            free(oom);
            return -1;
        }
        free(oom);
    }
    if (cg->dir[CG_CPUACCT][0] &&
        cg_read_u64(cg->dir[CG_CPUACCT], "cpuacct.usage", &st->cpu_usage_ns, err) < 0)
        return -1;
    if (cg->dir[CG_PIDS][0]) {
        if (cg_read_u64(cg->dir[CG_PIDS], "pids.current", &st->pids, err) < 0 ||
            cg_read_u64(cg->dir[CG_PIDS], "pids.max", &st->pids_limit, err) < 0)
            return -1;
    }
    char *io = NULL;
    if (cg->dir[CG_BLKIO][0] &&
        cg_read(cg->dir[CG_BLKIO], "blkio.throttle.io_service_bytes", &io, NULL) == 0) {
        sum_io(io, 1, &st->blkio_read, &st->blkio_write);
        free(io);
    }
    return 0;
}

static int v2_stats(wb_cgroup *cg, wb_cgroup_stats *st, wb_error *err) {
    const char *dir = cg->dir[0];
    char *text = NULL;
    if (cg->v2_ctrls & CG_V2_MEMORY) {
        if (memory_usage(dir, "memory.current", "inactive_file", &st->memory_usage, err) < 0 ||
            cg_read_u64(dir, "memory.max", &st->memory_limit, err) < 0)
            return -1;
        if (cg_read(dir, "memory.events", &text, err) < 0) return -1;
        keyed_u64(text, "oom_kill", &st->oom_kills);
        free(text);
        text = NULL;
    }
    /* cpu.stat's usage_usec comes from the core, with or without the cpu controller */
    uint64_t usec = 0;
    if (cg_read(dir, "cpu.stat", &text, err) < 0) return -1;
    keyed_u64(text, "usage_usec", &usec);
    free(text);
    text = NULL;
    st->cpu_usage_ns = usec * 1000;
    if (cg->v2_ctrls & CG_V2_PIDS) {
        if (cg_read_u64(dir, "pids.current", &st->pids, err) < 0 ||
            cg_read_u64(dir, "pids.max", &st->pids_limit, err) < 0)
            return -1;
    } else {
        pid_t *list = NULL;
        size_t n = 0;
        if (wb_cgroup_pids(cg, &list, &n, err) < 0) return -1;
        free(list);
        st->pids = n;
    }
    if ((cg->v2_ctrls & CG_V2_IO) && cg_read(dir, "io.stat", &text, NULL) == 0) {
        sum_io(text, 2, &st->blkio_read, &st->blkio_write);
        free(text);
    }
    return 0;
}

int wb_cgroup_stats_read(wb_cgroup *cg, wb_cgroup_stats *st, wb_error *err) {
    memset(st, 0, sizeof *st);
    if ((cg->version == 2 ? v2_stats(cg, st, err) : v1_stats(cg, st, err)) < 0) return -1;
    uint64_t host = host_memory();
    if (st->memory_limit == 0 || (host && st->memory_limit > host)) st->memory_limit = host;
    if (st->pids_limit == UINT64_MAX) st->pids_limit = 0;
    return 0;
}

/* ---- destroy ---- */

/* SIGKILL everything in it until every cgroup.procs is empty (new forks are caught by the next
 * round); a frozen cgroup is thawed so that the v1 freezer lets the signal through. Every v1
 * hierarchy is read: a process may have been moved into only some of them. */
static int kill_all(wb_cgroup *cg, wb_error *err) {
    int64_t deadline = now_ms() + CG_WAIT_MS;
    pid_t self = getpid();
    /* cgroup.kill (v2, Linux 5.14) also gets the processes forked meanwhile */
    bool kill_file = cg->version == 2 && cg_write(cg->dir[0], "cgroup.kill", "1", NULL) == 0;
    for (int round = 0;; round++) {
        size_t left = 0;
        pid_t first = 0;
        for (int d = 0; d < CG_NCTRL; d++) {
            if (!v1_first_of_dir(cg, d)) continue; /* v2: only dir[0] is set */
            char *text = NULL;
            if (cg_read(cg->dir[d], "cgroup.procs", &text, err) < 0) {
                if (errno == ENOENT) continue; /* removed by someone else */
                return -1;
            }
            for (char *p = text, *end; *p; p = end) {
                long pid = strtol(p, &end, 10);
                if (end == p) {
                    end = p + 1;
                    continue;
                }
                if (pid <= 0) continue; /* outside our pid namespace */
                if (pid == self) {
                    free(text);
                    return wb_error_set(err, EBUSY, "the calling process (%d) is in cgroup %s",
                                        (int)self, cg->dir[d]);
                }
                if (!first) first = (pid_t)pid;
                left++;
                if (round % 10 == 0 && !(round == 0 && kill_file)) kill((pid_t)pid, SIGKILL);
            }
            free(text);
        }
        if (left == 0) return 0;
        if (round == 0) {
            if (cg->version == 2)
                cg_write(cg->dir[0], "cgroup.freeze", "0", NULL);
            else if (cg->dir[CG_FREEZER][0])
                cg_write(cg->dir[CG_FREEZER], "freezer.state", "THAWED", NULL);
        }
        if (now_ms() > deadline)
            return wb_error_set(err, EBUSY, "processes (%d, ...) remain in cgroup %s after SIGKILL",
                                (int)first, procs_dir(cg));
        sleep_ms(round < 10 ? 1 : 10);
    }
}

int wb_cgroup_destroy(wb_cgroup *cg, wb_error *err) {
    if (kill_all(cg, err) < 0) return -1;
    int64_t deadline = now_ms() + CG_WAIT_MS;
    for (int i = 0; i < CG_NCTRL; i++) {
        if (cg->version == 2 ? i != 0 : !v1_first_of_dir(cg, i)) continue;
        /* the kernel may still be finishing the exit of the last task: EBUSY for a moment */
        while (rmdir(cg->dir[i]) != 0 && errno != ENOENT) {
            if (errno != EBUSY || now_ms() > deadline)
                return wb_error_sys(err, "remove cgroup %s", cg->dir[i]);
            sleep_ms(5);
        }
    }
    return 0;
}
