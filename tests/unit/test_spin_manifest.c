/* Spin manifests (apps/spin_manifest.h): versions 1 and 2 read field by field, routes joined with
 * the base and normalised, every refusal's message, templates, and route matching and preference.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"

#include "apps/spin_manifest.h"

static wb_spin_app *parse_ok_at(const char *text, int line) {
    wb_error err = {0};
    wb_spin_app *app = NULL;
    if (wb_spin_manifest_parse(text, strlen(text), &app, &err) < 0)
        wb_test_fail(__FILE__, line, "wb_spin_manifest_parse: %s", err.msg);
    if (!app) wb_test_fail(__FILE__, line, "wb_spin_manifest_parse: no app");
    return app;
}
#define PARSE_OK(text) parse_ok_at(text, __LINE__)

/* the refusal's message (static storage), failing the case when the manifest is accepted */
static const char *parse_err_at(const char *text, int line) {
    static wb_error err;
    wb_spin_app *app = NULL;
    memset(&err, 0, sizeof err);
    if (wb_spin_manifest_parse(text, strlen(text), &app, &err) == 0) {
        wb_spin_app_free(app);
        wb_test_fail(__FILE__, line, "accepted: %s", text);
    }
    if (app) wb_test_fail(__FILE__, line, "*out set on failure");
    if (err.code != EINVAL) wb_test_fail(__FILE__, line, "code %d, not EINVAL", err.code);
    return err.msg;
}
#define PARSE_ERR(text) parse_err_at(text, __LINE__)

#define V1_HEAD "spin_manifest_version = \"1\"\nname = \"t\"\ntrigger = { type = \"http\" }\n"
#define V2_HEAD "spin_manifest_version = 2\n[application]\nname = \"t\"\n"

static const char V1_EXAMPLE[] =
    "spin_manifest_version = \"1\"\n"
    "name = \"hello\"\n"
    "version = \"1.0.0\"\n"
    "trigger = { type = \"http\", base = \"/\" }\n"
    "[variables]\n"
    "greeting = { default = \"hi\" }\n"
    "api_key = { required = true, secret = true }\n"
    "[[component]]\n"
    "id = \"hello\"\n"
    "source = \"target/hello.wasm\"\n"
    "files = [ \"static/**\", { source = \"assets\", destination = \"/assets\" } ]\n"
    "environment = { FOO = \"bar\", BAZ = \"qux\" }\n"
    "allowed_http_hosts = [ \"example.com\", \"insecure:allow-all\" ]\n"
    "key_value_stores = [ \"default\" ]\n"
    "[component.trigger]\n"
    "route = \"/hello/...\"\n"
    "executor = { type = \"wagi\", argv = \"${SCRIPT_NAME} -x ${ARGS}\", entrypoint = \"run\" }\n"
    "[component.config]\n"
    "message = \"{{ greeting }} there\"\n"
    "key = \"{{api_key}}\"\n"
    "[[component]]\n"
    "id = \"root\"\n"
    "source = \"root.wasm\"\n"
    "[component.trigger]\n"
    "route = \"/\"\n";

TEST(spin_manifest_v1_example) {
    wb_spin_app *app = PARSE_OK(V1_EXAMPLE);
    ASSERT_EQ(app->manifest_version, 1);
    ASSERT_STR_EQ(app->name, "hello");

    ASSERT_EQ(app->nvariables, 2);
    ASSERT_STR_EQ(app->variables[0].name, "greeting");
    ASSERT_STR_EQ(app->variables[0].default_value, "hi");
    ASSERT_TRUE(!app->variables[0].secret);
    ASSERT_STR_EQ(app->variables[1].name, "api_key");
    ASSERT_TRUE(app->variables[1].default_value == NULL);
    ASSERT_TRUE(app->variables[1].secret);

    ASSERT_EQ(app->ncomponents, 2);
    const wb_spin_component *c = &app->components[0];
    ASSERT_STR_EQ(c->id, "hello");
    ASSERT_STR_EQ(c->source, "target/hello.wasm");
    ASSERT_EQ(c->nfiles, 2);
    ASSERT_STR_EQ(c->files[0].source, "static/**");
    ASSERT_TRUE(c->files[0].pattern);
    ASSERT_TRUE(c->files[0].destination == NULL);
    ASSERT_STR_EQ(c->files[1].source, "assets");
    ASSERT_STR_EQ(c->files[1].destination, "/assets");
    ASSERT_TRUE(!c->files[1].pattern);
    ASSERT_EQ(c->nenvironment, 2);
    ASSERT_STR_EQ(c->environment[0].key, "FOO");
    ASSERT_STR_EQ(c->environment[0].value, "bar");
    ASSERT_STR_EQ(c->environment[1].key, "BAZ");
    ASSERT_STR_EQ(c->environment[1].value, "qux");
    ASSERT_EQ(c->nvariables, 2);
    ASSERT_STR_EQ(c->variables[0].key, "message");
    ASSERT_STR_EQ(c->variables[0].value, "{{ greeting }} there");
    ASSERT_STR_EQ(c->variables[1].key, "key");
    ASSERT_STR_EQ(c->variables[1].value, "{{api_key}}");
    ASSERT_EQ(c->nkey_value_stores, 1);
    ASSERT_STR_EQ(c->key_value_stores[0], "default");
    ASSERT_EQ(c->nallowed_outbound_hosts, 3);
    ASSERT_STR_EQ(c->allowed_outbound_hosts[0], "http://example.com");
    ASSERT_STR_EQ(c->allowed_outbound_hosts[1], "https://example.com");
    ASSERT_STR_EQ(c->allowed_outbound_hosts[2], "*://*:*");

    const wb_spin_component *root = &app->components[1];
    ASSERT_STR_EQ(root->id, "root");
    ASSERT_STR_EQ(root->source, "root.wasm");
    ASSERT_EQ(root->nfiles + root->nenvironment + root->nvariables + root->nkey_value_stores +
                  root->nallowed_outbound_hosts,
              0);

    ASSERT_EQ(app->nroutes, 2);
    ASSERT_STR_EQ(app->routes[0].route, "/hello/...");
    ASSERT_EQ(app->routes[0].component, 0);
    ASSERT_EQ(app->routes[0].executor, WB_SPIN_EXECUTOR_WAGI);
    ASSERT_STR_EQ(app->routes[0].wagi_argv, "${SCRIPT_NAME} -x ${ARGS}");
    ASSERT_STR_EQ(app->routes[0].wagi_entrypoint, "run");
    ASSERT_STR_EQ(app->routes[1].route, "/");
    ASSERT_EQ(app->routes[1].component, 1);
    ASSERT_EQ(app->routes[1].executor, WB_SPIN_EXECUTOR_SPIN);
    ASSERT_TRUE(app->routes[1].wagi_argv == NULL && app->routes[1].wagi_entrypoint == NULL);
    wb_spin_app_free(app);
}

static const char V2_EXAMPLE[] =
    "spin_manifest_version = 2\n"
    "[application]\n"
    "name = \"hello\"\n"
    "version = \"1.0.0\"\n"
    "[application.trigger.http]\n"
    "base = \"/\"\n"
    "[variables]\n"
    "greeting = { default = \"hi\" }\n"
    "token = { required = true }\n"
    "[[trigger.http]]\n"
    "route = \"/hello\"\n"
    "component = \"hello\"\n"
    "executor = { type = \"wagi\" }\n"
    "[[trigger.http]]\n"
    "route = { private = true }\n"
    "component = \"internal\"\n"
    "[[trigger.http]]\n"
    "route = \"/static/...\"\n"
    "component = { source = \"fileserver.wasm\", files = [ { source = \"public\", "
    "destination = \"/\" } ] }\n"
    "[[trigger.http]]\n"
    "route = \"/users/:id\"\n"
    "component = \"hello\"\n"
    "executor = { type = \"spin\" }\n"
    "[component.hello]\n"
    "source = \"hello.wasm\"\n"
    "files = [ \"index.html\", { source = \"assets\", destination = \"/assets\" } ]\n"
    "environment = { FOO = \"bar\" }\n"
    "key_value_stores = [ \"default\", \"other\" ]\n"
    "allowed_outbound_hosts = [ \"https://example.com\", \"http://127.0.0.1:8080\" ]\n"
    "[component.hello.variables]\n"
    "message = \"{{ greeting }} there\"\n"
    "secret = \"{{ token }}\"\n"
    "[component.hello.build]\n"
    "command = \"cargo build\"\n"
    "[component.internal]\n"
    "source = \"internal.wasm\"\n";

TEST(spin_manifest_v2_example) {
    wb_spin_app *app = PARSE_OK(V2_EXAMPLE);
    ASSERT_EQ(app->manifest_version, 2);
    ASSERT_STR_EQ(app->name, "hello");
    ASSERT_EQ(app->nvariables, 2);
    ASSERT_STR_EQ(app->variables[0].name, "greeting");
    ASSERT_STR_EQ(app->variables[0].default_value, "hi");
    ASSERT_STR_EQ(app->variables[1].name, "token");
    ASSERT_TRUE(app->variables[1].default_value == NULL);
    ASSERT_TRUE(!app->variables[1].secret);

    /* the tables first, in document order, then the inline one */
    ASSERT_EQ(app->ncomponents, 3);
    const wb_spin_component *c = &app->components[0];
    ASSERT_STR_EQ(c->id, "hello");
    ASSERT_STR_EQ(c->source, "hello.wasm");
    ASSERT_EQ(c->nfiles, 2);
    ASSERT_STR_EQ(c->files[0].source, "index.html");
    ASSERT_TRUE(c->files[0].pattern && !c->files[0].destination);
    ASSERT_STR_EQ(c->files[1].source, "assets");
    ASSERT_STR_EQ(c->files[1].destination, "/assets");
    ASSERT_TRUE(!c->files[1].pattern);
    ASSERT_EQ(c->nenvironment, 1);
    ASSERT_STR_EQ(c->environment[0].key, "FOO");
    ASSERT_STR_EQ(c->environment[0].value, "bar");
    ASSERT_EQ(c->nkey_value_stores, 2);
    ASSERT_STR_EQ(c->key_value_stores[0], "default");
    ASSERT_STR_EQ(c->key_value_stores[1], "other");
    ASSERT_EQ(c->nallowed_outbound_hosts, 2);
    ASSERT_STR_EQ(c->allowed_outbound_hosts[0], "https://example.com");
    ASSERT_STR_EQ(c->allowed_outbound_hosts[1], "http://127.0.0.1:8080");
    ASSERT_EQ(c->nvariables, 2);
    ASSERT_STR_EQ(c->variables[0].key, "message");
    ASSERT_STR_EQ(c->variables[0].value, "{{ greeting }} there");
    ASSERT_STR_EQ(c->variables[1].key, "secret");
    ASSERT_STR_EQ(c->variables[1].value, "{{ token }}");
    ASSERT_STR_EQ(app->components[1].id, "internal");
    ASSERT_STR_EQ(app->components[1].source, "internal.wasm");
    /* Spin's names: trigger "http-trigger1" (the first unnamed one with an inline component) */
    ASSERT_STR_EQ(app->components[2].id, "http-trigger1-component");
    ASSERT_STR_EQ(app->components[2].source, "fileserver.wasm");
    ASSERT_EQ(app->components[2].nfiles, 1);
    ASSERT_STR_EQ(app->components[2].files[0].destination, "/");

    /* the private route is not routed */
    ASSERT_EQ(app->nroutes, 3);
    ASSERT_STR_EQ(app->routes[0].route, "/hello");
    ASSERT_EQ(app->routes[0].component, 0);
    ASSERT_EQ(app->routes[0].executor, WB_SPIN_EXECUTOR_WAGI);
    ASSERT_STR_EQ(app->routes[0].wagi_argv, "${SCRIPT_NAME} ${ARGS}");
    ASSERT_STR_EQ(app->routes[0].wagi_entrypoint, "_start");
    ASSERT_STR_EQ(app->routes[1].route, "/static/...");
    ASSERT_EQ(app->routes[1].component, 2);
    ASSERT_EQ(app->routes[1].executor, WB_SPIN_EXECUTOR_SPIN);
    ASSERT_STR_EQ(app->routes[2].route, "/users/:id");
    ASSERT_EQ(app->routes[2].component, 0);
    ASSERT_EQ(app->routes[2].executor, WB_SPIN_EXECUTOR_SPIN);
    wb_spin_app_free(app);
}

TEST(spin_manifest_version_spellings) {
    wb_spin_app *app = PARSE_OK("spin_version = \"1\"\nname = \"old\"\ntrigger = { type = "
                                "\"http\" }\n[[component]]\nid = \"a\"\nsource = \"a.wasm\"\n"
                                "[component.trigger]\nroute = \"/a\"\n");
    ASSERT_EQ(app->manifest_version, 1);
    ASSERT_STR_EQ(app->name, "old");
    ASSERT_EQ(app->nroutes, 1);
    wb_spin_app_free(app);
    /* nothing but the version: an empty app */
    app = PARSE_OK("spin_manifest_version = 2\n");
    ASSERT_EQ(app->manifest_version, 2);
    ASSERT_STR_EQ(app->name, "");
    ASSERT_EQ(app->ncomponents + app->nroutes + app->nvariables, 0);
    wb_spin_app_free(app);
    ASSERT_STR_EQ(PARSE_ERR("name = \"x\"\n"), "spin.toml: `spin_manifest_version` is missing");
    ASSERT_STR_EQ(PARSE_ERR("spin_manifest_version = 3\n"),
                  "spin.toml: `spin_manifest_version` 3 is not supported (1 or 2)");
    ASSERT_STR_EQ(PARSE_ERR("spin_manifest_version = \"0.1\"\n"),
                  "spin.toml: `spin_manifest_version` \"0.1\" is not supported (1 or 2)");
    ASSERT_STR_EQ(PARSE_ERR("spin_version = \"9\"\n"),
                  "spin.toml: `spin_version` \"9\" is not supported (1 or 2)");
}

/* the one route of a v1 manifest with this base and route */
static char *v1_route(const char *base, const char *route) {
    char text[512];
    snprintf(text, sizeof text,
             "spin_manifest_version = \"1\"\nname = \"t\"\ntrigger = { type = \"http\"%s%s%s }\n"
             "[[component]]\nid = \"a\"\nsource = \"a.wasm\"\n[component.trigger]\nroute = "
             "\"%s\"\n",
             base ? ", base = \"" : "", base ? base : "", base ? "\"" : "", route);
    wb_error err = {0};
    wb_spin_app *app = NULL;
    if (wb_spin_manifest_parse(text, strlen(text), &app, &err) < 0) return strdup(err.msg);
    char *r = strdup(app->nroutes == 1 ? app->routes[0].route : "(no route)");
    wb_spin_app_free(app);
    return r;
}

#define ASSERT_V1_ROUTE(base, route, want)                                                         \
    do {                                                                                           \
        char *got_ = v1_route(base, route);                                                        \
        ASSERT_STR_EQ(got_, want);                                                                 \
        free(got_);                                                                                \
    } while (0)

TEST(spin_manifest_v1_base) {
    ASSERT_V1_ROUTE(NULL, "/hello", "/hello");
    ASSERT_V1_ROUTE("/", "/hello", "/hello");
    ASSERT_V1_ROUTE("/api", "/x/...", "/api/x/...");
    ASSERT_V1_ROUTE("/api", "/", "/api");
    ASSERT_V1_ROUTE("/api", "/...", "/api/...");
    ASSERT_V1_ROUTE("/api/", "/hello/", "/api/hello");
    ASSERT_V1_ROUTE("api", "hello", "/api/hello");
    ASSERT_V1_ROUTE("/", "/", "/");
    ASSERT_V1_ROUTE("/", "/...", "/...");
    ASSERT_V1_ROUTE("/a/b", "/:id", "/a/b/:id");
}

TEST(spin_manifest_v2_base) {
    wb_spin_app *app = PARSE_OK(V2_HEAD "[application.trigger.http]\nbase = \"/api/\"\n"
                                        "[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n"
                                        "[[trigger.http]]\nroute = \"/x/...\"\ncomponent = \"a\"\n"
                                        "[component.a]\nsource = \"a.wasm\"\n");
    ASSERT_EQ(app->nroutes, 2);
    ASSERT_STR_EQ(app->routes[0].route, "/api");
    ASSERT_STR_EQ(app->routes[1].route, "/api/x/...");
    wb_spin_app_free(app);
}

TEST(spin_manifest_route_normalisation) {
    ASSERT_V1_ROUTE(NULL, "hello", "/hello");
    ASSERT_V1_ROUTE(NULL, "/hello/", "/hello");
    ASSERT_V1_ROUTE(NULL, "/a//b//", "/a/b");
    ASSERT_V1_ROUTE(NULL, "//", "/");
    ASSERT_V1_ROUTE(NULL, "", "/");
    ASSERT_V1_ROUTE(NULL, "/users/:id/", "/users/:id");
    ASSERT_V1_ROUTE(NULL, "/users/:id/posts/:post", "/users/:id/posts/:post");
    ASSERT_V1_ROUTE(NULL, "/static//...", "/static/...");
    ASSERT_V1_ROUTE(NULL, "/a/.../b",
                    "spin.toml: component `a`: route `/a/.../b`: `...` may only be its last "
                    "segment");
}

TEST(spin_manifest_duplicate_routes) {
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[[trigger.http]]\nroute = \"/x\"\ncomponent = \"a\"\n"
                                    "[[trigger.http]]\nroute = \"/x/\"\ncomponent = \"b\"\n"
                                    "[component.a]\nsource = \"a.wasm\"\n"
                                    "[component.b]\nsource = \"b.wasm\"\n"),
                  "spin.toml: route `/x` is used twice (components `a` and `b`)");
    ASSERT_STR_EQ(PARSE_ERR(V1_HEAD "[[component]]\nid = \"a\"\nsource = \"a.wasm\"\n"
                                    "[component.trigger]\nroute = \"/...\"\n"
                                    "[[component]]\nid = \"b\"\nsource = \"b.wasm\"\n"
                                    "[component.trigger]\nroute = \"//...\"\n"),
                  "spin.toml: route `/...` is used twice (components `a` and `b`)");
    /* the same route for the same component twice: refused too */
    ASSERT_STR_CONTAINS(PARSE_ERR(V2_HEAD "[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n"
                                          "[[trigger.http]]\nroute = \"\"\ncomponent = \"a\"\n"
                                          "[component.a]\nsource = \"a.wasm\"\n"),
                        "route `/` is used twice");
    /* two private routes are no duplicates */
    wb_spin_app *app = PARSE_OK(V2_HEAD "[[trigger.http]]\nroute = { private = true }\n"
                                        "component = \"a\"\n"
                                        "[[trigger.http]]\nroute = { private = true }\n"
                                        "component = \"a\"\n"
                                        "[component.a]\nsource = \"a.wasm\"\n");
    ASSERT_EQ(app->nroutes, 0);
    ASSERT_EQ(app->ncomponents, 1);
    wb_spin_app_free(app);
}

TEST(spin_manifest_refused_triggers) {
    ASSERT_STR_EQ(PARSE_ERR("spin_manifest_version = \"1\"\nname = \"t\"\n"
                            "trigger = { type = \"redis\", address = \"redis://localhost\" }\n"),
                  "spin.toml: the `redis` trigger is not supported");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[[trigger.redis]]\nchannel = \"c\"\ncomponent = \"a\"\n"
                                    "[component.a]\nsource = \"a.wasm\"\n"),
                  "spin.toml: the `redis` trigger is not supported");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n"
                                    "[[trigger.cron]]\ncron_expression = \"* * *\"\n"
                                    "component = \"a\"\n[component.a]\nsource = \"a.wasm\"\n"),
                  "spin.toml: the `cron` trigger is not supported");
    ASSERT_STR_EQ(PARSE_ERR("spin_manifest_version = \"1\"\nname = \"t\"\n"),
                  "spin.toml: `trigger` is missing (trigger = { type = \"http\" })");
    ASSERT_STR_EQ(PARSE_ERR("spin_manifest_version = \"1\"\nname = \"t\"\ntrigger = {}\n"),
                  "spin.toml: `trigger.type` is missing");
    ASSERT_STR_EQ(PARSE_ERR("spin_manifest_version = \"1\"\nname = \"t\"\ntrigger = \"http\"\n"),
                  "spin.toml: `trigger` must be a table");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[trigger.http]\nroute = \"/\"\n"),
                  "spin.toml: `trigger.http` must be an array of tables ([[trigger.http]])");
    ASSERT_STR_EQ(PARSE_ERR("spin_manifest_version = \"1\"\nname = \"t\"\ntrigger = { type = "
                            "\"http\", base = 1 }\n"),
                  "spin.toml: `trigger.base` must be a string");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[application.trigger.http]\nbase = true\n"),
                  "spin.toml: `application.trigger.http.base` must be a string");
}

TEST(spin_manifest_refused_sources) {
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[component.hello]\nfiles = []\n"),
                  "spin.toml: component `hello`: `source` is missing");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[component.hello]\nsource = { url = "
                                    "\"https://example.com/h.wasm\", digest = \"sha256:00\" }\n"),
                  "spin.toml: component `hello`: `source` is a URL: fetching components is not "
                  "supported");
    ASSERT_STR_EQ(PARSE_ERR(V1_HEAD
                            "[[component]]\nid = \"hello\"\n"
                            "source = { url = \"https://x/h.wasm\", digest = \"sha256:0\" }\n"
                            "[component.trigger]\nroute = \"/\"\n"),
                  "spin.toml: component `hello`: `source` is a URL: fetching components is not "
                  "supported");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[component.hello]\nsource = { package = \"a:b\", version = "
                                    "\"1.0.0\" }\n"),
                  "spin.toml: component `hello`: `source` is a registry package: fetching "
                  "components is not supported");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[component.hello]\nsource = 42\n"),
                  "spin.toml: component `hello`: `source` must be a string or a table with `url` "
                  "and `digest`");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[component.hello]\nsource = { path = \"x.wasm\" }\n"),
                  "spin.toml: component `hello`: `source` must be a string or a table with `url` "
                  "and `digest`");
    ASSERT_STR_EQ(PARSE_ERR("spin_manifest_version = 2\ncomponent.hello = 3\n"),
                  "spin.toml: `component.hello` must be a table");
}

TEST(spin_manifest_refused_triggers_and_components) {
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[[trigger.http]]\nroute = \"/x\"\ncomponent = \"nope\"\n"
                                    "[component.a]\nsource = \"a.wasm\"\n"),
                  "spin.toml: `trigger.http`[0] (route `/x`): component `nope` is not defined");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[[trigger.http]]\nroute = \"/x\"\ncomponent = \"a\"\n"
                                    "[[trigger.http]]\nroute = \"/y\"\n"
                                    "[component.a]\nsource = \"a.wasm\"\n"),
                  "spin.toml: `trigger.http`[1] (route `/y`): `component` is missing: the route "
                  "names no component");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[[trigger.http]]\nroute = \"/x\"\n"
                                    "static_response = { status_code = 404 }\n"),
                  "spin.toml: `trigger.http`[0] (route `/x`): `static_response` is not supported");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[[trigger.http]]\ncomponent = \"a\"\n"
                                    "[component.a]\nsource = \"a.wasm\"\n"),
                  "spin.toml: `trigger.http`[0]: `route` is missing");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[[trigger.http]]\nroute = { private = false }\n"
                                    "component = \"a\"\n[component.a]\nsource = \"a.wasm\"\n"),
                  "spin.toml: `trigger.http`[0]: `route` must be a string or `{ private = true "
                  "}`");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[[trigger.http]]\nroute = 7\ncomponent = \"a\"\n"
                                    "[component.a]\nsource = \"a.wasm\"\n"),
                  "spin.toml: `trigger.http`[0]: `route` must be a string or `{ private = true "
                  "}`");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[[trigger.http]]\nroute = \"/\"\ncomponent = [\"a\"]\n"),
                  "spin.toml: `trigger.http`[0] (route `/`): `component` must be a component id "
                  "or an inline component table");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n"
                                    "executor = { type = \"cgi\" }\n"
                                    "[component.a]\nsource = \"a.wasm\"\n"),
                  "spin.toml: `trigger.http`[0] (route `/`): executor `cgi` is not supported "
                  "(`spin` or `wagi`)");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n"
                                    "executor = { argv = \"x\" }\n"
                                    "[component.a]\nsource = \"a.wasm\"\n"),
                  "spin.toml: `trigger.http`[0] (route `/`): `executor.type` is missing");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n"
                                    "executor = \"wagi\"\n[component.a]\nsource = \"a.wasm\"\n"),
                  "spin.toml: `trigger.http`[0] (route `/`): `executor` must be a table with "
                  "`type`");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n"
                                    "executor = { type = \"wagi\", argv = [\"x\"] }\n"
                                    "[component.a]\nsource = \"a.wasm\"\n"),
                  "spin.toml: `trigger.http`[0] (route `/`): `executor.argv` must be a string");
    ASSERT_STR_EQ(
        PARSE_ERR(V2_HEAD "[[trigger.http]]\nroute = \"/\"\ncomponent = { files = [] }\n"),
        "spin.toml: component `http-trigger1-component`: `source` is missing");
    ASSERT_STR_EQ(PARSE_ERR(V1_HEAD "[[component]]\nid = \"a\"\nsource = \"a.wasm\"\n"),
                  "spin.toml: component `a`: `trigger.route` is missing");
    ASSERT_STR_EQ(PARSE_ERR(V1_HEAD "[[component]]\nid = \"a\"\nsource = \"a.wasm\"\n"
                                    "[component.trigger]\nexecutor = { type = \"spin\" }\n"),
                  "spin.toml: component `a`: `trigger.route` is missing");
    ASSERT_STR_EQ(PARSE_ERR(V1_HEAD "[[component]]\nsource = \"a.wasm\"\n"),
                  "spin.toml: `component`[0]: `id` is missing");
    ASSERT_STR_EQ(PARSE_ERR(V1_HEAD "[[component]]\nid = \"a\"\nsource = \"a.wasm\"\n"
                                    "[component.trigger]\nroute = \"/a\"\n"
                                    "[[component]]\nid = \"a\"\nsource = \"b.wasm\"\n"
                                    "[component.trigger]\nroute = \"/b\"\n"),
                  "spin.toml: component `a` is defined twice");
    ASSERT_STR_EQ(PARSE_ERR(V1_HEAD "component = { id = \"a\" }\n"),
                  "spin.toml: `component` must be an array of tables ([[component]])");
}

TEST(spin_manifest_refused_component_fields) {
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[component.a]\nsource = \"a.wasm\"\nfiles = [ 1 ]\n"),
                  "spin.toml: component `a`: `files`[0] must be a string or a table with `source` "
                  "and `destination`");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[component.a]\nsource = \"a.wasm\"\n"
                                    "files = [ \"x\", { source = \"s\" } ]\n"),
                  "spin.toml: component `a`: `files`[1] must be a string or a table with `source` "
                  "and `destination`");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[component.a]\nsource = \"a.wasm\"\nfiles = \"x\"\n"),
                  "spin.toml: component `a`: `files` must be an array");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[component.a]\nsource = \"a.wasm\"\n"
                                    "environment = { N = 1 }\n"),
                  "spin.toml: component `a`: `environment.N` must be a string");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[component.a]\nsource = \"a.wasm\"\nenvironment = [ ]\n"),
                  "spin.toml: component `a`: `environment` must be a table");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[component.a]\nsource = \"a.wasm\"\n"
                                    "key_value_stores = \"default\"\n"),
                  "spin.toml: component `a`: `key_value_stores` must be an array of strings");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[component.a]\nsource = \"a.wasm\"\n"
                                    "allowed_outbound_hosts = [ \"https://x\", 2 ]\n"),
                  "spin.toml: component `a`: `allowed_outbound_hosts`[1] must be a string");
    ASSERT_STR_EQ(PARSE_ERR(V1_HEAD "[[component]]\nid = \"a\"\nsource = \"a.wasm\"\n"
                                    "allowed_http_hosts = [ \"ftp://example.com\" ]\n"
                                    "[component.trigger]\nroute = \"/\"\n"),
                  "spin.toml: component `a`: `allowed_http_hosts`: `ftp://example.com` is not an "
                  "http or https URL");
    ASSERT_STR_EQ(PARSE_ERR(V1_HEAD "[[component]]\nid = \"a\"\nsource = \"a.wasm\"\n"
                                    "allowed_http_hosts = [ \"https://example.com/api\" ]\n"
                                    "[component.trigger]\nroute = \"/\"\n"),
                  "spin.toml: component `a`: `allowed_http_hosts`: `https://example.com/api` must "
                  "be a host and an optional port only");
    ASSERT_STR_EQ(PARSE_ERR(V1_HEAD "[[component]]\nid = \"a\"\nsource = \"a.wasm\"\n"
                                    "allowed_http_hosts = [ \"example.com/api\" ]\n"
                                    "[component.trigger]\nroute = \"/\"\n"),
                  "spin.toml: component `a`: `allowed_http_hosts`: `example.com/api` is not a host "
                  "or host:port");
    ASSERT_STR_EQ(PARSE_ERR(V1_HEAD "[[component]]\nid = \"a\"\nsource = \"a.wasm\"\n"
                                    "config = { k = 1 }\n[component.trigger]\nroute = \"/\"\n"),
                  "spin.toml: component `a`: `config.k` must be a string");
}

TEST(spin_manifest_refused_variables) {
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[variables]\nFoo = { default = \"x\" }\n"),
                  "spin.toml: variable `Foo`: a name must be lower case letters, digits and `_`, "
                  "starting with a letter");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[variables]\n1x = { default = \"x\" }\n"),
                  "spin.toml: variable `1x`: a name must be lower case letters, digits and `_`, "
                  "starting with a letter");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[variables]\nmy-var = { default = \"x\" }\n"),
                  "spin.toml: variable `my-var`: a name must be lower case letters, digits and "
                  "`_`, starting with a letter");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[variables]\nx = { required = true, default = \"d\" }\n"),
                  "spin.toml: variable `x` is both required and has a default");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[variables]\nx = { secret = true }\n"),
                  "spin.toml: variable `x` needs `required = true` or a `default`");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[variables]\nx = \"value\"\n"),
                  "spin.toml: variable `x`: must be a table ({ default = \"...\" })");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[variables]\nx = { default = 5 }\n"),
                  "spin.toml: variable `x`: `default` must be a string");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[variables]\nx = { required = \"yes\" }\n"),
                  "spin.toml: variable `x`: `required` must be a boolean");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[variables]\nx = { default = \"a\" }\n"
                                    "[component.hello]\nsource = \"a.wasm\"\n"
                                    "[component.hello.variables]\n"
                                    "message = \"{{ x }} and {{ y }}\"\n"),
                  "spin.toml: component `hello`: variable `message` uses the undefined variable "
                  "`y`");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[component.hello]\nsource = \"a.wasm\"\n"
                                    "variables = { message = \"{{x}}\" }\n"),
                  "spin.toml: component `hello`: variable `message` uses the undefined variable "
                  "`x`");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[variables]\nx = { default = \"a\" }\n"
                                    "[component.hello]\nsource = \"a.wasm\"\n"
                                    "variables = { message = \"{{ x \" }\n"),
                  "spin.toml: component `hello`: variable `message`: `{{` without `}}`");
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[component.hello]\nsource = \"a.wasm\"\n"
                                    "variables = { Message = \"plain\" }\n"),
                  "spin.toml: component `hello`: variable `Message`: a name must be lower case "
                  "letters, digits and `_`, starting with a letter");
    ASSERT_STR_EQ(PARSE_ERR(V1_HEAD "[[component]]\nid = \"a\"\nsource = \"a.wasm\"\n"
                                    "[component.config]\nk = \"{{ missing }}\"\n"
                                    "[component.trigger]\nroute = \"/\"\n"),
                  "spin.toml: component `a`: variable `k` uses the undefined variable `missing`");
    /* plain text and defined names pass */
    wb_spin_app *app = PARSE_OK(V2_HEAD "[variables]\nx = { default = \"a\" }\n"
                                        "y_2 = { required = true }\n"
                                        "[component.hello]\nsource = \"a.wasm\"\n"
                                        "variables = { a = \"plain }} text\", b = \"{{x}}{{ y_2 "
                                        "}}\" }\n");
    ASSERT_EQ(app->components[0].nvariables, 2);
    wb_spin_app_free(app);
}

TEST(spin_manifest_malformed_toml) {
    const char *msg = PARSE_ERR("spin_manifest_version = 2\n[application]\nname = \n");
    ASSERT_STR_CONTAINS(msg, "spin.toml: line 3: ");
    msg = PARSE_ERR("spin_manifest_version = 2\n\n\n[component.a]\nsource = \"a.wasm\"\n"
                    "[component.a]\nsource = \"b.wasm\"\n");
    ASSERT_STR_CONTAINS(msg, "spin.toml: line 6: ");
}

static char *write_manifest(const char *text) {
    char *path = strdup("/tmp/wb-spin-test-XXXXXX");
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    ASSERT_EQ(write(fd, text, strlen(text)), (long long)strlen(text));
    close(fd);
    return path;
}

TEST(spin_manifest_load) {
    char *path = write_manifest(V2_EXAMPLE);
    wb_error err = {0};
    wb_spin_app *app = NULL;
    ASSERT_EQ(wb_spin_manifest_load(path, &app, &err), 0);
    ASSERT_STR_EQ(app->name, "hello");
    ASSERT_EQ(app->nroutes, 3);
    wb_spin_app_free(app);
    unlink(path);
    free(path);

    char want[512];
    path = write_manifest(V2_HEAD "[component.hello]\nfiles = []\n");
    app = NULL;
    ASSERT_EQ(wb_spin_manifest_load(path, &app, &err), -1);
    ASSERT_TRUE(app == NULL);
    snprintf(want, sizeof want, "%s: component `hello`: `source` is missing", path);
    ASSERT_STR_EQ(err.msg, want);
    ASSERT_EQ(err.code, EINVAL);
    unlink(path);
    free(path);

    path = write_manifest("spin_manifest_version = 2\nname = = 1\n");
    ASSERT_EQ(wb_spin_manifest_load(path, &app, &err), -1);
    snprintf(want, sizeof want, "%s: line 2: ", path);
    ASSERT_STR_CONTAINS(err.msg, want);
    ASSERT_TRUE(!strncmp(err.msg, want, strlen(want)));
    unlink(path);
    free(path);

    ASSERT_EQ(wb_spin_manifest_load("/nonexistent/spin.toml", &app, &err), -1);
    ASSERT_EQ(err.code, ENOENT);
    ASSERT_STR_CONTAINS(err.msg, "/nonexistent/spin.toml");
}

TEST(spin_manifest_inline_components) {
    /* Spin's ids (spin_manifest::normalize): "<trigger id>-component", the trigger's id being
     * its `id` or "http-triggerN"; "inline-componentN" when that is taken or not kebab-case */
    wb_spin_app *app =
        PARSE_OK(V2_HEAD "[[trigger.http]]\nroute = \"/a\"\ncomponent = { source = \"a.wasm\" }\n"
                         "[[trigger.http]]\nid = \"front\"\nroute = \"/b\"\n"
                         "component = { source = \"b.wasm\", environment = { K = \"v\" } }\n"
                         "[[trigger.http]]\nroute = \"/c\"\ncomponent = \"named\"\n"
                         "[[trigger.http]]\nid = \"Bad_Id\"\nroute = \"/d\"\n"
                         "component = { source = \"d.wasm\" }\n"
                         "[[trigger.http]]\nroute = \"/e\"\ncomponent = { source = \"e.wasm\" }\n"
                         "[[trigger.http]]\nroute = \"/f\"\nid = \"x\"\n"
                         "component = { source = \"f.wasm\" }\n"
                         "[component.named]\nsource = \"named.wasm\"\n"
                         "[component.x-component]\nsource = \"x.wasm\"\n");
    ASSERT_EQ(app->ncomponents, 7);
    ASSERT_STR_EQ(app->components[0].id, "named");
    ASSERT_STR_EQ(app->components[1].id, "x-component");
    ASSERT_STR_EQ(app->components[2].id, "http-trigger1-component");
    ASSERT_STR_EQ(app->components[2].source, "a.wasm");
    ASSERT_STR_EQ(app->components[3].id, "front-component");
    ASSERT_STR_EQ(app->components[3].source, "b.wasm");
    ASSERT_EQ(app->components[3].nenvironment, 1);
    ASSERT_STR_EQ(app->components[4].id, "inline-component1");
    ASSERT_STR_EQ(app->components[4].source, "d.wasm");
    ASSERT_STR_EQ(app->components[5].id, "http-trigger2-component");
    ASSERT_STR_EQ(app->components[5].source, "e.wasm");
    ASSERT_STR_EQ(app->components[6].id, "inline-component2");
    ASSERT_STR_EQ(app->components[6].source, "f.wasm");
    ASSERT_EQ(app->nroutes, 6);
    const char *want_routes[] = {"/a", "/b", "/c", "/d", "/e", "/f"};
    const size_t want_components[] = {2, 3, 0, 4, 5, 6};
    for (size_t i = 0; i < 6; i++) {
        ASSERT_STR_EQ(app->routes[i].route, want_routes[i]);
        ASSERT_EQ(app->routes[i].component, want_components[i]);
    }
    wb_spin_app_free(app);

    /* a natural trigger id "<component>-http-trigger" taken by an explicit one: counted */
    app = PARSE_OK(V2_HEAD "[[trigger.http]]\nid = \"a-http-trigger\"\nroute = \"/x\"\n"
                           "component = \"a\"\n"
                           "[[trigger.http]]\nroute = \"/y\"\ncomponent = \"a\"\n"
                           "[[trigger.http]]\nroute = \"/z\"\ncomponent = { source = \"z.wasm\" }\n"
                           "[component.a]\nsource = \"a.wasm\"\n");
    ASSERT_EQ(app->ncomponents, 2);
    ASSERT_STR_EQ(app->components[1].id, "http-trigger2-component");
    wb_spin_app_free(app);
}

TEST(spin_manifest_private_route) {
    wb_spin_app *app = PARSE_OK(V2_HEAD "[[trigger.http]]\nroute = { private = true }\n"
                                        "component = \"internal\"\n"
                                        "[[trigger.http]]\nroute = { private = true }\n"
                                        "component = { source = \"inline.wasm\" }\n"
                                        "[[trigger.http]]\nroute = \"/pub\"\ncomponent = \"pub\"\n"
                                        "[component.internal]\nsource = \"internal.wasm\"\n"
                                        "[component.pub]\nsource = \"pub.wasm\"\n");
    ASSERT_EQ(app->ncomponents, 3);
    ASSERT_STR_EQ(app->components[2].id, "http-trigger1-component");
    ASSERT_EQ(app->nroutes, 1);
    ASSERT_STR_EQ(app->routes[0].route, "/pub");
    ASSERT_EQ(app->routes[0].component, 1);
    wb_spin_app_free(app);
    /* a private route still names a defined component */
    ASSERT_STR_EQ(PARSE_ERR(V2_HEAD "[[trigger.http]]\nroute = { private = true }\n"
                                    "component = \"ghost\"\n"),
                  "spin.toml: `trigger.http`[0]: component `ghost` is not defined");
}

TEST(spin_manifest_allowed_http_hosts) {
    wb_spin_app *app = PARSE_OK(
        V1_HEAD "[[component]]\nid = \"a\"\nsource = \"a.wasm\"\n"
                "allowed_outbound_hosts = [ \"redis://cache:6379\" ]\n"
                "allowed_http_hosts = [ \"example.com\", \"localhost:3001\", \"http://x.org\", "
                "\"https://y.org:8443/\", \"insecure:allow-all\", \"[::1]:8001\" ]\n"
                "[component.trigger]\nroute = \"/\"\n");
    const wb_spin_component *c = &app->components[0];
    const char *want[] = {"redis://cache:6379",     "http://example.com",
                          "https://example.com",    "http://localhost:3001",
                          "https://localhost:3001", "http://x.org",
                          "https://y.org:8443",     "*://*:*",
                          "http://[::1]:8001",      "https://[::1]:8001"};
    ASSERT_EQ(c->nallowed_outbound_hosts, 10);
    for (size_t i = 0; i < 10; i++) ASSERT_STR_EQ(c->allowed_outbound_hosts[i], want[i]);
    wb_spin_app_free(app);
    /* v2 as written */
    app = PARSE_OK(V2_HEAD "[component.a]\nsource = \"a.wasm\"\n"
                           "allowed_outbound_hosts = [ \"*://*:*\", \"mysql://db\" ]\n");
    ASSERT_EQ(app->components[0].nallowed_outbound_hosts, 2);
    ASSERT_STR_EQ(app->components[0].allowed_outbound_hosts[0], "*://*:*");
    ASSERT_STR_EQ(app->components[0].allowed_outbound_hosts[1], "mysql://db");
    wb_spin_app_free(app);
}

TEST(spin_manifest_files) {
    wb_spin_app *app =
        PARSE_OK(V2_HEAD "[component.a]\nsource = \"a.wasm\"\n"
                         "files = [ \"static/**\", \"index.html\", { source = \"assets\", "
                         "destination = \"/assets\" }, { source = \"one.txt\", destination = "
                         "\"etc/one.txt\" }, \"*.css\" ]\n");
    const wb_spin_component *c = &app->components[0];
    ASSERT_EQ(c->nfiles, 5);
    ASSERT_TRUE(c->files[0].pattern && !c->files[0].destination);
    ASSERT_STR_EQ(c->files[0].source, "static/**");
    ASSERT_TRUE(c->files[1].pattern && !c->files[1].destination);
    ASSERT_STR_EQ(c->files[1].source, "index.html");
    ASSERT_TRUE(!c->files[2].pattern);
    ASSERT_STR_EQ(c->files[2].source, "assets");
    ASSERT_STR_EQ(c->files[2].destination, "/assets");
    /* a relative destination is under the guest's root, as Spin places it */
    ASSERT_TRUE(!c->files[3].pattern);
    ASSERT_STR_EQ(c->files[3].source, "one.txt");
    ASSERT_STR_EQ(c->files[3].destination, "/etc/one.txt");
    ASSERT_TRUE(c->files[4].pattern);
    ASSERT_STR_EQ(c->files[4].source, "*.css");
    wb_spin_app_free(app);
}

TEST(spin_manifest_executors) {
    wb_spin_app *app =
        PARSE_OK(V2_HEAD "[[trigger.http]]\nroute = \"/a\"\ncomponent = \"a\"\nexecutor = { type = "
                         "\"http\" }\n"
                         "[[trigger.http]]\nroute = \"/b\"\ncomponent = \"a\"\nexecutor = { type = "
                         "\"wagi\", entrypoint = \"\" }\n"
                         "[[trigger.http]]\nroute = \"/c\"\ncomponent = \"a\"\nexecutor = { type = "
                         "\"wagi\", argv = \"${SCRIPT_NAME}\", entrypoint = \"main\" }\n"
                         "[component.a]\nsource = \"a.wasm\"\n");
    ASSERT_EQ(app->routes[0].executor, WB_SPIN_EXECUTOR_SPIN);
    ASSERT_EQ(app->routes[1].executor, WB_SPIN_EXECUTOR_WAGI);
    ASSERT_STR_EQ(app->routes[1].wagi_argv, "${SCRIPT_NAME} ${ARGS}");
    ASSERT_STR_EQ(app->routes[1].wagi_entrypoint, "_start");
    ASSERT_EQ(app->routes[2].executor, WB_SPIN_EXECUTOR_WAGI);
    ASSERT_STR_EQ(app->routes[2].wagi_argv, "${SCRIPT_NAME}");
    ASSERT_STR_EQ(app->routes[2].wagi_entrypoint, "main");
    wb_spin_app_free(app);
}

/* ---- templates ---- */

static const char *lookup_table(void *ctx, const char *name) {
    const char *const *t = ctx;
    for (; t[0]; t += 2)
        if (!strcmp(t[0], name)) return t[1];
    return NULL;
}

static const char *const VALUES[] = {"greeting", "hi", "who", "world", "empty", "", NULL};

#define ASSERT_EXPAND(tmpl, want)                                                                  \
    do {                                                                                           \
        wb_error e_ = {0};                                                                         \
        char *got_ = wb_spin_expand(tmpl, lookup_table, (void *)VALUES, &e_);                      \
        ASSERT_STR_EQ(got_, want);                                                                 \
        free(got_);                                                                                \
    } while (0)

#define ASSERT_EXPAND_ERR(tmpl, want)                                                              \
    do {                                                                                           \
        wb_error e_ = {0};                                                                         \
        char *got_ = wb_spin_expand(tmpl, lookup_table, (void *)VALUES, &e_);                      \
        ASSERT_TRUE(got_ == NULL);                                                                 \
        ASSERT_STR_EQ(e_.msg, want);                                                               \
        ASSERT_EQ(e_.code, EINVAL);                                                                \
    } while (0)

TEST(spin_manifest_expand) {
    ASSERT_EXPAND("", "");
    ASSERT_EXPAND("plain text", "plain text");
    ASSERT_EXPAND("{{ greeting }}", "hi");
    ASSERT_EXPAND("{{greeting}}", "hi");
    ASSERT_EXPAND("{{  greeting\t}}", "hi");
    ASSERT_EXPAND("prefix-{{greeting}}", "prefix-hi");
    ASSERT_EXPAND("{{ greeting }}, {{ who }}!", "hi, world!");
    ASSERT_EXPAND("{{greeting}}{{who}}", "hiworld");
    ASSERT_EXPAND("[{{ empty }}]", "[]");
    ASSERT_EXPAND("a }} b", "a }} b");
    ASSERT_EXPAND_ERR("{{ nobody }}", "variable `nobody` has no value");
    ASSERT_EXPAND_ERR("x {{ greeting }} {{ Who }}", "variable `Who` has no value");
    ASSERT_EXPAND_ERR("{{ greeting", "`{{` without `}}`");
    ASSERT_EXPAND_ERR("{{ greeting }} {{", "`{{` without `}}`");
    ASSERT_EXPAND_ERR("{{  }}", "`{{ }}` names no variable");
}

/* ---- routes ---- */

typedef struct match {
    bool ok;
    char info[128];
    char params[256]; /* "k=v,k=v" */
} match;

static match route_match(const char *route, const char *path) {
    match m = {0};
    wb_spin_pair params[4];
    size_t n = 99;
    const char *info = NULL;
    m.ok = wb_spin_route_match(route, path, &info, params, 4, &n);
    if (!m.ok) {
        ASSERT_EQ(n, 0);
        return m;
    }
    ASSERT_TRUE(info != NULL);
    snprintf(m.info, sizeof m.info, "%s", info);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        len += (size_t)snprintf(m.params + len, sizeof m.params - len, "%s%s=%s", i ? "," : "",
                                params[i].key, params[i].value);
        free(params[i].key);
        free(params[i].value);
    }
    return m;
}

#define ASSERT_MATCH(route, path, want_info, want_params)                                          \
    do {                                                                                           \
        match m_ = route_match(route, path);                                                       \
        if (!m_.ok) wb_test_fail(__FILE__, __LINE__, "`%s` does not match `%s`", route, path);     \
        ASSERT_STR_EQ(m_.info, want_info);                                                         \
        ASSERT_STR_EQ(m_.params, want_params);                                                     \
    } while (0)

#define ASSERT_NO_MATCH(route, path)                                                               \
    do {                                                                                           \
        match m_ = route_match(route, path);                                                       \
        if (m_.ok) wb_test_fail(__FILE__, __LINE__, "`%s` matches `%s`", route, path);             \
    } while (0)

TEST(spin_manifest_route_match_exact) {
    ASSERT_MATCH("/hello", "/hello", "", "");
    ASSERT_MATCH("/hello", "/hello/", "", "");
    ASSERT_NO_MATCH("/hello", "/hello//");
    ASSERT_NO_MATCH("/hello", "/hello/x");
    ASSERT_NO_MATCH("/hello", "/hell");
    ASSERT_NO_MATCH("/hello", "/helloo");
    ASSERT_NO_MATCH("/hello", "/");
    ASSERT_NO_MATCH("/hello", "hello");
    ASSERT_MATCH("/foo/bar", "/foo/bar", "", "");
    ASSERT_NO_MATCH("/foo/bar", "/foo");
    ASSERT_MATCH("/", "/", "", "");
    ASSERT_MATCH("/", "", "", "");
    ASSERT_NO_MATCH("/", "/x");
    ASSERT_NO_MATCH("/", "//");
}

TEST(spin_manifest_route_match_wildcard) {
    ASSERT_MATCH("/static/...", "/static", "", "");
    ASSERT_MATCH("/static/...", "/static/", "/", "");
    ASSERT_MATCH("/static/...", "/static/a.css", "/a.css", "");
    ASSERT_MATCH("/static/...", "/static/img/a/b.png", "/img/a/b.png", "");
    ASSERT_NO_MATCH("/static/...", "/staticx");
    ASSERT_NO_MATCH("/static/...", "/stati");
    ASSERT_NO_MATCH("/static/...", "/");
    ASSERT_MATCH("/...", "/", "/", "");
    ASSERT_MATCH("/...", "", "/", "");
    ASSERT_MATCH("/...", "/anything/at/all", "/anything/at/all", "");
    ASSERT_MATCH("/api/v1/...", "/api/v1/users", "/users", "");
    ASSERT_NO_MATCH("/api/v1/...", "/api/v2/users");
    /* path_info points into the path */
    const char *path = "/static/x", *info = NULL;
    ASSERT_TRUE(wb_spin_route_match("/static/...", path, &info, NULL, 0, NULL));
    ASSERT_TRUE(info == path + 7);
}

TEST(spin_manifest_route_match_params) {
    ASSERT_MATCH("/users/:id", "/users/42", "", "id=42");
    ASSERT_MATCH("/users/:id", "/users/42/", "", "id=42");
    ASSERT_NO_MATCH("/users/:id", "/users");
    ASSERT_NO_MATCH("/users/:id", "/users/");
    ASSERT_NO_MATCH("/users/:id", "/users//");
    ASSERT_NO_MATCH("/users/:id", "/users/42/posts");
    ASSERT_MATCH("/users/:id/posts/:post", "/users/7/posts/hello-world", "",
                 "id=7,post=hello-world");
    ASSERT_NO_MATCH("/users/:id/posts/:post", "/users/7/comments/1");
    ASSERT_MATCH("/:a/:b", "/x/y", "", "a=x,b=y");
    ASSERT_MATCH("/u/:id/...", "/u/9/files/a.txt", "/files/a.txt", "id=9");
    ASSERT_MATCH("/u/:id/...", "/u/9", "", "id=9");
    /* more parameters than room: matched, the first ones given */
    wb_spin_pair one[1];
    size_t n = 0;
    ASSERT_TRUE(wb_spin_route_match("/:a/:b/:c", "/1/2/3", NULL, one, 1, &n));
    ASSERT_EQ(n, 1);
    ASSERT_STR_EQ(one[0].key, "a");
    ASSERT_STR_EQ(one[0].value, "1");
    free(one[0].key);
    free(one[0].value);
    /* no params array */
    ASSERT_TRUE(wb_spin_route_match("/:a", "/1", NULL, NULL, 0, &n));
    ASSERT_EQ(n, 0);
    /* a failed match after a parameter leaves nothing allocated (the sanitizer build checks) */
    wb_spin_pair two[2] = {{0}};
    ASSERT_TRUE(!wb_spin_route_match("/:a/b", "/1/c", NULL, two, 2, &n));
    ASSERT_EQ(n, 0);
    ASSERT_TRUE(two[0].key == NULL && two[0].value == NULL);
}

static int compare_routes(const void *a, const void *b) {
    return wb_spin_route_compare(*(const char *const *)a, *(const char *const *)b);
}

TEST(spin_manifest_route_compare) {
    ASSERT_LT(wb_spin_route_compare("/hello", "/:name"), 0);
    ASSERT_LT(wb_spin_route_compare("/:name", "/..."), 0);
    ASSERT_LT(wb_spin_route_compare("/hello", "/..."), 0);
    ASSERT_LT(wb_spin_route_compare("/users/:id", "/users/..."), 0);
    ASSERT_LT(wb_spin_route_compare("/a/b/...", "/a/..."), 0);
    ASSERT_LT(wb_spin_route_compare("/a/...", "/..."), 0);
    ASSERT_LT(wb_spin_route_compare("/a/:b/:c", "/:a/:b"), 0);
    ASSERT_LT(wb_spin_route_compare("/a/:x", "/:y/b"), 0);
    ASSERT_LT(wb_spin_route_compare("/a/b/c", "/a"), 0);
    ASSERT_LT(wb_spin_route_compare("/u/:id/...", "/u/..."), 0);
    ASSERT_EQ(wb_spin_route_compare("/x/...", "/x/..."), 0);
    ASSERT_LT(0, wb_spin_route_compare("/...", "/a/..."));
    ASSERT_LT(0, wb_spin_route_compare("/:name", "/hello"));

    const char *routes[] = {"/...",   "/static/...", "/users/:id", "/",
                            "/users", "/a/b/...",    "/:x/:y/:z",  "/users/:id/posts"};
    qsort(routes, 8, sizeof *routes, compare_routes);
    const char *want[] = {"/users",     "/",        "/users/:id/posts", "/:x/:y/:z",
                          "/users/:id", "/a/b/...", "/static/...",      "/..."};
    for (size_t i = 0; i < 8; i++) ASSERT_STR_EQ(routes[i], want[i]);

    /* the best match for a path is the first that matches in that order */
    const char *paths[][2] = {{"/users", "/users"},
                              {"/users/5", "/users/:id"},
                              {"/users/5/posts", "/users/:id/posts"},
                              {"/a/b/c", "/:x/:y/:z"},
                              {"/a/b/c/d", "/a/b/..."},
                              {"/static/x", "/static/..."},
                              {"/", "/"},
                              {"/other", "/..."}};
    for (size_t i = 0; i < 8; i++) {
        const char *best = NULL;
        for (size_t k = 0; k < 8 && !best; k++)
            if (wb_spin_route_match(routes[k], paths[i][0], NULL, NULL, 0, NULL)) best = routes[k];
        ASSERT_STR_EQ(best, paths[i][1]);
    }
}
