/* Tables laid out as Docker's CLI does (Go's tabwriter with minwidth 10, padding 3): each column
 * as wide as its longest cell plus three spaces, at least ten; the last column unpadded. */
#ifndef WB_CLI_TABLE_H
#define WB_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

typedef struct wb_table {
    size_t ncols, nrows;
    char **cells; /* nrows * ncols, owned */
} wb_table;

void wb_table_init(wb_table *t, size_t ncols);
/* Add a row of ncols strings (copied). */
void wb_table_add(wb_table *t, const char *const *row);
void wb_table_print(const wb_table *t, FILE *out);
void wb_table_release(wb_table *t);

#endif
