/* `wasmbox pull`, `push`, `login`, `logout`: thin over src/registry. Exit 1 on failure, as
 * Docker's client. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "base/alloc.h"
#include "cli/cli.h"
#include "oci/reference.h"
#include "oci/store.h"
#include "registry/registry.h"

int wb_cmd_pull(int argc, char **argv);
int wb_cmd_push(int argc, char **argv);
int wb_cmd_login(int argc, char **argv);
int wb_cmd_logout(int argc, char **argv);

#define MAX_INSECURE 64
#define MAX_PASSWORD 4096

/* Options shared by the four commands. */
typedef struct reg_flags {
    wb_registry_opts o;
    const char *insecure[MAX_INSECURE];
    bool quiet, all_tags;
    const char *username, *password;
    bool password_stdin;
    const char *positional;
} reg_flags;

static bool is_opt(const char *a, const char *name) {
    size_t n = strlen(name);
    return !strncmp(a, name, n) && (a[n] == '\0' || a[n] == '=');
}

static const char *opt_value(int argc, char **argv, int *i, const char *name) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (!strncmp(a, name, n) && a[n] == '=') return a + n + 1;
    if (*i + 1 < argc) return argv[++*i];
    wb_cli_error("flag needs an argument: %s", name);
    return NULL;
}

static int parse_bool(const char *name, const char *v, bool *out) {
    if (!strcmp(v, "true") || !strcmp(v, "1"))
        *out = true;
    else if (!strcmp(v, "false") || !strcmp(v, "0"))
        *out = false;
    else {
        wb_cli_error("invalid argument \"%s\" for \"%s\" flag: expected true or false", v, name);
        return -1;
    }
    return 0;
}

static uint64_t env_size(const char *name) {
    const char *v = getenv(name);
    if (!v || !*v) return 0;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    return *end ? 0 : n;
}

/* Which flags a command takes: "p" platform, "q" quiet, "a" all-tags, "l" login's, "t" TLS. */
static int parse_flags(reg_flags *f, const char *cmd, const char *takes, int argc, char **argv,
                       void (*usage)(FILE *)) {
    wb_registry_opts_init(&f->o);
    f->o.insecure = f->insecure;
    f->o.max_parallel = (int)env_size("WASMBOX_MAX_CONCURRENT_DOWNLOADS");
    f->o.chunk_size = env_size("WASMBOX_PUSH_CHUNK_SIZE");
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (a[0] != '-' || !a[1]) {
            if (f->positional) {
                wb_cli_error("\"wasmbox %s\" requires at most 1 argument\nSee 'wasmbox %s --help'.",
                             cmd, cmd);
                return -1;
            }
            f->positional = a;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 1;
        } else if (strchr(takes, 't') && is_opt(a, "--tls-verify")) {
            if (a[12] == '=' && parse_bool("--tls-verify", a + 13, &f->o.tls_verify) < 0) return -1;
            if (!a[12]) f->o.tls_verify = true;
        } else if (strchr(takes, 't') && is_opt(a, "--insecure-registry")) {
            if (!(v = opt_value(argc, argv, &i, "--insecure-registry"))) return -1;
            if (f->o.ninsecure < MAX_INSECURE) f->insecure[f->o.ninsecure++] = v;
        } else if (strchr(takes, 'p') && is_opt(a, "--platform")) {
            if (!(f->o.platform = opt_value(argc, argv, &i, "--platform"))) return -1;
        } else if (strchr(takes, 'q') && (!strcmp(a, "-q") || !strcmp(a, "--quiet"))) {
            f->quiet = true;
        } else if (strchr(takes, 'a') && (!strcmp(a, "-a") || !strcmp(a, "--all-tags"))) {
            f->all_tags = true;
        } else if (strchr(takes, 'l') && (!strcmp(a, "-u") || is_opt(a, "--username"))) {
            if (!(f->username = opt_value(argc, argv, &i, a[1] == 'u' ? "-u" : "--username")))
                return -1;
        } else if (strchr(takes, 'l') && (!strcmp(a, "-p") || is_opt(a, "--password"))) {
            if (!(f->password = opt_value(argc, argv, &i, a[1] == 'p' ? "-p" : "--password")))
                return -1;
        } else if (strchr(takes, 'l') && !strcmp(a, "--password-stdin")) {
            f->password_stdin = true;
        } else {
            wb_cli_error("unknown flag: %s\nSee 'wasmbox %s --help'.", a, cmd);
            return -1;
        }
    }
    if (i < argc) {
        if (f->positional || i + 1 < argc) {
            wb_cli_error("\"wasmbox %s\" requires at most 1 argument\nSee 'wasmbox %s --help'.",
                         cmd, cmd);
            return -1;
        }
        f->positional = argv[i];
    }
    if (f->quiet) f->o.progress = WB_PROGRESS_QUIET;
    return 0;
}

static int open_store(wb_images **s) {
    wb_error err;
    if (wb_images_open(wb_cli_root(), s, &err) < 0) {
        wb_cli_error("%s", err.msg);
        return -1;
    }
    return 0;
}

/* ---- pull ---- */

static void pull_usage(FILE *out) {
    fputs("Usage:  wasmbox pull [OPTIONS] NAME[:TAG|@DIGEST]\n"
          "\n"
          "Download an image from a registry\n"
          "\n"
          "Options:\n"
          "  -a, --all-tags                Download all tagged images in the repository\n"
          "      --platform OS/ARCH        Pick this platform from a multi-platform image\n"
          "                                (default: wasi/wasm, else the host's linux)\n"
          "  -q, --quiet                   Suppress verbose output\n"
          "      --tls-verify=false        Do not check TLS certificates (falls back to HTTP)\n"
          "      --insecure-registry HOST  The same for one registry\n",
          out);
}

int wb_cmd_pull(int argc, char **argv) {
    reg_flags f = {0};
    int p = parse_flags(&f, "pull", "pqat", argc, argv, pull_usage);
    if (p != 0) return p > 0 ? 0 : 1;
    if (!f.positional) {
        wb_cli_error("\"wasmbox pull\" requires exactly 1 argument.\nSee 'wasmbox pull --help'.");
        return 1;
    }
    wb_images *s;
    if (open_store(&s) < 0) return 1;
    wb_error err;
    char digest[WB_DIGEST_MAX];
    int rc;
    if (f.all_tags)
        rc = wb_registry_pull_all_tags(s, f.positional, &f.o, &err);
    else
        rc = wb_registry_pull(s, f.positional, &f.o, digest, NULL, &err);
    wb_ref pulled;
    if (rc == 0 && !f.all_tags && wb_ref_parse(f.positional, &pulled, NULL) == 0) {
        char full[WB_REF_MAX + 80];
        wb_ref_full(&pulled, full, sizeof full);
        wb_cli_precompile(s, full, f.quiet);
    }
    wb_images_close(s);
    if (rc < 0) {
        wb_cli_error("%s", err.msg);
        return 1;
    }
    /* the canonical name last, as Docker prints it (also with -q) */
    wb_ref ref;
    if (wb_ref_parse(f.positional, &ref, NULL) == 0) {
        char full[WB_REF_MAX + 80];
        if (f.all_tags)
            wb_ref_repo(&ref, full, sizeof full);
        else
            wb_ref_full(&ref, full, sizeof full);
        printf("%s\n", full);
    }
    return 0;
}

/* ---- push ---- */

static void push_usage(FILE *out) {
    fputs("Usage:  wasmbox push [OPTIONS] NAME[:TAG]\n"
          "\n"
          "Upload an image to a registry\n"
          "\n"
          "Options:\n"
          "  -q, --quiet                   Print only the manifest digest\n"
          "      --tls-verify=false        Do not check TLS certificates (falls back to HTTP)\n"
          "      --insecure-registry HOST  The same for one registry\n",
          out);
}

int wb_cmd_push(int argc, char **argv) {
    reg_flags f = {0};
    int p = parse_flags(&f, "push", "qt", argc, argv, push_usage);
    if (p != 0) return p > 0 ? 0 : 1;
    if (!f.positional) {
        wb_cli_error("\"wasmbox push\" requires exactly 1 argument.\nSee 'wasmbox push --help'.");
        return 1;
    }
    wb_images *s;
    if (open_store(&s) < 0) return 1;
    wb_error err;
    char digest[WB_DIGEST_MAX];
    uint64_t size;
    int rc = wb_registry_push(s, f.positional, &f.o, digest, &size, &err);
    wb_images_close(s);
    if (rc < 0) {
        wb_cli_error("%s", err.msg);
        return 1;
    }
    if (f.quiet) printf("%s\n", digest);
    return 0;
}

/* ---- login / logout ---- */

static void login_usage(FILE *out) {
    fputs("Usage:  wasmbox login [OPTIONS] [SERVER]\n"
          "\n"
          "Log in to a registry (default: docker.io). Credentials are kept in\n"
          "$REGISTRY_AUTH_FILE, else ~/.config/wasmbox/auth.json (mode 0600).\n"
          "\n"
          "Options:\n"
          "  -u, --username USER           Username\n"
          "  -p, --password PASS           Password\n"
          "      --password-stdin          Take the password from stdin\n"
          "      --tls-verify=false        Do not check TLS certificates (falls back to HTTP)\n"
          "      --insecure-registry HOST  The same for one registry\n",
          out);
}

static void logout_usage(FILE *out) {
    fputs("Usage:  wasmbox logout [SERVER]\n\nLog out from a registry (default: docker.io)\n", out);
}

/* A line from the terminal; echo off for a password. Caller frees. */
static char *prompt(const char *what, bool secret) {
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty) return NULL;
    struct termios old, quiet;
    bool restore = false;
    fputs(what, tty);
    fflush(tty);
    if (secret && tcgetattr(fileno(tty), &old) == 0) {
        quiet = old;
        quiet.c_lflag &= (tcflag_t)~ECHO;
        restore = tcsetattr(fileno(tty), TCSAFLUSH, &quiet) == 0;
    }
    char buf[MAX_PASSWORD];
    char *line = fgets(buf, sizeof buf, tty) ? wb_strdup(buf) : NULL;
    if (restore) {
        tcsetattr(fileno(tty), TCSAFLUSH, &old);
        fputc('\n', tty);
    }
    fclose(tty);
    explicit_bzero(buf, sizeof buf);
    if (line) line[strcspn(line, "\r\n")] = '\0';
    return line;
}

static char *read_stdin_password(void) {
    char *buf = wb_malloc(MAX_PASSWORD + 1);
    size_t n = fread(buf, 1, MAX_PASSWORD, stdin);
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = '\0';
    return buf;
}

int wb_cmd_login(int argc, char **argv) {
    reg_flags f = {0};
    int p = parse_flags(&f, "login", "lt", argc, argv, login_usage);
    if (p != 0) return p > 0 ? 0 : 1;
    char host[256];
    wb_registry_host(f.positional, host, sizeof host);
    if (f.password && f.password_stdin) {
        wb_cli_error("--password and --password-stdin are mutually exclusive");
        return 1;
    }
    if (f.password_stdin && !f.username) {
        wb_cli_error("Must provide --username with --password-stdin");
        return 1;
    }
    char *user = f.username ? wb_strdup(f.username) : NULL, *pass = NULL;
    if (f.password) {
        fprintf(stderr,
                "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
        pass = wb_strdup(f.password);
    } else if (f.password_stdin) {
        pass = read_stdin_password();
    }
    if (!user && !(user = prompt("Username: ", false))) {
        wb_cli_error("Cannot perform an interactive login from a non TTY device");
        free(pass);
        return 1;
    }
    if (!pass && !(pass = prompt("Password: ", true))) {
        wb_cli_error("Cannot perform an interactive login from a non TTY device");
        free(user);
        return 1;
    }
    wb_error err;
    int rc = wb_registry_login(host, user, pass, &f.o, &err);
    explicit_bzero(pass, strlen(pass));
    free(pass);
    free(user);
    if (rc < 0) {
        wb_cli_error("%s", err.msg);
        return 1;
    }
    printf("Login Succeeded\n");
    return 0;
}

int wb_cmd_logout(int argc, char **argv) {
    reg_flags f = {0};
    int p = parse_flags(&f, "logout", "", argc, argv, logout_usage);
    if (p != 0) return p > 0 ? 0 : 1;
    char host[256];
    wb_registry_host(f.positional, host, sizeof host);
    bool found;
    wb_error err;
    if (wb_registry_logout(host, &found, &err) < 0) {
        wb_cli_error("%s", err.msg);
        return 1;
    }
    if (found)
        printf("Removing login credentials for %s\n", host);
    else
        printf("Not logged in to %s\n", host);
    return 0;
}
