/* http: the server loop and the HTTP/1.1 framing (see http.h). */
#include "http.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net.h"

#define CORS_HEADERS                                                                               \
    "Access-Control-Allow-Origin: *\r\n"                                                           \
    "Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n"                                         \
    "Access-Control-Allow-Headers: api,Keep-Alive,User-Agent,Content-Type\r\n"

typedef struct http_conn {
    int fd;
    buf in;              /* received, not yet answered */
    int64_t last_active; /* ms_now() of the last bytes received */
    int continue_sent;   /* `100 Continue` went out for the request at the head of `in` */
} http_conn;

typedef struct http_server {
    http_handler handler;
    void *ctx;
    http_conn *conns[HTTP_MAX_CONNS];
    int nconns;
    buf out;    /* the response being sent */
    buf target; /* the request target, NUL-terminated and split at `?` */
    struct pollfd fds[HTTP_MAX_CONNS + 1];
    http_conn *polled[HTTP_MAX_CONNS + 1]; /* the connection of each fds[i]; NULL: listener */
} http_server;

/* A request head, parsed without touching the buffer (it may be parsed again when more of the
 * body arrives). */
typedef struct head {
    size_t head_len; /* bytes up to and including the empty line */
    const char *method, *target;
    size_t method_len, target_len;
    int minor; /* HTTP/1.minor */
    size_t content_length;
    int keep_alive;
    int expect_continue;
} head;

enum { PARSE_OK, PARSE_MORE, PARSE_BAD };

static const char *reason(int status) {
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

/* ---- parsing ---- */

/* Where the head ends (after its empty line), or 0 when it has not all arrived. Lines may end
 * in CRLF or LF alone. */
static size_t find_head_end(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\n') continue;
        if (i + 1 < len && s[i + 1] == '\n') return i + 2;
        if (i + 2 < len && s[i + 1] == '\r' && s[i + 2] == '\n') return i + 3;
    }
    return 0;
}

static int is_tchar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Whether the comma-separated list v[0..len) holds token (case-insensitive). */
static int has_token(const char *v, size_t len, const char *token) {
    size_t tl = strlen(token), i = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
        size_t start = i;
        while (i < len && v[i] != ',') i++;
        size_t end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t')) end--;
        if (end - start == tl && strncasecmp(v + start, token, tl) == 0) return 1;
    }
    return 0;
}

/* Parses the head at the start of s; on PARSE_BAD *status says which refusal. */
static int parse_head(const char *s, size_t len, head *h, int *status) {
    memset(h, 0, sizeof *h);
    size_t skip = 0; /* empty lines before a request line are allowed (RFC 9112, 2.2) */
    while (skip < len && (s[skip] == '\r' || s[skip] == '\n')) skip++;
    size_t end = find_head_end(s + skip, len - skip);
    if (end == 0) {
        if (len > HTTP_HEAD_MAX) {
            *status = 431;
            return PARSE_BAD;
        }
        return PARSE_MORE;
    }
    h->head_len = skip + end;
    if (h->head_len > HTTP_HEAD_MAX) {
        *status = 431;
        return PARSE_BAD;
    }
    *status = 400;
    const char *p = s + skip, *stop = s + h->head_len;
    /* request line: METHOD SP TARGET SP HTTP/1.x */
    h->method = p;
    while (p < stop && is_tchar(*p)) p++;
    h->method_len = (size_t)(p - h->method);
    if (h->method_len == 0 || h->method_len > 16 || *p++ != ' ') return PARSE_BAD;
    h->target = p;
    while (p<stop && * p> ' ' && *p != 0x7f) p++;
    h->target_len = (size_t)(p - h->target);
    if (h->target_len == 0 || *p++ != ' ') return PARSE_BAD;
    if (stop - p < 9 || memcmp(p, "HTTP/", 5) != 0 || p[5] < '0' || p[5] > '9' || p[6] != '.' ||
        p[7] < '0' || p[7] > '9')
        return PARSE_BAD;
    if (p[5] != '1') {
        *status = 505;
        return PARSE_BAD;
    }
    h->minor = p[7] - '0';
    p += 8;
    if (*p == '\r') p++;
    if (*p++ != '\n') return PARSE_BAD;
    /* header fields */
    int connection_close = 0, connection_keep_alive = 0, have_length = 0;
    while (p < stop) {
        const char *line = p;
        const char *eol = memchr(p, '\n', (size_t)(stop - p));
        p = eol + 1;
        const char *line_end = eol > line && eol[-1] == '\r' ? eol - 1 : eol;
        if (line_end == line) break; /* the empty line */
        const char *colon = line;
        while (colon < line_end && is_tchar(*colon)) colon++;
        if (colon == line || colon == line_end || *colon != ':') return PARSE_BAD;
        size_t name_len = (size_t)(colon - line);
        const char *v = colon + 1;
        while (v < line_end && (*v == ' ' || *v == '\t')) v++;
        const char *v_end = line_end;
        while (v_end > v && (v_end[-1] == ' ' || v_end[-1] == '\t')) v_end--;
        size_t vlen = (size_t)(v_end - v);
        for (const char *q = v; q < v_end; q++)
            if ((unsigned char)*q < 0x20 && *q != '\t') return PARSE_BAD;
#define NAME_IS(lit) (name_len == sizeof lit - 1 && strncasecmp(line, lit, name_len) == 0)
        if (NAME_IS("Content-Length")) {
            size_t n = 0;
            if (vlen == 0) return PARSE_BAD;
            for (const char *q = v; q < v_end; q++) {
                if (*q < '0' || *q > '9') return PARSE_BAD;
                if (n > HTTP_BODY_MAX) break; /* refused below; no overflow meanwhile */
                n = n * 10 + (size_t)(*q - '0');
            }
            if (have_length && n != h->content_length) return PARSE_BAD;
            have_length = 1;
            h->content_length = n;
        } else if (NAME_IS("Transfer-Encoding")) {
            *status = 501; /* chunked request bodies are not taken */
            return PARSE_BAD;
        } else if (NAME_IS("Connection")) {
            connection_close |= has_token(v, vlen, "close");
            connection_keep_alive |= has_token(v, vlen, "keep-alive");
        } else if (NAME_IS("Expect")) {
            if (vlen == 12 && strncasecmp(v, "100-continue", 12) == 0) h->expect_continue = 1;
        }
#undef NAME_IS
    }
    if (h->content_length > HTTP_BODY_MAX) {
        *status = 413;
        return PARSE_BAD;
    }
    h->keep_alive = h->minor >= 1 ? !connection_close : connection_keep_alive && !connection_close;
    return PARSE_OK;
}

/* ---- responses ---- */

/* Sends status, headers and body in one write; 0, or -errno. */
static int send_response(http_server *srv, http_conn *c, int status, int cors, const buf *body,
                         int keep_alive, int http10) {
    buf *o = &srv->out;
    buf_reset(o);
    buf_adds(o, "HTTP/1.1 "); /* no printf: it is slow in an interpreter */
    buf_add_uint(o, (uint64_t)status);
    buf_addc(o, ' ');
    buf_adds(o, reason(status));
    buf_adds(o, "\r\n");
    if (cors) buf_adds(o, CORS_HEADERS);
    buf_adds(o, "Content-Length: ");
    buf_add_uint(o, body ? body->len : 0);
    buf_adds(o, "\r\n");
    if (!keep_alive)
        buf_adds(o, "Connection: close\r\n");
    else if (http10)
        buf_adds(o, "Connection: keep-alive\r\n");
    buf_adds(o, "\r\n");
    if (o->oom) return -ENOMEM;
    if (!body || body->len == 0) return net_send_all(c->fd, o->data, o->len);
    return net_send_all2(c->fd, o->data, o->len, body->data, body->len); /* one send, no copy */
}

/* A refusal with a short text and the connection closed after it. */
static void refuse(http_server *srv, http_conn *c, int status, const char *text) {
    buf body;
    buf_init(&body);
    buf_adds(&body, text);
    (void)send_response(srv, c, status, 0, &body, 0, 0);
    buf_release(&body);
}

/* ---- connections ---- */

/* Answers every complete request in c->in. 0 to keep the connection, -1 to close it. */
static int serve_buffered(http_server *srv, http_conn *c) {
    for (;;) {
        head h;
        int status;
        int r = parse_head(c->in.data, c->in.len, &h, &status);
        if (r == PARSE_MORE) return 0;
        if (r == PARSE_BAD) {
            refuse(srv, c, status,
                   status == 431   ? "request head too large\n"
                   : status == 413 ? "request body too large\n"
                   : status == 501 ? "Transfer-Encoding is not supported; send Content-Length\n"
                   : status == 505 ? "HTTP/1.x only\n"
                                   : "malformed request\n");
            return -1;
        }
        if (c->in.len - h.head_len < h.content_length) { /* the body is still coming */
            if (h.expect_continue && !c->continue_sent) {
                static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
                if (net_send_all(c->fd, cont, sizeof cont - 1) < 0) return -1;
                c->continue_sent = 1;
            }
            return 0;
        }

        /* the target: an absolute form loses its scheme and authority; split at `?` */
        const char *t = h.target;
        size_t tlen = h.target_len;
        if (t[0] != '/') {
            const char *colon = memchr(t, ':', tlen);
            if (colon && (size_t)(t + tlen - colon) > 3 && colon[1] == '/' && colon[2] == '/') {
                const char *slash = memchr(colon + 3, '/', (size_t)(t + tlen - colon - 3));
                size_t off = slash ? (size_t)(slash - t) : tlen;
                t += off;
                tlen -= off;
            }
        }
        buf_reset(&srv->target);
        buf_add(&srv->target, h.method, h.method_len);
        buf_addc(&srv->target, '\0');
        size_t path_at = srv->target.len;
        if (tlen == 0) buf_addc(&srv->target, '/');
        buf_add(&srv->target, t, tlen);
        if (srv->target.oom) {
            refuse(srv, c, 500, "out of memory\n");
            return -1;
        }
        char *query = strchr(srv->target.data + path_at, '?');
        if (query) *query++ = '\0';

        http_request req = {srv->target.data, srv->target.data + path_at, query,
                            c->in.data + h.head_len, h.content_length};
        http_response res = {200, 0, {0}};
        buf_init(&res.body);
        srv->handler(srv->ctx, &req, &res);
        int sent = res.body.oom ? -ENOMEM
                                : send_response(srv, c, res.status, res.cors, &res.body,
                                                h.keep_alive, h.minor == 0);
        buf_release(&res.body);
        if (sent < 0 || !h.keep_alive) return -1;
        buf_consume(&c->in, h.head_len + h.content_length);
        c->continue_sent = 0;
        if (c->in.len == 0 && c->in.cap > 65536) buf_release(&c->in); /* after a big body */
    }
}

/* Reads what arrived on c and answers it. 0 to keep the connection, -1 to close it. */
static int on_readable(http_server *srv, http_conn *c, int64_t now) {
    size_t room = c->in.len < 4096 ? 8192 : c->in.len; /* grow with large bodies */
    if (buf_reserve(&c->in, room) < 0) return -1;
    long n = net_recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1);
    if (n == -EINTR || n == -EAGAIN) return 0;
    if (n <= 0) return -1; /* the client left (or failed) */
    c->in.len += (size_t)n;
    c->in.data[c->in.len] = '\0';
    c->last_active = now;
    return serve_buffered(srv, c);
}

static void close_conn(http_server *srv, int i) {
    http_conn *c = srv->conns[i];
    net_close(c->fd);
    buf_release(&c->in);
    free(c);
    srv->conns[i] = srv->conns[--srv->nconns];
}

static void add_conn(http_server *srv, int fd, int64_t now) {
    http_conn *c = calloc(1, sizeof *c);
    if (!c) {
        net_close(fd);
        return;
    }
    c->fd = fd;
    buf_init(&c->in);
    c->last_active = now;
    srv->conns[srv->nconns++] = c;
}

int http_serve(int lfd, http_handler handler, void *ctx, ms_error *err) {
    http_server *srv = calloc(1, sizeof *srv);
    if (!srv) return ms_fail(err, "out of memory");
    srv->handler = handler;
    srv->ctx = ctx;
    buf_init(&srv->out);
    buf_init(&srv->target);
    struct pollfd *fds = srv->fds;
    http_conn **polled = srv->polled;
    int accept_failures = 0;
    int64_t now = ms_now();
    for (;;) {
        /* the listener while there is room, and every connection */
        int n = 0, timeout = -1;
        if (srv->nconns < HTTP_MAX_CONNS) {
            fds[n] = (struct pollfd){.fd = lfd, .events = POLLIN};
            polled[n++] = NULL;
        }
        for (int i = 0; i < srv->nconns; i++) {
            int64_t left = srv->conns[i]->last_active + HTTP_IDLE_MS - now;
            if (left < 0) left = 0;
            if (timeout < 0 || left < timeout) timeout = (int)left;
            fds[n] = (struct pollfd){.fd = srv->conns[i]->fd, .events = POLLIN};
            polled[n++] = srv->conns[i];
        }
        int r = poll(fds, (nfds_t)n, timeout);
        if (r < 0) {
            if (errno == EINTR) continue;
            ms_fail(err, "poll: %s", strerror(errno));
            break;
        }
        now = ms_now();
        for (int k = 0; k < n; k++) {
            if (!polled[k] || !fds[k].revents) continue;
            if (on_readable(srv, polled[k], now) < 0) {
                for (int i = 0; i < srv->nconns; i++) {
                    if (srv->conns[i] == polled[k]) {
                        close_conn(srv, i);
                        break;
                    }
                }
            }
        }
        for (int i = srv->nconns - 1; i >= 0; i--)
            if (now - srv->conns[i]->last_active >= HTTP_IDLE_MS) close_conn(srv, i);
        if (n > 0 && !polled[0] && fds[0].revents) {
            int fd = net_accept(lfd);
            if (fd >= 0) {
                accept_failures = 0;
                add_conn(srv, fd, now);
            } else if (fd != -EINTR && fd != -EAGAIN && fd != -ECONNABORTED && fd != -EMFILE &&
                       fd != -ENFILE && ++accept_failures > 100) {
                ms_fail(err, "accept: %s", strerror(-fd));
                break;
            }
        }
    }
    while (srv->nconns > 0) close_conn(srv, srv->nconns - 1);
    buf_release(&srv->out);
    buf_release(&srv->target);
    free(srv);
    return -1;
}
