/* The TOML reader (base/toml.h): every kind of value, tables, dotted keys, arrays of tables, the
 * redefinition rules of TOML 1.0 and errors with line numbers. */
#include <jansson.h>
#include <unistd.h>

#include "harness.h"

#include "base/toml.h"

/* the document as compact JSON with sorted keys (the caller frees it), or "ERR: message" */
static char *toml_json(const char *text) {
    wb_error err;
    json_t *doc = wb_toml_parse(text, strlen(text), &err);
    if (!doc) {
        char *s = malloc(strlen(err.msg) + 6);
        sprintf(s, "ERR: %s", err.msg);
        return s;
    }
    char *s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(doc);
    return s;
}

#define ASSERT_TOML(text, want)                                                                    \
    do {                                                                                           \
        char *got_ = toml_json(text);                                                              \
        ASSERT_STR_EQ(got_, want);                                                                 \
        free(got_);                                                                                \
    } while (0)

#define ASSERT_TOML_ERR(text, want_sub)                                                            \
    do {                                                                                           \
        char *got_ = toml_json(text);                                                              \
        ASSERT_STR_CONTAINS(got_, "ERR: ");                                                        \
        ASSERT_STR_CONTAINS(got_, want_sub);                                                       \
        free(got_);                                                                                \
    } while (0)

TEST(toml_empty_and_comments) {
    ASSERT_TOML("", "{}");
    ASSERT_TOML("# only a comment\n\n   \t\n", "{}");
    ASSERT_TOML("a = 1 # trailing\r\nb = 2", "{\"a\":1,\"b\":2}");
    ASSERT_TOML("\xef\xbb\xbf"
                "a = 1",
                "{\"a\":1}");
}

TEST(toml_integers) {
    ASSERT_TOML("a = +99\nb = 42\nc = 0\nd = -17\ne = 1_000\nf = 5_349_221",
                "{\"a\":99,\"b\":42,\"c\":0,\"d\":-17,\"e\":1000,\"f\":5349221}");
    ASSERT_TOML("h = 0xDEAD_beef\no = 0o755\nb = 0b1101_0110",
                "{\"b\":214,\"h\":3735928559,\"o\":493}");
    ASSERT_TOML("max = 9223372036854775807\nmin = -9223372036854775808",
                "{\"max\":9223372036854775807,\"min\":-9223372036854775808}");
    ASSERT_TOML_ERR("a = 9223372036854775808", "out of range");
    ASSERT_TOML_ERR("a = 0x8000000000000000", "out of range");
    ASSERT_TOML_ERR("a = 012", "leading zero");
    ASSERT_TOML_ERR("a = 1__0", "invalid");
    ASSERT_TOML_ERR("a = _1", "invalid");
    ASSERT_TOML_ERR("a = 1_", "invalid");
    ASSERT_TOML_ERR("a = -0x1", "invalid");
    ASSERT_TOML_ERR("a = 0xG", "invalid");
    ASSERT_TOML_ERR("a = 0b102", "invalid");
}

TEST(toml_floats) {
    ASSERT_TOML("a = 1.5\nb = -0.25\nc = 5e+2\nd = 6.25E-1\ne = 1_0.5",
                "{\"a\":1.5,\"b\":-0.25,\"c\":500.0,\"d\":0.625,\"e\":10.5}");
    ASSERT_TOML("a = inf\nb = -inf\nc = +nan\nd = +inf",
                "{\"a\":\"inf\",\"b\":\"-inf\",\"c\":\"nan\",\"d\":\"inf\"}");
    ASSERT_TOML_ERR("a = .5", "invalid");
    ASSERT_TOML_ERR("a = 5.", "invalid");
    ASSERT_TOML_ERR("a = 1.e5", "invalid");
    ASSERT_TOML_ERR("a = 1e", "invalid");
    ASSERT_TOML_ERR("a = 03.14", "leading zero");
    ASSERT_TOML_ERR("a = 1e999", "out of range");
}

TEST(toml_booleans_and_datetimes) {
    ASSERT_TOML("t = true\nf = false", "{\"f\":false,\"t\":true}");
    ASSERT_TOML("a = 1979-05-27T07:32:00Z\nb = 1979-05-27T00:32:00.999999-07:00\n"
                "c = 1979-05-27 07:32:00\nd = 1979-05-27\ne = 07:32:00\nf = 00:32:00.5",
                "{\"a\":\"1979-05-27T07:32:00Z\",\"b\":\"1979-05-27T00:32:00.999999-07:00\","
                "\"c\":\"1979-05-27 07:32:00\",\"d\":\"1979-05-27\",\"e\":\"07:32:00\","
                "\"f\":\"00:32:00.5\"}");
    ASSERT_TOML("d = 2000-02-29 # a leap day", "{\"d\":\"2000-02-29\"}");
    ASSERT_TOML_ERR("d = 1900-02-29", "invalid date");
    ASSERT_TOML_ERR("d = 1979-13-01", "invalid date");
    ASSERT_TOML_ERR("t = 24:00:00", "invalid date");
    ASSERT_TOML_ERR("t = 1979-05-27T07:32", "invalid date");
    ASSERT_TOML_ERR("a = truee", "invalid");
    ASSERT_TOML_ERR("a = True", "invalid");
}

TEST(toml_strings) {
    ASSERT_TOML("s = \"tab\\tq\\\" bs\\\\ \\u00e9 \\U0001F600\"",
                "{\"s\":\"tab\\tq\\\" bs\\\\ \xc3\xa9 \xf0\x9f\x98\x80\"}");
    ASSERT_TOML("s = 'C:\\Users\\n'", "{\"s\":\"C:\\\\Users\\\\n\"}");
    ASSERT_TOML("s = \"\"\"\nRoses\nViolets\"\"\"", "{\"s\":\"Roses\\nViolets\"}");
    ASSERT_TOML("s = \"\"\"\nThe quick \\\n\n   brown \\\n   fox.\"\"\"",
                "{\"s\":\"The quick brown fox.\"}");
    ASSERT_TOML("s = \"\"\"two \"\" quotes, then five\"\"\"\"\"",
                "{\"s\":\"two \\\"\\\" quotes, then five\\\"\\\"\"}");
    ASSERT_TOML("s = '''\nraw \\n\n'''", "{\"s\":\"raw \\\\n\\n\"}");
    ASSERT_TOML("s = ''''one quote''''", "{\"s\":\"'one quote'\"}");
    ASSERT_TOML("s = \"nul \\u0000 kept\"", "{\"s\":\"nul \\u0000 kept\"}");
    ASSERT_TOML("s = \"\"\nt = ''", "{\"s\":\"\",\"t\":\"\"}");
    ASSERT_TOML_ERR("s = \"abc", "unterminated string");
    ASSERT_TOML_ERR("s = \"a\nb\"", "unterminated string");
    ASSERT_TOML_ERR("s = \"\\x41\"", "invalid escape");
    ASSERT_TOML_ERR("s = \"\\uD800\"", "not a Unicode scalar value");
    ASSERT_TOML_ERR("s = \"\\u12\"", "hexadecimal digits");
    ASSERT_TOML_ERR("s = \"a\x01\"", "control character");
    ASSERT_TOML_ERR("s = \"\"\"abc", "unterminated multi-line string");
    ASSERT_TOML_ERR("s = \"\xff\"", "invalid UTF-8");
    ASSERT_TOML_ERR("s = \"\xc0\xaf\"", "invalid UTF-8");
}

TEST(toml_keys) {
    ASSERT_TOML("bare_key-1 = 1\n\"quoted \\\" key\" = 2\n'lit' = 3\n1234 = 4",
                "{\"1234\":4,\"bare_key-1\":1,\"lit\":3,\"quoted \\\" key\":2}");
    ASSERT_TOML("a.b.c = 1\na . b . d = 2\n\"x.y\".z = 3\n3.14 = 'pi'",
                "{\"3\":{\"14\":\"pi\"},\"a\":{\"b\":{\"c\":1,\"d\":2}},\"x.y\":{\"z\":3}}");
    ASSERT_TOML("\"\" = 1", "{\"\":1}");
    ASSERT_TOML_ERR("a = 1\na = 2", "line 2: duplicate key `a`");
    ASSERT_TOML_ERR("a.b = 1\na.b = 2", "duplicate key `a.b`");
    ASSERT_TOML_ERR("a = 1\na.b = 2", "`a` is already defined");
    ASSERT_TOML_ERR("= 1", "expected a key");
    ASSERT_TOML_ERR("a b = 1", "expected `=`");
    ASSERT_TOML_ERR("a = ", "expected a value");
    ASSERT_TOML_ERR("a = 1 b = 2", "expected the end of the line");
    ASSERT_TOML_ERR("\"a\\u0000\" = 1", "NUL");
}

TEST(toml_tables) {
    ASSERT_TOML("[a]\nx = 1\n[b.c]\ny = 2\n[ d . 'e' ]\n",
                "{\"a\":{\"x\":1},\"b\":{\"c\":{\"y\":2}},\"d\":{\"e\":{}}}");
    /* a super-table after its sub-table, and sub-tables of dotted tables */
    ASSERT_TOML("[x.y.z]\n[x]\nw = 1", "{\"x\":{\"w\":1,\"y\":{\"z\":{}}}}");
    ASSERT_TOML("[fruit]\napple.color = 'red'\n[fruit.apple.texture]\nsmooth = true",
                "{\"fruit\":{\"apple\":{\"color\":\"red\",\"texture\":{\"smooth\":true}}}}");
    ASSERT_TOML_ERR("[a]\n[a]", "line 2: table `a` is defined twice");
    ASSERT_TOML_ERR("[a]\nb = 1\n[a.b]", "table `a.b` is defined twice");
    ASSERT_TOML_ERR("[fruit]\napple.color = 'red'\n[fruit.apple]", "defined twice");
    ASSERT_TOML_ERR("[a.b.c]\nz = 9\n[a]\nb.c.t = 1", "`b` is already defined");
    ASSERT_TOML_ERR("a = {}\n[a]", "defined twice");
    ASSERT_TOML_ERR("a = {b = 1}\n[a.c]", "`a` is not a table that can be extended");
    ASSERT_TOML_ERR("[a", "expected `]`");
    ASSERT_TOML_ERR("[a] x", "expected the end of the line");
    ASSERT_TOML_ERR("[]", "expected a key");
}

TEST(toml_arrays_of_tables) {
    ASSERT_TOML("[[f]]\nn = 'a'\n[f.p]\nc = 1\n[[f.v]]\nn = 'x'\n[[f.v]]\nn = 'y'\n[[f]]\nn = 'b'",
                "{\"f\":[{\"n\":\"a\",\"p\":{\"c\":1},\"v\":[{\"n\":\"x\"},{\"n\":\"y\"}]},"
                "{\"n\":\"b\"}]}");
    ASSERT_TOML_ERR("a = [1]\n[[a]]", "not an array of tables");
    ASSERT_TOML_ERR("[a]\n[[a]]", "not an array of tables");
    ASSERT_TOML_ERR("[[a]]\n[a]", "defined twice");
    ASSERT_TOML_ERR("[[a]", "expected `]]`");
}

TEST(toml_arrays_and_inline_tables) {
    ASSERT_TOML("a = [ 1, 2, ]\nb = [\n  'x', # comment\n  \"y\"\n]\nc = [[1, 2], ['a'], []]\n"
                "d = [1, 'mixed', {k = true}]",
                "{\"a\":[1,2],\"b\":[\"x\",\"y\"],\"c\":[[1,2],[\"a\"],[]],"
                "\"d\":[1,\"mixed\",{\"k\":true}]}");
    ASSERT_TOML("p = { x = 1, y.z = 2, 'q' = { r = [] } }\ne = {}",
                "{\"e\":{},\"p\":{\"q\":{\"r\":[]},\"x\":1,\"y\":{\"z\":2}}}");
    ASSERT_TOML_ERR("a = [1 2]", "expected `,` or `]`");
    ASSERT_TOML_ERR("a = [1,,2]", "expected a value");
    ASSERT_TOML_ERR("a = {x = 1,}", "expected a key");
    ASSERT_TOML_ERR("a = {x = 1\n}", "expected `,` or `}`");
    ASSERT_TOML_ERR("a = {x = 1, x = 2}", "duplicate key `x`");
    ASSERT_TOML_ERR("a = {b.c = 1}\na.b.d = 2", "`a` is already defined");
    ASSERT_TOML_ERR("a = [", "line 1: expected a value");
    /* the document's characters in a message are shown, never a line break (found by the
     * Spin manifest's fuzzer) */
    ASSERT_TOML_ERR("a = \"x\\\n\"", "line 1: invalid escape \\?");
    ASSERT_TOML_ERR("a = \"x\\\t\"", "line 1: invalid escape \\?");
}

TEST(toml_limits_and_lines) {
    char deep[400];
    size_t n = 0;
    n += (size_t)sprintf(deep, "a = ");
    for (int i = 0; i < WB_TOML_MAX_DEPTH + 2; i++) deep[n++] = '[';
    deep[n] = 0;
    ASSERT_TOML_ERR(deep, "nesting deeper than");
    ASSERT_TOML_ERR("a = 1\n\n\nb = \"x\x7f\"", "line 4: control character");
    ASSERT_TOML_ERR("a = '''\n\n'''\nb = ?", "line 4: expected a value");
    ASSERT_TOML_ERR("a = 1\rb = 2", "carriage return");
    ASSERT_TOML_ERR("# bad \x01 comment", "control character 0x01 in a comment");
    wb_error err;
    ASSERT_TRUE(wb_toml_parse("a = 1\0", 6, &err) == NULL);
    ASSERT_STR_CONTAINS(err.msg, "NUL");
}

TEST(toml_load_names_the_file) {
    char path[] = "/tmp/wb-toml-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    const char *doc = "[data.kv]\nnamespace = 'x'\n[data.kv]\n";
    ASSERT_EQ(write(fd, doc, strlen(doc)), (long long)strlen(doc));
    close(fd);
    wb_error err;
    ASSERT_TRUE(wb_toml_load(path, &err) == NULL);
    ASSERT_STR_CONTAINS(err.msg, path);
    ASSERT_STR_CONTAINS(err.msg, "line 3: table `data.kv` is defined twice");
    unlink(path);
    ASSERT_TRUE(wb_toml_load(path, &err) == NULL);
    ASSERT_STR_CONTAINS(err.msg, "No such file");
}
