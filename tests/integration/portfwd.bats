#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# portfwd.bats: dhidebug port-forward reaches servers that listen only inside a runc container's
# network namespace (started by the test from the host with nsenter --net): curl through the
# forward, 50 parallel connections, either side's close reaching the other, Ctrl-C and SIGTERM.

load helpers

setup()
{
	requires root runc python3
	command -v curl >/dev/null || missing "needs curl"
	container_start static
	NETNS=/proc/$CPID/ns/net
	# runc leaves the container's loopback down when the config has no network hooks
	nsenter --net="$NETNS" ip link set lo up
}

teardown()
{
	container_rm
}

# in_netns CMD...: CMD in the container's network namespace only (the host's files).
in_netns()
{
	nsenter --net="$NETNS" "$@"
}

# bg CMD...: run CMD in the background; teardown kills it. Sets BG_PID.
bg()
{
	("$@") </dev/null 3>&- &
	BG_PID=$!
	echo "$BG_PID" >>"$BATS_TEST_TMPDIR/bg.pids"
}

# http_server PORT: python's http.server on 127.0.0.1:PORT in the container's netns, serving
# $BATS_TEST_TMPDIR/www (index.html and a 1 MB file).
http_server()
{
	local i

	mkdir -p "$BATS_TEST_TMPDIR/www"
	echo "hello from the container's netns" >"$BATS_TEST_TMPDIR/www/index.html"
	head -c 1048576 /dev/urandom >"$BATS_TEST_TMPDIR/www/big"
	bg nsenter --net="$NETNS" python3 -m http.server --bind 127.0.0.1 \
		--directory "$BATS_TEST_TMPDIR/www" "$1" >"$BATS_TEST_TMPDIR/http.log" 2>&1
	for i in $(seq 50); do
		in_netns curl -sf -o /dev/null "http://127.0.0.1:$1/" && return 0
		sleep 0.1
	done
	echo "http.server did not start" >&2
	return 1
}

# forward SPEC...: dhidebug port-forward TARGET SPEC... in the background (log in
# $BATS_TEST_TMPDIR/pf.log); waits for its "forwarding" lines. Sets PF_PID and LPORT (the
# local port of the first spec, as printed).
forward()
{
	local i log=$BATS_TEST_TMPDIR/pf.log

	(exec "$DHIDEBUG" port-forward "$TARGET" "$@") </dev/null >"$log" 2>&1 3>&- &
	PF_PID=$!
	echo "$PF_PID" >>"$BATS_TEST_TMPDIR/bg.pids"
	for i in $(seq 50); do
		[ "$(grep -c '^dhidebug: forwarding ' "$log")" -ge "$#" ] && break
		kill -0 "$PF_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$log"
	LPORT=$(sed -n 's/^dhidebug: forwarding [0-9.]*:\([0-9]*\) -> .*/\1/p' "$log" | head -n1)
	[ -n "$LPORT" ]
}

@test "port-forward: curl reaches an HTTP server that listens only in the container's netns" {
	local rport lport

	rport=$(free_port)
	http_server "$rport"
	# not reachable from the host without the forward
	run curl -s --max-time 2 "http://127.0.0.1:$rport/"
	[ "$status" -eq 7 ] # could not connect

	lport=$(free_port)
	forward "$lport:$rport"
	[ "$LPORT" = "$lport" ]
	grep -q "^dhidebug: forwarding 127.0.0.1:$lport -> $TARGET:$rport\$" "$BATS_TEST_TMPDIR/pf.log"
	run curl -sf --max-time 10 "http://127.0.0.1:$lport/"
	[ "$status" -eq 0 ]
	[ "$output" = "hello from the container's netns" ]
	# the same with an explicit local address and a kernel-chosen port, and a 1 MB body
	kill -TERM "$PF_PID"
	wait_pid_exit "$PF_PID"
	forward "127.0.0.1:0:$rport"
	[ "$LPORT" -gt 0 ]
	curl -sf --max-time 10 -o "$BATS_TEST_TMPDIR/big.out" "http://127.0.0.1:$LPORT/big"
	cmp "$BATS_TEST_TMPDIR/www/big" "$BATS_TEST_TMPDIR/big.out"
}

@test "port-forward: 50 parallel connections all complete" {
	local rport i pids=() failed=0

	rport=$(free_port)
	http_server "$rport"
	forward "0:$rport"
	for i in $(seq 50); do
		curl -sf --max-time 30 -o "$BATS_TEST_TMPDIR/out.$i" "http://127.0.0.1:$LPORT/big" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || failed=$((failed + 1))
	done
	echo "failed: $failed"
	[ "$failed" -eq 0 ]
	for i in $(seq 50); do
		cmp "$BATS_TEST_TMPDIR/www/big" "$BATS_TEST_TMPDIR/out.$i"
	done
	kill -0 "$PF_PID"
}

# tcp_server PORT MODE: a one-connection server in the container's netns. MODE `wait-close`
# writes "peer closed" to $BATS_TEST_TMPDIR/server.out when the client's side closes;
# `close` says "bye" and closes at once.
tcp_server()
{
	bg nsenter --net="$NETNS" python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
open(sys.argv[3], "w").write("listening\n")
c, _ = s.accept()
c.settimeout(20)
if sys.argv[2] == "close":
    c.sendall(b"bye\n")
    c.close()
else:
    while c.recv(4096):
        pass
    open(sys.argv[3], "a").write("peer closed\n")
' "$1" "$2" "$BATS_TEST_TMPDIR/server.out"
	for i in $(seq 50); do
		grep -q listening "$BATS_TEST_TMPDIR/server.out" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

@test "port-forward: a client that closes closes the connection in the container" {
	local rport

	rport=$(free_port)
	tcp_server "$rport" wait-close
	forward "0:$rport"
	python3 -c '
import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"hello\n")
time.sleep(0.3)
c.close()
' "$LPORT"
	for i in $(seq 50); do
		grep -q "peer closed" "$BATS_TEST_TMPDIR/server.out" && break
		sleep 0.1
	done
	cat "$BATS_TEST_TMPDIR/server.out"
	grep -q "peer closed" "$BATS_TEST_TMPDIR/server.out"
	# and nothing is left established in the container's namespace
	run in_netns ss -Htn state established "( sport = :$rport or dport = :$rport )"
	[ -z "$output" ]
}

@test "port-forward: a server that closes closes the client's connection" {
	local rport

	rport=$(free_port)
	tcp_server "$rport" close
	forward "0:$rport"
	# the client only reads: it sees "bye" then EOF, well before its own timeout
	run python3 -c '
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.settimeout(10)
data = b""
while True:
    b = c.recv(4096)
    if not b:
        break
    data += b
sys.stdout.write(data.decode())
' "$LPORT"
	[ "$status" -eq 0 ]
	[ "$output" = "bye" ]
}

@test "port-forward: Ctrl-C and SIGTERM stop it, listener and helper gone, exit 0" {
	local rport sig helper

	rport=$(free_port)
	http_server "$rport"
	for sig in INT TERM; do
		forward "0:$rport"
		curl -sf --max-time 10 -o /dev/null "http://127.0.0.1:$LPORT/"
		helper=$(pgrep -P "$PF_PID")
		[ -n "$helper" ]
		# the helper is in the container's network namespace and nothing else
		[ "$(readlink "/proc/$helper/ns/net")" = "$(readlink "$NETNS")" ]
		[ "$(readlink "/proc/$helper/ns/mnt")" = "$(readlink /proc/self/ns/mnt)" ]
		kill -"$sig" "$PF_PID"
		wait_pid_exit "$PF_PID"
		[ "$WAIT_STATUS" -eq 0 ]
		! kill -0 "$helper" 2>/dev/null || [ "$(pid_state "$helper")" = Z ] || false
		run curl -s --max-time 2 "http://127.0.0.1:$LPORT/"
		[ "$status" -eq 7 ] # could not connect: nothing listens any more
	done
}

@test "port-forward: a refused connection inside is closed on the host, the forward goes on" {
	local rport dead

	rport=$(free_port)
	dead=$(free_port)
	http_server "$rport"
	forward "0:$dead" "0:$rport"
	run curl -s --max-time 5 "http://127.0.0.1:$LPORT/"
	[ "$status" -ne 0 ]
	[ "$status" -ne 28 ] # closed, not timed out
	grep -q "cannot connect to port $dead: Connection refused" "$BATS_TEST_TMPDIR/pf.log"
	kill -0 "$PF_PID"
}

@test "port-forward: bad specs and unknown targets are errors" {
	run "$DHIDEBUG" port-forward "$TARGET"
	[ "$status" -eq 125 ]
	[[ "$output" == *"usage: dhidebug port-forward"* ]]
	for spec in 80 a:80 1:0 1:65536 1.2.3:1:2 x:y:z:w 1:2:3:4; do
		run "$DHIDEBUG" port-forward "$TARGET" "$spec"
		echo "$spec -> $status $output"
		[ "$status" -eq 125 ]
		[[ "$output" == *"invalid"* ]]
	done
	run "$DHIDEBUG" port-forward runc://no-such-container-$$ 0:80
	[ "$status" -ne 0 ]
	[[ "$output" == *"no-such-container"* ]]
}

@test "port-forward: the target exiting stops it with an error" {
	local rport

	rport=$(free_port)
	forward "0:$rport"
	rt kill "$CID" KILL
	wait_pid_exit "$PF_PID"
	cat "$BATS_TEST_TMPDIR/pf.log"
	[ "$WAIT_STATUS" -eq 125 ]
	grep -q "exited" "$BATS_TEST_TMPDIR/pf.log"
}
