/* Outbound HTTP (apps/http_client.h). */
#include "apps/http_client.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/dynlib.h"

bool wb_url_split(const char *url, char scheme[16], char host[256], int *port, const char **path) {
    const char *sep = strstr(url, "://");
    if (!sep || sep == url || (size_t)(sep - url) >= 16) return false;
    snprintf(scheme, 16, "%.*s", (int)(sep - url), url);
    for (char *p = scheme; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    const char *h = sep + 3, *end = h + strcspn(h, "/?#");
    const char *colon = NULL;
    if (*h == '[') { /* [v6]:port */
        const char *close = memchr(h, ']', (size_t)(end - h));
        if (!close) return false;
        if ((size_t)(close - h - 1) >= 256) return false;
        snprintf(host, 256, "%.*s", (int)(close - h - 1), h + 1);
        colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        const char *hend = colon ? colon : end;
        if (hend == h || (size_t)(hend - h) >= 256) return false;
        snprintf(host, 256, "%.*s", (int)(hend - h), h);
    }
    if (colon) {
        char *e;
        long p = strtol(colon + 1, &e, 10);
        if (e != end || p < 0 || p > 65535) {
            if (!(colon + 1 == end)) return false;
            p = -1;
        }
        *port = (int)p;
    } else {
        *port = -1;
    }
    if (*port < 0) *port = !strcmp(scheme, "https") ? 443 : !strcmp(scheme, "http") ? 80 : -1;
    if (path) *path = *end ? end : "/";
    return true;
}

static bool host_matches(const char *pattern, const char *host) {
    if (!strcmp(pattern, "*") || !strcasecmp(pattern, host)) return true;
    if (!strncmp(pattern, "*.", 2)) { /* any subdomain */
        size_t pl = strlen(pattern + 1), hl = strlen(host);
        return hl > pl && !strcasecmp(host + hl - pl, pattern + 1);
    }
    return false;
}

bool wb_url_allowed(const char *url, char *const *patterns, size_t n) {
    char scheme[16], host[256];
    int port;
    if (!wb_url_split(url, scheme, host, &port, NULL)) return false;
    for (size_t i = 0; i < n; i++) {
        const char *p = patterns[i];
        const char *sep = strstr(p, "://");
        if (!sep) continue;
        char ps[16], ph[256];
        snprintf(ps, sizeof ps, "%.*s", (int)(sep - p) < 15 ? (int)(sep - p) : 15, p);
        const char *h = sep + 3, *end = h + strcspn(h, "/");
        const char *colon = memchr(h, ':', (size_t)(end - h));
        snprintf(ph, sizeof ph, "%.*s", (int)((colon ? colon : end) - h), h);
        bool port_ok;
        if (colon && !strncmp(colon + 1, "*", 1))
            port_ok = true;
        else if (colon)
            port_ok = atoi(colon + 1) == port;
        else
            port_ok = port == (!strcmp(scheme, "https") ? 443 : 80) || !strcmp(ps, "*");
        if ((!strcmp(ps, "*") || !strcasecmp(ps, scheme)) && host_matches(ph, host) && port_ok)
            return true;
    }
    return false;
}

/* ---- the request, checked once for both clients ---- */

typedef struct outbound {
    const char *method, *path; /* path: the URL after the authority ("/x?y", or "/") */
    char scheme[16], host[256];
    int port;
    char where[272]; /* host:port as messages name it ("[::1]:8443") */
} outbound;

/* A host as wb_url_split gave it, which a URL parser must read the same way (so that the
 * connection goes where wb_url_allowed looked): no userinfo, no escapes, no delimiters. IPv6
 * literals (with a zone after '%') have colons; names may have non-ASCII bytes (IDN). */
static bool plain_host(const char *h) {
    bool v6 = strchr(h, ':') != NULL;
    for (const unsigned char *p = (const unsigned char *)h; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
                  (!v6 && *p >= 0x80) || (v6 && (*p == ':' || *p == '%'));
        if (!ok) return false;
    }
    return *h != '\0';
}

bool wb_http_token(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || (s[i] && strchr("!#$%&'*+-.^_`|~", s[i]))))
            return false;
    return n > 0;
}

/* Headers of the caller that the client writes itself (or leaves out): Host from the URL, the
 * framing from the body's length, no Connection options and no 100-continue. */
static bool own_header(const char *name) {
    static const char *const own[] = {"host", "connection", "content-length", "transfer-encoding",
                                      "expect"};
    for (size_t i = 0; i < sizeof own / sizeof *own; i++)
        if (!strcasecmp(name, own[i])) return true;
    return false;
}

static int check(const char *method, const char *url, const wb_http_header *headers,
                 size_t nheaders, outbound *o, wb_error *err) {
    if (!wb_url_split(url, o->scheme, o->host, &o->port, &o->path))
        return wb_error_set(err, EINVAL, "`%s` is not an absolute http URL", url);
    if (strcmp(o->scheme, "http") && strcmp(o->scheme, "https"))
        return wb_error_set(err, ENOTSUP,
                            "request to %s: %s URLs are not supported (only http and https)",
                            o->host, o->scheme);
    if (o->port <= 0) return wb_error_set(err, EINVAL, "`%s` has no port to connect to", url);
    bool v6 = strchr(o->host, ':') != NULL;
    snprintf(o->where, sizeof o->where, v6 ? "[%s]:%d" : "%s:%d", o->host, o->port);
    if (!plain_host(o->host))
        return wb_error_set(err, EINVAL, "`%s` is not a host name or address", o->host);
    if (!wb_http_token(method, strlen(method)))
        return wb_error_set(err, EINVAL, "request to %s: `%s` is not a method", o->where, method);
    for (size_t i = 0; i < nheaders; i++) {
        if (!wb_http_token(headers[i].name, strlen(headers[i].name)))
            return wb_error_set(err, EINVAL, "request to %s: `%s` is not a header name", o->where,
                                headers[i].name);
        if (strpbrk(headers[i].value, "\r\n"))
            return wb_error_set(err, EINVAL, "request to %s: header %s has a line break", o->where,
                                headers[i].name);
    }
    o->method = method;
    return 0;
}

/* ---- libcurl (wasmbox-full) ---- */

typedef struct answer {
    wb_http_response *resp;
    bool head_done; /* the empty line after the final head was read: later lines are trailers */
    bool too_big;
} answer;

/* One line of a head ("HTTP/1.1 200 OK\r\n", "Name: value\r\n", "\r\n"); a 1xx head is followed
 * by the final one, which replaces it. */
static size_t on_header(char *data, size_t size, size_t n, void *ctx) {
    answer *a = ctx;
    size_t len = size * n, l = len;
    while (l && (data[l - 1] == '\n' || data[l - 1] == '\r')) l--;
    if (l >= 5 && !memcmp(data, "HTTP/", 5)) {
        for (size_t i = 0; i < a->resp->nheaders; i++) free(a->resp->header_lines[i]);
        a->resp->nheaders = 0;
        a->head_done = false;
        return len;
    }
    if (l == 0) {
        a->head_done = true;
        return len;
    }
    /* obsolete line folding (a continuation starting with a blank) is dropped */
    const char *colon = memchr(data, ':', l);
    if (a->head_done || data[0] == ' ' || data[0] == '\t' || !colon || colon == data) return len;
    WB_AUTOFREE char *name = wb_strndup(data, (size_t)(colon - data));
    const char *v = colon + 1, *end = data + l;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t')) end--;
    WB_AUTOFREE char *value = wb_strndup(v, (size_t)(end - v));
    if (strcasecmp(name, "connection") && strcasecmp(name, "content-length") &&
        strcasecmp(name, "transfer-encoding"))
        wb_http_response_header(a->resp, name, value);
    return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx) {
    answer *a = ctx;
    size_t len = size * n;
    if (len > WB_HTTP_FETCH_MAX_BYTES - a->resp->body_len) {
        a->too_big = true;
        return 0; /* CURLE_WRITE_ERROR */
    }
    wb_http_response_append(a->resp, data, len);
    return len;
}

/* err for a failed transfer: the codes the callers map (http_client.h). */
static int transfer_error(const wb_libcurl *cu, CURL *h, CURLcode rc, const outbound *o,
                          const char *errbuf, int timeout_ms, bool too_big, wb_error *err) {
    const char *why = errbuf[0] ? errbuf : cu->curl_easy_strerror(rc);
    long os_errno = 0;
    switch (rc) {
    case CURLE_URL_MALFORMAT:
        return wb_error_set(err, EINVAL, "request to %s: the URL is malformed: %s", o->where, why);
    case CURLE_COULDNT_RESOLVE_HOST:
        return wb_error_set(err, EHOSTUNREACH, "resolve %s: the name does not resolve", o->host);
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
        cu->curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
        if (!os_errno) os_errno = rc == CURLE_COULDNT_CONNECT ? ECONNREFUSED : ECONNRESET;
        return wb_error_set(err, (int)os_errno, "%s %s: %s",
                            rc == CURLE_COULDNT_CONNECT ? "connect to" : "exchange with", o->where,
                            strerror((int)os_errno));
    case CURLE_OPERATION_TIMEDOUT:
        return wb_error_set(err, ETIMEDOUT, "%s did not answer within %d ms", o->where, timeout_ms);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        return wb_error_set(err, EKEYREJECTED, "TLS with %s: %s", o->where, why);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED: return wb_error_set(err, EPROTO, "TLS with %s: %s", o->where, why);
    case CURLE_UNSUPPORTED_PROTOCOL: /* with the scheme checked: an HTTP/0.9 (headless) answer */
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_PARTIAL_FILE:
    case CURLE_BAD_CONTENT_ENCODING:
        return wb_error_set(err, EBADMSG, "%s: the answer is not HTTP: %s", o->where, why);
    case CURLE_FILESIZE_EXCEEDED: too_big = true; break;
    case CURLE_OUT_OF_MEMORY:
        return wb_error_set(err, ENOMEM, "request to %s: out of memory", o->where);
    default: break;
    }
    if (too_big)
        return wb_error_set(err, EFBIG, "%s: the answer's body is larger than %u bytes", o->where,
                            WB_HTTP_FETCH_MAX_BYTES);
    return wb_error_set(err, EIO, "request to %s: %s", o->where, why);
}

static bool append_line(const wb_libcurl *cu, struct curl_slist **l, const char *line) {
    struct curl_slist *next = cu->curl_slist_append(*l, line);
    if (next) *l = next;
    return next != NULL;
}

/* The caller's headers as libcurl takes them, and none of libcurl's own: no Expect:
 * 100-continue, no Accept: *\/\*, no form Content-Type on a body. false when out of memory. */
static bool request_headers(const wb_libcurl *cu, const wb_http_header *headers, size_t nheaders,
                            struct curl_slist **out) {
    struct curl_slist *l = NULL;
    bool has_type = false, has_accept = false, ok = true;
    for (size_t i = 0; ok && i < nheaders; i++) {
        const char *n = headers[i].name, *v = headers[i].value;
        if (own_header(n)) continue;
        has_type = has_type || !strcasecmp(n, "content-type");
        has_accept = has_accept || !strcasecmp(n, "accept");
        WB_AUTOFREE char *line = NULL;
        size_t ll = 0;
        /* "Name;" is how libcurl is told to send a header with an empty value */
        wb_appendf(&line, &ll, *v ? "%s: %s" : "%s;", n, v);
        ok = append_line(cu, &l, line);
    }
    ok = ok && append_line(cu, &l, "Expect:") && (has_accept || append_line(cu, &l, "Accept:")) &&
         (has_type || append_line(cu, &l, "Content-Type:"));
    if (!ok) {
        cu->curl_slist_free_all(l);
        l = NULL;
    }
    *out = l;
    return ok;
}

static int fetch_curl(const outbound *o, const wb_http_header *headers, size_t nheaders,
                      const void *body, size_t body_len, int timeout_ms, wb_http_response *resp,
                      wb_error *err) {
    const wb_libcurl *cu = wb_libcurl_get(err);
    if (!cu) return -1;
    /* the URL from the parts wb_url_allowed saw */
    WB_AUTOFREE char *url = NULL;
    size_t ul = 0;
    wb_appendf(&url, &ul, "%s://%s%s", o->scheme, o->where, o->path);
    struct curl_slist *hdrs = NULL;
    if (!request_headers(cu, headers, nheaders, &hdrs))
        return wb_error_set(err, ENOMEM, "request to %s: out of memory", o->where);
    CURL *h = cu->curl_easy_init();
    if (!h) {
        cu->curl_slist_free_all(hdrs);
        return wb_error_set(err, ENOMEM, "request to %s: curl_easy_init failed", o->where);
    }
    char errbuf[CURL_ERROR_SIZE];
    errbuf[0] = '\0';
    answer a = {.resp = resp};
    cu->curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    cu->curl_easy_setopt(h, CURLOPT_URL, url);
    cu->curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    cu->curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    cu->curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    cu->curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    cu->curl_easy_setopt(h, CURLOPT_PROXY, ""); /* none, whatever http_proxy says */
    cu->curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    cu->curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(timeout_ms > 0 ? timeout_ms : 1));
    cu->curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    cu->curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    const char *ca = getenv("SSL_CERT_FILE");
    if (ca && *ca) { /* that bundle alone, as OpenSSL's own programs read it */
        cu->curl_easy_setopt(h, CURLOPT_CAINFO, ca);
        cu->curl_easy_setopt(h, CURLOPT_CAPATH, (char *)NULL);
    }
    cu->curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)WB_HTTP_FETCH_MAX_BYTES);
    cu->curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    cu->curl_easy_setopt(h, CURLOPT_HEADERDATA, &a);
    cu->curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    cu->curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
    cu->curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    if (!strcmp(o->method, "HEAD")) {
        cu->curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
        /* a body (Content-Length: 0 too) unless a GET without one */
        if (body_len || strcmp(o->method, "GET")) {
            cu->curl_easy_setopt(h, CURLOPT_POSTFIELDS, body_len ? body : "");
            cu->curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        }
        if (strcmp(o->method, "GET") || body_len)
            cu->curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, o->method);
    }
    CURLcode rc = cu->curl_easy_perform(h);
    long status = 0;
    if (rc == CURLE_OK) cu->curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    int r = 0;
    if (rc != CURLE_OK)
        r = transfer_error(cu, h, rc, o, errbuf, timeout_ms, a.too_big, err);
    else if (status < 100 || status > 999)
        r = wb_error_set(err, EBADMSG, "%s: the answer is not HTTP", o->where);
    else
        resp->status = (int)status;
    cu->curl_easy_cleanup(h);
    cu->curl_slist_free_all(hdrs);
    if (r < 0) wb_http_response_release(resp);
    return r;
}

/* ---- the static core's own HTTP/1.1 client (it loads no libcurl, so has no TLS) ---- */

static long ms_left(const struct timespec *deadline) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

static int connect_to(const char *host, int port, const struct timespec *deadline, wb_error *err) {
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    int g = getaddrinfo(host, ps, &hints, &ai);
    if (g != 0) return wb_error_set(err, EHOSTUNREACH, "resolve %s: %s", host, gai_strerror(g));
    int fd = -1, e = ECONNREFUSED;
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
            e = errno;
            close(fd);
            fd = -1;
            continue;
        }
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int so = 0;
        socklen_t sl = sizeof so;
        long left = ms_left(deadline);
        if (left <= 0 || poll(&p, 1, (int)left) != 1 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) != 0 || so) {
            e = left <= 0 ? ETIMEDOUT : so ? so : ETIMEDOUT;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0) return wb_error_set(err, e, "connect to %s:%d: %s", host, port, strerror(e));
    return fd;
}

static int io_wait(int fd, short ev, const struct timespec *deadline, const char *where,
                   wb_error *err) {
    long left = ms_left(deadline);
    struct pollfd p = {.fd = fd, .events = ev};
    if (left <= 0 || poll(&p, 1, (int)left) != 1)
        return wb_error_set(err, ETIMEDOUT, "%s did not answer in time", where);
    return 0;
}

static int send_all(int fd, const char *data, size_t len, const struct timespec *deadline,
                    const char *where, wb_error *err) {
    for (size_t done = 0; done < len;) {
        if (io_wait(fd, POLLOUT, deadline, where, err) < 0) return -1;
        ssize_t n = send(fd, data + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return wb_error_sys(err, "send to %s", where);
        if (n > 0) done += (size_t)n;
    }
    return 0;
}

/* Decode a chunked body in place: its length, or -1. */
static long dechunk(char *b, size_t len) {
    size_t in = 0, out = 0;
    for (;;) {
        char *e;
        if (in >= len) return -1;
        unsigned long n = strtoul(b + in, &e, 16);
        char *crlf = memmem(b + in, len - in, "\r\n", 2);
        if (!crlf || e == b + in) return -1;
        in = (size_t)(crlf - b) + 2;
        if (n == 0) return (long)out;
        if (n > len - in) return -1;
        memmove(b + out, b + in, n);
        out += n;
        in += n + 2;
    }
}

static int fetch_plain(const outbound *o, const wb_http_header *headers, size_t nheaders,
                       const void *body, size_t body_len, int timeout_ms, wb_http_response *resp,
                       wb_error *err) {
    if (strcmp(o->scheme, "http"))
        return wb_error_set(err, ENOTSUP,
                            "request to %s: https URLs are not supported by the static wasmbox "
                            "(it has no TLS; wasmbox-full has)",
                            o->where);
    const char *method = o->method, *host = o->host, *path = o->path;
    int port = o->port;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    int fd = connect_to(host, port, &deadline, err);
    if (fd < 0) return -1;
    char *head = NULL;
    size_t hl = 0;
    bool v6 = strchr(host, ':') != NULL;
    wb_appendf(&head, &hl, "%s %s HTTP/1.1\r\nHost: %s%s%s", method, path, v6 ? "[" : "", host,
               v6 ? "]" : "");
    if (port != 80) wb_appendf(&head, &hl, ":%d", port);
    wb_appendf(&head, &hl, "\r\nConnection: close\r\n");
    for (size_t i = 0; i < nheaders; i++) {
        if (own_header(headers[i].name)) continue;
        wb_appendf(&head, &hl, "%s: %s\r\n", headers[i].name, headers[i].value);
    }
    if (body_len || strcmp(method, "GET"))
        wb_appendf(&head, &hl, "Content-Length: %zu\r\n", body_len);
    wb_appendf(&head, &hl, "\r\n");
    int rc = send_all(fd, head, hl, &deadline, o->where, err);
    free(head);
    if (rc == 0 && body_len) rc = send_all(fd, body, body_len, &deadline, o->where, err);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    while (rc == 0) { /* to the end of the connection (Connection: close) */
        if (len == WB_HTTP_FETCH_MAX_BYTES) {
            rc = wb_error_set(err, EFBIG, "%s: the answer is larger than %u bytes", o->where,
                              WB_HTTP_FETCH_MAX_BYTES);
            break;
        }
        WB_VEC_RESERVE(buf, cap, len + 65536 + 1);
        if (io_wait(fd, POLLIN, &deadline, o->where, err) < 0) {
            rc = -1;
            break;
        }
        size_t room = cap - len - 1;
        if (room > WB_HTTP_FETCH_MAX_BYTES - len) room = WB_HTTP_FETCH_MAX_BYTES - len;
        ssize_t n = recv(fd, buf + len, room, 0);
        if (n == 0) break;
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            rc = wb_error_sys(err, "recv from %s", o->where);
        if (n > 0) len += (size_t)n;
    }
    close(fd);
    char *end = rc == 0 && buf ? memmem(buf, len, "\r\n\r\n", 4) : NULL;
    int status = 0;
    if (rc == 0 && (!end || sscanf(buf, "HTTP/1.%*d %d", &status) != 1 || status < 100))
        rc = wb_error_set(err, EBADMSG, "%s: the answer is not HTTP", o->where);
    if (rc == 0) {
        resp->status = status;
        *end = 0;
        bool chunked = false;
        char *save = NULL,
             *line = strtok_r(strchr(buf, '\n') ? strchr(buf, '\n') + 1 : buf, "\r\n", &save);
        for (; line; line = strtok_r(NULL, "\r\n", &save)) {
            char *colon = strchr(line, ':');
            if (!colon) continue;
            *colon = 0;
            const char *v = colon + 1;
            while (*v == ' ' || *v == '\t') v++;
            if (!strcasecmp(line, "transfer-encoding") && strcasestr(v, "chunked")) {
                chunked = true;
                continue;
            }
            if (!strcasecmp(line, "connection") || !strcasecmp(line, "content-length")) continue;
            wb_http_response_header(resp, line, v);
        }
        char *b = end + 4;
        long blen = (long)(len - (size_t)(b - buf));
        if (chunked && (blen = dechunk(b, (size_t)blen)) < 0)
            rc = wb_error_set(err, EBADMSG, "%s: a malformed chunked body", o->where);
        else
            wb_http_response_append(resp, b, (size_t)blen);
    }
    free(buf);
    return rc;
}

int wb_http_fetch(const char *method, const char *url, const wb_http_header *headers,
                  size_t nheaders, const void *body, size_t body_len, int timeout_ms,
                  wb_http_response *resp, wb_error *err) {
    outbound o;
    if (check(method, url, headers, nheaders, &o, err) < 0) return -1;
    if (wb_dynlib_loadable())
        return fetch_curl(&o, headers, nheaders, body, body_len, timeout_ms, resp, err);
    return fetch_plain(&o, headers, nheaders, body, body_len, timeout_ms, resp, err);
}
