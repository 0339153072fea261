/* The HTTP client for one registry: requests with libcurl, the /v2/ ping, the auth challenge
 * (Bearer token services with realm/service/scope, Basic), and the registry's error bodies turned
 * into messages a user can act on. Registries on the loopback speak plain HTTP, as with Docker. */
#include "registry/client.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/base64.h"

/* ---- helpers ---- */

bool wb__reg_is_loopback(const char *host) {
    char h[256];
    if (host[0] == '[') {
        const char *e = strchr(host, ']');
        if (!e) return false;
        snprintf(h, sizeof h, "%.*s", (int)(e - host - 1), host + 1);
        return !strcmp(h, "::1");
    }
    snprintf(h, sizeof h, "%s", host);
    char *colon = strchr(h, ':');
    if (colon) *colon = '\0';
    if (!strcasecmp(h, "localhost")) return true;
    /* 127.0.0.0/8 as a dotted quad */
    unsigned a, b, c, d;
    char tail;
    return sscanf(h, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 && b < 256 &&
           c < 256 && d < 256;
}

/* "host:port" of a URL, the port filled in from the scheme when absent (for messages). */
void wb__url_hostport(const char *url, char *buf, size_t size) {
    const char *p = strstr(url, "://");
    bool tls = !strncmp(url, "https", 5);
    p = p ? p + 3 : url;
    size_t n = strcspn(p, "/?#");
    const char *at = memchr(p, '@', n); /* no user info in what we print */
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    const char *close = memchr(p, ']', n);
    const char *colon = memchr(close ? close : p, ':', n - (size_t)((close ? close : p) - p));
    if (colon)
        snprintf(buf, size, "%.*s", (int)n, p);
    else
        snprintf(buf, size, "%.*s:%s", (int)n, p, tls ? "443" : "80");
}

static bool host_listed(const char *host, const wb_registry_opts *o) {
    for (size_t i = 0; i < o->ninsecure; i++)
        if (o->insecure[i] && !strcasecmp(o->insecure[i], host)) return true;
    return false;
}

void wb__reg_resp_release(wb__reg_resp *r) {
    free(r->body);
    memset(r, 0, sizeof *r);
}

static void resp_reset(wb__reg_resp *r, size_t limit) {
    free(r->body);
    memset(r, 0, sizeof *r);
    r->limit = limit;
    r->content_length = -1;
}

/* Copy a header value (trimmed) if the line is `name: value`. */
static bool header_value(const char *line, size_t len, const char *name, char *out, size_t size) {
    size_t nl = strlen(name);
    if (len <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0) return false;
    const char *v = line + nl + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
    size_t n = (size_t)(end - v);
    if (n >= size) n = size - 1;
    memcpy(out, v, n);
    out[n] = '\0';
    return true;
}

size_t wb__reg_on_header(char *buf, size_t size, size_t nitems, void *userdata) {
    wb__reg_resp *r = userdata;
    size_t len = size * nitems;
    char num[32];
    if (len >= 5 && !strncmp(buf, "HTTP/", 5)) {
        /* a new response (after a redirect or an interim 100): forget the previous headers */
        r->content_type[0] = r->digest[0] = r->location[0] = r->www_authenticate[0] = '\0';
        r->link[0] = r->range[0] = '\0';
        r->content_length = -1;
        return len;
    }
    if (header_value(buf, len, "Content-Type", r->content_type, sizeof r->content_type)) {
        r->content_type[strcspn(r->content_type, "; ")] = '\0';
    } else if (header_value(buf, len, "Docker-Content-Digest", r->digest, sizeof r->digest) ||
               header_value(buf, len, "Location", r->location, sizeof r->location) ||
               header_value(buf, len, "Link", r->link, sizeof r->link) ||
               header_value(buf, len, "Range", r->range, sizeof r->range)) {
    } else if (header_value(buf, len, "WWW-Authenticate", r->www_authenticate,
                            sizeof r->www_authenticate)) {
    } else if (header_value(buf, len, "Content-Length", num, sizeof num)) {
        char *end;
        long long v = strtoll(num, &end, 10);
        r->content_length = (*end || v < 0) ? -1 : v;
    }
    return len;
}

static size_t on_body(char *buf, size_t size, size_t nitems, void *userdata) {
    wb__reg_resp *r = userdata;
    size_t len = size * nitems;
    size_t room = r->limit - r->len;
    size_t take = len < room ? len : room;
    if (take) {
        r->body = wb_realloc(r->body, r->len + take + 1);
        memcpy(r->body + r->len, buf, take);
        r->len += take;
        r->body[r->len] = '\0';
    }
    if (take < len) {
        r->over_limit = true;
        return 0; /* stop reading: we will not keep more */
    }
    return len;
}

typedef struct upload {
    const wb__reg_body *body;
    uint64_t sent;
} upload;

static size_t body_total(const wb__reg_body *b) {
    return b->fd >= 0 ? b->size : b->len;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *userdata) {
    upload *u = userdata;
    const wb__reg_body *b = u->body;
    uint64_t left = body_total(b) - u->sent;
    size_t want = size * nitems;
    size_t n = want < left ? want : (size_t)left;
    if (!n) return 0;
    if (b->fd >= 0) {
        ssize_t got = pread(b->fd, buf, n, (off_t)(b->offset + u->sent));
        if (got <= 0) return CURL_READFUNC_ABORT;
        n = (size_t)got;
    } else {
        memcpy(buf, b->data + u->sent, n);
    }
    u->sent += n;
    if (b->progress) b->progress(b->ctx, u->sent);
    return n;
}

static int on_seek(void *userdata, curl_off_t offset, int origin) {
    upload *u = userdata;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > body_total(u->body))
        return CURL_SEEKFUNC_CANTSEEK;
    u->sent = (uint64_t)offset;
    return CURL_SEEKFUNC_OK;
}

/* ---- the client ---- */

struct wb__reg_client {
    const wb_libcurl *curl;
    CURL *easy;
    const wb_registry_opts *opts;
    char domain[256]; /* as in references */
    char path[256];
    char base[300]; /* "http://127.0.0.1:5000" */
    bool verify;    /* check TLS certificates */
    bool fall_back; /* insecure: plain HTTP when TLS fails */
    char *user, *password;
    char scopes[4096];   /* space-separated */
    char *authorization; /* "Authorization: …" or NULL */
};

const char *wb__reg_domain(const wb__reg_client *c) {
    return c->domain;
}
const char *wb__reg_path(const wb__reg_client *c) {
    return c->path;
}
const char *wb__reg_base(const wb__reg_client *c) {
    return c->base;
}
const char *wb__reg_authorization(const wb__reg_client *c) {
    return c->authorization;
}
const wb_libcurl *wb__reg_curl(const wb__reg_client *c) {
    return c->curl;
}

void wb__reg_common_opts(const wb__reg_client *c, CURL *h, char *errbuf) {
    const wb_libcurl *cu = c->curl;
    cu->curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    cu->curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    cu->curl_easy_setopt(h, CURLOPT_USERAGENT, "wasmbox");
    cu->curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
    /* a registry that stops sending for two minutes is gone */
    cu->curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    cu->curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 120L);
    cu->curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->verify ? 1L : 0L);
    cu->curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->verify ? 2L : 0L);
    cu->curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    cu->curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    errbuf[0] = '\0';
}

void wb__reg_url(const wb__reg_client *c, const char *target, char *buf, size_t size) {
    if (!strncmp(target, "http://", 7) || !strncmp(target, "https://", 8))
        snprintf(buf, size, "%s", target);
    else
        snprintf(buf, size, "%s%s", c->base, target);
}

/* Did this transfer fail for want of a TLS peer (so that an insecure registry may be tried over
 * plain HTTP)? */
static bool tls_failure(CURLcode rc) {
    return rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
           rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING;
}

int wb__reg_transport_error(const wb__reg_client *c, CURLcode rc, const char *url,
                            const char *errbuf, wb_error *err) {
    char hp[300], base[300], where[340];
    wb__url_hostport(url, hp, sizeof hp);
    wb__url_hostport(c->base, base, sizeof base);
    /* the registry itself, or another host (its token service, a redirect's target) */
    snprintf(where, sizeof where, "%s%s", strcmp(hp, base) ? "" : "the registry at ", hp);
    const char *why = errbuf && errbuf[0] ? errbuf : c->curl->curl_easy_strerror(rc);
    bool tls = rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR;
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
        return wb_error_set(err, WB_REG_EUNREACHABLE, "cannot reach %s: %s%s", where, why,
                            tls ? " (a registry without a valid certificate needs "
                                  "--tls-verify=false or --insecure-registry)"
                                : "");
    default: return wb_error_set(err, WB_REG_EUNREACHABLE, "connection to %s failed: %s", hp, why);
    }
}

/* Perform one request without auth handling. */
static int perform(wb__reg_client *c, const char *method, const char *target,
                   const char *const *extra, const wb__reg_body *body, wb__reg_resp *r,
                   wb_error *err) {
    const wb_libcurl *cu = c->curl;
    CURL *h = c->easy;
    char url[8192], errbuf[CURL_ERROR_SIZE];
    struct curl_slist *hdrs = NULL;
    static const wb__reg_body empty = {.fd = -1};
    upload up = {.body = body ? body : &empty};
    cu->curl_easy_reset(h);
    wb__reg_url(c, target, url, sizeof url);
    wb__reg_common_opts(c, h, errbuf);
    cu->curl_easy_setopt(h, CURLOPT_URL, url);
    cu->curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, wb__reg_on_header);
    cu->curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    cu->curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    cu->curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    hdrs = cu->curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trips */
    if (c->authorization) hdrs = cu->curl_slist_append(hdrs, c->authorization);
    for (size_t i = 0; extra && extra[i]; i++) hdrs = cu->curl_slist_append(hdrs, extra[i]);
    if (body) {
        char ct[200];
        snprintf(ct, sizeof ct, "Content-Type: %s",
                 body->content_type ? body->content_type : "application/octet-stream");
        hdrs = cu->curl_slist_append(hdrs, ct);
    }
    cu->curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    cu->curl_easy_setopt(h, CURLOPT_READDATA, &up);
    cu->curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
    cu->curl_easy_setopt(h, CURLOPT_SEEKDATA, &up);
    curl_off_t total = body ? (curl_off_t)body_total(body) : 0;
    if (!strcmp(method, "HEAD")) {
        cu->curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        cu->curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    } else if (!strcmp(method, "GET")) {
        cu->curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    } else if (!strcmp(method, "POST")) {
        cu->curl_easy_setopt(h, CURLOPT_POST, 1L);
        if (!body) cu->curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        cu->curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, total);
    } else if (!strcmp(method, "PUT") || !strcmp(method, "PATCH")) {
        cu->curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        cu->curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, total);
        if (!strcmp(method, "PATCH")) cu->curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PATCH");
    } else {
        cu->curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    cu->curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    cu->curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    CURLcode rc = cu->curl_easy_perform(h);
    cu->curl_slist_free_all(hdrs);
    cu->curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    if (rc == CURLE_WRITE_ERROR && r->over_limit) rc = CURLE_OK;
    if (rc != CURLE_OK) {
        if (c->fall_back && !strncmp(url, "https://", 8) && tls_failure(rc) &&
            !strncmp(c->base, "https://", 8)) {
            /* an insecure registry without TLS: Docker falls back to plain HTTP */
            char plain[300];
            snprintf(plain, sizeof plain, "http://%s", c->base + 8);
            snprintf(c->base, sizeof c->base, "%s", plain);
            c->fall_back = false;
            size_t limit = r->limit;
            resp_reset(r, limit);
            return perform(c, method, target, extra, body, r, err);
        }
        return wb__reg_transport_error(c, rc, url, errbuf, err);
    }
    return 0;
}

/* ---- auth ---- */

/* The value of parameter `key` in a challenge's parameter list (quoted or a token). */
bool wb__reg_challenge_param(const char *params, const char *key, char *out, size_t size) {
    const char *p = params;
    size_t kl = strlen(key);
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t') p++;
        const char *k = p;
        while (*p && *p != '=' && *p != ' ' && *p != ',') p++;
        size_t klen = (size_t)(p - k);
        if (*p != '=') {
            while (*p && *p != ',') p++;
            continue;
        }
        p++;
        size_t n = 0;
        bool match = klen == kl && !strncasecmp(k, key, kl);
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1]) p++;
                if (match && n + 1 < size) out[n++] = *p;
                p++;
            }
            if (*p == '"') p++;
        } else {
            while (*p && *p != ',' && *p != ' ') {
                if (match && n + 1 < size) out[n++] = *p;
                p++;
            }
        }
        if (match) {
            out[n] = '\0';
            return true;
        }
    }
    return false;
}

static void add_scopes(char *scopes, size_t size, const char *more) {
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", more);
    for (char *save = NULL, *s = strtok_r(buf, " ", &save); s; s = strtok_r(NULL, " ", &save)) {
        /* present already? */
        bool found = false;
        size_t sl = strlen(s);
        for (const char *p = scopes; (p = strstr(p, s)); p += sl)
            if ((p == scopes || p[-1] == ' ') && (p[sl] == ' ' || p[sl] == '\0')) found = true;
        if (found) continue;
        size_t used = strlen(scopes);
        if (used + sl + 2 < size) snprintf(scopes + used, size - used, "%s%s", used ? " " : "", s);
    }
}

static void set_authorization(wb__reg_client *c, const char *fmt, const char *value) {
    free(c->authorization);
    size_t n = strlen(fmt) + strlen(value) + 1;
    c->authorization = wb_malloc(n);
    snprintf(c->authorization, n, fmt, value);
}

static int basic_header(wb__reg_client *c) {
    size_t n = strlen(c->user) + strlen(c->password) + 2;
    char *pair = wb_malloc(n);
    snprintf(pair, n, "%s:%s", c->user, c->password);
    char *b64 = wb_base64_encode((const uint8_t *)pair, strlen(pair));
    free(pair);
    set_authorization(c, "Authorization: Basic %s", b64);
    free(b64);
    return 0;
}

static bool token_ok(const char *t) {
    if (!t || !*t || strlen(t) > 64 * 1024) return false;
    for (const char *p = t; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) return false;
    return true;
}

/* GET the realm for a token covering c->scopes. */
static int fetch_token(wb__reg_client *c, const char *realm, const char *service, wb_error *err) {
    const wb_libcurl *cu = c->curl;
    char url[8192];
    size_t used = (size_t)snprintf(url, sizeof url, "%s", realm);
    char sep = strchr(realm, '?') ? '&' : '?';
    if (strncmp(realm, "http://", 7) != 0 && strncmp(realm, "https://", 8) != 0)
        return wb_error_set(err, WB_REG_EPROTOCOL,
                            "%s: the registry names a token service that is "
                            "not an http(s) URL: \"%.200s\"",
                            c->domain, realm);
    if (service[0]) {
        char *e = cu->curl_easy_escape(c->easy, service, 0);
        used += (size_t)snprintf(url + used, sizeof url - used, "%cservice=%s", sep, e ? e : "");
        cu->curl_free(e);
        sep = '&';
    }
    char scopes[sizeof c->scopes];
    snprintf(scopes, sizeof scopes, "%s", c->scopes);
    for (char *save = NULL, *s = strtok_r(scopes, " ", &save); s; s = strtok_r(NULL, " ", &save)) {
        char *e = cu->curl_easy_escape(c->easy, s, 0);
        used += (size_t)snprintf(url + used, sizeof url - used, "%cscope=%s", sep, e ? e : "");
        cu->curl_free(e);
        sep = '&';
    }
    if (c->user) {
        char *e = cu->curl_easy_escape(c->easy, c->user, 0);
        used += (size_t)snprintf(url + used, sizeof url - used, "%caccount=%s", sep, e ? e : "");
        cu->curl_free(e);
    }
    if (used >= sizeof url) return wb_error_set(err, WB_REG_EPROTOCOL, "token request too long");

    /* the token service is asked with Basic credentials (or anonymously) */
    char *saved = c->authorization;
    c->authorization = NULL;
    if (c->user) basic_header(c);
    wb__reg_resp r;
    memset(&r, 0, sizeof r);
    resp_reset(&r, WB__REG_TOKEN_BODY_MAX);
    int rc = perform(c, "GET", url, NULL, NULL, &r, err);
    free(c->authorization);
    c->authorization = saved;
    if (rc < 0) {
        wb_error_wrap(err, "get a token for %s", c->domain);
        wb__reg_resp_release(&r);
        return -1;
    }
    if (r.status == 401 || r.status == 403) {
        if (c->user)
            wb_error_set(err, WB_REG_EUNAUTHORIZED,
                         "%s: unauthorized: incorrect username or "
                         "password",
                         c->domain);
        else
            wb_error_set(err, WB_REG_EUNAUTHORIZED,
                         "%s: unauthorized: authentication required "
                         "(log in first: `wasmbox login %s`)",
                         c->domain, c->domain);
        wb__reg_resp_release(&r);
        return -1;
    }
    if (r.status != 200) {
        wb_error_set(err, WB_REG_EPROTOCOL, "the token service of %s answered HTTP %ld", c->domain,
                     r.status);
        wb__reg_resp_release(&r);
        return -1;
    }
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)r.body, r.len, 0, &jerr);
    wb__reg_resp_release(&r);
    const char *token = json_string_value(json_object_get(doc, "token"));
    if (!token) token = json_string_value(json_object_get(doc, "access_token"));
    if (!token_ok(token)) {
        json_decref(doc);
        return wb_error_set(err, WB_REG_EPROTOCOL, "the token service of %s sent no usable token",
                            c->domain);
    }
    set_authorization(c, "Authorization: Bearer %s", token);
    json_decref(doc);
    return 0;
}

/* Answer a challenge: 0 when c->authorization is (newly) set, 1 when there is nothing to send
 * (Basic without credentials), -1 on error. */
static int authenticate(wb__reg_client *c, const char *challenge, wb_error *err) {
    const char *sp = strchr(challenge, ' ');
    size_t sl = sp ? (size_t)(sp - challenge) : strlen(challenge);
    const char *params = sp ? sp + 1 : "";
    if (sl == 5 && !strncasecmp(challenge, "Basic", 5)) {
        if (!c->user) return 1;
        return basic_header(c);
    }
    if (sl == 6 && !strncasecmp(challenge, "Bearer", 6)) {
        char realm[2048], service[512] = "", scope[1024];
        if (!wb__reg_challenge_param(params, "realm", realm, sizeof realm))
            return wb_error_set(err, WB_REG_EPROTOCOL, "%s: a Bearer challenge without a realm",
                                c->domain);
        wb__reg_challenge_param(params, "service", service, sizeof service);
        if (wb__reg_challenge_param(params, "scope", scope, sizeof scope))
            add_scopes(c->scopes, sizeof c->scopes, scope);
        return fetch_token(c, realm, service, err);
    }
    return wb_error_set(err, WB_REG_EPROTOCOL, "%s asks for unsupported authentication \"%.*s\"",
                        c->domain, (int)sl, challenge);
}

int wb__reg_reauthenticate(wb__reg_client *c, const char *challenge, wb_error *err) {
    char *before = c->authorization ? wb_strdup(c->authorization) : NULL;
    int rc = authenticate(c, challenge, err);
    bool changed = rc == 0 && (!before || strcmp(before, c->authorization) != 0);
    free(before);
    if (rc < 0) return -1;
    return changed ? 0 : 1;
}

int wb__reg_request(wb__reg_client *c, const char *method, const char *target,
                    const char *const *extra_headers, const wb__reg_body *body, size_t body_limit,
                    wb__reg_resp *r, wb_error *err) {
    memset(r, 0, sizeof *r);
    for (int attempt = 0;; attempt++) {
        resp_reset(r, body_limit);
        if (perform(c, method, target, extra_headers, body, r, err) < 0) return -1;
        if (r->status != 401 || attempt > 0 || !r->www_authenticate[0]) return 0;
        /* a Bearer token may have expired, or the scope grown: ask again, then retry once */
        int a = authenticate(c, r->www_authenticate, err);
        if (a < 0) return -1;
        if (a > 0) return 0; /* nothing to send: the 401 stands */
    }
}

int wb__reg_fail(wb__reg_client *c, const wb__reg_resp *r, const char *what, wb_error *err) {
    const char *code = NULL, *message = NULL;
    json_t *doc = NULL;
    if (r->body && r->len) {
        doc = json_loadb((const char *)r->body, r->len, 0, NULL);
        json_t *e = json_array_get(json_object_get(doc, "errors"), 0);
        code = json_string_value(json_object_get(e, "code"));
        message = json_string_value(json_object_get(e, "message"));
    }
    /* Docker prints codes in lower case with spaces: MANIFEST_UNKNOWN → "manifest unknown" */
    char detail[300], lowered[64] = "";
    for (size_t i = 0; code && code[i] && i + 1 < sizeof lowered; i++) {
        lowered[i] = code[i] == '_' ? ' ' : (char)tolower((unsigned char)code[i]);
        lowered[i + 1] = '\0';
    }
    if (code)
        snprintf(detail, sizeof detail, "%s: %s", lowered, message ? message : "");
    else
        snprintf(detail, sizeof detail, "HTTP %ld", r->status);
    int rc;
    if (r->status == 401 || r->status == 403 ||
        (code && (!strcmp(code, "UNAUTHORIZED") || !strcmp(code, "DENIED")))) {
        rc = wb_error_set(
            err, WB_REG_EUNAUTHORIZED, "%s: %s%s (log in first: `wasmbox login %s`)", what,
            code ? "" : "unauthorized: ", code ? detail : "authentication required", c->domain);
    } else if (r->status == 404 ||
               (code && (!strcmp(code, "NAME_UNKNOWN") || !strcmp(code, "MANIFEST_UNKNOWN")))) {
        if (code && !strcmp(code, "NAME_UNKNOWN"))
            rc = wb_error_set(err, WB_REG_ENOTFOUND, "repository %s/%s not found: %s", c->domain,
                              c->path, detail);
        else
            rc = wb_error_set(err, WB_REG_ENOTFOUND, "%s not found: %s", what, detail);
    } else {
        rc = wb_error_set(err, WB_REG_EPROTOCOL, "%s: %s", what, detail);
    }
    json_decref(doc);
    return rc;
}

/* ---- open/close ---- */

int wb__reg_new(const char *domain, const wb_registry_opts *o, wb__reg_client **out,
                wb_error *err) {
    *out = NULL;
    const wb_libcurl *cu = wb_libcurl_get(err);
    if (!cu) return -1;
    wb__reg_client *c = wb_calloc(1, sizeof *c);
    c->curl = cu;
    c->opts = o;
    c->easy = cu->curl_easy_init();
    if (!c->easy) {
        free(c);
        return wb_error_set(err, ENOMEM, "curl_easy_init failed");
    }
    snprintf(c->domain, sizeof c->domain, "%s", domain);
    /* Docker Hub's API lives at another name than its references use */
    const char *host = !strcmp(domain, "docker.io") ? "registry-1.docker.io" : domain;
    bool plain = wb__reg_is_loopback(host);
    bool insecure = !o->tls_verify || host_listed(domain, o);
    snprintf(c->base, sizeof c->base, "%s://%s", plain ? "http" : "https", host);
    c->verify = !insecure;
    c->fall_back = insecure && !plain;
    *out = c;
    return 0;
}

int wb__reg_open(const char *domain, const char *path, const char *actions,
                 const char *const *also_pull, size_t nalso, const wb_registry_opts *o,
                 wb__reg_client **out, wb_error *err) {
    wb__reg_client *c;
    *out = NULL;
    if (wb__reg_new(domain, o, &c, err) < 0) return -1;
    snprintf(c->path, sizeof c->path, "%s", path ? path : "");
    if (path && actions) {
        char s[600];
        snprintf(s, sizeof s, "repository:%s:%s", path, actions);
        add_scopes(c->scopes, sizeof c->scopes, s);
    }
    for (size_t i = 0; i < nalso; i++) {
        char s[600];
        snprintf(s, sizeof s, "repository:%s:pull", also_pull[i]);
        add_scopes(c->scopes, sizeof c->scopes, s);
    }
    if (wb_registry_credentials(domain, &c->user, &c->password, err) < 0) {
        wb__reg_close(c);
        return -1;
    }
    wb__reg_resp r;
    if (wb__reg_ping(c, &r, err) < 0) {
        wb__reg_close(c);
        return -1;
    }
    int rc = 0;
    if (r.status == 401 && r.www_authenticate[0]) {
        /* Basic without credentials goes on anonymously: requests will say what is missing */
        rc = authenticate(c, r.www_authenticate, err) < 0 ? -1 : 0;
    } else if (r.status != 200) {
        rc =
            wb_error_set(err, WB_REG_EPROTOCOL,
                         "%s does not answer as a registry (GET /v2/: HTTP %ld)", domain, r.status);
    }
    wb__reg_resp_release(&r);
    if (rc < 0) {
        wb__reg_close(c);
        return -1;
    }
    *out = c;
    return 0;
}

int wb__reg_ping(wb__reg_client *c, wb__reg_resp *r, wb_error *err) {
    memset(r, 0, sizeof *r);
    resp_reset(r, WB__REG_ERROR_BODY_MAX);
    return perform(c, "GET", "/v2/", NULL, NULL, r, err);
}

int wb__reg_set_credentials(wb__reg_client *c, const char *user, const char *password) {
    free(c->user);
    free(c->password);
    c->user = wb_strdup(user);
    c->password = wb_strdup(password);
    return 0;
}

int wb__reg_authenticate(wb__reg_client *c, const char *challenge, wb_error *err) {
    return authenticate(c, challenge, err);
}

void wb__reg_close(wb__reg_client *c) {
    if (!c) return;
    if (c->easy) c->curl->curl_easy_cleanup(c->easy);
    free(c->user);
    if (c->password) {
        explicit_bzero(c->password, strlen(c->password));
        free(c->password);
    }
    free(c->authorization);
    free(c);
}
