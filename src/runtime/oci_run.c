/* OCI bundles run as runc runs them: create, start, state, kill, delete, exec (see oci_run.h). */
#include "runtime/oci_run.h"
#include "runtime/pty.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/child.h"
#include "base/dynlib.h"
#include "base/fsutil.h"
#include "base/timeutil.h"
#include "oci/store.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/linux_handler.h"
#include "runtime/oci_hooks.h"
#include "runtime/oci_linux.h"
#include "runtime/oci_spec.h"
#include "runtime/wasm_handler.h"

bool wb_oci_id_valid(const char *id) {
    if (!id || !*id || !strcmp(id, ".") || !strcmp(id, "..") || strlen(id) > 1024) return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '+' || *p == '.' || *p == '-'))
            return false;
    return true;
}

static int paths(const char *root, const char *id, char dir[PATH_MAX], char *file, const char *name,
                 wb_error *err) {
    if (!wb_oci_id_valid(id)) return wb_error_set(err, EINVAL, "invalid container id: %s", id);
    if (wb_path_join(dir, PATH_MAX, err, "%s/%s", root, id) < 0) return -1;
    if (file && wb_path_join(file, PATH_MAX, err, "%s/%s", dir, name) < 0) return -1;
    return 0;
}

static json_t *load_state(const char *root, const char *id, wb_error *err) {
    char dir[PATH_MAX], file[PATH_MAX];
    if (paths(root, id, dir, file, "state.json", err) < 0) return NULL;
    json_t *st = json_load_file(file, 0, NULL);
    if (!json_is_object(st)) {
        json_decref(st);
        wb_error_set(err, ENOENT, "container does not exist");
        return NULL;
    }
    return st;
}

/* ---- the container's cgroup ---- */

/* Its path: the spec's linux.cgroupsPath ("/default/<id>" as containerd writes it; systemd's
 * "slice:prefix:name" as that manager lays it out, "slice/prefix-name.scope"), else
 * wasmbox-runc/<id>. */
static void cgroup_path(const wb_oci_spec *s, const char *id, char *out, size_t size) {
    const char *p = s->cgroups_path;
    if (p && *p && strchr(p, ':')) {
        char slice[256] = "", prefix[256] = "", name[512] = "";
        if (sscanf(p, "%255[^:]:%255[^:]:%511s", slice, prefix, name) == 3) {
            snprintf(out, size, "%s/%s-%s.scope", slice, prefix, name);
            return;
        }
    }
    if (p && *p)
        snprintf(out, size, "%s", p);
    else
        snprintf(out, size, "wasmbox-runc/%s", id);
}

/* linux.resources as cgroup limits: memory.limit and .swap, cpu.quota/period and .shares,
 * pids.limit. */
static void resource_limits(const json_t *r, wb_cgroup_limits *l) {
    json_t *mem = json_object_get(r, "memory"), *cpu = json_object_get(r, "cpu");
    memset(l, 0, sizeof *l);
    json_int_t limit = json_integer_value(json_object_get(mem, "limit"));
    l->memory = limit > 0 ? limit : 0;
    json_t *swap = json_object_get(mem, "swap");
    l->memory_swap = json_is_integer(swap) ? json_integer_value(swap) : l->memory ? -1 : 0;
    json_int_t quota = json_integer_value(json_object_get(cpu, "quota"));
    json_int_t period = json_integer_value(json_object_get(cpu, "period"));
    if (quota > 0) l->nano_cpus = quota * 1000000000LL / (period > 0 ? period : 100000);
    l->cpu_shares = json_integer_value(json_object_get(cpu, "shares"));
    l->pids_limit = json_integer_value(json_object_get(json_object_get(r, "pids"), "limit"));
}

/* The container's cgroup, recorded in its state ("cgroup"); ENOENT when it has none. */
static int open_cgroup(const json_t *st, wb_cgroup **cg, wb_error *err) {
    const char *path = json_string_value(json_object_get(st, "cgroup"));
    *cg = NULL;
    if (!path) return wb_error_set(err, ENOENT, "the container has no cgroup");
    return wb_cgroup_open_path(path, cg, err);
}

/* Is the recorded workload still that process? */
static bool alive(const json_t *st) {
    pid_t pid = (pid_t)json_integer_value(json_object_get(st, "pid"));
    json_int_t start = json_integer_value(json_object_get(st, "pid_start"));
    if (pid <= 0) return false;
    unsigned long long s = wb_process_start_time(pid);
    if (!s || (start && (json_int_t)s != start)) return false;
    /* a zombie (exited, not yet reaped by its parent) has ended */
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return false;
    buf[n] = '\0';
    char *rp = strrchr(buf, ')');
    return !(rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'));
}

/* ---- the Wasm workload ---- */

static int join_network(const wb_oci_spec *s, pid_t same_as, wb_error *err) {
    char path[64];
    const wb_oci_namespace *ns = wb_oci_spec_namespace(s, "network");
    if (!ns) return 0; /* the host's */
    const char *p = ns->path;
    if (same_as > 0) { /* exec: the container's */
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int)same_as);
        p = path;
    }
    if (!p) {
        if (unshare(CLONE_NEWNET) != 0) return wb_error_sys(err, "unshare the network namespace");
        wb_linux_loopback_up();
        return 0;
    }
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
        if (fd >= 0) close(fd);
        return wb_error_sys(err, "join the network namespace %s", p);
    }
    close(fd);
    return 0;
}

/* The bundle's directory bind mounts as preopens, its hosts/resolv.conf for the resolver. */
static wb_mount *preopens(const wb_oci_spec *s, size_t *n, const char **hosts,
                          const char **resolv) {
    wb_mount *m = wb_calloc(s->nmounts + 1, sizeof *m);
    *n = 0;
    for (size_t i = 0; i < s->nmounts; i++) {
        const wb_oci_mount *om = &s->mounts[i];
        bool bind = (om->type && !strcmp(om->type, "bind"));
        for (size_t k = 0; k < om->noptions && !bind; k++)
            bind = !strcmp(om->options[k], "bind") || !strcmp(om->options[k], "rbind");
        if (!bind || !om->source) continue;
        if (!strcmp(om->destination, "/etc/hosts")) *hosts = om->source;
        if (!strcmp(om->destination, "/etc/resolv.conf")) *resolv = om->source;
        struct stat st;
        if (stat(om->source, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        bool ro = false;
        for (size_t k = 0; k < om->noptions; k++) ro = ro || !strcmp(om->options[k], "ro");
        m[*n] = (wb_mount){(char *)om->source, (char *)om->destination, ro, NULL};
        (*n)++;
    }
    return m;
}

/* The tier a bundle's Wasm runs on: the annotation WB_OCI_ENGINE_ANNOTATION, else
 * $WASMBOX_ENGINE (the runtime's environment: containerd's, conmon's), else auto. */
static int bundle_engine(const wb_oci_spec *s, wb_engine *e, wb_error *err) {
    const char *a = json_string_value(json_object_get(s->annotations, WB_OCI_ENGINE_ANNOTATION));
    if (!a) return wb_engine_default(e, err);
    if (wb_engine_parse(a, e)) return 0;
    return wb_error_set(err, EINVAL, "annotation %s: invalid value \"%s\" (auto, interp or native)",
                        WB_OCI_ENGINE_ANNOTATION, a);
}

/* The node's native-code cache: the default store root's (ROOT/native, where `wasmbox build`,
 * `pull` and `compile` put code), or $WASMBOX_NATIVE_CACHE; "" when unknown. */
static void node_native_cache(char out[PATH_MAX]) {
    char *root = wb_store_default_root(NULL);
    if (wb_native_cache_dir(root, out, PATH_MAX, NULL) < 0) out[0] = 0;
    free(root);
}

/* Run the process `proc` of the container `s` in this process (a child): never returns. Setup
 * failures go to `rep` as "CODE message"; "0" once ready; then, when `fifo` is set, it waits
 * for start. The tier that runs it is recorded in `tier_path` (NULL: nowhere). */
__attribute__((noreturn)) static void wasm_workload(const wb_oci_spec *s, const wb_oci_spec *proc,
                                                    pid_t container_pid, const char *fifo, int app,
                                                    const char *tier_path, int rep) {
    wb_error err;
    int code = 125;
    char module[64], msg[WB_ERROR_MSG_MAX + 16], cache[PATH_MAX];
    wb_engine engine;
    if (bundle_engine(s, &engine, &err) < 0) goto fail;
    node_native_cache(cache);
    if (join_network(s, container_pid, &err) < 0) goto fail;
    module[0] = 0;
    /* an application runtime serves the app at the root: no command is opened */
    if ((app == WB_RUNTIME_WASMEDGE || app == WB_RUNTIME_LUNATIC) &&
        wb_wasm_open_in_root(s->root, proc->cwd, proc->args[0], module, &code, &err) < 0)
        goto fail;
    size_t nm;
    const char *hosts = NULL, *resolv = NULL;
    wb_mount *mounts = preopens(s, &nm, &hosts, &resolv);
    wb_wasm_job job = {
        .module = module,
        .rootfs = s->root,
        .argv = proc->args,
        .argc = proc->nargs,
        .env = proc->env,
        .nenv = proc->nenv,
        .mounts = mounts,
        .nmounts = nm,
        .workdir = proc->cwd,
        .read_only_root = s->root_readonly,
        .runtime = app,
        .network = true,
        .hosts_path = hosts,
        .resolv_path = resolv,
        .max_memory = (uint64_t)s->memory_limit,
        .process_exits = true,
        .engine = engine,
        .native_cache = cache[0] ? cache : NULL,
        .tier_path = tier_path,
    };
    if (write(rep, "0", 1) != 1) _exit(125);
    close(rep);
    if (fifo) {
        int f = open(fifo, O_WRONLY | O_CLOEXEC); /* blocks until start opens it */
        if (f < 0) _exit(125);
        if (write(f, "0", 1) != 1) _exit(125);
        close(f);
    }
    if (wb_wasm_run(&job, &code, &err) < 0) {
        dprintf(2, "Error: %s\n", err.msg);
        _exit(err.code == ENOEXEC || err.code == WB_EMALFORMED || err.code == WB_EINVALID ? 126
                                                                                          : 125);
    }
    _exit(code & 0xff);
fail:
    snprintf(msg, sizeof msg, "%d %s", code, err.msg);
    if (write(rep, msg, strlen(msg)) < 0) _exit(code);
    _exit(code);
}

/* Fork the workload; wait for its report. *pid on success. */
static int spawn(const wb_oci_spec *s, const wb_oci_spec *proc, pid_t container_pid,
                 const char *fifo, int app, const char *tier_path, const int *stdio, pid_t *pid,
                 int *code, wb_error *err) {
    int rep[2];
    if (pipe2(rep, O_CLOEXEC) != 0) return wb_error_sys(err, "pipe");
    fflush(NULL);
    pid_t p = fork();
    if (p < 0) {
        close(rep[0]);
        close(rep[1]);
        return wb_error_sys(err, "fork");
    }
    if (p == 0) {
        close(rep[0]);
        /* stdio onto 0, 1, 2, the report pipe at 3, none of the caller's other descriptors
         * (conmon's sync pipes, a shim's sockets) */
        int fds[4] = {stdio ? stdio[0] : -1, stdio ? stdio[1] : -1, stdio ? stdio[2] : -1, rep[1]};
        if (wb_child_fds(fds, 4) < 0) _exit(125);
        fcntl(3, F_SETFD, FD_CLOEXEC);
        if (proc->terminal && isatty(0)) { /* its terminal controls it: ^C is a SIGINT */
            setsid();
            ioctl(0, TIOCSCTTY, 0);
        }
        wasm_workload(s, proc, container_pid, fifo, app, tier_path, 3);
    }
    close(rep[1]);
    char buf[WB_ERROR_MSG_MAX + 16];
    ssize_t n;
    while ((n = read(rep[0], buf, sizeof buf - 1)) < 0 && errno == EINTR) {
    }
    close(rep[0]);
    if (n == 1 && buf[0] == '0') {
        *pid = p;
        return 0;
    }
    while (waitpid(p, NULL, 0) < 0 && errno == EINTR) {
    }
    if (n <= 0) return wb_error_set(err, EIO, "the workload did not start");
    buf[n] = '\0';
    char *rest;
    *code = (int)strtol(buf, &rest, 10);
    return wb_error_set(err, ENOEXEC, "%s", *rest == ' ' ? rest + 1 : rest);
}

static int write_pid_file(const char *path, pid_t pid, wb_error *err) {
    if (!path) return 0;
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%d", (int)pid);
    return wb_write_file_atomic(path, buf, (size_t)n, 0644, false, err);
}

/* A Linux bundle's process in two steps, as runc's create: linux_clone clones it (it waits);
 * once it is in its cgroup, linux_release lets it set itself up (root, mounts, console) and
 * waits until it is ready, or reports its failure; a starter process then holds it until
 * `start` opens the fifo, lets it exec its command, and answers start on the fifo: "0", or
 * "CODE message" when the exec failed (127: not found, 126: cannot run). Both become the
 * caller's subreaper's on its exit, as a Wasm workload does. */
typedef struct linux_proc {
    int go, rep, ready; /* our ends: write, read, read */
} linux_proc;

static void linux_proc_close(linux_proc *lp) {
    int *fds[] = {&lp->go, &lp->rep, &lp->ready};
    for (int i = 0; i < 3; i++)
        if (*fds[i] >= 0) close(*fds[i]), *fds[i] = -1;
}

static int connect_console(const char *path, wb_error *err) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path)
        return wb_error_set(err, ENAMETOOLONG, "console socket path too long: %s", path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int saved = errno;
        if (fd >= 0) close(fd);
        errno = saved;
        return wb_error_sys(err, "connect to the console socket %s", path);
    }
    return fd;
}

/* A Wasm workload's terminal (process.terminal with a console socket): a pty of the host's
 * devpts whose slave becomes the workload's stdio (into *slave) and whose master goes to the
 * console socket, as runc sends a Linux container's. */
static int wasm_console(const char *console_socket, int *slave, wb_error *err) {
    *slave = -1;
    int sock = connect_console(console_socket, err);
    if (sock < 0) return -1;
    int master;
    int rc = wb_pty_pair(&master, slave, err);
    if (rc == 0) {
        rc = wb_pty_send_fd(sock, "/dev/ptmx", master, err);
        close(master);
        if (rc < 0) close(*slave), *slave = -1;
    }
    close(sock);
    return rc;
}

/* What a bundle's in-container hooks need to know, in the container's process (a copy of the
 * runtime's memory). */
typedef struct container_hooks {
    const wb_oci_spec *spec;
    const char *id;
} container_hooks;

static int run_container_hook(const void *ctx, const char *kind, wb_error *err) {
    const container_hooks *h = ctx;
    return wb_oci_hooks_run(h->spec, kind, h->id,
                            strcmp(kind, "startContainer") ? "creating" : "created", getpid(), err);
}

static int linux_clone(const wb_oci_spec *s, const char *id, const char *dir, const int *stdio,
                       const char *console_socket, pid_t *pid, linux_proc *lp, wb_error *err) {
    wb_oci_linux l;
    int go[2] = {-1, -1}, rep[2] = {-1, -1}, ready[2] = {-1, -1}, rc = -1, console = -1;
    *lp = (linux_proc){-1, -1, -1};
    if (wb_oci_linux_prepare(s, s, dir, &l, err) < 0) goto out;
    if (console_socket) { /* connected now: the process sends its pty's master there */
        if ((console = connect_console(console_socket, err)) < 0) goto out;
        l.job.console = true;
        l.job.console_fd = console;
    }
    if (pipe2(go, O_CLOEXEC) != 0 || pipe2(rep, O_CLOEXEC) != 0 || pipe2(ready, O_CLOEXEC) != 0) {
        wb_error_sys(err, "pipe");
        goto out;
    }
    l.job.two_phase = true;
    l.job.ready_fd = ready[1];
    container_hooks hooks = {s, id};
    l.job.in_container_hook = run_container_hook;
    l.job.hook_ctx = &hooks;
    int fds[3];
    for (int i = 0; i < 3; i++) fds[i] = stdio && stdio[i] >= 0 ? stdio[i] : i;
    if (wb_linux_spawn(&l.job, fds, go[0], rep[1], pid, err) < 0) goto out;
    *lp = (linux_proc){go[1], rep[0], ready[0]};
    go[1] = rep[0] = ready[0] = -1;
    rc = 0;
out:
    for (int i = 0; i < 2; i++) {
        if (go[i] >= 0) close(go[i]);
        if (rep[i] >= 0) close(rep[i]);
        if (ready[i] >= 0) close(ready[i]);
    }
    if (console >= 0) close(console);
    wb_oci_linux_free(&l);
    return rc;
}

static int linux_release(linux_proc *lp, const char *fifo, wb_error *err) {
    int rc = -1;
    char b;
    ssize_t n;
    if (write(lp->go, "g", 1) != 1) {
        wb_error_sys(err, "release the container's process");
        goto out;
    }
    while ((n = read(lp->ready, &b, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1) { /* it failed to set itself up: its report says why */
        char msg[WB_ERROR_MSG_MAX];
        int code;
        if (wb_linux_read_report(lp->rep, &code, msg, sizeof msg))
            wb_error_set(err, EINVAL, "%s", msg);
        else
            wb_error_set(err, EINVAL, "the container's process exited while being set up");
        goto out;
    }
    fflush(NULL);
    pid_t starter = fork();
    if (starter < 0) {
        wb_error_sys(err, "fork");
        goto out;
    }
    if (starter == 0) {
        for (int i = 0; i < 3; i++) { /* none of the caller's stdio: a pipe of it stays open */
            int null = open("/dev/null", O_RDWR);
            if (null >= 0 && null != i) {
                dup2(null, i);
                close(null);
            }
        }
        int f = open(fifo, O_WRONLY | O_CLOEXEC); /* blocks until start opens it */
        if (f < 0) _exit(1);
        if (write(lp->go, "g", 1) != 1) _exit(1);
        close(lp->go);
        char msg[WB_ERROR_MSG_MAX], answer[WB_ERROR_MSG_MAX + 16] = "0";
        int code;
        if (wb_linux_read_report(lp->rep, &code, msg, sizeof msg))
            snprintf(answer, sizeof answer, "%d %s", code, msg);
        if (write(f, answer, strlen(answer)) < 0) _exit(1);
        _exit(0);
    }
    rc = 0;
out:
    linux_proc_close(lp);
    return rc;
}

/* The static core (the shim, wasmbox-runc) cannot load libcap and libseccomp, which a Linux
 * container's process needs: it runs `wasmbox-full oci --root ROOT --log L --log-format json
 * ARGS...` with stdio as the container's, as containerd's shim runs runc, and reads the
 * process's pid from `pid_file` (whose path ARGS give to --pid-file) and a failure from the log.
 * The process is then the caller's subreaper's (the shim's) once wasmbox-full has exited. */
static int through_full(const char *root, const char *const *args, const int *stdio,
                        const char *pid_file, pid_t *pid, wb_error *err) {
    char full[PATH_MAX + 32], log[PATH_MAX];
    if (!wb_full_program(full, sizeof full))
        return wb_error_set(err, ENOTSUP,
                            "Linux bundles need wasmbox-full beside this program (it loads "
                            "libcap and libseccomp)");
    if (wb_mkdir_p(root, 0711, err) < 0) return -1;
    if (wb_path_join(log, sizeof log, err, "%s/.full.%d.log", root, (int)getpid()) < 0) return -1;
    const char *argv[32] = {full, "oci", "--root", root, "--log", log, "--log-format", "json"};
    size_t n = 8;
    for (size_t i = 0; args[i] && n < 31; i++) argv[n++] = args[i];
    argv[n] = NULL;
    fflush(NULL);
    pid_t p = fork();
    if (p < 0) return wb_error_sys(err, "fork");
    if (p == 0) {
        int fds[3] = {stdio ? stdio[0] : -1, stdio ? stdio[1] : -1, stdio ? stdio[2] : -1};
        if (wb_child_fds(fds, 3) < 0) _exit(127);
        execv(full, (char *const *)argv);
        _exit(127);
    }
    int status;
    while (waitpid(p, &status, 0) < 0 && errno == EINTR) {
    }
    int rc = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        /* its error: the log's last line, {"level":"error","msg":...} */
        char *text = NULL;
        size_t len = 0;
        const char *msg = NULL;
        json_t *line = NULL;
        if (wb_read_file(log, 1 << 20, (uint8_t **)&text, &len, NULL) == 0 && len) {
            text[len - 1] = text[len - 1] == '\n' ? 0 : text[len - 1];
            char *last = strrchr(text, '\n');
            line = json_loads(last ? last + 1 : text, 0, NULL);
            msg = json_string_value(json_object_get(line, "msg"));
        }
        rc = wb_error_set(err, EINVAL, "%s",
                          msg ? msg : "wasmbox-full failed to set up the Linux container");
        json_decref(line);
        free(text);
    } else {
        char *text = NULL;
        size_t len = 0;
        if (wb_read_file(pid_file, 64, (uint8_t **)&text, &len, err) < 0)
            rc = -1;
        else
            *pid = (pid_t)strtol(text, NULL, 10);
        free(text);
        if (rc == 0 && *pid <= 0) rc = wb_error_set(err, EINVAL, "%s: no pid", pid_file);
    }
    unlink(log);
    return rc;
}

int wb_oci_create(const wb_oci_create_opts *o, pid_t *pid, wb_error *err) {
    char dir[PATH_MAX], fifo[PATH_MAX], state[PATH_MAX], tier[PATH_MAX];
    if (paths(o->root, o->id, dir, fifo, "exec.fifo", err) < 0) return -1;
    if (paths(o->root, o->id, dir, state, "state.json", err) < 0) return -1;
    if (paths(o->root, o->id, dir, tier, "tier", err) < 0) return -1;
    wb_oci_spec s;
    if (wb_oci_spec_load(o->bundle, &s, err) < 0) {
        wb_oci_spec_free(&s);
        return -1;
    }
    wb_oci_kind kind = WB_OCI_WASM; /* an application runtime's app is Wasm */
    int rc = -1, code = 125;
    if (!o->app_runtime && wb_oci_spec_kind(&s, o->prefer_wasm, &kind, err) < 0) goto out;
    if (wb_oci_hooks_check(&s, kind == WB_OCI_LINUX, err) < 0) goto out;
    if (s.terminal && !o->console_socket) { /* runc's words */
        wb_error_set(err, EINVAL,
                     "cannot allocate tty if runc will detach without setting console socket");
        goto out;
    }
    if (o->console_socket && !s.terminal) {
        wb_error_set(err, EINVAL,
                     "cannot use console socket if runc will not detach or allocate tty");
        goto out;
    }
    if (kind == WB_OCI_LINUX && !wb_dynlib_loadable()) { /* the whole create, by wasmbox-full */
        char tmp_pid[PATH_MAX];
        if (wb_path_join(tmp_pid, sizeof tmp_pid, err, "%s/.%s.pid", o->root, o->id) < 0) goto out;
        const char *args[] = {"create", "--bundle", s.bundle, "--pid-file", tmp_pid,
                              o->id,    NULL,       NULL,     NULL};
        if (o->console_socket) {
            args[6] = "--console-socket";
            args[7] = o->console_socket;
        }
        rc = through_full(o->root, args, o->stdio, tmp_pid, pid, err);
        unlink(tmp_pid);
        if (rc == 0 && o->pid_file && write_pid_file(o->pid_file, *pid, err) < 0) rc = -1;
        goto out;
    }
    if (wb_mkdir_p(o->root, 0711, err) < 0) goto out;
    if (mkdir(dir, 0711) != 0) {
        if (errno == EEXIST)
            wb_error_set(err, EEXIST, "container with id exists: %s", o->id);
        else
            wb_error_sys(err, "create %s", dir);
        goto out;
    }
    if (mkfifo(fifo, 0600) != 0) {
        wb_error_sys(err, "mkfifo %s", fifo);
        goto fail;
    }
    linux_proc lp = {-1, -1, -1};
    if (kind == WB_OCI_LINUX) {
        if (linux_clone(&s, o->id, dir, o->stdio, o->console_socket, pid, &lp, err) < 0) goto fail;
    } else {
        wb_engine engine; /* a bad annotation fails here, before anything runs */
        if (bundle_engine(&s, &engine, err) < 0) goto fail;
        int tty = -1;
        if (o->console_socket && wasm_console(o->console_socket, &tty, err) < 0) goto fail;
        const int tty_stdio[3] = {tty, tty, tty};
        rc = spawn(&s, &s, 0, fifo, o->app_runtime, tier, tty >= 0 ? tty_stdio : o->stdio, pid,
                   &code, err);
        if (tty >= 0) close(tty);
        if (rc < 0) goto fail;
        rc = -1;
    }
    /* its cgroup, with the spec's limits, before it runs (it waits on the fifo until start) */
    char cgpath[PATH_MAX];
    wb_cgroup_limits lim;
    wb_cgroup *cg = NULL;
    cgroup_path(&s, o->id, cgpath, sizeof cgpath);
    json_t *res = json_object_get(json_object_get(s.doc, "linux"), "resources");
    resource_limits(res, &lim);
    if (wb_cgroup_create_path(cgpath, &lim, &cg, err) < 0 || wb_cgroup_add(cg, *pid, err) < 0) {
        if (cg) wb_cgroup_destroy(cg, NULL);
        wb_cgroup_free(cg);
        wb_error_wrap(err, "the container's cgroup %s", cgpath);
        kill(*pid, SIGKILL);
        linux_proc_close(&lp);
        goto fail;
    }
    /* the process exists (its namespaces made) and waits: prestart and createRuntime hooks
     * (Docker's network setup), then it sets itself up */
    if (wb_oci_hooks_run(&s, "prestart", o->id, "created", *pid, err) < 0 ||
        wb_oci_hooks_run(&s, "createRuntime", o->id, "created", *pid, err) < 0) {
        kill(*pid, SIGKILL);
        waitpid(*pid, NULL, 0);
        linux_proc_close(&lp);
        wb_cgroup_destroy(cg, NULL);
        wb_cgroup_free(cg);
        goto fail;
    }
    if (kind == WB_OCI_LINUX && linux_release(&lp, fifo, err) < 0) { /* set up, or why not */
        kill(*pid, SIGKILL);
        waitpid(*pid, NULL, 0);
        wb_cgroup_destroy(cg, NULL);
        wb_cgroup_free(cg);
        goto fail;
    }
    wb_cgroup_free(cg);
    char created[64];
    wb_time_now(created, sizeof created);
    json_t *resources = json_is_object(res) ? json_incref(res) : json_object();
    json_t *st = json_pack(
        "{s:s, s:i, s:I, s:s, s:s, s:s, s:s, s:o}", "id", o->id, "pid", (int)*pid, "pid_start",
        (json_int_t)wb_process_start_time(*pid), "bundle", s.bundle, "created", created, "kind",
        kind == WB_OCI_LINUX ? "linux" : "wasm", "cgroup", cgpath, "resources", resources);
    char *text = json_dumps(st, JSON_COMPACT);
    json_decref(st);
    int w = wb_write_file_atomic(state, text, strlen(text), 0600, false, err);
    free(text);
    if (w < 0 || write_pid_file(o->pid_file, *pid, err) < 0) {
        kill(*pid, SIGKILL);
        goto fail;
    }
    rc = 0;
    goto out;
fail:
    wb_remove_tree(dir, NULL);
out:
    wb_oci_spec_free(&s);
    (void)code;
    return rc;
}

/* poststart and poststop hooks: a failure is a warning on stderr, and the rest goes on (the
 * runtime spec's rule for both). */
static void run_late_hooks(const json_t *st, const char *id, const char *kind, const char *status) {
    wb_oci_spec s;
    wb_error err;
    const char *bundle = json_string_value(json_object_get(st, "bundle"));
    if (bundle && wb_oci_spec_load(bundle, &s, &err) == 0 &&
        wb_oci_hooks_run(&s, kind, id, status,
                         (pid_t)json_integer_value(json_object_get(st, "pid")), &err) < 0)
        fprintf(stderr, "warning: %s\n", err.msg);
    if (bundle) wb_oci_spec_free(&s);
}

int wb_oci_start(const char *root, const char *id, wb_error *err) {
    char dir[PATH_MAX], fifo[PATH_MAX];
    if (paths(root, id, dir, fifo, "exec.fifo", err) < 0) return -1;
    json_t *st = load_state(root, id, err);
    if (!st) return -1;
    int rc = -1;
    int f = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (f < 0) {
        wb_error_set(err, EINVAL,
                     alive(st) ? "cannot start an already running container"
                               : "cannot start a container that has stopped");
        goto out;
    }
    /* the workload (a Linux container's starter), blocked opening the fifo for writing, now
     * writes "0", or "CODE message" when the command could not be exec'ed */
    for (int waited = 0; waited < 10000; waited += 10) {
        struct pollfd p = {f, POLLIN, 0};
        char b[WB_ERROR_MSG_MAX + 16];
        ssize_t n;
        if (poll(&p, 1, 10) > 0 && (n = read(f, b, sizeof b - 1)) > 0) {
            b[n] = 0;
            char *msg = strchr(b, ' ');
            if (msg && strtol(b, NULL, 10) != 0)
                wb_error_set(err, strtol(b, NULL, 10) == 127 ? ENOENT : EACCES, "%s", msg + 1);
            else
                rc = 0;
            break;
        }
        if (!alive(st)) {
            wb_error_set(err, ESRCH, "container not running");
            break;
        }
    }
    if (rc < 0 && !err->msg[0]) wb_error_set(err, ETIMEDOUT, "the workload did not start");
    close(f);
    unlink(fifo);
    if (rc == 0) run_late_hooks(st, id, "poststart", "running");
out:
    json_decref(st);
    return rc;
}

json_t *wb_oci_state(const char *root, const char *id, wb_error *err) {
    char dir[PATH_MAX], fifo[PATH_MAX];
    if (paths(root, id, dir, fifo, "exec.fifo", err) < 0) return NULL;
    json_t *st = load_state(root, id, err);
    if (!st) return NULL;
    bool live = alive(st);
    const char *status = !live ? "stopped" : access(fifo, F_OK) == 0 ? "created" : "running";
    wb_cgroup *cg;
    if (live && open_cgroup(st, &cg, NULL) == 0) {
        if (wb_cgroup_frozen(cg)) status = "paused";
        wb_cgroup_free(cg);
    }
    const char *bundle = json_string_value(json_object_get(st, "bundle"));
    char rootfs[PATH_MAX], tier_path[PATH_MAX], tier[16] = "";
    if (paths(root, id, dir, tier_path, "tier", NULL) == 0) {
        int fd = open(tier_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        ssize_t n = fd >= 0 ? read(fd, tier, sizeof tier - 1) : -1;
        if (fd >= 0) close(fd);
        tier[n > 0 ? n : 0] = 0;
        tier[strcspn(tier, "\n")] = 0;
    }
    snprintf(rootfs, sizeof rootfs, "%s/rootfs", bundle ? bundle : "");
    json_t *out =
        json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s}", "ociVersion", "1.0.2", "id", id,
                  "pid", live ? (int)json_integer_value(json_object_get(st, "pid")) : 0, "status",
                  status, "bundle", bundle ? bundle : "", "rootfs", rootfs, "created",
                  json_string_value(json_object_get(st, "created")), "owner", "");
    if (tier[0]) /* the tier the container's process ran on, once it has started */
        json_object_set_new(out, "annotations", json_pack("{s:s}", WB_OCI_ENGINE_ANNOTATION, tier));
    json_decref(st);
    return out;
}

int wb_oci_kill(const char *root, const char *id, int sig, bool all, wb_error *err) {
    json_t *st = load_state(root, id, err);
    if (!st) return -1;
    int rc = 0;
    if (!alive(st)) {
        rc = wb_error_set(err, ESRCH, "container not running");
    } else if (kill((pid_t)json_integer_value(json_object_get(st, "pid")), sig) != 0) {
        rc = wb_error_sys(err, "kill");
    }
    (void)all;
    json_decref(st);
    return rc;
}

int wb_oci_delete(const char *root, const char *id, bool force, wb_error *err) {
    wb_error local;
    if (!err) err = &local;
    char dir[PATH_MAX];
    if (paths(root, id, dir, NULL, NULL, err) < 0) return -1;
    json_t *st = load_state(root, id, err);
    if (!st) {
        if (force && err->code == ENOENT) {
            wb_remove_tree(dir, NULL);
            return 0;
        }
        return -1;
    }
    if (alive(st)) {
        if (!force) {
            json_decref(st);
            return wb_error_set(err, EBUSY,
                                "cannot delete container %s that is not stopped: "
                                "running",
                                id);
        }
        kill((pid_t)json_integer_value(json_object_get(st, "pid")), SIGKILL);
        for (int i = 0; i < 200 && alive(st); i++) {
            struct timespec ts = {0, 10000000};
            nanosleep(&ts, NULL);
        }
    }
    wb_cgroup *cg;
    if (open_cgroup(st, &cg, NULL) == 0) { /* (a frozen one is thawed so its processes die) */
        wb_cgroup_destroy(cg, NULL);
        wb_cgroup_free(cg);
    }
    run_late_hooks(st, id, "poststop", "stopped");
    json_decref(st);
    if (wb_remove_tree(dir, err) < 0) return -1;
    return 0;
}

/* proc in a Linux container (its namespaces, the bundle's security settings and proc's own):
 * returns once the command has been exec'ed, or with its failure (127: not found). */
static int exec_linux(const wb_oci_spec *s, const wb_oci_spec *proc, pid_t target, const int *stdio,
                      const char *console_socket, pid_t *pid, wb_error *err) {
    wb_oci_linux l;
    int rep[2] = {-1, -1}, rc = -1, console = -1;
    if (wb_oci_linux_prepare(s, proc, "/", &l, err) < 0) goto out;
    if (console_socket) {
        if ((console = connect_console(console_socket, err)) < 0) goto out;
        l.job.console = true;
        l.job.console_fd = console;
    }
    if (pipe2(rep, O_CLOEXEC) != 0) {
        wb_error_sys(err, "pipe");
        goto out;
    }
    int fds[3];
    for (int i = 0; i < 3; i++) fds[i] = stdio && stdio[i] >= 0 ? stdio[i] : i;
    if (wb_linux_exec_spawn(&l.job, target, NULL, fds, rep[1], pid, err) < 0) goto out;
    close(rep[1]);
    rep[1] = -1;
    char msg[WB_ERROR_MSG_MAX];
    int code;
    if (wb_linux_read_report(rep[0], &code, msg, sizeof msg)) {
        if (*pid > 0) waitpid(*pid, NULL, 0);
        wb_error_set(err, code == 127 ? ENOENT : EACCES, "%s", msg);
        goto out;
    }
    if (*pid <= 0) {
        wb_error_set(err, ECHILD, "the process did not start in the container");
        goto out;
    }
    rc = 0;
out:
    for (int i = 0; i < 2; i++)
        if (rep[i] >= 0) close(rep[i]);
    if (console >= 0) close(console);
    wb_oci_linux_free(&l);
    return rc;
}

/* exec_linux by wasmbox-full (the static core: see through_full), detached: the process is
 * then the caller's subreaper's, the shim's. */
static int exec_linux_through_full(const char *root, const char *id, const wb_oci_spec *proc,
                                   const int *stdio, const char *console_socket, pid_t *pid,
                                   wb_error *err) {
    char spec[PATH_MAX], pid_file[PATH_MAX];
    if (wb_path_join(spec, sizeof spec, err, "%s/%s/.exec.%d.json", root, id, (int)getpid()) < 0 ||
        wb_path_join(pid_file, sizeof pid_file, err, "%s/%s/.exec.%d.pid", root, id,
                     (int)getpid()) < 0)
        return -1;
    char *text = json_dumps(proc->doc, JSON_COMPACT);
    int rc = text ? wb_write_file_atomic(spec, text, strlen(text), 0600, false, err)
                  : wb_error_set(err, ENOMEM, "the process spec");
    free(text);
    if (rc == 0) {
        const char *args[] = {"exec", "--detach", "--pid-file", pid_file, "--process",
                              spec,   NULL,       NULL,         id,       NULL};
        if (console_socket) {
            args[6] = "--console-socket";
            args[7] = console_socket;
        } else {
            args[6] = id;
            args[8] = NULL;
        }
        rc = through_full(root, args, stdio, pid_file, pid, err);
    }
    unlink(spec);
    unlink(pid_file);
    return rc;
}

bool wb_oci_needs_full(const char *root, const char *id, const char *bundle, bool prefer_wasm) {
    if (wb_dynlib_loadable()) return false;
    if (!bundle) {
        wb_error err;
        json_t *st = load_state(root, id, &err);
        const char *kind = json_string_value(json_object_get(st, "kind"));
        bool linux_kind = kind && !strcmp(kind, "linux");
        json_decref(st);
        return linux_kind;
    }
    wb_oci_spec s;
    wb_error err;
    wb_oci_kind kind = WB_OCI_WASM;
    bool linux_kind = wb_oci_spec_load(bundle, &s, &err) == 0 &&
                      wb_oci_spec_kind(&s, prefer_wasm, &kind, &err) == 0 && kind == WB_OCI_LINUX;
    wb_oci_spec_free(&s);
    return linux_kind;
}

/* Start proc (its spec already read into *proc) in the live container `id` (under root) whose
 * state is st. */
static int exec_in(const char *root, const char *id, const json_t *st, const wb_oci_spec *proc,
                   const int *stdio, const char *console_socket, pid_t *pid, int *code,
                   wb_error *err) {
    if (!alive(st)) return wb_error_set(err, ESRCH, "container not running");
    const char *kind = json_string_value(json_object_get(st, "kind"));
    bool linux_kind = kind && !strcmp(kind, "linux");
    if (proc->terminal && !console_socket)
        return wb_error_set(
            err, EINVAL, "cannot allocate tty if runc will detach without setting console socket");
    if (console_socket && !proc->terminal)
        return wb_error_set(err, EINVAL,
                            "cannot use console socket if runc will not detach or allocate tty");
    wb_oci_spec s;
    pid_t target = (pid_t)json_integer_value(json_object_get(st, "pid"));
    int rc = wb_oci_spec_load(json_string_value(json_object_get(st, "bundle")), &s, err);
    if (rc == 0 && linux_kind && !wb_dynlib_loadable()) {
        rc = exec_linux_through_full(root, id, proc, stdio, console_socket, pid, err);
    } else if (rc == 0 && linux_kind) {
        rc = exec_linux(&s, proc, target, stdio, console_socket, pid, err);
    } else if (rc == 0) {
        int tty = -1;
        if (console_socket) rc = wasm_console(console_socket, &tty, err);
        const int tty_stdio[3] = {tty, tty, tty};
        if (rc == 0)
            rc = spawn(&s, proc, target, NULL, WB_RUNTIME_WASMEDGE, NULL,
                       tty >= 0 ? tty_stdio : stdio, pid, code, err);
        if (tty >= 0) close(tty);
    }
    wb_oci_spec_free(&s);
    wb_cgroup *cg;
    if (rc == 0 && open_cgroup(st, &cg, NULL) == 0) { /* beside the workload */
        wb_cgroup_add(cg, *pid, NULL);
        wb_cgroup_free(cg);
    }
    return rc;
}

int wb_oci_exec(const char *root, const char *id, const char *process_path, bool detach,
                const char *pid_file, const char *console_socket, int *exit_code, wb_error *err) {
    *exit_code = 125;
    json_t *st = load_state(root, id, err);
    if (!st) return -1;
    wb_oci_spec proc;
    pid_t pid;
    int rc = -1;
    if (wb_oci_process_load(process_path, &proc, err) < 0 ||
        exec_in(root, id, st, &proc, NULL, console_socket, &pid, exit_code, err) < 0 ||
        write_pid_file(pid_file, pid, err) < 0)
        goto out;
    rc = 0;
    *exit_code = 0;
    if (detach) goto out;
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out:
    wb_oci_spec_free(&proc);
    json_decref(st);
    return rc;
}

int wb_oci_exec_spawn(const char *root, const char *id, const char *process_json, const int *stdio,
                      const char *console_socket, pid_t *pid, wb_error *err) {
    json_t *st = load_state(root, id, err);
    if (!st) return -1;
    wb_oci_spec proc;
    int code;
    int rc = wb_oci_process_parse(process_json, &proc, err);
    if (rc == 0) rc = exec_in(root, id, st, &proc, stdio, console_socket, pid, &code, err);
    wb_oci_spec_free(&proc);
    json_decref(st);
    return rc;
}

int wb_oci_pause(const char *root, const char *id, bool pause, wb_error *err) {
    json_t *st = load_state(root, id, err);
    if (!st) return -1;
    wb_cgroup *cg = NULL;
    int rc = -1;
    if (!alive(st))
        wb_error_set(err, ESRCH, "container not running");
    else if (open_cgroup(st, &cg, err) == 0)
        rc = wb_cgroup_freeze(cg, pause, err);
    wb_cgroup_free(cg);
    json_decref(st);
    return rc;
}

int wb_oci_oom_watch(const char *root, const char *id, uint64_t *kills, wb_error *err) {
    json_t *st = load_state(root, id, err);
    if (!st) return -1;
    wb_cgroup *cg = NULL;
    wb_cgroup_stats stats;
    int fd = -1;
    if (open_cgroup(st, &cg, err) == 0 && (fd = wb_cgroup_oom_fd(cg, err)) >= 0)
        *kills = wb_cgroup_stats_read(cg, &stats, NULL) == 0 ? stats.oom_kills : 0;
    wb_cgroup_free(cg);
    json_decref(st);
    return fd;
}

bool wb_oci_oom_killed(const char *root, const char *id, uint64_t *kills) {
    wb_cgroup_stats stats;
    wb_error err;
    if (wb_oci_stats(root, id, &stats, &err) < 0 || stats.oom_kills <= *kills) return false;
    *kills = stats.oom_kills;
    return true;
}

int wb_oci_stats(const char *root, const char *id, wb_cgroup_stats *stats, wb_error *err) {
    json_t *st = load_state(root, id, err);
    if (!st) return -1;
    wb_cgroup *cg = NULL;
    int rc = -1;
    if (open_cgroup(st, &cg, err) == 0) rc = wb_cgroup_stats_read(cg, stats, err);
    wb_cgroup_free(cg);
    json_decref(st);
    return rc;
}

/* Objects merged key by key, anything else replaced. */
static void merge_into(json_t *into, const json_t *from) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)from, k, v) {
        json_t *cur = json_object_get(into, k);
        if (json_is_object(cur) && json_is_object(v))
            merge_into(cur, v);
        else
            json_object_set(into, k, v);
    }
}

int wb_oci_update(const char *root, const char *id, const char *resources_json, wb_error *err) {
    json_error_t je;
    json_t *upd = json_loads(resources_json, 0, &je);
    if (!json_is_object(upd)) {
        json_decref(upd);
        return wb_error_set(err, EINVAL, "the resources are not a JSON object: %s", je.text);
    }
    json_t *st = load_state(root, id, err);
    int rc = -1;
    if (!st) goto out;
    if (!alive(st)) {
        wb_error_set(err, ESRCH, "container not running");
        goto out;
    }
    json_t *res = json_object_get(st, "resources");
    if (!json_is_object(res)) {
        res = json_object();
        json_object_set_new(st, "resources", res);
    }
    merge_into(res, upd);
    wb_cgroup_limits lim;
    wb_cgroup *cg = NULL;
    const char *path = json_string_value(json_object_get(st, "cgroup"));
    resource_limits(res, &lim);
    if (!path) {
        wb_error_set(err, ENOENT, "the container has no cgroup");
        goto out;
    }
    /* the cgroup exists: every limit is rewritten from the merged resources */
    if (wb_cgroup_create_path(path, &lim, &cg, err) < 0) goto out;
    wb_cgroup_free(cg);
    char dir[PATH_MAX], file[PATH_MAX];
    if (paths(root, id, dir, file, "state.json", err) < 0) goto out;
    char *text = json_dumps(st, JSON_COMPACT);
    rc = wb_write_file_atomic(file, text, strlen(text), 0600, false, err);
    free(text);
out:
    json_decref(upd);
    json_decref(st);
    return rc;
}

int wb_oci_pids(const char *root, const char *id, pid_t **pids, size_t *n, wb_error *err) {
    *pids = NULL;
    *n = 0;
    json_t *st = load_state(root, id, err);
    if (!st) return -1;
    *pids = wb_calloc(2, sizeof **pids);
    if (alive(st)) (*pids)[(*n)++] = (pid_t)json_integer_value(json_object_get(st, "pid"));
    json_decref(st);
    return 0;
}
