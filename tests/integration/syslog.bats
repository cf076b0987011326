#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# syslog.bats: shipping to real receivers (docs/recording.md, "Shipping"): the syslog collector
# to Debian's rsyslog (imtcp over TLS with its OpenSSL driver, RFC 5425, octet-counted framing,
# writing to a file), started here on loopback and stopped and started again while sessions
# run (20 waiting at once, one shipping as fast as it execs), frozen, or refusing the TLS;
# `sessions verify --against` the file rsyslog wrote; and the HTTP collector through a
# real nginx reverse proxy with TLS in front of the test collector (collector.py).

load helpers

setup_file()
{
	local d=$BATS_FILE_TMPDIR/pki ca

	mkdir -p "$d"
	# the receivers' CA, and another that signed nothing of theirs; the client's certificate
	for ca in ca other; do
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=syslog-test-$ca" \
			-keyout "$d/$ca.key" -out "$d/$ca.crt" 2>/dev/null
	done
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
		-keyout "$d/srv.key" -out "$d/srv.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$d/ext"
	openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/ext" -out "$d/srv.crt" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=dhidebug-host \
		-keyout "$d/client.key" -out "$d/client.csr" 2>/dev/null
	printf 'extendedKeyUsage=clientAuth\n' >"$d/cext"
	openssl x509 -req -in "$d/client.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/cext" -out "$d/client.crt" 2>/dev/null
}

setup()
{
	requires root runc toolbox rsyslog
	SDIR=$BATS_TEST_TMPDIR/sessions
	mkdir -m 0700 "$SDIR"
	PKI=$BATS_FILE_TMPDIR/pki
	[ -s "$PKI/client.crt" ]
	SPORT=$(free_port)
	RS=$BATS_TEST_TMPDIR/rsyslog
	mkdir -p "$RS"
	SLOG=$RS/received.log
	POL=$BATS_TEST_TMPDIR/policy.json
	RSPID=
}

teardown()
{
	rsyslog_stop
	nginx_stop
	collector_stop
	container_rm
}

# syslog_policy [JQ]: the policy's collector: syslog to rsyslog on $SPORT with the test CA and
# the client certificate, changed by the jq expression JQ
syslog_policy()
{
	jq -n --argjson port "$SPORT" --arg pki "$PKI" \
		'{collector: {kind: "syslog", host: "127.0.0.1", port: $port, ca: ($pki + "/ca.crt"),
		  cert: ($pki + "/client.crt"), key: ($pki + "/client.key")}} | '"${1:-.}" >"$POL"
}

# rsyslog_start [AUTHMODE]: Debian's rsyslogd with a configuration of its own (nothing of
# /etc/rsyslog.conf): imtcp with TLS (the OpenSSL driver) on 127.0.0.1:$SPORT, each message as
# it came (%rawmsg%) appended to $SLOG. AUTHMODE: x509/certvalid (default: a client
# certificate signed by the test CA is required) or anon. Waits until it listens.
rsyslog_start()
{
	local i

	cat >"$RS/rsyslog.conf" <<-EOF
		global(workDirectory="$RS" maxMessageSize="256k"
		       defaultNetstreamDriver="ossl"
		       defaultNetstreamDriverCAFile="$PKI/ca.crt"
		       defaultNetstreamDriverCertFile="$PKI/srv.crt"
		       defaultNetstreamDriverKeyFile="$PKI/srv.key")
		module(load="imtcp" streamDriver.name="ossl" streamDriver.mode="1"
		       streamDriver.authMode="${1:-x509/certvalid}")
		input(type="imtcp" address="127.0.0.1" port="$SPORT")
		template(name="raw" type="string" string="%rawmsg%\n")
		action(type="omfile" file="$SLOG" template="raw")
	EOF
	daemon "$RS/daemon.pid" "$RS/rsyslogd.out" rsyslogd -n -f "$RS/rsyslog.conf" -i "$RS/rsyslogd.pid"
	RSPID=$(cat "$RS/daemon.pid")
	for i in $(seq 100); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $SPORT))" 2>/dev/null && return 0
		kill -0 "$RSPID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$RS/rsyslogd.out"
	return 1
}

# rsyslog_stop: SIGTERM, as systemctl stop does (and SIGCONT, for one a test froze); waits
# until it is gone
rsyslog_stop()
{
	if [ -n "${RSPID:-}" ]; then
		kill "$RSPID" 2>/dev/null || true
		kill -CONT "$RSPID" 2>/dev/null || true
		while kill -0 "$RSPID" 2>/dev/null; do sleep 0.1; done
		RSPID=
	fi
}

# received ID: the records rsyslog wrote for session ID, in the order it wrote them, one
# [SEQ,RECORD] per line (keys sorted), checking each message's form on the way: RFC 5424
# (<PRI>1, the record's time, a host, app dhidebug, the record's type as MSGID) with the
# structured data [dhidebug@32473 session="ID" seq="SEQ"], SEQ the record's own
received()
{
	jq -cSR --arg id "$1" '
		capture("^<86>1 (?<time>[0-9T:.Z-]+) (?<host>[!-~]+) dhidebug - (?<msgid>[!-~]+) \\[dhidebug@32473 session=\"(?<s>[^\"]+)\" seq=\"(?<q>[0-9]+)\"\\] (?<m>.*)$")
		| select(.s == $id)
		| (.m | fromjson) as $r
		| if ($r.seq | tostring) != .q or $r.type != .msgid or $r.time != .time
		  then error("a message does not go with its record: \(.)") else [$r.seq, $r] end' "$SLOG"
}

# check_received DIR: every record of the session in DIR arrived, in order once the copies sent
# again (the same session and seq) are dropped, each as it is on disk
check_received()
{
	local d=$1 id i
	id=$(basename "$d")
	[ "$(wc -l <"$d/audit.jsonl")" -ge 4 ]
	# rsyslog writes what it took from its queue a moment later: up to 20 s for every seq
	for ((i = 0; i < 200; i++)); do
		received "$id" >"$BATS_TEST_TMPDIR/got.$id"
		[ "$(cut -d, -f1 "$BATS_TEST_TMPDIR/got.$id" | sort -u | wc -l)" -ge \
			"$(wc -l <"$d/audit.jsonl")" ] && break
		sleep 0.1
	done
	# first copies in arrival order: seq 0, 1, 2, … and the records as on disk
	diff <(awk -F, '!seen[$1]++' "$BATS_TEST_TMPDIR/got.$id") <(jq -cS '[.seq, .]' "$d/audit.jsonl")
	# a copy sent again is the same record
	[ -z "$(sort -u "$BATS_TEST_TMPDIR/got.$id" | cut -d, -f1 | uniq -d)" ]
}

# wait_until SECONDS CMD...: until CMD succeeds
wait_until()
{
	local i

	for ((i = 0; i < $1 * 10; i++)); do
		"${@:2}" && return 0
		sleep 0.1
	done
	echo "not within $1 s: ${*:2}"
	return 1
}

# at_exec I FILE: a session has an exec record of cat reading /target/FILE
at_exec()
{
	grep -q "\"/target/$2\"" "$SDIR"/*/audit.jsonl 2>/dev/null
}

@test "syslog to rsyslog over TLS, 20 concurrent sessions, rsyslog stopped and started again mid-session: every record arrives, in order once copies are dropped; verify --against the file rsyslog wrote" {
	local i d n=20 pids=()

	syslog_policy
	rsyslog_start
	container_start static
	for ((i = 0; i < n; i++)); do
		mkfifo -m 0666 "$BUNDLE/rootfs/go$i" "$BUNDLE/rootfs/again$i"
		dhidebug_bg "$BATS_TEST_TMPDIR/out.$i" --policy "$POL" --sessions-dir "$SDIR" \
			-c "echo one-$i; cat /target/go$i; echo two-$i; cat /target/again$i; echo three-$i" "$TARGET"
		pids+=("$DHI_PID")
	done
	# every session waits on its first fifo, and what they recorded so far is going to rsyslog
	# (a connection rsyslog drops, as it does under many at once, leaves a session's records in
	# its spool until the end: they must arrive all the same)
	for ((i = 0; i < n; i++)); do
		wait_until 60 at_exec "$i" "go$i" || { cat "$BATS_TEST_TMPDIR/out.$i"; false; }
	done
	wait_until 60 test -s "$SLOG"
	[ "$(ls "$SDIR" | wc -l)" -eq "$n" ]
	rsyslog_stop
	# records written while rsyslog is down
	for ((i = 0; i < n; i++)); do
		echo x >"$BUNDLE/rootfs/go$i"
	done
	for ((i = 0; i < n; i++)); do
		wait_until 60 at_exec "$i" "again$i"
		grep -q 'not shipped yet' "$BATS_TEST_TMPDIR/out.$i"
	done
	rsyslog_start
	for ((i = 0; i < n; i++)); do
		echo x >"$BUNDLE/rootfs/again$i"
	done
	for ((i = 0; i < n; i++)); do
		wait_pid_exit "${pids[$i]}" 60
		[ "$WAIT_STATUS" -eq 0 ] || { cat "$BATS_TEST_TMPDIR/out.$i"; false; }
		grep -q "^three-$i" "$BATS_TEST_TMPDIR/out.$i"
	done
	for d in "$SDIR"/*/; do
		d=${d%/}
		check_received "$d"
		# nothing waits: the cursor counts every record
		[ "$(cut -d' ' -f1 "$d/shipped")" -eq "$(wc -l <"$d/audit.jsonl")" ]
		run "$DHIDEBUG" sessions verify "${d##*/}" --dir "$SDIR" --against "$SLOG"
		echo "$output"
		[ "$status" -eq 0 ]
		[[ "$output" == *": matches the copy \`$SLOG\`: $(wc -l <"$d/audit.jsonl") records, seq 0 to "* ]]
	done
}

@test "syslog: rsyslog stopped and started again while a session ships a record per exec as fast as it runs them: every record arrives, in order once copies are dropped" {
	local d id
	syslog_policy
	rsyslog_start
	container_start static
	dhidebug_bg "$BATS_TEST_TMPDIR/out" --policy "$POL" --sessions-dir "$SDIR" \
		-c 'seq 300 | xargs -n1 true; echo done' "$TARGET"
	# in the middle of it: some records at rsyslog, the session still running
	wait_until 60 test -s "$SLOG"
	rsyslog_stop
	kill -0 "$DHI_PID"
	rsyslog_start
	wait_pid_exit "$DHI_PID" 120
	cat "$BATS_TEST_TMPDIR/out"
	[ "$WAIT_STATUS" -eq 0 ]
	grep -q '^done' "$BATS_TEST_TMPDIR/out"
	d=$(ls -d "$SDIR"/*/)
	d=${d%/}
	[ "$(grep -c '"type":"exec"' "$d/audit.jsonl")" -ge 300 ]
	check_received "$d"
	"$DHIDEBUG" sessions verify "${d##*/}" --dir "$SDIR" --against "$SLOG"
}

# A receiver that stops can close a connection cleanly with the last messages it read still
# unwritten (rsyslog on SIGTERM, now and then: the tests above caught it). The records a
# connection counted go again with the next one, so the next receiver has them.
@test "syslog: what a receiver read and then lost (its connection closed cleanly) arrives with the next connection" {
	container_start static
	syslog_policy
	daemon "$RS/lossy.pid" "$RS/lossy.out" python3 "$BATS_TEST_DIRNAME/lossy_syslog.py" \
		"$SPORT" "$SLOG" "$PKI/ca.crt" "$PKI/srv.crt" "$PKI/srv.key" 1
	RSPID=$(cat "$RS/lossy.pid")
	wait_until 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $SPORT))"
	run_dhi --policy "$POL" --sessions-dir "$SDIR" -c 'echo hello; echo world' "$TARGET"
	[ "$status" -eq 0 ]
	[[ "$output" != *"not shipped"* ]]
	local d
	d=$(ls -d "$SDIR"/*/)
	d=${d%/}
	cat "$SLOG"
	check_received "$d"
}

@test "verify --against the file rsyslog wrote names a record changed or removed on the host" {
	syslog_policy '.collector |= del(.cert, .key)'
	rsyslog_start anon
	container_start static
	run_dhi --policy "$POL" --sessions-dir "$SDIR" -c 'echo hello; echo world' "$TARGET"
	[ "$status" -eq 0 ]
	[[ "$output" != *"not shipped"* ]]
	local d id
	d=$(ls -d "$SDIR"/*/)
	d=${d%/}
	id=${d##*/}
	check_received "$d"
	"$DHIDEBUG" sessions verify "$id" --dir "$SDIR" --against "$SLOG"
	# root edits a line record on the host
	cp "$d/audit.jsonl" "$BATS_TEST_TMPDIR/audit.orig"
	sed -i '/"type":"line"/s/echo hello/echo HELLO/' "$d/audit.jsonl"
	run "$DHIDEBUG" sessions verify "$id" --dir "$SDIR" --against "$SLOG"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == "$id: differs from the copy \`$SLOG\`: seq "*" (line): changed: \`text\` is not the same" ]]
	# and removes the last record
	cp "$BATS_TEST_TMPDIR/audit.orig" "$d/audit.jsonl"
	sed -i '$d' "$d/audit.jsonl"
	run "$DHIDEBUG" sessions verify "$id" --dir "$SDIR" --against "$SLOG"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *" (session.end): in the copy, not on the host (removed from the host)" ]]
}

@test "syslog: a receiver whose certificate the policy's \`ca\` did not sign, or that wants a client certificate the policy has not, gets nothing counted; the records wait and go with \`sessions ship\`" {
	local d id
	container_start static
	# another CA
	syslog_policy ".collector.ca = \"$PKI/other.crt\""
	rsyslog_start
	run_dhi --policy "$POL" --sessions-dir "$SDIR" -c 'echo hello' "$TARGET"
	[ "$status" -eq 0 ]
	[[ "$output" == *"not shipped yet"*"certificate"* ]]
	d=$(ls -d "$SDIR"/*/)
	d=${d%/}
	id=${d##*/}
	[ ! -e "$d/shipped" ]
	[ ! -s "$SLOG" ]
	# no client certificate, and rsyslog wants one
	syslog_policy '.collector |= del(.cert, .key)'
	run "$DHIDEBUG" sessions ship "$id" --dir "$SDIR" --policy "$POL"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == "$id: not shipped: collector \`syslog://127.0.0.1:$SPORT\`: "* ]]
	[ ! -e "$d/shipped" ]
	[ ! -s "$SLOG" ]
	# the policy's client certificate: every record, once
	syslog_policy
	run "$DHIDEBUG" sessions ship "$id" --dir "$SDIR" --policy "$POL"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$id: shipped $(wc -l <"$d/audit.jsonl")" ]
	check_received "$d"
	[ -z "$(received "$id" | cut -d, -f1 | uniq -d)" ]
}

@test "syslog: rsyslog frozen (SIGSTOP) takes the connection and answers nothing: the session goes on, nothing counted; killed and started again, \`sessions ship\` sends every record once" {
	local d id
	syslog_policy
	rsyslog_start
	container_start static
	kill -STOP "$RSPID"
	run_dhi --policy "$POL" --sessions-dir "$SDIR" -c 'echo hello' "$TARGET"
	[ "$status" -eq 0 ]
	[[ "$output" == *"hello"* ]]
	[[ "$output" == *"not shipped yet"* ]]
	d=$(ls -d "$SDIR"/*/)
	d=${d%/}
	id=${d##*/}
	[ ! -e "$d/shipped" ]
	kill -KILL "$RSPID"
	while kill -0 "$RSPID" 2>/dev/null; do sleep 0.1; done
	RSPID=
	[ ! -s "$SLOG" ]
	rsyslog_start
	run "$DHIDEBUG" sessions ship "$id" --dir "$SDIR" --policy "$POL"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "$id: shipped $(wc -l <"$d/audit.jsonl")" ]
	check_received "$d"
	[ -z "$(received "$id" | cut -d, -f1 | uniq -d)" ]
}

@test "a syslog collector in the policy: what it must have, what it may not" {
	local bad
	for bad in '.collector.kind = "smtp"' '.collector |= del(.ca)' '.collector |= del(.host)' \
		'.collector |= del(.key)' '.collector.port = 0' '.collector.ca = "ca.crt"' \
		'.collector.url = "https://x/"'; do
		syslog_policy "$bad"
		run "$DHIDEBUG" sessions ship --all --dir "$SDIR" --policy "$POL"
		echo "$bad: $output"
		[ "$status" -eq 125 ]
		[[ "$output" == "dhidebug: "*"collector"* ]]
	done
	syslog_policy '.collector |= del(.port)'
	run "$DHIDEBUG" sessions ship --all --dir "$SDIR" --policy "$POL"
	[ "$status" -eq 0 ]
}

# --- the HTTP collector through nginx ---

# nginx_start: a real nginx (its own prefix and configuration in the test's folder, one process)
# on 127.0.0.1:$NPORT with TLS (the test CA's certificate), proxying to collector.py on $PORT
nginx_start()
{
	local i

	NGX=$BATS_TEST_TMPDIR/nginx
	mkdir -p "$NGX/logs"
	cat >"$NGX/nginx.conf" <<-EOF
		daemon off;
		master_process off;
		pid $NGX/nginx.pid;
		error_log $NGX/logs/error.log;
		events { worker_connections 64; }
		http {
		    access_log $NGX/logs/access.log;
		    client_body_temp_path $NGX/body;
		    proxy_temp_path $NGX/proxy;
		    fastcgi_temp_path $NGX/fastcgi;
		    uwsgi_temp_path $NGX/uwsgi;
		    scgi_temp_path $NGX/scgi;
		    server {
		        listen 127.0.0.1:$NPORT ssl;
		        ssl_certificate $PKI/srv.crt;
		        ssl_certificate_key $PKI/srv.key;
		        client_max_body_size 0;
		        location / {
		            proxy_pass http://127.0.0.1:$PORT;
		            proxy_http_version 1.1;
		        }
		    }
		}
	EOF
	daemon "$NGX/daemon.pid" "$NGX/out" nginx -p "$NGX" -c "$NGX/nginx.conf"
	NGPID=$(cat "$NGX/daemon.pid")
	for i in $(seq 100); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $NPORT))" 2>/dev/null && return 0
		kill -0 "$NGPID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$NGX/out" "$NGX/logs/error.log"
	return 1
}

nginx_stop()
{
	if [ -n "${NGPID:-}" ]; then
		kill "$NGPID" 2>/dev/null || true
		while kill -0 "$NGPID" 2>/dev/null; do sleep 0.1; done
		NGPID=
	fi
}

@test "the HTTP collector behind a real nginx with TLS: its 502 while the collector is down counts nothing; every record and the recording arrive once, in order, as on disk" {
	requires nginx
	local d id n i
	PORT=$(free_port)
	NPORT=$(free_port)
	CLOG=$BATS_TEST_TMPDIR/collector.log
	jq -n --arg url "https://127.0.0.1:$NPORT/records" --arg ca "$PKI/ca.crt" \
		'{collector: {url: $url, ca: $ca, headers: {"X-Site": "test"}}}' >"$POL"
	nginx_start
	container_start static
	# nginx up, the collector behind it down: nginx answers 502
	run_dhi --policy "$POL" --sessions-dir "$SDIR" -c 'echo hello; echo world' "$TARGET"
	[ "$status" -eq 0 ]
	[[ "$output" == *"not shipped yet"*"answered 502"* ]]
	d=$(ls -d "$SDIR"/*/)
	d=${d%/}
	id=${d##*/}
	[ ! -e "$d/shipped" ]
	collector_run --header 'X-Site: test'
	run "$DHIDEBUG" sessions ship "$id" --dir "$SDIR" --policy "$POL"
	echo "$output"
	[ "$status" -eq 0 ]
	n=$(wc -l <"$d/audit.jsonl")
	[ "$output" = "$id: shipped $((n + 1))" ]
	# through nginx: the keys in order, the records as on disk, the recording whole, nothing refused
	diff <(jq -r 'select(.dup == false) | .key' "$CLOG") \
		<(for ((i = 0; i < n; i++)); do echo "$id:$i"; done; echo "$id:cast")
	diff <(jq -cS 'select(.kind == "record") | .record' "$CLOG") <(jq -cS . "$d/audit.jsonl")
	[ "$(jq -r --arg k "$id:cast" 'select(.key == $k) | .length' "$CLOG")" = "$(stat -c %s "$d/session.cast")" ]
	run_fails grep -q '"reject"' "$CLOG"
	# nginx saw them all: n + 1 POSTs answered 200, the earlier ones 502
	[ "$(grep -c '"POST /records HTTP/1.1" 200' "$NGX/logs/access.log")" -eq $((n + 1)) ]
	grep -q '"POST /records HTTP/1.1" 502' "$NGX/logs/access.log"
	# and a session shipped as it runs, through nginx
	run_dhi --policy "$POL" --sessions-dir "$SDIR" -c 'echo again' "$TARGET"
	[ "$status" -eq 0 ]
	[[ "$output" != *"not shipped"* ]]
	d=$(ls -td "$SDIR"/*/ | head -1)
	d=${d%/}
	"$DHIDEBUG" sessions verify "${d##*/}" --dir "$SDIR" --against "$CLOG"
}
