#!/usr/bin/env python3
"""A caching HTTP proxy for apt, so that image builds whose RUN steps run `apt-get install` do not
download the same Debian packages on every test run (the tests build from a clean store, where
wasmbox's step cache is empty).

usage: apt-cache-proxy.py [--cache DIR] [--port N] [--port-file FILE]

Listens on 127.0.0.1 (port 0: a free one, written to --port-file once listening) and serves
apt's proxy requests (`GET http://deb.debian.org/debian/... HTTP/1.1`), handed to RUN steps
as the `http_proxy` build arg (RUN shares the host's network; proxy args are not in the step
cache key, as in Docker).

What is kept, under DIR/apt/HOST/PATH (default DIR: $WASMBOX_TEST_CACHE or
/var/cache/wasmbox-tests): only files whose name says their content, so a cached copy is never
stale -- packages (`/pool/...`, named by package and version) and indexes fetched by hash
(`.../by-hash/SHA256/<hash>`). Everything else (InRelease, which says what is current) goes to
the mirror every time. Files are written under a temporary name and renamed into place, so a
killed proxy or two concurrent fetches leave no partial file. A hit refreshes the file's mtime;
files unused for 60 days are removed at start (old package versions after a point release).
Standard library only."""
import argparse
import http.client
import http.server
import os
import re
import signal
import socketserver
import sys
import tempfile
import threading
import time
import urllib.parse

CACHEABLE = re.compile(r"(/pool/.+\.u?deb|/by-hash/SHA256/[0-9a-f]{64})$")
HOP_HEADERS = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te",
               "trailer", "transfer-encoding", "upgrade", "host"}
MAX_AGE = 60 * 86400


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    cache_dir = ""
    stats = {"hit": 0, "miss": 0, "pass": 0}
    lock = threading.Lock()

    def log_message(self, fmt, *args):  # quiet: apt's own output says what is fetched
        pass

    def count(self, what):
        with self.lock:
            self.stats[what] += 1

    def cache_path(self, url):
        if url.scheme != "http" or not CACHEABLE.search(url.path) or ".." in url.path.split("/"):
            return None
        return os.path.join(self.cache_dir, url.hostname or "_", url.path.lstrip("/"))

    def do_HEAD(self):
        self.forward(head=True)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        path = self.cache_path(url)
        if path and os.path.isfile(path):
            self.count("hit")
            os.utime(path)
            size = os.path.getsize(path)
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            with open(path, "rb") as f:
                while True:
                    chunk = f.read(1 << 20)
                    if not chunk:
                        break
                    self.wfile.write(chunk)
            return
        self.forward(store=path)

    def forward(self, store=None, head=False):
        url = urllib.parse.urlsplit(self.path)
        if url.scheme != "http" or not url.hostname:
            self.send_error(400, "only absolute http:// URLs are proxied")
            return
        self.count("miss" if store else "pass")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
        if store:  # a full copy to keep: no conditional or partial request
            for k in list(headers):
                if k.lower() in ("range", "if-range", "if-modified-since", "if-none-match"):
                    del headers[k]
        target = url.path + ("?" + url.query if url.query else "")
        try:
            conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=60)
            conn.request("HEAD" if head else "GET", target, headers=headers)
            resp = conn.getresponse()
        except OSError as e:
            self.send_error(502, "upstream: %s" % e)
            return
        self.send_response(resp.status, resp.reason)
        length = resp.getheader("Content-Length")
        for k, v in resp.getheaders():
            if k.lower() not in HOP_HEADERS and k.lower() != "content-length":
                self.send_header(k, v)
        body_known = length is not None or head or resp.status in (204, 304)
        if length is not None:
            self.send_header("Content-Length", length)
        if not body_known:  # no length: the end of the body is the end of the connection
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if head:
            conn.close()
            return
        keep = store if resp.status == 200 and length is not None else None
        tmp = None
        if keep:
            os.makedirs(os.path.dirname(keep), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(keep), prefix=".part.")
            out = os.fdopen(fd, "wb")
        got = 0
        try:
            while True:
                chunk = resp.read(1 << 16)
                if not chunk:
                    break
                got += len(chunk)
                if tmp:
                    out.write(chunk)
                self.wfile.write(chunk)
        except OSError:
            self.close_connection = True
        finally:
            conn.close()
            if tmp:
                out.close()
                if got == int(length):
                    os.replace(tmp, keep)
                else:
                    os.unlink(tmp)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def prune(root):
    now = time.time()
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            try:
                if f.startswith(".part.") or now - os.path.getmtime(p) > MAX_AGE:
                    os.unlink(p)
            except OSError:
                pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default=os.environ.get("WASMBOX_TEST_CACHE", "/var/cache/wasmbox-tests"))
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    a = ap.parse_args()
    Proxy.cache_dir = os.path.join(a.cache, "apt")
    os.makedirs(Proxy.cache_dir, exist_ok=True)
    prune(Proxy.cache_dir)
    def stop(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    srv = Server(("127.0.0.1", a.port), Proxy)
    port = srv.server_address[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.replace(a.port_file + ".tmp", a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        s = Proxy.stats
        print("apt-cache-proxy: %d hits, %d misses (fetched and kept), %d passed through"
              % (s["hit"], s["miss"], s["pass"]), file=sys.stderr)


if __name__ == "__main__":
    main()
