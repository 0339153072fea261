/* Dockerfile parsing, following the rules of moby/buildkit's frontend/dockerfile/parser (read for
 * behaviour, not copied): directives only at the top, `#` comment lines (also inside continued
 * instructions), the escape character at the end of a line continues it, flags are the leading
 * `--name[=value]` words, JSON arrays are the exec form. Word expansion follows its shell lexer. */
#include "oci/dockerfile.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

/* ---- small string helpers ---- */

static bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

static const char *skip_blanks(const char *s) {
    while (*s && is_blank(*s)) s++;
    return s;
}

static void push_str(char ***v, size_t *n, char *s) {
    *v = wb_reallocarray(*v, *n + 1, sizeof **v);
    (*v)[(*n)++] = s;
}

static void free_strs(char **v, size_t n) {
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* ---- instruction table ---- */

static const struct {
    const char *name;
    wb_df_cmd cmd;
    const char *flags; /* allowed flags, space-separated, each followed by '=' when it takes a
                          value and '?' when the value is optional */
} commands[] = {
    {"ADD", WB_DF_ADD, "chmod= chown= link? checksum= keep-git-dir? exclude="},
    {"ARG", WB_DF_ARG, ""},
    {"CMD", WB_DF_CMD, ""},
    {"COPY", WB_DF_COPY, "from= chmod= chown= link? parents? exclude="},
    {"ENTRYPOINT", WB_DF_ENTRYPOINT, ""},
    {"ENV", WB_DF_ENV, ""},
    {"EXPOSE", WB_DF_EXPOSE, ""},
    {"FROM", WB_DF_FROM, "platform="},
    {"HEALTHCHECK", WB_DF_HEALTHCHECK, "interval= timeout= start-period= start-interval= retries="},
    {"LABEL", WB_DF_LABEL, ""},
    {"MAINTAINER", WB_DF_MAINTAINER, ""},
    {"ONBUILD", WB_DF_ONBUILD, ""},
    {"RUN", WB_DF_RUN, "mount= network= security="},
    {"SHELL", WB_DF_SHELL, ""},
    {"STOPSIGNAL", WB_DF_STOPSIGNAL, ""},
    {"USER", WB_DF_USER, ""},
    {"VOLUME", WB_DF_VOLUME, ""},
    {"WORKDIR", WB_DF_WORKDIR, ""},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

const char *wb_df_cmd_name(wb_df_cmd cmd) {
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (commands[i].cmd == cmd) return commands[i].name;
    return "?";
}

static int command_index(const char *word, size_t n) {
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strlen(commands[i].name) == n && !strncasecmp(commands[i].name, word, n)) return (int)i;
    return -1;
}

/* Edit distance, for "did you mean" (only on short words). */
static size_t edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 16 || lb > 16) return 99;
    size_t d[17][17];
    for (size_t i = 0; i <= la; i++) d[i][0] = i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = d[i - 1][j - 1] + (toupper((unsigned char)a[i - 1]) != b[j - 1]);
            size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    return d[la][lb];
}

/* ---- parser state ---- */

typedef struct parser {
    const char *file;
    char escape;
    int line; /* current instruction's line */
    wb_error *err;
} parser;

static int perr(const parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(const parser *p, const char *fmt, ...) {
    char msg[WB_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return wb_error_set(p->err, EINVAL, "%s:%d: %s", p->file, p->line, msg);
}

static void instr_release(wb_df_instr *in) {
    free(in->text);
    for (size_t i = 0; i < in->nflags; i++) {
        free(in->flags[i].name);
        free(in->flags[i].value);
    }
    free(in->flags);
    free_strs(in->args, in->nargs);
    for (size_t i = 0; i < in->nkvs; i++) {
        free(in->kvs[i].key);
        free(in->kvs[i].value);
    }
    free(in->kvs);
    if (in->sub) {
        instr_release(in->sub);
        free(in->sub);
    }
    free(in->trigger);
    for (size_t i = 0; i < in->nheredocs; i++) {
        free(in->heredocs[i].name);
        free(in->heredocs[i].body);
    }
    free(in->heredocs);
    memset(in, 0, sizeof *in);
}

void wb_dockerfile_free(wb_dockerfile *df) {
    if (!df) return;
    for (size_t i = 0; i < df->ninstrs; i++) instr_release(&df->instrs[i]);
    free(df->instrs);
    for (size_t i = 0; i < df->nstages; i++) free(df->stages[i].name);
    free(df->stages);
    free_strs(df->notes, df->nnotes);
    free(df->file);
    free(df->syntax);
    free(df);
}

const char *wb_df_flag_get(const wb_df_instr *in, const char *name, bool *present) {
    const char *v = NULL;
    bool found = false;
    for (size_t i = 0; i < in->nflags; i++)
        if (!strcmp(in->flags[i].name, name)) {
            found = true;
            v = in->flags[i].value;
        }
    if (present) *present = found;
    return v;
}

/* ---- argument forms ---- */

/* Words split at blanks (no quote handling, as Docker's parseStringsWhitespaceDelimited). */
static void split_blanks(const char *s, char ***out, size_t *n) {
    for (;;) {
        s = skip_blanks(s);
        if (!*s) break;
        const char *e = s;
        while (*e && !is_blank(*e)) e++;
        push_str(out, n, wb_strndup(s, (size_t)(e - s)));
        s = e;
    }
}

/* Words split at blanks outside quotes, quotes and escapes kept (Docker's parseWords). */
static void split_words(const char *s, char escape, char ***out, size_t *n) {
    wb_strbuf w = {0};
    bool have = false; /* a word is open (possibly empty: "") */
    char quote = 0;
    for (size_t i = 0;; i++) {
        char c = s[i];
        if (!c) break;
        if (!quote) {
            if (is_blank(c) || c == '\n') {
                if (have) push_str(out, n, wb_strbuf_take(&w));
                have = false;
                continue;
            }
            have = true;
            if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == escape) {
                if (!s[i + 1]) continue; /* an escape at the very end is dropped */
                wb_strbuf_putc(&w, c);
                c = s[++i];
            }
            wb_strbuf_putc(&w, c);
        } else {
            if (c == quote) {
                quote = 0;
            } else if (c == escape && quote != '\'') {
                if (!s[i + 1]) {
                    quote = 0;
                    continue;
                }
                wb_strbuf_putc(&w, c);
                c = s[++i];
            }
            wb_strbuf_putc(&w, c);
        }
    }
    if (have) push_str(out, n, wb_strbuf_take(&w));
    free(w.s);
}

/* The exec form: text that starts with '[' and ends with ']' must be a JSON array of strings.
 * Docker falls back to the shell form for a malformed array; we refuse it, because that fallback
 * silently turns a typo into `/bin/sh -c`, which a Wasm image cannot run. Returns 1 for an array, 0
 * when the text is not one, -1 on error. */
static int parse_json_array(const parser *p, const char *cmd, const char *text, char ***out,
                            size_t *n) {
    const char *s = skip_blanks(text);
    size_t len = strlen(s);
    while (len && is_blank(s[len - 1])) len--;
    if (!len || s[0] != '[' || s[len - 1] != ']') return 0;
    json_error_t jerr;
    json_t *a = json_loadb(s, len, 0, &jerr);
    if (!a || !json_is_array(a)) {
        json_decref(a);
        return perr(p,
                    "%s: invalid JSON array: %s (use [\"executable\", \"arg\", ...] or the "
                    "shell form without brackets)",
                    cmd, jerr.text);
    }
    for (size_t i = 0; i < json_array_size(a); i++) {
        if (!json_is_string(json_array_get(a, i))) {
            json_decref(a);
            return perr(p, "%s: invalid JSON array: element %zu is not a string", cmd, i + 1);
        }
    }
    for (size_t i = 0; i < json_array_size(a); i++)
        push_str(out, n, wb_strdup(json_string_value(json_array_get(a, i))));
    json_decref(a);
    return 1;
}

static bool name_char(char c) {
    return isalnum((unsigned char)c) || c == '_';
}

/* `<<EOF`, `<<-EOF`, `<<"EOF"` at the start of a word: a heredoc (Dockerfile syntax 1.4). */
static bool has_heredoc(const char *s) {
    for (const char *h = strstr(s, "<<"); h; h = strstr(h + 2, "<<")) {
        if (h > s && !is_blank(h[-1])) continue;
        const char *q = h + 2;
        if (*q == '-') q++;
        if (*q == '"' || *q == '\'') q++;
        if (isalpha((unsigned char)*q) || *q == '_') return true;
    }
    return false;
}

/* The heredoc markers of a RUN line, in order (bodies are read by the caller). */
static void collect_heredocs(const char *s, wb_df_instr *in) {
    for (const char *h = strstr(s, "<<"); h; h = strstr(h + 2, "<<")) {
        if (h > s && !is_blank(h[-1])) continue;
        const char *q = h + 2;
        bool chomp = *q == '-';
        if (chomp) q++;
        char quote = (*q == '"' || *q == '\'') ? *q++ : 0;
        if (!isalpha((unsigned char)*q) && *q != '_') continue;
        const char *e = q;
        while (name_char(*e)) e++;
        if (quote && *e != quote) continue;
        in->heredocs = wb_reallocarray(in->heredocs, in->nheredocs + 1, sizeof *in->heredocs);
        in->heredocs[in->nheredocs++] =
            (wb_df_heredoc){wb_strndup(q, (size_t)(e - q)), NULL, chomp, quote != 0};
    }
}

/* Leading `--name[=value]` words. */
static int parse_flags(const parser *p, int ci, const char **rest, wb_df_instr *in) {
    const char *s = *rest;
    for (;;) {
        s = skip_blanks(s);
        if (strncmp(s, "--", 2) != 0) break;
        const char *e = s + 2;
        wb_strbuf word = {0};
        char quote = 0;
        while (*e && (quote || !is_blank(*e))) {
            if (quote && *e == quote)
                quote = 0;
            else if (!quote && (*e == '"' || *e == '\''))
                quote = *e;
            else
                wb_strbuf_putc(&word, *e);
            e++;
        }
        char *w = wb_strbuf_take(&word);
        s = e;
        if (!*w) { /* a bare `--` ends the flags */
            free(w);
            break;
        }
        char *eq = strchr(w, '=');
        char *value = NULL;
        if (eq) {
            *eq = '\0';
            value = wb_strdup(eq + 1);
        }
        /* allowed? */
        const char *allowed = commands[ci].flags;
        size_t nl = strlen(w);
        const char *hit = NULL;
        for (const char *a = allowed; *a;) {
            const char *end = a;
            while (*end && *end != ' ' && *end != '=' && *end != '?') end++;
            if ((size_t)(end - a) == nl && !strncmp(a, w, nl)) hit = end;
            while (*end && *end != ' ') end++;
            a = skip_blanks(end);
        }
        int rc = 0;
        if (!hit)
            rc = perr(p, "unknown flag for %s: --%s", commands[ci].name, w);
        else if (*hit == '=' && !value)
            rc = perr(p, "%s: missing a value on flag --%s", commands[ci].name, w);
        else if (*hit != '=' && *hit != '?' && value)
            rc = perr(p, "%s: flag --%s takes no value", commands[ci].name, w);
        if (rc < 0) {
            free(w);
            free(value);
            return -1;
        }
        in->flags = wb_reallocarray(in->flags, in->nflags + 1, sizeof *in->flags);
        in->flags[in->nflags++] = (wb_df_flag){w, value};
    }
    *rest = s;
    return 0;
}

/* ENV / LABEL: `k=v k2="v 2"`, or the legacy `ENV key value` form. */
static int parse_name_val(const parser *p, const char *cmd, const char *rest, wb_df_instr *in) {
    char **words = NULL;
    size_t n = 0;
    split_words(rest, p->escape, &words, &n);
    int rc = 0;
    if (n == 0) {
        rc = perr(p, "%s requires at least one argument", cmd);
    } else if (!strchr(words[0], '=')) {
        /* legacy: the first word is the name, the rest of the line the value */
        const char *v = skip_blanks(rest);
        while (*v && !is_blank(*v)) v++;
        v = skip_blanks(v);
        if (!*v) {
            rc = perr(p, "%s must have two arguments (%s name value, or %s name=value)", cmd, cmd,
                      cmd);
        } else {
            size_t vl = strlen(v);
            while (vl && is_blank(v[vl - 1])) vl--;
            in->kvs = wb_calloc(1, sizeof *in->kvs);
            in->kvs[0] = (wb_df_kv){wb_strdup(words[0]), wb_strndup(v, vl)};
            in->nkvs = 1;
        }
    } else {
        in->kvs = wb_calloc(n, sizeof *in->kvs);
        for (size_t i = 0; i < n && rc == 0; i++) {
            char *eq = strchr(words[i], '=');
            if (!eq) {
                rc = perr(p,
                          "%s: syntax error - can't find = in \"%s\"; must be of the form "
                          "name=value",
                          cmd, words[i]);
            } else if (eq == words[i]) {
                rc = perr(p, "%s names can not be blank", cmd);
            } else {
                in->kvs[in->nkvs++] =
                    (wb_df_kv){wb_strndup(words[i], (size_t)(eq - words[i])), wb_strdup(eq + 1)};
            }
        }
    }
    free_strs(words, n);
    return rc;
}

static int parse_arg(const parser *p, const char *rest, wb_df_instr *in) {
    char **words = NULL;
    size_t n = 0;
    split_words(rest, p->escape, &words, &n);
    int rc = 0;
    if (n == 0) rc = perr(p, "ARG requires at least one argument");
    in->kvs = wb_calloc(n + 1, sizeof *in->kvs);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *eq = strchr(words[i], '=');
        size_t kl = eq ? (size_t)(eq - words[i]) : strlen(words[i]);
        bool ok = kl > 0;
        for (size_t k = 0; k < kl; k++) ok = ok && name_char(words[i][k]);
        if (!ok) {
            rc = perr(p, "ARG: invalid name \"%.*s\"", (int)kl, words[i]);
            break;
        }
        in->kvs[in->nkvs++] = (wb_df_kv){wb_strndup(words[i], kl), eq ? wb_strdup(eq + 1) : NULL};
    }
    free_strs(words, n);
    return rc;
}

static int parse_instruction(parser *p, const char *line, wb_df_instr *in, bool trigger);

static int parse_args(parser *p, int ci, const char *rest, wb_df_instr *in) {
    const char *cmd = commands[ci].name;
    int j;
    switch (commands[ci].cmd) {
    case WB_DF_ENV:
    case WB_DF_LABEL: return parse_name_val(p, cmd, rest, in);
    case WB_DF_ARG: return parse_arg(p, rest, in);
    case WB_DF_CMD:
    case WB_DF_ENTRYPOINT:
    case WB_DF_RUN:
    case WB_DF_SHELL:
        j = parse_json_array(p, cmd, rest, &in->args, &in->nargs);
        if (j < 0) return -1;
        in->exec_form = j == 1;
        if (j == 0) {
            if (commands[ci].cmd == WB_DF_SHELL)
                return perr(p, "SHELL requires the arguments to be in JSON form");
            const char *s = skip_blanks(rest);
            if (!*s) return perr(p, "%s requires at least one argument", cmd);
            size_t l = strlen(s);
            while (l && is_blank(s[l - 1])) l--;
            push_str(&in->args, &in->nargs, wb_strndup(s, l));
        } else if (commands[ci].cmd == WB_DF_SHELL && in->nargs == 0) {
            return perr(p, "SHELL requires at least one argument");
        }
        return 0;
    case WB_DF_COPY:
    case WB_DF_ADD:
    case WB_DF_VOLUME:
        j = parse_json_array(p, cmd, rest, &in->args, &in->nargs);
        if (j < 0) return -1;
        in->exec_form = j == 1;
        if (j == 0) split_blanks(rest, &in->args, &in->nargs);
        if (commands[ci].cmd == WB_DF_VOLUME) {
            if (in->nargs == 0) return perr(p, "VOLUME requires at least one argument");
        } else if (in->nargs < 2) {
            return perr(p, "%s requires at least two arguments, but only %s provided%s", cmd,
                        in->nargs ? "one was" : "none were",
                        in->nargs ? ". Destination could not be determined" : "");
        }
        return 0;
    case WB_DF_FROM:
        split_blanks(rest, &in->args, &in->nargs);
        if (!(in->nargs == 1 || (in->nargs == 3 && !strcasecmp(in->args[1], "as"))))
            return perr(p, "FROM requires either one or three arguments (FROM image [AS name])");
        return 0;
    case WB_DF_EXPOSE:
        split_blanks(rest, &in->args, &in->nargs);
        if (in->nargs == 0) return perr(p, "EXPOSE requires at least one argument");
        return 0;
    case WB_DF_USER:
    case WB_DF_STOPSIGNAL:
        split_blanks(rest, &in->args, &in->nargs);
        if (in->nargs != 1) return perr(p, "%s requires exactly one argument", cmd);
        return 0;
    case WB_DF_WORKDIR:
    case WB_DF_MAINTAINER: {
        const char *s = skip_blanks(rest);
        size_t l = strlen(s);
        while (l && is_blank(s[l - 1])) l--;
        if (!l) return perr(p, "%s requires exactly one argument", cmd);
        push_str(&in->args, &in->nargs, wb_strndup(s, l));
        return 0;
    }
    case WB_DF_HEALTHCHECK: {
        const char *s = skip_blanks(rest);
        const char *e = s;
        while (*e && !is_blank(*e)) e++;
        if ((size_t)(e - s) == 4 && !strncasecmp(s, "NONE", 4)) {
            if (*skip_blanks(e)) return perr(p, "HEALTHCHECK NONE takes no arguments");
            if (in->nflags) return perr(p, "HEALTHCHECK NONE takes no options");
            return 0;
        }
        if (!((size_t)(e - s) == 3 && !strncasecmp(s, "CMD", 3)))
            return perr(p, "unknown type \"%.*s\" in HEALTHCHECK (try CMD)", (int)(e - s), s);
        in->sub = wb_calloc(1, sizeof *in->sub);
        return parse_instruction(p, s, in->sub, false);
    }
    case WB_DF_ONBUILD: {
        const char *s = skip_blanks(rest);
        if (!*s) return perr(p, "ONBUILD requires at least one argument");
        const char *e = s;
        while (*e && !is_blank(*e)) e++;
        int ti = command_index(s, (size_t)(e - s));
        if (ti >= 0 && commands[ti].cmd == WB_DF_ONBUILD)
            return perr(p, "chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        if (ti >= 0 && (commands[ti].cmd == WB_DF_FROM || commands[ti].cmd == WB_DF_MAINTAINER))
            return perr(p, "%s isn't allowed as an ONBUILD trigger", commands[ti].name);
        in->sub = wb_calloc(1, sizeof *in->sub);
        if (parse_instruction(p, s, in->sub, true) < 0) return -1;
        /* Docker stores the trigger with its keyword uppercased */
        wb_strbuf t = {0};
        for (const char *c = s; c < e; c++) wb_strbuf_putc(&t, (char)toupper((unsigned char)*c));
        wb_strbuf_putn(&t, e, strlen(e));
        in->trigger = wb_strbuf_take(&t);
        return 0;
    }
    }
    return perr(p, "internal error: no parser for %s", cmd);
}

/* One instruction from its joined line. */
static int parse_instruction(parser *p, const char *line, wb_df_instr *in, bool trigger) {
    const char *s = skip_blanks(line);
    const char *e = s;
    while (*e && !is_blank(*e)) e++;
    int ci = command_index(s, (size_t)(e - s));
    if (ci < 0) {
        char word[64];
        size_t n = (size_t)(e - s) < sizeof word - 1 ? (size_t)(e - s) : sizeof word - 1;
        for (size_t i = 0; i < n; i++) word[i] = (char)toupper((unsigned char)s[i]);
        word[n] = '\0';
        const char *best = NULL;
        size_t bd = 3;
        for (size_t i = 0; i < NCOMMANDS; i++) {
            size_t d = edit_distance(word, commands[i].name);
            if (d < bd) {
                bd = d;
                best = commands[i].name;
            }
        }
        if (best) return perr(p, "unknown instruction: %s (did you mean %s?)", word, best);
        return perr(p, "unknown instruction: %s", word);
    }
    in->cmd = commands[ci].cmd;
    in->line = p->line;
    size_t l = strlen(s);
    while (l && is_blank(s[l - 1])) l--;
    in->text = wb_strndup(s, l);
    const char *rest = e;
    if (in->cmd == WB_DF_RUN && trigger && has_heredoc(rest))
        return perr(p, "RUN: heredocs are not supported in ONBUILD triggers");
    if (in->cmd == WB_DF_RUN && has_heredoc(rest)) collect_heredocs(rest, in);
    if ((in->cmd == WB_DF_COPY || in->cmd == WB_DF_ADD) && has_heredoc(rest))
        return perr(p,
                    "%s: heredocs (<<WORD) are not supported; put the content in a file in the "
                    "build context",
                    commands[ci].name);
    if (parse_flags(p, ci, &rest, in) < 0) return -1;
    return parse_args(p, ci, rest, in);
}

/* ---- lines and directives ---- */

typedef struct line_reader {
    const char *text, *end, *pos;
    int lineno;
} line_reader;

/* Next physical line (without its newline and a trailing CR); false at the end. */
static bool next_line(line_reader *r, const char **start, size_t *len) {
    if (r->pos >= r->end) return false;
    const char *nl = memchr(r->pos, '\n', (size_t)(r->end - r->pos));
    const char *stop = nl ? nl : r->end;
    *start = r->pos;
    *len = (size_t)(stop - r->pos);
    if (*len && (*start)[*len - 1] == '\r') (*len)--;
    r->pos = nl ? nl + 1 : r->end;
    r->lineno++;
    return true;
}

static bool is_comment(const char *s, size_t n) {
    size_t i = 0;
    while (i < n && is_blank(s[i])) i++;
    return i < n && s[i] == '#';
}

static bool is_empty(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!is_blank(s[i])) return false;
    return true;
}

/* Does the line end with the escape character (then blanks)? Strips them when it does. */
static bool continues(const char *s, size_t *n, char escape) {
    size_t l = *n;
    while (l && (s[l - 1] == ' ' || s[l - 1] == '\t')) l--;
    if (l && s[l - 1] == escape) {
        *n = l - 1;
        return true;
    }
    return false;
}

/* `# key=value` at the top of the file. Returns 1 for a directive (key/value filled), else 0. */
static int directive(const char *s, size_t n, char *key, size_t ks, char *val, size_t vs) {
    size_t i = 0;
    while (i < n && is_blank(s[i])) i++;
    if (i >= n || s[i] != '#') return 0;
    i++;
    while (i < n && is_blank(s[i])) i++;
    size_t k0 = i;
    while (i < n && isalpha((unsigned char)s[i])) i++;
    size_t k1 = i;
    while (i < n && is_blank(s[i])) i++;
    if (k1 == k0 || i >= n || s[i] != '=') return 0;
    i++;
    while (i < n && is_blank(s[i])) i++;
    size_t v0 = i, v1 = n;
    while (v1 > v0 && is_blank(s[v1 - 1])) v1--;
    if (k1 - k0 >= ks || v1 - v0 >= vs) return 0;
    for (size_t k = k0; k < k1; k++) key[k - k0] = (char)tolower((unsigned char)s[k]);
    key[k1 - k0] = '\0';
    memcpy(val, s + v0, v1 - v0);
    val[v1 - v0] = '\0';
    return 1;
}

/* The bodies of an instruction's heredocs: the lines after it, each up to its terminator. */
static int read_heredocs(parser *p, line_reader *r, wb_df_instr *in) {
    for (size_t i = 0; i < in->nheredocs; i++) {
        wb_df_heredoc *h = &in->heredocs[i];
        wb_strbuf body = {0};
        const char *s;
        size_t n;
        bool done = false;
        while (!done && next_line(r, &s, &n)) {
            size_t skip = 0;
            if (h->chomp)
                while (skip < n && s[skip] == '\t') skip++;
            if (n - skip == strlen(h->name) && !memcmp(s + skip, h->name, n - skip)) {
                done = true;
            } else {
                wb_strbuf_putn(&body, s + skip, n - skip);
                wb_strbuf_putc(&body, '\n');
            }
        }
        if (!done) {
            free(body.s);
            return perr(p, "%s: unterminated heredoc <<%s", wb_df_cmd_name(in->cmd), h->name);
        }
        wb_strbuf_putn(&body, "", 0);
        h->body = body.s ? wb_strbuf_take(&body) : wb_strdup("");
    }
    return 0;
}

static void add_note(wb_dockerfile *df, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_note(wb_dockerfile *df, int line, const char *fmt, ...) {
    char msg[WB_ERROR_MSG_MAX], full[WB_ERROR_MSG_MAX + 300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "%s:%d: %s", df->file, line, msg);
    push_str(&df->notes, &df->nnotes, wb_strdup(full));
}

static bool valid_stage_name(const char *s) {
    if (!islower((unsigned char)s[0])) return false;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-' || *s == '_' ||
              *s == '.'))
            return false;
    return true;
}

int wb_dockerfile_find_stage(const wb_dockerfile *df, const char *name) {
    for (size_t i = 0; i < df->nstages; i++)
        if (df->stages[i].name && !strcasecmp(df->stages[i].name, name)) return (int)i;
    char *end;
    if (*name >= '0' && *name <= '9') {
        unsigned long v = strtoul(name, &end, 10);
        if (!*end && v < df->nstages) return (int)v;
    }
    return -1;
}

static int build_stages(wb_dockerfile *df, parser *p) {
    for (size_t i = 0; i < df->ninstrs; i++) {
        wb_df_instr *in = &df->instrs[i];
        p->line = in->line;
        if (in->cmd != WB_DF_FROM) {
            if (df->nstages == 0) {
                if (in->cmd == WB_DF_ARG) {
                    df->nmeta++;
                    continue;
                }
                return perr(p, "%s before the first FROM: only ARG may come before FROM",
                            wb_df_cmd_name(in->cmd));
            }
            df->stages[df->nstages - 1].count++;
            continue;
        }
        char *name = NULL;
        if (in->nargs == 3) {
            name = wb_strdup(in->args[2]);
            for (char *c = name; *c; c++) *c = (char)tolower((unsigned char)*c);
            if (!valid_stage_name(name)) {
                perr(p,
                     "invalid stage name \"%s\": it must start with a letter and hold only "
                     "letters, digits, '-', '_' and '.'",
                     in->args[2]);
                free(name);
                return -1;
            }
            if (wb_dockerfile_find_stage(df, name) >= 0 && !(name[0] >= '0' && name[0] <= '9')) {
                perr(p, "duplicate stage name \"%s\"", name);
                free(name);
                return -1;
            }
        }
        df->stages = wb_reallocarray(df->stages, df->nstages + 1, sizeof *df->stages);
        df->stages[df->nstages++] = (wb_df_stage){name, i, 1};
    }
    if (df->nstages == 0) {
        p->line = df->ninstrs ? df->instrs[df->ninstrs - 1].line : 1;
        if (!df->ninstrs)
            return wb_error_set(p->err, EINVAL, "%s: the Dockerfile cannot be empty", df->file);
        return perr(p, "no FROM instruction: a Dockerfile starts a build stage with FROM");
    }
    return 0;
}

int wb_dockerfile_parse(const char *file, const char *text, size_t len, wb_dockerfile **out,
                        wb_error *err) {
    *out = NULL;
    if (len > WB_DF_MAX_BYTES)
        return wb_error_set(err, EFBIG, "%s: %zu bytes is over the %zu-byte limit for a Dockerfile",
                            file, len, WB_DF_MAX_BYTES);
    if (memchr(text, '\0', len))
        return wb_error_set(err, EINVAL, "%s: not a text file (it holds a NUL byte)", file);
    wb_dockerfile *df = wb_calloc(1, sizeof *df);
    df->file = wb_strdup(file);
    df->escape = '\\';
    parser p = {.file = df->file, .escape = '\\', .line = 0, .err = err};
    line_reader r = {text, text + len, text, 0};
    /* a UTF-8 byte order mark is skipped */
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) r.pos += 3;
    const char *s;
    size_t n;
    bool seen_escape = false, seen_syntax = false, seen_check = false;
    /* directives: only before anything else */
    const char *save = r.pos;
    int save_line = r.lineno;
    while (next_line(&r, &s, &n)) {
        char key[32], val[256];
        if (!directive(s, n, key, sizeof key, val, sizeof val)) break;
        p.line = r.lineno;
        bool *seen = !strcmp(key, "escape")   ? &seen_escape
                     : !strcmp(key, "syntax") ? &seen_syntax
                     : !strcmp(key, "check")  ? &seen_check
                                              : NULL;
        if (seen && *seen) {
            perr(&p, "only one %s parser directive can be used", key);
            goto fail;
        }
        if (seen) *seen = true;
        if (!strcmp(key, "escape")) {
            if (strcmp(val, "\\") != 0 && strcmp(val, "`") != 0) {
                perr(&p, "invalid escape token '%s' does not match ` or \\", val);
                goto fail;
            }
            df->escape = p.escape = val[0];
        } else if (!strcmp(key, "syntax")) {
            df->syntax = wb_strdup(val);
            const char *v = val;
            if (!strncmp(v, "docker.io/", 10)) v += 10;
            if (strncmp(v, "docker/dockerfile:", 18) != 0 && strcmp(v, "docker/dockerfile") != 0)
                add_note(df, r.lineno,
                         "note: syntax=%s is ignored: wasmbox parses Dockerfiles itself", val);
        }
        save = r.pos;
        save_line = r.lineno;
    }
    r.pos = save;
    r.lineno = save_line;
    /* instructions */
    size_t cap = 0;
    wb_strbuf joined = {0};
    while (next_line(&r, &s, &n)) {
        if (is_comment(s, n) || is_empty(s, n)) continue;
        p.line = r.lineno;
        joined.len = 0;
        size_t l = n;
        bool more = continues(s, &l, p.escape);
        wb_strbuf_putn(&joined, s, l);
        bool empty_cont = false;
        while (more && next_line(&r, &s, &n)) {
            if (is_comment(s, n)) continue;
            if (is_empty(s, n)) {
                empty_cont = true;
                continue;
            }
            l = n;
            more = continues(s, &l, p.escape);
            wb_strbuf_putn(&joined, s, l);
        }
        if (empty_cont)
            add_note(df, p.line,
                     "note: empty continuation lines will become errors in a future "
                     "release of Docker");
        if (is_empty(joined.s, joined.len)) continue;
        if (df->ninstrs >= WB_DF_MAX_INSTRUCTIONS) {
            perr(&p, "more than %d instructions", WB_DF_MAX_INSTRUCTIONS);
            free(joined.s);
            goto fail;
        }
        WB_VEC_RESERVE(df->instrs, cap, df->ninstrs + 1);
        wb_df_instr *in = &df->instrs[df->ninstrs++];
        memset(in, 0, sizeof *in);
        if (parse_instruction(&p, joined.s, in, false) < 0 || read_heredocs(&p, &r, in) < 0) {
            free(joined.s);
            goto fail;
        }
    }
    free(joined.s);
    if (build_stages(df, &p) < 0) goto fail;
    *out = df;
    return 0;
fail:
    wb_dockerfile_free(df);
    return -1;
}

/* ---- word expansion ---- */

typedef struct lexer {
    const char *s;
    size_t i;
    char escape;
    wb_df_lookup lookup;
    void *ctx;
    wb_error *err;
    int depth;
} lexer;

static int lex_word(lexer *lx, wb_strbuf *out, char stop);

static char peek(const lexer *lx) {
    return lx->s[lx->i];
}

static int check_size(lexer *lx, const wb_strbuf *b) {
    if (b->len > WB_DF_MAX_WORD)
        return wb_error_set(lx->err, E2BIG, "a word is longer than %d bytes after expansion",
                            WB_DF_MAX_WORD);
    return 0;
}

static void lex_name(lexer *lx, wb_strbuf *name) {
    if (isdigit((unsigned char)peek(lx))) {
        while (isdigit((unsigned char)peek(lx))) wb_strbuf_putc(name, lx->s[lx->i++]);
        return;
    }
    while (name_char(peek(lx))) wb_strbuf_putc(name, lx->s[lx->i++]);
}

/* After a '$'. */
static int lex_dollar(lexer *lx, wb_strbuf *out) {
    char c = peek(lx);
    if (c != '{') {
        wb_strbuf name = {0};
        lex_name(lx, &name);
        if (!name.len) {
            wb_strbuf_putc(out, '$');
            return 0;
        }
        const char *v = lx->lookup(lx->ctx, name.s);
        if (v) wb_strbuf_putn(out, v, strlen(v));
        free(name.s);
        return check_size(lx, out);
    }
    lx->i++;
    wb_strbuf name = {0};
    lex_name(lx, &name);
    int rc = 0;
    if (!name.len) {
        rc = wb_error_set(lx->err, EINVAL, "bad substitution: \"${%.20s\"", lx->s + lx->i);
        goto out;
    }
    const char *v = lx->lookup(lx->ctx, name.s);
    c = peek(lx);
    if (c == '}') {
        lx->i++;
        if (v) wb_strbuf_putn(out, v, strlen(v));
        goto out;
    }
    bool colon = c == ':';
    if (colon) lx->i++;
    char mod = peek(lx);
    if (mod != '-' && mod != '+' && mod != '?') {
        if (!mod)
            rc = wb_error_set(lx->err, EINVAL, "syntax error: missing '}' in \"${%s\"", name.s);
        else
            rc = wb_error_set(lx->err, EINVAL, "unsupported modifier (%c) in substitution of %s",
                              mod, name.s);
        goto out;
    }
    lx->i++;
    wb_strbuf word = {0};
    if (++lx->depth > 64) {
        rc = wb_error_set(lx->err, EINVAL, "substitutions nested too deeply");
        goto out;
    }
    rc = lex_word(lx, &word, '}');
    lx->depth--;
    if (rc == 0 && peek(lx) != '}')
        rc = wb_error_set(lx->err, EINVAL, "syntax error: missing '}' in \"${%s\"", name.s);
    if (rc == 0) {
        lx->i++;
        bool set = colon ? (v && *v) : v != NULL;
        if (mod == '-') {
            if (set)
                wb_strbuf_putn(out, v, strlen(v));
            else if (word.len)
                wb_strbuf_putn(out, word.s, word.len);
        } else if (mod == '+') {
            if (set && word.len) wb_strbuf_putn(out, word.s, word.len);
        } else if (!set) {
            rc = wb_error_set(lx->err, EINVAL, "%s: %s", name.s,
                              word.len ? word.s : "is not allowed to be unset");
        } else {
            wb_strbuf_putn(out, v, strlen(v));
        }
    }
    free(word.s);
    if (rc == 0) rc = check_size(lx, out);
out:
    free(name.s);
    return rc;
}

/* Characters up to `stop` (0: the end), handling quotes, escapes and substitutions. */
static int lex_word(lexer *lx, wb_strbuf *out, char stop) {
    for (;;) {
        char c = peek(lx);
        if (!c || (stop && c == stop)) return 0;
        lx->i++;
        if (c == '\'') {
            const char *q = strchr(lx->s + lx->i, '\'');
            if (!q)
                return wb_error_set(lx->err, EINVAL,
                                    "unexpected end of statement while looking "
                                    "for matching single-quote");
            wb_strbuf_putn(out, lx->s + lx->i, (size_t)(q - (lx->s + lx->i)));
            lx->i = (size_t)(q - lx->s) + 1;
        } else if (c == '"') {
            for (;;) {
                char d = peek(lx);
                if (!d)
                    return wb_error_set(lx->err, EINVAL,
                                        "unexpected end of statement while "
                                        "looking for matching double-quote");
                lx->i++;
                if (d == '"') break;
                if (d == '$') {
                    if (lex_dollar(lx, out) < 0) return -1;
                    continue;
                }
                if (d == lx->escape) {
                    char e = peek(lx);
                    if (e == '"' || e == '$' || e == lx->escape) {
                        wb_strbuf_putc(out, e);
                        lx->i++;
                        continue;
                    }
                }
                wb_strbuf_putc(out, d);
            }
        } else if (c == '$') {
            if (lex_dollar(lx, out) < 0) return -1;
        } else if (c == lx->escape) {
            char e = peek(lx);
            if (!e) return 0; /* an escape at the end is dropped */
            wb_strbuf_putc(out, e);
            lx->i++;
        } else {
            wb_strbuf_putc(out, c);
        }
        if (check_size(lx, out) < 0) return -1;
    }
}

int wb_df_expand(const char *word, char escape, wb_df_lookup lookup, void *ctx, char **out,
                 wb_error *err) {
    *out = NULL;
    lexer lx = {word, 0, escape, lookup, ctx, err, 0};
    wb_strbuf b = {0};
    if (lex_word(&lx, &b, 0) < 0) {
        free(b.s);
        return -1;
    }
    *out = wb_strbuf_take(&b);
    return 0;
}
