/* Builder helpers (src/oci/build.h): platform strings. The builder itself is tested end to end by
 * tests/e2e/build.sh. */
#include "harness.h"

#include "oci/build.h"

static const char *platform(const char *s) {
    static char buf[WB_ERROR_MSG_MAX + 16];
    char os[32], arch[32], variant[32];
    wb_error err;
    if (wb_platform_parse(s, os, arch, variant, &err) < 0) {
        snprintf(buf, sizeof buf, "ERR: %s", err.msg);
        return buf;
    }
    snprintf(buf, sizeof buf, "%s/%s%s%s", os, arch, variant[0] ? "/" : "", variant);
    return buf;
}

TEST(build_platform_parse) {
    ASSERT_STR_EQ(platform("wasi/wasm"), "wasi/wasm");
    ASSERT_STR_EQ(platform("WASI/WASM32"), "wasi/wasm32");
    ASSERT_STR_EQ(platform("linux/x86_64"), "linux/amd64");
    ASSERT_STR_EQ(platform("linux/aarch64"), "linux/arm64");
    ASSERT_STR_EQ(platform("linux/arm64/v8"), "linux/arm64/v8");
    ASSERT_STR_EQ(platform("linux/aarch64/v8"), "linux/arm64");
    ASSERT_STR_EQ(platform("linux/armhf"), "linux/arm/v7");
    ASSERT_STR_EQ(platform("linux/arm/v6"), "linux/arm/v6");
    ASSERT_STR_CONTAINS(platform(""), "ERR: empty platform");
    ASSERT_STR_CONTAINS(platform("wasi/"), "ERR: invalid platform");
    ASSERT_STR_CONTAINS(platform("/wasm"), "ERR: invalid platform");
    ASSERT_STR_CONTAINS(platform("a/b/c/d"), "ERR: invalid platform");
    ASSERT_STR_CONTAINS(platform("linux/amd64,linux/arm64"), "several platforms");
    ASSERT_STR_CONTAINS(platform("linux/am d64"), "ERR: invalid platform");
    /* "linux" alone: the host's architecture */
    char os[32], arch[32], variant[32];
    wb_platform_host(os, arch, variant);
    char want[100];
    snprintf(want, sizeof want, "linux/%s%s%s", arch, variant[0] ? "/" : "", variant);
    ASSERT_STR_EQ(platform("linux"), want);
    ASSERT_STR_EQ(os, "linux");
}
