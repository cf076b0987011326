#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# alpine.bats: the other half of the DHI catalogue (issue 15): a musl target (bundle.bash's
# musl kind: an app linked against musl, musl's loader, Alpine 3.21's os-release) debugged
# with the Alpine-style toolbox (toolbox/mkdev --busybox: busybox and musl from Debian's
# packages, Alpine 3.21.3's os-release). No Alpine mirror is reachable here, so both are
# built from Debian's busybox-static, musl and musl-tools.

load helpers

BUSYBOX_TOOLBOX=${BUSYBOX_TOOLBOX:-$BUILD/toolbox/busybox}

setup()
{
	requires root runc tmux
	[ -x "$BUSYBOX_TOOLBOX/usr/local/bin/musl-hello" ] ||
		missing "no busybox toolbox at $BUSYBOX_TOOLBOX (make toolbox-busybox)"
	[ -x "$BUILD/tests/app-musl" ] || missing "no $BUILD/tests/app-musl (make fixtures)"
}

teardown()
{
	tmux_stop
	container_rm
}

@test "a musl target with the Alpine toolbox: the union view, the container's files at their paths, the toolbox's loader" {
	customize_bundle()
	{
		# the container's own copy of musl's loader, one byte longer than the toolbox's, so
		# that which one a path names shows in its checksum (the app runs with it all the same)
		printf '\n' >>"$1/rootfs/lib/ld-musl-x86_64.so.1"
	}
	container_start musl
	run --separate-stderr "$DHIDEBUG" --toolbox "$BUSYBOX_TOOLBOX" "$TARGET" -- \
		cat /proc/1/cmdline /etc/os-release
	echo "status $status; stdout: $output; stderr: $stderr"
	[ "$status" -eq 0 ]
	# Alpine 3.21.3 and 3.21.3: the same release, so auto picks the union
	[[ "$stderr" == *"view: union (toolbox and target are the same distribution and release)"* ]]
	[[ "$output" == "/app"*'PRETTY_NAME="the musl target"'* ]]
	# the container's files at their own paths, and under /target
	TOOLBOX=$BUSYBOX_TOOLBOX run_dhi "$TARGET" -- ls /app /target/app /lib/ld-musl-x86_64.so.1
	[ "$status" -eq 0 ]
	# the loader a toolbox program gets (PT_INTERP, resolved in the session's root) is the
	# toolbox's, not the container's: the mask; the container's stays at /target
	tb_sum=$(sha256sum "$BUSYBOX_TOOLBOX/lib/ld-musl-x86_64.so.1" | cut -d' ' -f1)
	ct_sum=$(sha256sum "$BUNDLE/rootfs/lib/ld-musl-x86_64.so.1" | cut -d' ' -f1)
	[ "$tb_sum" != "$ct_sum" ]
	TOOLBOX=$BUSYBOX_TOOLBOX run_dhi "$TARGET" -- sha256sum /lib/ld-musl-x86_64.so.1 \
		/target/lib/ld-musl-x86_64.so.1
	[ "$status" -eq 0 ]
	[ "${lines[0]%% *}" = "$tb_sum" ]
	[ "${lines[1]%% *}" = "$ct_sum" ]
	# and a musl program of the toolbox runs with it
	TOOLBOX=$BUSYBOX_TOOLBOX run_dhi "$TARGET" -- musl-hello
	[ "$status" -eq 0 ]
	[[ "$output" == "hello from musl: "* ]]
	# a pipeline of applets in dhish -c
	TOOLBOX=$BUSYBOX_TOOLBOX run_dhi -c 'ls /proc | wc -l' "$TARGET"
	[ "$status" -eq 0 ]
	[ "$output" -gt 5 ]
}

@test "a musl target whose Alpine release differs from the toolbox's: the toolbox view, one line naming both" {
	customize_bundle()
	{
		sed -i 's/^VERSION_ID=.*/VERSION_ID=3.22.1/' "$1/rootfs/etc/os-release"
	}
	container_start musl
	run --separate-stderr "$DHIDEBUG" --toolbox "$BUSYBOX_TOOLBOX" "$TARGET" -- ls /target/app
	echo "status $status; stdout: $output; stderr: $stderr"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"view: toolbox (the toolbox is alpine 3.21.3, the target alpine 3.22.1: not the same release)"* ]]
	[ "$output" = /target/app ]
}

@test "dhish in the busybox toolbox: the prompt, a pipeline, history and completion" {
	container_start musl
	tmux_start
	tm send-keys -t t "$DHIDEBUG -q --toolbox $BUSYBOX_TOOLBOX $TARGET; echo EXIT=\$?" Enter
	screen_has "[dhidebug runc://$CID general] / #"
	tm send-keys -t t 'ls /proc | wc -l' Enter
	wait_for -m "the pipeline's count" pane_has_number
	# history: the line again with Up
	tm send-keys -t t 'echo first-line' Enter
	screen_has 'first-line'
	tm send-keys -t t Up
	screen_has '# echo first-line'
	tm send-keys -t t C-u
	# completion of a program name (busybox's applet links) and of a path in the container
	tm send-keys -t t 'unam' Tab
	screen_has '# uname'
	tm send-keys -t t ' -s' Enter
	screen_has 'Linux'
	tm send-keys -t t 'cat /etc/os-rel' Tab
	screen_has '# cat /etc/os-release'
	tm send-keys -t t Enter
	screen_has 'the musl target'
	tm send-keys -t t 'exit 3' Enter
	screen_has 'EXIT=3'
}

# pane_has_number: a line that is only a number above 5 (ls /proc | wc -l's answer)
pane_has_number()
{
	tm capture-pane -p -t t | grep -Eq '^ *([6-9]|[1-9][0-9]+) *$'
}
