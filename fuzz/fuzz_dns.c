/* libFuzzer target for the DNS reply parser behind sock_getaddrinfo (src/wasi/dns.c). The first
 * byte picks the question's type (A or AAAA) and its name (one of a few, to match the seeds'
 * questions); the rest is the reply, whose own ID is the one expected, so that every input gets
 * past the ID check to the question, the compression pointers and the answer records. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wasi/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const names[] = {"web.test", "alias.test", "x", ""};
    if (size < 3) return 0;
    uint16_t qtype = (data[0] & 1) ? WB_DNS_TYPE_AAAA : WB_DNS_TYPE_A;
    const char *qname = names[(data[0] >> 1) & 3];
    size_t len = size - 1;
    uint8_t *msg = malloc(len); /* exactly sized: any overread is caught */
    if (!msg) return 0;
    memcpy(msg, data + 1, len);
    wb_dns_reply r;
    if (wb_dns_parse_reply(msg, len, (uint16_t)(msg[0] << 8 | msg[1]), qname, qtype, &r) == 0 &&
        (r.naddrs < 0 || r.naddrs > WB_DNS_MAX_ADDRS || strlen(r.canon) > 253))
        abort();
    free(msg);
    return 0;
}
