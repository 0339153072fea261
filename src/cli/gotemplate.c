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

static int render(const char *tmpl, const json_t *data, bool header, FILE *out, wb_error *err) {
    const char *p = tmpl;
    while (*p) {
        const char *open = strstr(p, "{{");
        const char *lit_end = open ? open : p + strlen(p);
        for (const char *c = p; c < lit_end; c++) {
            if (c[0] == '\\' && c + 1 < lit_end && (c[1] == 't' || c[1] == 'n')) {
                fputc(c[1] == 't' ? '\t' : '\n', out);
                c++;
            } else {
                fputc(*c, out);
            }
        }
        if (!open) break;
        const char *close = strstr(open + 2, "}}");
        if (!close) return wb_error_set(err, EINVAL, "template: unclosed action");
        const char *a = open + 2, *e = close;
        if (*a == '-') a++;
        if (e > a && e[-1] == '-') e--;
        parser ps = {a, e, data, header, err};
        if (action(&ps, out) < 0) return -1;
        p = close + 2;
    }
    return 0;
}

int wb_gotemplate_render(const char *tmpl, const json_t *data, FILE *out, wb_error *err) {
    return render(tmpl, data, false, out, err);
}

int wb_gotemplate_render_header(const char *tmpl, const json_t *titles, FILE *out, wb_error *err) {
    return render(tmpl, titles, true, out, err);
}
