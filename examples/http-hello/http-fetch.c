/* http-fetch: a small HTTP/1.0 client for wasm32-wasi over WasmEdge's socket extension (V2
 * forms, raw imports as in http-hello.c), so that names go through the engine's resolver:
 *
 *   http-fetch HOST PORT PATH
 *   http-fetch --resolve HOST      (prints HOST's addresses, one per line, and exits)
 *
 * resolves HOST with sock_getaddrinfo (in a container: its /etc/hosts and DNS server; a plain
 * `wasmbox run --net` module: the host's view, or the server in $DNS_SERVER), connects to each
 * address in turn until one accepts, sends `GET PATH HTTP/1.0` with a Host header and writes the
 * response body to stdout. Exit status 0 for a 2xx status; otherwise 1 with one line on stderr
 * naming what failed ("http-fetch: cannot resolve web: name does not exist (EAI_NONAME)"). */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

#define WE_IMPORT(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(name)))

typedef struct we_address { /* a buffer and its length: 128 bytes for V2 */
    uint8_t *buf;
    uint32_t buf_len;
} we_address;

typedef struct we_addrinfo { /* __wasi_addrinfo_t: 28 bytes */
    uint16_t flags;
    uint8_t family, socktype, protocol, pad[3];
    uint32_t addrlen;
    uint32_t addr; /* -> we_sockaddr */
    uint32_t canonname;
    uint32_t canonname_len;
    uint32_t next; /* -> we_addrinfo */
} we_addrinfo;
_Static_assert(sizeof(we_addrinfo) == 28, "addrinfo layout");

typedef struct we_sockaddr { /* __wasi_sockaddr_t: the host sockaddr after its family */
    uint8_t family, pad[3];
    uint32_t data_len;
    uint32_t data; /* -> port (network order), then the address */
} we_sockaddr;

#define WE_AF_INET4    1
#define WE_AF_INET6    2
#define WE_SOCK_STREAM 2
#define MAX_ADDRS      8
#define HEAD_MAX       16384

WE_IMPORT("sock_getaddrinfo")
uint32_t we_sock_getaddrinfo(const char *node, uint32_t node_len, const char *service,
                             uint32_t service_len, const we_addrinfo *hints, uint32_t *res,
                             uint32_t max, uint32_t *res_len);
WE_IMPORT("sock_open") uint32_t we_sock_open(uint32_t family, uint32_t type, uint32_t *fd);
WE_IMPORT("sock_connect") uint32_t we_sock_connect(uint32_t fd, we_address *addr, uint32_t port);
WE_IMPORT("sock_recv")
uint32_t we_sock_recv(uint32_t fd, __wasi_iovec_t *iovs, uint32_t niovs, uint32_t flags,
                      uint32_t *nread, uint32_t *roflags);
WE_IMPORT("sock_send")
uint32_t we_sock_send(uint32_t fd, const __wasi_ciovec_t *iovs, uint32_t niovs, uint32_t flags,
                      uint32_t *nwritten);

static void say(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(int fd, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
    for (int done = 0; done < n;) {
        ssize_t w = write(fd, buf + done, (size_t)(n - done));
        if (w <= 0) return;
        done += (int)w;
    }
}

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) return 0;
        p += w, n -= (size_t)w;
    }
    return 1;
}

/* WasmEdge's getaddrinfo errors (after WASI's 76), and the rest as WASI errnos. */
static const char *resolve_error(uint32_t e) {
    switch (e) {
    case 77: return "no address of that family (EAI_ADDRFAMILY)";
    case 78: return "temporary failure, no name server answered (EAI_AGAIN)";
    case 79: return "bad flags (EAI_BADFLAGS)";
    case 80: return "name server failure (EAI_FAIL)";
    case 81: return "address family not supported (EAI_FAMILY)";
    case 82: return "out of memory (EAI_MEMORY)";
    case 83: return "the name has no address (EAI_NODATA)";
    case 84: return "name does not exist (EAI_NONAME)";
    case 85: return "unknown service (EAI_SERVICE)";
    case 86: return "socket type not supported (EAI_SOCKTYPE)";
    case 87: return "system error (EAI_SYSTEM)";
    case __WASI_ERRNO_ACCES: return "no network access (run with --net)";
    default: return strerror((int)e);
    }
}

/* One address to try: the V2 128-byte form and the port (host order). */
typedef struct target {
    uint8_t storage[128];
    uint32_t port;
    char text[64];
} target;

/* The results of sock_getaddrinfo for a stream socket to host:port; -1 after saying why. */
static int resolve(const char *host, const char *port, target *out, int max) {
    we_addrinfo hints, res[MAX_ADDRS];
    we_sockaddr sa[MAX_ADDRS];
    uint8_t data[MAX_ADDRS][26];
    char canon[MAX_ADDRS][64];
    memset(&hints, 0, sizeof hints);
    hints.socktype = WE_SOCK_STREAM;
    for (int i = 0; i < MAX_ADDRS; i++) {
        memset(&res[i], 0, sizeof res[i]);
        sa[i].data = (uint32_t)(uintptr_t)data[i];
        sa[i].data_len = sizeof data[i];
        res[i].addr = (uint32_t)(uintptr_t)&sa[i];
        res[i].canonname = (uint32_t)(uintptr_t)canon[i];
        res[i].canonname_len = sizeof canon[i];
        res[i].next = i + 1 < MAX_ADDRS ? (uint32_t)(uintptr_t)&res[i + 1] : 0;
    }
    uint32_t head = (uint32_t)(uintptr_t)&res[0], count = 0;
    uint32_t e =
        we_sock_getaddrinfo(host, (uint32_t)strlen(host) + 1, port, (uint32_t)strlen(port) + 1,
                            &hints, &head, (uint32_t)(max < MAX_ADDRS ? max : MAX_ADDRS), &count);
    if (e != 0) {
        say(2, "http-fetch: cannot resolve %s: %s\n", host, resolve_error(e));
        return -1;
    }
    int n = 0;
    for (uint32_t i = 0; i < count && n < max; i++) {
        const uint8_t *d = data[i];
        target *t = &out[n];
        memset(t->storage, 0, sizeof t->storage);
        t->port = (uint32_t)(d[0] << 8 | d[1]);
        if (sa[i].family == WE_AF_INET4 && sa[i].data_len >= 6) {
            t->storage[0] = WE_AF_INET4;
            memcpy(t->storage + 2, d + 2, 4);
            snprintf(t->text, sizeof t->text, "%u.%u.%u.%u", d[2], d[3], d[4], d[5]);
        } else if (sa[i].family == WE_AF_INET6 && sa[i].data_len >= 22) {
            t->storage[0] = WE_AF_INET6;
            memcpy(t->storage + 2, d + 6, 16); /* after the port and the flow label */
            snprintf(t->text, sizeof t->text, "[%x:%x:...:%x]", d[6] << 8 | d[7], d[8] << 8 | d[9],
                     d[20] << 8 | d[21]);
        } else {
            continue;
        }
        n++;
    }
    if (n == 0) {
        say(2, "http-fetch: cannot resolve %s: no IPv4 or IPv6 address\n", host);
        return -1;
    }
    return n;
}

/* A connected socket to the first address that accepts; -1 after saying why. */
static int connect_any(const char *host, const target *t, int n) {
    uint32_t last = 0;
    for (int i = 0; i < n; i++) {
        uint32_t fd;
        last = we_sock_open(t[i].storage[0], WE_SOCK_STREAM, &fd);
        if (last) continue;
        we_address addr = {(uint8_t *)t[i].storage, sizeof t[i].storage};
        last = we_sock_connect(fd, &addr, t[i].port);
        if (last == 0) return (int)fd;
        (void)__wasi_fd_close(fd);
    }
    say(2, "http-fetch: cannot connect to %s (%s, port %u%s): %s\n", host, t[n - 1].text,
        t[n - 1].port, n > 1 ? ", and the other addresses" : "", resolve_error(last));
    return -1;
}

static int send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        __wasi_ciovec_t iov = {(const uint8_t *)p, n};
        uint32_t sent;
        uint32_t e = we_sock_send((uint32_t)fd, &iov, 1, 0, &sent);
        if (e == __WASI_ERRNO_INTR) continue;
        if (e || sent == 0) return 0;
        p += sent, n -= sent;
    }
    return 1;
}

/* Bytes from the socket: > 0, 0 at the end, -errno. */
static long recv_some(int fd, char *buf, size_t len) {
    for (;;) {
        __wasi_iovec_t iov = {(uint8_t *)buf, len};
        uint32_t n, roflags;
        uint32_t e = we_sock_recv((uint32_t)fd, &iov, 1, 0, &n, &roflags);
        if (e == __WASI_ERRNO_INTR) continue;
        return e ? -(long)e : (long)n;
    }
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--resolve")) {
        target found[MAX_ADDRS];
        int n = resolve(argv[2], "80", found, MAX_ADDRS);
        for (int i = 0; i < n; i++) say(1, "%s\n", found[i].text);
        return n > 0 ? 0 : 1;
    }
    if (argc != 4) {
        say(2, "usage: http-fetch HOST PORT PATH | http-fetch --resolve HOST\n");
        return 2;
    }
    const char *host = argv[1], *port = argv[2], *path = argv[3];
    target targets[MAX_ADDRS];
    int n = resolve(host, port, targets, MAX_ADDRS);
    if (n < 0) return 1;
    int fd = connect_any(host, targets, n);
    if (fd < 0) return 1;
    char req[1024];
    int rn = snprintf(req, sizeof req,
                      "GET %s HTTP/1.0\r\nHost: %s:%s\r\nUser-Agent: http-fetch\r\n"
                      "Connection: close\r\n\r\n",
                      path, host, port);
    if (rn < 0 || (size_t)rn >= sizeof req) {
        say(2, "http-fetch: the request for %s is too long\n", path);
        return 1;
    }
    if (!send_all(fd, req, (size_t)rn)) {
        say(2, "http-fetch: sending the request to %s failed\n", host);
        return 1;
    }
    /* the head, then the body as it comes */
    static char buf[HEAD_MAX + 1];
    size_t have = 0;
    char *body = NULL;
    while (!body) {
        if (have == HEAD_MAX) {
            say(2, "http-fetch: %s sent a response head over %d bytes\n", host, HEAD_MAX);
            return 1;
        }
        long got = recv_some(fd, buf + have, HEAD_MAX - have);
        if (got <= 0) {
            say(2, "http-fetch: %s closed the connection before a whole response head%s%s\n", host,
                got < 0 ? ": " : "", got < 0 ? strerror((int)-got) : "");
            return 1;
        }
        have += (size_t)got;
        buf[have] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end) body = end + 4;
    }
    int status = 0;
    if (sscanf(buf, "HTTP/%*d.%*d %d", &status) != 1) {
        say(2, "http-fetch: %s did not answer with HTTP\n", host);
        return 1;
    }
    if (!write_all(1, body, have - (size_t)(body - buf))) return 1;
    for (;;) {
        long got = recv_some(fd, buf, HEAD_MAX);
        if (got < 0) {
            say(2, "http-fetch: reading the body from %s failed: %s\n", host, strerror((int)-got));
            return 1;
        }
        if (got == 0) break;
        if (!write_all(1, buf, (size_t)got)) return 1;
    }
    (void)__wasi_fd_close((__wasi_fd_t)fd);
    if (status < 200 || status > 299) {
        say(2, "http-fetch: GET %s from %s: status %d\n", path, host, status);
        return 1;
    }
    return 0;
}
