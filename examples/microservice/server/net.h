/* net: the few socket calls the service makes, in two builds: wasm32-wasi through WasmEdge's
 * socket extension (raw imports, V2 forms, names through sock_getaddrinfo; needs `wasmbox run
 * --net` or a container), and POSIX sockets for the native build. Descriptors are plain ints;
 * waiting uses poll(), which wasi-libc maps to poll_oneoff. Calls return >= 0, or -errno (WASI
 * errno values in the Wasm build, which wasi-libc's E* constants and strerror use too). */
#ifndef MS_NET_H
#define MS_NET_H

#include <stddef.h>

#include "base.h"

/* A listening TCP socket on 0.0.0.0:port; the descriptor, or -1 with err set. */
int net_listen(int port, ms_error *err);
/* The port a listening socket is bound to, or -errno. */
int net_local_port(int fd);
/* A connection from the listener, or -errno. */
int net_accept(int lfd);
/* A connected TCP socket to host:port: the name is resolved (sock_getaddrinfo in the Wasm build,
 * so a container's /etc/hosts and DNS apply) and each address is tried in turn. The descriptor,
 * or -1 with err set. */
int net_connect(const char *host, int port, ms_error *err);
/* Bytes received (> 0), 0 at the end of the stream, or -errno. */
long net_recv(int fd, void *buf, size_t len);
/* Bytes sent (> 0), or -errno. */
long net_send(int fd, const void *buf, size_t len);
/* Sends all of buf: 0, or -errno. */
int net_send_all(int fd, const void *buf, size_t len);
/* Sends all of a then all of b, gathered (no copy into one buffer): 0, or -errno. */
int net_send_all2(int fd, const void *a, size_t a_len, const void *b, size_t b_len);
/* Makes blocking receives and sends on fd fail with EAGAIN after ms (SO_RCVTIMEO and
 * SO_SNDTIMEO): 0, or -errno when the runtime does not take them. */
int net_set_timeouts(int fd, int ms);
/* Waits until fd is readable (or at its end, or in error): 1, 0 after timeout_ms (-1: no
 * limit), or -errno. */
int net_wait_readable(int fd, int timeout_ms);
void net_close(int fd);

#endif
