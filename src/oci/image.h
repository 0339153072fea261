/* oci/image.h — images as documents: parsing manifests, indexes and configs, writing new
 * images, choosing a platform, telling Wasm images apart, and unpacking a rootfs. */
#ifndef WB_OCI_IMAGE_H
#define WB_OCI_IMAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "oci/digest.h"
#include "oci/store.h"

/* Media types */
#define WB_MT_OCI_MANIFEST      "application/vnd.oci.image.manifest.v1+json"
#define WB_MT_OCI_INDEX         "application/vnd.oci.image.index.v1+json"
#define WB_MT_OCI_CONFIG        "application/vnd.oci.image.config.v1+json"
#define WB_MT_OCI_LAYER         "application/vnd.oci.image.layer.v1.tar"
#define WB_MT_OCI_LAYER_GZIP    "application/vnd.oci.image.layer.v1.tar+gzip"
#define WB_MT_OCI_LAYER_ZSTD    "application/vnd.oci.image.layer.v1.tar+zstd"
#define WB_MT_DOCKER_MANIFEST   "application/vnd.docker.distribution.manifest.v2+json"
#define WB_MT_DOCKER_LIST       "application/vnd.docker.distribution.manifest.list.v2+json"
#define WB_MT_DOCKER_CONFIG     "application/vnd.docker.container.image.v1+json"
#define WB_MT_DOCKER_LAYER      "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define WB_MT_WASM_CONFIG       "application/vnd.wasm.config.v0+json"
#define WB_MT_WASM_LAYER        "application/wasm"
#define WB_MT_RUNWASI_COMPONENT "application/vnd.bytecodealliance.wasm.component.layer.v0+wasm"
#define WB_MT_RUNWASI_MODULE    "application/vnd.w3c.wasm.module.v1+wasm"

/* Size caps for documents read from blobs or archives. */
#define WB_MAX_MANIFEST_BYTES ((size_t)4 << 20)
#define WB_MAX_CONFIG_BYTES   ((size_t)8 << 20)
#define WB_MAX_LAYERS         1000

typedef struct wb_layer_desc {
    char media_type[128];
    char digest[WB_DIGEST_MAX]; /* of the blob as stored */
    uint64_t size;
    char diff_id[WB_DIGEST_MAX]; /* of the uncompressed tar ("" for non-tar layers) */
} wb_layer_desc;

typedef enum wb_wasm_kind {
    WB_WASM_NOT = 0,  /* a Linux image */
    WB_WASM_PLATFORM, /* config platform wasi/wasm (or wasi/wasm32): the module in a rootfs layer */
    WB_WASM_ARTIFACT, /* CNCF Wasm artifact: config application/vnd.wasm.config.v0+json, layers
                         application/wasm holding the raw module */
    WB_WASM_RUNWASI,  /* runwasi's layer types hold the raw module */
    WB_WASM_COMPAT,   /* a Linux image annotated module.wasm.image/variant=compat */
    WB_WASM_MAGIC,    /* a Linux image whose entrypoint file starts with \0asm */
    WB_WASM_SPIN,     /* a Spin app pushed by `spin registry push` (oci/spin_artifact.h) */
} wb_wasm_kind;

/* Kinds whose config is not an image config (no os/architecture): their platform is wasi/wasm. */
static inline bool wb_image_is_wasm_artifact(wb_wasm_kind k) {
    return k == WB_WASM_ARTIFACT || k == WB_WASM_RUNWASI || k == WB_WASM_SPIN;
}

typedef struct wb_image {
    char manifest_digest[WB_DIGEST_MAX];
    char config_digest[WB_DIGEST_MAX]; /* the image ID */
    char config_media_type[128];
    char os[32], arch[32], variant[32];
    wb_layer_desc *layers;
    size_t nlayers;
    /* from config.config (NULL / 0 when absent) */
    char **entrypoint;
    size_t nentrypoint;
    char **cmd;
    size_t ncmd;
    char **env; /* "K=V" */
    size_t nenv;
    char *workdir, *user;
    json_t *manifest; /* the parsed documents (owned) */
    json_t *config;
    wb_wasm_kind wasm; /* WB_WASM_MAGIC is only known after wb_image_wasm_open */
} wb_image;

/* Load a registered image (its manifest and config blobs). */
int wb_image_load(wb_images *s, const char *manifest_digest, wb_image **out, wb_error *err);
void wb_image_free(wb_image *img);

/* Parse and check a manifest document: mediaType consistent with `content_type` (may be NULL),
 * a document with both `manifests` and `layers` refused, digests valid, at most WB_MAX_LAYERS. */
int wb_manifest_parse(const uint8_t *data, size_t len, const char *content_type, json_t **out,
                      wb_error *err);
/* Is this document an index (OCI index / Docker manifest list)? */
bool wb_manifest_is_index(const json_t *doc);
/* From an index, the manifest descriptor for os/arch (variant optional), skipping
 * unknown/unknown attestation entries. On a miss, err lists the platforms present. */
int wb_index_select(const json_t *index, const char *os, const char *arch,
                    char digest[WB_DIGEST_MAX], wb_error *err);

/* Write a new image: the config document (serialised canonically) and an OCI manifest over
 * `layers`, then register it under `tags`. Writes the manifest digest. The config's rootfs.diff_ids
 * must match the layers (the caller builds it). */
int wb_image_commit(wb_images *s, json_t *config, const wb_layer_desc *layers, size_t nlayers,
                    const char *const *tags, size_t ntags, char manifest_digest[WB_DIGEST_MAX],
                    wb_error *err);

/* A config skeleton for a new image: {"architecture", "os", "created", "config": {}, "rootfs":
 * {"type": "layers", "diff_ids": []}, "history": []}. */
json_t *wb_config_new(const char *os, const char *arch);

/* The unpacked rootfs of an image (its tar layers applied in order), created on first use under
 * ROOT/images/rootfs/<config hex> (atomically: unpacked aside, then renamed). Malloc'd path. */
int wb_image_rootfs(wb_images *s, const wb_image *img, char **path, wb_error *err);

/* Whether wb_image_rootfs would unpack tar layers (which needs libarchive): the image has some
 * and they are not unpacked yet. */
bool wb_image_rootfs_needs_unpack(wb_images *s, const wb_image *img);

/* Open the image's Wasm module (a descriptor, read-only): for rootfs images, the entrypoint's
 * file inside the image's files (layers.h; this also settles WB_WASM_MAGIC); for artifacts and
 * runwasi layers, the layer blob. Fails with "exec format error" naming the file when the
 * entrypoint is not a Wasm module. */
int wb_image_wasm_open(wb_images *s, wb_image *img, wb_error *err);

#endif
