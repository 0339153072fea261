/* wasmbox: dispatch to the command named by the first argument. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#define WB_VERSION "0.1.0"

void wb_cli_error(const char *fmt, ...) {
    va_list ap;
    fputs("Error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void usage(FILE *out) {
    fputs("Usage:  wasmbox COMMAND [OPTIONS]\n"
          "\n"
          "A container engine for WebAssembly workloads\n"
          "\n"
          "Commands:\n"
          "  run         Run a WebAssembly module (wasmbox run --invoke NAME FILE.wasm [ARGS...])\n"
          "  version     Show the wasmbox version\n"
          "\n"
          "Run 'wasmbox COMMAND --help' for more information on a command.\n",
          out);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return WB_EXIT_ENGINE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "run")) return wb_cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version") || !strcmp(cmd, "-v")) {
        printf("wasmbox version %s\n", WB_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "wasmbox: '%s' is not a wasmbox command.\nSee 'wasmbox --help'\n", cmd);
    return WB_EXIT_ENGINE;
}
