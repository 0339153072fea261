/* oci/tar.h — reading tar archives from untrusted sources (layers, `import` tarballs, `load`
 * archives) safely: nothing is ever written outside the destination, and sizes are capped. */
#ifndef WB_OCI_TAR_H
#define WB_OCI_TAR_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

typedef struct wb_tar_limits {
    uint64_t max_bytes;   /* total uncompressed bytes (a gzip bomb stops here); 0 = 16 GiB */
    uint64_t max_entries; /* 0 = 1,000,000 */
} wb_tar_limits;

enum {
    WB_TAR_APPLY_WHITEOUTS = 1,   /* OCI whiteouts (.wh.NAME, .wh..wh..opq) delete from dest */
    WB_TAR_REFUSE_WHITEOUTS = 2,  /* a whiteout entry is an error (a single-layer import) */
    WB_TAR_REFUSE_DUPLICATES = 4, /* the same path twice is an error */
};

typedef struct wb_tar_stats {
    uint64_t entries;
    uint64_t bytes; /* uncompressed content */
} wb_tar_stats;

/* Extract `archive` (plain, gzip or zstd; detected) beneath `dest` (an existing directory).
 * Refused with a clear error naming the entry: absolute names, `..` components, entries reached
 * through a symlink, hard links to outside, device nodes, over-limit sizes, (per flags) whiteouts
 * and duplicates. On error, dest may hold part of the archive: extract into a fresh directory and
 * discard it on failure. Ownership is not applied (the store runs unprivileged files). */
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
