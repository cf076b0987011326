#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# audit.bats: what the supervisor writes while a session runs (docs/recording.md): the
# recording, the hash chain, the exec audit (programs started by programs included),
# durability when the supervisor is killed, and record: required failing closed.

load helpers

setup()
{
	requires root runc toolbox
	SDIR=$BATS_TEST_TMPDIR/sessions
	mkdir -m 0700 "$SDIR"
}

teardown()
{
	container_rm
}

# The folder of the only session recorded in $SDIR.
session_dir()
{
	local d
	d=$(ls -d "$SDIR"/*/ 2>/dev/null | head -1)
	[ -n "$d" ] || return 1
	echo "${d%/}"
}

# audit_has DIR [JQ ARGS...] CONDITION: some record of DIR/audit.jsonl satisfies CONDITION.
audit_has()
{
	local dir=$1
	shift
	local cond=${*: -1}
	jq -e -s "${@:1:$#-1}" "any(.[]; $cond)" "$dir/audit.jsonl" >/dev/null
}

# chain_ok DIR: every record's prev is the SHA-256 of the line before, and cast_sha256 is the
# digest of that prefix of session.cast (checked independently of dhidebug, with coreutils).
chain_ok()
{
	local dir=$1 prev=0000000000000000000000000000000000000000000000000000000000000000 line
	local n=0 bytes want got
	while IFS= read -r line; do
		[ "$(jq -r .prev <<<"$line")" = "$prev" ] || { echo "record $n: prev"; return 1; }
		[ "$(jq -r .seq <<<"$line")" = "$n" ] || { echo "record $n: seq"; return 1; }
		bytes=$(jq -r .cast_bytes <<<"$line")
		want=$(jq -r .cast_sha256 <<<"$line")
		got=$(head -c "$bytes" "$dir/session.cast" | sha256sum | cut -d' ' -f1)
		[ "$want" = "$got" ] || { echo "record $n: cast digest"; return 1; }
		prev=$(printf '%s' "$line" | sha256sum | cut -d' ' -f1)
		n=$((n + 1))
	done <"$dir/audit.jsonl"
	[ "$n" -gt 0 ]
}

@test "a -c session: the line, every exec with its argv, a valid chain, a recording asciinema reads" {
	container_start static
	run_dhi --sessions-dir "$SDIR" -c 'ls /proc | wc -l; env | sort | head -1' "$TARGET"
	[ "$status" -eq 0 ]
	local d
	d=$(session_dir)
	[ "$(stat -c %a "$d")" = 700 ]
	[ "$(stat -c %a "$d/audit.jsonl")" = 600 ]
	[ "$(stat -c %a "$d/session.cast")" = 600 ]
	audit_has "$d" '.type == "line" and .text == "ls /proc | wc -l; env | sort | head -1"'
	# the default view here is union: the toolbox's programs run from /.dhi
	for prog in ls wc sort head; do
		audit_has "$d" --arg p "/.dhi/usr/bin/$prog" '.type == "exec" and .path == $p and
			.decision == "allowed"' || { echo "no exec of $prog"; return 1; }
	done
	audit_has "$d" '.type == "exec" and .path == "/.dhi/usr/bin/ls" and .argv == ["ls", "/proc"]'
	audit_has "$d" '.type == "session.start" and .target.id != null and
		.profile.name == "general" and (.profile.filter_sha256 | length) == 64 and
		.policy.file == null and .policy.sha256 == null and .target.state == "running"'
	audit_has "$d" '.type == "session.end" and .status == 0 and .reason == "exit"'
	chain_ok "$d"
	# input is recorded only where the policy asks for it
	run_fails grep -q '^\[[0-9.]*, "i", ' "$d/session.cast"
	# the recording holds what the session printed, as the real player reads it (Debian's
	# asciinema 2.2 wants a terminal even for `cat`: script gives it one)
	[ "$(script -qec "asciinema cat $d/session.cast" /dev/null </dev/null | tr -d '\r')" = \
		"$output" ]
	# and none of it is reachable from the container
	if find "/proc/$CPID/root/" -xdev -name audit.jsonl 2>/dev/null | grep -q .; then return 1; fi
}

@test "programs started by programs are audited; a shell started by a tool is denied (general)" {
	container_start static
	run_dhi --sessions-dir "$SDIR" -c 'find /proc/1/comm -exec cat {} \;; echo x | xargs sh -c true' "$TARGET"
	local d
	d=$(session_dir)
	[[ "$output" == *app* ]]
	# cat was started by find, not by dhish
	local find_pid
	find_pid=$(jq -r 'select(.type == "exec" and .path == "/.dhi/usr/bin/find") | .pid' "$d/audit.jsonl")
	audit_has "$d" --argjson p "$find_pid" '.type == "exec" and .path == "/.dhi/usr/bin/cat" and
		.ppid == $p'
	audit_has "$d" '.type == "exec" and .argv[0] == "sh" and .decision == "denied"'
	chain_ok "$d"
}

@test "SIGKILL of the supervisor: the chain is valid up to the last record, no session.end" {
	container_start static
	dhidebug_bg "$BATS_TEST_TMPDIR/out" --sessions-dir "$SDIR" "$TARGET" -- sleep 100
	wait_for_session
	local d i
	d=$(session_dir)
	# the start is on disk before the program runs
	audit_has "$d" '.type == "session.start"'
	for i in $(seq 50); do
		audit_has "$d" '.type == "exec"' && break
		sleep 0.1
	done
	kill -KILL "$DHI_PID"
	# nothing is left that could still write the log
	wait_pid_exit "$DHI_PID" 5
	wait_no_session 5
	wait_for -t 5 -m "no process holding $d/audit.jsonl" nobody_has_open "$d/audit.jsonl"
	chain_ok "$d"
	run_fails audit_has "$d" '.type == "session.end"'
	assert_no_leftovers
	[ -e "$SDIR/.open/$(basename "$d")" ]
}

@test "a session whose supervisor was killed is closed with session.lost by the next one; a live one is left alone" {
	container_start static
	local killed live next i
	dhidebug_bg "$BATS_TEST_TMPDIR/out" --sessions-dir "$SDIR" "$TARGET" -- sleep 100
	wait_for_session
	killed=$(session_dir)
	kill -KILL "$DHI_PID"
	wait_no_session
	# a live session: its supervisor holds its lock
	dhidebug_bg "$BATS_TEST_TMPDIR/out2" --sessions-dir "$SDIR" "$TARGET" -- sleep 100
	wait_for_session
	for i in $(seq 50); do
		live=$(ls -d "$SDIR"/*/ | grep -v "$killed" | head -1)
		[ -n "$live" ] && break
		sleep 0.1
	done
	live=${live%/}
	# (that start already closed the killed one; the next start must not touch the live one)
	run_dhi --sessions-dir "$SDIR" "$TARGET" -- true
	[ "$status" -eq 0 ]
	next=$(ls -d "$SDIR"/*/ | grep -v -e "$killed" -e "$live" | head -1)
	next=$(basename "$next")
	audit_has "$killed" '.type == "session.lost" and (.detected_by | length) > 0 and
		(.reason | test("killed or crashed"))'
	[ "$(tail -n1 "$killed/audit.jsonl" | jq -r .type)" = session.lost ]
	chain_ok "$killed"
	run "$DHIDEBUG" sessions verify --dir "$SDIR" "$(basename "$killed")"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok: incomplete"* ]]
	run_fails audit_has "$live" '.type == "session.lost"'
	[ ! -e "$SDIR/.open/$(basename "$killed")" ]
	[ -e "$SDIR/.open/$(basename "$live")" ]
	[ ! -e "$SDIR/.open/$next" ]
	kill "$DHI_PID"
	wait "$DHI_PID" || true
	audit_has "$live" '.type == "session.end"'
	[ ! -e "$SDIR/.open/$(basename "$live")" ]
	chain_ok "$live"
	assert_no_leftovers
}

@test "session.start names the policy file and the SHA-256 of the bytes it was read from" {
	container_start static
	local pol=$BATS_TEST_TMPDIR/policy.json d
	echo '{"default_profile": "observe", "record": "required"}' >"$pol"
	run_dhi --policy "$pol" --sessions-dir "$SDIR" "$TARGET" -- true
	[ "$status" -eq 0 ]
	d=$(session_dir)
	audit_has "$d" --arg f "$pol" --arg h "$(sha256sum "$pol" | cut -d' ' -f1)" \
		'.type == "session.start" and .policy.file == $f and .policy.sha256 == $h and
		.profile.name == "observe"'
}

@test "record: required refuses to start when it cannot record; optional starts and says why" {
	container_start static
	local pol=$BATS_TEST_TMPDIR/policy.json bad=$BATS_TEST_TMPDIR/not-private
	mkdir -m 0755 "$bad"
	echo '{"record": "required"}' >"$pol"
	run --separate-stderr dhidebug --policy "$pol" --sessions-dir "$bad" "$TARGET" -- true
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"recording is required"* ]]
	run --separate-stderr dhidebug --policy "$pol" --no-record "$TARGET" -- true
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"requires recording"* ]]
	# optional (the default): the session runs, unrecorded, and says so
	run --separate-stderr "$DHIDEBUG" --toolbox "$TOOLBOX" --sessions-dir "$bad" "$TARGET" -- true
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"not recording"* ]]
	[ -z "$(ls -A "$bad")" ]
	assert_no_leftovers
}

@test "record_input: what is typed is recorded, except at a password prompt (ECHO off)" {
	requires tmux
	container_start static
	local pol=$BATS_TEST_TMPDIR/policy.json d
	echo '{"record_input": true}' >"$pol"
	tmux_start
	# sysadmin only for bash's `read -s`: a line read with ECHO off, as a password prompt does
	tm send-keys -t t "$DHIDEBUG -q --toolbox $TOOLBOX --policy $pol --profile sysadmin --sessions-dir $SDIR $TARGET; echo EXIT=\$?" Enter
	screen_has "[dhidebug $TARGET sysadmin] / "
	tm send-keys -t t 'echo typed-text' Enter
	screen_has 'typed-text'
	tm send-keys -t t "bash -c 'read -s pw; echo got-\${#pw}'" Enter
	# typed only once `read -s` has turned echo off, as a password is
	wait_for -m "bash's read -s turning echo off" session_tty_is bash noecho
	tm send-keys -t t 'secret-pw' Enter
	screen_has 'got-9'
	tm send-keys -t t 'exit' Enter
	screen_has 'EXIT=0'
	tmux_stop
	d=$(session_dir)
	tail -n +2 "$d/session.cast" | jq -r 'select(.[1] == "i") | .[2]' | tr -d '\n\r' \
		>"$BATS_TEST_TMPDIR/typed"
	cat "$BATS_TEST_TMPDIR/typed"
	grep -q 'echo typed-text' "$BATS_TEST_TMPDIR/typed"
	run_fails grep -q 'secret-pw' "$BATS_TEST_TMPDIR/typed"
}

@test "the container dies during the session: one line says so, session.end says target-exited" {
	container_start static
	dhidebug_bg "$BATS_TEST_TMPDIR/out" --sessions-dir "$SDIR" "$TARGET" -- sleep 100
	wait_for_session
	rt kill "$CID" KILL
	wait_pid_exit "$DHI_PID" 10
	cat "$BATS_TEST_TMPDIR/out"
	[ "$WAIT_STATUS" -eq 137 ]
	grep -qxF "dhidebug: container \`$TARGET\` exited; the session ended" "$BATS_TEST_TMPDIR/out"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 1 ]
	local d
	d=$(session_dir)
	audit_has "$d" '.type == "session.end" and .status == 137 and .reason == "target-exited"'
	chain_ok "$d"
}

@test "a session that ends on its own while the container runs says nothing more, reason exit" {
	container_start static
	run_dhi --sessions-dir "$SDIR" "$TARGET" -- timeout 1 sleep 5
	[ "$status" -eq 124 ]
	[ -z "$output" ]
	audit_has "$(session_dir)" '.type == "session.end" and .status == 124 and .reason == "exit"'
}
