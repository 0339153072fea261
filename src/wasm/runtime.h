/* wasm/runtime.h — run-time objects of the engine (internal): stores, instances, functions,
 * memories, tables, globals, and the interpreter's entry points. */
#ifndef WB_WASM_RUNTIME_H
#define WB_WASM_RUNTIME_H

#include <setjmp.h>
#include <signal.h>

#include "wasm/module.h"

/* wb_func.kind: which dispatch loop runs it, or a host function */
enum { WB_FUNC_GUARDED = 0, WB_FUNC_CHECKED = 1, WB_FUNC_HOST = 2, WB_FUNC_NATIVE = 3 };

struct wb_func {
    uint8_t kind;
    const wb_functype *type; /* wasm: the module's type; host: &host_type */
    wb_instance *inst;       /* wasm: the owning instance; host: NULL */
    const wb_code *code;     /* wasm */
    wb_host_fn host;         /* host */
    void *env;
    char *name;            /* host debug name (owned) */
    wb_functype host_type; /* host: owned copy */
    wb_func *next;         /* store's list */
    /* compiled (wasm/native.h): the function's code, its instance context, its entry from the
     * host, and the id of its type (wb__functype_id) */
    void *native;
    void *native_ctx;
    void *native_tramp;
    uint32_t type_id;
};

struct wb_memory {
    uint8_t *base;      /* byte 0 of linear memory */
    uint64_t size;      /* bytes */
    wb_limits limits;   /* pages */
    uint64_t max_bytes; /* growth cap: limits, store cap, 4 GiB */
    uint8_t *reserve;   /* guarded: the whole reservation (memory + guard region) */
    size_t reserve_len;
    bool guarded;
    wb_memory *next;
};

struct wb_table {
    wb_tabletype type;
    uint32_t size, cap;
    uint32_t max; /* growth cap */
    void **elems; /* wb_func * for funcref, host pointers for externref */
    wb_table *next;
};

struct wb_global {
    wb_globaltype type;
    wb_slot val[2]; /* v128 takes both */
    wb_global *next;
};

struct wb_instance {
    wb_store *store;
    wb_module *module; /* holds a reference */
    uint8_t *mem_base; /* memory 0's base, refreshed on grow for bounds-checked memories */
    wb_memory *mem0;
    wb_func **funcs; /* module->nfuncs */
    wb_table **tables;
    wb_memory **memories;
    wb_global **globals;
    wb_func *own_funcs; /* the instance's defined functions (array) */
    bool *elem_dropped;
    bool *data_dropped;
    struct wb_vmctx *vmctx; /* compiled modules: the context native code runs with */
    wb_instance *next;
};

/* One wasm activation: where to return and what runs in it. */
typedef struct wb_frame_rec {
    const uint32_t *ret_ip;
    wb_slot *ret_fp;
    wb_instance *ret_inst;
    const wb_code *code; /* the function running in this activation (for backtraces) */
} wb_frame_rec;

struct wb_caller {
    wb_store *store;
    wb_instance *inst; /* the calling instance (NULL when called from the host) */
};

struct wb_store {
    wb_store_limits lim;
    wb_slot *stack, *stack_end; /* value stack (mmap, committed lazily) */
    size_t stack_map_len;
    wb_frame_rec *recs, *recs_end; /* activation records */
    size_t recs_map_len;
    wb_frame_rec *rec_top; /* innermost record while wasm runs or calls the host */
    wb_slot *sp;           /* first free value slot for a nested entry from the host */
    volatile int64_t fuel; /* interruptible modules: units left */
    bool fuel_limited;
    volatile sig_atomic_t interrupt; /* wb_store_interrupt was called */
    int depth;                       /* nesting of host→wasm entries */
    sigjmp_buf *jmp;                 /* innermost entry's recovery point for memory faults */
    wb_trap_info trap;
    uint32_t halt_code[2][4]; /* per interpreter variant: a HALT instruction */
    wb_func *funcs;
    wb_memory *memories;
    wb_table *tables;
    wb_global *globals;
    wb_instance *instances;
};

/* Interpreter variants: guarded memories (faults become traps) or explicit bounds checks. */
enum { WB_INTERP_GUARDED = 0, WB_INTERP_CHECKED = 1 };

/* The label table of a variant's dispatch loop, indexed by enum wb_iop. */
const void *const *wb__interp_labels(int variant);

/* Run `entry` (a wasm function of the loop's variant) with its frame at fp0 (args in place); on
 * return the results are at fp0[0..]. Returns 0, or -1 after filling s->trap. With labels_out set,
 * only stores the label table there. */
int wb__interp_loop_guarded(wb_store *s, wb_func *entry, wb_slot *fp0,
                            const void *const **labels_out);
int wb__interp_loop_checked(wb_store *s, wb_func *entry, wb_slot *fp0,
                            const void *const **labels_out);

bool wb__functype_equal(const wb_functype *a, const wb_functype *b);
/* The reference an element-segment item evaluates to in inst. */
void *wb__elem_item(const wb_instance *inst, const wb_const_expr *e);

/* Calls f (wasm or host) with args/results in slots at `fp` (on the store's value stack); the
 * entry used by wb_func_call, instantiation and calls between dispatch loops. `caller` is the
 * calling instance (NULL from the host). Returns 0 or -1 (s->trap filled). */
int wb__call(wb_store *s, wb_instance *caller, wb_func *f, wb_slot *fp);

/* Record a trap of `kind` with a backtrace from the innermost activation `rec`. */
void wb__trap_set(wb_store *s, wb_trap_kind kind, const wb_frame_rec *rec, const char *message);

/* Memories: guarded ones reserve their whole address range; others are bounds-checked. */
wb_memory *wb__memory_create(wb_store *s, wb_limits lim, bool guarded, wb_error *err);
void wb__instance_free(wb_instance *inst);

/* Memory helpers shared by the interpreter and instantiation. */
int64_t wb__memory_grow(wb_memory *m, uint64_t delta_pages);
int64_t wb__table_grow(wb_table *t, uint64_t delta, void *init);

/* Guarded memories: install the fault handler once per process (idempotent, thread-safe). */
void wb__signals_install(void);
/* The store running on this thread (for the fault handler), NULL outside wasm. */
extern __thread wb_store *wb__tls_store;

/* Value stack and call-depth checks use these as the initial entry. */
wb_slot *wb__store_stack_top(wb_store *s);

void wb__module_ref(wb_module *m);

/* Listing of a function's internal code. */
#include <stdio.h>
void wb__disasm(const wb_code *c, FILE *out);

#endif
