/* Loading a Compose project (src/compose/model.h): the seed's files, from a directory and from
 * memory; interpolation from the shell, `.env` and --env-file, defaults, required variables and
 * the unset-variable warning; the override file and -f files merged with !reset/!override;
 * extends in a file, across files and in a cycle; profiles from the options, COMPOSE_PROFILES and
 * named services; env_file into environment; the default network and resource names; the
 * loader's checks and errors with FILE:LINE; the project name's precedence; the model's key
 * order; and wb_compose_service_order. Each case runs in its own process, so setenv stays in it;
 * files live in a scratch directory under /tmp removed at the end of the case. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#include "base/alloc.h"
#include "base/error.h"
#include "base/fsutil.h"
#include "compose/model.h"

/* ---- scratch directories ---- */

/* A new directory under /tmp, holding `sub` (may be NULL) when given: its path, malloc'd. The
 * variables a test's environment could bring in are unset, so that only the case sets them. */
static char *scratch_at(const char *file, int line, const char *sub) {
    char tmpl[] = "/tmp/wb-compose-model-XXXXXX";
    if (!mkdtemp(tmpl)) wb_test_fail(file, line, "mkdtemp: %s", strerror(errno));
    unsetenv("COMPOSE_PROJECT_NAME");
    unsetenv("COMPOSE_PROFILES");
    if (!sub) return strdup(tmpl);
    char *d = NULL;
    size_t len = 0;
    wb_appendf(&d, &len, "%s/%s", tmpl, sub);
    if (mkdir(d, 0755) < 0) wb_test_fail(file, line, "mkdir %s: %s", d, strerror(errno));
    return d;
}
#define SCRATCH(sub) scratch_at(__FILE__, __LINE__, sub)

/* Remove the scratch directory made for `dir` (the /tmp one, whatever `sub` was). */
static void scratch_free(char *dir) {
    char *top = strdup(dir);
    char *slash = strchr(top + strlen("/tmp/"), '/');
    if (slash) *slash = '\0';
    wb_error err;
    wb_remove_tree(top, &err);
    free(top);
    free(dir);
}

/* dir/name holds text (its parent directories made). */
static void put_at(const char *file, int line, const char *dir, const char *name,
                   const char *text) {
    char path[4096];
    wb_error err;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    if (wb_mkdir_p(path, 0755, &err) < 0) wb_test_fail(file, line, "%s", err.msg);
    *slash = '/';
    FILE *f = fopen(path, "w");
    if (!f) wb_test_fail(file, line, "create %s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
}
#define PUT(dir, name, text) put_at(__FILE__, __LINE__, dir, name, text)

/* "dir/name", malloc'd */
static char *join(const char *dir, const char *name) {
    char *p = NULL;
    size_t len = 0;
    wb_appendf(&p, &len, "%s/%s", dir, name);
    return p;
}

/* ---- warnings ---- */

#define MAX_WARNINGS 32

typedef struct warnings {
    char *lines[MAX_WARNINGS];
    size_t n;
} warnings;

static void collect(void *ctx, const char *line) {
    warnings *w = ctx;
    if (w->n < MAX_WARNINGS) w->lines[w->n++] = strdup(line);
}

/* The warnings that contain s. */
static size_t warned(const warnings *w, const char *s) {
    size_t n = 0;
    for (size_t i = 0; i < w->n; i++) n += strstr(w->lines[i], s) != NULL;
    return n;
}

static void warnings_free(warnings *w) {
    for (size_t i = 0; i < w->n; i++) free(w->lines[i]);
    w->n = 0;
}

/* ---- loading ---- */

static wb_compose_project *load_ok_at(const char *file, int line, const wb_compose_opts *o) {
    wb_compose_project *p = NULL;
    wb_error err = {0};
    if (wb_compose_load(o, &p, &err) < 0) wb_test_fail(file, line, "load failed: %s", err.msg);
    if (!p || !json_is_object(p->model)) wb_test_fail(file, line, "no model");
    return p;
}
#define LOAD_OK(o) load_ok_at(__FILE__, __LINE__, o)

/* The error message of a load that must fail. */
static const char *load_err_at(const char *file, int line, const wb_compose_opts *o) {
    static wb_error err;
    wb_compose_project *p = (wb_compose_project *)1;
    memset(&err, 0, sizeof err);
    if (wb_compose_load(o, &p, &err) == 0) {
        char *s = p ? json_dumps(p->model, JSON_COMPACT) : NULL;
        wb_test_fail(file, line, "loaded, expected an error: %s", s ? s : "?");
    }
    if (p) wb_test_fail(file, line, "a failed load left *out set");
    if (!err.msg[0]) wb_test_fail(file, line, "a failed load without a message");
    return err.msg;
}
#define LOAD_ERR(o) load_err_at(__FILE__, __LINE__, o)

/* The project in `dir` (its compose.yaml and override found there), warnings into w. */
static wb_compose_opts dir_opts(const char *dir, warnings *w) {
    return (wb_compose_opts){.project_dir = dir, .warn = w ? collect : NULL, .warn_ctx = w};
}

/* In-memory files: /mem/app/compose.yaml and, when given, /mem/app/compose.override.yaml. */
static char *mem_names[] = {"/mem/app/compose.yaml", "/mem/app/compose.override.yaml"};

typedef struct mem {
    const char *texts[2];
    size_t lens[2];
    wb_compose_opts o;
} mem;

static void mem_init(mem *m, const char *base, const char *override, warnings *w) {
    memset(m, 0, sizeof *m);
    m->texts[0] = base;
    m->lens[0] = strlen(base);
    m->texts[1] = override;
    m->lens[1] = override ? strlen(override) : 0;
    m->o = (wb_compose_opts){.project_dir = "/mem/app",
                             .files = mem_names,
                             .nfiles = override ? 2 : 1,
                             .texts = m->texts,
                             .text_lens = m->lens,
                             .warn = w ? collect : NULL,
                             .warn_ctx = w};
    unsetenv("COMPOSE_PROJECT_NAME");
    unsetenv("COMPOSE_PROFILES");
}

/* ---- looking into the model ---- */

/* The value at a path written as yaml.h writes them (`services.web.ports[0].target`; keys
 * without '.'), or NULL. */
static json_t *at(const json_t *v, const char *path) {
    char key[256];
    const char *s = path;
    while (v && *s) {
        if (*s == '[') {
            char *end;
            long i = strtol(s + 1, &end, 10);
            v = json_array_get(v, (size_t)i);
            s = *end == ']' ? end + 1 : end;
        } else {
            size_t n = strcspn(s, ".[");
            if (n >= sizeof key) return NULL;
            memcpy(key, s, n);
            key[n] = '\0';
            v = json_object_get(v, key);
            s += n;
        }
        if (*s == '.') s++;
    }
    return (json_t *)v;
}

#define ASSERT_AT_STR(model, path, want) ASSERT_STR_EQ(json_string_value(at(model, path)), want)
#define ASSERT_ABSENT(model, path)                                                                 \
    do {                                                                                           \
        if (at(model, path))                                                                       \
            wb_test_fail(__FILE__, __LINE__, "%s is present, expected absent", path);              \
    } while (0)

/* v equals the JSON `text` (members in any order). */
static void assert_json_at(const char *file, int line, const json_t *v, const char *text) {
    json_error_t jerr;
    json_t *want = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!want) wb_test_fail(file, line, "bad test JSON: %s: %s", jerr.text, text);
    if (!json_equal(v, want)) {
        char *got = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        wb_test_fail(file, line, "got %s\n    expected %s", got ? got : "(null)", text);
    }
    json_decref(want);
}
#define ASSERT_JSON(v, text) assert_json_at(__FILE__, __LINE__, v, text)

/* The model's keys (or a service's), comma-separated, in their order. */
static char *keys_of(const json_t *obj) {
    char *s = strdup("");
    size_t len = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) wb_appendf(&s, &len, "%s%s", len ? "," : "", k);
    return s;
}
#define ASSERT_KEYS(obj, want)                                                                     \
    do {                                                                                           \
        char *wb_k_ = keys_of(obj);                                                                \
        ASSERT_STR_EQ(wb_k_, want);                                                                \
        free(wb_k_);                                                                               \
    } while (0)

/* wb_compose_service_order of the model, comma-separated. */
static char *order_of_at(const char *file, int line, const json_t *model) {
    wb_error err = {0};
    const char **order = wb_compose_service_order(model, &err);
    if (!order) wb_test_fail(file, line, "service order failed: %s", err.msg);
    char *s = strdup("");
    size_t len = 0;
    for (size_t i = 0; order[i]; i++) wb_appendf(&s, &len, "%s%s", i ? "," : "", order[i]);
    free(order);
    return s;
}
#define ASSERT_ORDER(model, want)                                                                  \
    do {                                                                                           \
        char *wb_o_ = order_of_at(__FILE__, __LINE__, model);                                      \
        ASSERT_STR_EQ(wb_o_, want);                                                                \
        free(wb_o_);                                                                               \
    } while (0)

/* ---- the seed's files ---- */

static const char hello_compose[] = "services:\n"
                                    "  app:\n"
                                    "    image: secondstate/rust-example-hello\n"
                                    "    platform: wasi/wasm\n"
                                    "    runtime: io.containerd.wasmedge.v1\n";

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

TEST(compose_model_seed_hello) {
    char *d = SCRATCH("hello");
    PUT(d, "compose.yaml", hello_compose);
    warnings w = {0};
    wb_compose_opts o = dir_opts(d, &w);
    wb_compose_project *p = LOAD_OK(&o);
    char *file = join(d, "compose.yaml");
    ASSERT_STR_EQ(p->name, "hello");
    ASSERT_STR_EQ(p->dir, d);
    ASSERT_EQ(p->nfiles, 1);
    ASSERT_STR_EQ(p->files[0], file);
    ASSERT_JSON(p->model, "{\"name\":\"hello\","
                          "\"services\":{\"app\":{\"image\":\"secondstate/rust-example-hello\","
                          "\"platform\":\"wasi/wasm\",\"runtime\":\"io.containerd.wasmedge.v1\","
                          "\"networks\":{\"default\":null}}},"
                          "\"networks\":{\"default\":{\"name\":\"hello_default\"}}}");
    ASSERT_EQ(w.n, 0);
    ASSERT_ORDER(p->model, "app");
    free(file);
    wb_compose_project_free(p);
    scratch_free(d);
}

TEST(compose_model_seed_demo) {
    char *d = SCRATCH("demo");
    PUT(d, "compose.yaml", demo_compose);
    warnings w = {0};
    wb_compose_opts o = dir_opts(d, &w);
    wb_compose_project *p = LOAD_OK(&o);
    json_t *m = p->model;
    char *client = join(d, "client");
    ASSERT_STR_EQ(p->name, "demo");
    ASSERT_KEYS(m, "name,services,networks");
    ASSERT_KEYS(at(m, "services"), "client,server,db");
    /* the Wasm server: built from the project directory, the Wasm platform and runtime */
    ASSERT_AT_STR(m, "services.server.image", "demo-microservice");
    ASSERT_AT_STR(m, "services.server.platform", "wasi/wasm");
    ASSERT_AT_STR(m, "services.server.runtime", "io.containerd.wasmedge.v1");
    ASSERT_AT_STR(m, "services.server.build.context", d);
    ASSERT_AT_STR(m, "services.server.restart", "unless-stopped");
    ASSERT_JSON(at(m, "services.server.ports"),
                "[{\"target\":8080,\"published\":\"8080\",\"protocol\":\"tcp\","
                "\"mode\":\"ingress\"}]");
    ASSERT_JSON(at(m, "services.server.environment"),
                "{\"DATABASE_URL\":\"mysql://root:whalehello@db:3306/mysql\","
                "\"RUST_BACKTRACE\":\"full\",\"DNS_SERVER\":\"127.0.0.11:53\"}");
    ASSERT_JSON(at(m, "services.server.networks"), "{\"default\":null}");
    /* the Linux services beside it */
    ASSERT_AT_STR(m, "services.db.image", "mariadb:10.9");
    ASSERT_AT_STR(m, "services.db.environment.MYSQL_ROOT_PASSWORD", "whalehello");
    ASSERT_AT_STR(m, "services.client.image", "nginx:alpine");
    ASSERT_JSON(at(m, "services.client.ports[0]"),
                "{\"target\":80,\"published\":\"8090\",\"protocol\":\"tcp\",\"mode\":\"ingress\"}");
    ASSERT_AT_STR(m, "services.client.volumes[0].type", "bind");
    ASSERT_AT_STR(m, "services.client.volumes[0].source", client);
    ASSERT_AT_STR(m, "services.client.volumes[0].target", "/usr/share/nginx/html");
    ASSERT_AT_STR(m, "networks.default.name", "demo_default");
    ASSERT_ABSENT(m, "volumes");
    ASSERT_EQ(w.n, 0);
    ASSERT_ORDER(m, "client,db,server");
    free(client);
    wb_compose_project_free(p);
    scratch_free(d);
}

TEST(compose_model_texts_in_memory) {
    mem m;
    warnings w = {0};
    mem_init(&m, demo_compose, NULL, &w);
    wb_compose_project *p = LOAD_OK(&m.o);
    ASSERT_STR_EQ(p->name, "app"); /* the project directory's name */
    ASSERT_STR_EQ(p->dir, "/mem/app");
    ASSERT_EQ(p->nfiles, 1);
    ASSERT_STR_EQ(p->files[0], "/mem/app/compose.yaml");
    ASSERT_AT_STR(p->model, "services.server.build.context", "/mem/app");
    ASSERT_AT_STR(p->model, "services.client.volumes[0].source", "/mem/app/client");
    ASSERT_AT_STR(p->model, "networks.default.name", "app_default");
    ASSERT_EQ(w.n, 0);
    wb_compose_project_free(p);
    /* no project directory: "/" stands for it, and an explicit name is needed */
    m.o.project_dir = NULL;
    m.o.project_name = "seed";
    p = LOAD_OK(&m.o);
    ASSERT_STR_EQ(p->dir, "/");
    ASSERT_AT_STR(p->model, "services.server.build.context", "/");
    ASSERT_AT_STR(p->model, "name", "seed");
    wb_compose_project_free(p);
}

TEST(compose_model_texts_without_files) {
    mem m;
    mem_init(&m, hello_compose, NULL, NULL);
    m.o.nfiles = 0;
    ASSERT_STR_CONTAINS(LOAD_ERR(&m.o), "no configuration file provided");
}

/* ---- interpolation ---- */

TEST(compose_model_interp_shell_beats_dotenv) {
    char *d = SCRATCH("app");
    PUT(d, ".env", "TAG=fromfile\nOTHER=other-${TAG}\n");
    PUT(d, "compose.yaml",
        "services:\n"
        "  web:\n"
        "    image: busybox:${TAG}\n"
        "    environment:\n"
        "      OTHER: $OTHER\n");
    setenv("TAG", "fromshell", 1);
    wb_compose_opts o = dir_opts(d, NULL);
    wb_compose_project *p = LOAD_OK(&o);
    ASSERT_AT_STR(p->model, "services.web.image", "busybox:fromshell");
    /* .env's own lines see the shell too */
    ASSERT_AT_STR(p->model, "services.web.environment.OTHER", "other-fromshell");
    wb_compose_project_free(p);
    unsetenv("TAG");
    p = LOAD_OK(&o);
    ASSERT_AT_STR(p->model, "services.web.image", "busybox:fromfile");
    ASSERT_AT_STR(p->model, "services.web.environment.OTHER", "other-fromfile");
    wb_compose_project_free(p);
    scratch_free(d);
}

TEST(compose_model_interp_env_files_option) {
    char *d = SCRATCH("app");
    PUT(d, ".env", "TAG=dot\nONLY_DOT=1\n");
    PUT(d, "one.env", "TAG=one\nBASE=b1\n");
    PUT(d, "two.env", "TAG=two-$BASE\n");
    PUT(d, "compose.yaml",
        "services:\n"
        "  web:\n"
        "    image: busybox:${TAG}\n"
        "    labels:\n"
        "      only: x${ONLY_DOT}\n");
    char *one = join(d, "one.env"), *two = join(d, "two.env");
    char *env_files[] = {one, two};
    warnings w = {0};
    wb_compose_opts o = dir_opts(d, &w);
    o.env_files = env_files;
    o.nenv_files = 2;
    wb_compose_project *p = LOAD_OK(&o);
    /* the later file wins and sees the earlier one's values; .env is not read */
    ASSERT_AT_STR(p->model, "services.web.image", "busybox:two-b1");
    ASSERT_AT_STR(p->model, "services.web.labels.only", "x");
    ASSERT_EQ(warned(&w, "The \"ONLY_DOT\" variable is not set"), 1);
    wb_compose_project_free(p);
    warnings_free(&w);
    /* a missing --env-file is an error */
    char *missing = join(d, "nope.env");
    env_files[1] = missing;
    ASSERT_STR_CONTAINS(LOAD_ERR(&o), "nope.env");
    free(missing);
    free(one);
    free(two);
    scratch_free(d);
}

TEST(compose_model_interp_defaults) {
    mem m;
    warnings w = {0};
    mem_init(&m,
             "services:\n"
             "  web:\n"
             "    image: ${IMAGE:-busybox}:${TAG-latest}\n"
             "    command: echo $$HOME ${EMPTY:-was-empty} ${EMPTY-kept-empty}x\n"
             "    labels:\n"
             "      alt: ${SET:+replaced}\n"
             "      none: ${UNSET_X:+replaced}\n"
             "      ${KEY}: keys stay as written\n",
             NULL, &w);
    setenv("EMPTY", "", 1);
    setenv("SET", "1", 1);
    unsetenv("IMAGE");
    unsetenv("TAG");
    unsetenv("UNSET_X");
    wb_compose_project *p = LOAD_OK(&m.o);
    ASSERT_AT_STR(p->model, "services.web.image", "busybox:latest");
    ASSERT_JSON(at(p->model, "services.web.command"), "[\"echo\",\"$HOME\",\"was-empty\",\"x\"]");
    ASSERT_AT_STR(p->model, "services.web.labels.alt", "replaced");
    ASSERT_AT_STR(p->model, "services.web.labels.none", "");
    ASSERT_AT_STR(p->model, "services.web.labels.${KEY}", "keys stay as written");
    ASSERT_EQ(w.n, 0); /* a variable with a default is not reported */
    wb_compose_project_free(p);
}

TEST(compose_model_interp_required) {
    char *d = SCRATCH("app");
    PUT(d, "compose.yaml",
        "services:\n"
        "  web:\n"
        "    image: ${IMG:?set IMG to the image}\n");
    unsetenv("IMG");
    wb_compose_opts o = dir_opts(d, NULL);
    char *want = NULL;
    size_t len = 0;
    wb_appendf(&want, &len,
               "%s/compose.yaml:3: services.web.image: required variable IMG is missing a value: "
               "set IMG to the image",
               d);
    ASSERT_STR_EQ(LOAD_ERR(&o), want);
    free(want);
    /* set (in .env), it is used */
    PUT(d, ".env", "IMG=alpine\n");
    wb_compose_project *p = LOAD_OK(&o);
    ASSERT_AT_STR(p->model, "services.web.image", "alpine");
    wb_compose_project_free(p);
    scratch_free(d);
    /* deeper in a list, in memory */
    mem m;
    mem_init(&m,
             "services:\n"
             "  web:\n"
             "    image: busybox\n"
             "    environment:\n"
             "      - A=1\n"
             "      - B=${NEED?}\n",
             NULL, NULL);
    unsetenv("NEED");
    ASSERT_STR_EQ(LOAD_ERR(&m.o), "/mem/app/compose.yaml:6: services.web.environment[1]: required "
                                  "variable NEED is missing a value");
}

TEST(compose_model_interp_syntax_error) {
    mem m;
    mem_init(&m,
             "services:\n"
             "  web:\n"
             "    image: busybox\n"
             "    labels:\n"
             "      bad: \"${ NAME}\"\n",
             NULL, NULL);
    const char *e = LOAD_ERR(&m.o);
    ASSERT_STR_CONTAINS(e, "/mem/app/compose.yaml:5: services.web.labels.bad: ");
    ASSERT_STR_CONTAINS(e, "invalid interpolation format");
}

TEST(compose_model_interp_unset_warned_once) {
    mem m;
    warnings w = {0};
    mem_init(&m,
             "services:\n"
             "  web:\n"
             "    image: busybox:$NOPE_TAG\n"
             "    labels: [\"a=$NOPE_TAG\", \"b=${NOPE_OTHER}\"]\n"
             "  db:\n"
             "    image: db$NOPE_TAG\n",
             "services:\n"
             "  web:\n"
             "    hostname: h$NOPE_TAG\n",
             &w);
    unsetenv("NOPE_TAG");
    unsetenv("NOPE_OTHER");
    wb_compose_project *p = LOAD_OK(&m.o);
    ASSERT_AT_STR(p->model, "services.web.image", "busybox:");
    ASSERT_AT_STR(p->model, "services.web.hostname", "h");
    ASSERT_AT_STR(p->model, "services.db.image", "db");
    ASSERT_EQ(w.n, 2);
    ASSERT_STR_EQ(w.lines[0],
                  "The \"NOPE_TAG\" variable is not set. Defaulting to a blank string.");
    ASSERT_STR_EQ(w.lines[1],
                  "The \"NOPE_OTHER\" variable is not set. Defaulting to a blank string.");
    warnings_free(&w);
    wb_compose_project_free(p);
}

/* ---- several files ---- */

TEST(compose_model_override_found) {
    char *d = SCRATCH("app");
    PUT(d, "compose.yaml",
        "services:\n"
        "  web:\n"
        "    image: nginx:1\n"
        "    ports: [\"80:80\"]\n"
        "    environment: {A: a, B: b}\n");
    PUT(d, "compose.override.yaml",
        "services:\n"
        "  web:\n"
        "    image: nginx:2\n"
        "    ports: [\"443:443\"]\n"
        "    environment: {B: override, C: c}\n"
        "  debug:\n"
        "    image: busybox\n");
    wb_compose_opts o = dir_opts(d, NULL);
    wb_compose_project *p = LOAD_OK(&o);
    char *over = join(d, "compose.override.yaml");
    ASSERT_EQ(p->nfiles, 2);
    ASSERT_STR_EQ(p->files[1], over);
    ASSERT_AT_STR(p->model, "services.web.image", "nginx:2");
    ASSERT_EQ(json_array_size(at(p->model, "services.web.ports")), 2);
    ASSERT_AT_STR(p->model, "services.web.ports[1].published", "443");
    ASSERT_JSON(at(p->model, "services.web.environment"),
                "{\"A\":\"a\",\"B\":\"override\",\"C\":\"c\"}");
    ASSERT_AT_STR(p->model, "services.debug.image", "busybox");
    free(over);
    wb_compose_project_free(p);
    scratch_free(d);
}

TEST(compose_model_files_reset_and_override) {
    char *d = SCRATCH("app");
    PUT(d, "a.yaml",
        "name: first\n"
        "services:\n"
        "  web:\n"
        "    image: nginx\n"
        "    ports: [\"80:80\", \"81:81\"]\n"
        "    environment: {A: a, B: b}\n"
        "    labels: {keep: k}\n"
        "    command: [\"nginx\", \"-g\", \"daemon off;\"]\n");
    PUT(d, "b.yaml",
        "name: second\n"
        "services:\n"
        "  web:\n"
        "    ports: !reset []\n"
        "    environment: !override\n"
        "      B: only\n"
        "    labels: {more: m}\n"
        "    command: !reset null\n");
    char *a = join(d, "a.yaml"), *b = join(d, "b.yaml");
    char *files[] = {a, b};
    wb_compose_opts o = dir_opts(NULL, NULL);
    o.files = files;
    o.nfiles = 2;
    wb_compose_project *p = LOAD_OK(&o);
    ASSERT_STR_EQ(p->name, "second"); /* the last name: wins */
    ASSERT_STR_EQ(p->dir, d);         /* the first file's directory */
    ASSERT_ABSENT(p->model, "services.web.ports");
    ASSERT_ABSENT(p->model, "services.web.command");
    ASSERT_JSON(at(p->model, "services.web.environment"), "{\"B\":\"only\"}");
    ASSERT_JSON(at(p->model, "services.web.labels"), "{\"keep\":\"k\",\"more\":\"m\"}");
    ASSERT_AT_STR(p->model, "services.web.image", "nginx");
    wb_compose_project_free(p);
    /* the other way round, b's tags mean nothing in the base */
    files[0] = b;
    files[1] = a;
    p = LOAD_OK(&o);
    ASSERT_STR_EQ(p->name, "first");
    ASSERT_EQ(json_array_size(at(p->model, "services.web.ports")), 2);
    ASSERT_JSON(at(p->model, "services.web.environment"), "{\"A\":\"a\",\"B\":\"b\"}");
    wb_compose_project_free(p);
    free(a);
    free(b);
    scratch_free(d);
}

TEST(compose_model_reset_in_first_file) {
    /* !reset removes the key from the file that has it, the first one too (compose-go drops the
     * node as it reads the file): nothing of it is checked or kept */
    mem m;
    mem_init(&m,
             "services:\n"
             "  web:\n"
             "    image: web\n"
             "    ports: !reset [\"80a\"]\n"
             "    environment:\n"
             "      KEEP: k\n"
             "      DROP: !reset d\n"
             "  gone: !reset\n"
             "    image: 12\n",
             NULL, NULL);
    wb_compose_project *p = LOAD_OK(&m.o);
    ASSERT_ABSENT(p->model, "services.web.ports");
    ASSERT_JSON(at(p->model, "services.web.environment"), "{\"KEEP\":\"k\"}");
    ASSERT_KEYS(at(p->model, "services"), "web");
    wb_compose_project_free(p);
}

TEST(compose_model_stdin) {
    char *d = SCRATCH("piped");
    PUT(d, "in.yaml", "services:\n  web:\n    image: web\n    build: ./src\n");
    char *in = join(d, "in.yaml");
    ASSERT_TRUE(freopen(in, "r", stdin) != NULL);
    char *files[] = {"-"};
    wb_compose_opts o = dir_opts(d, NULL);
    o.files = files;
    o.nfiles = 1;
    wb_compose_project *p = LOAD_OK(&o);
    char *src = join(d, "src");
    ASSERT_STR_EQ(p->files[0], "-");
    ASSERT_STR_EQ(p->name, "piped");
    ASSERT_AT_STR(p->model, "services.web.build.context", src);
    wb_compose_project_free(p);
    /* extends.file is relative to the project directory, not to where we run */
    PUT(d, "base.yaml", "services:\n  b:\n    image: from-base\n    volumes: [./v:/v]\n");
    PUT(d, "in.yaml", "services:\n  web:\n    extends: {file: base.yaml, service: b}\n");
    ASSERT_TRUE(freopen(in, "r", stdin) != NULL);
    p = LOAD_OK(&o);
    char *v = join(d, "v");
    ASSERT_AT_STR(p->model, "services.web.image", "from-base");
    ASSERT_AT_STR(p->model, "services.web.volumes[0].source", v);
    free(v);
    wb_compose_project_free(p);
    /* errors name it "stdin" */
    PUT(d, "in.yaml", "services:\n  web:\n    image: web\n    restart: sometimes\n");
    ASSERT_TRUE(freopen(in, "r", stdin) != NULL);
    ASSERT_STR_CONTAINS(LOAD_ERR(&o), "stdin:4: services.web.restart: ");
    free(src);
    free(in);
    scratch_free(d);
}

TEST(compose_model_missing_files) {
    char *d = SCRATCH("app");
    wb_compose_opts o = dir_opts(d, NULL);
    ASSERT_STR_EQ(LOAD_ERR(&o), "no configuration file provided: not found");
    char *nope = join(d, "nope.yaml");
    char *files[] = {nope};
    o.files = files;
    o.nfiles = 1;
    ASSERT_STR_CONTAINS(LOAD_ERR(&o), "nope.yaml: no such file or directory");
    free(nope);
    scratch_free(d);
}

TEST(compose_model_multiple_files_warning) {
    char *d = SCRATCH("app");
    PUT(d, "compose.yaml", hello_compose);
    PUT(d, "docker-compose.yml", "services: {}\n");
    warnings w = {0};
    wb_compose_opts o = dir_opts(d, &w);
    wb_compose_project *p = LOAD_OK(&o);
    ASSERT_EQ(p->nfiles, 1);
    ASSERT_EQ(warned(&w, "Found multiple config files with supported names"), 1);
    ASSERT_AT_STR(p->model, "services.app.platform", "wasi/wasm");
    warnings_free(&w);
    wb_compose_project_free(p);
    scratch_free(d);
}

TEST(compose_model_empty_override) {
    mem m;
    mem_init(&m, hello_compose, "", NULL);
    wb_compose_project *p = LOAD_OK(&m.o);
    ASSERT_AT_STR(p->model, "services.app.image", "secondstate/rust-example-hello");
    wb_compose_project_free(p);
    mem_init(&m, hello_compose, "- a\n- b\n", NULL);
    ASSERT_STR_EQ(LOAD_ERR(&m.o),
                  "/mem/app/compose.override.yaml: Top-level object must be a mapping");
}

/* regression (#16): an override's `build: {args}` without a context kept the default "." and
 * replaced the base's context */
TEST(compose_model_override_build_keeps_context) {
    mem m;
    mem_init(&m,
             "services:\n  db:\n    build: sub\n  web:\n    build: {context: web}\n  x:\n"
             "    build: {dockerfile: D}\n",
             "services:\n  db:\n    build: {args: {K: v}}\n  web:\n    build: {target: t}\n", NULL);
    wb_compose_project *p = LOAD_OK(&m.o);
    ASSERT_AT_STR(p->model, "services.db.build.context", "/mem/app/sub");
    ASSERT_AT_STR(p->model, "services.db.build.args.K", "v");
    ASSERT_AT_STR(p->model, "services.web.build.context", "/mem/app/web");
    ASSERT_AT_STR(p->model, "services.x.build.context", "/mem/app"); /* the default, after */
    wb_compose_project_free(p);
}

/* ---- extends ---- */

TEST(compose_model_extends_same_file) {
    mem m;
    mem_init(&m,
             "x-common: &common\n"
             "  restart: always\n"
             "services:\n"
             "  base:\n"
             "    image: busybox\n"
             "    environment: {A: base, B: base}\n"
             "    <<: *common\n"
             "  web:\n"
             "    extends: base\n"
             "    environment: {B: web}\n"
             "  worker:\n"
             "    extends:\n"
             "      service: web\n"
             "    command: work\n",
             NULL, NULL);
    wb_compose_project *p = LOAD_OK(&m.o);
    json_t *md = p->model;
    ASSERT_AT_STR(md, "services.web.image", "busybox");
    ASSERT_AT_STR(md, "services.web.restart", "always");
    ASSERT_JSON(at(md, "services.web.environment"), "{\"A\":\"base\",\"B\":\"web\"}");
    ASSERT_ABSENT(md, "services.web.extends");
    ASSERT_AT_STR(md, "services.worker.image", "busybox");
    ASSERT_JSON(at(md, "services.worker.environment"), "{\"A\":\"base\",\"B\":\"web\"}");
    ASSERT_JSON(at(md, "services.worker.command"), "[\"work\"]");
    ASSERT_ABSENT(md, "services.worker.extends");
    wb_compose_project_free(p);
}

TEST(compose_model_extends_other_file) {
    char *d = SCRATCH("app");
    PUT(d, "common/base.yaml",
        "services:\n"
        "  base:\n"
        "    build: ./src\n"
        "    volumes: [\"./data:/data\"]\n"
        "    environment: {FROM: base, TAG: $BASE_TAG}\n"
        "  deeper:\n"
        "    extends: {file: ../more/deep.yaml, service: deep}\n");
    PUT(d, "more/deep.yaml",
        "services:\n"
        "  deep:\n"
        "    image: deep:1\n");
    PUT(d, ".env", "BASE_TAG=t1\n");
    PUT(d, "compose.yaml",
        "services:\n"
        "  web:\n"
        "    extends:\n"
        "      file: common/base.yaml\n"
        "      service: base\n"
        "    image: web\n"
        "  other:\n"
        "    extends: {file: ./common/base.yaml, service: deeper}\n");
    wb_compose_opts o = dir_opts(d, NULL);
    wb_compose_project *p = LOAD_OK(&o);
    char *ctx = join(d, "common/src"), *data = join(d, "common/data");
    /* relative paths of the other file start from its own directory */
    ASSERT_AT_STR(p->model, "services.web.build.context", ctx);
    ASSERT_AT_STR(p->model, "services.web.volumes[0].source", data);
    ASSERT_AT_STR(p->model, "services.web.image", "web");
    /* the other file is interpolated with the project's environment */
    ASSERT_JSON(at(p->model, "services.web.environment"), "{\"FROM\":\"base\",\"TAG\":\"t1\"}");
    ASSERT_ABSENT(p->model, "services.web.extends");
    /* a chain through a third file */
    ASSERT_AT_STR(p->model, "services.other.image", "deep:1");
    ASSERT_ABSENT(p->model, "services.other.extends");
    /* only the project's own services: the other file's are not added */
    ASSERT_KEYS(at(p->model, "services"), "web,other");
    free(ctx);
    free(data);
    wb_compose_project_free(p);
    scratch_free(d);
}

TEST(compose_model_extends_in_memory) {
    /* a file given in memory is found there by extends.file too */
    mem m;
    mem_init(&m,
             "services:\n"
             "  web:\n"
             "    extends: {file: compose.override.yaml, service: common}\n"
             "    ports: [\"80:80\"]\n",
             "services:\n"
             "  common:\n"
             "    image: common\n"
             "    build: ./ctx\n",
             NULL);
    wb_compose_project *p = LOAD_OK(&m.o);
    ASSERT_AT_STR(p->model, "services.web.image", "common");
    ASSERT_AT_STR(p->model, "services.web.build.context", "/mem/app/ctx");
    ASSERT_AT_STR(p->model, "services.common.image", "common");
    ASSERT_KEYS(at(p->model, "services"), "web,common");
    wb_compose_project_free(p);
}

TEST(compose_model_extends_errors) {
    char *d = SCRATCH("app");
    PUT(d, "compose.yaml",
        "services:\n"
        "  web:\n"
        "    extends: {file: base.yaml, service: nope}\n");
    PUT(d, "base.yaml", "services:\n  base:\n    image: busybox\n");
    char *file = join(d, "compose.yaml"), *base = join(d, "base.yaml");
    char *want = NULL;
    size_t len = 0;
    wb_appendf(&want, &len, "cannot extend service \"web\" in %s: service \"nope\" not found",
               base);
    wb_compose_opts o = dir_opts(d, NULL);
    ASSERT_STR_EQ(LOAD_ERR(&o), want);
    /* a missing file names the file */
    PUT(d, "compose.yaml",
        "services:\n"
        "  web:\n"
        "    extends: {file: missing.yaml, service: base}\n");
    const char *e = LOAD_ERR(&o);
    ASSERT_STR_CONTAINS(e, "cannot extend service \"web\" in ");
    ASSERT_STR_CONTAINS(e, "missing.yaml");
    /* an error in the other file names it, with its line */
    PUT(d, "base.yaml", "services:\n  base:\n    image: busybox\n    ports: [\"0:80a\"]\n");
    PUT(d, "compose.yaml",
        "services:\n"
        "  web:\n"
        "    extends: {file: base.yaml, service: base}\n");
    e = LOAD_ERR(&o);
    ASSERT_STR_CONTAINS(e, "base.yaml:4: services.base.ports[0]: ");
    free(want);
    free(file);
    free(base);
    scratch_free(d);
}

TEST(compose_model_extends_cycle) {
    mem m;
    mem_init(&m,
             "services:\n"
             "  a:\n"
             "    image: busybox\n"
             "    extends: b\n"
             "  b:\n"
             "    extends: a\n",
             NULL, NULL);
    ASSERT_STR_EQ(LOAD_ERR(&m.o), "Circular reference: a extends b extends a");
    mem_init(&m, "services:\n  a:\n    image: x\n    extends: a\n", NULL, NULL);
    ASSERT_STR_EQ(LOAD_ERR(&m.o), "Circular reference: a extends a");
}

TEST(compose_model_extends_cycle_across_files) {
    char *d = SCRATCH("app");
    PUT(d, "compose.yaml",
        "services:\n"
        "  x:\n"
        "    image: busybox\n"
        "    extends: {file: other.yaml, service: y}\n");
    PUT(d, "other.yaml",
        "services:\n"
        "  y:\n"
        "    extends: {file: compose.yaml, service: x}\n");
    char *other = join(d, "other.yaml");
    char *want = NULL;
    size_t len = 0;
    wb_appendf(&want, &len, "Circular reference: x extends y in %s extends x", other);
    wb_compose_opts o = dir_opts(d, NULL);
    ASSERT_STR_EQ(LOAD_ERR(&o), want);
    free(want);
    free(other);
    scratch_free(d);
}

/* ---- profiles ---- */

static const char profiles_compose[] = "services:\n"
                                       "  app:\n"
                                       "    image: app\n"
                                       "  debug:\n"
                                       "    image: busybox\n"
                                       "    profiles: [debug]\n"
                                       "  debug-ui:\n"
                                       "    image: ui\n"
                                       "    profiles: [debug, ui]\n"
                                       "  tools:\n"
                                       "    image: tools\n"
                                       "    profiles: [tools]\n";

TEST(compose_model_profiles_from_options) {
    mem m;
    mem_init(&m, profiles_compose, NULL, NULL);
    wb_compose_project *p = LOAD_OK(&m.o);
    ASSERT_KEYS(at(p->model, "services"), "app");
    wb_compose_project_free(p);
    char *active[] = {"ui"};
    m.o.profiles = active;
    m.o.nprofiles = 1;
    setenv("COMPOSE_PROFILES", "tools", 1); /* --profile wins over the variable */
    p = LOAD_OK(&m.o);
    ASSERT_KEYS(at(p->model, "services"), "app,debug-ui");
    wb_compose_project_free(p);
    m.o.all_profiles = true;
    p = LOAD_OK(&m.o);
    ASSERT_KEYS(at(p->model, "services"), "app,debug,debug-ui,tools");
    wb_compose_project_free(p);
}

TEST(compose_model_profiles_from_environment) {
    char *d = SCRATCH("app");
    PUT(d, "compose.yaml", profiles_compose);
    wb_compose_opts o = dir_opts(d, NULL);
    setenv("COMPOSE_PROFILES", "debug, tools", 1);
    wb_compose_project *p = LOAD_OK(&o);
    ASSERT_KEYS(at(p->model, "services"), "app,debug,debug-ui,tools");
    wb_compose_project_free(p);
    /* from .env when the shell has none */
    unsetenv("COMPOSE_PROFILES");
    PUT(d, ".env", "COMPOSE_PROFILES=tools\n");
    p = LOAD_OK(&o);
    ASSERT_KEYS(at(p->model, "services"), "app,tools");
    wb_compose_project_free(p);
    /* the shell's beats .env's */
    setenv("COMPOSE_PROFILES", "ui", 1);
    p = LOAD_OK(&o);
    ASSERT_KEYS(at(p->model, "services"), "app,debug-ui");
    wb_compose_project_free(p);
    scratch_free(d);
}

TEST(compose_model_profiles_named_service) {
    mem m;
    mem_init(&m, profiles_compose, NULL, NULL);
    char *named[] = {"debug"};
    m.o.services = named;
    m.o.nservices = 1;
    wb_compose_project *p = LOAD_OK(&m.o);
    /* naming debug enables its profile, and so debug-ui sharing it */
    ASSERT_KEYS(at(p->model, "services"), "app,debug,debug-ui");
    wb_compose_project_free(p);
    char *unknown[] = {"nope"};
    m.o.services = unknown;
    ASSERT_STR_EQ(LOAD_ERR(&m.o), "no such service: nope");
}

TEST(compose_model_profiles_and_depends_on) {
    mem m;
    mem_init(&m,
             "services:\n"
             "  web:\n"
             "    image: web\n"
             "    depends_on: [db]\n"
             "  db:\n"
             "    image: db\n"
             "    profiles: [db]\n",
             NULL, NULL);
    ASSERT_STR_EQ(LOAD_ERR(&m.o),
                  "service \"web\" depends on undefined service \"db\": invalid compose project");
    mem_init(&m,
             "services:\n"
             "  web:\n"
             "    image: web\n"
             "    depends_on:\n"
             "      db: {condition: service_started, required: false}\n"
             "  db:\n"
             "    image: db\n"
             "    profiles: [db]\n",
             NULL, NULL);
    wb_compose_project *p = LOAD_OK(&m.o);
    ASSERT_KEYS(at(p->model, "services"), "web");
    ASSERT_JSON(at(p->model, "services.web.depends_on"), "{}");
    wb_compose_project_free(p);
}

/* ---- env_file ---- */

TEST(compose_model_env_file_into_environment) {
    char *d = SCRATCH("app");
    PUT(d, "web.env", "A=from-file\nB=from-file\n# comment\nD=${A}-d\n");
    PUT(d, "more.env", "B=more\nE=e\n");
    PUT(d, "compose.yaml",
        "services:\n"
        "  web:\n"
        "    image: busybox\n"
        "    env_file: [web.env, ./more.env]\n"
        "    environment:\n"
        "      B: own\n"
        "      C:\n"
        "      F:\n");
    setenv("C", "from-shell", 1);
    unsetenv("A");
    unsetenv("F");
    wb_compose_opts o = dir_opts(d, NULL);
    wb_compose_project *p = LOAD_OK(&o);
    /* the service's own keys win, later files over earlier ones, null from the shell */
    ASSERT_JSON(at(p->model, "services.web.environment"),
                "{\"A\":\"from-file\",\"B\":\"own\",\"D\":\"from-file-d\",\"E\":\"e\","
                "\"C\":\"from-shell\",\"F\":null}");
    ASSERT_ABSENT(p->model, "services.web.env_file");
    wb_compose_project_free(p);
    scratch_free(d);
}

TEST(compose_model_env_file_optional) {
    char *d = SCRATCH("app");
    PUT(d, "compose.yaml",
        "services:\n"
        "  web:\n"
        "    image: busybox\n"
        "    env_file:\n"
        "      - path: ./missing.env\n"
        "        required: false\n"
        "  db:\n"
        "    image: db\n"
        "    env_file:\n"
        "      - path: ./missing.env\n"
        "        required: false\n"
        "    environment: {}\n");
    wb_compose_opts o = dir_opts(d, NULL);
    wb_compose_project *p = LOAD_OK(&o);
    ASSERT_ABSENT(p->model, "services.web.env_file");
    ASSERT_ABSENT(p->model, "services.web.environment");
    ASSERT_JSON(at(p->model, "services.db.environment"), "{}");
    wb_compose_project_free(p);
    scratch_free(d);
}

TEST(compose_model_env_file_required_missing) {
    char *d = SCRATCH("app");
    PUT(d, "compose.yaml",
        "services:\n"
        "  web:\n"
        "    image: busybox\n"
        "    env_file: missing.env\n");
    char *path = join(d, "missing.env");
    char *want = NULL;
    size_t len = 0;
    wb_appendf(&want, &len, "env file %s not found: stat %s: no such file or directory", path,
               path);
    wb_compose_opts o = dir_opts(d, NULL);
    ASSERT_STR_EQ(LOAD_ERR(&o), want);
    free(want);
    free(path);
    scratch_free(d);
}

TEST(compose_model_env_file_bad) {
    char *d = SCRATCH("app");
    PUT(d, "web.env", "GOOD=1\nBAD KEY=2\n");
    PUT(d, "compose.yaml",
        "services:\n"
        "  web:\n"
        "    image: busybox\n"
        "    env_file: web.env\n");
    char *path = join(d, "web.env");
    char *want = NULL;
    size_t len = 0;
    wb_appendf(&want, &len,
               "service \"web\": failed to read %s: line 2: key cannot contain a space", path);
    wb_compose_opts o = dir_opts(d, NULL);
    ASSERT_STR_EQ(LOAD_ERR(&o), want);
    free(want);
    free(path);
    scratch_free(d);
}

/* ---- completion: networks, volumes, names ---- */

TEST(compose_model_default_network) {
    mem m;
    mem_init(&m,
             "name: shop\n"
             "services:\n"
             "  plain:\n"
             "    image: a\n"
             "  host:\n"
             "    image: b\n"
             "    network_mode: host\n"
             "  front:\n"
             "    image: c\n"
             "    networks: [front]\n"
             "  both:\n"
             "    image: d\n"
             "    networks: [front, default]\n"
             "networks:\n"
             "  front: {}\n",
             NULL, NULL);
    wb_compose_project *p = LOAD_OK(&m.o);
    json_t *md = p->model;
    ASSERT_JSON(at(md, "services.plain.networks"), "{\"default\":null}");
    ASSERT_ABSENT(md, "services.host.networks");
    ASSERT_JSON(at(md, "services.front.networks"), "{\"front\":null}");
    ASSERT_JSON(at(md, "services.both.networks"), "{\"front\":null,\"default\":null}");
    ASSERT_JSON(at(md, "networks"),
                "{\"front\":{\"name\":\"shop_front\"},\"default\":{\"name\":\"shop_default\"}}");
    wb_compose_project_free(p);
    /* every service on its own network: no default network */
    mem_init(&m,
             "services:\n"
             "  a:\n"
             "    image: a\n"
             "    networks: [back]\n"
             "  b:\n"
             "    image: b\n"
             "    network_mode: none\n"
             "networks:\n"
             "  back:\n",
             NULL, NULL);
    p = LOAD_OK(&m.o);
    ASSERT_JSON(at(p->model, "networks"), "{\"back\":{\"name\":\"app_back\"}}");
    wb_compose_project_free(p);
    /* a default network the file declares keeps its name */
    mem_init(&m,
             "services:\n"
             "  a:\n"
             "    image: a\n"
             "networks:\n"
             "  default:\n"
             "    name: my-default\n",
             NULL, NULL);
    p = LOAD_OK(&m.o);
    ASSERT_JSON(at(p->model, "networks"), "{\"default\":{\"name\":\"my-default\"}}");
    ASSERT_JSON(at(p->model, "services.a.networks"), "{\"default\":null}");
    wb_compose_project_free(p);
    /* no services at all: no networks */
    mem_init(&m, "services: {}\n", NULL, NULL);
    p = LOAD_OK(&m.o);
    ASSERT_JSON(p->model, "{\"name\":\"app\",\"services\":{}}");
    wb_compose_project_free(p);
}

TEST(compose_model_resource_names) {
    mem m;
    warnings w = {0};
    mem_init(&m,
             "services:\n"
             "  web:\n"
             "    image: web\n"
             "    networks: [front, outside, fixed]\n"
             "    volumes: [\"data:/data\", \"shared:/shared\", \"kept:/kept\", \"old:/old\"]\n"
             "networks:\n"
             "  front:\n"
             "  outside: {external: true}\n"
             "  fixed: {name: my-net}\n"
             "volumes:\n"
             "  data: {}\n"
             "  shared:\n"
             "    external: true\n"
             "  kept:\n"
             "    name: kept-volume\n"
             "  old:\n"
             "    external: {name: legacy}\n",
             NULL, &w);
    wb_compose_project *p = LOAD_OK(&m.o);
    json_t *md = p->model;
    ASSERT_AT_STR(md, "networks.front.name", "app_front");
    ASSERT_AT_STR(md, "networks.outside.name", "outside");
    ASSERT_AT_STR(md, "networks.fixed.name", "my-net");
    ASSERT_ABSENT(md, "networks.default");
    ASSERT_AT_STR(md, "volumes.data.name", "app_data");
    ASSERT_AT_STR(md, "volumes.shared.name", "shared");
    ASSERT_AT_STR(md, "volumes.kept.name", "kept-volume");
    ASSERT_AT_STR(md, "volumes.old.name", "legacy");
    ASSERT_TRUE(json_is_true(at(md, "volumes.old.external")));
    ASSERT_EQ(warned(&w, "external.name is deprecated"), 1);
    warnings_free(&w);
    wb_compose_project_free(p);
}

/* ---- the loader's checks ---- */

TEST(compose_model_error_no_image) {
    mem m;
    mem_init(&m, "services:\n  web:\n    ports: [\"80:80\"]\n", NULL, NULL);
    ASSERT_STR_EQ(LOAD_ERR(&m.o), "service \"web\" has neither an image nor a build context "
                                  "specified: invalid compose project");
    /* a build alone will do, and an image given by the override too */
    mem_init(&m, "services:\n  web:\n    build: .\n", NULL, NULL);
    wb_compose_project *p = LOAD_OK(&m.o);
    wb_compose_project_free(p);
    mem_init(&m, "services:\n  web:\n    ports: [\"80:80\"]\n",
             "services:\n  web:\n    image: nginx\n", NULL);
    p = LOAD_OK(&m.o);
    wb_compose_project_free(p);
}

TEST(compose_model_error_undefined_network) {
    mem m;
    mem_init(&m,
             "services:\n"
             "  web:\n"
             "    image: web\n"
             "    networks: [front]\n",
             NULL, NULL);
    ASSERT_STR_EQ(LOAD_ERR(&m.o),
                  "service \"web\" refers to undefined network front: invalid compose project");
}

TEST(compose_model_error_undefined_volume) {
    mem m;
    mem_init(&m,
             "services:\n"
             "  web:\n"
             "    image: web\n"
             "    volumes:\n"
             "      - ./site:/site\n"
             "      - /abs:/abs\n"
             "      - /anonymous\n"
             "      - type: tmpfs\n"
             "        target: /tmp\n"
             "      - data:/data\n",
             NULL, NULL);
    ASSERT_STR_EQ(LOAD_ERR(&m.o),
                  "service \"web\" refers to undefined volume data: invalid compose project");
    /* declared in the override file, it is found */
    mem_init(&m, "services:\n  web:\n    image: web\n    volumes: [\"data:/data\"]\n",
             "volumes:\n  data:\n", NULL);
    wb_compose_project *p = LOAD_OK(&m.o);
    ASSERT_AT_STR(p->model, "volumes.data.name", "app_data");
    ASSERT_AT_STR(p->model, "services.web.volumes[0].type", "volume");
    wb_compose_project_free(p);
}

TEST(compose_model_error_depends_on_unknown) {
    mem m;
    mem_init(&m,
             "services:\n"
             "  web:\n"
             "    image: web\n"
             "    depends_on:\n"
             "      db:\n"
             "        condition: service_healthy\n",
             NULL, NULL);
    ASSERT_STR_EQ(LOAD_ERR(&m.o),
                  "service \"web\" depends on undefined service \"db\": invalid compose project");
}

TEST(compose_model_error_normalize_surfaces) {
    char *d = SCRATCH("app");
    PUT(d, "compose.yaml",
        "services:\n"
        "  web:\n"
        "    image: web\n"
        "    ports:\n"
        "      - \"8080:80\"\n"
        "      - \"80a\"\n");
    char *want = NULL;
    size_t len = 0;
    wb_appendf(&want, &len, "%s/compose.yaml:6: services.web.ports[1]: ", d);
    wb_compose_opts o = dir_opts(d, NULL);
    const char *e = LOAD_ERR(&o);
    ASSERT_STR_CONTAINS(e, want);
    ASSERT_STR_CONTAINS(e, "80a");
    free(want);
    /* in the override file, the override's name and line */
    PUT(d, "compose.override.yaml",
        "services:\n"
        "  web:\n"
        "    restart: sometimes\n");
    PUT(d, "compose.yaml", "services:\n  web:\n    image: web\n");
    want = NULL;
    len = 0;
    wb_appendf(&want, &len, "%s/compose.override.yaml:3: services.web.restart: ", d);
    ASSERT_STR_CONTAINS(LOAD_ERR(&o), want);
    free(want);
    /* a string where a string is wanted, after interpolation: "image must be a string" */
    PUT(d, "compose.yaml", "services:\n  web:\n    image: 12\n");
    ASSERT_STR_CONTAINS(LOAD_ERR(&o), "compose.yaml:3: services.web.image: ");
    scratch_free(d);
}

TEST(compose_model_error_yaml) {
    mem m;
    mem_init(&m, "services:\n  web:\n    image: [unclosed\n", NULL, NULL);
    ASSERT_STR_CONTAINS(LOAD_ERR(&m.o), "/mem/app/compose.yaml:");
    mem_init(&m, "services:\n  web: {image: a}\n  web: {image: b}\n", NULL, NULL);
    ASSERT_STR_CONTAINS(LOAD_ERR(&m.o), "mapping key \"web\" already defined at line 2");
    mem_init(&m, "just a string\n", NULL, NULL);
    ASSERT_STR_EQ(LOAD_ERR(&m.o), "/mem/app/compose.yaml: Top-level object must be a mapping");
}

TEST(compose_model_version_warning) {
    mem m;
    warnings w = {0};
    mem_init(&m, "version: \"3.8\"\nservices:\n  web:\n    image: web\n", NULL, &w);
    wb_compose_project *p = LOAD_OK(&m.o);
    ASSERT_EQ(warned(&w, "/mem/app/compose.yaml: the attribute `version` is obsolete"), 1);
    ASSERT_ABSENT(p->model, "version");
    warnings_free(&w);
    wb_compose_project_free(p);
}

/* ---- the project name ---- */

TEST(compose_model_project_name_precedence) {
    char *d = SCRATCH("My_Dir");
    PUT(d, "compose.yaml", "services:\n  web:\n    image: web\n");
    wb_compose_opts o = dir_opts(d, NULL);
    wb_compose_project *p = LOAD_OK(&o);
    ASSERT_STR_EQ(p->name, "my_dir"); /* the directory's name, normalised */
    wb_compose_project_free(p);
    PUT(d, "compose.yaml", "name: from-key\nservices:\n  web:\n    image: web\n");
    p = LOAD_OK(&o);
    ASSERT_STR_EQ(p->name, "from-key");
    ASSERT_AT_STR(p->model, "networks.default.name", "from-key_default");
    wb_compose_project_free(p);
    PUT(d, ".env", "COMPOSE_PROJECT_NAME=from-dotenv\n");
    p = LOAD_OK(&o);
    ASSERT_STR_EQ(p->name, "from-dotenv");
    wb_compose_project_free(p);
    setenv("COMPOSE_PROJECT_NAME", "from-shell", 1);
    p = LOAD_OK(&o);
    ASSERT_STR_EQ(p->name, "from-shell");
    ASSERT_AT_STR(p->model, "name", "from-shell");
    wb_compose_project_free(p);
    o.project_name = "from-flag";
    p = LOAD_OK(&o);
    ASSERT_STR_EQ(p->name, "from-flag");
    ASSERT_AT_STR(p->model, "name", "from-flag");
    ASSERT_AT_STR(p->model, "networks.default.name", "from-flag_default");
    wb_compose_project_free(p);
    o.project_name = "Bad Name";
    ASSERT_STR_CONTAINS(LOAD_ERR(&o), "invalid project name \"Bad Name\"");
    scratch_free(d);
}

TEST(compose_model_project_name_interpolated) {
    mem m;
    mem_init(&m, "name: ${STACK:-fallback}\nservices: {}\n", NULL, NULL);
    unsetenv("STACK");
    wb_compose_project *p = LOAD_OK(&m.o);
    ASSERT_STR_EQ(p->name, "fallback");
    wb_compose_project_free(p);
    setenv("STACK", "prod", 1);
    p = LOAD_OK(&m.o);
    ASSERT_STR_EQ(p->name, "prod");
    wb_compose_project_free(p);
}

/* ---- the model's shape ---- */

TEST(compose_model_key_order) {
    mem m;
    mem_init(&m,
             "x-meta: {owner: me}\n"
             "secrets:\n"
             "  token: {file: ./token.txt}\n"
             "configs:\n"
             "  conf: {content: hello}\n"
             "volumes:\n"
             "  data:\n"
             "networks:\n"
             "  back:\n"
             "services:\n"
             "  web:\n"
             "    image: web\n"
             "    networks: [back]\n"
             "    volumes: [\"data:/data\"]\n"
             "    secrets: [token]\n"
             "    configs: [conf]\n"
             "name: ordered\n",
             NULL, NULL);
    wb_compose_project *p = LOAD_OK(&m.o);
    ASSERT_KEYS(p->model, "name,services,networks,volumes,configs,secrets,x-meta");
    ASSERT_AT_STR(p->model, "secrets.token.file", "/mem/app/token.txt");
    ASSERT_AT_STR(p->model, "x-meta.owner", "me");
    wb_compose_project_free(p);
}

/* ---- dependency order ---- */

TEST(compose_model_service_order) {
    mem m;
    mem_init(&m,
             "services:\n"
             "  web:\n"
             "    image: web\n"
             "    depends_on: [db, cache]\n"
             "  worker:\n"
             "    image: worker\n"
             "    depends_on:\n"
             "      queue: {condition: service_healthy}\n"
             "  queue:\n"
             "    image: queue\n"
             "    depends_on: [zstore]\n"
             "  db:\n"
             "    image: db\n"
             "  cache:\n"
             "    image: cache\n"
             "  zstore:\n"
             "    image: zstore\n"
             "  alone:\n"
             "    image: alone\n",
             NULL, NULL);
    wb_compose_project *p = LOAD_OK(&m.o);
    ASSERT_ORDER(p->model, "alone,cache,db,zstore,queue,web,worker");
    wb_compose_project_free(p);
    /* no services */
    json_t *empty = json_pack("{s:{}}", "services");
    ASSERT_ORDER(empty, "");
    json_decref(empty);
    json_t *none = json_object();
    ASSERT_ORDER(none, "");
    json_decref(none);
}

TEST(compose_model_service_order_cycle) {
    mem m;
    mem_init(&m,
             "services:\n"
             "  a:\n"
             "    image: a\n"
             "    depends_on: [b]\n"
             "  b:\n"
             "    image: b\n"
             "    depends_on: [a]\n",
             NULL, NULL);
    wb_compose_project *p = LOAD_OK(&m.o);
    wb_error err = {0};
    ASSERT_TRUE(wb_compose_service_order(p->model, &err) == NULL);
    ASSERT_STR_EQ(err.msg, "dependency cycle detected: a -> b -> a");
    wb_compose_project_free(p);
    /* a longer one, and a service depending on itself */
    json_error_t jerr;
    json_t *md = json_loads("{\"services\":{\"c\":{\"depends_on\":{\"a\":{}}},"
                            "\"a\":{\"depends_on\":{\"b\":{}}},\"b\":{\"depends_on\":{\"c\":{}}}}}",
                            0, &jerr);
    ASSERT_TRUE(wb_compose_service_order(md, &err) == NULL);
    ASSERT_STR_EQ(err.msg, "dependency cycle detected: a -> b -> c -> a");
    json_decref(md);
    md = json_loads("{\"services\":{\"s\":{\"depends_on\":{\"s\":{}}}}}", 0, &jerr);
    ASSERT_TRUE(wb_compose_service_order(md, &err) == NULL);
    ASSERT_STR_EQ(err.msg, "dependency cycle detected: s -> s");
    json_decref(md);
}
