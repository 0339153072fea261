/* http: a small HTTP/1.1 server loop: many connections at once through poll() (single thread),
 * keep-alive (HTTP/1.1 by default, HTTP/1.0 on request), pipelined requests answered in order,
 * request heads and Content-Length bodies however the reads split them, `Expect: 100-continue`,
 * and clean refusals (400, 413, 431, 501, 505) for what it does not take. One handler answers
 * each complete request. */
#ifndef MS_HTTP_H
#define MS_HTTP_H

#include <stddef.h>

#include "base.h"

#define HTTP_MAX_CONNS 256
#define HTTP_HEAD_MAX  16384      /* bytes of request line and headers */
#define HTTP_BODY_MAX  (1u << 20) /* bytes of request body */
#define HTTP_IDLE_MS   60000      /* an idle or stalled connection is closed after this */

/* A complete request; every pointer stays valid only during the handler call. */
typedef struct http_request {
    const char *method; /* "GET", ... */
    const char *path;   /* the target up to `?`, not decoded */
    const char *query;  /* after `?`, not decoded; NULL without one */
    const char *body;
    size_t body_len;
} http_request;

/* What the handler fills: status (200 when left alone), body, and whether to add the CORS
 * headers of the original service. */
typedef struct http_response {
    int status;
    int cors;
    buf body;
} http_response;

typedef void (*http_handler)(void *ctx, const http_request *req, http_response *res);

/* Serves connections accepted from the listening socket lfd, calling handler for each request.
 * Returns only when accept or poll fail for good: -1 with err. */
int http_serve(int lfd, http_handler handler, void *ctx, ms_error *err);

#endif
