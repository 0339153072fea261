/* SHA-256 digests through libcrypto (loaded on first use), and digest validation. */
#include "oci/digest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/dynlib.h"

bool wb_digest_valid(const char *d) {
    if (!d || strncmp(d, "sha256:", 7) != 0) return false;
    const char *hex = d + 7;
    size_t n = 0;
    for (; hex[n]; n++)
        if (!((hex[n] >= '0' && hex[n] <= '9') || (hex[n] >= 'a' && hex[n] <= 'f'))) return false;
    return n == 64;
}

const char *wb_digest_hex(const char *digest) {
    return digest + 7;
}

struct wb_hasher {
    const wb_libcrypto *c;
    EVP_MD_CTX *ctx;
};

wb_hasher *wb_hasher_new(wb_error *err) {
    const wb_libcrypto *c = wb_libcrypto_get(err);
    if (!c) return NULL;
    wb_hasher *h = wb_calloc(1, sizeof *h);
    h->c = c;
    h->ctx = c->EVP_MD_CTX_new();
    if (!h->ctx || !c->EVP_DigestInit_ex(h->ctx, c->EVP_sha256(), NULL)) {
        if (h->ctx) c->EVP_MD_CTX_free(h->ctx);
        free(h);
        wb_error_set(err, ENOMEM, "cannot start a SHA-256 computation");
        return NULL;
    }
    return h;
}

void wb_hasher_update(wb_hasher *h, const void *data, size_t len) {
    if (len) h->c->EVP_DigestUpdate(h->ctx, data, len);
}

void wb_hasher_final(wb_hasher *h, char out[WB_DIGEST_MAX]) {
    unsigned char md[32];
    unsigned int n = 0;
    h->c->EVP_DigestFinal_ex(h->ctx, md, &n);
    memcpy(out, "sha256:", 7);
    for (int i = 0; i < 32; i++) snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
    wb_hasher_free(h);
}

void wb_hasher_free(wb_hasher *h) {
    if (!h) return;
    h->c->EVP_MD_CTX_free(h->ctx);
    free(h);
}

int wb_digest_of(const void *data, size_t len, char out[WB_DIGEST_MAX], wb_error *err) {
    wb_hasher *h = wb_hasher_new(err);
    if (!h) return -1;
    wb_hasher_update(h, data, len);
    wb_hasher_final(h, out);
    return 0;
}
