/* `wasmbox build [OPTIONS] CONTEXT`: build an image from a Dockerfile, as `docker build` with the
 * classic builder. Exit status: 0, 1 when the build fails, 125 for bad usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "cli/cli.h"
#include "cli/flags.h"
#include "registry/registry.h"
#include "oci/build.h"
#include "oci/dockerfile.h"
#include "oci/reference.h"
#include "oci/store.h"

/* build's flags; buildx build adds --load and --push */
#define BUILD_FLAGS                                                                                \
    {0, "build-arg", "list", "Set build-time variables (KEY=VALUE, or KEY from the environment)",  \
     false},                                                                                       \
        {'f', "file", "string",                                                                    \
         "Name of the Dockerfile (default: \"PATH/Dockerfile\"; \"-\": stdin)", false},            \
        {0, "force-rm", NULL, "Always remove intermediate containers (always the case here)",      \
         false},                                                                                   \
        {0, "iidfile", "string", "Write the image ID to the file", false},                         \
        {0, "no-cache", NULL, "Do not use cache when building the image", false},                  \
        {0, "platform", "string", "Set platform (e.g. wasi/wasm, linux/amd64)", false},            \
        {0, "progress", "string", "Set type of progress output (accepted; the output is plain)",   \
         false},                                                                                   \
        {0, "pull", NULL, "Always attempt to pull a newer version of the image (only =false)",     \
         false},                                                                                   \
        {'q', "quiet", NULL, "Suppress the build output and print image ID on success", false},    \
        {0, "rm", NULL, "Remove intermediate containers after a successful build (default true)",  \
         false},                                                                                   \
        {'t', "tag", "list", "Name and optionally a tag in the \"name:tag\" format", false}, {     \
        0, "target", "string", "Set the target build stage to build", false                        \
    }

static const wb_cli_flag build_flags[] = {BUILD_FLAGS, {0}};
static const wb_cli_flag buildx_flags[] = {
    BUILD_FLAGS,
    {0, "load", NULL, "Load the build result into the image store (the default here)", false},
    {0, "push", NULL, "Push the built image's tags to their registries after the build", false},
    {0},
};

typedef struct strlist {
    const char **v;
    size_t n;
} strlist;

static void push(strlist *l, const char *s) {
    l->v = wb_reallocarray(l->v, l->n + 1, sizeof *l->v);
    l->v[l->n++] = s;
}

static char *read_stdin(size_t *len) {
    size_t cap = 65536, n = 0;
    char *buf = wb_malloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap > WB_DF_MAX_BYTES) break;
            cap *= 2;
            buf = wb_realloc(buf, cap);
        }
        size_t k = fread(buf + n, 1, cap - n, stdin);
        if (!k) break;
        n += k;
    }
    *len = n;
    return buf;
}

/* `build`, or `buildx build` (buildx: --load, accepted, and --push). */
static int build(int argc, char **argv, bool buildx) {
    wb_cli_command cmd = {buildx ? "buildx build" : "build", "[OPTIONS] PATH | -",
                          buildx ? "Start a build" : "Build an image from a Dockerfile",
                          buildx ? buildx_flags : build_flags, false};
    strlist tags = {0}, bargs = {0};
    const char *file, *platform, *target, *iidfile, *context = NULL;
    bool quiet, no_cache, push_tags;
    int rc = WB_EXIT_ENGINE;
    char **full_tags = NULL;
    size_t nfull = 0;
    char *stdin_text = NULL;
    size_t stdin_len = 0;
    wb_images *s = NULL;
    wb_cli_args a;
    int p = wb_cli_parse(&cmd, argc, argv, &a);
    if (p != 0) {
        wb_cli_args_release(&a);
        return p > 0 ? 0 : WB_EXIT_ENGINE;
    }
    file = wb_cli_flag_value(&a, "file");
    platform = wb_cli_flag_value(&a, "platform");
    target = wb_cli_flag_value(&a, "target");
    iidfile = wb_cli_flag_value(&a, "iidfile");
    quiet = wb_cli_flag_set(&a, "quiet");
    no_cache = wb_cli_flag_set(&a, "no-cache");
    push_tags = wb_cli_flag_set(&a, "push");
    for (int k = 0; wb_cli_flag_nth(&a, "tag", k); k++) push(&tags, wb_cli_flag_nth(&a, "tag", k));
    for (int k = 0; wb_cli_flag_nth(&a, "build-arg", k); k++)
        push(&bargs, wb_cli_flag_nth(&a, "build-arg", k));
    if (wb_cli_flag_set(&a, "pull")) {
        /* the classic builder's default is not to: only --pull=false is accepted */
        wb_cli_error("--pull is not supported: pull the base images first");
        goto out;
    }
    if (push_tags && !tags.n) {
        wb_cli_error("--push needs a tag (-t NAME) to push to");
        goto out;
    }
    if (a.npos > 1) {
        wb_cli_error("\"wasmbox %s\" requires exactly 1 argument.\nSee 'wasmbox %s --help'.",
                     cmd.name, cmd.name);
        goto out;
    }
    context = a.npos ? a.pos[0] : NULL;
    if (!context) {
        fprintf(stderr,
                "\"wasmbox %s\" requires exactly 1 argument.\nSee 'wasmbox %s --help'.\n\n"
                "Usage:  wasmbox %s %s\n\n%s\n",
                cmd.name, cmd.name, cmd.name, cmd.args, cmd.summary);
        goto out;
    }
    if (strstr(context, "://") || !strncmp(context, "git@", 4)) {
        wb_cli_error("a build context from a URL is not supported: clone or download it, then "
                     "build from the directory");
        goto out;
    }
    /* tags: validated and normalised before anything is built */
    full_tags = wb_calloc(tags.n + 1, sizeof *full_tags);
    for (size_t i = 0; i < tags.n; i++) {
        wb_ref r;
        wb_error err;
        if (wb_ref_parse(tags.v[i], &r, &err) < 0 || r.digest[0]) {
            wb_cli_error("invalid argument \"%s\" for \"-t, --tag\" flag: %s", tags.v[i],
                         r.digest[0] ? "a tag cannot name a digest" : err.msg);
            goto out;
        }
        char full[WB_REF_MAX + 160];
        wb_ref_full(&r, full, sizeof full);
        full_tags[nfull++] = wb_strdup(full);
    }
    wb_build_opts o = {
        .context = context,
        .dockerfile = file,
        .tags = (const char *const *)full_tags,
        .ntags = nfull,
        .platform = platform,
        .build_args = bargs.v,
        .nbuild_args = bargs.n,
        .target = target,
        .no_cache = no_cache,
        .out = quiet ? NULL : stdout,
        .warn = stderr,
        .pull = wb_registry_pull_hook,
    };
    if (!strcmp(context, "-") || (file && !strcmp(file, "-"))) {
        stdin_text = read_stdin(&stdin_len);
        if (stdin_len >= 262 && !memcmp(stdin_text + 257, "ustar", 5)) {
            wb_cli_error("a build context as a tar archive on stdin is not supported: build from "
                         "a directory");
            goto out;
        }
        if (stdin_len >= 2 && (unsigned char)stdin_text[0] == 0x1f &&
            (unsigned char)stdin_text[1] == 0x8b) {
            wb_cli_error("a compressed build context on stdin is not supported: build from a "
                         "directory");
            goto out;
        }
        o.dockerfile = NULL;
        o.dockerfile_text = stdin_text;
        o.dockerfile_len = stdin_len;
        o.dockerfile_name = "Dockerfile";
        if (!strcmp(context, "-")) {
            /* no context: an empty directory */
            static char empty[] = "/tmp/wasmbox-empty-context-XXXXXX";
            if (!mkdtemp(empty)) {
                wb_cli_error("create an empty build context: %s", strerror(errno));
                goto out;
            }
            o.context = empty;
        }
    }
    wb_error err;
    if (wb_images_open(wb_cli_root(), &s, &err) < 0) {
        wb_cli_error("%s", err.msg);
        goto out;
    }
    wb_build_result res;
    int brc = wb_build(s, &o, &res, &err);
    if (o.context != context) rmdir(o.context);
    if (brc < 0) {
        wb_cli_error("%s", err.msg);
        rc = 1;
        goto out;
    }
    if (iidfile) {
        FILE *f = fopen(iidfile, "w");
        if (!f || fprintf(f, "%s", res.image_id) < 0 || fclose(f) != 0) {
            wb_cli_error("write the image ID to `%s`: %s", iidfile, strerror(errno));
            goto out;
        }
    }
    if (quiet) {
        printf("%s\n", res.image_id);
    } else {
        printf("Successfully built %.12s\n", wb_digest_hex(res.image_id));
        for (size_t i = 0; i < nfull; i++) {
            char fam[WB_REF_MAX + 160];
            wb_ref_familiar(full_tags[i], fam, sizeof fam);
            printf("Successfully tagged %s\n", fam);
        }
    }
    rc = 0;
    wb_cli_precompile(s, nfull ? full_tags[0] : res.image_id, quiet);
    /* --push: each tag, as `push NAME` would (its progress and errors) */
    for (size_t i = 0; push_tags && i < nfull && rc == 0; i++) {
        char fam[WB_REF_MAX + 160];
        wb_ref_familiar(full_tags[i], fam, sizeof fam);
        char *push_argv[] = {"push", fam, NULL};
        fflush(stdout);
        if (wb_cmd_push(2, push_argv) != 0) rc = 1;
    }
out:
    wb_cli_args_release(&a);
    wb_images_close(s);
    for (size_t i = 0; i < nfull; i++) free(full_tags[i]);
    free(full_tags);
    free(tags.v);
    free(bargs.v);
    free(stdin_text);
    return rc;
}

int wb_cmd_build(int argc, char **argv) {
    return build(argc, argv, false);
}

int wb_cmd_buildx_build(int argc, char **argv) {
    return build(argc, argv, true);
}
