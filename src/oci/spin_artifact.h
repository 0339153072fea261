/* oci/spin_artifact.h — Spin applications as `spin registry push` stores them: an OCI artifact
 * whose config (WB_MT_SPIN_CONFIG) is Spin's locked application and whose layers are the raw
 * contents it names by digest: Wasm modules (WB_MT_SPIN_WASM) and files (WB_MT_SPIN_DATA; an
 * empty file travels as two placeholder bytes with the annotation WB_SPIN_EMPTY_ANNOTATION).
 * Newer Spin pushes the locked app as a layer of that media type instead, with a plain image
 * config (os "wasip1", arch "wasm"); both shapes are read. With many files (or
 * SPIN_OCI_ARCHIVE_LAYERS set) Spin pushes a component's files as one tar.gz layer
 * (WB_MT_SPIN_ARCHIVE) while its locked app still names each file by its own digest: such a
 * layer is unpacked and its files kept by digest.
 * wasmbox pulls such an artifact as it is (its digest stays Spin's) and runs it with the Spin
 * runtime (apps/spin.h) from a root made of it once per image, in the store beside the unpacked
 * roots of other images (named by the config digest, so image GC removes it with the image):
 *   /spin.json                      the locked app, every content reference as {"digest": ...}
 *   /.spin-oci/sha256/<hex>         each content: the layers, and inline contents written out */
#ifndef WB_OCI_SPIN_ARTIFACT_H
#define WB_OCI_SPIN_ARTIFACT_H

#include "base/error.h"
#include "oci/image.h"
#include "oci/store.h"

#define WB_MT_SPIN_CONFIG        "application/vnd.fermyon.spin.application.v1+config"
#define WB_MT_SPIN_WASM          "application/vnd.wasm.content.layer.v1+wasm"
#define WB_MT_SPIN_DATA          "application/vnd.wasm.content.layer.v1+data"
#define WB_MT_SPIN_ARCHIVE       "application/vnd.wasm.content.bundle.v1.tar+gzip"
#define WB_SPIN_EMPTY_ANNOTATION "com.fermyon.spin.application.layer.isEmpty"
#define WB_SPIN_CONTENT_DIR      ".spin-oci" /* in the root, relative to "/" */

/* The root of a Spin artifact image (img->wasm == WB_WASM_SPIN), made if missing: *path is a new
 * string the caller frees. Refused with a message: a layer of another type, a content reference
 * without a digest or inline content, a digest no layer has, inline content that is not
 * base64, more than WB_MAX_LAYERS contents. A killed run leaves only a .tmp directory (removed
 * by image GC); two runs racing leave one good root. */
int wb_spin_artifact_root(wb_images *s, const wb_image *img, char **path, wb_error *err);

#endif
