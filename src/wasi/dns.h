/* wasi/dns.h — name resolution for sock_getaddrinfo on a container's view: getaddrinfo(3) as
 * glibc answers it (the `hosts: files dns` sources, its search-list rules, its RFC 3484 order),
 * but over a given hosts file and resolv.conf instead of the host's, with a DNS client of its own
 * (UDP; TCP when a reply is truncated) whose sockets are opened in the calling thread's network
 * namespace. No state is kept between calls and nothing is global: any number of threads may
 * resolve at once. Where it differs from glibc: see docs/wasi.md ("Names"). */
#ifndef WB_WASI_DNS_H
#define WB_WASI_DNS_H

#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest one call waits for name servers in all (glibc's defaults, timeout 5 and attempts
 * 2, give one server 10 s; more servers or search domains never add to it). */
#define WB_DNS_MAX_WAIT_MS 10000
/* Addresses kept from one DNS reply; the rest are ignored. */
#define WB_DNS_MAX_ADDRS 64

typedef struct wb_dns_config {
    /* the hosts file to read (glibc's format), as a host path; NULL: none is consulted */
    const char *hosts_path;
    /* resolv.conf, as a host path; NULL or missing: glibc's defaults (name server 127.0.0.1,
     * no search list, ndots 1, timeout 5, attempts 2) */
    const char *resolv_path;
    /* "IP", "IP:PORT" or "[IPv6]:PORT" (WasmEdge's DNS_SERVER): the one name server to ask,
     * replacing resolv.conf's; NULL: resolv.conf's. A malformed value fails the lookups that
     * need a name server with EAI_FAIL. */
    const char *server;
} wb_dns_config;

/* getaddrinfo(3) on cfg's view: node and service may be NULL (not both), hints may be NULL
 * (glibc's defaults); flags AI_PASSIVE, AI_CANONNAME, AI_NUMERICHOST, AI_NUMERICSERV,
 * AI_V4MAPPED, AI_ALL, AI_ADDRCONFIG. The hosts file and resolv.conf are read at each call.
 * Returns 0 with a list in *res that the caller owns and frees with wb_dns_freeaddrinfo (never
 * with freeaddrinfo), or an EAI_* code with *res NULL: EAI_NONAME for a name that does not
 * exist, EAI_NODATA for one without addresses of the family, EAI_AGAIN when no server answered,
 * EAI_SERVICE, EAI_SOCKTYPE, EAI_FAMILY, EAI_BADFLAGS, EAI_ADDRFAMILY, EAI_FAIL (cfg->server). */
int wb_dns_getaddrinfo(const wb_dns_config *cfg, const char *node, const char *service,
                       const struct addrinfo *hints, struct addrinfo **res);
/* Frees a list from wb_dns_getaddrinfo (NULL is fine). */
void wb_dns_freeaddrinfo(struct addrinfo *res);

/* ---- the DNS message parser (for the tests and the fuzz target) ---- */

#define WB_DNS_TYPE_A     1
#define WB_DNS_TYPE_CNAME 5
#define WB_DNS_TYPE_AAAA  28

typedef struct wb_dns_reply {
    int rcode;        /* the header's RCODE (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ...) */
    bool truncated;   /* TC: the answer section may be incomplete (ask again over TCP) */
    uint16_t flags;   /* the header's flags word (QR, AA, TC, RD, RA, RCODE, ...) */
    uint16_t ancount; /* answer records the header announces */
    uint16_t arcount; /* additional records the header announces */
    int naddrs;       /* addresses of the question's type owned by `canon`, in reply order */
    uint8_t addrs[WB_DNS_MAX_ADDRS][16]; /* 4 bytes for A, 16 for AAAA */
    char canon[256]; /* the question's name after the CNAME chain in the answer, no final dot */
} wb_dns_reply;

/* Parses msg (len bytes, untrusted) as the reply to a query with `id` for (qname, qtype, class
 * IN): 0 with *out filled, or -1 when it is not such a reply (another id or question, not a
 * response, malformed) and must be ignored. Compression pointers may only point before the name
 * that uses them, so no message can make the parser loop or read outside msg. A truncated (TC)
 * reply keeps what could be parsed. */
int wb_dns_parse_reply(const uint8_t *msg, size_t len, uint16_t id, const char *qname,
                       uint16_t qtype, wb_dns_reply *out);

#endif
