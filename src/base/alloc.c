#include "base/alloc.h"

#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void *oom(size_t n) {
    fprintf(stderr, "wasmbox: out of memory allocating %zu bytes\n", n);
    abort();
}

void *wb_malloc(size_t n) {
    void *p = malloc(n ? n : 1);
    return p ? p : oom(n);
}

void *wb_calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return oom(SIZE_MAX);
    void *p = calloc(count ? count : 1, size ? size : 1);
    return p ? p : oom(count * size);
}

void *wb_realloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    return q ? q : oom(n);
}

void *wb_reallocarray(void *p, size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return oom(SIZE_MAX);
    return wb_realloc(p, count * size);
}

char *wb_strdup(const char *s) {
    return wb_strndup(s, strlen(s));
}

char *wb_strndup(const char *s, size_t n) {
    char *d = wb_malloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void wb_strbuf_putn(wb_strbuf *b, const char *s, size_t n) {
    WB_VEC_RESERVE(b->s, b->cap, b->len + n + 1);
    if (n) memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void wb_strbuf_puts(wb_strbuf *b, const char *s) {
    wb_strbuf_putn(b, s, strlen(s));
}

void wb_strbuf_putc(wb_strbuf *b, char c) {
    wb_strbuf_putn(b, &c, 1);
}

char *wb_strbuf_take(wb_strbuf *b) {
    if (!b->s) return wb_strdup("");
    char *s = b->s;
    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}

void wb_appendf(char **buf, size_t *len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    *buf = wb_realloc(*buf, *len + (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(*buf + *len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    *len += (size_t)n;
}
