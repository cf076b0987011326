#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes an OCI image layout for lint.bats: one gzip layer from a directory and an image config.

  lintimg.py OUT TAG ROOTDIR CONFIG-JSON
      CONFIG-JSON is the image config's "config" object (Entrypoint, Cmd, User, Env, ...)
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


def main():
    out, tag, root, config = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name in sorted(os.listdir(root)):
            t.add(os.path.join(root, name), arcname=name)
    raw = buf.getvalue()
    layer = blob(out, gzip.compress(raw, mtime=0))
    layer["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
    cfg = blob(out, json.dumps({
        "architecture": "amd64" if os.uname().machine == "x86_64" else "arm64",
        "os": "linux",
        "config": config,
        "rootfs": {"type": "layers",
                   "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]},
    }).encode())
    cfg["mediaType"] = "application/vnd.oci.image.config.v1+json"
    man = blob(out, json.dumps({"schemaVersion": 2,
                                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                "config": cfg, "layers": [layer]}).encode())
    man["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
    man["annotations"] = {"org.opencontainers.image.ref.name": tag}
    with open(f"{out}/oci-layout", "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(f"{out}/index.json", "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [man]}, f)


main()
