/* `load`: a docker-archive or an OCI layout archive into the store. The archive is unpacked by the
 * safe extractor into a private directory of the store (ROOT/tmp), then each blob is copied into
 * the store through a blob writer that checks its digest and size; documents are size-capped and
 * parsed before use; images are registered last, so a load killed at any moment leaves no image
 * half-registered (only verified blobs, which a retry reuses, and the scratch directory, which the
 * next load or import removes). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fsutil.h"
#include "oci/archive_internal.h"
#include "oci/image.h"
#include "oci/reference.h"
#include "oci/unpack.h"

#define ANN_IMAGE_NAME     "io.containerd.image.name"
#define ANN_REF_NAME       "org.opencontainers.image.ref.name"
#define MAX_LAYOUT_FILE    4096
#define MAX_ARCHIVE_IMAGES 10000
#define DEFAULT_MAX_BYTES  ((uint64_t)16 << 30)

typedef struct loader {
    wb_images *s;
    int root; /* the unpacked archive */
    uint64_t max_bytes;
    const wb_archive_progress *progress;
    json_t *docker_manifest; /* manifest.json when present (names for OCI entries without) */
    wb_loaded_image *images;
    size_t n;
} loader;

void wb_loaded_images_free(wb_loaded_image *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < v[i].ntags; k++) free(v[i].tags[k]);
        free(v[i].tags);
    }
    free(v);
}

/* Read a file of the archive of at most max bytes. */
static int read_doc(loader *l, const char *rel, size_t max, uint8_t **data, size_t *len,
                    wb_error *err) {
    uint64_t size;
    int fd = wb__open_beneath(l->root, rel, &size, err);
    if (fd < 0) return -1;
    if (size > max) {
        close(fd);
        return wb_error_set(err, EFBIG, "`%.200s` is %llu bytes (limit %zu)", rel,
                            (unsigned long long)size, max);
    }
    uint8_t *buf = wb_malloc((size_t)size + 1);
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, (size_t)size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            free(buf);
            close(fd);
            return wb_error_set(err, EIO, "read `%.200s`", rel);
        }
        got += (size_t)n;
    }
    close(fd);
    buf[size] = '\0';
    *data = buf;
    *len = (size_t)size;
    return 0;
}

static void add_tag(wb_loaded_image *img, const char *full) {
    for (size_t i = 0; i < img->ntags; i++)
        if (!strcmp(img->tags[i], full)) return;
    img->tags = wb_reallocarray(img->tags, img->ntags + 1, sizeof *img->tags);
    img->tags[img->ntags++] = wb_strdup(full);
}

/* Record an image to register (merging the tags of one manifest named several times). */
static wb_loaded_image *add_image(loader *l, const char *manifest, const char *config) {
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->images[i].manifest, manifest)) return &l->images[i];
    l->images = wb_reallocarray(l->images, l->n + 1, sizeof *l->images);
    wb_loaded_image *img = &l->images[l->n++];
    memset(img, 0, sizeof *img);
    snprintf(img->manifest, sizeof img->manifest, "%s", manifest);
    snprintf(img->config, sizeof img->config, "%s", config);
    return img;
}

/* A name from the archive, normalised ("hello" → docker.io/library/hello:latest). */
static int parse_name(const char *name, char *full, size_t size, wb_error *err) {
    wb_ref r;
    if (wb_ref_parse(name, &r, err) < 0) return wb_error_wrap(err, "image name \"%.200s\"", name);
    if (!r.tag[0])
        return wb_error_set(err, EINVAL, "image name \"%.200s\" has a digest but no tag", name);
    r.digest[0] = '\0';
    wb_ref_full(&r, full, size);
    return 0;
}

/* ---- OCI image layout ---- */

/* Copy blobs/sha256/<hex> into the store, checked against the descriptor's digest and size. */
static int load_blob(loader *l, const char *digest, int64_t size, wb_error *err) {
    if (!wb_digest_valid(digest))
        return wb_error_set(err, EINVAL, "invalid digest \"%.80s\"", digest ? digest : "");
    if (size < 0) return wb_error_set(err, EINVAL, "blob %s: negative size", digest);
    char rel[128];
    if (wb_path_join(rel, sizeof rel, err, "blobs/sha256/%s", wb_digest_hex(digest)) < 0) return -1;
    uint64_t have;
    int fd = wb__open_beneath(l->root, rel, &have, err);
    if (fd < 0) return -1;
    int rc;
    if (have != (uint64_t)size)
        rc = wb_error_set(err, EIO, "blob %s is %llu bytes, but its descriptor says %lld", digest,
                          (unsigned long long)have, (long long)size);
    else
        rc = wb__copy_to_blob(l->s, fd, digest, have, l->progress, "Loading", err);
    close(fd);
    return rc;
}

static const char *ann(const json_t *desc, const char *key) {
    return json_string_value(json_object_get(json_object_get(desc, "annotations"), key));
}

static int64_t desc_size(const json_t *desc) {
    return (int64_t)json_integer_value(json_object_get(desc, "size"));
}

static const char *desc_digest(const json_t *desc) {
    return json_string_value(json_object_get(desc, "digest"));
}

/* Load and parse a manifest or index blob named by desc. */
static int load_document(loader *l, const json_t *desc, json_t **doc, wb_error *err) {
    const char *digest = desc_digest(desc);
    if (desc_size(desc) > (int64_t)WB_MAX_MANIFEST_BYTES)
        return wb_error_set(err, EFBIG, "manifest %s is over the %zu-byte limit", digest,
                            WB_MAX_MANIFEST_BYTES);
    if (load_blob(l, digest, desc_size(desc), err) < 0) return -1;
    uint8_t *data;
    size_t len;
    if (wb_blob_read(l->s, digest, WB_MAX_MANIFEST_BYTES, &data, &len, err) < 0) return -1;
    int rc = wb_manifest_parse(data, len, json_string_value(json_object_get(desc, "mediaType")),
                               doc, err);
    free(data);
    if (rc < 0) return wb_error_wrap(err, "manifest %s", digest);
    return 0;
}

/* An index inside the layout (a multi-platform image): the wasi/wasm manifest, else the only
 * one (attestations aside). */
static const json_t *pick_from_index(const json_t *index, wb_error *err) {
    char want[WB_DIGEST_MAX];
    json_t *ms = json_object_get(index, "manifests");
    if (wb_index_select(index, "wasi", "wasm", want, NULL) == 0) {
        for (size_t i = 0; i < json_array_size(ms); i++)
            if (!strcmp(desc_digest(json_array_get(ms, i)), want)) return json_array_get(ms, i);
    }
    const json_t *only = NULL;
    size_t count = 0;
    for (size_t i = 0; i < json_array_size(ms); i++) {
        json_t *p = json_object_get(json_array_get(ms, i), "platform");
        const char *os = json_string_value(json_object_get(p, "os"));
        if (os && !strcmp(os, "unknown")) continue;
        only = json_array_get(ms, i);
        count++;
    }
    if (count == 1) return only;
    wb_index_select(index, "wasi", "wasm", want, err);
    return NULL;
}

static int load_image_manifest(loader *l, const json_t *desc, const json_t *m,
                               wb_loaded_image **out, wb_error *err) {
    const json_t *config = json_object_get(m, "config");
    const char *config_digest = desc_digest(config);
    if (desc_size(config) > (int64_t)WB_MAX_CONFIG_BYTES)
        return wb_error_set(err, EFBIG, "config %s is over the %zu-byte limit", config_digest,
                            WB_MAX_CONFIG_BYTES);
    if (load_blob(l, config_digest, desc_size(config), err) < 0) return -1;
    uint8_t *data;
    size_t len;
    if (wb_blob_read(l->s, config_digest, WB_MAX_CONFIG_BYTES, &data, &len, err) < 0) return -1;
    json_t *c = json_loadb((const char *)data, len, 0, NULL);
    free(data);
    bool ok = json_is_object(c);
    json_decref(c);
    if (!ok) return wb_error_set(err, EINVAL, "config %s is not a JSON object", config_digest);
    json_t *layers = json_object_get(m, "layers");
    for (size_t i = 0; i < json_array_size(layers); i++) {
        const json_t *ld = json_array_get(layers, i);
        if (load_blob(l, desc_digest(ld), desc_size(ld), err) < 0) return -1;
    }
    *out = add_image(l, desc_digest(desc), config_digest);
    return 0;
}

/* Names for an index.json entry: io.containerd.image.name; else ref.name when it is a full
 * reference (with a repository: it contains ':' or '/'), not a bare tag; else the RepoTags of a
 * manifest.json entry with the same config. */
static int name_entry(loader *l, const json_t *desc, wb_loaded_image *img, wb_error *err) {
    char full[WB_REF_MAX + 80];
    const char *name = ann(desc, ANN_IMAGE_NAME);
    const char *ref = ann(desc, ANN_REF_NAME);
    if (!name && ref && (strchr(ref, ':') || strchr(ref, '/'))) name = ref;
    if (name) {
        if (parse_name(name, full, sizeof full, err) < 0) return -1;
        add_tag(img, full);
        return 0;
    }
    char config_path[128];
    snprintf(config_path, sizeof config_path, "blobs/sha256/%s", wb_digest_hex(img->config));
    for (size_t i = 0; i < json_array_size(l->docker_manifest); i++) {
        json_t *e = json_array_get(l->docker_manifest, i);
        const char *c = json_string_value(json_object_get(e, "Config"));
        if (!c || strcmp(c, config_path) != 0) continue;
        json_t *tags = json_object_get(e, "RepoTags");
        for (size_t k = 0; k < json_array_size(tags); k++) {
            const char *t = json_string_value(json_array_get(tags, k));
            if (!t) continue;
            if (parse_name(t, full, sizeof full, err) < 0) return -1;
            add_tag(img, full);
        }
    }
    return 0;
}

static int load_oci(loader *l, wb_error *err) {
    uint8_t *data;
    size_t len;
    if (read_doc(l, "oci-layout", MAX_LAYOUT_FILE, &data, &len, NULL) == 0) {
        json_t *layout = json_loadb((const char *)data, len, 0, NULL);
        free(data);
        const char *v = json_string_value(json_object_get(layout, "imageLayoutVersion"));
        bool ok = v != NULL;
        json_decref(layout);
        if (!ok) return wb_error_set(err, EINVAL, "invalid oci-layout file");
    }
    if (read_doc(l, "index.json", WB_MAX_MANIFEST_BYTES, &data, &len, err) < 0) return -1;
    json_t *index = NULL;
    int rc = wb_manifest_parse(data, len, NULL, &index, err);
    free(data);
    if (rc < 0) return wb_error_wrap(err, "index.json");
    if (!wb_manifest_is_index(index)) {
        json_decref(index);
        return wb_error_set(err, EINVAL, "index.json is not an image index");
    }
    json_t *ms = json_object_get(index, "manifests");
    rc = -1;
    if (json_array_size(ms) == 0) {
        wb_error_set(err, EINVAL, "index.json lists no image");
        goto out;
    }
    if (json_array_size(ms) > MAX_ARCHIVE_IMAGES) {
        wb_error_set(err, EFBIG, "index.json lists over %d images", MAX_ARCHIVE_IMAGES);
        goto out;
    }
    for (size_t i = 0; i < json_array_size(ms); i++) {
        const json_t *desc = json_array_get(ms, i);
        json_t *doc = NULL, *child = NULL;
        if (load_document(l, desc, &doc, err) < 0) goto out;
        const json_t *mdesc = desc, *m = doc;
        if (wb_manifest_is_index(doc)) {
            mdesc = pick_from_index(doc, err);
            if (!mdesc || load_document(l, mdesc, &child, err) < 0 || wb_manifest_is_index(child)) {
                if (child) wb_error_set(err, EINVAL, "nested image indexes are not supported");
                json_decref(doc);
                json_decref(child);
                goto out;
            }
            m = child;
        }
        wb_loaded_image *img = NULL;
        int r = load_image_manifest(l, mdesc, m, &img, err);
        if (r == 0) r = name_entry(l, desc, img, err);
        json_decref(doc);
        json_decref(child);
        if (r < 0) goto out;
    }
    rc = 0;
out:
    json_decref(index);
    return rc;
}

/* ---- docker-archive (manifest.json) ---- */

typedef struct layer_sink {
    wb_blob_writer *w; /* a new blob, or */
    wb_hasher *h;      /* only checked: the store has it already */
    uint64_t size;
} layer_sink;

static int to_blob(void *ctx, const void *data, size_t len, wb_error *err) {
    layer_sink *ls = ctx;
    ls->size += len;
    if (ls->h) {
        wb_hasher_update(ls->h, data, len);
        return 0;
    }
    return wb_blob_writer_write(ls->w, data, len, err);
}

/* A layer file (plain or compressed) stored uncompressed: its digest must be the diff_id (checked
 * even when the store has that blob already). */
static int load_docker_layer(loader *l, const char *rel, const char *diff_id, uint64_t *size,
                             wb_error *err) {
    if (!wb_digest_valid(diff_id))
        return wb_error_set(err, EINVAL, "invalid diff_id \"%.80s\" in the image config",
                            diff_id ? diff_id : "");
    uint64_t file_size;
    int fd = wb__open_beneath(l->root, rel, &file_size, err);
    if (fd < 0) return -1;
    if (l->progress && l->progress->fn)
        l->progress->fn(l->progress->ctx, "Loading", diff_id, file_size);
    layer_sink ls = {0};
    int rc = wb_blob_exists(l->s, diff_id, NULL)
                 ? ((ls.h = wb_hasher_new(err)) ? 0 : -1)
                 : wb_blob_writer_open(l->s, diff_id, -1, &ls.w, err);
    if (rc == 0) rc = wb__decompress(fd, rel, l->max_bytes, to_blob, &ls, err);
    close(fd);
    *size = ls.size;
    if (rc < 0) {
        if (ls.w) wb_blob_writer_abort(ls.w);
        if (ls.h) wb_hasher_free(ls.h);
        return wb_error_wrap(err, "layer `%.200s`", rel);
    }
    if (ls.w) {
        if (wb_blob_writer_commit(ls.w, NULL, err) < 0)
            return wb_error_wrap(err, "layer `%.200s` does not match the config's diff_id", rel);
        return 0;
    }
    char got[WB_DIGEST_MAX];
    wb_hasher_final(ls.h, got);
    if (strcmp(got, diff_id) != 0)
        return wb_error_set(err, EIO,
                            "layer `%.200s` does not match the config's diff_id: digest mismatch: "
                            "expected %s, got %s",
                            rel, diff_id, got);
    return 0;
}

/* A file named after a digest ("<hex>.json", "blobs/sha256/<hex>") must hold that digest. */
static int check_named_digest(const char *rel, const char *digest, wb_error *err) {
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    size_t n = strlen(base);
    if (n == 69 && !strcmp(base + 64, ".json")) n = 64;
    if (n != 64) return 0;
    char named[WB_DIGEST_MAX];
    snprintf(named, sizeof named, "sha256:%.64s", base);
    if (wb_digest_valid(named) && strcmp(named, digest) != 0)
        return wb_error_set(err, EIO, "`%.200s` does not match its digest (it is %s)", rel, digest);
    return 0;
}

static int load_docker_entry(loader *l, const json_t *e, wb_error *err) {
    const char *config_rel = json_string_value(json_object_get(e, "Config"));
    json_t *layers = json_object_get(e, "Layers");
    json_t *tags = json_object_get(e, "RepoTags");
    if (!config_rel || !json_is_array(layers) ||
        (tags && !json_is_null(tags) && !json_is_array(tags)))
        return wb_error_set(err, EINVAL, "invalid manifest.json entry (Config, Layers required)");
    if (json_array_size(layers) > WB_MAX_LAYERS)
        return wb_error_set(err, EFBIG, "an image with %zu layers (limit %d)",
                            json_array_size(layers), WB_MAX_LAYERS);
    uint8_t *data;
    size_t len;
    if (read_doc(l, config_rel, WB_MAX_CONFIG_BYTES, &data, &len, err) < 0) return -1;
    char config_digest[WB_DIGEST_MAX];
    json_t *config = json_loadb((const char *)data, len, 0, NULL);
    int rc = -1;
    json_t *ls = json_array();
    char *text = NULL;
    if (!json_is_object(config)) {
        wb_error_set(err, EINVAL, "config `%.200s` is not a JSON object", config_rel);
        goto out;
    }
    if (wb_digest_of(data, len, config_digest, err) < 0 ||
        check_named_digest(config_rel, config_digest, err) < 0)
        goto out;
    json_t *diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
    if (json_array_size(diff_ids) != json_array_size(layers)) {
        wb_error_set(err, EINVAL, "config `%.200s` lists %zu diff_ids for %zu layers", config_rel,
                     json_array_size(diff_ids), json_array_size(layers));
        goto out;
    }
    if (l->progress && l->progress->fn)
        l->progress->fn(l->progress->ctx, "Loading", config_digest, len);
    if (wb_blob_put(l->s, data, len, config_digest, err) < 0) goto out;
    for (size_t i = 0; i < json_array_size(layers); i++) {
        const char *rel = json_string_value(json_array_get(layers, i));
        const char *diff_id = json_string_value(json_array_get(diff_ids, i));
        uint64_t size = 0;
        if (!rel) {
            wb_error_set(err, EINVAL, "manifest.json: a layer path is not a string");
            goto out;
        }
        if (load_docker_layer(l, rel, diff_id, &size, err) < 0) goto out;
        json_array_append_new(ls, json_pack("{s:s, s:s, s:I}", "mediaType", WB_MT_OCI_LAYER,
                                            "digest", diff_id, "size", (json_int_t)size));
    }
    /* the image's manifest, made deterministically: the same archive loads as the same image */
    json_t *m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:O}", "schemaVersion", 2, "mediaType",
                          WB_MT_OCI_MANIFEST, "config", "mediaType", WB_MT_OCI_CONFIG, "digest",
                          config_digest, "size", (json_int_t)len, "layers", ls);
    text = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(m);
    char manifest_digest[WB_DIGEST_MAX];
    if (!text || wb_blob_put(l->s, text, strlen(text), manifest_digest, err) < 0) goto out;
    wb_loaded_image *img = add_image(l, manifest_digest, config_digest);
    for (size_t i = 0; i < json_array_size(tags); i++) {
        char full[WB_REF_MAX + 80];
        const char *t = json_string_value(json_array_get(tags, i));
        if (!t) continue;
        if (parse_name(t, full, sizeof full, err) < 0) goto out;
        add_tag(img, full);
    }
    rc = 0;
out:
    free(data);
    free(text);
    json_decref(config);
    json_decref(ls);
    return rc;
}

static int load_docker(loader *l, wb_error *err) {
    json_t *entries = l->docker_manifest;
    if (!json_is_array(entries) || json_array_size(entries) == 0)
        return wb_error_set(err, EINVAL, "manifest.json lists no image");
    if (json_array_size(entries) > MAX_ARCHIVE_IMAGES)
        return wb_error_set(err, EFBIG, "manifest.json lists over %d images", MAX_ARCHIVE_IMAGES);
    for (size_t i = 0; i < json_array_size(entries); i++)
        if (load_docker_entry(l, json_array_get(entries, i), err) < 0) return -1;
    return 0;
}

/* ---- entry point ---- */

int wb_archive_load(wb_images *s, const char *path, int fd, const char *name,
                    const wb_tar_limits *lim, const wb_archive_progress *progress,
                    wb_loaded_image **out, size_t *n, wb_error *err) {
    *out = NULL;
    *n = 0;
    if (!name) name = path ? path : "-";
    char dir[4096];
    if (wb__scratch_dir(s, "load", dir, sizeof dir, err) < 0) return -1;
    loader l = {.s = s, .root = -1, .progress = progress};
    l.max_bytes = lim && lim->max_bytes ? lim->max_bytes : DEFAULT_MAX_BYTES;
    int rc = -1;
    unsigned flags = WB_TAR_REFUSE_WHITEOUTS | WB_TAR_REFUSE_DUPLICATES;
    if ((path ? wb_tar_extract(path, dir, lim, flags, NULL, err)
              : wb_tar_extract_fd(fd, name, dir, lim, flags, NULL, err)) < 0) {
        wb_error_wrap(err, "invalid archive `%s`", name);
        goto out;
    }
    l.root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (l.root < 0) {
        wb_error_sys(err, "open `%s`", dir);
        goto out;
    }
    uint8_t *data;
    size_t len;
    wb_error probe;
    if (read_doc(&l, "manifest.json", WB_MAX_MANIFEST_BYTES, &data, &len, &probe) == 0) {
        l.docker_manifest = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, NULL);
        free(data);
        if (!json_is_array(l.docker_manifest)) {
            wb_error_set(err, EINVAL, "`%s`: manifest.json is not a JSON array", name);
            goto out;
        }
    } else if (probe.code != ENOENT) {
        *err = probe;
        wb_error_wrap(err, "`%s`", name);
        goto out;
    }
    struct stat st;
    bool has_index = fstatat(l.root, "index.json", &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (has_index)
        rc = load_oci(&l, err);
    else if (l.docker_manifest)
        rc = load_docker(&l, err);
    else
        rc = wb_error_set(err, EINVAL,
                          "`%s` is neither a docker-archive (no manifest.json) nor an OCI image "
                          "layout (no index.json)",
                          name);
    if (rc < 0) {
        if (has_index || l.docker_manifest) wb_error_wrap(err, "`%s`", name);
        goto out;
    }
    /* every blob is in: each tar layer must unpack to its diff_id within the caps, or no image is
     * registered (unpack.h) */
    for (size_t i = 0; i < l.n && rc == 0; i++) {
        wb_image *img;
        rc = wb_image_load(s, l.images[i].manifest, &img, err);
        if (rc == 0) {
            rc = wb_image_check_layers(s, img, err);
            wb_image_free(img);
        }
        if (rc < 0) wb_error_wrap(err, "`%s`", name);
    }
    /* now the images and their names */
    for (size_t i = 0; i < l.n && rc == 0; i++)
        rc = wb_images_add(s, l.images[i].manifest, (const char *const *)l.images[i].tags,
                           l.images[i].ntags, NULL, err);
out:
    if (l.root >= 0) close(l.root);
    json_decref(l.docker_manifest);
    wb_remove_tree(dir, NULL);
    if (rc == 0) {
        *out = l.images;
        *n = l.n;
    } else {
        wb_loaded_images_free(l.images, l.n);
    }
    return rc;
}
