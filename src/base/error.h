/* Errors for system-facing code: a call returns < 0 and fills a wb_error with an errno (or 0) and a
 * message naming the object at fault. Callers add context with wb_error_wrap; only the CLI prints.
 */
#ifndef WB_BASE_ERROR_H
#define WB_BASE_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#define WB_ERROR_MSG_MAX 512

typedef struct wb_error {
    int code;                   /* errno, or 0 when the failure is not a system call's */
    char msg[WB_ERROR_MSG_MAX]; /* one line, no trailing newline */
} wb_error;

/* Fill err (if not NULL) with code and a formatted message; always returns -1. */
int wb_error_set(wb_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int wb_error_vset(wb_error *err, int code, const char *fmt, va_list ap);
/* Like wb_error_set with code = errno, appending ": strerror(errno)". */
int wb_error_sys(wb_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix the existing message with context ("load `x.wasm`: " + old); returns -1. */
int wb_error_wrap(wb_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wb_error_clear(wb_error *err);

#endif
