/* wasm/interp_ops.h — the semantics of each numeric, load and store instruction, as macros over
 * frame slots (d = destination, a/b = operands; integer right operands come as values so that the
 * immediate forms share them). Integer results are written as whole zero-extended slots; f32
 * results write the low half only. TRAP(kind) and UNLIKELY are the dispatch loop's. */
#ifndef WB_WASM_INTERP_OPS_H
#define WB_WASM_INTERP_OPS_H

#include <stdint.h>
#include <string.h>

#define wb__signbit(x) __builtin_signbit(x)

static inline float wb__fminf(float a, float b) {
    if (a != a || b != b) return a + b; /* propagates a NaN, quieted */
    if (a == 0 && b == 0) return wb__signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline float wb__fmaxf(float a, float b) {
    if (a != a || b != b) return a + b;
    if (a == 0 && b == 0) return wb__signbit(a) ? b : a;
    return a > b ? a : b;
}
static inline double wb__fmin(double a, double b) {
    if (a != a || b != b) return a + b;
    if (a == 0 && b == 0) return wb__signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline double wb__fmax(double a, double b) {
    if (a != a || b != b) return a + b;
    if (a == 0 && b == 0) return wb__signbit(a) ? b : a;
    return a > b ? a : b;
}
static inline uint32_t wb__rotl32(uint32_t x, uint32_t n) {
    n &= 31;
    return (x << n) | (x >> ((32 - n) & 31));
}
static inline uint32_t wb__rotr32(uint32_t x, uint32_t n) {
    n &= 31;
    return (x >> n) | (x << ((32 - n) & 31));
}
static inline uint64_t wb__rotl64(uint64_t x, uint64_t n) {
    n &= 63;
    return (x << n) | (x >> ((64 - n) & 63));
}
static inline uint64_t wb__rotr64(uint64_t x, uint64_t n) {
    n &= 63;
    return (x >> n) | (x << ((64 - n) & 63));
}

/* Rounding to integral values, without libm (whose functions also return a signalling NaN
 * unquieted, where wasm wants it quiet). Values of magnitude >= 2^52 (2^23 for f32) are already
 * integral; below that, the integer conversion is exact. Requires strict IEEE arithmetic in the
 * default rounding mode (no -ffast-math), which is how everything here is built. */
static inline double wb__copysign(double mag, double sgn) {
    uint64_t m, g;
    memcpy(&m, &mag, 8);
    memcpy(&g, &sgn, 8);
    m = (m & 0x7fffffffffffffffull) | (g & 0x8000000000000000ull);
    memcpy(&mag, &m, 8);
    return mag;
}
static inline float wb__copysignf(float mag, float sgn) {
    uint32_t m, g;
    memcpy(&m, &mag, 4);
    memcpy(&g, &sgn, 4);
    m = (m & 0x7fffffffu) | (g & 0x80000000u);
    memcpy(&mag, &m, 4);
    return mag;
}
static inline double wb__trunc(double x) {
    if (x != x) return x + x;
    if (!(x > -4503599627370496.0 && x < 4503599627370496.0)) return x;
    return wb__copysign((double)(int64_t)x, x);
}
static inline double wb__floor(double x) {
    double t = wb__trunc(x);
    return t > x ? t - 1.0 : t;
}
static inline double wb__ceil(double x) {
    double t = wb__trunc(x);
    return t < x ? wb__copysign(t + 1.0, x) : t;
}
static inline double wb__nearbyint(double x) {
    if (x != x) return x + x;
    double a = wb__copysign(x, 1.0);
    if (!(a < 4503599627370496.0)) return x;
    /* adding and removing 2^52 rounds to the nearest integer, ties to even */
    return wb__copysign((a + 4503599627370496.0) - 4503599627370496.0, x);
}
static inline float wb__truncf(float x) {
    if (x != x) return x + x;
    if (!(x > -8388608.0f && x < 8388608.0f)) return x;
    return wb__copysignf((float)(int32_t)x, x);
}
static inline float wb__floorf(float x) {
    float t = wb__truncf(x);
    return t > x ? t - 1.0f : t;
}
static inline float wb__ceilf(float x) {
    float t = wb__truncf(x);
    return t < x ? wb__copysignf(t + 1.0f, x) : t;
}
static inline float wb__nearbyintf(float x) {
    if (x != x) return x + x;
    float a = wb__copysignf(x, 1.0f);
    if (!(a < 8388608.0f)) return x;
    return wb__copysignf((a + 8388608.0f) - 8388608.0f, x);
}
static inline float wb__sqrtf(float x) {
    return __builtin_sqrtf(x);
}
static inline double wb__sqrt(double x) {
    return __builtin_sqrt(x);
}

/* compare helpers for fused branches: a is a slot, b a value */
#define WB_CMP32_s(a, op, b) ((a).i32 op(int32_t)(b))
#define WB_CMP32_u(a, op, b) ((a).u32 op(uint32_t)(b))
#define WB_CMP64_s(a, op, b) ((a).i64 op(int64_t)(b))
#define WB_CMP64_u(a, op, b) ((a).u64 op(uint64_t)(b))

/* i32 */
#define WB_OP_I32_EQZ(d, a)      ((d).u64 = (a).u32 == 0)
#define WB_OP_I32_EQ(d, a, b)    ((d).u64 = WB_CMP32_u(a, ==, b))
#define WB_OP_I64_EQ(d, a, b)    ((d).u64 = WB_CMP64_u(a, ==, b))
#define WB_OP_I32_NE(d, a, b)    ((d).u64 = WB_CMP32_u(a, !=, b))
#define WB_OP_I64_NE(d, a, b)    ((d).u64 = WB_CMP64_u(a, !=, b))
#define WB_OP_I32_LT_S(d, a, b)  ((d).u64 = WB_CMP32_s(a, <, b))
#define WB_OP_I64_LT_S(d, a, b)  ((d).u64 = WB_CMP64_s(a, <, b))
#define WB_OP_I32_LT_U(d, a, b)  ((d).u64 = WB_CMP32_u(a, <, b))
#define WB_OP_I64_LT_U(d, a, b)  ((d).u64 = WB_CMP64_u(a, <, b))
#define WB_OP_I32_GT_S(d, a, b)  ((d).u64 = WB_CMP32_s(a, >, b))
#define WB_OP_I64_GT_S(d, a, b)  ((d).u64 = WB_CMP64_s(a, >, b))
#define WB_OP_I32_GT_U(d, a, b)  ((d).u64 = WB_CMP32_u(a, >, b))
#define WB_OP_I64_GT_U(d, a, b)  ((d).u64 = WB_CMP64_u(a, >, b))
#define WB_OP_I32_LE_S(d, a, b)  ((d).u64 = WB_CMP32_s(a, <=, b))
#define WB_OP_I64_LE_S(d, a, b)  ((d).u64 = WB_CMP64_s(a, <=, b))
#define WB_OP_I32_LE_U(d, a, b)  ((d).u64 = WB_CMP32_u(a, <=, b))
#define WB_OP_I64_LE_U(d, a, b)  ((d).u64 = WB_CMP64_u(a, <=, b))
#define WB_OP_I32_GE_S(d, a, b)  ((d).u64 = WB_CMP32_s(a, >=, b))
#define WB_OP_I64_GE_S(d, a, b)  ((d).u64 = WB_CMP64_s(a, >=, b))
#define WB_OP_I32_GE_U(d, a, b)  ((d).u64 = WB_CMP32_u(a, >=, b))
#define WB_OP_I64_GE_U(d, a, b)  ((d).u64 = WB_CMP64_u(a, >=, b))
#define WB_OP_I32_CLZ(d, a)      ((d).u64 = (a).u32 ? (uint32_t)__builtin_clz((a).u32) : 32)
#define WB_OP_I32_CTZ(d, a)      ((d).u64 = (a).u32 ? (uint32_t)__builtin_ctz((a).u32) : 32)
#define WB_OP_I32_POPCNT(d, a)   ((d).u64 = (uint32_t)__builtin_popcount((a).u32))
#define WB_OP_I32_ADD(d, a, b)   ((d).u64 = (uint32_t)((a).u32 + (uint32_t)(b)))
#define WB_OP_I32_SUB(d, a, b)   ((d).u64 = (uint32_t)((a).u32 - (uint32_t)(b)))
#define WB_OP_I32_MUL(d, a, b)   ((d).u64 = (uint32_t)((a).u32 * (uint32_t)(b)))
#define WB_OP_I32_AND(d, a, b)   ((d).u64 = (a).u32 & (uint32_t)(b))
#define WB_OP_I32_OR(d, a, b)    ((d).u64 = (a).u32 | (uint32_t)(b))
#define WB_OP_I32_XOR(d, a, b)   ((d).u64 = (a).u32 ^ (uint32_t)(b))
#define WB_OP_I32_SHL(d, a, b)   ((d).u64 = (uint32_t)((a).u32 << ((uint32_t)(b)&31)))
#define WB_OP_I32_SHR_S(d, a, b) ((d).u64 = (uint32_t)((a).i32 >> ((uint32_t)(b)&31)))
#define WB_OP_I32_SHR_U(d, a, b) ((d).u64 = (a).u32 >> ((uint32_t)(b)&31))
#define WB_OP_I32_ROTL(d, a, b)  ((d).u64 = wb__rotl32((a).u32, (uint32_t)(b)))
#define WB_OP_I32_ROTR(d, a, b)  ((d).u64 = wb__rotr32((a).u32, (uint32_t)(b)))
#define WB_OP_I32_DIV_S(d, a, b)                                                                   \
    do {                                                                                           \
        int32_t x_ = (a).i32, y_ = (int32_t)(b);                                                   \
        if (UNLIKELY(y_ == 0)) TRAP(WB_TRAP_DIV_ZERO);                                             \
        if (UNLIKELY(x_ == INT32_MIN && y_ == -1)) TRAP(WB_TRAP_INT_OVERFLOW);                     \
        (d).u64 = (uint32_t)(x_ / y_);                                                             \
    } while (0)
#define WB_OP_I32_DIV_U(d, a, b)                                                                   \
    do {                                                                                           \
        uint32_t x_ = (a).u32, y_ = (uint32_t)(b);                                                 \
        if (UNLIKELY(y_ == 0)) TRAP(WB_TRAP_DIV_ZERO);                                             \
        (d).u64 = x_ / y_;                                                                         \
    } while (0)
#define WB_OP_I32_REM_S(d, a, b)                                                                   \
    do {                                                                                           \
        int32_t x_ = (a).i32, y_ = (int32_t)(b);                                                   \
        if (UNLIKELY(y_ == 0)) TRAP(WB_TRAP_DIV_ZERO);                                             \
        (d).u64 = (y_ == -1) ? 0 : (uint32_t)(x_ % y_);                                            \
    } while (0)
#define WB_OP_I32_REM_U(d, a, b)                                                                   \
    do {                                                                                           \
        uint32_t x_ = (a).u32, y_ = (uint32_t)(b);                                                 \
        if (UNLIKELY(y_ == 0)) TRAP(WB_TRAP_DIV_ZERO);                                             \
        (d).u64 = x_ % y_;                                                                         \
    } while (0)

/* i64 */
#define WB_OP_I64_EQZ(d, a)      ((d).u64 = (a).u64 == 0)
#define WB_OP_I64_CLZ(d, a)      ((d).u64 = (a).u64 ? (uint64_t)__builtin_clzll((a).u64) : 64)
#define WB_OP_I64_CTZ(d, a)      ((d).u64 = (a).u64 ? (uint64_t)__builtin_ctzll((a).u64) : 64)
#define WB_OP_I64_POPCNT(d, a)   ((d).u64 = (uint64_t)__builtin_popcountll((a).u64))
#define WB_OP_I64_ADD(d, a, b)   ((d).u64 = (a).u64 + (uint64_t)(b))
#define WB_OP_I64_SUB(d, a, b)   ((d).u64 = (a).u64 - (uint64_t)(b))
#define WB_OP_I64_MUL(d, a, b)   ((d).u64 = (a).u64 * (uint64_t)(b))
#define WB_OP_I64_AND(d, a, b)   ((d).u64 = (a).u64 & (uint64_t)(b))
#define WB_OP_I64_OR(d, a, b)    ((d).u64 = (a).u64 | (uint64_t)(b))
#define WB_OP_I64_XOR(d, a, b)   ((d).u64 = (a).u64 ^ (uint64_t)(b))
#define WB_OP_I64_SHL(d, a, b)   ((d).u64 = (a).u64 << ((uint64_t)(b)&63))
#define WB_OP_I64_SHR_S(d, a, b) ((d).u64 = (uint64_t)((a).i64 >> ((uint64_t)(b)&63)))
#define WB_OP_I64_SHR_U(d, a, b) ((d).u64 = (a).u64 >> ((uint64_t)(b)&63))
#define WB_OP_I64_ROTL(d, a, b)  ((d).u64 = wb__rotl64((a).u64, (uint64_t)(b)))
#define WB_OP_I64_ROTR(d, a, b)  ((d).u64 = wb__rotr64((a).u64, (uint64_t)(b)))
#define WB_OP_I64_DIV_S(d, a, b)                                                                   \
    do {                                                                                           \
        int64_t x_ = (a).i64, y_ = (int64_t)(b);                                                   \
        if (UNLIKELY(y_ == 0)) TRAP(WB_TRAP_DIV_ZERO);                                             \
        if (UNLIKELY(x_ == INT64_MIN && y_ == -1)) TRAP(WB_TRAP_INT_OVERFLOW);                     \
        (d).i64 = x_ / y_;                                                                         \
    } while (0)
#define WB_OP_I64_DIV_U(d, a, b)                                                                   \
    do {                                                                                           \
        uint64_t x_ = (a).u64, y_ = (uint64_t)(b);                                                 \
        if (UNLIKELY(y_ == 0)) TRAP(WB_TRAP_DIV_ZERO);                                             \
        (d).u64 = x_ / y_;                                                                         \
    } while (0)
#define WB_OP_I64_REM_S(d, a, b)                                                                   \
    do {                                                                                           \
        int64_t x_ = (a).i64, y_ = (int64_t)(b);                                                   \
        if (UNLIKELY(y_ == 0)) TRAP(WB_TRAP_DIV_ZERO);                                             \
        (d).i64 = (y_ == -1) ? 0 : x_ % y_;                                                        \
    } while (0)
#define WB_OP_I64_REM_U(d, a, b)                                                                   \
    do {                                                                                           \
        uint64_t x_ = (a).u64, y_ = (uint64_t)(b);                                                 \
        if (UNLIKELY(y_ == 0)) TRAP(WB_TRAP_DIV_ZERO);                                             \
        (d).u64 = x_ % y_;                                                                         \
    } while (0)

/* floats */
#define WB_OP_F32_EQ(d, a, b)       ((d).u64 = (a).f32 == (b).f32)
#define WB_OP_F32_NE(d, a, b)       ((d).u64 = (a).f32 != (b).f32)
#define WB_OP_F32_LT(d, a, b)       ((d).u64 = (a).f32 < (b).f32)
#define WB_OP_F32_GT(d, a, b)       ((d).u64 = (a).f32 > (b).f32)
#define WB_OP_F32_LE(d, a, b)       ((d).u64 = (a).f32 <= (b).f32)
#define WB_OP_F32_GE(d, a, b)       ((d).u64 = (a).f32 >= (b).f32)
#define WB_OP_F32_ABS(d, a)         ((d).u32 = (a).u32 & 0x7fffffffu)
#define WB_OP_F32_NEG(d, a)         ((d).u32 = (a).u32 ^ 0x80000000u)
#define WB_OP_F32_CEIL(d, a)        ((d).f32 = wb__ceilf((a).f32))
#define WB_OP_F32_FLOOR(d, a)       ((d).f32 = wb__floorf((a).f32))
#define WB_OP_F32_TRUNC(d, a)       ((d).f32 = wb__truncf((a).f32))
#define WB_OP_F32_NEAREST(d, a)     ((d).f32 = wb__nearbyintf((a).f32))
#define WB_OP_F32_SQRT(d, a)        ((d).f32 = wb__sqrtf((a).f32))
#define WB_OP_F32_ADD(d, a, b)      ((d).f32 = (a).f32 + (b).f32)
#define WB_OP_F32_SUB(d, a, b)      ((d).f32 = (a).f32 - (b).f32)
#define WB_OP_F32_MUL(d, a, b)      ((d).f32 = (a).f32 * (b).f32)
#define WB_OP_F32_DIV(d, a, b)      ((d).f32 = (a).f32 / (b).f32)
#define WB_OP_F32_MIN(d, a, b)      ((d).f32 = wb__fminf((a).f32, (b).f32))
#define WB_OP_F32_MAX(d, a, b)      ((d).f32 = wb__fmaxf((a).f32, (b).f32))
#define WB_OP_F32_COPYSIGN(d, a, b) ((d).u32 = ((a).u32 & 0x7fffffffu) | ((b).u32 & 0x80000000u))
#define WB_OP_F64_EQ(d, a, b)       ((d).u64 = (a).f64 == (b).f64)
#define WB_OP_F64_NE(d, a, b)       ((d).u64 = (a).f64 != (b).f64)
#define WB_OP_F64_LT(d, a, b)       ((d).u64 = (a).f64 < (b).f64)
#define WB_OP_F64_GT(d, a, b)       ((d).u64 = (a).f64 > (b).f64)
#define WB_OP_F64_LE(d, a, b)       ((d).u64 = (a).f64 <= (b).f64)
#define WB_OP_F64_GE(d, a, b)       ((d).u64 = (a).f64 >= (b).f64)
#define WB_OP_F64_ABS(d, a)         ((d).u64 = (a).u64 & 0x7fffffffffffffffull)
#define WB_OP_F64_NEG(d, a)         ((d).u64 = (a).u64 ^ 0x8000000000000000ull)
#define WB_OP_F64_CEIL(d, a)        ((d).f64 = wb__ceil((a).f64))
#define WB_OP_F64_FLOOR(d, a)       ((d).f64 = wb__floor((a).f64))
#define WB_OP_F64_TRUNC(d, a)       ((d).f64 = wb__trunc((a).f64))
#define WB_OP_F64_NEAREST(d, a)     ((d).f64 = wb__nearbyint((a).f64))
#define WB_OP_F64_SQRT(d, a)        ((d).f64 = wb__sqrt((a).f64))
#define WB_OP_F64_ADD(d, a, b)      ((d).f64 = (a).f64 + (b).f64)
#define WB_OP_F64_SUB(d, a, b)      ((d).f64 = (a).f64 - (b).f64)
#define WB_OP_F64_MUL(d, a, b)      ((d).f64 = (a).f64 * (b).f64)
#define WB_OP_F64_DIV(d, a, b)      ((d).f64 = (a).f64 / (b).f64)
#define WB_OP_F64_MIN(d, a, b)      ((d).f64 = wb__fmin((a).f64, (b).f64))
#define WB_OP_F64_MAX(d, a, b)      ((d).f64 = wb__fmax((a).f64, (b).f64))
#define WB_OP_F64_COPYSIGN(d, a, b)                                                                \
    ((d).u64 = ((a).u64 & 0x7fffffffffffffffull) | ((b).u64 & 0x8000000000000000ull))
/* conversions */
#define WB_OP_I32_WRAP_I64(d, a) ((d).u64 = (uint32_t)(a).u64)
#define WB_OP_I32_TRUNC_F32_S(d, a)                                                                \
    do {                                                                                           \
        __typeof__((a).f32) x_ = (a).f32;                                                          \
        if (UNLIKELY(x_ != x_)) TRAP(WB_TRAP_INVALID_CONVERSION);                                  \
        if (UNLIKELY(!(x_ >= -2147483648.0f && x_ < 2147483648.0f))) TRAP(WB_TRAP_INT_OVERFLOW);   \
        (d).u64 = (uint32_t)(int32_t)x_;                                                           \
    } while (0)
#define WB_OP_I32_TRUNC_F32_U(d, a)                                                                \
    do {                                                                                           \
        __typeof__((a).f32) x_ = (a).f32;                                                          \
        if (UNLIKELY(x_ != x_)) TRAP(WB_TRAP_INVALID_CONVERSION);                                  \
        if (UNLIKELY(!(x_ > -1.0f && x_ < 4294967296.0f))) TRAP(WB_TRAP_INT_OVERFLOW);             \
        (d).u64 = (uint32_t)x_;                                                                    \
    } while (0)
#define WB_OP_I32_TRUNC_F64_S(d, a)                                                                \
    do {                                                                                           \
        __typeof__((a).f64) x_ = (a).f64;                                                          \
        if (UNLIKELY(x_ != x_)) TRAP(WB_TRAP_INVALID_CONVERSION);                                  \
        if (UNLIKELY(!(x_ > -2147483649.0 && x_ < 2147483648.0))) TRAP(WB_TRAP_INT_OVERFLOW);      \
        (d).u64 = (uint32_t)(int32_t)x_;                                                           \
    } while (0)
#define WB_OP_I32_TRUNC_F64_U(d, a)                                                                \
    do {                                                                                           \
        __typeof__((a).f64) x_ = (a).f64;                                                          \
        if (UNLIKELY(x_ != x_)) TRAP(WB_TRAP_INVALID_CONVERSION);                                  \
        if (UNLIKELY(!(x_ > -1.0 && x_ < 4294967296.0))) TRAP(WB_TRAP_INT_OVERFLOW);               \
        (d).u64 = (uint32_t)x_;                                                                    \
    } while (0)
#define WB_OP_I64_TRUNC_F32_S(d, a)                                                                \
    do {                                                                                           \
        __typeof__((a).f32) x_ = (a).f32;                                                          \
        if (UNLIKELY(x_ != x_)) TRAP(WB_TRAP_INVALID_CONVERSION);                                  \
        if (UNLIKELY(!(x_ >= -9223372036854775808.0f && x_ < 9223372036854775808.0f)))             \
            TRAP(WB_TRAP_INT_OVERFLOW);                                                            \
        (d).i64 = (int64_t)x_;                                                                     \
    } while (0)
#define WB_OP_I64_TRUNC_F32_U(d, a)                                                                \
    do {                                                                                           \
        __typeof__((a).f32) x_ = (a).f32;                                                          \
        if (UNLIKELY(x_ != x_)) TRAP(WB_TRAP_INVALID_CONVERSION);                                  \
        if (UNLIKELY(!(x_ > -1.0f && x_ < 18446744073709551616.0f))) TRAP(WB_TRAP_INT_OVERFLOW);   \
        (d).u64 = (uint64_t)x_;                                                                    \
    } while (0)
#define WB_OP_I64_TRUNC_F64_S(d, a)                                                                \
    do {                                                                                           \
        __typeof__((a).f64) x_ = (a).f64;                                                          \
        if (UNLIKELY(x_ != x_)) TRAP(WB_TRAP_INVALID_CONVERSION);                                  \
        if (UNLIKELY(!(x_ >= -9223372036854775808.0 && x_ < 9223372036854775808.0)))               \
            TRAP(WB_TRAP_INT_OVERFLOW);                                                            \
        (d).i64 = (int64_t)x_;                                                                     \
    } while (0)
#define WB_OP_I64_TRUNC_F64_U(d, a)                                                                \
    do {                                                                                           \
        __typeof__((a).f64) x_ = (a).f64;                                                          \
        if (UNLIKELY(x_ != x_)) TRAP(WB_TRAP_INVALID_CONVERSION);                                  \
        if (UNLIKELY(!(x_ > -1.0 && x_ < 18446744073709551616.0))) TRAP(WB_TRAP_INT_OVERFLOW);     \
        (d).u64 = (uint64_t)x_;                                                                    \
    } while (0)
#define WB_OP_I32_TRUNC_SAT_F32_S(d, a)                                                            \
    do {                                                                                           \
        __typeof__((a).f32) x_ = (a).f32;                                                          \
        if (x_ != x_)                                                                              \
            (d).u64 = 0;                                                                           \
        else if (!(x_ >= -2147483648.0f))                                                          \
            (d).u64 = (uint32_t)INT32_MIN;                                                         \
        else if (!(x_ < 2147483648.0f))                                                            \
            (d).u64 = (uint32_t)INT32_MAX;                                                         \
        else                                                                                       \
            (d).u64 = (uint32_t)(int32_t)x_;                                                       \
    } while (0)
#define WB_OP_I32_TRUNC_SAT_F32_U(d, a)                                                            \
    do {                                                                                           \
        __typeof__((a).f32) x_ = (a).f32;                                                          \
        if (x_ != x_)                                                                              \
            (d).u64 = 0;                                                                           \
        else if (!(x_ > -1.0f))                                                                    \
            (d).u64 = 0;                                                                           \
        else if (!(x_ < 4294967296.0f))                                                            \
            (d).u64 = UINT32_MAX;                                                                  \
        else                                                                                       \
            (d).u64 = (uint32_t)x_;                                                                \
    } while (0)
#define WB_OP_I32_TRUNC_SAT_F64_S(d, a)                                                            \
    do {                                                                                           \
        __typeof__((a).f64) x_ = (a).f64;                                                          \
        if (x_ != x_)                                                                              \
            (d).u64 = 0;                                                                           \
        else if (!(x_ > -2147483649.0))                                                            \
            (d).u64 = (uint32_t)INT32_MIN;                                                         \
        else if (!(x_ < 2147483648.0))                                                             \
            (d).u64 = (uint32_t)INT32_MAX;                                                         \
        else                                                                                       \
            (d).u64 = (uint32_t)(int32_t)x_;                                                       \
    } while (0)
#define WB_OP_I32_TRUNC_SAT_F64_U(d, a)                                                            \
    do {                                                                                           \
        __typeof__((a).f64) x_ = (a).f64;                                                          \
        if (x_ != x_)                                                                              \
            (d).u64 = 0;                                                                           \
        else if (!(x_ > -1.0))                                                                     \
            (d).u64 = 0;                                                                           \
        else if (!(x_ < 4294967296.0))                                                             \
            (d).u64 = UINT32_MAX;                                                                  \
        else                                                                                       \
            (d).u64 = (uint32_t)x_;                                                                \
    } while (0)
#define WB_OP_I64_TRUNC_SAT_F32_S(d, a)                                                            \
    do {                                                                                           \
        __typeof__((a).f32) x_ = (a).f32;                                                          \
        if (x_ != x_)                                                                              \
            (d).u64 = 0;                                                                           \
        else if (!(x_ >= -9223372036854775808.0f))                                                 \
            (d).i64 = INT64_MIN;                                                                   \
        else if (!(x_ < 9223372036854775808.0f))                                                   \
            (d).i64 = INT64_MAX;                                                                   \
        else                                                                                       \
            (d).i64 = (int64_t)x_;                                                                 \
    } while (0)
#define WB_OP_I64_TRUNC_SAT_F32_U(d, a)                                                            \
    do {                                                                                           \
        __typeof__((a).f32) x_ = (a).f32;                                                          \
        if (x_ != x_)                                                                              \
            (d).u64 = 0;                                                                           \
        else if (!(x_ > -1.0f))                                                                    \
            (d).u64 = 0;                                                                           \
        else if (!(x_ < 18446744073709551616.0f))                                                  \
            (d).u64 = UINT64_MAX;                                                                  \
        else                                                                                       \
            (d).u64 = (uint64_t)x_;                                                                \
    } while (0)
#define WB_OP_I64_TRUNC_SAT_F64_S(d, a)                                                            \
    do {                                                                                           \
        __typeof__((a).f64) x_ = (a).f64;                                                          \
        if (x_ != x_)                                                                              \
            (d).u64 = 0;                                                                           \
        else if (!(x_ >= -9223372036854775808.0))                                                  \
            (d).i64 = INT64_MIN;                                                                   \
        else if (!(x_ < 9223372036854775808.0))                                                    \
            (d).i64 = INT64_MAX;                                                                   \
        else                                                                                       \
            (d).i64 = (int64_t)x_;                                                                 \
    } while (0)
#define WB_OP_I64_TRUNC_SAT_F64_U(d, a)                                                            \
    do {                                                                                           \
        __typeof__((a).f64) x_ = (a).f64;                                                          \
        if (x_ != x_)                                                                              \
            (d).u64 = 0;                                                                           \
        else if (!(x_ > -1.0))                                                                     \
            (d).u64 = 0;                                                                           \
        else if (!(x_ < 18446744073709551616.0))                                                   \
            (d).u64 = UINT64_MAX;                                                                  \
        else                                                                                       \
            (d).u64 = (uint64_t)x_;                                                                \
    } while (0)
#define WB_OP_I64_EXTEND_I32_S(d, a)    ((d).i64 = (int64_t)(a).i32)
#define WB_OP_I64_EXTEND_I32_U(d, a)    ((d).u64 = (a).u32)
#define WB_OP_F32_CONVERT_I32_S(d, a)   ((d).f32 = (float)(a).i32)
#define WB_OP_F32_CONVERT_I32_U(d, a)   ((d).f32 = (float)(a).u32)
#define WB_OP_F32_CONVERT_I64_S(d, a)   ((d).f32 = (float)(a).i64)
#define WB_OP_F32_CONVERT_I64_U(d, a)   ((d).f32 = (float)(a).u64)
#define WB_OP_F64_CONVERT_I32_S(d, a)   ((d).f64 = (double)(a).i32)
#define WB_OP_F64_CONVERT_I32_U(d, a)   ((d).f64 = (double)(a).u32)
#define WB_OP_F64_CONVERT_I64_S(d, a)   ((d).f64 = (double)(a).i64)
#define WB_OP_F64_CONVERT_I64_U(d, a)   ((d).f64 = (double)(a).u64)
#define WB_OP_F32_DEMOTE_F64(d, a)      ((d).f32 = (float)(a).f64)
#define WB_OP_F64_PROMOTE_F32(d, a)     ((d).f64 = (double)(a).f32)
#define WB_OP_I32_REINTERPRET_F32(d, a) ((d).u64 = (a).u32)
#define WB_OP_I64_REINTERPRET_F64(d, a) ((d).u64 = (a).u64)
#define WB_OP_F32_REINTERPRET_I32(d, a) ((d).u64 = (a).u32)
#define WB_OP_F64_REINTERPRET_I64(d, a) ((d).u64 = (a).u64)
#define WB_OP_I32_EXTEND8_S(d, a)       ((d).u64 = (uint32_t)(int32_t)(int8_t)(a).u32)
#define WB_OP_I32_EXTEND16_S(d, a)      ((d).u64 = (uint32_t)(int32_t)(int16_t)(a).u32)
#define WB_OP_I64_EXTEND8_S(d, a)       ((d).i64 = (int8_t)(a).u64)
#define WB_OP_I64_EXTEND16_S(d, a)      ((d).i64 = (int16_t)(a).u64)
#define WB_OP_I64_EXTEND32_S(d, a)      ((d).i64 = (int32_t)(a).u64)
/* immediates of the _I forms: i32 as is, i64 sign-extended from 32 bits */
#define WB_IMM_I32_ADD(x)   ((uint32_t)(x))
#define WB_IMM_I64_ADD(x)   ((uint64_t)(int64_t)(int32_t)(x))
#define WB_IMM_I32_SUB(x)   ((uint32_t)(x))
#define WB_IMM_I64_SUB(x)   ((uint64_t)(int64_t)(int32_t)(x))
#define WB_IMM_I32_MUL(x)   ((uint32_t)(x))
#define WB_IMM_I64_MUL(x)   ((uint64_t)(int64_t)(int32_t)(x))
#define WB_IMM_I32_AND(x)   ((uint32_t)(x))
#define WB_IMM_I64_AND(x)   ((uint64_t)(int64_t)(int32_t)(x))
#define WB_IMM_I32_OR(x)    ((uint32_t)(x))
#define WB_IMM_I64_OR(x)    ((uint64_t)(int64_t)(int32_t)(x))
#define WB_IMM_I32_XOR(x)   ((uint32_t)(x))
#define WB_IMM_I64_XOR(x)   ((uint64_t)(int64_t)(int32_t)(x))
#define WB_IMM_I32_SHL(x)   ((uint32_t)(x))
#define WB_IMM_I64_SHL(x)   ((uint64_t)(int64_t)(int32_t)(x))
#define WB_IMM_I32_SHR_S(x) ((uint32_t)(x))
#define WB_IMM_I64_SHR_S(x) ((uint64_t)(int64_t)(int32_t)(x))
#define WB_IMM_I32_SHR_U(x) ((uint32_t)(x))
#define WB_IMM_I64_SHR_U(x) ((uint64_t)(int64_t)(int32_t)(x))
#define WB_IMM_I32_ROTL(x)  ((uint32_t)(x))
#define WB_IMM_I64_ROTL(x)  ((uint64_t)(int64_t)(int32_t)(x))
#define WB_IMM_I32_ROTR(x)  ((uint32_t)(x))
#define WB_IMM_I64_ROTR(x)  ((uint64_t)(int64_t)(int32_t)(x))
#define WB_IMM_I32_EQ(x)    ((uint32_t)(x))
#define WB_IMM_I64_EQ(x)    ((uint64_t)(int64_t)(int32_t)(x))
#define WB_IMM_I32_NE(x)    ((uint32_t)(x))
#define WB_IMM_I64_NE(x)    ((uint64_t)(int64_t)(int32_t)(x))
#define WB_IMM_I32_LT_S(x)  ((uint32_t)(x))
#define WB_IMM_I64_LT_S(x)  ((uint64_t)(int64_t)(int32_t)(x))
#define WB_IMM_I32_LT_U(x)  ((uint32_t)(x))
#define WB_IMM_I64_LT_U(x)  ((uint64_t)(int64_t)(int32_t)(x))
#define WB_IMM_I32_GT_S(x)  ((uint32_t)(x))
#define WB_IMM_I64_GT_S(x)  ((uint64_t)(int64_t)(int32_t)(x))
#define WB_IMM_I32_GT_U(x)  ((uint32_t)(x))
#define WB_IMM_I64_GT_U(x)  ((uint64_t)(int64_t)(int32_t)(x))
#define WB_IMM_I32_LE_S(x)  ((uint32_t)(x))
#define WB_IMM_I64_LE_S(x)  ((uint64_t)(int64_t)(int32_t)(x))
#define WB_IMM_I32_LE_U(x)  ((uint32_t)(x))
#define WB_IMM_I64_LE_U(x)  ((uint64_t)(int64_t)(int32_t)(x))
#define WB_IMM_I32_GE_S(x)  ((uint32_t)(x))
#define WB_IMM_I64_GE_S(x)  ((uint64_t)(int64_t)(int32_t)(x))
#define WB_IMM_I32_GE_U(x)  ((uint32_t)(x))
#define WB_IMM_I64_GE_U(x)  ((uint64_t)(int64_t)(int32_t)(x))
/* loads: p points at the first byte */
#define WB_LOAD_I32_LOAD(d, p)                                                                     \
    do {                                                                                           \
        uint32_t v_;                                                                               \
        memcpy(&v_, (p), 4);                                                                       \
        (d).u64 = v_;                                                                              \
    } while (0)
#define WB_LOAD_I64_LOAD(d, p)                                                                     \
    do {                                                                                           \
        uint64_t v_;                                                                               \
        memcpy(&v_, (p), 8);                                                                       \
        (d).u64 = v_;                                                                              \
    } while (0)
#define WB_LOAD_F32_LOAD(d, p)                                                                     \
    do {                                                                                           \
        uint32_t v_;                                                                               \
        memcpy(&v_, (p), 4);                                                                       \
        (d).u64 = v_;                                                                              \
    } while (0)
#define WB_LOAD_F64_LOAD(d, p)                                                                     \
    do {                                                                                           \
        uint64_t v_;                                                                               \
        memcpy(&v_, (p), 8);                                                                       \
        (d).u64 = v_;                                                                              \
    } while (0)
#define WB_LOAD_I32_LOAD8_S(d, p)                                                                  \
    do {                                                                                           \
        int8_t v_;                                                                                 \
        memcpy(&v_, (p), 1);                                                                       \
        (d).u64 = (uint32_t)(int32_t)v_;                                                           \
    } while (0)
#define WB_LOAD_I32_LOAD8_U(d, p)                                                                  \
    do {                                                                                           \
        uint8_t v_;                                                                                \
        memcpy(&v_, (p), 1);                                                                       \
        (d).u64 = v_;                                                                              \
    } while (0)
#define WB_LOAD_I32_LOAD16_S(d, p)                                                                 \
    do {                                                                                           \
        int16_t v_;                                                                                \
        memcpy(&v_, (p), 2);                                                                       \
        (d).u64 = (uint32_t)(int32_t)v_;                                                           \
    } while (0)
#define WB_LOAD_I32_LOAD16_U(d, p)                                                                 \
    do {                                                                                           \
        uint16_t v_;                                                                               \
        memcpy(&v_, (p), 2);                                                                       \
        (d).u64 = v_;                                                                              \
    } while (0)
#define WB_LOAD_I64_LOAD8_S(d, p)                                                                  \
    do {                                                                                           \
        int8_t v_;                                                                                 \
        memcpy(&v_, (p), 1);                                                                       \
        (d).i64 = v_;                                                                              \
    } while (0)
#define WB_LOAD_I64_LOAD8_U(d, p)                                                                  \
    do {                                                                                           \
        uint8_t v_;                                                                                \
        memcpy(&v_, (p), 1);                                                                       \
        (d).u64 = v_;                                                                              \
    } while (0)
#define WB_LOAD_I64_LOAD16_S(d, p)                                                                 \
    do {                                                                                           \
        int16_t v_;                                                                                \
        memcpy(&v_, (p), 2);                                                                       \
        (d).i64 = v_;                                                                              \
    } while (0)
#define WB_LOAD_I64_LOAD16_U(d, p)                                                                 \
    do {                                                                                           \
        uint16_t v_;                                                                               \
        memcpy(&v_, (p), 2);                                                                       \
        (d).u64 = v_;                                                                              \
    } while (0)
#define WB_LOAD_I64_LOAD32_S(d, p)                                                                 \
    do {                                                                                           \
        int32_t v_;                                                                                \
        memcpy(&v_, (p), 4);                                                                       \
        (d).i64 = v_;                                                                              \
    } while (0)
#define WB_LOAD_I64_LOAD32_U(d, p)                                                                 \
    do {                                                                                           \
        uint32_t v_;                                                                               \
        memcpy(&v_, (p), 4);                                                                       \
        (d).u64 = v_;                                                                              \
    } while (0)
/* stores: v is the value's slot */
#define WB_STORE_I32_STORE(p, v)                                                                   \
    do {                                                                                           \
        uint32_t v_ = (uint32_t)(v).u32;                                                           \
        memcpy((p), &v_, 4);                                                                       \
    } while (0)
#define WB_STORE_I64_STORE(p, v)                                                                   \
    do {                                                                                           \
        uint64_t v_ = (uint64_t)(v).u64;                                                           \
        memcpy((p), &v_, 8);                                                                       \
    } while (0)
#define WB_STORE_F32_STORE(p, v)                                                                   \
    do {                                                                                           \
        uint32_t v_ = (uint32_t)(v).u32;                                                           \
        memcpy((p), &v_, 4);                                                                       \
    } while (0)
#define WB_STORE_F64_STORE(p, v)                                                                   \
    do {                                                                                           \
        uint64_t v_ = (uint64_t)(v).u64;                                                           \
        memcpy((p), &v_, 8);                                                                       \
    } while (0)
#define WB_STORE_I32_STORE8(p, v)                                                                  \
    do {                                                                                           \
        uint8_t v_ = (uint8_t)(v).u32;                                                             \
        memcpy((p), &v_, 1);                                                                       \
    } while (0)
#define WB_STORE_I32_STORE16(p, v)                                                                 \
    do {                                                                                           \
        uint16_t v_ = (uint16_t)(v).u32;                                                           \
        memcpy((p), &v_, 2);                                                                       \
    } while (0)
#define WB_STORE_I64_STORE8(p, v)                                                                  \
    do {                                                                                           \
        uint8_t v_ = (uint8_t)(v).u64;                                                             \
        memcpy((p), &v_, 1);                                                                       \
    } while (0)
#define WB_STORE_I64_STORE16(p, v)                                                                 \
    do {                                                                                           \
        uint16_t v_ = (uint16_t)(v).u64;                                                           \
        memcpy((p), &v_, 2);                                                                       \
    } while (0)
#define WB_STORE_I64_STORE32(p, v)                                                                 \
    do {                                                                                           \
        uint32_t v_ = (uint32_t)(v).u64;                                                           \
        memcpy((p), &v_, 4);                                                                       \
    } while (0)

#endif
