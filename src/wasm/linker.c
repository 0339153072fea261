/* The linker: a table of (module name, field name) → extern used to resolve a module's imports,
 * plus the spec test suite's `spectest` host module. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "wasm/runtime.h"

typedef struct link_entry {
    char *module, *name;
    size_t module_len, name_len;
    wb_extern ext;
} link_entry;

struct wb_linker {
    link_entry *entries;
    size_t n, cap;
};

wb_linker *wb_linker_new(void) {
    return wb_calloc(1, sizeof(wb_linker));
}

void wb_linker_free(wb_linker *l) {
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->entries[i].module);
        free(l->entries[i].name);
    }
    free(l->entries);
    free(l);
}

static void define_n(wb_linker *l, const char *module, size_t module_len, const char *name,
                     size_t name_len, wb_extern ext) {
    WB_VEC_RESERVE(l->entries, l->cap, l->n + 1);
    link_entry *e = &l->entries[l->n++];
    e->module = wb_strndup(module, module_len);
    e->module_len = module_len;
    e->name = wb_strndup(name, name_len);
    e->name_len = name_len;
    e->ext = ext;
}

void wb_linker_define(wb_linker *l, const char *module, const char *name, wb_extern ext) {
    define_n(l, module, strlen(module), name, strlen(name), ext);
}

void wb_linker_define_instance(wb_linker *l, const char *module, const wb_instance *inst) {
    const wb_module *m = inst->module;
    for (uint32_t i = 0; i < m->nexports; i++) {
        wb_extern ext;
        if (wb_instance_export(inst, m->exports[i].name, m->exports[i].name_len, &ext))
            define_n(l, module, strlen(module), m->exports[i].name, m->exports[i].name_len, ext);
    }
}

static const link_entry *lookup(const wb_linker *l, const wb_import *im) {
    for (size_t i = l->n; i-- > 0;) {
        const link_entry *e = &l->entries[i];
        if (e->module_len == im->module_len && e->name_len == im->name_len &&
            memcmp(e->module, im->module, im->module_len) == 0 &&
            memcmp(e->name, im->name, im->name_len) == 0)
            return e;
    }
    return NULL;
}

int wb_linker_instantiate(wb_linker *l, wb_store *s, wb_module *m, wb_instance **out,
                          wb_error *err) {
    wb_extern *ext = wb_calloc(m->nimports ? m->nimports : 1, sizeof *ext);
    for (uint32_t i = 0; i < m->nimports; i++) {
        const link_entry *e = lookup(l, &m->imports[i]);
        if (!e) {
            wb_error_set(err, WB_ELINK, "unknown import: `%s`.`%s` is not defined",
                         m->imports[i].module, m->imports[i].name);
            free(ext);
            *out = NULL;
            return -1;
        }
        ext[i] = e->ext;
    }
    int rc = wb_instance_new(s, m, ext, m->nimports, out, err);
    free(ext);
    return rc;
}

/* ---- spectest ---- */

static int spectest_print(wb_caller *c, void *env, wb_slot *slots) {
    return 0;
}

int wb_spectest_define(wb_linker *l, wb_store *s, wb_error *err) {
    static const struct {
        const char *name;
        uint32_t np;
        uint8_t params[2];
    } prints[] = {
        {"print", 0, {0}},
        {"print_i32", 1, {WB_I32}},
        {"print_i64", 1, {WB_I64}},
        {"print_f32", 1, {WB_F32}},
        {"print_f64", 1, {WB_F64}},
        {"print_i32_f32", 2, {WB_I32, WB_F32}},
        {"print_f64_f64", 2, {WB_F64, WB_F64}},
    };
    for (size_t i = 0; i < sizeof prints / sizeof prints[0]; i++) {
        wb_functype ft = {prints[i].np, 0, (uint8_t *)prints[i].params, 0, 0};
        wb_extern e = {.kind = WB_EXTERN_FUNC};
        e.of.func = wb_func_new_host(s, &ft, spectest_print, NULL, prints[i].name);
        wb_linker_define(l, "spectest", prints[i].name, e);
    }
    static const struct {
        const char *name;
        uint8_t type;
        uint64_t bits;
    } globals[] = {
        {"global_i32", WB_I32, 666},
        {"global_i64", WB_I64, 666},
        {"global_f32", WB_F32, 0x4426a666},            /* 666.6f */
        {"global_f64", WB_F64, 0x4084d4cccccccccdull}, /* 666.6 */
    };
    for (size_t i = 0; i < sizeof globals / sizeof globals[0]; i++) {
        wb_value v;
        memset(&v, 0, sizeof v);
        v.type = globals[i].type;
        v.of.i64 = (int64_t)globals[i].bits;
        if (v.type == WB_I32) v.of.i32 = (int32_t)globals[i].bits;
        if (v.type == WB_F32) v.of.f32 = (uint32_t)globals[i].bits;
        wb_extern e = {.kind = WB_EXTERN_GLOBAL};
        e.of.global = wb_global_new(s, (wb_globaltype){globals[i].type, false}, v);
        wb_linker_define(l, "spectest", globals[i].name, e);
    }
    wb_extern t = {.kind = WB_EXTERN_TABLE};
    t.of.table = wb_table_new(s, (wb_tabletype){WB_FUNCREF, {10, 20, true}}, NULL, err);
    if (!t.of.table) return -1;
    wb_linker_define(l, "spectest", "table", t);
    wb_extern mem = {.kind = WB_EXTERN_MEMORY};
    mem.of.memory = wb_memory_new(s, (wb_limits){1, 2, true}, err);
    if (!mem.of.memory) return -1;
    wb_linker_define(l, "spectest", "memory", mem);
    return 0;
}
