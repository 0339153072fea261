/* Starting containers: the job from the record, foreground runs, the monitor of detached runs
 * (restart policy, log, exit status), liveness, signals, stop and wait. */
#include "runtime/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/timeutil.h"
#include "base/alloc.h"
#include "base/fsutil.h"
#include "oci/image.h"
#include "oci/layers.h"
#include "oci/store.h"
#include "runtime/cgroup.h"
#include "runtime/linux_handler.h"
#include "runtime/network.h"
#include "runtime/pty.h"
#include "runtime/volume.h"
#include "runtime/wasm_handler.h"
#include "wasm/wasm.h"

/* ---- the job from the record ---- */

typedef struct job_storage {
    bool is_linux; /* a Linux container: lj, else job */
    wb_linux_job lj;
    wb_wasm_job job;
    char **argv, **env;
    size_t argc, nenv;
    wb_mount *mounts;
    size_t nmounts;
    char *workdir;
    wb_lowers lowers;                         /* the image's files */
    wb_net_attachment net;                    /* its network (job_network) */
    char hosts_path[4300], resolv_path[4300]; /* a Wasm container's etc files (job_network) */
    char *rootfs; /* the container's root (overlay or copy), set in the workload */
    char *hostname, *user;
    wb_ulimit *ulimits;
    size_t nulimits;
    char **tmpfs;
    size_t ntmpfs;
    int module_fd;
    char module[64];
    char native_cache[4200]; /* ROOT/native */
    char tier_path[4200];    /* <container>/engine: the tier that ran (wasm_handler.h) */
} job_storage;

/* The Wasm tier the container asked for (HostConfig.WasmEngine) and the store's native-code
 * cache. */
static void job_engine(const wb_container *c, const json_t *host, job_storage *js) {
    const char *e = json_string_value(json_object_get(host, "WasmEngine"));
    if (!e || !wb_engine_parse(e, &js->job.engine)) js->job.engine = WB_ENGINE_AUTO;
    wb_error err;
    if (wb_native_cache_dir(c->root, js->native_cache, sizeof js->native_cache, &err) == 0)
        js->job.native_cache = js->native_cache;
    /* the tier of this start: the record of an earlier one goes first */
    if (wb_path_join(js->tier_path, sizeof js->tier_path, &err, "%s/%s", c->dir,
                     WB_CONTAINER_ENGINE_FILE) == 0) {
        unlink(js->tier_path);
        js->job.tier_path = js->tier_path;
    }
}

static char **json_strings(const json_t *a, size_t *n, const char *first) {
    size_t count = json_array_size(a) + (first ? 1 : 0);
    char **v = wb_calloc(count + 1, sizeof *v);
    *n = 0;
    if (first) v[(*n)++] = wb_strdup(first);
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (s) v[(*n)++] = wb_strdup(s);
    }
    return v;
}

static void job_release(job_storage *js) {
    for (size_t i = 0; i < js->argc; i++) free(js->argv[i]);
    free(js->argv);
    for (size_t i = 0; i < js->nenv; i++) free(js->env[i]);
    free(js->env);
    for (size_t i = 0; i < js->nmounts; i++) {
        free(js->mounts[i].host);
        free(js->mounts[i].guest);
        free(js->mounts[i].volume);
    }
    free(js->mounts);
    free(js->workdir);
    free(js->hostname);
    free(js->user);
    free(js->ulimits);
    for (size_t i = 0; i < js->ntmpfs; i++) free(js->tmpfs[i]);
    free(js->tmpfs);
    wb_lowers_free(&js->lowers);
    free(js->rootfs);
    if (js->module_fd >= 0) close(js->module_fd);
    wb_net_attachment_release(&js->net);
    memset(js, 0, sizeof *js);
    js->module_fd = -1;
    js->net.netns_fd = -1;
}

/* The module at entry (absolute, or relative to workdir) in the image's files, never leading out
 * of them. */
static int open_in_image(const wb_lowers *l, const char *workdir, const char *entry) {
    char path[8192];
    int n = entry[0] == '/' ? wb_path_join(path, sizeof path, NULL, "%s", entry)
                            : wb_path_join(path, sizeof path, NULL, "%s/%s",
                                           workdir && *workdir ? workdir : "", entry);
    if (n < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return wb_lowers_open(l, path, O_RDONLY);
}

/* The container's image: the one the caller already loaded (c->store, c->image: borrowed), else
 * its record's ImageManifest, loaded here. */
typedef struct job_image {
    wb_images *store;
    wb_image *img;
    bool borrowed;
} job_image;

static int job_image_open(wb_container *c, job_image *ji, wb_error *err) {
    *ji = (job_image){c->store, c->image, c->store && c->image};
    if (ji->borrowed) return 0;
    const char *manifest = json_string_value(json_object_get(c->doc, "ImageManifest"));
    if (!manifest) return wb_error_set(err, ENOENT, "the container's image is unknown");
    if (wb_images_open(c->root, &ji->store, err) < 0) return -1;
    if (wb_image_load(ji->store, manifest, &ji->img, err) < 0) {
        wb_images_close(ji->store);
        return -1;
    }
    return 0;
}

static void job_image_close(job_image *ji) {
    if (ji->borrowed) return;
    wb_image_free(ji->img);
    wb_images_close(ji->store);
}

/* "K=V" added to env (an array of n, with room) unless K is set. */
static void env_default(char ***env, size_t *n, const char *key, const char *value) {
    size_t klen = strlen(key);
    for (size_t i = 0; i < *n; i++)
        if (!strncmp((*env)[i], key, klen) && (*env)[i][klen] == '=') return;
    *env = wb_reallocarray(*env, *n + 2, sizeof **env);
    size_t len = klen + strlen(value) + 2;
    char *kv = wb_malloc(len);
    snprintf(kv, len, "%s=%s", key, value);
    (*env)[(*n)++] = kv;
    (*env)[*n] = NULL;
}

/* Is `opt` among the record's HostConfig.SecurityOpt (Docker accepts "=" and ":" spellings)? */
static bool security_opt(const json_t *host, const char *name, const char *value) {
    const json_t *opts = json_object_get(host, "SecurityOpt");
    for (size_t i = 0; i < json_array_size(opts); i++) {
        const char *o = json_string_value(json_array_get(opts, i));
        size_t len = strlen(name);
        if (!o || strncmp(o, name, len) != 0) continue;
        if (!value && (!o[len] || !strcmp(o + len, "=true") || !strcmp(o + len, ":true")))
            return true;
        if (value && (o[len] == '=' || o[len] == ':') && !strcmp(o + len + 1, value)) return true;
    }
    return false;
}

static char **strings_of(const json_t *a, size_t *n) {
    return json_strings(a, n, NULL);
}

/* The rest of job_prepare for a Linux container (argv, env, workdir and mounts are read). */
static int linux_prepare(wb_container *c, job_storage *js, int *exit_code, wb_error *err) {
    json_t *doc = c->doc, *cfg = json_object_get(doc, "Config"),
           *host = json_object_get(doc, "HostConfig");
    js->is_linux = true;
    if (js->argc == 0 || !js->argv[0][0]) return wb_error_set(err, EINVAL, "No command specified");
    const char *hn = json_string_value(json_object_get(cfg, "Hostname"));
    char shortid[13];
    snprintf(shortid, sizeof shortid, "%.12s", c->id);
    js->hostname = wb_strdup(hn && *hn ? hn : shortid);
    const char *user = json_string_value(json_object_get(cfg, "User"));
    js->user = user && *user ? wb_strdup(user) : NULL;
    bool tty = json_is_true(json_object_get(cfg, "Tty"));
    env_default(&js->env, &js->nenv, "PATH", WB_LINUX_DEFAULT_PATH);
    env_default(&js->env, &js->nenv, "HOSTNAME", js->hostname);
    if (tty) env_default(&js->env, &js->nenv, "TERM", "xterm");
    bool privileged = json_is_true(json_object_get(host, "Privileged"));
    size_t nadd, ndrop;
    char **add = strings_of(json_object_get(host, "CapAdd"), &nadd);
    char **drop = strings_of(json_object_get(host, "CapDrop"), &ndrop);
    wb_caps caps;
    int rc = wb_caps_compute(add, nadd, drop, ndrop, privileged, &caps, err);
    for (size_t i = 0; i < nadd; i++) free(add[i]);
    for (size_t i = 0; i < ndrop; i++) free(drop[i]);
    free(add);
    free(drop);
    if (rc < 0) return -1;

    job_image ji;
    if (job_image_open(c, &ji, err) < 0) return -1;
    wb_images *store = ji.store;
    wb_image *img = ji.img;
    rc = -1;
    if (wb_image_lowers(store, img, &js->lowers, err) < 0) goto out;
    const char *net = json_string_value(json_object_get(host, "NetworkMode"));
    const json_t *ul = json_object_get(host, "Ulimits");
    js->ulimits = wb_calloc(json_array_size(ul) + 1, sizeof *js->ulimits);
    for (size_t i = 0; i < json_array_size(ul); i++) {
        const json_t *l = json_array_get(ul, i);
        int res = wb_ulimit_resource(json_string_value(json_object_get(l, "Name")) ?: "");
        if (res < 0) continue;
        js->ulimits[js->nulimits++] =
            (wb_ulimit){res, json_integer_value(json_object_get(l, "Soft")),
                        json_integer_value(json_object_get(l, "Hard"))};
    }
    const json_t *tmpfs = json_object_get(host, "Tmpfs");
    js->tmpfs = wb_calloc(json_object_size(tmpfs) + 1, sizeof *js->tmpfs);
    const char *tpath;
    json_t *topts;
    json_object_foreach((json_t *)tmpfs, tpath, topts) {
        const char *ov = json_string_value(topts);
        size_t len = strlen(tpath) + (ov ? strlen(ov) : 0) + 2;
        js->tmpfs[js->ntmpfs] = wb_malloc(len);
        snprintf(js->tmpfs[js->ntmpfs], len, "%s%s%s", tpath, ov && *ov ? ":" : "",
                 ov && *ov ? ov : "");
        js->ntmpfs++;
    }
    js->lj = (wb_linux_job){
        .argv = js->argv,
        .argc = js->argc,
        .env = js->env,
        .nenv = js->nenv,
        .lowers = &js->lowers,
        .dir = c->dir,
        .workdir = js->workdir,
        .user = js->user,
        .hostname = js->hostname,
        .mounts = js->mounts,
        .nmounts = js->nmounts,
        .read_only_root = json_is_true(json_object_get(host, "ReadonlyRootfs")),
        .host_network = net && !strcmp(net, "host"),
        .netns_fd = -1,
        .tty = tty,
        .caps = caps,
        .no_new_privileges = security_opt(host, "no-new-privileges", NULL),
        .seccomp = !privileged && !security_opt(host, "seccomp", "unconfined"),
        .privileged = privileged,
        .ulimits = js->ulimits,
        .nulimits = js->nulimits,
        .tmpfs = js->tmpfs,
        .ntmpfs = js->ntmpfs,
        .shm_size = json_integer_value(json_object_get(host, "ShmSize")),
        .init = json_is_true(json_object_get(host, "Init")),
    };
    *exit_code = 0;
    rc = 0;
out:
    job_image_close(&ji);
    return rc;
}

/* Build the job from the record and the image. On failure *exit_code says how Docker would end:
 * 125 (engine), 126 (cannot invoke), 127 (not found). */
static int job_prepare(wb_container *c, job_storage *js, int *exit_code, wb_error *err) {
    memset(js, 0, sizeof *js);
    js->module_fd = -1;
    js->net.netns_fd = -1;
    *exit_code = 125;
    json_t *doc = c->doc, *cfg = json_object_get(doc, "Config"),
           *host = json_object_get(doc, "HostConfig");
    const char *path = json_string_value(json_object_get(doc, "Path"));
    js->argv = json_strings(json_object_get(doc, "Args"), &js->argc, path ? path : "");
    js->env = json_strings(json_object_get(cfg, "Env"), &js->nenv, NULL);
    const char *wd = json_string_value(json_object_get(cfg, "WorkingDir"));
    js->workdir = wd && *wd ? wb_strdup(wd) : NULL;
    json_t *binds = json_object_get(doc, "Mounts");
    js->mounts = wb_calloc(json_array_size(binds) + 1, sizeof *js->mounts);
    for (size_t i = 0; i < json_array_size(binds); i++) {
        json_t *m = json_array_get(binds, i);
        js->mounts[js->nmounts].host =
            wb_strdup(json_string_value(json_object_get(m, "Source")) ?: "");
        js->mounts[js->nmounts].guest =
            wb_strdup(json_string_value(json_object_get(m, "Destination")) ?: "");
        js->mounts[js->nmounts].read_only = !json_is_true(json_object_get(m, "RW"));
        js->nmounts++;
    }
    wb_runtime_kind kind = WB_RUNTIME_WASMEDGE;
    const char *runtime = json_string_value(json_object_get(host, "Runtime"));
    if (runtime && wb_runtime_lookup(runtime, &kind, NULL, err) < 0) return -1;
    if (kind == WB_RUNTIME_LINUX) return linux_prepare(c, js, exit_code, err);
    const char *net = json_string_value(json_object_get(host, "NetworkMode"));

    job_image ji;
    if (job_image_open(c, &ji, err) < 0) return -1;
    wb_images *store = ji.store;
    wb_image *img = ji.img;
    int rc = -1;
    bool artifact = img->wasm == WB_WASM_ARTIFACT || img->wasm == WB_WASM_RUNWASI;
    if (kind == WB_RUNTIME_WWS || kind == WB_RUNTIME_SPIN ||
        kind == WB_RUNTIME_SLIGHT) { /* the app at "/" is the workload */
        if (wb_image_lowers(store, img, &js->lowers, err) < 0) goto out;
    } else if (artifact) {
        js->module_fd = wb_image_wasm_open(store, img, err);
        if (js->module_fd < 0) goto out;
    } else {
        if (js->argc == 0 || !js->argv[0][0]) {
            wb_error_set(err, EINVAL, "no command specified");
            goto out;
        }
        if (wb_image_lowers(store, img, &js->lowers, err) < 0) goto out;
        js->module_fd = open_in_image(&js->lowers, js->workdir, js->argv[0]);
        if (js->module_fd < 0) {
            *exit_code = WB_EXIT_NOT_FOUND;
            wb_error_set(err, ENOENT, "exec: \"%s\": stat %s: no such file or directory",
                         js->argv[0], js->argv[0]);
            goto out;
        }
        char magic[4];
        if (pread(js->module_fd, magic, 4, 0) != 4 || memcmp(magic, "\0asm", 4) != 0) {
            *exit_code = WB_EXIT_CANNOT_INVOKE;
            wb_error_set(err, ENOEXEC,
                         "exec %s: exec format error (%s is not a WebAssembly module)", js->argv[0],
                         js->argv[0]);
            goto out;
        }
    }
    if (js->module_fd < 0 && kind != WB_RUNTIME_WWS && kind != WB_RUNTIME_SPIN &&
        kind != WB_RUNTIME_SLIGHT) {
        wb_error_sys(err, "open the container's module");
        goto out;
    }
    snprintf(js->module, sizeof js->module, "/proc/self/fd/%d", js->module_fd);
    js->job = (wb_wasm_job){
        .module = js->module,
        .argv = js->argv,
        .argc = js->argc,
        .env = js->env,
        .nenv = js->nenv,
        .mounts = js->mounts,
        .nmounts = js->nmounts,
        .workdir = js->workdir,
        .read_only_root = json_is_true(json_object_get(host, "ReadonlyRootfs")),
        .runtime = kind,
        .network = net && !strcmp(net, "host"),
        .max_memory = (uint64_t)json_integer_value(json_object_get(host, "Memory")),
    };
    job_engine(c, host, js);
    rc = 0;
out:
    job_image_close(&ji);
    return rc;
}

int wb_container_lowers(wb_container *c, wb_lowers *l, wb_error *err) {
    memset(l, 0, sizeof *l);
    if (!json_string_value(json_object_get(c->doc, "ImageManifest"))) return 0;
    job_image ji;
    if (job_image_open(c, &ji, err) < 0) return -1;
    int rc = wb_image_lowers(ji.store, ji.img, l, err);
    job_image_close(&ji);
    return rc;
}

/* The container's network (runtime/network.h): attached before its process starts, detached
 * (wb_net_detach) once it ended. */
static int job_network(wb_container *c, job_storage *js, wb_error *err) {
    if (wb_net_attach(c, &js->net, err) < 0) return -1;
    if (js->is_linux) {
        js->lj.netns_fd = js->net.netns_fd;
        js->lj.hosts_extra = js->net.hosts;
        js->lj.resolv = js->net.resolv;
        if (js->net.shares_host) js->lj.host_network = true;
    } else if (js->net.netns_fd >= 0 || js->net.shares_host) {
        js->job.network = true; /* its sockets live in the container's namespace */
        if (js->net.netns_fd >= 0) {
            /* names resolve as in a Linux container on the same network: through the
             * container's own hosts and resolv.conf (sock_getaddrinfo reads them) */
            const char *hn =
                json_string_value(json_object_get(json_object_get(c->doc, "Config"), "Hostname"));
            char shortid[13];
            snprintf(shortid, sizeof shortid, "%.12s", c->id);
            wb_linux_job etc = {.dir = c->dir,
                                .hostname = hn && *hn ? hn : shortid,
                                .hosts_extra = js->net.hosts,
                                .resolv = js->net.resolv,
                                .netns_fd = js->net.netns_fd};
            if (wb_linux_write_etc(&etc, err) < 0) return -1;
            if (wb_path_join(js->hosts_path, sizeof js->hosts_path, err, "%s/hosts", c->dir) < 0 ||
                wb_path_join(js->resolv_path, sizeof js->resolv_path, err, "%s/resolv.conf",
                             c->dir) < 0)
                return -1;
            js->job.hosts_path = js->hosts_path;
            js->job.resolv_path = js->resolv_path;
        }
    }
    return 0;
}

/* A Wasm workload's thread joins the container's network namespace. */
static int wasm_join_network(const job_storage *js, wb_error *err) {
    if (js->net.netns_fd >= 0 && setns(js->net.netns_fd, CLONE_NEWNET) != 0)
        return wb_error_sys(err, "join the container's network namespace");
    return 0;
}

/* The container's root (overlay or copy) for this job; in the calling process's mount namespace. */
static int job_rootfs(wb_container *c, job_storage *js, wb_error *err) {
    if (wb_wasm_prepare_rootfs(c, &js->lowers, &js->rootfs, err) < 0) return -1;
    js->job.rootfs = js->rootfs;
    if (wb_wasm_prepare_workdir(js->rootfs, js->workdir, err) < 0) return -1;
    return 0;
}

/* When the path does not fit, buf is left empty: an open of it fails (ENOENT) rather than
 * reaching another file. */
void wb_container_log_path(const wb_container *c, char *buf, size_t size) {
    if (wb_path_join(buf, size, NULL, "%s/container.log", c->dir) < 0 && size) buf[0] = '\0';
}

/* ---- the log: Docker's json-file lines ---- */

typedef struct log_stream {
    int fd;           /* pipe read end */
    int echo_fd;      /* also copy raw output here (foreground), or -1 */
    const char *name; /* "stdout" / "stderr" */
    char buf[16384];  /* partial line */
    size_t used;
} log_stream;

static void log_stream_init(log_stream *s, int fd, int echo_fd, const char *name) {
    s->fd = fd;
    s->echo_fd = echo_fd;
    s->name = name;
    s->used = 0;
}

static void log_line(int log_fd, const char *stream, const char *data, size_t len) {
    if (log_fd < 0) return;
    char now[64];
    wb_time_now(now, sizeof now);
    json_t *line = json_pack("{s:s%, s:s, s:s}", "log", data, len, "stream", stream, "time", now);
    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(line);
    if (!text) return;
    size_t n = strlen(text);
    text = wb_realloc(text, n + 2);
    text[n++] = '\n';
    ssize_t w = write(log_fd, text, n); /* O_APPEND: one write per line keeps lines whole */
    (void)w;
    free(text);
}

/* Read what is available; log complete lines (a line longer than the buffer is split). Returns
 * false at EOF. */
static bool pump(log_stream *s, int log_fd) {
    char tmp[8192];
    ssize_t n = read(s->fd, tmp, sizeof tmp);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n <= 0) {
        if (s->used) log_line(log_fd, s->name, s->buf, s->used);
        s->used = 0;
        return false;
    }
    if (s->echo_fd >= 0) {
        ssize_t w = write(s->echo_fd, tmp, (size_t)n);
        (void)w;
    }
    for (ssize_t i = 0; i < n; i++) {
        s->buf[s->used++] = tmp[i];
        if (tmp[i] == '\n' || s->used == sizeof s->buf) {
            log_line(log_fd, s->name, s->buf, s->used);
            s->used = 0;
        }
    }
    return true;
}

static void pump_until_eof(log_stream *out, log_stream *err, int log_fd) {
    struct pollfd p[2] = {{out->fd, POLLIN, 0}, {err->fd, POLLIN, 0}};
    bool open_out = out->fd >= 0, open_err = err->fd >= 0;
    while (open_out || open_err) {
        p[0].fd = open_out ? out->fd : -1;
        p[1].fd = open_err ? err->fd : -1;
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (open_out && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) open_out = pump(out, log_fd);
        if (open_err && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) open_err = pump(err, log_fd);
    }
}

/* ---- foreground ---- */

typedef struct tee_thread {
    log_stream out, err;
    int log_fd;
} tee_thread;

static void *tee_main(void *arg) {
    tee_thread *t = arg;
    pump_until_eof(&t->out, &t->err, t->log_fd);
    return NULL;
}

/* The foreground module's stdio: the CLI's own (stdin only with -i, else /dev/null, as with
 * Docker); without --rm, pipes whose output a thread copies to ours and into the log; with -t, a
 * pty whose output that thread copies, and with -i -t a second thread feeding it our stdin. The
 * tee and its line buffers (32 KiB) exist only when needed: zeroed on the stack of every run,
 * they cost eight page faults. */
typedef struct fg_io {
    int stdio[3];
    int null_in, master, slave;
    int pipes[2][2]; /* stdout, stderr: read end, write end */
    tee_thread *tee;
    pthread_t thread;
    bool teeing;
    bool input_wanted; /* -i -t: fg_io_start relays our stdin into the pty */
    wb_pty_input *input;
} fg_io;

static int fg_io_open(wb_container *c, bool auto_remove, fg_io *io, wb_error *err) {
    const json_t *config = json_object_get(c->doc, "Config");
    bool tty = json_is_true(json_object_get(config, "Tty"));
    bool interactive = json_is_true(json_object_get(config, "OpenStdin"));
    *io = (fg_io){.stdio = {0, 1, 2},
                  .null_in = -1,
                  .master = -1,
                  .slave = -1,
                  .pipes = {{-1, -1}, {-1, -1}}};
    if (!interactive && !tty) {
        io->null_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (io->null_in >= 0) io->stdio[0] = io->null_in;
    }
    int log_fd = -1;
    if (!auto_remove) {
        char log[4200];
        wb_container_log_path(c, log, sizeof log);
        log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    }
    if (tty) {
        if (wb_pty_open(&io->master, &io->slave, 1, err) < 0) {
            if (log_fd >= 0) close(log_fd);
            return -1;
        }
        io->stdio[0] = io->stdio[1] = io->stdio[2] = io->slave;
        io->tee = wb_malloc(sizeof *io->tee);
        log_stream_init(&io->tee->out, io->master, 1, "stdout");
        log_stream_init(&io->tee->err, -1, -1, "stderr");
    } else if (log_fd >= 0 && pipe2(io->pipes[0], O_CLOEXEC) == 0 &&
               pipe2(io->pipes[1], O_CLOEXEC) == 0) {
        io->stdio[1] = io->pipes[0][1];
        io->stdio[2] = io->pipes[1][1];
        io->tee = wb_malloc(sizeof *io->tee);
        log_stream_init(&io->tee->out, io->pipes[0][0], 1, "stdout");
        log_stream_init(&io->tee->err, io->pipes[1][0], 2, "stderr");
    }
    if (io->tee) {
        io->tee->log_fd = log_fd;
        log_fd = -1;
    }
    if (log_fd >= 0) close(log_fd);
    io->input_wanted = tty && interactive;
    return 0;
}

/* Start the threads of the stdio opened by fg_io_open (after a Linux container's process is
 * cloned: it must be cloned from a single-threaded process). */
static void fg_io_start(fg_io *io) {
    if (io->tee) io->teeing = pthread_create(&io->thread, NULL, tee_main, io->tee) == 0;
    if (io->tee && !io->teeing && io->master < 0) {
        /* no thread to copy the pipes: the workload writes to ours (they were given to it
         * already when a Linux container is cloned; then its output is lost to the log) */
        for (int k = 0; k < 2; k++)
            for (int e = 0; e < 2; e++)
                if (io->pipes[k][e] >= 0) close(io->pipes[k][e]);
        io->pipes[0][0] = io->pipes[0][1] = io->pipes[1][0] = io->pipes[1][1] = -1;
        io->stdio[1] = 1;
        io->stdio[2] = 2;
        if (io->tee->log_fd >= 0) close(io->tee->log_fd);
        free(io->tee);
        io->tee = NULL;
    }
    if (io->input_wanted) io->input = wb_pty_input_start(0, io->master);
}

/* After the module: end the input, let the tee copy what is left (a pty's master reads the rest,
 * then EIO, once its slave is closed), close everything. */
static void fg_io_close(fg_io *io) {
    wb_pty_input_stop(io->input);
    if (io->slave >= 0) close(io->slave);
    for (int k = 0; k < 2; k++)
        if (io->pipes[k][1] >= 0) close(io->pipes[k][1]);
    if (io->teeing)
        pthread_join(io->thread, NULL);
    else if (io->tee) /* a pty without a thread: copy it now */
        pump_until_eof(&io->tee->out, &io->tee->err, io->tee->log_fd);
    for (int k = 0; k < 2; k++)
        if (io->pipes[k][0] >= 0) close(io->pipes[k][0]);
    if (io->master >= 0) close(io->master);
    if (io->null_in >= 0) close(io->null_in);
    if (io->tee && io->tee->log_fd >= 0) close(io->tee->log_fd);
    free(io->tee);
}

/* ---- cgroups ---- */

/* The container's cgroup with the limits of its record, `pid` in it: every Linux container has
 * one (limits, stats, pause, exec, the OOM count); a Wasm container only for --cpus (its
 * --memory caps the module's linear memory instead). NULL with err when it could not be made
 * (a Linux container then does not start), or with err->code 0 when none is needed. */
static wb_cgroup *cgroup_enter(wb_container *c, bool is_linux, pid_t pid, wb_error *err) {
    const json_t *host = json_object_get(c->doc, "HostConfig");
    wb_cgroup_limits l = {
        .nano_cpus = json_integer_value(json_object_get(host, "NanoCpus")),
    };
    err->code = 0;
    if (is_linux) {
        l.memory = json_integer_value(json_object_get(host, "Memory"));
        l.memory_swap = json_integer_value(json_object_get(host, "MemorySwap"));
        l.cpu_shares = json_integer_value(json_object_get(host, "CpuShares"));
        l.pids_limit = json_integer_value(json_object_get(host, "PidsLimit"));
    } else if (l.nano_cpus <= 0) {
        return NULL;
    }
    wb_cgroup *cg;
    if (wb_cgroup_create(c->id, &l, &cg, err) < 0) return NULL;
    if (wb_cgroup_add(cg, pid, err) < 0) {
        wb_cgroup_destroy(cg, NULL);
        wb_cgroup_free(cg);
        return NULL;
    }
    return cg;
}

/* After the workload: State.OOMKilled from the cgroup's count, then the cgroup goes. */
static void cgroup_leave(wb_container *c, wb_cgroup *cg) {
    if (!cg) return;
    wb_cgroup_stats st;
    bool oom = wb_cgroup_stats_read(cg, &st, NULL) == 0 && st.oom_kills > 0;
    json_object_set_new(json_object_get(c->doc, "State"), "OOMKilled", json_boolean(oom));
    wb_cgroup_destroy(cg, NULL);
    wb_cgroup_free(cg);
}

/* Signals the foreground CLI passes on to its Linux container (Docker's --sig-proxy). Signal-
 * handler state: the container's process. */
static volatile pid_t proxied_pid;
static void proxy_signal(int sig) {
    if (proxied_pid > 0) kill(proxied_pid, sig);
}
static const int proxied_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
#define NPROXIED (sizeof proxied_signals / sizeof proxied_signals[0])

/* A Linux container in the foreground: its process is cloned from this one, which copies its
 * output (and into the log), passes signals on and records its end. */
static int linux_foreground(wb_container *c, job_storage *js, bool auto_remove, int *exit_code,
                            wb_error *err) {
    fg_io io;
    int go[2] = {-1, -1}, rep[2] = {-1, -1};
    pid_t pid = -1;
    *exit_code = 125;
    if (job_network(c, js, err) < 0) {
        wb_container_mark_exited(c, 125, err->msg, NULL);
        return -1;
    }
    if (fg_io_open(c, auto_remove, &io, err) < 0) {
        wb_net_detach(c);
        wb_container_mark_exited(c, 125, err->msg, NULL);
        return -1;
    }
    int started = pipe2(go, O_CLOEXEC) != 0 || pipe2(rep, O_CLOEXEC) != 0
                      ? wb_error_sys(err, "pipe")
                      : wb_linux_spawn(&js->lj, io.stdio, go[0], rep[1], &pid, err);
    if (started < 0) {
        for (int i = 0; i < 2; i++) {
            if (go[i] >= 0) close(go[i]);
            if (rep[i] >= 0) close(rep[i]);
        }
        fg_io_start(&io);
        fg_io_close(&io);
        wb_net_detach(c);
        wb_container_mark_exited(c, 125, err->msg, NULL);
        return -1;
    }
    close(go[0]);
    close(rep[1]);
    fg_io_start(&io);
    wb_error cgerr;
    wb_cgroup *cg = cgroup_enter(c, true, pid, &cgerr);
    if (!cg) { /* the process waits on go: closing it ends it */
        close(go[1]);
        close(rep[0]);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        fg_io_close(&io);
        *err = cgerr;
        wb_net_detach(c);
        wb_container_mark_exited(c, 125, err->msg, NULL);
        return -1;
    }
    json_object_set_new(json_object_get(c->doc, "State"), "OOMKilled", json_false());
    wb_container_mark_running(c, (int)pid, (int)getpid(), 0, NULL);
    struct sigaction sa, old[NPROXIED];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = proxy_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    proxied_pid = pid;
    for (size_t i = 0; i < NPROXIED; i++) sigaction(proxied_signals[i], &sa, &old[i]);
    ssize_t w = write(go[1], "g", 1);
    (void)w;
    close(go[1]);
    char msg[WB_ERROR_MSG_MAX];
    int failed_code = 0;
    bool failed = wb_linux_read_report(rep[0], &failed_code, msg, sizeof msg);
    close(rep[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    for (size_t i = 0; i < NPROXIED; i++) sigaction(proxied_signals[i], &old[i], NULL);
    proxied_pid = 0;
    fg_io_close(&io);
    cgroup_leave(c, cg);
    wb_net_detach(c);
    c->workload_reaped = true;
    if (failed) {
        *exit_code = failed_code;
        wb_error_set(err, ENOEXEC, "%s", msg);
    } else {
        *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (!auto_remove) wb_container_mark_exited(c, *exit_code, failed ? msg : NULL, NULL);
    return failed ? -1 : 0;
}

/* ---- pause, top ---- */

int wb_container_pause(wb_container *c, bool pause, wb_error *err) {
    wb_container_reload(c, NULL);
    json_t *st = json_object_get(c->doc, "State");
    bool paused = json_is_true(json_object_get(st, "Paused"));
    if (!wb_container_refresh(c))
        return wb_error_set(err, ESRCH, "Container %s is not running", c->id);
    if (pause && paused)
        return wb_error_set(err, EALREADY, "Container %s is already paused", c->id);
    if (!pause && !paused) return wb_error_set(err, EINVAL, "Container %s is not paused", c->id);
    wb_cgroup *cg;
    if (wb_cgroup_open(c->id, &cg, NULL) < 0) {
        /* a Wasm container without --cpus has none: one for its freezer */
        pid_t pid = (pid_t)json_integer_value(json_object_get(st, "Pid"));
        if (wb_cgroup_create(c->id, NULL, &cg, err) < 0) return -1;
        if (wb_cgroup_add(cg, pid, err) < 0) {
            wb_cgroup_free(cg);
            return -1;
        }
    }
    int rc = wb_cgroup_freeze(cg, pause, err);
    wb_cgroup_free(cg);
    if (rc < 0) return -1;
    json_object_set_new(st, "Paused", json_boolean(pause));
    json_object_set_new(st, "Status", json_string(pause ? "paused" : "running"));
    return wb_container_save(c, err);
}

int wb_container_pids(wb_container *c, pid_t **pids, size_t *n, wb_error *err) {
    *pids = NULL;
    *n = 0;
    wb_container_reload(c, NULL);
    if (!wb_container_refresh(c))
        return wb_error_set(err, ESRCH, "Container %s is not running", c->id);
    wb_cgroup *cg;
    if (wb_cgroup_open(c->id, &cg, NULL) == 0) {
        int rc = wb_cgroup_pids(cg, pids, n, err);
        wb_cgroup_free(cg);
        if (rc == 0 && *n) return 0;
        free(*pids);
        *pids = NULL;
    }
    *pids = wb_malloc(sizeof **pids);
    (*pids)[0] =
        (pid_t)json_integer_value(json_object_get(json_object_get(c->doc, "State"), "Pid"));
    *n = 1;
    return 0;
}

/* ---- stats ---- */

static uint64_t host_memory(void) {
    return (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* utime + stime (ns) and RSS (bytes) of one process, from /proc/PID/stat. */
static bool proc_usage(pid_t pid, uint64_t *cpu_ns, uint64_t *rss) {
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return false;
    buf[n] = '\0';
    char *p = strrchr(buf, ')'), *save = NULL;
    if (!p) return false;
    unsigned long long utime = 0, stime = 0, pages = 0;
    int field = 2;
    for (char *t = strtok_r(p + 1, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        field++;
        if (field == 14) utime = strtoull(t, NULL, 10);
        if (field == 15) stime = strtoull(t, NULL, 10);
        if (field == 24) {
            pages = strtoull(t, NULL, 10);
            break;
        }
    }
    long hz = sysconf(_SC_CLK_TCK);
    *cpu_ns = (utime + stime) * (1000000000ULL / (unsigned long long)(hz > 0 ? hz : 100));
    *rss = pages * (uint64_t)sysconf(_SC_PAGESIZE);
    return true;
}

/* Bytes received and sent on the interfaces of pid's network namespace but loopback. */
static void net_usage(pid_t pid, uint64_t *rx, uint64_t *tx) {
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/net/dev", (int)pid);
    FILE *f = fopen(path, "re");
    *rx = *tx = 0;
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        *colon = '\0';
        char *name = line;
        while (*name == ' ') name++;
        if (!strcmp(name, "lo")) continue;
        unsigned long long v[16] = {0};
        if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                   &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]) == 9) {
            *rx += v[0];
            *tx += v[8];
        }
    }
    fclose(f);
}

int wb_container_usage_read(wb_container *c, wb_container_usage *u, wb_error *err) {
    memset(u, 0, sizeof *u);
    wb_container_reload(c, NULL);
    if (!wb_container_refresh(c))
        return wb_error_set(err, ESRCH, "Container %s is not running", c->id);
    const json_t *host = json_object_get(c->doc, "HostConfig");
    pid_t pid = (pid_t)json_integer_value(json_object_get(json_object_get(c->doc, "State"), "Pid"));
    wb_cgroup *cg;
    if (wb_container_is_linux(c) && wb_cgroup_open(c->id, &cg, NULL) == 0) {
        wb_cgroup_stats st;
        int rc = wb_cgroup_stats_read(cg, &st, err);
        wb_cgroup_free(cg);
        if (rc < 0) return -1;
        u->cpu_ns = st.cpu_usage_ns;
        u->mem = st.memory_usage;
        u->mem_limit = st.memory_limit;
        u->pids = st.pids;
        u->blk_read = st.blkio_read;
        u->blk_write = st.blkio_write;
        if (json_string_value(json_object_get(host, "NetworkMode")) &&
            strcmp(json_string_value(json_object_get(host, "NetworkMode")), "host") != 0)
            net_usage(pid, &u->net_rx, &u->net_tx);
        return 0;
    }
    proc_usage(pid, &u->cpu_ns, &u->mem);
    uint64_t cap = (uint64_t)json_integer_value(json_object_get(host, "Memory"));
    u->mem_limit = cap ? cap : host_memory();
    u->pids = 1;
    return 0;
}

/* ---- exec ---- */

/* exec in a Wasm container: another module of the container's files (argv[0], absolute or
 * relative to the working directory), run in the container's sandbox — its root (entered
 * through the workload's mount namespace, where the overlay is), its mounts, environment,
 * network namespace and resolver files — in a child of this process. The child reports a
 * failure to start as "CODE message" on `rep`. */
static void wasm_exec_child(wb_container *c, job_storage *js, pid_t target, const wb_exec_opts *o,
                            int rep) {
    wb_error err;
    char path[4300], msg[WB_ERROR_MSG_MAX + 16];
    int code = 125;
    snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)target);
    int mnt = open(path, O_RDONLY | O_CLOEXEC);
    if (mnt < 0 || setns(mnt, CLONE_NEWNS) != 0) {
        wb_error_sys(&err, "enter the container's mount namespace");
        goto fail;
    }
    if (js->job.network) {
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int)target);
        int net = open(path, O_RDONLY | O_CLOEXEC);
        if (net < 0 || setns(net, CLONE_NEWNET) != 0) {
            wb_error_sys(&err, "enter the container's network namespace");
            goto fail;
        }
    }
    char rootdir[4300];
    if (wb_path_join(rootdir, sizeof rootdir, &err, "%s/rootfs", c->dir) < 0) goto fail;
    const char *wd = o->workdir ? o->workdir : js->workdir;
    if (wb_wasm_open_in_root(rootdir, wd, o->argv[0], js->module, &code, &err) < 0) goto fail;
    wb_wasm_job job = js->job;
    job.module = js->module;
    job.rootfs = rootdir;
    job.argv = js->argv;
    job.argc = js->argc;
    job.env = js->env;
    job.nenv = js->nenv;
    job.workdir = wd;
    job.process_exits = true;
    close(rep);
    if (wb_wasm_run(&job, &code, &err) < 0) {
        dprintf(2, "Error: %s\n", err.msg);
        _exit(WB_EXIT_CANNOT_INVOKE);
    }
    _exit(code & 0xff);
fail:
    snprintf(msg, sizeof msg, "%d %s", code, err.msg);
    if (write(rep, msg, strlen(msg)) < 0) _exit(code);
    _exit(code);
}

static int wasm_exec(wb_container *c, job_storage *js, const wb_exec_opts *o, int *exit_code,
                     wb_error *err) {
    if (o->user) return wb_error_set(err, EINVAL, "exec --user does not apply to a Wasm container");
    const char *net =
        json_string_value(json_object_get(json_object_get(c->doc, "HostConfig"), "NetworkMode"));
    js->job.network = net && strcmp(net, "none") != 0;
    if (wb_path_join(js->hosts_path, sizeof js->hosts_path, err, "%s/hosts", c->dir) < 0 ||
        wb_path_join(js->resolv_path, sizeof js->resolv_path, err, "%s/resolv.conf", c->dir) < 0)
        return -1;
    if (net && strcmp(net, "host") != 0 && access(js->hosts_path, R_OK) == 0) {
        js->job.hosts_path = js->hosts_path;
        js->job.resolv_path = js->resolv_path;
    }
    pid_t target =
        (pid_t)json_integer_value(json_object_get(json_object_get(c->doc, "State"), "Pid"));
    int rep[2];
    if (pipe2(rep, O_CLOEXEC) != 0) return wb_error_sys(err, "pipe");
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(rep[0]);
        close(rep[1]);
        return wb_error_sys(err, "fork");
    }
    if (pid == 0) {
        close(rep[0]);
        if (o->detach || !o->interactive) {
            int null_fd = open("/dev/null", O_RDWR);
            dup2(null_fd, 0);
            if (o->detach) {
                dup2(null_fd, 1);
                dup2(null_fd, 2);
                if (fork() != 0) _exit(0); /* detached: nobody waits for it */
                setsid();
            }
        }
        wasm_exec_child(c, js, target, o, rep[1]);
    }
    close(rep[1]);
    char buf[WB_ERROR_MSG_MAX + 16];
    ssize_t n;
    while ((n = read(rep[0], buf, sizeof buf - 1)) < 0 && errno == EINTR) {
    }
    close(rep[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (n > 0) {
        buf[n] = '\0';
        char *rest;
        *exit_code = (int)strtol(buf, &rest, 10);
        return wb_error_set(err, ENOEXEC, "%s", *rest == ' ' ? rest + 1 : rest);
    }
    *exit_code = o->detach ? 0 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return 0;
}

int wb_container_exec(wb_container *c, const wb_exec_opts *o, int *exit_code, wb_error *err) {
    *exit_code = 126;
    wb_container_reload(c, NULL);
    if (!wb_container_refresh(c)) {
        *exit_code = 1;
        return wb_error_set(err, ESRCH, "Container %s is not running", c->id);
    }
    if (json_is_true(json_object_get(json_object_get(c->doc, "State"), "Paused"))) {
        *exit_code = 1;
        return wb_error_set(err, EBUSY, "Container %s is paused, unpause the container before exec",
                            c->id);
    }
    if (o->argc == 0) return wb_error_set(err, EINVAL, "No exec command specified");
    job_storage js;
    int code;
    if (job_prepare(c, &js, &code, err) < 0) {
        job_release(&js);
        return -1;
    }
    /* the exec's own command, environment, user and directory over the container's */
    for (size_t i = 0; i < js.argc; i++) free(js.argv[i]);
    free(js.argv);
    js.argv = wb_calloc(o->argc + 1, sizeof *js.argv);
    for (size_t i = 0; i < o->argc; i++) js.argv[i] = wb_strdup(o->argv[i]);
    js.argc = o->argc;
    for (size_t i = 0; i < o->nenv; i++) {
        const char *eq = strchr(o->env[i], '=');
        size_t klen = eq ? (size_t)(eq - o->env[i]) : strlen(o->env[i]);
        size_t k = 0;
        while (k < js.nenv && !(strncmp(js.env[k], o->env[i], klen) == 0 && js.env[k][klen] == '='))
            k++;
        if (k == js.nenv) {
            js.env = wb_reallocarray(js.env, js.nenv + 2, sizeof *js.env);
            js.nenv++;
            js.env[js.nenv] = NULL;
        } else {
            free(js.env[k]);
        }
        js.env[k] = wb_strdup(o->env[i]);
    }
    if (!js.is_linux) {
        int rc = wasm_exec(c, &js, o, exit_code, err);
        job_release(&js);
        return rc;
    }
    if (o->tty) env_default(&js.env, &js.nenv, "TERM", "xterm");
    wb_linux_job lj = js.lj;
    lj.argv = js.argv;
    lj.argc = js.argc;
    lj.env = js.env;
    lj.nenv = js.nenv;
    lj.tty = o->tty;
    if (o->user) lj.user = o->user;
    if (o->workdir) lj.workdir = o->workdir;
    if (o->privileged) {
        lj.caps = wb_caps_all();
        lj.seccomp = false;
    }
    pid_t target =
        (pid_t)json_integer_value(json_object_get(json_object_get(c->doc, "State"), "Pid"));
    int stdio[3] = {0, 1, 2}, null_fd = -1, master = -1, slave = -1, rep[2] = {-1, -1};
    int rc = -1;
    if (o->detach || !o->interactive) {
        null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        stdio[0] = null_fd;
        if (o->detach) stdio[1] = stdio[2] = null_fd;
    }
    if (o->tty && !o->detach) {
        if (wb_pty_open(&master, &slave, 1, err) < 0) goto out;
        stdio[0] = stdio[1] = stdio[2] = slave;
    }
    pid_t pid = -1;
    if (pipe2(rep, O_CLOEXEC) != 0) {
        wb_error_sys(err, "pipe");
        goto out;
    }
    if (wb_linux_exec_spawn(&lj, target, c->id, stdio, rep[1], &pid, err) < 0) goto out;
    close(rep[1]);
    rep[1] = -1;
    if (slave >= 0) {
        close(slave);
        slave = -1;
    }
    char msg[WB_ERROR_MSG_MAX];
    int failed_code = 0;
    if (wb_linux_read_report(rep[0], &failed_code, msg, sizeof msg)) {
        if (pid > 0)
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
            }
        *exit_code = failed_code;
        wb_error_set(err, ENOEXEC, "%s", msg);
        goto out;
    }
    if (pid <= 0) {
        wb_error_set(err, EIO, "the exec'd process did not start");
        goto out;
    }
    if (o->detach) {
        *exit_code = 0;
        rc = 0;
        goto out;
    }
    wb_pty_input *input = NULL;
    if (master >= 0 && o->interactive) input = wb_pty_input_start(0, master);
    struct sigaction sa, old[NPROXIED];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = proxy_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    proxied_pid = pid;
    for (size_t i = 0; i < NPROXIED; i++) sigaction(proxied_signals[i], &sa, &old[i]);
    if (master >= 0) { /* the pty's output to ours until its last holder closes it */
        char buf[8192];
        for (;;) {
            ssize_t n = read(master, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            ssize_t w = write(1, buf, (size_t)n);
            (void)w;
        }
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    for (size_t i = 0; i < NPROXIED; i++) sigaction(proxied_signals[i], &old[i], NULL);
    proxied_pid = 0;
    wb_pty_input_stop(input);
    *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    rc = 0;
out:
    for (int i = 0; i < 2; i++)
        if (rep[i] >= 0) close(rep[i]);
    if (null_fd >= 0) close(null_fd);
    if (slave >= 0) close(slave);
    if (master >= 0) close(master);
    job_release(&js);
    return rc;
}

int wb_container_run_foreground(wb_container *c, int *exit_code, wb_error *err) {
    job_storage js;
    int rc = -1;
    if (job_prepare(c, &js, exit_code, err) < 0) {
        wb_container_mark_exited(c, *exit_code, err->msg, NULL);
        job_release(&js);
        return -1;
    }
    *exit_code = 125;
    bool auto_remove =
        json_is_true(json_object_get(json_object_get(c->doc, "HostConfig"), "AutoRemove"));
    if (js.is_linux) {
        rc = linux_foreground(c, &js, auto_remove, exit_code, err);
        job_release(&js);
        return rc;
    }
    fg_io io;
    /* the container's root in a mount namespace of this process (the overlay vanishes with it);
     * a record created by this run is already running */
    bool networked = false;
    if (job_rootfs(c, &js, err) < 0 || !(networked = job_network(c, &js, err) == 0) ||
        wasm_join_network(&js, err) < 0 ||
        (c->running_recorded && js.net.netns_fd >= 0 && wb_container_save(c, err) < 0) ||
        (!c->running_recorded &&
         wb_container_mark_running(c, (int)getpid(), (int)getpid(), 0, err) < 0) ||
        fg_io_open(c, auto_remove, &io, err) < 0) {
        if (networked) wb_net_detach(c);
        wb_container_mark_exited(c, 125, err->msg, NULL);
        if (js.rootfs && js.lowers.n) umount2(js.rootfs, MNT_DETACH); /* an overlay */
        job_release(&js);
        return -1;
    }
    fg_io_start(&io);
    memcpy(js.job.stdio, io.stdio, sizeof io.stdio);
    js.job.process_exits = true; /* the CLI ends with its container */
    rc = wb_wasm_run(&js.job, exit_code, err);
    fg_io_close(&io);
    if (rc < 0) {
        bool format =
            err->code == WB_EMALFORMED || err->code == WB_EINVALID || err->code == ENOEXEC;
        *exit_code = format ? WB_EXIT_CANNOT_INVOKE : 125;
    }
    c->workload_reaped = true;
    wb_net_detach(c);
    /* a container about to be removed needs no final state */
    if (!auto_remove) wb_container_mark_exited(c, *exit_code, rc < 0 ? err->msg : NULL, NULL);
    if (js.rootfs && js.lowers.n) umount2(js.rootfs, MNT_DETACH); /* an overlay */
    job_release(&js);
    return rc;
}

/* ---- the monitor ---- */

static bool stop_requested(const wb_container *c) {
    char path[4200];
    /* a path too long for the marker: none can have been made (mark_stop_requested) */
    if (wb_path_join(path, sizeof path, NULL, "%s/stopped", c->dir) < 0) return false;
    return access(path, F_OK) == 0;
}

/* Tell the launcher how the first start went: "0" or "<exit code> <message>". */
static void report(int fd, int exit_code, const char *msg) {
    if (fd < 0) return;
    char buf[WB_ERROR_MSG_MAX + 16];
    int n =
        msg ? snprintf(buf, sizeof buf, "%d %s", exit_code, msg) : snprintf(buf, sizeof buf, "0");
    ssize_t w = write(fd, buf, (size_t)n);
    (void)w;
    close(fd);
}

static bool should_restart(const wb_container *c, int exit_code, int restarts) {
    json_t *pol = json_object_get(json_object_get(c->doc, "HostConfig"), "RestartPolicy");
    const char *name = json_string_value(json_object_get(pol, "Name"));
    if (!name || !strcmp(name, "no") || !*name) return false;
    if (stop_requested(c)) return false;
    if (!strcmp(name, "on-failure")) {
        int max = (int)json_integer_value(json_object_get(pol, "MaximumRetryCount"));
        return exit_code != 0 && (max <= 0 || restarts < max);
    }
    return !strcmp(name, "always") || !strcmp(name, "unless-stopped");
}

static void monitor_main(wb_container *c, int status_fd) {
    char log[4200];
    wb_container_log_path(c, log, sizeof log);
    int log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd >= 0) {
        dup2(null_fd, 0);
        dup2(null_fd, 1);
        dup2(null_fd, 2);
        if (null_fd > 2) close(null_fd);
    }
    int restarts = 0;
    int64_t backoff_ms = 100;
    wb_error err;
    /* read before any workload runs: /proc/self/stat is slow while a new child faults in pages */
    unsigned long long monitor_start = wb_process_start_time((int)getpid());
    for (;;) {
        if (restarts > 0)
            wb_container_reload(c, NULL); /* the first pass has the launcher's record */
        job_storage js;
        int exit_code;
        int prepared = job_prepare(c, &js, &exit_code, &err);
        if (prepared == 0 && job_network(c, &js, &err) < 0) {
            prepared = -1;
            exit_code = 125;
        }
        if (prepared < 0) {
            wb_container_mark_exited(c, exit_code, err.msg, NULL);
            report(status_fd, exit_code, err.msg);
            status_fd = -1;
            job_release(&js);
            break;
        }
        /* go: the workload waits on it until its state says running, so the first instruction
         * runs after `ps` could see the container running; the launcher is told once a Wasm
         * workload has mounted its root (or a Linux one has exec'ed) */
        int pout[2] = {-1, -1}, perr[2] = {-1, -1}, go[2] = {-1, -1};
        /* -t: one pty (master, slave) in place of the two pipes; its output is "stdout" */
        bool tty = json_is_true(json_object_get(json_object_get(c->doc, "Config"), "Tty"));
        wb_error pty_err;
        bool streams = tty ? wb_pty_open(&pout[0], &pout[1], -1, &pty_err) == 0
                           : pipe2(pout, O_CLOEXEC) == 0 && pipe2(perr, O_CLOEXEC) == 0;
        if (!streams || pipe2(go, O_CLOEXEC) != 0) {
            for (int i = 0; i < 2; i++) {
                if (pout[i] >= 0) close(pout[i]);
                if (perr[i] >= 0) close(perr[i]);
            }
            report(status_fd, 125, "cannot create the container's pipes");
            wb_net_detach(c);
            job_release(&js);
            break;
        }
        pid_t monitor = getpid();
        pid_t pid = -1;
        int rep[2] = {-1, -1}; /* a Linux container's report of a failed start */
        if (js.is_linux) {
            int stdio[3] = {tty ? pout[1] : 0, pout[1], tty ? pout[1] : perr[1]};
            if (pipe2(rep, O_CLOEXEC) != 0 ||
                wb_linux_spawn(&js.lj, stdio, go[0], rep[1], &pid, &err) < 0) {
                if (rep[0] >= 0) {
                    close(rep[0]);
                    close(rep[1]);
                }
                for (int i = 0; i < 2; i++) {
                    close(pout[i]);
                    close(go[i]);
                    if (perr[i] >= 0) close(perr[i]);
                }
                wb_net_detach(c);
                wb_container_mark_exited(c, 125, err.msg, NULL);
                report(status_fd, 125, err.msg);
                status_fd = -1;
                job_release(&js);
                break;
            }
            close(rep[1]);
        } else {
            /* a Wasm workload says when its root is mounted: `run -d` returns after that, so a
             * `cp` or `exec` right after it finds the container's files */
            if (pipe2(rep, O_CLOEXEC) != 0) rep[0] = rep[1] = -1;
            pid = fork();
            if (pid != 0 && rep[1] >= 0) close(rep[1]);
        }
        if (pid == 0) {
            /* the workload: dies with its monitor */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != monitor) _exit(137);
            close(go[1]);
            char g;
            ssize_t n;
            while ((n = read(go[0], &g, 1)) < 0 && errno == EINTR) {
            }
            if (n != 1) _exit(125); /* the monitor gave up before starting it */
            close(go[0]);
            /* the launcher waits for EOF on the status pipe: only the monitor may hold it */
            if (status_fd >= 0) close(status_fd);
            if (log_fd >= 0) close(log_fd);
            if (tty) dup2(pout[1], 0);
            dup2(pout[1], 1);
            dup2(tty ? pout[1] : perr[1], 2);
            signal(SIGPIPE, SIG_IGN);
            int code;
            if (job_rootfs(c, &js, &err) < 0 || wasm_join_network(&js, &err) < 0) {
                dprintf(2, "Error: %s\n", err.msg);
                _exit(125);
            }
            if (rep[0] >= 0) close(rep[0]);
            if (rep[1] >= 0) {
                ssize_t r = write(rep[1], "r", 1);
                (void)r;
                close(rep[1]);
            }
            js.job.process_exits = true;
            if (wb_wasm_run(&js.job, &code, &err) < 0) {
                dprintf(2, "Error: %s\n", err.msg);
                bool format =
                    err.code == WB_EMALFORMED || err.code == WB_EINVALID || err.code == ENOEXEC;
                _exit(format ? WB_EXIT_CANNOT_INVOKE : 125);
            }
            _exit(code & 0xff);
        }
        close(pout[1]);
        if (perr[1] >= 0) close(perr[1]);
        close(go[0]);
        if (pid < 0) {
            if (!js.is_linux && rep[0] >= 0) close(rep[0]);
            close(go[1]);
            close(pout[0]);
            if (perr[0] >= 0) close(perr[0]);
            report(status_fd, 125, "cannot fork the workload");
            wb_net_detach(c);
            job_release(&js);
            break;
        }
        wb_error cgerr;
        wb_cgroup *cg = cgroup_enter(c, js.is_linux, pid, &cgerr);
        if (!cg && cgerr.code != 0) {
            if (!js.is_linux) { /* a Wasm container runs without its CPU quota, as before */
            } else {            /* the process waits on go: closing it ends it */
                close(go[1]);
                close(rep[0]);
                close(pout[0]);
                if (perr[0] >= 0) close(perr[0]);
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
                }
                wb_net_detach(c);
                wb_container_mark_exited(c, 125, cgerr.msg, NULL);
                report(status_fd, 125, cgerr.msg);
                status_fd = -1;
                job_release(&js);
                break;
            }
        }
        json_object_set_new(c->doc, "RestartCount", json_integer(restarts));
        json_object_set_new(json_object_get(c->doc, "State"), "OOMKilled", json_false());
        wb_container_mark_running(c, (int)pid, (int)getpid(), monitor_start, NULL);
        ssize_t w = write(go[1], "g", 1);
        (void)w;
        close(go[1]);
        if (!js.is_linux) { /* its root is mounted (a byte) or it failed (end of file) */
            char b;
            while (rep[0] >= 0 && read(rep[0], &b, 1) < 0 && errno == EINTR) {
            }
            if (rep[0] >= 0) close(rep[0]);
            report(status_fd, 0, NULL);
            status_fd = -1;
        }
        if (js.is_linux) { /* running once exec'ed: the report pipe closes without a word */
            char msg[WB_ERROR_MSG_MAX];
            int code = 0;
            bool failed = wb_linux_read_report(rep[0], &code, msg, sizeof msg);
            close(rep[0]);
            if (failed) {
                close(pout[0]);
                if (perr[0] >= 0) close(perr[0]);
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
                }
                wb_container_reload(c, NULL);
                cgroup_leave(c, cg);
                wb_net_detach(c);
                wb_container_mark_exited(c, code, msg, NULL);
                report(status_fd, code, msg);
                status_fd = -1;
                job_release(&js);
                break;
            }
            report(status_fd, 0, NULL);
            status_fd = -1;
        }
        time_t started = time(NULL);
        /* fields set one by one: an initializer would zero the 16 KiB line buffers, a page
         * fault for each of their pages in this freshly forked process */
        log_stream out, errs;
        log_stream_init(&out, pout[0], -1, "stdout");
        log_stream_init(&errs, perr[0], -1, "stderr");
        pump_until_eof(&out, &errs, log_fd);
        close(pout[0]);
        if (perr[0] >= 0) close(perr[0]);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        wb_container_reload(c, NULL);
        cgroup_leave(c, cg);
        wb_net_detach(c);
        wb_container_mark_exited(c, exit_code, NULL, NULL);
        job_release(&js);
        if (!should_restart(c, exit_code, restarts)) break;
        /* Docker's backoff: doubling from 100 ms, reset after 10 s of running */
        if (time(NULL) - started >= 10) backoff_ms = 100;
        struct timespec ts = {backoff_ms / 1000, (backoff_ms % 1000) * 1000000};
        json_object_set_new(json_object_get(c->doc, "State"), "Restarting", json_true());
        json_object_set_new(json_object_get(c->doc, "State"), "Status", json_string("restarting"));
        wb_container_save(c, NULL);
        nanosleep(&ts, NULL);
        if (backoff_ms < 60000) backoff_ms *= 2;
        restarts++;
        if (stop_requested(c)) {
            json_object_set_new(json_object_get(c->doc, "State"), "Restarting", json_false());
            json_object_set_new(json_object_get(c->doc, "State"), "Status", json_string("exited"));
            wb_container_save(c, NULL);
            break;
        }
    }
    if (log_fd >= 0) close(log_fd);
    c->workload_reaped = true; /* every workload this monitor forked has been waited for */
    if (json_is_true(json_object_get(json_object_get(c->doc, "HostConfig"), "AutoRemove"))) {
        json_t *mounts = json_deep_copy(json_object_get(c->doc, "Mounts"));
        if (wb_container_remove(c, NULL) == 0) wb_volumes_remove_anonymous(c->root, mounts);
        json_decref(mounts);
    }
}

int wb_container_start_detached(wb_container *c, int *exit_code, wb_error *err) {
    int st[2];
    *exit_code = 125;
    char marker[4200];
    if (wb_path_join(marker, sizeof marker, err, "%s/stopped", c->dir) < 0) return -1;
    unlink(marker);
    if (pipe2(st, O_CLOEXEC) != 0) return wb_error_sys(err, "pipe");
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(st[0]);
        close(st[1]);
        return wb_error_sys(err, "fork");
    }
    if (pid == 0) {
        /* the monitor, in its own session so the caller's terminal and signals pass it by. One
         * fork, not a double fork: the CLI exits right after the report and init adopts the
         * monitor, and a session leader that opens no terminal never acquires one. */
        close(st[0]);
        /* none of the CLI's descriptors but the report pipe: a store's shared gc.lock or a
         * registry connection would otherwise live as long as the container */
        int report_fd = st[1];
        if (report_fd != 3) {
            if (dup3(report_fd, 3, O_CLOEXEC) < 0) _exit(1);
            report_fd = 3;
        }
        syscall(SYS_close_range, 4, ~0U, 0); /* no wrapper in musl (the static core) */
        c->store = NULL; /* the CLI's handles are not the monitor's (and it outlives them) */
        c->image = NULL;
        setsid();
        signal(SIGHUP, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        if (chdir("/") != 0) _exit(1);
        monitor_main(c, report_fd);
        _exit(0);
    }
    close(st[1]);
    /* the report is one write (shorter than PIPE_BUF, so whole); waiting for EOF instead would
     * also wait for the new workload to close its inherited copy of the pipe */
    char buf[WB_ERROR_MSG_MAX + 16];
    size_t got = 0;
    for (;;) {
        ssize_t n = read(st[0], buf, sizeof buf - 1);
        if (n < 0 && errno == EINTR) continue;
        got = n > 0 ? (size_t)n : 0;
        break;
    }
    close(st[0]);
    buf[got] = '\0';
    if (got == 0) return wb_error_set(err, EIO, "the container's monitor did not start");
    char *msg;
    long code = strtol(buf, &msg, 10);
    if (code == 0) {
        *exit_code = 0;
        return 0;
    }
    *exit_code = (int)code;
    return wb_error_set(err, EIO, "%s", msg[0] == ' ' ? msg + 1 : msg);
}

/* ---- liveness, signals, stop, wait ---- */

static bool process_matches(int pid, json_int_t start) {
    if (pid <= 0) return false;
    unsigned long long s = wb_process_start_time(pid);
    return s && (start == 0 || (json_int_t)s == start);
}

bool wb_container_refresh(wb_container *c) {
    json_t *st = json_object_get(c->doc, "State");
    const char *status = json_string_value(json_object_get(st, "Status"));
    if (!status || (strcmp(status, "running") != 0 && strcmp(status, "restarting") != 0 &&
                    strcmp(status, "paused") != 0))
        return false;
    int mon = (int)json_integer_value(json_object_get(st, "MonitorPid"));
    json_int_t start = json_integer_value(json_object_get(st, "MonitorStart"));
    if (process_matches(mon, start)) return true;
    /* the monitor (or foreground runner) is gone without recording an exit: whoever finds it
     * records it (kept in c when the record cannot be written, e.g. another user's store) */
    if (wb_container_mark_vanished(c, NULL) == 1) return wb_container_refresh(c);
    return false;
}

int wb_container_signal(wb_container *c, int sig, wb_error *err) {
    wb_container_reload(c, NULL);
    if (!wb_container_refresh(c)) {
        return wb_error_set(err, ESRCH, "Cannot kill container: %s: Container %.12s is not running",
                            c->name, c->id);
    }
    json_t *st = json_object_get(c->doc, "State");
    int pid = (int)json_integer_value(json_object_get(st, "Pid"));
    if (pid > 0 && kill(pid, sig) != 0 && errno != ESRCH)
        return wb_error_sys(err, "signal container %s", c->name);
    return 0;
}

static void mark_stop_requested(wb_container *c) {
    char path[4200];
    if (wb_path_join(path, sizeof path, NULL, "%s/stopped", c->dir) < 0) return;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) close(fd);
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* The container's cgroup, if it has one left (a workload's monitor removes it at its end). */
static void cgroup_remove(const wb_container *c) {
    wb_cgroup *cg;
    if (wb_cgroup_open(c->id, &cg, NULL) < 0) return;
    wb_cgroup_destroy(cg, NULL);
    wb_cgroup_free(cg);
}

/* A paused container gets its signals once thawed (Docker unpauses it after signalling). */
static void thaw_if_paused(wb_container *c) {
    if (!json_is_true(json_object_get(json_object_get(c->doc, "State"), "Paused"))) return;
    wb_container_pause(c, false, NULL);
}

int wb_container_kill(wb_container *c, int sig, wb_error *err) {
    if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT) mark_stop_requested(c);
    int rc = wb_container_signal(c, sig, err);
    if (rc == 0) thaw_if_paused(c);
    return rc;
}

int wb_container_remove_force(wb_container *c, wb_error *err) {
    wb_container_reload(c, NULL);
    if (wb_container_refresh(c)) {
        json_t *st = json_object_get(c->doc, "State");
        int mon = (int)json_integer_value(json_object_get(st, "MonitorPid"));
        int pid = (int)json_integer_value(json_object_get(st, "Pid"));
        json_int_t mstart = json_integer_value(json_object_get(st, "MonitorStart"));
        mark_stop_requested(c);
        if (pid > 0) kill(pid, SIGKILL);
        thaw_if_paused(c);
        bool separate = mon > 0 && mon != pid && (json_int_t)wb_process_start_time(mon) == mstart;
        for (int i = 0; i < 250 && separate && wb_process_start_time(mon); i++) sleep_ms(10);
        if (separate && (json_int_t)wb_process_start_time(mon) == mstart) kill(mon, SIGKILL);
    }
    cgroup_remove(c);
    return wb_container_remove(c, err);
}

static bool running_now(wb_container *c) {
    if (wb_container_reload(c, NULL) < 0) return false;
    return wb_container_refresh(c);
}

int wb_signal_parse(const char *s) {
    static const struct {
        const char *name;
        int sig;
    } sigs[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},  {"KILL", SIGKILL},
                {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM},  {"STOP", SIGSTOP},
                {"CONT", SIGCONT}, {"ALRM", SIGALRM}, {"WINCH", SIGWINCH}};
    if (!strncmp(s, "SIG", 3)) s += 3;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (!strcasecmp(s, sigs[i].name)) return sigs[i].sig;
    char *end;
    long n = strtol(s, &end, 10);
    return *s && !*end && n > 0 && n < 65 ? (int)n : -1;
}

static int stop_signal_of(const wb_container *c) {
    const char *s =
        json_string_value(json_object_get(json_object_get(c->doc, "Config"), "StopSignal"));
    int sig = s ? wb_signal_parse(s) : -1;
    return sig > 0 ? sig : SIGTERM;
}

static int stop_timeout_of(const wb_container *c, int timeout) {
    if (timeout >= 0) return timeout;
    json_t *t = json_object_get(json_object_get(c->doc, "Config"), "StopTimeout");
    return json_is_integer(t) ? (int)json_integer_value(t) : 10;
}

int wb_containers_stop(wb_container **cs, size_t n, int timeout, volatile sig_atomic_t *force,
                       wb_stopped_fn stopped, void *ctx) {
    bool *live = wb_calloc(n + 1, sizeof *live);
    for (size_t i = 0; i < n; i++) {
        mark_stop_requested(cs[i]);
        live[i] = running_now(cs[i]);
        if (live[i] && wb_container_signal(cs[i], stop_signal_of(cs[i]), NULL) == 0)
            thaw_if_paused(cs[i]);
    }
    for (long waited = 0;; waited += 20) {
        size_t left = 0;
        bool forced = force && *force;
        for (size_t i = 0; i < n; i++) {
            if (!live[i]) continue;
            if (!running_now(cs[i])) {
                live[i] = false;
                if (stopped) stopped(ctx, cs[i]);
                continue;
            }
            left++;
            if (forced || waited >= (long)stop_timeout_of(cs[i], timeout) * 1000)
                wb_container_signal(cs[i], SIGKILL, NULL);
        }
        if (!left || waited > 10000000L) break;
        sleep_ms(20);
    }
    free(live);
    return 0;
}

int wb_container_stop(wb_container *c, int timeout, wb_error *err) {
    mark_stop_requested(c);
    if (!running_now(c)) return 0;
    timeout = stop_timeout_of(c, timeout);
    if (wb_container_signal(c, stop_signal_of(c), err) < 0) return running_now(c) ? -1 : 0;
    thaw_if_paused(c);
    for (long waited = 0; waited < (long)timeout * 1000; waited += 20) {
        if (!running_now(c)) return 0;
        sleep_ms(20);
    }
    if (running_now(c)) wb_container_signal(c, SIGKILL, NULL);
    for (int i = 0; i < 500 && running_now(c); i++) sleep_ms(20);
    return 0;
}

int wb_container_wait(wb_container *c, int *exit_code, wb_error *err) {
    for (;;) {
        if (wb_container_reload(c, err) < 0) return -1;
        if (!wb_container_refresh(c)) break;
        sleep_ms(20);
    }
    *exit_code =
        (int)json_integer_value(json_object_get(json_object_get(c->doc, "State"), "ExitCode"));
    return 0;
}
