/* Compose v2's progress display on stderr: on a terminal a block redrawn in place,
 *   [+] Running 3/3
 *    ✔ Network demo_default     Created                0.1s
 *    ✔ Container demo-db-1      Started                0.4s
 * and without one (or --progress plain) one line per change, " Container demo-db-1  Started". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/timeutil.h"
#include "cli/compose.h"

typedef struct row {
    char *kind, *name, *text;
    bool done, failed;
    double start, end;
} row;

struct compose_progress {
    bool tty, quiet;
    char *title;
    row *rows;
    size_t n;
    int drawn; /* lines of the block on the screen */
    unsigned frame;
};

compose_progress *compose_progress_new(const compose_cli *cc, const char *title) {
    compose_progress *p = wb_calloc(1, sizeof *p);
    p->tty = cc->progress;
    p->quiet = compose_progress_quiet();
    p->title = wb_strdup(title ? title : "Running");
    return p;
}

static void draw(compose_progress *p) {
    static const char *const spin[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};
    size_t done = 0, wname = 0, wtext = 0;
    for (size_t i = 0; i < p->n; i++) {
        done += p->rows[i].done;
        size_t l = strlen(p->rows[i].kind) + 1 + strlen(p->rows[i].name);
        if (l > wname) wname = l;
        if (strlen(p->rows[i].text) > wtext) wtext = strlen(p->rows[i].text);
    }
    if (p->drawn) fprintf(stderr, "\033[%dA", p->drawn);
    fprintf(stderr, "\r\033[K[+] %s %zu/%zu\n", p->title, done, p->n);
    double t = wb_mono_seconds();
    p->frame++;
    for (size_t i = 0; i < p->n; i++) {
        const row *r = &p->rows[i];
        const char *mark = r->failed ? "\033[31m✘\033[0m"
                           : r->done ? "\033[32m✔\033[0m"
                                     : spin[p->frame % 10];
        char who[600];
        snprintf(who, sizeof who, "%s %s", r->kind, r->name);
        fprintf(stderr, "\033[K %s %-*s  %-*s  %5.1fs\n", mark, (int)wname, who, (int)wtext,
                r->text, (r->done ? r->end : t) - r->start);
    }
    p->drawn = (int)p->n + 1;
    fflush(stderr);
}

void compose_progress_set(compose_progress *p, const char *kind, const char *name, const char *text,
                          bool done, bool failed) {
    if (!p || p->quiet) return;
    row *r = NULL;
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->rows[i].kind, kind) && !strcmp(p->rows[i].name, name)) r = &p->rows[i];
    if (!r) {
        p->rows = wb_reallocarray(p->rows, p->n + 1, sizeof *p->rows);
        r = &p->rows[p->n++];
        *r = (row){wb_strdup(kind), wb_strdup(name), NULL, false, false, wb_mono_seconds(), 0};
    }
    free(r->text);
    r->text = wb_strdup(text);
    r->done = done;
    r->failed = failed;
    if (done) r->end = wb_mono_seconds();
    if (p->tty) {
        draw(p);
    } else {
        fprintf(stderr, " %s %s  %s\n", kind, name, text);
        fflush(stderr);
    }
}

void compose_progress_end(compose_progress *p) {
    if (!p) return;
    if (p->tty && p->n && !p->quiet) draw(p);
    for (size_t i = 0; i < p->n; i++) {
        free(p->rows[i].kind);
        free(p->rows[i].name);
        free(p->rows[i].text);
    }
    free(p->rows);
    free(p->title);
    free(p);
}
