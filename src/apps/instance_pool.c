/* The instance pool (apps/instance_pool.h): a mutex-guarded list of idle instances. */
#include "apps/instance_pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"

struct wb_pool {
    wb_pool_config cfg;
    wb_pool_instance *busy; /* taken (under lock) */
    bool stopping;
    bool watchdog; /* the thread interrupting busy instances runs */
    pthread_t watchdog_thread;
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

/* Taken instances: on the busy list, interrupted when the pool stops. */
static void mark_busy(wb_pool *p, wb_pool_instance *pi) {
    pthread_mutex_lock(&p->lock);
    pi->next = p->busy;
    p->busy = pi;
    if (p->stopping) wb_store_interrupt(pi->store);
    pthread_mutex_unlock(&p->lock);
}

int wb_pool_take(wb_pool *p, const wb_wasi_run_io *io, wb_pool_instance **out, wb_error *err) {
    pthread_mutex_lock(&p->lock);
    wb_pool_instance *pi = p->idle;
    if (pi) {
        p->idle = pi->next;
        p->nidle--;
    }
    pthread_mutex_unlock(&p->lock);
    if (pi) {
        if (wb_wasi_reset(pi->wasi, io, err) < 0) {
            instance_free(pi);
            return -1;
        }
    } else if (instance_new(p, io, &pi, err) < 0) { /* made ready for io */
        return -1;
    }
    mark_busy(p, pi);
    *out = pi;
    return 0;
}

void wb_pool_give(wb_pool *p, wb_pool_instance *pi) {
    wb_error err;
    pthread_mutex_lock(&p->lock);
    for (wb_pool_instance **b = &p->busy; *b; b = &(*b)->next)
        if (*b == pi) {
            *b = pi->next;
            break;
        }
    pi->next = NULL;
    pthread_mutex_unlock(&p->lock);
    wb_store_clear_interrupt(pi->store);
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

static void *watchdog(void *arg) {
    wb_pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        for (wb_pool_instance *pi = p->busy; pi; pi = pi->next) wb_store_interrupt(pi->store);
        bool done = !p->stopping;
        pthread_mutex_unlock(&p->lock);
        if (done) return NULL;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

void wb_pool_stop(wb_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    bool start = !p->stopping && !p->watchdog;
    p->stopping = true;
    for (wb_pool_instance *pi = p->busy; pi; pi = pi->next) wb_store_interrupt(pi->store);
    if (start) p->watchdog = pthread_create(&p->watchdog_thread, NULL, watchdog, p) == 0;
    pthread_mutex_unlock(&p->lock);
}

void wb_pool_free(wb_pool *p) {
    if (!p) return;
    if (p->watchdog) {
        pthread_mutex_lock(&p->lock);
        p->stopping = false; /* the watchdog's signal to end */
        pthread_mutex_unlock(&p->lock);
        pthread_join(p->watchdog_thread, NULL);
    }
    for (wb_pool_instance *pi = p->idle, *n; pi; pi = n) {
        n = pi->next;
        instance_free(pi);
    }
    pthread_mutex_destroy(&p->lock);
    free(p);
}
