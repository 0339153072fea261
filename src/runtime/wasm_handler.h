/* runtime/wasm_handler.h — running a container's Wasm module: the container's root filesystem
 * (a writable overlay over the image's unpacked rootfs, or a copy where overlays are not
 * possible), WASI preopens for it and the bind mounts, the runtime profile, the engine. */
#ifndef WB_RUNTIME_WASM_HANDLER_H
#define WB_RUNTIME_WASM_HANDLER_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "oci/layers.h"
#include "wasm/native_tier.h"
#include "runtime/container.h"

/* The runtimes users name with --runtime. */
typedef enum wb_runtime_kind {
    WB_RUNTIME_WASMEDGE, /* WASI preview1 + WasmEdge's socket extension */
    WB_RUNTIME_WASMTIME, /* WASI preview1 */
    WB_RUNTIME_WASMER,   /* WASI preview1 */
    WB_RUNTIME_LINUX,    /* runc, io.containerd.runc.v2: a Linux container (linux_handler.h) */
    WB_RUNTIME_WWS,      /* io.containerd.wws.v1: the workers at "/" served on :3000 (apps/wws.h) */
    WB_RUNTIME_SPIN, /* io.containerd.spin.v2: the app of /spin.toml served on :80 (apps/spin.h) */
    WB_RUNTIME_SLIGHT,  /* io.containerd.slight.v1: /slightfile.toml + /app.wasm (apps/slight.h) */
    WB_RUNTIME_LUNATIC, /* io.containerd.lunatic.v1: the module as lunatic's first process */
} wb_runtime_kind;

/* Map a --runtime name (io.containerd.wasmedge.v1, wasmedge, …, runc, io.containerd.wws.v1,
 * spin, slight, lunatic) to a kind; anything else fails as Docker does: "Unknown runtime
 * specified NAME". On success *canonical is the io.containerd.* name. */
int wb_runtime_lookup(const char *name, wb_runtime_kind *kind, const char **canonical,
                      wb_error *err);

typedef struct wb_wasm_job {
    const char *module; /* host path of the module */
    const char *rootfs; /* the image's unpacked rootfs (NULL: none, e.g. an artifact) */
    char *const *argv;  /* argv[0] is the entrypoint as the image names it */
    size_t argc;
    char *const *env;
    size_t nenv;
    const wb_mount *mounts;
    size_t nmounts;
    const char *workdir; /* inside the container; NULL: "/" */
    bool read_only_root; /* --read-only: "/" gets no right that writes */
    wb_runtime_kind runtime;
    bool network;            /* grant sockets the module opens (host network: --network host) */
    const char *hosts_path;  /* the container's hosts and resolv.conf for sock_getaddrinfo */
    const char *resolv_path; /* (NULL: the host's view, through libc) */
    uint64_t max_memory;     /* cap on each linear memory, bytes (0: none) */
    int stdio[3];            /* host fds for the module's 0, 1, 2 (all 0: the process's own) */
    /* the process exits soon after the run: the engine's mappings are left to exit, which
     * unmaps them all at once (each munmap costs a TLB flush: about 0.3 ms for a small module
     * here); the WASI context is still closed, its descriptors must not outlive the run */
    bool process_exits;
    wb_engine engine;         /* the tier (wasm/native_tier.h) */
    const char *native_cache; /* the store's native-code cache, NULL: none */
    /* where to record the tier that runs the module ("interp" or "native", one line, written
     * once the tier is chosen; `inspect` shows it as State.WasmEngine); NULL: nowhere */
    const char *tier_path;
} wb_wasm_job;

/* Prepare the container's root under c->dir/rootfs: an overlay of the image's files with the
 * container's own layer above (as root), else a copy of the (flattened) files. */
int wb_wasm_prepare_rootfs(wb_container *c, const wb_lowers *l, char **root, wb_error *err);

/* Make the working directory (absolute, inside the container) under the container's root
 * `rootfs` if it is missing, resolving every component inside that root (as Docker creates a
 * WORKDIR or -w directory). A relative path is refused with Docker's message. */
int wb_wasm_prepare_workdir(const char *rootfs, const char *workdir, wb_error *err);

/* Open the module `entry` (absolute, or relative to `workdir`) inside the container root
 * `rootfs`, resolved in it (rootpath.h: never leading out), for an exec'd module: the fd, and
 * /proc/self/fd/N in module[64]. Fails with *code 127 (`exec: "X": stat PATH: no such file or
 * directory`) or 126 (not a WebAssembly module; a Wasm container has no shell). */
int wb_wasm_open_in_root(const char *rootfs, const char *workdir, const char *entry,
                         char module[64], int *code, wb_error *err);

/* Run the job in this process, in the foreground, until the module exits (WB_RUNTIME_WWS: until
 * the app server is stopped, job->module unused); *exit_code is the
 * module's exit status (or 134 after a trap, whose message is printed on stderr). Returns -1 with
 * err when the module could not be started (err->code ENOEXEC, ENOENT, WB_ELINK...). */
int wb_wasm_run(const wb_wasm_job *job, int *exit_code, wb_error *err);

#endif
