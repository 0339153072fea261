/* .env files as compose-go's dotenv parser reads them (see dotenv.h): statement by statement,
 * counting lines for messages, with a hash index over the names read so far so that
 * interpolation and repeated names stay linear in the file's size. */
#include "compose/dotenv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"

/* Messages show at most this much of the text at fault. */
#define QUOTE_MAX 200

typedef struct dotenv_parser {
    const char *s; /* the text, BOM skipped */
    size_t n, i;   /* its length, the position */
    int line;
    const char *filename;
    wb_interp_lookup lookup;
    void *ctx;
    wb_dotenv *out;
    size_t out_cap;
    size_t *index; /* open addressing: entry + 1, or 0 */
    size_t index_cap;
    size_t total; /* bytes of the values held */
    wb_error *err;
} dotenv_parser;

/* err gets "failed to read FILE: line N: " + the formatted text (no "line N: " for line 0). */
static int fail(dotenv_parser *p, int code, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(dotenv_parser *p, int code, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wb_error_vset(p->err, code, fmt, ap);
    va_end(ap);
    if (line > 0) wb_error_wrap(p->err, "line %d", line);
    if (p->filename) wb_error_wrap(p->err, "failed to read %s", p->filename);
    return -1;
}

/* Go's unicode.IsSpace */
static bool is_unicode_space(int cp) {
    if (cp < 0x80) return cp == ' ' || (cp >= '\t' && cp <= '\r');
    return cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

/* compose-go's isSpace: blanks but not the line break */
static bool is_blank(int cp) {
    return cp != '\n' && (cp == '\t' || cp == '\v' || cp == '\f' || cp == '\r' || cp == ' ' ||
                          cp == 0x85 || cp == 0xa0);
}

/* A character of a KEY: compose-go takes Unicode letters and digits; non-ASCII characters other
 * than spaces are taken here without consulting Unicode's tables. */
static bool is_key_char(int cp) {
    if (cp < 0) return false;
    if (cp >= 0x80) return !is_unicode_space(cp);
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
           cp == '_' || cp == '.' || cp == '-' || cp == '[' || cp == ']';
}

/* The end of s[start..end) without the Unicode spaces that end it. */
static size_t trim_right(const char *s, size_t start, size_t end) {
    while (end > start) {
        size_t at = end - 1;
        while (at > start && end - at < 4 && ((unsigned char)s[at] & 0xc0) == 0x80) at--;
        size_t len;
        int cp = wb__utf8_decode(s + at, end - at, &len);
        if (at + len != end || !is_unicode_space(cp)) break;
        end = at;
    }
    return end;
}

/* ---- the variables read so far ---- */

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* The index slot holding name, or the empty slot where it goes. */
static size_t index_slot(const dotenv_parser *p, const char *name, size_t n) {
    size_t j = hash_bytes(name, n) & (p->index_cap - 1);
    for (; p->index[j]; j = (j + 1) & (p->index_cap - 1)) {
        const char *have = p->out->names[p->index[j] - 1];
        if (strncmp(have, name, n) == 0 && have[n] == '\0') break;
    }
    return j;
}

static const char *find(const dotenv_parser *p, const char *name) {
    if (!p->index_cap) return NULL;
    size_t j = index_slot(p, name, strlen(name));
    return p->index[j] ? p->out->values[p->index[j] - 1] : NULL;
}

/* Set name (n bytes) to value, which this takes. */
static int set_var(dotenv_parser *p, int line, const char *name, size_t n, char *value) {
    size_t vlen = strlen(value);
    if (n == 0) { /* `=VALUE`: compose-go keeps it under "", which nothing can look up */
        free(value);
        return 0;
    }
    if ((p->out->n + 1) * 2 > p->index_cap) {
        size_t cap = p->index_cap ? p->index_cap * 2 : 64;
        free(p->index);
        p->index = wb_calloc(cap, sizeof *p->index);
        p->index_cap = cap;
        for (size_t e = 0; e < p->out->n; e++) {
            const char *have = p->out->names[e];
            p->index[index_slot(p, have, strlen(have))] = e + 1;
        }
    }
    size_t j = index_slot(p, name, n);
    size_t old = p->index[j] ? strlen(p->out->values[p->index[j] - 1]) : 0;
    if (vlen > WB_DOTENV_MAX_VALUES - (p->total - old)) {
        free(value);
        return fail(p, E2BIG, line, "the values add up to more than %u MiB",
                    WB_DOTENV_MAX_VALUES >> 20);
    }
    p->total = p->total - old + vlen;
    if (p->index[j]) {
        size_t e = p->index[j] - 1;
        free(p->out->values[e]);
        p->out->values[e] = value;
        return 0;
    }
    if (p->out->n == p->out_cap) {
        p->out_cap = p->out_cap ? p->out_cap * 2 : 16;
        p->out->names = wb_reallocarray(p->out->names, p->out_cap, sizeof *p->out->names);
        p->out->values = wb_reallocarray(p->out->values, p->out_cap, sizeof *p->out->values);
    }
    p->out->names[p->out->n] = wb_strndup(name, n);
    p->out->values[p->out->n] = value;
    p->index[j] = ++p->out->n;
    return 0;
}

/* ---- values ---- */

/* Interpolation inside the file: lookup's value first, then the file's earlier lines. */
static const char *file_lookup(void *ctx, const char *name) {
    dotenv_parser *p = ctx;
    const char *v = p->lookup ? p->lookup(p->ctx, name) : NULL;
    return v ? v : find(p, name);
}

/* Interpolate raw (taken) into *value. */
static int interpolate(dotenv_parser *p, int line, char *raw, char **value) {
    wb_error ierr;
    int rc = wb_interp(raw, file_lookup, p, NULL, value, &ierr);
    free(raw);
    if (rc < 0) return fail(p, ierr.code, line, "%s", ierr.msg);
    return 0;
}

/* One UTF-8 encoded code point (< 0x800 here: octal escapes stop at 0377). */
static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    o[0] = (char)(0xc0 | cp >> 6);
    o[1] = (char)(0x80 | (cp & 0x3f));
    return 2;
}

/* compose-go's expandEscapes on a double-quoted value: \a \b \f \n \r \t \v \" \\ become the
 * character, \$ becomes $$ (a literal $ once interpolated), \0NNN the octal code point (UTF-8
 * encoded, as Go's string(rune)); \c and malformed octal keep their backslash, except that the
 * `0` of a malformed \0... goes (Go rewrites \0 to \ before it tries). Others are left alone. */
static char *expand_escapes(const char *s, size_t n) {
    char *out = wb_malloc(n * 2 + 1), *o = out; /* \$ -> $$ is the only growth */
    for (size_t i = 0; i < n;) {
        if (s[i] != '\\' || i + 1 >= n) {
            *o++ = s[i++];
            continue;
        }
        static const char names[] = "abfnrtv\"\\", chars[] = "\a\b\f\n\r\t\v\"\\";
        char c = s[i + 1];
        const char *e = c ? strchr(names, c) : NULL;
        if (e) {
            *o++ = chars[e - names];
            i += 2;
        } else if (c == '$') {
            *o++ = '$', *o++ = '$';
            i += 2;
        } else if (c == 'c') {
            *o++ = '\\', *o++ = 'c';
            i += 2;
        } else if (c == '0') {
            size_t d = i + 2, nd = 0;
            while (nd < 3 && d + nd < n && s[d + nd] >= '0' && s[d + nd] <= '9') nd++;
            bool octal = nd == 3;
            unsigned v = 0;
            for (size_t k = 0; k < nd; k++) {
                if (s[d + k] > '7') octal = false;
                v = v * 8 + (unsigned)(s[d + k] - '0');
            }
            if (octal && v <= 255) {
                o += put_utf8(o, v);
            } else {
                *o++ = '\\';
                memcpy(o, s + d, nd);
                o += nd;
            }
            i = d + nd;
        } else {
            *o++ = s[i++];
        }
    }
    *o = '\0';
    return out;
}

/* An unquoted value, from p->i to the end of the line. */
static int unquoted_value(dotenv_parser *p, char **value) {
    int line = p->line;
    const char *nl = memchr(p->s + p->i, '\n', p->n - p->i);
    size_t end = nl ? (size_t)(nl - p->s) : p->n;
    const char *comment = memmem(p->s + p->i, end - p->i, " #", 2);
    size_t stop = trim_right(p->s, p->i, comment ? (size_t)(comment - p->s) : end);
    char *raw = wb_strndup(p->s + p->i, stop - p->i);
    p->i = nl ? end + 1 : end;
    p->line++;
    return interpolate(p, line, raw, value);
}

/* A quoted value: p->i is on its opening quote. */
static int quoted_value(dotenv_parser *p, char **value) {
    int line = p->line;
    char quote = p->s[p->i];
    size_t j = p->i + 1, o = 0;
    char *raw = wb_malloc(p->n - p->i + 1);
    bool escaped = false;
    for (; j < p->n; j++) {
        char c = p->s[j];
        if (c == '\n') p->line++;
        if (escaped) { /* \QUOTE is the quote; any other escape keeps its backslash */
            escaped = false;
            if (c != quote) raw[o++] = '\\';
            raw[o++] = c;
        } else if (c == '\\') {
            escaped = true;
        } else if (c == quote) {
            break;
        } else {
            raw[o++] = c;
        }
    }
    if (j >= p->n) {
        free(raw);
        const char *nl = memchr(p->s + p->i, '\n', p->n - p->i);
        size_t end = nl ? (size_t)(nl - p->s) : p->n;
        if (end > p->i && p->s[end - 1] == '\r') end--;
        size_t shown = end - p->i < QUOTE_MAX ? end - p->i : QUOTE_MAX;
        return fail(p, EINVAL, line, "unterminated quoted value %.*s%s", (int)shown, p->s + p->i,
                    shown < end - p->i ? "..." : "");
    }
    p->i = j + 1;
    if (quote == '\'') {
        raw[o] = '\0';
        *value = raw;
        return 0;
    }
    char *unescaped = expand_escapes(raw, o);
    free(raw);
    return interpolate(p, line, unescaped, value);
}

/* ---- statements ---- */

/* Skip blanks, line breaks and comment lines; false at the end of the text. */
static bool statement_start(dotenv_parser *p) {
    for (;;) {
        while (p->i < p->n) {
            size_t len;
            int cp = wb__utf8_decode(p->s + p->i, p->n - p->i, &len);
            if (!is_unicode_space(cp)) break;
            if (cp == '\n') p->line++;
            p->i += len;
        }
        if (p->i >= p->n) return false;
        if (p->s[p->i] != '#') return true;
        const char *nl = memchr(p->s + p->i, '\n', p->n - p->i);
        p->i = nl ? (size_t)(nl - p->s) : p->n; /* the break is counted above */
    }
}

static int statement(dotenv_parser *p) {
    const char *s = p->s;
    /* compose-go drops `^export\s+` (Go's \s: [\t\n\f\r ]), then blanks */
    if (p->n - p->i > 6 && memcmp(s + p->i, "export", 6) == 0 && s[p->i + 6] &&
        strchr("\t\n\f\r ", s[p->i + 6])) {
        p->i += 6;
        size_t len;
        while (p->i < p->n && is_blank(wb__utf8_decode(s + p->i, p->n - p->i, &len))) p->i += len;
    }
    size_t key = p->i, j = p->i;
    char term = '\n'; /* the end of the text ends a KEY-alone line */
    while (j < p->n) {
        size_t len;
        int cp = wb__utf8_decode(s + j, p->n - j, &len);
        if (cp == '=' || cp == ':' || cp == '\n') {
            term = (char)cp;
            break;
        }
        if (!is_blank(cp) && !is_key_char(cp)) {
            const char *nl = memchr(s + key, '\n', p->n - key);
            char ch[16], text[QUOTE_MAX * 4 + 16];
            wb__compose_quote(ch, sizeof ch, s + j, len, len);
            wb__compose_quote(text, sizeof text, s + key, (nl ? (size_t)(nl - s) : p->n) - key,
                              QUOTE_MAX);
            return fail(p, EINVAL, p->line, "unexpected character %s in variable name %s", ch,
                        text);
        }
        j += len;
    }
    size_t key_end = trim_right(s, key, j);
    bool spaced = memchr(s + key, ' ', key_end - key) != NULL;
    if (spaced) return fail(p, EINVAL, p->line, "key cannot contain a space");
    p->i = j < p->n ? j + 1 : j;
    if (term == '\n') { /* KEY alone: from the environment, if it has it */
        p->line++;
        if (key_end == key) return 0;
        char *name = wb_strndup(s + key, key_end - key);
        const char *v = p->lookup ? p->lookup(p->ctx, name) : NULL;
        int rc = v ? set_var(p, p->line - 1, name, key_end - key, wb_strdup(v)) : 0;
        free(name);
        return rc;
    }
    size_t len;
    while (p->i < p->n && is_blank(wb__utf8_decode(s + p->i, p->n - p->i, &len))) p->i += len;
    int line = p->line;
    char *value;
    int rc = p->i < p->n && (s[p->i] == '"' || s[p->i] == '\'') ? quoted_value(p, &value)
                                                                : unquoted_value(p, &value);
    if (rc < 0) return -1;
    return set_var(p, line, s + key, key_end - key, value);
}

void wb_dotenv_free(wb_dotenv *e) {
    for (size_t i = 0; i < e->n; i++) {
        free(e->names[i]);
        free(e->values[i]);
    }
    free(e->names);
    free(e->values);
    *e = (wb_dotenv){0};
}

int wb_dotenv_parse(const char *text, size_t len, const char *filename, wb_interp_lookup lookup,
                    void *ctx, wb_dotenv *out, wb_error *err) {
    *out = (wb_dotenv){0};
    dotenv_parser p = {.s = text,
                       .n = len,
                       .line = 1,
                       .filename = filename,
                       .lookup = lookup,
                       .ctx = ctx,
                       .out = out,
                       .err = err};
    if (len > WB_DOTENV_MAX_SIZE)
        return fail(&p, EFBIG, 0, "larger than %u MiB", WB_DOTENV_MAX_SIZE >> 20);
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        int line = 1;
        for (const char *c = text; c < nul; c++) line += *c == '\n';
        return fail(&p, EINVAL, line, "NUL byte");
    }
    if (p.n >= 3 && memcmp(p.s, "\xef\xbb\xbf", 3) == 0) p.s += 3, p.n -= 3;
    int rc = 0;
    while (rc == 0 && statement_start(&p)) rc = statement(&p);
    free(p.index);
    if (rc < 0) wb_dotenv_free(out);
    return rc;
}

int wb_dotenv_load(const char *path, wb_interp_lookup lookup, void *ctx, wb_dotenv *out,
                   wb_error *err) {
    *out = (wb_dotenv){0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return wb_error_set(err, ENOENT, "Couldn't find env file: %s", path);
        return wb_error_sys(err, "open `%s`", path);
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return wb_error_sys(err, "stat `%s`", path);
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return wb_error_set(err, EISDIR, "%s is a directory", path);
    }
    /* read up to one byte past the limit: regular files, pipes and /dev/stdin alike */
    size_t cap = 4096, n = 0;
    char *buf = wb_malloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap > WB_DOTENV_MAX_SIZE) break;
            cap *= 2;
            buf = wb_realloc(buf, cap);
        }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            free(buf);
            close(fd);
            return wb_error_sys(err, "read `%s`", path);
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    close(fd);
    if (n > WB_DOTENV_MAX_SIZE) {
        free(buf);
        return wb_error_set(err, EFBIG, "failed to read %s: larger than %u MiB", path,
                            WB_DOTENV_MAX_SIZE >> 20);
    }
    int rc = wb_dotenv_parse(buf, n, path, lookup, ctx, out, err);
    free(buf);
    return rc;
}

const char *wb_dotenv_get(const wb_dotenv *e, const char *name) {
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->names[i], name) == 0) return e->values[i];
    return NULL;
}
