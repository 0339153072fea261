/* apps/instance_pool.h — instances of one WASI module kept for reuse by the per-request runtimes
 * (wws now; Spin and slight next): each is made once (WASI context, store, instance) and
 * snapshotted right after instantiation; a request takes one, runs it with fds 0 and 1 in memory,
 * and gives it back, which puts it back as it was (wb_instance_restore, wb_wasi_reset), so every
 * request sees a fresh instance without paying for one. docs/apps.md has the measurements. */
#ifndef WB_APPS_INSTANCE_POOL_H
#define WB_APPS_INSTANCE_POOL_H

#include "base/error.h"
#include "wasi/wasi.h"
#include "wasm/wasm.h"

typedef struct wb_pool_config {
    wb_module *module;   /* borrowed for the pool's life */
    wb_wasi_config wasi; /* borrowed for the pool's life; stdio[2] is used, 0 and 1 are memory */
    wb_store_limits limits;
    unsigned max_idle; /* instances kept between requests; 0: 16 (more are made when needed and
                        * freed on return) */
    /* host functions for the module's other imports (NULL: none), defined in l for each new
     * instance after WASI's */
    int (*link)(void *ctx, wb_store *s, wb_linker *l, wb_error *err);
    void *link_ctx;
} wb_pool_config;

/* One instance, taken by one request at a time. */
typedef struct wb_pool_instance {
    wb_wasi *wasi;
    wb_store *store;
    wb_linker *linker;
    wb_instance *inst;
    wb_snapshot *snap;
    struct wb_pool_instance *next; /* the pool's idle list, or its busy list while taken */
} wb_pool_instance;

typedef struct wb_pool wb_pool;

int wb_pool_new(const wb_pool_config *cfg, wb_pool **out, wb_error *err);
/* An instance ready to run with fds 0 and 1 as io says (an idle one, or a new one: the errors of
 * linking and instantiation are reported here). Thread-safe. */
int wb_pool_take(wb_pool *p, const wb_wasi_run_io *io, wb_pool_instance **out, wb_error *err);
/* Give pi back after its run: restored and kept, or freed (pool full, or the restore failed).
 * Thread-safe. */
void wb_pool_give(wb_pool *p, wb_pool_instance *pi);
/* The server is stopping: the instances taken now are interrupted (their modules are
 * interruptible: the run ends with the trap "interrupted") and so are those taken from now on, so
 * that no request holds the stop up. Thread-safe; a watchdog thread repeats the interrupt every
 * 20 ms until each is given back. */
void wb_pool_stop(wb_pool *p);
/* Frees the idle instances and the pool; none may be taken. */
void wb_pool_free(wb_pool *p);

#endif
