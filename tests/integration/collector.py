#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# collector.py PORT LOG: a test collector for shipped audit records. Every POST it receives is
# logged as one JSON line (idempotency key, kind, length, body for records) *before* it
# answers 200, duplicates included: the tests check that nothing arrives twice.
import http.server
import json
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        entry = {
            "key": self.headers.get("Idempotency-Key"),
            "kind": self.headers.get("X-Dhidebug-Kind"),
            "length": len(body),
        }
        if entry["kind"] == "record":
            entry["record"] = json.loads(body)
        with open(sys.argv[2], "a") as f:
            f.write(json.dumps(entry) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
