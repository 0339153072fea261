/* json_values.c — wast2json values to wb_values, expected results and their comparison.
 * Numbers arrive as decimal strings of the unsigned bit pattern (floats too), so conversion never
 * goes through a C float and NaN payloads survive. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spectest.h"

const char *spec_json_string(const json_t *obj, const char *key, size_t *len) {
    const json_t *j = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (!json_is_string(j)) return NULL;
    if (len) *len = json_string_length(j);
    return json_string_value(j);
}

static const struct {
    const char *name;
    uint8_t type;
} value_types[] = {
    {"i32", WB_I32},
    {"i64", WB_I64},
    {"f32", WB_F32},
    {"f64", WB_F64},
    {"v128", WB_V128},
    {"funcref", WB_FUNCREF},
    {"externref", WB_EXTERNREF},
};

static const struct {
    const char *name;
    spec_lanes lanes;
} lane_types[] = {
    {"i8", {8, false}},   {"i16", {16, false}}, {"i32", {32, false}},
    {"i64", {64, false}}, {"f32", {32, true}},  {"f64", {64, true}},
};

static int type_parse(const json_t *j, uint8_t *type, wb_error *err) {
    const char *name = spec_json_string(j, "type", NULL);
    if (!name) return wb_error_set(err, 0, "value without a \"type\"");
    for (size_t i = 0; i < sizeof value_types / sizeof value_types[0]; i++) {
        if (strcmp(name, value_types[i].name) == 0) {
            *type = value_types[i].type;
            return 0;
        }
    }
    return wb_error_set(err, 0, "unknown value type \"%s\"", name);
}

/* A decimal of at most `bits` bits. wast2json writes the unsigned pattern; a leading '-' is taken
 * as two's complement so hand-written scripts work too. */
static int bits_parse(const char *text, unsigned bits, uint64_t *out, wb_error *err) {
    uint64_t mask = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    const char *digits = text[0] == '-' ? text + 1 : text;
    if (digits[0] < '0' || digits[0] > '9') return wb_error_set(err, 0, "bad number \"%s\"", text);
    char *end;
    errno = 0;
    uint64_t v = strtoull(digits, &end, 10);
    if (errno || *end != '\0') return wb_error_set(err, 0, "bad number \"%s\"", text);
    if (text[0] == '-') {
        uint64_t limit = (mask >> 1) + 1; /* magnitude of the most negative value */
        if (v > limit) return wb_error_set(err, 0, "number \"%s\" out of range", text);
        v = (0 - v) & mask;
    } else if (v > mask) {
        return wb_error_set(err, 0, "number \"%s\" out of range", text);
    }
    *out = v;
    return 0;
}

static int lanes_parse(const json_t *j, spec_lanes *lanes, size_t *nlanes, wb_error *err) {
    const char *name = spec_json_string(j, "lane_type", NULL);
    const json_t *values = json_object_get(j, "value");
    if (!name) return wb_error_set(err, 0, "v128 without a \"lane_type\"");
    for (size_t i = 0; i < sizeof lane_types / sizeof lane_types[0]; i++) {
        if (strcmp(name, lane_types[i].name) != 0) continue;
        *lanes = lane_types[i].lanes;
        *nlanes = 128u / lanes->bits;
        if (!json_is_array(values) || json_array_size(values) != *nlanes)
            return wb_error_set(err, 0, "v128 %s needs %zu lanes", name, *nlanes);
        return 0;
    }
    return wb_error_set(err, 0, "unknown lane type \"%s\"", name);
}

static void lane_put(wb_value *v, const spec_lanes *lanes, size_t i, uint64_t bits) {
    size_t width = lanes->bits / 8u;
    for (size_t b = 0; b < width; b++) v->of.v128[i * width + b] = (uint8_t)(bits >> (8u * b));
}

static uint64_t lane_get(const wb_value *v, const spec_lanes *lanes, size_t i) {
    size_t width = lanes->bits / 8u;
    uint64_t bits = 0;
    for (size_t b = 0; b < width; b++) bits |= (uint64_t)v->of.v128[i * width + b] << (8u * b);
    return bits;
}

static spec_match nan_pattern(const char *text) {
    if (strcmp(text, "nan:canonical") == 0) return SPEC_MATCH_NAN_CANONICAL;
    if (strcmp(text, "nan:arithmetic") == 0) return SPEC_MATCH_NAN_ARITHMETIC;
    return SPEC_MATCH_BITS;
}

/* Parses j into out; with `match` non-NULL, float values (and float lanes) may be NaN patterns and
 * a funcref may be non-null. */
static int value_parse(const json_t *j, wb_value *out, spec_lanes *lanes, spec_match *match,
                       wb_error *err) {
    memset(out, 0, sizeof *out);
    if (type_parse(j, &out->type, err) < 0) return -1;
    if (out->type == WB_V128) {
        size_t nlanes = 0;
        if (lanes_parse(j, lanes, &nlanes, err) < 0) return -1;
        const json_t *values = json_object_get(j, "value");
        for (size_t i = 0; i < nlanes; i++) {
            const char *text = json_string_value(json_array_get(values, i));
            uint64_t bits = 0;
            if (!text) return wb_error_set(err, 0, "v128 lane %zu is not a string", i);
            if (match) match[i] = lanes->is_float ? nan_pattern(text) : SPEC_MATCH_BITS;
            if ((!match || match[i] == SPEC_MATCH_BITS) &&
                bits_parse(text, lanes->bits, &bits, err) < 0)
                return wb_error_wrap(err, "v128 lane %zu", i);
            lane_put(out, lanes, i, bits);
        }
        return 0;
    }
    const char *text = spec_json_string(j, "value", NULL);
    if (!text) return wb_error_set(err, 0, "value without a string \"value\"");
    if (match) match[0] = SPEC_MATCH_BITS;
    uint64_t bits = 0;
    switch (out->type) {
    case WB_I32:
    case WB_F32:
        if (match && out->type == WB_F32 && (match[0] = nan_pattern(text)) != SPEC_MATCH_BITS)
            return 0;
        if (bits_parse(text, 32, &bits, err) < 0) return -1;
        if (out->type == WB_I32)
            out->of.i32 = (int32_t)(uint32_t)bits;
        else
            out->of.f32 = (uint32_t)bits;
        return 0;
    case WB_I64:
    case WB_F64:
        if (match && out->type == WB_F64 && (match[0] = nan_pattern(text)) != SPEC_MATCH_BITS)
            return 0;
        if (bits_parse(text, 64, &bits, err) < 0) return -1;
        if (out->type == WB_I64)
            out->of.i64 = (int64_t)bits;
        else
            out->of.f64 = bits;
        return 0;
    case WB_FUNCREF:
        if (strcmp(text, "null") == 0) return 0;
        /* No way to name a particular function; an expectation only says "not null". */
        if (!match)
            return wb_error_set(err, 0, "funcref argument \"%s\" (only null is possible)", text);
        match[0] = SPEC_MATCH_NONNULL;
        return 0;
    case WB_EXTERNREF:
        if (strcmp(text, "null") == 0) return 0;
        if (bits_parse(text, 64, &bits, err) < 0 || bits == UINT64_MAX || bits >= UINTPTR_MAX)
            return wb_error_set(err, 0, "bad externref \"%s\"", text);
        /* Host reference N is the pointer N+1, so that reference 0 differs from null. */
        out->of.ref = (void *)(uintptr_t)(bits + 1);
        return 0;
    default: return wb_error_set(err, 0, "unsupported value type 0x%02x", out->type);
    }
}

int spec_value_parse(const json_t *j, wb_value *out, spec_lanes *lanes, wb_error *err) {
    spec_lanes ignored;
    return value_parse(j, out, lanes ? lanes : &ignored, NULL, err);
}

int spec_expect_parse(const json_t *j, spec_expect *out, wb_error *err) {
    memset(out, 0, sizeof *out);
    return value_parse(j, &out->value, &out->lanes, out->match, err);
}

static bool bits_match(spec_match m, uint64_t got, uint64_t want, unsigned bits) {
    uint64_t magnitude = bits == 32 ? 0x7fffffffu : UINT64_C(0x7fffffffffffffff);
    uint64_t quiet_nan = bits == 32 ? 0x7fc00000u : UINT64_C(0x7ff8000000000000);
    switch (m) {
    case SPEC_MATCH_BITS: return got == want;
    case SPEC_MATCH_NAN_CANONICAL: return (got & magnitude) == quiet_nan;
    case SPEC_MATCH_NAN_ARITHMETIC: return (got & quiet_nan) == quiet_nan;
    case SPEC_MATCH_NONNULL: return got != 0;
    }
    return false;
}

bool spec_expect_matches(const spec_expect *e, const wb_value *got) {
    const wb_value *want = &e->value;
    if (got->type != want->type) return false;
    switch (want->type) {
    case WB_I32: return got->of.i32 == want->of.i32;
    case WB_I64: return got->of.i64 == want->of.i64;
    case WB_F32: return bits_match(e->match[0], got->of.f32, want->of.f32, 32);
    case WB_F64: return bits_match(e->match[0], got->of.f64, want->of.f64, 64);
    case WB_FUNCREF:
    case WB_EXTERNREF:
        return bits_match(e->match[0], (uintptr_t)got->of.ref, (uintptr_t)want->of.ref, 64);
    case WB_V128:
        if (e->lanes.bits == 0) return false;
        for (size_t i = 0; i < 128u / e->lanes.bits; i++) {
            uint64_t g = lane_get(got, &e->lanes, i), w = lane_get(want, &e->lanes, i);
            if (!bits_match(e->match[i], g, w, e->lanes.bits)) return false;
        }
        return true;
    }
    return false;
}

/* ---- formatting ---- */

/* snprintf that appends at *pos and never runs past size (output is cut off, not overrun). */
__attribute__((format(printf, 4, 5))) static void append(char *buf, size_t size, size_t *pos,
                                                         const char *fmt, ...) {
    if (*pos >= size) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *pos, size - *pos, fmt, ap);
    va_end(ap);
    if (n > 0) *pos = *pos + (size_t)n < size ? *pos + (size_t)n : size;
}

const char *spec_type_name(uint8_t type) {
    for (size_t i = 0; i < sizeof value_types / sizeof value_types[0]; i++)
        if (value_types[i].type == type) return value_types[i].name;
    return NULL;
}

static const char *match_name(spec_match m) {
    switch (m) {
    case SPEC_MATCH_NAN_CANONICAL: return "nan:canonical";
    case SPEC_MATCH_NAN_ARITHMETIC: return "nan:arithmetic";
    case SPEC_MATCH_NONNULL: return "non-null";
    case SPEC_MATCH_BITS: break;
    }
    return NULL;
}

static void float_append(char *buf, size_t size, size_t *pos, uint64_t bits, unsigned width) {
    if (width == 32) {
        float f;
        uint32_t b = (uint32_t)bits;
        memcpy(&f, &b, sizeof f);
        append(buf, size, pos, "0x%08" PRIx32 " (%.9g)", b, (double)f);
    } else {
        double d;
        memcpy(&d, &bits, sizeof d);
        append(buf, size, pos, "0x%016" PRIx64 " (%.17g)", bits, d);
    }
}

/* e is NULL when formatting a plain value. */
static void format(const wb_value *v, const spec_expect *e, const spec_lanes *lanes, char *buf,
                   size_t size) {
    static const spec_lanes default_lanes = {32, false};
    size_t pos = 0;
    const char *name = spec_type_name(v->type);
    const char *pattern = e ? match_name(e->match[0]) : NULL;
    buf[0] = '\0';
    if (!name) {
        append(buf, size, &pos, "<type 0x%02x>", v->type);
        return;
    }
    append(buf, size, &pos, "%s:", name);
    if (pattern && v->type != WB_V128) {
        append(buf, size, &pos, "%s", pattern);
        return;
    }
    switch (v->type) {
    case WB_I32:
        append(buf, size, &pos, "%" PRId32 " (0x%08" PRIx32 ")", v->of.i32, (uint32_t)v->of.i32);
        break;
    case WB_I64:
        append(buf, size, &pos, "%" PRId64 " (0x%016" PRIx64 ")", v->of.i64, (uint64_t)v->of.i64);
        break;
    case WB_F32: float_append(buf, size, &pos, v->of.f32, 32); break;
    case WB_F64: float_append(buf, size, &pos, v->of.f64, 64); break;
    case WB_FUNCREF:
        if (v->of.ref)
            append(buf, size, &pos, "%p", v->of.ref);
        else
            append(buf, size, &pos, "null");
        break;
    case WB_EXTERNREF:
        if (v->of.ref)
            append(buf, size, &pos, "%" PRIuPTR, (uintptr_t)v->of.ref - 1);
        else
            append(buf, size, &pos, "null");
        break;
    case WB_V128: {
        if (!lanes || lanes->bits < 8 || lanes->bits > 64 || lanes->bits % 8)
            lanes = &default_lanes;
        append(buf, size, &pos, "%c%ux%u[", lanes->is_float ? 'f' : 'i', lanes->bits,
               128u / lanes->bits);
        for (size_t i = 0; i < 128u / lanes->bits; i++) {
            const char *lane_pattern = e ? match_name(e->match[i]) : NULL;
            append(buf, size, &pos, i ? " " : "");
            if (lane_pattern)
                append(buf, size, &pos, "%s", lane_pattern);
            else
                append(buf, size, &pos, "0x%0*" PRIx64, lanes->bits / 4, lane_get(v, lanes, i));
        }
        append(buf, size, &pos, "]");
        break;
    }
    }
}

void spec_value_format(const wb_value *v, const spec_lanes *lanes, char *buf, size_t size) {
    if (size) format(v, NULL, lanes, buf, size);
}

void spec_expect_format(const spec_expect *e, char *buf, size_t size) {
    if (size) format(&e->value, e, &e->lanes, buf, size);
}

void spec_name_format(const char *name, size_t len, char *buf, size_t size) {
    size_t pos = 0;
    if (!size) return;
    buf[0] = '\0';
    append(buf, size, &pos, "\"");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            append(buf, size, &pos, "%c", c);
        else
            append(buf, size, &pos, "\\%02x", c);
    }
    append(buf, size, &pos, "\"");
}
