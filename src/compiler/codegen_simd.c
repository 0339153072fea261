/* Wasm to LLVM IR: 0xFD (SIMD) instructions. A v128 is <2 x i64> wherever it is stored or
 * passed; each instruction bitcasts its operands to the lane shape it works on and its result
 * back. Generic vector IR where LLVM lowers it to the spec's semantics; x86 intrinsics where one
 * instruction is the spec's operation (pshufb, pmaddwd, pmulhrsw) or where generic IR would be
 * poison out of range (cvttps2dq). The code needs SSSE3 (pshufb, pmulhrsw: LLVM cannot select
 * them below it) and is tuned for SSE4.1 and up. Float results follow the interpreter
 * (interp_simd_ops.h): NaNs from arithmetic are quieted, min/max order -0 below +0. */
#include <stdio.h>
#include <string.h>

#include "compiler/codegen.h"

#define LB (F->M->b)
#define LA (F->M->A)
#define LM (F->M)

/* Lane shapes. */
enum { S_I8, S_I16, S_I32, S_I64, S_F32, S_F64 };

static const unsigned lane_count[] = {16, 8, 4, 2, 4, 2};
static const unsigned lane_bits[] = {8, 16, 32, 64, 32, 64};
static const char *const shape_suffix[] = {"v16i8", "v8i16", "v4i32", "v2i64", "v4f32", "v2f64"};

static LLVMTypeRef lane_type(cg_func *F, int s) {
    switch (s) {
    case S_I8: return LM->t_i8;
    case S_I16: return LM->t_i16;
    case S_I32: return LM->t_i32;
    case S_I64: return LM->t_i64;
    case S_F32: return LM->t_f32;
    default: return LM->t_f64;
    }
}

static LLVMTypeRef vec_type(cg_func *F, int s) {
    return LA->VectorType(lane_type(F, s), lane_count[s]);
}

/* A vector of n lanes of t (for halves and masks). */
static LLVMTypeRef vec_n(cg_func *F, LLVMTypeRef t, unsigned n) {
    return LA->VectorType(t, n);
}

static LLVMValueRef as(cg_func *F, LLVMValueRef v, int s) {
    return LA->BuildBitCast(LB, v, vec_type(F, s), "");
}

static LLVMValueRef pop_as(cg_func *F, int s) {
    return as(F, cg_pop(F), s);
}

static void push_v(cg_func *F, LLVMValueRef v) {
    cg_push(F, LA->BuildBitCast(LB, v, LM->t_v128, ""));
}

/* ---- constants ---- */

/* n lanes of the integer type t, each v */
static LLVMValueRef const_lanes(cg_func *F, LLVMTypeRef t, unsigned n, uint64_t v) {
    LLVMValueRef lanes[16];
    for (unsigned i = 0; i < n; i++) lanes[i] = LA->ConstInt(t, v, 0);
    return LA->ConstVector(lanes, n);
}

static LLVMValueRef splat_int(cg_func *F, int s, uint64_t v) {
    return const_lanes(F, lane_type(F, s), lane_count[s], v);
}

static LLVMValueRef splat_real(cg_func *F, int s, double v) {
    LLVMValueRef lanes[4];
    for (unsigned i = 0; i < lane_count[s]; i++) lanes[i] = LA->ConstReal(lane_type(F, s), v);
    return LA->ConstVector(lanes, lane_count[s]);
}

/* A shufflevector mask: lanes first, first + step, ... (n of them). */
static LLVMValueRef mask_seq(cg_func *F, unsigned n, unsigned first, unsigned step) {
    LLVMValueRef m[16];
    for (unsigned i = 0; i < n; i++) m[i] = cg_const_i32(LM, first + i * step);
    return LA->ConstVector(m, n);
}

static LLVMValueRef shuffle(cg_func *F, LLVMValueRef a, LLVMValueRef b, LLVMValueRef mask) {
    return LA->BuildShuffleVector(LB, a, b ? b : LA->GetUndef(LA->TypeOf(a)), mask, "");
}

/* The scalar x in every lane of shape s. */
static LLVMValueRef splat(cg_func *F, int s, LLVMValueRef x) {
    LLVMTypeRef vt = vec_type(F, s);
    LLVMValueRef v = LA->BuildInsertElement(LB, LA->GetUndef(vt), x, cg_const_i32(LM, 0), "");
    return shuffle(F, v, NULL, LA->ConstNull(vec_n(F, LM->t_i32, lane_count[s])));
}

/* ---- helpers shared by the groups below ---- */

/* llvm.<base>.<shape suffix>, returning shape s */
static LLVMValueRef vintr(cg_func *F, const char *base, int s, LLVMValueRef *args, unsigned n) {
    char name[64];
    strcpy(name, base);
    strcat(name, ".");
    strcat(name, shape_suffix[s]);
    return cg_call_intrinsic(F, name, vec_type(F, s), args, n);
}

static LLVMValueRef x86(cg_func *F, const char *name, int ret, LLVMValueRef a, LLVMValueRef b) {
    LLVMValueRef args[2] = {a, b};
    return cg_call_intrinsic(F, name, vec_type(F, ret), args, b ? 2 : 1);
}

/* v, hidden from the optimiser (an empty asm returning its input in an SSE register): keeps LLVM
 * from folding x + -0.0, x * 1.0, sqrt(constant), demote(promote(x)) and the like, which would
 * let a signalling NaN through where the spec wants it quieted (as opaque() in codegen_ops.c). */
static LLVMValueRef opaque(cg_func *F, LLVMValueRef v) {
    LLVMTypeRef t = LA->TypeOf(v);
    LLVMTypeRef ft = LA->FunctionType(t, &t, 1, 0);
    LLVMValueRef asm_ = LA->GetInlineAsm(ft, "", 0, "=x,0", 4, 0, 0, LLVMInlineAsmDialectATT, 0);
    return LA->BuildCall2(LB, ft, asm_, &v, 1, "");
}

static LLVMValueRef opaque_const(cg_func *F, LLVMValueRef v) {
    return LA->IsConstant(v) ? opaque(F, v) : v;
}

/* The low (or high) half of the lanes of v (shape s), as a vector of half as many lanes. */
static LLVMValueRef half(cg_func *F, LLVMValueRef v, int s, bool high) {
    unsigned n = lane_count[s] / 2;
    return shuffle(F, v, NULL, mask_seq(F, n, high ? n : 0, 1));
}

/* Half of the lanes of v (integer shape s), widened to shape s + 1. */
static LLVMValueRef extend(cg_func *F, LLVMValueRef v, int s, bool high, bool sign) {
    LLVMValueRef h = half(F, v, s, high);
    return sign ? LA->BuildSExt(LB, h, vec_type(F, s + 1), "")
                : LA->BuildZExt(LB, h, vec_type(F, s + 1), "");
}

static LLVMValueRef sext_mask(cg_func *F, LLVMValueRef i1v, int s) {
    return LA->BuildSExt(LB, i1v, vec_type(F, s), "");
}

static void push_i32_of_i1(cg_func *F, LLVMValueRef b) {
    cg_push(F, LA->BuildZExt(LB, b, LM->t_i32, ""));
}

/* ---- memory ---- */

/* A pointer to `size` bytes at the popped address + offset, for a value of type t. */
static LLVMValueRef mem_ptr(cg_func *F, LLVMValueRef idx, uint32_t offset, uint32_t size,
                            LLVMTypeRef t) {
    LLVMValueRef p = cg_address(F, idx, offset, size);
    return LA->BuildBitCast(LB, p, LA->PointerType(t, 0), "");
}

static LLVMValueRef load1(cg_func *F, LLVMTypeRef t, LLVMValueRef p) {
    LLVMValueRef v = LA->BuildLoad2(LB, t, p, "");
    LA->SetAlignment(v, 1);
    return v;
}

static void store1(cg_func *F, LLVMValueRef v, LLVMValueRef p) {
    LLVMValueRef st = LA->BuildStore(LB, v, p);
    LA->SetAlignment(st, 1);
}

static bool simd_memory(cg_func *F, uint32_t sub, wb_reader *r) {
    uint32_t align, offset;
    wb__rd_memarg(r, &align, &offset);
    if (sub == 0x0b) { /* v128.store */
        LLVMValueRef v = cg_pop(F), idx = cg_pop(F);
        store1(F, v, mem_ptr(F, idx, offset, 16, LM->t_v128));
        return true;
    }
    LLVMValueRef idx = cg_pop(F);
    switch (sub) {
    case 0x00: /* v128.load */
        cg_push(F, load1(F, LM->t_v128, mem_ptr(F, idx, offset, 16, LM->t_v128)));
        return true;
    case 0x01:
    case 0x02:
    case 0x03:
    case 0x04:
    case 0x05:
    case 0x06: { /* load 8x8, 16x4, 32x2: 8 bytes, each lane widened */
        int s = (int)(sub - 1) / 2;
        bool sign = (sub & 1) != 0;
        LLVMTypeRef ht = vec_n(F, lane_type(F, s), lane_count[s] / 2);
        LLVMValueRef v = load1(F, ht, mem_ptr(F, idx, offset, 8, ht));
        v = sign ? LA->BuildSExt(LB, v, vec_type(F, s + 1), "")
                 : LA->BuildZExt(LB, v, vec_type(F, s + 1), "");
        push_v(F, v);
        return true;
    }
    case 0x07:
    case 0x08:
    case 0x09:
    case 0x0a: { /* load splat */
        int s = (int)(sub - 0x07);
        LLVMTypeRef t = lane_type(F, s);
        LLVMValueRef x = load1(F, t, mem_ptr(F, idx, offset, lane_bits[s] / 8, t));
        push_v(F, splat(F, s, x));
        return true;
    }
    case 0x5c:
    case 0x5d: { /* load32_zero, load64_zero */
        int s = sub == 0x5c ? S_I32 : S_I64;
        LLVMTypeRef t = lane_type(F, s);
        LLVMValueRef x = load1(F, t, mem_ptr(F, idx, offset, lane_bits[s] / 8, t));
        LLVMValueRef v =
            LA->BuildInsertElement(LB, LA->ConstNull(vec_type(F, s)), x, cg_const_i32(LM, 0), "");
        push_v(F, v);
        return true;
    }
    default: return false;
    }
}

static bool simd_lane_memory(cg_func *F, uint32_t sub, wb_reader *r) {
    uint32_t align, offset;
    uint8_t lane;
    wb__rd_memarg(r, &align, &offset);
    wb__rd_u8(r, &lane);
    int s = (int)((sub - 0x54) & 3);
    bool store = sub >= 0x58;
    LLVMTypeRef t = lane_type(F, s);
    LLVMValueRef v = pop_as(F, s), idx = cg_pop(F);
    LLVMValueRef p = mem_ptr(F, idx, offset, lane_bits[s] / 8, t);
    LLVMValueRef li = cg_const_i32(LM, lane);
    if (store) {
        store1(F, LA->BuildExtractElement(LB, v, li, ""), p);
        return true;
    }
    push_v(F, LA->BuildInsertElement(LB, v, load1(F, t, p), li, ""));
    return true;
}

/* ---- constants, shuffles, splats, lanes ---- */

static bool simd_const_shuffle(cg_func *F, uint32_t sub, wb_reader *r) {
    const uint8_t *bytes;
    wb__rd_bytes(r, 16, &bytes);
    if (sub == WB_SIMD_V128_CONST) {
        uint64_t lo = 0, hi = 0;
        for (int i = 7; i >= 0; i--) {
            lo = lo << 8 | bytes[i];
            hi = hi << 8 | bytes[8 + i];
        }
        LLVMValueRef lanes[2] = {cg_const_i64(LM, lo), cg_const_i64(LM, hi)};
        cg_push(F, LA->ConstVector(lanes, 2));
        return true;
    }
    LLVMValueRef b = pop_as(F, S_I8), a = pop_as(F, S_I8);
    LLVMValueRef m[16];
    for (int i = 0; i < 16; i++) m[i] = cg_const_i32(LM, bytes[i] & 31);
    push_v(F, shuffle(F, a, b, LA->ConstVector(m, 16)));
    return true;
}

static bool simd_lane(cg_func *F, uint32_t sub, wb_reader *r) {
    uint8_t lane;
    wb__rd_u8(r, &lane);
    LLVMValueRef li = cg_const_i32(LM, lane);
    int s;
    bool replace = false, sign = false;
    switch (sub) {
    case 0x15: s = S_I8, sign = true; break;
    case 0x16: s = S_I8; break;
    case 0x17: s = S_I8, replace = true; break;
    case 0x18: s = S_I16, sign = true; break;
    case 0x19: s = S_I16; break;
    case 0x1a: s = S_I16, replace = true; break;
    case 0x1b: s = S_I32; break;
    case 0x1c: s = S_I32, replace = true; break;
    case 0x1d: s = S_I64; break;
    case 0x1e: s = S_I64, replace = true; break;
    case 0x1f: s = S_F32; break;
    case 0x20: s = S_F32, replace = true; break;
    case 0x21: s = S_F64; break;
    case 0x22: s = S_F64, replace = true; break;
    default: return false;
    }
    if (replace) {
        LLVMValueRef x = cg_pop(F);
        if (s == S_I8 || s == S_I16) x = LA->BuildTrunc(LB, x, lane_type(F, s), "");
        LLVMValueRef v = pop_as(F, s);
        push_v(F, LA->BuildInsertElement(LB, v, x, li, ""));
        return true;
    }
    LLVMValueRef x = LA->BuildExtractElement(LB, pop_as(F, s), li, "");
    if (s == S_I8 || s == S_I16)
        x = sign ? LA->BuildSExt(LB, x, LM->t_i32, "") : LA->BuildZExt(LB, x, LM->t_i32, "");
    cg_push(F, x);
    return true;
}

static bool simd_splat(cg_func *F, uint32_t sub) {
    static const int shapes[] = {S_I8, S_I16, S_I32, S_I64, S_F32, S_F64};
    int s = shapes[sub - 0x0f];
    LLVMValueRef x = cg_pop(F);
    if (s == S_I8 || s == S_I16) x = LA->BuildTrunc(LB, x, lane_type(F, s), "");
    push_v(F, splat(F, s, x));
    return true;
}

/* i8x16.swizzle: pshufb zeroes lanes whose index has bit 7 set; adding 0x70 with unsigned
 * saturation sets it for every index >= 16 and keeps the low four bits of 0..15 */
static bool simd_swizzle(cg_func *F) {
    LLVMValueRef s = pop_as(F, S_I8), a = pop_as(F, S_I8);
    LLVMValueRef args[2] = {s, splat_int(F, S_I8, 0x70)};
    LLVMValueRef idx = vintr(F, "llvm.uadd.sat", S_I8, args, 2);
    push_v(F, x86(F, "llvm.x86.ssse3.pshuf.b.128", S_I8, a, idx));
    return true;
}

/* ---- comparisons and bitwise ---- */

static bool simd_compare(cg_func *F, uint32_t sub) {
    static const LLVMIntPredicate ipred[] = {LLVMIntEQ,  LLVMIntNE,  LLVMIntSLT, LLVMIntULT,
                                             LLVMIntSGT, LLVMIntUGT, LLVMIntSLE, LLVMIntULE,
                                             LLVMIntSGE, LLVMIntUGE};
    static const LLVMRealPredicate fpred[] = {LLVMRealOEQ, LLVMRealUNE, LLVMRealOLT,
                                              LLVMRealOGT, LLVMRealOLE, LLVMRealOGE};
    /* i64x2: eq ne lt_s gt_s le_s ge_s */
    static const LLVMIntPredicate i64pred[] = {LLVMIntEQ,  LLVMIntNE,  LLVMIntSLT,
                                               LLVMIntSGT, LLVMIntSLE, LLVMIntSGE};
    int s;
    LLVMValueRef c;
    if (sub >= 0x23 && sub <= 0x40) {
        s = (int)(sub - 0x23) / 10;
        LLVMValueRef y = pop_as(F, s), x = pop_as(F, s);
        c = LA->BuildICmp(LB, ipred[(sub - 0x23) % 10], x, y, "");
    } else if (sub >= 0x41 && sub <= 0x4c) {
        s = sub < 0x47 ? S_F32 : S_F64;
        LLVMValueRef y = pop_as(F, s), x = pop_as(F, s);
        c = LA->BuildFCmp(LB, fpred[(sub - 0x41) % 6], x, y, "");
        s = s == S_F32 ? S_I32 : S_I64;
    } else if (sub >= 0xd6 && sub <= 0xdb) {
        s = S_I64;
        LLVMValueRef y = pop_as(F, s), x = pop_as(F, s);
        c = LA->BuildICmp(LB, i64pred[sub - 0xd6], x, y, "");
    } else {
        return false;
    }
    push_v(F, sext_mask(F, c, s));
    return true;
}

static bool simd_bitwise(cg_func *F, uint32_t sub) {
    LLVMValueRef x, y, c;
    switch (sub) {
    case 0x4d: cg_push(F, LA->BuildNot(LB, cg_pop(F), "")); return true;
    case 0x4e:
    case 0x4f:
    case 0x50:
    case 0x51:
        y = cg_pop(F), x = cg_pop(F);
        if (sub == 0x4e) cg_push(F, LA->BuildAnd(LB, x, y, ""));
        if (sub == 0x4f) cg_push(F, LA->BuildAnd(LB, x, LA->BuildNot(LB, y, ""), ""));
        if (sub == 0x50) cg_push(F, LA->BuildOr(LB, x, y, ""));
        if (sub == 0x51) cg_push(F, LA->BuildXor(LB, x, y, ""));
        return true;
    case 0x52: /* bitselect: bits of c pick x, the others y */
        c = cg_pop(F), y = cg_pop(F), x = cg_pop(F);
        cg_push(F, LA->BuildOr(LB, LA->BuildAnd(LB, x, c, ""),
                               LA->BuildAnd(LB, y, LA->BuildNot(LB, c, ""), ""), ""));
        return true;
    case 0x53: { /* any_true: the 128 bits as one integer (ptest) */
        LLVMTypeRef i128 = LA->IntTypeInContext(LM->ctx, 128);
        x = LA->BuildBitCast(LB, cg_pop(F), i128, "");
        push_i32_of_i1(F, LA->BuildICmp(LB, LLVMIntNE, x, LA->ConstNull(i128), ""));
        return true;
    }
    default: return false;
    }
}

/* ---- integer lanes ---- */

/* all_true / bitmask: one bit per lane, as an integer of lane_count bits */
static LLVMValueRef lane_bits_of(cg_func *F, LLVMValueRef i1v, int s) {
    return LA->BuildBitCast(LB, i1v, LA->IntTypeInContext(LM->ctx, lane_count[s]), "");
}

static LLVMValueRef shift(cg_func *F, int s, unsigned kind, LLVMValueRef v, LLVMValueRef n) {
    n = LA->BuildAnd(LB, n, cg_const_i32(LM, lane_bits[s] - 1), "");
    if (s == S_I64)
        n = LA->BuildZExt(LB, n, LM->t_i64, "");
    else if (s != S_I32)
        n = LA->BuildTrunc(LB, n, lane_type(F, s), "");
    n = splat(F, s, n);
    return kind == 0   ? LA->BuildShl(LB, v, n, "")
           : kind == 1 ? LA->BuildAShr(LB, v, n, "")
                       : LA->BuildLShr(LB, v, n, "");
}

/* narrow: the lanes of x then those of y, clamped to the narrower lane's signed or unsigned range
 * (LLVM emits the packs: packsswb, packuswb, packssdw, packusdw with SSE4.1) */
static LLVMValueRef narrow(cg_func *F, int s, bool sign, LLVMValueRef x, LLVMValueRef y) {
    unsigned n = lane_count[s], bits = lane_bits[s];
    LLVMTypeRef wide = lane_type(F, s + 1);
    LLVMValueRef v = shuffle(F, x, y, mask_seq(F, n, 0, 1));
    int64_t lo = sign ? -((int64_t)1 << (bits - 1)) : 0;
    int64_t hi = sign ? ((int64_t)1 << (bits - 1)) - 1 : ((int64_t)1 << bits) - 1;
    const char *sfx = s == S_I8 ? ".v16i16" : ".v8i32";
    char name[32];
    LLVMValueRef args[2] = {v, const_lanes(F, wide, n, (uint64_t)lo)};
    snprintf(name, sizeof name, "llvm.smax%s", sfx);
    args[0] = cg_call_intrinsic(F, name, LA->TypeOf(v), args, 2);
    args[1] = const_lanes(F, wide, n, (uint64_t)hi);
    snprintf(name, sizeof name, "llvm.smin%s", sfx);
    v = cg_call_intrinsic(F, name, LA->TypeOf(v), args, 2);
    return LA->BuildTrunc(LB, v, vec_type(F, s), "");
}

/* q15mulr_sat_s: pmulhrsw is (x * y + 0x4000) >> 15 except for 0x8000 * 0x8000, whose result
 * 0x8000 wraps where the spec saturates to 0x7fff; no other pair gives 0x8000, so lanes of 0x8000
 * become 0x7fff */
static LLVMValueRef q15mulr(cg_func *F, LLVMValueRef x, LLVMValueRef y) {
    LLVMValueRef m = x86(F, "llvm.x86.ssse3.pmul.hr.sw.128", S_I16, x, y);
    LLVMValueRef ovf = LA->BuildICmp(LB, LLVMIntEQ, m, splat_int(F, S_I16, 0x8000), "");
    return LA->BuildXor(LB, m, sext_mask(F, ovf, S_I16), "");
}

/* extadd_pairwise: even lanes plus odd lanes, widened */
static LLVMValueRef extadd_pairwise(cg_func *F, LLVMValueRef v, int s, bool sign) {
    unsigned n = lane_count[s] / 2;
    LLVMValueRef even = shuffle(F, v, NULL, mask_seq(F, n, 0, 2));
    LLVMValueRef odd = shuffle(F, v, NULL, mask_seq(F, n, 1, 2));
    LLVMTypeRef wt = vec_type(F, s + 1);
    even = sign ? LA->BuildSExt(LB, even, wt, "") : LA->BuildZExt(LB, even, wt, "");
    odd = sign ? LA->BuildSExt(LB, odd, wt, "") : LA->BuildZExt(LB, odd, wt, "");
    return LA->BuildAdd(LB, even, odd, "");
}

/* avgr_u: (x + y + 1) >> 1 in lanes twice as wide (LLVM turns it into pavgb/pavgw) */
static LLVMValueRef avgr_u(cg_func *F, int s, LLVMValueRef x, LLVMValueRef y) {
    LLVMTypeRef wt = vec_n(F, lane_type(F, s + 1), lane_count[s]);
    LLVMValueRef wx = LA->BuildZExt(LB, x, wt, ""), wy = LA->BuildZExt(LB, y, wt, "");
    LLVMValueRef one = const_lanes(F, lane_type(F, s + 1), lane_count[s], 1);
    LLVMValueRef sum = LA->BuildAdd(LB, LA->BuildAdd(LB, wx, wy, ""), one, "");
    return LA->BuildTrunc(LB, LA->BuildLShr(LB, sum, one, ""), vec_type(F, s), "");
}

/* The integer families 0x60 (i8x16), 0x80 (i16x8), 0xa0 (i32x4), 0xc0 (i64x2) share the order of
 * their opcodes; the float rounding and extadd ops that sit in their gaps are handled before. */
static bool simd_int(cg_func *F, uint32_t sub) {
    if (sub < 0x60 || sub > 0xdf) return false;
    int s = (int)(sub - 0x60) >> 5;
    unsigned off = (sub - 0x60) & 0x1f;
    LLVMValueRef x, y, args[2];
    if (off == 0x0b || off == 0x0c || off == 0x0d) { /* shl, shr_s, shr_u */
        LLVMValueRef n = cg_pop(F);
        x = pop_as(F, s);
        push_v(F, shift(F, s, off - 0x0b, x, n));
        return true;
    }
    switch (off) {
    case 0x00: /* abs */
        args[0] = pop_as(F, s), args[1] = LA->ConstInt(LM->t_i1, 0, 0);
        push_v(F, vintr(F, "llvm.abs", s, args, 2));
        return true;
    case 0x01: push_v(F, LA->BuildNeg(LB, pop_as(F, s), "")); return true;
    case 0x02:
        if (s == S_I8) {
            args[0] = pop_as(F, s);
            push_v(F, vintr(F, "llvm.ctpop", s, args, 1));
            return true;
        }
        if (s != S_I16) return false;
        y = pop_as(F, s), x = pop_as(F, s);
        push_v(F, q15mulr(F, x, y));
        return true;
    case 0x03: { /* all_true */
        x = pop_as(F, s);
        LLVMValueRef nz = LA->BuildICmp(LB, LLVMIntNE, x, LA->ConstNull(vec_type(F, s)), "");
        LLVMValueRef bits = lane_bits_of(F, nz, s);
        push_i32_of_i1(F,
                       LA->BuildICmp(LB, LLVMIntEQ, bits, LA->ConstAllOnes(LA->TypeOf(bits)), ""));
        return true;
    }
    case 0x04: { /* bitmask */
        x = pop_as(F, s);
        LLVMValueRef neg = LA->BuildICmp(LB, LLVMIntSLT, x, LA->ConstNull(vec_type(F, s)), "");
        cg_push(F, LA->BuildZExt(LB, lane_bits_of(F, neg, s), LM->t_i32, ""));
        return true;
    }
    case 0x05:
    case 0x06: /* narrow from the next wider shape */
        y = pop_as(F, s + 1), x = pop_as(F, s + 1);
        push_v(F, narrow(F, s, off == 0x05, x, y));
        return true;
    case 0x07:
    case 0x08:
    case 0x09:
    case 0x0a: /* extend low_s, high_s, low_u, high_u from the next narrower shape */
        x = pop_as(F, s - 1);
        push_v(F, extend(F, x, s - 1, off == 0x08 || off == 0x0a, off <= 0x08));
        return true;
    case 0x0e:
    case 0x11:
    case 0x15:
        y = pop_as(F, s), x = pop_as(F, s);
        push_v(F, off == 0x0e   ? LA->BuildAdd(LB, x, y, "")
                  : off == 0x11 ? LA->BuildSub(LB, x, y, "")
                                : LA->BuildMul(LB, x, y, ""));
        return true;
    case 0x0f:
    case 0x10:
    case 0x12:
    case 0x13:
    case 0x16:
    case 0x17:
    case 0x18:
    case 0x19: {
        static const char *const names[] = {
            [0x0f] = "llvm.sadd.sat", [0x10] = "llvm.uadd.sat", [0x12] = "llvm.ssub.sat",
            [0x13] = "llvm.usub.sat", [0x16] = "llvm.smin",     [0x17] = "llvm.umin",
            [0x18] = "llvm.smax",     [0x19] = "llvm.umax"};
        args[1] = pop_as(F, s), args[0] = pop_as(F, s);
        push_v(F, vintr(F, names[off], s, args, 2));
        return true;
    }
    case 0x1b:
        y = pop_as(F, s), x = pop_as(F, s);
        push_v(F, avgr_u(F, s, x, y));
        return true;
    case 0x1c:
    case 0x1d:
    case 0x1e:
    case 0x1f: { /* extmul low_s, high_s, low_u, high_u of the next narrower shape */
        bool high = off == 0x1d || off == 0x1f, sign = off <= 0x1d;
        y = pop_as(F, s - 1), x = pop_as(F, s - 1);
        x = extend(F, x, s - 1, high, sign);
        y = extend(F, y, s - 1, high, sign);
        push_v(F, LA->BuildMul(LB, x, y, ""));
        return true;
    }
    default: return false;
    }
}

/* ---- floats ---- */

/* min/max as the spec says: NaN if either is, -0 below +0 (the OR of the bits for min, AND for
 * max, where the operands compare equal) */
static LLVMValueRef fminmax(cg_func *F, int s, bool is_max, LLVMValueRef x, LLVMValueRef y) {
    int is = s == S_F32 ? S_I32 : S_I64;
    LLVMValueRef unord = LA->BuildFCmp(LB, LLVMRealUNO, x, y, "");
    LLVMValueRef nan = LA->BuildFAdd(LB, opaque_const(F, x), opaque_const(F, y), "");
    LLVMValueRef eq = LA->BuildFCmp(LB, LLVMRealOEQ, x, y, "");
    LLVMValueRef xi = as(F, x, is), yi = as(F, y, is);
    LLVMValueRef same =
        as(F, is_max ? LA->BuildAnd(LB, xi, yi, "") : LA->BuildOr(LB, xi, yi, ""), s);
    LLVMValueRef pick = LA->BuildFCmp(LB, is_max ? LLVMRealOGT : LLVMRealOLT, x, y, "");
    LLVMValueRef r = LA->BuildSelect(LB, pick, x, y, "");
    r = LA->BuildSelect(LB, eq, same, r, "");
    return LA->BuildSelect(LB, unord, nan, r, "");
}

static LLVMValueRef funary(cg_func *F, int s, const char *name, LLVMValueRef x) {
    x = opaque_const(F, x);
    return vintr(F, name, s, &x, 1);
}

static bool simd_float(cg_func *F, uint32_t sub) {
    int s;
    unsigned off;
    switch (sub) { /* the rounding ops in the integer families' gaps */
    case 0x67: push_v(F, funary(F, S_F32, "llvm.ceil", pop_as(F, S_F32))); return true;
    case 0x68: push_v(F, funary(F, S_F32, "llvm.floor", pop_as(F, S_F32))); return true;
    case 0x69: push_v(F, funary(F, S_F32, "llvm.trunc", pop_as(F, S_F32))); return true;
    case 0x6a: push_v(F, funary(F, S_F32, "llvm.nearbyint", pop_as(F, S_F32))); return true;
    case 0x74: push_v(F, funary(F, S_F64, "llvm.ceil", pop_as(F, S_F64))); return true;
    case 0x75: push_v(F, funary(F, S_F64, "llvm.floor", pop_as(F, S_F64))); return true;
    case 0x7a: push_v(F, funary(F, S_F64, "llvm.trunc", pop_as(F, S_F64))); return true;
    case 0x94: push_v(F, funary(F, S_F64, "llvm.nearbyint", pop_as(F, S_F64))); return true;
    default: break;
    }
    if (sub >= 0xe0 && sub <= 0xeb) {
        s = S_F32, off = sub - 0xe0;
    } else if (sub >= 0xec && sub <= 0xf7) {
        s = S_F64, off = sub - 0xec;
    } else {
        return false;
    }
    LLVMValueRef x, y, r;
    switch (off) {
    case 0: /* abs, neg: sign bit only, NaN payloads kept */
        x = pop_as(F, s);
        push_v(F, vintr(F, "llvm.fabs", s, &x, 1));
        return true;
    case 1: push_v(F, LA->BuildFNeg(LB, pop_as(F, s), "")); return true;
    case 2: return false;
    case 3: push_v(F, funary(F, s, "llvm.sqrt", pop_as(F, s))); return true;
    default: break;
    }
    y = pop_as(F, s), x = pop_as(F, s);
    switch (off) {
    case 4:
    case 5:
    case 6:
    case 7:
        x = opaque_const(F, x), y = opaque_const(F, y);
        r = off == 4   ? LA->BuildFAdd(LB, x, y, "")
            : off == 5 ? LA->BuildFSub(LB, x, y, "")
            : off == 6 ? LA->BuildFMul(LB, x, y, "")
                       : LA->BuildFDiv(LB, x, y, "");
        break;
    case 8: r = fminmax(F, s, false, x, y); break;
    case 9: r = fminmax(F, s, true, x, y); break;
    case 10: /* pmin: y < x ? y : x */
        r = LA->BuildSelect(LB, LA->BuildFCmp(LB, LLVMRealOLT, y, x, ""), y, x, "");
        break;
    case 11: /* pmax: x < y ? y : x */
        r = LA->BuildSelect(LB, LA->BuildFCmp(LB, LLVMRealOLT, x, y, ""), y, x, "");
        break;
    default: return false;
    }
    push_v(F, r);
    return true;
}

/* ---- conversions ---- */

static LLVMValueRef fselect(cg_func *F, LLVMRealPredicate p, LLVMValueRef x, LLVMValueRef bound,
                            LLVMValueRef then, LLVMValueRef otherwise) {
    return LA->BuildSelect(LB, LA->BuildFCmp(LB, p, x, bound, ""), then, otherwise, "");
}

/* <2 x i32> widened to <4 x i32> with two zero lanes */
static LLVMValueRef zero_high(cg_func *F, LLVMValueRef v2) {
    return shuffle(F, v2, LA->ConstNull(LA->TypeOf(v2)), mask_seq(F, 4, 0, 1));
}

static bool simd_convert(cg_func *F, uint32_t sub) {
    LLVMValueRef x, r;
    switch (sub) {
    case 0x5e: { /* f32x4.demote_f64x2_zero */
        /* hidden: demote(promote(x)) would fold to x, also through locals, letting a signalling
         * NaN through */
        x = opaque(F, pop_as(F, S_F64));
        r = LA->BuildFPTrunc(LB, x, vec_n(F, LM->t_f32, 2), "");
        push_v(F, zero_high(F, r));
        return true;
    }
    case 0x5f: /* f64x2.promote_low_f32x4 */
        x = half(F, opaque_const(F, pop_as(F, S_F32)), S_F32, false);
        push_v(F, LA->BuildFPExt(LB, x, vec_type(F, S_F64), ""));
        return true;
    case 0xf8: { /* i32x4.trunc_sat_f32x4_s: cvttps2dq gives INT_MIN for NaN and out of range */
        x = pop_as(F, S_F32);
        LLVMValueRef zero = LA->ConstNull(vec_type(F, S_F32));
        x = fselect(F, LLVMRealUNO, x, x, zero, x);
        r = x86(F, "llvm.x86.sse2.cvttps2dq", S_I32, x, NULL);
        r = fselect(F, LLVMRealOGE, x, splat_real(F, S_F32, 2147483648.0),
                    splat_int(F, S_I32, 0x7fffffff), r);
        push_v(F, r);
        return true;
    }
    case 0xf9: { /* i32x4.trunc_sat_f32x4_u */
        x = pop_as(F, S_F32);
        LLVMValueRef zero = LA->ConstNull(vec_type(F, S_F32));
        LLVMValueRef two32 = splat_real(F, S_F32, 4294967296.0);
        x = fselect(F, LLVMRealOGT, x, zero, x, zero); /* NaN and negatives to 0 */
        LLVMValueRef in = fselect(F, LLVMRealOLT, x, two32, x, zero);
        r = LA->BuildFPToUI(LB, in, vec_type(F, S_I32), "");
        r = fselect(F, LLVMRealOGE, x, two32, splat_int(F, S_I32, 0xffffffff), r);
        push_v(F, r);
        return true;
    }
    case 0xfa:
        push_v(F, LA->BuildSIToFP(LB, pop_as(F, S_I32), vec_type(F, S_F32), ""));
        return true;
    case 0xfb:
        push_v(F, LA->BuildUIToFP(LB, pop_as(F, S_I32), vec_type(F, S_F32), ""));
        return true;
    case 0xfc:
    case 0xfd: { /* i32x4.trunc_sat_f64x2_{s,u}_zero: clamped into range, then exact */
        bool sign = sub == 0xfc;
        x = pop_as(F, S_F64);
        LLVMValueRef zero = LA->ConstNull(vec_type(F, S_F64));
        LLVMValueRef lo = sign ? splat_real(F, S_F64, -2147483648.0) : zero;
        LLVMValueRef hi = splat_real(F, S_F64, sign ? 2147483647.0 : 4294967295.0);
        x = fselect(F, LLVMRealUNO, x, x, zero, x);
        x = fselect(F, LLVMRealOLT, x, lo, lo, x);
        x = fselect(F, LLVMRealOGT, x, hi, hi, x);
        LLVMTypeRef t2 = vec_n(F, LM->t_i32, 2);
        r = sign ? LA->BuildFPToSI(LB, x, t2, "") : LA->BuildFPToUI(LB, x, t2, "");
        push_v(F, zero_high(F, r));
        return true;
    }
    case 0xfe:
    case 0xff: /* f64x2.convert_low_i32x4_{s,u} */
        x = half(F, pop_as(F, S_I32), S_I32, false);
        r = sub == 0xfe ? LA->BuildSIToFP(LB, x, vec_type(F, S_F64), "")
                        : LA->BuildUIToFP(LB, x, vec_type(F, S_F64), "");
        push_v(F, r);
        return true;
    default: return false;
    }
}

/* extadd_pairwise and dot, in the gaps of the integer families */
static bool simd_pairwise(cg_func *F, uint32_t sub) {
    switch (sub) {
    case 0x7c:
    case 0x7d: push_v(F, extadd_pairwise(F, pop_as(F, S_I8), S_I8, sub == 0x7c)); return true;
    case 0x7e:
    case 0x7f: push_v(F, extadd_pairwise(F, pop_as(F, S_I16), S_I16, sub == 0x7e)); return true;
    case 0xba: { /* i32x4.dot_i16x8_s: pmaddwd (the one overflowing sum wraps, as the spec's) */
        LLVMValueRef y = pop_as(F, S_I16), x = pop_as(F, S_I16);
        push_v(F, x86(F, "llvm.x86.sse2.pmadd.wd", S_I32, x, y));
        return true;
    }
    default: return false;
    }
}

bool cg_simd(cg_func *F, uint32_t sub, wb_reader *r) {
    bool ok;
    switch (wb__simd_imm(sub)) {
    case WB_SIMD_IMM_BYTES16: ok = simd_const_shuffle(F, sub, r); break;
    case WB_SIMD_IMM_LANE: ok = simd_lane(F, sub, r); break;
    case WB_SIMD_IMM_MEMARG: ok = simd_memory(F, sub, r); break;
    case WB_SIMD_IMM_MEMARG_LANE: ok = simd_lane_memory(F, sub, r); break;
    case WB_SIMD_IMM_NONE:
        if (sub == WB_SIMD_I8X16_SWIZZLE) {
            ok = simd_swizzle(F);
        } else if (sub >= 0x0f && sub <= 0x14) {
            ok = simd_splat(F, sub);
        } else {
            ok = simd_compare(F, sub) || simd_bitwise(F, sub) || simd_convert(F, sub) ||
                 simd_pairwise(F, sub) || simd_float(F, sub) || simd_int(F, sub);
        }
        break;
    default: ok = false; break;
    }
    if (!ok && !F->err) F->err = "unknown SIMD opcode";
    return ok;
}
