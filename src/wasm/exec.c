/* Entering wasm from the host: the value and activation stacks, traps with backtraces, and the
 * fault handler that turns accesses into a guarded memory's reservation into traps.
 *
 * Process-wide state (documented exception to "no mutable globals"): the previous SIGSEGV/SIGBUS
 * actions, saved once when the handler is installed, and the thread-local pointer to the store
 * running wasm on this thread, which the handler reads. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "base/alloc.h"
#include "base/stack.h"
#include "wasm/lower.h"
#include "wasm/native.h"
#include "wasm/runtime.h"

__thread wb_store *wb__tls_store;

static struct sigaction saved_segv, saved_bus;
static pthread_once_t signals_once = PTHREAD_ONCE_INIT;

static const char *const trap_messages[WB_TRAP_KIND_COUNT] = {
    [WB_TRAP_NONE] = "no trap",
    [WB_TRAP_UNREACHABLE] = "unreachable",
    [WB_TRAP_MEMORY_OOB] = "out of bounds memory access",
    [WB_TRAP_TABLE_OOB] = "out of bounds table access",
    [WB_TRAP_INT_OVERFLOW] = "integer overflow",
    [WB_TRAP_DIV_ZERO] = "integer divide by zero",
    [WB_TRAP_INVALID_CONVERSION] = "invalid conversion to integer",
    [WB_TRAP_UNDEFINED_ELEMENT] = "undefined element",
    [WB_TRAP_UNINITIALIZED_ELEMENT] = "uninitialized element",
    [WB_TRAP_INDIRECT_CALL_MISMATCH] = "indirect call type mismatch",
    [WB_TRAP_STACK_EXHAUSTED] = "call stack exhausted",
    [WB_TRAP_LOWERING] = "internal error: a function could not be lowered",
    [WB_TRAP_NULL_FUNC] = "null function reference",
    [WB_TRAP_OUT_OF_FUEL] = "all fuel consumed",
    [WB_TRAP_INTERRUPTED] = "interrupted",
    [WB_TRAP_HOST] = "host function failed",
    [WB_TRAP_EXIT] = "exit",
};

const char *wb_trap_kind_message(wb_trap_kind kind) {
    return (unsigned)kind < WB_TRAP_KIND_COUNT ? trap_messages[kind] : "unknown trap";
}

void wb__trap_set(wb_store *s, wb_trap_kind kind, const wb_frame_rec *rec, const char *message) {
    wb_trap_info *t = &s->trap;
    char copy[sizeof t->message];
    /* the message may be the store's own buffer (a host function re-raising the last trap) */
    snprintf(copy, sizeof copy, "%s", message ? message : wb_trap_kind_message(kind));
    t->kind = kind;
    memcpy(t->message, copy, sizeof copy);
    t->nframes = 0;
    t->total_frames = 0;
    for (const wb_frame_rec *r = rec; r && r > s->recs; r--) {
        if (t->nframes < WB_BACKTRACE_MAX) {
            wb_frame_info *fi = &t->frames[t->nframes++];
            fi->module = r->code->module;
            fi->func_index = r->code->func_index;
            fi->name = wb_module_func_name(r->code->module, r->code->func_index);
        }
        t->total_frames++;
    }
}

const wb_trap_info *wb_store_last_trap(const wb_store *s) {
    return &s->trap;
}

void wb_trap_format_backtrace(const wb_trap_info *t, char *buf, size_t size) {
    size_t n = 0;
    if (!size) return;
    buf[0] = '\0';
    if (!t->nframes) return;
    n += (size_t)snprintf(buf + n, size - n, "wasm backtrace:");
    for (uint32_t i = 0; i < t->nframes && n < size; i++) {
        const wb_frame_info *f = &t->frames[i];
        if (f->name)
            n += (size_t)snprintf(buf + n, size - n, "\n  %2u: %s", i, f->name);
        else
            n += (size_t)snprintf(buf + n, size - n, "\n  %2u: <wasm function %u>", i,
                                  f->func_index);
    }
    if (n < size && t->total_frames > t->nframes)
        snprintf(buf + n, size - n, "\n  ... %u more frames", t->total_frames - t->nframes);
}

/* ---- faults in guard regions ---- */

static bool claims_fault(const wb_store *s, uintptr_t addr) {
    for (const wb_memory *m = s->memories; m; m = m->next)
        if (m->guarded && addr >= (uintptr_t)m->reserve &&
            addr - (uintptr_t)m->reserve < m->reserve_len)
            return true;
    return false;
}

static void fault_handler(int sig, siginfo_t *si, void *uctx) {
    wb_store *s = wb__tls_store;
    if (s && s->jmp && claims_fault(s, (uintptr_t)si->si_addr)) {
        const ucontext_t *uc = uctx;
        uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
        uintptr_t fp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
        /* native code: the trap and its backtrace are recorded here, from the frame chain */
        siglongjmp(*s->jmp, wb__native_fault(s, pc, fp) ? 2 : 1);
    }
    /* not ours: hand it to whoever was there before */
    const struct sigaction *old = sig == SIGSEGV ? &saved_segv : &saved_bus;
    if (old->sa_flags & SA_SIGINFO) {
        old->sa_sigaction(sig, si, uctx);
    } else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
        old->sa_handler(sig);
    } else {
        /* re-raise with the default action when the faulting instruction re-runs */
        signal(sig, SIG_DFL);
    }
}

static void install_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fault_handler;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &saved_segv);
    sigaction(SIGBUS, &sa, &saved_bus);
}

void wb__signals_install(void) {
    pthread_once(&signals_once, install_signals);
}

/* ---- calls ---- */

static int call_host(wb_store *s, wb_instance *caller_inst, wb_func *f, wb_slot *fp) {
    const wb_functype *ft = f->type;
    uint32_t used = ft->param_slots > ft->result_slots ? ft->param_slots : ft->result_slots;
    wb_slot *saved_sp = s->sp;
    wb_caller caller = {s, caller_inst};
    s->sp = fp + used;
    int rc = f->host(&caller, f->env, fp);
    s->sp = saved_sp;
    return rc ? -1 : 0;
}

/* Native stack left on this thread: host→wasm→host re-entry nests C frames, so each entry checks
 * that a margin remains (the bounds are read once per thread; thread-local, like the store
 * pointer above). */
#define NATIVE_STACK_MARGIN (256 * 1024)
static __thread uintptr_t native_stack_low;

static bool native_stack_ok(void) {
    if (!native_stack_low) native_stack_low = wb_stack_low(NATIVE_STACK_MARGIN);
    return (uintptr_t)__builtin_frame_address(0) > native_stack_low;
}

/* Host→wasm entries may nest at most this deep, whatever the native stack; the native stack is
 * only measured once entries nest (reading its bounds costs a /proc read on the main thread). */
#define MAX_ENTRY_DEPTH   10000
#define STACK_CHECK_DEPTH 8

int wb__call(wb_store *s, wb_instance *caller, wb_func *f, wb_slot *fp) {
    if (f->kind == WB_FUNC_HOST) return call_host(s, caller, f, fp);
    uint32_t frame_slots;
    if (f->kind == WB_FUNC_NATIVE) {
        const wb_functype *ft = f->type;
        frame_slots = ft->param_slots > ft->result_slots ? ft->param_slots : ft->result_slots;
    } else {
        if (!__atomic_load_n(&f->code->code, __ATOMIC_ACQUIRE) && wb__code_prepare(f->code) < 0) {
            wb__trap_set(s, WB_TRAP_LOWERING, s->rec_top, NULL);
            return -1;
        }
        frame_slots = f->code->frame_slots;
    }
    if (fp + frame_slots > s->stack_end || s->rec_top + 2 >= s->recs_end ||
        s->depth >= MAX_ENTRY_DEPTH || (s->depth >= STACK_CHECK_DEPTH && !native_stack_ok())) {
        wb__trap_set(s, WB_TRAP_STACK_EXHAUSTED, s->rec_top, NULL);
        return -1;
    }
    sigjmp_buf jb;
    sigjmp_buf *prev_jmp = s->jmp;
    wb_store *prev_store = wb__tls_store;
    wb_frame_rec *saved_rec = s->rec_top;
    wb_slot *saved_sp = s->sp;
    volatile int rc = -1;
    s->depth++;
    int jumped = sigsetjmp(jb, 0);
    if (jumped == 0) {
        s->jmp = &jb;
        wb__tls_store = s;
        if (f->kind == WB_FUNC_NATIVE) {
            wb__native_enter(s, f, fp);
            rc = 0;
        } else {
            rc = f->kind == WB_FUNC_CHECKED ? wb__interp_loop_checked(s, f, fp, NULL)
                                            : wb__interp_loop_guarded(s, f, fp, NULL);
        }
    } else {
        /* 1: a fault in a guard region while the interpreter ran: s->rec_top is the innermost
         * activation; 2: native code trapped (recorded already) */
        if (jumped == 1) wb__trap_set(s, WB_TRAP_MEMORY_OOB, s->rec_top, NULL);
        rc = -1;
    }
    s->depth--;
    s->jmp = prev_jmp;
    wb__tls_store = prev_store;
    s->rec_top = saved_rec;
    s->sp = saved_sp;
    return rc;
}

static void value_to_slots(const wb_value *v, wb_slot *slot) {
    switch (v->type) {
    case WB_I32: slot->u64 = (uint32_t)v->of.i32; break;
    case WB_I64: slot->i64 = v->of.i64; break;
    case WB_F32: slot->u64 = v->of.f32; break;
    case WB_F64: slot->u64 = v->of.f64; break;
    case WB_V128:
        memcpy(&slot[0].u64, v->of.v128, 8);
        memcpy(&slot[1].u64, v->of.v128 + 8, 8);
        break;
    default: slot->ref = v->of.ref; break;
    }
}

static void slots_to_value(uint8_t type, const wb_slot *slot, wb_value *v) {
    memset(v, 0, sizeof *v);
    v->type = type;
    switch (type) {
    case WB_I32: v->of.i32 = slot->i32; break;
    case WB_I64: v->of.i64 = slot->i64; break;
    case WB_F32: v->of.f32 = slot->u32; break;
    case WB_F64: v->of.f64 = slot->u64; break;
    case WB_V128:
        memcpy(v->of.v128, &slot[0].u64, 8);
        memcpy(v->of.v128 + 8, &slot[1].u64, 8);
        break;
    default: v->of.ref = slot->ref; break;
    }
}

int wb_func_call(wb_store *s, wb_func *f, const wb_value *args, uint32_t nargs, wb_value *results,
                 uint32_t nresults, wb_error *err) {
    const wb_functype *ft = f->type;
    if (nargs != ft->nparams || nresults != ft->nresults)
        return wb_error_set(err, EINVAL, "call: function takes %u arguments and returns %u values",
                            ft->nparams, ft->nresults);
    for (uint32_t i = 0; i < nargs; i++)
        if (args[i].type != ft->types[i])
            return wb_error_set(err, EINVAL, "call: argument %u is %s, expected %s", i,
                                wb__type_name(args[i].type), wb__type_name(ft->types[i]));
    wb_slot *fp = s->sp;
    uint32_t used = ft->param_slots > ft->result_slots ? ft->param_slots : ft->result_slots;
    s->trap.kind = WB_TRAP_NONE;
    if (fp + used > s->stack_end) {
        wb__trap_set(s, WB_TRAP_STACK_EXHAUSTED, s->rec_top, NULL);
        return wb_error_set(err, WB_ETRAP, "wasm trap: %s", s->trap.message);
    }
    wb_slot *p = fp;
    for (uint32_t i = 0; i < nargs; i++) {
        value_to_slots(&args[i], p);
        p += wb__type_slots(args[i].type);
    }
    if (wb__call(s, NULL, f, fp) < 0) {
        if (s->trap.kind == WB_TRAP_EXIT)
            return wb_error_set(err, WB_EEXIT, "exit with code %d", s->trap.exit_code);
        return wb_error_set(err, WB_ETRAP, "wasm trap: %s", s->trap.message);
    }
    p = fp;
    for (uint32_t i = 0; i < nresults; i++) {
        uint8_t t = ft->types[ft->nparams + i];
        slots_to_value(t, p, &results[i]);
        p += wb__type_slots(t);
    }
    return 0;
}

/* ---- host-call context ---- */

wb_memory *wb_caller_memory(wb_caller *c) {
    return c->inst ? c->inst->mem0 : NULL;
}
wb_store *wb_caller_store(wb_caller *c) {
    return c->store;
}

int wb_caller_trap(wb_caller *c, const char *message) {
    wb__trap_set(c->store, WB_TRAP_HOST, c->store->rec_top, message);
    return -1;
}

int wb_caller_exit(wb_caller *c, int code) {
    wb__trap_set(c->store, WB_TRAP_EXIT, c->store->rec_top, NULL);
    c->store->trap.exit_code = code;
    return -1;
}

/* ---- stores ---- */

const void *const *wb__interp_labels(int variant) {
    const void *const *labels = NULL;
    if (variant == WB_INTERP_CHECKED)
        wb__interp_loop_checked(NULL, NULL, NULL, &labels);
    else
        wb__interp_loop_guarded(NULL, NULL, NULL, &labels);
    return labels;
}

wb_store *wb_store_new(const wb_store_limits *lim, wb_error *err) {
    wb_store *s = wb_calloc(1, sizeof *s);
    if (lim) s->lim = *lim;
    if (!s->lim.max_call_depth) s->lim.max_call_depth = 100000;
    if (!s->lim.value_stack_mb) s->lim.value_stack_mb = 64;
    s->stack_map_len = (size_t)s->lim.value_stack_mb << 20;
    s->recs_map_len = ((size_t)s->lim.max_call_depth + 2) * sizeof(wb_frame_rec);
    void *stack = mmap(NULL, s->stack_map_len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    void *recs = mmap(NULL, s->recs_map_len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (stack == MAP_FAILED || recs == MAP_FAILED) {
        wb_error_sys(err, "map the wasm stacks");
        if (stack != MAP_FAILED) munmap(stack, s->stack_map_len);
        if (recs != MAP_FAILED) munmap(recs, s->recs_map_len);
        free(s);
        return NULL;
    }
    s->stack = stack;
    s->stack_end = s->stack + s->stack_map_len / sizeof(wb_slot);
    s->recs = recs;
    s->recs_end = s->recs + s->lim.max_call_depth + 2;
    s->rec_top = s->recs;
    s->sp = s->stack;
    s->fuel = INT64_MAX;
    for (int v = 0; v < 2; v++) {
        uint64_t h = (uint64_t)(uintptr_t)wb__interp_labels(v)[WB_IOP_HALT];
        s->halt_code[v][0] = (uint32_t)h;
        s->halt_code[v][1] = (uint32_t)(h >> 32);
    }
    return s;
}

void wb_store_set_fuel(wb_store *s, int64_t fuel) {
    s->fuel_limited = fuel >= 0;
    s->fuel = fuel >= 0 ? fuel : INT64_MAX;
}

void wb_store_interrupt(wb_store *s) {
    s->interrupt = 1;
    /* the next FUEL check sees a negative count; the interpreter's decrement may race with this
     * store only if the signal lands inside it, so the timer repeats until the trap happens */
    s->fuel = -1;
}

void wb_store_clear_interrupt(wb_store *s) {
    s->interrupt = 0;
    if (!s->fuel_limited) s->fuel = INT64_MAX;
}

wb_slot *wb__store_stack_top(wb_store *s) {
    return s->sp;
}
