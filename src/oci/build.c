/* The image builder (see build.h). A stage's state is its image config (jansson), its layers and
 * an identity (the config's digest); every instruction turns a state into the next one, through
 * the step cache: key = sha256(parent identity, the instruction as expanded, the content of what
 * COPY/ADD read), value = the resulting config and layers, kept in ROOT/images/buildcache/<key>.
 * A stage's file tree (for COPY --from, WORKDIR, destinations) is read from its layers only when
 * a step that needs it is not cached. RUN runs in a Linux build container over the stage's root
 * on disk (build_root.h, build_run.h). Nothing is registered before the final image. */
#include "oci/build.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "base/timeutil.h"
#include "base/alloc.h"
#include "base/fsutil.h"
#include "oci/build_root.h"
#include "oci/build_run.h"
#include "oci/context.h"
#include "oci/dockerfile.h"
#include "oci/fstree.h"
#include "oci/image.h"
#include "oci/layer.h"
#include "oci/platform.h"
#include "oci/unpack.h"
#include "oci/reference.h"

#define CACHE_VERSION "wasmbox-build-cache-v1"
/* Docker's PATH for a RUN whose image sets none (runtime/linux_handler.h's) */
#define WB_RUN_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define CACHE_MAX_BYTES     ((size_t)16 << 20)

static void lower(char *s) {
    for (; *s; s++) *s = (char)tolower((unsigned char)*s);
}

static bool arch_equal(const char *a, const char *b) {
    if (!strcmp(a, b)) return true;
    return (!strcmp(a, "wasm") && !strcmp(b, "wasm32")) ||
           (!strcmp(a, "wasm32") && !strcmp(b, "wasm"));
}

/* ---- small helpers ---- */

typedef struct kv {
    char *key, *value; /* value NULL: declared, not set */
    bool used;
} kv;

typedef struct kvlist {
    kv *v;
    size_t n;
} kvlist;

static kv *kv_find(const kvlist *l, const char *k) {
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].key, k)) return &l->v[i];
    return NULL;
}

static void kv_set(kvlist *l, const char *k, const char *v) {
    kv *e = kv_find(l, k);
    if (!e) {
        l->v = wb_reallocarray(l->v, l->n + 1, sizeof *l->v);
        e = &l->v[l->n++];
        memset(e, 0, sizeof *e);
        e->key = wb_strdup(k);
    } else {
        free(e->value);
    }
    e->value = v ? wb_strdup(v) : NULL;
}

static void kv_free(kvlist *l) {
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].key);
        free(l->v[i].value);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

typedef struct strvec {
    char **v;
    size_t n;
} strvec;

static void sv_push(strvec *s, char *str) {
    s->v = wb_reallocarray(s->v, s->n + 1, sizeof *s->v);
    s->v[s->n++] = str;
}

static void sv_free(strvec *s) {
    for (size_t i = 0; i < s->n; i++) free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* ---- the builder ---- */

typedef struct stage {
    char *name;
    json_t *config; /* the image config being built */
    wb_layer_desc *layers;
    size_t nlayers;
    char id[WB_DIGEST_MAX]; /* digest of the config as wb_image_commit serialises it */
    char os[32], arch[32], variant[32];
    bool scratch;        /* started from scratch: no /bin/sh */
    bool pristine;       /* scratch and nothing done: no image to produce */
    bool unchanged_base; /* a base image and nothing done: the result is that image */
    char base_manifest[WB_DIGEST_MAX];
    bool cmd_set; /* CMD given in this stage (a later ENTRYPOINT keeps it) */
    kvlist args;  /* ARGs declared in the stage */
    wb_fstree *tree;
    size_t tree_layers; /* layers applied to tree */
    bool done;
} stage;

typedef struct builder {
    wb_images *s;
    const wb_build_opts *o;
    wb_dockerfile *df;
    wb_context *ctx;
    stage *stages;
    size_t nstages;
    stage *images; /* images named by COPY --from (name in ->name) */
    size_t nimages;
    kvlist meta;       /* ARGs before the first FROM */
    kvlist bargs;      /* --build-arg */
    kvlist predefined; /* TARGETPLATFORM, BUILDARCH, … */
    char os[32], arch[32], variant[32];
    bool platform_given;
    size_t step, nsteps;
    char cache_dir[4096], tmp_root[4096];
    unsigned tmp_counter;
    bool have_epoch;
    int64_t epoch;
    wb_error *err;
} builder;

static void say(builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(builder *b, const char *fmt, ...) {
    if (!b->o->out) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(b->o->out, fmt, ap);
    va_end(ap);
    fflush(b->o->out);
}

static void warnf(builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warnf(builder *b, const char *fmt, ...) {
    if (!b->o->warn) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(b->o->warn, fmt, ap);
    va_end(ap);
    fputc('\n', b->o->warn);
    fflush(b->o->warn);
}

/* "Dockerfile:3: " + message */
static int fail(builder *b, const wb_df_instr *in, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(builder *b, const wb_df_instr *in, int code, const char *fmt, ...) {
    char msg[WB_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return wb_error_set(b->err, code, "%s:%d: %s", b->df->file, in->line, msg);
}

/* Prefix the current error with "Dockerfile:3: WHAT: ". */
static int wrap(builder *b, const wb_df_instr *in, const char *what) {
    return wb_error_wrap(b->err, "%s:%d: %s", b->df->file, in->line, what);
}

static void timestamp(builder *b, char *buf, size_t size) {
    struct timespec ts;
    if (b->have_epoch) {
        ts.tv_sec = (time_t)b->epoch;
        ts.tv_nsec = 0;
    } else {
        clock_gettime(CLOCK_REALTIME, &ts);
    }
    wb_time_format((int64_t)ts.tv_sec, b->have_epoch ? -1 : ts.tv_nsec, buf, size);
}

/* mtime of directories the builder creates itself (parents of destinations, WORKDIR) */
static int64_t created_mtime(const builder *b) {
    return b->have_epoch ? b->epoch : 0;
}

static json_t *cfg(stage *st) {
    json_t *c = json_object_get(st->config, "config");
    if (!json_is_object(c)) {
        c = json_object();
        json_object_set_new(st->config, "config", c);
    }
    return c;
}

static int state_id(builder *b, stage *st) {
    char *text = json_dumps(st->config, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text) return wb_error_set(b->err, ENOMEM, "serialise an image config");
    int rc = wb_digest_of(text, strlen(text), st->id, b->err);
    free(text);
    return rc;
}

static void add_history(builder *b, stage *st, const char *created_by, bool empty_layer) {
    char t[64];
    timestamp(b, t, sizeof t);
    json_object_set_new(st->config, "created", json_string(t));
    json_t *h = json_object_get(st->config, "history");
    if (!json_is_array(h)) {
        h = json_array();
        json_object_set_new(st->config, "history", h);
    }
    json_t *e = json_pack("{s:s, s:s}", "created", t, "created_by", created_by);
    if (empty_layer) json_object_set_new(e, "empty_layer", json_true());
    json_array_append_new(h, e);
}

static const char *env_get(stage *st, const char *name) {
    json_t *env = json_object_get(json_object_get(st->config, "config"), "Env");
    size_t nl = strlen(name);
    for (size_t i = 0; i < json_array_size(env); i++) {
        const char *e = json_string_value(json_array_get(env, i));
        if (e && !strncmp(e, name, nl) && e[nl] == '=') return e + nl + 1;
    }
    return NULL;
}

static void env_set(stage *st, const char *k, const char *v) {
    json_t *c = cfg(st);
    json_t *env = json_object_get(c, "Env");
    if (!json_is_array(env)) {
        env = json_array();
        json_object_set_new(c, "Env", env);
    }
    size_t kl = strlen(k);
    char *item = wb_malloc(kl + strlen(v) + 2);
    sprintf(item, "%s=%s", k, v);
    for (size_t i = 0; i < json_array_size(env); i++) {
        const char *e = json_string_value(json_array_get(env, i));
        if (e && !strncmp(e, k, kl) && e[kl] == '=') {
            json_array_set_new(env, i, json_string(item));
            free(item);
            return;
        }
    }
    json_array_append_new(env, json_string(item));
    free(item);
}

/* ---- expansion scopes ---- */

typedef struct scope {
    builder *b;
    stage *st; /* NULL: the global scope of FROM lines */
} scope;

static const char *scope_lookup(void *ctx, const char *name) {
    scope *sc = ctx;
    if (!sc->st) {
        kv *e = kv_find(&sc->b->meta, name);
        if (e) return e->value;
        e = kv_find(&sc->b->predefined, name);
        return e ? e->value : NULL;
    }
    const char *v = env_get(sc->st, name); /* ENV wins over ARG */
    if (v) return v;
    kv *e = kv_find(&sc->st->args, name);
    return e ? e->value : NULL;
}

static int expand(builder *b, stage *st, const wb_df_instr *in, const char *word, char **out) {
    scope sc = {b, st};
    if (wb_df_expand(word, b->df->escape, scope_lookup, &sc, out, b->err) < 0)
        return wrap(b, in, wb_df_cmd_name(in->cmd));
    return 0;
}

/* ---- the step cache ---- */

static void cache_key(builder *b, const stage *st, const char *desc, const char *extra,
                      char key[WB_DIGEST_MAX]) {
    size_t n =
        strlen(CACHE_VERSION) + strlen(st->id) + strlen(desc) + (extra ? strlen(extra) : 0) + 8;
    char *text = wb_malloc(n);
    snprintf(text, n, "%s\n%s\n%s\n%s", CACHE_VERSION, st->id, desc, extra ? extra : "");
    if (wb_digest_of(text, strlen(text), key, NULL) < 0) key[0] = '\0';
    free(text);
}

static void set_layers(stage *st, wb_layer_desc *layers, size_t n) {
    free(st->layers);
    st->layers = layers;
    st->nlayers = n;
}

static bool cache_get(builder *b, const char *key, stage *st) {
    if (!key[0]) return false;
    char path[4200];
    uint8_t *data;
    size_t len;
    if (wb_path_join(path, sizeof path, NULL, "%s/%s", b->cache_dir, wb_digest_hex(key)) < 0 ||
        wb_read_file(path, CACHE_MAX_BYTES, &data, &len, NULL) < 0)
        return false;
    json_t *doc = json_loadb((const char *)data, len, 0, NULL);
    free(data);
    json_t *config = json_object_get(doc, "config");
    json_t *layers = json_object_get(doc, "layers");
    bool ok =
        json_is_object(config) && json_is_array(layers) && json_array_size(layers) <= WB_MAX_LAYERS;
    size_t n = ok ? json_array_size(layers) : 0;
    wb_layer_desc *ls = wb_calloc(n + 1, sizeof *ls);
    for (size_t i = 0; ok && i < n; i++) {
        json_t *l = json_array_get(layers, i);
        const char *mt = json_string_value(json_object_get(l, "mediaType"));
        const char *d = json_string_value(json_object_get(l, "digest"));
        const char *diff = json_string_value(json_object_get(l, "diff_id"));
        json_t *size = json_object_get(l, "size");
        uint64_t have;
        /* a layer collected since (image prune) makes the entry useless */
        ok = mt && wb_digest_valid(d) && json_is_integer(size) && diff &&
             wb_blob_exists(b->s, d, &have) && have == (uint64_t)json_integer_value(size);
        if (!ok) break;
        snprintf(ls[i].media_type, sizeof ls[i].media_type, "%s", mt);
        snprintf(ls[i].digest, sizeof ls[i].digest, "%s", d);
        snprintf(ls[i].diff_id, sizeof ls[i].diff_id, "%s", diff);
        ls[i].size = (uint64_t)json_integer_value(size);
    }
    if (!ok) {
        free(ls);
        json_decref(doc);
        return false;
    }
    json_decref(st->config);
    st->config = json_incref(config);
    json_decref(doc);
    set_layers(st, ls, n);
    if (state_id(b, st) < 0) return false;
    return true;
}

static void cache_put(builder *b, const char *key, const stage *st) {
    if (!key[0]) return;
    json_t *layers = json_array();
    for (size_t i = 0; i < st->nlayers; i++)
        json_array_append_new(
            layers, json_pack("{s:s, s:s, s:I, s:s}", "mediaType", st->layers[i].media_type,
                              "digest", st->layers[i].digest, "size",
                              (json_int_t)st->layers[i].size, "diff_id", st->layers[i].diff_id));
    json_t *doc = json_pack("{s:O, s:o}", "config", st->config, "layers", layers);
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    char path[4200];
    wb_error e;
    /* not fsynced: a lost or torn entry after a crash is only a cache miss */
    if (text &&
        (wb_path_join(path, sizeof path, &e, "%s/%s", b->cache_dir, wb_digest_hex(key)) < 0 ||
         wb_write_file_atomic(path, text, strlen(text), 0644, false, &e) < 0))
        warnf(b, "warning: build cache: %s", e.msg);
    free(text);
}

typedef int (*step_fn)(builder *b, stage *st, const wb_df_instr *in, void *arg);

/* One cached step: `desc` is the instruction as expanded, `extra` what it reads. */
static int run_step(builder *b, stage *st, const wb_df_instr *in, const char *desc,
                    const char *extra, step_fn fn, void *arg) {
    char key[WB_DIGEST_MAX];
    cache_key(b, st, desc, extra, key);
    if (!b->o->no_cache && cache_get(b, key, st)) {
        say(b, " ---> Using cache\n");
    } else {
        if (fn(b, st, in, arg) < 0) return -1;
        if (state_id(b, st) < 0) return -1;
        cache_put(b, key, st);
    }
    st->pristine = false;
    st->unchanged_base = false;
    say(b, " ---> %.12s\n", wb_digest_hex(st->id));
    return 0;
}

/* desc for the cache: a JSON array of strings */
static char *desc_of(const char *cmd, char **v, size_t n) {
    json_t *a = json_array();
    json_array_append_new(a, json_string(cmd));
    for (size_t i = 0; i < n; i++) json_array_append_new(a, json_string(v[i] ? v[i] : ""));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

/* ---- stage trees ---- */

static int open_layer_blob(builder *b, const stage *st, size_t i, int *fd) {
    char path[4096];
    if (wb_blob_path(b->s, st->layers[i].digest, path, sizeof path, b->err) < 0) return -1;
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0) return wb_error_sys(b->err, "open layer %s", st->layers[i].digest);
    return 0;
}

static int ensure_tree(builder *b, stage *st) {
    if (!st->tree) {
        st->tree = wb_fstree_new();
        st->tree_layers = 0;
    }
    wb_tar_limits caps;
    if (st->tree_layers < st->nlayers && wb_layer_limits(&caps, b->err) < 0) return -1;
    for (size_t i = st->tree_layers; i < st->nlayers; i++) {
        int fd;
        if (open_layer_blob(b, st, i, &fd) < 0) return -1;
        /* checked against the config's diff_id and the layer caps as it is read (unpack.h) */
        wb_tartree_limits lim = {caps.max_bytes, caps.max_entries, NULL};
        if (wb_layer_is_tar(st->layers[i].media_type)) lim.diff_id = st->layers[i].diff_id;
        int rc = wb_tartree_read(fd, (int)i, WB_TARTREE_LAYER, &lim, st->tree, b->err);
        close(fd);
        if (rc < 0 && b->err && b->err->code == EFBIG)
            wb_layer_limit_hint(b->err, strstr(b->err->msg, "entries (the limit)")
                                            ? WB_TAR_OVER_ENTRIES
                                            : WB_TAR_OVER_BYTES);
        if (rc < 0) return wb_error_wrap(b->err, "layer %s", st->layers[i].digest);
        st->tree_layers = i + 1;
    }
    return 0;
}

static void stage_release(stage *st) {
    free(st->name);
    json_decref(st->config);
    free(st->layers);
    kv_free(&st->args);
    wb_fstree_free(st->tree);
    memset(st, 0, sizeof *st);
}

/* ---- temporary directories (ROOT/images/buildcache/tmp/<pid>.<n>) ---- */

static void sweep_tmp(builder *b) {
    DIR *d = opendir(b->tmp_root);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (de->d_name[0] == '.' || *end != '.' || pid <= 0) continue;
        if (pid != (long)getpid() && kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
            char path[4400];
            if (wb_path_join(path, sizeof path, NULL, "%s/%s", b->tmp_root, de->d_name) == 0)
                wb_remove_tree(path, NULL);
        }
    }
    closedir(d);
}

static int make_tmp(builder *b, char *path, size_t size) {
    if (wb_path_join(path, size, b->err, "%s/%d.%u", b->tmp_root, (int)getpid(), b->tmp_counter++) <
        0)
        return -1;
    if (mkdir(path, 0700) != 0) return wb_error_sys(b->err, "create `%s`", path);
    return 0;
}

/* ---- FROM ---- */

static int dispatch(builder *b, stage *st, const wb_df_instr *in);

static int from_scratch(builder *b, stage *st, const char *os, const char *arch,
                        const char *variant) {
    st->config = json_pack("{s:s, s:s, s:{}, s:{s:s, s:[]}, s:[]}", "architecture", arch, "os", os,
                           "config", "rootfs", "type", "layers", "diff_ids", "history");
    if (variant[0]) json_object_set_new(st->config, "variant", json_string(variant));
    snprintf(st->os, sizeof st->os, "%s", os);
    snprintf(st->arch, sizeof st->arch, "%s", arch);
    snprintf(st->variant, sizeof st->variant, "%s", variant);
    st->scratch = st->pristine = true;
    return state_id(b, st);
}

static int from_image(builder *b, stage *st, const wb_df_instr *in, const char *name,
                      const char *want_os, const char *want_arch) {
    wb_image_record rec;
    int found = wb_images_resolve(b->s, name, &rec, b->err);
    if (found < 0 && b->err->code == ENOENT && b->o->pull) {
        char pulled[WB_DIGEST_MAX], platform[80];
        if (want_os) snprintf(platform, sizeof platform, "%s/%s", want_os, want_arch);
        found = b->o->pull(b->o->pull_ctx, b->s, name, want_os ? platform : NULL, pulled, b->err);
        if (found == 0) found = wb_images_resolve(b->s, pulled, &rec, b->err);
        if (found < 0) return wrap(b, in, wb_df_cmd_name(in->cmd));
    }
    if (found < 0) {
        if (b->err->code == ENOENT)
            return fail(b, in, ENOENT, "%s %s: no such image in the local store",
                        wb_df_cmd_name(in->cmd), name);
        return wrap(b, in, wb_df_cmd_name(in->cmd));
    }
    wb_image *img;
    int rc = wb_image_load(b->s, rec.manifest, &img, b->err);
    if (rc < 0) {
        wb_image_record_release(&rec);
        return wrap(b, in, name);
    }
    if (img->wasm == WB_WASM_ARTIFACT || img->wasm == WB_WASM_RUNWASI) {
        rc = fail(b, in, EINVAL, "%s %s: a Wasm artifact has no root filesystem to build on",
                  wb_df_cmd_name(in->cmd), name);
    } else if (want_os && (strcmp(img->os, want_os) != 0 || !arch_equal(img->arch, want_arch))) {
        rc = fail(b, in, EINVAL,
                  "image with reference %s was found but does not match the "
                  "specified platform: wanted %s/%s, actual: %s/%s",
                  name, want_os, want_arch, img->os, img->arch);
    } else if (img->nlayers > WB_MAX_LAYERS) {
        rc = fail(b, in, EINVAL, "%s has too many layers", name);
    }
    if (rc == 0) {
        st->config = json_deep_copy(img->config);
        st->layers = wb_calloc(img->nlayers + 1, sizeof *st->layers);
        memcpy(st->layers, img->layers, img->nlayers * sizeof *st->layers);
        st->nlayers = img->nlayers;
        snprintf(st->id, sizeof st->id, "%s", img->config_digest);
        snprintf(st->os, sizeof st->os, "%s", img->os);
        snprintf(st->arch, sizeof st->arch, "%s", img->arch);
        snprintf(st->variant, sizeof st->variant, "%s", img->variant);
        snprintf(st->base_manifest, sizeof st->base_manifest, "%s", img->manifest_digest);
        st->unchanged_base = true;
    }
    wb_image_free(img);
    wb_image_record_release(&rec);
    return rc;
}

static int clear_onbuild(builder *b, stage *st, const wb_df_instr *in, void *arg) {
    (void)b;
    (void)in;
    (void)arg;
    json_object_del(cfg(st), "OnBuild");
    return 0;
}

/* ONBUILD triggers of the base image run right after FROM (and are not inherited). */
static int run_triggers(builder *b, stage *st, const wb_df_instr *from) {
    json_t *triggers = json_deep_copy(json_object_get(cfg(st), "OnBuild"));
    size_t n = json_array_size(triggers);
    int rc = 0;
    if (n) {
        say(b, "# Executing %zu build trigger%s\n", n, n == 1 ? "" : "s");
        rc = run_step(b, st, from, "[\"ONBUILD-CLEAR\"]", NULL, clear_onbuild, NULL);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *t = json_string_value(json_array_get(triggers, i));
        if (!t) continue;
        char *text = wb_malloc(strlen(t) + 16);
        sprintf(text, "FROM scratch\n%s\n", t);
        char name[64];
        snprintf(name, sizeof name, "%s:%d: ONBUILD trigger", b->df->file, from->line);
        wb_dockerfile *tdf;
        rc = wb_dockerfile_parse(name, text, strlen(text), &tdf, b->err);
        free(text);
        if (rc < 0) break;
        if (tdf->ninstrs != 2) {
            rc = fail(b, from, EINVAL, "invalid ONBUILD trigger \"%s\"", t);
        } else {
            wb_dockerfile *saved = b->df;
            b->df = tdf;
            say(b, "Trigger %zu : %s\n", i + 1, tdf->instrs[1].text);
            rc = dispatch(b, st, &tdf->instrs[1]);
            b->df = saved;
        }
        wb_dockerfile_free(tdf);
    }
    json_decref(triggers);
    return rc;
}

static int do_from(builder *b, size_t si) {
    const wb_df_stage *ds = &b->df->stages[si];
    const wb_df_instr *in = &b->df->instrs[ds->first];
    stage *st = &b->stages[si];
    if (ds->name) st->name = wb_strdup(ds->name);
    char *name = NULL, *pf = NULL;
    if (expand(b, NULL, in, in->args[0], &name) < 0) return -1;
    const char *pflag = wb_df_flag_get(in, "platform", NULL);
    char os[32] = "", arch[32] = "", variant[32] = "";
    bool want = false;
    int rc = 0;
    if (pflag) {
        if ((rc = expand(b, NULL, in, pflag, &pf)) == 0 &&
            (rc = wb_platform_parse(pf, os, arch, variant, b->err)) < 0)
            wrap(b, in, "FROM --platform");
        want = true;
    } else if (b->platform_given) {
        strcpy(os, b->os);
        strcpy(arch, b->arch);
        strcpy(variant, b->variant);
        want = true;
    }
    if (rc < 0) goto out;
    if (!*name) {
        rc = fail(b, in, EINVAL, "FROM: the image name is empty after expansion of \"%s\"",
                  in->args[0]);
        goto out;
    }
    int k = -1;
    for (size_t i = 0; i < si; i++)
        if (b->stages[i].name && !strcasecmp(b->stages[i].name, name)) k = (int)i;
    if (!strcasecmp(name, "scratch")) {
        if (!want) wb_platform_host(os, arch, variant);
        rc = from_scratch(b, st, os, arch, variant);
        say(b, " ---> \n");
    } else if (k >= 0) {
        stage *src = &b->stages[k];
        st->config = json_deep_copy(src->config);
        st->layers = wb_calloc(src->nlayers + 1, sizeof *st->layers);
        memcpy(st->layers, src->layers, src->nlayers * sizeof *st->layers);
        st->nlayers = src->nlayers;
        memcpy(st->id, src->id, sizeof st->id);
        memcpy(st->os, src->os, sizeof st->os);
        memcpy(st->arch, src->arch, sizeof st->arch);
        memcpy(st->variant, src->variant, sizeof st->variant);
        memcpy(st->base_manifest, src->base_manifest, sizeof st->base_manifest);
        st->scratch = src->scratch;
        st->pristine = src->pristine;
        st->unchanged_base = src->unchanged_base;
        say(b, " ---> %.12s\n", wb_digest_hex(st->id));
    } else {
        rc = from_image(b, st, in, name, want ? os : NULL, arch);
        if (rc == 0) {
            say(b, " ---> %.12s\n", wb_digest_hex(st->id));
            rc = run_triggers(b, st, in);
        }
    }
out:
    free(name);
    free(pf);
    return rc;
}

/* ---- metadata instructions ---- */

typedef struct pairs {
    strvec k, v;
} pairs;

static int apply_env(builder *b, stage *st, const wb_df_instr *in, void *arg) {
    pairs *p = arg;
    for (size_t i = 0; i < p->k.n; i++) env_set(st, p->k.v[i], p->v.v[i]);
    add_history(b, st, in->text, true);
    return 0;
}

static int apply_label(builder *b, stage *st, const wb_df_instr *in, void *arg) {
    pairs *p = arg;
    json_t *c = cfg(st);
    json_t *labels = json_object_get(c, "Labels");
    if (!json_is_object(labels)) {
        labels = json_object();
        json_object_set_new(c, "Labels", labels);
    }
    for (size_t i = 0; i < p->k.n; i++)
        json_object_set_new(labels, p->k.v[i], json_string(p->v.v[i]));
    add_history(b, st, in->text, true);
    return 0;
}

/* ENV and LABEL: every pair expanded against the state before the instruction */
static int do_pairs(builder *b, stage *st, const wb_df_instr *in) {
    pairs p = {0};
    int rc = 0;
    for (size_t i = 0; i < in->nkvs && rc == 0; i++) {
        char *k, *v;
        if ((rc = expand(b, st, in, in->kvs[i].key, &k)) < 0) break;
        if ((rc = expand(b, st, in, in->kvs[i].value ? in->kvs[i].value : "", &v)) < 0) {
            free(k);
            break;
        }
        if (!*k) {
            rc = fail(b, in, EINVAL, "%s names can not be blank", wb_df_cmd_name(in->cmd));
            free(k);
            free(v);
            break;
        }
        sv_push(&p.k, k);
        sv_push(&p.v, v);
    }
    if (rc == 0) {
        strvec all = {0};
        for (size_t i = 0; i < p.k.n; i++) {
            sv_push(&all, wb_strdup(p.k.v[i]));
            sv_push(&all, wb_strdup(p.v.v[i]));
        }
        char *desc = desc_of(wb_df_cmd_name(in->cmd), all.v, all.n);
        sv_free(&all);
        rc = run_step(b, st, in, desc, NULL, in->cmd == WB_DF_ENV ? apply_env : apply_label, &p);
        free(desc);
    }
    sv_free(&p.k);
    sv_free(&p.v);
    return rc;
}

static const char *predefined_proxy[] = {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy",
                                         "FTP_PROXY",  "ftp_proxy",  "NO_PROXY",    "no_proxy",
                                         "ALL_PROXY",  "all_proxy"};

/* ARG NAME[=default]: --build-arg wins, then the default, then a global ARG's value or a
 * predefined platform argument. */
static int do_arg(builder *b, stage *st, const wb_df_instr *in) {
    for (size_t i = 0; i < in->nkvs; i++) {
        const char *name = in->kvs[i].key;
        char *value = NULL;
        kv *ba = kv_find(&b->bargs, name);
        if (ba) {
            ba->used = true;
            value = wb_strdup(ba->value);
        } else if (in->kvs[i].value) {
            if (expand(b, st, in, in->kvs[i].value, &value) < 0) return -1;
        } else if (st) {
            kv *g = kv_find(&b->meta, name);
            if (!g) g = kv_find(&b->predefined, name);
            if (g && g->value) value = wb_strdup(g->value);
        } else {
            kv *g = kv_find(&b->predefined, name);
            if (g && g->value) value = wb_strdup(g->value);
        }
        kv_set(st ? &st->args : &b->meta, name, value);
        free(value);
    }
    if (st) say(b, " ---> %.12s\n", wb_digest_hex(st->id));
    return 0;
}

typedef struct json_change {
    const char *key; /* in config.config, or a top-level key when top */
    json_t *value;   /* stolen; NULL deletes */
    bool top;
    bool merge; /* merge an object into the existing one */
    bool clear_cmd;
    bool set_cmd;
} json_change;

static int apply_change(builder *b, stage *st, const wb_df_instr *in, void *arg) {
    json_change *ch = arg;
    json_t *target = ch->top ? st->config : cfg(st);
    if (ch->merge) {
        json_t *cur = json_object_get(target, ch->key);
        if (!json_is_object(cur)) {
            cur = json_object();
            json_object_set_new(target, ch->key, cur);
        }
        json_object_update(cur, ch->value);
    } else if (ch->value) {
        json_object_set(target, ch->key, ch->value);
    } else {
        json_object_del(target, ch->key);
    }
    if (ch->clear_cmd) json_object_del(cfg(st), "Cmd");
    add_history(b, st, in->text, true);
    return 0;
}

/* A metadata step whose desc is the JSON of the new value. */
static int change_step(builder *b, stage *st, const wb_df_instr *in, json_change *ch) {
    json_t *d = json_pack("[s, s, O?, b, b]", wb_df_cmd_name(in->cmd), ch->key, ch->value,
                          ch->merge, ch->clear_cmd);
    char *desc = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(d);
    int rc = run_step(b, st, in, desc, NULL, apply_change, ch);
    free(desc);
    json_decref(ch->value);
    return rc;
}

static json_t *shell_of(stage *st) {
    json_t *sh = json_object_get(cfg(st), "Shell");
    if (json_is_array(sh) && json_array_size(sh)) return json_deep_copy(sh);
    return json_pack("[s, s]", "/bin/sh", "-c");
}

static int do_cmd_entrypoint(builder *b, stage *st, const wb_df_instr *in) {
    json_t *v = json_array();
    const char *what = wb_df_cmd_name(in->cmd);
    if (in->exec_form) {
        for (size_t i = 0; i < in->nargs; i++) json_array_append_new(v, json_string(in->args[i]));
    } else {
        json_decref(v);
        v = shell_of(st);
        json_array_append_new(v, json_string(in->args[0]));
        if (st->scratch || !strcmp(st->os, "wasi")) {
            char *shown = json_dumps(v, JSON_COMPACT);
            warnf(b,
                  "%s:%d: warning: %s in shell form runs %s, and this image has no shell: use "
                  "the exec form, %s [\"/app.wasm\", \"arg\"]",
                  b->df->file, in->line, what, shown ? shown : "", what);
            free(shown);
        }
    }
    json_change ch = {.key = in->cmd == WB_DF_CMD ? "Cmd" : "Entrypoint", .value = v};
    if (in->cmd == WB_DF_ENTRYPOINT) {
        if (json_array_size(v) == 0) {
            json_decref(v);
            ch.value = json_null();
        }
        /* ENTRYPOINT resets a CMD inherited from the base image (Docker's rule) */
        ch.clear_cmd = !st->cmd_set;
    } else {
        st->cmd_set = true;
    }
    return change_step(b, st, in, &ch);
}

/* Go durations as HEALTHCHECK takes them: "30s", "1m30s", "500ms", "1h"; in nanoseconds. */
static int parse_duration(const char *s, int64_t *ns) {
    static const struct {
        const char *unit;
        int64_t mul;
    } units[] = {{"ns", 1},         {"us", 1000},         {"µs", 1000},          {"ms", 1000000},
                 {"s", 1000000000}, {"m", 60000000000LL}, {"h", 3600000000000LL}};
    int64_t total = 0;
    if (!*s) return -1;
    if (!strcmp(s, "0")) {
        *ns = 0;
        return 0;
    }
    while (*s) {
        char *end;
        double v = strtod(s, &end);
        if (end == s || v < 0) return -1;
        s = end;
        size_t best = 0;
        int64_t mul = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t l = strlen(units[i].unit);
            if (!strncmp(s, units[i].unit, l) && l > best) {
                best = l;
                mul = units[i].mul;
            }
        }
        if (!best) return -1;
        s += best;
        total += (int64_t)(v * (double)mul);
    }
    *ns = total;
    return 0;
}

static int do_healthcheck(builder *b, stage *st, const wb_df_instr *in) {
    json_t *hc;
    if (!in->sub) {
        hc = json_pack("{s:[s]}", "Test", "NONE");
    } else {
        json_t *test = json_array();
        if (in->sub->exec_form) {
            json_array_append_new(test, json_string("CMD"));
            for (size_t i = 0; i < in->sub->nargs; i++)
                json_array_append_new(test, json_string(in->sub->args[i]));
        } else {
            json_array_append_new(test, json_string("CMD-SHELL"));
            json_array_append_new(test, json_string(in->sub->args[0]));
        }
        hc = json_pack("{s:o}", "Test", test);
        static const struct {
            const char *flag, *key;
        } durs[] = {{"interval", "Interval"},
                    {"timeout", "Timeout"},
                    {"start-period", "StartPeriod"},
                    {"start-interval", "StartInterval"}};
        for (size_t i = 0; i < sizeof durs / sizeof durs[0]; i++) {
            const char *v = wb_df_flag_get(in, durs[i].flag, NULL);
            if (!v) continue;
            int64_t ns;
            if (parse_duration(v, &ns) < 0 || (ns != 0 && ns < 1000000)) {
                json_decref(hc);
                return fail(b, in, EINVAL,
                            "HEALTHCHECK: invalid --%s \"%s\" (a duration of at "
                            "least 1ms, like 30s)",
                            durs[i].flag, v);
            }
            if (ns) json_object_set_new(hc, durs[i].key, json_integer(ns));
        }
        const char *r = wb_df_flag_get(in, "retries", NULL);
        if (r) {
            char *end;
            long n = strtol(r, &end, 10);
            if (!*r || *end || n < 0 || n > 1000000) {
                json_decref(hc);
                return fail(b, in, EINVAL, "HEALTHCHECK: invalid --retries \"%s\"", r);
            }
            if (n) json_object_set_new(hc, "Retries", json_integer(n));
        }
    }
    json_change ch = {.key = "Healthcheck", .value = hc};
    return change_step(b, st, in, &ch);
}

static int do_expose(builder *b, stage *st, const wb_df_instr *in) {
    json_t *ports = json_object();
    for (size_t i = 0; i < in->nargs; i++) {
        char *w;
        if (expand(b, st, in, in->args[i], &w) < 0) {
            json_decref(ports);
            return -1;
        }
        lower(w);
        char proto[16] = "tcp";
        char *slash = strchr(w, '/');
        if (slash) {
            *slash = '\0';
            snprintf(proto, sizeof proto, "%s", slash + 1);
        }
        char *end;
        long lo = strtol(w, &end, 10), hi = lo;
        if (*end == '-') hi = strtol(end + 1, &end, 10);
        bool ok = *w && !*end && lo >= 1 && hi <= 65535 && lo <= hi && hi - lo < 65536 &&
                  (!strcmp(proto, "tcp") || !strcmp(proto, "udp") || !strcmp(proto, "sctp"));
        if (!ok) {
            int rc =
                fail(b, in, EINVAL, "EXPOSE: invalid port \"%s\" (want PORT[-PORT][/tcp|udp|sctp])",
                     in->args[i]);
            free(w);
            json_decref(ports);
            return rc;
        }
        for (long p = lo; p <= hi; p++) {
            char key[40];
            snprintf(key, sizeof key, "%ld/%s", p, proto);
            json_object_set_new(ports, key, json_object());
        }
        free(w);
    }
    json_change ch = {.key = "ExposedPorts", .value = ports, .merge = true};
    return change_step(b, st, in, &ch);
}

static int do_volume(builder *b, stage *st, const wb_df_instr *in) {
    json_t *vols = json_object();
    for (size_t i = 0; i < in->nargs; i++) {
        char *w;
        if (expand(b, st, in, in->args[i], &w) < 0) {
            json_decref(vols);
            return -1;
        }
        if (!*w) {
            free(w);
            json_decref(vols);
            return fail(b, in, EINVAL, "VOLUME specified can not be an empty string");
        }
        json_object_set_new(vols, w, json_object());
        free(w);
    }
    json_change ch = {.key = "Volumes", .value = vols, .merge = true};
    return change_step(b, st, in, &ch);
}

static int do_simple_string(builder *b, stage *st, const wb_df_instr *in, const char *key, bool top,
                            bool do_expand) {
    char *v;
    if (do_expand) {
        if (expand(b, st, in, in->args[0], &v) < 0) return -1;
    } else {
        v = wb_strdup(in->args[0]);
    }
    if (in->cmd == WB_DF_STOPSIGNAL) {
        bool ok = *v != '\0';
        for (const char *c = v; *c; c++)
            if (!isalnum((unsigned char)*c) && *c != '+' && *c != '-') ok = false;
        if (!ok) {
            int rc = fail(b, in, EINVAL, "STOPSIGNAL: invalid signal \"%s\"", v);
            free(v);
            return rc;
        }
    }
    json_change ch = {.key = key, .value = json_string(v), .top = top};
    free(v);
    return change_step(b, st, in, &ch);
}

static int do_onbuild(builder *b, stage *st, const wb_df_instr *in) {
    json_t *list = json_deep_copy(json_object_get(cfg(st), "OnBuild"));
    if (!json_is_array(list)) {
        json_decref(list);
        list = json_array();
    }
    json_array_append_new(list, json_string(in->trigger));
    json_change ch = {.key = "OnBuild", .value = list};
    return change_step(b, st, in, &ch);
}

static int do_shell(builder *b, stage *st, const wb_df_instr *in) {
    json_t *a = json_array();
    for (size_t i = 0; i < in->nargs; i++) json_array_append_new(a, json_string(in->args[i]));
    json_change ch = {.key = "Shell", .value = a};
    return change_step(b, st, in, &ch);
}

/* ---- writing layers ---- */

typedef enum { SRC_NONE, SRC_CONTEXT, SRC_STAGE, SRC_ARCHIVE } src_kind;

/* What a new layer holds: an entry per path, in path order. */
typedef struct entry {
    char *path; /* in the image, relative */
    wb_ftype type;
    mode_t perm;
    int64_t mtime;
    char *link;
    src_kind kind;
    const char *ctx_path; /* SRC_CONTEXT: resolved path in the context */
    const wb_fsnode *node;
    int src;        /* SRC_STAGE: layer index in the source stage; SRC_ARCHIVE: archive index */
    uint64_t ord;   /* entry ordinal there */
    char *tmp_file; /* fetched content */
    uid_t uid;      /* COPY --chown */
    gid_t gid;
} entry;

typedef struct entry_list {
    entry *v;
    size_t n, cap;
    unsigned gen; /* tree nodes with this mark are in the list (add_parents) */
} entry_list;

static unsigned list_gen(entry_list *l) {
    static unsigned next;
    if (!l->gen) l->gen = ++next ? next : ++next;
    return l->gen;
}

static entry *entry_add(entry_list *l, const char *path) {
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].path, path)) { /* a later source replaces an earlier one */
            free(l->v[i].link);
            free(l->v[i].tmp_file);
            char *p = l->v[i].path;
            memset(&l->v[i], 0, sizeof l->v[i]);
            l->v[i].path = p;
            return &l->v[i];
        }
    WB_VEC_RESERVE(l->v, l->cap, l->n + 1);
    entry *e = &l->v[l->n++];
    memset(e, 0, sizeof *e);
    e->path = wb_strdup(path);
    return e;
}

static void entries_free(entry_list *l) {
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].path);
        free(l->v[i].link);
        free(l->v[i].tmp_file);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* path order with '/' first, so that a directory comes right before its content */
static int entry_cmp(const void *a, const void *b) {
    const unsigned char *x = (const unsigned char *)((const entry *)a)->path;
    const unsigned char *y = (const unsigned char *)((const entry *)b)->path;
    for (;; x++, y++) {
        unsigned cx = *x == '/' ? 1 : *x, cy = *y == '/' ? 1 : *y;
        if (cx != cy || !cx) return (int)cx - (int)cy;
    }
}

/* The directories above `path` join the list: the missing ones made (0755, root's), the existing
 * ones as the image has them (mode, owner, mtime), as a layer made from an overlay's upper
 * directory holds them (the directory copied up). A layer that left them out would, stacked by
 * overlayfs, show them as its unpacker made them (root's). */
static int add_parents(builder *b, wb_fstree *tree, entry_list *l, const char *path) {
    char buf[WB_FSTREE_MAX_PATH];
    if (wb_path_join(buf, sizeof buf, b->err, "%s", path) < 0) return -1;
    unsigned gen = list_gen(l);
    for (char *s = strchr(buf, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        wb_fsnode *n = wb_fstree_get(tree, buf);
        if (!n) {
            wb_fsnode *made;
            if (wb_fstree_put(tree, buf, WB_FT_DIR, &made, b->err) < 0) return -1;
            made->mtime = created_mtime(b);
            made->mark = gen;
            entry *e = entry_add(l, buf);
            e->type = WB_FT_DIR;
            e->perm = 0755;
            e->mtime = created_mtime(b);
        } else if (n->type == WB_FT_DIR && n->mark != gen) {
            n->mark = gen;
            entry *e = entry_add(l, buf);
            e->type = WB_FT_DIR;
            e->perm = n->perm;
            e->mtime = n->mtime;
            e->uid = n->uid;
            e->gid = n->gid;
        } else if (n->type != WB_FT_DIR) {
            return wb_error_set(b->err, ENOTDIR,
                                "cannot create `/%s`: `/%s` is not a directory "
                                "in the image",
                                path, buf);
        }
        *s = '/';
    }
    return 0;
}

/* Where `path` (cleaned, relative) really is in the image: symlinks in its parents followed as
 * the image's processes would see them. */
static int real_dest(builder *b, wb_fstree *tree, const char *path, char **out) {
    wb_fsnode *n;
    wb_error e;
    if (wb_fstree_resolve(tree, path, WB_RESOLVE_ROOTFS | WB_RESOLVE_NOFOLLOW, &n, out, &e) == 0)
        return 0;
    if (e.code != ENOENT) {
        *b->err = e;
        return -1;
    }
    /* a parent is missing: resolve the existing part, the rest is created */
    const char *slash = strrchr(path, '/');
    if (!slash) {
        *out = wb_strdup(path);
        return 0;
    }
    char *parent = wb_strndup(path, (size_t)(slash - path)), *rp;
    int rc = real_dest(b, tree, parent, &rp);
    free(parent);
    if (rc < 0) return -1;
    *out = wb_malloc(strlen(rp) + strlen(slash) + 1);
    sprintf(*out, "%s%s", rp, rp[0] ? slash : slash + 1);
    free(rp);
    return 0;
}

static void append_layer(builder *b, stage *st, const wb_df_instr *in, const wb_layer_desc *d);
typedef struct copy_job copy_job;
static int resolve_chown(builder *b, stage *st, const wb_df_instr *in, copy_job *j);

/* Write the entries as a new layer of st, update its tree and config. */
static int write_layer(builder *b, stage *st, const wb_df_instr *in, entry_list *l,
                       const wb_context *ctx) {
    if (st->nlayers >= WB_MAX_LAYERS)
        return fail(b, in, EFBIG, "more than %d layers", WB_MAX_LAYERS);
    qsort(l->v, l->n, sizeof *l->v, entry_cmp);
    wb_layer_writer *w;
    if (wb_layer_writer_open(b->s, &w, b->err) < 0) return -1;
    int rc = 0;
    for (size_t i = 0; i < l->n && rc == 0; i++) {
        entry *e = &l->v[i];
        wb_layer_set_owner(w, e->uid, e->gid);
        if (e->type == WB_FT_DIR) {
            rc = wb_layer_add_dir(w, e->path, e->perm, e->mtime, b->err);
        } else if (e->type == WB_FT_SYMLINK) {
            rc = wb_layer_add_symlink(w, e->path, e->link, e->mtime, b->err);
        } else if (e->kind == SRC_CONTEXT) {
            int fd;
            rc = wb_context_open_file(ctx, e->ctx_path, e->node, &fd, b->err);
            if (rc == 0) {
                rc = wb_layer_add_fd(w, e->path, fd, e->perm, e->mtime, b->err);
                close(fd);
            }
        } else {
            rc = wb_layer_add_file(w, e->path, e->tmp_file, e->perm, e->mtime, b->err);
        }
    }
    wb_layer_desc d;
    if (rc < 0) {
        wb_layer_writer_abort(w);
        return -1;
    }
    if (wb_layer_writer_commit(w, &d, b->err) < 0) return -1;
    /* the tree now reflects this layer too (entries are ordinals in it) */
    int index = (int)st->nlayers;
    if (st->tree && st->tree_layers == st->nlayers) {
        for (size_t i = 0; i < l->n; i++) {
            entry *e = &l->v[i];
            wb_fsnode *n;
            if (wb_fstree_put(st->tree, e->path, e->type, &n, b->err) < 0) return -1;
            n->perm = e->perm;
            n->mtime = e->mtime;
            n->uid = e->uid;
            n->gid = e->gid;
            n->layer = index;
            n->entry = i;
            n->size = e->node ? e->node->size : 0;
            free(n->link);
            n->link = e->link ? wb_strdup(e->link) : NULL;
        }
        st->tree_layers = st->nlayers + 1;
    } else {
        wb_fstree_free(st->tree);
        st->tree = NULL;
    }
    append_layer(b, st, in, &d);
    return 0;
}

/* A committed layer becomes the stage's next one (config diff_ids and history too). */
static void append_layer(builder *b, stage *st, const wb_df_instr *in, const wb_layer_desc *d) {
    st->layers = wb_reallocarray(st->layers, st->nlayers + 1, sizeof *st->layers);
    st->layers[st->nlayers++] = *d;
    json_t *rootfs = json_object_get(st->config, "rootfs");
    if (!json_is_object(rootfs)) {
        rootfs = json_pack("{s:s, s:[]}", "type", "layers", "diff_ids");
        json_object_set_new(st->config, "rootfs", rootfs);
    }
    json_t *ids = json_object_get(rootfs, "diff_ids");
    if (!json_is_array(ids)) {
        ids = json_array();
        json_object_set_new(rootfs, "diff_ids", ids);
    }
    json_array_append_new(ids, json_string(d->diff_id));
    add_history(b, st, in->text, false);
}

/* ---- WORKDIR ---- */

static int apply_workdir(builder *b, stage *st, const wb_df_instr *in, void *arg) {
    const char *dir = arg; /* absolute, cleaned */
    json_object_set_new(cfg(st), "WorkingDir", json_string(dir));
    if (ensure_tree(b, st) < 0) return wrap(b, in, "WORKDIR");
    char *real;
    if (real_dest(b, st->tree, dir + 1, &real) < 0) return wrap(b, in, "WORKDIR");
    wb_fsnode *n = real[0] ? wb_fstree_get(st->tree, real) : wb_fstree_root(st->tree);
    int rc = 0;
    if (n && n->type == WB_FT_DIR) {
        add_history(b, st, in->text, true);
    } else if (n) {
        rc = fail(b, in, ENOTDIR, "WORKDIR %s: it is not a directory in the image", dir);
    } else {
        /* created as Docker does: with the layer's own mode and owner */
        entry_list l = {0};
        char *withslash = wb_malloc(strlen(real) + 3);
        sprintf(withslash, "%s/x", real);
        rc = add_parents(b, st->tree, &l, withslash);
        free(withslash);
        if (rc == 0)
            rc = write_layer(b, st, in, &l, NULL);
        else
            wrap(b, in, "WORKDIR");
        entries_free(&l);
    }
    free(real);
    return rc;
}

static int do_workdir(builder *b, stage *st, const wb_df_instr *in) {
    char *w;
    if (expand(b, st, in, in->args[0], &w) < 0) return -1;
    const char *cur = json_string_value(json_object_get(cfg(st), "WorkingDir"));
    char *joined = wb_malloc(strlen(w) + (cur ? strlen(cur) : 0) + 3);
    if (w[0] == '/')
        strcpy(joined, w);
    else
        sprintf(joined, "%s/%s", cur && *cur ? cur : "/", w);
    char *clean;
    wb_path_clean(joined, true, &clean);
    char *abs = wb_malloc(strlen(clean) + 2);
    sprintf(abs, "/%s", clean);
    char *v[] = {abs};
    char *desc = desc_of("WORKDIR", v, 1);
    int rc = run_step(b, st, in, desc, NULL, apply_workdir, abs);
    free(desc);
    free(abs);
    free(clean);
    free(joined);
    free(w);
    return rc;
}

/* ---- COPY and ADD ---- */

typedef struct archive_src {
    int fd;
    wb_fstree *tree;
    char digest[WB_DIGEST_MAX];
} archive_src;

typedef struct copy_item {
    char *rel;   /* single: its name; else the path under the destination ("" = the dest) */
    bool single; /* a file named by a source: at DEST, or DEST/rel when DEST is a directory */
    wb_ftype type;
    mode_t perm;
    int64_t mtime;
    char *link;
    src_kind kind;
    char *ctx_path;
    const wb_fsnode *node;
    int src;
    uint64_t ord;
    char content[WB_DIGEST_MAX + 96];
} copy_item;

struct copy_job {
    copy_item *items;
    size_t nitems, cap;
    size_t nsources; /* files and directories the sources named (matched) */
    stage *from;     /* --from */
    archive_src *archives;
    size_t narchives;
    char *dest; /* cleaned, relative ("" = /) */
    bool dest_dir;
    int chmod; /* -1: none */
    strvec excludes;
    bool add;
    char *from_id;
    char *chown; /* --chown, resolved when the step runs */
    uid_t uid;
    gid_t gid;
};

static void job_free(copy_job *j) {
    for (size_t i = 0; i < j->nitems; i++) {
        free(j->items[i].rel);
        free(j->items[i].link);
        free(j->items[i].ctx_path);
    }
    free(j->items);
    for (size_t i = 0; i < j->narchives; i++) {
        close(j->archives[i].fd);
        wb_fstree_free(j->archives[i].tree);
    }
    free(j->archives);
    free(j->dest);
    free(j->from_id);
    free(j->chown);
    sv_free(&j->excludes);
}

static bool excluded(const copy_job *j, const char *path) {
    for (size_t i = 0; i < j->excludes.n; i++)
        if (wb_pattern_match(j->excludes.v[i], path)) return true;
    return false;
}

static copy_item *item_new(copy_job *j, const char *rel, const wb_fsnode *n, src_kind kind,
                           const char *ctx_path) {
    WB_VEC_RESERVE(j->items, j->cap, j->nitems + 1);
    copy_item *it = &j->items[j->nitems++];
    memset(it, 0, sizeof *it);
    it->rel = wb_strdup(rel);
    it->type = n->type == WB_FT_HARDLINK ? WB_FT_REG : n->type;
    it->perm = n->perm;
    it->mtime = n->mtime;
    it->link = n->link && n->type == WB_FT_SYMLINK ? wb_strdup(n->link) : NULL;
    it->kind = kind;
    it->node = n;
    it->src = n->layer;
    it->ord = n->entry;
    if (ctx_path) it->ctx_path = wb_strdup(ctx_path);
    return it;
}

/* A directory's content, recursively, in order. */
static void add_subtree(copy_job *j, const wb_fsnode *dir, const char *src_path, const char *rel,
                        src_kind kind) {
    for (size_t i = 0; i < dir->nchildren; i++) {
        const wb_fsnode *c = dir->children[i];
        size_t sl = strlen(src_path), rl = strlen(rel), nl = strlen(c->name);
        char *sp = wb_malloc(sl + nl + 2), *rp = wb_malloc(rl + nl + 2);
        sprintf(sp, "%s%s%s", src_path, sl ? "/" : "", c->name);
        sprintf(rp, "%s%s%s", rel, rl ? "/" : "", c->name);
        if (!excluded(j, sp) && !excluded(j, rp)) {
            item_new(j, rp, c, kind, kind == SRC_CONTEXT ? sp : NULL);
            if (c->type == WB_FT_DIR) add_subtree(j, c, sp, rp, kind);
        }
        free(sp);
        free(rp);
    }
}

/* All paths of a tree matching a pattern (symlinks not followed), in order. */
static void glob_tree(const wb_fsnode *dir, const char *prefix, const char *pattern, strvec *out) {
    for (size_t i = 0; i < dir->nchildren; i++) {
        const wb_fsnode *c = dir->children[i];
        size_t pl = strlen(prefix);
        char *p = wb_malloc(pl + strlen(c->name) + 2);
        sprintf(p, "%s%s%s", prefix, pl ? "/" : "", c->name);
        if (wb_pattern_match(pattern, p)) sv_push(out, wb_strdup(p));
        if (c->type == WB_FT_DIR) glob_tree(c, p, pattern, out);
        free(p);
    }
}

static bool is_url(const char *s) {
    return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8) || !strncmp(s, "git@", 4) ||
           !strncmp(s, "git://", 6) || strstr(s, "://") != NULL;
}

/* ADD of a local archive: its content goes under the destination. */
static int add_archive(builder *b, copy_job *j, const wb_df_instr *in, const char *src,
                       const char *ctx_path, const wb_fsnode *n, int fd) {
    j->archives = wb_reallocarray(j->archives, j->narchives + 1, sizeof *j->archives);
    archive_src *a = &j->archives[j->narchives++];
    memset(a, 0, sizeof *a);
    a->fd = fd;
    a->tree = wb_fstree_new();
    (void)ctx_path;
    (void)n;
    if (wb_tartree_read(fd, (int)(j->narchives - 1), WB_TARTREE_ARCHIVE, NULL, a->tree, b->err) <
        0) {
        char what[512];
        snprintf(what, sizeof what, "ADD %.400s", src);
        return wrap(b, in, what);
    }
    /* the archive's own digest stands for its content in the cache key */
    wb_hasher *h = wb_hasher_new(b->err);
    if (!h) return -1;
    char buf[65536];
    ssize_t k;
    off_t off = 0;
    while ((k = pread(fd, buf, sizeof buf, off)) > 0) {
        wb_hasher_update(h, buf, (size_t)k);
        off += k;
    }
    wb_hasher_final(h, a->digest);
    if (k < 0) return wb_error_sys(b->err, "read `%s`", src);
    size_t before = j->nitems;
    add_subtree(j, wb_fstree_root(a->tree), "", "", SRC_ARCHIVE);
    for (size_t i = before; i < j->nitems; i++) {
        j->items[i].src = (int)(j->narchives - 1);
        if (j->items[i].type == WB_FT_REG)
            snprintf(j->items[i].content, sizeof j->items[i].content, "archive:%s#%llu", a->digest,
                     (unsigned long long)j->items[i].ord);
    }
    j->dest_dir = true;
    j->nsources++;
    return 0;
}

/* Resolve one source (a path or a pattern) in the source tree into items. */
static int gather(builder *b, copy_job *j, const wb_df_instr *in, wb_fstree *tree, src_kind kind,
                  const char *src) {
    const char *what = wb_df_cmd_name(in->cmd);
    if (j->add && is_url(src))
        return fail(b, in, ENOTSUP,
                    "ADD %s: sources from a URL are not supported: download it "
                    "into the build context and COPY it",
                    src);
    char *clean;
    if (wb_path_clean(src, kind != SRC_CONTEXT, &clean) < 0)
        return fail(b, in, EACCES, "%s: forbidden path outside the build context: %s", what, src);
    strvec matches = {0};
    int rc = 0;
    if (wb_pattern_has_magic(clean)) {
        if (!wb_pattern_valid(clean)) {
            rc = fail(b, in, EINVAL, "%s: invalid pattern \"%s\"", what, src);
            goto out;
        }
        glob_tree(wb_fstree_root(tree), "", clean, &matches);
        if (!matches.n) {
            rc = fail(b, in, ENOENT, "%s: no source files match \"%s\"%s", what, src,
                      kind == SRC_CONTEXT ? " in the build context (or .dockerignore excludes them)"
                                          : "");
            goto out;
        }
    } else {
        sv_push(&matches, wb_strdup(clean));
    }
    for (size_t m = 0; m < matches.n && rc == 0; m++) {
        const char *p = matches.v[m];
        wb_fsnode *n;
        char *real = NULL;
        unsigned mode = kind == SRC_CONTEXT ? WB_RESOLVE_CONTAINED : WB_RESOLVE_ROOTFS;
        if (wb_fstree_resolve(tree, p, mode, &n, &real, b->err) < 0 || !n) {
            if (kind == SRC_CONTEXT && b->err->code == EXDEV)
                rc = fail(b, in, EXDEV, "%s %s: the symlink leads outside the build context", what,
                          src);
            else if (kind == SRC_CONTEXT)
                rc = fail(b, in, ENOENT,
                          "%s failed: file not found in build context or excluded "
                          "by .dockerignore: stat %s: file does not exist",
                          what, src);
            else
                rc = fail(b, in, ENOENT, "%s --from=%s: %s: no such file or directory", what,
                          j->from ? j->from->name : "?", src);
            free(real);
            break;
        }
        j->nsources++;
        if (n->type == WB_FT_DIR) {
            copy_item *it = item_new(j, "", n, kind, kind == SRC_CONTEXT ? real : NULL);
            (void)it;
            add_subtree(j, n, real, "", kind);
        } else if (j->add && kind == SRC_CONTEXT && n->type == WB_FT_REG) {
            int fd;
            if ((rc = wb_context_open_file(b->ctx, real, n, &fd, b->err)) < 0) {
                wrap(b, in, what);
            } else if (wb_tartree_is_archive(fd)) {
                j->nsources--;
                rc = add_archive(b, j, in, src, real, n, fd);
            } else {
                close(fd);
                const char *base = strrchr(p, '/');
                copy_item *it = item_new(j, base ? base + 1 : p, n, kind, real);
                it->single = true;
            }
        } else {
            const char *base = strrchr(p, '/');
            copy_item *it =
                item_new(j, base ? base + 1 : p, n, kind, kind == SRC_CONTEXT ? real : NULL);
            it->single = true;
        }
        free(real);
    }
out:
    sv_free(&matches);
    free(clean);
    return rc;
}

/* The content identity of each item (for the cache key): files of the context are hashed. */
static int item_identities(builder *b, copy_job *j, const wb_df_instr *in, char **extra) {
    size_t cap = 4096, len = 0;
    char *s = wb_malloc(cap);
    s[0] = '\0';
    char *buf = wb_malloc(256 * 1024);
    int rc = 0;
    for (size_t i = 0; i < j->nitems && rc == 0; i++) {
        copy_item *it = &j->items[i];
        if (it->type == WB_FT_REG && it->kind == SRC_CONTEXT) {
            int fd;
            if ((rc = wb_context_open_file(b->ctx, it->ctx_path, it->node, &fd, b->err)) < 0) {
                wrap(b, in, wb_df_cmd_name(in->cmd));
                break;
            }
            wb_hasher *h = wb_hasher_new(b->err);
            if (!h) {
                close(fd);
                rc = -1;
                break;
            }
            ssize_t k;
            off_t off = 0;
            while ((k = pread(fd, buf, 256 * 1024, off)) > 0) {
                wb_hasher_update(h, buf, (size_t)k);
                off += k;
            }
            close(fd);
            char d[WB_DIGEST_MAX];
            wb_hasher_final(h, d);
            if (k < 0) {
                rc = wb_error_sys(b->err, "read `%s`", it->ctx_path);
                break;
            }
            snprintf(it->content, sizeof it->content, "%s", d);
        } else if (it->type == WB_FT_REG && it->kind == SRC_STAGE) {
            snprintf(it->content, sizeof it->content, "layer:%s#%llu",
                     j->from->layers[it->src].digest, (unsigned long long)it->ord);
        }
        size_t need =
            strlen(it->rel) + strlen(it->content) + (it->link ? strlen(it->link) : 0) + 96;
        if (len + need >= cap) {
            while (len + need >= cap) cap *= 2;
            s = wb_realloc(s, cap);
        }
        /* not the mtime: Docker's cache ignores it too (a cached layer keeps the old one) */
        len += (size_t)snprintf(s + len, cap - len, "%s|%d|%d|%o|%s|%s\n", it->rel, it->single,
                                (int)it->type, (unsigned)it->perm, it->link ? it->link : "",
                                it->content);
    }
    free(buf);
    if (rc < 0) {
        free(s);
        return -1;
    }
    *extra = s;
    return 0;
}

/* Fetch what comes from layers or archives into a temporary directory. */
static int fetch_contents(builder *b, copy_job *j, entry_list *l, const char *tmp) {
    int rc = 0;
    size_t nsrc = j->from ? j->from->nlayers : j->narchives;
    for (size_t s = 0; s < nsrc && rc == 0; s++) {
        uint64_t *ords = NULL;
        size_t n = 0;
        for (size_t i = 0; i < l->n; i++) {
            entry *e = &l->v[i];
            if (e->type != WB_FT_REG || (e->kind != SRC_STAGE && e->kind != SRC_ARCHIVE) ||
                e->src != (int)s)
                continue;
            ords = wb_reallocarray(ords, n + 1, sizeof *ords);
            ords[n++] = e->ord;
        }
        if (!n) continue;
        /* ascending, unique */
        for (size_t a = 1; a < n; a++)
            for (size_t k = a; k > 0 && ords[k - 1] > ords[k]; k--) {
                uint64_t t = ords[k];
                ords[k] = ords[k - 1];
                ords[k - 1] = t;
            }
        size_t u = 0;
        for (size_t a = 0; a < n; a++)
            if (!u || ords[u - 1] != ords[a]) ords[u++] = ords[a];
        char dir[4200];
        int dn = snprintf(dir, sizeof dir, "%s/%zu", tmp, s);
        int dfd = -1, fd = -1;
        if (dn < 0 || (size_t)dn >= sizeof dir) {
            rc = wb_error_set(b->err, ENAMETOOLONG, "temporary path under `%s` too long", tmp);
        } else if (mkdir(dir, 0700) != 0 ||
                   (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
            rc = wb_error_sys(b->err, "create `%s`", dir);
        } else {
            if (j->from) {
                rc = open_layer_blob(b, j->from, s, &fd);
            } else {
                fd = j->archives[s].fd;
            }
            if (rc == 0) rc = wb_tartree_fetch(fd, ords, u, dfd, b->err);
            if (j->from && fd >= 0) close(fd);
        }
        if (dfd >= 0) close(dfd);
        for (size_t i = 0; i < l->n && rc == 0; i++) {
            entry *e = &l->v[i];
            if (e->type != WB_FT_REG || (e->kind != SRC_STAGE && e->kind != SRC_ARCHIVE) ||
                e->src != (int)s)
                continue;
            e->tmp_file = wb_malloc(strlen(dir) + 32);
            sprintf(e->tmp_file, "%s/%llu", dir, (unsigned long long)e->ord);
        }
        free(ords);
    }
    return rc;
}

static int apply_copy(builder *b, stage *st, const wb_df_instr *in, void *arg) {
    copy_job *j = arg;
    const char *what = wb_df_cmd_name(in->cmd);
    if (ensure_tree(b, st) < 0) return wrap(b, in, what);
    if (j->chown && resolve_chown(b, st, in, j) < 0) return -1;
    wb_fstree *tree = st->tree;
    /* a single file goes into DEST when DEST is (or names) a directory */
    bool into_dir = j->dest_dir;
    {
        wb_fsnode *dn;
        wb_error e;
        if (!into_dir && wb_fstree_resolve(tree, j->dest, WB_RESOLVE_ROOTFS, &dn, NULL, &e) == 0 &&
            dn && dn->type == WB_FT_DIR)
            into_dir = true;
    }
    entry_list l = {0};
    int rc = 0;
    for (size_t i = 0; i < j->nitems && rc == 0; i++) {
        copy_item *it = &j->items[i];
        size_t dl = strlen(j->dest), rl = strlen(it->rel);
        char *target = wb_malloc(dl + rl + 2);
        if (it->single && !into_dir)
            strcpy(target, j->dest);
        else
            sprintf(target, "%s%s%s", j->dest, dl && rl ? "/" : "", it->rel);
        char *real;
        if (!target[0]) { /* the root itself: only a directory can go there */
            free(target);
            if (it->type != WB_FT_DIR) {
                rc = fail(b, in, EISDIR, "%s: cannot copy a file to /", what);
                break;
            }
            continue;
        }
        rc = real_dest(b, tree, target, &real);
        free(target);
        if (rc < 0) {
            wrap(b, in, what);
            break;
        }
        wb_fsnode *existing = wb_fstree_get(tree, real);
        if (it->type == WB_FT_DIR && !it->rel[0] && existing && existing->type == WB_FT_DIR) {
            free(real); /* copying into an existing directory keeps its metadata */
            continue;
        }
        if ((rc = add_parents(b, tree, &l, real)) < 0) {
            wrap(b, in, what);
            free(real);
            break;
        }
        wb_fsnode *n;
        if ((rc = wb_fstree_put(tree, real, it->type, &n, b->err)) < 0) {
            wrap(b, in, what);
            free(real);
            break;
        }
        entry *e = entry_add(&l, real);
        free(real);
        e->type = it->type;
        e->perm = j->chmod >= 0 && it->type != WB_FT_SYMLINK ? (mode_t)j->chmod : it->perm;
        e->mtime = it->mtime;
        e->link = it->link ? wb_strdup(it->link) : NULL;
        e->kind = it->kind;
        e->ctx_path = it->ctx_path;
        e->node = it->node;
        e->src = it->src;
        e->ord = it->ord;
        e->uid = j->uid;
        e->gid = j->gid;
        n->perm = e->perm;
        n->uid = e->uid;
        n->gid = e->gid;
        n->mark = list_gen(&l);
    }
    char tmp[4200] = "";
    if (rc == 0 && (j->from || j->narchives)) {
        rc = make_tmp(b, tmp, sizeof tmp);
        if (rc == 0) rc = fetch_contents(b, j, &l, tmp);
        if (rc < 0) wrap(b, in, what);
    }
    if (rc == 0) {
        /* the tree was updated as entries were placed; write_layer must not add them twice */
        wb_fstree *keep = st->tree;
        size_t kept = st->tree_layers;
        st->tree = NULL;
        rc = write_layer(b, st, in, &l, b->ctx);
        st->tree = keep;
        st->tree_layers = rc == 0 ? kept + 1 : kept;
        if (rc == 0) {
            /* record where the new entries live */
            for (size_t i = 0; i < l.n; i++) {
                wb_fsnode *n = wb_fstree_get(keep, l.v[i].path);
                if (!n) continue;
                n->layer = (int)st->nlayers - 1;
                n->entry = i;
                n->mtime = l.v[i].mtime;
                if (l.v[i].node) n->size = l.v[i].node->size;
                free(n->link);
                n->link = l.v[i].link ? wb_strdup(l.v[i].link) : NULL;
            }
        } else {
            wrap(b, in, what);
        }
    }
    if (rc < 0) { /* the tree may hold half a step */
        wb_fstree_free(st->tree);
        st->tree = NULL;
    }
    if (tmp[0]) wb_remove_tree(tmp, NULL);
    entries_free(&l);
    return rc;
}

static int find_from(builder *b, size_t si, const wb_df_instr *in, const char *name, stage **out) {
    int k = wb_dockerfile_find_stage(b->df, name);
    if (k >= 0) {
        if ((size_t)k >= si)
            return fail(b, in, EINVAL, "COPY --from=%s: stage %s comes at or after this one", name,
                        name);
        *out = &b->stages[k];
        return 0;
    }
    for (size_t i = 0; i < b->nimages; i++)
        if (!strcmp(b->images[i].name, name)) {
            *out = &b->images[i];
            return 0;
        }
    b->images = wb_reallocarray(b->images, b->nimages + 1, sizeof *b->images);
    stage *img = &b->images[b->nimages];
    memset(img, 0, sizeof *img);
    if (from_image(b, img, in, name, NULL, NULL) < 0) {
        stage_release(img);
        return -1;
    }
    img->name = wb_strdup(name);
    b->nimages++;
    *out = img;
    return 0;
}

static int parse_chmod(const char *s) {
    if (!*s || strlen(s) > 4) return -1;
    int v = 0;
    for (const char *c = s; *c; c++) {
        if (*c < '0' || *c > '7') return -1;
        v = v * 8 + (*c - '0');
    }
    return v;
}

static bool root_owner(const char *s) {
    static const char *ok[] = {"0", "root", "0:0", "root:root", "0:root", "root:0"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!strcmp(s, ok[i])) return true;
    return false;
}

static int do_copy(builder *b, size_t si, stage *st, const wb_df_instr *in) {
    const char *what = wb_df_cmd_name(in->cmd);
    copy_job j = {.chmod = -1, .add = in->cmd == WB_DF_ADD};
    strvec args = {0}, flags = {0};
    int rc = 0;
    for (size_t i = 0; i < in->nargs && rc == 0; i++) {
        char *w;
        if ((rc = expand(b, st, in, in->args[i], &w)) == 0) sv_push(&args, w);
    }
    /* flags, expanded, in the cache key */
    for (size_t i = 0; i < in->nflags && rc == 0; i++) {
        const wb_df_flag *f = &in->flags[i];
        char *v = NULL;
        if (f->value && (rc = expand(b, st, in, f->value, &v)) < 0) break;
        const char *val = v ? v : "";
        if (!strcmp(f->name, "chmod")) {
            j.chmod = parse_chmod(val);
            if (j.chmod < 0)
                rc = fail(b, in, EINVAL, "%s: invalid --chmod=%s (an octal mode like 0755)", what,
                          val);
        } else if (!strcmp(f->name, "chown")) {
            free(j.chown);
            j.chown = root_owner(val) ? NULL : wb_strdup(val);
        } else if (!strcmp(f->name, "exclude")) {
            sv_push(&j.excludes, wb_strdup(val));
        } else if (!strcmp(f->name, "parents") || !strcmp(f->name, "checksum") ||
                   !strcmp(f->name, "keep-git-dir")) {
            rc = fail(b, in, ENOTSUP, "%s --%s is not supported", what, f->name);
        } else if (!strcmp(f->name, "from")) {
            if (!*val)
                rc = fail(b, in, EINVAL, "%s: --from needs a stage or an image", what);
            else
                rc = find_from(b, si, in, val, &j.from);
        }
        if (rc == 0) {
            char *fl = wb_malloc(strlen(f->name) + strlen(val) + 4);
            sprintf(fl, "--%s=%s", f->name, val);
            sv_push(&flags, fl);
        }
        free(v);
    }
    if (rc < 0) goto out;
    const char *dest = args.v[args.n - 1];
    if (!*dest) {
        rc = fail(b, in, EINVAL, "%s: the destination is empty", what);
        goto out;
    }
    /* destination: absolute, or relative to WORKDIR */
    size_t dl = strlen(dest);
    j.dest_dir =
        dest[dl - 1] == '/' || !strcmp(dest, ".") || (dl >= 2 && !strcmp(dest + dl - 2, "/."));
    {
        const char *wd = json_string_value(json_object_get(cfg(st), "WorkingDir"));
        char *joined = wb_malloc(dl + (wd ? strlen(wd) : 0) + 3);
        if (dest[0] == '/')
            strcpy(joined, dest);
        else
            sprintf(joined, "%s/%s", wd && *wd ? wd : "/", dest);
        wb_path_clean(joined, true, &j.dest);
        free(joined);
    }
    wb_fstree *src_tree;
    src_kind kind;
    if (j.from) {
        if ((rc = ensure_tree(b, j.from)) < 0) {
            wrap(b, in, what);
            goto out;
        }
        src_tree = j.from->tree;
        kind = SRC_STAGE;
        j.from_id = wb_strdup(j.from->id);
    } else {
        src_tree = b->ctx->tree;
        kind = SRC_CONTEXT;
    }
    for (size_t i = 0; i + 1 < args.n && rc == 0; i++)
        rc = gather(b, &j, in, src_tree, kind, args.v[i]);
    if (rc < 0) goto out;
    if (j.nsources > 1 && !j.dest_dir) {
        rc = fail(b, in, EINVAL,
                  "When using %s with more than one source file, the destination "
                  "must be a directory and end with a /",
                  what);
        goto out;
    }
    char *extra;
    if ((rc = item_identities(b, &j, in, &extra)) < 0) goto out;
    strvec all = {0};
    for (size_t i = 0; i < flags.n; i++) sv_push(&all, wb_strdup(flags.v[i]));
    for (size_t i = 0; i < args.n; i++) sv_push(&all, wb_strdup(args.v[i]));
    if (j.from_id) sv_push(&all, wb_strdup(j.from_id));
    char *desc = desc_of(what, all.v, all.n);
    sv_free(&all);
    rc = run_step(b, st, in, desc, extra, apply_copy, &j);
    free(desc);
    free(extra);
out:
    sv_free(&args);
    sv_free(&flags);
    job_free(&j);
    return rc;
}

/* ---- COPY --chown ---- */

/* The content of a regular file of the stage (NULL when missing), read through its tree. */
static char *stage_file(builder *b, stage *st, const char *path) {
    wb_fsnode *n;
    wb_error e;
    if (ensure_tree(b, st) < 0 ||
        wb_fstree_resolve(st->tree, path, WB_RESOLVE_ROOTFS, &n, NULL, &e) < 0 || !n ||
        n->type != WB_FT_REG || n->layer < 0 || (size_t)n->layer >= st->nlayers)
        return NULL;
    char tmp[4200], file[4300];
    if (make_tmp(b, tmp, sizeof tmp) < 0) return NULL;
    char *text = NULL;
    int fd = -1, dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    uint64_t ord = n->entry;
    if (dfd >= 0 && open_layer_blob(b, st, (size_t)n->layer, &fd) == 0 &&
        wb_tartree_fetch(fd, &ord, 1, dfd, &e) == 0) {
        uint8_t *data;
        size_t len;
        if (wb_path_join(file, sizeof file, &e, "%s/%llu", tmp, (unsigned long long)ord) == 0 &&
            wb_read_file(file, (size_t)4 << 20, &data, &len, &e) == 0) {
            text = wb_strndup((const char *)data, len);
            free(data);
        }
    }
    if (fd >= 0) close(fd);
    if (dfd >= 0) close(dfd);
    wb_remove_tree(tmp, NULL);
    return text;
}

static int resolve_chown(builder *b, stage *st, const wb_df_instr *in, copy_job *j) {
    char *passwd = stage_file(b, st, "etc/passwd"), *group = stage_file(b, st, "etc/group");
    int rc = wb__chown_parse(j->chown, passwd, group, &j->uid, &j->gid, b->err);
    free(passwd);
    free(group);
    if (rc < 0) {
        char what[300];
        snprintf(what, sizeof what, "%s --chown=%.200s", wb_df_cmd_name(in->cmd), j->chown);
        return wrap(b, in, what);
    }
    return 0;
}

/* ---- RUN ---- */

typedef struct run_job {
    wb_run_command cmd;
    strvec env;
    bool host_network;
} run_job;

static int apply_run(builder *b, stage *st, const wb_df_instr *in, void *arg) {
    run_job *rj = arg;
    if (geteuid() != 0)
        return fail(b, in, EPERM,
                    "RUN needs root: its build container is a Linux container (rootless "
                    "ones are not built yet)");
    /* the stage's file system: its layers, each unpacked once in the store (layers.h) */
    wb_lowers lowers;
    if (wb_layers_lowers(b->s, st->layers, st->nlayers, &lowers, b->err) < 0)
        return wrap(b, in, "RUN: the stage's root");
    char dir[4200], upper[4300];
    if (make_tmp(b, dir, sizeof dir) < 0) {
        wb_lowers_free(&lowers);
        return wrap(b, in, "RUN");
    }
    if (wb_path_join(upper, sizeof upper, b->err, "%s/upper", dir) < 0) {
        wb_remove_tree(dir, NULL);
        wb_lowers_free(&lowers);
        return wrap(b, in, "RUN");
    }
    char hostname[13];
    snprintf(hostname, sizeof hostname, "%.12s", wb_digest_hex(st->id));
    const char *wd = json_string_value(json_object_get(cfg(st), "WorkingDir"));
    const char *user = json_string_value(json_object_get(cfg(st), "User"));
    say(b, " ---> Running in %s\n", hostname);
    if (b->o->out) fflush(b->o->out);
    wb_run_job job = {
        .cmd = &rj->cmd,
        .env = rj->env.v,
        .nenv = rj->env.n,
        .lowers = &lowers,
        .dir = dir,
        .workdir = wd && *wd ? wd : NULL,
        .user = user && *user ? user : NULL,
        .hostname = hostname,
        .host_network = rj->host_network,
        .out_fd = b->o->out ? fileno(b->o->out) : -1,
    };
    int code;
    char msg[WB_ERROR_MSG_MAX];
    int rc = wb__run_container(&job, &code, msg, sizeof msg, b->err);
    if (rc < 0) {
        wrap(b, in, "RUN");
    } else if (code != 0 && msg[0]) {
        rc = fail(b, in, ENOEXEC, "%s: %s: exit code: %d", in->text, msg, code);
    } else if (code != 0) {
        rc = fail(b, in, ECANCELED,
                  "%s: process \"%s\" did not complete successfully: exit code: %d", in->text,
                  rj->cmd.shown, code);
    }
    wb_upper_stats stats = {0};
    wb_layer_desc d;
    if (rc == 0 && st->nlayers >= WB_MAX_LAYERS)
        rc = fail(b, in, EFBIG, "more than %d layers", WB_MAX_LAYERS);
    if (rc == 0 && (rc = wb__upper_write_layer(b->s, upper, &lowers, &d, &stats, b->err)) < 0)
        wrap(b, in, "RUN: write its layer");
    if (rc == 0 && stats.skipped)
        warnf(b,
              "%s:%d: warning: RUN made %zu FIFO%s, socket%s or device node%s; the layer leaves "
              "them out",
              b->df->file, in->line, stats.skipped, "s", "s", "s");
    if (rc == 0 && stats.entries) {
        /* the next RUN unpacks this layer from its blob, as the image's containers will */
        append_layer(b, st, in, &d);
    } else if (rc == 0) {
        /* nothing changed: no layer, as BuildKit does */
        add_history(b, st, in->text, true);
    }
    wb_remove_tree(dir, NULL);
    wb_lowers_free(&lowers);
    if (rc == 0) say(b, "Removing intermediate container %s\n", hostname);
    return rc;
}

static int do_run(builder *b, stage *st, const wb_df_instr *in) {
    char hos[32], harch[32], hvar[32];
    wb_platform_host(hos, harch, hvar);
    if (strcmp(st->os, "linux") != 0 || !arch_equal(st->arch, harch))
        return fail(b, in, ENOTSUP,
                    "RUN: this stage's platform is %s/%s, and its commands can only run on "
                    "%s/%s here (use FROM --platform=$BUILDPLATFORM for a build stage)",
                    st->os, st->arch, hos, harch);
    run_job rj = {.host_network = true};
    const char *net = "default";
    for (size_t i = 0; i < in->nflags; i++) {
        const wb_df_flag *f = &in->flags[i];
        if (!strcmp(f->name, "network")) {
            net = f->value ? f->value : "";
            if (strcmp(net, "default") != 0 && strcmp(net, "host") != 0 && strcmp(net, "none"))
                return fail(b, in, EINVAL,
                            "RUN --network=%s: unsupported network mode (want default, host or "
                            "none)",
                            net);
            rj.host_network = strcmp(net, "none") != 0;
        } else {
            return fail(b, in, ENOTSUP, "RUN --%s is not supported", f->name);
        }
    }
    json_t *shell = shell_of(st);
    strvec sh = {0};
    for (size_t i = 0; i < json_array_size(shell); i++)
        sv_push(&sh, wb_strdup(json_string_value(json_array_get(shell, i)) ?: ""));
    json_decref(shell);
    wb__run_command_make(in, sh.v, sh.n, &rj.cmd);
    sv_free(&sh);
    /* the environment: the config's Env (Docker's PATH when it has none), then the stage's ARGs
     * with a value (ENV wins), then proxy build args (not in the cache key, as in Docker) */
    json_t *env = json_object_get(cfg(st), "Env");
    bool have_path = false;
    for (size_t i = 0; i < json_array_size(env); i++) {
        const char *e = json_string_value(json_array_get(env, i));
        if (!e) continue;
        if (!strncmp(e, "PATH=", 5)) have_path = true;
        sv_push(&rj.env, wb_strdup(e));
    }
    if (!have_path) sv_push(&rj.env, wb_strdup("PATH=" WB_RUN_DEFAULT_PATH));
    strvec keyed = {0};
    sv_push(&keyed, wb_strdup(net));
    for (size_t i = 0; i < st->args.n; i++) {
        const kv *a = &st->args.v[i];
        if (!a->value || env_get(st, a->key)) continue;
        char *item = wb_malloc(strlen(a->key) + strlen(a->value) + 2);
        sprintf(item, "%s=%s", a->key, a->value);
        sv_push(&rj.env, wb_strdup(item));
        sv_push(&keyed, item);
    }
    for (size_t i = 0; i < b->bargs.n; i++) {
        kv *a = &b->bargs.v[i];
        bool proxy = false;
        for (size_t k = 0; k < sizeof predefined_proxy / sizeof predefined_proxy[0]; k++)
            if (!strcmp(a->key, predefined_proxy[k])) proxy = true;
        if (!proxy || !a->value || env_get(st, a->key) || kv_find(&st->args, a->key)) continue;
        a->used = true;
        char *item = wb_malloc(strlen(a->key) + strlen(a->value) + 2);
        sprintf(item, "%s=%s", a->key, a->value);
        sv_push(&rj.env, item);
    }
    strvec all = {0};
    for (size_t i = 0; i < rj.cmd.argc; i++) sv_push(&all, wb_strdup(rj.cmd.argv[i]));
    if (rj.cmd.script) sv_push(&all, wb_strdup(rj.cmd.script));
    char *desc = desc_of("RUN", all.v, all.n);
    char *extra = desc_of("RUN-ENV", keyed.v, keyed.n);
    sv_free(&all);
    sv_free(&keyed);
    int rc = run_step(b, st, in, desc, extra, apply_run, &rj);
    free(desc);
    free(extra);
    wb__run_command_release(&rj.cmd);
    sv_free(&rj.env);
    return rc;
}

/* ---- dispatch ---- */

static size_t current_stage(builder *b, const stage *st) {
    for (size_t i = 0; i < b->nstages; i++)
        if (&b->stages[i] == st) return i;
    return b->nstages;
}

static int dispatch(builder *b, stage *st, const wb_df_instr *in) {
    switch (in->cmd) {
    case WB_DF_FROM: return fail(b, in, EINVAL, "FROM inside a stage");
    case WB_DF_RUN: return do_run(b, st, in);
    case WB_DF_ARG: return do_arg(b, st, in);
    case WB_DF_ENV:
    case WB_DF_LABEL: return do_pairs(b, st, in);
    case WB_DF_COPY:
    case WB_DF_ADD: return do_copy(b, current_stage(b, st), st, in);
    case WB_DF_CMD:
    case WB_DF_ENTRYPOINT: return do_cmd_entrypoint(b, st, in);
    case WB_DF_WORKDIR: return do_workdir(b, st, in);
    case WB_DF_USER: return do_simple_string(b, st, in, "User", false, true);
    case WB_DF_STOPSIGNAL: return do_simple_string(b, st, in, "StopSignal", false, true);
    case WB_DF_MAINTAINER: return do_simple_string(b, st, in, "author", true, false);
    case WB_DF_EXPOSE: return do_expose(b, st, in);
    case WB_DF_VOLUME: return do_volume(b, st, in);
    case WB_DF_HEALTHCHECK: return do_healthcheck(b, st, in);
    case WB_DF_ONBUILD: return do_onbuild(b, st, in);
    case WB_DF_SHELL: return do_shell(b, st, in);
    }
    return fail(b, in, EINVAL, "unsupported instruction");
}

/* ---- the build ---- */

static int read_dockerfile(builder *b, char **text, size_t *len, char **name, char **path_out) {
    const wb_build_opts *o = b->o;
    *path_out = NULL;
    if (o->dockerfile_text) {
        *text = wb_strndup(o->dockerfile_text, o->dockerfile_len);
        *len = o->dockerfile_len;
        *name = wb_strdup(o->dockerfile_name ? o->dockerfile_name : "Dockerfile");
        return 0;
    }
    char path[4096];
    if (o->dockerfile) {
        if (wb_path_join(path, sizeof path, b->err, "%s", o->dockerfile) < 0) return -1;
        /* relative to the current directory, else to the context (as docker build does) */
        if (access(path, F_OK) != 0 && o->dockerfile[0] != '/' &&
            wb_path_join(path, sizeof path, b->err, "%s/%s", o->context, o->dockerfile) < 0)
            return -1;
    } else {
        if (wb_path_join(path, sizeof path, b->err, "%s/Dockerfile", o->context) < 0) return -1;
        if (access(path, F_OK) != 0) {
            char lower_path[4096];
            if (wb_path_join(lower_path, sizeof lower_path, b->err, "%s/dockerfile", o->context) <
                0)
                return -1;
            if (access(lower_path, F_OK) == 0) memcpy(path, lower_path, sizeof path);
        }
    }
    uint8_t *data;
    if (wb_read_file(path, WB_DF_MAX_BYTES, &data, len, b->err) < 0) {
        if (b->err->code == ENOENT)
            return wb_error_set(b->err, ENOENT, "Cannot locate specified Dockerfile: %s",
                                o->dockerfile ? o->dockerfile : "Dockerfile");
        return -1;
    }
    *text = (char *)data;
    const char *base = strrchr(path, '/');
    *name = wb_strdup(base ? base + 1 : path);
    *path_out = wb_strdup(path);
    return 0;
}

static int parse_build_args(builder *b) {
    for (size_t i = 0; i < b->o->nbuild_args; i++) {
        const char *a = b->o->build_args[i];
        const char *eq = strchr(a, '=');
        if (eq == a || !*a)
            return wb_error_set(b->err, EINVAL, "invalid --build-arg \"%s\" (want KEY=VALUE)", a);
        if (eq) {
            char *k = wb_strndup(a, (size_t)(eq - a));
            kv_set(&b->bargs, k, eq + 1);
            free(k);
        } else if (getenv(a)) {
            kv_set(&b->bargs, a, getenv(a));
        }
    }
    return 0;
}

static void set_predefined(builder *b) {
    char hos[32], harch[32], hvar[32], buf[128];
    wb_platform_host(hos, harch, hvar);
    snprintf(buf, sizeof buf, "%s/%s%s%s", hos, harch, hvar[0] ? "/" : "", hvar);
    kv_set(&b->predefined, "BUILDPLATFORM", buf);
    kv_set(&b->predefined, "BUILDOS", hos);
    kv_set(&b->predefined, "BUILDARCH", harch);
    kv_set(&b->predefined, "BUILDVARIANT", hvar);
    snprintf(buf, sizeof buf, "%s/%s%s%s", b->os, b->arch, b->variant[0] ? "/" : "", b->variant);
    kv_set(&b->predefined, "TARGETPLATFORM", buf);
    kv_set(&b->predefined, "TARGETOS", b->os);
    kv_set(&b->predefined, "TARGETARCH", b->arch);
    kv_set(&b->predefined, "TARGETVARIANT", b->variant);
}

static int commit_final(builder *b, stage *st, wb_build_result *res) {
    const wb_build_opts *o = b->o;
    if (st->pristine)
        return wb_error_set(b->err, EINVAL, "No image was generated. Is your Dockerfile empty?");
    if (st->unchanged_base) {
        if (wb_images_add(b->s, st->base_manifest, o->tags, o->ntags, NULL, b->err) < 0) return -1;
        snprintf(res->manifest, sizeof res->manifest, "%s", st->base_manifest);
        snprintf(res->image_id, sizeof res->image_id, "%s", st->id);
        return 0;
    }
    if (wb_image_commit(b->s, st->config, st->layers, st->nlayers, o->tags, o->ntags, res->manifest,
                        b->err) < 0)
        return -1;
    snprintf(res->image_id, sizeof res->image_id, "%s", st->id);
    return 0;
}

static int build(builder *b, wb_build_result *res) {
    const wb_build_opts *o = b->o;
    wb_dockerfile *df = b->df;
    size_t target = df->nstages - 1;
    if (o->target) {
        int k = -1;
        for (size_t i = 0; i < df->nstages; i++)
            if (df->stages[i].name && !strcasecmp(df->stages[i].name, o->target)) k = (int)i;
        if (k < 0)
            return wb_error_set(b->err, EINVAL, "failed to reach build target %s in Dockerfile",
                                o->target);
        target = (size_t)k;
    }
    size_t nstages = target + 1;
    b->nsteps = df->nmeta;
    for (size_t i = 0; i <= target; i++) b->nsteps += df->stages[i].count;
    b->stages = wb_calloc(nstages, sizeof *b->stages);
    b->nstages = nstages;
    for (size_t i = 0; i < df->nmeta; i++) {
        say(b, "Step %zu/%zu : %s\n", ++b->step, b->nsteps, df->instrs[i].text);
        if (do_arg(b, NULL, &df->instrs[i]) < 0) return -1;
    }
    for (size_t si = 0; si <= target; si++) {
        const wb_df_stage *ds = &df->stages[si];
        say(b, "Step %zu/%zu : %s\n", ++b->step, b->nsteps, df->instrs[ds->first].text);
        if (do_from(b, si) < 0) return -1;
        for (size_t k = 1; k < ds->count; k++) {
            const wb_df_instr *in = &df->instrs[ds->first + k];
            say(b, "Step %zu/%zu : %s\n", ++b->step, b->nsteps, in->text);
            if (dispatch(b, &b->stages[si], in) < 0) return -1;
        }
        b->stages[si].done = true;
        /* trees of stages nothing later refers to are not needed any more */
    }
    if (commit_final(b, &b->stages[target], res) < 0) return -1;
    /* build args that no ARG declared */
    char unused[1024] = "";
    size_t ul = 0;
    for (size_t i = 0; i < b->bargs.n; i++) {
        if (b->bargs.v[i].used) continue;
        bool proxy = false;
        for (size_t k = 0; k < sizeof predefined_proxy / sizeof predefined_proxy[0]; k++)
            if (!strcmp(b->bargs.v[i].key, predefined_proxy[k])) proxy = true;
        if (!proxy && ul < sizeof unused - 64)
            ul += (size_t)snprintf(unused + ul, sizeof unused - ul, "%s%s", ul ? " " : "",
                                   b->bargs.v[i].key);
    }
    if (ul) warnf(b, "[Warning] One or more build-args [%s] were not consumed", unused);
    return 0;
}

int wb_build(wb_images *s, const wb_build_opts *o, wb_build_result *res, wb_error *err) {
    builder b = {.s = s, .o = o, .err = err};
    memset(res, 0, sizeof *res);
    char *text = NULL, *name = NULL, *df_path = NULL;
    size_t len = 0;
    int rc = -1;
    if (o->platform) {
        if (wb_platform_parse(o->platform, b.os, b.arch, b.variant, err) < 0) return -1;
        b.platform_given = true;
    } else {
        wb_platform_host(b.os, b.arch, b.variant);
    }
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (sde && *sde) {
        char *end;
        long long v = strtoll(sde, &end, 10);
        if (*end || v < 0)
            return wb_error_set(err, EINVAL, "invalid SOURCE_DATE_EPOCH \"%s\"", sde);
        b.have_epoch = true;
        b.epoch = v;
    }
    set_predefined(&b);
    if (parse_build_args(&b) < 0) goto out;
    if (read_dockerfile(&b, &text, &len, &name, &df_path) < 0) goto out;
    if (wb_dockerfile_parse(name, text, len, &b.df, err) < 0) goto out;
    for (size_t i = 0; i < b.df->nnotes; i++) warnf(&b, "%s", b.df->notes[i]);
    /* a Dockerfile-specific ignore file (NAME.dockerignore beside it) wins over the context's */
    char ignore[4200];
    const char *ignore_file = NULL;
    if (df_path && o->dockerfile) {
        if (wb_path_join(ignore, sizeof ignore, err, "%s.dockerignore", df_path) < 0) goto out;
        if (access(ignore, F_OK) == 0) ignore_file = ignore;
    }
    if (wb_context_open(o->context, ignore_file, &b.ctx, err) < 0) goto out;
    if (wb_path_join(b.cache_dir, sizeof b.cache_dir, err, "%s/buildcache", wb_images_dir(s)) < 0 ||
        wb_path_join(b.tmp_root, sizeof b.tmp_root, err, "%s/tmp", b.cache_dir) < 0 ||
        wb_mkdir_p(b.tmp_root, 0700, err) < 0)
        goto out;
    sweep_tmp(&b);
    rc = build(&b, res);
out:
    for (size_t i = 0; i < b.nstages; i++) stage_release(&b.stages[i]);
    free(b.stages);
    for (size_t i = 0; i < b.nimages; i++) stage_release(&b.images[i]);
    free(b.images);
    kv_free(&b.meta);
    kv_free(&b.bargs);
    kv_free(&b.predefined);
    wb_context_free(b.ctx);
    wb_dockerfile_free(b.df);
    free(text);
    free(name);
    free(df_path);
    return rc;
}
