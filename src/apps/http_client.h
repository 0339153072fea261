/* apps/http_client.h — outbound HTTP for the application runtimes (Spin's wasi-outbound-http and
 * wasi:http/outgoing-handler): one request over HTTP/1.1 to an http:// or https:// URL, made from
 * the calling process's network namespace (the container's), the answer read whole, with a time
 * limit and a size bound. And the check of a URL against Spin's allowed_outbound_hosts.
 *
 * wasmbox-full makes the request with libcurl (src/base/dynlib.h), one easy handle per call (so
 * any number of threads may call at once): https verified against the system's CAs, or, when the
 * environment variable SSL_CERT_FILE is set, against that file alone (OpenSSL's convention, which
 * libcurl does not follow by itself); no proxy (whatever http_proxy says), no redirect followed
 * (a 3xx is the answer), no signals. The static core (build/wasmbox), which loads no library,
 * has a client of its own for http:// only: https there fails with ENOTSUP. */
#ifndef WB_APPS_HTTP_CLIENT_H
#define WB_APPS_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "apps/http_server.h"
#include "base/error.h"

/* the answer's body (in the static core: head and body) */
#define WB_HTTP_FETCH_MAX_BYTES (16u << 20)

/* scheme, host and port of an absolute URL ("http://h:8080/x": "http", "h", 8080; the scheme's
 * port when none is given). false when it is not one. */
bool wb_url_split(const char *url, char scheme[16], char host[256], int *port, const char **path);

/* Does url's scheme://host:port match one of the patterns: "http://127.0.0.1:8080",
 * "https://example.com" (port 443), a host "*.example.com" for its subdomains, and "*" for any
 * scheme, host or port? */
bool wb_url_allowed(const char *url, char *const *patterns, size_t n);

/* Are s[0..n) an HTTP token (RFC 9110: a method, a header name)? false when empty. */
bool wb_http_token(const char *s, size_t n);

/* Send method url with headers (pairs: nheaders names and values) and body (body_len bytes, sent
 * with a Content-Length; none for a GET or HEAD without one); the answer in *resp: status, header
 * lines ("Name: value", without Connection, Content-Length and Transfer-Encoding) and the body
 * (de-chunked, not decompressed; at most WB_HTTP_FETCH_MAX_BYTES). The caller's Host, Connection,
 * Content-Length, Transfer-Encoding and Expect headers are left out (the client writes its own;
 * no 100-continue). timeout_ms for the whole exchange. Called on many threads at once.
 * resp starts empty (zeroed). 0, or -1 with err (one line naming the host), resp empty, and
 * err->code one of these, which callers map:
 *   EINVAL       a bad URL (not absolute, a host that is not a plain name or address), method or
 *                header (a name that is not a token, a value with a line break)
 *   ENOTSUP      a scheme other than http and https (and https in the static core)
 *   EHOSTUNREACH the name does not resolve
 *   ECONNREFUSED the connection was refused (or the socket's own errno when it failed otherwise)
 *   ETIMEDOUT    no whole answer within timeout_ms
 *   EKEYREJECTED the server's certificate is not trusted (or the CA file cannot be read)
 *   EPROTO       another TLS failure (a handshake that failed)
 *   EBADMSG      an answer that is not HTTP
 *   EFBIG        a body larger than WB_HTTP_FETCH_MAX_BYTES
 *   EIO, ENOMEM  anything else */
int wb_http_fetch(const char *method, const char *url, const wb_http_header *headers,
                  size_t nheaders, const void *body, size_t body_len, int timeout_ms,
                  wb_http_response *resp, wb_error *err);

#endif
