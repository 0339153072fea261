/* The Compose normaliser (src/compose/normalize.h): every short form into the long one (ports with
 * ranges, IPs and protocols; volumes with ~, ., named, anonymous and modes; environment, labels,
 * build, command splitting, depends_on, healthcheck, ulimits, extra_hosts, networks, env_file,
 * byte units, secrets/configs, extends), the errors with FILE:LINE: PATH: WHAT, the warnings for
 * unknown and unsupported keys, x-* keys, !reset, and that the input tree is left as it was.
 * Expectations follow compose-go v2 (`docker compose config --format json`) where it has them. */
#include <errno.h>

#include "harness.h"

#include "compose/normalize.h"
#include "compose/yaml.h"

/* ---- helpers ---- */

#define WORKDIR "/proj"

typedef struct warnings {
    char lines[16][256];
    int n;
} warnings;

static void collect(void *ctx, const char *line) {
    warnings *w = ctx;
    if (w->n < 16) snprintf(w->lines[w->n++], sizeof w->lines[0], "%s", line);
}

static wb_yaml_doc *load_at(const char *file, int line, const char *text) {
    wb_yaml_doc *d = NULL;
    wb_error err = {0};
    if (wb_yaml_load(text, strlen(text), "compose.yaml", &d, &err) < 0)
        wb_test_fail(file, line, "YAML load failed: %s", err.msg);
    return d;
}

/* The normalised model of `text` (NULL and a test failure if it fails). */
static json_t *norm_at(const char *file, int line, const char *text, warnings *w) {
    wb_yaml_doc *d = load_at(file, line, text);
    json_t *out = NULL;
    wb_error err = {0};
    if (wb_compose_normalize(wb_yaml_root(d), d, "compose.yaml", WORKDIR, w ? collect : NULL, w,
                             &out, &err) < 0)
        wb_test_fail(file, line, "normalize failed: %s", err.msg);
    wb_yaml_free(d);
    return out;
}

static char *dump(const json_t *v) {
    return v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : strdup("(absent)");
}

/* services.web.KEY of the normalised text as compact JSON */
static char *web_key_at(const char *file, int line, const char *text, const char *key) {
    json_t *m = norm_at(file, line, text, NULL);
    char *s = dump(json_object_get(json_object_get(json_object_get(m, "services"), "web"), key));
    json_decref(m);
    return s;
}

#define ASSERT_WEB(text, key, json)                                                                \
    do {                                                                                           \
        char *wb_s_ = web_key_at(__FILE__, __LINE__, text, key);                                   \
        ASSERT_STR_EQ(wb_s_, json);                                                                \
        free(wb_s_);                                                                               \
    } while (0)

/* The whole model as compact JSON */
#define ASSERT_MODEL(text, json)                                                                   \
    do {                                                                                           \
        json_t *wb_m_ = norm_at(__FILE__, __LINE__, text, NULL);                                   \
        char *wb_s_ = dump(wb_m_);                                                                 \
        ASSERT_STR_EQ(wb_s_, json);                                                                \
        free(wb_s_);                                                                               \
        json_decref(wb_m_);                                                                        \
    } while (0)

/* The error message of a normalisation that must fail (EINVAL, *out left NULL). */
static const char *err_at(const char *file, int line, const char *text) {
    static wb_error err;
    wb_yaml_doc *d = load_at(file, line, text);
    json_t *out = (json_t *)1;
    memset(&err, 0, sizeof err);
    if (wb_compose_normalize(wb_yaml_root(d), d, "compose.yaml", WORKDIR, NULL, NULL, &out, &err) ==
        0) {
        char *s = dump(out);
        wb_test_fail(file, line, "normalized, expected an error: %s", s);
    }
    if (out) wb_test_fail(file, line, "a failed normalize left *out set");
    if (err.code != EINVAL) wb_test_fail(file, line, "err.code %d, expected EINVAL", err.code);
    wb_yaml_free(d);
    return err.msg;
}

#define ASSERT_NORM_ERR(text, msg) ASSERT_STR_EQ(err_at(__FILE__, __LINE__, text), msg)

/* A file with one service `web` whose body is the flow mapping BODY, on line 3 */
#define WEB(body) "services:\n  web:\n    " body "\n"

/* ---- scalar parsers ---- */

TEST(compose_normalize_parse_bytes) {
    static const struct {
        const char *s;
        long long v;
    } ok[] = {
        {"0", 0},
        {"100", 100},
        {"100b", 100},
        {"1k", 1024},
        {"1K", 1024},
        {"1kb", 1024},
        {"1KiB", 1024},
        {"512m", 512LL << 20},
        {"1g", 1LL << 30},
        {"1.5GB", 1610612736},
        {"1.5 g", 1610612736},
        {"2t", 2LL << 40},
        {"1p", 1LL << 50},
        {"0.5k", 512},
        {".5k", 512},
        {"1.", 1},
        {"1 ", 1}, /* go-units: a space before an empty suffix */
        {"9223372036854775807", 9223372036854775807LL},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        long long v = -1;
        if (wb_compose_parse_bytes(ok[i].s, &v) != 0)
            wb_test_fail(__FILE__, __LINE__, "\"%s\" refused", ok[i].s);
        if (v != ok[i].v) wb_test_fail(__FILE__, __LINE__, "\"%s\" gave %lld", ok[i].s, v);
    }
    static const char *const bad[] = {"",
                                      "m",
                                      "-1",
                                      "1x",
                                      "1  m",
                                      "1mm",
                                      "1ib",
                                      "1mbb",
                                      "1e3",
                                      "8e",
                                      "9223372036854775808",
                                      "16384p",
                                      " 1",
                                      "1.2.3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long long v;
        if (wb_compose_parse_bytes(bad[i], &v) == 0)
            wb_test_fail(__FILE__, __LINE__, "\"%s\" accepted as %lld", bad[i], v);
    }
}

TEST(compose_normalize_parse_duration) {
    static const struct {
        const char *s;
        long long ns;
    } ok[] = {
        {"0", 0},
        {"-0", 0},
        {"10s", 10000000000LL},
        {"1m30s", 90000000000LL},
        {"1.5s", 1500000000LL},
        {".5s", 500000000LL},
        {"1.s", 1000000000LL},
        {"300ms", 300000000LL},
        {"2h", 7200000000000LL},
        {"1h2m3s4ms5us6ns", 3723004005006LL},
        {"1\xc2\xb5s", 1000},
        {"1\xce\xbcs", 1000},
        {"-1.5h", -5400000000000LL},
        {"+3s", 3000000000LL},
        {"0s", 0},
        {"9223372036854775807ns", 9223372036854775807LL},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        long long ns = -1;
        if (wb_compose_parse_duration(ok[i].s, &ns) != 0)
            wb_test_fail(__FILE__, __LINE__, "\"%s\" refused", ok[i].s);
        if (ns != ok[i].ns) wb_test_fail(__FILE__, __LINE__, "\"%s\" gave %lld", ok[i].s, ns);
    }
    static const char *const bad[] = {"",    "10",  "1x",    ".s", "s",  "1.2.3s",
                                      "-",   "1 s", "1s 2s", "1S", "3d", "9223372036854775808ns",
                                      "1h-", "1e3s"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long long ns;
        if (wb_compose_parse_duration(bad[i], &ns) == 0)
            wb_test_fail(__FILE__, __LINE__, "\"%s\" accepted as %lld", bad[i], ns);
    }
}

/* The words of s joined by '|' */
static char *split_joined(const char *s) {
    wb_error err = {0};
    char **w = wb_compose_split_words(s, &err);
    if (!w) return strdup(err.msg);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    for (char **p = w; *p; p++) fprintf(f, "%s%s", p == w ? "" : "|", *p);
    fclose(f);
    wb_compose_words_free(w);
    return out;
}

#define ASSERT_SPLIT(s, joined)                                                                    \
    do {                                                                                           \
        char *wb_j_ = split_joined(s);                                                             \
        ASSERT_STR_EQ(wb_j_, joined);                                                              \
        free(wb_j_);                                                                               \
    } while (0)

TEST(compose_normalize_split_words) {
    ASSERT_SPLIT("", "");
    ASSERT_SPLIT("   ", "");
    ASSERT_SPLIT("echo hello", "echo|hello");
    ASSERT_SPLIT("  a \t b\n c\r\n", "a|b|c");
    ASSERT_SPLIT("sh -c 'echo $HOME && ls'", "sh|-c|echo $HOME && ls");
    ASSERT_SPLIT("echo \"hello world\" x", "echo|hello world|x");
    ASSERT_SPLIT("a\"b c\"d", "ab cd");
    ASSERT_SPLIT("'' \"\" x", "||x");
    ASSERT_SPLIT("a\\ b", "a b");
    ASSERT_SPLIT("a\\\\b", "a\\b");
    ASSERT_SPLIT("\"a\\\"b\"", "a\"b");
    ASSERT_SPLIT("\"a\\$b\\\\c\\d\"", "a$b\\c\\d"); /* POSIX: \d stays in double quotes */
    ASSERT_SPLIT("'a\\b'", "a\\b");
    ASSERT_SPLIT("'it'\\''s'", "it's");
    ASSERT_SPLIT("a \\\nb", "a|b");
    ASSERT_SPLIT("echo a && echo b; c|d", "echo|a|&&|echo|b;|c|d"); /* no operators: words */
    ASSERT_SPLIT("$(date) `id` ${X}", "$(date)|`id`|${X}");         /* no expansion */
    ASSERT_SPLIT("'unterminated", "invalid command line string");
    ASSERT_SPLIT("\"unterminated", "invalid command line string");
    ASSERT_SPLIT("trailing\\", "invalid command line string");
}

/* ---- short forms into long ones ---- */

TEST(compose_normalize_ports_short) {
    ASSERT_WEB(WEB("ports: [80]"), "ports",
               "[{\"mode\":\"ingress\",\"target\":80,\"protocol\":\"tcp\"}]");
    ASSERT_WEB(
        WEB("ports: [\"8080:80\"]"), "ports",
        "[{\"mode\":\"ingress\",\"target\":80,\"published\":\"8080\",\"protocol\":\"tcp\"}]");
    ASSERT_WEB(WEB("ports: [\"127.0.0.1:8080:80/udp\"]"), "ports",
               "[{\"mode\":\"ingress\",\"host_ip\":\"127.0.0.1\",\"target\":80,\"published\":"
               "\"8080\",\"protocol\":\"udp\"}]");
    ASSERT_WEB(WEB("ports: [\"[::1]:8080:80\"]"), "ports",
               "[{\"mode\":\"ingress\",\"host_ip\":\"::1\",\"target\":80,\"published\":\"8080\","
               "\"protocol\":\"tcp\"}]");
    ASSERT_WEB(WEB("ports: [\"::1:8080:80\"]"), "ports",
               "[{\"mode\":\"ingress\",\"host_ip\":\"::1\",\"target\":80,\"published\":\"8080\","
               "\"protocol\":\"tcp\"}]");
    /* an IP with an empty host port: an ephemeral port on that address */
    ASSERT_WEB(
        WEB("ports: [\"127.0.0.1::80\"]"), "ports",
        "[{\"mode\":\"ingress\",\"host_ip\":\"127.0.0.1\",\"target\":80,\"protocol\":\"tcp\"}]");
    ASSERT_WEB(WEB("ports: [\"80/SCTP\", \"81/\"]"), "ports",
               "[{\"mode\":\"ingress\",\"target\":80,\"protocol\":\"sctp\"},"
               "{\"mode\":\"ingress\",\"target\":81,\"protocol\":\"tcp\"}]");
}

TEST(compose_normalize_ports_ranges) {
    ASSERT_WEB(WEB("ports: [\"8000-8002:80-82\"]"), "ports",
               "[{\"mode\":\"ingress\",\"target\":80,\"published\":\"8000\",\"protocol\":\"tcp\"},"
               "{\"mode\":\"ingress\",\"target\":81,\"published\":\"8001\",\"protocol\":\"tcp\"},"
               "{\"mode\":\"ingress\",\"target\":82,\"published\":\"8002\",\"protocol\":\"tcp\"}]");
    /* a host range against one container port stays a range */
    ASSERT_WEB(WEB("ports: [\"8000-8010:80\"]"), "ports",
               "[{\"mode\":\"ingress\",\"target\":80,\"published\":\"8000-8010\",\"protocol\":"
               "\"tcp\"}]");
    ASSERT_WEB(WEB("ports: [\"9090-9091/udp\"]"), "ports",
               "[{\"mode\":\"ingress\",\"target\":9090,\"protocol\":\"udp\"},"
               "{\"mode\":\"ingress\",\"target\":9091,\"protocol\":\"udp\"}]");
    ASSERT_WEB(WEB("ports: [\"0.0.0.0:5000-5001:5000-5001\"]"), "ports",
               "[{\"mode\":\"ingress\",\"host_ip\":\"0.0.0.0\",\"target\":5000,\"published\":"
               "\"5000\",\"protocol\":\"tcp\"},{\"mode\":\"ingress\",\"host_ip\":\"0.0.0.0\","
               "\"target\":5001,\"published\":\"5001\",\"protocol\":\"tcp\"}]");
    /* the whole range is allowed, more than that is not */
    json_t *m = norm_at(__FILE__, __LINE__, WEB("ports: [\"1-65535\"]"), NULL);
    ASSERT_EQ(json_array_size(
                  json_object_get(json_object_get(json_object_get(m, "services"), "web"), "ports")),
              65535);
    json_decref(m);
    ASSERT_NORM_ERR(
        WEB("ports: [\"1-65535\", \"1-65535\"]"),
        "compose.yaml:3: services.web.ports[1]: too many ports: more than 65536 entries");
}

TEST(compose_normalize_ports_long) {
    ASSERT_WEB(
        "services:\n  web:\n    ports:\n      - target: \"80\"\n        published: 8080\n"
        "        host_ip: 10.0.0.1\n        x-note: kept\n",
        "ports",
        "[{\"target\":80,\"published\":\"8080\",\"host_ip\":\"10.0.0.1\",\"x-note\":\"kept\","
        "\"protocol\":\"tcp\",\"mode\":\"ingress\"}]");
    ASSERT_WEB(WEB("ports: [{target: 53, published: \"5353-5354\", protocol: UDP, mode: host, "
                   "name: dns, app_protocol: dns}]"),
               "ports",
               "[{\"target\":53,\"published\":\"5353-5354\",\"protocol\":\"udp\",\"mode\":\"host\","
               "\"name\":\"dns\",\"app_protocol\":\"dns\"}]");
    /* an empty published is no published port */
    ASSERT_WEB(WEB("ports: [{target: 80, published: \"\"}]"), "ports",
               "[{\"target\":80,\"protocol\":\"tcp\",\"mode\":\"ingress\"}]");
}

TEST(compose_normalize_expose) {
    ASSERT_WEB(WEB("expose: [80, \"8000-8010/udp\", \"9000\"]"), "expose",
               "[\"80\",\"8000-8010/udp\",\"9000\"]");
}

TEST(compose_normalize_volumes_short) {
    setenv("HOME", "/home/u", 1);
    ASSERT_WEB(WEB("volumes: [\"./data:/data\"]"), "volumes",
               "[{\"type\":\"bind\",\"source\":\"/proj/data\",\"target\":\"/data\",\"bind\":"
               "{\"create_host_path\":true}}]");
    ASSERT_WEB(WEB("volumes: [\".:/app:cached\"]"), "volumes",
               "[{\"type\":\"bind\",\"source\":\"/proj\",\"target\":\"/app\",\"consistency\":"
               "\"cached\",\"bind\":{\"create_host_path\":true}}]");
    ASSERT_WEB(WEB("volumes: [\"~/cfg:/cfg:ro\", \"~:/h\"]"), "volumes",
               "[{\"type\":\"bind\",\"source\":\"/home/u/cfg\",\"target\":\"/cfg\",\"read_only\":"
               "true,\"bind\":{\"create_host_path\":true}},{\"type\":\"bind\",\"source\":"
               "\"/home/u\",\"target\":\"/h\",\"bind\":{\"create_host_path\":true}}]");
    ASSERT_WEB(WEB("volumes: [\"/srv//x/:/x:rw,z,rshared\"]"), "volumes",
               "[{\"type\":\"bind\",\"source\":\"/srv/x\",\"target\":\"/x\",\"bind\":"
               "{\"propagation\":\"rshared\",\"create_host_path\":true,\"selinux\":\"z\"}}]");
    ASSERT_WEB(WEB("volumes: [\"../up/./x:/t/../u/\"]"), "volumes",
               "[{\"type\":\"bind\",\"source\":\"/up/x\",\"target\":\"/u\",\"bind\":"
               "{\"create_host_path\":true}}]");
    /* named and anonymous volumes */
    ASSERT_WEB(
        WEB("volumes: [\"data:/var/lib/data\", \"db:/db:ro,nocopy\", \"/anon\"]"), "volumes",
        "[{\"type\":\"volume\",\"source\":\"data\",\"target\":\"/var/lib/data\",\"volume\":{}},"
        "{\"type\":\"volume\",\"source\":\"db\",\"target\":\"/db\",\"read_only\":true,"
        "\"volume\":{\"nocopy\":true}},"
        "{\"type\":\"volume\",\"target\":\"/anon\",\"volume\":{}}]");
}

TEST(compose_normalize_volumes_long) {
    setenv("HOME", "/home/u", 1);
    ASSERT_WEB("services:\n  web:\n    volumes:\n      - type: bind\n        source: ./src\n"
               "        target: /src\n        read_only: false\n        bind:\n"
               "          create_host_path: \"true\"\n",
               "volumes",
               "[{\"type\":\"bind\",\"source\":\"/proj/src\",\"target\":\"/src\",\"bind\":"
               "{\"create_host_path\":true}}]");
    ASSERT_WEB(
        WEB("volumes: [{type: tmpfs, target: /tmp, tmpfs: {size: 64m, mode: \"1777\"}}, "
            "{type: volume, source: data, target: /d, read_only: true, volume: {nocopy: "
            "true, subpath: sub}}, {type: bind, source: ~/x, target: /x}]"),
        "volumes",
        "[{\"type\":\"tmpfs\",\"target\":\"/tmp\",\"tmpfs\":{\"size\":67108864,\"mode\":1023}},"
        "{\"type\":\"volume\",\"source\":\"data\",\"target\":\"/d\",\"read_only\":true,"
        "\"volume\":{\"nocopy\":true,\"subpath\":\"sub\"}},"
        "{\"type\":\"bind\",\"source\":\"/home/u/x\",\"target\":\"/x\"}]");
}

TEST(compose_normalize_environment) {
    ASSERT_WEB(WEB("environment: [\"A=1\", \"B\", \"C=\", \"D=x=y\", \"A=2\"]"), "environment",
               "{\"A\":\"2\",\"B\":null,\"C\":\"\",\"D\":\"x=y\"}");
    ASSERT_WEB(WEB("environment: {I: 1, R: 1.5, BIG: 1e20, T: true, F: false, N: null, E: , "
                   "S: \"x\", Q: \"007\"}"),
               "environment",
               "{\"I\":\"1\",\"R\":\"1.5\",\"BIG\":\"1e+20\",\"T\":\"true\",\"F\":\"false\","
               "\"N\":null,\"E\":null,\"S\":\"x\",\"Q\":\"007\"}");
    ASSERT_WEB(WEB("environment: {A: 0.1, B: 100000.0, C: 1000000.0, D: 0.0001, E: 0.00001, "
                   "F: -2.5, G: 0x10}"),
               "environment",
               "{\"A\":\"0.1\",\"B\":\"100000\",\"C\":\"1e+06\",\"D\":\"0.0001\",\"E\":\"1e-05\","
               "\"F\":\"-2.5\",\"G\":\"16\"}");
    ASSERT_WEB(WEB("environment: []"), "environment", "{}");
}

TEST(compose_normalize_labels) {
    ASSERT_WEB(WEB("labels: [\"com.example.a=b\", \"flag\", \"e=\"]"), "labels",
               "{\"com.example.a\":\"b\",\"flag\":\"\",\"e\":\"\"}");
    ASSERT_WEB(WEB("labels: {com.example.n: 1, b: true, c: null}"), "labels",
               "{\"com.example.n\":\"1\",\"b\":\"true\",\"c\":\"\"}");
    ASSERT_WEB(WEB("annotations: [\"a=1\"]"), "annotations", "{\"a\":\"1\"}");
}

TEST(compose_normalize_build) {
    ASSERT_WEB(WEB("build: ./app"), "build", "{\"context\":\"/proj/app\"}");
    ASSERT_WEB(WEB("build: ."), "build", "{\"context\":\"/proj\"}");
    ASSERT_WEB(WEB("build: /abs/dir/"), "build", "{\"context\":\"/abs/dir\"}");
    ASSERT_WEB(WEB("build: \"https://github.com/x/y.git#main:sub\""), "build",
               "{\"context\":\"https://github.com/x/y.git#main:sub\"}");
    ASSERT_WEB(WEB("build: \"git@github.com:x/y.git\""), "build",
               "{\"context\":\"git@github.com:x/y.git\"}");
    ASSERT_WEB(
        WEB("build: {dockerfile: Dockerfile.dev, args: [\"A=1\", \"B\"], labels: [\"l=v\"], "
            "no_cache: \"yes\", pull: false, target: prod, platforms: [linux/amd64], "
            "shm_size: 1g, cache_from: \"app:latest\", extra_hosts: [\"h=1.2.3.4\"], network: "
            "host, x-extra: 1}"),
        "build",
        "{\"dockerfile\":\"Dockerfile.dev\",\"args\":{\"A\":\"1\",\"B\":null},\"labels\":"
        "{\"l\":\"v\"},\"no_cache\":true,\"pull\":false,\"target\":\"prod\",\"platforms\":"
        "[\"linux/amd64\"],\"shm_size\":1073741824,\"cache_from\":[\"app:latest\"],"
        "\"extra_hosts\":[\"h:1.2.3.4\"],\"network\":\"host\",\"x-extra\":1}");
    ASSERT_WEB(WEB("build: {context: sub, args: {N: 1, E: null}}"), "build",
               "{\"context\":\"/proj/sub\",\"args\":{\"N\":\"1\",\"E\":null}}");
}

TEST(compose_normalize_command) {
    ASSERT_WEB(WEB("command: echo \"hello world\" 'a b' c\\ d \"x\\\"y\""), "command",
               "[\"echo\",\"hello world\",\"a b\",\"c d\",\"x\\\"y\"]");
    ASSERT_WEB(WEB("command: [\"sh\", \"-c\", \"echo $$HOME\"]"), "command",
               "[\"sh\",\"-c\",\"echo $$HOME\"]");
    ASSERT_WEB(WEB("command: \"\""), "command", "[]");
    ASSERT_WEB(WEB("command: []"), "command", "[]");
    ASSERT_WEB(WEB("command: null"), "command", "null");
    ASSERT_WEB(WEB("entrypoint: /bin/sh -c"), "entrypoint", "[\"/bin/sh\",\"-c\"]");
    ASSERT_WEB(WEB("entrypoint: \"sh -c 'exec \\\"$0\\\" \\\"$@\\\"'\""), "entrypoint",
               "[\"sh\",\"-c\",\"exec \\\"$0\\\" \\\"$@\\\"\"]");
}

TEST(compose_normalize_depends_on) {
    ASSERT_WEB(
        WEB("depends_on: [db, cache]"), "depends_on",
        "{\"db\":{\"condition\":\"service_started\",\"required\":true,\"restart\":false},"
        "\"cache\":{\"condition\":\"service_started\",\"required\":true,\"restart\":false}}");
    ASSERT_WEB(WEB("depends_on: {db: {condition: service_healthy, restart: true}, "
                   "init: {required: false, condition: service_completed_successfully}, x: {}}"),
               "depends_on",
               "{\"db\":{\"condition\":\"service_healthy\",\"restart\":true,\"required\":true},"
               "\"init\":{\"required\":false,\"condition\":\"service_completed_successfully\","
               "\"restart\":false},"
               "\"x\":{\"condition\":\"service_started\",\"required\":true,\"restart\":false}}");
}

TEST(compose_normalize_healthcheck) {
    ASSERT_WEB(WEB("healthcheck: {test: curl -f http://localhost/ || exit 1, interval: 1m30s, "
                   "timeout: 10s, retries: \"3\", start_period: 0s, start_interval: 500ms}"),
               "healthcheck",
               "{\"test\":[\"CMD-SHELL\",\"curl -f http://localhost/ || exit 1\"],\"interval\":"
               "\"1m30s\",\"timeout\":\"10s\",\"retries\":3,\"start_period\":\"0s\","
               "\"start_interval\":\"500ms\"}");
    ASSERT_WEB(WEB("healthcheck: {test: [CMD, /bin/check, \"--deep\"]}"), "healthcheck",
               "{\"test\":[\"CMD\",\"/bin/check\",\"--deep\"]}");
    ASSERT_WEB(WEB("healthcheck: {test: [NONE]}"), "healthcheck", "{\"test\":[\"NONE\"]}");
    ASSERT_WEB(WEB("healthcheck: {disable: true}"), "healthcheck", "{\"disable\":true}");
}

TEST(compose_normalize_ulimits) {
    ASSERT_WEB(
        WEB("ulimits: {nproc: 65535, nofile: {soft: 20000, hard: \"40000\"}, core: \"0\"}"),
        "ulimits",
        "{\"nproc\":{\"soft\":65535,\"hard\":65535},\"nofile\":{\"soft\":20000,\"hard\":40000},"
        "\"core\":{\"soft\":0,\"hard\":0}}");
}

TEST(compose_normalize_extra_hosts) {
    ASSERT_WEB(WEB("extra_hosts: [\"a=1.2.3.4\", \"b:5.6.7.8\", \"c=::1\", \"d:::1\", "
                   "\"e=[::2]\"]"),
               "extra_hosts", "[\"a:1.2.3.4\",\"b:5.6.7.8\",\"c:::1\",\"d:::1\",\"e:[::2]\"]");
    ASSERT_WEB(WEB("extra_hosts: {a: 1.2.3.4, b: [\"10.0.0.1\", \"::1\"]}"), "extra_hosts",
               "[\"a:1.2.3.4\",\"b:10.0.0.1\",\"b:::1\"]");
}

TEST(compose_normalize_networks) {
    ASSERT_WEB(WEB("networks: [front, back]"), "networks", "{\"front\":null,\"back\":null}");
    ASSERT_WEB(WEB("networks: {front: null, back: {aliases: db, ipv4_address: 172.16.0.2, "
                   "priority: 10}, x: {}}"),
               "networks",
               "{\"front\":null,\"back\":{\"aliases\":[\"db\"],\"ipv4_address\":\"172.16.0.2\","
               "\"priority\":10},\"x\":{}}");
}

TEST(compose_normalize_env_file) {
    ASSERT_WEB(WEB("env_file: .env"), "env_file", "[{\"path\":\"/proj/.env\",\"required\":true}]");
    ASSERT_WEB(WEB("env_file: [a.env, /etc/b.env, {path: ./c.env, required: false}, "
                   "{path: d.env, format: raw}]"),
               "env_file",
               "[{\"path\":\"/proj/a.env\",\"required\":true},"
               "{\"path\":\"/etc/b.env\",\"required\":true},"
               "{\"path\":\"/proj/c.env\",\"required\":false},"
               "{\"path\":\"/proj/d.env\",\"format\":\"raw\",\"required\":true}]");
}

TEST(compose_normalize_resources_units) {
    ASSERT_WEB(WEB("mem_limit: 512m"), "mem_limit", "536870912");
    ASSERT_WEB(WEB("mem_limit: 1.5GB"), "mem_limit", "1610612736");
    ASSERT_WEB(WEB("mem_limit: 1024"), "mem_limit", "1024");
    ASSERT_WEB(WEB("memswap_limit: -1"), "memswap_limit", "-1");
    ASSERT_WEB(WEB("mem_reservation: 1k"), "mem_reservation", "1024");
    ASSERT_WEB(WEB("shm_size: 64m"), "shm_size", "67108864");
    ASSERT_WEB(WEB("cpus: \"0.5\""), "cpus", "0.5");
    ASSERT_WEB(WEB("cpus: 2"), "cpus", "2");
    ASSERT_WEB(WEB("cpus: 1.25"), "cpus", "1.25");
    ASSERT_WEB(WEB("deploy: {replicas: 2, resources: {limits: {cpus: 0.5, memory: 1g, pids: 100}, "
                   "reservations: {cpus: \"1\", memory: 512M}}, restart_policy: {condition: "
                   "on-failure, delay: 5s, max_attempts: 3}, placement: {constraints: [a]}}"),
               "deploy",
               "{\"replicas\":2,\"resources\":{\"limits\":{\"cpus\":\"0.5\",\"memory\":1073741824,"
               "\"pids\":100},\"reservations\":{\"cpus\":\"1\",\"memory\":536870912}},"
               "\"restart_policy\":{\"condition\":\"on-failure\",\"delay\":\"5s\",\"max_attempts\""
               ":3},\"placement\":{\"constraints\":[\"a\"]}}");
    ASSERT_WEB(WEB("deploy:"), "deploy", "null");
}

TEST(compose_normalize_secrets_configs_extends) {
    ASSERT_WEB(WEB("secrets: [db_pw, {source: api, target: /run/k, uid: 1000, gid: \"1000\", "
                   "mode: \"0440\"}]"),
               "secrets",
               "[{\"source\":\"db_pw\"},{\"source\":\"api\",\"target\":\"/run/k\",\"uid\":\"1000\","
               "\"gid\":\"1000\",\"mode\":288}]");
    ASSERT_WEB(WEB("configs: [nginx_conf, {source: c, mode: 0444}]"), "configs",
               "[{\"source\":\"nginx_conf\"},{\"source\":\"c\",\"mode\":292}]");
    ASSERT_WEB(WEB("extends: base"), "extends", "{\"service\":\"base\"}");
    ASSERT_WEB(WEB("extends: {service: base, file: ../common.yaml}"), "extends",
               "{\"service\":\"base\",\"file\":\"../common.yaml\"}");
}

TEST(compose_normalize_scalars_and_lists) {
    ASSERT_WEB(WEB("tmpfs: /run"), "tmpfs", "[\"/run\"]");
    ASSERT_WEB(WEB("dns: 8.8.8.8"), "dns", "[\"8.8.8.8\"]");
    ASSERT_WEB(WEB("dns_search: [a.example, b.example]"), "dns_search",
               "[\"a.example\",\"b.example\"]");
    ASSERT_WEB(WEB("group_add: [100, wheel]"), "group_add", "[\"100\",\"wheel\"]");
    ASSERT_WEB(WEB("cap_add: NET_ADMIN"), "cap_add", "[\"NET_ADMIN\"]");
    ASSERT_WEB(WEB("devices: [\"/dev/a:/dev/a\", {source: /dev/b, permissions: rwm}]"), "devices",
               "[\"/dev/a:/dev/a\",{\"source\":\"/dev/b\",\"permissions\":\"rwm\"}]");
    ASSERT_WEB(WEB("pull_policy: if_not_present"), "pull_policy", "\"missing\"");
    ASSERT_WEB(WEB("pull_policy: build"), "pull_policy", "\"build\"");
    ASSERT_WEB(WEB("restart: no"), "restart", "\"no\"");
    ASSERT_WEB(WEB("restart: on-failure:5"), "restart", "\"on-failure:5\"");
    ASSERT_WEB(WEB("restart: unless-stopped"), "restart", "\"unless-stopped\"");
    ASSERT_WEB(WEB("init: \"yes\""), "init", "true");
    ASSERT_WEB(WEB("tty: \"OFF\""), "tty", "false");
    ASSERT_WEB(WEB("read_only: true"), "read_only", "true");
    ASSERT_WEB(WEB("scale: \"3\""), "scale", "3");
    ASSERT_WEB(WEB("pids_limit: -1"), "pids_limit", "-1");
    ASSERT_WEB(WEB("stop_grace_period: 1m30s"), "stop_grace_period", "\"1m30s\"");
    ASSERT_WEB(WEB("pid: null"), "pid", "null");
    ASSERT_WEB(WEB("image: nginx:alpine"), "image", "\"nginx:alpine\"");
    ASSERT_WEB(WEB("image: \"\""), "image", "\"\"");
}

TEST(compose_normalize_top_level) {
    warnings w = {0};
    json_t *m =
        norm_at(__FILE__, __LINE__,
                "version: \"3.8\"\n"
                "name: demo\n"
                "x-common: &c {image: busybox}\n"
                "services:\n"
                "  web: {image: nginx}\n"
                "  db: {<<: *c}\n"
                "networks:\n"
                "  front:\n"
                "  old: {external: {name: shared}}\n"
                "  own: {driver: bridge, driver_opts: {mtu: 1500}, ipam: {config: [{subnet: "
                "10.0.0.0/24}]}, labels: [a=b], internal: \"true\"}\n"
                "volumes:\n"
                "  data:\n"
                "  ext: {external: true}\n"
                "configs:\n"
                "  c: {file: ./c.conf}\n"
                "secrets:\n"
                "  s: {environment: TOKEN}\n",
                &w);
    char *s = dump(m);
    ASSERT_STR_EQ(s,
                  "{\"name\":\"demo\",\"x-common\":{\"image\":\"busybox\"},\"services\":{\"web\":"
                  "{\"image\":\"nginx\"},\"db\":{\"image\":\"busybox\"}},\"networks\":{\"front\":"
                  "{},\"old\":{\"external\":true,\"name\":\"shared\"},\"own\":{\"driver\":"
                  "\"bridge\",\"driver_opts\":{\"mtu\":\"1500\"},\"ipam\":{\"config\":[{\"subnet\":"
                  "\"10.0.0.0/24\"}]},\"labels\":{\"a\":\"b\"},\"internal\":true}},\"volumes\":"
                  "{\"data\":{},\"ext\":{\"external\":true}},\"configs\":{\"c\":{\"file\":"
                  "\"/proj/c.conf\"}},\"secrets\":{\"s\":{\"environment\":\"TOKEN\"}}}");
    free(s);
    json_decref(m);
    ASSERT_EQ(w.n, 2);
    ASSERT_STR_EQ(w.lines[0], "compose.yaml: the attribute `version` is obsolete, it will be "
                              "ignored, please remove it to avoid potential confusion");
    ASSERT_STR_EQ(w.lines[1], "compose.yaml:9: networks.old: external.name is deprecated, please "
                              "set name and external: true");
    /* services absent or null: {} */
    ASSERT_MODEL("name: x\n", "{\"name\":\"x\",\"services\":{}}");
    ASSERT_MODEL("services:\n", "{\"services\":{}}");
    ASSERT_MODEL("x-only: 1\n", "{\"x-only\":1,\"services\":{}}");
}

TEST(compose_normalize_extensions_silent) {
    warnings w = {0};
    json_t *m = norm_at(__FILE__, __LINE__,
                        "x-top: {a: [1, 2]}\n"
                        "services:\n"
                        "  web:\n"
                        "    image: a\n"
                        "    x-svc: {anything: [goes, {here: null}]}\n"
                        "    build: {context: ., x-b: 1}\n"
                        "    healthcheck: {test: [CMD, x], x-h: true}\n"
                        "    ports: [{target: 80, x-p: 1}]\n"
                        "networks:\n"
                        "  n: {x-n: 2}\n",
                        &w);
    ASSERT_EQ(w.n, 0);
    char *s = dump(m);
    ASSERT_STR_CONTAINS(s, "\"x-top\":{\"a\":[1,2]}");
    ASSERT_STR_CONTAINS(s, "\"x-svc\":{\"anything\":[\"goes\",{\"here\":null}]}");
    ASSERT_STR_CONTAINS(s, "\"x-b\":1");
    ASSERT_STR_CONTAINS(s, "\"x-h\":true");
    ASSERT_STR_CONTAINS(s, "\"x-p\":1");
    ASSERT_STR_CONTAINS(s, "\"n\":{\"x-n\":2}");
    free(s);
    json_decref(m);
}

TEST(compose_normalize_unknown_and_unsupported_warnings) {
    warnings w = {0};
    json_t *m = norm_at(__FILE__, __LINE__,
                        "services:\n"
                        "  web:\n"
                        "    image: a\n"
                        "    imagee: b\n"
                        "    sysctls: [net.core.somaxconn=1024]\n"
                        "    logging: {driver: json-file}\n"
                        "    build:\n"
                        "      context: .\n"
                        "      ssh: [default]\n"
                        "      bogus: 1\n"
                        "include: [other.yaml]\n"
                        "colour: blue\n",
                        &w);
    ASSERT_EQ(w.n, 7);
    ASSERT_STR_EQ(w.lines[0], "compose.yaml:4: services.web: unknown key imagee, ignored");
    ASSERT_STR_EQ(w.lines[1], "compose.yaml:5: services.web.sysctls: not supported by wasmbox, "
                              "ignored");
    ASSERT_STR_EQ(w.lines[2], "compose.yaml:6: services.web.logging: not supported by wasmbox, "
                              "ignored");
    ASSERT_STR_EQ(w.lines[3], "compose.yaml:9: services.web.build.ssh: not supported by "
                              "wasmbox, ignored");
    ASSERT_STR_EQ(w.lines[4], "compose.yaml:10: services.web.build: unknown key bogus, ignored");
    ASSERT_STR_EQ(w.lines[5], "compose.yaml:11: include: not supported by wasmbox, ignored");
    ASSERT_STR_EQ(w.lines[6], "compose.yaml:12: unknown key colour, ignored");
    char *s = dump(m);
    /* unknown keys are dropped; unsupported ones kept (sysctls as a mapping) */
    ASSERT_STR_EQ(s, "{\"services\":{\"web\":{\"image\":\"a\",\"sysctls\":{\"net.core.somaxconn\":"
                     "\"1024\"},\"logging\":{\"driver\":\"json-file\"},\"build\":{\"context\":"
                     "\"/proj\",\"ssh\":[\"default\"]}}},\"include\":[\"other.yaml\"]}");
    free(s);
    json_decref(m);
}

TEST(compose_normalize_unknown_top_level_key) {
    warnings w = {0};
    json_t *m = norm_at(__FILE__, __LINE__, "services: {}\ncolour: blue\n", &w);
    ASSERT_EQ(w.n, 1);
    ASSERT_STR_EQ(w.lines[0], "compose.yaml:2: unknown key colour, ignored");
    char *s = dump(m);
    ASSERT_STR_EQ(s, "{\"services\":{}}");
    free(s);
    json_decref(m);
}

/* !reset values are kept as they are (merge.c drops the key), whatever their type */
TEST(compose_normalize_reset_kept) {
    ASSERT_WEB(WEB("image: !reset null"), "image", "null");
    ASSERT_WEB(WEB("ports: !reset []"), "ports", "[]");
    ASSERT_WEB(WEB("environment: !override [\"A=1\"]"), "environment", "{\"A\":\"1\"}");
}

TEST(compose_normalize_input_unchanged) {
    setenv("HOME", "/home/u", 1);
    const char *text = "version: '3'\n"
                       "services:\n"
                       "  web:\n"
                       "    build: ./app\n"
                       "    command: echo hi\n"
                       "    ports: [\"8000-8001:80-81\", {target: 9000, published: 9001}]\n"
                       "    volumes: [\"./d:/d\", {type: bind, source: ~/x, target: /x}]\n"
                       "    environment: [A=1, B]\n"
                       "    depends_on: [db]\n"
                       "    healthcheck: {test: true}\n"
                       "    bogus: 1\n"
                       "  db: {image: pg, env_file: .env, ulimits: {nofile: 5}}\n"
                       "networks: {n: {external: {name: x}}}\n";
    wb_yaml_doc *d = load_at(__FILE__, __LINE__, text);
    json_t *copy = json_deep_copy(wb_yaml_root(d));
    json_t *out = NULL;
    wb_error err = {0};
    /* healthcheck.test: true is an error: the input must be untouched on failure too */
    ASSERT_EQ(
        wb_compose_normalize(wb_yaml_root(d), d, "compose.yaml", WORKDIR, NULL, NULL, &out, &err),
        -1);
    ASSERT_TRUE(json_equal(copy, wb_yaml_root(d)));
    json_object_del(json_object_get(json_object_get(wb_yaml_root(d), "services"), "web"),
                    "healthcheck");
    json_object_del(json_object_get(json_object_get(copy, "services"), "web"), "healthcheck");
    ASSERT_EQ(
        wb_compose_normalize(wb_yaml_root(d), d, "compose.yaml", WORKDIR, NULL, NULL, &out, &err),
        0);
    ASSERT_TRUE(json_equal(copy, wb_yaml_root(d)));
    /* nothing shared: changing the result leaves the input as it was */
    json_t *web = json_object_get(json_object_get(out, "services"), "web");
    json_object_clear(web);
    json_object_set_new(json_object_get(json_object_get(out, "networks"), "n"), "name",
                        json_string("changed"));
    ASSERT_TRUE(json_equal(copy, wb_yaml_root(d)));
    /* deterministic: the same text gives the same model, byte for byte */
    json_t *again = NULL, *third = NULL;
    ASSERT_EQ(
        wb_compose_normalize(wb_yaml_root(d), d, "compose.yaml", WORKDIR, NULL, NULL, &again, &err),
        0);
    ASSERT_EQ(
        wb_compose_normalize(wb_yaml_root(d), d, "compose.yaml", WORKDIR, NULL, NULL, &third, &err),
        0);
    char *a = dump(again), *b = dump(third);
    ASSERT_STR_EQ(a, b);
    free(a);
    free(b);
    json_decref(out);
    json_decref(again);
    json_decref(third);
    json_decref(copy);
    wb_yaml_free(d);
}

TEST(compose_normalize_keys_in_file_order) {
    json_t *m = norm_at(__FILE__, __LINE__,
                        "services:\n"
                        "  zeta: {image: z, environment: {Z: 1, A: 2, M: 3}}\n"
                        "  alpha: {labels: [z=1, a=2], image: a}\n"
                        "networks: {z: {}, a: {}}\n",
                        NULL);
    char *s = dump(m);
    ASSERT_STR_EQ(s,
                  "{\"services\":{\"zeta\":{\"image\":\"z\",\"environment\":{\"Z\":\"1\",\"A\":"
                  "\"2\",\"M\":\"3\"}},\"alpha\":{\"labels\":{\"z\":\"1\",\"a\":\"2\"},\"image\":"
                  "\"a\"}},\"networks\":{\"z\":{},\"a\":{}}}");
    free(s);
    json_decref(m);
}

/* ---- errors: the full message, with the line ---- */

TEST(compose_normalize_errors_structure) {
    ASSERT_NORM_ERR("", "compose.yaml: empty compose file");
    ASSERT_NORM_ERR("- a\n", "compose.yaml: Top-level object must be a mapping");
    ASSERT_NORM_ERR("services: [a]\n", "compose.yaml:1: services: must be a mapping");
    ASSERT_NORM_ERR("services:\n  web: nginx\n", "compose.yaml:2: services.web: must be a mapping");
    ASSERT_NORM_ERR("services:\n  web:\n", "compose.yaml:2: services.web: must be a mapping");
    ASSERT_NORM_ERR("services:\n  my web: {image: a}\n",
                    "compose.yaml:2: services.my web: invalid service name \"my web\": it must "
                    "match [a-zA-Z0-9][a-zA-Z0-9_.-]*");
    ASSERT_NORM_ERR("services:\n  _web: {image: a}\n",
                    "compose.yaml:2: services._web: invalid service name \"_web\": it must match "
                    "[a-zA-Z0-9][a-zA-Z0-9_.-]*");
    ASSERT_NORM_ERR(WEB("image: 1"), "compose.yaml:3: services.web.image: must be a string");
    ASSERT_NORM_ERR(WEB("image: true"), "compose.yaml:3: services.web.image: must be a string");
    ASSERT_NORM_ERR(WEB("user: 1000"), "compose.yaml:3: services.web.user: must be a string");
    ASSERT_NORM_ERR(WEB("init: maybe"), "compose.yaml:3: services.web.init: must be a boolean");
    ASSERT_NORM_ERR(WEB("scale: -1"),
                    "compose.yaml:3: services.web.scale: must be greater than or equal to 0");
    ASSERT_NORM_ERR(WEB("scale: 1.5"), "compose.yaml:3: services.web.scale: must be an integer");
    ASSERT_NORM_ERR(WEB("environment:"),
                    "compose.yaml:3: services.web.environment: must be a mapping or a list");
    ASSERT_NORM_ERR(WEB("environment: {A: [1]}"),
                    "compose.yaml:3: services.web.environment.A: must be a string, a number, a "
                    "boolean or null");
    ASSERT_NORM_ERR(WEB("labels: [\"=v\"]"),
                    "compose.yaml:3: services.web.labels[0]: invalid entry \"=v\": no name before "
                    "'='");
    ASSERT_NORM_ERR(WEB("cpus: lots"), "compose.yaml:3: services.web.cpus: must be a number");
    ASSERT_NORM_ERR("services:\n  web:\n    image: a\n    network_mode: host\n    networks: [a]\n",
                    "compose.yaml:4: services.web.network_mode: 'network_mode' and 'networks' "
                    "cannot be combined");
}

TEST(compose_normalize_errors_ports) {
    ASSERT_NORM_ERR(WEB("ports: [\"80a\"]"), "compose.yaml:3: services.web.ports[0]: invalid port "
                                             "\"80a\"");
    ASSERT_NORM_ERR("services:\n  web:\n    ports:\n      - 80\n      - \"8080:\"\n",
                    "compose.yaml:5: services.web.ports[1]: invalid port \"8080:\"");
    ASSERT_NORM_ERR(WEB("ports: [\"70000:80\"]"),
                    "compose.yaml:3: services.web.ports[0]: invalid port \"70000:80\": out of "
                    "range 1..65535");
    ASSERT_NORM_ERR(WEB("ports: [0]"),
                    "compose.yaml:3: services.web.ports[0]: invalid port \"0\": out of range "
                    "1..65535");
    ASSERT_NORM_ERR(WEB("ports: [\"80/ftp\"]"),
                    "compose.yaml:3: services.web.ports[0]: invalid port \"80/ftp\": unknown "
                    "protocol \"ftp\", use tcp, udp or sctp");
    ASSERT_NORM_ERR(WEB("ports: [\"8000-8002:80-81\"]"),
                    "compose.yaml:3: services.web.ports[0]: invalid port \"8000-8002:80-81\": the "
                    "host and container ranges differ in size");
    ASSERT_NORM_ERR(WEB("ports: [\"1.2.3:80:80\"]"),
                    "compose.yaml:3: services.web.ports[0]: invalid port \"1.2.3:80:80\": invalid "
                    "IP address \"1.2.3\"");
    ASSERT_NORM_ERR(WEB("ports: [\"82-80\"]"),
                    "compose.yaml:3: services.web.ports[0]: invalid port \"82-80\"");
    ASSERT_NORM_ERR(WEB("ports: [1.5]"), "compose.yaml:3: services.web.ports[0]: must be a "
                                         "string, an integer or a mapping");
    ASSERT_NORM_ERR("services:\n  web:\n    ports:\n      - published: 80\n",
                    "compose.yaml:4: services.web.ports[0]: \"target\" is required");
    ASSERT_NORM_ERR(
        "services:\n  web:\n    ports:\n      - target: 80\n        protocol: icmp\n",
        "compose.yaml:5: services.web.ports[0].protocol: unknown protocol \"icmp\", use "
        "tcp, udp or sctp");
    ASSERT_NORM_ERR("services:\n  web:\n    ports:\n      - target: 99999\n",
                    "compose.yaml:4: services.web.ports[0].target: invalid port \"99999\": out of "
                    "range 1..65535");
    ASSERT_NORM_ERR(WEB("expose: [\"80/icmp\"]"),
                    "compose.yaml:3: services.web.expose[0]: invalid port \"80/icmp\"");
}

TEST(compose_normalize_errors_volumes) {
    ASSERT_NORM_ERR(WEB("volumes: [\"data:rel/path\"]"),
                    "compose.yaml:3: services.web.volumes[0]: invalid volume \"data:rel/path\": "
                    "the target must be an absolute path");
    ASSERT_NORM_ERR(WEB("volumes: [\"relative\"]"),
                    "compose.yaml:3: services.web.volumes[0]: invalid volume \"relative\": the "
                    "target must be an absolute path");
    ASSERT_NORM_ERR(WEB("volumes: [\"./a:/b:ro,xyz\"]"),
                    "compose.yaml:3: services.web.volumes[0]: invalid volume \"./a:/b:ro,xyz\": "
                    "unknown mode \"xyz\"");
    ASSERT_NORM_ERR(WEB("volumes: [\"a:/b:ro:x\"]"),
                    "compose.yaml:3: services.web.volumes[0]: invalid volume \"a:/b:ro:x\": too "
                    "many colons");
    ASSERT_NORM_ERR(WEB("volumes: [\"a::/b\"]"),
                    "compose.yaml:3: services.web.volumes[0]: invalid volume \"a::/b\": empty "
                    "section between colons");
    ASSERT_NORM_ERR(WEB("volumes: [\"\"]"),
                    "compose.yaml:3: services.web.volumes[0]: invalid empty volume spec");
    ASSERT_NORM_ERR("services:\n  web:\n    volumes:\n      - type: bind\n        source: /a\n"
                    "        target: b\n",
                    "compose.yaml:6: services.web.volumes[0].target: invalid volume target \"b\": "
                    "it must be an absolute path");
    ASSERT_NORM_ERR("services:\n  web:\n    volumes:\n      - type: disk\n        target: /b\n",
                    "compose.yaml:4: services.web.volumes[0].type: invalid volume type \"disk\": "
                    "use one of \"bind\", \"volume\", \"tmpfs\", \"npipe\", \"image\" or "
                    "\"cluster\"");
    ASSERT_NORM_ERR(WEB("volumes: [{type: bind, target: /b}]"),
                    "compose.yaml:3: services.web.volumes[0]: \"source\" is required for a bind "
                    "mount");
    unsetenv("HOME");
    ASSERT_NORM_ERR(WEB("volumes: [\"~/x:/x\"]"),
                    "compose.yaml:3: services.web.volumes[0]: cannot expand \"~\": $HOME is not "
                    "set");
}

TEST(compose_normalize_errors_values) {
    ASSERT_NORM_ERR(WEB("restart: sometimes"),
                    "compose.yaml:3: services.web.restart: invalid restart policy \"sometimes\": "
                    "use one of \"no\", \"always\", \"on-failure[:N]\" or \"unless-stopped\"");
    ASSERT_NORM_ERR(WEB("restart: \"on-failure:x\""),
                    "compose.yaml:3: services.web.restart: invalid restart policy "
                    "\"on-failure:x\": use one of \"no\", \"always\", \"on-failure[:N]\" or "
                    "\"unless-stopped\"");
    ASSERT_NORM_ERR(WEB("pull_policy: sometimes"),
                    "compose.yaml:3: services.web.pull_policy: invalid pull policy \"sometimes\": "
                    "use one of \"always\", \"never\", \"missing\" or \"build\"");
    ASSERT_NORM_ERR("services:\n  web:\n    depends_on:\n      db:\n        condition: ready\n",
                    "compose.yaml:5: services.web.depends_on.db.condition: invalid condition "
                    "\"ready\": use one of \"service_started\", \"service_healthy\" or "
                    "\"service_completed_successfully\"");
    ASSERT_NORM_ERR(WEB("depends_on: [db, 1]"),
                    "compose.yaml:3: services.web.depends_on[1]: must be a string");
    ASSERT_NORM_ERR(WEB("stop_grace_period: \"10\""),
                    "compose.yaml:3: services.web.stop_grace_period: invalid duration \"10\"");
    ASSERT_NORM_ERR("services:\n  web:\n    healthcheck:\n      test: [CMD, x]\n"
                    "      interval: 5 seconds\n",
                    "compose.yaml:5: services.web.healthcheck.interval: invalid duration \"5 "
                    "seconds\"");
    ASSERT_NORM_ERR(WEB("mem_limit: 12x"),
                    "compose.yaml:3: services.web.mem_limit: invalid size \"12x\"");
    ASSERT_NORM_ERR(WEB("deploy: {resources: {limits: {memory: lots}}}"),
                    "compose.yaml:3: services.web.deploy.resources.limits.memory: invalid size "
                    "\"lots\"");
    ASSERT_NORM_ERR(WEB("healthcheck: {test: [\"echo\", \"hi\"]}"),
                    "compose.yaml:3: services.web.healthcheck.test: must start either by \"CMD\", "
                    "\"CMD-SHELL\" or \"NONE\"");
    ASSERT_NORM_ERR(WEB("healthcheck: {test: []}"),
                    "compose.yaml:3: services.web.healthcheck.test: must start either by \"CMD\", "
                    "\"CMD-SHELL\" or \"NONE\"");
    ASSERT_NORM_ERR(WEB("command: \"echo 'oops\""),
                    "compose.yaml:3: services.web.command: invalid command line string");
    ASSERT_NORM_ERR(WEB("command: [echo, 1]"),
                    "compose.yaml:3: services.web.command[1]: must be a string");
    ASSERT_NORM_ERR(WEB("env_file: [{required: true}]"),
                    "compose.yaml:3: services.web.env_file[0]: \"path\" is required");
    ASSERT_NORM_ERR(WEB("extra_hosts: [nohost]"),
                    "compose.yaml:3: services.web.extra_hosts[0]: invalid additional host "
                    "\"nohost\": missing IP");
    ASSERT_NORM_ERR(WEB("extra_hosts: [\"=1.2.3.4\"]"),
                    "compose.yaml:3: services.web.extra_hosts[0]: bad host name \"\"");
    ASSERT_NORM_ERR(WEB("ulimits: {nofile: {soft: 1}}"),
                    "compose.yaml:3: services.web.ulimits.nofile: \"hard\" is required");
    ASSERT_NORM_ERR(WEB("ulimits: {nofile: lots}"),
                    "compose.yaml:3: services.web.ulimits.nofile: must be an integer or a mapping");
    ASSERT_NORM_ERR(WEB("secrets: [{target: /x}]"),
                    "compose.yaml:3: services.web.secrets[0]: \"source\" is required");
    ASSERT_NORM_ERR(WEB("secrets: [{source: s, mode: \"0999\"}]"),
                    "compose.yaml:3: services.web.secrets[0].mode: invalid mode \"0999\"");
    ASSERT_NORM_ERR(WEB("extends: {file: x.yaml}"),
                    "compose.yaml:3: services.web.extends: \"service\" is required");
    ASSERT_NORM_ERR(WEB("build: 5"), "compose.yaml:3: services.web.build: must be a string or a "
                                     "mapping");
    ASSERT_NORM_ERR("networks:\n  n: {internal: maybe}\n",
                    "compose.yaml:2: networks.n.internal: must be a boolean");
    ASSERT_NORM_ERR("volumes: [a]\n", "compose.yaml:1: volumes: must be a mapping");
}

/* Without a line for the path, the nearest ancestor's; without a document, no line at all. */
TEST(compose_normalize_errors_line_fallback) {
    wb_yaml_doc *d = load_at(__FILE__, __LINE__, WEB("build: \"x\""));
    json_t *out = NULL;
    wb_error err = {0};
    ASSERT_EQ(
        wb_compose_normalize(wb_yaml_root(d), d, "compose.yaml", "/pr\xff", NULL, NULL, &out, &err),
        -1);
    ASSERT_STR_EQ(err.msg, "compose.yaml:3: services.web.build.context: path \"/pr\\xff/x\" is "
                           "not valid UTF-8");
    ASSERT_EQ(wb_compose_normalize(wb_yaml_root(d), NULL, "compose.yaml", "/pr\xff", NULL, NULL,
                                   &out, &err),
              -1);
    ASSERT_STR_EQ(err.msg, "compose.yaml: services.web.build.context: path \"/pr\\xff/x\" is not "
                           "valid UTF-8");
    ASSERT_TRUE(out == NULL);
    wb_yaml_free(d);
}
