/* registry/ — the distribution-v2 client: pulling images into the store, pushing them out,
 * the registries' auth (Bearer token services, Basic) and the credentials kept by login.
 * libcurl is loaded on first use (base/dynlib.h), so only these commands pay for it. */
#ifndef WB_REGISTRY_REGISTRY_H
#define WB_REGISTRY_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/error.h"
#include "oci/digest.h"
#include "oci/store.h"

/* Error codes (err->code) beyond errno values: WB_REG_* in base/error.h. */

typedef enum wb_progress_mode {
    WB_PROGRESS_QUIET, /* nothing */
    WB_PROGRESS_LINES, /* one line per step (not a terminal) */
    WB_PROGRESS_TTY,   /* a line per layer redrawn in place, with bars */
} wb_progress_mode;

typedef struct wb_registry_opts {
    FILE *out; /* progress and status lines (NULL: stdout) */
    wb_progress_mode progress;
    const char *platform;        /* "os/arch[/variant]"; NULL: wasi/wasm, else the host's linux */
    bool tls_verify;             /* false: https without certificate checks, then plain http */
    const char *const *insecure; /* hosts ("host:port") treated as with tls_verify = false */
    size_t ninsecure;
    int max_parallel;      /* concurrent blob downloads (0: 3, as Docker) */
    uint64_t chunk_size;   /* push: blobs above this go up in chunks of it (0: 16 MiB) */
    bool default_tag_said; /* the caller printed "Using default tag: latest" already (run) */
} wb_registry_opts;

/* Defaults: stdout, lines or tty by isatty, verify TLS. */
void wb_registry_opts_init(wb_registry_opts *o);
/* The defaults with progress on stderr (lines, or tty when stderr is a terminal): for commands
 * whose stdout is a workload's (run) or an ID (build). */
void wb_registry_opts_init_stderr(wb_registry_opts *o);

/* Pull `ref` (Docker-normalised) into the store: the manifest (the platform's one from an index),
 * the config and the layers, each verified for size and digest while streaming, downloaded in
 * parallel; the image is registered (tagged with the full reference unless pulled by digest) only
 * after every blob is committed. Writes the image's manifest digest; `up_to_date` (may be NULL)
 * tells whether nothing was new. */
int wb_registry_pull(wb_images *s, const char *ref, const wb_registry_opts *o,
                     char manifest_digest[WB_DIGEST_MAX], bool *up_to_date, wb_error *err);

/* The same shape as a hook for `build` (FROM of an image not in the store) and `run`: ctx is a
 * const wb_registry_opts * or NULL for the defaults with progress on stderr; platform may be
 * NULL. */
int wb_registry_pull_hook(void *ctx, wb_images *s, const char *ref, const char *platform,
                          char manifest_digest[WB_DIGEST_MAX], wb_error *err);

/* Pull every tag of the repository named by `ref` (its tag is ignored). */
int wb_registry_pull_all_tags(wb_images *s, const char *ref, const wb_registry_opts *o,
                              wb_error *err);

/* Push the local image `ref` to the registry its name points at: blobs the registry lacks
 * (HEAD first; mounted from another repository of the same registry when the image came from
 * one; monolithic or chunked upload), then the manifest. Writes the manifest digest (as the
 * registry reports it) and its size. */
int wb_registry_push(wb_images *s, const char *ref, const wb_registry_opts *o,
                     char digest[WB_DIGEST_MAX], uint64_t *size, wb_error *err);

/* The repository's tags (GET /v2/NAME/tags/list, following pagination). Caller frees each and the
 * array. */
int wb_registry_list_tags(const char *ref, const wb_registry_opts *o, char ***tags, size_t *n,
                          wb_error *err);

/* ---- credentials ---- */

/* The registry a login names: "HOST[:PORT]" from "HOST", "https://HOST/...", "" (docker.io). */
void wb_registry_host(const char *arg, char *buf, size_t size);

/* Where credentials are written: $REGISTRY_AUTH_FILE, else ~/.config/wasmbox/auth.json. */
void wb_registry_auth_file(char *buf, size_t size);

/* Check user/password against the registry (a wrong password fails here), then store them
 * (Docker's {"auths": {HOST: {"auth": base64(user:pass)}}}, file mode 0600). */
int wb_registry_login(const char *host, const char *user, const char *password,
                      const wb_registry_opts *o, wb_error *err);
/* Forget the credentials for host; *found tells whether there were any. */
int wb_registry_logout(const char *host, bool *found, wb_error *err);
/* Credentials for host from the auth file, else Docker's config.json ($DOCKER_CONFIG or
 * ~/.docker). Returns 1 and malloc'd strings when found, 0 when none, -1 on a broken file. */
int wb_registry_credentials(const char *host, char **user, char **password, wb_error *err);

#endif
