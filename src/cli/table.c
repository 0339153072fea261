#include "cli/table.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

void wb_table_init(wb_table *t, size_t ncols) {
    memset(t, 0, sizeof *t);
    t->ncols = ncols;
}

void wb_table_add(wb_table *t, const char *const *row) {
    t->cells = wb_reallocarray(t->cells, (t->nrows + 1) * t->ncols, sizeof *t->cells);
    for (size_t c = 0; c < t->ncols; c++)
        t->cells[t->nrows * t->ncols + c] = wb_strdup(row[c] ? row[c] : "");
    t->nrows++;
}

/* Display width: UTF-8 continuation bytes take no column. */
static size_t width(const char *s) {
    size_t w = 0;
    for (; *s; s++) w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}

void wb_table_print(const wb_table *t, FILE *out) {
    size_t *w = wb_calloc(t->ncols, sizeof *w);
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t cw = width(t->cells[r * t->ncols + c]) + 3;
            if (cw > w[c]) w[c] = cw;
        }
    for (size_t c = 0; c < t->ncols; c++)
        if (w[c] < 10) w[c] = 10;
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *cell = t->cells[r * t->ncols + c];
            fputs(cell, out);
            if (c + 1 < t->ncols)
                for (size_t pad = width(cell); pad < w[c]; pad++) fputc(' ', out);
        }
        fputc('\n', out);
    }
    free(w);
}

void wb_table_release(wb_table *t) {
    for (size_t i = 0; i < t->nrows * t->ncols; i++) free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}
