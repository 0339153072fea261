/* A listing of a function's internal code (for `wasmbox run --dump-code` and debugging). */
#include <stdio.h>
#include <string.h>

#include "wasm/lower.h"
#include "wasm/runtime.h"

static const char *const iop_names[] = {
#define X(NAME) #NAME,
    WB_IOPS(X)
#undef X
};

/* Operand units of each instruction (BR_TABLE adds its table). */
static uint32_t operand_units(uint32_t iop) {
    switch (iop) {
    case WB_IOP_HALT:
    case WB_IOP_UNREACHABLE:
    case WB_IOP_FUEL:
    case WB_IOP_RETURN: return 0;
    case WB_IOP_BR:
    case WB_IOP_RETURN1:
    case WB_IOP_MEMORY_SIZE:
    case WB_IOP_DATA_DROP:
    case WB_IOP_ELEM_DROP: return 1;
    case WB_IOP_COPY:
    case WB_IOP_COPY2:
    case WB_IOP_CONST32:
    case WB_IOP_GLOBAL_GET:
    case WB_IOP_GLOBAL_SET:
    case WB_IOP_GLOBAL_GET2:
    case WB_IOP_GLOBAL_SET2:
    case WB_IOP_BR_NZ:
    case WB_IOP_BR_Z:
    case WB_IOP_BR64_NZ:
    case WB_IOP_BR64_Z:
    case WB_IOP_CALL_IMPORT:
    case WB_IOP_MEMORY_GROW:
    case WB_IOP_TABLE_SIZE:
    case WB_IOP_REF_IS_NULL:
    case WB_IOP_REF_FUNC: return 2;
    case WB_IOP_CONST64:
    case WB_IOP_CALL:
    case WB_IOP_MEMORY_FILL:
    case WB_IOP_MEMORY_COPY:
    case WB_IOP_TABLE_GET:
    case WB_IOP_TABLE_SET: return 3;
    case WB_IOP_COPY_PAIR:
    case WB_IOP_SELECT:
    case WB_IOP_SELECT2:
    case WB_IOP_CALL_INDIRECT:
    case WB_IOP_MEMORY_INIT:
    case WB_IOP_TABLE_GROW:
    case WB_IOP_TABLE_FILL: return 4;
    case WB_IOP_TABLE_COPY:
    case WB_IOP_TABLE_INIT: return 5;
    case WB_IOP_BR_TABLE: return 2;
    case WB_IOP_BR_TABLE_I: return 3;
#define PAIR(A, B)                                                                                 \
    case WB_IOP_##A##_THEN_##B: return operand_units(WB_IOP_##A);
        WB_PAIR_OPS(PAIR)
#undef PAIR
    case WB_IOP_I32_SHR_U_AND_I:
    case WB_IOP_I32_AND_SHL_I:
    case WB_IOP_I32_ADD_SHL_I:
    case WB_IOP_GLOBAL_SET_ADD_I: return 4;
    default: break;
    }
#define UNARY(opc, NAME, a, b, r)                                                                  \
    case WB_IOP_##NAME:                                                                            \
        return WB_DISASM_ARITY_##b;
#define WB_DISASM_ARITY_NONE 2
#define WB_DISASM_ARITY_I32  3
#define WB_DISASM_ARITY_I64  3
#define WB_DISASM_ARITY_F32  3
#define WB_DISASM_ARITY_F64  3
    switch (iop) {
        WB_NUMERIC_OPS(UNARY)
    default: break;
    }
#undef UNARY
    if (iop >= WB_IOP_I32_TRUNC_SAT_F32_S && iop <= WB_IOP_I64_TRUNC_SAT_F64_U) return 2;
    switch (iop) {
#define SIMD(sub, NAME, shape)                                                                     \
    case WB_IOP_##NAME:                                                                            \
        return 1 + WB_DISASM_SIMD_IN_##shape;
#define WB_DISASM_SIMD_IN_V_V    1
#define WB_DISASM_SIMD_IN_VV_V   2
#define WB_DISASM_SIMD_IN_VVV_V  3
#define WB_DISASM_SIMD_IN_V_I32  1
#define WB_DISASM_SIMD_IN_VI32_V 2
#define WB_DISASM_SIMD_IN_I32_V  1
#define WB_DISASM_SIMD_IN_I64_V  1
#define WB_DISASM_SIMD_IN_F32_V  1
#define WB_DISASM_SIMD_IN_F64_V  1
        WB_SIMD_OPS(SIMD)
#undef SIMD
#define LANE(sub, NAME, lanes, t, kind)                                                            \
    case WB_IOP_##NAME:                                                                            \
        return WB_DISASM_LANE_##kind;
#define WB_DISASM_LANE_EXTRACT 3
#define WB_DISASM_LANE_REPLACE 4
        WB_SIMD_LANE_OPS(LANE)
#undef LANE
#define LANE_MEMORY(sub, NAME, lg, kind)                                                           \
    case WB_IOP_##NAME:                                                                            \
        return WB_DISASM_LANE_MEMORY_##kind;
#define WB_DISASM_LANE_MEMORY_LOAD  5
#define WB_DISASM_LANE_MEMORY_STORE 4
        WB_SIMD_LANE_MEMORY_OPS(LANE_MEMORY)
#undef LANE_MEMORY
#define MEMA(sub, NAME, lg, kind) WB_DISASM_MEMA_##kind(NAME)
#define WB_DISASM_MEMA_STORE(NAME)
#define WB_DISASM_MEMA_LOAD(NAME)                                                                  \
    case WB_IOP_##NAME##_A:                                                                        \
    case WB_IOP_##NAME##_X: return 4;
        WB_SIMD_MEMORY_OPS(MEMA)
#undef MEMA
    case WB_IOP_V128_CONST: return 5;
    case WB_IOP_I8X16_SHUFFLE:
    case WB_IOP_I8X16_SHUFFLE_SSSE3: return 11;
    case WB_IOP_I8X16_SWIZZLE_SSSE3: return 3;
    default: break; /* WB_SIMD_MEMORY_OPS: 3 */
    }
    if (iop >= WB_IOP_I32_LOAD_A && iop <= WB_IOP_I64_STORE32_X) return 4;
    return 3; /* memory ops, _I forms, fused branches */
}

void wb__disasm(const wb_code *c, FILE *out) {
    const void *const *labels = wb__interp_labels(c->module->cfg.bounds_checks);
    fprintf(out, "func %u: %u param slots, %u local slots, frame %u slots, %u units\n",
            c->func_index, c->nparams, c->nlocals, c->frame_slots, c->code_len);
    for (uint32_t pc = 0; pc < c->code_len;) {
        uint64_t h = (uint64_t)c->code[pc] | ((uint64_t)c->code[pc + 1] << 32);
        uint32_t iop = 0;
        while (iop < WB_IOP_COUNT && (uint64_t)(uintptr_t)labels[iop] != h) iop++;
        if (iop == WB_IOP_COUNT) {
            fprintf(out, "  %5u: ??? %#llx\n", pc, (unsigned long long)h);
            return;
        }
        uint32_t n = operand_units(iop);
        if (iop == WB_IOP_BR_TABLE || iop == WB_IOP_BR_TABLE_I) n += c->code[pc + 3] + 1;
        fprintf(out, "  %5u: %-16s", pc, iop_names[iop]);
        for (uint32_t k = 0; k < n && pc + 2 + k < c->code_len; k++)
            fprintf(out, " %d", (int32_t)c->code[pc + 2 + k]);
        fputc('\n', out);
        pc += 2 + n;
    }
}

void wb__module_dump(const wb_module *m, FILE *out);
void wb__module_dump(const wb_module *m, FILE *out) {
    wb_error err = {0};
    if (wb__module_lower_all((wb_module *)m, &err) < 0) {
        fprintf(out, "; %s\n", err.msg);
        return;
    }
    for (uint32_t i = 0; i < m->nfunc_decls; i++) {
        const char *name = wb_module_func_name(m, m->nimported_funcs + i);
        if (name) fprintf(out, "; %s\n", name);
        wb__disasm(&m->funcs[i].lowered, out);
    }
}
