/* oci/context.h — what the builder reads from outside the store, read safely.
 * - The build context: walked once into a tree with .dockerignore applied (what Docker would send
 *   to its daemon); its files are then opened beneath the context directory with every symlink
 *   refused (they were resolved in the tree, inside it), so nothing outside the context can be
 *   read, even if the directory changes during the build.
 * - Tar archives (layers of base images, archives given to ADD), read into trees: entry names
 *   are only keys, nothing is created from them, and the data of chosen entries is fetched into
 *   files the caller names. */
#ifndef WB_OCI_CONTEXT_H
#define WB_OCI_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "oci/fstree.h"

#define WB_CONTEXT_MAX_IGNORE_BYTES ((size_t)1 << 20)

typedef struct wb_context {
    char *dir;             /* as given */
    int dirfd;             /* the context directory */
    wb_fstree *tree;       /* what COPY and ADD may see */
    wb_ignore *ignore;     /* NULL without a .dockerignore */
    uint64_t files, bytes; /* regular files in the tree and their size */
} wb_context;

/* Walk `dir`. `ignore_file` is the .dockerignore to use (NULL: DIR/.dockerignore; a missing file is
 * no exclusion). Symlinks are recorded, never followed; sockets, fifos and devices are left out. */
int wb_context_open(const char *dir, const char *ignore_file, wb_context **out, wb_error *err);
void wb_context_free(wb_context *c);
/* Open a regular file of the tree (path: its resolved path, without symlinks) beneath the context
 * directory, refusing symlinks anywhere on the way and a file that is no longer the one walked. */
int wb_context_open_file(const wb_context *c, const char *path, const wb_fsnode *n, int *fd,
                         wb_error *err);

enum {
    WB_TARTREE_LAYER = 1,   /* OCI whiteouts apply (a layer over `t`); leading slashes dropped */
    WB_TARTREE_ARCHIVE = 2, /* an archive for ADD: whiteouts, absolute names, devices refused */
};

typedef struct wb_tartree_limits {
    uint64_t max_bytes;   /* content of regular files, and the uncompressed stream; 0 = 16 GiB */
    uint64_t max_entries; /* 0 = 1,000,000 */
    const char *diff_id;  /* a layer: the SHA-256 its uncompressed stream must have (NULL: none) */
} wb_tartree_limits;

/* Apply the tar read from fd (plain, gzip, zstd, xz, bzip2; from offset 0; through
 * wb_tar_stream) to the tree. Nodes get layer = `index` and entry = the entry's ordinal. Entries
 * with `..` components are refused; an entry beneath a symlink or a file is refused (ENOTDIR);
 * in a layer, entries beneath a whiteout name (`.wh.x/y`) are skipped. With lim->diff_id, the
 * whole stream is read and a different digest is an error (EIO); the tree then holds the
 * layer's entries all the same, and the caller drops it. Over a cap: EFBIG, message ending in
 * "(the limit)". */
int wb_tartree_read(int fd, int index, unsigned flags, const wb_tartree_limits *lim, wb_fstree *t,
                    wb_error *err);
/* Is the file a tar archive (possibly compressed)? (reads from offset 0) */
bool wb_tartree_is_archive(int fd);
/* Write the content of the entries with the given ordinals (ascending) to DIR/<ordinal>. */
int wb_tartree_fetch(int fd, const uint64_t *entries, size_t n, int dirfd, wb_error *err);

#endif
