/* base: what every part of the order service shares: a growable byte buffer whose failures are
 * sticky (append freely, check `oom` once), an error holding one message, and logging to
 * stderr. No stdio streams: write(2) straight to the descriptor. */
#ifndef MS_BASE_H
#define MS_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A byte buffer, always NUL-terminated when data is not NULL (the NUL is not counted in len).
 * The buffer owns data; buf_release frees it. After an allocation failure `oom` is set and
 * every later append does nothing, so a writer checks once at the end. */
typedef struct buf {
    char *data;
    size_t len, cap;
    int oom;
} buf;

void buf_init(buf *b);
void buf_release(buf *b);
/* Empties the buffer, keeping its memory (and clearing oom). */
void buf_reset(buf *b);
/* Room for `extra` more bytes; 0, or -1 (and oom set). */
int buf_reserve(buf *b, size_t extra);
/* buf_add's way when the bytes do not fit (or after a failure). */
void buf_add_slow(buf *b, const void *p, size_t n);
/* Appends are inline: they are most of what the service does per request, and a call costs
 * much in an interpreter. */
static inline void buf_add(buf *b, const void *p, size_t n) {
    if (n < b->cap - b->len && !b->oom) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
    } else {
        buf_add_slow(b, p, n);
    }
}
static inline void buf_addc(buf *b, char c) {
    if (b->len + 1 < b->cap && !b->oom) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
    } else {
        buf_add_slow(b, &c, 1);
    }
}
void buf_adds(buf *b, const char *s);
/* A string literal, its length known at compile time. */
#define BUF_ADD_LITERAL(b, lit) buf_add((b), "" lit, sizeof(lit) - 1)
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Decimal integers, without printf (which is slow in an interpreter). */
void buf_add_uint(buf *b, uint64_t v);
void buf_add_int(buf *b, int64_t v);
/* Drops the first n bytes (n <= len). */
void buf_consume(buf *b, size_t n);

/* An error: a message naming what failed, and a kind the caller may act on. */
typedef struct ms_error {
    int kind; /* module-specific (DB_ERR_* in mysql.h); 0 when not set */
    int code; /* a server or errno code, when there is one */
    char msg[512];
} ms_error;

/* Sets err's message (kind and code stay as they are) and returns -1. */
int ms_fail(ms_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Puts `context: ` in front of err's message; returns -1. */
int ms_wrap(ms_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One line on stderr, prefixed with the program name. */
void ms_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Milliseconds of a monotonic clock. */
int64_t ms_now(void);

#endif
