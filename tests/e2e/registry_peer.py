#!/usr/bin/env python3
"""Test peers for the registry tests, all on 127.0.0.1 (never anything else):

  token PORT KEY CERT ISSUER USERS_FILE LOG
      A Bearer token service for Debian's docker-registry (`auth: token`): GET /token with
      service/scope/account, Basic credentials checked against USERS_FILE ("user:password"
      lines). Known users get the actions they ask for; anonymous callers get `pull` only; wrong
      credentials get 401. Tokens are RS256 JWTs signed with `openssl dgst` (the registry trusts
      CERT, sent in the x5c header). Each request is logged to LOG (one JSON line).
  proxy PORT TARGET_PORT BYTES_PER_SECOND
      A TCP relay to 127.0.0.1:TARGET_PORT that slows the answers down, so that a pull can be
      killed, or the "registry" can die, while blobs are streaming.
  hostile PORT LOG
      A fake registry that misbehaves per repository name: `liar` (a manifest whose mediaType
      contradicts its Content-Type), `both` (manifests and layers in one document), `huge` (a
      manifest over 8 MiB), `long` (a blob streamed past its declared size, without a
      Content-Length), `short` (a blob that ends early and the connection closes),
      `ok` (a well-formed small artifact). Bytes sent per blob request are logged to LOG.

Every server stops by itself after --lifetime seconds (default 600)."""
import base64, hashlib, http.server, json, os, socket, socketserver, subprocess, sys, threading
import time, urllib.parse

LIFETIME = 600
if "--lifetime" in sys.argv:
    k = sys.argv.index("--lifetime")
    LIFETIME = int(sys.argv[k + 1])
    del sys.argv[k:k + 2]


def die_later():
    threading.Timer(LIFETIME, lambda: os._exit(0)).start()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


# ---- token service ----

def token_service(port, key, cert, issuer, users_file, log):
    der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"], check=True,
                         capture_output=True).stdout
    x5c = base64.b64encode(der).decode()
    lock = threading.Lock()

    def users():
        out = {}
        try:
            for line in open(users_file):
                if ":" in line:
                    u, p = line.rstrip("\n").split(":", 1)
                    out[u] = p
        except FileNotFoundError:
            pass
        return out

    def sign(claims):
        header = {"typ": "JWT", "alg": "RS256", "x5c": [x5c]}
        signing = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing.encode(),
                             check=True, capture_output=True).stdout
        return signing + "." + b64url(sig)

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            u = urllib.parse.urlparse(self.path)
            q = urllib.parse.parse_qs(u.query)
            who = None
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                try:
                    user, pw = base64.b64decode(auth[6:]).decode().split(":", 1)
                except Exception:
                    user, pw = None, None
                if users().get(user) != pw:
                    self.send_response(401)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"details":"incorrect username or password"}')
                    entry = {"path": u.path, "user": user, "ok": False}
                    with lock, open(log, "a") as f:
                        f.write(json.dumps(entry) + "\n")
                    return
                who = user
            access = []
            for scope in q.get("scope", []):
                parts = scope.split(":")
                if len(parts) < 3:
                    continue
                actions = parts[-1].split(",")
                if who is None:
                    actions = [a for a in actions if a == "pull"]
                access.append({"type": parts[0], "name": ":".join(parts[1:-1]), "actions": actions})
            now = int(time.time())
            claims = {"iss": issuer, "sub": who or "", "aud": q.get("service", [""])[0],
                      "exp": now + 300, "nbf": now - 10, "iat": now,
                      "jti": base64.b16encode(os.urandom(8)).decode(), "access": access}
            token = sign(claims)
            body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            entry = {"path": u.path, "user": who, "ok": True, "scope": q.get("scope", []),
                     "service": q.get("service", [""])[0]}
            with lock, open(log, "a") as f:
                f.write(json.dumps(entry) + "\n")

    Server(("127.0.0.1", port), H).serve_forever()


# ---- slow relay ----

def proxy(port, target, rate):
    def pump(src, dst, limit):
        try:
            while True:
                data = src.recv(16384 if limit else 65536)
                if not data:
                    break
                dst.sendall(data)
                if limit:
                    time.sleep(len(data) / limit)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(64)
    while True:
        c, _ = ls.accept()
        try:
            u = socket.socket()
            # small buffers: what the relay holds back is what a dying registry loses
            u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            u.connect(("127.0.0.1", target))
            c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        except OSError:
            c.close()
            continue
        threading.Thread(target=pump, args=(c, u, 0), daemon=True).start()
        threading.Thread(target=pump, args=(u, c, rate), daemon=True).start()


# ---- hostile registry ----

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def hostile(port, log):
    module = b"\0asm\x01\0\0\0"
    config = json.dumps({"architecture": "wasm", "os": "wasi", "config": {}}).encode()
    layer = {"mediaType": "application/wasm", "digest": sha(module), "size": len(module)}
    cfgd = {"mediaType": "application/vnd.wasm.config.v0+json", "digest": sha(config),
            "size": len(config)}
    blobs = {sha(module): module, sha(config): config}
    declared = 100
    long_digest = "sha256:" + "1" * 64
    short_data = os.urandom(100000)
    short_digest = sha(short_data)
    manifests = {
        "ok": (OCI_MANIFEST, {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": cfgd,
                              "layers": [layer]}),
        "liar": (OCI_MANIFEST, {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": sha(b"x"), "size": 1,
             "platform": {"os": "wasi", "architecture": "wasm"}}]}),
        "both": (OCI_MANIFEST, {"schemaVersion": 2, "config": cfgd, "layers": [layer],
                                "manifests": []}),
        "huge": (OCI_MANIFEST, {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": cfgd,
                                "layers": [layer], "annotations": {"pad": "x" * (8 * 1024 * 1024 + 10)}}),
        "long": (OCI_MANIFEST, {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": cfgd,
                                "layers": [{"mediaType": "application/wasm", "digest": long_digest,
                                            "size": declared}]}),
        "short": (OCI_MANIFEST, {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": cfgd,
                                 "layers": [{"mediaType": "application/wasm",
                                             "digest": short_digest, "size": len(short_data)}]}),
    }
    lock = threading.Lock()

    def note(entry):
        with lock, open(log, "a") as f:
            f.write(json.dumps(entry) + "\n")

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send(self, code, body=b"", ctype="application/json", extra=()):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            parts = self.path.split("?")[0].strip("/").split("/")
            if parts == ["v2"]:
                return self.send(200, b"{}")
            if len(parts) == 4 and parts[0] == "v2" and parts[2] == "manifests":
                name = parts[1]
                if name not in manifests:
                    return self.send(404, json.dumps({"errors": [{"code": "NAME_UNKNOWN",
                        "message": "repository name not known to registry"}]}).encode())
                ctype, doc = manifests[name]
                body = json.dumps(doc).encode()
                return self.send(200, body, ctype, [("Docker-Content-Digest", sha(body))])
            if len(parts) == 4 and parts[0] == "v2" and parts[2] == "blobs":
                name, digest = parts[1], parts[3]
                if name == "long" and digest == long_digest:
                    # no Content-Length: the client must stop reading by itself
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    sent = 0
                    try:
                        for _ in range(64 * 16):  # up to 64 MiB
                            self.wfile.write(b"\0" * 65536)
                            sent += 65536
                    except OSError:
                        pass
                    note({"blob": digest, "sent": sent})
                    self.close_connection = True
                    return
                if name == "short" and digest == short_digest:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(short_data)))
                    self.end_headers()
                    self.wfile.write(short_data[:len(short_data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if digest in blobs:
                    return self.send(200, blobs[digest], "application/octet-stream")
                return self.send(404, json.dumps({"errors": [{"code": "BLOB_UNKNOWN",
                    "message": "blob unknown to registry"}]}).encode())
            self.send(404, b"{}")

    Server(("127.0.0.1", port), H).serve_forever()


def main():
    mode = sys.argv[1]
    die_later()
    if mode == "token":
        token_service(int(sys.argv[2]), *sys.argv[3:8])
    elif mode == "proxy":
        proxy(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    elif mode == "hostile":
        hostile(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
