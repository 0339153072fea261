/* oci/archive.h — images in and out of the store as files: `save` (docker-archive, OCI layout
 * archive or directory), `load` (either kind of archive, every blob verified on its way into the
 * store), `import` (a rootfs tarball becomes a one-layer image) and `export-wasm` (an image's
 * module as a file). Every input is hostile until checked; every output file appears complete or
 * not at all (written aside, fsynced, renamed into place). */
#ifndef WB_OCI_ARCHIVE_H
#define WB_OCI_ARCHIVE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "oci/digest.h"
#include "oci/store.h"
#include "oci/tar.h"

typedef enum wb_archive_format {
    WB_ARCHIVE_DOCKER,  /* docker-archive: manifest.json + repositories, and an OCI layout */
    WB_ARCHIVE_OCI,     /* oci-archive: a tar of an OCI image layout */
    WB_ARCHIVE_OCI_DIR, /* oci-dir: the OCI image layout as a directory */
} wb_archive_format;

/* "docker-archive" (or "docker"), "oci-archive" (or "oci"), "oci-dir". */
int wb_archive_format_parse(const char *name, wb_archive_format *out, wb_error *err);

/* Called once per blob copied ("Loading", "Saving", "Importing"); fn may be NULL. */
typedef struct wb_archive_progress {
    void (*fn)(void *ctx, const char *verb, const char *digest, uint64_t size);
    void *ctx;
} wb_archive_progress;

/* ---- save ---- */

/* Write the images named by refs (anything wb_images_resolve takes) to out_path — a file, or a
 * directory for WB_ARCHIVE_OCI_DIR — which appears only once complete (an existing file is
 * replaced; an existing non-empty directory is an error). With out_path NULL the archive is
 * streamed to out_fd (not for oci-dir). An image named by a tag is saved with that tag; named by
 * ID or digest, untagged (as docker does). docker-archive layers are written uncompressed, as
 * `docker save` writes them (so compressed layers are decompressed and checked against their
 * diff_id); a non-tar layer (a Wasm artifact) cannot go into a docker-archive. progress may be
 * NULL. */
int wb_archive_save(wb_images *s, const char *const *refs, size_t nrefs, wb_archive_format fmt,
                    const char *out_path, int out_fd, const wb_archive_progress *progress,
                    wb_error *err);

/* ---- load ---- */

typedef struct wb_loaded_image {
    char manifest[WB_DIGEST_MAX];
    char config[WB_DIGEST_MAX]; /* the image ID */
    char **tags;                /* full names ("docker.io/library/hello:latest"), owned */
    size_t ntags;
} wb_loaded_image;

void wb_loaded_images_free(wb_loaded_image *v, size_t n);

/* Load a docker-archive (manifest.json) or an OCI image layout archive (index.json; preferred
 * when an archive has both), plain or compressed, from path or — path NULL — from fd (`name` is
 * used in messages). The archive is unpacked with wb_tar_extract (no whiteouts, no duplicates,
 * lim caps its size and entries: NULL for the defaults) into a private directory of the store,
 * each blob is copied into the store through a wb_blob_writer that checks its digest and size,
 * documents are size-capped and parsed, and only then are the images registered with their
 * tags. *out (caller frees with wb_loaded_images_free) lists them in archive order. */
int wb_archive_load(wb_images *s, const char *path, int fd, const char *name,
                    const wb_tar_limits *lim, const wb_archive_progress *progress,
                    wb_loaded_image **out, size_t *n, wb_error *err);

/* ---- import ---- */

typedef struct wb_import_opts {
    const char *os, *arch, *variant; /* the image's platform; NULL: wasi/wasm */
    const char *const *changes;      /* Dockerfile instructions: ENTRYPOINT, CMD, ENV, WORKDIR, */
    size_t nchanges;                 /* LABEL, USER, EXPOSE, VOLUME, STOPSIGNAL */
    const char *message;             /* the history comment; NULL: "Imported from SOURCE" */
    const char *const *tags;         /* full names; may be NULL */
    size_t ntags;
    wb_tar_limits lim; /* zeros: the defaults */
    const wb_archive_progress *progress;
} wb_import_opts;

/* Import a rootfs tarball (plain, gzip, zstd, xz or bzip2) from path or — path NULL — from fd
 * (`name` is used in messages and the history). The uncompressed tar is spooled into the store,
 * checked with wb_tar_scan (whiteouts, escapes, duplicates, device nodes refused), kept byte for
 * byte as the layer (so its digest is the diff_id), gzip-compressed into the blob store, and the
 * image committed with a fresh config. Writes the image ID (config digest). */
int wb_archive_import(wb_images *s, const char *path, int fd, const char *name,
                      const wb_import_opts *o, char image_id[WB_DIGEST_MAX], wb_error *err);

/* Apply one `--change` instruction to an image config document (its "config" object). */
int wb_import_apply_change(json_t *config, const char *change, wb_error *err);

/* ---- export-wasm ---- */

/* Write the Wasm module of the image named by ref (wb_image_wasm_open) to out_path atomically,
 * or — out_path NULL — to out_fd. */
int wb_archive_export_wasm(wb_images *s, const char *ref, const char *out_path, int out_fd,
                           wb_error *err);

#endif
