/* A Compose service as `run` options (run_opts.h), for compose_up.c: the container's name, its
 * image, command, environment, mounts, ports, networks (primary by priority then name; aliases:
 * the service name and its `aliases`), limits, Linux options, restart policy, stop signal and
 * grace period, healthcheck (Config.Healthcheck in Docker's shape) and Compose's labels
 * (plan.h), with the config hash. */
#ifndef WB_CLI_COMPOSE_SERVICE_H
#define WB_CLI_COMPOSE_SERVICE_H

#include <jansson.h>
#include <stdbool.h>

#include "base/error.h"
#include "cli/run_opts.h"
#include "compose/model.h"

typedef struct compose_service_ctx {
    const wb_compose_project *p;
    const char *service;
    const json_t *svc; /* the model's service */
    int number;        /* container number (1-based) */
    const char *name;  /* NULL: plan.h's name */
    bool oneoff;       /* `compose run`: no ports unless service_ports, no restart */
    bool service_ports, use_aliases;
    const json_t *command, *entrypoint; /* overrides (NULL: the service's) */
    const char *user, *workdir;         /* overrides */
    char *const *extra_env;             /* "K=V" added */
    size_t nextra_env;
} compose_service_ctx;

typedef struct compose_service_opts {
    wb_run_opts o;
    char hash[65];
    char id[65]; /* the created container's ID (o.created_id) */
    char *image, *name, *network_mode;
    char **args, **entrypoint; /* borrowed strings */
    json_t *endpoints, *config_extra;
} compose_service_opts;

int compose_service_opts_make(compose_service_opts *so, const compose_service_ctx *x,
                              wb_error *err);
void compose_service_opts_release(compose_service_opts *so);

#endif
