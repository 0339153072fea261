/* apps/http_client.h — outbound HTTP for the application runtimes (Spin's wasi-outbound-http):
 * one request over HTTP/1.1 to an http:// URL (https is refused: the static core has no TLS),
 * resolved and connected from the container's network namespace, the answer read whole (by
 * Content-Length, chunked, or to the end of the connection), with a time limit and size bounds.
 * And the check of a URL against Spin's allowed_outbound_hosts. */
#ifndef WB_APPS_HTTP_CLIENT_H
#define WB_APPS_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "apps/http_server.h"
#include "base/error.h"

#define WB_HTTP_FETCH_MAX_BYTES (16u << 20) /* the answer, head and body */

/* scheme, host and port of an absolute URL ("http://h:8080/x": "http", "h", 8080; the scheme's
 * port when none is given). false when it is not one. */
bool wb_url_split(const char *url, char scheme[16], char host[256], int *port, const char **path);

/* Does url's scheme://host:port match one of the patterns: "http://127.0.0.1:8080",
 * "https://example.com" (port 443), a host "*.example.com" for its subdomains, and "*" for any
 * scheme, host or port? */
bool wb_url_allowed(const char *url, char *const *patterns, size_t n);

/* Send method url with headers (pairs: nheaders names and values) and body; the answer in *resp
 * (status, headers, body). timeout_ms for the whole exchange. -1 with err: EINVAL (a bad URL),
 * ENOTSUP (https), the resolver's or the socket's errors, ETIMEDOUT, EFBIG, EPROTO. */
int wb_http_fetch(const char *method, const char *url, const wb_http_header *headers,
                  size_t nheaders, const void *body, size_t body_len, int timeout_ms,
                  wb_http_response *resp, wb_error *err);

#endif
