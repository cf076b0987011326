#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# attack_exec.bats: the exec policy decides on what really runs (DESIGN.md invariant 9,
# THREATS 43; security round 2, finding 3; the multi-call binaries of the Alpine issue).
# Each attack is made the way an operator inside the profile would make it: a program that
# execs (timeout, nice, env, …) hands the supervisor a path that a name or the host's files
# would judge wrongly. Every test shows the same exec working where it should (a toolbox
# program through the same trick, or the same line under sysadmin), so none passes because
# the trick itself is broken.

load helpers

BUSYBOX_TOOLBOX=${BUSYBOX_TOOLBOX:-$BUILD/toolbox/busybox}

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

requires_busybox()
{
	[ -x "$BUSYBOX_TOOLBOX/usr/local/bin/musl-hello" ] ||
		skip "no busybox toolbox at $BUSYBOX_TOOLBOX (make toolbox-busybox)"
}

# The records of the only session in $SDIR (the one most recently started, if more).
audit_file()
{
	local d
	d=$(ls -td "$SDIR"/*/ 2>/dev/null | head -1)
	[ -n "$d" ] || return 1
	echo "${d%/}/audit.jsonl"
}

# audit_has [JQ ARGS...] CONDITION: some record of the newest session satisfies CONDITION.
audit_has()
{
	local cond=${*: -1} f
	f=$(audit_file) || return 1
	jq -e -s "${@:1:$#-1}" "any(.[]; $cond)" "$f" >/dev/null
}

# audit_count CONDITION: how many records of the newest session satisfy CONDITION.
audit_count()
{
	jq -s "[.[] | select($1)] | length" "$(audit_file)"
}

# derived_toolbox DIR: the test toolbox, hard-linked file by file (copied where links cannot
# cross), so a test can add to it without touching the shared one.
derived_toolbox()
{
	cp -al "$TOOLBOX" "$1" 2>/dev/null || { rm -rf "$1"; cp -a "$TOOLBOX" "$1"; }
}

@test "a symlink in the scratch space to bash is bash, through every launcher (general)" {
	# (the toolbox view: the toolbox at its own paths; in the union view outside sysadmin those
	# paths are the container's, noexec, and the toolbox runs from /.dhi)
	container_start static
	local line='ln -s /usr/bin/bash /.dhi-scratch/x; ln -s /usr/bin/id /.dhi-scratch/y;
		timeout 5 /.dhi-scratch/y -u;
		timeout 5 /.dhi-scratch/x -c "echo RAN-timeout"; nice /.dhi-scratch/x -c "echo RAN-nice";
		setsid -w /.dhi-scratch/x -c "echo RAN-setsid"; stdbuf -o0 /.dhi-scratch/x -c "echo RAN-stdbuf";
		taskset -c 0 /.dhi-scratch/x -c "echo RAN-taskset"; nohup /.dhi-scratch/x -c "echo RAN-nohup";
		timeout 5 /proc/self/root/.dhi-scratch/x -c "echo RAN-proc-self"'
	# the control: under sysadmin every launcher runs it, and it is bash
	run_dhi --view toolbox --profile sysadmin -c "$line" "$TARGET"
	[ "$status" -eq 0 ]
	for l in timeout nice setsid stdbuf taskset nohup proc-self; do
		[[ "$output" == *"RAN-$l"* ]] || { echo "sysadmin did not run it through $l"; return 1; }
	done
	run_dhi --view toolbox --sessions-dir "$SDIR" -c "$line" "$TARGET"
	# the symlink to id runs: symlinks from the scratch to the toolbox's programs work
	[ "${lines[0]}" = 0 ]
	[[ "$output" != *RAN-* ]]
	[ "$status" -eq 126 ]
	[ "$(audit_count '.type == "exec" and (.path | endswith("/.dhi-scratch/x")) and
		.file == "/usr/bin/bash" and .decision == "denied"')" -eq 7 ]
	audit_has '.type == "exec" and .path == "/.dhi-scratch/y" and .file == "/usr/bin/id" and
		.decision == "allowed"'
	# not recording changes nothing of that
	run_dhi --view toolbox --no-record -c "$line" "$TARGET"
	[ "${lines[0]}" = 0 ]
	[[ "$output" != *RAN-* ]]
	[ "$status" -eq 126 ]
}

@test "the host's own symlinks do not answer for a path in the session (union view)" {
	# the same path on the host and in the container: the host's leads to id, the container's
	# to bash (the toolbox's, which the union view runs from /.dhi)
	local t=$BATS_TEST_TMPDIR/tool
	customize_bundle()
	{
		mkdir -p "$1/rootfs$BATS_TEST_TMPDIR"
		ln -s /.dhi/usr/bin/bash "$1/rootfs$t"
	}
	ln -s /usr/bin/id "$t"
	container_start static
	[ "$(realpath "$t")" = /usr/bin/id ]
	run_dhi --view union --profile sysadmin -c "timeout 5 $t -c 'echo RAN'" "$TARGET"
	[ "$status" -eq 0 ]
	[ "$output" = RAN ]
	run_dhi --view union --sessions-dir "$SDIR" -c "timeout 5 $t -c 'echo RAN'" "$TARGET"
	[ "$status" -eq 126 ]
	[[ "$output" != *RAN* ]]
	audit_has --arg t "$t" '.type == "exec" and .path == $t and .file == "/.dhi/usr/bin/bash" and
		.decision == "denied"'
}

@test "the dynamic loader running bash is bash: as -- PROGRAM, in dhish, and through a launcher" {
	# (the toolbox view: the toolbox at its own paths; in the union view outside sysadmin those
	# paths are the container's, noexec, and the toolbox runs from /.dhi)
	container_start static
	local ld=/lib64/ld-linux-x86-64.so.2
	# the controls: the loader runs programs; under sysadmin it runs bash
	run_dhi --view toolbox "$TARGET" -- "$ld" /usr/bin/id -u
	[ "$status" -eq 0 ]
	[ "$output" = 0 ]
	run_dhi --view toolbox --profile sysadmin "$TARGET" -- "$ld" /bin/bash -c 'echo RAN'
	[ "$output" = RAN ]
	# refused before anything runs, with the reason
	run_dhi --view toolbox "$TARGET" -- "$ld" /bin/bash -c 'echo RAN'
	[ "$status" -eq 126 ]
	[[ "$output" == *"the dynamic loader running \`/bin/bash\`, which is a shell"* ]]
	[[ "$output" != *RAN* ]]
	run_dhi --view toolbox -c "$ld --argv0 x /bin/bash -c 'echo RAN'" "$TARGET"
	[ "$status" -eq 126 ]
	[[ "$output" != *RAN* ]]
	# the loader's options skipped, by the supervisor
	run_dhi --view toolbox --sessions-dir "$SDIR" -c "timeout 5 $ld --inhibit-cache --library-path /usr/lib \
		--argv0 x /usr/bin/bash -c 'echo RAN'; timeout 5 $ld --preload /nonexistent /bin/sh -c 'echo RAN'" "$TARGET"
	[ "$status" -eq 126 ]
	[[ "$output" != *RAN* ]]
	[ "$(audit_count '.type == "exec" and .path == "/lib64/ld-linux-x86-64.so.2" and
		.decision == "denied"')" -eq 2 ]
}

@test "musl's loader running busybox's sh is the shell applet (busybox toolbox)" {
	requires_busybox
	container_start static
	local ld=/lib/ld-musl-x86_64.so.1
	# the control: musl's loader runs the programs it is given
	TOOLBOX=$BUSYBOX_TOOLBOX run_dhi "$TARGET" -- "$ld" /usr/local/bin/musl-hello
	[ "$status" -eq 0 ]
	[ "$output" = "hello from musl: /usr/local/bin/musl-hello" ]
	# (Debian's static busybox is no program musl's loader can load, so this one would fail
	# after the loader started anyway: what is tested is that it never starts)
	TOOLBOX=$BUSYBOX_TOOLBOX run_dhi --sessions-dir "$SDIR" "$TARGET" -- "$ld" -- /bin/sh -c true
	[ "$status" -eq 126 ]
	[[ "$output" == *"the dynamic loader running \`/bin/sh\`, which is the shell applet \`sh\`"* ]]
}

@test "a copy of bash under another name is bash (a toolbox that has one)" {
	# (the toolbox view: the toolbox at its own paths; in the union view outside sysadmin those
	# paths are the container's, noexec, and the toolbox runs from /.dhi)
	local tb=$BATS_TEST_TMPDIR/tb
	derived_toolbox "$tb"
	install -D -m 0755 "$TOOLBOX/usr/bin/bash" "$tb/usr/local/bin/notashell"
	container_start static
	TOOLBOX=$tb run_dhi --view toolbox --profile sysadmin "$TARGET" -- notashell -c 'echo RAN'
	[ "$output" = RAN ]
	TOOLBOX=$tb run_dhi --view toolbox "$TARGET" -- notashell -c 'echo RAN'
	[ "$status" -eq 126 ]
	[[ "$output" != *RAN* ]]
	TOOLBOX=$tb run_dhi --view toolbox --sessions-dir "$SDIR" -c "timeout 5 notashell -c 'echo RAN'" "$TARGET"
	[ "$status" -eq 126 ]
	[[ "$output" != *RAN* ]]
	audit_has '.type == "exec" and .file == "/usr/local/bin/notashell" and .decision == "denied"'
}

@test "execveat of bash by its fd or from a directory fd is bash" {
	# (the toolbox view: the toolbox at its own paths; in the union view outside sysadmin those
	# paths are the container's, noexec, and the toolbox runs from /.dhi)
	local tb=$BATS_TEST_TMPDIR/tb
	derived_toolbox "$tb"
	install -D -m 0755 "$BUILD/tests/execat" "$tb/usr/local/bin/execat"
	container_start static
	# the control: execveat runs what it is given
	TOOLBOX=$tb run_dhi --view toolbox -c 'execat fd /usr/bin/id id -u; execat dir /usr/bin id id -u' "$TARGET"
	[ "$status" -eq 0 ]
	[ "$output" = "0
0" ]
	TOOLBOX=$tb run_dhi --view toolbox --sessions-dir "$SDIR" -c 'execat fd /usr/bin/bash bash -c "echo RAN";
		cd /usr; execat dir bin bash bash -c "echo RAN"' "$TARGET"
	[ "$status" -eq 126 ]
	[[ "$output" != *RAN* ]]
	[ "$(audit_count '.type == "exec" and .file == "/usr/bin/bash" and .decision == "denied"')" -eq 2 ]
}

@test "a container file reached through /proc/1/root runs only in sysadmin (no view mount, no noexec)" {
	container_start static
	# the control: the app is there to run, and does (it waits for signals: timeout ends it)
	run_dhi --profile sysadmin -c 'timeout 1 /proc/1/root/app' "$TARGET"
	[ "$status" -eq 124 ]
	# at its own path the view's noexec refuses it; through PID 1's root it is on the
	# container's own mount, which the view's noexec does not cover
	run_dhi -c '/target/app' "$TARGET"
	[ "$status" -eq 126 ]
	run_dhi --sessions-dir "$SDIR" -c 'timeout 1 /proc/1/root/app' "$TARGET"
	[ "$status" -eq 126 ]
	audit_has '.type == "exec" and .path == "/proc/1/root/app" and .decision == "denied" and
		(.reason | contains("outside the session'"'"'s view"))'
}

@test "a #! script is judged by its interpreter: Debian's egrep runs /bin/sh (general refuses it)" {
	container_start static
	[ "$(head -c 9 "$TOOLBOX/usr/bin/egrep")" = '#!/bin/sh' ]
	run_dhi --profile sysadmin "$TARGET" -- egrep -c root /etc/passwd
	[ "$status" -eq 0 ]
	run_dhi "$TARGET" -- egrep -c root /etc/passwd
	[ "$status" -eq 126 ]
	[[ "$output" == *"a script run by \`/bin/sh\`, which is a shell"* ]]
	# what egrep does, done directly
	run_dhi "$TARGET" -- grep -E -c root /etc/passwd
	[ "$status" -eq 0 ]
}

@test "busybox toolbox, general: its applets run (ls, cat, ps, grep, wc, netstat, ip, a pipeline in dhish)" {
	requires_busybox
	container_start static
	TOOLBOX=$BUSYBOX_TOOLBOX run_dhi "$TARGET" -- ls /proc/1
	[ "$status" -eq 0 ]
	[[ "$output" == *cmdline* ]]
	TOOLBOX=$BUSYBOX_TOOLBOX run_dhi "$TARGET" -- cat /proc/1/cmdline
	[ "$status" -eq 0 ]
	[[ "$output" == /app* ]]
	TOOLBOX=$BUSYBOX_TOOLBOX run_dhi "$TARGET" -- ps
	[ "$status" -eq 0 ]
	[[ "$output" == *" /app "* ]]
	TOOLBOX=$BUSYBOX_TOOLBOX run_dhi "$TARGET" -- grep -c root /etc/passwd
	[ "$output" = 1 ]
	TOOLBOX=$BUSYBOX_TOOLBOX run_dhi "$TARGET" -- wc -l /etc/os-release
	[ "$status" -eq 0 ]
	TOOLBOX=$BUSYBOX_TOOLBOX run_dhi "$TARGET" -- netstat -tln
	[ "$status" -eq 0 ]
	TOOLBOX=$BUSYBOX_TOOLBOX run_dhi "$TARGET" -- ip link show lo
	[ "$status" -eq 0 ]
	TOOLBOX=$BUSYBOX_TOOLBOX run_dhi --sessions-dir "$SDIR" -c 'ls /proc | wc -l' "$TARGET"
	[ "$status" -eq 0 ]
	[ "$output" -gt 5 ]
	audit_has '.type == "exec" and .path == "/bin/ls" and .file == "/bin/busybox" and
		.applet == "ls" and .decision == "allowed"'
	audit_has '.type == "exec" and .applet == "wc" and .decision == "allowed"'
	run "$DHIDEBUG" sessions show --dir "$SDIR" "$(basename "$(dirname "$(audit_file)")")"
	echo "$output"
	[[ "$output" == *"/bin/ls -> /bin/busybox [applet ls]: ls /proc"* ]]
}

# shell_applets PROFILE: the busybox shell applets, each run its own way, are refused (126)
# and recorded as denied, for PROFILE; `find -exec` reports the failure and goes on (0).
shell_applets_refused()
{
	local p=$1 f
	for cmd in "sh -c true" "busybox sh -c true" "ash -c true" "env sh -c true" \
		"xargs sh -c true"; do
		rm -rf "${SDIR:?}"/*
		# shellcheck disable=SC2086
		TOOLBOX=$BUSYBOX_TOOLBOX run_dhi --profile "$p" --sessions-dir "$SDIR" "$TARGET" -- \
			$cmd <<<x
		[ "$status" -eq 126 ] || { echo "$p: \`$cmd' was not refused"; return 1; }
		audit_has '.type == "exec" and (.applet == "sh" or .applet == "ash") and
			.decision == "denied"' || { echo "$p: \`$cmd' not recorded as denied"; return 1; }
	done
	rm -rf "${SDIR:?}"/*
	TOOLBOX=$BUSYBOX_TOOLBOX run_dhi --profile "$p" --sessions-dir "$SDIR" "$TARGET" -- \
		find / -maxdepth 0 -exec sh -c 'echo RAN' ';'
	[[ "$output" == *"find: sh: Permission denied"* ]]
	[[ "$output" != *RAN* ]]
	audit_has '.type == "exec" and .applet == "sh" and .decision == "denied"'
	TOOLBOX=$BUSYBOX_TOOLBOX run_dhi --profile "$p" "$TARGET" -- ls /
	[ "$status" -eq 0 ]
}

@test "busybox toolbox: sh, busybox sh, ash, env sh, xargs sh, find -exec sh are refused in general, observe and netadmin" {
	requires_busybox
	container_start static
	for p in general observe netadmin; do
		shell_applets_refused "$p"
	done
}

@test "busybox toolbox, sysadmin: the shell applets run" {
	requires_busybox
	container_start static
	TOOLBOX=$BUSYBOX_TOOLBOX run_dhi --profile sysadmin --sessions-dir "$SDIR" -c \
		'sh -c "echo 1"; busybox sh -c "echo 2"; ash -c "echo 3"; echo x | xargs sh -c "echo 4";
		find / -maxdepth 0 -exec sh -c "echo 5" \;' "$TARGET"
	[ "$status" -eq 0 ]
	[ "$output" = "1
2
3
4
5" ]
	TOOLBOX=$BUSYBOX_TOOLBOX run_dhi --profile sysadmin "$TARGET" -- env sh -c 'echo 6'
	[ "$output" = 6 ]
	audit_has '.type == "exec" and .applet == "sh" and .decision == "allowed"'
}
