#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""hostile_engine.py SOCKET LOG: a Docker Engine API server that answers every request with
HTTP 500 and a `message` holding what a terminal takes as commands: C1 controls written as
UTF-8 (U+009B CSI `[2J` clears the screen, U+009D OSC `0;pwned` U+009C sets the window title)
and U+202E (right-to-left override). None of them is a C0 byte, so a check for those alone
lets them through. Every request line is appended to LOG.
"""
import json
import os
import socketserver
import sys

SOCK, LOG = sys.argv[1], sys.argv[2]
MESSAGE = "No such container: \u009b2J\u009d0;pwned\u009c \u202eevil"


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        line = self.rfile.readline()
        if not line:
            return
        with open(LOG, "a") as f:
            f.write(line.decode(errors="replace").strip() + "\n")
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        body = json.dumps({"message": MESSAGE}).encode()
        self.wfile.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json"
                         b"\r\nApi-Version: 1.44\r\nConnection: close\r\nContent-Length: %d"
                         b"\r\n\r\n" % len(body) + body)


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


if __name__ == "__main__":
    if os.path.exists(SOCK):
        os.unlink(SOCK)
    Server(SOCK, Handler).serve_forever()
