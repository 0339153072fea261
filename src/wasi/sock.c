/* WASI sockets: preview1's sock_accept, sock_recv, sock_send and sock_shutdown (on listeners
 * preopened with --tcplisten and the connections they accept), and WasmEdge's socket extension in
 * the same module: sock_open, sock_bind, sock_listen, sock_connect, sock_recv_from, sock_send_to,
 * sock_getsockopt, sock_setsockopt, sock_getlocaladdr, sock_getpeeraddr, sock_getaddrinfo.
 *
 * WasmEdge has two generations of that extension. A module imports them under the plain names and
 * the linker picks the variant whose signature matches (WasmEdge's lib/executor/instantiate/
 * import.cpp does the same); the `_v2` names are also provided. Where V1 and V2 share a
 * signature (bind, connect, send_to) the address argument tells them apart by its length:
 *
 *   address (both): { u32 buf; u32 buf_len; }           (__wasi_address_t, 8 bytes)
 *   V1 buffer:      4 bytes (IPv4) or 16 bytes (IPv6), network byte order; port separate
 *   V2 buffer:      128 bytes: u16 family @0 (1 inet4, 2 inet6, 3 unix), address bytes @2
 *
 * Ports passed as arguments or returned through pointers are in host byte order. Layouts and enum
 * values follow WasmEdge's include/wasi/api.hpp, lib/host/wasi/wasifunc.cpp and inode-linux.cpp.
 * Sockets the module opens or resolves names for need the grant allow_net (--net); without it
 * those calls fail with EACCES. sock_getaddrinfo resolves through the container's hosts file and
 * resolv.conf (wasi/dns.h) when the context has them or the guest set DNS_SERVER, else through
 * the host's libc. Unix-domain sockets are refused (ENOSYS, as WasmEdge without
 * --allow-af-unix): they would reach the host's filesystem namespace. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wasi/dns.h"
#include "wasi/wasi_internal.h"

/* WasmEdge's address_family, sock_type and protocol enums */
#define WE_AF_UNSPEC   0
#define WE_AF_INET4    1
#define WE_AF_INET6    2
#define WE_AF_UNIX     3
#define WE_SOCK_ANY    0
#define WE_SOCK_DGRAM  1
#define WE_SOCK_STREAM 2
#define WE_PROTO_IP    0
#define WE_PROTO_TCP   1
#define WE_PROTO_UDP   2

/* V1 getlocaladdr/getpeeraddr report the family as 4 or 6 (kept by WasmEdge for compatibility) */
#define WE_V1_ADDR_TYPE_INET4 4
#define WE_V1_ADDR_TYPE_INET6 6

#define WE_ADDR_SIZE         8   /* { u32 buf; u32 buf_len; } */
#define WE_ADDR_STORAGE_SIZE 128 /* V2: u16 family, then the address */

/* sock_opt_level and sock_opt_so */
#define WE_SOL_SOCKET 0
static const int sockopt_names[] = {
    SO_REUSEADDR, SO_TYPE,     SO_ERROR,     SO_DONTROUTE,  SO_BROADCAST,
    SO_SNDBUF,    SO_RCVBUF,   SO_KEEPALIVE, SO_OOBINLINE,  SO_LINGER,
    SO_RCVLOWAT,  SO_RCVTIMEO, SO_SNDTIMEO,  SO_ACCEPTCONN, SO_BINDTODEVICE,
};
#define SOCKOPT_MAX_SIZE 256 /* bytes of one option value (the largest, a device name, is 16) */

/* aiflags (bit positions) */
#define WE_AI_PASSIVE     (1u << 0)
#define WE_AI_CANONNAME   (1u << 1)
#define WE_AI_NUMERICHOST (1u << 2)
#define WE_AI_NUMERICSERV (1u << 3)
#define WE_AI_V4MAPPED    (1u << 4)
#define WE_AI_ALL         (1u << 5)
#define WE_AI_ADDRCONFIG  (1u << 6)

/* __wasi_addrinfo_t (28 bytes): flags u16 @0, family u8 @2, socktype u8 @3, protocol u8 @4,
 * addrlen u32 @8, addr u32 @12, canonname u32 @16, canonname_len u32 @20, next u32 @24 */
#define WE_ADDRINFO_SIZE 28
/* __wasi_sockaddr_t (12 bytes): family u8 @0, sa_data_len u32 @4, sa_data u32 @8; sa_data holds
 * what follows the family in the host's sockaddr_in/_in6 (port, in network order, first). */
#define WE_SOCKADDR_SIZE 12

/* WasmEdge's errno extension for getaddrinfo (after WASI's 76) */
#define WE_EAI_ADDRFAMILY 77
#define WE_EAI_AGAIN      78
#define WE_EAI_BADFLAG    79
#define WE_EAI_FAIL       80
#define WE_EAI_FAMILY     81
#define WE_EAI_MEMORY     82
#define WE_EAI_NODATA     83
#define WE_EAI_NONAME     84
#define WE_EAI_SERVICE    85
#define WE_EAI_SOCKTYPE   86
#define WE_EAI_SYSTEM     87

/* Longest node or service name for getaddrinfo (as NI_MAXHOST) */
#define NAME_MAX_LEN         1025
#define ADDRINFO_MAX_RESULTS 256

/* Rights of a socket the module opened, and of an accepted connection. */
#define SOCKET_RIGHTS                                                                              \
    (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_FDSTAT_SET_FLAGS |                   \
     WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_POLL_FD_READWRITE | WASI_RIGHT_SOCK_SHUTDOWN |        \
     WASI_RIGHT_SOCK_ACCEPT)
#define CONNECTION_RIGHTS (SOCKET_RIGHTS & ~WASI_RIGHT_SOCK_ACCEPT)

#define WASI_FDFLAGS_ALL                                                                           \
    (WASI_FDFLAG_APPEND | WASI_FDFLAG_DSYNC | WASI_FDFLAG_NONBLOCK | WASI_FDFLAG_RSYNC |           \
     WASI_FDFLAG_SYNC)

/* ---- helpers ---- */

/* The socket entry for guest fd holding `rights`, or NULL with *err set (EBADF, ENOTCAPABLE,
 * ENOTSOCK). */
static wasi_fd *sock_get(wb_wasi *w, uint32_t fd, uint64_t rights, uint16_t *err) {
    wasi_fd *f = wasi_fd_check(w, fd, rights, err);
    if (!f) return NULL;
    if (f->kind != WFD_SOCKET && f->filetype != WASI_FILETYPE_SOCKET_STREAM &&
        f->filetype != WASI_FILETYPE_SOCKET_DGRAM) {
        *err = WASI_ENOTSOCK;
        return NULL;
    }
    return f;
}

/* Trim iovecs so their total fits the u32 byte count returned to the guest (overlapping guest
 * buffers could add up to more). */
static void cap_total(struct iovec *iov, uint32_t n) {
    uint64_t room = UINT32_MAX;
    for (uint32_t i = 0; i < n; i++) {
        if (iov[i].iov_len > room) iov[i].iov_len = (size_t)room;
        room -= iov[i].iov_len;
    }
}

static uint16_t load16(const wasi_mem *m, uint32_t ptr) {
    uint16_t v;
    memcpy(&v, m->base + ptr, 2);
    return v;
}

/* A new socket entry in the table; on failure the host fd is closed. */
static uint16_t insert_socket(wb_wasi *w, int host, int family, int type, uint64_t rights,
                              uint16_t fdflags, uint32_t *out_fd) {
    wasi_fd f = {.kind = WFD_SOCKET,
                 .filetype =
                     type == SOCK_DGRAM ? WASI_FILETYPE_SOCKET_DGRAM : WASI_FILETYPE_SOCKET_STREAM,
                 .fdflags = fdflags,
                 .host = host,
                 .owned = true,
                 .rights_base = rights,
                 .rights_inheriting = CONNECTION_RIGHTS,
                 .sock_family = family,
                 .sock_type = type};
    uint16_t e = wasi_fd_insert(w, &f, out_fd);
    if (e) close(host);
    return e;
}

/* A guest address (see the header comment) and port as a host sockaddr. */
static uint16_t read_address(const wasi_mem *m, uint32_t addr_ptr, uint32_t port,
                             struct sockaddr_storage *ss, socklen_t *len) {
    if (!wasi_in_bounds(m, addr_ptr, WE_ADDR_SIZE)) return WASI_EFAULT;
    uint32_t buf = wasi_load32(m, addr_ptr), buf_len = wasi_load32(m, addr_ptr + 4);
    if (!wasi_in_bounds(m, buf, buf_len)) return WASI_EFAULT;
    if (port > 0xffff) return WASI_EINVAL;
    int family;
    uint32_t bytes = buf;
    if (buf_len == 4) {
        family = AF_INET;
    } else if (buf_len == 16) {
        family = AF_INET6;
    } else if (buf_len == WE_ADDR_STORAGE_SIZE) {
        uint16_t we = load16(m, buf);
        bytes = buf + 2;
        if (we == WE_AF_INET4)
            family = AF_INET;
        else if (we == WE_AF_INET6)
            family = AF_INET6;
        else if (we == WE_AF_UNIX)
            return WASI_ENOSYS;
        else
            return WASI_EAFNOSUPPORT;
    } else {
        return WASI_EINVAL;
    }
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        memcpy(&sin->sin_addr, m->base + bytes, 4);
        *len = sizeof *sin;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        memcpy(&sin6->sin6_addr, m->base + bytes, 16);
        *len = sizeof *sin6;
    }
    return 0;
}

/* Where a V1 or V2 address result goes: the guest buffer (checked) and its length. */
typedef struct addr_out {
    uint32_t buf, len;
} addr_out;

static uint16_t address_buffer(const wasi_mem *m, uint32_t addr_ptr, addr_out *out) {
    if (!wasi_in_bounds(m, addr_ptr, WE_ADDR_SIZE)) return WASI_EFAULT;
    out->buf = wasi_load32(m, addr_ptr);
    out->len = wasi_load32(m, addr_ptr + 4);
    if (!wasi_in_bounds(m, out->buf, out->len)) return WASI_EFAULT;
    return 0;
}

/* Store a host address into a V2 storage buffer (128 bytes) or a V1 raw buffer (4/16 bytes).
 * *v1_type gets 4 or 6 and *port the host-order port. */
static uint16_t write_address(wasi_mem *m, const addr_out *out, const struct sockaddr_storage *ss,
                              uint32_t *v1_type, uint16_t *port) {
    const uint8_t *ip;
    uint32_t iplen;
    uint16_t we_family;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        ip = (const uint8_t *)&sin->sin_addr, iplen = 4, we_family = WE_AF_INET4;
        *v1_type = WE_V1_ADDR_TYPE_INET4;
        *port = ntohs(sin->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        ip = (const uint8_t *)&sin6->sin6_addr, iplen = 16, we_family = WE_AF_INET6;
        *v1_type = WE_V1_ADDR_TYPE_INET6;
        *port = ntohs(sin6->sin6_port);
    } else {
        return WASI_ENOTSUP; /* only inet sockets can be opened or accepted */
    }
    if (out->len == WE_ADDR_STORAGE_SIZE) {
        memset(m->base + out->buf, 0, WE_ADDR_STORAGE_SIZE);
        wasi_store16(m, out->buf, we_family);
        memcpy(m->base + out->buf + 2, ip, iplen);
    } else {
        if (out->len < iplen) return WASI_ENOMEM; /* as WasmEdge: the buffer cannot hold it */
        memcpy(m->base + out->buf, ip, iplen);
    }
    return 0;
}

/* ---- preview1 (and WasmEdge V2, which has the same signatures) ---- */

static uint16_t accept_into(wb_wasi *w, uint32_t fd, uint32_t flags, wasi_mem *m, uint32_t ro_fd) {
    uint16_t e;
    wasi_fd *f = sock_get(w, fd, WASI_RIGHT_SOCK_ACCEPT, &e);
    if (!f) return e;
    if (flags & ~WASI_FDFLAGS_ALL) return WASI_EINVAL;
    if (!wasi_in_bounds(m, ro_fd, 4)) return WASI_EFAULT; /* before a connection is taken */
    int nonblock = (flags & WASI_FDFLAG_NONBLOCK) ? SOCK_NONBLOCK : 0;
    int host = accept4(f->host, NULL, NULL, SOCK_CLOEXEC | nonblock);
    if (host < 0) return wasi_errno(errno);
    uint64_t rights = CONNECTION_RIGHTS & f->rights_inheriting;
    int family = f->sock_family, type = f->sock_type ? f->sock_type : SOCK_STREAM;
    uint32_t nfd;
    /* f may move when the table grows: nothing of it is used after the insert */
    e = insert_socket(w, host, family, type, rights, (uint16_t)(flags & WASI_FDFLAG_NONBLOCK),
                      &nfd);
    if (e) return e;
    wasi_store32(m, ro_fd, nfd);
    return 0;
}

/* sock_accept(fd, flags, ro_fd): preview1 and WasmEdge V2 */
static int sock_accept(wb_caller *c, void *env, wb_slot *s) {
    wasi_mem m = wasi_memory(c);
    return wasi_ret(s, accept_into(env, s[0].u32, s[1].u32, &m, s[2].u32));
}

/* sock_accept(fd, ro_fd): WasmEdge V1 (blocking flags of the listener, no fdflags) */
static int sock_accept_v1(wb_caller *c, void *env, wb_slot *s) {
    wasi_mem m = wasi_memory(c);
    return wasi_ret(s, accept_into(env, s[0].u32, 0, &m, s[1].u32));
}

/* recvmsg into guest iovecs; the address (if wanted) into *from. */
static uint16_t recv_common(wb_wasi *w, wasi_mem *m, uint32_t fd, uint32_t iovs, uint32_t niovs,
                            uint32_t ri_flags, uint32_t ro_len, uint32_t ro_flags,
                            struct sockaddr_storage *from) {
    uint16_t e;
    wasi_fd *f = sock_get(w, fd, WASI_RIGHT_FD_READ, &e);
    if (!f) return e;
    if (ri_flags & ~(uint32_t)(WASI_RI_RECV_PEEK | WASI_RI_RECV_WAITALL)) return WASI_EINVAL;
    if (niovs > WASI_MAX_IOVS) return WASI_EINVAL;
    /* every output is checked before data is taken from the socket */
    if (!wasi_in_bounds(m, ro_len, 4) || !wasi_in_bounds(m, ro_flags, 2)) return WASI_EFAULT;
    struct iovec small[WASI_IOVS_ON_STACK], *iov = wasi_iov_room(w, niovs, small);
    if ((e = wasi_iovecs(m, iovs, niovs, iov))) return e;
    cap_total(iov, niovs);
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = niovs};
    if (from) {
        memset(from, 0, sizeof *from);
        msg.msg_name = from;
        msg.msg_namelen = sizeof *from;
    }
    int flags = 0;
    if (ri_flags & WASI_RI_RECV_PEEK) flags |= MSG_PEEK;
    if (ri_flags & WASI_RI_RECV_WAITALL) flags |= MSG_WAITALL;
    ssize_t n = recvmsg(f->host, &msg, flags);
    if (n < 0) return wasi_errno(errno);
    wasi_store32(m, ro_len, (uint32_t)n);
    wasi_store16(m, ro_flags, (msg.msg_flags & MSG_TRUNC) ? WASI_RO_RECV_DATA_TRUNCATED : 0);
    return 0;
}

/* sock_recv(fd, ri_data, ri_data_len, ri_flags, ro_datalen, ro_flags): preview1, WasmEdge V1/V2 */
static int sock_recv(wb_caller *c, void *env, wb_slot *s) {
    wasi_mem m = wasi_memory(c);
    return wasi_ret(
        s, recv_common(env, &m, s[0].u32, s[1].u32, s[2].u32, s[3].u32, s[4].u32, s[5].u32, NULL));
}

/* sendmsg from guest iovecs, to `to` when given. */
static uint16_t send_common(wb_wasi *w, wasi_mem *m, uint32_t fd, uint32_t iovs, uint32_t niovs,
                            uint32_t si_flags, uint32_t so_len, const struct sockaddr_storage *to,
                            socklen_t tolen) {
    uint16_t e;
    wasi_fd *f = sock_get(w, fd, WASI_RIGHT_FD_WRITE, &e);
    if (!f) return e;
    if (si_flags != 0) return WASI_EINVAL; /* no siflags are defined */
    if (niovs > WASI_MAX_IOVS) return WASI_EINVAL;
    if (!wasi_in_bounds(m, so_len, 4)) return WASI_EFAULT;
    struct iovec small[WASI_IOVS_ON_STACK], *iov = wasi_iov_room(w, niovs, small);
    if ((e = wasi_iovecs(m, iovs, niovs, iov))) return e;
    cap_total(iov, niovs);
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = niovs};
    if (to) {
        msg.msg_name = (void *)to;
        msg.msg_namelen = tolen;
    }
    /* a closed peer is EPIPE for the guest, never SIGPIPE for the host */
    ssize_t n = sendmsg(f->host, &msg, MSG_NOSIGNAL);
    if (n < 0) return wasi_errno(errno);
    wasi_store32(m, so_len, (uint32_t)n);
    return 0;
}

/* sock_send(fd, si_data, si_data_len, si_flags, so_datalen): preview1, WasmEdge V1/V2 */
static int sock_send(wb_caller *c, void *env, wb_slot *s) {
    wasi_mem m = wasi_memory(c);
    return wasi_ret(
        s, send_common(env, &m, s[0].u32, s[1].u32, s[2].u32, s[3].u32, s[4].u32, NULL, 0));
}

/* sock_shutdown(fd, how) */
static int sock_shutdown(wb_caller *c, void *env, wb_slot *s) {
    uint16_t e;
    wasi_fd *f = sock_get(env, s[0].u32, WASI_RIGHT_SOCK_SHUTDOWN, &e);
    if (!f) return wasi_ret(s, e);
    int how;
    switch (s[1].u32) {
    case WASI_SHUT_RD: how = SHUT_RD; break;
    case WASI_SHUT_WR: how = SHUT_WR; break;
    case WASI_SHUT_RD | WASI_SHUT_WR: how = SHUT_RDWR; break;
    default: return wasi_ret(s, WASI_EINVAL);
    }
    if (shutdown(f->host, how) != 0) return wasi_ret(s, wasi_errno(errno));
    return wasi_ret(s, 0);
}

/* ---- WasmEdge extension ---- */

/* sock_open(address_family, sock_type, ro_fd): V1 and V2 */
static int sock_open(wb_caller *c, void *env, wb_slot *s) {
    wb_wasi *w = env;
    if (!w->allow_net) return wasi_ret(s, WASI_EACCES);
    wasi_mem m = wasi_memory(c);
    if (!wasi_in_bounds(&m, s[2].u32, 4)) return wasi_ret(s, WASI_EFAULT);
    int family, type;
    switch (s[0].u32) {
    case WE_AF_INET4: family = AF_INET; break;
    case WE_AF_INET6: family = AF_INET6; break;
    case WE_AF_UNIX: return wasi_ret(s, WASI_ENOSYS);
    default: return wasi_ret(s, WASI_EINVAL);
    }
    switch (s[1].u32) {
    case WE_SOCK_DGRAM: type = SOCK_DGRAM; break;
    case WE_SOCK_STREAM: type = SOCK_STREAM; break;
    default: return wasi_ret(s, WASI_EINVAL);
    }
    int host = socket(family, type | SOCK_CLOEXEC, 0);
    if (host < 0) return wasi_ret(s, wasi_errno(errno));
    uint32_t fd;
    uint16_t e = insert_socket(w, host, family, type, SOCKET_RIGHTS, 0, &fd);
    if (e) return wasi_ret(s, e);
    wasi_store32(&m, s[2].u32, fd);
    return wasi_ret(s, 0);
}

/* sock_bind(fd, address, port) and sock_connect(fd, address, port): V1 and V2 */
static uint16_t bind_or_connect(wb_caller *c, wb_wasi *w, wb_slot *s, bool connecting) {
    if (!w->allow_net) return WASI_EACCES;
    uint16_t e;
    wasi_fd *f = sock_get(w, s[0].u32, 0, &e);
    if (!f) return e;
    wasi_mem m = wasi_memory(c);
    struct sockaddr_storage ss;
    socklen_t len;
    if ((e = read_address(&m, s[1].u32, s[2].u32, &ss, &len))) return e;
    int r = connecting ? connect(f->host, (struct sockaddr *)&ss, len)
                       : bind(f->host, (struct sockaddr *)&ss, len);
    return r == 0 ? 0 : wasi_errno(errno);
}

static int sock_bind(wb_caller *c, void *env, wb_slot *s) {
    return wasi_ret(s, bind_or_connect(c, env, s, false));
}

static int sock_connect(wb_caller *c, void *env, wb_slot *s) {
    return wasi_ret(s, bind_or_connect(c, env, s, true));
}

/* sock_listen(fd, backlog): V1 and V2 */
static int sock_listen(wb_caller *c, void *env, wb_slot *s) {
    uint16_t e;
    wasi_fd *f = sock_get(env, s[0].u32, 0, &e);
    if (!f) return wasi_ret(s, e);
    if (listen(f->host, s[1].i32) != 0) return wasi_ret(s, wasi_errno(errno));
    return wasi_ret(s, 0);
}

/* Fill the address of a V1 (raw 4/16 bytes, no port) or V2 (128-byte storage) recv_from. The
 * data is already taken from the socket, so an address the buffer cannot hold is left out (as
 * WasmEdge does) rather than turned into an error that would lose the data. */
static void put_from(wasi_mem *m, const addr_out *out, const struct sockaddr_storage *from,
                     uint16_t *port) {
    uint32_t v1_type;
    *port = 0;
    if (from->ss_family == AF_UNSPEC) return; /* a connected stream: no address */
    if (write_address(m, out, from, &v1_type, port) != 0) *port = 0;
}

/* sock_recv_from(fd, ri_data, ri_data_len, address, ri_flags, ro_datalen, ro_flags): V1 */
static int sock_recv_from_v1(wb_caller *c, void *env, wb_slot *s) {
    wasi_mem m = wasi_memory(c);
    addr_out out;
    uint16_t e = address_buffer(&m, s[3].u32, &out);
    if (e) return wasi_ret(s, e);
    struct sockaddr_storage from;
    e = recv_common(env, &m, s[0].u32, s[1].u32, s[2].u32, s[4].u32, s[5].u32, s[6].u32, &from);
    if (e) return wasi_ret(s, e);
    uint16_t port;
    put_from(&m, &out, &from, &port);
    return wasi_ret(s, 0);
}

/* sock_recv_from(fd, ri_data, ri_data_len, address, ri_flags, ro_port, ro_datalen, ro_flags): V2.
 * The port is a u16 in host byte order. */
static int sock_recv_from_v2(wb_caller *c, void *env, wb_slot *s) {
    wasi_mem m = wasi_memory(c);
    addr_out out;
    uint16_t e = address_buffer(&m, s[3].u32, &out);
    if (e) return wasi_ret(s, e);
    if (!wasi_in_bounds(&m, s[5].u32, 2)) return wasi_ret(s, WASI_EFAULT);
    struct sockaddr_storage from;
    e = recv_common(env, &m, s[0].u32, s[1].u32, s[2].u32, s[4].u32, s[6].u32, s[7].u32, &from);
    if (e) return wasi_ret(s, e);
    uint16_t port;
    put_from(&m, &out, &from, &port);
    wasi_store16(&m, s[5].u32, port);
    return wasi_ret(s, 0);
}

/* sock_send_to(fd, si_data, si_data_len, address, port, si_flags, so_datalen): V1 and V2 */
static int sock_send_to(wb_caller *c, void *env, wb_slot *s) {
    wb_wasi *w = env;
    if (!w->allow_net) return wasi_ret(s, WASI_EACCES);
    wasi_mem m = wasi_memory(c);
    struct sockaddr_storage to;
    socklen_t len;
    uint16_t e = read_address(&m, s[3].u32, s[4].u32, &to, &len);
    if (e) return wasi_ret(s, e);
    return wasi_ret(s,
                    send_common(w, &m, s[0].u32, s[1].u32, s[2].u32, s[5].u32, s[6].u32, &to, len));
}

static bool sockopt_name(uint32_t level, uint32_t name, int *out) {
    if (level != WE_SOL_SOCKET || name >= sizeof sockopt_names / sizeof sockopt_names[0])
        return false;
    *out = sockopt_names[name];
    return true;
}

/* sock_getsockopt(fd, level, name, flag, flag_size_ptr): *flag_size_ptr is the buffer's size on
 * entry and the value's size on return. SO_ERROR is a WASI errno, SO_TYPE a WasmEdge sock_type;
 * other values are as Linux has them (int, struct linger, struct timeval: the same on wasm32). */
static int sock_getsockopt(wb_caller *c, void *env, wb_slot *s) {
    uint16_t e;
    wasi_fd *f = sock_get(env, s[0].u32, 0, &e);
    if (!f) return wasi_ret(s, e);
    int name;
    if (!sockopt_name(s[1].u32, s[2].u32, &name)) return wasi_ret(s, WASI_EINVAL);
    wasi_mem m = wasi_memory(c);
    uint32_t flag = s[3].u32, size_ptr = s[4].u32;
    if (!wasi_in_bounds(&m, size_ptr, 4)) return wasi_ret(s, WASI_EFAULT);
    uint32_t size = wasi_load32(&m, size_ptr);
    if (!wasi_in_bounds(&m, flag, size)) return wasi_ret(s, WASI_EFAULT);
    uint8_t value[SOCKOPT_MAX_SIZE] = {0};
    socklen_t len = size < sizeof value ? (socklen_t)size : (socklen_t)sizeof value;
    if (getsockopt(f->host, SOL_SOCKET, name, value, &len) != 0)
        return wasi_ret(s, wasi_errno(errno));
    if (len > size) len = (socklen_t)size;
    if ((name == SO_ERROR || name == SO_TYPE) && len == sizeof(int)) {
        int v;
        memcpy(&v, value, sizeof v);
        if (name == SO_ERROR)
            v = wasi_errno(v);
        else
            v = v == SOCK_DGRAM ? WE_SOCK_DGRAM : v == SOCK_STREAM ? WE_SOCK_STREAM : WE_SOCK_ANY;
        memcpy(value, &v, sizeof v);
    }
    memcpy(m.base + flag, value, len);
    wasi_store32(&m, size_ptr, (uint32_t)len);
    return wasi_ret(s, 0);
}

/* sock_setsockopt(fd, level, name, flag, flag_size) */
static int sock_setsockopt(wb_caller *c, void *env, wb_slot *s) {
    uint16_t e;
    wasi_fd *f = sock_get(env, s[0].u32, 0, &e);
    if (!f) return wasi_ret(s, e);
    int name;
    if (!sockopt_name(s[1].u32, s[2].u32, &name)) return wasi_ret(s, WASI_EINVAL);
    if (name == SO_TYPE || name == SO_ERROR || name == SO_ACCEPTCONN)
        return wasi_ret(s, WASI_ENOPROTOOPT); /* read-only options */
    wasi_mem m = wasi_memory(c);
    uint32_t flag = s[3].u32, size = s[4].u32;
    if (!wasi_in_bounds(&m, flag, size)) return wasi_ret(s, WASI_EFAULT);
    if (size > SOCKOPT_MAX_SIZE) return wasi_ret(s, WASI_EINVAL);
    uint8_t value[SOCKOPT_MAX_SIZE];
    memcpy(value, m.base + flag, size);
    if (setsockopt(f->host, SOL_SOCKET, name, value, (socklen_t)size) != 0)
        return wasi_ret(s, wasi_errno(errno));
    return wasi_ret(s, 0);
}

static uint16_t local_or_peer(wb_caller *c, wb_wasi *w, uint32_t fd, uint32_t addr_ptr,
                              uint32_t type_ptr, uint32_t port_ptr, bool v2, bool peer) {
    uint16_t e;
    wasi_fd *f = sock_get(w, fd, 0, &e);
    if (!f) return e;
    wasi_mem m = wasi_memory(c);
    addr_out out;
    if ((e = address_buffer(&m, addr_ptr, &out))) return e;
    if (v2 ? out.len != WE_ADDR_STORAGE_SIZE : out.len != 4 && out.len != 16) return WASI_EINVAL;
    if ((!v2 && !wasi_in_bounds(&m, type_ptr, 4)) || !wasi_in_bounds(&m, port_ptr, 4))
        return WASI_EFAULT;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    memset(&ss, 0, sizeof ss);
    int r = peer ? getpeername(f->host, (struct sockaddr *)&ss, &len)
                 : getsockname(f->host, (struct sockaddr *)&ss, &len);
    if (r != 0) return wasi_errno(errno);
    uint32_t v1_type;
    uint16_t port;
    if ((e = write_address(&m, &out, &ss, &v1_type, &port))) return e;
    if (!v2) wasi_store32(&m, type_ptr, v1_type);
    wasi_store32(&m, port_ptr, port);
    return 0;
}

/* sock_getlocaladdr(fd, address, ro_addr_type, ro_port): V1 */
static int sock_getlocaladdr_v1(wb_caller *c, void *env, wb_slot *s) {
    return wasi_ret(s, local_or_peer(c, env, s[0].u32, s[1].u32, s[2].u32, s[3].u32, false, false));
}
/* sock_getlocaladdr(fd, address, ro_port): V2 */
static int sock_getlocaladdr_v2(wb_caller *c, void *env, wb_slot *s) {
    return wasi_ret(s, local_or_peer(c, env, s[0].u32, s[1].u32, 0, s[2].u32, true, false));
}
static int sock_getpeeraddr_v1(wb_caller *c, void *env, wb_slot *s) {
    return wasi_ret(s, local_or_peer(c, env, s[0].u32, s[1].u32, s[2].u32, s[3].u32, false, true));
}
static int sock_getpeeraddr_v2(wb_caller *c, void *env, wb_slot *s) {
    return wasi_ret(s, local_or_peer(c, env, s[0].u32, s[1].u32, 0, s[2].u32, true, true));
}

/* ---- getaddrinfo ---- */

static uint16_t eai_errno(int eai) {
    switch (eai) {
    case EAI_ADDRFAMILY: return WE_EAI_ADDRFAMILY;
    case EAI_AGAIN: return WE_EAI_AGAIN;
    case EAI_BADFLAGS: return WE_EAI_BADFLAG;
    case EAI_FAIL: return WE_EAI_FAIL;
    case EAI_FAMILY: return WE_EAI_FAMILY;
    case EAI_MEMORY: return WE_EAI_MEMORY;
    case EAI_NODATA: return WE_EAI_NODATA;
    case EAI_NONAME: return WE_EAI_NONAME;
    case EAI_SERVICE: return WE_EAI_SERVICE;
    case EAI_SOCKTYPE: return WE_EAI_SOCKTYPE;
    case EAI_SYSTEM: return wasi_errno(errno);
    default: return WE_EAI_SYSTEM;
    }
}

/* A name argument: at most NAME_MAX_LEN bytes, ending at the first NUL (guests pass the NUL in
 * the length); empty means none. */
static uint16_t read_name(const wasi_mem *m, uint32_t ptr, uint32_t len, char *out, bool *given) {
    if (!wasi_in_bounds(m, ptr, len)) return WASI_EFAULT;
    const char *src = (const char *)m->base + ptr;
    size_t n = strnlen(src, len);
    if (n > NAME_MAX_LEN) return WASI_ENAMETOOLONG;
    memcpy(out, src, n);
    out[n] = '\0';
    *given = n > 0;
    return 0;
}

static uint8_t we_family_of(int family) {
    return family == AF_INET ? WE_AF_INET4 : family == AF_INET6 ? WE_AF_INET6 : WE_AF_UNSPEC;
}

/* Write one host result into the guest's addrinfo node `at`, whose ai_addr and ai_canonname
 * buffers the guest provided. */
static uint16_t put_addrinfo(wasi_mem *m, uint32_t at, const struct addrinfo *ai) {
    uint32_t sa = wasi_load32(m, at + 12);
    uint32_t canon = wasi_load32(m, at + 16), canon_cap = wasi_load32(m, at + 20);
    uint16_t flags = 0;
    if (ai->ai_flags & AI_PASSIVE) flags |= WE_AI_PASSIVE;
    if (ai->ai_flags & AI_CANONNAME) flags |= WE_AI_CANONNAME;
    if (ai->ai_flags & AI_NUMERICHOST) flags |= WE_AI_NUMERICHOST;
    if (ai->ai_flags & AI_NUMERICSERV) flags |= WE_AI_NUMERICSERV;
    if (ai->ai_flags & AI_V4MAPPED) flags |= WE_AI_V4MAPPED;
    if (ai->ai_flags & AI_ALL) flags |= WE_AI_ALL;
    if (ai->ai_flags & AI_ADDRCONFIG) flags |= WE_AI_ADDRCONFIG;
    wasi_store16(m, at, flags);
    wasi_store8(m, at + 2, we_family_of(ai->ai_family));
    wasi_store8(m, at + 3,
                ai->ai_socktype == SOCK_DGRAM    ? WE_SOCK_DGRAM
                : ai->ai_socktype == SOCK_STREAM ? WE_SOCK_STREAM
                                                 : WE_SOCK_ANY);
    wasi_store8(m, at + 4,
                ai->ai_protocol == IPPROTO_TCP   ? WE_PROTO_TCP
                : ai->ai_protocol == IPPROTO_UDP ? WE_PROTO_UDP
                                                 : WE_PROTO_IP);
    wasi_store32(m, at + 8, (uint32_t)ai->ai_addrlen);

    uint32_t canon_len = 0;
    if (ai->ai_canonname && canon_cap > 0) {
        if (!wasi_in_bounds(m, canon, canon_cap)) return WASI_EFAULT;
        size_t n = strlen(ai->ai_canonname);
        if (n >= canon_cap) n = canon_cap - 1; /* truncated to the guest's buffer */
        memcpy(m->base + canon, ai->ai_canonname, n);
        m->base[canon + n] = 0;
        canon_len = (uint32_t)n;
    }
    wasi_store32(m, at + 20, canon_len);

    if (ai->ai_addr && (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)) {
        if (!wasi_in_bounds(m, sa, WE_SOCKADDR_SIZE)) return WASI_EFAULT;
        /* sa_data is the sockaddr after its family: 14 bytes for IPv4, 26 for IPv6 (the guest
         * crate's buffers hold 26) */
        uint32_t data = wasi_load32(m, sa + 8);
        uint32_t n =
            ai->ai_family == AF_INET
                ? (uint32_t)(sizeof(struct sockaddr_in) - offsetof(struct sockaddr_in, sin_port))
                : (uint32_t)(sizeof(struct sockaddr_in6) -
                             offsetof(struct sockaddr_in6, sin6_port));
        if (!wasi_in_bounds(m, data, n)) return WASI_EFAULT;
        wasi_store8(m, sa, we_family_of(ai->ai_family));
        wasi_store32(m, sa + 4, n);
        memcpy(m->base + data, (const uint8_t *)ai->ai_addr + sizeof(sa_family_t), n);
    }
    return 0;
}

/* The guest's DNS_SERVER, WasmEdge's way for a module to choose its name server ("IP" or
 * "IP:PORT"); NULL when unset or empty. Docker's embedded resolver, 127.0.0.11:53, which Compose
 * files for Docker name (the seed's demo does), is the container's own resolv.conf server here
 * (the network's aardvark-dns): with a resolv.conf, that address means "the container's
 * resolver", and NULL is returned so that resolv.conf is read. */
static const char *dns_server_of(const wb_wasi *w) {
    for (uint32_t i = 0; i < w->envc; i++) {
        if (strncmp(w->env[i], "DNS_SERVER=", 11) != 0) continue;
        const char *v = w->env[i] + 11;
        if (w->resolv_path && (!strcmp(v, "127.0.0.11") || !strcmp(v, "127.0.0.11:53")))
            return NULL;
        return *v ? v : NULL;
    }
    return NULL;
}

/* sock_getaddrinfo(node, node_len, service, service_len, hints, res, max_res_len, res_len):
 * *res points to the guest's first addrinfo node; results fill it and its ai_next successors. */
static int sock_getaddrinfo(wb_caller *c, void *env, wb_slot *s) {
    wb_wasi *w = env;
    if (!w->allow_net) return wasi_ret(s, WASI_EACCES);
    wasi_mem m = wasi_memory(c);
    char node[NAME_MAX_LEN + 1], service[NAME_MAX_LEN + 1];
    bool has_node, has_service;
    uint16_t e = read_name(&m, s[0].u32, s[1].u32, node, &has_node);
    if (!e) e = read_name(&m, s[2].u32, s[3].u32, service, &has_service);
    if (e) return wasi_ret(s, e);
    uint32_t hints = s[4].u32, res = s[5].u32, max = s[6].u32, res_len = s[7].u32;
    if (!wasi_in_bounds(&m, hints, WE_ADDRINFO_SIZE) || !wasi_in_bounds(&m, res, 4) ||
        !wasi_in_bounds(&m, res_len, 4))
        return wasi_ret(s, WASI_EFAULT);
    if (!has_node && !has_service) return wasi_ret(s, WE_EAI_NONAME);
    if (max < 1) return wasi_ret(s, WE_EAI_MEMORY);
    if (max > ADDRINFO_MAX_RESULTS) max = ADDRINFO_MAX_RESULTS;

    uint16_t we_flags = load16(&m, hints);
    uint8_t we_family = m.base[hints + 2], we_type = m.base[hints + 3],
            we_proto = m.base[hints + 4];
    struct addrinfo hint = {0};
    if (we_flags & ~(uint16_t)0x7f) return wasi_ret(s, WE_EAI_BADFLAG);
    if ((we_flags & WE_AI_CANONNAME) && !has_node) return wasi_ret(s, WE_EAI_BADFLAG);
    if (we_flags & WE_AI_PASSIVE) hint.ai_flags |= AI_PASSIVE;
    if (we_flags & WE_AI_CANONNAME) hint.ai_flags |= AI_CANONNAME;
    if (we_flags & WE_AI_NUMERICHOST) hint.ai_flags |= AI_NUMERICHOST;
    if (we_flags & WE_AI_NUMERICSERV) hint.ai_flags |= AI_NUMERICSERV;
    if (we_flags & WE_AI_V4MAPPED) hint.ai_flags |= AI_V4MAPPED;
    if (we_flags & WE_AI_ALL) hint.ai_flags |= AI_ALL;
    if (we_flags & WE_AI_ADDRCONFIG) hint.ai_flags |= AI_ADDRCONFIG;
    switch (we_family) {
    case WE_AF_UNSPEC: hint.ai_family = AF_UNSPEC; break;
    case WE_AF_INET4: hint.ai_family = AF_INET; break;
    case WE_AF_INET6: hint.ai_family = AF_INET6; break;
    default: return wasi_ret(s, WE_EAI_FAMILY);
    }
    switch (we_type) {
    case WE_SOCK_ANY: hint.ai_socktype = 0; break;
    case WE_SOCK_DGRAM: hint.ai_socktype = SOCK_DGRAM; break;
    case WE_SOCK_STREAM: hint.ai_socktype = SOCK_STREAM; break;
    default: return wasi_ret(s, WASI_ENOSYS);
    }
    switch (we_proto) {
    case WE_PROTO_IP: hint.ai_protocol = 0; break;
    case WE_PROTO_TCP: hint.ai_protocol = IPPROTO_TCP; break;
    case WE_PROTO_UDP: hint.ai_protocol = IPPROTO_UDP; break;
    default: return wasi_ret(s, WASI_ENOSYS);
    }

    /* the container's view (or the guest's DNS_SERVER) through our resolver, else the host's */
    const char *dns_server = dns_server_of(w);
    bool own = w->hosts_path || w->resolv_path || dns_server;
    wb_dns_config dns = {w->hosts_path, w->resolv_path, dns_server};
    struct addrinfo *list = NULL;
    int r = own ? wb_dns_getaddrinfo(&dns, has_node ? node : NULL, has_service ? service : NULL,
                                     &hint, &list)
                : getaddrinfo(has_node ? node : NULL, has_service ? service : NULL, &hint, &list);
    if (r != 0) return wasi_ret(s, eai_errno(r));
    uint32_t count = 0, at = wasi_load32(&m, res);
    e = 0;
    for (const struct addrinfo *ai = list; ai && count < max; ai = ai->ai_next) {
        if (count > 0) {
            uint32_t prev = at;
            at = wasi_load32(&m, prev + 24);
        }
        if (!wasi_in_bounds(&m, at, WE_ADDRINFO_SIZE)) {
            e = WASI_EFAULT;
            break;
        }
        if ((e = put_addrinfo(&m, at, ai))) break;
        count++;
    }
    if (own)
        wb_dns_freeaddrinfo(list);
    else
        freeaddrinfo(list);
    if (e) return wasi_ret(s, e);
    wasi_store32(&m, res_len, count);
    return wasi_ret(s, 0);
}

const wasi_func_def wasi_sock_funcs[] = {
    /* preview1 (sock_accept, sock_recv, sock_send are also WasmEdge's V2 / shared signatures) */
    {"sock_accept", "iii:i", sock_accept},
    {"sock_recv", "iiiiii:i", sock_recv},
    {"sock_send", "iiiii:i", sock_send},
    {"sock_shutdown", "ii:i", sock_shutdown},
    /* WasmEdge V1 where its signature differs */
    {"sock_accept", "ii:i", sock_accept_v1},
    {"sock_recv_from", "iiiiiii:i", sock_recv_from_v1},
    {"sock_getlocaladdr", "iiii:i", sock_getlocaladdr_v1},
    {"sock_getpeeraddr", "iiii:i", sock_getpeeraddr_v1},
    /* WasmEdge, V1 and V2 sharing a signature */
    {"sock_open", "iii:i", sock_open},
    {"sock_bind", "iii:i", sock_bind},
    {"sock_connect", "iii:i", sock_connect},
    {"sock_listen", "ii:i", sock_listen},
    {"sock_send_to", "iiiiiii:i", sock_send_to},
    {"sock_getsockopt", "iiiii:i", sock_getsockopt},
    {"sock_setsockopt", "iiiii:i", sock_setsockopt},
    {"sock_getaddrinfo", "iiiiiiii:i", sock_getaddrinfo},
    /* WasmEdge V2 */
    {"sock_recv_from", "iiiiiiii:i", sock_recv_from_v2},
    {"sock_getlocaladdr", "iii:i", sock_getlocaladdr_v2},
    {"sock_getpeeraddr", "iii:i", sock_getpeeraddr_v2},
    /* WasmEdge's explicit _v2 names */
    {"sock_open_v2", "iii:i", sock_open},
    {"sock_bind_v2", "iii:i", sock_bind},
    {"sock_connect_v2", "iii:i", sock_connect},
    {"sock_listen_v2", "ii:i", sock_listen},
    {"sock_accept_v2", "iii:i", sock_accept},
    {"sock_recv_v2", "iiiiii:i", sock_recv},
    {"sock_recv_from_v2", "iiiiiiii:i", sock_recv_from_v2},
    {"sock_send_v2", "iiiii:i", sock_send},
    {"sock_send_to_v2", "iiiiiii:i", sock_send_to},
    {"sock_getlocaladdr_v2", "iii:i", sock_getlocaladdr_v2},
    {"sock_getpeeraddr_v2", "iii:i", sock_getpeeraddr_v2},
    {NULL, NULL, NULL},
};
