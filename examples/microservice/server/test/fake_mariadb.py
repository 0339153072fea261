#!/usr/bin/env python3
"""A scripted MariaDB server for the client paths a real MariaDB 10.11 does not take with this
service: no DEPRECATE_EOF (result sets framed by EOF packets), an auth switch request with a new
seed (or to a plugin the client does not have), NO_BACKSLASH_ESCAPES quoting, and replies
dribbled a few bytes at a time. Used by tests/wasi/microservice.sh.

  fake_mariadb.py --log FILE [--switch native|ed25519] [--no-backslash-escapes] [--dribble]

Listens on 127.0.0.1 (a free port, printed as "port N" on stdout), takes user root with
password "fakepw", answers any SELECT with two fixed orders and anything else with OK, and
appends every statement it receives to FILE (one a line, as sent)."""
import argparse
import hashlib
import os
import socket
import struct
import threading
import time

CAPS = 0x81FFF7FE & ~(1 << 24)  # MariaDB 10.11's, without DEPRECATE_EOF
ROWS = [
    (b"1", b"12", b"2", b"56", b"15", b"2", b"Mataderos 2312"),
    (b"2", b"15", b"3", b"1234567.125", b"0.10000000149011612", b"16", b"it's \"q\""),
]
PASSWORD = b"fakepw"


def native(seed, password=PASSWORD):
    a = hashlib.sha1(password).digest()
    b = hashlib.sha1(a).digest()
    c = hashlib.sha1(seed + b).digest()
    return bytes(x ^ y for x, y in zip(a, c))


def lenenc(n):
    if n < 251:
        return bytes([n])
    if n < 1 << 16:
        return b"\xfc" + struct.pack("<H", n)
    return b"\xfd" + struct.pack("<I", n)[:3]


def lenenc_str(s):
    return lenenc(len(s)) + s


class Conn:
    def __init__(self, sock, opts):
        self.sock, self.opts, self.seq = sock, opts, 0

    def send(self, payload):
        data = struct.pack("<I", len(payload))[:3] + bytes([self.seq]) + payload
        self.seq = (self.seq + 1) & 0xFF
        if self.opts.dribble:
            for i in range(0, len(data), 3):
                self.sock.sendall(data[i:i + 3])
                time.sleep(0.0005)
        else:
            self.sock.sendall(data)

    def recv_exact(self, n):
        out = b""
        while len(out) < n:
            got = self.sock.recv(n - len(out))
            if not got:
                raise EOFError
            out += got
        return out

    def recv(self):
        h = self.recv_exact(4)
        n = h[0] | h[1] << 8 | h[2] << 16
        if h[3] != self.seq:
            raise ValueError("sequence %d, expected %d" % (h[3], self.seq))
        self.seq = (h[3] + 1) & 0xFF
        return self.recv_exact(n)

    def ok(self, status=None):
        if status is None:
            status = 0x0202 if self.opts.no_backslash_escapes else 0x0002
        self.send(b"\x00\x00\x00" + struct.pack("<HH", status, 0))

    def err(self, code, state, msg):
        self.send(b"\xff" + struct.pack("<H", code) + b"#" + state + msg)

    def eof(self):
        self.send(b"\xfe" + struct.pack("<HH", 0, 0x0002))


def serve(sock, opts):
    c = Conn(sock, opts)
    seed = os.urandom(20).replace(b"\0", b"x")
    c.send(b"\x0a" + b"5.5.5-10.11.0-fake\0" + struct.pack("<I", 7) + seed[:8] + b"\0" +
           struct.pack("<H", CAPS & 0xFFFF) + b"\x2d" + struct.pack("<H", 2) +
           struct.pack("<H", CAPS >> 16) + bytes([21]) + b"\0" * 6 + b"\0" * 4 + seed[8:] +
           b"\0" + b"mysql_native_password\0")
    resp = c.recv()
    caps = struct.unpack("<I", resp[:4])[0]
    if caps & (1 << 24):
        c.err(1105, b"HY000", b"client asked for DEPRECATE_EOF, which this server lacks")
        return
    p = 32
    user_end = resp.index(b"\0", p)
    user = resp[p:user_end]
    p = user_end + 1
    alen = resp[p]
    auth = resp[p + 1:p + 1 + alen]
    if user != b"root" or auth != native(seed):
        c.err(1045, b"28000", b"Access denied for user '%s' (fake)" % user)
        return
    if opts.switch == "native":
        seed2 = os.urandom(20).replace(b"\0", b"y")
        c.send(b"\xfemysql_native_password\0" + seed2 + b"\0")
        if c.recv() != native(seed2):
            c.err(1045, b"28000", b"Access denied after the auth switch (fake)")
            return
    elif opts.switch == "ed25519":
        c.send(b"\xfeclient_ed25519\0" + os.urandom(32))
        try:
            c.recv()
        except (EOFError, OSError):
            return
        c.err(1045, b"28000", b"the client answered an ed25519 challenge?")
        return
    c.ok()
    while True:
        c.seq = 0
        try:
            cmd = c.recv()
        except (EOFError, OSError):
            return
        if cmd[:1] == b"\x01":  # COM_QUIT
            return
        if cmd[:1] != b"\x03":
            c.err(1047, b"08S01", b"unknown command")
            continue
        sql = cmd[1:]
        with open(opts.log, "ab") as f:
            f.write(sql + b"\n")
        if not sql.upper().startswith(b"SELECT"):
            c.ok()
            continue
        c.send(lenenc(7))
        names = [b"order_id", b"product_id", b"quantity", b"amount", b"shipping", b"tax",
                 b"shipping_address"]
        types = [3, 3, 3, 5, 5, 5, 253]
        for name, t in zip(names, types):
            c.send(lenenc_str(b"def") + lenenc_str(b"mysql") + lenenc_str(b"orders") +
                   lenenc_str(b"orders") + lenenc_str(name) + lenenc_str(name) + b"\x0c" +
                   struct.pack("<HIBHB", 45, 256, t, 0, 31) + b"\0\0")
        c.eof()
        for row in ROWS:
            c.send(b"".join(lenenc_str(v) for v in row))
        c.eof()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--switch", choices=["native", "ed25519"])
    ap.add_argument("--no-backslash-escapes", action="store_true")
    ap.add_argument("--dribble", action="store_true")
    opts = ap.parse_args()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    print("port %d" % ls.getsockname()[1], flush=True)
    while True:
        s, _ = ls.accept()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def run(s=s):
            try:
                serve(s, opts)
            except (EOFError, OSError, ValueError):
                pass
            finally:
                s.close()

        threading.Thread(target=run, daemon=True).start()


main()
