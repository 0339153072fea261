/* base/toml.h — TOML 1.0 documents read into jansson values (the app runtimes' manifests:
 * wws's `.wws.toml` and `<worker>.toml`, Spin's `spin.toml`, slight's `slightfile.toml`).
 * Tables become objects, arrays arrays, strings and integers and booleans their JSON kinds, floats
 * reals (inf and nan, which JSON has not, become the strings "inf", "-inf", "nan"), and dates and
 * times stay strings in their TOML spelling (validated). Duplicate keys and redefined tables are
 * refused as TOML 1.0 says; every error names its line. */
#ifndef WB_BASE_TOML_H
#define WB_BASE_TOML_H

#include <stddef.h>

#include <jansson.h>

#include "base/error.h"

#define WB_TOML_MAX_BYTES (16u << 20) /* larger documents are refused before reading */
#define WB_TOML_MAX_DEPTH 64          /* nesting of arrays and inline tables */

/* Parse len bytes of text (NUL bytes are refused). Returns a new object (the caller owns it and
 * releases it with json_decref), or NULL with err (code EINVAL) filled: "line N: what". */
json_t *wb_toml_parse(const char *text, size_t len, wb_error *err);

/* The same from a file: "`PATH`: line N: what", or the system error that stopped the read. */
json_t *wb_toml_load(const char *path, wb_error *err);

#endif
