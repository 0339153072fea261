/* What the archive_*.c files share (module-internal): private scratch directories in the store,
 * opening files of an unpacked archive without leaving it, copying into verified blobs, output
 * files that appear atomically, a tar writer, and decompression to a plain stream. */
#ifndef WB_OCI_ARCHIVE_INTERNAL_H
#define WB_OCI_ARCHIVE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "base/dynlib.h"
#include "oci/archive.h"

/* A fresh directory ROOT/tmp/<kind>.<pid>.<n> for unpacking; directories left there by processes
 * that no longer exist (killed mid-load) are removed first. */
int wb__scratch_dir(wb_images *s, const char *kind, char *out, size_t size, wb_error *err);
/* An unnamed file in ROOT/tmp (it vanishes with the process); stale directories go first too. */
int wb__scratch_file(wb_images *s, wb_error *err);

/* Open the regular file `rel` (an untrusted relative path) beneath the directory root_fd:
 * symlinks inside are followed only while they stay beneath it (openat2 RESOLVE_BENEATH; where
 * openat2 is missing, no symlink is followed at all). *size gets the file's size. */
int wb__open_beneath(int root_fd, const char *rel, uint64_t *size, wb_error *err);

/* Copy size bytes of fd into the blob store as `digest` (checked by the blob writer); a blob
 * already present with that size is kept. Reports progress with verb. */
int wb__copy_to_blob(wb_images *s, int fd, const char *digest, uint64_t size,
                     const wb_archive_progress *progress, const char *verb, wb_error *err);

/* An output file written aside and renamed into place by commit (fsyncing the file and its
 * directory); abort (or a kill) leaves nothing under the final name. */
typedef struct wb__outfile {
    int fd;
    char final[4096];
    char dir[4096];
} wb__outfile;
int wb__outfile_open(wb__outfile *o, const char *path, wb_error *err);
int wb__outfile_commit(wb__outfile *o, wb_error *err);
void wb__outfile_abort(wb__outfile *o);

/* A tar written to a descriptor (ustar/pax, uid/gid 0, fixed mtime: reproducible archives). */
typedef struct wb__tar_out {
    const wb_libarchive *ar;
    struct archive *a;
    struct archive_entry *e;
    int64_t mtime;
} wb__tar_out;
int wb__tar_out_open(wb__tar_out *t, int fd, wb_error *err);
int wb__tar_out_dir(wb__tar_out *t, const char *path, wb_error *err);
int wb__tar_out_bytes(wb__tar_out *t, const char *path, const void *data, size_t len,
                      wb_error *err);
/* size bytes read from fd (from its current offset). */
int wb__tar_out_fd(wb__tar_out *t, const char *path, int fd, uint64_t size, wb_error *err);
int wb__tar_out_close(wb__tar_out *t, wb_error *err);
void wb__tar_out_free(wb__tar_out *t);

/* Read fd as a stream that may be compressed (gzip, zstd, xz, bzip2 — detected; else plain) and
 * pass the plain bytes to sink, at most max of them. */
typedef int (*wb__sink_fn)(void *ctx, const void *data, size_t len, wb_error *err);
int wb__decompress(int fd, const char *name, uint64_t max, wb__sink_fn sink, void *ctx,
                   wb_error *err);

/* Write all of data to fd. */
int wb__write_all(int fd, const void *data, size_t len, wb_error *err);

/* Is this a tar layer media type (OCI or Docker, any compression)? */
bool wb__is_tar_layer(const char *media_type);

#endif
