#!/usr/bin/env python3
"""A tiny DNS server on 127.0.0.1 for tests/wasi/http.sh (UDP only, loopback only).

    dns_server.py PORTFILE NAME=IPV4 [NAME=IPV4 ...]

Binds an ephemeral UDP port on 127.0.0.1, writes it to PORTFILE, then answers A queries for
the given names (case-insensitively) with their address, AAAA queries for them with an empty
answer (no data), and anything else with NXDOMAIN. Each query is logged to stderr as
"query NAME TYPE". Runs until killed."""
import socket
import struct
import sys


def parse_question(msg):
    """(id, flags, name, qtype, question bytes) of a query, or None."""
    if len(msg) < 17:
        return None
    qid, flags, qd = struct.unpack("!HHH", msg[:6])
    if qd != 1:
        return None
    off, labels = 12, []
    while off < len(msg) and msg[off] != 0:
        n = msg[off]
        if n > 63 or off + 1 + n >= len(msg):
            return None
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    if off + 5 > len(msg):
        return None
    qtype = struct.unpack("!H", msg[off + 1:off + 3])[0]
    return qid, flags, ".".join(labels), qtype, msg[12:off + 5]


def answer(msg, records):
    q = parse_question(msg)
    if q is None:
        return None
    qid, flags, name, qtype, question = q
    rd = flags & 0x0100
    addr = records.get(name.lower())
    if addr is None:
        return struct.pack("!HHHHHH", qid, 0x8083 | rd, 1, 0, 0, 0) + question  # NXDOMAIN
    if qtype != 1:
        return struct.pack("!HHHHHH", qid, 0x8080 | rd, 1, 0, 0, 0) + question  # no data
    rr = struct.pack("!HHHIH", 0xC00C, 1, 1, 30, 4) + socket.inet_aton(addr)
    return struct.pack("!HHHHHH", qid, 0x8080 | rd, 1, 1, 0, 0) + question + rr


def main():
    portfile, records = sys.argv[1], {}
    for arg in sys.argv[2:]:
        name, addr = arg.split("=", 1)
        records[name.lower()] = addr
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    with open(portfile + ".tmp", "w") as f:
        f.write(str(sock.getsockname()[1]))
    import os
    os.rename(portfile + ".tmp", portfile)
    while True:
        msg, peer = sock.recvfrom(4096)
        q = parse_question(msg)
        if q:
            print("query %s %s" % (q[2], {1: "A", 28: "AAAA"}.get(q[3], q[3])),
                  file=sys.stderr, flush=True)
        reply = answer(msg, records)
        if reply:
            sock.sendto(reply, peer)


if __name__ == "__main__":
    main()
