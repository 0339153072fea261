/* base/base64.h — base64 (RFC 4648, standard alphabet, padded), for registry credentials and
 * the inline contents of Spin's locked apps. */
#ifndef WB_BASE_BASE64_H
#define WB_BASE_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* A new NUL-terminated string; the caller frees it. */
char *wb_base64_encode(const uint8_t *data, size_t len);
/* The bytes of s (up to its first '=' or its end) in a new buffer of *len bytes plus a NUL byte;
 * the caller frees it. NULL when s holds a character outside the alphabet. */
uint8_t *wb_base64_decode(const char *s, size_t *len);

#endif
