/* The runtime side of the compiler tier (see native.h): loading a module's native code,
 * instance contexts, the helpers generated code calls, entering native code, and traps with
 * backtraces read from the frame-pointer chain.
 *
 * Process-wide state (documented exception to "no mutable globals"): the table of function-type
 * ids (append-only, under a mutex), so that call_indirect compares one integer. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/stack.h"
#include "wasm/native.h"
#include "wasm/native_obj.h"

/* ---- layout ---- */

_Static_assert(sizeof(void *) == 8, "the native tier is x86-64 only");

void wb__native_layout(wb_native_layout *o) {
    o->vm_mem0 = offsetof(wb_vmctx, mem0);
    o->vm_globals = offsetof(wb_vmctx, globals);
    o->vm_tables = offsetof(wb_vmctx, tables);
    o->vm_funcs = offsetof(wb_vmctx, funcs);
    o->vm_helpers = offsetof(wb_vmctx, helpers);
    o->vm_fuel = offsetof(wb_vmctx, fuel);
    o->vm_stack_limit = offsetof(wb_vmctx, stack_limit);
    o->vm_type_ids = offsetof(wb_vmctx, type_ids);
    o->mem_base = offsetof(wb_memory, base);
    o->mem_size = offsetof(wb_memory, size);
    o->global_val = offsetof(wb_global, val);
    o->table_size = offsetof(wb_table, size);
    o->table_elems = offsetof(wb_table, elems);
    o->func_native = offsetof(wb_func, native);
    o->func_native_ctx = offsetof(wb_func, native_ctx);
    o->func_type_id = offsetof(wb_func, type_id);
}

/* ---- function type ids ---- */

static pthread_mutex_t types_lock = PTHREAD_MUTEX_INITIALIZER;
static wb_functype *types;
static uint32_t ntypes, types_cap;

uint32_t wb__functype_id(const wb_functype *t) {
    pthread_mutex_lock(&types_lock);
    uint32_t id;
    for (id = 0; id < ntypes; id++)
        if (wb__functype_equal(&types[id], t)) goto out;
    if (ntypes == types_cap) {
        types_cap = types_cap ? types_cap * 2 : 64;
        types = wb_realloc(types, types_cap * sizeof *types);
    }
    wb_functype *c = &types[ntypes];
    *c = *t;
    c->types = wb_malloc((size_t)t->nparams + t->nresults + 1);
    memcpy(c->types, t->types, (size_t)t->nparams + t->nresults);
    id = ntypes++;
out:
    pthread_mutex_unlock(&types_lock);
    return id + 1; /* 0 is never a type */
}

/* ---- traps and backtraces ---- */

/* Frame pointers: frame[0] the caller's frame pointer, frame[1] the return address. */
static const wb_module *native_module_at(const wb_store *s, uintptr_t pc) {
    for (const wb_instance *i = s->instances; i; i = i->next)
        if (i->module->native && wb_native_obj_contains(i->module->native->obj, pc))
            return i->module;
    return NULL;
}

/* Fills s->trap's frames from code address pc and frame pointer fp (async-signal-safe). */
static void native_backtrace(wb_store *s, uintptr_t pc, uintptr_t fp) {
    wb_trap_info *t = &s->trap;
    t->nframes = 0;
    t->total_frames = 0;
    for (int guard = 0; guard < 1000000; guard++) {
        /* pc is a return address: a call to a noreturn helper may end the code, its return
         * address then one past the text (no backtrace at all, once) */
        const wb_module *m = native_module_at(s, pc - 1);
        if (!m) break;
        const char *sym = wb_native_obj_func_at(m->native->obj, pc - 1);
        /* wfN: function N; wtN: its entry from the host, where N's own code is when the
         * optimiser inlined it (its frame is N's, unless N's own frame was just seen) */
        bool entry = sym && sym[0] == 'w' && sym[1] == 't';
        if (sym && sym[0] == 'w' && (sym[1] == 'f' || entry)) {
            uint32_t idx = 0;
            for (const char *p = sym + 2; *p >= '0' && *p <= '9'; p++)
                idx = idx * 10 + (uint32_t)(*p - '0');
            bool seen = entry && t->nframes && t->frames[t->nframes - 1].module == m &&
                        t->frames[t->nframes - 1].func_index == idx;
            if (!seen) {
                if (t->nframes < WB_BACKTRACE_MAX) {
                    wb_frame_info *fi = &t->frames[t->nframes++];
                    fi->module = m;
                    fi->func_index = idx;
                    fi->name = wb_module_func_name(m, idx);
                }
                t->total_frames++;
            }
        }
        if (!fp || (fp & 7)) break;
        const uintptr_t *frame = (const uintptr_t *)fp;
        uintptr_t next = frame[0];
        pc = frame[1];
        if (next <= fp) break;
        fp = next;
    }
}

static void set_kind(wb_store *s, wb_trap_kind kind) {
    wb_trap_info *t = &s->trap;
    const char *msg = wb_trap_kind_message(kind);
    size_t n = strlen(msg);
    if (n >= sizeof t->message) n = sizeof t->message - 1;
    memcpy(t->message, msg, n);
    t->message[n] = '\0';
    t->kind = kind;
}

bool wb__native_fault(wb_store *s, uintptr_t pc, uintptr_t fp) {
    if (!native_module_at(s, pc)) return false;
    set_kind(s, WB_TRAP_MEMORY_OOB);
    /* the faulting function's own frame is fp; its return address is one frame up */
    native_backtrace(s, pc + 1, fp);
    return true;
}

/* Called by helpers directly from generated code: `frame` is the helper's own frame, whose
 * saved frame pointer and return address lead into the generated code. */
__attribute__((noreturn, noinline)) static void trap_from(wb_vmctx *vm, uintptr_t frame,
                                                          wb_trap_kind kind) {
    wb_store *s = vm->store;
    const uintptr_t *f = (const uintptr_t *)frame;
    set_kind(s, kind);
    native_backtrace(s, f[1], f[0]);
    siglongjmp(*s->jmp, 2);
}

/* A trap already recorded (by a host function or a nested entry): unwind the native frames. */
__attribute__((noreturn)) static void rethrow(wb_vmctx *vm) {
    siglongjmp(*vm->store->jmp, 2);
}

#define HELPER_FRAME() ((uintptr_t)__builtin_frame_address(0))
#define HELPER         __attribute__((noinline, optimize("no-omit-frame-pointer")))

#if defined(__clang__)
#undef HELPER
#define HELPER __attribute__((noinline))
#endif

HELPER static void h_trap(wb_vmctx *vm, int32_t kind) {
    trap_from(vm, HELPER_FRAME(), (wb_trap_kind)kind);
}

static int call_via_stack(wb_vmctx *vm, uintptr_t frame, wb_func *f, wb_slot *slots) {
    wb_store *s = vm->store;
    const wb_functype *ft = f->type;
    uint32_t used = ft->param_slots > ft->result_slots ? ft->param_slots : ft->result_slots;
    wb_slot *fp = s->sp;
    if (fp + used + 64 > s->stack_end) trap_from(vm, frame, WB_TRAP_STACK_EXHAUSTED);
    memcpy(fp, slots, ft->param_slots * sizeof *fp);
    if (wb__call(s, vm->inst, f, fp) < 0) rethrow(vm);
    memcpy(slots, fp, ft->result_slots * sizeof *fp);
    return 0;
}

HELPER static void h_call_import(wb_vmctx *vm, uint32_t func, wb_slot *slots) {
    call_via_stack(vm, HELPER_FRAME(), vm->inst->funcs[func], slots);
}

HELPER static void h_call_indirect(wb_vmctx *vm, wb_func *f, uint32_t type, wb_slot *slots) {
    const wb_functype *want = &vm->inst->module->types[type];
    if (f->type != want && !wb__functype_equal(f->type, want))
        trap_from(vm, HELPER_FRAME(), WB_TRAP_INDIRECT_CALL_MISMATCH);
    call_via_stack(vm, HELPER_FRAME(), f, slots);
}

static bool out_of(uint32_t at, uint32_t n, uint64_t size) {
    return (uint64_t)at + n > size;
}

HELPER static int32_t h_memory_grow(wb_vmctx *vm, uint32_t delta) {
    int64_t old = wb__memory_grow(vm->inst->mem0, delta);
    vm->inst->mem_base = vm->inst->mem0->base;
    return (int32_t)old;
}

HELPER static void h_memory_fill(wb_vmctx *vm, uint32_t d, uint32_t v, uint32_t n) {
    wb_memory *m = vm->inst->mem0;
    if (out_of(d, n, m->size)) trap_from(vm, HELPER_FRAME(), WB_TRAP_MEMORY_OOB);
    memset(m->base + d, (int)(v & 0xff), n);
}

HELPER static void h_memory_copy(wb_vmctx *vm, uint32_t d, uint32_t sa, uint32_t n) {
    wb_memory *m = vm->inst->mem0;
    if (out_of(d, n, m->size) || out_of(sa, n, m->size))
        trap_from(vm, HELPER_FRAME(), WB_TRAP_MEMORY_OOB);
    memmove(m->base + d, m->base + sa, n);
}

HELPER static void h_memory_init(wb_vmctx *vm, uint32_t seg, uint32_t d, uint32_t sa, uint32_t n) {
    wb_instance *inst = vm->inst;
    const wb_data_segment *ds = &inst->module->datas[seg];
    uint32_t len = inst->data_dropped[seg] ? 0 : ds->len;
    if (out_of(sa, n, len) || out_of(d, n, inst->mem0->size))
        trap_from(vm, HELPER_FRAME(), WB_TRAP_MEMORY_OOB);
    if (n) memcpy(inst->mem0->base + d, ds->bytes + sa, n);
}

HELPER static void h_data_drop(wb_vmctx *vm, uint32_t seg) {
    vm->inst->data_dropped[seg] = true;
}

HELPER static void *h_table_get(wb_vmctx *vm, uint32_t t, uint32_t i) {
    wb_table *tab = vm->inst->tables[t];
    if (i >= tab->size) trap_from(vm, HELPER_FRAME(), WB_TRAP_TABLE_OOB);
    return tab->elems[i];
}

HELPER static void h_table_set(wb_vmctx *vm, uint32_t t, uint32_t i, void *v) {
    wb_table *tab = vm->inst->tables[t];
    if (i >= tab->size) trap_from(vm, HELPER_FRAME(), WB_TRAP_TABLE_OOB);
    tab->elems[i] = v;
}

HELPER static uint32_t h_table_size(wb_vmctx *vm, uint32_t t) {
    return vm->inst->tables[t]->size;
}

HELPER static int32_t h_table_grow(wb_vmctx *vm, uint32_t t, void *init, uint32_t n) {
    return (int32_t)wb__table_grow(vm->inst->tables[t], n, init);
}

HELPER static void h_table_fill(wb_vmctx *vm, uint32_t t, uint32_t i, void *v, uint32_t n) {
    wb_table *tab = vm->inst->tables[t];
    if (out_of(i, n, tab->size)) trap_from(vm, HELPER_FRAME(), WB_TRAP_TABLE_OOB);
    for (uint32_t k = 0; k < n; k++) tab->elems[i + k] = v;
}

HELPER static void h_table_copy(wb_vmctx *vm, uint32_t dt, uint32_t st, uint32_t d, uint32_t sa,
                                uint32_t n) {
    wb_table *dtab = vm->inst->tables[dt], *stab = vm->inst->tables[st];
    if (out_of(d, n, dtab->size) || out_of(sa, n, stab->size))
        trap_from(vm, HELPER_FRAME(), WB_TRAP_TABLE_OOB);
    if (n) memmove(dtab->elems + d, stab->elems + sa, (size_t)n * sizeof *dtab->elems);
}

HELPER static void h_table_init(wb_vmctx *vm, uint32_t t, uint32_t seg, uint32_t d, uint32_t sa,
                                uint32_t n) {
    wb_instance *inst = vm->inst;
    wb_table *tab = inst->tables[t];
    uint32_t len = inst->elem_dropped[seg] ? 0 : inst->module->elems[seg].count;
    if (out_of(sa, n, len) || out_of(d, n, tab->size))
        trap_from(vm, HELPER_FRAME(), WB_TRAP_TABLE_OOB);
    for (uint32_t k = 0; k < n; k++)
        tab->elems[d + k] = wb__elem_item(inst, &inst->module->elems[seg].items[sa + k]);
}

HELPER static void h_elem_drop(wb_vmctx *vm, uint32_t seg) {
    vm->inst->elem_dropped[seg] = true;
}

HELPER static void h_fuel(wb_vmctx *vm) {
    wb_store *s = vm->store;
    if (s->interrupt) trap_from(vm, HELPER_FRAME(), WB_TRAP_INTERRUPTED);
    if (s->fuel_limited) trap_from(vm, HELPER_FRAME(), WB_TRAP_OUT_OF_FUEL);
    s->fuel = INT64_MAX;
}

static const void *const helpers[WB_NH_COUNT] = {
    [WB_NH_TRAP] = (const void *)h_trap,
    [WB_NH_CALL_IMPORT] = (const void *)h_call_import,
    [WB_NH_CALL_INDIRECT] = (const void *)h_call_indirect,
    [WB_NH_MEMORY_GROW] = (const void *)h_memory_grow,
    [WB_NH_MEMORY_FILL] = (const void *)h_memory_fill,
    [WB_NH_MEMORY_COPY] = (const void *)h_memory_copy,
    [WB_NH_MEMORY_INIT] = (const void *)h_memory_init,
    [WB_NH_DATA_DROP] = (const void *)h_data_drop,
    [WB_NH_TABLE_GET] = (const void *)h_table_get,
    [WB_NH_TABLE_SET] = (const void *)h_table_set,
    [WB_NH_TABLE_SIZE] = (const void *)h_table_size,
    [WB_NH_TABLE_GROW] = (const void *)h_table_grow,
    [WB_NH_TABLE_FILL] = (const void *)h_table_fill,
    [WB_NH_TABLE_COPY] = (const void *)h_table_copy,
    [WB_NH_TABLE_INIT] = (const void *)h_table_init,
    [WB_NH_ELEM_DROP] = (const void *)h_elem_drop,
    [WB_NH_FUEL] = (const void *)h_fuel,
};

/* ---- loading ---- */

static void *resolve(void *env, const char *name) {
    (void)env;
    if (strcmp(name, "memcpy") == 0) return (void *)memcpy;
    if (strcmp(name, "memmove") == 0) return (void *)memmove;
    if (strcmp(name, "memset") == 0) return (void *)memset;
    return NULL;
}

int wb__native_attach(wb_module *m, const uint8_t *obj, size_t len, wb_error *err) {
    wb_native_obj *o;
    if (wb_native_obj_load(obj, len, resolve, NULL, &o, err) < 0) return -1;
    wb_native_code *nc = wb_calloc(1, sizeof *nc);
    nc->obj = o;
    nc->fn = wb_calloc(m->nfunc_decls + 1, sizeof *nc->fn);
    nc->tramp = wb_calloc(m->nfunc_decls + 1, sizeof *nc->tramp);
    for (uint32_t i = 0; i < m->nfunc_decls; i++) {
        char name[32];
        snprintf(name, sizeof name, "wf%u", m->nimported_funcs + i);
        nc->fn[i] = wb_native_obj_symbol(o, name);
        snprintf(name, sizeof name, "wt%u", m->nimported_funcs + i);
        nc->tramp[i] = wb_native_obj_symbol(o, name);
    }
    nc->object = wb_malloc(len ? len : 1);
    memcpy(nc->object, obj, len);
    nc->object_len = len;
    wb__native_release(m);
    m->native = nc;
    return 0;
}

void wb__native_release(wb_module *m) {
    wb_native_code *nc = m->native;
    if (!nc) return;
    wb_native_obj_free(nc->obj);
    free(nc->fn);
    free(nc->tramp);
    free(nc->object);
    free(nc);
    m->native = NULL;
}

/* ---- instances ---- */

#define NATIVE_STACK_MARGIN (256 * 1024)
static __thread uintptr_t stack_limit;

static uintptr_t thread_stack_limit(void) {
    if (!stack_limit) stack_limit = wb_stack_low(NATIVE_STACK_MARGIN);
    return stack_limit;
}

int wb__native_instance_init(wb_instance *inst, wb_error *err) {
    (void)err;
    wb_module *m = inst->module;
    wb_native_code *nc = m->native;
    if (!nc) return 0;
    wb_vmctx *vm = wb_calloc(1, sizeof *vm);
    vm->mem0 = inst->mem0;
    vm->globals = inst->globals;
    vm->tables = inst->tables;
    vm->funcs = inst->funcs;
    vm->helpers = helpers;
    vm->fuel = &inst->store->fuel;
    vm->inst = inst;
    vm->store = inst->store;
    uint32_t *ids = wb_calloc(m->ntypes + 1, sizeof *ids);
    for (uint32_t i = 0; i < m->ntypes; i++) ids[i] = wb__functype_id(&m->types[i]);
    vm->type_ids = ids;
    inst->vmctx = vm;
    vm->stack_limit = thread_stack_limit();
    for (uint32_t i = 0; i < m->nfunc_decls; i++) {
        wb_func *f = &inst->own_funcs[i];
        /* without an entry from the host (not reachable from outside) it stays as it was */
        if (nc->tramp[i]) f->kind = WB_FUNC_NATIVE;
        f->native = nc->fn[i];
        f->native_ctx = vm;
        f->native_tramp = nc->tramp[i];
        f->type_id = ids[m->funcs[i].type_index];
    }
    return 0;
}

void wb__native_instance_free(wb_instance *inst) {
    wb_vmctx *vm = inst->vmctx;
    if (!vm) return;
    free((void *)vm->type_ids);
    free(vm);
    inst->vmctx = NULL;
}

/* ---- entering native code ---- */

void wb__native_enter(wb_store *s, wb_func *f, wb_slot *fp) {
    wb_vmctx *vm = f->native_ctx;
    const wb_functype *ft = f->type;
    uint32_t used = ft->param_slots > ft->result_slots ? ft->param_slots : ft->result_slots;
    vm->stack_limit = thread_stack_limit();
    s->sp = fp + used;
    void (*tramp)(wb_vmctx *, wb_slot *) = (void (*)(wb_vmctx *, wb_slot *))f->native_tramp;
    tramp(vm, fp);
}
