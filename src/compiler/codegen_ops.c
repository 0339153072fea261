/* Wasm to LLVM IR: numeric instructions, conversions and memory accesses, with the spec's traps
 * made explicit (division by zero, overflow, invalid conversions; out-of-bounds accesses where
 * memories are bounds-checked — guarded memories fault instead). */
#include <stdio.h>
#include <string.h>

#include "compiler/codegen.h"

#define LB (F->M->b)
#define LA (F->M->A)
#define LM (F->M)

static void push_bool(cg_func *F, LLVMValueRef i1) {
    cg_push(F, LA->BuildZExt(LB, i1, LM->t_i32, ""));
}

static LLVMValueRef icmp(cg_func *F, LLVMIntPredicate p, LLVMValueRef x, LLVMValueRef y) {
    return LA->BuildICmp(LB, p, x, y, "");
}
static LLVMValueRef fcmp(cg_func *F, LLVMRealPredicate p, LLVMValueRef x, LLVMValueRef y) {
    return LA->BuildFCmp(LB, p, x, y, "");
}

/* v, hidden from the optimiser (an empty asm returning its input in an SSE register): keeps it
 * from folding x - 0.0, x * 1.0, x / 1.0, demote(promote(x)) and the like to x, which would
 * let a signalling NaN through where the spec wants it quieted. */
static LLVMValueRef opaque(cg_func *F, LLVMValueRef v) {
    LLVMTypeRef t = LA->TypeOf(v);
    LLVMTypeRef ft = LA->FunctionType(t, &t, 1, 0);
    LLVMValueRef asm_ = LA->GetInlineAsm(ft, "", 0, "=x,0", 4, 0, 0, LLVMInlineAsmDialectATT, 0);
    return LA->BuildCall2(LB, ft, asm_, &v, 1, "");
}

static bool is_identity_const(cg_func *F, LLVMValueRef v) {
    if (!LA->IsAConstantFP(v)) return false;
    LLVMBool loses;
    double d = LA->ConstRealGetDouble(v, &loses);
    return d == 0.0 || d == 1.0 || d == -1.0;
}

static LLVMValueRef iconst(cg_func *F, LLVMTypeRef t, uint64_t v) {
    return LA->ConstInt(t, v, 0);
}

/* llvm.<base>.<type of args[0]> on n args, returning that type. */
static LLVMValueRef typed_intr(cg_func *F, const char *base, LLVMValueRef *args, unsigned n) {
    char name[64];
    LLVMTypeRef t = LA->TypeOf(args[0]);
    const char *suffix = t == LM->t_i32   ? "i32"
                         : t == LM->t_i64 ? "i64"
                         : t == LM->t_f32 ? "f32"
                                          : "f64";
    snprintf(name, sizeof name, "%s.%s", base, suffix);
    return cg_call_intrinsic(F, name, t, args, n);
}

/* ctlz/cttz take "is zero poison": false (wasm defines them at 0). */
static LLVMValueRef unary_intr(cg_func *F, const char *base, LLVMValueRef x, bool with_flag) {
    LLVMValueRef args[2] = {x, LA->ConstInt(LM->t_i1, 0, 0)};
    return typed_intr(F, base, args, with_flag ? 2 : 1);
}

static LLVMValueRef binary_intr(cg_func *F, const char *base, LLVMValueRef x, LLVMValueRef y,
                                LLVMValueRef z) {
    LLVMValueRef args[3] = {x, y, z};
    return typed_intr(F, base, args, z ? 3 : 2);
}

/* Division and remainder with the spec's traps; x86's idiv faults on INT_MIN / -1, so rem_s of
 * -1 is 0 without dividing. */
static LLVMValueRef divrem(cg_func *F, uint8_t kind, LLVMValueRef x, LLVMValueRef y) {
    LLVMTypeRef t = LA->TypeOf(x);
    unsigned bits = t == LM->t_i32 ? 32 : 64;
    LLVMValueRef zero = iconst(F, t, 0), minus1 = LA->ConstAllOnes(t);
    cg_trap_if(F, icmp(F, LLVMIntEQ, y, zero), WB_TRAP_DIV_ZERO);
    switch (kind) {
    case 0: { /* div_s */
        LLVMValueRef min = iconst(F, t, (uint64_t)1 << (bits - 1));
        LLVMValueRef ovf =
            LA->BuildAnd(LB, icmp(F, LLVMIntEQ, x, min), icmp(F, LLVMIntEQ, y, minus1), "");
        cg_trap_if(F, ovf, WB_TRAP_INT_OVERFLOW);
        return LA->BuildSDiv(LB, x, y, "");
    }
    case 1: return LA->BuildUDiv(LB, x, y, "");
    case 2: { /* rem_s */
        LLVMValueRef is_m1 = icmp(F, LLVMIntEQ, y, minus1);
        LLVMValueRef safe_y = LA->BuildSelect(LB, is_m1, iconst(F, t, 1), y, "");
        return LA->BuildSelect(LB, is_m1, zero, LA->BuildSRem(LB, x, safe_y, ""), "");
    }
    default: return LA->BuildURem(LB, x, y, "");
    }
}

static LLVMValueRef shift_count(cg_func *F, LLVMValueRef n) {
    LLVMTypeRef t = LA->TypeOf(n);
    return LA->BuildAnd(LB, n, iconst(F, t, t == LM->t_i32 ? 31 : 63), "");
}

/* min/max as the spec says: NaN if either is NaN, -0 below +0. */
static LLVMValueRef fminmax(cg_func *F, bool is_max, LLVMValueRef x, LLVMValueRef y) {
    LLVMTypeRef t = LA->TypeOf(x);
    LLVMTypeRef it = t == LM->t_f32 ? LM->t_i32 : LM->t_i64;
    LLVMValueRef unord = fcmp(F, LLVMRealUNO, x, y);
    LLVMValueRef nan = LA->BuildFAdd(LB, x, y, "");
    LLVMValueRef eq = fcmp(F, LLVMRealOEQ, x, y);
    LLVMValueRef xi = LA->BuildBitCast(LB, x, it, ""), yi = LA->BuildBitCast(LB, y, it, "");
    LLVMValueRef same = is_max ? LA->BuildAnd(LB, xi, yi, "") : LA->BuildOr(LB, xi, yi, "");
    same = LA->BuildBitCast(LB, same, t, "");
    LLVMValueRef pick = fcmp(F, is_max ? LLVMRealOGT : LLVMRealOLT, x, y);
    LLVMValueRef r = LA->BuildSelect(LB, pick, x, y, "");
    r = LA->BuildSelect(LB, eq, same, r, "");
    return LA->BuildSelect(LB, unord, nan, r, "");
}

/* Trapping float-to-int: NaN is an invalid conversion, out of range an overflow. lo and hi are
 * exclusive bounds. */
static LLVMValueRef trunc_checked(cg_func *F, LLVMValueRef x, LLVMTypeRef to, bool sign, double lo,
                                  double hi) {
    LLVMTypeRef ft = LA->TypeOf(x);
    cg_trap_if(F, fcmp(F, LLVMRealUNO, x, x), WB_TRAP_INVALID_CONVERSION);
    LLVMValueRef out = LA->BuildOr(LB, fcmp(F, LLVMRealOLE, x, LA->ConstReal(ft, lo)),
                                   fcmp(F, LLVMRealOGE, x, LA->ConstReal(ft, hi)), "");
    cg_trap_if(F, out, WB_TRAP_INT_OVERFLOW);
    return sign ? LA->BuildFPToSI(LB, x, to, "") : LA->BuildFPToUI(LB, x, to, "");
}

static LLVMValueRef trunc_sat(cg_func *F, LLVMValueRef x, LLVMTypeRef to, bool sign) {
    char name[64];
    strcpy(name, sign ? "llvm.fptosi.sat." : "llvm.fptoui.sat.");
    strcat(name, to == LM->t_i32 ? "i32." : "i64.");
    strcat(name, LA->TypeOf(x) == LM->t_f32 ? "f32" : "f64");
    return cg_call_intrinsic(F, name, to, &x, 1);
}

bool cg_fc_numeric(cg_func *F, uint32_t sub) {
    LLVMValueRef x = cg_pop(F);
    LLVMTypeRef to = sub < 4 ? LM->t_i32 : LM->t_i64;
    cg_push(F, trunc_sat(F, x, to, (sub & 1) == 0));
    return true;
}

static bool unop(cg_func *F, uint8_t op, LLVMValueRef x) {
    LLVMValueRef r;
    const double two31 = 2147483648.0, two32 = 4294967296.0, two63 = 9223372036854775808.0,
                 two64 = 18446744073709551616.0;
    switch (op) {
    case 0x45:
    case 0x50: push_bool(F, icmp(F, LLVMIntEQ, x, iconst(F, LA->TypeOf(x), 0))); return true;
    case 0x67:
    case 0x79: r = unary_intr(F, "llvm.ctlz", x, true); break;
    case 0x68:
    case 0x7a: r = unary_intr(F, "llvm.cttz", x, true); break;
    case 0x69:
    case 0x7b: r = unary_intr(F, "llvm.ctpop", x, false); break;
    case 0x8b:
    case 0x99: r = unary_intr(F, "llvm.fabs", x, false); break;
    case 0x8c:
    case 0x9a: r = LA->BuildFNeg(LB, x, ""); break;
    case 0x8d:
    case 0x9b: r = unary_intr(F, "llvm.ceil", x, false); break;
    case 0x8e:
    case 0x9c: r = unary_intr(F, "llvm.floor", x, false); break;
    case 0x8f:
    case 0x9d: r = unary_intr(F, "llvm.trunc", x, false); break;
    case 0x90:
    case 0x9e: r = unary_intr(F, "llvm.nearbyint", x, false); break;
    case 0x91:
    case 0x9f: r = unary_intr(F, "llvm.sqrt", x, false); break;
    case 0xa7: r = LA->BuildTrunc(LB, x, LM->t_i32, ""); break;
    /* trapping truncations: the bounds are the nearest invalid values of the source type */
    case 0xa8: r = trunc_checked(F, x, LM->t_i32, true, -2147483904.0, two31); break;
    case 0xa9: r = trunc_checked(F, x, LM->t_i32, false, -1.0, two32); break;
    case 0xaa: r = trunc_checked(F, x, LM->t_i32, true, -two31 - 1.0, two31); break;
    case 0xab: r = trunc_checked(F, x, LM->t_i32, false, -1.0, two32); break;
    case 0xac: r = LA->BuildSExt(LB, x, LM->t_i64, ""); break;
    case 0xad: r = LA->BuildZExt(LB, x, LM->t_i64, ""); break;
    case 0xae: r = trunc_checked(F, x, LM->t_i64, true, -9223373136366403584.0, two63); break;
    case 0xb0: r = trunc_checked(F, x, LM->t_i64, true, -9223372036854777856.0, two63); break;
    case 0xaf:
    case 0xb1: r = trunc_checked(F, x, LM->t_i64, false, -1.0, two64); break;
    case 0xb2:
    case 0xb4: r = LA->BuildSIToFP(LB, x, LM->t_f32, ""); break;
    case 0xb3:
    case 0xb5: r = LA->BuildUIToFP(LB, x, LM->t_f32, ""); break;
    case 0xb6:
        if (LA->IsAFPExtInst(x)) x = opaque(F, x);
        r = LA->BuildFPTrunc(LB, x, LM->t_f32, "");
        break;
    case 0xb7:
    case 0xb9: r = LA->BuildSIToFP(LB, x, LM->t_f64, ""); break;
    case 0xb8:
    case 0xba: r = LA->BuildUIToFP(LB, x, LM->t_f64, ""); break;
    case 0xbb: r = LA->BuildFPExt(LB, x, LM->t_f64, ""); break;
    case 0xbc: r = LA->BuildBitCast(LB, x, LM->t_i32, ""); break;
    case 0xbd: r = LA->BuildBitCast(LB, x, LM->t_i64, ""); break;
    case 0xbe: r = LA->BuildBitCast(LB, x, LM->t_f32, ""); break;
    case 0xbf: r = LA->BuildBitCast(LB, x, LM->t_f64, ""); break;
    case 0xc0:
    case 0xc2: r = LA->BuildSExt(LB, LA->BuildTrunc(LB, x, LM->t_i8, ""), LA->TypeOf(x), ""); break;
    case 0xc1:
    case 0xc3:
        r = LA->BuildSExt(LB, LA->BuildTrunc(LB, x, LM->t_i16, ""), LA->TypeOf(x), "");
        break;
    case 0xc4: r = LA->BuildSExt(LB, LA->BuildTrunc(LB, x, LM->t_i32, ""), LM->t_i64, ""); break;
    default: return false;
    }
    cg_push(F, r);
    return true;
}

static bool binop(cg_func *F, uint8_t op, LLVMValueRef x, LLVMValueRef y) {
    LLVMValueRef r;
    /* i32 and i64 share an order: the i64 opcode is the i32 one plus 0x12 (0x46..0x4f/0x51..0x5a)
     * or 0x12 (0x6a..0x78 / 0x7c..0x8a) */
    uint8_t iop = op;
    if (op >= 0x51 && op <= 0x5a) iop = (uint8_t)(op - 0x0b);
    if (op >= 0x7c && op <= 0x8a) iop = (uint8_t)(op - 0x12);
    uint8_t fop = op;
    if (op >= 0x61 && op <= 0x66) fop = (uint8_t)(op - 6);
    if (op >= 0xa0 && op <= 0xa6) fop = (uint8_t)(op - 0x0e);
    switch (iop) {
    case 0x46: push_bool(F, icmp(F, LLVMIntEQ, x, y)); return true;
    case 0x47: push_bool(F, icmp(F, LLVMIntNE, x, y)); return true;
    case 0x48: push_bool(F, icmp(F, LLVMIntSLT, x, y)); return true;
    case 0x49: push_bool(F, icmp(F, LLVMIntULT, x, y)); return true;
    case 0x4a: push_bool(F, icmp(F, LLVMIntSGT, x, y)); return true;
    case 0x4b: push_bool(F, icmp(F, LLVMIntUGT, x, y)); return true;
    case 0x4c: push_bool(F, icmp(F, LLVMIntSLE, x, y)); return true;
    case 0x4d: push_bool(F, icmp(F, LLVMIntULE, x, y)); return true;
    case 0x4e: push_bool(F, icmp(F, LLVMIntSGE, x, y)); return true;
    case 0x4f: push_bool(F, icmp(F, LLVMIntUGE, x, y)); return true;
    case 0x6a: r = LA->BuildAdd(LB, x, y, ""); break;
    case 0x6b: r = LA->BuildSub(LB, x, y, ""); break;
    case 0x6c: r = LA->BuildMul(LB, x, y, ""); break;
    case 0x6d: r = divrem(F, 0, x, y); break;
    case 0x6e: r = divrem(F, 1, x, y); break;
    case 0x6f: r = divrem(F, 2, x, y); break;
    case 0x70: r = divrem(F, 3, x, y); break;
    case 0x71: r = LA->BuildAnd(LB, x, y, ""); break;
    case 0x72: r = LA->BuildOr(LB, x, y, ""); break;
    case 0x73: r = LA->BuildXor(LB, x, y, ""); break;
    case 0x74: r = LA->BuildShl(LB, x, shift_count(F, y), ""); break;
    case 0x75: r = LA->BuildAShr(LB, x, shift_count(F, y), ""); break;
    case 0x76: r = LA->BuildLShr(LB, x, shift_count(F, y), ""); break;
    case 0x77: r = binary_intr(F, "llvm.fshl", x, x, y); break;
    case 0x78: r = binary_intr(F, "llvm.fshr", x, x, y); break;
    default:
        if (fop >= 0x92 && fop <= 0x95) {
            if (is_identity_const(F, x)) x = opaque(F, x);
            if (is_identity_const(F, y)) y = opaque(F, y);
        }
        switch (fop) {
        case 0x5b: push_bool(F, fcmp(F, LLVMRealOEQ, x, y)); return true;
        case 0x5c: push_bool(F, fcmp(F, LLVMRealUNE, x, y)); return true;
        case 0x5d: push_bool(F, fcmp(F, LLVMRealOLT, x, y)); return true;
        case 0x5e: push_bool(F, fcmp(F, LLVMRealOGT, x, y)); return true;
        case 0x5f: push_bool(F, fcmp(F, LLVMRealOLE, x, y)); return true;
        case 0x60: push_bool(F, fcmp(F, LLVMRealOGE, x, y)); return true;
        case 0x92: r = LA->BuildFAdd(LB, x, y, ""); break;
        case 0x93: r = LA->BuildFSub(LB, x, y, ""); break;
        case 0x94: r = LA->BuildFMul(LB, x, y, ""); break;
        case 0x95: r = LA->BuildFDiv(LB, x, y, ""); break;
        case 0x96: r = fminmax(F, false, x, y); break;
        case 0x97: r = fminmax(F, true, x, y); break;
        case 0x98: r = binary_intr(F, "llvm.copysign", x, y, NULL); break;
        default: return false;
        }
    }
    cg_push(F, r);
    return true;
}

bool cg_numeric(cg_func *F, uint8_t op) {
    switch (op) {
#define NUM_UNARY(opc, NAME, a, b, r) WB_NUM_CASE_##b(opc)
#define WB_NUM_CASE_NONE(opc)         case opc:
#define WB_NUM_CASE_I32(opc)
#define WB_NUM_CASE_I64(opc)
#define WB_NUM_CASE_F32(opc)
#define WB_NUM_CASE_F64(opc)
        WB_NUMERIC_OPS(NUM_UNARY)
        return unop(F, op, cg_pop(F));
#undef NUM_UNARY
#define NUM_BINARY(opc, NAME, a, b, r) WB_NUM_BCASE_##b(opc)
#define WB_NUM_BCASE_NONE(opc)
#define WB_NUM_BCASE_I32(opc) case opc:
#define WB_NUM_BCASE_I64(opc) case opc:
#define WB_NUM_BCASE_F32(opc) case opc:
#define WB_NUM_BCASE_F64(opc) case opc:
        WB_NUMERIC_OPS(NUM_BINARY) {
            LLVMValueRef y = cg_pop(F), x = cg_pop(F);
            return binop(F, op, x, y);
        }
#undef NUM_BINARY
    default: return false;
    }
}

/* ---- memory ---- */

/* The address of `size` bytes at idx + offset in memory 0, checked where memories are. */
LLVMValueRef cg_address(cg_func *F, LLVMValueRef idx, uint32_t offset, uint32_t size) {
    LLVMValueRef ea = LA->BuildZExt(LB, idx, LM->t_i64, "");
    if (offset) ea = LA->BuildAdd(LB, ea, cg_const_i64(LM, offset), "");
    if (LM->bounds_checks) {
        LLVMValueRef end = LA->BuildAdd(LB, ea, cg_const_i64(LM, size), "");
        LLVMValueRef msize = LA->BuildLoad2(LB, LM->t_i64, F->mem_size, "");
        cg_trap_if(F, icmp(F, LLVMIntUGT, end, msize), WB_TRAP_MEMORY_OOB);
    }
    LLVMValueRef base = LA->BuildLoad2(LB, LM->t_ptr, F->mem_base, "");
    return LA->BuildGEP2(LB, LM->t_i8, base, &ea, 1, "");
}

bool cg_memory_access(cg_func *F, uint8_t op, uint32_t offset) {
    LLVMTypeRef vt, mt;
    bool sign = false, store;
    switch (op) {
#define MEM_CASE(opc, NAME, t, lg, st)                                                             \
    case opc: store = st; break;
        WB_MEMORY_OPS(MEM_CASE)
#undef MEM_CASE
    default: return false;
    }
    unsigned lg = 0;
    switch (op) {
#define MEM_LG(opc, NAME, t, l, st)                                                                \
    case opc:                                                                                      \
        lg = l;                                                                                    \
        vt = LM->t_##t;                                                                            \
        break;
#define t_I32 t_i32
#define t_I64 t_i64
#define t_F32 t_f32
#define t_F64 t_f64
        WB_MEMORY_OPS(MEM_LG)
#undef MEM_LG
    default: return false;
    }
    static const uint8_t signed_loads[] = {0x2c, 0x2e, 0x30, 0x32, 0x34};
    for (size_t i = 0; i < sizeof signed_loads; i++)
        if (op == signed_loads[i]) sign = true;
    unsigned size = 1u << lg;
    bool narrow = (vt == LM->t_i32 && size < 4) || (vt == LM->t_i64 && size < 8);
    mt = narrow ? (size == 1 ? LM->t_i8 : size == 2 ? LM->t_i16 : LM->t_i32) : vt;
    LLVMValueRef val = store ? cg_pop(F) : NULL;
    LLVMValueRef p = cg_address(F, cg_pop(F), offset, size);
    p = LA->BuildBitCast(LB, p, LA->PointerType(mt, 0), "");
    if (store) {
        if (narrow) val = LA->BuildTrunc(LB, val, mt, "");
        LLVMValueRef st = LA->BuildStore(LB, val, p);
        LA->SetAlignment(st, 1);
        return true;
    }
    LLVMValueRef v = LA->BuildLoad2(LB, mt, p, "");
    LA->SetAlignment(v, 1);
    if (narrow) v = sign ? LA->BuildSExt(LB, v, vt, "") : LA->BuildZExt(LB, v, vt, "");
    cg_push(F, v);
    return true;
}

void cg_memory_size(cg_func *F) {
    LLVMValueRef size = LA->BuildLoad2(LB, LM->t_i64, F->mem_size, "");
    size = LA->BuildLShr(LB, size, cg_const_i64(LM, 16), "");
    cg_push(F, LA->BuildTrunc(LB, size, LM->t_i32, ""));
}
