/* Linked into the static core only (docs/binaries.md), which is built against musl: Debian's
 * libjansson.a was compiled against glibc with _FORTIFY_SOURCE, so it calls glibc's checked
 * string functions. These do the same checks: abort when the destination is smaller than the
 * size given, as glibc does. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap);
int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, ...);
char *__strncpy_chk(char *dest, const char *src, size_t len, size_t destlen);

int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap) {
    (void)flag;
    if (maxlen > slen) abort();
    return vsnprintf(s, maxlen, fmt, ap);
}

int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = __vsnprintf_chk(s, maxlen, flag, slen, fmt, ap);
    va_end(ap);
    return n;
}

char *__strncpy_chk(char *dest, const char *src, size_t len, size_t destlen) {
    if (len > destlen) abort();
    return strncpy(dest, src, len);
}
