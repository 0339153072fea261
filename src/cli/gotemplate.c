#include "cli/gotemplate.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

static void print_value(const json_t *v, FILE *out);

static void print_go(const json_t *v, FILE *out) {
    if (!v || json_is_null(v)) {
        fputs("<no value>", out);
    } else if (json_is_string(v)) {
        fwrite(json_string_value(v), 1, json_string_length(v), out);
    } else if (json_is_integer(v)) {
        fprintf(out, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        fprintf(out, "%g", json_real_value(v));
    } else if (json_is_boolean(v)) {
        fputs(json_is_true(v) ? "true" : "false", out);
    } else if (json_is_array(v)) {
        fputc('[', out);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) fputc(' ', out);
            print_value(json_array_get(v, i), out);
        }
        fputc(']', out);
    } else if (json_is_object(v)) {
        fputs("map[", out);
        const char *k;
        json_t *x;
        int first = 1;
        json_object_foreach((json_t *)v, k, x) {
            if (!first) fputc(' ', out);
            first = 0;
            fprintf(out, "%s:", k);
            print_value(x, out);
        }
        fputc(']', out);
    }
}

static void print_value(const json_t *v, FILE *out) {
    print_go(v, out);
}

typedef struct parser {
    const char *p, *end;
    const json_t *dot;
    bool header; /* a table's header row: the text functions leave the column title intact */
    wb_error *err;
} parser;

static void skip_ws(parser *ps) {
    while (ps->p < ps->end && isspace((unsigned char)*ps->p)) ps->p++;
}

/* An argument: .Field.Sub, ., "string", or an integer. Owned reference returned. */
static json_t *parse_arg(parser *ps) {
    skip_ws(ps);
    if (ps->p >= ps->end) return NULL;
    if (*ps->p == '"') {
        const char *s = ++ps->p;
        while (ps->p < ps->end && *ps->p != '"') ps->p++;
        json_t *str = json_stringn(s, (size_t)(ps->p - s));
        if (ps->p < ps->end) ps->p++;
        return str;
    }
    if (isdigit((unsigned char)*ps->p) || *ps->p == '-') {
        char *e;
        long long n = strtoll(ps->p, &e, 10);
        ps->p = e;
        return json_integer(n);
    }
    if (*ps->p != '.') {
        wb_error_set(ps->err, EINVAL, "template: unexpected \"%.10s\"", ps->p);
        return NULL;
    }
    ps->p++;
    const json_t *v = ps->dot;
    while (ps->p < ps->end && (isalnum((unsigned char)*ps->p) || *ps->p == '_')) {
        const char *s = ps->p;
        while (ps->p < ps->end && (isalnum((unsigned char)*ps->p) || *ps->p == '_')) ps->p++;
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)(ps->p - s), s);
        v = json_is_object(v) ? json_object_get(v, key) : NULL;
        if (ps->p < ps->end && *ps->p == '.')
            ps->p++;
        else
            break;
    }
    return v ? json_incref((json_t *)v) : json_null();
}

static bool word(parser *ps, const char *w) {
    size_t n = strlen(w);
    if ((size_t)(ps->end - ps->p) >= n && !strncmp(ps->p, w, n) &&
        (ps->p + n == ps->end || isspace((unsigned char)ps->p[n]))) {
        ps->p += n;
        return true;
    }
    return false;
}

static int action(parser *ps, FILE *out) {
    skip_ws(ps);
    json_t *a = NULL, *b = NULL;
    int rc = 0;
    if (ps->header &&
        (word(ps, "json") || word(ps, "join") || word(ps, "upper") || word(ps, "lower") ||
         word(ps, "title") || word(ps, "split") || word(ps, "truncate"))) {
        /* as Docker's header functions: the title stands for the column, whatever the row
         * would do with the value (the second argument of join/split/truncate is dropped) */
        a = parse_arg(ps);
        b = a ? parse_arg(ps) : NULL;
        if (!a)
            rc = -1;
        else
            print_go(a, out);
    } else if (word(ps, "json")) {
        a = parse_arg(ps);
        if (!a) return -1;
        char *s = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
        fputs(s ? s : "null", out);
        free(s);
    } else if (word(ps, "index")) {
        a = parse_arg(ps);
        b = parse_arg(ps);
        if (!a || !b)
            rc = -1;
        else if (json_is_array(a) && json_is_integer(b))
            print_go(json_array_get(a, (size_t)json_integer_value(b)), out);
        else if (json_is_object(a) && json_is_string(b))
            print_go(json_object_get(a, json_string_value(b)), out);
        else
            print_go(NULL, out);
    } else if (word(ps, "join")) {
        a = parse_arg(ps);
        b = parse_arg(ps);
        if (!a || !json_is_string(b)) rc = -1;
        for (size_t i = 0; rc == 0 && i < json_array_size(a); i++) {
            if (i) fputs(json_string_value(b), out);
            print_go(json_array_get(a, i), out);
        }
    } else if (word(ps, "len")) {
        a = parse_arg(ps);
        if (!a)
            rc = -1;
        else
            fprintf(out, "%zu",
                    json_is_array(a)    ? json_array_size(a)
                    : json_is_object(a) ? json_object_size(a)
                    : json_is_string(a) ? json_string_length(a)
                                        : 0);
    } else if (word(ps, "upper") || word(ps, "lower")) {
        bool up = ps->p[-5] == 'u'; /* the word just consumed */
        a = parse_arg(ps);
        if (!a)
            rc = -1;
        else if (json_is_string(a))
            for (const char *c = json_string_value(a); *c; c++)
                fputc(up ? toupper((unsigned char)*c) : tolower((unsigned char)*c), out);
    } else {
        a = parse_arg(ps);
        if (!a)
            rc = -1;
        else
            print_go(a, out);
    }
    skip_ws(ps);
    if (rc == 0 && ps->p != ps->end)
        rc = wb_error_set(ps->err, EINVAL, "template: unexpected \"%.*s\"", (int)(ps->end - ps->p),
                          ps->p);
    json_decref(a);
    json_decref(b);
    return rc;
}

/* ---- control structures: range, if, with, else, end ---- */

/* One action of the template: its text (trim markers and spaces removed) between a and e,
 * and where the template goes on after it. */
typedef struct tok {
    const char *open, *a, *e, *next;
    bool trim_left, trim_right;
} tok;

static const char *find2(const char *p, const char *end, const char *what) {
    for (; p + 1 < end; p++)
        if (p[0] == what[0] && p[1] == what[1]) return p;
    return NULL;
}

/* The next action at or after p (before end); false when there is none. */
static bool next_tok(const char *p, const char *end, tok *t, wb_error *err, int *rc) {
    *rc = 0;
    const char *open = find2(p, end, "{{");
    if (!open) return false;
    const char *close = find2(open + 2, end, "}}");
    if (!close) {
        *rc = wb_error_set(err, EINVAL, "template: unclosed action");
        return false;
    }
    t->open = open;
    t->a = open + 2;
    t->e = close;
    t->trim_left = *t->a == '-' && t->a + 1 < t->e && isspace((unsigned char)t->a[1]);
    if (t->trim_left) t->a++;
    t->trim_right = t->e - 1 > t->a && t->e[-1] == '-' && isspace((unsigned char)t->e[-2]);
    if (t->trim_right) t->e--;
    while (t->a < t->e && isspace((unsigned char)*t->a)) t->a++;
    while (t->e > t->a && isspace((unsigned char)t->e[-1])) t->e--;
    t->next = close + 2;
    if (t->trim_right)
        while (t->next < end && isspace((unsigned char)*t->next)) t->next++;
    return true;
}

static bool is_word(const tok *t, const char *w) {
    size_t n = strlen(w);
    return (size_t)(t->e - t->a) >= n && !strncmp(t->a, w, n) &&
           (t->a + n == t->e || isspace((unsigned char)t->a[n]));
}

/* From just after a block's opening action: its {{else}} (or NULL) and its {{end}}. */
static int find_block_end(const char *p, const char *end, tok *els, tok *fin, bool *has_else,
                          wb_error *err) {
    int depth = 0, rc;
    *has_else = false;
    tok t;
    while (next_tok(p, end, &t, err, &rc)) {
        if (is_word(&t, "range") || is_word(&t, "if") || is_word(&t, "with")) {
            depth++;
        } else if (is_word(&t, "end")) {
            if (depth == 0) {
                *fin = t;
                return 0;
            }
            depth--;
        } else if (is_word(&t, "else") && depth == 0) {
            *els = t;
            *has_else = true;
        }
        p = t.next;
    }
    return rc < 0 ? -1 : wb_error_set(err, EINVAL, "template: unexpected EOF (missing {{end}})");
}

static bool truthy(const json_t *v) {
    if (!v || json_is_null(v) || json_is_false(v)) return false;
    if (json_is_integer(v)) return json_integer_value(v) != 0;
    if (json_is_real(v)) return json_real_value(v) != 0;
    if (json_is_string(v)) return json_string_length(v) > 0;
    if (json_is_array(v)) return json_array_size(v) > 0;
    if (json_is_object(v)) return json_object_size(v) > 0;
    return true;
}

static int render_span(const char *p, const char *end, const json_t *data, bool header, FILE *out,
                       wb_error *err);

static int cmp_keys(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* {{range X}}...{{else}}...{{end}}, {{if X}}, {{with X}}: t is the opening action. */
static int block(const tok *t, const char *end, const json_t *data, bool header, FILE *out,
                 wb_error *err, const char **after) {
    tok els = {0}, fin = {0};
    bool has_else;
    if (find_block_end(t->next, end, &els, &fin, &has_else, err) < 0) return -1;
    *after = fin.next;
    const char *body_end = has_else ? els.open : fin.open;
    const char *else_start = has_else ? els.next : NULL;
    bool range = is_word(t, "range"), with = is_word(t, "with");
    parser ps = {t->a + (range ? 5 : with ? 4 : 2), t->e, data, header, err};
    json_t *v = parse_arg(&ps);
    if (!v) return -1;
    int rc = 0;
    if (range && json_is_array(v) && json_array_size(v)) {
        for (size_t i = 0; i < json_array_size(v) && rc == 0; i++)
            rc = render_span(t->next, body_end, json_array_get(v, i), header, out, err);
    } else if (range && json_is_object(v) && json_object_size(v)) {
        /* Go ranges over a map in key order */
        const char **keys = wb_calloc(json_object_size(v) + 1, sizeof *keys);
        size_t n = 0;
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) keys[n++] = k;
        qsort(keys, n, sizeof *keys, cmp_keys);
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = render_span(t->next, body_end, json_object_get(v, keys[i]), header, out, err);
        free(keys);
    } else if (!range && truthy(v)) {
        rc = render_span(t->next, body_end, with ? v : data, header, out, err);
    } else if (else_start) {
        rc = render_span(else_start, fin.open, data, header, out, err);
    }
    json_decref(v);
    return rc;
}

static void literal(const char *p, const char *lit_end, FILE *out) {
    for (const char *c = p; c < lit_end; c++) {
        if (c[0] == '\\' && c + 1 < lit_end && (c[1] == 't' || c[1] == 'n')) {
            fputc(c[1] == 't' ? '\t' : '\n', out);
            c++;
        } else {
            fputc(*c, out);
        }
    }
}

static int render_span(const char *p, const char *end, const json_t *data, bool header, FILE *out,
                       wb_error *err) {
    while (p < end) {
        tok t;
        int rc;
        if (!next_tok(p, end, &t, err, &rc)) {
            if (rc < 0) return -1;
            literal(p, end, out);
            break;
        }
        const char *lit_end = t.open;
        if (t.trim_left)
            while (lit_end > p && isspace((unsigned char)lit_end[-1])) lit_end--;
        literal(p, lit_end, out);
        if (is_word(&t, "range") || is_word(&t, "if") || is_word(&t, "with")) {
            if (block(&t, end, data, header, out, err, &p) < 0) return -1;
            continue;
        }
        if (is_word(&t, "end") || is_word(&t, "else"))
            return wb_error_set(err, EINVAL, "template: unexpected {{%.*s}}", (int)(t.e - t.a),
                                t.a);
        parser ps = {t.a, t.e, data, header, err};
        if (action(&ps, out) < 0) return -1;
        p = t.next;
    }
    return 0;
}

static int render(const char *tmpl, const json_t *data, bool header, FILE *out, wb_error *err) {
    return render_span(tmpl, tmpl + strlen(tmpl), data, header, out, err);
}

int wb_gotemplate_render(const char *tmpl, const json_t *data, FILE *out, wb_error *err) {
    return render(tmpl, data, false, out, err);
}

int wb_gotemplate_render_header(const char *tmpl, const json_t *titles, FILE *out, wb_error *err) {
    return render(tmpl, titles, true, out, err);
}
