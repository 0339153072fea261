/* compose/interp.h — variable interpolation in Compose values, as Docker Compose v2 does it
 * (compose-go's `template` package, v2.13): `$V`, `${V}`, `${V:-d}`, `${V-d}`, `${V:?e}`, `${V?e}`,
 * `${V:+r}`, `${V+r}`, nested expansions in d/e/r, `$$`. It owns nothing but the one string it
 * expands; where the variables come from (shell, .env, --env-file) is the caller's business.
 *
 * The rules, compose-go's to the letter (its regular expression, read as a scanner):
 *  - names are [_a-zA-Z][_a-zA-Z0-9]*; `$NAME` takes the longest name (`$FOO-bar` is FOO's
 *    value then "-bar");
 *  - `$$` is one literal `$`; a `$` followed by anything but `$`, a name or `{` stays as it is
 *    (`a $ string`, `^REGEX$`, `$}`, `$1`);
 *  - `${NAME}` must close right after the name; `${NAME` followed by `:-`, `-`, `:?`, `?`, `:+` or
 *    `+` takes as argument everything up to its closing brace, found as compose-go finds it: the
 *    match runs to the last `}` on the line, and within it braces are counted, each `{` also
 *    skipping the character after it (`${A:-{"json":1}}` gives `{"json":1}`); a value that spans
 *    a line break never matches;
 *  - anything else after `${` (`${}`, `${ A}`, `${A }`, `${A:}`, `${1}`, `${A`) is a syntax error;
 *  - the argument is itself expanded, and only when it is used (so `${SET:-${X:?}}` does not fail);
 *  - the value of a variable is never expanded again.
 */
#ifndef WB_COMPOSE_INTERP_H
#define WB_COMPOSE_INTERP_H

#include <errno.h>
#include <stddef.h>

#include "base/error.h"

/* Nesting of ${...} arguments refused beyond this depth (Compose has no limit; real files nest
 * two or three levels). */
#define WB_INTERP_MAX_DEPTH 64
/* The longest result, in bytes: `$A$A$A...` with a long A could otherwise grow without bound. */
#define WB_INTERP_MAX_OUTPUT (8u << 20)

/* err->code after a failed wb_interp, so that a caller that knows where the value came from can
 * word the message as Compose does ("invalid interpolation format for services.web.image.\nYou
 * may need to escape any $ with another $.\n${", "error while interpolating services.web.image:
 * required variable X is missing a value: MESSAGE"). */
#define WB_INTERP_ESYNTAX   EINVAL  /* "invalid interpolation format for \"IN\". You may ..." */
#define WB_INTERP_EREQUIRED ENODATA /* "required variable X is missing a value[: MESSAGE]" */
#define WB_INTERP_ELIMIT    E2BIG   /* WB_INTERP_MAX_DEPTH or WB_INTERP_MAX_OUTPUT exceeded */

/* Looks a variable up: its value or NULL when unset. The value is borrowed: wb_interp is done with
 * it before it calls lookup again. */
typedef const char *(*wb_interp_lookup)(void *ctx, const char *name);

/* Expand `in` (NUL-terminated). On success returns 0 with *out a new string the caller owns and
 * frees with free(). Variables used without a default that are unset expand to "" and are reported
 * through `unset` (may be NULL), once per name per call and in order of first use, so the caller
 * can warn as Compose does: "The \"X\" variable is not set. Defaulting to a blank string."
 * `lookup` may be NULL (nothing is set); it and `unset` get `ctx`.
 * On failure returns -1 with *out NULL and err filled (codes above). The messages, as compose-go
 * words them (template/template.go: `MissingRequiredError.Error`, and interpolation.go's
 * "invalid interpolation format for %s.\nYou may need to escape any $ with another $.\n%s",
 * made one line with the value quoted since we do not know its path):
 *   required variable X is missing a value: MESSAGE      (${X:?MESSAGE}, ${X?MESSAGE})
 *   required variable X is missing a value              (empty MESSAGE)
 *   invalid interpolation format for "VALUE". You may need to escape any $ with another $.
 * where "VALUE" is `in` quoted as Go's %q does (its first 200 bytes and `...` if longer). Compose
 * goes on through the string after an error and reports the unset variables it meets there;
 * wb_interp stops at the first error. */
int wb_interp(const char *in, wb_interp_lookup lookup, void *ctx,
              void (*unset)(void *ctx, const char *name), char **out, wb_error *err);

/* Module-internal (src/compose only). */
/* Decode one UTF-8 sequence of s[0..n) (n >= 1): its code point, or -1 for an invalid, overlong,
 * surrogate or truncated sequence; *len gets the bytes it takes (1 when invalid), as Go's
 * utf8.DecodeRuneInString. */
int wb__utf8_decode(const char *s, size_t n, size_t *len);
/* Write s[0..n) to dst (capacity cap >= 16, always NUL-terminated) quoted as Go's %q does:
 * "..." with \a \b \f \n \r \t \v \\ \" escapes, other control bytes and invalid UTF-8 as
 * \xNN, non-printable characters (C1 controls, Unicode spaces, format characters) as \uNNNN;
 * at most the first `max` bytes of s are shown (fewer if dst is full), followed by `...` inside
 * the quotes when some are left out. Returns dst. */
char *wb__compose_quote(char *dst, size_t cap, const char *s, size_t n, size_t max);

#endif
