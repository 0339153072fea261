/* oci/tar.h — reading tar archives from untrusted sources (layers, `import` tarballs, `load`
 * archives) safely: nothing is ever written outside the destination, and sizes are capped. */
#ifndef WB_OCI_TAR_H
#define WB_OCI_TAR_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "oci/digest.h"

typedef struct wb_tar_limits {
    uint64_t max_bytes;   /* total uncompressed bytes (a gzip bomb stops here); 0 = 16 GiB */
    uint64_t max_entries; /* 0 = 1,000,000 */
} wb_tar_limits;

enum {
    WB_TAR_APPLY_WHITEOUTS = 1,   /* OCI whiteouts (.wh.NAME, .wh..wh..opq) delete from dest */
    WB_TAR_REFUSE_WHITEOUTS = 2,  /* a whiteout entry is an error (a single-layer import) */
    WB_TAR_REFUSE_DUPLICATES = 4, /* the same path twice is an error */
    WB_TAR_DIGEST = 8, /* compute stats->digest (the whole uncompressed stream is then read) */
    WB_TAR_KEEP_OWNERS = 16,       /* entries get the archive's uid/gid (as root: `cp -a`) */
    WB_TAR_KEEP_DIRS = 32,         /* a directory and a non-directory never replace each other (an
                                    * error, as Docker's noOverwriteDirNonDir) */
    WB_TAR_OVERLAY_WHITEOUTS = 64, /* whiteouts kept in overlayfs's format, for a layer unpacked
                                    * alone into a fresh directory: `.wh.NAME` becomes a 0/0
                                    * character device NAME (unless the archive has NAME itself),
                                    * `.wh..wh..opq` the xattr trusted.overlay.opaque=y on its
                                    * directory. Needs root (CAP_MKNOD, CAP_SYS_ADMIN). */
};

/* What stopped an archive at a cap (stats->over_limit). */
enum { WB_TAR_OVER_BYTES = 1, WB_TAR_OVER_ENTRIES = 2 };

/* Filled on success and (as far as the walk got) on failure. */
typedef struct wb_tar_stats {
    uint64_t entries;
    uint64_t bytes;             /* uncompressed content (declared sizes of regular files) */
    uint64_t stream_bytes;      /* with WB_TAR_DIGEST: the uncompressed stream's length */
    char digest[WB_DIGEST_MAX]; /* with WB_TAR_DIGEST: SHA-256 of the uncompressed stream */
    int over_limit;             /* WB_TAR_OVER_*: refused for a cap (the limit message ends in
                                   "(the limit)"); 0 otherwise */
} wb_tar_stats;

/* Extract `archive` (plain, gzip, zstd, xz or bzip2; detected) beneath `dest` (an existing
 * directory), reading it through wb_tar_stream (tar_stream.h). Refused with a clear error naming
 * the entry: absolute names, `..` components, entries reached through a symlink, hard links to
 * outside, device nodes, (per flags) whiteouts and duplicates. The caps: an entry whose declared
 * size would take the content past max_bytes is refused before any of its data is written, the
 * uncompressed stream stops at max_bytes, and the (max_entries + 1)th entry is refused. Entries
 * beneath a whiteout name (`.wh.x/y`) are skipped when whiteouts are applied (refused when they
 * are refused). Blocks of zeros are left as holes (a file of zeros takes no disk). On error, dest
 * may hold part of the archive: extract into a fresh directory and discard it on failure.
 * Ownership is not applied (the store runs unprivileged files) unless WB_TAR_KEEP_OWNERS. */
int wb_tar_extract(const char *archive, const char *dest, const wb_tar_limits *lim, unsigned flags,
                   wb_tar_stats *stats, wb_error *err);

/* The same, reading the archive from an open descriptor (a pipe, stdin); `name` is used in
 * messages. The descriptor is read to the end of the archive and left open. */
int wb_tar_extract_fd(int fd, const char *name, const char *dest, const wb_tar_limits *lim,
                      unsigned flags, wb_tar_stats *stats, wb_error *err);

/* Check an archive without extracting it (same rules). */
int wb_tar_scan(const char *archive, const wb_tar_limits *lim, unsigned flags, wb_tar_stats *stats,
                wb_error *err);

#endif
