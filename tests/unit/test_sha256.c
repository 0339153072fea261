/* SHA-256 of the static core (base/sha256.h): the FIPS 180-4 example vectors, streaming at every
 * split point, and agreement with libcrypto's SHA-256 (through base/dynlib.h) on random inputs. */
#include "harness.h"

#include "base/dynlib.h"
#include "base/sha256.h"

static const char *hex_of(const void *data, size_t len, char out[65]) {
    uint8_t d[32];
    wb_sha256(data, len, d);
    wb_sha256_hex(d, out);
    return out;
}

TEST(sha256_fips_vectors) {
    char hex[65];
    ASSERT_STR_EQ(hex_of("", 0, hex),
                  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ASSERT_STR_EQ(hex_of("abc", 3, hex),
                  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    ASSERT_STR_EQ(hex_of(m448, strlen(m448), hex),
                  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m896 =
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqk"
        "lmnopqrlmnopqrsmnopqrstnopqrstu";
    ASSERT_STR_EQ(hex_of(m896, strlen(m896), hex),
                  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(sha256_million_a) {
    char *a = malloc(1000000);
    ASSERT_TRUE(a != NULL);
    memset(a, 'a', 1000000);
    char hex[65];
    ASSERT_STR_EQ(hex_of(a, 1000000, hex),
                  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* the same in odd-sized pieces */
    wb_sha256_ctx s;
    wb_sha256_init(&s);
    for (size_t off = 0; off < 1000000;) {
        size_t n = 1000000 - off < 997 ? 1000000 - off : 997;
        wb_sha256_update(&s, a + off, n);
        off += n;
    }
    uint8_t d[32];
    wb_sha256_final(&s, d);
    wb_sha256_hex(d, hex);
    ASSERT_STR_EQ(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}

TEST(sha256_every_split_point) {
    uint8_t msg[200], want[32];
    for (int i = 0; i < 200; i++) msg[i] = (uint8_t)(i * 7 + 3);
    wb_sha256(msg, sizeof msg, want);
    for (size_t i = 0; i <= sizeof msg; i++) {
        for (size_t j = i; j <= sizeof msg; j += 13) {
            wb_sha256_ctx s;
            uint8_t got[32];
            wb_sha256_init(&s);
            wb_sha256_update(&s, msg, i);
            wb_sha256_update(&s, NULL, 0);
            wb_sha256_update(&s, msg + i, j - i);
            wb_sha256_update(&s, msg + j, sizeof msg - j);
            wb_sha256_final(&s, got);
            if (memcmp(got, want, 32) != 0)
                wb_test_fail(__FILE__, __LINE__, "split at %zu and %zu differs", i, j);
        }
    }
}

TEST(sha256_matches_libcrypto) {
    wb_error err = {0};
    const wb_libcrypto *c = wb_libcrypto_get(&err);
    if (!c) SKIP("libcrypto not loadable");
    uint8_t *buf = malloc(5000);
    ASSERT_TRUE(buf != NULL);
    srand(12345);
    /* both compression functions: the portable one and the SHA extensions' (where the CPU has
     * them; else the second pass repeats the first) */
    for (int round = 0; round < 800; round++) {
        wb__sha256_force_portable(round < 400);
        size_t len = round < 130 ? (size_t)round : (size_t)rand() % 5001;
        for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)rand();
        uint8_t ours[32], theirs[32];
        unsigned theirs_len = 0;
        wb_sha256(buf, len, ours);
        EVP_MD_CTX *ctx = c->EVP_MD_CTX_new();
        ASSERT_TRUE(ctx != NULL);
        ASSERT_EQ(c->EVP_DigestInit_ex(ctx, c->EVP_sha256(), NULL), 1);
        ASSERT_EQ(c->EVP_DigestUpdate(ctx, buf, len), 1);
        ASSERT_EQ(c->EVP_DigestFinal_ex(ctx, theirs, &theirs_len), 1);
        c->EVP_MD_CTX_free(ctx);
        ASSERT_EQ(theirs_len, 32);
        if (memcmp(ours, theirs, 32) != 0)
            wb_test_fail(__FILE__, __LINE__, "digest of %zu random bytes differs (%s)", len,
                         round < 400 ? "portable" : "fastest");
    }
    wb__sha256_force_portable(false);
    free(buf);
}
