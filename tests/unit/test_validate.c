/* Validator cases on small hand-assembled modules: each has one function type, one function and
 * optional extra sections, and checks wb_module_new's result, err.code and err.msg. */
#include "harness.h"

#include "wasm/wasm.h"

typedef struct bytes {
    uint8_t b[512];
    size_t n;
} bytes;

static void put(bytes *out, const uint8_t *p, size_t n) {
    ASSERT_TRUE(out->n + n <= sizeof out->b);
    memcpy(out->b + out->n, p, n);
    out->n += n;
}

/* A section whose payload is shorter than 128 bytes (one-byte LEB128 size). */
static void put_section(bytes *out, uint8_t id, const uint8_t *payload, size_t n) {
    ASSERT_TRUE(n < 128);
    uint8_t hdr[2] = {id, (uint8_t)n};
    put(out, hdr, 2);
    put(out, payload, n);
}

#define ARR(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})
#define NONE     NULL, 0

/* Builds a module: type 0 = `sig` (encoded functype), function 0 of type 0 with `body` (locals
 * then code, the final `end` included); `pre` are encoded sections that go between the function
 * and code sections (ids 4..9 and 12, in order), `post` those after it (data). Returns
 * wb_module_new's result; the module, if any, is freed. */
static int load(const uint8_t *sig, size_t sig_len, const uint8_t *pre, size_t pre_len,
                const uint8_t *body, size_t body_len, const uint8_t *post, size_t post_len,
                wb_error *err) {
    bytes m = {.n = 0};
    uint8_t payload[256];
    put(&m, ARR(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00));
    payload[0] = 1; /* one type */
    memcpy(payload + 1, sig, sig_len);
    put_section(&m, 1, payload, 1 + sig_len);
    put_section(&m, 3, ARR(0x01, 0x00));
    if (pre_len) put(&m, pre, pre_len);
    payload[0] = 1; /* one body */
    payload[1] = (uint8_t)body_len;
    memcpy(payload + 2, body, body_len);
    put_section(&m, 10, payload, 2 + body_len);
    if (post_len) put(&m, post, post_len);
    wb_module *mod = NULL;
    memset(err, 0, sizeof *err);
    int rc = wb_module_new(NULL, m.b, m.n, &mod, err);
    if (rc == 0) wb_module_free(mod);
    return rc;
}

#define SIG_VOID ARR(0x60, 0x00, 0x00)
#define SIG_I32  ARR(0x60, 0x00, 0x01, 0x7f)
#define MEMORY_1 ARR(0x05, 0x03, 0x01, 0x00, 0x01)

#define ASSERT_INVALID(rc, err, text)                                                              \
    do {                                                                                           \
        ASSERT_EQ(rc, -1);                                                                         \
        ASSERT_EQ((err).code, WB_EINVALID);                                                        \
        ASSERT_EQ(strncmp((err).msg, text, strlen(text)), 0);                                      \
    } while (0)

TEST(validate_add_is_valid) {
    wb_error err;
    /* (func (param i32 i32) (result i32) local.get 0 local.get 1 i32.add) */
    int rc = load(ARR(0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f), NONE,
                  ARR(0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b), NONE, &err);
    ASSERT_EQ(rc, 0);
}

TEST(validate_type_mismatch) {
    wb_error err;
    /* (func (result i32) i64.const 0) */
    int rc = load(SIG_I32, NONE, ARR(0x00, 0x42, 0x00, 0x0b), NONE, &err);
    ASSERT_INVALID(rc, err, "type mismatch");
    ASSERT_STR_CONTAINS(err.msg, "function 0");
}

TEST(validate_unknown_local) {
    wb_error err;
    /* (func local.get 0 drop) without params or locals */
    int rc = load(SIG_VOID, NONE, ARR(0x00, 0x20, 0x00, 0x1a, 0x0b), NONE, &err);
    ASSERT_INVALID(rc, err, "unknown local");
}

TEST(validate_unknown_label) {
    wb_error err;
    /* (func br 1) */
    int rc = load(SIG_VOID, NONE, ARR(0x00, 0x0c, 0x01, 0x0b), NONE, &err);
    ASSERT_INVALID(rc, err, "unknown label");
}

TEST(validate_unreachable_stack_is_polymorphic) {
    wb_error err;
    /* (func (result i32) unreachable i32.add) and (... unreachable select) are valid */
    ASSERT_EQ(load(SIG_I32, NONE, ARR(0x00, 0x00, 0x6a, 0x0b), NONE, &err), 0);
    ASSERT_EQ(load(SIG_I32, NONE, ARR(0x00, 0x00, 0x1b, 0x0b), NONE, &err), 0);
    /* but the types still count: unreachable f32.const 0 i32.add */
    int rc = load(SIG_I32, NONE, ARR(0x00, 0x00, 0x43, 0, 0, 0, 0, 0x6a, 0x0b), NONE, &err);
    ASSERT_INVALID(rc, err, "type mismatch");
}

TEST(validate_br_table_arity_mismatch) {
    wb_error err;
    /* (block (result i32) (block i32.const 0 i32.const 0 br_table 1 0) i32.const 0) drop */
    int rc = load(SIG_VOID, NONE,
                  ARR(0x00, 0x02, 0x7f, 0x02, 0x40, 0x41, 0x00, 0x41, 0x00, 0x0e, 0x01, 0x01, 0x00,
                      0x0b, 0x41, 0x00, 0x0b, 0x1a, 0x0b),
                  NONE, &err);
    ASSERT_INVALID(rc, err, "type mismatch");
}

TEST(validate_memory_init_needs_data_count) {
    wb_error err;
    /* memory.init 0 with a passive data segment but no data count section: malformed */
    const uint8_t body[] = {0x00, 0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xfc, 0x08, 0x00, 0x00, 0x0b};
    int rc = load(SIG_VOID, MEMORY_1, body, sizeof body, ARR(0x0b, 0x03, 0x01, 0x01, 0x00), &err);
    ASSERT_EQ(rc, -1);
    ASSERT_EQ(err.code, WB_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "data count section required");
    /* with the data count section it is valid */
    const uint8_t pre[] = {0x05, 0x03, 0x01, 0x00, 0x01, 0x0c, 0x01, 0x01};
    rc =
        load(SIG_VOID, pre, sizeof pre, body, sizeof body, ARR(0x0b, 0x03, 0x01, 0x01, 0x00), &err);
    ASSERT_EQ(rc, 0);
}

TEST(validate_undeclared_function_reference) {
    wb_error err;
    /* (func ref.func 0 drop): function 0 is not exported nor in an element segment */
    int rc = load(SIG_VOID, NONE, ARR(0x00, 0xd2, 0x00, 0x1a, 0x0b), NONE, &err);
    ASSERT_INVALID(rc, err, "undeclared function reference");
    /* exporting it declares it */
    rc = load(SIG_VOID, ARR(0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00),
              ARR(0x00, 0xd2, 0x00, 0x1a, 0x0b), NONE, &err);
    ASSERT_EQ(rc, 0);
}

TEST(validate_immutable_global_set) {
    wb_error err;
    /* (global i32 (i32.const 0)) (func i32.const 1 global.set 0) */
    int rc = load(SIG_VOID, ARR(0x06, 0x06, 0x01, 0x7f, 0x00, 0x41, 0x00, 0x0b),
                  ARR(0x00, 0x41, 0x01, 0x24, 0x00, 0x0b), NONE, &err);
    ASSERT_INVALID(rc, err, "global is immutable");
}

TEST(validate_typed_select_arity) {
    wb_error err;
    /* i32.const 0 i32.const 0 i32.const 0 select (result i32 i32) drop */
    int rc = load(SIG_VOID, NONE,
                  ARR(0x00, 0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0x1c, 0x02, 0x7f, 0x7f, 0x1a, 0x0b),
                  NONE, &err);
    ASSERT_INVALID(rc, err, "invalid result arity");
    /* select (result i32) is fine */
    rc = load(SIG_VOID, NONE,
              ARR(0x00, 0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0x1c, 0x01, 0x7f, 0x1a, 0x0b), NONE,
              &err);
    ASSERT_EQ(rc, 0);
}

TEST(validate_alignment_too_large) {
    wb_error err;
    /* i32.const 0 i32.load align=2^3 drop */
    int rc =
        load(SIG_VOID, MEMORY_1, ARR(0x00, 0x41, 0x00, 0x28, 0x03, 0x00, 0x1a, 0x0b), NONE, &err);
    ASSERT_INVALID(rc, err, "alignment must not be larger than natural");
    rc = load(SIG_VOID, MEMORY_1, ARR(0x00, 0x41, 0x00, 0x28, 0x02, 0x00, 0x1a, 0x0b), NONE, &err);
    ASSERT_EQ(rc, 0);
}

TEST(validate_if_without_else_needs_matching_types) {
    wb_error err;
    /* (func (result i32) i32.const 1 if (result i32) i32.const 2 end) */
    int rc =
        load(SIG_I32, NONE, ARR(0x00, 0x41, 0x01, 0x04, 0x7f, 0x41, 0x02, 0x0b, 0x0b), NONE, &err);
    ASSERT_INVALID(rc, err, "type mismatch");
}

TEST(validate_code_after_final_end_is_malformed) {
    wb_error err;
    /* (func nop end nop end): the first end closes the function */
    int rc = load(SIG_VOID, NONE, ARR(0x00, 0x01, 0x0b, 0x01, 0x0b), NONE, &err);
    ASSERT_EQ(rc, -1);
    ASSERT_EQ(err.code, WB_EMALFORMED);
    ASSERT_STR_CONTAINS(err.msg, "section size mismatch");
}

TEST(validate_call_indirect_needs_funcref_table) {
    wb_error err;
    /* (table 1 externref) (func i32.const 0 call_indirect (type 0) 0) */
    int rc = load(SIG_VOID, ARR(0x04, 0x04, 0x01, 0x6f, 0x00, 0x01),
                  ARR(0x00, 0x41, 0x00, 0x11, 0x00, 0x00, 0x0b), NONE, &err);
    ASSERT_INVALID(rc, err, "type mismatch");
}
