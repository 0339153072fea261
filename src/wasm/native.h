/* wasm/native.h — the compiler tier's contract between generated code and the runtime (internal).
 *
 * A module compiled to native code (src/compiler/, LLVM, only in wasmbox-full and the test
 * tools) is an x86-64 ELF relocatable object; the runtime (here, in every program, also the
 * static core) loads it with wasm/native_obj.c and runs it. The object defines, for each defined
 * function i of the module:
 *   "wf<i>"  the function itself: fastcc, (wb_vmctx *, params...) -> void | T | {T1, ..., Tn};
 *            i32/i64 as integers, f32/f64 as float/double, v128 as <2 x i64>, refs as pointers
 *   "wt<i>"  its entry from the host, C convention: void (wb_vmctx *, wb_slot *fp) — arguments
 *            in fp[0..] as the interpreter lays them out, results written to fp[0..]
 *            (only for functions that can be reached from outside: exports, tables, ref.func,
 *            the start function)
 * and refers to nothing outside itself but memcpy/memmove/memset (LLVM's own idioms): every
 * runtime service is called through wb_vmctx.helpers, so loading needs no symbol table.
 *
 * Traps: generated code calls the TRAP helper (which never returns); out-of-bounds accesses of
 * guarded memories fault, and the fault handler (exec.c) turns a fault at a native code address
 * into the trap. Either way the trap's backtrace is read from the frame-pointer chain (the code is
 * compiled with frame pointers) and execution resumes at the store's innermost entry
 * (siglongjmp). The layout below is the ABI: WB_NATIVE_ABI_VERSION (native_cache.h) changes with
 * it. */
#ifndef WB_WASM_NATIVE_H
#define WB_WASM_NATIVE_H

#include <stddef.h>
#include <stdint.h>

#include "wasm/runtime.h"

typedef struct wb_native_obj wb_native_obj;

/* Per instance; generated code reads these fields at fixed offsets (static-asserted in
 * native.c and given to the compiler as constants). */
typedef struct wb_vmctx {
    wb_memory *mem0;            /* memory 0 or NULL: code reads mem0->base, mem0->size */
    wb_global **globals;        /* the instance's globals (imported ones first) */
    wb_table **tables;          /* the instance's tables */
    wb_func **funcs;            /* the instance's functions (for ref.func) */
    const void *const *helpers; /* enum wb_native_helper → function */
    volatile int64_t *fuel;     /* &store->fuel (interruptible modules) */
    uintptr_t stack_limit;      /* a function entered with its frame below this traps */
    const uint32_t *type_ids;   /* per type index of the module: its process-wide id */
    wb_instance *inst;
    wb_store *store;
} wb_vmctx;

/* The runtime services generated code calls (C convention, first argument the wb_vmctx). Every
 * helper that can trap is called directly from generated code, and reads the frame chain from
 * its own frame. */
#define WB_NATIVE_HELPERS(X)                                                                       \
    X(TRAP)          /* void (vmctx, i32 kind) — never returns */                                \
    X(CALL_IMPORT)   /* void (vmctx, i32 func, wb_slot *fp) */                                     \
    X(CALL_INDIRECT) /* void (vmctx, wb_func *f, i32 type, wb_slot *fp): checks the type */        \
    X(MEMORY_GROW)   /* i32 (vmctx, i32 delta) */                                                  \
    X(MEMORY_FILL)   /* void (vmctx, i32 d, i32 val, i32 n) */                                     \
    X(MEMORY_COPY)   /* void (vmctx, i32 d, i32 s, i32 n) */                                       \
    X(MEMORY_INIT)   /* void (vmctx, i32 seg, i32 d, i32 s, i32 n) */                              \
    X(DATA_DROP)     /* void (vmctx, i32 seg) */                                                   \
    X(TABLE_GET)     /* ptr (vmctx, i32 table, i32 i) */                                           \
    X(TABLE_SET)     /* void (vmctx, i32 table, i32 i, ptr v) */                                   \
    X(TABLE_SIZE)    /* i32 (vmctx, i32 table) */                                                  \
    X(TABLE_GROW)    /* i32 (vmctx, i32 table, ptr init, i32 n) */                                 \
    X(TABLE_FILL)    /* void (vmctx, i32 table, i32 i, ptr v, i32 n) */                            \
    X(TABLE_COPY)    /* void (vmctx, i32 dst table, i32 src table, i32 d, i32 s, i32 n) */         \
    X(TABLE_INIT)    /* void (vmctx, i32 table, i32 seg, i32 d, i32 s, i32 n) */                   \
    X(ELEM_DROP)     /* void (vmctx, i32 seg) */                                                   \
    X(FUEL)          /* void (vmctx): the fuel count went negative */

enum wb_native_helper {
#define WB_NATIVE_HELPER_ENUM(name) WB_NH_##name,
    WB_NATIVE_HELPERS(WB_NATIVE_HELPER_ENUM)
#undef WB_NATIVE_HELPER_ENUM
        WB_NH_COUNT
};

/* Byte offsets the compiler bakes into code. */
typedef struct wb_native_layout {
    uint32_t vm_mem0, vm_globals, vm_tables, vm_funcs, vm_helpers, vm_fuel, vm_stack_limit,
        vm_type_ids;
    uint32_t mem_base, mem_size;                         /* in wb_memory */
    uint32_t global_val;                                 /* in wb_global */
    uint32_t table_size, table_elems;                    /* in wb_table */
    uint32_t func_native, func_native_ctx, func_type_id; /* in wb_func */
} wb_native_layout;

void wb__native_layout(wb_native_layout *out);

/* A module's native code, loaded: shared by its instances (owned by the module). */
typedef struct wb_native_code {
    wb_native_obj *obj;
    void **fn;       /* per defined function: "wf<i>" */
    void **tramp;    /* per defined function: "wt<i>" or NULL */
    uint8_t *object; /* the object as loaded (for the cache) */
    size_t object_len;
} wb_native_code;

/* Load an object the compiler produced for m and attach it to m (m->native). -1 with err set
 * (the object is refused as a whole). */
int wb__native_attach(wb_module *m, const uint8_t *obj, size_t len, wb_error *err);
void wb__native_release(wb_module *m);

/* Instantiation: the instance's context, and its functions turned native. */
int wb__native_instance_init(wb_instance *inst, wb_error *err);
void wb__native_instance_free(wb_instance *inst);

/* wb__call's branch for WB_FUNC_NATIVE functions (inside the entry's sigsetjmp). */
void wb__native_enter(wb_store *s, wb_func *f, wb_slot *fp);

/* The fault handler's part: if pc is in native code of a module of s, records the trap (memory
 * out of bounds) with the backtrace from the frame chain at fp and returns true. Async-signal
 * safe. */
bool wb__native_fault(wb_store *s, uintptr_t pc, uintptr_t fp);

/* Process-wide ids of function types (structural equality), for call_indirect. */
uint32_t wb__functype_id(const wb_functype *t);

/* The compiler, when this program has one (wasmbox-full, the test tools): compiles a validated
 * module to an object in *out (malloc'd). The static core has none (wb__native_compiler_available
 * is false; the call fails with a message pointing at wasmbox-full). */
typedef struct wb_native_options {
    int opt_level;         /* 0..3; default 2 */
    uint64_t cpu_features; /* WB_CPU_* the code may use */
} wb_native_options;
bool wb__native_compiler_available(void);
int wb__native_compile(const wb_module *m, const wb_native_options *opt, uint8_t **out, size_t *len,
                       wb_error *err);

#endif
