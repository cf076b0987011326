#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes OCI image layouts for the toolbox tests, for skopeo to push to a test registry.

  ociimg.py multiarch OUT TAG ARCH=DIR [ARCH=DIR...]
      one image per architecture (each DIR as one gzip layer), under one image index
  ociimg.py evil OUT TAG KIND OUTSIDE
      a base layer (etc/base, a directory d/) plus a hostile layer of KIND:
        dotdot     a file at ../../…/OUTSIDE/pwned
        absolute   a file at /OUTSIDE/pwned
        symlink    an absolute symlink `esc` -> OUTSIDE, then a file esc/pwned through it
        hardlink   a hard link `hl` to ../../…/OUTSIDE/victim, then (GNU tar style) data for it
        hardabs    a hard link `hl` to /OUTSIDE/victim
        whiteout   whiteouts naming `..` (d/.wh...) and ../…/OUTSIDE/.wh.victim
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile


def blob(out, data):
    d = hashlib.sha256(data).hexdigest()
    os.makedirs(f"{out}/blobs/sha256", exist_ok=True)
    with open(f"{out}/blobs/sha256/{d}", "wb") as f:
        f.write(data)
    return {"digest": f"sha256:{d}", "size": len(data)}


def tar_of_dir(path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name in sorted(os.listdir(path)):
            t.add(os.path.join(path, name), arcname=name)
    return buf.getvalue()


def tar_of_entries(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for e in entries:
            ti = tarfile.TarInfo(e["name"])
            ti.mode = e.get("mode", 0o644)
            data = e.get("data", b"")
            if e["type"] == "dir":
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
            elif e["type"] == "sym":
                ti.type, ti.linkname = tarfile.SYMTYPE, e["target"]
                t.addfile(ti)
            elif e["type"] == "hard":
                ti.type, ti.linkname = tarfile.LNKTYPE, e["target"]
                t.addfile(ti)
            else:
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def image(out, arch, layers):
    """layers: uncompressed tars; returns the manifest descriptor"""
    descs, diff_ids = [], []
    for tar in layers:
        diff_ids.append("sha256:" + hashlib.sha256(tar).hexdigest())
        d = blob(out, gzip.compress(tar, mtime=0))
        d["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
        descs.append(d)
    cfg = blob(out, json.dumps({"architecture": arch, "os": "linux",
                                "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode())
    cfg["mediaType"] = "application/vnd.oci.image.config.v1+json"
    man = blob(out, json.dumps({"schemaVersion": 2,
                                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                "config": cfg, "layers": descs}).encode())
    man["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
    man["platform"] = {"architecture": arch, "os": "linux"}
    return man


def write_index(out, tag, desc):
    desc = dict(desc, annotations={"org.opencontainers.image.ref.name": tag})
    with open(f"{out}/index.json", "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [desc]}, f)
    with open(f"{out}/oci-layout", "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)


def multiarch(out, tag, specs):
    mans = []
    for spec in specs:
        arch, path = spec.split("=", 1)
        mans.append(image(out, arch, [tar_of_dir(path)]))
    idx = blob(out, json.dumps({"schemaVersion": 2,
                                "mediaType": "application/vnd.oci.image.index.v1+json",
                                "manifests": mans}).encode())
    idx["mediaType"] = "application/vnd.oci.image.index.v1+json"
    write_index(out, tag, idx)


def evil(out, tag, kind, outside):
    up = "../" * 24 + outside.lstrip("/")
    base = tar_of_entries([
        {"name": "etc", "type": "dir"},
        {"name": "etc/base", "type": "file", "data": b"base\n"},
        {"name": "d", "type": "dir"},
        {"name": "d/keep", "type": "file", "data": b"keep\n"},
    ])
    hostile = {
        "dotdot": [{"name": up + "/pwned", "type": "file", "data": b"pwned\n"}],
        "absolute": [{"name": outside + "/pwned", "type": "file", "data": b"pwned\n"}],
        "symlink": [{"name": "esc", "type": "sym", "target": outside},
                    {"name": "esc/pwned", "type": "file", "data": b"pwned\n"}],
        "hardlink": [{"name": "hl", "type": "hard", "target": up + "/victim"}],
        "hardabs": [{"name": "hl", "type": "hard", "target": outside + "/victim"}],
        "whiteout": [{"name": "d/.wh...", "type": "file"},
                     {"name": up + "/.wh.victim", "type": "file"}],
    }[kind]
    write_index(out, tag, image(out, "amd64" if os.uname().machine == "x86_64" else "arm64",
                                [base, tar_of_entries(hostile)]))


def main():
    mode, out, tag = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    if mode == "multiarch":
        multiarch(out, tag, sys.argv[4:])
    elif mode == "evil":
        evil(out, tag, sys.argv[4], sys.argv[5])
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
