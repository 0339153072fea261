/* oci/build_root.h — layers on disk for RUN and commit (module-internal to oci/ and runtime/
 * changes.c): a RUN's (or a container's) overlay upper directory written as a layer blob, and the
 * owners a layer's headers give, applied to a directory the layer was unpacked into. A RUN's
 * lower directories are the stage's layers, each unpacked once in the store (layers.h). */
#ifndef WB_OCI_BUILD_ROOT_H
#define WB_OCI_BUILD_ROOT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/error.h"
#include "oci/image.h"
#include "oci/layers.h"
#include "oci/store.h"

/* After a layer (the blob at `blob`) was unpacked onto `root` (its own directory in the store,
 * layers.h, or as root an image's flattened rootfs, wb_image_rootfs): the owners and
 * setuid/setgid bits the unpacker leaves out (it makes root's files), applied from the layer's
 * headers. Paths are resolved beneath the root without following symlinks. */
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
int wb__upper_write_layer(wb_images *s, const char *upper, const wb_lowers *lower,
                          wb_layer_desc *desc, wb_upper_stats *stats, wb_error *err);

#endif
