/* Module lifecycle: decode → validate → lower, reference counting, and the import/export views. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "wasm/module.h"
#include "wasm/native.h"
#include "wasm/native_cpu.h"
#include "wasm/runtime.h"

static int compile(wb_module *m, wb_module **out, wb_error *err) {
    if (wb__module_decode(m, err) < 0 || wb__module_validate(m, err) < 0 ||
        wb__module_lower(m, err) < 0) {
        wb__module_release(m);
        free(m);
        *out = NULL;
        return -1;
    }
    *out = m;
    return 0;
}

int wb_module_new(const wb_config *cfg, const uint8_t *bytes, size_t len, wb_module **out,
                  wb_error *err) {
    wb_module *m = wb_calloc(1, sizeof *m);
    m->refcount = 1;
    if (cfg) m->cfg = *cfg;
    m->bytes = wb_malloc(len ? len : 1);
    if (len) memcpy(m->bytes, bytes, len);
    m->len = len;
    return compile(m, out, err);
}

int wb_module_load(const wb_config *cfg, const char *path, wb_module **out, wb_error *err) {
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return wb_error_sys(err, "read `%s`", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        wb_error_sys(err, "read `%s`", path);
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > WB_MAX_MODULE_BYTES) {
        close(fd);
        return wb_error_set(err, S_ISDIR(st.st_mode) ? EISDIR : EFBIG, "read `%s`: %s", path,
                            S_ISDIR(st.st_mode)   ? "is a directory"
                            : S_ISREG(st.st_mode) ? "file too large for a module"
                                                  : "not a regular file");
    }
    wb_module *m = wb_calloc(1, sizeof *m);
    m->refcount = 1;
    if (cfg) m->cfg = *cfg;
    m->len = (size_t)st.st_size;
    if (m->len == 0) {
        m->bytes = wb_malloc(1);
    } else {
        /* pages are read on demand: custom sections a module never uses cost nothing */
        void *p = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            wb_error_sys(err, "map `%s`", path);
            close(fd);
            free(m);
            return -1;
        }
        m->bytes = p;
        m->mapped = true;
    }
    close(fd);
    return compile(m, out, err);
}

void wb__module_release(wb_module *m) {
    for (uint32_t i = 0; i < m->ntypes; i++) free(m->types[i].types);
    free(m->types);
    for (uint32_t i = 0; i < m->nimports; i++) {
        free(m->imports[i].module);
        free(m->imports[i].name);
    }
    free(m->imports);
    free(m->func_types);
    for (uint32_t i = 0; i < m->nfunc_decls; i++) free(m->funcs[i].local_types);
    free(m->funcs);
    wb__module_lower_release(m);
    wb__native_release(m);
    free(m->tables);
    free(m->memories);
    free(m->global_types);
    free(m->globals);
    for (uint32_t i = 0; i < m->nexports; i++) free(m->exports[i].name);
    free(m->exports);
    for (uint32_t i = 0; i < m->nelems; i++) free(m->elems[i].items);
    free(m->elems);
    free(m->datas);
    free(m->declared_refs);
    if (m->func_names)
        for (uint32_t i = 0; i < m->nfuncs; i++) free(m->func_names[i]);
    free(m->func_names);
    free(m->name);
    if (m->mapped)
        munmap(m->bytes, m->len);
    else
        free(m->bytes);
}

void wb__module_ref(wb_module *m) {
    __atomic_add_fetch(&m->refcount, 1, __ATOMIC_RELAXED);
}

void wb_module_free(wb_module *m) {
    if (!m || __atomic_sub_fetch(&m->refcount, 1, __ATOMIC_ACQ_REL) > 0) return;
    wb__module_release(m);
    free(m);
}

uint32_t wb_module_import_count(const wb_module *m) {
    return m->nimports;
}

void wb_module_import(const wb_module *m, uint32_t i, wb_import_info *out) {
    const wb_import *im = &m->imports[i];
    memset(out, 0, sizeof *out);
    out->module = im->module;
    out->module_len = im->module_len;
    out->name = im->name;
    out->name_len = im->name_len;
    out->kind = im->kind;
    if (im->kind == WB_EXTERN_FUNC) out->func = &m->types[im->type_index];
    out->table = im->table;
    out->memory = im->memory;
    out->global = im->global;
}

uint32_t wb_module_export_count(const wb_module *m) {
    return m->nexports;
}

void wb_module_export(const wb_module *m, uint32_t i, wb_export_info *out) {
    out->name = m->exports[i].name;
    out->name_len = m->exports[i].name_len;
    out->kind = m->exports[i].kind;
    out->index = m->exports[i].index;
}

const char *wb_module_func_name(const wb_module *m, uint32_t index) {
    if (!m->func_names || index >= m->nfuncs) return NULL;
    return m->func_names[index];
}

/* ---- the compiler tier ---- */

int wb_module_compile(wb_module *m, int opt_level, uint64_t cpu_features, wb_error *err) {
    if (!wb__native_compiler_available())
        return wb_error_set(err, ENOTSUP,
                            "this program has no compiler (wasmbox-full compiles modules)");
    wb_native_options opt = {.opt_level = opt_level < 0 ? 2 : opt_level,
                             .cpu_features = cpu_features ? cpu_features : wb_cpu_features()};
    uint8_t *obj = NULL;
    size_t len = 0;
    if (wb__native_compile(m, &opt, &obj, &len, err) < 0) return -1;
    int rc = wb__native_attach(m, obj, len, err);
    free(obj);
    return rc;
}

int wb_module_attach_native(wb_module *m, const uint8_t *obj, size_t len, wb_error *err) {
    return wb__native_attach(m, obj, len, err);
}

bool wb_module_native_object(const wb_module *m, const uint8_t **obj, size_t *len) {
    if (!m->native) return false;
    *obj = m->native->object;
    *len = m->native->object_len;
    return true;
}

bool wb_module_is_native(const wb_module *m) {
    return m->native != NULL;
}
