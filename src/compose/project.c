/* Which files make a Compose project, and its name (see project.h). */
#include "compose/project.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fsutil.h"

static const char *const file_names[] = {"compose.yaml", "compose.yml", "docker-compose.yml",
                                         "docker-compose.yaml"};
static const char *const override_names[] = {"compose.override.yml", "compose.override.yaml",
                                             "docker-compose.override.yml",
                                             "docker-compose.override.yaml"};

static bool is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* An absolute version of path (relative to the current directory); malloc'd. */
static char *absolute(const char *path) {
    if (path[0] == '/') return wb_strdup(path);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return wb_strdup(path);
    size_t n = strlen(cwd) + strlen(path) + 2;
    char *out = wb_malloc(n);
    snprintf(out, n, "%s/%s", strcmp(cwd, "/") ? cwd : "", path);
    return out;
}

static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return wb_strdup(".");
    if (slash == path) return wb_strdup("/");
    return wb_strndup(path, (size_t)(slash - path));
}

static void add_path(wb_compose_files *f, char *p) {
    f->paths = wb_realloc(f->paths, (f->n + 1) * sizeof *f->paths);
    f->paths[f->n++] = p;
}

/* The names of `names` present in dir: the first one's path in *found (malloc'd) and, when
 * several are present, Compose's warning appended to *warning. */
static bool find_in(const char *dir, const char *const *names, size_t count, char **found,
                    char **warning) {
    char present[4][PATH_MAX + 32];
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        /* (a path too long to fit names no file: stat would refuse it too) */
        if (wb_path_join(present[n], sizeof present[n], NULL, "%s/%s", strcmp(dir, "/") ? dir : "",
                         names[i]) == 0 &&
            is_file(present[n]))
            n++;
    }
    if (n == 0) return false;
    *found = wb_strdup(present[0]);
    if (n > 1) {
        size_t cap = 256 + n * (PATH_MAX + 34), used = 0;
        char *w = wb_malloc(cap);
        used += (size_t)snprintf(w, cap, "Found multiple config files with supported names: ");
        for (size_t i = 0; i < n; i++)
            used += (size_t)snprintf(w + used, cap - used, "%s%s", i ? ", " : "", present[i]);
        snprintf(w + used, cap - used, "\nUsing %s", present[0]);
        if (*warning) {
            size_t l = strlen(*warning) + strlen(w) + 2;
            char *both = wb_malloc(l);
            snprintf(both, l, "%s\n%s", *warning, w);
            free(*warning);
            free(w);
            w = both;
        }
        *warning = w;
    }
    return true;
}

int wb_compose_find_files(const char *dir, char *const *given, size_t ngiven, wb_compose_files *out,
                          wb_error *err) {
    memset(out, 0, sizeof *out);
    if (ngiven) {
        for (size_t i = 0; i < ngiven; i++) {
            if (strcmp(given[i], "-") != 0 && !is_file(given[i])) {
                wb_compose_files_free(out);
                return wb_error_set(err, ENOENT, "open %s: no such file or directory", given[i]);
            }
            add_path(out, strcmp(given[i], "-") ? absolute(given[i]) : wb_strdup("-"));
        }
        if (dir) {
            out->project_dir = absolute(dir);
        } else if (strcmp(out->paths[0], "-") != 0) {
            out->project_dir = dir_of(out->paths[0]);
        } else {
            out->project_dir = absolute(".");
        }
        return 0;
    }
    char *at = absolute(dir ? dir : ".");
    /* "." and trailing slashes aside, walk up to / */
    size_t len = strlen(at);
    while (len > 1 && at[len - 1] == '/') at[--len] = '\0';
    if (len >= 2 && !strcmp(at + len - 2, "/.")) at[len - 2] = '\0';
    if (!*at) strcpy(at, "/");
    for (;;) {
        char *main_file = NULL;
        if (find_in(at, file_names, 4, &main_file, &out->warning)) {
            add_path(out, main_file);
            char *override = NULL;
            if (find_in(at, override_names, 4, &override, &out->warning)) add_path(out, override);
            out->project_dir = dir ? absolute(dir) : wb_strdup(at);
            free(at);
            return 0;
        }
        if (!strcmp(at, "/")) break;
        char *up = dir_of(at);
        free(at);
        at = up;
    }
    free(at);
    wb_compose_files_free(out);
    return wb_error_set(err, ENOENT, "no configuration file provided: not found");
}

void wb_compose_files_free(wb_compose_files *f) {
    for (size_t i = 0; i < f->n; i++) free(f->paths[i]);
    free(f->paths);
    free(f->project_dir);
    free(f->warning);
    memset(f, 0, sizeof *f);
}

char *wb_compose_normalize_name(const char *s) {
    char *out = wb_malloc(strlen(s) + 1);
    size_t n = 0;
    for (const char *p = s; *p; p++) {
        char c = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
            if (n == 0 && (c == '_' || c == '-')) continue; /* it must start with [a-z0-9] */
            out[n++] = c;
        }
    }
    out[n] = '\0';
    return out;
}

static bool valid_name(const char *s) {
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9'))) return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
            return false;
    return true;
}

int wb_compose_project_name(const char *flag, const char *env, const char *name_key,
                            const char *project_dir, char **out, wb_error *err) {
    *out = NULL;
    const char *explicit_names[] = {flag, env, name_key};
    for (size_t i = 0; i < 3; i++) {
        const char *v = explicit_names[i];
        if (!v || !*v) continue;
        if (!valid_name(v))
            return wb_error_set(err, EINVAL,
                                "invalid project name \"%s\": must consist only of lowercase "
                                "alphanumeric characters, hyphens, and underscores as well as "
                                "start with a letter or number",
                                v);
        *out = wb_strdup(v);
        return 0;
    }
    const char *base = project_dir ? strrchr(project_dir, '/') : NULL;
    char *n = wb_compose_normalize_name(base ? base + 1 : project_dir ? project_dir : "");
    if (!*n) {
        free(n);
        return wb_error_set(err, EINVAL, "project name must not be empty");
    }
    *out = n;
    return 0;
}
