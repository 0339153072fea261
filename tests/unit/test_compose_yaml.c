/* The Compose YAML loader and dumper (src/compose/yaml.h): go-yaml v3's scalars, quoting, block
 * scalars, tags, anchors, aliases and merge keys, !reset/!override by path, errors with
 * FILE:LINE:COL, source lines by path, limits (alias bombs, nesting, size), dump round-trips, and
 * the seed's Compose files. */
#include <errno.h>
#include <math.h>
#include <time.h>

#include "harness.h"

#include "compose/yaml.h"

static wb_yaml_doc *load_ok_at(const char *file, int line, const char *text) {
    wb_yaml_doc *d = NULL;
    wb_error err = {0};
    if (wb_yaml_load(text, strlen(text), "t.yaml", &d, &err) < 0)
        wb_test_fail(file, line, "load failed: %s", err.msg);
    return d;
}
#define load_ok(text) load_ok_at(__FILE__, __LINE__, text)

/* The error message of a load that must fail. */
static const char *load_err_at(const char *file, int line, const char *text, size_t len) {
    static wb_error err;
    wb_yaml_doc *d = NULL;
    memset(&err, 0, sizeof err);
    if (wb_yaml_load(text, len, "t.yaml", &d, &err) == 0) {
        char *s = json_dumps(wb_yaml_root(d), JSON_ENCODE_ANY);
        wb_test_fail(file, line, "loaded, expected an error: %s", s ? s : "?");
    }
    if (d) wb_test_fail(file, line, "a failed load left *out set");
    return err.msg;
}
#define load_err(text) load_err_at(__FILE__, __LINE__, text, strlen(text))

/* The root of `text` as compact JSON text (the document is freed). */
static char *as_json_at(const char *file, int line, const char *text) {
    wb_yaml_doc *d = load_ok_at(file, line, text);
    char *s = json_dumps(wb_yaml_root(d), JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(17));
    wb_yaml_free(d);
    return s;
}
#define ASSERT_YAML_JSON(text, json)                                                               \
    do {                                                                                           \
        char *wb_s_ = as_json_at(__FILE__, __LINE__, text);                                        \
        ASSERT_STR_EQ(wb_s_, json);                                                                \
        free(wb_s_);                                                                               \
    } while (0)

/* `v: TEXT` → the JSON of v */
static char *value_json_at(const char *file, int line, const char *scalar) {
    char doc[512];
    snprintf(doc, sizeof doc, "v: %s\n", scalar);
    wb_yaml_doc *d = load_ok_at(file, line, doc);
    char *s = json_dumps(json_object_get(wb_yaml_root(d), "v"),
                         JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(17));
    wb_yaml_free(d);
    return s;
}
#define ASSERT_VALUE(scalar, json)                                                                 \
    do {                                                                                           \
        char *wb_s_ = value_json_at(__FILE__, __LINE__, scalar);                                   \
        if (!wb_s_ || strcmp(wb_s_, json) != 0)                                                    \
            wb_test_fail(__FILE__, __LINE__, "v: %s gave %s, expected %s", scalar,                 \
                         wb_s_ ? wb_s_ : "(null)", json);                                          \
        free(wb_s_);                                                                               \
    } while (0)

TEST(compose_yaml_plain_null_bool) {
    ASSERT_VALUE("", "null");
    ASSERT_VALUE("~", "null");
    ASSERT_VALUE("null", "null");
    ASSERT_VALUE("Null", "null");
    ASSERT_VALUE("NULL", "null");
    ASSERT_VALUE("nULL", "\"nULL\"");
    ASSERT_VALUE("true", "true");
    ASSERT_VALUE("True", "true");
    ASSERT_VALUE("TRUE", "true");
    ASSERT_VALUE("false", "false");
    ASSERT_VALUE("False", "false");
    ASSERT_VALUE("FALSE", "false");
    ASSERT_VALUE("tRUE", "\"tRUE\"");
    /* YAML 1.1 booleans are strings in go-yaml v3 */
    ASSERT_VALUE("yes", "\"yes\"");
    ASSERT_VALUE("no", "\"no\"");
    ASSERT_VALUE("on", "\"on\"");
    ASSERT_VALUE("off", "\"off\"");
    ASSERT_VALUE("y", "\"y\"");
    ASSERT_VALUE("N", "\"N\"");
}

TEST(compose_yaml_plain_integers) {
    ASSERT_VALUE("0", "0");
    ASSERT_VALUE("42", "42");
    ASSERT_VALUE("+42", "42");
    ASSERT_VALUE("-42", "-42");
    ASSERT_VALUE("0x1F", "31");
    ASSERT_VALUE("0X1f", "31");
    ASSERT_VALUE("-0x10", "-16");
    ASSERT_VALUE("0o17", "15");
    ASSERT_VALUE("-0o17", "-15");
    ASSERT_VALUE("0777", "511"); /* go-yaml v3 keeps YAML 1.1 octals */
    ASSERT_VALUE("0b101", "5");
    ASSERT_VALUE("-0b101", "-5");
    ASSERT_VALUE("1_000", "1000");
    ASSERT_VALUE("1__0_", "10");
    ASSERT_VALUE("9223372036854775807", "9223372036854775807");
    ASSERT_VALUE("-9223372036854775808", "-9223372036854775808");
    /* uint64 to go-yaml: a real here */
    ASSERT_VALUE("9223372036854775808", "9.2233720368547758e18");
    ASSERT_VALUE("18446744073709551615", "1.8446744073709552e19");
    ASSERT_VALUE("0xFFFFFFFFFFFFFFFF", "1.8446744073709552e19");
    /* beyond uint64: decimal → float, prefixed → string */
    ASSERT_VALUE("99999999999999999999", "1e20");
    ASSERT_VALUE("-9223372036854775809", "-9.2233720368547758e18");
    ASSERT_VALUE("0x10000000000000000", "\"0x10000000000000000\"");
    ASSERT_VALUE("0x", "\"0x\"");
    ASSERT_VALUE("0b", "\"0b\"");
    ASSERT_VALUE("0b102", "\"0b102\"");
    ASSERT_VALUE("12abc", "\"12abc\"");
    ASSERT_VALUE("+", "\"+\"");
    ASSERT_VALUE("1 000", "\"1 000\"");
    ASSERT_VALUE("0.0.0.0", "\"0.0.0.0\"");
    ASSERT_VALUE("8080:80", "\"8080:80\"");
    ASSERT_VALUE("2001-12-14", "\"2001-12-14\"");
    ASSERT_VALUE("1:20", "\"1:20\""); /* no sexagesimal in YAML 1.2 */
}

TEST(compose_yaml_plain_floats) {
    ASSERT_VALUE("1.5", "1.5");
    ASSERT_VALUE("-1.5", "-1.5");
    ASSERT_VALUE("+1.5", "1.5");
    ASSERT_VALUE(".5", "0.5");
    ASSERT_VALUE("1.", "1.0");
    ASSERT_VALUE("1e3", "1000.0");
    ASSERT_VALUE("1E3", "1000.0");
    ASSERT_VALUE("-2.5e-3", "-0.0025000000000000001");
    ASSERT_VALUE("1_000.5", "1000.5");
    ASSERT_VALUE(".5e1", "5.0");
    ASSERT_VALUE("08", "8.0"); /* go-yaml: not an octal, but a float */
    ASSERT_VALUE("0.1", "0.10000000000000001");
    ASSERT_VALUE("1e400", "\"1e400\""); /* ParseFloat's range error: a string */
    ASSERT_VALUE(".", "\".\"");
    ASSERT_VALUE(".e1", "\".e1\"");
    ASSERT_VALUE("1e", "\"1e\"");
    ASSERT_VALUE("0x1p3", "\"0x1p3\"");
    ASSERT_VALUE("1.5.2", "\"1.5.2\"");
    /* NaN and infinities cannot be JSON: their text */
    ASSERT_VALUE(".inf", "\".inf\"");
    ASSERT_VALUE(".Inf", "\".Inf\"");
    ASSERT_VALUE("+.INF", "\"+.INF\"");
    ASSERT_VALUE("-.inf", "\"-.inf\"");
    ASSERT_VALUE(".nan", "\".nan\"");
    ASSERT_VALUE(".NaN", "\".NaN\"");
    ASSERT_VALUE("inf", "\"inf\"");
    ASSERT_VALUE("nan", "\"nan\"");
}

TEST(compose_yaml_quoted_and_strings) {
    ASSERT_VALUE("\"123\"", "\"123\"");
    ASSERT_VALUE("'123'", "\"123\"");
    ASSERT_VALUE("\"true\"", "\"true\"");
    ASSERT_VALUE("'null'", "\"null\"");
    ASSERT_VALUE("\"\"", "\"\"");
    ASSERT_VALUE("''", "\"\"");
    ASSERT_VALUE("'it''s'", "\"it's\"");
    ASSERT_VALUE("\"a\\tb\\n\\u00e9\\x41\"", "\"a\\tb\\néA\"");
    ASSERT_VALUE("nginx:alpine", "\"nginx:alpine\"");
    ASSERT_VALUE("mysql://root:whalehello@db:3306/mysql",
                 "\"mysql://root:whalehello@db:3306/mysql\"");
    ASSERT_VALUE("a b  c", "\"a b  c\"");
    ASSERT_VALUE("héllo 日本", "\"héllo 日本\"");
    ASSERT_VALUE("a # comment", "\"a\"");
    ASSERT_VALUE("\"<<\"", "\"<<\"");
    ASSERT_VALUE("<<", "\"<<\"");
    /* folded plain scalar over lines */
    ASSERT_YAML_JSON("v: one\n  two\n\n  three\n", "{\"v\":\"one two\\nthree\"}");
}

TEST(compose_yaml_block_scalars) {
    ASSERT_YAML_JSON("a: |\n  line 1\n  line 2\n\nb: x\n",
                     "{\"a\":\"line 1\\nline 2\\n\",\"b\":\"x\"}");
    ASSERT_YAML_JSON("a: |-\n  line 1\n  line 2\n\n", "{\"a\":\"line 1\\nline 2\"}");
    ASSERT_YAML_JSON("a: |+\n  line 1\n\n\nb: 1\n", "{\"a\":\"line 1\\n\\n\\n\",\"b\":1}");
    ASSERT_YAML_JSON("a: >\n  folded\n  text\n\n  para\n", "{\"a\":\"folded text\\npara\\n\"}");
    ASSERT_YAML_JSON("a: >-\n  folded\n  text\n", "{\"a\":\"folded text\"}");
    ASSERT_YAML_JSON("a: |2\n    indented\n  x\n", "{\"a\":\"  indented\\nx\\n\"}");
    ASSERT_YAML_JSON("a: |\n  123\n", "{\"a\":\"123\\n\"}");
    ASSERT_YAML_JSON("a: |\n  #!/bin/sh\n  echo $$HOME\n",
                     "{\"a\":\"#!/bin/sh\\necho $$HOME\\n\"}");
}

TEST(compose_yaml_collections_and_order) {
    ASSERT_YAML_JSON("z: 1\na: 2\nm: 3\n", "{\"z\":1,\"a\":2,\"m\":3}");
    ASSERT_YAML_JSON("- a\n- - b\n  - c\n- {x: 1, y: [2, 3]}\n- []\n- {}\n",
                     "[\"a\",[\"b\",\"c\"],{\"x\":1,\"y\":[2,3]},[],{}]");
    ASSERT_YAML_JSON("a:\nb: ~\n", "{\"a\":null,\"b\":null}");
    ASSERT_YAML_JSON("? complex\n: value\n", "{\"complex\":\"value\"}");
    /* keys are their text */
    ASSERT_YAML_JSON("1: a\ntrue: b\n1.5: c\n~: d\n'q': e\n",
                     "{\"1\":\"a\",\"true\":\"b\",\"1.5\":\"c\",\"~\":\"d\",\"q\":\"e\"}");
    ASSERT_YAML_JSON("42\n", "42");
    ASSERT_YAML_JSON("\"just a string\"\n", "\"just a string\"");
    ASSERT_YAML_JSON("", "null");
    ASSERT_YAML_JSON("# only a comment\n", "null");
    ASSERT_YAML_JSON("---\n", "null");
    ASSERT_YAML_JSON("---\na: 1\n...\n", "{\"a\":1}");
    ASSERT_YAML_JSON("%YAML 1.1\n---\na: 1\n", "{\"a\":1}");
}

TEST(compose_yaml_tags) {
    ASSERT_VALUE("!!str 123", "\"123\"");
    ASSERT_VALUE("!!str true", "\"true\"");
    ASSERT_VALUE("!!str", "\"\"");
    ASSERT_VALUE("!!int \"42\"", "42");
    ASSERT_VALUE("!!int 0x10", "16");
    ASSERT_VALUE("!!float 1", "1.0");
    ASSERT_VALUE("!!float '2.5'", "2.5");
    ASSERT_VALUE("!!bool \"true\"", "true");
    ASSERT_VALUE("!!null ''", "null");
    ASSERT_VALUE("!!null ~", "null");
    ASSERT_VALUE("! 12", "12"); /* the non-specific tag: go-yaml resolves as plain */
    ASSERT_VALUE("!<tag:yaml.org,2002:str> 5", "\"5\"");
    ASSERT_VALUE("!!map {a: 1}", "{\"a\":1}");
    ASSERT_VALUE("!!seq [1]", "[1]");
    ASSERT_STR_CONTAINS(load_err("v: !!int abc\n"),
                        "t.yaml:1:4: cannot decode !!str `abc` as a !!int");
    ASSERT_STR_CONTAINS(load_err("v: !!bool yes\n"), "cannot decode !!str `yes` as a !!bool");
    ASSERT_STR_CONTAINS(load_err("v: !!int 1.5\n"), "cannot decode !!float `1.5` as a !!int");
    ASSERT_STR_CONTAINS(load_err("v: !!null 0\n"), "cannot decode !!int `0` as a !!null");
    ASSERT_STR_CONTAINS(load_err("v: !!float 18446744073709551615\n"),
                        "cannot decode !!int `18446744073709551615` as a !!float");
    ASSERT_STR_CONTAINS(load_err("v: !!binary aGk=\n"), "t.yaml:1:4: unsupported tag !!binary");
    ASSERT_STR_CONTAINS(load_err("v: !!map 1\n"), "!!map");
    ASSERT_STR_CONTAINS(load_err("v: !!str [1]\n"), "!!str");
}

TEST(compose_yaml_unknown_tag) {
    const char *msg = load_err("services:\n  web:\n    image: !foo bar\n");
    ASSERT_STR_CONTAINS(msg, "t.yaml:3:12: unknown tag !foo");
    ASSERT_STR_CONTAINS(load_err("a: !<tag:example.com,2000:app/x> 1\n"),
                        "tag:example.com,2000:app/x");
    ASSERT_STR_CONTAINS(load_err("a: !resets [1]\n"), "unknown tag !resets");
}

TEST(compose_yaml_reset_override_paths) {
    wb_yaml_doc *d = load_ok("services:\n"
                             "  web:\n"
                             "    image: nginx\n"
                             "    ports: !reset []\n"
                             "    environment: !override\n"
                             "      A: \"1\"\n"
                             "    build: !reset null\n"
                             "    command: !override echo hi\n"
                             "    cpus: !reset 1.5\n"
                             "    volumes:\n"
                             "      - !reset\n"
                             "      - /data\n");
    json_t *web = json_object_get(json_object_get(wb_yaml_root(d), "services"), "web");
    ASSERT_EQ(wb_yaml_tags(d, "services.web.ports"), WB_YAML_RESET);
    ASSERT_EQ(wb_yaml_tags(d, "services.web.environment"), WB_YAML_OVERRIDE);
    ASSERT_EQ(wb_yaml_tags(d, "services.web.build"), WB_YAML_RESET);
    ASSERT_EQ(wb_yaml_tags(d, "services.web.command"), WB_YAML_OVERRIDE);
    ASSERT_EQ(wb_yaml_tags(d, "services.web.cpus"), WB_YAML_RESET);
    ASSERT_EQ(wb_yaml_tags(d, "services.web.volumes[0]"), WB_YAML_RESET);
    ASSERT_EQ(wb_yaml_tags(d, "services.web.volumes[1]"), 0);
    ASSERT_EQ(wb_yaml_tags(d, "services.web.image"), 0);
    ASSERT_EQ(wb_yaml_tags(d, "services.web"), 0);
    ASSERT_EQ(wb_yaml_tags(d, "services.web.nope"), 0);
    /* the nodes are kept, resolved as untagged */
    ASSERT_EQ(json_array_size(json_object_get(web, "ports")), 0);
    ASSERT_TRUE(json_is_array(json_object_get(web, "ports")));
    ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(web, "environment"), "A")),
                  "1");
    ASSERT_TRUE(json_is_null(json_object_get(web, "build")));
    ASSERT_STR_EQ(json_string_value(json_object_get(web, "command")), "echo hi");
    ASSERT_TRUE(json_real_value(json_object_get(web, "cpus")) == 1.5);
    ASSERT_TRUE(json_is_null(json_array_get(json_object_get(web, "volumes"), 0)));
    wb_yaml_free(d);

    /* through an alias and a merge key, the tag follows the node */
    d = load_ok("x-base: &base\n"
                "  ports: !reset []\n"
                "  env: &env !override {A: 1}\n"
                "services:\n"
                "  a: *base\n"
                "  b:\n"
                "    <<: *base\n"
                "  c:\n"
                "    e: *env\n");
    ASSERT_EQ(wb_yaml_tags(d, "x-base.ports"), WB_YAML_RESET);
    ASSERT_EQ(wb_yaml_tags(d, "services.a.ports"), WB_YAML_RESET);
    ASSERT_EQ(wb_yaml_tags(d, "services.b.ports"), WB_YAML_RESET);
    ASSERT_EQ(wb_yaml_tags(d, "services.b.env"), WB_YAML_OVERRIDE);
    ASSERT_EQ(wb_yaml_tags(d, "services.c.e"), WB_YAML_OVERRIDE);
    ASSERT_EQ(wb_yaml_tags(d, "services.c"), 0);
    wb_yaml_free(d);
}

TEST(compose_yaml_anchors_aliases) {
    wb_yaml_doc *d = load_ok("x-env: &env\n"
                             "  A: 1\n"
                             "  L: [a, b]\n"
                             "one: *env\n"
                             "two: *env\n"
                             "s: &s scalar\n"
                             "t: *s\n"
                             "list:\n"
                             "  - &item {k: v}\n"
                             "  - *item\n");
    json_t *root = wb_yaml_root(d);
    ASSERT_TRUE(json_equal(json_object_get(root, "one"), json_object_get(root, "x-env")));
    ASSERT_TRUE(json_equal(json_object_get(root, "two"), json_object_get(root, "x-env")));
    /* deep copies, not shared nodes */
    ASSERT_TRUE(json_object_get(root, "one") != json_object_get(root, "two"));
    ASSERT_TRUE(json_object_get(json_object_get(root, "one"), "L") !=
                json_object_get(json_object_get(root, "two"), "L"));
    ASSERT_STR_EQ(json_string_value(json_object_get(root, "t")), "scalar");
    json_t *list = json_object_get(root, "list");
    ASSERT_TRUE(json_equal(json_array_get(list, 0), json_array_get(list, 1)));
    ASSERT_TRUE(json_array_get(list, 0) != json_array_get(list, 1));
    wb_yaml_free(d);

    /* an anchor may be defined again; an alias takes the latest */
    ASSERT_YAML_JSON("a: &x 1\nb: *x\nc: &x 2\nd: *x\n", "{\"a\":1,\"b\":1,\"c\":2,\"d\":2}");
    /* alias as a key */
    ASSERT_YAML_JSON("k: &k name\n*k : v\n", "{\"k\":\"name\",\"name\":\"v\"}");
    ASSERT_STR_CONTAINS(load_err("a: *nope\n"), "t.yaml:1:4: unknown anchor \"nope\" referenced");
    ASSERT_STR_CONTAINS(load_err("a: &a [1, *a]\n"), "anchor \"a\" value contains itself");
    ASSERT_STR_CONTAINS(load_err("a: &a {b: *a}\n"), "t.yaml:1:11:");
}

TEST(compose_yaml_merge_keys) {
    /* single mapping; the mapping's own keys win wherever they are written */
    ASSERT_YAML_JSON("base: &b {x: 1, y: 2}\n"
                     "c:\n"
                     "  y: 3\n"
                     "  <<: *b\n"
                     "  z: 4\n",
                     "{\"base\":{\"x\":1,\"y\":2},\"c\":{\"y\":3,\"x\":1,\"z\":4}}");
    ASSERT_YAML_JSON("base: &b {x: 1, y: 2}\n"
                     "c:\n"
                     "  <<: *b\n"
                     "  y: 3\n",
                     "{\"base\":{\"x\":1,\"y\":2},\"c\":{\"x\":1,\"y\":3}}");
    /* a list: the first mapping to give a key wins */
    ASSERT_YAML_JSON("a: &a {k: a, only_a: 1}\n"
                     "b: &b {k: b, only_b: 2}\n"
                     "c:\n"
                     "  <<: [*a, *b]\n"
                     "  own: 3\n",
                     "{\"a\":{\"k\":\"a\",\"only_a\":1},\"b\":{\"k\":\"b\",\"only_b\":2},"
                     "\"c\":{\"k\":\"a\",\"only_a\":1,\"only_b\":2,\"own\":3}}");
    ASSERT_YAML_JSON("a: &a {k: a}\nb: &b {k: b}\nc: {<<: [*b, *a]}\n",
                     "{\"a\":{\"k\":\"a\"},\"b\":{\"k\":\"b\"},\"c\":{\"k\":\"b\"}}");
    /* an inline mapping, nested merges (the merged mapping's own keys win in it too) */
    ASSERT_YAML_JSON("c:\n  <<: {p: 1, q: 2}\n  q: 3\n", "{\"c\":{\"p\":1,\"q\":3}}");
    ASSERT_YAML_JSON("a: &a {k: a, m: a}\n"
                     "b: &b {<<: *a, k: b}\n"
                     "c: {<<: *b}\n",
                     "{\"a\":{\"k\":\"a\",\"m\":\"a\"},\"b\":{\"m\":\"a\",\"k\":\"b\"},"
                     "\"c\":{\"m\":\"a\",\"k\":\"b\"}}");
    /* the YAML 1.1 spec's example: all four give the same mapping */
    ASSERT_YAML_JSON("- &CENTER { x: 1, 'y': 2 }\n"
                     "- &LEFT { x: 0, 'y': 2 }\n"
                     "- &BIG { r: 10 }\n"
                     "- &SMALL { r: 1 }\n"
                     "- x: 1\n  'y': 2\n  r: 10\n"
                     "- << : *CENTER\n  r: 10\n"
                     "- << : [ *CENTER, *BIG ]\n"
                     "- << : [ *BIG, *LEFT, *SMALL ]\n  x: 1\n",
                     "[{\"x\":1,\"y\":2},{\"x\":0,\"y\":2},{\"r\":10},{\"r\":1},"
                     "{\"x\":1,\"y\":2,\"r\":10},{\"x\":1,\"y\":2,\"r\":10},"
                     "{\"x\":1,\"y\":2,\"r\":10},{\"r\":10,\"y\":2,\"x\":1}]");
    /* merged values are copies */
    wb_yaml_doc *d = load_ok("a: &a {l: [1]}\nb: {<<: *a}\n");
    json_t *root = wb_yaml_root(d);
    ASSERT_TRUE(json_object_get(json_object_get(root, "a"), "l") !=
                json_object_get(json_object_get(root, "b"), "l"));
    wb_yaml_free(d);
    /* a quoted "<<" and an explicit !!merge */
    ASSERT_YAML_JSON("a: &a {k: 1}\nb: {\"<<\": *a}\n",
                     "{\"a\":{\"k\":1},\"b\":{\"<<\":{\"k\":1}}}");
    ASSERT_YAML_JSON("a: &a {k: 1}\nb: {!!merge <<: *a}\n", "{\"a\":{\"k\":1},\"b\":{\"k\":1}}");
    /* errors */
    ASSERT_STR_CONTAINS(load_err("a: &a 1\nb: {<<: *a}\n"),
                        "t.yaml:2:9: map merge requires map or sequence of maps as the value");
    ASSERT_STR_CONTAINS(load_err("a: &a 1\nb: {<<: [*a]}\n"), "map merge requires map");
    ASSERT_STR_CONTAINS(load_err("b: {<<: [{k: 1}, [2]]}\n"), "map merge requires map");
    ASSERT_STR_CONTAINS(load_err("a: &a {k: 1}\nb:\n  <<: *a\n  <<: *a\n"),
                        "t.yaml:4:3: mapping key \"<<\" already defined at line 3");
}

TEST(compose_yaml_duplicate_key) {
    ASSERT_STR_EQ(load_err("a: 1\nb: 2\na: 3\n"),
                  "t.yaml:3:1: mapping key \"a\" already defined at line 1");
    ASSERT_STR_EQ(load_err("services:\n  web:\n    image: x\n\n    image: y\n"),
                  "t.yaml:5:5: mapping key \"image\" already defined at line 3");
    /* by text, as go-yaml compares them */
    ASSERT_STR_CONTAINS(load_err("1: a\n\"1\": b\n"),
                        "mapping key \"1\" already defined at line 1");
    ASSERT_STR_CONTAINS(load_err("{a: 1, a: 2}\n"), "t.yaml:1:8: mapping key \"a\" already");
    /* merged keys are not duplicates */
    ASSERT_YAML_JSON("a: &a {k: 1}\nb: {<<: *a, k: 2}\n", "{\"a\":{\"k\":1},\"b\":{\"k\":2}}");
}

TEST(compose_yaml_multi_document) {
    ASSERT_STR_CONTAINS(load_err("a: 1\n---\nb: 2\n"), "t.yaml:2:1: ");
    ASSERT_STR_CONTAINS(load_err("a: 1\n---\nb: 2\n"), "more than one YAML document");
    ASSERT_STR_CONTAINS(load_err("---\na: 1\n...\n---\n"), "t.yaml:4:1: more than one");
}

TEST(compose_yaml_syntax_errors) {
    const char *msg = load_err("services:\n  web:\n    image: x\n   ports: 1\n");
    ASSERT_STR_CONTAINS(msg, "t.yaml:4:");
    msg = load_err("a: [1, 2\nb: 3\n");
    ASSERT_TRUE(strncmp(msg, "t.yaml:", 7) == 0);
    ASSERT_STR_CONTAINS(msg, "did not find expected ',' or ']'");
    ASSERT_STR_CONTAINS(msg, "while parsing a flow sequence at line 1");
    ASSERT_STR_CONTAINS(load_err("a: 'open\n"), "t.yaml:2:1: found unexpected end of stream");
    ASSERT_STR_CONTAINS(load_err("a: b: c\n"), "t.yaml:1:5: mapping values are not allowed");
    ASSERT_STR_CONTAINS(load_err("\ta: 1\n"), "t.yaml:1:1: found character that cannot start");
    /* reader errors: line and column counted from the offset */
    ASSERT_STR_CONTAINS(load_err_at(__FILE__, __LINE__, "a: 1\nb: x\xff\n", 10),
                        "t.yaml:2:5: invalid leading UTF-8 octet");
    ASSERT_STR_CONTAINS(load_err_at(__FILE__, __LINE__, "a: x\x01", 5),
                        "t.yaml:1:5: control characters are not allowed");
    /* a NUL within a scalar */
    ASSERT_STR_CONTAINS(load_err("a: \"x\\0y\"\n"), "t.yaml:1:4: a NUL character");
    /* keys must be scalars */
    ASSERT_STR_CONTAINS(load_err("? [1, 2]\n: x\n"), "t.yaml:1:3: a mapping key must be a scalar");
    ASSERT_STR_CONTAINS(load_err("? {a: 1}\n: x\n"), "a mapping key must be a scalar");
    /* the file name is the caller's */
    wb_error err = {0};
    wb_yaml_doc *d = NULL;
    ASSERT_EQ(wb_yaml_load("a: [", 4, "dir/compose.yaml", &d, &err), -1);
    ASSERT_STR_EQ(err.msg, "dir/compose.yaml:2:1: did not find expected node content (while "
                           "parsing a flow node at line 2, column 1)");
    ASSERT_EQ(err.code, EINVAL);
}

TEST(compose_yaml_lines_by_path) {
    wb_yaml_doc *d = load_ok("# comment\n"                 /* 1 */
                             "x-common: &common\n"         /* 2 */
                             "  restart: always\n"         /* 3 */
                             "  labels:\n"                 /* 4 */
                             "    com.example.tier: web\n" /* 5 */
                             "services:\n"                 /* 6 */
                             "  server:\n"                 /* 7 */
                             "    image: demo\n"           /* 8 */
                             "    ports:\n"                /* 9 */
                             "      - 8080:8080\n"         /* 10 */
                             "      - \"9090:90\"\n"       /* 11 */
                             "    environment: {A: 1,\n"   /* 12 */
                             "      B: 2}\n"               /* 13 */
                             "    <<: *common\n"           /* 14 */
                             "  copy: *common\n"           /* 15 */
                             "  list:\n"                   /* 16 */
                             "    - - a\n"                 /* 17 */
                             "      - b\n"                 /* 18 */
                             "    - *common\n"             /* 19 */
                             "    - {k: v}\n");            /* 20 */
    ASSERT_EQ(wb_yaml_line(d, ""), 2);
    ASSERT_EQ(wb_yaml_line(d, "x-common"), 2);
    ASSERT_EQ(wb_yaml_line(d, "x-common.restart"), 3);
    ASSERT_EQ(wb_yaml_line(d, "services"), 6);
    ASSERT_EQ(wb_yaml_line(d, "services.server"), 7);
    ASSERT_EQ(wb_yaml_line(d, "services.server.image"), 8);
    ASSERT_EQ(wb_yaml_line(d, "services.server.ports"), 9);
    ASSERT_EQ(wb_yaml_line(d, "services.server.ports[0]"), 10);
    ASSERT_EQ(wb_yaml_line(d, "services.server.ports[1]"), 11);
    ASSERT_EQ(wb_yaml_line(d, "services.server.ports[2]"), 0);
    ASSERT_EQ(wb_yaml_line(d, "services.server.environment.A"), 12);
    ASSERT_EQ(wb_yaml_line(d, "services.server.environment.B"), 13);
    /* merged and aliased members: where they are written */
    ASSERT_EQ(wb_yaml_line(d, "services.server.restart"), 3);
    ASSERT_EQ(wb_yaml_line(d, "services.server.labels.com.example.tier"), 5);
    ASSERT_EQ(wb_yaml_line(d, "services.copy"), 15);
    ASSERT_EQ(wb_yaml_line(d, "services.copy.restart"), 3);
    ASSERT_EQ(wb_yaml_line(d, "services.copy.labels.com.example.tier"), 5);
    ASSERT_EQ(wb_yaml_line(d, "services.list[0][1]"), 18);
    ASSERT_EQ(wb_yaml_line(d, "services.list[0][0]"), 17);
    ASSERT_EQ(wb_yaml_line(d, "services.list[1]"), 19);
    ASSERT_EQ(wb_yaml_line(d, "services.list[1].restart"), 3);
    ASSERT_EQ(wb_yaml_line(d, "services.list[2].k"), 20);
    /* nothing there */
    ASSERT_EQ(wb_yaml_line(d, "services.nope"), 0);
    ASSERT_EQ(wb_yaml_line(d, "services.server.ports.0"), 0);
    ASSERT_EQ(wb_yaml_line(d, "services.server.image[0]"), 0);
    ASSERT_EQ(wb_yaml_line(d, "services.list[x]"), 0);
    ASSERT_EQ(wb_yaml_line(d, "services."), 0);
    ASSERT_EQ(wb_yaml_line(d, "x-common.labels.com"), 0);
    /* the table is by path: changing the tree does not confuse it */
    json_object_del(json_object_get(wb_yaml_root(d), "services"), "server");
    ASSERT_EQ(wb_yaml_line(d, "services.server.ports[1]"), 11);
    wb_yaml_free(d);

    /* a key with dots next to a shorter one */
    d = load_ok("labels:\n  a: {b: 1}\n  a.b: 2\n");
    ASSERT_EQ(wb_yaml_line(d, "labels.a.b"), 3);
    ASSERT_EQ(wb_yaml_line(d, "labels.a"), 2);
    wb_yaml_free(d);
    d = load_ok("labels:\n  a.b: 2\n  a: {c: 1}\n");
    ASSERT_EQ(wb_yaml_line(d, "labels.a.c"), 3);
    wb_yaml_free(d);
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

TEST(compose_yaml_alias_bomb) {
    /* billion laughs: 9^9 strings if expanded */
    const char *bomb =
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
        "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
        "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
        "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
    double t0 = now_seconds();
    const char *msg = load_err(bomb);
    double t = now_seconds() - t0;
    ASSERT_STR_CONTAINS(msg, "t.yaml:");
    ASSERT_STR_CONTAINS(msg, "1000000 nodes");
    ASSERT_TRUE(t < 2.0);

    /* the same through merge keys, which visit members without building them */
    char text[4096];
    int n = snprintf(text, sizeof text, "m0: &m0 {a: 1, b: 2, c: 3, d: 4}\n");
    for (int i = 1; i <= 30; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "m%d: &m%d {<<: [*m%d, *m%d, *m%d]}\n", i,
                      i, i - 1, i - 1, i - 1);
    t0 = now_seconds();
    msg = load_err(text);
    ASSERT_STR_CONTAINS(msg, "1000000 nodes");
    ASSERT_TRUE(now_seconds() - t0 < 2.0);

    /* a big but honest document passes: 200,000 nodes */
    size_t cap = 200000 * 10 + 16, len = 0;
    char *big = malloc(cap);
    for (int i = 0; i < 200000; i++) len += (size_t)snprintf(big + len, cap - len, "- %d\n", i);
    wb_yaml_doc *d = NULL;
    wb_error err = {0};
    ASSERT_EQ(wb_yaml_load(big, len, "big.yaml", &d, &err), 0);
    ASSERT_EQ(json_array_size(wb_yaml_root(d)), 200000);
    ASSERT_EQ(wb_yaml_line(d, "[199999]"), 200000);
    wb_yaml_free(d);
    free(big);
}

TEST(compose_yaml_depth_limit) {
    char text[2048];
    memset(text, '[', 513);
    memset(text + 513, ']', 513);
    text[1026] = 0;
    ASSERT_STR_CONTAINS(load_err(text), "t.yaml:1:513: nesting deeper than 512 levels");
    /* 512 is fine */
    text[1025] = 0;
    wb_yaml_doc *d = load_ok(text + 1);
    wb_yaml_free(d);
    /* block style too */
    char *block = malloc(2000);
    size_t n = 0;
    for (int i = 0; i < 600; i++) n += (size_t)sprintf(block + n, "- ");
    block[n++] = '1';
    block[n] = 0;
    ASSERT_STR_CONTAINS(load_err(block), "nesting deeper than 512 levels");
    free(block);
    /* deeper only after expanding aliases */
    char *deep = malloc(20000);
    size_t m = 0;
    for (int a = 0; a < 4; a++) {
        m += (size_t)sprintf(deep + m, "a%d: &a%d ", a, a);
        for (int i = 0; i < 200; i++) deep[m++] = '[';
        if (a) m += (size_t)sprintf(deep + m, "*a%d", a - 1);
        for (int i = 0; i < 200; i++) deep[m++] = ']';
        deep[m++] = '\n';
    }
    deep[m] = 0;
    ASSERT_STR_CONTAINS(load_err(deep), "nesting deeper than 512 levels");
    free(deep);
}

TEST(compose_yaml_input_cap) {
    size_t len = WB_YAML_MAX_INPUT + 1;
    char *text = malloc(len);
    memset(text, ' ', len);
    wb_yaml_doc *d = NULL;
    wb_error err = {0};
    ASSERT_EQ(wb_yaml_load(text, len, "huge.yaml", &d, &err), -1);
    ASSERT_EQ(err.code, EFBIG);
    ASSERT_STR_CONTAINS(err.msg, "huge.yaml");
    ASSERT_STR_CONTAINS(err.msg, "16 MiB");
    ASSERT_TRUE(d == NULL);
    free(text);
}

/* dump v, load it back, compare */
static char *round_trip_at(const char *file, int line, const json_t *v) {
    wb_error err = {0};
    char *text = wb_yaml_dump(v, &err);
    if (!text) wb_test_fail(file, line, "dump failed: %s", err.msg);
    wb_yaml_doc *d = NULL;
    if (wb_yaml_load(text, strlen(text), "dump.yaml", &d, &err) < 0)
        wb_test_fail(file, line, "dump does not load: %s\n--- dump:\n%s", err.msg, text);
    if (!json_equal(wb_yaml_root(d), v)) {
        char *a = json_dumps(v, JSON_ENCODE_ANY), *b = json_dumps(wb_yaml_root(d), JSON_ENCODE_ANY);
        wb_test_fail(file, line, "round trip differs:\n%s\n--- dump:\n%s--- back:\n%s", a, text, b);
    }
    wb_yaml_free(d);
    return text;
}
#define ROUND_TRIP(v) round_trip_at(__FILE__, __LINE__, v)

TEST(compose_yaml_dump_round_trip_strings) {
    static const char *const strs[] = {
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
        "Y",
        "NO",
        "true",
        "False",
        "null",
        "Null",
        "~",
        "",
        "1.0",
        "1",
        "-1",
        "+1",
        "0x10",
        "0o7",
        "0777",
        "08",
        "1e3",
        "1_000",
        ".5",
        ".inf",
        "-.inf",
        ".nan",
        "1e400",
        "2001-12-14",
        "2001-12-14T21:59:43.10-05:00",
        "1:20",
        "8080:80",
        "<<",
        "-",
        "--",
        "---",
        "...",
        "- a",
        "-a",
        "?",
        "? a",
        "?a",
        ":",
        ": a",
        ":a",
        "a:",
        "a: b",
        "a:b",
        "a #b",
        "a#b",
        "#c",
        "&anchor",
        "*alias",
        "!tag",
        "%x",
        "@x",
        "`x",
        "|",
        ">",
        "'",
        "\"",
        "{a}",
        "[a]",
        "a,b",
        ",",
        "a]",
        " lead",
        "trail ",
        "\ttab",
        "in\ttab",
        "multi\nline\n",
        "multi\nline",
        "keep\n\n",
        "keep\n\n\n",
        "\nlead newline",
        "\n",
        "\n\n",
        "  indented\nsecond",
        "a\n  b\n",
        "trail \nspace",
        "a\r\nb",
        "quote\"s",
        "back\\slash",
        "ü é 日本 😀",
        "\xc2\x85nel",
        "ls\xe2\x80\xa8",
        "ps\xe2\x80\xa9",
        "bom\xef\xbb\xbf",
        "\xef\xbb\xbf",
        "nc\xef\xbf\xbe",
        "del\x7f",
        "c1\xc2\x80",
        "bell\a",
        "esc\x1b[0m",
        "   ",
        "a  b",
        "$HOME ${X:-y}",
        "echo \"$$x\"",
        "#!/bin/sh\nset -e\n\techo hi\n",
        "line\n\tindented with tab\n",
        "x\n   \ny\n",
        "end with spaces\n  ",
    };
    json_t *obj = json_object(), *arr = json_array();
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        json_t *s = json_string(strs[i]);
        ASSERT_TRUE(s != NULL);
        json_object_set(obj, strs[i], s); /* as keys too */
        json_array_append_new(arr, s);
        free(ROUND_TRIP(s));
    }
    free(ROUND_TRIP(obj));
    free(ROUND_TRIP(arr));
    json_t *both = json_pack("{s:o, s:o}", "strings", obj, "list", arr);
    free(ROUND_TRIP(both));
    json_decref(both);
    /* a NUL inside a string (json_stringn) dumps as an escape, which the loader refuses */
    json_t *nul = json_stringn("a\0b", 3);
    wb_error err = {0};
    char *text = wb_yaml_dump(nul, &err);
    ASSERT_STR_EQ(text, "\"a\\0b\"\n");
    free(text);
    json_decref(nul);
}

TEST(compose_yaml_dump_round_trip_values) {
    char longkey[3001];
    memset(longkey, 'k', 3000);
    longkey[3000] = 0;
    json_t *v = json_pack("{s:i, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:b, s:b, s:n, s:{}, s:[], "
                          "s:[[i,[s]],{s:{s:[]}},[]], s:s, s:{s:[i,i]}}",
                          "int", 42, "min", (json_int_t)INT64_MIN, "max", (json_int_t)INT64_MAX,
                          "real", 1.5, "big", 1e20, "tiny", 5e-324, "negzero", -0.0, "third",
                          1.0 / 3, "t", 1, "f", 0, "nil", "empty_obj", "empty_arr", "nested", 1,
                          "deep", "k", "kk", "last", "x", longkey, "a", 1, 2);
    ASSERT_TRUE(v != NULL);
    free(ROUND_TRIP(v));
    json_decref(v);
    /* scalars at the top */
    json_t *scalars[] = {json_integer(7),  json_real(2.0), json_true(), json_null(),
                         json_string("x"), json_object(),  json_array()};
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
        free(ROUND_TRIP(scalars[i]));
        json_decref(scalars[i]);
    }
}

TEST(compose_yaml_dump_text) {
    json_t *v =
        json_pack("{s:s, s:{s:{s:s, s:[s,s], s:[{s:i, s:s}], s:{s:s, s:s}, s:s, s:[], s:b, s:f}}}",
                  "name", "demo", "services", "web", "image", "nginx:alpine", "command", "echo",
                  "yes", "ports", "target", 80, "published", "8080", "environment", "A", "1", "B",
                  "on", "entrypoint", "line 1\nline 2\n", "dns", "init", 1, "cpus", 0.5);
    wb_error err = {0};
    char *text = wb_yaml_dump(v, &err);
    ASSERT_STR_EQ(text, "name: demo\n"
                        "services:\n"
                        "  web:\n"
                        "    image: nginx:alpine\n"
                        "    command:\n"
                        "      - echo\n"
                        "      - \"yes\"\n"
                        "    ports:\n"
                        "      - target: 80\n"
                        "        published: \"8080\"\n"
                        "    environment:\n"
                        "      A: \"1\"\n"
                        "      B: \"on\"\n"
                        "    entrypoint: |\n"
                        "      line 1\n"
                        "      line 2\n"
                        "    dns: []\n"
                        "    init: true\n"
                        "    cpus: 0.5\n");
    free(text);
    json_decref(v);
    /* nested sequences and mappings in sequences */
    v = json_pack("[[s,s],{s:i,s:[i]},[]]", "a", "b", "k", 1, "l", 2);
    text = wb_yaml_dump(v, &err);
    ASSERT_STR_EQ(text, "- - a\n  - b\n- k: 1\n  l:\n    - 2\n- []\n");
    free(text);
    json_decref(v);
    /* too deep */
    json_t *deep = json_array();
    for (int i = 0; i < WB_YAML_MAX_DEPTH + 5; i++) {
        json_t *outer = json_array();
        json_array_append_new(outer, deep);
        deep = outer;
    }
    ASSERT_TRUE(wb_yaml_dump(deep, &err) == NULL);
    ASSERT_STR_CONTAINS(err.msg, "512");
    json_decref(deep);
}

/* The seed's two Compose files (../shared/design/demo.md and issue #15), exactly. */
static const char demo_compose[] = "services:\n"
                                   "  client:\n"
                                   "    image: nginx:alpine\n"
                                   "    ports:\n"
                                   "      - 8090:80\n"
                                   "    volumes:\n"
                                   "      - ./client:/usr/share/nginx/html\n"
                                   "  server:\n"
                                   "    image: demo-microservice\n"
                                   "    platform: wasi/wasm\n"
                                   "    build:\n"
                                   "      context: .\n"
                                   "    ports:\n"
                                   "      - 8080:8080\n"
                                   "    environment:\n"
                                   "      DATABASE_URL: mysql://root:whalehello@db:3306/mysql\n"
                                   "      RUST_BACKTRACE: full\n"
                                   "      DNS_SERVER: 127.0.0.11:53\n"
                                   "    restart: unless-stopped\n"
                                   "    runtime: io.containerd.wasmedge.v1\n"
                                   "  db:\n"
                                   "    image: mariadb:10.9\n"
                                   "    environment:\n"
                                   "      MYSQL_ROOT_PASSWORD: whalehello\n";

static const char hello_compose[] = "services:\n"
                                    "  app:\n"
                                    "    image: secondstate/rust-example-hello\n"
                                    "    platform: wasi/wasm\n"
                                    "    runtime: io.containerd.wasmedge.v1\n";

TEST(compose_yaml_seed_files) {
    ASSERT_YAML_JSON(demo_compose,
                     "{\"services\":{"
                     "\"client\":{\"image\":\"nginx:alpine\",\"ports\":[\"8090:80\"],"
                     "\"volumes\":[\"./client:/usr/share/nginx/html\"]},"
                     "\"server\":{\"image\":\"demo-microservice\",\"platform\":\"wasi/wasm\","
                     "\"build\":{\"context\":\".\"},\"ports\":[\"8080:8080\"],"
                     "\"environment\":{\"DATABASE_URL\":\"mysql://root:whalehello@db:3306/mysql\","
                     "\"RUST_BACKTRACE\":\"full\",\"DNS_SERVER\":\"127.0.0.11:53\"},"
                     "\"restart\":\"unless-stopped\",\"runtime\":\"io.containerd.wasmedge.v1\"},"
                     "\"db\":{\"image\":\"mariadb:10.9\","
                     "\"environment\":{\"MYSQL_ROOT_PASSWORD\":\"whalehello\"}}}}");
    ASSERT_YAML_JSON(hello_compose, "{\"services\":{\"app\":{"
                                    "\"image\":\"secondstate/rust-example-hello\","
                                    "\"platform\":\"wasi/wasm\","
                                    "\"runtime\":\"io.containerd.wasmedge.v1\"}}}");
    wb_yaml_doc *d = load_ok(demo_compose);
    ASSERT_EQ(wb_yaml_line(d, "services.client.ports[0]"), 5);
    ASSERT_EQ(wb_yaml_line(d, "services.server.build.context"), 12);
    ASSERT_EQ(wb_yaml_line(d, "services.server.ports[0]"), 14);
    ASSERT_EQ(wb_yaml_line(d, "services.server.environment.DNS_SERVER"), 18);
    ASSERT_EQ(wb_yaml_line(d, "services.db"), 21);
    ASSERT_EQ(wb_yaml_line(d, "services.db.environment.MYSQL_ROOT_PASSWORD"), 24);
    char *text = ROUND_TRIP(wb_yaml_root(d));
    ASSERT_STR_CONTAINS(text, "    ports:\n      - 8080:8080\n");
    ASSERT_STR_CONTAINS(text, "      DNS_SERVER: 127.0.0.11:53\n");
    free(text);
    wb_yaml_free(d);
    wb_yaml_free(NULL);
}

/* A Compose file in the shapes the spec's examples use: anchors under x-, merge keys, long
 * syntax, block scalars, quoted ports. */
TEST(compose_yaml_compose_shapes) {
    wb_yaml_doc *d = load_ok("name: shapes\n"
                             "x-logging: &default-logging\n"
                             "  driver: json-file\n"
                             "  options:\n"
                             "    max-size: '12m'\n"
                             "x-env: &env\n"
                             "  TZ: UTC\n"
                             "services:\n"
                             "  web:\n"
                             "    image: \"nginx:${TAG:-alpine}\"\n"
                             "    logging: *default-logging\n"
                             "    environment:\n"
                             "      <<: *env\n"
                             "      DEBUG: \"true\"\n"
                             "      LEVEL: 3\n"
                             "    ports:\n"
                             "      - \"127.0.0.1:8080:80/tcp\"\n"
                             "      - target: 443\n"
                             "        published: 8443\n"
                             "        protocol: tcp\n"
                             "    healthcheck:\n"
                             "      test: [\"CMD-SHELL\", \"curl -f http://localhost || exit 1\"]\n"
                             "      interval: 1m30s\n"
                             "      retries: 3\n"
                             "    command: >\n"
                             "      sh -c 'echo start &&\n"
                             "      exec nginx'\n"
                             "    deploy:\n"
                             "      resources:\n"
                             "        limits: {cpus: '0.50', memory: 50M, pids: 1}\n"
                             "    stop_grace_period: 1s\n"
                             "    read_only: true\n"
                             "volumes:\n"
                             "  data: {}\n"
                             "  ext:\n"
                             "    external: true\n");
    json_t *web = json_object_get(json_object_get(wb_yaml_root(d), "services"), "web");
    ASSERT_STR_EQ(json_string_value(json_object_get(web, "image")), "nginx:${TAG:-alpine}");
    ASSERT_STR_EQ(json_string_value(json_object_get(
                      json_object_get(json_object_get(web, "logging"), "options"), "max-size")),
                  "12m");
    json_t *env = json_object_get(web, "environment");
    ASSERT_STR_EQ(json_string_value(json_object_get(env, "TZ")), "UTC");
    ASSERT_STR_EQ(json_string_value(json_object_get(env, "DEBUG")), "true");
    ASSERT_EQ(json_integer_value(json_object_get(env, "LEVEL")), 3);
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(web, "ports"), 0)),
                  "127.0.0.1:8080:80/tcp");
    ASSERT_EQ(json_integer_value(
                  json_object_get(json_array_get(json_object_get(web, "ports"), 1), "published")),
              8443);
    ASSERT_STR_EQ(json_string_value(json_object_get(web, "command")),
                  "sh -c 'echo start && exec nginx'\n");
    json_t *limits =
        json_object_get(json_object_get(json_object_get(web, "deploy"), "resources"), "limits");
    ASSERT_STR_EQ(json_string_value(json_object_get(limits, "cpus")), "0.50");
    ASSERT_STR_EQ(json_string_value(json_object_get(limits, "memory")), "50M");
    ASSERT_TRUE(json_is_true(json_object_get(web, "read_only")));
    ASSERT_EQ(wb_yaml_line(d, "services.web.environment.TZ"), 7);
    ASSERT_EQ(wb_yaml_line(d, "services.web.ports[1].published"), 19);
    ASSERT_EQ(wb_yaml_line(d, "services.web.deploy.resources.limits.memory"), 30);
    ASSERT_EQ(wb_yaml_line(d, "volumes.ext.external"), 36);
    free(ROUND_TRIP(wb_yaml_root(d)));
    wb_yaml_free(d);
}

/* Random documents from a small grammar: load must never crash, and whatever loads must dump and
 * load back the same. */
TEST(compose_yaml_random_round_trips) {
    static const char *const atoms[] = {
        "a",        "1",       "-2",      "0x1f",       "1.5",          "true",   "no",
        "~",        "''",      "\"x y\"", "|\n  lit\n", ">-\n  fold\n", "&A v",   "*A",
        "!reset 1", "!!str 5", "[]",      "{}",         "[1, b]",       "{k: v}", "\"a\\nb\"",
        "yes",      "8080:80", "<<",      "' lead'",    ".inf",         "1e400",  "é",
    };
    unsigned seed = 12345;
    int loaded = 0;
    for (int round = 0; round < 2000; round++) {
        char text[2048];
        size_t n = 0;
        int items = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 6;
        for (int i = 0; i < items; i++) {
            unsigned r = (seed = seed * 1103515245 + 12345) >> 16;
            const char *atom = atoms[r % (sizeof atoms / sizeof atoms[0])];
            if (r & 0x100)
                n += (size_t)snprintf(text + n, sizeof text - n, "k%d: %s\n", i, atom);
            else
                n += (size_t)snprintf(text + n, sizeof text - n, "k%d:\n  - %s\n  - x\n", i, atom);
        }
        wb_yaml_doc *d = NULL;
        wb_error err = {0};
        if (wb_yaml_load(text, n, "r.yaml", &d, &err) < 0) {
            ASSERT_TRUE(strncmp(err.msg, "r.yaml:", 7) == 0);
            continue;
        }
        loaded++;
        free(ROUND_TRIP(wb_yaml_root(d)));
        wb_yaml_free(d);
    }
    ASSERT_GE(loaded, 500);
}
