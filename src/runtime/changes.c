/* What a container changed: its overlay's upper directory against the image's rootfs. */
#include "runtime/changes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fsutil.h"
#include "base/timeutil.h"
#include "oci/build_root.h"
#include "oci/image.h"
#include "oci/layers.h"
#include "oci/store.h"
#include "runtime/launch.h"

/* ---- diff ---- */

typedef struct change {
    char kind; /* A, C, D */
    char *path;
} change;

typedef struct changes {
    change *v;
    size_t n, cap;
} changes;

static void add_change(changes *cs, char kind, const char *path) {
    WB_VEC_RESERVE(cs->v, cs->cap, cs->n + 1);
    cs->v[cs->n++] = (change){kind, wb_strdup(path)};
}

static int by_path(const void *a, const void *b) {
    return strcmp(((const change *)a)->path, ((const change *)b)->path);
}

/* A mount point the runtime made where the image had none (an empty file or directory): not a
 * change of the container's, as Docker does not list it. */
static bool runtime_mount_point(const char *path, const struct stat *st, bool in_lower) {
    static const char *const points[] = {"/etc/hostname", "/etc/hosts", "/etc/resolv.conf",
                                         "/proc",         "/sys",       "/dev"};
    if (in_lower) return false;
    bool empty = S_ISREG(st->st_mode) ? st->st_size == 0 : S_ISDIR(st->st_mode);
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++)
        if (!strcmp(path, points[i])) return empty;
    return false;
}

/* Walk upper/rel (a directory) against lower/rel. */
static int walk(const char *upper, const wb_lowers *lower, const char *rel, changes *cs, int depth,
                wb_error *err) {
    if (depth > 256) return wb_error_set(err, ELOOP, "diff: directories nested too deep");
    char dir[8192];
    if (wb_path_join(dir, sizeof dir, err, "%s%s", upper, rel) < 0) return -1;
    DIR *d = opendir(dir);
    if (!d) return wb_error_sys(err, "read `%s`", dir);
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char path[8192], up[8192];
        if (wb_path_join(path, sizeof path, err, "%s/%s", rel, e->d_name) < 0 ||
            wb_path_join(up, sizeof up, err, "%s%s", upper, path) < 0) {
            rc = -1;
            break;
        }
        struct stat st, lst;
        if (lstat(up, &st) != 0) continue;
        bool in_lower = wb_lowers_lstat(lower, path, &lst) == 0;
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) { /* an overlayfs whiteout */
            add_change(cs, 'D', path);
            continue;
        }
        if (runtime_mount_point(path, &st, in_lower)) continue;
        add_change(cs, in_lower ? 'C' : 'A', path);
        if (S_ISDIR(st.st_mode)) rc = walk(upper, lower, path, cs, depth + 1, err);
    }
    closedir(d);
    return rc;
}

int wb_container_diff(wb_container *c, FILE *out, wb_error *err) {
    char upper[4200];
    wb_lowers lower;
    if (wb_path_join(upper, sizeof upper, err, "%s/upper", c->dir) < 0 ||
        wb_container_lowers(c, &lower, err) < 0)
        return -1;
    changes cs = {0};
    struct stat st;
    int rc = stat(upper, &st) == 0 ? walk(upper, &lower, "", &cs, 0, err) : 0;
    if (rc == 0) {
        qsort(cs.v, cs.n, sizeof *cs.v, by_path);
        for (size_t i = 0; i < cs.n; i++) fprintf(out, "%c %s\n", cs.v[i].kind, cs.v[i].path);
    }
    for (size_t i = 0; i < cs.n; i++) free(cs.v[i].path);
    free(cs.v);
    wb_lowers_free(&lower);
    return rc;
}

/* ---- commit ---- */

/* The new image's config: the image's, with the container's Config over it. */
static json_t *commit_config(wb_container *c, const wb_image *img, const wb_layer_desc *layer,
                             const wb_commit_opts *o) {
    json_t *cfg = json_deep_copy(img->config);
    if (!json_is_object(cfg)) cfg = json_object();
    char now[64];
    wb_time_now(now, sizeof now);
    json_object_set_new(cfg, "created", json_string(now));
    if (o->author) json_object_set_new(cfg, "author", json_string(o->author));
    json_t *inner = json_object_get(cfg, "config");
    if (!json_is_object(inner)) {
        inner = json_object();
        json_object_set_new(cfg, "config", inner);
    }
    const json_t *cc = json_object_get(c->doc, "Config");
    static const char *const keys[] = {"Cmd",  "Entrypoint",   "Env",   "WorkingDir",
                                       "User", "ExposedPorts", "Labels"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *v = json_object_get(cc, keys[i]);
        if (v) json_object_set_new(inner, keys[i], json_deep_copy(v));
    }
    json_t *rootfs = json_object_get(cfg, "rootfs");
    if (!json_is_object(rootfs)) {
        rootfs = json_pack("{s:s, s:[]}", "type", "layers", "diff_ids");
        json_object_set_new(cfg, "rootfs", rootfs);
    }
    json_t *ids = json_object_get(rootfs, "diff_ids");
    if (!json_is_array(ids)) {
        ids = json_array();
        json_object_set_new(rootfs, "diff_ids", ids);
    }
    if (layer) json_array_append_new(ids, json_string(layer->diff_id));
    json_t *h = json_object_get(cfg, "history");
    if (!json_is_array(h)) {
        h = json_array();
        json_object_set_new(cfg, "history", h);
    }
    json_t *entry = json_pack("{s:s, s:s}", "created", now, "created_by", "wasmbox commit");
    if (o->message) json_object_set_new(entry, "comment", json_string(o->message));
    if (o->author) json_object_set_new(entry, "author", json_string(o->author));
    if (!layer) json_object_set_new(entry, "empty_layer", json_true());
    json_array_append_new(h, entry);
    return cfg;
}

int wb_container_commit(wb_container *c, const wb_commit_opts *o, char id[WB_DIGEST_MAX],
                        wb_error *err) {
    const char *manifest = json_string_value(json_object_get(c->doc, "ImageManifest"));
    if (!manifest) return wb_error_set(err, ENOENT, "the container's image is unknown");
    wb_images *s;
    wb_image *img = NULL;
    if (wb_images_open(c->root, &s, err) < 0) return -1;
    int rc = -1;
    bool paused = false;
    wb_lowers lower = {0};
    wb_layer_desc *layers = NULL;
    json_t *cfg = NULL;
    if (wb_image_load(s, manifest, &img, err) < 0) goto out;
    if (wb_image_lowers(s, img, &lower, err) < 0) goto out;
    /* a running container is frozen while its upper directory is read (Docker's --pause) */
    wb_container_reload(c, NULL);
    if (o->pause && wb_container_refresh(c) &&
        !json_is_true(json_object_get(json_object_get(c->doc, "State"), "Paused")))
        paused = wb_container_pause(c, true, NULL) == 0;
    char upper[4200];
    if (wb_path_join(upper, sizeof upper, err, "%s/upper", c->dir) < 0) goto out;
    wb_layer_desc layer;
    wb_upper_stats stats = {0};
    struct stat st;
    if (stat(upper, &st) == 0 && wb__upper_write_layer(s, upper, &lower, &layer, &stats, err) < 0)
        goto out;
    layers = wb_calloc(img->nlayers + 1, sizeof *layers);
    memcpy(layers, img->layers, img->nlayers * sizeof *layers);
    size_t n = img->nlayers;
    if (stats.entries) layers[n++] = layer;
    cfg = commit_config(c, img, stats.entries ? &layer : NULL, o);
    const char *tags[1] = {o->tag};
    char digest[WB_DIGEST_MAX];
    if (wb_image_commit(s, cfg, layers, n, tags, o->tag ? 1 : 0, digest, err) < 0) goto out;
    wb_image *made;
    if (wb_image_load(s, digest, &made, err) < 0) goto out;
    snprintf(id, WB_DIGEST_MAX, "%s", made->config_digest);
    wb_image_free(made);
    rc = 0;
out:
    if (paused) wb_container_pause(c, false, NULL);
    json_decref(cfg);
    free(layers);
    wb_lowers_free(&lower);
    wb_image_free(img);
    wb_images_close(s);
    return rc;
}
