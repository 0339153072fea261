/* Wasm to LLVM IR: function bodies (control flow, calls, variables, tables) and the module's
 * declarations and entry trampolines. Numeric and memory instructions are in codegen_ops.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "compiler/codegen.h"

/* ---- values ---- */

LLVMTypeRef cg_type(cg_module *M, uint8_t t) {
    switch (t) {
    case WB_I32: return M->t_i32;
    case WB_I64: return M->t_i64;
    case WB_F32: return M->t_f32;
    case WB_F64: return M->t_f64;
    case WB_V128: return M->t_v128;
    default: return M->t_ptr;
    }
}

void cg_push(cg_func *F, LLVMValueRef v) {
    if (F->sp == F->stack_cap) {
        F->stack_cap = F->stack_cap ? F->stack_cap * 2 : 64;
        F->stack = wb_realloc(F->stack, F->stack_cap * sizeof *F->stack);
    }
    F->stack[F->sp++] = v;
}

LLVMValueRef cg_pop(cg_func *F) {
    /* validated code in reachable positions never pops below its block */
    return F->sp ? F->stack[--F->sp] : NULL;
}

LLVMValueRef cg_const_i32(cg_module *M, uint32_t v) {
    return M->A->ConstInt(M->t_i32, v, 0);
}
LLVMValueRef cg_const_i64(cg_module *M, uint64_t v) {
    return M->A->ConstInt(M->t_i64, v, 0);
}

LLVMValueRef cg_zero(cg_module *M, uint8_t t) {
    if (t == WB_FUNCREF || t == WB_EXTERNREF) return M->A->ConstPointerNull(M->t_ptr);
    return M->A->ConstNull(cg_type(M, t));
}

LLVMValueRef cg_gep(cg_func *F, LLVMValueRef base, uint32_t off) {
    cg_module *M = F->M;
    if (!off) return base;
    LLVMValueRef idx = cg_const_i64(M, off);
    return M->A->BuildInBoundsGEP2(M->b, M->t_i8, base, &idx, 1, "");
}

LLVMValueRef cg_load_at(cg_func *F, LLVMTypeRef t, LLVMValueRef base, uint32_t off, bool inv) {
    cg_module *M = F->M;
    const wb_llvm *A = M->A;
    LLVMValueRef p = A->BuildBitCast(M->b, cg_gep(F, base, off), A->PointerType(t, 0), "");
    LLVMValueRef v = A->BuildLoad2(M->b, t, p, "");
    if (inv) A->SetMetadata(v, M->md_invariant, M->md_empty);
    return v;
}

/* A pointer field of the vmctx (never changes while code runs). */
LLVMValueRef cg_vm_field(cg_func *F, uint32_t off) {
    return cg_load_at(F, F->M->t_ptr, F->vmctx, off, true);
}

LLVMValueRef cg_intrinsic(cg_module *M, const char *name, LLVMTypeRef ret, LLVMTypeRef *params,
                          unsigned n) {
    const wb_llvm *A = M->A;
    LLVMValueRef fn = A->GetNamedFunction(M->mod, name);
    if (!fn) fn = A->AddFunction(M->mod, name, A->FunctionType(ret, params, n, 0));
    return fn;
}

LLVMValueRef cg_call_intrinsic(cg_func *F, const char *name, LLVMTypeRef ret, LLVMValueRef *args,
                               unsigned n) {
    cg_module *M = F->M;
    const wb_llvm *A = M->A;
    LLVMTypeRef pt[4];
    for (unsigned i = 0; i < n; i++) pt[i] = A->TypeOf(args[i]);
    LLVMValueRef fn = cg_intrinsic(M, name, ret, pt, n);
    return A->BuildCall2(M->b, A->FunctionType(ret, pt, n, 0), fn, args, n, "");
}

/* ---- helpers and traps ---- */

LLVMValueRef cg_helper(cg_func *F, enum wb_native_helper h, LLVMTypeRef ret, LLVMValueRef *args,
                       unsigned n) {
    cg_module *M = F->M;
    const wb_llvm *A = M->A;
    LLVMTypeRef pt[8];
    LLVMValueRef av[8];
    pt[0] = M->t_ptr;
    av[0] = F->vmctx;
    for (unsigned i = 0; i < n; i++) {
        pt[i + 1] = A->TypeOf(args[i]);
        av[i + 1] = args[i];
    }
    LLVMTypeRef ft = A->FunctionType(ret, pt, n + 1, 0);
    LLVMValueRef table = cg_vm_field(F, M->lay.vm_helpers);
    LLVMValueRef fp = cg_load_at(F, M->t_ptr, table, (uint32_t)(h * sizeof(void *)), true);
    fp = A->BuildBitCast(M->b, fp, A->PointerType(ft, 0), "");
    return A->BuildCall2(M->b, ft, fp, av, n + 1, "");
}

void cg_trap(cg_func *F, wb_trap_kind kind) {
    LLVMValueRef k = cg_const_i32(F->M, kind);
    LLVMValueRef call = cg_helper(F, WB_NH_TRAP, F->M->t_void, &k, 1);
    (void)call;
    F->M->A->BuildUnreachable(F->M->b);
}

void cg_trap_if(cg_func *F, LLVMValueRef cond, wb_trap_kind kind) {
    cg_module *M = F->M;
    const wb_llvm *A = M->A;
    LLVMBasicBlockRef here = A->GetInsertBlock(M->b);
    if (!F->trap_bb[kind]) {
        /* one block per kind and function: less IR to optimise than a call per check */
        F->trap_bb[kind] = A->AppendBasicBlockInContext(M->ctx, F->fn, "trap");
        A->PositionBuilderAtEnd(M->b, F->trap_bb[kind]);
        cg_trap(F, kind);
        A->PositionBuilderAtEnd(M->b, here);
    }
    LLVMBasicBlockRef cont = A->AppendBasicBlockInContext(M->ctx, F->fn, "");
    LLVMValueRef expect_args[2] = {cond, A->ConstInt(M->t_i1, 0, 0)};
    cond = cg_call_intrinsic(F, "llvm.expect.i1", M->t_i1, expect_args, 2);
    A->BuildCondBr(M->b, cond, F->trap_bb[kind], cont);
    A->PositionBuilderAtEnd(M->b, cont);
}

/* Memory 0's base and size into their allocas (at entry, after calls and growth). */
void cg_reload_memory(cg_func *F) {
    cg_module *M = F->M;
    if (!F->mem_base) return;
    LLVMValueRef mem = cg_vm_field(F, M->lay.vm_mem0);
    LLVMValueRef base = cg_load_at(F, M->t_ptr, mem, M->lay.mem_base, false);
    M->A->BuildStore(M->b, base, F->mem_base);
    LLVMValueRef size = cg_load_at(F, M->t_i64, mem, M->lay.mem_size, false);
    M->A->BuildStore(M->b, size, F->mem_size);
}

static void fuel_check(cg_func *F) {
    cg_module *M = F->M;
    const wb_llvm *A = M->A;
    if (!M->interruptible) return;
    LLVMValueRef p = cg_vm_field(F, M->lay.vm_fuel);
    p = A->BuildBitCast(M->b, p, A->PointerType(M->t_i64, 0), "");
    LLVMValueRef v = A->BuildLoad2(M->b, M->t_i64, p, "");
    A->SetVolatile(v, 1);
    v = A->BuildSub(M->b, v, cg_const_i64(M, 1), "");
    LLVMValueRef st = A->BuildStore(M->b, v, p);
    A->SetVolatile(st, 1);
    LLVMValueRef neg = A->BuildICmp(M->b, LLVMIntSLT, v, cg_const_i64(M, 0), "");
    LLVMBasicBlockRef slow = A->AppendBasicBlockInContext(M->ctx, F->fn, "fuel");
    LLVMBasicBlockRef cont = A->AppendBasicBlockInContext(M->ctx, F->fn, "");
    A->BuildCondBr(M->b, neg, slow, cont);
    A->PositionBuilderAtEnd(M->b, slow);
    cg_helper(F, WB_NH_FUEL, M->t_void, NULL, 0);
    A->BuildBr(M->b, cont);
    A->PositionBuilderAtEnd(M->b, cont);
}

/* ---- control ---- */

static void block_sig(cg_func *F, int64_t bt, uint32_t *np, const uint8_t **pt, uint32_t *nr,
                      const uint8_t **rt) {
    static const uint8_t single[] = {WB_I32,  WB_I64,     WB_F32,      WB_F64,
                                     WB_V128, WB_FUNCREF, WB_EXTERNREF};
    *np = 0;
    *pt = NULL;
    if (bt == -0x40) { /* empty */
        *nr = 0;
        *rt = NULL;
    } else if (bt < 0) {
        uint8_t t = (uint8_t)(bt & 0x7f);
        *nr = 1;
        *rt = NULL;
        for (size_t i = 0; i < sizeof single; i++)
            if (single[i] == t) *rt = &single[i];
    } else {
        const wb_functype *ft = &F->M->m->types[bt];
        *np = ft->nparams;
        *pt = ft->types;
        *nr = ft->nresults;
        *rt = ft->types + ft->nparams;
    }
}

static cg_ctrl *push_ctrl(cg_func *F) {
    if (F->nctrl == F->ctrl_cap) {
        F->ctrl_cap = F->ctrl_cap ? F->ctrl_cap * 2 : 16;
        F->ctrl = wb_realloc(F->ctrl, F->ctrl_cap * sizeof *F->ctrl);
    }
    cg_ctrl *c = &F->ctrl[F->nctrl++];
    memset(c, 0, sizeof *c);
    return c;
}

static LLVMValueRef *make_phis(cg_func *F, LLVMBasicBlockRef bb, uint32_t n, const uint8_t *types) {
    cg_module *M = F->M;
    const wb_llvm *A = M->A;
    if (!n) return NULL;
    LLVMBasicBlockRef cur = A->GetInsertBlock(M->b);
    A->PositionBuilderAtEnd(M->b, bb);
    LLVMValueRef *phis = wb_calloc(n, sizeof *phis);
    for (uint32_t i = 0; i < n; i++) phis[i] = A->BuildPhi(M->b, cg_type(M, types[i]), "");
    A->PositionBuilderAtEnd(M->b, cur);
    return phis;
}

/* The values a branch to c carries: the top of the stack. */
static uint32_t label_arity(const cg_ctrl *c) {
    return c->kind == CG_LOOP ? c->nparams : c->nresults;
}

static void emit_return(cg_func *F) {
    cg_module *M = F->M;
    const wb_llvm *A = M->A;
    uint32_t n = F->type->nresults;
    LLVMValueRef *vals = F->stack + F->sp - n;
    if (n == 0)
        A->BuildRetVoid(M->b);
    else if (n == 1)
        A->BuildRet(M->b, vals[0]);
    else
        A->BuildAggregateRet(M->b, vals, n);
}

/* Branch from the current block to c with the label's values (left on the stack). */
static void branch_to(cg_func *F, cg_ctrl *c) {
    cg_module *M = F->M;
    const wb_llvm *A = M->A;
    if (c->kind == CG_FUNC) {
        emit_return(F);
        return;
    }
    uint32_t n = label_arity(c);
    LLVMBasicBlockRef here = A->GetInsertBlock(M->b);
    for (uint32_t i = 0; i < n; i++) {
        LLVMValueRef v = F->stack[F->sp - n + i];
        A->AddIncoming(c->phis[i], &v, &here, 1);
    }
    if (c->kind != CG_LOOP) c->nbranches++;
    A->BuildBr(M->b, c->target);
}

static void set_dead(cg_func *F) {
    F->dead = true;
}

static void do_block(cg_func *F, uint8_t op, int64_t bt) {
    cg_module *M = F->M;
    const wb_llvm *A = M->A;
    cg_ctrl *c = push_ctrl(F);
    c->kind = op == WB_OP_LOOP ? CG_LOOP : op == WB_OP_IF ? CG_IF : CG_BLOCK;
    block_sig(F, bt, &c->nparams, &c->ptypes, &c->nresults, &c->rtypes);
    if (F->dead) {
        c->dead_entry = true;
        return;
    }
    LLVMValueRef cond = op == WB_OP_IF ? cg_pop(F) : NULL;
    c->height = F->sp - c->nparams;
    c->end = A->AppendBasicBlockInContext(M->ctx, F->fn, "end");
    if (c->kind == CG_LOOP) {
        c->target = A->AppendBasicBlockInContext(M->ctx, F->fn, "loop");
        c->phis = make_phis(F, c->target, c->nparams, c->ptypes);
        c->end_phis = make_phis(F, c->end, c->nresults, c->rtypes);
        LLVMBasicBlockRef here = A->GetInsertBlock(M->b);
        for (uint32_t i = 0; i < c->nparams; i++)
            A->AddIncoming(c->phis[i], &F->stack[c->height + i], &here, 1);
        A->BuildBr(M->b, c->target);
        A->PositionBuilderAtEnd(M->b, c->target);
        for (uint32_t i = 0; i < c->nparams; i++) F->stack[c->height + i] = c->phis[i];
        fuel_check(F);
        return;
    }
    c->target = c->end;
    c->phis = make_phis(F, c->end, c->nresults, c->rtypes);
    if (c->kind == CG_IF) {
        LLVMBasicBlockRef then_bb = A->AppendBasicBlockInContext(M->ctx, F->fn, "then");
        c->else_bb = A->AppendBasicBlockInContext(M->ctx, F->fn, "else");
        if (c->nparams) {
            c->if_params = wb_calloc(c->nparams, sizeof *c->if_params);
            memcpy(c->if_params, F->stack + c->height, c->nparams * sizeof *c->if_params);
        }
        LLVMValueRef nz = A->BuildICmp(M->b, LLVMIntNE, cond, cg_const_i32(M, 0), "");
        A->BuildCondBr(M->b, nz, then_bb, c->else_bb);
        A->PositionBuilderAtEnd(M->b, then_bb);
    }
}

/* Leaves the current arm of c: its results flow to c's end. */
static void fall_to_end(cg_func *F, cg_ctrl *c) {
    cg_module *M = F->M;
    const wb_llvm *A = M->A;
    if (F->dead) return;
    LLVMBasicBlockRef here = A->GetInsertBlock(M->b);
    LLVMValueRef *phis = c->kind == CG_LOOP ? c->end_phis : c->phis;
    for (uint32_t i = 0; i < c->nresults; i++) {
        LLVMValueRef v = F->stack[F->sp - c->nresults + i];
        A->AddIncoming(phis[i], &v, &here, 1);
    }
    c->nbranches++;
    A->BuildBr(M->b, c->end);
}

static void do_else(cg_func *F) {
    cg_module *M = F->M;
    cg_ctrl *c = &F->ctrl[F->nctrl - 1];
    c->has_else = true;
    if (c->dead_entry) return;
    fall_to_end(F, c);
    F->sp = c->height;
    for (uint32_t i = 0; i < c->nparams; i++) cg_push(F, c->if_params[i]);
    M->A->PositionBuilderAtEnd(M->b, c->else_bb);
    F->dead = false;
}

static void free_ctrl(cg_ctrl *c) {
    free(c->phis);
    free(c->end_phis);
    free(c->if_params);
}

static void do_end(cg_func *F) {
    cg_module *M = F->M;
    const wb_llvm *A = M->A;
    cg_ctrl *c = &F->ctrl[F->nctrl - 1];
    if (c->kind == CG_FUNC) {
        if (!F->dead) emit_return(F);
        F->nctrl--;
        F->dead = true;
        return;
    }
    if (c->dead_entry) {
        free_ctrl(c);
        F->nctrl--;
        return;
    }
    fall_to_end(F, c);
    if (c->kind == CG_IF && !c->has_else) {
        /* the implicit else passes the params through as results */
        A->PositionBuilderAtEnd(M->b, c->else_bb);
        F->sp = c->height;
        for (uint32_t i = 0; i < c->nparams; i++) cg_push(F, c->if_params[i]);
        F->dead = false;
        fall_to_end(F, c);
    }
    F->sp = c->height;
    A->PositionBuilderAtEnd(M->b, c->end);
    LLVMValueRef *phis = c->kind == CG_LOOP ? c->end_phis : c->phis;
    if (c->nbranches == 0) {
        A->BuildUnreachable(M->b);
        F->dead = true;
    } else {
        for (uint32_t i = 0; i < c->nresults; i++) cg_push(F, phis[i]);
        F->dead = false;
    }
    free_ctrl(c);
    F->nctrl--;
}

static void do_br(cg_func *F, uint32_t depth) {
    branch_to(F, &F->ctrl[F->nctrl - 1 - depth]);
    set_dead(F);
}

static void do_br_if(cg_func *F, uint32_t depth) {
    cg_module *M = F->M;
    const wb_llvm *A = M->A;
    LLVMValueRef cond = cg_pop(F);
    LLVMValueRef nz = A->BuildICmp(M->b, LLVMIntNE, cond, cg_const_i32(M, 0), "");
    LLVMBasicBlockRef taken = A->AppendBasicBlockInContext(M->ctx, F->fn, "br");
    LLVMBasicBlockRef cont = A->AppendBasicBlockInContext(M->ctx, F->fn, "");
    A->BuildCondBr(M->b, nz, taken, cont);
    A->PositionBuilderAtEnd(M->b, taken);
    branch_to(F, &F->ctrl[F->nctrl - 1 - depth]);
    A->PositionBuilderAtEnd(M->b, cont);
}

static void do_br_table(cg_func *F, const uint32_t *depths, uint32_t n) {
    cg_module *M = F->M;
    const wb_llvm *A = M->A;
    LLVMValueRef idx = cg_pop(F);
    /* one block per distinct target, so that each phi sees one edge from here */
    LLVMBasicBlockRef *by_depth = wb_calloc(F->nctrl, sizeof *by_depth);
    LLVMBasicBlockRef here = A->GetInsertBlock(M->b);
    for (uint32_t i = 0; i <= n; i++) {
        uint32_t d = depths[i];
        if (by_depth[d]) continue;
        by_depth[d] = A->AppendBasicBlockInContext(M->ctx, F->fn, "case");
        A->PositionBuilderAtEnd(M->b, by_depth[d]);
        branch_to(F, &F->ctrl[F->nctrl - 1 - d]);
    }
    A->PositionBuilderAtEnd(M->b, here);
    LLVMValueRef sw = A->BuildSwitch(M->b, idx, by_depth[depths[n]], n);
    for (uint32_t i = 0; i < n; i++) A->AddCase(sw, cg_const_i32(M, i), by_depth[depths[i]]);
    free(by_depth);
    set_dead(F);
}

/* ---- calls ---- */

/* Stores args into the slot buffer as the interpreter lays them out. */
static void spill_args(cg_func *F, const wb_functype *ft, LLVMValueRef *args) {
    cg_module *M = F->M;
    const wb_llvm *A = M->A;
    uint32_t slot = 0;
    for (uint32_t i = 0; i < ft->nparams; i++) {
        uint8_t t = ft->types[i];
        LLVMValueRef v = args[i];
        if (t == WB_I32) v = A->BuildZExt(M->b, v, M->t_i64, "");
        LLVMTypeRef vt = A->TypeOf(v);
        LLVMValueRef p = cg_gep(F, F->slots, slot * 8);
        p = A->BuildBitCast(M->b, p, A->PointerType(vt, 0), "");
        LLVMValueRef st = A->BuildStore(M->b, v, p);
        A->SetAlignment(st, 8);
        slot += wb__type_slots(t);
    }
}

static void push_slot_results(cg_func *F, const wb_functype *ft) {
    cg_module *M = F->M;
    uint32_t slot = 0;
    for (uint32_t i = 0; i < ft->nresults; i++) {
        uint8_t t = ft->types[ft->nparams + i];
        LLVMValueRef v = cg_load_at(F, cg_type(M, t), F->slots, slot * 8, false);
        M->A->SetAlignment(v, 8); /* slots are 8-byte aligned, v128s too */
        cg_push(F, v);
        slot += wb__type_slots(t);
    }
}

static void push_results(cg_func *F, const wb_functype *ft, LLVMValueRef r) {
    cg_module *M = F->M;
    if (ft->nresults == 1) {
        cg_push(F, r);
    } else {
        for (uint32_t i = 0; i < ft->nresults; i++)
            cg_push(F, M->A->BuildExtractValue(M->b, r, i, ""));
    }
}

static LLVMValueRef call_native(cg_func *F, uint32_t type_index, LLVMValueRef fn,
                                LLVMValueRef vmctx, LLVMValueRef *args, uint32_t nargs) {
    cg_module *M = F->M;
    const wb_llvm *A = M->A;
    LLVMValueRef av[nargs + 1];
    av[0] = vmctx;
    if (nargs) memcpy(av + 1, args, nargs * sizeof *args);
    LLVMValueRef call = A->BuildCall2(M->b, M->fn_types[type_index], fn, av, nargs + 1, "");
    A->SetInstructionCallConv(call, LLVMFastCallConv);
    /* an empty asm with side effects after each call keeps the optimiser from turning calls in
     * tail position into jumps (tail recursion elimination, sibling calls): runaway recursion,
     * direct or through a table, must exhaust the stack and trap, as the spec says, not spin */
    LLVMTypeRef vt = A->FunctionType(M->t_void, NULL, 0, 0);
    LLVMValueRef barrier = A->GetInlineAsm(vt, "", 0, "", 0, 1, 0, LLVMInlineAsmDialectATT, 0);
    A->BuildCall2(M->b, vt, barrier, NULL, 0, "");
    return call;
}

static void do_call(cg_func *F, uint32_t fidx) {
    cg_module *M = F->M;
    const wb_module *m = M->m;
    uint32_t ti = m->func_types[fidx];
    const wb_functype *ft = &m->types[ti];
    F->sp -= ft->nparams;
    LLVMValueRef *args = F->stack + F->sp;
    if (fidx < m->nimported_funcs) {
        spill_args(F, ft, args);
        LLVMValueRef a[2] = {cg_const_i32(M, fidx), F->slots};
        cg_helper(F, WB_NH_CALL_IMPORT, M->t_void, a, 2);
        cg_reload_memory(F);
        push_slot_results(F, ft);
        return;
    }
    LLVMValueRef r =
        call_native(F, ti, M->fns[fidx - m->nimported_funcs], F->vmctx, args, ft->nparams);
    cg_reload_memory(F);
    if (ft->nresults) push_results(F, ft, r);
}

static void do_call_indirect(cg_func *F, uint32_t ti, uint32_t table) {
    cg_module *M = F->M;
    const wb_llvm *A = M->A;
    const wb_functype *ft = &M->m->types[ti];
    LLVMValueRef idx = cg_pop(F);
    F->sp -= ft->nparams;
    LLVMValueRef *args = F->stack + F->sp;
    LLVMValueRef tables = cg_vm_field(F, M->lay.vm_tables);
    LLVMValueRef tab = cg_load_at(F, M->t_ptr, tables, table * 8, true);
    LLVMValueRef size = cg_load_at(F, M->t_i32, tab, M->lay.table_size, false);
    cg_trap_if(F, A->BuildICmp(M->b, LLVMIntUGE, idx, size, ""), WB_TRAP_UNDEFINED_ELEMENT);
    LLVMValueRef elems = cg_load_at(F, M->t_ptr, tab, M->lay.table_elems, false);
    LLVMValueRef off =
        A->BuildShl(M->b, A->BuildZExt(M->b, idx, M->t_i64, ""), cg_const_i64(M, 3), "");
    LLVMValueRef fp = A->BuildInBoundsGEP2(M->b, M->t_i8, elems, &off, 1, "");
    LLVMValueRef f = cg_load_at(F, M->t_ptr, fp, 0, false);
    cg_trap_if(F, A->BuildIsNull(M->b, f, ""), WB_TRAP_UNINITIALIZED_ELEMENT);
    LLVMValueRef native = cg_load_at(F, M->t_ptr, f, M->lay.func_native, false);
    LLVMValueRef id = cg_load_at(F, M->t_i32, f, M->lay.func_type_id, false);
    LLVMValueRef ids = cg_vm_field(F, M->lay.vm_type_ids);
    LLVMValueRef want = cg_load_at(F, M->t_i32, ids, ti * 4, true);
    LLVMValueRef fast = A->BuildAnd(M->b, A->BuildIsNotNull(M->b, native, ""),
                                    A->BuildICmp(M->b, LLVMIntEQ, id, want, ""), "");
    LLVMBasicBlockRef fast_bb = A->AppendBasicBlockInContext(M->ctx, F->fn, "direct");
    LLVMBasicBlockRef slow_bb = A->AppendBasicBlockInContext(M->ctx, F->fn, "slow");
    LLVMBasicBlockRef join = A->AppendBasicBlockInContext(M->ctx, F->fn, "");
    A->BuildCondBr(M->b, fast, fast_bb, slow_bb);

    A->PositionBuilderAtEnd(M->b, fast_bb);
    LLVMValueRef ctx = cg_load_at(F, M->t_ptr, f, M->lay.func_native_ctx, false);
    LLVMValueRef fn = A->BuildBitCast(M->b, native, A->PointerType(M->fn_types[ti], 0), "");
    LLVMValueRef r = call_native(F, ti, fn, ctx, args, ft->nparams);
    LLVMValueRef fast_vals[ft->nresults + 1];
    for (uint32_t i = 0; i < ft->nresults; i++)
        fast_vals[i] = ft->nresults == 1 ? r : A->BuildExtractValue(M->b, r, i, "");
    LLVMBasicBlockRef fast_end = A->GetInsertBlock(M->b);
    A->BuildBr(M->b, join);

    A->PositionBuilderAtEnd(M->b, slow_bb);
    spill_args(F, ft, args);
    LLVMValueRef a[3] = {f, cg_const_i32(M, ti), F->slots};
    cg_helper(F, WB_NH_CALL_INDIRECT, M->t_void, a, 3);
    uint32_t base = F->sp;
    push_slot_results(F, ft);
    LLVMBasicBlockRef slow_end = A->GetInsertBlock(M->b);
    A->BuildBr(M->b, join);

    A->PositionBuilderAtEnd(M->b, join);
    for (uint32_t i = 0; i < ft->nresults; i++) {
        LLVMValueRef phi = A->BuildPhi(M->b, cg_type(M, ft->types[ft->nparams + i]), "");
        A->AddIncoming(phi, &fast_vals[i], &fast_end, 1);
        A->AddIncoming(phi, &F->stack[base + i], &slow_end, 1);
        F->stack[base + i] = phi;
    }
    cg_reload_memory(F);
}

/* ---- variables, references, tables ---- */

static LLVMValueRef global_ptr(cg_func *F, uint32_t g, LLVMTypeRef t) {
    cg_module *M = F->M;
    LLVMValueRef globals = cg_vm_field(F, M->lay.vm_globals);
    LLVMValueRef gp = cg_load_at(F, M->t_ptr, globals, g * 8, true);
    return M->A->BuildBitCast(M->b, cg_gep(F, gp, M->lay.global_val), M->A->PointerType(t, 0), "");
}

static void do_global(cg_func *F, uint8_t op, uint32_t g) {
    cg_module *M = F->M;
    const wb_llvm *A = M->A;
    LLVMTypeRef t = cg_type(M, M->m->global_types[g].type);
    LLVMValueRef p = global_ptr(F, g, t);
    if (op == WB_OP_GLOBAL_GET) {
        LLVMValueRef v = A->BuildLoad2(M->b, t, p, "");
        A->SetAlignment(v, 8);
        cg_push(F, v);
    } else {
        LLVMValueRef st = A->BuildStore(M->b, cg_pop(F), p);
        A->SetAlignment(st, 8);
    }
}

static void do_local(cg_func *F, uint8_t op, uint32_t l) {
    cg_module *M = F->M;
    const wb_llvm *A = M->A;
    if (op == WB_OP_LOCAL_GET) {
        cg_push(F, A->BuildLoad2(M->b, cg_type(M, F->local_types[l]), F->locals[l], ""));
        return;
    }
    LLVMValueRef v = F->stack[F->sp - 1];
    A->BuildStore(M->b, v, F->locals[l]);
    if (op == WB_OP_LOCAL_SET) F->sp--;
}

static void do_table_fc(cg_func *F, uint32_t sub, uint32_t a, uint32_t b) {
    cg_module *M = F->M;
    LLVMValueRef v[6];
    switch (sub) {
    case WB_FC_TABLE_INIT: /* seg a, table b: d s n */
        v[5] = cg_pop(F), v[4] = cg_pop(F), v[3] = cg_pop(F);
        v[0] = cg_const_i32(M, b), v[1] = cg_const_i32(M, a);
        v[2] = v[3], v[3] = v[4], v[4] = v[5];
        cg_helper(F, WB_NH_TABLE_INIT, M->t_void, v, 5);
        break;
    case WB_FC_ELEM_DROP:
        v[0] = cg_const_i32(M, a);
        cg_helper(F, WB_NH_ELEM_DROP, M->t_void, v, 1);
        break;
    case WB_FC_TABLE_COPY: /* dst a, src b: d s n */
        v[4] = cg_pop(F), v[3] = cg_pop(F), v[2] = cg_pop(F);
        v[0] = cg_const_i32(M, a), v[1] = cg_const_i32(M, b);
        cg_helper(F, WB_NH_TABLE_COPY, M->t_void, v, 5);
        break;
    case WB_FC_TABLE_GROW: /* init n -> old */
        v[2] = cg_pop(F), v[1] = cg_pop(F), v[0] = cg_const_i32(M, a);
        cg_push(F, cg_helper(F, WB_NH_TABLE_GROW, M->t_i32, v, 3));
        break;
    case WB_FC_TABLE_SIZE:
        v[0] = cg_const_i32(M, a);
        cg_push(F, cg_helper(F, WB_NH_TABLE_SIZE, M->t_i32, v, 1));
        break;
    case WB_FC_TABLE_FILL: /* i v n */
        v[3] = cg_pop(F), v[2] = cg_pop(F), v[1] = cg_pop(F), v[0] = cg_const_i32(M, a);
        cg_helper(F, WB_NH_TABLE_FILL, M->t_void, v, 4);
        break;
    }
}

static void do_memory_fc(cg_func *F, uint32_t sub, uint32_t a) {
    cg_module *M = F->M;
    LLVMValueRef v[4];
    switch (sub) {
    case WB_FC_MEMORY_INIT:
        v[3] = cg_pop(F), v[2] = cg_pop(F), v[1] = cg_pop(F), v[0] = cg_const_i32(M, a);
        cg_helper(F, WB_NH_MEMORY_INIT, M->t_void, v, 4);
        break;
    case WB_FC_DATA_DROP:
        v[0] = cg_const_i32(M, a);
        cg_helper(F, WB_NH_DATA_DROP, M->t_void, v, 1);
        break;
    case WB_FC_MEMORY_COPY:
        v[2] = cg_pop(F), v[1] = cg_pop(F), v[0] = cg_pop(F);
        cg_helper(F, WB_NH_MEMORY_COPY, M->t_void, v, 3);
        break;
    case WB_FC_MEMORY_FILL:
        v[2] = cg_pop(F), v[1] = cg_pop(F), v[0] = cg_pop(F);
        cg_helper(F, WB_NH_MEMORY_FILL, M->t_void, v, 3);
        break;
    }
}

/* A dropped value: loads it was computed from, which nothing else uses, are made volatile so
 * that the optimiser keeps them — an out-of-bounds load must trap even when its value is
 * dropped (the spec's "no_dce" tests). */
static void keep_loads(cg_func *F, LLVMValueRef v, int depth) {
    const wb_llvm *A = F->M->A;
    if (depth > 8 || !v || !A->IsAInstruction(v)) return;
    if (A->IsALoadInst(v)) {
        A->SetVolatile(v, 1);
        return;
    }
    if (A->IsAPHINode(v) || A->IsACallInst(v)) return;
    LLVMOpcode op = A->GetInstructionOpcode(v);
    if (op == LLVMStore || op == LLVMAlloca || op == LLVMGetElementPtr) return;
    int n = A->GetNumOperands(v);
    for (int i = 0; i < n; i++) {
        LLVMValueRef o = A->GetOperand(v, (unsigned)i);
        LLVMUseRef u = A->GetFirstUse(o);
        if (u && !A->GetNextUse(u)) keep_loads(F, o, depth + 1);
    }
}

/* ---- the instruction loop ---- */

static bool fail(cg_func *F, const char *msg) {
    if (!F->err) F->err = (char *)msg;
    return false;
}

/* Reads one instruction; emits code unless the position is unreachable. */
static bool instr(cg_func *F, wb_reader *r) {
    cg_module *M = F->M;
    const wb_llvm *A = M->A;
    uint8_t op;
    uint32_t a = 0, b = 0;
    if (!wb__rd_u8(r, &op)) return fail(F, "truncated code");
    switch (op) {
    case WB_OP_BLOCK:
    case WB_OP_LOOP:
    case WB_OP_IF: {
        int64_t bt;
        wb__rd_s33(r, &bt);
        do_block(F, op, bt);
        return true;
    }
    case WB_OP_ELSE: do_else(F); return true;
    case WB_OP_END: do_end(F); return true;
    default: break;
    }
    /* immediates first, so that unreachable code is skipped exactly */
    uint32_t *targets = NULL;
    uint32_t sub = 0;
    switch (op) {
    case WB_OP_BR:
    case WB_OP_BR_IF:
    case WB_OP_CALL:
    case WB_OP_LOCAL_GET:
    case WB_OP_LOCAL_SET:
    case WB_OP_LOCAL_TEE:
    case WB_OP_GLOBAL_GET:
    case WB_OP_GLOBAL_SET:
    case WB_OP_TABLE_GET:
    case WB_OP_TABLE_SET:
    case WB_OP_REF_FUNC:
    case WB_OP_MEMORY_SIZE:
    case WB_OP_MEMORY_GROW: wb__rd_u32(r, &a); break;
    case WB_OP_CALL_INDIRECT: wb__rd_u32(r, &a), wb__rd_u32(r, &b); break;
    case WB_OP_BR_TABLE: {
        wb__rd_u32(r, &a);
        targets = wb_calloc((size_t)a + 1, sizeof *targets);
        for (uint32_t i = 0; i <= a; i++) wb__rd_u32(r, &targets[i]);
        break;
    }
    case WB_OP_SELECT_T: {
        uint32_t n;
        uint8_t t;
        wb__rd_u32(r, &n);
        for (uint32_t i = 0; i < n; i++) wb__rd_u8(r, &t);
        break;
    }
    case WB_OP_REF_NULL: {
        uint8_t t;
        wb__rd_u8(r, &t);
        break;
    }
    case WB_OP_I32_CONST: {
        int32_t v;
        wb__rd_s32(r, &v);
        a = (uint32_t)v;
        break;
    }
    case WB_OP_I64_CONST: {
        int64_t v;
        wb__rd_s64(r, &v);
        if (!F->dead) cg_push(F, cg_const_i64(M, (uint64_t)v));
        return true;
    }
    case WB_OP_F32_CONST: wb__rd_f32(r, &a); break;
    case WB_OP_F64_CONST: {
        uint64_t bits;
        wb__rd_f64(r, &bits);
        if (!F->dead) cg_push(F, A->ConstBitCast(cg_const_i64(M, bits), M->t_f64));
        return true;
    }
    case WB_OP_PREFIX_FC:
        wb__rd_u32(r, &sub);
        switch (sub) {
        case WB_FC_MEMORY_INIT:
        case WB_FC_TABLE_INIT:
        case WB_FC_TABLE_COPY:
        case WB_FC_MEMORY_COPY: wb__rd_u32(r, &a), wb__rd_u32(r, &b); break;
        case WB_FC_DATA_DROP:
        case WB_FC_MEMORY_FILL:
        case WB_FC_ELEM_DROP:
        case WB_FC_TABLE_GROW:
        case WB_FC_TABLE_SIZE:
        case WB_FC_TABLE_FILL: wb__rd_u32(r, &a); break;
        default: break;
        }
        break;
    case WB_OP_PREFIX_SIMD: {
        wb__rd_u32(r, &sub);
        if (F->dead) {
            /* skip the immediates */
            uint32_t x;
            const uint8_t *bytes;
            switch (wb__simd_imm(sub)) {
            case WB_SIMD_IMM_LANE: wb__rd_u8(r, &op); break;
            case WB_SIMD_IMM_MEMARG: wb__rd_memarg(r, &x, &x); break;
            case WB_SIMD_IMM_MEMARG_LANE:
                wb__rd_memarg(r, &x, &x);
                wb__rd_u8(r, &op);
                break;
            case WB_SIMD_IMM_BYTES16: wb__rd_bytes(r, 16, &bytes); break;
            default: break;
            }
            return true;
        }
        return cg_simd(F, sub, r);
    }
    default:
        if (op >= 0x28 && op <= 0x3e) {
            uint32_t align;
            wb__rd_memarg(r, &align, &a);
        }
        break;
    }
    if (F->dead) {
        free(targets);
        return true;
    }

    switch (op) {
    case WB_OP_UNREACHABLE:
        cg_trap(F, WB_TRAP_UNREACHABLE);
        set_dead(F);
        return true;
    case WB_OP_NOP: return true;
    case WB_OP_BR: do_br(F, a); return true;
    case WB_OP_BR_IF: do_br_if(F, a); return true;
    case WB_OP_BR_TABLE:
        do_br_table(F, targets, a);
        free(targets);
        return true;
    case WB_OP_RETURN:
        emit_return(F);
        set_dead(F);
        return true;
    case WB_OP_CALL: do_call(F, a); return true;
    case WB_OP_CALL_INDIRECT: do_call_indirect(F, a, b); return true;
    case WB_OP_DROP: keep_loads(F, cg_pop(F), 0); return true;
    case WB_OP_SELECT:
    case WB_OP_SELECT_T: {
        LLVMValueRef c = cg_pop(F), y = cg_pop(F), x = cg_pop(F);
        LLVMValueRef nz = A->BuildICmp(M->b, LLVMIntNE, c, cg_const_i32(M, 0), "");
        cg_push(F, A->BuildSelect(M->b, nz, x, y, ""));
        return true;
    }
    case WB_OP_LOCAL_GET:
    case WB_OP_LOCAL_SET:
    case WB_OP_LOCAL_TEE: do_local(F, op, a); return true;
    case WB_OP_GLOBAL_GET:
    case WB_OP_GLOBAL_SET: do_global(F, op, a); return true;
    case WB_OP_TABLE_GET: {
        LLVMValueRef v[2] = {cg_const_i32(M, a), cg_pop(F)};
        cg_push(F, cg_helper(F, WB_NH_TABLE_GET, M->t_ptr, v, 2));
        return true;
    }
    case WB_OP_TABLE_SET: {
        LLVMValueRef val = cg_pop(F), i = cg_pop(F);
        LLVMValueRef v[3] = {cg_const_i32(M, a), i, val};
        cg_helper(F, WB_NH_TABLE_SET, M->t_void, v, 3);
        return true;
    }
    case WB_OP_MEMORY_SIZE: cg_memory_size(F); return true;
    case WB_OP_MEMORY_GROW: {
        LLVMValueRef v = cg_pop(F);
        cg_push(F, cg_helper(F, WB_NH_MEMORY_GROW, M->t_i32, &v, 1));
        cg_reload_memory(F);
        return true;
    }
    case WB_OP_I32_CONST: cg_push(F, cg_const_i32(M, a)); return true;
    case WB_OP_F32_CONST: cg_push(F, A->ConstBitCast(cg_const_i32(M, a), M->t_f32)); return true;
    case WB_OP_REF_NULL: cg_push(F, A->ConstPointerNull(M->t_ptr)); return true;
    case WB_OP_REF_IS_NULL:
        cg_push(F, A->BuildZExt(M->b, A->BuildIsNull(M->b, cg_pop(F), ""), M->t_i32, ""));
        return true;
    case WB_OP_REF_FUNC: {
        LLVMValueRef funcs = cg_vm_field(F, M->lay.vm_funcs);
        cg_push(F, cg_load_at(F, M->t_ptr, funcs, a * 8, true));
        return true;
    }
    case WB_OP_PREFIX_FC:
        if (sub <= WB_FC_I64_TRUNC_SAT_F64_U) return cg_fc_numeric(F, sub);
        if (sub == WB_FC_MEMORY_INIT || sub == WB_FC_DATA_DROP || sub == WB_FC_MEMORY_COPY ||
            sub == WB_FC_MEMORY_FILL)
            do_memory_fc(F, sub, a);
        else
            do_table_fc(F, sub, a, b);
        return true;
    default: break;
    }
    if (cg_memory_access(F, op, a)) return true;
    if (cg_numeric(F, op)) return true;
    return fail(F, "unknown opcode");
}

/* ---- functions ---- */

static uint32_t call_slots_needed(const wb_module *m, const wb_func_decl *d) {
    /* the largest import or indirect-call signature in the module bounds every slow call */
    (void)d;
    uint32_t n = 2;
    for (uint32_t i = 0; i < m->ntypes; i++) {
        const wb_functype *t = &m->types[i];
        if (t->param_slots > n) n = t->param_slots;
        if (t->result_slots > n) n = t->result_slots;
    }
    return n;
}

static int build_function(cg_module *M, uint32_t di, wb_error *err) {
    const wb_llvm *A = M->A;
    const wb_module *m = M->m;
    const wb_func_decl *d = &m->funcs[di];
    cg_func F0, *F = &F0;
    memset(F, 0, sizeof *F);
    F->M = M;
    F->index = m->nimported_funcs + di;
    F->type = &m->types[d->type_index];
    F->fn = M->fns[di];
    F->vmctx = A->GetParam(F->fn, 0);
    F->entry = A->AppendBasicBlockInContext(M->ctx, F->fn, "entry");
    F->stack_cap = 64; /* never NULL: F->stack + F->sp is formed even when nothing was pushed */
    F->stack = wb_calloc(F->stack_cap, sizeof *F->stack);
    A->PositionBuilderAtEnd(M->b, F->entry);

    wb_reader r = {.p = d->body, .end = d->body + d->body_len, .base = m->bytes};
    /* locals: params, then the declared ones (already decoded into d->local_types) */
    uint32_t ngroups;
    wb__rd_u32(&r, &ngroups);
    for (uint32_t g = 0; g < ngroups; g++) {
        uint32_t count;
        uint8_t t;
        wb__rd_u32(&r, &count);
        wb__rd_u8(&r, &t);
    }
    F->nlocals = F->type->nparams + d->nlocals;
    F->locals = wb_calloc(F->nlocals + 1, sizeof *F->locals);
    F->local_types = wb_calloc(F->nlocals + 1, 1);
    for (uint32_t i = 0; i < F->nlocals; i++) {
        uint8_t t = i < F->type->nparams ? F->type->types[i] : d->local_types[i - F->type->nparams];
        F->local_types[i] = t;
        F->locals[i] = A->BuildAlloca(M->b, cg_type(M, t), "");
        LLVMValueRef init = i < F->type->nparams ? A->GetParam(F->fn, i + 1) : cg_zero(M, t);
        A->BuildStore(M->b, init, F->locals[i]);
    }
    F->slot_count = call_slots_needed(m, d);
    F->slots = A->BuildArrayAlloca(M->b, M->t_i64, cg_const_i32(M, F->slot_count), "slots");
    F->slots = A->BuildBitCast(M->b, F->slots, M->t_ptr, "");
    if (m->nmemories) {
        F->mem_base = A->BuildAlloca(M->b, M->t_ptr, "membase");
        F->mem_size = A->BuildAlloca(M->b, M->t_i64, "memsize");
    }
    /* stack check, fuel, memory */
    LLVMValueRef zero = cg_const_i32(M, 0);
    LLVMValueRef frame = cg_call_intrinsic(F, "llvm.frameaddress.p0i8", M->t_ptr, &zero, 1);
    LLVMValueRef limit = cg_load_at(F, M->t_i64, F->vmctx, M->lay.vm_stack_limit, false);
    cg_trap_if(
        F, A->BuildICmp(M->b, LLVMIntULT, A->BuildPtrToInt(M->b, frame, M->t_i64, ""), limit, ""),
        WB_TRAP_STACK_EXHAUSTED);
    fuel_check(F);
    cg_reload_memory(F);

    cg_ctrl *c = push_ctrl(F);
    c->kind = CG_FUNC;
    c->nresults = F->type->nresults;
    c->rtypes = F->type->types + F->type->nparams;
    while (F->nctrl && r.p < r.end && !F->err) instr(F, &r);
    if (!F->err && F->nctrl) F->err = "function body ends inside a block";
    for (uint32_t i = 0; i < F->nctrl; i++) free_ctrl(&F->ctrl[i]);
    free(F->ctrl);
    free(F->stack);
    free(F->locals);
    free(F->local_types);
    if (F->err) return wb_error_set(err, EINVAL, "compile function %u: %s", F->index, F->err);
    return 0;
}

/* "wt<i>": arguments from slots, results back to them. */
static void build_trampoline(cg_module *M, uint32_t di) {
    const wb_llvm *A = M->A;
    const wb_module *m = M->m;
    uint32_t ti = m->funcs[di].type_index;
    const wb_functype *ft = &m->types[ti];
    char name[32];
    snprintf(name, sizeof name, "wt%u", m->nimported_funcs + di);
    LLVMValueRef fn = A->AddFunction(M->mod, name, M->tramp_type);
    A->SetLinkage(fn, LLVMExternalLinkage);
    A->AddTargetDependentFunctionAttr(fn, "frame-pointer", "all");
    LLVMBasicBlockRef bb = A->AppendBasicBlockInContext(M->ctx, fn, "entry");
    A->PositionBuilderAtEnd(M->b, bb);
    cg_func F0 = {.M = M, .fn = fn, .vmctx = A->GetParam(fn, 0)};
    LLVMValueRef fp = A->GetParam(fn, 1);
    LLVMValueRef args[ft->nparams + 1];
    uint32_t slot = 0;
    for (uint32_t i = 0; i < ft->nparams; i++) {
        args[i] = cg_load_at(&F0, cg_type(M, ft->types[i]), fp, slot * 8, false);
        A->SetAlignment(args[i], 8); /* slots are 8-byte aligned, v128s too */
        slot += wb__type_slots(ft->types[i]);
    }
    LLVMValueRef r = call_native(&F0, ti, M->fns[di], F0.vmctx, args, ft->nparams);
    slot = 0;
    for (uint32_t i = 0; i < ft->nresults; i++) {
        uint8_t t = ft->types[ft->nparams + i];
        LLVMValueRef v = ft->nresults == 1 ? r : A->BuildExtractValue(M->b, r, i, "");
        if (t == WB_I32) v = A->BuildZExt(M->b, v, M->t_i64, "");
        LLVMValueRef p =
            A->BuildBitCast(M->b, cg_gep(&F0, fp, slot * 8), A->PointerType(A->TypeOf(v), 0), "");
        A->SetAlignment(A->BuildStore(M->b, v, p), 8);
        slot += wb__type_slots(t);
    }
    A->BuildRetVoid(M->b);
}

static bool reachable_from_outside(const wb_module *m, uint32_t fidx) {
    if (m->has_start && m->start == fidx) return true;
    return m->declared_refs && (m->declared_refs[fidx / 8] >> (fidx % 8)) & 1;
}

int cg_module_build(cg_module *M, wb_error *err) {
    const wb_llvm *A = M->A;
    const wb_module *m = M->m;
    M->t_void = A->VoidTypeInContext(M->ctx);
    M->t_i1 = A->Int1TypeInContext(M->ctx);
    M->t_i8 = A->Int8TypeInContext(M->ctx);
    M->t_i16 = A->Int16TypeInContext(M->ctx);
    M->t_i32 = A->Int32TypeInContext(M->ctx);
    M->t_i64 = A->Int64TypeInContext(M->ctx);
    M->t_f32 = A->FloatTypeInContext(M->ctx);
    M->t_f64 = A->DoubleTypeInContext(M->ctx);
    M->t_v128 = A->VectorType(M->t_i64, 2);
    M->t_ptr = A->PointerType(M->t_i8, 0);
    M->t_pptr = A->PointerType(M->t_ptr, 0);
    M->md_invariant = A->GetMDKindIDInContext(M->ctx, "invariant.load", 14);
    M->md_empty = A->MDNodeInContext(M->ctx, NULL, 0);
    LLVMTypeRef tp[2] = {M->t_ptr, M->t_ptr};
    M->tramp_type = A->FunctionType(M->t_void, tp, 2, 0);

    M->fn_types = wb_calloc(m->ntypes + 1, sizeof *M->fn_types);
    M->ret_types = wb_calloc(m->ntypes + 1, sizeof *M->ret_types);
    for (uint32_t i = 0; i < m->ntypes; i++) {
        const wb_functype *ft = &m->types[i];
        LLVMTypeRef params[ft->nparams + 1];
        params[0] = M->t_ptr;
        for (uint32_t k = 0; k < ft->nparams; k++) params[k + 1] = cg_type(M, ft->types[k]);
        LLVMTypeRef ret;
        if (ft->nresults == 0) {
            ret = M->t_void;
        } else if (ft->nresults == 1) {
            ret = cg_type(M, ft->types[ft->nparams]);
        } else {
            LLVMTypeRef rt[ft->nresults];
            for (uint32_t k = 0; k < ft->nresults; k++)
                rt[k] = cg_type(M, ft->types[ft->nparams + k]);
            ret = A->StructTypeInContext(M->ctx, rt, ft->nresults, 0);
        }
        M->ret_types[i] = ret;
        M->fn_types[i] = A->FunctionType(ret, params, ft->nparams + 1, 0);
    }
    M->fns = wb_calloc(m->nfunc_decls + 1, sizeof *M->fns);
    for (uint32_t i = 0; i < m->nfunc_decls; i++) {
        char name[32];
        snprintf(name, sizeof name, "wf%u", m->nimported_funcs + i);
        LLVMValueRef fn = A->AddFunction(M->mod, name, M->fn_types[m->funcs[i].type_index]);
        if (M->owner) {
            /* partitions call each other's functions: the joined object binds them by name */
            A->SetLinkage(fn, LLVMExternalLinkage);
            A->SetVisibility(fn, LLVMHiddenVisibility);
        } else if (reachable_from_outside(m, m->nimported_funcs + i)) {
            /* the runtime calls it through wb_func.native with exactly its wasm signature: the
             * optimiser must not change it (dead-argument elimination would, internally) */
            A->SetLinkage(fn, LLVMExternalLinkage);
            A->SetVisibility(fn, LLVMHiddenVisibility);
        } else {
            A->SetLinkage(fn, LLVMInternalLinkage);
        }
        A->SetFunctionCallConv(fn, LLVMFastCallConv);
        A->AddTargetDependentFunctionAttr(fn, "frame-pointer", "all");
        M->fns[i] = fn;
    }
    for (uint32_t i = 0; i < m->nfunc_decls; i++)
        if ((!M->owner || M->owner[i] == M->part) && build_function(M, i, err) < 0) return -1;
    for (uint32_t i = 0; i < m->nfunc_decls; i++)
        if ((!M->owner || M->owner[i] == M->part) &&
            reachable_from_outside(m, m->nimported_funcs + i))
            build_trampoline(M, i);
    return 0;
}
