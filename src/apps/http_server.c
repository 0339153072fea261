/* The app runtimes' HTTP/1.1 server: one acceptor (poll on the listening socket and a stop pipe),
 * one thread per connection reading requests into a growing buffer, answering each through the
 * handler, keeping the connection while both sides want it. */
#include "apps/http_server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/alloc.h"

struct wb_http_server {
    wb_http_server_config cfg;
    int listen_fd;
    int wake[2]; /* wb_http_server_stop writes here */
    pthread_mutex_t lock;
    pthread_cond_t idle; /* signalled when a connection ends */
    int *conns;          /* open connections' sockets (-1: free slot) */
    int nconns;          /* open connections */
    bool stopping;
};

/* ---- responses ---- */

void wb_http_response_header(wb_http_response *r, const char *name, const char *value) {
    WB_VEC_RESERVE(r->header_lines, r->cap, r->nheaders + 1);
    size_t n = strlen(name) + strlen(value) + 3;
    char *line = wb_malloc(n);
    snprintf(line, n, "%s: %s", name, value);
    /* a value may not smuggle a header or a response in */
    for (char *c = line; *c; c++)
        if (*c == '\r' || *c == '\n') *c = ' ';
    r->header_lines[r->nheaders++] = line;
}

void wb_http_response_append(wb_http_response *r, const void *data, size_t len) {
    WB_VEC_RESERVE(r->body, r->body_cap, r->body_len + len + 1);
    if (len) memcpy(r->body + r->body_len, data, len);
    r->body_len += len;
}

void wb_http_response_release(wb_http_response *r) {
    for (size_t i = 0; i < r->nheaders; i++) free(r->header_lines[i]);
    free(r->header_lines);
    free(r->body);
    memset(r, 0, sizeof *r);
}

const char *wb_http_reason(int status) {
    static const struct {
        int code;
        const char *text;
    } reasons[] = {
        {100, "Continue"},
        {200, "OK"},
        {201, "Created"},
        {202, "Accepted"},
        {204, "No Content"},
        {206, "Partial Content"},
        {301, "Moved Permanently"},
        {302, "Found"},
        {303, "See Other"},
        {304, "Not Modified"},
        {307, "Temporary Redirect"},
        {308, "Permanent Redirect"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {408, "Request Timeout"},
        {409, "Conflict"},
        {410, "Gone"},
        {411, "Length Required"},
        {413, "Payload Too Large"},
        {414, "URI Too Long"},
        {415, "Unsupported Media Type"},
        {418, "I'm a teapot"},
        {422, "Unprocessable Entity"},
        {429, "Too Many Requests"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
        {505, "HTTP Version Not Supported"},
    };
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].code == status) return reasons[i].text;
    return "";
}

const char *wb_http_request_header(const wb_http_request *req, const char *name) {
    for (size_t i = 0; i < req->nheaders; i++)
        if (!strcmp(req->headers[i].name, name)) return req->headers[i].value;
    return NULL;
}

/* ---- connections ---- */

typedef struct conn {
    wb_http_server *srv;
    int fd, slot;
    char *buf; /* bytes read and not yet consumed: buf[0..len) */
    size_t len, cap;
    int rcvtimeo_ms; /* the socket's SO_RCVTIMEO (0: none set yet) */
    char client_ip[INET6_ADDRSTRLEN];
    int client_port;
} conn;

static int send_all(int fd, const struct iovec *iov_in, int n) {
    struct iovec iov[4];
    memcpy(iov, iov_in, (size_t)n * sizeof *iov);
    int i = 0;
    while (i < n) {
        struct msghdr mh = {.msg_iov = iov + i, .msg_iovlen = (size_t)(n - i)};
        ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        size_t left = (size_t)w;
        while (i < n && left >= iov[i].iov_len) left -= iov[i++].iov_len;
        if (i < n) {
            iov[i].iov_base = (char *)iov[i].iov_base + left;
            iov[i].iov_len -= left;
        }
    }
    return 0;
}

static int send_response(int fd, const wb_http_response *r, bool head_only, bool keep) {
    char *head = NULL;
    size_t hl = 0;
    int status = r->status ? r->status : 200;
    wb_appendf(&head, &hl, "HTTP/1.1 %d %s\r\n", status, wb_http_reason(status));
    for (size_t i = 0; i < r->nheaders; i++) wb_appendf(&head, &hl, "%s\r\n", r->header_lines[i]);
    bool no_body = status == 204 || status == 304 || (status >= 100 && status < 200);
    if (!no_body) wb_appendf(&head, &hl, "Content-Length: %zu\r\n", r->body_len);
    wb_appendf(&head, &hl, "%s\r\n", keep ? "" : "Connection: close\r\n");
    struct iovec iov[2] = {{head, hl}, {r->body, head_only || no_body ? 0 : r->body_len}};
    int rc = send_all(fd, iov, iov[1].iov_len ? 2 : 1);
    free(head);
    return rc;
}

static void send_error(int fd, int status, const char *text) {
    wb_http_response r = {.status = status};
    wb_http_response_header(&r, "Content-Type", "text/plain; charset=utf-8");
    wb_http_response_append(&r, text, strlen(text));
    wb_http_response_append(&r, "\n", 1);
    send_response(fd, &r, false, false);
    wb_http_response_release(&r);
}

/* Read more into c->buf; 0 at EOF, -1 on error or timeout, else the bytes read. A blocking recv
 * with the socket's receive timeout: one system call a read (a poll first would be two). */
static ssize_t fill(conn *c, int timeout_ms) {
    WB_VEC_RESERVE(c->buf, c->cap, c->len + 4096 + 1);
    if (c->rcvtimeo_ms != timeout_ms) {
        struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) return -1;
        c->rcvtimeo_ms = timeout_ms;
    }
    ssize_t n;
    while ((n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0)) < 0 && errno == EINTR) {
    }
    if (n > 0) c->len += (size_t)n;
    return n;
}

static void consume(conn *c, size_t n) {
    if (!n) return;
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

static char *find_head_end(const char *s, size_t n) {
    return n < 4 ? NULL : memmem(s, n, "\r\n\r\n", 4); /* s is NULL before the first read */
}

static bool token_char(char ch) {
    return ch > 0x20 && ch < 0x7f && !strchr("()<>@,;:\\\"/[]?={}", ch);
}

typedef struct parsed {
    wb_http_request req;
    wb_http_header headers[WB_HTTP_MAX_HEADERS];
    char *head; /* a copy of the head, cut into the strings above */
    uint8_t *body;
    bool keep;
} parsed;

/* Parse the head (NUL-terminated copy at p->head); the status to reply on failure, else 0. */
static int parse_head(parsed *p, const char **why) {
    char *s = p->head, *eol = strstr(s, "\r\n");
    *eol = 0;
    char *sp1 = strchr(s, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp1 || !sp2 || sp1 == s || sp2 == sp1 + 1) return *why = "malformed request line", 400;
    *sp1 = *sp2 = 0;
    for (char *m = s; *m; m++)
        if (!token_char(*m)) return *why = "malformed method", 400;
    const char *version = sp2 + 1;
    if (strncmp(version, "HTTP/1.", 7) || version[7] < '0' || version[7] > '9' || version[8])
        return *why = "unsupported HTTP version", version[0] == 'H' ? 505 : 400;
    p->req.method = s;
    p->req.target = sp1 + 1;
    p->req.minor_version = version[7] - '0';
    if (p->req.target[0] != '/' && strcmp(p->req.target, "*"))
        return *why = "the target is not an absolute path", 400;
    for (const char *t = p->req.target; *t; t++)
        if ((unsigned char)*t <= 0x20 || *t == 0x7f) return *why = "malformed target", 400;
    s = eol + 2;
    while (*s) {
        eol = strstr(s, "\r\n");
        if (!eol) break;
        *eol = 0;
        if (p->req.nheaders == WB_HTTP_MAX_HEADERS) return *why = "too many header fields", 431;
        char *colon = strchr(s, ':');
        if (!colon || colon == s) return *why = "malformed header field", 400;
        *colon = 0;
        for (char *n = s; *n; n++) {
            if (!token_char(*n)) return *why = "malformed header field name", 400;
            if (*n >= 'A' && *n <= 'Z') *n = (char)(*n - 'A' + 'a');
        }
        char *v = colon + 1, *ve = eol;
        while (*v == ' ' || *v == '\t') v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) *--ve = 0;
        for (char *x = v; *x; x++)
            if ((unsigned char)*x < 0x20 && *x != '\t') return *why = "malformed header value", 400;
        p->headers[p->req.nheaders++] = (wb_http_header){s, v};
        s = eol + 2;
    }
    p->req.headers = p->headers;
    return 0;
}

/* The body per Content-Length or chunked encoding, read whole into p->body. 0, -1 (the
 * connection is gone), or the status to reply. */
static int read_body(conn *c, parsed *p, const char **why) {
    const wb_http_server_config *cfg = &c->srv->cfg;
    const char *te = wb_http_request_header(&p->req, "transfer-encoding"),
               *cl = wb_http_request_header(&p->req, "content-length");
    size_t want = 0;
    if (te && cl) return *why = "both Content-Length and Transfer-Encoding", 400;
    for (size_t i = 0; i < p->req.nheaders; i++)
        if (!strcmp(p->headers[i].name, "content-length") && strcmp(p->headers[i].value, cl))
            return *why = "conflicting Content-Length fields", 400;
    if (cl) {
        char *e;
        if (!*cl || cl[0] < '0' || cl[0] > '9') return *why = "malformed Content-Length", 400;
        errno = 0;
        unsigned long long v = strtoull(cl, &e, 10);
        if (*e || errno) return *why = "malformed Content-Length", 400;
        if (v > cfg->max_body_bytes) return *why = "request body too large", 413;
        want = (size_t)v;
    }
    const char *expect = wb_http_request_header(&p->req, "expect");
    if (expect && !strcasecmp(expect, "100-continue") && (want || te) && c->len == 0) {
        struct iovec iov = {(void *)"HTTP/1.1 100 Continue\r\n\r\n", 25};
        if (send_all(c->fd, &iov, 1) < 0) return -1;
    }
    if (te) {
        if (strcasecmp(te, "chunked")) return *why = "unsupported Transfer-Encoding", 501;
        size_t got = 0, cap = 0;
        for (;;) {
            char *eol;
            while (!(eol = memmem(c->buf, c->len, "\r\n", 2))) {
                if (c->len > 1024) return *why = "malformed chunk size", 400;
                if (fill(c, cfg->idle_timeout_ms) <= 0) return -1;
            }
            char *e;
            if (!((c->buf[0] >= '0' && c->buf[0] <= '9') ||
                  (c->buf[0] >= 'a' && c->buf[0] <= 'f') || (c->buf[0] >= 'A' && c->buf[0] <= 'F')))
                return *why = "malformed chunk size", 400;
            errno = 0;
            unsigned long long n = strtoull(c->buf, &e, 16);
            if (errno || (e != eol && *e != ';')) return *why = "malformed chunk size", 400;
            if (n > cfg->max_body_bytes - got) return *why = "request body too large", 413;
            consume(c, (size_t)(eol + 2 - c->buf));
            if (n == 0) { /* trailers up to an empty line */
                for (;;) {
                    while (!(eol = memmem(c->buf, c->len, "\r\n", 2))) {
                        if (c->len > cfg->max_header_bytes) return *why = "trailers too large", 431;
                        if (fill(c, cfg->idle_timeout_ms) <= 0) return -1;
                    }
                    bool last = eol == c->buf;
                    consume(c, (size_t)(eol + 2 - c->buf));
                    if (last) break;
                }
                break;
            }
            while (c->len < n + 2)
                if (fill(c, cfg->idle_timeout_ms) <= 0) return -1;
            if (memcmp(c->buf + n, "\r\n", 2)) return *why = "malformed chunk", 400;
            WB_VEC_RESERVE(p->body, cap, got + n + 1);
            memcpy(p->body + got, c->buf, n);
            got += n;
            consume(c, n + 2);
        }
        WB_VEC_RESERVE(p->body, cap, got + 1);
        p->body[got] = 0;
        p->req.body = p->body;
        p->req.body_len = got;
        return 0;
    }
    p->body = wb_malloc(want + 1);
    size_t have = 0;
    while (have < want) {
        if (!c->len && fill(c, cfg->idle_timeout_ms) <= 0) return -1;
        size_t n = c->len < want - have ? c->len : want - have;
        memcpy(p->body + have, c->buf, n);
        have += n;
        consume(c, n);
    }
    p->body[want] = 0;
    p->req.body = p->body;
    p->req.body_len = want;
    return 0;
}

static bool wants_keep_alive(const wb_http_request *req) {
    const char *cn = wb_http_request_header(req, "connection");
    if (req->minor_version == 0) return cn && strcasestr(cn, "keep-alive");
    return !(cn && strcasestr(cn, "close"));
}

/* One request on c: 1 to go on, 0 to close. */
static int serve_one(conn *c) {
    const wb_http_server_config *cfg = &c->srv->cfg;
    char *end;
    bool first = true;
    while (!(end = find_head_end(c->buf, c->len))) {
        if (c->len > cfg->max_header_bytes) {
            send_error(c->fd, 431, "Request Header Fields Too Large");
            return 0;
        }
        /* leading empty lines before a request are ignored (RFC 9112, 2.2) */
        while (c->len >= 2 && !memcmp(c->buf, "\r\n", 2)) consume(c, 2);
        if (fill(c, first && !c->len ? cfg->idle_timeout_ms : 30000) <= 0) return 0;
        first = false;
    }
    size_t head_len = (size_t)(end - c->buf) + 4;
    if (head_len > cfg->max_header_bytes) {
        send_error(c->fd, 431, "Request Header Fields Too Large");
        return 0;
    }
    parsed p;
    memset(&p, 0, sizeof p);
    p.head = wb_strndup(c->buf, head_len - 2); /* keeps the last header's \r\n */
    consume(c, head_len);
    const char *why = "";
    int status = parse_head(&p, &why);
    if (!status) status = read_body(c, &p, &why);
    int rc = 0;
    if (status < 0) goto out;
    if (status) {
        send_error(c->fd, status, why);
        goto out;
    }
    char *q = strchr(p.req.target, '?');
    size_t plen = q ? (size_t)(q - p.req.target) : strlen(p.req.target);
    char *path = wb_strndup(p.req.target, plen);
    p.req.path = path;
    p.req.query = q ? q + 1 : "";
    const char *host = wb_http_request_header(&p.req, "host");
    p.req.host = host ? host : "";
    p.req.client_ip = c->client_ip;
    p.req.client_port = c->client_port;
    p.keep = wants_keep_alive(&p.req);
    if (p.req.minor_version >= 1 && !host) {
        free(path);
        send_error(c->fd, 400, "missing Host header");
        goto out;
    }
    wb_http_response r = {.status = 200};
    if (cfg->handler(cfg->ctx, &p.req, &r) < 0) {
        wb_http_response_release(&r);
        r.status = 500;
        wb_http_response_header(&r, "Content-Type", "text/plain; charset=utf-8");
        wb_http_response_append(&r, "Internal Server Error\n", 22);
    }
    bool keep = p.keep && !c->srv->stopping;
    if (send_response(c->fd, &r, !strcmp(p.req.method, "HEAD"), keep) == 0 && keep) rc = 1;
    wb_http_response_release(&r);
    free(path);
out:
    free(p.head);
    free(p.body);
    return rc;
}

static void *conn_main(void *arg) {
    conn *c = arg;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    while (serve_one(c) == 1) {
    }
    wb_http_server *s = c->srv;
    pthread_mutex_lock(&s->lock);
    s->conns[c->slot] = -1;
    s->nconns--;
    close(c->fd);
    pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->lock);
    free(c->buf);
    free(c);
    return NULL;
}

/* ---- the server ---- */

int wb_http_server_new(const wb_http_server_config *cfg, wb_http_server **out, wb_error *err) {
    *out = NULL;
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV,
                             .ai_socktype = SOCK_STREAM},
                    *ai;
    char port[16];
    snprintf(port, sizeof port, "%d", cfg->port);
    int gai = getaddrinfo(cfg->host, port, &hints, &ai);
    if (gai)
        return wb_error_set(err, EINVAL, "listen on %s:%d: %s", cfg->host, cfg->port,
                            gai_strerror(gai));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 512) != 0) {
        int e = errno;
        freeaddrinfo(ai);
        if (fd >= 0) close(fd);
        errno = e;
        return wb_error_sys(err, "listen on %s:%d", cfg->host, cfg->port);
    }
    freeaddrinfo(ai);
    wb_http_server *s = wb_calloc(1, sizeof *s);
    s->cfg = *cfg;
    if (!s->cfg.max_header_bytes) s->cfg.max_header_bytes = 16 << 10;
    if (!s->cfg.max_body_bytes) s->cfg.max_body_bytes = 16 << 20;
    if (!s->cfg.max_connections) s->cfg.max_connections = 128;
    if (!s->cfg.idle_timeout_ms) s->cfg.idle_timeout_ms = 60000;
    s->listen_fd = fd;
    if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        close(fd);
        free(s);
        return wb_error_sys(err, "pipe");
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->idle, NULL);
    s->conns = wb_calloc((size_t)s->cfg.max_connections, sizeof *s->conns);
    for (int i = 0; i < s->cfg.max_connections; i++) s->conns[i] = -1;
    *out = s;
    return 0;
}

int wb_http_server_port(const wb_http_server *s) {
    struct sockaddr_storage ss;
    socklen_t n = sizeof ss;
    if (getsockname(s->listen_fd, (struct sockaddr *)&ss, &n) != 0) return -1;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

void wb_http_server_stop(wb_http_server *s) {
    char b = 1;
    if (write(s->wake[1], &b, 1) < 0) { /* a full pipe already says stop */
    }
}

/* a free connection slot, waiting for one while all are taken; -1 when stopping */
static int take_slot(wb_http_server *s, struct pollfd *stop) {
    pthread_mutex_lock(&s->lock);
    while (s->nconns == s->cfg.max_connections) {
        pthread_mutex_unlock(&s->lock);
        if (poll(stop, 2, 50) > 0) return -1;
        pthread_mutex_lock(&s->lock);
    }
    int slot = 0;
    while (s->conns[slot] != -1) slot++;
    s->conns[slot] = -2; /* taken, no socket yet */
    s->nconns++;
    pthread_mutex_unlock(&s->lock);
    return slot;
}

int wb_http_server_run(wb_http_server *s, int stop_fd, wb_error *err) {
    struct pollfd pf[3] = {{.fd = s->wake[0], .events = POLLIN},
                           {.fd = stop_fd, .events = POLLIN},
                           {.fd = s->listen_fd, .events = POLLIN}};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* handlers run Wasm instances: compiled code calls on the thread's own stack (reserved,
     * committed as used) */
    pthread_attr_setstacksize(&attr, 8 << 20);
    int rc = 0;
    for (;;) {
        int slot = take_slot(s, pf);
        if (slot < 0) break;
        int pr = poll(pf, 3, -1);
        if (pr < 0 && errno != EINTR) {
            rc = wb_error_sys(err, "poll");
            break;
        }
        if (pr > 0 && (pf[0].revents || pf[1].revents)) {
            pthread_mutex_lock(&s->lock);
            s->conns[slot] = -1;
            s->nconns--;
            pthread_mutex_unlock(&s->lock);
            break;
        }
        struct sockaddr_storage peer;
        socklen_t peer_len = sizeof peer;
        int fd =
            pr > 0 ? accept4(s->listen_fd, (struct sockaddr *)&peer, &peer_len, SOCK_CLOEXEC) : -1;
        if (fd < 0) {
            pthread_mutex_lock(&s->lock);
            s->conns[slot] = -1;
            s->nconns--;
            pthread_mutex_unlock(&s->lock);
            if (pr > 0 && (errno == EMFILE || errno == ENFILE)) usleep(10000);
            continue;
        }
        conn *c = wb_calloc(1, sizeof *c);
        c->srv = s;
        c->fd = fd;
        char port[16];
        if (getnameinfo((struct sockaddr *)&peer, peer_len, c->client_ip, sizeof c->client_ip, port,
                        sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) == 0)
            c->client_port = atoi(port);
        else
            c->client_ip[0] = 0;
        c->slot = slot;
        pthread_mutex_lock(&s->lock);
        s->conns[slot] = fd;
        pthread_mutex_unlock(&s->lock);
        pthread_t th;
        if (pthread_create(&th, &attr, conn_main, c) != 0) {
            send_error(fd, 503, "Service Unavailable");
            pthread_mutex_lock(&s->lock);
            s->conns[slot] = -1;
            s->nconns--;
            pthread_mutex_unlock(&s->lock);
            close(fd);
            free(c);
        }
    }
    pthread_attr_destroy(&attr);
    /* stop: no more requests on open connections; the handlers running asked to end; wait */
    if (s->cfg.on_stop) s->cfg.on_stop(s->cfg.ctx);
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    for (int i = 0; i < s->cfg.max_connections; i++)
        if (s->conns[i] >= 0) shutdown(s->conns[i], SHUT_RD);
    while (s->nconns) pthread_cond_wait(&s->idle, &s->lock);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

void wb_http_server_free(wb_http_server *s) {
    if (!s) return;
    close(s->listen_fd);
    close(s->wake[0]);
    close(s->wake[1]);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->idle);
    free(s->conns);
    free(s);
}
