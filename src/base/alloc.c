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
