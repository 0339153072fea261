/* Instantiation (the spec's `instantiate`): import matching, allocation of functions, tables,
 * memories and globals, element and data segment initialisation in order, then the start
 * function. A trap during initialisation leaves the writes already made to shared (imported)
 * tables and memories in place, as the spec requires; the half-made instance stays owned by the
 * store, since tables may already refer to its functions. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "wasm/native.h"
#include "wasm/runtime.h"

static bool limits_match(uint64_t actual_min, bool actual_has_max, uint64_t actual_max,
                         const wb_limits *want) {
    if (actual_min < want->min) return false;
    if (want->has_max) {
        if (!actual_has_max || actual_max > want->max) return false;
    }
    return true;
}

static int link_error(wb_error *err, const wb_import *im, const char *what) {
    return wb_error_set(err, WB_ELINK, "%s: import `%s`.`%s`", what, im->module, im->name);
}

static int check_import(const wb_module *m, const wb_import *im, const wb_extern *ext, bool guarded,
                        wb_error *err) {
    if (ext->kind != im->kind) return link_error(err, im, "incompatible import type");
    switch (im->kind) {
    case WB_EXTERN_FUNC:
        if (!ext->of.func || !wb__functype_equal(ext->of.func->type, &m->types[im->type_index]))
            return link_error(err, im, "incompatible import type");
        return 0;
    case WB_EXTERN_TABLE: {
        const wb_table *t = ext->of.table;
        if (!t || t->type.elem != im->table.elem ||
            !limits_match(t->size, t->type.limits.has_max, t->type.limits.max, &im->table.limits))
            return link_error(err, im, "incompatible import type");
        return 0;
    }
    case WB_EXTERN_MEMORY: {
        const wb_memory *mem = ext->of.memory;
        if (!mem || !limits_match(mem->size / WB_PAGE_SIZE, mem->limits.has_max, mem->limits.max,
                                  &im->memory))
            return link_error(err, im, "incompatible import type");
        if (guarded && !mem->guarded)
            return link_error(err, im,
                              "memory is not guarded but the module needs a guarded memory");
        return 0;
    }
    case WB_EXTERN_GLOBAL: {
        const wb_global *g = ext->of.global;
        if (!g || g->type.type != im->global.type || g->type.mut != im->global.mut)
            return link_error(err, im, "incompatible import type");
        return 0;
    }
    }
    return link_error(err, im, "unknown import kind");
}

/* Evaluate a constant expression into slots (v128 takes two). */
static void eval_const(const wb_instance *inst, const wb_const_expr *e, wb_slot out[2]) {
    out[0].u64 = e->bits[0];
    out[1].u64 = e->bits[1];
    switch (e->op) {
    case WB_CONST_REF_NULL: out[0].ref = NULL; break;
    case WB_CONST_REF_FUNC: out[0].ref = inst->funcs[e->index]; break;
    case WB_CONST_GLOBAL_GET:
        out[0] = inst->globals[e->index]->val[0];
        out[1] = inst->globals[e->index]->val[1];
        break;
    default: break;
    }
}

void *wb__elem_item(const wb_instance *inst, const wb_const_expr *e) {
    wb_slot v[2];
    eval_const(inst, e, v);
    return v[0].ref;
}

static int trap_init(wb_store *s, wb_trap_kind kind, wb_error *err) {
    wb__trap_set(s, kind, NULL, NULL);
    return wb_error_set(err, WB_ETRAP, "wasm trap: %s", s->trap.message);
}

static int init_segments(wb_store *s, wb_instance *inst, wb_error *err) {
    const wb_module *m = inst->module;
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wb_elem_segment *seg = &m->elems[i];
        if (seg->mode == WB_SEG_PASSIVE) continue;
        inst->elem_dropped[i] = true;
        if (seg->mode == WB_SEG_DECLARATIVE) continue;
        wb_slot off[2];
        eval_const(inst, &seg->offset, off);
        wb_table *t = inst->tables[seg->table];
        if ((uint64_t)off[0].u32 + seg->count > t->size)
            return trap_init(s, WB_TRAP_TABLE_OOB, err);
        for (uint32_t k = 0; k < seg->count; k++)
            t->elems[off[0].u32 + k] = wb__elem_item(inst, &seg->items[k]);
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wb_data_segment *seg = &m->datas[i];
        if (seg->mode == WB_SEG_PASSIVE) continue;
        inst->data_dropped[i] = true;
        wb_slot off[2];
        eval_const(inst, &seg->offset, off);
        wb_memory *mem = inst->memories[seg->memory];
        if ((uint64_t)off[0].u32 + seg->len > mem->size)
            return trap_init(s, WB_TRAP_MEMORY_OOB, err);
        if (seg->len) memcpy(mem->base + off[0].u32, seg->bytes, seg->len);
    }
    return 0;
}

static int alloc_definitions(wb_store *s, wb_instance *inst, const wb_extern *imports,
                             wb_error *err) {
    const wb_module *m = inst->module;
    uint32_t fi = 0, ti = 0, mi = 0, gi = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        switch (imports[i].kind) {
        case WB_EXTERN_FUNC: inst->funcs[fi++] = imports[i].of.func; break;
        case WB_EXTERN_TABLE: inst->tables[ti++] = imports[i].of.table; break;
        case WB_EXTERN_MEMORY: inst->memories[mi++] = imports[i].of.memory; break;
        case WB_EXTERN_GLOBAL: inst->globals[gi++] = imports[i].of.global; break;
        }
    }
    uint8_t kind = m->cfg.bounds_checks ? WB_FUNC_CHECKED : WB_FUNC_GUARDED;
    inst->own_funcs = wb_calloc(m->nfunc_decls, sizeof *inst->own_funcs);
    for (uint32_t i = 0; i < m->nfunc_decls; i++) {
        wb_func *f = &inst->own_funcs[i];
        f->kind = kind;
        f->type = &m->types[m->funcs[i].type_index];
        f->inst = inst;
        f->code = &m->funcs[i].lowered;
        inst->funcs[fi++] = f;
    }
    for (; ti < m->ntables; ti++) {
        inst->tables[ti] = wb_table_new(s, m->tables[ti], NULL, err);
        if (!inst->tables[ti]) return -1;
    }
    for (; mi < m->nmemories; mi++) {
        inst->memories[mi] = wb__memory_create(s, m->memories[mi], !m->cfg.bounds_checks, err);
        if (!inst->memories[mi]) return -1;
    }
    for (uint32_t k = 0; gi < m->nglobals; gi++, k++) {
        wb_value zero;
        memset(&zero, 0, sizeof zero);
        zero.type = m->globals[k].type.type;
        wb_global *g = wb_global_new(s, m->globals[k].type, zero);
        eval_const(inst, &m->globals[k].init, g->val);
        inst->globals[gi] = g;
    }
    if (m->nmemories) {
        inst->mem0 = inst->memories[0];
        inst->mem_base = inst->mem0->base;
    }
    if (m->native && wb__native_instance_init(inst, err) < 0) return -1;
    return 0;
}

int wb_instance_new(wb_store *s, wb_module *m, const wb_extern *imports, uint32_t nimports,
                    wb_instance **out, wb_error *err) {
    *out = NULL;
    if (nimports != m->nimports)
        return wb_error_set(err, WB_ELINK, "module has %u imports, %u given", m->nimports,
                            nimports);
    for (uint32_t i = 0; i < nimports; i++)
        if (check_import(m, &m->imports[i], &imports[i], !m->cfg.bounds_checks, err) < 0) return -1;

    wb_instance *inst = wb_calloc(1, sizeof *inst);
    inst->store = s;
    inst->module = m;
    wb__module_ref(m);
    inst->funcs = wb_calloc(m->nfuncs, sizeof *inst->funcs);
    inst->tables = wb_calloc(m->ntables, sizeof *inst->tables);
    inst->memories = wb_calloc(m->nmemories, sizeof *inst->memories);
    inst->globals = wb_calloc(m->nglobals, sizeof *inst->globals);
    inst->elem_dropped = wb_calloc(m->nelems, sizeof *inst->elem_dropped);
    inst->data_dropped = wb_calloc(m->ndatas, sizeof *inst->data_dropped);
    inst->next = s->instances;
    s->instances = inst;

    s->trap.kind = WB_TRAP_NONE;
    if (alloc_definitions(s, inst, imports, err) < 0) return -1;
    if (init_segments(s, inst, err) < 0) return -1;
    if (m->has_start) {
        wb_func *start = inst->funcs[m->start];
        if (wb__call(s, NULL, start, s->sp) < 0) {
            if (s->trap.kind == WB_TRAP_EXIT)
                return wb_error_set(err, WB_EEXIT, "exit with code %d", s->trap.exit_code);
            return wb_error_set(err, WB_ETRAP, "wasm trap: %s", s->trap.message);
        }
    }
    *out = inst;
    return 0;
}

void wb__instance_free(wb_instance *inst) {
    wb__native_instance_free(inst);
    wb_module_free(inst->module);
    free(inst->funcs);
    free(inst->tables);
    free(inst->memories);
    free(inst->globals);
    free(inst->own_funcs);
    free(inst->elem_dropped);
    free(inst->data_dropped);
    free(inst);
}

bool wb_instance_export(const wb_instance *inst, const char *name, size_t name_len,
                        wb_extern *out) {
    const wb_module *m = inst->module;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wb_export *e = &m->exports[i];
        if (e->name_len != name_len || memcmp(e->name, name, name_len) != 0) continue;
        out->kind = e->kind;
        switch (e->kind) {
        case WB_EXTERN_FUNC: out->of.func = inst->funcs[e->index]; break;
        case WB_EXTERN_TABLE: out->of.table = inst->tables[e->index]; break;
        case WB_EXTERN_MEMORY: out->of.memory = inst->memories[e->index]; break;
        case WB_EXTERN_GLOBAL: out->of.global = inst->globals[e->index]; break;
        }
        return true;
    }
    return false;
}

const wb_module *wb_instance_module(const wb_instance *inst) {
    return inst->module;
}
