/* Bounds-checked reading of the Wasm binary format (LEB128, floats, names). A failed read sets
 * r->err to a static message in the spec's wording and returns false; later reads keep failing. */
#ifndef WB_WASM_READER_H
#define WB_WASM_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct wb_reader {
    const uint8_t *p, *end;
    const uint8_t *base;    /* start of the whole binary, for offsets in messages */
    const char *err;        /* static message, NULL while all reads succeeded */
    bool in_section;        /* running out of bytes inside a section or function body is
                             * "unexpected end of section or function"; elsewhere "unexpected end" */
    const uint8_t *fail_at; /* where the first failed read started */
} wb_reader;

static inline bool wb__rd_fail(wb_reader *r, const char *msg) {
    if (!r->err) {
        r->err = msg;
        r->fail_at = r->p;
    }
    r->p = r->end;
    return false;
}

/* Offset of the first failure (or of the current position while all reads succeeded). */
static inline size_t wb__rd_fail_offset(const wb_reader *r) {
    return (size_t)((r->err && r->fail_at ? r->fail_at : r->p) - r->base);
}

static inline bool wb__rd_eof(wb_reader *r) {
    return wb__rd_fail(r,
                       r->in_section ? "unexpected end of section or function" : "unexpected end");
}

static inline size_t wb__rd_offset(const wb_reader *r) {
    return (size_t)(r->p - r->base);
}
static inline size_t wb__rd_left(const wb_reader *r) {
    return (size_t)(r->end - r->p);
}

static inline bool wb__rd_u8(wb_reader *r, uint8_t *out) {
    *out = 0;
    if (r->p >= r->end) return wb__rd_eof(r);
    *out = *r->p++;
    return true;
}

static inline bool wb__rd_bytes(wb_reader *r, size_t n, const uint8_t **out) {
    *out = r->p;
    if (wb__rd_left(r) < n) return wb__rd_eof(r);
    *out = r->p;
    r->p += n;
    return true;
}

/* Unsigned LEB128 of at most `bits` bits. */
static inline bool wb__rd_uleb(wb_reader *r, unsigned bits, uint64_t *out) {
    uint64_t v = 0;
    *out = 0;
    unsigned shift = 0;
    unsigned max_bytes = (bits + 6) / 7;
    for (unsigned i = 0;; i++) {
        if (r->p >= r->end) return wb__rd_eof(r);
        uint8_t b = *r->p++;
        if (i == max_bytes - 1) {
            /* last permitted byte: no continuation, unused bits must be zero */
            if (b & 0x80) return wb__rd_fail(r, "integer representation too long");
            unsigned used = bits - shift;
            if (used < 7 && (b >> used) != 0) return wb__rd_fail(r, "integer too large");
            v |= (uint64_t)b << shift;
            break;
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) break;
    }
    *out = v;
    return true;
}

/* Signed LEB128 of at most `bits` bits. */
static inline bool wb__rd_sleb(wb_reader *r, unsigned bits, int64_t *out) {
    uint64_t v = 0;
    *out = 0;
    unsigned shift = 0;
    unsigned max_bytes = (bits + 6) / 7;
    uint8_t b = 0;
    for (unsigned i = 0;; i++) {
        if (r->p >= r->end) return wb__rd_eof(r);
        b = *r->p++;
        if (i == max_bytes - 1) {
            if (b & 0x80) return wb__rd_fail(r, "integer representation too long");
            /* the unused high bits must all equal the sign bit */
            unsigned used = bits - shift; /* 1..7 */
            if (used < 7) {
                int sign = (b >> (used - 1)) & 1;
                uint8_t high = (uint8_t)((b & 0x7f) >> used);
                uint8_t want = sign ? (uint8_t)(0x7f >> used) : 0;
                if (high != want) return wb__rd_fail(r, "integer too large");
            }
            v |= (uint64_t)(b & 0x7f) << shift;
            shift += 7;
            break;
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) break;
    }
    if (shift < 64 && (b & 0x40)) v |= ~(uint64_t)0 << shift;
    *out = (int64_t)v;
    return true;
}

static inline bool wb__rd_u32(wb_reader *r, uint32_t *out) {
    uint64_t v;
    *out = 0;
    if (!wb__rd_uleb(r, 32, &v)) return false;
    *out = (uint32_t)v;
    return true;
}

static inline bool wb__rd_s32(wb_reader *r, int32_t *out) {
    int64_t v;
    *out = 0;
    if (!wb__rd_sleb(r, 32, &v)) return false;
    *out = (int32_t)v;
    return true;
}

static inline bool wb__rd_s64(wb_reader *r, int64_t *out) {
    return wb__rd_sleb(r, 64, out);
}

/* Block types are a signed 33-bit LEB128 (negative = value type or empty). */
static inline bool wb__rd_s33(wb_reader *r, int64_t *out) {
    return wb__rd_sleb(r, 33, out);
}

static inline bool wb__rd_f32(wb_reader *r, uint32_t *bits) {
    const uint8_t *b;
    *bits = 0;
    if (!wb__rd_bytes(r, 4, &b)) return false;
    memcpy(bits, b, 4);
    return true;
}

static inline bool wb__rd_f64(wb_reader *r, uint64_t *bits) {
    const uint8_t *b;
    *bits = 0;
    if (!wb__rd_bytes(r, 8, &b)) return false;
    memcpy(bits, b, 8);
    return true;
}

/* Memory arguments: alignment exponent and offset. */
static inline bool wb__rd_memarg(wb_reader *r, uint32_t *align, uint32_t *offset) {
    *align = 0;
    *offset = 0;
    return wb__rd_u32(r, align) && wb__rd_u32(r, offset);
}

#endif
