/* Errors for system-facing code: a call returns < 0 and fills a wb_error with an errno (or 0) and a
 * message naming the object at fault. Callers add context with wb_error_wrap; only the CLI prints.
 */
#ifndef WB_BASE_ERROR_H
#define WB_BASE_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#define WB_ERROR_MSG_MAX 512

/* err->code values beyond errno values (which stay below 1000), one list for every module so that
 * no two causes share a number. */
/* the engine */
#define WB_EMALFORMED 1001 /* wb_module_new: the binary is malformed (decoding) */
#define WB_EINVALID   1002 /* wb_module_new: the module is invalid (validation) */
#define WB_ELINK      1003 /* instantiation: unknown import / incompatible import type */
#define WB_ETRAP      1004 /* a trap; details in wb_store_last_trap() */
#define WB_EEXIT      1005 /* the guest asked to exit (wb_caller_exit); code in the trap info */
/* the registry client */
#define WB_REG_EUNREACHABLE  1101 /* no connection to the registry (or its token service) */
#define WB_REG_EUNAUTHORIZED 1102 /* 401/403: credentials missing, wrong or not enough */
#define WB_REG_ENOTFOUND     1103 /* name or manifest unknown */
#define WB_REG_EPROTOCOL     1104 /* the registry answered something we refuse */

typedef struct wb_error {
    int code;                   /* errno, or 0 when the failure is not a system call's */
    char msg[WB_ERROR_MSG_MAX]; /* one line, no trailing newline (control characters from
                                 * the formatted values are shown as '?') */
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
