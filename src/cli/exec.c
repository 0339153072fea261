/* `wasmbox exec [OPTIONS] CONTAINER COMMAND [ARG...]`: a command in a running Linux container
 * (the runtime's wb_container_exec). Exit status: the command's; 126/127 when it cannot start
 * (Docker's), 1 when the container is not running, 125 for a flag error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/flags.h"
#include "runtime/container.h"
#include "runtime/launch.h"

static const wb_cli_flag exec_flags[] = {
    {'d', "detach", NULL, "Detached mode: run command in the background", false},
    {'e', "env", "list", "Set environment variables", false},
    {'i', "interactive", NULL, "Keep STDIN open even if not attached", false},
    {0, "privileged", NULL, "Give extended privileges to the command", false},
    {'t', "tty", NULL, "Allocate a pseudo-TTY", false},
    {'u', "user", "string", "Username or UID (format: <name|uid>[:<group|gid>])", false},
    {'w', "workdir", "string", "Working directory inside the container", false},
    {0},
};
static const wb_cli_command exec_cmd = {"exec", "[OPTIONS] CONTAINER COMMAND [ARG...]",
                                        "Execute a command in a running container", exec_flags,
                                        true};

int wb_cmd_exec(int argc, char **argv) {
    wb_cli_args a;
    int p = wb_cli_parse(&exec_cmd, argc, argv, &a);
    if (p != 0) {
        wb_cli_args_release(&a);
        return p > 0 ? 0 : WB_EXIT_ENGINE;
    }
    if (a.npos < 2) {
        wb_cli_error("\"wasmbox exec\" requires at least 2 arguments.\nSee 'wasmbox exec "
                     "--help'.");
        wb_cli_args_release(&a);
        return 1;
    }
    char *env[WB_CLI_MAX_GIVEN];
    size_t nenv = 0;
    for (const char *e; (e = wb_cli_flag_nth(&a, "env", (int)nenv)) && nenv < WB_CLI_MAX_GIVEN;)
        env[nenv++] = (char *)e;
    wb_exec_opts o = {
        .argv = a.pos + 1,
        .argc = (size_t)a.npos - 1,
        .env = env,
        .nenv = nenv,
        .user = wb_cli_flag_value(&a, "user"),
        .workdir = wb_cli_flag_value(&a, "workdir"),
        .detach = wb_cli_flag_set(&a, "detach"),
        .interactive = wb_cli_flag_set(&a, "interactive"),
        .tty = wb_cli_flag_set(&a, "tty"),
        .privileged = wb_cli_flag_set(&a, "privileged"),
    };
    wb_error err;
    int rc = 1;
    wb_container *c = wb_cli_open_container(a.pos[0]);
    if (!c) {
        wb_cli_args_release(&a);
        return 1;
    }
    int code;
    if (wb_container_exec(c, &o, &code, &err) < 0) {
        wb_cli_error("%s", err.msg);
        rc = code;
    } else {
        rc = code;
    }
    wb_container_free(c);
    wb_cli_args_release(&a);
    return rc;
}
