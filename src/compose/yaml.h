/* compose/yaml.h — YAML text to jansson JSON for Compose files, and JSON back to YAML text. It owns
 * the reading of one Compose file into a JSON tree (with a side table of source lines and Compose's
 * `!reset`/`!override` tags, keyed by path) and the writing of `compose config --format yaml`.
 * Parsing is libyaml's (dlopen'ed on first use: the Debian packages libyaml-0-2, and libyaml-dev
 * to build); the meaning of scalars is go-yaml v3's, the parser Docker Compose v2 used.
 *
 * What a document becomes:
 *  - mappings → objects, in the file's order; sequences → arrays. A key must be a scalar (an
 *    alias to a scalar will do); the JSON key is its text as written (`1:` and `true:` give the
 *    keys "1" and "true": go-yaml gives them their own types and Compose then refuses them as
 *    non-string keys; we leave that to the model). A key written twice is an error: `mapping key
 *    "x" already defined at line N`, as go-yaml says.
 *  - plain scalars, go-yaml v3's resolver: `` ~ null Null NULL`` and nothing → null;
 *    `true True TRUE false False FALSE` → booleans (`yes no on off y n` stay strings); integers
 *    in decimal, `0x`, `0o`, `0b` and go-yaml's legacy octal `0777`, with a sign and `_` anywhere
 *    (`1_000` = 1000) → integers; an integer beyond int64 but within uint64 is a uint64 to go-yaml,
 *    which JSON cannot hold exactly: it becomes a real (rounded); beyond uint64, a decimal one
 *    is a real too (go-yaml reads it as a float), a `0x`/`0o`/`0b` one a string; floats
 *    (`1.5 .5 1e3 -2.5E-3`, and go-yaml's quirk `08` = 8.0) → reals, a float that overflows
 *    (`1e400`) a string, as go-yaml's ParseFloat refuses it; `.inf -.inf +.inf .nan` (and their
 *    `Inf`/`INF`/`NaN`/`NAN` spellings) are floats that JSON cannot hold: they become strings of
 *    their text as written; timestamps (`2001-12-14`) and everything else → strings.
 *  - quoted and block scalars (`|`, `>`, any chomping and indentation indicator) → strings.
 *  - tags: `!!str !!int !!float !!bool !!null` as go-yaml applies them (`!!float 1` = 1.0,
 *    `!!int abc` is the error "cannot decode !!str `abc` as a !!int"); `!!map`, `!!seq` and
 *    `!!merge` where they fit; `!` alone is no tag (go-yaml resolves `! 12` as 12). Compose's
 *    `!reset` and `!override` are recorded by path (wb_yaml_tags) and the node kept, its scalar
 *    resolved as if untagged (`!reset null` is null). Any other tag is an error naming it.
 *  - anchors and aliases: an alias is a deep copy of its anchor's node (with that node's tags);
 *    an anchor used inside its own node is an error. Merge keys (plain `<<`, or `!!merge`) take a
 *    mapping or a sequence of mappings: the mapping's own keys win over merged ones, and among
 *    merged mappings the first to give a key wins (the YAML merge spec); merged members take the
 *    place of the `<<` key in the order. A quoted "<<" is an ordinary key.
 *  - a NUL character in a scalar (`"\0"`) is refused (no model value wants one, and C strings
 *    could not hold it).
 *
 * Paths, Compose's error notation: keys joined by '.', sequence items as `[N]`, the root "":
 * `services.server.ports[0]`, `services.server.environment.DNS_SERVER`. A key that contains '.'
 * is written as is (`services.web.labels.com.example.tier`); lookups try every split.
 *
 * Limits (each refusal names its limit): input over WB_YAML_MAX_INPUT bytes; more than
 * WB_YAML_MAX_NODES nodes, counted in the file and again in the expanded tree (each alias
 * expansion and each member a merge key visits counts), which stops alias bombs in well under a
 * second; collections nested deeper than WB_YAML_MAX_DEPTH, in the file or after expansion, and
 * merge keys nested deeper than that. */
#ifndef WB_COMPOSE_YAML_H
#define WB_COMPOSE_YAML_H

#include <jansson.h>
#include <stddef.h>

#include "base/error.h"

#define WB_YAML_MAX_INPUT (16u << 20) /* bytes */
#define WB_YAML_MAX_NODES 1000000
#define WB_YAML_MAX_DEPTH                                                                          \
    512 /* nested collections; go-yaml allows 10000, but no Compose file                           \
           comes near 512 and the loader and dumper recurse */

/* wb_yaml_tags() bits */
#define WB_YAML_RESET    1u /* `!reset` */
#define WB_YAML_OVERRIDE 2u /* `!override` */

typedef struct wb_yaml_doc wb_yaml_doc;

/* Parse one YAML document from text[0..len) (no NUL terminator needed; a stream holding more than
 * one document is an error; an empty stream gives a null root). filename is only used in
 * messages, which read "FILE:LINE:COL: message" with libyaml's problem text (and its context)
 * or ours. On success *out is a new document the caller frees with wb_yaml_free. err->code:
 * EINVAL for anything wrong with the text, EFBIG over WB_YAML_MAX_INPUT, ENOENT when libyaml
 * cannot be loaded (the message names the Debian package). */
int wb_yaml_load(const char *text, size_t len, const char *filename, wb_yaml_doc **out,
                 wb_error *err);

/* The document's value, borrowed: it lives until wb_yaml_free (json_incref it to keep it longer).
 * The caller may change it; the side table below is keyed by path, not by node, so lookups
 * still answer for the paths the file had. */
json_t *wb_yaml_root(const wb_yaml_doc *d);

/* 1-based source line of the node at path, 0 when the file had no such path. For a mapping
 * member it is the line of its key, for a sequence item the item's own line (for `- *alias`, the
 * alias's); members that came from an alias or a merge key have the lines where they are written
 * in the anchored node. */
int wb_yaml_line(const wb_yaml_doc *d, const char *path);

/* WB_YAML_RESET | WB_YAML_OVERRIDE for the node at path (0 for none, or no such path). */
unsigned wb_yaml_tags(const wb_yaml_doc *d, const char *path);

/* Frees d and its root (NULL is fine). */
void wb_yaml_free(wb_yaml_doc *d);

/* v as block-style YAML (malloc'd, NUL-terminated; the caller frees it), indented by two with
 * sequences indented under their keys (as `docker compose config` prints). Strings are plain when
 * they read back as the same string, also to YAML 1.1 readers (`yes`, `on`, `1:20` and
 * timestamps are quoted), literal blocks (`|`) when multi-line and safe, else double-quoted.
 * wb_yaml_load of the text gives back a JSON value equal to v. Does not need libyaml. Fails
 * (EINVAL) only for a tree nested deeper than WB_YAML_MAX_DEPTH. */
char *wb_yaml_dump(const json_t *v, wb_error *err);

#endif
