/* runtime/network.h — networks: their records (Docker's `network inspect` shape), address
 * allocation, and attaching a container to them through Podman's netavark (bridge, veth,
 * addresses, firewall rules, published ports) and aardvark-dns (names on user networks).
 *
 * On disk, under the store root:
 *   ROOT/networks/<id>/network.json   the record (Name, Id, Driver, IPAM.Config, Internal, ...)
 *   ROOT/networks/<id>/ips/<a.b.c.d>  one file per address in use, holding the container's ID:
 *                                     made with O_EXCL, so two racing runs never share one
 *   ROOT/networks/.lock               flock taken to create or remove a network (names unique)
 *   ROOT/networks/.netavark/          netavark's config directory (aardvark-dns's files)
 *   ROOT/netns/<container id>         the container's network namespace (an nsfs bind mount),
 *                                     made before its process starts and removed at teardown
 * The default network "bridge" (bridge wasmbox0, no name resolution, as Docker's docker0) is
 * made on first use; "host" and "none" are modes, listed but never stored.
 *
 * Daemonless: a container's attachment (its netns, its addresses, netavark's setup) is made by
 * whoever starts its process and undone when that process ends; `rm` undoes what a killed
 * monitor left (the netns file is the marker). */
#ifndef WB_RUNTIME_NETWORK_H
#define WB_RUNTIME_NETWORK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

#define WB_NETWORK_DEFAULT "bridge"

typedef struct wb_network_opts {
    const char *name;
    const char *driver;  /* NULL: "bridge" */
    const char *subnet;  /* CIDR, NULL: a free /16 (172.17–31), else a free /24 of 192.168 */
    const char *gateway; /* NULL: the subnet's first address */
    bool internal;       /* no route out */
    char **labels;       /* "K=V" */
    size_t nlabels;
    char **options; /* -o K=V */
    size_t noptions;
} wb_network_opts;

/* Create a network; *id (65 bytes) gets its ID. Docker's messages: "network with name NAME
 * already exists", "invalid subnet", "Pool overlaps with other one on this address space". */
int wb_network_create(const char *root, const wb_network_opts *o, char id[65], wb_error *err);

/* The record of a network by name, ID or unique ID prefix (the default "bridge" is made when
 * asked for); new reference. "network NAME not found". */
json_t *wb_network_find(const char *root, const char *name, wb_error *err);

/* Every stored network's record (the default bridge included once made). */
json_t *wb_network_list(const char *root, wb_error *err);

/* Remove a network no container uses ("error while removing network: network NAME id ID has
 * active endpoints"); the default bridge cannot be removed. */
int wb_network_remove(const char *root, const char *name, wb_error *err);

/* Names of the networks no container uses that were removed (prune); malloc'd list. */
int wb_network_prune(const char *root, char ***removed, size_t *n, wb_error *err);

/* ---- a container's attachment ---- */

/* What a container gets from its networks (filled by wb_net_attach). */
typedef struct wb_net_attachment {
    int netns_fd;          /* open on the container's namespace (-1: none made) */
    char netns_path[4200]; /* ROOT/netns/<id> */
    char *hosts;           /* extra /etc/hosts lines ("10.89.0.2\thostname\n") */
    char *resolv;          /* /etc/resolv.conf text for it (NULL: the host's, filtered) */
    char **dns_servers;    /* the name servers a Wasm module's sock_getaddrinfo asks */
    size_t ndns_servers;
    char **search; /* search domains */
    size_t nsearch;
} wb_net_attachment;

/* Whether this NetworkMode needs an attachment (bridge or a network's name). */
bool wb_net_mode_attaches(const char *mode);

/* Attach the container (c->doc: HostConfig.NetworkMode, .PortBindings, NetworkingConfig
 * aliases and addresses) to its network: the netns made, addresses allocated, netavark's setup
 * run; c->doc's NetworkSettings filled (not saved). On failure everything made is undone. */
struct wb_container;
int wb_net_attach(struct wb_container *c, wb_net_attachment *a, wb_error *err);

/* Undo the attachment (netavark's teardown, addresses released, netns removed); safe to call
 * when there is none (a killed monitor's leftovers are found by the netns file). NetworkSettings
 * are cleared in c->doc (not saved). */
void wb_net_detach(struct wb_container *c);

void wb_net_attachment_release(wb_net_attachment *a);

/* Container IDs attached to the network `id` now (its address files). */
int wb_network_users(const char *root, const char *id, char ***ids, size_t *n);

#endif
