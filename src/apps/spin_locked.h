/* apps/spin_locked.h — Spin's locked application (the spin.lock JSON, `spin_lock_version` 0 or 1,
 * as Spin 1.x–3.x write it) read into the manifest model (apps/spin_manifest.h), so that an app
 * pulled from a registry (`spin registry push`: the artifact's config is the locked app) runs as
 * one read from spin.toml does. The pull side (oci/spin_artifact.h) has placed every content in
 * the root and rewritten every content reference to {"digest": "sha256:<64 hex>"} first.
 *
 * What is read: `metadata.name`, the HTTP base (`metadata.triggers.http.base`, Spin 1.x's
 * `metadata.trigger.base`), `variables`, the components (`source` and `files` by digest, `env`,
 * `config`, and from `metadata` `allowed_outbound_hosts`, `key_value_stores` and Spin 1.x's
 * `allowed_http_hosts`) and the http triggers (component, route, executor). Unknown keys are
 * ignored, as Spin ignores them; null is taken as absent (Spin 1.x writes "executor": null).
 *
 * Refused, each with a one-line message starting "spin.json: " and naming the element: a version
 * other than 0 or 1; a `must_understand` entry other than "host_requirements"; a required host
 * requirement (`local_service_chaining`: "service chaining is not supported"; others by name); a
 * trigger other than http ("the `redis` trigger is not supported"); a content reference without a
 * sha256 digest ("component `x`: source has no digest"); a file path that is absolute or leaves
 * the app through ".."; component dependencies (not composed before the push); a route naming an
 * undefined component, a static response, two routes the same; variable names and templates as
 * the manifest parser refuses them; more than 16 MiB of JSON, 4096 components, 4096 triggers,
 * 4096 variables or 65536 files in one component. */
#ifndef WB_APPS_SPIN_LOCKED_H
#define WB_APPS_SPIN_LOCKED_H

#include <stddef.h>

#include "apps/spin_manifest.h"
#include "base/error.h"

#define WB_SPIN_LOCKED_MAX_BYTES      ((size_t)16 << 20)
#define WB_SPIN_LOCKED_MAX_COMPONENTS 4096
#define WB_SPIN_LOCKED_MAX_TRIGGERS   4096
#define WB_SPIN_LOCKED_MAX_VARIABLES  4096
#define WB_SPIN_LOCKED_MAX_FILES      65536 /* in one component */

/* Parse the locked app's JSON (len bytes, not NUL-terminated) into *out (manifest_version 2).
 * content_dir is where the contents are, relative to the app's root (".spin-oci"): a component's
 * source and each file's source become "<content_dir>/sha256/<hex>", a file's destination "/" and
 * its `path`. The caller owns *out (wb_spin_app_free); *out is NULL on failure. < 0 with err
 * (EINVAL; EFBIG for the size). */
int wb_spin_locked_parse(const char *json, size_t len, const char *content_dir, wb_spin_app **out,
                         wb_error *err);

#endif
