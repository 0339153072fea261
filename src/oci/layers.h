/* oci/layers.h — an image's files as a stack of directories ("lowers"), for containers and
 * builds to mount with overlayfs and for the few reads done outside a container (the Wasm
 * entrypoint, `diff`, volume copy-up).
 *
 * As root, each tar layer is unpacked once, on its own, in overlayfs's format, and shared
 * read-only by every image, container and build that lists it: ROOT/images/layers/<diff_id
 * hex> holds the layer's files with their owners and modes, a whiteout as a 0/0 character
 * device, an opaque directory with trusted.overlay.opaque=y. A layer is unpacked aside (its
 * uncompressed digest checked against the diff_id as it streams, unpack.h) and renamed into
 * place, so a killed unpack leaves only a .tmp directory, and two racing unpacks leave one good
 * directory. The store's GC removes layer directories no image lists.
 *
 * Without root (no device nodes, trusted xattrs or overlay mounts) the stack is one directory:
 * the image's flattened rootfs (wb_image_rootfs).
 *
 * Ownership: a wb_lowers owns its strings; free with wb_lowers_free. */
#ifndef WB_OCI_LAYERS_H
#define WB_OCI_LAYERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "base/error.h"
#include "oci/image.h"
#include "oci/store.h"

typedef struct wb_lowers {
    char **dirs; /* top layer first, as overlayfs's lowerdir lists them */
    size_t n;    /* 0: the image has no tar layer (an empty root) */
} wb_lowers;

/* The stack for these layers (an image's, bottom first as a manifest lists them), unpacking
 * what is missing. Non-tar layers (a Wasm artifact's module) are skipped. */
int wb_layers_lowers(wb_images *s, const wb_layer_desc *layers, size_t n, wb_lowers *out,
                     wb_error *err);
/* An image's: its tar layers' stack; a Spin artifact's root made of it (oci/spin_artifact.h). */
int wb_image_lowers(wb_images *s, const wb_image *img, wb_lowers *out, wb_error *err);
/* Whether wb_image_lowers would unpack something (which needs libarchive). */
bool wb_image_lowers_need_unpack(wb_images *s, const wb_image *img);
/* Does this process keep layers apart (root), or flatten them (wb_image_rootfs)? */
bool wb_layers_apart(void);
void wb_lowers_free(wb_lowers *l);

/* The directory of one layer (ROOT/images/layers/<hex>) into buf. */
int wb_layer_dir(wb_images *s, const char *diff_id, char *buf, size_t size, wb_error *err);

/* Mount an overlay at target: dirs (n ≥ 1, top first) below, upper/work above (both NULL: a
 * read-only view, which needs n ≥ 2 — one directory alone is bound read-only instead). `extra`
 * (or NULL) is appended to the options ("volatile"). Paths holding ',' or ':' are refused. The
 * kernel takes one page of options: when absolute paths do not fit, the layers are named
 * relative to their common parent (the mount is made from there and the working directory put
 * back). */
int wb_overlay_mount(const char *target, char *const *dirs, size_t n, const char *upper,
                     const char *work, unsigned long flags, const char *extra, wb_error *err);

/* Reads through the stack with overlayfs's rules (the topmost entry wins, whiteouts and opaque
 * directories hide what is below, symlinks are followed inside the stack and never out of it).
 * wb_lowers_lstat: the entry at path (a final symlink not followed); -1 with errno (ENOENT,
 * ENOTDIR, ELOOP, ENAMETOOLONG). wb_lowers_open: opens the entry, following a final symlink,
 * with oflags (O_RDONLY, O_DIRECTORY: a directory fd is its topmost layer's, not a merged
 * listing); -1 with errno. */
int wb_lowers_lstat(const wb_lowers *l, const char *path, struct stat *st);
int wb_lowers_open(const wb_lowers *l, const char *path, int oflags);

/* Run fn in a child process that sees the stack merged, read-only, at a directory it is given
 * (an overlay in a private mount namespace, gone with the child). fn returns 0 or -1 with its
 * err, which is passed back. Needs root unless the stack is a single directory. */
int wb_lowers_with_view(const wb_lowers *l, int (*fn)(const char *root, void *arg, wb_error *err),
                        void *arg, wb_error *err);

#endif
