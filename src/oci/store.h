/* oci/store.h — the image store under ROOT/images: content-addressed blobs (OCI layout,
 * blobs/sha256/<hex>) and an index of images (manifest digests) and their names.
 *
 * Durability: a blob is streamed into an unnamed temporary file, its size and digest checked,
 * fsynced and linked into place (then the directory fsynced); an image is registered in the index
 * only after all its blobs are committed; the index is rewritten atomically under an exclusive
 * lock. So `kill -9` at any moment leaves no partial image and no corrupt index, and two
 * processes storing the same blob leave one good blob. */
#ifndef WB_OCI_STORE_H
#define WB_OCI_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "oci/digest.h"

typedef struct wb_images wb_images;

/* The store root: --root, else $WASMBOX_ROOT, else /var/lib/wasmbox (root) or
 * ~/.local/share/wasmbox. Returns a malloc'd path. */
char *wb_store_default_root(const char *flag);

/* Open (creating directories as needed) the image store under root. */
int wb_images_open(const char *root, wb_images **out, wb_error *err);
void wb_images_close(wb_images *s);
const char *wb_images_dir(const wb_images *s);  /* ROOT/images */
const char *wb_images_root(const wb_images *s); /* ROOT */

/* ---- blobs ---- */

/* Is the blob present (and its size)? digest must be valid. */
bool wb_blob_exists(wb_images *s, const char *digest, uint64_t *size);
/* Path of a committed blob. */
int wb_blob_path(wb_images *s, const char *digest, char *buf, size_t size, wb_error *err);
/* Read a blob of at most max bytes, verifying its digest. Caller frees *data (NUL-terminated). */
int wb_blob_read(wb_images *s, const char *digest, size_t max, uint8_t **data, size_t *len,
                 wb_error *err);
/* Store bytes; writes the digest. */
int wb_blob_put(wb_images *s, const void *data, size_t len, char digest[WB_DIGEST_MAX],
                wb_error *err);

/* Streaming writes. expect_digest may be NULL (computed), expect_size < 0 (unknown). Writing more
 * than expect_size bytes fails at once. commit checks size and digest, fsyncs, links the blob into
 * place (an existing identical blob is kept) and frees w; abort discards it. Nothing is visible
 * under blobs/ before commit. */
typedef struct wb_blob_writer wb_blob_writer;
int wb_blob_writer_open(wb_images *s, const char *expect_digest, int64_t expect_size,
                        wb_blob_writer **out, wb_error *err);
int wb_blob_writer_write(wb_blob_writer *w, const void *buf, size_t len, wb_error *err);
uint64_t wb_blob_writer_size(const wb_blob_writer *w);
int wb_blob_writer_commit(wb_blob_writer *w, char digest[WB_DIGEST_MAX], wb_error *err);
void wb_blob_writer_abort(wb_blob_writer *w);

/* ---- the index ---- */

typedef struct wb_image_record {
    char manifest[WB_DIGEST_MAX]; /* the image: its manifest's digest */
    char config[WB_DIGEST_MAX];   /* the image ID (config digest) */
    char os[32], arch[32];
    int64_t created; /* unix seconds, from the config (0 if absent) */
    uint64_t size;   /* bytes of config + layers as stored */
    char **tags;     /* full "repo:tag" names */
    size_t ntags;
    char **repo_digests; /* "repo@sha256:…" (images pulled from a registry) */
    size_t nrepo_digests;
} wb_image_record;

void wb_image_record_release(wb_image_record *r);
void wb_image_records_free(wb_image_record *r, size_t n);

/* Register an image whose manifest and config (and layers) are committed blobs, and point `tags`
 * (full names, may be NULL/0) at it, taking them from any other image. repo_digest may be NULL. */
int wb_images_add(wb_images *s, const char *manifest_digest, const char *const *tags, size_t ntags,
                  const char *repo_digest, wb_error *err);
/* Point tag (full name) at an existing image. */
int wb_images_tag(wb_images *s, const char *manifest_digest, const char *tag, wb_error *err);
/* Remove a tag; the image stays (dangling) unless it was its last reference and remove_image. */
int wb_images_untag(wb_images *s, const char *tag, wb_error *err);
/* Remove an image (all its tags). Blobs are collected by wb_images_gc. */
int wb_images_remove(wb_images *s, const char *manifest_digest, wb_error *err);
/* Delete blobs no image refers to, and stale temporary files. */
int wb_images_gc(wb_images *s, uint64_t *freed, wb_error *err);
/* Keep wb_images_gc from removing blobs and unpacked layers until s is closed (a process that
 * writes blobs, or unpacks layers not yet listed by a registered image). */
void wb_images_hold_gc(wb_images *s);

int wb_images_list(wb_images *s, wb_image_record **out, size_t *n, wb_error *err);
/* Find an image by name[:tag], name@digest, "sha256:<id>", or a unique ID prefix (of the config
 * digest's hex). err->code ENOENT when there is none. */
int wb_images_resolve(wb_images *s, const char *ref, wb_image_record *out, wb_error *err);

#endif
