/* wasm/lower.h — the internal code the interpreter runs, produced once per function by lower.c.
 *
 * Code is an array of 32-bit units. An instruction is its handler's address (2 units, the label of
 * the interpreter's dispatch loop: direct threading) followed by its operands, one unit each unless
 * noted:
 *   - slot operands: an index into the frame (fp[k]); params first, then locals, then temporaries
 *     (the wasm operand stack mapped to fixed slots at lowering time, register-style);
 *   - immediates: a 32-bit value; 64-bit immediates take two units (low, high);
 *   - branch targets: a signed offset in units from the start of the branching instruction.
 * Nothing is decoded at run time: no LEB128, no block scanning, no type dispatch.
 */
#ifndef WB_WASM_LOWER_H
#define WB_WASM_LOWER_H

#include <stdint.h>

#include "wasm/opcodes.h"

/* Integer comparisons that have fused compare-and-branch forms. X(NAME, C operator, signedness) */
#define WB_CMP_OPS(X)                                                                              \
    X(EQ, ==, u)                                                                                   \
    X(NE, !=, u)                                                                                   \
    X(LT_S, <, s)                                                                                  \
    X(LT_U, <, u)                                                                                  \
    X(GT_S, >, s)                                                                                  \
    X(GT_U, >, u)                                                                                  \
    X(LE_S, <=, s)                                                                                 \
    X(LE_U, <=, u)                                                                                 \
    X(GE_S, >=, s)                                                                                 \
    X(GE_U, >=, u)

/* Binary integer ops that also exist with an immediate right operand (OP_I: d, a, imm32; for I64
 * the immediate is sign-extended). */
#define WB_IMM_BINOPS(X)                                                                           \
    X(I32_ADD)                                                                                     \
    X(I32_SUB)                                                                                     \
    X(I32_MUL)                                                                                     \
    X(I32_AND)                                                                                     \
    X(I32_OR)                                                                                      \
    X(I32_XOR)                                                                                     \
    X(I32_SHL)                                                                                     \
    X(I32_SHR_S)                                                                                   \
    X(I32_SHR_U)                                                                                   \
    X(I32_ROTL)                                                                                    \
    X(I32_ROTR)                                                                                    \
    X(I32_EQ)                                                                                      \
    X(I32_NE)                                                                                      \
    X(I32_LT_S)                                                                                    \
    X(I32_LT_U)                                                                                    \
    X(I32_GT_S)                                                                                    \
    X(I32_GT_U)                                                                                    \
    X(I32_LE_S)                                                                                    \
    X(I32_LE_U)                                                                                    \
    X(I32_GE_S)                                                                                    \
    X(I32_GE_U)                                                                                    \
    X(I64_ADD)                                                                                     \
    X(I64_SUB)                                                                                     \
    X(I64_MUL)                                                                                     \
    X(I64_AND)                                                                                     \
    X(I64_OR)                                                                                      \
    X(I64_XOR)                                                                                     \
    X(I64_SHL)                                                                                     \
    X(I64_SHR_S)                                                                                   \
    X(I64_SHR_U)                                                                                   \
    X(I64_ROTL)                                                                                    \
    X(I64_ROTR)                                                                                    \
    X(I64_EQ)                                                                                      \
    X(I64_NE)                                                                                      \
    X(I64_LT_S)                                                                                    \
    X(I64_LT_U)                                                                                    \
    X(I64_GT_S)                                                                                    \
    X(I64_GT_U)                                                                                    \
    X(I64_LE_S)                                                                                    \
    X(I64_LE_U)                                                                                    \
    X(I64_GE_S)                                                                                    \
    X(I64_GE_U)

/* The internal instructions. Operands after the handler, in order:
 *   HALT                         leave the interpreter (the host entry's return address)
 *   UNREACHABLE                  trap
 *   FUEL                         consume one unit of fuel (interruptible modules only)
 *   COPY d s / COPY2 d s         fp[d] = fp[s] (COPY2: two slots, v128)
 *   COPY_PAIR d1 s1 d2 s2        two COPYs in order, one dispatch
 *   CONST32 d imm / CONST64 d lo hi
 *   SELECT d a b c / SELECT2     fp[d] = fp[c].i32 ? fp[a] : fp[b]
 *   GLOBAL_GET d g / GLOBAL_SET g s (and the *2 forms for v128)
 *   BR off / BR_NZ c off / BR_Z c off / BR64_NZ c off / BR64_Z c off
 *   BR_<cmp> a b off / BR_<cmp>_I a imm off / BR64_<cmp> a b off / BR64_<cmp>_I a imm off
 *   BR_TABLE i n off[0..n]       off[n] is the default
 *   BR_TABLE_I i n k off[0..n]   the same on (u32)(fp[i] + k)
 *   BR_AND_NZ a imm off / BR_AND_Z a imm off   branch if fp[a].i32 & imm is non-zero / zero
 *   CALL code(2) base            call a function of this module; args at fp[base..]
 *   CALL_IMPORT func base        call imported function `func` (host or another instance)
 *   CALL_INDIRECT table type elem base
 *   RETURN                       results already in fp[0..]
 *   RETURN1 s                    fp[0] = fp[s]; return
 *   <numeric op> d a [b]         from WB_NUMERIC_OPS and WB_SAT_OPS
 *   <op>_I d a imm               from WB_IMM_BINOPS
 *   I32_SHR_U_AND_I d a s m      fp[d] = (fp[a] >> s) & m (i32; two ops fused)
 *   I32_AND_SHL_I d a m s        fp[d] = (fp[a] & m) << s
 *   I32_ADD_SHL_I d a b s        fp[d] = fp[a] + (fp[b] << s)
 *   GLOBAL_SET_ADD_I d a k g     fp[d] = fp[a] + k (i32), then global g = fp[d]
 *   <load> d a offset / <store> a v offset   from WB_MEMORY_OPS
 *   <load>_A d a offset k        load from (u32)(fp[a] + k) + offset: a fused i32.add of a constant
 *   <load>_X d a offset b        load from (u32)(fp[a] + fp[b]) + offset: a fused i32.add
 *   <store>_A a v offset k / <store>_X a v offset b   the same for stores
 *   MEMORY_SIZE d / MEMORY_GROW d n / MEMORY_FILL d v n / MEMORY_COPY d s n
 *   MEMORY_INIT seg d s n / DATA_DROP seg
 *   TABLE_GET d t i / TABLE_SET t i v / TABLE_SIZE d t / TABLE_GROW d t v n / TABLE_FILL t i v n
 *   TABLE_COPY dt st d s n / TABLE_INIT t seg d s n / ELEM_DROP seg
 *   REF_IS_NULL d a / REF_FUNC d func
 * SIMD (a v128 operand or result is the first of its two slots):
 *   V128_CONST d lo0 hi0 lo1 hi1 the 16 bytes as two 64-bit halves
 *   <simd op> d a [b [c]]        from WB_SIMD_OPS (shifts: a v128, b i32; splats: a scalar)
 *   <extract lane> d lane a / <replace lane> d lane a x            from WB_SIMD_LANE_OPS
 *   <shift>_I d a imm            a shift by a constant count
 *   <load> d offset a / <store> offset a v                         from WB_SIMD_MEMORY_OPS
 *   <load>_A d offset a k / <load>_X d offset a b    loads from (u32)(fp[a] + k or fp[b]) + offset
 *   <load lane> d offset lane a v / <store lane> offset lane a v   from WB_SIMD_LANE_MEMORY_OPS
 *   I8X16_SHUFFLE d ma0..ma3 mb0..mb3 a b   two pshufb masks (16 bytes each, 0x80: zero) taking
 *                                lanes from a and from b; I8X16_SHUFFLE_SSSE3 the same with pshufb
 *   I8X16_SWIZZLE_SSSE3 d a b    i8x16.swizzle with pshufb
 * The SSSE3 forms are emitted only where the CPU has SSSE3 (the build's baseline is SSE2).
 */
#define WB_IOP_NUMERIC(opc, NAME, a, b, r) X(NAME)
#define WB_IOP_SAT(sub, NAME, a, r)        X(NAME)
#define WB_IOP_MEM(opc, NAME, t, lg, st)   X(NAME)
#define WB_IOP_MEMA(opc, NAME, t, lg, st)  WB_IOP_MEMA_##st(NAME)
#define WB_IOP_MEMA_0(NAME)                X(NAME##_A) X(NAME##_X)
#define WB_IOP_MEMA_1(NAME)                X(NAME##_A) X(NAME##_X)
#define WB_IOP_IMM(NAME)                   X(NAME##_I)
#define WB_IOP_BR32(NAME, op, sg)          X(BR_##NAME) X(BR_##NAME##_I)
#define WB_IOP_BR64(NAME, op, sg)          X(BR64_##NAME) X(BR64_##NAME##_I)
#define WB_IOP_SIMD(sub, NAME, ...)        X(NAME)
#define WB_IOP_SIMD_IMM(sub, NAME, shape)  WB_IOP_SIMD_IMM_##shape(NAME)
#define WB_IOP_SIMD_IMM_VI32_V(NAME)       X(NAME##_I)
#define WB_IOP_SIMD_IMM_V_V(NAME)
#define WB_IOP_SIMD_IMM_VV_V(NAME)
#define WB_IOP_SIMD_IMM_VVV_V(NAME)
#define WB_IOP_SIMD_IMM_V_I32(NAME)
#define WB_IOP_SIMD_IMM_I32_V(NAME)
#define WB_IOP_SIMD_IMM_I64_V(NAME)
#define WB_IOP_SIMD_IMM_F32_V(NAME)
#define WB_IOP_SIMD_IMM_F64_V(NAME)
#define WB_IOP_SIMD_MEMA(sub, NAME, lg, kind) WB_IOP_SIMD_MEMA_##kind(NAME)
#define WB_IOP_SIMD_MEMA_LOAD(NAME)           X(NAME##_A) X(NAME##_X)
#define WB_IOP_SIMD_MEMA_STORE(NAME)

#define WB_IOPS_FIXED(X)                                                                           \
    X(HALT)                                                                                        \
    X(UNREACHABLE)                                                                                 \
    X(FUEL)                                                                                        \
    X(COPY)                                                                                        \
    X(COPY2)                                                                                       \
    X(COPY_PAIR)                                                                                   \
    X(CONST32)                                                                                     \
    X(CONST64)                                                                                     \
    X(SELECT)                                                                                      \
    X(SELECT2)                                                                                     \
    X(GLOBAL_GET)                                                                                  \
    X(GLOBAL_SET)                                                                                  \
    X(GLOBAL_GET2)                                                                                 \
    X(GLOBAL_SET2)                                                                                 \
    X(BR)                                                                                          \
    X(BR_NZ)                                                                                       \
    X(BR_Z)                                                                                        \
    X(BR64_NZ)                                                                                     \
    X(BR64_Z)                                                                                      \
    X(BR_TABLE)                                                                                    \
    X(BR_TABLE_I)                                                                                  \
    X(BR_AND_NZ)                                                                                   \
    X(BR_AND_Z)                                                                                    \
    X(I32_SHR_U_AND_I)                                                                             \
    X(I32_AND_SHL_I)                                                                               \
    X(I32_ADD_SHL_I)                                                                               \
    X(GLOBAL_SET_ADD_I)                                                                            \
    X(CALL)                                                                                        \
    X(CALL_IMPORT)                                                                                 \
    X(CALL_INDIRECT)                                                                               \
    X(RETURN)                                                                                      \
    X(RETURN1)                                                                                     \
    X(MEMORY_SIZE)                                                                                 \
    X(MEMORY_GROW)                                                                                 \
    X(MEMORY_FILL)                                                                                 \
    X(MEMORY_COPY)                                                                                 \
    X(MEMORY_INIT)                                                                                 \
    X(DATA_DROP)                                                                                   \
    X(TABLE_GET)                                                                                   \
    X(TABLE_SET)                                                                                   \
    X(TABLE_SIZE)                                                                                  \
    X(TABLE_GROW)                                                                                  \
    X(TABLE_FILL)                                                                                  \
    X(TABLE_COPY)                                                                                  \
    X(TABLE_INIT)                                                                                  \
    X(ELEM_DROP)                                                                                   \
    X(REF_IS_NULL)                                                                                 \
    X(REF_FUNC)

/* Pairs of instructions often found one after the other (counted on the programs of bench/ and
 * bench/realworld.sh): once a function is lowered, the first of such a pair gets the handler
 * A_THEN_B, which runs A and jumps straight to B's handler instead of dispatching through the
 * code. The code keeps its layout (A's operands, then B with its own handler and operands), so
 * a branch to B still runs B alone. X(A, B); A never branches away but for a conditional
 * branch not taken; B may be a pair itself (a chain of three). The list is the most frequent
 * pairs counted on the programs of bench/realworld.sh (weight 70 %) and bench/ (30 %): 160 of
 * plain instructions, then 140 more counted with those in place (docs/engine.md). */
#define WB_PAIR_OPS(X)                                                                             \
    X(I32_ADD_I, I32_ADD_I)                                                                        \
    X(I32_LOAD, I32_LOAD)                                                                          \
    X(I32_ADD_I, I32_LOAD)                                                                         \
    X(I32_ADD_SHL_I, I32_LOAD)                                                                     \
    X(I32_LOAD, I32_ADD_I)                                                                         \
    X(I32_LOAD, I32_ADD)                                                                           \
    X(I32_ADD_I, I32_STORE)                                                                        \
    X(I32_STORE, I32_ADD_I)                                                                        \
    X(I32_ADD_I, COPY)                                                                             \
    X(I32_ADD, I32_ADD_I)                                                                          \
    X(F64_STORE, I32_ADD_I)                                                                        \
    X(I32_ADD, I32_ADD)                                                                            \
    X(I32_ADD_I, BR_NE)                                                                            \
    X(F64_MUL, F64_ADD)                                                                            \
    X(BR_NE, I32_ADD_I)                                                                            \
    X(F64_ADD, F64_STORE)                                                                          \
    X(I32_SHL_I, I32_LOAD_A)                                                                       \
    X(I32_STORE8, I32_ADD_I)                                                                       \
    X(I32_ADD_I, BR_NZ)                                                                            \
    X(I32_STORE, I32_STORE)                                                                        \
    X(I32_SHR_U_AND_I, I32_ADD)                                                                    \
    X(I32_STORE, I32_LOAD)                                                                         \
    X(I32_LOAD, I32_STORE)                                                                         \
    X(COPY, CALL)                                                                                  \
    X(COPY_PAIR, COPY)                                                                             \
    X(I32_SHR_U_I, I32_XOR)                                                                        \
    X(I32_ADD_I, CONST32)                                                                          \
    X(I32_ADD_I, BR)                                                                               \
    X(CONST32, I32_STORE8_A)                                                                       \
    X(COPY, BR)                                                                                    \
    X(CONST32, SELECT)                                                                             \
    X(I32_ADD, I32_LOAD8_U)                                                                        \
    X(BR_LE_U, CONST32)                                                                            \
    X(I32_ADD_I, I32_ADD_SHL_I)                                                                    \
    X(COPY, BR_Z)                                                                                  \
    X(CONST32, I32_SUB)                                                                            \
    X(I32_ADD, BR_LE_U)                                                                            \
    X(I32_LOAD8_U, I32_LOAD8_U)                                                                    \
    X(I32_STORE8_A, I32_ADD)                                                                       \
    X(I32_LOAD8_U, I32_STORE8)                                                                     \
    X(CONST32, CONST32)                                                                            \
    X(F64_LOAD, F64_MUL)                                                                           \
    X(BR_Z, I32_ADD_I)                                                                             \
    X(I32_SHL_I, I32_ADD_I)                                                                        \
    X(COPY, CONST32)                                                                               \
    X(I32_LOAD8_U_A, I32_STORE8)                                                                   \
    X(I32_ROTL_I, I32_XOR)                                                                         \
    X(I32_ADD, I32_LOAD_A)                                                                         \
    X(I32_LOAD, BR_Z)                                                                              \
    X(BR_NZ, I32_LOAD8_U)                                                                          \
    X(I32_STORE, CONST32)                                                                          \
    X(COPY, BR_NZ)                                                                                 \
    X(I32_ADD_I, I32_LOAD8_U_A)                                                                    \
    X(I32_LOAD8_U, BR_NE)                                                                          \
    X(I32_ADD, I32_STORE)                                                                          \
    X(CONST32, BR_Z)                                                                               \
    X(I32_ADD, I32_LOAD8_U_X)                                                                      \
    X(I32_SHL_I, I32_XOR)                                                                          \
    X(I32_LOAD, I32_ADD_SHL_I)                                                                     \
    X(F64_MUL, F64_MUL)                                                                            \
    X(I32_LOAD8_U, BR_Z)                                                                           \
    X(I32_MUL_I, I32_ADD)                                                                          \
    X(BR_AND_Z, BR_AND_Z)                                                                          \
    X(BR_NZ, I32_ADD_I)                                                                            \
    X(I32_ADD, BR)                                                                                 \
    X(CONST32, I32_STORE)                                                                          \
    X(I64_EXTEND_I32_S, I64_ADD)                                                                   \
    X(I32_LOAD, I32_SHR_U_AND_I)                                                                   \
    X(I32_AND, I32_ADD)                                                                            \
    X(COPY_PAIR, CALL)                                                                             \
    X(GLOBAL_GET, GLOBAL_SET_ADD_I)                                                                \
    X(F64_LOAD, F64_LOAD_A)                                                                        \
    X(CONST32, I32_ADD_I)                                                                          \
    X(I32_AND_SHL_I, I32_LOAD_A)                                                                   \
    X(I32_LOAD_A, BR_TABLE_I)                                                                      \
    X(I32_ADD, I32_LOAD8_U_A)                                                                      \
    X(I32_ADD_I, CALL)                                                                             \
    X(I32_ADD_I, I32_SHR_U_I)                                                                      \
    X(BR_GE_U, I32_STORE)                                                                          \
    X(CONST32, I32_LOAD)                                                                           \
    X(I32_ADD_SHL_I, I32_ADD_I)                                                                    \
    X(I32_SHR_U_I, I32_AND_I)                                                                      \
    X(CONST32, BR_GE_S_I)                                                                          \
    X(I64_ADD, RETURN1)                                                                            \
    X(I64_ADD, I32_LT_U_I)                                                                         \
    X(I32_LT_U_I, I32_ADD_I)                                                                       \
    X(I32_ADD, I32_LOAD)                                                                           \
    X(I32_STORE, BR)                                                                               \
    X(I32_ADD_I, I32_ADD)                                                                          \
    X(CONST32, BR)                                                                                 \
    X(I32_LOAD, I32_LOAD8_U)                                                                       \
    X(I32_SUB, BR_NZ)                                                                              \
    X(BR_NZ, I32_LOAD)                                                                             \
    X(I32_LOAD8_U_A, I32_LOAD8_U_A)                                                                \
    X(COPY, I32_LOAD)                                                                              \
    X(I32_AND_I, I32_ADD_I)                                                                        \
    X(I64_LOAD, I64_STORE)                                                                         \
    X(I32_ADD_I, COPY_PAIR)                                                                        \
    X(I32_LOAD, BR_NZ)                                                                             \
    X(I32_LOAD8_U, BR_NE_I)                                                                        \
    X(I32_MUL_I, I32_SHR_U_I)                                                                      \
    X(I32_LOAD, I32_SUB)                                                                           \
    X(I32_XOR, I32_SHR_U_I)                                                                        \
    X(F64_LOAD, F64_LOAD)                                                                          \
    X(F64_LOAD_A, F64_MUL)                                                                         \
    X(I32_ADD_I, F64_LOAD)                                                                         \
    X(BR_NE, F64_LOAD)                                                                             \
    X(I32_LOAD8_U_X, I32_SUB)                                                                      \
    X(I32_AND_I, I32_SHL_I)                                                                        \
    X(I32_ROTL_I, I32_ROTL_I)                                                                      \
    X(I32_XOR, I32_SHL_I)                                                                          \
    X(BR_Z, I32_LOAD)                                                                              \
    X(BR_Z, COPY_PAIR)                                                                             \
    X(COPY, I32_ADD_I)                                                                             \
    X(I32_LOAD, BR_LT_U)                                                                           \
    X(I32_STORE, COPY)                                                                             \
    X(I64_ADD_I, I32_LOAD8_U)                                                                      \
    X(I32_ADD_I, BR_GT_U_I)                                                                        \
    X(I32_XOR, I32_MUL_I)                                                                          \
    X(SELECT, I32_ADD_I)                                                                           \
    X(I32_ADD_I, BR_LT_S)                                                                          \
    X(I32_ADD_I, I32_LOAD8_U)                                                                      \
    X(I32_LOAD, I32_SHL_I)                                                                         \
    X(I32_XOR, I32_AND_I)                                                                          \
    X(I32_EQZ, I32_ADD)                                                                            \
    X(I32_ADD, CONST32)                                                                            \
    X(CONST32, CALL)                                                                               \
    X(COPY_PAIR, I32_ADD_I)                                                                        \
    X(COPY_PAIR, COPY_PAIR)                                                                        \
    X(I32_LOAD8_U, I32_AND_I)                                                                      \
    X(I32_LOAD, CONST32)                                                                           \
    X(I32_LOAD8_U_A, BR_NE)                                                                        \
    X(CONST32, I32_AND_I)                                                                          \
    X(BR_GE_S_I, CONST32)                                                                          \
    X(BR_Z, I32_LOAD8_U)                                                                           \
    X(I32_LOAD_A, BR)                                                                              \
    X(I32_LOAD8_U, I32_SHL_I)                                                                      \
    X(I32_AND_I, BR_TABLE)                                                                         \
    X(BR_LT_U, I32_ADD_I)                                                                          \
    X(I32_SHL_I, I32_SHR_S_I)                                                                      \
    X(I32_GT_U, SELECT)                                                                            \
    X(I32_SHR_U_AND_I, CONST32)                                                                    \
    X(I32_SHR_U_AND_I, I32_SHR_U_AND_I)                                                            \
    X(I32_LOAD, I32_MUL_I)                                                                         \
    X(I32_AND_I, I32_SHR_U_AND_I)                                                                  \
    X(I32_OR, I32_STORE)                                                                           \
    X(I32_LOAD_X, BR_NE)                                                                           \
    X(BR_Z, I64_EXTEND_I32_S)                                                                      \
    X(I32_SUB, I32_STORE)                                                                          \
    X(COPY, I32_AND_I)                                                                             \
    X(I32_AND_I, BR_NZ)                                                                            \
    X(I64_ADD_I, I64_AND)                                                                          \
    X(I64_AND, BR64_Z)                                                                             \
    X(BR64_Z, I32_ADD_I)                                                                           \
    X(CONST32, I32_STORE8)                                                                         \
    X(I32_LOAD_X, BR_GE_U)                                                                         \
    X(I32_XOR, I32_ADD)                                                                            \
    X(I32_AND_SHL_I, I32_LOAD_X)                                                                   \
    X(I32_CTZ, I32_ADD)                                                                            \
    X(I32_ADD, I32_AND_SHL_I)                                                                      \
    X(BR_NE, F64_LOAD_THEN_F64_LOAD)                                                               \
    X(BR_NZ, I32_LOAD8_U_THEN_I32_LOAD8_U)                                                         \
    X(I32_WRAP_I64, I32_CTZ_THEN_I32_ADD)                                                          \
    X(I32_LOAD_A, I32_LOAD_X_THEN_BR_NE)                                                           \
    X(BR_GE_U, I32_STORE_THEN_I32_ADD_I)                                                           \
    X(I32_NE, COPY_THEN_BR_NZ)                                                                     \
    X(F64_LOAD, F64_ADD_THEN_F64_STORE)                                                            \
    X(F64_MUL, F64_SUB)                                                                            \
    X(I32_ADD_SHL_I, I32_GT_S)                                                                     \
    X(I32_GT_S, SELECT_THEN_I32_ADD_I)                                                             \
    X(BR_EQ, I32_LOAD8_U_A_THEN_I32_LOAD8_U_A)                                                     \
    X(I32_XOR, I32_ROTL_I_THEN_I32_XOR)                                                            \
    X(BR_LT_S, I32_ADD_SHL_I)                                                                      \
    X(I32_ADD_I, BR_LT_U)                                                                          \
    X(I32_SHL_I, I32_OR_I)                                                                         \
    X(BR_LT_U, I32_SHL_I_THEN_I32_LOAD_A)                                                          \
    X(I32_OR_I, BR_LT_U)                                                                           \
    X(CONST64, I64_MUL)                                                                            \
    X(I32_LOAD8_U_A, CONST32_THEN_SELECT)                                                          \
    X(I64_EQ, I64_ADD_I)                                                                           \
    X(I64_ADD, I64_ADD)                                                                            \
    X(I64_ADD, I32_ADD_I)                                                                          \
    X(I32_ADD_I, I32_EQZ_THEN_I32_ADD)                                                             \
    X(I64_ADD_I, COPY_THEN_BR_Z)                                                                   \
    X(I32_ADD_I, BR_NE_I)                                                                          \
    X(CONST32, I32_STORE_A)                                                                        \
    X(I32_LOAD16_U_A, I32_ADD_SHL_I_THEN_I32_LOAD)                                                 \
    X(I32_STORE, RETURN)                                                                           \
    X(I32_SHR_U_I, BR_TABLE)                                                                       \
    X(BR_AND_Z, BR_Z_THEN_I32_LOAD8_U)                                                             \
    X(CONST32, I64_STORE)                                                                          \
    X(I32_LOAD8_U, BR_TABLE_I)                                                                     \
    X(CONST32, I64_STORE_A)                                                                        \
    X(I32_ADD_I, BR_LT_U_I)                                                                        \
    X(I32_LOAD8_U, BR_AND_Z)                                                                       \
    X(I32_STORE8_A, I32_ADD_I_THEN_I32_LOAD8_U)                                                    \
    X(F64_SUB, F64_STORE)                                                                          \
    X(F64_LOAD_A, F64_SUB)                                                                         \
    X(F64_SUB, F64_MUL_THEN_F64_ADD)                                                               \
    X(F64_STORE, F64_LOAD_THEN_F64_MUL)                                                            \
    X(I32_ADD_I, F64_MUL_THEN_F64_MUL)                                                             \
    X(I32_LOAD8_U, BR_AND_NZ)                                                                      \
    X(I32_LOAD, BR_LT_S_I)                                                                         \
    X(I32_ADD_I, BR_GE_S)                                                                          \
    X(I32_OR_I, I32_ADD_I)                                                                         \
    X(BR_LT_S_I, I32_LOAD_THEN_I32_ADD_SHL_I)                                                      \
    X(I32_LOAD8_U_X, I32_ADD_THEN_I32_LOAD8_U_A)                                                   \
    X(I32_LOAD8_U, I32_OR)                                                                         \
    X(CONST32, I32_SHL)                                                                            \
    X(I32_LT_U_I, COPY_THEN_BR_NZ)                                                                 \
    X(I32_ADD_I, I32_AND_I)                                                                        \
    X(I32_ADD_I, I32_SHR_S_I)                                                                      \
    X(I32_STORE_A, CONST32)                                                                        \
    X(CONST32, I32_STORE16)                                                                        \
    X(I64_STORE_A, I64_STORE_A)                                                                    \
    X(I32_LOAD, BR)                                                                                \
    X(BR_NE, I32_LOAD8_U_A_THEN_I32_LOAD8_U_A)                                                     \
    X(BR_LT_S_I, I32_ADD_I)                                                                        \
    X(BR_LT_U_I, COPY)                                                                             \
    X(BR_AND_Z, COPY_PAIR_THEN_COPY)                                                               \
    X(COPY, BR_AND_Z)                                                                              \
    X(I64_STORE_A, CONST32)                                                                        \
    X(I32_ADD_SHL_I, I32_SHR_U_AND_I_THEN_I32_ADD)                                                 \
    X(F64_LOAD, CONST64)                                                                           \
    X(CONST32, F64_LOAD)                                                                           \
    X(CONST64, F64_MUL_THEN_F64_ADD)                                                               \
    X(I64_EXTEND_I32_U, I64_AND_I)                                                                 \
    X(I32_SHL, I32_OR_THEN_I32_STORE)                                                              \
    X(I32_ADD, I32_XOR_I)                                                                          \
    X(I32_AND, I32_AND)                                                                            \
    X(I32_AND, I32_XOR_THEN_I32_ADD)                                                               \
    X(I32_XOR, I32_AND)                                                                            \
    X(I32_LOAD_A, I32_ADD_THEN_I32_ADD)                                                            \
    X(I32_XOR_I, I32_AND_THEN_I32_ADD)                                                             \
    X(I32_SHR_U_I, I32_ADD_SHL_I)                                                                  \
    X(I32_ADD_SHL_I, BR)                                                                           \
    X(I64_MUL, I64_SHR_U)                                                                          \
    X(I32_SHR_S_I, BR_GT_S_I)                                                                      \
    X(CONST32, RETURN)                                                                             \
    X(I32_LOAD_X, I32_ADD_I_THEN_COPY_PAIR)                                                        \
    X(BR_EQ_I, I32_LOAD_X)                                                                         \
    X(CONST32, F64_STORE)                                                                          \
    X(F64_STORE, CONST32)                                                                          \
    X(I32_STORE_A, I32_STORE_A)                                                                    \
    X(I32_SHR_S_I, I32_AND_THEN_I32_ADD)                                                           \
    X(I32_ADD, I32_STORE8_A)                                                                       \
    X(I32_ADD_I, I32_OR_I)                                                                         \
    X(I32_ADD_SHL_I, I32_LOAD8_U)                                                                  \
    X(I32_AND_I, I32_AND_I)                                                                        \
    X(I32_SHR_U_I, I32_OR)                                                                         \
    X(I32_WRAP_I64, I32_ADD_SHL_I)                                                                 \
    X(I32_AND_I, I32_SHR_U)                                                                        \
    X(F64_LOAD, BR)                                                                                \
    X(I32_STORE8, I32_LOAD8_U_THEN_I32_STORE8)                                                     \
    X(COPY, I32_LOAD8_U)                                                                           \
    X(I32_OR, I32_AND_I)                                                                           \
    X(I32_SHL_I, I32_LOAD8_U_A)                                                                    \
    X(CONST32, BR_NE)                                                                              \
    X(I32_SHR_U_AND_I, I32_ADD_SHL_I)                                                              \
    X(I32_LOAD, I32_XOR)                                                                           \
    X(I32_AND_I, I32_STORE)                                                                        \
    X(I32_SHR_U_I, I32_ADD_I)                                                                      \
    X(I32_ADD, RETURN1)                                                                            \
    X(BR_AND_NZ, BR)                                                                               \
    X(I64_LOAD_A, I64_STORE)                                                                       \
    X(F64_LOAD_A, F64_LOAD_A)                                                                      \
    X(I32_LT_S, SELECT)                                                                            \
    X(I32_ADD_SHL_I, I32_STORE_THEN_I32_ADD_I)                                                     \
    X(BR_AND_Z, BR_AND_NZ)                                                                         \
    X(I32_GT_U, RETURN1)                                                                           \
    X(BR_EQ, I32_GT_U)                                                                             \
    X(CONST32, I32_REM_U)                                                                          \
    X(I32_ADD_I, I64_LOAD_A)                                                                       \
    X(BR_GE_S_I, COPY_THEN_BR)                                                                     \
    X(I32_STORE, I32_ADD)                                                                          \
    X(I32_LOAD8_U_A, BR)                                                                           \
    X(I32_LOAD16_U, I32_STORE16)                                                                   \
    X(I32_STORE8, I32_ADD)                                                                         \
    X(BR_GE_U, CONST32_THEN_I32_LOAD)                                                              \
    X(I32_LOAD, BR_EQ)                                                                             \
    X(BR_AND_NZ, COPY_PAIR_THEN_COPY)                                                              \
    X(I32_STORE8_A, BR_LT_U_I)                                                                     \
    X(I32_SUB, BR_GT_S)                                                                            \
    X(I32_LOAD_A, I32_ADD_THEN_I32_LOAD_A)                                                         \
    X(I32_LOAD8_U, BR_EQ_I)                                                                        \
    X(I32_LOAD_A, I32_ROTL_I_THEN_I32_ROTL_I)                                                      \
    X(CONST64, F64_DIV)                                                                            \
    X(BR_NE_I, I32_ADD_THEN_I32_ADD_I)                                                             \
    X(I32_LOAD8_S, I32_AND_I)                                                                      \
    X(I32_SHL, I32_XOR_I)                                                                          \
    X(I32_XOR_I, I32_AND)                                                                          \
    X(BR_LT_S_I, BR_LT_S_I)                                                                        \
    X(BR_Z, I32_ADD_SHL_I)                                                                         \
    X(I64_STORE, CONST32)                                                                          \
    X(BR_GT_S, I32_ADD_THEN_I32_LOAD8_U)                                                           \
    X(I32_AND_I, I32_MUL_I)                                                                        \
    X(I32_OR, I32_LOAD16_U)                                                                        \
    X(I32_LOAD8_U, I32_ADD_SHL_I_THEN_I32_LOAD)                                                    \
    X(I32_LOAD8_U_A, BR_AND_Z)                                                                     \
    X(BR_Z, BR_NZ)
#define WB_IOP_PAIR(A, B) X(A##_THEN_##B)

/* Every internal instruction, for enums and label tables. Expands X(NAME) for each. */
#define WB_IOPS(X)                                                                                 \
    WB_IOPS_FIXED(X)                                                                               \
    WB_NUMERIC_OPS(WB_IOP_NUMERIC)                                                                 \
    WB_SAT_OPS(WB_IOP_SAT)                                                                         \
    WB_MEMORY_OPS(WB_IOP_MEM)                                                                      \
    WB_MEMORY_OPS(WB_IOP_MEMA)                                                                     \
    WB_IMM_BINOPS(WB_IOP_IMM)                                                                      \
    WB_CMP_OPS(WB_IOP_BR32)                                                                        \
    WB_CMP_OPS(WB_IOP_BR64)                                                                        \
    X(V128_CONST)                                                                                  \
    X(I8X16_SHUFFLE)                                                                               \
    X(I8X16_SHUFFLE_SSSE3)                                                                         \
    X(I8X16_SWIZZLE_SSSE3)                                                                         \
    WB_SIMD_OPS(WB_IOP_SIMD)                                                                       \
    WB_SIMD_OPS(WB_IOP_SIMD_IMM)                                                                   \
    WB_SIMD_MEMORY_OPS(WB_IOP_SIMD_MEMA)                                                           \
    WB_SIMD_LANE_OPS(WB_IOP_SIMD)                                                                  \
    WB_SIMD_MEMORY_OPS(WB_IOP_SIMD)                                                                \
    WB_SIMD_LANE_MEMORY_OPS(WB_IOP_SIMD)                                                           \
    WB_PAIR_OPS(WB_IOP_PAIR)

enum wb_iop {
#define X(NAME) WB_IOP_##NAME,
    WB_IOPS(X)
#undef X
        WB_IOP_COUNT
};

/* Units an instruction's handler address takes. */
#define WB_HANDLER_UNITS 2

#endif
