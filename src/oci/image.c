/* Images as documents: manifests, indexes and configs (jansson), writing new images, platform
 * choice, Wasm detection, and the unpacked rootfs cache. */
#include "oci/build_root.h"
#include "oci/platform.h"
#include "oci/image.h"
#include "oci/layers.h"
#include "oci/spin_artifact.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/timeutil.h"
#include "base/alloc.h"
#include "base/fsutil.h"
#include "oci/tar.h"
#include "oci/unpack.h"

/* ---- documents ---- */

static bool has_media_type(const char *mt, const char *a, const char *b) {
    return mt && ((a && !strcmp(mt, a)) || (b && !strcmp(mt, b)));
}

static int check_descriptor(const json_t *d, const char *what, wb_error *err) {
    const char *digest = json_string_value(json_object_get(d, "digest"));
    json_t *size = json_object_get(d, "size");
    if (!json_is_object(d) || !wb_digest_valid(digest) || !json_is_integer(size) ||
        json_integer_value(size) < 0)
        return wb_error_set(err, EINVAL, "invalid %s descriptor (digest and size required)", what);
    return 0;
}

int wb_manifest_parse(const uint8_t *data, size_t len, const char *content_type, json_t **out,
                      wb_error *err) {
    *out = NULL;
    if (len > WB_MAX_MANIFEST_BYTES)
        return wb_error_set(err, EFBIG, "manifest of %zu bytes is over the %zu-byte limit", len,
                            WB_MAX_MANIFEST_BYTES);
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc || !json_is_object(doc)) {
        json_decref(doc);
        return wb_error_set(err, EINVAL, "invalid manifest: %s",
                            doc ? "not a JSON object" : jerr.text);
    }
    const char *mt = json_string_value(json_object_get(doc, "mediaType"));
    json_t *manifests = json_object_get(doc, "manifests");
    json_t *layers = json_object_get(doc, "layers");
    int rc = -1;
    if (manifests && layers) {
        wb_error_set(err, EINVAL, "invalid manifest: it has both `manifests` and `layers`");
        goto out;
    }
    if (content_type && mt && strcmp(content_type, mt) != 0) {
        wb_error_set(err, EINVAL,
                     "manifest media type \"%s\" does not match its content type \"%s\"", mt,
                     content_type);
        goto out;
    }
    if (!mt) mt = content_type;
    bool is_index = manifests != NULL;
    if (is_index) {
        if (mt && !has_media_type(mt, WB_MT_OCI_INDEX, WB_MT_DOCKER_LIST)) {
            wb_error_set(err, EINVAL, "an index with media type \"%s\"", mt);
            goto out;
        }
        if (!json_is_array(manifests)) {
            wb_error_set(err, EINVAL, "invalid index: `manifests` is not an array");
            goto out;
        }
        for (size_t i = 0; i < json_array_size(manifests); i++)
            if (check_descriptor(json_array_get(manifests, i), "manifest", err) < 0) goto out;
    } else {
        if (mt && !has_media_type(mt, WB_MT_OCI_MANIFEST, WB_MT_DOCKER_MANIFEST)) {
            wb_error_set(err, EINVAL, "a manifest with media type \"%s\"", mt);
            goto out;
        }
        if (check_descriptor(json_object_get(doc, "config"), "config", err) < 0) goto out;
        if (layers && !json_is_array(layers)) {
            wb_error_set(err, EINVAL, "invalid manifest: `layers` is not an array");
            goto out;
        }
        if (json_array_size(layers) > WB_MAX_LAYERS) {
            wb_error_set(err, EINVAL, "manifest has %zu layers (limit %d)", json_array_size(layers),
                         WB_MAX_LAYERS);
            goto out;
        }
        for (size_t i = 0; i < json_array_size(layers); i++)
            if (check_descriptor(json_array_get(layers, i), "layer", err) < 0) goto out;
    }
    *out = doc;
    doc = NULL;
    rc = 0;
out:
    json_decref(doc);
    return rc;
}

bool wb_manifest_is_index(const json_t *doc) {
    return json_object_get(doc, "manifests") != NULL;
}

int wb_index_select(const json_t *index, const char *os, const char *arch,
                    char digest[WB_DIGEST_MAX], wb_error *err) {
    json_t *manifests = json_object_get(index, "manifests");
    char present[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < json_array_size(manifests); i++) {
        json_t *m = json_array_get(manifests, i);
        json_t *p = json_object_get(m, "platform");
        const char *mos = json_string_value(json_object_get(p, "os"));
        const char *march = json_string_value(json_object_get(p, "architecture"));
        if (!mos || !march) continue;
        if (!strcmp(mos, "unknown") && !strcmp(march, "unknown")) continue; /* attestations */
        if (wb_platform_matches(os, arch, mos, march)) {
            snprintf(digest, WB_DIGEST_MAX, "%s", json_string_value(json_object_get(m, "digest")));
            return 0;
        }
        if (used < sizeof present - 40)
            used += (size_t)snprintf(present + used, sizeof present - used, "%s%s/%s",
                                     used ? ", " : "", mos, march);
    }
    return wb_error_set(err, ENOENT,
                        "no matching manifest for %s/%s in the manifest list entries "
                        "(present: %s)",
                        os, arch, used ? present : "none");
}

/* ---- new images ---- */

json_t *wb_config_new(const char *os, const char *arch) {
    char created[64];
    wb_time_now(created, sizeof created);
    return json_pack("{s:s, s:s, s:s, s:{}, s:{s:s, s:[]}, s:[]}", "architecture", arch, "os", os,
                     "created", created, "config", "rootfs", "type", "layers", "diff_ids",
                     "history");
}

int wb_image_commit(wb_images *s, json_t *config, const wb_layer_desc *layers, size_t nlayers,
                    const char *const *tags, size_t ntags, char manifest_digest[WB_DIGEST_MAX],
                    wb_error *err) {
    char config_digest[WB_DIGEST_MAX];
    char *text = json_dumps(config, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text) return wb_error_set(err, ENOMEM, "serialise the image config");
    size_t config_len = strlen(text);
    int rc = wb_blob_put(s, text, config_len, config_digest, err);
    free(text);
    if (rc < 0) return -1;
    json_t *ls = json_array();
    for (size_t i = 0; i < nlayers; i++)
        json_array_append_new(ls, json_pack("{s:s, s:s, s:I}", "mediaType", layers[i].media_type,
                                            "digest", layers[i].digest, "size",
                                            (json_int_t)layers[i].size));
    json_t *m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
                          WB_MT_OCI_MANIFEST, "config", "mediaType", WB_MT_OCI_CONFIG, "digest",
                          config_digest, "size", (json_int_t)config_len, "layers", ls);
    text = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(m);
    if (!text) return wb_error_set(err, ENOMEM, "serialise the image manifest");
    rc = wb_blob_put(s, text, strlen(text), manifest_digest, err);
    free(text);
    if (rc < 0) return -1;
    return wb_images_add(s, manifest_digest, tags, ntags, NULL, err);
}

/* ---- loading ---- */

static char **string_array(const json_t *a, size_t *n) {
    *n = 0;
    if (!json_is_array(a)) return NULL;
    char **v = wb_calloc(json_array_size(a) + 1, sizeof *v);
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (s) v[(*n)++] = wb_strdup(s);
    }
    return v;
}

static void free_strings(char **v, size_t n) {
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

void wb_image_free(wb_image *img) {
    if (!img) return;
    free(img->layers);
    free_strings(img->entrypoint, img->nentrypoint);
    free_strings(img->cmd, img->ncmd);
    free_strings(img->env, img->nenv);
    free(img->workdir);
    free(img->user);
    json_decref(img->manifest);
    json_decref(img->config);
    free(img);
}

static wb_wasm_kind classify(const wb_image *img) {
    if (!strcmp(img->config_media_type, WB_MT_SPIN_CONFIG)) return WB_WASM_SPIN;
    for (size_t i = 0; i < img->nlayers; i++) /* newer Spin: the locked app is a layer */
        if (!strcmp(img->layers[i].media_type, WB_MT_SPIN_CONFIG)) return WB_WASM_SPIN;
    if (!strcmp(img->config_media_type, WB_MT_WASM_CONFIG)) return WB_WASM_ARTIFACT;
    for (size_t i = 0; i < img->nlayers; i++) {
        if (!strcmp(img->layers[i].media_type, WB_MT_WASM_LAYER)) return WB_WASM_ARTIFACT;
        if (!strcmp(img->layers[i].media_type, WB_MT_RUNWASI_COMPONENT) ||
            !strcmp(img->layers[i].media_type, WB_MT_RUNWASI_MODULE))
            return WB_WASM_RUNWASI;
    }
    if (!strcmp(img->os, "wasi") && (!strcmp(img->arch, "wasm") || !strcmp(img->arch, "wasm32")))
        return WB_WASM_PLATFORM;
    const char *variant = json_string_value(json_object_get(
        json_object_get(img->manifest, "annotations"), "module.wasm.image/variant"));
    const char *cvariant = json_string_value(
        json_object_get(json_object_get(json_object_get(img->config, "config"), "Labels"),
                        "module.wasm.image/variant"));
    if ((variant && !strcmp(variant, "compat")) || (cvariant && !strcmp(cvariant, "compat")))
        return WB_WASM_COMPAT;
    return WB_WASM_NOT;
}

int wb_image_load(wb_images *s, const char *manifest_digest, wb_image **out, wb_error *err) {
    uint8_t *data;
    size_t len;
    *out = NULL;
    if (wb_blob_read(s, manifest_digest, WB_MAX_MANIFEST_BYTES, &data, &len, err) < 0) return -1;
    wb_image *img = wb_calloc(1, sizeof *img);
    int rc = wb_manifest_parse(data, len, NULL, &img->manifest, err);
    free(data);
    if (rc < 0) goto fail;
    if (wb_manifest_is_index(img->manifest)) {
        wb_error_set(err, EINVAL, "%s is an index, not an image manifest", manifest_digest);
        goto fail;
    }
    snprintf(img->manifest_digest, sizeof img->manifest_digest, "%s", manifest_digest);
    json_t *cd = json_object_get(img->manifest, "config");
    snprintf(img->config_digest, sizeof img->config_digest, "%s",
             json_string_value(json_object_get(cd, "digest")));
    snprintf(img->config_media_type, sizeof img->config_media_type, "%s",
             json_string_value(json_object_get(cd, "mediaType")) ?: "");
    json_t *layers = json_object_get(img->manifest, "layers");
    img->nlayers = json_array_size(layers);
    img->layers = wb_calloc(img->nlayers + 1, sizeof *img->layers);
    for (size_t i = 0; i < img->nlayers; i++) {
        json_t *l = json_array_get(layers, i);
        wb_layer_desc *d = &img->layers[i];
        snprintf(d->media_type, sizeof d->media_type, "%s",
                 json_string_value(json_object_get(l, "mediaType")) ?: "");
        snprintf(d->digest, sizeof d->digest, "%s",
                 json_string_value(json_object_get(l, "digest")));
        d->size = (uint64_t)json_integer_value(json_object_get(l, "size"));
    }
    if (wb_blob_read(s, img->config_digest, WB_MAX_CONFIG_BYTES, &data, &len, err) < 0) goto fail;
    json_error_t jerr;
    img->config = json_loadb((const char *)data, len, 0, &jerr);
    free(data);
    if (!json_is_object(img->config)) {
        wb_error_set(err, EINVAL, "invalid image config %s: %s", img->config_digest, jerr.text);
        goto fail;
    }
    snprintf(img->os, sizeof img->os, "%s",
             json_string_value(json_object_get(img->config, "os")) ?: "");
    snprintf(img->arch, sizeof img->arch, "%s",
             json_string_value(json_object_get(img->config, "architecture")) ?: "");
    snprintf(img->variant, sizeof img->variant, "%s",
             json_string_value(json_object_get(img->config, "variant")) ?: "");
    json_t *diff_ids = json_object_get(json_object_get(img->config, "rootfs"), "diff_ids");
    for (size_t i = 0; i < img->nlayers && i < json_array_size(diff_ids); i++)
        snprintf(img->layers[i].diff_id, sizeof img->layers[i].diff_id, "%s",
                 json_string_value(json_array_get(diff_ids, i)) ?: "");
    json_t *c = json_object_get(img->config, "config");
    img->entrypoint = string_array(json_object_get(c, "Entrypoint"), &img->nentrypoint);
    img->cmd = string_array(json_object_get(c, "Cmd"), &img->ncmd);
    img->env = string_array(json_object_get(c, "Env"), &img->nenv);
    const char *wd = json_string_value(json_object_get(c, "WorkingDir"));
    img->workdir = wd && *wd ? wb_strdup(wd) : NULL;
    const char *user = json_string_value(json_object_get(c, "User"));
    img->user = user && *user ? wb_strdup(user) : NULL;
    img->wasm = classify(img);
    *out = img;
    return 0;
fail:
    wb_image_free(img);
    return -1;
}

/* ---- the rootfs cache ---- */

/* The image's unpacked rootfs, ROOT/images/rootfs/<config hex>, into dir: 1 when it exists, 0
 * when not, -1 with err when the path is too long. */
static int rootfs_dir(wb_images *s, const wb_image *img, char dir[4096], wb_error *err) {
    struct stat st;
    if (wb_path_join(dir, 4096, err, "%s/rootfs/%s", wb_images_dir(s),
                     wb_digest_hex(img->config_digest)) < 0)
        return -1;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

bool wb_image_rootfs_needs_unpack(wb_images *s, const wb_image *img) {
    bool tars = false;
    for (size_t i = 0; i < img->nlayers; i++)
        tars = tars || wb_layer_is_tar(img->layers[i].media_type);
    char dir[4096];
    return tars && rootfs_dir(s, img, dir, NULL) != 1;
}

int wb_image_rootfs(wb_images *s, const wb_image *img, char **path, wb_error *err) {
    char dir[4096], tmp[4200];
    *path = NULL;
    int have = rootfs_dir(s, img, dir, err);
    if (have < 0) return -1;
    if (have) {
        *path = wb_strdup(dir);
        return 0;
    }
    /* unpack aside, then rename into place: a killed unpack leaves only a .tmp directory */
    char parent[4096];
    if (wb_path_join(parent, sizeof parent, err, "%s/rootfs", wb_images_dir(s)) < 0 ||
        wb_mkdir_p(parent, 0755, err) < 0 ||
        wb_path_join(tmp, sizeof tmp, err, "%s/.tmp.%s.%d", parent,
                     wb_digest_hex(img->config_digest), (int)getpid()) < 0)
        return -1;
    wb_remove_tree(tmp, NULL);
    wb_tar_limits lim;
    if (wb_layer_limits(&lim, err) < 0) return -1;
    if (mkdir(tmp, 0755) != 0) return wb_error_sys(err, "create `%s`", tmp);
    /* as root, the files get the owners and setuid/setgid bits of their layers (the unpacker
     * makes root's files without them): a Linux container's users need them (a database's data
     * directory, su) */
    bool owners = geteuid() == 0;
    for (size_t i = 0; i < img->nlayers; i++) {
        const wb_layer_desc *l = &img->layers[i];
        if (!wb_layer_is_tar(l->media_type)) continue;
        /* checked against its diff_id and the caps as it streams (unpack.h) */
        if (wb_layer_unpack(s, l, tmp, &lim, err) < 0) goto fail;
        char blob[4096];
        if (owners && (wb_blob_path(s, l->digest, blob, sizeof blob, err) < 0 ||
                       wb__root_apply_owners(blob, tmp, err) < 0))
            goto fail;
    }
    if (rename(tmp, dir) != 0) {
        if (errno == ENOTEMPTY || errno == EEXIST) { /* another process got there first */
            wb_remove_tree(tmp, NULL);
            *path = wb_strdup(dir);
            return 0;
        }
        wb_error_sys(err, "rename `%s`", tmp);
        goto fail;
    }
    *path = wb_strdup(dir);
    return 0;
fail:
    wb_remove_tree(tmp, NULL);
    return -1;
}

/* ---- the Wasm module ---- */

int wb_image_wasm_open(wb_images *s, wb_image *img, wb_error *err) {
    if (img->wasm == WB_WASM_ARTIFACT || img->wasm == WB_WASM_RUNWASI) {
        for (size_t i = 0; i < img->nlayers; i++) {
            const char *mt = img->layers[i].media_type;
            if (!strcmp(mt, WB_MT_WASM_LAYER) || !strcmp(mt, WB_MT_RUNWASI_MODULE) ||
                !strcmp(mt, WB_MT_RUNWASI_COMPONENT)) {
                char blob[4096];
                if (wb_blob_path(s, img->layers[i].digest, blob, sizeof blob, err) < 0) return -1;
                int fd = open(blob, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0) return wb_error_sys(err, "open `%s`", blob);
                return fd;
            }
        }
        return wb_error_set(err, ENOENT, "the image has no Wasm layer");
    }
    const char *entry = img->nentrypoint ? img->entrypoint[0] : img->ncmd ? img->cmd[0] : NULL;
    if (!entry)
        return wb_error_set(err, EINVAL,
                            "no command specified: the image has no ENTRYPOINT or CMD");
    if (strstr(entry, ".."))
        return wb_error_set(err, EACCES, "exec %s: the entrypoint may not contain `..`", entry);
    /* a path in the image, absolute or relative to its working directory, resolved inside the
     * image's files (never out of them) */
    char full[4096];
    const char *wd = img->workdir ? img->workdir : "/";
    if (wb_path_join(full, sizeof full, err, "%s%s%s", entry[0] == '/' ? "" : wd,
                     entry[0] == '/' ? "" : "/", entry) < 0)
        return -1;
    wb_lowers l;
    if (wb_image_lowers(s, img, &l, err) < 0) return -1;
    int fd = wb_lowers_open(&l, full, O_RDONLY);
    wb_lowers_free(&l);
    if (fd < 0)
        return wb_error_set(err, ENOENT, "exec: \"%s\": stat %s: no such file or directory", entry,
                            entry);
    char magic[4];
    if (pread(fd, magic, 4, 0) != 4 || memcmp(magic, "\0asm", 4) != 0) {
        close(fd);
        return wb_error_set(err, ENOEXEC, "exec %s: exec format error (not a WebAssembly module)",
                            entry);
    }
    if (img->wasm == WB_WASM_NOT) img->wasm = WB_WASM_MAGIC;
    return fd;
}
