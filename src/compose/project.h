/* compose/project.h — which files make a Compose project, and its name (issue #15).
 *
 * Files, as docker compose v2 (compose-go's cli options) finds them:
 *   -f given: those files in order ("-" is stdin, kept as "-"), the project directory being
 *   --project-directory or else the first file's directory;
 *   none given: from --project-directory (else the current directory) up through its parents,
 *   the first directory holding one of compose.yaml, compose.yml, docker-compose.yml,
 *   docker-compose.yaml (the first of those names present is used; more than one present gives
 *   Compose's warning), plus the first of compose.override.yml, compose.override.yaml,
 *   docker-compose.override.yml, docker-compose.override.yaml present beside it.
 *   Nothing found: "no configuration file provided: not found".
 *
 * Name: -p, else COMPOSE_PROJECT_NAME (the caller gives the environment's value, then the
 * .env file's), else the `name:` of the merged model, else the project directory's base name
 * normalised (lower case, only [a-z0-9_-] kept, leading '_'/'-' dropped). Explicit names (-p,
 * the variable, `name:`) must already be valid: compose-go's message otherwise. */
#ifndef WB_COMPOSE_PROJECT_H
#define WB_COMPOSE_PROJECT_H

#include <stddef.h>

#include "base/error.h"

typedef struct wb_compose_files {
    char **paths; /* absolute paths (or "-"), malloc'd */
    size_t n;
    char *project_dir; /* absolute, malloc'd */
    char *warning;     /* Compose's "Found multiple config files ..." text, or NULL */
} wb_compose_files;

/* Find the files; `dir` is --project-directory (NULL: none given), `given` the -f values. */
int wb_compose_find_files(const char *dir, char *const *given, size_t ngiven, wb_compose_files *out,
                          wb_error *err);
void wb_compose_files_free(wb_compose_files *f);

/* The project name from, in order, `flag` (-p), `env` (COMPOSE_PROJECT_NAME), `name_key` (the
 * model's name:), the project directory; each may be NULL or empty. *out malloc'd. */
int wb_compose_project_name(const char *flag, const char *env, const char *name_key,
                            const char *project_dir, char **out, wb_error *err);

/* The directory's base name as Compose normalises it ("My App.v2" -> "myappv2"); malloc'd,
 * may be empty. */
char *wb_compose_normalize_name(const char *s);

#endif
