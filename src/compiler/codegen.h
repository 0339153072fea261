/* compiler/codegen.h — Wasm to LLVM IR (internal to the compiler tier).
 *
 * One cg_module per compiled Wasm module: the LLVM module, its types and declarations. One
 * cg_func while a function body is translated: the operand stack holds LLVM values (the
 * stack machine becomes SSA at translation time), locals are allocas (promoted by the
 * optimiser), and each block/loop/if is a cg_ctrl whose branch target carries its values in
 * phi nodes. The contract with the runtime (symbols, wb_vmctx, helpers) is wasm/native.h. */
#ifndef WB_COMPILER_CODEGEN_H
#define WB_COMPILER_CODEGEN_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler/llvm_api.h"
#include "wasm/opcodes.h"
#include "wasm/module.h"
#include "wasm/native.h"
#include "wasm/reader.h"

typedef struct cg_module {
    const wb_llvm *A;
    LLVMContextRef ctx;
    LLVMModuleRef mod;
    LLVMBuilderRef b;
    const wb_module *m;
    wb_native_layout lay;
    bool bounds_checks, interruptible;
    const uint32_t *owner; /* per defined function: its partition; NULL when there is one */
    uint32_t part;         /* the partition this module holds */
    LLVMTypeRef t_void, t_i1, t_i8, t_i16, t_i32, t_i64, t_f32, t_f64, t_v128, t_ptr, t_pptr;
    LLVMTypeRef *fn_types;  /* per type index: fastcc (vmctx, params...) -> results */
    LLVMTypeRef *ret_types; /* per type index: void, T or {T...} */
    LLVMTypeRef tramp_type; /* void (ptr vmctx, ptr fp) */
    LLVMValueRef *fns;      /* per defined function: "wf<i>" */
    unsigned md_invariant;  /* metadata kind id of !invariant.load */
    LLVMValueRef md_empty;
} cg_module;

enum { CG_BLOCK, CG_LOOP, CG_IF, CG_FUNC };

typedef struct cg_ctrl {
    uint8_t kind;
    bool dead_entry; /* entered in unreachable code: nothing is emitted for it */
    bool has_else;   /* an `if` whose else arm started */
    uint32_t height; /* operand stack height below the params */
    uint32_t nparams, nresults;
    const uint8_t *ptypes, *rtypes;
    LLVMBasicBlockRef target;  /* where br goes: loop header, else the end */
    LLVMBasicBlockRef end;     /* where the fallthrough goes */
    LLVMBasicBlockRef else_bb; /* if */
    LLVMValueRef *phis;        /* at target: loop params, else results */
    LLVMValueRef *end_phis;    /* loops: result phis at end */
    LLVMValueRef *if_params;   /* if: the params, to start the else arm with */
    uint32_t nbranches;        /* edges into end so far */
} cg_ctrl;

typedef struct cg_func {
    cg_module *M;
    uint32_t index; /* function index (imports included) */
    const wb_functype *type;
    LLVMValueRef fn, vmctx;
    LLVMValueRef *locals; /* allocas */
    uint8_t *local_types;
    uint32_t nlocals;                /* params + declared */
    LLVMValueRef mem_base, mem_size; /* allocas holding memory 0's base and size */
    LLVMValueRef slots;              /* alloca of slot_count i64: arguments of slow calls */
    uint32_t slot_count;
    LLVMValueRef *stack;
    uint32_t sp, stack_cap;
    cg_ctrl *ctrl;
    uint32_t nctrl, ctrl_cap;
    bool dead;
    LLVMBasicBlockRef entry;
    LLVMBasicBlockRef trap_bb[WB_TRAP_KIND_COUNT]; /* one trapping block per kind, made lazily */
    char *err; /* first failure (static or owned by nothing: a literal) */
} cg_func;

/* Values. */
LLVMTypeRef cg_type(cg_module *M, uint8_t wasm_type);
void cg_push(cg_func *F, LLVMValueRef v);
LLVMValueRef cg_pop(cg_func *F);
LLVMValueRef cg_const_i32(cg_module *M, uint32_t v);
LLVMValueRef cg_const_i64(cg_module *M, uint64_t v);
LLVMValueRef cg_zero(cg_module *M, uint8_t wasm_type);

/* vmctx access: a pointer-sized field (invariant load), a byte offset from a pointer. */
LLVMValueRef cg_gep(cg_func *F, LLVMValueRef base, uint32_t off);
LLVMValueRef cg_load_at(cg_func *F, LLVMTypeRef t, LLVMValueRef base, uint32_t off, bool inv);
LLVMValueRef cg_vm_field(cg_func *F, uint32_t off);
LLVMValueRef cg_intrinsic(cg_module *M, const char *name, LLVMTypeRef ret, LLVMTypeRef *params,
                          unsigned n);
LLVMValueRef cg_call_intrinsic(cg_func *F, const char *name, LLVMTypeRef ret, LLVMValueRef *args,
                               unsigned n);

/* Traps and helpers. */
void cg_trap(cg_func *F, wb_trap_kind kind);
void cg_trap_if(cg_func *F, LLVMValueRef cond, wb_trap_kind kind);
LLVMValueRef cg_helper(cg_func *F, enum wb_native_helper h, LLVMTypeRef ret, LLVMValueRef *args,
                       unsigned n);
void cg_reload_memory(cg_func *F);

/* codegen_ops.c: numeric, conversion, memory and variable instructions. Each returns false if
 * the opcode is not one it handles. */
bool cg_numeric(cg_func *F, uint8_t op);
bool cg_fc_numeric(cg_func *F, uint32_t sub);
bool cg_memory_access(cg_func *F, uint8_t op, uint32_t offset);
void cg_memory_size(cg_func *F);
LLVMValueRef cg_address(cg_func *F, LLVMValueRef idx, uint32_t offset, uint32_t size);

/* codegen_simd.c: 0xFD instructions; false with F->err set when not supported. */
bool cg_simd(cg_func *F, uint32_t sub, wb_reader *r);

/* The module: declarations, every function body, trampolines. Returns 0 or -1 with err. */
int cg_module_build(cg_module *M, wb_error *err);

#endif
