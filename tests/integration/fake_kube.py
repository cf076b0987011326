#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""fake_kube.py: a test Kubernetes API server for kubectl.bats.

Written from the Kubernetes API reference (core/v1 Pod, EphemeralContainer, the
pods/ephemeralcontainers subresource, watch events), not from what
kubectl-dhidebug sends: it serves exactly three requests and rejects (400, with
the reason in its log) any request whose method, path, query, content type or
body does not match the reference:

  GET   /api/v1/namespaces/{ns}/pods/{name}                        read Pod
  PATCH /api/v1/namespaces/{ns}/pods/{name}/ephemeralcontainers    Content-Type
        application/strategic-merge-patch+json (or json-patch / merge-patch),
        body a partial Pod: {"spec": {"ephemeralContainers": [EphemeralContainer]}}
  GET   /api/v1/namespaces/{ns}/pods?watch=true&fieldSelector=metadata.name={name}
        a stream of WatchEvent objects {"type": ..., "object": Pod}, one per line

TLS with the test's CA, and every request must carry `Authorization: Bearer TOKEN`.

usage: fake_kube.py CERT KEY TOKEN MODE LOG PORTFILE
MODE: ok | rbac (403 on the PATCH) | noephemeral (404 on the subresource, as a
cluster without ephemeral containers answers) | imagepull (the container waits in
ErrImagePull) | podsecurity (403 from the PodSecurity admission plugin)
"""
import json
import re
import ssl
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CERT, KEY, TOKEN, MODE, LOG, PORTFILE = sys.argv[1:7]
NS, POD = "default", "app"
PATCHED = []  # the ephemeral containers added, as the API server keeps them

# EphemeralContainer (core/v1): its fields, and those the reference says an
# ephemeral container may not set ("Ephemeral containers may not have ports",
# probes, lifecycle, resources).
EC_FIELDS = {"args", "command", "env", "envFrom", "image", "imagePullPolicy", "lifecycle",
             "livenessProbe", "name", "ports", "readinessProbe", "resizePolicy", "resources",
             "restartPolicy", "securityContext", "startupProbe", "stdin", "stdinOnce",
             "targetContainerName", "terminationMessagePath", "terminationMessagePolicy", "tty",
             "volumeDevices", "volumeMounts", "workingDir"}
EC_FORBIDDEN = {"ports", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle",
                "resources"}
SC_FIELDS = {"allowPrivilegeEscalation", "appArmorProfile", "capabilities", "privileged",
             "procMount", "readOnlyRootFilesystem", "runAsGroup", "runAsNonRoot", "runAsUser",
             "seLinuxOptions", "seccompProfile", "windowsOptions"}
PATCH_TYPES = {"application/strategic-merge-patch+json", "application/merge-patch+json"}
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
CAP_NAME = re.compile(r"^[A-Z_]+$")


def log(msg):
    with open(LOG, "a") as f:
        f.write(msg + "\n")


def pod(ec_state=None):
    p = {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": POD, "namespace": NS, "resourceVersion": "100",
                      "annotations": {"kubectl.kubernetes.io/default-container": "web"}},
         "spec": {"containers": [{"name": "web", "image": "dhi.io/nginx:1-debian12"},
                                 {"name": "sidecar", "image": "dhi.io/busybox:1-debian12"}],
                  "ephemeralContainers": PATCHED},
         "status": {"phase": "Running", "containerStatuses": [
             {"name": "web", "ready": True, "state": {"running": {}}}]}}
    if ec_state is not None:
        p["status"]["ephemeralContainerStatuses"] = [
            {"name": ec["name"], "image": ec["image"], "ready": False, "state": ec_state}
            for ec in PATCHED]
    return p


def status(code, reason, message):
    return code, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                  "message": message, "reason": reason, "code": code}


def check_ephemeral(ec):
    """Problems with one EphemeralContainer, as validation would report them."""
    if not isinstance(ec, dict):
        return "ephemeralContainers[] must be objects"
    unknown = set(ec) - EC_FIELDS
    if unknown:
        return "unknown EphemeralContainer fields %s" % sorted(unknown)
    if set(ec) & EC_FORBIDDEN:
        return "ephemeral containers may not set %s" % sorted(set(ec) & EC_FORBIDDEN)
    if not isinstance(ec.get("name"), str) or not DNS_LABEL.match(ec["name"]) \
            or len(ec["name"]) > 63:
        return "name must be a DNS label"
    if not isinstance(ec.get("image"), str) or not ec["image"]:
        return "image is required"
    if "targetContainerName" in ec and ec["targetContainerName"] not in ("web", "sidecar"):
        return "targetContainerName must name a container of the pod"
    for k in ("command", "args"):
        if k in ec and (not isinstance(ec[k], list)
                        or not all(isinstance(a, str) for a in ec[k])):
            return "%s must be a list of strings" % k
    for k in ("stdin", "stdinOnce", "tty"):
        if k in ec and not isinstance(ec[k], bool):
            return "%s must be a boolean" % k
    if ec.get("tty") and not ec.get("stdin"):
        return "tty needs stdin"
    sc = ec.get("securityContext", {})
    if not isinstance(sc, dict) or set(sc) - SC_FIELDS:
        return "bad securityContext"
    caps = sc.get("capabilities", {})
    if not isinstance(caps, dict) or set(caps) - {"add", "drop"}:
        return "bad capabilities"
    for c in caps.get("add", []) + caps.get("drop", []):
        if not isinstance(c, str) or not CAP_NAME.match(c) or c.startswith("CAP_"):
            return "capability `%s` is not a Capability name" % c
    if "privileged" in sc and not isinstance(sc["privileged"], bool):
        return "privileged must be a boolean"
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        log("http: " + fmt % args)

    def reply(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def reject(self, why):
        log("REJECT %s %s: %s" % (self.command, self.path, why))
        self.reply(*status(400, "BadRequest", "fake_kube: " + why))

    def authorized(self):
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            log("REJECT %s %s: no or wrong bearer token" % (self.command, self.path))
            self.reply(*status(401, "Unauthorized", "Unauthorized"))
            return False
        return True

    def do_GET(self):
        if not self.authorized():
            return
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if url.path == "/api/v1/namespaces/%s/pods/%s" % (NS, POD) and not q:
            log("GET pod")
            return self.reply(200, pod())
        if url.path.startswith("/api/v1/namespaces/") and "/pods/" in url.path \
                and url.path.count("/") == 6 and not q:
            return self.reply(*status(404, "NotFound", 'pods "%s" not found'
                                      % url.path.rsplit("/", 1)[1]))
        if url.path == "/api/v1/namespaces/%s/pods" % NS:
            allowed = {"watch", "fieldSelector", "resourceVersion", "timeoutSeconds",
                       "allowWatchBookmarks", "labelSelector"}
            if set(q) - allowed:
                return self.reject("unknown list/watch parameters %s" % sorted(set(q) - allowed))
            if q.get("watch") not in (["true"], ["1"]):
                return self.reject("a list, not a watch")
            if q.get("fieldSelector") != ["metadata.name=%s" % POD]:
                return self.reject("fieldSelector must be metadata.name=%s" % POD)
            if not PATCHED:
                return self.reject("watch before any ephemeral container was added")
            log("WATCH pod")
            return self.watch()
        return self.reject("no such path")

    def watch(self):
        # A watch answers 200 and keeps the connection open, one WatchEvent per line.
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        events = [("ADDED", {"waiting": {"reason": "ContainerCreating"}})]
        if MODE == "imagepull":
            events.append(("MODIFIED", {"waiting": {
                "reason": "ErrImagePull",
                "message": 'failed to pull and unpack image "%s": not found'
                           % PATCHED[-1]["image"]}}))
        else:
            events.append(("MODIFIED", {"running": {"startedAt": "2026-01-01T00:00:00Z"}}))
        for typ, state in events:
            self.wfile.write((json.dumps({"type": typ, "object": pod(state)}) + "\n").encode())
            self.wfile.flush()

    def do_PATCH(self):
        if not self.authorized():
            return
        path = "/api/v1/namespaces/%s/pods/%s/ephemeralcontainers" % (NS, POD)
        url = urllib.parse.urlsplit(self.path)
        if url.path != path:
            return self.reject("PATCH is only served on %s" % path)
        q = urllib.parse.parse_qs(url.query)
        if set(q) - {"dryRun", "fieldManager", "fieldValidation", "force", "pretty"}:
            return self.reject("unknown PATCH parameters")
        ctype = self.headers.get("Content-Type", "")
        if ctype not in PATCH_TYPES:
            return self.reject("Content-Type `%s` is not a patch type" % ctype)
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        try:
            body = json.loads(raw)
        except ValueError:
            return self.reject("body is not JSON")
        log("PATCH body " + json.dumps(body, sort_keys=True))
        if MODE == "noephemeral":
            return self.reply(*status(404, "NotFound", "the server could not find the "
                                      "requested resource"))
        if MODE == "rbac":
            return self.reply(*status(403, "Forbidden", 'pods "%s" is forbidden: User '
                                      '"dev" cannot patch resource "pods/ephemeralcontainers" '
                                      'in API group "" in the namespace "%s"' % (POD, NS)))
        if not isinstance(body, dict) or set(body) - {"apiVersion", "kind", "metadata", "spec"}:
            return self.reject("body must be a partial Pod")
        spec = body.get("spec")
        if not isinstance(spec, dict) or set(spec) != {"ephemeralContainers"}:
            return self.reject("the subresource only takes spec.ephemeralContainers")
        ecs = spec["ephemeralContainers"]
        if not isinstance(ecs, list) or not ecs:
            return self.reject("spec.ephemeralContainers must be a non-empty list")
        for ec in ecs:
            why = check_ephemeral(ec)
            if why:
                return self.reply(*status(422, "Invalid", 'Pod "%s" is invalid: %s'
                                          % (POD, why)))
        if MODE == "podsecurity":
            return self.reply(*status(403, "Forbidden", 'pods "%s" is forbidden: violates '
                                      'PodSecurity "baseline:latest": non-default '
                                      'capabilities' % POD))
        PATCHED.extend(ec for ec in ecs if ec["name"] not in [p["name"] for p in PATCHED])
        return self.reply(200, pod())

    def do_POST(self):
        self.reject("POST is not served")

    do_PUT = do_DELETE = do_POST


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(CERT, KEY)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(PORTFILE + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(PORTFILE + ".tmp", PORTFILE)
    srv.serve_forever()


if __name__ == "__main__":
    main()
