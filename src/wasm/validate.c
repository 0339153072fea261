/* Validation of a decoded module (Wasm 2.0, SIMD included): the module-level rules (index spaces,
 * limits, constant expressions, segments, exports, start) and the type checking of function bodies
 * with the spec appendix's algorithm: an operand stack of types, where an "unknown" type stands for
 * the polymorphic stack of unreachable code, and a stack of control frames. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "wasm/limits.h"
#include "wasm/module.h"
#include "wasm/opcodes.h"
#include "wasm/reader.h"

/* The type of an operand produced by unreachable code; it matches every type. */
#define TYPE_UNKNOWN 0
/* Kind of the outermost control frame; the others use their opcode (block, loop, if, else). */
#define FRAME_FUNC 0xff
/* One instruction grows the operand stack by at most this many entries: a call or a branch that
 * pushes up to WB_MAX_RESULTS values after popping from a polymorphic stack, a block that re-pushes
 * its WB_MAX_PARAMS params. Capacity for it is ensured before each instruction. */
#define MAX_PUSH (WB_MAX_PARAMS + WB_MAX_RESULTS + 4)
/* Cap on the operand stack height of one function (one byte per entry while validating). Every
 * entry costs at least one byte of code except those pushed by multi-value calls and branches, so
 * only such code can reach it. */
#define MAX_OPERANDS (1u << 24)

enum {
    T_NONE = 0,
    T_I32 = WB_I32,
    T_I64 = WB_I64,
    T_F32 = WB_F32,
    T_F64 = WB_F64,
    T_V128 = WB_V128
};

#define NUMERIC_FIRST 0x45
#define NUMERIC_LAST  0xc4

typedef struct numeric_sig {
    uint8_t in1, in2, out; /* in2 is T_NONE for unary ops */
} numeric_sig;

#define NUMERIC_SIG(op, name, a, b, r) [(op)-NUMERIC_FIRST] = {T_##a, T_##b, T_##r},
static const numeric_sig numeric_sigs[NUMERIC_LAST - NUMERIC_FIRST + 1] = {
    WB_NUMERIC_OPS(NUMERIC_SIG)};
#undef NUMERIC_SIG

typedef struct memory_sig {
    uint8_t type, log2_size, is_store;
} memory_sig;

#define MEMORY_SIG(op, name, t, size, store) [(op)-WB_OP_I32_LOAD] = {T_##t, size, store},
static const memory_sig memory_sigs[WB_OP_I64_STORE32 - WB_OP_I32_LOAD + 1] = {
    WB_MEMORY_OPS(MEMORY_SIG)};
#undef MEMORY_SIG

typedef struct sat_sig {
    uint8_t in, out;
} sat_sig;

#define SAT_SIG(sub, name, a, r) [sub] = {T_##a, T_##r},
static const sat_sig sat_sigs[WB_FC_I64_TRUNC_SAT_F64_U + 1] = {WB_SAT_OPS(SAT_SIG)};
#undef SAT_SIG

/* SIMD sub-opcodes by kind; the tables below are indexed by sub-opcode (all are < 256). */
enum simd_kind {
    SIMD_ILLEGAL,
    SIMD_SIMPLE,     /* fixed signature */
    SIMD_EXTRACT,    /* n = lanes */
    SIMD_REPLACE,    /* n = lanes */
    SIMD_LOAD,       /* n = log2 of the access size */
    SIMD_STORE,      /* n = log2 of the access size */
    SIMD_LOAD_LANE,  /* n = log2 of the lane size */
    SIMD_STORE_LANE, /* n = log2 of the lane size */
    SIMD_CONST,
    SIMD_SHUFFLE,
};

typedef struct simd_sig {
    uint8_t kind, n;
    uint8_t nin, in[3], out; /* SIMPLE: operand and result types; lane ops: the scalar in `out` */
} simd_sig;

#define SIMD_SHAPE_V_V                            1, {T_V128}, T_V128
#define SIMD_SHAPE_VV_V                           2, {T_V128, T_V128}, T_V128
#define SIMD_SHAPE_VVV_V                          3, {T_V128, T_V128, T_V128}, T_V128
#define SIMD_SHAPE_V_I32                          1, {T_V128}, T_I32
#define SIMD_SHAPE_VI32_V                         2, {T_V128, T_I32}, T_V128
#define SIMD_SHAPE_I32_V                          1, {T_I32}, T_V128
#define SIMD_SHAPE_I64_V                          1, {T_I64}, T_V128
#define SIMD_SHAPE_F32_V                          1, {T_F32}, T_V128
#define SIMD_SHAPE_F64_V                          1, {T_F64}, T_V128
#define SIMD_SIMPLE_SIG(sub, name, shape)         [sub] = {SIMD_SIMPLE, 0, SIMD_SHAPE_##shape},
#define SIMD_LANE_SIG(sub, name, lanes, t, kind)  [sub] = {SIMD_##kind, lanes, 0, {0}, T_##t},
#define SIMD_MEMORY_SIG(sub, name, lg, kind)      [sub] = {SIMD_##kind, lg, 0, {0}, 0},
#define SIMD_LANE_MEMORY_SIG(sub, name, lg, kind) [sub] = {SIMD_##kind##_LANE, lg, 0, {0}, 0},
static const simd_sig simd_sigs[256] = {
    [WB_SIMD_V128_CONST] = {SIMD_CONST, 0, 0, {0}, 0},
    [WB_SIMD_I8X16_SHUFFLE] = {SIMD_SHUFFLE, 0, 0, {0}, 0},
    WB_SIMD_OPS(SIMD_SIMPLE_SIG)                  /* fixed signatures */
    WB_SIMD_LANE_OPS(SIMD_LANE_SIG)               /* extract and replace */
    WB_SIMD_MEMORY_OPS(SIMD_MEMORY_SIG)           /* loads and stores */
    WB_SIMD_LANE_MEMORY_OPS(SIMD_LANE_MEMORY_SIG) /* lane loads and stores */
};
#undef SIMD_SIMPLE_SIG
#undef SIMD_LANE_SIG
#undef SIMD_MEMORY_SIG
#undef SIMD_LANE_MEMORY_SIG

typedef struct ctrl_frame {
    uint8_t kind; /* FRAME_FUNC or WB_OP_BLOCK / LOOP / IF / ELSE */
    bool unreachable;
    uint32_t height; /* operand stack height at entry, params excluded */
    uint32_t nparams, nresults;
    const uint8_t *params, *results;
} ctrl_frame;

typedef struct validator {
    wb_module *m;
    wb_error *err;
    /* Where errors are reported: a module-level item (`what` `what_index`), or, when `what` is
     * NULL, the instruction at `instr` in function `func_index`. */
    const char *what;
    uint32_t what_index;
    uint32_t func_index;
    const uint8_t *instr;
    int failure; /* err->code of the error reported, 0 while none */

    /* the function body being checked */
    wb_reader r;
    const wb_functype *type;
    const uint8_t *local_types; /* declared locals (params come from `type`) */
    uint32_t nlocals;           /* params + declared locals */

    uint8_t *vals; /* operand types; capacity kept at least MAX_PUSH above nvals */
    uint32_t nvals;
    size_t vals_cap;
    ctrl_frame *ctrls;
    uint32_t nctrls;
    size_t ctrls_cap;
} validator;

/* ---- errors ---- */

__attribute__((format(printf, 3, 0))) static bool report(validator *v, int code, const char *fmt,
                                                         va_list ap) {
    char msg[WB_ERROR_MSG_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    v->failure = code;
    if (v->what)
        wb_error_set(v->err, code, "%s (%s %" PRIu32 ")", msg, v->what, v->what_index);
    else
        wb_error_set(v->err, code, "%s (function %" PRIu32 ", offset 0x%zx)", msg, v->func_index,
                     (size_t)(v->instr - v->m->bytes));
    return false;
}

/* A validation error; the message starts with the spec's wording. Returns false. */
__attribute__((format(printf, 2, 3))) static bool invalid(validator *v, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    report(v, WB_EINVALID, fmt, ap);
    va_end(ap);
    return false;
}

/* A binary-format error met while reading a function body. Returns false. */
__attribute__((format(printf, 2, 3))) static bool malformed(validator *v, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    report(v, WB_EMALFORMED, fmt, ap);
    va_end(ap);
    return false;
}

static bool fail_read(validator *v) {
    return malformed(v, "%s", v->r.err ? v->r.err : "unexpected end");
}

static const char *type_name(uint8_t t) {
    return t == TYPE_UNKNOWN ? "unknown" : wb__type_name(t);
}

/* ---- operand and control stacks ---- */

static ctrl_frame *top(validator *v) {
    return &v->ctrls[v->nctrls - 1];
}

/* Capacity for MAX_PUSH more entries is ensured before each instruction. */
static void push(validator *v, uint8_t t) {
    v->vals[v->nvals++] = t;
}

static void push_types(validator *v, const uint8_t *types, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) push(v, types[i]);
}

static bool pop_any(validator *v, uint8_t *out) {
    const ctrl_frame *f = top(v);
    if (v->nvals == f->height) {
        if (f->unreachable) {
            *out = TYPE_UNKNOWN;
            return true;
        }
        return invalid(v, "type mismatch: expected a value, the operand stack is empty");
    }
    *out = v->vals[--v->nvals];
    return true;
}

static bool pop_type(validator *v, uint8_t want) {
    const ctrl_frame *f = top(v);
    if (v->nvals == f->height) {
        if (f->unreachable) return true;
        return invalid(v, "type mismatch: expected %s, the operand stack is empty",
                       type_name(want));
    }
    uint8_t got = v->vals[--v->nvals];
    if (got != want && got != TYPE_UNKNOWN)
        return invalid(v, "type mismatch: expected %s, got %s", type_name(want), type_name(got));
    return true;
}

static bool pop_types(validator *v, const uint8_t *types, uint32_t n) {
    for (uint32_t i = n; i-- > 0;)
        if (!pop_type(v, types[i])) return false;
    return true;
}

/* Checks that the top of the stack matches `types` without popping (br_table's targets). */
static bool peek_types(validator *v, const uint8_t *types, uint32_t n) {
    const ctrl_frame *f = top(v);
    uint32_t avail = v->nvals - f->height;
    for (uint32_t k = 0; k < n; k++) {
        uint8_t want = types[n - 1 - k];
        if (k >= avail) {
            if (f->unreachable) return true;
            return invalid(v, "type mismatch: expected %s, the operand stack is empty",
                           type_name(want));
        }
        uint8_t got = v->vals[v->nvals - 1 - k];
        if (got != want && got != TYPE_UNKNOWN)
            return invalid(v, "type mismatch: expected %s, got %s", type_name(want),
                           type_name(got));
    }
    return true;
}

static bool push_ctrl(validator *v, uint8_t kind, const uint8_t *params, uint32_t nparams,
                      const uint8_t *results, uint32_t nresults) {
    /* ctrls[0] is the function's frame; WB_MAX_NESTING counts the blocks inside it */
    if (v->nctrls > WB_MAX_NESTING) return invalid(v, "nesting too deep");
    WB_VEC_RESERVE(v->ctrls, v->ctrls_cap, (size_t)v->nctrls + 1);
    v->ctrls[v->nctrls++] = (ctrl_frame){
        .kind = kind,
        .height = v->nvals,
        .nparams = nparams,
        .nresults = nresults,
        .params = params,
        .results = results,
    };
    push_types(v, params, nparams);
    return true;
}

static bool pop_ctrl(validator *v, ctrl_frame *out) {
    const ctrl_frame *f = top(v);
    if (!pop_types(v, f->results, f->nresults)) return false;
    if (v->nvals != f->height)
        return invalid(
            v, "type mismatch: %" PRIu32 " value(s) left on the stack at the end of a block",
            v->nvals - f->height);
    *out = *f;
    v->nctrls--;
    return true;
}

static void set_unreachable(validator *v) {
    ctrl_frame *f = top(v);
    v->nvals = f->height;
    f->unreachable = true;
}

/* The types a branch to frame f carries: a loop's params, any other frame's results. */
static void label_types(const ctrl_frame *f, const uint8_t **types, uint32_t *n) {
    if (f->kind == WB_OP_LOOP) {
        *types = f->params;
        *n = f->nparams;
    } else {
        *types = f->results;
        *n = f->nresults;
    }
}

/* ---- decoding instructions ---- */

/* One decoded instruction. Decoding checks only the binary format (the spec's decoder); the
 * validation rules are applied to this form afterwards. */
typedef struct decoded_instr {
    uint8_t op;
    uint8_t type;      /* select t: the type; ref.null: the reference type */
    uint8_t lane;      /* SIMD lane index */
    uint32_t sub;      /* 0xFC / 0xFD sub-opcode */
    uint32_t x, y;     /* index immediates in encoding order; br_table: count, default */
    int64_t blocktype; /* block, loop, if: < 0 is a value type (-64 = none), else a type index */
    uint32_t align;    /* memarg alignment exponent */
    const uint8_t *targets; /* br_table: the x encoded target labels; v128.const and
                             * i8x16.shuffle: the 16 immediate bytes */
} decoded_instr;

static bool read_u32(validator *v, uint32_t *out) {
    return wb__rd_u32(&v->r, out) || fail_read(v);
}

/* A one-byte reserved immediate (a memory index in later versions) that must be zero. */
static bool read_zero_byte(validator *v) {
    uint8_t b;
    if (!wb__rd_u8(&v->r, &b)) return fail_read(v);
    if (b != 0) return malformed(v, "zero byte expected");
    return true;
}

/* A pointer to a one-element list holding value type t, or NULL if t is not a value type. */
static const uint8_t *single_type(uint8_t t) {
    static const uint8_t value_types[] = {WB_I32,  WB_I64,     WB_F32,      WB_F64,
                                          WB_V128, WB_FUNCREF, WB_EXTERNREF};
    return memchr(value_types, t, sizeof value_types);
}

/* Block types: 0x40 (none), a value type, or a type index as a non-negative s33. */
static bool decode_blocktype(validator *v, decoded_instr *in) {
    if (!wb__rd_s33(&v->r, &in->blocktype)) return fail_read(v);
    if (in->blocktype >= 0) return true;
    /* a negative s33 in one byte is 0x40..0x7f */
    if (in->blocktype < -64) return malformed(v, "malformed value type");
    if (in->blocktype != -64 && !single_type((uint8_t)(in->blocktype & 0x7f)))
        return malformed(v, "malformed value type");
    return true;
}

static bool decode_br_table(validator *v, decoded_instr *in) {
    uint32_t label;
    if (!read_u32(v, &in->x)) return false;
    in->targets = v->r.p;
    for (uint32_t i = 0; i < in->x; i++)
        if (!read_u32(v, &label)) return false;
    return read_u32(v, &in->y);
}

static bool decode_select_t(validator *v, decoded_instr *in) {
    uint8_t t;
    if (!read_u32(v, &in->x)) return false;
    for (uint32_t i = 0; i < in->x; i++) {
        if (!wb__rd_u8(&v->r, &t)) return fail_read(v);
        if (!wb__is_value_type(t)) return malformed(v, "malformed value type");
        if (i == 0) in->type = t;
    }
    return true;
}

/* memory.init and data.drop need the data count section. An index beyond the data section is left
 * to validation ("unknown data segment"): wabt writes text modules without data segments with no
 * data count section, and the spec tests expect those to be invalid. */
static bool decode_data_index(validator *v, decoded_instr *in) {
    if (!read_u32(v, &in->x)) return false;
    if (!v->m->has_data_count && in->x < v->m->ndatas)
        return malformed(v, "data count section required");
    return true;
}

static bool decode_prefix_fc(validator *v, decoded_instr *in) {
    if (!read_u32(v, &in->sub)) return false;
    switch (in->sub) {
    case WB_FC_MEMORY_INIT: return decode_data_index(v, in) && read_zero_byte(v);
    case WB_FC_DATA_DROP: return decode_data_index(v, in);
    case WB_FC_MEMORY_COPY: return read_zero_byte(v) && read_zero_byte(v);
    case WB_FC_MEMORY_FILL: return read_zero_byte(v);
    case WB_FC_TABLE_INIT:
    case WB_FC_TABLE_COPY: return read_u32(v, &in->x) && read_u32(v, &in->y);
    case WB_FC_ELEM_DROP:
    case WB_FC_TABLE_GROW:
    case WB_FC_TABLE_SIZE:
    case WB_FC_TABLE_FILL: return read_u32(v, &in->x);
    default:
        if (in->sub <= WB_FC_I64_TRUNC_SAT_F64_U) return true;
        return malformed(v, "illegal opcode 0xfc %" PRIu32, in->sub);
    }
}

static bool decode_prefix_simd(validator *v, decoded_instr *in) {
    wb_reader *r = &v->r;
    uint32_t offset;
    if (!read_u32(v, &in->sub)) return false;
    switch (wb__simd_imm(in->sub)) {
    case WB_SIMD_IMM_NONE: return true;
    case WB_SIMD_IMM_LANE: return wb__rd_u8(r, &in->lane) || fail_read(v);
    case WB_SIMD_IMM_MEMARG: return wb__rd_memarg(r, &in->align, &offset) || fail_read(v);
    case WB_SIMD_IMM_MEMARG_LANE:
        return (wb__rd_memarg(r, &in->align, &offset) && wb__rd_u8(r, &in->lane)) || fail_read(v);
    case WB_SIMD_IMM_BYTES16: return wb__rd_bytes(r, 16, &in->targets) || fail_read(v);
    case WB_SIMD_IMM_ILLEGAL: break;
    }
    return malformed(v, "illegal opcode 0xfd %" PRIu32, in->sub);
}

/* Reads one instruction with its immediates. */
static bool decode_instr(validator *v, decoded_instr *in) {
    wb_reader *r = &v->r;
    uint64_t bits;
    uint32_t bits32;
    int64_t value;
    if (!wb__rd_u8(r, &in->op)) return fail_read(v);
    switch (in->op) {
    case WB_OP_UNREACHABLE:
    case WB_OP_NOP:
    case WB_OP_ELSE:
    case WB_OP_END:
    case WB_OP_RETURN:
    case WB_OP_DROP:
    case WB_OP_SELECT:
    case WB_OP_REF_IS_NULL: return true;
    case WB_OP_BLOCK:
    case WB_OP_LOOP:
    case WB_OP_IF: return decode_blocktype(v, in);
    case WB_OP_BR:
    case WB_OP_BR_IF:
    case WB_OP_CALL:
    case WB_OP_LOCAL_GET:
    case WB_OP_LOCAL_SET:
    case WB_OP_LOCAL_TEE:
    case WB_OP_GLOBAL_GET:
    case WB_OP_GLOBAL_SET:
    case WB_OP_TABLE_GET:
    case WB_OP_TABLE_SET:
    case WB_OP_REF_FUNC: return read_u32(v, &in->x);
    case WB_OP_CALL_INDIRECT: return read_u32(v, &in->x) && read_u32(v, &in->y);
    case WB_OP_BR_TABLE: return decode_br_table(v, in);
    case WB_OP_SELECT_T: return decode_select_t(v, in);
    case WB_OP_MEMORY_SIZE:
    case WB_OP_MEMORY_GROW: return read_zero_byte(v);
    case WB_OP_I32_CONST: return wb__rd_sleb(r, 32, &value) || fail_read(v);
    case WB_OP_I64_CONST: return wb__rd_sleb(r, 64, &value) || fail_read(v);
    case WB_OP_F32_CONST: return wb__rd_f32(r, &bits32) || fail_read(v);
    case WB_OP_F64_CONST: return wb__rd_f64(r, &bits) || fail_read(v);
    case WB_OP_REF_NULL:
        if (!wb__rd_u8(r, &in->type)) return fail_read(v);
        if (!wb__is_ref_type(in->type)) return malformed(v, "malformed reference type");
        return true;
    case WB_OP_PREFIX_FC: return decode_prefix_fc(v, in);
    case WB_OP_PREFIX_SIMD: return decode_prefix_simd(v, in);
    default:
        if (in->op >= WB_OP_I32_LOAD && in->op <= WB_OP_I64_STORE32) {
            uint32_t offset;
            return wb__rd_memarg(r, &in->align, &offset) || fail_read(v);
        }
        if (in->op >= NUMERIC_FIRST && in->op <= NUMERIC_LAST) return true;
        return malformed(v, "illegal opcode 0x%02x", in->op);
    }
}

/* ---- validating instructions ---- */

static bool get_label(validator *v, uint32_t depth, const uint8_t **types, uint32_t *n) {
    if (depth >= v->nctrls) return invalid(v, "unknown label %" PRIu32, depth);
    label_types(&v->ctrls[v->nctrls - 1 - depth], types, n);
    return true;
}

static bool need_memory(validator *v, uint32_t index) {
    if (index >= v->m->nmemories) return invalid(v, "unknown memory %" PRIu32, index);
    return true;
}

static bool need_table(validator *v, uint32_t index) {
    if (index >= v->m->ntables) return invalid(v, "unknown table %" PRIu32, index);
    return true;
}

static bool need_data(validator *v, uint32_t index) {
    uint32_t n = v->m->has_data_count ? v->m->data_count : v->m->ndatas;
    if (index >= n) return invalid(v, "unknown data segment %" PRIu32, index);
    return true;
}

static bool need_elem(validator *v, uint32_t index) {
    if (index >= v->m->nelems) return invalid(v, "unknown elem segment %" PRIu32, index);
    return true;
}

static bool check_alignment(validator *v, uint32_t align, unsigned log2_size) {
    if (align > log2_size)
        return invalid(v, "alignment must not be larger than natural (2^%" PRIu32 " > %u bytes)",
                       align, 1u << log2_size);
    return true;
}

static bool check_lane(validator *v, uint32_t lane, uint32_t lanes) {
    if (lane >= lanes)
        return invalid(v, "invalid lane index %" PRIu32 " (%" PRIu32 " lanes)", lane, lanes);
    return true;
}

static bool check_block(validator *v, const decoded_instr *in) {
    const uint8_t *params = NULL, *results = NULL;
    uint32_t nparams = 0, nresults = 0;
    if (in->blocktype >= 0) {
        if ((uint64_t)in->blocktype >= v->m->ntypes)
            return invalid(v, "unknown type %" PRId64, in->blocktype);
        const wb_functype *ft = &v->m->types[in->blocktype];
        params = ft->types;
        nparams = ft->nparams;
        results = ft->types + ft->nparams;
        nresults = ft->nresults;
    } else if (in->blocktype != -64) {
        results = single_type((uint8_t)(in->blocktype & 0x7f));
        nresults = 1;
    }
    if (in->op == WB_OP_IF && !pop_type(v, WB_I32)) return false;
    if (!pop_types(v, params, nparams)) return false;
    return push_ctrl(v, in->op, params, nparams, results, nresults);
}

static bool check_else(validator *v) {
    ctrl_frame f;
    /* `else` anywhere but directly in an `if` cannot be decoded (the spec's decoder ends the
     * enclosing instruction sequence there and then wants `end`) */
    if (top(v)->kind != WB_OP_IF) return malformed(v, "END opcode expected");
    if (!pop_ctrl(v, &f)) return false;
    return push_ctrl(v, WB_OP_ELSE, f.params, f.nparams, f.results, f.nresults);
}

static bool check_end(validator *v) {
    ctrl_frame f;
    if (!pop_ctrl(v, &f)) return false;
    if (f.kind == WB_OP_IF) {
        /* no `else`: the implicit empty else branch must turn the params into the results */
        if (!push_ctrl(v, WB_OP_ELSE, f.params, f.nparams, f.results, f.nresults) ||
            !pop_ctrl(v, &f))
            return false;
    }
    push_types(v, f.results, f.nresults);
    return true;
}

static bool check_br_table(validator *v, const decoded_instr *in) {
    const uint8_t *def_types = NULL, *types = NULL;
    uint32_t ndef = 0, ntypes = 0, depth = 0;
    if (in->x > WB_MAX_BR_TABLE) return invalid(v, "br_table has too many targets");
    if (!pop_type(v, WB_I32) || !get_label(v, in->y, &def_types, &ndef)) return false;
    wb_reader targets = {in->targets, v->r.end, v->r.base, NULL, true, NULL};
    for (uint32_t i = 0; i < in->x; i++) {
        wb__rd_u32(&targets, &depth); /* decoded before */
        if (!get_label(v, depth, &types, &ntypes)) return false;
        if (ntypes != ndef)
            return invalid(v, "type mismatch: br_table targets have different arities");
        if (!peek_types(v, types, ntypes)) return false;
    }
    if (!pop_types(v, def_types, ndef)) return false;
    set_unreachable(v);
    return true;
}

static bool check_call(validator *v, const wb_functype *ft) {
    if (!pop_types(v, ft->types, ft->nparams)) return false;
    push_types(v, ft->types + ft->nparams, ft->nresults);
    return true;
}

static bool check_control(validator *v, const decoded_instr *in) {
    const uint8_t *types = NULL;
    uint32_t n = 0;
    switch (in->op) {
    case WB_OP_UNREACHABLE: set_unreachable(v); return true;
    case WB_OP_BLOCK:
    case WB_OP_LOOP:
    case WB_OP_IF: return check_block(v, in);
    case WB_OP_ELSE: return check_else(v);
    case WB_OP_END: return check_end(v);
    case WB_OP_BR:
        if (!get_label(v, in->x, &types, &n) || !pop_types(v, types, n)) return false;
        set_unreachable(v);
        return true;
    case WB_OP_BR_IF:
        if (!get_label(v, in->x, &types, &n) || !pop_type(v, WB_I32) || !pop_types(v, types, n))
            return false;
        push_types(v, types, n);
        return true;
    case WB_OP_BR_TABLE: return check_br_table(v, in);
    case WB_OP_RETURN:
        if (!pop_types(v, v->ctrls[0].results, v->ctrls[0].nresults)) return false;
        set_unreachable(v);
        return true;
    case WB_OP_CALL:
        if (in->x >= v->m->nfuncs) return invalid(v, "unknown function %" PRIu32, in->x);
        return check_call(v, wb__func_type(v->m, in->x));
    case WB_OP_CALL_INDIRECT:
        if (!need_table(v, in->y)) return false;
        if (v->m->tables[in->y].elem != WB_FUNCREF)
            return invalid(v, "type mismatch: call_indirect needs a funcref table");
        if (in->x >= v->m->ntypes) return invalid(v, "unknown type %" PRIu32, in->x);
        if (!pop_type(v, WB_I32)) return false;
        return check_call(v, &v->m->types[in->x]);
    default: return true; /* nop */
    }
}

static bool is_numeric_or_vector(uint8_t t) {
    return t == WB_I32 || t == WB_I64 || t == WB_F32 || t == WB_F64 || t == WB_V128 ||
           t == TYPE_UNKNOWN;
}

static bool check_select(validator *v) {
    uint8_t t1 = 0, t2 = 0;
    if (!pop_type(v, WB_I32) || !pop_any(v, &t1) || !pop_any(v, &t2)) return false;
    if (!is_numeric_or_vector(t1) || !is_numeric_or_vector(t2))
        return invalid(v, "type mismatch: select of reference types needs a type annotation");
    if (t1 != t2 && t1 != TYPE_UNKNOWN && t2 != TYPE_UNKNOWN)
        return invalid(v, "type mismatch: select operands are %s and %s", type_name(t2),
                       type_name(t1));
    push(v, t1 == TYPE_UNKNOWN ? t2 : t1);
    return true;
}

static uint8_t local_type(const validator *v, uint32_t x) {
    if (x < v->type->nparams) return v->type->types[x];
    return v->local_types[x - v->type->nparams];
}

static bool check_variable(validator *v, const decoded_instr *in) {
    uint8_t t = 0;
    switch (in->op) {
    case WB_OP_DROP: return pop_any(v, &t);
    case WB_OP_SELECT: return check_select(v);
    case WB_OP_SELECT_T:
        if (in->x != 1) return invalid(v, "invalid result arity");
        if (!pop_type(v, WB_I32) || !pop_type(v, in->type) || !pop_type(v, in->type)) return false;
        push(v, in->type);
        return true;
    case WB_OP_LOCAL_GET:
    case WB_OP_LOCAL_SET:
    case WB_OP_LOCAL_TEE:
        if (in->x >= v->nlocals) return invalid(v, "unknown local %" PRIu32, in->x);
        t = local_type(v, in->x);
        if (in->op != WB_OP_LOCAL_GET && !pop_type(v, t)) return false;
        if (in->op != WB_OP_LOCAL_SET) push(v, t);
        return true;
    case WB_OP_GLOBAL_GET:
    case WB_OP_GLOBAL_SET: {
        if (in->x >= v->m->nglobals) return invalid(v, "unknown global %" PRIu32, in->x);
        const wb_globaltype *g = &v->m->global_types[in->x];
        if (in->op == WB_OP_GLOBAL_GET) {
            push(v, g->type);
            return true;
        }
        if (!g->mut) return invalid(v, "global is immutable: global %" PRIu32, in->x);
        return pop_type(v, g->type);
    }
    case WB_OP_TABLE_GET:
        if (!need_table(v, in->x) || !pop_type(v, WB_I32)) return false;
        push(v, v->m->tables[in->x].elem);
        return true;
    default: /* WB_OP_TABLE_SET */
        return need_table(v, in->x) && pop_type(v, v->m->tables[in->x].elem) && pop_type(v, WB_I32);
    }
}

static bool check_memory(validator *v, const decoded_instr *in) {
    if (!need_memory(v, 0)) return false;
    if (in->op == WB_OP_MEMORY_SIZE || in->op == WB_OP_MEMORY_GROW) {
        if (in->op == WB_OP_MEMORY_GROW && !pop_type(v, WB_I32)) return false;
        push(v, WB_I32);
        return true;
    }
    const memory_sig *sig = &memory_sigs[in->op - WB_OP_I32_LOAD];
    if (!check_alignment(v, in->align, sig->log2_size)) return false;
    if (sig->is_store) return pop_type(v, sig->type) && pop_type(v, WB_I32);
    if (!pop_type(v, WB_I32)) return false;
    push(v, sig->type);
    return true;
}

static bool check_ref(validator *v, const decoded_instr *in) {
    uint8_t t = 0;
    switch (in->op) {
    case WB_OP_REF_NULL: push(v, in->type); return true;
    case WB_OP_REF_IS_NULL:
        if (!pop_any(v, &t)) return false;
        if (t != TYPE_UNKNOWN && !wb__is_ref_type(t))
            return invalid(v, "type mismatch: expected a reference, got %s", type_name(t));
        push(v, WB_I32);
        return true;
    default: /* WB_OP_REF_FUNC */
        if (in->x >= v->m->nfuncs) return invalid(v, "unknown function %" PRIu32, in->x);
        if (!(v->m->declared_refs[in->x / 8] & (1u << (in->x % 8))))
            return invalid(v, "undeclared function reference %" PRIu32, in->x);
        push(v, WB_FUNCREF);
        return true;
    }
}

static bool pop_i32s(validator *v, int n) {
    for (int i = 0; i < n; i++)
        if (!pop_type(v, WB_I32)) return false;
    return true;
}

static bool check_prefix_fc(validator *v, const decoded_instr *in) {
    const wb_module *m = v->m;
    if (in->sub <= WB_FC_I64_TRUNC_SAT_F64_U) {
        if (!pop_type(v, sat_sigs[in->sub].in)) return false;
        push(v, sat_sigs[in->sub].out);
        return true;
    }
    switch (in->sub) {
    case WB_FC_MEMORY_INIT: return need_memory(v, 0) && need_data(v, in->x) && pop_i32s(v, 3);
    case WB_FC_DATA_DROP: return need_data(v, in->x);
    case WB_FC_MEMORY_COPY:
    case WB_FC_MEMORY_FILL: return need_memory(v, 0) && pop_i32s(v, 3);
    case WB_FC_TABLE_INIT: /* elem x, table y */
        if (!need_table(v, in->y) || !need_elem(v, in->x)) return false;
        if (m->elems[in->x].elem_type != m->tables[in->y].elem)
            return invalid(v,
                           "type mismatch: element segment %" PRIu32 " does not fit table %" PRIu32,
                           in->x, in->y);
        return pop_i32s(v, 3);
    case WB_FC_ELEM_DROP: return need_elem(v, in->x);
    case WB_FC_TABLE_COPY: /* destination x, source y */
        if (!need_table(v, in->x) || !need_table(v, in->y)) return false;
        if (m->tables[in->x].elem != m->tables[in->y].elem)
            return invalid(v, "type mismatch: table.copy between tables of different types");
        return pop_i32s(v, 3);
    case WB_FC_TABLE_GROW:
        if (!need_table(v, in->x) || !pop_type(v, WB_I32) || !pop_type(v, m->tables[in->x].elem))
            return false;
        push(v, WB_I32);
        return true;
    case WB_FC_TABLE_SIZE:
        if (!need_table(v, in->x)) return false;
        push(v, WB_I32);
        return true;
    default: /* WB_FC_TABLE_FILL */
        return need_table(v, in->x) && pop_type(v, WB_I32) && pop_type(v, m->tables[in->x].elem) &&
               pop_type(v, WB_I32);
    }
}

static bool check_simd_memory(validator *v, const decoded_instr *in, const simd_sig *sig) {
    if (!need_memory(v, 0) || !check_alignment(v, in->align, sig->n)) return false;
    switch (sig->kind) {
    case SIMD_LOAD:
        if (!pop_type(v, WB_I32)) return false;
        push(v, WB_V128);
        return true;
    case SIMD_LOAD_LANE:
        if (!check_lane(v, in->lane, 16u >> sig->n) || !pop_type(v, WB_V128) ||
            !pop_type(v, WB_I32))
            return false;
        push(v, WB_V128);
        return true;
    case SIMD_STORE_LANE:
        if (!check_lane(v, in->lane, 16u >> sig->n)) return false;
        /* fall through */
    default: /* SIMD_STORE */ return pop_type(v, WB_V128) && pop_type(v, WB_I32);
    }
}

static bool check_simd(validator *v, const decoded_instr *in) {
    const simd_sig *sig = &simd_sigs[in->sub]; /* the decoder accepts only sub-opcodes < 256 */
    switch (sig->kind) {
    case SIMD_SIMPLE:
        for (uint32_t i = sig->nin; i-- > 0;)
            if (!pop_type(v, sig->in[i])) return false;
        push(v, sig->out);
        return true;
    case SIMD_EXTRACT:
        if (!check_lane(v, in->lane, sig->n) || !pop_type(v, WB_V128)) return false;
        push(v, sig->out);
        return true;
    case SIMD_REPLACE:
        if (!check_lane(v, in->lane, sig->n) || !pop_type(v, sig->out) || !pop_type(v, WB_V128))
            return false;
        push(v, WB_V128);
        return true;
    case SIMD_CONST: push(v, WB_V128); return true;
    case SIMD_SHUFFLE:
        for (uint32_t i = 0; i < 16; i++)
            if (!check_lane(v, in->targets[i], 32)) return false;
        if (!pop_type(v, WB_V128) || !pop_type(v, WB_V128)) return false;
        push(v, WB_V128);
        return true;
    default: return check_simd_memory(v, in, sig);
    }
}

static bool check_instr(validator *v, const decoded_instr *in) {
    uint8_t op = in->op;
    if (op <= WB_OP_CALL_INDIRECT) return check_control(v, in);
    if (op >= WB_OP_DROP && op <= WB_OP_TABLE_SET) return check_variable(v, in);
    if (op >= WB_OP_I32_LOAD && op <= WB_OP_MEMORY_GROW) return check_memory(v, in);
    if (op >= WB_OP_I32_CONST && op <= WB_OP_F64_CONST) {
        static const uint8_t const_types[] = {WB_I32, WB_I64, WB_F32, WB_F64};
        push(v, const_types[op - WB_OP_I32_CONST]);
        return true;
    }
    if (op >= NUMERIC_FIRST && op <= NUMERIC_LAST) {
        const numeric_sig *sig = &numeric_sigs[op - NUMERIC_FIRST];
        if (sig->in2 != T_NONE && !pop_type(v, sig->in2)) return false;
        if (!pop_type(v, sig->in1)) return false;
        push(v, sig->out);
        return true;
    }
    if (op >= WB_OP_REF_NULL && op <= WB_OP_REF_FUNC) return check_ref(v, in);
    if (op == WB_OP_PREFIX_FC) return check_prefix_fc(v, in);
    return check_simd(v, in); /* WB_OP_PREFIX_SIMD: decode_instr accepts nothing else */
}

/* ---- function bodies ---- */

static bool start_body(validator *v, uint32_t i) {
    const wb_func_decl *f = &v->m->funcs[i];
    uint32_t ngroups = 0, count = 0;
    uint8_t t = 0;
    v->what = NULL;
    v->func_index = v->m->nimported_funcs + i;
    v->r = (wb_reader){f->body, f->body + f->body_len, v->m->bytes, NULL, true, NULL};
    v->instr = f->body;
    v->nvals = 0;
    v->nctrls = 0;
    /* the locals declarations, decoded before */
    if (!read_u32(v, &ngroups)) return false;
    for (uint32_t g = 0; g < ngroups; g++) {
        if (!read_u32(v, &count)) return false;
        if (!wb__rd_u8(&v->r, &t)) return fail_read(v);
    }
    return true;
}

static bool end_body(validator *v) {
    /* the spec's decoder reads the body as one expression, then wants the body's size consumed */
    if (v->r.p != v->r.end)
        return malformed(v, "section size mismatch: code after the end of the function");
    return true;
}

static bool check_body(validator *v, uint32_t i) {
    const wb_func_decl *f = &v->m->funcs[i];
    if (!start_body(v, i)) return false;
    v->type = &v->m->types[f->type_index];
    v->local_types = f->local_types;
    v->nlocals = v->type->nparams + f->nlocals;
    WB_VEC_RESERVE(v->vals, v->vals_cap, (size_t)MAX_PUSH);
    if (!push_ctrl(v, FRAME_FUNC, NULL, 0, v->type->types + v->type->nparams, v->type->nresults))
        return false;
    while (v->nctrls > 0) {
        decoded_instr in = {0};
        v->instr = v->r.p;
        if (v->nvals > MAX_OPERANDS) return invalid(v, "operand stack too deep");
        if (v->vals_cap - v->nvals < MAX_PUSH)
            WB_VEC_RESERVE(v->vals, v->vals_cap, (size_t)v->nvals + MAX_PUSH);
        if (!decode_instr(v, &in) || !check_instr(v, &in)) return false;
    }
    return end_body(v);
}

/* Decodes a body without validating it (the block structure is kept in `vals`). Returns false
 * with the error set if it is malformed. Used once the module is known to be invalid: the spec
 * decodes the whole module before validating, so a malformed body wins over an invalid one. */
static bool scan_body(validator *v, uint32_t i) {
    if (!start_body(v, i)) return false;
    WB_VEC_RESERVE(v->vals, v->vals_cap, (size_t)1);
    v->vals[v->nvals++] = FRAME_FUNC;
    while (v->nvals > 0) {
        decoded_instr in = {0};
        v->instr = v->r.p;
        WB_VEC_RESERVE(v->vals, v->vals_cap, (size_t)v->nvals + 1);
        if (!decode_instr(v, &in)) return false;
        switch (in.op) {
        case WB_OP_BLOCK:
        case WB_OP_LOOP:
        case WB_OP_IF: v->vals[v->nvals++] = in.op; break;
        case WB_OP_ELSE:
            if (v->vals[v->nvals - 1] != WB_OP_IF) return malformed(v, "END opcode expected");
            v->vals[v->nvals - 1] = WB_OP_ELSE;
            break;
        case WB_OP_END: v->nvals--; break;
        default: break;
        }
    }
    return end_body(v);
}

/* ---- module-level rules ---- */

static void at(validator *v, const char *what, uint32_t index) {
    v->what = what;
    v->what_index = index;
}

static bool check_limits(validator *v, const wb_limits *l, bool is_memory) {
    if (is_memory && (l->min > WB_MAX_PAGES || (l->has_max && l->max > WB_MAX_PAGES)))
        return invalid(v, "memory size must be at most 65536 pages (4GiB)");
    if (l->has_max && l->min > l->max)
        return invalid(v, "size minimum must not be greater than maximum");
    return true;
}

/* Function types of imports and definitions (before anything looks them up), tables, memories. */
static bool check_index_spaces(validator *v) {
    wb_module *m = v->m;
    for (uint32_t i = 0; i < m->nimports; i++) {
        at(v, "import", i);
        if (m->imports[i].kind == WB_EXTERN_FUNC && m->imports[i].type_index >= m->ntypes)
            return invalid(v, "unknown type %" PRIu32, m->imports[i].type_index);
    }
    for (uint32_t i = 0; i < m->nfunc_decls; i++) {
        at(v, "function", m->nimported_funcs + i);
        if (m->funcs[i].type_index >= m->ntypes)
            return invalid(v, "unknown type %" PRIu32, m->funcs[i].type_index);
    }
    for (uint32_t i = 0; i < m->ntables; i++) {
        at(v, "table", i);
        if (!check_limits(v, &m->tables[i].limits, false)) return false;
    }
    for (uint32_t i = 0; i < m->nmemories; i++) {
        at(v, "memory", i);
        if (!check_limits(v, &m->memories[i], true)) return false;
        if (i > 0) return invalid(v, "multiple memories");
    }
    return true;
}

/* A constant expression producing `want`. Only imported immutable globals may be read (Wasm 2.0);
 * the type of a global.get is filled in here. */
static bool check_const_expr(validator *v, wb_const_expr *e, uint8_t want) {
    wb_module *m = v->m;
    if (e->op == WB_CONST_REF_FUNC && e->index >= m->nfuncs)
        return invalid(v, "unknown function %" PRIu32, e->index);
    if (e->op == WB_CONST_GLOBAL_GET) {
        if (e->index >= m->nimported_globals)
            return invalid(v, "unknown global %" PRIu32, e->index);
        if (m->global_types[e->index].mut)
            return invalid(v, "constant expression required: global %" PRIu32 " is mutable",
                           e->index);
        e->type = m->global_types[e->index].type;
    }
    if (e->type != want)
        return invalid(v, "type mismatch: expected %s, got %s", type_name(want),
                       type_name(e->type));
    return true;
}

static bool check_globals(validator *v) {
    wb_module *m = v->m;
    for (uint32_t i = 0; i < m->nglobal_decls; i++) {
        at(v, "global", m->nimported_globals + i);
        if (!check_const_expr(v, &m->globals[i].init, m->globals[i].type.type)) return false;
    }
    return true;
}

static bool check_elems(validator *v) {
    wb_module *m = v->m;
    for (uint32_t i = 0; i < m->nelems; i++) {
        wb_elem_segment *seg = &m->elems[i];
        at(v, "element segment", i);
        if (seg->mode == WB_SEG_ACTIVE) {
            if (seg->table >= m->ntables) return invalid(v, "unknown table %" PRIu32, seg->table);
            if (!check_const_expr(v, &seg->offset, WB_I32)) return false;
            if (m->tables[seg->table].elem != seg->elem_type)
                return invalid(v, "type mismatch: %s segment for a %s table",
                               type_name(seg->elem_type), type_name(m->tables[seg->table].elem));
        }
        for (uint32_t k = 0; k < seg->count; k++)
            if (!check_const_expr(v, &seg->items[k], seg->elem_type)) return false;
    }
    return true;
}

static bool check_datas(validator *v) {
    wb_module *m = v->m;
    for (uint32_t i = 0; i < m->ndatas; i++) {
        wb_data_segment *seg = &m->datas[i];
        at(v, "data segment", i);
        if (seg->mode != WB_SEG_ACTIVE) continue;
        if (seg->memory >= m->nmemories) return invalid(v, "unknown memory %" PRIu32, seg->memory);
        if (!check_const_expr(v, &seg->offset, WB_I32)) return false;
    }
    return true;
}

static bool check_start(validator *v) {
    wb_module *m = v->m;
    if (!m->has_start) return true;
    at(v, "start function", m->start);
    if (m->start >= m->nfuncs) return invalid(v, "unknown function %" PRIu32, m->start);
    const wb_functype *ft = wb__func_type(m, m->start);
    if (ft->nparams != 0 || ft->nresults != 0)
        return invalid(v, "start function must have type [] -> []");
    return true;
}

static int compare_export_names(const void *a, const void *b) {
    const wb_export *x = *(const wb_export *const *)a, *y = *(const wb_export *const *)b;
    if (x->name_len != y->name_len) return x->name_len < y->name_len ? -1 : 1;
    int c = memcmp(x->name, y->name, x->name_len);
    if (c != 0) return c;
    return x < y ? -1 : x > y; /* stable: report the later duplicate */
}

static bool check_exports(validator *v) {
    wb_module *m = v->m;
    static const char *const unknown[] = {"unknown function", "unknown table", "unknown memory",
                                          "unknown global"};
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wb_export *e = &m->exports[i];
        uint32_t limit = e->kind == WB_EXTERN_FUNC     ? m->nfuncs
                         : e->kind == WB_EXTERN_TABLE  ? m->ntables
                         : e->kind == WB_EXTERN_MEMORY ? m->nmemories
                                                       : m->nglobals;
        at(v, "export", i);
        if (e->index >= limit) return invalid(v, "%s %" PRIu32, unknown[e->kind], e->index);
    }
    if (m->nexports < 2) return true;
    /* nexports is bounded by WB_MAX_EXPORTS in the decoder */
    const wb_export **sorted = wb_calloc(m->nexports, sizeof *sorted);
    for (uint32_t i = 0; i < m->nexports; i++) sorted[i] = &m->exports[i];
    qsort(sorted, m->nexports, sizeof *sorted, compare_export_names);
    bool ok = true;
    for (uint32_t i = 1; i < m->nexports && ok; i++) {
        const wb_export *a = sorted[i - 1], *b = sorted[i];
        if (a->name_len == b->name_len && memcmp(a->name, b->name, a->name_len) == 0) {
            at(v, "export", (uint32_t)(b - m->exports));
            int shown = b->name_len > 64 ? 64 : (int)b->name_len;
            ok = invalid(v, "duplicate export name \"%.*s\"", shown, b->name);
        }
    }
    free(sorted);
    return ok;
}

int wb__module_validate(wb_module *m, wb_error *err) {
    validator v = {.m = m, .err = err};
    bool ok = check_index_spaces(&v) && check_globals(&v) && check_elems(&v) && check_datas(&v);
    for (uint32_t i = 0; ok && i < m->nfunc_decls; i++) ok = check_body(&v, i);
    ok = ok && check_start(&v) && check_exports(&v);
    if (!ok && v.failure == WB_EINVALID) {
        /* report a malformed body instead, as the spec's decode-then-validate order does */
        for (uint32_t i = 0; i < m->nfunc_decls; i++)
            if (!scan_body(&v, i)) break;
    }
    free(v.vals);
    free(v.ctrls);
    return ok ? 0 : -1;
}
