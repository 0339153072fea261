/* Compose YAML (see yaml.h): libyaml's events become a tree of nodes (anchors bound, tags and
 * scalars resolved, each with its position), which is then expanded into jansson values (aliases
 * copied, merge keys applied) while a table of (parent, key or index) → {line, tags} is filled
 * for lookups by path. The dumper writes block YAML itself, without libyaml, so that it can
 * indent sequences as Compose does and quote exactly what the loader would misread. */
#include "compose/yaml.h"

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/alloc.h"
#include "base/dynlib.h"

/* Expanded scalar and key bytes: the node limit alone would let 1,000,000 copies of a long string
 * through. */
#define MAX_EXPANDED_BYTES (64u << 20)

/* ---- libyaml, loaded on first use ---- */

#define WB_LIBYAML_FUNCS(X)                                                                        \
    X(yaml_parser_initialize)                                                                      \
    X(yaml_parser_delete)                                                                          \
    X(yaml_parser_set_input_string)                                                                \
    X(yaml_parser_parse)                                                                           \
    X(yaml_event_delete)

/* Process-wide, filled once under pthread_once and read-only afterwards (as in base/dynlib.c). */
static struct {
#define WB_LIBYAML_MEMBER(name) __typeof__(&name) name;
    WB_LIBYAML_FUNCS(WB_LIBYAML_MEMBER)
#undef WB_LIBYAML_MEMBER
} fns;
static char why[WB_ERROR_MSG_MAX];
static bool loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load_libyaml(void) {
    if (!wb_dynlib_loadable()) {
        snprintf(why, sizeof why,
                 "internal error: Compose files need libyaml, which the static wasmbox cannot load "
                 "(this command should have been handed to wasmbox-full)");
        return;
    }
    void *h = dlopen("libyaml-0.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(why, sizeof why,
                 "cannot load libyaml-0.so.2: %s (install the Debian package libyaml-0-2)",
                 dlerror());
        return;
    }
#define WB_LIBYAML_RESOLVE(name)                                                                   \
    if (!why[0] && !(fns.name = (__typeof__(&name))dlsym(h, #name)))                               \
        snprintf(why, sizeof why, "libyaml-0.so.2 lacks %s", #name);
    WB_LIBYAML_FUNCS(WB_LIBYAML_RESOLVE)
#undef WB_LIBYAML_RESOLVE
    loaded = !why[0];
}

/* ---- a hash table: (parent, key bytes | index) → uint32 ---- */

#define NO_INDEX UINT32_MAX

typedef struct slot {
    const char *key; /* borrowed; NULL for an index entry */
    uint32_t len;
    uint32_t parent;
    uint32_t index; /* NO_INDEX for a key entry */
    uint32_t value; /* stored + 1; 0 marks a free slot */
} slot;

typedef struct table {
    slot *slots;
    size_t cap, n;
} table;

static uint64_t hash_of(uint32_t parent, uint32_t index, const char *key, size_t len) {
    uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)parent << 32 | index);
    h *= 0x100000001b3ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 29);
}

static slot *table_slot(const table *t, uint32_t parent, uint32_t index, const char *key,
                        size_t len) {
    if (!t->cap) return NULL;
    size_t mask = t->cap - 1, i = hash_of(parent, index, key, len) & mask;
    for (;; i = (i + 1) & mask) {
        slot *s = &t->slots[i];
        if (!s->value) return s;
        if (s->parent == parent && s->index == index && s->len == len &&
            (len == 0 || memcmp(s->key, key, len) == 0))
            return s;
    }
}

static bool table_get(const table *t, uint32_t parent, uint32_t index, const char *key, size_t len,
                      uint32_t *value) {
    slot *s = table_slot(t, parent, index, key, len);
    if (!s || !s->value) return false;
    *value = s->value - 1;
    return true;
}

static void table_put(table *t, uint32_t parent, uint32_t index, const char *key, size_t len,
                      uint32_t value) {
    if ((t->n + 1) * 2 > t->cap) {
        table old = *t;
        t->cap = old.cap ? old.cap * 2 : 16;
        t->slots = wb_calloc(t->cap, sizeof *t->slots);
        t->n = 0;
        for (size_t i = 0; i < old.cap; i++) {
            slot *o = &old.slots[i];
            if (o->value) *table_slot(t, o->parent, o->index, o->key, o->len) = *o, t->n++;
        }
        free(old.slots);
    }
    slot *s = table_slot(t, parent, index, key, len);
    if (!s->value) t->n++;
    *s = (slot){key, (uint32_t)len, parent, index, value + 1};
}

static void table_release(table *t) {
    free(t->slots);
    *t = (table){0};
}

/* ---- the resolver: go-yaml v3's resolve() for plain scalars ---- */

enum { R_NULL, R_BOOL, R_INT, R_UINT, R_FLOAT, R_STR };

typedef struct scalar {
    int kind;
    bool b;
    bool special; /* R_FLOAT that JSON cannot hold: NaN or an infinity */
    int64_t i;
    double d; /* R_FLOAT, and R_UINT's value */
} scalar;

static const char *const kind_tag[] = {"!!null", "!!bool", "!!int", "!!int", "!!float", "!!str"};

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

/* Go's strconv.ParseUint; base 0 reads the prefixes 0b, 0o, 0x and a lone leading 0 (octal). */
static bool go_parse_uint(const char *s, size_t n, int base, uint64_t *out) {
    if (n == 0) return false;
    if (base == 0) {
        base = 10;
        if (s[0] == '0') {
            char p = n >= 3 ? (char)(s[1] | 0x20) : 0;
            base = p == 'b' ? 2 : p == 'o' ? 8 : p == 'x' ? 16 : 8;
            size_t skip = (p == 'b' || p == 'o' || p == 'x') ? 2 : 1;
            s += skip;
            n -= skip;
        }
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        unsigned d = is_digit(c)                                ? (unsigned)(c - '0')
                     : ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ? (unsigned)((c | 0x20) - 'a' + 10)
                                                                : 99u;
        if (d >= (unsigned)base) return false;
        if (v > (UINT64_MAX - d) / (unsigned)base) return false;
        v = v * (unsigned)base + d;
    }
    *out = v;
    return true;
}

/* Go's strconv.ParseInt: an optional sign, then ParseUint, then the int64 range. */
static bool go_parse_int(const char *s, size_t n, int base, int64_t *out) {
    bool neg = false;
    if (n && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        s++;
        n--;
    }
    uint64_t u;
    if (!go_parse_uint(s, n, base, &u)) return false;
    if (u > (uint64_t)INT64_MAX + (neg ? 1 : 0)) return false;
    *out = !neg ? (int64_t)u : u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
    return true;
}

/* go-yaml's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool yaml_style_float(const char *s, size_t n) {
    size_t i = 0, start;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    if (i < n && s[i] == '.') {
        start = ++i;
        while (i < n && is_digit(s[i])) i++;
        if (i == start) return false;
    } else {
        start = i;
        while (i < n && is_digit(s[i])) i++;
        if (i == start) return false;
        if (i < n && s[i] == '.')
            for (i++; i < n && is_digit(s[i]);) i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        start = i;
        while (i < n && is_digit(s[i])) i++;
        if (i == start) return false;
    }
    return i == n;
}

/* strtod of a yaml_style_float text (NUL-terminated); false when it overflows, as Go's
 * ParseFloat refuses it (its range error). The process stays in the C locale. */
static bool decimal_float(const char *s, double *d) {
    *d = strtod(s, NULL);
    return !isinf(*d);
}

/* Resolve a plain scalar's text as go-yaml v3 does (resolve.go). */
static void resolve(const char *s, size_t n, scalar *r) {
    static const struct {
        const char *text;
        int kind;
        bool b;
        double d;
    } words[] = {
        {"true", R_BOOL, true, 0},        {"True", R_BOOL, true, 0},
        {"TRUE", R_BOOL, true, 0},        {"false", R_BOOL, false, 0},
        {"False", R_BOOL, false, 0},      {"FALSE", R_BOOL, false, 0},
        {"~", R_NULL, false, 0},          {"null", R_NULL, false, 0},
        {"Null", R_NULL, false, 0},       {"NULL", R_NULL, false, 0},
        {".nan", R_FLOAT, false, NAN},    {".NaN", R_FLOAT, false, NAN},
        {".NAN", R_FLOAT, false, NAN},    {".inf", R_FLOAT, 0, INFINITY},
        {".Inf", R_FLOAT, 0, INFINITY},   {".INF", R_FLOAT, 0, INFINITY},
        {"+.inf", R_FLOAT, 0, INFINITY},  {"+.Inf", R_FLOAT, 0, INFINITY},
        {"+.INF", R_FLOAT, 0, INFINITY},  {"-.inf", R_FLOAT, 0, -INFINITY},
        {"-.Inf", R_FLOAT, 0, -INFINITY}, {"-.INF", R_FLOAT, 0, -INFINITY},
    };
    *r = (scalar){.kind = R_STR};
    if (n == 0) {
        r->kind = R_NULL;
        return;
    }
    char c = s[0];
    char hint = (c == '+' || c == '-')                    ? 'S'
                : is_digit(c)                             ? 'D'
                : c == '.'                                ? '.'
                : (c && strchr("yYnNtTfFoO~", c) != NULL) ? 'M'
                                                          : 0;
    if (!hint) return;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strlen(words[i].text) == n && memcmp(words[i].text, s, n) == 0) {
            r->kind = words[i].kind;
            r->b = words[i].b;
            r->d = words[i].d;
            r->special = words[i].kind == R_FLOAT;
            return;
        }
    }
    if (hint == 'M') return;

    char small[64], *buf = n < sizeof small ? small : wb_malloc(n + 1);
    size_t m = 0;
    if (hint == '.') {
        /* Go's ParseFloat on the text: '_' only between two digits */
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '_') {
                if (!is_digit(s[i - 1]) || i + 1 >= n || !is_digit(s[i + 1])) goto done;
                continue;
            }
            buf[m++] = s[i];
        }
        buf[m] = 0;
        if (yaml_style_float(buf, m) && decimal_float(buf, &r->d)) r->kind = R_FLOAT;
        goto done;
    }
    /* 'D' and 'S': every '_' dropped (go-yaml's strings.Replace), then int, uint, float, and
     * the 0b/0o forms with a sign after the prefix that ParseInt(…, 0) did not take */
    for (size_t i = 0; i < n; i++)
        if (s[i] != '_') buf[m++] = s[i];
    buf[m] = 0;
    uint64_t u;
    if (go_parse_int(buf, m, 0, &r->i)) {
        r->kind = R_INT;
    } else if (go_parse_uint(buf, m, 0, &u)) {
        r->kind = R_UINT;
        r->d = (double)u;
    } else if (yaml_style_float(buf, m) && decimal_float(buf, &r->d)) {
        r->kind = R_FLOAT;
    } else {
        static const struct {
            const char *prefix;
            int base;
        } forms[] = {{"0b", 2}, {"0o", 8}};
        for (size_t f = 0; f < 2; f++) {
            size_t p = strlen(forms[f].prefix);
            if (m >= p && memcmp(buf, forms[f].prefix, p) == 0) {
                if (go_parse_int(buf + p, m - p, forms[f].base, &r->i)) {
                    r->kind = R_INT;
                } else if (go_parse_uint(buf + p, m - p, forms[f].base, &u)) {
                    r->kind = R_UINT;
                    r->d = (double)u;
                }
                break;
            }
            if (m >= p + 1 && buf[0] == '-' && memcmp(buf + 1, forms[f].prefix, p) == 0) {
                if (go_parse_uint(buf + p + 1, m - p - 1, forms[f].base, &u) &&
                    u <= (uint64_t)INT64_MAX + 1) {
                    r->kind = R_INT;
                    r->i = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
                }
                break;
            }
        }
    }
done:
    if (buf != small) free(buf);
}

/* The JSON value of a resolved scalar whose text is s[0..n). */
static json_t *scalar_json(const scalar *r, const char *s, size_t n) {
    switch (r->kind) {
    case R_NULL: return json_null();
    case R_BOOL: return json_boolean(r->b);
    case R_INT: return json_integer(r->i);
    case R_UINT: return json_real(r->d);
    case R_FLOAT: return r->special ? json_stringn(s, n) : json_real(r->d);
    default: return json_stringn(s, n);
    }
}

/* ---- the node tree ---- */

enum { N_SCALAR, N_SEQ, N_MAP, N_ALIAS };

typedef struct ynode {
    uint8_t kind;
    uint8_t tags;  /* WB_YAML_RESET | WB_YAML_OVERRIDE */
    bool merge;    /* a scalar that is a merge key (plain `<<`, or `!!merge <<`) */
    bool open;     /* a collection still being read: an alias to it would contain itself */
    int line, col; /* 1-based */
    char *text;    /* scalar: its value, NUL-terminated (no NUL inside) */
    size_t len;
    json_t *value;       /* scalar: resolved */
    struct ynode **kids; /* sequence: items; mapping: key, value, key, value, ... */
    size_t nkids, capkids;
    struct ynode *target; /* alias: the anchored node (never an alias) */
} ynode;

typedef struct record {
    int line;
    unsigned tags;
} record;

struct wb_yaml_doc {
    json_t *root;
    ynode **nodes; /* the tree, kept: the index's keys point into its texts */
    size_t nnodes;
    record *recs;
    size_t nrecs;
    table index; /* (parent record, key | index) → record */
};

typedef struct loader {
    const char *file, *text;
    size_t len;
    wb_error *err;
    ynode **nodes;
    size_t nnodes, capnodes;
    table anchors; /* name → node number */
    char **names;  /* the anchors' names */
    size_t nnames, capnames;
    ynode *stack[WB_YAML_MAX_DEPTH];
    int depth;
    ynode *root;
    int docs;
    size_t built, bytes; /* expansion so far: nodes (and merged members visited), text bytes */
    record *recs;
    size_t nrecs, caprecs;
    table index;
} loader;

/* A string safe to quote in a one-line message: escapes, cut to about 80 bytes. */
static const char *quoted(char *buf, size_t size, const char *s, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n && o + 8 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (o > 80 && (c & 0xc0) != 0x80) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (c == '"' || c == '\\')
            buf[o++] = '\\', buf[o++] = (char)c;
        else if (c == '\n')
            buf[o++] = '\\', buf[o++] = 'n';
        else if (c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    buf[o] = 0;
    return buf;
}

__attribute__((format(printf, 4, 5))) static int fail_at(loader *L, int line, int col,
                                                         const char *fmt, ...) {
    char msg[WB_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return wb_error_set(L->err, EINVAL, "%s:%d:%d: %s", L->file, line, col, msg);
}

static int fail_node(loader *L, const ynode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_node(loader *L, const ynode *n, const char *fmt, ...) {
    char msg[WB_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fail_at(L, n->line, n->col, "%s", msg);
}

static void free_nodes(ynode **nodes, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(nodes[i]->text);
        json_decref(nodes[i]->value);
        free(nodes[i]->kids);
        free(nodes[i]);
    }
    free(nodes);
}

/* ---- events → tree ---- */

enum {
    T_NONE,
    T_STR,
    T_INT,
    T_FLOAT,
    T_BOOL,
    T_NULL,
    T_MAP,
    T_SEQ,
    T_MERGE,
    T_RESET,
    T_OVERRIDE,
};

#define CORE_PREFIX "tag:yaml.org,2002:"

static int classify_tag(loader *L, const yaml_mark_t *m, const yaml_char_t *utag, int *out) {
    static const char *const core[] = {
        [T_STR] = "str",   [T_INT] = "int", [T_FLOAT] = "float", [T_BOOL] = "bool",
        [T_NULL] = "null", [T_MAP] = "map", [T_SEQ] = "seq",     [T_MERGE] = "merge"};
    const char *tag = (const char *)utag;
    char q[128];
    *out = T_NONE;
    if (!tag || strcmp(tag, "!") == 0) return 0;
    if (strncmp(tag, CORE_PREFIX, strlen(CORE_PREFIX)) == 0) {
        const char *name = tag + strlen(CORE_PREFIX);
        for (int t = T_STR; t <= T_MERGE; t++) {
            if (strcmp(name, core[t]) == 0) {
                *out = t;
                return 0;
            }
        }
        return fail_at(L, (int)m->line + 1, (int)m->column + 1, "unsupported tag !!%s",
                       quoted(q, sizeof q, name, strlen(name)));
    }
    if (strcmp(tag, "!reset") == 0)
        *out = T_RESET;
    else if (strcmp(tag, "!override") == 0)
        *out = T_OVERRIDE;
    else
        return fail_at(L, (int)m->line + 1, (int)m->column + 1,
                       "unknown tag %s (Compose knows !reset and !override)",
                       quoted(q, sizeof q, tag, strlen(tag)));
    return 0;
}

static const char *tag_name(int t) {
    static const char *const names[] = {
        [T_STR] = "!!str",   [T_INT] = "!!int", [T_FLOAT] = "!!float", [T_BOOL] = "!!bool",
        [T_NULL] = "!!null", [T_MAP] = "!!map", [T_SEQ] = "!!seq",     [T_MERGE] = "!!merge"};
    return names[t];
}

/* A new node at the event's position, attached to the open collection (or made the root), its
 * anchor bound. */
static int new_node(loader *L, const yaml_event_t *ev, int kind, const yaml_char_t *anchor,
                    ynode **out) {
    if (L->nnodes >= WB_YAML_MAX_NODES)
        return fail_at(L, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                       "more than %d nodes in the file", WB_YAML_MAX_NODES);
    ynode *n = wb_calloc(1, sizeof *n);
    n->kind = (uint8_t)kind;
    n->line = (int)ev->start_mark.line + 1;
    n->col = (int)ev->start_mark.column + 1;
    WB_VEC_RESERVE(L->nodes, L->capnodes, L->nnodes + 1);
    L->nodes[L->nnodes++] = n;
    if (L->depth) {
        ynode *parent = L->stack[L->depth - 1];
        WB_VEC_RESERVE(parent->kids, parent->capkids, parent->nkids + 1);
        parent->kids[parent->nkids++] = n;
    } else {
        L->root = n;
    }
    if (anchor) {
        char *name = wb_strdup((const char *)anchor);
        WB_VEC_RESERVE(L->names, L->capnames, L->nnames + 1);
        L->names[L->nnames++] = name;
        table_put(&L->anchors, 0, NO_INDEX, name, strlen(name), (uint32_t)(L->nnodes - 1));
    }
    *out = n;
    return 0;
}

static int on_scalar(loader *L, const yaml_event_t *ev) {
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    const yaml_mark_t *m = &ev->start_mark;
    int tag;
    char q[128];
    if (classify_tag(L, m, ev->data.scalar.tag, &tag) < 0) return -1;
    if (memchr(s, 0, n))
        return fail_at(L, (int)m->line + 1, (int)m->column + 1,
                       "a NUL character in a string is not supported");
    if (tag == T_MAP || tag == T_SEQ)
        return fail_at(L, (int)m->line + 1, (int)m->column + 1, "tag %s on a scalar",
                       tag_name(tag));
    bool is_merge_text = n == 2 && s[0] == '<' && s[1] == '<';
    if (tag == T_MERGE && !is_merge_text)
        return fail_at(L, (int)m->line + 1, (int)m->column + 1, "tag !!merge on \"%s\", not <<",
                       quoted(q, sizeof q, s, n));
    ynode *node;
    if (new_node(L, ev, N_SCALAR, ev->data.scalar.anchor, &node) < 0) return -1;
    node->text = wb_strndup(s, n);
    node->len = n;
    node->merge = is_merge_text && (tag == T_MERGE || (tag == T_NONE && plain));
    node->tags = tag == T_RESET ? WB_YAML_RESET : tag == T_OVERRIDE ? WB_YAML_OVERRIDE : 0;
    scalar r = {.kind = R_STR};
    if (tag == T_INT || tag == T_FLOAT || tag == T_BOOL || tag == T_NULL ||
        (plain && (tag == T_NONE || tag == T_RESET || tag == T_OVERRIDE)))
        resolve(s, n, &r);
    if (tag == T_FLOAT && r.kind == R_INT) {
        r.kind = R_FLOAT;
        r.d = (double)r.i;
    }
    int want = tag == T_INT     ? R_INT
               : tag == T_FLOAT ? R_FLOAT
               : tag == T_BOOL  ? R_BOOL
               : tag == T_NULL  ? R_NULL
                                : -1;
    if (want >= 0 && r.kind != want && !(want == R_INT && r.kind == R_UINT))
        return fail_at(L, node->line, node->col, "cannot decode %s `%s` as a %s", kind_tag[r.kind],
                       quoted(q, sizeof q, s, n), tag_name(tag));
    node->value = scalar_json(&r, s, n);
    if (!node->value) return fail_at(L, node->line, node->col, "a string is not valid UTF-8");
    return 0;
}

static int on_collection(loader *L, const yaml_event_t *ev, int kind) {
    const yaml_mark_t *m = &ev->start_mark;
    const yaml_char_t *tag_text =
        kind == N_MAP ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
    const yaml_char_t *anchor =
        kind == N_MAP ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    int tag;
    if (L->depth >= WB_YAML_MAX_DEPTH)
        return fail_at(L, (int)m->line + 1, (int)m->column + 1, "nesting deeper than %d levels",
                       WB_YAML_MAX_DEPTH);
    if (classify_tag(L, m, tag_text, &tag) < 0) return -1;
    if (tag != T_NONE && tag != T_RESET && tag != T_OVERRIDE &&
        tag != (kind == N_MAP ? T_MAP : T_SEQ))
        return fail_at(L, (int)m->line + 1, (int)m->column + 1, "tag %s on a %s", tag_name(tag),
                       kind == N_MAP ? "mapping" : "sequence");
    ynode *node;
    if (new_node(L, ev, kind, anchor, &node) < 0) return -1;
    node->open = true;
    node->tags = tag == T_RESET ? WB_YAML_RESET : tag == T_OVERRIDE ? WB_YAML_OVERRIDE : 0;
    L->stack[L->depth++] = node;
    return 0;
}

static int on_alias(loader *L, const yaml_event_t *ev) {
    const char *name = (const char *)ev->data.alias.anchor;
    const yaml_mark_t *m = &ev->start_mark;
    char q[128];
    uint32_t idx;
    if (!table_get(&L->anchors, 0, NO_INDEX, name, strlen(name), &idx))
        return fail_at(L, (int)m->line + 1, (int)m->column + 1, "unknown anchor \"%s\" referenced",
                       quoted(q, sizeof q, name, strlen(name)));
    ynode *target = L->nodes[idx];
    if (target->open)
        return fail_at(L, (int)m->line + 1, (int)m->column + 1,
                       "anchor \"%s\" value contains itself",
                       quoted(q, sizeof q, name, strlen(name)));
    ynode *node;
    if (new_node(L, ev, N_ALIAS, NULL, &node) < 0) return -1;
    node->target = target;
    return 0;
}

/* line and column (1-based, in characters) of a byte offset of the text */
static void position_of(const loader *L, size_t offset, int *line, int *col) {
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < offset && i < L->len; i++) {
        if (L->text[i] == '\n')
            (*line)++, *col = 1;
        else if (((unsigned char)L->text[i] & 0xc0) != 0x80)
            (*col)++;
    }
}

static int parser_error(loader *L, const yaml_parser_t *p) {
    const char *problem = p->problem ? p->problem : "unknown problem parsing YAML";
    if (p->error == YAML_MEMORY_ERROR)
        return wb_error_set(L->err, ENOMEM, "%s: out of memory reading YAML", L->file);
    if (p->error == YAML_READER_ERROR) {
        int line, col;
        position_of(L, p->problem_offset, &line, &col);
        if (p->problem_value >= 0)
            return fail_at(L, line, col, "%s #x%02X", problem, (unsigned)p->problem_value);
        return fail_at(L, line, col, "%s", problem);
    }
    int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
    if (p->context)
        return fail_at(L, line, col, "%s (%s at line %d, column %d)", problem, p->context,
                       (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    return fail_at(L, line, col, "%s", problem);
}

static int parse(loader *L) {
    yaml_parser_t parser;
    if (!fns.yaml_parser_initialize(&parser))
        return wb_error_set(L->err, ENOMEM, "%s: out of memory reading YAML", L->file);
    fns.yaml_parser_set_input_string(&parser, (const unsigned char *)L->text, L->len);
    int rc = 0;
    for (bool done = false; !done && rc == 0;) {
        yaml_event_t ev;
        if (!fns.yaml_parser_parse(&parser, &ev)) {
            rc = parser_error(L, &parser);
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT: done = true; break;
        case YAML_DOCUMENT_START_EVENT:
            if (L->docs++)
                rc = fail_at(L, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                             "more than one YAML document in the file (a Compose file holds one)");
            break;
        case YAML_SCALAR_EVENT: rc = on_scalar(L, &ev); break;
        case YAML_SEQUENCE_START_EVENT: rc = on_collection(L, &ev, N_SEQ); break;
        case YAML_MAPPING_START_EVENT: rc = on_collection(L, &ev, N_MAP); break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: L->stack[--L->depth]->open = false; break;
        case YAML_ALIAS_EVENT: rc = on_alias(L, &ev); break;
        default: break;
        }
        fns.yaml_event_delete(&ev);
    }
    fns.yaml_parser_delete(&parser);
    return rc;
}

/* ---- tree → JSON ---- */

static const ynode *deref(const ynode *n) {
    return n->kind == N_ALIAS ? n->target : n;
}

static const char *kind_name(int kind) {
    return kind == N_MAP ? "a mapping" : kind == N_SEQ ? "a sequence" : "a scalar";
}

static int count(loader *L, const ynode *at, size_t bytes) {
    if (++L->built > WB_YAML_MAX_NODES)
        return fail_node(L, at,
                         "the document has more than %d nodes once aliases and merge keys "
                         "are expanded",
                         WB_YAML_MAX_NODES);
    L->bytes += bytes;
    if (L->bytes > MAX_EXPANDED_BYTES)
        return fail_node(L, at,
                         "the document has more than %u MiB of text once aliases and "
                         "merge keys are expanded",
                         MAX_EXPANDED_BYTES >> 20);
    return 0;
}

static uint32_t add_record(loader *L, uint32_t parent, const char *key, size_t len, uint32_t index,
                           int line, unsigned tags) {
    WB_VEC_RESERVE(L->recs, L->caprecs, L->nrecs + 1);
    uint32_t id = (uint32_t)L->nrecs++;
    L->recs[id] = (record){line, tags};
    table_put(&L->index, parent, index, key, len, id);
    return id;
}

/* A mapping's members as they will be in the object: `key` as written (for its line), `name` the
 * scalar it stands for. */
typedef struct member {
    const ynode *key, *name, *value;
} member;

typedef struct members {
    member *v;
    size_t n, cap;
    table names; /* name → position */
} members;

static void members_release(members *m) {
    free(m->v);
    table_release(&m->names);
}

static void members_add(members *m, const ynode *key, const ynode *name, const ynode *value) {
    WB_VEC_RESERVE(m->v, m->cap, m->n + 1);
    table_put(&m->names, 0, NO_INDEX, name->text, name->len, (uint32_t)m->n);
    m->v[m->n++] = (member){key, name, value};
}

static bool members_has(const members *m, const ynode *name) {
    uint32_t pos;
    return table_get(&m->names, 0, NO_INDEX, name->text, name->len, &pos);
}

static int effective_members(loader *L, const ynode *map, members *out, int merge_depth);

/* The members a merge key's value brings to `out`: not those in `own`, nor those already there. */
static int merge_into(loader *L, const ynode *value, const members *own, members *out,
                      int merge_depth) {
    const ynode *src = deref(value);
    const ynode *const *sources = (const ynode *const *)&src;
    size_t nsources = 1;
    if (src->kind == N_SEQ) {
        sources = (const ynode *const *)src->kids;
        nsources = src->nkids;
    }
    for (size_t i = 0; i < nsources; i++) {
        const ynode *s = deref(sources[i]);
        if (s->kind != N_MAP)
            return fail_node(L, src->kind == N_SEQ ? sources[i] : value,
                             "map merge requires map or sequence of maps as the value");
        members sub = {0};
        int rc = effective_members(L, s, &sub, merge_depth + 1);
        for (size_t j = 0; rc == 0 && j < sub.n; j++) {
            rc = count(L, sub.v[j].key, 0);
            if (rc == 0 && !members_has(own, sub.v[j].name) && !members_has(out, sub.v[j].name))
                members_add(out, sub.v[j].key, sub.v[j].name, sub.v[j].value);
        }
        members_release(&sub);
        if (rc < 0) return -1;
    }
    return 0;
}

/* The members of a mapping after its merge keys: its own keys win, then the merged mappings in
 * order; merged members take the place of their `<<`. Checks keys (scalars, no duplicates). */
static int effective_members(loader *L, const ynode *map, members *out, int merge_depth) {
    char q[128];
    if (merge_depth > WB_YAML_MAX_DEPTH)
        return fail_node(L, map, "merge keys nested deeper than %d levels", WB_YAML_MAX_DEPTH);
    if (count(L, map, 0) < 0) return -1;
    members own = {0};
    const ynode *merge_key = NULL;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i + 1 < map->nkids; i += 2) {
        const ynode *key = map->kids[i], *name = deref(key);
        if (name->kind != N_SCALAR) {
            rc = fail_node(L, key, "a mapping key must be a scalar, not %s", kind_name(name->kind));
        } else if (key->kind == N_SCALAR && key->merge) {
            if (merge_key)
                rc = fail_node(L, key, "mapping key \"<<\" already defined at line %d",
                               merge_key->line);
            merge_key = key;
        } else {
            uint32_t pos;
            if (table_get(&own.names, 0, NO_INDEX, name->text, name->len, &pos))
                rc = fail_node(L, key, "mapping key \"%s\" already defined at line %d",
                               quoted(q, sizeof q, name->text, name->len), own.v[pos].key->line);
            else
                members_add(&own, key, name, map->kids[i + 1]);
        }
    }
    for (size_t i = 0; rc == 0 && i + 1 < map->nkids; i += 2) {
        const ynode *key = map->kids[i];
        if (key->kind == N_SCALAR && key->merge)
            rc = merge_into(L, map->kids[i + 1], &own, out, merge_depth);
        else
            members_add(out, key, deref(key), map->kids[i + 1]);
    }
    members_release(&own);
    return rc;
}

static int build(loader *L, const ynode *node, uint32_t rec, int enclosing, json_t **out);

static int build_map(loader *L, const ynode *n, uint32_t rec, int enclosing, json_t **out) {
    members m = {0};
    if (effective_members(L, n, &m, 0) < 0) {
        members_release(&m);
        return -1;
    }
    json_t *obj = json_object();
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < m.n; i++) {
        const member *e = &m.v[i];
        json_t *v = NULL;
        rc = count(L, e->key, e->name->len);
        if (rc < 0) break;
        uint32_t r = add_record(L, rec, e->name->text, e->name->len, NO_INDEX, e->key->line,
                                deref(e->value)->tags);
        rc = build(L, e->value, r, enclosing + 1, &v);
        if (rc == 0 && json_object_set_new(obj, e->name->text, v) < 0)
            rc = fail_node(L, e->key, "a key is not valid UTF-8");
    }
    members_release(&m);
    if (rc < 0) {
        json_decref(obj);
        return -1;
    }
    *out = obj;
    return 0;
}

/* The JSON of node (an alias: of its anchor's node), whose record is rec; `enclosing` collections
 * hold it. */
static int build(loader *L, const ynode *node, uint32_t rec, int enclosing, json_t **out) {
    const ynode *n = deref(node);
    if (count(L, node, n->len) < 0) return -1;
    if (n->kind == N_SCALAR) {
        *out = json_copy(n->value);
        return 0;
    }
    if (enclosing + 1 > WB_YAML_MAX_DEPTH)
        return fail_node(L, node, "nesting deeper than %d levels once aliases are expanded",
                         WB_YAML_MAX_DEPTH);
    if (n->kind == N_MAP) return build_map(L, n, rec, enclosing, out);
    json_t *arr = json_array();
    for (size_t i = 0; i < n->nkids; i++) {
        const ynode *item = n->kids[i];
        json_t *v;
        uint32_t r = add_record(L, rec, NULL, 0, (uint32_t)i, item->line, deref(item)->tags);
        if (build(L, item, r, enclosing + 1, &v) < 0) {
            json_decref(arr);
            return -1;
        }
        json_array_append_new(arr, v);
    }
    *out = arr;
    return 0;
}

static void loader_release(loader *L) {
    free_nodes(L->nodes, L->nnodes);
    for (size_t i = 0; i < L->nnames; i++) free(L->names[i]);
    free(L->names);
    table_release(&L->anchors);
    free(L->recs);
    table_release(&L->index);
}

int wb_yaml_load(const char *text, size_t len, const char *filename, wb_yaml_doc **out,
                 wb_error *err) {
    *out = NULL;
    if (len > WB_YAML_MAX_INPUT)
        return wb_error_set(err, EFBIG,
                            "%s: %zu bytes, more than the %u MiB a Compose file may have", filename,
                            len, WB_YAML_MAX_INPUT >> 20);
    pthread_once(&once, load_libyaml);
    if (!loaded) return wb_error_set(err, ENOENT, "%s: %s", filename, why);
    loader L = {.file = filename, .text = text, .len = len, .err = err};
    json_t *root = NULL;
    int rc = parse(&L);
    if (rc == 0) {
        /* the anchors are not needed past the text */
        for (size_t i = 0; i < L.nnames; i++) free(L.names[i]);
        free(L.names);
        L.names = NULL;
        L.nnames = 0;
        table_release(&L.anchors);
        uint32_t r = add_record(&L, NO_INDEX, NULL, 0, NO_INDEX, L.root ? L.root->line : 0,
                                L.root ? L.root->tags : 0);
        if (L.root)
            rc = build(&L, L.root, r, 0, &root);
        else
            root = json_null();
    }
    if (rc < 0) {
        loader_release(&L);
        return -1;
    }
    wb_yaml_doc *d = wb_calloc(1, sizeof *d);
    d->root = root;
    d->nodes = L.nodes;
    d->nnodes = L.nnodes;
    d->recs = L.recs;
    d->nrecs = L.nrecs;
    d->index = L.index;
    *out = d;
    return 0;
}

json_t *wb_yaml_root(const wb_yaml_doc *d) {
    return d->root;
}

void wb_yaml_free(wb_yaml_doc *d) {
    if (!d) return;
    json_decref(d->root);
    free_nodes(d->nodes, d->nnodes);
    free(d->recs);
    table_release(&d->index);
    free(d);
}

/* ---- lookups by path ---- */

static int64_t find_path(const wb_yaml_doc *d, uint32_t rec, const char *p, int *budget);

/* p starts with a key, which may itself contain '.' or '[': every split is tried, longest first. */
static int64_t find_key(const wb_yaml_doc *d, uint32_t rec, const char *p, int *budget) {
    for (size_t e = strlen(p) + 1; e-- > 0;) {
        if (p[e] != 0 && p[e] != '.' && p[e] != '[') continue;
        uint32_t child;
        if (--*budget < 0) return -1;
        if (!table_get(&d->index, rec, NO_INDEX, p, e, &child)) continue;
        const char *rest = p + e;
        int64_t found = !*rest         ? child
                        : *rest == '.' ? find_key(d, child, rest + 1, budget)
                                       : find_path(d, child, rest, budget);
        if (found >= 0) return found;
    }
    return -1;
}

static int64_t find_path(const wb_yaml_doc *d, uint32_t rec, const char *p, int *budget) {
    if (!*p) return rec;
    if (*p != '[') return find_key(d, rec, p, budget);
    uint64_t index = 0;
    const char *q = p + 1;
    if (!is_digit(*q)) return -1;
    for (; is_digit(*q); q++) {
        index = index * 10 + (uint64_t)(*q - '0');
        if (index >= NO_INDEX) return -1;
    }
    uint32_t child;
    if (*q != ']' || !table_get(&d->index, rec, (uint32_t)index, NULL, 0, &child)) return -1;
    q++;
    if (*q == '.') return find_key(d, child, q + 1, budget);
    if (*q && *q != '[') return -1;
    return find_path(d, child, q, budget);
}

static const record *lookup(const wb_yaml_doc *d, const char *path) {
    int budget = 10000; /* splits tried, for keys full of dots */
    int64_t r = d && path ? find_path(d, 0, path, &budget) : -1;
    return r >= 0 ? &d->recs[r] : NULL;
}

int wb_yaml_line(const wb_yaml_doc *d, const char *path) {
    const record *r = lookup(d, path);
    return r ? r->line : 0;
}

unsigned wb_yaml_tags(const wb_yaml_doc *d, const char *path) {
    const record *r = lookup(d, path);
    return r ? r->tags : 0;
}

/* ---- JSON → YAML ---- */

typedef wb_strbuf text;

static void put(text *t, const char *s, size_t n) {
    wb_strbuf_putn(t, s, n);
}

static void put_str(text *t, const char *s) {
    put(t, s, strlen(s));
}

static void put_spaces(text *t, int n) {
    static const char sp[] = "                                ";
    for (; n > 0; n -= 32) put(t, sp, n < 32 ? (size_t)n : 32);
}

/* The next code point of valid UTF-8 (jansson's strings are); -1 for an invalid sequence. */
static int32_t next_cp(const unsigned char *s, size_t n, size_t *i) {
    unsigned char c = s[*i];
    int len = c < 0x80             ? 1
              : (c & 0xe0) == 0xc0 ? 2
              : (c & 0xf0) == 0xe0 ? 3
              : (c & 0xf8) == 0xf0 ? 4
                                   : 0;
    if (!len || *i + (size_t)len > n) return -1;
    int32_t cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    for (int k = 1; k < len; k++) {
        if ((s[*i + (size_t)k] & 0xc0) != 0x80) return -1;
        cp = cp << 6 | (s[*i + (size_t)k] & 0x3f);
    }
    *i += (size_t)len;
    return cp;
}

/* A character that may stand as itself in a plain or literal scalar: printable to libyaml's
 * reader and no line break or BOM to its scanner. */
static bool plain_char(int32_t c) {
    return (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xd7ff && c != 0x2028 && c != 0x2029) ||
           (c >= 0xe000 && c <= 0xfffd && c != 0xfeff) || (c >= 0x10000 && c <= 0x10ffff);
}

/* go-yaml's isBase60Float: ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$ (YAML 1.1 readers
 * take `1:20` for 80) */
static bool base60(const char *s, size_t n) {
    size_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    if (i >= n || !is_digit(s[i])) return false;
    while (i < n && (is_digit(s[i]) || s[i] == '_')) i++;
    int groups = 0;
    while (i < n && s[i] == ':') {
        i++;
        if (i + 1 < n && s[i] >= '0' && s[i] <= '5' && is_digit(s[i + 1]))
            i += 2;
        else if (i < n && is_digit(s[i]))
            i++;
        else
            return false;
        groups++;
    }
    if (!groups) return false;
    if (i < n && s[i] == '.')
        for (i++; i < n && (is_digit(s[i]) || s[i] == '_');) i++;
    return i == n;
}

/* Whether s can be written plain and read back as the same string, by us, by go-yaml and by YAML
 * 1.1 readers. */
static bool plain_ok(const char *s, size_t n) {
    static const char *const old_bools[] = {"y",  "Y",  "yes", "Yes", "YES", "n",   "N",   "no",
                                            "No", "NO", "on",  "On",  "ON",  "off", "Off", "OFF"};
    if (n == 0 || s[0] == ' ' || s[n - 1] == ' ' || s[n - 1] == ':') return false;
    if (strchr("-?:,[]{}#&*!|>'\"%@`", s[0]) &&
        !((s[0] == '-' || s[0] == '?' || s[0] == ':') && n > 1 && s[1] != ' '))
        return false;
    if (n >= 3 && (memcmp(s, "---", 3) == 0 || memcmp(s, "...", 3) == 0)) return false;
    for (size_t i = 0; i < n;) {
        char c = s[i];
        if ((c == ':' && i + 1 < n && s[i + 1] == ' ') ||
            (c == ' ' && i + 1 < n && s[i + 1] == '#'))
            return false;
        if (!plain_char(next_cp((const unsigned char *)s, n, &i))) return false;
    }
    scalar r;
    resolve(s, n, &r);
    if (r.kind != R_STR) return false;
    for (size_t i = 0; i < sizeof old_bools / sizeof old_bools[0]; i++)
        if (strlen(old_bools[i]) == n && memcmp(old_bools[i], s, n) == 0) return false;
    if (base60(s, n)) return false;
    /* timestamps, which go-yaml quotes: all start with YYYY- */
    if (n >= 5 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) &&
        s[4] == '-')
        return false;
    return !(n == 2 && s[0] == '<' && s[1] == '<');
}

/* Whether s reads back from a literal block: several lines of plain characters (tabs allowed), no
 * trailing blanks, a first non-empty line that does not start with a blank (the indentation is
 * detected from it). */
static bool literal_ok(const char *s, size_t n) {
    if (!memchr(s, '\n', n)) return false;
    bool seen_text = false;
    for (size_t i = 0; i < n;) {
        size_t start = i;
        while (i < n && s[i] != '\n') {
            int32_t c = next_cp((const unsigned char *)s, n, &i);
            if (c != '\t' && !plain_char(c)) return false;
        }
        if (i > start) {
            if (s[i - 1] == ' ' || s[i - 1] == '\t') return false;
            if (!seen_text && (s[start] == ' ' || s[start] == '\t')) return false;
            seen_text = true;
        }
        if (i < n) i++; /* the '\n' */
    }
    return seen_text;
}

static void put_double_quoted(text *t, const char *s, size_t n) {
    put(t, "\"", 1);
    for (size_t i = 0; i < n;) {
        size_t start = i;
        int32_t c = next_cp((const unsigned char *)s, n, &i);
        char esc[16];
        if (c < 0) { /* not UTF-8 (a json_stringn_nocheck string): U+FFFD */
            put_str(t, "\\uFFFD");
            i = start + 1;
        } else if (c == '"')
            put_str(t, "\\\"");
        else if (c == '\\')
            put_str(t, "\\\\");
        else if (c == '\n')
            put_str(t, "\\n");
        else if (c == '\t')
            put_str(t, "\\t");
        else if (c == '\r')
            put_str(t, "\\r");
        else if (c == 0)
            put_str(t, "\\0");
        else if (c == 0x85)
            put_str(t, "\\N");
        else if (c == 0x2028)
            put_str(t, "\\L");
        else if (c == 0x2029)
            put_str(t, "\\P");
        else if (c < 0x20 || (c >= 0x7f && c < 0xa0)) {
            snprintf(esc, sizeof esc, "\\x%02X", (unsigned)c);
            put_str(t, esc);
        } else if (!plain_char(c)) {
            snprintf(esc, sizeof esc, "\\u%04X", (unsigned)c);
            put_str(t, esc);
        } else
            put(t, s + start, i - start);
    }
    put(t, "\"", 1);
}

/* A string value after "key:" or "-" at column `indent`, up to its line end. */
static void put_string(text *t, const char *s, size_t n, int indent) {
    if (plain_ok(s, n)) {
        put(t, " ", 1);
        put(t, s, n);
        put(t, "\n", 1);
        return;
    }
    if (!literal_ok(s, n)) {
        put(t, " ", 1);
        put_double_quoted(t, s, n);
        put(t, "\n", 1);
        return;
    }
    size_t trailing = 0;
    while (trailing < n && s[n - 1 - trailing] == '\n') trailing++;
    put_str(t, trailing == 0 ? " |-\n" : trailing == 1 ? " |\n" : " |+\n");
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - s) : n;
        if (end > i) {
            put_spaces(t, indent + 2);
            put(t, s + i, end - i);
        }
        put(t, "\n", 1);
        i = end + 1;
        if (!nl) break;
    }
}

static void put_key(text *t, const char *k, size_t n, int indent) {
    text repr = {0};
    if (plain_ok(k, n))
        put(&repr, k, n);
    else
        put_double_quoted(&repr, k, n);
    /* libyaml looks no further than 1024 characters for the ':' of an implicit key */
    if (repr.len > 1000) {
        put(t, "? ", 2);
        put(t, repr.s, repr.len);
        put(t, "\n", 1);
        put_spaces(t, indent);
        put(t, ":", 1);
    } else {
        put(t, repr.s, repr.len);
        put(t, ":", 1);
    }
    free(repr.s);
}

typedef struct dumper {
    text out;
    wb_error *err;
} dumper;

static int put_object(dumper *D, const json_t *obj, int indent, bool inline_first, int level);
static int put_array(dumper *D, const json_t *arr, int indent, bool inline_first, int level);

/* v after "key:" (item = false) or "-" (item = true) written at column `indent`. */
static int put_value(dumper *D, const json_t *v, int indent, bool item, int level) {
    text *t = &D->out;
    char num[64];
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        if (!json_object_size(v)) {
            put_str(t, " {}\n");
            return 0;
        }
        put_str(t, item ? " " : "\n");
        return put_object(D, v, indent + 2, item, level + 1);
    case JSON_ARRAY:
        if (!json_array_size(v)) {
            put_str(t, " []\n");
            return 0;
        }
        put_str(t, item ? " " : "\n");
        return put_array(D, v, indent + 2, item, level + 1);
    case JSON_STRING: put_string(t, json_string_value(v), json_string_length(v), indent); return 0;
    case JSON_INTEGER:
        snprintf(num, sizeof num, " %" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
        put_str(t, num);
        return 0;
    case JSON_REAL: {
        double d = json_real_value(v);
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(num, sizeof num, " %.*g", prec, d);
            if (strtod(num, NULL) == d) break;
        }
        if (!strpbrk(num, ".eEn")) strcat(num, ".0"); /* stays a float */
        strcat(num, "\n");
        put_str(t, num);
        return 0;
    }
    case JSON_TRUE: put_str(t, " true\n"); return 0;
    case JSON_FALSE: put_str(t, " false\n"); return 0;
    default: put_str(t, " null\n"); return 0;
    }
}

static int too_deep(dumper *D) {
    return wb_error_set(D->err, EINVAL, "YAML dump: nesting deeper than %d levels",
                        WB_YAML_MAX_DEPTH);
}

static int put_object(dumper *D, const json_t *obj, int indent, bool inline_first, int level) {
    if (level > WB_YAML_MAX_DEPTH) return too_deep(D);
    const char *key;
    const json_t *v;
    bool first = true;
    json_object_foreach((json_t *)obj, key, v) {
        if (!(first && inline_first)) put_spaces(&D->out, indent);
        first = false;
        put_key(&D->out, key, strlen(key), indent);
        if (put_value(D, v, indent, false, level) < 0) return -1;
    }
    return 0;
}

static int put_array(dumper *D, const json_t *arr, int indent, bool inline_first, int level) {
    if (level > WB_YAML_MAX_DEPTH) return too_deep(D);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        if (i || !inline_first) put_spaces(&D->out, indent);
        put(&D->out, "-", 1);
        if (put_value(D, json_array_get(arr, i), indent, true, level) < 0) return -1;
    }
    return 0;
}

char *wb_yaml_dump(const json_t *v, wb_error *err) {
    dumper D = {.err = err};
    int rc = 0;
    if (!v) {
        wb_error_set(err, EINVAL, "YAML dump: no value");
        return NULL;
    }
    if (json_is_object(v) && json_object_size(v)) {
        rc = put_object(&D, v, 0, false, 1);
    } else if (json_is_array(v) && json_array_size(v)) {
        rc = put_array(&D, v, 0, false, 1);
    } else {
        /* a scalar (or an empty collection) alone: as a value, without its leading space */
        rc = put_value(&D, v, 0, false, 0);
        if (D.out.len && D.out.s[0] == ' ') memmove(D.out.s, D.out.s + 1, D.out.len--);
    }
    if (rc < 0) {
        free(D.out.s);
        return NULL;
    }
    if (!D.out.s) put(&D.out, "", 0);
    return D.out.s;
}
