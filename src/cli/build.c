/* `wasmbox build [OPTIONS] CONTEXT`: build an image from a Dockerfile, as `docker build` with the
 * classic builder. Exit status: 0, 1 when the build fails, 125 for bad usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "cli/cli.h"
#include "registry/registry.h"
#include "oci/build.h"
#include "oci/dockerfile.h"
#include "oci/reference.h"
#include "oci/store.h"

static void build_usage(FILE *out) {
    fputs("Usage:  wasmbox build [OPTIONS] PATH | -\n"
          "\n"
          "Build an image from a Dockerfile\n"
          "\n"
          "Options:\n"
          "      --build-arg list        Set build-time variables (KEY=VALUE, or KEY from the "
          "environment)\n"
          "  -f, --file string           Name of the Dockerfile (default: \"PATH/Dockerfile\"; "
          "\"-\": stdin)\n"
          "      --iidfile string        Write the image ID to the file\n"
          "      --no-cache              Do not use cache when building the image\n"
          "      --platform string       Set platform (e.g. wasi/wasm, linux/amd64)\n"
          "  -q, --quiet                 Suppress the build output and print image ID on success\n"
          "  -t, --tag list              Name and optionally a tag in the \"name:tag\" format\n"
          "      --target string         Set the target build stage to build\n",
          out);
}

typedef struct strlist {
    const char **v;
    size_t n;
} strlist;

static void push(strlist *l, const char *s) {
    l->v = wb_reallocarray(l->v, l->n + 1, sizeof *l->v);
    l->v[l->n++] = s;
}

/* "--name value", "--name=value", "-n value", "-nvalue": the value, or NULL when argv[*i] is not
 * this option. *missing is set when the option lacks its value. */
static const char *opt_value(int argc, char **argv, int *i, const char *lng, const char *shrt,
                             bool *missing) {
    const char *a = argv[*i];
    size_t ll = strlen(lng);
    if (!strncmp(a, lng, ll) && a[ll] == '=') return a + ll + 1;
    if (!strcmp(a, lng) || (shrt && !strcmp(a, shrt))) {
        if (*i + 1 >= argc) {
            *missing = true;
            return NULL;
        }
        return argv[++*i];
    }
    if (shrt && !strncmp(a, shrt, 2) && a[2] && a[1] != '-') return a + 2;
    return NULL;
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

int wb_cmd_build(int argc, char **argv) {
    strlist tags = {0}, bargs = {0};
    const char *file = NULL, *platform = NULL, *target = NULL, *iidfile = NULL, *context = NULL;
    bool quiet = false, no_cache = false;
    int rc = WB_EXIT_ENGINE;
    char **full_tags = NULL;
    size_t nfull = 0;
    char *stdin_text = NULL;
    size_t stdin_len = 0;
    wb_images *s = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        bool missing = false;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            build_usage(stdout);
            rc = 0;
            goto out;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            quiet = true;
        } else if (!strcmp(a, "--no-cache") || !strcmp(a, "--no-cache=true")) {
            no_cache = true;
        } else if (!strcmp(a, "--no-cache=false")) {
            no_cache = false;
        } else if (!strcmp(a, "--rm") || !strcmp(a, "--force-rm") || !strcmp(a, "--rm=true") ||
                   !strcmp(a, "--pull=false")) {
            /* the classic builder's defaults: nothing to do */
        } else if ((v = opt_value(argc, argv, &i, "--tag", "-t", &missing))) {
            push(&tags, v);
        } else if ((v = opt_value(argc, argv, &i, "--file", "-f", &missing))) {
            file = v;
        } else if ((v = opt_value(argc, argv, &i, "--build-arg", NULL, &missing))) {
            push(&bargs, v);
        } else if ((v = opt_value(argc, argv, &i, "--platform", NULL, &missing))) {
            platform = v;
        } else if ((v = opt_value(argc, argv, &i, "--target", NULL, &missing))) {
            target = v;
        } else if ((v = opt_value(argc, argv, &i, "--iidfile", NULL, &missing))) {
            iidfile = v;
        } else if ((v = opt_value(argc, argv, &i, "--progress", NULL, &missing))) {
            /* BuildKit's option: the classic output is the only one */
        } else if (missing) {
            wb_cli_error("flag needs an argument: %s", a);
            goto out;
        } else if (a[0] == '-' && a[1]) {
            wb_cli_error("unknown flag: %s\nSee 'wasmbox build --help'.", a);
            goto out;
        } else if (context) {
            wb_cli_error("\"wasmbox build\" requires exactly 1 argument.\nSee 'wasmbox build "
                         "--help'.");
            goto out;
        } else {
            context = a;
        }
    }
    if (!context) {
        fputs("\"wasmbox build\" requires exactly 1 argument.\nSee 'wasmbox build --help'.\n\n"
              "Usage:  wasmbox build [OPTIONS] PATH | -\n\nBuild an image from a Dockerfile\n",
              stderr);
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
out:
    wb_images_close(s);
    for (size_t i = 0; i < nfull; i++) free(full_tags[i]);
    free(full_tags);
    free(tags.v);
    free(bargs.v);
    free(stdin_text);
    return rc;
}
