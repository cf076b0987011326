#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""hostile_kube.py CERT KEY TOKEN MODE LOG PORTFILE: a Kubernetes API server that lies.

TLS with the test's CA, `Authorization: Bearer TOKEN` on every request. It holds the pods
of namespace `default`: `app` (the target: container `web` running on node-1 under
containerd) and `victim-db-0` (a pod of somebody else's), each with a uid, and serves:

  GET    /api/v1/namespaces/{ns}/pods/{name}                  the pod
  PATCH  /api/v1/namespaces/{ns}/pods/{name}/ephemeralcontainers
  POST   /api/v1/namespaces/{ns}/pods                          create (generateName)
  GET    /api/v1/namespaces/{ns}/pods?labelSelector=...        list
  GET    /api/v1/namespaces/{ns}/pods?watch=true&fieldSelector=metadata.name%3D{name}
  DELETE /api/v1/namespaces/{ns}/pods/{name}                  DeleteOptions body

as the API server does (a PATCH whose metadata.uid differs from the pod's is a 422, since
a uid never changes; a DELETE whose preconditions.uid differs is a 409), except for MODE:

  ok        nothing: the node pod is created as asked; its watch says its container ended
            (so the plugin deletes it at once)
  victim    the answer to the create names `victim-db-0` (labels and namespace its own),
            though a node pod was made; the label list returns both
  wrongget  the GET of `app` answers with `victim-db-0` (another pod, another container)
  replaced  between the GET and the PATCH, `app` was deleted and recreated: the same name,
            another uid (another workload's pod)

The log has a line per request: `GET pod NAME`, `PATCH NAME body ...`, `POST body ...`,
`CREATED NAME uid UID`, `LIST ...`, `WATCH NAME`, `DELETE NAME body ...` and
`DELETED NAME` or `KEPT NAME (409)`.
"""
import json
import os
import random
import ssl
import string
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CERT, KEY, TOKEN, MODE, LOG, PORTFILE = sys.argv[1:7]
NS, NODE = "default", "node-1"
LOCK = threading.Lock()


def log(msg):
    with LOCK, open(LOG, "a") as f:
        f.write(msg + "\n")


def running_pod(name, uid, cid, labels=None):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NS, "uid": uid, "resourceVersion": "10",
                         "labels": labels or {"app": name}},
            "spec": {"nodeName": NODE, "containers": [{"name": "web", "image": "nginx:1"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "web", "ready": True, "state": {"running": {}},
                 "image": "nginx:1", "imageID": "docker.io/library/nginx@sha256:" + "1" * 64,
                 "containerID": "containerd://" + cid}]}}


PODS = {
    "app": running_pod("app", "a0a0a0a0-0000-4000-8000-000000000001", "ab" * 32),
    "victim-db-0": running_pod("victim-db-0", "7777aaaa-0000-4000-8000-000000000002",
                               "cd" * 32, {"app": "victim-db"}),
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def status(self, code, reason, msg):
        self.reply(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                          "message": msg, "reason": reason, "code": code})

    def body(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n) if n else b""
        return json.loads(raw) if raw else None

    def authorized(self):
        if self.headers.get("Authorization") == "Bearer " + TOKEN:
            return True
        self.status(401, "Unauthorized", "Unauthorized")
        return False

    def do_GET(self):
        if not self.authorized():
            return
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        parts = url.path.strip("/").split("/")
        if parts[:4] != ["api", "v1", "namespaces", NS] or parts[4:5] != ["pods"]:
            return self.status(404, "NotFound", "not served here")
        if len(parts) == 6:
            log("GET pod " + parts[5])
            name = "victim-db-0" if MODE == "wrongget" and parts[5] == "app" else parts[5]
            with LOCK:
                p = PODS.get(name)
            return self.reply(200, p) if p else self.status(404, "NotFound", "no pod")
        if q.get("watch") == ["true"]:
            name = q.get("fieldSelector", [""])[0].replace("metadata.name=", "")
            log("WATCH " + name)
            with LOCK:
                p = json.loads(json.dumps(PODS.get(name)))
            if not p:
                return self.status(404, "NotFound", "no pod")
            for cs in p["status"]["containerStatuses"]:
                cs["state"] = {"terminated": {"exitCode": 1, "reason": "Error",
                                              "message": "the test ends it here"}}
            line = json.dumps({"type": "ADDED", "object": p}).encode() + b"\n"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(line)))
            self.end_headers()
            self.wfile.write(line)
            return
        sel = q.get("labelSelector", [""])[0]
        with LOCK:
            items = [p for p in PODS.values()
                     if MODE == "victim" or all(
                         p["metadata"]["labels"].get(k) == v
                         for k, v in (r.split("=", 1) for r in sel.split(",") if r))]
        log("LIST %s -> %s" % (sel, " ".join(p["metadata"]["name"] for p in items)))
        self.reply(200, {"kind": "PodList", "apiVersion": "v1",
                         "metadata": {"resourceVersion": "20"}, "items": items})

    def do_POST(self):
        if not self.authorized():
            return
        body = self.body()
        log("POST body " + json.dumps(body, sort_keys=True))
        meta = body["metadata"]
        name = meta["generateName"] + "".join(random.choice("bcdfghjklmnpqrstvwxz2456789")
                                              for _ in range(5))
        uid = "%08x-0000-4000-8000-%012x" % (random.getrandbits(32), random.getrandbits(48))
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": dict(meta, name=name, namespace=NS, uid=uid, resourceVersion="30"),
               "spec": body["spec"], "status": {"phase": "Pending"}}
        pod["metadata"].pop("generateName", None)
        cid = "ef" * 32
        pod["status"]["containerStatuses"] = [{"name": "dhidebug", "state": {"waiting": {}},
                                               "containerID": "containerd://" + cid}]
        with LOCK:
            PODS[name] = pod
        log("CREATED %s uid %s" % (name, uid))
        if MODE == "victim":
            with LOCK:
                return self.reply(201, PODS["victim-db-0"])
        self.reply(201, pod)

    def do_PATCH(self):
        if not self.authorized():
            return
        parts = urllib.parse.urlsplit(self.path).path.strip("/").split("/")
        body = self.body()
        log("PATCH %s body %s" % (parts[5], json.dumps(body, sort_keys=True)))
        with LOCK:
            if MODE == "replaced" and parts[5] == "app":
                PODS["app"]["metadata"]["uid"] = "b1b1b1b1-0000-4000-8000-00000000000f"
            p = PODS.get(parts[5])
        if not p:
            return self.status(404, "NotFound", "no pod")
        want = (body.get("metadata") or {}).get("uid")
        if want and want != p["metadata"]["uid"]:
            return self.status(422, "Invalid", 'Pod "%s" is invalid: metadata.uid: Invalid '
                               'value: "%s": field is immutable' % (parts[5], want))
        log("PATCHED %s uid %s" % (parts[5], p["metadata"]["uid"]))
        self.reply(200, p)

    def do_DELETE(self):
        if not self.authorized():
            return
        parts = urllib.parse.urlsplit(self.path).path.strip("/").split("/")
        name = parts[5]
        body = self.body()
        log("DELETE %s body %s" % (name, json.dumps(body, sort_keys=True)))
        with LOCK:
            p = PODS.get(name)
            want = ((body or {}).get("preconditions") or {}).get("uid")
            if p and want and want != p["metadata"]["uid"]:
                log("KEPT %s (409)" % name)
                return self.status(409, "Conflict", "Precondition failed: UID in precondition: "
                                   "%s, UID in object meta: %s" % (want, p["metadata"]["uid"]))
            if p:
                del PODS[name]
        if not p:
            return self.status(404, "NotFound", "no pod")
        log("DELETED " + name)
        self.reply(200, p)


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(CERT, KEY)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(PORTFILE + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(PORTFILE + ".tmp", PORTFILE)
    srv.serve_forever()


if __name__ == "__main__":
    main()
