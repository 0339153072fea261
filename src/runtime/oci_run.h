/* runtime/oci_run.h — OCI bundles run as runc runs them (issue #17): the lifecycle behind the
 * runc-compatible CLI `wasmbox oci` (alias `wasmbox-runc`) that Docker (through containerd's
 * runc shim) and Podman (through conmon) call, and behind the shim.
 *
 * State, under the state root (runc's --root; default /run/wasmbox-runc):
 *   ROOT/<id>/state.json   {id, pid, pid_start, bundle, created, kind: "wasm"|"linux"} written
 *                          atomically at create
 *   ROOT/<id>/exec.fifo    exists from create until start: the workload blocks opening it
 *   ROOT/<id>/tier         "interp" or "native": the tier the container's process runs on,
 *                          written by the workload once chosen; `state` shows it as the
 *                          annotation WB_OCI_ENGINE_ANNOTATION
 * The status is derived, never stored: "created" while the fifo exists and the workload lives,
 * "running" after start, "paused" when its cgroup is frozen, "stopped" when the workload (its
 * pid with the recorded start time) is gone.
 *
 * create forks the workload and returns once it is ready and waiting for start; the workload is
 * the caller's child until the caller exits (then its subreaper's: containerd's shim, conmon),
 * and its exit status is the container's. A Wasm workload runs the engine in that process: the
 * bundle's root is its "/" preopen, bind mounts of directories more preopens, the bind mounts of
 * /etc/hosts and /etc/resolv.conf feed sock_getaddrinfo, its network namespace is the spec's
 * (a path: joined; none given: a new one with lo up; no entry: the host's), sockets are granted
 * (WasmEdge's API), linux.resources.memory.limit caps its linear memories.
 * Linux bundles are not run by wasmbox yet: create refuses them with a message saying so.
 *
 * The tier (docs/native.md): the bundle's annotation WB_OCI_ENGINE_ANNOTATION (auto, interp,
 * native; a bad value fails create), else $WASMBOX_ENGINE, else auto; native code comes from the
 * node's cache, the default store root's (ROOT/native: images `wasmbox build`/`pull` made are
 * compiled there) or $WASMBOX_NATIVE_CACHE, so containerd, Docker and Podman runs share it with
 * wasmbox's own containers; under auto a module with no code there is compiled in the
 * background for the next start (when the cache directory exists). */
#ifndef WB_RUNTIME_OCI_RUN_H
#define WB_RUNTIME_OCI_RUN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

#define WB_OCI_DEFAULT_ROOT      "/run/wasmbox-runc"
#define WB_OCI_ENGINE_ANNOTATION "io.wasmbox.engine"

typedef struct wb_oci_create_opts {
    const char *root; /* state root */
    const char *id;
    const char *bundle;
    const char *pid_file;       /* NULL: none */
    const char *console_socket; /* NULL: none; else the workload's terminal goes there (a
                                 * Linux container's from its own devpts, a Wasm workload's
                                 * from the host's) */
    bool prefer_wasm;           /* the caller's hint (oci_spec.h) */
    int app_runtime;  /* wb_runtime_kind: WB_RUNTIME_WWS, _SPIN or _SLIGHT serve the app at its
                       * root (its process.args are not run); else 0, WB_RUNTIME_WASMEDGE */
    const int *stdio; /* the workload's 0, 1, 2 (NULL: the caller's own) */
} wb_oci_create_opts;

/* runc's rule for container IDs: [A-Za-z0-9_+.-]+, not "." or "..". */
bool wb_oci_id_valid(const char *id);

int wb_oci_create(const wb_oci_create_opts *o, pid_t *pid, wb_error *err);
/* Freeze (pause) or thaw (resume) every process of the container: its cgroup's freezer. The
 * cgroup is made at create, at linux.cgroupsPath (else wasmbox-runc/<id>), with the spec's
 * linux.resources (memory limit and swap, CPU quota/period and shares, pids limit); the workload
 * and exec'd processes are in it; delete removes it. ESRCH "container not running". */
int wb_oci_pause(const char *root, const char *id, bool pause, wb_error *err);
/* The container's cgroup statistics (cgroup.h). */
struct wb_cgroup_stats;
/* OOM notifications for the container's cgroup (cgroup.h, wb_cgroup_oom_fd): the descriptor
 * to poll (the caller closes it), *kills the OOM kills so far. ENOTSUP where the host cannot. */
int wb_oci_oom_watch(const char *root, const char *id, uint64_t *kills, wb_error *err);
/* After the descriptor fired (read it to re-arm): true when the count of OOM kills grew since
 * *kills (updated); false for the other reasons it fires (the cgroup removed). */
bool wb_oci_oom_killed(const char *root, const char *id, uint64_t *kills);
int wb_oci_stats(const char *root, const char *id, struct wb_cgroup_stats *stats, wb_error *err);
/* Change its resources: resources_json is a linux.resources object (containerd's Update packs
 * one as JSON), merged into the container's current resources (objects key by key), and the
 * cgroup's limits rewritten from the result. */
int wb_oci_update(const char *root, const char *id, const char *resources_json, wb_error *err);
/* Let the created workload run. */
int wb_oci_start(const char *root, const char *id, wb_error *err);
/* True when this program is the static core and the command concerns a Linux container: the
 * bundle about to be created (bundle given), else the existing container `id`. The CLI then
 * hands the whole command to wasmbox-full (Linux processes need libcap and libseccomp); the
 * library itself does so for the shim's create and exec (through `wasmbox-full oci`). */
bool wb_oci_needs_full(const char *root, const char *id, const char *bundle, bool prefer_wasm);
/* runc's `state` JSON: {ociVersion, id, pid, status, bundle, rootfs, created, owner}; new ref.
 * ENOENT: "container does not exist". */
json_t *wb_oci_state(const char *root, const char *id, wb_error *err);
/* Signal the workload (all: also any exec'd process). ESRCH "container not running". */
int wb_oci_kill(const char *root, const char *id, int sig, bool all, wb_error *err);
/* Forget the container; a live one only with force (SIGKILL first). A missing one with force is
 * not an error. */
int wb_oci_delete(const char *root, const char *id, bool force, wb_error *err);
/* Run the process spec at process_path in the container (a Wasm container: another module of
 * its root, in its network namespace). detach: return once it runs (*exit_code 0), else wait
 * and give its status. pid_file may be NULL; console_socket (NULL: none) takes the master of
 * the process's terminal (a Linux container's, process.terminal: true). */
int wb_oci_exec(const char *root, const char *id, const char *process_path, bool detach,
                const char *pid_file, const char *console_socket, int *exit_code, wb_error *err);
/* The same for the shim: the process spec as JSON text, stdio given (NULL: the caller's) or
 * a terminal sent to console_socket (non-NULL), and the new process left running (*pid; the
 * caller, its parent, reaps it). */
int wb_oci_exec_spawn(const char *root, const char *id, const char *process_json, const int *stdio,
                      const char *console_socket, pid_t *pid, wb_error *err);
/* The pids of the container's processes (its workload, then exec'd ones still alive). */
int wb_oci_pids(const char *root, const char *id, pid_t **pids, size_t *n, wb_error *err);

#endif
