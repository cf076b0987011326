#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# exit.bats: no leftovers (DESIGN.md invariant 2). However a session ends (normally, on
# hang-up, on SIGTERM, or with its supervisor SIGKILLed), no session process stays in the
# target and no zombie is handed to the target's PID 1, which never reaps (tests/fixtures/app.c).

load helpers

# A background child whose stdio holds no pipe of the session's relay (the scratch is
# writable in every view; no /dev/null needed).
BG_CHILD='sleep 100 >"$TMPDIR/bg.out" 2>&1 0<&- &'

setup()
{
	requires root runc toolbox
}

teardown()
{
	container_rm
}

@test "static: nothing is left after a session ends normally" {
	container_start static
	run_dhi "$TARGET" -- true
	[ "$status" -eq 0 ]
	assert_no_leftovers
}

@test "static: a background child is not left behind when the session ends normally" {
	container_start static
	# Its stdio goes elsewhere so the relay has no reason to wait for it; "started" proves
	# the child was running when the shell exited.
	run_dhi --profile sysadmin "$TARGET" -- bash -c "$BG_CHILD"' sleep 0.2; kill -0 $! && echo started'
	[ "$status" -eq 0 ]
	[ "$output" = started ]
	assert_no_leftovers
}

@test "dynamic: a background child is not left behind when the session ends normally" {
	container_start dynamic
	run_dhi --profile sysadmin "$TARGET" -- bash -c "$BG_CHILD"' sleep 0.2; kill -0 $! && echo started'
	[ "$status" -eq 0 ]
	[ "$output" = started ]
	assert_no_leftovers
}

# leftovers_after_signal SIGNAL ARGS...: start a session with ARGS, wait until it runs in the
# target, send SIGNAL to dhidebug, and check that the session is gone and left no zombie.
leftovers_after_signal()
{
	local sig=$1

	shift
	dhidebug_bg "$BATS_TEST_TMPDIR/out" "$@"
	wait_for_session
	# Every `sleep 100` of ARGS runs, so there is a tree to clean up, not one process.
	wait_for -m "the session's sleeps" session_runs sleep "$(grep -o 'sleep 100' <<<"$*" | wc -l)"
	kill -s "$sig" "$DHI_PID"
	wait_pid_exit "$DHI_PID" 5
	echo "dhidebug status after SIG$sig: $WAIT_STATUS"
	cat "$BATS_TEST_TMPDIR/out"
	assert_no_leftovers 2
	# The target itself is unharmed.
	[ "$(rt state "$CID" | jq -r .status)" = running ]
}

@test "static: nothing is left after SIGHUP to dhidebug" {
	container_start static
	leftovers_after_signal HUP "$TARGET" -- sleep 100
}

@test "static: nothing is left after SIGHUP to dhidebug, with a background child" {
	container_start static
	leftovers_after_signal HUP --profile sysadmin "$TARGET" -- bash -c 'sleep 100 & sleep 100'
}

@test "static: nothing is left after SIGTERM to dhidebug, with a background child" {
	container_start static
	leftovers_after_signal TERM --profile sysadmin "$TARGET" -- bash -c 'sleep 100 & sleep 100'
}

@test "static: nothing is left after SIGKILL of dhidebug" {
	container_start static
	leftovers_after_signal KILL "$TARGET" -- sleep 100
}

@test "static: nothing is left after SIGKILL of dhidebug, with a background child" {
	container_start static
	leftovers_after_signal KILL --profile sysadmin "$TARGET" -- bash -c 'sleep 100 & sleep 100'
}

@test "dynamic: nothing is left after SIGKILL of dhidebug, with a background child" {
	container_start dynamic
	leftovers_after_signal KILL --profile sysadmin "$TARGET" -- bash -c 'sleep 100 & sleep 100'
}

@test "dynamic: nothing is left after SIGHUP to dhidebug, with a background child" {
	container_start dynamic
	leftovers_after_signal HUP --profile sysadmin "$TARGET" -- bash -c 'sleep 100 & sleep 100'
}

@test "static: a session's exit status survives its orphans (no zombie, no wait for them)" {
	container_start static
	# The shell exits 7 at once; its child is orphaned inside the target.
	run_dhi --profile sysadmin "$TARGET" -- bash -c "$BG_CHILD"' kill -0 $! || exit 9; exit 7'
	[ "$status" -eq 7 ]
	assert_no_leftovers
}
