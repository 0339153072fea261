/* runtime/oci_spec.h — an OCI runtime bundle (config.json, runtime-spec 1.x) as the shim and the
 * runc-compatible CLI (`wasmbox oci`) read it: the parts wasmbox uses, and the decision whether
 * the bundle runs as a Wasm workload or a Linux container. Owns the parsed strings.
 *
 * Wasm or Linux (issue #17, shim.md section 4, in this order):
 *  1. the annotation `run.oci.handler` (crun's): "wasm" → Wasm; "wasm-smart" → Wasm when
 *     args[0] ends in .wasm or .wat; `module.wasm.image/variant` "compat" → Wasm, "compat-smart"
 *     as wasm-smart; never for `io.kubernetes.cri.container-type=sandbox` (the pause container);
 *  2. the caller's hint (the shim's runtime name: io.containerd.wasmedge.v1 etc. prefer Wasm);
 *  3. args[0] inside the root: ELF magic or "#!" → Linux; "\0asm" → Wasm; a name without '/'
 *     looked up in the process's PATH inside the root the same way;
 *  4. args[0] found nowhere and not named NAME.wasm or NAME.wat → Linux (its lookup then
 *     fails as runc's does: `exec: "x": executable file not found in $PATH`, Docker's 127);
 *  5. otherwise: Linux when the caller's hint is Linux, else the error
 *     "cannot tell how to run ARGS0: not a WebAssembly module nor a Linux executable". */
#ifndef WB_RUNTIME_OCI_SPEC_H
#define WB_RUNTIME_OCI_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef struct wb_oci_mount {
    char *destination, *type, *source;
    char **options;
    size_t noptions;
} wb_oci_mount;

typedef struct wb_oci_namespace {
    char *type; /* "pid", "network", "mount", "ipc", "uts", "user", "cgroup" */
    char *path; /* NULL: a new one */
} wb_oci_namespace;

typedef struct wb_oci_spec {
    char *bundle; /* absolute */
    char *root;   /* root.path, absolute (relative ones resolved against the bundle) */
    bool root_readonly;
    char **args, **env; /* NULL-terminated */
    size_t nargs, nenv;
    char *cwd; /* process.cwd (default "/") */
    bool terminal;
    uint32_t uid, gid;
    char *hostname;
    wb_oci_mount *mounts;
    size_t nmounts;
    wb_oci_namespace *namespaces;
    size_t nnamespaces;
    char *cgroups_path;   /* linux.cgroupsPath, or NULL */
    int64_t memory_limit; /* linux.resources.memory.limit (0: none) */
    json_t *annotations;  /* object (never NULL) */
    json_t *doc;          /* the whole config.json */
} wb_oci_spec;

/* Read BUNDLE/config.json. Errors name the file and the field ("config.json: process.args must
 * be a non-empty array of strings"). */
int wb_oci_spec_load(const char *bundle, wb_oci_spec *out, wb_error *err);
/* A process spec alone (`exec --process FILE`): args, env, cwd, terminal, user into the
 * matching fields of out (the rest zero). */
int wb_oci_process_load(const char *path, wb_oci_spec *out, wb_error *err);
/* The same from JSON text (the shim's Exec carries it). */
int wb_oci_process_parse(const char *text, wb_oci_spec *out, wb_error *err);
void wb_oci_spec_free(wb_oci_spec *s);

/* The namespace entry of that type, or NULL when the spec has none (the host's is kept). */
const wb_oci_namespace *wb_oci_spec_namespace(const wb_oci_spec *s, const char *type);

typedef enum wb_oci_kind { WB_OCI_WASM, WB_OCI_LINUX } wb_oci_kind;
/* Decide as above; prefer_wasm is the caller's hint. */
int wb_oci_spec_kind(const wb_oci_spec *s, bool prefer_wasm, wb_oci_kind *kind, wb_error *err);

#endif
