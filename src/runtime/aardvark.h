/* runtime/aardvark.h — names on user-defined networks, served by Podman's aardvark-dns.
 *
 * One aardvark-dns per store root, with its configuration directory ROOT/networks/.aardvark:
 * a file per network named after it, whose first line is the address aardvark listens on (the
 * network's gateway, port 53) and whose other lines are "ID IPV4 IPV6 NAME,NAME,..." (aardvark
 * 1.4's format, as netavark writes it). Changes are written atomically and announced with
 * SIGHUP; the server is started when the first entry appears and stopped with the last.
 * Callers hold the host-wide network lock (bridge.h). */
#ifndef WB_RUNTIME_AARDVARK_H
#define WB_RUNTIME_AARDVARK_H

#include <stddef.h>

#include "base/error.h"

/* Add (or replace) container `cid`'s entry on network `net` (listening on `gateway`): address
 * `ip` and names (container name, aliases, short ID). */
int wb_dns_add(const char *root, const char *net, const char *gateway, const char *cid,
               const char *ip, char *const *names, size_t nnames, wb_error *err);

/* Remove `cid`'s entry from network `net`; the file goes with its last entry. Best effort. */
void wb_dns_remove(const char *root, const char *net, const char *cid);

#endif
