/* Networks: records, address allocation, netns files and netavark (see network.h). */
#include "runtime/network.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fsutil.h"
#include "base/timeutil.h"
#include "oci/digest.h"
#include "runtime/container.h"

#define NETAVARK_DEFAULT    "/usr/lib/podman/netavark"
#define AARDVARK_DEFAULT    "/usr/lib/podman/aardvark-dns"
#define DEFAULT_BRIDGE_NAME "wasmbox0"

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
        if (r) json_array_append_new(list, r);
    }
    if (d) closedir(d);
    return list;
}

static int lock_networks(const char *root, wb_error *err) {
    char dir[4200], path[4300];
    if (networks_dir(root, dir, sizeof dir, err) < 0) return -1;
    if (wb_mkdir_p(dir, 0700, err) < 0) return -1;
    snprintf(path, sizeof path, "%s/.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return wb_error_sys(err, "open `%s`", path);
    if (flock(fd, LOCK_EX) != 0) {
        close(fd);
        return wb_error_sys(err, "lock `%s`", path);
    }
    return fd;
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
    /* wasmbox0 for the default store's default network; every other network (and the default
     * network of another store root: tests, --root) gets its own wb-<12 hex> */
    bool named = is_default && !strcmp(root, "/var/lib/wasmbox");
    snprintf(bridge, sizeof bridge, "%s", named ? DEFAULT_BRIDGE_NAME : "wb-");
    if (!named) snprintf(bridge + 3, sizeof bridge - 3, "%.12s", id);
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
    if (wb_path_join(dir, sizeof dir, err, "%s/networks/%s/ips", root, id) == 0 &&
        wb_mkdir_p(dir, 0700, err) == 0 &&
        wb_path_join(path, sizeof path, err, "%s/networks/%s/network.json", root, id) == 0) {
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

json_t *wb_network_find(const char *root, const char *name, wb_error *err) {
    json_t *r = find_unlocked(root, name);
    if (r || strcmp(name, WB_NETWORK_DEFAULT) != 0) {
        if (!r) wb_error_set(err, ENOENT, "network %s not found", name);
        return r;
    }
    int lk = lock_networks(root, err); /* the default bridge, made on first use */
    if (lk < 0) return NULL;
    r = find_unlocked(root, name);
    char id[65];
    wb_network_opts o = {.name = WB_NETWORK_DEFAULT};
    if (!r && create_locked(root, &o, true, id, err) == 0) r = find_unlocked(root, name);
    close(lk);
    return r;
}

int wb_network_users(const char *root, const char *id, char ***ids, size_t *n) {
    *ids = NULL;
    *n = 0;
    char dir[4400];
    if (wb_path_join(dir, sizeof dir, NULL, "%s/networks/%s/ips", root, id) < 0) return -1;
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    size_t cap = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4700];
        uint8_t *data;
        size_t len;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (wb_read_file(path, 256, &data, &len, NULL) < 0) continue;
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
        if (!strcmp(str(r, "Name"), WB_NETWORK_DEFAULT)) continue;
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
    if (wb_path_join(dir, sizeof dir, err, "%s/networks/%s/ips", root, str(net, "Id")) < 0)
        return -1;
    for (uint32_t ip = first; ip <= last; ip++) {
        if (ip == gw) continue;
        char path[4500];
        ip_text(ip, out);
        snprintf(path, sizeof path, "%s/%s", dir, out);
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
    char path[4500];
    if (wb_path_join(path, sizeof path, NULL, "%s/networks/%s/ips/%s", root, net_id, ip) < 0)
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

/* ---- netavark ---- */

static const char *tool(const char *env, const char *dflt) {
    const char *v = getenv(env);
    return v && *v ? v : dflt;
}

/* Run netavark CMD on the netns with the JSON config on stdin; its stdout into *out (may be
 * NULL). Errors carry netavark's own message. */
static int netavark(const char *root, const char *cmd, const char *netns, const char *config,
                    char **out, wb_error *err) {
    char cfgdir[4200];
    if (wb_path_join(cfgdir, sizeof cfgdir, err, "%s/networks/.netavark", root) < 0) return -1;
    if (wb_mkdir_p(cfgdir, 0700, err) < 0) return -1;
    const char *bin = tool("WASMBOX_NETAVARK", NETAVARK_DEFAULT);
    if (access(bin, X_OK) != 0)
        return wb_error_set(err, ENOENT,
                            "networks need netavark (%s not found; apt-get install netavark "
                            "aardvark-dns)",
                            bin);
    int in[2], o[2], e[2];
    if (pipe2(in, O_CLOEXEC) != 0) return wb_error_sys(err, "pipe");
    if (pipe2(o, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return wb_error_sys(err, "pipe");
    }
    if (pipe2(e, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        close(o[0]);
        close(o[1]);
        return wb_error_sys(err, "pipe");
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(o[1], 1);
        dup2(e[1], 2);
        execl(bin, bin, "--config", cfgdir, "-a", tool("WASMBOX_AARDVARK", AARDVARK_DEFAULT), cmd,
              netns, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(o[1]);
    close(e[1]);
    if (pid < 0) {
        close(in[1]);
        close(o[0]);
        close(e[0]);
        return wb_error_sys(err, "fork");
    }
    size_t clen = strlen(config);
    ssize_t w = write(in[1], config, clen); /* a pipe holds it: configs are small */
    close(in[1]);
    char obuf[65536], ebuf[4096];
    size_t on = 0, en = 0;
    ssize_t k;
    while ((k = read(o[0], obuf + on, sizeof obuf - 1 - on)) > 0) on += (size_t)k;
    while ((k = read(e[0], ebuf + en, sizeof ebuf - 1 - en)) > 0) en += (size_t)k;
    close(o[0]);
    close(e[0]);
    obuf[on] = ebuf[en] = '\0';
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (w != (ssize_t)clen || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        /* netavark's error is a JSON object {"error": "..."} on stdout, or text on stderr */
        json_t *j = json_loads(obuf, 0, NULL);
        const char *msg = str(j, "error");
        char line[512];
        snprintf(line, sizeof line, "%.500s", msg ? msg : en ? ebuf : obuf);
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        json_decref(j);
        return wb_error_set(err, EIO, "netavark %s: %s", cmd, line[0] ? line : "failed");
    }
    if (out) *out = wb_strdup(obuf);
    return 0;
}

bool wb_net_mode_attaches(const char *mode) {
    return mode && *mode && strcmp(mode, "host") && strcmp(mode, "none") &&
           strncmp(mode, "container:", 10);
}

/* netavark's description of a network (its "network_info" entry). */
static json_t *netavark_network(const json_t *r) {
    json_t *cfg = json_array_get(json_object_get(json_object_get(r, "IPAM"), "Config"), 0);
    bool dflt = !strcmp(str(r, "Name"), WB_NETWORK_DEFAULT);
    /* isolate: no traffic between two bridge networks, as Docker's DOCKER-ISOLATION rules */
    return json_pack("{s:b, s:s, s:s, s:b, s:b, s:s, s:s, s:[{s:s, s:s}], s:{s:s}}", "dns_enabled",
                     !dflt, "driver", "bridge", "id", str(r, "Id"), "internal",
                     json_is_true(json_object_get(r, "Internal")), "ipv6_enabled", 0, "name",
                     str(r, "Name"), "network_interface",
                     str(json_object_get(r, "Options"), "com.docker.network.bridge.name"),
                     "subnets", "subnet", str(cfg, "Subnet"), "gateway", str(cfg, "Gateway"),
                     "options", "isolate", "true");
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

/* netavark's port_mappings from HostConfig.PortBindings {"80/tcp": [{"HostIp", "HostPort"}]}. */
static json_t *port_mappings(const json_t *bindings) {
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
            const char *hp = str(b, "HostPort"), *hip = str(b, "HostIp");
            int hport = hp && *hp ? atoi(hp) : 0;
            json_array_append_new(out, json_pack("{s:i, s:s, s:i, s:s, s:i}", "container_port",
                                                 cport, "host_ip", hip ? hip : "", "host_port",
                                                 hport, "protocol", proto, "range", 1));
        }
    }
    return out;
}

/* A free TCP/UDP port on the host for "-p 80" (HostPort empty): bound and released. */
static int ephemeral_port(const char *proto) {
    int udp = !strcmp(proto, "udp");
    int fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof a;
    int port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* The container's network config for netavark (one network, interface eth0). */
static json_t *container_config(struct wb_container *c, json_t *net, const char *ip,
                                json_t *aliases, json_t *ports) {
    json_t *per = json_pack("{s:s, s:[s], s:O}", "interface_name", "eth0", "static_ips", ip,
                            "aliases", aliases);
    return json_pack("{s:s, s:s, s:{s:o}, s:{s:o}, s:O}", "container_id", c->id, "container_name",
                     c->name, "networks", str(net, "Name"), per, "network_info", str(net, "Name"),
                     netavark_network(net), "port_mappings", ports);
}

void wb_net_attachment_release(wb_net_attachment *a) {
    if (a->netns_fd >= 0) close(a->netns_fd);
    free(a->hosts);
    free(a->resolv);
    free_strings(a->dns_servers, a->ndns_servers);
    free_strings(a->search, a->nsearch);
    memset(a, 0, sizeof *a);
    a->netns_fd = -1;
}

static int netns_path(const struct wb_container *c, char *buf, size_t size, wb_error *err) {
    return wb_path_join(buf, size, err, "%s/netns/%s", c->root, c->id);
}

int wb_net_attach(struct wb_container *c, wb_net_attachment *a, wb_error *err) {
    memset(a, 0, sizeof *a);
    a->netns_fd = -1;
    json_t *host = json_object_get(c->doc, "HostConfig");
    const char *mode = str(host, "NetworkMode");
    if (!wb_net_mode_attaches(mode)) return 0;
    wb_net_detach(c); /* what a killed monitor left */
    json_t *net = wb_network_find(c->root, mode, err);
    if (!net) return -1;
    char dir[4200];
    int rc = -1;
    char ip[16] = "";
    char *out = NULL;
    json_t *conf = NULL, *res = NULL;
    const json_t *ep = json_object_get(
        json_object_get(json_object_get(c->doc, "NetworkingConfig"), "EndpointsConfig"), mode);
    const char *want = str(json_object_get(ep, "IPAMConfig"), "IPv4Address");
    if (wb_path_join(dir, sizeof dir, err, "%s/netns", c->root) < 0 ||
        wb_mkdir_p(dir, 0700, err) < 0 ||
        netns_path(c, a->netns_path, sizeof a->netns_path, err) < 0)
        goto out;
    if (take_ip(c->root, net, want && *want ? want : NULL, c->id, ip, err) < 0) goto out;
    if (netns_create(a->netns_path, err) < 0) {
        release_ip(c->root, str(net, "Id"), ip, c->id);
        goto out;
    }
    /* published ports: "-p 80" takes a free host port now, recorded as Docker shows it */
    json_t *bindings = json_deep_copy(json_object_get(host, "PortBindings"));
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
                snprintf(port, sizeof port, "%d", ephemeral_port(proto));
                json_object_set_new(b, "HostPort", json_string(port));
            }
            if (!str(b, "HostIp") || !*str(b, "HostIp"))
                json_object_set_new(b, "HostIp", json_string("0.0.0.0"));
        }
    }
    json_t *aliases = json_array();
    char shortid[13];
    snprintf(shortid, sizeof shortid, "%.12s", c->id);
    json_array_append_new(aliases, json_string(c->name));
    json_array_append_new(aliases, json_string(shortid));
    size_t i;
    json_t *al;
    json_array_foreach(json_object_get(ep, "Aliases"), i, al) json_array_append(aliases, al);
    /* netavark binds host addresses by itself: "0.0.0.0" is its "" */
    json_t *na_bindings = json_deep_copy(bindings);
    json_object_foreach(na_bindings, key, list) {
        json_t *b;
        json_array_foreach(list, i, b) {
            if (!strcmp(str(b, "HostIp"), "0.0.0.0"))
                json_object_set_new(b, "HostIp", json_string(""));
        }
    }
    json_t *ports = port_mappings(na_bindings);
    json_decref(na_bindings);
    conf = container_config(c, net, ip, aliases, ports);
    json_decref(ports);
    char *text = json_dumps(conf, JSON_COMPACT);
    int src = netavark(c->root, "setup", a->netns_path, text, &out, err);
    /* kept for teardown, which needs the same config */
    char saved[4300];
    snprintf(saved, sizeof saved, "%s/network.json", c->dir);
    if (src == 0) wb_write_file_atomic(saved, text, strlen(text), 0600, false, NULL);
    free(text);
    if (src < 0) {
        netns_remove(a->netns_path);
        release_ip(c->root, str(net, "Id"), ip, c->id);
        json_decref(aliases);
        json_decref(bindings);
        goto out;
    }
    res = json_loads(out, 0, NULL);
    json_t *st = json_object_get(res, str(net, "Name"));
    json_t *eth = json_object_get(json_object_get(st, "interfaces"), "eth0");
    const char *mac = str(eth, "mac_address");
    json_t *sub0 = json_array_get(json_object_get(eth, "subnets"), 0);
    const char *gw = str(sub0, "gateway"), *ipnet = str(sub0, "ipnet");
    int prefix = ipnet && strchr(ipnet, '/') ? atoi(strchr(ipnet, '/') + 1) : 0;
    json_t *dns = json_object_get(st, "dns_server_ips");
    json_array_foreach(dns, i, al) {
        a->dns_servers = wb_realloc(a->dns_servers, (a->ndns_servers + 1) * sizeof(char *));
        a->dns_servers[a->ndns_servers++] = wb_strdup(json_string_value(al));
    }
    json_array_foreach(json_object_get(st, "dns_search_domains"), i, al) {
        a->search = wb_realloc(a->search, (a->nsearch + 1) * sizeof(char *));
        a->search[a->nsearch++] = wb_strdup(json_string_value(al));
    }
    /* /etc/hosts: the container's own name on its address; resolv.conf: aardvark on a user
     * network */
    const char *hostname = str(json_object_get(c->doc, "Config"), "Hostname");
    size_t hl = strlen(ip) + strlen(hostname ? hostname : shortid) + strlen(c->name) + 8;
    a->hosts = wb_malloc(hl);
    snprintf(a->hosts, hl, "%s\t%s\n", ip, hostname && *hostname ? hostname : shortid);
    if (a->ndns_servers) {
        size_t n = 64;
        for (size_t k = 0; k < a->nsearch; k++) n += strlen(a->search[k]) + 1;
        for (size_t k = 0; k < a->ndns_servers; k++) n += strlen(a->dns_servers[k]) + 12;
        a->resolv = wb_malloc(n);
        size_t used = 0;
        if (a->nsearch) {
            used += (size_t)snprintf(a->resolv + used, n - used, "search");
            for (size_t k = 0; k < a->nsearch; k++)
                used += (size_t)snprintf(a->resolv + used, n - used, " %s", a->search[k]);
            used += (size_t)snprintf(a->resolv + used, n - used, "\n");
        }
        for (size_t k = 0; k < a->ndns_servers; k++)
            used +=
                (size_t)snprintf(a->resolv + used, n - used, "nameserver %s\n", a->dns_servers[k]);
    }
    a->netns_fd = open(a->netns_path, O_RDONLY | O_CLOEXEC);
    if (a->netns_fd < 0) {
        wb_error_sys(err, "open `%s`", a->netns_path);
        json_decref(aliases);
        json_decref(bindings);
        wb_net_detach(c);
        goto out;
    }
    /* NetworkSettings, Docker's shape */
    json_t *endpoint = json_pack(
        "{s:n, s:n, s:o, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:s}", "IPAMConfig", "Links",
        "Aliases", aliases, "NetworkID", str(net, "Id"), "EndpointID", c->id, "Gateway",
        gw ? gw : "", "IPAddress", ip, "IPPrefixLen", prefix, "IPv6Gateway", "",
        "GlobalIPv6Address", "", "GlobalIPv6PrefixLen", 0, "MacAddress", mac ? mac : "");
    json_t *portmap = json_object();
    json_object_foreach(bindings, key, list) json_object_set(portmap, key, list);
    json_t *exposed = json_object_get(json_object_get(c->doc, "Config"), "ExposedPorts");
    json_object_foreach(exposed, key, list) {
        if (!json_object_get(portmap, key)) json_object_set_new(portmap, key, json_null());
    }
    bool dflt = !strcmp(mode, WB_NETWORK_DEFAULT);
    json_t *ns = json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:i, s:s, s:{s:o}}", "Bridge", "",
                           "SandboxID", c->id, "Ports", portmap, "SandboxKey", a->netns_path,
                           "Gateway", dflt && gw ? gw : "", "IPAddress", dflt ? ip : "",
                           "IPPrefixLen", dflt ? prefix : 0, "MacAddress", dflt && mac ? mac : "",
                           "Networks", str(net, "Name"), endpoint);
    json_object_set_new(c->doc, "NetworkSettings", ns);
    json_decref(bindings);
    rc = 0;
out:
    json_decref(conf);
    json_decref(res);
    free(out);
    json_decref(net);
    if (rc < 0) wb_net_attachment_release(a);
    return rc;
}

void wb_net_detach(struct wb_container *c) {
    /* nothing was attached for host/none (no syscalls on `run --rm`'s path) */
    if (!wb_net_mode_attaches(str(json_object_get(c->doc, "HostConfig"), "NetworkMode"))) return;
    char path[4200], saved[4300];
    if (netns_path(c, path, sizeof path, NULL) < 0) return;
    snprintf(saved, sizeof saved, "%s/network.json", c->dir);
    struct stat st;
    bool have_ns = stat(path, &st) == 0;
    uint8_t *data = NULL;
    size_t len;
    if (wb_read_file(saved, 1 << 20, &data, &len, NULL) == 0) {
        json_t *conf = json_loadb((const char *)data, len, 0, NULL);
        if (have_ns) netavark(c->root, "teardown", path, (const char *)data, NULL, NULL);
        /* the addresses it held */
        const char *name;
        json_t *per;
        json_object_foreach(json_object_get(conf, "networks"), name, per) {
            const char *nid =
                str(json_object_get(json_object_get(conf, "network_info"), name), "id");
            size_t i;
            json_t *ip;
            json_array_foreach(json_object_get(per, "static_ips"), i, ip) if (nid)
                release_ip(c->root, nid, json_string_value(ip), c->id);
        }
        json_decref(conf);
        free(data);
        unlink(saved);
    }
    if (have_ns) netns_remove(path);
    json_t *ns = json_object_get(c->doc, "NetworkSettings");
    if (json_is_object(ns)) {
        json_object_set_new(ns, "Networks", json_object());
        json_object_set_new(ns, "Ports", json_object());
        json_object_set_new(ns, "SandboxKey", json_string(""));
        json_object_set_new(ns, "IPAddress", json_string(""));
    }
}
