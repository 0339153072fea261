/* Normalising one Compose file (compose/normalize.h): a walk over the file's JSON guided by tables
 * of the compose-spec's keys, each row giving the key's kind and whether wasmbox uses it. Every
 * value is copied into a new tree (the input is only read, and nothing of it is shared with the
 * result), short forms are expanded where they are met, and the first error stops the walk. */
#include "compose/normalize.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "compose/interp.h"

/* Messages show at most this much of a value. */
#define QUOTE_MAX 100
/* Port entries one service's `ports` may expand to ("1-65535:1-65535" alone gives 65535). */
#define MAX_PORT_ENTRIES 65536

/* ---- the walk's state, paths and messages ---- */

typedef struct norm {
    const wb_yaml_doc *doc;
    const char *file, *workdir;
    wb_compose_warn_fn warn;
    void *warn_ctx;
    wb_error *err;
    char *path; /* the YAML path of the value at hand, as yaml.h writes paths */
    size_t len, cap;
    size_t nports; /* port entries made so far for the service at hand */
} norm;

typedef struct quoted {
    char s[QUOTE_MAX * 4 + 16];
} quoted;

/* s as Go's %q shows it (cut after QUOTE_MAX bytes) */
static const char *q(quoted *buf, const char *s) {
    return wb__compose_quote(buf->s, sizeof buf->s, s, strlen(s), QUOTE_MAX);
}

static void path_append(norm *n, const char *s, size_t k) {
    WB_VEC_RESERVE(n->path, n->cap, n->len + k + 1);
    memcpy(n->path + n->len, s, k);
    n->len += k;
    n->path[n->len] = '\0';
}

/* Descend into member `key`; returns the mark path_pop goes back to. */
static size_t path_key(norm *n, const char *key) {
    size_t mark = n->len;
    if (n->len) path_append(n, ".", 1);
    path_append(n, key, strlen(key));
    return mark;
}

static size_t path_index(norm *n, size_t i) {
    char buf[32];
    size_t mark = n->len;
    path_append(n, buf, (size_t)snprintf(buf, sizeof buf, "[%zu]", i));
    return mark;
}

static void path_pop(norm *n, size_t mark) {
    n->len = mark;
    n->path[mark] = '\0';
}

/* The source line of path, or of its nearest ancestor that has one (not the root); 0 if none. */
static int line_of(const norm *n, const char *path) {
    if (!n->doc) return 0;
    char *p = wb_strdup(path);
    int line = 0;
    while (*p && (line = wb_yaml_line(n->doc, p)) == 0) {
        char *cut = strrchr(p, p[strlen(p) - 1] == ']' ? '[' : '.');
        *(cut ? cut : p) = '\0';
    }
    free(p);
    return line;
}

/* "FILE:LINE: SHOWN: WHAT" (malloc'd), LINE found from line_path; no "LINE:" when there is none,
 * no "SHOWN: " when it is empty (the root). */
static char *message(const norm *n, const char *line_path, const char *shown, const char *fmt,
                     va_list ap) {
    char *msg = NULL, what[WB_ERROR_MSG_MAX];
    size_t len = 0;
    int line = line_of(n, line_path);
    vsnprintf(what, sizeof what, fmt, ap);
    wb_appendf(&msg, &len, "%s", n->file);
    if (line > 0) wb_appendf(&msg, &len, ":%d", line);
    wb_appendf(&msg, &len, ": %s%s%s", shown, *shown ? ": " : "", what);
    return msg;
}

/* The error at the value at hand, "FILE:LINE: PATH: WHAT"; returns -1. */
__attribute__((format(printf, 2, 3))) static int fail(norm *n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *msg = message(n, n->path, n->path, fmt, ap);
    va_end(ap);
    wb_error_set(n->err, EINVAL, "%s", msg);
    free(msg);
    return -1;
}

/* A warning, "FILE:LINE: SHOWN: WHAT", LINE found from line_path. */
__attribute__((format(printf, 4, 5))) static void warn_at(norm *n, const char *line_path,
                                                          const char *shown, const char *fmt, ...) {
    if (!n->warn) return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = message(n, line_path, shown, fmt, ap);
    va_end(ap);
    n->warn(n->warn_ctx, msg);
    free(msg);
}

/* ---- scalars ---- */

/* ASCII only, whatever the locale */
static char ascii_lower(char c) {
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool ascii_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Go's strconv.FormatFloat(d, 'g', -1, 64), which is what fmt's %v prints: the shortest digits
 * that read back as d, in exponent form when the exponent is below -4 or at least 6. */
static void format_real(double d, char *buf, size_t cap) {
    char e[48];
    int prec = 1;
    for (; prec < 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec - 1, d);
        if (strtod(e, NULL) == d) break;
    }
    snprintf(e, sizeof e, "%.*e", prec - 1, d);
    int exp = atoi(strchr(e, 'e') + 1);
    if (exp < -4 || exp >= 6)
        snprintf(buf, cap, "%s", e);
    else
        snprintf(buf, cap, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, d);
}

/* The text of a string, or of a number as Compose writes it where a string is wanted; false for
 * other values (booleans included). */
static bool scalar_text(const json_t *v, char *buf, size_t cap) {
    if (json_is_string(v))
        snprintf(buf, cap, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        format_real(json_real_value(v), buf, cap);
    else
        return false;
    return true;
}

/* A string, number or boolean as a new JSON string (a copy for a string); NULL for others. */
static json_t *text_of(const json_t *v) {
    char buf[64];
    if (json_is_string(v)) return json_string(json_string_value(v));
    if (json_is_boolean(v)) return json_string(json_is_true(v) ? "true" : "false");
    return scalar_text(v, buf, sizeof buf) ? json_string(buf) : NULL;
}

/* Decimal integer text as Go's strconv.Atoi reads it (a sign, digits, nothing else). */
static bool parse_integer(const char *s, long long *out) {
    const char *digits = s + (*s == '-' || *s == '+');
    if (*digits < '0' || *digits > '9') return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || errno) return false;
    *out = v;
    return true;
}

/* A JSON integer, an integral real or a string of an integer. */
static bool integer_of(const json_t *v, long long *out) {
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d >= -9.2e18 && d <= 9.2e18) || (double)(long long)d != d) return false;
        *out = (long long)d;
        return true;
    }
    return json_is_string(v) && parse_integer(json_string_value(v), out);
}

/* A boolean, or a string compose-go's interpolation casts to one (YAML 1.1's words). */
static bool boolean_of(const json_t *v, bool *out) {
    static const char *const words[] = {"y", "yes", "true", "on", "n", "no", "false", "off"};
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return true;
    }
    for (size_t i = 0; json_is_string(v) && i < 8; i++) {
        if (strcasecmp(json_string_value(v), words[i]) == 0) {
            *out = i < 4;
            return true;
        }
    }
    return false;
}

/* A number, or a string of one in decimal (strtod's syntax, finite, nothing after it). */
static bool number_of(const json_t *v, double *out) {
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return true;
    }
    if (!json_is_string(v)) return false;
    const char *s = json_string_value(v), *first = s + (*s == '-' || *s == '+');
    if (*first != '.' && (*first < '0' || *first > '9')) return false;
    char *end;
    double d = strtod(s, &end);
    if (*end || !(d > -1e308 && d < 1e308)) return false;
    *out = d;
    return true;
}

int wb_compose_parse_bytes(const char *s, long long *out) {
    static const char units[] = "kmgtp";
    uint64_t whole = 0, mult = 1;
    double frac = 0, scale = 1;
    const char *p = s;
    bool digits = false;
    for (; *p >= '0' && *p <= '9'; p++, digits = true) {
        if (whole > (UINT64_MAX - 9) / 10) return -1;
        whole = whole * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++, digits = true) frac += (*p - '0') * (scale /= 10);
    if (!digits) return -1;
    if (*p == ' ') p++;
    const char *unit = *p ? strchr(units, ascii_lower(*p)) : NULL;
    if (unit) { /* k, m, g, t, p, then "b" or "ib" or nothing */
        for (const char *u = units; u <= unit; u++) mult *= 1024;
        p++;
        if (ascii_lower(p[0]) == 'i' && ascii_lower(p[1]) == 'b') p++;
    }
    if (ascii_lower(*p) == 'b') p++;
    if (*p || whole > (uint64_t)INT64_MAX / mult) return -1;
    uint64_t v = whole * mult + (uint64_t)(frac * (double)mult);
    if (v > (uint64_t)INT64_MAX) return -1;
    *out = (long long)v;
    return 0;
}

/* ns in one of Go's duration units s[0..n); 0 for an unknown unit */
static uint64_t duration_unit(const char *s, size_t n) {
    static const struct {
        const char *name;
        uint64_t ns;
    } units[] = {
        /* "\xc2\xb5s" is U+00B5 (micro sign) and "s", "\xce\xbcs" U+03BC (Greek mu) and "s" */
        {"ns", 1},       {"us", 1000},      {"\xc2\xb5s", 1000}, {"\xce\xbcs", 1000},
        {"ms", 1000000}, {"s", 1000000000}, {"m", 60000000000},  {"h", 3600000000000},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].name) == n && memcmp(units[i].name, s, n) == 0) return units[i].ns;
    return 0;
}

/* One "<number><unit>" of a duration at *s: its ns added to *total; false if bad. */
static bool duration_part(const char **s, uint64_t *total) {
    const uint64_t limit = UINT64_C(1) << 63;
    const char *p = *s;
    uint64_t whole = 0, frac = 0;
    double scale = 1;
    bool digits = false;
    for (; *p >= '0' && *p <= '9'; p++, digits = true) {
        if (whole > limit / 10) return false;
        whole = whole * 10 + (uint64_t)(*p - '0');
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, digits = true) {
            if (frac > limit / 10) continue; /* digits beyond precision, as Go drops them */
            frac = frac * 10 + (uint64_t)(*p - '0');
            scale *= 10;
        }
    }
    const char *u = p;
    while (*p && *p != '.' && (*p < '0' || *p > '9')) p++;
    uint64_t unit = duration_unit(u, (size_t)(p - u));
    if (!digits || !unit || whole > limit / unit) return false;
    uint64_t v = whole * unit + (uint64_t)((double)frac * ((double)unit / scale));
    if (v > limit || *total > limit - v) return false;
    *total += v;
    *s = p;
    return true;
}

int wb_compose_parse_duration(const char *s, long long *out_ns) {
    bool neg = *s == '-';
    if (*s == '-' || *s == '+') s++;
    uint64_t total = 0;
    if (strcmp(s, "0") == 0) {
        *out_ns = 0;
        return 0;
    }
    if (!*s) return -1;
    while (*s)
        if (!duration_part(&s, &total)) return -1;
    if (total > (uint64_t)INT64_MAX + (neg ? 1 : 0)) return -1;
    *out_ns = neg ? (long long)(0 - total) : (long long)total;
    return 0;
}

/* ---- word splitting ---- */

typedef struct words {
    char **w; /* NULL-terminated */
    size_t n, cap;
    char *buf; /* the word being read */
    size_t len, buf_cap;
    bool open; /* a word has begun (it may be empty: '') */
} words;

static void words_put(words *ws, char c) {
    WB_VEC_RESERVE(ws->buf, ws->buf_cap, ws->len + 1);
    ws->buf[ws->len++] = c;
    ws->open = true;
}

static void words_end(words *ws) {
    if (!ws->open) return;
    WB_VEC_RESERVE(ws->w, ws->cap, ws->n + 2);
    ws->w[ws->n++] = wb_strndup(ws->len ? ws->buf : "", ws->len);
    ws->w[ws->n] = NULL;
    ws->len = 0;
    ws->open = false;
}

/* Reads what starts at s (not in quotes, or in `quote`); returns the bytes consumed, 0 for a
 * backslash that ends the text. In double quotes a backslash escapes only $ ` " \ and newline,
 * elsewhere any character; an escaped newline is removed (POSIX's line continuation). */
static size_t words_step(words *ws, const char *s, char *quote) {
    if (*quote == '\'' || (*quote == '"' && s[0] != '\\')) {
        if (s[0] == *quote)
            *quote = 0;
        else
            words_put(ws, s[0]);
        return 1;
    }
    if (s[0] == '\\') {
        if (!s[1]) return 0;
        if (*quote == '"' && !strchr("$`\"\\\n", s[1])) {
            words_put(ws, '\\');
            return 1;
        }
        if (s[1] != '\n')
            words_put(ws, s[1]);
        else
            ws->open = ws->open || *quote;
        return 2;
    }
    if (s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r') {
        words_end(ws);
    } else if (s[0] == '\'' || s[0] == '"') {
        *quote = s[0];
        ws->open = true;
    } else {
        words_put(ws, s[0]);
    }
    return 1;
}

char **wb_compose_split_words(const char *s, wb_error *err) {
    words ws = {0};
    char quote = 0;
    size_t i = 0, step = 1;
    while (s[i] && (step = words_step(&ws, s + i, &quote)) > 0) i += step;
    if (quote || step == 0) {
        free(ws.buf);
        wb_compose_words_free(ws.w);
        wb_error_set(err, EINVAL, "invalid command line string");
        return NULL;
    }
    words_end(&ws);
    free(ws.buf);
    return ws.w ? ws.w : wb_calloc(1, sizeof *ws.w);
}

void wb_compose_words_free(char **w) {
    if (!w) return;
    for (char **p = w; *p; p++) free(*p);
    free(w);
}

/* ---- paths on the host ---- */

/* Go's path.Clean (malloc'd): no "//", no "." element, no "x/..", "" becomes ".". */
static char *clean_path(const char *p) {
    size_t n = strlen(p), r = 0, w = 0, dotdot = 0;
    bool rooted = p[0] == '/';
    char *out = wb_malloc(n + 2);
    if (rooted) out[w++] = '/', r = 1, dotdot = 1;
    while (r < n) {
        bool end1 = r + 1 == n || p[r + 1] == '/';
        if (p[r] == '/' || (p[r] == '.' && end1)) {
            r++;
        } else if (p[r] == '.' && p[r + 1] == '.' && (r + 2 == n || p[r + 2] == '/')) {
            r += 2;
            if (w > dotdot) { /* back over the last element */
                w--;
                while (w > dotdot && out[w] != '/') w--;
            } else if (!rooted) { /* a leading ".." stays */
                if (w > 0) out[w++] = '/';
                out[w++] = '.', out[w++] = '.';
                dotdot = w;
            }
        } else {
            if (w != (rooted ? 1 : 0)) out[w++] = '/';
            for (; r < n && p[r] != '/'; r++) out[w++] = p[r];
        }
    }
    if (w == 0) out[w++] = '.';
    out[w] = '\0';
    return out;
}

/* p made absolute and cleaned: "~" and "~/..." against $HOME when `tilde`, other relative paths
 * against the working directory. *out is a new JSON string. */
static int absolute_path(norm *n, const char *p, bool tilde, json_t **out) {
    char *joined = NULL;
    size_t len = 0;
    if (p[0] == '/') {
        wb_appendf(&joined, &len, "%s", p);
    } else if (tilde && p[0] == '~' && (p[1] == '\0' || p[1] == '/')) {
        const char *home = getenv("HOME");
        if (!home || home[0] != '/') return fail(n, "cannot expand \"~\": $HOME is not set");
        wb_appendf(&joined, &len, "%s/%s", home, p + 1);
    } else {
        wb_appendf(&joined, &len, "%s/%s", n->workdir ? n->workdir : ".", p);
    }
    char *clean = clean_path(joined);
    free(joined);
    quoted qa;
    *out = json_string(clean);
    int rc = *out ? 0 : fail(n, "path %s is not valid UTF-8", q(&qa, clean));
    free(clean);
    return rc;
}

/* ---- the tables' machinery ---- */

typedef struct field field;
/* Normalises `in` (the value at n->path) into *out, a new value, or NULL to drop the key. */
typedef int (*norm_fn)(norm *n, const json_t *in, json_t **out);
/* Normalises one list item into entries appended to list. */
typedef int (*item_fn)(norm *n, const json_t *item, json_t *list);

typedef enum kind {
    K_STRING,   /* a string */
    K_BOOL,     /* a boolean, or a string compose-go casts to one (yes, no, on, off, ...) */
    K_INT,      /* an integer, or a string of one */
    K_UINT,     /* the same, not negative */
    K_NUMBER,   /* a number, or a string of one: a number */
    K_BYTES,    /* a byte count: an integer, or a string in Docker's units */
    K_DURATION, /* a Go duration string, kept as written */
    K_STRINGS,  /* a list of strings (numbers become strings); a single string is [s] */
    K_MAP,      /* {K: string} from a mapping or a "K=V" list; "K" alone and null give "" */
    K_ENV,      /* the same, but "K" alone and null give null */
    K_OBJECT,   /* a mapping described by its own table (`sub`) */
    K_OBJECTS,  /* a list of such mappings */
    K_ANY,      /* anything, kept as it is */
    K_SPECIAL,  /* its own function (`fn`) */
} kind;

struct field {
    const char *name;
    kind kind;
    bool unused;      /* wasmbox does not use it: kept, with a warning */
    norm_fn fn;       /* K_SPECIAL */
    const field *sub; /* K_OBJECT, K_OBJECTS; the table ends with a NULL name */
};

/* Table rows (a table ends with KEYS_END). */
// clang-format off
#define KEY(name, kind)          {name, kind, false, NULL, NULL}
#define KEY_UNUSED(name, kind)   {name, kind, true, NULL, NULL}
#define KEY_FN(name, fn)         {name, K_SPECIAL, false, fn, NULL}
#define KEY_FN_UNUSED(name, fn)  {name, K_SPECIAL, true, fn, NULL}
#define KEY_SUB(name, kind, sub) {name, kind, false, NULL, sub}
#define KEYS_END                 {NULL, K_ANY, false, NULL, NULL}
// clang-format on

static int norm_object(norm *n, const json_t *in, const field *keys, json_t **out);

/* Each item of the list `in` through fn, into a new list. */
static int norm_list(norm *n, const json_t *in, item_fn fn, json_t **out) {
    if (!json_is_array(in)) return fail(n, "must be a list");
    json_t *list = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(in, i, item) {
        size_t mark = path_index(n, i);
        int rc = fn(n, item, list);
        path_pop(n, mark);
        if (rc < 0) {
            json_decref(list);
            return -1;
        }
    }
    *out = list;
    return 0;
}

static int norm_string(norm *n, const json_t *in, json_t **out) {
    if (!json_is_string(in)) return fail(n, "must be a string");
    *out = json_string(json_string_value(in));
    return 0;
}

static int norm_bool(norm *n, const json_t *in, json_t **out) {
    bool b;
    if (!boolean_of(in, &b)) return fail(n, "must be a boolean");
    *out = json_boolean(b);
    return 0;
}

static int norm_int(norm *n, const json_t *in, bool non_negative, json_t **out) {
    long long v;
    if (!integer_of(in, &v)) return fail(n, "must be an integer");
    if (non_negative && v < 0) return fail(n, "must be greater than or equal to 0");
    *out = json_integer(v);
    return 0;
}

static int norm_number(norm *n, const json_t *in, json_t **out) {
    double d;
    if (!number_of(in, &d)) return fail(n, "must be a number");
    *out = json_is_integer(in) ? json_integer(json_integer_value(in)) : json_real(d);
    return 0;
}

static int norm_bytes(norm *n, const json_t *in, json_t **out) {
    long long v;
    quoted qa;
    if (json_is_string(in)) {
        if (wb_compose_parse_bytes(json_string_value(in), &v) < 0)
            return fail(n, "invalid size %s", q(&qa, json_string_value(in)));
    } else if (!json_is_number(in) || !integer_of(in, &v)) {
        return fail(n, "must be a string or an integer");
    }
    *out = json_integer(v);
    return 0;
}

static int norm_duration(norm *n, const json_t *in, json_t **out) {
    long long ns;
    quoted qa;
    if (!json_is_string(in)) return fail(n, "must be a string");
    if (wb_compose_parse_duration(json_string_value(in), &ns) < 0)
        return fail(n, "invalid duration %s", q(&qa, json_string_value(in)));
    *out = json_string(json_string_value(in));
    return 0;
}

/* A list item that must be a string (a number becomes its text). */
static int string_item(norm *n, const json_t *item, json_t *list) {
    char text[64];
    if (json_is_string(item))
        json_array_append_new(list, json_string(json_string_value(item)));
    else if (scalar_text(item, text, sizeof text))
        json_array_append_new(list, json_string(text));
    else
        return fail(n, "must be a string");
    return 0;
}

static int norm_strings(norm *n, const json_t *in, json_t **out) {
    if (json_is_string(in)) {
        *out = json_pack("[s]", json_string_value(in));
        return 0;
    }
    if (!json_is_array(in)) return fail(n, "must be a string or a list");
    return norm_list(n, in, string_item, out);
}

/* One "K=V" or "K" item of a list_or_dict list, into map. */
static int map_item(norm *n, const json_t *item, bool nullable, json_t *map) {
    quoted qa;
    if (!json_is_string(item)) return fail(n, "must be a string");
    const char *s = json_string_value(item), *eq = strchr(s, '=');
    size_t klen = eq ? (size_t)(eq - s) : strlen(s);
    if (klen == 0) return fail(n, "invalid entry %s: no name before '='", q(&qa, s));
    json_t *v = eq ? json_string_nocheck(eq + 1) : nullable ? json_null() : json_string("");
    json_object_setn_new_nocheck(map, s, klen, v);
    return 0;
}

/* list_or_dict: a mapping of scalars, or a list of "K=V" strings */
static int norm_map(norm *n, const json_t *in, bool nullable, json_t **out) {
    if (!json_is_object(in) && !json_is_array(in)) return fail(n, "must be a mapping or a list");
    json_t *map = json_object();
    size_t i;
    json_t *item;
    json_array_foreach(in, i, item) {
        size_t mark = path_index(n, i);
        int rc = map_item(n, item, nullable, map);
        path_pop(n, mark);
        if (rc < 0) goto error;
    }
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)in, key, value) {
        json_t *v =
            json_is_null(value) ? (nullable ? json_null() : json_string("")) : text_of(value);
        if (!v) {
            size_t mark = path_key(n, key);
            fail(n, "must be a string, a number, a boolean or null");
            path_pop(n, mark);
            goto error;
        }
        json_object_set_new_nocheck(map, key, v);
    }
    *out = map;
    return 0;
error:
    json_decref(map);
    return -1;
}

/* K_OBJECTS: each item through norm_object with the same table */
static int norm_objects(norm *n, const json_t *in, const field *keys, json_t **out) {
    if (!json_is_array(in)) return fail(n, "must be a list");
    json_t *list = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(in, i, item) {
        size_t mark = path_index(n, i);
        json_t *v;
        int rc = norm_object(n, item, keys, &v);
        path_pop(n, mark);
        if (rc < 0) {
            json_decref(list);
            return -1;
        }
        json_array_append_new(list, v);
    }
    *out = list;
    return 0;
}

static int norm_value(norm *n, const field *f, const json_t *in, json_t **out) {
    switch (f->kind) {
    case K_STRING: return norm_string(n, in, out);
    case K_BOOL: return norm_bool(n, in, out);
    case K_INT: return norm_int(n, in, false, out);
    case K_UINT: return norm_int(n, in, true, out);
    case K_NUMBER: return norm_number(n, in, out);
    case K_BYTES: return norm_bytes(n, in, out);
    case K_DURATION: return norm_duration(n, in, out);
    case K_STRINGS: return norm_strings(n, in, out);
    case K_MAP: return norm_map(n, in, false, out);
    case K_ENV: return norm_map(n, in, true, out);
    case K_OBJECT: return norm_object(n, in, f->sub, out);
    case K_OBJECTS: return norm_objects(n, in, f->sub, out);
    case K_ANY: *out = json_deep_copy(in); return 0;
    case K_SPECIAL: return f->fn(n, in, out);
    }
    return fail(n, "unknown kind of key"); /* not reached: every kind is handled above */
}

static const field *find_field(const field *keys, const char *name) {
    for (; keys->name; keys++)
        if (strcmp(keys->name, name) == 0) return keys;
    return NULL;
}

/* One member of a mapping described by `keys`, added to obj (or dropped). x-* members are kept
 * as they are, and so is a member tagged !reset (merge.c removes it, whatever its value). */
static int norm_member(norm *n, const field *keys, const char *key, const json_t *value,
                       json_t *obj) {
    size_t mark = path_key(n, key);
    bool extension = strncmp(key, "x-", 2) == 0;
    const field *f = extension ? NULL : find_field(keys, key);
    json_t *v = NULL;
    int rc = 0;
    if (!extension && !f) {
        char *parent = wb_strndup(n->path, mark);
        warn_at(n, n->path, parent, "unknown key %s, ignored", key);
        free(parent);
    } else if (extension || (wb_yaml_tags(n->doc, n->path) & WB_YAML_RESET)) {
        v = json_deep_copy(value);
    } else if ((rc = norm_value(n, f, value, &v)) == 0 && f->unused) {
        warn_at(n, n->path, n->path, "not supported by wasmbox, ignored");
    }
    path_pop(n, mark);
    if (rc == 0 && v) json_object_set_new_nocheck(obj, key, v);
    return rc;
}

static int norm_object(norm *n, const json_t *in, const field *keys, json_t **out) {
    if (!json_is_object(in)) return fail(n, "must be a mapping");
    json_t *obj = json_object();
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)in, key, value) {
        if (norm_member(n, keys, key, value, obj) < 0) {
            json_decref(obj);
            return -1;
        }
    }
    *out = obj;
    return 0;
}

/* 0 if the normalised mapping obj has `key`; else the error, with obj released. */
static int require(norm *n, json_t *obj, const char *key) {
    if (json_object_get(obj, key)) return 0;
    json_decref(obj);
    return fail(n, "\"%s\" is required", key);
}

static void set_default(json_t *obj, const char *key, json_t *value) {
    if (json_object_get(obj, key))
        json_decref(value);
    else
        json_object_set_new_nocheck(obj, key, value);
}

/* The string member `key` of obj, or NULL (a member tagged !reset may be anything). */
static const char *string_member(const json_t *obj, const char *key) {
    return json_string_value(json_object_get(obj, key));
}

/* One of `values` (NULL-terminated), or the error "invalid WHAT "x": use one of ...". */
static int norm_enum(norm *n, const json_t *in, const char *what, const char *const *values,
                     json_t **out) {
    if (!json_is_string(in)) return fail(n, "must be a string");
    for (const char *const *v = values; *v; v++) {
        if (strcmp(json_string_value(in), *v) == 0) {
            *out = json_string(*v);
            return 0;
        }
    }
    char *list = NULL;
    size_t len = 0;
    for (const char *const *v = values; *v; v++)
        wb_appendf(&list, &len, "%s\"%s\"", v == values ? "" : v[1] ? ", " : " or ", *v);
    quoted qa;
    fail(n, "invalid %s %s: use one of %s", what, q(&qa, json_string_value(in)), list);
    free(list);
    return -1;
}

/* ---- service keys with rules of their own ---- */

static int norm_restart(norm *n, const json_t *in, json_t **out) {
    if (!json_is_string(in)) return fail(n, "must be a string");
    const char *s = json_string_value(in);
    long long count;
    bool ok = strcmp(s, "no") == 0 || strcmp(s, "always") == 0 ||
              strcmp(s, "unless-stopped") == 0 || strcmp(s, "on-failure") == 0 ||
              (strncmp(s, "on-failure:", 11) == 0 && s[11] >= '0' && s[11] <= '9' &&
               parse_integer(s + 11, &count));
    quoted qa;
    if (!ok)
        return fail(n,
                    "invalid restart policy %s: use one of \"no\", \"always\", \"on-failure[:N]\" "
                    "or \"unless-stopped\"",
                    q(&qa, s));
    *out = json_string(s);
    return 0;
}

static int norm_pull_policy(norm *n, const json_t *in, json_t **out) {
    static const char *const policies[] = {"always", "never", "missing", "build", NULL};
    if (json_is_string(in) && strcmp(json_string_value(in), "if_not_present") == 0) {
        *out = json_string("missing");
        return 0;
    }
    return norm_enum(n, in, "pull policy", policies, out);
}

static int norm_pid(norm *n, const json_t *in, json_t **out) {
    if (json_is_null(in)) {
        *out = json_null();
        return 0;
    }
    return norm_string(n, in, out);
}

static int command_item(norm *n, const json_t *item, json_t *list) {
    if (!json_is_string(item)) return fail(n, "must be a string");
    json_array_append_new(list, json_string(json_string_value(item)));
    return 0;
}

/* command, entrypoint: null, a list of strings, or a string split into words */
static int norm_command(norm *n, const json_t *in, json_t **out) {
    if (json_is_null(in)) {
        *out = json_null();
        return 0;
    }
    if (json_is_array(in)) return norm_list(n, in, command_item, out);
    if (!json_is_string(in)) return fail(n, "must be a string or a list");
    wb_error werr = {0};
    char **w = wb_compose_split_words(json_string_value(in), &werr);
    if (!w) return fail(n, "%s", werr.msg);
    *out = json_array();
    for (char **p = w; *p; p++) json_array_append_new(*out, json_string_nocheck(*p));
    wb_compose_words_free(w);
    return 0;
}

/* build.context: a URL (it has "://" or starts with "git@") as written, else made absolute */
static int build_context(norm *n, const char *s, json_t **out) {
    if (strstr(s, "://") || strncmp(s, "git@", 4) == 0) {
        *out = json_string(s);
        return 0;
    }
    return absolute_path(n, s, false, out);
}

static int norm_build_context(norm *n, const json_t *in, json_t **out) {
    if (!json_is_string(in)) return fail(n, "must be a string");
    return build_context(n, json_string_value(in), out);
}

static int norm_extra_hosts(norm *n, const json_t *in, json_t **out);
static int norm_ulimits(norm *n, const json_t *in, json_t **out);
static int norm_file_mounts(norm *n, const json_t *in, json_t **out);

static const field build_keys[] = {
    KEY_FN("context", norm_build_context),
    KEY("dockerfile", K_STRING),
    KEY("dockerfile_inline", K_STRING),
    KEY_UNUSED("entitlements", K_STRINGS),
    KEY("args", K_ENV),
    KEY_UNUSED("ssh", K_ANY),
    KEY("labels", K_MAP),
    KEY("cache_from", K_STRINGS),
    KEY_UNUSED("cache_to", K_STRINGS),
    KEY("no_cache", K_BOOL),
    KEY_UNUSED("additional_contexts", K_MAP),
    KEY("network", K_STRING),
    KEY_UNUSED("provenance", K_ANY),
    KEY_UNUSED("sbom", K_ANY),
    KEY("pull", K_BOOL),
    KEY("target", K_STRING),
    KEY("shm_size", K_BYTES),
    KEY_FN("extra_hosts", norm_extra_hosts),
    KEY_UNUSED("isolation", K_STRING),
    KEY_UNUSED("privileged", K_BOOL),
    KEY_FN_UNUSED("secrets", norm_file_mounts),
    KEY_UNUSED("tags", K_STRINGS),
    KEY_FN_UNUSED("ulimits", norm_ulimits),
    KEY("platforms", K_STRINGS),
    KEYS_END,
};

static int norm_build(norm *n, const json_t *in, json_t **out) {
    json_t *context;
    if (json_is_string(in)) {
        size_t mark = path_key(n, "context");
        int rc = build_context(n, json_string_value(in), &context);
        path_pop(n, mark);
        if (rc < 0) return -1;
        *out = json_object();
        json_object_set_new_nocheck(*out, "context", context);
        return 0;
    }
    if (!json_is_object(in)) return fail(n, "must be a string or a mapping");
    /* no default context here: an override file's `build: {args: ...}` must not replace the
     * base file's context; model.c defaults it after the merge */
    return norm_object(n, in, build_keys, out);
}

static int norm_env_file_path(norm *n, const json_t *in, json_t **out) {
    if (!json_is_string(in)) return fail(n, "must be a string");
    return absolute_path(n, json_string_value(in), false, out);
}

static const field env_file_keys[] = {
    KEY_FN("path", norm_env_file_path),
    KEY("required", K_BOOL),
    KEY("format", K_STRING),
    KEYS_END,
};

static int env_file_item(norm *n, const json_t *item, json_t *list) {
    json_t *e;
    if (json_is_string(item)) {
        json_t *path;
        if (norm_env_file_path(n, item, &path) < 0) return -1;
        e = json_object();
        json_object_set_new_nocheck(e, "path", path);
        json_object_set_new_nocheck(e, "required", json_true());
    } else if (!json_is_object(item)) {
        return fail(n, "must be a string or a mapping");
    } else if (norm_object(n, item, env_file_keys, &e) < 0 || require(n, e, "path") < 0) {
        return -1;
    }
    set_default(e, "required", json_true());
    json_array_append_new(list, e);
    return 0;
}

static int norm_env_file(norm *n, const json_t *in, json_t **out) {
    if (!json_is_string(in)) return norm_list(n, in, env_file_item, out);
    *out = json_array();
    if (env_file_item(n, in, *out) == 0) return 0;
    json_decref(*out);
    return -1;
}

/* ---- ports and expose ---- */

typedef struct port_range {
    unsigned lo, hi;
} port_range;

/* "N" or "N-M" in s[0..len): 0, -1 when malformed, -2 when a number is outside 1..65535. */
static int parse_port_range(const char *s, size_t len, port_range *r) {
    unsigned long v[2] = {0, 0};
    size_t k = 0, digits = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '-' && k == 0 && digits) {
            k = 1, digits = 0;
        } else if (s[i] >= '0' && s[i] <= '9') {
            if (v[k] < 1000000) v[k] = v[k] * 10 + (unsigned long)(s[i] - '0');
            digits++;
        } else {
            return -1;
        }
    }
    if (!digits) return -1;
    if (k == 0) v[1] = v[0];
    if (v[0] < 1 || v[0] > 65535 || v[1] < 1 || v[1] > 65535) return -2;
    if (v[1] < v[0]) return -1;
    r->lo = (unsigned)v[0], r->hi = (unsigned)v[1];
    return 0;
}

/* tcp, udp or sctp in any case, lowered into out[5]; false for others */
static bool protocol_of(const char *s, size_t len, char *out) {
    if (len < 3 || len > 4) return false;
    for (size_t i = 0; i < len; i++) out[i] = ascii_lower(s[i]);
    out[len] = '\0';
    return strcmp(out, "tcp") == 0 || strcmp(out, "udp") == 0 || strcmp(out, "sctp") == 0;
}

static int port_error(norm *n, const char *spec, int rc) {
    quoted qa;
    if (rc == -2) return fail(n, "invalid port %s: out of range 1..65535", q(&qa, spec));
    return fail(n, "invalid port %s", q(&qa, spec));
}

/* A short port, "[IP:][HOST:]CONTAINER[/PROTO]": the ':'-separated parts as go-connections
 * splits them (an IP may hold ':' itself), IPv6 brackets removed. */
typedef struct port_spec {
    char ip[64];
    port_range host, container;
    bool has_host;
    char proto[5];
} port_spec;

static int port_ip(norm *n, const char *spec, const char *ip, size_t len, port_spec *p) {
    quoted qa, qb;
    unsigned char addr[16];
    if (len >= 2 && ip[0] == '[' && ip[len - 1] == ']') ip++, len -= 2;
    if (len < sizeof p->ip) {
        memcpy(p->ip, ip, len);
        p->ip[len] = '\0';
        if (inet_pton(AF_INET, p->ip, addr) == 1 || inet_pton(AF_INET6, p->ip, addr) == 1) return 0;
    }
    char *shown = wb_strndup(ip, len);
    fail(n, "invalid port %s: invalid IP address %s", q(&qa, spec), q(&qb, shown));
    free(shown);
    return -1;
}

static int parse_port_spec(norm *n, const char *spec, port_spec *p) {
    quoted qa, qb;
    memset(p, 0, sizeof *p);
    const char *c2 = strrchr(spec, ':'), *c1 = NULL; /* before CONTAINER, before HOST */
    for (const char *s = c2; s && s > spec && !c1; s--)
        if (s[-1] == ':') c1 = s - 1;
    if (c1 && c1 > spec && port_ip(n, spec, spec, (size_t)(c1 - spec), p) < 0) return -1;
    const char *host = c1 ? c1 + 1 : spec, *cont = c2 ? c2 + 1 : spec;
    const char *slash = strchr(cont, '/'), *proto = slash && slash[1] ? slash + 1 : "tcp";
    if (!protocol_of(proto, strlen(proto), p->proto))
        return fail(n, "invalid port %s: unknown protocol %s, use tcp, udp or sctp", q(&qa, spec),
                    q(&qb, proto));
    int rc = parse_port_range(cont, slash ? (size_t)(slash - cont) : strlen(cont), &p->container);
    p->has_host = c2 && host < c2;
    if (rc == 0 && p->has_host) rc = parse_port_range(host, (size_t)(c2 - host), &p->host);
    if (rc < 0) return port_error(n, spec, rc);
    if (p->has_host && p->container.lo != p->container.hi &&
        p->host.hi - p->host.lo != p->container.hi - p->container.lo)
        return fail(n, "invalid port %s: the host and container ranges differ in size",
                    q(&qa, spec));
    return 0;
}

/* One long-form entry, in compose-go's key order. */
static json_t *port_entry(const char *ip, unsigned target, const char *published,
                          const char *proto) {
    json_t *e = json_object();
    json_object_set_new_nocheck(e, "mode", json_string("ingress"));
    if (*ip) json_object_set_new_nocheck(e, "host_ip", json_string(ip));
    json_object_set_new_nocheck(e, "target", json_integer(target));
    if (published) json_object_set_new_nocheck(e, "published", json_string(published));
    json_object_set_new_nocheck(e, "protocol", json_string(proto));
    return e;
}

static int count_ports(norm *n, size_t more) {
    if (more > MAX_PORT_ENTRIES - n->nports)
        return fail(n, "too many ports: more than %d entries", MAX_PORT_ENTRIES);
    n->nports += more;
    return 0;
}

/* A short port: one entry per container port (a host range against one container port stays a
 * range), appended to list. */
static int port_short(norm *n, const char *spec, json_t *list) {
    port_spec p;
    if (parse_port_spec(n, spec, &p) < 0) return -1;
    unsigned count = p.container.hi - p.container.lo + 1;
    if (count_ports(n, count) < 0) return -1;
    for (unsigned i = 0; i < count; i++) {
        char published[16];
        if (p.has_host && count == 1 && p.host.lo != p.host.hi)
            snprintf(published, sizeof published, "%u-%u", p.host.lo, p.host.hi);
        else
            snprintf(published, sizeof published, "%u", p.host.lo + i);
        json_array_append_new(
            list, port_entry(p.ip, p.container.lo + i, p.has_host ? published : NULL, p.proto));
    }
    return 0;
}

static int norm_port_target(norm *n, const json_t *in, json_t **out) {
    char text[64];
    port_range r;
    if (!scalar_text(in, text, sizeof text)) return fail(n, "must be an integer");
    int rc = strchr(text, '-') ? -1 : parse_port_range(text, strlen(text), &r);
    if (rc < 0) return port_error(n, text, rc);
    *out = json_integer(r.lo);
    return 0;
}

/* published: a port or a range, as a string; "" is no port (the key is dropped) */
static int norm_port_published(norm *n, const json_t *in, json_t **out) {
    char text[64];
    port_range r;
    if (!scalar_text(in, text, sizeof text)) return fail(n, "must be a string or an integer");
    *out = NULL;
    if (!*text) return 0;
    int rc = parse_port_range(text, strlen(text), &r);
    if (rc < 0) return port_error(n, text, rc);
    *out = json_string(text);
    return 0;
}

static int norm_port_protocol(norm *n, const json_t *in, json_t **out) {
    quoted qa;
    char proto[5];
    if (!json_is_string(in)) return fail(n, "must be a string");
    const char *s = json_string_value(in);
    if (!protocol_of(s, strlen(s), proto))
        return fail(n, "unknown protocol %s, use tcp, udp or sctp", q(&qa, s));
    *out = json_string(proto);
    return 0;
}

static const field port_keys[] = {
    KEY("name", K_STRING),
    KEY("mode", K_STRING),
    KEY("host_ip", K_STRING),
    KEY_FN("target", norm_port_target),
    KEY_FN("published", norm_port_published),
    KEY_FN("protocol", norm_port_protocol),
    KEY("app_protocol", K_STRING),
    KEYS_END,
};

static int port_item(norm *n, const json_t *item, json_t *list) {
    char text[32];
    if (json_is_integer(item)) {
        snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(item));
        return port_short(n, text, list);
    }
    if (json_is_string(item)) return port_short(n, json_string_value(item), list);
    if (!json_is_object(item)) return fail(n, "must be a string, an integer or a mapping");
    json_t *e;
    if (norm_object(n, item, port_keys, &e) < 0 || require(n, e, "target") < 0) return -1;
    set_default(e, "protocol", json_string("tcp"));
    set_default(e, "mode", json_string("ingress"));
    json_array_append_new(list, e);
    return count_ports(n, 1);
}

static int norm_ports(norm *n, const json_t *in, json_t **out) {
    return norm_list(n, in, port_item, out);
}

/* expose: "PORT[-PORT][/PROTO]" strings */
static int expose_item(norm *n, const json_t *item, json_t *list) {
    char text[64], proto[5];
    port_range r;
    if (json_is_real(item) || !scalar_text(item, text, sizeof text))
        return fail(n, "must be a string or an integer");
    const char *slash = strchr(text, '/');
    size_t len = slash ? (size_t)(slash - text) : strlen(text);
    int rc = parse_port_range(text, len, &r);
    if (rc == 0 && slash && !protocol_of(slash + 1, strlen(slash + 1), proto)) rc = -1;
    if (rc < 0) return port_error(n, text, rc);
    json_array_append_new(list, json_string(text));
    return 0;
}

static int norm_expose(norm *n, const json_t *in, json_t **out) {
    return norm_list(n, in, expose_item, out);
}

/* ---- volumes ---- */

/* A short volume "SRC:DST[:MODE]" or "DST", and what MODE says. */
typedef struct volume_spec {
    const char *spec;
    char *part[3]; /* in a copy of spec */
    size_t nparts;
    bool read_only, nocopy;
    const char *propagation, *selinux, *consistency;
} volume_spec;

/* One MODE word into v; false if unknown. */
static bool volume_mode(volume_spec *v, const char *mode) {
    enum { RO, RW, NOCOPY, PROPAGATION, SELINUX, CONSISTENCY };
    static const struct {
        const char *word;
        int what;
    } modes[] = {
        {"ro", RO},
        {"rw", RW},
        {"nocopy", NOCOPY},
        {"shared", PROPAGATION},
        {"slave", PROPAGATION},
        {"private", PROPAGATION},
        {"rshared", PROPAGATION},
        {"rslave", PROPAGATION},
        {"rprivate", PROPAGATION},
        {"z", SELINUX},
        {"Z", SELINUX},
        {"cached", CONSISTENCY},
        {"delegated", CONSISTENCY},
        {"consistent", CONSISTENCY},
    };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        if (strcmp(mode, modes[i].word) != 0) continue;
        switch (modes[i].what) {
        case RO: v->read_only = true; break;
        case RW: v->read_only = false; break;
        case NOCOPY: v->nocopy = true; break;
        case PROPAGATION: v->propagation = modes[i].word; break;
        case SELINUX: v->selinux = modes[i].word; break;
        default: v->consistency = modes[i].word; break;
        }
        return true;
    }
    return false;
}

static int volume_modes(norm *n, volume_spec *v, char *modes) {
    quoted qa, qb;
    for (char *m = modes, *next; m; m = next) {
        next = strchr(m, ',');
        if (next) *next++ = '\0';
        if (!volume_mode(v, m))
            return fail(n, "invalid volume %s: unknown mode %s", q(&qa, v->spec), q(&qb, m));
    }
    return 0;
}

static int split_volume(norm *n, char *copy, volume_spec *v) {
    quoted qa;
    if (!*copy) return fail(n, "invalid empty volume spec");
    for (char *p = copy, *colon; p; p = colon) {
        if (v->nparts == 3) return fail(n, "invalid volume %s: too many colons", q(&qa, v->spec));
        colon = strchr(p, ':');
        if (colon) *colon++ = '\0';
        if (!*p) return fail(n, "invalid volume %s: empty section between colons", q(&qa, v->spec));
        v->part[v->nparts++] = p;
    }
    if (v->nparts == 3 && volume_modes(n, v, v->part[2]) < 0) return -1;
    if (v->part[v->nparts == 1 ? 0 : 1][0] != '/')
        return fail(n, "invalid volume %s: the target must be an absolute path", q(&qa, v->spec));
    return 0;
}

static json_t *bind_options(const volume_spec *v, bool bind) {
    json_t *b = json_object();
    if (v->propagation) json_object_set_new_nocheck(b, "propagation", json_string(v->propagation));
    if (bind) json_object_set_new_nocheck(b, "create_host_path", json_true());
    if (v->selinux) json_object_set_new_nocheck(b, "selinux", json_string(v->selinux));
    return b;
}

/* The long form of a short volume, in compose-go's key order. */
static int volume_long(norm *n, const volume_spec *v, json_t **out) {
    const char *src = v->nparts > 1 ? v->part[0] : NULL;
    bool bind = src && (src[0] == '.' || src[0] == '/' || src[0] == '~');
    json_t *e = json_object(), *source = NULL;
    json_object_set_new_nocheck(e, "type", json_string(bind ? "bind" : "volume"));
    if (bind && absolute_path(n, src, true, &source) < 0) {
        json_decref(e);
        return -1;
    }
    if (src) json_object_set_new_nocheck(e, "source", bind ? source : json_string(src));
    char *target = clean_path(v->part[v->nparts == 1 ? 0 : 1]);
    json_object_set_new_nocheck(e, "target", json_string(target));
    free(target);
    if (v->read_only) json_object_set_new_nocheck(e, "read_only", json_true());
    if (v->consistency) json_object_set_new_nocheck(e, "consistency", json_string(v->consistency));
    if (bind || v->propagation || v->selinux)
        json_object_set_new_nocheck(e, "bind", bind_options(v, bind));
    if (!bind || v->nocopy) {
        json_t *opts = json_object();
        if (v->nocopy) json_object_set_new_nocheck(opts, "nocopy", json_true());
        json_object_set_new_nocheck(e, "volume", opts);
    }
    *out = e;
    return 0;
}

static int volume_short(norm *n, const char *spec, json_t **out) {
    volume_spec v = {.spec = spec};
    char *copy = wb_strdup(spec);
    int rc = split_volume(n, copy, &v);
    if (rc == 0) rc = volume_long(n, &v, out);
    free(copy);
    return rc;
}

static int norm_volume_type(norm *n, const json_t *in, json_t **out) {
    static const char *const types[] = {"bind",  "volume",  "tmpfs", "npipe",
                                        "image", "cluster", NULL};
    return norm_enum(n, in, "volume type", types, out);
}

static int norm_volume_target(norm *n, const json_t *in, json_t **out) {
    quoted qa;
    if (!json_is_string(in)) return fail(n, "must be a string");
    if (json_string_value(in)[0] != '/')
        return fail(n, "invalid volume target %s: it must be an absolute path",
                    q(&qa, json_string_value(in)));
    *out = json_string(json_string_value(in));
    return 0;
}

/* A file mode: an integer, or a string in octal ("0444"). */
static int norm_mode(norm *n, const json_t *in, json_t **out) {
    quoted qa;
    if (json_is_integer(in)) {
        *out = json_integer(json_integer_value(in));
        return 0;
    }
    if (!json_is_string(in)) return fail(n, "must be a string or an integer");
    const char *s = json_string_value(in);
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 8);
    if (s[0] < '0' || s[0] > '7' || *end || errno || v > 07777777777)
        return fail(n, "invalid mode %s", q(&qa, s));
    *out = json_integer((json_int_t)v);
    return 0;
}

static const field bind_keys[] = {
    KEY("propagation", K_STRING),
    KEY("create_host_path", K_BOOL),
    KEY("recursive", K_STRING),
    KEY("selinux", K_STRING),
    KEYS_END,
};
static const field volume_options_keys[] = {
    KEY("labels", K_MAP),
    KEY("nocopy", K_BOOL),
    KEY("subpath", K_STRING),
    KEYS_END,
};
static const field tmpfs_keys[] = {
    KEY("size", K_BYTES),
    KEY_FN("mode", norm_mode),
    KEYS_END,
};
static const field image_options_keys[] = {
    KEY("subpath", K_STRING),
    KEYS_END,
};
static const field volume_keys[] = {
    KEY_FN("type", norm_volume_type),
    KEY("source", K_STRING),
    KEY_FN("target", norm_volume_target),
    KEY("read_only", K_BOOL),
    KEY("consistency", K_STRING),
    KEY_SUB("bind", K_OBJECT, bind_keys),
    KEY_SUB("volume", K_OBJECT, volume_options_keys),
    KEY_SUB("tmpfs", K_OBJECT, tmpfs_keys),
    KEY_SUB("image", K_OBJECT, image_options_keys),
    KEYS_END,
};

/* A long-form volume: read_only only when true, a bind's source made absolute. */
static int volume_object(norm *n, const json_t *item, json_t **out) {
    json_t *v, *abs;
    if (norm_object(n, item, volume_keys, &v) < 0 || require(n, v, "type") < 0 ||
        require(n, v, "target") < 0)
        return -1;
    if (json_is_false(json_object_get(v, "read_only"))) json_object_del(v, "read_only");
    const char *type = string_member(v, "type"), *source = string_member(v, "source");
    if (type && strcmp(type, "bind") == 0) {
        if (!json_object_get(v, "source")) {
            json_decref(v);
            return fail(n, "\"source\" is required for a bind mount");
        }
        size_t mark = path_key(n, "source");
        int rc = source ? absolute_path(n, source, true, &abs) : 0;
        path_pop(n, mark);
        if (rc < 0) {
            json_decref(v);
            return -1;
        }
        if (source) json_object_set_new_nocheck(v, "source", abs);
    }
    *out = v;
    return 0;
}

static int volume_item(norm *n, const json_t *item, json_t *list) {
    json_t *v;
    if (json_is_string(item)) {
        if (volume_short(n, json_string_value(item), &v) < 0) return -1;
    } else if (json_is_object(item)) {
        if (volume_object(n, item, &v) < 0) return -1;
    } else {
        return fail(n, "must be a string or a mapping");
    }
    json_array_append_new(list, v);
    return 0;
}

static int norm_volumes(norm *n, const json_t *in, json_t **out) {
    return norm_list(n, in, volume_item, out);
}

/* ---- extra_hosts, networks, depends_on, healthcheck, ulimits, secrets/configs, extends ---- */

/* "HOST:IP" appended to list, host[0..hlen) checked. */
static int add_host(norm *n, const char *host, size_t hlen, const char *ip, json_t *list) {
    quoted qa;
    char *h = wb_strndup(host, hlen);
    int rc = 0;
    if (!*h || strpbrk(h, ":="))
        rc = fail(n, "bad host name %s", q(&qa, h));
    else if (!*ip)
        rc = fail(n, "invalid additional host %s: missing IP", q(&qa, h));
    else
        json_array_append_new(list, json_sprintf("%s:%s", h, ip));
    free(h);
    return rc;
}

/* "HOST=IP" or "HOST:IP" (the first '=', else the first ':') */
static int extra_host_item(norm *n, const json_t *item, json_t *list) {
    quoted qa;
    if (!json_is_string(item)) return fail(n, "must be a string");
    const char *s = json_string_value(item), *sep = strchr(s, '=');
    if (!sep) sep = strchr(s, ':');
    if (!sep) return fail(n, "invalid additional host %s: missing IP", q(&qa, s));
    return add_host(n, s, (size_t)(sep - s), sep + 1, list);
}

/* {HOST: IP} or {HOST: [IP, ...]} */
static int extra_host_member(norm *n, const char *host, const json_t *ips, json_t *list) {
    if (json_is_string(ips)) return add_host(n, host, strlen(host), json_string_value(ips), list);
    if (!json_is_array(ips)) return fail(n, "must be a string or a list");
    size_t i;
    json_t *ip;
    json_array_foreach(ips, i, ip) {
        size_t mark = path_index(n, i);
        int rc = json_is_string(ip) ? add_host(n, host, strlen(host), json_string_value(ip), list)
                                    : fail(n, "must be a string");
        path_pop(n, mark);
        if (rc < 0) return -1;
    }
    return 0;
}

static int norm_extra_hosts(norm *n, const json_t *in, json_t **out) {
    if (json_is_array(in)) return norm_list(n, in, extra_host_item, out);
    if (!json_is_object(in)) return fail(n, "must be a mapping or a list");
    json_t *list = json_array();
    const char *host;
    json_t *ips;
    json_object_foreach((json_t *)in, host, ips) {
        size_t mark = path_key(n, host);
        int rc = extra_host_member(n, host, ips, list);
        path_pop(n, mark);
        if (rc < 0) {
            json_decref(list);
            return -1;
        }
    }
    *out = list;
    return 0;
}

/* A list of names into the mapping {NAME: value()} (services.*.networks, depends_on). */
static int names_to_map(norm *n, const json_t *in, json_t *(*value)(void), json_t *map) {
    size_t i;
    json_t *item;
    json_array_foreach(in, i, item) {
        if (!json_is_string(item)) {
            size_t mark = path_index(n, i);
            fail(n, "must be a string");
            path_pop(n, mark);
            return -1;
        }
        json_object_set_new_nocheck(map, json_string_value(item), value());
    }
    return 0;
}

/* A mapping {NAME: mapping described by keys, or null when null_ok}, each through fix (may be
 * NULL), into map. */
static int map_of_objects(norm *n, const json_t *in, const field *keys, bool null_ok,
                          void (*fix)(json_t *), json_t *map) {
    const char *name;
    json_t *value;
    json_object_foreach((json_t *)in, name, value) {
        size_t mark = path_key(n, name);
        json_t *v = NULL;
        int rc = 0;
        if (null_ok && json_is_null(value))
            v = json_null();
        else if ((rc = norm_object(n, value, keys, &v)) == 0 && fix)
            fix(v);
        path_pop(n, mark);
        if (rc < 0) return -1;
        json_object_set_new_nocheck(map, name, v);
    }
    return 0;
}

static const field service_network_keys[] = {
    KEY("aliases", K_STRINGS),        KEY("interface_name", K_STRING),
    KEY("ipv4_address", K_STRING),    KEY("ipv6_address", K_STRING),
    KEY("link_local_ips", K_STRINGS), KEY("mac_address", K_STRING),
    KEY("driver_opts", K_MAP),        KEY("priority", K_NUMBER),
    KEY("gw_priority", K_NUMBER),     KEYS_END,
};

static int norm_service_networks(norm *n, const json_t *in, json_t **out) {
    if (!json_is_array(in) && !json_is_object(in)) return fail(n, "must be a mapping or a list");
    json_t *map = json_object();
    if (names_to_map(n, in, json_null, map) < 0 ||
        map_of_objects(n, in, service_network_keys, true, NULL, map) < 0) {
        json_decref(map);
        return -1;
    }
    *out = map;
    return 0;
}

static int norm_condition(norm *n, const json_t *in, json_t **out) {
    static const char *const conditions[] = {"service_started", "service_healthy",
                                             "service_completed_successfully", NULL};
    return norm_enum(n, in, "condition", conditions, out);
}

static const field depends_on_keys[] = {
    KEY_FN("condition", norm_condition),
    KEY("required", K_BOOL),
    KEY("restart", K_BOOL),
    KEYS_END,
};

static void dependency_defaults(json_t *d) {
    set_default(d, "condition", json_string("service_started"));
    set_default(d, "required", json_true());
    set_default(d, "restart", json_false());
}

static json_t *default_dependency(void) {
    json_t *d = json_object();
    dependency_defaults(d);
    return d;
}

static int norm_depends_on(norm *n, const json_t *in, json_t **out) {
    if (!json_is_array(in) && !json_is_object(in)) return fail(n, "must be a mapping or a list");
    json_t *map = json_object();
    if (names_to_map(n, in, default_dependency, map) < 0 ||
        map_of_objects(n, in, depends_on_keys, false, dependency_defaults, map) < 0) {
        json_decref(map);
        return -1;
    }
    *out = map;
    return 0;
}

static int norm_health_test(norm *n, const json_t *in, json_t **out) {
    if (json_is_string(in)) {
        *out = json_pack("[ss]", "CMD-SHELL", json_string_value(in));
        return 0;
    }
    if (!json_is_array(in)) return fail(n, "must be a string or a list");
    const char *first = json_string_value(json_array_get(in, 0));
    if (!first || (strcmp(first, "NONE") != 0 && strcmp(first, "CMD") != 0 &&
                   strcmp(first, "CMD-SHELL") != 0))
        return fail(n, "must start either by \"CMD\", \"CMD-SHELL\" or \"NONE\"");
    return norm_list(n, in, command_item, out);
}

static const field healthcheck_keys[] = {
    KEY_FN("test", norm_health_test),
    KEY("interval", K_DURATION),
    KEY("timeout", K_DURATION),
    KEY("start_period", K_DURATION),
    KEY("start_interval", K_DURATION),
    KEY("retries", K_UINT),
    KEY("disable", K_BOOL),
    KEYS_END,
};

static const field ulimit_keys[] = {
    KEY("soft", K_INT),
    KEY("hard", K_INT),
    KEYS_END,
};

/* One ulimit: an integer is both limits, a mapping needs both. */
static int ulimit_value(norm *n, const json_t *in, json_t **out) {
    long long v;
    if (json_is_object(in)) {
        if (norm_object(n, in, ulimit_keys, out) < 0 || require(n, *out, "soft") < 0) return -1;
        return require(n, *out, "hard");
    }
    if (json_is_boolean(in) || !integer_of(in, &v))
        return fail(n, "must be an integer or a mapping");
    *out = json_pack("{sIsI}", "soft", (json_int_t)v, "hard", (json_int_t)v);
    return 0;
}

static int norm_ulimits(norm *n, const json_t *in, json_t **out) {
    if (!json_is_object(in)) return fail(n, "must be a mapping");
    json_t *map = json_object();
    const char *name;
    json_t *value;
    json_object_foreach((json_t *)in, name, value) {
        size_t mark = path_key(n, name);
        json_t *limit;
        int rc = ulimit_value(n, value, &limit);
        path_pop(n, mark);
        if (rc < 0) {
            json_decref(map);
            return -1;
        }
        json_object_set_new_nocheck(map, name, limit);
    }
    *out = map;
    return 0;
}

/* uid, gid: strings (an integer becomes one) */
static int norm_id(norm *n, const json_t *in, json_t **out) {
    if (json_is_integer(in)) {
        *out = json_sprintf("%" JSON_INTEGER_FORMAT, json_integer_value(in));
        return 0;
    }
    return norm_string(n, in, out);
}

static const field file_mount_keys[] = {
    KEY("source", K_STRING), KEY("target", K_STRING),   KEY_FN("uid", norm_id),
    KEY_FN("gid", norm_id),  KEY_FN("mode", norm_mode), KEYS_END,
};

static int file_mount_item(norm *n, const json_t *item, json_t *list) {
    json_t *m;
    if (json_is_string(item)) {
        m = json_pack("{ss}", "source", json_string_value(item));
    } else if (!json_is_object(item)) {
        return fail(n, "must be a string or a mapping");
    } else if (norm_object(n, item, file_mount_keys, &m) < 0 || require(n, m, "source") < 0) {
        return -1;
    }
    json_array_append_new(list, m);
    return 0;
}

/* secrets, configs: [{source, target?, uid?, gid?, mode?}] */
static int norm_file_mounts(norm *n, const json_t *in, json_t **out) {
    return norm_list(n, in, file_mount_item, out);
}

static const field extends_keys[] = {
    KEY("service", K_STRING),
    KEY("file", K_STRING),
    KEYS_END,
};

static int norm_extends(norm *n, const json_t *in, json_t **out) {
    if (json_is_string(in)) {
        *out = json_pack("{ss}", "service", json_string_value(in));
        return 0;
    }
    if (!json_is_object(in)) return fail(n, "must be a string or a mapping");
    if (norm_object(n, in, extends_keys, out) < 0) return -1;
    return require(n, *out, "service");
}

static const field device_keys[] = {
    KEY("source", K_STRING),
    KEY("target", K_STRING),
    KEY("permissions", K_STRING),
    KEYS_END,
};

static int device_item(norm *n, const json_t *item, json_t *list) {
    json_t *d;
    if (!json_is_object(item)) return string_item(n, item, list);
    if (norm_object(n, item, device_keys, &d) < 0 || require(n, d, "source") < 0) return -1;
    json_array_append_new(list, d);
    return 0;
}

/* devices: strings, or {source, target?, permissions?} */
static int norm_devices(norm *n, const json_t *in, json_t **out) {
    if (json_is_string(in)) return norm_strings(n, in, out);
    return norm_list(n, in, device_item, out);
}

/* ---- deploy ---- */

/* deploy.resources.*.cpus: the number as a string ("0.5") */
static int norm_cpus_string(norm *n, const json_t *in, json_t **out) {
    double d;
    char text[64];
    if (!number_of(in, &d)) return fail(n, "must be a number");
    format_real(d, text, sizeof text);
    *out = json_string(text);
    return 0;
}

static const field limits_keys[] = {
    KEY_FN("cpus", norm_cpus_string),
    KEY("memory", K_BYTES),
    KEY("pids", K_INT),
    KEYS_END,
};
static const field reservations_keys[] = {
    KEY_FN("cpus", norm_cpus_string),
    KEY("memory", K_BYTES),
    KEY("generic_resources", K_ANY),
    KEY("devices", K_ANY),
    KEYS_END,
};
static const field resources_keys[] = {
    KEY_SUB("limits", K_OBJECT, limits_keys),
    KEY_SUB("reservations", K_OBJECT, reservations_keys),
    KEYS_END,
};
static const field restart_policy_keys[] = {
    KEY("condition", K_STRING),
    KEY("delay", K_DURATION),
    KEY("max_attempts", K_INT),
    KEY("window", K_DURATION),
    KEYS_END,
};
static const field deploy_keys[] = {
    KEY("mode", K_STRING),
    KEY("endpoint_mode", K_STRING),
    KEY("replicas", K_UINT),
    KEY("labels", K_MAP),
    KEY("rollback_config", K_ANY),
    KEY("update_config", K_ANY),
    KEY_SUB("resources", K_OBJECT, resources_keys),
    KEY_SUB("restart_policy", K_OBJECT, restart_policy_keys),
    KEY("placement", K_ANY),
    KEYS_END,
};

static int norm_deploy(norm *n, const json_t *in, json_t **out) {
    if (json_is_null(in)) {
        *out = json_null();
        return 0;
    }
    return norm_object(n, in, deploy_keys, out);
}

/* ---- a service ---- */

/* Every key of the spec's service; `unused` ones are kept with the warning. */
static const field service_keys[] = {
    KEY_UNUSED("develop", K_ANY),
    KEY_FN("deploy", norm_deploy),
    KEY("annotations", K_MAP),
    KEY_UNUSED("attach", K_ANY),
    KEY_FN("build", norm_build),
    KEY_UNUSED("blkio_config", K_ANY),
    KEY("cap_add", K_STRINGS),
    KEY("cap_drop", K_STRINGS),
    KEY_UNUSED("cgroup", K_STRING),
    KEY("cgroup_parent", K_STRING),
    KEY_FN("command", norm_command),
    KEY_FN("configs", norm_file_mounts),
    KEY("container_name", K_STRING),
    KEY_UNUSED("cpu_count", K_ANY),
    KEY_UNUSED("cpu_percent", K_ANY),
    KEY("cpu_shares", K_INT),
    KEY_UNUSED("cpu_quota", K_ANY),
    KEY_UNUSED("cpu_period", K_ANY),
    KEY_UNUSED("cpu_rt_period", K_ANY),
    KEY_UNUSED("cpu_rt_runtime", K_ANY),
    KEY("cpus", K_NUMBER),
    KEY_UNUSED("cpuset", K_STRING),
    KEY_UNUSED("credential_spec", K_ANY),
    KEY_FN("depends_on", norm_depends_on),
    KEY_UNUSED("device_cgroup_rules", K_STRINGS),
    KEY_FN("devices", norm_devices),
    KEY("dns", K_STRINGS),
    KEY("dns_opt", K_STRINGS),
    KEY("dns_search", K_STRINGS),
    KEY("domainname", K_STRING),
    KEY_FN("entrypoint", norm_command),
    KEY_FN("env_file", norm_env_file),
    KEY_UNUSED("label_file", K_ANY),
    KEY("environment", K_ENV),
    KEY_FN("expose", norm_expose),
    KEY_FN("extends", norm_extends),
    KEY_UNUSED("provider", K_ANY),
    KEY("external_links", K_STRINGS),
    KEY_FN("extra_hosts", norm_extra_hosts),
    KEY_UNUSED("gpus", K_ANY),
    KEY("group_add", K_STRINGS),
    KEY_SUB("healthcheck", K_OBJECT, healthcheck_keys),
    KEY("hostname", K_STRING),
    KEY("image", K_STRING),
    KEY("init", K_BOOL),
    KEY("ipc", K_STRING),
    KEY_UNUSED("isolation", K_STRING),
    KEY("labels", K_MAP),
    KEY("links", K_STRINGS),
    KEY_UNUSED("logging", K_ANY),
    KEY("mac_address", K_STRING),
    KEY("mem_limit", K_BYTES),
    KEY("mem_reservation", K_BYTES),
    KEY("mem_swappiness", K_INT),
    KEY("memswap_limit", K_BYTES),
    KEY("network_mode", K_STRING),
    KEY_UNUSED("models", K_ANY),
    KEY_FN("networks", norm_service_networks),
    KEY("oom_kill_disable", K_BOOL),
    KEY("oom_score_adj", K_INT),
    KEY_FN("pid", norm_pid),
    KEY("pids_limit", K_INT),
    KEY("platform", K_STRING),
    KEY_FN("ports", norm_ports),
    KEY_UNUSED("post_start", K_ANY),
    KEY_UNUSED("pre_stop", K_ANY),
    KEY("privileged", K_BOOL),
    KEY("profiles", K_STRINGS),
    KEY_FN("pull_policy", norm_pull_policy),
    KEY_UNUSED("pull_refresh_after", K_ANY),
    KEY("read_only", K_BOOL),
    KEY_FN("restart", norm_restart),
    KEY("runtime", K_STRING),
    KEY("scale", K_UINT),
    KEY("security_opt", K_STRINGS),
    KEY("shm_size", K_BYTES),
    KEY_FN("secrets", norm_file_mounts),
    KEY_UNUSED("sysctls", K_MAP),
    KEY("stdin_open", K_BOOL),
    KEY("stop_grace_period", K_DURATION),
    KEY("stop_signal", K_STRING),
    KEY_UNUSED("storage_opt", K_ANY),
    KEY("tmpfs", K_STRINGS),
    KEY("tty", K_BOOL),
    KEY_FN("ulimits", norm_ulimits),
    KEY_UNUSED("use_api_socket", K_ANY),
    KEY("user", K_STRING),
    KEY_UNUSED("uts", K_STRING),
    KEY_UNUSED("userns_mode", K_STRING),
    KEY_FN("volumes", norm_volumes),
    KEY("volumes_from", K_STRINGS),
    KEY("working_dir", K_STRING),
    KEYS_END,
};

/* [a-zA-Z0-9][a-zA-Z0-9_.-]* */
static bool valid_service_name(const char *s) {
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        if (!ascii_alnum(c) && (i == 0 || (c != '_' && c != '.' && c != '-'))) return false;
    }
    return s[0] != '\0';
}

static int norm_service(norm *n, const char *name, const json_t *in, json_t **out) {
    quoted qa;
    if (!valid_service_name(name))
        return fail(n, "invalid service name %s: it must match [a-zA-Z0-9][a-zA-Z0-9_.-]*",
                    q(&qa, name));
    if (wb_yaml_tags(n->doc, n->path) & WB_YAML_RESET) {
        *out = json_deep_copy(in);
        return 0;
    }
    n->nports = 0;
    if (norm_object(n, in, service_keys, out) < 0) return -1;
    if (!json_object_get(*out, "network_mode") || !json_object_get(*out, "networks")) return 0;
    json_decref(*out);
    size_t mark = path_key(n, "network_mode");
    fail(n, "'network_mode' and 'networks' cannot be combined");
    path_pop(n, mark);
    return -1;
}

static int norm_services(norm *n, const json_t *in, json_t **out) {
    if (!json_is_object(in) && !json_is_null(in)) return fail(n, "must be a mapping");
    json_t *all = json_object();
    const char *name;
    json_t *value;
    json_object_foreach((json_t *)in, name, value) {
        size_t mark = path_key(n, name);
        json_t *svc;
        int rc = norm_service(n, name, value, &svc);
        path_pop(n, mark);
        if (rc < 0) {
            json_decref(all);
            return -1;
        }
        json_object_set_new_nocheck(all, name, svc);
    }
    *out = all;
    return 0;
}

/* ---- the top level ---- */

static int norm_external(norm *n, const json_t *in, json_t **out) {
    static const field external_keys[] = {KEY("name", K_STRING), KEYS_END};
    if (json_is_object(in)) return norm_object(n, in, external_keys, out);
    return norm_bool(n, in, out);
}

static int norm_file(norm *n, const json_t *in, json_t **out) {
    if (!json_is_string(in)) return fail(n, "must be a string");
    return absolute_path(n, json_string_value(in), true, out);
}

static const field ipam_config_keys[] = {
    KEY("subnet", K_STRING),
    KEY("ip_range", K_STRING),
    KEY("gateway", K_STRING),
    KEY("aux_addresses", K_MAP),
    KEYS_END,
};
static const field ipam_keys[] = {
    KEY("driver", K_STRING),
    KEY_SUB("config", K_OBJECTS, ipam_config_keys),
    KEY("options", K_MAP),
    KEYS_END,
};
static const field network_keys[] = {
    KEY("name", K_STRING),
    KEY("driver", K_STRING),
    KEY("driver_opts", K_MAP),
    KEY_SUB("ipam", K_OBJECT, ipam_keys),
    KEY_FN("external", norm_external),
    KEY("internal", K_BOOL),
    KEY("enable_ipv4", K_BOOL),
    KEY("enable_ipv6", K_BOOL),
    KEY("attachable", K_BOOL),
    KEY("labels", K_MAP),
    KEYS_END,
};
static const field volume_top_keys[] = {
    KEY("name", K_STRING),     KEY("driver", K_STRING),
    KEY("driver_opts", K_MAP), KEY_FN("external", norm_external),
    KEY("labels", K_MAP),      KEYS_END,
};
static const field secret_keys[] = {
    KEY("name", K_STRING),
    KEY("environment", K_STRING),
    KEY_FN("file", norm_file),
    KEY_FN("external", norm_external),
    KEY("labels", K_MAP),
    KEY("driver", K_STRING),
    KEY("driver_opts", K_MAP),
    KEY("template_driver", K_STRING),
    KEYS_END,
};
static const field config_keys[] = {
    KEY("name", K_STRING),
    KEY("content", K_STRING),
    KEY("environment", K_STRING),
    KEY_FN("file", norm_file),
    KEY_FN("external", norm_external),
    KEY("labels", K_MAP),
    KEY("template_driver", K_STRING),
    KEYS_END,
};

/* The deprecated `external: {name: X}` becomes `name: X` (unless it has one) and `external:
 * true`, with compose-go's warning. */
static void external_name(norm *n, json_t *obj) {
    json_t *ext = json_object_get(obj, "external");
    if (!json_is_object(ext)) return;
    json_t *name = json_object_get(ext, "name");
    if (name) {
        warn_at(n, n->path, n->path,
                "external.name is deprecated, please set name and external: true");
        if (!json_object_get(obj, "name")) json_object_set_nocheck(obj, "name", name);
    }
    json_object_set_new_nocheck(obj, "external", json_true());
}

/* networks, volumes, configs, secrets: {KEY: mapping, {} for null} */
static int norm_resources(norm *n, const json_t *in, const field *keys, json_t **out) {
    if (!json_is_object(in) && !json_is_null(in)) return fail(n, "must be a mapping");
    json_t *all = json_object();
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)in, key, value) {
        size_t mark = path_key(n, key);
        json_t *v = NULL;
        int rc = 0;
        if (json_is_null(value))
            v = json_object();
        else if (wb_yaml_tags(n->doc, n->path) & WB_YAML_RESET)
            v = json_deep_copy(value);
        else if ((rc = norm_object(n, value, keys, &v)) == 0)
            external_name(n, v);
        path_pop(n, mark);
        if (rc < 0) {
            json_decref(all);
            return -1;
        }
        json_object_set_new_nocheck(all, key, v);
    }
    *out = all;
    return 0;
}

static int norm_networks(norm *n, const json_t *in, json_t **out) {
    return norm_resources(n, in, network_keys, out);
}

static int norm_volumes_top(norm *n, const json_t *in, json_t **out) {
    return norm_resources(n, in, volume_top_keys, out);
}

static int norm_secrets(norm *n, const json_t *in, json_t **out) {
    return norm_resources(n, in, secret_keys, out);
}

static int norm_configs(norm *n, const json_t *in, json_t **out) {
    return norm_resources(n, in, config_keys, out);
}

/* `version`: dropped, with Compose's warning */
static int norm_version(norm *n, const json_t *in, json_t **out) {
    char *msg = NULL;
    size_t len = 0;
    *out = NULL;
    if (!n->warn) return 0;
    wb_appendf(&msg, &len,
               "%s: the attribute `version` is obsolete, it will be ignored, please remove it to "
               "avoid potential confusion",
               n->file);
    n->warn(n->warn_ctx, msg);
    free(msg);
    return 0;
}

static const field top_keys[] = {
    KEY_FN("version", norm_version),     KEY("name", K_STRING),
    KEY_UNUSED("include", K_ANY),        KEY_FN("services", norm_services),
    KEY_UNUSED("models", K_ANY),         KEY_FN("networks", norm_networks),
    KEY_FN("volumes", norm_volumes_top), KEY_FN("secrets", norm_secrets),
    KEY_FN("configs", norm_configs),     KEYS_END,
};

int wb_compose_normalize(const json_t *file, const wb_yaml_doc *doc, const char *filename,
                         const char *workdir, wb_compose_warn_fn warn, void *ctx, json_t **out,
                         wb_error *err) {
    norm n = {.doc = doc,
              .file = filename ? filename : "-",
              .workdir = workdir,
              .warn = warn,
              .warn_ctx = ctx,
              .err = err};
    int rc;
    *out = NULL;
    path_append(&n, "", 0);
    if (json_is_null(file))
        rc = fail(&n, "empty compose file");
    else if (!json_is_object(file))
        rc = fail(&n, "Top-level object must be a mapping");
    else
        rc = norm_object(&n, file, top_keys, out);
    if (rc == 0 && !json_object_get(*out, "services"))
        json_object_set_new_nocheck(*out, "services", json_object());
    free(n.path);
    return rc;
}
