/* `wasmbox cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-`, `wasmbox cp [OPTIONS] SRC_PATH|-
 * CONTAINER:DEST_PATH` and `wasmbox export [-o FILE] CONTAINER`, thin over runtime/copy.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/flags.h"
#include "runtime/container.h"
#include "runtime/copy.h"

static const wb_cli_flag cp_flags[] = {
    {'a', "archive", NULL, "Archive mode (copy all uid/gid information)", false},
    {'L', "follow-link", NULL, "Always follow symbol link in SRC_PATH", false},
    {'q', "quiet", NULL,
     "Suppress progress output during copy. Progress output is automatically suppressed if no "
     "terminal is attached",
     false},
    {0},
};
static const wb_cli_command cp_cmd = {
    "cp",
    "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\twasmbox cp [OPTIONS] SRC_PATH|- "
    "CONTAINER:DEST_PATH",
    "Copy files/folders between a container and the local filesystem\n\n"
    "Use '-' as the source to read a tar archive from stdin\n"
    "and extract it to a directory destination in a container.\n"
    "Use '-' as the destination to stream a tar archive of a\n"
    "container source to stdout.",
    cp_flags, false};

static const wb_cli_flag export_flags[] = {
    {'o', "output", "string", "Write to a file, instead of STDOUT", false},
    {0},
};
static const wb_cli_command export_cmd = {"export", "[OPTIONS] CONTAINER",
                                          "Export a container's filesystem as a tar archive",
                                          export_flags, false};

/* Docker's splitCpArg: "CONTAINER:PATH", unless the argument is an absolute path or its part
 * before the colon starts with "." (a local "./a:b"). *container NULL: a local path. */
static void split_arg(char *arg, char **container, char **path) {
    char *colon = strchr(arg, ':');
    *container = NULL;
    *path = arg;
    if (arg[0] == '/' || !colon || arg[0] == '.') return;
    *colon = '\0';
    *container = arg;
    *path = colon + 1;
}

int wb_cmd_cp(int argc, char **argv) {
    wb_cli_args a;
    int p = wb_cli_parse(&cp_cmd, argc, argv, &a);
    if (p != 0) {
        wb_cli_args_release(&a);
        return p > 0 ? 0 : WB_EXIT_ENGINE;
    }
    int rc = 1;
    wb_container *c = NULL;
    if (a.npos != 2) {
        wb_cli_error("\"wasmbox cp\" requires exactly 2 arguments.");
        goto out;
    }
    char *src_c, *src, *dst_c, *dst;
    split_arg(a.pos[0], &src_c, &src);
    split_arg(a.pos[1], &dst_c, &dst);
    if (!*src) {
        wb_cli_error("source can not be empty");
        goto out;
    }
    if (!*dst) {
        wb_cli_error("destination can not be empty");
        goto out;
    }
    if (src_c && dst_c) {
        wb_cli_error("copying between containers is not supported");
        goto out;
    }
    if (!src_c && !dst_c) {
        wb_cli_error("must specify at least one container source");
        goto out;
    }
    c = wb_cli_open_container(src_c ? src_c : dst_c);
    if (!c) goto out;
    wb_copy_opts o = {
        .ref = src_c ? src_c : dst_c,
        .archive = wb_cli_flag_set(&a, "archive"),
        .follow_link = wb_cli_flag_set(&a, "follow-link"),
    };
    wb_error err;
    int r =
        src_c
            ? wb_container_copy_out(c, src, strcmp(dst, "-") ? dst : NULL, STDOUT_FILENO, &o, &err)
            : wb_container_copy_in(c, strcmp(src, "-") ? src : NULL, STDIN_FILENO, dst, &o, &err);
    if (r < 0)
        wb_cli_error("%s", err.msg);
    else
        rc = 0;
out:
    wb_container_free(c);
    wb_cli_args_release(&a);
    return rc;
}

/* export -o FILE: written under a temporary name beside FILE, renamed when complete. */
static int export_to_file(wb_container *c, const char *output, wb_error *err) {
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", output) >= (int)sizeof tmp)
        return wb_error_set(err, ENAMETOOLONG, "%s: name too long", output);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) return wb_error_sys(err, "open %s", output);
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    int rc = wb_container_export(c, fd, err);
    if (rc == 0 && fsync(fd) != 0) rc = wb_error_sys(err, "write %s", output);
    if (close(fd) != 0 && rc == 0) rc = wb_error_sys(err, "write %s", output);
    if (rc == 0 && rename(tmp, output) != 0) rc = wb_error_sys(err, "rename to %s", output);
    if (rc < 0) unlink(tmp);
    return rc;
}

int wb_cmd_export(int argc, char **argv) {
    wb_cli_args a;
    int p = wb_cli_parse(&export_cmd, argc, argv, &a);
    if (p != 0) {
        wb_cli_args_release(&a);
        return p > 0 ? 0 : WB_EXIT_ENGINE;
    }
    int rc = 1;
    wb_container *c = NULL;
    const char *output = wb_cli_flag_value(&a, "output");
    if (a.npos != 1) {
        wb_cli_error("\"wasmbox export\" requires exactly 1 argument.");
        goto out;
    }
    if (!output && isatty(STDOUT_FILENO)) {
        wb_cli_error("cowardly refusing to save to a terminal. Use the -o flag or redirect");
        goto out;
    }
    c = wb_cli_open_container(a.pos[0]);
    if (!c) goto out;
    wb_error err;
    int r = output ? export_to_file(c, output, &err) : wb_container_export(c, STDOUT_FILENO, &err);
    if (r < 0)
        wb_cli_error("%s", err.msg);
    else
        rc = 0;
out:
    wb_container_free(c);
    wb_cli_args_release(&a);
    return rc;
}
