/* The bridge driver: links, addresses and the `ip wasmbox` nftables table (see bridge.h). */
#include "runtime/bridge.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fsutil.h"
#include "runtime/netlink.h"
#include "runtime/nft.h"

#define LOCK_PATH "/run/wasmbox-net.lock"
#define TABLE     "ip wasmbox"

/* The table's fixed part, made once (under the lock) when the table is missing. */
static const char base_table[] =
    "table " TABLE " {\n"
    "  set ifaces { type ifname; }\n"
    "  set internal_ifaces { type ifname; }\n"
    "  map ports_any { type inet_proto . inet_service : ipv4_addr . inet_service; }\n"
    "  map ports_ip { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }\n"
    "  map nat_by_net { type ipv4_addr : verdict; flags interval; }\n"
    "  map forward_by_if { type ifname : verdict; }\n"
    "  chain published {\n"
    "    dnat ip to ip daddr . meta l4proto . th dport map @ports_ip\n"
    "    dnat ip to meta l4proto . th dport map @ports_any\n"
    "  }\n"
    "  chain prerouting { type nat hook prerouting priority dstnat; policy accept;\n"
    "    fib daddr type local jump published\n"
    "  }\n"
    "  chain output { type nat hook output priority -100; policy accept;\n"
    "    fib daddr type local jump published\n"
    "  }\n"
    "  chain postrouting { type nat hook postrouting priority srcnat; policy accept;\n"
    "    ip saddr 127.0.0.0/8 oifname @ifaces ct status dnat masquerade\n"
    "    ip saddr vmap @nat_by_net\n"
    "  }\n"
    "  chain forward { type filter hook forward priority filter; policy accept;\n"
    "    oifname @internal_ifaces iifname != @internal_ifaces ct status != dnat drop\n"
    "    iifname vmap @forward_by_if\n"
    "  }\n"
    "}\n";

int wb_bridge_lock(wb_error *err) {
    return wb_lock_file(LOCK_PATH, err);
}

void wb_bridge_unlock(int fd) {
    if (fd >= 0) close(fd);
}

static const char *str(const json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

void wb_bridge_mac(const char *ip, char out[18]) {
    struct in_addr a = {0};
    inet_pton(AF_INET, ip, &a);
    const uint8_t *b = (const uint8_t *)&a.s_addr;
    snprintf(out, 18, "02:42:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3]);
}

static bool parse_mac(const char *s, uint8_t mac[6]) {
    unsigned v[6];
    if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) return false;
    for (int i = 0; i < 6; i++) mac[i] = (uint8_t)v[i];
    return true;
}

static uint32_t ip_of(const char *s) {
    struct in_addr a = {0};
    inet_pton(AF_INET, s, &a);
    return ntohl(a.s_addr);
}

static void sysctl_set(const char *path, const char *value) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t w = write(fd, value, strlen(value));
    (void)w;
    close(fd);
}

/* A batch of nft commands being written (wb_appendf). */
typedef struct cmds {
    char *buf;
    size_t len;
} cmds;

#define add(c, ...) wb_appendf(&(c)->buf, &(c)->len, __VA_ARGS__)

static int ensure_table(wb_error *err) {
    char *out = NULL;
    if (wb_nft_query("list table " TABLE "\n", &out, NULL) == 0) {
        free(out);
        return 0;
    }
    return wb_nft_run(base_table, err);
}

/* nft's short tag for a network: the first 12 hex of its ID. */
static void tag_of(const json_t *ep, char tag[13]) {
    snprintf(tag, 13, "%.12s", str(ep, "NetworkID"));
}

static void network_chains(cmds *c, const json_t *ep) {
    char tag[13];
    tag_of(ep, tag);
    const char *br = str(ep, "Bridge");
    bool internal = json_is_true(json_object_get(ep, "Internal"));
    add(c, "add chain " TABLE " nat_%s\nflush chain " TABLE " nat_%s\n", tag, tag);
    if (!internal) add(c, "add rule " TABLE " nat_%s oifname != \"%s\" masquerade\n", tag, br);
    /* hairpin: a container reaching a published port of its own network */
    add(c, "add rule " TABLE " nat_%s ct status dnat masquerade\n", tag);
    add(c, "add chain " TABLE " fwd_%s\nflush chain " TABLE " fwd_%s\n", tag, tag);
    add(c, "add rule " TABLE " fwd_%s oifname \"%s\" accept\n", tag, br);
    add(c, "add rule " TABLE " fwd_%s ct status dnat accept\n", tag);
    add(c, "add rule " TABLE " fwd_%s %s drop\n", tag, internal ? "" : "oifname @ifaces");
    add(c, "add element " TABLE " ifaces { \"%s\" }\n", br);
    if (internal) add(c, "add element " TABLE " internal_ifaces { \"%s\" }\n", br);
    add(c, "add element " TABLE " nat_by_net { %s : jump nat_%s }\n", str(ep, "Subnet"), tag);
    add(c, "add element " TABLE " forward_by_if { \"%s\" : jump fwd_%s }\n", br, tag);
}

/* The endpoint's published ports as map elements; `verb` is create or delete. */
static void port_elements(cmds *c, const json_t *ep, const char *verb) {
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(ep, "Ports"), i, p) {
        const char *hip = str(p, "HostIp");
        long hport = (long)json_integer_value(json_object_get(p, "HostPort"));
        long port = (long)json_integer_value(json_object_get(p, "Port"));
        const char *proto = str(p, "Proto");
        if (!*hip || !strcmp(hip, "0.0.0.0"))
            add(c, "%s element " TABLE " ports_any { %s . %ld : %s . %ld }\n", verb, proto, hport,
                str(ep, "IPAddress"), port);
        else
            add(c, "%s element " TABLE " ports_ip { %s . %s . %ld : %s . %ld }\n", verb, hip, proto,
                hport, str(ep, "IPAddress"), port);
    }
}

/* A host port taken by a host process (Docker's proxy would fail to bind it). */
static int probe_ports(const json_t *ep, wb_error *err) {
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(ep, "Ports"), i, p) {
        const char *hip = str(p, "HostIp"), *proto = str(p, "Proto");
        int hport = (int)json_integer_value(json_object_get(p, "HostPort"));
        bool udp = !strcmp(proto, "udp");
        int fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
        if (fd < 0) continue;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)hport)};
        a.sin_addr.s_addr = *hip ? htonl(ip_of(hip)) : INADDR_ANY;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        int rc = bind(fd, (struct sockaddr *)&a, sizeof a);
        int e = errno;
        close(fd);
        if (rc != 0 && e == EADDRINUSE)
            return wb_error_set(err, EADDRINUSE,
                                "Error starting userland proxy: listen %s4 %s:%d: bind: address "
                                "already in use",
                                proto, *hip ? hip : "0.0.0.0", hport);
    }
    return 0;
}

int wb_bridge_endpoint_up(const json_t *ep, int netns_fd, bool default_route, wb_error *err) {
    const char *br = str(ep, "Bridge");
    int prefix = (int)json_integer_value(json_object_get(ep, "IPPrefixLen"));
    bool made_bridge = false;
    if (!wb_nl_link_exists(br)) {
        if (ensure_table(err) < 0) return -1;
        if (wb_nl_bridge_up(br, ip_of(str(ep, "Gateway")), prefix, err) < 0) return -1;
        char path[128];
        /* (br, an interface's name, is at most 15 bytes: it fits) */
        if (wb_path_join(path, sizeof path, NULL, "/proc/sys/net/ipv4/conf/%s/route_localnet",
                         br) == 0)
            sysctl_set(path, "1");
        sysctl_set("/proc/sys/net/ipv4/ip_forward", "1");
        /* a stale element for this subnet (a network removed without its rules, or a store
         * root removed by hand) would make the batch fail: gone first */
        cmds c = {0};
        add(&c, "delete element " TABLE " nat_by_net { %s }\n", str(ep, "Subnet"));
        wb_nft_run(c.buf, NULL);
        c.len = 0;
        network_chains(&c, ep);
        int rc = wb_nft_run(c.buf, err);
        free(c.buf);
        if (rc < 0) {
            if (strstr(err->msg, "File exists"))
                wb_error_set(err, EEXIST,
                             "network subnet %s overlaps a subnet of another store root's network",
                             str(ep, "Subnet"));
            wb_nl_link_del(br, NULL);
            return -1;
        }
        made_bridge = true;
    }
    wb_nl_veth v = {.host_name = str(ep, "Veth"),
                    .bridge = br,
                    .netns_fd = netns_fd,
                    .ifname = str(ep, "Interface"),
                    .ip = ip_of(str(ep, "IPAddress")),
                    .gw = ip_of(str(ep, "Gateway")),
                    .prefix = prefix,
                    .default_route = default_route};
    if (!parse_mac(str(ep, "MacAddress"), v.mac))
        return wb_error_set(err, EINVAL, "bad MAC address %s", str(ep, "MacAddress"));
    if (probe_ports(ep, err) < 0 || wb_nl_veth_add(&v, err) < 0) goto fail;
    if (json_array_size(json_object_get(ep, "Ports"))) {
        cmds c = {0};
        port_elements(&c, ep, "create");
        int rc = wb_nft_run(c.buf, err);
        free(c.buf);
        if (rc < 0) {
            wb_nl_link_del(v.host_name, NULL);
            if (strstr(err->msg, "File exists")) {
                json_t *p = json_array_get(json_object_get(ep, "Ports"), 0);
                const char *hip = str(p, "HostIp");
                wb_error_set(err, EADDRINUSE, "Bind for %s:%lld failed: port is already allocated",
                             *hip ? hip : "0.0.0.0",
                             (long long)json_integer_value(json_object_get(p, "HostPort")));
            }
            goto fail;
        }
    }
    return 0;
fail:
    if (made_bridge) wb_bridge_network_down(ep);
    return -1;
}

char *wb_bridge_published(wb_error *err) {
    /* one map a query: nftables 1.0.6 refuses a batch of two `list map` commands ("No such file
     * or directory" for the first), which once left this empty, and "-p 80" blind to the ports
     * already published (two of fifty containers could get one port) */
    static const char *const maps[] = {"ports_any", "ports_ip"};
    size_t len = 0;
    char *all = wb_strdup("");
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) {
        char cmd[96], *out = NULL;
        wb_error e;
        snprintf(cmd, sizeof cmd, "list map " TABLE " %s\n", maps[i]);
        if (wb_nft_query(cmd, &out, &e) < 0) {
            if (strstr(e.msg, "No such file or directory")) continue; /* no table yet */
            free(all);
            if (err) *err = e;
            return NULL;
        }
        size_t n = strlen(out);
        all = wb_realloc(all, len + n + 1);
        memcpy(all + len, out, n + 1);
        len += n;
        free(out);
    }
    return all;
}

/* Run a batch; when it fails (a piece already gone), run its commands one by one. */
static void run_best_effort(const char *batch) {
    if (wb_nft_run(batch, NULL) == 0) return;
    char *copy = wb_strdup(batch), *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        wb_nft_run(line, NULL);
    free(copy);
}

void wb_bridge_endpoint_down(const json_t *ep, bool delete_veth) {
    cmds c = {0};
    port_elements(&c, ep, "delete");
    if (c.len) run_best_effort(c.buf);
    free(c.buf);
    if (delete_veth) wb_nl_link_del(str(ep, "Veth"), NULL);
}

void wb_bridge_network_down(const json_t *ep) {
    cmds c = {0};
    bool live = wb_nl_link_exists(str(ep, "Bridge"));
    {
        char tag[13];
        tag_of(ep, tag);
        const char *br = str(ep, "Bridge");
        add(&c, "delete element " TABLE " forward_by_if { \"%s\" }\n", br);
        add(&c, "delete element " TABLE " nat_by_net { %s }\n", str(ep, "Subnet"));
        add(&c, "delete element " TABLE " ifaces { \"%s\" }\n", br);
        if (json_is_true(json_object_get(ep, "Internal")))
            add(&c, "delete element " TABLE " internal_ifaces { \"%s\" }\n", br);
        add(&c, "flush chain " TABLE " nat_%s\ndelete chain " TABLE " nat_%s\n", tag, tag);
        add(&c, "flush chain " TABLE " fwd_%s\ndelete chain " TABLE " fwd_%s\n", tag, tag);
        if (live)
            run_best_effort(c.buf);
        else
            wb_nft_run(c.buf, NULL); /* never set up, or already gone: one try */
        wb_nl_link_del(br, NULL);
        /* the last of our bridges gone: the table goes too */
        char *out = NULL;
        if (wb_nft_query("list set " TABLE " ifaces\n", &out, NULL) == 0 &&
            !strstr(out, "elements"))
            wb_nft_run("delete table " TABLE "\n", NULL);
        free(out);
    }
    free(c.buf);
}
