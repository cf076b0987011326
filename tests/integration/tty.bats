#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# tty.bats: the interactive session through a real terminal (tmux): the pty relay, window
# size and resizes, Ctrl-C reaching only the foreground program, the exit status, and the
# operator's terminal restored afterwards.

load helpers

setup()
{
	requires root runc toolbox
	command -v tmux >/dev/null || skip "needs tmux"
	SOCK=$BATS_TEST_TMPDIR/tmux.sock
}

teardown()
{
	tmux -S "$SOCK" kill-server 2>/dev/null || true
	container_rm
}

tm()
{
	tmux -S "$SOCK" "$@"
}

# screen_has TEXT [SECONDS]: wait until the pane shows TEXT
screen_has()
{
	local i
	for i in $(seq $((${2:-10} * 10))); do
		tm capture-pane -p -t t | grep -qF -- "$1" && return 0
		sleep 0.1
	done
	echo "screen never showed: $1"
	tm capture-pane -p -t t
	return 1
}

@test "interactive: size, resize, Ctrl-C, exit status, terminal restored" {
	container_start static
	tm new-session -d -s t -x 100 -y 30 "bash --norc --noprofile"
	tm send-keys -t t "PS1='outer\$ '; stty -g > $BATS_TEST_TMPDIR/before" Enter
	screen_has 'outer$'
	tm send-keys -t t "$DHIDEBUG -q --toolbox $TOOLBOX $TARGET; echo EXIT=\$?" Enter
	screen_has "[dhidebug $CID]"
	tm send-keys -t t 'stty size; echo "$TERM"' Enter
	screen_has '30 100'
	tm resize-window -t t -x 90 -y 25
	sleep 0.3
	tm send-keys -t t 'stty size' Enter
	screen_has '25 90'
	# Ctrl-C stops the foreground program, not the session
	tm send-keys -t t 'sleep 30' Enter
	sleep 0.5
	tm send-keys -t t C-c
	tm send-keys -t t 'echo after-sleep=$?' Enter
	screen_has 'after-sleep=130'
	tm send-keys -t t 'exit 7' Enter
	screen_has 'EXIT=7'
	tm send-keys -t t "stty -g > $BATS_TEST_TMPDIR/after" Enter
	sleep 0.5
	[ "$(cat "$BATS_TEST_TMPDIR/before")" = "$(cat "$BATS_TEST_TMPDIR/after")" ]
	assert_no_leftovers
}

@test "interactive: a session ended by SIGTERM restores the terminal and leaves nothing" {
	container_start static
	tm new-session -d -s t -x 100 -y 30 "bash --norc --noprofile"
	tm send-keys -t t "PS1='outer\$ '; stty -g > $BATS_TEST_TMPDIR/before" Enter
	screen_has 'outer$'
	tm send-keys -t t "$DHIDEBUG -q --toolbox $TOOLBOX $TARGET; echo EXIT=\$?" Enter
	screen_has "[dhidebug $CID]"
	tm send-keys -t t 'sleep 100' Enter
	sleep 0.5
	pkill -TERM -f "^$DHIDEBUG -q --toolbox $TOOLBOX $TARGET\$"
	screen_has 'EXIT=143'
	tm send-keys -t t "stty -g > $BATS_TEST_TMPDIR/after" Enter
	sleep 0.5
	[ "$(cat "$BATS_TEST_TMPDIR/before")" = "$(cat "$BATS_TEST_TMPDIR/after")" ]
	assert_no_leftovers
}
