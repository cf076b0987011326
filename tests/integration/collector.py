#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""collector.py: a test collector for shipped audit records, checking what a receiver would.

usage: collector.py PORT LOG [--path /records] [--header 'Name: value']... [--tls CERT KEY]
                    [--fail N=ACTION]... [--slow-recording BYTES_PER_S]

It takes what docs/recording.md promises, and refuses (400, a `reject` entry in LOG) anything
else: POST to PATH only (another method is a 405, another path a 404); a Content-Length
matching the body; `X-Dhidebug-Kind: record` with `Content-Type: application/json` and a body
that is one JSON object on one line, whose `seq` is the key's and which has `type`, `time`,
`prev`, `cast_bytes` and `cast_sha256` (seq 0: a `session.start` naming the key's session), or
`X-Dhidebug-Kind: recording` with `Content-Type: application/x-asciicast` and an asciicast v2
body (a header line with version 2, then JSON arrays); `Idempotency-Key: <session>:<seq>` for
a record, `<session>:cast` for the recording, the session `YYYYmmddTHHMMSSZ-<8 hex>`; and
every `--header` given, with its value.

A receiver deduplicates by the idempotency key: a key it has stored is answered 200 again and
logged with "dup": true when the body is the same, and refused (422) when it is not.

Failure modes, for the N-th POST received (1-based): 503 (the body read, not stored, 503 with
Retry-After), hang (read, not stored, no answer until the client goes away), close (read, not
stored, the connection closed without an answer), lostack (stored and logged, then the
connection closed without an answer: the acknowledgement is lost).

--slow-recording reads a recording's body at that rate, as over a slow link.

LOG has one JSON line per POST, written before it is answered: {"n", "key", "kind",
"length", "answer", "dup"} and "record" (the parsed record) for a stored record, or "reject"
(why) or "fail" (the failure mode).
"""
import argparse
import hashlib
import http.server
import json
import re
import select
import socket
import ssl
import threading
import time

KEY = re.compile(r"^(\d{8}T\d{6}Z-[0-9a-f]{8}):(\d+|cast)$")
TYPES = {"record": "application/json", "recording": "application/x-asciicast"}
RECORD_FIELDS = {"seq", "time", "type", "prev", "cast_bytes", "cast_sha256"}

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("log")
ap.add_argument("--path", default="/records")
ap.add_argument("--header", action="append", default=[])
ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
ap.add_argument("--fail", action="append", default=[])
ap.add_argument("--slow-recording", type=int, default=0, metavar="BYTES_PER_S")
ARGS = ap.parse_args()
HEADERS = [tuple(x.strip() for x in h.split(":", 1)) for h in ARGS.header]
FAIL = {int(n): a for n, a in (f.split("=", 1) for f in ARGS.fail)}
LOCK = threading.Lock()
STORED = {}  # idempotency key -> sha256 of the body stored under it
COUNT = [0]


def log(entry):
    with open(ARGS.log, "a") as f:
        f.write(json.dumps(entry, sort_keys=True) + "\n")


def check(headers, body):
    """Why a receiver would refuse this POST (None: it would take it), and the parsed record."""
    for name, value in HEADERS:
        if headers.get(name) != value:
            return "header %s is %r, not %r" % (name, headers.get(name), value), None
    kind = headers.get("X-Dhidebug-Kind")
    if kind not in TYPES:
        return "X-Dhidebug-Kind %r is neither record nor recording" % kind, None
    ctype = headers.get("Content-Type", "")
    if ctype != TYPES[kind]:
        return "Content-Type %r of a %s is not %s" % (ctype, kind, TYPES[kind]), None
    m = KEY.match(headers.get("Idempotency-Key") or "")
    if not m:
        return "Idempotency-Key %r is not <session>:<seq|cast>" % headers.get(
            "Idempotency-Key"), None
    session, which = m.groups()
    if (which == "cast") != (kind == "recording"):
        return "key %s does not go with a %s" % (which, kind), None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the body is not UTF-8", None
    if kind == "recording":
        lines = text.split("\n")
        try:
            head = json.loads(lines[0])
            events = [json.loads(ln) for ln in lines[1:] if ln]
        except ValueError:
            return "the recording is not asciicast (JSON lines)", None
        if not isinstance(head, dict) or head.get("version") != 2:
            return "the recording's header is not asciicast v2", None
        if not all(isinstance(e, list) and len(e) == 3 for e in events):
            return "an asciicast event is not [time, code, data]", None
        return None, None
    if "\n" in text:
        return "a record is one line", None
    try:
        rec = json.loads(text)
    except ValueError:
        return "the record is not JSON", None
    if not isinstance(rec, dict) or RECORD_FIELDS - set(rec):
        return "the record lacks %s" % sorted(RECORD_FIELDS - set(rec or {})), None
    if rec["seq"] != int(which):
        return "the record's seq %s is not the key's %s" % (rec["seq"], which), None
    if rec["seq"] == 0 and (rec["type"] != "session.start" or rec.get("session") != session):
        return "record 0 is not the session.start of %s" % session, None
    return None, rec


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, code, obj=None, extra=()):
        data = json.dumps(obj or {}).encode()
        self.send_response(code)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def gone(self, until):
        """Wait, answering nothing, until the client goes away (True) or `until`."""
        while time.time() < until:
            r, _, _ = select.select([self.connection], [], [], 0.2)
            if r:
                try:
                    if not self.connection.recv(1):
                        return True
                except (OSError, ssl.SSLError):
                    return True
        return False

    def do_POST(self):
        with LOCK:
            COUNT[0] += 1
            n = COUNT[0]
        if self.path != ARGS.path:
            log({"n": n, "reject": "path %s" % self.path, "answer": 404})
            return self.answer(404, {"error": "no such path"})
        if "Content-Length" not in self.headers:
            log({"n": n, "reject": "no Content-Length", "answer": 411})
            return self.answer(411, {"error": "Content-Length required"})
        length = int(self.headers["Content-Length"])
        if ARGS.slow_recording and self.headers.get("X-Dhidebug-Kind") == "recording":
            # a slow link: the body comes at BYTES_PER_S
            body = b""
            while len(body) < length:
                chunk = self.rfile.read(min(ARGS.slow_recording // 10, length - len(body)))
                if not chunk:
                    break
                body += chunk
                time.sleep(0.1)
        else:
            body = self.rfile.read(length)
        entry = {"n": n, "key": self.headers.get("Idempotency-Key"),
                 "kind": self.headers.get("X-Dhidebug-Kind"), "length": len(body)}
        if len(body) != length:
            entry.update(reject="body shorter than its Content-Length", answer=400)
            log(entry)
            return self.answer(400, {"error": entry["reject"]})
        why, rec = check(self.headers, body)
        if why:
            entry.update(reject=why, answer=400)
            log(entry)
            return self.answer(400, {"error": why})
        fail = FAIL.get(n)
        if fail in ("503", "hang", "close"):
            entry.update(fail=fail, answer=None if fail != "503" else 503)
            log(entry)
            if fail == "503":
                return self.answer(503, {"error": "unavailable"}, [("Retry-After", "1")])
            if fail == "hang":
                self.gone(time.time() + 120)
            self.close_connection = True
            return
        digest = hashlib.sha256(body).hexdigest()
        with LOCK:
            dup = entry["key"] in STORED
            if dup and STORED[entry["key"]] != digest:
                entry.update(reject="key %s reused for another body" % entry["key"], answer=422)
                log(entry)
                return self.answer(422, {"error": entry["reject"]})
            STORED[entry["key"]] = digest
            entry.update(dup=dup, answer=200)
            if rec is not None:
                entry["record"] = rec
            if fail == "lostack":
                entry.update(fail=fail, answer=None)
            log(entry)
        if fail == "lostack":
            # stored, but the answer never reaches the client
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.answer(200, {"stored": entry["key"], "duplicate": dup})

    def do_GET(self):
        log({"reject": "GET %s" % self.path, "answer": 405})
        self.answer(405, {"error": "POST only"})

    do_PUT = do_DELETE = do_PATCH = do_GET

    def log_message(self, *args):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
srv.daemon_threads = True
if ARGS.tls:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*ARGS.tls)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
