/* Layers checked as they stream (see unpack.h). The work is the extractor's (tar.c, with
 * WB_TAR_DIGEST); this file picks the caps, compares the digest with the diff_id and words the
 * errors so that they name the layer and the setting that raises a cap. */
#include "oci/unpack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool wb_parse_size(const char *text, uint64_t *out) {
    if (!text || *text < '0' || *text > '9') return false;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(text, &end, 10);
    if (errno) return false;
    unsigned shift = 0;
    switch (*end) {
    case 'k':
    case 'K': shift = 10; break;
    case 'm':
    case 'M': shift = 20; break;
    case 'g':
    case 'G': shift = 30; break;
    case 't':
    case 'T': shift = 40; break;
    default: break;
    }
    if (shift) {
        end++;
        if (!strcmp(end, "iB") || !strcmp(end, "B")) end += strlen(end);
    } else if (!strcmp(end, "B")) {
        end++;
    }
    if (*end || n == 0 || n > (UINT64_MAX >> shift)) return false;
    *out = (uint64_t)n << shift;
    return true;
}

int wb_layer_limits(wb_tar_limits *lim, wb_error *err) {
    lim->max_bytes = WB_LAYER_DEFAULT_MAX_BYTES;
    lim->max_entries = WB_LAYER_DEFAULT_MAX_ENTRIES;
    const char *v = getenv(WB_LAYER_SIZE_SETTING);
    if (v && *v && !wb_parse_size(v, &lim->max_bytes))
        return wb_error_set(err, EINVAL,
                            "%s=\"%.60s\": expected a size in bytes, or with a K, M, G or T "
                            "suffix (16G)",
                            WB_LAYER_SIZE_SETTING, v);
    v = getenv(WB_LAYER_ENTRIES_SETTING);
    if (v && *v) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(v, &end, 10);
        if (*v < '0' || *v > '9' || *end || errno || n == 0)
            return wb_error_set(err, EINVAL, "%s=\"%.60s\": expected a number of entries",
                                WB_LAYER_ENTRIES_SETTING, v);
        lim->max_entries = n;
    }
    return 0;
}

bool wb_layer_is_tar(const char *mt) {
    return !strncmp(mt, "application/vnd.oci.image.layer.", 32) ||
           !strncmp(mt, "application/vnd.docker.image.rootfs.", 36);
}

/* "… (the limit)" → "… (the limit; set VAR to raise it)" */
static void name_setting(wb_error *err, const char *setting) {
    if (!err) return;
    char *at = strstr(err->msg, "(the limit)");
    if (!at) return;
    char tail[WB_ERROR_MSG_MAX];
    snprintf(tail, sizeof tail, "%s", at + strlen("(the limit)"));
    size_t used = (size_t)(at - err->msg);
    snprintf(at, sizeof err->msg - used, "(the limit; set %s to raise it)%s", setting, tail);
}

/* The extractor names the blob's path, which the layer's digest says already: "read `PATH`: x"
 * becomes "read: x", "`PATH`: x" becomes "x". */
static void drop_name(wb_error *err, const char *name) {
    if (!err) return;
    char quoted[4200];
    snprintf(quoted, sizeof quoted, "`%s`", name);
    char *at = strstr(err->msg, quoted);
    if (!at) return;
    char *from = at, *to = at + strlen(quoted);
    if (from > err->msg && from[-1] == ' ')
        from--;
    else if (!strncmp(to, ": ", 2))
        to += 2;
    memmove(from, to, strlen(to) + 1);
}

void wb_layer_limit_hint(wb_error *err, int over_limit) {
    if (over_limit == WB_TAR_OVER_BYTES) name_setting(err, WB_LAYER_SIZE_SETTING);
    if (over_limit == WB_TAR_OVER_ENTRIES) name_setting(err, WB_LAYER_ENTRIES_SETTING);
}

static int layer_read(wb_images *s, const wb_layer_desc *l, const char *dest,
                      const wb_tar_limits *lim, unsigned whiteouts, wb_error *err) {
    wb_tar_limits own;
    if (!lim) {
        if (wb_layer_limits(&own, err) < 0) return -1;
        lim = &own;
    }
    if (!wb_digest_valid(l->diff_id))
        return wb_error_set(err, EINVAL,
                            "layer %s: the image config gives no valid diff_id for it (\"%.80s\")",
                            l->digest, l->diff_id);
    char blob[4096];
    if (wb_blob_path(s, l->digest, blob, sizeof blob, err) < 0) return -1;
    wb_tar_stats st;
    unsigned flags = whiteouts | WB_TAR_DIGEST;
    int rc = dest ? wb_tar_extract(blob, dest, lim, flags, &st, err)
                  : wb_tar_scan(blob, lim, flags, &st, err);
    if (rc < 0) {
        wb_layer_limit_hint(err, st.over_limit);
        drop_name(err, blob);
        return wb_error_wrap(err, "layer %s", l->digest);
    }
    if (strcmp(st.digest, l->diff_id) != 0)
        return wb_error_set(err, EIO,
                            "layer %s: uncompressed content %s does not match the image config's "
                            "diff_id %s",
                            l->digest, st.digest, l->diff_id);
    return 0;
}

int wb_layer_unpack(wb_images *s, const wb_layer_desc *l, const char *dest,
                    const wb_tar_limits *lim, wb_error *err) {
    return layer_read(s, l, dest, lim, WB_TAR_APPLY_WHITEOUTS, err);
}

int wb_layer_unpack_overlay(wb_images *s, const wb_layer_desc *l, const char *dest,
                            const wb_tar_limits *lim, wb_error *err) {
    return layer_read(s, l, dest, lim, WB_TAR_OVERLAY_WHITEOUTS, err);
}

int wb_image_check_layers(wb_images *s, const wb_image *img, wb_error *err) {
    wb_tar_limits lim;
    if (wb_layer_limits(&lim, err) < 0) return -1;
    for (size_t i = 0; i < img->nlayers; i++) {
        const wb_layer_desc *l = &img->layers[i];
        if (!wb_layer_is_tar(l->media_type)) continue;
        bool seen = false; /* a layer listed twice is checked once */
        for (size_t k = 0; k < i && !seen; k++)
            seen = !strcmp(img->layers[k].digest, l->digest) &&
                   !strcmp(img->layers[k].diff_id, l->diff_id);
        if (!seen && wb_layer_unpack(s, l, NULL, &lim, err) < 0) return -1;
    }
    return 0;
}
