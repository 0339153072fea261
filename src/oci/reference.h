/* Image references as Docker normalises them: `hello` → docker.io/library/hello:latest,
 * `localhost:5000/app`, `name@sha256:…`. */
#ifndef WB_OCI_REFERENCE_H
#define WB_OCI_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "oci/digest.h"

#define WB_REF_MAX 512

typedef struct wb_ref {
    char domain[256]; /* "docker.io", "localhost:5000", "registry.example.com" */
    char path[256];   /* "library/hello", "team/app" */
    char tag[129]; /* "latest" when neither a tag nor a digest was given; "" with a digest only */
    char digest[WB_DIGEST_MAX]; /* "" unless @digest was given */
} wb_ref;

/* Parse and normalise. Fails with Docker's wording for an invalid reference
 * ("invalid reference format", "invalid reference format: repository name must be lowercase"). */
int wb_ref_parse(const char *s, wb_ref *out, wb_error *err);
/* "docker.io/library/hello" */
void wb_ref_repo(const wb_ref *r, char *buf, size_t size);
/* "docker.io/library/hello:latest" or "…@sha256:…" (tag form when both are present: tag) */
void wb_ref_full(const wb_ref *r, char *buf, size_t size);
/* Docker's familiar form of the repository: "hello", "team/app", "localhost:5000/app". */
void wb_ref_familiar_repo(const wb_ref *r, char *buf, size_t size);
/* The familiar form of a full "repo:tag" string as stored in the index. */
void wb_ref_familiar(const char *full, char *buf, size_t size);

#endif
