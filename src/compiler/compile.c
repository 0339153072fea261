/* The compiler tier's driver: a validated module → LLVM IR (codegen.c) → an optimisation
 * pipeline for the chosen level and CPU features → an x86-64 ELF object in memory. A large module
 * is split into partitions, one per CPU, each compiled on its own thread in its own LLVMContext;
 * their objects are joined into one (objlink.c), so that the cache and the loader see one. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "compiler/codegen.h"
#include "compiler/objlink.h"
#include "wasm/native_cpu.h"

#define TRIPLE "x86_64-unknown-linux-gnu"

/* Below this much code a module is compiled whole, through default<O2> (the bench programs, the
 * spec's modules; see pipeline()); above, in partitions through the light pipeline. */
#define PARTITION_MIN_BYTES (64 * 1024)
#define MAX_PARTITIONS      8
#define THREAD_STACK        (64u << 20) /* LLVM recurses deeply on large functions */

bool wb__native_compiler_available(void) {
    return true;
}

static LLVMTargetMachineRef target_machine(const wb_llvm *A, const wb_native_options *opt,
                                           wb_error *err) {
    LLVMTargetRef target;
    char *msg = NULL;
    if (A->GetTargetFromTriple(TRIPLE, &target, &msg)) {
        wb_error_set(err, EINVAL, "compiler: no x86-64 target in libLLVM: %s", msg ? msg : "");
        A->DisposeMessage(msg);
        return NULL;
    }
    char features[1024];
    wb_cpu_features_llvm(opt->cpu_features, features, sizeof features);
    LLVMCodeGenOptLevel lvl = opt->opt_level <= 0   ? LLVMCodeGenLevelNone
                              : opt->opt_level == 1 ? LLVMCodeGenLevelLess
                              : opt->opt_level == 2 ? LLVMCodeGenLevelDefault
                                                    : LLVMCodeGenLevelAggressive;
    return A->CreateTargetMachine(target, TRIPLE, "x86-64", features, lvl, LLVMRelocPIC,
                                  LLVMCodeModelSmall);
}

/* The optimisation pipelines. A small module (under PARTITION_MIN_BYTES of code:
 * the bench programs, most tests) gets LLVM's default<O2>, which costs up to 1-2 s there and
 * gives the best code (its inliner, unrolling and SLP vectoriser measurably help fib and nbody).
 * A large module, compiled in partitions, gets a hand-picked function pipeline instead, about a
 * third of default<O2>'s cost: modules arrive already optimised by their source compiler, and what
 * is left is the stack machine's residue (locals in allocas, the memory base reloaded after each
 * call, address arithmetic to share) and the loop vectoriser (most modules' wasm is scalar). -O3 is
 * default<O3> whatever the size. The light pipelines start with lower-expect, so that the
 * branches to trap blocks are marked cold, as default<On> does. */
#define LIGHT_PASSES "lower-expect,sroa,early-cse<memssa>,simplifycfg,instcombine"
#define O2_PASSES                                                                                  \
    LIGHT_PASSES ",loop-mssa(loop-rotate,licm),gvn,instcombine,simplifycfg,loop-vectorize,"        \
                 "instcombine,simplifycfg"

static const char *pipeline(int level, bool light) {
    if (level <= 0) return "default<O0>";
    if (level == 1) return light ? "function(" LIGHT_PASSES ")" : "default<O1>";
    if (level == 2) return light ? "function(" O2_PASSES ")" : "default<O2>";
    return "default<O3>";
}

static int optimise(const wb_llvm *A, LLVMModuleRef mod, LLVMTargetMachineRef tm, int level,
                    bool light, wb_error *err) {
    LLVMPassBuilderOptionsRef po = A->CreatePassBuilderOptions();
    A->PassBuilderOptionsSetLoopVectorization(po, level >= 2);
    A->PassBuilderOptionsSetSLPVectorization(po, level >= 2);
    A->PassBuilderOptionsSetLoopUnrolling(po, level >= 2);
    LLVMErrorRef e = A->RunPasses(mod, pipeline(level, light), tm, po);
    A->DisposePassBuilderOptions(po);
    if (e) {
        char *msg = A->GetErrorMessage(e);
        wb_error_set(err, EINVAL, "compiler: optimisation failed: %s", msg);
        A->DisposeErrorMessage(msg);
        return -1;
    }
    return 0;
}

/* -O1 of a large module: code generation as at -O0 (FastISel, none of the machine-level
 * optimisations) but with the greedy register allocator, by marking every function optnone once
 * the IR optimiser is done — the only per-function switch to FastISel LLVM 14 offers. On zstd:
 * half the code generation time, the code 20 % larger and 15-30 % slower than at -O2. */
static void fast_isel(const wb_llvm *A, cg_module *M) {
    unsigned optnone = A->GetEnumAttributeKindForName("optnone", 7);
    unsigned noinline = A->GetEnumAttributeKindForName("noinline", 8); /* optnone needs it */
    for (LLVMValueRef f = A->GetFirstFunction(M->mod); f; f = A->GetNextFunction(f)) {
        if (A->IsDeclaration(f)) continue;
        A->AddAttributeAtIndex(f, LLVMAttributeFunctionIndex,
                               A->CreateEnumAttribute(M->ctx, optnone, 0));
        A->AddAttributeAtIndex(f, LLVMAttributeFunctionIndex,
                               A->CreateEnumAttribute(M->ctx, noinline, 0));
    }
}

/* CPU time of this thread: what the phases cost, whatever else the machine runs */
static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One partition's work, done on its own thread. */
typedef struct partition {
    const wb_llvm *A;
    const wb_module *m;
    const wb_native_options *opt;
    const uint32_t *owner; /* per defined function: its partition (NULL: one partition) */
    uint32_t index;
    bool light;   /* the light pipeline (a large module) */
    uint8_t *obj; /* the result (malloc'd) */
    size_t len;
    wb_error err;
    int rc;
    double secs[3]; /* IR, optimiser, code generation */
} partition;

static int compile_partition(partition *P) {
    const wb_llvm *A = P->A;
    wb_error *err = &P->err;
    cg_module M;
    memset(&M, 0, sizeof M);
    M.A = A;
    M.m = P->m;
    M.owner = P->owner;
    M.part = P->index;
    M.bounds_checks = P->m->cfg.bounds_checks;
    M.interruptible = P->m->cfg.interruptible;
    wb__native_layout(&M.lay);
    M.ctx = A->ContextCreate();
    M.mod = A->ModuleCreateWithNameInContext("wasm", M.ctx);
    M.b = A->CreateBuilderInContext(M.ctx);
    int rc = -1;
    LLVMTargetMachineRef tm = target_machine(A, P->opt, err);
    if (!tm) goto out;
    A->SetTarget(M.mod, TRIPLE);
    LLVMTargetDataRef td = A->CreateTargetDataLayout(tm);
    A->SetModuleDataLayout(M.mod, td);
    A->DisposeTargetData(td);
    double t0 = now();
    if (cg_module_build(&M, err) < 0) goto out;
    char *msg = NULL;
    if (getenv("WASMBOX_DUMP_IR")) {
        char *ir = A->PrintModuleToString(M.mod);
        fputs(ir, stderr);
        A->DisposeMessage(ir);
    }
    if (A->VerifyModule(M.mod, LLVMReturnStatusAction, &msg)) {
        wb_error_set(err, EINVAL, "compiler: invalid IR (engine bug): %.300s", msg ? msg : "");
        A->DisposeMessage(msg);
        goto out;
    }
    A->DisposeMessage(msg);
    double t1 = now();
    if (optimise(A, M.mod, tm, P->opt->opt_level, P->light, err) < 0) goto out;
    double t2 = now();
    if (getenv("WASMBOX_DUMP_OPT_IR")) {
        char *ir = A->PrintModuleToString(M.mod);
        fputs(ir, stderr);
        A->DisposeMessage(ir);
    }
    if (P->light && P->opt->opt_level == 1) fast_isel(A, &M);
    LLVMMemoryBufferRef buf = NULL;
    msg = NULL;
    if (A->TargetMachineEmitToMemoryBuffer(tm, M.mod, LLVMObjectFile, &msg, &buf)) {
        wb_error_set(err, EINVAL, "compiler: code generation failed: %s", msg ? msg : "");
        A->DisposeMessage(msg);
        goto out;
    }
    P->len = A->GetBufferSize(buf);
    P->obj = wb_malloc(P->len ? P->len : 1);
    memcpy(P->obj, A->GetBufferStart(buf), P->len);
    A->DisposeMemoryBuffer(buf);
    P->secs[0] = t1 - t0;
    P->secs[1] = t2 - t1;
    P->secs[2] = now() - t2;
    rc = 0;
out:
    free(M.fn_types);
    free(M.ret_types);
    free(M.fns);
    if (tm) A->DisposeTargetMachine(tm);
    A->DisposeBuilder(M.b);
    A->DisposeModule(M.mod);
    A->ContextDispose(M.ctx);
    return rc;
}

static void *partition_thread(void *arg) {
    partition *P = arg;
    P->rc = compile_partition(P);
    return NULL;
}

/* How many partitions: one per CPU this process may run on, for a module with enough code (and
 * then the light pipeline, even on one CPU); WASMBOX_COMPILE_PARTITIONS=N forces N, and the
 * light pipeline when N > 1 (tests use it to compile small modules split; N=1 is the whole
 * module through default<O2>). */
static uint32_t partition_count(const wb_module *m, bool *light) {
    const char *forced = getenv("WASMBOX_COMPILE_PARTITIONS");
    long n;
    if (forced && *forced) {
        n = strtol(forced, NULL, 10);
        *light = n > 1;
    } else {
        uint64_t bytes = 0;
        for (uint32_t i = 0; i < m->nfunc_decls; i++) bytes += m->funcs[i].body_len;
        *light = bytes >= PARTITION_MIN_BYTES;
        if (!*light) return 1;
        cpu_set_t set;
        n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    }
    if (n > MAX_PARTITIONS) n = MAX_PARTITIONS;
    if (n > (long)m->nfunc_decls) n = (long)m->nfunc_decls;
    return n < 1 ? 1 : (uint32_t)n;
}

typedef struct sized_func {
    uint32_t size, index;
} sized_func;

static int larger_first(const void *a, const void *b) {
    const sized_func *x = a, *y = b;
    if (x->size != y->size) return x->size > y->size ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Functions to partitions, largest first, each to the partition with the least code so far: the
 * partitions end up about equal in size. */
static uint32_t *assign_partitions(const wb_module *m, uint32_t nparts) {
    uint32_t n = m->nfunc_decls;
    uint32_t *owner = wb_calloc(n + 1, sizeof *owner);
    sized_func *order = wb_calloc(n + 1, sizeof *order);
    uint64_t load[MAX_PARTITIONS] = {0};
    for (uint32_t i = 0; i < n; i++) order[i] = (sized_func){m->funcs[i].body_len, i};
    qsort(order, n, sizeof *order, larger_first);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t best = 0;
        for (uint32_t p = 1; p < nparts; p++)
            if (load[p] < load[best]) best = p;
        owner[order[k].index] = best;
        load[best] += order[k].size + 16; /* + a function's fixed cost */
    }
    free(order);
    return owner;
}

int wb__native_compile(const wb_module *m, const wb_native_options *opt, uint8_t **out, size_t *len,
                       wb_error *err) {
    /* the code uses SSSE3 (pshufb, pmulhrsw) and SSE4.1 (roundss: without it LLVM would call
     * libm's ceilf & co., which the loader does not provide): x86-64-v2 is the floor */
    if ((opt->cpu_features & WB_CPU_X86_64_V2) != WB_CPU_X86_64_V2) {
        char have[256];
        wb_cpu_features_name(opt->cpu_features, have, sizeof have);
        return wb_error_set(err, ENOTSUP,
                            "the compiler tier needs an x86-64-v2 CPU (SSE4.2, SSSE3, POPCNT); the "
                            "target has: %s",
                            have);
    }
    const wb_llvm *A = wb_llvm_get(err);
    if (!A) return -1;
    bool light;
    uint32_t nparts = partition_count(m, &light);
    uint32_t *owner = nparts > 1 ? assign_partitions(m, nparts) : NULL;
    partition parts[MAX_PARTITIONS];
    pthread_t threads[MAX_PARTITIONS];
    bool started[MAX_PARTITIONS] = {false};
    memset(parts, 0, sizeof parts);
    for (uint32_t p = 0; p < nparts; p++)
        parts[p] = (partition){
            .A = A, .m = m, .opt = opt, .owner = owner, .index = p, .light = light, .rc = -1};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, THREAD_STACK);
    for (uint32_t p = 1; p < nparts; p++)
        started[p] = pthread_create(&threads[p], &attr, partition_thread, &parts[p]) == 0;
    pthread_attr_destroy(&attr);
    parts[0].rc = compile_partition(&parts[0]);
    for (uint32_t p = 1; p < nparts; p++) {
        if (started[p])
            pthread_join(threads[p], NULL);
        else /* no thread: this one does it */
            parts[p].rc = compile_partition(&parts[p]);
    }
    free(owner);
    int rc = 0;
    for (uint32_t p = 0; p < nparts && rc == 0; p++)
        if (parts[p].rc < 0) {
            *err = parts[p].err;
            rc = -1;
        }
    if (getenv("WASMBOX_COMPILE_TIMES"))
        for (uint32_t p = 0; p < nparts; p++)
            fprintf(
                stderr,
                "compile: partition %u, CPU time: IR %.3f s, optimiser %.3f s, codegen %.3f s\n", p,
                parts[p].secs[0], parts[p].secs[1], parts[p].secs[2]);
    if (rc == 0 && nparts == 1) {
        *out = parts[0].obj;
        *len = parts[0].len;
        parts[0].obj = NULL;
    } else if (rc == 0) {
        const uint8_t *objs[MAX_PARTITIONS];
        size_t lens[MAX_PARTITIONS];
        for (uint32_t p = 0; p < nparts; p++) objs[p] = parts[p].obj, lens[p] = parts[p].len;
        rc = wb__obj_link(objs, lens, nparts, out, len, err);
    }
    for (uint32_t p = 0; p < nparts; p++) free(parts[p].obj);
    return rc;
}
