/* Allocation helpers. Out-of-memory on the host is not an input error: these abort with a message,
 * which is the one place library code may stop the process. Sizes read from untrusted input must be
 * checked against a limit *before* calling these (see wasm/limits.h). */
#ifndef WB_BASE_ALLOC_H
#define WB_BASE_ALLOC_H

#include <stddef.h>
#include <stdlib.h>

void *wb_malloc(size_t n);
void *wb_calloc(size_t count, size_t size); /* checks count*size for overflow */
void *wb_realloc(void *p, size_t n);
void *wb_reallocarray(void *p, size_t count, size_t size);
char *wb_strdup(const char *s);
char *wb_strndup(const char *s, size_t n);
/* Append printf-formatted text to the malloc'd string *buf of *len bytes (NULL/0 to start);
 * *buf stays NUL-terminated. */
void wb_appendf(char **buf, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A growing NUL-terminated string: zero-initialised, appended to, then taken (the caller owns
 * the text) or freed (free(b.s)). s stays NULL until the first append. */
typedef struct wb_strbuf {
    char *s;
    size_t len, cap;
} wb_strbuf;
void wb_strbuf_putn(wb_strbuf *b, const char *s, size_t n);
void wb_strbuf_puts(wb_strbuf *b, const char *s);
void wb_strbuf_putc(wb_strbuf *b, char c);
/* The text (malloc'd; "" when nothing was appended); b is empty again. */
char *wb_strbuf_take(wb_strbuf *b);

/* Grow a dynamic array so that it holds at least `need` elements (amortised doubling). */
#define WB_VEC_RESERVE(ptr, cap, need)                                                             \
    do {                                                                                           \
        if ((size_t)(need) > (size_t)(cap)) {                                                      \
            size_t wb_nc_ = (cap) ? (size_t)(cap)*2 : 8;                                           \
            while (wb_nc_ < (size_t)(need)) wb_nc_ *= 2;                                           \
            (ptr) = wb_reallocarray((ptr), wb_nc_, sizeof *(ptr));                                 \
            (cap) = wb_nc_;                                                                        \
        }                                                                                          \
    } while (0)

static inline void wb_freep(void *p) {
    free(*(void **)p);
}
#define WB_AUTOFREE __attribute__((cleanup(wb_freep)))

#endif
