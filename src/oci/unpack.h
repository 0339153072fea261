/* oci/unpack.h — image layers read from the store, checked as they stream: each tar layer is
 * decompressed once, the SHA-256 of its uncompressed bytes is compared with the image config's
 * diff_id for that layer, and its uncompressed size and entry count stop at caps. Unpacking the
 * rootfs (image.c), pulling and loading (which check before they register an image) go through
 * here; the builder checks its base layers the same way (context.c, wb_tartree_limits.diff_id). */
#ifndef WB_OCI_UNPACK_H
#define WB_OCI_UNPACK_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "oci/image.h"
#include "oci/store.h"
#include "oci/tar.h"

/* The defaults, sized for real images: the largest layers of common images (CUDA, ML framework
 * bases) are a few GiB uncompressed and hold at most a few hundred thousand files. */
#define WB_LAYER_DEFAULT_MAX_BYTES   ((uint64_t)16 << 30)
#define WB_LAYER_DEFAULT_MAX_ENTRIES 1000000
#define WB_LAYER_SIZE_SETTING        "WASMBOX_MAX_LAYER_SIZE"
#define WB_LAYER_ENTRIES_SETTING     "WASMBOX_MAX_LAYER_ENTRIES"

/* The caps for one layer: $WASMBOX_MAX_LAYER_SIZE (bytes, or a number with a K, M, G or T suffix
 * in powers of 1024: "512M", "16GiB") and $WASMBOX_MAX_LAYER_ENTRIES, else the defaults. A
 * malformed or zero value is an error naming the variable. */
int wb_layer_limits(wb_tar_limits *lim, wb_error *err);
/* Parse a size as $WASMBOX_MAX_LAYER_SIZE takes it; false when malformed or zero. */
bool wb_parse_size(const char *text, uint64_t *out);

/* After a wb_tar_* call refused for a cap (stats->over_limit), name the setting that raises it
 * in err's message: "… (the limit; set WASMBOX_MAX_LAYER_SIZE to raise it)". */
void wb_layer_limit_hint(wb_error *err, int over_limit);

/* Is this media type a tar layer (OCI or Docker; plain, gzip or zstd)? */
bool wb_layer_is_tar(const char *media_type);

/* Read the tar layer l (its blob in s) under the caps lim (NULL: wb_layer_limits), its
 * uncompressed SHA-256 checked against l->diff_id (which must be a valid digest). dest NULL: a
 * check only, nothing is written. Else the layer is unpacked onto dest with whiteouts applied; on
 * failure dest may hold part of it, and the caller discards dest. Every error is one line naming
 * the layer: "layer sha256:…: uncompressed content sha256:… does not match the image config's
 * diff_id sha256:…", "layer sha256:…: archive entry `big`: … (the limit; set
 * WASMBOX_MAX_LAYER_SIZE to raise it)". */
int wb_layer_unpack(wb_images *s, const wb_layer_desc *l, const char *dest,
                    const wb_tar_limits *lim, wb_error *err);

/* The same onto a fresh directory dest, alone, its whiteouts kept in overlayfs's format
 * (WB_TAR_OVERLAY_WHITEOUTS; needs root): one layer of a stack (layers.h). */
int wb_layer_unpack_overlay(wb_images *s, const wb_layer_desc *l, const char *dest,
                            const wb_tar_limits *lim, wb_error *err);

/* Check every tar layer of img without writing anything (pull and load, before they register
 * it). */
int wb_image_check_layers(wb_images *s, const wb_image *img, wb_error *err);

#endif
