#!/usr/bin/env python3
"""Hostile image layouts for tests/e2e/layers.sh, made without wasmbox (OCI image layouts that
skopeo copies to a registry, or that are tarred for `load`).

  layout KIND DIR WASM    an OCI image layout; KIND:
      good       one layer holding /hello.wasm, diff_id right
      liar       the same layer, the config's diff_id is another digest
      bomb       a second layer: a gzip of a few MB holding a 2 GiB file of zeros (diff_id right)
      zeros      a second layer: a 64 MiB file of zeros (small: pulls under the default cap)
      huge       a second layer whose header declares a 20 GiB file with no data behind it
      many       a second layer of 3,000 empty files
      whiteout   three layers: files, then `.wh.victim/` and `d/.wh.x/` written as directories
                 (with an entry beneath one), and `o/.wh..wh..opq/` likewise
  gz-layer KIND OUT       the gzipped second layer of KIND alone (for `import`)
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
import zlib

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZ = "application/vnd.oci.image.layer.v1.tar+gzip"
MTIME = 1700000000
BOMB_SIZE = 2 << 30
ZEROS_SIZE = 64 << 20
CHUNK = 16 << 20


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical(doc):
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


def header(name, size, type_=tarfile.REGTYPE):
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.type = size, MTIME, type_
    info.mode = 0o755 if type_ == tarfile.DIRTYPE else 0o644
    return info.tobuf(format=tarfile.GNU_FORMAT)


def gz_member(data):
    c = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: a gzip member
    return c.compress(data) + c.flush()


def zeros_layer(size):
    """(gzip bytes, diff_id) of a tar holding one file of `size` zeros: gzip members concatenated
    (one compressed chunk of zeros repeated), so a 2 GiB file costs seconds, not minutes."""
    h = hashlib.sha256()
    head = header("zeros.bin", size)
    parts = [gz_member(head)]
    h.update(head)
    chunk = bytes(CHUNK)
    member = gz_member(chunk)
    left = size
    while left >= CHUNK:
        parts.append(member)
        h.update(chunk)
        left -= CHUNK
    tail = bytes(left + (-size) % 512) + bytes(1024)
    parts.append(gz_member(tail))
    h.update(tail)
    return b"".join(parts), "sha256:" + h.hexdigest()


def tar_of(entries):
    """entries: (name, data or None for a directory)"""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.mtime = MTIME
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                t.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def plain(tar):
    return gzip.compress(tar, mtime=0), sha(tar)


def second_layer(kind):
    if kind == "bomb":
        return zeros_layer(BOMB_SIZE)
    if kind == "zeros":
        return zeros_layer(ZEROS_SIZE)
    if kind == "huge":
        tar = header("huge.bin", 20 << 30) + bytes(4096)  # a short archive: no data, no end
        return plain(tar)
    if kind == "many":
        return plain(tar_of([("f%05d" % i, b"") for i in range(3000)]))
    raise SystemExit("unknown kind " + kind)


def write_blob(layout, data):
    d = sha(data)
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(layout, "blobs", "sha256", d[7:]), "wb") as f:
        f.write(data)
    return {"digest": d, "size": len(data)}


def layout(kind, out, wasm_path):
    wasm = open(wasm_path, "rb").read()
    layers = [plain(tar_of([("hello.wasm", wasm)]))]
    if kind == "whiteout":
        layers.append(plain(tar_of([("victim/", None), ("victim/f", b"f"), ("d/", None),
                                    ("d/x", b"x"), ("d/y", b"y"), ("o/", None),
                                    ("o/old", b"old")])))
        layers.append(plain(tar_of([(".wh.victim/", None), (".wh.victim/junk", b"j"),
                                    ("d/.wh.x/", None), ("o/.wh..wh..opq/", None),
                                    ("o/new", b"new")])))
    elif kind not in ("good", "liar"):
        layers.append(second_layer(kind))
    diff_ids = [d for _, d in layers]
    if kind == "liar":
        diff_ids[0] = sha(b"not this layer")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    config = canonical({
        "architecture": "wasm", "os": "wasi", "created": "2024-01-01T00:00:00Z",
        "config": {"Entrypoint": ["/hello.wasm"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "layers_tool.py"}],
    })
    cdesc = dict(mediaType=OCI_CONFIG, **write_blob(out, config))
    ldescs = [dict(mediaType=OCI_LAYER_GZ, **write_blob(out, gz)) for gz, _ in layers]
    manifest = canonical({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": cdesc,
                          "layers": ldescs})
    mdesc = dict(mediaType=OCI_MANIFEST, **write_blob(out, manifest))
    mdesc["annotations"] = {"org.opencontainers.image.ref.name": "1",
                            "io.containerd.image.name": "localhost/layers-%s:1" % kind}
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [mdesc]}, f)
    print(sha(config))


def main(argv):
    if len(argv) == 5 and argv[1] == "layout":
        layout(argv[2], argv[3], argv[4])
    elif len(argv) == 4 and argv[1] == "gz-layer":
        gz, _ = second_layer(argv[2])
        with open(argv[3], "wb") as f:
            f.write(gz)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
