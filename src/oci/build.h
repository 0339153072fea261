/* oci/build.h — building images from a Dockerfile as Docker's classic builder does: stages, one
 * layer per COPY/ADD, the config (Env, Entrypoint, Cmd, WorkingDir, Labels, …) with history, a
 * cache of steps under ROOT/images/buildcache (a rebuild with nothing changed yields the same
 * image ID), and progress lines ("Step 1/5 : FROM scratch", " ---> Using cache").
 * Durability: layers and configs are committed blobs, cache entries are written atomically after
 * the blobs they name, and the image is registered last; a killed build leaves no image. */
#ifndef WB_OCI_BUILD_H
#define WB_OCI_BUILD_H

#include <stdbool.h>
#include <stdio.h>

#include "base/error.h"
#include "oci/platform.h"
#include "oci/digest.h"
#include "oci/store.h"

typedef struct wb_build_opts {
    const char *context;    /* the context directory */
    const char *dockerfile; /* path of the Dockerfile; NULL: CONTEXT/Dockerfile */
    /* or its text (read from stdin by the CLI), named `dockerfile_name` in messages */
    const char *dockerfile_text;
    size_t dockerfile_len;
    const char *dockerfile_name;
    const char *const *tags; /* full names ("docker.io/library/hello:latest") */
    size_t ntags;
    const char *platform;          /* "os/arch[/variant]"; NULL: the FROM image's, or the host's */
    const char *const *build_args; /* "K=V", or "K" (its value from the environment) */
    size_t nbuild_args;
    const char *target; /* the stage to build; NULL: the last */
    bool no_cache;
    FILE *out;  /* progress lines; NULL for none (-q) */
    FILE *warn; /* notes and warnings */
    /* FROM of an image the store lacks: fetch it (the registry client's hook), or NULL */
    int (*pull)(void *ctx, wb_images *s, const char *ref, const char *platform,
                char manifest_digest[WB_DIGEST_MAX], wb_error *err);
    void *pull_ctx;
} wb_build_opts;

typedef struct wb_build_result {
    char image_id[WB_DIGEST_MAX]; /* the config's digest */
    char manifest[WB_DIGEST_MAX];
} wb_build_result;

/* Build and register the image. Errors in the Dockerfile or with its sources name the file and
 * line ("Dockerfile:3: RUN false: process \"/bin/sh -c false\" did not complete successfully: exit
 * code: 1"). RUN needs root (its build containers are Linux containers). */
int wb_build(wb_images *s, const wb_build_opts *o, wb_build_result *res, wb_error *err);

/* Platforms: oci/platform.h. */

#endif
