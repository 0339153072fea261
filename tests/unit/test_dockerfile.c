/* Dockerfile parser and word expansion (src/oci/dockerfile.h). */
#include "harness.h"

#include "oci/dockerfile.h"

static wb_dockerfile *parse_ok(const char *text) {
    wb_dockerfile *df;
    wb_error err = {0};
    if (wb_dockerfile_parse("Dockerfile", text, strlen(text), &df, &err) < 0)
        wb_test_fail(__FILE__, __LINE__, "parse failed: %s", err.msg);
    return df;
}

static const char *parse_err(const char *text) {
    static wb_error err;
    wb_dockerfile *df = NULL;
    memset(&err, 0, sizeof err);
    if (wb_dockerfile_parse("Dockerfile", text, strlen(text), &df, &err) == 0) {
        wb_dockerfile_free(df);
        return "(parsed)";
    }
    return err.msg;
}

TEST(dockerfile_issue_flow) {
    wb_dockerfile *df = parse_ok("# syntax=docker/dockerfile:1\n"
                                 "FROM scratch AS build\n"
                                 "COPY hello_world.wasm /build/hello_world.wasm\n"
                                 "FROM scratch\n"
                                 "COPY --from=build /build/hello_world.wasm /hello_world.wasm\n"
                                 "ENTRYPOINT [ \"/hello_world.wasm\" ]\n");
    ASSERT_STR_EQ(df->syntax, "docker/dockerfile:1");
    ASSERT_EQ(df->nnotes, 0);
    ASSERT_EQ(df->ninstrs, 5);
    ASSERT_EQ(df->nstages, 2);
    ASSERT_STR_EQ(df->stages[0].name, "build");
    ASSERT_EQ(df->stages[0].first, 0);
    ASSERT_EQ(df->stages[0].count, 2);
    ASSERT_TRUE(df->stages[1].name == NULL);
    ASSERT_EQ(df->stages[1].first, 2);
    ASSERT_EQ(df->stages[1].count, 3);
    wb_df_instr *copy = &df->instrs[3];
    ASSERT_EQ(copy->cmd, WB_DF_COPY);
    ASSERT_EQ(copy->line, 5);
    ASSERT_STR_EQ(wb_df_flag_get(copy, "from", NULL), "build");
    ASSERT_EQ(copy->nargs, 2);
    ASSERT_STR_EQ(copy->args[0], "/build/hello_world.wasm");
    wb_df_instr *ep = &df->instrs[4];
    ASSERT_EQ(ep->cmd, WB_DF_ENTRYPOINT);
    ASSERT_TRUE(ep->exec_form);
    ASSERT_EQ(ep->nargs, 1);
    ASSERT_STR_EQ(ep->args[0], "/hello_world.wasm");
    ASSERT_STR_EQ(ep->text, "ENTRYPOINT [ \"/hello_world.wasm\" ]");
    ASSERT_EQ(wb_dockerfile_find_stage(df, "BUILD"), 0);
    ASSERT_EQ(wb_dockerfile_find_stage(df, "1"), 1);
    ASSERT_EQ(wb_dockerfile_find_stage(df, "2"), -1);
    ASSERT_EQ(wb_dockerfile_find_stage(df, "nope"), -1);
    wb_dockerfile_free(df);
}

TEST(dockerfile_case_comments_continuations) {
    wb_dockerfile *df = parse_ok("\n"
                                 "  # a comment\n"
                                 "from scratch\n"
                                 "copy a \\\n"
                                 "  # comment inside\n"
                                 "  b \\   \n"
                                 "  /dst/\n"
                                 "Env A=1\n");
    ASSERT_EQ(df->ninstrs, 3);
    ASSERT_EQ(df->instrs[0].cmd, WB_DF_FROM);
    ASSERT_EQ(df->instrs[0].line, 3);
    wb_df_instr *c = &df->instrs[1];
    ASSERT_EQ(c->cmd, WB_DF_COPY);
    ASSERT_EQ(c->line, 4);
    ASSERT_EQ(c->nargs, 3);
    ASSERT_STR_EQ(c->args[0], "a");
    ASSERT_STR_EQ(c->args[1], "b");
    ASSERT_STR_EQ(c->args[2], "/dst/");
    ASSERT_STR_EQ(c->text, "copy a   b   /dst/");
    ASSERT_EQ(df->instrs[2].line, 8);
    wb_dockerfile_free(df);
}

TEST(dockerfile_crlf_and_bom) {
    wb_dockerfile *df = parse_ok("\xef\xbb\xbf"
                                 "FROM scratch\r\nCMD [\"a\"]\r\n");
    ASSERT_EQ(df->ninstrs, 2);
    ASSERT_STR_EQ(df->instrs[1].args[0], "a");
    wb_dockerfile_free(df);
}

TEST(dockerfile_escape_directive) {
    wb_dockerfile *df = parse_ok("# escape=`\n"
                                 "FROM scratch\n"
                                 "COPY a `\n"
                                 "  C:\\dir\\\n");
    ASSERT_EQ(df->escape, '`');
    ASSERT_EQ(df->ninstrs, 2);
    ASSERT_STR_EQ(df->instrs[1].args[1], "C:\\dir\\");
    wb_dockerfile_free(df);
    /* a directive after an instruction or a comment is a comment */
    df = parse_ok("# hello\n# escape=`\nFROM scratch\nCOPY a \\\n b\n");
    ASSERT_EQ(df->escape, '\\');
    ASSERT_EQ(df->ninstrs, 2);
    wb_dockerfile_free(df);
    ASSERT_STR_CONTAINS(parse_err("# escape=x\nFROM scratch\n"), "Dockerfile:1: invalid escape");
    ASSERT_STR_CONTAINS(parse_err("# escape=`\n# escape=\\\nFROM scratch\n"),
                        "Dockerfile:2: only one escape parser directive");
}

TEST(dockerfile_syntax_note) {
    wb_dockerfile *df = parse_ok("# syntax=example.com/other/frontend:2\nFROM scratch\n");
    ASSERT_EQ(df->nnotes, 1);
    ASSERT_STR_CONTAINS(df->notes[0],
                        "Dockerfile:1: note: syntax=example.com/other/frontend:2 is ignored");
    wb_dockerfile_free(df);
    df = parse_ok("#syntax = docker.io/docker/dockerfile:1.7\nFROM scratch\n");
    ASSERT_EQ(df->nnotes, 0);
    ASSERT_STR_EQ(df->syntax, "docker.io/docker/dockerfile:1.7");
    wb_dockerfile_free(df);
}

TEST(dockerfile_unknown_instruction) {
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\nCOPY a b\nFRM x\n"),
                        "Dockerfile:3: unknown instruction: FRM");
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\nCOPY a b\nFRM x\n"), "did you mean FROM?");
    ASSERT_STR_EQ(parse_err("FROM scratch\nfoobarbaz x\n"),
                  "Dockerfile:2: unknown instruction: FOOBARBAZ");
}

TEST(dockerfile_bad_json) {
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\n\nENTRYPOINT [\"/a.wasm\",]\n"),
                        "Dockerfile:3: ENTRYPOINT: invalid JSON array");
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\nCMD [\"a\", 1]\n"),
                        "Dockerfile:2: CMD: invalid JSON array: element 2 is not a string");
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\nCOPY ['a', 'b']\n"),
                        "Dockerfile:2: COPY: invalid JSON array");
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\nSHELL /bin/sh -c\n"),
                        "Dockerfile:2: SHELL requires the arguments to be in JSON form");
    /* shell forms that merely start with '[' are shell forms */
    wb_dockerfile *df = parse_ok("FROM scratch\nCMD [ -f x ] && echo y\n");
    ASSERT_TRUE(!df->instrs[1].exec_form);
    ASSERT_STR_EQ(df->instrs[1].args[0], "[ -f x ] && echo y");
    wb_dockerfile_free(df);
}

TEST(dockerfile_exec_and_shell_forms) {
    wb_dockerfile *df = parse_ok("FROM scratch\n"
                                 "ENTRYPOINT [\"/app.wasm\", \"--port\", \"8080\"]\n"
                                 "CMD serve   --verbose  \n"
                                 "ENTRYPOINT []\n"
                                 "COPY [\"a b\", \"/c d/\"]\n");
    wb_df_instr *in = df->instrs;
    ASSERT_TRUE(in[1].exec_form);
    ASSERT_EQ(in[1].nargs, 3);
    ASSERT_STR_EQ(in[1].args[2], "8080");
    ASSERT_TRUE(!in[2].exec_form);
    ASSERT_EQ(in[2].nargs, 1);
    ASSERT_STR_EQ(in[2].args[0], "serve   --verbose");
    ASSERT_TRUE(in[3].exec_form);
    ASSERT_EQ(in[3].nargs, 0);
    ASSERT_TRUE(in[4].exec_form);
    ASSERT_STR_EQ(in[4].args[0], "a b");
    ASSERT_STR_EQ(in[4].args[1], "/c d/");
    wb_dockerfile_free(df);
}

TEST(dockerfile_flags) {
    wb_dockerfile *df = parse_ok("FROM --platform=wasi/wasm scratch\n"
                                 "COPY --chmod=0755 --link --from=base a /b\n");
    ASSERT_STR_EQ(wb_df_flag_get(&df->instrs[0], "platform", NULL), "wasi/wasm");
    bool present = false;
    ASSERT_TRUE(wb_df_flag_get(&df->instrs[1], "link", &present) == NULL);
    ASSERT_TRUE(present);
    ASSERT_STR_EQ(wb_df_flag_get(&df->instrs[1], "chmod", NULL), "0755");
    ASSERT_TRUE(wb_df_flag_get(&df->instrs[1], "chown", &present) == NULL);
    ASSERT_TRUE(!present);
    ASSERT_EQ(df->instrs[1].nargs, 2);
    wb_dockerfile_free(df);
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\nCOPY --frm=x a b\n"),
                        "Dockerfile:2: unknown flag for COPY: --frm");
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\nCOPY --from a b\n"),
                        "Dockerfile:2: COPY: missing a value on flag --from");
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\nENV --x=1 a=b\n"), "unknown flag for ENV");
}

TEST(dockerfile_env_label_arg) {
    wb_dockerfile *df = parse_ok("ARG BASE=scratch\n"
                                 "ARG V\n"
                                 "FROM ${BASE}\n"
                                 "ENV A=1 B=\"two words\" C=three\\ words\n"
                                 "ENV LEGACY the rest of the line\n"
                                 "LABEL org.example.title=\"x y\" version=1.0\n"
                                 "ARG X=1 Y\n");
    ASSERT_EQ(df->nmeta, 2);
    ASSERT_EQ(df->nstages, 1);
    ASSERT_EQ(df->stages[0].first, 2);
    wb_df_instr *in = df->instrs;
    ASSERT_STR_EQ(in[0].kvs[0].key, "BASE");
    ASSERT_STR_EQ(in[0].kvs[0].value, "scratch");
    ASSERT_TRUE(in[1].kvs[0].value == NULL);
    ASSERT_EQ(in[3].nkvs, 3);
    ASSERT_STR_EQ(in[3].kvs[1].key, "B");
    ASSERT_STR_EQ(in[3].kvs[1].value, "\"two words\"");
    ASSERT_STR_EQ(in[3].kvs[2].value, "three\\ words");
    ASSERT_EQ(in[4].nkvs, 1);
    ASSERT_STR_EQ(in[4].kvs[0].key, "LEGACY");
    ASSERT_STR_EQ(in[4].kvs[0].value, "the rest of the line");
    ASSERT_STR_EQ(in[5].kvs[0].key, "org.example.title");
    ASSERT_EQ(in[6].nkvs, 2);
    ASSERT_TRUE(in[6].kvs[1].value == NULL);
    wb_dockerfile_free(df);
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\nENV\n"),
                        "Dockerfile:2: ENV requires at least one");
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\nENV a=1 b\n"), "can't find = in \"b\"");
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\nENV =1\n"), "ENV names can not be blank");
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\nENV onlyname\n"), "ENV must have two arguments");
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\nARG a-b=1\n"), "ARG: invalid name");
}

TEST(dockerfile_structure_errors) {
    ASSERT_STR_CONTAINS(parse_err(""), "Dockerfile: the Dockerfile cannot be empty");
    ASSERT_STR_CONTAINS(parse_err("# only a comment\n"), "cannot be empty");
    ASSERT_STR_CONTAINS(parse_err("ENV A=1\nFROM scratch\n"),
                        "Dockerfile:1: ENV before the first FROM");
    ASSERT_STR_CONTAINS(parse_err("ARG A=1\n"), "no FROM instruction");
    ASSERT_STR_CONTAINS(parse_err("FROM a AS b AS c\n"),
                        "Dockerfile:1: FROM requires either one or three");
    ASSERT_STR_CONTAINS(parse_err("FROM a b c\n"), "FROM requires either one or three");
    ASSERT_STR_CONTAINS(parse_err("FROM scratch AS 1x\n"), "invalid stage name \"1x\"");
    ASSERT_STR_CONTAINS(parse_err("FROM scratch AS a\nFROM scratch AS A\n"),
                        "Dockerfile:2: duplicate stage name \"a\"");
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\nCOPY a\n"),
                        "Dockerfile:2: COPY requires at least two arguments, but only one was "
                        "provided");
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\nUSER a b\n"), "USER requires exactly one");
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\nWORKDIR\n"), "WORKDIR requires exactly one");
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\nHEALTHCHECK foo\n"), "unknown type \"foo\"");
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\nONBUILD ONBUILD COPY a b\n"), "chaining ONBUILD");
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\nONBUILD FROM x\n"), "FROM isn't allowed");
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\nONBUILD FRM x\n"),
                        "Dockerfile:2: unknown instruction: FRM");
}

TEST(dockerfile_heredoc_refused) {
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\nCOPY <<EOF /x\nhello\nEOF\n"),
                        "Dockerfile:2: COPY: heredocs (<<WORD) are not supported");
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\nONBUILD RUN <<EOT sh\necho\nEOT\n"),
                        "RUN: heredocs are not supported in ONBUILD triggers");
    ASSERT_STR_CONTAINS(parse_err("FROM scratch\nRUN <<EOT sh\necho\n"),
                        "Dockerfile:2: RUN: unterminated heredoc <<EOT");
    /* a << that is not a heredoc marker */
    wb_dockerfile *df = parse_ok("FROM scratch\nCOPY a<<b /x\n");
    wb_dockerfile_free(df);
}

TEST(dockerfile_run_heredocs) {
    wb_dockerfile *df = parse_ok("FROM scratch\n"
                                 "RUN <<-'EOT' sh\n\techo $A\n\tEOT\n"
                                 "RUN <<A cat >/x && cat <<\"B\"\nline a\nA\n# not a comment\nB\n"
                                 "RUN echo a<<b\n"
                                 "ENV X=1\n");
    wb_df_instr *in = df->instrs;
    ASSERT_EQ(df->ninstrs, 5);
    ASSERT_EQ(in[1].nheredocs, 1);
    ASSERT_STR_EQ(in[1].heredocs[0].name, "EOT");
    ASSERT_TRUE(in[1].heredocs[0].chomp);
    ASSERT_TRUE(in[1].heredocs[0].quoted);
    ASSERT_STR_EQ(in[1].heredocs[0].body, "echo $A\n");
    ASSERT_STR_EQ(in[1].args[0], "<<-'EOT' sh");
    ASSERT_EQ(in[2].nheredocs, 2);
    ASSERT_STR_EQ(in[2].heredocs[0].body, "line a\n");
    ASSERT_STR_EQ(in[2].heredocs[1].name, "B");
    ASSERT_STR_EQ(in[2].heredocs[1].body, "# not a comment\n");
    ASSERT_EQ(in[3].nheredocs, 0);
    ASSERT_EQ(in[4].cmd, WB_DF_ENV);
    ASSERT_EQ(in[4].line, 11);
    wb_dockerfile_free(df);
}

TEST(dockerfile_healthcheck_onbuild_misc) {
    wb_dockerfile *df = parse_ok("FROM scratch\n"
                                 "HEALTHCHECK --interval=5s --retries=3 CMD [\"/probe.wasm\"]\n"
                                 "HEALTHCHECK NONE\n"
                                 "onbuild copy . /app\n"
                                 "EXPOSE 80 443/tcp\n"
                                 "VOLUME [\"/data\"]\n"
                                 "VOLUME /a /b\n"
                                 "WORKDIR /a b\n"
                                 "STOPSIGNAL SIGTERM\n"
                                 "RUN --mount=type=cache,target=/x echo hi\n");
    wb_df_instr *in = df->instrs;
    ASSERT_STR_EQ(wb_df_flag_get(&in[1], "interval", NULL), "5s");
    ASSERT_TRUE(in[1].sub != NULL);
    ASSERT_EQ(in[1].sub->cmd, WB_DF_CMD);
    ASSERT_TRUE(in[1].sub->exec_form);
    ASSERT_TRUE(in[2].sub == NULL);
    ASSERT_EQ(in[3].cmd, WB_DF_ONBUILD);
    ASSERT_STR_EQ(in[3].trigger, "COPY . /app");
    ASSERT_EQ(in[3].sub->cmd, WB_DF_COPY);
    ASSERT_EQ(in[4].nargs, 2);
    ASSERT_TRUE(in[5].exec_form);
    ASSERT_EQ(in[6].nargs, 2);
    ASSERT_STR_EQ(in[7].args[0], "/a b");
    ASSERT_EQ(in[9].cmd, WB_DF_RUN);
    ASSERT_EQ(in[9].line, 10);
    wb_dockerfile_free(df);
}

/* ---- expansion ---- */

static const char *lookup(void *ctx, const char *name) {
    (void)ctx;
    if (!strcmp(name, "A")) return "alpha";
    if (!strcmp(name, "SP")) return "two words";
    if (!strcmp(name, "EMPTY")) return "";
    return NULL;
}

static const char *expand(const char *w) {
    static char buf[1024];
    char *out;
    wb_error err = {0};
    if (wb_df_expand(w, '\\', lookup, NULL, &out, &err) < 0) {
        snprintf(buf, sizeof buf, "ERR: %s", err.msg);
        return buf;
    }
    snprintf(buf, sizeof buf, "%s", out);
    free(out);
    return buf;
}

TEST(dockerfile_expand) {
    ASSERT_STR_EQ(expand("$A"), "alpha");
    ASSERT_STR_EQ(expand("${A}.wasm"), "alpha.wasm");
    ASSERT_STR_EQ(expand("$A-x"), "alpha-x");
    ASSERT_STR_EQ(expand("$NOPE/x"), "/x");
    ASSERT_STR_EQ(expand("${NOPE:-def}"), "def");
    ASSERT_STR_EQ(expand("${EMPTY:-def}"), "def");
    ASSERT_STR_EQ(expand("${EMPTY-def}"), "");
    ASSERT_STR_EQ(expand("${NOPE-def}"), "def");
    ASSERT_STR_EQ(expand("${A:-def}"), "alpha");
    ASSERT_STR_EQ(expand("${A:+alt}"), "alt");
    ASSERT_STR_EQ(expand("${NOPE:+alt}"), "");
    ASSERT_STR_EQ(expand("${EMPTY+alt}"), "alt");
    ASSERT_STR_EQ(expand("${NOPE:-$A}"), "alpha");
    ASSERT_STR_EQ(expand("${NOPE:-\"a}b\"}"), "a}b");
    ASSERT_STR_EQ(expand("'$A'"), "$A");
    ASSERT_STR_EQ(expand("\"$A $SP\""), "alpha two words");
    ASSERT_STR_EQ(expand("\\$A"), "$A");
    ASSERT_STR_EQ(expand("\"\\$A\\\"\""), "$A\"");
    ASSERT_STR_EQ(expand("a\\ b"), "a b");
    ASSERT_STR_EQ(expand("$"), "$");
    ASSERT_STR_EQ(expand("$-x"), "$-x");
    ASSERT_STR_EQ(expand("100%"), "100%");
    ASSERT_STR_EQ(expand("${A:?}"), "alpha");
    ASSERT_STR_CONTAINS(expand("${NOPE:?must be set}"), "ERR: NOPE: must be set");
    ASSERT_STR_CONTAINS(expand("${NOPE?}"), "ERR: NOPE: is not allowed to be unset");
    ASSERT_STR_CONTAINS(expand("'abc"), "ERR: unexpected end of statement while looking for "
                                        "matching single-quote");
    ASSERT_STR_CONTAINS(expand("\"abc"), "matching double-quote");
    ASSERT_STR_CONTAINS(expand("${A"), "ERR: syntax error: missing '}'");
    ASSERT_STR_CONTAINS(expand("${}"), "ERR: bad substitution");
    ASSERT_STR_CONTAINS(expand("${A#x}"), "ERR: unsupported modifier (#)");
}

TEST(dockerfile_expand_backtick_escape) {
    char *out;
    wb_error err;
    ASSERT_EQ(wb_df_expand("C:\\dir`$A", '`', lookup, NULL, &out, &err), 0);
    ASSERT_STR_EQ(out, "C:\\dir$A");
    free(out);
}

TEST(dockerfile_limits) {
    size_t n = WB_DF_MAX_BYTES + 1;
    char *big = malloc(n + 1);
    memset(big, '#', n);
    big[n] = '\0';
    wb_dockerfile *df;
    wb_error err;
    ASSERT_EQ(wb_dockerfile_parse("Dockerfile", big, n, &df, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "over the");
    free(big);
    ASSERT_EQ(wb_dockerfile_parse("Dockerfile", "FROM a\0b", 8, &df, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "NUL");
}
