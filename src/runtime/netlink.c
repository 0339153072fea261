/* rtnetlink requests for bridge networks (see netlink.h). */
#include "runtime/netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One request being built: the header, its fixed part and attributes, nests by offset. */
typedef struct nlreq {
    union {
        struct nlmsghdr h;
        char buf[2048];
    };
    bool overflow;
} nlreq;

static void *req_init(nlreq *r, int type, int flags, size_t fixed) {
    memset(r, 0, sizeof *r);
    r->h.nlmsg_type = (uint16_t)type;
    r->h.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
    r->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(fixed);
    return NLMSG_DATA(&r->h);
}

static struct rtattr *put(nlreq *r, int type, const void *data, size_t len) {
    size_t at = NLMSG_ALIGN(r->h.nlmsg_len), need = RTA_LENGTH(len);
    if (at + RTA_ALIGN(need) > sizeof r->buf) {
        r->overflow = true;
        return NULL;
    }
    struct rtattr *a = (struct rtattr *)(r->buf + at);
    a->rta_type = (unsigned short)type;
    a->rta_len = (unsigned short)need;
    if (len) memcpy(RTA_DATA(a), data, len);
    r->h.nlmsg_len = (uint32_t)(at + RTA_ALIGN(need));
    return a;
}

static void put_u32(nlreq *r, int type, uint32_t v) {
    put(r, type, &v, sizeof v);
}

static void put_str(nlreq *r, int type, const char *s) {
    put(r, type, s, strlen(s) + 1);
}

static size_t nest_begin(nlreq *r, int type) {
    size_t at = NLMSG_ALIGN(r->h.nlmsg_len);
    put(r, type, NULL, 0);
    return at;
}

static void nest_end(nlreq *r, size_t at) {
    if (r->overflow) return;
    ((struct rtattr *)(r->buf + at))->rta_len = (unsigned short)(r->h.nlmsg_len - at);
}

/* Send the request on a fresh socket of the current namespace; 0 or -errno from the ack. */
static int talk(nlreq *r) {
    if (r->overflow) return -EMSGSIZE;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return -errno;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    r->h.nlmsg_seq = 1;
    int rc = -EIO;
    if (sendto(fd, r->buf, r->h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
        rc = -errno;
        goto out;
    }
    for (;;) {
        char reply[8192];
        ssize_t n = recv(fd, reply, sizeof reply, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            rc = -errno;
            goto out;
        }
        for (struct nlmsghdr *h = (struct nlmsghdr *)reply; NLMSG_OK(h, (size_t)n);
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(h);
                rc = e->error;
                goto out;
            }
        }
    }
out:
    close(fd);
    return rc;
}

static int fail(wb_error *err, int rc, const char *what, const char *name) {
    return wb_error_set(err, -rc, "netlink: %s %s: %s", what, name, strerror(-rc));
}

static int link_set_up(const char *name, wb_error *err) {
    nlreq r;
    struct ifinfomsg *ifi = req_init(&r, RTM_NEWLINK, 0, sizeof *ifi);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = (int)if_nametoindex(name);
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
    if (!ifi->ifi_index) return fail(err, -ENODEV, "bring up", name);
    int rc = talk(&r);
    return rc ? fail(err, rc, "bring up", name) : 0;
}

static int addr_add(const char *name, uint32_t ip, int prefix, wb_error *err) {
    nlreq r;
    struct ifaddrmsg *ifa = req_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof *ifa);
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = (unsigned char)prefix;
    ifa->ifa_index = if_nametoindex(name);
    if (!ifa->ifa_index) return fail(err, -ENODEV, "add an address to", name);
    uint32_t be = htonl(ip), bcast = htonl(ip | (prefix ? ~(0xffffffffu << (32 - prefix)) : ~0u));
    put(&r, IFA_LOCAL, &be, 4);
    put(&r, IFA_ADDRESS, &be, 4);
    put(&r, IFA_BROADCAST, &bcast, 4);
    int rc = talk(&r);
    return rc && rc != -EEXIST ? fail(err, rc, "add an address to", name) : 0;
}

static int route_default(const char *name, uint32_t gw, wb_error *err) {
    nlreq r;
    struct rtmsg *rt = req_init(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof *rt);
    rt->rtm_family = AF_INET;
    rt->rtm_table = RT_TABLE_MAIN;
    rt->rtm_protocol = RTPROT_BOOT;
    rt->rtm_scope = RT_SCOPE_UNIVERSE;
    rt->rtm_type = RTN_UNICAST;
    uint32_t be = htonl(gw), oif = if_nametoindex(name);
    put(&r, RTA_GATEWAY, &be, 4);
    put_u32(&r, RTA_OIF, oif);
    int rc = talk(&r);
    return rc && rc != -EEXIST ? fail(err, rc, "add the default route on", name) : 0;
}

int wb_nl_bridge_up(const char *name, uint32_t gw, int prefix, wb_error *err) {
    nlreq r;
    struct ifinfomsg *ifi = req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof *ifi);
    ifi->ifi_family = AF_UNSPEC;
    put_str(&r, IFLA_IFNAME, name);
    size_t li = nest_begin(&r, IFLA_LINKINFO);
    put_str(&r, IFLA_INFO_KIND, "bridge");
    nest_end(&r, li);
    int rc = talk(&r);
    if (rc && rc != -EEXIST) return fail(err, rc, "create bridge", name);
    if (addr_add(name, gw, prefix, err) < 0) return -1;
    return link_set_up(name, err);
}

int wb_nl_link_del(const char *name, wb_error *err) {
    nlreq r;
    struct ifinfomsg *ifi = req_init(&r, RTM_DELLINK, 0, sizeof *ifi);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = (int)if_nametoindex(name);
    if (!ifi->ifi_index) return 0;
    int rc = talk(&r);
    return rc && rc != -ENODEV ? fail(err, rc, "delete link", name) : 0;
}

bool wb_nl_link_exists(const char *name) {
    return if_nametoindex(name) != 0;
}

/* Run the in-namespace half on this thread inside `netns_fd`, then come back. */
static int in_netns(const wb_nl_veth *v, wb_error *err) {
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0) return wb_error_sys(err, "open this thread's network namespace");
    if (setns(v->netns_fd, CLONE_NEWNET) != 0) {
        close(self);
        return wb_error_sys(err, "enter the container's network namespace");
    }
    int rc = link_set_up("lo", err);
    if (rc == 0) rc = addr_add(v->ifname, v->ip, v->prefix, err);
    if (rc == 0) rc = link_set_up(v->ifname, err);
    if (rc == 0 && v->default_route) rc = route_default(v->ifname, v->gw, err);
    if (setns(self, CLONE_NEWNET) != 0) rc = wb_error_sys(err, "return to the host's namespace");
    close(self);
    return rc;
}

int wb_nl_veth_add(const wb_nl_veth *v, wb_error *err) {
    uint32_t master = if_nametoindex(v->bridge);
    if (!master) return fail(err, -ENODEV, "find bridge", v->bridge);
    for (int attempt = 0; attempt < 2; attempt++) {
        nlreq r;
        struct ifinfomsg *ifi = req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof *ifi);
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_flags = IFF_UP;
        ifi->ifi_change = IFF_UP;
        put_str(&r, IFLA_IFNAME, v->host_name);
        put_u32(&r, IFLA_MASTER, master);
        size_t li = nest_begin(&r, IFLA_LINKINFO);
        put_str(&r, IFLA_INFO_KIND, "veth");
        size_t data = nest_begin(&r, IFLA_INFO_DATA);
        size_t peer = nest_begin(&r, VETH_INFO_PEER);
        struct ifinfomsg pi = {.ifi_family = AF_UNSPEC};
        /* the peer's own ifinfomsg, then its attributes */
        size_t at = NLMSG_ALIGN(r.h.nlmsg_len);
        if (at + NLMSG_ALIGN(sizeof pi) <= sizeof r.buf) {
            memcpy(r.buf + at, &pi, sizeof pi);
            r.h.nlmsg_len = (uint32_t)(at + NLMSG_ALIGN(sizeof pi));
        } else {
            r.overflow = true;
        }
        put_str(&r, IFLA_IFNAME, v->ifname);
        put_u32(&r, IFLA_NET_NS_FD, (uint32_t)v->netns_fd);
        put(&r, IFLA_ADDRESS, v->mac, 6);
        nest_end(&r, peer);
        nest_end(&r, data);
        nest_end(&r, li);
        int rc = talk(&r);
        if (rc == -EEXIST && attempt == 0) { /* a killed container's leftover */
            if (wb_nl_link_del(v->host_name, err) < 0) return -1;
            continue;
        }
        if (rc) return fail(err, rc, "create veth", v->host_name);
        break;
    }
    if (in_netns(v, err) < 0) {
        wb_nl_link_del(v->host_name, NULL);
        return -1;
    }
    return 0;
}
