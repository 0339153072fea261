#!/usr/bin/env python3
"""Push a Spin app to a registry the way `spin registry push` lays it out (spin's crates/oci):
an OCI image manifest whose config (application/vnd.fermyon.spin.application.v1+config) is the
locked app, every component's module a layer application/vnd.wasm.content.layer.v1+wasm, every
file a layer application/vnd.wasm.content.layer.v1+data (an empty file as two placeholder bytes
and the annotation com.fermyon.spin.application.layer.isEmpty, as Spin does), small files inline
(base64, as newer Spin does). No Spin CLI can be built here (no crates), so the tests make the
artifact with this; the registry is the real docker-registry.

Newer Spin pushes the locked app as a layer and a plain image config (os wasip1): with
SPIN_NEW_LAYOUT=1 this lays it out so. With SPIN_ARCHIVE=1 the wagi component's files travel
as Spin's "archive" assembly does (many files, or SPIN_OCI_ARCHIVE_LAYERS set): one tar.gz
layer application/vnd.wasm.content.bundle.v1.tar+gzip of them, the locked app still naming
each file by its own digest (and inline when small). SPIN_BAD_LAYER=1 adds a layer of a type
Spin does not have; SPIN_CORRUPT_ARCHIVE=1 an archive layer that is not a tar.gz.

Usage: push_artifact.py HOST:PORT REPO:TAG WAGI.wasm SPIN1.wasm ASSET_FILE
Prints the manifest digest."""
import base64
import hashlib
import io
import json
import os
import sys
import tarfile
import urllib.request

WASM = "application/vnd.wasm.content.layer.v1+wasm"
DATA = "application/vnd.wasm.content.layer.v1+data"
CONFIG = "application/vnd.fermyon.spin.application.v1+config"
ARCHIVE = "application/vnd.wasm.content.bundle.v1.tar+gzip"
EMPTY = "com.fermyon.spin.application.layer.isEmpty"


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def request(method, url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(req) as r:
        return r.status, r.headers


def push_blob(base, repo, data):
    d = digest(data)
    _, h = request("POST", f"{base}/v2/{repo}/blobs/uploads/", b"")
    loc = h["Location"]
    if loc.startswith("/"):
        loc = base + loc
    sep = "&" if "?" in loc else "?"
    request("PUT", f"{loc}{sep}digest={d}", data, {"Content-Type": "application/octet-stream"})
    return d


def main():
    host, ref, wagi_path, spin1_path, asset_path = sys.argv[1:6]
    repo, tag = ref.rsplit(":", 1)
    base = f"http://{host}"
    wagi = open(wagi_path, "rb").read()
    spin1 = open(spin1_path, "rb").read()
    asset = open(asset_path, "rb").read()
    layers = []

    def layer(data, media_type, annotations=None):
        d = push_blob(base, repo, data)
        desc = {"mediaType": media_type, "digest": d, "size": len(data)}
        if annotations:
            desc["annotations"] = annotations
        if not any(x["digest"] == d for x in layers):
            layers.append(desc)
        return d

    wagi_d = layer(wagi, WASM)
    spin1_d = layer(spin1, WASM)
    files = [{"digest": None, "path": "assets/a.txt"},
             {"digest": None, "path": "assets/empty.txt"},
             {"inline": base64.b64encode(b"inline content\n").decode(), "path": "small.txt"}]
    if os.environ.get("SPIN_ARCHIVE"):
        deep = b"a file only in the archive, " + b"long enough not to be inlined. " * 8 + b"\n"
        contents = {"assets/a.txt": asset, "assets/empty.txt": b"", "small.txt": b"inline content\n",
                    "assets/deep/b.txt": deep}
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            for name, data in contents.items():
                info = tarfile.TarInfo("./" + name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        layer(buf.getvalue(), ARCHIVE)
        files[0]["digest"] = digest(asset)
        files[1]["digest"] = digest(b"")
        files.append({"digest": digest(deep), "path": "assets/deep/b.txt"})
    else:
        files[0]["digest"] = layer(asset, DATA)
        files[1]["digest"] = layer(b"\0\0", DATA, {EMPTY: "true"})
    if os.environ.get("SPIN_BAD_LAYER"):  # a layer type Spin does not have
        layer(b"something else", "application/vnd.example.unknown.v1")
    if os.environ.get("SPIN_CORRUPT_ARCHIVE"):
        layer(b"not really a tarball", ARCHIVE)
    locked = {
        "spin_lock_version": 1,
        "must_understand": ["host_requirements"],
        "host_requirements": {"local_service_chaining": "optional"},
        "metadata": {"name": "oci-app", "version": "0.1.0",
                     "triggers": {"http": {"base": "/"}}},
        "variables": {"greeting": {"default": "Hello"}, "who": {}},
        "triggers": [
            {"id": "trigger--wagi", "trigger_type": "http",
             "trigger_config": {"route": "/wagi/...", "component": "wagi",
                                "executor": {"type": "wagi", "argv": "${SCRIPT_NAME} -v ${ARGS}"}}},
            {"id": "trigger--spin1", "trigger_type": "http",
             "trigger_config": {"route": "/spin1/...", "component": "spin1"}},
        ],
        "components": [
            {"id": "wagi",
             "source": {"content_type": "application/wasm", "digest": wagi_d},
             "env": {"MODE": "oci"},
             "files": files},
            {"id": "spin1",
             "source": {"content_type": "application/wasm", "digest": spin1_d},
             "metadata": {"key_value_stores": ["default"],
                          "allowed_outbound_hosts": ["http://127.0.0.1:8081"]},
             "config": {"message": "{{ greeting }}, {{ who }}!"}},
        ],
    }
    for var in ("SPIN_BAD_LAYER", "SPIN_CORRUPT_ARCHIVE", "SPIN_ARCHIVE"):
        if os.environ.get(var):  # another app: another config digest
            locked["metadata"]["name"] = "oci-app-" + var.lower()
    config = json.dumps(locked).encode()
    config_type = CONFIG
    if os.environ.get("SPIN_NEW_LAYOUT"):
        # newer Spin: the locked app is a layer; the config a plain image config naming it
        lock_d = layer(config, CONFIG)
        layers.insert(0, layers.pop())
        config = json.dumps({"architecture": "wasm", "os": "wasip1",
                             "config": {"Labels": {"com.fermyon.spin.lockedAppDigest": lock_d}},
                             "rootfs": {"type": "layers", "diff_ids": []}}).encode()
        config_type = "application/vnd.oci.image.config.v1+json"
    config_d = push_blob(base, repo, config)
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": config_type, "digest": config_d, "size": len(config)},
                "layers": layers}
    body = json.dumps(manifest).encode()
    request("PUT", f"{base}/v2/{repo}/manifests/{tag}", body,
            {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    print(digest(body))


if __name__ == "__main__":
    main()
