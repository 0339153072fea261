/* Variable interpolation as compose-go's template package does it (see interp.h for the rules).
 * compose-go matches a regular expression and re-substitutes the text after each ${...} with a
 * fresh call; this is the same grammar read left to right by one scanner, recursing only into the
 * argument of ${NAME<op>ARG}. */
#include "compose/interp.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"

/* Messages show at most this much of the value at fault. */
#define QUOTE_MAX 200

/* ---- UTF-8 and Go's %q, shared with dotenv.c ---- */

int wb__utf8_decode(const char *s, size_t n, size_t *len) {
    const unsigned char *u = (const unsigned char *)s;
    *len = 1;
    if (u[0] < 0x80) return u[0];
    size_t need;
    int cp, min;
    if (u[0] >= 0xc2 && u[0] <= 0xdf) {
        need = 2, cp = u[0] & 0x1f, min = 0x80;
    } else if (u[0] >= 0xe0 && u[0] <= 0xef) {
        need = 3, cp = u[0] & 0x0f, min = 0x800;
    } else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
        need = 4, cp = u[0] & 0x07, min = 0x10000;
    } else {
        return -1;
    }
    if (n < need) return -1;
    for (size_t i = 1; i < need; i++) {
        if ((u[i] & 0xc0) != 0x80) return -1;
        cp = cp << 6 | (u[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
    *len = need;
    return cp;
}

/* Go's strconv.IsPrint for code points >= 0x80, near enough: C1 controls, spaces other than ' '
 * and the common format characters are not printable. */
static bool go_prints(int cp) {
    return !(cp < 0xa0 || cp == 0xad || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200f) ||
             (cp >= 0x2028 && cp <= 0x202f) || (cp >= 0x205f && cp <= 0x2064) || cp == 0x3000 ||
             cp == 0xfeff);
}

char *wb__compose_quote(char *dst, size_t cap, const char *s, size_t n, size_t max) {
    size_t o = 0, i = 0, shown = n;
    if (shown > max) { /* not in the middle of a character */
        shown = max;
        while (shown > 0 && ((unsigned char)s[shown] & 0xc0) == 0x80) shown--;
    }
    dst[o++] = '"';
    /* room for the worst escape (6), "...", the closing quote and the NUL */
    while (i < shown && o + 11 < cap) {
        unsigned char c = (unsigned char)s[i];
        size_t len;
        int cp = wb__utf8_decode(s + i, shown - i, &len);
        static const char esc_from[] = "\a\b\f\n\r\t\v\\\"";
        static const char esc_to[] = "abfnrtv\\\"";
        const char *e = c ? strchr(esc_from, c) : NULL;
        if (e) {
            dst[o++] = '\\';
            dst[o++] = esc_to[e - esc_from];
        } else if (cp < 0 || c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", c);
        } else if (cp >= 0x80 && !go_prints(cp)) {
            o += (size_t)snprintf(dst + o, cap - o, "\\u%04x", (unsigned)cp);
        } else {
            memcpy(dst + o, s + i, len);
            o += len;
        }
        i += len;
    }
    if (i < n) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o++] = '"';
    dst[o] = '\0';
    return dst;
}

/* ---- names reported as unset in one call: an open-addressing set of copies ---- */

typedef struct name_set {
    char **slots;
    size_t cap, n;
} name_set;

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* Insert the n-byte name; true when it was not there before. */
static bool name_set_add(name_set *set, const char *name, size_t n) {
    if ((set->n + 1) * 2 > set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 16;
        char **slots = wb_calloc(cap, sizeof *slots);
        for (size_t i = 0; i < set->cap; i++) {
            if (!set->slots[i]) continue;
            size_t j = hash_bytes(set->slots[i], strlen(set->slots[i])) & (cap - 1);
            while (slots[j]) j = (j + 1) & (cap - 1);
            slots[j] = set->slots[i];
        }
        free(set->slots);
        set->slots = slots;
        set->cap = cap;
    }
    size_t j = hash_bytes(name, n) & (set->cap - 1);
    for (; set->slots[j]; j = (j + 1) & (set->cap - 1))
        if (strncmp(set->slots[j], name, n) == 0 && set->slots[j][n] == '\0') return false;
    set->slots[j] = wb_strndup(name, n);
    set->n++;
    return true;
}

static void name_set_release(name_set *set) {
    for (size_t i = 0; i < set->cap; i++) free(set->slots[i]);
    free(set->slots);
}

/* ---- the scanner ---- */

typedef struct interp_run {
    wb_interp_lookup lookup;
    void *ctx;
    void (*unset)(void *ctx, const char *name);
    const char *in; /* the caller's whole value, for messages */
    char *buf;      /* the result so far (not NUL-terminated until the end) */
    size_t len, cap;
    char *name; /* the name being looked up, NUL-terminated */
    size_t name_cap;
    name_set reported;
    wb_error *err;
} interp_run;

/* Where the current line ends and its last '}' (compose-go's `.*}` cannot cross a line break). */
typedef struct line_info {
    bool known;
    size_t end;        /* index of the '\n' ending the line, or the length */
    size_t last_brace; /* index of its last '}' at or after the position asked for; SIZE_MAX */
} line_info;

static bool is_name_start(char c) {
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_name_char(char c) {
    return is_name_start(c) || (c >= '0' && c <= '9');
}

static int syntax_error(interp_run *r) {
    char q[QUOTE_MAX * 4 + 16];
    wb__compose_quote(q, sizeof q, r->in, strlen(r->in), QUOTE_MAX);
    return wb_error_set(r->err, WB_INTERP_ESYNTAX,
                        "invalid interpolation format for %s. You may need to escape any $ with "
                        "another $.",
                        q);
}

static int append(interp_run *r, const char *s, size_t n) {
    if (n > WB_INTERP_MAX_OUTPUT - r->len) {
        char q[QUOTE_MAX * 4 + 16];
        wb__compose_quote(q, sizeof q, r->in, strlen(r->in), QUOTE_MAX);
        return wb_error_set(r->err, WB_INTERP_ELIMIT, "interpolating %s gives more than %u MiB", q,
                            WB_INTERP_MAX_OUTPUT >> 20);
    }
    WB_VEC_RESERVE(r->buf, r->cap, r->len + n + 1);
    memcpy(r->buf + r->len, s, n);
    r->len += n;
    return 0;
}

static const char *look_up(interp_run *r, const char *name, size_t n) {
    WB_VEC_RESERVE(r->name, r->name_cap, n + 1);
    memcpy(r->name, name, n);
    r->name[n] = '\0';
    return r->lookup ? r->lookup(r->ctx, r->name) : NULL;
}

/* $NAME and ${NAME}: the value, or "" and a report when unset. */
static int substitute_plain(interp_run *r, const char *name, size_t n) {
    const char *v = look_up(r, name, n);
    if (v) return append(r, v, strlen(v));
    if (r->unset && name_set_add(&r->reported, name, n)) r->unset(r->ctx, r->name);
    return 0;
}

static int expand(interp_run *r, const char *s, size_t n, int depth);

/* ${NAME<op>ARG} starting at s[p] ("${"): NAME at s[p+2..q), then an optional ':' and the
 * operator, ARG from s[arg]. Appends the value; *next gets the index after the closing brace. */
static int substitute_op(interp_run *r, const char *s, size_t n, size_t p, size_t q, size_t arg,
                         line_info *line, int depth, size_t *next) {
    if (!line->known || p > line->end) {
        const char *nl = memchr(s + p, '\n', n - p);
        line->end = nl ? (size_t)(nl - s) : n;
        const char *b = memrchr(s + p, '}', line->end - p);
        line->last_brace = b ? (size_t)(b - s) : SIZE_MAX;
        line->known = true;
    }
    size_t last = line->last_brace;
    if (last == SIZE_MAX || last < arg) return syntax_error(r);
    /* compose-go's getFirstBraceClosingIndex over the match s[p..last] */
    size_t close = last;
    long open = 0;
    for (size_t j = p; j <= last; j++) {
        if (s[j] == '}' && --open == 0) {
            close = j;
            break;
        }
        if (s[j] == '{') open++, j++;
    }
    *next = close + 1;

    size_t k = p + 2;
    bool colon = s[q] == ':';
    char op = s[arg - 1];
    const char *v = look_up(r, s + k, q - k);
    bool set = v != NULL, filled = v && *v;
    bool use_arg;
    switch (op) {
    case '-': use_arg = colon ? !filled : !set; break;
    case '+': use_arg = colon ? filled : set; break;
    default: use_arg = colon ? !filled : !set; break; /* '?': the argument is the message */
    }
    if (!use_arg) return op == '+' ? 0 : append(r, v, strlen(v));
    if (op != '?') return expand(r, s + arg, close - arg, depth + 1);
    size_t mark = r->len;
    if (expand(r, s + arg, close - arg, depth + 1) < 0) return -1;
    int mlen = (int)(r->len - mark);
    if (mlen == 0)
        return wb_error_set(r->err, WB_INTERP_EREQUIRED,
                            "required variable %.*s is missing a value", (int)(q - k), s + k);
    return wb_error_set(r->err, WB_INTERP_EREQUIRED,
                        "required variable %.*s is missing a value: %.*s", (int)(q - k), s + k,
                        mlen, r->buf + mark);
}

/* Append the expansion of s[0..n) to r->buf. */
static int expand(interp_run *r, const char *s, size_t n, int depth) {
    if (depth > WB_INTERP_MAX_DEPTH) {
        char q[QUOTE_MAX * 4 + 16];
        wb__compose_quote(q, sizeof q, r->in, strlen(r->in), QUOTE_MAX);
        return wb_error_set(r->err, WB_INTERP_ELIMIT,
                            "invalid interpolation format for %s: nested deeper than %d levels", q,
                            WB_INTERP_MAX_DEPTH);
    }
    line_info line = {0};
    size_t i = 0;
    while (i < n) {
        const char *d = memchr(s + i, '$', n - i);
        size_t p = d ? (size_t)(d - s) : n;
        if (append(r, s + i, p - i) < 0) return -1;
        if (p == n) break;
        size_t k = p + 1;
        if (k < n && s[k] == '$') { /* $$ */
            if (append(r, "$", 1) < 0) return -1;
            i = k + 1;
        } else if (k < n && is_name_start(s[k])) { /* $NAME */
            size_t q = k + 1;
            while (q < n && is_name_char(s[q])) q++;
            if (substitute_plain(r, s + k, q - k) < 0) return -1;
            i = q;
        } else if (k < n && s[k] == '{') { /* ${...} */
            k++;
            if (k >= n || !is_name_start(s[k])) return syntax_error(r);
            size_t q = k + 1;
            while (q < n && is_name_char(s[q])) q++;
            if (q < n && s[q] == '}') {
                if (substitute_plain(r, s + k, q - k) < 0) return -1;
                i = q + 1;
                continue;
            }
            size_t o = q < n && s[q] == ':' ? q + 1 : q;
            if (o >= n || (s[o] != '-' && s[o] != '+' && s[o] != '?')) return syntax_error(r);
            if (substitute_op(r, s, n, p, q, o + 1, &line, depth, &i) < 0) return -1;
        } else { /* a lone $ stays */
            if (append(r, "$", 1) < 0) return -1;
            i = k;
        }
    }
    return 0;
}

int wb_interp(const char *in, wb_interp_lookup lookup, void *ctx,
              void (*unset)(void *ctx, const char *name), char **out, wb_error *err) {
    interp_run r = {.lookup = lookup, .ctx = ctx, .unset = unset, .in = in, .err = err};
    *out = NULL;
    int rc = expand(&r, in, strlen(in), 0);
    if (rc == 0) rc = append(&r, "", 0);
    free(r.name);
    name_set_release(&r.reported);
    if (rc < 0) {
        free(r.buf);
        return -1;
    }
    r.buf[r.len] = '\0'; /* append reserved it */
    *out = r.buf;
    return 0;
}
