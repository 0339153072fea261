/* oci/build_root.h — a build stage's file system on disk, for RUN (module-internal to
 * oci/build*.c). A stage that runs commands keeps one plain directory (its "root"): a hard-link
 * copy of the base image's unpacked rootfs plus the stage's later layers, used read-only as the
 * lower directory of each RUN's overlay. A RUN's overlay upper directory becomes a layer (overlayfs
 * whiteouts turned into Docker's `.wh.` entries) and is then moved into the root, so the next RUN
 * sees it. */
#ifndef WB_OCI_BUILD_ROOT_H
#define WB_OCI_BUILD_ROOT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/error.h"
#include "oci/image.h"
#include "oci/store.h"

/* Recreate the tree `src` at `dst` (which must not exist): directories are made with src's mode,
 * owner and mtime, everything else is hard-linked (copied where a link is refused: another file
 * system, a link count at its maximum). The root never writes into a file in place (layers
 * replace files by unlink + create, RUN writes go to its overlay's upper directory), so the shared
 * rootfs it links to is never changed. */
int wb__root_link_copy(const char *src, const char *dst, wb_error *err);

/* After a layer (the blob at `blob`) was unpacked onto the root (a stage's, or as root an image's
 * rootfs in wb_image_rootfs): the owners and setuid/setgid
 * bits the unpacker leaves out (it makes root's files), applied from the layer's headers. Paths
 * are resolved beneath the root without following symlinks; a file still hard-linked to the
 * image's rootfs is copied first. */
int wb__root_apply_owners(const char *blob, const char *root, wb_error *err);

/* What wb__upper_write_layer did. */
typedef struct wb_upper_stats {
    size_t entries; /* tar entries written (0: the command changed nothing) */
    size_t skipped; /* FIFOs, sockets and device nodes: layers here cannot hold them */
} wb_upper_stats;

/* Write the overlay upper directory `upper` of a RUN as a layer blob: every entry with its mode
 * (setuid bits too), owner and mtime, in path order (a directory right before its content); hard
 * links within the upper as tar hard links; a whiteout (a 0/0 character device) as `.wh.NAME`; a
 * directory marked opaque (xattr trusted.overlay.opaque=y) followed by `.wh..wh..opq`. Empty files
 * and directories the runtime made as mount points (/proc, /sys, /dev, /etc/hostname, /etc/hosts,
 * /etc/resolv.conf) where `lower` lacks them are left out. With no entry at all, nothing is
 * committed (stats->entries is 0, *desc untouched). */
int wb__upper_write_layer(wb_images *s, const char *upper, const char *lower, wb_layer_desc *desc,
                          wb_upper_stats *stats, wb_error *err);

/* Move the content of `upper` into `root` (the lower it was mounted over): whiteouts delete,
 * opaque directories are emptied first, files and links are renamed into place (keeping owners,
 * modes and times), overlayfs's own xattrs are dropped. `upper` is consumed. */
int wb__upper_apply(const char *upper, const char *root, wb_error *err);

#endif
