/* compose/plan.h — what a Compose model becomes on the runtime, named as Docker Compose v2 names
 * it: containers `<project>-<service>-<n>` (or the service's container_name), networks and
 * volumes by their model `name` (model.h set them), images built for a service
 * `<project>-<service>` unless `image:` names them; the labels Compose puts on containers, and
 * the config hash that tells `up` whether a container must be recreated. Pure functions. */
#ifndef WB_COMPOSE_PLAN_H
#define WB_COMPOSE_PLAN_H

#include <jansson.h>
#include <stddef.h>

#include "base/error.h"

#define WB_COMPOSE_LABEL_PROJECT    "com.docker.compose.project"
#define WB_COMPOSE_LABEL_SERVICE    "com.docker.compose.service"
#define WB_COMPOSE_LABEL_NUMBER     "com.docker.compose.container-number"
#define WB_COMPOSE_LABEL_HASH       "com.docker.compose.config-hash"
#define WB_COMPOSE_LABEL_ONEOFF     "com.docker.compose.oneoff"
#define WB_COMPOSE_LABEL_WORKDIR    "com.docker.compose.project.working_dir"
#define WB_COMPOSE_LABEL_FILES      "com.docker.compose.project.config_files"
#define WB_COMPOSE_LABEL_VERSION    "com.docker.compose.version"
#define WB_COMPOSE_LABEL_NETWORK    "com.docker.compose.network"
#define WB_COMPOSE_LABEL_VOLUME     "com.docker.compose.volume"
#define WB_COMPOSE_LABEL_DEPENDS_ON "com.docker.compose.depends_on"
#define WB_COMPOSE_VERSION          "2.20.3" /* the Compose version whose behaviour we follow */

/* The name of container number n (1-based) of a service (malloc'd). */
char *wb_compose_container_name(const char *project, const char *service, const json_t *svc, int n);
/* The image a service runs: its `image`, else `<project>-<service>` (malloc'd). */
char *wb_compose_image_name(const char *project, const char *service, const json_t *svc);
/* How many containers the service wants: deploy.replicas, else scale, else 1. */
int wb_compose_replicas(const json_t *svc);
/* The config hash: sha256 (hex) of the service's canonical JSON without the keys that do not
 * change a container (build, pull_policy, scale, deploy.replicas, profiles). 65 bytes. */
int wb_compose_config_hash(const json_t *svc, char out[65], wb_error *err);

#endif
