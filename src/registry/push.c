/* Pushing: each blob the registry lacks (HEAD first; mounted from another repository of the same
 * registry when the image came from one; uploaded in one PUT or in PATCH chunks), then the
 * manifest. Output as Docker's `push`. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "oci/image.h"
#include "oci/reference.h"
#include "registry/client.h"

#define DEFAULT_CHUNK ((uint64_t)16 << 20)

typedef struct push_ctx {
    wb_images *s;
    const wb_registry_opts *o;
    wb__reg_client *c;
    wb__progress *p;
    char **mount_from; /* other repositories of this registry the image came from */
    size_t nmount;
} push_ctx;

typedef struct blob {
    char digest[WB_DIGEST_MAX];
    uint64_t size;
    int row;
    uint64_t base; /* bytes sent before the current request (chunks) */
} blob;

static void on_sent(void *ctx, uint64_t sent);

typedef struct sent_ctx {
    push_ctx *x;
    blob *b;
} sent_ctx;

static void on_sent(void *ctx, uint64_t sent) {
    sent_ctx *s = ctx;
    wb__progress_set(s->x->p, s->b->row, "Pushing", s->b->base + sent, s->b->size);
}

/* Append `digest=` to an upload URL. */
static void with_digest(const char *location, const char *digest, char *buf, size_t size) {
    snprintf(buf, size, "%s%cdigest=sha256%%3A%s", location, strchr(location, '?') ? '&' : '?',
             wb_digest_hex(digest));
}

static int need_location(push_ctx *x, const wb__reg_resp *r, const char *what, wb_error *err) {
    if (!r->location[0])
        return wb_error_set(err, WB_REG_EPROTOCOL, "%s: the registry gave no upload location",
                            what);
    (void)x;
    return 0;
}

/* 0 uploaded, -1 failed. `location` is an upload session the registry opened. */
static int upload(push_ctx *x, blob *b, char *location, size_t locsize, wb_error *err) {
    char path[4096], what[128], url[8192];
    snprintf(what, sizeof what, "upload %s", b->digest);
    if (wb_blob_path(x->s, b->digest, path, sizeof path, err) < 0) return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return wb_error_sys(err, "open blob `%s`", path);
    uint64_t chunk = x->o->chunk_size ? x->o->chunk_size : DEFAULT_CHUNK;
    sent_ctx sc = {.x = x, .b = b};
    wb__reg_resp r = {0};
    int rc = -1;
    b->base = 0;
    if (b->size <= chunk) {
        /* monolithic: the whole blob in the PUT that closes the session */
        wb__reg_body body = {
            .fd = fd, .offset = 0, .size = b->size, .progress = on_sent, .ctx = &sc};
        with_digest(location, b->digest, url, sizeof url);
        if (wb__reg_request(x->c, "PUT", url, NULL, &body, WB__REG_ERROR_BODY_MAX, &r, err) < 0)
            goto out;
    } else {
        /* chunked: PATCH each range (the registry hands a new location each time), PUT to close */
        for (uint64_t off = 0; off < b->size; off += chunk) {
            uint64_t len = b->size - off < chunk ? b->size - off : chunk;
            char range[80];
            snprintf(range, sizeof range, "Content-Range: %llu-%llu", (unsigned long long)off,
                     (unsigned long long)(off + len - 1));
            const char *hdrs[] = {range, NULL};
            wb__reg_body body = {
                .fd = fd, .offset = off, .size = len, .progress = on_sent, .ctx = &sc};
            b->base = off;
            if (wb__reg_request(x->c, "PATCH", location, hdrs, &body, WB__REG_ERROR_BODY_MAX, &r,
                                err) < 0)
                goto out;
            if (r.status != 202) {
                wb__reg_fail(x->c, &r, what, err);
                goto out;
            }
            if (need_location(x, &r, what, err) < 0) goto out;
            wb__reg_url(x->c, r.location, location, locsize);
            wb__reg_resp_release(&r);
        }
        with_digest(location, b->digest, url, sizeof url);
        if (wb__reg_request(x->c, "PUT", url, NULL, NULL, WB__REG_ERROR_BODY_MAX, &r, err) < 0)
            goto out;
    }
    if (r.status != 201 && r.status != 204) {
        wb__reg_fail(x->c, &r, what, err);
        goto out;
    }
    rc = 0;
out:
    wb__reg_resp_release(&r);
    close(fd);
    return rc;
}

/* One blob: skip it if the registry has it, mount it if it can, else upload it. */
static int push_blob(push_ctx *x, blob *b, wb_error *err) {
    char target[1024], what[128];
    wb__reg_resp r;
    const char *repo = wb__reg_path(x->c);
    snprintf(what, sizeof what, "blob %s", b->digest);
    snprintf(target, sizeof target, "/v2/%s/blobs/%s", repo, b->digest);
    if (wb__reg_request(x->c, "HEAD", target, NULL, NULL, 0, &r, err) < 0) return -1;
    long head = r.status;
    if (head != 200 && head != 404) {
        wb__reg_fail(x->c, &r, what, err);
        wb__reg_resp_release(&r);
        return -1;
    }
    wb__reg_resp_release(&r);
    if (head == 200) {
        wb__progress_set(x->p, b->row, "Layer already exists", 0, 0);
        return 0;
    }
    char location[8192] = "";
    for (size_t i = 0; i < x->nmount && !location[0]; i++) {
        snprintf(target, sizeof target, "/v2/%s/blobs/uploads/?mount=sha256%%3A%s&from=%s", repo,
                 wb_digest_hex(b->digest), x->mount_from[i]);
        if (wb__reg_request(x->c, "POST", target, NULL, NULL, WB__REG_ERROR_BODY_MAX, &r, err) < 0)
            return -1;
        if (r.status == 201) {
            char status[300];
            snprintf(status, sizeof status, "Mounted from %s", x->mount_from[i]);
            wb__progress_set(x->p, b->row, status, 0, 0);
            wb__reg_resp_release(&r);
            return 0;
        }
        /* 202: not mountable from there, but an upload session is open */
        if (r.status == 202 && r.location[0])
            wb__reg_url(x->c, r.location, location, sizeof location);
        wb__reg_resp_release(&r);
    }
    if (!location[0]) {
        snprintf(target, sizeof target, "/v2/%s/blobs/uploads/", repo);
        if (wb__reg_request(x->c, "POST", target, NULL, NULL, WB__REG_ERROR_BODY_MAX, &r, err) < 0)
            return -1;
        if (r.status != 202) {
            int rc = wb__reg_fail(x->c, &r, what, err);
            wb__reg_resp_release(&r);
            return rc;
        }
        if (need_location(x, &r, what, err) < 0) {
            wb__reg_resp_release(&r);
            return -1;
        }
        wb__reg_url(x->c, r.location, location, sizeof location);
        wb__reg_resp_release(&r);
    }
    wb__progress_set(x->p, b->row, "Pushing", 0, b->size);
    if (upload(x, b, location, sizeof location, err) < 0) return -1;
    wb__progress_set(x->p, b->row, "Pushed", 0, 0);
    return 0;
}

static void add_mount_source(push_ctx *x, const wb_ref *target, const char *repo_digest) {
    wb_ref r;
    if (wb_ref_parse(repo_digest, &r, NULL) < 0) return;
    if (strcmp(r.domain, target->domain) != 0 || !strcmp(r.path, target->path)) return;
    for (size_t i = 0; i < x->nmount; i++)
        if (!strcmp(x->mount_from[i], r.path)) return;
    x->mount_from = wb_reallocarray(x->mount_from, x->nmount + 1, sizeof *x->mount_from);
    x->mount_from[x->nmount++] = wb_strdup(r.path);
}

int wb_registry_push(wb_images *s, const char *ref_text, const wb_registry_opts *o,
                     char digest[WB_DIGEST_MAX], uint64_t *size_out, wb_error *err) {
    wb_registry_opts defaults;
    if (!o) {
        wb_registry_opts_init(&defaults);
        o = &defaults;
    }
    push_ctx x = {.s = s, .o = o};
    wb_ref ref;
    wb_image_record rec = {0};
    json_t *doc = NULL;
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    blob *blobs = NULL;
    int rc = -1;
    if (wb_ref_parse(ref_text, &ref, err) < 0) return -1;
    x.p = wb__progress_new(o->out, o->progress);
    char full[WB_REF_MAX + 80], repo[WB_REF_MAX];
    wb_ref_full(&ref, full, sizeof full);
    wb_ref_repo(&ref, repo, sizeof repo);
    bool explicit_tag = strchr(ref_text, '@') || strrchr(ref_text, ':') > strrchr(ref_text, '/');
    if (!explicit_tag) wb__progress_line(x.p, "Using default tag: latest");
    if (wb_images_resolve(s, ref_text, &rec, err) < 0) {
        if (err->code == ENOENT)
            wb_error_set(err, ENOENT, "An image does not exist locally with the tag: %s", ref_text);
        goto out;
    }
    if (wb_blob_read(s, rec.manifest, WB_MAX_MANIFEST_BYTES, &raw, &raw_len, err) < 0 ||
        wb_manifest_parse(raw, raw_len, NULL, &doc, err) < 0)
        goto out;
    for (size_t i = 0; i < rec.nrepo_digests; i++) add_mount_source(&x, &ref, rec.repo_digests[i]);
    if (wb__reg_open(ref.domain, ref.path, "pull,push", (const char *const *)x.mount_from, x.nmount,
                     o, &x.c, err) < 0)
        goto out;
    wb__progress_line(x.p, "The push refers to repository [%s]", repo);

    /* the layers (a row each, as Docker shows them), then the config (no row) */
    json_t *layers = json_object_get(doc, "layers");
    size_t nl = json_array_size(layers), nb = 0;
    blobs = wb_calloc(nl + 1, sizeof *blobs);
    for (size_t i = 0; i <= nl; i++) {
        json_t *d = i < nl ? json_array_get(layers, i) : json_object_get(doc, "config");
        blob *b = &blobs[nb];
        snprintf(b->digest, sizeof b->digest, "%s",
                 json_string_value(json_object_get(d, "digest")));
        b->size = (uint64_t)json_integer_value(json_object_get(d, "size"));
        bool dup = false;
        for (size_t k = 0; k < nb; k++) dup |= !strcmp(blobs[k].digest, b->digest);
        if (dup) continue;
        uint64_t have;
        if (!wb_blob_exists(s, b->digest, &have) || have != b->size) {
            wb_error_set(err, ENOENT, "blob %s of %s is missing from the store", b->digest,
                         ref_text);
            goto out;
        }
        b->row = i < nl ? wb__progress_add(x.p, b->digest, "Preparing") : -1;
        nb++;
    }
    for (size_t i = 1; i < nb; i++) wb__progress_set(x.p, blobs[i].row, "Waiting", 0, 0);
    for (size_t i = 0; i < nb; i++)
        if (push_blob(&x, &blobs[i], err) < 0) {
            wb__progress_set(x.p, blobs[i].row, "Failed", 0, 0);
            wb_error_wrap(err, "push %s", full);
            goto out;
        }

    /* the manifest, under the tag (or its digest) */
    const char *mt = json_string_value(json_object_get(doc, "mediaType"));
    char ct[200], target[1024], local_digest[WB_DIGEST_MAX];
    snprintf(ct, sizeof ct, "%s", mt ? mt : WB_MT_OCI_MANIFEST);
    snprintf(local_digest, sizeof local_digest, "%s", rec.manifest);
    snprintf(target, sizeof target, "/v2/%s/manifests/%s", ref.path,
             ref.tag[0] ? ref.tag : ref.digest);
    wb__reg_body body = {.data = raw, .len = raw_len, .fd = -1, .content_type = ct};
    wb__reg_resp r;
    if (wb__reg_request(x.c, "PUT", target, NULL, &body, WB__REG_ERROR_BODY_MAX, &r, err) < 0)
        goto out;
    if (r.status != 201 && r.status != 200 && r.status != 202) {
        char what[WB_REF_MAX + 120];
        snprintf(what, sizeof what, "manifest for %s", full);
        wb__reg_fail(x.c, &r, what, err);
        wb__reg_resp_release(&r);
        goto out;
    }
    if (r.digest[0] && strcmp(r.digest, local_digest) != 0) {
        wb_error_set(err, WB_REG_EPROTOCOL, "the registry stored the manifest as %s, not %s",
                     r.digest, local_digest);
        wb__reg_resp_release(&r);
        goto out;
    }
    wb__reg_resp_release(&r);
    wb__progress_line(x.p, "%s: digest: %s size: %zu", ref.tag[0] ? ref.tag : ref.digest,
                      local_digest, raw_len);
    snprintf(digest, WB_DIGEST_MAX, "%s", local_digest);
    if (size_out) *size_out = raw_len;
    /* remember where it went: a later push to another repository can mount from here */
    char repo_digest[WB_REF_MAX + WB_DIGEST_MAX];
    snprintf(repo_digest, sizeof repo_digest, "%s@%s", repo, local_digest);
    wb_images_add(s, rec.manifest, NULL, 0, repo_digest, NULL);
    rc = 0;
out:
    free(blobs);
    json_decref(doc);
    free(raw);
    wb_image_record_release(&rec);
    for (size_t i = 0; i < x.nmount; i++) free(x.mount_from[i]);
    free(x.mount_from);
    wb__reg_close(x.c);
    wb__progress_free(x.p);
    return rc;
}
