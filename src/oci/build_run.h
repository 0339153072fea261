/* oci/build_run.h — the parts of Dockerfile RUN that do not need the builder's state
 * (module-internal to oci/build*.c): the command line a RUN instruction stands for (exec form,
 * shell form, heredocs), running it to completion in a Linux build container, and the owners
 * COPY --chown names (resolved in the stage's /etc/passwd and /etc/group). */
#ifndef WB_OCI_BUILD_RUN_H
#define WB_OCI_BUILD_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/error.h"
#include "oci/dockerfile.h"
#include "oci/layers.h"

/* What a RUN instruction executes. */
typedef struct wb_run_command {
    char **argv; /* NULL-terminated */
    size_t argc;
    char *script; /* a heredoc-only RUN whose body starts with `#!`: the body, fed on stdin and
                   * named /dev/stdin after the interpreter (NULL otherwise) */
    char *shown;  /* as Docker names the process in errors: "/bin/sh -c false" */
} wb_run_command;

/* Build argv from the instruction and the stage's shell (NULL-terminated, at least one string):
 * exec form as is; shell form as SHELL + the text; heredocs as BuildKit runs them — a RUN that is
 * only `<<EOF` runs the body with the shell (or, with a `#!` line, with that interpreter), any
 * other RUN passes its text and the heredoc bodies to the shell, which reads them itself. */
void wb__run_command_make(const wb_df_instr *in, char *const *shell, size_t nshell,
                          wb_run_command *out);
void wb__run_command_release(wb_run_command *c);

/* A Linux build container. */
typedef struct wb_run_job {
    const wb_run_command *cmd;
    char *const *env; /* complete "K=V" list (PATH included) */
    size_t nenv;
    const wb_lowers *lowers; /* the stage's layers (the overlay's lower directories) */
    const char *dir;         /* the container's directory: upper/, work/, rootfs/, etc/ */
    const char *workdir;     /* NULL: / */
    const char *user;        /* NULL: root */
    const char *hostname;
    bool host_network; /* RUN --network=host (the default) or none */
    int out_fd;        /* the command's stdout and stderr (-1: /dev/null) */
} wb_run_job;

/* Run to completion. Returns 0 with *exit_code the command's status (128 + N after signal N);
 * a command that could not start returns 0 with *exit_code 125/126/127 and `msg` filled
 * (Docker's `exec: "x": executable file not found in $PATH`); < 0 when the container could not
 * be made at all (err). */
int wb__run_container(const wb_run_job *job, int *exit_code, char *msg, size_t msgsize,
                      wb_error *err);

/* COPY --chown=USER[:GROUP]: numbers, or names looked up in the stage's passwd and group files
 * (their text; NULL when the image lacks them). A user without a group gets the user's number as
 * its group, as Docker does. Fails with BuildKit's message for an unknown name. */
int wb__chown_parse(const char *spec, const char *passwd, const char *group, uid_t *uid, gid_t *gid,
                    wb_error *err);

#endif
