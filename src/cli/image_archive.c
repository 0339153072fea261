/* `wasmbox save`, `load`, `import` and `image export-wasm`: option parsing and output over
 * oci/archive.h. Errors are one `Error: …` line and exit 1, as docker's CLI does. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "cli/cli.h"
#include "oci/archive.h"
#include "oci/reference.h"

#define EXIT_USER 1

static int open_store(wb_images **s) {
    wb_error err = {0};
    if (wb_images_open(wb_cli_root(), s, &err) == 0) return 0;
    wb_cli_error("%s", err.msg);
    return -1;
}

static void print_progress(void *ctx, const char *verb, const char *digest, uint64_t size) {
    (void)ctx;
    char sz[32];
    wb_cli_human_size(size, sz, sizeof sz);
    fprintf(stderr, "%s %.19s  %s\n", verb, digest, sz);
}

/* The cap on what a load or import may expand to: $WASMBOX_ARCHIVE_MAX_BYTES (for hosts that
 * want a tighter one, and for tests), else the library's default (16 GiB). */
static wb_tar_limits archive_limits(void) {
    wb_tar_limits lim = {0, 0};
    const char *v = getenv("WASMBOX_ARCHIVE_MAX_BYTES");
    if (v && *v) {
        char *end;
        unsigned long long n = strtoull(v, &end, 10);
        if (!*end && n > 0) lim.max_bytes = n;
    }
    return lim;
}

/* A line per blob when a person is watching (stdout and stderr are terminals); quiet in pipes. */
static wb_archive_progress progress_for(bool quiet) {
    wb_archive_progress p = {NULL, NULL};
    if (!quiet && isatty(STDOUT_FILENO) && isatty(STDERR_FILENO)) p.fn = print_progress;
    return p;
}

static int usage_error(const char *cmd, const char *usage, const char *what) {
    fprintf(stderr, "\"wasmbox %s\" requires %s.\nSee 'wasmbox %s --help'.\n\nUsage:  %s\n", cmd,
            what, cmd, usage);
    return EXIT_USER;
}

/* ---- save ---- */

static const char save_usage[] = "wasmbox save [OPTIONS] IMAGE [IMAGE...]";

int wb_cmd_save(int argc, char **argv) {
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *output = NULL, *format = "docker-archive";
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case 'f': format = optarg; break;
        case 'h':
            printf("Usage:  %s\n\nSave one or more images to a tar archive (streamed to STDOUT by "
                   "default)\n\nOptions:\n"
                   "      --format string   docker-archive (default), oci-archive or oci-dir\n"
                   "  -o, --output string   Write to a file (a directory for oci-dir), instead "
                   "of STDOUT\n",
                   save_usage);
            return 0;
        default: return usage_error("save", save_usage, "valid options");
        }
    }
    if (optind >= argc) return usage_error("save", save_usage, "at least 1 argument");
    wb_archive_format fmt;
    wb_error err = {0};
    if (wb_archive_format_parse(format, &fmt, &err) < 0) {
        wb_cli_error("%s", err.msg);
        return EXIT_USER;
    }
    if (!output && fmt == WB_ARCHIVE_OCI_DIR) {
        wb_cli_error("the oci-dir format needs an output directory: use -o DIR");
        return EXIT_USER;
    }
    if (!output && isatty(STDOUT_FILENO)) {
        wb_cli_error("Cowardly refusing to save to a terminal. Use the -o flag or redirect");
        return EXIT_USER;
    }
    wb_images *s;
    if (open_store(&s) < 0) return EXIT_USER;
    wb_archive_progress progress = progress_for(!output);
    int rc = wb_archive_save(s, (const char *const *)argv + optind, (size_t)(argc - optind), fmt,
                             output, STDOUT_FILENO, &progress, &err);
    wb_images_close(s);
    if (rc < 0) {
        wb_cli_error("%s", err.msg);
        return EXIT_USER;
    }
    return 0;
}

/* ---- load ---- */

static const char load_usage[] = "wasmbox load [OPTIONS]";

int wb_cmd_load(int argc, char **argv) {
    static const struct option opts[] = {{"input", required_argument, NULL, 'i'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *input = NULL;
    bool quiet = false;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "i:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'i': input = optarg; break;
        case 'q': quiet = true; break;
        case 'h':
            printf("Usage:  %s\n\nLoad an image from a tar archive or STDIN (a docker-archive or "
                   "an OCI image layout archive)\n\nOptions:\n"
                   "  -i, --input string   Read from tar archive file, instead of STDIN\n"
                   "  -q, --quiet          Suppress the load output\n",
                   load_usage);
            return 0;
        default: return usage_error("load", load_usage, "valid options");
        }
    }
    if (optind < argc) return usage_error("load", load_usage, "no arguments");
    if (input && !strcmp(input, "-")) input = NULL;
    if (!input && isatty(STDIN_FILENO)) {
        wb_cli_error("requested load from stdin, but stdin is empty");
        return EXIT_USER;
    }
    wb_images *s;
    if (open_store(&s) < 0) return EXIT_USER;
    wb_archive_progress progress = progress_for(quiet);
    wb_error err = {0};
    wb_loaded_image *imgs;
    size_t n;
    wb_tar_limits lim = archive_limits();
    int rc = wb_archive_load(s, input, STDIN_FILENO, input ? input : "stdin", &lim, &progress,
                             &imgs, &n, &err);
    if (rc < 0) {
        wb_images_close(s);
        wb_cli_error("%s", err.msg);
        return EXIT_USER;
    }
    for (size_t i = 0; i < n; i++)
        wb_cli_precompile(s, imgs[i].ntags ? imgs[i].tags[0] : imgs[i].config, quiet);
    wb_images_close(s);
    for (size_t i = 0; i < n && !quiet; i++) {
        if (imgs[i].ntags == 0) printf("Loaded image ID: %s\n", imgs[i].config);
        for (size_t k = 0; k < imgs[i].ntags; k++) {
            char familiar[WB_REF_MAX + 80];
            wb_ref_familiar(imgs[i].tags[k], familiar, sizeof familiar);
            printf("Loaded image: %s\n", familiar);
        }
    }
    wb_loaded_images_free(imgs, n);
    return 0;
}

/* ---- import ---- */

static const char import_usage[] = "wasmbox import [OPTIONS] file|- [REPOSITORY[:TAG]]";

static int parse_platform(const char *p, char *os, char *arch, char *variant, size_t size) {
    char buf[128];
    if (strlen(p) >= sizeof buf) return -1;
    snprintf(buf, sizeof buf, "%s", p);
    char *a = strchr(buf, '/');
    if (!a || a == buf || !a[1]) return -1;
    *a++ = '\0';
    char *v = strchr(a, '/');
    if (v) {
        *v++ = '\0';
        if (!*v || strchr(v, '/')) return -1;
    }
    snprintf(os, size, "%s", buf);
    snprintf(arch, size, "%s", a);
    snprintf(variant, size, "%s", v ? v : "");
    return 0;
}

int wb_cmd_import(int argc, char **argv) {
    static const struct option opts[] = {{"change", required_argument, NULL, 'c'},
                                         {"message", required_argument, NULL, 'm'},
                                         {"platform", required_argument, NULL, 'p'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char **changes = wb_calloc((size_t)argc + 1, sizeof *changes);
    wb_import_opts o = {.changes = changes, .lim = archive_limits()};
    char os[128] = "wasi", arch[128] = "wasm", variant[128] = "";
    int c, rc = EXIT_USER;
    wb_images *s = NULL;
    optind = 0;
    while ((c = getopt_long(argc, argv, "c:m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': changes[o.nchanges++] = optarg; break;
        case 'm': o.message = optarg; break;
        case 'p':
            if (parse_platform(optarg, os, arch, variant, sizeof os) < 0) {
                wb_cli_error("invalid platform \"%s\": expected OS/ARCH[/VARIANT]", optarg);
                goto out;
            }
            break;
        case 'h':
            printf("Usage:  %s\n\nImport the contents from a tarball to create a filesystem "
                   "image\n\nOptions:\n"
                   "  -c, --change list       Apply Dockerfile instruction to the created image\n"
                   "  -m, --message string    Set commit message for imported image\n"
                   "      --platform string   Set platform (default wasi/wasm)\n",
                   import_usage);
            rc = 0;
            goto out;
        default: rc = usage_error("import", import_usage, "valid options"); goto out;
        }
    }
    if (optind >= argc || argc - optind > 2) {
        rc = usage_error("import", import_usage, "at least 1 and at most 2 arguments");
        goto out;
    }
    const char *source = argv[optind];
    char full[WB_REF_MAX + 80];
    const char *tags[1] = {full};
    wb_error err = {0};
    if (optind + 1 < argc) {
        wb_ref r;
        if (wb_ref_parse(argv[optind + 1], &r, &err) < 0) {
            wb_cli_error("%s", err.msg);
            goto out;
        }
        if (r.digest[0]) {
            wb_cli_error("invalid reference format: an import is named by a tag, not a digest");
            goto out;
        }
        wb_ref_full(&r, full, sizeof full);
        o.tags = tags;
        o.ntags = 1;
    }
    if (strstr(source, "://")) {
        wb_cli_error("importing from a URL is not supported: download the tarball first");
        goto out;
    }
    bool from_stdin = !strcmp(source, "-");
    if (from_stdin && isatty(STDIN_FILENO)) {
        wb_cli_error("requested import from stdin, but stdin is a terminal");
        goto out;
    }
    o.os = os;
    o.arch = arch;
    o.variant = variant;
    wb_archive_progress progress = progress_for(false);
    o.progress = &progress;
    if (open_store(&s) < 0) goto out;
    char id[WB_DIGEST_MAX];
    if (wb_archive_import(s, from_stdin ? NULL : source, STDIN_FILENO, source, &o, id, &err) < 0) {
        wb_cli_error("%s", err.msg);
        goto out;
    }
    printf("%s\n", id);
    fflush(stdout);
    wb_cli_precompile(s, id, false);
    rc = 0;
out:
    if (s) wb_images_close(s);
    free(changes);
    return rc;
}

/* ---- image export-wasm ---- */

static const char export_usage[] = "wasmbox image export-wasm IMAGE -o FILE.wasm";

int wb_cmd_export_wasm(int argc, char **argv) {
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *output = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case 'h':
            printf("Usage:  %s\n\nWrite the WebAssembly module of an image to a file (or to "
                   "STDOUT)\n\nOptions:\n"
                   "  -o, --output string   Write to a file, instead of STDOUT\n",
                   export_usage);
            return 0;
        default: return usage_error("image export-wasm", export_usage, "valid options");
        }
    }
    if (argc - optind != 1)
        return usage_error("image export-wasm", export_usage, "exactly 1 argument");
    if (!output && isatty(STDOUT_FILENO)) {
        wb_cli_error("Cowardly refusing to write a module to a terminal. Use the -o flag or "
                     "redirect");
        return EXIT_USER;
    }
    wb_images *s;
    if (open_store(&s) < 0) return EXIT_USER;
    wb_error err = {0};
    int rc = wb_archive_export_wasm(s, argv[optind], output, STDOUT_FILENO, &err);
    wb_images_close(s);
    if (rc < 0) {
        wb_cli_error("%s", err.msg);
        return EXIT_USER;
    }
    return 0;
}
