/* wasi:http lowered by hand (apps/wasi_http.h): flat signatures are matched exactly (parameter
 * and result types, i64 where the canonical ABI flattens a u64 or joins one in); the import table
 * knows the functions of the interfaces a Spin 2/3 core module imports, with the signatures
 * wit-bindgen gives them, and no others. (The behaviour is tested end to end by
 * tests/linux/spin.sh with tests/apps/spin/spin2.c.) */
#include <string.h>

#include "harness.h"

#include "apps/wasi_http.h"

static bool sig(const char *module, const char *name, const char *want) {
    const wb_flat_import *f = wb_wasi_http_find(module, strlen(module), name, strlen(name));
    return f && !strcmp(f->sig, want);
}

TEST(wasi_http_flat_matches) {
    uint8_t t1[] = {WB_I32, WB_I64, WB_I32};
    wb_functype read = {.nparams = 3, .nresults = 0, .types = t1};
    ASSERT_TRUE(wb_flat_matches("iIi", &read));
    ASSERT_TRUE(!wb_flat_matches("iii", &read));
    ASSERT_TRUE(!wb_flat_matches("iIi:i", &read));
    ASSERT_TRUE(!wb_flat_matches("iI", &read));
    uint8_t t2[] = {WB_I32, WB_I32, WB_I32};
    wb_functype has = {.nparams = 2, .nresults = 1, .types = t2};
    ASSERT_TRUE(wb_flat_matches("ii:i", &has));
    ASSERT_TRUE(!wb_flat_matches("ii:I", &has));
    ASSERT_TRUE(!wb_flat_matches("iii", &has));
    wb_functype none = {.nparams = 0, .nresults = 1, .types = t2};
    ASSERT_TRUE(wb_flat_matches(":i", &none));
}

TEST(wasi_http_signatures) {
    const char *T = "wasi:http/types@0.2.0", *S = "wasi:io/streams@0.2.0";
    /* as wit-bindgen lowers them (results that do not fit in one value go to a pointer) */
    ASSERT_TRUE(sig(T, "[static]response-outparam.set", "iiiiIiiii"));
    ASSERT_TRUE(sig(T, "[constructor]fields", ":i"));
    ASSERT_TRUE(sig(T, "[method]fields.append", "iiiiii"));
    ASSERT_TRUE(sig(T, "[method]outgoing-response.set-status-code", "ii:i"));
    ASSERT_TRUE(sig(T, "[method]outgoing-request.set-scheme", "iiiii:i"));
    ASSERT_TRUE(sig(T, "[static]outgoing-body.finish", "iiii"));
    ASSERT_TRUE(sig(T, "[static]incoming-body.finish", "i:i"));
    ASSERT_TRUE(sig(S, "[method]input-stream.blocking-read", "iIi"));
    ASSERT_TRUE(sig(S, "[method]output-stream.blocking-write-and-flush", "iiii"));
    ASSERT_TRUE(sig(S, "[method]output-stream.splice", "iiIi"));
    ASSERT_TRUE(sig("wasi:http/outgoing-handler@0.2.0", "handle", "iiii"));
    ASSERT_TRUE(sig("wasi:io/poll@0.2.0", "poll", "iii"));
    /* other versions and names are not ours */
    ASSERT_TRUE(!sig("wasi:http/types@0.2.1", "[constructor]fields", ":i"));
    ASSERT_TRUE(!sig(T, "[constructor]field", ":i"));
    ASSERT_TRUE(wb_wasi_http_interface(S, strlen(S)));
    ASSERT_TRUE(!wb_wasi_http_interface("wasi:cli/environment@0.2.0", 26));
}
