#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# tty.bats: the interactive session through a real terminal (tmux): the pty relay, window
# size and resizes, Ctrl-C reaching only the foreground program, the exit status, and the
# operator's terminal restored afterwards.

load helpers

setup()
{
	requires root runc toolbox
	requires tmux
}

teardown()
{
	tmux_stop
	container_rm
}

@test "interactive: size, resize, Ctrl-C, exit status, terminal restored" {
	container_start static
	tmux_start
	tm send-keys -t t "stty -g > $BATS_TEST_TMPDIR/before" Enter
	tm send-keys -t t "$DHIDEBUG -q --toolbox $TOOLBOX $TARGET; echo EXIT=\$?" Enter
	screen_has "[dhidebug $TARGET general] / #"
	tm send-keys -t t 'stty size; echo "$TERM"' Enter
	screen_has '30 100'
	tm resize-window -t t -x 90 -y 25
	# the session's own pty has the new size before `stty size` asks
	wait_for -m "the session's pty at 25x90" session_tty_is dhish noecho 25 90
	tm send-keys -t t 'stty size' Enter
	screen_has '25 90'
	# Ctrl-C stops the foreground program, not the session
	tm send-keys -t t 'sleep 30' Enter
	wait_for -m "sleep running in the session" session_runs sleep
	tm send-keys -t t C-c
	tm send-keys -t t 'echo after-sleep=$?' Enter
	screen_has 'after-sleep=130'
	tm send-keys -t t 'exit 7' Enter
	screen_has 'EXIT=7'
	tm send-keys -t t "stty -g > $BATS_TEST_TMPDIR/after; echo stty-saved=\$((6 * 7))" Enter
	screen_has stty-saved=42
	[ "$(cat "$BATS_TEST_TMPDIR/before")" = "$(cat "$BATS_TEST_TMPDIR/after")" ]
	assert_no_leftovers
}

@test "interactive: a session ended by SIGTERM restores the terminal and leaves nothing" {
	container_start static
	tmux_start
	tm send-keys -t t "stty -g > $BATS_TEST_TMPDIR/before" Enter
	tm send-keys -t t "$DHIDEBUG -q --toolbox $TOOLBOX $TARGET; echo EXIT=\$?" Enter
	screen_has "[dhidebug $TARGET general] / #"
	tm send-keys -t t 'sleep 100' Enter
	wait_for -m "sleep running in the session" session_runs sleep
	pkill -TERM -f "^$DHIDEBUG -q --toolbox $TOOLBOX $TARGET\$"
	screen_has 'EXIT=143'
	tm send-keys -t t "stty -g > $BATS_TEST_TMPDIR/after; echo stty-saved=\$((6 * 7))" Enter
	screen_has stty-saved=42
	[ "$(cat "$BATS_TEST_TMPDIR/before")" = "$(cat "$BATS_TEST_TMPDIR/after")" ]
	assert_no_leftovers
}
