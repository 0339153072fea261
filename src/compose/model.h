/* compose/model.h — a Compose project loaded: its files found (project.h), its environment
 * (the shell over `.env` or --env-file, dotenv.h), each file read (yaml.h), interpolated
 * (interp.h), put in canonical form (normalize.h), its `extends` resolved and the files merged
 * (merge.h), profiles applied, and the result completed as `docker compose config` shows it:
 *  - `name` is the project name; every service's `env_file` entries are read into its
 *    `environment` (keys the service sets itself win) and `env_file` dropped;
 *  - a `default` network (name `<project>_default`) is added when a service without
 *    `network_mode` and without `networks` exists, and such services get `networks: {default:
 *    null}`; top-level networks and volumes get `name: <project>_<key>` unless they have a name
 *    (external ones: their key);
 *  - checked: every service has `image` or `build` ("service \"web\" has neither an image nor
 *    a build context specified: invalid compose project"), every network and named volume a
 *    service uses is declared ("service \"web\" refers to undefined network front: invalid
 *    compose project", "... undefined volume data ..."), depends_on names a service.
 * The project owns its model and strings; nothing is written anywhere. */
#ifndef WB_COMPOSE_MODEL_H
#define WB_COMPOSE_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "compose/normalize.h"

typedef struct wb_compose_opts {
    const char *project_dir; /* --project-directory (NULL: none) */
    char *const *files;      /* -f (in order; "-" is stdin) */
    size_t nfiles;
    const char *project_name; /* -p (NULL: none) */
    char *const *env_files;   /* --env-file (none: the project directory's .env if present) */
    size_t nenv_files;
    char *const *profiles; /* --profile (none: COMPOSE_PROFILES, comma-separated) */
    size_t nprofiles;
    char *const *services; /* services named on the command line (they enable profiles) */
    size_t nservices;
    bool all_profiles; /* every service whatever its profiles (down, ps, config --services
                        * with COMPOSE's rule that down acts on every service) */
    /* the files' texts given in memory (tests, the fuzz target): texts[i] of text_lens[i] bytes
     * is the content of files[i] (not looked up on disk); the project directory is
     * project_dir (NULL: "/"). NULL: the files are read. */
    const char *const *texts;
    const size_t *text_lens;
    wb_compose_warn_fn warn; /* warnings, one line each (NULL: dropped) */
    void *warn_ctx;
} wb_compose_opts;

typedef struct wb_compose_project {
    char *name;   /* the project name */
    char *dir;    /* the project directory (absolute) */
    char **files; /* the files read (absolute, or "-") */
    size_t nfiles;
    json_t *model; /* the canonical model (normalize.h's shape, completed as above) */
} wb_compose_project;

/* Load the project. Errors name the file, line and key (normalize.h), or the file and what
 * could not be read. On success *out is the caller's (wb_compose_project_free). */
int wb_compose_load(const wb_compose_opts *o, wb_compose_project **out, wb_error *err);
void wb_compose_project_free(wb_compose_project *p);

/* The services in dependency order (a service after everything it depends on; ties in name
 * order): a NULL-terminated array of borrowed names (free the array only). A cycle is an
 * error ("dependency cycle detected: a -> b -> a"). */
const char **wb_compose_service_order(const json_t *model, wb_error *err);

#endif
