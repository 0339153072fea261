/* json: the Order parser and the JSON writer (see json.h). */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f32.h"

/* ---- parsing ---- */

typedef struct parser {
    const char *start, *p, *end;
    ms_error *err;
} parser;

/* Fails with the position of p as serde_json gives it (line and column, from 1). */
static int parse_fail(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int parse_fail(parser *ps, const char *fmt, ...) {
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    int line = 1, column = 1;
    for (const char *q = ps->start; q < ps->p && q < ps->end; q++) {
        if (*q == '\n') {
            line++;
            column = 1;
        } else {
            column++;
        }
    }
    return ms_fail(ps->err, "%s at line %d column %d", what, line, column);
}

static void skip_space(parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

/* What the next byte is, for messages. */
static const char *found(parser *ps) {
    static const char *const names[] = {
        "the end of the input", "a string", "a number", "an object", "an array", "a literal",
        "an unexpected byte"};
    if (ps->p >= ps->end) return names[0];
    char c = *ps->p;
    if (c == '"') return names[1];
    if (c == '-' || (c >= '0' && c <= '9')) return names[2];
    if (c == '{') return names[3];
    if (c == '[') return names[4];
    if (c == 't' || c == 'f' || c == 'n') return names[5];
    return names[6];
}

static int hex4(const char *p, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static void put_utf8(buf *b, unsigned cp) {
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | cp >> 12);
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | cp >> 18);
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    buf_add(b, u, n);
}

/* The length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_length(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    size_t n;
    unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n) return 0;
    unsigned cp = c & (0xff >> (n + 1));
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

/* A string at p (which is at its opening quote), unescaped into out. */
static int parse_string(parser *ps, buf *out) {
    buf_reset(out);
    ps->p++;
    for (;;) {
        if (ps->p >= ps->end) return parse_fail(ps, "EOF while parsing a string");
        unsigned char c = (unsigned char)*ps->p;
        if (c == '"') {
            ps->p++;
            break;
        }
        if (c < 0x20) return parse_fail(ps, "control character in a string");
        if (c != '\\') {
            size_t n = utf8_length((const unsigned char *)ps->p, (const unsigned char *)ps->end);
            if (n == 0) return parse_fail(ps, "invalid UTF-8 in a string");
            buf_add(out, ps->p, n);
            ps->p += n;
            continue;
        }
        if (ps->end - ps->p < 2) return parse_fail(ps, "EOF while parsing a string");
        char e = ps->p[1];
        ps->p += 2;
        switch (e) {
        case '"': buf_addc(out, '"'); break;
        case '\\': buf_addc(out, '\\'); break;
        case '/': buf_addc(out, '/'); break;
        case 'b': buf_addc(out, '\b'); break;
        case 'f': buf_addc(out, '\f'); break;
        case 'n': buf_addc(out, '\n'); break;
        case 'r': buf_addc(out, '\r'); break;
        case 't': buf_addc(out, '\t'); break;
        case 'u': {
            unsigned cp, low;
            if (ps->end - ps->p < 4 || hex4(ps->p, &cp) < 0)
                return parse_fail(ps, "invalid \\u escape");
            ps->p += 4;
            if (cp >= 0xdc00 && cp <= 0xdfff) return parse_fail(ps, "lone trailing surrogate");
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' ||
                    hex4(ps->p + 2, &low) < 0 || low < 0xdc00 || low > 0xdfff)
                    return parse_fail(ps, "lone leading surrogate");
                ps->p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            }
            put_utf8(out, cp);
            break;
        }
        default: ps->p--; return parse_fail(ps, "invalid escape");
        }
    }
    return out->oom ? parse_fail(ps, "out of memory") : 0;
}

/* A number token (RFC 8259 grammar) at p: its span, and whether it has a fraction or an
 * exponent. */
static int scan_number(parser *ps, const char **begin, size_t *len, int *is_float) {
    const char *p = ps->p, *end = ps->end;
    *begin = p;
    *is_float = 0;
    if (p < end && *p == '-') p++;
    if (p >= end || *p < '0' || *p > '9') {
        ps->p = p;
        return parse_fail(ps, "invalid number");
    }
    if (*p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9') {
            ps->p = p;
            return parse_fail(ps, "invalid number (a leading zero)");
        }
    } else {
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    if (p < end && *p == '.') {
        *is_float = 1;
        p++;
        if (p >= end || *p < '0' || *p > '9') {
            ps->p = p;
            return parse_fail(ps, "invalid number");
        }
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        *is_float = 1;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || *p < '0' || *p > '9') {
            ps->p = p;
            return parse_fail(ps, "invalid number");
        }
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    *len = (size_t)(p - *begin);
    ps->p = p;
    return 0;
}

/* An integer token's value if it fits 64 bits: 0, or -1 when it does not fit. */
static int integer_value(const char *s, size_t len, int *negative, uint64_t *magnitude) {
    size_t i = 0;
    uint64_t v = 0;
    *negative = s[0] == '-';
    if (*negative) i = 1;
    for (; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *magnitude = v;
    return 0;
}

static int parse_i32(parser *ps, const char *field, int32_t *out) {
    if (ps->p >= ps->end || (*ps->p != '-' && (*ps->p < '0' || *ps->p > '9')))
        return parse_fail(ps, "invalid type for `%s`: %s, expected i32", field, found(ps));
    const char *begin;
    size_t len;
    int is_float, negative;
    uint64_t m;
    if (scan_number(ps, &begin, &len, &is_float) < 0) return -1;
    if (is_float)
        return parse_fail(ps, "invalid type for `%s`: floating point `%.*s`, expected i32", field,
                          (int)(len > 40 ? 40 : len), begin);
    if (integer_value(begin, len, &negative, &m) < 0 ||
        (negative ? m > (uint64_t)INT32_MAX + 1 : m > (uint64_t)INT32_MAX))
        return parse_fail(ps, "invalid value for `%s`: integer `%.*s`, expected i32", field,
                          (int)(len > 40 ? 40 : len), begin);
    *out = negative ? (int32_t)(-(int64_t)m) : (int32_t)m;
    return 0;
}

/* serde_json's way to an f32: integers through u64/i64, other numbers through f64, then a cast
 * (C's conversions round to nearest like Rust's `as`). */
static int parse_f32(parser *ps, const char *field, float *out) {
    if (ps->p >= ps->end || (*ps->p != '-' && (*ps->p < '0' || *ps->p > '9')))
        return parse_fail(ps, "invalid type for `%s`: %s, expected f32", field, found(ps));
    const char *begin;
    size_t len;
    int is_float, negative;
    uint64_t m;
    if (scan_number(ps, &begin, &len, &is_float) < 0) return -1;
    float f;
    if (!is_float && integer_value(begin, len, &negative, &m) == 0 &&
        (!negative || m <= (uint64_t)INT64_MAX + 1)) {
        f = negative ? -(float)m : (float)m;
    } else {
        int r = f32_parse(begin, len, &f);
        if (r == -2) return parse_fail(ps, "number out of range for `%s` (an f32)", field);
        if (r < 0) return parse_fail(ps, "invalid number");
    }
    if (!isfinite(f)) return parse_fail(ps, "number out of range for `%s` (an f32)", field);
    *out = f;
    return 0;
}

static int expect_literal(parser *ps, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return parse_fail(ps, "expected value");
    ps->p += n;
    return 0;
}

/* Any value, checked and dropped (an unknown field's). */
static int skip_value(parser *ps, buf *scratch, int depth) {
    if (depth > JSON_MAX_DEPTH) return parse_fail(ps, "recursion limit exceeded");
    skip_space(ps);
    if (ps->p >= ps->end) return parse_fail(ps, "EOF while parsing a value");
    const char *begin;
    size_t len;
    int is_float;
    switch (*ps->p) {
    case '"': return parse_string(ps, scratch);
    case 't': return expect_literal(ps, "true");
    case 'f': return expect_literal(ps, "false");
    case 'n': return expect_literal(ps, "null");
    case '[':
    case '{': {
        char close = *ps->p == '[' ? ']' : '}';
        ps->p++;
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return 0;
        }
        for (;;) {
            if (close == '}') {
                skip_space(ps);
                if (ps->p >= ps->end || *ps->p != '"')
                    return parse_fail(ps, "key must be a string");
                if (parse_string(ps, scratch) < 0) return -1;
                skip_space(ps);
                if (ps->p >= ps->end || *ps->p != ':') return parse_fail(ps, "expected `:`");
                ps->p++;
            }
            if (skip_value(ps, scratch, depth + 1) < 0) return -1;
            skip_space(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                continue;
            }
            if (ps->p < ps->end && *ps->p == close) {
                ps->p++;
                return 0;
            }
            return parse_fail(ps, close == ']' ? "expected `,` or `]`" : "expected `,` or `}`");
        }
    }
    default: return scan_number(ps, &begin, &len, &is_float);
    }
}

enum { F_ORDER_ID, F_PRODUCT_ID, F_QUANTITY, F_AMOUNT, F_SHIPPING, F_TAX, F_ADDRESS, F_COUNT };
static const char *const field_names[F_COUNT] = {
    "order_id", "product_id", "quantity", "amount", "shipping", "tax", "shipping_address"};

/* An Order object at p (which is at `{`). */
static int parse_order_object(parser *ps, order *o, buf *scratch, int depth) {
    int seen[F_COUNT] = {0};
    memset(o, 0, sizeof *o);
    ps->p++;
    skip_space(ps);
    int empty = ps->p < ps->end && *ps->p == '}';
    if (empty) ps->p++;
    while (!empty) {
        skip_space(ps);
        if (ps->p >= ps->end || *ps->p != '"') {
            parse_fail(ps, "key must be a string");
            goto fail;
        }
        if (parse_string(ps, scratch) < 0) goto fail;
        int f = 0;
        while (f < F_COUNT && !(strlen(field_names[f]) == scratch->len &&
                                memcmp(field_names[f], scratch->data, scratch->len) == 0))
            f++;
        skip_space(ps);
        if (ps->p >= ps->end || *ps->p != ':') {
            parse_fail(ps, "expected `:`");
            goto fail;
        }
        ps->p++;
        skip_space(ps);
        if (f < F_COUNT && seen[f]) {
            parse_fail(ps, "duplicate field `%s`", field_names[f]);
            goto fail;
        }
        int r = 0;
        switch (f) {
        case F_ORDER_ID: r = parse_i32(ps, field_names[f], &o->order_id); break;
        case F_PRODUCT_ID: r = parse_i32(ps, field_names[f], &o->product_id); break;
        case F_QUANTITY: r = parse_i32(ps, field_names[f], &o->quantity); break;
        case F_AMOUNT: r = parse_f32(ps, field_names[f], &o->amount); break;
        case F_SHIPPING: r = parse_f32(ps, field_names[f], &o->shipping); break;
        case F_TAX: r = parse_f32(ps, field_names[f], &o->tax); break;
        case F_ADDRESS:
            if (ps->p >= ps->end || *ps->p != '"') {
                parse_fail(ps, "invalid type for `shipping_address`: %s, expected a string",
                           found(ps));
                goto fail;
            }
            r = parse_string(ps, scratch);
            if (r == 0) {
                o->shipping_address = malloc(scratch->len + 1);
                if (!o->shipping_address) {
                    parse_fail(ps, "out of memory");
                    goto fail;
                }
                memcpy(o->shipping_address, scratch->data, scratch->len + 1);
                o->address_len = scratch->len;
            }
            break;
        default: r = skip_value(ps, scratch, depth + 1); break;
        }
        if (r < 0) goto fail;
        if (f < F_COUNT) seen[f] = 1;
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            break;
        }
        parse_fail(ps, "expected `,` or `}`");
        goto fail;
    }
    for (int f = 0; f < F_COUNT; f++) {
        if (!seen[f]) {
            parse_fail(ps, "missing field `%s`", field_names[f]);
            goto fail;
        }
    }
    return 0;
fail:
    order_release(o);
    return -1;
}

static int parse_end(parser *ps) {
    skip_space(ps);
    return ps->p < ps->end ? parse_fail(ps, "trailing characters") : 0;
}

int json_parse_order(const char *s, size_t len, order *out, ms_error *err) {
    parser ps = {s, s, s + len, err};
    buf scratch;
    buf_init(&scratch);
    int r = -1;
    memset(out, 0, sizeof *out);
    skip_space(&ps);
    if (ps.p >= ps.end || *ps.p != '{')
        parse_fail(&ps, "invalid type: %s, expected struct Order", found(&ps));
    else if (parse_order_object(&ps, out, &scratch, 1) == 0 && (r = parse_end(&ps)) < 0)
        order_release(out);
    buf_release(&scratch);
    return r;
}

int json_parse_orders(const char *s, size_t len, order **out, size_t *count, ms_error *err) {
    parser ps = {s, s, s + len, err};
    buf scratch;
    buf_init(&scratch);
    order *list = NULL;
    size_t n = 0, cap = 0;
    *out = NULL;
    *count = 0;
    skip_space(&ps);
    if (ps.p >= ps.end || *ps.p != '[') {
        parse_fail(&ps, "invalid type: %s, expected a sequence", found(&ps));
        goto fail;
    }
    ps.p++;
    skip_space(&ps);
    if (ps.p < ps.end && *ps.p == ']') {
        ps.p++;
    } else {
        for (;;) {
            skip_space(&ps);
            if (ps.p >= ps.end || *ps.p != '{') {
                parse_fail(&ps, "invalid type: %s, expected struct Order", found(&ps));
                goto fail;
            }
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 8;
                order *grown = realloc(list, ncap * sizeof *list);
                if (!grown) {
                    parse_fail(&ps, "out of memory");
                    goto fail;
                }
                list = grown;
                cap = ncap;
            }
            if (parse_order_object(&ps, &list[n], &scratch, 2) < 0) goto fail;
            n++;
            skip_space(&ps);
            if (ps.p < ps.end && *ps.p == ',') {
                ps.p++;
                continue;
            }
            if (ps.p < ps.end && *ps.p == ']') {
                ps.p++;
                break;
            }
            parse_fail(&ps, "expected `,` or `]`");
            goto fail;
        }
    }
    if (parse_end(&ps) < 0) goto fail;
    buf_release(&scratch);
    *out = list;
    *count = n;
    return 0;
fail:
    buf_release(&scratch);
    orders_free(list, n);
    return -1;
}

void order_release(order *o) {
    free(o->shipping_address);
    o->shipping_address = NULL;
    o->address_len = 0;
}

void orders_free(order *list, size_t count) {
    for (size_t i = 0; i < count; i++) order_release(&list[i]);
    free(list);
}

/* ---- writing ---- */

void json_write_f32(buf *b, float f) {
    f32_format(b, f);
}

void json_write_string(buf *b, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    buf_addc(b, '"');
    size_t run = 0; /* bytes copied as they are, written in one go */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c < 0x20) {
                memcpy(u, "\\u00", 4);
                u[4] = hex[c >> 4];
                u[5] = hex[c & 15];
                u[6] = '\0';
                esc = u;
            }
        }
        if (!esc) continue;
        buf_add(b, s + run, i - run);
        buf_adds(b, esc);
        run = i + 1;
    }
    buf_add(b, s + run, len - run);
    buf_addc(b, '"');
}

void json_write_order(buf *b, const order *o) {
    BUF_ADD_LITERAL(b, "{\"order_id\":");
    buf_add_int(b, o->order_id);
    BUF_ADD_LITERAL(b, ",\"product_id\":");
    buf_add_int(b, o->product_id);
    BUF_ADD_LITERAL(b, ",\"quantity\":");
    buf_add_int(b, o->quantity);
    BUF_ADD_LITERAL(b, ",\"amount\":");
    f32_format(b, o->amount);
    BUF_ADD_LITERAL(b, ",\"shipping\":");
    f32_format(b, o->shipping);
    BUF_ADD_LITERAL(b, ",\"tax\":");
    f32_format(b, o->tax);
    BUF_ADD_LITERAL(b, ",\"shipping_address\":");
    json_write_string(b, o->shipping_address ? o->shipping_address : "", o->address_len);
    buf_addc(b, '}');
}
