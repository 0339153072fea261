/* TOML 1.0 (https://toml.io/en/v1.0.0) into jansson values: a recursive-descent reader over the
 * whole text. What jansson cannot remember — which tables a [header] defined, which were made by
 * dotted keys, which are inline (closed) and which arrays hold [[tables]] — is kept in a side map
 * from value pointers to flags, which the redefinition rules consult. */
#include "base/toml.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/fsutil.h"

enum {
    T_DEFINED = 1, /* a [header] named this table */
    T_DOTTED = 2,  /* made by a dotted key (a.b = 1) */
    T_CLOSED = 4,  /* an inline table or a static array: nothing may be added later */
    T_AOT = 8,     /* an array made by [[header]] */
};

typedef struct flag_slot {
    const json_t *key;
    unsigned flags;
} flag_slot;

typedef struct toml_parser {
    const char *p, *end;
    int line;
    json_t *root, *cur; /* cur: the table key/value lines go to */
    flag_slot *slots;   /* open addressing, a power of two */
    size_t nslots, used;
    int depth;
    wb_error *err;
} toml_parser;

/* ---- flags of values ---- */

static size_t slot_of(const toml_parser *t, const json_t *v) {
    uintptr_t h = (uintptr_t)v;
    h ^= h >> 17;
    h *= 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 20) & (t->nslots - 1);
}

static unsigned flags_get(const toml_parser *t, const json_t *v) {
    if (!t->nslots) return 0;
    for (size_t i = slot_of(t, v);; i = (i + 1) & (t->nslots - 1)) {
        if (!t->slots[i].key) return 0;
        if (t->slots[i].key == v) return t->slots[i].flags;
    }
}

static void flags_add(toml_parser *t, const json_t *v, unsigned f) {
    if ((t->used + 1) * 2 > t->nslots) {
        flag_slot *old = t->slots;
        size_t n = t->nslots;
        t->nslots = n ? n * 2 : 64;
        t->slots = wb_calloc(t->nslots, sizeof *t->slots);
        t->used = 0;
        for (size_t i = 0; i < n; i++)
            if (old[i].key) flags_add(t, old[i].key, old[i].flags);
        free(old);
    }
    size_t i = slot_of(t, v);
    while (t->slots[i].key && t->slots[i].key != v) i = (i + 1) & (t->nslots - 1);
    if (!t->slots[i].key) t->used++;
    t->slots[i].key = v;
    t->slots[i].flags |= f;
}

/* an inline table or array and everything in it are closed */
static void close_value(toml_parser *t, json_t *v) {
    if (json_is_object(v)) {
        flags_add(t, v, T_CLOSED);
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e) close_value(t, e);
    } else if (json_is_array(v)) {
        flags_add(t, v, T_CLOSED);
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) close_value(t, e);
    }
}

/* ---- errors and characters ---- */

__attribute__((format(printf, 2, 3))) static int fail(toml_parser *t, const char *fmt, ...) {
    char msg[WB_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++) /* characters from the document: keep the message one line */
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
    return wb_error_set(t->err, EINVAL, "line %d: %s", t->line, msg);
}

static int peek(const toml_parser *t) {
    return t->p < t->end ? (unsigned char)*t->p : -1;
}

static bool at(const toml_parser *t, const char *s) {
    size_t n = strlen(s);
    return (size_t)(t->end - t->p) >= n && !memcmp(t->p, s, n);
}

static void skip_ws(toml_parser *t) {
    while (t->p < t->end && (*t->p == ' ' || *t->p == '\t')) t->p++;
}

/* A comment to the end of the line (not the newline); control characters are refused. */
static int skip_comment(toml_parser *t) {
    if (peek(t) != '#') return 0;
    for (t->p++; t->p < t->end && *t->p != '\n'; t->p++) {
        unsigned char c = (unsigned char)*t->p;
        if (c == '\r' && t->p + 1 < t->end && t->p[1] == '\n') continue;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(t, "control character 0x%02x in a comment", c);
    }
    return 0;
}

/* A newline (\n or \r\n); false if there is none here. */
static bool eat_newline(toml_parser *t) {
    if (peek(t) == '\n') {
        t->p++;
        t->line++;
        return true;
    }
    if (at(t, "\r\n")) {
        t->p += 2;
        t->line++;
        return true;
    }
    return false;
}

/* Whitespace, newlines and comments (inside arrays). */
static int skip_ws_nl(toml_parser *t) {
    for (;;) {
        skip_ws(t);
        if (skip_comment(t) < 0) return -1;
        if (!eat_newline(t)) return 0;
    }
}

/* The rest of a line after a value or header: spaces, a comment, then a newline or the end. */
static int end_of_line(toml_parser *t) {
    skip_ws(t);
    if (skip_comment(t) < 0) return -1;
    if (t->p >= t->end || eat_newline(t)) return 0;
    if (peek(t) == '\r') return fail(t, "a carriage return not followed by a newline");
    return fail(t, "expected the end of the line, found `%c`", *t->p);
}

/* ---- strings ---- */

static void buf_utf8(wb_strbuf *b, uint32_t c) {
    char u[4];
    size_t n;
    if (c < 0x80) {
        u[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        u[0] = (char)(0xc0 | c >> 6);
        u[1] = (char)(0x80 | (c & 0x3f));
        n = 2;
    } else if (c < 0x10000) {
        u[0] = (char)(0xe0 | c >> 12);
        u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        u[2] = (char)(0x80 | (c & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | c >> 18);
        u[1] = (char)(0x80 | ((c >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((c >> 6) & 0x3f));
        u[3] = (char)(0x80 | (c & 0x3f));
        n = 4;
    }
    wb_strbuf_putn(b, u, n);
}

static int hex_digit(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* One escape after the backslash of a basic string. */
static int read_escape(toml_parser *t, wb_strbuf *b) {
    int c = peek(t);
    t->p++;
    switch (c) {
    case 'b': wb_strbuf_putn(b, "\b", 1); return 0;
    case 't': wb_strbuf_putn(b, "\t", 1); return 0;
    case 'n': wb_strbuf_putn(b, "\n", 1); return 0;
    case 'f': wb_strbuf_putn(b, "\f", 1); return 0;
    case 'r': wb_strbuf_putn(b, "\r", 1); return 0;
    case '"': wb_strbuf_putn(b, "\"", 1); return 0;
    case '\\': wb_strbuf_putn(b, "\\", 1); return 0;
    case 'u':
    case 'U': {
        int n = c == 'u' ? 4 : 8;
        uint32_t v = 0;
        for (int i = 0; i < n; i++) {
            int d = hex_digit(peek(t));
            if (d < 0) return fail(t, "\\%c needs %d hexadecimal digits", c, n);
            v = v << 4 | (uint32_t)d;
            t->p++;
        }
        if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
            return fail(t, "\\%c%0*X is not a Unicode scalar value", c, n, v);
        buf_utf8(b, v);
        return 0;
    }
    default:
        if (c < 0) return fail(t, "unterminated string");
        return fail(t, "invalid escape \\%c", c);
    }
}

/* A bad character in a string: control characters but tab (and newlines in multi-line ones). */
static bool bad_string_char(unsigned char c) {
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* Reads a string starting at its quote into b (b->s NUL-terminated, b->len its length). Multi-line
 * forms only where values may be (allow_multi). */
static int read_string(toml_parser *t, wb_strbuf *b, bool allow_multi) {
    char q = *t->p;
    bool literal = q == '\'';
    const char *triple = literal ? "'''" : "\"\"\"";
    wb_strbuf_putn(b, "", 0);
    if (allow_multi && at(t, triple)) {
        t->p += 3;
        eat_newline(t); /* a newline right after the delimiter is trimmed */
        for (;;) {
            if (t->p >= t->end) return fail(t, "unterminated multi-line string");
            if (at(t, triple)) {
                /* up to two more quotes belong to the content */
                int extra = 0;
                while (extra < 2 && t->p + 3 + extra < t->end && t->p[3 + extra] == q) extra++;
                wb_strbuf_putn(b, t->p, (size_t)extra);
                t->p += 3 + extra;
                return 0;
            }
            unsigned char c = (unsigned char)*t->p;
            if (c == '\n' || (c == '\r' && t->p + 1 < t->end && t->p[1] == '\n')) {
                if (c == '\r') t->p++;
                wb_strbuf_putn(b, "\n", 1);
                t->p++;
                t->line++;
            } else if (!literal && c == '\\') {
                t->p++;
                /* a line-ending backslash trims the whitespace and newlines after it */
                const char *s = t->p;
                while (s < t->end && (*s == ' ' || *s == '\t')) s++;
                if (s < t->end && (*s == '\n' || (*s == '\r' && s + 1 < t->end && s[1] == '\n'))) {
                    t->p = s;
                    while (t->p < t->end) {
                        if (eat_newline(t)) continue;
                        if (*t->p == ' ' || *t->p == '\t') {
                            t->p++;
                            continue;
                        }
                        break;
                    }
                } else if (read_escape(t, b) < 0) {
                    return -1;
                }
            } else if (bad_string_char(c)) {
                return fail(t, "control character 0x%02x in a string", c);
            } else {
                wb_strbuf_putn(b, (const char *)t->p, 1);
                t->p++;
            }
        }
    }
    t->p++;
    for (;;) {
        if (t->p >= t->end || *t->p == '\n' || *t->p == '\r') return fail(t, "unterminated string");
        unsigned char c = (unsigned char)*t->p;
        if (c == (unsigned char)q) {
            t->p++;
            return 0;
        }
        if (!literal && c == '\\') {
            t->p++;
            if (read_escape(t, b) < 0) return -1;
        } else if (bad_string_char(c)) {
            return fail(t, "control character 0x%02x in a string", c);
        } else {
            wb_strbuf_putn(b, (const char *)t->p, 1);
            t->p++;
        }
    }
}

/* ---- keys ---- */

#define MAX_KEY_PARTS 64

typedef struct key_path {
    char *part[MAX_KEY_PARTS];
    int n;
} key_path;

static void key_path_release(key_path *k) {
    for (int i = 0; i < k->n; i++) free(k->part[i]);
    k->n = 0;
}

static bool bare_key_char(int c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static int read_key_parts(toml_parser *t, key_path *k);

/* A key, dotted or not, up to (not including) what follows it; nothing to release on failure. */
static int read_key(toml_parser *t, key_path *k) {
    if (read_key_parts(t, k) == 0) return 0;
    key_path_release(k);
    return -1;
}

static int read_key_parts(toml_parser *t, key_path *k) {
    k->n = 0;
    for (;;) {
        skip_ws(t);
        if (k->n == MAX_KEY_PARTS) return fail(t, "a key of more than %d parts", MAX_KEY_PARTS);
        int c = peek(t);
        if (c == '"' || c == '\'') {
            wb_strbuf b = {0};
            if (read_string(t, &b, false) < 0) {
                free(b.s);
                return -1;
            }
            if (strlen(b.s) != b.len) {
                free(b.s);
                return fail(t, "a key with a NUL character");
            }
            k->part[k->n++] = b.s;
        } else if (bare_key_char(c)) {
            const char *s = t->p;
            while (bare_key_char(peek(t))) t->p++;
            k->part[k->n++] = wb_strndup(s, (size_t)(t->p - s));
        } else if (c < 0 || c == '\n' || c == '\r') {
            return fail(t, "expected a key");
        } else {
            return fail(t, "expected a key, found `%c`", c);
        }
        skip_ws(t);
        if (peek(t) != '.') return 0;
        t->p++;
    }
}

static void key_name(const key_path *k, int upto, char *out, size_t size) {
    size_t n = 0;
    out[0] = 0;
    for (int i = 0; i <= upto && i < k->n && n + 1 < size; i++)
        n += (size_t)snprintf(out + n, size - n, "%s%s", i ? "." : "", k->part[i]);
}

/* ---- values ---- */

static int read_value(toml_parser *t, json_t **out);

static bool digits(const char *s, int n) {
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

static int num2(const char *s) {
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* HH:MM:SS[.frac] at s (n bytes); its length, or -1 */
static int time_len(const char *s, size_t n) {
    if (n < 8 || !digits(s, 2) || s[2] != ':' || !digits(s + 3, 2) || s[5] != ':' ||
        !digits(s + 6, 2))
        return -1;
    if (num2(s) > 23 || num2(s + 3) > 59 || num2(s + 6) > 60) return -1;
    size_t i = 8;
    if (i < n && s[i] == '.') {
        size_t j = i + 1;
        while (j < n && s[j] >= '0' && s[j] <= '9') j++;
        if (j == i + 1) return -1;
        i = j;
    }
    return (int)i;
}

static bool date_ok(const char *s) {
    if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2))
        return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + num2(s + 2), m = num2(s + 5),
        d = num2(s + 8);
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

/* A date, time or date-time token of n bytes: valid as TOML 1.0 spells them. */
static bool datetime_ok(const char *s, size_t n) {
    if (n >= 3 && s[2] == ':') return time_len(s, n) == (int)n; /* local time */
    if (n < 10 || !date_ok(s)) return false;
    if (n == 10) return true; /* local date */
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return false;
    int tl = time_len(s + 11, n - 11);
    if (tl < 0) return false;
    size_t i = 11 + (size_t)tl;
    if (i == n) return true; /* local date-time */
    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n) return true;
    if ((s[i] == '+' || s[i] == '-') && n - i == 6 && digits(s + i + 1, 2) && s[i + 3] == ':' &&
        digits(s + i + 4, 2))
        return num2(s + i + 1) <= 23 && num2(s + i + 4) <= 59;
    return false;
}

/* Digits of `base` with single underscores between them, into out (no underscores). */
static bool clean_digits(const char *s, size_t n, int base, char *out, size_t size) {
    size_t k = 0;
    if (!n || n >= size) return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '_') {
            if (i == 0 || i + 1 == n || s[i - 1] == '_' || s[i + 1] == '_') return false;
            continue;
        }
        int d = hex_digit((unsigned char)s[i]);
        if (d < 0 || d >= base) return false;
        out[k++] = s[i];
    }
    out[k] = 0;
    return true;
}

static int read_number(toml_parser *t, const char *s, size_t n, json_t **out) {
    char tok[128];
    if (n >= sizeof tok) return fail(t, "a number too long");
    memcpy(tok, s, n);
    tok[n] = 0;
    /* special floats */
    const char *u = tok + (tok[0] == '+' || tok[0] == '-');
    if (!strcmp(u, "inf") || !strcmp(u, "nan")) {
        *out = json_string(!strcmp(u, "nan") ? "nan" : tok[0] == '-' ? "-inf" : "inf");
        return 0;
    }
    char clean[128];
    int base = 0;
    if (tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'o' || tok[1] == 'b'))
        base = tok[1] == 'x' ? 16 : tok[1] == 'o' ? 8 : 2;
    if (base) {
        if (!clean_digits(tok + 2, n - 2, base, clean, sizeof clean))
            return fail(t, "invalid integer `%s`", tok);
        errno = 0;
        unsigned long long v = strtoull(clean, NULL, base);
        if (errno || v > INT64_MAX) return fail(t, "integer `%s` out of range", tok);
        *out = json_integer((json_int_t)v);
        return 0;
    }
    /* decimal integer or float: [sign] int [. digits] [e [sign] digits] */
    size_t i = tok[0] == '+' || tok[0] == '-' ? 1 : 0, k = 0;
    char f[128];
    if (i) f[k++] = tok[0];
    size_t start = i;
    while (i < n && ((tok[i] >= '0' && tok[i] <= '9') || tok[i] == '_')) i++;
    if (!clean_digits(tok + start, i - start, 10, f + k, sizeof f - k))
        return fail(t, "invalid number `%s`", tok);
    if (tok[start] == '0' && i - start > 1) return fail(t, "leading zero in `%s`", tok);
    k = strlen(f);
    bool is_float = false;
    if (i < n && tok[i] == '.') {
        is_float = true;
        size_t fs = ++i;
        while (i < n && ((tok[i] >= '0' && tok[i] <= '9') || tok[i] == '_')) i++;
        f[k++] = '.';
        if (!clean_digits(tok + fs, i - fs, 10, f + k, sizeof f - k))
            return fail(t, "invalid number `%s`", tok);
        k = strlen(f);
    }
    if (i < n && (tok[i] == 'e' || tok[i] == 'E')) {
        is_float = true;
        f[k++] = 'e';
        i++;
        if (i < n && (tok[i] == '+' || tok[i] == '-')) f[k++] = tok[i++];
        size_t es = i;
        while (i < n && ((tok[i] >= '0' && tok[i] <= '9') || tok[i] == '_')) i++;
        if (!clean_digits(tok + es, i - es, 10, f + k, sizeof f - k))
            return fail(t, "invalid number `%s`", tok);
        k = strlen(f);
    }
    if (i != n) return fail(t, "invalid value `%s`", tok);
    errno = 0;
    if (!is_float) {
        long long v = strtoll(f, NULL, 10);
        if (errno) return fail(t, "integer `%s` out of range", tok);
        *out = json_integer((json_int_t)v);
        return 0;
    }
    double d = strtod(f, NULL);
    if (errno == ERANGE && (d > 1 || d < -1)) return fail(t, "float `%s` out of range", tok);
    *out = json_real(d);
    return *out ? 0 : fail(t, "float `%s` out of range", tok);
}

/* A scalar that is not a string: boolean, number, date or time. */
static int read_scalar(toml_parser *t, json_t **out) {
    const char *s = t->p;
    while (t->p < t->end) {
        char c = *t->p;
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '_' || c == '+' || c == '-' || c == '.' || c == ':';
        /* a date and a time may be separated by one space */
        if (c == ' ' && t->p - s == 10 && t->p + 1 < t->end && t->p[1] >= '0' && t->p[1] <= '9' &&
            date_ok(s))
            ok = true;
        if (!ok) break;
        t->p++;
    }
    size_t n = (size_t)(t->p - s);
    if (!n) {
        if (t->p >= t->end || *t->p == '\n' || *t->p == '\r') return fail(t, "expected a value");
        return fail(t, "expected a value, found `%c`", *t->p);
    }
    if (n == 4 && !memcmp(s, "true", 4)) {
        *out = json_true();
        return 0;
    }
    if (n == 5 && !memcmp(s, "false", 5)) {
        *out = json_false();
        return 0;
    }
    if ((n >= 10 && digits(s, 4) && s[4] == '-') || (n >= 3 && digits(s, 2) && s[2] == ':')) {
        if (!datetime_ok(s, n)) return fail(t, "invalid date or time `%.*s`", (int)n, s);
        *out = json_stringn(s, n);
        return 0;
    }
    return read_number(t, s, n, out);
}

static int read_array(toml_parser *t, json_t **out) {
    t->p++; /* [ */
    json_t *a = json_array();
    for (;;) {
        if (skip_ws_nl(t) < 0) goto fail;
        if (peek(t) == ']') break;
        json_t *v;
        if (read_value(t, &v) < 0) goto fail;
        json_array_append_new(a, v);
        if (skip_ws_nl(t) < 0) goto fail;
        if (peek(t) == ',') {
            t->p++;
            continue;
        }
        if (peek(t) == ']') break;
        fail(t, "expected `,` or `]` in an array");
        goto fail;
    }
    t->p++;
    *out = a;
    return 0;
fail:
    json_decref(a);
    return -1;
}

static int set_key(toml_parser *t, json_t *table, key_path *k, json_t *v);

static int read_inline_table(toml_parser *t, json_t **out) {
    t->p++; /* { */
    json_t *o = json_object();
    skip_ws(t);
    if (peek(t) == '}') {
        t->p++;
        *out = o;
        return 0;
    }
    for (;;) {
        key_path k;
        json_t *v;
        if (read_key(t, &k) < 0) goto fail;
        if (peek(t) != '=') {
            key_path_release(&k);
            fail(t, "expected `=` after a key");
            goto fail;
        }
        t->p++;
        skip_ws(t);
        if (read_value(t, &v) < 0) {
            key_path_release(&k);
            goto fail;
        }
        int rc = set_key(t, o, &k, v);
        key_path_release(&k);
        if (rc < 0) goto fail;
        skip_ws(t);
        if (peek(t) == ',') {
            t->p++;
            skip_ws(t);
            continue;
        }
        if (peek(t) == '}') break;
        fail(t, "expected `,` or `}` in an inline table (which is on one line)");
        goto fail;
    }
    t->p++;
    *out = o;
    return 0;
fail:
    json_decref(o);
    return -1;
}

static int read_value(toml_parser *t, json_t **out) {
    int c = peek(t);
    if (c == '"' || c == '\'') {
        wb_strbuf b = {0};
        if (read_string(t, &b, true) < 0) {
            free(b.s);
            return -1;
        }
        *out = json_stringn(b.s, b.len);
        free(b.s);
        return 0;
    }
    if (c != '[' && c != '{') return read_scalar(t, out);
    if (++t->depth > WB_TOML_MAX_DEPTH) return fail(t, "nesting deeper than %d", WB_TOML_MAX_DEPTH);
    int rc = c == '[' ? read_array(t, out) : read_inline_table(t, out);
    t->depth--;
    if (rc == 0) close_value(t, *out);
    return rc;
}

/* ---- tables ---- */

/* key = value in `table`: dotted keys make (or go through) tables of their own making. */
static int set_key(toml_parser *t, json_t *table, key_path *k, json_t *v) {
    char name[512];
    for (int i = 0; i + 1 < k->n; i++) {
        json_t *next = json_object_get(table, k->part[i]);
        if (!next) {
            next = json_object();
            json_object_set_new(table, k->part[i], next);
            flags_add(t, next, T_DOTTED);
        } else {
            unsigned f = flags_get(t, next);
            if (!json_is_object(next) || !(f & T_DOTTED) || (f & T_CLOSED)) {
                key_name(k, i, name, sizeof name);
                json_decref(v);
                return fail(t, "`%s` is already defined and cannot be extended here", name);
            }
        }
        table = next;
    }
    if (json_object_get(table, k->part[k->n - 1])) {
        key_name(k, k->n - 1, name, sizeof name);
        json_decref(v);
        return fail(t, "duplicate key `%s`", name);
    }
    json_object_set_new(table, k->part[k->n - 1], v);
    return 0;
}

/* [a.b.c] or [[a.b.c]]: the table key/value lines go to next. */
static int read_header(toml_parser *t) {
    bool aot = at(t, "[[");
    t->p += aot ? 2 : 1;
    key_path k;
    char name[512];
    if (read_key(t, &k) < 0) return -1;
    int rc = -1;
    if (aot ? !at(t, "]]") : peek(t) != ']') {
        fail(t, "expected `%s` to end a table header", aot ? "]]" : "]");
        goto out;
    }
    t->p += aot ? 2 : 1;
    json_t *table = t->root;
    for (int i = 0; i + 1 < k.n; i++) {
        json_t *next = json_object_get(table, k.part[i]);
        if (!next) {
            next = json_object();
            json_object_set_new(table, k.part[i], next);
        } else if (json_is_array(next) && (flags_get(t, next) & T_AOT)) {
            next = json_array_get(next, json_array_size(next) - 1);
        } else if (!json_is_object(next) || (flags_get(t, next) & T_CLOSED)) {
            key_name(&k, i, name, sizeof name);
            fail(t, "`%s` is not a table that can be extended", name);
            goto out;
        }
        table = next;
    }
    const char *last = k.part[k.n - 1];
    json_t *cur = json_object_get(table, last);
    key_name(&k, k.n - 1, name, sizeof name);
    if (aot) {
        if (!cur) {
            cur = json_array();
            json_object_set_new(table, last, cur);
            flags_add(t, cur, T_AOT);
        } else if (!json_is_array(cur) || !(flags_get(t, cur) & T_AOT)) {
            fail(t, "`%s` is already defined and is not an array of tables", name);
            goto out;
        }
        json_t *n = json_object();
        json_array_append_new(cur, n);
        t->cur = n;
    } else {
        if (!cur) {
            cur = json_object();
            json_object_set_new(table, last, cur);
        } else if (!json_is_object(cur) ||
                   (flags_get(t, cur) & (T_DEFINED | T_DOTTED | T_CLOSED))) {
            fail(t, "table `%s` is defined twice", name);
            goto out;
        }
        flags_add(t, cur, T_DEFINED);
        t->cur = cur;
    }
    rc = end_of_line(t);
out:
    key_path_release(&k);
    return rc;
}

static int read_line(toml_parser *t) {
    skip_ws(t);
    if (skip_comment(t) < 0) return -1;
    if (t->p >= t->end || eat_newline(t)) return 0;
    if (peek(t) == '[') return read_header(t);
    key_path k;
    if (read_key(t, &k) < 0) return -1;
    if (peek(t) != '=') {
        key_path_release(&k);
        return fail(t, "expected `=` after a key");
    }
    t->p++;
    skip_ws(t);
    json_t *v;
    if (read_value(t, &v) < 0) {
        key_path_release(&k);
        return -1;
    }
    int rc = set_key(t, t->cur, &k, v);
    key_path_release(&k);
    return rc < 0 ? -1 : end_of_line(t);
}

/* Valid UTF-8 without NUL (TOML documents are UTF-8); the line of the first bad byte. */
static int check_utf8(toml_parser *t) {
    const unsigned char *s = (const unsigned char *)t->p, *e = (const unsigned char *)t->end;
    int line = 1;
    while (s < e) {
        unsigned c = *s;
        size_t n = c < 0x80             ? 1
                   : (c & 0xe0) == 0xc0 ? 2
                   : (c & 0xf0) == 0xe0 ? 3
                   : (c & 0xf8) == 0xf0 ? 4
                                        : 0;
        if (c == '\n') line++;
        bool ok = n && c != 0 && (size_t)(e - s) >= n;
        uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
        for (size_t i = 1; ok && i < n; i++) {
            ok = (s[i] & 0xc0) == 0x80;
            cp = cp << 6 | (s[i] & 0x3f);
        }
        if (ok && n > 1) {
            static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
            ok = cp >= min[n] && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
        }
        if (!ok) {
            t->line = line;
            return fail(t, c == 0 ? "a NUL byte" : "invalid UTF-8");
        }
        s += n;
    }
    return 0;
}

json_t *wb_toml_parse(const char *text, size_t len, wb_error *err) {
    toml_parser t = {.p = text, .end = text + len, .line = 1, .err = err};
    if (len > WB_TOML_MAX_BYTES) {
        wb_error_set(err, EFBIG, "a TOML document of more than %u bytes", WB_TOML_MAX_BYTES);
        return NULL;
    }
    if (check_utf8(&t) < 0) return NULL;
    if (at(&t, "\xef\xbb\xbf")) t.p += 3; /* a byte order mark */
    t.root = t.cur = json_object();
    while (t.p < t.end)
        if (read_line(&t) < 0) {
            json_decref(t.root);
            t.root = NULL;
            break;
        }
    free(t.slots);
    return t.root;
}

json_t *wb_toml_load(const char *path, wb_error *err) {
    uint8_t *data;
    size_t len;
    if (wb_read_file(path, WB_TOML_MAX_BYTES, &data, &len, err) < 0) return NULL;
    json_t *doc = wb_toml_parse((const char *)data, len, err);
    free(data);
    if (!doc) wb_error_wrap(err, "`%s`", path);
    return doc;
}
