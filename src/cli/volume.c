/* `wasmbox volume create|ls|inspect|rm|prune`, thin over runtime/volume.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/flags.h"
#include "cli/format.h"
#include "runtime/volume.h"

static const wb_cli_flag create_flags[] = {
    {'d', "driver", "string", "Specify volume driver name (only \"local\")", false},
    {0, "label", "list", "Set metadata for a volume", false},
    {0},
};
static const wb_cli_command create_cmd = {"volume create", "[OPTIONS] [VOLUME]", "Create a volume",
                                          create_flags, false};
static const wb_cli_flag ls_flags[] = {
    {0, "format", "string", WB_CLI_LIST_FORMAT_HELP, false},
    {'q', "quiet", NULL, "Only display volume names", false},
    {0},
};
static const wb_cli_command ls_cmd = {"volume ls", "[OPTIONS]", "List volumes", ls_flags, false};
static const wb_cli_flag inspect_flags[] = {
    {'f', "format", "string", WB_CLI_INSPECT_FORMAT_HELP, false},
    {0},
};
static const wb_cli_command inspect_cmd = {"volume inspect", "[OPTIONS] VOLUME [VOLUME...]",
                                           "Display detailed information on one or more volumes",
                                           inspect_flags, false};
static const wb_cli_flag rm_flags[] = {
    {'f', "force", NULL, "Force the removal of one or more volumes", false},
    {0},
};
static const wb_cli_command rm_cmd = {"volume rm", "[OPTIONS] VOLUME [VOLUME...]",
                                      "Remove one or more volumes", rm_flags, false};
static const wb_cli_flag prune_flags[] = {
    {'f', "force", NULL, "Do not prompt for confirmation", false},
    {0},
};
static const wb_cli_command prune_cmd = {"volume prune", "[OPTIONS]", "Remove unused local volumes",
                                         prune_flags, false};

int wb_cmd_volume_create(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&create_cmd, argc, argv, &a, &rc) < 0) return rc;
    const char *driver = wb_cli_flag_value(&a, "driver");
    char *labels[WB_CLI_MAX_GIVEN];
    size_t n = 0;
    for (const char *l; n < WB_CLI_MAX_GIVEN && (l = wb_cli_flag_nth(&a, "label", (int)n));)
        labels[n++] = (char *)l;
    json_t *v = NULL;
    wb_error err;
    rc = 1;
    if (driver && strcmp(driver, "local") != 0)
        wb_cli_error("create: plugin \"%s\" not found (only the local driver is built in)", driver);
    else if (a.npos > 1)
        wb_cli_error("\"wasmbox volume create\" requires at most 1 argument.");
    else if (wb_volume_create(wb_cli_root(), a.npos ? a.pos[0] : NULL, labels, n, &v, &err) < 0)
        wb_cli_error("%s", err.msg);
    else {
        printf("%s\n", json_string_value(json_object_get(v, "Name")));
        rc = 0;
    }
    json_decref(v);
    wb_cli_args_release(&a);
    return rc;
}

static const wb_cli_column ls_columns[] = {{"Driver", "DRIVER"}, {"Name", "VOLUME NAME"}};

int wb_cmd_volume_ls(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&ls_cmd, argc, argv, &a, &rc) < 0) return rc;
    char **names;
    size_t n;
    wb_error err;
    if (wb_volume_list(wb_cli_root(), &names, &n, &err) < 0) {
        wb_cli_error("%s", err.msg);
        wb_cli_args_release(&a);
        return 1;
    }
    bool quiet = wb_cli_flag_set(&a, "quiet");
    wb_cli_list list;
    wb_cli_list_init(&list, wb_cli_flag_value(&a, "format"), "table {{.Driver}}\t{{.Name}}",
                     ls_columns, sizeof ls_columns / sizeof *ls_columns);
    rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (quiet)
            printf("%s\n", names[i]);
        else {
            json_t *row = json_pack("{s:s, s:s, s:s, s:s}", "Driver", "local", "Name", names[i],
                                    "Scope", "local", "Mountpoint", "");
            if (wb_cli_list_row(&list, row, &err) < 0) rc = 1;
            json_decref(row);
        }
        free(names[i]);
    }
    free(names);
    if (!quiet && rc == 0 && wb_cli_list_print(&list, stdout, &err) < 0) rc = 1;
    if (rc) wb_cli_error("template parsing error: %s", err.msg);
    wb_cli_list_release(&list);
    wb_cli_args_release(&a);
    return rc;
}

int wb_cmd_volume_inspect(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&inspect_cmd, argc, argv, &a, &rc) < 0) return rc;
    if (a.npos < 1) {
        wb_cli_error("\"wasmbox volume inspect\" requires at least 1 argument.");
        wb_cli_args_release(&a);
        return 1;
    }
    json_t *all = json_array();
    rc = 0;
    for (int i = 0; i < a.npos; i++) {
        json_t *v;
        wb_error err;
        if (wb_volume_get(wb_cli_root(), a.pos[i], &v, &err) < 0) {
            wb_cli_error("%s", err.msg);
            rc = 1;
            continue;
        }
        json_array_append_new(all, v);
    }
    wb_error err;
    if (wb_cli_inspect_print(wb_cli_flag_value(&a, "format"), all, stdout, &err) < 0) {
        wb_cli_error("template parsing error: %s", err.msg);
        rc = 1;
    }
    json_decref(all);
    wb_cli_args_release(&a);
    return rc;
}

int wb_cmd_volume_rm(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&rm_cmd, argc, argv, &a, &rc) < 0) return rc;
    if (a.npos < 1) {
        wb_cli_error("\"wasmbox volume rm\" requires at least 1 argument.");
        wb_cli_args_release(&a);
        return 1;
    }
    rc = 0;
    for (int i = 0; i < a.npos; i++) {
        wb_error err;
        if (wb_volume_remove(wb_cli_root(), a.pos[i], wb_cli_flag_set(&a, "force"), &err) < 0) {
            wb_cli_error("%s", err.msg);
            rc = 1;
        } else {
            printf("%s\n", a.pos[i]);
        }
    }
    wb_cli_args_release(&a);
    return rc;
}

int wb_cmd_volume_prune(int argc, char **argv) {
    wb_cli_args a;
    int rc;
    if (wb_cli_parse_cmd(&prune_cmd, argc, argv, &a, &rc) < 0) return rc;
    if (!wb_cli_flag_set(&a, "force") && isatty(STDIN_FILENO)) {
        fputs("WARNING! This will remove all local volumes not used by at least one container.\n"
              "Are you sure you want to continue? [y/N] ",
              stdout);
        fflush(stdout);
        char line[16];
        if (!fgets(line, sizeof line, stdin) || (line[0] != 'y' && line[0] != 'Y')) {
            wb_cli_args_release(&a);
            return 0;
        }
    }
    char **names;
    size_t n;
    wb_error err;
    if (wb_volume_list(wb_cli_root(), &names, &n, &err) < 0) {
        wb_cli_error("%s", err.msg);
        wb_cli_args_release(&a);
        return 1;
    }
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        char id[65];
        if (!wb_volume_in_use(wb_cli_root(), names[i], id) &&
            wb_volume_remove(wb_cli_root(), names[i], false, NULL) == 0) {
            if (!any) puts("Deleted Volumes:");
            puts(names[i]);
            any = true;
        }
        free(names[i]);
    }
    free(names);
    if (any) puts("");
    puts("Total reclaimed space: 0B");
    wb_cli_args_release(&a);
    return 0;
}
