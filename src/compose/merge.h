/* compose/merge.h — putting canonical Compose models together (normalize.h's form): several files
 * into one, `extends`, and `profiles`. Each function changes the model it is given in place
 * and owns nothing past the call.
 *
 * Merge rules (the compose-spec's merge.md, compose-go v2's override package):
 *  - mappings merge recursively, the override's value winning for scalars;
 *  - sequences append (base items, then the override's), except:
 *      command, entrypoint, healthcheck.test: replaced by the override's;
 *      ports: unique by (host_ip, target, published, protocol) — an override item equal on
 *        those replaces the base's in place, others append;
 *      volumes: unique by target; secrets, configs: unique by target, else by source (when no
 *        target); env_file: unique by path; expose, dns, dns_search, dns_opt, cap_add,
 *        cap_drop, security_opt, tmpfs, extra_hosts, profiles, devices, links,
 *        external_links, group_add, volumes_from: strings appended without duplicates (first
 *        place kept);
 *  - environment, labels, annotations, build.args, build.labels, deploy.labels, sysctls, and
 *    the top-level networks.*.labels, volumes.*.labels: flat maps merged by key, the
 *    override's value for a key replacing the base's (sysctls, which normalize.c keeps as
 *    written, may be a "K=V" list on either side: two lists merge by K, a list against a map
 *    becomes a map); networks, depends_on, ulimits: merged by key, each member recursively;
 *  - logging: merged when both have the same driver (or either has none), else replaced
 *    (compose-go's rule);
 *  - an override value of null merges as "no change" (the base's value stays; a key the base
 *    does not have is added with the null), except: command, entrypoint and healthcheck.test
 *    are replaced by it, and a null member of a flat map above is a value that wins
 *    (`environment: {FOO: null}` is `FOO` alone, "take it from the shell"), as compose-go;
 *  - tags on override paths (yaml.h): `!reset` — the key is removed from the result (whatever
 *    the base had), and an item of an override sequence so tagged is not appended;
 *    `!override` — the override's value replaces the base's whole, no merging. Anything taken
 *    from the override (a new key, a replaced value, an appended item) leaves out its own
 *    members and items tagged `!reset`. Tags are looked up by the override's path as yaml.h
 *    writes paths (`services.web.ports`, `services.web.environment.FOO`,
 *    `services.web.ports[1]`), so the tag of any key at any depth of the override counts.
 *
 * extends (compose-spec 05-services.md, "extends"): a service with `extends: {service, file?}`
 * starts from that service (of the same model, or of the model of `file`, loaded through the
 * callback) and merges its own keys over it with the rules above; the referenced service's
 * own `extends` is resolved first; a cycle is an error ("Circular reference: a extends b extends
 * a"; a link in another file than the first reads "b in FILE"); every key of the base is
 * inherited, depends_on included (as compose v2.2x does). The `extends` key is removed from the
 * result. A missing service is compose-go's `cannot extend service "a" in FILE: service "x"
 * not found` (FILE being where "x" was looked for); a failed load is the loader's message
 * after `cannot extend service "a" in FILE: `. extends.file is joined to the extending file's
 * directory and cleaned lexically (no "." or ".." segments) before it is given to the loader,
 * so the same file always has the same path. A chain longer than 64 services is an error.
 *
 * profiles: a service with no `profiles` is always enabled; one with profiles is enabled
 * when one of them is active ("*" activates all) or when it is named on the command line — and
 * then its profiles become active too (compose-spec profiles.md: "its profile is added to the
 * set of active profiles"), so `up svc` also enables the services sharing svc's profiles.
 * Disabled services are removed from `services`. */
#ifndef WB_COMPOSE_MERGE_H
#define WB_COMPOSE_MERGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

/* The tags (yaml.h's WB_YAML_RESET/WB_YAML_OVERRIDE bits) of the override's node at `path`. */
typedef unsigned (*wb_compose_tags_fn)(void *ctx, const char *path);

/* Merge `over` (borrowed) into `base` (changed in place). `tags` may be NULL (no tags). Both
 * are canonical models (top level: services, networks, volumes, configs, secrets, name, x-*).
 * Returns 0, or -1 with err (only for shapes that cannot merge, e.g. a mapping over a
 * sequence — normalised input does not have them). */
int wb_compose_merge(json_t *base, const json_t *over, wb_compose_tags_fn tags, void *tags_ctx,
                     wb_error *err);

/* Loads the canonical model of another file for extends.file: `path` is absolute. Returns a
 * new reference (the callback owns caching) or NULL with err. */
typedef json_t *(*wb_compose_load_fn)(void *ctx, const char *path, wb_error *err);

/* Resolve every `extends` in `model` (the model of the file at `filename`, whose directory
 * relative extends.file values start from). Models returned by `load` are only read. */
int wb_compose_extends(json_t *model, const char *filename, wb_compose_load_fn load, void *load_ctx,
                       wb_error *err);

/* Keep the services enabled by the active profiles (`active`, n_active; "*" = all) and the
 * services named on the command line (`named`, n_named: each must exist in the model, else
 * "no such service: NAME"). Then check depends_on: a dependency that is not enabled is an
 * error (`service "a" depends on undefined service "b": invalid compose project`) unless
 * required is false (then it is dropped). */
int wb_compose_profiles(json_t *model, char *const *active, size_t n_active, char *const *named,
                        size_t n_named, wb_error *err);

#endif
