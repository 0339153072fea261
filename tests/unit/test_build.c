/* Builder helpers (src/oci/build.h): platform strings; RUN's command line and COPY --chown owners
 * (build_run.h). The builder itself is tested end to end by
 * tests/e2e/build.sh. */
#include "harness.h"

#include "oci/build.h"
#include "oci/build_run.h"
#include "oci/dockerfile.h"

static const char *platform(const char *s) {
    static char buf[WB_ERROR_MSG_MAX + 16];
    char os[32], arch[32], variant[32];
    wb_error err;
    if (wb_platform_parse(s, os, arch, variant, &err) < 0) {
        snprintf(buf, sizeof buf, "ERR: %s", err.msg);
        return buf;
    }
    snprintf(buf, sizeof buf, "%s/%s%s%s", os, arch, variant[0] ? "/" : "", variant);
    return buf;
}

TEST(build_platform_parse) {
    ASSERT_STR_EQ(platform("wasi/wasm"), "wasi/wasm");
    ASSERT_STR_EQ(platform("WASI/WASM32"), "wasi/wasm32");
    ASSERT_STR_EQ(platform("linux/x86_64"), "linux/amd64");
    ASSERT_STR_EQ(platform("linux/aarch64"), "linux/arm64");
    ASSERT_STR_EQ(platform("linux/arm64/v8"), "linux/arm64/v8");
    ASSERT_STR_EQ(platform("linux/aarch64/v8"), "linux/arm64");
    ASSERT_STR_EQ(platform("linux/armhf"), "linux/arm/v7");
    ASSERT_STR_EQ(platform("linux/arm/v6"), "linux/arm/v6");
    ASSERT_STR_CONTAINS(platform(""), "ERR: empty platform");
    ASSERT_STR_CONTAINS(platform("wasi/"), "ERR: invalid platform");
    ASSERT_STR_CONTAINS(platform("/wasm"), "ERR: invalid platform");
    ASSERT_STR_CONTAINS(platform("a/b/c/d"), "ERR: invalid platform");
    ASSERT_STR_CONTAINS(platform("linux/amd64,linux/arm64"), "several platforms");
    ASSERT_STR_CONTAINS(platform("linux/am d64"), "ERR: invalid platform");
    /* "linux" alone: the host's architecture */
    char os[32], arch[32], variant[32];
    wb_platform_host(os, arch, variant);
    char want[100];
    snprintf(want, sizeof want, "linux/%s%s%s", arch, variant[0] ? "/" : "", variant);
    ASSERT_STR_EQ(platform("linux"), want);
    ASSERT_STR_EQ(os, "linux");
}

/* ---- RUN's command line and COPY --chown (oci/build_run.h) ---- */

static wb_dockerfile *one_run(const char *text) {
    wb_dockerfile *df = NULL;
    wb_error err;
    if (wb_dockerfile_parse("Dockerfile", text, strlen(text), &df, &err) < 0) return NULL;
    return df;
}

TEST(build_run_command_forms) {
    char *sh[] = {"/bin/sh", "-c"};
    wb_run_command c;
    wb_dockerfile *df = one_run("FROM scratch\nRUN echo hi\nRUN [\"/bin/echo\", \"a b\"]\n"
                                "RUN <<EOF\necho x\nEOF\nRUN <<EOT bash\necho y\nEOT\n"
                                "RUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n");
    ASSERT_TRUE(df != NULL);
    wb__run_command_make(&df->instrs[1], sh, 2, &c);
    ASSERT_EQ(c.argc, 3);
    ASSERT_STR_EQ(c.argv[2], "echo hi");
    ASSERT_STR_EQ(c.shown, "/bin/sh -c echo hi");
    wb__run_command_release(&c);
    wb__run_command_make(&df->instrs[2], sh, 2, &c);
    ASSERT_EQ(c.argc, 2);
    ASSERT_STR_EQ(c.argv[1], "a b");
    wb__run_command_release(&c);
    wb__run_command_make(&df->instrs[3], sh, 2, &c); /* the body is the shell's script */
    ASSERT_STR_EQ(c.argv[2], "echo x\n");
    wb__run_command_release(&c);
    wb__run_command_make(&df->instrs[4], sh, 2, &c); /* the shell reads the heredoc itself */
    ASSERT_STR_EQ(c.argv[2], "<<EOT bash\necho y\nEOT");
    wb__run_command_release(&c);
    wb__run_command_make(&df->instrs[5], sh, 2, &c); /* #!: the interpreter reads stdin */
    ASSERT_EQ(c.argc, 3);
    ASSERT_STR_EQ(c.argv[0], "/usr/bin/env");
    ASSERT_STR_EQ(c.argv[1], "python3");
    ASSERT_STR_EQ(c.argv[2], "/dev/stdin");
    ASSERT_STR_EQ(c.script, "#!/usr/bin/env python3\nprint(1)\n");
    wb__run_command_release(&c);
    wb_dockerfile_free(df);
}

TEST(build_chown_parse) {
    const char *passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:1234:1300::/home/app:/bin/sh\n";
    const char *group = "root:x:0:\nstaff:x:50:\napp:x:1300:\n";
    uid_t u;
    gid_t g;
    wb_error err;
    ASSERT_EQ(wb__chown_parse("app", passwd, group, &u, &g, &err), 0);
    ASSERT_EQ(u, 1234);
    ASSERT_EQ(g, 1234); /* no group: the uid, as Docker does */
    ASSERT_EQ(wb__chown_parse("app:staff", passwd, group, &u, &g, &err), 0);
    ASSERT_EQ(g, 50);
    ASSERT_EQ(wb__chown_parse("10:20", NULL, NULL, &u, &g, &err), 0);
    ASSERT_EQ(u, 10);
    ASSERT_EQ(g, 20);
    ASSERT_TRUE(wb__chown_parse("nobody", passwd, group, &u, &g, &err) < 0);
    ASSERT_STR_CONTAINS(err.msg, "can't find uid for user nobody");
    ASSERT_TRUE(wb__chown_parse("app:wheel", passwd, group, &u, &g, &err) < 0);
    ASSERT_STR_CONTAINS(err.msg, "can't find gid for group wheel");
}
