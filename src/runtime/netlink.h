/* runtime/netlink.h — the few rtnetlink requests a bridge network needs: a bridge with its
 * gateway address, a veth pair whose far end is the container's eth0 (address, MAC, default
 * route, lo up — all inside the container's namespace), and removing links.
 *
 * Every call opens its own NETLINK_ROUTE socket and waits for the kernel's acknowledgement, so
 * the kernel's own errno comes back (EEXIST, ENODEV, EPERM) with a message naming the request.
 * Addresses are IPv4, in host byte order. No state is kept between calls. */
#ifndef WB_RUNTIME_NETLINK_H
#define WB_RUNTIME_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

/* Make bridge `name` (kept if it exists) with address gw/prefix, and bring it up. */
int wb_nl_bridge_up(const char *name, uint32_t gw, int prefix, wb_error *err);

/* A veth pair: `host_name` on the host, attached to `bridge` and up; its peer moved into the
 * namespace `netns_fd`, renamed `ifname` (e.g. "eth0"), given `mac` (6 bytes), ip/prefix, brought
 * up, with a default route through gw when `default_route` (the first network of a container);
 * lo is brought up there too. A stale `host_name` (a killed container's) is replaced. */
typedef struct wb_nl_veth {
    const char *host_name;
    const char *bridge;
    int netns_fd;
    const char *ifname;
    uint8_t mac[6];
    uint32_t ip, gw;
    int prefix;
    bool default_route;
} wb_nl_veth;
int wb_nl_veth_add(const wb_nl_veth *v, wb_error *err);

/* Remove link `name` in the host's namespace (a veth's peer goes with it); a missing link is
 * not an error. */
int wb_nl_link_del(const char *name, wb_error *err);

/* Whether link `name` exists in the host's namespace. */
bool wb_nl_link_exists(const char *name);

#endif
