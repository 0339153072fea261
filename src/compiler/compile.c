/* The compiler tier's driver: a validated module → LLVM IR (codegen.c) → the new pass manager's
 * O0..O3 pipeline for the chosen CPU features → an x86-64 ELF object in memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "compiler/codegen.h"
#include "wasm/native_cpu.h"

#define TRIPLE "x86_64-unknown-linux-gnu"

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

static int optimise(const wb_llvm *A, LLVMModuleRef mod, LLVMTargetMachineRef tm, int level,
                    wb_error *err) {
    char pipeline[32];
    snprintf(pipeline, sizeof pipeline, "default<O%d>", level < 0 ? 0 : level > 3 ? 3 : level);
    LLVMPassBuilderOptionsRef po = A->CreatePassBuilderOptions();
    A->PassBuilderOptionsSetLoopVectorization(po, level >= 2);
    A->PassBuilderOptionsSetSLPVectorization(po, level >= 2);
    A->PassBuilderOptionsSetLoopUnrolling(po, level >= 2);
    LLVMErrorRef e = A->RunPasses(mod, pipeline, tm, po);
    A->DisposePassBuilderOptions(po);
    if (e) {
        char *msg = A->GetErrorMessage(e);
        wb_error_set(err, EINVAL, "compiler: optimisation failed: %s", msg);
        A->DisposeErrorMessage(msg);
        return -1;
    }
    return 0;
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
    cg_module M;
    memset(&M, 0, sizeof M);
    M.A = A;
    M.m = m;
    M.bounds_checks = m->cfg.bounds_checks;
    M.interruptible = m->cfg.interruptible;
    wb__native_layout(&M.lay);
    M.ctx = A->ContextCreate();
    M.mod = A->ModuleCreateWithNameInContext("wasm", M.ctx);
    M.b = A->CreateBuilderInContext(M.ctx);
    int rc = -1;
    LLVMTargetMachineRef tm = target_machine(A, opt, err);
    if (!tm) goto out;
    A->SetTarget(M.mod, TRIPLE);
    LLVMTargetDataRef td = A->CreateTargetDataLayout(tm);
    A->SetModuleDataLayout(M.mod, td);
    A->DisposeTargetData(td);
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
    if (optimise(A, M.mod, tm, opt->opt_level, err) < 0) goto out;
    if (getenv("WASMBOX_DUMP_OPT_IR")) {
        char *ir = A->PrintModuleToString(M.mod);
        fputs(ir, stderr);
        A->DisposeMessage(ir);
    }
    LLVMMemoryBufferRef buf = NULL;
    msg = NULL;
    if (A->TargetMachineEmitToMemoryBuffer(tm, M.mod, LLVMObjectFile, &msg, &buf)) {
        wb_error_set(err, EINVAL, "compiler: code generation failed: %s", msg ? msg : "");
        A->DisposeMessage(msg);
        goto out;
    }
    *len = A->GetBufferSize(buf);
    *out = wb_malloc(*len ? *len : 1);
    memcpy(*out, A->GetBufferStart(buf), *len);
    A->DisposeMemoryBuffer(buf);
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
