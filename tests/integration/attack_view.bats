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

# --- the container's code in the session (finding 2) ---

# plant_bundle SETUP: a dynamic container (its loader and libc at their paths, a writable
# root) run as root, whose root SETUP (a function given the rootfs) has planted into.
plant_bundle()
{
	PLANT=$1
	customize_bundle()
	{
		jq '.process.user = {uid: 0, gid: 0}' "$1/config.json" >"$1/c.json" &&
			mv "$1/c.json" "$1/config.json"
		"$PLANT" "$1/rootfs"
	}
	container_start dynamic
}

# attack VIEW PROGRAM [ARG...]: run PROGRAM in a session in every profile. The planted code
# runs in sysadmin's union view (the control: the plant works) and nowhere else; where it
# does not run, the toolbox's program still does (status 0) unless refused (126, 127).
attack()
{
	local view=$1 p
	shift
	for p in observe general netadmin sysadmin; do
		rm -f "$VOLDIR/evil-ran"
		# not `run`: 127 (the planted library lacks the real one's symbols) is expected here
		status=0
		output=$(dhidebug --profile "$p" --view "$view" "$TARGET" -- "$@" 2>&1) || status=$?
		echo "dhidebug --profile $p --view $view -- $* -> status $status, output:"
		echo "$output"
		if [ "$p" = sysadmin ] && [ "$view" = union ]; then
			[[ "$output" == *"EVIL CODE RAN"* ]]
			[ -e "$VOLDIR/evil-ran" ]
		else
			[[ "$output" != *"EVIL CODE RAN"* ]]
			[ ! -e "$VOLDIR/evil-ran" ]
			[ "$status" -eq 0 ] || [ "$status" -eq 126 ] || [ "$status" -eq 127 ]
			if [ "$status" -eq 0 ] && [ "$1" = id ]; then
				[[ "$output" == uid=* ]]
			fi
		fi
	done
}

plant_preload()
{
	install -m 0755 "$BUILD/tests/libevil.so" "$1/evil.so"
	echo /evil.so >"$1/etc/ld.so.preload"
}

@test "/etc/ld.so.preload naming a planted /evil.so loads nothing outside sysadmin" {
	plant_bundle plant_preload
	attack union id
	attack toolbox id
}

plant_preload_proc()
{
	install -m 0755 "$BUILD/tests/libevil.so" "$1/evil.so"
	# through the container's own root, where the view's noexec does not reach
	echo /proc/1/root/evil.so >"$1/etc/ld.so.preload"
}

@test "/etc/ld.so.preload naming /proc/1/root/evil.so loads nothing outside sysadmin" {
	plant_bundle plant_preload_proc
	attack union id
	attack toolbox id
}

plant_ldconfig()
{
	mkdir -p "$1/evillib" "$1/etc/ld.so.conf.d"
	install -m 0755 "$BUILD/tests/libevil.so" "$1/evillib/libselinux.so.1"
	echo 'include /etc/ld.so.conf.d/*.conf' >"$1/etc/ld.so.conf"
	echo /evillib >"$1/etc/ld.so.conf.d/evil.conf"
	# the cache the container's own ldconfig would write from that configuration
	ldconfig -r "$1"
	[ -s "$1/etc/ld.so.cache" ]
}

@test "/etc/ld.so.conf.d naming a planted directory, and the ld.so.cache built from it, load nothing outside sysadmin" {
	command -v ldconfig >/dev/null || skip "needs ldconfig"
	plant_bundle plant_ldconfig
	attack union id
	attack toolbox id
}

plant_libdir()
{
	install -m 0755 "$BUILD/tests/libevil.so" "$1/lib/x86_64-linux-gnu/libselinux.so.1"
}

@test "a library planted in the container's library directory is not loaded outside sysadmin" {
	[ "$(uname -m)" = x86_64 ] || skip "the plant's path is x86-64's"
	plant_bundle plant_libdir
	attack union id
	attack toolbox id
}

plant_libdir_proc()
{
	install -m 0755 "$BUILD/tests/libevil.so" "$1/evil.so"
	ln -s /proc/1/root/evil.so "$1/lib/x86_64-linux-gnu/libselinux.so.1"
}

@test "a library link in the container's library directory to /proc/1/root is not followed outside sysadmin" {
	[ "$(uname -m)" = x86_64 ] || skip "the plant's path is x86-64's"
	plant_bundle plant_libdir_proc
	attack union id
	attack toolbox id
}

plant_script()
{
	install -m 0755 "$BUILD/tests/evil" "$1/evil-interp"
	printf '#!/evil-interp\n' >"$1/script"
	chmod 0755 "$1/script"
}

@test "a container script whose interpreter is a container file does not run outside sysadmin" {
	plant_bundle plant_script
	attack union /script
	attack toolbox /target/script
}

plant_sh()
{
	mkdir -p "$1/usr/bin"
	install -m 0755 "$BUILD/tests/evil" "$1/usr/bin/sh"
}

@test "a toolbox script does not run the container's /bin/sh as its interpreter outside sysadmin" {
	# egrep is a `#!/bin/sh` script of the toolbox's; the container planted a /usr/bin/sh
	grep -q '^#!/bin/sh' "$TOOLBOX/usr/bin/egrep" || skip "the toolbox's egrep is not a script"
	plant_bundle plant_sh
	attack union egrep -c ID /etc/os-release
	attack toolbox egrep -c ID /etc/os-release
	# outside sysadmin the exec policy refuses the script itself, whose interpreter is a
	# shell (attack_exec.bats), naming the toolbox's shell, not the container's file
	run_dhi --view union "$TARGET" -- egrep -c ID /etc/os-release
	[ "$status" -eq 126 ]
	[[ "$output" == *"it is a script run by \`/bin/sh\`, which is a shell (\`/.dhi/usr/bin/bash\`)"* ]]
}

plant_path()
{
	mkdir -p "$1/usr/local/bin"
	install -m 0755 "$BUILD/tests/evil" "$1/usr/local/bin/id"
}

@test "a container program first on PATH does not run outside sysadmin" {
	plant_bundle plant_path
	attack union id
	attack toolbox id
}
