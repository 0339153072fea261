/* wasm/wasm.h — the WebAssembly engine's public API.
 * A wb_module is decoded and validated once; each function is lowered at its first call (under the
 * module's lock) or, with eager_lowering, at load. Otherwise immutable (shareable between stores
 * and threads). A wb_store owns everything created at run time — instances, functions, memories,
 * tables, globals — and the execution stacks; one thread uses a store at a time. */
#ifndef WB_WASM_H
#define WB_WASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* Value types, by their binary encoding. */
enum {
    WB_I32 = 0x7f,
    WB_I64 = 0x7e,
    WB_F32 = 0x7d,
    WB_F64 = 0x7c,
    WB_V128 = 0x7b,
    WB_FUNCREF = 0x70,
    WB_EXTERNREF = 0x6f,
};

enum { WB_EXTERN_FUNC = 0, WB_EXTERN_TABLE = 1, WB_EXTERN_MEMORY = 2, WB_EXTERN_GLOBAL = 3 };

/* err->code values of the engine (WB_EMALFORMED, WB_EINVALID, WB_ELINK, WB_ETRAP, WB_EEXIT) are
 * in base/error.h, with every other module's; other codes are errno values. */

#define WB_PAGE_SIZE 65536u
#define WB_MAX_PAGES 65536u

typedef struct wb_module wb_module;
typedef struct wb_store wb_store;
typedef struct wb_instance wb_instance;
typedef struct wb_func wb_func;
typedef struct wb_table wb_table;
typedef struct wb_memory wb_memory;
typedef struct wb_global wb_global;
typedef struct wb_linker wb_linker;
typedef struct wb_caller wb_caller;

/* One operand slot. Floats are kept as IEEE bit patterns in memory (loads and stores of the float
 * members do not alter NaN payloads on x86-64). Refs: a funcref is a wb_func *, an externref an
 * opaque host pointer; NULL is the null reference for both. v128 values take two slots. */
typedef union wb_slot {
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    float f32;
    double f64;
    void *ref;
} wb_slot;

typedef struct wb_value {
    uint8_t type;
    union {
        int32_t i32;
        int64_t i64;
        uint32_t f32; /* bit pattern */
        uint64_t f64; /* bit pattern */
        void *ref;
        uint8_t v128[16];
    } of;
} wb_value;

typedef struct wb_functype {
    uint32_t nparams, nresults;
    uint8_t *types;       /* nparams param types, then nresults result types */
    uint32_t param_slots; /* slots the params take (v128 = 2) */
    uint32_t result_slots;
} wb_functype;

typedef struct wb_limits {
    uint64_t min, max;
    bool has_max;
} wb_limits;

typedef struct wb_tabletype {
    uint8_t elem; /* WB_FUNCREF or WB_EXTERNREF */
    wb_limits limits;
} wb_tabletype;

typedef struct wb_globaltype {
    uint8_t type;
    bool mut;
} wb_globaltype;

typedef struct wb_extern {
    uint8_t kind; /* WB_EXTERN_* */
    union {
        wb_func *func;
        wb_table *table;
        wb_memory *memory;
        wb_global *global;
    } of;
} wb_extern;

typedef struct wb_import_info {
    const char *module, *name;
    uint32_t module_len, name_len;
    uint8_t kind;
    const wb_functype *func; /* kind FUNC */
    wb_tabletype table;      /* kind TABLE */
    wb_limits memory;        /* kind MEMORY */
    wb_globaltype global;    /* kind GLOBAL */
} wb_import_info;

typedef struct wb_export_info {
    const char *name;
    uint32_t name_len;
    uint8_t kind;
    uint32_t index;
} wb_export_info;

typedef struct wb_config {
    bool bounds_checks; /* explicit bounds checks instead of guard regions (short address space) */
    bool interruptible; /* check fuel and interrupt requests at loop headers and function entries */
    bool eager_lowering; /* lower every function at load, not at its first call (fuzzing, dumps) */
} wb_config;

/* ---- modules ---- */

/* Decode, validate and lower `bytes` (copied). On failure returns -1 with err->code WB_EMALFORMED
 * or WB_EINVALID and a message that starts with the spec's wording. cfg may be NULL (defaults). The
 * caller owns *out and releases it with wb_module_free; instances keep their own reference. */
int wb_module_new(const wb_config *cfg, const uint8_t *bytes, size_t len, wb_module **out,
                  wb_error *err);
/* The same from a file, which is mapped rather than read (its pages are only touched as needed).
 * Files over WB_MAX_MODULE_BYTES are refused. */
#define WB_MAX_MODULE_BYTES ((uint64_t)1 << 30)
int wb_module_load(const wb_config *cfg, const char *path, wb_module **out, wb_error *err);
void wb_module_free(wb_module *m);
uint32_t wb_module_import_count(const wb_module *m);
void wb_module_import(const wb_module *m, uint32_t i, wb_import_info *out);
uint32_t wb_module_export_count(const wb_module *m);
void wb_module_export(const wb_module *m, uint32_t i, wb_export_info *out);
/* Name of function `index` from the name section, or NULL. */
const char *wb_module_func_name(const wb_module *m, uint32_t index);

/* ---- the compiler tier (docs/native.md) ---- */

/* Compile m to native code (LLVM, loaded on first use) at opt_level 0..3 (< 0: the default, 2)
 * for the CPU features cpu_features (WB_CPU_* of wasm/native_cpu.h; 0: this machine's).
 * Instances created afterwards run the native code. -1 with err when this program has no
 * compiler (the static core: ENOTSUP) or the module uses what the compiler does not handle yet
 * (the message says what); m is unchanged then. */
int wb_module_compile(wb_module *m, int opt_level, uint64_t cpu_features, wb_error *err);
/* Load native code made for m earlier (a cache file's object); -1 if the object is refused. */
int wb_module_attach_native(wb_module *m, const uint8_t *obj, size_t len, wb_error *err);
/* The object m runs (to cache it): false when m is not compiled. Owned by m. */
bool wb_module_native_object(const wb_module *m, const uint8_t **obj, size_t *len);
bool wb_module_is_native(const wb_module *m);

/* ---- stores ---- */

typedef struct wb_store_limits {
    uint32_t max_call_depth; /* wasm frames; 0 = default (100,000) */
    uint32_t value_stack_mb; /* value stack size; 0 = default (64 MiB, committed lazily) */
    uint64_t max_memory;     /* cap on bytes of any one linear memory; 0 = 4 GiB */
} wb_store_limits;

/* lim may be NULL. Returns NULL with err filled if the stacks cannot be mapped. */
wb_store *wb_store_new(const wb_store_limits *lim, wb_error *err);
/* Frees the store and everything it owns (instances, host objects). */
void wb_store_free(wb_store *s);
/* For a process about to exit: keeps m, s and l (any may be NULL) unfreed but reachable (for
 * leak checkers), so that exit unmaps their memory at once instead of one munmap and TLB flush
 * per mapping. Nothing of them may be used afterwards. */
void wb_leave_to_exit(wb_module *m, wb_store *s, wb_linker *l);
/* Fuel for interruptible modules: each loop iteration and call consumes one unit. < 0 = unlimited.
 */
void wb_store_set_fuel(wb_store *s, int64_t fuel);
/* Ask the wasm code running in s (interruptible modules) to stop with the trap "interrupted" at
 * its next loop iteration or call. Async-signal-safe: meant for a timer's signal handler on the
 * thread that runs the store. */
void wb_store_interrupt(wb_store *s);
/* Forget an interrupt (a store used again after one): not while its code runs. */
void wb_store_clear_interrupt(wb_store *s);

/* ---- traps ---- */

typedef enum wb_trap_kind {
    WB_TRAP_NONE = 0,
    WB_TRAP_UNREACHABLE,
    WB_TRAP_MEMORY_OOB,
    WB_TRAP_TABLE_OOB,
    WB_TRAP_INT_OVERFLOW,
    WB_TRAP_DIV_ZERO,
    WB_TRAP_INVALID_CONVERSION,
    WB_TRAP_UNDEFINED_ELEMENT,
    WB_TRAP_UNINITIALIZED_ELEMENT,
    WB_TRAP_INDIRECT_CALL_MISMATCH,
    WB_TRAP_STACK_EXHAUSTED,
    WB_TRAP_NULL_FUNC,
    WB_TRAP_OUT_OF_FUEL,
    WB_TRAP_INTERRUPTED,
    WB_TRAP_LOWERING, /* a validated function could not be lowered at its first call (engine bug) */
    WB_TRAP_HOST,     /* a host function trapped; message is its own */
    WB_TRAP_EXIT,     /* the guest exited (proc_exit); not an error of the guest */
    WB_TRAP_KIND_COUNT
} wb_trap_kind;

#define WB_BACKTRACE_MAX 32

typedef struct wb_frame_info {
    const wb_module *module; /* NULL for a host function */
    uint32_t func_index;
    const char *name; /* name-section name, host debug name, or NULL */
} wb_frame_info;

typedef struct wb_trap_info {
    wb_trap_kind kind;
    int exit_code;     /* WB_TRAP_EXIT */
    char message[256]; /* the spec's message, e.g. "integer divide by zero" */
    uint32_t nframes;  /* innermost first; at most WB_BACKTRACE_MAX kept */
    uint32_t total_frames;
    wb_frame_info frames[WB_BACKTRACE_MAX];
} wb_trap_info;

const char *wb_trap_kind_message(wb_trap_kind kind);
/* The last trap in this store (kind NONE if the last call returned normally). */
const wb_trap_info *wb_store_last_trap(const wb_store *s);
/* Writes "wasm backtrace:\n  0: name\n ..." into buf (always NUL-terminated). */
void wb_trap_format_backtrace(const wb_trap_info *t, char *buf, size_t size);

/* ---- functions and calls ---- */

/* A host function gets its arguments in slots[0..param_slots) and writes its results to
 * slots[0..result_slots). It returns 0, or the value of wb_caller_trap / wb_caller_exit. */
typedef int (*wb_host_fn)(wb_caller *caller, void *env, wb_slot *slots);

/* `type` is copied; `name` (for backtraces, may be NULL) is copied. */
wb_func *wb_func_new_host(wb_store *s, const wb_functype *type, wb_host_fn fn, void *env,
                          const char *name);
const wb_functype *wb_func_type(const wb_func *f);

/* Call f with args; results receives type->nresults values. Returns 0, or -1 with err filled
 * (err->code WB_ETRAP or WB_EEXIT; "wasm trap: MESSAGE"); wb_store_last_trap has the details. */
int wb_func_call(wb_store *s, wb_func *f, const wb_value *args, uint32_t nargs, wb_value *results,
                 uint32_t nresults, wb_error *err);

wb_memory *wb_caller_memory(wb_caller *c); /* memory 0 of the calling instance, or NULL */
wb_store *wb_caller_store(wb_caller *c);
int wb_caller_trap(wb_caller *c, const char *message);
int wb_caller_exit(wb_caller *c, int code);

/* ---- memories, tables, globals ---- */

wb_memory *wb_memory_new(wb_store *s, wb_limits limits, wb_error *err);
uint8_t *wb_memory_data(const wb_memory *m);
uint64_t wb_memory_size(const wb_memory *m); /* bytes */
/* Grow by delta pages; returns the old size in pages, or -1 if it cannot grow. */
int64_t wb_memory_grow(wb_memory *m, uint32_t delta);
wb_limits wb_memory_limits(const wb_memory *m);

wb_table *wb_table_new(wb_store *s, wb_tabletype type, void *init, wb_error *err);
uint32_t wb_table_size(const wb_table *t);
wb_tabletype wb_table_type(const wb_table *t);

wb_global *wb_global_new(wb_store *s, wb_globaltype type, wb_value init);
wb_value wb_global_get(const wb_global *g);
wb_globaltype wb_global_type(const wb_global *g);

/* ---- instances ---- */

/* Instantiate m with imports[i] matching wb_module_import(m, i). Runs the start function.
 * Returns -1 with err->code WB_ELINK (imports), WB_ETRAP (a trap in init or start; the instance
 * may have partly initialised shared tables/memories as the spec says) or an errno. */
int wb_instance_new(wb_store *s, wb_module *m, const wb_extern *imports, uint32_t nimports,
                    wb_instance **out, wb_error *err);
/* Names are byte strings (they may hold NUL); pass name_len = strlen(name) for C strings. */
bool wb_instance_export(const wb_instance *inst, const char *name, size_t name_len, wb_extern *out);
const wb_module *wb_instance_module(const wb_instance *inst);

/* ---- snapshots: one instance for many runs (per-request runtimes) ---- */

/* The state inst defines — its memories' bytes and sizes, its tables, its globals, which segments
 * are dropped — saved now (normally right after instantiation), to be put back after each run
 * with wb_instance_restore, so that every run starts as on a fresh instance without the cost of
 * making one. Refused (ENOTSUP) for instances that import a memory, a table or a mutable global
 * (that state is shared). The host's own state (WASI descriptors) is the host's to reset.
 * mode: WB_SNAPSHOT_AUTO (TRACK where the kernel can, else COPY up to WB_SNAPSHOT_COPY_MAX bytes
 * of memory and COW above), WB_SNAPSHOT_TRACK (guarded memories, Linux 6.7+: keep a copy, the
 * kernel marks the pages a run writes, restore copies back just those; ENOTSUP where the kernel
 * cannot), WB_SNAPSHOT_COPY (keep a copy; restore compares and copies back the pages that
 * differ), or WB_SNAPSHOT_COW (guarded memories: the image in a memfd mapped privately over the
 * memory; restore drops the written pages). The snapshot belongs to inst; free it before inst's
 * store. */
enum { WB_SNAPSHOT_AUTO = 0, WB_SNAPSHOT_COPY = 1, WB_SNAPSHOT_COW = 2, WB_SNAPSHOT_TRACK = 3 };
#define WB_SNAPSHOT_COPY_MAX ((uint64_t)1 << 20)
typedef struct wb_snapshot wb_snapshot;
int wb_instance_snapshot(wb_instance *inst, int mode, wb_snapshot **out, wb_error *err);
/* Put back what s saved; a run's grown memory is taken back. inst's store must not be running. */
int wb_instance_restore(wb_instance *inst, const wb_snapshot *s, wb_error *err);
void wb_snapshot_free(wb_snapshot *s);

/* ---- linker: names → externs ---- */

wb_linker *wb_linker_new(void);
void wb_linker_free(wb_linker *l);
/* Names are copied. A later definition of the same name replaces the earlier one. */
void wb_linker_define(wb_linker *l, const char *module, const char *name, wb_extern ext);
/* Define every export of inst under module name `module` (the spec's `register`). */
void wb_linker_define_instance(wb_linker *l, const char *module, const wb_instance *inst);
int wb_linker_instantiate(wb_linker *l, wb_store *s, wb_module *m, wb_instance **out,
                          wb_error *err);
/* The spec test suite's `spectest` module (print_*, global_*, table, memory). */
int wb_spectest_define(wb_linker *l, wb_store *s, wb_error *err);

/* ---- values ---- */

/* "i32", "i64", "f32", "f64", "v128", "funcref", "externref", or "?" for anything else. */
const char *wb_valtype_name(uint8_t type);

/* Formats a value as the CLI prints it: signed decimal, shortest round-trip float, nan/-nan with
 * ":0x…" payload when not canonical, "ref.null"/"ref.func"/"ref.extern". */
void wb_value_format(const wb_value *v, char *buf, size_t size);

#endif
