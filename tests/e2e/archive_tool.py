#!/usr/bin/env python3
"""Helpers for tests/e2e/archive.sh: build image layouts and archives (good and hostile) without
wasmbox, validate saved layouts against the OCI JSON schemas, and check a store's consistency.

  layout DIR WASM [--name FULL] [--ref TAG] [--artifact] [--nested] [--pad BYTES]
                                  an OCI image layout (--nested: in a multi-platform index)
  docker-old OUT WASM NAME        a docker-archive as docker < 25 wrote it (<id>/layer.tar, ...)
  hostile KIND OUT WASM OUTSIDE   a hostile archive (kinds: see HOSTILE)
  validate PATH SCHEMA_DIR        PATH: an archive (tar) or a layout directory
  check-store ROOT                index.json valid, every image's blobs present and intact
  tar DIR OUT                     tar a directory (sorted, no ./ prefix)
"""
import gzip
import hashlib
import io
import json
import os
import re
import sys
import tarfile
import tempfile
import warnings

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZ = "application/vnd.oci.image.layer.v1.tar+gzip"
WASM_CONFIG = "application/vnd.wasm.config.v0+json"
WASM_LAYER = "application/wasm"


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical(doc):
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


def rootfs_tar(wasm_bytes, pad=0):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        info = tarfile.TarInfo("hello.wasm")
        info.size, info.mode, info.mtime = len(wasm_bytes), 0o755, 1700000000
        t.addfile(info, io.BytesIO(wasm_bytes))
        if pad:
            data = os.urandom(pad)  # incompressible: makes loads slow enough to interrupt
            info = tarfile.TarInfo("padding.bin")
            info.size, info.mtime = len(data), 1700000000
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def write_blob(layout, data):
    d = sha(data)
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(layout, "blobs", "sha256", d[7:]), "wb") as f:
        f.write(data)
    return {"digest": d, "size": len(data)}


def make_layout(layout, wasm_path, name=None, ref=None, artifact=False, pad=0, nested=False):
    wasm = open(wasm_path, "rb").read()
    os.makedirs(layout, exist_ok=True)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    if artifact:
        config = canonical({"architecture": "wasm", "os": "wasip1", "layerDigests": [sha(wasm)]})
        cdesc = dict(mediaType=WASM_CONFIG, **write_blob(layout, config))
        layers = [dict(mediaType=WASM_LAYER, **write_blob(layout, wasm))]
    else:
        tar = rootfs_tar(wasm, pad)
        gz = gzip.compress(tar, mtime=0)
        config = canonical({
            "architecture": "wasm", "os": "wasi", "created": "2024-01-01T00:00:00Z",
            "config": {"Entrypoint": ["/hello.wasm"]},
            "rootfs": {"type": "layers", "diff_ids": [sha(tar)]},
            "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "archive_tool.py"}],
        })
        cdesc = dict(mediaType=OCI_CONFIG, **write_blob(layout, config))
        layers = [dict(mediaType=OCI_LAYER_GZ, **write_blob(layout, gz))]
    manifest = canonical({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": cdesc,
                          "layers": layers})
    mdesc = dict(mediaType=OCI_MANIFEST, **write_blob(layout, manifest))
    if nested:
        # a multi-platform image: a linux/amd64 manifest (its blobs absent, as when only one
        # platform was pulled), an attestation entry, and the wasi/wasm one
        mdesc["platform"] = {"os": "wasi", "architecture": "wasm"}
        other = {"mediaType": OCI_MANIFEST, "digest": sha(b"elsewhere"), "size": 9,
                 "platform": {"os": "linux", "architecture": "amd64"}}
        attest = {"mediaType": OCI_MANIFEST, "digest": sha(b"attestation"), "size": 11,
                  "platform": {"os": "unknown", "architecture": "unknown"}}
        nested_index = canonical({"schemaVersion": 2, "mediaType": OCI_INDEX,
                                  "manifests": [other, attest, mdesc]})
        mdesc = dict(mediaType=OCI_INDEX, **write_blob(layout, nested_index))
    ann = {}
    if name:
        ann["io.containerd.image.name"] = name
    if ref:
        ann["org.opencontainers.image.ref.name"] = ref
    if ann:
        mdesc["annotations"] = ann
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [mdesc]}
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(index, f)
    return config


def tar_dir(src, out):
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        for base, dirs, files in os.walk(src):
            dirs.sort()
            for n in sorted(dirs) + sorted(files):
                p = os.path.join(base, n)
                t.add(p, arcname=os.path.relpath(p, src), recursive=False)


def docker_old(out, wasm_path, name):
    """docker save before 25: <id>/layer.tar, <id>/json, <id>/VERSION, <config hex>.json,
    manifest.json, repositories; a second, identical layer is a symlink, as docker writes it."""
    wasm = open(wasm_path, "rb").read()
    tar = rootfs_tar(wasm)
    config = canonical({
        "architecture": "wasm", "os": "wasi", "config": {"Entrypoint": ["/hello.wasm"]},
        "rootfs": {"type": "layers", "diff_ids": [sha(tar), sha(tar)]},
    })
    lid1, lid2 = "1" * 64, "2" * 64
    entries = [
        (lid1 + "/", None), (lid1 + "/VERSION", b"1.0"), (lid1 + "/json", b'{"id":"%s"}' % lid1.encode()),
        (lid1 + "/layer.tar", tar),
        (lid2 + "/", None), (lid2 + "/VERSION", b"1.0"), (lid2 + "/json", b'{"id":"%s"}' % lid2.encode()),
        (sha(config)[7:] + ".json", config),
        ("manifest.json", json.dumps([{"Config": sha(config)[7:] + ".json", "RepoTags": [name],
                                       "Layers": [lid1 + "/layer.tar", lid2 + "/layer.tar"]}]).encode()),
        ("repositories", json.dumps({name.split(":")[0]: {name.split(":")[1]: lid2}}).encode()),
    ]
    with tarfile.open(out, "w") as t:
        for n, data in entries:
            info = tarfile.TarInfo(n.rstrip("/"))
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                t.addfile(info)
            else:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo(lid2 + "/layer.tar")
        info.type, info.linkname = tarfile.SYMTYPE, "../" + lid1 + "/layer.tar"
        t.addfile(info)


# ---- hostile archives ----

def add_file(t, name, data=b"pwned", **kw):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for k, v in kw.items():
        setattr(info, k, v)
    t.addfile(info, io.BytesIO(data))


def add_special(t, name, type_, linkname=""):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = type_, linkname
    t.addfile(info)


def good_layout_members(wasm_path, tmp):
    layout = os.path.join(tmp, "layout")
    make_layout(layout, wasm_path, name="docker.io/library/victim:latest")
    members = []
    for base, dirs, files in os.walk(layout):
        for n in sorted(files):
            p = os.path.join(base, n)
            members.append((os.path.relpath(p, layout), open(p, "rb").read()))
    return layout, members


def hostile(kind, out, wasm_path, outside):
    tmp = tempfile.mkdtemp()
    layout, members = good_layout_members(wasm_path, tmp)
    mode = "w:gz" if kind in ("bomb",) else "w"
    with tarfile.open(out, mode, format=tarfile.GNU_FORMAT) as t:
        if kind == "dotdot":
            add_file(t, "../../../../../../" + outside.lstrip("/") + "/evil")
            add_file(t, "../evil")
        elif kind == "absolute":
            add_file(t, outside + "/evil")
        elif kind == "symlink-escape":
            add_special(t, "blobs", tarfile.SYMTYPE, outside)
            add_file(t, "blobs/evil")
        elif kind == "symlink-escape-relative":
            add_special(t, "up", tarfile.SYMTYPE, "../../../../../../../../" + outside.lstrip("/"))
            add_file(t, "up/evil")
        elif kind == "hardlink-outside":
            add_special(t, "h", tarfile.LNKTYPE, outside + "/victim")
        elif kind == "hardlink-dotdot":
            add_special(t, "h", tarfile.LNKTYPE, "../../../../../../" + outside.lstrip("/") + "/victim")
        elif kind == "whiteout":
            add_file(t, "blobs/.wh.sha256", b"")
        elif kind == "opaque":
            add_file(t, "blobs/.wh..wh..opq", b"")
        elif kind == "device":
            info = tarfile.TarInfo("null")
            info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
            t.addfile(info)
        elif kind == "duplicate":
            for n, data in members:
                add_file(t, n, data)
            add_file(t, "index.json", b'{"schemaVersion":2,"manifests":[]}')
        elif kind == "bomb":
            # a header declaring 20 GiB; the stream ends long before (the cap refuses it first)
            info = tarfile.TarInfo("blobs/sha256/" + "0" * 64)
            info.size = 20 << 30
            buf = t.fileobj
            t.fileobj.write(info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape"))
            buf.write(b"\0" * (1 << 20))
            t.offset += 512 + (1 << 20)
        elif kind in ("bad-digest", "bad-size", "bad-diffid", "bad-config-name", "missing-blob"):
            pass
        else:
            raise SystemExit("unknown kind " + kind)
        if kind in ("bad-digest", "bad-size", "missing-blob"):
            index = json.load(open(os.path.join(layout, "index.json")))
            mdig = index["manifests"][0]["digest"][7:]
            manifest = json.load(open(os.path.join(layout, "blobs", "sha256", mdig)))
            ldig = manifest["layers"][0]["digest"][7:]
            for n, data in members:
                if kind == "missing-blob" and n.endswith(ldig):
                    continue
                if n.endswith(ldig) and kind == "bad-digest":
                    data = data[:-1] + bytes([data[-1] ^ 1])  # same size, other digest
                if n.endswith("index.json") and kind == "bad-size":
                    index["manifests"][0]["size"] += 1
                    data = json.dumps(index).encode()
                add_file(t, n, data)
        if kind in ("bad-diffid", "bad-config-name"):
            wasm = open(wasm_path, "rb").read()
            tar = rootfs_tar(wasm)
            diff = sha(tar) if kind == "bad-config-name" else sha(tar + b"x")
            config = canonical({"architecture": "wasm", "os": "wasi",
                                "rootfs": {"type": "layers", "diff_ids": [diff]}})
            cname = ("f" * 64 if kind == "bad-config-name" else sha(config)[7:]) + ".json"
            add_file(t, cname, config)
            add_file(t, "l/layer.tar", tar)
            add_file(t, "manifest.json", json.dumps(
                [{"Config": cname, "RepoTags": ["victim:latest"], "Layers": ["l/layer.tar"]}]).encode())
    os.system("rm -rf " + tmp)


# ---- validation ----

def load_schemas(schema_dir):
    def strip_ids(node):
        if isinstance(node, dict):
            return {k: strip_ids(v) for k, v in node.items() if not (k == "id" and isinstance(v, str))}
        if isinstance(node, list):
            return [strip_ids(v) for v in node]
        return node
    store = {}
    for n in os.listdir(schema_dir):
        if n.endswith(".json"):
            store["file://%s/%s" % (os.path.abspath(schema_dir), n)] = strip_ids(
                json.load(open(os.path.join(schema_dir, n))))
    return store


class Checker:
    def __init__(self, schema_dir):
        self.errors = []
        self.count = 0
        try:
            import jsonschema  # noqa: F401
            warnings.simplefilter("ignore")
            self.jsonschema = jsonschema
            self.store = load_schemas(schema_dir)
            self.dir = os.path.abspath(schema_dir)
        except ImportError:
            self.jsonschema = None

    def check(self, what, doc, schema_file):
        self.count += 1
        if self.jsonschema:
            uri = "file://%s/%s" % (self.dir, schema_file)
            resolver = self.jsonschema.RefResolver(base_uri=uri, referrer=self.store[uri], store=self.store)
            v = self.jsonschema.Draft4Validator(self.store[uri], resolver=resolver)
            for e in v.iter_errors(doc):
                self.errors.append("%s: %s (at %s)" % (what, e.message, "/".join(map(str, e.path))))
        else:  # the essentials, by hand
            digest = re.compile(r"^sha256:[a-f0-9]{64}$")
            def desc(d, w):
                if not (isinstance(d, dict) and isinstance(d.get("mediaType"), str)
                        and isinstance(d.get("size"), int) and digest.match(d.get("digest", ""))):
                    self.errors.append("%s: bad descriptor %r" % (w, d))
            if schema_file == "image-index-schema.json":
                if doc.get("schemaVersion") != 2 or not isinstance(doc.get("manifests"), list):
                    self.errors.append(what + ": not an index")
                for m in doc.get("manifests", []):
                    desc(m, what)
            elif schema_file == "image-manifest-schema.json":
                if doc.get("schemaVersion") != 2:
                    self.errors.append(what + ": schemaVersion")
                desc(doc.get("config"), what)
                for l in doc.get("layers", []):
                    desc(l, what)
            elif schema_file == "config-schema.json":
                if not isinstance(doc.get("architecture"), str) or not isinstance(doc.get("os"), str):
                    self.errors.append(what + ": architecture/os")
            elif schema_file == "image-layout-schema.json":
                if doc.get("imageLayoutVersion") != "1.0.0":
                    self.errors.append(what + ": imageLayoutVersion")


def validate(path, schema_dir):
    tmp = None
    if os.path.isfile(path):
        tmp = tempfile.mkdtemp()
        with tarfile.open(path) as t:
            t.extractall(tmp)
        path = tmp
    c = Checker(schema_dir)
    blob = lambda d: open(os.path.join(path, "blobs", "sha256", d[7:]), "rb").read()

    def check_desc(d, what):
        data = blob(d["digest"])
        if sha(data) != d["digest"] or len(data) != d["size"]:
            c.errors.append("%s: blob %s does not match its descriptor" % (what, d["digest"]))
        return data

    c.check("oci-layout", json.load(open(os.path.join(path, "oci-layout"))), "image-layout-schema.json")
    index = json.load(open(os.path.join(path, "index.json")))
    c.check("index.json", index, "image-index-schema.json")
    for m in index["manifests"]:
        manifest = json.loads(check_desc(m, "index.json"))
        c.check("manifest " + m["digest"], manifest, "image-manifest-schema.json")
        config = json.loads(check_desc(manifest["config"], "manifest"))
        if manifest["config"]["mediaType"] == OCI_CONFIG:
            c.check("config " + manifest["config"]["digest"], config, "config-schema.json")
        for l in manifest["layers"]:
            check_desc(l, "manifest")
    if os.path.exists(os.path.join(path, "manifest.json")):  # docker-archive
        for e in json.load(open(os.path.join(path, "manifest.json"))):
            cdata = open(os.path.join(path, e["Config"]), "rb").read()
            diff_ids = json.loads(cdata)["rootfs"]["diff_ids"]
            for lp, d in zip(e["Layers"], diff_ids):
                if sha(open(os.path.join(path, lp), "rb").read()) != d:
                    c.errors.append("manifest.json: layer %s is not its diff_id" % lp)
    if tmp:
        os.system("rm -rf " + tmp)
    for e in c.errors:
        print(e)
    print("validated %d documents with %s" % (c.count, "jsonschema" if c.jsonschema else "built-in checks"))
    return 1 if c.errors else 0


def check_store(root):
    images = os.path.join(root, "images")
    if not os.path.exists(os.path.join(images, "index.json")):
        index = {"manifests": []}  # killed before the first image was registered
    else:
        index = json.load(open(os.path.join(images, "index.json")))  # must parse
    problems = []
    blob = lambda d: open(os.path.join(images, "blobs", "sha256", d[7:]), "rb").read()
    for e in index["manifests"]:
        try:
            m = blob(e["digest"])
            if sha(m) != e["digest"]:
                problems.append("manifest %s corrupt" % e["digest"])
            m = json.loads(m)
            for d in [m["config"]] + m.get("layers", []):
                data = blob(d["digest"])
                if sha(data) != d["digest"] or len(data) != d["size"]:
                    problems.append("blob %s corrupt" % d["digest"])
        except (OSError, ValueError, KeyError) as x:
            problems.append("image %s: %s" % (e.get("digest"), x))
    blobs = os.path.join(images, "blobs", "sha256")
    for n in os.listdir(blobs) if os.path.isdir(blobs) else []:
        if not n.startswith("."):
            if sha(blob("sha256:" + n)) != "sha256:" + n:
                problems.append("blob %s does not match its name" % n)
    for p in problems:
        print(p)
    return 1 if problems else 0


def main(argv):
    cmd = argv[1]
    if cmd == "layout":
        args = argv[2:]
        opts = {"name": None, "ref": None, "artifact": False, "pad": 0, "nested": False}
        pos = []
        while args:
            a = args.pop(0)
            if a == "--name":
                opts["name"] = args.pop(0)
            elif a == "--ref":
                opts["ref"] = args.pop(0)
            elif a == "--artifact":
                opts["artifact"] = True
            elif a == "--nested":
                opts["nested"] = True
            elif a == "--pad":
                opts["pad"] = int(args.pop(0))
            else:
                pos.append(a)
        config = make_layout(pos[0], pos[1], **opts)
        print(sha(config))
        return 0
    if cmd == "tar":
        tar_dir(argv[2], argv[3])
        return 0
    if cmd == "docker-old":
        docker_old(argv[2], argv[3], argv[4])
        return 0
    if cmd == "hostile":
        hostile(argv[2], argv[3], argv[4], argv[5])
        return 0
    if cmd == "validate":
        return validate(argv[2], argv[3])
    if cmd == "check-store":
        return check_store(argv[2])
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
