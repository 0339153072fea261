/* One declarative table per command (its usage line, summary and flags) drives both the parsing
 * of its command line and its --help text, so the two cannot drift. Parsing follows Docker's
 * (cobra/pflag): `-a -q` = `-aq`, `-t 5` = `-t5` = `--time 5` = `--time=5`, flags and arguments
 * in any order, `--` ends the flags; errors in Docker's words, exit 125. */
#ifndef WB_CLI_FLAGS_H
#define WB_CLI_FLAGS_H

#include <stdbool.h>
#include <stdio.h>

typedef struct wb_cli_flag {
    char shorthand;   /* 0: none */
    const char *name; /* the long name, without "--" */
    const char *type; /* NULL: a boolean; else the value's type as the help shows it ("string",
                         "int" (checked), "list", "filter") */
    const char *help;
    bool hidden; /* accepted (an old spelling), not listed */
} wb_cli_flag;

typedef struct wb_cli_command {
    const char *name;         /* as in "wasmbox NAME": "stop", "image inspect" */
    const char *args;         /* after the name in the usage line: "[OPTIONS] CONTAINER [...]" */
    const char *summary;      /* one line */
    const wb_cli_flag *flags; /* ends with an entry without a name */
    bool flags_before_args;   /* the first argument ends the flags (`exec C ls -l`: -l is ls's) */
} wb_cli_command;

#define WB_CLI_MAX_GIVEN 64

typedef struct wb_cli_args {
    const wb_cli_command *cmd;
    struct {
        int flag;          /* index into cmd->flags */
        const char *value; /* "true"/"false" for booleans; points into argv */
    } given[WB_CLI_MAX_GIVEN];
    int ngiven;
    char **pos; /* the positional arguments, in order (argv's strings; the array is owned) */
    int npos;
} wb_cli_args;

/* Parse argv (argv[0] is the command's own name). Returns 0; 1 after printing the help to stdout
 * (--help, -h: the caller exits 0); -1 after printing a flag error to stderr (exit 125). */
int wb_cli_parse(const wb_cli_command *cmd, int argc, char **argv, wb_cli_args *a);
void wb_cli_args_release(wb_cli_args *a);
/* wb_cli_parse for a command's function: 0 when it goes on; -1 when it ends now (the help was
 * printed: *rc 0; a flag error: *rc 125), a released. */
int wb_cli_parse_cmd(const wb_cli_command *cmd, int argc, char **argv, wb_cli_args *a, int *rc);

/* The last value given for the flag `name`, NULL if not given. */
const char *wb_cli_flag_value(const wb_cli_args *a, const char *name);
bool wb_cli_flag_set(const wb_cli_args *a, const char *name); /* a boolean given and true */
/* The i-th value given for a repeatable flag, NULL past the last. */
const char *wb_cli_flag_nth(const wb_cli_args *a, const char *name, int i);

/* --format's help, as Docker words it, for list commands and for inspect commands. */
#define WB_CLI_LIST_FORMAT_HELP                                                                    \
    "Format output using a custom template:\n"                                                     \
    "'table':            Print output in table format with column headers (default)\n"             \
    "'table TEMPLATE':   Print output in table format using the given Go template\n"               \
    "'json':             Print in JSON format\n"                                                   \
    "'TEMPLATE':         Print output using the given Go template"
#define WB_CLI_INSPECT_FORMAT_HELP                                                                 \
    "Format output using a custom template:\n"                                                     \
    "'json':             Print in JSON format\n"                                                   \
    "'TEMPLATE':         Print output using the given Go template"

/* "Usage:  wasmbox NAME ARGS\n\nSUMMARY\n\nOptions:\n  -s, --name type   help\n" */
void wb_cli_usage(const wb_cli_command *cmd, FILE *out);

#endif
