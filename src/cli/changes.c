/* `wasmbox diff CONTAINER` and `wasmbox commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]`, thin over
 * runtime/changes.h. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/flags.h"
#include "oci/reference.h"
#include "runtime/changes.h"
#include "runtime/container.h"

static const wb_cli_flag no_flags[] = {{0}};
static const wb_cli_command diff_cmd = {
    "diff", "CONTAINER", "Inspect changes to files or directories on a container's filesystem",
    no_flags, false};

static const wb_cli_flag commit_flags[] = {
    {'a', "author", "string", "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")",
     false},
    {'m', "message", "string", "Commit message", false},
    {'p', "pause", NULL, "Pause container during commit (default true)", false},
    {0},
};
static const wb_cli_command commit_cmd = {"commit", "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
                                          "Create a new image from a container's changes",
                                          commit_flags, false};

int wb_cmd_diff(int argc, char **argv) {
    wb_cli_args a;
    int p = wb_cli_parse(&diff_cmd, argc, argv, &a);
    if (p != 0) {
        wb_cli_args_release(&a);
        return p > 0 ? 0 : WB_EXIT_ENGINE;
    }
    if (a.npos != 1) {
        wb_cli_error("\"wasmbox diff\" requires exactly 1 argument.");
        wb_cli_args_release(&a);
        return 1;
    }
    int rc = 1;
    wb_container *c = wb_cli_open_container(a.pos[0]);
    wb_error err;
    if (c && wb_container_diff(c, stdout, &err) < 0)
        wb_cli_error("%s", err.msg);
    else if (c)
        rc = 0;
    wb_container_free(c);
    wb_cli_args_release(&a);
    return rc;
}

int wb_cmd_commit(int argc, char **argv) {
    wb_cli_args a;
    int p = wb_cli_parse(&commit_cmd, argc, argv, &a);
    if (p != 0) {
        wb_cli_args_release(&a);
        return p > 0 ? 0 : WB_EXIT_ENGINE;
    }
    if (a.npos < 1 || a.npos > 2) {
        wb_cli_error("\"wasmbox commit\" requires at least 1 and at most 2 arguments.");
        wb_cli_args_release(&a);
        return 1;
    }
    char full[WB_REF_MAX + 80];
    wb_error err;
    if (a.npos == 2) {
        wb_ref r;
        if (wb_ref_parse(a.pos[1], &r, &err) < 0) {
            wb_cli_error("%s", err.msg);
            wb_cli_args_release(&a);
            return 1;
        }
        wb_ref_full(&r, full, sizeof full);
    }
    const char *pause = wb_cli_flag_value(&a, "pause");
    wb_commit_opts o = {
        .tag = a.npos == 2 ? full : NULL,
        .message = wb_cli_flag_value(&a, "message"),
        .author = wb_cli_flag_value(&a, "author"),
        .pause = !pause || strcmp(pause, "false") != 0,
    };
    int rc = 1;
    wb_container *c = wb_cli_open_container(a.pos[0]);
    char id[WB_DIGEST_MAX];
    if (c && wb_container_commit(c, &o, id, &err) < 0) {
        wb_cli_error("%s", err.msg);
    } else if (c) {
        printf("%s\n", id);
        rc = 0;
    }
    wb_container_free(c);
    wb_cli_args_release(&a);
    return rc;
}
