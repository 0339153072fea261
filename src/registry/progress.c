/* Progress output as Docker prints it. On a terminal each layer has a line that is redrawn in
 * place (cursor up, clear line, rewrite, cursor down) with a bar while bytes move; elsewhere each
 * change of a layer's status is one line; quiet prints nothing. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "registry/client.h"

typedef struct row {
    char id[16];
    char status[40];
    uint64_t cur, total;
    size_t line; /* the terminal line it is drawn on, counted from the first row */
    bool dirty;
} row;

struct wb__progress {
    FILE *out;
    wb_progress_mode mode;
    row *rows;
    size_t nrows, cap;
    size_t lines; /* lines printed since the first row */
    int width;    /* terminal columns */
    struct timespec last_draw;
};

void wb__human_size(uint64_t n, char *buf, size_t size) {
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1000 && u < 5) {
        v /= 1000;
        u++;
    }
    snprintf(buf, size, "%.4g%s", v, units[u]);
}

wb__progress *wb__progress_new(FILE *out, wb_progress_mode mode) {
    wb__progress *p = wb_calloc(1, sizeof *p);
    p->out = out ? out : stdout;
    p->mode = mode;
    p->width = 80;
    struct winsize ws;
    if (mode == WB_PROGRESS_TTY && ioctl(fileno(p->out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
        p->width = ws.ws_col;
    return p;
}

void wb__progress_free(wb__progress *p) {
    if (!p) return;
    fflush(p->out);
    free(p->rows);
    free(p);
}

void wb__progress_line(wb__progress *p, const char *fmt, ...) {
    if (!p || p->mode == WB_PROGRESS_QUIET) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(p->out, fmt, ap);
    va_end(ap);
    fputc('\n', p->out);
    fflush(p->out);
    if (p->nrows) p->lines++;
}

/* "Downloading [=====>      ]  1.2MB/3.4MB" */
static void format_row(const wb__progress *p, const row *r, char *buf, size_t size) {
    int used = snprintf(buf, size, "%s: %s", r->id, r->status);
    if (p->mode != WB_PROGRESS_TTY || !r->total || used < 0) return;
    char cur[32], total[32];
    wb__human_size(r->cur, cur, sizeof cur);
    wb__human_size(r->total, total, sizeof total);
    /* Docker's bar is 50 wide; narrower terminals get a shorter one, never a wrapped line */
    int room = p->width - used - 1 - (int)strlen(cur) - (int)strlen(total) - 6;
    int width = room < 50 ? room : 50;
    if (width < 10) {
        snprintf(buf + used, size - (size_t)used, " %s/%s", cur, total);
        return;
    }
    uint64_t cur_clamped = r->cur < r->total ? r->cur : r->total;
    int fill = (int)((double)cur_clamped / (double)r->total * width);
    char bar[64];
    int k = 0;
    for (; k < fill && k < width; k++) bar[k] = '=';
    if (k < width) bar[k++] = '>';
    for (; k < width; k++) bar[k] = ' ';
    bar[k] = '\0';
    snprintf(buf + used, size - (size_t)used, " [%s] %8s/%s", bar, cur, total);
}

static void draw_row(wb__progress *p, row *r) {
    char text[512];
    format_row(p, r, text, sizeof text);
    size_t up = p->lines - r->line;
    /* up to the row's line, clear it, write, back down */
    if (up) fprintf(p->out, "\033[%zuA", up);
    fprintf(p->out, "\r\033[2K%s", text);
    if (up) fprintf(p->out, "\033[%zuB", up);
    fputc('\r', p->out);
    r->dirty = false;
}

static double since(const struct timespec *t) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

int wb__progress_add(wb__progress *p, const char *digest, const char *status) {
    if (!p) return -1;
    WB_VEC_RESERVE(p->rows, p->cap, p->nrows + 1);
    row *r = &p->rows[p->nrows];
    memset(r, 0, sizeof *r);
    const char *hex = strchr(digest, ':');
    snprintf(r->id, sizeof r->id, "%.12s", hex ? hex + 1 : digest);
    snprintf(r->status, sizeof r->status, "%s", status);
    if (p->mode == WB_PROGRESS_TTY) {
        r->line = p->lines;
        char text[512];
        format_row(p, r, text, sizeof text);
        fprintf(p->out, "%s\n", text);
        p->lines++;
        fflush(p->out);
    } else if (p->mode == WB_PROGRESS_LINES) {
        fprintf(p->out, "%s: %s\n", r->id, r->status);
        fflush(p->out);
    }
    return (int)p->nrows++;
}

void wb__progress_set(wb__progress *p, int index, const char *status, uint64_t cur,
                      uint64_t total) {
    if (!p || index < 0 || (size_t)index >= p->nrows || p->mode == WB_PROGRESS_QUIET) return;
    row *r = &p->rows[index];
    bool changed = strcmp(r->status, status) != 0;
    if (changed) snprintf(r->status, sizeof r->status, "%s", status);
    r->cur = cur;
    r->total = total;
    if (p->mode == WB_PROGRESS_LINES) {
        if (changed) {
            fprintf(p->out, "%s: %s\n", r->id, r->status);
            fflush(p->out);
        }
        return;
    }
    r->dirty = true;
    /* bars are redrawn ten times a second; a new status at once */
    if (!changed && since(&p->last_draw) < 0.1) return;
    for (size_t i = 0; i < p->nrows; i++)
        if (p->rows[i].dirty) draw_row(p, &p->rows[i]);
    fflush(p->out);
    clock_gettime(CLOCK_MONOTONIC, &p->last_draw);
}
