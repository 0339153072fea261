/* The SIMD handlers of the dispatch loop, included by interp_loop.h inside the interpreter function
 * (they use its ip, fp, U, SLOT, D, A, B, NEXT and EA). A v128 operand or result is the first of
 * its two slots; every handler reads its operands before it writes its result. Operand layouts
 * are listed in lower.h; the semantics are in interp_simd_ops.h. */

#define VGET(k)    wb__v128_get(&fp[U(k)])
#define VPUT(k, v) wb__v128_put(&fp[U(k)], (v))

L_V128_CONST : {
    wb__v128 v = {(uint64_t)U(1) | ((uint64_t)U(2) << 32), (uint64_t)U(3) | ((uint64_t)U(4) << 32)};
    VPUT(0, v);
    NEXT(7);
}
L_I8X16_SHUFFLE : {
    VPUT(0, wb__simd_I8X16_SHUFFLE(VGET(9), VGET(10), &U(1)));
    NEXT(13);
}
L_I8X16_SHUFFLE_SSSE3 : {
    VPUT(0, wb__simd_I8X16_SHUFFLE_SSSE3(VGET(9), VGET(10), &U(1)));
    NEXT(13);
}
L_I8X16_SWIZZLE_SSSE3 : {
    VPUT(0, wb__simd_I8X16_SWIZZLE_SSSE3(VGET(1), VGET(2)));
    NEXT(5);
}

#define WB_SIMD_HANDLER(sub, NAME, shape) WB_SIMD_HANDLER_##shape(NAME)
#define WB_SIMD_HANDLER_V_V(NAME)                                                                  \
    L_##NAME : VPUT(0, wb__simd_##NAME(VGET(1)));                                                  \
    NEXT(4);
#define WB_SIMD_HANDLER_VV_V(NAME)                                                                 \
    L_##NAME : VPUT(0, wb__simd_##NAME(VGET(1), VGET(2)));                                         \
    NEXT(5);
#define WB_SIMD_HANDLER_VVV_V(NAME)                                                                \
    L_##NAME : VPUT(0, wb__simd_##NAME(VGET(1), VGET(2), VGET(3)));                                \
    NEXT(6);
#define WB_SIMD_HANDLER_V_I32(NAME)                                                                \
    L_##NAME : D.u64 = wb__simd_##NAME(VGET(1));                                                   \
    NEXT(4);
#define WB_SIMD_HANDLER_VI32_V(NAME)                                                               \
    L_##NAME : VPUT(0, wb__simd_##NAME(VGET(1), B.u32));                                           \
    NEXT(5);
#define WB_SIMD_HANDLER_I32_V(NAME)                                                                \
    L_##NAME : VPUT(0, wb__simd_##NAME(A.u32));                                                    \
    NEXT(4);
#define WB_SIMD_HANDLER_F32_V WB_SIMD_HANDLER_I32_V
#define WB_SIMD_HANDLER_I64_V(NAME)                                                                \
    L_##NAME : VPUT(0, wb__simd_##NAME(A.u64));                                                    \
    NEXT(4);
#define WB_SIMD_HANDLER_F64_V WB_SIMD_HANDLER_I64_V
WB_SIMD_OPS(WB_SIMD_HANDLER)
#undef WB_SIMD_HANDLER

/* shifts by a constant: SHIFT_I d a imm */
#define WB_SIMD_IMM_HANDLER(sub, NAME, shape) WB_SIMD_IMM_HANDLER_##shape(NAME)
#define WB_SIMD_IMM_HANDLER_VI32_V(NAME)                                                           \
    L_##NAME##_I : VPUT(0, wb__simd_##NAME(VGET(1), U(2)));                                        \
    NEXT(5);
#define WB_SIMD_IMM_HANDLER_V_V(NAME)
#define WB_SIMD_IMM_HANDLER_VV_V(NAME)
#define WB_SIMD_IMM_HANDLER_VVV_V(NAME)
#define WB_SIMD_IMM_HANDLER_V_I32(NAME)
#define WB_SIMD_IMM_HANDLER_I32_V(NAME)
#define WB_SIMD_IMM_HANDLER_I64_V(NAME)
#define WB_SIMD_IMM_HANDLER_F32_V(NAME)
#define WB_SIMD_IMM_HANDLER_F64_V(NAME)
WB_SIMD_OPS(WB_SIMD_IMM_HANDLER)
#undef WB_SIMD_IMM_HANDLER

/* EXTRACT d lane a / REPLACE d lane a x */
#define WB_SIMD_LANE_HANDLER(sub, NAME, lanes, t, kind) WB_SIMD_LANE_HANDLER_##kind(NAME)
#define WB_SIMD_LANE_HANDLER_EXTRACT(NAME)                                                         \
    L_##NAME : D.u64 = wb__simd_##NAME(VGET(2), U(1));                                             \
    NEXT(5);
#define WB_SIMD_LANE_HANDLER_REPLACE(NAME)                                                         \
    L_##NAME : VPUT(0, wb__simd_##NAME(VGET(2), SLOT(3).u64, U(1)));                               \
    NEXT(6);
WB_SIMD_LANE_OPS(WB_SIMD_LANE_HANDLER)
#undef WB_SIMD_LANE_HANDLER

/* LOAD d offset a / STORE offset a v */
#define WB_SIMD_MEMORY_HANDLER(sub, NAME, lg, kind) WB_SIMD_MEMORY_HANDLER_##kind(NAME, lg)
#define WB_SIMD_MEMORY_HANDLER_LOAD(NAME, lg)                                                      \
    L_##NAME : {                                                                                   \
        const uint8_t *p = EA(U(2), U(1), 1u << (lg));                                             \
        VPUT(0, wb__simd_##NAME(p));                                                               \
        NEXT(5);                                                                                   \
    }
#define WB_SIMD_MEMORY_HANDLER_STORE(NAME, lg)                                                     \
    L_##NAME : {                                                                                   \
        uint8_t *p = EA(U(1), U(0), 1u << (lg));                                                   \
        wb__simd_##NAME(p, VGET(2));                                                               \
        NEXT(5);                                                                                   \
    }
WB_SIMD_MEMORY_OPS(WB_SIMD_MEMORY_HANDLER)
#undef WB_SIMD_MEMORY_HANDLER

/* loads from a fused address add: LOAD_A d offset a k / LOAD_X d offset a b */
#define WB_SIMD_MEMA_HANDLER(sub, NAME, lg, kind) WB_SIMD_MEMA_HANDLER_##kind(NAME, lg)
#define WB_SIMD_MEMA_HANDLER_LOAD(NAME, lg)                                                        \
    L_##NAME##_A : {                                                                               \
        const uint8_t *p = EA_ADD(U(2), U(3), U(1), 1u << (lg));                                   \
        VPUT(0, wb__simd_##NAME(p));                                                               \
        NEXT(6);                                                                                   \
    }                                                                                              \
    L_##NAME##_X : {                                                                               \
        const uint8_t *p = EA_ADD(U(2), SLOT(3).u32, U(1), 1u << (lg));                            \
        VPUT(0, wb__simd_##NAME(p));                                                               \
        NEXT(6);                                                                                   \
    }
#define WB_SIMD_MEMA_HANDLER_STORE(NAME, lg)
WB_SIMD_MEMORY_OPS(WB_SIMD_MEMA_HANDLER)
#undef WB_SIMD_MEMA_HANDLER

/* LOAD d offset lane a v / STORE offset lane a v */
#define WB_SIMD_LANE_MEMORY_HANDLER(sub, NAME, lg, kind)                                           \
    WB_SIMD_LANE_MEMORY_HANDLER_##kind(NAME, lg)
#define WB_SIMD_LANE_MEMORY_HANDLER_LOAD(NAME, lg)                                                 \
    L_##NAME : {                                                                                   \
        const uint8_t *p = EA(U(3), U(1), 1u << (lg));                                             \
        VPUT(0, wb__simd_##NAME(p, VGET(4), U(2)));                                                \
        NEXT(7);                                                                                   \
    }
#define WB_SIMD_LANE_MEMORY_HANDLER_STORE(NAME, lg)                                                \
    L_##NAME : {                                                                                   \
        uint8_t *p = EA(U(2), U(0), 1u << (lg));                                                   \
        wb__simd_##NAME(p, VGET(3), U(1));                                                         \
        NEXT(6);                                                                                   \
    }
WB_SIMD_LANE_MEMORY_OPS(WB_SIMD_LANE_MEMORY_HANDLER)
#undef WB_SIMD_LANE_MEMORY_HANDLER

#undef VGET
#undef VPUT
