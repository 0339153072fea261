/* Spin locked apps (apps/spin_locked.h): a realistic pushed app read field by field, Spin 1.x's
 * shape (lock version 0), unknown keys and nulls ignored, every refusal's message, and the limits
 * on the document's size and counts. */
#include <errno.h>
#include <stdlib.h>

#include "harness.h"

#include "apps/spin_locked.h"

#define CONTENT_DIR ".spin-oci"

#define HEX_A       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEX_C       "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define HEX_UPPER   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define HEX_D       "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define SOURCE(hex) "{\"content_type\": \"application/wasm\", \"digest\": \"sha256:" hex "\"}"

static wb_spin_app *parse_ok_at(const char *json, const char *dir, int line) {
    wb_error err = {0};
    wb_spin_app *app = NULL;
    if (wb_spin_locked_parse(json, strlen(json), dir, &app, &err) < 0)
        wb_test_fail(__FILE__, line, "wb_spin_locked_parse: %s", err.msg);
    if (!app) wb_test_fail(__FILE__, line, "wb_spin_locked_parse: no app");
    return app;
}
#define PARSE_OK(json) parse_ok_at(json, CONTENT_DIR, __LINE__)

/* the refusal's message (static storage), failing the case when the app is accepted */
static const char *parse_err_at(const char *json, size_t len, int code, int line) {
    static wb_error err;
    wb_spin_app *app = (wb_spin_app *)&err; /* must come back NULL */
    memset(&err, 0, sizeof err);
    if (wb_spin_locked_parse(json, len, CONTENT_DIR, &app, &err) == 0) {
        wb_spin_app_free(app);
        wb_test_fail(__FILE__, line, "accepted: %.300s", json);
    }
    if (app) wb_test_fail(__FILE__, line, "*out not NULL on failure");
    if (err.code != code) wb_test_fail(__FILE__, line, "code %d, not %d", err.code, code);
    return err.msg;
}
#define PARSE_ERR(json) parse_err_at(json, strlen(json), EINVAL, __LINE__)

/* An app as Spin 2/3 push it: two components (a WAGI one, and a Spin one with files), three
 * triggers under the base "/api" */
static const char APP[] =
    "{\n"
    "  \"spin_lock_version\": 1,\n"
    "  \"must_understand\": [\"host_requirements\"],\n"
    "  \"metadata\": {\n"
    "    \"name\": \"shop\", \"version\": \"1.2.0\", \"authors\": [\"Ann <ann@example.com>\"],\n"
    "    \"triggers\": {\"http\": {\"base\": \"/api\"}},\n"
    "    \"trigger\": {\"type\": \"http\", \"base\": \"/api\"}\n"
    "  },\n"
    "  \"host_requirements\": {\"local_service_chaining\": \"optional\"},\n"
    "  \"variables\": {\n"
    "    \"greeting\": {\"default\": \"hello\"},\n"
    "    \"api_token\": {\"secret\": true},\n"
    "    \"region\": {\"default\": \"eu\", \"secret\": false}\n"
    "  },\n"
    "  \"triggers\": [\n"
    "    {\"id\": \"legacy-http-trigger\", \"trigger_type\": \"http\", \"trigger_config\": {\n"
    "      \"component\": \"legacy\", \"route\": \"/cgi/:name\",\n"
    "      \"executor\": {\"type\": \"wagi\", \"argv\": \"${SCRIPT_NAME} -v ${ARGS}\",\n"
    "                   \"entrypoint\": \"main\"}}},\n"
    "    {\"id\": \"web-http-trigger\", \"trigger_type\": \"http\", \"trigger_config\": {\n"
    "      \"component\": \"web\", \"route\": \"/static/...\"}},\n"
    "    {\"id\": \"http-trigger1\", \"trigger_type\": \"http\", \"trigger_config\": {\n"
    "      \"component\": \"web\", \"route\": \"/\", \"executor\": {\"type\": \"spin\"}}}\n"
    "  ],\n"
    "  \"components\": [\n"
    "    {\"id\": \"legacy\",\n"
    "     \"metadata\": {\"description\": \"old CGI\", \"allowed_outbound_hosts\": [],\n"
    "                  \"key_value_stores\": []},\n"
    "     \"source\": " SOURCE(
        HEX_A) "},\n"
               "    {\"id\": \"web\",\n"
               "     \"metadata\": {\n"
               "       \"allowed_outbound_hosts\": [\"https://api.example.com\", "
               "\"redis://cache:6379\"],\n"
               "       \"key_value_stores\": [\"default\", \"carts\"], \"databases\": "
               "[\"default\"],\n"
               "       \"build\": {\"command\": \"cargo build\"}},\n"
               "     \"source\": " SOURCE(
                   HEX_B) ",\n"
                          "     \"env\": {\"RUST_LOG\": \"info\", \"MODE\": \"prod\"},\n"
                          "     \"files\": [\n"
                          "       {\"digest\": \"sha256:" HEX_C "\", \"path\": \"index.html\"},\n"
                          "       {\"digest\": \"sha256:" HEX_D "\", \"path\": \"css/site.css\"},\n"
                          "       {\"digest\": \"sha256:" HEX_C
                          "\", \"path\": \"./copy//of/index.html\"}\n"
                          "     ],\n"
                          "     \"config\": {\"message\": \"{{ greeting }}, world\", \"token\": "
                          "\"{{api_token}}\",\n"
                          "                \"where\": \"{{region}}-{{ greeting }}\", \"fixed\": "
                          "\"plain\"}}\n"
                          "  ]\n"
                          "}\n";

TEST(spin_locked_app_example) {
    wb_spin_app *app = PARSE_OK(APP);
    ASSERT_EQ(app->manifest_version, 2);
    ASSERT_STR_EQ(app->name, "shop");

    ASSERT_EQ(app->nvariables, 3);
    ASSERT_STR_EQ(app->variables[0].name, "greeting");
    ASSERT_STR_EQ(app->variables[0].default_value, "hello");
    ASSERT_TRUE(!app->variables[0].secret);
    ASSERT_STR_EQ(app->variables[1].name, "api_token");
    ASSERT_TRUE(app->variables[1].default_value == NULL);
    ASSERT_TRUE(app->variables[1].secret);
    ASSERT_STR_EQ(app->variables[2].name, "region");
    ASSERT_STR_EQ(app->variables[2].default_value, "eu");
    ASSERT_TRUE(!app->variables[2].secret);

    ASSERT_EQ(app->ncomponents, 2);
    const wb_spin_component *legacy = &app->components[0];
    ASSERT_STR_EQ(legacy->id, "legacy");
    ASSERT_STR_EQ(legacy->source, ".spin-oci/sha256/" HEX_A);
    ASSERT_EQ(legacy->nfiles + legacy->nenvironment + legacy->nvariables +
                  legacy->nkey_value_stores + legacy->nallowed_outbound_hosts,
              0);

    const wb_spin_component *web = &app->components[1];
    ASSERT_STR_EQ(web->id, "web");
    ASSERT_STR_EQ(web->source, ".spin-oci/sha256/" HEX_B);
    ASSERT_EQ(web->nfiles, 3);
    ASSERT_STR_EQ(web->files[0].source, ".spin-oci/sha256/" HEX_C);
    ASSERT_STR_EQ(web->files[0].destination, "/index.html");
    ASSERT_TRUE(!web->files[0].pattern);
    ASSERT_STR_EQ(web->files[1].source, ".spin-oci/sha256/" HEX_D);
    ASSERT_STR_EQ(web->files[1].destination, "/css/site.css");
    ASSERT_TRUE(!web->files[1].pattern);
    ASSERT_STR_EQ(web->files[2].source, ".spin-oci/sha256/" HEX_C);
    ASSERT_STR_EQ(web->files[2].destination, "/copy/of/index.html");
    ASSERT_EQ(web->nenvironment, 2);
    ASSERT_STR_EQ(web->environment[0].key, "RUST_LOG");
    ASSERT_STR_EQ(web->environment[0].value, "info");
    ASSERT_STR_EQ(web->environment[1].key, "MODE");
    ASSERT_STR_EQ(web->environment[1].value, "prod");
    ASSERT_EQ(web->nvariables, 4);
    ASSERT_STR_EQ(web->variables[0].key, "message");
    ASSERT_STR_EQ(web->variables[0].value, "{{ greeting }}, world");
    ASSERT_STR_EQ(web->variables[1].key, "token");
    ASSERT_STR_EQ(web->variables[1].value, "{{api_token}}");
    ASSERT_STR_EQ(web->variables[2].key, "where");
    ASSERT_STR_EQ(web->variables[2].value, "{{region}}-{{ greeting }}");
    ASSERT_STR_EQ(web->variables[3].key, "fixed");
    ASSERT_STR_EQ(web->variables[3].value, "plain");
    ASSERT_EQ(web->nkey_value_stores, 2);
    ASSERT_STR_EQ(web->key_value_stores[0], "default");
    ASSERT_STR_EQ(web->key_value_stores[1], "carts");
    ASSERT_EQ(web->nallowed_outbound_hosts, 2);
    ASSERT_STR_EQ(web->allowed_outbound_hosts[0], "https://api.example.com");
    ASSERT_STR_EQ(web->allowed_outbound_hosts[1], "redis://cache:6379");

    ASSERT_EQ(app->nroutes, 3);
    ASSERT_STR_EQ(app->routes[0].route, "/api/cgi/:name");
    ASSERT_EQ(app->routes[0].component, 0);
    ASSERT_EQ(app->routes[0].executor, WB_SPIN_EXECUTOR_WAGI);
    ASSERT_STR_EQ(app->routes[0].wagi_argv, "${SCRIPT_NAME} -v ${ARGS}");
    ASSERT_STR_EQ(app->routes[0].wagi_entrypoint, "main");
    ASSERT_STR_EQ(app->routes[1].route, "/api/static/...");
    ASSERT_EQ(app->routes[1].component, 1);
    ASSERT_EQ(app->routes[1].executor, WB_SPIN_EXECUTOR_SPIN);
    ASSERT_TRUE(app->routes[1].wagi_argv == NULL && app->routes[1].wagi_entrypoint == NULL);
    ASSERT_STR_EQ(app->routes[2].route, "/api");
    ASSERT_EQ(app->routes[2].component, 1);
    ASSERT_EQ(app->routes[2].executor, WB_SPIN_EXECUTOR_SPIN);

    /* the routes serve as the manifest's do */
    const char *info = NULL;
    ASSERT_TRUE(wb_spin_route_match(app->routes[1].route, "/api/static/css/site.css", &info, NULL,
                                    0, NULL));
    ASSERT_STR_EQ(info, "/css/site.css");
    wb_spin_pair param = {0};
    size_t nparams = 0;
    ASSERT_TRUE(
        wb_spin_route_match(app->routes[0].route, "/api/cgi/report", NULL, &param, 1, &nparams));
    ASSERT_EQ(nparams, 1);
    ASSERT_STR_EQ(param.key, "name");
    ASSERT_STR_EQ(param.value, "report");
    free(param.key);
    free(param.value);
    wb_spin_app_free(app);
}

/* The same app from a manifest and from its lock: the model is the one the runtime reads */
TEST(spin_locked_matches_manifest_model) {
    static const char toml[] = "spin_manifest_version = 2\n"
                               "[application]\n"
                               "name = \"m\"\n"
                               "[application.trigger.http]\n"
                               "base = \"/b/\"\n"
                               "[[trigger.http]]\n"
                               "route = \"/x//y/\"\n"
                               "component = \"c\"\n"
                               "executor = { type = \"wagi\", entrypoint = \"\" }\n"
                               "[component.c]\n"
                               "source = \"c.wasm\"\n";
    static const char json[] = "{\"spin_lock_version\": 0, \"metadata\": {\"name\": \"m\",\n"
                               " \"triggers\": {\"http\": {\"base\": \"/b/\"}}},\n"
                               " \"triggers\": [{\"id\": \"t\", \"trigger_type\": \"http\",\n"
                               "   \"trigger_config\": {\"component\": \"c\", \"route\": "
                               "\"/x//y/\",\n"
                               "   \"executor\": {\"type\": \"wagi\", \"entrypoint\": \"\"}}}],\n"
                               " \"components\": [{\"id\": \"c\", \"source\": " SOURCE(HEX_A) "}]}";
    wb_error err = {0};
    wb_spin_app *m = NULL;
    ASSERT_EQ(wb_spin_manifest_parse(toml, strlen(toml), &m, &err), 0);
    wb_spin_app *l = PARSE_OK(json);
    ASSERT_EQ(l->manifest_version, m->manifest_version);
    ASSERT_STR_EQ(l->name, m->name);
    ASSERT_EQ(l->nroutes, 1);
    ASSERT_EQ(m->nroutes, 1);
    ASSERT_STR_EQ(l->routes[0].route, m->routes[0].route);
    ASSERT_STR_EQ(l->routes[0].route, "/b/x/y");
    ASSERT_EQ(l->routes[0].executor, m->routes[0].executor);
    ASSERT_STR_EQ(l->routes[0].wagi_argv, m->routes[0].wagi_argv);
    ASSERT_STR_EQ(l->routes[0].wagi_argv, "${SCRIPT_NAME} ${ARGS}");
    ASSERT_STR_EQ(l->routes[0].wagi_entrypoint, m->routes[0].wagi_entrypoint);
    ASSERT_STR_EQ(l->routes[0].wagi_entrypoint, "_start");
    wb_spin_app_free(m);
    wb_spin_app_free(l);
}

/* Spin 1.x's lock: version 0, the base in `metadata.trigger`, "executor": null, hosts as
 * `allowed_http_hosts` */
TEST(spin_locked_spin1_shape) {
    static const char json[] =
        "{\"spin_lock_version\": 0,\n"
        " \"metadata\": {\"name\": \"old\", \"version\": \"0.1.0\", \"description\": null,\n"
        "   \"trigger\": {\"type\": \"http\", \"base\": \"/v1\"}, \"origin\": \"file:///a\"},\n"
        " \"variables\": {\"who\": {\"default\": \"you\"}},\n"
        " \"triggers\": [{\"id\": \"trigger--hello\", \"trigger_type\": \"http\",\n"
        "   \"trigger_config\": {\"component\": \"hello\", \"route\": \"/hello/...\",\n"
        "                      \"executor\": null}}],\n"
        " \"components\": [{\"id\": \"hello\",\n"
        "   \"metadata\": {\"allowed_http_hosts\": [\"example.com\", \"https://b.io:8443\",\n"
        "                  \"insecure:allow-all\"], \"key_value_stores\": [\"default\"],\n"
        "                  \"databases\": []},\n"
        "   \"source\": " SOURCE(
            HEX_B) ",\n"
                   "   \"env\": {}, \"files\": [], \"config\": {\"greet\": \"hi {{ who }}\"}}]}";
    wb_spin_app *app = PARSE_OK(json);
    ASSERT_STR_EQ(app->name, "old");
    ASSERT_EQ(app->nroutes, 1);
    ASSERT_STR_EQ(app->routes[0].route, "/v1/hello/...");
    ASSERT_EQ(app->routes[0].executor, WB_SPIN_EXECUTOR_SPIN);
    const wb_spin_component *c = &app->components[0];
    ASSERT_EQ(c->nallowed_outbound_hosts, 4);
    ASSERT_STR_EQ(c->allowed_outbound_hosts[0], "http://example.com");
    ASSERT_STR_EQ(c->allowed_outbound_hosts[1], "https://example.com");
    ASSERT_STR_EQ(c->allowed_outbound_hosts[2], "https://b.io:8443");
    ASSERT_STR_EQ(c->allowed_outbound_hosts[3], "*://*:*");
    ASSERT_EQ(c->nkey_value_stores, 1);
    ASSERT_EQ(c->nfiles + c->nenvironment, 0);
    ASSERT_EQ(c->nvariables, 1);
    ASSERT_STR_EQ(c->variables[0].value, "hi {{ who }}");
    wb_spin_app_free(app);

    const char *msg =
        PARSE_ERR("{\"spin_lock_version\": 0, \"triggers\": [], \"components\": [{\"id\": \"h\","
                  " \"source\": " SOURCE(HEX_A) ", \"metadata\": {\"allowed_http_hosts\":"
                                                " [\"ftp://x\"]}}]}");
    ASSERT_STR_EQ(msg, "spin.json: component `h`: `metadata.allowed_http_hosts`: `ftp://x` is not "
                       "an http or https URL");
}

TEST(spin_locked_versions) {
    static const char *ok[] = {
        "{\"spin_lock_version\": 0, \"triggers\": [], \"components\": []}",
        "{\"spin_lock_version\": 1, \"triggers\": [], \"components\": []}",
    };
    for (size_t i = 0; i < 2; i++) {
        wb_spin_app *app = PARSE_OK(ok[i]);
        ASSERT_EQ(app->manifest_version, 2);
        ASSERT_STR_EQ(app->name, "");
        ASSERT_EQ(app->ncomponents + app->nroutes + app->nvariables, 0);
        wb_spin_app_free(app);
    }
    ASSERT_STR_EQ(PARSE_ERR("{\"spin_lock_version\": 2, \"triggers\": [], \"components\": []}"),
                  "spin.json: `spin_lock_version` 2 is not supported (0 or 1)");
    ASSERT_STR_EQ(PARSE_ERR("{\"spin_lock_version\": \"1\", \"triggers\": [], \"components\": []}"),
                  "spin.json: `spin_lock_version` \"1\" is not supported (0 or 1)");
    ASSERT_STR_EQ(PARSE_ERR("{\"triggers\": [], \"components\": []}"),
                  "spin.json: `spin_lock_version` is missing");
    ASSERT_STR_EQ(PARSE_ERR("{\"spin_lock_version\": 1, \"components\": []}"),
                  "spin.json: `triggers` is missing");
    ASSERT_STR_EQ(PARSE_ERR("{\"spin_lock_version\": 1, \"triggers\": []}"),
                  "spin.json: `components` is missing");
    ASSERT_STR_EQ(PARSE_ERR("[1]"), "spin.json: must be a JSON object");
    ASSERT_STR_CONTAINS(PARSE_ERR("{\"spin_lock_version\": 1,"), "spin.json: line ");
    ASSERT_STR_CONTAINS(PARSE_ERR("{\"spin_lock_version\": 1, \"spin_lock_version\": 1}"),
                        "duplicate");
}

/* unknown keys everywhere, nulls for absent values, a private route, content_dir variants */
TEST(spin_locked_unknown_keys_ignored) {
    static const char json[] =
        "{\"spin_lock_version\": 1, \"never_create_field_with_this_name\": 123,\n"
        " \"metadata\": {\"name\": \"u\", \"extra\": {\"a\": [1, 2]}, \"triggers\": {\"http\": "
        "{\"base\": null}, \"redis\": {\"address\": \"redis://x\"}}},\n"
        " \"host_requirements\": {\"accelerated_spline_reticulation\": \"optional\"},\n"
        " \"variables\": {\"v\": {\"default\": \"1\", \"required\": false, \"later\": true}},\n"
        " \"triggers\": [\n"
        "   {\"id\": \"t\", \"trigger_type\": \"http\", \"future\": 1, \"trigger_config\": {\n"
        "     \"component\": \"c\", \"route\": \"/r\", \"executor\": {\"type\": \"http\"},\n"
        "     \"middleware\": []}},\n"
        "   {\"id\": \"p\", \"trigger_type\": \"http\", \"trigger_config\": {\n"
        "     \"component\": \"c\", \"route\": {\"private\": true}}}],\n"
        " \"components\": [{\"id\": \"c\", \"new_field\": {\"x\": 1}, \"dependencies\": {},\n"
        "   \"source\": {\"content_type\": \"application/wasm\", \"digest\": \"sha256:" HEX_A
        "\", \"size\": 7},\n"
        "   \"files\": [{\"digest\": \"sha256:" HEX_B "\", \"path\": \"a\", \"mode\": 420}],\n"
        "   \"env\": null, \"config\": null,\n"
        "   \"metadata\": {\"ai_models\": [\"llama2-chat\"], \"description\": null}}]}";
    wb_spin_app *app = PARSE_OK(json);
    ASSERT_STR_EQ(app->name, "u");
    ASSERT_EQ(app->nroutes, 1);
    ASSERT_STR_EQ(app->routes[0].route, "/r");
    ASSERT_EQ(app->routes[0].executor, WB_SPIN_EXECUTOR_SPIN);
    ASSERT_EQ(app->ncomponents, 1);
    ASSERT_STR_EQ(app->components[0].files[0].destination, "/a");
    wb_spin_app_free(app);

    wb_error err = {0};
    static const char one[] =
        "{\"spin_lock_version\": 1, \"triggers\": [], \"components\": [{\"id\":"
        " \"c\", \"source\": " SOURCE(HEX_A) "}]}";
    const char *dirs[][2] = {{"/x/", "/x/sha256/" HEX_A},
                             {"", "sha256/" HEX_A},
                             {NULL, "sha256/" HEX_A},
                             {"a/b", "a/b/sha256/" HEX_A}};
    for (size_t i = 0; i < 4; i++) {
        app = NULL;
        ASSERT_EQ(wb_spin_locked_parse(one, strlen(one), dirs[i][0], &app, &err), 0);
        ASSERT_STR_EQ(app->components[0].source, dirs[i][1]);
        wb_spin_app_free(app);
    }
}

/* The refusals are written with ' for " (none of them has a ' of its own): readable JSON */
static const char *refused_at(const char *quoted, int line) {
    static char json[4096];
    size_t n = strlen(quoted);
    if (n >= sizeof json) wb_test_fail(__FILE__, line, "test JSON too long");
    for (size_t i = 0; i <= n; i++) json[i] = quoted[i] == '\'' ? '"' : quoted[i];
    return parse_err_at(json, n, EINVAL, line);
}
#define REFUSED(quoted) refused_at(quoted, __LINE__)

#define V1      "{'spin_lock_version': 1, "
#define NONE    "'triggers': [], 'components': []}"
#define HELLO   "{'id': 'hello', 'source': {'digest': 'sha256:" HEX_A "'}"
#define ONLY(c) "'triggers': [], 'components': [" c "]}"

TEST(spin_locked_refusals_header) {
    ASSERT_STR_EQ(REFUSED(V1 "'must_understand': ['host_requirements', 'frobnication'], " NONE),
                  "spin.json: `must_understand`: `frobnication` is not supported");
    ASSERT_STR_EQ(REFUSED(V1 "'must_understand': 'host_requirements', " NONE),
                  "spin.json: `must_understand` must be an array of strings");
    /* a name with a line break still gives one line (fuzz_spin_locked's first finding; the
     * message's control characters are shown as '?' by base/error.c) */
    ASSERT_STR_EQ(REFUSED(V1 "'must_understand': ['host_requirem\\nts'], " NONE),
                  "spin.json: `must_understand`: `host_requirem?ts` is not supported");
    ASSERT_STR_EQ(REFUSED(V1 "'must_understand': ['host_requirements'], "
                             "'host_requirements': {'local_service_chaining': 'required'}, " NONE),
                  "spin.json: host requirement `local_service_chaining`: service chaining is not "
                  "supported");
    ASSERT_STR_EQ(REFUSED(V1 "'host_requirements': {'local_service_chaining': 'optional', "
                             "'accelerated_spline_reticulation': 'required'}, " NONE),
                  "spin.json: host requirement `accelerated_spline_reticulation` is not "
                  "supported");
    ASSERT_STR_EQ(REFUSED(V1 "'host_requirements': [], " NONE),
                  "spin.json: `host_requirements` must be an object");
    ASSERT_STR_EQ(REFUSED(V1 "'metadata': {'name': 3}, " NONE),
                  "spin.json: `metadata.name` must be a string");
    ASSERT_STR_EQ(REFUSED(V1 "'metadata': {'triggers': {'http': {'base': 1}}}, " NONE),
                  "spin.json: `metadata.triggers.http.base` must be a string");
    ASSERT_STR_EQ(REFUSED(V1 "'variables': {'Bad-Name': {'default': 'x'}}, " NONE),
                  "spin.json: variable `Bad-Name`: a name must be lower case letters, digits and "
                  "`_`, starting with a letter");
    ASSERT_STR_EQ(REFUSED(V1 "'variables': {'v': 'x'}, " NONE),
                  "spin.json: variable `v`: must be an object ({\"default\": \"...\"})");
    ASSERT_STR_EQ(REFUSED(V1 "'variables': {'v': {'default': 1}}, " NONE),
                  "spin.json: variable `v`: `default` must be a string");
    ASSERT_STR_EQ(REFUSED(V1 "'variables': {'v': {'secret': 'yes'}}, " NONE),
                  "spin.json: variable `v`: `secret` must be a boolean");
}

TEST(spin_locked_refusals_components) {
    /* the source */
    ASSERT_STR_EQ(REFUSED(V1 ONLY("{'id': 'hello', 'source': {'content_type': 'application/wasm', "
                                  "'source': 'https://x.io/a.wasm'}}")),
                  "spin.json: component `hello`: source has no digest");
    ASSERT_STR_EQ(REFUSED(V1 ONLY("{'id': 'hello', 'source': {'inline': 'AGFzbQ=='}}")),
                  "spin.json: component `hello`: source has no digest");
    ASSERT_STR_EQ(REFUSED(V1 ONLY("{'id': 'hello', 'source': {'digest': 'sha512:abc'}}")),
                  "spin.json: component `hello`: source: digest `sha512:abc` is not `sha256:` "
                  "and 64 lower-case hex digits");
    ASSERT_STR_EQ(REFUSED(V1 ONLY("{'id': 'hello', 'source': {'digest': 'sha256:" HEX_A "0'}}")),
                  "spin.json: component `hello`: source: digest `sha256:" HEX_A
                  "0` is not `sha256:` and 64 lower-case hex digits");
    ASSERT_STR_EQ(REFUSED(V1 ONLY("{'id': 'hello', 'source': {'digest': 'sha256:" HEX_UPPER "'}}")),
                  "spin.json: component `hello`: source: digest `sha256:" HEX_UPPER
                  "` is not `sha256:` and 64 lower-case hex digits");
    ASSERT_STR_EQ(REFUSED(V1 ONLY("{'id': 'hello', 'source': {'digest': 7}}")),
                  "spin.json: component `hello`: `source.digest` must be a string");
    ASSERT_STR_EQ(REFUSED(V1 ONLY(HELLO ", 'files': [{'digest': null, 'path': 'a'}]}")),
                  "spin.json: component `hello`: files[0] has no digest");
    ASSERT_STR_EQ(REFUSED(V1 ONLY("{'id': 'hello', 'source': 'hello.wasm'}")),
                  "spin.json: component `hello`: `source` must be an object with `digest`");
    ASSERT_STR_EQ(REFUSED(V1 ONLY("{'id': 'hello'}")),
                  "spin.json: component `hello`: `source` is missing");
    ASSERT_STR_EQ(REFUSED(V1 ONLY("{'source': {'digest': 'sha256:" HEX_A "'}}")),
                  "spin.json: components[0]: `id` is missing");
    ASSERT_STR_EQ(REFUSED(V1 ONLY("7")), "spin.json: components[0] must be an object");
    ASSERT_STR_EQ(REFUSED(V1 ONLY("{'id': 'a', 'source': {'digest': 'sha256:" HEX_A "'}}, "
                                  "{'id': 'a', 'source': {'digest': 'sha256:" HEX_B "'}}")),
                  "spin.json: component `a` is defined twice");

    /* files */
    ASSERT_STR_EQ(REFUSED(V1 ONLY(HELLO ", 'files': ["
                                        "{'digest': 'sha256:" HEX_B "', 'path': 'a'}, "
                                        "{'digest': 'sha256:" HEX_B "', 'path': 'b/c'}, "
                                        "{'digest': 'sha256:" HEX_C "', 'path': '../x'}]}")),
                  "spin.json: component `hello`: files[2].path `../x` leaves the app");
    ASSERT_STR_EQ(
        REFUSED(V1 ONLY(HELLO ", 'files': [{'digest': 'sha256:" HEX_B "', 'path': 'a/../../x'}]}")),
        "spin.json: component `hello`: files[0].path `a/../../x` leaves the app");
    ASSERT_STR_EQ(
        REFUSED(V1 ONLY(HELLO ", 'files': [{'digest': 'sha256:" HEX_B "', 'path': 'a/..'}]}")),
        "spin.json: component `hello`: files[0].path `a/..` leaves the app");
    ASSERT_STR_EQ(
        REFUSED(V1 ONLY(HELLO ", 'files': [{'digest': 'sha256:" HEX_B "', 'path': '/etc/x'}]}")),
        "spin.json: component `hello`: files[0].path `/etc/x` must be relative");
    ASSERT_STR_EQ(
        REFUSED(V1 ONLY(HELLO ", 'files': [{'digest': 'sha256:" HEX_B "', 'path': './'}]}")),
        "spin.json: component `hello`: files[0].path `./` names no file");
    ASSERT_STR_EQ(REFUSED(V1 ONLY(HELLO ", 'files': [{'source': 'file:///x', 'path': 'x'}]}")),
                  "spin.json: component `hello`: files[0] has no digest");
    ASSERT_STR_EQ(REFUSED(V1 ONLY(HELLO ", 'files': [{'digest': 'sha256:" HEX_B "'}]}")),
                  "spin.json: component `hello`: files[0].path is missing");
    ASSERT_STR_EQ(REFUSED(V1 ONLY(HELLO ", 'files': ['index.html']}")),
                  "spin.json: component `hello`: files[0] must be an object with `digest` and "
                  "`path`");
    ASSERT_STR_EQ(REFUSED(V1 ONLY(HELLO ", 'files': {}}")),
                  "spin.json: component `hello`: `files` must be an array");

    /* env, config, metadata, dependencies */
    ASSERT_STR_EQ(REFUSED(V1 ONLY(HELLO ", 'env': {'A': 1}}")),
                  "spin.json: component `hello`: `env.A` must be a string");
    ASSERT_STR_EQ(REFUSED(V1 ONLY(HELLO ", 'config': {'x': '{{ nope }}'}}")),
                  "spin.json: component `hello`: variable `x` uses the undefined variable `nope`");
    ASSERT_STR_EQ(REFUSED(V1 "'variables': {'yes': {'default': '1'}}, " ONLY(
                      HELLO ", 'config': {'x': '{{ yes }}{{ nope }}'}}")),
                  "spin.json: component `hello`: variable `x` uses the undefined variable `nope`");
    ASSERT_STR_EQ(REFUSED(V1 ONLY(HELLO ", 'config': {'x': '{{ a'}}")),
                  "spin.json: component `hello`: variable `x`: `{{` without `}}`");
    ASSERT_STR_EQ(REFUSED(V1 ONLY(HELLO ", 'config': {'X': 'a'}}")),
                  "spin.json: component `hello`: variable `X`: a name must be lower case "
                  "letters, digits and `_`, starting with a letter");
    ASSERT_STR_EQ(REFUSED(V1 ONLY(HELLO ", 'metadata': {'allowed_outbound_hosts': 'https://x'}}")),
                  "spin.json: component `hello`: `metadata.allowed_outbound_hosts` must be an "
                  "array of strings");
    ASSERT_STR_EQ(REFUSED(V1 ONLY(HELLO ", 'metadata': {'key_value_stores': ['default', 2]}}")),
                  "spin.json: component `hello`: `metadata.key_value_stores`[1] must be a string");
    ASSERT_STR_EQ(REFUSED(V1 ONLY(HELLO ", 'dependencies': {'a:b/c': {'source': "
                                        "{'digest': 'sha256:" HEX_B "'}}}}")),
                  "spin.json: component `hello`: `dependencies` is not supported (compose the "
                  "component before pushing)");
}

/* the app `hello` with these triggers */
#define TRIGGERS(t) "'triggers': [" t "], 'components': [" HELLO "}]}"

TEST(spin_locked_refusals_triggers) {
    ASSERT_STR_EQ(REFUSED(V1 TRIGGERS("{'id': 'r', 'trigger_type': 'redis', 'trigger_config': "
                                      "{'component': 'hello', 'channel': 'c'}}")),
                  "spin.json: trigger `r`: the `redis` trigger is not supported");
    ASSERT_STR_EQ(REFUSED(V1 TRIGGERS("{'id': 'h', 'trigger_type': 'http', 'trigger_config': "
                                      "{'component': 'hello', 'route': '/'}}, "
                                      "{'id': 'c', 'trigger_type': 'cron', 'trigger_config': {}}")),
                  "spin.json: trigger `c`: the `cron` trigger is not supported");
    ASSERT_STR_EQ(REFUSED(V1 TRIGGERS("{'trigger_type': 'sqs'}")),
                  "spin.json: triggers[0]: the `sqs` trigger is not supported");
    ASSERT_STR_EQ(REFUSED(V1 TRIGGERS("{'id': 't'}")),
                  "spin.json: trigger `t`: `trigger_type` is missing");
    ASSERT_STR_EQ(REFUSED(V1 TRIGGERS("{'id': 't', 'trigger_type': 'http'}")),
                  "spin.json: trigger `t`: `trigger_config` is missing");
    ASSERT_STR_EQ(REFUSED(V1 TRIGGERS("{'id': 't', 'trigger_type': 'http', 'trigger_config': "
                                      "{'component': 'nope', 'route': '/'}}")),
                  "spin.json: trigger `t`: component `nope` is not defined");
    ASSERT_STR_EQ(REFUSED(V1 TRIGGERS("{'id': 't', 'trigger_type': 'http', 'trigger_config': "
                                      "{'route': '/'}}")),
                  "spin.json: trigger `t`: `trigger_config.component` is missing: the route "
                  "names no component");
    ASSERT_STR_EQ(REFUSED(V1 TRIGGERS("{'id': 't', 'trigger_type': 'http', 'trigger_config': "
                                      "{'route': '/', 'static_response': {'status_code': 404}}}")),
                  "spin.json: trigger `t`: `trigger_config.static_response` is not supported");
    ASSERT_STR_EQ(REFUSED(V1 TRIGGERS("{'id': 't', 'trigger_type': 'http', 'trigger_config': "
                                      "{'component': 'hello'}}")),
                  "spin.json: trigger `t`: `trigger_config.route` is missing");
    ASSERT_STR_EQ(REFUSED(V1 TRIGGERS("{'id': 't', 'trigger_type': 'http', 'trigger_config': "
                                      "{'component': 'hello', 'route': {'private': false}}}")),
                  "spin.json: trigger `t`: `trigger_config.route` must be a string or "
                  "{\"private\": true}");
    ASSERT_STR_EQ(REFUSED(V1 TRIGGERS("{'id': 't', 'trigger_type': 'http', 'trigger_config': "
                                      "{'component': 'hello', 'route': '/a/.../b'}}")),
                  "spin.json: trigger `t`: route `/a/.../b`: `...` may only be its last segment");
    ASSERT_STR_EQ(REFUSED(V1 TRIGGERS("{'id': 't', 'trigger_type': 'http', 'trigger_config': "
                                      "{'component': 'hello', 'route': '/', "
                                      "'executor': {'type': 'wasi'}}}")),
                  "spin.json: trigger `t`: executor `wasi` is not supported (`spin` or `wagi`)");
    ASSERT_STR_EQ(REFUSED(V1 TRIGGERS("{'id': 't', 'trigger_type': 'http', 'trigger_config': "
                                      "{'component': 'hello', 'route': '/', "
                                      "'executor': {'argv': 'x'}}}")),
                  "spin.json: trigger `t`: `trigger_config.executor.type` is missing");
    /* two routes the same once normalised, the base included */
    ASSERT_STR_EQ(REFUSED(V1 "'metadata': {'triggers': {'http': {'base': '/api'}}}, "
                             "'triggers': ["
                             "{'id': 'a', 'trigger_type': 'http', 'trigger_config': "
                             "{'component': 'a', 'route': '/x'}}, "
                             "{'id': 'b', 'trigger_type': 'http', 'trigger_config': "
                             "{'component': 'b', 'route': 'x/'}}], "
                             "'components': ["
                             "{'id': 'a', 'source': {'digest': 'sha256:" HEX_A "'}}, "
                             "{'id': 'b', 'source': {'digest': 'sha256:" HEX_B "'}}]}"),
                  "spin.json: route `/api/x` is used twice (components `a` and `b`)");
}

/* head, n items separated by ',', tail (malloc'd) */
static char *repeat_json(const char *head, const char *item, size_t n, const char *tail) {
    size_t hl = strlen(head), il = strlen(item), tl = strlen(tail);
    char *s = malloc(hl + n * (il + 1) + tl + 1), *p = s;
    memcpy(p, head, hl);
    p += hl;
    for (size_t i = 0; i < n; i++) {
        if (i) *p++ = ',';
        memcpy(p, item, il);
        p += il;
    }
    memcpy(p, tail, tl + 1);
    return s;
}

#define HEAD "{\"spin_lock_version\": 1, "

TEST(spin_locked_limits) {
    /* the size: 16 MiB exactly is read, one byte more is refused before parsing */
    static const char small[] = "{\"spin_lock_version\": 1, \"triggers\": [], \"components\": []}";
    size_t max = WB_SPIN_LOCKED_MAX_BYTES;
    char *big = malloc(max + 1);
    memset(big, ' ', max + 1);
    memcpy(big, small, strlen(small));
    wb_error err = {0};
    wb_spin_app *app = NULL;
    ASSERT_EQ(wb_spin_locked_parse(big, max, CONTENT_DIR, &app, &err), 0);
    wb_spin_app_free(app);
    ASSERT_STR_EQ(parse_err_at(big, max + 1, EFBIG, __LINE__),
                  "spin.json: 16777217 bytes: more than the limit of 16 MiB");
    free(big);

    /* the counts, checked before the entries are read */
    char *s = repeat_json(HEAD "\"triggers\": [], \"components\": [", "{}", 4097, "]}");
    ASSERT_STR_EQ(PARSE_ERR(s), "spin.json: `components` has 4097 entries: more than 4096");
    free(s);
    s = repeat_json(HEAD "\"triggers\": [", "{}", 4097, "], \"components\": []}");
    ASSERT_STR_EQ(PARSE_ERR(s), "spin.json: `triggers` has 4097 entries: more than 4096");
    free(s);
    static const char files_head[] = HEAD "\"triggers\": [], \"components\": [{\"id\": \"hello\", "
                                          "\"source\": " SOURCE(HEX_A) ", \"files\": [";
    s = repeat_json(files_head, "{}", 65537, "]}]}");
    ASSERT_STR_EQ(PARSE_ERR(s),
                  "spin.json: component `hello`: `files` has 65537 entries: more than 65536");
    free(s);
    size_t cap = 128 + 4097 * 32;
    char *vars = malloc(cap);
    size_t len = (size_t)snprintf(vars, cap, "%s",
                                  HEAD "\"triggers\": [], \"components\": [], \"variables\": {");
    for (int i = 0; i < 4097; i++)
        len += (size_t)snprintf(vars + len, cap - len, "%s\"v%d\": {\"default\": \"\"}",
                                i ? "," : "", i);
    snprintf(vars + len, cap - len, "}}");
    ASSERT_STR_EQ(PARSE_ERR(vars), "spin.json: `variables` has 4097 entries: more than 4096");
    free(vars);

    /* at the limit, accepted */
    s = repeat_json(files_head, "{\"digest\": \"sha256:" HEX_B "\", \"path\": \"f\"}", 65536,
                    "]}]}");
    app = PARSE_OK(s);
    ASSERT_EQ(app->components[0].nfiles, 65536);
    ASSERT_STR_EQ(app->components[0].files[65535].destination, "/f");
    wb_spin_app_free(app);
    free(s);
}
