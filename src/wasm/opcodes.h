/* Wasm 2.0 opcodes. The numeric ops with a fixed signature and no immediates are listed
 * once in WB_NUMERIC_OPS (WB_SIMD_OPS for the 0xFD-prefixed ones) so that the validator and the
 * lowering agree on them. */
#ifndef WB_WASM_OPCODES_H
#define WB_WASM_OPCODES_H

#include <stdint.h>

enum wb_opcode {
    WB_OP_UNREACHABLE = 0x00,
    WB_OP_NOP = 0x01,
    WB_OP_BLOCK = 0x02,
    WB_OP_LOOP = 0x03,
    WB_OP_IF = 0x04,
    WB_OP_ELSE = 0x05,
    WB_OP_END = 0x0b,
    WB_OP_BR = 0x0c,
    WB_OP_BR_IF = 0x0d,
    WB_OP_BR_TABLE = 0x0e,
    WB_OP_RETURN = 0x0f,
    WB_OP_CALL = 0x10,
    WB_OP_CALL_INDIRECT = 0x11,
    WB_OP_DROP = 0x1a,
    WB_OP_SELECT = 0x1b,
    WB_OP_SELECT_T = 0x1c,
    WB_OP_LOCAL_GET = 0x20,
    WB_OP_LOCAL_SET = 0x21,
    WB_OP_LOCAL_TEE = 0x22,
    WB_OP_GLOBAL_GET = 0x23,
    WB_OP_GLOBAL_SET = 0x24,
    WB_OP_TABLE_GET = 0x25,
    WB_OP_TABLE_SET = 0x26,
    WB_OP_I32_LOAD = 0x28,
    WB_OP_I64_STORE32 = 0x3e,
    WB_OP_MEMORY_SIZE = 0x3f,
    WB_OP_MEMORY_GROW = 0x40,
    WB_OP_I32_CONST = 0x41,
    WB_OP_I64_CONST = 0x42,
    WB_OP_F32_CONST = 0x43,
    WB_OP_F64_CONST = 0x44,
    WB_OP_REF_NULL = 0xd0,
    WB_OP_REF_IS_NULL = 0xd1,
    WB_OP_REF_FUNC = 0xd2,
    WB_OP_PREFIX_FC = 0xfc,
    WB_OP_PREFIX_SIMD = 0xfd,
};

/* 0xFC-prefixed sub-opcodes. */
enum wb_opcode_fc {
    WB_FC_I32_TRUNC_SAT_F32_S = 0,
    WB_FC_I32_TRUNC_SAT_F32_U = 1,
    WB_FC_I32_TRUNC_SAT_F64_S = 2,
    WB_FC_I32_TRUNC_SAT_F64_U = 3,
    WB_FC_I64_TRUNC_SAT_F32_S = 4,
    WB_FC_I64_TRUNC_SAT_F32_U = 5,
    WB_FC_I64_TRUNC_SAT_F64_S = 6,
    WB_FC_I64_TRUNC_SAT_F64_U = 7,
    WB_FC_MEMORY_INIT = 8,
    WB_FC_DATA_DROP = 9,
    WB_FC_MEMORY_COPY = 10,
    WB_FC_MEMORY_FILL = 11,
    WB_FC_TABLE_INIT = 12,
    WB_FC_ELEM_DROP = 13,
    WB_FC_TABLE_COPY = 14,
    WB_FC_TABLE_GROW = 15,
    WB_FC_TABLE_SIZE = 16,
    WB_FC_TABLE_FILL = 17,
};

/* X(opcode, NAME, operand1, operand2, result): operand2 is NONE for unary ops. Types are the
 * value-type names I32 I64 F32 F64. */
#define WB_NUMERIC_OPS(X)                                                                          \
    X(0x45, I32_EQZ, I32, NONE, I32)                                                               \
    X(0x46, I32_EQ, I32, I32, I32)                                                                 \
    X(0x47, I32_NE, I32, I32, I32)                                                                 \
    X(0x48, I32_LT_S, I32, I32, I32)                                                               \
    X(0x49, I32_LT_U, I32, I32, I32)                                                               \
    X(0x4a, I32_GT_S, I32, I32, I32)                                                               \
    X(0x4b, I32_GT_U, I32, I32, I32)                                                               \
    X(0x4c, I32_LE_S, I32, I32, I32)                                                               \
    X(0x4d, I32_LE_U, I32, I32, I32)                                                               \
    X(0x4e, I32_GE_S, I32, I32, I32)                                                               \
    X(0x4f, I32_GE_U, I32, I32, I32)                                                               \
    X(0x50, I64_EQZ, I64, NONE, I32)                                                               \
    X(0x51, I64_EQ, I64, I64, I32)                                                                 \
    X(0x52, I64_NE, I64, I64, I32)                                                                 \
    X(0x53, I64_LT_S, I64, I64, I32)                                                               \
    X(0x54, I64_LT_U, I64, I64, I32)                                                               \
    X(0x55, I64_GT_S, I64, I64, I32)                                                               \
    X(0x56, I64_GT_U, I64, I64, I32)                                                               \
    X(0x57, I64_LE_S, I64, I64, I32)                                                               \
    X(0x58, I64_LE_U, I64, I64, I32)                                                               \
    X(0x59, I64_GE_S, I64, I64, I32)                                                               \
    X(0x5a, I64_GE_U, I64, I64, I32)                                                               \
    X(0x5b, F32_EQ, F32, F32, I32)                                                                 \
    X(0x5c, F32_NE, F32, F32, I32)                                                                 \
    X(0x5d, F32_LT, F32, F32, I32)                                                                 \
    X(0x5e, F32_GT, F32, F32, I32)                                                                 \
    X(0x5f, F32_LE, F32, F32, I32)                                                                 \
    X(0x60, F32_GE, F32, F32, I32)                                                                 \
    X(0x61, F64_EQ, F64, F64, I32)                                                                 \
    X(0x62, F64_NE, F64, F64, I32)                                                                 \
    X(0x63, F64_LT, F64, F64, I32)                                                                 \
    X(0x64, F64_GT, F64, F64, I32)                                                                 \
    X(0x65, F64_LE, F64, F64, I32)                                                                 \
    X(0x66, F64_GE, F64, F64, I32)                                                                 \
    X(0x67, I32_CLZ, I32, NONE, I32)                                                               \
    X(0x68, I32_CTZ, I32, NONE, I32)                                                               \
    X(0x69, I32_POPCNT, I32, NONE, I32)                                                            \
    X(0x6a, I32_ADD, I32, I32, I32)                                                                \
    X(0x6b, I32_SUB, I32, I32, I32)                                                                \
    X(0x6c, I32_MUL, I32, I32, I32)                                                                \
    X(0x6d, I32_DIV_S, I32, I32, I32)                                                              \
    X(0x6e, I32_DIV_U, I32, I32, I32)                                                              \
    X(0x6f, I32_REM_S, I32, I32, I32)                                                              \
    X(0x70, I32_REM_U, I32, I32, I32)                                                              \
    X(0x71, I32_AND, I32, I32, I32)                                                                \
    X(0x72, I32_OR, I32, I32, I32)                                                                 \
    X(0x73, I32_XOR, I32, I32, I32)                                                                \
    X(0x74, I32_SHL, I32, I32, I32)                                                                \
    X(0x75, I32_SHR_S, I32, I32, I32)                                                              \
    X(0x76, I32_SHR_U, I32, I32, I32)                                                              \
    X(0x77, I32_ROTL, I32, I32, I32)                                                               \
    X(0x78, I32_ROTR, I32, I32, I32)                                                               \
    X(0x79, I64_CLZ, I64, NONE, I64)                                                               \
    X(0x7a, I64_CTZ, I64, NONE, I64)                                                               \
    X(0x7b, I64_POPCNT, I64, NONE, I64)                                                            \
    X(0x7c, I64_ADD, I64, I64, I64)                                                                \
    X(0x7d, I64_SUB, I64, I64, I64)                                                                \
    X(0x7e, I64_MUL, I64, I64, I64)                                                                \
    X(0x7f, I64_DIV_S, I64, I64, I64)                                                              \
    X(0x80, I64_DIV_U, I64, I64, I64)                                                              \
    X(0x81, I64_REM_S, I64, I64, I64)                                                              \
    X(0x82, I64_REM_U, I64, I64, I64)                                                              \
    X(0x83, I64_AND, I64, I64, I64)                                                                \
    X(0x84, I64_OR, I64, I64, I64)                                                                 \
    X(0x85, I64_XOR, I64, I64, I64)                                                                \
    X(0x86, I64_SHL, I64, I64, I64)                                                                \
    X(0x87, I64_SHR_S, I64, I64, I64)                                                              \
    X(0x88, I64_SHR_U, I64, I64, I64)                                                              \
    X(0x89, I64_ROTL, I64, I64, I64)                                                               \
    X(0x8a, I64_ROTR, I64, I64, I64)                                                               \
    X(0x8b, F32_ABS, F32, NONE, F32)                                                               \
    X(0x8c, F32_NEG, F32, NONE, F32)                                                               \
    X(0x8d, F32_CEIL, F32, NONE, F32)                                                              \
    X(0x8e, F32_FLOOR, F32, NONE, F32)                                                             \
    X(0x8f, F32_TRUNC, F32, NONE, F32)                                                             \
    X(0x90, F32_NEAREST, F32, NONE, F32)                                                           \
    X(0x91, F32_SQRT, F32, NONE, F32)                                                              \
    X(0x92, F32_ADD, F32, F32, F32)                                                                \
    X(0x93, F32_SUB, F32, F32, F32)                                                                \
    X(0x94, F32_MUL, F32, F32, F32)                                                                \
    X(0x95, F32_DIV, F32, F32, F32)                                                                \
    X(0x96, F32_MIN, F32, F32, F32)                                                                \
    X(0x97, F32_MAX, F32, F32, F32)                                                                \
    X(0x98, F32_COPYSIGN, F32, F32, F32)                                                           \
    X(0x99, F64_ABS, F64, NONE, F64)                                                               \
    X(0x9a, F64_NEG, F64, NONE, F64)                                                               \
    X(0x9b, F64_CEIL, F64, NONE, F64)                                                              \
    X(0x9c, F64_FLOOR, F64, NONE, F64)                                                             \
    X(0x9d, F64_TRUNC, F64, NONE, F64)                                                             \
    X(0x9e, F64_NEAREST, F64, NONE, F64)                                                           \
    X(0x9f, F64_SQRT, F64, NONE, F64)                                                              \
    X(0xa0, F64_ADD, F64, F64, F64)                                                                \
    X(0xa1, F64_SUB, F64, F64, F64)                                                                \
    X(0xa2, F64_MUL, F64, F64, F64)                                                                \
    X(0xa3, F64_DIV, F64, F64, F64)                                                                \
    X(0xa4, F64_MIN, F64, F64, F64)                                                                \
    X(0xa5, F64_MAX, F64, F64, F64)                                                                \
    X(0xa6, F64_COPYSIGN, F64, F64, F64)                                                           \
    X(0xa7, I32_WRAP_I64, I64, NONE, I32)                                                          \
    X(0xa8, I32_TRUNC_F32_S, F32, NONE, I32)                                                       \
    X(0xa9, I32_TRUNC_F32_U, F32, NONE, I32)                                                       \
    X(0xaa, I32_TRUNC_F64_S, F64, NONE, I32)                                                       \
    X(0xab, I32_TRUNC_F64_U, F64, NONE, I32)                                                       \
    X(0xac, I64_EXTEND_I32_S, I32, NONE, I64)                                                      \
    X(0xad, I64_EXTEND_I32_U, I32, NONE, I64)                                                      \
    X(0xae, I64_TRUNC_F32_S, F32, NONE, I64)                                                       \
    X(0xaf, I64_TRUNC_F32_U, F32, NONE, I64)                                                       \
    X(0xb0, I64_TRUNC_F64_S, F64, NONE, I64)                                                       \
    X(0xb1, I64_TRUNC_F64_U, F64, NONE, I64)                                                       \
    X(0xb2, F32_CONVERT_I32_S, I32, NONE, F32)                                                     \
    X(0xb3, F32_CONVERT_I32_U, I32, NONE, F32)                                                     \
    X(0xb4, F32_CONVERT_I64_S, I64, NONE, F32)                                                     \
    X(0xb5, F32_CONVERT_I64_U, I64, NONE, F32)                                                     \
    X(0xb6, F32_DEMOTE_F64, F64, NONE, F32)                                                        \
    X(0xb7, F64_CONVERT_I32_S, I32, NONE, F64)                                                     \
    X(0xb8, F64_CONVERT_I32_U, I32, NONE, F64)                                                     \
    X(0xb9, F64_CONVERT_I64_S, I64, NONE, F64)                                                     \
    X(0xba, F64_CONVERT_I64_U, I64, NONE, F64)                                                     \
    X(0xbb, F64_PROMOTE_F32, F32, NONE, F64)                                                       \
    X(0xbc, I32_REINTERPRET_F32, F32, NONE, I32)                                                   \
    X(0xbd, I64_REINTERPRET_F64, F64, NONE, I64)                                                   \
    X(0xbe, F32_REINTERPRET_I32, I32, NONE, F32)                                                   \
    X(0xbf, F64_REINTERPRET_I64, I64, NONE, F64)                                                   \
    X(0xc0, I32_EXTEND8_S, I32, NONE, I32)                                                         \
    X(0xc1, I32_EXTEND16_S, I32, NONE, I32)                                                        \
    X(0xc2, I64_EXTEND8_S, I64, NONE, I64)                                                         \
    X(0xc3, I64_EXTEND16_S, I64, NONE, I64)                                                        \
    X(0xc4, I64_EXTEND32_S, I64, NONE, I64)

/* Saturating truncations (0xFC 0..7): X(subop, NAME, operand, result). */
#define WB_SAT_OPS(X)                                                                              \
    X(0, I32_TRUNC_SAT_F32_S, F32, I32)                                                            \
    X(1, I32_TRUNC_SAT_F32_U, F32, I32)                                                            \
    X(2, I32_TRUNC_SAT_F64_S, F64, I32)                                                            \
    X(3, I32_TRUNC_SAT_F64_U, F64, I32)                                                            \
    X(4, I64_TRUNC_SAT_F32_S, F32, I64)                                                            \
    X(5, I64_TRUNC_SAT_F32_U, F32, I64)                                                            \
    X(6, I64_TRUNC_SAT_F64_S, F64, I64)                                                            \
    X(7, I64_TRUNC_SAT_F64_U, F64, I64)

/* Loads and stores: X(opcode, NAME, value type, log2 of the access size, is_store). */
#define WB_MEMORY_OPS(X)                                                                           \
    X(0x28, I32_LOAD, I32, 2, 0)                                                                   \
    X(0x29, I64_LOAD, I64, 3, 0)                                                                   \
    X(0x2a, F32_LOAD, F32, 2, 0)                                                                   \
    X(0x2b, F64_LOAD, F64, 3, 0)                                                                   \
    X(0x2c, I32_LOAD8_S, I32, 0, 0)                                                                \
    X(0x2d, I32_LOAD8_U, I32, 0, 0)                                                                \
    X(0x2e, I32_LOAD16_S, I32, 1, 0)                                                               \
    X(0x2f, I32_LOAD16_U, I32, 1, 0)                                                               \
    X(0x30, I64_LOAD8_S, I64, 0, 0)                                                                \
    X(0x31, I64_LOAD8_U, I64, 0, 0)                                                                \
    X(0x32, I64_LOAD16_S, I64, 1, 0)                                                               \
    X(0x33, I64_LOAD16_U, I64, 1, 0)                                                               \
    X(0x34, I64_LOAD32_S, I64, 2, 0)                                                               \
    X(0x35, I64_LOAD32_U, I64, 2, 0)                                                               \
    X(0x36, I32_STORE, I32, 2, 1)                                                                  \
    X(0x37, I64_STORE, I64, 3, 1)                                                                  \
    X(0x38, F32_STORE, F32, 2, 1)                                                                  \
    X(0x39, F64_STORE, F64, 3, 1)                                                                  \
    X(0x3a, I32_STORE8, I32, 0, 1)                                                                 \
    X(0x3b, I32_STORE16, I32, 1, 1)                                                                \
    X(0x3c, I64_STORE8, I64, 0, 1)                                                                 \
    X(0x3d, I64_STORE16, I64, 1, 1)                                                                \
    X(0x3e, I64_STORE32, I64, 2, 1)

/* ---- SIMD: 0xFD-prefixed sub-opcodes (a LEB128 u32 after the prefix) ---- */

enum wb_opcode_simd {
    WB_SIMD_V128_CONST = 0x0c,    /* 16 immediate bytes */
    WB_SIMD_I8X16_SHUFFLE = 0x0d, /* 16 lane indices (bytes, each < 32) */
    WB_SIMD_I8X16_SWIZZLE = 0x0e,
};

/* SIMD ops with a fixed signature and no immediates: X(subop, NAME, shape). Shapes (operands ->
 * result): V_V v128 -> v128; VV_V; VVV_V; V_I32 v128 -> i32; VI32_V v128 i32 -> v128 (shifts);
 * I32_V, I64_V, F32_V, F64_V scalar -> v128 (splats). */
#define WB_SIMD_OPS(X)                                                                             \
    X(0x0e, I8X16_SWIZZLE, VV_V)                                                                   \
    X(0x0f, I8X16_SPLAT, I32_V)                                                                    \
    X(0x10, I16X8_SPLAT, I32_V)                                                                    \
    X(0x11, I32X4_SPLAT, I32_V)                                                                    \
    X(0x12, I64X2_SPLAT, I64_V)                                                                    \
    X(0x13, F32X4_SPLAT, F32_V)                                                                    \
    X(0x14, F64X2_SPLAT, F64_V)                                                                    \
    X(0x23, I8X16_EQ, VV_V)                                                                        \
    X(0x24, I8X16_NE, VV_V)                                                                        \
    X(0x25, I8X16_LT_S, VV_V)                                                                      \
    X(0x26, I8X16_LT_U, VV_V)                                                                      \
    X(0x27, I8X16_GT_S, VV_V)                                                                      \
    X(0x28, I8X16_GT_U, VV_V)                                                                      \
    X(0x29, I8X16_LE_S, VV_V)                                                                      \
    X(0x2a, I8X16_LE_U, VV_V)                                                                      \
    X(0x2b, I8X16_GE_S, VV_V)                                                                      \
    X(0x2c, I8X16_GE_U, VV_V)                                                                      \
    X(0x2d, I16X8_EQ, VV_V)                                                                        \
    X(0x2e, I16X8_NE, VV_V)                                                                        \
    X(0x2f, I16X8_LT_S, VV_V)                                                                      \
    X(0x30, I16X8_LT_U, VV_V)                                                                      \
    X(0x31, I16X8_GT_S, VV_V)                                                                      \
    X(0x32, I16X8_GT_U, VV_V)                                                                      \
    X(0x33, I16X8_LE_S, VV_V)                                                                      \
    X(0x34, I16X8_LE_U, VV_V)                                                                      \
    X(0x35, I16X8_GE_S, VV_V)                                                                      \
    X(0x36, I16X8_GE_U, VV_V)                                                                      \
    X(0x37, I32X4_EQ, VV_V)                                                                        \
    X(0x38, I32X4_NE, VV_V)                                                                        \
    X(0x39, I32X4_LT_S, VV_V)                                                                      \
    X(0x3a, I32X4_LT_U, VV_V)                                                                      \
    X(0x3b, I32X4_GT_S, VV_V)                                                                      \
    X(0x3c, I32X4_GT_U, VV_V)                                                                      \
    X(0x3d, I32X4_LE_S, VV_V)                                                                      \
    X(0x3e, I32X4_LE_U, VV_V)                                                                      \
    X(0x3f, I32X4_GE_S, VV_V)                                                                      \
    X(0x40, I32X4_GE_U, VV_V)                                                                      \
    X(0x41, F32X4_EQ, VV_V)                                                                        \
    X(0x42, F32X4_NE, VV_V)                                                                        \
    X(0x43, F32X4_LT, VV_V)                                                                        \
    X(0x44, F32X4_GT, VV_V)                                                                        \
    X(0x45, F32X4_LE, VV_V)                                                                        \
    X(0x46, F32X4_GE, VV_V)                                                                        \
    X(0x47, F64X2_EQ, VV_V)                                                                        \
    X(0x48, F64X2_NE, VV_V)                                                                        \
    X(0x49, F64X2_LT, VV_V)                                                                        \
    X(0x4a, F64X2_GT, VV_V)                                                                        \
    X(0x4b, F64X2_LE, VV_V)                                                                        \
    X(0x4c, F64X2_GE, VV_V)                                                                        \
    X(0x4d, V128_NOT, V_V)                                                                         \
    X(0x4e, V128_AND, VV_V)                                                                        \
    X(0x4f, V128_ANDNOT, VV_V)                                                                     \
    X(0x50, V128_OR, VV_V)                                                                         \
    X(0x51, V128_XOR, VV_V)                                                                        \
    X(0x52, V128_BITSELECT, VVV_V)                                                                 \
    X(0x53, V128_ANY_TRUE, V_I32)                                                                  \
    X(0x5e, F32X4_DEMOTE_F64X2_ZERO, V_V)                                                          \
    X(0x5f, F64X2_PROMOTE_LOW_F32X4, V_V)                                                          \
    X(0x60, I8X16_ABS, V_V)                                                                        \
    X(0x61, I8X16_NEG, V_V)                                                                        \
    X(0x62, I8X16_POPCNT, V_V)                                                                     \
    X(0x63, I8X16_ALL_TRUE, V_I32)                                                                 \
    X(0x64, I8X16_BITMASK, V_I32)                                                                  \
    X(0x65, I8X16_NARROW_I16X8_S, VV_V)                                                            \
    X(0x66, I8X16_NARROW_I16X8_U, VV_V)                                                            \
    X(0x67, F32X4_CEIL, V_V)                                                                       \
    X(0x68, F32X4_FLOOR, V_V)                                                                      \
    X(0x69, F32X4_TRUNC, V_V)                                                                      \
    X(0x6a, F32X4_NEAREST, V_V)                                                                    \
    X(0x6b, I8X16_SHL, VI32_V)                                                                     \
    X(0x6c, I8X16_SHR_S, VI32_V)                                                                   \
    X(0x6d, I8X16_SHR_U, VI32_V)                                                                   \
    X(0x6e, I8X16_ADD, VV_V)                                                                       \
    X(0x6f, I8X16_ADD_SAT_S, VV_V)                                                                 \
    X(0x70, I8X16_ADD_SAT_U, VV_V)                                                                 \
    X(0x71, I8X16_SUB, VV_V)                                                                       \
    X(0x72, I8X16_SUB_SAT_S, VV_V)                                                                 \
    X(0x73, I8X16_SUB_SAT_U, VV_V)                                                                 \
    X(0x74, F64X2_CEIL, V_V)                                                                       \
    X(0x75, F64X2_FLOOR, V_V)                                                                      \
    X(0x76, I8X16_MIN_S, VV_V)                                                                     \
    X(0x77, I8X16_MIN_U, VV_V)                                                                     \
    X(0x78, I8X16_MAX_S, VV_V)                                                                     \
    X(0x79, I8X16_MAX_U, VV_V)                                                                     \
    X(0x7a, F64X2_TRUNC, V_V)                                                                      \
    X(0x7b, I8X16_AVGR_U, VV_V)                                                                    \
    X(0x7c, I16X8_EXTADD_PAIRWISE_I8X16_S, V_V)                                                    \
    X(0x7d, I16X8_EXTADD_PAIRWISE_I8X16_U, V_V)                                                    \
    X(0x7e, I32X4_EXTADD_PAIRWISE_I16X8_S, V_V)                                                    \
    X(0x7f, I32X4_EXTADD_PAIRWISE_I16X8_U, V_V)                                                    \
    X(0x80, I16X8_ABS, V_V)                                                                        \
    X(0x81, I16X8_NEG, V_V)                                                                        \
    X(0x82, I16X8_Q15MULR_SAT_S, VV_V)                                                             \
    X(0x83, I16X8_ALL_TRUE, V_I32)                                                                 \
    X(0x84, I16X8_BITMASK, V_I32)                                                                  \
    X(0x85, I16X8_NARROW_I32X4_S, VV_V)                                                            \
    X(0x86, I16X8_NARROW_I32X4_U, VV_V)                                                            \
    X(0x87, I16X8_EXTEND_LOW_I8X16_S, V_V)                                                         \
    X(0x88, I16X8_EXTEND_HIGH_I8X16_S, V_V)                                                        \
    X(0x89, I16X8_EXTEND_LOW_I8X16_U, V_V)                                                         \
    X(0x8a, I16X8_EXTEND_HIGH_I8X16_U, V_V)                                                        \
    X(0x8b, I16X8_SHL, VI32_V)                                                                     \
    X(0x8c, I16X8_SHR_S, VI32_V)                                                                   \
    X(0x8d, I16X8_SHR_U, VI32_V)                                                                   \
    X(0x8e, I16X8_ADD, VV_V)                                                                       \
    X(0x8f, I16X8_ADD_SAT_S, VV_V)                                                                 \
    X(0x90, I16X8_ADD_SAT_U, VV_V)                                                                 \
    X(0x91, I16X8_SUB, VV_V)                                                                       \
    X(0x92, I16X8_SUB_SAT_S, VV_V)                                                                 \
    X(0x93, I16X8_SUB_SAT_U, VV_V)                                                                 \
    X(0x94, F64X2_NEAREST, V_V)                                                                    \
    X(0x95, I16X8_MUL, VV_V)                                                                       \
    X(0x96, I16X8_MIN_S, VV_V)                                                                     \
    X(0x97, I16X8_MIN_U, VV_V)                                                                     \
    X(0x98, I16X8_MAX_S, VV_V)                                                                     \
    X(0x99, I16X8_MAX_U, VV_V)                                                                     \
    X(0x9b, I16X8_AVGR_U, VV_V)                                                                    \
    X(0x9c, I16X8_EXTMUL_LOW_I8X16_S, VV_V)                                                        \
    X(0x9d, I16X8_EXTMUL_HIGH_I8X16_S, VV_V)                                                       \
    X(0x9e, I16X8_EXTMUL_LOW_I8X16_U, VV_V)                                                        \
    X(0x9f, I16X8_EXTMUL_HIGH_I8X16_U, VV_V)                                                       \
    X(0xa0, I32X4_ABS, V_V)                                                                        \
    X(0xa1, I32X4_NEG, V_V)                                                                        \
    X(0xa3, I32X4_ALL_TRUE, V_I32)                                                                 \
    X(0xa4, I32X4_BITMASK, V_I32)                                                                  \
    X(0xa7, I32X4_EXTEND_LOW_I16X8_S, V_V)                                                         \
    X(0xa8, I32X4_EXTEND_HIGH_I16X8_S, V_V)                                                        \
    X(0xa9, I32X4_EXTEND_LOW_I16X8_U, V_V)                                                         \
    X(0xaa, I32X4_EXTEND_HIGH_I16X8_U, V_V)                                                        \
    X(0xab, I32X4_SHL, VI32_V)                                                                     \
    X(0xac, I32X4_SHR_S, VI32_V)                                                                   \
    X(0xad, I32X4_SHR_U, VI32_V)                                                                   \
    X(0xae, I32X4_ADD, VV_V)                                                                       \
    X(0xb1, I32X4_SUB, VV_V)                                                                       \
    X(0xb5, I32X4_MUL, VV_V)                                                                       \
    X(0xb6, I32X4_MIN_S, VV_V)                                                                     \
    X(0xb7, I32X4_MIN_U, VV_V)                                                                     \
    X(0xb8, I32X4_MAX_S, VV_V)                                                                     \
    X(0xb9, I32X4_MAX_U, VV_V)                                                                     \
    X(0xba, I32X4_DOT_I16X8_S, VV_V)                                                               \
    X(0xbc, I32X4_EXTMUL_LOW_I16X8_S, VV_V)                                                        \
    X(0xbd, I32X4_EXTMUL_HIGH_I16X8_S, VV_V)                                                       \
    X(0xbe, I32X4_EXTMUL_LOW_I16X8_U, VV_V)                                                        \
    X(0xbf, I32X4_EXTMUL_HIGH_I16X8_U, VV_V)                                                       \
    X(0xc0, I64X2_ABS, V_V)                                                                        \
    X(0xc1, I64X2_NEG, V_V)                                                                        \
    X(0xc3, I64X2_ALL_TRUE, V_I32)                                                                 \
    X(0xc4, I64X2_BITMASK, V_I32)                                                                  \
    X(0xc7, I64X2_EXTEND_LOW_I32X4_S, V_V)                                                         \
    X(0xc8, I64X2_EXTEND_HIGH_I32X4_S, V_V)                                                        \
    X(0xc9, I64X2_EXTEND_LOW_I32X4_U, V_V)                                                         \
    X(0xca, I64X2_EXTEND_HIGH_I32X4_U, V_V)                                                        \
    X(0xcb, I64X2_SHL, VI32_V)                                                                     \
    X(0xcc, I64X2_SHR_S, VI32_V)                                                                   \
    X(0xcd, I64X2_SHR_U, VI32_V)                                                                   \
    X(0xce, I64X2_ADD, VV_V)                                                                       \
    X(0xd1, I64X2_SUB, VV_V)                                                                       \
    X(0xd5, I64X2_MUL, VV_V)                                                                       \
    X(0xd6, I64X2_EQ, VV_V)                                                                        \
    X(0xd7, I64X2_NE, VV_V)                                                                        \
    X(0xd8, I64X2_LT_S, VV_V)                                                                      \
    X(0xd9, I64X2_GT_S, VV_V)                                                                      \
    X(0xda, I64X2_LE_S, VV_V)                                                                      \
    X(0xdb, I64X2_GE_S, VV_V)                                                                      \
    X(0xdc, I64X2_EXTMUL_LOW_I32X4_S, VV_V)                                                        \
    X(0xdd, I64X2_EXTMUL_HIGH_I32X4_S, VV_V)                                                       \
    X(0xde, I64X2_EXTMUL_LOW_I32X4_U, VV_V)                                                        \
    X(0xdf, I64X2_EXTMUL_HIGH_I32X4_U, VV_V)                                                       \
    X(0xe0, F32X4_ABS, V_V)                                                                        \
    X(0xe1, F32X4_NEG, V_V)                                                                        \
    X(0xe3, F32X4_SQRT, V_V)                                                                       \
    X(0xe4, F32X4_ADD, VV_V)                                                                       \
    X(0xe5, F32X4_SUB, VV_V)                                                                       \
    X(0xe6, F32X4_MUL, VV_V)                                                                       \
    X(0xe7, F32X4_DIV, VV_V)                                                                       \
    X(0xe8, F32X4_MIN, VV_V)                                                                       \
    X(0xe9, F32X4_MAX, VV_V)                                                                       \
    X(0xea, F32X4_PMIN, VV_V)                                                                      \
    X(0xeb, F32X4_PMAX, VV_V)                                                                      \
    X(0xec, F64X2_ABS, V_V)                                                                        \
    X(0xed, F64X2_NEG, V_V)                                                                        \
    X(0xef, F64X2_SQRT, V_V)                                                                       \
    X(0xf0, F64X2_ADD, VV_V)                                                                       \
    X(0xf1, F64X2_SUB, VV_V)                                                                       \
    X(0xf2, F64X2_MUL, VV_V)                                                                       \
    X(0xf3, F64X2_DIV, VV_V)                                                                       \
    X(0xf4, F64X2_MIN, VV_V)                                                                       \
    X(0xf5, F64X2_MAX, VV_V)                                                                       \
    X(0xf6, F64X2_PMIN, VV_V)                                                                      \
    X(0xf7, F64X2_PMAX, VV_V)                                                                      \
    X(0xf8, I32X4_TRUNC_SAT_F32X4_S, V_V)                                                          \
    X(0xf9, I32X4_TRUNC_SAT_F32X4_U, V_V)                                                          \
    X(0xfa, F32X4_CONVERT_I32X4_S, V_V)                                                            \
    X(0xfb, F32X4_CONVERT_I32X4_U, V_V)                                                            \
    X(0xfc, I32X4_TRUNC_SAT_F64X2_S_ZERO, V_V)                                                     \
    X(0xfd, I32X4_TRUNC_SAT_F64X2_U_ZERO, V_V)                                                     \
    X(0xfe, F64X2_CONVERT_LOW_I32X4_S, V_V)                                                        \
    X(0xff, F64X2_CONVERT_LOW_I32X4_U, V_V)

/* Lane access, the lane index a one-byte immediate: X(subop, NAME, lanes, scalar type, kind), kind
 * EXTRACT (v128 -> scalar) or REPLACE (v128 scalar -> v128). */
#define WB_SIMD_LANE_OPS(X)                                                                        \
    X(0x15, I8X16_EXTRACT_LANE_S, 16, I32, EXTRACT)                                                \
    X(0x16, I8X16_EXTRACT_LANE_U, 16, I32, EXTRACT)                                                \
    X(0x17, I8X16_REPLACE_LANE, 16, I32, REPLACE)                                                  \
    X(0x18, I16X8_EXTRACT_LANE_S, 8, I32, EXTRACT)                                                 \
    X(0x19, I16X8_EXTRACT_LANE_U, 8, I32, EXTRACT)                                                 \
    X(0x1a, I16X8_REPLACE_LANE, 8, I32, REPLACE)                                                   \
    X(0x1b, I32X4_EXTRACT_LANE, 4, I32, EXTRACT)                                                   \
    X(0x1c, I32X4_REPLACE_LANE, 4, I32, REPLACE)                                                   \
    X(0x1d, I64X2_EXTRACT_LANE, 2, I64, EXTRACT)                                                   \
    X(0x1e, I64X2_REPLACE_LANE, 2, I64, REPLACE)                                                   \
    X(0x1f, F32X4_EXTRACT_LANE, 4, F32, EXTRACT)                                                   \
    X(0x20, F32X4_REPLACE_LANE, 4, F32, REPLACE)                                                   \
    X(0x21, F64X2_EXTRACT_LANE, 2, F64, EXTRACT)                                                   \
    X(0x22, F64X2_REPLACE_LANE, 2, F64, REPLACE)

/* Loads and stores with a memarg: X(subop, NAME, log2 of the access size, kind), kind LOAD (i32 ->
 * v128) or STORE (i32 v128 -> []). The access size is also the natural alignment. */
#define WB_SIMD_MEMORY_OPS(X)                                                                      \
    X(0x00, V128_LOAD, 4, LOAD)                                                                    \
    X(0x01, V128_LOAD8X8_S, 3, LOAD)                                                               \
    X(0x02, V128_LOAD8X8_U, 3, LOAD)                                                               \
    X(0x03, V128_LOAD16X4_S, 3, LOAD)                                                              \
    X(0x04, V128_LOAD16X4_U, 3, LOAD)                                                              \
    X(0x05, V128_LOAD32X2_S, 3, LOAD)                                                              \
    X(0x06, V128_LOAD32X2_U, 3, LOAD)                                                              \
    X(0x07, V128_LOAD8_SPLAT, 0, LOAD)                                                             \
    X(0x08, V128_LOAD16_SPLAT, 1, LOAD)                                                            \
    X(0x09, V128_LOAD32_SPLAT, 2, LOAD)                                                            \
    X(0x0a, V128_LOAD64_SPLAT, 3, LOAD)                                                            \
    X(0x0b, V128_STORE, 4, STORE)                                                                  \
    X(0x5c, V128_LOAD32_ZERO, 2, LOAD)                                                             \
    X(0x5d, V128_LOAD64_ZERO, 3, LOAD)

/* Lane loads and stores: a memarg then a lane index. X(subop, NAME, log2 of the lane size, kind),
 * kind LOAD (i32 v128 -> v128) or STORE (i32 v128 -> []). */
#define WB_SIMD_LANE_MEMORY_OPS(X)                                                                 \
    X(0x54, V128_LOAD8_LANE, 0, LOAD)                                                              \
    X(0x55, V128_LOAD16_LANE, 1, LOAD)                                                             \
    X(0x56, V128_LOAD32_LANE, 2, LOAD)                                                             \
    X(0x57, V128_LOAD64_LANE, 3, LOAD)                                                             \
    X(0x58, V128_STORE8_LANE, 0, STORE)                                                            \
    X(0x59, V128_STORE16_LANE, 1, STORE)                                                           \
    X(0x5a, V128_STORE32_LANE, 2, STORE)                                                           \
    X(0x5b, V128_STORE64_LANE, 3, STORE)

/* The immediates of a SIMD sub-opcode (decoding and skipping need nothing else). */
enum wb_simd_imm {
    WB_SIMD_IMM_ILLEGAL, /* not an opcode */
    WB_SIMD_IMM_NONE,
    WB_SIMD_IMM_LANE,        /* one byte */
    WB_SIMD_IMM_MEMARG,      /* alignment, offset */
    WB_SIMD_IMM_MEMARG_LANE, /* alignment, offset, one byte */
    WB_SIMD_IMM_BYTES16,     /* v128.const, i8x16.shuffle */
};

static inline enum wb_simd_imm wb__simd_imm(uint32_t sub) {
    switch (sub) {
#define WB_SIMD_IMM_CASE(sub, ...) case sub:
        WB_SIMD_OPS(WB_SIMD_IMM_CASE)
        return WB_SIMD_IMM_NONE;
        WB_SIMD_LANE_OPS(WB_SIMD_IMM_CASE)
        return WB_SIMD_IMM_LANE;
        WB_SIMD_MEMORY_OPS(WB_SIMD_IMM_CASE)
        return WB_SIMD_IMM_MEMARG;
        WB_SIMD_LANE_MEMORY_OPS(WB_SIMD_IMM_CASE)
        return WB_SIMD_IMM_MEMARG_LANE;
#undef WB_SIMD_IMM_CASE
    case WB_SIMD_V128_CONST:
    case WB_SIMD_I8X16_SHUFFLE: return WB_SIMD_IMM_BYTES16;
    default: return WB_SIMD_IMM_ILLEGAL;
    }
}

#endif
