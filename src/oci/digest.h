/* Content digests ("sha256:<64 lowercase hex>"), validated before they are ever used as a file
 * name, and computed with OpenSSL. */
#ifndef WB_OCI_DIGEST_H
#define WB_OCI_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

#define WB_DIGEST_MAX 72 /* "sha256:" + 64 hex + NUL */

/* Only sha256 with exactly 64 lowercase hex digits is accepted (what the store holds). */
bool wb_digest_valid(const char *digest);
/* The hex part of a valid digest. */
const char *wb_digest_hex(const char *digest);

/* Hashing loads libcrypto on first use; it fails only if libcrypto cannot be loaded. */
int wb_digest_of(const void *data, size_t len, char out[WB_DIGEST_MAX], wb_error *err);

/* Streaming hash. */
typedef struct wb_hasher wb_hasher;
wb_hasher *wb_hasher_new(wb_error *err);
void wb_hasher_update(wb_hasher *h, const void *data, size_t len);
/* Writes the digest and frees h. */
void wb_hasher_final(wb_hasher *h, char out[WB_DIGEST_MAX]);
void wb_hasher_free(wb_hasher *h);

#endif
