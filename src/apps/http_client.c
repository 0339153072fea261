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

static int io_wait(int fd, short ev, const struct timespec *deadline, wb_error *err) {
    long left = ms_left(deadline);
    struct pollfd p = {.fd = fd, .events = ev};
    if (left <= 0 || poll(&p, 1, (int)left) != 1)
        return wb_error_set(err, ETIMEDOUT, "the server did not answer in time");
    return 0;
}

static int send_all(int fd, const char *data, size_t len, const struct timespec *deadline,
                    wb_error *err) {
    for (size_t done = 0; done < len;) {
        if (io_wait(fd, POLLOUT, deadline, err) < 0) return -1;
        ssize_t n = send(fd, data + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) return wb_error_sys(err, "send");
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

int wb_http_fetch(const char *method, const char *url, const wb_http_header *headers,
                  size_t nheaders, const void *body, size_t body_len, int timeout_ms,
                  wb_http_response *resp, wb_error *err) {
    char scheme[16], host[256];
    int port;
    const char *path;
    if (!wb_url_split(url, scheme, host, &port, &path) || port <= 0)
        return wb_error_set(err, EINVAL, "`%s` is not an absolute http URL", url);
    if (strcmp(scheme, "http"))
        return wb_error_set(err, ENOTSUP, "%s URLs are not supported (only http)", scheme);
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
    wb_appendf(&head, &hl, "%s %s HTTP/1.1\r\nHost: %s", method, path, host);
    if (port != 80) wb_appendf(&head, &hl, ":%d", port);
    wb_appendf(&head, &hl, "\r\nConnection: close\r\n");
    bool has_length = false;
    for (size_t i = 0; i < nheaders; i++) {
        if (!strcasecmp(headers[i].name, "connection") || !strcasecmp(headers[i].name, "host"))
            continue;
        has_length = has_length || !strcasecmp(headers[i].name, "content-length");
        wb_appendf(&head, &hl, "%s: %s\r\n", headers[i].name, headers[i].value);
    }
    if (!has_length && (body_len || strcmp(method, "GET")))
        wb_appendf(&head, &hl, "Content-Length: %zu\r\n", body_len);
    wb_appendf(&head, &hl, "\r\n");
    int rc = send_all(fd, head, hl, &deadline, err);
    free(head);
    if (rc == 0 && body_len) rc = send_all(fd, body, body_len, &deadline, err);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    while (rc == 0) { /* to the end of the connection (Connection: close) */
        if (len == WB_HTTP_FETCH_MAX_BYTES) {
            rc = wb_error_set(err, EFBIG, "the answer is larger than %u bytes",
                              WB_HTTP_FETCH_MAX_BYTES);
            break;
        }
        WB_VEC_RESERVE(buf, cap, len + 65536 + 1);
        if (io_wait(fd, POLLIN, &deadline, err) < 0) {
            rc = -1;
            break;
        }
        size_t room = cap - len - 1;
        if (room > WB_HTTP_FETCH_MAX_BYTES - len) room = WB_HTTP_FETCH_MAX_BYTES - len;
        ssize_t n = recv(fd, buf + len, room, 0);
        if (n == 0) break;
        if (n < 0 && errno != EAGAIN && errno != EINTR) rc = wb_error_sys(err, "recv");
        if (n > 0) len += (size_t)n;
    }
    close(fd);
    char *end = rc == 0 && buf ? memmem(buf, len, "\r\n\r\n", 4) : NULL;
    int status = 0;
    if (rc == 0 && (!end || sscanf(buf, "HTTP/1.%*d %d", &status) != 1 || status < 100))
        rc = wb_error_set(err, EPROTO, "the answer is not HTTP");
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
            rc = wb_error_set(err, EPROTO, "a malformed chunked body");
        else
            wb_http_response_append(resp, b, (size_t)blen);
    }
    free(buf);
    return rc;
}
