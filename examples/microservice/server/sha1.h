/* sha1: SHA-1 (FIPS 180-4, section 6.1) for mysql_native_password, which needs nothing else. */
#ifndef MS_SHA1_H
#define MS_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_SIZE 20

typedef struct sha1_ctx {
    uint32_t h[5];
    uint64_t total; /* bytes hashed so far */
    uint8_t block[64];
    size_t used; /* bytes waiting in block */
} sha1_ctx;

void sha1_init(sha1_ctx *c);
void sha1_update(sha1_ctx *c, const void *data, size_t len);
void sha1_final(sha1_ctx *c, uint8_t out[SHA1_SIZE]);
/* The digest of one buffer. */
void sha1(const void *data, size_t len, uint8_t out[SHA1_SIZE]);

#endif
