/* Spin applications pushed as OCI artifacts (oci/spin_artifact.h). */
#include "oci/spin_artifact.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/base64.h"
#include "base/fsutil.h"
#include "base/sha256.h"
#include "oci/digest.h"
#include "oci/tar.h"

#define SPIN_JSON_MAX ((size_t)16 << 20) /* the locked app, as apps/spin_locked.h takes it */

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Copy the blob at `from` into `to` (a hard link when the store and root share a file system). */
static int place_blob(const char *from, const char *to, bool empty, wb_error *err) {
    if (empty) return wb_write_file_atomic(to, "", 0, 0644, false, err);
    if (link(from, to) == 0) return 0;
    uint8_t *data;
    size_t len;
    if (wb_read_file(from, (size_t)1 << 31, &data, &len, err) < 0) return -1;
    int rc = wb_write_file_atomic(to, data, len, 0644, false, err);
    free(data);
    return rc;
}

/* Every regular file under dir (an unpacked archive layer) moved to sha/<its digest's hex>; other
 * entries (directories, links) are not contents. */
static int index_files(const char *dir, const char *sha, int depth, wb_error *err) {
    if (depth > 64) return wb_error_set(err, ELOOP, "Spin archive layer: directories too deep");
    DIR *d = opendir(dir);
    if (!d) return wb_error_sys(err, "open `%s`", dir);
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char path[4200], to[4400];
        struct stat st;
        if (wb_path_join(path, sizeof path, err, "%s/%s", dir, de->d_name) < 0) {
            rc = -1;
            break;
        }
        if (lstat(path, &st) != 0) {
            rc = wb_error_sys(err, "stat `%s`", path);
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            rc = index_files(path, sha, depth + 1, err);
            continue;
        }
        if (!S_ISREG(st.st_mode)) continue;
        uint8_t *data;
        size_t len;
        if (wb_read_file(path, (size_t)1 << 31, &data, &len, err) < 0) {
            rc = -1;
            break;
        }
        uint8_t dg[WB_SHA256_DIGEST_SIZE];
        char hex[WB_SHA256_HEX_SIZE];
        wb_sha256(data, len, dg);
        wb_sha256_hex(dg, hex);
        free(data);
        if (wb_path_join(to, sizeof to, err, "%s/%s", sha, hex) < 0)
            rc = -1;
        else if (access(to, F_OK) != 0 && rename(path, to) != 0)
            rc = wb_error_sys(err, "move `%s` into the app's contents", path);
    }
    closedir(d);
    return rc;
}

/* A layer of WB_MT_SPIN_ARCHIVE: a tar.gz of a component's files, which the locked app names
 * one by one by digest; unpacked (by the store's hardened extractor) into a scratch directory,
 * its files then kept by digest. */
static int unpack_archive(const char *blob, const char *content, const char *sha, size_t index,
                          wb_error *err) {
    char scratch[4300];
    if (wb_path_join(scratch, sizeof scratch, err, "%s/archive.%zu", content, index) < 0) return -1;
    wb_remove_tree(scratch, NULL);
    if (mkdir(scratch, 0755) != 0) return wb_error_sys(err, "create `%s`", scratch);
    int rc = wb_tar_extract(blob, scratch, NULL, 0, NULL, err);
    if (rc < 0)
        wb_error_wrap(err, "Spin app layer %zu (an archive of files)", index);
    else
        rc = index_files(scratch, sha, 0, err);
    wb_remove_tree(scratch, NULL);
    return rc;
}

/* One content reference of the locked app (a component's source, a file): inline content is
 * written out and replaced by its digest; a digest must name a content the root has. */
static int settle_ref(json_t *ref, const char *content, const char *what, wb_error *err) {
    if (!json_is_object(ref))
        return wb_error_set(err, EINVAL, "spin.json: %s must be an object", what);
    const char *in = json_string_value(json_object_get(ref, "inline"));
    const char *digest = json_string_value(json_object_get(ref, "digest"));
    char path[4200];
    if (in) {
        size_t len;
        uint8_t *data = wb_base64_decode(in, &len);
        if (!data)
            return wb_error_set(err, EINVAL, "spin.json: %s: inline content is not base64", what);
        uint8_t d[WB_SHA256_DIGEST_SIZE];
        char hex[WB_SHA256_HEX_SIZE], full[WB_DIGEST_MAX];
        wb_sha256(data, len, d);
        wb_sha256_hex(d, hex);
        snprintf(full, sizeof full, "sha256:%s", hex);
        int rc = wb_path_join(path, sizeof path, err, "%s/sha256/%s", content, hex);
        if (rc == 0) rc = wb_write_file_atomic(path, data, len, 0644, false, err);
        free(data);
        if (rc < 0) return -1;
        json_object_del(ref, "inline");
        json_object_set_new(ref, "digest", json_string(full));
        return 0;
    }
    if (!digest)
        return wb_error_set(err, EINVAL, "spin.json: %s has neither a digest nor inline content",
                            what);
    if (!wb_digest_valid(digest) || strncmp(digest, "sha256:", 7) != 0)
        return wb_error_set(err, EINVAL, "spin.json: %s: invalid digest %s", what, digest);
    if (wb_path_join(path, sizeof path, err, "%s/sha256/%s", content, wb_digest_hex(digest)) < 0)
        return -1;
    if (access(path, F_OK) != 0)
        return wb_error_set(err, ENOENT, "spin.json: %s: content %s is not in the image", what,
                            digest);
    return 0;
}

/* Every content reference of the locked app, settled. */
static int settle_refs(json_t *app, const char *content, wb_error *err) {
    json_t *components = json_object_get(app, "components");
    if (!json_is_array(components))
        return wb_error_set(err, EINVAL, "spin.json: `components` must be an array");
    size_t i, k;
    json_t *c, *f;
    json_array_foreach(components, i, c) {
        const char *id = json_string_value(json_object_get(c, "id"));
        char what[300];
        snprintf(what, sizeof what, "component `%s`: source", id ? id : "?");
        if (settle_ref(json_object_get(c, "source"), content, what, err) < 0) return -1;
        json_array_foreach(json_object_get(c, "files"), k, f) {
            snprintf(what, sizeof what, "component `%s`: files[%zu]", id ? id : "?", k);
            if (settle_ref(f, content, what, err) < 0) return -1;
        }
    }
    return 0;
}

static int build(wb_images *s, const wb_image *img, const char *tmp, wb_error *err) {
    char content[4200], sha[4300], path[4400], blob[4096];
    if (wb_path_join(content, sizeof content, err, "%s/%s", tmp, WB_SPIN_CONTENT_DIR) < 0 ||
        wb_path_join(sha, sizeof sha, err, "%s/sha256", content) < 0 ||
        wb_mkdir_p(sha, 0755, err) < 0)
        return -1;
    const json_t *descs = json_object_get(img->manifest, "layers");
    const char *locked = img->config_digest; /* older Spin: the locked app is the config */
    for (size_t i = 0; i < img->nlayers; i++) {
        const wb_layer_desc *l = &img->layers[i];
        if (!strcmp(l->media_type, WB_MT_SPIN_CONFIG)) { /* newer Spin: a layer */
            locked = l->digest;
            continue;
        }
        bool wasm = !strcmp(l->media_type, WB_MT_SPIN_WASM);
        bool archive = !strcmp(l->media_type, WB_MT_SPIN_ARCHIVE);
        if (!wasm && !archive && strcmp(l->media_type, WB_MT_SPIN_DATA) != 0)
            return wb_error_set(err, ENOTSUP,
                                "Spin app layer %zu has the type %s, which wasmbox does not "
                                "support (only %s, %s and %s)",
                                i, l->media_type, WB_MT_SPIN_WASM, WB_MT_SPIN_DATA,
                                WB_MT_SPIN_ARCHIVE);
        if (strncmp(l->digest, "sha256:", 7) != 0)
            return wb_error_set(err, EINVAL, "Spin app layer %zu: not a sha256 digest", i);
        if (archive) {
            if (wb_blob_path(s, l->digest, blob, sizeof blob, err) < 0 ||
                unpack_archive(blob, content, sha, i, err) < 0)
                return -1;
            continue;
        }
        const char *empty = json_string_value(json_object_get(
            json_object_get(json_array_get(descs, i), "annotations"), WB_SPIN_EMPTY_ANNOTATION));
        if (wb_blob_path(s, l->digest, blob, sizeof blob, err) < 0 ||
            wb_path_join(path, sizeof path, err, "%s/%s", sha, wb_digest_hex(l->digest)) < 0)
            return -1;
        if (access(path, F_OK) == 0) continue; /* the same content twice */
        if (place_blob(blob, path, !wasm && empty && !strcmp(empty, "true"), err) < 0) return -1;
    }
    uint8_t *data;
    size_t len;
    if (wb_blob_read(s, locked, SPIN_JSON_MAX, &data, &len, err) < 0) return -1;
    json_error_t je;
    json_t *app = json_loadb((const char *)data, len, 0, &je);
    free(data);
    if (!json_is_object(app)) {
        json_decref(app);
        return wb_error_set(err, EINVAL, "spin.json (the artifact's locked app): %s", je.text);
    }
    int rc = settle_refs(app, content, err);
    char *text = rc == 0 ? json_dumps(app, JSON_INDENT(2)) : NULL;
    json_decref(app);
    if (rc == 0 && !text) rc = wb_error_set(err, ENOMEM, "spin.json");
    if (rc == 0 && wb_path_join(path, sizeof path, err, "%s/spin.json", tmp) < 0) rc = -1;
    if (rc == 0) rc = wb_write_file_atomic(path, text, strlen(text), 0644, false, err);
    free(text);
    return rc;
}

int wb_spin_artifact_root(wb_images *s, const wb_image *img, char **path, wb_error *err) {
    char parent[4096], dir[4200], tmp[4300];
    *path = NULL;
    if (wb_path_join(parent, sizeof parent, err, "%s/rootfs", wb_images_dir(s)) < 0 ||
        wb_path_join(dir, sizeof dir, err, "%s/%s", parent, wb_digest_hex(img->config_digest)) <
            0 ||
        wb_path_join(tmp, sizeof tmp, err, "%s/.tmp.%s.%d", parent,
                     wb_digest_hex(img->config_digest), (int)getpid()) < 0)
        return -1;
    if (is_dir(dir)) {
        *path = wb_strdup(dir);
        return 0;
    }
    if (wb_mkdir_p(parent, 0755, err) < 0) return -1;
    wb_remove_tree(tmp, NULL);
    if (mkdir(tmp, 0755) != 0) return wb_error_sys(err, "create `%s`", tmp);
    if (build(s, img, tmp, err) < 0) {
        wb_remove_tree(tmp, NULL);
        return -1;
    }
    if (rename(tmp, dir) != 0) {
        int e = errno;
        wb_remove_tree(tmp, NULL);
        if (e != ENOTEMPTY && e != EEXIST) {
            errno = e;
            return wb_error_sys(err, "rename into `%s`", dir);
        }
    }
    *path = wb_strdup(dir);
    return 0;
}
