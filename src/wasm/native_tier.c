/* Choosing the tier a module runs in, and the cache of native code (native_tier.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/selfexe.h"
#include "base/sha256.h"
#include "base/timeutil.h"
#include "wasm/module.h"
#include "wasm/native.h"
#include "wasm/native_cpu.h"
#include "wasm/native_tier.h"

/* options bits of the key */
#define OPT_BOUNDS_CHECKS 1u
#define OPT_INTERRUPTIBLE 2u

bool wb_engine_parse(const char *s, wb_engine *out) {
    if (!strcmp(s, "auto"))
        *out = WB_ENGINE_AUTO;
    else if (!strcmp(s, "interp"))
        *out = WB_ENGINE_INTERP;
    else if (!strcmp(s, "native"))
        *out = WB_ENGINE_NATIVE;
    else
        return false;
    return true;
}

int wb_engine_default(wb_engine *out, wb_error *err) {
    const char *e = getenv(WB_ENGINE_ENV);
    *out = WB_ENGINE_AUTO;
    if (!e || !*e || wb_engine_parse(e, out)) return 0;
    return wb_error_set(err, EINVAL, "%s: invalid value \"%s\" (auto, interp or native)",
                        WB_ENGINE_ENV, e);
}

int wb_native_cache_dir(const char *root, char *buf, size_t size, wb_error *err) {
    const char *e = getenv(WB_NATIVE_CACHE_ENV);
    if (e && *e) return wb_path_join(buf, size, err, "%s", e);
    return wb_path_join(buf, size, err, "%s/native", root);
}

const char *wb_engine_name(wb_engine e) {
    return e == WB_ENGINE_INTERP ? "interp" : e == WB_ENGINE_NATIVE ? "native" : "auto";
}

void wb_native_key_for(const wb_module *m, uint64_t cpu_features, wb_native_key *k) {
    memset(k, 0, sizeof *k);
    wb_sha256(m->bytes, m->len, k->module_digest);
    k->abi_version = WB_NATIVE_ABI_VERSION;
    k->cpu_features = cpu_features ? cpu_features : wb_cpu_features();
    k->options = (m->cfg.bounds_checks ? OPT_BOUNDS_CHECKS : 0) |
                 (m->cfg.interruptible ? OPT_INTERRUPTIBLE : 0);
}

static int fail_path(const char *path, char *out, size_t size) {
    return wb_path_join(out, size, NULL, "%s.fail", path);
}

/* The reason a compile failed before, from the .fail file; false if none. */
static bool read_failure(const char *path, char *reason, size_t size) {
    char fp[PATH_MAX + 16];
    if (fail_path(path, fp, sizeof fp) < 0) return false;
    FILE *f = fopen(fp, "re");
    if (!f) return false;
    size_t n = fread(reason, 1, size - 1, f);
    fclose(f);
    reason[n] = '\0';
    char *nl = strchr(reason, '\n');
    if (nl) *nl = '\0';
    return true;
}

int wb_native_cache_state(const wb_module *m, const char *dir, char *reason, size_t size) {
    wb_native_key k;
    char path[PATH_MAX];
    wb_native_key_for(m, 0, &k);
    if (wb_native_cache_path(dir, &k, path, sizeof path, NULL) < 0) return 0;
    if (access(path, F_OK) == 0) return 1;
    return read_failure(path, reason, size) ? -1 : 0;
}

static void write_failure(const char *path, const char *reason) {
    char fp[PATH_MAX + 16], tmp[PATH_MAX + 32];
    if (fail_path(path, fp, sizeof fp) < 0 ||
        wb_path_join(tmp, sizeof tmp, NULL, "%s.%d", fp, (int)getpid()) < 0)
        return;
    FILE *f = fopen(tmp, "we");
    if (!f) return;
    fprintf(f, "%s\n", reason);
    if (fclose(f) == 0 && rename(tmp, fp) == 0) return;
    unlink(tmp);
}

/* Attaches the cached code for key k: 1, 0 when there is none, -1 when a file is there but refused
 * (err says why: another CPU, corrupt...). */
static int attach_cached(wb_module *m, const char *dir, const wb_native_key *k, wb_error *err) {
    char path[PATH_MAX];
    if (wb_native_cache_path(dir, k, path, sizeof path, err) < 0) return -1;
    uint8_t *obj;
    size_t len;
    if (wb_native_cache_read(path, k, &obj, &len, err) < 0) return err->code == ENOENT ? 0 : -1;
    int rc = wb_module_attach_native(m, obj, len, err);
    free(obj);
    return rc < 0 ? -1 : 1;
}

uint64_t wb_native_code_bytes(const wb_module *m) {
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < m->nfunc_decls; i++) bytes += m->funcs[i].body_len;
    return bytes;
}

int wb_native_quick_tier_bytes(void) {
    const char *e = getenv(WB_QUICK_TIER_ENV);
    if (e && *e) {
        char *end;
        long v = strtol(e, &end, 10);
        if (!*end && v >= 0 && v <= INT32_MAX) return (int)v;
    }
    return WB_QUICK_TIER_MIN_BYTES;
}

/* An exclusive, non-blocking lock on "<path>.lock" (an upgrade in progress): its descriptor, or
 * -1 when another process holds it (or it cannot be made). */
static int upgrade_lock(const char *path) {
    char lock[PATH_MAX + 8];
    if (wb_path_join(lock, sizeof lock, NULL, "%s.lock", path) < 0) return -1;
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

int wb_native_compile_to_cache(wb_module *m, const char *cache_dir, int opt_level,
                               uint64_t cpu_features, char *path_out, size_t path_size,
                               wb_error *err) {
    wb_native_key k;
    char path[PATH_MAX];
    int want = opt_level < 0 ? WB_NATIVE_DEFAULT_LEVEL : opt_level;
    wb_native_key_for(m, cpu_features, &k);
    if (wb_native_cache_path(cache_dir, &k, path, sizeof path, err) < 0) return -1;
    if (path_out && wb_path_join(path_out, path_size, err, "%s", path) < 0) return -1;
    int have = wb_native_cache_opt_level(path), lock = -1;
    if (have >= 0 && have < want) { /* quick-tier code there: replace it, unless someone is */
        lock = upgrade_lock(path);
        have = wb_native_cache_opt_level(path); /* an upgrade may have just ended */
        if (lock < 0 && have < want) return attach_cached(m, cache_dir, &k, err) == 1 ? 1 : -1;
    }
    if (have >= want && attach_cached(m, cache_dir, &k, err) == 1) {
        if (lock >= 0) close(lock);
        return 1;
    }
    int rc = 0;
    if (wb_module_compile(m, want, k.cpu_features, err) < 0) {
        if (err->code != ENOTSUP && have < 0) { /* quick code that works stays usable */
            wb_error mk = {0};
            if (wb_mkdir_p(cache_dir, 0700, &mk) == 0) write_failure(path, err->msg);
        }
        rc = -1;
    } else {
        const uint8_t *obj;
        size_t len;
        wb_module_native_object(m, &obj, &len);
        rc = wb_native_cache_write(path, &k, obj, len, want, err) < 0 ? -1 : 0;
    }
    if (lock >= 0) close(lock);
    return rc;
}

bool wb_native_compiler_program(char *buf, size_t size) {
    if (wb__native_compiler_available()) {
        ssize_t n = readlink("/proc/self/exe", buf, size - 1);
        if (n <= 0 || (size_t)n >= size - 1) return false;
        buf[n] = '\0';
        return true;
    }
    return wb_full_program(buf, size); /* wasmbox-full beside the static core */
}

/* m's bytes in a memfd (inherited by the compiler child), or -1. */
static int module_memfd(const wb_module *m) {
    int fd = memfd_create("wasmbox-module", 0);
    if (fd < 0) return -1;
    if (write(fd, m->bytes, m->len) != (ssize_t)m->len) {
        close(fd);
        return -1;
    }
    return fd;
}

/* In a child: exec `PROGRAM compile --quiet --cache-dir DIR [-O N] [--interruptible]
 * [--bounds-checks] /proc/self/fd/FD`, with every signal unblocked. */
static void exec_compiler(const wb_module *m, const char *cache_dir, const char *program,
                          int opt_level, int fd) {
    char file[64], level[16];
    snprintf(file, sizeof file, "/proc/self/fd/%d", fd);
    snprintf(level, sizeof level, "-O%d", opt_level < 0 ? WB_NATIVE_DEFAULT_LEVEL : opt_level);
    const char *argv[12];
    int a = 0;
    argv[a++] = "wasmbox";
    argv[a++] = "compile";
    argv[a++] = "--quiet";
    argv[a++] = "--cache-dir";
    argv[a++] = cache_dir;
    argv[a++] = level;
    if (m->cfg.interruptible) argv[a++] = "--interruptible";
    if (m->cfg.bounds_checks) argv[a++] = "--bounds-checks";
    argv[a++] = file;
    argv[a] = NULL;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execv(program, (char **)argv);
    dprintf(2, "Error: run %s: %s\n", program, strerror(errno));
    _exit(127);
}

int wb_native_compile_child(const wb_module *m, const char *cache_dir, const char *program,
                            int opt_level, void (*tick)(void *ctx, double secs), void *ctx,
                            wb_error *err) {
    int fd = module_memfd(m), errp[2] = {-1, -1};
    if (fd < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        wb_error_sys(err, "start the compiler");
        if (fd >= 0) close(fd);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        dup2(errp[1], 2);
        exec_compiler(m, cache_dir, program, opt_level, fd);
    }
    close(fd);
    close(errp[1]);
    if (pid < 0) {
        close(errp[0]);
        return wb_error_sys(err, "fork");
    }
    char msg[WB_ERROR_MSG_MAX];
    size_t len = 0;
    double t0 = wb_mono_seconds();
    for (;;) {
        struct pollfd p = {.fd = errp[0], .events = POLLIN};
        int r = poll(&p, 1, tick ? 100 : -1);
        if (tick) tick(ctx, wb_mono_seconds() - t0);
        if (r <= 0) continue; /* a tick, or EINTR */
        ssize_t n = read(errp[0], msg + len, sizeof msg - 1 - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        len += (size_t)n;
        if (len == sizeof msg - 1) len = sizeof msg - 2; /* the rest is dropped */
    }
    msg[len] = '\0';
    close(errp[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    if (WIFSIGNALED(status))
        return wb_error_set(err, EINTR, "the compiler ended by signal %d", WTERMSIG(status));
    char *nl = strchr(msg, '\n'), *text = msg;
    if (nl) *nl = '\0';
    if (!strncmp(text, "Error: ", 7)) text += 7;
    return wb_error_set(err, EINVAL, "%s", *text ? text : "the compiler failed without saying why");
}

/* Detached: the compiler with m's bytes in a memfd; nothing waits for it but the short-lived
 * middle process. */
void wb_native_compile_background(const wb_module *m, const char *cache_dir, const char *program) {
    int fd = module_memfd(m);
    if (fd < 0) return;
    pid_t pid = fork();
    if (pid == 0) {
        if (fork() != 0) _exit(0);
        setsid();
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
        }
        exec_compiler(m, cache_dir, program, -1, fd);
    }
    close(fd);
    if (pid > 0) waitpid(pid, NULL, 0);
}

int wb_native_use_module(wb_module *m, const wb_native_use *u, wb_error *err) {
    if (u->engine == WB_ENGINE_INTERP) return 0;
    /* every interpreted run passes here: without a cache there is nothing to hash or look up */
    bool have_cache = u->cache_dir && access(u->cache_dir, F_OK) == 0;
    if (u->engine == WB_ENGINE_AUTO && !have_cache) return 0;
    wb_error cache_err = {0};
    char path[PATH_MAX] = "";
    if (have_cache) {
        wb_native_key k, v2;
        wb_native_key_for(m, 0, &k);
        if (attach_cached(m, u->cache_dir, &k, &cache_err) == 1) {
            /* quick-tier code: runs now, and the optimised code is made for the next run (one
             * compiler at a time: the upgrade holds a lock) */
            char program[PATH_MAX + 32];
            if (u->engine == WB_ENGINE_AUTO && u->background &&
                wb_native_cache_path(u->cache_dir, &k, path, sizeof path, NULL) == 0) {
                int level = wb_native_cache_opt_level(path);
                int lock = level >= 0 && level < WB_NATIVE_DEFAULT_LEVEL ? upgrade_lock(path) : -1;
                if (lock >= 0) close(lock);
                if (lock >= 0 && access(u->cache_dir, W_OK) == 0 &&
                    wb_native_compiler_program(program, sizeof program))
                    wb_native_compile_background(m, u->cache_dir, program);
            }
            return 1;
        }
        v2 = k; /* the same module digest, the portable features */
        v2.cpu_features = WB_CPU_X86_64_V2 & k.cpu_features;
        wb_error v2_err;
        if (v2.cpu_features != k.cpu_features && attach_cached(m, u->cache_dir, &v2, &v2_err) == 1)
            return 1;
        wb_native_cache_path(u->cache_dir, &k, path, sizeof path, err);
    }
    char reason[WB_ERROR_MSG_MAX];
    bool failed_before = path[0] && read_failure(path, reason, sizeof reason);
    if (u->engine == WB_ENGINE_AUTO) {
        /* only where a cache exists (made by `wasmbox compile`): a run on a store root nobody
         * compiled for leaves nothing behind */
        char program[PATH_MAX + 32];
        if (!failed_before && u->background && access(u->cache_dir, W_OK) == 0 &&
            wb_native_compiler_program(program, sizeof program))
            wb_native_compile_background(m, u->cache_dir, program);
        return 0;
    }
    /* native */
    if (failed_before)
        return wb_error_set(err, EINVAL, "--engine native: this module cannot be compiled: %s",
                            reason);
    if (!wb__native_compiler_available()) {
        if (cache_err.msg[0] && cache_err.code != ENOENT)
            return wb_error_set(err, EINVAL, "--engine native: %s", cache_err.msg);
        /* the static core: wasmbox-full beside it compiles into the cache, then it is read */
        char program[PATH_MAX + 32];
        if (have_cache || (u->cache_dir && wb_mkdir_p(u->cache_dir, 0700, NULL) == 0)) {
            if (wb_native_compiler_program(program, sizeof program)) {
                wb_native_key k;
                wb_native_key_for(m, 0, &k);
                if (wb_native_compile_child(m, u->cache_dir, program, -1, NULL, NULL, err) < 0) {
                    wb_error_wrap(err, "--engine native");
                    return -1;
                }
                if (attach_cached(m, u->cache_dir, &k, err) == 1) return 1;
                return wb_error_wrap(err, "--engine native");
            }
        }
        return wb_error_set(err, ENOENT,
                            "--engine native: no native code for this module in the cache "
                            "(`wasmbox compile` makes it)");
    }
    if (u->cache_dir) {
        if (wb_native_compile_to_cache(m, u->cache_dir, -1, 0, NULL, 0, err) < 0) {
            wb_error_wrap(err, "--engine native");
            return -1;
        }
        return 1;
    }
    if (wb_module_compile(m, -1, 0, err) < 0) {
        wb_error_wrap(err, "--engine native");
        return -1;
    }
    return 1;
}
