/* wasi/wasi.h — WASI preview1 for the engine: a sandboxed context (arguments, environment,
 * preopened directories and sockets, a file-descriptor table with rights) whose functions are
 * linked as host functions into a module's `wasi_snapshot_preview1` imports, together with
 * WasmEdge's socket extension (V1 and V2 signatures, chosen per import by its type). */
#ifndef WB_WASI_H
#define WB_WASI_H

#include <stdbool.h>

#include "wasm/wasm.h"

typedef struct wb_wasi wb_wasi;

typedef struct wb_wasi_dir {
    const char *host;  /* host directory */
    const char *guest; /* the name the guest sees (fd_prestat_dir_name) */
    bool read_only;    /* no rights that create, write, rename or remove */
} wb_wasi_dir;

typedef struct wb_wasi_config {
    int argc;
    char *const *argv; /* argv[0] is the program name the guest sees */
    int envc;
    char *const *env;        /* "NAME=VALUE" strings */
    const wb_wasi_dir *dirs; /* preopened directories, fds 3, 4, ... in order */
    int ndirs;
    const int *listen_fds; /* preopened listening sockets (--tcplisten), after the dirs;
                            * wb_wasi_new takes ownership of them */
    int nlisten;
    int stdio[3];     /* host fds for guest 0, 1, 2 (borrowed; -1: closed) */
    bool allow_net;   /* grant sock_open & co. (WasmEdge extension); else EACCES */
    bool no_wasmedge; /* link only WASI preview1 proper: WasmEdge's socket extension is refused
                       * at link time (the wasmtime and wasmer runtime profiles) */
    /* Name resolution for sock_getaddrinfo (docs/wasi.md, "Names"). With either path set, or
     * DNS_SERVER in env, names go through wasi/dns.h reading these files at each call; with
     * neither, through the host's libc getaddrinfo as the host sees names. */
    const char *hosts_path;  /* the container's /etc/hosts as a host path; NULL: the host's view
                              * through libc getaddrinfo */
    const char *resolv_path; /* the container's /etc/resolv.conf as a host path */
} wb_wasi_config;

/* Copies everything it needs from cfg (strings included); opens the preopened directories. */
int wb_wasi_new(const wb_wasi_config *cfg, wb_wasi **out, wb_error *err);
void wb_wasi_free(wb_wasi *w);

/* ---- one context for many runs (per-request runtimes, with wb_instance_snapshot) ---- */

typedef struct wb_wasi_run_io {
    const uint8_t *in; /* what the guest reads from fd 0 (borrowed until the next reset) */
    size_t in_len;
    size_t out_max; /* fd 1 collects up to this many bytes; a write beyond gets EFBIG */
    /* the run's arguments and environment (copied) instead of the configured ones, when set
     * (WAGI's CGI variables); they stay until a reset gives others */
    int argc;
    char *const *argv;
    int envc;
    char *const *env;
} wb_wasi_run_io;
/* Put w back as it was at the first call (right after wb_wasi_new): descriptors the guest opened
 * are closed, the ones it closed, renumbered or restricted are back; fds 0 and 1 become streams
 * in memory (io: reads from io->in, then end of file; writes collected), fd 2 stays as
 * configured. Cheap when the run left the table as it found it. */
int wb_wasi_reset(wb_wasi *w, const wb_wasi_run_io *io, wb_error *err);
/* What the guest wrote to fd 1 since the last reset (owned by w, valid until the next reset);
 * *full when a write was refused for going beyond out_max. */
const uint8_t *wb_wasi_output(const wb_wasi *w, size_t *len, bool *full);

/* True if m imports from `wasi_snapshot_preview1` (or the older `wasi_unstable`). */
bool wb_wasi_module_uses(const wb_module *m);

/* Defines in l a host function (owned by s) for every WASI import of m, picking the variant whose
 * type matches the import. Fails naming the first import it cannot provide. */
int wb_wasi_link(wb_wasi *w, wb_store *s, wb_linker *l, const wb_module *m, wb_error *err);

#endif
