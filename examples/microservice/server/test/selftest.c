/* selftest: checks of the service's pure parts, run natively by tests/wasi/microservice.sh:
 * SHA-1 (FIPS 180-4 examples), mysql_native_password, SQL quoting, DATABASE_URL parsing, the
 * Order parser's acceptances and refusals, and the f32 printing rule. Prints one "ok N - what"
 * or "not ok N - what" line per check and "selftest: P passed, F failed".
 *   selftest            the checks
 *   selftest f32        reads f32 bit patterns (hex, one a line) and prints each as JSON would
 *   selftest compare N  the fast f32 paths against the exact ones on N random values each */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../f32.h"
#include "../json.h"
#include "../mysql.h"
#include "../sha1.h"

static int passed, failed;

static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%s %d - ", ok ? "ok" : "not ok", passed + failed + 1);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (ok)
        passed++;
    else
        failed++;
}

static void hex(const uint8_t *p, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", p[i]);
}

static void sha1_checks(void) {
    static const struct {
        const char *in, *want;
    } v[] = {
        {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
    };
    uint8_t d[SHA1_SIZE];
    char text[41];
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        sha1(v[i].in, strlen(v[i].in), d);
        hex(d, sizeof d, text);
        check(strcmp(text, v[i].want) == 0, "SHA-1 of \"%.10s\" (%zu bytes): %s", v[i].in,
              strlen(v[i].in), text);
    }
    sha1_ctx c;
    sha1_init(&c);
    char block[1001];
    memset(block, 'a', sizeof block);
    for (int i = 0; i < 1000; i++) sha1_update(&c, block, i % 2 ? 999 : 1001); /* odd splits */
    sha1_final(&c, d);
    hex(d, sizeof d, text);
    check(strcmp(text, "34aa973cd4c4daa4f61eeb2bdbad27316534016f") == 0,
          "SHA-1 of a million 'a' in odd pieces: %s", text);
    uint8_t seed[20], out[20];
    for (int i = 0; i < 20; i++) seed[i] = (uint8_t)(i + 1);
    db_native_password("whalehello", seed, out);
    hex(out, sizeof out, text);
    check(strcmp(text, "c581e79407449a121c39022a1148890cf16e6f62") == 0,
          "mysql_native_password of whalehello, seed 01..14: %s", text);
}

static void quote_checks(void) {
    buf b;
    buf_init(&b);
    static const char in[] = "a'b\"c\\d\ne\rf\032g\0h";
    db_quote_string(&b, in, sizeof in - 1, 0);
    static const char quoted[] = "'a\\'b\\\"c\\\\d\\ne\\rf\\Zg\\0h'";
    check(b.len == sizeof quoted - 1 && memcmp(b.data, quoted, b.len) == 0,
          "quoting with backslash escapes: %s", b.data);
    buf_reset(&b);
    db_quote_string(&b, "it's a \\ test", 13, 1);
    check(strcmp(b.data, "'it''s a \\ test'") == 0, "quoting under NO_BACKSLASH_ESCAPES: %s",
          b.data);
    buf_release(&b);
}

static void url_checks(void) {
    db_config c;
    ms_error err = {0};
    int r = db_config_from_url(&c, "mysql://root:whalehello@db:3306/mysql", &err);
    check(r == 0 && !strcmp(c.user, "root") && !strcmp(c.password, "whalehello") &&
              !strcmp(c.host, "db") && c.port == 3306 && !strcmp(c.database, "mysql"),
          "DATABASE_URL of the compose file");
    r = db_config_from_url(&c, "mysql://u%40x:p%3Ass%2F@[::1]:3307/orders%5F1?ssl=false", &err);
    check(r == 0 && !strcmp(c.user, "u@x") && !strcmp(c.password, "p:ss/") &&
              !strcmp(c.host, "::1") && c.port == 3307 && !strcmp(c.database, "orders_1"),
          "DATABASE_URL with escapes, IPv6 and options: %s %s %s %d %s", c.user, c.password, c.host,
          c.port, c.database);
    r = db_config_from_url(&c, "mysql://root@localhost/mysql", &err);
    check(r == 0 && !strcmp(c.user, "root") && !c.password[0] && c.port == 3306,
          "DATABASE_URL without password or port");
    static const char *const bad[] = {"mysql://root:pw@db:3306", "mysql://root:pw@db:3306/",
                                      "postgres://a@b/c",        "mysql://root@db:99999/x",
                                      "mysql://root@:3306/x",    "mysql://r%zz@db/x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err.msg[0] = '\0';
        r = db_config_from_url(&c, bad[i], &err);
        check(r < 0 && err.msg[0], "DATABASE_URL %s refused: %s", bad[i], err.msg);
    }
}

static void f32_checks(void) {
    static const struct {
        float f;
        const char *want;
    } v[] = {
        {56.0f, "56.0"},
        {2.5f, "2.5"},
        {0.1f, "0.1"},
        {-0.5f, "-0.5"},
        {0.0f, "0.0"},
        {16777217.0f, "16777216.0"},
        {1234567.1f, "1234567.1"},
        {1e13f, "1e13"},
        {123456789012.0f, "123456790000.0"},
        {1e-6f, "0.000001"},
        {1e-7f, "1e-7"},
        {3.4028235e38f, "3.4028235e38"},
        {1e-45f, "1e-45"},
        {1.17549435e-38f, "1.1754944e-38"},
        {9999999.0f, "9999999.0"},
        {0.3f, "0.3"},
        {1e38f, "1e38"},
        {33554432.0f, "33554432.0"},
        {0.00012345f, "0.00012345"},
        {1.5e-5f, "0.000015"},
    };
    buf b;
    buf_init(&b);
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        buf_reset(&b);
        json_write_f32(&b, v[i].f);
        check(strcmp(b.data, v[i].want) == 0, "f32 %.9g prints %s (want %s)", (double)v[i].f,
              b.data, v[i].want);
    }
    buf_release(&b);
}

static void string_checks(void) {
    buf b;
    buf_init(&b);
    static const char in[] = "q\"b\\s/\b\f\n\r\t\x01\x1f\x7f\xc3\xbc";
    json_write_string(&b, in, sizeof in - 1);
    const char *want = "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\xc3\xbc\"";
    check(strcmp(b.data, want) == 0, "JSON string escapes as serde_json's: %s", b.data);
    buf_release(&b);
}

#define ORDER_OK                                                                                   \
    "\"order_id\":1,\"product_id\":2,\"quantity\":3,\"amount\":4.5,\"shipping\":5,\"tax\":6e0,"    \
    "\"shipping_address\":\"x\""

static void parse_checks(void) {
    order o;
    ms_error err = {0};
    int r = json_parse_order(" {" ORDER_OK "} \n", strlen(ORDER_OK) + 5, &o, &err);
    check(r == 0 && o.order_id == 1 && o.quantity == 3 && o.amount == 4.5f && o.shipping == 5 &&
              o.tax == 6 && o.address_len == 1,
          "a valid Order");
    if (r == 0) order_release(&o);
    static const char unicode[] = "{\"order_id\":-2147483648,\"product_id\":2147483647,"
                                  "\"quantity\":0,\"amount\":-0,\"shipping\":1E2,\"tax\":0.5,"
                                  "\"shipping_address\":\"\\u00fc\\ud83d\\ude00\\u0000\\/\","
                                  "\"unknown\":[{\"deep\":[null,true,false,\"s\",1.5e-3]}],"
                                  "\"order\\u005fx\":1}";
    r = json_parse_order(unicode, sizeof unicode - 1, &o, &err);
    check(r == 0 && o.order_id == INT32_MIN && o.product_id == INT32_MAX && o.shipping == 100 &&
              o.address_len == 8 &&
              memcmp(o.shipping_address, "\xc3\xbc\xf0\x9f\x98\x80\0/", 8) == 0,
          "i32 limits, escapes, surrogate pairs, unknown fields skipped (%s)", r ? err.msg : "");
    if (r == 0) order_release(&o);

    static const struct {
        const char *body, *why;
    } bad[] = {
        {"{\"order_id\":1}", "missing field"},
        {"{" ORDER_OK ",\"order_id\":1}", "duplicate field"},
        {"{" ORDER_OK "} x", "trailing characters"},
        {"[{" ORDER_OK "}]", "an array for an Order"},
        {"{" ORDER_OK ",}", "a trailing comma"},
        {"{\"order_id\":2147483648," ORDER_OK "}", "i32 overflow"},
        {"{\"order_id\":1.0,\"product_id\":2}", "a float for an i32"},
        {"{\"order_id\":01}", "a leading zero"},
        {"{\"order_id\":\"1\"}", "a string for an i32"},
        {"{\"shipping_address\":\"a\\x\"}", "a bad escape"},
        {"{\"shipping_address\":\"\\ud800\"}", "a lone surrogate"},
        {"{\"shipping_address\":\"\xc3\x28\"}", "invalid UTF-8"},
        {"{\"shipping_address\":\"a\nb\"}", "a raw control character"},
        {"{\"amount\":1e400}", "an f64 overflow"},
        {"{\"amount\":1e39}", "an f32 overflow"},
        {"{\"amount\":-}", "a bare minus"},
        {"{\"amount\":1.}", "a fraction without digits"},
        {"{\"x\":tru}", "a bad literal"},
        {"", "an empty body"},
        {"{\"order_id\":1", "a cut body"},
        {"{'order_id':1}", "single quotes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err.msg[0] = '\0';
        r = json_parse_order(bad[i].body, strlen(bad[i].body), &o, &err);
        if (r == 0) order_release(&o);
        check(r < 0 && err.msg[0], "refused: %s (%s)", bad[i].why, err.msg);
    }
    /* nesting: 127 levels inside an unknown field pass, 200 fail */
    for (int depth = 127; depth <= 200; depth += 73) {
        buf b;
        buf_init(&b);
        buf_adds(&b, "{" ORDER_OK ",\"x\":");
        for (int i = 0; i < depth; i++) buf_addc(&b, '[');
        for (int i = 0; i < depth; i++) buf_addc(&b, ']');
        buf_addc(&b, '}');
        r = json_parse_order(b.data, b.len, &o, &err);
        if (r == 0) order_release(&o);
        check(depth < 128 ? r == 0 : r < 0, "an unknown field nested %d deep: %s", depth,
              r ? err.msg : "taken");
        buf_release(&b);
    }
    order *list;
    size_t n;
    static const char two[] = "[{" ORDER_OK "},\n {" ORDER_OK "}]";
    r = json_parse_orders(two, sizeof two - 1, &list, &n, &err);
    check(r == 0 && n == 2, "an array of two Orders");
    if (r == 0) orders_free(list, n);
    r = json_parse_orders("[]", 2, &list, &n, &err);
    check(r == 0 && n == 0, "an empty array");
    if (r == 0) orders_free(list, n);
    r = json_parse_orders("[{" ORDER_OK "},{\"order_id\":1}]", strlen(ORDER_OK) + 21, &list, &n,
                          &err);
    check(r < 0, "an array with a bad second Order: %s", err.msg);
    r = json_parse_orders("{" ORDER_OK "}", strlen(ORDER_OK) + 2, &list, &n, &err);
    check(r < 0, "an Order where an array is wanted: %s", err.msg);
}

/* Prints f32 bit patterns from stdin as JSON numbers, for an exact checker. */
static int print_f32s(void) {
    char line[64];
    buf b;
    buf_init(&b);
    while (fgets(line, sizeof line, stdin)) {
        uint32_t bits = (uint32_t)strtoul(line, NULL, 16);
        float f;
        memcpy(&f, &bits, sizeof f);
        buf_reset(&b);
        json_write_f32(&b, f);
        printf("%08x %s\n", bits, b.data);
    }
    buf_release(&b);
    return 0;
}

/* xorshift64: reproducible random bits */
static uint64_t next_random(uint64_t *state) {
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* f32_shortest_fast and f32_parse against their exact paths. */
static int compare(long count) {
    uint64_t state = 0x9e3779b97f4a7c15ull;
    long undecided = 0, wrong = 0;
    for (long i = 0; i < count; i++) {
        uint32_t bits = (uint32_t)next_random(&state) & 0x7fffffff;
        if (i < 254) bits = (uint32_t)(i + 1) << 23; /* every power of two first */
        float f;
        memcpy(&f, &bits, sizeof f);
        if (!isfinite(f) || f == 0) continue;
        char fast[F32_DIGITS_MAX + 2], exact[F32_DIGITS_MAX + 2];
        int kf, ke, nf = f32_shortest_fast(f, fast, &kf);
        int ne = f32_shortest_exact(f, exact, &ke);
        if (nf < 0) {
            undecided++;
        } else if (nf != ne || kf != ke || strcmp(fast, exact) != 0) {
            if (wrong++ < 5) printf("# %08x: fast %se%d, exact %se%d\n", bits, fast, kf, exact, ke);
        }
    }
    check(wrong == 0,
          "f32_shortest_fast agrees with printf/strtof on %ld random f32 (%ld left to "
          "the exact path, %ld wrong)",
          count, undecided, wrong);
    long parse_wrong = 0;
    char text[64];
    for (long i = 0; i < count; i++) {
        uint64_t r = next_random(&state);
        int len;
        if (i % 2) { /* a DOUBLE as MariaDB prints one: an f32's exact value, 17 digits */
            uint32_t bits = (uint32_t)r & 0x7fffffff;
            float f;
            memcpy(&f, &bits, sizeof f);
            if (!isfinite(f)) continue;
            len = snprintf(text, sizeof text, "%.17g", (double)f);
        } else { /* any decimal: up to 21 digits, a point somewhere, an exponent */
            int ndigits = 1 + (int)(r % 21), point = (int)((r >> 8) % 23);
            len = 0;
            if ((r >> 16) & 1) text[len++] = '-';
            for (int d = 0; d < ndigits; d++) {
                if (d == point && d > 0) text[len++] = '.';
                text[len++] = (char)('0' + (next_random(&state) % 10));
            }
            len +=
                snprintf(text + len, sizeof text - (size_t)len, "e%d", (int)((r >> 24) % 100) - 60);
        }
        float a = 0, b = 0;
        int ra = f32_parse(text, (size_t)len, &a), rb = f32_parse_exact(text, (size_t)len, &b);
        if (ra != rb || (ra == 0 && memcmp(&a, &b, sizeof a) != 0)) {
            if (parse_wrong++ < 5)
                printf("# parse %s: fast %d %.9g, exact %d %.9g\n", text, ra, (double)a, rb,
                       (double)b);
        }
    }
    check(parse_wrong == 0, "f32_parse agrees with strtod on %ld random decimals (%ld wrong)",
          count, parse_wrong);
    printf("selftest: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "f32")) return print_f32s();
    if (argc > 2 && !strcmp(argv[1], "compare")) return compare(atol(argv[2]));
    sha1_checks();
    quote_checks();
    url_checks();
    f32_checks();
    string_checks();
    parse_checks();
    printf("selftest: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
