/* net: sockets for the two builds (see net.h). */
#include "net.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifdef __wasi__
#include <wasi/api.h>
#else
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#endif

#ifdef __wasi__

/* ---- wasm32-wasi: WasmEdge's socket extension, V2 forms ---- */

#define WE_IMPORT(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(name)))

/* An address argument: a buffer and its length; V2 buffers are 128 bytes holding a u16 family
 * (little-endian) then the address bytes. */
typedef struct we_address {
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

#define WE_AF_INET4     1
#define WE_AF_INET6     2
#define WE_SOCK_STREAM  2
#define WE_SOL_SOCKET   0
#define WE_SO_REUSEADDR 0
#define WE_SO_RCVTIMEO  11
#define WE_SO_SNDTIMEO  12
#define MAX_ADDRS       8

WE_IMPORT("sock_open") uint32_t we_sock_open(uint32_t family, uint32_t type, uint32_t *fd);
WE_IMPORT("sock_setsockopt")
uint32_t we_sock_setsockopt(uint32_t fd, uint32_t level, uint32_t name, const void *flag,
                            uint32_t flag_size);
WE_IMPORT("sock_bind") uint32_t we_sock_bind(uint32_t fd, we_address *addr, uint32_t port);
WE_IMPORT("sock_listen") uint32_t we_sock_listen(uint32_t fd, uint32_t backlog);
WE_IMPORT("sock_accept") uint32_t we_sock_accept(uint32_t fd, uint32_t flags, uint32_t *new_fd);
WE_IMPORT("sock_connect") uint32_t we_sock_connect(uint32_t fd, we_address *addr, uint32_t port);
WE_IMPORT("sock_getlocaladdr")
uint32_t we_sock_getlocaladdr(uint32_t fd, we_address *addr, uint32_t *port);
WE_IMPORT("sock_getaddrinfo")
uint32_t we_sock_getaddrinfo(const char *node, uint32_t node_len, const char *service,
                             uint32_t service_len, const we_addrinfo *hints, uint32_t *res,
                             uint32_t max, uint32_t *res_len);
WE_IMPORT("sock_recv")
uint32_t we_sock_recv(uint32_t fd, __wasi_iovec_t *iovs, uint32_t niovs, uint32_t flags,
                      uint32_t *nread, uint32_t *roflags);
WE_IMPORT("sock_send")
uint32_t we_sock_send(uint32_t fd, const __wasi_ciovec_t *iovs, uint32_t niovs, uint32_t flags,
                      uint32_t *nwritten);

/* WasmEdge's getaddrinfo errors (after WASI's 76), and the rest as WASI errnos. */
static const char *net_error_text(uint32_t e) {
    switch (e) {
    case 77: return "no address of that family (EAI_ADDRFAMILY)";
    case 78: return "temporary failure, no name server answered (EAI_AGAIN)";
    case 80: return "name server failure (EAI_FAIL)";
    case 83: return "the name has no address (EAI_NODATA)";
    case 84: return "name does not exist (EAI_NONAME)";
    case 87: return "system error (EAI_SYSTEM)";
    case __WASI_ERRNO_ACCES: return "no network access (run the module with --net)";
    default: return e >= 76 ? "name resolution failed" : strerror((int)e);
    }
}

int net_listen(int port, ms_error *err) {
    uint32_t fd, e;
    if ((e = we_sock_open(WE_AF_INET4, WE_SOCK_STREAM, &fd)))
        return ms_fail(err, "sock_open: %s", net_error_text(e));
    int one = 1;
    (void)we_sock_setsockopt(fd, WE_SOL_SOCKET, WE_SO_REUSEADDR, &one, sizeof one);
    uint8_t storage[128] = {0};
    storage[0] = WE_AF_INET4; /* address 0.0.0.0 follows */
    we_address addr = {storage, sizeof storage};
    if ((e = we_sock_bind(fd, &addr, (uint32_t)port))) {
        (void)__wasi_fd_close(fd);
        return ms_fail(err, "bind 0.0.0.0:%d: %s", port, net_error_text(e));
    }
    if ((e = we_sock_listen(fd, 128))) {
        (void)__wasi_fd_close(fd);
        return ms_fail(err, "listen on port %d: %s", port, net_error_text(e));
    }
    return (int)fd;
}

int net_local_port(int fd) {
    uint8_t storage[128];
    we_address addr = {storage, sizeof storage};
    uint32_t port = 0, e = we_sock_getlocaladdr((uint32_t)fd, &addr, &port);
    return e ? -(int)e : (int)port;
}

int net_accept(int lfd) {
    uint32_t fd, e = we_sock_accept((uint32_t)lfd, 0, &fd);
    return e ? -(int)e : (int)fd;
}

/* One address to try: the V2 128-byte form, the port (host order) and a text for messages. */
typedef struct net_target {
    uint8_t storage[128];
    uint32_t port;
    char text[64];
} net_target;

static int resolve(const char *host, int port, net_target *out, ms_error *err) {
    we_addrinfo hints, res[MAX_ADDRS];
    we_sockaddr sa[MAX_ADDRS];
    uint8_t data[MAX_ADDRS][26];
    char canon[MAX_ADDRS][64];
    char service[8];
    snprintf(service, sizeof service, "%d", port);
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
        we_sock_getaddrinfo(host, (uint32_t)strlen(host) + 1, service,
                            (uint32_t)strlen(service) + 1, &hints, &head, MAX_ADDRS, &count);
    if (e) return ms_fail(err, "cannot resolve %s: %s", host, net_error_text(e));
    int n = 0;
    for (uint32_t i = 0; i < count && i < MAX_ADDRS; i++) {
        const uint8_t *d = data[i];
        net_target *t = &out[n];
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
    if (n == 0) return ms_fail(err, "cannot resolve %s: no IPv4 or IPv6 address", host);
    return n;
}

int net_connect(const char *host, int port, ms_error *err) {
    net_target targets[MAX_ADDRS];
    int n = resolve(host, port, targets, err);
    if (n < 0) return -1;
    uint32_t last = 0;
    for (int i = 0; i < n; i++) {
        uint32_t fd;
        last = we_sock_open(targets[i].storage[0], WE_SOCK_STREAM, &fd);
        if (last) continue;
        we_address addr = {targets[i].storage, sizeof targets[i].storage};
        last = we_sock_connect(fd, &addr, targets[i].port);
        if (last == 0) return (int)fd;
        (void)__wasi_fd_close(fd);
    }
    return ms_fail(err, "cannot connect to %s:%d (%s%s): %s", host, port, targets[n - 1].text,
                   n > 1 ? " and the other addresses" : "", net_error_text(last));
}

int net_set_timeouts(int fd, int ms) {
    /* the host's struct timeval, as WasmEdge passes it through: two 64-bit fields */
    int64_t tv[2] = {ms / 1000, (int64_t)(ms % 1000) * 1000};
    uint32_t e = we_sock_setsockopt((uint32_t)fd, WE_SOL_SOCKET, WE_SO_RCVTIMEO, tv, sizeof tv);
    if (!e) e = we_sock_setsockopt((uint32_t)fd, WE_SOL_SOCKET, WE_SO_SNDTIMEO, tv, sizeof tv);
    return -(int)e;
}

long net_recv(int fd, void *buf, size_t len) {
    __wasi_iovec_t iov = {buf, len};
    uint32_t n, roflags = 0, e = we_sock_recv((uint32_t)fd, &iov, 1, 0, &n, &roflags);
    return e ? -(long)e : (long)n;
}

long net_send(int fd, const void *buf, size_t len) {
    __wasi_ciovec_t iov = {buf, len};
    uint32_t n, e = we_sock_send((uint32_t)fd, &iov, 1, 0, &n);
    return e ? -(long)e : (long)n;
}

/* a then b in one call; bytes sent, or -errno */
static long send_two(int fd, const void *a, size_t a_len, const void *b, size_t b_len) {
    __wasi_ciovec_t iov[2] = {{a, a_len}, {b, b_len}};
    uint32_t n, e = we_sock_send((uint32_t)fd, iov, 2, 0, &n);
    return e ? -(long)e : (long)n;
}

void net_close(int fd) {
    (void)__wasi_fd_close((__wasi_fd_t)fd);
}

#else

/* ---- native: POSIX sockets ---- */

int net_listen(int port, ms_error *err) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return ms_fail(err, "socket: %s", strerror(errno));
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sin.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
        int e = errno;
        close(fd);
        return ms_fail(err, "bind 0.0.0.0:%d: %s", port, strerror(e));
    }
    if (listen(fd, 128) != 0) {
        int e = errno;
        close(fd);
        return ms_fail(err, "listen on port %d: %s", port, strerror(e));
    }
    return fd;
}

int net_local_port(int fd) {
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    if (getsockname(fd, (struct sockaddr *)&sin, &len) != 0) return -errno;
    return ntohs(sin.sin_port);
}

int net_accept(int lfd) {
    int fd = accept(lfd, NULL, NULL);
    return fd < 0 ? -errno : fd;
}

int net_connect(const char *host, int port, ms_error *err) {
    char service[8];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *list;
    int r = getaddrinfo(host, service, &hints, &list);
    if (r != 0) return ms_fail(err, "cannot resolve %s: %s", host, gai_strerror(r));
    int last = 0, tried = 0;
    for (struct addrinfo *ai = list; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        tried++;
        if (fd < 0) {
            last = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            freeaddrinfo(list);
            return fd;
        }
        last = errno;
        close(fd);
    }
    freeaddrinfo(list);
    return ms_fail(err, "cannot connect to %s:%d%s: %s", host, port,
                   tried > 1 ? " (any of its addresses)" : "", strerror(last));
}

int net_set_timeouts(int fd, int ms) {
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
        return -errno;
    return 0;
}

long net_recv(int fd, void *buf, size_t len) {
    ssize_t n = recv(fd, buf, len, 0);
    return n < 0 ? -errno : (long)n;
}

long net_send(int fd, const void *buf, size_t len) {
    ssize_t n = send(fd, buf, len, MSG_NOSIGNAL); /* a peer gone: EPIPE, not SIGPIPE */
    return n < 0 ? -errno : (long)n;
}

static long send_two(int fd, const void *a, size_t a_len, const void *b, size_t b_len) {
    struct iovec iov[2] = {{(void *)a, a_len}, {(void *)b, b_len}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
    ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    return n < 0 ? -errno : (long)n;
}

void net_close(int fd) {
    close(fd);
}

#endif

/* ---- both builds ---- */

int net_send_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        long n = net_send(fd, p, len);
        if (n == -EINTR) continue;
        if (n < 0) return (int)n;
        if (n == 0) return -EPIPE;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int net_send_all2(int fd, const void *a, size_t a_len, const void *b, size_t b_len) {
    const char *p = a;
    while (a_len > 0) {
        long n = send_two(fd, p, a_len, b, b_len);
        if (n == -EINTR) continue;
        if (n < 0) return (int)n;
        if (n == 0) return -EPIPE;
        if ((size_t)n >= a_len) { /* all of a, and maybe some of b */
            size_t of_b = (size_t)n - a_len;
            return net_send_all(fd, (const char *)b + of_b, b_len - of_b);
        }
        p += n;
        a_len -= (size_t)n;
    }
    return net_send_all(fd, b, b_len);
}

int net_wait_readable(int fd, int timeout_ms) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    for (;;) {
        int r = poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR) continue;
        return r < 0 ? -errno : r > 0;
    }
}
