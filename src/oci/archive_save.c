/* `save`: images out of the store as an OCI image layout (a tar of it, or a directory) or as a
 * docker-archive. The docker-archive is what `docker save` (25 and later) writes: manifest.json
 * and repositories for docker's loader, with the same files forming an OCI layout (oci-layout,
 * index.json, blobs/sha256/...), layers uncompressed. Also `image export-wasm`. */
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

#define ANN_IMAGE_NAME  "io.containerd.image.name"
#define ANN_REF_NAME    "org.opencontainers.image.ref.name"
#define OCI_LAYOUT      "{\"imageLayoutVersion\":\"1.0.0\"}"
#define MAX_LAYER_BYTES ((uint64_t)64 << 30)

int wb_archive_format_parse(const char *name, wb_archive_format *out, wb_error *err) {
    if (!strcmp(name, "docker-archive") || !strcmp(name, "docker"))
        *out = WB_ARCHIVE_DOCKER;
    else if (!strcmp(name, "oci-archive") || !strcmp(name, "oci"))
        *out = WB_ARCHIVE_OCI;
    else if (!strcmp(name, "oci-dir"))
        *out = WB_ARCHIVE_OCI_DIR;
    else
        return wb_error_set(err, EINVAL,
                            "unknown format \"%s\" (docker-archive, oci-archive or oci-dir)", name);
    return 0;
}

/* ---- where the files go: a tar stream or a directory ---- */

typedef struct layout_out {
    bool is_dir;
    wb__tar_out tar;
    int dir_fd;
    char **written; /* blob digests already written */
    size_t nwritten, written_cap;
    const wb_archive_progress *progress;
} layout_out;

static int out_mkdir(layout_out *o, const char *path, wb_error *err) {
    if (!o->is_dir) return wb__tar_out_dir(&o->tar, path, err);
    if (mkdirat(o->dir_fd, path, 0755) != 0 && errno != EEXIST)
        return wb_error_sys(err, "create `%s`", path);
    return 0;
}

static int dir_file(layout_out *o, const char *path, int src, const void *data, uint64_t len,
                    wb_error *err) {
    int fd = openat(o->dir_fd, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return wb_error_sys(err, "create `%s`", path);
    int rc = 0;
    if (src < 0) {
        rc = wb__write_all(fd, data, (size_t)len, err);
    } else {
        uint8_t buf[64 * 1024];
        uint64_t left = len;
        while (left && rc == 0) {
            ssize_t n = read(src, buf, left < sizeof buf ? (size_t)left : sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                rc = wb_error_set(err, EIO, "read the source of `%s`", path);
                break;
            }
            rc = wb__write_all(fd, buf, (size_t)n, err);
            left -= (uint64_t)n;
        }
    }
    if (rc == 0 && fsync(fd) != 0) rc = wb_error_sys(err, "write `%s`", path);
    close(fd);
    return rc;
}

static int out_bytes(layout_out *o, const char *path, const void *data, size_t len, wb_error *err) {
    if (!o->is_dir) return wb__tar_out_bytes(&o->tar, path, data, len, err);
    return dir_file(o, path, -1, data, len, err);
}

static int out_fd(layout_out *o, const char *path, int fd, uint64_t size, wb_error *err) {
    if (!o->is_dir) return wb__tar_out_fd(&o->tar, path, fd, size, err);
    return dir_file(o, path, fd, NULL, size, err);
}

static bool already_written(layout_out *o, const char *digest) {
    for (size_t i = 0; i < o->nwritten; i++)
        if (!strcmp(o->written[i], digest)) return true;
    WB_VEC_RESERVE(o->written, o->written_cap, o->nwritten + 1);
    o->written[o->nwritten++] = wb_strdup(digest);
    return false;
}

static void blob_name(char *buf, size_t size, const char *digest) {
    snprintf(buf, size, "blobs/sha256/%s", wb_digest_hex(digest));
}

/* A blob from the store, from an open file (fd >= 0), or from memory. */
static int out_blob(layout_out *o, wb_images *s, const char *digest, int fd, const void *data,
                    uint64_t size, wb_error *err) {
    if (already_written(o, digest)) return 0;
    char name[128];
    blob_name(name, sizeof name, digest);
    if (o->progress && o->progress->fn) o->progress->fn(o->progress->ctx, "Saving", digest, size);
    if (data) return out_bytes(o, name, data, (size_t)size, err);
    if (fd >= 0) {
        if (lseek(fd, 0, SEEK_SET) != 0) return wb_error_sys(err, "rewind a layer");
        return out_fd(o, name, fd, size, err);
    }
    char path[4096];
    if (wb_blob_path(s, digest, path, sizeof path, err) < 0) return -1;
    int bfd = open(path, O_RDONLY | O_CLOEXEC);
    if (bfd < 0) return wb_error_sys(err, "blob %s", digest);
    struct stat st;
    int rc;
    if (fstat(bfd, &st) != 0)
        rc = wb_error_sys(err, "blob %s", digest);
    else
        rc = out_fd(o, name, bfd, (uint64_t)st.st_size, err);
    close(bfd);
    return rc;
}

/* ---- the images to save ---- */

typedef struct save_item {
    wb_image *img;
    char **tags; /* full names */
    size_t ntags;
} save_item;

static void items_free(save_item *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        wb_image_free(v[i].img);
        for (size_t k = 0; k < v[i].ntags; k++) free(v[i].tags[k]);
        free(v[i].tags);
    }
    free(v);
}

static int collect(wb_images *s, const char *const *refs, size_t nrefs, save_item **out, size_t *n,
                   wb_error *err) {
    save_item *items = wb_calloc(nrefs + 1, sizeof *items);
    size_t count = 0;
    for (size_t i = 0; i < nrefs; i++) {
        wb_image_record rec;
        if (wb_images_resolve(s, refs[i], &rec, err) < 0) goto fail;
        /* the tag the user named, if they named one */
        char full[WB_REF_MAX + 80] = "";
        wb_ref r;
        if (wb_ref_parse(refs[i], &r, NULL) == 0 && r.tag[0]) {
            wb_ref_full(&r, full, sizeof full);
            bool has = false;
            for (size_t k = 0; k < rec.ntags; k++) has |= !strcmp(rec.tags[k], full);
            if (!has) full[0] = '\0';
        }
        save_item *it = NULL;
        for (size_t k = 0; k < count; k++)
            if (!strcmp(items[k].img->manifest_digest, rec.manifest)) it = &items[k];
        if (!it) {
            it = &items[count];
            if (wb_image_load(s, rec.manifest, &it->img, err) < 0) {
                wb_image_record_release(&rec);
                wb_error_wrap(err, "image %s", refs[i]);
                goto fail;
            }
            count++;
        }
        wb_image_record_release(&rec);
        bool dup = false;
        for (size_t k = 0; k < it->ntags; k++) dup |= !strcmp(it->tags[k], full);
        if (full[0] && !dup) {
            it->tags = wb_reallocarray(it->tags, it->ntags + 1, sizeof *it->tags);
            it->tags[it->ntags++] = wb_strdup(full);
        }
    }
    *out = items;
    *n = count;
    return 0;
fail:
    items_free(items, count);
    return -1;
}

/* ---- docker-archive: uncompressed layers ---- */

typedef struct plain_layer {
    char digest[WB_DIGEST_MAX]; /* = diff_id */
    uint64_t size;
    int fd; /* a scratch file holding the decompressed tar, or -1: the store blob as is */
} plain_layer;

typedef struct hash_sink {
    int fd;
    wb_hasher *h;
    uint64_t size;
} hash_sink;

static int to_scratch(void *ctx, const void *data, size_t len, wb_error *err) {
    hash_sink *hs = ctx;
    wb_hasher_update(hs->h, data, len);
    hs->size += len;
    return wb__write_all(hs->fd, data, len, err);
}

static bool is_uncompressed_tar(const char *mt) {
    size_t n = strlen(mt);
    return wb__is_tar_layer(mt) && n >= 4 && !strcmp(mt + n - 4, ".tar");
}

static int plain_layers(wb_images *s, const wb_image *img, plain_layer *out, wb_error *err) {
    for (size_t i = 0; i < img->nlayers; i++) {
        const wb_layer_desc *l = &img->layers[i];
        plain_layer *p = &out[i];
        p->fd = -1;
        if (!wb__is_tar_layer(l->media_type))
            return wb_error_set(err, EINVAL,
                                "a docker-archive holds only tar layers, and layer %s is \"%s\" "
                                "(use --format oci-archive)",
                                l->digest, l->media_type);
        if (is_uncompressed_tar(l->media_type)) {
            snprintf(p->digest, sizeof p->digest, "%s", l->digest);
            p->size = l->size;
            continue;
        }
        char path[4096];
        if (wb_blob_path(s, l->digest, path, sizeof path, err) < 0) return -1;
        int bfd = open(path, O_RDONLY | O_CLOEXEC);
        if (bfd < 0) return wb_error_sys(err, "blob %s", l->digest);
        hash_sink hs = {.fd = wb__scratch_file(s, err)};
        if (hs.fd < 0 || !(hs.h = wb_hasher_new(err))) {
            if (hs.fd >= 0) close(hs.fd);
            close(bfd);
            return -1;
        }
        int rc = wb__decompress(bfd, l->digest, MAX_LAYER_BYTES, to_scratch, &hs, err);
        close(bfd);
        wb_hasher_final(hs.h, p->digest);
        p->fd = hs.fd;
        p->size = hs.size;
        if (rc < 0) return wb_error_wrap(err, "decompress layer %s", l->digest);
        if (l->diff_id[0] && strcmp(l->diff_id, p->digest) != 0)
            return wb_error_set(err, EIO, "layer %s decompresses to %s, not its diff_id %s",
                                l->digest, p->digest, l->diff_id);
    }
    return 0;
}

/* The OCI manifest of the docker-archive's view of the image (uncompressed layers). */
static char *plain_manifest(const wb_image *img, const plain_layer *layers) {
    json_t *ls = json_array();
    for (size_t i = 0; i < img->nlayers; i++)
        json_array_append_new(ls,
                              json_pack("{s:s, s:s, s:I}", "mediaType", WB_MT_OCI_LAYER, "digest",
                                        layers[i].digest, "size", (json_int_t)layers[i].size));
    json_t *cd = json_object_get(img->manifest, "config");
    json_t *m = json_pack("{s:i, s:s, s:{s:s, s:s, s:O}, s:o}", "schemaVersion", 2, "mediaType",
                          WB_MT_OCI_MANIFEST, "config", "mediaType", WB_MT_OCI_CONFIG, "digest",
                          img->config_digest, "size", json_object_get(cd, "size"), "layers", ls);
    char *text = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(m);
    return text;
}

/* ---- writing one image ---- */

typedef struct save_docs {
    json_t *index_manifests; /* index.json's manifests */
    json_t *docker_manifest; /* manifest.json */
    json_t *repositories;
} save_docs;

static void add_index_entries(save_docs *d, const save_item *it, const char *mt, const char *digest,
                              uint64_t size) {
    json_t *base =
        json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest", digest, "size", (json_int_t)size);
    if (it->img->os[0] && it->img->arch[0])
        json_object_set_new(
            base, "platform",
            json_pack("{s:s, s:s}", "architecture", it->img->arch, "os", it->img->os));
    if (it->ntags == 0) {
        json_array_append_new(d->index_manifests, base);
        return;
    }
    for (size_t i = 0; i < it->ntags; i++) {
        wb_ref r;
        json_t *e = json_deep_copy(base);
        json_t *ann = json_object();
        json_object_set_new(ann, ANN_IMAGE_NAME, json_string(it->tags[i]));
        if (wb_ref_parse(it->tags[i], &r, NULL) == 0 && r.tag[0])
            json_object_set_new(ann, ANN_REF_NAME, json_string(r.tag));
        json_object_set_new(e, "annotations", ann);
        json_array_append_new(d->index_manifests, e);
    }
    json_decref(base);
}

static void add_docker_entry(save_docs *d, const save_item *it, const plain_layer *layers) {
    char name[128];
    json_t *tags = it->ntags ? json_array() : json_null();
    json_t *paths = json_array();
    for (size_t i = 0; i < it->img->nlayers; i++) {
        blob_name(name, sizeof name, layers[i].digest);
        json_array_append_new(paths, json_string(name));
    }
    for (size_t i = 0; i < it->ntags; i++) {
        char familiar[WB_REF_MAX + 80], repo[WB_REF_MAX];
        wb_ref r;
        wb_ref_familiar(it->tags[i], familiar, sizeof familiar);
        json_array_append_new(tags, json_string(familiar));
        if (wb_ref_parse(it->tags[i], &r, NULL) < 0 || !it->img->nlayers) continue;
        wb_ref_familiar_repo(&r, repo, sizeof repo);
        json_t *tagmap = json_object_get(d->repositories, repo);
        if (!tagmap) json_object_set_new(d->repositories, repo, tagmap = json_object());
        json_object_set_new(tagmap, r.tag,
                            json_string(wb_digest_hex(layers[it->img->nlayers - 1].digest)));
    }
    blob_name(name, sizeof name, it->img->config_digest);
    json_array_append_new(d->docker_manifest, json_pack("{s:s, s:o, s:o}", "Config", name,
                                                        "RepoTags", tags, "Layers", paths));
}

static int save_image(layout_out *o, wb_images *s, const save_item *it, bool docker, save_docs *d,
                      wb_error *err) {
    const wb_image *img = it->img;
    json_t *cd = json_object_get(img->manifest, "config");
    uint64_t config_size = (uint64_t)json_integer_value(json_object_get(cd, "size"));
    if (out_blob(o, s, img->config_digest, -1, NULL, config_size, err) < 0) return -1;
    uint64_t manifest_size;
    if (!wb_blob_exists(s, img->manifest_digest, &manifest_size))
        return wb_error_set(err, ENOENT, "manifest %s is missing from the store",
                            img->manifest_digest);
    const char *mt = json_string_value(json_object_get(img->manifest, "mediaType"));
    if (!mt) mt = WB_MT_OCI_MANIFEST;
    if (!docker) {
        for (size_t i = 0; i < img->nlayers; i++)
            if (out_blob(o, s, img->layers[i].digest, -1, NULL, img->layers[i].size, err) < 0)
                return -1;
        if (out_blob(o, s, img->manifest_digest, -1, NULL, manifest_size, err) < 0) return -1;
        add_index_entries(d, it, mt, img->manifest_digest, manifest_size);
        return 0;
    }
    plain_layer *layers = wb_calloc(img->nlayers + 1, sizeof *layers);
    for (size_t i = 0; i < img->nlayers; i++) layers[i].fd = -1;
    char *text = NULL;
    int rc = -1;
    if (plain_layers(s, img, layers, err) < 0) goto out;
    bool converted = false;
    for (size_t i = 0; i < img->nlayers; i++) {
        converted |= layers[i].fd >= 0;
        if (out_blob(o, s, layers[i].digest, layers[i].fd, NULL, layers[i].size, err) < 0) goto out;
    }
    if (!converted) { /* the stored manifest already describes plain tars */
        if (out_blob(o, s, img->manifest_digest, -1, NULL, manifest_size, err) < 0) goto out;
        add_index_entries(d, it, mt, img->manifest_digest, manifest_size);
    } else {
        char digest[WB_DIGEST_MAX];
        text = plain_manifest(img, layers);
        if (!text || wb_digest_of(text, strlen(text), digest, err) < 0) goto out;
        if (out_blob(o, s, digest, -1, text, strlen(text), err) < 0) goto out;
        add_index_entries(d, it, WB_MT_OCI_MANIFEST, digest, strlen(text));
    }
    add_docker_entry(d, it, layers);
    rc = 0;
out:
    for (size_t i = 0; i < img->nlayers; i++)
        if (layers[i].fd >= 0) close(layers[i].fd);
    free(layers);
    free(text);
    return rc;
}

static int out_json(layout_out *o, const char *path, json_t *doc, size_t flags, wb_error *err) {
    char *text = json_dumps(doc, flags);
    if (!text) return wb_error_set(err, ENOMEM, "serialise %s", path);
    int rc = out_bytes(o, path, text, strlen(text), err);
    free(text);
    return rc;
}

static int write_layout(layout_out *o, wb_images *s, const save_item *items, size_t n, bool docker,
                        wb_error *err) {
    save_docs d = {json_array(), json_array(), json_object()};
    int rc = -1;
    if (out_bytes(o, "oci-layout", OCI_LAYOUT, strlen(OCI_LAYOUT), err) < 0) goto out;
    if (out_mkdir(o, "blobs", err) < 0 || out_mkdir(o, "blobs/sha256", err) < 0) goto out;
    for (size_t i = 0; i < n; i++)
        if (save_image(o, s, &items[i], docker, &d, err) < 0) goto out;
    json_t *index = json_pack("{s:i, s:s, s:O}", "schemaVersion", 2, "mediaType", WB_MT_OCI_INDEX,
                              "manifests", d.index_manifests);
    rc = out_json(o, "index.json", index, JSON_COMPACT, err);
    json_decref(index);
    if (rc == 0 && docker) {
        rc = out_json(o, "manifest.json", d.docker_manifest, JSON_COMPACT, err);
        if (rc == 0 && json_object_size(d.repositories))
            rc = out_json(o, "repositories", d.repositories, JSON_COMPACT | JSON_SORT_KEYS, err);
    }
out:
    json_decref(d.index_manifests);
    json_decref(d.docker_manifest);
    json_decref(d.repositories);
    return rc;
}

/* ---- entry points ---- */

static int save_dir(wb_images *s, const save_item *items, size_t n, const char *path, layout_out *o,
                    wb_error *err) {
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) return wb_error_set(err, EEXIST, "`%s` exists", path);
        if (rmdir(path) != 0 && errno != ENOENT) /* an empty directory may be replaced */
            return wb_error_set(err, EEXIST, "`%s` exists and is not empty", path);
    }
    char tmp[4200];
    if (wb_path_join(tmp, sizeof tmp, err, "%s.tmp-%d", path, (int)getpid()) < 0) return -1;
    wb_remove_tree(tmp, NULL);
    if (mkdir(tmp, 0755) != 0) return wb_error_sys(err, "create `%s`", tmp);
    o->is_dir = true;
    o->dir_fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = o->dir_fd < 0 ? wb_error_sys(err, "open `%s`", tmp)
                           : write_layout(o, s, items, n, false, err);
    if (rc == 0) {
        char sub[4300];
        if (wb_path_join(sub, sizeof sub, err, "%s/blobs/sha256", tmp) < 0 ||
            wb_fsync_dir(sub, err) < 0 || wb_fsync_dir(tmp, err) < 0)
            rc = -1;
    }
    if (o->dir_fd >= 0) close(o->dir_fd);
    if (rc == 0 && rename(tmp, path) != 0) rc = wb_error_sys(err, "rename `%s` to `%s`", tmp, path);
    if (rc < 0) wb_remove_tree(tmp, NULL);
    return rc;
}

int wb_archive_save(wb_images *s, const char *const *refs, size_t nrefs, wb_archive_format fmt,
                    const char *out_path, int out_fd, const wb_archive_progress *progress,
                    wb_error *err) {
    if (nrefs == 0) return wb_error_set(err, EINVAL, "no image to save");
    if (fmt == WB_ARCHIVE_OCI_DIR && !out_path)
        return wb_error_set(err, EINVAL, "the oci-dir format needs an output directory (-o)");
    save_item *items;
    size_t n;
    if (collect(s, refs, nrefs, &items, &n, err) < 0) return -1;
    layout_out o = {.progress = progress, .dir_fd = -1};
    int rc = -1;
    if (fmt == WB_ARCHIVE_OCI_DIR) {
        rc = save_dir(s, items, n, out_path, &o, err);
        goto out;
    }
    wb__outfile file = {.fd = -1};
    if (out_path && wb__outfile_open(&file, out_path, err) < 0) goto out;
    int fd = out_path ? file.fd : out_fd;
    if (wb__tar_out_open(&o.tar, fd, err) == 0) {
        rc = write_layout(&o, s, items, n, fmt == WB_ARCHIVE_DOCKER, err);
        if (rc == 0)
            rc = wb__tar_out_close(&o.tar, err);
        else
            wb__tar_out_free(&o.tar);
    }
    if (out_path) {
        if (rc == 0)
            rc = wb__outfile_commit(&file, err);
        else
            wb__outfile_abort(&file);
    }
out:
    for (size_t i = 0; i < o.nwritten; i++) free(o.written[i]);
    free(o.written);
    items_free(items, n);
    return rc;
}

int wb_archive_export_wasm(wb_images *s, const char *ref, const char *out_path, int out_fd,
                           wb_error *err) {
    wb_image_record rec;
    if (wb_images_resolve(s, ref, &rec, err) < 0) return -1;
    wb_image *img;
    int rc = wb_image_load(s, rec.manifest, &img, err);
    wb_image_record_release(&rec);
    if (rc < 0) return -1;
    int src = -1;
    wb__outfile file = {.fd = -1};
    rc = -1;
    src = wb_image_wasm_open(s, img, err);
    if (src < 0) goto out;
    if (out_path && wb__outfile_open(&file, out_path, err) < 0) goto out;
    int fd = out_path ? file.fd : out_fd;
    uint8_t buf[64 * 1024];
    for (;;) {
        ssize_t n = read(src, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            wb_error_sys(err, "read the image's module");
            break;
        }
        if (n == 0) {
            rc = 0;
            break;
        }
        if (wb__write_all(fd, buf, (size_t)n, err) < 0) break;
    }
    if (out_path) {
        if (rc == 0)
            rc = wb__outfile_commit(&file, err);
        else
            wb__outfile_abort(&file);
    }
out:
    if (src >= 0) close(src);
    wb_image_free(img);
    return rc;
}
