#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# view.bats: the session's private mount view: union and toolbox layouts, the read-only
# toolbox at /.dhi, the private scratch, a live /target, and no trace left in the target.

load helpers

setup()
{
	requires root runc toolbox
}

teardown()
{
	container_rm
}

@test "static: union view: /app and /target/app are the container's, tools are the toolbox's" {
	container_start static
	check_union_view
}

@test "dynamic: union view: /app and /target/app are the container's, tools are the toolbox's" {
	container_start dynamic
	check_union_view
}

@test "static: toolbox view: / is the toolbox, the container is at /target only" {
	container_start static
	check_toolbox_view
}

@test "dynamic: toolbox view: / is the toolbox, the container is at /target only" {
	container_start dynamic
	check_toolbox_view
}

@test "static: union view has the container's submounts at their paths" {
	container_start static
	echo "from the host" >"$VOLDIR/host-file"
	run_dhi --view union -c 'cat /vol/host-file /target/vol/host-file; test -c /dev/null && echo dev;
		test -d /sys/kernel && echo sys; tr "\0" " " </proc/1/cmdline' "$TARGET"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "from the host" ]
	[ "${lines[1]}" = "from the host" ]
	[ "${lines[2]}" = dev ]
	[ "${lines[3]}" = sys ]
	[[ "${lines[4]}" == "/app /vol/from-app"* ]]
}

# The container's device nodes must work: a view mounted nodev breaks every `>/dev/null`.
@test "static: the container's /dev works in the session, in both views" {
	container_start static
	for view in union toolbox; do
		run_dhi --view "$view" -c 'echo x >/dev/null && head -c 4 /dev/zero | od -An -tx1' "$TARGET"
		[ "$status" -eq 0 ]
		[ "$(echo $output)" = "00 00 00 00" ]
	done
}

@test "static: /.dhi is the toolbox and is read-only" {
	container_start static
	check_dhi_readonly
	# Same files as the toolbox on the host, and mounted read-only, not just unwritable.
	run_dhi -c 'sha256sum </.dhi/usr/bin/strace; grep " /.dhi " /proc/self/mountinfo' "$TARGET"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(sha256sum <"$TOOLBOX/usr/bin/strace" | cut -d' ' -f1)  -" ]
	[[ "${lines[1]}" =~ \ /\.dhi\ ro[,\ ] ]]
}

@test "dynamic: /.dhi is the toolbox and is read-only" {
	container_start dynamic
	check_dhi_readonly
}

@test "static: /.dhi-scratch is a private writable tmpfs and HOME and TMPDIR point to it" {
	container_start static
	run_dhi -c 'echo "$HOME $TMPDIR"; stat -f -c %T /.dhi-scratch;
		echo scratch >"$HOME/f" && cat "$TMPDIR/f"' "$TARGET"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/.dhi-scratch /.dhi-scratch" ]
	[ "${lines[1]}" = tmpfs ]
	[ "${lines[2]}" = scratch ]
	# Private: the next session starts with an empty one.
	run_dhi -c 'ls -A /.dhi-scratch | wc -l' "$TARGET"
	[ "$status" -eq 0 ]
	[ "$output" = 0 ]
}

# The session must see the container live, not a copy taken at attach time: the app writes
# its files only after the session has checked they are not there yet.
live_file_check()
{
	local out=$BATS_TEST_TMPDIR/live.out i extra=

	[ "$KIND" = dynamic ] && extra='cat /target/from-app;'
	# dhish has no loops: the app is signalled as soon as "ready" shows, and writes at once
	dhidebug_bg "$out" -c 'test ! -e /target/vol/from-app || exit 9; echo ready; sleep 2;
		cat /target/vol/from-app /vol/from-app; '"$extra" "$TARGET"
	for i in $(seq 100); do
		grep -q ready "$out" && break
		sleep 0.1
	done
	kill -USR1 "$CPID"
	wait_pid_exit "$DHI_PID" 30
	echo "status $WAIT_STATUS, output:"
	cat "$out"
	[ "$WAIT_STATUS" -eq 0 ]
	[ -e "$VOLDIR/from-app" ]
	if [ "$KIND" = dynamic ]; then
		[ "$(cat "$out")" = $'ready\nwritten by app\nwritten by app\nwritten by app' ]
	else
		[ "$(cat "$out")" = $'ready\nwritten by app\nwritten by app' ]
	fi
}

@test "static: a file the app writes during the session is visible at once" {
	container_start static
	live_file_check
}

@test "dynamic: a file the app writes during the session is visible at once" {
	container_start dynamic
	live_file_check
}

@test "static: no trace: mount table, root listing and environment unchanged" {
	container_start static
	check_no_trace
}

@test "dynamic: no trace: mount table, root listing and environment unchanged" {
	container_start dynamic
	check_no_trace
}

@test "dynamic: no trace in toolbox view either" {
	container_start dynamic
	mi0=$(target_mountinfo)
	ls0=$(target_root_listing)
	run_dhi --view toolbox -c 'ls / /target >"$TMPDIR/ls.out"' "$TARGET"
	[ "$status" -eq 0 ]
	diff -u <(echo "$mi0") <(target_mountinfo)
	diff -u <(echo "$ls0") <(target_root_listing)
}
