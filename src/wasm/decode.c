/* Decoding of the Wasm 2.0 binary format into a wb_module. Every count read from the input is
 * checked against wasm/limits.h and against the bytes left before anything is allocated. Function
 * bodies are only delimited here; the validator reads their instructions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "wasm/limits.h"
#include "wasm/module.h"
#include "wasm/opcodes.h"
#include "wasm/reader.h"

enum {
    SEC_CUSTOM = 0,
    SEC_TYPE = 1,
    SEC_IMPORT = 2,
    SEC_FUNCTION = 3,
    SEC_TABLE = 4,
    SEC_MEMORY = 5,
    SEC_GLOBAL = 6,
    SEC_EXPORT = 7,
    SEC_START = 8,
    SEC_ELEMENT = 9,
    SEC_CODE = 10,
    SEC_DATA = 11,
    SEC_DATA_COUNT = 12,
};

/* Position of each known section in the required order (data count sits between element and
 * code). */
static int section_rank(uint8_t id) {
    static const int rank[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};
    return rank[id];
}

typedef struct decoder {
    wb_module *m;
    wb_reader r;
    wb_error *err;
    int invalid;          /* set when the failure is a validation error found while decoding */
    uint32_t nfunc_decls; /* from the function section */
    bool seen_code;
} decoder;

static int fail(decoder *d) {
    const char *msg = d->r.err ? d->r.err : "malformed module";
    return wb_error_set(d->err, d->invalid ? WB_EINVALID : WB_EMALFORMED, "%s (at offset 0x%zx)",
                        msg, wb__rd_fail_offset(&d->r));
}

static bool failmsg(decoder *d, const char *msg) {
    return wb__rd_fail(&d->r, msg);
}

static bool fail_invalid(decoder *d, const char *msg) {
    if (!d->r.err) d->invalid = 1;
    return wb__rd_fail(&d->r, msg);
}

/* A vector count: bounded by a limit and by the bytes left (each item takes at least one byte). */
static bool read_count(decoder *d, uint32_t limit, const char *too_many, uint32_t *out) {
    const uint8_t *start = d->r.p;
    if (!wb__rd_u32(&d->r, out)) return false;
    if (*out > limit || *out > wb__rd_left(&d->r)) {
        d->r.p = start; /* report the count's own offset */
        return failmsg(d, *out > limit ? too_many : "unexpected end of section or function");
    }
    return true;
}

static bool utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp;
        if ((c & 0xe0) == 0xc0) {
            len = 2;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i < len) return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
            return false; /* overlong */
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += len;
    }
    return true;
}

static bool read_name(decoder *d, char **out, uint32_t *out_len) {
    uint32_t n;
    const uint8_t *bytes;
    if (!wb__rd_u32(&d->r, &n)) return false;
    if (n > WB_MAX_STRING) return failmsg(d, "name too long");
    if (n > wb__rd_left(&d->r)) return failmsg(d, "length out of bounds");
    if (!wb__rd_bytes(&d->r, n, &bytes)) return false;
    if (!utf8_valid(bytes, n)) return failmsg(d, "malformed UTF-8 encoding");
    *out = wb_strndup((const char *)bytes, n);
    if (out_len) *out_len = n;
    return true;
}

static bool read_valtype(decoder *d, uint8_t *out) {
    uint8_t t;
    if (!wb__rd_u8(&d->r, &t)) return false;
    if (!wb__is_value_type(t)) return failmsg(d, "malformed value type");
    *out = t;
    return true;
}

static bool read_reftype(decoder *d, uint8_t *out) {
    uint8_t t;
    if (!wb__rd_u8(&d->r, &t)) return false;
    if (!wb__is_ref_type(t)) return failmsg(d, "malformed reference type");
    *out = t;
    return true;
}

static bool read_limits(decoder *d, wb_limits *lim) {
    uint64_t flags;
    uint32_t v;
    /* a 1-bit LEB128: 2/3 (shared memories of the threads proposal) and 4+ (memory64) are not
     * Wasm 2.0 and read as "integer too large" */
    if (!wb__rd_uleb(&d->r, 1, &flags)) return false;
    if (!wb__rd_u32(&d->r, &v)) return false;
    lim->min = v;
    lim->has_max = flags & 1;
    lim->max = 0;
    if (lim->has_max) {
        if (!wb__rd_u32(&d->r, &v)) return false;
        lim->max = v;
    }
    return true;
}

static bool read_tabletype(decoder *d, wb_tabletype *t) {
    return read_reftype(d, &t->elem) && read_limits(d, &t->limits);
}

static bool read_globaltype(decoder *d, wb_globaltype *g) {
    uint8_t mut;
    if (!read_valtype(d, &g->type) || !wb__rd_u8(&d->r, &mut)) return false;
    if (mut > 1) return failmsg(d, "malformed mutability");
    g->mut = mut;
    return true;
}

static void mark_declared(wb_module *m, uint32_t func) {
    if (func < m->nfuncs) m->declared_refs[func / 8] |= (uint8_t)(1u << (func % 8));
}

static bool is_opcode(uint8_t op) {
    return op <= 0x05 || (op >= 0x0b && op <= 0x11) || (op >= 0x1a && op <= 0x1c) ||
           (op >= 0x20 && op <= 0x26) || (op >= 0x28 && op <= 0xc4) || (op >= 0xd0 && op <= 0xd2) ||
           op == 0xfc || op == 0xfd;
}

static bool is_const_op(uint8_t op) {
    return op == WB_OP_I32_CONST || op == WB_OP_I64_CONST || op == WB_OP_F32_CONST ||
           op == WB_OP_F64_CONST || op == WB_OP_REF_NULL || op == WB_OP_REF_FUNC ||
           op == WB_OP_GLOBAL_GET || op == WB_OP_PREFIX_SIMD;
}

static bool skip_const_immediate(wb_reader *r, uint8_t op) {
    int64_t s;
    uint32_t u;
    uint64_t f;
    uint8_t b;
    switch (op) {
    case WB_OP_I32_CONST:
    case WB_OP_I64_CONST: return wb__rd_s64(r, &s);
    case WB_OP_F32_CONST: return wb__rd_f32(r, &u);
    case WB_OP_F64_CONST: return wb__rd_f64(r, &f);
    case WB_OP_REF_NULL: return wb__rd_u8(r, &b);
    case WB_OP_PREFIX_SIMD: {
        const uint8_t *bytes;
        return wb__rd_u32(r, &u) && u == WB_SIMD_V128_CONST && wb__rd_bytes(r, 16, &bytes);
    }
    default: return wb__rd_u32(r, &u);
    }
}

/* Constant expressions hold one instruction then `end` in Wasm 2.0; anything else is invalid
 * ("constant expression required" / "type mismatch"), which the validator reports. */
static bool read_const_expr(decoder *d, wb_const_expr *e) {
    uint8_t op;
    memset(e, 0, sizeof *e);
    if (!wb__rd_u8(&d->r, &op)) return false;
    switch (op) {
    case WB_OP_I32_CONST: {
        int32_t v;
        if (!wb__rd_s32(&d->r, &v)) return false;
        e->op = WB_CONST_I32;
        e->type = WB_I32;
        e->bits[0] = (uint32_t)v;
        break;
    }
    case WB_OP_I64_CONST: {
        int64_t v;
        if (!wb__rd_s64(&d->r, &v)) return false;
        e->op = WB_CONST_I64;
        e->type = WB_I64;
        e->bits[0] = (uint64_t)v;
        break;
    }
    case WB_OP_F32_CONST: {
        uint32_t v;
        if (!wb__rd_f32(&d->r, &v)) return false;
        e->op = WB_CONST_F32;
        e->type = WB_F32;
        e->bits[0] = v;
        break;
    }
    case WB_OP_F64_CONST:
        if (!wb__rd_f64(&d->r, &e->bits[0])) return false;
        e->op = WB_CONST_F64;
        e->type = WB_F64;
        break;
    case WB_OP_REF_NULL:
        if (!read_reftype(d, &e->type)) return false;
        e->op = WB_CONST_REF_NULL;
        break;
    case WB_OP_REF_FUNC:
        if (!wb__rd_u32(&d->r, &e->index)) return false;
        e->op = WB_CONST_REF_FUNC;
        e->type = WB_FUNCREF;
        break;
    case WB_OP_GLOBAL_GET:
        if (!wb__rd_u32(&d->r, &e->index)) return false;
        e->op = WB_CONST_GLOBAL_GET;
        break;
    case WB_OP_PREFIX_SIMD: {
        uint32_t sub;
        const uint8_t *bytes;
        if (!wb__rd_u32(&d->r, &sub)) return false;
        if (sub != WB_SIMD_V128_CONST) {
            if (wb__simd_imm(sub) != WB_SIMD_IMM_ILLEGAL)
                return fail_invalid(d, "constant expression required");
            return failmsg(d, "illegal opcode in constant expression");
        }
        if (!wb__rd_bytes(&d->r, 16, &bytes)) return false;
        memcpy(e->bits, bytes, 16);
        e->op = WB_CONST_V128;
        e->type = WB_V128;
        break;
    }
    case WB_OP_END: return fail_invalid(d, "type mismatch: constant expression is empty");
    default:
        if (is_opcode(op)) return fail_invalid(d, "constant expression required");
        return failmsg(d, "illegal opcode in constant expression");
    }
    uint8_t end;
    if (!wb__rd_u8(&d->r, &end)) return false;
    if (end == WB_OP_END) return true;
    /* a second constant followed by `end` is a type error; any other instruction is not allowed
     * in a constant expression at all */
    if (is_const_op(end) && skip_const_immediate(&d->r, end)) {
        uint8_t after;
        if (wb__rd_u8(&d->r, &after) && after == WB_OP_END)
            return fail_invalid(d, "type mismatch: constant expression has more than one value");
    }
    if (is_opcode(end)) return fail_invalid(d, "constant expression required");
    return failmsg(d, "END opcode expected");
    return true;
}

static bool decode_types(decoder *d) {
    wb_module *m = d->m;
    uint32_t n;
    if (!read_count(d, WB_MAX_TYPES, "too many types", &n)) return false;
    m->types = wb_calloc(n, sizeof *m->types);
    m->ntypes = n;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t form;
        uint32_t np, nr;
        if (!wb__rd_u8(&d->r, &form)) return false;
        if (form != 0x60) return failmsg(d, "integer representation too long");
        if (!read_count(d, WB_MAX_PARAMS, "too many parameters", &np)) return false;
        wb_functype *ft = &m->types[i];
        uint8_t *types = wb_malloc((size_t)np + WB_MAX_RESULTS);
        ft->types = types;
        for (uint32_t k = 0; k < np; k++) {
            if (!read_valtype(d, &types[k])) return false;
            ft->param_slots += wb__type_slots(types[k]);
        }
        ft->nparams = np;
        if (!read_count(d, WB_MAX_RESULTS, "too many results", &nr)) return false;
        for (uint32_t k = 0; k < nr; k++) {
            if (!read_valtype(d, &types[np + k])) return false;
            ft->result_slots += wb__type_slots(types[np + k]);
        }
        ft->nresults = nr;
        ft->types = wb_realloc(types, (size_t)np + nr);
    }
    return true;
}

static bool decode_imports(decoder *d) {
    wb_module *m = d->m;
    uint32_t n;
    if (!read_count(d, WB_MAX_IMPORTS, "too many imports", &n)) return false;
    m->imports = wb_calloc(n, sizeof *m->imports);
    for (uint32_t i = 0; i < n; i++) {
        wb_import *im = &m->imports[i];
        m->nimports = i + 1;
        if (!read_name(d, &im->module, &im->module_len) || !read_name(d, &im->name, &im->name_len))
            return false;
        if (!wb__rd_u8(&d->r, &im->kind)) return false;
        switch (im->kind) {
        case WB_EXTERN_FUNC:
            if (!wb__rd_u32(&d->r, &im->type_index)) return false;
            m->nimported_funcs++;
            break;
        case WB_EXTERN_TABLE:
            if (!read_tabletype(d, &im->table)) return false;
            m->nimported_tables++;
            break;
        case WB_EXTERN_MEMORY:
            if (!read_limits(d, &im->memory)) return false;
            m->nimported_memories++;
            break;
        case WB_EXTERN_GLOBAL:
            if (!read_globaltype(d, &im->global)) return false;
            m->nimported_globals++;
            break;
        default: return failmsg(d, "malformed import kind");
        }
    }
    return true;
}

static bool decode_functions(decoder *d) {
    uint32_t n;
    if (!read_count(d, WB_MAX_FUNCS, "too many functions", &n)) return false;
    if ((uint64_t)n + d->m->nimported_funcs > WB_MAX_FUNCS) return failmsg(d, "too many functions");
    d->nfunc_decls = n;
    d->m->funcs = wb_calloc(n, sizeof *d->m->funcs);
    d->m->nfunc_decls = n;
    for (uint32_t i = 0; i < n; i++)
        if (!wb__rd_u32(&d->r, &d->m->funcs[i].type_index)) return false;
    return true;
}

static bool decode_tables(decoder *d, wb_tabletype **defs, uint32_t *ndefs) {
    uint32_t n;
    if (!read_count(d, WB_MAX_TABLES, "too many tables", &n)) return false;
    *defs = wb_calloc(n, sizeof **defs);
    *ndefs = n;
    for (uint32_t i = 0; i < n; i++)
        if (!read_tabletype(d, &(*defs)[i])) return false;
    return true;
}

static bool decode_memories(decoder *d, wb_limits **defs, uint32_t *ndefs) {
    uint32_t n;
    if (!read_count(d, WB_MAX_MEMORIES, "too many memories", &n)) return false;
    *defs = wb_calloc(n, sizeof **defs);
    *ndefs = n;
    for (uint32_t i = 0; i < n; i++)
        if (!read_limits(d, &(*defs)[i])) return false;
    return true;
}

static bool decode_globals(decoder *d) {
    wb_module *m = d->m;
    uint32_t n;
    if (!read_count(d, WB_MAX_GLOBALS, "too many globals", &n)) return false;
    if ((uint64_t)n + m->nimported_globals > WB_MAX_GLOBALS) return failmsg(d, "too many globals");
    m->globals = wb_calloc(n, sizeof *m->globals);
    m->nglobal_decls = n;
    for (uint32_t i = 0; i < n; i++) {
        if (!read_globaltype(d, &m->globals[i].type) || !read_const_expr(d, &m->globals[i].init))
            return false;
    }
    return true;
}

static bool decode_exports(decoder *d) {
    wb_module *m = d->m;
    uint32_t n;
    if (!read_count(d, WB_MAX_EXPORTS, "too many exports", &n)) return false;
    m->exports = wb_calloc(n, sizeof *m->exports);
    for (uint32_t i = 0; i < n; i++) {
        wb_export *e = &m->exports[i];
        m->nexports = i + 1;
        if (!read_name(d, &e->name, &e->name_len) || !wb__rd_u8(&d->r, &e->kind) ||
            !wb__rd_u32(&d->r, &e->index))
            return false;
        if (e->kind > WB_EXTERN_GLOBAL) return failmsg(d, "malformed export kind");
    }
    return true;
}

static bool read_elem_funcs(decoder *d, wb_elem_segment *seg) {
    if (!read_count(d, WB_MAX_ELEM_ITEMS, "too many elements", &seg->count)) return false;
    seg->items = wb_calloc(seg->count, sizeof *seg->items);
    for (uint32_t i = 0; i < seg->count; i++) {
        wb_const_expr *e = &seg->items[i];
        if (!wb__rd_u32(&d->r, &e->index)) return false;
        e->op = WB_CONST_REF_FUNC;
        e->type = WB_FUNCREF;
    }
    return true;
}

static bool read_elem_exprs(decoder *d, wb_elem_segment *seg) {
    if (!read_count(d, WB_MAX_ELEM_ITEMS, "too many elements", &seg->count)) return false;
    seg->items = wb_calloc(seg->count, sizeof *seg->items);
    for (uint32_t i = 0; i < seg->count; i++)
        if (!read_const_expr(d, &seg->items[i])) return false;
    return true;
}

static bool read_elemkind(decoder *d) {
    uint8_t k;
    if (!wb__rd_u8(&d->r, &k)) return false;
    if (k != 0x00) return failmsg(d, "malformed element kind");
    return true;
}

static bool decode_elements(decoder *d) {
    wb_module *m = d->m;
    uint32_t n;
    if (!read_count(d, WB_MAX_ELEM_SEGMENTS, "too many element segments", &n)) return false;
    m->elems = wb_calloc(n, sizeof *m->elems);
    for (uint32_t i = 0; i < n; i++) {
        wb_elem_segment *seg = &m->elems[i];
        uint32_t flags;
        m->nelems = i + 1;
        if (!wb__rd_u32(&d->r, &flags)) return false;
        if (flags > 7) return failmsg(d, "malformed elements segment kind");
        seg->elem_type = WB_FUNCREF;
        seg->mode =
            (flags & 1) ? ((flags & 2) ? WB_SEG_DECLARATIVE : WB_SEG_PASSIVE) : WB_SEG_ACTIVE;
        if (seg->mode == WB_SEG_ACTIVE) {
            if (flags & 2) {
                if (!wb__rd_u32(&d->r, &seg->table)) return false;
            }
            if (!read_const_expr(d, &seg->offset)) return false;
        }
        bool exprs = flags & 4;
        /* forms 0 and 4 have no element kind/type; the others do */
        if (flags != 0 && flags != 4) {
            if (exprs) {
                if (!read_reftype(d, &seg->elem_type)) return false;
            } else if (!read_elemkind(d)) {
                return false;
            }
        }
        if (!(exprs ? read_elem_exprs(d, seg) : read_elem_funcs(d, seg))) return false;
    }
    return true;
}

static bool decode_data_count(decoder *d) {
    if (!wb__rd_u32(&d->r, &d->m->data_count)) return false;
    if (d->m->data_count > WB_MAX_DATA_SEGMENTS) return failmsg(d, "too many data segments");
    d->m->has_data_count = true;
    return true;
}

static bool decode_code(decoder *d) {
    wb_module *m = d->m;
    uint32_t n;
    if (!wb__rd_u32(&d->r, &n)) return false;
    if (n != d->nfunc_decls)
        return failmsg(d, "function and code section have inconsistent lengths");
    d->seen_code = true;
    for (uint32_t i = 0; i < n; i++) {
        wb_func_decl *f = &m->funcs[i];
        uint32_t size;
        const uint8_t *body;
        if (!wb__rd_u32(&d->r, &size)) return false;
        if (size > WB_MAX_FUNC_BODY) return failmsg(d, "function body too large");
        f->body_offset = (uint32_t)wb__rd_offset(&d->r);
        if (!wb__rd_bytes(&d->r, size, &body)) return false;
        f->body = body;
        f->body_len = size;

        /* locals: groups of (count, type); the total is checked before allocating */
        wb_reader lr = {body, body + size, d->r.base, NULL, true, NULL};
        uint32_t ngroups;
        uint64_t total = 0;
        if (!wb__rd_u32(&lr, &ngroups)) goto bad_locals;
        if (ngroups > size) {
            lr.err = "unexpected end";
            goto bad_locals;
        }
        const uint8_t *groups = lr.p;
        for (uint32_t g = 0; g < ngroups; g++) {
            uint32_t cnt;
            uint8_t t;
            if (!wb__rd_u32(&lr, &cnt)) goto bad_locals;
            total += cnt;
            if (total > WB_MAX_LOCALS) {
                lr.err = "too many locals";
                goto bad_locals;
            }
            if (!wb__rd_u8(&lr, &t)) goto bad_locals;
            if (!wb__is_value_type(t)) {
                lr.err = "malformed value type";
                goto bad_locals;
            }
        }
        f->nlocals = (uint32_t)total;
        f->local_types = wb_malloc(total ? total : 1);
        lr.p = groups;
        for (uint32_t g = 0, k = 0; g < ngroups; g++) {
            uint32_t cnt = 0;
            uint8_t t = 0;
            wb__rd_u32(&lr, &cnt);
            wb__rd_u8(&lr, &t);
            memset(f->local_types + k, t, cnt);
            k += cnt;
        }
        /* the expression must end with `end`; the validator checks the rest */
        if (lr.p >= lr.end || lr.end[-1] != WB_OP_END) {
            d->r.p = lr.end;
            return failmsg(d, lr.p >= lr.end ? "unexpected end of section or function"
                                             : "END opcode expected");
        }
        continue;
    bad_locals:
        d->r.p = lr.p;
        return failmsg(d, lr.err);
    }
    return true;
}

static bool decode_data(decoder *d) {
    wb_module *m = d->m;
    uint32_t n;
    if (!read_count(d, WB_MAX_DATA_SEGMENTS, "too many data segments", &n)) return false;
    if (m->has_data_count && n != m->data_count)
        return failmsg(d, "data count and data section have inconsistent lengths");
    m->datas = wb_calloc(n, sizeof *m->datas);
    for (uint32_t i = 0; i < n; i++) {
        wb_data_segment *seg = &m->datas[i];
        uint32_t flags;
        m->ndatas = i + 1;
        if (!wb__rd_u32(&d->r, &flags)) return false;
        if (flags > 2) return failmsg(d, "malformed data segment kind");
        seg->mode = flags == 1 ? WB_SEG_PASSIVE : WB_SEG_ACTIVE;
        if (flags == 2 && !wb__rd_u32(&d->r, &seg->memory)) return false;
        if (flags != 1 && !read_const_expr(d, &seg->offset)) return false;
        if (!wb__rd_u32(&d->r, &seg->len) || !wb__rd_bytes(&d->r, seg->len, &seg->bytes))
            return false;
    }
    return true;
}

/* The name section is advisory: a malformed one is ignored, never an error. */
static void decode_name_section(wb_module *m, const uint8_t *p, const uint8_t *end) {
    wb_reader r = {p, end, m->bytes, NULL, true, NULL};
    while (r.p < r.end && !r.err) {
        uint8_t id;
        uint32_t size;
        const uint8_t *sub;
        if (!wb__rd_u8(&r, &id) || !wb__rd_u32(&r, &size) || !wb__rd_bytes(&r, size, &sub)) return;
        wb_reader s = {sub, sub + size, m->bytes, NULL, true, NULL};
        if (id == 0) {
            uint32_t n;
            const uint8_t *b;
            if (wb__rd_u32(&s, &n) && n <= WB_MAX_STRING && wb__rd_bytes(&s, n, &b) &&
                utf8_valid(b, n) && !m->name)
                m->name = wb_strndup((const char *)b, n);
        } else if (id == 1 && m->nfuncs) {
            uint32_t count;
            if (!wb__rd_u32(&s, &count)) continue;
            if (!m->func_names) m->func_names = wb_calloc(m->nfuncs, sizeof *m->func_names);
            for (uint32_t i = 0; i < count && !s.err; i++) {
                uint32_t idx, n;
                const uint8_t *b;
                if (!wb__rd_u32(&s, &idx) || !wb__rd_u32(&s, &n) || n > WB_MAX_STRING ||
                    !wb__rd_bytes(&s, n, &b))
                    break;
                if (idx < m->nfuncs && !m->func_names[idx] && utf8_valid(b, n))
                    m->func_names[idx] = wb_strndup((const char *)b, n);
            }
        }
    }
}

/* Build the combined index spaces once imports and definitions are known. */
static void build_index_spaces(decoder *d, wb_tabletype *tdefs, uint32_t ntdefs, wb_limits *mdefs,
                               uint32_t nmdefs) {
    wb_module *m = d->m;
    m->nfuncs = m->nimported_funcs + d->nfunc_decls;
    m->func_types = wb_calloc(m->nfuncs, sizeof *m->func_types);
    m->ntables = m->nimported_tables + ntdefs;
    m->tables = wb_calloc(m->ntables, sizeof *m->tables);
    m->nmemories = m->nimported_memories + nmdefs;
    m->memories = wb_calloc(m->nmemories, sizeof *m->memories);
    m->nglobals = m->nimported_globals + m->nglobal_decls;
    m->global_types = wb_calloc(m->nglobals, sizeof *m->global_types);
    uint32_t fi = 0, ti = 0, mi = 0, gi = 0;
    for (uint32_t i = 0; i < m->nimports; i++) {
        wb_import *im = &m->imports[i];
        switch (im->kind) {
        case WB_EXTERN_FUNC: m->func_types[fi++] = im->type_index; break;
        case WB_EXTERN_TABLE: m->tables[ti++] = im->table; break;
        case WB_EXTERN_MEMORY: m->memories[mi++] = im->memory; break;
        case WB_EXTERN_GLOBAL: m->global_types[gi++] = im->global; break;
        }
    }
    for (uint32_t i = 0; i < d->nfunc_decls; i++) m->func_types[fi++] = m->funcs[i].type_index;
    for (uint32_t i = 0; i < ntdefs; i++) m->tables[ti++] = tdefs[i];
    for (uint32_t i = 0; i < nmdefs; i++) m->memories[mi++] = mdefs[i];
    for (uint32_t i = gi; i < m->nglobals; i++)
        m->global_types[i] = m->globals[i - m->nimported_globals].type;
    m->declared_refs = wb_calloc((m->nfuncs + 7) / 8, 1);
}

static void collect_declared_refs(wb_module *m) {
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == WB_EXTERN_FUNC) mark_declared(m, m->exports[i].index);
    for (uint32_t i = 0; i < m->nglobal_decls; i++)
        if (m->globals[i].init.op == WB_CONST_REF_FUNC) mark_declared(m, m->globals[i].init.index);
    for (uint32_t i = 0; i < m->nelems; i++)
        for (uint32_t k = 0; k < m->elems[i].count; k++)
            if (m->elems[i].items[k].op == WB_CONST_REF_FUNC)
                mark_declared(m, m->elems[i].items[k].index);
}

int wb__module_decode(wb_module *m, wb_error *err) {
    decoder d = {.m = m, .err = err};
    d.r = (wb_reader){m->bytes, m->bytes + m->len, m->bytes, NULL, false, NULL};
    wb_tabletype *tdefs = NULL;
    wb_limits *mdefs = NULL;
    uint32_t ntdefs = 0, nmdefs = 0;
    const uint8_t *name_sec = NULL, *name_end = NULL;
    int rc = -1;

    const uint8_t *hdr;
    if (!wb__rd_bytes(&d.r, 4, &hdr)) goto out;
    if (memcmp(hdr, "\0asm", 4) != 0) {
        d.r.p = m->bytes;
        failmsg(&d, "magic header not detected");
        goto out;
    }
    if (!wb__rd_bytes(&d.r, 4, &hdr)) goto out;
    if (memcmp(hdr, "\1\0\0\0", 4) != 0) {
        d.r.p -= 4;
        /* version 0x0d, layer 1: the component model's binary format */
        failmsg(&d, memcmp(hdr, "\x0d\0\1\0", 4) == 0
                        ? "unknown binary version: a WebAssembly component, not a core module "
                          "(the component model is not supported yet; build a core module, "
                          "e.g. for wasm32-wasi)"
                        : "unknown binary version");
        goto out;
    }

    int last_rank = 0;
    while (d.r.p < d.r.end) {
        uint8_t id;
        uint32_t size;
        if (!wb__rd_u8(&d.r, &id)) goto out;
        if (id > SEC_DATA_COUNT) {
            failmsg(&d, "malformed section id");
            goto out;
        }
        if (!wb__rd_u32(&d.r, &size)) goto out;
        if (size > wb__rd_left(&d.r)) {
            failmsg(&d, "length out of bounds");
            goto out;
        }
        const uint8_t *sec_end = d.r.p + size;
        wb_reader outer = d.r;
        d.r.end = sec_end;
        d.r.in_section = true;
        if (id != SEC_CUSTOM) {
            int rank = section_rank(id);
            if (rank <= last_rank) {
                failmsg(&d, "unexpected content after last section");
                goto out;
            }
            last_rank = rank;
        }
        bool ok = true;
        switch (id) {
        case SEC_CUSTOM: {
            char *name = NULL;
            uint32_t nlen;
            ok = read_name(&d, &name, &nlen);
            if (ok && nlen == 4 && memcmp(name, "name", 4) == 0 && !name_sec) {
                name_sec = d.r.p;
                name_end = sec_end;
            }
            free(name);
            d.r.p = sec_end;
            break;
        }
        case SEC_TYPE: ok = decode_types(&d); break;
        case SEC_IMPORT: ok = decode_imports(&d); break;
        case SEC_FUNCTION: ok = decode_functions(&d); break;
        case SEC_TABLE: ok = decode_tables(&d, &tdefs, &ntdefs); break;
        case SEC_MEMORY: ok = decode_memories(&d, &mdefs, &nmdefs); break;
        case SEC_GLOBAL: ok = decode_globals(&d); break;
        case SEC_EXPORT: ok = decode_exports(&d); break;
        case SEC_START:
            ok = wb__rd_u32(&d.r, &m->start);
            m->has_start = true;
            break;
        case SEC_ELEMENT: ok = decode_elements(&d); break;
        case SEC_DATA_COUNT: ok = decode_data_count(&d); break;
        case SEC_CODE: ok = decode_code(&d); break;
        case SEC_DATA: ok = decode_data(&d); break;
        }
        if (!ok) goto out;
        if (d.r.p != sec_end) {
            failmsg(&d, "section size mismatch");
            goto out;
        }
        d.r = outer;
        d.r.p = sec_end;
    }
    if (d.nfunc_decls > 0 && !d.seen_code) {
        failmsg(&d, "function and code section have inconsistent lengths");
        goto out;
    }
    if (m->has_data_count && m->data_count != m->ndatas) {
        failmsg(&d, "data count and data section have inconsistent lengths");
        goto out;
    }
    build_index_spaces(&d, tdefs, ntdefs, mdefs, nmdefs);
    collect_declared_refs(m);
    if (name_sec) decode_name_section(m, name_sec, name_end);
    rc = 0;
out:
    if (rc < 0) fail(&d);
    free(tdefs);
    free(mdefs);
    return rc;
}

const char *wb_valtype_name(uint8_t t) {
    switch (t) {
    case WB_I32: return "i32";
    case WB_I64: return "i64";
    case WB_F32: return "f32";
    case WB_F64: return "f64";
    case WB_V128: return "v128";
    case WB_FUNCREF: return "funcref";
    case WB_EXTERNREF: return "externref";
    default: return "?";
    }
}
