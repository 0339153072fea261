/* shim/service.h — the containerd shim v2 task service (issue #17): a ttrpc server on the
 * shim's socket answering containerd.task.v2.Task (and v3, the same messages), running each
 * task's processes through runtime/oci_run.h, and publishing task events to containerd.
 *
 * One process, one thread: a poll loop over the listening socket, the connections and a
 * signalfd for SIGCHLD. Requests are answered in arrival order except Wait, which is parked
 * until its process exits (containerd sends Start and Wait together and expects State and
 * Delete answered meanwhile: replies go out of order). The shim is the parent of every workload
 * it starts (create and exec fork them) and a subreaper, so it reaps them and knows their exit
 * status; each exit is published as /tasks/exit (Docker never calls Wait: that event is how it
 * learns). Events go to containerd's ttrpc address (Events/Forward, with the namespace in the
 * metadata, 5 s timeout), each after its reply.
 *
 * What a task is here: the bundle's process as a Wasm workload (runtime/oci_spec.h decides;
 * Linux bundles are refused by oci_run.h for now), its stdio the FIFOs (or file:// paths)
 * containerd names, its rootfs the mounts of Create mounted on <bundle>/rootfs and unmounted at
 * Delete. Unimplemented: Checkpoint, Pause, Resume, Update, ResizePty, Stats (gRPC code 12),
 * terminals, binary:// loggers. */
#ifndef WB_SHIM_SERVICE_H
#define WB_SHIM_SERVICE_H

#include <stdbool.h>

#include "base/error.h"

typedef struct wb_shim_config {
    const char *ns;            /* -namespace */
    const char *id;            /* -id (the first task's; a pod's shim serves several) */
    const char *ttrpc_address; /* $TTRPC_ADDRESS: containerd's, for events (NULL: none sent) */
    const char *socket_path;   /* our socket (removed at shutdown) */
    const char *state_root;    /* runtime/oci_run.h's state root for the tasks */
    int app_runtime;           /* wb_runtime_kind: WB_RUNTIME_WWS or _SPIN when run as their shim
                                * (containerd-shim-wws-v1, -spin-v2): the app at the root is served;
                                * else WB_RUNTIME_WASMEDGE (the bundle's command) */
} wb_shim_config;

/* Serve on listen_fd until Shutdown leaves no task (or a fatal error). Returns 0 or -1. */
int wb_shim_serve(const wb_shim_config *cfg, int listen_fd, wb_error *err);

/* The shim's socket path for (containerd's grpc address, namespace, id):
 * /run/containerd/s/<32 hex digits of a hash of "ADDRESS/NS/ID">, as runc's shim names its
 * socket (a different hash; containerd reads the address the shim prints). */
void wb_shim_socket_path(const char *address, const char *ns, const char *id, char out[128]);

#endif
