/* `wasmbox buildx ls` and `buildx version`: Docker Buildx's shape around the one builder
 * wasmbox has, built in, building into the local image store (`buildx build` is build.c's). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/flags.h"
#include "cli/format.h"

static const wb_cli_flag ls_flags[] = {
    {0, "format", "string", WB_CLI_LIST_FORMAT_HELP, false},
    {0, "no-trunc", NULL, "Don't truncate output", false},
    {0},
};
static const wb_cli_command ls_cmd = {"buildx ls", "[OPTIONS]", "List builder instances", ls_flags,
                                      false};

static const wb_cli_column ls_columns[] = {
    {"Name", "NAME/NODE"},
    {"DriverEndpoint", "DRIVER/ENDPOINT"},
    {"LastActivity", "LAST ACTIVITY"},
    {"Status", "STATUS"},
    {"Buildkit", "BUILDKIT"},
    {"Platforms", "PLATFORMS"},
    {"Error", "ERROR"},
};
#define LS_TABLE "table {{.Name}}\t{{.DriverEndpoint}}\t{{.Status}}\t{{.Buildkit}}\t{{.Platforms}}"

static int parse(const wb_cli_command *cmd, int argc, char **argv, wb_cli_args *a) {
    int p = wb_cli_parse(cmd, argc, argv, a);
    if (p == 0 && a->npos) {
        wb_cli_error("\"wasmbox %s\" accepts no arguments.", cmd->name);
        p = 2;
    }
    if (p == 0) return 0;
    wb_cli_args_release(a);
    return p == 1 ? 0 : p < 0 ? WB_EXIT_ENGINE : 1;
}

int wb_cmd_buildx_ls(int argc, char **argv) {
    wb_cli_args a;
    int rc = parse(&ls_cmd, argc, argv, &a);
    if (rc || !a.pos) return rc;
    /* the builder, then its one node (Docker's " \_ " marks a node under its builder) */
    json_t *rows[2] = {
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Name", "default*", "DriverEndpoint",
                  "wasmbox", "LastActivity", "", "Status", "", "Buildkit", "", "Platforms", "",
                  "Error", ""),
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Name", " \\_ default", "DriverEndpoint",
                  " \\_ local", "LastActivity", "", "Status", "running", "Buildkit",
                  "wasmbox-" WB_VERSION, "Platforms", "wasi/wasm, linux/amd64", "Error", ""),
    };
    wb_cli_list list;
    wb_cli_list_init(&list, wb_cli_flag_value(&a, "format"), LS_TABLE, ls_columns,
                     sizeof ls_columns / sizeof *ls_columns);
    wb_error err;
    for (int i = 0; i < 2 && rc == 0; i++)
        if (wb_cli_list_row(&list, rows[i], &err) < 0) rc = 1;
    if (rc == 0 && wb_cli_list_print(&list, stdout, &err) < 0) rc = 1;
    if (rc) wb_cli_error("template parsing error: %s", err.msg);
    wb_cli_list_release(&list);
    json_decref(rows[0]);
    json_decref(rows[1]);
    wb_cli_args_release(&a);
    return rc;
}

static const wb_cli_flag no_flags[] = {{0}};
static const wb_cli_command version_cmd = {"buildx version", "", "Show buildx version information",
                                           no_flags, false};

int wb_cmd_buildx_version(int argc, char **argv) {
    wb_cli_args a;
    int rc = parse(&version_cmd, argc, argv, &a);
    if (rc || !a.pos) return rc;
    wb_cli_args_release(&a);
    /* Buildx prints "github.com/docker/buildx VERSION COMMIT": here the builder is wasmbox's */
    printf("github.com/wasmbox/wasmbox/buildx v%s wasmbox\n", WB_VERSION);
    return 0;
}
