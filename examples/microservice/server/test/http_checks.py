#!/usr/bin/env python3
"""HTTP/1.1 framing checks of the order service over raw sockets: pipelining, requests split
across reads, keep-alive (HTTP/1.1 and HTTP/1.0), Expect: 100-continue, the refusals (400, 413,
431, 501, 505), CORS answers to OPTIONS, idle connections not blocking others, a bad JSON body
answered 400 on a connection that stays usable. Usage: http_checks.py PORT; prints one line per
failure and "http: P passed, F failed"."""
import socket
import sys
import time

PORT = int(sys.argv[1])
passed = failed = 0
CORS = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-allow-headers": "api,Keep-Alive,User-Agent,Content-Type",
}
ROOT = b"The valid endpoints are /init /create_order /create_orders /update_order /orders /delete_order"


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL http: " + what)


def connect():
    s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Reader:
    def __init__(self, s):
        self.s, self.data = s, b""

    def more(self):
        got = self.s.recv(65536)
        if not got:
            raise EOFError
        self.data += got

    def response(self):
        """(status, headers dict, body); EOFError when the server closed first."""
        while b"\r\n\r\n" not in self.data:
            self.more()
        head, self.data = self.data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        while len(self.data) < n:
            self.more()
        body, self.data = self.data[:n], self.data[n:]
        return status, headers, body

    def closed(self):
        """Whether the server closes the connection (with nothing more sent)."""
        try:
            self.s.settimeout(5)
            got = self.s.recv(1)
            return got == b""
        except (ConnectionResetError, socket.timeout):
            return False


def exchange(raw, pieces=None, pause=0.05):
    s = connect()
    r = Reader(s)
    if pieces:
        for i in range(0, len(raw), pieces):
            s.sendall(raw[i:i + pieces])
            time.sleep(pause)
    else:
        s.sendall(raw)
    return s, r


def main():
    # pipelined: three requests in one write, answered in order
    s, r = exchange(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /nothing HTTP/1.1\r\nHost: x\r\n\r\n"
                    b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
    a, b, c = r.response(), r.response(), r.response()
    check(a[0] == 200 and a[2] == ROOT, "pipelined GET / gave %r" % (a,))
    check(b[0] == 404 and b[2] == b"", "pipelined GET /nothing gave %r" % (b,))
    check(c[0] == 200 and c[2] == b"hello", "pipelined POST /echo gave %r" % (c,))
    check("content-type" not in a[1], "no Content-Type, as the original")
    s.close()

    # a request arriving a few bytes at a time (partial reads of head and body)
    body = b'{"a": "partial reads"}'
    s, r = exchange(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" %
                    (len(body), body), pieces=7, pause=0.02)
    st, _, got = r.response()
    check(st == 200 and got == body, "POST /echo in 7-byte pieces gave %r %r" % (st, got))
    s.close()

    # keep-alive: HTTP/1.1 by default; HTTP/1.0 when asked; Connection: close honoured
    s, r = exchange(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    r.response()
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    st, _, got = r.response()
    check(st == 200 and got == ROOT, "a second HTTP/1.1 request on the same connection")
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    st, h, _ = r.response()
    check(st == 200 and h.get("connection") == "close" and r.closed(),
          "Connection: close: answered, then closed (%r)" % (h,))
    s.close()
    s, r = exchange(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    st, h, _ = r.response()
    check(st == 200 and h.get("connection", "").lower() == "keep-alive",
          "HTTP/1.0 keep-alive answered keep-alive (%r)" % (h,))
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    st, h, _ = r.response()
    check(st == 200 and r.closed(), "HTTP/1.0 without keep-alive: closed after the answer")
    s.close()

    # Expect: 100-continue
    s, r = exchange(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                    b"Expect: 100-continue\r\n\r\n")
    st, _, _ = r.response()
    check(st == 100, "Expect: 100-continue answered 100 (got %d)" % st)
    s.sendall(b"ping")
    st, _, got = r.response()
    check(st == 200 and got == b"ping", "the body after 100 Continue echoed")
    s.close()

    # refusals, each closing the connection
    for raw, want, what in [
        (b"HELLO\r\n\r\n", 400, "a malformed request line"),
        (b"GET / HTTP/2.0\r\n\r\n", 505, "HTTP/2.0 in the request line"),
        (b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400, "a header line without a colon"),
        (b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
         501, "a chunked body"),
        (b"POST /echo HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n", 413, "a 2 MB body"),
        (b"POST /echo HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400,
         "two different Content-Lengths"),
        (b"GET / HTTP/1.1\r\nX: " + b"y" * 20000, 431, "a 20 kB head"),
    ]:
        s, r = exchange(raw)
        try:
            st, _, _ = r.response()
            check(st == want and r.closed(), "%s: status %d (want %d), then closed" %
                  (what, st, want))
        except (EOFError, ConnectionResetError):
            check(False, "%s: closed without an answer" % what)
        s.close()

    # LF-only line ends, an absolute-form target, an empty line before the request
    s, r = exchange(b"\r\nGET http://example.com/ HTTP/1.1\nHost: x\n\n")
    st, _, got = r.response()
    check(st == 200 and got == ROOT, "LF line ends and an absolute target gave %d %r" % (st, got))
    s.close()

    # OPTIONS on the six database routes: empty body and the CORS headers; none elsewhere
    for path in ["/init", "/create_order", "/create_orders", "/update_order", "/orders",
                 "/delete_order"]:
        s, r = exchange(b"OPTIONS %s HTTP/1.1\r\nHost: x\r\nOrigin: http://localhost:8090\r\n"
                        b"Access-Control-Request-Method: POST\r\n\r\n" % path.encode())
        st, h, got = r.response()
        check(st == 200 and got == b"" and all(h.get(k) == v for k, v in CORS.items()),
              "OPTIONS %s gave %d %r %r" % (path, st, h, got))
        s.close()
    s, r = exchange(b"OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n")
    st, h, _ = r.response()
    check(st == 404 and "access-control-allow-origin" not in h, "OPTIONS / is a plain 404")
    s.close()

    # idle connections (a browser's) do not hold up others; a client leaving mid-request either
    idle = [connect() for _ in range(20)]
    half = connect()
    half.sendall(b"POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
    s, r = exchange(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    st, _, _ = r.response()
    check(st == 200, "answered beside 20 idle connections and a stalled request")
    half.close()
    for i in idle:
        i.close()
    s.close()

    # a bad JSON body: 400 with CORS, and the connection stays usable
    bad = b'{"order_id": 1, "product_id": oops}'
    s, r = exchange(b"POST /create_order HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" %
                    (len(bad), bad))
    st, h, got = r.response()
    check(st == 400 and h.get("access-control-allow-origin") == "*" and b"line 1" in got,
          "a bad JSON body gave %d %r" % (st, got))
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    st, _, _ = r.response()
    check(st == 200, "the same connection answers after the 400")
    s.close()

    print("http: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


main()
