/* oci/dockerfile.h — Dockerfiles as Docker's classic builder reads them: parser directives
 * (`# syntax=`, `# escape=`), comments, line continuations, instructions with their `--flags` and
 * arguments in exec (JSON array) or shell form, stages, and the word expansion (`$VAR`,
 * `${VAR:-x}`, quotes, the escape character) that the builder applies when it runs an instruction.
 * This module only parses; oci/build.c runs the result. Errors name the file and line
 * ("Dockerfile:3: unknown instruction: FRM"). */
#ifndef WB_OCI_DOCKERFILE_H
#define WB_OCI_DOCKERFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

/* Caps on untrusted input. */
#define WB_DF_MAX_BYTES        ((size_t)4 << 20)
#define WB_DF_MAX_INSTRUCTIONS 10000
#define WB_DF_MAX_WORD         (64 * 1024) /* one expanded word */

typedef enum wb_df_cmd {
    WB_DF_ADD,
    WB_DF_ARG,
    WB_DF_CMD,
    WB_DF_COPY,
    WB_DF_ENTRYPOINT,
    WB_DF_ENV,
    WB_DF_EXPOSE,
    WB_DF_FROM,
    WB_DF_HEALTHCHECK,
    WB_DF_LABEL,
    WB_DF_MAINTAINER,
    WB_DF_ONBUILD,
    WB_DF_RUN,
    WB_DF_SHELL,
    WB_DF_STOPSIGNAL,
    WB_DF_USER,
    WB_DF_VOLUME,
    WB_DF_WORKDIR,
} wb_df_cmd;

typedef struct wb_df_flag {
    char *name;  /* without the dashes: "from" */
    char *value; /* NULL for a flag given without `=` (`--link`) */
} wb_df_flag;

typedef struct wb_df_kv {
    char *key;
    char *value; /* unexpanded, quotes kept; NULL for `ARG NAME` without a default */
} wb_df_kv;

/* A heredoc of RUN (`<<EOF`, `<<-EOF` strips leading tabs, `<<"EOF"` quoted): its body is the
 * lines up to the terminator, each ending in '\n', unexpanded. */
typedef struct wb_df_heredoc {
    char *name; /* the terminator word */
    char *body;
    bool chomp;  /* <<- */
    bool quoted; /* <<"EOF" or <<'EOF' */
} wb_df_heredoc;

typedef struct wb_df_instr {
    wb_df_cmd cmd;
    int line;   /* 1-based line of the keyword */
    char *text; /* as written: continuation lines joined, leading blanks trimmed (progress lines) */
    wb_df_flag *flags;
    size_t nflags;
    /* Arguments, unexpanded:
     * - exec form (exec_form true): the strings of the JSON array;
     * - CMD, ENTRYPOINT, RUN, SHELL, MAINTAINER, WORKDIR in shell form: args[0] is the whole text;
     * - FROM, COPY, ADD, VOLUME, EXPOSE, USER, STOPSIGNAL: the words split at blanks;
     * - ENV, LABEL, ARG: kvs instead (nargs 0). */
    bool exec_form;
    char **args;
    size_t nargs;
    wb_df_kv *kvs;
    size_t nkvs;
    /* ONBUILD: the trigger; HEALTHCHECK: its CMD (NULL for HEALTHCHECK NONE). */
    struct wb_df_instr *sub;
    char *trigger; /* ONBUILD: the trigger's text as Docker stores it in OnBuild */
    /* RUN: its heredocs, in the order the line names them (args[0] keeps the `<<EOF` words) */
    wb_df_heredoc *heredocs;
    size_t nheredocs;
} wb_df_instr;

typedef struct wb_df_stage {
    char *name;   /* the `AS` name, lowercased; NULL when unnamed */
    size_t first; /* index of its FROM in instrs */
    size_t count; /* instructions including the FROM */
} wb_df_stage;

typedef struct wb_dockerfile {
    char *file;   /* the name used in messages ("Dockerfile", "sub/app.Dockerfile") */
    char escape;  /* '\\' or '`' */
    char *syntax; /* the `# syntax=` value, or NULL */
    wb_df_instr *instrs;
    size_t ninstrs;
    size_t nmeta; /* instrs[0 .. nmeta) are the ARGs before the first FROM */
    wb_df_stage *stages;
    size_t nstages;
    char **notes; /* "Dockerfile:1: …" lines for the user (ignored syntax, empty continuations) */
    size_t nnotes;
} wb_dockerfile;

/* Parse `len` bytes of Dockerfile text; `file` names it in messages. The caller frees *out with
 * wb_dockerfile_free. Fails (err: "FILE:LINE: why") on unknown instructions, bad flags, bad JSON
 * arrays, wrong argument counts, heredocs other than RUN's (and in ONBUILD), unterminated
 * heredocs, instructions before the first FROM, bad or duplicate stage names. */
int wb_dockerfile_parse(const char *file, const char *text, size_t len, wb_dockerfile **out,
                        wb_error *err);
void wb_dockerfile_free(wb_dockerfile *df);

/* "COPY", "FROM", … */
const char *wb_df_cmd_name(wb_df_cmd cmd);
/* The value of flag `name` (last one wins), or NULL when absent or given without a value;
 * *present tells them apart (may be NULL). */
const char *wb_df_flag_get(const wb_df_instr *in, const char *name, bool *present);
/* Index of the stage named `name` (case-insensitive) or given as a number, or -1. */
int wb_dockerfile_find_stage(const wb_dockerfile *df, const char *name);

/* Variable lookup for expansion: the value, or NULL when the variable is not set. */
typedef const char *(*wb_df_lookup)(void *ctx, const char *name);

/* Expand one word as Docker does: `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME-word}`,
 * `${NAME:+word}`, `${NAME+word}`, `${NAME:?message}`, `${NAME?message}`; single quotes are
 * literal, double quotes allow expansion, the escape character quotes the next character; quotes
 * and escapes are removed. Malloc'd *out. Errors (unterminated quote, bad substitution, a `?`
 * substitution of an unset name) have no file:line prefix: the caller adds it. */
int wb_df_expand(const char *word, char escape, wb_df_lookup lookup, void *ctx, char **out,
                 wb_error *err);

#endif
