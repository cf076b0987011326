#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""fake_kube.py: a test Kubernetes API server for kubectl.bats.

Written from the Kubernetes API reference (core/v1 Pod, EphemeralContainer, the
pods/ephemeralcontainers subresource, watch events), not from what
kubectl-dhidebug sends: it serves these requests and rejects (400, with the
reason in its log) any request whose method, path, query, content type or body
does not match the reference:

  GET   /api/v1/namespaces/{ns}/pods/{name}                        read Pod
  PATCH /api/v1/namespaces/{ns}/pods/{name}/ephemeralcontainers    Content-Type
        application/strategic-merge-patch+json (spec.ephemeralContainers merged by name),
        application/merge-patch+json (RFC 7386: the list replaced) or
        application/json-patch+json (RFC 6902: add, remove, replace, test under
        /spec/ephemeralContainers); another type is a 415. The body of the first two is a
        partial Pod: {"spec": {"ephemeralContainers": [EphemeralContainer]}}. Then, as
        ValidatePodEphemeralContainersUpdate: an existing ephemeral container changed or
        removed, or a name the pod has already, is a 422 Invalid Status with details.causes;
        a new one is validated (check_ephemeral) and defaulted. Answers 200 with the Pod.
  GET   /api/v1/namespaces/{ns}/pods?watch=true&fieldSelector=metadata.name={name}
        [&resourceVersion=RV][&allowWatchBookmarks=true][&timeoutSeconds=N]: a chunked
        stream of WatchEvent objects {"type": ..., "object": Pod}, one per line. Every
        change of the pod has its resourceVersion. Without resourceVersion the watch starts
        with the pod as ADDED (Get State and Start at Most Recent); from RV it sends the
        changes after RV (Start at Exact), or, for a compacted RV, 410 Gone: an ERROR event
        whose object is a Status with code 410 (or, with `gone`, an HTTP 410). Then the
        kubelet's progress (MODIFIED); BOOKMARK events (a Pod with only its
        resourceVersion) only when allowWatchBookmarks=true; the watch stays open until
        timeoutSeconds (then its last chunk) or until the client leaves.
  GET   /api/v1/namespaces/{ns}/pods?labelSelector=k%3Dv[,...]    list Pod: a PodList
        of the pods created here whose labels match (equality requirements; a selector
        that does not parse is a 400)
  POST  /api/v1/namespaces/{ns}/pods                              create Pod
        Content-Type application/json, body a Pod: only the fields of Pod,
        ObjectMeta, PodSpec, Container, SecurityContext, Volume, HostPathVolumeSource,
        VolumeMount and Toleration, each of its type and within its allowed values,
        metadata.name or generateName; answers 201 with the Pod, named
        generateName + 5 characters as the API server names it
  DELETE /api/v1/namespaces/{ns}/pods/{name}                       delete Pod
        no body, or a DeleteOptions as application/json
  POST  /apis/authentication.k8s.io/{v1,v1beta1}/selfsubjectreviews  create SelfSubjectReview
        Content-Type application/json (another is a 415), body {"apiVersion":
        "authentication.k8s.io/<the path's version>", "kind": "SelfSubjectReview"} and at
        most an empty metadata: another apiVersion or kind, or a body that is not JSON, is
        a 400; a status (the server's to fill) or unknown fields are rejected too. Answers
        201 with status.userInfo of the user the bearer token authenticates: username
        $FAKE_KUBE_USER (default oidc:jane@example.com), uid $FAKE_KUBE_UID, groups
        $FAKE_KUBE_GROUPS (comma-separated) plus system:authenticated, and an extra.
        Any other method on it is a 405, as for a create-only resource.

On top of the reference, a created pod must be what `--mode node` promises
(check_node_pod: on the target's node, hostPID, privileged, restartPolicy Never,
tolerating every taint, a deadline, the runtime's directories from the host at the
same paths, dhidebug's command: a session's, with stdin and a tty, or a copy's,
`dhidebug cp`, with stdin and no tty); a pod that is not is rejected too.

No kubelet runs here: the tests' stand-in for `kubectl attach` plays it, and says when
the container it ran has exited, as the kubelet's status update would:
  POST  /fake-kubelet/exited   {"namespace", "pod", "container", "exitCode", "message"}
        the ephemeral container of the target pod, or the container of a node pod,
        becomes terminated with that exitCode (a change of the pod: watches see it).
That path is no Kubernetes API (the bearer token is still required).

TLS with the test's CA, and every request must carry `Authorization: Bearer TOKEN`.

The log has a line per request served: `GET pod`, `PATCH body {...}`, `PATCH -> 200 added
NAMES`, `PATCH -> 422 MESSAGE`, `WATCH pod [from resourceVersion RV]`, `WATCH asks for
bookmarks`, `EVENT TYPE RV` per watch event sent, `GONE RV`,
`POST pod body {...}`, `CREATED pod NAME`, `WATCH node pod NAME`,
`LIST pods NS labelSelector SEL -> NAMES`,
`DELETE pod NAME body {...}`, `SSR VERSION body {...}` and `SSR VERSION -> STATUS`;
`REJECT ...` for a request refused.

usage: fake_kube.py CERT KEY TOKEN MODE LOG PORTFILE
MODE: a comma-separated list of
  ok | rbac (403 on the PATCH) | noephemeral (404 on the subresource, as a cluster
  without ephemeral containers answers) | imagepull (the container waits in
  ErrImagePull) | podsecurity (403 from the PodSecurity admission plugin), and for
  the node pod: node (it runs) | pending (it stays Pending until deleted) |
  rbac, podsecurity, imagepull (on the create and the node pod) | unschedulable
  (PodScheduled False, Unschedulable) | nodelete (403 on DELETE); for the target pod: crio (a CRI-O containerID) | docker (a
  docker:// containerID) | notrunning (the target container waits in
  CrashLoopBackOff); and hostile: every Status and watch message the server
  writes carries terminal control sequences (ESC ], ESC [2J, CR/LF, C1 CSI),
  and the watches first report a container waiting with such a reason and message;
  dropcreate (the POST creates the pod, then the connection drops before any answer) |
  garbagecreate (the POST creates the pod and answers 201 with a body that is not JSON);
  for the SelfSubjectReview (served in v1, and in v1beta1, by default): ssrbeta (v1 is
  404, as on Kubernetes 1.27) | nossr (404 on both, as before 1.27) | ssrforbidden (403
  on both, as when RBAC lacks system:basic-user's rule) | ssrhostile (a username with
  terminal control sequences, and 100 groups); endless (the target pod's GET answers
  with a body that never ends, without Content-Length); for the target pod's watches:
  watchclose (the first watch ends after its first events, as at the API server's request
  timeout or a restart) | watchcut (the first watch's connection is cut: no last chunk, no
  TLS close, as a proxy's idle timeout does) | closeall (every watch ends so) | expired (the
  history is compacted while the first watch is open: an ERROR 410 event) | gone (the first
  watch ends, the history is compacted, and a watch from an old resourceVersion is an HTTP
  410) | bookmark (the first watch sends a BOOKMARK, if asked for) | terminated (the
  ephemeral container exits before it is seen running) | watcherror (the first watch
  sends an ERROR event with a 500 Status, then ends) | nametaken (the first
  strategic-merge PATCH finds a container of its name there already, as another session
  left it: the merge changes it, a 422)
"""
import os
import json
import random
import re
import select
import ssl
import string
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CERT, KEY, TOKEN, MODE, LOG, PORTFILE = sys.argv[1:7]
FLAGS = set(MODE.split(","))
NS, POD, NODE = "default", "app", "node-1"
CID = "4f1c" * 16  # a container ID: 64 hex digits
PATCHED = []  # the ephemeral containers added, as the API server keeps them
# The target pod's history, as etcd and the watch cache keep it. Every write bumps the
# cluster's resourceVersion (RV); the pod's metadata.resourceVersion is that of its last write.
RV = [100]
POD_RV = [100]
HISTORY = []  # (resourceVersion, type, Pod) of each change of the target pod
COMPACTED = [0]  # changes up to this resourceVersion are compacted away: a watch from one is Gone
EC_STATE = {}  # ephemeral container name -> its state as the kubelet reports it
PLAN = []  # the states the kubelet will report next for the newest ephemeral container
TARGET_WATCHES = [0]  # watches of the target pod served so far
PRESET = [False]  # nametaken: a container of the name was put there once
CREATED = {}  # the pods created, by name, as the API server keeps them
EXITED = {}  # (namespace, node pod) -> the terminated state of its container (/fake-kubelet)
LOCK = threading.Lock()
# the user the bearer token authenticates as (the kubeconfig's user entry is named otherwise)
USER = {"username": os.environ.get("FAKE_KUBE_USER", "oidc:jane@example.com"),
        "uid": os.environ.get("FAKE_KUBE_UID", "7e0c1b6a-5f1d-4e55-9b0e-3a1f0c2d4e5f"),
        "groups": [g for g in os.environ.get("FAKE_KUBE_GROUPS", "oidc:sre").split(",") if g]
        + ["system:authenticated"],
        "extra": {"authentication.kubernetes.io/credential-id": ["JTI=0d1e2f"]}}
SSR_PATH = re.compile(r"^/apis/authentication\.k8s\.io/(v1|v1beta1)/selfsubjectreviews$")

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
PATCH_TYPES = {"application/strategic-merge-patch+json", "application/merge-patch+json",
               "application/json-patch+json"}
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
CAP_NAME = re.compile(r"^[A-Z_]+$")


def log(msg):
    with open(LOG, "a") as f:
        f.write(msg + "\n")


def pod():
    """The target Pod as the API server serves it now."""
    p = {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": POD, "namespace": NS, "resourceVersion": str(POD_RV[0]),
                      "annotations": {"kubectl.kubernetes.io/default-container": "web"}},
         "spec": {"containers": [{"name": "web", "image": "dhi.io/nginx:1-debian12"},
                                 {"name": "sidecar", "image": "dhi.io/busybox:1-debian12"}],
                  "ephemeralContainers": PATCHED},
         "status": {"phase": "Running", "containerStatuses": [
             {"name": "web", "ready": True, "state": {"running": {}},
              "image": "dhi.io/nginx:1-debian12",
              "imageID": "dhi.io/nginx@sha256:" + "ab" * 32,
              "containerID": "containerd://" + CID},
             {"name": "sidecar", "ready": True, "state": {"running": {}},
              "containerID": "containerd://" + CID[::-1]}]}}
    p["spec"]["nodeName"] = NODE
    web = p["status"]["containerStatuses"][0]
    if "crio" in FLAGS:
        web["containerID"] = "cri-o://" + CID
    if "docker" in FLAGS:
        web["containerID"] = "docker://" + CID
    if "notrunning" in FLAGS:
        web["state"] = {"waiting": {"reason": "CrashLoopBackOff",
                                    "message": "back-off 5m0s restarting failed container"}}
    if EC_STATE:
        p["status"]["ephemeralContainerStatuses"] = [
            {"name": ec["name"], "image": ec["image"], "ready": False,
             "state": EC_STATE[ec["name"]]} for ec in PATCHED if ec["name"] in EC_STATE]
    return json.loads(json.dumps(p))


def pod_changed(typ="MODIFIED"):
    """A write of the target pod (LOCK held): a new resourceVersion, kept in the history."""
    RV[0] += 1
    POD_RV[0] = RV[0]
    HISTORY.append((RV[0], typ, pod()))


def kubelet_step():
    """The kubelet reports the next state of the newest ephemeral container (LOCK held)."""
    if not PLAN:
        return False
    EC_STATE[PATCHED[-1]["name"]] = PLAN.pop(0)
    pod_changed()
    return True


def kubelet_plan(image):
    """What the kubelet will report for a new ephemeral container, by MODE."""
    plan = []
    if "hostile" in FLAGS:
        plan.append({"waiting": {"reason": text("Slow"), "message": text("still")}})
    if "imagepull" in FLAGS:
        plan.append({"waiting": {"reason": "ErrImagePull", "message": text(
            'failed to pull and unpack image "%s": not found' % image)}})
    elif "terminated" in FLAGS:
        # dhidebug exited before the kubelet saw it run (between two status updates)
        plan.append({"terminated": {
            "exitCode": 125, "reason": "Error",
            "message": "dhidebug: cannot enter pid://1: no such process\n",
            "startedAt": "2026-01-01T00:00:00Z", "finishedAt": "2026-01-01T00:00:01Z",
            "containerID": "containerd://" + "5e" * 32}})
    else:
        plan.append({"running": {"startedAt": "2026-01-01T00:00:00Z"}})
    return plan


# what a hostile API server (or a proxy on the path) puts into its texts
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\r\nkubectl-dhidebug: all good\u009b31m"


def text(message):
    return message + HOSTILE if "hostile" in FLAGS else message


def status(code, reason, message):
    message = text(message)
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


# --- PATCH of pods/ephemeralcontainers: the three patch types, then update validation -------
# EC_DEFAULTS: what defaulting fills into a stored (Ephemeral)Container
EC_DEFAULTS = {"terminationMessagePath": "/dev/termination-log",
               "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}


def smp_merge(old, patch):
    """Strategic merge of a map (the fields of a container): maps merge, null deletes, other
    values (lists of strings here) replace."""
    out = json.loads(json.dumps(old))
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = smp_merge(out[k], v)
        else:
            out[k] = v
    return out


def apply_smp(old_ecs, body):
    """application/strategic-merge-patch+json: spec.ephemeralContainers has patchStrategy merge
    and patchMergeKey name, so each entry merges into the existing one of its name or is
    added. Returns (new list, None) or (None, why the fake does not take it)."""
    ecs = body["spec"]["ephemeralContainers"]
    if not isinstance(ecs, list):
        return None, "spec.ephemeralContainers must be a list"
    new = json.loads(json.dumps(old_ecs))
    for ec in ecs:
        if not isinstance(ec, dict):
            return None, "ephemeralContainers[] must be objects"
        if any(k.startswith("$") for k in ec):
            return None, "patch directives ($patch, $setElementOrder...) are not served here"
        at = [i for i, o in enumerate(new) if o.get("name") == ec.get("name")]
        if at:
            new[at[0]] = smp_merge(new[at[0]], ec)
        else:
            new.append(ec)
    return new, None


def apply_merge_patch(old_ecs, body):
    """application/merge-patch+json (RFC 7386): a list is replaced as a whole."""
    ecs = body["spec"]["ephemeralContainers"]
    if ecs is None:
        return [], None
    if not isinstance(ecs, list):
        return None, "spec.ephemeralContainers must be a list"
    return json.loads(json.dumps(ecs)), None


def json_pointer(path):
    if not isinstance(path, str) or not path.startswith("/"):
        return None
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def apply_json_patch(old_ecs, ops):
    """application/json-patch+json (RFC 6902) on the Pod; the fake takes operations on
    /spec/ephemeralContainers only. Returns (new list, None), (None, why) for what it does not
    take, or raises ValueError for an operation that fails (the API server's 422)."""
    if not isinstance(ops, list):
        return None, "a JSON patch is a list of operations"
    doc = {"spec": {"ephemeralContainers": json.loads(json.dumps(old_ecs))}}
    for op in ops:
        if not isinstance(op, dict) or op.get("op") not in ("add", "remove", "replace", "test"):
            return None, "JSON patch operation %s is not served here" % json.dumps(op)
        toks = json_pointer(op.get("path"))
        if not toks or toks[:2] != ["spec", "ephemeralContainers"]:
            return None, "JSON patch path `%s` is outside /spec/ephemeralContainers" \
                % op.get("path")
        parent, last = doc, toks[-1]
        for t in toks[:-1]:
            parent = parent[int(t)] if isinstance(parent, list) else parent.get(t)
            if parent is None:
                raise ValueError("missing path %s" % op["path"])
        if op["op"] in ("add", "replace", "test") and "value" not in op:
            return None, "JSON patch %s needs a value" % op["op"]
        if isinstance(parent, list):
            idx = len(parent) if last == "-" and op["op"] == "add" else int(last)
            if idx > len(parent) or (op["op"] != "add" and idx >= len(parent)):
                raise ValueError("index %s out of range" % last)
            if op["op"] == "add":
                parent.insert(idx, op["value"])
            elif op["op"] == "remove":
                del parent[idx]
            elif op["op"] == "replace":
                parent[idx] = op["value"]
            elif parent[idx] != op["value"]:
                raise ValueError("test failed at %s" % op["path"])
        else:
            if op["op"] != "add" and last not in parent:
                raise ValueError("missing path %s" % op["path"])
            if op["op"] in ("add", "replace"):
                parent[last] = op["value"]
            elif op["op"] == "remove":
                del parent[last]
            elif parent[last] != op["value"]:
                raise ValueError("test failed at %s" % op["path"])
    return doc["spec"]["ephemeralContainers"], None


def check_ec_update(old_ecs, new_ecs):
    """ValidatePodEphemeralContainersUpdate and the names' uniqueness, as the API server
    reports them: a list of (field, reason, message)."""
    errs = []
    if not isinstance(new_ecs, list):
        return [("spec.ephemeralContainers", "FieldValueInvalid", "Invalid value: must be a list")]
    names = {"web", "sidecar"}
    for i, ec in enumerate(new_ecs):
        f = "spec.ephemeralContainers[%d]" % i
        known = [o for o in old_ecs if isinstance(ec, dict) and o["name"] == ec.get("name")]
        why = None if known else check_ephemeral(ec)
        if why:
            errs.append((f, "FieldValueInvalid", "Invalid value: " + why))
        elif ec["name"] in names:
            errs.append((f + ".name", "FieldValueDuplicate", 'Duplicate value: "%s"' % ec["name"]))
        else:
            names.add(ec["name"])
    index = {ec.get("name"): ec for ec in new_ecs if isinstance(ec, dict)}
    for old in old_ecs:
        new = index.get(old["name"])
        if new is None:
            errs.append(("spec.ephemeralContainers", "FieldValueForbidden",
                         'Forbidden: existing ephemeral containers "%s" may not be removed\n'
                         % old["name"]))
        elif new != old:
            diff = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            errs.append(("spec.ephemeralContainers", "FieldValueForbidden",
                         'Forbidden: existing ephemeral containers "%s" may not be changed\n'
                         "  (fields %s differ)" % (old["name"], ", ".join(diff))))
    return errs


# --- Pod (core/v1), for the create: the fields of each type in the reference -----------------
META_FIELDS = {"annotations", "creationTimestamp", "deletionGracePeriodSeconds",
               "deletionTimestamp", "finalizers", "generateName", "generation", "labels",
               "managedFields", "name", "namespace", "ownerReferences", "resourceVersion",
               "selfLink", "uid"}
PODSPEC_FIELDS = {"activeDeadlineSeconds", "affinity", "automountServiceAccountToken",
                  "containers", "dnsConfig", "dnsPolicy", "enableServiceLinks",
                  "ephemeralContainers", "hostAliases", "hostIPC", "hostNetwork", "hostPID",
                  "hostUsers", "hostname", "imagePullSecrets", "initContainers", "nodeName",
                  "nodeSelector", "os", "overhead", "preemptionPolicy", "priority",
                  "priorityClassName", "readinessGates", "resourceClaims", "resources",
                  "restartPolicy", "runtimeClassName", "schedulerName", "schedulingGates",
                  "securityContext", "serviceAccount", "serviceAccountName",
                  "setHostnameAsFQDN", "shareProcessNamespace", "subdomain",
                  "terminationGracePeriodSeconds", "tolerations", "topologySpreadConstraints",
                  "volumes"}
CONTAINER_FIELDS = EC_FIELDS - {"targetContainerName"}
VOLUME_SOURCES = {"awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder",
                  "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "fc", "flexVolume",
                  "flocker", "gcePersistentDisk", "gitRepo", "glusterfs", "hostPath", "image",
                  "iscsi", "nfs", "persistentVolumeClaim", "photonPersistentDisk",
                  "portworxVolume", "projected", "quobyte", "rbd", "scaleIO", "secret",
                  "storageos", "vsphereVolume"}
HOSTPATH_TYPES = {"", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket",
                  "CharDevice", "BlockDevice"}
MOUNT_FIELDS = {"mountPath", "mountPropagation", "name", "readOnly", "recursiveReadOnly",
                "subPath", "subPathExpr"}
TOLERATION_FIELDS = {"effect", "key", "operator", "tolerationSeconds", "value"}
TAINT_EFFECTS = {"", "NoSchedule", "PreferNoSchedule", "NoExecute"}
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
PRIVILEGED_NS = "dhidebug-system"  # a namespace labelled pod-security.kubernetes.io/enforce=privileged
NAMESPACES = {NS, PRIVILEGED_NS}


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_labels(labels):
    if not isinstance(labels, dict):
        return "metadata.labels must be a map"
    for k, v in labels.items():
        prefix, _, name = k.rpartition("/")
        if (prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.match(prefix))) \
                or len(name) > 63 or not LABEL_NAME.match(name):
            return "label key `%s` is not a qualified name" % k
        if not isinstance(v, str) or len(v) > 63 or (v and not LABEL_NAME.match(v)):
            return "label value `%s` is not a label value" % v
    return None


def check_meta(meta, ns):
    if not isinstance(meta, dict) or set(meta) - META_FIELDS:
        return "unknown ObjectMeta fields %s" % sorted(set(meta) - META_FIELDS)
    if meta.get("namespace", ns) != ns:
        return "metadata.namespace does not match the request's namespace"
    name, gen = meta.get("name"), meta.get("generateName")
    if name is None and gen is None:
        return "name or generateName is required"
    for v in (name, gen):
        if v is not None and (not isinstance(v, str) or not DNS_SUBDOMAIN.match(
                v + "x" * (v is gen)) or len(v) > 253):
            return "metadata.name/generateName `%s` is not a DNS subdomain" % v
    why = check_labels(meta.get("labels", {}))
    if why:
        return why
    ann = meta.get("annotations", {})
    if not isinstance(ann, dict) or not all(isinstance(v, str) for v in ann.values()):
        return "metadata.annotations must map strings to strings"
    return None


def check_container(c, volumes):
    if not isinstance(c, dict) or set(c) - CONTAINER_FIELDS:
        return "unknown Container fields %s" % sorted(set(c) - CONTAINER_FIELDS)
    if not isinstance(c.get("name"), str) or not DNS_LABEL.match(c["name"]):
        return "container name must be a DNS label"
    if not isinstance(c.get("image"), str) or not c["image"]:
        return "container image is required"
    for k in ("command", "args"):
        if k in c and (not isinstance(c[k], list) or not all(isinstance(a, str) for a in c[k])):
            return "%s must be a list of strings" % k
    for k in ("stdin", "stdinOnce", "tty"):
        if k in c and not isinstance(c[k], bool):
            return "%s must be a boolean" % k
    sc = c.get("securityContext", {})
    if not isinstance(sc, dict) or set(sc) - SC_FIELDS:
        return "bad securityContext"
    if "privileged" in sc and not isinstance(sc["privileged"], bool):
        return "privileged must be a boolean"
    mounts = c.get("volumeMounts", [])
    if not isinstance(mounts, list):
        return "volumeMounts must be a list"
    paths = set()
    for m in mounts:
        if not isinstance(m, dict) or set(m) - MOUNT_FIELDS:
            return "unknown VolumeMount fields"
        if m.get("name") not in volumes:
            return "volumeMount `%s` names no volume" % m.get("name")
        if not isinstance(m.get("mountPath"), str) or not m["mountPath"].startswith("/"):
            return "mountPath must be an absolute path"
        if m["mountPath"] in paths:
            return "mountPath `%s` is mounted twice" % m["mountPath"]
        paths.add(m["mountPath"])
        if "readOnly" in m and not isinstance(m["readOnly"], bool):
            return "readOnly must be a boolean"
    return None


def check_pod(p, ns):
    """Problems with a Pod to create, as decoding and validation would report them."""
    if not isinstance(p, dict) or set(p) - {"apiVersion", "kind", "metadata", "spec", "status"}:
        return "body must be a Pod"
    if p.get("apiVersion", "v1") != "v1" or p.get("kind", "Pod") != "Pod":
        return "apiVersion/kind must be v1 Pod"
    why = check_meta(p.get("metadata"), ns)
    if why:
        return why
    spec = p.get("spec")
    if not isinstance(spec, dict) or set(spec) - PODSPEC_FIELDS:
        return "unknown PodSpec fields %s" % sorted(set(spec or {}) - PODSPEC_FIELDS)
    for k in ("hostPID", "hostIPC", "hostNetwork", "automountServiceAccountToken"):
        if k in spec and not isinstance(spec[k], bool):
            return "%s must be a boolean" % k
    if "nodeName" in spec and not isinstance(spec["nodeName"], str):
        return "nodeName must be a string"
    if spec.get("restartPolicy", "Always") not in ("Always", "OnFailure", "Never"):
        return "restartPolicy must be Always, OnFailure or Never"
    if "activeDeadlineSeconds" in spec and (not is_int(spec["activeDeadlineSeconds"])
                                            or spec["activeDeadlineSeconds"] <= 0):
        return "activeDeadlineSeconds must be a positive integer"
    tols = spec.get("tolerations", [])
    if not isinstance(tols, list):
        return "tolerations must be a list"
    for t in tols:
        if not isinstance(t, dict) or set(t) - TOLERATION_FIELDS:
            return "unknown Toleration fields"
        op = t.get("operator", "Equal")
        if op not in ("Exists", "Equal") or t.get("effect", "") not in TAINT_EFFECTS:
            return "toleration operator must be Exists or Equal, effect a taint effect"
        if op == "Exists" and t.get("value", ""):
            return "a toleration with operator Exists has no value"
        if not t.get("key") and op != "Exists":
            return "a toleration without a key needs operator Exists"
    vols = spec.get("volumes", [])
    if not isinstance(vols, list):
        return "volumes must be a list"
    names = {}
    for v in vols:
        if not isinstance(v, dict) or not DNS_LABEL.match(str(v.get("name"))) \
                or v["name"] in names:
            return "volume names must be unique DNS labels"
        if set(v) - {"name"} - VOLUME_SOURCES or len(set(v) & VOLUME_SOURCES) != 1:
            return "volume `%s` must have exactly one known source" % v["name"]
        hp = v.get("hostPath")
        if hp is not None:
            if not isinstance(hp, dict) or set(hp) - {"path", "type"} \
                    or not isinstance(hp.get("path"), str) or not hp["path"].startswith("/") \
                    or hp.get("type", "") not in HOSTPATH_TYPES:
                return "bad hostPath in volume `%s`" % v["name"]
        names[v["name"]] = v
    ctrs = spec.get("containers")
    if not isinstance(ctrs, list) or not ctrs:
        return "spec.containers must be a non-empty list"
    for c in ctrs:
        why = check_container(c, names)
        if why:
            return why
    return None


def parse_selector(sel):
    """A label selector of equality requirements (key=value, key==value), as the API server
    parses them; None when it would not parse. (Set-based ones are not needed here.)"""
    reqs = []
    for part in sel.split(",") if sel else []:
        m = re.match(r"^([^=!]+)==?([^=]*)$", part)
        if not m:
            return None
        key, value = m.group(1), m.group(2)
        if check_labels({key: value}):
            return None
        reqs.append((key, value))
    return reqs


def node_target():
    if "crio" in FLAGS:
        return "crio://" + CID, ["/run/crio", "/var/lib/containers/storage",
                                 "/run/containers/storage"]
    return "containerd://k8s.io/" + CID, ["/run/containerd"]


def check_node_pod(p):
    """What --mode node promises on top of a valid Pod."""
    spec, meta = p["spec"], p["metadata"]
    if meta.get("generateName") != "dhidebug-node-":
        return "generateName must be dhidebug-node-"
    if meta.get("labels", {}).get("app.kubernetes.io/name") != "dhidebug":
        return "label app.kubernetes.io/name=dhidebug missing"
    if not any(POD in v for v in list(meta.get("labels", {}).values())
               + list(meta.get("annotations", {}).values())):
        return "no label or annotation names the target pod"
    if spec.get("nodeName") != NODE:
        return "nodeName must be the target's node %s" % NODE
    if spec.get("hostPID") is not True or spec.get("restartPolicy") != "Never":
        return "hostPID true and restartPolicy Never are needed"
    if not spec.get("activeDeadlineSeconds"):
        return "activeDeadlineSeconds is needed"
    if {"operator": "Exists"} not in spec.get("tolerations", []):
        return "a toleration {operator: Exists} (every taint) is needed"
    if len(spec["containers"]) != 1:
        return "one container"
    c = spec["containers"][0]
    if c.get("securityContext", {}).get("privileged") is not True:
        return "the container must be privileged"
    target, dirs = node_target()
    cmd = c.get("command") or []
    if cmd[:3] == ["dhidebug", "cp", "--profile"]:
        # a copy: the tar stream is stdout, byte for byte
        if not c.get("stdin") or c.get("tty"):
            return "a copy needs stdin and no tty"
        if not any(a.startswith(target + ":/") for a in cmd) or "-" not in cmd:
            return "command must be dhidebug cp --profile P ... %s:PATH - (or the reverse)" \
                % target
    else:
        if not (c.get("stdin") and c.get("tty")):
            return "stdin and tty are needed"
        if cmd[:2] != ["dhidebug", "--profile"] or target not in cmd \
                or ("--" in cmd and cmd.index("--") < cmd.index(target)):
            return "command must be dhidebug --profile P [--toolbox T] %s [-- ...]" % target
    hostpaths = {v["name"]: v["hostPath"]["path"] for v in spec.get("volumes", [])
                 if "hostPath" in v}
    mounted = {m["mountPath"]: hostpaths.get(m["name"]) for m in c.get("volumeMounts", [])}
    for d in dirs + ["/sys/fs/cgroup", "/var/lib/dhidebug"]:
        if mounted.get(d) != d:
            return "host directory %s must be mounted at the same path" % d
    return None


def node_pod_state(p, phase, state, conditions=None):
    q = json.loads(json.dumps(p))
    q["status"] = {"phase": phase, "containerStatuses": [
        {"name": q["spec"]["containers"][0]["name"], "image": q["spec"]["containers"][0]["image"],
         "ready": False, "restartCount": 0, "state": state}]}
    if conditions:
        q["status"]["conditions"] = conditions
    return q


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

    def endless(self):
        """A JSON string that never ends: the client must stop reading on its own."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = b"x" * 65536
        try:
            self.wfile.write(b'{"kind": "Pod", "metadata": {"name": "')
            for _ in range(4096):  # 256 MiB at most, then give up
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            log("ENDLESS stopped by the client")
            return
        log("ENDLESS sent 256 MiB")

    def reject(self, why):
        log("REJECT %s %s: %s" % (self.command, self.path, why))
        self.reply(*status(400, "BadRequest", "fake_kube: " + why))

    def not_allowed(self):
        """405 for any method but POST on selfsubjectreviews (a create-only resource)."""
        if SSR_PATH.match(urllib.parse.urlsplit(self.path).path):
            log("REJECT %s %s: only POST is served" % (self.command, self.path))
            self.reply(*status(405, "MethodNotAllowed", "the server does not allow this "
                                      "method on the requested resource"))
            return True
        return False

    def self_subject_review(self, version):
        """create SelfSubjectReview (authentication.k8s.io v1 or v1beta1)."""
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        if set(q) - {"dryRun", "fieldManager", "fieldValidation", "pretty"}:
            return self.reject("unknown create parameters")
        ctype = self.headers.get("Content-Type", "")
        if ctype.split(";")[0].strip() != "application/json":
            log("REJECT POST %s: Content-Type `%s`" % (self.path, ctype))
            return self.reply(*status(415, "UnsupportedMediaType", 'the body of the request '
                                      'was in an unknown format - accepted media types '
                                      'include: application/json, application/yaml, '
                                      'application/vnd.kubernetes.protobuf'))
        body, ok = self.body_json()
        log("SSR %s body %s" % (version, json.dumps(body, sort_keys=True)))
        want = "authentication.k8s.io/" + version
        if not ok or not isinstance(body, dict):
            log("REJECT POST %s: body is not a JSON object" % self.path)
            return self.reply(*status(400, "BadRequest", "the object provided is unrecognized "
                                      "(must be of type SelfSubjectReview)"))
        if body.get("kind") != "SelfSubjectReview" or body.get("apiVersion") != want:
            log("REJECT POST %s: apiVersion/kind %s/%s" % (self.path, body.get("apiVersion"),
                                                            body.get("kind")))
            return self.reply(*status(400, "BadRequest", "the API version in the data (%s) "
                                      "does not match the expected API version (%s)"
                                      % (body.get("apiVersion"), want)))
        if set(body) - {"apiVersion", "kind", "metadata"}:
            return self.reject("a SelfSubjectReview to create has only apiVersion, kind and "
                               "metadata (status is the server's): %s" % sorted(body))
        if body.get("metadata", {}) not in ({},):
            return self.reject("metadata must be empty")
        if "nossr" in FLAGS or ("ssrbeta" in FLAGS and version == "v1"):
            log("SSR %s -> 404" % version)
            return self.reply(*status(404, "NotFound", "the server could not find the "
                                      "requested resource"))
        if "ssrforbidden" in FLAGS:
            log("SSR %s -> 403" % version)
            return self.reply(*status(403, "Forbidden", 'selfsubjectreviews.authentication.k8s'
                                      '.io is forbidden: User "%s" cannot create resource '
                                      '"selfsubjectreviews" in API group "authentication.k8s.io"'
                                      ' at the cluster scope' % USER["username"]))
        user = json.loads(json.dumps(USER))
        if "ssrhostile" in FLAGS:
            user["username"] += HOSTILE
            user["groups"] = ["g%d\x1b[1m" % i for i in range(100)]
        log("SSR %s -> 201 %s" % (version, user["username"]))
        return self.reply(201, {"apiVersion": want, "kind": "SelfSubjectReview",
                                "metadata": {"creationTimestamp": None},
                                "status": {"userInfo": user}})

    def authorized(self):
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            log("REJECT %s %s: no or wrong bearer token" % (self.command, self.path))
            self.reply(*status(401, "Unauthorized", "Unauthorized"))
            return False
        return True

    def do_GET(self):
        if not self.authorized() or self.not_allowed():
            return
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if url.path == "/api/v1/namespaces/%s/pods/%s" % (NS, POD) and not q:
            log("GET pod")
            if "endless" in FLAGS:
                return self.endless()
            return self.reply(200, pod())
        m = re.match(r"^/api/v1/namespaces/([^/]+)/pods/([^/]+)$", url.path)
        if m and not q and (m.group(1), m.group(2)) in CREATED:
            log("GET node pod %s" % m.group(2))
            return self.reply(200, CREATED[(m.group(1), m.group(2))])
        if url.path.startswith("/api/v1/namespaces/") and "/pods/" in url.path \
                and url.path.count("/") == 6 and not q:
            return self.reply(*status(404, "NotFound", 'pods "%s" not found'
                                      % url.path.rsplit("/", 1)[1]))
        m = re.match(r"^/api/v1/namespaces/([^/]+)/pods$", url.path)
        if m and m.group(1) in NAMESPACES:
            allowed = {"watch", "fieldSelector", "resourceVersion", "timeoutSeconds",
                       "allowWatchBookmarks", "labelSelector"}
            if set(q) - allowed:
                return self.reject("unknown list/watch parameters %s" % sorted(set(q) - allowed))
            if "watch" not in q:
                return self.list_pods(m.group(1), q)
            if q.get("watch") not in (["true"], ["1"]):
                return self.reject("watch must be true")
            sel = q.get("fieldSelector", [""])[0]
            key = (m.group(1), sel[len("metadata.name="):])
            if sel.startswith("metadata.name=") and key in CREATED:
                log("WATCH node pod %s" % key[1])
                return self.watch_node(key, q)
            if q.get("fieldSelector") != ["metadata.name=%s" % POD] or m.group(1) != NS:
                return self.reject("fieldSelector must be metadata.name=%s" % POD)
            if not PATCHED:
                return self.reject("watch before any ephemeral container was added")
            return self.watch(q)
        return self.reject("no such path")

    def list_pods(self, ns, q):
        # list Pod: a PodList of the pods (created here) the selectors match
        if any(len(v) != 1 for v in q.values()):
            return self.reject("list parameters may be given once")
        if "fieldSelector" in q:
            return self.reject("this server lists by labelSelector only")
        sel = parse_selector(q.get("labelSelector", [""])[0])
        if sel is None:
            return self.reply(*status(400, "BadRequest", "unable to parse requirement: "
                                      "invalid label selector"))
        with LOCK:
            items = [p for (pns, _), p in CREATED.items() if pns == ns
                     and all(p["metadata"].get("labels", {}).get(k) == v for k, v in sel)]
        log("LIST pods %s labelSelector %s -> %s" % (ns, q.get("labelSelector", [""])[0],
                                                    " ".join(p["metadata"]["name"] for p in items)))
        return self.reply(200, {"apiVersion": "v1", "kind": "PodList",
                                "metadata": {"resourceVersion": "300"}, "items": items})

    # --- watches: chunked streams of WatchEvents, as the API server sends them -------------
    def stream_start(self):
        self.protocol_version = "HTTP/1.1"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()

    def event(self, typ, obj):
        data = (json.dumps({"type": typ, "object": obj}) + "\n").encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()
        rv = obj.get("metadata", {}).get("resourceVersion", "-")
        log("EVENT %s %s" % (typ, rv))

    def stream_end(self):
        """The server ends the watch: the last chunk (a client may watch again)."""
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    @staticmethod
    def watch_end(q):
        """When the server ends a watch: at its timeoutSeconds, else (here) after 120 s."""
        t = q.get("timeoutSeconds", [""])[0]
        return time.time() + (int(t) if t.isdigit() else 120)

    def hold(self, until):
        """Nothing to say until `until`: False if the client went away meanwhile."""
        while time.time() < until:
            r, _, _ = select.select([self.connection], [], [], min(0.1, until - time.time()))
            if r:
                try:
                    if not self.connection.recv(1):
                        return False
                except (OSError, ssl.SSLError):
                    return False
        return True

    def expired(self, rv):
        return status(410, "Expired", "too old resource version: %s (%d)" % (rv, COMPACTED[0] + 1))

    def watch(self, q):
        """The target pod. Without resourceVersion (Get State and Start at Most Recent) the
        watch starts with the pod as an ADDED event; from a resourceVersion (Start at Exact) it
        sends the changes after it, or, when that version is compacted away, 410 Gone: an ERROR
        event with a Status (served from the watch cache), or with `gone` an HTTP 410 (served
        from etcd). Then the kubelet's progress as MODIFIED events; the watch stays open until
        timeoutSeconds or until the client leaves. BOOKMARKs only when allowWatchBookmarks."""
        end = self.watch_end(q)
        rv = q.get("resourceVersion", [None])[0]
        bookmarks = q.get("allowWatchBookmarks", [""])[0] == "true"
        with LOCK:
            TARGET_WATCHES[0] += 1
            first = TARGET_WATCHES[0] == 1
        log("WATCH pod" + (" from resourceVersion %s" % rv if rv else ""))
        if bookmarks:
            log("WATCH asks for bookmarks")
        if rv is not None and not rv.isdigit():
            return self.reply(*status(400, "BadRequest", "invalid resource version %s" % rv))
        if rv and rv != "0" and int(rv) <= COMPACTED[0] and "gone" in FLAGS:
            log("GONE %s" % rv)
            return self.reply(*self.expired(rv))
        self.stream_start()
        try:
            if not rv or rv == "0":
                with LOCK:
                    now = pod()
                self.event("ADDED", now)
            elif int(rv) <= COMPACTED[0]:
                self.event("ERROR", self.expired(rv)[1])
                return self.stream_end()
            else:
                with LOCK:
                    since = [(t, o) for r, t, o in HISTORY if r > int(rv)]
                for t, o in since:
                    self.event(t, o)
            if first and ("expired" in FLAGS or "gone" in FLAGS):
                with LOCK:
                    RV[0] += 5  # other objects' writes, and etcd compacts
                    COMPACTED[0] = RV[0]
                if "expired" in FLAGS:
                    # (the watch cache lost the history while the watch was open)
                    self.event("ERROR", status(410, "Expired", "The resourceVersion for the "
                                               "provided watch is too old.")[1])
                    return self.stream_end()
            if first and "watcherror" in FLAGS:
                self.event("ERROR", status(500, "InternalError", "Internal error occurred: "
                                           "etcdserver: request timed out")[1])
                return self.stream_end()
            if first and bookmarks and "bookmark" in FLAGS:
                with LOCK:
                    RV[0] += 3  # other pods' writes: the bookmark is ahead of the pod
                    mark = RV[0]
                self.event("BOOKMARK", {"kind": "Pod", "apiVersion": "v1",
                                        "metadata": {"resourceVersion": str(mark)}})
            if (first and ("watchclose" in FLAGS or "gone" in FLAGS)) or "closeall" in FLAGS:
                log("WATCH pod ended by the server")
                return self.stream_end()
            if first and "watchcut" in FLAGS:
                # the connection is cut (a proxy's idle timeout): no last chunk, no TLS close
                log("WATCH pod cut")
                self.close_connection = True
                return
            while True:
                with LOCK:
                    if not kubelet_step():
                        break
                    now = pod()
                self.event("MODIFIED", now)
            if self.hold(end):
                self.stream_end()
        except OSError:
            pass  # the client went away

    def watch_node(self, key, q):
        """The node pod: its states by MODE as ADDED then MODIFIED events, each with its own
        resourceVersion; then open until timeoutSeconds, the client leaves, or (pending) the pod
        is deleted, which sends DELETED. (This fake does not resume a node pod's watch from a
        resourceVersion: no test ends that watch early.)"""
        if "resourceVersion" in q:
            return self.reject("a node pod's watch from a resourceVersion is not served here")
        p = CREATED[key]
        states = [("Pending", {"waiting": {"reason": "ContainerCreating"}}, None)]
        if "hostile" in FLAGS:
            states.append(("Pending", {"waiting": {"reason": text("Slow"),
                                                   "message": text("still")}}, None))
        if "unschedulable" in FLAGS:
            states.append(("Pending", {"waiting": {"reason": "ContainerCreating"}}, [{
                "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": text("0/1 nodes are available: 1 Insufficient memory.")}]))
        elif "imagepull" in FLAGS:
            states.append(("Pending", {"waiting": {
                "reason": "ErrImagePull",
                "message": text('failed to pull and unpack image "%s": not found'
                                % p["spec"]["containers"][0]["image"])}}, None))
        elif "pending" not in FLAGS:
            states.append(("Running", {"running": {"startedAt": "2026-01-01T00:00:00Z"}}, None))
            with LOCK:
                ended = EXITED.get(key)
            if ended:
                states.append(("Succeeded" if ended["exitCode"] == 0 else "Failed",
                               {"terminated": ended}, None))
        self.stream_start()
        try:
            for i, (phase, state, conds) in enumerate(states):
                obj = node_pod_state(p, phase, state, conds)
                with LOCK:
                    RV[0] += 1
                    obj["metadata"]["resourceVersion"] = str(RV[0])
                self.event("MODIFIED" if i else "ADDED", obj)
            # the watch stays open; pending: until the pod is deleted
            end = self.watch_end(q)
            while key in CREATED and time.time() < end:
                if not self.hold(min(end, time.time() + 0.2)):
                    return
            if key not in CREATED:
                self.event("DELETED", p)
            self.stream_end()
        except OSError:
            pass  # the client went away

    def body_json(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n) if n else b""
        if not raw:
            return None, False
        try:
            return json.loads(raw), True
        except ValueError:
            return None, None

    def kubelet_exited(self):
        """The stand-in kubelet: a container has exited (see the module's text)."""
        body, ok = self.body_json()
        if not ok or not isinstance(body, dict) or not isinstance(body.get("exitCode"), int):
            return self.reject("/fake-kubelet/exited wants {namespace, pod, container, exitCode}")
        state = {"exitCode": body["exitCode"], "reason": "Completed" if body["exitCode"] == 0
                 else "Error", "message": body.get("message", ""),
                 "startedAt": "2026-01-01T00:00:00Z", "finishedAt": "2026-01-01T00:00:02Z"}
        key = (body.get("namespace"), body.get("pod"))
        with LOCK:
            if key == (NS, POD) and any(ec["name"] == body.get("container") for ec in PATCHED):
                EC_STATE[body["container"]] = {"terminated": state}
                pod_changed()
            elif key in CREATED and body.get("container") == "dhidebug":
                EXITED[key] = state
            else:
                return self.reject("/fake-kubelet/exited: no such container")
        log("EXITED %s/%s %s %d" % (key[0], key[1], body["container"], body["exitCode"]))
        return self.reply(200, {"ok": True})

    def do_POST(self):
        if not self.authorized():
            return
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/fake-kubelet/exited":
            return self.kubelet_exited()
        m = SSR_PATH.match(url.path)
        if m:
            return self.self_subject_review(m.group(1))
        m = re.match(r"^/api/v1/namespaces/([^/]+)/pods$", url.path)
        if not m:
            return self.reject("POST is only served on /api/v1/namespaces/{ns}/pods")
        ns = m.group(1)
        q = urllib.parse.parse_qs(url.query)
        if set(q) - {"dryRun", "fieldManager", "fieldValidation", "pretty"}:
            return self.reject("unknown create parameters")
        if self.headers.get("Content-Type", "") != "application/json":
            return self.reject("Content-Type `%s` is not application/json"
                               % self.headers.get("Content-Type", ""))
        body, ok = self.body_json()
        if not ok:
            return self.reject("body is not JSON")
        log("POST pod body " + json.dumps(body, sort_keys=True))
        if ns not in NAMESPACES:
            return self.reply(*status(404, "NotFound", 'namespaces "%s" not found' % ns))
        if "rbac" in FLAGS:
            return self.reply(*status(403, "Forbidden", 'pods is forbidden: User "dev" cannot '
                                      'create resource "pods" in API group "" in the '
                                      'namespace "%s"' % ns))
        why = check_pod(body, ns)
        if why:
            return self.reject("invalid Pod: " + why)
        why = check_node_pod(body)
        if why:
            return self.reject("not the node pod --mode node promises: " + why)
        meta = body["metadata"]
        name = meta.get("name") or meta["generateName"] + "".join(
            random.choice(string.ascii_lowercase + string.digits) for _ in range(5))
        if "podsecurity" in FLAGS and ns != PRIVILEGED_NS:
            return self.reply(*status(403, "Forbidden", 'pods "%s" is forbidden: violates '
                                      'PodSecurity "baseline:latest": privileged (container '
                                      '"dhidebug" must not set securityContext.privileged=true'
                                      '), host namespaces (hostPID=true), hostPath volumes'
                                      % name))
        meta.update({"name": name, "namespace": ns, "uid": "0000-%s" % name,
                     "resourceVersion": "200", "creationTimestamp": "2026-01-01T00:00:00Z"})
        body.update({"apiVersion": "v1", "kind": "Pod"})
        with LOCK:
            CREATED[(ns, name)] = body
        log("CREATED pod %s" % name)
        if "dropcreate" in FLAGS:
            # the pod exists, but the connection drops before the answer
            self.close_connection = True
            return
        if "garbagecreate" in FLAGS:
            data = b"<html>502 upstream reset</html>"
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        return self.reply(201, node_pod_state(body, "Pending", {"waiting": {
            "reason": "ContainerCreating"}}))

    def do_DELETE(self):
        if not self.authorized() or self.not_allowed():
            return
        url = urllib.parse.urlsplit(self.path)
        m = re.match(r"^/api/v1/namespaces/([^/]+)/pods/([^/]+)$", url.path)
        if not m:
            return self.reject("DELETE is only served on /api/v1/namespaces/{ns}/pods/{name}")
        q = urllib.parse.parse_qs(url.query)
        if set(q) - {"dryRun", "gracePeriodSeconds", "propagationPolicy", "pretty"}:
            return self.reject("unknown delete parameters")
        body, ok = self.body_json()
        if ok is None:
            return self.reject("body is not JSON")
        if ok:
            if self.headers.get("Content-Type", "") != "application/json":
                return self.reject("a DeleteOptions body must be application/json")
            if not isinstance(body, dict) or set(body) - {
                    "apiVersion", "kind", "dryRun", "gracePeriodSeconds", "orphanDependents",
                    "preconditions", "propagationPolicy"}:
                return self.reject("body must be a DeleteOptions")
            if body.get("kind", "DeleteOptions") != "DeleteOptions" \
                    or body.get("apiVersion", "v1") not in ("v1", "meta.k8s.io/v1"):
                return self.reject("body must be a v1 DeleteOptions")
            if "gracePeriodSeconds" in body and (not is_int(body["gracePeriodSeconds"])
                                                 or body["gracePeriodSeconds"] < 0):
                return self.reject("gracePeriodSeconds must be a non-negative integer")
        key = (m.group(1), m.group(2))
        log("DELETE pod %s body %s" % (key[1], json.dumps(body, sort_keys=True)))
        if "nodelete" in FLAGS:
            return self.reply(*status(403, "Forbidden", 'pods "%s" is forbidden: User "dev" '
                                      'cannot delete resource "pods" in API group "" in the '
                                      'namespace "%s"' % (key[1], key[0])))
        with LOCK:
            p = CREATED.pop(key, None)
        if p is None:
            return self.reply(*status(404, "NotFound", 'pods "%s" not found' % key[1]))
        return self.reply(200, p)

    def do_PATCH(self):
        if not self.authorized() or self.not_allowed():
            return
        path = "/api/v1/namespaces/%s/pods/%s/ephemeralcontainers" % (NS, POD)
        url = urllib.parse.urlsplit(self.path)
        if url.path != path:
            return self.reject("PATCH is only served on %s" % path)
        q = urllib.parse.parse_qs(url.query)
        if set(q) - {"dryRun", "fieldManager", "fieldValidation", "force", "pretty"}:
            return self.reject("unknown PATCH parameters")
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
        if ctype == "application/apply-patch+yaml":
            return self.reject("server-side apply is not served by this fake")
        if ctype not in PATCH_TYPES:
            log("REJECT PATCH %s: Content-Type `%s`" % (self.path, ctype))
            return self.reply(*status(415, "UnsupportedMediaType", "the body of the request was "
                                      "in an unknown format - accepted media types include: "
                                      + ", ".join(sorted(PATCH_TYPES)
                                                  + ["application/apply-patch+yaml"])))
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        try:
            body = json.loads(raw)
        except ValueError:
            return self.reject("body is not JSON")
        log("PATCH body " + json.dumps(body, sort_keys=True))
        if "noephemeral" in FLAGS:
            return self.reply(*status(404, "NotFound", "the server could not find the "
                                      "requested resource"))
        if "rbac" in FLAGS:
            return self.reply(*status(403, "Forbidden", 'pods "%s" is forbidden: User '
                                      '"dev" cannot patch resource "pods/ephemeralcontainers" '
                                      'in API group "" in the namespace "%s"' % (POD, NS)))
        if ctype != "application/json-patch+json":
            if not isinstance(body, dict) \
                    or set(body) - {"apiVersion", "kind", "metadata", "spec"}:
                return self.reject("body must be a partial Pod")
            spec = body.get("spec")
            if not isinstance(spec, dict) or set(spec) != {"ephemeralContainers"}:
                return self.reject("the subresource only takes spec.ephemeralContainers")
        with LOCK:
            if "nametaken" in FLAGS and not PRESET[0] and ctype.startswith("application/str"):
                # a container of the name the client chose is there already (another session
                # added it since the client read the pod): the API server merges by name
                PRESET[0] = True
                ecs = body["spec"]["ephemeralContainers"]
                for ec in ecs if isinstance(ecs, list) else []:
                    if isinstance(ec, dict) and isinstance(ec.get("name"), str):
                        prev = dict(EC_DEFAULTS, name=ec["name"], image=ec.get("image", "x"),
                                    command=["dhidebug", "--profile", "observe", "pid://1"],
                                    targetContainerName="web", stdin=True, tty=True)
                        PATCHED.append(prev)
                        EC_STATE[ec["name"]] = {"terminated": {"exitCode": 0,
                                                               "reason": "Completed"}}
                        log("PRESET ephemeral container %s" % ec["name"])
                pod_changed()
            old = json.loads(json.dumps(PATCHED))
            try:
                if ctype == "application/json-patch+json":
                    new, why = apply_json_patch(old, body)
                elif ctype == "application/merge-patch+json":
                    new, why = apply_merge_patch(old, body)
                else:
                    new, why = apply_smp(old, body)
            except (ValueError, KeyError, TypeError, IndexError) as e:
                return self.reply(*status(422, "Invalid", "the JSON patch could not be applied:"
                                          " %s" % e))
            if why:
                return self.reject(why)
            for ec in new if isinstance(new, list) else []:
                if isinstance(ec, dict):
                    for k, v in EC_DEFAULTS.items():
                        ec.setdefault(k, v)
            errs = check_ec_update(old, new)
            if errs:
                code, st = status(422, "Invalid", 'Pod "%s" is invalid: %s' % (
                    POD, "; ".join("%s: %s" % (f, m) for f, _, m in errs)))
                st["details"] = {"name": POD, "kind": "Pod", "causes": [
                    {"reason": r, "message": m, "field": f} for f, r, m in errs]}
                log("PATCH -> 422 %s" % st["message"].replace("\n", " "))
                return self.reply(code, st)
            if "podsecurity" in FLAGS:
                return self.reply(*status(403, "Forbidden", 'pods "%s" is forbidden: violates '
                                          'PodSecurity "baseline:latest": non-default '
                                          'capabilities' % POD))
            added = [ec for ec in new if ec["name"] not in [o["name"] for o in old]]
            if added:
                PATCHED[:] = new
                for ec in added:
                    EC_STATE[ec["name"]] = {"waiting": {"reason": "ContainerCreating"}}
                PLAN[:] = kubelet_plan(added[-1]["image"])
                pod_changed()
                log("PATCH -> 200 added %s" % " ".join(ec["name"] for ec in added))
            answer = pod()
        return self.reply(200, answer)

    def do_PUT(self):
        if not self.not_allowed():
            self.reject("PUT is not served")


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(CERT, KEY)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(PORTFILE + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(PORTFILE + ".tmp", PORTFILE)
    srv.serve_forever()


if __name__ == "__main__":
    main()
