/* registry/ internals: an HTTP client for one registry and repository (libcurl), with the auth
 * dance done on demand, registry error bodies turned into messages, parallel blob downloads into
 * the store, progress output, and the credentials file. Not for use outside src/registry. */
#ifndef WB_REGISTRY_CLIENT_H
#define WB_REGISTRY_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/dynlib.h"
#include "base/error.h"
#include "oci/store.h"
#include "registry/registry.h"

/* Bounds on what a registry may send us. */
#define WB__REG_ERROR_BODY_MAX ((size_t)64 << 10) /* error bodies are kept up to this */
#define WB__REG_TOKEN_BODY_MAX ((size_t)1 << 20)
#define WB__REG_TAGS_BODY_MAX  ((size_t)8 << 20)
#define WB__REG_MAX_TAGS       100000

/* ---- progress ---- */

typedef struct wb__progress wb__progress;
/* Owned by the caller: out is not closed. */
wb__progress *wb__progress_new(FILE *out, wb_progress_mode mode);
void wb__progress_free(wb__progress *p);
/* A line of its own ("latest: Pulling from library/hello"). */
void wb__progress_line(wb__progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A row for a layer (its short id); returns its index. */
int wb__progress_add(wb__progress *p, const char *digest, const char *status);
/* Set a row's status; a status with a total draws a bar on a terminal ("Downloading"). Lines
 * mode prints a row's status once each time it changes. */
void wb__progress_set(wb__progress *p, int row, const char *status, uint64_t cur, uint64_t total);
/* Docker's human sizes in progress output: "%.4g" with decimal units (12.35MB). */
void wb__human_size(uint64_t n, char *buf, size_t size);

/* ---- the client ---- */

typedef struct wb__reg_client wb__reg_client;

/* A request body: memory, or a range of a file (fd >= 0). progress (may be NULL) is told the
 * bytes sent so far. */
typedef struct wb__reg_body {
    const uint8_t *data;
    size_t len;
    int fd; /* -1: data/len */
    uint64_t offset, size;
    const char *content_type;
    void (*progress)(void *ctx, uint64_t sent);
    void *ctx;
} wb__reg_body;

typedef struct wb__reg_resp {
    long status;
    char content_type[160];          /* without parameters */
    char digest[WB_DIGEST_MAX + 16]; /* Docker-Content-Digest */
    char location[4096];
    char www_authenticate[2048];
    char link[2048];
    char range[64];
    int64_t content_length; /* -1: not given */
    uint8_t *body;          /* the first `limit` bytes (NUL-terminated), owned */
    size_t len, limit;
    bool over_limit; /* the body was longer than limit (reading stopped there) */
} wb__reg_resp;

void wb__reg_resp_release(wb__reg_resp *r);

/* A client for repository `path` on registry `domain` (as in references: "127.0.0.1:5000",
 * "docker.io"), asking for `actions` ("pull", "pull,push") on it; `also_pull` (may be NULL/0)
 * names other repositories on the same registry to read (for cross-repository mounts).
 * Pings /v2/ to learn how the registry authenticates, and authenticates if it asks. */
int wb__reg_open(const char *domain, const char *path, const char *actions,
                 const char *const *also_pull, size_t nalso, const wb_registry_opts *o,
                 wb__reg_client **out, wb_error *err);
/* A client that has not spoken to the registry yet (no credentials, no auth): for login. */
int wb__reg_new(const char *domain, const wb_registry_opts *o, wb__reg_client **out, wb_error *err);
void wb__reg_close(wb__reg_client *c);
const char *wb__reg_domain(const wb__reg_client *c);
const char *wb__reg_path(const wb__reg_client *c);

/* One request. target is a path ("/v2/…", joined to the registry's base URL) or an absolute URL
 * (a Location the registry gave). extra_headers: NULL-terminated "Name: value" lines. body may be
 * NULL. The response body is kept up to body_limit bytes (more sets over_limit and stops the
 * transfer). On a 401 the client authenticates from the challenge and retries once. Returns 0
 * with any HTTP status in r, -1 (err filled, WB_REG_EUNREACHABLE) when no response came. */
int wb__reg_request(wb__reg_client *c, const char *method, const char *target,
                    const char *const *extra_headers, const wb__reg_body *body, size_t body_limit,
                    wb__reg_resp *r, wb_error *err);

/* Fill err from an unexpected response: the registry's error code and message, with what the user
 * can do (`wasmbox login HOST` for 401/403). `what` names the object ("manifest for x:latest").
 * Returns -1. */
int wb__reg_fail(wb__reg_client *c, const wb__reg_resp *r, const char *what, wb_error *err);

/* The pieces fetch.c and login share with the client. */
const char *wb__reg_base(const wb__reg_client *c);
const char *wb__reg_authorization(const wb__reg_client *c); /* "Authorization: …" or NULL */
const wb_libcurl *wb__reg_curl(const wb__reg_client *c);
/* Options every handle gets (timeouts, TLS checks, protocols); errbuf is CURL_ERROR_SIZE. */
void wb__reg_common_opts(const wb__reg_client *c, CURL *h, char *errbuf);
/* The URL of a target (path or absolute URL). */
void wb__reg_url(const wb__reg_client *c, const char *target, char *buf, size_t size);
/* A header callback filling a wb__reg_resp. */
size_t wb__reg_on_header(char *buf, size_t size, size_t nitems, void *userdata);
/* Fill err for a failed transfer, naming host and port. Returns -1. */
int wb__reg_transport_error(const wb__reg_client *c, CURLcode rc, const char *url,
                            const char *errbuf, wb_error *err);
/* Answer a challenge again (a token expired): 0 when the authorization changed, 1 when nothing
 * new can be sent, -1 on error. */
int wb__reg_reauthenticate(wb__reg_client *c, const char *challenge, wb_error *err);
/* For login: GET /v2/ (r filled), credentials to try, and answering a challenge with them. */
int wb__reg_ping(wb__reg_client *c, wb__reg_resp *r, wb_error *err);
int wb__reg_set_credentials(wb__reg_client *c, const char *user, const char *password);
int wb__reg_authenticate(wb__reg_client *c, const char *challenge, wb_error *err);
/* The value of `key` in a WWW-Authenticate challenge's parameters (quoted or a token). */
bool wb__reg_challenge_param(const char *params, const char *key, char *out, size_t size);
/* "host:port" of a URL (the scheme's port when absent). */
void wb__url_hostport(const char *url, char *buf, size_t size);

/* A blob to download into the store. */
typedef struct wb__reg_fetch {
    char digest[WB_DIGEST_MAX];
    uint64_t size;
    int row; /* progress row, or -1 */
} wb__reg_fetch;

/* Download blobs in parallel (at most max_parallel at a time), each streamed into a blob writer
 * that checks size and digest: a stream longer than declared is cut at size + 1, a mismatch
 * fails and nothing of that blob is committed. Blobs already committed stay committed when
 * another fails. */
int wb__reg_fetch_blobs(wb__reg_client *c, wb_images *s, wb__reg_fetch *items, size_t n,
                        int max_parallel, wb__progress *p, wb_error *err);

/* ---- credentials and encoding ---- */

/* Is host ("h", "h:port", "[v6]:port") on the loopback: localhost, 127.0.0.0/8, ::1? */
bool wb__reg_is_loopback(const char *host);

#endif
