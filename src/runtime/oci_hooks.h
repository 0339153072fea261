/* runtime/oci_hooks.h — an OCI bundle's hooks (runtime-spec config.md, "POSIX-platform Hooks"),
 * run as runc runs them: each hook's program with its args and env, the container's state JSON
 * ({ociVersion, id, status, pid, bundle, annotations}) on its stdin, killed after its timeout.
 *
 * When (runtime/oci_run.c): prestart and createRuntime once the container's process exists (its
 * namespaces made, in its cgroup) and before it sets itself up (Docker's libnetwork-setkey
 * configures the network namespace there); poststart after start; poststop at delete.
 * createContainer and startContainer run in the container's own process (linux_handler.h,
 * in_container_hook): createContainer once its mounts are made, before pivot_root (the hook's
 * path is the host's), startContainer after start, just before the command is exec'ed (the
 * path is the container's); the state's pid is the process's own in the container's PID
 * namespace, as runc gives it. A Wasm workload has no such process: refused there. */
#ifndef WB_RUNTIME_OCI_HOOKS_H
#define WB_RUNTIME_OCI_HOOKS_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"
#include "runtime/oci_spec.h"

/* Fails with a message when the spec's hooks are malformed, or in-container ones are given for a
 * Wasm workload (linux_container false). */
int wb_oci_hooks_check(const wb_oci_spec *s, bool linux_container, wb_error *err);

/* Run the hooks of `kind` ("prestart", "createRuntime", "poststart", "poststop",
 * "createContainer", "startContainer") in order; the
 * first that fails (non-zero exit, a signal, its timeout) stops them: runc's message,
 * "error running KIND hook #N: exit status S, stdout: ..., stderr: ...". */
int wb_oci_hooks_run(const wb_oci_spec *s, const char *kind, const char *id, const char *status,
                     pid_t pid, wb_error *err);

#endif
