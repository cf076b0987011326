#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# attack_view.bats: a compromised container against the session's view (THREATS.md 41 and
# 42, issue 14 findings 1 and 2). The toolbox mount must not hand out the host filesystem it
# lives on through file handles; and outside sysadmin no session process may run or map
# executable a byte of the container's files, however the container names them: a preload
# list, its loader configuration and cache, its library directories, a `#!` interpreter, a
# program first on PATH. Each attack has its control: sysadmin, which may run the
# container's code, does run it, so a refusal elsewhere is the defence, not a broken plant.

load helpers

setup()
{
	requires root runc toolbox
	for f in fhandle evil libevil.so; do
		[ -e "$BUILD/tests/$f" ] || skip "no $BUILD/tests/$f (make fixtures)"
	done
}

teardown()
{
	container_rm
}

# in_ns_pid HOSTPID: the pid the container's processes know HOSTPID by.
in_ns_pid()
{
	awk '$1 == "NSpid:" { print $NF }' "/proc/$1/status"
}

# session_program COMM: the host pid of the session's process called COMM.
session_program()
{
	local i p
	for i in $(seq 100); do
		for p in $(session_pids); do
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$1" ] && echo "$p" && return 0
		done
		sleep 0.05
	done
	return 1
}

# fs_dev PATH: major:minor of the filesystem PATH is on, as fhandle prints it.
fs_dev()
{
	local hex
	hex=$(stat -c '%d' "$1")
	echo "$((hex >> 8 & 0xfff)):$(((hex & 0xff) | (hex >> 12 & 0xfff00)))"
}

@test "a container with CAP_DAC_READ_SEARCH cannot open the host filesystem by a handle on the toolbox mount" {
	customize_bundle()
	{
		install -m 0755 "$BUILD/tests/fhandle" "$1/rootfs/fhandle"
		jq '.process.capabilities |= with_entries(.value += ["CAP_DAC_READ_SEARCH", "CAP_SYS_PTRACE"])' \
			"$1/config.json" >"$1/c.json" && mv "$1/c.json" "$1/config.json"
	}
	container_start static
	# the positive control: the same program against a bind mount of a host directory (the
	# container's /vol) opens the root of the host filesystem that holds it
	run rt exec "$CID" /fhandle /vol
	echo "control: $output"
	[[ "$output" == *"OPENED dev=$(fs_dev "$VOLDIR") ino=2"* ]]
	local p view pid dir
	for p in observe general netadmin sysadmin; do
		for view in union toolbox; do
			dhidebug_bg "$BATS_TEST_TMPDIR/out" --profile "$p" --view "$view" "$TARGET" -- sleep 30
			pid=$(session_program sleep)
			# /.dhi in both views; in the toolbox view the toolbox is / as well
			for dir in /.dhi /usr; do
				[ "$view" = union ] && [ "$dir" = /usr ] && continue
				run rt exec "$CID" /fhandle "/proc/$(in_ns_pid "$pid")/root$dir"
				echo "$p $view $dir: $output"
				[[ "$output" == *refused* ]]
				[[ "$output" != *OPENED* ]]
			done
			kill "$DHI_PID"
			wait "$DHI_PID" || true
			wait_no_session
		done
	done
}
