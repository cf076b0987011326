#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# shell.bats: dhish, the session's restricted shell, through a real terminal (tmux) and with -c:
# the language it runs, what it refuses, history kept on the host, completion, Ctrl-C/Ctrl-D.

load helpers

setup()
{
	requires root runc toolbox
}

teardown()
{
	tmux_stop
	container_rm
}

# attach: start an interactive session in the tmux window and wait for dhish's prompt.
attach()
{
	tm send-keys -t t "$DHIDEBUG -q --toolbox $TOOLBOX $* $TARGET; echo EXIT=\$?" Enter
	screen_has "[dhidebug $TARGET ${PROFILE:-general}] / "
}

@test "dhish through a terminal: pipes, redirections, quoting, lists, cd, globs, prompt" {
	requires tmux
	container_start static
	tmux_start
	attach
	tm send-keys -t t 'ps -e | grep app' Enter
	screen_has ' app'
	tm send-keys -t t 'ls /proc/1/fd > /.dhi-scratch/x; wc -l < /.dhi-scratch/x' Enter
	screen_has "$(ls /proc/$CPID/fd | wc -l)"
	tm send-keys -t t "echo \"\$HOME\" '\$HOME'" Enter
	screen_has '/.dhi-scratch $HOME'
	tm send-keys -t t 'false || echo or-ran' Enter
	screen_has 'or-ran'
	tm send-keys -t t 'cd /proc/1 && pwd' Enter
	screen_has "[dhidebug $TARGET general] /proc/1 #"
	tm send-keys -t t 'echo /proc/1/cg* /proc/1/e?viron' Enter
	screen_has '/proc/1/cgroup /proc/1/environ'
	tm send-keys -t t 'exit 5' Enter
	screen_has 'EXIT=5'
}

@test "dhish: Ctrl-C stops the program, not the shell; Ctrl-D ends the session with 0" {
	requires tmux
	container_start static
	tmux_start
	attach
	tm send-keys -t t 'sleep 100' Enter
	wait_for -m "sleep running in the session" session_runs sleep
	tm send-keys -t t C-c
	tm send-keys -t t 'echo alive=$?' Enter
	screen_has 'alive=130' 1
	tm send-keys -t t 'false; echo rc=$?' Enter
	# Ctrl-D at the prompt, not while `false` still has the terminal: `false` is done and dhish
	# is back in readline (which reads with echo off)
	screen_has 'rc=1'
	wait_for -m "dhish reading its next line" session_tty_is dhish noecho
	tm send-keys -t t C-d
	screen_has 'EXIT=0'
	assert_no_leftovers
}

@test "dhish: history is kept on the host per target, recalled with the up arrow" {
	requires tmux
	container_start static
	rm -f /var/lib/dhidebug/history/runc_"$CID"
	tmux_start
	attach
	tm send-keys -t t 'echo remembered-line' Enter
	tm send-keys -t t 'exit' Enter
	screen_has 'EXIT=0'
	grep -qx 'echo remembered-line' "/var/lib/dhidebug/history/runc_$CID"
	[ "$(stat -c %a "/var/lib/dhidebug/history/runc_$CID")" = 600 ]
	# nothing of it in the container
	run_fails grep -rqs remembered-line "/proc/$CPID/root/" --exclude-dir=proc --exclude-dir=sys
	tm send-keys -t t 'clear' Enter
	attach
	tm send-keys -t t Up Up
	screen_has '# echo remembered-line'
	tm send-keys -t t Enter
	screen_has 'remembered-line' 
	tm send-keys -t t 'exit' Enter
	rm -f "/var/lib/dhidebug/history/runc_$CID"
}

@test "dhish: command names complete from the toolbox's PATH; vi mode from the operator's inputrc" {
	requires tmux
	container_start static
	local home=$BATS_TEST_TMPDIR/home
	mkdir -p "$home"
	echo 'set editing-mode vi' >"$home/.inputrc"
	tmux_start
	tm send-keys -t t "export HOME=$home" Enter
	attach
	tm send-keys -t t 'hostn' Tab
	screen_has '# hostname'
	tm send-keys -t t Enter
	screen_has 'dhi-target'
	# vi mode: Escape, 0 (start of line), x (delete a character)
	tm send-keys -t t 'echo zz-vi-mode'
	tm send-keys -t t Escape
	tm send-keys -t t 0 x Enter
	screen_has '`cho`: command not found'
	tm send-keys -t t 'exit' Enter
}

@test "dhish refuses what would hide what runs, naming the construct" {
	container_start static
	local line want
	while IFS='|' read -r line want; do
		run_dhi -c "$line" "$TARGET"
		[ "$status" -eq 2 ]
		[[ "$output" == "dhish: "*"$want"* ]] || { echo "for: $line"; return 1; }
	done <<'CASES'
for i in 1; do echo $i; done|`for`
eval echo hi|`eval`
source /etc/profile|`source`
. /etc/profile|`.`
f() { echo hi; }|(
sleep 1 &|`&`
echo $(id)|`$(…)`
echo `id`|backtick
CASES
	run_dhi -c 'echo "unterminated' "$TARGET"
	[ "$status" -eq 2 ]
	[[ "$output" == "dhish: syntax error near"* ]]
}

@test "dhish: a shell is refused in general and allowed in sysadmin; container programs only in sysadmin" {
	container_start dynamic
	run_dhi -c 'bash -c "echo inner"' "$TARGET"
	[ "$status" -eq 126 ]
	[[ "$output" == *'`bash` is a shell'* ]]
	run_dhi --profile sysadmin -c 'bash -c "echo inner"' "$TARGET"
	[ "$status" -eq 0 ]
	[ "$output" = inner ]
	run_dhi -c '/target/app' "$TARGET"
	[ "$status" -eq 126 ]
	[[ "$output" == *"not in the toolbox"* ]]
}

@test "dhish: a full-screen program leaves the terminal modes as they were" {
	requires tmux
	container_start static
	tmux_start
	attach
	tm send-keys -t t 'stty -g > /.dhi-scratch/before' Enter
	tm send-keys -t t 'less /proc/1/status' Enter
	screen_has 'Name:'
	# killed, less cannot put the terminal back itself: dhish must
	pkill -KILL -x less
	tm send-keys -t t 'stty -g > /.dhi-scratch/after; grep -qxFf /.dhi-scratch/before /.dhi-scratch/after && echo same-modes' Enter
	screen_has 'same-modes'
	tm send-keys -t t 'exit' Enter
	screen_has 'EXIT=0'
}
