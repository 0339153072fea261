/* runtime/bridge.h — the bridge driver: what one container's endpoint on a bridge network needs
 * in the kernel, made with our own rtnetlink requests (netlink.h) and one nftables batch
 * (nft.h), and undone the same way.
 *
 * The firewall is one table, `ip wasmbox`, shared by every store root:
 *   ifaces / internal_ifaces   sets of our bridges (isolation: no forwarding between two of them
 *                              unless DNAT'ed to a published port; internal: no way out)
 *   ports_any / ports_ip       published ports: proto . port (or host ip . proto . port) →
 *                              container ip . port, DNAT'ed from prerouting and output for local
 *                              destinations (the host's addresses and 127.0.0.1)
 *   nat_by_net / forward_by_if per network chains (masquerade out of the subnet, hairpin;
 *                              forwarding rules), jumped to through verdict maps
 * A network's chains are made with its bridge and removed with it; a container adds and removes
 * only map elements, so a run costs one small batch. Table and chains are changed under one
 * host-wide lock (/run/wasmbox-net.lock), which also orders bridge creation and removal.
 *
 * An endpoint is described by a JSON object (the container's saved network state), keys:
 *   NetworkID, Bridge, Subnet ("a.b.c.d/n"), Gateway, IPAddress, IPPrefixLen, MacAddress,
 *   Interface ("eth0"), Veth (host side), Internal (bool), Ports [{Proto, HostIp, HostPort,
 *   Port}] with HostIp "0.0.0.0" for every host address. */
#ifndef WB_RUNTIME_BRIDGE_H
#define WB_RUNTIME_BRIDGE_H

#include <jansson.h>
#include <stdbool.h>

#include "base/error.h"

/* Take the host-wide network lock (blocking); returns its fd for wb_bridge_unlock. */
int wb_bridge_lock(wb_error *err);
void wb_bridge_unlock(int fd);

/* With the lock held: the network's bridge and chains (made when missing), the veth into
 * `netns_fd`, its address and routes (a default route when `default_route`), the published
 * ports' map elements. On failure what this call made is undone. */
int wb_bridge_endpoint_up(const json_t *ep, int netns_fd, bool default_route, wb_error *err);

/* With the lock held: the endpoint's map elements removed, and its veth when `delete_veth`
 * (without, the veth goes with the container's namespace: the kernel's deletion then happens
 * after the last reference, off the caller's path — an explicit delete costs ~15 ms here).
 * Best effort: every step is tried, missing pieces are not errors. */
void wb_bridge_endpoint_down(const json_t *ep, bool delete_veth);

/* With the lock held: the network's bridge and chains (and the table with our last bridge).
 * A bridge lives as long as its network, as Docker's: `network rm` and `prune` call this.
 * `ep` needs NetworkID, Bridge, Subnet, Internal. Best effort. */
void wb_bridge_network_down(const json_t *ep);

/* The published ports' map elements as nft lists them ("tcp . 8080 : 10.0.0.2 . 80"), to keep
 * "-p 80" off ports taken (malloc'd; "" when there are none, or no table yet); NULL with err when
 * nft cannot list them. With the lock held. */
char *wb_bridge_published(wb_error *err);

/* A MAC address for ip, as Docker makes them (02:42 then the four address bytes). */
void wb_bridge_mac(const char *ip, char out[18]);

#endif
