#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""lossy_syslog.py PORT OUT CA CERT KEY DROP: a syslog receiver over TLS (RFC 5425, octet-counted
frames) that reads each connection to its end and closes it cleanly, as rsyslog does, but
forgets what the first DROP connections brought: what rsyslog does with the last messages it
read when it stops. The rest are appended to OUT as they came, one per line."""
import socket
import ssl
import sys

port, out, ca, cert, key, drop = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.load_verify_locations(ca)
ctx.verify_mode = ssl.CERT_OPTIONAL
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(port)))
srv.listen(64)
seen = 0
while True:
    conn, _ = srv.accept()
    conn.settimeout(20)
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
        data = b""
        while True:
            b = tls.recv(65536)
            if not b:
                break
            data += b
        try:
            tls.unwrap()
        except (ssl.SSLError, OSError):
            pass
    except (ssl.SSLError, OSError):
        conn.close()
        continue
    conn.close()
    seen += 1
    if seen <= drop:
        continue
    msgs = []
    while data:
        n, _, rest = data.partition(b" ")
        msgs.append(rest[: int(n)])
        data = rest[int(n):]
    with open(out, "ab") as f:
        for m in msgs:
            f.write(m + b"\n")
