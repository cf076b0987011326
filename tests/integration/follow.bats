#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# follow.bats: `dhidebug sessions follow ID` and `replay --follow ID` (docs/recording.md,
# "Following a live session"): a live session's output and audit records shown in a second
# terminal (tmux) while the session runs, read-only, ending when the session ends: with its
# session.end, or when its supervisor dies and lets go of its lock.

load helpers

setup()
{
	requires root runc toolbox
	requires tmux
	SDIR=$BATS_TEST_TMPDIR/sessions
	mkdir -m 0700 "$SDIR"
}

teardown()
{
	tmux_stop
	container_rm
}

# two_panes: a 160x50 window of two panes (t.0 above, t.1 below), each a plain bash whose
# prompt is `outer$ `.
two_panes()
{
	tm new-session -d -s t -x 160 -y 50 "bash --norc --noprofile"
	tm split-window -v -t t "bash --norc --noprofile"
	tm send-keys -t t.0 "PS1='outer\$ '" Enter
	tm send-keys -t t.1 "PS1='outer\$ '" Enter
	pane_has t.0 'outer$'
	pane_has t.1 'outer$'
}

# pane_has PANE TEXT: wait until PANE (its whole history, wrapped lines joined) shows TEXT;
# on failure, show both panes.
pane_has()
{
	local i
	for i in $(seq 200); do
		tm capture-pane -p -J -S - -t "$1" | grep -qF -- "$2" && return 0
		sleep 0.1
	done
	echo "pane $1 never showed: $2"
	for p in t.0 t.1; do
		echo "--- $p"
		tm capture-pane -p -J -S - -t "$p"
	done
	return 1
}

# pane_lacks PANE TEXT: PANE does not show TEXT now
pane_lacks()
{
	if tm capture-pane -p -J -S - -t "$1" | grep -qF -- "$2"; then
		echo "pane $1 shows: $2"
		tm capture-pane -p -J -S - -t "$1"
		return 1
	fi
}

# the_session: ID and D of the one session folder in $SDIR, once it has its first record
the_session()
{
	wait_for -m "a session folder with its session.start" \
		sh -c 'grep -qs "session.start" "$1"/*/audit.jsonl' sh "$SDIR"
	D=$(ls -d "$SDIR"/*/)
	D=${D%/}
	ID=${D##*/}
}

@test "sessions follow: a live interactive session's output and records, in another terminal, as they come; it ends with the session" {
	container_start static
	two_panes
	tm send-keys -t t.0 "$DHIDEBUG -q --toolbox $TOOLBOX --sessions-dir $SDIR $TARGET; echo EXIT\"=\"\$?" Enter
	pane_has t.0 "[dhidebug $TARGET general] / #"
	the_session
	tm send-keys -t t.1 "$DHIDEBUG sessions follow $ID --dir $SDIR; echo FOLLOW\"=\"\$?" Enter
	# what was there before the follower started: the start record
	pane_has t.1 "start     $ID"
	# a command typed now: its output (not in the command line) and its exec record
	tm send-keys -t t.0 'echo abc | tr a-c x-z' Enter
	pane_has t.1 xyz
	pane_has t.1 "exec      allowed "
	pane_has t.1 ": tr a-c x-z  (pid "
	# later, another one: still live, the session still at its prompt
	tm send-keys -t t.0 'echo def | tr d-f u-w' Enter
	pane_has t.1 uvw
	pane_has t.1 ": tr d-f u-w  (pid "
	pane_lacks t.0 EXIT=
	pane_lacks t.1 FOLLOW=
	grep -q '"type":"session.start"' "$D/audit.jsonl"
	run_fails grep -q '"type":"session.end"' "$D/audit.jsonl"
	# the session ends: so does the follower, after the end record and the verification
	tm send-keys -t t.0 'exit 3' Enter
	pane_has t.0 EXIT=3
	pane_has t.1 "end       status 3, reason exit"
	pane_has t.1 "[dhidebug] $ID: ok: complete, "
	pane_has t.1 FOLLOW=0
	assert_no_leftovers
}

@test "replay --follow: the recording so far, then live; the supervisor killed ends it as incomplete" {
	container_start static
	two_panes
	dhidebug_bg "$BATS_TEST_TMPDIR/session.out" --sessions-dir "$SDIR" \
		-c 'echo abc | tr a-c x-z; sleep 1000' "$TARGET"
	the_session
	wait_for -m "sleep running in the session" session_runs sleep
	tm send-keys -t t.1 "$DHIDEBUG replay --follow $ID --dir $SDIR; echo FOLLOW\"=\"\$?" Enter
	pane_has t.1 xyz
	pane_has t.1 ": sleep 1000  (pid "
	pane_lacks t.1 FOLLOW=
	# SIGKILL: no session.end is written; the lock on audit.jsonl goes with the process
	kill -KILL "$DHI_PID"
	wait "$DHI_PID" 2>/dev/null || true
	pane_has t.1 "[dhidebug] $ID: the supervisor is gone and wrote no session.end (killed or crashed)"
	pane_has t.1 "[dhidebug] $ID: ok: incomplete"
	pane_has t.1 FOLLOW=0
	run_fails grep -q '"type":"session.end"' "$D/audit.jsonl"
}

@test "sessions follow reads and never writes: files unchanged, every open O_RDONLY|O_NOFOLLOW|O_CLOEXEC; an ended session is shown at once" {
	container_start static
	run_dhi --sessions-dir "$SDIR" -c 'echo abc | tr a-c x-z' "$TARGET"
	[ "$status" -eq 0 ]
	the_session
	local before
	before=$(cd "$D" && sha256sum audit.jsonl session.cast && stat -c '%n %s %Y %Z' audit.jsonl session.cast)
	run strace -f -e trace=openat,open,creat,truncate,ftruncate -o "$BATS_TEST_TMPDIR/trace" \
		"$DHIDEBUG" sessions follow "$ID" --dir "$SDIR"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *xyz* ]]
	[[ "$output" == *"[dhidebug] $ID: ok: complete, "* ]]
	[ "$(cd "$D" && sha256sum audit.jsonl session.cast && stat -c '%n %s %Y %Z' audit.jsonl session.cast)" = "$before" ]
	grep -E 'open.*(audit\.jsonl|session\.cast)' "$BATS_TEST_TMPDIR/trace"
	[ "$(grep -cE 'open.*(audit\.jsonl|session\.cast)' "$BATS_TEST_TMPDIR/trace")" -ge 2 ]
	run_fails grep -E 'open.*(audit\.jsonl|session\.cast).*(O_WRONLY|O_RDWR|O_CREAT|O_TRUNC)' "$BATS_TEST_TMPDIR/trace"
	run_fails grep -E 'open.*(audit\.jsonl|session\.cast)' <(grep -vE 'O_RDONLY\|O_NOFOLLOW\|O_CLOEXEC|O_RDONLY\|O_CLOEXEC\|O_NOFOLLOW' "$BATS_TEST_TMPDIR/trace")
	run_fails grep -E 'truncate' "$BATS_TEST_TMPDIR/trace"
	# the follower takes no lock either: a starting supervisor's LOCK_EX|LOCK_NB must not fail
	run strace -f -e trace=flock -o "$BATS_TEST_TMPDIR/trace2" "$DHIDEBUG" sessions follow "$ID" --dir "$SDIR"
	[ "$status" -eq 0 ]
	run_fails grep -q flock "$BATS_TEST_TMPDIR/trace2"
	# wrong uses
	run "$DHIDEBUG" sessions follow --dir "$SDIR"
	[ "$status" -eq 125 ]
	[[ "$output" == *"\`follow\` takes one session id"* ]]
	run "$DHIDEBUG" sessions follow "$ID" --json --dir "$SDIR"
	[ "$status" -eq 125 ]
	[[ "$output" == *"--json does not go with \`follow\`"* ]]
	run "$DHIDEBUG" sessions ls --follow --dir "$SDIR"
	[ "$status" -eq 125 ]
}

@test "sessions follow: Ctrl-C stops the follower (130), not the session" {
	container_start static
	two_panes
	dhidebug_bg "$BATS_TEST_TMPDIR/session.out" --sessions-dir "$SDIR" -c 'sleep 1000' "$TARGET"
	the_session
	wait_for -m "sleep running in the session" session_runs sleep
	tm send-keys -t t.1 "$DHIDEBUG sessions follow $ID --dir $SDIR; echo FOLLOW\"=\"\$?" Enter
	pane_has t.1 ": sleep 1000  (pid "
	tm send-keys -t t.1 C-c
	pane_has t.1 "dhidebug: follow stopped"
	pane_has t.1 FOLLOW=130
	session_runs sleep
	kill -0 "$DHI_PID"
	run_fails grep -q '"type":"session.end"' "$D/audit.jsonl"
}
