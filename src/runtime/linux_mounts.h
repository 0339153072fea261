/* runtime/linux_mounts.h — a Linux container's file system, set up by the container's process in
 * its new mount namespace (internal to the Linux handler). */
#ifndef WB_RUNTIME_LINUX_MOUNTS_H
#define WB_RUNTIME_LINUX_MOUNTS_H

#include "base/error.h"
#include "runtime/linux_handler.h"

/* The overlay root under job->dir/rootfs (lower: the image's rootfs, upper: job->dir/upper),
 * /proc, /sys (read-only), /dev (tmpfs with null, zero, full, random, urandom, tty, pts, shm,
 * mqueue and the fd links), the etc files from job->dir, the bind mounts; then pivot_root into
 * it and Docker's masked and read-only paths. Afterwards "/" is the container's root. */
int wb_linux_mount_root(const wb_linux_job *job, wb_error *err);

/* The last steps, once the process's user is known: the working directory (made when missing),
 * then the root made read-only for --read-only, then chdir into the working directory. */
int wb_linux_finish_root(const wb_linux_job *job, wb_error *err);

#endif
