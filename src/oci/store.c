/* The image store: ROOT/images is an OCI image layout (oci-layout, blobs/sha256/<hex>, index.json).
 * index.json is an OCI image index whose entries are the images; a tag is an entry's
 * `org.opencontainers.image.ref.name` annotation (one entry per tag, one untagged entry for a
 * dangling image), and wasmbox's own facts about the image ride along as annotations so that
 * `image ls` reads one file. All index updates happen under an exclusive flock on ROOT/images/lock
 * and replace index.json atomically (temp file, fsync, rename, fsync of the directory). */
#include "oci/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/timeutil.h"
#include "base/alloc.h"
#include "base/fsutil.h"
#include "oci/image.h"
#include "oci/reference.h"

#define ANN_REF         "org.opencontainers.image.ref.name"
#define ANN_CONFIG      "io.wasmbox.image.config"
#define ANN_CREATED     "io.wasmbox.image.created"
#define ANN_SIZE        "io.wasmbox.image.size"
#define ANN_REPO_DIGEST "io.wasmbox.image.repo-digest"
#define MAX_INDEX_BYTES ((size_t)64 << 20)

struct wb_images {
    char *root;  /* ROOT */
    char *dir;   /* ROOT/images */
    char *blobs; /* ROOT/images/blobs/sha256 */
    int lock_fd; /* open while locked, else -1 */
    int lock_depth;
    int ingest_fd; /* shared flock on ROOT/images/gc.lock while this process writes blobs */
};

char *wb_store_default_root(const char *flag) {
    if (flag && *flag) return wb_strdup(flag);
    const char *env = getenv("WASMBOX_ROOT");
    if (env && *env) return wb_strdup(env);
    if (geteuid() == 0) return wb_strdup("/var/lib/wasmbox");
    const char *xdg = getenv("XDG_DATA_HOME");
    /* built to its length (no fixed buffer that could cut it short) */
    char *path = NULL;
    size_t len = 0;
    if (xdg && *xdg) {
        wb_appendf(&path, &len, "%s/wasmbox", xdg);
    } else {
        char home[4096];
        if (!wb_home_dir(home, sizeof home)) snprintf(home, sizeof home, "/tmp");
        wb_appendf(&path, &len, "%s/.local/share/wasmbox", home);
    }
    return path;
}

int wb_images_open(const char *root, wb_images **out, wb_error *err) {
    char buf[4096];
    *out = NULL;
    if (wb_path_join(buf, sizeof buf, err, "%s/images/blobs/sha256", root) < 0) return -1;
    if (wb_mkdir_p(buf, 0755, err) < 0) return wb_error_wrap(err, "open the image store");
    wb_images *s = wb_calloc(1, sizeof *s);
    s->root = wb_strdup(root);
    s->blobs = wb_strdup(buf);
    s->lock_fd = -1;
    s->ingest_fd = -1;
    if (wb_path_join(buf, sizeof buf, err, "%s/images", root) < 0) {
        wb_images_close(s);
        return -1;
    }
    s->dir = wb_strdup(buf);
    if (wb_path_join(buf, sizeof buf, err, "%s/oci-layout", s->dir) < 0) {
        wb_images_close(s);
        return -1;
    }
    if (access(buf, F_OK) != 0 && errno == ENOENT) {
        static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
        if (wb_write_file_atomic(buf, layout, sizeof layout - 1, 0644, true, err) < 0) {
            wb_images_close(s);
            return -1;
        }
    }
    *out = s;
    return 0;
}

void wb_images_close(wb_images *s) {
    if (!s) return;
    if (s->lock_fd >= 0) close(s->lock_fd);
    if (s->ingest_fd >= 0) close(s->ingest_fd);
    free(s->root);
    free(s->dir);
    free(s->blobs);
    free(s);
}

const char *wb_images_dir(const wb_images *s) {
    return s->dir;
}
const char *wb_images_root(const wb_images *s) {
    return s->root;
}

/* ---- locking ---- */

static int lock(wb_images *s, wb_error *err) {
    if (s->lock_depth++ > 0) return 0;
    char path[4096];
    if (wb_path_join(path, sizeof path, err, "%s/lock", s->dir) < 0) {
        s->lock_depth--;
        return -1;
    }
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX) != 0) {
        wb_error_sys(err, "lock the image store (`%s`)", path);
        if (s->lock_fd >= 0) close(s->lock_fd);
        s->lock_fd = -1;
        s->lock_depth--;
        return -1;
    }
    return 0;
}

static void unlock(wb_images *s) {
    if (--s->lock_depth > 0) return;
    close(s->lock_fd); /* releases the flock */
    s->lock_fd = -1;
}

/* ---- ingest vs. garbage collection ----
 * Blobs written by a build, load or pull are unreferenced until the image is registered at the
 * end. A process that writes blobs holds a shared flock on gc.lock for as long as its store is
 * open; collection deletes blobs only when it can take that lock exclusively. */

void wb_images_hold_gc(wb_images *s) {
    if (s->ingest_fd >= 0) return;
    char path[4096];
    if (wb_path_join(path, sizeof path, NULL, "%s/gc.lock", s->dir) < 0) return;
    s->ingest_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->ingest_fd >= 0) flock(s->ingest_fd, LOCK_SH);
}

/* ---- blobs ---- */

int wb_blob_path(wb_images *s, const char *digest, char *buf, size_t size, wb_error *err) {
    if (!wb_digest_valid(digest))
        return wb_error_set(err, EINVAL, "invalid digest \"%.80s\"", digest ? digest : "");
    return wb_path_join(buf, size, err, "%s/%s", s->blobs, wb_digest_hex(digest));
}

bool wb_blob_exists(wb_images *s, const char *digest, uint64_t *size) {
    char path[4096];
    struct stat st;
    if (wb_blob_path(s, digest, path, sizeof path, NULL) < 0) return false;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return false;
    if (size) *size = (uint64_t)st.st_size;
    return true;
}

int wb_blob_read(wb_images *s, const char *digest, size_t max, uint8_t **data, size_t *len,
                 wb_error *err) {
    char path[4096];
    if (wb_blob_path(s, digest, path, sizeof path, err) < 0) return -1;
    /* blobs were verified when committed; the store directory is trusted */
    if (wb_read_file(path, max, data, len, err) < 0) {
        if (err && err->code == ENOENT)
            wb_error_set(err, ENOENT, "blob %s is missing from the store", digest);
        return -1;
    }
    return 0;
}

struct wb_blob_writer {
    wb_images *s;
    int fd;
    char tmp_path[4096]; /* "" when the file is unnamed (O_TMPFILE) */
    wb_hasher *hash;
    uint64_t size;
    int64_t expect_size;
    char expect[WB_DIGEST_MAX];
};

int wb_blob_writer_open(wb_images *s, const char *expect_digest, int64_t expect_size,
                        wb_blob_writer **out, wb_error *err) {
    *out = NULL;
    if (expect_digest && !wb_digest_valid(expect_digest))
        return wb_error_set(err, EINVAL, "invalid digest \"%.80s\"", expect_digest);
    wb_images_hold_gc(s);
    wb_hasher *h = wb_hasher_new(err);
    if (!h) return -1;
    wb_blob_writer *w = wb_calloc(1, sizeof *w);
    w->s = s;
    w->hash = h;
    w->expect_size = expect_size;
    if (expect_digest) snprintf(w->expect, sizeof w->expect, "%s", expect_digest);
    /* an unnamed file vanishes by itself if we are killed before the commit */
    w->fd = open(s->blobs, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        static unsigned counter;
        if (wb_path_join(w->tmp_path, sizeof w->tmp_path, err, "%s/.ingest.%d.%u", s->blobs,
                         (int)getpid(), counter++) < 0) {
            wb_hasher_free(h);
            free(w);
            return -1;
        }
        w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    }
    if (w->fd < 0) {
        wb_error_sys(err, "create a blob in `%s`", s->blobs);
        wb_hasher_free(h);
        free(w);
        return -1;
    }
    *out = w;
    return 0;
}

int wb_blob_writer_write(wb_blob_writer *w, const void *buf, size_t len, wb_error *err) {
    if (w->expect_size >= 0 && w->size + len > (uint64_t)w->expect_size)
        return wb_error_set(err, EFBIG, "blob %s is larger than its declared %lld bytes",
                            w->expect[0] ? w->expect : "", (long long)w->expect_size);
    const uint8_t *p = buf;
    size_t left = len;
    while (left) {
        ssize_t n = write(w->fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            return wb_error_sys(err, "write a blob");
        }
        p += n;
        left -= (size_t)n;
    }
    wb_hasher_update(w->hash, buf, len);
    w->size += len;
    return 0;
}

uint64_t wb_blob_writer_size(const wb_blob_writer *w) {
    return w->size;
}

void wb_blob_writer_abort(wb_blob_writer *w) {
    if (!w) return;
    close(w->fd);
    if (w->tmp_path[0]) unlink(w->tmp_path);
    wb_hasher_free(w->hash);
    free(w);
}

int wb_blob_writer_commit(wb_blob_writer *w, char digest[WB_DIGEST_MAX], wb_error *err) {
    char got[WB_DIGEST_MAX], final[4096];
    wb_hasher_final(w->hash, got);
    w->hash = NULL;
    int rc = -1;
    if (w->expect_size >= 0 && w->size != (uint64_t)w->expect_size) {
        wb_error_set(err, EIO, "blob %s: got %llu bytes, expected %lld",
                     w->expect[0] ? w->expect : got, (unsigned long long)w->size,
                     (long long)w->expect_size);
        goto out;
    }
    if (w->expect[0] && strcmp(got, w->expect) != 0) {
        wb_error_set(err, EIO, "digest mismatch: expected %s, got %s", w->expect, got);
        goto out;
    }
    if (fsync(w->fd) != 0) {
        wb_error_sys(err, "fsync a blob");
        goto out;
    }
    if (wb_path_join(final, sizeof final, err, "%s/%s", w->s->blobs, wb_digest_hex(got)) < 0)
        goto out;
    if (w->tmp_path[0]) {
        if (rename(w->tmp_path, final) != 0) {
            wb_error_sys(err, "commit blob %s", got);
            goto out;
        }
        w->tmp_path[0] = '\0';
    } else {
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", w->fd);
        if (linkat(AT_FDCWD, proc, AT_FDCWD, final, AT_SYMLINK_FOLLOW) != 0 && errno != EEXIST) {
            wb_error_sys(err, "commit blob %s", got);
            goto out;
        }
    }
    if (wb_fsync_dir(w->s->blobs, err) < 0) goto out;
    if (digest) snprintf(digest, WB_DIGEST_MAX, "%s", got);
    rc = 0;
out:
    close(w->fd);
    if (w->tmp_path[0]) unlink(w->tmp_path);
    free(w);
    return rc;
}

int wb_blob_put(wb_images *s, const void *data, size_t len, char digest[WB_DIGEST_MAX],
                wb_error *err) {
    char d[WB_DIGEST_MAX];
    if (wb_digest_of(data, len, d, err) < 0) return -1;
    if (wb_blob_exists(s, d, NULL)) {
        snprintf(digest, WB_DIGEST_MAX, "%s", d);
        return 0;
    }
    wb_blob_writer *w;
    if (wb_blob_writer_open(s, d, (int64_t)len, &w, err) < 0) return -1;
    if (wb_blob_writer_write(w, data, len, err) < 0) {
        wb_blob_writer_abort(w);
        return -1;
    }
    return wb_blob_writer_commit(w, digest, err);
}

/* ---- the index ---- */

static json_t *index_read(wb_images *s, wb_error *err) {
    char path[4096];
    uint8_t *data;
    size_t len;
    if (wb_path_join(path, sizeof path, err, "%s/index.json", s->dir) < 0) return NULL;
    if (wb_read_file(path, MAX_INDEX_BYTES, &data, &len, err) < 0) {
        if (err && err->code != ENOENT) return NULL;
        json_t *idx = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType",
                                WB_MT_OCI_INDEX, "manifests");
        return idx;
    }
    json_error_t jerr;
    json_t *idx = json_loadb((const char *)data, len, 0, &jerr);
    free(data);
    if (!idx || !json_is_array(json_object_get(idx, "manifests"))) {
        json_decref(idx);
        wb_error_set(err, EIO, "the image index `%s` is corrupt: %s", path,
                     idx ? "no manifests" : jerr.text);
        return NULL;
    }
    return idx;
}

static int index_write(wb_images *s, json_t *idx, wb_error *err) {
    char path[4096];
    if (wb_path_join(path, sizeof path, err, "%s/index.json", s->dir) < 0) return -1;
    char *text = json_dumps(idx, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text) return wb_error_set(err, ENOMEM, "serialise the image index");
    int rc = wb_write_file_atomic(path, text, strlen(text), 0644, true, err);
    free(text);
    return rc;
}

static const char *ann(const json_t *entry, const char *key) {
    return json_string_value(json_object_get(json_object_get(entry, "annotations"), key));
}

static const char *entry_digest(const json_t *entry) {
    return json_string_value(json_object_get(entry, "digest"));
}

/* Remove tag from every entry; entries left without a tag collapse into one untagged entry per
 * image (kept, so the image stays listed as dangling). */
static void drop_tag(json_t *manifests, const char *tag) {
    for (size_t i = 0; i < json_array_size(manifests);) {
        json_t *e = json_array_get(manifests, i);
        const char *ref = ann(e, ANN_REF);
        if (!ref || strcmp(ref, tag) != 0) {
            i++;
            continue;
        }
        const char *d = entry_digest(e);
        bool other = false;
        for (size_t k = 0; k < json_array_size(manifests); k++) {
            json_t *o = json_array_get(manifests, k);
            if (k != i && d && entry_digest(o) && !strcmp(entry_digest(o), d)) other = true;
        }
        if (other) {
            json_array_remove(manifests, i);
        } else {
            json_object_del(json_object_get(e, "annotations"), ANN_REF);
            i++;
        }
    }
}

static json_t *find_entry(json_t *manifests, const char *digest, bool untagged_only) {
    for (size_t i = 0; i < json_array_size(manifests); i++) {
        json_t *e = json_array_get(manifests, i);
        if (entry_digest(e) && !strcmp(entry_digest(e), digest) &&
            (!untagged_only || !ann(e, ANN_REF)))
            return e;
    }
    return NULL;
}

/* Facts about the image for the index: read from its manifest and config. */
static json_t *make_entry(wb_images *s, const char *manifest_digest, wb_error *err) {
    uint8_t *data;
    size_t len;
    if (wb_blob_read(s, manifest_digest, WB_MAX_MANIFEST_BYTES, &data, &len, err) < 0) return NULL;
    json_t *m = NULL;
    int rc = wb_manifest_parse(data, len, NULL, &m, err);
    free(data);
    if (rc < 0) return NULL;
    const char *mt = json_string_value(json_object_get(m, "mediaType"));
    const char *config = json_string_value(json_object_get(json_object_get(m, "config"), "digest"));
    uint64_t size = (uint64_t)len + (uint64_t)json_integer_value(
                                        json_object_get(json_object_get(m, "config"), "size"));
    json_t *layers = json_object_get(m, "layers");
    for (size_t i = 0; i < json_array_size(layers); i++)
        size += (uint64_t)json_integer_value(json_object_get(json_array_get(layers, i), "size"));
    json_t *entry = json_pack("{s:s, s:s, s:I, s:{}}", "mediaType", mt ? mt : WB_MT_OCI_MANIFEST,
                              "digest", manifest_digest, "size", (json_int_t)len, "annotations");
    json_t *annotations = json_object_get(entry, "annotations");
    json_object_set_new(annotations, ANN_CONFIG, json_string(config ? config : ""));
    char sz[32];
    snprintf(sz, sizeof sz, "%llu", (unsigned long long)size);
    json_object_set_new(annotations, ANN_SIZE, json_string(sz));
    /* platform and creation time from the config */
    if (config && wb_digest_valid(config) &&
        wb_blob_read(s, config, WB_MAX_CONFIG_BYTES, &data, &len, NULL) == 0) {
        json_t *c = json_loadb((const char *)data, len, 0, NULL);
        free(data);
        const char *os = json_string_value(json_object_get(c, "os"));
        const char *arch = json_string_value(json_object_get(c, "architecture"));
        const char *created = json_string_value(json_object_get(c, "created"));
        if (os || arch)
            json_object_set_new(
                entry, "platform",
                json_pack("{s:s, s:s}", "os", os ? os : "", "architecture", arch ? arch : ""));
        if (created) json_object_set_new(annotations, ANN_CREATED, json_string(created));
        json_decref(c);
    }
    json_decref(m);
    return entry;
}

int wb_images_add(wb_images *s, const char *manifest_digest, const char *const *tags, size_t ntags,
                  const char *repo_digest, wb_error *err) {
    if (!wb_blob_exists(s, manifest_digest, NULL))
        return wb_error_set(err, ENOENT, "manifest %s is not in the store", manifest_digest);
    json_t *entry = make_entry(s, manifest_digest, err);
    if (!entry) return -1;
    if (lock(s, err) < 0) {
        json_decref(entry);
        return -1;
    }
    int rc = -1;
    json_t *idx = index_read(s, err);
    if (!idx) goto out;
    json_t *manifests = json_object_get(idx, "manifests");
    for (size_t i = 0; i < ntags; i++) drop_tag(manifests, tags[i]);
    if (repo_digest) {
        /* one repo digest per repository is enough to record where the image came from */
        for (size_t i = 0; i < json_array_size(manifests); i++) {
            json_t *e = json_array_get(manifests, i);
            if (!strcmp(entry_digest(e), manifest_digest))
                json_object_set_new(json_object_get(e, "annotations"), ANN_REPO_DIGEST,
                                    json_string(repo_digest));
        }
        json_object_set_new(json_object_get(entry, "annotations"), ANN_REPO_DIGEST,
                            json_string(repo_digest));
    }
    if (ntags == 0) {
        if (!find_entry(manifests, manifest_digest, false)) json_array_append(manifests, entry);
    } else {
        json_t *untagged = find_entry(manifests, manifest_digest, true);
        for (size_t i = 0; i < ntags; i++) {
            json_t *e = i == 0 && untagged ? untagged : json_deep_copy(entry);
            json_object_set_new(json_object_get(e, "annotations"), ANN_REF, json_string(tags[i]));
            if (!(i == 0 && untagged)) json_array_append_new(manifests, e);
        }
    }
    rc = index_write(s, idx, err);
out:
    json_decref(idx);
    json_decref(entry);
    unlock(s);
    return rc;
}

int wb_images_tag(wb_images *s, const char *manifest_digest, const char *tag, wb_error *err) {
    const char *tags[] = {tag};
    return wb_images_add(s, manifest_digest, tags, 1, NULL, err);
}

int wb_images_untag(wb_images *s, const char *tag, wb_error *err) {
    if (lock(s, err) < 0) return -1;
    int rc = -1;
    json_t *idx = index_read(s, err);
    if (idx) {
        json_t *manifests = json_object_get(idx, "manifests");
        size_t before = json_array_size(manifests);
        bool found = false;
        for (size_t i = 0; i < before; i++) {
            const char *ref = ann(json_array_get(manifests, i), ANN_REF);
            if (ref && !strcmp(ref, tag)) found = true;
        }
        if (!found) {
            wb_error_set(err, ENOENT, "No such image: %s", tag);
        } else {
            drop_tag(manifests, tag);
            rc = index_write(s, idx, err);
        }
    }
    json_decref(idx);
    unlock(s);
    return rc;
}

int wb_images_remove(wb_images *s, const char *manifest_digest, wb_error *err) {
    if (lock(s, err) < 0) return -1;
    int rc = -1;
    json_t *idx = index_read(s, err);
    if (idx) {
        json_t *manifests = json_object_get(idx, "manifests");
        /* the image: every manifest of the same config */
        char config[WB_DIGEST_MAX] = "";
        for (size_t i = 0; i < json_array_size(manifests); i++) {
            json_t *e = json_array_get(manifests, i);
            if (!strcmp(entry_digest(e), manifest_digest) && ann(e, ANN_CONFIG))
                snprintf(config, sizeof config, "%s", ann(e, ANN_CONFIG));
        }
        for (size_t i = 0; i < json_array_size(manifests);) {
            json_t *e = json_array_get(manifests, i);
            const char *c = ann(e, ANN_CONFIG);
            if (!strcmp(entry_digest(e), manifest_digest) || (config[0] && c && !strcmp(c, config)))
                json_array_remove(manifests, i);
            else
                i++;
        }
        rc = index_write(s, idx, err);
    }
    json_decref(idx);
    unlock(s);
    return rc;
}

/* ---- listing and resolving ---- */

static void add_string(char ***v, size_t *n, const char *s) {
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*v)[i], s)) return;
    *v = wb_reallocarray(*v, *n + 1, sizeof **v);
    (*v)[(*n)++] = wb_strdup(s);
}

void wb_image_record_release(wb_image_record *r) {
    for (size_t i = 0; i < r->ntags; i++) free(r->tags[i]);
    free(r->tags);
    for (size_t i = 0; i < r->nrepo_digests; i++) free(r->repo_digests[i]);
    free(r->repo_digests);
    memset(r, 0, sizeof *r);
}

void wb_image_records_free(wb_image_record *r, size_t n) {
    for (size_t i = 0; i < n; i++) wb_image_record_release(&r[i]);
    free(r);
}

int wb_images_list(wb_images *s, wb_image_record **out, size_t *n, wb_error *err) {
    *out = NULL;
    *n = 0;
    json_t *idx = index_read(s, err);
    if (!idx) return -1;
    json_t *manifests = json_object_get(idx, "manifests");
    wb_image_record *recs = NULL;
    size_t count = 0;
    for (size_t i = 0; i < json_array_size(manifests); i++) {
        json_t *e = json_array_get(manifests, i);
        const char *d = entry_digest(e);
        if (!d || !wb_digest_valid(d)) continue;
        /* an image is its ID (config digest): manifests of one config are one image, as in
         * Docker (a load of the same image in another archive format adds a manifest) */
        const char *cfg = ann(e, ANN_CONFIG);
        wb_image_record *r = NULL;
        for (size_t k = 0; k < count; k++)
            if (!strcmp(recs[k].manifest, d) ||
                (cfg && wb_digest_valid(cfg) && !strcmp(recs[k].config, cfg)))
                r = &recs[k];
        if (!r) {
            recs = wb_reallocarray(recs, count + 1, sizeof *recs);
            r = &recs[count++];
            memset(r, 0, sizeof *r);
            snprintf(r->manifest, sizeof r->manifest, "%s", d);
            const char *c = ann(e, ANN_CONFIG);
            snprintf(r->config, sizeof r->config, "%s", c ? c : "");
            json_t *p = json_object_get(e, "platform");
            snprintf(r->os, sizeof r->os, "%s", json_string_value(json_object_get(p, "os")) ?: "");
            snprintf(r->arch, sizeof r->arch, "%s",
                     json_string_value(json_object_get(p, "architecture")) ?: "");
            r->created = wb_time_parse(ann(e, ANN_CREATED));
            const char *sz = ann(e, ANN_SIZE);
            r->size = sz ? strtoull(sz, NULL, 10) : 0;
        }
        if (ann(e, ANN_REF)) add_string(&r->tags, &r->ntags, ann(e, ANN_REF));
        if (ann(e, ANN_REPO_DIGEST))
            add_string(&r->repo_digests, &r->nrepo_digests, ann(e, ANN_REPO_DIGEST));
    }
    json_decref(idx);
    *out = recs;
    *n = count;
    return 0;
}

static void copy_record(wb_image_record *dst, const wb_image_record *src) {
    *dst = *src;
    dst->tags = NULL;
    dst->ntags = 0;
    dst->repo_digests = NULL;
    dst->nrepo_digests = 0;
    for (size_t i = 0; i < src->ntags; i++) add_string(&dst->tags, &dst->ntags, src->tags[i]);
    for (size_t i = 0; i < src->nrepo_digests; i++)
        add_string(&dst->repo_digests, &dst->nrepo_digests, src->repo_digests[i]);
}

static bool is_hex(const char *s) {
    if (!*s) return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return false;
    return true;
}

int wb_images_resolve(wb_images *s, const char *ref, wb_image_record *out, wb_error *err) {
    wb_image_record *recs;
    size_t n;
    memset(out, 0, sizeof *out);
    if (wb_images_list(s, &recs, &n, err) < 0) return -1;
    const wb_image_record *found = NULL;
    /* a full digest: the image ID or the manifest digest */
    if (wb_digest_valid(ref)) {
        for (size_t i = 0; i < n && !found; i++)
            if (!strcmp(recs[i].config, ref) || !strcmp(recs[i].manifest, ref)) found = &recs[i];
    }
    /* a name */
    wb_ref r;
    if (!found && wb_ref_parse(ref, &r, NULL) == 0) {
        char full[WB_REF_MAX + 80], repo[WB_REF_MAX];
        wb_ref_full(&r, full, sizeof full);
        wb_ref_repo(&r, repo, sizeof repo);
        char with_digest[WB_REF_MAX + 80];
        snprintf(with_digest, sizeof with_digest, "%s@%s", repo, r.digest);
        for (size_t i = 0; i < n && !found; i++) {
            /* pulled by digest (an index's or a manifest's): the recorded repo digest */
            for (size_t k = 0; r.digest[0] && k < recs[i].nrepo_digests && !found; k++)
                if (!strcmp(recs[i].repo_digests[k], with_digest)) found = &recs[i];
            if (found) break;
            if (r.digest[0] && !strcmp(recs[i].manifest, r.digest)) {
                for (size_t k = 0; k < recs[i].ntags; k++)
                    if (!strncmp(recs[i].tags[k], repo, strlen(repo))) found = &recs[i];
                for (size_t k = 0; k < recs[i].nrepo_digests; k++)
                    if (!strncmp(recs[i].repo_digests[k], repo, strlen(repo))) found = &recs[i];
                continue;
            }
            for (size_t k = 0; k < recs[i].ntags && !found; k++)
                if (r.tag[0] && !strcmp(recs[i].tags[k], full)) found = &recs[i];
        }
    }
    /* a unique prefix of an image ID */
    if (!found) {
        const char *hex = !strncmp(ref, "sha256:", 7) ? ref + 7 : ref;
        if (is_hex(hex) && strlen(hex) <= 64) {
            size_t matches = 0;
            for (size_t i = 0; i < n; i++)
                if (wb_digest_valid(recs[i].config) &&
                    !strncmp(wb_digest_hex(recs[i].config), hex, strlen(hex))) {
                    if (!found || strcmp(found->config, recs[i].config) != 0) matches++;
                    found = &recs[i];
                }
            if (matches > 1) {
                wb_image_records_free(recs, n);
                return wb_error_set(err, EINVAL, "ambiguous image ID prefix \"%s\"", ref);
            }
        }
    }
    int rc = 0;
    if (found)
        copy_record(out, found);
    else
        rc = wb_error_set(err, ENOENT, "No such image: %s", ref);
    wb_image_records_free(recs, n);
    return rc;
}

/* ---- garbage collection ---- */

static void mark(char ***live, size_t *n, const char *d) {
    if (d && wb_digest_valid(d)) add_string(live, n, d);
}

/* Remove what dir holds (directories named by digest hex) that live does not list, and what a
 * killed unpack left (.tmp.*) once old. */
static void sweep_unpacked(const char *path, char **live, size_t nlive) {
    DIR *dir = opendir(path);
    struct dirent *de;
    while (dir && (de = readdir(dir))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        struct stat st;
        if (de->d_name[0] == '.') {
            if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
                time(NULL) - st.st_mtime < 3600)
                continue;
        } else {
            char digest[WB_DIGEST_MAX + 256];
            snprintf(digest, sizeof digest, "sha256:%s", de->d_name);
            bool keep = false;
            for (size_t i = 0; i < nlive && !keep; i++) keep = !strcmp(live[i], digest);
            if (keep) continue;
        }
        char victim[4096 + 256];
        if (wb_path_join(victim, sizeof victim, NULL, "%s/%s", path, de->d_name) == 0)
            wb_remove_tree(victim, NULL);
    }
    if (dir) closedir(dir);
}

int wb_images_gc(wb_images *s, uint64_t *freed, wb_error *err) {
    if (freed) *freed = 0;
    if (lock(s, err) < 0) return -1;
    int rc = -1;
    char **live = NULL;
    size_t nlive = 0;
    json_t *idx = index_read(s, err);
    if (!idx) goto out;
    json_t *manifests = json_object_get(idx, "manifests");
    for (size_t i = 0; i < json_array_size(manifests); i++) {
        const char *d = entry_digest(json_array_get(manifests, i));
        mark(&live, &nlive, d);
        uint8_t *data;
        size_t len;
        if (!d || wb_blob_read(s, d, WB_MAX_MANIFEST_BYTES, &data, &len, NULL) < 0) continue;
        json_t *m = json_loadb((const char *)data, len, 0, NULL);
        free(data);
        const char *cd = json_string_value(json_object_get(json_object_get(m, "config"), "digest"));
        mark(&live, &nlive, cd);
        /* the unpacked layers it lists (layers.h), by diff_id */
        if (cd && wb_blob_read(s, cd, WB_MAX_CONFIG_BYTES, &data, &len, NULL) == 0) {
            json_t *cfg = json_loadb((const char *)data, len, 0, NULL);
            free(data);
            json_t *ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
            for (size_t k = 0; k < json_array_size(ids); k++)
                mark(&live, &nlive, json_string_value(json_array_get(ids, k)));
            json_decref(cfg);
        }
        json_t *layers = json_object_get(m, "layers");
        for (size_t k = 0; k < json_array_size(layers); k++)
            mark(&live, &nlive,
                 json_string_value(json_object_get(json_array_get(layers, k), "digest")));
        json_decref(m);
    }
    /* blobs only when no other process is writing some (see wb_images_hold_gc) */
    char gcpath[4096], layers_dir[4096], rootfs_dir[4096];
    if (wb_path_join(gcpath, sizeof gcpath, err, "%s/gc.lock", s->dir) < 0 ||
        wb_path_join(layers_dir, sizeof layers_dir, err, "%s/layers", s->dir) < 0 ||
        wb_path_join(rootfs_dir, sizeof rootfs_dir, err, "%s/rootfs", s->dir) < 0)
        goto out;
    int gc_fd = s->ingest_fd >= 0 ? s->ingest_fd : open(gcpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (gc_fd < 0 || flock(gc_fd, LOCK_EX | LOCK_NB) != 0) {
        if (gc_fd >= 0 && gc_fd != s->ingest_fd) close(gc_fd);
        rc = 0; /* busy: the blobs are collected another time */
        goto out;
    }
    DIR *dir = opendir(s->blobs);
    if (!dir) {
        wb_error_sys(err, "list `%s`", s->blobs);
        if (gc_fd != s->ingest_fd)
            close(gc_fd);
        else
            flock(gc_fd, LOCK_SH);
        goto out;
    }
    struct dirent *de;
    while ((de = readdir(dir))) {
        if (de->d_name[0] == '.' && strncmp(de->d_name, ".ingest.", 8) != 0) continue;
        char digest[WB_DIGEST_MAX + 256];
        snprintf(digest, sizeof digest, "sha256:%s", de->d_name);
        bool keep = false;
        for (size_t i = 0; i < nlive && !keep; i++) keep = !strcmp(live[i], digest);
        if (keep) continue;
        /* a stale ingest file of a live process is only removed when old */
        struct stat st;
        if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (!strncmp(de->d_name, ".ingest.", 8) && time(NULL) - st.st_mtime < 3600) continue;
        if (unlinkat(dirfd(dir), de->d_name, 0) == 0 && freed) *freed += (uint64_t)st.st_size;
    }
    closedir(dir);
    /* unpacked layers no image lists (under the same lock: a build's new layers are unlisted
     * until its image is registered) */
    sweep_unpacked(layers_dir, live, nlive);
    if (gc_fd != s->ingest_fd)
        close(gc_fd);
    else
        flock(gc_fd, LOCK_SH);
    /* unpacked root filesystems of images that are gone */
    sweep_unpacked(rootfs_dir, live, nlive);
    rc = 0;
out:
    for (size_t i = 0; i < nlive; i++) free(live[i]);
    free(live);
    json_decref(idx);
    unlock(s);
    return rc;
}
