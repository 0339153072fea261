/* What the application runtimes share (apps/app_common.h). */
#include "apps/app_common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fsutil.h"
#include "runtime/rootpath.h"

const char *wb_app_env(const wb_wasm_job *job, const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i < job->nenv; i++)
        if (!strncmp(job->env[i], name, n) && job->env[i][n] == '=') return job->env[i] + n + 1;
    return NULL;
}

void wb_app_log(int fd, const char *fmt, ...) {
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n > sizeof line - 2) n = sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(fd, line, (size_t)n);
    (void)w;
}

char *wb_app_path(const char *from) {
    char *out = NULL;
    size_t len = 0;
    wb_appendf(&out, &len, "%s", "");
    const char *p = from;
    while (*p) {
        while (*p == '/') p++;
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 2 && !strncmp(p, "..", 2)) {
            free(out);
            return NULL;
        }
        if (n && !(n == 1 && *p == '.')) wb_appendf(&out, &len, "/%.*s", (int)n, p);
        p += n;
    }
    if (!len) wb_appendf(&out, &len, "/");
    return out;
}

int wb_app_open(const wb_wasm_job *job, const char *guest, bool want_dir, bool *read_only) {
    const wb_mount *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < job->nmounts; i++) {
        const char *g = job->mounts[i].guest;
        size_t n = strlen(g);
        while (n > 1 && g[n - 1] == '/') n--;
        if (!strncmp(guest, g, n) && (guest[n] == '/' || !guest[n]) && n >= best_len) {
            best = &job->mounts[i];
            best_len = n;
        }
    }
    const char *rest = best ? guest + best_len : guest;
    *read_only = best ? best->read_only : job->read_only_root;
    int root = open(best ? best->host : job->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) return -1;
    int fd = wb_root_open(root, *rest ? rest : "/", want_dir ? WB_ROOT_DIR : WB_ROOT_FILE, false);
    int e = errno;
    close(root);
    errno = e;
    return fd;
}

int wb_app_state_dir(const wb_wasm_job *job, const char *guest, bool fresh, wb_error *err) {
    int root = open(job->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) return wb_error_sys(err, "open the container's root");
    int rc = 0;
    if (fresh) { /* remove GUEST through its parent, resolved in the root */
        const char *slash = strrchr(guest, '/');
        char *parent = wb_strndup(guest, slash && slash != guest ? (size_t)(slash - guest) : 1);
        int p = wb_root_open(root, parent, WB_ROOT_DIR, true);
        free(parent);
        char old[PATH_MAX];
        if (p < 0)
            rc = wb_error_sys(err, "make %s in the container", guest);
        else if (wb_path_join(old, sizeof old, err, "/proc/self/fd/%d/%s", p,
                              slash ? slash + 1 : guest) < 0)
            rc = -1;
        else
            rc = wb_remove_tree(old, err);
        if (p >= 0) close(p);
    }
    int fd = rc < 0 ? -1 : wb_root_open(root, guest, WB_ROOT_DIR, true);
    if (rc == 0 && fd < 0) wb_error_sys(err, "make %s in the container", guest);
    close(root);
    return fd;
}

/* ---- the tier ---- */

int wb_app_prepare_module(const wb_wasm_job *job, wb_module *m, wb_error *err) {
    if (job->engine == WB_ENGINE_INTERP) return 0;
    if (job->engine == WB_ENGINE_NATIVE && job->native_cache) {
        char reason[512], program[4096];
        int state = wb_native_cache_state(m, job->native_cache, reason, sizeof reason);
        if (state < 0) return wb_error_set(err, ENOEXEC, "native code: %s", reason);
        if (state == 0 && wb_native_compiler_program(program, sizeof program) &&
            wb_native_compile_child(m, job->native_cache, program, -1, NULL, NULL, err) < 0)
            return -1;
    }
    wb_native_use u = {.engine = job->engine, .cache_dir = job->native_cache, .background = true};
    return wb_native_use_module(m, &u, err);
}

void wb_app_record_tier(const wb_wasm_job *job, bool native) {
    if (!job->tier_path) return;
    const char *tier = native ? "native\n" : "interp\n";
    wb_write_file_atomic(job->tier_path, tier, strlen(tier), 0644, false, NULL);
}

/* ---- serving ---- */

/* Signal-handler state: the write end of the pipe the server stops on. */
static volatile int stop_pipe_w = -1;

static void on_stop(int sig) {
    (void)sig;
    char b = 1;
    if (stop_pipe_w >= 0 && write(stop_pipe_w, &b, 1) < 0) {
    }
}

static bool in_host_network(void) {
    struct stat self, init;
    return stat("/proc/self/ns/net", &self) == 0 && stat("/proc/1/ns/net", &init) == 0 &&
           self.st_ino == init.st_ino && self.st_dev == init.st_dev;
}

/* Still in the host's network namespace (--network none: no namespace was made for the
 * container)? Then a private one, as Docker's none gives, with its loopback up. */
static void private_network(const wb_wasm_job *job, const char *name) {
    if (!in_host_network()) return;
    if (unshare(CLONE_NEWNET) != 0) {
        dprintf(job->stdio[2] ? job->stdio[2] : 2,
                "%s: warning: no network namespace of its own (%s): serving on the host's "
                "loopback\n",
                name, strerror(errno));
        return;
    }
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP;
        ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    if (s >= 0) close(s);
}

int wb_app_serve(const wb_wasm_job *job, const wb_app_server *app, int *exit_code, wb_error *err) {
    const char *name = app->name, *host = app->host ? app->host : "0.0.0.0";
    *exit_code = 1;
    signal(SIGPIPE, SIG_IGN);
    if (!job->network) {
        private_network(job, name);
        if (in_host_network()) host = "127.0.0.1"; /* never the host's other addresses */
    }
    wb_http_server_config sc = {.host = host,
                                .port = app->port,
                                .handler = app->handler,
                                .ctx = app->ctx,
                                .on_stop = app->on_stop};
    wb_http_server *srv;
    if (wb_http_server_new(&sc, &srv, err) < 0) return wb_error_wrap(err, "%s", name);
    if (app->banner) app->banner(app->ctx, job->stdio[1] ? job->stdio[1] : 1, host, app->port);
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        wb_http_server_free(srv);
        return wb_error_sys(err, "%s: pipe", name);
    }
    stop_pipe_w = p[1];
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    int rc = wb_http_server_run(srv, p[0], err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    stop_pipe_w = -1;
    close(p[0]);
    close(p[1]);
    wb_http_server_free(srv);
    if (rc == 0) *exit_code = 0;
    return rc;
}
