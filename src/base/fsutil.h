/* Filesystem helpers with the store's durability rules: a file is written to a temporary name in
 * its directory, fsynced, renamed into place, and the directory fsynced. */
#ifndef WB_BASE_FSUTIL_H
#define WB_BASE_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

/* Replace `path` atomically with `len` bytes of data (mode 0644 unless `mode`). With `durable`,
 * fsync the file before the rename and the directory after it. */
int wb_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, bool durable,
                         wb_error *err);
/* write(2) until all len bytes are written (EINTR retried); -1 with errno set otherwise (EIO
 * when the descriptor takes nothing). */
int wb_write_all(int fd, const void *data, size_t len);
/* Read a whole file of at most `max` bytes (ENOENT is reported as such: err->code). The caller
 * frees *data; it is NUL-terminated (not counted in *len). */
int wb_read_file(const char *path, size_t max, uint8_t **data, size_t *len, wb_error *err);
/* Open (creating it, 0600) and flock exclusively the lock file `path`; its fd, closed to unlock,
 * or -1. */
int wb_lock_file(const char *path, wb_error *err);
/* mkdir -p with `mode` for the directories it creates. */
int wb_mkdir_p(const char *path, mode_t mode, wb_error *err);
/* rm -rf, not following symlinks and not crossing into other filesystems' mount points. */
int wb_remove_tree(const char *path, wb_error *err);
/* fsync a directory (after renames into it). */
int wb_fsync_dir(const char *path, wb_error *err);
/* snprintf into a fixed buffer, failing (ENAMETOOLONG) if it does not fit. */
int wb_path_join(char *buf, size_t size, wb_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The user's home directory: $HOME, else the effective uid's entry in /etc/passwd; false when
 * neither gives one. */
bool wb_home_dir(char *buf, size_t size);

/* rename(from, to) that fails with EEXIST when `to` exists (renameat2 RENAME_NOREPLACE, called
 * through syscall(): musl, which the static core is linked with, has no wrapper). */
int wb_rename_noreplace(const char *from, const char *to);

#endif
