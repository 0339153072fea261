/* base: buffers, errors and logging (see base.h). */
#include "base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void buf_init(buf *b) {
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

void buf_release(buf *b) {
    free(b->data);
    buf_init(b);
}

void buf_reset(buf *b) {
    b->len = 0;
    b->oom = 0;
    if (b->data) b->data[0] = '\0';
}

int buf_reserve(buf *b, size_t extra) {
    if (b->oom) return -1;
    if (extra < b->cap - b->len) return 0; /* room for extra bytes and the NUL */
    if (extra > SIZE_MAX / 2 - b->len) {
        b->oom = 1;
        return -1;
    }
    size_t want = b->len + extra + 1, cap = b->cap ? b->cap : 256;
    while (cap < want) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void buf_add_slow(buf *b, const void *p, size_t n) {
    if (buf_reserve(b, n) < 0) return;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void buf_adds(buf *b, const char *s) {
    buf_add(b, s, strlen(s));
}

void buf_printf(buf *b, const char *fmt, ...) {
    char small[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        buf_add(b, small, (size_t)n);
        return;
    }
    if (buf_reserve(b, (size_t)n) < 0) return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_add_uint(buf *b, uint64_t v) {
    char tmp[20];
    int n = 0;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    buf_add(b, tmp + sizeof tmp - n, (size_t)n);
}

void buf_add_int(buf *b, int64_t v) {
    if (v < 0) {
        buf_addc(b, '-');
        buf_add_uint(b, (uint64_t)0 - (uint64_t)v);
    } else {
        buf_add_uint(b, (uint64_t)v);
    }
}

void buf_consume(buf *b, size_t n) {
    if (n >= b->len) {
        buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

int ms_fail(ms_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int ms_wrap(ms_error *err, const char *fmt, ...) {
    char context[256], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(context, sizeof context, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    if (snprintf(err->msg, sizeof err->msg, "%s: %s", context, old) >= (int)sizeof err->msg)
        memcpy(err->msg + sizeof err->msg - 4, "...", 4); /* cut: say so */
    return -1;
}

void ms_log(const char *fmt, ...) {
    char line[1024];
    int n = snprintf(line, sizeof line, "order_demo_service: ");
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0) return;
    n += m;
    if ((size_t)n > sizeof line - 2) n = sizeof line - 2;
    line[n++] = '\n';
    for (int done = 0; done < n;) {
        ssize_t w = write(2, line + done, (size_t)(n - done));
        if (w <= 0) return;
        done += (int)w;
    }
}

int64_t ms_now(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
