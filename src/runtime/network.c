/* Networks: records, address allocation, netns files and netavark (see network.h). */
#include "runtime/network.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fsutil.h"
#include "base/timeutil.h"
#include "runtime/aardvark.h"
#include "runtime/bridge.h"
#include "runtime/container.h"

#define DEFAULT_BRIDGE_NAME "wasmbox0"
#define HOST_DEFAULT_DIR    "/run/wasmbox/bridge" /* the default network, one per host */

/* ---- addresses ---- */

typedef struct subnet {
    uint32_t net; /* host order */
    int prefix;
} subnet;

static uint32_t mask_of(int prefix) {
    return prefix ? 0xffffffffu << (32 - prefix) : 0;
}

static bool parse_ip(const char *s, uint32_t *out) {
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1) return false;
    *out = ntohl(a.s_addr);
    return true;
}

static void ip_text(uint32_t ip, char out[16]) {
    struct in_addr a = {htonl(ip)};
    inet_ntop(AF_INET, &a, out, 16);
}

static bool parse_cidr(const char *s, subnet *out) {
    char buf[64];
    const char *slash = strchr(s, '/');
    if (!slash || (size_t)(slash - s) >= sizeof buf) return false;
    memcpy(buf, s, (size_t)(slash - s));
    buf[slash - s] = '\0';
    char *end;
    long p = strtol(slash + 1, &end, 10);
    if (*end || p < 8 || p > 30 || !parse_ip(buf, &out->net)) return false;
    out->prefix = (int)p;
    out->net &= mask_of(out->prefix);
    return true;
}

static bool overlaps(subnet a, subnet b) {
    int p = a.prefix < b.prefix ? a.prefix : b.prefix;
    return (a.net & mask_of(p)) == (b.net & mask_of(p));
}

/* ---- records ---- */

static int networks_dir(const char *root, char *buf, size_t size, wb_error *err) {
    return wb_path_join(buf, size, err, "%s/networks", root);
}

static json_t *read_record(const char *root, const char *id) {
    char path[4400];
    if (wb_path_join(path, sizeof path, NULL, "%s/networks/%s/network.json", root, id) < 0)
        return NULL;
    return json_load_file(path, 0, NULL);
}

static const char *str(const json_t *o, const char *key) {
    return json_string_value(json_object_get(o, key));
}

json_t *wb_network_list(const char *root, wb_error *err) {
    char dir[4200];
    if (networks_dir(root, dir, sizeof dir, err) < 0) return NULL;
    json_t *list = json_array();
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        json_t *r = read_record(root, e->d_name);
        /* (a store's own "bridge" record: an older wasmbox's, superseded by the host's) */
        if (r && !strcmp(str(r, "Name") ? str(r, "Name") : "", WB_NETWORK_DEFAULT))
            json_decref(r);
        else if (r)
            json_array_append_new(list, r);
    }
    if (d) closedir(d);
    json_t *dflt = json_load_file(HOST_DEFAULT_DIR "/network.json", 0, NULL);
    if (dflt) json_array_append_new(list, dflt);
    return list;
}

static int lock_networks(const char *root, wb_error *err) {
    char dir[4200], path[4300];
    if (networks_dir(root, dir, sizeof dir, err) < 0) return -1;
    if (wb_mkdir_p(dir, 0700, err) < 0) return -1;
    if (wb_path_join(path, sizeof path, err, "%s/.lock", dir) < 0) return -1;
    return wb_lock_file(path, err);
}

/* Subnets of the host's routes (the default route aside) and of the stored networks. */
static size_t used_subnets(const char *root, subnet *out, size_t max) {
    size_t n = 0;
    FILE *f = fopen("/proc/net/route", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        char ifname[64];
        unsigned dest, gw, flags, mask;
        if (sscanf(line, "%63s %x %x %x %*d %*d %*d %x", ifname, &dest, &gw, &flags, &mask) != 5)
            continue;
        if (mask == 0 || n >= max) continue;
        uint32_t m = ntohl(mask);
        int prefix = 0;
        while (prefix < 32 && (m & (0x80000000u >> prefix))) prefix++;
        out[n++] = (subnet){ntohl(dest) & m, prefix};
    }
    if (f) fclose(f);
    json_t *list = wb_network_list(root, NULL);
    size_t i;
    json_t *r;
    json_array_foreach(list, i, r) {
        json_t *cfg = json_array_get(json_object_get(json_object_get(r, "IPAM"), "Config"), 0);
        subnet s;
        if (n < max && str(cfg, "Subnet") && parse_cidr(str(cfg, "Subnet"), &s)) out[n++] = s;
    }
    json_decref(list);
    return n;
}

static bool subnet_free(subnet s, const subnet *used, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (overlaps(s, used[i])) return false;
    return true;
}

/* Docker's default pools: 172.17–31.0.0/16, then 192.168.N.0/20. */
static bool pick_subnet(const char *root, subnet *out) {
    subnet used[256];
    size_t n = used_subnets(root, used, 256);
    for (uint32_t b = 17; b <= 31; b++) {
        subnet s = {(172u << 24) | (b << 16), 16};
        if (subnet_free(s, used, n)) return *out = s, true;
    }
    for (uint32_t c = 0; c < 256; c += 16) {
        subnet s = {(192u << 24) | (168u << 16) | (c << 8), 20};
        if (subnet_free(s, used, n)) return *out = s, true;
    }
    return false;
}

static bool valid_name(const char *s) {
    if (!*s || strlen(s) > 128) return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              (p > s && (*p == '_' || *p == '.' || *p == '-'))))
            return false;
    return true;
}

static json_t *find_unlocked(const char *root, const char *name) {
    json_t *list = wb_network_list(root, NULL), *found = NULL;
    size_t i, prefix_hits = 0;
    json_t *r, *by_prefix = NULL;
    json_array_foreach(list, i, r) {
        const char *n = str(r, "Name"), *id = str(r, "Id");
        if ((n && !strcmp(n, name)) || (id && !strcmp(id, name))) found = r;
        if (id && *name && !strncmp(id, name, strlen(name))) {
            prefix_hits++;
            by_prefix = r;
        }
    }
    if (!found && prefix_hits == 1) found = by_prefix;
    if (found) json_incref(found);
    json_decref(list);
    return found;
}

static int create_locked(const char *root, const wb_network_opts *o, bool is_default, char id[65],
                         wb_error *err) {
    const char *driver = o->driver ? o->driver : "bridge";
    if (strcmp(driver, "bridge") != 0)
        return wb_error_set(err, ENOTSUP,
                            "plugin \"%s\" not found (wasmbox networks use the bridge driver)",
                            driver);
    if (!valid_name(o->name))
        return wb_error_set(err, EINVAL,
                            "invalid network name \"%s\": it must match [a-zA-Z0-9][a-zA-Z0-9_.-]*",
                            o->name);
    if (!strcmp(o->name, "host") || !strcmp(o->name, "none"))
        return wb_error_set(err, EPERM, "operation is not permitted on predefined %s network",
                            o->name);
    json_t *dup = find_unlocked(root, o->name);
    if (dup && !strcmp(str(dup, "Name"), o->name)) {
        json_decref(dup);
        return wb_error_set(err, EEXIST, "network with name %s already exists", o->name);
    }
    json_decref(dup);
    subnet s;
    if (o->subnet) {
        if (!parse_cidr(o->subnet, &s))
            return wb_error_set(err, EINVAL, "invalid subnet %s: want an IPv4 CIDR, /8 to /30",
                                o->subnet);
        json_t *list = wb_network_list(root, NULL);
        size_t i;
        json_t *r;
        bool clash = false;
        json_array_foreach(list, i, r) {
            json_t *cfg = json_array_get(json_object_get(json_object_get(r, "IPAM"), "Config"), 0);
            subnet t;
            if (str(cfg, "Subnet") && parse_cidr(str(cfg, "Subnet"), &t) && overlaps(s, t))
                clash = true;
        }
        json_decref(list);
        if (clash)
            return wb_error_set(err, EEXIST, "Pool overlaps with other one on this address space");
    } else if (!pick_subnet(root, &s)) {
        return wb_error_set(err, ENOSPC,
                            "could not find an available, non-overlapping IPv4 address pool "
                            "among the defaults to assign to the network");
    }
    uint32_t gw = s.net + 1;
    if (o->gateway &&
        (!parse_ip(o->gateway, &gw) || (gw & mask_of(s.prefix)) != s.net || gw == s.net))
        return wb_error_set(err, EINVAL, "invalid gateway %s for subnet", o->gateway);
    /* the ID: random, as Docker's */
    uint8_t rnd[32];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, rnd, sizeof rnd) != (ssize_t)sizeof rnd) {
        if (fd >= 0) close(fd);
        return wb_error_sys(err, "read /dev/urandom");
    }
    close(fd);
    for (int i = 0; i < 32; i++) snprintf(id + 2 * i, 3, "%02x", rnd[i]);
    char sub[32], gwt[16], net[16], now[64], bridge[16];
    ip_text(s.net, net);
    snprintf(sub, sizeof sub, "%s/%d", net, s.prefix);
    ip_text(gw, gwt);
    wb_time_now(now, sizeof now);
    /* wasmbox0 for the default network (one for the host); every other network its own
     * wb-<12 hex> */
    snprintf(bridge, sizeof bridge, "%s", is_default ? DEFAULT_BRIDGE_NAME : "wb-");
    if (!is_default) snprintf(bridge + 3, sizeof bridge - 3, "%.12s", id);
    json_t *labels = json_object(), *options = json_object();
    for (size_t i = 0; i < o->nlabels; i++) {
        const char *eq = strchr(o->labels[i], '=');
        char *k = wb_strndup(o->labels[i], eq ? (size_t)(eq - o->labels[i]) : strlen(o->labels[i]));
        json_object_set_new(labels, k, json_string(eq ? eq + 1 : ""));
        free(k);
    }
    for (size_t i = 0; i < o->noptions; i++) {
        const char *eq = strchr(o->options[i], '=');
        char *k =
            wb_strndup(o->options[i], eq ? (size_t)(eq - o->options[i]) : strlen(o->options[i]));
        json_object_set_new(options, k, json_string(eq ? eq + 1 : ""));
        free(k);
    }
    if (is_default) {
        json_object_set_new(options, "com.docker.network.bridge.default_bridge",
                            json_string("true"));
        json_object_set_new(options, "com.docker.network.bridge.enable_icc", json_string("true"));
        json_object_set_new(options, "com.docker.network.bridge.enable_ip_masquerade",
                            json_string("true"));
    }
    json_object_set_new(options, "com.docker.network.bridge.name", json_string(bridge));
    json_t *rec = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:n, s:[{s:s, s:s}]}, s:b, s:b, s:b, s:{s:s},"
        " s:b, s:{}, s:o, s:o}",
        "Name", o->name, "Id", id, "Created", now, "Scope", "local", "Driver", "bridge",
        "EnableIPv6", 0, "IPAM", "Driver", "default", "Options", "Config", "Subnet", sub, "Gateway",
        gwt, "Internal", o->internal, "Attachable", 0, "Ingress", 0, "ConfigFrom", "Network", "",
        "ConfigOnly", 0, "Containers", "Options", options, "Labels", labels);
    char dir[4400], path[4500];
    int rc = -1;
    char home[4300];
    if (is_default)
        snprintf(home, sizeof home, "%s", HOST_DEFAULT_DIR);
    else if (wb_path_join(home, sizeof home, err, "%s/networks/%s", root, id) < 0)
        home[0] = '\0';
    if (home[0] && wb_path_join(dir, sizeof dir, err, "%s/ips", home) == 0 &&
        wb_mkdir_p(dir, 0700, err) == 0 &&
        wb_path_join(path, sizeof path, err, "%s/network.json", home) == 0) {
        char *text = json_dumps(rec, JSON_INDENT(2));
        rc = wb_write_file_atomic(path, text, strlen(text), 0644, true, err);
        free(text);
    }
    json_decref(rec);
    return rc;
}

int wb_network_create(const char *root, const wb_network_opts *o, char id[65], wb_error *err) {
    if (!strcmp(o->name, WB_NETWORK_DEFAULT))
        return wb_error_set(err, EPERM, "operation is not permitted on predefined %s network",
                            o->name);
    int lk = lock_networks(root, err);
    if (lk < 0) return -1;
    int rc = create_locked(root, o, false, id, err);
    close(lk);
    return rc;
}

/* The host's default network (made on first use, under its own lock). */
static json_t *host_default(const char *root, wb_error *err) {
    json_t *r = json_load_file(HOST_DEFAULT_DIR "/network.json", 0, NULL);
    if (r) return r;
    if (wb_mkdir_p(HOST_DEFAULT_DIR, 0700, err) < 0) return NULL;
    int fd = wb_lock_file(HOST_DEFAULT_DIR "/.lock", err);
    if (fd < 0) return NULL;
    r = json_load_file(HOST_DEFAULT_DIR "/network.json", 0, NULL);
    char id[65];
    wb_network_opts o = {.name = WB_NETWORK_DEFAULT};
    if (!r && create_locked(root, &o, true, id, err) == 0)
        r = json_load_file(HOST_DEFAULT_DIR "/network.json", 0, NULL);
    close(fd);
    return r;
}

static bool is_host_default_id(const char *id) {
    json_t *r = json_load_file(HOST_DEFAULT_DIR "/network.json", 0, NULL);
    bool yes = r && id && str(r, "Id") && !strcmp(str(r, "Id"), id);
    json_decref(r);
    return yes;
}

/* Where a network's address files live: the host's for the default network (its bridge is
 * shared by every store root), else the store root's. */
static int ips_dir(const char *root, const char *id, char *buf, size_t size, wb_error *err) {
    if (is_host_default_id(id)) return wb_path_join(buf, size, err, "%s/ips", HOST_DEFAULT_DIR);
    return wb_path_join(buf, size, err, "%s/networks/%s/ips", root, id);
}

json_t *wb_network_find(const char *root, const char *name, wb_error *err) {
    if (!strcmp(name, WB_NETWORK_DEFAULT)) return host_default(root, err);
    json_t *r = find_unlocked(root, name);
    if (!r) {
        json_t *d = json_load_file(HOST_DEFAULT_DIR "/network.json", 0, NULL);
        if (d && *name && !strncmp(str(d, "Id"), name, strlen(name))) return d; /* by ID */
        json_decref(d);
        wb_error_set(err, ENOENT, "network %s not found", name);
    }
    return r;
}

int wb_network_users(const char *root, const char *id, char ***ids, size_t *n) {
    *ids = NULL;
    *n = 0;
    char dir[4400];
    if (ips_dir(root, id, dir, sizeof dir, NULL) < 0) return -1;
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    size_t cap = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4700];
        uint8_t *data;
        size_t len;
        if (wb_path_join(path, sizeof path, NULL, "%s/%s", dir, e->d_name) < 0 ||
            wb_read_file(path, 256, &data, &len, NULL) < 0)
            continue;
        WB_VEC_RESERVE(*ids, cap, *n + 1);
        (*ids)[(*n)++] = (char *)data;
    }
    closedir(d);
    return 0;
}

static void free_strings(char **v, size_t n) {
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* The network's bridge and rules (bridge.h), under the host-wide lock; with `if_unused` only
 * when no container holds an address on it (checked under that lock, which attaches take). */
static void network_down(const char *root, const json_t *r, bool if_unused) {
    json_t *cfg = json_array_get(json_object_get(json_object_get(r, "IPAM"), "Config"), 0);
    json_t *d =
        json_pack("{s:s, s:s, s:s, s:b}", "NetworkID", str(r, "Id"), "Bridge",
                  str(json_object_get(r, "Options"), "com.docker.network.bridge.name"), "Subnet",
                  str(cfg, "Subnet"), "Internal", json_is_true(json_object_get(r, "Internal")));
    int lk = wb_bridge_lock(NULL);
    size_t nu = 0;
    if (if_unused) {
        char **users;
        wb_network_users(root, str(r, "Id"), &users, &nu);
        free_strings(users, nu);
    }
    if (d && nu == 0) wb_bridge_network_down(d);
    wb_bridge_unlock(lk);
    json_decref(d);
}

static int remove_locked(const char *root, json_t *r, wb_error *err) {
    const char *id = str(r, "Id"), *name = str(r, "Name");
    char **users;
    size_t n;
    wb_network_users(root, id, &users, &n);
    free_strings(users, n);
    if (n)
        return wb_error_set(err, EBUSY,
                            "error while removing network: network %s id %s has active endpoints",
                            name, id);
    network_down(root, r, false);
    char dir[4400];
    if (wb_path_join(dir, sizeof dir, err, "%s/networks/%s", root, id) < 0) return -1;
    return wb_remove_tree(dir, err);
}

int wb_network_remove(const char *root, const char *name, wb_error *err) {
    if (!strcmp(name, "host") || !strcmp(name, "none") || !strcmp(name, WB_NETWORK_DEFAULT))
        return wb_error_set(err, EPERM, "%s is a pre-defined network and cannot be removed", name);
    int lk = lock_networks(root, err);
    if (lk < 0) return -1;
    json_t *r = find_unlocked(root, name);
    int rc =
        r ? remove_locked(root, r, err) : wb_error_set(err, ENOENT, "network %s not found", name);
    json_decref(r);
    close(lk);
    return rc;
}

int wb_network_prune(const char *root, char ***removed, size_t *n, wb_error *err) {
    *removed = NULL;
    *n = 0;
    int lk = lock_networks(root, err);
    if (lk < 0) return -1;
    json_t *list = wb_network_list(root, NULL);
    size_t i, cap = 0;
    json_t *r;
    json_array_foreach(list, i, r) {
        if (!strcmp(str(r, "Name"), WB_NETWORK_DEFAULT)) {
            /* the default network stays; its bridge goes when unused (made again on use) */
            network_down(root, r, true);
            continue;
        }
        if (remove_locked(root, r, NULL) == 0) {
            WB_VEC_RESERVE(*removed, cap, *n + 1);
            (*removed)[(*n)++] = wb_strdup(str(r, "Name"));
        }
    }
    json_decref(list);
    close(lk);
    return 0;
}

/* ---- addresses of a network ---- */

/* Take an address for the container: `want` (NULL: the first free one). */
static int take_ip(const char *root, const json_t *net, const char *want, const char *cid,
                   char out[16], wb_error *err) {
    json_t *cfg = json_array_get(json_object_get(json_object_get(net, "IPAM"), "Config"), 0);
    subnet s;
    uint32_t gw = 0;
    if (!str(cfg, "Subnet") || !parse_cidr(str(cfg, "Subnet"), &s))
        return wb_error_set(err, EINVAL, "network %s has no valid subnet", str(net, "Name"));
    if (str(cfg, "Gateway")) parse_ip(str(cfg, "Gateway"), &gw);
    uint32_t first = s.net + 1, last = (s.net | ~mask_of(s.prefix)) - 1;
    if (want) {
        uint32_t w;
        if (!parse_ip(want, &w) || w < first || w > last || w == gw)
            return wb_error_set(err, EINVAL,
                                "Address %s does not belong to any of the network's subnets (%s)",
                                want, str(cfg, "Subnet"));
        first = last = w;
    }
    char dir[4400];
    if (ips_dir(root, str(net, "Id"), dir, sizeof dir, err) < 0) return -1;
    for (uint32_t ip = first; ip <= last; ip++) {
        if (ip == gw) continue;
        char path[4500];
        ip_text(ip, out);
        if (wb_path_join(path, sizeof path, err, "%s/%s", dir, out) < 0) return -1;
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            if (errno == EEXIST) continue;
            return wb_error_sys(err, "take an address in `%s`", dir);
        }
        ssize_t w = write(fd, cid, strlen(cid));
        close(fd);
        if (w != (ssize_t)strlen(cid)) {
            unlink(path);
            return wb_error_sys(err, "record address %s", out);
        }
        return 0;
    }
    return wb_error_set(err, want ? EADDRINUSE : ENOSPC,
                        want ? "Address already in use"
                             : "no available IPv4 addresses on network %s",
                        str(net, "Name"));
}

static void release_ip(const char *root, const char *net_id, const char *ip, const char *cid) {
    char dir[4400], path[4500];
    if (ips_dir(root, net_id, dir, sizeof dir, NULL) < 0 ||
        wb_path_join(path, sizeof path, NULL, "%s/%s", dir, ip) < 0)
        return;
    uint8_t *data;
    size_t len;
    if (wb_read_file(path, 256, &data, &len, NULL) < 0) return;
    if (len == strlen(cid) && !memcmp(data, cid, len)) unlink(path); /* only its own */
    free(data);
}

/* ---- the container's network namespace ---- */

static int netns_create(const char *path, wb_error *err) {
    int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return wb_error_sys(err, "create `%s`", path);
    close(fd);
    pid_t pid = fork();
    if (pid < 0) {
        unlink(path);
        return wb_error_sys(err, "fork");
    }
    if (pid == 0) {
        if (unshare(CLONE_NEWNET) != 0) _exit(1);
        if (mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) != 0) _exit(2);
        _exit(0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        unlink(path);
        return wb_error_set(err, EPERM, "create the container's network namespace (%s)",
                            WIFEXITED(status) && WEXITSTATUS(status) == 1
                                ? "unshare refused: needs root"
                                : "bind mount refused");
    }
    return 0;
}

static void netns_remove(const char *path) {
    umount2(path, MNT_DETACH);
    unlink(path);
}

/* ---- a container's endpoints ---- */

bool wb_net_mode_attaches(const char *mode) {
    return mode && *mode && strcmp(mode, "host") && strcmp(mode, "none") &&
           strncmp(mode, "container:", 10);
}

/* "8080/tcp" → port 8080, protocol tcp. */
static bool parse_port_key(const char *key, int *port, char proto[8]) {
    char *end;
    long p = strtol(key, &end, 10);
    if (p <= 0 || p > 65535) return false;
    *port = (int)p;
    snprintf(proto, 8, "%s", *end == '/' ? end + 1 : "tcp");
    return true;
}

/* Can a host process bind this TCP/UDP port (on any address)? */
static bool port_bindable(const char *proto, int port) {
    int udp = !strcmp(proto, "udp");
    int fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* The host port for "-p 80" (HostPort empty), as Docker picks it: the lowest port of the local
 * port range (/proc/sys/net/ipv4/ip_local_port_range, 32768-60999 by default) that no published
 * element holds (`taken`: nft's listing, plus the ports this call picked before) and no host
 * process has bound; 0 when there is none. */
static int pick_host_port(const char *proto, const char *taken) {
    int lo = 32768, hi = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
    if (f) {
        if (fscanf(f, "%d %d", &lo, &hi) != 2 || lo < 1 || hi > 65535 || lo > hi)
            lo = 32768, hi = 60999;
        fclose(f);
    }
    for (int p = lo; p <= hi; p++) {
        char elem[48];
        snprintf(elem, sizeof elem, "%s . %d :", proto, p);
        if (!strstr(taken, elem) && port_bindable(proto, p)) return p;
    }
    return 0;
}

void wb_net_attachment_release(wb_net_attachment *a) {
    if (a->netns_fd >= 0) close(a->netns_fd);
    free(a->hosts);
    free(a->resolv);
    memset(a, 0, sizeof *a);
    a->netns_fd = -1;
}

static int netns_path(const struct wb_container *c, char *buf, size_t size, wb_error *err) {
    return wb_path_join(buf, size, err, "%s/netns/%s", c->root, c->id);
}

/* The container's saved endpoints, ROOT/containers/<id>/network.json: {"Endpoints": {name:
 * endpoint}} in the order they were made (bridge.h describes an endpoint). */
static json_t *state_load(const struct wb_container *c) {
    char path[4300];
    if (wb_path_join(path, sizeof path, NULL, "%s/network.json", c->dir) < 0) return NULL;
    json_t *st = json_load_file(path, 0, NULL);
    if (!json_is_object(json_object_get(st, "Endpoints"))) {
        json_decref(st);
        return NULL;
    }
    return st;
}

static int state_save(const struct wb_container *c, const json_t *st, wb_error *err) {
    char path[4300];
    if (wb_path_join(path, sizeof path, err, "%s/network.json", c->dir) < 0) return -1;
    char *text = json_dumps(st, JSON_COMPACT | JSON_PRESERVE_ORDER);
    int rc = wb_write_file_atomic(path, text, strlen(text), 0600, false, err);
    free(text);
    return rc;
}

static void state_remove(const struct wb_container *c) {
    char path[4300];
    if (wb_path_join(path, sizeof path, NULL, "%s/network.json", c->dir) < 0) return;
    unlink(path);
}

/* HostConfig.PortBindings with "-p 80"'s host port picked now and HostIp filled, as Docker
 * shows them; new reference, NULL with err when the published ports cannot be listed. */
static json_t *resolved_bindings(const json_t *host, wb_error *err) {
    /* ports published now are DNAT'ed, not bound: nothing but the table says they are taken,
     * so "-p 80" skips the ones in it (read once, under the lock the caller holds) */
    char *published = NULL;
    json_t *bindings = json_deep_copy(json_object_get(host, "PortBindings"));
    if (!bindings) bindings = json_object();
    const char *key;
    json_t *list;
    json_object_foreach(bindings, key, list) {
        size_t i;
        json_t *b;
        int cport;
        char proto[8];
        if (!parse_port_key(key, &cport, proto)) continue;
        json_array_foreach(list, i, b) {
            const char *hp = str(b, "HostPort");
            if (!hp || !*hp) {
                char port[16];
                if (!published && !(published = wb_bridge_published(err))) {
                    json_decref(bindings);
                    return NULL;
                }
                int hport = pick_host_port(proto, published);
                if (!hport) {
                    wb_error_set(err, EADDRINUSE, "no free host port left for %s", key);
                    free(published);
                    json_decref(bindings);
                    return NULL;
                }
                /* taken from now on for the other bindings of this container */
                char elem[48];
                int n = snprintf(elem, sizeof elem, " %s . %d :", proto, hport);
                size_t len = strlen(published);
                published = wb_realloc(published, len + (size_t)n + 1);
                memcpy(published + len, elem, (size_t)n + 1);
                snprintf(port, sizeof port, "%d", hport);
                json_object_set_new(b, "HostPort", json_string(port));
            }
            if (!str(b, "HostIp") || !*str(b, "HostIp"))
                json_object_set_new(b, "HostIp", json_string("0.0.0.0"));
        }
    }
    free(published);
    return bindings;
}

/* The bindings as the driver's list [{Proto, HostIp, HostPort, Port}]. */
static json_t *ports_list(const json_t *bindings) {
    json_t *out = json_array();
    const char *key;
    json_t *list;
    json_object_foreach((json_t *)bindings, key, list) {
        int cport;
        char proto[8];
        if (!parse_port_key(key, &cport, proto)) continue;
        size_t i;
        json_t *b;
        json_array_foreach(list, i, b) {
            json_array_append_new(out, json_pack("{s:s, s:s, s:i, s:i}", "Proto", proto, "HostIp",
                                                 str(b, "HostIp"), "HostPort",
                                                 atoi(str(b, "HostPort")), "Port", cport));
        }
    }
    return out;
}

static bool is_default_network(const json_t *net) {
    return !strcmp(str(net, "Name"), WB_NETWORK_DEFAULT);
}

/* Make one endpoint: its address taken, the kernel's side up (network.h's driver), its names
 * registered; the endpoint's description, or NULL with everything undone. */
static json_t *endpoint_up(struct wb_container *c, const json_t *net, const json_t *epcfg,
                           int index, const json_t *bindings, int netns_fd, wb_error *err) {
    const char *want = str(json_object_get(epcfg, "IPAMConfig"), "IPv4Address");
    char ip[16];
    if (take_ip(c->root, net, want && *want ? want : NULL, c->id, ip, err) < 0) return NULL;
    json_t *cfg = json_array_get(json_object_get(json_object_get(net, "IPAM"), "Config"), 0);
    subnet s;
    parse_cidr(str(cfg, "Subnet"), &s);
    char mac[18], ifname[16], veth[16], shortid[13];
    wb_bridge_mac(ip, mac);
    snprintf(ifname, sizeof ifname, "eth%d", index);
    snprintf(veth, sizeof veth, "wb%.9s_%d", c->id, index);
    snprintf(shortid, sizeof shortid, "%.12s", c->id);
    json_t *aliases = json_array();
    json_array_append_new(aliases, json_string(c->name));
    size_t i;
    json_t *al;
    json_array_foreach(json_object_get(epcfg, "Aliases"), i, al) {
        if (json_is_string(al) && strcmp(json_string_value(al), c->name) != 0)
            json_array_append(aliases, al);
    }
    json_array_append_new(aliases, json_string(shortid));
    bool dns = !is_default_network(net);
    json_t *ep =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:b, s:o, s:o, s:b}",
                  "NetworkID", str(net, "Id"), "NetworkName", str(net, "Name"), "Bridge",
                  str(json_object_get(net, "Options"), "com.docker.network.bridge.name"), "Subnet",
                  str(cfg, "Subnet"), "Gateway", str(cfg, "Gateway"), "IPAddress", ip,
                  "IPPrefixLen", s.prefix, "MacAddress", mac, "Interface", ifname, "Veth", veth,
                  "Internal", json_is_true(json_object_get(net, "Internal")), "Ports",
                  bindings ? ports_list(bindings) : json_array(), "Aliases", aliases, "DNS", dns);
    /* an internal network has no way out: no default route through it (as Docker) */
    bool route = index == 0 && !json_is_true(json_object_get(net, "Internal"));
    if (wb_bridge_endpoint_up(ep, netns_fd, route, err) < 0) {
        release_ip(c->root, str(net, "Id"), ip, c->id);
        json_decref(ep);
        return NULL;
    }
    if (dns) {
        size_t n = json_array_size(aliases);
        char **names = wb_calloc(n + 1, sizeof *names);
        for (i = 0; i < n; i++) names[i] = (char *)json_string_value(json_array_get(aliases, i));
        int rc =
            wb_dns_add(c->root, str(net, "Name"), str(cfg, "Gateway"), c->id, ip, names, n, err);
        free(names);
        if (rc < 0) {
            release_ip(c->root, str(net, "Id"), ip, c->id);
            wb_bridge_endpoint_down(ep, true);
            json_decref(ep);
            return NULL;
        }
    }
    return ep;
}

/* Undo one endpoint (with the lock held): names, address, rules, and the veth when the
 * namespace stays (disconnect; else it goes with the namespace). */
static void endpoint_down(const struct wb_container *c, const json_t *ep, bool delete_veth) {
    if (json_is_true(json_object_get(ep, "DNS")))
        wb_dns_remove(c->root, str(ep, "NetworkName"), c->id);
    release_ip(c->root, str(ep, "NetworkID"), str(ep, "IPAddress"), c->id);
    wb_bridge_endpoint_down(ep, delete_veth);
}

/* Docker's NetworkSettings.Networks entry for an endpoint. */
static json_t *endpoint_settings(const json_t *ep, const struct wb_container *c) {
    return json_pack(
        "{s:n, s:n, s:O, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:i, s:s}", "IPAMConfig", "Links",
        "Aliases", json_object_get(ep, "Aliases"), "NetworkID", str(ep, "NetworkID"), "EndpointID",
        c->id, "Gateway", str(ep, "Gateway"), "IPAddress", str(ep, "IPAddress"), "IPPrefixLen",
        json_integer_value(json_object_get(ep, "IPPrefixLen")), "IPv6Gateway", "",
        "GlobalIPv6Address", "", "GlobalIPv6PrefixLen", 0, "MacAddress", str(ep, "MacAddress"));
}

/* The host's resolv.conf for a container with a network of its own: loopback name servers are
 * unreachable from there and are dropped; none left, Docker's fallbacks. */
char *wb_net_host_resolv(bool host_network) {
    uint8_t *data = NULL;
    size_t len = 0;
    if (wb_read_file("/etc/resolv.conf", 1 << 20, &data, &len, NULL) < 0) {
        data = (uint8_t *)wb_strdup("");
        len = 0;
    }
    if (host_network) return (char *)data;
    size_t cap = len + 64;
    char *out = wb_malloc(cap), *save = NULL;
    size_t n = 0;
    bool servers = false;
    for (char *line = strtok_r((char *)data, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char addr[64];
        if (sscanf(line, " nameserver %63s", addr) == 1) {
            if (!strncmp(addr, "127.", 4) || !strcmp(addr, "::1")) continue;
            servers = true;
        }
        n += (size_t)snprintf(out + n, cap - n, "%s\n", line);
    }
    if (!servers) {
        static const char fallback[] = "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";
        out = wb_realloc(out, n + sizeof fallback);
        memcpy(out + n, fallback, sizeof fallback);
        n += sizeof fallback - 1;
    }
    out[n] = '\0';
    free(data);
    return out;
}

/* /etc/hosts lines (its addresses, --add-host) and resolv.conf (the network's DNS server,
 * --dns, --dns-search, --dns-option) from the endpoints and HostConfig. */
static void etc_texts(const struct wb_container *c, const json_t *eps, wb_net_attachment *a) {
    const json_t *host = json_object_get(c->doc, "HostConfig");
    const char *hostname = str(json_object_get(c->doc, "Config"), "Hostname");
    char shortid[13];
    snprintf(shortid, sizeof shortid, "%.12s", c->id);
    if (!hostname || !*hostname) hostname = shortid;
    size_t hl = 0, rl = 0;
    const char *name, *gw = NULL, *nameserver = NULL, *mode = str(host, "NetworkMode");
    json_t *ep;
    /* no address of its own: its name on 127.0.1.1 before the --add-host lines (the host's
     * network: the host's file instead) */
    if (!json_object_size(eps) && json_array_size(json_object_get(host, "ExtraHosts")) &&
        !(mode && !strcmp(mode, "host")))
        wb_appendf(&a->hosts, &hl, "127.0.1.1\t%s\n", hostname);
    json_object_foreach((json_t *)eps, name, ep) {
        wb_appendf(&a->hosts, &hl, "%s\t%s\n", str(ep, "IPAddress"), hostname);
        if (!gw) gw = str(ep, "Gateway");
        if (!nameserver && json_is_true(json_object_get(ep, "DNS")))
            nameserver = str(ep, "Gateway");
    }
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(host, "ExtraHosts"), i, h) {
        const char *e = json_string_value(h), *colon = e ? strrchr(e, ':') : NULL;
        if (!colon) continue;
        /* "name:ip"; IPv6 addresses hold colons too: the name ends at the first one */
        colon = strchr(e, ':');
        const char *addr = colon + 1;
        if (!strcmp(addr, "host-gateway")) addr = gw ? gw : "127.0.0.1";
        wb_appendf(&a->hosts, &hl, "%s\t%.*s\n", addr, (int)(colon - e), e);
    }
    const json_t *dns = json_object_get(host, "Dns"), *search = json_object_get(host, "DnsSearch"),
                 *opts = json_object_get(host, "DnsOptions");
    if (!nameserver && !json_array_size(dns) && !json_array_size(search) && !json_array_size(opts))
        return; /* the host's resolv.conf, filtered, as today */
    if (json_array_size(search)) {
        wb_appendf(&a->resolv, &rl, "search");
        json_array_foreach(search, i, h) wb_appendf(&a->resolv, &rl, " %s", json_string_value(h));
        wb_appendf(&a->resolv, &rl, "\n");
    }
    if (nameserver) wb_appendf(&a->resolv, &rl, "nameserver %s\n", nameserver);
    json_array_foreach(dns, i, h)
        wb_appendf(&a->resolv, &rl, "nameserver %s\n", json_string_value(h));
    if (!nameserver && !json_array_size(dns)) { /* the host's servers with --dns-search */
        char *hr = wb_net_host_resolv(false), *save = NULL;
        for (char *line = strtok_r(hr, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
            if (!strncmp(line, "nameserver", 10)) wb_appendf(&a->resolv, &rl, "%s\n", line);
        free(hr);
    }
    if (json_array_size(opts)) {
        wb_appendf(&a->resolv, &rl, "options");
        json_array_foreach(opts, i, h) wb_appendf(&a->resolv, &rl, " %s", json_string_value(h));
        wb_appendf(&a->resolv, &rl, "\n");
    }
}

/* --network container:REF: the other container's namespace, hosts and resolv.conf. */
static int join_container(struct wb_container *c, const char *ref, wb_net_attachment *a,
                          wb_error *err) {
    struct wb_container *other;
    if (wb_container_open(c->root, ref, &other, err) < 0) return -1;
    int rc = -1;
    json_t *state = json_object_get(other->doc, "State");
    int pid = (int)json_integer_value(json_object_get(state, "Pid"));
    if (!json_is_true(json_object_get(state, "Running")) || pid <= 0) {
        wb_error_set(err, EINVAL, "cannot join network of a non running container: %s", other->id);
        goto out;
    }
    const char *mode = str(json_object_get(other->doc, "HostConfig"), "NetworkMode");
    char path[4200];
    if (netns_path(other, path, sizeof path, err) < 0) goto out;
    a->netns_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (a->netns_fd < 0 && wb_container_is_linux(other) && (!mode || strcmp(mode, "host") != 0)) {
        snprintf(path, sizeof path, "/proc/%d/ns/net", pid);
        a->netns_fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (a->netns_fd < 0 && !(mode && !strcmp(mode, "host"))) {
        wb_error_sys(err, "join the network of container %s", other->id);
        goto out;
    }
    a->shares_host = a->netns_fd < 0; /* the other runs in the host's network */
    uint8_t *data;
    size_t len;
    if (wb_path_join(path, sizeof path, NULL, "%s/resolv.conf", other->dir) == 0 &&
        wb_read_file(path, 1 << 20, &data, &len, NULL) == 0)
        a->resolv = (char *)data;
    rc = 0;
out:
    wb_container_free(other);
    return rc;
}

/* The networks a container joins: NetworkMode first, then the other EndpointsConfig names. */
static json_t *network_names(const struct wb_container *c, const char *mode) {
    json_t *names = json_array();
    json_array_append_new(names, json_string(mode));
    const char *name;
    json_t *v;
    json_object_foreach(
        json_object_get(json_object_get(c->doc, "NetworkingConfig"), "EndpointsConfig"), name, v) {
        if (strcmp(name, mode) != 0) json_array_append_new(names, json_string(name));
    }
    return names;
}

static const json_t *endpoint_config(const struct wb_container *c, const char *name) {
    return json_object_get(
        json_object_get(json_object_get(c->doc, "NetworkingConfig"), "EndpointsConfig"), name);
}

/* c->doc's NetworkSettings from the endpoints (Docker's shape). */
static void set_settings(struct wb_container *c, const json_t *eps, const json_t *bindings,
                         const char *sandbox) {
    json_t *portmap = json_object();
    const char *key;
    json_t *v;
    if (bindings) json_object_foreach((json_t *)bindings, key, v) json_object_set(portmap, key, v);
    json_object_foreach(json_object_get(json_object_get(c->doc, "Config"), "ExposedPorts"), key,
                        v) {
        if (!json_object_get(portmap, key)) json_object_set_new(portmap, key, json_null());
    }
    json_t *nets = json_object();
    const json_t *dflt = json_object_get(eps, WB_NETWORK_DEFAULT);
    json_object_foreach((json_t *)eps, key, v)
        json_object_set_new(nets, key, endpoint_settings(v, c));
    json_t *ns = json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:I, s:s, s:o}", "Bridge", "",
                           "SandboxID", c->id, "Ports", portmap, "SandboxKey", sandbox, "Gateway",
                           dflt ? str(dflt, "Gateway") : "", "IPAddress",
                           dflt ? str(dflt, "IPAddress") : "", "IPPrefixLen",
                           dflt ? json_integer_value(json_object_get(dflt, "IPPrefixLen")) : 0,
                           "MacAddress", dflt ? str(dflt, "MacAddress") : "", "Networks", nets);
    json_object_set_new(c->doc, "NetworkSettings", ns);
}

/* Undo the endpoints in st (the lock held), newest first. */
static void endpoints_down(const struct wb_container *c, json_t *st) {
    json_t *eps = json_object_get(st, "Endpoints");
    const char *keys[64];
    size_t n = 0;
    const char *name;
    json_t *ep;
    json_object_foreach(eps, name, ep) if (n < 64) keys[n++] = name;
    while (n--) endpoint_down(c, json_object_get(eps, keys[n]), false);
}

int wb_net_attach(struct wb_container *c, wb_net_attachment *a, wb_error *err) {
    memset(a, 0, sizeof *a);
    a->netns_fd = -1;
    json_t *host = json_object_get(c->doc, "HostConfig");
    const char *mode = str(host, "NetworkMode");
    if (mode && !strncmp(mode, "container:", 10)) return join_container(c, mode + 10, a, err);
    if (!wb_net_mode_attaches(mode)) {
        json_t *none = json_object();
        etc_texts(c, none, a);
        json_decref(none);
        return 0;
    }
    wb_net_detach(c); /* what a killed monitor left */
    char dir[4200];
    if (wb_path_join(dir, sizeof dir, err, "%s/netns", c->root) < 0 ||
        wb_mkdir_p(dir, 0700, err) < 0 ||
        netns_path(c, a->netns_path, sizeof a->netns_path, err) < 0 ||
        netns_create(a->netns_path, err) < 0)
        return -1;
    a->netns_fd = open(a->netns_path, O_RDONLY | O_CLOEXEC);
    if (a->netns_fd < 0) {
        wb_error_sys(err, "open `%s`", a->netns_path);
        netns_remove(a->netns_path);
        return -1;
    }
    json_t *names = network_names(c, mode), *bindings = NULL;
    json_t *st = json_pack("{s:{}}", "Endpoints"), *eps = json_object_get(st, "Endpoints");
    int rc = -1;
    int lk = wb_bridge_lock(err);
    if (lk < 0) goto out;
    bindings = resolved_bindings(host, err);
    if (!bindings) {
        wb_bridge_unlock(lk);
        goto out;
    }
    size_t i;
    json_t *nv;
    json_array_foreach(names, i, nv) {
        const char *name = json_string_value(nv);
        json_t *net = wb_network_find(c->root, name, err);
        if (!net) break;
        json_t *ep = endpoint_up(c, net, endpoint_config(c, name), (int)i, i == 0 ? bindings : NULL,
                                 a->netns_fd, err);
        json_decref(net);
        if (!ep) break;
        json_object_set_new(eps, name, ep);
        if (state_save(c, st, err) < 0) break;
    }
    if (json_object_size(eps) != json_array_size(names)) {
        endpoints_down(c, st);
        state_remove(c);
        wb_bridge_unlock(lk);
        goto out;
    }
    wb_bridge_unlock(lk);
    etc_texts(c, eps, a);
    set_settings(c, eps, bindings, a->netns_path);
    rc = 0;
out:
    json_decref(names);
    json_decref(bindings);
    json_decref(st);
    if (rc < 0) {
        if (a->netns_fd >= 0) close(a->netns_fd);
        a->netns_fd = -1;
        netns_remove(a->netns_path);
        wb_net_attachment_release(a);
    }
    return rc;
}

void wb_net_detach(struct wb_container *c) {
    /* nothing was attached for host/container: (no syscalls on `run --rm`'s path); "none" may
     * be a container disconnected from its last network while running */
    const char *mode = str(json_object_get(c->doc, "HostConfig"), "NetworkMode");
    bool none = mode && !strcmp(mode, "none");
    if (!wb_net_mode_attaches(mode) && !none) return;
    char path[4200];
    if (netns_path(c, path, sizeof path, NULL) < 0) return;
    struct stat sb;
    bool have_ns = stat(path, &sb) == 0;
    if (none && !have_ns) return;
    json_t *st = state_load(c);
    if (st) {
        int lk = wb_bridge_lock(NULL);
        endpoints_down(c, st);
        wb_bridge_unlock(lk);
        json_decref(st);
        state_remove(c);
    }
    if (have_ns) netns_remove(path);
    /* the etc files made for it (made again at each start): a Wasm container's directory is
     * then clean enough to be kept as a spare */
    static const char *const etc[] = {"hosts", "resolv.conf", "hostname"};
    for (size_t i = 0; i < 3; i++) {
        char f[4300];
        if (wb_path_join(f, sizeof f, NULL, "%s/%s", c->dir, etc[i]) == 0) unlink(f);
    }
    json_t *ns = json_object_get(c->doc, "NetworkSettings");
    if (json_is_object(ns)) {
        json_object_set_new(ns, "Networks", json_object());
        json_object_set_new(ns, "Ports", json_object());
        json_object_set_new(ns, "SandboxKey", json_string(""));
        json_object_set_new(ns, "IPAddress", json_string(""));
    }
}

bool wb_net_needs_nft(const char *root, const char *mode, const json_t *endpoints, bool ports) {
    if (!wb_net_mode_attaches(mode)) return false;
    if (ports) return true;
    json_t *names = json_array();
    json_array_append_new(names, json_string(mode));
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)endpoints, key, v) json_array_append_new(names, json_string(key));
    bool need = false;
    size_t i;
    json_array_foreach(names, i, v) {
        json_t *net = wb_network_find(root, json_string_value(v), NULL);
        const char *br = str(json_object_get(net, "Options"), "com.docker.network.bridge.name");
        /* (no record: the attach fails with its own message, no matter which binary) */
        if (net && (!br || !if_nametoindex(br))) need = true;
        json_decref(net);
    }
    json_decref(names);
    return need;
}

bool wb_net_teardown_needs_nft(const struct wb_container *c) {
    json_t *st = state_load(c);
    const char *key;
    json_t *ep;
    bool need = false;
    json_object_foreach(json_object_get(st, "Endpoints"), key, ep) {
        if (json_array_size(json_object_get(ep, "Ports"))) need = true;
    }
    json_decref(st);
    return need;
}

/* ---- connect and disconnect ---- */

/* Whether the container's endpoints are live now (its namespace exists). */
static bool attached_now(const struct wb_container *c) {
    char path[4200];
    struct stat sb;
    return netns_path(c, path, sizeof path, NULL) == 0 && stat(path, &sb) == 0;
}

int wb_net_connect(struct wb_container *c, const char *name, char *const *aliases, size_t naliases,
                   const char *ip, wb_error *err) {
    json_t *host = json_object_get(c->doc, "HostConfig");
    const char *mode = str(host, "NetworkMode");
    if (!wb_net_mode_attaches(mode))
        return wb_error_set(err, EINVAL,
                            "container sharing network namespace with another container or host "
                            "cannot be connected to any other network");
    json_t *net = wb_network_find(c->root, name, err);
    if (!net) return -1;
    const char *nname = str(net, "Name");
    json_t *nc = json_object_get(c->doc, "NetworkingConfig");
    if (!json_is_object(nc)) {
        nc = json_object();
        json_object_set_new(c->doc, "NetworkingConfig", nc);
    }
    json_t *epc = json_object_get(nc, "EndpointsConfig");
    if (!json_is_object(epc)) {
        epc = json_object();
        json_object_set_new(nc, "EndpointsConfig", epc);
    }
    if (!strcmp(mode, nname) || json_object_get(epc, nname)) {
        int rc = wb_error_set(err, EEXIST, "endpoint with name %s already exists in network %s",
                              c->name, nname);
        json_decref(net);
        return rc;
    }
    json_t *cfg = json_object(), *al = json_array();
    for (size_t i = 0; i < naliases; i++) json_array_append_new(al, json_string(aliases[i]));
    json_object_set_new(cfg, "Aliases", al);
    json_object_set_new(cfg, "IPAMConfig",
                        ip ? json_pack("{s:s}", "IPv4Address", ip) : json_null());
    int rc = 0;
    if (attached_now(c)) {
        char path[4200];
        json_t *st = state_load(c);
        int fd = -1, lk = -1;
        if (!st) st = json_pack("{s:{}}", "Endpoints");
        json_t *eps = json_object_get(st, "Endpoints");
        rc = -1;
        if (netns_path(c, path, sizeof path, err) == 0 &&
            (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0 && (lk = wb_bridge_lock(err)) >= 0) {
            json_t *ep = endpoint_up(c, net, cfg, (int)json_object_size(eps), NULL, fd, err);
            if (ep) {
                json_object_set_new(eps, nname, ep);
                if (state_save(c, st, err) == 0) rc = 0;
                json_t *ns = json_object_get(c->doc, "NetworkSettings");
                json_t *nets = json_object_get(ns, "Networks");
                if (json_is_object(nets))
                    json_object_set_new(nets, nname, endpoint_settings(ep, c));
            }
        } else if (fd < 0 && lk < 0) {
            wb_error_sys(err, "open `%s`", path);
        }
        wb_bridge_unlock(lk);
        if (fd >= 0) close(fd);
        json_decref(st);
    }
    if (rc == 0) json_object_set(epc, nname, cfg);
    json_decref(cfg);
    json_decref(net);
    return rc;
}

int wb_net_disconnect(struct wb_container *c, const char *name, wb_error *err) {
    json_t *net = wb_network_find(c->root, name, err);
    if (!net) return -1;
    char nname[256];
    snprintf(nname, sizeof nname, "%s", str(net, "Name"));
    json_decref(net);
    json_t *host = json_object_get(c->doc, "HostConfig");
    const char *mode = str(host, "NetworkMode");
    json_t *epc = json_object_get(json_object_get(c->doc, "NetworkingConfig"), "EndpointsConfig");
    if (!(mode && !strcmp(mode, nname)) && !json_object_get(epc, nname))
        return wb_error_set(err, ENOENT, "container %s is not connected to network %s", c->id,
                            nname);
    if (attached_now(c)) {
        json_t *st = state_load(c);
        json_t *ep = json_object_get(json_object_get(st, "Endpoints"), nname);
        if (ep) {
            int lk = wb_bridge_lock(err);
            if (lk < 0) {
                json_decref(st);
                return -1;
            }
            endpoint_down(c, ep, true);
            json_object_del(json_object_get(st, "Endpoints"), nname);
            state_save(c, st, NULL);
            wb_bridge_unlock(lk);
        }
        json_decref(st);
        json_object_del(json_object_get(json_object_get(c->doc, "NetworkSettings"), "Networks"),
                        nname);
    }
    json_object_del(epc, nname);
    if (mode && !strcmp(mode, nname)) {
        /* the primary network gone: the next one takes its place (none when it was the last) */
        const char *next = NULL, *key;
        json_t *v;
        json_object_foreach(epc, key, v) if (!next) next = key;
        json_object_set_new(host, "NetworkMode", json_string(next ? next : "none"));
    }
    return 0;
}
