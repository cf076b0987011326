#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""hostile_registry.py MODE PORTFILE LOG [BOMB]: a malicious OCI registry on 127.0.0.1.

Plain HTTP (a loopback registry may use it), one image `hostile/img:1`: a config and one
layer, each served under its true sha256 and size, as a registry that wants to be pulled
serves them. What it does wrong is MODE:

  ok         nothing: a layer holding etc/hello (the positive control of every test)
  bomb       the layer is BOMB (a file: gzip of a tar of one file of zeros), digest and
             size right
  endless    the layer's bytes, then zeros forever, without Content-Length
  drip       the layer's bytes, one every half second (faster than libcurl's 1 B/s limit)
  mediatype  the manifest's layer mediaType carries ESC ] 0 ; ... BEL ESC [ 2 J
  entryname  the layer's one entry is `/` ESC ] 0 ; pwned BEL ESC [ 2 J (an absolute name)
  badconfig  the config blob is not JSON
  realm      every /v2/ request needs a token: 401 with a Bearer challenge whose realm is
             http://127.0.0.2:<port>/token (another host), served here too
  ownrealm   the same on the registry's own host (http://127.0.0.1:<port>/token)

The log has a line per request: `GET <path>`, and `TOKEN <Authorization header or ->`
for the token server. PORTFILE receives the registry's port once it listens.

hostile_registry.py mkbomb OUT MIB writes BOMB: gzip of a tar holding one file of MIB
MiB of zeros (1024 MiB come to about 1 MB).
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Zeros(io.RawIOBase):
    def __init__(self, n):
        self.left = n

    def readable(self):
        return True

    def readinto(self, b):
        n = min(len(b), self.left)
        b[:n] = bytes(n)
        self.left -= n
        return n


if sys.argv[1] == "mkbomb":
    size = int(sys.argv[3]) << 20
    with tarfile.open(sys.argv[2], mode="w:gz", compresslevel=6,
                      format=tarfile.PAX_FORMAT) as t:
        ti = tarfile.TarInfo("zeros")
        ti.size, ti.mode, ti.mtime = size, 0o644, 1700000000
        t.addfile(ti, io.BufferedReader(Zeros(size), 1 << 20))
    sys.exit(0)

MODE, PORTFILE, LOG = sys.argv[1], sys.argv[2], sys.argv[3]
BOMB = sys.argv[4] if len(sys.argv) > 4 else None
REPO, TAG, TOKEN = "hostile/img", "1", "t0ken-for-hostile-img"
EVIL = "\x1b]0;pwned\x07\x1b[2J"
LOCK = threading.Lock()


def log(line):
    with LOCK, open(LOG, "a") as f:
        f.write(line + "\n")


def tar_gz(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 1700000000
            t.addfile(ti, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


if MODE == "bomb":
    with open(BOMB, "rb") as f:
        LAYER = f.read()
elif MODE == "entryname":
    LAYER = tar_gz([("/" + EVIL, b"x\n")])
else:
    # (1 KiB of text: a drip of it outlasts any test)
    LAYER = tar_gz([("etc/hello", b"hello\n"), ("etc/filler", b"filler line\n" * 100)])
CONFIG = b"this is not JSON {" if MODE == "badconfig" else json.dumps(
    {"architecture": "amd64", "os": "linux",
     "rootfs": {"type": "layers", "diff_ids": [digest(gzip.decompress(LAYER))
                                               if MODE != "bomb" else digest(b"")]},
     "config": {}}).encode()
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
MANIFEST = json.dumps({
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": digest(CONFIG), "size": len(CONFIG)},
    "layers": [{"mediaType": LAYER_TYPE + (EVIL if MODE == "mediatype" else ""),
                "digest": digest(LAYER), "size": len(LAYER)}]}).encode()
BLOBS = {digest(CONFIG): CONFIG, digest(LAYER): LAYER}
TOKEN_PORT = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, body=b"", ctype="application/json", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        log("GET " + self.path)
        if MODE in ("realm", "ownrealm") and \
                self.headers.get("Authorization") != "Bearer " + TOKEN:
            host = "127.0.0.2" if MODE == "realm" else "127.0.0.1"
            return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', headers=[(
                "WWW-Authenticate", 'Bearer realm="http://%s:%d/token",service="hostile",'
                'scope="repository:%s:pull"' % (host, TOKEN_PORT, REPO))])
        if self.path == "/v2/":
            return self.send(200, b"{}")
        base = "/v2/%s/" % REPO
        if self.path in (base + "manifests/" + TAG, base + "manifests/" + digest(MANIFEST)):
            return self.send(200, MANIFEST, "application/vnd.oci.image.manifest.v1+json",
                             [("Docker-Content-Digest", digest(MANIFEST))])
        if self.path.startswith(base + "blobs/") and self.path[len(base) + 6:] in BLOBS:
            data = BLOBS[self.path[len(base) + 6:]]
            if data is LAYER and MODE == "endless":
                return self.endless(data)
            if data is LAYER and MODE == "drip":
                return self.drip(data)
            return self.send(200, data, "application/octet-stream")
        return self.send(404, b'{"errors":[{"code":"NOT_FOUND"}]}')

    def endless(self, data):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        zeros = bytes(1 << 16)
        try:
            self.wfile.write(data)
            while True:
                self.wfile.write(zeros)
        except OSError:
            log("ENDLESS stopped by the client")

    def drip(self, data):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            for i in range(len(data)):
                self.wfile.write(data[i:i + 1])
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:
            log("DRIP stopped by the client")


class TokenHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        log("TOKEN " + (self.headers.get("Authorization") or "-"))
        body = json.dumps({"token": TOKEN}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    global TOKEN_PORT
    if MODE in ("realm", "ownrealm"):
        tok = ThreadingHTTPServer(("127.0.0.2" if MODE == "realm" else "127.0.0.1", 0),
                                  TokenHandler)
        TOKEN_PORT = tok.server_address[1]
        threading.Thread(target=tok.serve_forever, daemon=True).start()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(PORTFILE + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(PORTFILE + ".tmp", PORTFILE)
    srv.serve_forever()


if __name__ == "__main__":
    main()
