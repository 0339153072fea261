/* Docker's `--format` for every command that takes one: list commands (ps, images, stats, ...)
 * render rows with the default table, `table TEMPLATE` (a header row of column titles, then the
 * rows, aligned), `json` (each row as one JSON object per line) or a bare TEMPLATE (one line per
 * row); inspect commands print their documents as an indented array, `json` (the array on one
 * line) or a TEMPLATE per document. */
#ifndef WB_CLI_FORMAT_H
#define WB_CLI_FORMAT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/error.h"

/* A row field and the title of its column ("ID", "CONTAINER ID"). */
typedef struct wb_cli_column {
    const char *field, *title;
} wb_cli_column;

typedef struct wb_cli_list {
    char *tmpl;     /* what each row renders, owned */
    bool table;     /* a header row first, cells aligned */
    json_t *titles; /* field -> title, for the header row */
    char *buf;      /* the rows so far: nothing is printed until all rendered (as Docker) */
    size_t len;
    FILE *rows;
} wb_cli_list;

/* format: as the user gave it; NULL, "" and "table" mean default_table ("table {{.ID}}\t...").
 * columns: every field a row has, with its title (ncolumns entries). */
void wb_cli_list_init(wb_cli_list *l, const char *format, const char *default_table,
                      const wb_cli_column *columns, size_t ncolumns);
/* Render one row (an object with the columns' fields). */
int wb_cli_list_row(wb_cli_list *l, const json_t *row, wb_error *err);
/* Print the header (for tables) and the rows to out. */
int wb_cli_list_print(wb_cli_list *l, FILE *out, wb_error *err);
void wb_cli_list_release(wb_cli_list *l);

/* Print inspect documents (a JSON array) in format (NULL/"": indented array; "json": the array
 * on one line; else a template per document). Returns < 0 with err set for a template error. */
int wb_cli_inspect_print(const char *format, const json_t *docs, FILE *out, wb_error *err);

/* "2024-05-01 10:00:00 +0000 UTC": a time as Go prints it (Docker's CreatedAt columns); UTC, as
 * wasmbox never reads the time zone database. */
void wb_cli_go_time(int64_t sec, char *buf, size_t size);

#endif
