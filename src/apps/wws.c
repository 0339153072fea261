/* wws: workers found once at start (modules decoded, validated and link-checked then), a route
 * table sorted so that the first match is the best (static > dynamic > tail, segment by
 * segment), and per request an instance from the worker's pool (apps/instance_pool.h: as fresh
 * as a new one) with stdin and stdout in memory. */
#include "apps/wws.h"
#include "apps/app_common.h"
#include "apps/instance_pool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base/alloc.h"
#include "base/fsutil.h"
#include "base/sha256.h"
#include "base/toml.h"
#include "runtime/rootpath.h"
#include "wasi/wasi.h"
#include "wasm/native_tier.h"
#include "wasm/wasm.h"

#define MAX_OUTPUT_BYTES (64u << 20) /* a worker's JSON answer */
#define MAX_SEGMENTS     64

enum seg_kind { SEG_STATIC, SEG_DYNAMIC, SEG_TAIL };

/* An interpreter declared in /.wws.toml (an "external runtime"): its module runs the source
 * preopened at /src. */
typedef struct wws_runtime {
    char *repo, *name, *version;
    json_t *extensions;       /* ["py"] */
    json_t *args;             /* argv as declared */
    char *dir;                /* host path of /.wws/runtimes/REPO/NAME/VERSION */
    char *binary;             /* the interpreter's module: a file name in dir */
    char *wrapper, *polyfill; /* file names in dir, or NULL */
    wb_module *module;        /* NULL until a worker uses it */
} wws_runtime;

typedef struct wws_worker {
    char *file;  /* inside the app: "/api/[id].wasm" */
    char *route; /* "/api/[id]" */
    char *seg[MAX_SEGMENTS];
    enum seg_kind kind[MAX_SEGMENTS];
    int nseg;
    wb_module *module; /* owned, or the runtime's */
    wws_runtime *runtime;
    char *missing; /* why this worker cannot run (no runtime for it), or NULL */
    char *kv_namespace;
    char **env; /* [vars] as NAME=VALUE */
    size_t nenv;
    wb_wasi_dir *dirs; /* [[folders]], then /src for interpreted workers */
    int ndirs;
    int *folder_fds; /* the [[folders]] directories, held open (their dirs[].host names them) */
    int nfolder_fds;
    char **argv;
    int argc;
    pthread_mutex_t pool_lock;
    wb_pool *pool; /* instances for its requests, made at the first */
} wws_worker;

struct wb_wws_app {
    const wb_wasm_job *job;
    char *root;
    bool has_public;
    wws_worker *workers;
    size_t nworkers;
    wws_runtime *runtimes;
    size_t nruntimes;
    pthread_mutex_t kv_lock;
    json_t *kv; /* namespace -> object of strings */
    int log_fd;
    bool pools_ready; /* the workers' pool_lock initialised */
    bool all_native;  /* every module loaded runs native code */
};

/* ---- configuration ---- */

static int worker_config(wb_wws_app *app, wws_worker *w, const char *toml_host,
                         const char *toml_name, wb_error *err) {
    json_t *cfg = wb_toml_load(toml_host, err);
    if (!cfg) {
        /* wb_toml_load named the host path: name the file as the app sees it */
        const char *m = strstr(err->msg, "`: ");
        char msg[WB_ERROR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", m ? m + 3 : err->msg);
        return wb_error_set(err, EINVAL, "wws: worker configuration `%s`: %s", toml_name, msg);
    }
    int rc = -1;
    json_t *ns = json_object_get(json_object_get(json_object_get(cfg, "data"), "kv"), "namespace");
    if (ns && !json_is_string(ns)) {
        wb_error_set(err, EINVAL,
                     "wws: worker configuration `%s`: data.kv.namespace is not a string",
                     toml_name);
        goto out;
    }
    if (ns) w->kv_namespace = wb_strdup(json_string_value(ns));
    json_t *vars = json_object_get(cfg, "vars");
    if (vars && !json_is_object(vars)) {
        wb_error_set(err, EINVAL, "wws: worker configuration `%s`: vars is not a table", toml_name);
        goto out;
    }
    w->env = wb_calloc(json_object_size(vars) + 1, sizeof *w->env);
    const char *k;
    json_t *v;
    json_object_foreach(vars, k, v) {
        if (!json_is_string(v)) {
            wb_error_set(err, EINVAL, "wws: worker configuration `%s`: vars.%s is not a string",
                         toml_name, k);
            goto out;
        }
        const char *val = json_string_value(v);
        /* "$NAME" reads NAME from the container's environment (empty when unset), as wws reads
         * its own */
        if (val[0] == '$' && !strchr(val, ' ')) {
            val = wb_app_env(app->job, val + 1);
            if (!val) val = "";
        }
        size_t len = 0;
        w->env[w->nenv] = NULL;
        wb_appendf(&w->env[w->nenv], &len, "%s=%s", k, val);
        w->nenv++;
    }
    json_t *folders = json_object_get(cfg, "folders");
    if (folders && !json_is_array(folders)) {
        wb_error_set(err, EINVAL,
                     "wws: worker configuration `%s`: folders is not an array of tables",
                     toml_name);
        goto out;
    }
    w->dirs = wb_calloc(json_array_size(folders) + 2, sizeof *w->dirs);
    size_t i;
    json_array_foreach(folders, i, v) {
        const char *from = json_string_value(json_object_get(v, "from")),
                   *to = json_string_value(json_object_get(v, "to"));
        if (!from || !to || to[0] != '/') {
            wb_error_set(
                err, EINVAL,
                "wws: worker configuration `%s`: folders[%zu] needs `from` and an absolute "
                "`to`",
                toml_name, i);
            goto out;
        }
        char *inside = wb_app_path(from);
        if (!inside) {
            wb_error_set(err, EINVAL,
                         "wws: worker configuration `%s`: folders[%zu].from `%s` leaves the app",
                         toml_name, i, from);
            goto out;
        }
        bool read_only;
        int fd = wb_app_open(app->job, inside, true, &read_only);
        free(inside);
        if (fd < 0) {
            wb_error_set(err, ENOENT,
                         "wws: worker configuration `%s`: folders[%zu].from `%s` is not a "
                         "directory of the container",
                         toml_name, i, from);
            goto out;
        }
        w->folder_fds = wb_reallocarray(w->folder_fds, (size_t)w->nfolder_fds + 1, sizeof(int));
        w->folder_fds[w->nfolder_fds++] = fd;
        char *host = NULL;
        size_t hl = 0;
        wb_appendf(&host, &hl, "/proc/self/fd/%d", fd); /* exactly the directory opened */
        w->dirs[w->ndirs++] = (wb_wasi_dir){host, wb_strdup(to), read_only};
    }
    rc = 0;
out:
    json_decref(cfg);
    return rc;
}

/* /.wws.toml: the external runtimes (repositories[].runtimes[]). */
static int load_project(wb_wws_app *app, wb_error *err) {
    char *path = NULL;
    size_t len = 0;
    wb_appendf(&path, &len, "%s/.wws.toml", app->root);
    struct stat st;
    if (stat(path, &st) != 0) {
        free(path);
        return 0;
    }
    json_t *cfg = wb_toml_load(path, err);
    free(path);
    if (!cfg) {
        const char *m = strstr(err->msg, "`: ");
        char msg[WB_ERROR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", m ? m + 3 : err->msg);
        return wb_error_set(err, EINVAL, "wws: `/.wws.toml`: %s", msg);
    }
    size_t i, j;
    json_t *repo, *rt;
    json_array_foreach(json_object_get(cfg, "repositories"), i, repo) {
        const char *rname = json_string_value(json_object_get(repo, "name"));
        json_array_foreach(json_object_get(repo, "runtimes"), j, rt) {
            const char *name = json_string_value(json_object_get(rt, "name")),
                       *version = json_string_value(json_object_get(rt, "version")),
                       *binary = json_string_value(
                           json_object_get(json_object_get(rt, "binary"), "filename"));
            json_t *exts = json_object_get(rt, "extensions");
            if (!rname || !name || !version || !binary || !json_is_array(exts) ||
                strchr(binary, '/') || strstr(rname, "..") || strstr(name, "..") ||
                strstr(version, "..")) {
                json_decref(cfg);
                return wb_error_set(err, EINVAL,
                                    "wws: `/.wws.toml`: repositories[%zu].runtimes[%zu] needs a "
                                    "name, a version, extensions and binary.filename",
                                    i, j);
            }
            app->runtimes =
                wb_reallocarray(app->runtimes, app->nruntimes + 1, sizeof *app->runtimes);
            wws_runtime *r = &app->runtimes[app->nruntimes++];
            memset(r, 0, sizeof *r);
            r->repo = wb_strdup(rname);
            r->name = wb_strdup(name);
            r->version = wb_strdup(version);
            r->extensions = json_incref(exts);
            r->args = json_incref(json_object_get(rt, "args"));
            r->binary = wb_strdup(binary);
            size_t dl = 0;
            wb_appendf(&r->dir, &dl, "%s/.wws/runtimes/%s/%s/%s", app->root, rname, name, version);
            const char *wrap =
                json_string_value(json_object_get(json_object_get(rt, "wrapper"), "filename"));
            const char *poly =
                json_string_value(json_object_get(json_object_get(rt, "polyfill"), "filename"));
            if (wrap && !strchr(wrap, '/')) r->wrapper = wb_strdup(wrap);
            if (poly && !strchr(poly, '/')) r->polyfill = wb_strdup(poly);
        }
    }
    json_decref(cfg);
    return 0;
}

/* ---- workers and routes ---- */

static const char *language_of(const char *ext) {
    if (!strcmp(ext, "js")) return "JavaScript";
    if (!strcmp(ext, "py")) return "Python";
    if (!strcmp(ext, "rb")) return "Ruby";
    return NULL;
}

static wws_runtime *runtime_for(wb_wws_app *app, const char *ext) {
    for (size_t i = 0; i < app->nruntimes; i++) {
        size_t k;
        json_t *e;
        json_array_foreach(app->runtimes[i].extensions, k,
                           e) if (json_is_string(e) &&
                                  !strcmp(json_string_value(e), ext)) return &app->runtimes[i];
    }
    return NULL;
}

/* "/api/[id]/index" -> "/api/[id]": the route of a worker file without its extension */
static void make_route(wws_worker *w, const char *noext) {
    char *route = NULL;
    size_t len = 0;
    wb_appendf(&route, &len, "%s", "");
    const char *p = noext;
    while (*p) {
        while (*p == '/') p++;
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n && !(n == 5 && !strncmp(p, "index", 5))) {
            wb_appendf(&route, &len, "/%.*s", (int)n, p);
            if (w->nseg < MAX_SEGMENTS) {
                char *s = wb_strndup(p, n);
                w->kind[w->nseg] = !strncmp(s, "[...", 4) && s[n - 1] == ']' ? SEG_TAIL
                                   : s[0] == '[' && s[n - 1] == ']'          ? SEG_DYNAMIC
                                                                             : SEG_STATIC;
                w->seg[w->nseg++] = s;
            }
        }
        p += n;
    }
    if (!len) wb_appendf(&route, &len, "/");
    w->route = route;
}

/* The interpreted worker's /src: index.EXT (the wrapper around it when there is one) and the
 * polyfill, under /.wws/workers/EXT/HASH as wws keeps them. */
static int prepare_source(wb_wws_app *app, wws_worker *w, const char *ext, wb_error *err) {
    wws_runtime *r = w->runtime;
    uint8_t digest[WB_SHA256_DIGEST_SIZE];
    wb_sha256(w->file, strlen(w->file), digest);
    char hex[17];
    for (int i = 0; i < 8; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    char *dir = NULL, *src = NULL, *path = NULL;
    size_t dl = 0, sl = 0, pl = 0;
    wb_appendf(&dir, &dl, "%s/.wws/workers/%s/%s", app->root, ext, hex);
    wb_appendf(&src, &sl, "%s%s", app->root, w->file);
    uint8_t *code = NULL, *wrap = NULL;
    size_t code_len, wrap_len;
    int rc = -1;
    if (wb_mkdir_p(dir, 0755, err) < 0 || wb_read_file(src, 64u << 20, &code, &code_len, err) < 0)
        goto out;
    char *text = NULL;
    size_t tl = 0;
    if (r->wrapper) {
        wb_appendf(&path, &pl, "%s/%s", r->dir, r->wrapper);
        if (wb_read_file(path, 16u << 20, &wrap, &wrap_len, err) < 0) goto out;
        const char *at = memmem(wrap, wrap_len, "{source}", 8);
        size_t pre = at ? (size_t)(at - (const char *)wrap) : wrap_len;
        wb_appendf(&text, &tl, "%.*s%.*s%.*s", (int)pre, (const char *)wrap, at ? (int)code_len : 0,
                   (const char *)code, at ? (int)(wrap_len - pre - 8) : 0, at ? at + 8 : "");
    } else {
        wb_appendf(&text, &tl, "%.*s", (int)code_len, (const char *)code);
    }
    free(path);
    path = NULL;
    pl = 0;
    wb_appendf(&path, &pl, "%s/index.%s", dir, ext);
    rc = wb_write_file_atomic(path, text, tl, 0644, false, err);
    free(text);
    if (rc == 0 && r->polyfill) {
        uint8_t *poly;
        size_t poly_len;
        free(path);
        path = NULL;
        pl = 0;
        wb_appendf(&path, &pl, "%s/%s", r->dir, r->polyfill);
        rc = wb_read_file(path, 16u << 20, &poly, &poly_len, err);
        if (rc == 0) {
            free(path);
            path = NULL;
            pl = 0;
            wb_appendf(&path, &pl, "%s/%s", dir, r->polyfill);
            rc = wb_write_file_atomic(path, poly, poly_len, 0644, false, err);
            free(poly);
        }
    }
    if (rc == 0) {
        w->dirs[w->ndirs++] = (wb_wasi_dir){dir, wb_strdup("/src"), true};
        dir = NULL;
    }
out:
    if (rc < 0) wb_error_wrap(err, "wws: worker `%s`: prepare its source for %s", w->file, r->name);
    free(dir);
    free(src);
    free(path);
    free(code);
    free(wrap);
    return rc;
}

/* The imports a worker may have: WASI preview1 only (wws's `http` outbound requests and
 * wasi-nn are not provided). */
static int check_imports(const wb_module *m, const char *file, wb_error *err) {
    for (uint32_t i = 0; i < wb_module_import_count(m); i++) {
        wb_import_info im;
        wb_module_import(m, i, &im);
        if ((im.module_len == 22 && !memcmp(im.module, "wasi_snapshot_preview1", 22)) ||
            (im.module_len == 13 && !memcmp(im.module, "wasi_unstable", 13)))
            continue;
        const char *what =
            im.module_len == 4 && !memcmp(im.module, "http", 4)
                ? " (wws's outbound HTTP, not available in wasmbox yet)"
            : !strncmp(im.module, "wasi_ephemeral_nn", 17) || !strncmp(im.module, "wasi_nn", 7)
                ? " (wasi-nn, not provided by wasmbox)"
                : "";
        return wb_error_set(err, ENOEXEC, "wws: worker `%s` imports `%.*s`.`%.*s`%s", file,
                            (int)im.module_len, im.module, (int)im.name_len, im.name, what);
    }
    return 0;
}

static int load_module(wb_wws_app *app, const char *host, const char *file, wb_module **out,
                       wb_error *err) {
    wb_config cfg = {.interruptible = true};
    if (wb_module_load(&cfg, host, out, err) < 0) {
        if (err->code == WB_EMALFORMED || err->code == WB_EINVALID)
            return wb_error_wrap(err, "wws: worker `%s`: not a valid WebAssembly module", file);
        return wb_error_wrap(err, "wws: worker `%s`", file);
    }
    if (check_imports(*out, file, err) < 0) return -1;
    int native = wb_app_prepare_module(app->job, *out, err);
    if (native < 0) return wb_error_wrap(err, "wws: worker `%s`", file);
    app->all_native = app->all_native && native == 1;
    return 0;
}

static int add_worker(wb_wws_app *app, const char *rel, const char *ext, wb_error *err) {
    if (app->nworkers == WB_WWS_MAX_WORKERS)
        return wb_error_set(err, E2BIG, "wws: more than %d workers", WB_WWS_MAX_WORKERS);
    app->workers = wb_reallocarray(app->workers, app->nworkers + 1, sizeof *app->workers);
    wws_worker *w = &app->workers[app->nworkers++];
    memset(w, 0, sizeof *w);
    w->file = wb_strdup(rel);
    size_t base_len = strlen(rel) - strlen(ext) - 1;
    char *noext = wb_strndup(rel, base_len);
    make_route(w, noext);
    char *toml = NULL, *toml_name = NULL, *host = NULL;
    size_t tl = 0, nl = 0, hl = 0;
    wb_appendf(&toml, &tl, "%s%s.toml", app->root, noext);
    wb_appendf(&toml_name, &nl, "%s.toml", noext);
    wb_appendf(&host, &hl, "%s%s", app->root, rel);
    free(noext);
    int rc = -1;
    struct stat st;
    if (stat(toml, &st) == 0) {
        if (worker_config(app, w, toml, toml_name, err) < 0) goto out;
    } else {
        w->env = wb_calloc(1, sizeof *w->env);
        w->dirs = wb_calloc(2, sizeof *w->dirs);
    }
    if (!strcmp(ext, "wasm")) {
        if (load_module(app, host, rel, &w->module, err) < 0) goto out;
    } else {
        w->runtime = runtime_for(app, ext);
        if (!w->runtime) {
            size_t ml = 0;
            wb_appendf(
                &w->missing, &ml,
                "wws: worker `%s` needs a %s runtime, and /.wws.toml declares none for "
                "`.%s` files (wasmbox has no built-in %s engine: ship one in the image under "
                "/.wws/runtimes/ and declare it in /.wws.toml)",
                rel, language_of(ext), ext, language_of(ext));
            wb_app_log(app->log_fd, "%s", w->missing);
        } else {
            wws_runtime *r = w->runtime;
            if (!r->module) {
                char *bin = NULL, *bin_name = NULL;
                size_t bl = 0, bnl = 0;
                wb_appendf(&bin, &bl, "%s/%s", r->dir, r->binary);
                wb_appendf(&bin_name, &bnl, "/.wws/runtimes/%s/%s/%s/%s", r->repo, r->name,
                           r->version, r->binary);
                struct stat bst;
                int lrc = 0;
                if (stat(bin, &bst) != 0)
                    lrc = wb_error_set(err, ENOENT,
                                       "wws: runtime %s %s (for `%s`): `%s` is missing from the "
                                       "image",
                                       r->name, r->version, rel, bin_name);
                else
                    lrc = load_module(app, bin, bin_name, &r->module, err);
                free(bin);
                free(bin_name);
                if (lrc < 0) goto out;
            }
            if (prepare_source(app, w, ext, err) < 0) goto out;
            w->argc = (int)json_array_size(r->args);
            w->argv = wb_calloc((size_t)w->argc + 1, sizeof *w->argv);
            for (int i = 0; i < w->argc; i++) {
                const char *a = json_string_value(json_array_get(r->args, (size_t)i));
                w->argv[i] = wb_strdup(a ? a : "");
            }
        }
    }
    rc = 0;
out:
    free(toml);
    free(toml_name);
    free(host);
    return rc;
}

static bool ignored_name(const char *name) {
    return name[0] == '_' || name[0] == '.' || !strcmp(name, "public");
}

/* Walk dir (inside the app: `rel`), adding workers. */
static int walk(wb_wws_app *app, const char *rel, int depth, wb_error *err) {
    if (depth > 32) return 0;
    char *host = NULL;
    size_t hl = 0;
    wb_appendf(&host, &hl, "%s%s", app->root, rel);
    DIR *d = opendir(host);
    free(host);
    if (!d) return 0;
    struct dirent **list = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (ignored_name(e->d_name)) continue; /* _*, .wws (and dot files), public/ */
        WB_VEC_RESERVE(list, cap, n + 1);
        list[n] = wb_malloc(sizeof *e);
        memcpy(list[n++], e, sizeof *e);
    }
    closedir(d);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *child = NULL;
        size_t cl = 0;
        wb_appendf(&child, &cl, "%s/%s", rel, list[i]->d_name);
        unsigned char type = list[i]->d_type;
        if (type == DT_UNKNOWN) { /* file systems that do not say */
            char *h = NULL;
            size_t hn = 0;
            struct stat st;
            wb_appendf(&h, &hn, "%s%s", app->root, child);
            type = stat(h, &st) != 0 ? DT_UNKNOWN : S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
            free(h);
        }
        if (type == DT_DIR) {
            rc = walk(app, child, depth + 1, err);
        } else if (type == DT_REG || type == DT_LNK) {
            const char *dot = strrchr(list[i]->d_name, '.');
            const char *ext = dot && dot != list[i]->d_name ? dot + 1 : NULL;
            if (ext && (!strcmp(ext, "wasm") || language_of(ext) || runtime_for(app, ext)))
                rc = add_worker(app, child, ext, err);
        }
        free(child);
    }
    for (size_t i = 0; i < n; i++) free(list[i]);
    free(list);
    return rc;
}

/* Segment by segment: static before dynamic before tail; then fewer segments; then names. */
static int route_order(const void *a, const void *b) {
    const wws_worker *x = a, *y = b;
    for (int i = 0; i < x->nseg && i < y->nseg; i++) {
        if (x->kind[i] != y->kind[i]) return (int)x->kind[i] - (int)y->kind[i];
        int c = strcmp(x->seg[i], y->seg[i]);
        if (c && x->kind[i] == SEG_STATIC) return c;
    }
    if (x->nseg != y->nseg) return x->nseg - y->nseg;
    return strcmp(x->file, y->file);
}

int wb_wws_app_load(const wb_wasm_job *job, wb_wws_app **out, wb_error *err) {
    *out = NULL;
    if (!job->rootfs) return wb_error_set(err, EINVAL, "wws: the container has no root folder");
    wb_wws_app *app = wb_calloc(1, sizeof *app);
    app->job = job;
    app->all_native = true;
    app->root = wb_strdup(job->rootfs);
    size_t n = strlen(app->root);
    while (n > 1 && app->root[n - 1] == '/') app->root[--n] = 0;
    app->log_fd = job->stdio[2] ? job->stdio[2] : 2;
    pthread_mutex_init(&app->kv_lock, NULL);
    app->kv = json_object();
    char *pub = NULL;
    size_t pl = 0;
    wb_appendf(&pub, &pl, "%s/public", app->root);
    struct stat st;
    app->has_public = stat(pub, &st) == 0 && S_ISDIR(st.st_mode);
    free(pub);
    if (load_project(app, err) < 0 || walk(app, "", 0, err) < 0) {
        wb_wws_app_free(app);
        return -1;
    }
    if (!app->nworkers && !app->has_public) {
        wb_wws_app_free(app);
        return wb_error_set(err, ENOENT,
                            "wws: no workers (*.wasm, *.js, ...) and no public/ folder in the "
                            "container's root folder");
    }
    qsort(app->workers, app->nworkers, sizeof *app->workers, route_order);
    for (size_t i = 0; i < app->nworkers; i++) /* in place now: the array no longer moves */
        pthread_mutex_init(&app->workers[i].pool_lock, NULL);
    app->pools_ready = true;
    *out = app;
    return 0;
}

void wb_wws_app_free(wb_wws_app *app) {
    if (!app) return;
    for (size_t i = 0; i < app->nworkers; i++) {
        wws_worker *w = &app->workers[i];
        wb_pool_free(w->pool);
        if (app->pools_ready) pthread_mutex_destroy(&w->pool_lock);
        free(w->file);
        free(w->route);
        for (int k = 0; k < w->nseg; k++) free(w->seg[k]);
        wb_module_free(w->module);
        free(w->missing);
        free(w->kv_namespace);
        for (size_t k = 0; k < w->nenv; k++) free(w->env[k]);
        free(w->env);
        for (int k = 0; k < w->ndirs; k++) {
            free((char *)w->dirs[k].host);
            free((char *)w->dirs[k].guest);
        }
        free(w->dirs);
        for (int k = 0; k < w->nfolder_fds; k++) close(w->folder_fds[k]);
        free(w->folder_fds);
        for (int k = 0; k < w->argc; k++) free(w->argv[k]);
        free(w->argv);
    }
    free(app->workers);
    for (size_t i = 0; i < app->nruntimes; i++) {
        wws_runtime *r = &app->runtimes[i];
        free(r->repo);
        free(r->name);
        free(r->version);
        json_decref(r->extensions);
        json_decref(r->args);
        free(r->dir);
        free(r->binary);
        free(r->wrapper);
        free(r->polyfill);
        wb_module_free(r->module);
    }
    free(app->runtimes);
    json_decref(app->kv);
    pthread_mutex_destroy(&app->kv_lock);
    free(app->root);
    free(app);
}

/* ---- requests ---- */

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* %XX decoded (a %00 or a bad escape stays as it is) */
static char *percent_decode(const char *s, size_t n) {
    char *out = wb_malloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < n && (h = hexval((unsigned char)s[i + 1])) >= 0 &&
            (l = hexval((unsigned char)s[i + 2])) >= 0 && (h || l)) {
            out[k++] = (char)(h << 4 | l);
            i += 2;
        } else {
            out[k++] = s[i];
        }
    }
    out[k] = 0;
    return out;
}

typedef struct url_segments {
    char *seg[MAX_SEGMENTS + 1];
    int n;
    bool too_many;
} url_segments;

static void split_path(const char *path, url_segments *u) {
    u->n = 0;
    u->too_many = false;
    const char *p = path;
    while (*p) {
        while (*p == '/') p++;
        if (!*p) break;
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (u->n == MAX_SEGMENTS) {
            u->too_many = true;
            return;
        }
        u->seg[u->n++] = percent_decode(p, n);
        p += n;
    }
}

static void url_segments_release(url_segments *u) {
    for (int i = 0; i < u->n; i++) free(u->seg[i]);
    u->n = 0;
}

/* Does w serve u? params (when it does) get its dynamic and tail segments. */
static bool route_matches(const wws_worker *w, const url_segments *u, json_t *params) {
    int i = 0;
    for (; i < w->nseg; i++) {
        if (w->kind[i] == SEG_TAIL) {
            if (i >= u->n) return false;
            if (params) {
                char *rest = NULL;
                size_t len = 0;
                for (int k = i; k < u->n; k++)
                    wb_appendf(&rest, &len, "%s%s", k > i ? "/" : "", u->seg[k]);
                char name[256]; /* the name without "[..." and "]" */
                snprintf(name, sizeof name, "%.*s", (int)strlen(w->seg[i]) - 5, w->seg[i] + 4);
                json_t *v = json_string(rest);
                if (v) json_object_set_new(params, name, v);
                free(rest);
            }
            return true;
        }
        if (i >= u->n) return false;
        if (w->kind[i] == SEG_STATIC) {
            if (strcmp(w->seg[i], u->seg[i])) return false;
        } else if (params) {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)strlen(w->seg[i]) - 2, w->seg[i] + 1);
            json_t *v = json_string(u->seg[i]); /* NULL when not UTF-8 */
            if (v) json_object_set_new(params, name, v);
        }
    }
    return i == u->n;
}

static const char *content_type_of(const char *path) {
    static const struct {
        const char *ext, *type;
    } types[] = {
        {"html", "text/html"},
        {"htm", "text/html"},
        {"css", "text/css"},
        {"js", "application/javascript"},
        {"mjs", "application/javascript"},
        {"json", "application/json"},
        {"txt", "text/plain"},
        {"md", "text/markdown"},
        {"svg", "image/svg+xml"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"webp", "image/webp"},
        {"ico", "image/x-icon"},
        {"wasm", "application/wasm"},
        {"xml", "application/xml"},
        {"pdf", "application/pdf"},
        {"woff", "font/woff"},
        {"woff2", "font/woff2"},
    };
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (!strcasecmp(dot + 1, types[i].ext)) return types[i].type;
    return "application/octet-stream";
}

/* A file of public/ for the URL path (resolved inside public/, a directory's index.html):
 * 1 when served, 0 when there is none. */
static int serve_public(const wb_wws_app *app, const url_segments *u, wb_http_response *resp) {
    if (!app->has_public || u->too_many) return 0;
    char *rel = NULL;
    size_t len = 0;
    wb_appendf(&rel, &len, "%s", "");
    for (int i = 0; i < u->n; i++) {
        if (!strcmp(u->seg[i], "..") || strchr(u->seg[i], '/') || !u->seg[i][0]) {
            free(rel);
            return 0;
        }
        wb_appendf(&rel, &len, "/%s", u->seg[i]);
    }
    char *pub = NULL;
    size_t pl = 0;
    wb_appendf(&pub, &pl, "%s/public", app->root);
    int root = open(pub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(pub);
    if (root < 0) {
        free(rel);
        return 0;
    }
    int served = 0, fd = -1;
    for (int attempt = 0; attempt < 2 && fd < 0; attempt++) {
        if (attempt == 1) wb_appendf(&rel, &len, "/index.html"); /* a directory's page */
        int at = wb_root_open(root, len ? rel : "/", WB_ROOT_ANY, false);
        if (at < 0) break;
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", at);
        struct stat st;
        bool dir = fstat(at, &st) == 0 && S_ISDIR(st.st_mode);
        if (!dir && S_ISREG(st.st_mode)) fd = open(proc, O_RDONLY | O_CLOEXEC);
        close(at);
        if (!dir) break;
    }
    close(root);
    if (fd >= 0) {
        struct stat st;
        if (fstat(fd, &st) == 0 && st.st_size <= (off_t)(256u << 20)) {
            resp->status = 200;
            wb_http_response_header(resp, "Content-Type", content_type_of(rel));
            char chunk[65536];
            ssize_t n;
            while ((n = read(fd, chunk, sizeof chunk)) > 0)
                wb_http_response_append(resp, chunk, (size_t)n);
            served = 1;
        }
        close(fd);
    }
    free(rel);
    return served;
}

static void fail_response(wb_http_response *resp) {
    wb_http_response_release(resp);
    resp->status = 500;
    wb_http_response_header(resp, "Content-Type", "text/html");
    const char *body = "<p>There was an error running this function</p>";
    wb_http_response_append(resp, body, strlen(body));
}

static int b64val(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* standard base64 with padding into resp's body; -1 when malformed */
static int base64_body(const char *s, size_t n, wb_http_response *resp) {
    if (n % 4) return -1;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            if (s[i + k] == '=' && i + 4 == n && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad || (v[k] = b64val((unsigned char)s[i + k])) < 0) {
                return -1;
            }
        }
        uint8_t b[3] = {(uint8_t)(v[0] << 2 | v[1] >> 4), (uint8_t)(v[1] << 4 | v[2] >> 2),
                        (uint8_t)(v[2] << 6 | v[3])};
        wb_http_response_append(resp, b, (size_t)(3 - pad));
    }
    return 0;
}

/* The request as wws gives it to a worker: {url, method, headers, body, kv, params}. */
static char *request_json(const wb_wws_app *app, const wws_worker *w, const wb_http_request *req,
                          json_t *params) {
    json_t *in = json_object(), *headers = json_object();
    char *url = NULL;
    size_t ul = 0;
    wb_appendf(&url, &ul, "http://%s%s", req->host[0] ? req->host : "localhost", req->target);
    json_object_set_new(in, "url", json_string(url) ?: json_string(""));
    free(url);
    json_object_set_new(in, "method", json_string(req->method));
    for (size_t i = 0; i < req->nheaders; i++) {
        json_t *v = json_string(req->headers[i].value);
        if (v) json_object_set_new(headers, req->headers[i].name, v);
    }
    json_object_set_new(in, "headers", headers);
    /* a body that is not UTF-8 reaches the worker empty, as in wws */
    json_t *body = json_stringn((const char *)req->body, req->body_len);
    json_object_set_new(in, "body", body ? body : json_string(""));
    json_t *kv = NULL;
    if (w->kv_namespace) {
        pthread_mutex_lock((pthread_mutex_t *)&app->kv_lock);
        kv = json_deep_copy(json_object_get(app->kv, w->kv_namespace));
        pthread_mutex_unlock((pthread_mutex_t *)&app->kv_lock);
    }
    json_object_set_new(in, "kv", kv ? kv : json_object());
    json_object_set(in, "params", params);
    char *text = json_dumps(in, JSON_COMPACT);
    json_decref(in);
    return text;
}

/* The worker's pool of instances, made at its first request. */
static wb_pool *worker_pool(const wb_wws_app *app, wws_worker *w, wb_error *err) {
    pthread_mutex_lock(&w->pool_lock);
    wb_pool *pool = w->pool;
    if (!pool) {
        wb_pool_config pc = {
            .module = w->module ? w->module : w->runtime->module,
            .wasi = {.argc = w->argc,
                     .argv = w->argv,
                     .envc = (int)w->nenv,
                     .env = w->env,
                     .dirs = w->dirs,
                     .ndirs = w->ndirs,
                     .stdio = {-1, -1, app->log_fd},
                     .no_wasmedge = true},
            .limits = {.max_memory = app->job->max_memory},
        };
        if (wb_pool_new(&pc, &w->pool, err) == 0) pool = w->pool;
    }
    pthread_mutex_unlock(&w->pool_lock);
    return pool;
}

/* Run w's module as on a fresh instance (one from its pool) with stdin `input`; its stdout into
 * *out (NUL-terminated). */
static int run_instance(const wb_wws_app *app, wws_worker *w, const char *input, char **out,
                        size_t *out_len, wb_error *err) {
    *out = NULL;
    wb_pool *pool = worker_pool(app, w, err);
    wb_pool_instance *pi;
    wb_wasi_run_io io = {
        .in = (const uint8_t *)input, .in_len = strlen(input), .out_max = MAX_OUTPUT_BYTES};
    if (!pool || wb_pool_take(pool, &io, &pi, err) < 0) return -1;
    int rc = -1;
    wb_extern start;
    if (!wb_instance_export(pi->inst, "_start", 6, &start) || start.kind != WB_EXTERN_FUNC) {
        wb_error_set(err, ENOEXEC, "the module has no `_start` (not a WASI command)");
        goto out;
    }
    if (wb_func_call(pi->store, start.of.func, NULL, 0, NULL, 0, err) < 0) {
        const wb_trap_info *t = wb_store_last_trap(pi->store);
        if (err->code != WB_EEXIT || t->exit_code != 0) {
            if (err->code == WB_EEXIT)
                wb_error_set(err, ECANCELED, "the worker exited with status %d", t->exit_code);
            goto out;
        }
    }
    size_t len;
    bool full;
    const uint8_t *text = wb_wasi_output(pi->wasi, &len, &full);
    if (full) {
        wb_error_set(err, EFBIG, "the worker wrote more than %u bytes", MAX_OUTPUT_BYTES);
        goto out;
    }
    *out = wb_malloc(len + 1);
    memcpy(*out, text, len);
    (*out)[len] = 0;
    *out_len = len;
    rc = 0;
out:
    wb_pool_give(pool, pi);
    return rc;
}

/* {data, status, headers, kv, base64?} into resp; the new kv into *kv_out. */
static int read_answer(const char *text, size_t len, wb_http_response *resp, json_t **kv_out,
                       wb_error *err) {
    json_error_t je;
    json_t *o = json_loadb(text, len, 0, &je);
    *kv_out = NULL;
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return wb_error_set(err, EINVAL, "the worker's output is not a JSON object: %s",
                            len ? je.text : "it wrote nothing");
    }
    json_t *data = json_object_get(o, "data"), *status = json_object_get(o, "status"),
           *headers = json_object_get(o, "headers"), *kv = json_object_get(o, "kv"),
           *b64 = json_object_get(o, "base64");
    const char *bad = !json_is_string(data)          ? "data (a string)"
                      : !json_is_integer(status)     ? "status (a number)"
                      : !json_is_object(headers)     ? "headers (an object)"
                      : !json_is_object(kv)          ? "kv (an object)"
                      : b64 && !json_is_boolean(b64) ? "base64 (a boolean)"
                                                     : NULL;
    const char *k;
    json_t *v;
    if (!bad) {
        json_object_foreach(headers, k, v) if (!json_is_string(v)) bad = "headers of strings";
        json_object_foreach(kv, k, v) if (!json_is_string(v)) bad = "kv of strings";
    }
    if (bad) {
        json_decref(o);
        return wb_error_set(err, EINVAL, "the worker's output lacks %s", bad);
    }
    json_int_t code = json_integer_value(status);
    resp->status = code >= 100 && code <= 999 ? (int)code : 200;
    /* wws's default type first, which the worker's own replaces */
    bool typed = false;
    json_object_foreach(headers, k, v) if (!strcasecmp(k, "content-type") ||
                                           !strcasecmp(k, "content_type")) typed = true;
    if (!typed) wb_http_response_header(resp, "Content-Type", "text/html");
    json_object_foreach(headers, k, v) {
        /* QuickJS turns "-" into "_" in property names: wws turns them back */
        char name[256];
        snprintf(name, sizeof name, "%s", k);
        for (char *c = name; *c; c++)
            if (*c == '_') *c = '-';
        if (!strcasecmp(name, "content-length") || !strcasecmp(name, "connection") ||
            !strcasecmp(name, "transfer-encoding"))
            continue;
        wb_http_response_header(resp, name, json_string_value(v));
    }
    const char *d = json_string_value(data);
    size_t dl = json_string_length(data);
    if (json_is_true(b64)) {
        if (base64_body(d, dl, resp) < 0) {
            wb_http_response_release(resp);
            resp->status = 503;
            const char *msg = "There was an error running the worker";
            wb_http_response_append(resp, msg, strlen(msg));
        }
    } else {
        wb_http_response_append(resp, d, dl);
    }
    *kv_out = json_incref(kv);
    json_decref(o);
    return 0;
}

int wb_wws_handle(void *ctx, const wb_http_request *req, wb_http_response *resp) {
    wb_wws_app *app = ctx;
    url_segments u;
    split_path(req->path, &u);
    wws_worker *w = NULL;
    for (size_t i = 0; i < app->nworkers && !u.too_many; i++)
        if (route_matches(&app->workers[i], &u, NULL)) {
            w = &app->workers[i];
            break;
        }
    bool dynamic = false;
    for (int i = 0; w && i < w->nseg; i++) dynamic = dynamic || w->kind[i] != SEG_STATIC;
    /* static files come before dynamic routes (and answer where no route does) */
    if ((!w || dynamic) && serve_public(app, &u, resp)) {
        url_segments_release(&u);
        return 0;
    }
    if (!w) {
        url_segments_release(&u);
        resp->status = 404;
        wb_http_response_header(resp, "Content-Type", "text/html");
        const char *body = "<h1>404</h1><p>Not Found</p>";
        wb_http_response_append(resp, body, strlen(body));
        return 0;
    }
    if (w->missing) {
        url_segments_release(&u);
        wb_app_log(app->log_fd, "Error running worker `%s` at route %s: %s", w->file, w->route,
                   w->missing);
        resp->status = 500;
        wb_http_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
        wb_http_response_append(resp, w->missing, strlen(w->missing));
        wb_http_response_append(resp, "\n", 1);
        return 0;
    }
    json_t *params = json_object();
    route_matches(w, &u, params);
    url_segments_release(&u);
    char *input = request_json(app, w, req, params);
    json_decref(params);
    char *output = NULL;
    size_t out_len = 0;
    json_t *kv = NULL;
    wb_error err;
    if (!input || run_instance(app, w, input, &output, &out_len, &err) < 0 ||
        read_answer(output, out_len, resp, &kv, &err) < 0) {
        if (!input) wb_error_set(&err, EINVAL, "the request cannot be written as JSON");
        wb_app_log(app->log_fd, "Error running worker `%s` at route %s: %s", w->file, w->route,
                   err.msg);
        fail_response(resp);
    } else if (w->kv_namespace) {
        pthread_mutex_lock(&app->kv_lock);
        json_object_set(app->kv, w->kv_namespace, kv);
        pthread_mutex_unlock(&app->kv_lock);
    }
    json_decref(kv);
    free(input);
    free(output);
    return 0;
}

/* ---- the container's workload ---- */

/* The server stops: the requests running end (their instances are interrupted). */
static void stop(void *ctx) {
    wb_wws_app *app = ctx;
    for (size_t i = 0; i < app->nworkers; i++) {
        pthread_mutex_lock(&app->workers[i].pool_lock);
        wb_pool *p = app->workers[i].pool;
        pthread_mutex_unlock(&app->workers[i].pool_lock);
        wb_pool_stop(p);
    }
}

static void banner(void *ctx, int out, const char *host, int port) {
    const wb_wws_app *app = ctx;
    dprintf(out, "wws: serving %zu worker%s on http://%s:%d\n", app->nworkers,
            app->nworkers == 1 ? "" : "s", host, port);
    for (size_t i = 0; i < app->nworkers; i++)
        dprintf(out, "  %s => %s\n", app->workers[i].route, app->workers[i].file);
}

int wb_wws_run(const wb_wasm_job *job, int *exit_code, wb_error *err) {
    wb_wws_app *app;
    *exit_code = 1;
    if (wb_wws_app_load(job, &app, err) < 0) return -1;
    int rc = wb_app_serve(
        job, &(wb_app_server){"wws", NULL, WB_WWS_PORT, wb_wws_handle, stop, banner, app},
        exit_code, err);
    wb_wws_app_free(app);
    return rc;
}
