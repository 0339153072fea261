/* The Wasm handler: a container's module run by wasmbox's engine with a WASI context whose "/" is
 * the container's root filesystem. */
#include "runtime/wasm_handler.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/alloc.h"
#include "apps/lunatic.h"
#include "apps/slight.h"
#include "apps/spin.h"
#include "apps/wws.h"
#include "base/fsutil.h"
#include "runtime/rootpath.h"
#include "wasi/wasi.h"
#include "wasm/wasm.h"

int wb_runtime_lookup(const char *name, wb_runtime_kind *kind, const char **canonical,
                      wb_error *err) {
    static const struct {
        const char *name, *canonical;
        wb_runtime_kind kind;
    } known[] = {
        {"io.containerd.wasmedge.v1", "io.containerd.wasmedge.v1", WB_RUNTIME_WASMEDGE},
        {"wasmedge", "io.containerd.wasmedge.v1", WB_RUNTIME_WASMEDGE},
        {"io.containerd.wasmtime.v1", "io.containerd.wasmtime.v1", WB_RUNTIME_WASMTIME},
        {"wasmtime", "io.containerd.wasmtime.v1", WB_RUNTIME_WASMTIME},
        {"io.containerd.wasmer.v1", "io.containerd.wasmer.v1", WB_RUNTIME_WASMER},
        {"wasmer", "io.containerd.wasmer.v1", WB_RUNTIME_WASMER},
        {"runc", "runc", WB_RUNTIME_LINUX},
        {"io.containerd.runc.v2", "runc", WB_RUNTIME_LINUX},
        {"io.containerd.wws.v1", "io.containerd.wws.v1", WB_RUNTIME_WWS},
        {"wws", "io.containerd.wws.v1", WB_RUNTIME_WWS},
        {"io.containerd.spin.v2", "io.containerd.spin.v2", WB_RUNTIME_SPIN},
        {"spin", "io.containerd.spin.v2", WB_RUNTIME_SPIN},
        {"io.containerd.slight.v1", "io.containerd.slight.v1", WB_RUNTIME_SLIGHT},
        {"slight", "io.containerd.slight.v1", WB_RUNTIME_SLIGHT},
        {"io.containerd.lunatic.v1", "io.containerd.lunatic.v1", WB_RUNTIME_LUNATIC},
        {"lunatic", "io.containerd.lunatic.v1", WB_RUNTIME_LUNATIC},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(name, known[i].name)) {
            *kind = known[i].kind;
            if (canonical) *canonical = known[i].canonical;
            return 0;
        }
    return wb_error_set(err, EINVAL, "Unknown runtime specified %s", name);
}

/* ---- the container's root ---- */

/* (mount_overlay and copy_tree are kept out of wb_wasm_prepare_rootfs: inlined, their buffers
 * made its frame 31 KiB, fresh stack pages at every start, overlay or not) */

/* An overlay with the image's rootfs below and the container's own directory above, mounted in
 * a private mount namespace of this process (it disappears with the process). */
__attribute__((noinline)) static int mount_overlay(const wb_lowers *l, const char *dir,
                                                   const char *root, wb_error *err) {
    char upper[4300], work[4300];
    if (wb_path_join(upper, sizeof upper, err, "%s/upper", dir) < 0 ||
        wb_path_join(work, sizeof work, err, "%s/work", dir) < 0)
        return -1;
    if ((mkdir(upper, 0755) != 0 && errno != EEXIST) || (mkdir(work, 0755) != 0 && errno != EEXIST))
        return wb_error_sys(err, "create the container's layer in `%s`", dir);
    /* a volatile overlay leaves work/work/incompat/volatile behind, which refuses a remount of
     * the same layer (a restart): the container's data is in upper, the work directory is
     * scratch. (Before layers were stacked, the refused mount fell back to a copy of the image's
     * files, which lost the container's own changes at each restart.) */
    char incompat[4400];
    if (wb_path_join(incompat, sizeof incompat, err, "%s/work/incompat", work) < 0) return -1;
    wb_remove_tree(incompat, NULL);
    if (unshare(CLONE_NEWNS) != 0) return wb_error_sys(err, "unshare the mount namespace");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return wb_error_sys(err, "make mounts private");
    /* volatile: no syncs of the container's layer (it is disposable), which makes unmounting
     * cheap */
    if (wb_overlay_mount(root, l->dirs, l->n, upper, work, MS_NODEV | MS_NOSUID, "volatile", err) <
        0)
        return wb_error_wrap(err, "the container's root");
    return 0;
}

/* Without overlays (not root, no overlayfs): a private copy of the image's files. */
__attribute__((noinline)) static int copy_tree(const char *from, const char *to, wb_error *err) {
    pid_t pid = fork();
    if (pid < 0) return wb_error_sys(err, "fork");
    if (pid == 0) {
        execlp("cp", "cp", "-a", "--", from, to, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return wb_error_set(err, EIO, "copy the image's files into the container (cp -a %s %s)",
                            from, to);
    return 0;
}

int wb_wasm_prepare_rootfs(wb_container *c, const wb_lowers *l, char **root, wb_error *err) {
    char path[4300];
    *root = NULL;
    if (wb_path_join(path, sizeof path, err, "%s/rootfs", c->dir) < 0) return -1;
    if (!l->n) {
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return wb_error_sys(err, "create `%s`", path);
        *root = wb_strdup(path);
        return 0;
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST) return wb_error_sys(err, "create `%s`", path);
    if (wb_layers_apart()) { /* layers apart: only an overlay stacks them */
        if (mount_overlay(l, c->dir, path, err) < 0) return -1;
        *root = wb_strdup(path);
        return 0;
    }
    rmdir(path);
    if (copy_tree(l->dirs[0], path, err) < 0) return -1; /* one flattened directory */
    *root = wb_strdup(path);
    return 0;
}

/* ---- the working directory ---- */

int wb_wasm_prepare_workdir(const char *rootfs, const char *workdir, wb_error *err) {
    if (!workdir || !*workdir || !strcmp(workdir, "/")) return 0;
    if (workdir[0] != '/')
        return wb_error_set(err, EINVAL,
                            "the working directory '%s' is invalid, it needs to be an absolute "
                            "path",
                            workdir);
    int root = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) return wb_error_sys(err, "open the container's root `%s`", rootfs);
    int fd = wb_root_open(root, workdir, WB_ROOT_DIR, true);
    int saved = errno;
    close(root);
    if (fd < 0) {
        errno = saved;
        return wb_error_sys(err, "mkdir %s", workdir);
    }
    close(fd);
    return 0;
}

/* ---- running ---- */

static int report_call_error(wb_store *s, const wb_error *err) {
    const wb_trap_info *t = wb_store_last_trap(s);
    fflush(stdout);
    if (err->code == WB_EEXIT) return t->exit_code;
    if (err->code == WB_ETRAP) {
        char bt[4096];
        wb_trap_format_backtrace(t, bt, sizeof bt);
        fprintf(stderr, "Error: wasm trap: %s\n%s%s", t->message, bt, bt[0] ? "\n" : "");
        return 134;
    }
    fprintf(stderr, "Error: %s\n", err->msg);
    return 125;
}

/* Signals that end a foreground container interrupt the module (interruptible code checks at
 * every loop and call). Signal-handler state: the store running on this thread. */
static wb_store *volatile signal_store;
static volatile sig_atomic_t signal_seen;

/* A stop signal sets the store's interrupt flag, which the module meets at its next loop or
 * call; but one that lands inside a host function after its check and before a blocking
 * system call (accept, poll) would leave the module blocked. So it also starts a timer that
 * sends signal_nudge every 20 ms until the module has stopped: each delivery interrupts
 * whatever call blocks (EINTR), and the module then meets the flag. */
static timer_t signal_timer;
static volatile sig_atomic_t signal_timer_made;
#define NUDGE_SIGNAL (SIGRTMIN + 2)

static void on_nudge(int sig) {
    (void)sig;
    wb_store *s = signal_store;
    if (s) wb_store_interrupt(s);
}

static void on_stop_signal(int sig) {
    if (!signal_seen) signal_seen = sig;
    wb_store *s = signal_store;
    if (s) wb_store_interrupt(s);
    if (signal_timer_made) {
        struct itimerspec its = {{0, 20000000}, {0, 20000000}};
        timer_settime(signal_timer, 0, &its, NULL); /* async-signal-safe */
    }
}

/* The module's environment: job->env, plus PWD=<working directory> when there is one other than
 * "/" and the environment sets no PWD of its own (a new array and entry, else job->env). */
static char **with_pwd(const wb_wasm_job *job, char **entry) {
    *entry = NULL;
    if (!job->workdir || !*job->workdir || !strcmp(job->workdir, "/")) return (char **)job->env;
    for (size_t i = 0; i < job->nenv; i++)
        if (!strncmp(job->env[i], "PWD=", 4)) return (char **)job->env;
    char **env = wb_calloc(job->nenv + 2, sizeof *env);
    memcpy(env, job->env, job->nenv * sizeof *env);
    size_t n = strlen(job->workdir) + 5;
    *entry = wb_malloc(n);
    snprintf(*entry, n, "PWD=%s", job->workdir);
    env[job->nenv] = *entry;
    return env;
}

int wb_wasm_run(const wb_wasm_job *job, int *exit_code, wb_error *err) {
    if (job->runtime == WB_RUNTIME_WWS) return wb_wws_run(job, exit_code, err);
    if (job->runtime == WB_RUNTIME_SPIN) return wb_spin_run(job, exit_code, err);
    if (job->runtime == WB_RUNTIME_SLIGHT) return wb_slight_run(job, exit_code, err);
    if (job->runtime == WB_RUNTIME_LUNATIC) return wb_lunatic_run(job, exit_code, err);
    wb_config cfg = {.interruptible = true};
    wb_module *m = NULL;
    wb_store *store = NULL;
    wb_linker *linker = NULL;
    wb_wasi *wasi = NULL;
    wb_wasi_dir *dirs = wb_calloc(job->nmounts + 2, sizeof *dirs);
    char *pwd_entry = NULL, **env = (char **)job->env;
    int rc = -1;
    *exit_code = 125;

    if (wb_module_load(&cfg, job->module, &m, err) < 0) {
        if (err->code == WB_EMALFORMED || err->code == WB_EINVALID)
            wb_error_wrap(err, "exec %s: not a valid WebAssembly module", job->argv[0]);
        goto out;
    }
    int native = 0;
    if (job->engine != WB_ENGINE_INTERP) {
        wb_native_use u = {
            .engine = job->engine, .cache_dir = job->native_cache, .background = true};
        if ((native = wb_native_use_module(m, &u, err)) < 0) goto out;
    }
    if (job->tier_path) { /* no fsync: a record of this run, rewritten at each start */
        const char *tier = native ? "native\n" : "interp\n";
        wb_write_file_atomic(job->tier_path, tier, strlen(tier), 0644, false, NULL);
    }
    /* "/" is the container's root and nothing else: WASI has no working directory, and a second
     * preopen for it ("." is "/" to wasi-libc) would hide the root. The working directory reaches
     * the module as $PWD (which Go's wasip1 and others read; see docs/containers.md). */
    size_t nd = 0;
    if (job->rootfs) dirs[nd++] = (wb_wasi_dir){job->rootfs, "/", job->read_only_root};
    for (size_t i = 0; i < job->nmounts; i++)
        dirs[nd++] =
            (wb_wasi_dir){job->mounts[i].host, job->mounts[i].guest, job->mounts[i].read_only};
    env = with_pwd(job, &pwd_entry);
    wb_wasi_config wc = {
        .argc = (int)job->argc,
        .argv = job->argv,
        .envc = (int)job->nenv + (env != job->env),
        .env = env,
        .dirs = dirs,
        .ndirs = (int)nd,
        .stdio = {0, 1, 2},
        .allow_net = job->network,
        .hosts_path = job->hosts_path,
        .resolv_path = job->resolv_path,
        .no_wasmedge = job->runtime != WB_RUNTIME_WASMEDGE,
    };
    if (job->stdio[0] || job->stdio[1] || job->stdio[2])
        for (int i = 0; i < 3; i++) wc.stdio[i] = job->stdio[i];
    signal(SIGPIPE, SIG_IGN);
    if (wb_wasi_new(&wc, &wasi, err) < 0) goto out;
    wb_store_limits lim = {.max_memory = job->max_memory};
    store = wb_store_new(&lim, err);
    if (!store) goto out;
    linker = wb_linker_new();
    if (wb_wasi_link(wasi, store, linker, m, err) < 0) goto out;
    wb_instance *inst;
    if (wb_linker_instantiate(linker, store, m, &inst, err) < 0) {
        if (err->code == WB_ELINK) goto out;
        *exit_code = report_call_error(store, err);
        rc = 0;
        goto out;
    }
    wb_extern start;
    if (!wb_instance_export(inst, "_start", 6, &start) || start.kind != WB_EXTERN_FUNC) {
        wb_error_set(err, ENOEXEC, "exec %s: the module has no `_start` (not a WASI command)",
                     job->argv[0]);
        goto out;
    }
    struct sigaction sa, old_int, old_term, nudge, old_nudge;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    memset(&nudge, 0, sizeof nudge);
    nudge.sa_handler = on_nudge;
    sigemptyset(&nudge.sa_mask);
    sigaction(NUDGE_SIGNAL, &nudge, &old_nudge);
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = NUDGE_SIGNAL;
    signal_timer_made = timer_create(CLOCK_MONOTONIC, &sev, &signal_timer) == 0;
    signal_store = store;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    if (wb_func_call(store, start.of.func, NULL, 0, NULL, 0, err) < 0) {
        const wb_trap_info *t = wb_store_last_trap(store);
        if (signal_seen && t->kind == WB_TRAP_INTERRUPTED)
            *exit_code = 128 + signal_seen;
        else
            *exit_code = report_call_error(store, err);
    } else {
        *exit_code = 0;
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    signal_store = NULL;
    if (signal_timer_made) {
        signal_timer_made = 0;
        timer_delete(signal_timer);
    }
    sigaction(NUDGE_SIGNAL, &old_nudge, NULL);
    rc = 0;
out:
    fflush(stdout);
    free(dirs);
    if (env != job->env) free(env);
    free(pwd_entry);
    wb_wasi_free(wasi); /* its descriptors never outlive the run */
    if (job->process_exits) {
        wb_leave_to_exit(m, store, linker);
    } else {
        wb_linker_free(linker);
        wb_store_free(store);
        wb_module_free(m);
    }
    return rc;
}

int wb_wasm_open_in_root(const char *rootfs, const char *workdir, const char *entry,
                         char module[64], int *code, wb_error *err) {
    *code = 125;
    char inside[8192];
    bool rel = entry[0] != '/';
    if (wb_path_join(inside, sizeof inside, err, "%s%s%s", rel && workdir ? workdir : "",
                     rel ? "/" : "", entry) < 0)
        return -1;
    int root = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) return wb_error_sys(err, "open the container's root %s", rootfs);
    int at = wb_root_open(root, inside, WB_ROOT_FILE, false);
    close(root);
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", at);
    int fd = at >= 0 ? open(proc, O_RDONLY | O_CLOEXEC) : -1;
    if (at >= 0) close(at);
    if (fd < 0) {
        *code = 127;
        return wb_error_set(err, ENOENT, "exec: \"%s\": stat %s: no such file or directory", entry,
                            inside);
    }
    char magic[4];
    if (pread(fd, magic, 4, 0) != 4 || memcmp(magic, "\0asm", 4) != 0) {
        close(fd);
        *code = 126;
        return wb_error_set(err, ENOEXEC,
                            "exec: \"%s\": not a WebAssembly module (a Wasm container runs "
                            "modules only: no shell)",
                            entry);
    }
    snprintf(module, 64, "/proc/self/fd/%d", fd);
    return fd;
}
