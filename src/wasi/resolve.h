/* wasi/resolve.h — resolving guest paths beneath a directory fd (the WASI sandbox).
 *
 * Every path a guest passes is relative to one of its directory fds and must never name anything
 * outside it: absolute paths, `..` that climbs above the directory (even transiently, as in
 * `a/../../x`), and symbolic links whose target is absolute or climbs out are refused with
 * ENOTCAPABLE; nothing is ever "clamped" back inside. Linux openat2(2) with RESOLVE_BENEATH does
 * the walk in the kernel; where it is missing (ENOSYS) a component-by-component walk with
 * O_NOFOLLOW and our own symlink expansion does the same.
 *
 * Setting the environment variable WASMBOX_WASI_NO_OPENAT2=1 forces the component walk even where
 * openat2 exists (the sandbox tests run both ways); it is read at each resolution, so a process
 * may switch between the two. */
#ifndef WB_WASI_RESOLVE_H
#define WB_WASI_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "wasi/wasi_internal.h"

/* Flags of wasi_resolve and wasi_open_beneath. */
enum {
    WASI_RESOLVE_FOLLOW = 1 << 0,    /* follow symbolic links in the final component too */
    WASI_RESOLVE_SLASH_DIR = 1 << 1, /* a lookup: a trailing slash makes the whole path name a
                                      * directory (symlinks in it followed), as stat(2) does */
    WASI_RESOLVE_WALK = 1 << 2,      /* use the component walk even when openat2 is available */
};

/* Symbolic links followed in one resolution before ELOOP (Linux's limit). */
#define WASI_MAX_SYMLINKS 40

/* A resolved path: the directory holding the final component and that component's name, so that
 * *at(2) calls act on (dirfd, name) with no further walking (name is never a path). */
typedef struct wasi_path {
    int dirfd;  /* the base fd itself (owned false) or a new O_PATH directory fd */
    bool owned; /* dirfd is ours: wasi_path_release closes it */
    char *name; /* malloc'd; never empty and without '/', except that it keeps the guest's
                 * trailing '/' when the operation creates or removes entries (so the kernel
                 * answers ENOTDIR for files, as for mkdir("d/")); "." when the path names the
                 * directory dirfd itself (final "." or "..", or a trailing slash on a lookup) */
} wasi_path;

/* Checks that guest bytes form a valid path: not empty (ENOENT), at most WASI_MAX_PATH bytes
 * (ENAMETOOLONG), no NUL (EINVAL), valid UTF-8 (EILSEQ), relative (ENOTCAPABLE).
 * Returns 0 or a WASI errno. */
uint16_t wasi_path_check(const char *path, size_t len);

/* Resolves guest path (len bytes, not NUL-terminated) beneath directory `dirfd`, following
 * symbolic links in all but the final component, and in it too with WASI_RESOLVE_FOLLOW.
 * Returns 0 and fills *out (release it with wasi_path_release), or a WASI errno (*out untouched).
 */
uint16_t wasi_resolve(int dirfd, const char *path, size_t len, unsigned flags, wasi_path *out);
void wasi_path_release(wasi_path *p);

/* openat(2) of guest path beneath dirfd: `oflags` are host O_* flags (O_CLOEXEC and, unless
 * WASI_RESOLVE_FOLLOW, O_NOFOLLOW are added), `mode` is used with O_CREAT. The final component is
 * followed only with WASI_RESOLVE_FOLLOW (a trailing slash follows it as the kernel does).
 * Returns 0 with the new host fd in *out_fd (the caller owns it), or a WASI errno. */
uint16_t wasi_open_beneath(int dirfd, const char *path, size_t len, unsigned flags, int oflags,
                           mode_t mode, int *out_fd);

/* ---- file metadata, shared by fd.c and path.c (defined in fd.c) ---- */

/* WASI filetype of a stat(2) mode. */
uint8_t wasi_filetype_of_mode(mode_t mode);
/* Writes a WASI filestat (WASI_FILESTAT_SIZE bytes; the caller checked the bounds) at ptr. */
void wasi_put_filestat(wasi_mem *m, uint32_t ptr, const struct stat *st);
/* Times for utimensat/futimens from fd/path_filestat_set_times arguments: UTIME_NOW, UTIME_OMIT
 * or the timestamp. EINVAL for unknown flags or a time given both as a value and as "now". */
uint16_t wasi_timespecs(uint64_t atim, uint64_t mtim, uint32_t fstflags, struct timespec ts[2]);

#endif
