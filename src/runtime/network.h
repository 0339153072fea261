/* runtime/network.h — networks: their records (Docker's `network inspect` shape), address
 * allocation, and attaching a container to them: the bridge driver (bridge.h: our own netlink
 * and nftables code for bridge, veth, addresses, firewall rules, published ports) and
 * aardvark-dns (aardvark.h: names on user networks).
 *
 * On disk, under the store root:
 *   ROOT/networks/<id>/network.json   the record (Name, Id, Driver, IPAM.Config, Internal, ...)
 *   ROOT/networks/<id>/ips/<a.b.c.d>  one file per address in use, holding the container's ID:
 *                                     made with O_EXCL, so two racing runs never share one
 *   ROOT/networks/.lock               flock taken to create or remove a network (names unique)
 *   ROOT/networks/.aardvark/          aardvark-dns's config directory (aardvark.h)
 *   ROOT/netns/<container id>         the container's network namespace (an nsfs bind mount),
 *                                     made before its process starts and removed at teardown
 *   ROOT/containers/<id>/network.json its endpoints as made (bridge.h's description each), so
 *                                     that whoever tears down undoes exactly that
 * The default network "bridge" (bridge wasmbox0, no name resolution, as Docker's docker0) is
 * made on first use; "host" and "none" are modes, listed but never stored.
 *
 * Daemonless: a container's attachment (its netns, its addresses, its endpoints) is made by
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
    int netns_fd;          /* open on the container's namespace (-1: none: host or none) */
    char netns_path[4200]; /* ROOT/netns/<id> */
    char *hosts;      /* /etc/hosts lines after localhost's: its addresses ("10.89.0.2\thostname"),
                       * --add-host entries; NULL: none */
    char *resolv;     /* /etc/resolv.conf text for it (NULL: the host's, filtered) */
    bool shares_host; /* --network container:X where X uses the host's network */
} wb_net_attachment;

/* Whether this NetworkMode needs an attachment (bridge or a network's name). */
bool wb_net_mode_attaches(const char *mode);

/* Attach the container (c->doc: HostConfig.NetworkMode, .PortBindings, .ExtraHosts, .Dns,
 * .DnsSearch, .DnsOptions, NetworkingConfig's endpoints: aliases and addresses) to its networks:
 * the netns made, an endpoint per network (eth0, eth1, ...; ports published on the first),
 * names registered; c->doc's NetworkSettings filled (not saved). "container:REF" joins that
 * running container's namespace ("cannot join network of a non running container: ID"). For
 * host/none only the hosts/resolv texts are filled. On failure everything made is undone. */
struct wb_container;
int wb_net_attach(struct wb_container *c, wb_net_attachment *a, wb_error *err);

/* Undo the attachment (endpoints torn down, addresses released, netns removed); safe to call
 * when there is none (a killed monitor's leftovers are found by the netns file). NetworkSettings
 * are cleared in c->doc (not saved). */
void wb_net_detach(struct wb_container *c);

/* network connect: record the endpoint in c->doc's NetworkingConfig and, when the container's
 * namespace is live, make it now (ethN). Docker's errors ("endpoint with name X already exists
 * in network N", "container sharing network namespace with another container or host cannot be
 * connected to any other network"). c->doc changed, not saved. */
int wb_net_connect(struct wb_container *c, const char *network, char *const *aliases,
                   size_t naliases, const char *ip, wb_error *err);

/* network disconnect: the endpoint undone when live, and forgotten ("container ID is not
 * connected to network N"). c->doc changed, not saved. */
int wb_net_disconnect(struct wb_container *c, const char *network, wb_error *err);

/* Whether attaching to `mode` (and the networks named in `endpoints`, EndpointsConfig's keys)
 * needs libnftables, which the static core cannot load: a network whose bridge is not up yet,
 * or ports to publish. Without, the attachment is netlink and files only. */
bool wb_net_needs_nft(const char *root, const char *mode, const json_t *endpoints, bool ports);

/* Whether undoing c's endpoints needs libnftables (published ports to unpublish). */
bool wb_net_teardown_needs_nft(const struct wb_container *c);

/* The host's resolv.conf for a container: as is for the host's network, else without loopback
 * name servers (unreachable from a namespace), Docker's fallbacks when none are left. */
char *wb_net_host_resolv(bool host_network);

void wb_net_attachment_release(wb_net_attachment *a);

/* Container IDs attached to the network `id` now (its address files). */
int wb_network_users(const char *root, const char *id, char ***ids, size_t *n);

#endif
