/* tools/spectest/spectest.h — internals of wasmbox-spectest, the runner for wast2json output.
 * main.c walks the JSON files; script.c owns one script's state (store, linker, instances) and runs
 * actions; commands.c gives each command kind its meaning; json_values.c converts and compares
 * values; report.c counts outcomes and prints failures. Only src/wasm/wasm.h is used. */
#ifndef WB_SPECTEST_H
#define WB_SPECTEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasm/wasm.h"

/* Stated limits on sizes read from a script (the real suite stays far below them). */
#define SPEC_MODULE_MAX     ((size_t)256 << 20) /* bytes of one .wasm file */
#define SPEC_VALUES_MAX     1024u               /* args or results of one action */
#define SPEC_FAILURES_SHOWN 5u                  /* failures printed per file without -v */
#define SPEC_LANES_MAX      16u

/* ---- values (json_values.c) ---- */

typedef enum spec_match {
    SPEC_MATCH_BITS,           /* exact bit pattern (refs: exact pointer) */
    SPEC_MATCH_NAN_CANONICAL,  /* "nan:canonical": quiet NaN, empty payload, either sign */
    SPEC_MATCH_NAN_ARITHMETIC, /* "nan:arithmetic": any NaN with the quiet bit set */
    SPEC_MATCH_NONNULL,        /* a funcref expectation other than "null" */
} spec_match;

/* How a v128 is split into lanes: the JSON's "lane_type". Scalars use one lane. */
typedef struct spec_lanes {
    uint8_t bits; /* 8, 16, 32 or 64 */
    bool is_float;
} spec_lanes;

typedef struct spec_expect {
    wb_value value;                   /* type, and the bits of every SPEC_MATCH_BITS lane */
    spec_lanes lanes;                 /* v128 only */
    spec_match match[SPEC_LANES_MAX]; /* per lane; scalars use match[0] */
} spec_expect;

/* An argument {"type":…, "value":…} → *out. Returns 0, or -1 with err (code 0) saying why. */
int spec_value_parse(const json_t *j, wb_value *out, spec_lanes *lanes, wb_error *err);
/* An expected result, which may also be a NaN pattern or a non-null funcref. */
int spec_expect_parse(const json_t *j, spec_expect *out, wb_error *err);
bool spec_expect_matches(const spec_expect *e, const wb_value *got);
/* Human-readable forms for failure messages; v128 values use `lanes` (NULL = i32 lanes). */
void spec_value_format(const wb_value *v, const spec_lanes *lanes, char *buf, size_t size);
void spec_expect_format(const spec_expect *e, char *buf, size_t size);
/* "i32", "v128", "externref", … or NULL for a type the runner does not know. */
const char *spec_type_name(uint8_t type);
/* `name` (len bytes, may hold NUL) quoted, with unprintable bytes as \xx escapes. */
void spec_name_format(const char *name, size_t len, char *buf, size_t size);

/* ---- one script (script.c) ---- */

typedef struct spec_counts {
    uint64_t passed, failed, skipped;
} spec_counts;

typedef struct spec_named {
    char *name;        /* "$M" as written in the script; owned */
    wb_instance *inst; /* NULL when the module by that name failed */
} spec_named;

typedef struct spec_script {
    const char *dir;    /* directory of the JSON file; module file names are relative to it */
    const char *name;   /* file name without directory and ".json" */
    const char *source; /* name printed before line numbers: the .wast's basename, else NAME.json */
    bool verbose;
    wb_config cfg; /* how modules are compiled (e.g. bounds-checked memories) */
    bool native;   /* --engine native: every module through the compiler tier */
    int opt_level; /* -O N: its optimisation level (-1: the default) */
    spec_counts counts;
    uint64_t shown;       /* failures printed so far */
    wb_store *store;      /* one store for the whole script, as the spec's shared store */
    wb_linker *linker;    /* "spectest" plus every registered instance */
    wb_instance *current; /* the last module command's instance; NULL if it failed or none yet */
    spec_named *named;
    size_t nnamed, named_cap;
} spec_script;

/* Sets the fields; the strings are borrowed and must outlive s. Nothing to fail yet. */
void spec_script_init(spec_script *s, const char *dir, const char *name, const char *source,
                      bool verbose);
/* Makes the store and the linker with "spectest" defined. On failure err says why; the script
 * must still be released. */
int spec_script_open(spec_script *s, wb_error *err);
void spec_script_release(spec_script *s);
/* Binds `name` to inst (which may be NULL); a later binding hides an earlier one. */
int spec_script_bind(spec_script *s, const char *name, wb_instance *inst, wb_error *err);
/* The instance an optional "module"/"name" member refers to: by name, or the current one.
 * Returns NULL with err filled if there is none. */
wb_instance *spec_script_instance(spec_script *s, const json_t *name, wb_error *err);
/* Reads the command's "filename" (relative to s->dir); the caller frees *bytes. */
int spec_script_read_module(spec_script *s, const json_t *cmd, uint8_t **bytes, size_t *len,
                            wb_error *err);

typedef enum spec_action_result {
    SPEC_ACTION_OK,     /* results hold the values */
    SPEC_ACTION_FAILED, /* the engine returned an error (a trap: err->code WB_ETRAP) */
    SPEC_ACTION_BROKEN, /* could not be attempted: unknown instance or export, bad arguments */
} spec_action_result;

/* Performs an "invoke" or "get" action. On SPEC_ACTION_OK, *results (owned by the caller, free())
 * holds *nresults values; otherwise *results is NULL and err says why. */
spec_action_result spec_action_run(spec_script *s, const json_t *action, wb_value **results,
                                   uint32_t *nresults, wb_error *err);

/* ---- commands (commands.c) ---- */

/* Runs one element of "commands", counting its outcome. */
void spec_command_run(spec_script *s, const json_t *cmd);

/* ---- outcomes (report.c) ---- */

void spec_pass(spec_script *s);
void spec_skip(spec_script *s);
/* Counts a failure and prints "SOURCE:LINE: TYPE: message" unless over the quota without -v.
 * cmd may be NULL for a failure of the whole file. */
void spec_fail(spec_script *s, const json_t *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* With -v only: an observation that is not a failure (e.g. malformed reported as invalid). */
void spec_note(spec_script *s, const json_t *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prints "… N more failures" if some were not shown, then the file's summary line. */
void spec_report_file(const spec_script *s);

/* ---- small JSON accessors (json_values.c) ---- */

/* The string member `key` of obj (and its byte length, which counts embedded NULs), or NULL. */
const char *spec_json_string(const json_t *obj, const char *key, size_t *len);

#endif
