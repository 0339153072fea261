/* The instance pool (apps/instance_pool.h): a mutex-guarded list of idle instances. */
#include "apps/instance_pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

struct wb_pool {
    wb_pool_config cfg;
    int snapshot_mode; /* WB_SNAPSHOT_*: WASMBOX_SNAPSHOT=copy|cow|track|auto (to measure) */
    pthread_mutex_t lock;
    wb_pool_instance *idle;
    unsigned nidle;
};

int wb_pool_new(const wb_pool_config *cfg, wb_pool **out, wb_error *err) {
    (void)err;
    wb_pool *p = wb_calloc(1, sizeof *p);
    p->cfg = *cfg;
    if (!p->cfg.max_idle) p->cfg.max_idle = 16;
    const char *mode = getenv("WASMBOX_SNAPSHOT");
    p->snapshot_mode = !mode                    ? WB_SNAPSHOT_AUTO
                       : !strcmp(mode, "copy")  ? WB_SNAPSHOT_COPY
                       : !strcmp(mode, "cow")   ? WB_SNAPSHOT_COW
                       : !strcmp(mode, "track") ? WB_SNAPSHOT_TRACK
                                                : WB_SNAPSHOT_AUTO;
    pthread_mutex_init(&p->lock, NULL);
    *out = p;
    return 0;
}

static void instance_free(wb_pool_instance *pi) {
    if (!pi) return;
    wb_snapshot_free(pi->snap);
    wb_linker_free(pi->linker);
    wb_store_free(pi->store);
    wb_wasi_free(pi->wasi);
    free(pi);
}

static int instance_new(wb_pool *p, const wb_wasi_run_io *io, wb_pool_instance **out,
                        wb_error *err) {
    wb_pool_instance *pi = wb_calloc(1, sizeof *pi);
    wb_wasi_config wc = p->cfg.wasi;
    /* fds 0 and 1 must exist while the preopens are numbered; wb_wasi_reset replaces them */
    wc.stdio[0] = wc.stdio[1] = wc.stdio[2] >= 0 ? wc.stdio[2] : 2;
    if (wb_wasi_new(&wc, &pi->wasi, err) < 0 || !(pi->store = wb_store_new(&p->cfg.limits, err)))
        goto fail;
    pi->linker = wb_linker_new();
    if (wb_wasi_link(pi->wasi, pi->store, pi->linker, p->cfg.module, err) < 0 ||
        (p->cfg.link && p->cfg.link(p->cfg.link_ctx, pi->store, pi->linker, err) < 0) ||
        wb_linker_instantiate(pi->linker, pi->store, p->cfg.module, &pi->inst, err) < 0 ||
        wb_instance_snapshot(pi->inst, p->snapshot_mode, &pi->snap, err) < 0 ||
        wb_wasi_reset(pi->wasi, io, err) < 0)
        goto fail;
    *out = pi;
    return 0;
fail:
    instance_free(pi);
    return -1;
}

int wb_pool_take(wb_pool *p, const wb_wasi_run_io *io, wb_pool_instance **out, wb_error *err) {
    pthread_mutex_lock(&p->lock);
    wb_pool_instance *pi = p->idle;
    if (pi) {
        p->idle = pi->next;
        p->nidle--;
    }
    pthread_mutex_unlock(&p->lock);
    if (!pi) return instance_new(p, io, out, err);
    if (wb_wasi_reset(pi->wasi, io, err) < 0) {
        instance_free(pi);
        return -1;
    }
    pi->next = NULL;
    *out = pi;
    return 0;
}

void wb_pool_give(wb_pool *p, wb_pool_instance *pi) {
    wb_error err;
    if (wb_instance_restore(pi->inst, pi->snap, &err) < 0) {
        instance_free(pi);
        return;
    }
    pthread_mutex_lock(&p->lock);
    bool keep = p->nidle < p->cfg.max_idle;
    if (keep) {
        pi->next = p->idle;
        p->idle = pi;
        p->nidle++;
    }
    pthread_mutex_unlock(&p->lock);
    if (!keep) instance_free(pi);
}

void wb_pool_free(wb_pool *p) {
    if (!p) return;
    for (wb_pool_instance *pi = p->idle, *n; pi; pi = n) {
        n = pi->next;
        instance_free(pi);
    }
    pthread_mutex_destroy(&p->lock);
    free(p);
}
