/* apps/http_server.h — the HTTP/1.1 server of the application runtimes (wws now; Spin and slight
 * next): a listening socket, a thread per connection (up to a bound), keep-alive, requests with
 * Content-Length or chunked bodies read whole and handed to one handler, bounded header and body
 * sizes, and the server's own 400/413/431/500/503 replies. It knows nothing of any framework. */
#ifndef WB_APPS_HTTP_SERVER_H
#define WB_APPS_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define WB_HTTP_MAX_HEADERS 100 /* header lines in one request */

typedef struct wb_http_header {
    const char *name; /* lower case */
    const char *value;
} wb_http_header;

/* A request as the handler sees it: every string NUL-terminated and owned by the server, valid
 * during the handler's call. */
typedef struct wb_http_request {
    const char *method;
    const char *target; /* as sent: path and query ("/a/b?x=1") */
    const char *path;   /* the target up to '?' (still percent-encoded) */
    const char *query;  /* after '?', or "" */
    const char *host;   /* the Host header, or "" */
    int minor_version;  /* HTTP/1.<minor_version> */
    const wb_http_header *headers;
    size_t nheaders;
    const uint8_t *body; /* body_len bytes, followed by a NUL not counted */
    size_t body_len;
    const char *client_ip; /* the peer's address ("" when unknown) and port */
    int client_port;
} wb_http_request;

/* The handler's answer. Headers and body are copied in with the functions below and freed by the
 * server after sending; Content-Length and Connection are the server's own. */
typedef struct wb_http_response {
    int status;
    char **header_lines; /* "Name: value" */
    size_t nheaders, cap;
    uint8_t *body;
    size_t body_len, body_cap;
} wb_http_response;

void wb_http_response_header(wb_http_response *r, const char *name, const char *value);
void wb_http_response_append(wb_http_response *r, const void *data, size_t len);
/* Empties r (status 0, no headers, no body), keeping nothing. */
void wb_http_response_release(wb_http_response *r);
/* The reason phrase of a status code ("OK", "Not Found", ... ; "" when unknown). */
const char *wb_http_reason(int status);
/* The header's value (name in lower case), or NULL. */
const char *wb_http_request_header(const wb_http_request *req, const char *name);

/* Fills resp (status 200 and no headers when it starts). Returns 0, or < 0 when it failed
 * without an answer: the server replies 500 then. Called on many threads at once. */
typedef int (*wb_http_handler)(void *ctx, const wb_http_request *req, wb_http_response *resp);

typedef struct wb_http_server_config {
    const char *host; /* address to bind: "0.0.0.0", "127.0.0.1", "::" ... */
    int port;         /* 0: one the kernel picks (wb_http_server_port says which) */
    wb_http_handler handler;
    void *ctx;
    size_t max_header_bytes; /* request line and headers; 0: 16 KiB (else 431) */
    size_t max_body_bytes;   /* 0: 16 MiB (else 413) */
    int max_connections;     /* served at once; 0: 128 (more wait in the backlog) */
    int idle_timeout_ms;     /* a kept-alive connection with no request is closed; 0: 60 s */
    /* called (may be NULL) when the server stops, before it waits for the running handlers:
     * where an app ends the requests still running (instance_pool.h's wb_pool_stop) */
    void (*on_stop)(void *ctx);
} wb_http_server_config;

typedef struct wb_http_server wb_http_server;

/* Bind and listen (cfg is copied). The caller owns *out (wb_http_server_free). */
int wb_http_server_new(const wb_http_server_config *cfg, wb_http_server **out, wb_error *err);
int wb_http_server_port(const wb_http_server *s);
/* Serve until stop_fd (if >= 0) becomes readable or wb_http_server_stop is called: then stop
 * accepting, shut the open connections down and wait for their handlers to return. */
int wb_http_server_run(wb_http_server *s, int stop_fd, wb_error *err);
/* Ask a running server to stop (from any thread; async-signal-safe: one write to a pipe). */
void wb_http_server_stop(wb_http_server *s);
void wb_http_server_free(wb_http_server *s);

#endif
