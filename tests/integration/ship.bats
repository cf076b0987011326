#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# ship.bats: audit records and recordings shipped to a collector (a real HTTP server on
# loopback, tests/integration/collector.py) that checks what a receiver would (the policy's
# headers, the content types, the idempotency keys, the bodies' formats, as docs/recording.md
# promises) and fails as real ones do (5xx, no answer, a closed connection, an answer lost after
# storing): in order, spooled while it is down or failing, sent again only when an answer was
# lost (the receiver deduplicates by the key), over https with the policy's `ca`.

load helpers

setup_file()
{
	local d=$BATS_FILE_TMPDIR/pki ca

	command -v openssl >/dev/null || return 0
	mkdir -p "$d"
	# two CAs; the collector's certificate (127.0.0.1) from the first, one for another name too
	for ca in ca other; do
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=collector-test-$ca" \
			-keyout "$d/$ca.key" -out "$d/$ca.crt" 2>/dev/null
	done
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
		-keyout "$d/srv.key" -out "$d/srv.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\n' >"$d/ext"
	openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/ext" -out "$d/srv.crt" 2>/dev/null
	printf 'subjectAltName=DNS:collector.example\n' >"$d/ext2"
	openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/ext2" -out "$d/misnamed.crt" 2>/dev/null
}

setup()
{
	requires root runc toolbox
	SDIR=$BATS_TEST_TMPDIR/sessions
	mkdir -m 0700 "$SDIR"
	PORT=$(free_port)
	CLOG=$BATS_TEST_TMPDIR/collector.log
	POL=$BATS_TEST_TMPDIR/policy.json
	PKI=$BATS_FILE_TMPDIR/pki
	policy "http://127.0.0.1:$PORT/records"
}

teardown()
{
	collector_stop
	container_rm
}

# policy URL [CA]: the policy's collector: URL, the header X-Site: test, and the `ca` if given
policy()
{
	jq -n --arg url "$1" --arg ca "${2:-}" \
		'{collector: ({url: $url, headers: {"X-Site": "test"}} + (if $ca == "" then {} else {ca: $ca} end))}' >"$POL"
}

# collector_start [ARGS...]: the collector on $PORT, wanting the policy's X-Site header, with
# ARGS (--fail N=ACTION, --tls CERT KEY, another --header); waits until it listens
collector_start()
{
	[ -s "$PKI/srv.crt" ] || { echo "no test CA (openssl)" >&2; return 1; }
	collector_run --header 'X-Site: test' "$@"
}

# stored_keys ID: the keys the collector stored for session ID, first copies, in arrival order
stored_keys()
{
	jq -r --arg id "$1" 'select(.dup == false and ((.key // "") | startswith($id + ":"))) | .key' "$CLOG"
}

# check_arrived DIR: every record of the session and its recording arrived, in order once the
# copies sent again (the same key) are dropped, each as it is on disk; nothing was refused
check_arrived()
{
	local d=$1 id n i
	id=$(basename "$d")
	n=$(wc -l <"$d/audit.jsonl")
	[ "$n" -ge 3 ]
	# keys in the order they were stored: id:0 … id:n-1, then id:cast
	diff <(stored_keys "$id") <(for ((i = 0; i < n; i++)); do echo "$id:$i"; done; echo "$id:cast")
	# what arrived is what is on disk
	diff <(jq -cS --arg id "$id" 'select(.dup == false and .kind == "record" and (.key | startswith($id + ":"))) | .record' "$CLOG") \
		<(jq -cS . "$d/audit.jsonl")
	[ "$(jq -r --arg k "$id:cast" 'select(.key == $k and .dup == false) | .length' "$CLOG")" = "$(stat -c %s "$d/session.cast")" ]
	# the collector refused nothing (headers, types, keys and bodies were what it takes)
	if grep -q '"reject"' "$CLOG"; then
		grep '"reject"' "$CLOG"
		return 1
	fi
}

# session_dir: the only session folder
session_dir()
{
	local d
	d=$(ls -d "$SDIR"/*/)
	[ "$(wc -l <<<"$d")" -eq 1 ] || return 1
	echo "${d%/}"
}

# wait_line FILE PATTERN: until a line of FILE matches PATTERN (grep -E), 30 s at most
wait_line()
{
	local i

	for i in $(seq 300); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no line matching '$2' in $1:"
	cat "$1"
	return 1
}

# a session with the collector down: its records wait in the spool
spooled_session()
{
	container_start static
	run_dhi --policy "$POL" --sessions-dir "$SDIR" -c 'echo hello' "$TARGET"
	[ "$status" -eq 0 ]
	[[ "$output" == *"not shipped yet"* ]]
	D=$(session_dir)
	[ ! -e "$D/shipped" ]
}

@test "collector down during the first half of a session, up afterwards: every record once, in order" {
	container_start static
	# the session waits on a fifo in the container until the collector is up
	mkfifo -m 0666 "$BUNDLE/rootfs/go"
	dhidebug_bg "$BATS_TEST_TMPDIR/out" --policy "$POL" --sessions-dir "$SDIR" \
		-c 'echo one; cat /target/go; echo two' "$TARGET"
	# the condition: a record could not go, and waits in the spool
	wait_line "$BATS_TEST_TMPDIR/out" 'not shipped yet'
	local d
	d=$(session_dir)
	[ -s "$d/audit.jsonl" ]
	[ ! -e "$d/shipped" ]
	[ ! -e "$CLOG" ]
	collector_start
	timeout 30 sh -c 'echo go >"$1"' sh "$BUNDLE/rootfs/go"
	wait_pid_exit "$DHI_PID" 30
	cat "$BATS_TEST_TMPDIR/out"
	[ "$WAIT_STATUS" -eq 0 ]
	grep -q '^two' "$BATS_TEST_TMPDIR/out"
	check_arrived "$d"
	[ "$(jq -r .dup "$CLOG" | sort -u)" = false ]
	# and a later `sessions ship` sends nothing again
	run "$DHIDEBUG" sessions ship --all --dir "$SDIR" --policy "$POL"
	[ "$status" -eq 0 ]
	[ "$(jq -r .key "$CLOG" | sort | uniq -d)" = "" ]
}

@test "collector down for the whole session: the records wait, \`sessions ship\` sends them once" {
	spooled_session
	run "$DHIDEBUG" sessions ship --all --dir "$SDIR" --policy "$POL"
	[ "$status" -eq 1 ]
	collector_start
	run "$DHIDEBUG" sessions ship "$(basename "$D")" --dir "$SDIR" --policy "$POL"
	echo "$output"
	[ "$status" -eq 0 ]
	check_arrived "$D"
	run "$DHIDEBUG" sessions ship --all --dir "$SDIR" --policy "$POL"
	[ "$status" -eq 0 ]
	check_arrived "$D"
	[ "$(jq -r .dup "$CLOG" | sort -u)" = false ]
}

@test "a collector that refuses what a receiver would not take (here: another X-Site) gets nothing stored; the spool keeps it" {
	# the collector wants X-Site: other, the policy sends X-Site: test
	spooled_session
	collector_start --header 'X-Site: other'
	run "$DHIDEBUG" sessions ship --all --dir "$SDIR" --policy "$POL"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"not shipped: collector \`http://127.0.0.1:$PORT/records\` answered 400"* ]]
	[ "$(jq -r .reject "$CLOG")" = "header X-Site is 'test', not 'other'" ]
	[ ! -e "$D/shipped" ]
	collector_stop
	: >"$CLOG"
	collector_start
	run "$DHIDEBUG" sessions ship --all --dir "$SDIR" --policy "$POL"
	[ "$status" -eq 0 ]
	check_arrived "$D"
}

@test "collector.py refuses what a receiver would not take: the checks behind check_arrived can fail" {
	command -v curl >/dev/null || missing "needs curl"
	collector_start
	local url=http://127.0.0.1:$PORT/records id=20260101T000000Z-0123abcd
	local rec0="{\"seq\":0,\"time\":\"t\",\"type\":\"session.start\",\"session\":\"$id\",\"prev\":\"0\",\"cast_bytes\":0,\"cast_sha256\":\"x\"}"
	post() { curl -sS -o /dev/null -w '%{http_code}' -H 'X-Site: test' "$@" "$url"; }
	rec() { post -H "Idempotency-Key: $1" -H 'X-Dhidebug-Kind: record' -H "Content-Type: ${3:-application/json}" --data-binary "$2"; }
	[ "$(rec "$id:0" "$rec0")" = 200 ]
	[ "$(rec "$id:0" "$rec0")" = 200 ]
	[ "$(jq -r 'select(.n == 2) | .dup' "$CLOG")" = true ]
	[ "$(rec "$id:0" "${rec0/\"t\"/\"u\"}")" = 422 ]
	[ "$(rec "$id:1" "$rec0")" = 400 ]
	[ "$(rec "$id:0" "$rec0" text/plain)" = 400 ]
	[ "$(rec "$id:cast" "$rec0")" = 400 ]
	[ "$(rec "nosession:0" "$rec0")" = 400 ]
	[ "$(rec "$id:0" "$rec0"$'\n'"$rec0")" = 400 ]
	[ "$(rec "$id:5" '{"seq":5}')" = 400 ]
	[ "$(post -H "Idempotency-Key: $id:cast" -H 'X-Dhidebug-Kind: recording' -H 'Content-Type: application/x-asciicast' --data-binary '{"version": 1}')" = 400 ]
	[ "$(curl -sS -o /dev/null -w '%{http_code}' -H "Idempotency-Key: $id:0" -H 'X-Dhidebug-Kind: record' -H 'Content-Type: application/json' --data-binary "$rec0" "$url")" = 400 ]
	[ "$(curl -sS -o /dev/null -w '%{http_code}' "$url")" = 405 ]
	[ "$(curl -sS -o /dev/null -w '%{http_code}' -d x "http://127.0.0.1:$PORT/other")" = 404 ]
	[ "$(grep -c '"reject"' "$CLOG")" -eq 11 ]
}

@test "a 5xx answer: nothing counted as shipped, the rest goes at the end of the session, every record once" {
	collector_start --fail 1=503
	container_start static
	run_dhi --policy "$POL" --sessions-dir "$SDIR" -c 'echo hello' "$TARGET"
	[ "$status" -eq 0 ]
	[[ "$output" == *"not shipped yet (kept for \`dhidebug sessions ship\`): collector \`http://127.0.0.1:$PORT/records\` answered 503"* ]]
	local d
	d=$(session_dir)
	[ "$(jq -c 'select(.n == 1) | [.fail, .key]' "$CLOG")" = "[\"503\",\"$(basename "$d"):0\"]" ]
	check_arrived "$d"
	[ "$(jq -r 'select(.dup != null) | .dup' "$CLOG" | sort -u)" = false ]
}

@test "an answer lost after the collector stored the record: sent again with the same key and body; deduplicated by the key, every record is there once, in order" {
	collector_start --fail 2=lostack
	container_start static
	run_dhi --policy "$POL" --sessions-dir "$SDIR" -c 'echo hello' "$TARGET"
	[ "$status" -eq 0 ]
	[[ "$output" == *"not shipped yet"* ]]
	local d id
	d=$(session_dir)
	id=$(basename "$d")
	# record 1 was stored, its answer lost: it came again, as a duplicate of the same body
	[ "$(jq -c 'select(.n == 2) | [.fail, .key, .dup]' "$CLOG")" = "[\"lostack\",\"$id:1\",false]" ]
	[ "$(jq -r 'select(.dup == true) | .key' "$CLOG")" = "$id:1" ]
	[ "$(jq -r .key "$CLOG" | head -n4 | tr '\n' ' ')" = "$id:0 $id:1 $id:1 $id:2 " ]
	# at least once each, and in order once the duplicate is dropped
	check_arrived "$d"
	[ "$(cat "$d/shipped")" = "$(wc -l <"$d/audit.jsonl") 1" ]
}

@test "a collector that takes a record or the recording and never answers (past the client's timeout), or closes before answering: nothing counted, all sent later once" {
	spooled_session
	local n
	n=$(wc -l <"$D/audit.jsonl")
	# the third ship: the records (POSTs 3 … n+2), then the recording, which hangs too
	collector_start --fail 1=hang --fail 2=close --fail "$((n + 3))=hang"
	run "$DHIDEBUG" sessions ship --all --dir "$SDIR" --policy "$POL"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"not shipped: collector \`http://127.0.0.1:$PORT/records\`: Timeout was reached"* ]]
	[ ! -e "$D/shipped" ]
	run "$DHIDEBUG" sessions ship --all --dir "$SDIR" --policy "$POL"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"not shipped: collector \`http://127.0.0.1:$PORT/records\`: Server returned nothing"* ]]
	[ ! -e "$D/shipped" ]
	[ "$(jq -c '[.n, .fail, .key]' "$CLOG" | tr '\n' ' ')" = "[1,\"hang\",\"$(basename "$D"):0\"] [2,\"close\",\"$(basename "$D"):0\"] " ]
	run "$DHIDEBUG" sessions ship --all --dir "$SDIR" --policy "$POL"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"not shipped: collector \`http://127.0.0.1:$PORT/records\`: Timeout was reached"* ]]
	[ "$(jq -c "select(.n == $((n + 3))) | [.fail, .kind]" "$CLOG")" = '["hang","recording"]' ]
	# the records are counted, the recording not
	[ "$(cat "$D/shipped")" = "$n 0" ]
	run "$DHIDEBUG" sessions ship --all --dir "$SDIR" --policy "$POL"
	[ "$status" -eq 0 ]
	check_arrived "$D"
	[ "$(jq -r 'select(.dup != null) | .dup' "$CLOG" | sort -u)" = false ]
}

@test "https with the policy's \`ca\` (docs/recording.md's example): shipped; another CA, no \`ca\`, or a certificate for another name: refused, kept" {
	spooled_session
	collector_start --tls "$PKI/srv.crt" "$PKI/srv.key"
	local url=https://127.0.0.1:$PORT/records ca
	for ca in "$PKI/other.crt" ""; do
		policy "$url" "$ca"
		run "$DHIDEBUG" sessions ship --all --dir "$SDIR" --policy "$POL"
		echo "ca=$ca: $output"
		[ "$status" -eq 1 ]
		[[ "$output" == *"not shipped: collector \`$url\`: SSL peer certificate or SSH remote key was not OK"* ]]
	done
	[ ! -e "$CLOG" ]
	[ ! -e "$D/shipped" ]
	collector_stop
	collector_start --tls "$PKI/misnamed.crt" "$PKI/srv.key"
	policy "$url" "$PKI/ca.crt"
	run "$DHIDEBUG" sessions ship --all --dir "$SDIR" --policy "$POL"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"not shipped: collector \`$url\`: SSL peer certificate or SSH remote key was not OK"* ]]
	[ ! -e "$CLOG" ]
	collector_stop
	collector_start --tls "$PKI/srv.crt" "$PKI/srv.key"
	run "$DHIDEBUG" sessions ship --all --dir "$SDIR" --policy "$POL"
	echo "$output"
	[ "$status" -eq 0 ]
	check_arrived "$D"
}

@test "https: the policy's \`ca\` is the only one trusted, not the system's CAs besides it" {
	spooled_session
	collector_start --tls "$PKI/srv.crt" "$PKI/srv.key"
	local url=https://127.0.0.1:$PORT/records certs=$BATS_TEST_TMPDIR/system-certs
	# the machine's CAs, in a private mount namespace, are the collector's CA (as a public CA,
	# or a company's in the system store, would be for a certificate of the collector's name)
	mkdir "$certs"
	cp "$PKI/ca.crt" "$certs/ca.pem"
	cp "$PKI/ca.crt" "$certs/ca-certificates.crt"
	openssl rehash "$certs" 2>/dev/null
	in_system_certs()
	{
		unshare -m --propagation private sh -c 'mount --bind "$1" /etc/ssl/certs && shift && exec "$@"' \
			sh "$certs" "$@"
	}
	# (the control: without a `ca`, the system's CAs are used, and now know the collector)
	policy "$url"
	run in_system_certs "$DHIDEBUG" sessions ship --all --dir "$SDIR" --policy "$POL"
	echo "no ca: $output"
	[ "$status" -eq 0 ]
	check_arrived "$D"
	# another session, shipped with a `ca` that is not the collector's: refused
	rm -f "$D/shipped"
	: >"$CLOG"
	policy "$url" "$PKI/other.crt"
	run in_system_certs "$DHIDEBUG" sessions ship --all --dir "$SDIR" --policy "$POL"
	echo "ca other: $output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"SSL peer certificate or SSH remote key was not OK"* ]]
	[ ! -s "$CLOG" ]
}

@test "a session whose supervisor was killed: its records, the session.lost that closes it and its recording are shipped" {
	container_start static
	dhidebug_bg "$BATS_TEST_TMPDIR/out" --policy "$POL" --sessions-dir "$SDIR" "$TARGET" -- sleep 100
	wait_for_session
	local killed
	killed=$(session_dir)
	wait_line "$BATS_TEST_TMPDIR/out" 'not shipped yet'
	kill -KILL "$DHI_PID"
	wait_no_session
	# the next session closes it (session.lost)
	run_dhi --policy "$POL" --sessions-dir "$SDIR" "$TARGET" -- true
	[ "$status" -eq 0 ]
	[ "$(tail -n1 "$killed/audit.jsonl" | jq -r .type)" = session.lost ]
	collector_start
	run "$DHIDEBUG" sessions ship --all --dir "$SDIR" --policy "$POL"
	echo "$output"
	[ "$status" -eq 0 ]
	check_arrived "$killed"
	[ "$(jq -r --arg k "$(basename "$killed"):$(($(wc -l <"$killed/audit.jsonl") - 1))" 'select(.key == $k) | .record.type' "$CLOG")" = session.lost ]
}

@test "a recording that takes longer than 10 s to upload (a slow link) is shipped: the client gives up on a stalled transfer, not on a slow one" {
	container_start static
	# about 3 MB of output, recorded
	run dhidebug --policy "$POL" --sessions-dir "$SDIR" -c 'head -c 2200000 /dev/zero | base64' \
		"$TARGET"
	[ "$status" -eq 0 ]
	[[ "$output" == *"not shipped yet"* ]]
	D=$(session_dir)
	[ "$(stat -c %s "$D/session.cast")" -gt 3000000 ]
	# 200 kB/s: the recording takes some 15 s
	collector_start --slow-recording 200000
	run "$DHIDEBUG" sessions ship --all --dir "$SDIR" --policy "$POL"
	echo "$output"
	[ "$status" -eq 0 ]
	check_arrived "$D"
}
