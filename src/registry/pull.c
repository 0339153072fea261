/* Pulling: the manifest (the platform's one from an index), then the config and the layers the
 * store lacks, in parallel and verified while they stream, then the manifest blob, and the image
 * is registered last. Output as Docker's `pull`. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/alloc.h"
#include "oci/image.h"
#include "oci/platform.h"
#include "oci/reference.h"
#include "oci/spin_artifact.h"
#include "oci/unpack.h"
#include "registry/client.h"

#define MAX_LAYER_BYTES ((uint64_t)1 << 40) /* a descriptor claiming more is refused */

static const char accept_manifests[] = "Accept: " WB_MT_OCI_INDEX ", " WB_MT_OCI_MANIFEST
                                       ", " WB_MT_DOCKER_LIST ", " WB_MT_DOCKER_MANIFEST;

void wb_registry_opts_init(wb_registry_opts *o) {
    memset(o, 0, sizeof *o);
    o->out = stdout;
    const char *term = getenv("TERM");
    o->progress = isatty(STDOUT_FILENO) && term && strcmp(term, "dumb") != 0 ? WB_PROGRESS_TTY
                                                                             : WB_PROGRESS_LINES;
    o->tls_verify = true;
}

/* GET a manifest (by tag or digest), bounded, its digest checked against what we asked for or
 * what the registry says it is. *doc is the parsed document; digest gets its digest. */
static int fetch_manifest(wb__reg_client *c, const char *reference, const char *what, json_t **doc,
                          uint8_t **raw, size_t *raw_len, char digest[WB_DIGEST_MAX],
                          char *media_type, size_t mt_size, wb_error *err) {
    char target[600];
    const char *hdrs[] = {accept_manifests, NULL};
    wb__reg_resp r;
    *doc = NULL;
    snprintf(target, sizeof target, "/v2/%s/manifests/%s", wb__reg_path(c), reference);
    if (wb__reg_request(c, "GET", target, hdrs, NULL, WB_MAX_MANIFEST_BYTES, &r, err) < 0)
        return -1;
    int rc = -1;
    if (r.status != 200) {
        wb__reg_fail(c, &r, what, err);
        goto out;
    }
    if (r.over_limit ||
        (r.content_length >= 0 && (uint64_t)r.content_length > WB_MAX_MANIFEST_BYTES)) {
        wb_error_set(err, EFBIG, "%s: the manifest is larger than the %zu-byte limit (%s): refused",
                     what, WB_MAX_MANIFEST_BYTES,
                     r.content_length >= 0 ? "Content-Length says so" : "stopped reading there");
        goto out;
    }
    if (wb_digest_of(r.body ? r.body : (const uint8_t *)"", r.len, digest, err) < 0) goto out;
    if (wb_digest_valid(reference) && strcmp(reference, digest) != 0) {
        wb_error_set(err, WB_REG_EPROTOCOL, "%s: digest mismatch: asked for %s, got %s", what,
                     reference, digest);
        goto out;
    }
    if (r.digest[0] && !strncmp(r.digest, "sha256:", 7) && strcmp(r.digest, digest) != 0) {
        wb_error_set(err, WB_REG_EPROTOCOL,
                     "%s: digest mismatch: the registry says %s, the content is %s", what, r.digest,
                     digest);
        goto out;
    }
    if (wb_manifest_parse(r.body ? r.body : (const uint8_t *)"", r.len,
                          r.content_type[0] ? r.content_type : NULL, doc, err) < 0) {
        wb_error_wrap(err, "%s", what);
        goto out;
    }
    snprintf(media_type, mt_size, "%s", r.content_type);
    if (raw) {
        *raw = r.body;
        *raw_len = r.len;
        r.body = NULL;
        if (!*raw) *raw = (uint8_t *)wb_strdup("");
    }
    rc = 0;
out:
    wb__reg_resp_release(&r);
    return rc;
}

/* The manifest for our platform from an index. */
static int select_platform(const json_t *index, const char *platform, char digest[WB_DIGEST_MAX],
                           wb_error *err) {
    char os[32], arch[32], variant[32];
    if (platform && *platform) {
        if (wb_platform_parse(platform, os, arch, variant, err) < 0) return -1;
        return wb_index_select(index, os, arch, digest, err); /* variants are not told apart */
    }
    /* a Wasm engine wants the Wasm entry; a compat image may only exist for the host's Linux */
    wb_error first;
    if (wb_index_select(index, "wasi", "wasm", digest, &first) == 0) return 0;
    wb_platform_host(os, arch, variant);
    if (wb_index_select(index, "linux", arch, digest, NULL) == 0) return 0;
    *err = first;
    return -1;
}

typedef struct pull_ctx {
    wb_images *s;
    const wb_registry_opts *o;
    wb_ref ref;
    char familiar[WB_REF_MAX + 200]; /* "hello:latest", "127.0.0.1:5000/x@sha256:…" */
    char what[WB_REF_MAX + 240];     /* "manifest for hello:latest" */
    wb__progress *p;
    bool check_platform; /* a single-platform image pulled with --platform */
} pull_ctx;

/* A single-platform image must be the one asked for (Docker's wording). */
static int platform_matches(pull_ctx *x, const json_t *manifest, const char *config_digest,
                            wb_error *err) {
    uint8_t *data;
    size_t len;
    if (wb_blob_read(x->s, config_digest, WB_MAX_CONFIG_BYTES, &data, &len, err) < 0) return -1;
    json_t *cfg = json_loadb((const char *)data, len, 0, NULL);
    free(data);
    const char *mt =
        json_string_value(json_object_get(json_object_get(manifest, "config"), "mediaType"));
    bool artifact = mt && (!strcmp(mt, WB_MT_WASM_CONFIG) || !strcmp(mt, WB_MT_SPIN_CONFIG));
    char have_os[64], have_arch[64], want_os[32], want_arch[32], want_variant[32];
    snprintf(have_os, sizeof have_os, "%s",
             json_string_value(json_object_get(cfg, "os")) ?: (artifact ? "wasi" : ""));
    snprintf(have_arch, sizeof have_arch, "%s",
             json_string_value(json_object_get(cfg, "architecture")) ?: (artifact ? "wasm" : ""));
    json_decref(cfg);
    if (wb_platform_parse(x->o->platform, want_os, want_arch, want_variant, err) < 0) return -1;
    if (wb_platform_matches(want_os, want_arch, have_os, have_arch)) return 0;
    return wb_error_set(err, ENOENT,
                        "image with reference %s was found but does not match the specified "
                        "platform: wanted %s/%s, actual: %s/%s",
                        x->familiar, want_os, want_arch, have_os, have_arch);
}

static bool blob_present(wb_images *s, const char *digest, uint64_t size) {
    uint64_t have;
    return wb_blob_exists(s, digest, &have) && have == size;
}

static int check_descriptor(const json_t *d, const char *what, uint64_t max, char *digest,
                            uint64_t *size, wb_error *err) {
    const char *dg = json_string_value(json_object_get(d, "digest"));
    json_int_t sz = json_integer_value(json_object_get(d, "size"));
    if (!wb_digest_valid(dg) || sz < 0)
        return wb_error_set(err, WB_REG_EPROTOCOL, "invalid %s descriptor", what);
    if ((uint64_t)sz > max)
        return wb_error_set(err, EFBIG, "%s %s declares %lld bytes (limit %llu): refused", what, dg,
                            (long long)sz, (unsigned long long)max);
    snprintf(digest, WB_DIGEST_MAX, "%s", dg);
    *size = (uint64_t)sz;
    return 0;
}

/* Download what the image needs and register it. */
static int pull_image(pull_ctx *x, wb__reg_client *c, const json_t *manifest, const uint8_t *raw,
                      size_t raw_len, const char *manifest_digest, const char *top_digest,
                      bool *up_to_date, wb_error *err) {
    wb_images *s = x->s;
    json_t *layers = json_object_get(manifest, "layers");
    size_t nlayers = json_array_size(layers);
    wb__reg_fetch *items = wb_calloc(nlayers + 1, sizeof *items);
    size_t n = 0;
    int rc = -1;
    char full[WB_REF_MAX + 80];
    wb_ref_full(&x->ref, full, sizeof full);

    wb__reg_fetch cfg = {.row = -1};
    if (check_descriptor(json_object_get(manifest, "config"), "config", WB_MAX_CONFIG_BYTES,
                         cfg.digest, &cfg.size, err) < 0)
        goto out;
    bool all_present = blob_present(s, cfg.digest, cfg.size);
    for (size_t i = 0; i < nlayers; i++) {
        char d[WB_DIGEST_MAX];
        uint64_t size;
        if (check_descriptor(json_array_get(layers, i), "layer", MAX_LAYER_BYTES, d, &size, err) <
            0)
            goto out;
        all_present = all_present && blob_present(s, d, size);
    }
    /* up to date: every blob is here and the name already points at this image */
    if (all_present && wb_blob_exists(s, manifest_digest, NULL)) {
        wb_image_record rec;
        if (wb_images_resolve(s, x->ref.tag[0] ? full : manifest_digest, &rec, NULL) == 0) {
            *up_to_date = !strcmp(rec.manifest, manifest_digest);
            wb_image_record_release(&rec);
        }
    }
    if (x->check_platform) {
        /* the config first: a wrong platform is known before any layer moves */
        if (!blob_present(s, cfg.digest, cfg.size) &&
            wb__reg_fetch_blobs(c, s, &cfg, 1, 1, x->p, err) < 0) {
            wb_error_wrap(err, "pull %s", x->familiar);
            goto out;
        }
        if (platform_matches(x, manifest, cfg.digest, err) < 0) goto out;
    }
    if (!blob_present(s, cfg.digest, cfg.size)) items[n++] = cfg;
    for (size_t i = 0; i < nlayers; i++) {
        wb__reg_fetch l = {.row = -1};
        json_t *d = json_array_get(layers, i);
        snprintf(l.digest, sizeof l.digest, "%s", json_string_value(json_object_get(d, "digest")));
        l.size = (uint64_t)json_integer_value(json_object_get(d, "size"));
        bool dup = false;
        for (size_t k = 0; k < n; k++) dup |= !strcmp(items[k].digest, l.digest);
        if (dup) continue;
        if (blob_present(s, l.digest, l.size)) {
            if (!*up_to_date) wb__progress_add(x->p, l.digest, "Already exists");
            continue;
        }
        l.row = wb__progress_add(x->p, l.digest, "Pulling fs layer");
        items[n++] = l;
    }
    if (wb__reg_fetch_blobs(c, s, items, n, x->o->max_parallel, x->p, err) < 0) {
        wb_error_wrap(err, "pull %s", x->familiar);
        goto out;
    }
    char stored[WB_DIGEST_MAX];
    if (wb_blob_put(s, raw, raw_len, stored, err) < 0) goto out;
    /* each tar layer must unpack to the config's diff_id within the caps before the image is
     * registered (unpack.h); the blobs of a refused image stay unreferenced until a gc */
    if (!*up_to_date) {
        wb_image *img;
        if (wb_image_load(s, manifest_digest, &img, err) < 0) goto out;
        int checked = wb_image_check_layers(s, img, err);
        wb_image_free(img);
        if (checked < 0) goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (items[i].row >= 0) wb__progress_set(x->p, items[i].row, "Pull complete", 0, 0);
    char repo[WB_REF_MAX], repo_digest[WB_REF_MAX + WB_DIGEST_MAX];
    wb_ref_repo(&x->ref, repo, sizeof repo);
    snprintf(repo_digest, sizeof repo_digest, "%s@%s", repo, top_digest);
    const char *tags[] = {full};
    /* registered last: only now is the image visible */
    if (wb_images_add(s, manifest_digest, tags, x->ref.tag[0] ? 1 : 0, repo_digest, err) < 0)
        goto out;
    rc = 0;
out:
    free(items);
    return rc;
}

static int pull_one(wb_images *s, const char *ref_text, const wb_registry_opts *o,
                    char manifest_digest[WB_DIGEST_MAX], bool *up_to_date, wb_error *err) {
    pull_ctx x = {.s = s, .o = o};
    wb__reg_client *c = NULL;
    json_t *top = NULL, *image = NULL;
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    int rc = -1;
    bool fresh = false;
    if (up_to_date) *up_to_date = false;
    if (wb_ref_parse(ref_text, &x.ref, err) < 0) return -1;
    char repo[WB_REF_MAX], famrepo[WB_REF_MAX];
    wb_ref_repo(&x.ref, repo, sizeof repo);
    wb_ref_familiar_repo(&x.ref, famrepo, sizeof famrepo);
    const char *reference = x.ref.digest[0] ? x.ref.digest : x.ref.tag;
    snprintf(x.familiar, sizeof x.familiar, "%s%s%s", famrepo, x.ref.digest[0] ? "@" : ":",
             reference);
    snprintf(x.what, sizeof x.what, "manifest for %s", x.familiar);
    x.p = wb__progress_new(o->out, o->progress);

    bool explicit_tag = strchr(ref_text, '@') || strrchr(ref_text, ':') > strrchr(ref_text, '/');
    if (!explicit_tag && !o->default_tag_said) wb__progress_line(x.p, "Using default tag: latest");
    if (wb__reg_open(x.ref.domain, x.ref.path, "pull", NULL, 0, o, &c, err) < 0) goto out;

    char top_digest[WB_DIGEST_MAX], media_type[160];
    if (fetch_manifest(c, reference, x.what, &top, &raw, &raw_len, top_digest, media_type,
                       sizeof media_type, err) < 0)
        goto out;
    wb__progress_line(x.p, "%s: Pulling from %s", reference, x.ref.path);
    char image_digest[WB_DIGEST_MAX];
    snprintf(image_digest, sizeof image_digest, "%s", top_digest);
    if (wb_manifest_is_index(top)) {
        if (select_platform(top, o->platform, image_digest, err) < 0) {
            wb_error_wrap(err, "%s", x.familiar);
            goto out;
        }
        free(raw);
        raw = NULL;
        if (fetch_manifest(c, image_digest, x.what, &image, &raw, &raw_len, image_digest,
                           media_type, sizeof media_type, err) < 0)
            goto out;
        if (wb_manifest_is_index(image)) {
            wb_error_set(err, WB_REG_EPROTOCOL, "%s: an index inside an index is not supported",
                         x.what);
            goto out;
        }
    } else {
        image = json_incref(top);
        x.check_platform = o->platform && *o->platform;
        char po[32], pa[32], pv[32];
        if (x.check_platform && wb_platform_parse(o->platform, po, pa, pv, err) < 0) goto out;
    }
    bool same = false;
    if (pull_image(&x, c, image, raw, raw_len, image_digest, top_digest, &same, err) < 0) goto out;
    fresh = !same;
    wb__progress_line(x.p, "Digest: %s", top_digest);
    wb__progress_line(x.p, "Status: %s for %s",
                      fresh ? "Downloaded newer image" : "Image is up to date", x.familiar);
    if (up_to_date) *up_to_date = !fresh;
    snprintf(manifest_digest, WB_DIGEST_MAX, "%s", image_digest);
    rc = 0;
out:
    json_decref(top);
    json_decref(image);
    free(raw);
    wb__reg_close(c);
    wb__progress_free(x.p);
    return rc;
}

int wb_registry_pull(wb_images *s, const char *ref, const wb_registry_opts *o,
                     char manifest_digest[WB_DIGEST_MAX], bool *up_to_date, wb_error *err) {
    wb_registry_opts defaults;
    if (!o) {
        wb_registry_opts_init(&defaults);
        o = &defaults;
    }
    return pull_one(s, ref, o, manifest_digest, up_to_date, err);
}

void wb_registry_opts_init_stderr(wb_registry_opts *o) {
    wb_registry_opts_init(o);
    o->out = stderr;
    const char *term = getenv("TERM");
    o->progress = isatty(STDERR_FILENO) && term && strcmp(term, "dumb") != 0 ? WB_PROGRESS_TTY
                                                                             : WB_PROGRESS_LINES;
}

int wb_registry_pull_hook(void *ctx, wb_images *s, const char *ref, const char *platform,
                          char manifest_digest[WB_DIGEST_MAX], wb_error *err) {
    wb_registry_opts o;
    if (ctx)
        o = *(const wb_registry_opts *)ctx;
    else
        wb_registry_opts_init_stderr(&o);
    if (platform) o.platform = platform;
    return pull_one(s, ref, &o, manifest_digest, NULL, err);
}

/* ---- tags ---- */

/* The next page from a Link header: `</v2/x/tags/list?last=a&n=100>; rel="next"`. */
static bool next_link(const char *link, char *buf, size_t size) {
    const char *lt = strchr(link, '<');
    const char *gt = lt ? strchr(lt, '>') : NULL;
    if (!lt || !gt || !strstr(gt, "rel=\"next\"")) return false;
    snprintf(buf, size, "%.*s", (int)(gt - lt - 1), lt + 1);
    return buf[0] != '\0';
}

int wb_registry_list_tags(const char *ref_text, const wb_registry_opts *o, char ***tags_out,
                          size_t *n_out, wb_error *err) {
    wb_ref ref;
    wb_registry_opts defaults;
    *tags_out = NULL;
    *n_out = 0;
    if (!o) {
        wb_registry_opts_init(&defaults);
        o = &defaults;
    }
    if (wb_ref_parse(ref_text, &ref, err) < 0) return -1;
    wb__reg_client *c;
    if (wb__reg_open(ref.domain, ref.path, "pull", NULL, 0, o, &c, err) < 0) return -1;
    char target[4096];
    snprintf(target, sizeof target, "/v2/%s/tags/list?n=1000", ref.path);
    char **tags = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;
    for (int page = 0; page < 1000; page++) {
        wb__reg_resp r;
        if (wb__reg_request(c, "GET", target, NULL, NULL, WB__REG_TAGS_BODY_MAX, &r, err) < 0)
            goto out;
        if (r.status != 200 || r.over_limit) {
            char what[WB_REF_MAX + 40];
            snprintf(what, sizeof what, "tags of %s/%s", ref.domain, ref.path);
            if (r.over_limit)
                wb_error_set(err, EFBIG, "%s: the list is too long", what);
            else
                wb__reg_fail(c, &r, what, err);
            wb__reg_resp_release(&r);
            goto out;
        }
        json_t *doc = json_loadb((const char *)r.body, r.len, 0, NULL);
        json_t *list = json_object_get(doc, "tags");
        for (size_t i = 0; i < json_array_size(list) && n < WB__REG_MAX_TAGS; i++) {
            const char *t = json_string_value(json_array_get(list, i));
            if (!t) continue;
            WB_VEC_RESERVE(tags, cap, n + 1);
            tags[n++] = wb_strdup(t);
        }
        json_decref(doc);
        char next[4096];
        bool more = r.link[0] && next_link(r.link, next, sizeof next);
        wb__reg_resp_release(&r);
        if (!more) break;
        snprintf(target, sizeof target, "%s", next);
    }
    rc = 0;
out:
    wb__reg_close(c);
    if (rc < 0) {
        for (size_t i = 0; i < n; i++) free(tags[i]);
        free(tags);
        return -1;
    }
    *tags_out = tags;
    *n_out = n;
    return 0;
}

int wb_registry_pull_all_tags(wb_images *s, const char *ref_text, const wb_registry_opts *o,
                              wb_error *err) {
    wb_ref ref;
    if (wb_ref_parse(ref_text, &ref, err) < 0) return -1;
    char **tags;
    size_t n;
    if (wb_registry_list_tags(ref_text, o, &tags, &n, err) < 0) return -1;
    char repo[WB_REF_MAX];
    wb_ref_repo(&ref, repo, sizeof repo);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char one[WB_REF_MAX + 140], digest[WB_DIGEST_MAX];
        snprintf(one, sizeof one, "%s:%s", repo, tags[i]);
        rc = wb_registry_pull(s, one, o, digest, NULL, err);
    }
    for (size_t i = 0; i < n; i++) free(tags[i]);
    free(tags);
    if (rc == 0 && n == 0) return wb_error_set(err, WB_REG_ENOTFOUND, "%s has no tags", repo);
    return rc;
}
