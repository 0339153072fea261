/* The wasmbox command line: one file per command, all thin over the library. Exit codes follow
 * Docker: 125 for an error of wasmbox itself, otherwise the workload's. */
#ifndef WB_CLI_H
#define WB_CLI_H

#define WB_EXIT_ENGINE 125
#define WB_EXIT_TRAP   134

int wb_cmd_run(int argc, char **argv);

/* Print "Error: ..." (one line) to stderr. */
void wb_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
