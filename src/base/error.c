#include "base/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The message's promise (error.h): one line. A name quoted from input (a file's key, a path,
 * a manifest's id) may hold a line break or another control character: shown as '?'. */
static void one_line(char *s) {
    for (; *s; s++)
        if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f) *s = '?';
}

int wb_error_vset(wb_error *err, int code, const char *fmt, va_list ap) {
    if (!err) return -1;
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    one_line(err->msg);
    return -1;
}

int wb_error_set(wb_error *err, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wb_error_vset(err, code, fmt, ap);
    va_end(ap);
    return -1;
}

int wb_error_sys(wb_error *err, const char *fmt, ...) {
    int saved = errno;
    if (!err) return -1;
    va_list ap;
    va_start(ap, fmt);
    wb_error_vset(err, saved, fmt, ap);
    va_end(ap);
    size_t n = strlen(err->msg);
    snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(saved));
    return -1;
}

int wb_error_wrap(wb_error *err, const char *fmt, ...) {
    if (!err) return -1;
    char old[WB_ERROR_MSG_MAX];
    va_list ap;
    memcpy(old, err->msg, sizeof old);
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof err->msg) {
        size_t used = (size_t)n;
        size_t room = sizeof err->msg - used;
        size_t oldlen = strnlen(old, sizeof old - 1);
        if (room > 2) {
            memcpy(err->msg + used, ": ", 2);
            used += 2;
            room -= 2;
            size_t k = oldlen < room - 1 ? oldlen : room - 1;
            memcpy(err->msg + used, old, k);
            err->msg[used + k] = '\0';
        }
    }
    one_line(err->msg);
    return -1;
}

void wb_error_clear(wb_error *err) {
    if (!err) return;
    err->code = 0;
    err->msg[0] = '\0';
}
