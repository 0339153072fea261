/* compose/dotenv.h — .env files (the project's .env, --env-file, a service's env_file) read as
 * Docker Compose v2 reads them (compose-go's dotenv package, v2.13, and
 * https://docs.docker.com/compose/environment-variables/env-file/). It owns the parsed list of
 * variables; which source wins over which is the caller's decision.
 *
 * Syntax, compose-go's:
 *  - statements `KEY=VALUE`, `KEY: VALUE` (YAML style), `export KEY=VALUE`; spaces around the
 *    key and after `=`/`:` are ignored; a UTF-8 BOM at the start is skipped; CRLF line ends work;
 *  - KEY is made of letters, digits, `_`, `.`, `-`, `[`, `]` (Unicode letters too; see below) and
 *    may not contain a space;
 *  - `KEY` alone on its line takes the variable from `lookup` (the environment) and is left out
 *    when lookup has none;
 *  - blank lines and lines whose first non-blank character is `#` are skipped;
 *  - unquoted values run to the end of the line, are cut at the first " #" (a space then `#`:
 *    an inline comment; `a#b` keeps its `#`) and trimmed at the end;
 *  - 'single quoted' values are literal except that \' is a quote; "double quoted" ones turn
 *    \" into a quote, expand \a \b \f \n \r \t \v \\ \$ (a literal `$`) and octal \0NNN; any
 *    other backslash stays; both kinds may span lines; after the closing quote the next statement
 *    may follow on the same line (`A="x" B=y` sets both; `A="x" # note` is a comment);
 *  - unquoted and double-quoted values are interpolated (interp.h) with, for each name, lookup's
 *    value first, then the value this file gave the name on an earlier line: the shell beats the
 *    file as in Compose. The stored value of a KEY is always the file's own: a caller that wants
 *    "shell wins" for the variable itself (Compose's rule for .env) checks lookup first.
 *
 * Errors, as compose-go words them, with the file name given:
 *   failed to read FILE: line N: unexpected character "%" in variable name "%!(EXTRA)=foo"
 *   failed to read FILE: line N: key cannot contain a space
 *   failed to read FILE: line N: unterminated quoted value "abc
 *   failed to read FILE: line N: <a wb_interp message>   (compose-go gives no line here)
 * Where this differs from compose-go: a key with a non-ASCII character is accepted unless that
 * character is a Unicode space (compose-go also refuses non-letters such as `€`); a last line
 * holding only a KEY with no line break is read as `KEY` alone (compose-go stores its text as the
 * value of an empty key); `=VALUE` with an empty key is skipped (compose-go stores it under "");
 * the line of an unterminated quote is the line it opens on (compose-go: the last line); a NUL
 * byte is an error ("line N: NUL byte"); unset variables in values are not reported.
 */
#ifndef WB_COMPOSE_DOTENV_H
#define WB_COMPOSE_DOTENV_H

#include <stddef.h>

#include "base/error.h"
#include "compose/interp.h"

/* The largest .env text read, in bytes. */
#define WB_DOTENV_MAX_SIZE (4u << 20)
/* The most bytes of values one file may produce after interpolation (`B=$A$A`, `C=$B$B`, ...
 * doubles on each line). */
#define WB_DOTENV_MAX_VALUES (16u << 20)

/* The variables of one file, in file order (a later line for the same name replaces the value
 * and keeps the first line's place). names[i] and values[i] are owned by the struct. */
typedef struct wb_dotenv {
    char **names, **values;
    size_t n;
} wb_dotenv;

/* Parse text[0..len) (not necessarily NUL-terminated) named `filename` in messages (NULL: no
 * "failed to read" prefix). `lookup` (may be NULL: nothing set) and ctx serve interpolation and
 * `KEY`-alone lines, as above. On success returns 0 and fills *out, which the caller releases
 * with wb_dotenv_free; on failure returns -1, err filled (EINVAL, or E2BIG and the interp codes)
 * and *out empty. */
int wb_dotenv_parse(const char *text, size_t len, const char *filename, wb_interp_lookup lookup,
                    void *ctx, wb_dotenv *out, wb_error *err);
/* Read the file at `path` and parse it as wb_dotenv_parse. A missing file fails with err->code
 * ENOENT and Compose's "Couldn't find env file: PATH" (the caller decides whether that matters),
 * a directory with EISDIR ("PATH is a directory"), a file over WB_DOTENV_MAX_SIZE with EFBIG. */
int wb_dotenv_load(const char *path, wb_interp_lookup lookup, void *ctx, wb_dotenv *out,
                   wb_error *err);
/* The value of `name` (borrowed from e) or NULL; a linear search. */
const char *wb_dotenv_get(const wb_dotenv *e, const char *name);
/* Free everything e owns and leave it empty; e may be empty already. */
void wb_dotenv_free(wb_dotenv *e);

#endif
