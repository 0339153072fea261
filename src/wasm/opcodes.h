/* Wasm 2.0 opcodes (non-SIMD). The numeric ops with a fixed signature and no immediates are listed
 * once in WB_NUMERIC_OPS so that the validator and the lowering agree on them. */
#ifndef WB_WASM_OPCODES_H
#define WB_WASM_OPCODES_H

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

#endif
