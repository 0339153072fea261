/* getaddrinfo over a given hosts file and resolv.conf (see dns.h). The structure follows glibc
 * 2.36 so that results and errors agree with it: getaddrinfo's checks and service tuples
 * (sysdeps/posix/getaddrinfo.c), the `files` source (nss_files/files-hosts.c, "multi on"), the
 * `dns` source with res_search's search-list rules (resolv/res_query.c), and the RFC 3484 sort of
 * the results with glibc's default tables. Written from those descriptions; no code is shared. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "wasi/dns.h"

/* Limits on what is read from files and the network. */
#define HOSTS_MAX_BYTES  (1 << 20) /* of a hosts file; the rest is ignored */
#define RESOLV_MAX_BYTES (64 << 10)
#define MAX_NAMESERVERS  3  /* as glibc's MAXNS */
#define MAX_SEARCH       32 /* search domains */
#define MAX_NDOTS        15 /* glibc's RES_MAXNDOTS, RES_MAXRETRANS, RES_MAXRETRY */
#define MAX_TIMEOUT      30
#define MAX_ATTEMPTS     5
#define MAX_TUPLES       256 /* addresses of one name */
#define MAX_CNAME_HOPS   16
#define MAX_ANSWER_RRS   512 /* answer records looked at in one reply */
#define MSG_MAX          65535
#define NAME_MAX_TEXT    253 /* a domain name in text, without the final dot */
#define QUERY_MAX        (12 + 255 + 4)
#define IFADDRS_MAX      1024

#define DNS_CLASS_IN   1
#define RCODE_NOERROR  0
#define RCODE_SERVFAIL 2
#define RCODE_NXDOMAIN 3
#define RCODE_NOTIMP   4
#define RCODE_REFUSED  5

/* NSS statuses and h_errno values, as the glibc code this follows uses them */
enum { NSS_SUCCESS, NSS_NOTFOUND, NSS_TRYAGAIN, NSS_UNAVAIL };
enum { H_NONE, H_HOST_NOT_FOUND, H_TRY_AGAIN, H_NO_RECOVERY, H_NO_DATA };

/* One address of the name, before service tuples are applied. */
typedef struct addr_tuple {
    int family;
    uint8_t addr[16];
    uint32_t scope_id;
} addr_tuple;

typedef struct tuple_list {
    addr_tuple *v;
    size_t n, cap;
} tuple_list;

typedef struct resolv_conf {
    struct sockaddr_storage ns[MAX_NAMESERVERS];
    socklen_t ns_len[MAX_NAMESERVERS];
    int nns;
    char *search_text; /* owns the strings search[] points into */
    const char *search[MAX_SEARCH];
    int nsearch;
    int ndots, timeout, attempts;
    bool use_vc;
} resolv_conf;

/* The state of one wb_dns_getaddrinfo call. */
typedef struct dns_ctx {
    const wb_dns_config *cfg;
    int64_t deadline; /* CLOCK_MONOTONIC ms: no server is waited for past it */
    char *hosts;      /* the hosts file, read on first use (NUL-terminated) */
    bool hosts_read, hosts_missing;
    resolv_conf rc;
    int rc_state;     /* 0 not read, 1 read, -1 cfg->server is malformed */
    uint8_t *buf;     /* MSG_MAX bytes for replies, allocated on first use */
    bool refused;     /* the last query reached no server (ECONNREFUSED from every one) */
    bool servfailed;  /* the last query got SERVFAIL from a server */
    int last_errno;   /* as glibc's errno after its last exchange: 0 (a reply), ETIMEDOUT or
                       * ECONNREFUSED; it decides between NOTFOUND and UNAVAIL */
    bool check_names; /* nss_dns's gethostbyname2/4 look only for host names (res_hnok) */
} dns_ctx;

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint16_t random16(void) {
    uint16_t v;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) == (ssize_t)sizeof v) return v;
    /* no entropy yet (early boot): the clock is a weak substitute, the port is random anyway */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint16_t)(ts.tv_nsec ^ (ts.tv_nsec >> 16) ^ (uintptr_t)&v);
}

static bool is_space(int c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_digit(int c) {
    return c >= '0' && c <= '9';
}

/* Reads at most max bytes of path into a NUL-terminated buffer (the caller frees it); NULL when
 * it cannot be opened or read. */
static char *read_text(const char *path, size_t max) {
    FILE *f = fopen(path, "re");
    if (!f) return NULL;
    char *text = wb_malloc(max + 1);
    size_t n = fread(text, 1, max, f);
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(text);
        return NULL;
    }
    text[n] = '\0';
    return text;
}

/* ---- addresses ---- */

static void tuple_add(tuple_list *l, int family, const void *addr, uint32_t scope_id) {
    addr_tuple t = {.family = family, .scope_id = scope_id};
    memcpy(t.addr, addr, family == AF_INET ? 4 : 16);
    for (size_t i = 0; i < l->n; i++) /* the same address twice is of no use to anyone */
        if (l->v[i].family == family && memcmp(l->v[i].addr, t.addr, 16) == 0 &&
            l->v[i].scope_id == scope_id)
            return;
    if (l->n >= MAX_TUPLES) return;
    WB_VEC_RESERVE(l->v, l->cap, l->n + 1);
    l->v[l->n++] = t;
}

/* An IPv4 address as an IPv4-mapped IPv6 one. */
static void map_v4(const uint8_t v4[4], uint8_t out[16]) {
    memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    memcpy(out + 12, v4, 4);
}

/* glibc's inet_aton_exact: one to four parts, each decimal, octal (0...) or hex (0x...), the
 * last filling the remaining bytes; nothing else around them. */
static bool parse_ipv4_classic(const char *s, uint8_t out[4]) {
    uint64_t parts[4];
    int n = 0;
    for (;;) {
        if (!is_digit(*s)) return false;
        uint64_t v = 0;
        int base = 10;
        bool digit = false;
        if (*s == '0') {
            s++;
            digit = true;
            if (*s == 'x' || *s == 'X') {
                base = 16;
                s++;
                digit = false;
            } else {
                base = 8;
            }
        }
        for (;; s++) {
            int d;
            if (is_digit(*s))
                d = *s - '0';
            else if (base == 16 && *s >= 'a' && *s <= 'f')
                d = *s - 'a' + 10;
            else if (base == 16 && *s >= 'A' && *s <= 'F')
                d = *s - 'A' + 10;
            else
                break;
            if (d >= base) return false;
            v = v * (uint64_t)base + (uint64_t)d;
            if (v > 0xffffffffu) return false;
            digit = true;
        }
        if (!digit) return false;
        parts[n++] = v;
        if (*s == '.' && n < 4) {
            s++;
            continue;
        }
        break;
    }
    if (*s != '\0') return false;
    uint64_t max_last[] = {0xffffffffu, 0xffffffu, 0xffffu, 0xffu};
    if (parts[n - 1] > max_last[n - 1]) return false;
    uint32_t v = (uint32_t)parts[n - 1];
    for (int i = 0; i < n - 1; i++) {
        if (parts[i] > 0xff) return false;
        v |= (uint32_t)parts[i] << (24 - 8 * i);
    }
    out[0] = (uint8_t)(v >> 24), out[1] = (uint8_t)(v >> 16), out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
    return true;
}

/* glibc's __inet6_scopeid_pton: an interface name for link-local addresses, else a number. */
static bool parse_scope_id(const uint8_t addr[16], const char *scope, uint32_t *out) {
    const struct in6_addr *a = (const struct in6_addr *)addr;
    if (IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_MC_NODELOCAL(a) || IN6_IS_ADDR_MC_LINKLOCAL(a)) {
        unsigned idx = if_nametoindex(scope);
        if (idx != 0) {
            *out = idx;
            return true;
        }
    }
    if (!is_digit(scope[0])) return false;
    char *end;
    unsigned long long v = strtoull(scope, &end, 10);
    if (*end != '\0' || v > UINT32_MAX) return false;
    *out = (uint32_t)v;
    return true;
}

/* An IPv6 address with an optional %scope: true with addr and *scope_id set; false when text is
 * not IPv6; *bad_scope when it is but the scope is not known. */
static bool parse_ipv6_scoped(const char *text, uint8_t addr[16], uint32_t *scope_id,
                              bool *bad_scope) {
    char buf[INET6_ADDRSTRLEN + 1];
    const char *pct = strchr(text, '%');
    size_t n = pct ? (size_t)(pct - text) : strlen(text);
    *scope_id = 0;
    *bad_scope = false;
    if (n >= sizeof buf) return false;
    memcpy(buf, text, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET6, buf, addr) != 1) return false;
    if (pct && !parse_scope_id(addr, pct + 1, scope_id)) *bad_scope = true;
    return true;
}

/* ---- resolv.conf and DNS_SERVER ---- */

static bool parse_port(const char *s, uint16_t *port) {
    if (!*s || strlen(s) > 5) return false;
    unsigned v = 0;
    for (; *s; s++) {
        if (!is_digit(*s)) return false;
        v = v * 10 + (unsigned)(*s - '0');
    }
    if (v == 0 || v > 65535) return false;
    *port = (uint16_t)v;
    return true;
}

/* "IP", "IP:PORT", "[IPv6]", "[IPv6]:PORT" or a bare IPv6 address; port 53 by default. */
static bool parse_server(const char *text, struct sockaddr_storage *ss, socklen_t *len) {
    char host[INET6_ADDRSTRLEN + 16];
    uint16_t port = 53;
    const char *colon = strchr(text, ':');
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || (size_t)(close - text - 1) >= sizeof host) return false;
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        if (close[1] == ':') {
            if (!parse_port(close + 2, &port)) return false;
        } else if (close[1] != '\0') {
            return false;
        }
    } else if (colon && !strchr(colon + 1, ':')) { /* one colon: IPv4:PORT */
        if ((size_t)(colon - text) >= sizeof host) return false;
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
        if (!parse_port(colon + 1, &port)) return false;
    } else {
        if (strlen(text) >= sizeof host) return false;
        strcpy(host, text);
    }
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    bool bad_scope;
    uint32_t scope;
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        *len = sizeof *sin;
        return true;
    }
    if (parse_ipv6_scoped(host, sin6->sin6_addr.s6_addr, &scope, &bad_scope) && !bad_scope) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        sin6->sin6_scope_id = scope;
        *len = sizeof *sin6;
        return true;
    }
    return false;
}

/* A resolv.conf `nameserver` value as glibc's res_init takes it. */
static void add_nameserver(resolv_conf *rc, char *value) {
    if (rc->nns >= MAX_NAMESERVERS) return;
    value[strcspn(value, ";# \t\n")] = '\0';
    struct sockaddr_storage *ss = &rc->ns[rc->nns];
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    uint32_t scope;
    bool bad_scope;
    if (parse_ipv4_classic(value, (uint8_t *)&sin->sin_addr)) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(53);
        rc->ns_len[rc->nns++] = sizeof *sin;
    } else if (parse_ipv6_scoped(value, sin6->sin6_addr.s6_addr, &scope, &bad_scope)) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(53);
        sin6->sin6_scope_id = bad_scope ? 0 : scope;
        rc->ns_len[rc->nns++] = sizeof *sin6;
    }
}

/* `search a b c` or `domain a`: the list is replaced by the words of the line (only the first
 * for `domain`). */
static void set_search(resolv_conf *rc, const char *value, bool first_only) {
    free(rc->search_text);
    rc->search_text = wb_strdup(value);
    rc->nsearch = 0;
    char *p = rc->search_text;
    while (*p && rc->nsearch < MAX_SEARCH) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p || *p == '\n') break;
        rc->search[rc->nsearch++] = p;
        p += strcspn(p, " \t\n");
        if (*p) *p++ = '\0';
        if (first_only) break;
    }
}

static int clamp_option(const char *v, int max) {
    int n = atoi(v);
    return n < 0 ? 0 : n > max ? max : n;
}

static void set_options(resolv_conf *rc, char *p) {
    while (*p) {
        while (is_space(*p)) p++;
        char *word = p;
        p += strcspn(p, " \t\n\r\v\f");
        if (*p) *p++ = '\0';
        if (strncmp(word, "ndots:", 6) == 0)
            rc->ndots = clamp_option(word + 6, MAX_NDOTS);
        else if (strncmp(word, "timeout:", 8) == 0)
            rc->timeout = clamp_option(word + 8, MAX_TIMEOUT);
        else if (strncmp(word, "attempts:", 9) == 0)
            rc->attempts = clamp_option(word + 9, MAX_ATTEMPTS);
        else if (strcmp(word, "use-vc") == 0)
            rc->use_vc = true;
        /* others (rotate, edns0, single-request, trust-ad, ...) change nothing here */
    }
}

/* A keyword at the start of a line, followed by blank space. */
static char *keyword(char *line, const char *word) {
    size_t n = strlen(word);
    if (strncmp(line, word, n) != 0 || (line[n] != ' ' && line[n] != '\t')) return NULL;
    char *v = line + n;
    while (*v == ' ' || *v == '\t') v++;
    return *v ? v : NULL;
}

/* Reads resolv.conf as glibc's res_init does; -1 when cfg->server is malformed. */
static int load_resolv_conf(dns_ctx *c) {
    resolv_conf *rc = &c->rc;
    rc->ndots = 1;
    rc->timeout = 5;
    rc->attempts = 2;
    char *text = c->cfg->resolv_path ? read_text(c->cfg->resolv_path, RESOLV_MAX_BYTES) : NULL;
    for (char *line = text, *next; line && *line; line = next) {
        next = line + strcspn(line, "\n");
        if (*next) *next++ = '\0';
        if (*line == '#' || *line == ';') continue;
        char *v;
        if ((v = keyword(line, "nameserver")))
            add_nameserver(rc, v);
        else if ((v = keyword(line, "domain")))
            set_search(rc, v, true);
        else if ((v = keyword(line, "search")))
            set_search(rc, v, false);
        else if ((v = keyword(line, "options")))
            set_options(rc, v);
    }
    free(text);
    if (rc->attempts < 1) rc->attempts = 1;
    if (c->cfg->server) {
        rc->nns = 0;
        if (!parse_server(c->cfg->server, &rc->ns[0], &rc->ns_len[0])) return -1;
        rc->nns = 1;
    }
    if (rc->nns == 0) { /* as glibc: the loopback address */
        struct sockaddr_in *sin = (struct sockaddr_in *)&rc->ns[0];
        memset(&rc->ns[0], 0, sizeof rc->ns[0]);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(53);
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        rc->ns_len[0] = sizeof *sin;
        rc->nns = 1;
    }
    return 0;
}

/* ---- DNS messages ---- */

static uint16_t get16(const uint8_t *p) {
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* A text name (no final dot) in wire form; false for an empty label, one over 63 bytes, a name
 * over 253 or characters that are not printable ASCII. */
static bool encode_name(const char *name, uint8_t *out, size_t *len) {
    size_t o = 0, n = strlen(name);
    if (n > NAME_MAX_TEXT) return false;
    if (n == 0) { /* the root */
        out[0] = 0;
        *len = 1;
        return true;
    }
    for (const char *p = name;;) {
        size_t l = strcspn(p, ".");
        if (l == 0 || l > 63) return false;
        out[o++] = (uint8_t)l;
        for (size_t i = 0; i < l; i++) {
            unsigned char ch = (unsigned char)p[i];
            if (ch <= 0x20 || ch >= 0x7f || ch == '\\') return false;
            out[o++] = ch;
        }
        p += l;
        if (!*p) break;
        p++;
        if (!*p) return false; /* callers strip the final dot */
    }
    out[o++] = 0;
    *len = o;
    return true;
}

static int build_query(uint16_t id, const char *name, uint16_t qtype, uint8_t *msg) {
    size_t nlen;
    memset(msg, 0, 12);
    put16(msg, id);
    msg[2] = 0x01; /* RD */
    put16(msg + 4, 1);
    if (!encode_name(name, msg + 12, &nlen)) return -1;
    put16(msg + 12 + nlen, qtype);
    put16(msg + 14 + nlen, DNS_CLASS_IN);
    return (int)(16 + nlen);
}

/* Reads the (possibly compressed) name at off. Returns the offset after it where it starts, or
 * -1 if it is malformed; out gets the name in text (no final dot) and *printable whether every
 * label was printable ASCII without dots (otherwise out is unusable). A pointer must point
 * before the start of the labels that lead to it, so each jump goes further back: no loops. */
static long read_name(const uint8_t *msg, size_t len, size_t off, char out[256], bool *printable) {
    size_t pos = off, segment = off, o = 0, wire = 1;
    long after = -1;
    *printable = true;
    for (;;) {
        if (pos >= len) return -1;
        uint8_t c = msg[pos];
        if ((c & 0xc0) == 0xc0) {
            if (pos + 1 >= len) return -1;
            size_t target = (size_t)(c & 0x3f) << 8 | msg[pos + 1];
            if (target >= segment) return -1;
            if (after < 0) after = (long)(pos + 2);
            pos = segment = target;
            continue;
        }
        if (c & 0xc0) return -1; /* extended label types are not used */
        if (c == 0) {
            if (after < 0) after = (long)(pos + 1);
            break;
        }
        if (pos + 1 + c > len) return -1;
        wire += 1u + c;
        if (wire > 255) return -1;
        if (o) out[o++] = '.';
        for (size_t i = 0; i < c; i++) {
            uint8_t ch = msg[pos + 1 + i];
            if (ch <= 0x20 || ch >= 0x7f || ch == '.' || ch == '\\') *printable = false;
            out[o++] = (char)ch;
        }
        pos += 1u + c;
    }
    out[o] = '\0';
    return after;
}

typedef struct rr_ref {
    uint32_t owner; /* offset of the owner name */
    uint16_t type;
    uint16_t rdlen;
    uint32_t rdata; /* offset */
} rr_ref;

/* Whether the owner of r is `name` (case-insensitively). */
static bool owner_is(const uint8_t *msg, size_t len, const rr_ref *r, const char *name) {
    char owner[256];
    bool printable;
    return read_name(msg, len, r->owner, owner, &printable) >= 0 && printable &&
           strcasecmp(owner, name) == 0;
}

int wb_dns_parse_reply(const uint8_t *msg, size_t len, uint16_t id, const char *qname,
                       uint16_t qtype, wb_dns_reply *out) {
    if (len < 12 || get16(msg) != id) return -1;
    uint16_t flags = get16(msg + 2);
    if (!(flags & 0x8000) || (flags & 0x7800) != 0) return -1; /* a response to a QUERY */
    if (get16(msg + 4) != 1) return -1;
    char name[256];
    bool printable;
    long off = read_name(msg, len, 12, name, &printable);
    if (off < 0 || (size_t)off + 4 > len || !printable || strcasecmp(name, qname) != 0 ||
        get16(msg + off) != qtype || get16(msg + off + 2) != DNS_CLASS_IN)
        return -1;
    off += 4;
    memset(out, 0, sizeof *out);
    out->rcode = flags & 0xf;
    out->truncated = (flags & 0x0200) != 0;
    out->flags = flags;
    out->ancount = get16(msg + 6);
    out->arcount = get16(msg + 10);
    snprintf(out->canon, sizeof out->canon, "%s", qname);

    /* the answer section's records (a truncated reply: those that are whole) */
    rr_ref *rr = wb_calloc(MAX_ANSWER_RRS, sizeof *rr);
    int nrr = 0;
    for (unsigned i = 0; i < out->ancount; i++) {
        long next = read_name(msg, len, (size_t)off, name, &printable);
        if (next < 0 || (size_t)next + 10 > len) goto malformed;
        rr_ref r = {.owner = (uint32_t)off,
                    .type = get16(msg + next),
                    .rdlen = get16(msg + next + 8),
                    .rdata = (uint32_t)next + 10};
        if ((size_t)r.rdata + r.rdlen > len) goto malformed;
        if (get16(msg + next + 2) == DNS_CLASS_IN && nrr < MAX_ANSWER_RRS) rr[nrr++] = r;
        off = (long)(r.rdata + r.rdlen);
    }
    /* follow the CNAME chain from the question's name, in whatever order the records come */
    for (int hop = 0; hop < MAX_CNAME_HOPS; hop++) {
        int i;
        for (i = 0; i < nrr; i++)
            if (rr[i].type == WB_DNS_TYPE_CNAME && owner_is(msg, len, &rr[i], out->canon)) break;
        if (i == nrr) break;
        char target[256];
        long end = read_name(msg, len, rr[i].rdata, target, &printable);
        if (end < 0 || (size_t)end > (size_t)rr[i].rdata + rr[i].rdlen || !printable) break;
        memcpy(out->canon, target, sizeof target);
    }
    size_t want = qtype == WB_DNS_TYPE_A ? 4 : 16;
    for (int i = 0; i < nrr && out->naddrs < WB_DNS_MAX_ADDRS; i++)
        if (rr[i].type == qtype && rr[i].rdlen == want && owner_is(msg, len, &rr[i], out->canon))
            memcpy(out->addrs[out->naddrs++], msg + rr[i].rdata, want);
    free(rr);
    return 0;
malformed:
    free(rr);
    if (!out->truncated) return -1;
    out->naddrs = 0; /* cut short: only the flags count, the client asks again over TCP */
    return 0;
}

/* ---- talking to name servers ---- */

enum { Q_PENDING, Q_DONE, Q_FAILED };

typedef struct dns_query {
    uint16_t qtype, id;
    int state; /* Q_DONE: a reply to use; Q_FAILED: the server answered SERVFAIL, NOTIMP, REFUSED */
    wb_dns_reply reply;
} dns_query;

static bool same_server(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
    if (a->ss_family != b->ss_family) return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
}

/* Waits until fd is ready for `events` or `end` (ms) passes: true when ready. */
static bool wait_fd(int fd, short events, int64_t end) {
    for (;;) {
        int64_t left = end - now_ms();
        if (left <= 0) return false;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, left > 1000 ? 1000 : (int)left);
        if (r > 0) return true;
        if (r < 0 && errno != EINTR) return false;
    }
}

static bool write_all(int fd, const uint8_t *p, size_t n, int64_t end) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w, n -= (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_fd(fd, POLLOUT, end)) return false;
        } else {
            return false;
        }
    }
    return true;
}

static bool read_all(int fd, uint8_t *p, size_t n, int64_t end) {
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r > 0) {
            p += r, n -= (size_t)r;
        } else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_fd(fd, POLLIN, end)) return false;
        } else {
            return false;
        }
    }
    return true;
}

/* Takes a parsed reply for q: DONE, or FAILED for what makes glibc ask the next server: the
 * rcodes SERVFAIL, NOTIMP and REFUSED, and an empty NOERROR without AA, RA or additional records
 * (a server that is not one for this name). */
static void take_reply(dns_ctx *c, dns_query *q) {
    const wb_dns_reply *r = &q->reply;
    int rcode = r->rcode;
    bool lame = rcode == RCODE_NOERROR && r->ancount == 0 && r->arcount == 0 &&
                !(r->flags & 0x0400) && !(r->flags & 0x0080);
    if (rcode == RCODE_SERVFAIL || rcode == RCODE_NOTIMP || rcode == RCODE_REFUSED || lame) {
        q->state = Q_FAILED;
        if (rcode == RCODE_SERVFAIL) c->servfailed = true;
    } else {
        q->state = Q_DONE;
    }
}

/* One query over TCP (2-byte length prefix each way); q keeps its state when nothing usable
 * came back. Returns false when the server refused the connection. */
static bool tcp_query(dns_ctx *c, const struct sockaddr_storage *ns, socklen_t nslen,
                      const char *name, dns_query *q, int64_t end) {
    int fd = socket(ns->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return true;
    bool refused = false;
    if (connect(fd, (const struct sockaddr *)ns, nslen) != 0) {
        int e = errno;
        if (e != EINPROGRESS) {
            refused = e == ECONNREFUSED;
            goto out;
        }
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (!wait_fd(fd, POLLOUT, end) || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
            goto out;
        if (soerr != 0) {
            refused = soerr == ECONNREFUSED;
            goto out;
        }
    }
    uint8_t msg[2 + QUERY_MAX];
    q->id = random16();
    int n = build_query(q->id, name, q->qtype, msg + 2);
    if (n < 0) goto out;
    put16(msg, (uint16_t)n);
    uint8_t lenbuf[2];
    if (!write_all(fd, msg, (size_t)n + 2, end) || !read_all(fd, lenbuf, 2, end)) goto out;
    size_t rlen = get16(lenbuf);
    if (!read_all(fd, c->buf, rlen, end)) goto out;
    if (wb_dns_parse_reply(c->buf, rlen, q->id, name, q->qtype, &q->reply) == 0) {
        q->reply.truncated = false; /* nothing more to ask for over TCP */
        take_reply(c, q);
    }
out:
    close(fd);
    return !refused;
}

enum { EX_ANSWERED, EX_NOTHING, EX_REFUSED };

/* Sends the pending queries to one server over UDP (as glibc does, all at once from one socket)
 * and collects their replies until all have one or timeout_ms passes; a truncated reply is asked
 * again over TCP. EX_ANSWERED when at least one query is DONE. */
static int udp_exchange(dns_ctx *c, const struct sockaddr_storage *ns, socklen_t nslen,
                        const char *name, dns_query *q, int nq, int timeout_ms) {
    int64_t end = now_ms() + timeout_ms;
    if (end > c->deadline) end = c->deadline;
    int fd = socket(ns->ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return EX_NOTHING;
    int result = EX_NOTHING;
    if (connect(fd, (const struct sockaddr *)ns, nslen) != 0) {
        result = errno == ECONNREFUSED ? EX_REFUSED : EX_NOTHING;
        goto out;
    }
    for (int i = 0; i < nq; i++) {
        if (q[i].state != Q_PENDING) continue;
        uint8_t msg[QUERY_MAX];
        q[i].id = random16();
        int n = build_query(q[i].id, name, q[i].qtype, msg);
        if (n < 0) goto out;
        if (send(fd, msg, (size_t)n, MSG_NOSIGNAL) < 0) {
            result = errno == ECONNREFUSED ? EX_REFUSED : EX_NOTHING;
            goto out;
        }
    }
    for (;;) {
        int pending = 0;
        for (int i = 0; i < nq; i++) pending += q[i].state == Q_PENDING;
        if (!pending || !wait_fd(fd, POLLIN, end)) break;
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(fd, c->buf, MSG_MAX, 0, (struct sockaddr *)&from, &fromlen);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) continue;
            if (errno == ECONNREFUSED) result = EX_REFUSED;
            break;
        }
        if (!same_server(&from, ns)) continue;
        for (int i = 0; i < nq; i++) {
            if (q[i].state != Q_PENDING ||
                wb_dns_parse_reply(c->buf, (size_t)n, q[i].id, name, q[i].qtype, &q[i].reply) != 0)
                continue;
            if (q[i].reply.truncated)
                tcp_query(c, ns, nslen, name, &q[i], end);
            else
                take_reply(c, &q[i]);
            if (q[i].state == Q_PENDING) q[i].state = Q_FAILED; /* TCP gave nothing */
            break;
        }
    }
    for (int i = 0; i < nq; i++)
        if (q[i].state == Q_DONE) result = EX_ANSWERED;
out:
    close(fd);
    return result;
}

/* Asks the name servers in turn, `attempts` rounds (glibc's res_send): true when at least one
 * query got a reply to use. c->refused tells whether every server refused the connection. */
static bool dns_send(dns_ctx *c, const char *name, dns_query *q, int nq) {
    const resolv_conf *rc = &c->rc;
    bool reached = false;
    c->servfailed = false;
    for (int attempt = 0; attempt < rc->attempts; attempt++) {
        for (int s = 0; s < rc->nns; s++) {
            if (now_ms() >= c->deadline) goto out;
            /* glibc's wait for the s-th server */
            int seconds = rc->timeout << s;
            if (s > 0) seconds /= rc->nns;
            if (seconds <= 0) seconds = 1;
            for (int i = 0; i < nq; i++) q[i].state = Q_PENDING;
            int r;
            if (rc->use_vc) {
                int64_t end = now_ms() + seconds * 1000;
                if (end > c->deadline) end = c->deadline;
                r = EX_NOTHING;
                for (int i = 0; i < nq; i++)
                    if (!tcp_query(c, &rc->ns[s], rc->ns_len[s], name, &q[i], end)) r = EX_REFUSED;
                for (int i = 0; i < nq; i++)
                    if (q[i].state == Q_DONE) r = EX_ANSWERED;
            } else {
                r = udp_exchange(c, &rc->ns[s], rc->ns_len[s], name, q, nq, seconds * 1000);
            }
            if (r == EX_ANSWERED) {
                c->refused = false;
                c->last_errno = 0;
                return true;
            }
            if (r != EX_REFUSED) reached = true;
        }
    }
out:
    c->refused = !reached;
    c->last_errno = reached ? ETIMEDOUT : ECONNREFUSED;
    return false;
}

/* res_querydomain + res_query for name[.domain]: true when a reply holds answers (for A and
 * AAAA at once: either does), else false with *herr as glibc sets h_errno. */
static bool query_domain(dns_ctx *c, const char *name, const char *domain, dns_query *q, int nq,
                         char *full, int *herr) {
    size_t n = strlen(name);
    if (!domain) {
        if (n > 0 && name[n - 1] == '.') n--; /* absolute: without its final dot */
        if (n > NAME_MAX_TEXT) {
            *herr = H_NO_RECOVERY;
            return false;
        }
        memcpy(full, name, n);
        full[n] = '\0';
    } else {
        size_t d = strlen(domain);
        if (n + 1 + d > NAME_MAX_TEXT) {
            *herr = H_NO_RECOVERY;
            return false;
        }
        memcpy(full, name, n);
        full[n] = '.';
        memcpy(full + n + 1, domain, d + 1);
    }
    uint8_t probe[QUERY_MAX];
    if (build_query(0, full, WB_DNS_TYPE_A, probe) < 0) {
        *herr = H_NO_RECOVERY;
        return false;
    }
    if (!dns_send(c, full, q, nq)) {
        *herr = H_TRY_AGAIN;
        return false;
    }
    const wb_dns_reply *hp = NULL, *hp2 = NULL;
    for (int i = 0; i < nq; i++) {
        if (q[i].state != Q_DONE) continue;
        if (!hp)
            hp = &q[i].reply;
        else
            hp2 = &q[i].reply;
    }
    if (!hp2) hp2 = hp;
    if ((hp->rcode != RCODE_NOERROR || hp->ancount == 0) &&
        (hp2->rcode != RCODE_NOERROR || hp2->ancount == 0)) {
        switch (hp->rcode == RCODE_NOERROR ? hp2->rcode : hp->rcode) {
        case RCODE_NXDOMAIN: *herr = H_HOST_NOT_FOUND; break;
        case RCODE_SERVFAIL: *herr = H_TRY_AGAIN; break;
        case RCODE_NOERROR: *herr = H_NO_DATA; break;
        default: *herr = H_NO_RECOVERY; break;
        }
        return false;
    }
    return true;
}

/* glibc's res_search: the name as is first when it has ndots dots or a final one, else the search
 * domains first; NXDOMAIN and no data move on to the next domain, other failures stop the
 * search. */
static bool dns_search(dns_ctx *c, const char *name, dns_query *q, int nq, char *full, int *herr) {
    const resolv_conf *rc = &c->rc;
    int dots = 0;
    for (const char *p = name; *p; p++) dots += *p == '.';
    size_t n = strlen(name);
    bool trailing = n > 0 && name[n - 1] == '.';
    int saved = -1, got_nodata = 0, got_servfail = 0;
    bool tried_as_is = false, root_on_list = false;
    *herr = H_HOST_NOT_FOUND;
    if (dots >= rc->ndots || trailing) {
        if (query_domain(c, name, NULL, q, nq, full, herr)) return true;
        if (trailing) return false;
        saved = *herr;
        tried_as_is = true;
    }
    if (!trailing) {
        for (int i = 0; i < rc->nsearch; i++) {
            const char *domain = rc->search[i];
            if (domain[0] == '.') domain++;
            if (domain[0] == '\0') root_on_list = true;
            if (query_domain(c, name, domain, q, nq, full, herr)) return true;
            if (c->refused) { /* no server at all: glibc gives up at once */
                *herr = H_TRY_AGAIN;
                return false;
            }
            if (*herr == H_NO_DATA)
                got_nodata++;
            else if (*herr == H_TRY_AGAIN && c->servfailed)
                got_servfail++;
            else if (*herr != H_HOST_NOT_FOUND)
                break;
        }
    }
    if (!tried_as_is && !root_on_list) {
        if (query_domain(c, name, NULL, q, nq, full, herr)) return true;
    }
    if (saved != -1)
        *herr = saved;
    else if (got_nodata)
        *herr = H_NO_DATA;
    else if (got_servfail)
        *herr = H_TRY_AGAIN;
    return false;
}

/* ---- the two sources: the hosts file and DNS ---- */

/* The next whitespace-separated word of a hosts line, or NULL at its end. */
static const char *next_word(const char **p, const char *end, size_t *len) {
    while (*p < end && is_space((unsigned char)**p)) (*p)++;
    if (*p >= end) return NULL;
    const char *w = *p;
    while (*p < end && !is_space((unsigned char)**p)) (*p)++;
    *len = (size_t)(*p - w);
    return w;
}

/* A hosts line's address read as nss_files does for a lookup of `family`: false to skip it. */
static bool hosts_address(const char *word, size_t len, int family, int *got_family,
                          uint8_t addr[16]) {
    char text[INET6_ADDRSTRLEN + 1];
    if (len >= sizeof text) return false;
    memcpy(text, word, len);
    text[len] = '\0';
    if (inet_pton(family == AF_INET6 ? AF_INET6 : AF_INET, text, addr) == 1) {
        *got_family = family == AF_INET6 ? AF_INET6 : AF_INET;
        return true;
    }
    if (family == AF_INET6 || inet_pton(AF_INET6, text, addr) != 1) return false;
    if (family == AF_UNSPEC) {
        *got_family = AF_INET6;
        return true;
    }
    /* an IPv4 lookup takes IPv4-mapped addresses and ::1 (as 127.0.0.1) */
    static const uint8_t loopback6[16] = {[15] = 1};
    if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)addr))
        memmove(addr, addr + 12, 4);
    else if (memcmp(addr, loopback6, 16) == 0)
        memcpy(addr, (uint8_t[]){127, 0, 0, 1}, 4);
    else
        return false;
    *got_family = AF_INET;
    return true;
}

/* nss_files for `name`: every line naming it (case-insensitively), in file order, read for
 * `family` (AF_UNSPEC: both); IPv4 results become IPv4-mapped with to_v6. *canon gets the first
 * such line's first name. */
static int hosts_lookup(dns_ctx *c, const char *name, int family, bool to_v6, tuple_list *out,
                        char **canon, int *herr) {
    if (!c->hosts_read) {
        c->hosts_read = true;
        c->hosts = read_text(c->cfg->hosts_path, HOSTS_MAX_BYTES);
        c->hosts_missing = c->hosts == NULL;
    }
    if (c->hosts_missing) {
        *herr = H_NO_DATA;
        return NSS_UNAVAIL;
    }
    size_t name_len = strlen(name);
    bool found = false;
    for (const char *line = c->hosts; *line;) {
        const char *eol = line + strcspn(line, "\n");
        const char *hash = memchr(line, '#', (size_t)(eol - line));
        const char *end = hash ? hash : eol, *p = line;
        line = *eol ? eol + 1 : eol;
        size_t alen, hlen, wlen;
        const char *aword = next_word(&p, end, &alen);
        const char *hname = aword ? next_word(&p, end, &hlen) : NULL;
        if (!hname) continue;
        bool match = hlen == name_len && strncasecmp(hname, name, name_len) == 0;
        for (const char *w; !match && (w = next_word(&p, end, &wlen));)
            match = wlen == name_len && strncasecmp(w, name, name_len) == 0;
        uint8_t addr[16];
        int got;
        if (!match || !hosts_address(aword, alen, family, &got, addr)) continue;
        if (!found && !*canon) *canon = wb_strndup(hname, hlen);
        found = true;
        if (got == AF_INET && to_v6) {
            uint8_t mapped[16];
            map_v4(addr, mapped);
            tuple_add(out, AF_INET6, mapped, 0);
        } else {
            tuple_add(out, got, addr, 0);
        }
    }
    *herr = found ? H_NONE : H_HOST_NOT_FOUND;
    return found ? NSS_SUCCESS : NSS_NOTFOUND;
}

/* glibc's res_hnok: printable, labels of [0-9A-Za-z_-] (none empty but a final one), not
 * starting with '-'. */
static bool host_name_ok(const char *name) {
    if (name[0] == '-') return false;
    size_t n = strlen(name), label = 0;
    if (n > NAME_MAX_TEXT + 1) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (ch == '.') {
            if (label == 0 && !(i == 0 && n == 1)) return false;
            label = 0;
        } else if ((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= 'a' && ch <= 'z') || ch == '-' || ch == '_') {
            if (++label > 63) return false;
        } else {
            return false;
        }
    }
    return n <= NAME_MAX_TEXT || name[n - 1] == '.';
}

/* nss_dns for `name`: A and AAAA for AF_UNSPEC (A first, as glibc), A for AF_INET, AAAA for
 * AF_INET6; A results become IPv4-mapped with to_v6. -1: cfg->server is malformed. */
static int dns_lookup(dns_ctx *c, const char *name, int family, bool to_v6, tuple_list *out,
                      char **canon, int *herr) {
    if (c->check_names && !host_name_ok(name)) {
        *herr = H_HOST_NOT_FOUND;
        return NSS_NOTFOUND;
    }
    if (c->rc_state == 0) c->rc_state = load_resolv_conf(c) < 0 ? -1 : 1;
    if (c->rc_state < 0) return -1;
    if (!c->buf) c->buf = wb_malloc(MSG_MAX);
    dns_query q[2] = {0};
    int nq = 0;
    if (family != AF_INET6) q[nq++].qtype = WB_DNS_TYPE_A;
    if (family != AF_INET) q[nq++].qtype = WB_DNS_TYPE_AAAA;
    char full[NAME_MAX_TEXT + 1];
    if (!dns_search(c, name, q, nq, full, herr)) /* as nss_dns: by errno, not h_errno */
        return c->last_errno == ETIMEDOUT || c->last_errno == ECONNREFUSED ? NSS_UNAVAIL
                                                                           : NSS_NOTFOUND;
    bool any = false;
    for (int i = 0; i < nq; i++) {
        const wb_dns_reply *r = &q[i].reply;
        if (q[i].state != Q_DONE || r->rcode != RCODE_NOERROR) continue;
        for (int k = 0; k < r->naddrs; k++) {
            if (!any && !*canon) *canon = wb_strdup(r->canon);
            any = true;
            if (q[i].qtype == WB_DNS_TYPE_A && to_v6) {
                uint8_t mapped[16];
                map_v4(r->addrs[k], mapped);
                tuple_add(out, AF_INET6, mapped, 0);
            } else {
                tuple_add(out, q[i].qtype == WB_DNS_TYPE_A ? AF_INET : AF_INET6, r->addrs[k], 0);
            }
        }
    }
    if (!any) {
        /* records, but none of them an address of the name (a CNAME going nowhere): nss_dns
         * fails to parse such an answer (unlike an empty one, which is no data) */
        *herr = H_NO_RECOVERY;
        return NSS_UNAVAIL;
    }
    *herr = H_NONE;
    return NSS_SUCCESS;
}

static int source_lookup(dns_ctx *c, int source, const char *name, int family, bool to_v6,
                         tuple_list *out, char **canon, int *herr) {
    return source == 0 ? hosts_lookup(c, name, family, to_v6, out, canon, herr)
                       : dns_lookup(c, name, family, to_v6, out, canon, herr);
}

static int no_data_of(int status, int herr) {
    if (status == NSS_SUCCESS) return 0;
    return herr == H_TRY_AGAIN ? EAI_AGAIN : herr == H_NO_DATA;
}

/* gaih_inet's walk over `hosts: files dns`: the first source that knows the name answers.
 * Returns 0 or a negative EAI_* code. */
static int resolve_name(dns_ctx *c, const char *name, const struct addrinfo *req, tuple_list *at,
                        char **canon, bool *got_ipv6) {
    int no_data = 0, no_inet6_data = 0, status = NSS_UNAVAIL, inet6_status = NSS_UNAVAIL, herr;
    int family = req->ai_family;
    c->check_names = family == AF_UNSPEC || !(req->ai_flags & AI_CANONNAME);
    if (family == AF_INET && !(req->ai_flags & AI_CANONNAME)) {
        /* glibc takes gethostbyname2_r here, whose failures map differently */
        for (int source = c->cfg->hosts_path ? 0 : 1; source < 2; source++) {
            status = source_lookup(c, source, name, AF_INET, false, at, canon, &herr);
            if (status < 0) return -EAI_FAIL;
            if (status == NSS_SUCCESS) return 0;
        }
        if (status == NSS_NOTFOUND) return herr == H_NO_DATA ? -EAI_NODATA : -EAI_NONAME;
        return herr == H_TRY_AGAIN ? -EAI_AGAIN : -EAI_NODATA;
    }
    for (int source = c->cfg->hosts_path ? 0 : 1; source < 2; source++) {
        no_data = 0;
        if (family == AF_UNSPEC) {
            status = source_lookup(c, source, name, AF_UNSPEC, false, at, canon, &herr);
            if (status < 0) return -EAI_FAIL;
            no_inet6_data = no_data = no_data_of(status, herr);
        } else {
            if (family == AF_INET6) {
                size_t before = at->n;
                status = source_lookup(c, source, name, AF_INET6, false, at, canon, &herr);
                if (status < 0) return -EAI_FAIL;
                no_inet6_data = no_data = no_data_of(status, herr);
                inet6_status = status;
                if (status == NSS_SUCCESS && at->n > before) *got_ipv6 = true;
            }
            if (family == AF_INET ||
                ((req->ai_flags & AI_V4MAPPED) && ((req->ai_flags & AI_ALL) || !*got_ipv6))) {
                status =
                    source_lookup(c, source, name, AF_INET, family == AF_INET6, at, canon, &herr);
                if (status < 0) return -EAI_FAIL;
                no_data = no_data_of(status, herr);
                if (family == AF_INET) {
                    no_inet6_data = no_data;
                    inet6_status = status;
                }
            }
            if (inet6_status == NSS_SUCCESS || status == NSS_SUCCESS)
                status = NSS_SUCCESS;
            else if (inet6_status == NSS_TRYAGAIN)
                status = NSS_TRYAGAIN;
            else if (status == NSS_UNAVAIL && inet6_status != NSS_UNAVAIL)
                status = inet6_status;
        }
        if (status == NSS_SUCCESS) break;
    }
    if (no_data != 0 && no_inet6_data != 0)
        return no_data == EAI_AGAIN && no_inet6_data == EAI_AGAIN ? -EAI_AGAIN : -EAI_NODATA;
    return at->n > 0 ? 0 : -EAI_NONAME;
}

/* ---- services ---- */

#define PROTO_NOSERVICE 1
#define PROTO_ANY       2

typedef struct type_proto {
    int socktype, protocol;
    uint8_t flags;
    bool by_default; /* returned when the hints name neither type nor protocol */
    const char *name;
} type_proto;

/* glibc's table (gaih_inet_typeproto): its first and last entries mark the ends */
static const type_proto type_protos[] = {
    {0, 0, 0, false, ""},
    {SOCK_STREAM, IPPROTO_TCP, 0, true, "tcp"},
    {SOCK_DGRAM, IPPROTO_UDP, 0, true, "udp"},
#if defined SOCK_DCCP && defined IPPROTO_DCCP
    {SOCK_DCCP, IPPROTO_DCCP, 0, false, "dccp"},
#endif
#ifdef IPPROTO_UDPLITE
    {SOCK_DGRAM, IPPROTO_UDPLITE, 0, false, "udplite"},
#endif
#ifdef IPPROTO_SCTP
    {SOCK_STREAM, IPPROTO_SCTP, 0, false, "sctp"},
    {SOCK_SEQPACKET, IPPROTO_SCTP, 0, false, "sctp"},
#endif
    {SOCK_RAW, 0, PROTO_ANY | PROTO_NOSERVICE, true, "raw"},
    {0, 0, 0, false, ""},
};
#define MAX_SERV_TUPLES 8

typedef struct serv_tuple {
    int socktype, protocol;
    uint16_t port; /* network order */
} serv_tuple;

/* The port of a named service for a protocol, from the services database. */
static bool service_port(const char *service, const char *proto, uint16_t *port) {
    size_t size = 1024;
    for (;;) {
        char *buf = wb_malloc(size);
        struct servent se, *found = NULL;
        int e = getservbyname_r(service, proto, &se, buf, size, &found);
        if (e == 0 && found) *port = (uint16_t)found->s_port;
        free(buf);
        if (e != ERANGE || size >= 65536) return e == 0 && found;
        size *= 2;
    }
}

static int protocol_of(const type_proto *tp, const struct addrinfo *req) {
    return (tp->flags & PROTO_ANY) ? req->ai_protocol : tp->protocol;
}

/* glibc's service tuples: which (type, protocol, port) combinations each address is returned
 * with. port_num < 0: the service is a name. Returns 0 or a negative EAI_* code. */
static int service_tuples(const char *service, long port_num, const struct addrinfo *req,
                          serv_tuple *st, int *nst) {
    const type_proto *tp = type_protos;
    *nst = 0;
    if (req->ai_protocol || req->ai_socktype) {
        ++tp;
        while (tp->name[0] && ((req->ai_socktype != 0 && req->ai_socktype != tp->socktype) ||
                               (req->ai_protocol != 0 && !(tp->flags & PROTO_ANY) &&
                                req->ai_protocol != tp->protocol)))
            ++tp;
        if (!tp->name[0]) return req->ai_socktype ? -EAI_SOCKTYPE : -EAI_SERVICE;
    }
    uint16_t port = 0;
    if (service) {
        if (tp->flags & PROTO_NOSERVICE) return -EAI_SERVICE;
        if (port_num < 0) {
            if (tp->name[0]) {
                if (!service_port(service, tp->name, &port)) return -EAI_SERVICE;
                st[(*nst)++] = (serv_tuple){tp->socktype, protocol_of(tp, req), port};
                return 0;
            }
            for (tp++; tp->name[0] && *nst < MAX_SERV_TUPLES; tp++) {
                if ((tp->flags & PROTO_NOSERVICE) ||
                    (req->ai_socktype != 0 && req->ai_socktype != tp->socktype) ||
                    (req->ai_protocol != 0 && !(tp->flags & PROTO_ANY) &&
                     req->ai_protocol != tp->protocol))
                    continue;
                if (service_port(service, tp->name, &port))
                    st[(*nst)++] = (serv_tuple){tp->socktype, protocol_of(tp, req), port};
            }
            return *nst ? 0 : -EAI_SERVICE;
        }
        port = htons((uint16_t)port_num);
    }
    if (req->ai_socktype || req->ai_protocol) {
        st[(*nst)++] = (serv_tuple){tp->socktype, protocol_of(tp, req), port};
        return 0;
    }
    for (tp++; tp->name[0] && *nst < MAX_SERV_TUPLES; tp++)
        if (tp->by_default) st[(*nst)++] = (serv_tuple){tp->socktype, tp->protocol, port};
    return 0;
}

/* ---- the host's addresses (for AI_ADDRCONFIG and the sort) ---- */

/* glibc's in6addrinfo flags */
#define ADDR_DEPRECATED 1
#define ADDR_HOME       2

typedef struct if_addr {
    uint8_t addr[16]; /* IPv4 addresses IPv4-mapped */
    uint8_t prefixlen, flags;
    uint32_t index;
} if_addr;

typedef struct if_info {
    bool seen_ipv4, seen_ipv6; /* an address other than 127.0.0.1 / ::1 */
    if_addr *v;                /* only when seen_ipv6, as glibc's __check_pf */
    size_t n;
} if_info;

static bool netlink_addrs(if_info *inf) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return false;
    struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
    socklen_t nllen = sizeof nl;
    bool ok = false, done = false;
    size_t cap = 0;
    if (bind(fd, (struct sockaddr *)&nl, sizeof nl) != 0 ||
        getsockname(fd, (struct sockaddr *)&nl, &nllen) != 0)
        goto out;
    struct {
        struct nlmsghdr nh;
        struct rtgenmsg g;
        uint8_t pad[3];
    } req = {.nh = {.nlmsg_len = sizeof req,
                    .nlmsg_type = RTM_GETADDR,
                    .nlmsg_flags = NLM_F_ROOT | NLM_F_MATCH | NLM_F_REQUEST,
                    .nlmsg_seq = (uint32_t)time(NULL)},
             .g = {.rtgen_family = AF_UNSPEC}};
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) goto out;
    uint32_t buf32[2048];
    uint8_t *buf = (uint8_t *)buf32;
    while (!done) {
        struct sockaddr_nl from;
        struct iovec iov = {buf, sizeof buf32};
        struct msghdr msg = {
            .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1};
        ssize_t n = recvmsg(fd, &msg, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 || (msg.msg_flags & MSG_TRUNC)) goto out;
        size_t left = (size_t)n;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left);
             h = NLMSG_NEXT(h, left)) {
            if (from.nl_pid != 0 || h->nlmsg_pid != nl.nl_pid || h->nlmsg_seq != req.nh.nlmsg_seq)
                continue;
            if (h->nlmsg_type == NLMSG_DONE) {
                done = true;
                break;
            }
            if (h->nlmsg_type == NLMSG_ERROR) goto out;
            if (h->nlmsg_type != RTM_NEWADDR) continue;
            struct ifaddrmsg *ifa = NLMSG_DATA(h);
            if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) continue;
            const uint8_t *local = NULL, *address = NULL;
            size_t alen = NLMSG_PAYLOAD(h, sizeof *ifa);
            for (struct rtattr *rta = IFA_RTA(ifa); RTA_OK(rta, alen) && !address;
                 rta = RTA_NEXT(rta, alen)) {
                size_t want = ifa->ifa_family == AF_INET ? 4 : 16;
                if (RTA_PAYLOAD(rta) < want) continue;
                if (rta->rta_type == IFA_LOCAL) local = RTA_DATA(rta);
                if (rta->rta_type == IFA_ADDRESS) address = RTA_DATA(rta);
            }
            if (!address) address = local;
            if (!address) continue;
            if_addr a = {.prefixlen = ifa->ifa_prefixlen, .index = ifa->ifa_index};
            if (ifa->ifa_flags & (IFA_F_DEPRECATED | IFA_F_OPTIMISTIC)) a.flags |= ADDR_DEPRECATED;
            if (ifa->ifa_flags & IFA_F_HOMEADDRESS) a.flags |= ADDR_HOME;
            if (ifa->ifa_family == AF_INET) {
                static const uint8_t lo4[4] = {127, 0, 0, 1};
                if (memcmp(address, lo4, 4) != 0) inf->seen_ipv4 = true;
                map_v4(address, a.addr);
            } else {
                if (!IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)address)) inf->seen_ipv6 = true;
                memcpy(a.addr, address, 16);
            }
            if (inf->n < IFADDRS_MAX) {
                WB_VEC_RESERVE(inf->v, cap, inf->n + 1);
                inf->v[inf->n++] = a;
            }
        }
    }
    ok = true;
out:
    close(fd);
    return ok;
}

static void if_info_load(if_info *inf) {
    memset(inf, 0, sizeof *inf);
    if (!netlink_addrs(inf)) {
        free(inf->v);
        memset(inf, 0, sizeof *inf);
        inf->seen_ipv4 = inf->seen_ipv6 = true; /* as glibc when it cannot tell: both */
        return;
    }
    if (!inf->seen_ipv6) { /* glibc keeps the list only then */
        free(inf->v);
        inf->v = NULL;
        inf->n = 0;
    }
}

/* ---- the RFC 3484 sort, with glibc's default tables (no /etc/gai.conf) ---- */

typedef struct sort_item {
    struct addrinfo *ai;
    struct sockaddr_storage src; /* the source address the kernel would pick */
    bool got_src;                /* false: the destination is unreachable */
    uint8_t src_flags, prefixlen;
    uint32_t index;
} sort_item;

typedef struct prefix_entry {
    uint8_t prefix[16];
    unsigned bits;
    int value;
} prefix_entry;

static const prefix_entry default_labels[] = {
    {{[15] = 1}, 128, 0},  {{0x20, 0x02}, 16, 2},
    {{0}, 96, 3},          {{[10] = 0xff, [11] = 0xff}, 96, 4},
    {{0xfe, 0xc0}, 10, 5}, {{0xfc}, 7, 6},
    {{0x20, 0x01}, 32, 7}, {{0}, 0, 1},
};

static const prefix_entry default_precedence[] = {
    {{[15] = 1}, 128, 50}, {{0x20, 0x02}, 16, 30},
    {{0}, 96, 20},         {{[10] = 0xff, [11] = 0xff}, 96, 10},
    {{0}, 0, 40},
};

/* An address as IPv6 bytes (IPv4 as IPv4-mapped); false for other families. */
static bool v6_bytes(const struct sockaddr *sa, uint8_t out[16]) {
    if (sa->sa_family == AF_INET) {
        map_v4((const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr, out);
        return true;
    }
    if (sa->sa_family != AF_INET6) return false;
    memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    return true;
}

static int match_prefix(const struct sockaddr *sa, const prefix_entry *list, int fallback) {
    uint8_t a[16];
    if (!v6_bytes(sa, a)) return fallback;
    for (;; list++) {
        unsigned bits = list->bits, i = 0;
        while (bits >= 8 && list->prefix[i] == a[i]) bits -= 8, i++;
        if (bits == 0) break; /* the whole prefix matched (i may be 16 here) */
        if (bits < 8 && ((list->prefix[i] ^ a[i]) & (0xff00 >> bits) & 0xff) == 0) break;
    }
    return list->value;
}

static int get_scope(const struct sockaddr *sa) {
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_MULTICAST(a)) return a->s6_addr[1] & 0xf;
        if (IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_LOOPBACK(a)) return 2;
        return IN6_IS_ADDR_SITELOCAL(a) ? 5 : 14;
    }
    if (sa->sa_family == AF_INET) {
        uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
        if ((a & 0xffff0000u) == 0xa9fe0000u || (a & 0xff000000u) == 0x7f000000u) return 2;
        return 14;
    }
    return 15;
}

/* Leading bits in common ("fls" in glibc, which counts from the top). */
static int common_bits(uint32_t x) {
    int n = 0;
    for (uint32_t mask = 1u << 31; mask && !(x & mask); mask >>= 1) n++;
    return n;
}

/* Rule 9 for IPv4: the common prefix only counts inside the source's subnet. */
static int v4_match(const sort_item *a) {
    uint32_t dst = ntohl(((const struct sockaddr_in *)a->ai->ai_addr)->sin_addr.s_addr);
    uint32_t src = ntohl(((const struct sockaddr_in *)&a->src)->sin_addr.s_addr);
    /* glibc shifts by 32 when the prefix length is unknown (0), which x86 takes as 0 */
    uint32_t mask = a->prefixlen ? 0xffffffffu << (32 - a->prefixlen) : 0xffffffffu;
    return (src & mask) == (dst & mask) ? common_bits(dst ^ src) : 0;
}

/* glibc's rfc3484_sort, rules 1-6 and 8-10 (rule 7, native transport, needs the interface
 * type and is left out). */
static int compare_items(const sort_item *a1, size_t i1, const sort_item *a2, size_t i2) {
    const struct sockaddr *d1 = a1->ai->ai_addr, *d2 = a2->ai->ai_addr;
    const struct sockaddr *s1 = (const void *)&a1->src, *s2 = (const void *)&a2->src;
    if (a1->got_src != a2->got_src) return a1->got_src ? -1 : 1; /* 1: usable */
    int dscope1 = get_scope(d1), dscope2 = get_scope(d2);
    if (a1->got_src) {
        bool m1 = dscope1 == get_scope(s1), m2 = dscope2 == get_scope(s2); /* 2: scope */
        if (m1 != m2) return m1 ? -1 : 1;
        bool dep1 = a1->src_flags & ADDR_DEPRECATED, dep2 = a2->src_flags & ADDR_DEPRECATED;
        if (dep1 != dep2) return dep1 ? 1 : -1; /* 3: deprecated */
        bool home1 = a1->src_flags & ADDR_HOME, home2 = a2->src_flags & ADDR_HOME;
        if (home1 != home2) return home1 ? -1 : 1; /* 4: home */
        bool l1 = match_prefix(d1, default_labels, 0x7fffffff) ==
                  match_prefix(s1, default_labels, 0x7fffffff);
        bool l2 = match_prefix(d2, default_labels, 0x7fffffff) ==
                  match_prefix(s2, default_labels, 0x7fffffff);
        if (l1 != l2) return l1 ? -1 : 1; /* 5: label */
    }
    int p1 = match_prefix(d1, default_precedence, 0), p2 = match_prefix(d2, default_precedence, 0);
    if (p1 != p2) return p1 > p2 ? -1 : 1;                     /* 6: precedence */
    if (dscope1 != dscope2) return dscope1 < dscope2 ? -1 : 1; /* 8: smaller scope */
    if (a1->got_src && d1->sa_family == d2->sa_family) {       /* 9: longest matching prefix */
        int b1 = 0, b2 = 0;
        if (d1->sa_family == AF_INET) {
            b1 = v4_match(a1);
            b2 = v4_match(a2);
        } else if (d1->sa_family == AF_INET6) {
            const uint8_t *x1 = ((const struct sockaddr_in6 *)d1)->sin6_addr.s6_addr;
            const uint8_t *y1 = ((const struct sockaddr_in6 *)s1)->sin6_addr.s6_addr;
            const uint8_t *x2 = ((const struct sockaddr_in6 *)d2)->sin6_addr.s6_addr;
            const uint8_t *y2 = ((const struct sockaddr_in6 *)s2)->sin6_addr.s6_addr;
            int w = 0;
            while (w < 4 && memcmp(x1 + 4 * w, y1 + 4 * w, 4) == 0 &&
                   memcmp(x2 + 4 * w, y2 + 4 * w, 4) == 0)
                w++;
            if (w < 4) {
                uint32_t u1, v1, u2, v2;
                memcpy(&u1, x1 + 4 * w, 4), memcpy(&v1, y1 + 4 * w, 4);
                memcpy(&u2, x2 + 4 * w, 4), memcpy(&v2, y2 + 4 * w, 4);
                b1 = common_bits(ntohl(u1 ^ v1));
                b2 = common_bits(ntohl(u2 ^ v2));
            }
        }
        if (b1 != b2) return b1 > b2 ? -1 : 1;
    }
    return i1 < i2 ? -1 : 1; /* 10: as they came */
}

/* glibc's qsort_r is a merge sort: the same one, so that equal inputs give equal orders. */
static void merge_sort(size_t *order, size_t *tmp, size_t n, const sort_item *items) {
    if (n <= 1) return;
    size_t n1 = n / 2, n2 = n - n1, *b1 = order, *b2 = order + n1, *t = tmp;
    merge_sort(b1, tmp, n1, items);
    merge_sort(b2, tmp, n2, items);
    while (n1 > 0 && n2 > 0) {
        if (compare_items(&items[*b1], *b1, &items[*b2], *b2) <= 0)
            *t++ = *b1++, n1--;
        else
            *t++ = *b2++, n2--;
    }
    while (n1 > 0) *t++ = *b1++, n1--;
    memcpy(order, tmp, (size_t)(t - tmp) * sizeof *tmp);
}

/* The source address for each destination (connect on a UDP socket sends nothing). */
static void probe_sources(sort_item *it, size_t n, const if_info *inf) {
    int fd4 = -1, fd6 = -1;
    for (size_t i = 0; i < n; i++) {
        const struct addrinfo *q = it[i].ai;
        it[i].index = 0xffffffffu;
        if (i > 0 && it[i - 1].ai->ai_addrlen == q->ai_addrlen &&
            memcmp(it[i - 1].ai->ai_addr, q->ai_addr, q->ai_addrlen) == 0) {
            struct addrinfo *keep = it[i].ai;
            it[i] = it[i - 1];
            it[i].ai = keep;
            continue;
        }
        int *fd = q->ai_family == AF_INET ? &fd4 : &fd6;
        if (*fd < 0) {
            *fd = socket(q->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_IP);
        } else {
            struct sockaddr unspec = {.sa_family = AF_UNSPEC};
            connect(*fd, &unspec, sizeof unspec);
        }
        socklen_t sl = sizeof it[i].src;
        if (*fd < 0 || connect(*fd, q->ai_addr, q->ai_addrlen) != 0 ||
            getsockname(*fd, (struct sockaddr *)&it[i].src, &sl) != 0)
            continue;
        it[i].got_src = true;
        uint8_t key[16];
        v6_bytes((struct sockaddr *)&it[i].src, key);
        if (it[i].src.ss_family == AF_INET && key[12] == 127) /* glibc: lo is 127.0.0.1 */
            key[13] = key[14] = 0, key[15] = 1;
        for (size_t k = 0; k < inf->n; k++)
            if (memcmp(inf->v[k].addr, key, 16) == 0) {
                it[i].src_flags = inf->v[k].flags;
                it[i].prefixlen = inf->v[k].prefixlen;
                it[i].index = inf->v[k].index;
                break;
            }
    }
    if (fd4 >= 0) close(fd4);
    if (fd6 >= 0) close(fd6);
}

static struct addrinfo *sort_results(struct addrinfo *list, const if_info *inf) {
    size_t n = 0;
    for (struct addrinfo *p = list; p; p = p->ai_next) n++;
    sort_item *items = wb_calloc(n, sizeof *items);
    size_t *order = wb_calloc(n, sizeof *order), *tmp = wb_calloc(n, sizeof *tmp);
    char *canon = NULL;
    size_t i = 0;
    for (struct addrinfo *p = list; p; p = p->ai_next, i++) {
        items[i].ai = p;
        order[i] = i;
        if (p->ai_canonname) canon = p->ai_canonname, p->ai_canonname = NULL;
    }
    probe_sources(items, n, inf);
    merge_sort(order, tmp, n, items);
    for (i = 0; i + 1 < n; i++) items[order[i]].ai->ai_next = items[order[i + 1]].ai;
    items[order[n - 1]].ai->ai_next = NULL;
    list = items[order[0]].ai;
    list->ai_canonname = canon;
    free(items);
    free(order);
    free(tmp);
    return list;
}

/* ---- getaddrinfo ---- */

void wb_dns_freeaddrinfo(struct addrinfo *res) {
    while (res) {
        struct addrinfo *next = res->ai_next;
        free(res->ai_canonname);
        free(res);
        res = next;
    }
}

/* The numeric forms glibc takes without a lookup: 1 with the address in *at, 0 when name is not
 * numeric, or a negative EAI_* code. */
static int numeric_host(const char *name, const struct addrinfo *req, tuple_list *at) {
    uint8_t a[16];
    uint32_t scope;
    bool bad_scope;
    int family = req->ai_family;
    if (parse_ipv4_classic(name, a)) {
        if (family == AF_UNSPEC || family == AF_INET) {
            tuple_add(at, AF_INET, a, 0);
        } else if (family == AF_INET6 && (req->ai_flags & AI_V4MAPPED)) {
            uint8_t m[16];
            map_v4(a, m);
            tuple_add(at, AF_INET6, m, 0);
        } else {
            return -EAI_ADDRFAMILY;
        }
        return 1;
    }
    if (!parse_ipv6_scoped(name, a, &scope, &bad_scope)) return 0;
    if (family == AF_UNSPEC || family == AF_INET6)
        tuple_add(at, AF_INET6, a, scope);
    else if (family == AF_INET && IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a))
        tuple_add(at, AF_INET, a + 12, 0);
    else
        return -EAI_ADDRFAMILY;
    return bad_scope ? -EAI_NONAME : 1;
}

/* One result per address and service tuple, the canonical name on the first. */
static void make_results(const tuple_list *at, const serv_tuple *st, int nst,
                         const struct addrinfo *req, char *canon, bool got_ipv6,
                         struct addrinfo **res, unsigned *naddrs) {
    struct addrinfo **tail = res;
    for (size_t i = 0; i < at->n; i++) {
        const addr_tuple *t = &at->v[i];
        /* IPv4-mapped addresses are dropped when real IPv6 ones were found, unless AI_ALL */
        if (t->family == AF_INET6 && got_ipv6 &&
            (req->ai_flags & (AI_V4MAPPED | AI_ALL)) == AI_V4MAPPED &&
            IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)t->addr))
            continue;
        socklen_t sl =
            t->family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
        for (int k = 0; k < nst; k++) {
            struct addrinfo *ai = wb_calloc(1, sizeof *ai + sizeof(struct sockaddr_in6));
            ai->ai_flags = req->ai_flags;
            ai->ai_family = t->family;
            ai->ai_socktype = st[k].socktype;
            ai->ai_protocol = st[k].protocol;
            ai->ai_addrlen = sl;
            ai->ai_addr = (struct sockaddr *)(ai + 1);
            ai->ai_canonname = canon;
            canon = NULL;
            if (t->family == AF_INET6) {
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ai->ai_addr;
                sin6->sin6_family = AF_INET6;
                sin6->sin6_port = st[k].port;
                memcpy(&sin6->sin6_addr, t->addr, 16);
                sin6->sin6_scope_id = t->scope_id;
            } else {
                struct sockaddr_in *sin = (struct sockaddr_in *)ai->ai_addr;
                sin->sin_family = AF_INET;
                sin->sin_port = st[k].port;
                memcpy(&sin->sin_addr, t->addr, 4);
            }
            *tail = ai;
            tail = &ai->ai_next;
        }
        ++*naddrs;
    }
    free(canon); /* every address was dropped */
}

/* glibc's gaih_inet: service tuples, then the addresses (numeric, the defaults for no name, or
 * looked up), then the results. Returns 0 or a negative EAI_* code. */
static int gaih(dns_ctx *c, const char *name, const char *service, long port_num,
                const struct addrinfo *req, struct addrinfo **res, unsigned *naddrs) {
    serv_tuple st[MAX_SERV_TUPLES];
    int nst, r = service_tuples(service, port_num, req, st, &nst);
    if (r) return r;
    tuple_list at = {0};
    char *canon = NULL;
    bool got_ipv6 = false;
    if (name) {
        r = numeric_host(name, req, &at);
        if (r == 1) {
            r = 0;
            if (req->ai_flags & AI_CANONNAME) canon = wb_strdup(name);
        } else if (r == 0) {
            r = (req->ai_flags & AI_NUMERICHOST)
                    ? -EAI_NONAME
                    : resolve_name(c, name, req, &at, &canon, &got_ipv6);
        }
    } else {
        static const uint8_t any[16], loop6[16] = {[15] = 1}, loop4[4] = {127, 0, 0, 1};
        bool passive = req->ai_flags & AI_PASSIVE;
        if (req->ai_family == AF_UNSPEC || req->ai_family == AF_INET6)
            tuple_add(&at, AF_INET6, passive ? any : loop6, 0);
        if (req->ai_family == AF_UNSPEC || req->ai_family == AF_INET)
            tuple_add(&at, AF_INET, passive ? any : loop4, 0);
    }
    if (r == 0) {
        if ((req->ai_flags & AI_CANONNAME) && !canon) canon = wb_strdup(name);
        if (!(req->ai_flags & AI_CANONNAME)) {
            free(canon);
            canon = NULL;
        }
        make_results(&at, st, nst, req, canon, got_ipv6, res, naddrs);
    } else {
        free(canon);
    }
    free(at.v);
    return r;
}

int wb_dns_getaddrinfo(const wb_dns_config *cfg, const char *node, const char *service,
                       const struct addrinfo *hints, struct addrinfo **res) {
    static const struct addrinfo default_hints = {.ai_flags = AI_V4MAPPED | AI_ADDRCONFIG};
    const int known_flags = AI_PASSIVE | AI_CANONNAME | AI_NUMERICHOST | AI_ADDRCONFIG |
                            AI_V4MAPPED | AI_NUMERICSERV | AI_ALL;
    *res = NULL;
    if (node && node[0] == '*' && node[1] == '\0') node = NULL;
    if (service && service[0] == '*' && service[1] == '\0') service = NULL;
    if (!node && !service) return EAI_NONAME;
    if (!hints) hints = &default_hints;
    if (hints->ai_flags & ~known_flags) return EAI_BADFLAGS;
    if ((hints->ai_flags & AI_CANONNAME) && !node) return EAI_BADFLAGS;
    struct addrinfo req = {.ai_flags = hints->ai_flags,
                           .ai_family = hints->ai_family,
                           .ai_socktype = hints->ai_socktype,
                           .ai_protocol = hints->ai_protocol};
    if_info inf;
    bool have_inf = false;
    if (req.ai_flags & AI_ADDRCONFIG) {
        if_info_load(&inf);
        have_inf = true;
        if (req.ai_family == AF_UNSPEC && (inf.seen_ipv4 || inf.seen_ipv6)) {
            if (inf.seen_ipv4 != inf.seen_ipv6) req.ai_family = inf.seen_ipv4 ? AF_INET : AF_INET6;
        } else if ((req.ai_family == AF_INET && !inf.seen_ipv4) ||
                   (req.ai_family == AF_INET6 && !inf.seen_ipv6)) {
            free(inf.v);
            return EAI_NONAME;
        }
    }
    long port_num = -1;
    if (service && service[0]) {
        char *end;
        port_num = (int)strtoul(service, &end, 10); /* as glibc: an int, so huge ones are names */
        if (*end != '\0') {
            if (req.ai_flags & AI_NUMERICSERV) {
                if (have_inf) free(inf.v);
                return EAI_NONAME;
            }
            port_num = -1;
        }
    } else {
        service = NULL;
    }
    int r = EAI_FAMILY;
    if (req.ai_family == AF_UNSPEC || req.ai_family == AF_INET || req.ai_family == AF_INET6) {
        dns_ctx c = {.cfg = cfg, .deadline = now_ms() + WB_DNS_MAX_WAIT_MS};
        unsigned naddrs = 0;
        r = -gaih(&c, node, service, port_num, &req, res, &naddrs);
        free(c.hosts);
        free(c.rc.search_text);
        free(c.buf);
        if (r == 0 && naddrs > 1) {
            if (!have_inf) if_info_load(&inf);
            have_inf = true;
            *res = sort_results(*res, &inf);
        }
        if (r == 0 && !*res) r = EAI_NONAME;
        if (r != 0) {
            wb_dns_freeaddrinfo(*res);
            *res = NULL;
        }
    }
    if (have_inf) free(inf.v);
    return r;
}
