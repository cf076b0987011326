#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""fake_engine.py SOCKET MODE LOG: a misbehaving Docker Engine API server on a unix socket.

Tests point DOCKER_HOST at it to check that dhidebug fails cleanly (one line, exit 125)
whatever an engine answers. Every request line is appended to LOG. MODE is one of:
  garbage   bytes that are not HTTP
  hang      accept and never answer
  redirect  302 to a remote host
  huge      200 with an endless chunked body
  badjson   200 with a body that is not JSON
  oldapi    400 "client version too old" with Api-Version: 1.44, then 404 for /v1.44/
  liar      200 with a running container whose pid is 1 (the host's init) and a start
            time long after the host booted: a pid that is not the container's
  pid       200 with a running container whose pid is $FAKE_PID, started now: a
            process of the test's choosing (a host process, or a real container's)
"""
import os
import socketserver
import sys
import time

SOCK, MODE, LOG = sys.argv[1], sys.argv[2], sys.argv[3]


def reply(status, body=b"", headers=()):
    head = "HTTP/1.1 %s\r\nContent-Type: application/json\r\nApi-Version: 1.44\r\n" % status
    for h in headers:
        head += h + "\r\n"
    head += "Content-Length: %d\r\n\r\n" % len(body)
    return head.encode() + body


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        while True:
            line = self.rfile.readline()
            if not line:
                return
            with open(LOG, "a") as f:
                f.write(line.decode(errors="replace").strip() + "\n")
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            path = line.split()[1].decode() if len(line.split()) > 1 else "/"
            if not self.answer(path):
                return

    def answer(self, path):
        w = self.wfile
        if MODE == "garbage":
            w.write(b"\x00\x01\x02 this is not http\r\n\r\n")
            return False
        if MODE == "hang":
            time.sleep(60)
            return False
        if MODE == "redirect":
            w.write(reply("302 Found", headers=["Location: http://203.0.113.1/x"]))
        elif MODE == "huge":
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n")
            chunk = b"[" * (1 << 20)
            try:
                while True:
                    w.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            except OSError:
                return False
        elif MODE == "badjson":
            w.write(reply("200 OK", b"{not json"))
        elif MODE == "oldapi":
            if path.startswith("/v1.44/"):
                w.write(reply("404 Not Found", b'{"message":"no such container"}'))
            else:
                w.write(reply("400 Bad Request",
                              b'{"message":"client version 1.41 is too old. Minimum '
                              b'supported API version is 1.44"}'))
        elif MODE == "liar":
            w.write(reply("200 OK", b'{"Id":"' + b"ab" * 32 + b'","Name":"/liar",'
                          b'"State":{"Status":"running","Running":true,"Pid":1,'
                          b'"StartedAt":"2001-01-01T00:00:00Z"},"Config":{"Image":"x"}}'))
        elif MODE == "pid":
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            w.write(reply("200 OK", ('{"Id":"' + "cd" * 32 + '","Name":"/web",'
                          '"State":{"Status":"running","Running":true,"Pid":%d,'
                          '"StartedAt":"%s"},"Config":{"Image":"x"}}'
                          % (int(os.environ["FAKE_PID"]), now)).encode()))
        w.flush()
        return True


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


if os.path.exists(SOCK):
    os.unlink(SOCK)
Server(SOCK, Handler).serve_forever()
