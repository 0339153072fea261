#include "cli/table.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

#define MIN_WIDTH 10
#define PADDING   3

typedef struct line {
    const char *start;
    size_t len;
    size_t ncells; /* tab-terminated cells; the rest of the line follows them */
    size_t *width; /* the padded width of each of those cells */
} line;

/* Display width: UTF-8 continuation bytes take no column. */
static size_t width(const char *s, size_t n) {
    size_t w = 0;
    for (size_t i = 0; i < n; i++) w += ((unsigned char)s[i] & 0xc0) != 0x80;
    return w;
}

/* The cell `col` of l (col < l->ncells): its start and length. */
static const char *cell(const line *l, size_t col, size_t *n) {
    const char *p = l->start;
    for (size_t c = 0; c < col; c++) p = memchr(p, '\t', l->len - (size_t)(p - l->start)) + 1;
    const char *tab = memchr(p, '\t', l->len - (size_t)(p - l->start));
    *n = (size_t)(tab - p);
    return p;
}

void wb_cli_table_print(const char *text, size_t len, FILE *out) {
    line *lines = NULL;
    size_t nlines = 0, maxcells = 0;
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        line l = {p, n, 0, NULL};
        for (size_t i = 0; i < n; i++) l.ncells += p[i] == '\t';
        l.width = wb_calloc(l.ncells + 1, sizeof *l.width);
        if (l.ncells > maxcells) maxcells = l.ncells;
        lines = wb_reallocarray(lines, nlines + 1, sizeof *lines);
        lines[nlines++] = l;
        p += n + 1;
    }
    /* a column's width holds over a run of consecutive lines that all have it (a block, as
     * tabwriter calls it); a line without it ends the run */
    for (size_t col = 0; col < maxcells; col++) {
        size_t i = 0;
        while (i < nlines) {
            if (lines[i].ncells <= col) {
                i++;
                continue;
            }
            size_t first = i, w = MIN_WIDTH;
            for (; i < nlines && lines[i].ncells > col; i++) {
                size_t n;
                const char *c = cell(&lines[i], col, &n);
                if (width(c, n) + PADDING > w) w = width(c, n) + PADDING;
            }
            for (size_t k = first; k < i; k++) lines[k].width[col] = w;
        }
    }
    for (size_t i = 0; i < nlines; i++) {
        const line *l = &lines[i];
        for (size_t col = 0; col < l->ncells; col++) {
            size_t n;
            const char *c = cell(l, col, &n);
            fwrite(c, 1, n, out);
            for (size_t pad = width(c, n); pad < l->width[col]; pad++) fputc(' ', out);
        }
        const char *rest = l->start;
        if (l->ncells) {
            size_t n;
            const char *c = cell(l, l->ncells - 1, &n);
            rest = c + n + 1;
        }
        fwrite(rest, 1, l->len - (size_t)(rest - l->start), out);
        fputc('\n', out);
        free(l->width);
    }
    free(lines);
}
