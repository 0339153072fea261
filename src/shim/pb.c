/* The protobuf reader and writer of shim/pb.h: one recursive reader driven by the field tables,
 * and a size-first writer (a message's length prefix needs its size before its bytes). */
#include "shim/pb.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

enum {
    WIRE_VARINT = 0,
    WIRE_I64 = 1,
    WIRE_LEN = 2,
    WIRE_SGROUP = 3,
    WIRE_EGROUP = 4,
    WIRE_I32 = 5
};

/* What malloc costs beyond the bytes asked for, counted against WB_PB_MAX_DECODED. */
#define ALLOC_OVERHEAD 16

/* ---- varints ---- */

size_t wb_pb_varint_size(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

size_t wb_pb_put_varint(uint8_t *p, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

int wb_pb_get_varint(const uint8_t *p, const uint8_t *end, uint64_t *v) {
    uint64_t x = 0;
    for (int i = 0; i < 10; i++) {
        if (p + i >= end) return 0;
        uint8_t b = p[i];
        /* the tenth byte holds bit 63 only: anything more overflows 64 bits (Go refuses it too) */
        if (i == 9 && b > 1) return -1;
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = x;
            return i + 1;
        }
    }
    return -1;
}

/* ---- reading ---- */

/* One step of the path to the field being read, for messages: "rootfs[2].options[0]". */
typedef struct path_step {
    uint32_t number;
    const char *name; /* NULL for an unknown field */
    bool repeated;
    size_t index;
} path_step;

typedef struct decoder {
    const wb_pb_table *top;
    const uint8_t *base; /* start of the whole input, for offsets in messages */
    size_t allocated;    /* bytes charged against WB_PB_MAX_DECODED */
    wb_error *err;
    int npath;
    path_step path[WB_PB_MAX_DEPTH + 2];
} decoder;

static void append(char *buf, size_t cap, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t cap, size_t *n, const char *fmt, ...) {
    if (*n >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *n, cap - *n, fmt, ap);
    va_end(ap);
    if (k > 0) *n += (size_t)k;
}

/* Fill err: "TOP: PATH (field N): PROBLEM at byte OFFSET", the path being where d is. */
__attribute__((format(printf, 4, 5))) static int fail(decoder *d, int code, const uint8_t *at,
                                                      const char *fmt, ...) {
    char problem[256], path[WB_ERROR_MSG_MAX];
    size_t n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, fmt, ap);
    va_end(ap);
    path[0] = 0;
    for (int i = 0; i < d->npath; i++) {
        const path_step *s = &d->path[i];
        if (i) append(path, sizeof path, &n, ".");
        if (s->name)
            append(path, sizeof path, &n, "%s", s->name);
        else
            append(path, sizeof path, &n, "field %u (unknown)", s->number);
        if (s->repeated) append(path, sizeof path, &n, "[%zu]", s->index);
        if (i == d->npath - 1 && s->name) append(path, sizeof path, &n, " (field %u)", s->number);
    }
    return wb_error_set(d->err, code, "%s: %s%s%s at byte %zu", d->top->name, path, n ? ": " : "",
                        problem, (size_t)(at - d->base));
}

static int charge(decoder *d, const uint8_t *at, size_t n) {
    if (n > WB_PB_MAX_DECODED || d->allocated + n + ALLOC_OVERHEAD > WB_PB_MAX_DECODED)
        return fail(d, EMSGSIZE, at, "decoded message would take more than %u bytes of memory",
                    WB_PB_MAX_DECODED);
    d->allocated += n + ALLOC_OVERHEAD;
    return 0;
}

static int read_varint(decoder *d, const uint8_t **p, const uint8_t *end, uint64_t *v) {
    int n = wb_pb_get_varint(*p, end, v);
    if (n == 0) return fail(d, EINVAL, *p, "truncated varint");
    if (n < 0) return fail(d, EINVAL, *p, "varint longer than 10 bytes or beyond 64 bits");
    *p += n;
    return 0;
}

/* A length prefix and the body it announces: *body, *len; *p moves past the body. */
static int read_len(decoder *d, const uint8_t **p, const uint8_t *end, const uint8_t **body,
                    size_t *len) {
    const uint8_t *at = *p;
    uint64_t n;
    if (read_varint(d, p, end, &n) < 0) return -1;
    if (n > (uint64_t)(end - *p))
        return fail(d, EINVAL, at, "length %llu runs past the end of its message (%zu bytes left)",
                    (unsigned long long)n, (size_t)(end - *p));
    *body = *p;
    *len = (size_t)n;
    *p += n;
    return 0;
}

static int skip_field(decoder *d, unsigned wire, const uint8_t **p, const uint8_t *end) {
    uint64_t v;
    const uint8_t *body;
    size_t len;
    switch (wire) {
    case WIRE_VARINT: return read_varint(d, p, end, &v);
    case WIRE_I64:
    case WIRE_I32: {
        size_t n = wire == WIRE_I64 ? 8 : 4;
        if ((size_t)(end - *p) < n) return fail(d, EINVAL, *p, "truncated %zu-byte field", n);
        *p += n;
        return 0;
    }
    case WIRE_LEN: return read_len(d, p, end, &body, &len);
    case WIRE_SGROUP:
    case WIRE_EGROUP: return fail(d, EINVAL, *p, "groups (wire type %u) are not supported", wire);
    default: return fail(d, EINVAL, *p, "invalid wire type %u", wire);
    }
}

/* A malloc'd NUL-terminated copy of body[0..len), charged to the budget. */
static int copy_string(decoder *d, const uint8_t *body, size_t len, bool nul_ok, char **out) {
    if (!nul_ok && memchr(body, 0, len)) return fail(d, EINVAL, body, "string holds a NUL byte");
    if (charge(d, body, len + 1) < 0) return -1;
    char *s = wb_malloc(len + 1);
    memcpy(s, body, len);
    s[len] = '\0';
    *out = s;
    return 0;
}

/* Make room for one more element in an array of count elements: the capacity is implied by the
 * count (4, then powers of two), as only this reader grows the arrays it decodes into. */
static int grow(decoder *d, const uint8_t *at, void **items, size_t count, size_t elem) {
    if (count != 0 && (count < 4 || (count & (count - 1)) != 0)) return 0;
    size_t cap = count ? count * 2 : 4;
    if (cap > WB_PB_MAX_DECODED / elem) return charge(d, at, WB_PB_MAX_DECODED);
    if (charge(d, at, (cap - count) * elem) < 0) return -1;
    *items = wb_reallocarray(*items, cap, elem);
    return 0;
}

static int decode_message(decoder *d, const wb_pb_table *t, const uint8_t *p, const uint8_t *end,
                          void *out, int depth);

static const wb_pb_field map_entry_fields[] = {
    {1, WB_PB_STRING, "key", offsetof(wb_pb_map_entry, key), 0, NULL},
    {2, WB_PB_STRING, "value", offsetof(wb_pb_map_entry, value), 0, NULL},
};
static const wb_pb_table map_entry_table = {"map<string,string> entry", sizeof(wb_pb_map_entry),
                                            map_entry_fields, 2};

static unsigned wire_of(wb_pb_kind kind) {
    switch (kind) {
    case WB_PB_UINT32:
    case WB_PB_UINT64:
    case WB_PB_INT32:
    case WB_PB_INT64:
    case WB_PB_BOOL: return WIRE_VARINT;
    default: return WIRE_LEN;
    }
}

static int decode_varint_field(const wb_pb_field *f, uint64_t v, char *base) {
    void *slot = base + f->offset;
    switch (f->kind) {
    case WB_PB_UINT32: *(uint32_t *)slot = (uint32_t)v; break;
    case WB_PB_UINT64: *(uint64_t *)slot = v; break;
    case WB_PB_INT32: *(int32_t *)slot = (int32_t)(uint32_t)v; break;
    case WB_PB_INT64: *(int64_t *)slot = (int64_t)v; break;
    case WB_PB_BOOL: *(bool *)slot = v != 0; break;
    default: return -1;
    }
    return 0;
}

static int decode_len_field(decoder *d, const wb_pb_field *f, const uint8_t *body, size_t len,
                            char *base, int depth) {
    void *slot = base + f->offset;
    size_t *count = (size_t *)(base + f->count_offset);
    switch (f->kind) {
    case WB_PB_STRING: {
        char **s = slot, *copy = NULL;
        if (len && copy_string(d, body, len, false, &copy) < 0) return -1;
        free(*s);
        *s = copy;
        return 0;
    }
    case WB_PB_BYTES: {
        wb_pb_bytes *b = slot;
        char *copy = NULL;
        if (len && copy_string(d, body, len, true, &copy) < 0) return -1;
        free(b->data);
        b->data = (uint8_t *)copy;
        b->len = len;
        return 0;
    }
    case WB_PB_MESSAGE: {
        void **m = slot;
        if (!*m) {
            if (charge(d, body, f->sub->size) < 0) return -1;
            *m = wb_calloc(1, f->sub->size);
        }
        return decode_message(d, f->sub, body, body + len, *m, depth + 1);
    }
    case WB_PB_REPEATED_MESSAGE: {
        void **items = slot;
        if (grow(d, body, items, *count, f->sub->size) < 0) return -1;
        char *elem = (char *)*items + *count * f->sub->size;
        memset(elem, 0, f->sub->size);
        (*count)++; /* counted before it is filled, so that wb_pb_free reaches it on failure */
        return decode_message(d, f->sub, body, body + len, elem, depth + 1);
    }
    case WB_PB_REPEATED_STRING: {
        char ***items = slot;
        if (grow(d, body, (void **)items, *count, sizeof(char *)) < 0) return -1;
        char *copy;
        if (copy_string(d, body, len, false, &copy) < 0) return -1;
        (*items)[(*count)++] = copy;
        return 0;
    }
    case WB_PB_MAP_STRING: {
        wb_pb_map_entry **items = slot;
        if (grow(d, body, (void **)items, *count, sizeof(wb_pb_map_entry)) < 0) return -1;
        wb_pb_map_entry *e = &(*items)[(*count)++];
        *e = (wb_pb_map_entry){NULL, NULL};
        if (decode_message(d, &map_entry_table, body, body + len, e, depth + 1) < 0) return -1;
        /* an entry without key or value has the empty one */
        if (!e->key && charge(d, body, 1) == 0) e->key = wb_strdup("");
        if (!e->value && charge(d, body, 1) == 0) e->value = wb_strdup("");
        return e->key && e->value ? 0 : -1;
    }
    default: return -1;
    }
}

static const wb_pb_field *find_field(const wb_pb_table *t, uint64_t number) {
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].number == number) return &t->fields[i];
    return NULL;
}

static int decode_message(decoder *d, const wb_pb_table *t, const uint8_t *p, const uint8_t *end,
                          void *out, int depth) {
    if (depth > WB_PB_MAX_DEPTH)
        return fail(d, EMSGSIZE, p, "messages nested deeper than %d", WB_PB_MAX_DEPTH);
    while (p < end) {
        const uint8_t *at = p;
        uint64_t tag;
        if (read_varint(d, &p, end, &tag) < 0) return -1;
        uint64_t number = tag >> 3;
        unsigned wire = (unsigned)(tag & 7);
        if (number == 0 || number > WB_PB_MAX_FIELD_NO)
            return fail(d, EINVAL, at, "field number %llu out of range",
                        (unsigned long long)number);
        const wb_pb_field *f = find_field(t, number);
        path_step *step = &d->path[d->npath++];
        *step = (path_step){(uint32_t)number, f ? f->name : NULL, false, 0};
        int rc;
        if (!f) {
            rc = skip_field(d, wire, &p, end);
        } else if (wire != wire_of(f->kind)) {
            rc = fail(d, EINVAL, at, "wire type %u, expected %u", wire, wire_of(f->kind));
        } else if (wire == WIRE_VARINT) {
            uint64_t v;
            rc = read_varint(d, &p, end, &v);
            if (rc == 0) rc = decode_varint_field(f, v, out);
        } else {
            const uint8_t *body;
            size_t len;
            if (f->count_offset) {
                step->repeated = true;
                step->index = *(const size_t *)((const char *)out + f->count_offset);
            }
            rc = read_len(d, &p, end, &body, &len);
            if (rc == 0) rc = decode_len_field(d, f, body, len, out, depth);
        }
        if (rc < 0) return -1;
        d->npath--;
    }
    return 0;
}

int wb_pb_decode(const wb_pb_table *t, const uint8_t *buf, size_t len, void *out, wb_error *err) {
    if (len > WB_PB_MAX_SIZE)
        return wb_error_set(err, EMSGSIZE, "%s: %zu bytes, over the limit of %u", t->name, len,
                            WB_PB_MAX_SIZE);
    if (!buf) {
        if (len) return wb_error_set(err, EINVAL, "%s: no buffer for %zu bytes", t->name, len);
        buf = (const uint8_t *)"";
    }
    decoder d = {.top = t, .base = buf, .err = err};
    if (decode_message(&d, t, buf, buf + len, out, 1) < 0) {
        wb_pb_free(t, out);
        return -1;
    }
    return 0;
}

/* ---- freeing ---- */

void wb_pb_free(const wb_pb_table *t, void *msg) {
    if (!msg) return;
    char *base = msg;
    for (size_t i = 0; i < t->nfields; i++) {
        const wb_pb_field *f = &t->fields[i];
        void *slot = base + f->offset;
        size_t *count = (size_t *)(base + f->count_offset);
        switch (f->kind) {
        case WB_PB_STRING: free(*(char **)slot); break;
        case WB_PB_BYTES: free(((wb_pb_bytes *)slot)->data); break;
        case WB_PB_MESSAGE:
            wb_pb_free(f->sub, *(void **)slot);
            free(*(void **)slot);
            break;
        case WB_PB_REPEATED_MESSAGE: {
            char *items = *(char **)slot;
            for (size_t k = 0; k < *count; k++) wb_pb_free(f->sub, items + k * f->sub->size);
            free(items);
            break;
        }
        case WB_PB_REPEATED_STRING: {
            char **items = *(char ***)slot;
            for (size_t k = 0; k < *count; k++) free(items[k]);
            free(items);
            break;
        }
        case WB_PB_MAP_STRING: {
            wb_pb_map_entry *items = *(wb_pb_map_entry **)slot;
            for (size_t k = 0; k < *count; k++) {
                free(items[k].key);
                free(items[k].value);
            }
            free(items);
            break;
        }
        default: break;
        }
    }
    memset(msg, 0, t->size);
}

/* ---- writing ---- */

static uint64_t varint_value(const wb_pb_field *f, const char *base) {
    const void *slot = base + f->offset;
    switch (f->kind) {
    case WB_PB_UINT32: return *(const uint32_t *)slot;
    case WB_PB_UINT64: return *(const uint64_t *)slot;
    case WB_PB_INT32: return (uint64_t)(int64_t) * (const int32_t *)slot;
    case WB_PB_INT64: return (uint64_t) * (const int64_t *)slot;
    case WB_PB_BOOL: return *(const bool *)slot ? 1 : 0;
    default: return 0;
    }
}

static size_t str_len(const char *s) {
    return s ? strlen(s) : 0;
}

/* A length-delimited field of n bytes, tag included. */
static size_t len_field_size(size_t tag_size, size_t n) {
    return tag_size + wb_pb_varint_size(n) + n;
}

static size_t map_entry_size(const wb_pb_map_entry *e) {
    return len_field_size(1, str_len(e->key)) + len_field_size(1, str_len(e->value));
}

static size_t field_size(const wb_pb_field *f, const char *base) {
    size_t tag_size = wb_pb_varint_size((uint64_t)f->number << 3), total = 0;
    const void *slot = base + f->offset;
    size_t count = f->count_offset ? *(const size_t *)(base + f->count_offset) : 0;
    switch (f->kind) {
    case WB_PB_STRING: {
        size_t n = str_len(*(char *const *)slot);
        return n ? len_field_size(tag_size, n) : 0;
    }
    case WB_PB_BYTES: {
        size_t n = ((const wb_pb_bytes *)slot)->len;
        return n ? len_field_size(tag_size, n) : 0;
    }
    case WB_PB_MESSAGE: {
        const void *m = *(void *const *)slot;
        return m ? len_field_size(tag_size, wb_pb_size(f->sub, m)) : 0;
    }
    case WB_PB_REPEATED_MESSAGE: {
        const char *items = *(char *const *)slot;
        for (size_t k = 0; k < count; k++)
            total += len_field_size(tag_size, wb_pb_size(f->sub, items + k * f->sub->size));
        return total;
    }
    case WB_PB_REPEATED_STRING: {
        char *const *items = *(char **const *)slot;
        for (size_t k = 0; k < count; k++) total += len_field_size(tag_size, str_len(items[k]));
        return total;
    }
    case WB_PB_MAP_STRING: {
        const wb_pb_map_entry *items = *(wb_pb_map_entry *const *)slot;
        for (size_t k = 0; k < count; k++)
            total += len_field_size(tag_size, map_entry_size(&items[k]));
        return total;
    }
    default: {
        uint64_t v = varint_value(f, base);
        return v ? tag_size + wb_pb_varint_size(v) : 0;
    }
    }
}

size_t wb_pb_size(const wb_pb_table *t, const void *msg) {
    size_t total = 0;
    for (size_t i = 0; i < t->nfields; i++) total += field_size(&t->fields[i], msg);
    return total;
}

static size_t put_len_field(uint8_t *p, uint32_t number, const void *data, size_t n) {
    size_t k = wb_pb_put_varint(p, (uint64_t)number << 3 | WIRE_LEN);
    k += wb_pb_put_varint(p + k, n);
    if (n) memcpy(p + k, data, n);
    return k + n;
}

static size_t put_message_field(uint8_t *p, uint32_t number, const wb_pb_table *sub,
                                const void *m) {
    size_t k = wb_pb_put_varint(p, (uint64_t)number << 3 | WIRE_LEN);
    k += wb_pb_put_varint(p + k, wb_pb_size(sub, m));
    return k + wb_pb_encode(sub, m, p + k);
}

static size_t put_field(const wb_pb_field *f, const char *base, uint8_t *p) {
    const void *slot = base + f->offset;
    size_t count = f->count_offset ? *(const size_t *)(base + f->count_offset) : 0, k = 0;
    switch (f->kind) {
    case WB_PB_STRING: {
        const char *s = *(char *const *)slot;
        size_t n = str_len(s);
        return n ? put_len_field(p, f->number, s, n) : 0;
    }
    case WB_PB_BYTES: {
        const wb_pb_bytes *b = slot;
        return b->len ? put_len_field(p, f->number, b->data, b->len) : 0;
    }
    case WB_PB_MESSAGE: {
        const void *m = *(void *const *)slot;
        return m ? put_message_field(p, f->number, f->sub, m) : 0;
    }
    case WB_PB_REPEATED_MESSAGE: {
        const char *items = *(char *const *)slot;
        for (size_t i = 0; i < count; i++)
            k += put_message_field(p + k, f->number, f->sub, items + i * f->sub->size);
        return k;
    }
    case WB_PB_REPEATED_STRING: {
        char *const *items = *(char **const *)slot;
        for (size_t i = 0; i < count; i++)
            k += put_len_field(p + k, f->number, items[i], str_len(items[i]));
        return k;
    }
    case WB_PB_MAP_STRING: {
        const wb_pb_map_entry *items = *(wb_pb_map_entry *const *)slot;
        for (size_t i = 0; i < count; i++) {
            const wb_pb_map_entry *e = &items[i];
            k += wb_pb_put_varint(p + k, (uint64_t)f->number << 3 | WIRE_LEN);
            k += wb_pb_put_varint(p + k, map_entry_size(e));
            k += put_len_field(p + k, 1, e->key, str_len(e->key));
            k += put_len_field(p + k, 2, e->value, str_len(e->value));
        }
        return k;
    }
    default: {
        uint64_t v = varint_value(f, base);
        if (!v) return 0;
        k = wb_pb_put_varint(p, (uint64_t)f->number << 3 | WIRE_VARINT);
        return k + wb_pb_put_varint(p + k, v);
    }
    }
}

size_t wb_pb_encode(const wb_pb_table *t, const void *msg, uint8_t *buf) {
    size_t k = 0;
    for (size_t i = 0; i < t->nfields; i++) k += put_field(&t->fields[i], msg, buf + k);
    return k;
}

int wb_pb_encode_alloc(const wb_pb_table *t, const void *msg, uint8_t **out, size_t *len,
                       wb_error *err) {
    size_t n = wb_pb_size(t, msg);
    if (n > WB_PB_MAX_SIZE)
        return wb_error_set(err, EMSGSIZE, "%s: %zu bytes encoded, over the limit of %u", t->name,
                            n, WB_PB_MAX_SIZE);
    uint8_t *buf = wb_malloc(n ? n : 1);
    size_t written = wb_pb_encode(t, msg, buf);
    if (written != n) {
        free(buf);
        return wb_error_set(err, EINVAL, "%s: wrote %zu bytes, expected %zu", t->name, written, n);
    }
    *out = buf;
    *len = n;
    return 0;
}

/* ---- comparing, lookups, table checks ---- */

static bool str_equal(const char *a, const char *b) {
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool field_equal(const wb_pb_field *f, const char *a, const char *b) {
    const void *sa = a + f->offset, *sb = b + f->offset;
    size_t count = 0;
    if (f->count_offset) {
        count = *(const size_t *)(a + f->count_offset);
        if (count != *(const size_t *)(b + f->count_offset)) return false;
    }
    switch (f->kind) {
    case WB_PB_STRING: return str_equal(*(char *const *)sa, *(char *const *)sb);
    case WB_PB_BYTES: {
        const wb_pb_bytes *x = sa, *y = sb;
        return x->len == y->len && (!x->len || memcmp(x->data, y->data, x->len) == 0);
    }
    case WB_PB_MESSAGE: {
        const void *x = *(void *const *)sa, *y = *(void *const *)sb;
        if (!x || !y) return x == y;
        return wb_pb_equal(f->sub, x, y);
    }
    case WB_PB_REPEATED_MESSAGE: {
        const char *x = *(char *const *)sa, *y = *(char *const *)sb;
        for (size_t k = 0; k < count; k++)
            if (!wb_pb_equal(f->sub, x + k * f->sub->size, y + k * f->sub->size)) return false;
        return true;
    }
    case WB_PB_REPEATED_STRING: {
        char *const *x = *(char **const *)sa, *const *y = *(char **const *)sb;
        for (size_t k = 0; k < count; k++)
            if (!str_equal(x[k], y[k])) return false;
        return true;
    }
    case WB_PB_MAP_STRING: {
        const wb_pb_map_entry *x = *(wb_pb_map_entry *const *)sa;
        const wb_pb_map_entry *y = *(wb_pb_map_entry *const *)sb;
        for (size_t k = 0; k < count; k++)
            if (!str_equal(x[k].key, y[k].key) || !str_equal(x[k].value, y[k].value)) return false;
        return true;
    }
    default: return varint_value(f, a) == varint_value(f, b);
    }
}

bool wb_pb_equal(const wb_pb_table *t, const void *a, const void *b) {
    for (size_t i = 0; i < t->nfields; i++)
        if (!field_equal(&t->fields[i], a, b)) return false;
    return true;
}

const char *wb_pb_map_get(const wb_pb_map_entry *entries, size_t count, const char *key) {
    for (size_t k = count; k-- > 0;)
        if (str_equal(entries[k].key, key)) return entries[k].value ? entries[k].value : "";
    return NULL;
}

static size_t member_size(wb_pb_kind kind) {
    switch (kind) {
    case WB_PB_UINT32: return sizeof(uint32_t);
    case WB_PB_UINT64: return sizeof(uint64_t);
    case WB_PB_INT32: return sizeof(int32_t);
    case WB_PB_INT64: return sizeof(int64_t);
    case WB_PB_BOOL: return sizeof(bool);
    case WB_PB_BYTES: return sizeof(wb_pb_bytes);
    default: return sizeof(void *);
    }
}

static int check_table(const wb_pb_table *t, int depth, wb_error *err) {
    if (depth > WB_PB_MAX_DEPTH)
        return wb_error_set(err, EINVAL, "%s: tables nest too deep", t->name);
    for (size_t i = 0; i < t->nfields; i++) {
        const wb_pb_field *f = &t->fields[i];
        bool repeated = f->kind == WB_PB_REPEATED_MESSAGE || f->kind == WB_PB_REPEATED_STRING ||
                        f->kind == WB_PB_MAP_STRING;
        bool message = f->kind == WB_PB_MESSAGE || f->kind == WB_PB_REPEATED_MESSAGE;
        if (f->number == 0 || f->number > WB_PB_MAX_FIELD_NO)
            return wb_error_set(err, EINVAL, "%s.%s: field number %u", t->name, f->name, f->number);
        if (i > 0 && f->number <= t->fields[i - 1].number)
            return wb_error_set(err, EINVAL, "%s.%s: field %u not after field %u", t->name, f->name,
                                f->number, t->fields[i - 1].number);
        if (f->kind < WB_PB_UINT32 || f->kind > WB_PB_MAP_STRING)
            return wb_error_set(err, EINVAL, "%s.%s: kind %d", t->name, f->name, (int)f->kind);
        if (f->offset + member_size(f->kind) > t->size)
            return wb_error_set(err, EINVAL, "%s.%s: offset %zu outside the struct", t->name,
                                f->name, f->offset);
        if (repeated != (f->count_offset != 0) ||
            (repeated && f->count_offset + sizeof(size_t) > t->size))
            return wb_error_set(err, EINVAL, "%s.%s: count offset %zu", t->name, f->name,
                                f->count_offset);
        if (message != (f->sub != NULL))
            return wb_error_set(err, EINVAL, "%s.%s: sub-table", t->name, f->name);
        if (message && check_table(f->sub, depth + 1, err) < 0) return -1;
    }
    return 0;
}

int wb_pb_table_check(const wb_pb_table *t, wb_error *err) {
    return check_table(t, 1, err);
}
