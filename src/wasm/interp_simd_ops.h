/* wasm/interp_simd_ops.h — the semantics of the SIMD (v128) instructions, one inline function per
 * internal instruction, named wb__simd_<NAME> after the op tables of opcodes.h. Values are GCC
 * vector types (built by gcc and clang alike); a v128 lives in two frame slots and is moved with
 * memcpy (slots are 8-byte aligned).
 *
 * x86-64 baseline is SSE2, so SSE2 intrinsics are used where one instruction has exactly the
 * spec's semantics (saturating add/sub, avgr, narrowing packs, pmaddwd for dot, movemask, sqrt);
 * everything else is vector-extension arithmetic or a lane loop. Define WB_SIMD_PORTABLE to build
 * the portable code on x86 too (how the two are checked against each other). Float results follow
 * the spec: min/max return the canonical NaN for a NaN operand and order -0 below +0; arithmetic
 * on a NaN returns the hardware's quieted NaN, an arithmetic NaN. */
#ifndef WB_WASM_INTERP_SIMD_OPS_H
#define WB_WASM_INTERP_SIMD_OPS_H

#include <stdint.h>
#include <string.h>

#include "wasm/interp_ops.h"

#if defined(__SSE2__) && !defined(WB_SIMD_PORTABLE)
#include <emmintrin.h>
#define WB_SIMD_SSE2 1
#else
#define WB_SIMD_SSE2 0
#endif

typedef uint64_t wb__v128 __attribute__((vector_size(16)));
typedef int8_t wb__i8x16 __attribute__((vector_size(16)));
typedef uint8_t wb__u8x16 __attribute__((vector_size(16)));
typedef int16_t wb__i16x8 __attribute__((vector_size(16)));
typedef uint16_t wb__u16x8 __attribute__((vector_size(16)));
typedef int32_t wb__i32x4 __attribute__((vector_size(16)));
typedef uint32_t wb__u32x4 __attribute__((vector_size(16)));
typedef int64_t wb__i64x2 __attribute__((vector_size(16)));
typedef float wb__f32x4 __attribute__((vector_size(16)));
typedef double wb__f64x2 __attribute__((vector_size(16)));

static inline wb__v128 wb__v128_get(const void *p) {
    wb__v128 v;
    memcpy(&v, p, 16);
    return v;
}
static inline void wb__v128_put(void *p, wb__v128 v) {
    memcpy(p, &v, 16);
}
/* lanes of mask (all ones or all zeros) pick a, the others b */
static inline wb__v128 wb__v128_select(wb__v128 mask, wb__v128 a, wb__v128 b) {
    return (a & mask) | (b & ~mask);
}

/* ---- splats (float splats take the bit pattern) ---- */
static inline wb__v128 wb__simd_I8X16_SPLAT(uint32_t x) {
    return (wb__v128)((wb__u8x16){0} + (uint8_t)x);
}
static inline wb__v128 wb__simd_I16X8_SPLAT(uint32_t x) {
    return (wb__v128)((wb__u16x8){0} + (uint16_t)x);
}
static inline wb__v128 wb__simd_I32X4_SPLAT(uint32_t x) {
    return (wb__v128)((wb__u32x4){0} + x);
}
static inline wb__v128 wb__simd_I64X2_SPLAT(uint64_t x) {
    return (wb__v128){x, x};
}
static inline wb__v128 wb__simd_F32X4_SPLAT(uint32_t bits) {
    return wb__simd_I32X4_SPLAT(bits);
}
static inline wb__v128 wb__simd_F64X2_SPLAT(uint64_t bits) {
    return wb__simd_I64X2_SPLAT(bits);
}

/* ---- lanes (indices were validated; the masks only keep every access in the vector) ---- */
static inline uint64_t wb__simd_I8X16_EXTRACT_LANE_S(wb__v128 v, uint32_t i) {
    return (uint32_t)(int32_t)((wb__i8x16)v)[i & 15];
}
static inline uint64_t wb__simd_I8X16_EXTRACT_LANE_U(wb__v128 v, uint32_t i) {
    return ((wb__u8x16)v)[i & 15];
}
static inline uint64_t wb__simd_I16X8_EXTRACT_LANE_S(wb__v128 v, uint32_t i) {
    return (uint32_t)(int32_t)((wb__i16x8)v)[i & 7];
}
static inline uint64_t wb__simd_I16X8_EXTRACT_LANE_U(wb__v128 v, uint32_t i) {
    return ((wb__u16x8)v)[i & 7];
}
static inline uint64_t wb__simd_I32X4_EXTRACT_LANE(wb__v128 v, uint32_t i) {
    return ((wb__u32x4)v)[i & 3];
}
static inline uint64_t wb__simd_I64X2_EXTRACT_LANE(wb__v128 v, uint32_t i) {
    return v[i & 1];
}
static inline uint64_t wb__simd_F32X4_EXTRACT_LANE(wb__v128 v, uint32_t i) {
    return ((wb__u32x4)v)[i & 3];
}
static inline uint64_t wb__simd_F64X2_EXTRACT_LANE(wb__v128 v, uint32_t i) {
    return v[i & 1];
}
static inline wb__v128 wb__simd_I8X16_REPLACE_LANE(wb__v128 v, uint64_t x, uint32_t i) {
    wb__u8x16 t = (wb__u8x16)v;
    t[i & 15] = (uint8_t)x;
    return (wb__v128)t;
}
static inline wb__v128 wb__simd_I16X8_REPLACE_LANE(wb__v128 v, uint64_t x, uint32_t i) {
    wb__u16x8 t = (wb__u16x8)v;
    t[i & 7] = (uint16_t)x;
    return (wb__v128)t;
}
static inline wb__v128 wb__simd_I32X4_REPLACE_LANE(wb__v128 v, uint64_t x, uint32_t i) {
    wb__u32x4 t = (wb__u32x4)v;
    t[i & 3] = (uint32_t)x;
    return (wb__v128)t;
}
static inline wb__v128 wb__simd_I64X2_REPLACE_LANE(wb__v128 v, uint64_t x, uint32_t i) {
    v[i & 1] = x;
    return v;
}
#define wb__simd_F32X4_REPLACE_LANE wb__simd_I32X4_REPLACE_LANE
#define wb__simd_F64X2_REPLACE_LANE wb__simd_I64X2_REPLACE_LANE

/* i8x16.shuffle: `masks` are two pshufb masks as they sit in the code (see lower.h): lane k comes
 * from a when masks[k] < 0x80, else from b (lane masks[16 + k]) */
static inline wb__v128 wb__simd_I8X16_SHUFFLE(wb__v128 a, wb__v128 b, const uint32_t *masks) {
    uint8_t m[32];
    wb__u8x16 x = (wb__u8x16)a, y = (wb__u8x16)b, r = {0};
    memcpy(m, masks, 32);
    for (int k = 0; k < 16; k++) r[k] = m[k] < 0x80 ? x[m[k] & 15] : y[m[16 + k] & 15];
    return (wb__v128)r;
}
static inline wb__v128 wb__simd_I8X16_SWIZZLE(wb__v128 a, wb__v128 s) {
    wb__u8x16 x = (wb__u8x16)a, i = (wb__u8x16)s, r = {0};
    for (int k = 0; k < 16; k++) r[k] = i[k] < 16 ? x[i[k] & 15] : 0;
    return (wb__v128)r;
}

/* pshufb, out of line: a function built for SSSE3 is not inlined into the baseline dispatch loop.
 * The lowering emits their handlers only where the CPU has SSSE3. */
#if WB_SIMD_SSE2
#include <tmmintrin.h>
__attribute__((target("ssse3"), noinline)) static wb__v128
wb__simd_I8X16_SHUFFLE_SSSE3(wb__v128 a, wb__v128 b, const uint32_t *masks) {
    __m128i ma, mb;
    memcpy(&ma, masks, 16);
    memcpy(&mb, masks + 4, 16);
    return (wb__v128)_mm_or_si128(_mm_shuffle_epi8((__m128i)a, ma),
                                  _mm_shuffle_epi8((__m128i)b, mb));
}
/* lane indices 16..255 give 0: adding 0x70 with unsigned saturation sets their bit 7 (pshufb's
 * zeroing bit) and leaves the low four bits of 0..15 as they are */
__attribute__((target("ssse3"), noinline)) static wb__v128
wb__simd_I8X16_SWIZZLE_SSSE3(wb__v128 a, wb__v128 s) {
    __m128i idx = _mm_adds_epu8((__m128i)s, _mm_set1_epi8(0x70));
    return (wb__v128)_mm_shuffle_epi8((__m128i)a, idx);
}
#else
#define wb__simd_I8X16_SHUFFLE_SSSE3 wb__simd_I8X16_SHUFFLE
#define wb__simd_I8X16_SWIZZLE_SSSE3 wb__simd_I8X16_SWIZZLE
#endif

/* ---- comparisons: all-ones lanes for true ---- */
#define WB_SIMD_CMP(NAME, T, op)                                                                   \
    static inline wb__v128 wb__simd_##NAME(wb__v128 a, wb__v128 b) {                               \
        return (wb__v128)((T)a op(T) b);                                                           \
    }
#define WB_SIMD_ICMPS(S, SI, UI)                                                                   \
    WB_SIMD_CMP(S##_EQ, UI, ==)                                                                    \
    WB_SIMD_CMP(S##_NE, UI, !=)                                                                    \
    WB_SIMD_CMP(S##_LT_S, SI, <)                                                                   \
    WB_SIMD_CMP(S##_LT_U, UI, <)                                                                   \
    WB_SIMD_CMP(S##_GT_S, SI, >)                                                                   \
    WB_SIMD_CMP(S##_GT_U, UI, >)                                                                   \
    WB_SIMD_CMP(S##_LE_S, SI, <=)                                                                  \
    WB_SIMD_CMP(S##_LE_U, UI, <=)                                                                  \
    WB_SIMD_CMP(S##_GE_S, SI, >=)                                                                  \
    WB_SIMD_CMP(S##_GE_U, UI, >=)
#define WB_SIMD_FCMPS(S, F)                                                                        \
    WB_SIMD_CMP(S##_EQ, F, ==)                                                                     \
    WB_SIMD_CMP(S##_NE, F, !=)                                                                     \
    WB_SIMD_CMP(S##_LT, F, <)                                                                      \
    WB_SIMD_CMP(S##_GT, F, >)                                                                      \
    WB_SIMD_CMP(S##_LE, F, <=)                                                                     \
    WB_SIMD_CMP(S##_GE, F, >=)
WB_SIMD_ICMPS(I8X16, wb__i8x16, wb__u8x16)
WB_SIMD_ICMPS(I16X8, wb__i16x8, wb__u16x8)
WB_SIMD_ICMPS(I32X4, wb__i32x4, wb__u32x4)
WB_SIMD_CMP(I64X2_EQ, wb__v128, ==)
WB_SIMD_CMP(I64X2_NE, wb__v128, !=)
WB_SIMD_CMP(I64X2_LT_S, wb__i64x2, <)
WB_SIMD_CMP(I64X2_GT_S, wb__i64x2, >)
WB_SIMD_CMP(I64X2_LE_S, wb__i64x2, <=)
WB_SIMD_CMP(I64X2_GE_S, wb__i64x2, >=)
WB_SIMD_FCMPS(F32X4, wb__f32x4)
WB_SIMD_FCMPS(F64X2, wb__f64x2)
#undef WB_SIMD_ICMPS
#undef WB_SIMD_FCMPS

/* ---- bitwise ---- */
static inline wb__v128 wb__simd_V128_NOT(wb__v128 a) {
    return ~a;
}
static inline wb__v128 wb__simd_V128_AND(wb__v128 a, wb__v128 b) {
    return a & b;
}
static inline wb__v128 wb__simd_V128_ANDNOT(wb__v128 a, wb__v128 b) {
    return a & ~b;
}
static inline wb__v128 wb__simd_V128_OR(wb__v128 a, wb__v128 b) {
    return a | b;
}
static inline wb__v128 wb__simd_V128_XOR(wb__v128 a, wb__v128 b) {
    return a ^ b;
}
static inline wb__v128 wb__simd_V128_BITSELECT(wb__v128 a, wb__v128 b, wb__v128 c) {
    return wb__v128_select(c, a, b);
}
static inline uint32_t wb__simd_V128_ANY_TRUE(wb__v128 a) {
    return (a[0] | a[1]) != 0;
}

/* ---- all_true and bitmask ---- */
#define WB_SIMD_ALL_TRUE(NAME, T)                                                                  \
    static inline uint32_t wb__simd_##NAME(wb__v128 a) {                                           \
        wb__v128 zero = (wb__v128)((T)a == (T){0});                                                \
        return (zero[0] | zero[1]) == 0;                                                           \
    }
WB_SIMD_ALL_TRUE(I8X16_ALL_TRUE, wb__u8x16)
WB_SIMD_ALL_TRUE(I16X8_ALL_TRUE, wb__u16x8)
WB_SIMD_ALL_TRUE(I32X4_ALL_TRUE, wb__u32x4)
WB_SIMD_ALL_TRUE(I64X2_ALL_TRUE, wb__v128)
#undef WB_SIMD_ALL_TRUE

#define WB_SIMD_BITMASK(NAME, T, lanes, bits)                                                      \
    static inline uint32_t wb__simd_##NAME(wb__v128 a) {                                           \
        T x = (T)a;                                                                                \
        uint32_t r = 0;                                                                            \
        for (int k = 0; k < (lanes); k++) r |= (uint32_t)(x[k] >> ((bits)-1)) << k;                \
        return r;                                                                                  \
    }
#if WB_SIMD_SSE2
static inline uint32_t wb__simd_I8X16_BITMASK(wb__v128 a) {
    return (uint32_t)_mm_movemask_epi8((__m128i)a);
}
#else
WB_SIMD_BITMASK(I8X16_BITMASK, wb__u8x16, 16, 8)
#endif
WB_SIMD_BITMASK(I16X8_BITMASK, wb__u16x8, 8, 16)
WB_SIMD_BITMASK(I32X4_BITMASK, wb__u32x4, 4, 32)
WB_SIMD_BITMASK(I64X2_BITMASK, wb__v128, 2, 64)
#undef WB_SIMD_BITMASK

/* ---- integer arithmetic (unsigned lanes wrap; signed lanes only where nothing overflows) ---- */
#define WB_SIMD_BINOP(NAME, T, op)                                                                 \
    static inline wb__v128 wb__simd_##NAME(wb__v128 a, wb__v128 b) {                               \
        return (wb__v128)((T)a op(T) b);                                                           \
    }
WB_SIMD_BINOP(I8X16_ADD, wb__u8x16, +)
WB_SIMD_BINOP(I8X16_SUB, wb__u8x16, -)
WB_SIMD_BINOP(I16X8_ADD, wb__u16x8, +)
WB_SIMD_BINOP(I16X8_SUB, wb__u16x8, -)
WB_SIMD_BINOP(I16X8_MUL, wb__u16x8, *)
WB_SIMD_BINOP(I32X4_ADD, wb__u32x4, +)
WB_SIMD_BINOP(I32X4_SUB, wb__u32x4, -)
WB_SIMD_BINOP(I32X4_MUL, wb__u32x4, *)
WB_SIMD_BINOP(I64X2_ADD, wb__v128, +)
WB_SIMD_BINOP(I64X2_SUB, wb__v128, -)
WB_SIMD_BINOP(I64X2_MUL, wb__v128, *)
#undef WB_SIMD_BINOP

#define WB_SIMD_NEG_ABS(S, SI, UI, bits)                                                           \
    static inline wb__v128 wb__simd_##S##_NEG(wb__v128 a) {                                        \
        return (wb__v128)((UI){0} - (UI)a);                                                        \
    }                                                                                              \
    static inline wb__v128 wb__simd_##S##_ABS(wb__v128 a) {                                        \
        UI sign = (UI)((SI)a >> ((bits)-1)); /* all ones in negative lanes */                      \
        return (wb__v128)(((UI)a ^ sign) - sign);                                                  \
    }
WB_SIMD_NEG_ABS(I8X16, wb__i8x16, wb__u8x16, 8)
WB_SIMD_NEG_ABS(I16X8, wb__i16x8, wb__u16x8, 16)
WB_SIMD_NEG_ABS(I32X4, wb__i32x4, wb__u32x4, 32)
WB_SIMD_NEG_ABS(I64X2, wb__i64x2, wb__v128, 64)
#undef WB_SIMD_NEG_ABS

/* shifts: the count is taken modulo the lane width */
#define WB_SIMD_SHIFTS(S, SI, UI, ES, EU, bits)                                                    \
    static inline wb__v128 wb__simd_##S##_SHL(wb__v128 a, uint32_t n) {                            \
        return (wb__v128)((UI)a << (EU)(n & ((bits)-1)));                                          \
    }                                                                                              \
    static inline wb__v128 wb__simd_##S##_SHR_S(wb__v128 a, uint32_t n) {                          \
        return (wb__v128)((SI)a >> (ES)(n & ((bits)-1)));                                          \
    }                                                                                              \
    static inline wb__v128 wb__simd_##S##_SHR_U(wb__v128 a, uint32_t n) {                          \
        return (wb__v128)((UI)a >> (EU)(n & ((bits)-1)));                                          \
    }
WB_SIMD_SHIFTS(I8X16, wb__i8x16, wb__u8x16, int8_t, uint8_t, 8)
WB_SIMD_SHIFTS(I16X8, wb__i16x8, wb__u16x8, int16_t, uint16_t, 16)
WB_SIMD_SHIFTS(I32X4, wb__i32x4, wb__u32x4, int32_t, uint32_t, 32)
WB_SIMD_SHIFTS(I64X2, wb__i64x2, wb__v128, int64_t, uint64_t, 64)
#undef WB_SIMD_SHIFTS

/* min and max by compare and select */
#define WB_SIMD_MINMAX(NAME, T, op)                                                                \
    static inline wb__v128 wb__simd_##NAME(wb__v128 a, wb__v128 b) {                               \
        return wb__v128_select((wb__v128)((T)a op(T) b), a, b);                                    \
    }
WB_SIMD_MINMAX(I8X16_MIN_S, wb__i8x16, <)
WB_SIMD_MINMAX(I8X16_MAX_S, wb__i8x16, >)
WB_SIMD_MINMAX(I16X8_MIN_U, wb__u16x8, <)
WB_SIMD_MINMAX(I16X8_MAX_U, wb__u16x8, >)
WB_SIMD_MINMAX(I32X4_MIN_S, wb__i32x4, <)
WB_SIMD_MINMAX(I32X4_MIN_U, wb__u32x4, <)
WB_SIMD_MINMAX(I32X4_MAX_S, wb__i32x4, >)
WB_SIMD_MINMAX(I32X4_MAX_U, wb__u32x4, >)
#if WB_SIMD_SSE2
static inline wb__v128 wb__simd_I8X16_MIN_U(wb__v128 a, wb__v128 b) {
    return (wb__v128)_mm_min_epu8((__m128i)a, (__m128i)b);
}
static inline wb__v128 wb__simd_I8X16_MAX_U(wb__v128 a, wb__v128 b) {
    return (wb__v128)_mm_max_epu8((__m128i)a, (__m128i)b);
}
static inline wb__v128 wb__simd_I16X8_MIN_S(wb__v128 a, wb__v128 b) {
    return (wb__v128)_mm_min_epi16((__m128i)a, (__m128i)b);
}
static inline wb__v128 wb__simd_I16X8_MAX_S(wb__v128 a, wb__v128 b) {
    return (wb__v128)_mm_max_epi16((__m128i)a, (__m128i)b);
}
#else
WB_SIMD_MINMAX(I8X16_MIN_U, wb__u8x16, <)
WB_SIMD_MINMAX(I8X16_MAX_U, wb__u8x16, >)
WB_SIMD_MINMAX(I16X8_MIN_S, wb__i16x8, <)
WB_SIMD_MINMAX(I16X8_MAX_S, wb__i16x8, >)
#endif
#undef WB_SIMD_MINMAX

/* saturating add/sub, rounding average: lane loops in a wider type, or the SSE2 instruction */
static inline int32_t wb__sat_i(int32_t x, int32_t lo, int32_t hi) {
    return x < lo ? lo : x > hi ? hi : x;
}
#define WB_SIMD_LANEWISE2(NAME, TR, TA, lanes, expr)                                               \
    static inline wb__v128 wb__simd_##NAME(wb__v128 a, wb__v128 b) {                               \
        TA x = (TA)a, y = (TA)b;                                                                   \
        TR r = {0};                                                                                \
        for (int k = 0; k < (lanes); k++) r[k] = (expr);                                           \
        return (wb__v128)r;                                                                        \
    }
#if WB_SIMD_SSE2
#define WB_SIMD_SSE2_BINOP(NAME, intrinsic)                                                        \
    static inline wb__v128 wb__simd_##NAME(wb__v128 a, wb__v128 b) {                               \
        return (wb__v128)intrinsic((__m128i)a, (__m128i)b);                                        \
    }
WB_SIMD_SSE2_BINOP(I8X16_ADD_SAT_S, _mm_adds_epi8)
WB_SIMD_SSE2_BINOP(I8X16_ADD_SAT_U, _mm_adds_epu8)
WB_SIMD_SSE2_BINOP(I8X16_SUB_SAT_S, _mm_subs_epi8)
WB_SIMD_SSE2_BINOP(I8X16_SUB_SAT_U, _mm_subs_epu8)
WB_SIMD_SSE2_BINOP(I16X8_ADD_SAT_S, _mm_adds_epi16)
WB_SIMD_SSE2_BINOP(I16X8_ADD_SAT_U, _mm_adds_epu16)
WB_SIMD_SSE2_BINOP(I16X8_SUB_SAT_S, _mm_subs_epi16)
WB_SIMD_SSE2_BINOP(I16X8_SUB_SAT_U, _mm_subs_epu16)
WB_SIMD_SSE2_BINOP(I8X16_AVGR_U, _mm_avg_epu8)
WB_SIMD_SSE2_BINOP(I16X8_AVGR_U, _mm_avg_epu16)
WB_SIMD_SSE2_BINOP(I8X16_NARROW_I16X8_S, _mm_packs_epi16)
WB_SIMD_SSE2_BINOP(I8X16_NARROW_I16X8_U, _mm_packus_epi16)
WB_SIMD_SSE2_BINOP(I16X8_NARROW_I32X4_S, _mm_packs_epi32)
WB_SIMD_SSE2_BINOP(I32X4_DOT_I16X8_S, _mm_madd_epi16)
#undef WB_SIMD_SSE2_BINOP
#else
WB_SIMD_LANEWISE2(I8X16_ADD_SAT_S, wb__i8x16, wb__i8x16, 16,
                  (int8_t)wb__sat_i(x[k] + y[k], -128, 127))
WB_SIMD_LANEWISE2(I8X16_ADD_SAT_U, wb__u8x16, wb__u8x16, 16,
                  (uint8_t)wb__sat_i(x[k] + y[k], 0, 255))
WB_SIMD_LANEWISE2(I8X16_SUB_SAT_S, wb__i8x16, wb__i8x16, 16,
                  (int8_t)wb__sat_i(x[k] - y[k], -128, 127))
WB_SIMD_LANEWISE2(I8X16_SUB_SAT_U, wb__u8x16, wb__u8x16, 16,
                  (uint8_t)wb__sat_i(x[k] - y[k], 0, 255))
WB_SIMD_LANEWISE2(I16X8_ADD_SAT_S, wb__i16x8, wb__i16x8, 8,
                  (int16_t)wb__sat_i(x[k] + y[k], -32768, 32767))
WB_SIMD_LANEWISE2(I16X8_ADD_SAT_U, wb__u16x8, wb__u16x8, 8,
                  (uint16_t)wb__sat_i(x[k] + y[k], 0, 65535))
WB_SIMD_LANEWISE2(I16X8_SUB_SAT_S, wb__i16x8, wb__i16x8, 8,
                  (int16_t)wb__sat_i(x[k] - y[k], -32768, 32767))
WB_SIMD_LANEWISE2(I16X8_SUB_SAT_U, wb__u16x8, wb__u16x8, 8,
                  (uint16_t)wb__sat_i(x[k] - y[k], 0, 65535))
WB_SIMD_LANEWISE2(I8X16_AVGR_U, wb__u8x16, wb__u8x16, 16, (uint8_t)((x[k] + y[k] + 1) >> 1))
WB_SIMD_LANEWISE2(I16X8_AVGR_U, wb__u16x8, wb__u16x8, 8,
                  (uint16_t)(((uint32_t)x[k] + y[k] + 1) >> 1))
WB_SIMD_LANEWISE2(I8X16_NARROW_I16X8_S, wb__i8x16, wb__i16x8, 16,
                  (int8_t)wb__sat_i(k < 8 ? x[k] : y[k - 8], -128, 127))
WB_SIMD_LANEWISE2(I8X16_NARROW_I16X8_U, wb__u8x16, wb__i16x8, 16,
                  (uint8_t)wb__sat_i(k < 8 ? x[k] : y[k - 8], 0, 255))
WB_SIMD_LANEWISE2(I16X8_NARROW_I32X4_S, wb__i16x8, wb__i32x4, 8,
                  (int16_t)wb__sat_i(k < 4 ? x[k] : y[k - 4], -32768, 32767))
WB_SIMD_LANEWISE2(I32X4_DOT_I16X8_S, wb__u32x4, wb__i16x8, 4,
                  (uint32_t)(x[2 * k] * y[2 * k]) + (uint32_t)(x[2 * k + 1] * y[2 * k + 1]))
#endif
WB_SIMD_LANEWISE2(I16X8_NARROW_I32X4_U, wb__u16x8, wb__i32x4, 8,
                  (uint16_t)wb__sat_i(k < 4 ? x[k] : y[k - 4], 0, 65535))
/* (x * y + 2^14) >> 15, saturated: only -32768 * -32768 goes over */
WB_SIMD_LANEWISE2(I16X8_Q15MULR_SAT_S, wb__i16x8, wb__i16x8, 8,
                  (int16_t)wb__sat_i((x[k] * y[k] + 0x4000) >> 15, -32768, 32767))

/* extended multiplies: lanes of one half, widened, multiplied in a type where nothing overflows */
WB_SIMD_LANEWISE2(I16X8_EXTMUL_LOW_I8X16_S, wb__i16x8, wb__i8x16, 8, (int16_t)(x[k] * y[k]))
WB_SIMD_LANEWISE2(I16X8_EXTMUL_HIGH_I8X16_S, wb__i16x8, wb__i8x16, 8,
                  (int16_t)(x[k + 8] * y[k + 8]))
WB_SIMD_LANEWISE2(I16X8_EXTMUL_LOW_I8X16_U, wb__u16x8, wb__u8x16, 8, (uint16_t)(x[k] * y[k]))
WB_SIMD_LANEWISE2(I16X8_EXTMUL_HIGH_I8X16_U, wb__u16x8, wb__u8x16, 8,
                  (uint16_t)(x[k + 8] * y[k + 8]))
WB_SIMD_LANEWISE2(I32X4_EXTMUL_LOW_I16X8_S, wb__i32x4, wb__i16x8, 4, x[k] * y[k])
WB_SIMD_LANEWISE2(I32X4_EXTMUL_HIGH_I16X8_S, wb__i32x4, wb__i16x8, 4, x[k + 4] * y[k + 4])
WB_SIMD_LANEWISE2(I32X4_EXTMUL_LOW_I16X8_U, wb__u32x4, wb__u16x8, 4, (uint32_t)x[k] * y[k])
WB_SIMD_LANEWISE2(I32X4_EXTMUL_HIGH_I16X8_U, wb__u32x4, wb__u16x8, 4, (uint32_t)x[k + 4] * y[k + 4])
WB_SIMD_LANEWISE2(I64X2_EXTMUL_LOW_I32X4_S, wb__i64x2, wb__i32x4, 2, (int64_t)x[k] * y[k])
WB_SIMD_LANEWISE2(I64X2_EXTMUL_HIGH_I32X4_S, wb__i64x2, wb__i32x4, 2, (int64_t)x[k + 2] * y[k + 2])
WB_SIMD_LANEWISE2(I64X2_EXTMUL_LOW_I32X4_U, wb__v128, wb__u32x4, 2, (uint64_t)x[k] * y[k])
WB_SIMD_LANEWISE2(I64X2_EXTMUL_HIGH_I32X4_U, wb__v128, wb__u32x4, 2, (uint64_t)x[k + 2] * y[k + 2])
#undef WB_SIMD_LANEWISE2

/* one-operand lane loops: r[k] = expr over the lanes x of a */
#define WB_SIMD_LANEWISE1(NAME, TR, TA, lanes, expr)                                               \
    static inline wb__v128 wb__simd_##NAME(wb__v128 a) {                                           \
        TA x = (TA)a;                                                                              \
        TR r = {0};                                                                                \
        for (int k = 0; k < (lanes); k++) r[k] = (expr);                                           \
        return (wb__v128)r;                                                                        \
    }
WB_SIMD_LANEWISE1(I16X8_EXTADD_PAIRWISE_I8X16_S, wb__i16x8, wb__i8x16, 8,
                  (int16_t)(x[2 * k] + x[2 * k + 1]))
WB_SIMD_LANEWISE1(I16X8_EXTADD_PAIRWISE_I8X16_U, wb__u16x8, wb__u8x16, 8,
                  (uint16_t)(x[2 * k] + x[2 * k + 1]))
WB_SIMD_LANEWISE1(I32X4_EXTADD_PAIRWISE_I16X8_S, wb__i32x4, wb__i16x8, 4, x[2 * k] + x[2 * k + 1])
WB_SIMD_LANEWISE1(I32X4_EXTADD_PAIRWISE_I16X8_U, wb__u32x4, wb__u16x8, 4,
                  (uint32_t)x[2 * k] + x[2 * k + 1])
WB_SIMD_LANEWISE1(I16X8_EXTEND_LOW_I8X16_S, wb__i16x8, wb__i8x16, 8, x[k])
WB_SIMD_LANEWISE1(I16X8_EXTEND_HIGH_I8X16_S, wb__i16x8, wb__i8x16, 8, x[k + 8])
WB_SIMD_LANEWISE1(I16X8_EXTEND_LOW_I8X16_U, wb__u16x8, wb__u8x16, 8, x[k])
WB_SIMD_LANEWISE1(I16X8_EXTEND_HIGH_I8X16_U, wb__u16x8, wb__u8x16, 8, x[k + 8])
WB_SIMD_LANEWISE1(I32X4_EXTEND_LOW_I16X8_S, wb__i32x4, wb__i16x8, 4, x[k])
WB_SIMD_LANEWISE1(I32X4_EXTEND_HIGH_I16X8_S, wb__i32x4, wb__i16x8, 4, x[k + 4])
WB_SIMD_LANEWISE1(I32X4_EXTEND_LOW_I16X8_U, wb__u32x4, wb__u16x8, 4, x[k])
WB_SIMD_LANEWISE1(I32X4_EXTEND_HIGH_I16X8_U, wb__u32x4, wb__u16x8, 4, x[k + 4])
WB_SIMD_LANEWISE1(I64X2_EXTEND_LOW_I32X4_S, wb__i64x2, wb__i32x4, 2, x[k])
WB_SIMD_LANEWISE1(I64X2_EXTEND_HIGH_I32X4_S, wb__i64x2, wb__i32x4, 2, x[k + 2])
WB_SIMD_LANEWISE1(I64X2_EXTEND_LOW_I32X4_U, wb__v128, wb__u32x4, 2, x[k])
WB_SIMD_LANEWISE1(I64X2_EXTEND_HIGH_I32X4_U, wb__v128, wb__u32x4, 2, x[k + 2])

static inline wb__v128 wb__simd_I8X16_POPCNT(wb__v128 a) {
    wb__u8x16 x = (wb__u8x16)a;
    x = x - ((x >> 1) & 0x55);
    x = (x & 0x33) + ((x >> 2) & 0x33);
    return (wb__v128)((x + (x >> 4)) & 0x0f);
}

/* ---- floats ---- */
#define WB_SIMD_F32_SIGN ((wb__v128)((wb__u32x4){0} + 0x80000000u))
#define WB_SIMD_F64_SIGN ((wb__v128){0x8000000000000000ull, 0x8000000000000000ull})
#define WB_SIMD_F32_NAN  ((wb__v128)((wb__u32x4){0} + 0x7fc00000u))
#define WB_SIMD_F64_NAN  ((wb__v128){0x7ff8000000000000ull, 0x7ff8000000000000ull})

#define WB_SIMD_FARITH(S, F, SIGN)                                                                 \
    static inline wb__v128 wb__simd_##S##_ADD(wb__v128 a, wb__v128 b) {                            \
        return (wb__v128)((F)a + (F)b);                                                            \
    }                                                                                              \
    static inline wb__v128 wb__simd_##S##_SUB(wb__v128 a, wb__v128 b) {                            \
        return (wb__v128)((F)a - (F)b);                                                            \
    }                                                                                              \
    static inline wb__v128 wb__simd_##S##_MUL(wb__v128 a, wb__v128 b) {                            \
        return (wb__v128)((F)a * (F)b);                                                            \
    }                                                                                              \
    static inline wb__v128 wb__simd_##S##_DIV(wb__v128 a, wb__v128 b) {                            \
        return (wb__v128)((F)a / (F)b);                                                            \
    }                                                                                              \
    static inline wb__v128 wb__simd_##S##_ABS(wb__v128 a) {                                        \
        return a & ~SIGN;                                                                          \
    }                                                                                              \
    static inline wb__v128 wb__simd_##S##_NEG(wb__v128 a) {                                        \
        return a ^ SIGN;                                                                           \
    }                                                                                              \
    /* pmin: b < a ? b : a; pmax: a < b ? b : a (the first operand wins ties and NaNs) */          \
    static inline wb__v128 wb__simd_##S##_PMIN(wb__v128 a, wb__v128 b) {                           \
        return wb__v128_select((wb__v128)((F)b < (F)a), b, a);                                     \
    }                                                                                              \
    static inline wb__v128 wb__simd_##S##_PMAX(wb__v128 a, wb__v128 b) {                           \
        return wb__v128_select((wb__v128)((F)a < (F)b), b, a);                                     \
    }
WB_SIMD_FARITH(F32X4, wb__f32x4, WB_SIMD_F32_SIGN)
WB_SIMD_FARITH(F64X2, wb__f64x2, WB_SIMD_F64_SIGN)
#undef WB_SIMD_FARITH

/* min/max: a NaN operand gives the canonical NaN; of two zeros, min is -0 if either is (the OR of
 * the bits: equal non-zero operands have equal bits anyway) and max +0 unless both are -0 (AND) */
#define WB_SIMD_FMINMAX(S, F, QNAN)                                                                \
    static inline wb__v128 wb__simd_##S##_MIN(wb__v128 a, wb__v128 b) {                            \
        F x = (F)a, y = (F)b;                                                                      \
        wb__v128 r = wb__v128_select((wb__v128)(x < y), a, b);                                     \
        r = wb__v128_select((wb__v128)(x == y), a | b, r);                                         \
        return wb__v128_select((wb__v128)((x != x) | (y != y)), QNAN, r);                          \
    }                                                                                              \
    static inline wb__v128 wb__simd_##S##_MAX(wb__v128 a, wb__v128 b) {                            \
        F x = (F)a, y = (F)b;                                                                      \
        wb__v128 r = wb__v128_select((wb__v128)(x > y), a, b);                                     \
        r = wb__v128_select((wb__v128)(x == y), a & b, r);                                         \
        return wb__v128_select((wb__v128)((x != x) | (y != y)), QNAN, r);                          \
    }
WB_SIMD_FMINMAX(F32X4, wb__f32x4, WB_SIMD_F32_NAN)
WB_SIMD_FMINMAX(F64X2, wb__f64x2, WB_SIMD_F64_NAN)
#undef WB_SIMD_FMINMAX

#if WB_SIMD_SSE2
static inline wb__v128 wb__simd_F32X4_SQRT(wb__v128 a) {
    return (wb__v128)_mm_sqrt_ps((__m128)a);
}
static inline wb__v128 wb__simd_F64X2_SQRT(wb__v128 a) {
    return (wb__v128)_mm_sqrt_pd((__m128d)a);
}
#else
WB_SIMD_LANEWISE1(F32X4_SQRT, wb__f32x4, wb__f32x4, 4, wb__sqrtf(x[k]))
WB_SIMD_LANEWISE1(F64X2_SQRT, wb__f64x2, wb__f64x2, 2, wb__sqrt(x[k]))
#endif
WB_SIMD_LANEWISE1(F32X4_CEIL, wb__f32x4, wb__f32x4, 4, wb__ceilf(x[k]))
WB_SIMD_LANEWISE1(F32X4_FLOOR, wb__f32x4, wb__f32x4, 4, wb__floorf(x[k]))
WB_SIMD_LANEWISE1(F32X4_TRUNC, wb__f32x4, wb__f32x4, 4, wb__truncf(x[k]))
WB_SIMD_LANEWISE1(F32X4_NEAREST, wb__f32x4, wb__f32x4, 4, wb__nearbyintf(x[k]))
WB_SIMD_LANEWISE1(F64X2_CEIL, wb__f64x2, wb__f64x2, 2, wb__ceil(x[k]))
WB_SIMD_LANEWISE1(F64X2_FLOOR, wb__f64x2, wb__f64x2, 2, wb__floor(x[k]))
WB_SIMD_LANEWISE1(F64X2_TRUNC, wb__f64x2, wb__f64x2, 2, wb__trunc(x[k]))
WB_SIMD_LANEWISE1(F64X2_NEAREST, wb__f64x2, wb__f64x2, 2, wb__nearbyint(x[k]))

/* ---- conversions ---- */
static inline int32_t wb__trunc_sat_s32(double x) {
    if (x != x) return 0;
    if (!(x > -2147483649.0)) return INT32_MIN;
    if (!(x < 2147483648.0)) return INT32_MAX;
    return (int32_t)x;
}
static inline uint32_t wb__trunc_sat_u32(double x) {
    if (x != x || !(x > -1.0)) return 0;
    if (!(x < 4294967296.0)) return UINT32_MAX;
    return (uint32_t)x;
}
/* f32 lanes go through double, which holds every f32 exactly */
WB_SIMD_LANEWISE1(I32X4_TRUNC_SAT_F32X4_S, wb__i32x4, wb__f32x4, 4, wb__trunc_sat_s32(x[k]))
WB_SIMD_LANEWISE1(I32X4_TRUNC_SAT_F32X4_U, wb__u32x4, wb__f32x4, 4, wb__trunc_sat_u32(x[k]))
WB_SIMD_LANEWISE1(I32X4_TRUNC_SAT_F64X2_S_ZERO, wb__i32x4, wb__f64x2, 2, wb__trunc_sat_s32(x[k]))
WB_SIMD_LANEWISE1(I32X4_TRUNC_SAT_F64X2_U_ZERO, wb__u32x4, wb__f64x2, 2, wb__trunc_sat_u32(x[k]))
WB_SIMD_LANEWISE1(F32X4_CONVERT_I32X4_S, wb__f32x4, wb__i32x4, 4, (float)x[k])
WB_SIMD_LANEWISE1(F32X4_CONVERT_I32X4_U, wb__f32x4, wb__u32x4, 4, (float)x[k])
WB_SIMD_LANEWISE1(F64X2_CONVERT_LOW_I32X4_S, wb__f64x2, wb__i32x4, 2, (double)x[k])
WB_SIMD_LANEWISE1(F64X2_CONVERT_LOW_I32X4_U, wb__f64x2, wb__u32x4, 2, (double)x[k])
WB_SIMD_LANEWISE1(F32X4_DEMOTE_F64X2_ZERO, wb__f32x4, wb__f64x2, 2, (float)x[k])
WB_SIMD_LANEWISE1(F64X2_PROMOTE_LOW_F32X4, wb__f64x2, wb__f32x4, 2, (double)x[k])
#undef WB_SIMD_LANEWISE1

/* ---- memory: p points at the first byte of the access (checked by the caller) ---- */
static inline wb__v128 wb__simd_V128_LOAD(const uint8_t *p) {
    return wb__v128_get(p);
}
static inline void wb__simd_V128_STORE(uint8_t *p, wb__v128 v) {
    wb__v128_put(p, v);
}
#define WB_SIMD_LOAD_EXTEND(NAME, TR, TM, lanes)                                                   \
    static inline wb__v128 wb__simd_##NAME(const uint8_t *p) {                                     \
        TM m[lanes];                                                                               \
        TR r = {0};                                                                                \
        memcpy(m, p, 8);                                                                           \
        for (int k = 0; k < (lanes); k++) r[k] = m[k];                                             \
        return (wb__v128)r;                                                                        \
    }
WB_SIMD_LOAD_EXTEND(V128_LOAD8X8_S, wb__i16x8, int8_t, 8)
WB_SIMD_LOAD_EXTEND(V128_LOAD8X8_U, wb__u16x8, uint8_t, 8)
WB_SIMD_LOAD_EXTEND(V128_LOAD16X4_S, wb__i32x4, int16_t, 4)
WB_SIMD_LOAD_EXTEND(V128_LOAD16X4_U, wb__u32x4, uint16_t, 4)
WB_SIMD_LOAD_EXTEND(V128_LOAD32X2_S, wb__i64x2, int32_t, 2)
WB_SIMD_LOAD_EXTEND(V128_LOAD32X2_U, wb__v128, uint32_t, 2)
#undef WB_SIMD_LOAD_EXTEND

static inline wb__v128 wb__simd_V128_LOAD8_SPLAT(const uint8_t *p) {
    return wb__simd_I8X16_SPLAT(p[0]);
}
static inline wb__v128 wb__simd_V128_LOAD16_SPLAT(const uint8_t *p) {
    uint16_t x;
    memcpy(&x, p, 2);
    return wb__simd_I16X8_SPLAT(x);
}
static inline wb__v128 wb__simd_V128_LOAD32_SPLAT(const uint8_t *p) {
    uint32_t x;
    memcpy(&x, p, 4);
    return wb__simd_I32X4_SPLAT(x);
}
static inline wb__v128 wb__simd_V128_LOAD64_SPLAT(const uint8_t *p) {
    uint64_t x;
    memcpy(&x, p, 8);
    return wb__simd_I64X2_SPLAT(x);
}
static inline wb__v128 wb__simd_V128_LOAD32_ZERO(const uint8_t *p) {
    uint32_t x;
    memcpy(&x, p, 4);
    return (wb__v128){x, 0};
}
static inline wb__v128 wb__simd_V128_LOAD64_ZERO(const uint8_t *p) {
    uint64_t x;
    memcpy(&x, p, 8);
    return (wb__v128){x, 0};
}

/* lane loads and stores: lane i of v, `size` bytes wide */
#define WB_SIMD_LANE_MEMORY(LOAD, STORE, size)                                                     \
    static inline wb__v128 wb__simd_##LOAD(const uint8_t *p, wb__v128 v, uint32_t i) {             \
        memcpy((uint8_t *)&v + (i & (16 / (size)-1)) * (size), p, size);                           \
        return v;                                                                                  \
    }                                                                                              \
    static inline void wb__simd_##STORE(uint8_t *p, wb__v128 v, uint32_t i) {                      \
        memcpy(p, (const uint8_t *)&v + (i & (16 / (size)-1)) * (size), size);                     \
    }
WB_SIMD_LANE_MEMORY(V128_LOAD8_LANE, V128_STORE8_LANE, 1)
WB_SIMD_LANE_MEMORY(V128_LOAD16_LANE, V128_STORE16_LANE, 2)
WB_SIMD_LANE_MEMORY(V128_LOAD32_LANE, V128_STORE32_LANE, 4)
WB_SIMD_LANE_MEMORY(V128_LOAD64_LANE, V128_STORE64_LANE, 8)
#undef WB_SIMD_LANE_MEMORY

#endif
