/* Compose interpolation (compose/interp.h) and .env files (compose/dotenv.h): every ${...} form on
 * set, empty and unset variables, nesting, `$$`, lone `$`, syntax and required-variable errors
 * with Compose's words, unset reporting, the brace counting compose-go does, the nesting and size
 * limits; .env statements, quotes, escapes, comments, CRLF, BOM, interpolation order, errors with
 * file and line. Many cases are compose-go's own (template_test.go, godotenv_test.go,
 * parser_test.go), their expectations checked against compose-go v2's code. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#include "compose/dotenv.h"
#include "compose/interp.h"

/* ---- helpers ---- */

typedef struct var {
    const char *name, *value;
} var;

/* compose-go's test mapping, and a few more */
static const var vars[] = {
    {"FOO", "first"},          {"BAR", ""},  {"JSON", "{\"json\":2}"}, {"foo", "lower"},
    {"DOLLAR", "$FOO ${FOO}"}, {NULL, NULL},
};

static const char *table_lookup(void *ctx, const char *name) {
    const var *v = ctx ? ctx : vars;
    for (; v->name; v++)
        if (strcmp(v->name, name) == 0) return v->value;
    return NULL;
}

typedef struct unset_log {
    char names[8][64];
    int n;
} unset_log;

static void log_unset(void *ctx, const char *name) {
    unset_log *log = ctx;
    if (log->n < 8) snprintf(log->names[log->n++], sizeof log->names[0], "%s", name);
}

static const char *log_lookup(void *ctx, const char *name) {
    (void)ctx;
    return table_lookup(NULL, name);
}

#define EXPECT_INTERP(in, want)                                                                    \
    do {                                                                                           \
        char *got_ = NULL;                                                                         \
        wb_error e_ = {0};                                                                         \
        if (wb_interp((in), table_lookup, NULL, NULL, &got_, &e_) != 0)                            \
            wb_test_fail(__FILE__, __LINE__, "wb_interp(\"%s\") failed: %s", (in), e_.msg);        \
        ASSERT_STR_EQ(got_, (want));                                                               \
        free(got_);                                                                                \
    } while (0)

#define EXPECT_INTERP_ERR(in, want_code, want_msg)                                                 \
    do {                                                                                           \
        char *got_ = (char *)1;                                                                    \
        wb_error e_ = {0};                                                                         \
        if (wb_interp((in), table_lookup, NULL, NULL, &got_, &e_) == 0)                            \
            wb_test_fail(__FILE__, __LINE__, "wb_interp(\"%s\") gave \"%s\"", (in), got_);         \
        ASSERT_TRUE(got_ == NULL);                                                                 \
        ASSERT_EQ(e_.code, (want_code));                                                           \
        ASSERT_STR_EQ(e_.msg, (want_msg));                                                         \
    } while (0)

#define SYNTAX_MSG(q)                                                                              \
    "invalid interpolation format for " q ". You may need to escape any $ with another $."

/* ---- interpolation ---- */

TEST(compose_interp_plain) {
    EXPECT_INTERP("", "");
    EXPECT_INTERP("foo", "foo");
    EXPECT_INTERP("$FOO", "first");
    EXPECT_INTERP("${FOO}", "first");
    EXPECT_INTERP("This $FOO var", "This first var");
    EXPECT_INTERP("This ${FOO} var", "This first var");
    EXPECT_INTERP("This ${missing} var", "This  var");
    EXPECT_INTERP("This ${BAR} var", "This  var");
    EXPECT_INTERP("$FOO-bar", "first-bar"); /* docker/compose#8601 */
    EXPECT_INTERP("$FOObar", "");           /* the longest name */
    EXPECT_INTERP("${FOO}bar", "firstbar");
    EXPECT_INTERP("$foo/$FOO", "lower/first"); /* names are case-sensitive, any case allowed */
    EXPECT_INTERP("$_x1 ${_}", " ");
    EXPECT_INTERP("$DOLLAR", "$FOO ${FOO}"); /* a value is not expanded again */
    EXPECT_INTERP("a$FOO$FOO.b", "afirstfirst.b");
}

TEST(compose_interp_escapes_and_lone_dollars) {
    EXPECT_INTERP("$${foo}", "${foo}");
    EXPECT_INTERP("$$FOO", "$FOO");
    EXPECT_INTERP("$$$FOO", "$first");
    EXPECT_INTERP("$$$$", "$$");
    /* compose-go's TestUnescaped: a $ not followed by $, a name or { stays */
    EXPECT_INTERP("a $ string", "a $ string");
    EXPECT_INTERP("^REGEX$", "^REGEX$");
    EXPECT_INTERP("$}", "$}");
    EXPECT_INTERP("$", "$");
    EXPECT_INTERP("$1", "$1");
    EXPECT_INTERP("$-x $.", "$-x $.");
    EXPECT_INTERP("100$", "100$");
}

TEST(compose_interp_defaults) {
    EXPECT_INTERP("ok ${missing:-def}", "ok def");
    EXPECT_INTERP("ok ${missing-def}", "ok def");
    EXPECT_INTERP("ok ${BAR:-def}", "ok def"); /* empty: soft default */
    EXPECT_INTERP("ok ${BAR-def}", "ok ");     /* empty is set: no hard default */
    EXPECT_INTERP("ok ${FOO:-def}", "ok first");
    EXPECT_INTERP("ok ${FOO-def}", "ok first");
    EXPECT_INTERP("ok ${missing:-}", "ok ");
    EXPECT_INTERP("ok ${BAR:-/non:-alphanumeric}", "ok /non:-alphanumeric");
    EXPECT_INTERP("${UNSET_VAR-myerror?msg}", "myerror?msg"); /* the first operator wins */
    EXPECT_INTERP("${UNSET_VAR-default_value_for_unset_var}", "default_value_for_unset_var");
    EXPECT_INTERP("${u:-a b  c}", "a b  c");
}

TEST(compose_interp_alternatives) {
    EXPECT_INTERP("ok ${UNSET_VAR:+presence_value}", "ok ");
    EXPECT_INTERP("ok ${UNSET_VAR+presence_value}", "ok ");
    EXPECT_INTERP("ok ${FOO:+presence_value}", "ok presence_value");
    EXPECT_INTERP("ok ${FOO+presence_value}", "ok presence_value");
    EXPECT_INTERP("ok ${BAR+presence_value}", "ok presence_value");
    EXPECT_INTERP("ok ${BAR:+presence_value}", "ok ");
    EXPECT_INTERP("ok ${FOO:+}", "ok ");
}

TEST(compose_interp_required) {
    EXPECT_INTERP("ok ${FOO:?err}", "ok first");
    EXPECT_INTERP("ok ${FOO?err}", "ok first");
    EXPECT_INTERP("ok ${BAR?err}", "ok "); /* set, empty: fine without the colon */
    EXPECT_INTERP("${FOO?bar-baz}", "first");
    EXPECT_INTERP_ERR("not ok ${UNSET_VAR:?Mandatory Variable Unset}", WB_INTERP_EREQUIRED,
                      "required variable UNSET_VAR is missing a value: Mandatory Variable Unset");
    EXPECT_INTERP_ERR("not ok ${BAR:?Mandatory Variable Empty}", WB_INTERP_EREQUIRED,
                      "required variable BAR is missing a value: Mandatory Variable Empty");
    EXPECT_INTERP_ERR("not ok ${UNSET_VAR:?}", WB_INTERP_EREQUIRED,
                      "required variable UNSET_VAR is missing a value");
    EXPECT_INTERP_ERR("not ok ${UNSET_VAR?Mandatory Variable Unset}", WB_INTERP_EREQUIRED,
                      "required variable UNSET_VAR is missing a value: Mandatory Variable Unset");
    EXPECT_INTERP_ERR("not ok ${UNSET_VAR?}", WB_INTERP_EREQUIRED,
                      "required variable UNSET_VAR is missing a value");
    EXPECT_INTERP_ERR("${UNSET_VAR?bar-baz}", WB_INTERP_EREQUIRED,
                      "required variable UNSET_VAR is missing a value: bar-baz");
    /* the message is expanded */
    EXPECT_INTERP_ERR("not ok ${UNSET_VAR:?Mandatory Variable ${FOO}}", WB_INTERP_EREQUIRED,
                      "required variable UNSET_VAR is missing a value: Mandatory Variable first");
    EXPECT_INTERP_ERR("not ok ${UNSET_VAR?Mandatory Variable $FOO}", WB_INTERP_EREQUIRED,
                      "required variable UNSET_VAR is missing a value: Mandatory Variable first");
    /* the first error of the string */
    EXPECT_INTERP_ERR("${A:?one} ${B:?two}", WB_INTERP_EREQUIRED,
                      "required variable A is missing a value: one");
}

TEST(compose_interp_nesting) {
    /* compose-go's TestDefaultsWithNestedExpansion */
    EXPECT_INTERP("ok ${UNSET_VAR-$FOO}", "ok first");
    EXPECT_INTERP("ok ${UNSET_VAR-${FOO}}", "ok first");
    EXPECT_INTERP("ok ${UNSET_VAR-${FOO} ${FOO}}", "ok first first");
    EXPECT_INTERP("ok ${BAR:-$FOO}", "ok first");
    EXPECT_INTERP("ok ${BAR:-${FOO}}", "ok first");
    EXPECT_INTERP("ok ${BAR:-${FOO} ${FOO}}", "ok first first");
    EXPECT_INTERP("ok ${BAR+$FOO}", "ok first");
    EXPECT_INTERP("ok ${BAR+$FOO ${FOO:+second}}", "ok first second");
    EXPECT_INTERP("${A:-${B:-x}}", "x");
    EXPECT_INTERP("${A:-${FOO:-x}}", "first");
    EXPECT_INTERP("${A:-${B:-${C:-${D:-deep}}}}!", "deep!");
    EXPECT_INTERP("ok ${SUBDOMAIN:-redis}.${FOO:?}", "ok redis.first");
    /* the argument is expanded only when it is used */
    EXPECT_INTERP("${FOO:-${X:?boom}}", "first");
    EXPECT_INTERP("${U:+${X:?boom}}", "");
    EXPECT_INTERP_ERR("${U:-${X:?boom}}", WB_INTERP_EREQUIRED,
                      "required variable X is missing a value: boom");
    /* compose-go's TestInterpolationExternalInterference: text around does not matter */
    EXPECT_INTERP("-ok ${BAR:-defaultValue}", "-ok defaultValue");
    EXPECT_INTERP("+ok ${UNSET:-${BAR-defaultValue}}", "+ok ");
    EXPECT_INTERP("-ok ${FOO:-defaultValue}", "-ok first");
    EXPECT_INTERP(":-ok ${UNSET-defaultValue}", ":-ok defaultValue");
    EXPECT_INTERP(":-ok ${BAR-defaultValue}", ":-ok ");
    EXPECT_INTERP(":?ok ${BAR-defaultValue}", ":?ok ");
    EXPECT_INTERP(":?ok ${BAR:-defaultValue}", ":?ok defaultValue");
    EXPECT_INTERP(":+ok ${BAR:-defaultValue}", ":+ok defaultValue");
    EXPECT_INTERP("+ok ${BAR-defaultValue}", "+ok ");
    EXPECT_INTERP("?ok ${BAR:-defaultValue}", "?ok defaultValue");
}

TEST(compose_interp_braces_as_compose_go_counts_them) {
    /* compose-go's TestNoValueWithCurlyBracesDefault / TestValueWithCurlyBracesDefault */
    EXPECT_INTERP("ok ${missing:-{\"json\":1}}", "ok {\"json\":1}");
    EXPECT_INTERP("ok ${missing-{\"json\":1}}", "ok {\"json\":1}");
    EXPECT_INTERP("ok ${JSON:-{\"json\":1}}", "ok {\"json\":2}");
    EXPECT_INTERP("ok ${JSON-{\"json\":1}}", "ok {\"json\":2}");
    EXPECT_INTERP("${A:-x}}", "x}");
    EXPECT_INTERP("${A:-x} and ${B:-y}", "x and y");
    EXPECT_INTERP("${A:-x} $FOO ${B:-y} }", "x first y }");
    EXPECT_INTERP("${A:-x}\n${B:-y}", "x\ny");
    /* each `{` also skips the character after it, so `{}` never closes anything */
    EXPECT_INTERP("${A:-{}x}", "{}x");
    EXPECT_INTERP("${A:-{}x}y}", "{}x}y");
}

TEST(compose_interp_syntax_errors) {
    /* compose-go's TestInvalid, and more */
    EXPECT_INTERP_ERR("${", WB_INTERP_ESYNTAX, SYNTAX_MSG("\"${\""));
    EXPECT_INTERP_ERR("${}", WB_INTERP_ESYNTAX, SYNTAX_MSG("\"${}\""));
    EXPECT_INTERP_ERR("${ }", WB_INTERP_ESYNTAX, SYNTAX_MSG("\"${ }\""));
    EXPECT_INTERP_ERR("${ foo}", WB_INTERP_ESYNTAX, SYNTAX_MSG("\"${ foo}\""));
    EXPECT_INTERP_ERR("${foo }", WB_INTERP_ESYNTAX, SYNTAX_MSG("\"${foo }\""));
    EXPECT_INTERP_ERR("${foo!}", WB_INTERP_ESYNTAX, SYNTAX_MSG("\"${foo!}\""));
    EXPECT_INTERP_ERR("${A", WB_INTERP_ESYNTAX, SYNTAX_MSG("\"${A\""));
    EXPECT_INTERP_ERR("${A:}", WB_INTERP_ESYNTAX, SYNTAX_MSG("\"${A:}\""));
    EXPECT_INTERP_ERR("${A:x}", WB_INTERP_ESYNTAX, SYNTAX_MSG("\"${A:x}\""));
    EXPECT_INTERP_ERR("${1}", WB_INTERP_ESYNTAX, SYNTAX_MSG("\"${1}\""));
    EXPECT_INTERP_ERR("${1", WB_INTERP_ESYNTAX, SYNTAX_MSG("\"${1\""));
    EXPECT_INTERP_ERR("${$FOO}", WB_INTERP_ESYNTAX, SYNTAX_MSG("\"${$FOO}\""));
    EXPECT_INTERP_ERR("${A:-x", WB_INTERP_ESYNTAX, SYNTAX_MSG("\"${A:-x\""));
    EXPECT_INTERP_ERR("${A-x\ny}", WB_INTERP_ESYNTAX, SYNTAX_MSG("\"${A-x\\ny}\""));
    EXPECT_INTERP_ERR("x ${A:-${B}", WB_INTERP_ESYNTAX, SYNTAX_MSG("\"x ${A:-${B}\""));
    EXPECT_INTERP_ERR("ok $FOO ${", WB_INTERP_ESYNTAX, SYNTAX_MSG("\"ok $FOO ${\""));
    EXPECT_INTERP_ERR("${1}/dashboard/", WB_INTERP_ESYNTAX, SYNTAX_MSG("\"${1}/dashboard/\""));
    /* a long value is cut in the message, which stays one line */
    char in[400];
    memset(in, 'a', 300);
    strcpy(in + 300, "\t${");
    char *out = NULL;
    wb_error err = {0};
    ASSERT_EQ(wb_interp(in, NULL, NULL, NULL, &out, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "aaaa...\". You may need to escape any $ with another $.");
    ASSERT_TRUE(strchr(err.msg, '\n') == NULL);
    ASSERT_TRUE(strstr(err.msg, "\\t") == NULL); /* the tab is past the cut */
}

TEST(compose_interp_reports_unset_once_per_name) {
    unset_log log = {0};
    char *out = NULL;
    wb_error err = {0};
    ASSERT_EQ(wb_interp("$U1 ${U2} $U1 ${U1:-d} ${U4-x} ${FOO:+$U3} ${BAR} $U2 $FOO", log_lookup,
                        &log, log_unset, &out, &err),
              0);
    ASSERT_STR_EQ(out, "   d x    first");
    free(out);
    ASSERT_EQ(log.n, 3); /* no report for names with a default or an alternative */
    ASSERT_STR_EQ(log.names[0], "U1");
    ASSERT_STR_EQ(log.names[1], "U2");
    ASSERT_STR_EQ(log.names[2], "U3");
    /* a new call reports again; a failed one still reports what it met before the error */
    ASSERT_EQ(wb_interp("$U1 ${X:?}", log_lookup, &log, log_unset, &out, &err), -1);
    ASSERT_EQ(log.n, 4);
    ASSERT_STR_EQ(log.names[3], "U1");
    /* no callback, no lookup */
    ASSERT_EQ(wb_interp("[$U1${A:-d}]", NULL, NULL, NULL, &out, &err), 0);
    ASSERT_STR_EQ(out, "[d]");
    free(out);
}

static void count_unset(void *ctx, const char *name) {
    (void)name;
    (*(int *)ctx)++;
}

/* many distinct unset names, each twice: reported once each (and in linear time) */
TEST(compose_interp_many_unset_names) {
    size_t n = 40000;
    char *in = malloc(n * 8 + 1), *p = in;
    for (size_t i = 0; i < n; i++) p += sprintf(p, "$V%zu-", i % (n / 2));
    int count = 0;
    char *out = NULL;
    wb_error err = {0};
    ASSERT_EQ(wb_interp(in, NULL, &count, count_unset, &out, &err), 0);
    ASSERT_EQ(count, n / 2);
    ASSERT_EQ(strlen(out), n);
    free(in);
    free(out);
}

TEST(compose_interp_limits) {
    /* WB_INTERP_MAX_DEPTH nested arguments are fine, one more is refused */
    char in[1024], *p;
    for (int depth = 64; depth <= 65; depth++) {
        p = in;
        for (int i = 0; i < depth; i++) p += sprintf(p, "${U:-");
        p += sprintf(p, "x");
        for (int i = 0; i < depth; i++) *p++ = '}';
        *p = '\0';
        char *out = NULL;
        wb_error err = {0};
        int rc = wb_interp(in, NULL, NULL, NULL, &out, &err);
        if (depth == 64) {
            ASSERT_EQ(rc, 0);
            ASSERT_STR_EQ(out, "x");
            free(out);
        } else {
            ASSERT_EQ(rc, -1);
            ASSERT_EQ(err.code, WB_INTERP_ELIMIT);
            ASSERT_STR_CONTAINS(err.msg, "nested deeper than 64 levels");
        }
    }
    /* the result may reach WB_INTERP_MAX_OUTPUT, not pass it */
    char *big = malloc((1 << 20) + 1);
    memset(big, 'b', 1 << 20);
    big[1 << 20] = '\0';
    var table[] = {{"BIG", big}, {NULL, NULL}};
    char *out = NULL;
    wb_error err = {0};
    ASSERT_EQ(wb_interp("$BIG$BIG$BIG$BIG$BIG$BIG$BIG$BIG", table_lookup, table, NULL, &out, &err),
              0);
    ASSERT_EQ(strlen(out), (size_t)WB_INTERP_MAX_OUTPUT);
    free(out);
    ASSERT_EQ(wb_interp("$BIG$BIG$BIG$BIG$BIG$BIG$BIG$BIG.", table_lookup, table, NULL, &out, &err),
              -1);
    ASSERT_EQ(err.code, WB_INTERP_ELIMIT);
    ASSERT_STR_CONTAINS(err.msg, "gives more than 8 MiB");
    ASSERT_TRUE(out == NULL);
    free(big);
}

/* ---- .env files ---- */

typedef struct dotenv_case {
    const char *text, *name, *value;
} dotenv_case;

/* Parse text; fail the test on error. */
static void parse_ok(const char *text, wb_interp_lookup lookup, void *ctx, wb_dotenv *env) {
    wb_error err = {0};
    if (wb_dotenv_parse(text, strlen(text), "t.env", lookup, ctx, env, &err) != 0)
        wb_test_fail(__FILE__, __LINE__, "parsing \"%s\": %s", text, err.msg);
}

static void expect_parse_err(const char *text, size_t len, int code, const char *want) {
    wb_dotenv env = {0};
    wb_error err = {0};
    if (wb_dotenv_parse(text, len, "t.env", NULL, NULL, &env, &err) == 0)
        wb_test_fail(__FILE__, __LINE__, "parsing \"%s\" did not fail", text);
    ASSERT_EQ(env.n, 0);
    ASSERT_TRUE(env.names == NULL);
    ASSERT_EQ(err.code, code);
    ASSERT_STR_EQ(err.msg, want);
}

TEST(compose_dotenv_statements) {
    /* compose-go's TestParsing (those whose behaviour v2 keeps), one statement each */
    static const dotenv_case cases[] = {
        {"FOO=bar", "FOO", "bar"},
        {"FOO =bar", "FOO", "bar"},
        {"FOO= bar", "FOO", "bar"},
        {"FOO=\"bar\"", "FOO", "bar"},
        {"FOO='bar'", "FOO", "bar"},
        {"FOO=\"escaped\\\"bar\"", "FOO", "escaped\"bar"},
        {"FOO=\"'d'\"", "FOO", "'d'"},
        {"OPTION_A: 1", "OPTION_A", "1"},
        {"OPTION_A: Foo=bar", "OPTION_A", "Foo=bar"},
        {"OPTION_A=1:B", "OPTION_A", "1:B"},
        {"export OPTION_A=2", "OPTION_A", "2"},
        {"export OPTION_B='\\n'", "OPTION_B", "\\n"},
        {"export exportFoo=2", "exportFoo", "2"},
        {"exportFOO=2", "exportFOO", "2"},
        {"export_FOO =2", "export_FOO", "2"},
        {"export.FOO= 2", "export.FOO", "2"},
        {"export\tOPTION_A=2", "OPTION_A", "2"},
        {"  export OPTION_A=2", "OPTION_A", "2"},
        {"\texport OPTION_A=2", "OPTION_A", "2"},
        {"export=1", "export", "1"},
        {"FOO=\"bar\\nbaz\"", "FOO", "bar\nbaz"},
        {"FOO.BAR=foobar", "FOO.BAR", "foobar"},
        {"FOO=foobar=", "FOO", "foobar="},
        {"FOO=bar ", "FOO", "bar"},
        {"FOO=bar # this is foo", "FOO", "bar"},
        {"FOO=\"bar#baz\" # comment", "FOO", "bar#baz"},
        {"FOO='bar#baz' # comment", "FOO", "bar#baz"},
        {"FOO=\"bar#baz#bang\" # comment", "FOO", "bar#baz#bang"},
        {"FOO=\"ba#r\"", "FOO", "ba#r"},
        {"FOO='ba#r'", "FOO", "ba#r"},
        {" KEY =value", "KEY", "value"},
        {"   KEY=value", "KEY", "value"},
        {"\tKEY=value", "KEY", "value"},
        {"a[1]=c", "a[1]", "c"},
        {"a.propertyKey=d", "a.propertyKey", "d"},
        {"a-b=e", "a-b", "e"},
        {"1X=digits first", "1X", "digits first"},
        {"\xc3\xa1rv\xc3\xadzt\xc5\xb1r\xc5\x91-T\xc3\x9cK\xc3\x96RF\xc3\x9aR\xc3\x93G\xc3\x89P="
         "\xc3\x81RV\xc3\x8dZT\xc5\xb0R\xc5\x90",
         "\xc3\xa1rv\xc3\xadzt\xc5\xb1r\xc5\x91-T\xc3\x9cK\xc3\x96RF\xc3\x9aR\xc3\x93G\xc3\x89P",
         "\xc3\x81RV\xc3\x8dZT\xc5\xb0R\xc5\x90"},
        /* Docker's env-file page */
        {"VAR=VAL# not a comment", "VAR", "VAL# not a comment"},
        {"VAR=\"VAL # not a comment\"", "VAR", "VAL # not a comment"},
        {"VAR='$OTHER'", "VAR", "$OTHER"},
        {"VAR='${OTHER}'", "VAR", "${OTHER}"},
        {"VAR='Let\\'s go!'", "VAR", "Let's go!"},
        {"VAR=\"{\\\"hello\\\": \\\"json\\\"}\"", "VAR", "{\"hello\": \"json\"}"},
        {"VAR=\"some\\tvalue\"", "VAR", "some\tvalue"},
        {"VAR='some\\tvalue'", "VAR", "some\\tvalue"},
        {"VAR=some\\tvalue", "VAR", "some\\tvalue"},
        /* empty values */
        {"E=", "E", ""},
        {"E=\"\"", "E", ""},
        {"E=''", "E", ""},
        {"E=   ", "E", ""},
        /* compose-go quirks kept: the value starts after the blanks, so this `#` is not a
         * comment; a tab before `#` does not make one either */
        {"FOO= # comment", "FOO", "# comment"},
        {"FOO=a\t# b", "FOO", "a\t# b"},
        /* a trailing no-break space is trimmed; an inner one is kept */
        {"N=a\xc2\xa0"
         "b\xc2\xa0",
         "N",
         "a\xc2\xa0"
         "b"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wb_dotenv env;
        parse_ok(cases[i].text, NULL, NULL, &env);
        if (env.n != 1)
            wb_test_fail(__FILE__, __LINE__, "\"%s\": %zu variables", cases[i].text, env.n);
        ASSERT_STR_EQ(env.names[0], cases[i].name);
        ASSERT_STR_EQ(env.values[0], cases[i].value);
        wb_dotenv_free(&env);
    }
}

TEST(compose_dotenv_escapes) {
    static const dotenv_case cases[] = {
        {"E=\"\\a\\b\\f\\n\\r\\t\\v\\\\\"", "E", "\a\b\f\n\r\t\v\\"},
        {"E=\"bar\\n\\ b\\az\"", "E", "bar\n\\ b\az"},       /* compose-go's, v2's result */
        {"E=\"bar\\\\\\n\\ b\\az\"", "E", "bar\\\n\\ b\az"}, /* \\ then \n */
        {"E=\"bar\\\\r\\ b\\az\"", "E", "bar\\r\\ b\az"},
        {"E=\"\\q\\x41\\c\"", "E", "\\q\\x41\\c"}, /* not escapes: kept */
        {"E=\"\\0101\\0102\"", "E", "AB"},         /* octal */
        {"E=\"\\0377\"", "E", "\xc3\xbf"},         /* U+00FF, as Go's string(rune) */
        {"E=\"\\0\"", "E", "\\"},                  /* malformed octal: \0 becomes \ */
        {"E=\"\\01x\"", "E", "\\1x"},
        {"E=\"\\0400\"", "E", "\\400"},
        {"E=\"\\0189\"", "E", "\\189"},
        {"E=\"\\01234\"", "E", "S4"},
        {"E='a\\\\b\\n'", "E", "a\\\\b\\n"}, /* single quotes: literal */
        {"E='it\\'s'", "E", "it's"},
        {"E=\"a\\'b\"", "E", "a\\'b"},
        {"FOO=\"foo\\$BAR\"", "FOO", "foo$BAR"}, /* compose-go's TestExpanding */
        {"FOO=\"foo\\${BAR}\"", "FOO", "foo${BAR}"},
        {"FOO=foo$$BAR", "FOO", "foo$BAR"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wb_dotenv env;
        parse_ok(cases[i].text, NULL, NULL, &env);
        ASSERT_EQ(env.n, 1);
        ASSERT_STR_EQ(env.names[0], cases[i].name);
        ASSERT_STR_EQ(env.values[0], cases[i].value);
        wb_dotenv_free(&env);
    }
}

TEST(compose_dotenv_file_layout) {
    const char *text = "\xef\xbb\xbf# a comment\r\n"
                       "\r\n"
                       "  # indented comment\n"
                       "A=1\r\n"
                       "\t\t \n"
                       "B=\"two\" # comment after quotes\r\n"
                       "C='three'\r\n"
                       "J=\"first line\n"
                       "second line\"\n"
                       "K='a\r\n"
                       "b'\n"
                       "L=\"x\" M=y\n"
                       "Q: colon\n"
                       "Z=last value";
    wb_dotenv env;
    parse_ok(text, NULL, NULL, &env);
    static const char *want[][2] = {
        {"A", "1"},         {"B", "two"}, {"C", "three"}, {"J", "first line\nsecond line"},
        {"K", "a\r\nb"},    {"L", "x"},   {"M", "y"},     {"Q", "colon"},
        {"Z", "last value"}};
    ASSERT_EQ(env.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < env.n; i++) {
        ASSERT_STR_EQ(env.names[i], want[i][0]);
        ASSERT_STR_EQ(env.values[i], want[i][1]);
    }
    ASSERT_STR_EQ(wb_dotenv_get(&env, "M"), "y");
    ASSERT_TRUE(wb_dotenv_get(&env, "N") == NULL);
    wb_dotenv_free(&env);
    ASSERT_EQ(env.n, 0);
    wb_dotenv_free(&env); /* twice is fine */
    /* nothing but blanks and comments */
    parse_ok("\n\r\n\t\t \n# Comment\n\t # comment", NULL, NULL, &env);
    ASSERT_EQ(env.n, 0);
    wb_dotenv_free(&env);
    parse_ok("", NULL, NULL, &env);
    ASSERT_EQ(env.n, 0);
}

TEST(compose_dotenv_interpolation_order) {
    /* earlier lines of the file, later duplicates replacing the value in the first place */
    const char *text = "A=1\n"
                       "B=${A}\n"
                       "A=2\n"
                       "C=$A\n"
                       "D=\"${A}x $FOO\"\n"
                       "E='$A'\n"
                       "F=${UNDEF:-dflt} ${UNDEF}|\n"
                       "G=${BAR:+alt}${FOO:+alt}\n"
                       "H=$$A\n"
                       "I=${B}${I}\n";
    wb_dotenv env;
    parse_ok(text, table_lookup, NULL, &env);
    static const char *want[][2] = {{"A", "2"},        {"B", "1"},  {"C", "2"},
                                    {"D", "2x first"}, {"E", "$A"}, {"F", "dflt |"},
                                    {"G", "alt"},      {"H", "$A"}, {"I", "1"}};
    ASSERT_EQ(env.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < env.n; i++) {
        ASSERT_STR_EQ(env.names[i], want[i][0]);
        ASSERT_STR_EQ(env.values[i], want[i][1]);
    }
    wb_dotenv_free(&env);
    /* the lookup (the shell) wins over the file's own earlier value for interpolation; the
     * variable keeps the file's value (the caller decides which wins) */
    static const var shell[] = {{"A", "shell"}, {NULL, NULL}};
    parse_ok("A=file\nB=$A\n", table_lookup, (void *)shell, &env);
    ASSERT_STR_EQ(wb_dotenv_get(&env, "A"), "file");
    ASSERT_STR_EQ(wb_dotenv_get(&env, "B"), "shell");
    wb_dotenv_free(&env);
}

TEST(compose_dotenv_inherited) {
    static const var shell[] = {{"FROM_ENV", "v1"}, {"EMPTY_ENV", ""}, {NULL, NULL}};
    wb_dotenv env;
    parse_ok("FROM_ENV\nNOT_IN_ENV\nEMPTY_ENV\r\nX=1\n  FROM_ENV  \nexport\nLAST=2\nFROM_ENV",
             table_lookup, (void *)shell, &env);
    ASSERT_EQ(env.n, 4);
    ASSERT_STR_EQ(env.names[0], "FROM_ENV");
    ASSERT_STR_EQ(env.values[0], "v1");
    ASSERT_STR_EQ(env.names[1], "EMPTY_ENV");
    ASSERT_STR_EQ(env.values[1], "");
    ASSERT_STR_EQ(env.names[2], "X");
    ASSERT_STR_EQ(env.names[3], "LAST");
    ASSERT_TRUE(wb_dotenv_get(&env, "NOT_IN_ENV") == NULL);
    ASSERT_TRUE(wb_dotenv_get(&env, "export") == NULL);
    wb_dotenv_free(&env);
    /* no lookup: nothing comes from the environment */
    parse_ok("FROM_ENV\n", NULL, NULL, &env);
    ASSERT_EQ(env.n, 0);
    /* text after a closing quote starts a statement of its own */
    parse_ok("A=\"x\"FROM_ENV\n", table_lookup, (void *)shell, &env);
    ASSERT_EQ(env.n, 2);
    ASSERT_STR_EQ(wb_dotenv_get(&env, "FROM_ENV"), "v1");
    wb_dotenv_free(&env);
}

TEST(compose_dotenv_errors) {
#define PERR(text, code, msg)                                                                      \
    expect_parse_err(text, sizeof(text) - 1, code, "failed to read t.env: " msg)
    /* compose-go's TestParseVariable */
    PERR("%!(EXTRA string)=foo", EINVAL,
         "line 1: unexpected character \"%\" in variable name \"%!(EXTRA string)=foo\"");
    PERR("A=1\nlol$wut\nB=2", EINVAL,
         "line 2: unexpected character \"$\" in variable name \"lol$wut\"");
    PERR("A=1\r\n\r\nB C=2\r\n", EINVAL, "line 3: key cannot contain a space");
    PERR("A=\"x\ny\"\n# c\nB C=1", EINVAL, "line 4: key cannot contain a space");
    PERR("A=1\nB=\"abc\nC=2\n", EINVAL, "line 2: unterminated quoted value \"abc");
    PERR("B='abc", EINVAL, "line 1: unterminated quoted value 'abc");
    PERR("B=\"abc\\\"", EINVAL, "line 1: unterminated quoted value \"abc\\\"");
    PERR("K=\"", EINVAL, "line 1: unterminated quoted value \"");
    PERR("A=1\nB=\0", EINVAL, "line 2: NUL byte");
#undef PERR
}

TEST(compose_dotenv_key_errors) {
    /* a Unicode space other than U+0085 and U+00A0 is no part of a key; invalid UTF-8 neither */
    expect_parse_err("A\xe2\x80\x83=1", 6, EINVAL,
                     "failed to read t.env: line 1: unexpected character \"\\u2003\" in "
                     "variable name \"A\\u2003=1\"");
    expect_parse_err("A\xff=1", 4, EINVAL,
                     "failed to read t.env: line 1: unexpected character \"\\xff\" in variable "
                     "name \"A\\xff=1\"");
    expect_parse_err("A\x01=1", 4, EINVAL,
                     "failed to read t.env: line 1: unexpected character \"\\x01\" in variable "
                     "name \"A\\x01=1\"");
}

TEST(compose_dotenv_interpolation_errors) {
    expect_parse_err("A=1\nB=${\n", strlen("A=1\nB=${\n"), EINVAL,
                     "failed to read t.env: line 2: " SYNTAX_MSG("\"${\""));
    expect_parse_err("A=1\nB=\"x\ny${MISSING:?need it}\"",
                     strlen("A=1\nB=\"x\ny${MISSING:?need it}\""), ENODATA,
                     "failed to read t.env: line 2: required variable MISSING is missing a value: "
                     "need it");
    /* single quotes are never interpolated */
    wb_dotenv env;
    parse_ok("B='${'", NULL, NULL, &env);
    ASSERT_STR_EQ(env.values[0], "${");
    wb_dotenv_free(&env);
    /* no file name: no prefix */
    wb_error err = {0};
    ASSERT_EQ(wb_dotenv_parse("A B=1", 5, NULL, NULL, NULL, &env, &err), -1);
    ASSERT_STR_EQ(err.msg, "line 1: key cannot contain a space");
}

TEST(compose_dotenv_limits) {
    /* values doubling on each line up to 8 MiB (WB_INTERP_MAX_OUTPUT), 16 MiB in all less 1 KiB,
     * then 8 MiB more: refused once they add up to more than 16 MiB */
    char text[4096], *p = text;
    p += sprintf(p, "V0=");
    for (int i = 0; i < 1024; i++) *p++ = 'x';
    *p++ = '\n';
    for (int i = 1; i < 14; i++) p += sprintf(p, "V%d=$V%d$V%d\n", i, i - 1, i - 1);
    p += sprintf(p, "W=$V13\n");
    wb_dotenv env;
    wb_error err = {0};
    ASSERT_EQ(wb_dotenv_parse(text, (size_t)(p - text) - 7, "t.env", NULL, NULL, &env, &err), 0);
    ASSERT_EQ(strlen(wb_dotenv_get(&env, "V13")), 8u << 20);
    wb_dotenv_free(&env);
    ASSERT_EQ(wb_dotenv_parse(text, (size_t)(p - text), "t.env", NULL, NULL, &env, &err), -1);
    ASSERT_EQ(err.code, E2BIG);
    ASSERT_STR_EQ(err.msg, "failed to read t.env: line 15: the values add up to more than 16 MiB");
    /* text over the size limit */
    size_t big = WB_DOTENV_MAX_SIZE + 1;
    char *huge = malloc(big);
    memset(huge, '\n', big);
    ASSERT_EQ(wb_dotenv_parse(huge, big, "t.env", NULL, NULL, &env, &err), -1);
    ASSERT_EQ(err.code, EFBIG);
    ASSERT_STR_EQ(err.msg, "failed to read t.env: larger than 4 MiB");
    ASSERT_EQ(wb_dotenv_parse(huge, big - 1, "t.env", NULL, NULL, &env, &err), 0);
    ASSERT_EQ(env.n, 0);
    free(huge);
}

/* many variables: linear time (the index), later duplicates in place */
TEST(compose_dotenv_many_variables) {
    size_t n = 100000;
    char *text = malloc(n * 32), *p = text;
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "K%zu=${K%zu}.%zu\n", i % (n / 2), i % (n / 2), i);
    wb_dotenv env;
    wb_error err = {0};
    ASSERT_EQ(wb_dotenv_parse(text, (size_t)(p - text), "t.env", NULL, NULL, &env, &err), 0);
    ASSERT_EQ(env.n, n / 2);
    ASSERT_STR_EQ(env.names[7], "K7");
    ASSERT_STR_EQ(env.values[7], ".7.50007");
    ASSERT_STR_EQ(env.values[0], ".0.50000");
    wb_dotenv_free(&env);
    free(text);
}

TEST(compose_dotenv_load) {
    char dir[] = "/tmp/wb-dotenv-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/.env", dir);
    wb_dotenv env;
    wb_error err = {0};
    ASSERT_EQ(wb_dotenv_load(path, NULL, NULL, &env, &err), -1);
    ASSERT_EQ(err.code, ENOENT);
    char want[600];
    snprintf(want, sizeof want, "Couldn't find env file: %s", path);
    ASSERT_STR_EQ(err.msg, want);
    ASSERT_EQ(wb_dotenv_load(dir, NULL, NULL, &env, &err), -1);
    ASSERT_EQ(err.code, EISDIR);
    snprintf(want, sizeof want, "%s is a directory", dir);
    ASSERT_STR_EQ(err.msg, want);

    FILE *f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    fputs("# project\nTAG=1.2\nIMAGE=app:${TAG}\nBAD LINE=x\n", f);
    fclose(f);
    ASSERT_EQ(wb_dotenv_load(path, NULL, NULL, &env, &err), -1);
    snprintf(want, sizeof want, "failed to read %s: line 4: key cannot contain a space", path);
    ASSERT_STR_EQ(err.msg, want);
    f = fopen(path, "w");
    fputs("# project\nTAG=1.2\nIMAGE=app:${TAG}\n", f);
    fclose(f);
    ASSERT_EQ(wb_dotenv_load(path, NULL, NULL, &env, &err), 0);
    ASSERT_EQ(env.n, 2);
    ASSERT_STR_EQ(wb_dotenv_get(&env, "IMAGE"), "app:1.2");
    wb_dotenv_free(&env);

    int fd = open(path, O_WRONLY | O_TRUNC);
    ASSERT_TRUE(fd >= 0);
    ASSERT_EQ(ftruncate(fd, WB_DOTENV_MAX_SIZE + 1), 0);
    close(fd);
    ASSERT_EQ(wb_dotenv_load(path, NULL, NULL, &env, &err), -1);
    ASSERT_EQ(err.code, EFBIG);
    snprintf(want, sizeof want, "failed to read %s: larger than 4 MiB", path);
    ASSERT_STR_EQ(err.msg, want);
    unlink(path);
    rmdir(dir);
}
