/* Tables laid out as Docker's CLI does (Go's tabwriter with minwidth 10, padding 3): text whose
 * cells end in tabs, each column as wide as its longest cell plus three spaces, at least ten,
 * over each run of lines that have that column; the text after a line's last tab unpadded. */
#ifndef WB_CLI_TABLE_H
#define WB_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

/* Print text (lines of tab-separated cells) aligned. */
void wb_cli_table_print(const char *text, size_t len, FILE *out);

#endif
