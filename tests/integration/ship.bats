#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# ship.bats: audit records and recordings shipped to a collector (a real HTTP server on
# loopback, tests/integration/collector.py): in order, exactly once, spooled while it is down.

load helpers

setup()
{
	requires root runc toolbox
	SDIR=$BATS_TEST_TMPDIR/sessions
	mkdir -m 0700 "$SDIR"
	PORT=$(free_port)
	CLOG=$BATS_TEST_TMPDIR/collector.log
	POL=$BATS_TEST_TMPDIR/policy.json
	echo "{\"collector\": {\"url\": \"http://127.0.0.1:$PORT/records\", \"headers\": {\"X-Site\": \"test\"}}}" >"$POL"
}

teardown()
{
	[ -n "${CPID_COLLECTOR:-}" ] && kill "$CPID_COLLECTOR" 2>/dev/null
	container_rm
}

collector_start()
{
	daemon "$BATS_TEST_TMPDIR/collector.pid" "$BATS_TEST_TMPDIR/collector.out" \
		python3 "$BATS_TEST_DIRNAME/collector.py" "$PORT" "$CLOG"
	CPID_COLLECTOR=$(cat "$BATS_TEST_TMPDIR/collector.pid")
	local i
	for i in $(seq 50); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT))" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# every record of the session arrived once, in order, and the recording once
check_arrived()
{
	local d=$1 id n
	id=$(basename "$d")
	n=$(wc -l <"$d/audit.jsonl")
	[ "$n" -gt 3 ]
	# keys in the order they arrived: id:0 … id:n-1, then id:cast; no duplicate
	diff <(jq -r .key "$CLOG") <(for ((i = 0; i < n; i++)); do echo "$id:$i"; done; echo "$id:cast")
	# what arrived is what is on disk
	diff <(jq -c 'select(.kind == "record") | .record' "$CLOG") <(jq -c . "$d/audit.jsonl")
	[ "$(jq -r 'select(.kind == "recording") | .length' "$CLOG")" = "$(stat -c %s "$d/session.cast")" ]
}

@test "collector down during the first half of a session, up afterwards: every record once, in order" {
	container_start static
	dhidebug_bg "$BATS_TEST_TMPDIR/out" --policy "$POL" --sessions-dir "$SDIR" \
		-c 'echo one; sleep 2; echo two' "$TARGET"
	sleep 1
	collector_start
	wait_pid_exit "$DHI_PID" 30
	cat "$BATS_TEST_TMPDIR/out"
	[ "$WAIT_STATUS" -eq 0 ]
	local d
	d=$(ls -d "$SDIR"/*/)
	check_arrived "${d%/}"
	# and a later `sessions ship` sends nothing again
	run "$DHIDEBUG" sessions ship --all --dir "$SDIR" --policy "$POL"
	[ "$status" -eq 0 ]
	[ "$(jq -r .key "$CLOG" | sort | uniq -d)" = "" ]
}

@test "collector down for the whole session: the records wait, \`sessions ship\` sends them once" {
	container_start static
	run_dhi --policy "$POL" --sessions-dir "$SDIR" -c 'echo hello' "$TARGET"
	[ "$status" -eq 0 ]
	[[ "$output" == *"not shipped yet"* ]]
	local d
	d=$(ls -d "$SDIR"/*/)
	d=${d%/}
	run "$DHIDEBUG" sessions ship --all --dir "$SDIR" --policy "$POL"
	[ "$status" -eq 1 ]
	collector_start
	run "$DHIDEBUG" sessions ship "$(basename "$d")" --dir "$SDIR" --policy "$POL"
	echo "$output"
	[ "$status" -eq 0 ]
	check_arrived "$d"
	run "$DHIDEBUG" sessions ship --all --dir "$SDIR" --policy "$POL"
	[ "$status" -eq 0 ]
	check_arrived "$d"
}
