/* Store-owned run-time objects: linear memories (guarded reservations or bounds-checked mappings),
 * tables, globals and host functions, and freeing a store with everything in it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/alloc.h"
#include "wasm/limits.h"
#include "wasm/runtime.h"

/* A guarded reservation covers every effective address a 32-bit access can form:
 * (2^32-1) + (2^32-1) + 16 bytes, rounded to a page. */
#define GUARDED_RESERVE (((size_t)8 << 30) + 65536)

/* ---- memories ---- */

static uint64_t memory_cap(const wb_store *s, wb_limits lim) {
    uint64_t pages = lim.has_max ? lim.max : WB_MAX_PAGES;
    if (pages > WB_MAX_PAGES) pages = WB_MAX_PAGES;
    uint64_t bytes = pages * WB_PAGE_SIZE;
    if (s->lim.max_memory && bytes > s->lim.max_memory)
        bytes = s->lim.max_memory / WB_PAGE_SIZE * WB_PAGE_SIZE;
    return bytes;
}

wb_memory *wb__memory_create(wb_store *s, wb_limits lim, bool guarded, wb_error *err) {
    uint64_t size = lim.min * WB_PAGE_SIZE;
    wb_memory *m = wb_calloc(1, sizeof *m);
    m->limits = lim;
    m->max_bytes = memory_cap(s, lim);
    if (size > m->max_bytes) {
        wb_error_set(err, ENOMEM, "memory of %llu pages exceeds the limit of %llu bytes",
                     (unsigned long long)lim.min, (unsigned long long)m->max_bytes);
        free(m);
        return NULL;
    }
    if (guarded) {
        void *r = mmap(NULL, GUARDED_RESERVE, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (r == MAP_FAILED) {
            free(m);
            wb_error_sys(err, "reserve 8 GiB of address space for a guarded linear memory "
                              "(use bounds-checked mode where address space is limited)");
            return NULL;
        }
        if (size && mprotect(r, size, PROT_READ | PROT_WRITE) != 0) {
            munmap(r, GUARDED_RESERVE);
            free(m);
            wb_error_sys(err, "commit %llu bytes of linear memory", (unsigned long long)size);
            return NULL;
        }
        m->reserve = r;
        m->reserve_len = GUARDED_RESERVE;
        m->base = r;
        m->guarded = true;
        wb__signals_install();
    } else if (size) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            free(m);
            wb_error_sys(err, "map %llu bytes of linear memory", (unsigned long long)size);
            return NULL;
        }
        m->base = p;
    }
    m->size = size;
    m->next = s->memories;
    s->memories = m;
    return m;
}

wb_memory *wb_memory_new(wb_store *s, wb_limits limits, wb_error *err) {
    return wb__memory_create(s, limits, true, err);
}

int64_t wb__memory_grow(wb_memory *m, uint64_t delta_pages) {
    uint64_t old = m->size;
    if (delta_pages == 0) return (int64_t)(old / WB_PAGE_SIZE);
    if (delta_pages > WB_MAX_PAGES) return -1;
    uint64_t size = old + delta_pages * WB_PAGE_SIZE;
    if (size > m->max_bytes) return -1;
    if (m->guarded) {
        if (mprotect(m->base + old, size - old, PROT_READ | PROT_WRITE) != 0) return -1;
    } else if (old == 0) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return -1;
        m->base = p;
    } else {
        void *p = mremap(m->base, old, size, MREMAP_MAYMOVE);
        if (p == MAP_FAILED) return -1;
        m->base = p;
    }
    m->size = size;
    return (int64_t)(old / WB_PAGE_SIZE);
}

int64_t wb_memory_grow(wb_memory *m, uint32_t delta) {
    return wb__memory_grow(m, delta);
}
uint8_t *wb_memory_data(const wb_memory *m) {
    return m->base;
}
uint64_t wb_memory_size(const wb_memory *m) {
    return m->size;
}

wb_limits wb_memory_limits(const wb_memory *m) {
    wb_limits l = m->limits;
    l.min = m->size / WB_PAGE_SIZE;
    return l;
}

static void memory_free(wb_memory *m) {
    if (m->guarded)
        munmap(m->reserve, m->reserve_len);
    else if (m->base)
        munmap(m->base, m->size);
    free(m);
}

/* ---- tables ---- */

wb_table *wb_table_new(wb_store *s, wb_tabletype type, void *init, wb_error *err) {
    uint64_t max = type.limits.has_max ? type.limits.max : UINT32_MAX;
    if (max > WB_MAX_TABLE_SIZE) max = WB_MAX_TABLE_SIZE;
    if (type.limits.min > max) {
        wb_error_set(err, ENOMEM, "table of %llu elements exceeds the limit of %llu",
                     (unsigned long long)type.limits.min, (unsigned long long)max);
        return NULL;
    }
    wb_table *t = wb_calloc(1, sizeof *t);
    t->type = type;
    t->max = (uint32_t)max;
    t->size = (uint32_t)type.limits.min;
    t->cap = t->size;
    t->elems = wb_calloc(t->cap ? t->cap : 1, sizeof *t->elems);
    for (uint32_t i = 0; i < t->size; i++) t->elems[i] = init;
    t->next = s->tables;
    s->tables = t;
    return t;
}

int64_t wb__table_grow(wb_table *t, uint64_t delta, void *init) {
    uint32_t old = t->size;
    if ((uint64_t)old + delta > t->max) return -1;
    uint32_t size = old + (uint32_t)delta;
    if (size > t->cap) {
        uint32_t cap = t->cap < 16 ? 16 : t->cap;
        while (cap < size) cap = cap > UINT32_MAX / 2 ? size : cap * 2;
        t->elems = wb_reallocarray(t->elems, cap, sizeof *t->elems);
        t->cap = cap;
    }
    for (uint32_t i = old; i < size; i++) t->elems[i] = init;
    t->size = size;
    return old;
}

uint32_t wb_table_size(const wb_table *t) {
    return t->size;
}

wb_tabletype wb_table_type(const wb_table *t) {
    wb_tabletype tt = t->type;
    tt.limits.min = t->size;
    return tt;
}

/* ---- globals ---- */

wb_global *wb_global_new(wb_store *s, wb_globaltype type, wb_value init) {
    wb_global *g = wb_calloc(1, sizeof *g);
    g->type = type;
    switch (type.type) {
    case WB_I32: g->val[0].u64 = (uint32_t)init.of.i32; break;
    case WB_I64: g->val[0].i64 = init.of.i64; break;
    case WB_F32: g->val[0].u64 = init.of.f32; break;
    case WB_F64: g->val[0].u64 = init.of.f64; break;
    case WB_V128:
        memcpy(&g->val[0].u64, init.of.v128, 8);
        memcpy(&g->val[1].u64, init.of.v128 + 8, 8);
        break;
    default: g->val[0].ref = init.of.ref; break;
    }
    g->next = s->globals;
    s->globals = g;
    return g;
}

wb_value wb_global_get(const wb_global *g) {
    wb_value v;
    memset(&v, 0, sizeof v);
    v.type = g->type.type;
    switch (v.type) {
    case WB_I32: v.of.i32 = g->val[0].i32; break;
    case WB_I64: v.of.i64 = g->val[0].i64; break;
    case WB_F32: v.of.f32 = g->val[0].u32; break;
    case WB_F64: v.of.f64 = g->val[0].u64; break;
    case WB_V128:
        memcpy(v.of.v128, &g->val[0].u64, 8);
        memcpy(v.of.v128 + 8, &g->val[1].u64, 8);
        break;
    default: v.of.ref = g->val[0].ref; break;
    }
    return v;
}

wb_globaltype wb_global_type(const wb_global *g) {
    return g->type;
}

/* ---- functions ---- */

wb_func *wb_func_new_host(wb_store *s, const wb_functype *type, wb_host_fn fn, void *env,
                          const char *name) {
    wb_func *f = wb_calloc(1, sizeof *f);
    f->kind = WB_FUNC_HOST;
    f->host_type = *type;
    f->host_type.types = wb_malloc((size_t)type->nparams + type->nresults + 1);
    memcpy(f->host_type.types, type->types, (size_t)type->nparams + type->nresults);
    f->host_type.param_slots = 0;
    f->host_type.result_slots = 0;
    for (uint32_t i = 0; i < type->nparams; i++)
        f->host_type.param_slots += wb__type_slots(type->types[i]);
    for (uint32_t i = 0; i < type->nresults; i++)
        f->host_type.result_slots += wb__type_slots(type->types[type->nparams + i]);
    f->type = &f->host_type;
    f->host = fn;
    f->env = env;
    f->name = name ? wb_strdup(name) : NULL;
    f->next = s->funcs;
    s->funcs = f;
    return f;
}

const wb_functype *wb_func_type(const wb_func *f) {
    return f->type;
}

bool wb__functype_equal(const wb_functype *a, const wb_functype *b) {
    return a->nparams == b->nparams && a->nresults == b->nresults &&
           memcmp(a->types, b->types, (size_t)a->nparams + a->nresults) == 0;
}

/* ---- the store ---- */

void wb__instance_free(wb_instance *inst);

void wb_store_free(wb_store *s) {
    if (!s) return;
    for (wb_instance *i = s->instances, *n; i; i = n) {
        n = i->next;
        wb__instance_free(i);
    }
    for (wb_func *f = s->funcs, *n; f; f = n) {
        n = f->next;
        free(f->host_type.types);
        free(f->name);
        free(f);
    }
    for (wb_memory *m = s->memories, *n; m; m = n) {
        n = m->next;
        memory_free(m);
    }
    for (wb_table *t = s->tables, *n; t; t = n) {
        n = t->next;
        free(t->elems);
        free(t);
    }
    for (wb_global *g = s->globals, *n; g; g = n) {
        n = g->next;
        free(g);
    }
    munmap(s->stack, s->stack_map_len);
    munmap(s->recs, s->recs_map_len);
    free(s);
}

/* Process-wide (documented exception to "no mutable globals"): what wb_leave_to_exit keeps. */
static struct {
    wb_module *m;
    wb_store *s;
    wb_linker *l;
} left_to_exit[4];
static unsigned nleft_to_exit;

void wb_leave_to_exit(wb_module *m, wb_store *s, wb_linker *l) {
    unsigned i = __atomic_fetch_add(&nleft_to_exit, 1, __ATOMIC_RELAXED);
    if (i < sizeof left_to_exit / sizeof left_to_exit[0]) {
        left_to_exit[i].m = m;
        left_to_exit[i].s = s;
        left_to_exit[i].l = l;
        return;
    }
    wb_linker_free(l); /* more than a process ever leaves: freed as usual */
    wb_store_free(s);
    wb_module_free(m);
}
