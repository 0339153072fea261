/* wasm/module.h — the decoded form of a module (internal to the engine). The decoder fills it, the
 * validator checks it, the lowering adds each function's internal code (at its first call). */
#ifndef WB_WASM_MODULE_H
#define WB_WASM_MODULE_H

#include <pthread.h>

#include "wasm/wasm.h"

/* A constant expression (Wasm 2.0: exactly one instruction before `end`). */
enum wb_const_op {
    WB_CONST_I32,
    WB_CONST_I64,
    WB_CONST_F32,
    WB_CONST_F64,
    WB_CONST_V128,
    WB_CONST_REF_NULL,
    WB_CONST_REF_FUNC,
    WB_CONST_GLOBAL_GET,
};

typedef struct wb_const_expr {
    uint8_t op; /* enum wb_const_op */
    uint8_t
        type; /* value type it produces (REF_NULL: the ref type; GLOBAL_GET: filled by validator) */
    uint32_t index;   /* REF_FUNC function index, GLOBAL_GET global index */
    uint64_t bits[2]; /* constant bit pattern (v128 uses both) */
} wb_const_expr;

typedef struct wb_import {
    char *module, *name; /* NUL-terminated copies (names may hold NUL: see *_len) */
    uint32_t module_len, name_len;
    uint8_t kind;         /* WB_EXTERN_* */
    uint32_t type_index;  /* FUNC */
    wb_tabletype table;   /* TABLE */
    wb_limits memory;     /* MEMORY */
    wb_globaltype global; /* GLOBAL */
} wb_import;

typedef struct wb_export {
    char *name;
    uint32_t name_len;
    uint8_t kind;
    uint32_t index;
} wb_export;

typedef struct wb_global_decl {
    wb_globaltype type;
    wb_const_expr init;
} wb_global_decl;

enum wb_segment_mode { WB_SEG_ACTIVE, WB_SEG_PASSIVE, WB_SEG_DECLARATIVE };

typedef struct wb_elem_segment {
    uint8_t mode;
    uint8_t elem_type;    /* WB_FUNCREF / WB_EXTERNREF */
    uint32_t table;       /* active */
    wb_const_expr offset; /* active */
    uint32_t count;
    wb_const_expr *items; /* count items: REF_FUNC, REF_NULL or GLOBAL_GET */
} wb_elem_segment;

typedef struct wb_data_segment {
    uint8_t mode; /* ACTIVE or PASSIVE */
    uint32_t memory;
    wb_const_expr offset;
    const uint8_t *bytes; /* into the module's copy of the binary */
    uint32_t len;
} wb_data_segment;

/* A function's lowered internal code, shared by every instance of the module. `code` is NULL until
 * the function is lowered (at its first call: wb__code_prepare); the other fields but `module` and
 * `func_index` are only valid once it is set (read it with acquire semantics). */
typedef struct wb_code {
    const uint32_t *code; /* internal code units; see lower.h */
    uint32_t code_len;
    uint32_t nparams;     /* param slots */
    uint32_t nlocals;     /* slots of the declared locals (zeroed on entry) */
    uint32_t frame_slots; /* params + locals + operand temps */
    uint32_t func_index;
    const struct wb_module *module;
} wb_code;

typedef struct wb_func_decl {
    uint32_t type_index;
    const uint8_t *body; /* the code entry: locals declarations then the expression */
    uint32_t body_len;
    uint32_t body_offset; /* of `body` in the binary, for messages */
    uint32_t nlocals;     /* declared locals (params excluded) */
    uint8_t *local_types; /* nlocals types */
    wb_code lowered;
} wb_func_decl;

struct wb_module {
    int refcount; /* atomic: stores in several threads share a module */
    wb_config cfg;
    uint8_t *bytes; /* the binary: an owned copy, or a private mapping of its file */
    size_t len;
    bool mapped; /* bytes is an mmap of len bytes */

    wb_functype *types;
    uint32_t ntypes;

    wb_import *imports;
    uint32_t nimports;

    /* index spaces: imports first, then definitions */
    uint32_t nfuncs, nimported_funcs;
    uint32_t *func_types; /* nfuncs type indices */
    wb_func_decl *funcs;  /* nfunc_decls defined functions */
    uint32_t nfunc_decls;

    uint32_t ntables, nimported_tables;
    wb_tabletype *tables; /* ntables */

    uint32_t nmemories, nimported_memories;
    wb_limits *memories; /* nmemories */

    uint32_t nglobals, nimported_globals;
    wb_globaltype *global_types; /* nglobals */
    wb_global_decl *globals;     /* nglobal_decls definitions */
    uint32_t nglobal_decls;

    wb_export *exports;
    uint32_t nexports;

    bool has_start;
    uint32_t start;

    wb_elem_segment *elems;
    uint32_t nelems;

    wb_data_segment *datas;
    uint32_t ndatas;
    bool has_data_count;
    uint32_t data_count;

    /* functions that may be named by ref.func in code (C.refs in the spec): exports, element
     * segments and global initialisers. Bitset over nfuncs. */
    uint8_t *declared_refs;

    struct wb_lower_state *lower; /* code arena and lowering scratch (lower.c); under lower_lock */
    pthread_mutex_t lower_lock;
    bool lower_lock_ready;

    struct wb_native_code *native; /* compiled code (wasm/native.h), or NULL */

    char **func_names; /* nfuncs entries, NULL where unnamed; from the name section */
    char *name;        /* module name from the name section, or NULL */
};

/* Stages of wb_module_new (each fills err with the spec's wording). */
int wb__module_decode(wb_module *m, wb_error *err); /* m->bytes/len set; err->code WB_EMALFORMED */
int wb__module_validate(wb_module *m, wb_error *err); /* err->code WB_EINVALID */
int wb__module_lower(wb_module *m, wb_error *err);    /* prepares lowering; eager: lowers all */
/* Lower c's function if no other call has: 0, or -1 (a validated function that cannot be lowered,
 * an engine bug). Safe from several threads. */
int wb__code_prepare(const wb_code *c);
int wb__module_lower_all(wb_module *m, wb_error *err);
void wb__module_lower_release(wb_module *m);
void wb__module_release(wb_module *m); /* frees everything decode/lower made */

static inline const wb_functype *wb__func_type(const wb_module *m, uint32_t func_index) {
    return &m->types[m->func_types[func_index]];
}

static inline bool wb__is_ref_type(uint8_t t) {
    return t == WB_FUNCREF || t == WB_EXTERNREF;
}
static inline bool wb__is_value_type(uint8_t t) {
    return t == WB_I32 || t == WB_I64 || t == WB_F32 || t == WB_F64 || t == WB_V128 ||
           wb__is_ref_type(t);
}
static inline uint32_t wb__type_slots(uint8_t t) {
    return t == WB_V128 ? 2 : 1;
}
#define wb__type_name wb_valtype_name

#endif
