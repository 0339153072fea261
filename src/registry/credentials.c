/* Credentials: login checks them against the registry and keeps them in Docker's `auths` layout
 * ($REGISTRY_AUTH_FILE, else ~/.config/wasmbox/auth.json, mode 0600); lookups fall back to
 * Docker's config.json. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/base64.h"
#include "base/fsutil.h"
#include "registry/client.h"

#define AUTH_FILE_MAX ((size_t)1 << 20)

/* ---- names ---- */

void wb_registry_host(const char *arg, char *buf, size_t size) {
    const char *p = arg ? arg : "";
    if (!strncasecmp(p, "https://", 8))
        p += 8;
    else if (!strncasecmp(p, "http://", 7))
        p += 7;
    size_t n = strcspn(p, "/");
    char host[256];
    snprintf(host, sizeof host, "%.*s", (int)n, p);
    for (char *c = host; *c; c++)
        if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
    if (!host[0] || !strcmp(host, "index.docker.io") || !strcmp(host, "registry-1.docker.io"))
        snprintf(host, sizeof host, "docker.io");
    snprintf(buf, size, "%s", host);
}

static const char *home_dir(char *buf, size_t size) {
    if (!wb_home_dir(buf, size)) snprintf(buf, size, "/");
    return buf;
}

static int auth_file(char *buf, size_t size, wb_error *err) {
    char home[4096];
    const char *env = getenv("REGISTRY_AUTH_FILE");
    if (env && *env) return wb_path_join(buf, size, err, "%s", env);
    return wb_path_join(buf, size, err, "%s/.config/wasmbox/auth.json",
                        home_dir(home, sizeof home));
}

/* ("" when the path does not fit: nothing is read or written there) */
void wb_registry_auth_file(char *buf, size_t size) {
    if (auth_file(buf, size, NULL) < 0 && size) buf[0] = '\0';
}

static int docker_config_file(char *buf, size_t size, wb_error *err) {
    char home[4096];
    const char *env = getenv("DOCKER_CONFIG");
    if (env && *env) return wb_path_join(buf, size, err, "%s/config.json", env);
    return wb_path_join(buf, size, err, "%s/.docker/config.json", home_dir(home, sizeof home));
}

/* ---- the file ---- */

/* Read an auth file: NULL with *missing when it does not exist. */
static json_t *read_auth(const char *path, bool *missing, wb_error *err) {
    uint8_t *data;
    size_t len;
    *missing = false;
    if (wb_read_file(path, AUTH_FILE_MAX, &data, &len, err) < 0) {
        if (err && err->code == ENOENT) *missing = true;
        return NULL;
    }
    json_error_t jerr;
    json_t *doc = len ? json_loadb((const char *)data, len, 0, &jerr) : json_object();
    free(data);
    if (!json_is_object(doc)) {
        json_decref(doc);
        wb_error_set(err, EINVAL, "credentials file `%s` is not valid JSON: %s", path,
                     len ? jerr.text : "");
        return NULL;
    }
    return doc;
}

/* Look host up in doc's auths. 1 found, 0 not. */
static int find_auth(json_t *doc, const char *host, char **user, char **password) {
    json_t *auths = json_object_get(doc, "auths");
    const char *key;
    json_t *v;
    json_object_foreach(auths, key, v) {
        char k[256];
        wb_registry_host(key, k, sizeof k);
        if (strcmp(k, host) != 0) continue;
        const char *a = json_string_value(json_object_get(v, "auth"));
        if (!a) continue;
        size_t n;
        char *pair = (char *)wb_base64_decode(a, &n);
        if (!pair) continue;
        char *colon = strchr(pair, ':');
        if (!colon || strlen(pair) != n) {
            free(pair);
            continue;
        }
        *colon = '\0';
        *user = wb_strdup(pair);
        *password = wb_strdup(colon + 1);
        explicit_bzero(pair, n);
        free(pair);
        return 1;
    }
    return 0;
}

int wb_registry_credentials(const char *host, char **user, char **password, wb_error *err) {
    char path[4096];
    *user = *password = NULL;
    const char *files[2];
    char docker[4096];
    if (auth_file(path, sizeof path, err) < 0 || docker_config_file(docker, sizeof docker, err) < 0)
        return -1;
    files[0] = path;
    files[1] = docker;
    for (int i = 0; i < 2; i++) {
        bool missing;
        json_t *doc = read_auth(files[i], &missing, err);
        if (!doc) {
            if (missing) continue;
            return -1;
        }
        int found = find_auth(doc, host, user, password);
        json_decref(doc);
        if (found) return 1;
    }
    return 0;
}

static int write_auth(const char *path, json_t *doc, wb_error *err) {
    char dir[4096];
    if (wb_path_join(dir, sizeof dir, err, "%s", path) < 0) return -1;
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (wb_mkdir_p(dir, 0700, err) < 0) return -1;
    }
    char *text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
    if (!text) return wb_error_set(err, ENOMEM, "serialise the credentials");
    int rc = wb_write_file_atomic(path, text, strlen(text), 0600, true, err);
    explicit_bzero(text, strlen(text));
    free(text);
    return rc;
}

/* ---- login / logout ---- */

static int verify_login(const char *host, const char *user, const char *password,
                        const wb_registry_opts *o, wb_error *err) {
    wb__reg_client *c;
    if (wb__reg_new(host, o, &c, err) < 0) return -1;
    wb__reg_set_credentials(c, user, password);
    wb__reg_resp r;
    int rc = wb__reg_ping(c, &r, err);
    if (rc == 0 && r.status == 401 && r.www_authenticate[0]) {
        char challenge[sizeof r.www_authenticate];
        snprintf(challenge, sizeof challenge, "%s", r.www_authenticate);
        wb__reg_resp_release(&r);
        /* Basic is checked by asking /v2/ again; a token service refuses wrong credentials */
        rc = wb__reg_authenticate(c, challenge, err) < 0 ? -1 : 0;
        if (rc == 0) {
            rc = wb__reg_request(c, "GET", "/v2/", NULL, NULL, WB__REG_ERROR_BODY_MAX, &r, err);
            if (rc == 0 && (r.status == 401 || r.status == 403))
                rc = wb_error_set(err, WB_REG_EUNAUTHORIZED,
                                  "%s: unauthorized: incorrect username or password", host);
            else if (rc == 0 && r.status != 200)
                rc = wb__reg_fail(c, &r, "login", err);
        }
    } else if (rc == 0 && r.status != 200) {
        rc = wb_error_set(err, WB_REG_EPROTOCOL,
                          "%s does not answer as a registry (GET /v2/: HTTP %ld)", host, r.status);
    }
    wb__reg_resp_release(&r);
    wb__reg_close(c);
    return rc;
}

int wb_registry_login(const char *host, const char *user, const char *password,
                      const wb_registry_opts *o, wb_error *err) {
    if (!user || !*user) return wb_error_set(err, EINVAL, "a username is required");
    if (strchr(user, ':')) return wb_error_set(err, EINVAL, "a username cannot contain ':'");
    if (!password || !*password) return wb_error_set(err, EINVAL, "a password is required");
    if (verify_login(host, user, password, o, err) < 0) return -1;

    char path[4096];
    if (auth_file(path, sizeof path, err) < 0) return -1;
    bool missing;
    json_t *doc = read_auth(path, &missing, err);
    if (!doc && !missing) return -1;
    if (!doc) doc = json_object();
    json_t *auths = json_object_get(doc, "auths");
    if (!json_is_object(auths)) {
        auths = json_object();
        json_object_set_new(doc, "auths", auths);
    }
    /* one entry per registry: drop other spellings of the same host */
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(auths, tmp, key, v) {
        char k[256];
        wb_registry_host(key, k, sizeof k);
        if (!strcmp(k, host)) json_object_del(auths, key);
    }
    size_t n = strlen(user) + strlen(password) + 2;
    char *pair = wb_malloc(n);
    snprintf(pair, n, "%s:%s", user, password);
    char *enc = wb_base64_encode((const uint8_t *)pair, n - 1);
    explicit_bzero(pair, n);
    free(pair);
    json_object_set_new(auths, host, json_pack("{s:s}", "auth", enc));
    free(enc);
    int rc = write_auth(path, doc, err);
    json_decref(doc);
    return rc;
}

int wb_registry_logout(const char *host, bool *found, wb_error *err) {
    char path[4096];
    *found = false;
    if (auth_file(path, sizeof path, err) < 0) return -1;
    bool missing;
    json_t *doc = read_auth(path, &missing, err);
    if (!doc) return missing ? 0 : -1;
    json_t *auths = json_object_get(doc, "auths");
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(auths, tmp, key, v) {
        char k[256];
        wb_registry_host(key, k, sizeof k);
        if (!strcmp(k, host)) {
            json_object_del(auths, key);
            *found = true;
        }
    }
    int rc = *found ? write_auth(path, doc, err) : 0;
    json_decref(doc);
    return rc;
}
