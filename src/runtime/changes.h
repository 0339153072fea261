/* runtime/changes.h — what a container changed in its root (its overlay's upper directory, over
 * the image's rootfs): `diff` lists it, `commit` makes it a layer of a new image. */
#ifndef WB_RUNTIME_CHANGES_H
#define WB_RUNTIME_CHANGES_H

#include <stdio.h>

#include "base/error.h"
#include "oci/digest.h"
#include "runtime/container.h"

/* Docker's `diff`: one line per changed path, sorted: "A /new", "C /changed", "D /deleted" (a
 * directory that holds changes and existed in the image is "C"). */
int wb_container_diff(wb_container *c, FILE *out, wb_error *err);

typedef struct wb_commit_opts {
    const char *tag;     /* REPO[:TAG] or NULL (an untagged image) */
    const char *message; /* -m: the history's comment */
    const char *author;  /* -a */
    bool pause;          /* freeze a running container while its changes are read (Docker's
                          * default) */
} wb_commit_opts;

/* Docker's `commit`: the container's changes as a new layer over its image's, its Config (Cmd,
 * Entrypoint, Env, WorkingDir, User, ExposedPorts, Labels) as the new image's config, a history
 * entry; registered under opts->tag. Writes the new image's ID (its config digest). */
int wb_container_commit(wb_container *c, const wb_commit_opts *opts, char id[WB_DIGEST_MAX],
                        wb_error *err);

#endif
