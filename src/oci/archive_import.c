/* `import`: a rootfs tarball becomes a one-layer image. The input (plain or compressed) is
 * decompressed into an unnamed spool file in the store while its diff_id is computed, checked by
 * wb_tar_scan (no whiteouts, no escapes, no duplicates, no device nodes), gzip-compressed into the
 * blob store byte for byte, and committed with a new config (platform, --change instructions,
 * history). The spool vanishes with the process, blobs are committed atomically and the image is
 * registered last, so a killed import leaves nothing half-done. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/alloc.h"
#include "oci/archive_internal.h"
#include "oci/image.h"
#include "oci/unpack.h"

#define DEFAULT_MAX_BYTES ((uint64_t)16 << 30)
#define MAX_CHANGE_LEN    65536
#define GZIP_BLOCK        (256 * 1024)

/* ---- --change ---- */

static const char *skip_space(const char *p) {
    while (*p && isspace((unsigned char)*p)) p++;
    return p;
}

/* One word of a `K=V K2="V 2"` list: quotes and backslashes as a shell would, up to unquoted
 * whitespace. Returns the end, or NULL on an unterminated quote. */
static const char *read_word(const char *p, char *out, size_t size) {
    size_t n = 0;
    char quote = 0;
    for (; *p; p++) {
        char c = *p;
        if (!quote && isspace((unsigned char)c)) break;
        if (!quote && (c == '"' || c == '\'')) {
            quote = c;
            continue;
        }
        if (quote && c == quote) {
            quote = 0;
            continue;
        }
        if (c == '\\' && quote != '\'' && p[1]) c = *++p;
        if (n + 1 < size) out[n++] = c;
    }
    out[n] = '\0';
    return quote ? NULL : p;
}

typedef void (*pair_fn)(json_t *c, const char *key, const char *value);

static void set_env(json_t *c, const char *key, const char *value) {
    json_t *env = json_object_get(c, "Env");
    if (!json_is_array(env)) json_object_set_new(c, "Env", env = json_array());
    size_t klen = strlen(key);
    char *kv = wb_malloc(klen + strlen(value) + 2);
    sprintf(kv, "%s=%s", key, value);
    for (size_t i = 0; i < json_array_size(env); i++) {
        const char *e = json_string_value(json_array_get(env, i));
        if (e && !strncmp(e, key, klen) && e[klen] == '=') {
            json_array_set_new(env, i, json_string(kv));
            free(kv);
            return;
        }
    }
    json_array_append_new(env, json_string(kv));
    free(kv);
}

static void set_label(json_t *c, const char *key, const char *value) {
    json_t *labels = json_object_get(c, "Labels");
    if (!json_is_object(labels)) json_object_set_new(c, "Labels", labels = json_object());
    json_object_set_new(labels, key, json_string(value));
}

/* `K=V …`, or the legacy `K V` (the rest of the line is the value). */
static int apply_pairs(json_t *c, const char *what, const char *rest, pair_fn fn, wb_error *err) {
    const char *first_space = rest;
    while (*first_space && !isspace((unsigned char)*first_space)) first_space++;
    const char *eq = memchr(rest, '=', (size_t)(first_space - rest));
    size_t len = strlen(rest);
    char *word = wb_malloc(len + 1);
    int rc = 0;
    if (!eq) {
        char *key = wb_strndup(rest, (size_t)(first_space - rest));
        const char *value = skip_space(first_space);
        if (!*value)
            rc = wb_error_set(err, EINVAL, "%s %s: missing value", what, key);
        else
            fn(c, key, value);
        free(key);
        free(word);
        return rc;
    }
    for (const char *p = skip_space(rest); *p; p = skip_space(p)) {
        p = read_word(p, word, len + 1);
        if (!p) {
            rc = wb_error_set(err, EINVAL, "%s: unterminated quote", what);
            break;
        }
        char *sep = strchr(word, '=');
        if (!sep || sep == word) {
            rc = wb_error_set(err, EINVAL,
                              "%s: syntax error - can't find = in \"%s\". Must be of the form: "
                              "name=value",
                              what, word);
            break;
        }
        *sep = '\0';
        fn(c, word, sep + 1);
    }
    free(word);
    return rc;
}

/* Exec form (a JSON array of strings) or shell form (wrapped in /bin/sh -c, as docker does). */
static json_t *parse_command(const char *rest) {
    if (rest[0] == '[') {
        json_t *a = json_loads(rest, 0, NULL);
        bool ok = json_is_array(a);
        for (size_t i = 0; ok && i < json_array_size(a); i++)
            ok = json_is_string(json_array_get(a, i));
        if (ok) return a;
        json_decref(a);
    }
    return json_pack("[s, s, s]", "/bin/sh", "-c", rest);
}

static int apply_words(json_t *c, const char *key, const char *rest, bool ports, wb_error *err) {
    json_t *set = json_object_get(c, key);
    if (!json_is_object(set)) json_object_set_new(c, key, set = json_object());
    json_t *list = rest[0] == '[' ? json_loads(rest, 0, NULL) : NULL;
    size_t len = strlen(rest);
    char *word = wb_malloc(len + 16);
    int rc = 0;
    const char *p = skip_space(rest);
    for (size_t i = 0;; i++) {
        if (json_is_array(list)) {
            if (i >= json_array_size(list)) break;
            const char *s = json_string_value(json_array_get(list, i));
            if (!s) {
                rc = wb_error_set(err, EINVAL, "VOLUME: the list must hold strings");
                break;
            }
            snprintf(word, len + 16, "%s", s);
        } else {
            if (!*p) break;
            p = read_word(p, word, len + 1);
            if (!p) {
                rc = wb_error_set(err, EINVAL, "unterminated quote");
                break;
            }
            p = skip_space(p);
        }
        if (ports) {
            char *end;
            unsigned long port = strtoul(word, &end, 10);
            if (end == word || port > 65535 ||
                (*end && strcmp(end, "/tcp") && strcmp(end, "/udp") && strcmp(end, "/sctp"))) {
                rc = wb_error_set(err, EINVAL, "EXPOSE: invalid port \"%s\"", word);
                break;
            }
            if (!*end) strcat(word, "/tcp");
        }
        json_object_set_new(set, word, json_object());
    }
    json_decref(list);
    free(word);
    return rc;
}

int wb_import_apply_change(json_t *config, const char *change, wb_error *err) {
    if (!change || strlen(change) > MAX_CHANGE_LEN)
        return wb_error_set(err, EINVAL, "a --change instruction is too long");
    json_t *c = json_object_get(config, "config");
    if (!json_is_object(c)) json_object_set_new(config, "config", c = json_object());
    const char *p = skip_space(change);
    const char *kw_end = p;
    while (*kw_end && !isspace((unsigned char)*kw_end)) kw_end++;
    char kw[16];
    size_t kwlen = (size_t)(kw_end - p);
    if (kwlen == 0 || kwlen >= sizeof kw)
        return wb_error_set(err, EINVAL, "%.40s is not a valid change command", p);
    memcpy(kw, p, kwlen);
    kw[kwlen] = '\0';
    char *rest = wb_strdup(skip_space(kw_end));
    for (size_t n = strlen(rest); n && isspace((unsigned char)rest[n - 1]);) rest[--n] = '\0';
    int rc = 0;
    if (!*rest) {
        rc = wb_error_set(err, EINVAL, "%s requires at least one argument", kw);
    } else if (!strcasecmp(kw, "ENTRYPOINT") || !strcasecmp(kw, "CMD")) {
        json_object_set_new(c, !strcasecmp(kw, "CMD") ? "Cmd" : "Entrypoint", parse_command(rest));
    } else if (!strcasecmp(kw, "ENV")) {
        rc = apply_pairs(c, "ENV", rest, set_env, err);
    } else if (!strcasecmp(kw, "LABEL")) {
        rc = apply_pairs(c, "LABEL", rest, set_label, err);
    } else if (!strcasecmp(kw, "WORKDIR")) {
        const char *cur = json_string_value(json_object_get(c, "WorkingDir"));
        char *wd = wb_malloc(strlen(rest) + (cur ? strlen(cur) : 0) + 3);
        if (rest[0] == '/')
            strcpy(wd, rest);
        else
            sprintf(wd, "%s/%s", cur && *cur ? (strcmp(cur, "/") ? cur : "") : "", rest);
        json_object_set_new(c, "WorkingDir", json_string(wd));
        free(wd);
    } else if (!strcasecmp(kw, "USER")) {
        json_object_set_new(c, "User", json_string(rest));
    } else if (!strcasecmp(kw, "STOPSIGNAL")) {
        json_object_set_new(c, "StopSignal", json_string(rest));
    } else if (!strcasecmp(kw, "EXPOSE")) {
        rc = apply_words(c, "ExposedPorts", rest, true, err);
    } else if (!strcasecmp(kw, "VOLUME")) {
        rc = apply_words(c, "Volumes", rest, false, err);
    } else {
        rc = wb_error_set(err, EINVAL, "%s is not a valid change command", kw);
    }
    free(rest);
    return rc;
}

/* ---- the layer ---- */

typedef struct spool {
    int fd;
    wb_hasher *h;
    uint64_t size;
} spool;

static int to_spool(void *ctx, const void *data, size_t len, wb_error *err) {
    spool *sp = ctx;
    wb_hasher_update(sp->h, data, len);
    sp->size += len;
    /* zeros are left as holes (the length is set at the end): a bomb of zeros takes no disk */
    const uint8_t *p = data;
    if (len && p[0] == 0 && !memcmp(p, p + 1, len - 1)) {
        if (lseek(sp->fd, (off_t)len, SEEK_CUR) < 0) return wb_error_sys(err, "seek the spool");
        return 0;
    }
    return wb__write_all(sp->fd, data, len, err);
}

typedef struct gzip_out {
    wb_blob_writer *w;
    wb_error *err;
    bool failed;
} gzip_out;

static la_ssize_t gzip_write(struct archive *a, void *ctx, const void *buf, size_t len) {
    (void)a;
    gzip_out *g = ctx;
    if (wb_blob_writer_write(g->w, buf, len, g->err) < 0) {
        g->failed = true;
        return -1;
    }
    return (la_ssize_t)len;
}

/* Compress the spool (len bytes) into a new blob: gzip without a timestamp, so the same tarball
 * gives the same layer. */
static int compress_layer(wb_images *s, int fd, uint64_t len, wb_layer_desc *desc,
                          const wb_archive_progress *progress, wb_error *err) {
    const wb_libarchive *ar = wb_libarchive_get(err);
    if (!ar) return -1;
    if (lseek(fd, 0, SEEK_SET) != 0) return wb_error_sys(err, "rewind the spooled tarball");
    gzip_out g = {.err = err};
    if (wb_blob_writer_open(s, NULL, -1, &g.w, err) < 0) return -1;
    struct archive *a = ar->archive_write_new();
    struct archive_entry *e = ar->archive_entry_new();
    uint8_t *buf = wb_malloc(GZIP_BLOCK);
    int rc = -1;
    if (!a || !e) {
        wb_error_set(err, ENOMEM, "libarchive: cannot create a writer");
        goto out;
    }
    ar->archive_entry_set_pathname(e, "layer.tar");
    ar->archive_entry_set_filetype(e, AE_IFREG);
    ar->archive_entry_set_size(e, (la_int64_t)len);
    if (ar->archive_write_set_format_raw(a) != ARCHIVE_OK ||
        ar->archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
        ar->archive_write_set_options(a, "gzip:!timestamp") < ARCHIVE_WARN ||
        ar->archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        ar->archive_write_open(a, &g, NULL, gzip_write, NULL) != ARCHIVE_OK ||
        ar->archive_write_header(a, e) != ARCHIVE_OK)
        goto lib_error;
    for (uint64_t left = len; left;) {
        ssize_t n = read(fd, buf, left < GZIP_BLOCK ? (size_t)left : GZIP_BLOCK);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            wb_error_sys(err, "read the spooled tarball");
            goto out;
        }
        if (ar->archive_write_data(a, buf, (size_t)n) != n) goto lib_error;
        left -= (uint64_t)n;
    }
    if (ar->archive_write_finish_entry(a) != ARCHIVE_OK || ar->archive_write_close(a) != ARCHIVE_OK)
        goto lib_error;
    desc->size = wb_blob_writer_size(g.w);
    rc = wb_blob_writer_commit(g.w, desc->digest, err);
    g.w = NULL;
    if (rc == 0 && progress && progress->fn)
        progress->fn(progress->ctx, "Importing", desc->digest, desc->size);
    goto out;
lib_error:
    if (!g.failed)
        wb_error_set(err, EIO, "compress the layer: %s",
                     a ? ar->archive_error_string(a) : "libarchive error");
out:
    free(buf);
    if (e) ar->archive_entry_free(e);
    if (a) ar->archive_write_free(a);
    if (g.w) wb_blob_writer_abort(g.w);
    return rc;
}

/* ---- entry point ---- */

static json_t *import_config(const wb_import_opts *o, const char *name, const char *diff_id,
                             wb_error *err) {
    json_t *config = wb_config_new(o->os ? o->os : "wasi", o->arch ? o->arch : "wasm");
    if (o->variant && *o->variant) json_object_set_new(config, "variant", json_string(o->variant));
    json_array_append_new(json_object_get(json_object_get(config, "rootfs"), "diff_ids"),
                          json_string(diff_id));
    char comment[512];
    if (o->message)
        snprintf(comment, sizeof comment, "%s", o->message);
    else
        snprintf(comment, sizeof comment, "Imported from %s", name);
    json_array_append_new(
        json_object_get(config, "history"),
        json_pack("{s:O, s:s}", "created", json_object_get(config, "created"), "comment", comment));
    for (size_t i = 0; i < o->nchanges; i++) {
        if (wb_import_apply_change(config, o->changes[i], err) < 0) {
            json_decref(config);
            return NULL;
        }
    }
    return config;
}

int wb_archive_import(wb_images *s, const char *path, int fd, const char *name,
                      const wb_import_opts *o, char image_id[WB_DIGEST_MAX], wb_error *err) {
    if (!name) name = path ? path : "-";
    uint64_t max = o->lim.max_bytes ? o->lim.max_bytes : DEFAULT_MAX_BYTES;
    /* the tarball becomes a layer: the layer caps hold too, or it could never be unpacked */
    wb_tar_limits layer_lim;
    if (wb_layer_limits(&layer_lim, err) < 0) return -1;
    bool layer_cap = layer_lim.max_bytes < max;
    if (layer_cap) max = layer_lim.max_bytes;
    /* check the changes before reading anything */
    json_t *config = import_config(o, name, "sha256:0", err);
    if (!config) return -1;
    json_decref(config);
    config = NULL;

    int in = path ? open(path, O_RDONLY | O_CLOEXEC) : fd;
    if (in < 0) return wb_error_sys(err, "open `%s`", path);
    spool sp = {.fd = wb__scratch_file(s, err)};
    int rc = -1;
    if (sp.fd < 0 || !(sp.h = wb_hasher_new(err))) goto out;
    rc = wb__decompress(in, name, max, to_spool, &sp, err);
    if (rc < 0 && layer_cap && err && err->code == EFBIG)
        wb_layer_limit_hint(err, WB_TAR_OVER_BYTES);
    char diff_id[WB_DIGEST_MAX];
    wb_hasher_final(sp.h, diff_id);
    sp.h = NULL;
    if (rc == 0 && ftruncate(sp.fd, (off_t)sp.size) != 0)
        rc = wb_error_sys(err, "spool `%s`", name);
    if (rc < 0) goto out;
    rc = -1;
    if (sp.size == 0) {
        wb_error_set(err, EINVAL, "`%s` is empty (not a tar archive)", name);
        goto out;
    }
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", sp.fd);
    wb_tar_stats stats;
    wb_tar_limits lim = o->lim;
    lim.max_bytes = max;
    bool entries_cap = !lim.max_entries || layer_lim.max_entries < lim.max_entries;
    if (entries_cap) lim.max_entries = layer_lim.max_entries;
    if (wb_tar_scan(proc, &lim, WB_TAR_REFUSE_WHITEOUTS | WB_TAR_REFUSE_DUPLICATES, &stats, err) <
        0) {
        if ((stats.over_limit == WB_TAR_OVER_BYTES && layer_cap) ||
            (stats.over_limit == WB_TAR_OVER_ENTRIES && entries_cap))
            wb_layer_limit_hint(err, stats.over_limit);
        char why[WB_ERROR_MSG_MAX];
        snprintf(why, sizeof why, "%s", err ? err->msg : "");
        /* the message names /proc/self/fd/N: name the input instead */
        const char *tail = strstr(why, proc);
        if (tail) wb_error_set(err, err->code, "read `%s`%s", name, tail + strlen(proc) + 1);
        wb_error_wrap(err, "import `%s`", name);
        goto out;
    }
    wb_layer_desc layer = {.media_type = WB_MT_OCI_LAYER_GZIP};
    snprintf(layer.diff_id, sizeof layer.diff_id, "%s", diff_id);
    if (compress_layer(s, sp.fd, sp.size, &layer, o->progress, err) < 0) goto out;
    config = import_config(o, name, diff_id, err);
    char manifest[WB_DIGEST_MAX];
    if (!config || wb_image_commit(s, config, &layer, 1, o->tags, o->ntags, manifest, err) < 0)
        goto out;
    wb_image *img;
    if (wb_image_load(s, manifest, &img, err) < 0) goto out;
    snprintf(image_id, WB_DIGEST_MAX, "%s", img->config_digest);
    wb_image_free(img);
    rc = 0;
out:
    json_decref(config);
    if (sp.h) wb_hasher_free(sp.h);
    if (sp.fd >= 0) close(sp.fd);
    if (path) close(in);
    return rc;
}
