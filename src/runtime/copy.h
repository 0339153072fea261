/* runtime/copy.h — a container's file system seen from the CLI process: `cp` in and out of it and
 * `export` of all of it. Paths inside the container are resolved by the kernel as if its root were
 * "/" (openat2 RESOLVE_IN_ROOT): a symlink made by the image or the container never leads to the
 * host. Files move as tar streams (libarchive), extracted by oci/tar.c's extractor, which never
 * follows a symlink beneath where it extracts. */
#ifndef WB_RUNTIME_COPY_H
#define WB_RUNTIME_COPY_H

#include <stdbool.h>

#include "base/error.h"
#include "runtime/container.h"

enum {
    WB_CROOT_WRITE = 1, /* to be written (a stopped container's overlay is mounted read-write) */
    WB_CROOT_LIVE = 2,  /* a running container as its processes see it (its mounts too) */
};

/* A container's root opened in this process. Without WB_CROOT_LIVE, or for a container that is
 * not running, the container's overlay (its upper directory over the image's rootfs; read-only
 * unless WB_CROOT_WRITE) is mounted in a private mount namespace of this process, which this
 * call enters (the process must be single-threaded then); with WB_CROOT_LIVE a running Linux
 * container is reached through /proc/PID/root and a running Wasm container through its
 * workload's mount namespace. */
typedef struct wb_container_root {
    int fd;           /* O_PATH | O_DIRECTORY: the container's "/" */
    char mount[4200]; /* the overlay mounted here ("" when none) */
} wb_container_root;

int wb_container_root_open(wb_container *c, unsigned flags, wb_container_root *r, wb_error *err);
void wb_container_root_close(wb_container_root *r);

typedef struct wb_copy_opts {
    const char *ref;  /* the container as the user named it (for Docker's messages) */
    bool archive;     /* -a: the source's uid/gid (else root's in a container, ours on the host) */
    bool follow_link; /* -L: a symlink as SRC is followed */
} wb_copy_opts;

/* `cp CONTAINER:SRC DEST`: Docker's rules (a file to a file or into a directory, a directory
 * into a directory or to a new one, "dir/." its contents); dest NULL: a tar to out_fd. Missing
 * SRC: "No such container:path: REF:SRC". */
int wb_container_copy_out(wb_container *c, const char *src, const char *dest, int out_fd,
                          const wb_copy_opts *o, wb_error *err);

/* `cp SRC CONTAINER:DEST`; src NULL: a tar read from in_fd, extracted into DEST (a directory).
 * Missing DEST directory: "Could not find the file DIR in container REF". */
int wb_container_copy_in(wb_container *c, const char *src, int in_fd, const char *dest,
                         const wb_copy_opts *o, wb_error *err);

/* `export`: the container's whole file system (image and changes, not its mounts) as a tar to
 * out_fd. */
int wb_container_export(wb_container *c, int out_fd, wb_error *err);

#endif
