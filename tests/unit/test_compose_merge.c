/* Merging canonical Compose models (src/compose/merge.h): each merge kind of the rule table,
 * null overrides, !reset/!override by path, top-level maps; extends in the file, from other
 * files (through a fake loader), chained, cyclic and missing; profiles and depends_on. Inputs
 * are literal JSON in normalize.h's canonical form; inputs given as borrowed are checked
 * unchanged. */
#include <errno.h>

#include "harness.h"

#include "compose/merge.h"
#include "compose/yaml.h"

static json_t *parse_at(const char *file, int line, const char *text) {
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!v) wb_test_fail(file, line, "bad test JSON: %s: %s", jerr.text, text);
    return v;
}

static char *dump(const json_t *v) {
    return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

/* v equals the JSON `text` (object members in any order, array items in order). */
static void assert_json_at(const char *file, int line, const json_t *v, const char *text) {
    json_t *want = parse_at(file, line, text);
    if (!json_equal(v, want)) {
        char *got = dump(v), *exp = dump(want);
        wb_test_fail(file, line, "got %s\n    expected %s", got ? got : "(null)", exp);
    }
    json_decref(want);
}
#define ASSERT_JSON(v, text) assert_json_at(__FILE__, __LINE__, v, text)

/* The tags callback's fake: a list of path → bits, ended by a NULL path. */
typedef struct fake_tag {
    const char *path;
    unsigned bits;
} fake_tag;

static unsigned fake_tags(void *ctx, const char *path) {
    for (const fake_tag *t = ctx; t->path; t++)
        if (strcmp(t->path, path) == 0) return t->bits;
    return 0;
}

/* `over` merged into `base` (tags may be NULL); fails the case on an error or when the merge
 * changed `over`. The caller frees the result. */
static json_t *merged_at(const char *file, int line, const char *base_text, const char *over_text,
                         const fake_tag *tags) {
    json_t *base = parse_at(file, line, base_text), *over = parse_at(file, line, over_text);
    char *before = dump(over);
    wb_error err = {0};
    if (wb_compose_merge(base, over, tags ? fake_tags : NULL, (void *)tags, &err) < 0)
        wb_test_fail(file, line, "merge failed: %s", err.msg);
    char *after = dump(over);
    if (strcmp(before, after) != 0) wb_test_fail(file, line, "over changed: %s", after);
    free(before);
    free(after);
    json_decref(over);
    return base;
}
#define MERGED(base, over, tags) merged_at(__FILE__, __LINE__, base, over, tags)

/* The service `web` of a merge of two `web` services. */
static json_t *web_at(const char *file, int line, const char *base_web, const char *over_web,
                      const fake_tag *tags) {
    char *base = NULL, *over = NULL;
    size_t nb = 0, no = 0;
    FILE *fb = open_memstream(&base, &nb), *fo = open_memstream(&over, &no);
    fprintf(fb, "{\"services\":{\"web\":%s}}", base_web);
    fprintf(fo, "{\"services\":{\"web\":%s}}", over_web);
    fclose(fb);
    fclose(fo);
    json_t *model = merged_at(file, line, base, over, tags);
    json_t *web = json_incref(json_object_get(json_object_get(model, "services"), "web"));
    json_decref(model);
    free(base);
    free(over);
    return web;
}
#define WEB(base, over, tags) web_at(__FILE__, __LINE__, base, over, tags)

#define ASSERT_WEB(base, over, tags, want)                                                         \
    do {                                                                                           \
        json_t *wb_w_ = WEB(base, over, tags);                                                     \
        ASSERT_JSON(wb_w_, want);                                                                  \
        json_decref(wb_w_);                                                                        \
    } while (0)

/* ---- merge kinds ---- */

TEST(compose_merge_scalars_and_maps) {
    json_t *m = MERGED("{\"name\":\"a\",\"services\":{\"web\":{\"image\":\"nginx\",\"user\":\"1\","
                       "\"build\":{\"context\":\"/p\",\"target\":\"dev\"}}}}",
                       "{\"name\":\"b\",\"services\":{\"web\":{\"image\":\"caddy\",\"tty\":true,"
                       "\"build\":{\"target\":\"prod\",\"dockerfile\":\"D\"}},"
                       "\"db\":{\"image\":\"pg\"}}}",
                       NULL);
    ASSERT_JSON(m, "{\"name\":\"b\",\"services\":{"
                   "\"web\":{\"image\":\"caddy\",\"user\":\"1\",\"tty\":true,"
                   "\"build\":{\"context\":\"/p\",\"target\":\"prod\",\"dockerfile\":\"D\"}},"
                   "\"db\":{\"image\":\"pg\"}}}");
    /* members keep their place; new ones come after */
    const char *first = json_object_iter_key(
        json_object_iter(json_object_get(json_object_get(m, "services"), "web")));
    ASSERT_STR_EQ(first, "image");
    json_decref(m);
}

TEST(compose_merge_sequence_appends) {
    ASSERT_WEB("{\"networks\":{\"front\":{\"aliases\":[\"a\",\"b\"]}}}",
               "{\"networks\":{\"front\":{\"aliases\":[\"b\",\"c\"]}}}", NULL,
               "{\"networks\":{\"front\":{\"aliases\":[\"a\",\"b\",\"b\",\"c\"]}}}");
}

TEST(compose_merge_command_entrypoint_replaced) {
    ASSERT_WEB("{\"command\":[\"echo\",\"foo\"],\"entrypoint\":[\"/bin/sh\",\"-c\"]}",
               "{\"command\":[\"echo\",\"bar\"],\"entrypoint\":[]}", NULL,
               "{\"command\":[\"echo\",\"bar\"],\"entrypoint\":[]}");
}

TEST(compose_merge_healthcheck_test_replaced_rest_merged) {
    ASSERT_WEB("{\"healthcheck\":{\"test\":[\"CMD\",\"a\"],\"interval\":\"5s\",\"retries\":3}}",
               "{\"healthcheck\":{\"test\":[\"CMD-SHELL\",\"b\"],\"retries\":5}}", NULL,
               "{\"healthcheck\":{\"test\":[\"CMD-SHELL\",\"b\"],\"interval\":\"5s\","
               "\"retries\":5}}");
}

#define PORT(t, pub, extra)                                                                        \
    "{\"target\":" #t ",\"published\":\"" #pub                                                     \
    "\",\"protocol\":\"tcp\",\"mode\":\"ingress\"" extra "}"

TEST(compose_merge_ports_replace_in_place) {
    json_t *web = WEB(
        "{\"ports\":[" PORT(80, 8080, "") "," PORT(443, 8443, "") "]}",
        "{\"ports\":[" PORT(9000, 9000, "") "," PORT(80, 8080, ",\"name\":\"http\"") "]}", NULL);
    ASSERT_JSON(web, "{\"ports\":[" PORT(80, 8080, ",\"name\":\"http\"") "," PORT(
                         443, 8443, "") "," PORT(9000, 9000, "") "]}");
    json_decref(web);
}

TEST(compose_merge_ports_key_is_ip_target_published_protocol) {
    json_t *web = WEB(
        "{\"ports\":[" PORT(80, 8080, "") "]}",
        "{\"ports\":[" PORT(80, 8080, ",\"host_ip\":\"127.0.0.1\"") "," PORT(
            80, 8081,
            "") ","
                "{\"target\":80,\"published\":\"8080\",\"protocol\":\"udp\",\"mode\":\"ingress\"},"
                "{\"target\":80,\"published\":\"8080\",\"protocol\":\"tcp\",\"mode\":\"host\"}]}",
        NULL);
    /* host_ip, published and protocol each make another port; mode does not */
    ASSERT_EQ(json_array_size(json_object_get(web, "ports")), 4);
    ASSERT_JSON(json_array_get(json_object_get(web, "ports"), 0),
                "{\"target\":80,\"published\":\"8080\",\"protocol\":\"tcp\",\"mode\":\"host\"}");
    json_decref(web);
}

TEST(compose_merge_volumes_by_target) {
    ASSERT_WEB("{\"volumes\":[{\"type\":\"volume\",\"source\":\"foo\",\"target\":\"/work\"},"
               "{\"type\":\"bind\",\"source\":\"/h\",\"target\":\"/h\"}]}",
               "{\"volumes\":[{\"type\":\"volume\",\"source\":\"bar\",\"target\":\"/work\"},"
               "{\"type\":\"tmpfs\",\"target\":\"/tmp\"}]}",
               NULL,
               "{\"volumes\":[{\"type\":\"volume\",\"source\":\"bar\",\"target\":\"/work\"},"
               "{\"type\":\"bind\",\"source\":\"/h\",\"target\":\"/h\"},"
               "{\"type\":\"tmpfs\",\"target\":\"/tmp\"}]}");
}

TEST(compose_merge_secrets_configs_by_target_else_source) {
    ASSERT_WEB(
        "{\"secrets\":[{\"source\":\"a\"},{\"source\":\"b\",\"target\":\"/t\"}],"
        "\"configs\":[{\"source\":\"c\",\"mode\":292}]}",
        "{\"secrets\":[{\"source\":\"a\",\"uid\":\"1\"},{\"source\":\"x\",\"target\":\"/t\"},"
        "{\"source\":\"b\"}],"
        "\"configs\":[{\"source\":\"c\",\"mode\":256},{\"source\":\"d\"}]}",
        NULL,
        "{\"secrets\":[{\"source\":\"a\",\"uid\":\"1\"},{\"source\":\"x\",\"target\":\"/t\"},"
        "{\"source\":\"b\"}],"
        "\"configs\":[{\"source\":\"c\",\"mode\":256},{\"source\":\"d\"}]}");
}

TEST(compose_merge_env_file_by_path) {
    ASSERT_WEB("{\"env_file\":[{\"path\":\"/p/a.env\",\"required\":true},"
               "{\"path\":\"/p/b.env\",\"required\":true}]}",
               "{\"env_file\":[{\"path\":\"/p/a.env\",\"required\":false},"
               "{\"path\":\"/p/c.env\",\"required\":true}]}",
               NULL,
               "{\"env_file\":[{\"path\":\"/p/a.env\",\"required\":false},"
               "{\"path\":\"/p/b.env\",\"required\":true},"
               "{\"path\":\"/p/c.env\",\"required\":true}]}");
}

TEST(compose_merge_unique_strings_first_place_kept) {
    ASSERT_WEB("{\"dns\":[\"1.1.1.1\",\"8.8.8.8\"],\"cap_add\":[\"NET_ADMIN\"],"
               "\"expose\":[\"80\"],\"extra_hosts\":[\"a:1.2.3.4\"],\"profiles\":[\"dev\"]}",
               "{\"dns\":[\"9.9.9.9\",\"1.1.1.1\"],\"cap_add\":[\"SYS_TIME\",\"NET_ADMIN\"],"
               "\"expose\":[\"80\",\"81\"],\"extra_hosts\":[\"a:1.2.3.4\"],"
               "\"profiles\":[\"dev\",\"debug\"]}",
               NULL,
               "{\"dns\":[\"1.1.1.1\",\"8.8.8.8\",\"9.9.9.9\"],"
               "\"cap_add\":[\"NET_ADMIN\",\"SYS_TIME\"],\"expose\":[\"80\",\"81\"],"
               "\"extra_hosts\":[\"a:1.2.3.4\"],\"profiles\":[\"dev\",\"debug\"]}");
}

TEST(compose_merge_environment_labels_by_key) {
    ASSERT_WEB("{\"environment\":{\"A\":\"1\",\"B\":\"2\",\"C\":\"3\"},"
               "\"labels\":{\"com.example.tier\":\"web\",\"x\":\"\"},"
               "\"annotations\":{\"a\":\"1\"}}",
               "{\"environment\":{\"B\":\"two\",\"C\":null,\"D\":\"4\"},"
               "\"labels\":{\"com.example.tier\":\"front\"},\"annotations\":{\"b\":\"2\"}}",
               NULL,
               "{\"environment\":{\"A\":\"1\",\"B\":\"two\",\"C\":null,\"D\":\"4\"},"
               "\"labels\":{\"com.example.tier\":\"front\",\"x\":\"\"},"
               "\"annotations\":{\"a\":\"1\",\"b\":\"2\"}}");
}

TEST(compose_merge_build_args_labels_by_key) {
    ASSERT_WEB("{\"build\":{\"context\":\"/p\",\"args\":{\"V\":\"1\",\"W\":\"x\"},"
               "\"labels\":{\"l\":\"a\"},\"cache_from\":[\"a\"]}}",
               "{\"build\":{\"args\":{\"V\":\"2\",\"N\":null},\"labels\":{\"m\":\"b\"},"
               "\"cache_from\":[\"b\"]}}",
               NULL,
               "{\"build\":{\"context\":\"/p\",\"args\":{\"V\":\"2\",\"W\":\"x\",\"N\":null},"
               "\"labels\":{\"l\":\"a\",\"m\":\"b\"},\"cache_from\":[\"a\",\"b\"]}}");
}

TEST(compose_merge_depends_on_networks_ulimits_by_key) {
    ASSERT_WEB(
        "{\"depends_on\":{\"db\":{\"condition\":\"service_started\",\"required\":true,"
        "\"restart\":false}},\"networks\":{\"front\":{\"aliases\":[\"w\"]},\"back\":null},"
        "\"ulimits\":{\"nofile\":{\"soft\":10,\"hard\":20}}}",
        "{\"depends_on\":{\"db\":{\"condition\":\"service_healthy\",\"required\":true,"
        "\"restart\":true},\"cache\":{\"condition\":\"service_started\",\"required\":false,"
        "\"restart\":false}},\"networks\":{\"front\":null,\"back\":{\"priority\":1}},"
        "\"ulimits\":{\"nofile\":{\"soft\":30,\"hard\":40},\"nproc\":{\"soft\":1,\"hard\":1}}}",
        NULL,
        "{\"depends_on\":{\"db\":{\"condition\":\"service_healthy\",\"required\":true,"
        "\"restart\":true},\"cache\":{\"condition\":\"service_started\",\"required\":false,"
        "\"restart\":false}},\"networks\":{\"front\":{\"aliases\":[\"w\"]},"
        "\"back\":{\"priority\":1}},"
        "\"ulimits\":{\"nofile\":{\"soft\":30,\"hard\":40},\"nproc\":{\"soft\":1,\"hard\":1}}}");
}

TEST(compose_merge_sysctls_list_or_map) {
    ASSERT_WEB("{\"sysctls\":[\"a=1\",\"b=2\"]}", "{\"sysctls\":[\"b=3\",\"c=4\"]}", NULL,
               "{\"sysctls\":[\"a=1\",\"b=3\",\"c=4\"]}");
    ASSERT_WEB("{\"sysctls\":[\"a=1\",\"b=2\"]}", "{\"sysctls\":{\"b\":3}}", NULL,
               "{\"sysctls\":{\"a\":\"1\",\"b\":3}}");
    ASSERT_WEB("{\"sysctls\":{\"a\":1}}", "{\"sysctls\":[\"a=5\"]}", NULL,
               "{\"sysctls\":{\"a\":\"5\"}}");
}

TEST(compose_merge_logging_by_driver) {
    ASSERT_WEB("{\"logging\":{\"driver\":\"json-file\",\"options\":{\"max-size\":\"1m\"}}}",
               "{\"logging\":{\"options\":{\"max-file\":\"3\"}}}", NULL,
               "{\"logging\":{\"driver\":\"json-file\",\"options\":{\"max-size\":\"1m\","
               "\"max-file\":\"3\"}}}");
    ASSERT_WEB("{\"logging\":{\"driver\":\"json-file\",\"options\":{\"max-size\":\"1m\"}}}",
               "{\"logging\":{\"driver\":\"syslog\",\"options\":{\"tag\":\"t\"}}}", NULL,
               "{\"logging\":{\"driver\":\"syslog\",\"options\":{\"tag\":\"t\"}}}");
}

TEST(compose_merge_null_is_no_change) {
    ASSERT_WEB(
        "{\"image\":\"nginx\",\"ports\":[" PORT(
            80, 80,
            "") "],\"environment\":{\"A\":\"1\"},"
                "\"networks\":{\"n\":null},\"dns\":[\"1.1.1.1\"],\"build\":{\"context\":\"/p\"}}",
        "{\"image\":null,\"ports\":null,\"environment\":null,\"networks\":null,"
        "\"dns\":null,\"build\":null,\"hostname\":null}",
        NULL,
        "{\"image\":\"nginx\",\"ports\":[" PORT(
            80, 80,
            "") "],\"environment\":{\"A\":\"1\"},"
                "\"networks\":{\"n\":null},\"dns\":[\"1.1.1.1\"],\"build\":{\"context\":\"/p\"},"
                "\"hostname\":null}");
}

TEST(compose_merge_null_replaces_command) {
    ASSERT_WEB("{\"command\":[\"a\"],\"entrypoint\":[\"b\"],\"healthcheck\":{\"test\":[\"CMD\","
               "\"x\"]}}",
               "{\"command\":null,\"entrypoint\":null,\"healthcheck\":{\"test\":null}}", NULL,
               "{\"command\":null,\"entrypoint\":null,\"healthcheck\":{\"test\":null}}");
}

TEST(compose_merge_null_base_takes_override) {
    ASSERT_WEB(
        "{\"networks\":null,\"depends_on\":null,\"ports\":null}",
        "{\"networks\":{\"n\":null},\"ports\":[" PORT(
            80, 80,
            "") "],"
                "\"depends_on\":{\"db\":{\"condition\":\"service_started\",\"required\":true,"
                "\"restart\":false}}}",
        NULL,
        "{\"networks\":{\"n\":null},\"ports\":[" PORT(
            80, 80,
            "") "],"
                "\"depends_on\":{\"db\":{\"condition\":\"service_started\",\"required\":true,"
                "\"restart\":false}}}");
}

/* ---- tags ---- */

TEST(compose_merge_reset_scalar) {
    static const fake_tag tags[] = {{"services.web.image", WB_YAML_RESET}, {NULL, 0}};
    ASSERT_WEB("{\"image\":\"nginx\",\"user\":\"1\"}", "{\"image\":null}", tags,
               "{\"user\":\"1\"}");
}

TEST(compose_merge_reset_list) {
    static const fake_tag tags[] = {{"services.web.ports", WB_YAML_RESET}, {NULL, 0}};
    ASSERT_WEB("{\"image\":\"a\",\"ports\":[" PORT(8080, 80, "") "]}", "{\"ports\":[]}", tags,
               "{\"image\":\"a\"}");
}

TEST(compose_merge_reset_map_key) {
    static const fake_tag tags[] = {
        {"services.web.environment.FOO", WB_YAML_RESET},
        {"services.web.environment.NEW", WB_YAML_RESET},
        {"services.web.labels.com.example.tier", WB_YAML_RESET},
        {"services.web.build.target", WB_YAML_RESET},
        {NULL, 0},
    };
    ASSERT_WEB("{\"environment\":{\"FOO\":\"BAR\",\"K\":\"V\"},"
               "\"labels\":{\"com.example.tier\":\"web\",\"keep\":\"1\"},"
               "\"build\":{\"context\":\"/p\",\"target\":\"dev\"}}",
               "{\"environment\":{\"FOO\":null,\"NEW\":\"x\"},"
               "\"labels\":{\"com.example.tier\":\"\"},\"build\":{\"target\":\"x\"}}",
               tags,
               "{\"environment\":{\"K\":\"V\"},\"labels\":{\"keep\":\"1\"},"
               "\"build\":{\"context\":\"/p\"}}");
}

TEST(compose_merge_reset_inside_new_values) {
    /* a service only the override has, and a list item of it, still drop their !reset parts */
    static const fake_tag tags[] = {
        {"services.api.environment.SECRET", WB_YAML_RESET},
        {"services.api.dns[1]", WB_YAML_RESET},
        {"services.web.ports[0]", WB_YAML_RESET},
        {NULL, 0},
    };
    json_t *m = MERGED("{\"services\":{\"web\":{\"ports\":[" PORT(80, 80, "") "]}}}",
                       "{\"services\":{\"web\":{\"ports\":[" PORT(81, 81, "") "," PORT(
                           82, 82, "") "]},\"api\":{\"environment\":{\"SECRET\":\"s\",\"A\":\"1\"},"
                                       "\"dns\":[\"a\",\"b\",\"c\"]}}}",
                       tags);
    ASSERT_JSON(m,
                "{\"services\":{\"web\":{\"ports\":[" PORT(80, 80, "") "," PORT(
                    82, 82, "") "]},"
                                "\"api\":{\"environment\":{\"A\":\"1\"},\"dns\":[\"a\",\"c\"]}}}");
    json_decref(m);
}

TEST(compose_merge_override_map) {
    static const fake_tag tags[] = {{"services.web.environment", WB_YAML_OVERRIDE}, {NULL, 0}};
    ASSERT_WEB("{\"environment\":{\"A\":\"1\",\"B\":\"2\"}}", "{\"environment\":{\"C\":\"3\"}}",
               tags, "{\"environment\":{\"C\":\"3\"}}");
}

TEST(compose_merge_override_list) {
    static const fake_tag tags[] = {{"services.web.ports", WB_YAML_OVERRIDE}, {NULL, 0}};
    ASSERT_WEB("{\"ports\":[" PORT(80, 8080, "") "]}", "{\"ports\":[" PORT(443, 8443, "") "]}",
               tags, "{\"ports\":[" PORT(443, 8443, "") "]}");
}

TEST(compose_merge_override_service) {
    static const fake_tag tags[] = {{"services.web", WB_YAML_OVERRIDE}, {NULL, 0}};
    ASSERT_WEB("{\"image\":\"a\",\"user\":\"1\"}", "{\"image\":\"b\"}", tags, "{\"image\":\"b\"}");
}

TEST(compose_merge_top_level_maps) {
    json_t *m = MERGED(
        "{\"services\":{},\"networks\":{\"front\":{\"driver\":\"bridge\",\"labels\":{\"a\":\"1\"}},"
        "\"back\":{}},\"volumes\":{\"data\":{\"driver\":\"local\"}},"
        "\"secrets\":{\"s\":{\"file\":\"/p/s\"}},\"x-common\":{\"a\":1}}",
        "{\"networks\":{\"front\":{\"internal\":true,\"labels\":{\"b\":\"2\"}},"
        "\"extra\":{\"external\":true}},\"volumes\":{\"data\":{\"name\":\"d\"},\"cache\":{}},"
        "\"configs\":{\"c\":{\"content\":\"x\"}},\"x-common\":{\"b\":2}}",
        NULL);
    ASSERT_JSON(m,
                "{\"services\":{},\"networks\":{\"front\":{\"driver\":\"bridge\","
                "\"labels\":{\"a\":\"1\",\"b\":\"2\"},\"internal\":true},\"back\":{},"
                "\"extra\":{\"external\":true}},"
                "\"volumes\":{\"data\":{\"driver\":\"local\",\"name\":\"d\"},\"cache\":{}},"
                "\"secrets\":{\"s\":{\"file\":\"/p/s\"}},\"configs\":{\"c\":{\"content\":\"x\"}},"
                "\"x-common\":{\"a\":1,\"b\":2}}");
    json_decref(m);
}

TEST(compose_merge_shape_mismatch_error) {
    json_t *base = parse_at(__FILE__, __LINE__, "{\"services\":{\"web\":{\"ports\":[]}}}");
    json_t *over = parse_at(__FILE__, __LINE__, "{\"services\":{\"web\":{\"ports\":{}}}}");
    wb_error err = {0};
    ASSERT_EQ(wb_compose_merge(base, over, NULL, NULL, &err), -1);
    ASSERT_STR_EQ(err.msg, "cannot merge services.web.ports: a mapping over a sequence");
    json_decref(over);
    json_t *list = parse_at(__FILE__, __LINE__, "[]");
    ASSERT_EQ(wb_compose_merge(base, list, NULL, NULL, &err), -1);
    json_decref(list);
    json_decref(base);
}

TEST(compose_merge_over_not_changed) {
    /* everything taken from `over` is a copy: changing the result leaves `over` as it was */
    json_t *base = parse_at(__FILE__, __LINE__, "{\"services\":{}}");
    json_t *over =
        parse_at(__FILE__, __LINE__,
                 "{\"services\":{\"web\":{\"environment\":{\"A\":\"1\"},\"dns\":[\"x\"]}},"
                 "\"networks\":{\"n\":{}}}");
    char *before = dump(over);
    wb_error err = {0};
    ASSERT_EQ(wb_compose_merge(base, over, NULL, NULL, &err), 0);
    json_t *web = json_object_get(json_object_get(base, "services"), "web");
    json_object_set_new(json_object_get(web, "environment"), "B", json_string("2"));
    json_array_append_new(json_object_get(web, "dns"), json_string("y"));
    char *after = dump(over);
    ASSERT_STR_EQ(after, before);
    free(before);
    free(after);
    json_decref(base);
    json_decref(over);
}

/* ---- extends ---- */

/* The loader's fake: files by absolute path, parsed on first use and kept (as a cache would). */
typedef struct fake_file {
    const char *path, *text;
    json_t *model;
    int loads;
} fake_file;

static json_t *fake_load(void *ctx, const char *path, wb_error *err) {
    for (fake_file *f = ctx; f->path; f++) {
        if (strcmp(f->path, path) != 0) continue;
        if (!f->model) f->model = json_loads(f->text, 0, NULL);
        f->loads++;
        return json_incref(f->model);
    }
    wb_error_set(err, ENOENT, "open `%s`: No such file or directory", path);
    return NULL;
}

/* Each loaded model is still its text; frees them. */
static void fake_files_check_at(const char *file, int line, fake_file *files) {
    for (fake_file *f = files; f->path; f++) {
        if (!f->model) continue;
        assert_json_at(file, line, f->model, f->text);
        json_decref(f->model);
        f->model = NULL;
    }
}
#define FAKE_FILES_CHECK(files) fake_files_check_at(__FILE__, __LINE__, files)

static json_t *extended_at(const char *file, int line, const char *text, fake_file *files) {
    json_t *model = parse_at(file, line, text);
    wb_error err = {0};
    if (wb_compose_extends(model, "/p/compose.yaml", files ? fake_load : NULL, files, &err) < 0)
        wb_test_fail(file, line, "extends failed: %s", err.msg);
    if (files) fake_files_check_at(file, line, files);
    return model;
}
#define EXTENDED(text, files) extended_at(__FILE__, __LINE__, text, files)

static const char *extends_err_at(const char *file, int line, const char *text, fake_file *files) {
    static wb_error err;
    memset(&err, 0, sizeof err);
    json_t *model = parse_at(file, line, text);
    if (wb_compose_extends(model, "/p/compose.yaml", files ? fake_load : NULL, files, &err) == 0)
        wb_test_fail(file, line, "extends succeeded, expected an error");
    json_decref(model);
    if (files) fake_files_check_at(file, line, files);
    return err.msg;
}
#define EXTENDS_ERR(text, files) extends_err_at(__FILE__, __LINE__, text, files)

TEST(compose_extends_same_file) {
    json_t *m =
        EXTENDED("{\"services\":{"
                 "\"base\":{\"image\":\"nginx\",\"environment\":{\"A\":\"1\"},"
                 "\"depends_on\":{\"db\":{\"condition\":\"service_started\","
                 "\"required\":true,\"restart\":false}}},"
                 "\"web\":{\"extends\":{\"service\":\"base\"},\"environment\":{\"B\":\"2\"}},"
                 "\"db\":{\"image\":\"pg\"}}}",
                 NULL);
    ASSERT_JSON(m, "{\"services\":{"
                   "\"base\":{\"image\":\"nginx\",\"environment\":{\"A\":\"1\"},"
                   "\"depends_on\":{\"db\":{\"condition\":\"service_started\","
                   "\"required\":true,\"restart\":false}}},"
                   "\"web\":{\"image\":\"nginx\",\"environment\":{\"A\":\"1\",\"B\":\"2\"},"
                   "\"depends_on\":{\"db\":{\"condition\":\"service_started\","
                   "\"required\":true,\"restart\":false}}},"
                   "\"db\":{\"image\":\"pg\"}}}");
    json_decref(m);
}

TEST(compose_extends_other_file) {
    fake_file files[] = {
        {"/p/common/base.yaml",
         "{\"services\":{\"app\":{\"image\":\"busybox\",\"user\":\"1000\","
         "\"volumes\":[{\"type\":\"bind\",\"source\":\"/p/common/data\",\"target\":\"/data\"}]}}}",
         NULL, 0},
        {NULL, NULL, NULL, 0},
    };
    json_t *m =
        EXTENDED("{\"services\":{\"web\":{\"extends\":{\"service\":\"app\","
                 "\"file\":\"./common/../common/base.yaml\"},\"user\":\"root\"},"
                 "\"api\":{\"extends\":{\"service\":\"app\",\"file\":\"common/base.yaml\"}}}}",
                 files);
    ASSERT_JSON(m, "{\"services\":{\"web\":{\"image\":\"busybox\",\"user\":\"root\","
                   "\"volumes\":[{\"type\":\"bind\",\"source\":\"/p/common/data\","
                   "\"target\":\"/data\"}]},"
                   "\"api\":{\"image\":\"busybox\",\"user\":\"1000\","
                   "\"volumes\":[{\"type\":\"bind\",\"source\":\"/p/common/data\","
                   "\"target\":\"/data\"}]}}}");
    ASSERT_EQ(files[0].loads, 2); /* one path for both spellings */
    json_decref(m);
}

TEST(compose_extends_chained) {
    /* web → mid (same file) → other.yaml's base → other.yaml's root, whose relative file starts
     * from other.yaml's directory */
    fake_file files[] = {
        {"/p/lib/other.yaml",
         "{\"services\":{\"base\":{\"extends\":{\"service\":\"root\",\"file\":\"root.yaml\"},"
         "\"environment\":{\"LEVEL\":\"base\"}}}}",
         NULL, 0},
        {"/p/lib/root.yaml",
         "{\"services\":{\"root\":{\"image\":\"alpine\",\"environment\":{\"LEVEL\":\"root\","
         "\"ROOT\":\"1\"}}}}",
         NULL, 0},
        {NULL, NULL, NULL, 0},
    };
    json_t *m =
        EXTENDED("{\"services\":{"
                 "\"web\":{\"extends\":{\"service\":\"mid\"},\"environment\":{\"WEB\":\"1\"}},"
                 "\"mid\":{\"extends\":{\"service\":\"base\",\"file\":\"lib/other.yaml\"},"
                 "\"command\":[\"run\"]}}}",
                 files);
    ASSERT_JSON(m,
                "{\"services\":{"
                "\"web\":{\"image\":\"alpine\",\"environment\":{\"LEVEL\":\"base\",\"ROOT\":\"1\","
                "\"WEB\":\"1\"},\"command\":[\"run\"]},"
                "\"mid\":{\"image\":\"alpine\",\"environment\":{\"LEVEL\":\"base\",\"ROOT\":\"1\"},"
                "\"command\":[\"run\"]}}}");
    json_decref(m);
}

TEST(compose_extends_overrides_lists) {
    json_t *m =
        EXTENDED("{\"services\":{"
                 "\"base\":{\"image\":\"a\",\"command\":[\"x\"],\"ports\":[" PORT(
                     80, 8080, "") "],\"dns\":[\"1.1.1.1\"]},"
                                   "\"web\":{\"extends\":\"base\",\"command\":[\"y\",\"z\"],"
                                   "\"ports\":[" PORT(80, 8080, ",\"mode\":\"host\"") "," PORT(
                                       443, 8443, "") "],\"dns\":[\"8.8.8.8\"]}}}",
                 NULL);
    ASSERT_JSON(json_object_get(json_object_get(m, "services"), "web"),
                "{\"image\":\"a\",\"command\":[\"y\",\"z\"],"
                "\"ports\":[" PORT(80, 8080, ",\"mode\":\"host\"") "," PORT(
                    443, 8443, "") "],"
                                   "\"dns\":[\"1.1.1.1\",\"8.8.8.8\"]}");
    json_decref(m);
}

TEST(compose_extends_cycle) {
    ASSERT_STR_EQ(EXTENDS_ERR("{\"services\":{\"a\":{\"extends\":{\"service\":\"b\"}},"
                              "\"b\":{\"extends\":{\"service\":\"a\"}}}}",
                              NULL),
                  "Circular reference: a extends b extends a");
    ASSERT_STR_EQ(EXTENDS_ERR("{\"services\":{\"a\":{\"extends\":{\"service\":\"a\"}}}}", NULL),
                  "Circular reference: a extends a");
    ASSERT_STR_EQ(EXTENDS_ERR("{\"services\":{\"x\":{\"image\":\"i\"},"
                              "\"a\":{\"extends\":{\"service\":\"b\"}},"
                              "\"b\":{\"extends\":{\"service\":\"c\"}},"
                              "\"c\":{\"extends\":{\"service\":\"b\"}}}}",
                              NULL),
                  "Circular reference: a extends b extends c extends b");
}

TEST(compose_extends_cycle_across_files) {
    /* each hop spells the path differently ("./", ".."): cleaned, the cycle is found */
    fake_file files[] = {
        {"/p/sub/other.yaml",
         "{\"services\":{\"b\":{\"extends\":{\"service\":\"a\",\"file\":\"./../compose.yaml\"}}}}",
         NULL, 0},
        {"/p/compose.yaml",
         "{\"services\":{\"a\":{\"extends\":{\"service\":\"b\",\"file\":\"./sub/other.yaml\"}}}}",
         NULL, 0},
        {NULL, NULL, NULL, 0},
    };
    ASSERT_STR_EQ(EXTENDS_ERR("{\"services\":{\"a\":{\"extends\":{\"service\":\"b\","
                              "\"file\":\"./sub/other.yaml\"}}}}",
                              files),
                  "Circular reference: a extends b in /p/sub/other.yaml extends a");
}

TEST(compose_extends_missing_service) {
    ASSERT_STR_EQ(
        EXTENDS_ERR("{\"services\":{\"web\":{\"extends\":{\"service\":\"nope\"}}}}", NULL),
        "cannot extend service \"web\" in /p/compose.yaml: service \"nope\" not found");
    fake_file files[] = {
        {"/p/other.yaml", "{\"services\":{\"app\":{\"image\":\"a\"}}}", NULL, 0},
        {NULL, NULL, NULL, 0},
    };
    ASSERT_STR_EQ(EXTENDS_ERR("{\"services\":{\"web\":{\"extends\":{\"service\":\"nope\","
                              "\"file\":\"other.yaml\"}}}}",
                              files),
                  "cannot extend service \"web\" in /p/other.yaml: service \"nope\" not found");
}

TEST(compose_extends_load_error) {
    fake_file files[] = {{NULL, NULL, NULL, 0}};
    ASSERT_STR_EQ(EXTENDS_ERR("{\"services\":{\"web\":{\"extends\":{\"service\":\"app\","
                              "\"file\":\"/abs/missing.yaml\"}}}}",
                              files),
                  "cannot extend service \"web\" in /p/compose.yaml: open `/abs/missing.yaml`: No "
                  "such file or directory");
}

TEST(compose_extends_no_extends_unchanged) {
    const char *text = "{\"services\":{\"web\":{\"image\":\"a\"}},\"networks\":{}}";
    json_t *m = EXTENDED(text, NULL);
    ASSERT_JSON(m, text);
    json_decref(m);
}

/* ---- profiles ---- */

static const char *const profiles_model =
    "{\"services\":{"
    "\"web\":{\"image\":\"w\"},"
    "\"db\":{\"image\":\"d\",\"profiles\":[\"dev\"]},"
    "\"mock\":{\"image\":\"m\",\"profiles\":[\"dev\"],\"depends_on\":{\"db\":"
    "{\"condition\":\"service_started\",\"required\":true,\"restart\":false}}},"
    "\"debug\":{\"image\":\"g\",\"profiles\":[\"debug\",\"tools\"]},"
    "\"plain\":{\"image\":\"p\",\"profiles\":[]}}}";

/* The services left by wb_compose_profiles, their names joined by ',' (in model order). */
static char *profiles_at(const char *file, int line, const char *text, char *const *active,
                         size_t n_active, char *const *named, size_t n_named) {
    json_t *m = parse_at(file, line, text);
    wb_error err = {0};
    if (wb_compose_profiles(m, active, n_active, named, n_named, &err) < 0)
        wb_test_fail(file, line, "profiles failed: %s", err.msg);
    char *names = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&names, &len);
    const char *name, *sep = "";
    json_t *svc;
    json_object_foreach(json_object_get(m, "services"), name, svc) {
        fprintf(out, "%s%s", sep, name);
        sep = ",";
    }
    fclose(out);
    json_decref(m);
    return names;
}

#define ASSERT_PROFILES(text, active, n_active, named, n_named, want)                              \
    do {                                                                                           \
        char *wb_n_ = profiles_at(__FILE__, __LINE__, text, active, n_active, named, n_named);     \
        ASSERT_STR_EQ(wb_n_, want);                                                                \
        free(wb_n_);                                                                               \
    } while (0)

static char *const none[] = {NULL}; /* used with a count of 0 */

TEST(compose_profiles_none_active) {
    ASSERT_PROFILES(profiles_model, none, 0, none, 0, "web,plain");
}

TEST(compose_profiles_active_enables) {
    char *dev[] = {"dev"};
    ASSERT_PROFILES(profiles_model, dev, 1, none, 0, "web,db,mock,plain");
    char *tools[] = {"other", "tools"};
    ASSERT_PROFILES(profiles_model, tools, 2, none, 0, "web,debug,plain");
}

TEST(compose_profiles_star) {
    char *all[] = {"*"};
    ASSERT_PROFILES(profiles_model, all, 1, none, 0, "web,db,mock,debug,plain");
}

TEST(compose_profiles_named_service_enabled) {
    char *debug[] = {"debug"};
    ASSERT_PROFILES(profiles_model, none, 0, debug, 1, "web,debug,plain");
    /* naming mock activates its profile "dev", which brings its dependency db */
    char *mock[] = {"mock"};
    ASSERT_PROFILES(profiles_model, none, 0, mock, 1, "web,db,mock,plain");
}

TEST(compose_profiles_named_unknown) {
    json_t *m = parse_at(__FILE__, __LINE__, profiles_model);
    char *named[] = {"web", "nope"};
    wb_error err = {0};
    ASSERT_EQ(wb_compose_profiles(m, none, 0, named, 2, &err), -1);
    ASSERT_STR_EQ(err.msg, "no such service: nope");
    json_decref(m);
}

TEST(compose_profiles_depends_on_disabled) {
    json_t *m =
        parse_at(__FILE__, __LINE__,
                 "{\"services\":{\"web\":{\"image\":\"w\",\"depends_on\":{\"db\":"
                 "{\"condition\":\"service_started\",\"required\":true,\"restart\":false}}},"
                 "\"db\":{\"image\":\"d\",\"profiles\":[\"dev\"]}}}");
    wb_error err = {0};
    ASSERT_EQ(wb_compose_profiles(m, none, 0, none, 0, &err), -1);
    ASSERT_STR_EQ(err.msg,
                  "service \"web\" depends on undefined service \"db\": invalid compose project");
    json_decref(m);
}

TEST(compose_profiles_depends_on_not_required_dropped) {
    json_t *m = parse_at(__FILE__, __LINE__,
                         "{\"services\":{\"web\":{\"image\":\"w\",\"depends_on\":{"
                         "\"db\":{\"condition\":\"service_started\",\"required\":false,"
                         "\"restart\":false},"
                         "\"cache\":{\"condition\":\"service_started\",\"required\":true,"
                         "\"restart\":false}}},"
                         "\"db\":{\"image\":\"d\",\"profiles\":[\"dev\"]},"
                         "\"cache\":{\"image\":\"c\"}}}");
    wb_error err = {0};
    ASSERT_EQ(wb_compose_profiles(m, none, 0, none, 0, &err), 0);
    ASSERT_JSON(m, "{\"services\":{\"web\":{\"image\":\"w\",\"depends_on\":{"
                   "\"cache\":{\"condition\":\"service_started\",\"required\":true,"
                   "\"restart\":false}}},\"cache\":{\"image\":\"c\"}}}");
    json_decref(m);
}

TEST(compose_profiles_depends_on_undefined) {
    json_t *m =
        parse_at(__FILE__, __LINE__,
                 "{\"services\":{\"web\":{\"image\":\"w\",\"depends_on\":{\"ghost\":"
                 "{\"condition\":\"service_started\",\"required\":true,\"restart\":false}}}}}");
    wb_error err = {0};
    ASSERT_EQ(wb_compose_profiles(m, none, 0, none, 0, &err), -1);
    ASSERT_STR_EQ(
        err.msg, "service \"web\" depends on undefined service \"ghost\": invalid compose project");
    json_decref(m);
}
