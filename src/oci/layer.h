/* oci/layer.h — writing layers: a tar stream built entry by entry, gzip-compressed, straight into
 * the blob store, hashing both the compressed blob (its digest) and the tar (its diff_id). */
#ifndef WB_OCI_LAYER_H
#define WB_OCI_LAYER_H

#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "oci/image.h"
#include "oci/store.h"

typedef struct wb_layer_writer wb_layer_writer;

int wb_layer_writer_open(wb_images *s, wb_layer_writer **out, wb_error *err);
/* Entries; paths are relative to the layer root ("app/main.wasm"), parents are not implied.
 * uid/gid are 0 unless wb_layer_set_owner says otherwise; mtime as given (builds pass the source's,
 * for reproducible digests). */
int wb_layer_add_dir(wb_layer_writer *w, const char *path, mode_t mode, int64_t mtime,
                     wb_error *err);
int wb_layer_add_file(wb_layer_writer *w, const char *path, const char *host_path, mode_t mode,
                      int64_t mtime, wb_error *err);
/* The same from an open regular file (read from offset 0 with pread; fd stays the caller's). */
int wb_layer_add_fd(wb_layer_writer *w, const char *path, int fd, mode_t mode, int64_t mtime,
                    wb_error *err);
int wb_layer_add_bytes(wb_layer_writer *w, const char *path, const void *data, size_t len,
                       mode_t mode, int64_t mtime, wb_error *err);
int wb_layer_add_symlink(wb_layer_writer *w, const char *path, const char *target, int64_t mtime,
                         wb_error *err);
/* The owner of the entries added next (until changed; 0/0 when never set): RUN layers keep the
 * owners the command gave its files, COPY --chown sets its own. */
void wb_layer_set_owner(wb_layer_writer *w, uid_t uid, gid_t gid);
/* A hard link to an entry added before (`target`, a path in the layer). */
int wb_layer_add_hardlink(wb_layer_writer *w, const char *path, const char *target, mode_t mode,
                          int64_t mtime, wb_error *err);
/* Finish: commits the blob and fills desc (media type tar+gzip, digest, size, diff_id). Frees w. */
int wb_layer_writer_commit(wb_layer_writer *w, wb_layer_desc *desc, wb_error *err);
void wb_layer_writer_abort(wb_layer_writer *w);

#endif
